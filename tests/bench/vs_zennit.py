#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""vs-zennit: libxai and Zennit side by side on the same models, in one run.

    /usr/bin/python3 tests/bench/vs_zennit.py BUILD_DIR [--threads 2] [--reps 15] [--batches 1,64]
        [--models NAME,...] [--no-cli] [--zennit-src DIR]

For each of the four app models (datasets/*/ *.onnx) and the reference CNN cases
(../shared/reference/cnn/*/model.onnx) and for each batch size it times, one after the other:
  - Zennit 0.5.1 (sources in ../shared/anchors, run on Debian's PyTorch): EpsilonPlusFlat through
    zennit.attribution.Gradient on the model rebuilt in torch from the ONNX file (same weights),
    torch.set_num_threads(threads); in a child process of its own;
  - libxai through the library (tests/bench/bench-steady: the model stays loaded, xai_explain()
    on the whole batch, steady state);
  - libxai through the CLI as users run it: xai-explain MODEL IN.npy -o OUT.npy --json S.json
    --nthreads T, one process per run, timed by its own timing_ms.explain (and the whole
    process's wall time); beside it the run's model loading and planning (timing_ms.load and
    .plan, ms per run, not per sample: what a user waits for before the explanation starts)
    and the minor page faults of the explanation itself (page_faults.explain, the most of any run).
Before timing a model at a batch size, the torch rebuild's logits of that batch must equal
libxai's (from one xai-explain run) to 1e-4 of the largest logit, else it stops with exit 1.
Printed per sample: median times (ms), ratios Zennit / libxai, explain / forward, peak RSS (MB)
of each process. OpenBLAS's sgemm (through numpy) and torch's matmul GFLOP/s on 1024^3 are
measured in the same run. Exit 77 (skip) with a message when torch cannot be imported.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.environ.get("XAI_SHARED_DIR", os.path.join(ROOT, "..", "shared"))
APP_MODELS = [("eeg", "datasets/eeg/mi-shallow.onnx"), ("gait", "datasets/gait/model-subject.onnx"),
              ("speech", "datasets/speech/model-digits.onnx"), ("fmri", "datasets/fmri/model-cnn3d.onnx")]
REF_CASES = ["eeg_cnn1d", "eeg_cnn1d_bnkeep", "mlp", "mlp_signs"]
LOGIT_TOL = 1e-4  # largest |torch - libxai| logit over the largest |logit|, float32 on both sides


# ------------------------------------------------------------------ ONNX -> torch (chains only)

def sub_const(torch, c):
    """x - c for a constant c (the `reference` layer). It has no parameters, so Zennit's rules
    leave it to the gradient, which passes relevance through unchanged, as libxai's rule does."""
    class SubConst(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("c", c)

        def forward(self, x):
            return x - self.c
    return SubConst()


def onnx_to_torch(path):
    """The model as a torch.nn.Sequential with the ONNX weights (the app and reference models
    are chains of Conv, Gemm, BatchNormalization, Relu, pools, Pad, Flatten, Dropout)."""
    import numpy as np
    import onnx
    import torch
    from onnx import numpy_helper
    g = onnx.load(path).graph
    init = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    for n in g.node:
        if n.op_type == "Constant":
            init[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    attrs = lambda n: {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
    layers = []
    for n in g.node:
        a = attrs(n)
        op = n.op_type
        if op == "Constant":
            continue
        if op == "Conv":
            w = init[n.input[1]]
            nd = w.ndim - 2
            pads = list(a.get("pads", [0] * 2 * nd))
            if pads[:nd] != pads[nd:]:
                raise ValueError("asymmetric Conv pads")
            conv = [torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d][nd - 1](
                w.shape[1] * a.get("group", 1), w.shape[0], w.shape[2:], stride=a.get("strides", 1),
                padding=pads[:nd], dilation=a.get("dilations", 1), groups=a.get("group", 1),
                bias=len(n.input) > 2)
            conv.weight.data = t(w)
            if len(n.input) > 2:
                conv.bias.data = t(init[n.input[2]])
            layers.append(conv)
        elif op == "Gemm":
            w = init[n.input[1]]
            if not a.get("transB", 0):
                w = w.T
            lin = torch.nn.Linear(w.shape[1], w.shape[0], bias=len(n.input) > 2)
            lin.weight.data = t(w)
            if len(n.input) > 2:
                lin.bias.data = t(init[n.input[2]])
            layers.append(lin)
        elif op == "BatchNormalization":
            s = init[n.input[1]]
            # the rank of the layer it follows (BatchNorm1d also takes Linear outputs)
            convs = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)
            prev = next((p for p in reversed(layers) if isinstance(p, convs + (torch.nn.Linear,))), None)
            rank = convs.index(type(prev)) if isinstance(prev, convs) else 0
            bn = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d)[rank]
            mod = bn(s.shape[0], eps=a.get("epsilon", 1e-5))
            mod.weight.data, mod.bias.data = t(s), t(init[n.input[2]])
            mod.running_mean.data, mod.running_var.data = t(init[n.input[3]]), t(init[n.input[4]])
            layers.append(mod)
        elif op == "Relu":
            layers.append(torch.nn.ReLU())
        elif op in ("MaxPool", "AveragePool"):
            k = a["kernel_shape"]
            nd = len(k)
            pads = list(a.get("pads", [0] * 2 * nd))
            if pads[:nd] != pads[nd:]:
                raise ValueError("asymmetric pool pads")
            if op == "MaxPool":
                cls = [torch.nn.MaxPool1d, torch.nn.MaxPool2d, torch.nn.MaxPool3d][nd - 1]
                layers.append(cls(k, stride=a.get("strides", k), padding=pads[:nd]))
            else:
                cls = [torch.nn.AvgPool1d, torch.nn.AvgPool2d, torch.nn.AvgPool3d][nd - 1]
                layers.append(cls(k, stride=a.get("strides", k), padding=pads[:nd],
                                  count_include_pad=bool(a.get("count_include_pad", 0))))
        elif op == "GlobalAveragePool":
            layers.append(torch.nn.AdaptiveAvgPool1d(1))
        elif op == "Pad":
            p = [int(v) for v in init[n.input[1]]]
            h = len(p) // 2
            if any(p[:2]) or any(p[h:h + 2]):
                raise ValueError("Pad on the batch or channel axis")
            tp = []
            for d in reversed(range(2, h)):
                tp += [p[d], p[h + d]]
            layers.append(torch.nn.ConstantPad1d(tuple(tp), 0.0) if h == 3 else
                          torch.nn.ConstantPad2d(tuple(tp), 0.0) if h == 4 else torch.nn.ConstantPad3d(tuple(tp), 0.0))
        elif op == "Flatten":
            layers.append(torch.nn.Flatten())
        elif op == "Sub" and n.input[1] in init:
            layers.append(sub_const(torch, t(init[n.input[1]])))
        elif op in ("Dropout", "Identity"):
            continue
        else:
            raise ValueError("op %s is not supported by this converter" % op)
    model = torch.nn.Sequential(*layers)
    model.eval()
    shape = [d.dim_value for d in g.input[0].type.tensor_type.shape.dim]
    return model, shape


def seeded_input(batch, shape):
    import numpy as np
    rng = np.random.default_rng(1234)
    return rng.uniform(-1.0, 1.0, size=[batch] + list(shape[1:])).astype(np.float32)


def med_min(fn, reps, seconds=0.5):
    """median and minimum seconds of fn() after a warm-up of two calls and 0.2 s"""
    t0 = time.perf_counter()
    w = 0
    while w < 2 or time.perf_counter() - t0 < 0.2:
        fn()
        w += 1
    ts = []
    t_all = time.perf_counter()
    while len(ts) < reps or (time.perf_counter() - t_all < seconds and len(ts) < 64 * reps):
        a = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - a)
    return statistics.median(ts), min(ts)


# ------------------------------------------------------------------ child: Zennit

def vm_hwm_mb():
    """peak RSS of this process image (VmHWM; getrusage would include the parent's before exec)"""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def zennit_worker(path, batch, threads, reps):
    import torch
    from zennit.attribution import Gradient
    from zennit.composites import EpsilonPlusFlat
    torch.set_num_threads(threads)
    model, shape = onnx_to_torch(path)
    x = torch.from_numpy(seeded_input(batch, shape))
    with torch.no_grad():
        fwd = med_min(lambda: model(x), reps)
        logits = model(x).numpy().tolist()

    def target(out):
        return torch.eye(out.shape[1])[out.argmax(1)]

    composite = EpsilonPlusFlat()
    with Gradient(model=model, composite=composite) as attributor:
        exp = med_min(lambda: attributor(x, target), reps)
    rss = vm_hwm_mb()
    print(json.dumps({"explain_ms": exp[0] * 1e3 / batch, "explain_min_ms": exp[1] * 1e3 / batch,
                      "forward_ms": fwd[0] * 1e3 / batch, "forward_min_ms": fwd[1] * 1e3 / batch,
                      "peak_rss_mb": rss, "logits": logits}))


def gflops_worker(threads):
    """sgemm 1024^3: OpenBLAS through numpy, and torch's matmul"""
    import numpy as np
    import torch
    torch.set_num_threads(threads)
    a = np.random.default_rng(1).standard_normal((1024, 1024)).astype(np.float32)
    ta = torch.from_numpy(a)
    flop = 2.0 * 1024 ** 3
    nb = med_min(lambda: a @ a, 7)[1]
    tt = med_min(lambda: ta @ ta, 7)[1]
    print(json.dumps({"openblas_gflops": flop / nb / 1e9, "torch_gflops": flop / tt / 1e9}))


# ------------------------------------------------------------------ parent

def run_child(cmd, env=None):
    """run cmd; stdout, and its own rusage (peak RSS)"""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = p.communicate()
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), p.returncode, err.decode()[-500:]))
    return out.decode()


def run_timed_child(cmd):
    """wall seconds of one child process"""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), p.returncode, p.stderr.decode()[-500:]))
    return wall


def cli_times(build, model, batch, threads, reps, tmp):
    import numpy as np
    _, shape = onnx_shape(model)
    x = seeded_input(batch, shape)
    inp, outp, js = (os.path.join(tmp, f) for f in ("in.npy", "out.npy", "s.json"))
    np.save(inp, x)
    exe = os.path.join(build, "apps", "xai-explain")
    cmd = [exe, model, inp, "-o", outp, "--json", js, "--nthreads", str(threads), "-q", "--force"]
    ex, fw, wall, load, plan, pf, rss = [], [], [], [], [], [], 0.0
    for r in range(reps + 1):
        w = run_timed_child(cmd)
        with open(js) as f:
            summary = json.load(f)
        if r == 0:
            continue  # the first run loads the files into the page cache
        t = summary["timing_ms"]
        ex.append(t["explain"] / batch)
        fw.append(t["forward"] / batch)
        wall.append(w * 1e3 / batch)
        load.append(t["load"])
        plan.append(t.get("plan", float("nan")))  # older builds counted planning in load
        pf.append(summary.get("page_faults", {}).get("explain", -1))
        rss = max(rss, summary.get("peak_rss_mb", float("nan")))  # the CLI's own (getrusage would count this Python)
    return {"explain_ms": statistics.median(ex), "explain_min_ms": min(ex), "forward_ms": statistics.median(fw),
            "wall_ms": statistics.median(wall), "peak_rss_mb": rss, "load_ms": statistics.median(load),
            "plan_ms": statistics.median(plan), "explain_faults": max(pf)}


def libxai_logits(build, model, batch, tmp):
    """libxai's logits of the seeded input (one xai-explain run), to check the torch rebuild"""
    import numpy as np
    _, shape = onnx_shape(model)
    inp, outp, js = (os.path.join(tmp, f) for f in ("chk.npy", "chk-out.npy", "chk.json"))
    np.save(inp, seeded_input(batch, shape))
    run_child([os.path.join(build, "apps", "xai-explain"), model, inp, "-o", outp, "--json", js, "-q", "--force"])
    with open(js) as f:
        return np.array([smp["logits"] for smp in json.load(f)["samples"]], dtype=np.float64)


def logit_error(torch_logits, lib_logits):
    """largest |torch - libxai| over the largest |logit|: the rebuild must compute libxai's model"""
    import numpy as np
    t = np.asarray(torch_logits, dtype=np.float64)
    if t.shape != lib_logits.shape:
        return float("inf")
    return float(np.max(np.abs(t - lib_logits)) / max(np.max(np.abs(lib_logits)), 1e-30))


def onnx_shape(model):
    import onnx
    g = onnx.load(model).graph
    return None, [d.dim_value for d in g.input[0].type.tensor_type.shape.dim]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--cli-reps", type=int, default=5)
    ap.add_argument("--batches", default="1,64")
    ap.add_argument("--models", default="")
    ap.add_argument("--no-cli", action="store_true")
    ap.add_argument("--zennit-src", default=os.path.join(SHARED, "anchors", "zennit-0.5.1", "src"))
    ap.add_argument("--zennit-worker", nargs=3, metavar=("MODEL", "BATCH", "REPS"))
    ap.add_argument("--gflops-worker", action="store_true")
    a = ap.parse_args()
    if a.zennit_worker:
        return zennit_worker(a.zennit_worker[0], int(a.zennit_worker[1]), a.threads, int(a.zennit_worker[2]))
    if a.gflops_worker:
        return gflops_worker(a.threads)
    if not a.build:
        ap.error("BUILD_DIR is required")
    env = dict(os.environ, PYTHONPATH=a.zennit_src)
    probe = subprocess.run([sys.executable, "-c", "import torch, onnx, numpy, zennit"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if probe.returncode != 0:
        print("SKIP: vs-zennit needs torch, onnx, numpy and Zennit (%s): %s"
              % (a.zennit_src, probe.stderr.decode().strip().splitlines()[-1:]))
        return 77
    steady = os.path.join(a.build, "tests", "bench", "bench-steady")
    models = [(n, os.path.join(ROOT, p)) for n, p in APP_MODELS]
    models += [(c, os.path.join(SHARED, "reference", "cnn", c, "model.onnx")) for c in REF_CASES
               if os.path.exists(os.path.join(SHARED, "reference", "cnn", c, "model.onnx"))]
    if a.models:
        keep = a.models.split(",")
        models = [m for m in models if m[0] in keep]
    batches = [int(b) for b in a.batches.split(",")]
    me = os.path.abspath(__file__)
    gf = json.loads(run_child([sys.executable, me, "--gflops-worker", "--threads", str(a.threads)], env))
    print("# vs-zennit: threads=%d reps=%d; sgemm 1024^3 GFLOP/s: OpenBLAS (numpy) %.1f, torch %.1f; load %s"
          % (a.threads, a.reps, gf["openblas_gflops"], gf["torch_gflops"], os.getloadavg()))
    print("# per-sample ms (median); x = Zennit / libxai; e/f = explain / forward; RSS = peak MB of the process")
    print("# x_min = the same ratio from the fastest runs (the better estimate when other processes load the CPU)")
    print("# cli_load, cli_plan = the CLI's timing_ms.load and .plan (ms per run); cli_pf = its page_faults.explain")
    hdr = ("model", "batch", "zennit", "lib", "x_lib", "x_lib_min", "cli", "x_cli", "x_cli_min", "cli_wall",
           "cli_load", "cli_plan", "cli_pf", "lib_e/f", "zen_e/f", "rss_zen", "rss_lib", "rss_cli", "logit_err")
    print(" ".join("%-16s" % h if i == 0 else "%9s" % h for i, h in enumerate(hdr)))
    rows = []
    with tempfile.TemporaryDirectory(prefix="vs-zennit-") as tmp:
        for name, path in models:
            for b in batches:
                z = json.loads(run_child([sys.executable, me, "--zennit-worker", path, str(b), str(a.reps),
                                          "--threads", str(a.threads)], env))
                err = logit_error(z["logits"], libxai_logits(a.build, path, b, tmp))
                if not err <= LOGIT_TOL:
                    print("ERROR: %s batch %d: the torch rebuild's logits differ from libxai's (relative %.3g > %g);"
                          " its times would compare different models" % (name, b, err, LOGIT_TOL))
                    return 1
                time.sleep(0.3)  # torch's OpenMP threads spin for a while after their last job
                lib = json.loads(run_child([steady, path, "--batch", str(b), "--threads", str(a.threads),
                                            "--reps", str(a.reps)]))
                cli = None if a.no_cli else cli_times(a.build, path, b, a.threads, a.cli_reps, tmp)
                nan = float("nan")
                row = (name, b, z["explain_ms"], lib["explain_ms"], z["explain_ms"] / lib["explain_ms"],
                       z["explain_min_ms"] / lib["explain_min_ms"], cli["explain_ms"] if cli else nan,
                       z["explain_ms"] / cli["explain_ms"] if cli else nan,
                       z["explain_min_ms"] / cli["explain_min_ms"] if cli else nan,
                       cli["wall_ms"] if cli else nan, cli["load_ms"] if cli else nan,
                       cli["plan_ms"] if cli else nan, cli["explain_faults"] if cli else -1,
                       lib["explain_ms"] / lib["forward_ms"], z["explain_ms"] / z["forward_ms"],
                       z["peak_rss_mb"], lib["peak_rss_mb"], cli["peak_rss_mb"] if cli else nan, err)
                rows.append(row)
                print("%-16s %9d %9.4f %9.4f %9.2f %9.2f %9.4f %9.2f %9.2f %9.3f %9.3f %9.3f %9d %9.2f %9.2f %9.1f %9.1f"
                      " %9.1f %9.1e" % row,
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
