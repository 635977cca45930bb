/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-npy.c - libFuzzer target for the .npy readers (xai_npy_load_mem, xai_npy_load_int_mem,
 * xai_npy_read_header_mem, the header reader behind xai-info).
 * Any input must give a status, never a crash, hang or huge allocation.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xai/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xai_npy a;
    if (xai_npy_load_mem(data, size, "fuzz.npy", &a) == XAI_OK) {
        size_t n = 1;
        volatile float sink = 0;
        for (int i = 0; i < a.ndim; i++)
            n *= (size_t)a.shape[i];
        for (size_t i = 0; i < n; i++)
            sink += a.data[i]; /* touch every element: the count must match the allocation */
        (void)sink;
        xai_npy_free(&a);
    }
    xai_npy_int b;
    if (xai_npy_load_int_mem(data, size, "fuzz.npy", &b) == XAI_OK) {
        size_t n = 1;
        volatile uint64_t sink = 0; /* unsigned: the values are arbitrary, their sum may wrap */
        for (int i = 0; i < b.ndim; i++)
            n *= (size_t)b.shape[i];
        for (size_t i = 0; i < n; i++)
            sink += (uint64_t)b.data[i];
        (void)sink;
        xai_npy_int_free(&b);
    }
    xai_npy_header h;
    if (xai_npy_read_header_mem(data, size, "fuzz.npy", &h) == XAI_OK) {
        /* the header is a prefix of the input and the descr a terminated string */
        if (h.data_offset < 10 || h.data_offset + h.data_bytes != (int64_t)size || h.ndim < 0 ||
            h.ndim > XAI_NPY_MAX_DIMS || strlen(h.descr) >= sizeof h.descr)
            abort();
    }
    return 0;
}
