#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The README's pruning tables on the four app models (EEG, fMRI, gait, speech).

For each app: generate its realistic data set, train the app's model with its own `train`
command on the training groups (one model per seed; EEG and speech with --no-refit, the model
the tables were measured on, which never saw the validation's held-out groups), write the model
inputs of the training
and the held-out groups with `explain --save-input`, and prune every model one shot (no
fine-tuning) with xai-prune: all four criteria, 10 % steps up to 80 %, one draw of 64
reference samples from the training groups (the draw's seed is xai-prune's; the spread in the
tables is over the trained models). Held-out groups: EEG subject 4 (trained on 1-3), fMRI run 4
of each subject (trained on runs 1-3), gait session 2 (trained on session 1; the classes are
the 12 subjects), speech the two held-out voices (m4 and f4).

Usage: prune_apps.py BUILD_DIR OUTDIR [--apps eeg,fmri,gait,speech] [--seeds N] [--per-layer]
                     [-- XAI-PRUNE OPTIONS]
Options after "--" go to xai-prune after the defaults above (e.g. "--ref-per-class 5", which
replaces the draw of 64); the run's directory and table are named after them.
The README's table of the four app models is this script's output with xai-prune's default
criteria; datasets/prune_compare.py makes the comparison under the paper's protocol and reuses
this script's data and models.
Writes OUTDIR/APP/MODE/seed-S/{pruning,summary}.tsv, OUTDIR/APP/table-MODE.tsv (criterion,
rate, accuracy mean and SD over the models) and prints the Markdown tables. Reruns reuse what
exists.
"""
import csv
import glob
import json
import os
import subprocess
import sys

import numpy as np

def run(cmd, **kw):
    p = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if p.returncode != 0:
        sys.exit("FAILED: %s\n%s%s" % (" ".join(map(str, cmd)), p.stdout, p.stderr))
    return p


def table(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


class App:
    """one app: its data, its train command and its model inputs"""

    def __init__(self, b, out):
        self.b, self.out = b, out
        self.data = os.path.join(out, "data")

    def prog(self, name):
        return os.path.join(self.b, "apps" if name.startswith("xai") else "datasets", name)


class Eeg(App):
    name = "eeg"

    def generate(self):
        run([self.prog("gen_eeg"), "--nuisance", "realistic", "--seed", 1, "--subjects", 4, "--sessions", 2,
             "--runs", 2, "--events-tsv", self.data])

    def files(self, test):
        return sorted(glob.glob(os.path.join(self.data, "sub-04_*_eeg.edf" if test else "sub-0[123]_*_eeg.edf")))

    def train(self, seed, model):
        run([self.prog("xai-eeg"), "train", "--edf", *self.files(False), "--events",
             "left_hand=left,right_hand=right", "--seed", seed, "--no-refit", "-o", model, "--progress", "none", "-q"])

    def inputs(self, model, test, tmp):
        run([self.prog("xai-eeg"), "explain", "--model", model, "--edf", *self.files(test), "-o", tmp,
             "--save-input", "--no-figures", "--progress", "none", "-q"])
        xs, ys = [], []
        for f in self.files(test):
            stem = os.path.join(tmp, os.path.basename(f)[:-len("_eeg.edf")] + "_desc-lrp_")
            xs.append(np.load(stem + "input.npy"))
            ev = table(stem + "events.tsv")
            classes = [k[len("logit_"):] for k in ev[0] if k.startswith("logit_")]  # the model's order
            ys += [classes.index(e["trial_type"]) for e in ev]
        return np.concatenate(xs), np.array(ys)


def stem_classes(tsv):
    """the model's class order, from the logit_ columns of an explain table"""
    return [k[len("logit_"):] for k in table(tsv)[0] if k.startswith("logit_")]


class Gait(App):
    """subject identification: trained on session 1 (every walk, --split-by none), tested on session 2"""
    name = "gait"

    def generate(self):
        run([self.prog("gen_gait"), "--nuisance", "realistic", "--seed", 1, "--subjects", 12, "--trials", 6,
             "--cycles", 6, self.data])

    def files(self, test):
        return sorted(glob.glob(os.path.join(self.data, "sub-*", "ses-02" if test else "ses-01", "*.c3d")))

    def train(self, seed, model):
        run([self.prog("xai-gait"), "train", *self.files(False), "--target", "subject", "--split-by", "none",
             "--seed", seed, "-o", model, "--progress", "none", "-q"])

    def inputs(self, model, test, tmp):
        run([self.prog("xai-gait"), "explain", "--model", model, *self.files(test), "-o", tmp, "--save-input",
             "--no-figures", "--progress", "none", "-q"])
        xs, ys = [], []
        for f in self.files(test):
            stem = os.path.join(tmp, os.path.basename(f)[:-len(".c3d")] + "_desc-lrp_")
            classes = json.load(open(stem + "relevance.json"))["ClassNames"]
            xs.append(np.load(stem + "input.npy"))
            ys += [classes.index(os.path.basename(f)[:6])] * len(xs[-1])
        return np.concatenate(xs), np.array(ys)


class Fmri(App):
    """the 3-D CNN family on subject 1: trained on runs 1-3, tested on run 4 (labelled volumes)"""
    name = "fmri"

    def generate(self):
        run([self.prog("gen_fmri"), "--nuisance", "realistic", "--seed", 1, "--subjects", 2, "--runs", 4, self.data])

    def runs(self, test):
        f = os.path.join(self.data, "sub-01", "func", "sub-01_task-blocks_run-%d_")
        return [f % r for r in ((4,) if test else (1, 2, 3))]

    def train(self, seed, model):
        args = []
        for r in self.runs(False):
            args += ["--bold", r + "bold.nii.gz", "--events", r + "events.tsv"]
        run([self.prog("xai-fmri"), "train", *args, "--family", "cnn3d", "--seed", seed, "-o", model, "-q"])

    def inputs(self, model, test, tmp):
        xs, ys = [], []
        for r in self.runs(test):
            run([self.prog("xai-fmri"), "explain", "--model", model, "--bold", r + "bold.nii.gz", "--events",
                 r + "events.tsv", "--save-input", "--no-4d", "-o", tmp, "-q", "-f"])
            stem = os.path.join(tmp, "sub-01", "func", os.path.basename(r))
            ts = stem + "desc-lrp_timeseries.tsv"
            classes, rows = stem_classes(ts), table(ts)
            keep = [i for i, t in enumerate(rows) if t["label"] != "n/a"]
            x = np.load(stem + "desc-input_bold.npy")
            xs.append(x.reshape((len(x),) + x.shape[-4:])[keep])
            ys += [classes.index(rows[i]["label"]) for i in keep]
        return np.concatenate(xs), np.array(ys)


class Speech(App):
    """spoken digits: trained on the six training voices' clips, tested on the two held-out voices"""
    name = "speech"

    def generate(self):
        # voices interleaved so that the held-out voices (the last two) are one man and one woman
        run([self.prog("gen_speech"), "--nuisance", "realistic", "--seed", 1, "--length", 1, "--voices",
             "m1,f1,m2,f2,m3,f3,m4,f4", "--speeds", "140,180", "--pitches", "40,60", "--test-voices", 2, self.data])

    def labels(self):
        return list(csv.DictReader(open(os.path.join(self.data, "labels.csv"))))

    def train(self, seed, model):
        files = [os.path.join(self.data, r["file"]) for r in self.labels() if r["split"] == "train"]
        run([self.prog("xai-speech"), "train", *files, "--labels", "digit", "--seed", seed, "--no-refit", "-o", model,
             "-q"])

    def inputs(self, model, test, tmp):
        if not os.path.exists(os.path.join(tmp, "input.npy")):
            run([self.prog("xai-speech"), "explain", "--model", model, self.data, "--stacked", "--save-input",
                 "--no-figures", "-o", tmp, "-q"])
        x = np.load(os.path.join(tmp, "input.npy"))
        clips = [os.path.basename(c["Source"]) for c in json.load(open(os.path.join(tmp, "relevance.json")))["Clips"]]
        rows = {r["file"]: r for r in self.labels()}
        classes = [str(c) for c in json.load(open(model[:-5] + ".json"))["classes"]]
        keep = [i for i, f in enumerate(clips) if (rows[f]["split"] == "test") == test]
        return x[keep][:, None], np.array([classes.index(rows[clips[i]]["digit"]) for i in keep])


APPS = {"eeg": Eeg, "fmri": Fmri, "gait": Gait, "speech": Speech}


def prepare(app, seeds):
    """the trained models and the inputs of both sides; reuses what exists"""
    os.makedirs(app.out, exist_ok=True)
    if not os.path.isdir(app.data):
        app.generate()
    models = []
    for s in range(1, seeds + 1):
        m = os.path.join(app.out, "model-%d.onnx" % s)
        if not os.path.exists(m):
            app.train(s, m)
        models.append(m)
    npy = [os.path.join(app.out, f) for f in ("x.npy", "y.npy", "xt.npy", "yt.npy")]
    if not all(map(os.path.exists, npy)):
        x, y = app.inputs(models[0], False, os.path.join(app.out, "in-train"))
        xt, yt = app.inputs(models[0], True, os.path.join(app.out, "in-test" if app.name != "speech" else "in-train"))
        for path, arr in zip(npy, (x, y, xt, yt)):
            np.save(path, arr.astype(np.float32))
    return models, npy


def mode_name(per_layer, extra):
    """global or per-layer, then the extra xai-prune options: per-layer_ref-per-class-5"""
    return "_".join(["per-layer" if per_layer else "global"] + [a.lstrip("-") for a in extra])


def prune(app, models, npy, per_layer, extra):
    mode = mode_name(per_layer, extra)
    outs = []
    for s, m in enumerate(models, 1):
        o = os.path.join(app.out, mode, "seed-%d" % s)
        if not os.path.exists(os.path.join(o, "summary.tsv")):
            run([app.prog("xai-prune"), m, "--data", npy[0], "--labels", npy[1], "--test", npy[2], "--test-labels",
                 npy[3], "--seeds", 1, "--ref-size", 64, "--step", 0.1, "--total", 0.8, "-o", o, "-f",
                 "--progress", "none"] + (["--per-layer"] if per_layer else []) + extra)
        outs.append(o)
    return outs


def summarise(app, outs, per_layer, extra):
    acc, units = {}, None
    for o in outs:
        for r in table(os.path.join(o, "pruning.tsv")):
            acc.setdefault((r["criterion"], round(float(r["rate"]), 3)), []).append(float(r["accuracy"]))
            units = units or r
    rates = sorted({k[1] for k in acc})
    crits = list(dict.fromkeys(k[0] for k in acc))  # in the order xai-prune ran them
    path = os.path.join(app.out, "table-%s.tsv" % mode_name(per_layer, extra))
    with open(path, "w") as f:
        f.write("criterion\trate\taccuracy_mean\taccuracy_sd\tmodels\n")
        for c in crits:
            for r in rates:
                a = np.array(acc[(c, r)])
                f.write("%s\t%g\t%.4f\t%.4f\t%d\n" % (c, r, a.mean(), a.std(ddof=1) if len(a) > 1 else 0, len(a)))
    print("\n%s (%s%s), held-out accuracy, mean +- SD over %d models; unpruned %.3f +- %.3f"
          % (app.name, "each layer" if per_layer else "all layers", "".join(" " + a for a in extra), len(outs),
             np.mean(acc[(crits[0], 0.0)]), np.std(acc[(crits[0], 0.0)], ddof=1)))
    print("| units pruned | " + " | ".join(crits) + " |\n|" + " --- |" * (len(crits) + 1))
    for r in rates[1:]:
        cells = []
        means = {c: np.mean(acc[(c, r)]) for c in crits}
        for c in crits:
            a = np.array(acc[(c, r)])
            cell = "%.3f +- %.3f" % (a.mean(), a.std(ddof=1))
            cells.append("**%s**" % cell if means[c] == max(means.values()) else cell)
        print("| %d %% | %s |" % (round(100 * r), " | ".join(cells)))


def main():
    own, extra = (sys.argv[:sys.argv.index("--")], sys.argv[sys.argv.index("--") + 1:]) if "--" in sys.argv \
        else (sys.argv, [])
    if len(own) < 3:
        sys.exit(__doc__)
    b, out = own[1], own[2]
    arg = lambda k, d: own[own.index(k) + 1] if k in own else d
    names = arg("--apps", ",".join(APPS)).split(",")
    seeds = int(arg("--seeds", "5"))
    per_layer = "--per-layer" in own
    for n in names:
        app = APPS[n](os.path.abspath(b), os.path.join(os.path.abspath(out), n))
        models, npy = prepare(app, seeds)
        summarise(app, prune(app, models, npy, per_layer, extra), per_layer, extra)


if __name__ == "__main__":
    main()
