/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * reference.c - the read-out's reference point. A model built with the `reference` layer
 * (arch.c) holds one node z = x - c with c a constant of x's shape. Setting c to the mean of
 * x over the training samples and adding W c to the output bias leaves every logit as it was
 * but changes what LRP reads: under the Pass rule of that node the relevance of a feature is
 * its deviation from the average training sample times its weight, (x - c) w, so a fall below
 * the average is evidence where it happens instead of the unchanged rest of the sample (the
 * reference point of DeepLIFT, Shrikumar et al. 2017, ICML, and of deep Taylor decomposition,
 * Montavon et al. 2017, Pattern Recognit. 65:211).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"
#include "xai/train.h"

/* the one Sub node with a constant operand of the activation's shape, or -1 */
static int find_reference(const xai_model *m, int *count)
{
    int found = -1;
    *count = 0;
    for (int i = 0; i < m->nnodes; i++) {
        const xai_node *n = &m->nodes[i];
        if (n->kind != K_SUB || n->in[0] < 0 || n->in[1] < 0)
            continue;
        const xai_value *x = &m->vals[n->in[0]], *c = &m->vals[n->in[1]];
        if (!x->is_const && c->is_const && c->dtype == DT_F32 && c->numel == x->numel) {
            found = i;
            (*count)++;
        }
    }
    return found;
}

/* logits of the n samples (and, with @p mean, the mean of value v over them) */
static xai_status run_all(const xai_model *m, xai_workspace *ws, int64_t cap, int64_t n, const float *x, int v,
                          double *mean, float *logits)
{
    int64_t nin = m->vals[m->input].numel, d = m->vals[v].numel, k = m->vals[m->output].numel;
    for (int64_t b0 = 0; b0 < n; b0 += cap) {
        int64_t nb = n - b0 < cap ? n - b0 : cap;
        xai_status st = xai_graph_forward(m, ws, nb, x + b0 * nin);
        if (st)
            return st;
        memcpy(logits + b0 * k, ws->val[m->output], sizeof(float) * (size_t)(nb * k));
        for (int64_t s = 0; mean && s < nb; s++)
            for (int64_t j = 0; j < d; j++)
                mean[j] += ws->val[v][s * d + j] / (double)n;
    }
    return XAI_OK;
}

/* largest |a - b| relative to 1 + |a| */
static double max_rel_diff(const float *a, const float *b, int64_t len)
{
    double e = 0;
    for (int64_t i = 0; i < len; i++) {
        double r = fabs((double)a[i] - b[i]) / (1.0 + fabs((double)a[i]));
        e = r > e ? r : e;
    }
    return e;
}

/* the working bias of the Gemm that gives the logits (scaled by its beta), or NULL */
static float *output_bias(xai_model *m)
{
    int p = m->vals[m->output].producer;
    xai_node *g = p >= 0 ? &m->nodes[p] : NULL;
    if (!g || g->kind != K_GEMM)
        return NULL;
    float *b;
    int64_t nout, nin;
    xai_gemm_weights(g, &b, &nout, &nin);
    return nout == m->vals[m->output].numel ? b : NULL;
}

xai_status xai_model_set_reference(xai_model *m, int64_t n, const float *x)
{
    if (!m || !x || n < 1)
        return xai_error_set(XAI_EINVAL, "reference: NULL model or input, or no samples");
    int count, r = find_reference(m, &count);
    float *bias = output_bias(m);
    if (count != 1)
        return xai_error_set(XAI_EINVAL, "%s: %d reference nodes (a Sub of a constant of the activation's shape); "
                             "need exactly one", m->name, count);
    if (!bias)
        return xai_error_set(XAI_EINVAL, "%s: the logits do not come from a Gemm with a bias", m->name);
    int v = m->nodes[r].in[0];
    float *c = m->vals[m->nodes[r].in[1]].f;
    int64_t d = m->vals[v].numel, k = m->vals[m->output].numel, cap = n < 32 ? n : 32;
    double *mean = calloc((size_t)d, sizeof *mean);
    float *old = malloc(sizeof(float) * (size_t)(d + k)), *y0 = malloc(sizeof(float) * (size_t)(2 * n * k));
    xai_workspace *ws = NULL;
    xai_status st = !mean || !old || !y0 ? xai_error_set(XAI_ENOMEM, "reference: out of memory")
                                         : xai_workspace_new(m, cap, &ws);
    if (!st) {
        memcpy(old, c, sizeof(float) * (size_t)d);
        memcpy(old + d, bias, sizeof(float) * (size_t)k);
        st = run_all(m, ws, cap, n, x, v, mean, y0);
    }
    if (!st) {
        float *y1 = y0 + n * k;
        for (int64_t j = 0; j < d; j++)
            c[j] = (float)mean[j];
        xai_model_params_changed(m);
        if (!(st = run_all(m, ws, cap, n, x, m->output, NULL, y1))) {
            for (int64_t j = 0; j < k; j++) {
                double s = 0;
                for (int64_t i = 0; i < n; i++)
                    s += (double)y0[i * k + j] - y1[i * k + j];
                bias[j] += (float)(s / (double)n);
            }
            xai_graph_sync_params(m); /* the bias initializer, for export */
            xai_model_params_changed(m);
            st = run_all(m, ws, cap, n, x, m->output, NULL, y1);
        }
        double e = st ? 0 : max_rel_diff(y0, y1, n * k);
        if (!st && !(e <= 1e-4))
            st = xai_error_set(XAI_EINVAL, "%s: the layers after the reference are not affine (logits moved by "
                               "%.3g)", m->name, e);
        if (st) { /* leave the model as it was */
            memcpy(c, old, sizeof(float) * (size_t)d);
            memcpy(bias, old + d, sizeof(float) * (size_t)k);
            xai_graph_sync_params(m);
            xai_model_params_changed(m);
        }
    }
    xai_workspace_free(ws);
    free(mean);
    free(old);
    free(y0);
    return st;
}
