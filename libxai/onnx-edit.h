/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * onnx-edit.h - what the writers of ONNX bytes (export.c: weights, metadata, BN folding,
 * opset; prune.c: channels removed or zeroed) share: the model's ONNX message with its
 * current weights, and small helpers over tensors, initializers and attributes.
 * Private to libxai.
 */
#ifndef XAI_ONNX_EDIT_H
#define XAI_ONNX_EDIT_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"
#include "xai/status.h"
#include "xai/train.h"

/* The model's ONNX message with its current weights and metadata, BN folded unless
 * opts->keep_bn; free with onnx__model_proto__free_unpacked(). */
xai_status xai_export_proto(const xai_model *m, const xai_export_options *opts, Onnx__ModelProto **out);
/* Elements of a tensor from its dims; -1 when negative or overflowing. */
int64_t xai_onnx_numel(const Onnx__TensorProto *t);
/* Replace a float tensor's data with n floats (raw_data, little-endian); 0 or -1. */
int xai_onnx_set_floats(Onnx__TensorProto *t, const float *x, int64_t n);
/* malloc'ed copy of a float32 tensor's values, or NULL (not float32, inconsistent, no memory). */
float *xai_onnx_floats(const Onnx__TensorProto *t, int64_t *n);
/* 1 when node @p n is the default-domain operator @p op. */
int xai_onnx_op_is(const Onnx__NodeProto *n, const char *op);
/* The initializer called @p name (its index in *idx when idx is not NULL), or NULL. */
Onnx__TensorProto *xai_onnx_init(const Onnx__GraphProto *g, const char *name, size_t *idx);
/* An integer attribute of a node, or @p def. */
int64_t xai_onnx_attr_i(const Onnx__NodeProto *n, const char *name, int64_t def);

#endif /* XAI_ONNX_EDIT_H */
