/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-gait-record.c - the gait pre-processing record (the card's "preprocessing" of an
 * xai-gait model, untrusted at explain time): parse it and, when it is accepted, build the
 * model inputs of two fixed cycles (a left and the right one starting inside it) from it and
 * write it back, as explain does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xai/domain-gait.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 17)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    xai_gait_pre p;
    if (xai_gait_pre_from_json(&p, text) == XAI_OK) {
        int nch = xai_gait_pre_channels(&p);
        float *x = calloc((size_t)2 * (size_t)nch * XAI_GAIT_NPTS, sizeof(float));
        float *off = calloc((size_t)2 * (size_t)nch, sizeof(float));
        float *in = malloc((size_t)xai_gait_pre_inputs(&p) * XAI_GAIT_NPTS * sizeof(float));
        int trial[2] = {0, 0};
        char side[2][8] = {"Left", "Right"};
        double t0[2] = {0.0, 0.5}, t1[2] = {1.0, 1.5};
        xai_gait_cycles cy = {.n = 2, .nch = nch, .x = x, .trial = trial, .side = side, .start_s = t0,
                              .end_s = t1, .offset = off};
        int64_t *a = NULL, *b = NULL;
        int64_t ns = x && off && in ? xai_gait_samples(&p, &cy, &a, &b) : 0;
        for (int64_t i = 0; i < ns; i++)
            xai_gait_input(&p, &cy, a[i], b[i], in);
        free(a);
        free(b);
        free(x);
        free(off);
        free(in);
        char *again = xai_gait_pre_to_json(&p);
        free(again);
    }
    xai_gait_pre_free(&p);
    free(text);
    return 0;
}
