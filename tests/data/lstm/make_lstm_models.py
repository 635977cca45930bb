#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generate the small LSTM fixtures of tests/test-lstm.c.

    /usr/bin/python3 tests/data/lstm/make_lstm_models.py tests/data/lstm

CASE.onnx        a tiny ONNX LSTM followed by Reshape/Concat of Y, Y_h, Y_c and a Gemm head;
CASE.x.f32       an input (raw float32, the model input's shape);
CASE.logits.f32  float64 forward of the model (numpy, written below from the ONNX spec);
CASE.r0.f32, CASE.r1.f32
                 Arras et al. LRP-all relevance of the input, bias factor 0 and 1, eps 1e-3
                 everywhere, start = logit of the argmax class (README, "LRP conventions"), computed
                 by the plain float64 loops below (lrp_linear with explicit matrices);
CASE.init1.f64   relevance reaching constant/absent initial states with bias factor 1.
bad_*.onnx       malformed LSTM nodes that must be rejected at load time.

Cases: forward/layout 0 with constant initial states; reverse/layout 1 with sequence_lens;
bidirectional/layout 0 with sequence_lens and an initial_h computed from the input;
bidirectional/layout 1 without optional inputs.
Needs python3-onnx and python3-numpy (Debian).
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(3)
EPS = 1e-3
T, B, D, H, C = 5, 2, 3, 4, 3


def f32(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def i64(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.int64), name)


def w(*shape, scale=0.6):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def save_model(nodes, inits, in_shape, path):
    g = helper.make_graph(nodes, "lstm_test",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, C])],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)], producer_name="libxai-tests")
    m.ir_version = 7
    with open(path, "wb") as f:
        f.write(m.SerializeToString())


# ---------------------------------------------------------------- float64 reference

def sgm(z):
    return 1.0 / (1.0 + np.exp(-z))


def sgn(z):
    return np.where(z >= 0, 1.0, -1.0)


def lrp_linear(hin, Wm, b, hout, Rout, N, beta):
    """Arras et al.: Wm is [in, out]; hout the full forward value."""
    s = sgn(hout)
    numer = Wm * hin[:, None] + beta * (b[None, :] + EPS * s[None, :]) / N
    return ((numer / (hout + EPS * s)[None, :]) * Rout[None, :]).sum(axis=1)


def lstm_dir(x, Wd, Rd, bd, h0, c0, L, rev):
    """x [T,D] for one batch element; returns per-time records (None where invalid)."""
    T, H = x.shape[0], Rd.shape[1]
    recs = [None] * T
    h, c = h0.copy(), c0.copy()
    order = range(L - 1, -1, -1) if rev else range(L)
    for t in order:
        z = Wd @ x[t] + Rd @ h + bd
        i, o, f = sgm(z[:H]), sgm(z[H:2 * H]), sgm(z[2 * H:3 * H])
        a = z[3 * H:]
        g = np.tanh(a)
        cn = f * c + i * g
        hn = o * np.tanh(cn)
        recs[t] = dict(i=i, o=o, f=f, g=g, a=a, c=cn, h=hn, hp=h, cp=c)
        h, c = hn, cn
    return recs, h, c, list(order)


def lstm_lrp_dir(x, recs, order, Wc, Rc, bc, RYd, RYh, RYc, beta):
    """LRP-all backward of one direction of one batch element (README, "LRP conventions").
    x [T,D]; recs, order from lstm_dir; Wc [H,D], Rc [H,H], bc [H] the cell-input rows;
    RYd [T,H] relevance at Y (input time), RYh, RYc [H] at Y_h and Y_c.
    Returns (relevance of x [T,D], of the initial h [H], of the initial c [H])."""
    T, D = x.shape
    H = Rc.shape[0]
    rh, rc = RYh.copy(), RYc.copy()
    Rxb = np.zeros((T, D))
    for t in reversed(order):
        r = recs[t]
        rh = rh + RYd[t]
        rct = rc + rh
        rc = lrp_linear(r["f"] * r["cp"], np.eye(H), np.zeros(H), r["c"], rct, 2 * H, beta)
        rg = lrp_linear(r["i"] * r["g"], np.eye(H), np.zeros(H), r["c"], rct, 2 * H, beta)
        Rxb[t] = lrp_linear(x[t], Wc.T, bc, r["a"], rg, D + H, beta)
        rh = lrp_linear(r["hp"], Rc.T, bc, r["a"], rg, D + H, beta)
    return Rxb, rh, rc


class Case:
    def __init__(self, name, direction, layout, lens, init, yh, yc):
        self.name, self.direction, self.layout = name, direction, layout
        self.lens = lens            # None or list of B ints
        self.init = init            # "none", "const" or "act" (initial_h from the input, initial_c constant)
        self.yh, self.yc = yh, yc
        self.ndir = 2 if direction == "bidirectional" else 1
        nd = self.ndir
        self.W, self.R = w(nd, 4 * H, D), w(nd, 4 * H, H)
        self.Bb = w(nd, 8 * H, scale=0.3)
        self.h0c = w(nd, B, H, scale=0.5) if init == "const" else np.zeros((nd, B, H), np.float32)
        self.c0c = w(nd, B, H, scale=0.5) if init in ("const", "act") else np.zeros((nd, B, H), np.float32)
        self.Wi = w(T * B * D, nd * B * H, scale=0.2)  # initial_h = reshape(flatten(x) @ Wi)
        self.x = w(*(self.xshape()), scale=1.0)
        nfeat = T * nd * B * H + (nd * B * H if yh else 0) + (nd * B * H if yc else 0)
        self.Wh, self.bh = w(C, nfeat, scale=0.4), w(C, scale=0.2)

    def xshape(self):
        return [T, B, D] if self.layout == 0 else [B, T, D]

    def sshape(self):
        return [self.ndir, B, H] if self.layout == 0 else [B, self.ndir, H]

    def to_state(self, s):  # [ndir,B,H] -> layout
        return s if self.layout == 0 else s.transpose(1, 0, 2)

    # -- ONNX graph
    def build(self, path):
        nodes, inits = [], [f32("W", self.W), f32("R", self.R), f32("Bias", self.Bb)]
        lin = ["input", "W", "R", "Bias", "", "", ""]
        if self.lens is not None:
            inits.append(i64("lens", self.lens))
            lin[4] = "lens"
        if self.init == "const":
            inits += [f32("h0", self.to_state(self.h0c)), f32("c0", self.to_state(self.c0c))]
            lin[5], lin[6] = "h0", "c0"
        elif self.init == "act":
            inits += [f32("Wi", self.Wi), i64("flat", [1, -1]), i64("sshape", self.sshape()),
                      f32("c0", self.to_state(self.c0c))]
            nodes += [helper.make_node("Reshape", ["input", "flat"], ["xflat"]),
                      helper.make_node("MatMul", ["xflat", "Wi"], ["h0flat"]),
                      helper.make_node("Reshape", ["h0flat", "sshape"], ["h0"])]
            lin[5], lin[6] = "h0", "c0"
        while lin and lin[-1] == "":
            lin.pop()
        outs = ["Y", "Y_h" if self.yh else "", "Y_c" if self.yc else ""]
        while outs[-1] == "":
            outs.pop()
        nodes.append(helper.make_node("LSTM", lin, outs, hidden_size=H, direction=self.direction,
                                      layout=self.layout))
        inits.append(i64("flat2", [1, -1]))
        cat = []
        for o in outs:
            if o:
                nodes.append(helper.make_node("Reshape", [o, "flat2"], [o + "_f"]))
                cat.append(o + "_f")
        nodes.append(helper.make_node("Concat", cat, ["feat"], axis=1))
        nodes.append(helper.make_node("Gemm", ["feat", "Wh", "bh"], ["logits"], transB=1))
        inits += [f32("Wh", self.Wh), f32("bh", self.bh)]
        save_model(nodes, inits, self.xshape(), path)

    # -- float64 forward + LRP
    def xt(self, x, b):  # [T, D] of batch element b
        return x[:, b, :] if self.layout == 0 else x[b]

    def run(self, beta):
        x = self.x.astype(np.float64)
        W, R = self.W.astype(np.float64), self.R.astype(np.float64)
        bias = (self.Bb[:, :4 * H] + self.Bb[:, 4 * H:]).astype(np.float64)
        if self.init == "act":
            xf = x.reshape(-1)
            h0 = (xf @ self.Wi.astype(np.float64)).reshape(self.sshape())
            h0 = h0 if self.layout == 0 else h0.transpose(1, 0, 2)
        else:
            h0 = self.h0c.astype(np.float64)
        c0 = self.c0c.astype(np.float64)
        lens = self.lens if self.lens is not None else [T] * B
        Y = np.zeros((T, self.ndir, B, H))
        Yh = np.zeros((self.ndir, B, H))
        Yc = np.zeros((self.ndir, B, H))
        runs = {}
        for d in range(self.ndir):
            rev = self.direction == "reverse" or d == 1
            for b in range(B):
                recs, hT, cT, order = lstm_dir(self.xt(x, b), W[d], R[d], bias[d], h0[d, b], c0[d, b], lens[b], rev)
                runs[d, b] = (recs, order)
                for t in order:
                    Y[t, d, b] = recs[t]["h"]
                Yh[d, b], Yc[d, b] = hT, cT
        lay = (lambda a: a) if self.layout == 0 else (lambda a: a.transpose(2, 0, 1, 3))
        lays = (lambda a: a) if self.layout == 0 else (lambda a: a.transpose(1, 0, 2))
        feats = [lay(Y).reshape(-1)]
        if self.yh:
            feats.append(lays(Yh).reshape(-1))
        if self.yc:
            feats.append(lays(Yc).reshape(-1))
        feat = np.concatenate(feats)
        Wh, bh = self.Wh.astype(np.float64), self.bh.astype(np.float64)
        logits = Wh @ feat + bh
        k = int(np.argmax(logits))
        Rout = np.zeros(C)
        Rout[k] = logits[k]
        Rfeat = lrp_linear(feat, Wh.T, bh, logits, Rout, feat.size, beta)
        n0 = Y.size
        RY = Rfeat[:n0].reshape(lay(Y).shape)
        RY = RY if self.layout == 0 else RY.transpose(1, 2, 0, 3)  # back to [T,ndir,B,H]
        off = n0
        RYh = np.zeros_like(Yh)
        RYc = np.zeros_like(Yc)
        if self.yh:
            RYh = Rfeat[off:off + Yh.size].reshape(lays(Yh).shape)
            RYh = lays(RYh) if self.layout else RYh
            off += Yh.size
        if self.yc:
            RYc = Rfeat[off:off + Yc.size].reshape(lays(Yc).shape)
            RYc = lays(RYc) if self.layout else RYc
        Rx = np.zeros_like(x)
        Rh0 = np.zeros_like(h0)
        Rc0 = np.zeros_like(c0)
        for d in range(self.ndir):
            Wc, Rc, bc = W[d, 3 * H:], R[d, 3 * H:], bias[d, 3 * H:]
            for b in range(B):
                recs, order = runs[d, b]
                Rxb, rh, rc = lstm_lrp_dir(self.xt(x, b), recs, order, Wc, Rc, bc, RY[:, d, b], RYh[d, b],
                                           RYc[d, b], beta)
                if self.layout == 0:
                    Rx[:, b, :] += Rxb
                else:
                    Rx[b] += Rxb
                Rh0[d, b] += rh
                Rc0[d, b] += rc
        init_rel = Rc0.sum()
        if self.init == "act":  # h0 is an activation: its relevance goes on through the MatMul
            h0f = (h0 if self.layout == 0 else h0.transpose(1, 0, 2)).reshape(-1)
            Rh0f = (Rh0 if self.layout == 0 else Rh0.transpose(1, 0, 2)).reshape(-1)
            Rx += lrp_linear(x.reshape(-1), self.Wi.astype(np.float64), np.zeros(h0f.size), h0f, Rh0f, x.size,
                             beta).reshape(x.shape)
        else:
            init_rel += Rh0.sum()
        return logits, Rx, init_rel


CASES = [
    Case("fwd_l0_init", "forward", 0, None, "const", True, True),
    Case("rev_l1_lens", "reverse", 1, [3, 5], "none", True, False),
    Case("bidi_l0_lens_acth0", "bidirectional", 0, [5, 2], "act", True, True),
    Case("bidi_l1", "bidirectional", 1, None, "none", False, False),
]


def bad_models(out):
    W, R, Bb = w(1, 4 * H, D), w(1, 4 * H, H), w(1, 8 * H)

    def one(name, attrs, ins=("input", "W", "R", "Bias"), Wm=W, Rm=R, Bm=Bb, extra=()):
        inits = [f32("W", Wm), f32("R", Rm), f32("Bias", Bm), i64("flat", [1, -1]), f32("Wh", w(C, T * B * H))] + \
            list(extra)
        nodes = [helper.make_node("LSTM", list(ins), ["Y"], **attrs),
                 helper.make_node("Reshape", ["Y", "flat"], ["f"]),
                 helper.make_node("Gemm", ["f", "Wh"], ["logits"], transB=1)]
        save_model(nodes, inits, [T, B, D], os.path.join(out, "bad_%s.onnx" % name))

    one("wshape", dict(hidden_size=H), Wm=w(1, 4 * H, D + 1))
    one("rshape", dict(hidden_size=H), Rm=w(1, 4 * H, H + 1))
    one("bshape", dict(hidden_size=H), Bm=w(1, 4 * H))
    one("hidden", dict(hidden_size=H + 1))
    one("direction", dict(hidden_size=H, direction="sideways"))
    one("clip", dict(hidden_size=H, clip=3.0))
    one("forget", dict(hidden_size=H, input_forget=1))
    one("acts", dict(hidden_size=H, activations=["Relu", "Tanh", "Tanh"]))
    one("peephole", dict(hidden_size=H), ins=("input", "W", "R", "Bias", "", "", "", "P"),
        extra=[f32("P", w(1, 3 * H))])
    one("lens", dict(hidden_size=H), ins=("input", "W", "R", "Bias", "L"), extra=[i64("L", [6, 2])])
    one("ndir", dict(hidden_size=H, direction="bidirectional"))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for c in CASES:
        c.build(os.path.join(out, c.name + ".onnx"))
        c.x.tofile(os.path.join(out, c.name + ".x.f32"))
        lg, r0, _ = c.run(0.0)
        _, r1, init1 = c.run(1.0)
        lg.astype("<f4").tofile(os.path.join(out, c.name + ".logits.f32"))
        r0.astype("<f4").tofile(os.path.join(out, c.name + ".r0.f32"))
        r1.astype("<f4").tofile(os.path.join(out, c.name + ".r1.f32"))
        np.array([init1], "<f8").tofile(os.path.join(out, c.name + ".init1.f64"))
        print(c.name, "logits", lg, "sum r1 + init", r1.sum() + init1, "init", init1)
    bad_models(out)


if __name__ == "__main__":
    main()
