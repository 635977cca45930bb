/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-arch.c - libFuzzer target for the architecture spec parser and ONNX builder: the first
 * byte picks an input shape, the rest is the spec. A spec that checks out with a modest
 * parameter count is built, loaded, run forward once (when its workspace is modest), exported
 * and loaded again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"
#include "xai.h"
#include "xai/train.h"

/* floats a workspace for one sample would hold (activations twice, plus scratch) */
static int64_t workspace_floats(const xai_model *m)
{
    int64_t t = 0;
    for (int v = 0; v < m->nvals; v++)
        if (!m->vals[v].is_const)
            t += 2 * m->vals[v].numel;
    for (int i = 0; i < m->nnodes; i++)
        t += (int64_t)(m->nodes[i].scratch + m->nodes[i].scratch_fixed);
    return t;
}

static const int64_t shapes[][5] = {
    {2, 8, 64}, {3, 3, 16, 16}, {4, 1, 6, 6, 6}, {2, 20, 4}, {4, 4, 1, 8, 8}, {1, 16}, {3, 5, 2, 9},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    const int64_t *sh = shapes[data[0] % (sizeof shapes / sizeof shapes[0])];
    char *spec = malloc(size);
    if (!spec)
        return 0;
    memcpy(spec, data + 1, size - 1);
    spec[size - 1] = '\0';
    int64_t np = 0;
    if (xai_arch_param_count(spec, (int)sh[0], sh + 1, &np) == XAI_OK && np < 200000) {
        xai_model *m = NULL;
        if (xai_model_from_spec(spec, (int)sh[0], sh + 1, 1, &m) == XAI_OK) {
            int64_t nin = xai_model_input_numel(m), nout = xai_model_output_numel(m);
            float *x = calloc((size_t)nin, sizeof(float)), *y = calloc((size_t)nout, sizeof(float));
            xai_workspace *ws = NULL;
            if (x && y && workspace_floats(m) < ((int64_t)1 << 24) && xai_workspace_new(m, 1, &ws) == XAI_OK)
                xai_model_forward(m, ws, 1, x, y);
            xai_workspace_free(ws);
            free(x);
            free(y);
            void *bytes = NULL;
            size_t len = 0;
            if (xai_model_save_onnx_mem(m, NULL, &bytes, &len) == XAI_OK) {
                xai_model *r = NULL;
                xai_model_load_onnx_mem(bytes, len, "exported", NULL, &r);
                xai_model_free(r);
                free(bytes);
            }
            xai_model_free(m);
        }
    }
    free(spec);
    return 0;
}
