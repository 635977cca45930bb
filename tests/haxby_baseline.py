#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Linear baseline for the real-data fMRI test: Haxby et al. (2001) subject 1, face vs house,
leave-one-run-out, as the MVPA tutorials (PyMVPA, nilearn) run it.

Pre-processing: per run, linear detrending and voxel-wise z-scoring over all volumes of the run;
labels shifted by --lag volumes (BOLD delay). Classifiers: LinearSVC and L2 logistic regression
(C = 1). Prints one JSON object: per data form and classifier the held-out accuracy of every run
and its mean and sample standard deviation over runs.

Data: $XAI_SHARED_DIR/data/fmri/haxby2001_sub001 (or --data DIR). The 25 mm runs come with a
BIDS events.tsv per run; the single-slice file holds all 12 runs with a `label chunk` table.
Exits 77 (skip) when the data or the Python modules are absent.
"""
import argparse
import json
import os
import sys

FORMS = ('25mm', 'slice')


def skip(why):
    print(f'SKIP: {why}')
    sys.exit(77)


try:
    import numpy as np
    import nibabel as nib
    from scipy.signal import detrend
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC
except ImportError as e:
    skip(f'needs numpy, scipy, nibabel and scikit-learn ({e})')


def volume_labels(events, nt, tr, lag):
    """Class of each volume from an events.tsv (onset, duration, trial_type in seconds): volume i,
    acquired at i*tr, takes the class of the block that covers (i - lag)*tr."""
    lab = np.full(nt, '', dtype=object)
    t = (np.arange(nt) - lag) * tr
    with open(events) as f:
        head = f.readline().rstrip('\n').split('\t')
        io, idu, ity = head.index('onset'), head.index('duration'), head.index('trial_type')
        for line in f:
            c = line.rstrip('\n').split('\t')
            on, du = float(c[io]), float(c[idu])
            lab[(t >= on) & (t < on + du)] = c[ity]
    return lab


def shifted(labels, lag):
    """Per-run label shift by lag volumes; volumes with no label before them stay unlabelled."""
    out = np.full(len(labels), '', dtype=object)
    if lag < len(labels):
        out[lag:] = labels[:len(labels) - lag]
    return out


def load_25mm(d, lag):
    xs, ys, gs = [], [], []
    for r in range(1, 13):
        img = nib.load(os.path.join(d, f'run{r:03d}_bold_25mm.nii.gz'))
        a = np.asarray(img.dataobj, dtype=np.float64)
        nt, tr = a.shape[-1], float(img.header.get_zooms()[3])
        if not tr > 0:
            sys.exit(f'{img.get_filename()}: no repetition time in the header')
        xs.append(a.reshape(-1, nt).T)
        ys.append(volume_labels(os.path.join(d, f'run{r:03d}_events.tsv'), nt, tr, lag))
        gs.append(np.full(nt, r))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(gs)


def load_slice(d, lag):
    a = np.asarray(nib.load(os.path.join(d, 'bold_1slice_allruns.nii.gz')).dataobj, dtype=np.float64)
    x = a.reshape(-1, a.shape[-1]).T
    rows = [line.split() for line in open(os.path.join(d, 'bold_1slice_allruns_labels.txt'))]
    lab = np.array([r[0] for r in rows], dtype=object)
    g = np.array([int(r[1]) for r in rows])
    y = np.full(len(lab), '', dtype=object)
    for r in np.unique(g):
        y[g == r] = shifted(lab[g == r], lag)
    return x, y, g


def mean_threshold_mask(x, g, frac):
    """Temporal mean of the first run above frac times its 98th percentile."""
    m = x[g == g.min()].mean(0)
    return m > frac * np.percentile(m, 98, method='lower')


def prepare(x, g):
    """Per-run linear detrending, then voxel-wise z-scoring over the run's volumes."""
    out = np.empty_like(x)
    for r in np.unique(g):
        xr = detrend(x[g == r], axis=0, type='linear')
        sd = xr.std(0, ddof=1)
        sd[sd < 1e-8] = np.inf  # constant voxels become 0
        out[g == r] = (xr - xr.mean(0)) / sd
    return out


def leave_one_run_out(x, y, g, make):
    acc = []
    for r in np.unique(g):
        tr, te = g != r, g == r
        acc.append(float((make().fit(x[tr], y[tr]).predict(x[te]) == y[te]).mean()))
    return acc


def main():
    shared = os.environ.get('XAI_SHARED_DIR', os.path.join(os.path.dirname(__file__), '..', '..', 'shared'))
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', default=os.path.join(shared, 'data', 'fmri', 'haxby2001_sub001'))
    ap.add_argument('--lag', type=int, default=2, help='label shift in volumes [2]')
    ap.add_argument('--form', choices=FORMS + ('both',), default='both')
    ap.add_argument('--mask', default='brain',
                    help="25 mm voxels: 'brain' (masks_25mm/brain.nii.gz), 'auto' (temporal mean of "
                         "run 1 above 0.3 x its 98th percentile) or a NIfTI file [brain]")
    ap.add_argument('--classes', default='face,house')
    a = ap.parse_args()
    if not os.path.isdir(a.data):
        skip(f'{a.data}: no Haxby data')
    classes = a.classes.split(',')
    models = {'linear_svc': lambda: LinearSVC(C=1.0, max_iter=20000),
              'logistic_regression': lambda: LogisticRegression(C=1.0, max_iter=5000)}
    res = {'lag_volumes': a.lag, 'classes': classes, 'folds': 'leave-one-run-out'}
    for form in FORMS if a.form == 'both' else (a.form,):
        x, y, g = (load_25mm if form == '25mm' else load_slice)(a.data, a.lag)
        if form == 'slice' or a.mask == 'auto':
            mask = mean_threshold_mask(x, g, 0.3) if form == '25mm' else x.std(0) > 0
            mname = 'auto' if form == '25mm' else 'non-constant voxels'
        else:
            path = os.path.join(a.data, 'masks_25mm', 'brain.nii.gz') if a.mask == 'brain' else a.mask
            mask = np.asarray(nib.load(path).dataobj).reshape(-1) != 0
            mname = a.mask
        xp = prepare(x[:, mask], g)
        sel = np.isin(y, classes)
        entry = {'mask': mname, 'voxels': int(mask.sum()), 'volumes': int(sel.sum()),
                 'chance': float(max(np.mean(y[sel] == c) for c in classes))}
        for name, make in models.items():
            acc = leave_one_run_out(xp[sel], y[sel], g[sel], make)
            entry[name] = {'per_run': [round(v, 4) for v in acc], 'mean': round(float(np.mean(acc)), 4),
                           'sd': round(float(np.std(acc, ddof=1)), 4)}
        res[form] = entry
    json.dump(res, sys.stdout, indent=1)
    print()


if __name__ == '__main__':
    main()
