#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generate the CNN+LSTM and exporter-pattern LSTM fixtures of tests/test-lstm.c.

    /usr/bin/python3 tests/data/lstm/make_cnn_lstm.py [OUT_DIR]     (default: next to this file)

1. cnn_lstm_uni/, cnn_lstm_bidi/: DeepLight-style models (Thomas et al. 2019) written the way
   torch.onnx.export writes them: a 2-D CNN per axial slice with the slices as the CNN batch
   axis, input [S=6,1,8,8] -> Conv 3x3 (pad 1) + Relu + MaxPool 2 + Conv 3x3 (pad 1, stride 2)
   + Relu + Flatten -> [S,F] -> Unsqueeze(axes=[1]) -> LSTM (forward / bidirectional; zero
   initial states from Shape -> Gather -> Unsqueeze -> Concat -> Expand) -> Y_h ->
   Transpose [1,0,2] -> Reshape [1,ndir*H] -> Gemm -> logits [1,K].
   cnn_lstm_bidi_view/: the same with a volume input [1,S,1,8,8] reshaped to the slices, the
   torch x.view(x.size(0),-1) pattern (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) instead of
   Flatten, and the head on out[-1] (Y -> Transpose -> Reshape [0,0,-1] -> Gather -1).
2. lstm_patterns/: a bidirectional LSTM whose outputs go through the other exporter patterns:
   Squeeze of Y, Gather with negative indices, Slice with an INT64_MAX end, Reshape of Y
   [seq,ndir,batch,H], Concat of the Y_h directions, Transpose + Reshape of Y_c; the Expand-ed
   zero initial states are taken from the Shape of the input.

Files per folder: model.onnx; x.f32 (input, raw float32, model input shape); logits.f32
(float64 forward); KEY.r0.f32 / KEY.r1.f32 (input relevance for bias factor 0 / 1);
KEY.init1.f64 (relevance reaching the constant initial states, bias factor 1); grad.f32
([K, input size]: d logit_k / d input by central differences, h = 1e-6, of the float64
forward). KEY:
  eps3   composite epsilon with eps 1e-3 everywhere (the LSTM reference's conventions, the
         LSTM command of the README: --composite epsilon --epsilon 1e-3 --lstm-epsilon 1e-3)
  eps6   composite epsilon with eps 1e-6 on the CNN, 1e-3 on the LSTM and the head
  epf    composite epsilon-plus-flat (Flat on the first Conv, ZPlus on the second), LSTM and
         head eps 1e-3: the defaults of xai-explain
  egb    composite epsilon-gamma-box (ZBox(-4,4) on the first Conv, Gamma(0.25) on the second)
All start from the logit of the argmax class (cfg.init AUTO for LSTM models). The head after
the LSTM takes Epsilon(1e-3) with the bias factor; the CNN layers with the Epsilon rule take
the bias factor too (N = in-bounds taps feeding the output, Cin*k*k minus padded ones).

References, all float64: the CNN part per slice by ../lrpref/lrpref.py (an independent
implementation validated against Zennit) on a batch-1 copy of the CNN, with the Epsilon rule
extended by Arras et al.'s bias factor below; the LSTM by the LRP-all of make_lstm_models.py
(lstm_dir, lstm_lrp_dir, lrp_linear, imported); the head by lrp_linear. Needs python3-numpy,
python3-onnx (Debian).
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lrpref"))
import lrpref  # noqa: E402
import make_lstm_models as mlm  # noqa: E402

LSTM_EPS = mlm.EPS  # 1e-3, used by mlm.lrp_linear
assert LSTM_EPS == 1e-3
INT64_MAX = 9223372036854775807


def f32(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def i64(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.int64), name)


def save(nodes, inits, in_shape, out_shape, path=None, opset=13):
    g = helper.make_graph(nodes, "cnn_lstm_test",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, out_shape)],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="libxai-tests")
    m.ir_version = 7
    if path:
        with open(path, "wb") as f:
            f.write(m.SerializeToString())
    return m


# ---------------------------------------------------------------- Epsilon with bias factor for lrpref

def rule_epsilon_beta(op, x, R, eps, beta):
    """Arras et al.: R_i = sum_j [w_ji x_i + beta (b_j + eps sgn z_j) / N_j] R_j / stab(z_j), N_j the
    number of in-bounds inputs of output j (Flat's count), the bias share spread evenly over them."""
    z = op.f(x, op.w, op.b)
    s = R / lrpref.stab(z, eps)
    r = x * op.vjp(s, op.w)
    if beta:
        ones_w = np.ones_like(op.w)
        cnt = op.f(np.ones_like(x), ones_w, None)
        bb = op.b.reshape((1, -1) + (1,) * (z.ndim - 2))
        share = beta * (bb + eps * np.where(z >= 0, 1.0, -1.0)) * s
        r = r + op.vjp(np.where(cnt > 0, share / np.where(cnt > 0, cnt, 1.0), 0.0), ones_w)
    return r


_apply_rule = lrpref.apply_rule


def apply_rule(rule, op, x, R):
    if rule[0] == "epsilon_beta":
        return rule_epsilon_beta(op, x, R, rule[1], rule[2])
    return _apply_rule(rule, op, x, R)


lrpref.apply_rule = apply_rule  # Trace.backward looks the name up in its module

COMPOSITES = {  # key -> (lrpref composite, CNN epsilon)
    "eps3": ("epsilon", 1e-3),
    "eps6": ("epsilon", 1e-6),
    "epf": ("epsilon-plus-flat", 1e-6),
    "egb": ("epsilon-gamma-box", 1e-6),
}
ZBOX_LOW, ZBOX_HIGH = -4.0, 4.0  # given bounds (libxai's default would be the min/max of x)


def cnn_rules(tr, key, beta):
    comp, eps = COMPOSITES[key]
    rules = lrpref.composite_rules(tr, comp, eps=eps, low=ZBOX_LOW, high=ZBOX_HIGH)
    for i, r in rules.items():
        if r[0] == "epsilon":
            rules[i] = ("epsilon_beta", r[1], beta)
    return rules


# ---------------------------------------------------------------- LSTM pieces

def zero_state_nodes(src, ndir, H, tag):
    """torch.onnx.export's zero initial state: Expand(0, Concat([ndir], Unsqueeze(Shape(src)[1]), [H]))."""
    p = tag + "_"
    nodes = [helper.make_node("Shape", [src], [p + "shape"]),
             helper.make_node("Gather", [p + "shape", p + "one"], [p + "batch"], axis=0),
             helper.make_node("Unsqueeze", [p + "batch", p + "ax0"], [p + "batch1"]),
             helper.make_node("Concat", [p + "ndir", p + "batch1", p + "hid"], [p + "sshape"], axis=0),
             helper.make_node("Expand", [p + "zero", p + "sshape"], [p + "state"])]
    inits = [i64(p + "one", 1), i64(p + "ax0", [0]), i64(p + "ndir", [ndir]), i64(p + "hid", [H]),
             f32(p + "zero", np.zeros((1, 1, H)))]
    return nodes, inits, p + "state"


def lstm_params(rng, ndir, D, H):
    W = (rng.standard_normal((ndir, 4 * H, D)) * 0.5).astype(np.float32)
    R = (rng.standard_normal((ndir, 4 * H, H)) * 0.5).astype(np.float32)
    B = (rng.standard_normal((ndir, 8 * H)) * 0.3).astype(np.float32)
    return W, R, B


def lstm_forward(x, W, R, B, rev_of):
    """x [T,D] float64, batch 1, zero initial states. Returns per-direction runs and Y [T,ndir,H],
    Y_h, Y_c [ndir,H]."""
    T = x.shape[0]
    ndir, H = W.shape[0], R.shape[2]
    bias = (B[:, :4 * H] + B[:, 4 * H:]).astype(np.float64)
    runs, Y, Yh, Yc = [], np.zeros((T, ndir, H)), np.zeros((ndir, H)), np.zeros((ndir, H))
    for d in range(ndir):
        recs, hT, cT, order = mlm.lstm_dir(x, W[d].astype(np.float64), R[d].astype(np.float64), bias[d],
                                           np.zeros(H), np.zeros(H), T, rev_of(d))
        runs.append((recs, order))
        for t in order:
            Y[t, d] = recs[t]["h"]
        Yh[d], Yc[d] = hT, cT
    return runs, Y, Yh, Yc, bias


def lstm_backward(x, W, R, bias, runs, RY, RYh, RYc, beta):
    """LRP-all through every direction; returns (relevance of x [T,D], relevance of the initial states)."""
    H = R.shape[2]
    Rx, init = np.zeros_like(x), 0.0
    for d, (recs, order) in enumerate(runs):
        Rxd, rh0, rc0 = mlm.lstm_lrp_dir(x, recs, order, W[d, 3 * H:].astype(np.float64),
                                         R[d, 3 * H:].astype(np.float64), bias[d, 3 * H:], RY[:, d], RYh[d],
                                         RYc[d], beta)
        Rx += Rxd
        init += rh0.sum() + rc0.sum()
    return Rx, init


# ---------------------------------------------------------------- 1. CNN + LSTM

S, HW, C1, C2, K = 6, 8, 4, 4, 3
F = C2 * 2 * 2


class CnnLstm:
    """view=True: the graph of a module that takes a volume [1,S,1,8,8], x.view(-1,1,8,8) before
    the CNN, f.view(f.size(0),-1) after it (Shape -> Gather -> Unsqueeze -> Concat -> Reshape),
    and explains out[-1] (Y -> Transpose [0,2,1,3] -> Reshape [0,0,-1] -> Gather -1) instead of Y_h."""

    def __init__(self, name, direction, H, seed, view=False):
        rng = np.random.default_rng(seed)
        self.name, self.direction, self.H, self.view = name, direction, H, view
        self.ndir = 2 if direction == "bidirectional" else 1
        self.w1 = (rng.standard_normal((C1, 1, 3, 3)) * 0.5).astype(np.float32)
        self.b1 = (rng.standard_normal(C1) * 0.2).astype(np.float32)
        self.w2 = (rng.standard_normal((C2, C1, 3, 3)) * 0.3).astype(np.float32)
        self.b2 = (rng.standard_normal(C2) * 0.2).astype(np.float32)
        self.W, self.R, self.B = lstm_params(rng, self.ndir, F, H)
        self.Wh = (rng.standard_normal((K, self.ndir * H)) * 0.8).astype(np.float32)
        self.bh = (rng.standard_normal(K) * 0.2).astype(np.float32)
        self.x = rng.standard_normal(((1,) if view else ()) + (S, 1, HW, HW)).astype(np.float32)

    def cnn_nodes(self, out, src="input", view=False):
        nodes = [helper.make_node("Conv", [src, "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                 helper.make_node("Relu", ["c1"], ["r1"]),
                 helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
                 helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                  strides=[2, 2]),
                 helper.make_node("Relu", ["c2"], ["r2"])]
        inits = [f32("w1", self.w1), f32("b1", self.b1), f32("w2", self.w2), f32("b2", self.b2)]
        if view:
            nodes += [helper.make_node("Shape", ["r2"], ["r2_shape"]),
                      helper.make_node("Gather", ["r2_shape", "v_i0"], ["r2_n"], axis=0),
                      helper.make_node("Unsqueeze", ["r2_n", "v_ax0"], ["r2_n1"]),
                      helper.make_node("Concat", ["r2_n1", "v_m1"], ["r2_to"], axis=0),
                      helper.make_node("Reshape", ["r2", "r2_to"], [out])]
            inits += [i64("v_i0", 0), i64("v_ax0", [0]), i64("v_m1", [-1])]
        else:
            nodes.append(helper.make_node("Flatten", ["r2"], [out], axis=1))
        return nodes, inits

    def build(self, path):
        nodes, inits = [], []
        if self.view:
            nodes.append(helper.make_node("Reshape", ["input", "slices"], ["vol"]))
            inits.append(i64("slices", [-1, 1, HW, HW]))
        n2, i2 = self.cnn_nodes("feat", "vol" if self.view else "input", self.view)
        nodes += n2
        inits += i2
        nodes.append(helper.make_node("Unsqueeze", ["feat", "ax1"], ["seq"]))
        inits.append(i64("ax1", [1]))
        hn, hi, h0 = zero_state_nodes("seq", self.ndir, self.H, "h0")
        cn, ci, c0 = zero_state_nodes("seq", self.ndir, self.H, "c0")
        nodes += hn + cn
        inits += hi + ci
        nodes.append(helper.make_node("LSTM", ["seq", "W", "R", "B", "", h0, c0], ["Y", "Y_h", "Y_c"],
                                      hidden_size=self.H, direction=self.direction))
        inits += [f32("W", self.W), f32("R", self.R), f32("B", self.B)]
        if self.view:
            nodes += [helper.make_node("Transpose", ["Y"], ["YT"], perm=[0, 2, 1, 3]),
                      helper.make_node("Reshape", ["YT", "keep2"], ["out"]),
                      helper.make_node("Gather", ["out", "im1"], ["hcat"], axis=0)]
            inits += [i64("keep2", [0, 0, -1]), i64("im1", -1)]
        else:
            nodes += [helper.make_node("Transpose", ["Y_h"], ["hT"], perm=[1, 0, 2]),
                      helper.make_node("Reshape", ["hT", "flat"], ["hcat"])]
            inits.append(i64("flat", [1, self.ndir * self.H]))
        nodes.append(helper.make_node("Gemm", ["hcat", "Wh", "bh"], ["logits"], transB=1))
        inits += [f32("Wh", self.Wh), f32("bh", self.bh)]
        save(nodes, inits, list(self.x.shape), [1, K], path)

    def cnn_model(self):
        nodes, inits = self.cnn_nodes("logits")  # lrpref's output = the slice's features
        return lrpref.Model(save(nodes, inits, [1, 1, HW, HW], [1, F]))

    def forward(self, x):
        """float64 logits for an input of the model's shape"""
        cm = self.cnn_model()
        xs = x.reshape(S, 1, HW, HW)
        feat = np.stack([lrpref.Trace(cm, xs[s:s + 1]).logits for s in range(S)])
        _, Y, Yh, _, _ = lstm_forward(feat, self.W, self.R, self.B, lambda d: d == 1)
        return self.Wh.astype(np.float64) @ (Y[-1] if self.view else Yh).reshape(-1) + self.bh

    def run(self, key, beta):
        cm = self.cnn_model()
        xs = self.x.reshape(S, 1, HW, HW).astype(np.float64)
        traces = [lrpref.Trace(cm, xs[s:s + 1]) for s in range(S)]
        feat = np.stack([t.logits for t in traces])  # [S, F]
        runs, Y, Yh, Yc, bias = lstm_forward(feat, self.W, self.R, self.B, lambda d: d == 1)
        # Y_h [ndir,1,H] -> Transpose [1,0,2] -> [1, ndir*H], or out[-1] = Y[S-1] (the reverse
        # direction's first step): direction-major either way
        hcat = (Y[-1] if self.view else Yh).reshape(-1)
        Wh, bh = self.Wh.astype(np.float64), self.bh.astype(np.float64)
        logits = Wh @ hcat + bh
        k = int(np.argmax(logits))
        Rout = np.zeros(K)
        Rout[k] = logits[k]
        Rh = mlm.lrp_linear(hcat, Wh.T, bh, logits, Rout, hcat.size, beta)
        RY, RYh = np.zeros_like(Y), np.zeros_like(Yh)
        (RY[-1] if self.view else RYh)[...] = Rh.reshape(Yh.shape)
        Rfeat, init = lstm_backward(feat, self.W, self.R, bias, runs, RY, RYh, np.zeros_like(Yc), beta)
        Rx = np.zeros(xs.shape)
        for s, tr in enumerate(traces):
            r, _ = tr.backward(Rfeat[s].reshape(1, F), rules=cnn_rules(tr, key, beta))
            Rx[s] = r[0]
        return logits, Rx.reshape(self.x.shape), init


# ---------------------------------------------------------------- 2. exporter patterns

PT, PD, PH, PC = 5, 3, 4, 3


class Patterns:
    name = "lstm_patterns"

    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.W, self.R, self.B = lstm_params(rng, 2, PD, PH)
        self.nfeat = 2 * PH + 2 * 2 * PH + PT * PH + 2 * PH
        self.Wh = (rng.standard_normal((PC, self.nfeat)) * 0.5).astype(np.float32)
        self.bh = (rng.standard_normal(PC) * 0.2).astype(np.float32)
        self.x = rng.standard_normal((PT, 1, PD)).astype(np.float32)

    def build(self, path):
        hn, hi, h0 = zero_state_nodes("input", 2, PH, "h0")
        cn, ci, c0 = zero_state_nodes("input", 2, PH, "c0")
        nodes, inits = hn + cn, hi + ci
        nodes.append(helper.make_node("LSTM", ["input", "W", "R", "B", "", h0, c0], ["Y", "Y_h", "Y_c"],
                                      hidden_size=PH, direction="bidirectional"))
        inits += [f32("W", self.W), f32("R", self.R), f32("B", self.B)]
        nodes += [
            # Concat of the final states: Y_h[0] and Y_h[-1] (Gather, negative index) along features
            helper.make_node("Gather", ["Y_h", "i0"], ["hf"], axis=0),
            helper.make_node("Gather", ["Y_h", "im1"], ["hb"], axis=0),
            helper.make_node("Concat", ["hf", "hb"], ["f_h"], axis=1),
            # Reshape of Y [seq,ndir,batch,H] -> [seq, ndir*H]; last two steps by Slice to INT64_MAX
            helper.make_node("Reshape", ["Y", "seqflat"], ["Ys"]),
            helper.make_node("Slice", ["Ys", "sl_st", "sl_en", "sl_ax"], ["Ylast"]),
            helper.make_node("Reshape", ["Ylast", "flat"], ["f_y"]),
            # Squeeze of Y (batch axis), then the reverse direction by Gather(axis 1, index -1)
            helper.make_node("Squeeze", ["Y", "ax2"], ["Yq"]),
            helper.make_node("Gather", ["Yq", "im1"], ["Yb"], axis=1),
            helper.make_node("Reshape", ["Yb", "flat"], ["f_b"]),
            # Y_c [ndir,batch,H] -> Transpose -> [batch, ndir*H]
            helper.make_node("Transpose", ["Y_c"], ["cT"], perm=[1, 0, 2]),
            helper.make_node("Reshape", ["cT", "flat"], ["f_c"]),
            helper.make_node("Concat", ["f_h", "f_y", "f_b", "f_c"], ["feat"], axis=1),
            helper.make_node("Gemm", ["feat", "Wh", "bh"], ["logits"], transB=1)]
        inits += [i64("i0", 0), i64("im1", -1), i64("seqflat", [PT, -1]), i64("sl_st", [-2]),
                  i64("sl_en", [INT64_MAX]), i64("sl_ax", [0]), i64("flat", [1, -1]), i64("ax2", [2]),
                  f32("Wh", self.Wh), f32("bh", self.bh)]
        save(nodes, inits, [PT, 1, PD], [1, PC], path)

    @staticmethod
    def head(Y, Yh, Yc):
        """The graph above in numpy on Y [T,2,1,H], Y_h, Y_c [2,1,H]; works on index arrays too."""
        f_h = np.concatenate([Yh[0], Yh[-1]], axis=1)
        f_y = Y.reshape(PT, -1)[-2:].reshape(1, -1)
        f_b = np.take(Y.squeeze(2), -1, axis=1).reshape(1, -1)
        f_c = Yc.transpose(1, 0, 2).reshape(1, -1)
        return np.concatenate([f_h, f_y, f_b, f_c], axis=1).reshape(-1)

    def forward(self, x):
        _, Y, Yh, Yc, _ = lstm_forward(x[:, 0], self.W, self.R, self.B, lambda d: d == 1)
        feat = self.head(Y[:, :, None, :], Yh[:, None, :], Yc[:, None, :])
        return self.Wh.astype(np.float64) @ feat + self.bh

    def run(self, key, beta):
        assert key == "lstm"
        x = self.x[:, 0].astype(np.float64)
        runs, Y, Yh, Yc, bias = lstm_forward(x, self.W, self.R, self.B, lambda d: d == 1)
        Y4, Yh3, Yc3 = Y[:, :, None, :], Yh[:, None, :], Yc[:, None, :]
        feat = self.head(Y4, Yh3, Yc3)
        nY, nh = Y.size, Yh.size
        idx = np.arange(nY + 2 * nh)
        fidx = self.head(idx[:nY].reshape(Y4.shape), idx[nY:nY + nh].reshape(Yh3.shape),
                         idx[nY + nh:].reshape(Yc3.shape))
        assert feat.size == self.nfeat and np.array_equal(feat, np.concatenate(
            [Y.reshape(-1), Yh.reshape(-1), Yc.reshape(-1)])[fidx])
        Wh, bh = self.Wh.astype(np.float64), self.bh.astype(np.float64)
        logits = Wh @ feat + bh
        k = int(np.argmax(logits))
        Rout = np.zeros(PC)
        Rout[k] = logits[k]
        Rf = mlm.lrp_linear(feat, Wh.T, bh, logits, Rout, feat.size, beta)
        Rv = np.zeros(idx.size)
        np.add.at(Rv, fidx, Rf)  # plain-gradient routing back through the shape ops, fan-out summed
        Rx, init = lstm_backward(x, self.W, self.R, bias, runs, Rv[:nY].reshape(Y.shape),
                                 Rv[nY:nY + nh].reshape(Yh.shape), Rv[nY + nh:].reshape(Yc.shape), beta)
        return logits, Rx.reshape(self.x.shape), init


def fd_gradient(c, h=1e-6):
    """d logit_k / dx for every class k by central differences of the float64 forward, [K, nin]"""
    x0 = c.x.astype(np.float64).reshape(-1)
    g = []
    for i in range(x0.size):
        xp, xm = x0.copy(), x0.copy()
        xp[i] += h
        xm[i] -= h
        g.append((c.forward(xp.reshape(c.x.shape)) - c.forward(xm.reshape(c.x.shape))) / (2 * h))
    return np.array(g).T


def write(c, out, keys):
    d = os.path.join(out, c.name)
    os.makedirs(d, exist_ok=True)
    c.build(os.path.join(d, "model.onnx"))
    c.x.astype("<f4").tofile(os.path.join(d, "x.f32"))
    fd_gradient(c).astype("<f4").tofile(os.path.join(d, "grad.f32"))
    for key in keys:
        lg, r0, _ = c.run(key, 0.0)
        _, r1, init1 = c.run(key, 1.0)
        lg.astype("<f4").tofile(os.path.join(d, "logits.f32"))
        r0.astype("<f4").tofile(os.path.join(d, key + ".r0.f32"))
        r1.astype("<f4").tofile(os.path.join(d, key + ".r1.f32"))
        np.array([init1], "<f8").tofile(os.path.join(d, key + ".init1.f64"))
        k = int(np.argmax(lg))
        print("%s %s: logits %s, beta=1: sum R %.9g + initial states %.9g = %.9g (logit %.9g)" %
              (c.name, key, np.array2string(lg, precision=5), r1.sum(), init1, r1.sum() + init1, lg[k]))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    for c in (CnnLstm("cnn_lstm_uni", "forward", 5, 11), CnnLstm("cnn_lstm_bidi", "bidirectional", 4, 12),
              CnnLstm("cnn_lstm_bidi_view", "bidirectional", 4, 16, view=True)):
        write(c, out, COMPOSITES)
    write(Patterns(13), out, ["lstm"])


if __name__ == "__main__":
    main()
