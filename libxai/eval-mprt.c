/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eval-mprt.c - the cascading model parameter randomisation test (Adebayo, Gilmer, Muelly,
 * Goodfellow, Hardt, Kim, "Sanity Checks for Saliency Maps", NeurIPS 2018). The test works on
 * a copy of the model (exported with its BatchNorm nodes and loaded again), re-initialises
 * its parametrised layers from the output down, and explains the samples after each step.
 * BatchNorm: libxai folds a BN that follows a Conv/Gemm into that layer's weights for LRP, so
 * such a BN is re-initialised together with its layer (PyTorch's reset: gamma 1, beta 0,
 * running mean 0, variance 1), and the folded weights are rebuilt before explaining: the
 * randomisation reaches the model that is actually explained.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai/eval.h"
#include "xai/train.h"
#include "eval-int.h"
#include "graph-int.h"

void xai_mprt_result_free(xai_mprt_result *r)
{
    if (!r)
        return;
    for (int i = 0; r->layer && i < r->nlayers; i++)
        free(r->layer[i]);
    free(r->layer);
    free(r->rho);
    free(r->mean);
    free(r->ci_low);
    free(r->ci_high);
    memset(r, 0, sizeof *r);
}

static int is_layer(const xai_node *n)
{
    return n->kind == K_CONV || n->kind == K_GEMM || n->kind == K_LSTM || (n->kind == K_BN && n->bn_of < 0);
}

static void fill_uniform(float *w, int64_t cnt, double bound, uint64_t key, uint64_t *ctr)
{
    for (int64_t i = 0; i < cnt; i++)
        w[i] = (float)(bound * (2.0 * xai_stream_unit(key, (*ctr)++) - 1.0));
}

static void reset_bn(xai_model *m, const xai_node *bn)
{
    static const float init[5] = {0, 1, 0, 0, 1}; /* scale, B, mean, var by input index */
    for (int k = 1; k <= 4; k++) {
        xai_value *v = &m->vals[bn->in[k]];
        for (int64_t i = 0; v->f && i < v->numel; i++)
            v->f[i] = init[k];
    }
}

/* Re-initialise one layer (and the BN folded into it). */
static void randomise_layer(xai_model *m, xai_node *n, uint64_t key)
{
    uint64_t ctr = 0;
    if (n->kind == K_CONV && m->vals[n->in[1]].f) { /* a computed weight input has nothing to reset */
        xai_value *w = &m->vals[n->in[1]];
        int64_t cout = w->shape[0] > 0 ? w->shape[0] : 1;
        double bound = 1.0 / sqrt((double)(w->numel / cout));
        fill_uniform(w->f, w->numel, bound, key, &ctr);
        if (n->nin > 2 && n->in[2] >= 0 && m->vals[n->in[2]].f)
            fill_uniform(m->vals[n->in[2]].f, m->vals[n->in[2]].numel, bound, key, &ctr);
    } else if (n->kind == K_GEMM) {
        float *b;
        int64_t no, ni;
        float *w = xai_gemm_weights(n, &b, &no, &ni);
        double bound = 1.0 / sqrt((double)ni);
        fill_uniform(w, no * ni, bound, key, &ctr);
        if (b)
            fill_uniform(b, no, bound, key, &ctr);
        xai_gemm_sync(m, n);
    } else if (n->kind == K_LSTM) {
        const xai_value *r = &m->vals[n->in[2]];
        double bound = 1.0 / sqrt((double)(r->shape[r->ndim - 1] > 0 ? r->shape[r->ndim - 1] : 1));
        for (int k = 1; k <= 3 && k < n->nin; k++)
            if (n->in[k] >= 0 && m->vals[n->in[k]].is_const && m->vals[n->in[k]].f)
                fill_uniform(m->vals[n->in[k]].f, m->vals[n->in[k]].numel, bound, key, &ctr);
    } else if (n->kind == K_BN) {
        reset_bn(m, n);
    }
    if (n->kind != K_BN && n->fold_bn >= 0)
        reset_bn(m, &m->nodes[n->fold_bn]);
}

/* The copy the test randomises. */
static xai_status clone_model(const xai_model *m, xai_model **out)
{
    xai_export_options eo = {.keep_bn = 1, .min_opset = 0};
    void *bytes = NULL;
    size_t len = 0;
    xai_status st = xai_model_save_onnx_mem(m, &eo, &bytes, &len);
    if (st)
        return st;
    st = xai_model_load_onnx_mem(bytes, len, m->name, NULL, out);
    free(bytes);
    if (!st && xai_model_input_numel(*out) != xai_model_input_numel(m)) {
        xai_model_free(*out);
        *out = NULL;
        XAI_FAIL(XAI_ESHAPE, "MPRT: the copy of the model has another input size");
    }
    return st;
}

/* Layer list of the copy, top (output side) first, with names. */
static xai_status list_layers(const xai_model *c, xai_mprt_result *res, int *idx)
{
    int L = 0;
    for (int i = c->nnodes - 1; i >= 0; i--)
        if (is_layer(&c->nodes[i]))
            idx[L++] = i;
    if (L == 0)
        XAI_FAIL(XAI_EINVAL, "MPRT: the model has no layer with parameters");
    res->layer = calloc((size_t)L, sizeof(char *));
    if (!res->layer)
        XAI_FAIL(XAI_ENOMEM, "MPRT: out of memory");
    res->nlayers = L;
    for (int l = 0; l < L; l++) {
        const xai_node *n = &c->nodes[idx[l]];
        const char *bn = n->kind != K_BN && n->fold_bn >= 0 ? c->nodes[n->fold_bn].name : NULL;
        size_t len = strlen(n->name) + (bn ? strlen(bn) + 1 : 0) + 1;
        if (!(res->layer[l] = malloc(len)))
            XAI_FAIL(XAI_ENOMEM, "MPRT: out of memory");
        snprintf(res->layer[l], len, bn ? "%s+%s" : "%s", n->name, bn ? bn : "");
    }
    return XAI_OK;
}

/* Spearman of every sample's map with the original, into column l of rho. */
static xai_status correlate(const xai_eval_config *cfg, int64_t n, int64_t nin, const float *r0, float *r1,
                            float *a0, xai_mprt_result *res, int l)
{
    for (int64_t s = 0; s < n; s++) {
        const float *p = r0 + s * nin;
        float *q = r1 + s * nin;
        for (int64_t e = 0; e < nin; e++) {
            a0[e] = cfg->mprt_abs ? fabsf(p[e]) : p[e];
            if (cfg->mprt_abs)
                q[e] = fabsf(q[e]);
        }
        double rho;
        xai_status st = xai_spearman(a0, q, nin, &rho);
        if (st)
            return st;
        res->rho[s * res->nlayers + l] = rho;
    }
    return XAI_OK;
}

static void summarise(xai_mprt_result *res)
{
    double *col = malloc(sizeof(double) * (size_t)res->n);
    for (int l = 0; col && l < res->nlayers; l++) {
        int64_t k = 0;
        for (int64_t s = 0; s < res->n; s++)
            if (isfinite(res->rho[s * res->nlayers + l]))
                col[k++] = res->rho[s * res->nlayers + l];
        xai_mean_ci95(col, k, &res->mean[l], NULL, &res->ci_low[l], &res->ci_high[l]);
    }
    free(col);
}

xai_status xai_eval_mprt(const xai_model *m, const xai_eval_config *cfg, const xai_explain_config *ecfg, int64_t n,
                         const float *x, const int *targets, xai_mprt_result *res)
{
    if (res)
        memset(res, 0, sizeof *res);
    if (!m || !cfg || !ecfg || !x || !targets || !res || n < 1)
        XAI_FAIL(XAI_EINVAL, "MPRT: NULL argument or no samples");
    xai_model *c = NULL;
    xai_status st = clone_model(m, &c);
    if (st)
        return st;
    int64_t nin = xai_model_input_numel(c);
    int *idx = malloc(sizeof(int) * (size_t)c->nnodes);
    float *r0 = malloc(sizeof(float) * (size_t)(n * nin)), *r1 = malloc(sizeof(float) * (size_t)(n * nin));
    float *a0 = malloc(sizeof(float) * (size_t)nin);
    if (!idx || !r0 || !r1 || !a0)
        st = xai_error_set(XAI_ENOMEM, "MPRT: out of memory");
    if (!st)
        st = list_layers(c, res, idx);
    if (!st) {
        res->n = n;
        res->rho = malloc(sizeof(double) * (size_t)(n * res->nlayers));
        res->mean = malloc(sizeof(double) * (size_t)res->nlayers);
        res->ci_low = malloc(sizeof(double) * (size_t)res->nlayers);
        res->ci_high = malloc(sizeof(double) * (size_t)res->nlayers);
        if (!res->rho || !res->mean || !res->ci_low || !res->ci_high)
            st = xai_error_set(XAI_ENOMEM, "MPRT: out of memory");
    }
    if (!st)
        st = xai_explain_targets(c, ecfg, n, x, targets, r0);
    for (int l = 0; !st && l < res->nlayers; l++) {
        randomise_layer(c, &c->nodes[idx[l]], xai_stream_key(cfg->seed, XAI_STREAM_MPRT, l));
        xai_model_params_changed(c);
        if (!(st = xai_explain_targets(c, ecfg, n, x, targets, r1)))
            st = correlate(cfg, n, nin, r0, r1, a0, res, l);
    }
    if (!st)
        summarise(res);
    else
        xai_mprt_result_free(res);
    free(idx);
    free(r0);
    free(r1);
    free(a0);
    xai_model_free(c);
    return st;
}
