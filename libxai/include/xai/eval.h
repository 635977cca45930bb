/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eval.h - how faithful is an explanation? Region perturbation ("pixel flipping") and AOPC.
 *
 * Samek et al. 2017, "Evaluating the visualization of what a deep neural network has learned",
 * IEEE TNNLS 28(11):2660. The per-sample input is cut into patches (1-D time windows, 2-D
 * channel x time or time-frequency tiles, 3-D voxel blocks); patches are ordered by their summed
 * relevance, most relevant first (MoRF), least relevant first (LeRF), or at random (a seeded
 * baseline). Step k replaces the first k patches of that order, cumulatively, and the model is
 * run again on every x^k (in stacks, one workspace, no allocation per step). With
 * f = the logit of the explained class,
 *
 *     AOPC = < 1/(L+1) * sum_{k=0..L} [ f(x^0) - f(x^k) ] >_samples
 *
 * (the mean over samples; the k = 0 term is 0 and is kept, as in the paper). A higher MoRF
 * AOPC means the explanation found the evidence the model uses; for LeRF lower is better.
 */
#ifndef XAI_EVAL_H
#define XAI_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "xai/model.h"
#include "xai/status.h"
#include "xai/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The order in which patches are replaced. */
typedef enum {
    XAI_ORDER_MORF = 0, /**< most relevant first: descending patch relevance */
    XAI_ORDER_LERF,     /**< least relevant first: ascending patch relevance */
    XAI_ORDER_RANDOM,   /**< a seeded random permutation per sample; the relevance is ignored */
    XAI_ORDER_COUNT
} xai_perturb_order;

/** What a replaced patch becomes. */
typedef enum {
    XAI_REPLACE_BASELINE = 0, /**< the constant xai_perturb_config.baseline */
    XAI_REPLACE_UNIFORM,      /**< uniform noise in [min, max] of the unperturbed sample (seeded) */
    XAI_REPLACE_MEAN,         /**< the mean of the patch's unperturbed values (local mean; with
                                   patches of one element this changes nothing) */
    XAI_REPLACE_COUNT
} xai_replace_mode;

/** Settings of a perturbation run. Initialise with xai_perturb_config_init(). */
typedef struct {
    int patch_ndim;               /**< how many trailing axes of the per-sample shape @p patch
                                       covers; leading axes get patches of 1. 0: single elements [0] */
    int64_t patch[XAI_MAX_DIMS];  /**< patch extent per covered axis, each >= 1 and <= the axis;
                                       edge patches are cut short when the extent does not divide */
    int steps;                    /**< L, the number of perturbation steps; 0 = until every patch
                                       is replaced [0] */
    int64_t per_step;             /**< patches replaced per step [1] */
    xai_perturb_order order;      /**< [XAI_ORDER_MORF] */
    xai_replace_mode replace;     /**< [XAI_REPLACE_BASELINE] */
    float baseline;               /**< value of XAI_REPLACE_BASELINE [0] */
    uint64_t seed;                /**< random order and uniform noise [0]; sample s uses its own
                                       stream derived from (seed, s), so results do not depend on
                                       the batch size */
    int64_t batch;                /**< samples per forward stack, 1..4096 [64] */
    const int *target;            /**< [n] class explained per sample (borrowed), or NULL for the
                                       argmax of the unperturbed logits [NULL] */
} xai_perturb_config;

/** Fill @p c with the defaults listed above. */
XAI_API void xai_perturb_config_init(xai_perturb_config *c);

/** Outcome of xai_perturb_evaluate(). Arrays are owned; free with xai_perturb_result_free(). */
typedef struct {
    int64_t n;            /**< samples */
    int steps;            /**< L actually used */
    int64_t npatches;     /**< patches per sample */
    int *target;          /**< [n] class whose logit is f */
    double *f;            /**< [n][L+1] f(x^k), the class logit after k steps */
    double *aopc_sample;  /**< [n] 1/(L+1) sum_k (f(x^0) - f(x^k)) */
    double *curve;        /**< [L+1] mean over samples of f(x^0) - f(x^k) */
    double *fraction;     /**< [L+1] fraction of the patches replaced after k steps */
    double aopc;          /**< mean of aopc_sample */
    double sd;            /**< sample standard deviation of aopc_sample (n - 1); NaN when n < 2 */
    double ci_low;        /**< 95% confidence interval of the mean AOPC: aopc -/+ t * sd / sqrt(n), */
    double ci_high;       /**< t = Student's t quantile 0.975 with n - 1 degrees; NaN when n < 2 */
} xai_perturb_result;

/** Free the arrays of @p r and zero it; NULL and zeroed results are fine. */
XAI_API void xai_perturb_result_free(xai_perturb_result *r);

/**
 * Cut a per-sample shape into patches (row-major grid of patches, row-major inside).
 * @param ndim, shape    the per-sample shape (e.g. xai_model_input_shape())
 * @param cfg            patch_ndim and patch are used
 * @param[out] patch_of  prod(shape) entries: the patch of each element (may be NULL)
 * @param[out] npatches  number of patches
 * @return XAI_OK; XAI_EINVAL (patch_ndim > ndim, a patch extent < 1 or larger than its axis,
 *         an empty shape).
 */
XAI_API xai_status xai_perturb_patches(int ndim, const int64_t *shape, const xai_perturb_config *cfg,
                                       int64_t *patch_of, int64_t *npatches);

/**
 * The order in which the patches of one sample are replaced: patches sorted by their summed
 * relevance (descending for MoRF, ascending for LeRF, ties by patch index), or a random
 * permutation drawn from (cfg->seed, @p sample) for XAI_ORDER_RANDOM.
 * @param rel     prod(shape) relevance values (borrowed; may be NULL for XAI_ORDER_RANDOM)
 * @param sample  index of the sample in its stack (selects the random stream)
 * @param[out] order  npatches patch indices
 * @return XAI_OK; XAI_EINVAL (as xai_perturb_patches, NULL relevance), XAI_ENUMERIC
 *         (non-finite relevance), XAI_ENOMEM.
 */
XAI_API xai_status xai_perturb_order_patches(const xai_perturb_config *cfg, int ndim, const int64_t *shape,
                                             const float *rel, int64_t sample, int64_t *order);

/**
 * The perturbed input x^k of one sample: the first k * per_step patches of its order replaced.
 * This is exactly what xai_perturb_evaluate() feeds the model (for plots and checks).
 * @param x    prod(shape) floats, the unperturbed sample (borrowed)
 * @param rel  its relevance (may be NULL for XAI_ORDER_RANDOM)
 * @param k    step, 0..ceil(npatches / per_step)
 * @param[out] out  prod(shape) floats
 * @return as xai_perturb_order_patches(); XAI_EINVAL for k out of range.
 */
XAI_API xai_status xai_perturb_input(const xai_perturb_config *cfg, int ndim, const int64_t *shape,
                                     const float *x, const float *rel, int64_t sample, int k, float *out);

/**
 * Region perturbation of @p n stacked samples and their AOPC.
 * @param m    the model (borrowed); its per-sample input shape defines the patches
 * @param x    n * xai_model_input_numel() floats (borrowed, not modified)
 * @param rel  relevance of the same size, e.g. from xai_explain(); may be NULL for
 *             XAI_ORDER_RANDOM
 * @param[out] res  filled on success; free with xai_perturb_result_free()
 * @return XAI_OK; XAI_EINVAL (bad config, steps * per_step beyond the patches, class out of
 *         range), XAI_ENUMERIC (non-finite relevance or logits; the message names the sample
 *         and step), XAI_ENOMEM, or the status of xai_model_forward().
 */
XAI_API xai_status xai_perturb_evaluate(const xai_model *m, const xai_perturb_config *cfg, int64_t n,
                                        const float *x, const float *rel, xai_perturb_result *res);

/**
 * Mean of @p v and its two-sided 95% confidence interval from Student's t distribution with
 * n - 1 degrees of freedom (exact table up to 30, Cornish-Fisher expansion beyond).
 * @param[out] mean, lo, hi  lo and hi are NaN when n < 2 (any may be NULL)
 * @param[out] sd            sample standard deviation, NaN when n < 2 (may be NULL)
 */
XAI_API void xai_mean_ci95(const double *v, int64_t n, double *mean, double *sd, double *lo, double *hi);

/** Student's t quantile for probability 0.975 with @p df >= 1 degrees of freedom (NaN below). */
XAI_API double xai_t975(int64_t df);

/** Names "morf", "lerf", "random" (static; NULL when out of range). */
XAI_API const char *xai_perturb_order_name(xai_perturb_order o);
/** Parse an order name; @return XAI_EINVAL when unknown. */
XAI_API xai_status xai_perturb_order_parse(const char *s, xai_perturb_order *out);
/** Names "baseline", "uniform", "mean" (static; NULL when out of range). */
XAI_API const char *xai_replace_name(xai_replace_mode r);
/** Parse a replacement name; @return XAI_EINVAL when unknown. */
XAI_API xai_status xai_replace_parse(const char *s, xai_replace_mode *out);

/**
 * Parse a patch spec "8", "1x8", "4x4x4" into @p cfg (patch_ndim and patch).
 * @return XAI_EINVAL with a message for anything else (more than XAI_MAX_DIMS axes, zero, junk).
 */
XAI_API xai_status xai_perturb_patch_parse(const char *s, xai_perturb_config *cfg);

#ifdef __cplusplus
}
#endif

#endif /* XAI_EVAL_H */
