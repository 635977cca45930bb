#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make the bundled example: EEG-like epochs with a planted ground truth and a small CNN.

    /usr/bin/python3 datasets/example/make_example.py datasets/example

Data: 8 channels x 128 samples at 128 Hz, unit-variance noise. Class 1 epochs carry a
10 Hz burst on channels 2 and 3 between samples 40 and 80 (the planted ground truth);
class 0 epochs carry none. input.npy stacks 4 epochs (classes 1, 0, 1, 0) as [4, 1, 8, 128].

Model (model.onnx, opset 13): Conv1d(8 -> 4, k=25, pad 12) whose filters are 10 Hz sine and
cosine templates (both signs) on channels 2 and 3 only, ReLU, GlobalAveragePool, Gemm to two
logits. The weights are set analytically as a matched filter, not trained: until the suite's
own trainer lands this keeps the example free of any Python framework. A correct explanation
of class 1 puts its relevance on channels 2-3 during samples 40-80; truth.npy is that mask.
Needs python3-numpy and python3-onnx (Debian).
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

FS, C, T = 128, 8, 128


def epoch(rng, cls):
    x = rng.standard_normal((C, T)).astype(np.float32)
    if cls == 1:
        t = np.arange(40, 80)
        burst = 4.0 * np.sin(2 * np.pi * 10 * t / FS + rng.uniform(0, 2 * np.pi)) * np.hanning(40)
        x[2, 40:80] += burst
        x[3, 40:80] += 0.8 * burst
    return x


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    rng = np.random.default_rng(7)
    xs = np.stack([epoch(rng, c)[None] for c in (1, 0, 1, 0)]).astype(np.float32)
    np.save(os.path.join(out, "input.npy"), xs)
    truth = np.zeros((1, C, T), np.float32)
    truth[0, 2:4, 40:80] = 1
    np.save(os.path.join(out, "truth.npy"), truth)

    k = np.arange(25) - 12
    s, c = np.sin(2 * np.pi * 10 * k / FS) * np.hanning(25), np.cos(2 * np.pi * 10 * k / FS) * np.hanning(25)
    W = np.zeros((4, C, 25), np.float32)
    for i, tmpl in enumerate((s, -s, c, -c)):
        W[i, 2] = tmpl / 4
        W[i, 3] = 0.8 * tmpl / 4
    b = np.full(4, -1.0, np.float32)
    G = np.array([[-1, -1, -1, -1], [1, 1, 1, 1]], np.float32) * 4.0
    gb = np.array([2.0, -2.0], np.float32)
    nodes = [helper.make_node("Conv", ["input", "W", "b"], ["c"], kernel_shape=[25], pads=[12, 12], name="conv"),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("GlobalAveragePool", ["r"], ["p"], name="gap"),
             helper.make_node("Flatten", ["p"], ["f"], axis=1, name="flatten"),
             helper.make_node("Gemm", ["f", "G", "gb"], ["logits"], transB=1, name="dense")]
    g = helper.make_graph(nodes, "example-burst-detector",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, C, T])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 2])],
                          initializer=[numpy_helper.from_array(a, n) for a, n in
                                       ((W, "W"), (b, "b"), (G, "G"), (gb, "gb"))])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="libxai-datasets")
    m.ir_version = 7
    m.metadata_props.add(key="class_names", value='["rest", "burst"]')
    m.metadata_props.add(key="input_layout", value="[N][1][C=8][T=128], 128 Hz")
    with open(os.path.join(out, "model.onnx"), "wb") as f:
        f.write(m.SerializeToString())


if __name__ == "__main__":
    main()
