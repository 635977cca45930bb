/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-onnx.c - libFuzzer target for the ONNX importer: decode, validate, order, fold and
 * build; when a model loads, run one forward pass and one LRP sweep on a zero input.
 */
#include <stdint.h>
#include <stdlib.h>

#include "xai.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xai_model *m = NULL;
    if (xai_model_load_onnx_mem(data, size, "fuzz.onnx", NULL, &m) != XAI_OK)
        return 0;
    int64_t nin = xai_model_input_numel(m);
    if (nin > 0 && nin < (1 << 20)) {
        float *x = calloc((size_t)nin, sizeof(float)), *r = calloc((size_t)nin, sizeof(float));
        if (x && r) {
            xai_explain_config c;
            xai_explain_config_init(&c);
            xai_explain(m, &c, 1, x, r, NULL);
        }
        free(x);
        free(r);
    }
    xai_model_free(m);
    return 0;
}
