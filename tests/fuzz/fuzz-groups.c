/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-groups.c - libFuzzer target for the sample-group readers (xai/groups.h). The first
 * byte chooses the reader (index list, group .npy, clusters.tsv) and the sample count
 * (1..64); the rest is the file. Every index handed back must name one of the samples.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "xai.h"
#include "xai/groups.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_indices(const int64_t *v, int64_t k, int64_t n)
{
    if (k < 0 || (k > 0 && !v))
        abort();
    for (int64_t i = 0; i < k; i++)
        if (v[i] < 0 || v[i] >= n)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int kind = data[0] % 3;
    int64_t n = 1 + (data[0] >> 2);
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (kind == 0) {
        int64_t *idx = NULL, k = 0;
        if (xai_index_list_parse(text, len, "fuzz.txt", n, &idx, &k) == XAI_OK)
            check_indices(idx, k, n);
        else if (idx || k)
            abort();
        free(idx);
        return 0;
    }
    xai_sample_groups g;
    xai_status st = kind == 1 ? xai_sample_groups_npy(text, len, "fuzz.npy", n, &g)
                              : xai_sample_groups_spray(text, len, "fuzz.tsv", 1, 0, n, &g);
    if (st == XAI_OK) {
        check_indices(g.in, g.n_in, n);
        check_indices(g.out, g.n_out, n);
        if (kind == 1 && g.n_in + g.n_out > n)
            abort(); /* one value per sample: no sample in both groups */
    } else if (g.in || g.out || g.n_in || g.n_out) {
        abort();
    }
    xai_sample_groups_free(&g);
    return 0;
}
