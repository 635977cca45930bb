#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shortcut table of datasets/speech/README.md: gen_speech's realistic set (8 voices, a tone
on 90 % of the "7"s of every voice but the test voices m4, f4), xai-speech train with its
defaults on m1, f1, m2, f2 and m3, held-out accuracy on m4 and f4, how much the model uses the
tone (the fall of the log-odds of "7" on the tone clips of f3 when the tone is removed), and the
share of positive relevance in the tone's box on those clips for each explanation setting
(START[:COMPOSITE], "default" = the program's defaults; the first one also explains the
tone-free twins: "control" is their share).
The measure is that of tests/test-speech-shortcut.sh.

Usage: shortcut_table.py XAI_SPEECH GEN_SPEECH WORKDIR [--gen-seeds 1] [--train-seeds 0,1,2]
                         [--hz 2000] [--box 0.1,0.3] [--starts default,logit:epsilon-gamma-box]
                         [--no-tone] [-- TRAIN OPTIONS...]
With --no-tone the training set has no tone at all (--shortcut-frac 0): accuracy only.
"""
import argparse, csv, json, os, shutil, subprocess, sys, tempfile

import numpy as np

# interleaved so that the test speakers (the last two) are one man and one woman
VOICES = "m1,f1,m2,f2,m3,f3,m4,f4"
TEST = VOICES.split(",")[-2:]
UNSEEN = VOICES.split(",")[-3]  # the tone speaker no model sees, whose maps are measured


def make_set(gen, out, seed, hz, box, frac):
    if os.path.exists(os.path.join(out, "labels.csv")):
        return
    subprocess.run([gen, "--nuisance", "realistic", "--seed", str(seed), "--length", "1", "--voices", VOICES,
                    "--speeds", "140,180", "--pitches", "40,60", "--shortcut-class", "7", "--test-voices", "2",
                    "--shortcut-hz", str(hz), "--shortcut-box", box, "--shortcut-frac", str(frac), out],
                   check=True, stdout=subprocess.DEVNULL)


def link(src, dst, names):
    os.makedirs(dst)
    for b in names:
        os.symlink(os.path.join(src, b), os.path.join(dst, b))


def log_odds(d):
    z = np.array([c["Logits"] for c in json.load(open(d + "/relevance.json"))["Clips"]])
    o = np.delete(z, 7, axis=1)
    m = o.max(1)
    return z[:, 7] - (m + np.log(np.exp(o - m[:, None]).sum(1)))


def box_share(d, hz, t0, t1):
    R, j = np.load(d + "/relevance.npy"), json.load(open(d + "/relevance.json"))
    centre = np.array(j["RowCentreHz"])
    edges = np.concatenate([[0.0], centre, [4000.0]])
    rows = (edges[:-2] < hz + 62.5) & (edges[2:] > hz - 62.5)  # mel rows overlapping the tone +- 2 STFT bins
    out = []
    for i, c in enumerate(j["Clips"]):
        ts = np.array(j["WindowFrameCentreS"]) - c["ClipStartSample"] / 8000
        cols = (ts > t0 - 0.016) & (ts < t1 + 0.016)  # frames whose 32 ms window meets the box
        p = np.clip(R[i], 0, None)
        out.append(p[np.ix_(rows, cols)].sum() / max(p.sum(), 1e-30))
    return float(np.mean(out))


def explain_args(spec):
    """START[:COMPOSITE] -> explain options ("default": the program's own)"""
    start, _, comp = spec.partition(":")
    return (["--start", start] if start != "default" else []) + (["--composite", comp] if comp else [])


def cell(a, seed, tseed, tmp):
    tag = "g%d-%g-%s%s" % (seed, a.hz, a.box, "-notone" if a.no_tone else "")
    real, plain = os.path.join(a.work, tag), os.path.join(a.work, tag + "-plain")
    make_set(a.gen, real, seed, a.hz, a.box, 0 if a.no_tone else 0.9)
    rows = list(csv.DictReader(open(os.path.join(real, "labels.csv"))))
    train = [r["file"] for r in rows if r["speaker"] not in TEST + [UNSEEN]]
    held = [r["file"] for r in rows if r["speaker"] in TEST]
    link(real, tmp + "/tr", train)
    link(real, tmp + "/ho", held)
    model = os.path.join(a.work, "%s-train%d%s.onnx" % (tag, tseed, "-".join([""] + a.extra)))
    if not os.path.exists(model):  # kept in WORKDIR: another run with other starts reuses it
        subprocess.run([a.exe, "train", tmp + "/tr", "--labels", "digit", "--seed", str(tseed), "-q", "-o", model,
                        *a.extra], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([a.exe, "eval", "--model", model, tmp + "/ho", "--labels", "digit", "--json", tmp + "/eval.json",
                    "-q"], check=True, stdout=subprocess.DEVNULL)
    acc = json.load(open(tmp + "/eval.json"))["accuracy"]
    res = {"acc": acc}
    if a.no_tone:
        return res
    make_set(a.gen, plain, seed, a.hz, a.box, 0)
    sc = [r["file"] for r in rows if r["speaker"] == UNSEEN and r["digit"] == "7" and r["planted"] == "1"]
    link(real, tmp + "/sc", sc)
    link(plain, tmp + "/sc0", sc)
    t0, t1 = (float(v) for v in a.box.split(","))
    for i, s in enumerate(a.starts):
        subprocess.run([a.exe, "explain", "--model", model, tmp + "/sc", "--target", "7", *explain_args(s),
                        "--stacked", "--no-figures", "-o", "%s/x%d" % (tmp, i), "-q"], check=True)
        res[s] = box_share("%s/x%d" % (tmp, i), a.hz, t0, t1)
    subprocess.run([a.exe, "explain", "--model", model, tmp + "/sc0", "--target", "7", *explain_args(a.starts[0]),
                    "--stacked", "--no-figures", "-o", tmp + "/x0-", "-q"], check=True)
    res["drop"] = float(np.mean(log_odds(tmp + "/x0") - log_odds(tmp + "/x0-")))
    res["control"] = box_share(tmp + "/x0-", a.hz, t0, t1)
    return res


def main():
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser()
    p.add_argument("exe")
    p.add_argument("gen")
    p.add_argument("work")
    p.add_argument("--gen-seeds", default="1")
    p.add_argument("--train-seeds", default="0,1,2")
    p.add_argument("--hz", type=float, default=2000)
    p.add_argument("--box", default="0.1,0.3")
    p.add_argument("--starts", default="default,logit:epsilon-gamma-box")
    p.add_argument("--no-tone", action="store_true")
    a = p.parse_args(argv)
    a.extra, a.starts = extra, a.starts.split(",")
    os.makedirs(a.work, exist_ok=True)
    head = "gen seed\ttrain seed\taccuracy" + ("" if a.no_tone else "\tdrop\t" + "\t".join(a.starts) + "\tcontrol")
    print(head, flush=True)
    for seed in (int(s) for s in a.gen_seeds.split(",")):
        for tseed in (int(s) for s in a.train_seeds.split(",")):
            tmp = tempfile.mkdtemp(prefix="shortcut-", dir=a.work)
            try:
                r = cell(a, seed, tseed, tmp)
            finally:
                shutil.rmtree(tmp)
            line = "%d\t%d\t%.3f" % (seed, tseed, r["acc"])
            if not a.no_tone:
                line += "\t%.2f\t" % r["drop"] + "\t".join("%.3f" % r[s] for s in a.starts) + "\t%.3f" % r["control"]
            print(line, flush=True)


if __name__ == "__main__":
    main()
