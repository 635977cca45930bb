#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# xai-eeg evaluate: the metrics of xai/eval.h on the program's own maps against a truth in
# channel names and seconds. The mass accuracy it reports equals the one computed here in
# float64 from explain's relevance.npy and the truth; the planted channels score above a
# decoy region of the same size; ROAD runs with the fold models; errors are named. And
# explain --concepts: per-concept channel x time maps that add up to the epoch's map.
# Usage: test-eeg-evaluate.sh XAI_EEG GEN_EEG SOURCE_ROOT
[ $# -ge 3 ] || { echo "usage: $0 XAI_EEG GEN_EEG SOURCE_ROOT" >&2; exit 2; }
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 missing"; exit 77; }
exec /usr/bin/python3 - "$@" <<'PYEOF'
import csv, json, os, shutil, subprocess, sys, tempfile
try:
    import numpy as np
except ImportError:
    print("SKIP: python3-numpy missing")
    sys.exit(77)

EXE, GEN, SRC = sys.argv[1:4]
MODEL = os.path.join(SRC, "datasets", "eeg", "mi-shallow.onnx")
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)
    return cond


def table(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def run(*args):
    return subprocess.run([EXE, *args], capture_output=True, text=True)


tmp = tempfile.mkdtemp(prefix="xai-eeg-eval-")
try:
    data = os.path.join(tmp, "data")
    r = subprocess.run([GEN, "--runs", "3", "--trials", "8", data], capture_output=True, text=True)
    if not check(r.returncode == 0, "gen_eeg: " + r.stderr):
        sys.exit(1)
    runs = [os.path.join(data, "sub-01_task-mi_run-%d_eeg.edf" % k) for k in (1, 3)]
    # the planted region of the default generator: C3/C4 sources, ERD from 0.25 s to 3.5 s
    truth = os.path.join(tmp, "truth.tsv")
    with open(truth, "w") as f:
        f.write("kind\tchannels\ttmin_s\ttmax_s\n")
        f.write("planted\tFC3,C3,CP3,FC4,C4,CP4\t0.25\t3.5\n")
        f.write("decoy\tFp1,Fp2,F7,F8,O1,O2\t0.25\t3.5\n")
    out = os.path.join(tmp, "ev")
    p = run("evaluate", "--model", MODEL, "--edf", *runs, "--truth", truth, "--metrics",
            "mass-accuracy,rank-accuracy,sparseness,road-morf", "-o", out, "-q")
    if not check(p.returncode == 0, "evaluate exit %d: %s" % (p.returncode, p.stderr)):
        sys.exit(1)
    summ = {row["metric"]: row for row in table(os.path.join(out, "desc-lrp_metrics.tsv"))}
    samples = table(os.path.join(out, "desc-lrp_samples.tsv"))
    check(set(summ) == {"mass-accuracy", "rank-accuracy", "sparseness", "road-morf"}, "metrics: %s" % sorted(summ))
    check(summ["mass-accuracy"]["better"] == "higher", "direction stated")
    check(len(samples) == 16 and int(summ["mass-accuracy"]["n"]) == 16, "16 epochs scored")
    # run 1 was held out by a fold of the model's cross-validation, run 3 is new to every model
    f1 = {int(s["fold"]) for s in samples if "run-1" in s["recording"]}
    f3 = {int(s["fold"]) for s in samples if "run-3" in s["recording"]}
    check(f3 == {0} and len(f1) == 1 and min(f1) > 0, "scored by the model that explained: %s %s" % (f1, f3))
    side = json.load(open(os.path.join(out, "desc-lrp_metrics.json")))
    check(side["Truth"] == truth and side["TruthRegions"] == 1 and len(side["Sources"]) == 2, "sidecar")
    # the same maps through explain, and mass accuracy by hand (Arras et al.: positive R inside)
    ex = os.path.join(tmp, "ex")
    p = run("explain", "--model", MODEL, "--edf", *runs, "-o", ex, "--no-figures", "-q")
    check(p.returncode == 0, "explain exit %d" % p.returncode)
    names = [c["name"] for c in table(os.path.join(ex, "sub-01_task-mi_run-1_desc-lrp_channels.tsv"))]
    rside = json.load(open(os.path.join(ex, "sub-01_task-mi_run-1_desc-lrp_relevance.json")))
    R = np.concatenate([np.load(os.path.join(ex, "sub-01_task-mi_run-%d_desc-lrp_relevance.npy" % k)).astype(np.float64)
                        for k in (1, 3)])
    t = rside["TMin"] + np.arange(R.shape[2]) / rside["SamplingFrequency"]
    mask = np.zeros(R.shape[1:], bool)
    for c in ("FC3", "C3", "CP3", "FC4", "C4", "CP4"):
        mask[names.index(c), (t >= 0.25) & (t < 3.5)] = True
    pos = np.maximum(R, 0)
    mass = (pos * mask).sum(axis=(1, 2)) / pos.sum(axis=(1, 2))
    got = np.array([float(s["lrp/mass-accuracy"]) for s in samples])
    check(np.allclose(got, mass, atol=1e-6), "mass accuracy per epoch: %s vs %s" % (got[:3], mass[:3]))
    check(abs(float(summ["mass-accuracy"]["mean"]) - mass.mean()) < 1e-6, "mean mass accuracy")
    lo, hi = float(summ["mass-accuracy"]["ci_low"]), float(summ["mass-accuracy"]["ci_high"])
    check(lo < mass.mean() < hi, "interval around the mean")
    check(all(np.isfinite(float(s["lrp/road-morf"])) for s in samples), "ROAD for every epoch")
    # the decoy region (same size, frontal/occipital) gets less of the relevance
    p = run("evaluate", "--model", MODEL, "--edf", *runs, "--truth", truth, "--truth-kind", "decoy", "--metrics",
            "mass-accuracy", "-o", os.path.join(tmp, "ev2"), "-q")
    if check(p.returncode == 0, "evaluate decoy exit %d: %s" % (p.returncode, p.stderr)):
        dec = table(os.path.join(tmp, "ev2", "desc-lrp_metrics.tsv"))[0]
        print("mass accuracy: planted %.3f [%s, %s], decoy %.3f (mask share %.3f)" % (
            mass.mean(), summ["mass-accuracy"]["ci_low"], summ["mass-accuracy"]["ci_high"], float(dec["mean"]),
            mask.mean()))
        check(float(dec["mean"]) < mass.mean(), "decoy below planted")
    # an existing output is refused (exit 2), --force replaces it
    p = run("evaluate", "--model", MODEL, "--edf", runs[0], "--truth", truth, "-o", out, "-q")
    check(p.returncode == 2, "existing output: exit %d" % p.returncode)
    # errors: named channel, region outside the epoch, metrics that explain again, usage
    bad = os.path.join(tmp, "bad.tsv")
    with open(bad, "w") as f:
        f.write("channels\ttmin_s\ttmax_s\nC3,Xyz\t0\t1\n")
    p = run("evaluate", "--model", MODEL, "--edf", runs[0], "--truth", bad, "-o", os.path.join(tmp, "e3"), "-q")
    check(p.returncode == 1 and "Xyz" in p.stderr, "unknown channel: %d %s" % (p.returncode, p.stderr))
    with open(bad, "w") as f:
        f.write("channels\ttmin_s\ttmax_s\nC3\t9\t10\n")
    p = run("evaluate", "--model", MODEL, "--edf", runs[0], "--truth", bad, "-o", os.path.join(tmp, "e4"), "-q")
    check(p.returncode == 1 and "outside the epoch" in p.stderr, "region outside: %d %s" % (p.returncode, p.stderr))
    p = run("evaluate", "--model", MODEL, "--edf", runs[0], "--truth", truth, "--metrics", "mprt", "-o",
            os.path.join(tmp, "e5"), "-q")
    check(p.returncode == 2 and "mprt" in p.stderr, "mprt refused: %d" % p.returncode)
    p = run("evaluate", "--model", MODEL, "--edf", runs[0], "-o", os.path.join(tmp, "e6"), "-q")
    check(p.returncode == 2, "no --truth: exit %d" % p.returncode)
    p = run("explain", "--model", MODEL, "--edf", runs[0], "--truth", truth, "-o", os.path.join(tmp, "e7"), "-q")
    check(p.returncode == 2, "--truth on explain: exit %d" % p.returncode)
    # concepts of the spatial filter layer (16 filters): all of them add up to the map
    cx = os.path.join(tmp, "cx")
    p = run("explain", "--model", MODEL, "--edf", runs[1], "-o", cx, "--no-figures", "-q", "--concepts", "conv1:top=16")
    if check(p.returncode == 0, "--concepts exit %d: %s" % (p.returncode, p.stderr)):
        stem = os.path.join(cx, "sub-01_task-mi_run-3_desc-lrp_")
        C = np.load(stem + "concepts.npy").astype(np.float64)
        Rn = np.load(stem + "relevance.npy").astype(np.float64)
        check(C.shape == (8, 16) + Rn.shape[1:], "concept maps shape %s" % (C.shape,))
        S = C.sum(axis=1)
        S /= np.abs(S).sum(axis=(1, 2), keepdims=True)  # the plain maps are L1-normalised
        err = np.abs(S - Rn).max() / np.abs(Rn).max()
        check(err < 1e-4, "concept maps add up to the map: rel err %.2e" % err)
        ct = table(stem + "concepts.tsv")
        check(len(ct) == 8 * 16 and ct[0]["rank"] == "1", "concept table")
        sh0 = sum(float(r["share"]) for r in ct if r["epoch"] == "0")
        check(abs(sh0 - 1) < 1e-6, "the 16 concepts hold the layer's relevance: %.6f" % sh0)
        cs = json.load(open(stem + "concepts.json"))
        check(cs["Layer"] == "conv1" and cs["LayerChannels"] == 16, "concept sidecar")
    p = run("explain", "--model", MODEL, "--edf", runs[1], "-o", os.path.join(tmp, "cy"), "-q", "--concepts",
            "nosuchlayer")
    check(p.returncode == 1 and "nosuchlayer" in p.stderr, "unknown layer: %d %s" % (p.returncode, p.stderr))
    p = run("train", "--edf", runs[0], "--events", "T1=left,T2=right", "-o", os.path.join(tmp, "m.onnx"),
            "--concepts", "conv1")
    check(p.returncode == 2, "--concepts on train: exit %d" % p.returncode)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print("ok" if failures == 0 else "%d failures" % failures)
sys.exit(1 if failures else 0)
PYEOF
