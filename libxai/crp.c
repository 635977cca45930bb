/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * crp.c - Concept Relevance Propagation (Achtibat et al., Nature Machine Intelligence 5,
 * 2023): one forward pass and one backward pass down to the concept layer per stack, then one
 * masked backward pass per concept from that layer to the input, all over the cached
 * activations.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"
#include "lrp-int.h"
#include "xai/crp.h"

enum { CRP_STACK = 16 };

/* The activation a layer name stands for: a node's first output that is used (an LSTM's
   final state when only that feeds on), else a value of that name. */
int xai_layer_value(const xai_model *m, const char *layer)
{
    if (!layer)
        return -1;
    for (int i = 0; i < m->nnodes; i++)
        if (m->nodes[i].name && strcmp(m->nodes[i].name, layer) == 0) {
            const xai_node *n = &m->nodes[i];
            for (int k = 0; k < n->nout; k++)
                if (n->out[k] >= 0 && (m->vals[n->out[k]].nconsumers > 0 || n->out[k] == m->output))
                    return n->out[k];
            return n->out[0];
        }
    return xai_model_find_value(m, layer);
}

/* Channels of value v as [outer][nch][inner] per sample. Shapes keep the model's batch axis
   in front, so channels are axis 1 (NCHW, [N, units]); LSTM outputs ([T,] dir, N, H) have
   their hidden units last. */
static void channel_layout(const xai_model *m, int v, int64_t *outer, int64_t *nch, int64_t *inner)
{
    const xai_value *val = &m->vals[v];
    int axis = val->ndim >= 2 ? 1 : 0;
    if (val->producer >= 0 && m->nodes[val->producer].kind == K_LSTM)
        axis = val->ndim - 1;
    *outer = *inner = 1;
    *nch = val->ndim > 0 ? val->shape[axis] : 1;
    for (int k = 0; k < val->ndim; k++)
        if (k < axis)
            *outer *= val->shape[k];
        else if (k > axis)
            *inner *= val->shape[k];
}

xai_status xai_crp_layer(const xai_model *m, const char *layer, int64_t *nchannels, int64_t *per_channel)
{
    int v = xai_layer_value(m, layer);
    if (v < 0 || m->vals[v].is_const || m->vals[v].producer < 0)
        XAI_FAIL(XAI_EINVAL, "no layer or activation named '%s' after the model input", layer ? layer : "(null)");
    int64_t outer, c, inner;
    channel_layout(m, v, &outer, &c, &inner);
    if (nchannels)
        *nchannels = c;
    if (per_channel)
        *per_channel = outer * inner;
    return XAI_OK;
}

int xai_crp_top(const double *rel, int64_t nchannels, int k, int *idx)
{
    if (k > nchannels)
        k = (int)nchannels;
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int64_t c = 0; c < nchannels; c++) {
            int taken = 0;
            for (int q = 0; q < j && !taken; q++)
                taken = idx[q] == c;
            if (!taken && (best < 0 || rel[c] > rel[best]))
                best = (int)c;
        }
        idx[j] = best;
    }
    return k < 0 ? 0 : k;
}

typedef struct {
    const xai_model *m;
    const xai_explain_config *cfg;
    const xai_rule *rules;
    int v, prod;            /* the layer's value and the node producing it */
    int64_t nch, outer, inner, nin;
    int nconcepts;
    const int *channels;
    float *rv;              /* [stack][numel of v] relevance at the layer */
    double *isr;            /* [stack] relevance on LSTM initial states (not reported) */
} crp_job;

/* Samples b0 .. b0+nb-1: forward, backward to the layer, then one masked pass per concept. */
static xai_status crp_stack(crp_job *j, xai_workspace *ws, int64_t b0, int64_t nb, const float *x, float *maps,
                            double *crel, int *tg)
{
    const xai_model *m = j->m;
    float lo[CRP_STACK], hi[CRP_STACK];
    for (int64_t s = 0; s < nb; s++)
        tg[b0 + s] = j->cfg->targets ? j->cfg->targets[b0 + s] : j->cfg->target;
    xai_lrp_zbox_frame(ws, j->cfg, 1, b0, nb, j->nin, x + b0 * j->nin, lo, hi);
    ws->init_state_rel = j->isr;
    int64_t nv = m->vals[j->v].numel;
    xai_status st = xai_graph_forward(m, ws, nb, x + b0 * j->nin);
    if (st == XAI_OK) {
        xai_ws_clear_adj(ws);
        st = xai_lrp_seed(m, ws, j->cfg, tg + b0, NULL);
    }
    if (st == XAI_OK)
        st = xai_lrp_sweep_nodes(m, ws, j->rules, m->nnodes - 1, j->prod + 1);
    if (st == XAI_OK) {
        memcpy(j->rv, ws->adj[j->v], sizeof(float) * (size_t)(nb * nv));
        for (int64_t s = 0; crel && s < nb; s++)
            for (int64_t c = 0; c < j->nch; c++) {
                double sum = 0;
                for (int64_t o = 0; o < j->outer; o++)
                    for (int64_t k = 0; k < j->inner; k++)
                        sum += j->rv[s * nv + (o * j->nch + c) * j->inner + k];
                crel[(b0 + s) * j->nch + c] = sum;
            }
    }
    for (int q = 0; st == XAI_OK && q < j->nconcepts; q++) {
        int64_t c = j->channels[q];
        xai_ws_clear_adj(ws);
        for (int64_t s = 0; s < nb; s++)
            for (int64_t o = 0; o < j->outer; o++) {
                int64_t at = s * nv + (o * j->nch + c) * j->inner;
                memcpy(ws->adj[j->v] + at, j->rv + at, sizeof(float) * (size_t)j->inner);
            }
        if ((st = xai_lrp_sweep_nodes(m, ws, j->rules, j->prod, 0)))
            break;
        for (int64_t s = 0; s < nb; s++)
            memcpy(maps + ((b0 + s) * j->nconcepts + q) * j->nin, ws->adj[m->input] + s * j->nin,
                   sizeof(float) * (size_t)j->nin);
    }
    xai_lrp_zbox_clear(ws); /* they pointed into this frame */
    ws->init_state_rel = NULL;
    return st;
}

static xai_status crp_check(const xai_model *m, const xai_explain_config *cfg, const char *layer, int64_t n,
                            int nconcepts, const int *channels, float *maps, crp_job *j)
{
    if (!cfg || cfg->method != XAI_METHOD_LRP)
        XAI_FAIL(XAI_EINVAL, "concept relevance needs the LRP method");
    if (!cfg->box_low != !cfg->box_high)
        XAI_FAIL(XAI_EINVAL, "per-element z-box bounds: give both box_low and box_high, or neither");
    if (n < 1)
        XAI_FAIL(XAI_EINVAL, "nothing to explain (n = %lld)", (long long)n);
    xai_status st = xai_crp_layer(m, layer, NULL, NULL);
    if (st)
        return st;
    j->v = xai_layer_value(m, layer);
    channel_layout(m, j->v, &j->outer, &j->nch, &j->inner);
    if (nconcepts < 0 || (nconcepts > 0 && (!channels || !maps)))
        XAI_FAIL(XAI_EINVAL, "concept maps need %d channel indices and an output buffer", nconcepts);
    for (int q = 0; q < nconcepts; q++)
        if (channels[q] < 0 || channels[q] >= j->nch)
            XAI_FAIL(XAI_EINVAL, "channel %d is out of range: layer '%s' has %lld channels", channels[q], layer,
                     (long long)j->nch);
    int64_t nc = m->vals[m->output].numel;
    for (int64_t s = 0; s < (cfg->targets ? n : 1); s++) {
        int t = cfg->targets ? cfg->targets[s] : cfg->target;
        if (t < -1 || t >= nc)
            XAI_FAIL(XAI_EINVAL, "class %d is out of range: the model has %lld outputs", t, (long long)nc);
    }
    j->prod = m->vals[j->v].producer;
    j->nin = m->vals[m->input].numel;
    j->nconcepts = nconcepts;
    j->channels = channels;
    return XAI_OK;
}

/* The stacks of one call, on a workspace of its own (the model's plan belongs to xai_explain). */
static xai_status crp_run(crp_job *j, int64_t n, const float *x, float *maps, double *crel, int *tg)
{
    int64_t B = n < CRP_STACK ? n : CRP_STACK;
    xai_workspace *ws = NULL;
    xai_status st = xai_workspace_new(j->m, B, &ws);
    if (st)
        return st;
    ws->training = 0;
    ws->bn_fold = j->cfg->bn == XAI_BN_FOLD;
    j->rv = malloc(sizeof(float) * (size_t)(B * j->m->vals[j->v].numel));
    j->isr = calloc((size_t)B, sizeof(double));
    xai_rule *rules = NULL;
    if (!j->rv || !j->isr)
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    if (st == XAI_OK && (st = xai_lrp_rules(j->m, j->cfg, ws, &rules)) == XAI_OK) {
        j->rules = rules;
        for (int64_t b0 = 0; st == XAI_OK && b0 < n; b0 += B)
            st = crp_stack(j, ws, b0, n - b0 < B ? n - b0 : B, x, maps, crel, tg);
    }
    free(rules);
    free(j->rv);
    free(j->isr);
    xai_workspace_free(ws);
    return st;
}

xai_status xai_crp_explain(const xai_model *m, const xai_explain_config *cfg, const char *layer, int64_t n,
                           const float *x, int nconcepts, const int *channels, float *maps, double *concept_rel,
                           int *targets)
{
    crp_job j = {.m = m, .cfg = cfg};
    xai_status st = crp_check(m, cfg, layer, n, nconcepts, channels, maps, &j);
    if (st)
        return st;
    int *tg = targets ? targets : malloc(sizeof(int) * (size_t)n);
    if (!tg)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    xai_model *mm = (xai_model *)m;
    pthread_mutex_lock(&mm->explain_mu); /* the rules' modified weights are shared with xai_explain */
    st = crp_run(&j, n, x, maps, concept_rel, tg);
    pthread_mutex_unlock(&mm->explain_mu);
    if (tg != targets)
        free(tg);
    return st;
}

/* Channel c's k best samples of crel [n][nch] by insertion into a sorted list (k is small). */
static void refs_of(const double *crel, int64_t n, int64_t nch, int64_t c, int k, int64_t *idx, double *val)
{
    int got = 0;
    for (int64_t s = 0; s < n; s++) {
        double r = crel[s * nch + c];
        if (got == k && r <= val[k - 1])
            continue;
        int at = got < k ? got++ : k - 1;
        while (at > 0 && val[at - 1] < r) {
            val[at] = val[at - 1];
            idx[at] = idx[at - 1];
            at--;
        }
        val[at] = r;
        idx[at] = s;
    }
    for (int q = got; q < k; q++) {
        idx[q] = -1;
        val[q] = 0;
    }
}

xai_status xai_crp_refs(const xai_model *m, const xai_explain_config *cfg, const char *layer, int64_t n,
                        const float *x, int k, int64_t *idx, double *val)
{
    int64_t nch;
    xai_status st = xai_crp_layer(m, layer, &nch, NULL);
    if (st)
        return st;
    if (k < 1 || !idx)
        XAI_FAIL(XAI_EINVAL, "reference samples need k >= 1 and an output buffer (k = %d)", k);
    double *crel = malloc(sizeof(double) * (size_t)(n > 0 ? n * nch : 1)), *v = malloc(sizeof(double) * (size_t)k);
    if (!crel || !v)
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    if (st == XAI_OK)
        st = xai_crp_explain(m, cfg, layer, n, x, 0, NULL, NULL, crel, NULL);
    for (int64_t c = 0; st == XAI_OK && c < nch; c++) {
        refs_of(crel, n, nch, c, k, idx + c * k, v);
        if (val)
            memcpy(val + c * k, v, sizeof(double) * (size_t)k);
    }
    free(crel);
    free(v);
    return st;
}
