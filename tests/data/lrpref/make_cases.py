#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generate extra LRP test cases for libxai with the float64 reference in lrpref.py.

    /usr/bin/python3 make_cases.py [OUT_DIR]        # default: ./cases next to this script

Each case folder has the layout of the shipped Zennit cases (../shared/reference/cnn/<case>/):
model.onnx, input.f32, input.json, logits.f32, relevance_<method>.f32 and meta.json, so the same
comparison code (compare_cnn.py) works on both. Models are built with onnx.helper (opset 13,
input `input`, output `logits`, batch 1) from float32 weights drawn from a seeded RNG; the script
is deterministic. Before writing anything it re-validates lrpref against the shipped reference
cases when they are present (XAI_SHARED_DIR, default /work/shared) and refuses to write if any
map is off by rel L2 >= 1e-6.

Needs numpy and onnx (/usr/bin/python3 with python3-numpy and python3-onnx).
"""
import hashlib
import json
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lrpref  # noqa: E402

OPSET = 13
METHOD_DESC = {
    'epsilon_plus_flat': 'epsilon-plus-flat: first Conv or Dense (graph order) Flat; other Conv ZPlus; Dense Epsilon(1e-6)',
    'epsilon_gamma_box': 'epsilon-gamma-box: first Conv (graph order) ZBox(zbox_low, zbox_high); other Conv Gamma(0.25); Dense Epsilon(1e-6)',
    'epsilon_alpha2_beta1': 'epsilon-alpha2-beta1: every Conv AlphaBeta(2,1); Dense Epsilon(1e-6)',
    'epsilon_alpha2_beta1_flat': 'epsilon-alpha2-beta1-flat: first Conv or Dense Flat; other Conv AlphaBeta(2,1); Dense Epsilon(1e-6) (extra key, not in the Zennit cases)',
    'epsilon_plus': 'epsilon-plus: every Conv ZPlus; Dense Epsilon(1e-6)',
    'epsilon': 'Epsilon(1e-6) on every Conv and Dense layer',
    'epsilon_0p25': 'Epsilon(0.25) on every Conv and Dense layer; AvgPool / residual Add Norm keep 1e-6',
    'gradient': 'plain gradient d logit_c / d input (ReLU derivative 0 at 0, LeakyReLU slope alpha for x <= 0)',
    'gradient_x_input': 'gradient (above) * input, elementwise',
}
# extra method key only lrpref knows (METHODS in lrpref has the shipped ones)
lrpref.METHODS.setdefault('epsilon_alpha2_beta1_flat', ('epsilon-alpha2-beta1-flat', 1e-6))


# --------------------------------------------------------------------------------------------
# a tiny graph builder
# --------------------------------------------------------------------------------------------


class G:
    def __init__(self, seed, in_shape):
        self.rng = np.random.default_rng(seed)
        self.in_shape = list(in_shape)
        self.nodes, self.inits = [], []
        self.cur = 'input'
        self.k = 0
        self.shapes = {'input': tuple(in_shape)}

    def _name(self, op):
        self.k += 1
        return f'/{self.k}/{op}'

    def init(self, name, arr, dtype=np.float32):
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype=dtype), name))
        return name

    def node(self, op, inputs, out=None, **attrs):
        name = self._name(op)
        out = out or f'{name}_output_0'
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        self.cur = out
        return out

    def weights(self, shape, fan_in, gain=1.0):
        return (self.rng.standard_normal(shape) * gain * np.sqrt(2.0 / fan_in)).astype(np.float32)

    def bias(self, n, scale=0.1):
        return (self.rng.standard_normal(n) * scale).astype(np.float32)

    def conv(self, x, cin, cout, k, strides=None, pads=None, dil=None, group=1, bias=True, gain=1.0):
        k = list(k)
        nd = len(k)
        name = f'w{self.k + 1}'
        w = self.weights([cout, cin // group] + k, (cin // group) * int(np.prod(k)), gain)
        ins = [x, self.init(name + '.weight', w)]
        if bias:
            ins.append(self.init(name + '.bias', self.bias(cout)))
        return self.node('Conv', ins, kernel_shape=k, strides=strides or [1] * nd,
                         pads=pads or [0] * (2 * nd), dilations=dil or [1] * nd, group=group)

    def gemm(self, x, nin, nout, out=None, transB=1, alpha=1.0, beta=1.0, gain=1.0):
        name = f'w{self.k + 1}'
        w = self.weights([nout, nin], nin, gain)
        B = w if transB else w.T.copy()
        ins = [x, self.init(name + '.weight', B), self.init(name + '.bias', self.bias(nout))]
        return self.node('Gemm', ins, out=out, alpha=alpha, beta=beta, transB=transB)

    def bn(self, x, c):
        name = f'bn{self.k + 1}'
        r = self.rng
        ins = [x, self.init(name + '.weight', r.uniform(0.5, 1.5, c)),
               self.init(name + '.bias', r.uniform(-0.3, 0.3, c)),
               self.init(name + '.running_mean', r.uniform(-0.5, 0.5, c)),
               self.init(name + '.running_var', r.uniform(0.5, 2.0, c))]
        return self.node('BatchNormalization', ins, epsilon=1e-5, momentum=0.9)

    def build(self, ncls):
        assert self.cur == 'logits'
        graph = helper.make_graph(
            self.nodes, 'lrpref_case',
            [helper.make_tensor_value_info('input', TensorProto.FLOAT, self.in_shape)],
            [helper.make_tensor_value_info('logits', TensorProto.FLOAT, [1, ncls])],
            initializer=self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)],
                              producer_name='libxai tests/data/lrpref/make_cases.py')
        m.ir_version = 7
        onnx.checker.check_model(m)
        return m


def i64(g, name, vals):
    return g.init(name, np.asarray(vals, dtype=np.int64), dtype=np.int64)


# --------------------------------------------------------------------------------------------
# the cases
# --------------------------------------------------------------------------------------------


def case_conv2d_dil_maxpool(seed):
    g = G(seed, [1, 2, 12, 12])
    g.conv('input', 2, 4, [3, 3], dil=[2, 2], pads=[1, 2, 2, 1])        # -> 4x11x11
    g.node('Relu', [g.cur])
    g.node('MaxPool', [g.cur], kernel_shape=[3, 3], strides=[2, 2])      # overlapping -> 4x5x5
    g.conv(g.cur, 4, 6, [3, 3], pads=[1, 1, 1, 1])                       # -> 6x5x5
    g.node('Relu', [g.cur])
    g.node('Flatten', [g.cur], axis=1)
    g.gemm(g.cur, 150, 10)
    g.node('Relu', [g.cur])
    g.gemm(g.cur, 10, 3, out='logits')
    x = g.rng.standard_normal(g.in_shape).astype(np.float32)
    return g.build(3), x, ('2-D conv net: Conv2d(2->4, k3, dilation 2, asymmetric pads [1,2,2,1]) -> ReLU -> '
                           'overlapping MaxPool(k3, s2) -> Conv2d(4->6, k3, p1) -> ReLU -> Flatten -> '
                           'Gemm(150->10) -> ReLU -> Gemm(10->3)')


def case_conv3d_avgpool(seed):
    g = G(seed, [1, 1, 6, 8, 8])
    g.conv('input', 1, 3, [3, 3, 3], pads=[1] * 6)                       # -> 3x6x8x8
    g.node('Relu', [g.cur])
    g.node('AveragePool', [g.cur], kernel_shape=[2, 2, 2], strides=[2, 2, 2])  # -> 3x3x4x4
    g.conv(g.cur, 3, 4, [1, 3, 3], strides=[1, 2, 2], pads=[0, 1, 1, 0, 1, 1])  # -> 4x3x2x2
    g.node('Relu', [g.cur])
    g.node('GlobalAveragePool', [g.cur])                                 # -> 4x1x1x1
    g.node('Flatten', [g.cur], axis=1)
    g.gemm(g.cur, 4, 3, out='logits', transB=0, alpha=0.5, beta=2.0, gain=2.0)
    x = g.rng.standard_normal(g.in_shape).astype(np.float32)
    return g.build(3), x, ('3-D conv net: Conv3d(1->3, k3, p1) -> ReLU -> AveragePool3d(k2, s2) -> '
                           'Conv3d(3->4, k(1,3,3), s(1,2,2), p(0,1,1)) -> ReLU -> GlobalAveragePool -> '
                           'Flatten -> Gemm(4->3, transB=0, alpha=0.5, beta=2)')


def case_grouped_conv1d(seed):
    g = G(seed, [1, 4, 32])
    g.conv('input', 4, 8, [5], pads=[2, 2], group=2)                     # -> 8x32
    g.node('LeakyRelu', [g.cur], alpha=0.1)
    g.conv(g.cur, 8, 8, [3], strides=[2], dil=[2], pads=[2, 1], group=4)  # -> 8x16
    g.node('Relu', [g.cur])
    g.node('AveragePool', [g.cur], kernel_shape=[4], strides=[4])        # -> 8x4
    g.node('Flatten', [g.cur], axis=1)
    g.gemm(g.cur, 32, 3, out='logits')
    x = g.rng.standard_normal(g.in_shape).astype(np.float32)
    return g.build(3), x, ('grouped 1-D convs: Conv1d(4->8, k5, p2, groups 2) -> LeakyReLU(0.1) -> '
                           'Conv1d(8->8, k3, s2, dilation 2, pads [2,1], groups 4) -> ReLU -> AvgPool1d(k4, s4) -> '
                           'Flatten -> Gemm(32->3)')


def case_conv_bn_keep(seed):
    g = G(seed, [1, 2, 8, 8])
    g.conv('input', 2, 4, [3, 3], pads=[1, 1, 1, 1])
    g.bn(g.cur, 4)
    g.node('Relu', [g.cur])
    g.node('MaxPool', [g.cur], kernel_shape=[2, 2], strides=[2, 2])      # -> 4x4x4
    g.conv(g.cur, 4, 4, [3, 3], pads=[1, 1, 1, 1])
    g.bn(g.cur, 4)
    g.node('Relu', [g.cur])
    g.node('Flatten', [g.cur], axis=1)
    g.gemm(g.cur, 64, 8)
    g.bn(g.cur, 8)
    g.node('Relu', [g.cur])
    g.gemm(g.cur, 8, 3, out='logits')
    x = g.rng.standard_normal(g.in_shape).astype(np.float32)
    return g.build(3), x, ('BatchNormalization kept as nodes: Conv2d(2->4, k3, p1) -> BN -> ReLU -> MaxPool(2) -> '
                           'Conv2d(4->4, k3, p1) -> BN -> ReLU -> Flatten -> Gemm(64->8) -> BN -> ReLU -> Gemm(8->3). '
                           'Plain maps fold every BN into the layer before it; *__bnpass maps give BN the Pass rule.')


def case_residual_add(seed):
    g = G(seed, [1, 2, 10, 10])
    g.conv('input', 2, 4, [3, 3], pads=[1, 1, 1, 1])
    a = g.node('Relu', [g.cur])                                          # a: read twice (fan-out)
    g.conv(a, 4, 4, [3, 3], pads=[1, 1, 1, 1])
    g.node('Relu', [g.cur])
    g.conv(g.cur, 4, 4, [3, 3], pads=[1, 1, 1, 1])
    b = g.node('Relu', [g.cur])
    g.node('Add', [a, b])                                                # residual Add of two activations
    g.node('MaxPool', [g.cur], kernel_shape=[2, 2], strides=[2, 2])      # -> 4x5x5
    g.conv(g.cur, 4, 6, [3, 3], strides=[2, 2], pads=[1, 1, 1, 1])       # -> 6x3x3
    g.node('Relu', [g.cur])
    g.node('GlobalAveragePool', [g.cur])
    g.node('Flatten', [g.cur], axis=1)
    g.gemm(g.cur, 6, 4, out='logits', gain=2.0)
    x = g.rng.standard_normal(g.in_shape).astype(np.float32)
    return g.build(4), x, ('residual block: a = ReLU(Conv(x)); b = ReLU(Conv(ReLU(Conv(a)))); Add(a, b) (Norm rule; '
                           'a also feeds the branch, so its relevance is the sum over both edges) -> MaxPool(2) -> '
                           'Conv(4->6, k3, s2, p1) -> ReLU -> GlobalAveragePool -> Flatten -> Gemm(6->4)')


def case_maxpool_ceil_ties(seed):
    g = G(seed, [1, 2, 11, 11])
    g.node('MaxPool', ['input'], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 0, 1],
           ceil_mode=1)                                                  # -> 2x6x6, partial last windows
    g.conv(g.cur, 2, 4, [3, 3], pads=[1, 1, 1, 1])                       # -> 4x6x6
    g.node('Relu', [g.cur])
    g.node('MaxPool', [g.cur], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)  # -> 4x3x3
    g.node('Flatten', [g.cur], axis=1)
    g.gemm(g.cur, 36, 3, out='logits')
    # input quantized to multiples of 0.5 so that most pooling windows hold ties: the first
    # maximum in row-major window order must win
    x = (g.rng.integers(-5, 6, g.in_shape) * 0.5).astype(np.float32)
    return g.build(3), x, ('MaxPool ceil_mode: MaxPool(k3, s2, pads [1,0,0,1], ceil_mode=1) directly on a quantized '
                           'input (many ties; first maximum in row-major order wins) -> Conv2d(2->4, k3, p1) -> ReLU -> '
                           'MaxPool(k3, s2, ceil_mode=1) with partial last windows -> Flatten -> Gemm(36->3). '
                           'The first Conv reads the pooled tensor, so ZBox/Flat apply there.')


def case_avgpool_pad_ceil(seed):
    g = G(seed, [1, 3, 20])
    g.conv('input', 3, 5, [3], pads=[1, 1])                              # -> 5x20
    g.node('Relu', [g.cur])
    g.node('AveragePool', [g.cur], kernel_shape=[3], strides=[2], pads=[1, 1],
           count_include_pad=1)                                          # -> 5x10
    g.conv(g.cur, 5, 5, [2])                                             # -> 5x9
    g.node('Relu', [g.cur])
    pads = i64(g, 'pad.pads', [0, 0, 1, 0, 0, 1])
    g.node('Pad', [g.cur, pads], mode='constant')                        # -> 5x11 (exporter style)
    g.node('AveragePool', [g.cur], kernel_shape=[3], strides=[2], ceil_mode=1)  # -> 5x5
    g.node('AveragePool', [g.cur], kernel_shape=[2], strides=[2], ceil_mode=1,
           count_include_pad=0)                                          # -> 5x3, last window partial
    g.node('Flatten', [g.cur], axis=1)
    g.gemm(g.cur, 15, 3, out='logits', gain=2.0)
    x = g.rng.standard_normal(g.in_shape).astype(np.float32)
    return g.build(3), x, ('AveragePool variants (Norm rule): Conv1d(3->5, k3, p1) -> ReLU -> '
                           'AvgPool(k3, s2, pads [1,1], count_include_pad=1) -> Conv1d(5->5, k2) -> ReLU -> '
                           'Pad(zeros [1,1]) -> AvgPool(k3, s2, ceil_mode=1) -> AvgPool(k2, s2, ceil_mode=1, '
                           'count_include_pad=0; last window partial, divisor 1) -> Flatten -> Gemm(15->3)')


def case_mlp_matmul(seed):
    g = G(seed, [1, 10])
    for nin, nout, last in ((10, 16, False), (16, 8, False), (8, 4, True)):
        w = g.weights([nin, nout], nin)
        g.node('MatMul', [g.cur, g.init(f'w{g.k + 1}.weight', w)])
        b = g.bias(nout)
        if last:
            b = b - 1.5  # pushes the logits negative: exposes the sign convention of stab()
        g.node('Add', [g.cur, g.init(f'w{g.k + 1}.bias', b)], out='logits' if last else None)
        if not last:
            g.node('Relu', [g.cur])
    x = g.rng.standard_normal(g.in_shape).astype(np.float32)
    return g.build(4), x, ('dense-only MLP from MatMul + Add(bias) instead of Gemm: 10-16-8-4 with ReLU; '
                           'last bias shifted by -1.5 so logits tend to be negative. Dense-only: epsilon-gamma-box '
                           'has no ZBox layer, Flat composites put Flat on the first MatMul.')


def case_dense_then_conv(seed):
    g = G(seed, [1, 12])
    g.gemm('input', 12, 32)
    g.node('Relu', [g.cur])
    shp = i64(g, 'reshape.shape', [1, 2, 16])
    g.node('Reshape', [g.cur, shp])                                      # -> 2x16
    g.conv(g.cur, 2, 4, [3], pads=[1, 1])                                # first *Conv*
    g.node('Relu', [g.cur])
    g.conv(g.cur, 4, 4, [3], strides=[2], pads=[0, 1])                   # -> 4x8
    g.node('Relu', [g.cur])
    g.node('Flatten', [g.cur], axis=1)
    g.gemm(g.cur, 32, 3, out='logits')
    x = g.rng.standard_normal(g.in_shape).astype(np.float32)
    return g.build(3), x, ('Dense before Conv: Gemm(12->32) -> ReLU -> Reshape(2x16) -> Conv1d(2->4, k3, p1) -> ReLU -> '
                           'Conv1d(4->4, k3, s2, pads [0,1]) -> ReLU -> Flatten -> Gemm(32->3). The first layer is '
                           'Dense: Flat composites put Flat on it; epsilon-gamma-box puts ZBox on the first Conv '
                           '(whose input is the reshaped hidden layer) and Epsilon on the first Gemm.')


def case_zero_preact_bnpass(seed):
    """Pre-activations that are exactly 0 (dyadic weights and inputs: exact in float32 whatever the
    summation order) under a BatchNormalization whose shift keeps the unit active. With BN Pass
    the Conv below sees z == 0 with non-zero relevance: Epsilon must use sgn(0) = +1 and Gamma
    must pass nothing for that output."""
    g = G(seed, [1, 2, 8])
    r = g.rng
    q = lambda shape, step, lim: (r.integers(-lim, lim + 1, shape) * step).astype(np.float32)  # noqa: E731
    x = q(g.in_shape, 0.5, 4)                     # multiples of 1/2 in [-2, 2]
    w1, b1 = q([3, 2, 3], 0.125, 8), q([3], 0.125, 4)
    w2 = q([4, 3, 3], 0.125, 8)
    g.node('Conv', ['input', g.init('c1.weight', w1), g.init('c1.bias', b1)], kernel_shape=[3],
           pads=[1, 1], strides=[1], dilations=[1], group=1)
    g.node('Relu', [g.cur])
    # choose the conv2 bias so that one position per channel has z == 0 exactly
    xm = np.asarray(x, dtype=np.float64)
    geo = lrpref.ConvGeom([8], [3], [1], [1, 1], [1], 1)
    h1 = np.maximum(lrpref.conv_forward(xm, w1.astype(np.float64), b1.astype(np.float64), geo), 0)
    z2 = lrpref.conv_forward(h1, w2.astype(np.float64), None, geo)[0]
    b2 = np.zeros(4, dtype=np.float32)
    for c in range(4):
        t = int(np.argmax(np.abs(z2[c])))           # a position with non-zero inputs
        b2[c] = np.float32(-z2[c, t])
        assert float(b2[c]) == -z2[c, t]            # exact
    g.node('Conv', [g.cur, g.init('c2.weight', w2), g.init('c2.bias', b2)], kernel_shape=[3],
           pads=[1, 1], strides=[1], dilations=[1], group=1)
    ins = [g.cur, g.init('bn.weight', r.uniform(0.5, 1.5, 4)), g.init('bn.bias', r.uniform(0.2, 0.5, 4)),
           g.init('bn.running_mean', np.zeros(4)), g.init('bn.running_var', r.uniform(0.5, 2.0, 4))]
    g.node('BatchNormalization', ins, epsilon=1e-5, momentum=0.9)
    g.node('Relu', [g.cur])
    g.node('Flatten', [g.cur], axis=1)
    g.gemm(g.cur, 32, 3, out='logits')
    return g.build(3), x, ('sgn(0) probe: Conv1d(2->3, k3, p1) -> ReLU -> Conv1d(3->4, k3, p1) -> BatchNormalization -> '
                           'ReLU -> Flatten -> Gemm(32->3), with inputs in multiples of 1/2 and conv weights in '
                           'multiples of 1/8, so every conv output is exact in float32; the second conv\'s bias makes '
                           'one output per channel exactly 0 while the BN shift (> 0) keeps it active. In the '
                           '__bnpass maps that z == 0 output carries relevance: Epsilon divides by +eps (sgn(0) = +1; '
                           'epsilon__bnpass is dominated by these 1e6-scale terms on purpose) and Gamma passes nothing.')


CASES = [
    ('conv2d_dil_maxpool', case_conv2d_dil_maxpool),
    ('conv3d_avgpool', case_conv3d_avgpool),
    ('grouped_conv1d', case_grouped_conv1d),
    ('conv_bn_keep', case_conv_bn_keep),
    ('residual_add', case_residual_add),
    ('maxpool_ceil_ties', case_maxpool_ceil_ties),
    ('avgpool_pad_ceil', case_avgpool_pad_ceil),
    ('mlp_matmul', case_mlp_matmul),
    ('dense_then_conv', case_dense_then_conv),
    ('zero_preact_bnpass', case_zero_preact_bnpass),
]


# --------------------------------------------------------------------------------------------
# writing one case
# --------------------------------------------------------------------------------------------


def jsonable(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, list):
        return [jsonable(t) for t in v]
    return v


def write_f32(path, arr):
    a = np.ascontiguousarray(np.asarray(arr, dtype='<f4'))
    a.tofile(path)
    return hashlib.sha256(a.tobytes()).hexdigest()


def check_shapes(model, trace):
    """onnx shape inference must agree with every tensor lrpref computed (independent check of
    the conv / pool output-size arithmetic, incl. ceil_mode)."""
    inf = shape_inference.infer_shapes(model)
    known = {}
    for vi in list(inf.graph.value_info) + list(inf.graph.output):
        dims = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        known[vi.name] = dims
    for name, val in trace.vals.items():
        if name in known and list(val.shape) != known[name]:
            raise AssertionError(f'shape of {name}: lrpref {val.shape} vs onnx {known[name]}')


def stats(r):
    return {'sum': float(r.sum()), 'sum_pos': float(r[r > 0].sum()), 'sum_neg': float(r[r < 0].sum()),
            'abs_max': float(np.abs(r).max()), 'l2': float(np.linalg.norm(r))}


def nondegenerate(model, x):
    """Logit spread and active units: reject seeds that give flat or dead networks."""
    tr = lrpref.Trace(lrpref.Model(model), x.astype(np.float64))
    lg = np.sort(tr.logits)[::-1]
    if lg[0] - lg[1] < 0.05 * max(1.0, np.abs(lg).max()) or np.abs(lg[0]) < 1e-3:
        return False
    for n in tr.model.nodes:
        if n['op'] == 'Relu':
            v = tr.vals[n['outputs'][0]]
            if np.mean(v > 0) < 0.15:
                return False
    return True


def make_case(out_root, name, fn, base_seed):
    for attempt in range(50):
        seed = base_seed + attempt
        model, x, desc = fn(seed)
        if nondegenerate(model, x):
            break
    else:
        raise RuntimeError(f'{name}: no non-degenerate seed')
    d = os.path.join(out_root, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    onnx.save(model, os.path.join(d, 'model.onnx'))
    M = lrpref.Model(os.path.join(d, 'model.onnx'))
    x64 = x.astype(np.float64)
    tr = lrpref.Trace(M, x64)
    check_shapes(model, tr)
    logits = tr.logits
    cls = int(np.argmax(logits))
    srt = np.sort(logits)[::-1]
    low, high = lrpref.zbox_bounds(x64)

    in_sha = write_f32(os.path.join(d, 'input.f32'), x)
    lg_sha = write_f32(os.path.join(d, 'logits.f32'), logits)
    json.dump({'shape': list(x.shape), 'dtype': 'float32', 'byte_order': 'little',
               'layout': 'C-order (NC...)', 'file': 'input.f32'},
              open(os.path.join(d, 'input.json'), 'w'), indent=1)

    has_bn = any(n['op'] == 'BatchNormalization' for n in M.nodes)
    has_conv = any(n['op'] == 'Conv' for n in M.nodes)
    methods = ['epsilon_plus_flat', 'epsilon_gamma_box', 'epsilon_alpha2_beta1', 'epsilon_plus',
               'epsilon', 'epsilon_0p25', 'gradient', 'gradient_x_input']
    if has_conv:
        methods.insert(3, 'epsilon_alpha2_beta1_flat')
    keys = [(m, 'fold') for m in methods]
    if has_bn:
        keys += [(m, 'pass') for m in methods if not m.startswith('gradient')]
    rels = {}
    for method, bn in keys:
        key = method + ('__bnpass' if bn == 'pass' else '')
        r, rtr, c2, rules = lrpref.explain(M, x64, method, cls=cls, bn=bn, low=low, high=high)
        assert c2 == cls
        assert np.all(np.isfinite(r))
        fname = f'relevance_{key}.f32'
        sha = write_f32(os.path.join(d, fname), r)
        info = {'file': fname, 'shape': list(x.shape), 'sha256': sha, 'method': METHOD_DESC[method]}
        if rules is not None:
            info['bn_handling'] = ('BN folded into the preceding Conv/Gemm (W\' = W*g/sqrt(v+eps), '
                                   'b\' = (b-mu)*g/sqrt(v+eps) + beta), then identity' if bn == 'fold' else
                                   'BN kept as a node with the Pass rule; the layer before it uses its own weights')
            info['rules_per_layer'] = [{'node': M.nodes[i]['name'], 'op_type': M.nodes[i]['op'],
                                        'rule': lrpref.rule_name(rules[i])} for i in rtr.layer_order]
        info['relevance_stats'] = stats(r)
        info['output_relevance_sum'] = 1.0
        rels[key] = info

    nodes = [{'name': n.name, 'op_type': n.op_type, 'inputs': list(n.input), 'outputs': list(n.output),
              'attrs': {a.name: jsonable(helper.get_attribute_value(a)) for a in n.attribute}}
             for n in model.graph.node]
    meta = {
        'case': name,
        'description': desc,
        'generator': {
            'script': 'tests/data/lrpref/make_cases.py',
            'reference': 'tests/data/lrpref/lrpref.py: independent float64 NumPy implementation of '
                         'the README section LRP conventions, validated against the shipped Zennit 0.5.1 cases',
            'seed': seed, 'seed_attempts': attempt + 1,
            'numpy': np.__version__, 'onnx': onnx.__version__,
            'weights': 'float32, He-normal N(0, 2/fan_in) (some heads x2 gain), biases N(0, 0.1^2); BN '
                       'weight~U(.5,1.5), bias~U(-.3,.3), mean~U(-.5,.5), var~U(.5,2), eps=1e-5',
        },
        'input': {'file': 'input.f32', 'shape': list(x.shape), 'dtype': 'float32 little-endian, C-order',
                  'min': float(x.min()), 'max': float(x.max())},
        'logits': {'file': 'logits.f32', 'values_fp32': [float(np.float32(v)) for v in logits],
                   'values_fp64': [float(v) for v in logits],
                   'note': 'logits.f32 = the float64 forward pass of lrpref rounded to float32 (no PyTorch '
                           'here); a float32 engine matches to ~1e-6 relative'},
        'explained_class': cls,
        'explained_logit': float(logits[cls]),
        'top1_top2_margin': float(srt[0] - srt[1]),
        'output_relevance_init': {'kind': 'one-hot',
                                  'desc': f'R_out = one_hot(class={cls}), 1.0 at the argmax logit; '
                                          'no softmax, not multiplied by the logit'},
        'conventions': {
            'epsilon': 1e-6, 'epsilon_0p25_composite_epsilon': 0.25, 'stabilizer': 1e-6, 'gamma': 0.25,
            'zbox_low': low, 'zbox_high': high,
            'zbox_bounds_desc': 'scalar bounds broadcast over the input of the first Conv: low = '
                                'floor(min(x)) - 0.25, high = ceil(max(x)) + 0.5 with x the network input',
            'stabilizer_desc': 'z + eps*sgn(z), sgn(0) = +1, on the full denominator including the bias',
            'reference_precision': 'relevance_*.f32 = lrpref float64 result rounded to float32',
            'bn_folding': 'exact fold as in the LRP conventions (top-level README) (Zennit 0.5.1 additionally leaves its merged BN '
                          'scaling by 1/sqrt(1+eps); that changes maps by < 1e-6 rel L2 and is not emulated)',
        },
        'onnx': {'file': 'model.onnx', 'opset_import': [{'domain': '', 'version': OPSET}],
                 'ir_version': model.ir_version, 'producer': model.producer_name,
                 'ops_graph_order': [n.op_type for n in model.graph.node], 'nodes': nodes},
        'files': {'input': {'file': 'input.f32', 'shape': list(x.shape), 'dtype': 'float32-le', 'sha256': in_sha},
                  'logits': {'file': 'logits.f32', 'shape': [1, len(logits)], 'dtype': 'float32-le',
                             'sha256': lg_sha}},
        'relevances': rels,
    }
    json.dump(meta, open(os.path.join(d, 'meta.json'), 'w'), indent=1)
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print(f'{name:22s} class {cls} logits {np.array2string(logits, precision=3)} '
          f'margin {srt[0] - srt[1]:.3f}  {len(rels)} maps  {size / 1024:.1f} KB')
    return size


def main(argv):
    out_root = argv[1] if len(argv) > 1 else os.path.join(HERE, 'cases')
    ref_root = os.path.join(os.environ.get('XAI_SHARED_DIR', '/work/shared'), 'reference', 'cnn')
    if os.path.isdir(ref_root):
        worst = 0.0
        for c in sorted(os.listdir(ref_root)):
            if os.path.exists(os.path.join(ref_root, c, 'meta.json')):
                res = lrpref.validate_case(os.path.join(ref_root, c), verbose=False)
                worst = max(worst, max(v[0] for k, v in res.items() if k != 'logits'))
        print(f'lrpref vs shipped Zennit cases: worst rel L2 {worst:.2e}')
        if worst >= 1e-6:
            print('lrpref does not match the shipped cases; not writing')
            return 1
    else:
        print(f'({ref_root} absent: skipping validation)')
    os.makedirs(out_root, exist_ok=True)
    total = 0
    for k, (name, fn) in enumerate(CASES):
        total += make_case(out_root, name, fn, 1000 * (k + 1))
    print(f'total {total / 1024:.1f} KB')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
