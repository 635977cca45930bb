/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tensor.c - allocation and views of float32 tensors (see tensor.h).
 */
#include "xai/tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t xai_tensor_numel(const xai_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

xai_status xai_tensor_alloc(xai_tensor *t, int ndim, const int64_t *shape)
{
    memset(t, 0, sizeof *t);
    if (ndim < 0 || ndim > XAI_MAX_DIMS)
        return xai_error_set(XAI_EINVAL, "tensor rank %d outside 0..%d", ndim, XAI_MAX_DIMS);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] > 0 && n > INT64_MAX / 4 / shape[i]))
            return xai_error_set(XAI_EINVAL, "tensor extent %lld is invalid", (long long)shape[i]);
        n *= shape[i];
        t->shape[i] = shape[i];
    }
    t->ndim = ndim;
    t->data = calloc(n > 0 ? (size_t)n : 1, sizeof(float));
    if (!t->data)
        return xai_error_set(XAI_ENOMEM, "cannot allocate a tensor of %lld floats", (long long)n);
    t->flags = XAI_TENSOR_OWNS_DATA;
    return XAI_OK;
}

void xai_tensor_free(xai_tensor *t)
{
    if (!t)
        return;
    if (t->flags & XAI_TENSOR_OWNS_DATA)
        free(t->data);
    memset(t, 0, sizeof *t);
}

xai_tensor xai_tensor_view(float *data, int ndim, const int64_t *shape)
{
    xai_tensor t;
    memset(&t, 0, sizeof t);
    if (ndim < 0)
        ndim = 0;
    if (ndim > XAI_MAX_DIMS)
        ndim = XAI_MAX_DIMS;
    t.ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t.shape[i] = shape[i];
    t.data = data;
    return t;
}

int xai_tensor_same_shape(const xai_tensor *a, const xai_tensor *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return 0;
    return 1;
}

char *xai_shape_str(int ndim, const int64_t *shape, char *buf, size_t len)
{
    size_t k = 0;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    k += (size_t)snprintf(buf + k, len - k, "[");
    for (int i = 0; i < ndim && k < len; i++)
        k += (size_t)snprintf(buf + k, len - k, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (k < len)
        snprintf(buf + k, len - k, "]");
    return buf;
}
