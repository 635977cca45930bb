/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-brainvision.c - libFuzzer target for the BrainVision reader. The input is split
 * into header, data and marker buffers at the first two occurrences of the separator
 * line "\n--8<--\n" (missing parts are empty), then xai_brainvision_open_mem() runs.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xai/brainvision.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char SEP[] = "\n--8<--\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part[3] = {data, data + size, data + size};
    size_t len[3] = {size, 0, 0};
    const uint8_t *p = memmem(data, size, SEP, sizeof SEP - 1);
    if (p) {
        len[0] = (size_t)(p - data);
        part[1] = p + sizeof SEP - 1;
        len[1] = size - (size_t)(part[1] - data);
        const uint8_t *q = memmem(part[1], len[1], SEP, sizeof SEP - 1);
        if (q) {
            len[1] = (size_t)(q - part[1]);
            part[2] = q + sizeof SEP - 1;
            len[2] = size - (size_t)(part[2] - data);
        }
    }
    xai_brainvision *bv = NULL;
    if (xai_brainvision_open_mem(part[0], len[0], part[1], len[1], len[2] ? part[2] : NULL,
                                 len[2], "fuzz.vhdr", &bv) == XAI_OK) {
        volatile float sink = 0;
        for (int c = 0; c < bv->n_channels; c++)
            sink += bv->data[(size_t)c * (size_t)bv->n_samples];
        for (size_t i = 0; i < bv->n_markers; i++)
            sink += (float)bv->markers[i].type[0];
        (void)sink;
        xai_brainvision_close(bv);
    }
    return 0;
}
