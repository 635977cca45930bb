/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-biosig.c - libFuzzer target for the BioSig reader: xai_biosig_open_mem() (BioSig
 * reads files only, so the input goes through a private temporary file), every query,
 * and the [C][T] matrix. The last input byte picks the temporary file's extension, since
 * BioSig tells some formats apart by name.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "xai/biosig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"fuzz.gdf", "fuzz.dat", "fuzz.cnt", "fuzz.egi"};
    if (size > 1 << 20)
        return 0;
    xai_biosig *h = NULL;
    if (xai_biosig_open_mem(data, size, names[size ? data[size - 1] & 3 : 0], &h) != XAI_OK)
        return 0;
    const xai_biosig_info *in = xai_biosig_get_info(h);
    volatile size_t sink = 0;
    size_t na = 0;
    const xai_edf_annotation *a = xai_biosig_get_annotations(h, &na);
    for (size_t i = 0; i < na; i++)
        sink += (size_t)a[i].text[0] + (a[i].duration_s < 0);
    for (int c = 0; c < in->n_channels; c++)
        sink += (size_t)xai_biosig_get_channel(h, c)->label[0];
    float *m = NULL;
    if (xai_biosig_read_matrix(h, NULL, 0, &m, NULL, NULL) == XAI_OK)
        free(m);
    (void)sink;
    xai_biosig_close(h);
    return 0;
}
