/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-export.c - libFuzzer target for ONNX export: a model that loads is exported with BN
 * folding and an opset raise (and once keeping BN), and each result must load again.
 */
#include <stdint.h>
#include <stdlib.h>

#include "xai.h"
#include "xai/train.h"

static void roundtrip(const xai_model *m, const xai_export_options *o)
{
    void *bytes = NULL;
    size_t len = 0;
    if (xai_model_save_onnx_mem(m, o, &bytes, &len) != XAI_OK)
        return;
    xai_model *r = NULL;
    if (xai_model_load_onnx_mem(bytes, len, "exported", NULL, &r) != XAI_OK)
        abort(); /* an export of a loadable model must load */
    xai_model_free(r);
    free(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xai_model *m = NULL;
    if (xai_model_load_onnx_mem(data, size, "fuzz.onnx", NULL, &m) != XAI_OK)
        return 0;
    xai_model_set_metadata(m, "xai.fuzz", "1");
    xai_export_options fold = {0, 14}, keep = {1, 0};
    roundtrip(m, &fold);
    roundtrip(m, &keep);
    xai_model_free(m);
    return 0;
}
