/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * prune.h - structured pruning of Conv filters and Dense units by a criterion: LRP relevance
 * (Yeom et al., "Pruning by explaining: a novel criterion for deep neural network pruning",
 * Pattern Recognition 115, 2021), the filter's weight norm (Li et al. 2017, ICLR), the mean
 * absolute gradient (Sun et al. 2017, ICML), or the first-order Taylor term (Molchanov et al.
 * 2017, ICLR); the last two of the cross-entropy loss summed over the reference samples before
 * the absolute value, as Yeom et al.'s reference code, or of the class logit per sample.
 *
 * A unit can be pruned when its channel flows, through per-channel operators only
 * (BatchNormalization, ReLU, LeakyReLU, ELU, Tanh, pooling, Dropout, Identity), into exactly
 * one Conv, Gemm or MatMul, possibly after a Flatten or Reshape. Every one of those operators
 * maps a zero channel to zero, so a unit whose weights, bias and BatchNormalization scale and
 * shift are zeroed ("masked") contributes nothing, and removing it physically (its filter,
 * bias, BN entries and the next layer's input weights) gives the same logits.
 */
#ifndef XAI_PRUNE_H
#define XAI_PRUNE_H

#include <stddef.h>
#include <stdint.h>

#include "xai/lrp.h"
#include "xai/model.h"
#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    XAI_PRUNE_LRP = 0,  /**< mean over the reference samples of sum |R| over the unit's output (Yeom et al. 2021) */
    XAI_PRUNE_WEIGHT,   /**< L1 norm of the unit's weights */
    XAI_PRUNE_GRADIENT, /**< |sum over samples and positions of dL/da| / (samples x positions), L the
                             cross-entropy at the sample's class (Sun et al. 2017, ICML; Yeom et al.'s code) */
    XAI_PRUNE_TAYLOR,   /**< |sum over samples and positions of a dL/da| / (samples x positions)
                             (Molchanov et al. 2017; Yeom et al.'s code) */
    XAI_PRUNE_GRADIENT_LOGIT, /**< per sample sum |d logit / d a| over the unit's output (the logit of the
                                   sample's class), mean over the samples: the earlier "gradient" */
    XAI_PRUNE_TAYLOR_LOGIT,   /**< per sample |mean over positions of a d logit / d a|, mean over the
                                   samples: the earlier "taylor" */
    XAI_PRUNE_COUNT
} xai_prune_criterion;

/** "lrp", "weight", "gradient", "taylor", "gradient-logit", "taylor-logit". */
XAI_API const char *xai_prune_criterion_name(xai_prune_criterion c);
/** The criterion called @p s; XAI_EINVAL naming the choices otherwise. */
XAI_API xai_status xai_prune_criterion_parse(const char *s, xai_prune_criterion *c);

/** The prunable layers of a model and what removing their units touches. */
typedef struct xai_prune_plan xai_prune_plan;

/**
 * Find the prunable layers of @p m (in graph order). A model without any gives XAI_EINVAL.
 * The plan keeps a copy of the model's current weights: build it after training.
 */
XAI_API xai_status xai_prune_plan_new(const xai_model *m, xai_prune_plan **out);

/** Which units a plan may prune. */
typedef enum {
    XAI_PRUNE_UNITS_ALL = 0, /**< Conv filters and Dense (Gemm, MatMul) units */
    XAI_PRUNE_UNITS_CONV,    /**< Conv filters only, as Yeom et al. prune CNNs; Dense layers stay whole */
    XAI_PRUNE_UNITS_AUTO     /**< Conv filters when the model has prunable ones, else Dense units (as
                                  Yeom et al. prune CNNs and their toy multilayer perceptrons) */
} xai_prune_units;

/** As xai_prune_plan_new(), restricted to @p units; XAI_EINVAL when none of those is prunable. */
XAI_API xai_status xai_prune_plan_new_units(const xai_model *m, xai_prune_units units, xai_prune_plan **out);
XAI_API void xai_prune_plan_free(xai_prune_plan *p);
XAI_API int xai_prune_nlayers(const xai_prune_plan *p);
/** Node name of layer @p l (borrowed). */
XAI_API const char *xai_prune_layer_name(const xai_prune_plan *p, int l);
/** Units (filters or Dense outputs) of layer @p l. */
XAI_API int64_t xai_prune_layer_units(const xai_prune_plan *p, int l);
/** Units over all layers: the length of score and keep arrays, layer by layer. */
XAI_API int64_t xai_prune_total_units(const xai_prune_plan *p);
/** The units the plan prunes: XAI_PRUNE_UNITS_CONV or _ALL (what XAI_PRUNE_UNITS_AUTO chose). */
XAI_API xai_prune_units xai_prune_plan_units(const xai_prune_plan *p);

/** The rule overrides of the LRP criterion by default: Yeom et al.'s bias-free z+ for every Conv. */
#define XAI_PRUNE_LRP_RULES "Conv=zplus-nobias"

/**
 * Score every unit under criterion @p c; larger means more important.
 * @param lrp  LRP settings for XAI_PRUNE_LRP (NULL: composite epsilon-plus with every Conv by
 *             zplus-nobias, batch norm passed: Yeom et al.'s rules);
 *             its targets and start are ignored: one-hot from @p y, as Yeom et al.
 * @param n,x  reference samples (not needed for XAI_PRUNE_WEIGHT: n may be 0)
 * @param y    the class of each sample (the loss's label, the explained or differentiated
 *             class), or NULL for the predicted class
 * @param[out] scores [xai_prune_total_units()]
 */
XAI_API xai_status xai_prune_score(const xai_prune_plan *p, const xai_model *m, xai_prune_criterion c,
                                   const xai_explain_config *lrp, int64_t n, const float *x, const int *y,
                                   double *scores);

/**
 * Choose the units to keep: the fraction @p rate of units with the lowest scores is pruned,
 * over all layers at once (@p global: each layer's scores divided by their L1 norm first, as
 * Yeom et al. do for LRP) or within each layer. Every layer keeps at least one unit; ties go to the
 * lower index.
 * @param[out] keep [total units] 1 = keep
 * @return the number pruned in *npruned (may be NULL).
 */
XAI_API xai_status xai_prune_select(const xai_prune_plan *p, const double *scores, double rate, int global,
                                    unsigned char *keep, int64_t *npruned);

/** How global ranking makes the layers' scores comparable: each layer's scores divided by
    their L1 or their L2 norm. */
typedef enum { XAI_PRUNE_NORM_L1 = 0, XAI_PRUNE_NORM_L2 } xai_prune_norm;

/** The norm Yeom et al.'s reference code gives criterion @p c: L1 for lrp and weight (Li et al.
    2017), L2 for the gradient and Taylor criteria, loss or logit (Molchanov et al. 2017). */
XAI_API xai_prune_norm xai_prune_criterion_norm(xai_prune_criterion c);

/** As xai_prune_select(), with global ranking normalised per layer by @p norm. */
XAI_API xai_status xai_prune_select_norm(const xai_prune_plan *p, const double *scores, double rate, int global,
                                         xai_prune_norm norm, unsigned char *keep, int64_t *npruned);

/**
 * ONNX bytes of the model with the units not kept zeroed (@p physical 0: same shapes) or
 * removed (@p physical 1: smaller tensors, shapes rewritten). malloc'ed; free() them.
 */
XAI_API xai_status xai_prune_write(const xai_prune_plan *p, const unsigned char *keep, int physical, void **bytes,
                                   size_t *len);

/** Trainable parameters (float initializers) and multiply-adds x 2 per sample of Conv/Gemm. */
XAI_API xai_status xai_model_cost(const xai_model *m, int64_t *params, int64_t *flops);

#ifdef __cplusplus
}
#endif

#endif /* XAI_PRUNE_H */
