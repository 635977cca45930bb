#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Linear held-out-group baselines for the generated datasets.

Reads the native files the generators write and reports how well a linear model learns
across groups (train on some subjects / runs / speakers, test on the others). The numbers
are recorded in each dataset's README: a good network should at least match them, and they
must be clearly above chance but below 100 % (the data is learnable, not trivial).

    check_baseline.py eeg    DIR   # EDF from gen_eeg --nuisance realistic; leave one subject out
    check_baseline.py fmri   DIR   # BIDS tree from gen_fmri --nuisance realistic; leave one run out
    check_baseline.py gait   DIR   # C3D from gen_gait --nuisance realistic; train ses-01, test ses-02
    check_baseline.py speech DIR   # WAV + labels.csv from gen_speech --nuisance realistic; by voice
    check_baseline.py --assert KIND DIR   # exit 1 unless the 95 % interval is above chance, the
                                          # accuracy below 1 and every ablation loses >= 75 % of
                                          # the margin over chance

Features are deliberately generic (nothing tuned to the planted truth): EEG log band power of
every channel and canonical band over the annotated epoch, z-scored within each recording;
fMRI voxels (brain mask) of the volumes 4-16 s after block onset, detrended and z-scored per
run; gait time-normalised cycles (101 points) of every channel, each trial's mean removed;
speech log-mel-like band energies over time, per clip level-normalised. Models: logistic
regression (scikit-learn) with a fixed regularisation.
"""
import csv
import glob
import os
import re
import struct
import sys

import numpy as np
from scipy import signal
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline


def binom_ci(k, n):
    """Wilson 95 % interval of a proportion."""
    if n == 0:
        return (float("nan"), float("nan"))
    z, p = 1.96, k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (c - h, c + h)


LAST = {}
ABLATION_FAIL = []


def report(name, fold_acc, y_true, y_pred, chance):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    k, n = int((y_true == y_pred).sum()), len(y_true)
    lo, hi = binom_ci(k, n)
    folds = " ".join(f"{g}={a:.2f}" for g, a in fold_acc)
    print(f"{name}: held-out accuracy {k / n:.3f} (95 % CI {lo:.3f}-{hi:.3f}, n={n}, chance {chance:.3f}); "
          f"folds: {folds}")
    LAST.update(acc=k / n, lo=lo, chance=chance)
    return k / n


def logreg(c=0.1):
    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))


def grouped_eval(name, X, y, groups, chance, c=0.1):
    fold_acc, yt, yp = [], [], []
    for g in sorted(set(groups)):
        te = np.array([q == g for q in groups])
        m = logreg(c).fit(X[~te], y[~te])
        p = m.predict(X[te])
        fold_acc.append((g, float((p == y[te]).mean())))
        yt += list(y[te])
        yp += list(p)
    return report(name, fold_acc, yt, yp, chance)


# ---- EEG ----
def band_power(seg, fs, bands):
    """log mean Welch power of every channel in each band (1 s segments, or the whole piece)"""
    seg = signal.detrend(seg, axis=1)
    fr, p = signal.welch(seg, fs=fs, nperseg=min(int(fs), seg.shape[1]), axis=1)
    return np.concatenate([np.log(p[:, (fr >= lo) & (fr < hi)].mean(axis=1)) for lo, hi in bands])


def eeg(d):
    import mne
    mne.set_log_level("ERROR")
    bands = [(4, 8), (8, 13), (13, 20), (20, 30)]
    X, Xo, y, groups = [], [], [], []
    truth = read_truth(os.path.join(d, "truth.tsv"))
    planted = [r for r in truth if r["kind"] == "planted"]
    window = (float(planted[0]["tmin_s"]), float(planted[0]["tmax_s"])) if planted else (1.5, 3.0)
    for f in sorted(glob.glob(os.path.join(d, "*_eeg.edf")) + glob.glob(os.path.join(d, "*_eeg.bdf"))):
        raw = mne.io.read_raw_edf(f, preload=True) if f.endswith(".edf") else mne.io.read_raw_bdf(f, preload=True)
        fs = raw.info["sfreq"]
        data = raw.get_data() * 1e6
        feats, outside, labels = [], [], []
        for a in raw.annotations:
            if a["description"] not in ("T1", "T2"):
                continue
            i0 = int(round(a["onset"] * fs))
            i1 = i0 + int(round(a["duration"] * fs))
            if i1 > data.shape[1]:
                continue
            feats.append(band_power(data[:, i0:i1], fs, bands))
            # the same features outside the planted window only (its truth is read below)
            w0, w1 = i0 + int(round(window[0] * fs)), i0 + int(round(window[1] * fs))
            outside.append(band_power(data[:, i0:w0], fs, bands) * (w0 - i0) / (i1 - i0 - w1 + w0) +
                           band_power(data[:, w1:i1], fs, bands) * (i1 - w1) / (i1 - i0 - w1 + w0))
            labels.append(a["description"])
        for lst, fm in ((X, feats), (Xo, outside)):
            fm = np.array(fm)
            lst += list((fm - fm.mean(0)) / (fm.std(0) + 1e-9))  # within-recording standardisation
        y += labels
        groups += [re.search(r"sub-[^_]+", os.path.basename(f)).group(0)] * len(labels)
    X, y = np.array(X), np.array(y)
    acc = grouped_eval("eeg (leave one subject out, log band power)", X, y, groups, 0.5)
    if planted:  # where the evidence is: the same model without, and with only, the planted channels
        names = raw.ch_names
        keep = np.array([n in planted[0]["channels"].split(",") for n in names] * len(bands))
        ablation("eeg without the planted channels", X[:, ~keep], y, groups, 0.5)
        ablation("eeg outside the planted time window", np.array(Xo), y, groups, 0.5)
        saved = dict(LAST)
        grouped_eval("eeg with the planted channels only", X[:, keep], y, groups, 0.5)
        LAST.update(saved)
    return acc


def ablation(name, X, y, groups, chance, c=0.1):
    """The same model without the planted evidence must lose at least 75 % of the full model's
    margin over chance (recorded for --assert). Not "at chance by a binomial test": the samples
    (cycles of one walk, volumes of one block) are clustered, so such an interval is too narrow
    and small drifts or correlations left by chance in a few blocks would fail it."""
    saved = dict(LAST)
    grouped_eval(name, X, y, groups, chance, c)
    kept = (LAST["acc"] - chance) / max(saved["acc"] - chance, 1e-9)
    print(f"  keeps {100 * kept:.0f} % of the full model's margin over chance (at most 25 % expected)")
    if kept > 0.25:
        ABLATION_FAIL.append(name)
    LAST.clear()
    LAST.update(saved)


def read_truth(path):
    if not os.path.exists(path):
        return []
    return list(csv.DictReader(open(path), delimiter="\t"))


# ---- gait ----
def read_c3d(path):
    """Minimal C3D reader (Intel byte order, float or scaled-integer points): the labels, the
    points [frames][points][3], the rate, the first frame and the events as (label, context, s)."""
    b = open(path, "rb").read()
    pblock = b[0]
    npts, _, first, last = struct.unpack_from("<hhhh", b, 2)
    scale, dstart = struct.unpack_from("<fh", b, 12)
    rate = struct.unpack_from("<f", b, 20)[0]
    params, o = {}, (pblock - 1) * 512 + 4
    groups = {}
    while True:
        nlen, gid = struct.unpack_from("<bb", b, o)
        if nlen == 0:
            break
        name = b[o + 2:o + 2 + abs(nlen)].decode("latin-1").upper()
        q = o + 2 + abs(nlen)
        nxt = struct.unpack_from("<h", b, q)[0]
        if gid < 0:
            groups[-gid] = name
        else:
            t, nd = struct.unpack_from("<bb", b, q + 2)
            dims = list(struct.unpack_from("<%dB" % nd, b, q + 4))
            r = q + 4 + nd
            cnt = int(np.prod(dims)) if nd else 1
            if t == -1:
                raw = b[r:r + cnt].decode("latin-1")
                val = [raw[i:i + dims[0]].strip() for i in range(0, cnt, dims[0])] if nd > 1 else [raw.strip()]
            else:
                fmt = {1: "b", 2: "h", 4: "f"}[t]
                val = list(struct.unpack_from("<%d%s" % (cnt, fmt), b, r))
                if nd > 1 and t == 4:
                    val = np.array(val).reshape(dims[::-1])
            params[(gid, name)] = val
        if nxt == 0:
            break
        o = q + nxt
    P = {(groups.get(g, "?"), n): v for (g, n), v in params.items()}
    nfr = last - first + 1
    if scale < 0:
        pts = np.frombuffer(b, "<f4", nfr * npts * 4, (dstart - 1) * 512).reshape(nfr, npts, 4)[:, :, :3]
    else:
        pts = np.frombuffer(b, "<i2", nfr * npts * 4, (dstart - 1) * 512).reshape(nfr, npts, 4)[:, :, :3] * scale
    ev = []
    if ("EVENT", "TIMES") in P:
        times = np.asarray(P[("EVENT", "TIMES")]).reshape(-1, 2)
        for lab, ctx, tm in zip(P[("EVENT", "LABELS")], P[("EVENT", "CONTEXTS")], times):
            ev.append((lab, ctx, 60 * tm[0] + tm[1]))
    return P[("POINT", "LABELS")][:npts], np.asarray(pts, float), rate, first, ev


def gait_cycles(path):
    """Time-normalised cycles (101 points) of every channel, each trial's channel mean removed."""
    labels, pts, rate, first, ev = read_c3d(path)
    x = pts.reshape(pts.shape[0], -1)
    x = x - x.mean(axis=0)  # per-trial offset removal (marker placement)
    out = []
    for side in ("Left", "Right"):
        st = sorted(t for lab, ctx, t in ev if lab == "Foot Strike" and ctx == side)
        for a, e in zip(st[:-1], st[1:]):
            fa, fe = a * rate - (first - 1), e * rate - (first - 1)
            grid = np.linspace(fa, fe, 101)
            out.append((side, np.array([np.interp(grid, np.arange(len(x)), x[:, c]) for c in range(x.shape[1])])))
    return out


def gait(d):
    X, y, groups = [], [], []
    for f in sorted(glob.glob(os.path.join(d, "sub-*", "ses-*", "*.c3d"))):
        sub = re.search(r"sub-[^_/]+", os.path.basename(f)).group(0)
        ses = re.search(r"ses-[^_/]+", os.path.basename(f)).group(0)
        cyc = gait_cycles(f)
        # one sample per left cycle paired with the following right cycle: both sides, kept apart
        left = [c for s, c in cyc if s == "Left"]
        right = [c for s, c in cyc if s == "Right"]
        for lc, rc in zip(left, right):
            X.append(np.concatenate([lc.ravel(), rc.ravel()]))
            y.append(sub)
            groups.append(ses)
    X, y = np.array(X), np.array(y)
    chance = 1.0 / len(set(y))
    acc = grouped_eval("gait subject id (train on one session, test on the other, cycles)", X, y, groups,
                       chance, c=0.01)
    # every subject's signature channel (side, variable, plane) left out
    labels = read_c3d(f)[0]
    sig = set()
    for r in read_truth(os.path.join(d, "truth.tsv")):
        if r["kind"] == "subject":
            for side in r["sides"].split(","):
                sig.add(labels.index(side[0] + r["variable"]) * 3 + int(r["component"]))
    if sig:
        nch = len(labels) * 3
        drop = np.array([(i // 101) % nch in sig for i in range(X.shape[1])])
        ablation(f"gait without the {len(sig)} signature channels", X[:, ~drop], y, groups, chance, c=0.01)
    return acc


# ---- fMRI ----
def fmri(d):
    import nibabel as nib
    X, y, groups, in_roi = [], [], [], []
    for f in sorted(glob.glob(os.path.join(d, "sub-*", "func", "*_bold.nii.gz"))):
        sub = re.search(r"sub-[^_]+", os.path.basename(f)).group(0)
        run = re.search(r"run-[^_]+", os.path.basename(f)).group(0)
        img = nib.load(f)
        tr = float(img.header.get_zooms()[3]) or 2.0
        data = np.asarray(img.dataobj, dtype=float)
        mpath = glob.glob(os.path.join(d, "derivatives", "truth", sub, "func", "*desc-brain_mask.nii.gz"))
        mask = np.asarray(nib.load(mpath[0]).dataobj) > 0
        roi = np.zeros(mask.shape, bool)
        for cls in ("faces", "houses"):
            for q in glob.glob(os.path.join(d, "derivatives", "truth", sub, "func", f"*desc-{cls}_mask.nii.gz")):
                roi |= np.asarray(nib.load(q).dataobj) > 0
        v = data[mask].T  # [T][voxels]
        in_roi.append(roi[mask])
        t = np.arange(v.shape[0])
        basis = np.vstack([np.ones_like(t), t, t ** 2]).T.astype(float)  # per-run polynomial detrend
        v = v - basis @ np.linalg.lstsq(basis, v, rcond=None)[0]
        v = (v - v.mean(0)) / (v.std(0) + 1e-9)
        ev = list(csv.DictReader(open(f.replace("_bold.nii.gz", "_events.tsv")), delimiter="\t"))
        for e in ev:
            on, du = float(e["onset"]), float(e["duration"])
            for k in range(v.shape[0]):
                if on + 4 <= k * tr <= on + du + 4:  # haemodynamic delay
                    X.append(v[k])
                    y.append(e["trial_type"])
                    groups.append(f"{sub}_{run}")
    X, y = np.array(X), np.array(y)
    acc = grouped_eval("fmri (leave one run out, detrended z-scored brain voxels)", X, y, groups, 0.5, c=0.001)
    # the class ROIs of every subject (masks differ by the subject jitter) left out
    roi = np.any(np.array(in_roi), axis=0)
    ablation("fmri without the class ROIs", X[:, ~roi], y, groups, 0.5, c=0.001)
    return acc


# ---- speech ----
def speech_features(path):
    from scipy.io import wavfile
    rate, x = wavfile.read(path)
    x = x.astype(float)
    x = x / (np.sqrt((x ** 2).mean()) + 1e-9)  # per-clip level normalisation
    fr, _, z = signal.stft(x, fs=rate, nperseg=256, noverlap=128)
    edges = np.geomspace(150, rate / 2, 17)  # >= 2 STFT bins per band
    p = np.abs(z) ** 2
    bands = np.array([p[(fr >= lo) & (fr < hi)].mean(axis=0) for lo, hi in zip(edges[:-1], edges[1:])])
    t = np.array_split(np.arange(bands.shape[1]), 16)
    return np.log(np.array([bands[:, i].mean(axis=1) for i in t]).T + 1e-9).ravel()


def speech(d):
    rows = list(csv.DictReader(open(os.path.join(d, "labels.csv"))))
    X = np.array([speech_features(os.path.join(d, r["file"])) for r in rows])
    y = np.array([r["digit"] for r in rows])
    groups = [r["speaker"] for r in rows]
    acc = grouped_eval("speech digits (leave one speaker out, log band energies)", X, y, groups,
                       1.0 / len(set(y)), c=0.01)
    if "split" in rows[0] and any(r["planted"] == "1" for r in rows):
        # the shortcut: trained on the "train" speakers (tone on most clips of one class), tested
        # on the "test" speakers (never the tone), against the same model on the same split
        tr = np.array([r["split"] == "train" for r in rows])
        m = logreg(0.01).fit(X[tr], y[tr])
        planted = sorted({r["digit"] for r in rows if r["planted"] == "1"})
        for c in planted:
            sel_te = (~tr) & (y == c)
            sel_tr = tr & (y == c)
            print(f"speech shortcut class {c}: recall on train speakers {(m.predict(X[sel_tr]) == c).mean():.2f}, "
                  f"on test speakers without the tone {(m.predict(X[sel_te]) == c).mean():.2f}")
    return acc


def main():
    args = sys.argv[1:]
    strict = bool(args) and args[0] == "--assert"
    args = args[1:] if strict else args
    if len(args) != 2 or args[0] not in ("eeg", "fmri", "gait", "speech"):
        print("usage:\n" + __doc__.strip().split("\n\n")[2], file=sys.stderr)
        return 2
    globals()[args[0]](args[1])
    ok = LAST["lo"] > LAST["chance"] and LAST["acc"] < 1.0
    if strict and not ok:
        print(f"FAIL: {args[0]} baseline not in (chance, 1): interval from {LAST['lo']:.3f}, "
              f"accuracy {LAST['acc']:.3f}, chance {LAST['chance']:.3f}")
    for name in ABLATION_FAIL:
        print(f"FAIL: {name}: much above chance, so evidence lies outside the planted truth")
    ok = ok and not ABLATION_FAIL
    return 1 if strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
