/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * train.c - training: softmax cross-entropy, mini-batches with seeded shuffling, a
 * validation split with early stopping and best-checkpoint keeping, SGD with momentum,
 * Adam and AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019), step and cosine
 * learning-rate schedules. Parameter gradients come from each op's backward pass
 * (node->pgrad); BatchNorm uses batch statistics and Dropout is active while training.
 * Conventions follow PyTorch (weighted cross-entropy mean, momentum buffers, bias
 * corrections, running-statistics momentum) so results are comparable.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph-int.h"
#include "splitmix.h"
#include "train-int.h"

void xai_train_config_init(xai_train_config *c)
{
    memset(c, 0, sizeof *c);
    c->optimizer = XAI_OPT_ADAM;
    c->lr = 1e-3f;
    c->momentum = 0.9f;
    c->beta1 = 0.9f;
    c->beta2 = 0.999f;
    c->adam_eps = 1e-8f;
    c->epochs = 20;
    c->batch = 32;
    c->val_split = 0.2f;
    c->patience = 10;
    c->step_size = 10;
    c->step_gamma = 0.1f;
    c->bn_momentum = 0.1f;
}

typedef struct {
    float *data;     /* the parameter, updated in place */
    float *grad;
    float *m1, *m2;  /* optimizer state */
    float *best;     /* best checkpoint */
    int64_t n;
} param;

typedef struct {
    param *p;
    int np;
    float **stats;   /* BN running statistics (saved with checkpoints) */
    float **stats_best;
    int64_t *stats_n;
    int ns;
} paramset;

static int add_param(paramset *ps, float *data, int64_t n, float **grad_slot)
{
    if (!data || n <= 0)
        return 0;
    param *np_ = realloc(ps->p, sizeof *np_ * (size_t)(ps->np + 1));
    if (!np_)
        return -1;
    ps->p = np_;
    param *p = &ps->p[ps->np++];
    memset(p, 0, sizeof *p);
    p->data = data;
    p->n = n;
    p->grad = calloc((size_t)n, sizeof(float));
    p->m1 = calloc((size_t)n, sizeof(float));
    p->m2 = calloc((size_t)n, sizeof(float));
    p->best = malloc(sizeof(float) * (size_t)n);
    if (!p->grad || !p->m1 || !p->m2 || !p->best)
        return -1;
    memcpy(p->best, data, sizeof(float) * (size_t)n);
    *grad_slot = p->grad;
    return 0;
}

static int add_stat(paramset *ps, float *data, int64_t n)
{
    float **s = realloc(ps->stats, sizeof *s * (size_t)(ps->ns + 1));
    float **sb = realloc(ps->stats_best, sizeof *sb * (size_t)(ps->ns + 1));
    int64_t *sn = realloc(ps->stats_n, sizeof *sn * (size_t)(ps->ns + 1));
    if (s)
        ps->stats = s;
    if (sb)
        ps->stats_best = sb;
    if (sn)
        ps->stats_n = sn;
    if (!s || !sb || !sn)
        return -1;
    ps->stats[ps->ns] = data;
    ps->stats_n[ps->ns] = n;
    ps->stats_best[ps->ns] = malloc(sizeof(float) * (size_t)n);
    if (!ps->stats_best[ps->ns])
        return -1;
    memcpy(ps->stats_best[ps->ns], data, sizeof(float) * (size_t)n);
    ps->ns++;
    return 0;
}

static void free_params(xai_model *m, paramset *ps)
{
    for (int i = 0; i < ps->np; i++) {
        free(ps->p[i].grad);
        free(ps->p[i].m1);
        free(ps->p[i].m2);
        free(ps->p[i].best);
    }
    for (int i = 0; i < ps->ns; i++)
        free(ps->stats_best[i]);
    free(ps->p);
    free(ps->stats);
    free(ps->stats_best);
    free(ps->stats_n);
    for (int i = 0; i < m->nnodes; i++)
        for (int k = 0; k < 4; k++)
            m->nodes[i].pgrad[k] = NULL;
}

/* Collect the trainable parameters (of the nodes after node `first - 1`) and point each
   node's pgrad slots at their gradients. */
static xai_status collect(xai_model *m, paramset *ps, int first)
{
    memset(ps, 0, sizeof *ps);
    int bad = 0;
    for (int i = first; i < m->nnodes; i++) {
        xai_node *n = &m->nodes[i];
        switch (n->kind) {
        case K_CONV:
            bad |= add_param(ps, m->vals[n->in[1]].f, m->vals[n->in[1]].numel, &n->pgrad[0]);
            if (n->nin > 2 && n->in[2] >= 0)
                bad |= add_param(ps, m->vals[n->in[2]].f, m->vals[n->in[2]].numel, &n->pgrad[1]);
            break;
        case K_GEMM: {
            float *b;
            int64_t no, ni;
            float *w = xai_gemm_weights(n, &b, &no, &ni);
            bad |= add_param(ps, w, no * ni, &n->pgrad[0]);
            if (b)
                bad |= add_param(ps, b, no, &n->pgrad[1]);
            break;
        }
        case K_BN:
            bad |= add_param(ps, m->vals[n->in[1]].f, m->vals[n->in[1]].numel, &n->pgrad[0]);
            bad |= add_param(ps, m->vals[n->in[2]].f, m->vals[n->in[2]].numel, &n->pgrad[1]);
            bad |= add_stat(ps, m->vals[n->in[3]].f, m->vals[n->in[3]].numel);
            bad |= add_stat(ps, m->vals[n->in[4]].f, m->vals[n->in[4]].numel);
            break;
        case K_LSTM:
            for (int k = 1; k <= 3 && k < n->nin; k++)
                if (n->in[k] >= 0 && m->vals[n->in[k]].is_const && m->vals[n->in[k]].f)
                    bad |= add_param(ps, m->vals[n->in[k]].f, m->vals[n->in[k]].numel, &n->pgrad[k - 1]);
            break;
        default:
            break;
        }
    }
    if (bad) {
        free_params(m, ps);
        XAI_FAIL(XAI_ENOMEM, "out of memory for training state");
    }
    if (ps->np == 0) {
        free_params(m, ps);
        XAI_FAIL(XAI_EINVAL, "%s: the model has no trainable parameters", m->name);
    }
    return XAI_OK;
}


static void shuffle(int64_t *idx, int64_t n, uint64_t *rng)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(xai_splitmix64(rng) % (uint64_t)(i + 1));
        int64_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

/* Weighted softmax cross-entropy over nb samples; writes dL/dlogits into g (may be NULL). */
void xai_xent(const float *logits, const int *y, int64_t nb, int64_t nc, const float *cw, float *g, double *loss,
                 int64_t *correct)
{
    double wsum = 0, l = 0;
    for (int64_t s = 0; s < nb; s++)
        wsum += cw ? cw[y[s]] : 1.0;
    if (wsum <= 0)
        wsum = 1;
    for (int64_t s = 0; s < nb; s++) {
        const float *z = logits + s * nc;
        double mx = z[0];
        int64_t am = 0;
        for (int64_t c = 1; c < nc; c++)
            if (z[c] > mx) {
                mx = z[c];
                am = c;
            }
        double se = 0;
        for (int64_t c = 0; c < nc; c++)
            se += exp(z[c] - mx);
        double w = cw ? cw[y[s]] : 1.0;
        l += w * (log(se) + mx - z[y[s]]);
        *correct += am == y[s];
        if (g)
            for (int64_t c = 0; c < nc; c++) {
                double p = exp(z[c] - mx) / se;
                g[s * nc + c] = (float)(w * (p - (c == y[s])) / wsum);
            }
    }
    *loss += l / wsum * (double)nb;  /* caller divides by the sample count */
}

/* Random split: validation first in idx, as val_split has always done (same draws). */
static int64_t split_random(float frac, int64_t n, int64_t *idx, uint64_t *rng)
{
    for (int64_t i = 0; i < n; i++)
        idx[i] = i;
    shuffle(idx, n, rng);
    int64_t n_val = (int64_t)floor((double)frac * (double)n + 0.5);
    if (frac > 0 && n_val < 1)
        n_val = 1;
    if (n - n_val < 1)
        n_val = n - 1;
    return n_val;
}

/* Caller's split: validation samples first in idx, in order; -1 when nothing is left to train on. */
static int64_t split_by_mask(const unsigned char *mask, int64_t n, int64_t *idx)
{
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (mask[i])
            idx[k++] = i;
    int64_t n_val = k;
    for (int64_t i = 0; i < n; i++)
        if (!mask[i])
            idx[k++] = i;
    return n_val < n ? n_val : -1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static xai_status eval_set(const xai_model *m, xai_workspace *ws, const float *x, const int *y, const int64_t *idx,
                           int64_t n, const float *cw, float *xb, double *loss, double *acc)
{
    int64_t nin = m->vals[m->input].numel, nc = m->vals[m->output].numel;
    double l = 0;
    int64_t correct = 0;
    int ybuf[1024];
    ws->training = 0;
    for (int64_t b0 = 0; b0 < n; b0 += ws->cap) {
        int64_t nb = n - b0 < ws->cap ? n - b0 : ws->cap;
        if (nb > 1024)
            nb = 1024;
        for (int64_t s = 0; s < nb; s++) {
            int64_t i = idx ? idx[b0 + s] : b0 + s;
            memcpy(xb + s * nin, x + i * nin, sizeof(float) * (size_t)nin);
            ybuf[s] = y[i];
        }
        xai_status st = xai_graph_forward(m, ws, nb, xb);
        if (st)
            return st;
        double lb = 0;
        xai_xent(ws->val[m->output], ybuf, nb, nc, cw, NULL, &lb, &correct);
        l += lb;
    }
    *loss = l / (double)n;
    *acc = (double)correct / (double)n;
    return XAI_OK;
}

xai_status xai_evaluate_loss(const xai_model *m, int64_t n, const float *x, const int *y, const float *class_weights,
                             double *loss, double *acc)
{
    int64_t nc = m->vals[m->output].numel;
    for (int64_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= nc)
            XAI_FAIL(XAI_EINVAL, "label %d of sample %lld is outside 0..%lld", y[i], (long long)i, (long long)(nc - 1));
    xai_workspace *ws;
    int64_t cap = n < 64 ? n : 64;
    xai_status st = xai_workspace_new(m, cap, &ws);
    if (st)
        return st;
    float *xb = malloc(sizeof(float) * (size_t)(cap * m->vals[m->input].numel));
    if (!xb) {
        xai_workspace_free(ws);
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    }
    st = eval_set(m, ws, x, y, NULL, n, class_weights, xb, loss, acc);
    free(xb);
    xai_workspace_free(ws);
    return st;
}

xai_status xai_batch_grad(const xai_model *m, xai_workspace *ws, xai_guide_state *gs, const xai_train_config *cfg,
                          int64_t nb, const float *xb, const int *yb, const int64_t *idx, double *ce_sum,
                          double *penalty, int64_t *correct)
{
    int64_t nin = m->vals[m->input].numel, nc = m->vals[m->output].numel;
    xai_status st = XAI_OK;
    *penalty = 0;
    if (gs && gs->wt && cfg->guide == XAI_GUIDE_LRP) {
        double ce;
        if ((st = xai_lrp_guide_weights(m, gs, nb, xb, yb)) ||
            (st = xai_lrp_guide_pass(m, ws, gs, cfg, nb, xb, yb, &ce)))
            return st;
        *penalty = cfg->guide_lambda * ce;
    }
    if ((st = xai_graph_forward(m, ws, nb, xb)))
        return st;
    if (gs && gs->wt && cfg->guide == XAI_GUIDE_RRR) {
        int64_t one = cfg->guide_mask_n == 1;
        for (int64_t s = 0; s < nb; s++)
            memcpy(gs->mb + s * nin, cfg->guide_mask + (one ? 0 : idx[s]) * nin, sizeof(float) * (size_t)nin);
        if ((st = xai_rrr_batch(m, ws, gs->wt, gs->mb, nin, cfg->guide_lambda, gs->seed, penalty)))
            return st;
    }
    if (gs && gs->wt && cfg->guide == XAI_GUIDE_RRCLARC && (st = xai_rrclarc_batch(m, ws, gs, cfg, yb, penalty)))
        return st;
    xai_ws_clear_adj(ws);
    float *seed = ws->adj[m->output];
    xai_xent(ws->val[m->output], yb, nb, nc, cfg->class_weights, seed, ce_sum, correct);
    if (gs && gs->wt && cfg->guide == XAI_GUIDE_RRR)
        for (int64_t k = 0; k < nb * nc; k++)
            seed[k] += gs->seed[k];
    for (int i = m->nnodes - 1; i >= 0; i--) {
        const xai_node *nd = &m->nodes[i];
        if (!nd->ops->backward)
            XAI_FAIL(XAI_EUNSUPPORTED, "node '%s' (%s) has no backward pass", nd->name, nd->op_type);
        if ((st = nd->ops->backward(m, nd, ws)))
            return st;
    }
    return XAI_OK;
}

static void opt_step(const xai_train_config *c, paramset *ps, double lr, int64_t t)
{
    double b1t = 1.0 - pow(c->beta1, (double)t), b2t = 1.0 - pow(c->beta2, (double)t);
    for (int i = 0; i < ps->np; i++) {
        param *p = &ps->p[i];
        for (int64_t k = 0; k < p->n; k++) {
            float g = p->grad[k];
            switch (c->optimizer) {
            case XAI_OPT_SGD:
                g += c->weight_decay * p->data[k];
                p->m1[k] = t > 1 ? c->momentum * p->m1[k] + g : g;
                p->data[k] -= (float)(lr * (c->momentum > 0 ? p->m1[k] : g));
                break;
            case XAI_OPT_ADAM:
            case XAI_OPT_ADAMW:
                if (c->optimizer == XAI_OPT_ADAM)
                    g += c->weight_decay * p->data[k];
                else
                    p->data[k] -= (float)(lr * c->weight_decay * p->data[k]);
                p->m1[k] = c->beta1 * p->m1[k] + (1 - c->beta1) * g;
                p->m2[k] = c->beta2 * p->m2[k] + (1 - c->beta2) * g * g;
                p->data[k] -= (float)(lr * (p->m1[k] / b1t) / (sqrt(p->m2[k] / b2t) + c->adam_eps));
                break;
            }
        }
    }
}

static void checkpoint(paramset *ps, int save)
{
    for (int i = 0; i < ps->np; i++)
        memcpy(save ? ps->p[i].best : ps->p[i].data, save ? ps->p[i].data : ps->p[i].best,
               sizeof(float) * (size_t)ps->p[i].n);
    for (int i = 0; i < ps->ns; i++)
        memcpy(save ? ps->stats_best[i] : ps->stats[i], save ? ps->stats[i] : ps->stats_best[i],
               sizeof(float) * (size_t)ps->stats_n[i]);
}

/* sample count, settings, labels and inputs of xai_train() */
static xai_status train_check(const xai_model *m, const xai_train_config *cfg, int64_t n, const float *x,
                              const int *y)
{
    int64_t nin = m->vals[m->input].numel, nc = m->vals[m->output].numel;
    if (n < 2)
        XAI_FAIL(XAI_EINVAL, "training needs at least 2 samples (got %lld)", (long long)n);
    if (cfg->epochs < 1 || cfg->batch < 1 || cfg->lr <= 0 || !(cfg->val_split >= 0 && cfg->val_split <= 0.9f))
        XAI_FAIL(XAI_EINVAL, "bad training settings: epochs %d, batch %lld, lr %g, validation split %g", cfg->epochs,
                 (long long)cfg->batch, cfg->lr, cfg->val_split);
    if (nc < 2)
        XAI_FAIL(XAI_EINVAL, "%s: the model has %lld output(s); classification needs at least 2", m->name,
                 (long long)nc);
    for (int64_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= nc)
            XAI_FAIL(XAI_EINVAL, "label %d of sample %lld is outside 0..%lld", y[i], (long long)i, (long long)(nc - 1));
    for (int64_t k = 0; k < n * nin; k++)
        if (!isfinite(x[k]))
            XAI_FAIL(XAI_ENUMERIC, "sample %lld holds a non-finite value (%g) at element %lld", (long long)(k / nin),
                     (double)x[k], (long long)(k % nin));
    return XAI_OK;
}

/* the first node whose parameters are trained: 0, or the one after cfg->train_after */
static xai_status first_trained_node(const xai_model *m, const xai_train_config *cfg, int *first)
{
    *first = 0;
    if (!cfg->train_after)
        return XAI_OK;
    while (*first < m->nnodes && strcmp(m->nodes[*first].name ? m->nodes[*first].name : "", cfg->train_after))
        (*first)++;
    if (*first == m->nnodes)
        XAI_FAIL(XAI_EINVAL, "%s: no node '%s' to train after", m->name, cfg->train_after);
    (*first)++;
    return XAI_OK;
}

/* the learning rate of epoch ep (1-based) under the configured schedule */
static double epoch_lr(const xai_train_config *cfg, int ep)
{
    double lr = cfg->lr;
    if (cfg->schedule == XAI_SCHED_STEP && cfg->step_size > 0)
        lr = cfg->lr * pow(cfg->step_gamma, (double)((ep - 1) / cfg->step_size));
    else if (cfg->schedule == XAI_SCHED_COSINE)
        lr = 0.5 * cfg->lr * (1.0 + cos(M_PI * (double)(ep - 1) / (double)cfg->epochs));
    return lr;
}

/* One training run: model, data, the trained parameters and the batch buffers. */
typedef struct {
    xai_model *m;
    const xai_train_config *cfg;
    const float *x;
    const int *y;
    int64_t nin, cap;
    paramset *ps;
    xai_guide_state *gs;
    xai_workspace *ws;
    float *xb;
    int *yb;
    uint64_t rng;
    int64_t step; /* optimiser steps so far */
} train_run;

/* one pass over the shuffled training samples tr (n_tr of them) at learning rate lr:
 * summed batch losses into *tl, penalties weighted by batch size into *tp */
static xai_status train_epoch(train_run *t, int64_t *tr, int64_t n_tr, int ep, double lr, double *tl, double *tp,
                              int64_t *correct)
{
    const xai_train_config *cfg = t->cfg;
    int64_t nin = t->nin, cap = t->cap;
    xai_status st;
    shuffle(tr, n_tr, &t->rng);
    for (int64_t b0 = 0; b0 < n_tr; b0 += cap) {
        int64_t nb = n_tr - b0 < cap ? n_tr - b0 : cap;
        for (int64_t s = 0; s < nb; s++) {
            memcpy(t->xb + s * nin, t->x + tr[b0 + s] * nin, sizeof(float) * (size_t)nin);
            t->yb[s] = t->y[tr[b0 + s]];
        }
        t->ws->training = 1;
        t->ws->drop_seed = xai_splitmix64(&t->rng);
        double lb = 0, pb = 0;
        for (int i = 0; i < t->ps->np; i++)
            memset(t->ps->p[i].grad, 0, sizeof(float) * (size_t)t->ps->p[i].n);
        if ((st = xai_batch_grad(t->m, t->ws, t->gs, cfg, nb, t->xb, t->yb, tr + b0, &lb, &pb, correct)))
            return st;
        *tl += lb;
        *tp += pb * (double)nb;
        if (!isfinite(lb) || !isfinite(pb))
            return xai_error_set(XAI_ENUMERIC, "the training loss became %g in epoch %d; lower the learning rate",
                                 lb + pb * (double)nb, ep);
        t->step++;
        opt_step(cfg, t->ps, lr, t->step);
        if (cfg->guide == XAI_GUIDE_LRP) /* the next step's LRP reads rule weights built from these */
            xai_model_params_changed(t->m);
    }
    t->ws->training = 0;
    xai_model_params_changed(t->m);
    return XAI_OK;
}

/* the epochs, with validation after each, checkpointing the best and stopping early after
 * cfg->patience epochs without improvement (when there is a validation set) */
static xai_status train_epochs(train_run *t, int64_t *idx, int64_t n_val, int64_t n_tr, xai_train_result *r)
{
    const xai_train_config *cfg = t->cfg;
    int64_t *tr = idx + n_val, *va = idx;
    double best = INFINITY, t0 = now_s();
    int since_best = 0;
    xai_status st;
    for (int ep = 1; ep <= cfg->epochs; ep++) {
        double lr = epoch_lr(cfg, ep);
        double tl = 0, tp = 0;
        int64_t correct = 0;
        if ((st = train_epoch(t, tr, n_tr, ep, lr, &tl, &tp, &correct)))
            return st;
        xai_train_progress pr;
        memset(&pr, 0, sizeof pr);
        pr.epoch = ep;
        pr.epochs = cfg->epochs;
        pr.train_loss = tl / (double)n_tr;
        pr.train_acc = (double)correct / (double)n_tr;
        pr.train_penalty = tp / (double)n_tr;
        pr.lr = lr;
        pr.val_loss = pr.val_acc = NAN;
        if (n_val > 0 &&
            (st = eval_set(t->m, t->ws, t->x, t->y, va, n_val, cfg->class_weights, t->xb, &pr.val_loss, &pr.val_acc)))
            return st;
        double crit = n_val > 0 ? pr.val_loss : pr.train_loss;
        if (crit < best) {
            best = crit;
            r->best_epoch = ep;
            r->best_val_loss = pr.val_loss;
            r->best_val_acc = pr.val_acc;
            checkpoint(t->ps, 1);
            since_best = 0;
            pr.improved = 1;
        } else {
            since_best++;
        }
        if (n_val == 0)
            r->best_epoch = ep; /* nothing is restored without validation: the last epoch is the one kept */
        pr.best_epoch = r->best_epoch;
        pr.elapsed_s = now_s() - t0;
        r->epochs_run = ep;
        r->final_train_loss = pr.train_loss;
        r->final_train_acc = pr.train_acc;
        r->final_train_penalty = pr.train_penalty;
        if (cfg->progress)
            cfg->progress(&pr, cfg->progress_ud);
        if (n_val > 0 && cfg->patience > 0 && since_best >= cfg->patience)
            break;
    }
    return XAI_OK;
}

xai_status xai_train(xai_model *m, const xai_train_config *cfg_in, int64_t n, const float *x, const int *y,
                     xai_train_result *res)
{
    xai_train_config cfg;
    if (cfg_in)
        cfg = *cfg_in;
    else
        xai_train_config_init(&cfg);
    int first;
    xai_status st;
    if ((st = train_check(m, &cfg, n, x, y)) || (st = first_trained_node(m, &cfg, &first)))
        return st;
    paramset ps;
    if ((st = collect(m, &ps, first)))
        return st;
    xai_guide_state gs = {0};
    int blas = xai_par_blas_serial_begin(); /* results independent of OpenBLAS's thread count */
    train_run t = {.m = m, .cfg = &cfg, .x = x, .y = y, .nin = m->vals[m->input].numel,
                   .cap = cfg.batch < n ? cfg.batch : n, .ps = &ps, .gs = &gs};
    int64_t *idx = NULL;
    if ((st = xai_workspace_new(m, t.cap, &t.ws)) || (st = xai_guide_state_new(m, &cfg, n, t.cap, &gs)))
        goto out;
    t.xb = malloc(sizeof(float) * (size_t)(t.cap * t.nin));
    idx = malloc(sizeof(int64_t) * (size_t)n);
    t.yb = malloc(sizeof(int) * (size_t)t.cap);
    if (!t.xb || !idx || !t.yb) {
        st = xai_error_set(XAI_ENOMEM, "out of memory");
        goto out;
    }
    t.ws->bn_momentum = cfg.bn_momentum;
    t.rng = cfg.seed * 0x2545f4914f6cdd1dull + 12345;
    int64_t n_val = cfg.val_mask ? split_by_mask(cfg.val_mask, n, idx) : split_random(cfg.val_split, n, idx, &t.rng);
    if (n_val < 0) {
        st = xai_error_set(XAI_EINVAL, "the validation mask leaves no training sample");
        goto out;
    }
    int64_t n_tr = n - n_val;
    xai_train_result r;
    memset(&r, 0, sizeof r);
    r.n_train = n_tr;
    r.n_val = n_val;
    r.best_val_loss = r.best_val_acc = NAN;
    if ((st = train_epochs(&t, idx, n_val, n_tr, &r)))
        goto out;
    if (n_val > 0) {
        checkpoint(&ps, 0);
        xai_model_params_changed(m);
    }
    xai_graph_sync_params(m);
    if ((st = eval_set(m, t.ws, x, y, idx + n_val, n_tr, cfg.class_weights, t.xb, &r.kept_train_loss,
                       &r.kept_train_acc)))
        goto out;
    if (res)
        *res = r;
out:
    if (t.ws)
        t.ws->training = 0;
    if (st) /* steps before the error moved the weights: what is derived from them must follow */
        xai_model_params_changed(m);
    free(t.xb);
    free(idx);
    free(t.yb);
    xai_workspace_free(t.ws);
    xai_guide_state_free(&gs);
    free_params(m, &ps);
    xai_par_blas_serial_end(blas);
    return st;
}
