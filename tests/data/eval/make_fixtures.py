#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generate the ONNX fixture of tests/test-eval.c (region perturbation / AOPC).

    /usr/bin/python3 tests/data/eval/make_fixtures.py tests/data/eval

linear.onnx   a purely linear model: input [1, 2, 3, 4] -> Flatten -> Gemm -> logits [1, 2].
              logit c = sum_j W[c, j] x_j + b[c] with W[c, j] = ((7 j + 5 c + 3) mod 13 - 6) / 8
              (j = flat index of the 24 input values) and b = [0.5, -0.25]. Every weight is a
              multiple of 1/8, so it is exact in float32, and the test recomputes W from this
              formula to know the AOPC of each ordering analytically.
Needs python3-onnx and python3-numpy (Debian).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def weights():
    w = np.zeros((2, 24), dtype=np.float32)
    for c in range(2):
        for j in range(24):
            w[c, j] = ((7 * j + 5 * c + 3) % 13 - 6) / 8.0
    return w


def main(out):
    os.makedirs(out, exist_ok=True)
    nodes = [helper.make_node("Flatten", ["input"], ["f"], axis=1),
             helper.make_node("Gemm", ["f", "W", "b"], ["logits"], transB=1)]
    inits = [numpy_helper.from_array(weights(), "W"),
             numpy_helper.from_array(np.array([0.5, -0.25], dtype=np.float32), "b")]
    g = helper.make_graph(nodes, "linear",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 2, 3, 4])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 2])],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="libxai-tests")
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, "linear.onnx"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
