#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""make_bench_models.py - write the large benchmark CNNs for tests/bench/bench-explain.

The models are generated, never committed (they are megabytes). Weights are random but
seeded, so every run writes the same files. Usage (see tests/bench/README.md):

    /usr/bin/python3 tests/bench/make_bench_models.py /tmp/bench-models

writes
  conv2d_64.onnx  1x64x64 image, five 3x3 convs (16-32-64-64-64 channels, two 2x2 max
                  pools), Gemm 4096->128->10; 86 M MAC = 172 MFLOP per sample forward.
  eeg1d_64.onnx   64 channels x 512 samples EEG-like 1-D net: Conv1d k=7 (64->64),
                  k=5 (64->128, stride 2), k=5 (128->128), max pool 2, k=3 (128->128),
                  Gemm 16384->64->4; 53.5 M MAC = 107 MFLOP per sample forward.
Needs numpy and onnx (Debian python3-numpy, python3-onnx).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def he(rng, shape, fan_in):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


class Net:
    def __init__(self, name, seed):
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.inits = []
        self.k = 0
        self.macs = 0

    def fresh(self, base):
        self.k += 1
        return f"{base}{self.k}"

    def const(self, base, arr):
        n = self.fresh(base)
        self.inits.append(numpy_helper.from_array(arr, n))
        return n

    def conv(self, x, cin, cout, kernel, out_spatial, stride=1, pad=None):
        ks = list(kernel)
        fan = cin * int(np.prod(ks))
        w = self.const("W", he(self.rng, [cout, cin] + ks, fan))
        b = self.const("B", (self.rng.standard_normal(cout) * 0.05).astype(np.float32))
        if pad is None:
            pad = [k // 2 for k in ks]
        y = self.fresh("conv")
        self.nodes.append(helper.make_node("Conv", [x, w, b], [y], name=y, kernel_shape=ks,
                                           strides=[stride] * len(ks), pads=pad + pad))
        self.macs += cout * fan * int(np.prod(out_spatial))
        return y

    def relu(self, x):
        y = self.fresh("relu")
        self.nodes.append(helper.make_node("Relu", [x], [y], name=y))
        return y

    def maxpool(self, x, nsp):
        y = self.fresh("pool")
        self.nodes.append(helper.make_node("MaxPool", [x], [y], name=y, kernel_shape=[2] * nsp,
                                           strides=[2] * nsp))
        return y

    def flatten(self, x):
        y = self.fresh("flat")
        self.nodes.append(helper.make_node("Flatten", [x], [y], name=y, axis=1))
        return y

    def gemm(self, x, k, n):
        w = self.const("Wd", he(self.rng, [n, k], k))
        b = self.const("Bd", (self.rng.standard_normal(n) * 0.05).astype(np.float32))
        y = self.fresh("gemm")
        self.nodes.append(helper.make_node("Gemm", [x, w, b], [y], name=y, transB=1))
        self.macs += n * k
        return y

    def save(self, path, in_shape, out, nout, doc):
        g = helper.make_graph(self.nodes, self.name,
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, nout])],
                              initializer=self.inits)
        m = helper.make_model(g, producer_name="libxai make_bench_models.py",
                              opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 8
        m.doc_string = doc
        helper.set_model_props(m, {"bench_macs_per_sample": str(self.macs)})
        onnx.checker.check_model(m)
        onnx.save(m, path)
        print(f"{path}: {self.macs / 1e6:.1f} M MAC, {2 * self.macs / 1e6:.1f} MFLOP per sample")


def conv2d_net(path):
    n = Net("conv2d_64", 101)
    x = n.relu(n.conv("input", 1, 16, [3, 3], [64, 64]))
    x = n.relu(n.conv(x, 16, 32, [3, 3], [64, 64]))
    x = n.maxpool(x, 2)
    x = n.relu(n.conv(x, 32, 64, [3, 3], [32, 32]))
    x = n.relu(n.conv(x, 64, 64, [3, 3], [32, 32]))
    x = n.maxpool(x, 2)
    x = n.relu(n.conv(x, 64, 64, [3, 3], [16, 16]))
    x = n.maxpool(x, 2)
    x = n.flatten(x)
    x = n.relu(n.gemm(x, 64 * 8 * 8, 128))
    x = n.gemm(x, 128, 10)
    n.save(path, [1, 1, 64, 64], x, 10, "benchmark 2-D CNN on 1x64x64, random seeded weights")


def eeg1d_net(path):
    n = Net("eeg1d_64", 202)
    x = n.relu(n.conv("input", 64, 64, [7], [512]))
    x = n.relu(n.conv(x, 64, 128, [5], [256], stride=2))
    x = n.relu(n.conv(x, 128, 128, [5], [256]))
    x = n.maxpool(x, 1)
    x = n.relu(n.conv(x, 128, 128, [3], [128]))
    x = n.flatten(x)
    x = n.relu(n.gemm(x, 128 * 128, 64))
    x = n.gemm(x, 64, 4)
    n.save(path, [1, 64, 512], x, 4, "benchmark EEG-like 1-D CNN on 64x512, random seeded weights")


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: make_bench_models.py OUTDIR\n")
        return 2
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    conv2d_net(os.path.join(out, "conv2d_64.onnx"))
    eeg1d_net(os.path.join(out, "eeg1d_64.onnx"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
