/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * train-int.h - private pieces shared by the training loop and explanation-guided training.
 */
#ifndef XAI_TRAIN_INT_H
#define XAI_TRAIN_INT_H

#include "graph-int.h"
#include "xai/train.h"

/*
 * RRR for one mini-batch that ws has just run forward (its training flag and dropout seed are
 * those of that forward pass). Accumulates into the nodes' pgrad buffers the part of the
 * penalty's weight gradient that flows through the input-gradient graph, and writes into
 * seed[nb * nclasses] the part to be backpropagated from the logits together with the
 * cross-entropy gradient. wt is a second workspace of the same model and capacity (the tangent
 * pass). mask holds nb rows of input numel floats, mask_stride apart (0: one row for all).
 * *penalty = lambda / nb * sum ||A (.) g||^2. Leaves ws->adj dirty.
 */
xai_status xai_rrr_batch(const xai_model *m, xai_workspace *ws, xai_workspace *wt, const float *mask,
                         int64_t mask_stride, float lambda, float *seed, double *penalty);

/* Per-run state of guided training: the tangent workspace, the logit seed, the batch's masks. */
typedef struct {
    xai_workspace *wt;
    float *seed, *mb;
    /* LRP guidance */
    int v, prod;                 /* the weighted activation and its producer (-1: model input) */
    float *wv, *keep, *lo, *hi;  /* weights 1 + R/max|R|, the unweighted activation, ZBox bounds */
    double *isr;
    int *tg;
    xai_explain_config ecfg;
} xai_guide_state;

/* Checks the config's guidance against the model and n samples; allocates for batches of cap. */
xai_status xai_guide_state_new(const xai_model *m, const xai_train_config *cfg, int64_t n, int64_t cap,
                               xai_guide_state *gs);
void xai_guide_state_free(xai_guide_state *gs);

/*
 * One mini-batch: forward (with ws's training flag and dropout seed), then the parameter
 * gradients of mean cross-entropy + guidance penalty ACCUMULATED into the nodes' pgrad buffers.
 * idx[nb] are the samples' indices in the training set (to find their masks). *ce_sum is the
 * batch's cross-entropy times nb, *penalty the batch's penalty; correct counts hits.
 */
xai_status xai_batch_grad(const xai_model *m, xai_workspace *ws, xai_guide_state *gs, const xai_train_config *cfg,
                          int64_t nb, const float *xb, const int *yb, const int64_t *idx, double *ce_sum,
                          double *penalty, int64_t *correct);

/* Weighted softmax cross-entropy over nb samples (train.c); g (may be NULL) gets dL/dlogits of
   the weighted mean, *loss += that mean * nb, *correct += hits. */
void xai_xent(const float *logits, const int *y, int64_t nb, int64_t nc, const float *cw, float *g, double *loss,
              int64_t *correct);

/* LRP guidance, in two steps for the tests: the weights w = 1 + R/max|R| of the batch into
   gs->wv (an inference-mode pass on gs->wt), then the weighted pass in training mode (ws's
   dropout seed) whose lambda-scaled cross-entropy gradient is ACCUMULATED into the pgrads;
   *ce is its mean cross-entropy. */
xai_status xai_lrp_guide_weights(const xai_model *m, xai_guide_state *gs, int64_t nb, const float *xb, const int *yb);
xai_status xai_lrp_guide_pass(const xai_model *m, const xai_workspace *ws, xai_guide_state *gs,
                              const xai_train_config *cfg, int64_t nb, const float *xb, const int *yb, double *ce);

/* RR-ClArC for one batch that ws has just run forward: the penalty's weight gradients
   accumulated into the pgrads of the nodes after the layer; leaves ws->adj dirty. */
xai_status xai_rrclarc_batch(const xai_model *m, xai_workspace *ws, xai_guide_state *gs, const xai_train_config *cfg,
                             const int *yb, double *penalty);

#endif /* XAI_TRAIN_INT_H */
