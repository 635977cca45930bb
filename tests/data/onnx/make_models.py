#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generate the small ONNX fixtures of tests/test-onnx.c and tests/test-grad.c.

    /usr/bin/python3 tests/data/onnx/make_models.py tests/data/onnx

ops/*.onnx    one tiny model per operator family (float32, seeded weights), used for the
              finite-difference gradient checks and forward sanity checks;
bad/*.onnx    malformed files that must fail to load with a clear error: truncated, wrong
              tensor data size, negative and huge dims, a cycle, a missing initializer, an
              unknown op, an unsupported attribute value, an opset outside 11-18, a Range
              without its start;
conserve/*.onnx  bias-free and biased MLP/CNN for the conservation tests;
symbolic/*.onnx  a Conv1d net whose time axis is symbolic, loaded with the input's shape;
prune/yeom.onnx  two 1x1 Conv1d layers and a dense output with hand-set weights, on which
              tests/test-prune.c recomputes the LRP pruning criterion by hand;
prune/yeom-bias.onnx  the same with conv biases of both signs (the bias-free z+ by hand).
Needs python3-onnx and python3-numpy (Debian).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(20261126)
OPSET = 13


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def iinit(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.int64), name)


def model(nodes, inits, in_shape, out_shape, opset=OPSET, name="m"):
    g = helper.make_graph(nodes, name,
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, out_shape)],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="libxai-tests")
    m.ir_version = 7
    return m


def w(*shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def save(m, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(m.SerializeToString())


def head(prev, feat, ncls=3, tag="h"):
    """Flatten + Gemm to ncls logits."""
    return ([helper.make_node("Flatten", [prev], [tag + "_f"], axis=1),
             helper.make_node("Gemm", [tag + "_f", tag + "_W", tag + "_b"], ["logits"], transB=1)],
            [init(tag + "_W", w(ncls, feat, scale=0.3)), init(tag + "_b", w(ncls, scale=0.1))])


def ops_models(out):
    # conv 1-D, stride/pad/dilation, tanh
    n = [helper.make_node("Conv", ["input", "W1", "b1"], ["c1"], kernel_shape=[3], strides=[2], pads=[1, 2],
                          dilations=[2]),
         helper.make_node("Tanh", ["c1"], ["a1"])]
    hn, hi = head("a1", 4 * 5)
    save(model(n + hn, [init("W1", w(4, 2, 3)), init("b1", w(4))] + hi, [1, 2, 11], [1, 3]), f"{out}/ops/conv1d.onnx")
    # conv 2-D grouped, auto_pad SAME_UPPER, sigmoid
    n = [helper.make_node("Conv", ["input", "W1", "b1"], ["c1"], kernel_shape=[3, 2], auto_pad="SAME_UPPER",
                          group=2, strides=[1, 2]),
         helper.make_node("Sigmoid", ["c1"], ["a1"])]
    hn, hi = head("a1", 4 * 5 * 3)
    save(model(n + hn, [init("W1", w(4, 1, 3, 2)), init("b1", w(4))] + hi, [1, 2, 5, 6], [1, 3]), f"{out}/ops/conv2d.onnx")
    # conv 3-D + elu + average pool (count_include_pad, pads)
    n = [helper.make_node("Conv", ["input", "W1"], ["c1"], kernel_shape=[2, 2, 2], pads=[1, 0, 0, 0, 1, 1]),
         helper.make_node("Elu", ["c1"], ["a1"], alpha=0.7),
         helper.make_node("AveragePool", ["a1"], ["p1"], kernel_shape=[2, 2, 2], strides=[1, 2, 1], pads=[0, 1, 0, 1, 0, 1],
                          count_include_pad=1, ceil_mode=1)]
    # shape: input [1,2,4,4,3] -> conv [1,3,4,4,3]... computed by onnx shape inference below
    m = model(n, [init("W1", w(3, 2, 2, 2, 2))], [1, 2, 4, 4, 3], None)
    inferred = onnx.shape_inference.infer_shapes(m)
    ps = [d.dim_value for d in inferred.graph.value_info[-1].type.tensor_type.shape.dim]
    hn, hi = head("p1", int(np.prod(ps[1:])))
    save(model(n + hn, [init("W1", w(3, 2, 2, 2, 2))] + hi, [1, 2, 4, 4, 3], [1, 3]), f"{out}/ops/conv3d_avgpool.onnx")
    # maxpool 2-D ceil_mode overlapping + leakyrelu + global average pool
    n = [helper.make_node("Conv", ["input", "W1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
         helper.make_node("LeakyRelu", ["c1"], ["a1"], alpha=0.1),
         helper.make_node("MaxPool", ["a1"], ["p1"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
         helper.make_node("GlobalAveragePool", ["p1"], ["g1"])]
    hn, hi = head("g1", 4)
    save(model(n + hn, [init("W1", w(4, 1, 3, 3)), init("b1", w(4))] + hi, [1, 1, 6, 7], [1, 3]), f"{out}/ops/pool2d.onnx")
    # BN + residual add + mul/sub/div with broadcasting
    n = [helper.make_node("Conv", ["input", "W1", "b1"], ["c1"], kernel_shape=[3], pads=[1, 1]),
         helper.make_node("BatchNormalization", ["c1", "g", "be", "mu", "var"], ["bn1"], epsilon=1e-3),
         helper.make_node("Tanh", ["bn1"], ["a1"]),
         helper.make_node("Conv", ["a1", "W2"], ["c2"], kernel_shape=[1]),
         helper.make_node("Add", ["a1", "c2"], ["r1"]),
         helper.make_node("Mul", ["r1", "s"], ["m1"]),
         helper.make_node("Sub", ["m1", "t"], ["m2"]),
         helper.make_node("Div", ["m2", "d"], ["m3"])]
    hn, hi = head("m3", 3 * 6)
    inits = [init("W1", w(3, 2, 3)), init("b1", w(3)), init("g", rng.uniform(0.5, 1.5, 3)), init("be", w(3)),
             init("mu", w(3)), init("var", rng.uniform(0.5, 2, 3)), init("W2", w(3, 3, 1)),
             init("s", w(3, 1)), init("t", w(6)), init("d", rng.uniform(1, 2, (1, 3, 1)))]
    save(model(n + hn, inits + hi, [1, 2, 6], [1, 3]), f"{out}/ops/bn_residual_arith.onnx")
    # data movement: Reshape, Transpose, Slice, Gather, Pad, Concat, Squeeze/Unsqueeze, Identity, Dropout,
    # and a shape subgraph (Shape -> Gather -> Unsqueeze -> Concat) that must fold
    n = [helper.make_node("Transpose", ["input"], ["t1"], perm=[0, 2, 1]),
         helper.make_node("Pad", ["t1", "pads", "pv"], ["p1"], mode="constant"),
         helper.make_node("Slice", ["p1", "st", "en", "ax", "sp"], ["s1"]),
         helper.make_node("Gather", ["s1", "gi"], ["g1"], axis=2),
         helper.make_node("Unsqueeze", ["g1", "uax"], ["u1"]),
         helper.make_node("Squeeze", ["u1", "uax"], ["q1"]),
         helper.make_node("Identity", ["q1"], ["i1"]),
         helper.make_node("Dropout", ["i1"], ["d1"]),
         helper.make_node("Concat", ["d1", "i1"], ["cc"], axis=1),
         helper.make_node("Shape", ["cc"], ["shp"]),
         helper.make_node("Gather", ["shp", "zero"], ["bdim"], axis=0),
         helper.make_node("Unsqueeze", ["bdim", "uax0"], ["bdim1"]),
         helper.make_node("Concat", ["bdim1", "minus1"], ["newshape"], axis=0),
         helper.make_node("Reshape", ["cc", "newshape"], ["flat"]),
         helper.make_node("Tanh", ["flat"], ["a1"])]
    inits = [iinit("pads", [0, 1, 0, 0, 0, 1]), init("pv", [0.25]), iinit("st", [0, -100]),
             iinit("en", [np.iinfo(np.int64).max, 3]), iinit("ax", [1, 2]), iinit("sp", [2, 1]),
             iinit("gi", [2, 0, -1]), iinit("uax", [1]), iinit("zero", 0), iinit("uax0", [0]),
             iinit("minus1", [-1])]
    # input [1,3,5] -> t1 [1,5,3] -> pad [1,6,4] -> slice axis1 step2 [1,3,4], axis2 [:3] -> [1,3,3]
    # -> gather axis2 [2,0,2] -> [1,3,3] -> concat axis1 -> [1,6,3] -> reshape [1,18]
    n2 = [helper.make_node("Gemm", ["a1", "hW", "hb"], ["logits"], transB=1)]
    save(model(n + n2, inits + [init("hW", w(3, 18)), init("hb", w(3))], [1, 3, 5], [1, 3]), f"{out}/ops/movement.onnx")
    # MatMul + Add bias, Gemm with transB=0, alpha, beta, Softmax at the output
    n = [helper.make_node("MatMul", ["input", "M1"], ["mm"]),
         helper.make_node("Add", ["mm", "mb"], ["ma"]),
         helper.make_node("Tanh", ["ma"], ["a1"]),
         helper.make_node("Gemm", ["a1", "G", "gc"], ["z"], alpha=0.5, beta=2.0),
         helper.make_node("Softmax", ["z"], ["logits"], axis=1)]
    save(model(n, [init("M1", w(5, 4)), init("mb", w(4)), init("G", w(4, 3)), init("gc", w(1, 3))], [1, 5], [1, 3]),
         f"{out}/ops/dense_softmax.onnx")


def bn_first_model(out):
    # a BatchNormalization that no Conv/Dense precedes (input normalisation): not foldable
    n = [helper.make_node("BatchNormalization", ["input", "g", "be", "mu", "var"], ["bn"], epsilon=1e-5),
         helper.make_node("Flatten", ["bn"], ["f"], axis=1),
         helper.make_node("Gemm", ["f", "W", "b"], ["logits"], transB=1)]
    inits = [init("g", rng.uniform(0.5, 2.0, 3)), init("be", w(3)), init("mu", w(3)), init("var", rng.uniform(0.5, 2, 3)),
             init("W", w(3, 12)), init("b", w(3))]
    save(model(n, inits, [1, 3, 4], [1, 3]), f"{out}/ops/bn_first.onnx")


def conserve_models(out):
    for bias in (0, 1):
        n = [helper.make_node("Conv", ["input", "W1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["a1"]),
             helper.make_node("AveragePool", ["a1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Conv", ["p1", "W2", "b2"], ["c2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c2"], ["a2"]),
             helper.make_node("MaxPool", ["a2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Flatten", ["p2"], ["f"], axis=1),
             helper.make_node("Gemm", ["f", "W3", "b3"], ["h"], transB=1),
             helper.make_node("Relu", ["h"], ["a3"]),
             helper.make_node("Gemm", ["a3", "W4", "b4"], ["logits"], transB=1)]
        k = 0.2 if bias else 0.0
        inits = [init("W1", w(4, 2, 3, 3)), init("b1", w(4) * k), init("W2", w(6, 4, 3, 3)), init("b2", w(6) * k),
                 init("W3", w(8, 6 * 2 * 2)), init("b3", w(8) * k), init("W4", w(3, 8)), init("b4", w(3) * k)]
        save(model(n, inits, [1, 2, 8, 8], [1, 3]), f"{out}/conserve/cnn_bias{bias}.onnx")
    x = rng.standard_normal((1, 2, 8, 8)).astype(np.float32)
    np.asarray(x).tofile(f"{out}/conserve/input.f32")


def bad_models(out):
    good = model([helper.make_node("Gemm", ["input", "W", "b"], ["logits"], transB=1)],
                 [init("W", w(3, 4)), init("b", w(3))], [1, 4], [1, 3])
    save(good, f"{out}/bad/good.onnx")
    raw = good.SerializeToString()
    with open(f"{out}/bad/truncated.onnx", "wb") as f:
        f.write(raw[: len(raw) * 2 // 3])
    with open(f"{out}/bad/empty.onnx", "wb") as f:
        pass
    with open(f"{out}/bad/garbage.onnx", "wb") as f:
        f.write(bytes(range(256)) * 3)
    m = onnx.ModelProto()
    m.CopyFrom(good)
    m.graph.initializer[0].raw_data = m.graph.initializer[0].raw_data[:-4]
    save(m, f"{out}/bad/wrong_data_size.onnx")
    m = onnx.ModelProto()
    m.CopyFrom(good)
    m.graph.initializer[0].dims[0] = -3
    save(m, f"{out}/bad/negative_dim.onnx")
    m = onnx.ModelProto()
    m.CopyFrom(good)
    m.graph.initializer[0].dims[:] = [1 << 40, 1 << 30]
    save(m, f"{out}/bad/huge_dim.onnx")
    n = [helper.make_node("Relu", ["input", ], ["a"]), helper.make_node("Add", ["a", "c"], ["b"]),
         helper.make_node("Relu", ["b"], ["c"]), helper.make_node("Gemm", ["c", "W", "bb"], ["logits"], transB=1)]
    save(model(n, [init("W", w(3, 4)), init("bb", w(3))], [1, 4], [1, 3]), f"{out}/bad/cycle.onnx")
    save(model([helper.make_node("Gemm", ["input", "W", "b"], ["logits"], transB=1)], [init("W", w(3, 4))], [1, 4],
               [1, 3]), f"{out}/bad/missing_initializer.onnx")
    save(model([helper.make_node("Gemm", ["input", "W", "b"], ["g"], transB=1),
                helper.make_node("HardSwish", ["g"], ["logits"], name="mystery")],
               [init("W", w(3, 4)), init("b", w(3))], [1, 4], [1, 3], opset=14), f"{out}/bad/unknown_op.onnx")
    save(model([helper.make_node("Reshape", ["input", "s"], ["r"]),
                helper.make_node("Conv", ["r", "W"], ["c"], kernel_shape=[2], name="padconv", auto_pad="SAME_MIDDLE"),
                helper.make_node("Flatten", ["c"], ["logits"])],
               [iinit("s", [1, 1, 4]), init("W", w(1, 1, 2))], [1, 4], [1, 4]), f"{out}/bad/bad_attribute.onnx")
    save(model([helper.make_node("Gemm", ["input", "W", "b"], ["logits"], transB=1)],
               [init("W", w(3, 4)), init("b", w(3))], [1, 4], [1, 3], opset=9), f"{out}/bad/old_opset.onnx")


def symbolic_model(out):
    # its own generator, so that adding it left the other fixtures unchanged
    r = np.random.default_rng(37)
    n = [helper.make_node("Conv", ["input", "W", "b"], ["c"], kernel_shape=[3], pads=[1, 1]),
         helper.make_node("Relu", ["c"], ["r"]), helper.make_node("GlobalAveragePool", ["r"], ["p"]),
         helper.make_node("Flatten", ["p"], ["f"]), helper.make_node("Gemm", ["f", "G", "gb"], ["logits"], transB=1)]
    inits = [init(k, r.standard_normal(s) * 0.5) for k, s in (("W", (4, 2, 3)), ("b", (4,)), ("G", (3, 4)), ("gb", (3,)))]
    save(model(n, inits, ["batch", 2, "time"], ["batch", 3]), f"{out}/symbolic/conv1d_time.onnx")


def range_no_start_model(out):
    # a Range whose start is the empty name: folding must refuse it, not read a missing input
    n = [helper.make_node("Range", ["", "lim", "delta"], ["r"], name="norange"),
         helper.make_node("Add", ["input", "r"], ["logits"])]
    save(model(n, [init("lim", 4.0), init("delta", 1.0)], [1, 4], [1, 4]), f"{out}/bad/range_no_start.onnx")


def prune_model(out, bias=False):
    # hand-set weights (no generator): conv1 has weights of both signs, so z+ differs from
    # the plain rule, and the output weights of conv1's filters change sign between positions;
    # yeom-bias.onnx has conv biases of both signs, where the bias-free z+ differs from z+
    n = [helper.make_node("Conv", ["input", "W0", "b0"], ["c0"], kernel_shape=[1], name="conv0"),
         helper.make_node("Relu", ["c0"], ["r0"], name="relu0"),
         helper.make_node("Conv", ["r0", "W1", "b1"], ["c1"], kernel_shape=[1], name="conv1"),
         helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
         helper.make_node("Flatten", ["r1"], ["f"], axis=1, name="flatten"),
         helper.make_node("Gemm", ["f", "W2", "b2"], ["logits"], transB=1, name="dense")]
    inits = [init("W0", [[[1.0], [0.5]], [[-0.5], [1.0]]]), init("b0", [0.25, -0.5] if bias else [0, 0]),
             init("W1", [[[1.0], [-1.0]], [[0.5], [2.0]]]), init("b1", [0.5, -0.25] if bias else [0, 0]),
             init("W2", [[1.0, -1.0, 0.5, 0.25], [-0.5, 1.0, 1.0, -1.0]]), init("b2", [0.1, -0.2])]
    save(model(n, inits, [1, 2, 2], [1, 2]), f"{out}/prune/yeom{'-bias' if bias else ''}.onnx")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    ops_models(out)
    conserve_models(out)
    bad_models(out)
    bn_first_model(out)
    symbolic_model(out)
    range_no_start_model(out)
    prune_model(out)
    prune_model(out, bias=True)


if __name__ == "__main__":
    main()
