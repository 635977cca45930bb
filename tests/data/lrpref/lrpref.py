#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""lrpref: an independent float64 NumPy reference for libxai's LRP conventions.

Written from the README section "LRP conventions" (the conventions of Zennit 0.5.x) and checked
against the shipped Zennit reference cases (see README.md next to this file and `validate`).

It reads a small ONNX model (batch 1) and computes, in float64:
  - the forward pass (every intermediate tensor),
  - LRP maps for the composites epsilon, epsilon-plus, epsilon-plus-flat, epsilon-alpha2-beta1,
    epsilon-alpha2-beta1-flat, epsilon-gamma-box (plus per-node rule overrides),
  - gradient and gradient x input.

Supported ONNX ops: Conv (1-3 D, strides, pads incl. asymmetric, dilations, group), Gemm (transB,
alpha, beta; transA=0), MatMul (optionally followed by Add of a constant = dense bias),
Relu, LeakyRelu, MaxPool / AveragePool (1-3 D, strides, pads, dilations for MaxPool, ceil_mode,
count_include_pad), GlobalAveragePool, BatchNormalization (folded into the preceding Conv/Dense,
or Pass), Flatten, Reshape, Pad (constant zeros), Add of two activations (residual, Norm rule),
Identity, Dropout, Constant, Squeeze, Unsqueeze, Transpose.

Usage:
    /usr/bin/python3 lrpref.py validate [REFERENCE_CNN_DIR]   # compare with the shipped cases
    /usr/bin/python3 lrpref.py run CASE_DIR METHOD             # print stats of one map

Needs numpy and onnx (python3-numpy, python3-onnx).
"""
import itertools
import json
import math
import os
import sys

import numpy as np

STAB = 1e-6  # stabilizer of every rule except Epsilon's own epsilon

# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def stab(z, eps):
    """z + eps*sgn(z) with sgn(0) = +1."""
    return z + eps * np.where(z >= 0, 1.0, -1.0)


def pos(a):
    return np.maximum(a, 0.0)


def neg(a):
    return np.minimum(a, 0.0)


# --------------------------------------------------------------------------------------------
# Convolution (N-D, grouped) and its vector-Jacobian product
# --------------------------------------------------------------------------------------------


class ConvGeom:
    """Geometry of one ONNX Conv node for an input of spatial shape `insp`."""

    def __init__(self, insp, kernel, strides, pads, dilations, group):
        nd = len(insp)
        self.nd = nd
        self.insp = tuple(insp)
        self.kernel = tuple(kernel)
        self.strides = tuple(strides) if strides else (1,) * nd
        self.dil = tuple(dilations) if dilations else (1,) * nd
        pads = list(pads) if pads else [0] * (2 * nd)
        self.pb = tuple(pads[:nd])
        self.pe = tuple(pads[nd:])
        self.group = group
        self.outsp = tuple(
            (self.insp[d] + self.pb[d] + self.pe[d] - self.dil[d] * (self.kernel[d] - 1) - 1)
            // self.strides[d] + 1 for d in range(nd))
        if min(self.outsp) < 1:
            raise ValueError('conv output would be empty')

    def padded_shape(self):
        return tuple(self.insp[d] + self.pb[d] + self.pe[d] for d in range(self.nd))

    def tap_slices(self, koff):
        """Slices into the padded input that line up with the output grid for kernel offset koff."""
        sl = []
        for d in range(self.nd):
            start = koff[d] * self.dil[d]
            stop = start + (self.outsp[d] - 1) * self.strides[d] + 1
            sl.append(slice(start, stop, self.strides[d]))
        return tuple(sl)

    def pad(self, x):
        """Zero-pad x (1, C, *insp) to the padded extent."""
        cfg = [(0, 0), (0, 0)] + [(self.pb[d], self.pe[d]) for d in range(self.nd)]
        return np.pad(x, cfg)

    def crop(self, xp):
        sl = [slice(None), slice(None)] + [slice(self.pb[d], self.pb[d] + self.insp[d])
                                           for d in range(self.nd)]
        return xp[tuple(sl)]


def conv_forward(x, w, b, g):
    """x: (1, Cin, *insp); w: (Cout, Cin/G, *k); b: (Cout,) or None. Returns (1, Cout, *outsp)."""
    cout = w.shape[0]
    cin_g = w.shape[1]
    cout_g = cout // g.group
    xp = g.pad(x)
    out = np.zeros((1, cout) + g.outsp)
    for koff in itertools.product(*[range(k) for k in g.kernel]):
        sl = g.tap_slices(koff)
        for gi in range(g.group):
            xs = xp[(0, slice(gi * cin_g, (gi + 1) * cin_g)) + sl]           # (cin_g, *outsp)
            ws = w[(slice(gi * cout_g, (gi + 1) * cout_g), slice(None)) + koff]  # (cout_g, cin_g)
            out[0, gi * cout_g:(gi + 1) * cout_g] += np.tensordot(ws, xs, axes=([1], [0]))
    if b is not None:
        out += b.reshape((1, cout) + (1,) * g.nd)
    return out


def conv_vjp(s, w, g):
    """s: (1, Cout, *outsp). Returns W^T s as (1, Cin, *insp) (transposed convolution, cropped)."""
    cout = w.shape[0]
    cin_g = w.shape[1]
    cout_g = cout // g.group
    gp = np.zeros((1, cin_g * g.group) + g.padded_shape())
    for koff in itertools.product(*[range(k) for k in g.kernel]):
        sl = g.tap_slices(koff)
        for gi in range(g.group):
            ws = w[(slice(gi * cout_g, (gi + 1) * cout_g), slice(None)) + koff]  # (cout_g, cin_g)
            ss = s[0, gi * cout_g:(gi + 1) * cout_g]                          # (cout_g, *outsp)
            gp[(0, slice(gi * cin_g, (gi + 1) * cin_g)) + sl] += np.tensordot(ws, ss, axes=([0], [0]))
    return g.crop(gp)


class LinearOp:
    """A Conv or Dense layer with effective (possibly BN-folded) float64 weight and bias."""

    def __init__(self, kind, w, b, geom=None, in_shape=None):
        self.kind = kind          # 'conv' or 'dense'
        self.w = w                # conv: (Cout, Cin/G, *k); dense: (out, in)
        self.b = b if b is not None else np.zeros(w.shape[0])
        self.geom = geom
        self.in_shape = in_shape  # dense: shape of the input tensor (e.g. (1, in))
        self.post_scale = 1.0     # only for zennit_bn_quirk (see Trace)

    def f(self, x, w, b):
        if self.kind == 'conv':
            return conv_forward(x, w, b, self.geom)
        y = x.reshape(1, -1) @ w.T
        if b is not None:
            y = y + b
        return y

    def vjp(self, s, w):
        if self.kind == 'conv':
            return conv_vjp(s, w, self.geom)
        return (s.reshape(1, -1) @ w).reshape(self.in_shape)

    def fold_bn(self, scale, shift):
        """y' = scale*y + shift per output channel."""
        shp = (-1,) + (1,) * (self.w.ndim - 1)
        self.w = self.w * scale.reshape(shp)
        self.b = self.b * scale + shift


# --------------------------------------------------------------------------------------------
# LRP rules for Conv / Dense
# --------------------------------------------------------------------------------------------


def rule_epsilon(op, x, R, eps):
    z = op.f(x, op.w, op.b)
    s = R / stab(z, eps)
    return x * op.vjp(s, op.w)


def rule_zplus(op, x, R):
    wp, wn = pos(op.w), neg(op.w)
    xp, xn = pos(x), neg(x)
    z = op.f(xp, wp, pos(op.b)) + op.f(xn, wn, None)
    s = R / stab(z, STAB)
    return xp * op.vjp(s, wp) + xn * op.vjp(s, wn)


def rule_alphabeta(op, x, R, alpha, beta):
    wp, wn = pos(op.w), neg(op.w)
    xp, xn = pos(x), neg(x)
    zp = op.f(xp, wp, pos(op.b)) + op.f(xn, wn, None)
    zn = op.f(xp, wn, neg(op.b)) + op.f(xn, wp, None)
    sp = R / stab(zp, STAB)
    sn = R / stab(zn, STAB)
    return (alpha * (xp * op.vjp(sp, wp) + xn * op.vjp(sp, wn))
            - beta * (xp * op.vjp(sn, wn) + xn * op.vjp(sn, wp)))


def rule_gamma(op, x, R, gamma):
    w, b = op.w, op.b
    wu, wd = w + gamma * pos(w), w + gamma * neg(w)
    bu, bd = b + gamma * pos(b), b + gamma * neg(b)
    xp, xn = pos(x), neg(x)
    z = op.f(x, w, b)
    zp = op.f(xp, wu, bu) + op.f(xn, wd, None)
    zn = op.f(xp, wd, bd) + op.f(xn, wu, None)
    sp = (z > 0) * R / stab(zp, STAB)
    sn = (z < 0) * R / stab(zn, STAB)
    return (xp * op.vjp(sp, wu) + xn * op.vjp(sp, wd)
            + xp * op.vjp(sn, wd) + xn * op.vjp(sn, wu))


def rule_zbox(op, x, R, low, high):
    """Bounds are broadcast to the shape of this node's input tensor; the Conv's own pads are
    zeros for x, l and h alike (so padded taps contribute nothing)."""
    l = np.broadcast_to(np.asarray(low, dtype=np.float64), x.shape)
    h = np.broadcast_to(np.asarray(high, dtype=np.float64), x.shape)
    w, b = op.w, op.b
    wp, wn = pos(w), neg(w)
    z = op.f(x, w, b) - op.f(l, wp, pos(b)) - op.f(h, wn, neg(b))
    s = R / stab(z, STAB)
    return x * op.vjp(s, w) - l * op.vjp(s, wp) - h * op.vjp(s, wn)


def rule_flat(op, x, R):
    ones_w = np.ones_like(op.w)
    z = op.f(np.ones_like(x), ones_w, None)  # number of in-bounds taps per output
    s = R / stab(z, STAB)
    return op.vjp(s, ones_w)


def rule_wsquare(op, x, R):
    w2 = op.w * op.w
    z = op.f(np.ones_like(x), w2, op.b * op.b)
    s = R / stab(z, STAB)
    return op.vjp(s, w2)


def apply_rule(rule, op, x, R):
    name = rule[0]
    if name == 'epsilon':
        return rule_epsilon(op, x, R, rule[1])
    if name == 'zplus':
        return rule_zplus(op, x, R)
    if name == 'alphabeta':
        return rule_alphabeta(op, x, R, rule[1], rule[2])
    if name == 'gamma':
        return rule_gamma(op, x, R, rule[1])
    if name == 'zbox':
        return rule_zbox(op, x, R, rule[1], rule[2])
    if name == 'flat':
        return rule_flat(op, x, R)
    if name == 'wsquare':
        return rule_wsquare(op, x, R)
    if name == 'pass':
        return R.reshape(x.shape)
    if name == 'gradient':
        return op.vjp(R, op.w)
    raise ValueError(f'unknown rule {rule}')


# --------------------------------------------------------------------------------------------
# Pooling as explicit sparse linear maps (small tensors only)
# --------------------------------------------------------------------------------------------


def pool_out_size(n, k, s, pb, pe, dil, ceil_mode):
    span = dil * (k - 1) + 1
    num = n + pb + pe - span
    if ceil_mode:
        o = -(-num // s) + 1
        # the last window must start inside the input or the begin padding (PyTorch/ONNX rule)
        if (o - 1) * s >= n + pb:
            o -= 1
    else:
        o = num // s + 1
    return o


class Pool:
    """Window bookkeeping for MaxPool / AveragePool over x of shape (1, C, *insp)."""

    def __init__(self, insp, kernel, strides, pads, dilations, ceil_mode):
        nd = len(insp)
        self.insp = tuple(insp)
        self.kernel = tuple(kernel)
        self.strides = tuple(strides) if strides else (1,) * nd
        self.dil = tuple(dilations) if dilations else (1,) * nd
        pads = list(pads) if pads else [0] * (2 * nd)
        self.pb, self.pe = pads[:nd], pads[nd:]
        self.outsp = tuple(pool_out_size(self.insp[d], self.kernel[d], self.strides[d], self.pb[d],
                                         self.pe[d], self.dil[d], ceil_mode) for d in range(nd))

    def windows(self):
        """Yield (out_index, [valid input indices in row-major window order], n_in_padded_extent)."""
        nd = len(self.insp)
        for o in itertools.product(*[range(n) for n in self.outsp]):
            valid = []
            npad = 0  # cells inside input + explicit pads (count_include_pad divisor)
            for koff in itertools.product(*[range(k) for k in self.kernel]):
                idx = tuple(o[d] * self.strides[d] - self.pb[d] + koff[d] * self.dil[d]
                            for d in range(nd))
                inside_pad = all(-self.pb[d] <= idx[d] < self.insp[d] + self.pe[d] for d in range(nd))
                if inside_pad:
                    npad += 1
                if all(0 <= idx[d] < self.insp[d] for d in range(nd)):
                    valid.append(idx)
            yield o, valid, npad


class MaxPoolOp:
    def __init__(self, x, attrs):
        self.p = Pool(x.shape[2:], attrs['kernel_shape'], attrs.get('strides'), attrs.get('pads'),
                      attrs.get('dilations'), attrs.get('ceil_mode', 0))
        C = x.shape[1]
        self.in_shape = x.shape
        self.y = np.zeros((1, C) + self.p.outsp)
        self.arg = {}  # (c, out_index) -> input index of the winner
        for o, valid, _ in self.p.windows():
            for c in range(C):
                best, bi = -np.inf, None
                for idx in valid:  # first maximum in row-major window order wins
                    v = x[(0, c) + idx]
                    if bi is None or v > best:
                        best, bi = v, idx
                self.y[(0, c) + o] = best
                self.arg[(c, o)] = bi

    def back(self, R):
        Rin = np.zeros(self.in_shape)
        for (c, o), idx in self.arg.items():
            Rin[(0, c) + idx] += R[(0, c) + o]   # overlapping windows accumulate
        return Rin


class AvgPoolOp:
    """AveragePool / GlobalAveragePool as y = A x with A sparse; divisor as in ONNX/PyTorch."""

    def __init__(self, x, attrs, global_pool=False):
        self.in_shape = x.shape
        C = x.shape[1]
        if global_pool:
            attrs = {'kernel_shape': list(x.shape[2:])}
        self.p = Pool(x.shape[2:], attrs['kernel_shape'], attrs.get('strides'), attrs.get('pads'),
                      None, attrs.get('ceil_mode', 0))
        include_pad = attrs.get('count_include_pad', 0)
        self.win = []
        for o, valid, npad in self.p.windows():
            div = npad if include_pad else len(valid)
            self.win.append((o, valid, float(div)))
        self.y = self.forward(x)

    def forward(self, x):
        C = x.shape[1]
        y = np.zeros((1, C) + self.p.outsp)
        for o, valid, div in self.win:
            acc = np.zeros(C)
            for idx in valid:
                acc += x[(0, slice(None)) + idx]
            y[(0, slice(None)) + o] = acc / div
        return y

    def vjp(self, s):
        g = np.zeros(self.in_shape)
        for o, valid, div in self.win:
            for idx in valid:
                g[(0, slice(None)) + idx] += s[(0, slice(None)) + o] / div
        return g


# --------------------------------------------------------------------------------------------
# ONNX model loading and graph evaluation
# --------------------------------------------------------------------------------------------


def _attrs(node):
    from onnx import helper
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode()
        elif hasattr(v, 'dims'):  # TensorProto
            from onnx import numpy_helper
            v = numpy_helper.to_array(v)
        elif isinstance(v, (list, tuple)):
            v = list(v)
        out[a.name] = v
    return out


class Model:
    """An ONNX graph plus its float64 initializers."""

    def __init__(self, path_or_proto):
        import onnx
        from onnx import numpy_helper
        m = onnx.load(path_or_proto) if isinstance(path_or_proto, str) else path_or_proto
        self.proto = m
        g = m.graph
        self.consts = {t.name: numpy_helper.to_array(t).astype(np.float64)
                       if numpy_helper.to_array(t).dtype.kind == 'f'
                       else numpy_helper.to_array(t) for t in g.initializer}
        self.nodes = []
        for n in g.node:
            self.nodes.append({'name': n.name, 'op': n.op_type, 'inputs': list(n.input),
                               'outputs': list(n.output), 'attrs': _attrs(n)})
        self.input_name = [i.name for i in g.input if i.name not in self.consts][0]
        self.output_name = g.output[0].name
        # Constant nodes are constants too
        for n in self.nodes:
            if n['op'] == 'Constant':
                v = n['attrs']['value']
                self.consts[n['outputs'][0]] = v.astype(np.float64) if v.dtype.kind == 'f' else v
        self.consumers = {}
        for i, n in enumerate(self.nodes):
            for t in n['inputs']:
                if t:
                    self.consumers.setdefault(t, []).append(i)

    def is_const(self, name):
        return name in self.consts


class Trace:
    """Forward pass bookkeeping: tensor values and one backward closure per node."""

    def __init__(self, model, x, fold_bn=True, zennit_bn_quirk=False):
        """fold_bn: fold BatchNormalization into the preceding Conv/Dense (else BN is a node with
        the Pass rule). zennit_bn_quirk: emulate Zennit 0.5.1's MergeBatchNorm exactly: it resets
        the BN to weight 1, bias 0, mean 0, var 1 but keeps its eps, so the merged BN still scales
        its input by 1/sqrt(1+eps) in the forward pass (relevance passes through it unchanged).
        Used only to validate against the shipped cases; the documented convention is off."""
        self.model = model
        self.zennit_bn_quirk = zennit_bn_quirk
        self.vals = {model.input_name: np.asarray(x, dtype=np.float64)}
        self.layers = {}      # node index -> LinearOp (Conv/Gemm/MatMul, possibly with fused Add/BN)
        self.layer_order = []  # node indices of Conv/Dense layers in graph order
        self.skip = set()     # node indices absorbed into a preceding layer (bias Add, folded BN)
        self.pools = {}
        self.bn = {}          # node index -> (scale, shift) for BN kept as node
        self.fold_bn = fold_bn
        self._forward()

    def _get(self, name):
        if name in self.vals:
            return self.vals[name]
        return self.model.consts[name]

    def _sole_consumer(self, tensor, op):
        cons = self.model.consumers.get(tensor, [])
        if len(cons) == 1 and self.model.nodes[cons[0]]['op'] == op and tensor != self.model.output_name:
            return cons[0]
        return None

    def _bn_params(self, n):
        a = n['attrs']
        gamma, beta, mean, var = (self.model.consts[t] for t in n['inputs'][1:5])
        eps = a.get('epsilon', 1e-5)
        scale = gamma / np.sqrt(var + eps)
        shift = beta - mean * scale
        return scale, shift

    def _forward(self):
        M = self.model
        for i, n in enumerate(M.nodes):
            if i in self.skip:
                continue
            op, a, ins, outs = n['op'], n['attrs'], n['inputs'], n['outputs']
            if op == 'Constant':
                continue
            if op in ('Conv', 'Gemm', 'MatMul'):
                x = self._get(ins[0])
                if op == 'Conv':
                    w = M.consts[ins[1]]
                    b = M.consts[ins[2]] if len(ins) > 2 and ins[2] else None
                    if a.get('auto_pad', 'NOTSET') not in ('NOTSET', ''):
                        raise NotImplementedError('auto_pad')
                    geom = ConvGeom(x.shape[2:], a.get('kernel_shape', w.shape[2:]), a.get('strides'),
                                    a.get('pads'), a.get('dilations'), a.get('group', 1))
                    lop = LinearOp('conv', w, b, geom)
                elif op == 'Gemm':
                    if a.get('transA', 0):
                        raise NotImplementedError('Gemm transA')
                    B = M.consts[ins[1]]
                    w = B if a.get('transB', 0) else B.T
                    w = a.get('alpha', 1.0) * w
                    b = a.get('beta', 1.0) * np.broadcast_to(M.consts[ins[2]], (w.shape[0],)) \
                        if len(ins) > 2 and ins[2] else None
                    lop = LinearOp('dense', w, b, in_shape=x.shape)
                else:  # MatMul (+ Add of a constant bias)
                    w = M.consts[ins[1]].T
                    lop = LinearOp('dense', w, None, in_shape=x.shape)
                out = outs[0]
                if op == 'MatMul':
                    j = self._sole_consumer(out, 'Add')
                    if j is not None:
                        other = [t for t in M.nodes[j]['inputs'] if t != out]
                        if len(other) == 1 and M.is_const(other[0]):
                            lop.b = lop.b + np.broadcast_to(M.consts[other[0]], lop.b.shape)
                            self.skip.add(j)
                            out = M.nodes[j]['outputs'][0]
                if self.fold_bn:
                    j = self._sole_consumer(out, 'BatchNormalization')
                    if j is not None:
                        lop.fold_bn(*self._bn_params(M.nodes[j]))
                        if self.zennit_bn_quirk:
                            lop.post_scale = 1.0 / math.sqrt(1.0 + M.nodes[j]['attrs'].get('epsilon', 1e-5))
                        self.skip.add(j)
                        out = M.nodes[j]['outputs'][0]
                self.layers[i] = lop
                self.layer_order.append(i)
                lop.out = out
                y = lop.f(x, lop.w, lop.b) * lop.post_scale
                if op != 'Conv':
                    y = y.reshape(1, -1)
                self.vals[out] = y
            elif op == 'Relu':
                self.vals[outs[0]] = np.maximum(self._get(ins[0]), 0.0)
            elif op == 'LeakyRelu':
                x = self._get(ins[0])
                self.vals[outs[0]] = np.where(x >= 0, x, a.get('alpha', 0.01) * x)
            elif op == 'BatchNormalization':
                scale, shift = self._bn_params(n)
                x = self._get(ins[0])
                shp = (1, -1) + (1,) * (x.ndim - 2)
                self.bn[i] = (scale.reshape(shp), shift.reshape(shp))
                self.vals[outs[0]] = x * self.bn[i][0] + self.bn[i][1]
            elif op == 'MaxPool':
                p = MaxPoolOp(self._get(ins[0]), a)
                self.pools[i] = p
                self.vals[outs[0]] = p.y
            elif op in ('AveragePool', 'GlobalAveragePool'):
                if op == 'AveragePool' and a.get('auto_pad', 'NOTSET') not in ('NOTSET', ''):
                    raise NotImplementedError('auto_pad')
                p = AvgPoolOp(self._get(ins[0]), a, global_pool=(op == 'GlobalAveragePool'))
                self.pools[i] = p
                self.vals[outs[0]] = p.y
            elif op == 'Flatten':
                x = self._get(ins[0])
                ax = a.get('axis', 1)
                self.vals[outs[0]] = x.reshape(int(np.prod(x.shape[:ax])), -1)
            elif op == 'Reshape':
                x = self._get(ins[0])
                shp = [int(v) for v in self._get(ins[1])]
                shp = [x.shape[k] if v == 0 else v for k, v in enumerate(shp)]
                self.vals[outs[0]] = x.reshape(shp)
            elif op in ('Squeeze', 'Unsqueeze'):
                x = self._get(ins[0])
                axes = [int(v) for v in (self._get(ins[1]) if len(ins) > 1 else a['axes'])]
                self.vals[outs[0]] = np.squeeze(x, tuple(axes)) if op == 'Squeeze' \
                    else np.expand_dims(x, tuple(axes))
            elif op == 'Transpose':
                self.vals[outs[0]] = np.transpose(self._get(ins[0]), a.get('perm'))
            elif op == 'Pad':
                x = self._get(ins[0])
                if a.get('mode', 'constant') != 'constant':
                    raise NotImplementedError('Pad mode')
                pads = [int(v) for v in (self._get(ins[1]) if len(ins) > 1 else a['pads'])]
                if len(ins) > 2 and ins[2] and float(np.asarray(self._get(ins[2])).ravel()[0]) != 0:
                    raise NotImplementedError('Pad with non-zero value')
                nd = x.ndim
                if min(pads) < 0:
                    raise NotImplementedError('negative pads')
                self.vals[outs[0]] = np.pad(x, [(pads[k], pads[k + nd]) for k in range(nd)])
                n['_pads'] = pads
            elif op == 'Add':
                if any(M.is_const(t) for t in ins):
                    raise NotImplementedError('Add of a constant that is not a MatMul bias')
                self.vals[outs[0]] = self._get(ins[0]) + self._get(ins[1])
            elif op in ('Identity', 'Dropout'):
                self.vals[outs[0]] = self._get(ins[0])
            else:
                raise NotImplementedError(f'op {op}')

    @property
    def logits(self):
        return self.vals[self.model.output_name].reshape(-1)

    # ---------------------------------------------------------------------------------------
    def backward(self, R_out, rules=None, gradient=False, norm_eps=STAB):
        """Propagate R_out (shape of the output) back to the input.

        rules: dict node index -> rule tuple for every Conv/Dense layer (ignored if gradient).
        Returns the relevance (or gradient) at the input and the per-tensor relevance dict."""
        M = self.model
        Rs = {M.output_name: np.asarray(R_out, dtype=np.float64).reshape(self.vals[M.output_name].shape)}

        def add(name, r):
            if M.is_const(name) or not name:
                return
            r = r.reshape(self._get(name).shape)
            Rs[name] = Rs[name] + r if name in Rs else r

        for i in reversed(range(len(M.nodes))):
            if i in self.skip:
                continue
            n = M.nodes[i]
            op, a, ins, outs = n['op'], n['attrs'], n['inputs'], n['outputs']
            if op == 'Constant':
                continue
            out = self.layers[i].out if i in self.layers else outs[0]
            if out not in Rs:
                continue  # nothing flows back through this node
            R = Rs[out]
            if i in self.layers:
                lop = self.layers[i]
                x = self._get(ins[0])
                r = apply_rule(('gradient',) if gradient else rules[i], lop, x, R)
                add(ins[0], r)
            elif op == 'Relu':
                add(ins[0], R * (self._get(ins[0]) > 0) if gradient else R)
            elif op == 'LeakyRelu':
                x = self._get(ins[0])
                add(ins[0], R * np.where(x > 0, 1.0, a.get('alpha', 0.01)) if gradient else R)
            elif op == 'BatchNormalization':
                add(ins[0], R * self.bn[i][0] if gradient else R)  # not folded: Pass
            elif op == 'MaxPool':
                add(ins[0], self.pools[i].back(R))
            elif op in ('AveragePool', 'GlobalAveragePool'):
                p = self.pools[i]
                if gradient:
                    add(ins[0], p.vjp(R))
                else:
                    x = self._get(ins[0])
                    add(ins[0], x * p.vjp(R / stab(p.y, norm_eps)))
            elif op in ('Flatten', 'Reshape', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout'):
                add(ins[0], R)
            elif op == 'Transpose':
                perm = a.get('perm')
                add(ins[0], np.transpose(R, np.argsort(perm)))
            elif op == 'Pad':
                pads = n['_pads']
                nd = R.ndim
                sl = tuple(slice(pads[k], R.shape[k] - pads[k + nd]) for k in range(nd))
                add(ins[0], R[sl])
            elif op == 'Add':
                xa, xb = self._get(ins[0]), self._get(ins[1])
                if gradient:
                    add(ins[0], R)
                    add(ins[1], R)
                else:
                    s = R / stab(xa + xb, norm_eps)
                    add(ins[0], xa * s)
                    add(ins[1], xb * s)
            else:
                raise NotImplementedError(op)
        return Rs.get(M.input_name, np.zeros_like(self.vals[M.input_name])), Rs


# --------------------------------------------------------------------------------------------
# Composites
# --------------------------------------------------------------------------------------------

COMPOSITES = ('epsilon', 'epsilon-plus', 'epsilon-plus-flat', 'epsilon-alpha2-beta1',
              'epsilon-alpha2-beta1-flat', 'epsilon-gamma-box')


def composite_rules(trace, composite, eps=1e-6, gamma=0.25, low=None, high=None, overrides=None):
    """Rule per Conv/Dense node (node index -> rule tuple).

    'First layer': the first Conv or Dense node in graph order (Flat composites); for
    epsilon-gamma-box the first *Conv* node in graph order (a Dense-only net gets no ZBox)."""
    M = trace.model
    rules = {}
    first_any = trace.layer_order[0] if trace.layer_order else None
    convs = [i for i in trace.layer_order if trace.layers[i].kind == 'conv']
    first_conv = convs[0] if convs else None
    conv_rule = {'epsilon': ('epsilon', eps), 'epsilon-plus': ('zplus',),
                 'epsilon-plus-flat': ('zplus',), 'epsilon-alpha2-beta1': ('alphabeta', 2.0, 1.0),
                 'epsilon-alpha2-beta1-flat': ('alphabeta', 2.0, 1.0),
                 'epsilon-gamma-box': ('gamma', gamma)}[composite]
    for i in trace.layer_order:
        kind = trace.layers[i].kind
        r = conv_rule if kind == 'conv' else ('epsilon', eps)
        if composite.endswith('-flat') and i == first_any:
            r = ('flat',)
        if composite == 'epsilon-gamma-box' and i == first_conv:
            r = ('zbox', low, high)
        rules[i] = r
    for key, r in (overrides or {}).items():
        idx = key if isinstance(key, int) else [k for k, n in enumerate(M.nodes) if n['name'] == key][0]
        rules[idx] = r
    return rules


def zbox_bounds(x):
    """The reference cases' recipe: low = floor(min x) - 0.25, high = ceil(max x) + 0.5."""
    return float(math.floor(float(np.min(x))) - 0.25), float(math.ceil(float(np.max(x))) + 0.5)


# method key (as in the reference folders) -> (composite or gradient kind, epsilon)
METHODS = {
    'epsilon_plus_flat': ('epsilon-plus-flat', 1e-6),
    'epsilon_gamma_box': ('epsilon-gamma-box', 1e-6),
    'epsilon_alpha2_beta1': ('epsilon-alpha2-beta1', 1e-6),
    'epsilon_plus': ('epsilon-plus', 1e-6),
    'epsilon': ('epsilon', 1e-6),
    'epsilon_0p25': ('epsilon', 0.25),
    'gradient': ('gradient', None),
    'gradient_x_input': ('gradient_x_input', None),
}


def explain(model, x, method, cls=None, bn='fold', low=None, high=None, zennit_bn_quirk=False):
    """Return (map, trace, class, rules) for one method key of METHODS (bn: 'fold' or 'pass')."""
    x = np.asarray(x, dtype=np.float64)
    kind, eps = METHODS[method]
    fold = (bn == 'fold') or kind.startswith('gradient')
    tr = Trace(model, x, fold_bn=fold,
               zennit_bn_quirk=zennit_bn_quirk and not kind.startswith('gradient'))
    logits = tr.logits
    if cls is None:
        cls = int(np.argmax(logits))
    R = np.zeros_like(logits)
    R[cls] = 1.0
    if kind.startswith('gradient'):
        g, _ = tr.backward(R, gradient=True)
        return (g * x if kind == 'gradient_x_input' else g), tr, cls, None
    if low is None or high is None:
        low, high = zbox_bounds(x)
    rules = composite_rules(tr, kind, eps=eps, low=low, high=high)
    r, _ = tr.backward(R, rules=rules)
    return r, tr, cls, rules


def rule_name(rule):
    n = rule[0]
    return {'epsilon': f'Epsilon({rule[1]:g})' if len(rule) > 1 else 'Epsilon', 'zplus': 'ZPlus',
            'alphabeta': 'AlphaBeta(2,1)' if len(rule) > 1 else 'AlphaBeta', 'flat': 'Flat',
            'wsquare': 'WSquare', 'pass': 'Pass',
            'gamma': f'Gamma({rule[1]:g})' if len(rule) > 1 else 'Gamma',
            'zbox': f'ZBox({rule[1]:g},{rule[2]:g})' if len(rule) > 2 else 'ZBox'}.get(n, n)


# --------------------------------------------------------------------------------------------
# validation against shipped reference folders
# --------------------------------------------------------------------------------------------


def load_f32(path, shape=None):
    a = np.fromfile(path, dtype='<f4').astype(np.float64)
    return a.reshape(shape) if shape is not None else a


def rel_l2(a, b):
    nb = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / nb) if nb > 0 else float(np.linalg.norm(a - b))


def validate_case(case_dir, verbose=True):
    """rel L2 of every shipped map against this implementation, with the documented BN folding
    ('doc') and with Zennit's MergeBatchNorm eps quirk emulated ('quirk'; differs only where a
    BatchNormalization node is folded)."""
    meta = json.load(open(os.path.join(case_dir, 'meta.json')))
    model = Model(os.path.join(case_dir, 'model.onnx'))
    shape = meta['input']['shape']
    x = load_f32(os.path.join(case_dir, 'input.f32'), shape)
    conv = meta['conventions']
    low, high = conv['zbox_low'], conv['zbox_high']
    tr = Trace(model, x)
    ref_logits = load_f32(os.path.join(case_dir, 'logits.f32'))
    results = {'logits': (rel_l2(tr.logits, ref_logits),) * 2}
    cls = meta['explained_class']
    assert int(np.argmax(tr.logits)) == cls
    for key, info in meta['relevances'].items():
        method, _, variant = key.partition('__')
        bn = 'pass' if variant == 'bnpass' else 'fold'
        ref = load_f32(os.path.join(case_dir, info['file']), info['shape'])
        res = []
        for quirk in (False, True):
            r, _, _, _ = explain(model, x, method, cls=cls, bn=bn, low=low, high=high,
                                 zennit_bn_quirk=quirk)
            res.append(rel_l2(r, ref))
        results[key] = tuple(res)
    if verbose:
        print(f'case {meta["case"]}                     doc-fold   zennit-quirk')
        for k, v in results.items():
            print(f'  {k:32s} {v[0]:.3e}  {v[1]:.3e}')
    return results


def main(argv):
    if len(argv) >= 2 and argv[1] == 'validate':
        root = argv[2] if len(argv) > 2 else os.path.join(
            os.environ.get('XAI_SHARED_DIR', '/work/shared'), 'reference', 'cnn')
        worst = 0.0
        for c in sorted(os.listdir(root)):
            if os.path.exists(os.path.join(root, c, 'meta.json')):
                res = validate_case(os.path.join(root, c))
                worst = max(worst, max(v[0] for k, v in res.items() if k != 'logits'))
        print(f'worst relevance rel_L2 = {worst:.3e}')
        return 0 if worst < 1e-6 else 1
    if len(argv) == 4 and argv[1] == 'run':
        meta = json.load(open(os.path.join(argv[2], 'meta.json')))
        model = Model(os.path.join(argv[2], 'model.onnx'))
        x = load_f32(os.path.join(argv[2], 'input.f32'), meta['input']['shape'])
        r, tr, cls, rules = explain(model, x, argv[3])
        print('logits', tr.logits, 'class', cls, 'sum', r.sum())
        return 0
    print(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
