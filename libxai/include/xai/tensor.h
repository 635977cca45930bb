/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tensor.h - float32 N-D tensors: contiguous, row-major, shape outermost first
 * (NCHW, NCDHW, (N, C, T) for sequences). A plain descriptor, like gsl_vector:
 * XAI_TENSOR_OWNS_DATA says whether xai_tensor_free() releases the data.
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
#define XAI_TENSOR_OWNS_DATA 1u

/** A float32 tensor. Views (flags without XAI_TENSOR_OWNS_DATA) borrow their data. */
typedef struct {
    int ndim;                      /**< number of dimensions, 0..XAI_MAX_DIMS */
    int64_t shape[XAI_MAX_DIMS];   /**< extent of each dimension, outermost first */
    float *data;                   /**< numel() floats, row-major */
    unsigned flags;                /**< XAI_TENSOR_OWNS_DATA when data is ours to free */
} xai_tensor;

/** @return the number of elements (1 for ndim == 0). */
XAI_API int64_t xai_tensor_numel(const xai_tensor *t);

/**
 * Allocate a zero-filled owned tensor of the given shape into @p t.
 * @return XAI_OK, XAI_EINVAL (bad ndim or negative extent), XAI_ENOMEM.
 * Free with xai_tensor_free().
 */
XAI_API xai_status xai_tensor_alloc(xai_tensor *t, int ndim, const int64_t *shape);

/** Release owned data (no-op for views and NULL) and reset @p t to an empty tensor. */
XAI_API void xai_tensor_free(xai_tensor *t);

/** @return a non-owning view of @p data with the given shape (nothing to free). */
XAI_API xai_tensor xai_tensor_view(float *data, int ndim, const int64_t *shape);

/** @return 1 when @p a and @p b have the same shape. */
XAI_API int xai_tensor_same_shape(const xai_tensor *a, const xai_tensor *b);

/** Write "[d0, d1, ...]" into @p buf (always NUL-terminated); returns @p buf. */
XAI_API char *xai_shape_str(int ndim, const int64_t *shape, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* XAI_TENSOR_H */
