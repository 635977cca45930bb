#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The README's pruning comparison: every criterion at 50 % of the filters pruned, without
fine-tuning, under three protocols and with 1, 5 and 10 reference samples per class.

Protocols (xai-prune options):
  paper      --iterative --step 0.05: Yeom et al.'s: 5 % of the filters per step, the pruned
             model scored again before each step, ranked over all layers after each layer's
             scores are divided by their norm (L1 for lrp and weight, L2 for gradient and taylor)
  one-shot   --step 0.5: the same ranking, scored once on the original model
  per-layer  --per-layer --step 0.5: half of each layer's filters, scored once

Models: the VGG-style CNN of datasets/shapes/prune_table.sh on make_shapes.py's image-like
set (one trained model, 5 reference draws: the spread is over the draws), and the four app
models of prune_apps.py (five trained models each, one draw per model: the spread is over the
models). Held-out data as there: VGG the 3 held-out sites, EEG subject 4, fMRI run 4, gait
session 2, speech the held-out voices. Reference samples come from the training side only.

Usage: prune_compare.py BUILD_DIR OUTDIR [--models vgg,eeg,fmri,gait,speech]
                        [--protocols paper,one-shot,per-layer] [--refs 1,5,10] [--jobs 2]
                        [--criteria LIST]
Writes OUTDIR/MODEL/PROTOCOL-Kpc[/model-S]/{pruning,summary}.tsv and
OUTDIR/compare.tsv (model, protocol, per class, criterion, mean, SD, runs, and in how many
runs LRP beat the best of weight, gradient and taylor), and prints the Markdown tables (one
per protocol, and the paper's protocol at 10 % to 50 % with 10 per class). Reruns reuse what
exists.
"""
import concurrent.futures
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prune_apps  # noqa: E402

PROTOCOLS = {"paper": ["--iterative", "--step", "0.05"], "one-shot": ["--step", "0.5"],
             "per-layer": ["--per-layer", "--step", "0.5"]}
MODELS = ["vgg", "eeg", "fmri", "gait", "speech"]
VGG_ARCH = ("conv2d(16,k=3,p=1) bn relu conv2d(16,k=3,p=1) bn relu maxpool(2) conv2d(32,k=3,p=1) bn relu "
            "maxpool(2) flatten dense(64) relu dense(4)")


def prepare_vgg(b, out):
    """make_shapes.py's set and the VGG-style model, as prune_table.sh makes them"""
    os.makedirs(out, exist_ok=True)
    if not os.path.exists(os.path.join(out, "yt.npy")):
        prune_apps.run(["/usr/bin/python3", os.path.join(os.path.dirname(os.path.abspath(__file__)), "shapes",
                                                         "make_shapes.py"), out, 0])
    model = os.path.join(out, "vgg.onnx")
    if not os.path.exists(model):
        prune_apps.run([os.path.join(b, "apps", "xai-train"), "--arch", VGG_ARCH, "--x", os.path.join(out, "x.npy"),
                        "--y", os.path.join(out, "y.npy"), "--epochs", 15, "--seed", 0, "-o", model, "-q", "-f"])
    return [model], [os.path.join(out, f) for f in ("x.npy", "y.npy", "xt.npy", "yt.npy")]


def jobs_of(b, name, out, models, npy, protocols, refs, criteria):
    """(command, output directory) of every run not done yet, and every output directory"""
    todo, dirs = [], {}
    for proto in protocols:
        for k in refs:
            for s, m in enumerate(models, 1):
                o = os.path.join(out, "%s-%dpc" % (proto, k), "model-%d" % s)
                dirs.setdefault((name, proto, k), []).append(o)
                if os.path.exists(os.path.join(o, "summary.tsv")):
                    continue
                cmd = [os.path.join(b, "apps", "xai-prune"), m, "--data", npy[0], "--labels", npy[1], "--test",
                       npy[2], "--test-labels", npy[3], "--seeds", 5 if len(models) == 1 else 1, "--ref-per-class",
                       k, "--total", 0.5, "--criteria", criteria, "-o", o, "-f", "--progress", "none"]
                todo.append(([str(c) for c in cmd + PROTOCOLS[proto]], o))
    return todo, dirs


def accuracies(dirs, rate=0.5):
    """criterion -> accuracy at the rate per run (seed of a draw, or trained model)"""
    acc = {}
    for o in dirs:
        for r in prune_apps.table(os.path.join(o, "pruning.tsv")):
            if abs(float(r["rate"]) - rate) < 1e-6:
                acc.setdefault(r["criterion"], []).append(float(r["accuracy"]))
    return acc


def print_curves(dirs, k=10):
    """the paper's protocol with k per class at 10 % to 50 %: mean accuracy per criterion"""
    print("\npaper, %d per class, by rate\n\n| model | criterion | 10 %% | 20 %% | 30 %% | 40 %% | 50 %% |" % k)
    print("|" + " --- |" * 7)
    for (name, proto, kk), ds in sorted(dirs.items(), key=lambda d: MODELS.index(d[0][0])):
        if proto != "paper" or kk != k or not all(os.path.exists(os.path.join(o, "pruning.tsv")) for o in ds):
            continue
        by = [accuracies(ds, r / 10) for r in range(1, 6)]
        for c in by[0]:
            print("| %s | %s | %s |" % (name, c, " | ".join("%.3f" % np.mean(a[c]) for a in by)))


def summarise(dirs, out):
    rows = []
    for (name, proto, k), ds in dirs.items():
        if not all(os.path.exists(os.path.join(o, "pruning.tsv")) for o in ds):
            continue
        acc = accuracies(ds)
        crits = list(acc)
        others = np.array([acc[c] for c in crits if c not in ("lrp",) and not c.endswith("-logit")])
        wins = int(np.sum(np.array(acc["lrp"]) > others.max(axis=0))) if "lrp" in acc and len(others) else -1
        for c in crits:
            a = np.array(acc[c])
            rows.append((name, proto, k, c, a.mean(), a.std(ddof=1) if len(a) > 1 else 0.0, len(a), wins))
    with open(os.path.join(out, "compare.tsv"), "w") as f:
        f.write("model\tprotocol\tper_class\tcriterion\taccuracy_mean\taccuracy_sd\truns\tlrp_wins\n")
        for r in rows:
            f.write("%s\t%s\t%d\t%s\t%.4f\t%.4f\t%d\t%d\n" % r)
    print_markdown(rows)
    print_curves(dirs)


def print_markdown(rows):
    """one table per protocol: model and reference size by criterion, the best of the paper's
    four criteria in bold, and in how many runs LRP beat the best of the other three"""
    crits = []
    for r in rows:
        if r[3] not in crits:
            crits.append(r[3])
    for proto in PROTOCOLS:
        keys = sorted({r[:3] for r in rows if r[1] == proto}, key=lambda k: (MODELS.index(k[0]), k[2]))
        if not keys:
            continue
        print("\n%s\n\n| model | per class | %s | LRP ahead |" % (proto, " | ".join(crits)))
        print("|" + " --- |" * (len(crits) + 3))
        for key in keys:
            cell = {r[3]: r for r in rows if r[:3] == key}
            best = max(cell[c][4] for c in cell if not c.endswith("-logit"))
            out = []
            for c in crits:
                t = "%.3f +- %.3f" % (cell[c][4], cell[c][5]) if c in cell else ""
                out.append("**%s**" % t if c in cell and not c.endswith("-logit") and cell[c][4] == best else t)
            r0 = next(iter(cell.values()))
            print("| %s | %d | %s | %d of %d |" % (key[0], key[2], " | ".join(out), r0[7], r0[6]))


def run_one(job):
    cmd, o = job
    if os.path.exists(os.path.join(o, "summary.tsv")):  # another run of this script made it meanwhile
        return o, 0, ""
    p = subprocess.run(["nice", "-n", "10"] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return o, p.returncode, p.stderr


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    b, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    arg = lambda k, d: sys.argv[sys.argv.index(k) + 1] if k in sys.argv else d
    names = arg("--models", ",".join(MODELS)).split(",")
    protocols = arg("--protocols", ",".join(PROTOCOLS)).split(",")
    refs = [int(k) for k in arg("--refs", "1,5,10").split(",")]
    criteria = arg("--criteria", "lrp,weight,gradient,taylor")
    todo, dirs = [], {}
    for n in names:
        d = os.path.join(out, n)
        if n == "vgg":
            models, npy = prepare_vgg(b, d)
        else:
            app = prune_apps.APPS[n](b, d)
            models, npy = prune_apps.prepare(app, 5)
        t, ds = jobs_of(b, n, d, models, npy, protocols, refs, criteria)
        todo += t
        dirs.update(ds)
    with concurrent.futures.ThreadPoolExecutor(int(arg("--jobs", "2"))) as ex:
        for o, rc, err in ex.map(run_one, todo):
            print("%s: %s" % (o, "ok" if rc == 0 else "FAILED %d\n%s" % (rc, err)), file=sys.stderr, flush=True)
    summarise(dirs, out)


if __name__ == "__main__":
    main()
