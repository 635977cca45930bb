/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * graph.c - model lifetime, graph finalisation (dead-node pruning, consumer counts,
 * BatchNorm pairing for folding), workspaces and the forward runner.
 */
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "graph-int.h"

static void node_free(xai_node *n)
{
    if (n->ops && n->ops->destroy)
        n->ops->destroy(n);
    else
        free(n->attr);
    free(n->name);
    free(n->op_type);
    n->attr = NULL;
}

void xai_model_free(xai_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->nnodes; i++)
        node_free(&m->nodes[i]);
    for (int i = 0; i < m->nvals; i++) {
        free(m->vals[i].name);
        free(m->vals[i].f);
        free(m->vals[i].i);
    }
    for (int i = 0; i < m->nmeta; i++) {
        free(m->meta_key[i]);
        free(m->meta_val[i]);
    }
    free(m->meta_key);
    free(m->meta_val);
    free(m->nodes);
    free(m->vals);
    free(m->name);
    free(m->src);
    xai_workspace_free(m->ws_cache);
    xai_explain_plan_free(m->plan);
    xai_rule_cache_free(m->rule_cache);
    pthread_mutex_destroy(&m->explain_mu);
    free(m);
}

/* Drops the nodes the output does not depend on; -1 (nothing changed) when out of memory. */
static int prune_dead_nodes(xai_model *m)
{
    char *need = calloc((size_t)m->nvals + 1, 1);
    char *keep = calloc((size_t)m->nnodes + 1, 1);
    if (!need || !keep) {
        free(need);
        free(keep);
        return -1;
    }
    need[m->output] = 1;
    for (int i = m->nnodes - 1; i >= 0; i--) {
        xai_node *n = &m->nodes[i];
        for (int k = 0; k < n->nout; k++)
            if (n->out[k] >= 0 && need[n->out[k]])
                keep[i] = 1;
        if (keep[i])
            for (int k = 0; k < n->nin; k++)
                if (n->in[k] >= 0)
                    need[n->in[k]] = 1;
    }
    int j = 0;
    for (int i = 0; i < m->nnodes; i++) {
        if (keep[i])
            m->nodes[j++] = m->nodes[i];
        else
            node_free(&m->nodes[i]);
    }
    m->nnodes = j;
    free(need);
    free(keep);
    return 0;
}

/* Recomputes each value's producer and number of consumers. */
static void link_values(xai_model *m)
{
    for (int v = 0; v < m->nvals; v++) {
        m->vals[v].producer = -1;
        m->vals[v].nconsumers = 0;
    }
    for (int i = 0; i < m->nnodes; i++) {
        xai_node *n = &m->nodes[i];
        for (int k = 0; k < n->nout; k++)
            if (n->out[k] >= 0)
                m->vals[n->out[k]].producer = i;
        for (int k = 0; k < n->nin; k++)
            if (n->in[k] >= 0)
                m->vals[n->in[k]].nconsumers++;
    }
}

/* MatMul followed by an Add of a constant bias over the last axis: fuse the bias */
static void fuse_gemm_bias(xai_model *m)
{
    for (int i = 0; i < m->nnodes; i++) {
        xai_node *ad = &m->nodes[i];
        if (ad->kind != K_ADD || ad->nin != 2)
            continue;
        for (int side = 0; side < 2; side++) {
            int cv = ad->in[side], av = ad->in[1 - side];
            if (!vconst(m, cv) || vconst(m, av) || m->vals[cv].dtype != DT_F32)
                continue;
            int p = m->vals[av].producer;
            if (p < 0 || m->nodes[p].kind != K_GEMM || m->vals[av].nconsumers != 1)
                continue;
            const xai_value *c = &m->vals[cv];
            int lastonly = 1;
            for (int d = 0; d + 1 < c->ndim; d++)
                if (c->shape[d] != 1)
                    lastonly = 0;
            if (!lastonly || c->ndim > m->vals[av].ndim)
                continue;
            if (xai_gemm_absorb_bias_v(&m->nodes[p], c->f, c->numel, cv)) {
                m->vals[cv].nconsumers--;
                xai_make_identity(ad, av);
                break;
            }
        }
    }
}

/* BatchNormalization directly after Conv/Gemm (sole consumer) can be folded */
static void fold_bn_nodes(xai_model *m)
{
    for (int i = 0; i < m->nnodes; i++) {
        xai_node *bn = &m->nodes[i];
        if (bn->kind != K_BN)
            continue;
        int src = bn->in[0];
        int p = m->vals[src].producer;
        if (p < 0 || !m->nodes[p].is_linear || m->vals[src].nconsumers != 1 || m->nodes[p].fold_bn >= 0)
            continue;
        m->nodes[p].fold_bn = i;
        bn->bn_of = p;
        xai_linear_fold_bn(m, &m->nodes[p], bn);
    }
}

void xai_graph_finalize(xai_model *m)
{
    if (prune_dead_nodes(m))
        return;
    link_values(m);
    fuse_gemm_bias(m);
    fold_bn_nodes(m);
}

const int64_t *xai_model_input_shape(const xai_model *m, int *ndim)
{
    *ndim = m->vals[m->input].ndim;
    return m->vals[m->input].shape;
}

const int64_t *xai_model_output_shape(const xai_model *m, int *ndim)
{
    *ndim = m->vals[m->output].ndim;
    return m->vals[m->output].shape;
}

int64_t xai_model_input_numel(const xai_model *m)
{
    return m->vals[m->input].numel;
}

int64_t xai_model_output_numel(const xai_model *m)
{
    return m->vals[m->output].numel;
}

int64_t xai_model_samples(const xai_model *m, int ndim, const int64_t *shape)
{
    int md;
    const int64_t *ms = xai_model_input_shape(m, &md);
    size_t row = sizeof(int64_t) * (size_t)md;
    if (ndim == md && memcmp(shape, ms, row) == 0)
        return 1;
    if (ndim == md + 1 && memcmp(shape + 1, ms, row) == 0)
        return shape[0];
    if (ndim == md && md > 1 && ms[0] == 1 && memcmp(shape + 1, ms + 1, row - sizeof(int64_t)) == 0)
        return shape[0];
    return -1;
}

int xai_model_opset(const xai_model *m)
{
    return m->opset;
}

int xai_model_node_count(const xai_model *m)
{
    return m->nnodes;
}

const char *xai_model_node_name(const xai_model *m, int i)
{
    return i >= 0 && i < m->nnodes ? m->nodes[i].name : NULL;
}

const char *xai_model_node_op(const xai_model *m, int i)
{
    return i >= 0 && i < m->nnodes ? m->nodes[i].op_type : NULL;
}

const char *xai_model_metadata(const xai_model *m, const char *key)
{
    for (int i = 0; i < m->nmeta; i++)
        if (strcmp(m->meta_key[i], key) == 0)
            return m->meta_val[i];
    return NULL;
}

/* ---------------------------------------------------------------- buffer layout */

/* A value's activation or relevance buffer and the steps of an explanation during which it
   holds data: the forward pass of node i is step i, the seed of the output relevance is step N
   (N nodes), the relevance (or backward) pass of node i is step 2N - i and the copy-out of the
   input relevance is step 2N + 1. */
typedef struct {
    size_t len, off;            /* floats */
    int t0, t1;                 /* first and last step, inclusive */
} buf_span;

/* Lifetimes. An activation lives from its forward pass to its producer's relevance pass: every
   node that reads it (its consumers, its producer) runs in between, and the rules may read any
   of them. A value's relevance lives from its last consumer's pass (the first to add to it) or
   the seed, to its producer's pass. The input and values without a producer keep both to the
   end. */
static void value_spans(const xai_model *m, const int *lastc, int v, size_t len, buf_span *val, buf_span *adj)
{
    int N = m->nnodes, p = m->vals[v].producer, end = p < 0 ? 2 * N + 1 : 2 * N - p;
    *val = (buf_span){len, 0, p < 0 ? 0 : p, end};
    int t0 = lastc[v] >= 0 ? 2 * N - lastc[v] : v == m->output ? N : end;
    if (v == m->output && N < t0)
        t0 = N;
    *adj = (buf_span){len, 0, p < 0 ? 0 : t0, end};
}

static int span_cmp(const void *a, const void *b)
{
    const buf_span *x = *(const buf_span *const *)a, *y = *(const buf_span *const *)b;
    return (x->off > y->off) - (x->off < y->off);
}

static int span_len_cmp(const void *a, const void *b)
{
    const buf_span *x = *(const buf_span *const *)a, *y = *(const buf_span *const *)b;
    if (x->len != y->len)
        return (x->len < y->len) - (x->len > y->len);
    return (x > y) - (x < y); /* stable: the layout does not depend on qsort */
}

/* Offsets for buffers whose lifetimes may overlap: the largest first, each at the lowest offset
   where it overlaps no placed buffer that is alive at the same time (first fit). @return the
   floats needed, or 0 without memory. */
static size_t place_spans(buf_span *s, int n)
{
    buf_span **order = malloc(sizeof *order * (size_t)n + 1), **live = malloc(sizeof *live * (size_t)n + 1);
    if (!order || !live) {
        free(order);
        free(live);
        return 0;
    }
    for (int i = 0; i < n; i++)
        order[i] = &s[i];
    qsort(order, (size_t)n, sizeof *order, span_len_cmp);
    size_t total = 1;
    for (int i = 0; i < n; i++) {
        buf_span *b = order[i];
        int nl = 0;
        for (int k = 0; k < i; k++)
            if (order[k]->t0 <= b->t1 && b->t0 <= order[k]->t1)
                live[nl++] = order[k];
        qsort(live, (size_t)nl, sizeof *live, span_cmp);
        size_t off = 0;
        for (int k = 0; k < nl && live[k]->off < off + b->len; k++)
            off = live[k]->off + live[k]->len > off ? live[k]->off + live[k]->len : off;
        b->off = off;
        total = off + b->len > total ? off + b->len : total;
    }
    free(order);
    free(live);
    return total;
}

/* Per value, the last node (in order) that reads it, or -1. */
static int *last_consumers(const xai_model *m)
{
    int *lastc = malloc(sizeof(int) * (size_t)m->nvals + 1);
    if (!lastc)
        return NULL;
    for (int v = 0; v < m->nvals; v++)
        lastc[v] = -1;
    for (int i = 0; i < m->nnodes; i++)
        for (int k = 0; k < m->nodes[i].nin; k++)
            if (m->nodes[i].in[k] >= 0)
                lastc[m->nodes[i].in[k]] = i;
    return lastc;
}

/* Where each activation and relevance buffer sits in bufmem: one after the other, or (shared)
   buffers whose lifetimes do not overlap in the same memory. Buffers are rounded to 16 floats
   (a cache line). @return the floats of bufmem, or 0 without memory. */
static size_t layout_buffers(xai_workspace *ws, int shared, size_t *val_off, size_t *adj_off)
{
    const xai_model *m = ws->m;
    buf_span *s = malloc(sizeof *s * 2 * (size_t)m->nvals + 1);
    if (!s)
        return 0;
    int n = 0;
    size_t total = 0;
    for (int v = 0; v < m->nvals; v++) {
        if (m->vals[v].is_const)
            continue;
        size_t len = ((size_t)m->vals[v].numel * (size_t)ws->cap + 15) / 16 * 16;
        value_spans(m, ws->lastc, v, len, &s[n], &s[n + 1]);
        if (m->vals[v].no_adj)
            s[n + 1].len = 0;
        s[n].off = total;
        s[n + 1].off = total + len;
        total += len + s[n + 1].len;
        n += 2;
    }
    if (shared && n)
        total = place_spans(s, n);
    for (int v = 0, k = 0; total && v < m->nvals; v++)
        if (!m->vals[v].is_const) {
            val_off[v] = s[k++].off;
            adj_off[v] = s[k++].off;
        }
    free(s);
    return n ? total : 1;
}

/* The per-node kept indices (MaxPool's argmax). */
static xai_status alloc_ibuf(xai_workspace *ws)
{
    const xai_model *m = ws->m;
    ws->ibuf = calloc((size_t)m->nnodes + 1, sizeof(int32_t *));
    if (!ws->ibuf)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    for (int i = 0; i < m->nnodes; i++)
        if (m->nodes[i].ibuf && !(ws->ibuf[i] = malloc(sizeof(int32_t) * m->nodes[i].ibuf * (size_t)ws->cap)))
            XAI_FAIL(XAI_ENOMEM, "cannot allocate a workspace for %lld samples", (long long)ws->cap);
    return XAI_OK;
}

/* A workspace for stacks of up to max_stack samples; shared: buffers share memory where their
   lifetimes in an explanation (forward, then relevance) do not overlap. */
static xai_status workspace_make(const xai_model *m, int64_t max_stack, int shared, xai_workspace **out)
{
    *out = NULL;
    if (max_stack < 1)
        XAI_FAIL(XAI_EINVAL, "workspace stack must be at least 1 (got %lld)", (long long)max_stack);
    xai_workspace *ws = calloc(1, sizeof *ws);
    if (!ws)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    ws->m = m;
    ws->cap = max_stack;
    ws->shared = shared;
    ws->fresh_adj = -1;
    ws->val = calloc((size_t)m->nvals + 1, sizeof(float *));
    ws->adj = calloc((size_t)m->nvals + 1, sizeof(float *));
    ws->lastc = last_consumers(m);
    size_t *off = malloc(sizeof(size_t) * 2 * (size_t)m->nvals + 1), scr = 0;
    size_t total = ws->val && ws->adj && ws->lastc && off ? layout_buffers(ws, shared, off, off + m->nvals) : 0;
    for (int i = 0; i < m->nnodes; i++) {
        size_t s = m->nodes[i].scratch * (size_t)max_stack + m->nodes[i].scratch_fixed;
        scr = s > scr ? s : scr;
    }
    /* 16 floats after the last buffer of each block: kernels may read that far past a buffer
       (graph-int.h, xai_linear.fwd); the other buffers are followed by the next one */
    ws->bufmem = total ? calloc(total + 16, sizeof(float)) : NULL; /* padding and unused tails read as 0 */
    ws->bufmem_len = total;
    ws->scratch_len = scr;
    ws->scratch = malloc((scr + 16) * sizeof(float));
    xai_status st = ws->bufmem && ws->scratch ? alloc_ibuf(ws) : XAI_ENOMEM;
    if (st) {
        free(off);
        xai_workspace_free(ws);
        XAI_FAIL(XAI_ENOMEM, "cannot allocate a workspace for %lld samples", (long long)max_stack);
    }
    memset(ws->scratch + scr, 0, 16 * sizeof(float));
    for (int v = 0; v < m->nvals; v++) {
        ws->val[v] = m->vals[v].is_const ? m->vals[v].f : ws->bufmem + off[v]; /* int constants are not read by runtime kernels */
        ws->adj[v] = m->vals[v].is_const || m->vals[v].no_adj ? NULL : ws->bufmem + off[m->nvals + v];
    }
    free(off);
    *out = ws;
    return XAI_OK;
}

xai_status xai_workspace_new(const xai_model *m, int64_t max_stack, xai_workspace **out)
{
    return workspace_make(m, max_stack, 0, out);
}

xai_status xai_workspace_new_shared(const xai_model *m, int64_t max_stack, xai_workspace **out)
{
    return workspace_make(m, max_stack, 1, out);
}

/* Fault in the pages of a workspace's buffers and of the first scratch_len floats of its scratch
   now, so that its first use runs as fast as later ones. */
void xai_workspace_touch(xai_workspace *ws, size_t scratch_len)
{
    memset(ws->bufmem, 0, sizeof(float) * ws->bufmem_len);
    memset(ws->scratch, 0, sizeof(float) * (scratch_len < ws->scratch_len ? scratch_len : ws->scratch_len));
    for (int i = 0; i < ws->m->nnodes; i++)
        if (ws->ibuf[i])
            memset(ws->ibuf[i], 0, sizeof(int32_t) * ws->m->nodes[i].ibuf * (size_t)ws->cap);
}

void xai_workspace_free(xai_workspace *ws)
{
    if (!ws)
        return;
    if (ws->ibuf)
        for (int i = 0; i < ws->m->nnodes; i++)
            free(ws->ibuf[i]);
    free(ws->ibuf);
    free(ws->val);
    free(ws->adj);
    free(ws->bufmem);
    free(ws->scratch);
    free(ws->lastc);
    free(ws);
}

/* Zero the relevance buffers before a sweep. In a shared workspace only the output's: the others
   still hold activations and are zeroed as their lifetimes begin (xai_ws_zero_before). */
void xai_ws_clear_adj(xai_workspace *ws)
{
    const xai_model *m = ws->m;
    if (ws->shared) {
        memset(ws->adj[m->output], 0, sizeof(float) * (size_t)(m->vals[m->output].numel * ws->ns));
        return;
    }
    for (int v = 0; v < m->nvals; v++)
        if (ws->adj[v])
            memset(ws->adj[v], 0, sizeof(float) * (size_t)(m->vals[v].numel * ws->ns));
}

/* In a shared workspace, zero the relevance buffers whose lifetime begins at node i's pass:
   the inputs it is the last to read and its outputs that nothing reads. With first_in the node's
   first input is left as it is and named in ws->fresh_adj: the node writes all of it before
   anything adds to it (its other readers come later in the sweep), so zeroing it would be a pass
   over a buffer as large as the input for nothing. */
void xai_ws_zero_before(xai_workspace *ws, int i, int first_in)
{
    const xai_model *m = ws->m;
    const xai_node *n = &m->nodes[i];
    ws->fresh_adj = -1;
    if (!ws->shared)
        return;
    for (int k = 0; k < n->nin; k++) {
        int v = n->in[k];
        if (v < 0 || v == m->output || m->vals[v].is_const || ws->lastc[v] != i) /* the output holds the seed */
            continue;
        if (k == 0 && first_in) {
            ws->fresh_adj = v; /* the node stores into it */
            continue;
        }
        memset(ws->adj[v], 0, sizeof(float) * (size_t)(m->vals[v].numel * ws->ns));
    }
    for (int k = 0; k < n->nout; k++) {
        int v = n->out[k];
        if (v >= 0 && v != m->output && ws->lastc[v] < 0 && ws->adj[v])
            memset(ws->adj[v], 0, sizeof(float) * (size_t)(m->vals[v].numel * ws->ns));
    }
}

xai_status xai_graph_forward(const xai_model *m, xai_workspace *ws, int64_t n, const float *x)
{
    if (ws->m != m)
        XAI_FAIL(XAI_EINVAL, "workspace belongs to another model");
    if (n < 1 || n > ws->cap)
        XAI_FAIL(XAI_EINVAL, "stack of %lld samples outside the workspace capacity %lld", (long long)n,
                 (long long)ws->cap);
    ws->ns = n;
    memcpy(ws->val[m->input], x, sizeof(float) * (size_t)(m->vals[m->input].numel * n));
    for (int i = 0; i < m->nnodes; i++) {
        const xai_node *nd = &m->nodes[i];
        xai_status st = nd->ops->forward(m, nd, ws);
        if (st)
            return st;
    }
    return XAI_OK;
}

xai_status xai_model_forward(const xai_model *m, xai_workspace *ws, int64_t n, const float *x, float *logits)
{
    xai_status st = xai_graph_forward(m, ws, n, x);
    if (st)
        return st;
    if (logits)
        memcpy(logits, ws->val[m->output], sizeof(float) * (size_t)(m->vals[m->output].numel * n));
    return XAI_OK;
}

/* The argmax class of each of n stacked inputs, forward in stacks of at most @p batch. */
xai_status xai_model_argmax(const xai_model *m, int64_t batch, int64_t n, const float *x, int *pred)
{
    int64_t nin = xai_model_input_numel(m), nc = xai_model_output_numel(m);
    int64_t b = batch < n ? batch : n;
    if (b < 1)
        b = 1;
    xai_workspace *ws = NULL;
    float *lg = malloc(sizeof(float) * (size_t)(b * nc));
    xai_status st = lg ? xai_workspace_new(m, b, &ws) : xai_error_set(XAI_ENOMEM, "prediction: out of memory");
    for (int64_t b0 = 0; b0 < n && !st; b0 += b) {
        int64_t nb = n - b0 < b ? n - b0 : b;
        if ((st = xai_model_forward(m, ws, nb, x + b0 * nin, lg)))
            break;
        for (int64_t i = 0; i < nb; i++) {
            int best = 0;
            for (int64_t c = 1; c < nc; c++)
                if (lg[i * nc + c] > lg[i * nc + best])
                    best = (int)c;
            pred[b0 + i] = best;
        }
    }
    xai_workspace_free(ws);
    free(lg);
    return st;
}

void xai_set_num_threads(int n)
{
    xai_par_set_threads(n);
}

/* After the weights changed (training): forget derived weights, refresh BN, refold, pack LSTM
   weights again. */
void xai_model_params_changed(xai_model *m)
{
    for (int i = 0; i < m->nnodes; i++) {
        xai_node *n = &m->nodes[i];
        if (n->kind == K_BN)
            xai_bn_refresh(n, m);
        else if (n->kind == K_LSTM && n->attr)
            xai_lstm_params_changed(n);
    }
    for (int i = 0; i < m->nnodes; i++) {
        xai_node *n = &m->nodes[i];
        xai_linear *L = xai_node_linear(n);
        if (!L)
            continue;
        for (int f = 0; f < 2; f++)
            for (int k = 0; k < LW_COUNT; k++) {
                free(L->cw[f][k]);
                free(L->cb[f][k]);
                L->cw[f][k] = L->cb[f][k] = NULL;
            }
        free(L->fw);
        free(L->fb);
        L->fw = L->fb = NULL;
        if (n->fold_bn >= 0)
            xai_linear_fold_bn(m, n, &m->nodes[n->fold_bn]);
    }
}

void xai_graph_sync_params(xai_model *m)
{
    for (int i = 0; i < m->nnodes; i++)
        if (m->nodes[i].kind == K_GEMM)
            xai_gemm_sync(m, &m->nodes[i]);
}
