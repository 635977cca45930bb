#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Float64 NumPy reference of the evaluation metrics of tests/test-eval-metrics.c.

    /usr/bin/python3 tests/data/eval/make_metrics.py tests/data/eval/metrics

Every metric is recomputed here from its published formula, independently of the C code:
the only things shared with libxai are the definitions of the random streams (SplitMix64
counters, so that subsets and noise draws are the same) and the model, linear.onnx
(logit c = W[c] . x + b[c], weights from make_fixtures.py). Inputs are float32 .npy files;
the expected values go to expected.txt, one "name index value" per line with 17 digits.

  localisation  relevance mass / rank accuracy (Arras et al., Inf. Fusion 81, 2022) on
                max(R, 0) and on |R|, pointing game, enrichment
  complexity    Gini index of |R| (Chalasani et al., ICML 2020), entropy of |R| / sum |R|
  spearman      Pearson correlation of average ranks
  road          noisy linear imputation (Rong et al., ICML 2022) by a dense solve of the
                neighbour-mean equations, without and with noise
  road-aopc     region perturbation with ROAD replacement on the linear model, MoRF
  faithcorr     faithfulness correlation (Bhatt et al., IJCAI 2020)
  infidelity    Yeh et al., NeurIPS 2019, Gaussian perturbations, optimal scale beta
  sensitivity   max/avg-sensitivity (Yeh et al. 2019) of gradient x input
Needs python3-numpy (Debian).
"""
import math
import os
import sys

import numpy as np

M64 = (1 << 64) - 1
STREAM_ROAD = 0x524f41446e6f6973
STREAM_SUBSET = 0x7375627365745346
STREAM_INFID = 0x696e666964454c49
STREAM_SENS = 0x73656e7369544956


# ---- the random streams (same definitions as libxai) -------------------------------
def mix64(z):
    z = (z + 0x9e3779b97f4a7c15) & M64
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
    return z ^ (z >> 31)


def stream_key(seed, domain, sample):
    return mix64((mix64(seed ^ domain) + sample) & M64)


def unit(key, ctr):
    return (mix64((key + ctr * 0xd1b54a32d192ed03) & M64) >> 11) * 2.0 ** -53


def gauss(key, ctr):
    u = 1.0 - unit(key, 2 * ctr)
    v = unit(key, 2 * ctr + 1)
    return math.sqrt(-2.0 * math.log(u)) * math.cos(6.283185307179586 * v)


class Below:
    def __init__(self, key):
        self.key, self.ctr = key, 0

    def __call__(self, bound):
        lim = M64 - M64 % bound
        while True:
            r = mix64((self.key + self.ctr * 0xd1b54a32d192ed03) & M64)
            self.ctr += 1
            if r < lim:
                return r % bound


def subset(below, npatch, k):
    perm = list(range(npatch))
    for p in range(min(k, npatch - 1)):
        j = p + below(npatch - p)
        perm[p], perm[j] = perm[j], perm[p]
    return perm[:k]


# ---- the model -------------------------------------------------------------------
def lin_weights():
    return np.array([[((7 * j + 5 * c + 3) % 13 - 6) / 8.0 for j in range(24)] for c in range(2)])


W = lin_weights()
B = np.array([0.5, -0.25])


def logit(x, c):
    return float(W[c] @ x.astype(np.float64).ravel() + B[c])


# ---- metrics ---------------------------------------------------------------------
def localisation(r, mask, use_abs):
    r = r.astype(np.float64).ravel()
    gt = mask.ravel() != 0
    s = np.abs(r) if use_abs else np.maximum(r, 0.0)
    mass = s[gt].sum() / s.sum() if s.sum() > 0 else math.nan
    k = int(gt.sum())
    order = sorted(range(len(s)), key=lambda i: (-s[i], i))
    rank = sum(1 for i in order[:k] if gt[i]) / k if s.sum() > 0 else math.nan
    pick = np.abs(r) if use_abs else r
    best = int(np.argmax(pick))  # first maximum
    point = 1.0 if gt[best] else 0.0
    return [mass, rank, point, mass / (k / len(s))]


def complexity(r):
    a = np.sort(np.abs(r.astype(np.float64).ravel()))
    n = len(a)
    i = np.arange(1, n + 1)
    gini = float(np.sum((2 * i - n - 1) * a) / (n * a.sum()))
    p = a[a > 0] / a.sum()
    return [gini, float(-(p * np.log(p)).sum())]


def avg_ranks(v):
    v = v.astype(np.float64)
    order = sorted(range(len(v)), key=lambda i: (v[i], i))
    r = np.zeros(len(v))
    i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for q in range(i, j + 1):
            r[order[q]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return r


def spearman(a, b):
    return float(np.corrcoef(avg_ranks(a), avg_ranks(b))[0, 1])


def neighbours(shape, axes, e):
    idx = np.unravel_index(e, shape)
    out = []
    for d in range(len(shape)):
        if not axes & (1 << d):
            continue
        for step in (-1, 1):
            k = idx[d] + step
            if 0 <= k < shape[d]:
                j = list(idx)
                j[d] = k
                out.append(int(np.ravel_multi_index(j, shape)))
    return out


def road_impute(x, removed, axes, noise, seed, sample):
    shape = x.shape
    if axes == 0:
        axes = sum(1 << d for d in range(len(shape)) if shape[d] > 1)
    xf = x.astype(np.float64).ravel()
    rem = removed.ravel() != 0
    kept = xf[~rem]
    fill = kept.mean() if len(kept) else 0.0
    v = xf.copy()
    # groups of removed elements without a kept neighbour get the kept mean
    seen = np.zeros(len(xf), bool)
    unknown = []
    for s in range(len(xf)):
        if not rem[s] or seen[s]:
            continue
        group, stack, touches = [], [s], False
        seen[s] = True
        while stack:
            e = stack.pop()
            group.append(e)
            for j in neighbours(shape, axes, e):
                if not rem[j]:
                    touches = True
                elif not seen[j]:
                    seen[j] = True
                    stack.append(j)
        if touches:
            unknown += group
        else:
            v[group] = fill
    unknown.sort()
    pos = {e: i for i, e in enumerate(unknown)}
    A = np.zeros((len(unknown), len(unknown)))
    b = np.zeros(len(unknown))
    for e, i in pos.items():
        nb = neighbours(shape, axes, e)
        A[i, i] = len(nb)
        for j in nb:
            if j in pos:
                A[i, pos[j]] -= 1.0
            else:
                b[i] += v[j]
    if unknown:
        v[unknown] = np.linalg.solve(A, b)
    sd = xf.std()
    key = stream_key(seed, STREAM_ROAD, sample)
    out = xf.copy()
    for e in np.flatnonzero(rem):
        z = noise * sd * gauss(key, int(e)) if noise > 0 else 0.0
        out[e] = np.float32(v[e] + z)
    return out.reshape(shape)


def patch_index(shape, patch):
    """Patch of every element: extents over the trailing axes, row-major grid."""
    nd = len(shape)
    ext = [1] * (nd - len(patch)) + list(patch)
    grid = [(shape[d] + ext[d] - 1) // ext[d] for d in range(nd)]
    of = np.zeros(int(np.prod(shape)), np.int64)
    for e in range(len(of)):
        idx = np.unravel_index(e, shape)
        of[e] = np.ravel_multi_index([idx[d] // ext[d] for d in range(nd)], grid)
    return of, int(np.prod(grid))


def road_aopc_morf(x, r, c, shape, patch, steps, noise, seed, sample):
    of, npatch = patch_index(shape, patch)
    sums = [float(r.astype(np.float64).ravel()[of == p].sum()) for p in range(npatch)]
    order = sorted(range(npatch), key=lambda p: (-sums[p], p))
    f0 = logit(x, c)
    removed = np.zeros(x.size, np.uint8)
    acc = 0.0
    for k in range(steps + 1):
        if k > 0:
            removed[of == order[k - 1]] = 1
            xk = road_impute(x.reshape(shape), removed.reshape(shape), 0, noise, seed, sample)
            acc += f0 - logit(xk.astype(np.float32), c)
    return acc / (steps + 1)


def faithcorr(x, r, c, shape, patch, runs, fraction, baseline, seed, sample):
    of, npatch = patch_index(shape, patch)
    k = min(max(int(round(fraction * npatch)), 1), npatch)
    below = Below(stream_key(seed, STREAM_SUBSET, sample))
    f0 = logit(x, c)
    rs, df = [], []
    xf = x.ravel()
    for _ in range(runs):
        sel = set(subset(below, npatch, k))
        m = np.array([of[e] in sel for e in range(x.size)])
        rs.append(float(r.astype(np.float64).ravel()[m].sum()))
        xp = np.where(m, np.float32(baseline), xf)
        df.append(f0 - logit(xp, c))
    return float(np.corrcoef(rs, df)[0, 1])


def infidelity(x, r, c, runs, sigma, seed, sample):
    xf = x.ravel()
    sd = xf.astype(np.float64).std()
    key = stream_key(seed, STREAM_INFID, sample)
    f0 = logit(x, c)
    a, b = [], []
    n = x.size
    for t in range(runs):
        ii = np.array([np.float32(sigma * sd * gauss(key, t * n + e)) for e in range(n)], np.float32)
        a.append(float(ii.astype(np.float64) @ r.astype(np.float64).ravel()))
        b.append(f0 - logit((xf - ii).astype(np.float32), c))
    a, b = np.array(a), np.array(b)
    beta = (a @ b) / (a @ a) if (a @ a) > 0 else 0.0
    return float(np.mean((beta * a - b) ** 2))


def sensitivity_gxi(x, c, runs, radius, seed, sample):
    """Gradient x input of the linear model: Phi(y) = W[c] * y."""
    xf = x.ravel()
    rad = radius * float(np.float32(xf.max()) - np.float32(xf.min()))
    key = stream_key(seed, STREAM_SENS, sample)
    phi0 = W[c] * xf.astype(np.float64)
    n = x.size
    vals = []
    for t in range(runs):
        y = np.array([np.float32(float(xf[e]) + rad * (2.0 * unit(key, t * n + e) - 1.0)) for e in range(n)])
        phi = W[c] * y.astype(np.float64)
        vals.append(np.linalg.norm(phi - phi0) / np.linalg.norm(phi0))
    return [max(vals), float(np.mean(vals))]


def main(out):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20261206)
    lines = []

    def put(name, vals):
        for i, v in enumerate(vals):
            lines.append("%s %d %.17g" % (name, i, v))

    # localisation, complexity, spearman: 5 maps of 24 values with ties and signs
    rel = np.round(rng.normal(size=(5, 24)) * 4).astype(np.float32) / 4
    mask = (rng.random((5, 24)) < 0.3).astype(np.float32)
    mask[:, 0] = 1  # never empty
    mask[:, 1] = 0  # never full
    other = np.round(rng.normal(size=(5, 24)) * 2).astype(np.float32) / 2
    np.save(os.path.join(out, "rel.npy"), rel)
    np.save(os.path.join(out, "mask.npy"), mask)
    np.save(os.path.join(out, "other.npy"), other)
    for s in range(5):
        put("loc_pos_%d" % s, localisation(rel[s], mask[s], 0))
        put("loc_abs_%d" % s, localisation(rel[s], mask[s], 1))
        put("complexity_%d" % s, complexity(rel[s]))
        put("spearman_%d" % s, [spearman(rel[s], other[s])])

    # ROAD imputation of a [2, 3, 4] sample: all axes, time axis only, with noise
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    removed = np.zeros((2, 3, 4), np.uint8)
    removed[0, 1, 1:3] = 1
    removed[1, :, 0] = 1
    removed[1, 2, 3] = 1
    np.save(os.path.join(out, "road_x.npy"), x)
    np.save(os.path.join(out, "road_removed.npy"), removed.astype(np.float32))
    put("road_all", road_impute(x, removed, 0, 0.0, 0, 0).ravel())
    put("road_time", road_impute(x, removed, 4, 0.0, 0, 0).ravel())
    put("road_noise", road_impute(x, removed, 0, 0.5, 9, 3).ravel())

    # model-based metrics on linear.onnx: 4 samples [1, 2, 3, 4], class 0 and 1
    xs = rng.normal(size=(4, 1, 2, 3, 4)).astype(np.float32)
    maps = rng.normal(size=(4, 1, 2, 3, 4)).astype(np.float32)
    cls = [0, 1, 1, 0]
    np.save(os.path.join(out, "lin_x.npy"), xs)
    np.save(os.path.join(out, "lin_rel.npy"), maps)
    shape = (1, 2, 3, 4)
    for s in range(4):
        put("road_aopc_%d" % s, [road_aopc_morf(xs[s], maps[s], cls[s], shape, (2,), 5, 0.0, 0, s)])
        put("faithcorr_%d" % s, [faithcorr(xs[s], maps[s], cls[s], shape, (2,), 16, 0.25, 0.0, 5, s)])
        put("infid_%d" % s, [infidelity(xs[s], maps[s], cls[s], 12, 0.2, 5, s)])
        put("sens_%d" % s, sensitivity_gxi(xs[s], cls[s], 6, 0.05, 5, s))
    with open(os.path.join(out, "expected.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else
         os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics"))
