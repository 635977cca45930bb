#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The planted-truth table of README "xai-eeg": xai-eeg trained with its defaults (or --arch) on
sub-01..03 of gen_eeg's realistic data and explained on the held-out sub-04, per generator seed,
data size (full: 2 sessions x 2 runs; half: run 1 only) and placement (default, alt, and beta:
the third configuration, see PLACEMENTS).

Usage: heldout_table.py XAI_EEG GEN_EEG WORKDIR [--seeds 1,2,3,4,5] [--sizes full,half]
                        [--placements default,alt,beta] [-- TRAIN OPTIONS...]
Prints one row per cell: accuracy, planted share of |R| (x uniform), planted channels in the top
8, their |R| inside the planted window, and that share for the epochs of each predicted class.
The measures are those of tests/test-xai-eeg-realistic.sh (each epoch's |R| scaled to sum 1).
"""
import argparse, csv, glob, json, os, shutil, subprocess, sys, tempfile

import numpy as np


def table(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


# gen_eeg options of each placement; "beta" is a study unlike the other two in every respect a
# real one can differ: a 64-channel cap at 250 Hz written as BDF, 3 s imagery annotations, a beta
# effect that falls in one class and rises in the other, strong blinks, EMG, mains and bad or
# flat channels
PLACEMENTS = {"default": ["--placement", "default"], "alt": ["--placement", "alt"],
              "beta": ["--placement", "beta", "--montage", "64", "--rate", "250", "--task", "3",
                       "--artefacts", "strong", "--bdf"]}


def validation(path):
    """the training's own held-out subject (no test data): network and ridge baseline accuracy"""
    def walk(o):
        if isinstance(o, dict):
            if "accuracy" in o and "baseline" in o:
                return o
            for v in o.values():
                r = walk(v)
                if r:
                    return r
        elif isinstance(o, list):
            for v in o:
                r = walk(v)
                if r:
                    return r
        return None
    try:
        v = walk(json.load(open(path)))
        return "%.3f/%.3f" % (v["accuracy"], v["baseline"]["accuracy"])
    except (OSError, ValueError, TypeError, KeyError):
        return "-"


def cell(exe, gen, work, seed, size, place, extra):
    data = os.path.join(work, "s%d-%s" % (seed, place))
    if not os.path.exists(os.path.join(data, "truth.tsv")):
        subprocess.run([gen, "--nuisance", "realistic", "--seed", str(seed), "--subjects", "4", "--sessions", "2",
                        "--runs", "2", *PLACEMENTS[place], "--events-tsv", data], check=True)
    truth = [r for r in table(os.path.join(data, "truth.tsv")) if r["kind"] == "planted"][0]
    planted, w0, w1 = truth["channels"].split(","), float(truth["tmin_s"]), float(truth["tmax_s"])
    train = sorted(f for f in glob.glob(os.path.join(data, "sub-0[123]_*_eeg.[be]df"))
                   if size == "full" or "_run-1_" in f)
    test = sorted(glob.glob(os.path.join(data, "sub-04_*_eeg.[be]df")))
    tmp = tempfile.mkdtemp(prefix="eeg-table-s%d-%s-%s-" % (seed, place, size), dir=work)
    try:
        model, out = os.path.join(tmp, "mi.onnx"), os.path.join(tmp, "out")
        subprocess.run([exe, "train", "--edf", *train, "--events", "left_hand=left,right_hand=right", "--seed", "0",
                        "-o", model, "--progress", "none", "-q", *extra], check=True, stdout=subprocess.DEVNULL)
        val = validation(model[:-len(".onnx")] + ".json")
        subprocess.run([exe, "explain", "--model", model, "--edf", *test, "-o", out, "--no-figures", "--progress",
                        "none", "-q"], check=True)
        R, correct, pred = [], [], []
        for f in test:
            stem = os.path.join(out, os.path.basename(f)[:-len("_eeg.edf")] + "_desc-lrp_")
            R.append(np.abs(np.load(stem + "relevance.npy")))
            names = [c["name"] for c in table(stem + "channels.tsv")]
            ev = table(stem + "events.tsv")
            correct += [int(float(e["correct"])) for e in ev]
            pred += [e["prediction"] for e in ev]
            side = json.load(open(stem + "relevance.json"))
    finally:
        if not os.environ.get("EEG_TABLE_KEEP"):  # set: keep each cell's model and maps
            shutil.rmtree(tmp, ignore_errors=True)
    A = np.concatenate(R)
    A /= A.sum(axis=(1, 2), keepdims=True)
    ch = A.sum(axis=(0, 2))
    ch /= ch.sum()
    idx = [names.index(c) for c in planted]
    top8 = sum(names[i] in planted for i in np.argsort(-ch)[:8])
    t = side["TMin"] + np.arange(A.shape[2]) / side["SamplingFrequency"]
    inside = (t >= w0) & (t < w1)
    pred = np.array(pred)

    def window(sel):
        pt = A[sel][:, idx, :].sum(axis=(0, 1))
        return pt[inside].sum() / pt.sum()

    per_class = " ".join("%s %.2f" % (c, window(pred == c)) for c in sorted(set(pred)))
    return "%d\t%s\t%s\t%s\t%.3f\t%.2fx\t%d\t%.3f\t%s" % (
        seed, size, place, val, np.mean(correct), ch[idx].sum() * len(names) / len(planted), top8,
        window(np.ones(len(A), bool)), per_class)


def main():
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("xai_eeg")
    ap.add_argument("gen_eeg")
    ap.add_argument("workdir")
    ap.add_argument("--seeds", default="1,2,3,4,5")
    ap.add_argument("--sizes", default="full,half")
    ap.add_argument("--placements", default="default,alt")
    a = ap.parse_args(argv)
    os.makedirs(a.workdir, exist_ok=True)
    print("seed\tdata\tplacement\tvalidation/ridge\taccuracy\tplanted_share\tin_top8\twindow_share\twindow_share_by_class")
    for seed in [int(s) for s in a.seeds.split(",")]:
        for place in a.placements.split(","):
            for size in a.sizes.split(","):
                print(cell(a.xai_eeg, a.gen_eeg, a.workdir, seed, size, place, extra), flush=True)


if __name__ == "__main__":
    main()
