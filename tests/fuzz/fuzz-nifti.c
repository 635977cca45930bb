/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-nifti.c - libFuzzer target for the NIfTI reader through xai_nifti_open_mem()
 * (plain and gzip-compressed NIfTI-1/NIfTI-2). Any input must give XAI_OK or an error
 * status; successful reads must have a consistent shape and data pointer.
 */
#include <stdint.h>
#include <stdlib.h>

#include "xai/nifti.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xai_nifti *img = NULL;
    if (xai_nifti_open_mem(data, size, "fuzz.nii", &img) == XAI_OK) {
        size_t n = (size_t)(img->shape[0] * img->shape[1] * img->shape[2] * img->shape[3]);
        if (n != img->n || !img->data)
            abort();
        volatile float s = 0;
        for (size_t i = 0; i < n; i++)
            s += img->data[i];
        (void)s;
        xai_nifti_close(img);
    }
    return 0;
}
