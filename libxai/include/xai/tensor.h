/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tensor.h - shapes of float32 N-D arrays. libxai passes tensors as plain float
 * pointers: contiguous, row-major, shape outermost first (NCHW, NCDHW, (N, C, T) for
 * sequences), with the shape given by the model (xai_model_input_shape()).
 */
#ifndef XAI_TENSOR_H
#define XAI_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XAI_MAX_DIMS 8
/** Write "[d0, d1, ...]" into @p buf (always NUL-terminated); returns @p buf. */
XAI_API char *xai_shape_str(int ndim, const int64_t *shape, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* XAI_TENSOR_H */
