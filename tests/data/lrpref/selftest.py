#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Self-checks of lrpref.py for the code paths the shipped Zennit cases do not reach.

    /usr/bin/python3 selftest.py [CASES_DIR]

1. Conv forward against a naive per-output loop, and the Conv VJP by the adjoint identity
   <conv(x), s> = <x, conv_vjp(s)>, on random 1-D/2-D/3-D configurations (strides, dilations,
   asymmetric pads, groups).
2. MaxPool / AveragePool against a naive implementation written the PyTorch way
   (start = o*s - pad_begin, end = min(start + k, n + pad_end), clip to the input; divisor = end-start
   before clipping with count_include_pad, else the clipped count), incl. ceil_mode.
3. The gradient of every generated case against central finite differences (on a fresh random
   input, so MaxPool has no ties).
4. Conservation: with every bias (and BN shift) set to zero, each LRP composite without
   AlphaBeta must give sum(R_in) = 1 up to the stabilizer, on every generated case. (AlphaBeta is
   not conservative where z+ or z- of an output is exactly 0, which sparse ReLU inputs cause; it
   is checked instead per rule, below.)
6. Every Conv/Dense rule against a per-contribution (i, j) loop written straight from
   the LRP conventions (top-level README) on a random dense layer with mixed-sign inputs, and on a random grouped 2-D conv
   by comparing against the same rule run on the equivalent dense matrix of that conv.
5. Every stored map of every case is reproduced by lrpref (determinism of the files).
"""
import itertools
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lrpref  # noqa: E402
import make_cases  # noqa: E402,F401  (registers the extra method key)

FAIL = []


def check(cond, what):
    if not cond:
        FAIL.append(what)
        print('FAIL', what)


def naive_conv(x, w, b, strides, pads, dil, group):
    nd = x.ndim - 2
    cin, insp = x.shape[1], x.shape[2:]
    cout, cin_g = w.shape[0], w.shape[1]
    cout_g = cout // group
    k = w.shape[2:]
    outsp = [(insp[d] + pads[d] + pads[d + nd] - dil[d] * (k[d] - 1) - 1) // strides[d] + 1 for d in range(nd)]
    y = np.zeros([1, cout] + outsp)
    for co in range(cout):
        gi = co // cout_g
        for o in itertools.product(*[range(n) for n in outsp]):
            acc = b[co]
            for ci in range(cin_g):
                for kk in itertools.product(*[range(n) for n in k]):
                    idx = [o[d] * strides[d] - pads[d] + kk[d] * dil[d] for d in range(nd)]
                    if all(0 <= idx[d] < insp[d] for d in range(nd)):
                        acc += w[(co, ci) + kk] * x[(0, gi * cin_g + ci) + tuple(idx)]
            y[(0, co) + o] = acc
    return y


def test_conv(rng):
    n = 0
    for nd in (1, 2, 3):
        for _ in range(6):
            group = int(rng.choice([1, 2]))
            cin, cout = 2 * group, 2 * group
            k = list(rng.integers(1, 4, nd))
            insp = list(rng.integers(4, 8, nd))
            strides = list(rng.integers(1, 3, nd))
            dil = list(rng.integers(1, 3, nd))
            pads = list(rng.integers(0, 3, 2 * nd))
            x = rng.standard_normal([1, cin] + insp)
            w = rng.standard_normal([cout, cin // group] + k)
            b = rng.standard_normal(cout)
            try:
                g = lrpref.ConvGeom(insp, k, strides, pads, dil, group)
            except ValueError:
                continue
            y = lrpref.conv_forward(x, w, b, g)
            yn = naive_conv(x, w, b, strides, pads, dil, group)
            check(y.shape == yn.shape and np.allclose(y, yn, rtol=1e-12, atol=1e-12),
                  f'conv forward nd={nd} k={k} s={strides} d={dil} p={pads} g={group}')
            s = rng.standard_normal(y.shape)
            lhs = np.sum((y - b.reshape((1, -1) + (1,) * nd)) * s)
            rhs = np.sum(x * lrpref.conv_vjp(s, w, g))
            check(abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs)), f'conv adjoint nd={nd}')
            n += 1
    print(f'conv: {n} random configurations checked')


def naive_pool(x, k, s, pb, pe, ceil_mode, kind, include_pad):
    """PyTorch-style formulas, per dimension."""
    nd = x.ndim - 2
    insp = x.shape[2:]
    outsp = []
    for d in range(nd):
        num = insp[d] + pb[d] + pe[d] - k[d]
        o = (math.ceil(num / s[d]) if ceil_mode else num // s[d]) + 1
        if ceil_mode and (o - 1) * s[d] >= insp[d] + pb[d]:
            o -= 1
        outsp.append(o)
    y = np.zeros(x.shape[:2] + tuple(outsp))
    for c in range(x.shape[1]):
        for o in itertools.product(*[range(n) for n in outsp]):
            rngs, size = [], 1
            for d in range(nd):
                st = o[d] * s[d] - pb[d]
                en = min(st + k[d], insp[d] + pe[d])
                size *= en - st
                rngs.append(range(max(st, 0), min(en, insp[d])))
            cells = [x[(0, c) + idx] for idx in itertools.product(*rngs)]
            if kind == 'max':
                y[(0, c) + o] = max(cells)
            else:
                y[(0, c) + o] = sum(cells) / (size if include_pad else len(cells))
    return y


def test_pool(rng):
    n = 0
    for nd in (1, 2, 3):
        for _ in range(8):
            k = list(rng.integers(1, 4, nd))
            s = list(rng.integers(1, 4, nd))
            pb = [int(rng.integers(0, kk // 2 + 1)) for kk in k]  # ONNX/PyTorch: pad <= k/2
            pe = [int(rng.integers(0, kk // 2 + 1)) for kk in k]
            insp = list(rng.integers(3, 8, nd))
            ceil_mode = int(rng.integers(0, 2))
            x = rng.standard_normal([1, 2] + insp)
            attrs = {'kernel_shape': k, 'strides': s, 'pads': pb + pe, 'ceil_mode': ceil_mode}
            mp = lrpref.MaxPoolOp(x, attrs)
            check(np.allclose(mp.y, naive_pool(x, k, s, pb, pe, ceil_mode, 'max', 0)),
                  f'maxpool nd={nd} {attrs}')
            for inc in (0, 1):
                ap = lrpref.AvgPoolOp(x, dict(attrs, count_include_pad=inc))
                check(np.allclose(ap.y, naive_pool(x, k, s, pb, pe, ceil_mode, 'avg', inc)),
                      f'avgpool nd={nd} inc={inc} {attrs}')
                sv = rng.standard_normal(ap.y.shape)
                check(abs(np.sum(ap.y * sv) - np.sum(x * ap.vjp(sv))) < 1e-10, 'avgpool adjoint')
            n += 1
    # first maximum wins on ties, overlapping windows accumulate
    x = np.array([[[1.0, 3.0, 3.0, 2.0, 3.0]]])
    mp = lrpref.MaxPoolOp(x, {'kernel_shape': [3], 'strides': [1]})
    r = mp.back(np.ones((1, 1, 3)))
    check(np.array_equal(r, np.array([[[0.0, 2.0, 1.0, 0.0, 0.0]]])), 'maxpool ties/accumulation')
    print(f'pool: {n} random configurations checked (+ tie/accumulation example)')


def fd_gradient(M, x, cls, h=1e-6):
    g = np.zeros_like(x)
    flat = x.reshape(-1)
    for i in range(flat.size):
        xp, xm = flat.copy(), flat.copy()
        xp[i] += h
        xm[i] -= h
        fp = lrpref.Trace(M, xp.reshape(x.shape)).logits[cls]
        fm = lrpref.Trace(M, xm.reshape(x.shape)).logits[cls]
        g.reshape(-1)[i] = (fp - fm) / (2 * h)
    return g


def zero_biases(M):
    for n in M.nodes:
        if n['op'] in ('Conv', 'Gemm') and len(n['inputs']) > 2:
            M.consts[n['inputs'][2]] = np.zeros_like(M.consts[n['inputs'][2]])
        if n['op'] == 'Add':
            for t in n['inputs']:
                if M.is_const(t):
                    M.consts[t] = np.zeros_like(M.consts[t])
        if n['op'] == 'BatchNormalization':
            M.consts[n['inputs'][2]] = np.zeros_like(M.consts[n['inputs'][2]])  # beta
            M.consts[n['inputs'][3]] = np.zeros_like(M.consts[n['inputs'][3]])  # mean


def test_cases(root, rng):
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if not os.path.exists(os.path.join(d, 'meta.json')):
            continue
        meta = json.load(open(os.path.join(d, 'meta.json')))
        M = lrpref.Model(os.path.join(d, 'model.onnx'))
        x = lrpref.load_f32(os.path.join(d, 'input.f32'), meta['input']['shape'])
        # 5. stored maps reproduce
        worst = 0.0
        for key, info in meta['relevances'].items():
            method, _, var = key.partition('__')
            r, _, _, _ = lrpref.explain(M, x, method, cls=meta['explained_class'],
                                        bn='pass' if var == 'bnpass' else 'fold',
                                        low=meta['conventions']['zbox_low'], high=meta['conventions']['zbox_high'])
            worst = max(worst, lrpref.rel_l2(r.reshape(-1), lrpref.load_f32(os.path.join(d, info['file']))))
        check(worst < 1e-6, f'{name}: stored maps reproduce ({worst:.1e})')
        # 3. gradient vs finite differences on a random input
        xr = rng.standard_normal(x.shape)
        cls = meta['explained_class']
        g, _, _, _ = lrpref.explain(M, xr, 'gradient', cls=cls)
        gfd = fd_gradient(M, xr, cls)
        e = lrpref.rel_l2(g, gfd)
        check(e < 1e-6, f'{name}: gradient vs finite differences {e:.1e}')
        # 4. conservation without biases
        M0 = lrpref.Model(os.path.join(d, 'model.onnx'))
        zero_biases(M0)
        sums = {}
        for method in ('epsilon_plus_flat', 'epsilon_gamma_box', 'epsilon_plus', 'epsilon'):
            for bn in ('fold', 'pass'):
                r, tr, c0, _ = lrpref.explain(M0, x, method, bn=bn, low=meta['conventions']['zbox_low'],
                                              high=meta['conventions']['zbox_high'])
                sums[(method, bn)] = r.sum()
        dev = max(abs(v - 1.0) for v in sums.values())
        check(dev < 1e-4, f'{name}: conservation without bias, max |sum-1| = {dev:.1e}')
        print(f'{name:22s} maps reproduce {worst:.1e}  grad-vs-FD {e:.1e}  no-bias conservation |sum-1| <= {dev:.1e}')


def naive_dense_rule(rule, x, W, b, R):
    """Per-contribution loops from the LRP conventions (top-level README). W: (out, in)."""
    st = lrpref.stab
    P, N = (lambda a: max(a, 0.0)), (lambda a: min(a, 0.0))
    nout, nin = W.shape
    Rin = np.zeros(nin)
    name = rule[0]
    for j in range(nout):
        z = sum(x[i] * W[j, i] for i in range(nin)) + b[j]
        if name == 'epsilon':
            c = [x[i] * W[j, i] for i in range(nin)]
            for i in range(nin):
                Rin[i] += c[i] * R[j] / st(z, rule[1])
        elif name == 'zplus':
            c = [P(x[i]) * P(W[j, i]) + N(x[i]) * N(W[j, i]) for i in range(nin)]
            zp = sum(c) + P(b[j])
            for i in range(nin):
                Rin[i] += c[i] * R[j] / st(zp, 1e-6)
        elif name == 'alphabeta':
            a, be = rule[1], rule[2]
            cp = [P(x[i]) * P(W[j, i]) + N(x[i]) * N(W[j, i]) for i in range(nin)]
            cn = [P(x[i]) * N(W[j, i]) + N(x[i]) * P(W[j, i]) for i in range(nin)]
            zp, zn = sum(cp) + P(b[j]), sum(cn) + N(b[j])
            for i in range(nin):
                Rin[i] += a * cp[i] * R[j] / st(zp, 1e-6) - be * cn[i] * R[j] / st(zn, 1e-6)
        elif name == 'gamma':
            g = rule[1]
            wu = [W[j, i] + g * P(W[j, i]) for i in range(nin)]
            wd = [W[j, i] + g * N(W[j, i]) for i in range(nin)]
            cu = [P(x[i]) * wu[i] + N(x[i]) * wd[i] for i in range(nin)]
            cd = [P(x[i]) * wd[i] + N(x[i]) * wu[i] for i in range(nin)]
            zp, zn = sum(cu) + b[j] + g * P(b[j]), sum(cd) + b[j] + g * N(b[j])
            for i in range(nin):
                if z > 0:
                    Rin[i] += cu[i] * R[j] / st(zp, 1e-6)
                elif z < 0:
                    Rin[i] += cd[i] * R[j] / st(zn, 1e-6)
        elif name == 'zbox':
            lo, hi = rule[1], rule[2]
            c = [x[i] * W[j, i] - lo * P(W[j, i]) - hi * N(W[j, i]) for i in range(nin)]
            for i in range(nin):
                Rin[i] += c[i] * R[j] / st(sum(c), 1e-6)
        elif name == 'flat':
            for i in range(nin):
                Rin[i] += R[j] / st(float(nin), 1e-6)
        elif name == 'wsquare':
            zz = sum(W[j, i] ** 2 for i in range(nin)) + b[j] ** 2
            for i in range(nin):
                Rin[i] += W[j, i] ** 2 * R[j] / st(zz, 1e-6)
    return Rin


RULES = [('epsilon', 1e-6), ('epsilon', 0.25), ('zplus',), ('alphabeta', 2.0, 1.0), ('gamma', 0.25),
         ('zbox', -2.25, 3.5), ('flat',), ('wsquare',)]


def test_rules(rng):
    # dense, per-contribution loops
    for trial in range(5):
        nin, nout = 7, 5
        x = rng.standard_normal(nin)
        W = rng.standard_normal((nout, nin))
        b = rng.standard_normal(nout)
        if trial == 0:
            x[2] = 0.0
            b[1] = -np.dot(W[1], x)  # an output with z == 0 exactly (Gamma passes nothing there)
        R = rng.standard_normal(nout)
        op = lrpref.LinearOp('dense', W, b, in_shape=(1, nin))
        for rule in RULES:
            a = lrpref.apply_rule(rule, op, x.reshape(1, -1), R.reshape(1, -1)).reshape(-1)
            e = naive_dense_rule(rule, x, W, b, R)
            check(np.allclose(a, e, rtol=1e-9, atol=1e-12), f'dense rule {rule} trial {trial}')
    # conv == the same rule on the conv's dense matrix (ZBox: bounds zero-padded like x,
    # so the padded taps are simply absent from the matrix; Flat: only in-bounds taps)
    for trial in range(4):
        group = 2
        insp, k = [5, 6], [3, 2]
        g = lrpref.ConvGeom(insp, k, [2, 1], [1, 0, 2, 1], [1, 2], group)
        cin, cout = 4, 6
        w = rng.standard_normal([cout, cin // group] + k)
        b = rng.standard_normal(cout)
        x = rng.standard_normal([1, cin] + insp)
        nin = x.size
        A = np.zeros((int(np.prod((1, cout) + g.outsp)), nin))
        for i in range(nin):
            e = np.zeros(nin)
            e[i] = 1.0
            A[:, i] = lrpref.conv_forward(e.reshape(x.shape), w, None, g).reshape(-1)
        bb = np.repeat(b, int(np.prod(g.outsp)))
        cop = lrpref.LinearOp('conv', w, b, g)
        R = rng.standard_normal((1, cout) + g.outsp)
        for rule in RULES:
            rc = lrpref.apply_rule(rule, cop, x, R).reshape(-1)
            if rule[0] == 'flat':
                # Flat: z_j = number of in-bounds taps = the count of structural non-zeros of row j
                mask = (np.abs(A) > 0).astype(float)
                rd = mask.T @ (R.reshape(-1) / lrpref.stab(mask.sum(1), 1e-6))
            elif rule[0] == 'wsquare':
                z = (A * A).sum(1) + bb * bb
                rd = (A * A).T @ (R.reshape(-1) / lrpref.stab(z, 1e-6))
            else:
                dop = lrpref.LinearOp('dense', A, bb, in_shape=(1, nin))
                rd = lrpref.apply_rule(rule, dop, x.reshape(1, -1), R.reshape(1, -1)).reshape(-1)
            check(np.allclose(rc, rd, rtol=1e-9, atol=1e-12), f'conv rule {rule} == dense-matrix rule')
    print(f'rules: {len(RULES)} rules x 5 dense layers vs per-contribution loops, x 4 grouped 2-D convs '
          'vs their dense matrices')


def main(argv):
    rng = np.random.default_rng(7)
    test_rules(rng)
    test_conv(rng)
    test_pool(rng)
    root = argv[1] if len(argv) > 1 else os.path.join(HERE, 'cases')
    if os.path.isdir(root):
        test_cases(root, rng)
    print('OK' if not FAIL else f'{len(FAIL)} FAILURES')
    return 0 if not FAIL else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
