#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# explain --concepts of xai-gait, xai-speech and xai-fmri (CRP in each domain's layout) on
# generated data and the bundled models: the maps of all of a layer's concepts add up to the
# plain map (float tolerance), the concept table is consistent (every concept of the layer,
# ranked, shares summing to 1, the explained class of the plain map), the layer's concept
# relevances add up to what reaches the layer (fMRI: the explained logit, as its dense read-out
# conserves), the outputs keep the input's layout (nibabel: the BOLD run's grid and affine),
# listed channels select, and wrong uses are refused with the documented exit codes.
# Usage: test-concepts-apps.sh gait|speech|fmri EXE GENERATOR SOURCE_ROOT
[ $# -ge 4 ] || { echo "usage: $0 gait|speech|fmri EXE GENERATOR SOURCE_ROOT" >&2; exit 2; }
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 missing"; exit 77; }
exec /usr/bin/python3 - "$@" <<'PYEOF'
import collections, csv, glob, json, os, shutil, subprocess, sys, tempfile
try:
    import numpy as np
except ImportError:
    print("SKIP: python3-numpy missing")
    sys.exit(77)

APP, EXE, GEN, SRC = sys.argv[1:5]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)
    return cond


def run(*args):
    return subprocess.run([EXE, *args], capture_output=True, text=True)


def table(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def check_table(rows, key, nch, classes_of, sample=int):
    """Every sample lists all nch concepts, ranked 1..nch, shares summing to 1, its class."""
    by = collections.defaultdict(list)
    for r in rows:
        by[sample(r[key])].append(r)
    ok = True
    for s, rs in by.items():
        ok &= sorted(int(r["concept"]) for r in rs) == list(range(nch))
        ok &= [int(r["rank"]) for r in rs] == list(range(1, nch + 1))
        ok &= abs(sum(float(r["share"]) for r in rs) - 1) < 1e-6
        ok &= all(r["class"] == classes_of(s) for r in rs)
    check(ok and by, "%s: the concept table lists every concept per sample, ranked, shares sum to 1" % APP)
    return by


def rel_err(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def gait(tmp):
    r = subprocess.run([GEN, "--seed", "1", "--subjects", "4", "--trials", "2", "--cycles", "6", tmp + "/d"],
                       capture_output=True, text=True)
    if not check(r.returncode == 0, "gen_gait: " + r.stderr):
        return
    trial = sorted(glob.glob(tmp + "/d/sub-01/*/*.c3d"))[0]
    model = os.path.join(SRC, "datasets", "gait", "model-subject.onnx")
    p = run("explain", "--model", model, trial, "-o", tmp + "/ex", "--no-figures", "--progress", "none",
            "--concepts", "conv3:top=64")
    if not check(p.returncode == 0, "gait explain --concepts: %d %s" % (p.returncode, p.stderr)):
        return
    stem = glob.glob(tmp + "/ex/*_desc-lrp_relevance.npy")[0][:-len("relevance.npy")]
    C = np.load(stem + "concepts.npy").astype(np.float64)
    R = np.load(stem + "relevance.npy").astype(np.float64)
    js = json.load(open(stem + "concepts.json"))
    cyc = np.array(js["CycleSample"])
    check(C.shape == (R.shape[0], 32) + R.shape[1:], "gait concept maps shape %s vs %s" % (C.shape, R.shape))
    check(len(cyc) == R.shape[0] and js["Layer"] == "conv3" and js["LayerChannels"] == 32, "gait sidecar")
    S = C.sum(axis=1)
    for s in set(cyc.tolist()):  # the plain maps are scaled per sample (its two cycles) to sum |R| = 1
        S[cyc == s] /= np.abs(S[cyc == s]).sum()
    e = rel_err(S, R)
    check(e < 1e-4, "gait: the concepts add up to the cycle maps: rel err %.2e" % e)
    side = json.load(open(stem + "relevance.json"))
    tg = side["Target"]
    check_table(table(stem + "concepts.tsv"), "sample", 32, lambda s: tg[int(np.where(cyc == s)[0][0])])
    p = run("explain", "--model", model, trial, "-o", tmp + "/ex", "--no-figures", "--progress", "none",
            "--concepts", "conv3:top=64")
    check(p.returncode == 2, "gait: an existing concept output is refused: %d" % p.returncode)
    p = run("explain", "--model", model, trial, "-o", tmp + "/ex2", "--no-figures", "--progress", "none",
            "--concepts", "conv0:channels=3,1")
    if check(p.returncode == 0, "gait channels=: %d %s" % (p.returncode, p.stderr)):
        st2 = glob.glob(tmp + "/ex2/*_concepts.npy")[0][:-len("npy")]
        C2 = np.load(st2 + "npy")
        check(C2.shape[1] == 2 and json.load(open(st2 + "json"))["Concepts"] == [3, 1], "gait listed channels")
    p = run("explain", "--model", model, trial, "-o", tmp + "/ex3", "--method", "gradient", "--concepts", "conv0")
    check(p.returncode == 2, "gait: --concepts with --method gradient is a usage error: %d" % p.returncode)
    p = run("explain", "--model", model, trial, "-o", tmp + "/ex4", "--no-figures", "--concepts", "nosuchlayer")
    check(p.returncode == 1 and "nosuchlayer" in p.stderr, "gait: unknown layer: %d %s" % (p.returncode, p.stderr))


def speech(tmp):
    if not shutil.which("espeak-ng"):
        print("SKIP: espeak-ng missing (gen_speech needs it)")
        sys.exit(77)
    r = subprocess.run([GEN, "--voices", "m1,f2", "--speeds", "140", "--pitches", "50", "--digits", "3",
                        tmp + "/d"], capture_output=True, text=True)
    if not check(r.returncode == 0, "gen_speech: " + r.stderr):
        return
    clips = sorted(glob.glob(tmp + "/d/*.wav"))
    model = os.path.join(SRC, "datasets", "speech", "model-digits.onnx")
    p = run("explain", "--model", model, *clips, "-o", tmp + "/ex", "--no-figures", "-q", "--concepts",
            "conv4:top=64")
    if not check(p.returncode == 0, "speech explain --concepts: %d %s" % (p.returncode, p.stderr)):
        return
    worst = 0
    for c in clips:
        stem = os.path.join(tmp, "ex", os.path.basename(c)[:-4] + "_")
        C = np.load(stem + "concepts.npy").astype(np.float64)
        R = np.load(stem + "relevance.npy").astype(np.float64)
        check(C.shape == (16,) + R.shape, "speech concept maps shape %s vs %s" % (C.shape, R.shape))
        S = C.sum(axis=0)
        worst = max(worst, rel_err(S / np.abs(S).sum(), R))  # the plain map is scaled to sum |R| = 1
        tg = json.load(open(stem + "relevance.json"))["TargetName"]
        rows = table(stem + "concepts.tsv")
        check(rows and all(r["clip"] == c for r in rows), "speech: the concept table names the clip %s" % c)
        check_table(rows, "clip", 16, lambda s: tg, sample=str)
        js = json.load(open(stem + "concepts.json"))
        check(js["Layer"] == "conv4" and len(js["Axes"]) == 3, "speech concept sidecar")
    check(worst < 1e-4, "speech: the concepts add up to the clip maps: rel err %.2e" % worst)
    p = run("explain", "--model", model, clips[0], "-o", tmp + "/ex2", "--stacked", "--concepts", "conv4")
    check(p.returncode == 2, "speech: --concepts with --stacked is a usage error: %d" % p.returncode)
    p = run("train", clips[0], "-o", tmp + "/m.onnx", "--concepts", "conv4")
    check(p.returncode == 2, "speech: --concepts on train is a usage error: %d" % p.returncode)


def fmri(tmp):
    try:
        import nibabel as nib
    except ImportError:
        print("SKIP: python3-nibabel missing")
        sys.exit(77)
    r = subprocess.run([GEN, "--seed", "1", "--runs", "1", "--volumes", "30", "--dims", "24x28x20", tmp + "/d"],
                       capture_output=True, text=True)
    if not check(r.returncode == 0, "gen_fmri: " + r.stderr):
        return
    bold = glob.glob(tmp + "/d/sub-01/func/*_bold.nii.gz")[0]
    events = bold[:-len("bold.nii.gz")] + "events.tsv"
    model = os.path.join(SRC, "datasets", "fmri", "model-cnn3d.onnx")
    args = ["explain", "--model", model, "--bold", bold, "--events", events, "-q"]
    p = run(*args, "-o", tmp + "/out", "--concepts", "conv3:top=64")
    if not check(p.returncode == 0, "fmri explain --concepts: %d %s" % (p.returncode, p.stderr)):
        return
    d = tmp + "/out/sub-01/func/sub-01_task-blocks_run-1_desc-"
    B = nib.load(bold)
    R = nib.load(d + "lrp_bold.nii.gz").get_fdata()
    files = sorted(glob.glob(d + "lrpconcept[0-9]*_bold.nii.gz"))
    check(len(files) == 16, "fmri: one NIfTI per concept (%d)" % len(files))
    S = np.zeros_like(R)
    for f in files:
        img = nib.load(f)
        ok = img.shape == B.shape and np.allclose(img.affine, B.affine) and \
            np.allclose(img.header.get_zooms(), B.header.get_zooms())
        check(ok, "fmri: %s has the run's grid" % os.path.basename(f))
        S += img.get_fdata()
    e = rel_err(S, R)
    check(e < 1e-4, "fmri: the concepts add up to the 4-D map: rel err %.2e" % e)
    ts = table(d + "lrp_timeseries.tsv")
    by = check_table(table(d + "lrpconcepts_timeseries.tsv"), "volume", 16, lambda s: ts[s]["target"])
    worst = max(abs(sum(float(r["relevance"]) for r in by[v]) - float(ts[v]["relevance_start"])) /
                abs(float(ts[v]["relevance_start"])) for v in by)
    check(worst < 1e-4, "fmri: the layer's concept relevances sum to the explained logit: rel err %.2e" % worst)
    p = run(*args, "-o", tmp + "/out", "--force", "--concepts", "conv0:channels=2")
    if check(p.returncode == 0, "fmri channels=: %d %s" % (p.returncode, p.stderr)):
        js = json.load(open(d + "lrpconcept2_bold.json"))
        check(js["Concepts"] == [2] and js["Layer"] == "conv0", "fmri listed channel sidecar")
    p = run(*args, "-o", tmp + "/out2", "--concepts", "conv0:channels=99")
    check(p.returncode == 1 and "not below" in p.stderr, "fmri: a channel beyond the layer: %d" % p.returncode)
    p = run(*args, "-o", tmp + "/out3", "--concepts", "conv0:top=x")
    check(p.returncode == 2, "fmri: a bad --concepts value is a usage error: %d" % p.returncode)


tmp = tempfile.mkdtemp(prefix="xai-concepts-")
try:
    {"gait": gait, "speech": speech, "fmri": fmri}[APP](tmp)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print("ok" if failures == 0 else "%d failures" % failures)
sys.exit(1 if failures else 0)
PYEOF
