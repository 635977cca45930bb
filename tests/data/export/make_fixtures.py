#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generate the export test fixture (run with Debian's python3-onnx and numpy).

opset11_bn.onnx: an opset-11 graph that exercises BN folding and opset raising:
  Conv (no bias) -> BN -> Relu -> Unsqueeze(axes attr) -> Squeeze(axes attr) -> Dropout(ratio attr)
  -> Flatten -> Gemm(transB=0, beta=0.5, C) -> BN -> Tanh -> Gemm(transB=1, no C) -> BN = logits
The first BN's parameters are also listed as graph inputs (the pre-IR-4 convention).
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)


def t(name, a):
    return numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)


def bn_params(prefix, c):
    return [t(prefix + '.scale', rng.uniform(0.5, 1.5, c)), t(prefix + '.bias', rng.normal(0, 0.3, c)),
            t(prefix + '.mean', rng.normal(0, 0.3, c)), t(prefix + '.var', rng.uniform(0.5, 2.0, c))]


inits = [t('conv.W', rng.normal(0, 0.4, (4, 2, 3)))]
bn1 = bn_params('bn1', 4)
inits += bn1
inits += [t('fc1.W', rng.normal(0, 0.3, (24, 5))), t('fc1.C', rng.normal(0, 0.3, 5))]
inits += bn_params('bn2', 5)
inits += [t('fc2.W', rng.normal(0, 0.4, (3, 5)))]
inits += bn_params('bn3', 3)

nodes = [
    helper.make_node('Conv', ['x', 'conv.W'], ['c1'], name='conv', kernel_shape=[3], pads=[1, 1]),
    helper.make_node('BatchNormalization', ['c1', 'bn1.scale', 'bn1.bias', 'bn1.mean', 'bn1.var'], ['b1'],
                     name='bn1', epsilon=1e-3),
    helper.make_node('Relu', ['b1'], ['r1'], name='relu'),
    helper.make_node('Unsqueeze', ['r1'], ['u1'], name='unsq', axes=[2]),
    helper.make_node('Squeeze', ['u1'], ['s1'], name='sq', axes=[2]),
    helper.make_node('Dropout', ['s1'], ['d1'], name='drop', ratio=0.3),
    helper.make_node('Flatten', ['d1'], ['f1'], name='flat', axis=1),
    helper.make_node('Gemm', ['f1', 'fc1.W', 'fc1.C'], ['g1'], name='fc1', beta=0.5),
    helper.make_node('BatchNormalization', ['g1', 'bn2.scale', 'bn2.bias', 'bn2.mean', 'bn2.var'], ['b2'],
                     name='bn2'),
    helper.make_node('Tanh', ['b2'], ['t2'], name='tanh'),
    helper.make_node('Gemm', ['t2', 'fc2.W'], ['g2'], name='fc2', transB=1),
    helper.make_node('BatchNormalization', ['g2', 'bn3.scale', 'bn3.bias', 'bn3.mean', 'bn3.var'], ['logits'],
                     name='bn3'),
]
inputs = [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 2, 6])]
inputs += [helper.make_tensor_value_info(p.name, TensorProto.FLOAT, [4]) for p in bn1]
graph = helper.make_graph(nodes, 'opset11_bn', inputs,
                          [helper.make_tensor_value_info('logits', TensorProto.FLOAT, [1, 3])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 11)], producer_name='make_fixtures.py')
model.ir_version = 6
onnx.checker.check_model(model)
onnx.save(model, 'opset11_bn.onnx')
