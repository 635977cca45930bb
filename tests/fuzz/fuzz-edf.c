/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-edf.c - libFuzzer target for the EDF/BDF reader: xai_edf_open_mem() (our header
 * pre-check, then EDFlib through a private temporary file), then every query, a read of
 * each channel's first samples, the [C][T] matrix and trigger decoding.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "xai/edf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xai_edf *h = NULL;
    if (xai_edf_open_mem(data, size, "fuzz.edf", &h) != XAI_OK)
        return 0;
    const xai_edf_info *in = xai_edf_get_info(h);
    size_t na = 0;
    const xai_edf_annotation *a = xai_edf_get_annotations(h, &na);
    volatile size_t sink = 0;
    for (size_t i = 0; i < na; i++)
        sink += (size_t)a[i].text[0];
    float buf[64];
    for (int c = 0; c < in->n_channels; c++) {
        const xai_edf_channel *ch = xai_edf_get_channel(h, c);
        int64_t n = ch->samples < 64 ? ch->samples : 64;
        if (xai_edf_read_channel(h, c, 0, n, buf) == XAI_OK && n > 0)
            sink += (size_t)(buf[0] != buf[0]);
    }
    float *m = NULL;
    if (xai_edf_read_matrix(h, NULL, 0, &m, NULL, NULL) == XAI_OK)
        free(m);
    xai_edf_event *ev = NULL;
    size_t nev = 0;
    if (xai_edf_read_events(h, in->n_channels - 1, &ev, &nev) == XAI_OK)
        free(ev);
    (void)sink;
    xai_edf_close(h);
    return 0;
}
