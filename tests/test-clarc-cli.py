#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""xai-clarc and xai-train --guide from the command line. The P-ClArC model passes
onnx.checker (full check, shape inference) and an independent NumPy evaluation of its ONNX
graph gives libxai's logits and v'a' = z at the projection; every way of naming the groups
(index lists, a group file, a SpRAy cluster) gives the same CAV; A-ClArC keeps the weights
before the projection; bad input gives the documented exit codes.

usage: test-clarc-cli.py XAI_TRAIN XAI_CLARC XAI_EXPLAIN
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    from onnx import numpy_helper
except ImportError as e:
    print("SKIP: %s for %s" % (e, sys.executable))
    sys.exit(77)

ARCH = "conv1d(4,k=5,p=2) relu maxpool(2) flatten dense(2)"


def run(cmd, code=0):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != code:
        sys.exit("FAIL: %s exited %d, expected %d\n%s%s" % (" ".join(cmd), p.returncode, code, p.stdout, p.stderr))
    return p


def evaluate(model, x):
    """NumPy evaluation of the ops xai-train and xai-clarc write; every value kept"""
    g = model.graph
    env = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    env[g.input[0].name] = x
    for n in g.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
        i = [env[k] for k in n.input]
        if n.op_type == "Conv":
            w, pad = i[1], a.get("pads", [0, 0])
            xp = np.pad(i[0], ((0, 0), (0, 0), (pad[0], pad[1])))
            k, t = w.shape[2], xp.shape[2] - w.shape[2] + 1
            y = np.stack([np.einsum("nck,ock->no", xp[:, :, s:s + k], w) for s in range(t)], axis=2)
            y = y + i[2][None, :, None]
        elif n.op_type == "Relu":
            y = np.maximum(i[0], 0)
        elif n.op_type == "MaxPool":
            k = a["kernel_shape"][0]
            t = i[0].shape[2] // k
            y = i[0][:, :, :t * k].reshape(i[0].shape[0], i[0].shape[1], t, k).max(axis=3)
        elif n.op_type == "Flatten":
            y = i[0].reshape(i[0].shape[0], -1)
        elif n.op_type == "Gemm":
            b = i[1].T if a.get("transB", 0) else i[1]
            y = i[0] @ b + (i[2] if len(i) > 2 else 0)
        elif n.op_type == "Sub":
            y = i[0] - i[1]
        elif n.op_type == "Reshape":
            y = i[0].reshape([d if d != 0 else i[0].shape[k] for k, d in enumerate(i[1])])
        else:
            sys.exit("FAIL: the test's evaluator has no %s" % n.op_type)
        env[n.output[0]] = y.astype(np.float32)
    return env


def data(tmp):
    rng = np.random.default_rng(0)
    n = 200
    y = np.arange(n) % 2
    x = rng.uniform(-0.75, 0.75, (n, 1, 32)).astype(np.float32)
    x[:, 0, 4:10] += ((2 * y - 1) * 0.5)[:, None]
    sc = (rng.random(n) < 0.9) & (y == 1)
    x[sc, 0, 22:28] += 2.0
    for name, v in (("x", x), ("y", y.astype(np.float32)), ("groups", sc.astype(np.float32))):
        np.save(os.path.join(tmp, name + ".npy"), v)
    mask = np.zeros((1, 32), np.float32)
    mask[0, 22:28] = 1
    np.save(os.path.join(tmp, "mask.npy"), mask)
    return x, y, sc


def check_cav_sources(clarc, p, sc, y):
    """index lists and a SpRAy clusters.tsv (artefact: one cluster of one class; clean: every
    other row) name the same groups as the group file"""
    run([clarc, "cav", "--model", p("m.onnx"), "--layer", "maxpool2", "--x", p("x.npy"), "--groups", p("groups.npy"),
         "-o", p("cav.json"), "-q"])
    art, cln = np.nonzero(sc)[0], np.nonzero(~sc)[0]
    open(p("art.txt"), "w").write("\n".join(map(str, art)))
    open(p("clean.txt"), "w").write(",".join(map(str, cln)))
    run([clarc, "cav", "--model", p("m.onnx"), "--layer", "maxpool2", "--x", p("x.npy"), "--artefact", p("art.txt"),
         "--clean", p("clean.txt"), "-o", p("cav2.json"), "-q"])
    with open(p("clusters.tsv"), "w") as f:
        f.write("index\tclass\tcluster\tx\ty\n")
        for i in range(len(y)):
            f.write("%d\t%d\t%d\t0\t0\n" % (i, y[i], 3 if sc[i] else 1))
    run([clarc, "cav", "--model", p("m.onnx"), "--layer", "maxpool2", "--x", p("x.npy"), "--spray", p("clusters.tsv"),
         "--class", "1", "--cluster", "3", "-o", p("cav3.json"), "-q"])
    c = [json.load(open(p(f))) for f in ("cav.json", "cav2.json", "cav3.json")]
    v = np.array(c[0]["v"])
    assert abs(np.linalg.norm(v) - 1) < 1e-5 and c[0]["z_artefact"] > c[0]["z_clean"], c[0]["z_artefact"]
    for o in c[1:]:
        assert np.allclose(o["v"], v, atol=1e-7) and o["n_artefact"] == c[0]["n_artefact"], "groups differ"
    for meth in ("ridge", "svm"):
        run([clarc, "cav", "--model", p("m.onnx"), "--layer", "maxpool2", "--x", p("x.npy"), "--groups",
             p("groups.npy"), "--method", meth, "-o", p("cav-%s.json" % meth), "-q"])
    return c[0]


def check_layer_auto(clarc, p):
    """--layer auto tries every layer that can carry a CAV (not the logits, not flatten) and keeps
    the one with the largest held-out separation it reports; a list narrows the candidates;
    --folds must give 0 or 1 for every sample"""
    cav = [clarc, "cav", "--model", p("m.onnx"), "--x", p("x.npy"), "--groups", p("groups.npy")]
    r = run(cav + ["--layer", "auto", "-o", p("cav-auto.json")])
    d = {ln.split()[2]: float(ln.split()[-1]) for ln in r.stderr.splitlines() if "held-out separation" in ln}
    assert set(d) == {"conv0", "relu1", "maxpool2"}, d
    assert json.load(open(p("cav-auto.json")))["layer"] == max(d, key=d.get), (d, r.stderr)
    r = run(cav + ["--layer", "relu1,conv0", "-o", p("cav-list.json")])
    d2 = {ln.split()[2]: float(ln.split()[-1]) for ln in r.stderr.splitlines() if "held-out separation" in ln}
    assert d2 == {k: d[k] for k in ("conv0", "relu1")}, d2
    assert json.load(open(p("cav-list.json")))["layer"] == max(d2, key=d2.get)
    n = len(np.load(p("x.npy")))
    np.save(p("folds.npy"), (np.arange(n) // 2 % 2).astype(np.int64))
    run(cav + ["--layer", "auto", "--folds", p("folds.npy"), "-o", p("cav-folds.json"), "-q"])
    np.save(p("folds-short.npy"), np.zeros(n - 1, np.int64))
    np.save(p("folds-bad.npy"), np.full(n, 2, np.int64))
    for f in ("folds-short.npy", "folds-bad.npy"):
        run(cav + ["--layer", "auto", "--folds", p(f), "-o", p("cav-e.json"), "-q"], 1)
    run(cav + ["--layer", "nosuch,other", "-o", p("cav-e.json"), "-q"], 1)
    assert not os.path.exists(p("cav-e.json"))


def check_project(clarc, xexp, p, cav, x):
    run([clarc, "project", "--model", p("m.onnx"), "--cav", p("cav.json"), "-o", p("pc.onnx"), "-q"])
    side = json.load(open(p("pc.json")))  # the model's sidecar: its card and where the CAV came from
    assert side["CAV"] == p("cav.json") and "P-ClArC" in side["Description"] and "CommandLine" in side, side
    m = onnx.load(p("pc.onnx"))
    onnx.checker.check_model(m, full_check=True)
    env = evaluate(m, x[:16])
    out = [n.output[0] for n in m.graph.node if n.name == "clarc_reshape"][0]
    proj = env[out].reshape(16, -1) @ np.array(cav["v"])
    assert np.allclose(proj, cav["z_clean"], atol=1e-4), proj
    np.save(p("x16.npy"), x[:16])
    run([xexp, p("pc.onnx"), p("x16.npy"), "-o", p("r.npy"), "--json", p("r.json"), "-f"])
    lx = np.array([s["logits"] for s in json.load(open(p("r.json")))["samples"]])
    err = np.abs(lx - env[m.graph.output[0].name]).max()
    assert err < 1e-4, "libxai and the NumPy evaluation of the ONNX graph differ by %g" % err
    meta = {e.key: e.value for e in m.metadata_props}
    assert json.loads(meta["xai_clarc"])["mode"] == "P-ClArC"
    print("P-ClArC model: onnx.checker ok; v'a' - z at most %.1e; logits libxai vs NumPy %.1e"
          % (np.abs(proj - cav["z_clean"]).max(), err))


def check_finetune(clarc, p):
    run([clarc, "fine-tune", "--model", p("m.onnx"), "--cav", p("cav.json"), "--x", p("x.npy"), "--y", p("y.npy"),
         "--epochs", "3", "-o", p("ac.onnx"), "-q"])
    a, m = onnx.load(p("ac.onnx")), onnx.load(p("m.onnx"))
    onnx.checker.check_model(a, full_check=True)
    wa = {t.name: numpy_helper.to_array(t) for t in a.graph.initializer}
    wm = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    assert all(np.array_equal(wa[k], wm[k]) for k in wm if k.startswith("conv0")), "A-ClArC changed the conv layer"
    assert any(not np.array_equal(wa[k], wm[k]) for k in wm if k.startswith("dense")), "A-ClArC left the head alone"


def check_errors(train, clarc, p):
    run([clarc], 2)
    run([clarc, "frobnicate"], 2)
    run([clarc, "cav", "--model", p("m.onnx"), "-o", p("e.json")], 2)
    run([clarc, "project", "--model", p("m.onnx"), "--cav", p("cav.json"), "-o", p("pc.onnx")], 2)  # exists
    run([clarc, "cav", "--model", p("m.onnx"), "--layer", "dense4", "--x", p("x.npy"), "--groups", p("groups.npy"),
         "-o", p("dense4-cav.json")])  # the logits have activations; projecting there is refused
    run([clarc, "project", "--model", p("m.onnx"), "--cav", p("dense4-cav.json"), "-o", p("e.onnx")], 1)
    run([clarc, "cav", "--model", p("m.onnx"), "--layer", "nosuch", "--x", p("x.npy"), "--groups", p("groups.npy"),
         "-o", p("e2.json")], 1)
    run([clarc, "cav", "--model", p("m.onnx"), "--layer", "relu1", "--x", p("x.npy"), "--groups", p("y.npy"),
         "--artefact", p("art.txt"), "-o", p("e3.json")], 2)
    open(p("bad.txt"), "w").write("1 2 x")
    run([clarc, "cav", "--model", p("m.onnx"), "--layer", "relu1", "--x", p("x.npy"), "--artefact", p("bad.txt"),
         "--clean", p("clean.txt"), "-o", p("e4.json")], 1)
    open(p("bad.json"), "w").write('{"layer": "relu1"}')
    run([clarc, "project", "--model", p("m.onnx"), "--cav", p("bad.json"), "-o", p("e5.onnx")], 1)
    for z in ("", "1.5x", "nan", "1e999", "0x1"):  # --z is clean, artefact or a whole decimal number
        e = run([clarc, "project", "--model", p("m.onnx"), "--cav", p("cav.json"), "--z", z, "-o", p("e6.onnx")], 2)
        assert "--z" in e.stderr, e.stderr
    assert not any(os.path.exists(p(f)) for f in ("e2.json", "e3.json", "e4.json", "e5.onnx", "e6.onnx"))
    common = ["--x", p("x.npy"), "--y", p("y.npy"), "--epochs", "2", "-q", "-f"]
    run([train, "--arch", "conv1d(4,k=5) bn relu flatten dense(2)", "-o", p("g.onnx"), "--guide",
         "rrr:%s,lambda=1" % p("mask.npy")] + common, 1)
    run([train, "--arch", ARCH, "-o", p("g.onnx"), "--guide", "rrr:%s" % p("mask.npy")] + common, 2)
    run([train, "--arch", ARCH, "-o", p("g.onnx"), "--guide", "lrp,lambda=x"] + common, 2)
    # lambda is read whole: no NaN, no junk before ,layer=, nothing after it for rrr
    for guide in ("lrp,lambda=nan", "lrp,lambda=1x,layer=relu1", "lrp,lambda=1,", "rrr:%s,lambda=inf" % p("mask.npy"),
                  "rrr:%s,lambda=2,3" % p("mask.npy"), "rrclarc:%s,lambda=-1" % p("cav.json")):
        e = run([train, "--arch", ARCH, "-o", p("g.onnx"), "--guide", guide] + common, 2)
        assert "--guide" in e.stderr, e.stderr
    # xai-clarc fine-tune's training numbers
    for opt, val in (("--lr", "nan"), ("--lr", "0"), ("--val-split", "0.95"), ("--val-split", "nan"), ("--epochs", "1e3")):
        e = run([clarc, "fine-tune", "--model", p("m.onnx"), "--cav", p("cav.json"), "--x", p("x.npy"), "--y", p("y.npy"),
                 opt, val, "-o", p("e7.onnx")], 2)
        assert opt in e.stderr, e.stderr
    assert not os.path.exists(p("e7.onnx"))
    run([train, "--arch", ARCH, "-o", p("g.onnx"), "--guide", "rrr:%s,lambda=1" % p("y.npy")] + common, 1)


def main():
    train, clarc, xexp = sys.argv[1:4]
    with tempfile.TemporaryDirectory(prefix="xai-clarc-cli-") as tmp:
        p = lambda f: os.path.join(tmp, f)
        x, y, sc = data(tmp)
        run([train, "--arch", ARCH, "--x", p("x.npy"), "--y", p("y.npy"), "--epochs", "15", "--val-split", "0",
             "-o", p("m.onnx"), "-q"])
        run([train, "--arch", ARCH, "--x", p("x.npy"), "--y", p("y.npy"), "--epochs", "3", "--val-split", "0",
             "-o", p("g.onnx"), "-q", "--guide", "rrr:%s,lambda=5" % p("mask.npy")])
        log = json.load(open(p("g.onnx.log.json")))
        assert log["result"]["guide"] == "rrr" and all(e["train_penalty"] > 0 for e in log["epochs"]), log
        run([train, "--arch", ARCH, "--x", p("x.npy"), "--y", p("y.npy"), "--epochs", "2", "--val-split", "0",
             "-o", p("l.onnx"), "-q", "--guide", "lrp,lambda=0.5,layer=maxpool2"])
        assert json.load(open(p("l.onnx.log.json")))["result"]["guide"] == "lrp"
        run([train, "--arch", ARCH, "--x", p("x.npy"), "--y", p("y.npy"), "--epochs", "1", "-o", p("l2.onnx"),
             "-q", "--guide", "lrp,lambda=0.5,layer=nosuch"], 1)
        cav = check_cav_sources(clarc, p, sc, y)
        check_layer_auto(clarc, p)
        check_project(clarc, xexp, p, cav, x)
        check_finetune(clarc, p)
        run([train, "--init", p("m.onnx"), "--x", p("x.npy"), "--y", p("y.npy"), "--epochs", "2", "-o", p("rr.onnx"),
             "-q", "--guide", "rrclarc:%s,lambda=5" % p("cav.json")])
        assert json.load(open(p("rr.onnx.log.json")))["result"]["guide"] == "rrclarc"
        run([train, "--arch", "conv1d(4,k=5,p=2) relu maxpool(2) flatten dense(3) tanh dense(2)", "--x", p("x.npy"),
             "--y", p("y.npy"), "-o", p("rr2.onnx"), "-q", "--guide", "rrclarc:%s,lambda=5" % p("cav.json")], 1)
        check_errors(train, clarc, p)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
