/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-tsv.c - libFuzzer target for the TSV reader (xai_tsv_load_mem), with and without
 * a header row; every cell of an accepted table is read back as text and as a number. The
 * preview reader (xai_tsv_load_head_mem) must accept exactly what the full reader accepts, count
 * the same rows and keep the same first rows: a difference traps.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xai/tsv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(const xai_tsv *t)
{
    for (size_t r = 0; r < xai_tsv_nrows(t); r++)
        for (size_t c = 0; c < xai_tsv_ncols(t); c++) {
            double v;
            (void)xai_tsv_get_string(t, r, c);
            (void)xai_tsv_get_number(t, r, c, &v);
        }
}

/* The preview of the first @p keep rows agrees with the full table @p t (NULL: refused). */
static void check_head(const uint8_t *data, size_t size, unsigned flags, size_t keep, const xai_tsv *t)
{
    xai_tsv *h;
    size_t nrows = 0;
    int ok = xai_tsv_load_head_mem(data, size, "fuzz.tsv", flags, keep, &h, &nrows) == XAI_OK;
    if (ok != (t != NULL))
        __builtin_trap();
    if (!ok)
        return;
    size_t kept = nrows < keep ? nrows : keep;
    if (nrows != xai_tsv_nrows(t) || xai_tsv_nrows(h) != kept || xai_tsv_ncols(h) != xai_tsv_ncols(t))
        __builtin_trap();
    for (size_t r = 0; r < kept; r++)
        for (size_t c = 0; c < xai_tsv_ncols(t); c++) {
            const char *a = xai_tsv_get_string(t, r, c), *b = xai_tsv_get_string(h, r, c);
            if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
                __builtin_trap();
        }
    xai_tsv_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (unsigned flags = 0; flags <= XAI_TSV_NO_HEADER; flags += XAI_TSV_NO_HEADER) {
        xai_tsv *t = NULL;
        if (xai_tsv_load_mem(data, size, "fuzz.tsv", flags, &t) != XAI_OK)
            t = NULL;
        else
            read_all(t);
        check_head(data, size, flags, 1 + size % 3, t);
        xai_tsv_free(t);
    }
    return 0;
}
