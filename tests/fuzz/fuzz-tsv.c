/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-tsv.c - libFuzzer target for the TSV reader (xai_tsv_load_mem), with and without
 * a header row; every cell of an accepted table is read back as text and as a number.
 */
#include <stddef.h>
#include <stdint.h>

#include "xai/tsv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (unsigned flags = 0; flags <= XAI_TSV_NO_HEADER; flags += XAI_TSV_NO_HEADER) {
        xai_tsv *t;
        if (xai_tsv_load_mem(data, size, "fuzz.tsv", flags, &t) != XAI_OK)
            continue;
        for (size_t r = 0; r < xai_tsv_nrows(t); r++)
            for (size_t c = 0; c < xai_tsv_ncols(t); c++) {
                double v;
                (void)xai_tsv_get_string(t, r, c);
                (void)xai_tsv_get_number(t, r, c, &v);
            }
        xai_tsv_free(t);
    }
    return 0;
}
