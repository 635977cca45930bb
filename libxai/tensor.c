/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tensor.c - printing tensor shapes (see tensor.h).
 */
#include "xai/tensor.h"

#include <stdio.h>

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
