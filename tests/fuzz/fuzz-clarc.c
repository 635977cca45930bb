/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-clarc.c - libFuzzer target for the ClArC projection written into an ONNX graph: for a
 * model that loads, every node's activation is tried as the layer; a projection that is
 * written must load again and set v'a' to z.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "xai.h"
#include "xai/clarc.h"

static void try_layer(const xai_model *m, const char *layer)
{
    int64_t d;
    if (xai_layer_activations(m, layer, 0, NULL, NULL, &d) != XAI_OK || d < 1 || d > (1 << 16))
        return;
    float *v = malloc(sizeof(float) * (size_t)d), *x = calloc((size_t)xai_model_input_numel(m), sizeof(float));
    float *a = malloc(sizeof(float) * (size_t)d);
    void *bytes = NULL;
    size_t len = 0;
    xai_model *p = NULL;
    if (!v || !x || !a)
        goto out;
    for (int64_t k = 0; k < d; k++)
        v[k] = (float)(1.0 / sqrt((double)d));
    if (xai_clarc_onnx(m, layer, v, d, 0.5f, &bytes, &len) != XAI_OK)
        goto out;
    if (xai_model_load_onnx_mem(bytes, len, "projected", NULL, &p) != XAI_OK)
        abort(); /* a projection of a loadable model must load */
    if (xai_layer_activations(p, XAI_CLARC_LAST_NODE, 1, x, a, &d) == XAI_OK) {
        double s = xai_cav_mean_projection(v, d, 1, a), big = 0;
        /* a' = a - v (v'a - z) is formed in float: its rounding grows with the activations,
           which fuzzed weights can make huge (1e15 seen), so the bound scales with them */
        if (xai_layer_activations(m, layer, 1, x, a, &d) == XAI_OK)
            for (int64_t k = 0; k < d; k++)
                big = fmax(big, fabs((double)a[k]));
        if (isfinite(s) && isfinite(big) && fabs(s - 0.5) > 1e-3 * (1 + fabs(s)) + 8 * FLT_EPSILON * (double)d * big)
            abort();
    }
out:
    xai_model_free(p);
    free(bytes), free(v), free(x), free(a);
}

/* Whether every activation of the model is small enough to run 16 times per input: a fuzzed Pad
   of a million rows is a valid model whose forward passes only take time. */
static int small_model(const xai_model *m)
{
    for (int i = 0; i < xai_model_node_count(m); i++) {
        int64_t d;
        if (xai_layer_activations(m, xai_model_node_name(m, i), 0, NULL, NULL, &d) == XAI_OK && d > (1 << 16))
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xai_model *m = NULL;
    if (xai_model_load_onnx_mem(data, size, "fuzz.onnx", NULL, &m) != XAI_OK)
        return 0;
    int small = small_model(m);
    for (int i = 0; small && i < xai_model_node_count(m) && i < 16; i++)
        try_layer(m, xai_model_node_name(m, i));
    xai_model_free(m);
    return 0;
}
