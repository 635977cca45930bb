/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eval.h - how good is an explanation? Region perturbation ("pixel flipping") and AOPC first;
 * then (below) ROAD, faithfulness correlation, infidelity, localisation against a truth mask,
 * max/avg-sensitivity, the randomisation test (MPRT), complexity, and a driver for any list.
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

#include "xai/lrp.h"
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
    XAI_REPLACE_ROAD,         /**< ROAD (Rong et al., ICML 2022): every removed element is the mean
                                   of its neighbours along xai_perturb_config.road_axes (a linear
                                   system over all removed elements, solved for each step), plus
                                   Gaussian noise; see xai_road_impute() */
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
    unsigned road_axes;           /**< XAI_REPLACE_ROAD: bit d set = neighbours along per-sample
                                       axis d; 0 = every axis longer than 1 [0] */
    float road_noise;             /**< XAI_REPLACE_ROAD: noise sd as a fraction of the sample's
                                       standard deviation [0.01] */
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

/* ==== Metrics beyond AOPC =========================================================
 *
 * Each family has a function on plain float arrays in the model-input layout (one sample
 * or a stack), so a domain program can call it with its own relevance stack, input stack,
 * model and truth mask; xai_eval_metrics() computes any list of them for one method.
 * Conventions: rel, x and mask are n * prod(per-sample shape) floats, stacked; per-sample
 * values go to caller arrays of n doubles; a value that does not exist for a sample (e.g.
 * a correlation with a constant side) is NaN and is left out of means and intervals.
 */

/** Pearson correlation of two double vectors; NaN when n < 2 or either side is constant. */
XAI_API double xai_pearson(const double *a, const double *b, int64_t n);

/**
 * Spearman rank correlation of two float vectors (Pearson of the ranks, ties get their
 * average rank). @param[out] rho  NaN when either side is constant.
 * @return XAI_OK; XAI_EINVAL (NULL, n < 2), XAI_ENUMERIC (non-finite values), XAI_ENOMEM.
 */
XAI_API xai_status xai_spearman(const float *a, const float *b, int64_t n, double *rho);

/** Localisation of one sample's relevance against a ground-truth mask (Arras et al., Inf.
 *  Fusion 81, 2022; pointing game: Zhang et al., ECCV 2016). With R = max(relevance, 0), or
 *  |relevance| when asked, GT = {mask != 0}, K = |GT|, N = all elements:
 *    mass_accuracy = sum_GT R / sum R              (NaN when sum R = 0)
 *    rank_accuracy = |top-K elements by R in GT| / K   (ties broken by lower index; NaN
 *                    when sum R = 0)
 *    pointing_game = 1 when the element of largest relevance (signed, or |R|) is in GT, else 0
 *    enrichment    = mass_accuracy / (K / N)       (1 = no better than the volume share) */
typedef struct {
    double mass_accuracy, rank_accuracy, pointing_game, enrichment;
} xai_localisation;

/**
 * @param use_abs  0: positive relevance (as in Arras et al.); 1: |relevance| (for maps
 *                 whose sign carries no meaning, e.g. plain gradients)
 * @return XAI_OK; XAI_EINVAL (NULL, numel < 1, an empty mask or a mask covering everything),
 *         XAI_ENUMERIC (non-finite relevance or mask), XAI_ENOMEM.
 */
XAI_API xai_status xai_eval_localisation(const float *rel, const float *mask, int64_t numel, int use_abs,
                                         xai_localisation *out);

/**
 * Complexity of one map with a = |relevance| (Chalasani et al., ICML 2020; Bhatt et al.,
 * IJCAI 2020): sparseness = Gini index of a, with a sorted ascending (1-based i):
 *     G = sum_i (2 i - N - 1) a_(i) / (N sum_i a_i)          (higher = sparser; 0 when flat)
 * complexity = entropy of p = a / sum a, -sum_i p_i ln p_i (nats; lower = simpler).
 * Both are NaN for an all-zero map. Either output may be NULL.
 * @return XAI_OK; XAI_EINVAL (NULL, numel < 1), XAI_ENUMERIC, XAI_ENOMEM.
 */
XAI_API xai_status xai_eval_complexity(const float *rel, int64_t numel, double *sparseness, double *complexity);

/**
 * ROAD noisy linear imputation of one sample (Rong et al., ICML 2022), adapted to n-D
 * layouts: every removed element e gets the value that makes it the mean of its neighbours
 * (the elements one step away along the axes in @p axes, removed or not), i.e. the solution
 * of  deg(e) v_e - sum_{j in N(e)} v_j = 0  over all removed e with the kept values fixed
 * (a graph Laplace equation, solved by conjugate gradients to a relative residual of 1e-7).
 * A connected group of removed elements that touches no kept element gets the mean of the
 * kept values (0 when nothing is kept). Then N(0, (noise * sd(x))^2) is added to every
 * imputed value, drawn from (seed, sample, element).
 * @param axes     bit d = neighbours along axis d; 0 = every axis longer than 1
 * @param removed  prod(shape) flags (nonzero = impute)
 * @param[out] out prod(shape) floats; kept elements are copied from @p x (may alias x)
 * @return XAI_OK; XAI_EINVAL (bad shape or axes, NULL), XAI_ENOMEM.
 */
XAI_API xai_status xai_road_impute(int ndim, const int64_t *shape, unsigned axes, const float *x,
                                   const unsigned char *removed, double noise, uint64_t seed, int64_t sample,
                                   float *out);

/** Settings of the model-based metrics. Initialise with xai_eval_config_init(). */
typedef struct {
    xai_perturb_config perturb; /**< patches, steps, replacement, seed and batch of AOPC; ROAD
                                     uses the same patches and steps with XAI_REPLACE_ROAD;
                                     faithfulness correlation removes random sets of these
                                     patches with this replacement */
    int fc_runs;                /**< faithfulness correlation: random subsets per sample [64] */
    double fc_fraction;         /**< share of the patches in each subset [0.1] */
    int infid_runs;             /**< infidelity: noise draws per sample [64] */
    double infid_sigma;         /**< infidelity noise sd as a fraction of the sample's sd [0.1] */
    int sens_runs;              /**< max/avg-sensitivity: noisy copies per sample [10] */
    double sens_radius;         /**< sensitivity noise: uniform in +-radius * (max - min) of
                                     the sample [0.02] */
    int loc_abs;                /**< localisation on |R| instead of max(R, 0) [0] */
    int mprt_abs;               /**< MPRT: Spearman of |R| (Adebayo et al.) instead of R [1] */
    uint64_t seed;              /**< noise, subsets and randomised weights [0]; sample s draws
                                     from (seed, s), so values do not depend on the batch */
} xai_eval_config;

XAI_API void xai_eval_config_init(xai_eval_config *c);

/**
 * Explain n samples, each for its own class: xai_explain() with ecfg->targets = @p targets,
 * where every class must be given (no -1). @param targets [n] classes.
 */
XAI_API xai_status xai_explain_targets(const xai_model *m, const xai_explain_config *ecfg, int64_t n,
                                       const float *x, const int *targets, float *rel);

/**
 * Faithfulness correlation (Bhatt et al., IJCAI 2020), per sample: for t = 1..fc_runs a
 * random set S_t of round(fc_fraction * patches) patches (at least 1) is replaced as in
 * cfg->perturb; the value is Pearson( sum_{i in S_t} R_i , f(x) - f(x with S_t replaced) ).
 * Higher is better. f is the logit of targets[s].
 */
XAI_API xai_status xai_eval_faithfulness_correlation(const xai_model *m, const xai_eval_config *cfg, int64_t n,
                                                     const float *x, const float *rel, const int *targets,
                                                     double *out);

/**
 * Infidelity (Yeh et al., NeurIPS 2019) with Gaussian perturbations, per sample: with
 * I_t ~ N(0, (infid_sigma * sd(x))^2) elementwise, a_t = I_t . R and b_t = f(x) - f(x - I_t),
 *     INFD = 1/T sum_t (beta a_t - b_t)^2,   beta = sum_t a_t b_t / sum_t a_t^2
 * (beta: the optimal scale of the explanation, as in Yeh et al.'s experiments, so that maps
 * of different scale compare; beta = 0 for an all-zero map). Lower is better. The draws
 * depend only on (seed, sample), so every method sees the same perturbations.
 */
XAI_API xai_status xai_eval_infidelity(const xai_model *m, const xai_eval_config *cfg, int64_t n, const float *x,
                                       const float *rel, const int *targets, double *out);

/**
 * Max- and avg-sensitivity (Yeh et al., NeurIPS 2019), Monte-Carlo: sens_runs copies
 * y = x + u with u uniform in +-sens_radius * (max - min of x), each explained by @p ecfg for
 * the class targets[s]; per copy ||Phi(y) - Phi(x)||_2 / ||Phi(x)||_2 (NaN for a zero map).
 * max_out / avg_out (either may be NULL): the max and the mean over the copies. Lower is better.
 * XAI_EINVAL with per-element z-box bounds in @p ecfg (they hold for x, not for the copies).
 */
XAI_API xai_status xai_eval_sensitivity(const xai_model *m, const xai_eval_config *cfg,
                                        const xai_explain_config *ecfg, int64_t n, const float *x,
                                        const float *rel, const int *targets, double *max_out, double *avg_out);

/** Outcome of xai_eval_mprt(); free with xai_mprt_result_free(). */
typedef struct {
    int nlayers;        /**< parametrised layers, in the order they were randomised (top first) */
    char **layer;       /**< [nlayers] node names; "conv1+bn1" when a BatchNorm is folded into it */
    int64_t n;
    double *rho;        /**< [n][nlayers] Spearman of the map after randomising layers 0..l with
                             the original map */
    double *mean, *ci_low, *ci_high; /**< [nlayers] over samples (NaN-free samples only) */
} xai_mprt_result;

XAI_API void xai_mprt_result_free(xai_mprt_result *r);

/**
 * Model parameter randomisation test (Adebayo et al., NeurIPS 2018), cascading: a copy of
 * @p m gets its parametrised layers (Conv, Gemm/MatMul, LSTM) re-initialised one more at a
 * time from the output down, and the samples are explained again (same classes) after each.
 * Re-initialisation is PyTorch's default (weights and biases uniform in +-1/sqrt(fan_in),
 * LSTM +-1/sqrt(H)), seeded. A BatchNormalization that follows a Conv/Gemm belongs to that
 * layer and is reset with it to gamma 1, beta 0, mean 0, var 1 (its re-initialisation):
 * libxai folds it into the layer for LRP, so the explained, folded layer is random; a
 * BatchNormalization elsewhere is a layer of its own and is reset the same way.
 * The original map is explained on the same copy before any change, so MPRT of an
 * unchanged model is exactly 1. @p m is not modified.
 * @return XAI_OK; XAI_EINVAL (no parametrised layer), errors of xai_explain().
 */
XAI_API xai_status xai_eval_mprt(const xai_model *m, const xai_eval_config *cfg, const xai_explain_config *ecfg,
                                 int64_t n, const float *x, const int *targets, xai_mprt_result *res);

/** The metrics xai_eval_metrics() knows. */
typedef enum {
    XAI_METRIC_AOPC_MORF = 0, XAI_METRIC_AOPC_LERF, XAI_METRIC_ROAD_MORF, XAI_METRIC_ROAD_LERF,
    XAI_METRIC_FAITHFULNESS_CORR, XAI_METRIC_INFIDELITY,
    XAI_METRIC_MASS_ACCURACY, XAI_METRIC_RANK_ACCURACY, XAI_METRIC_POINTING_GAME, XAI_METRIC_ENRICHMENT,
    XAI_METRIC_MAX_SENSITIVITY, XAI_METRIC_AVG_SENSITIVITY,
    XAI_METRIC_MPRT,
    XAI_METRIC_SPARSENESS, XAI_METRIC_COMPLEXITY,
    XAI_METRIC_COUNT
} xai_metric;

/** "aopc-morf", "road-morf", "faithfulness-corr", "mass-accuracy", ... (static; NULL out of range). */
XAI_API const char *xai_metric_name(xai_metric k);
/** "faithfulness", "localisation", "robustness", "randomisation", "complexity". */
XAI_API const char *xai_metric_family(xai_metric k);
/** +1 when higher is better, -1 when lower is better (0 out of range). */
XAI_API int xai_metric_direction(xai_metric k);
/** Does the metric need a ground-truth mask? */
XAI_API int xai_metric_needs_mask(xai_metric k);
/**
 * Parse "all", a family name or a metric name, comma-separated, into a bit set (bit k =
 * metric k). @return XAI_EINVAL with the known names for anything else.
 */
XAI_API xai_status xai_metric_parse_list(const char *s, uint32_t *set);

/** One metric of one method over the samples. */
typedef struct {
    int computed;                  /**< 0: not asked for */
    double *sample;                /**< [n] per-sample values (NaN where undefined) */
    double mean, sd, ci_low, ci_high; /**< over the finite per-sample values (xai_mean_ci95) */
    int64_t n_finite;
} xai_metric_score;

/** Outcome of xai_eval_metrics(); free with xai_eval_scores_free(). */
typedef struct {
    int64_t n;
    int *target;                          /**< [n] classes used */
    xai_metric_score score[XAI_METRIC_COUNT];
    xai_perturb_result aopc[2], road[2];  /**< curves of AOPC and ROAD, [0] MoRF, [1] LeRF */
    xai_mprt_result mprt;                 /**< per-layer correlations (its mean over layers is
                                               the MPRT score: lower is better) */
} xai_eval_scores;

XAI_API void xai_eval_scores_free(xai_eval_scores *s);

/**
 * Fill each computed score's mean, sd, 95 % interval and n_finite from its per-sample values
 * (the finite ones, xai_mean_ci95()), as xai_eval_metrics() does; for scores whose samples a
 * caller pooled from several calls (e.g. each sample scored by the fold model that explained
 * it). @p s->n is the number of samples.
 */
XAI_API void xai_eval_scores_summarise(xai_eval_scores *s);

/**
 * Compute the metrics in @p set for one attribution method.
 * @param ecfg     the method (used for MPRT and sensitivity, and for @p rel when NULL)
 * @param rel      the method's maps of the n samples, or NULL to compute them here
 * @param mask     ground truth in the input layout (n stacked masks), or NULL; needed by
 *                 the localisation metrics
 * @param targets  [n] classes, or NULL for the argmax of each sample's logits
 * @return XAI_OK; XAI_EINVAL (a localisation metric without a mask, bad config), errors of
 *         the metric functions (their message names the metric).
 */
XAI_API xai_status xai_eval_metrics(const xai_model *m, const xai_eval_config *cfg, const xai_explain_config *ecfg,
                                    uint32_t set, int64_t n, const float *x, const float *rel, const float *mask,
                                    const int *targets, xai_eval_scores *out);

/* ==== Drivers over several methods ================================================= */

/** One attribution method of an evaluation: its label (e.g. "lrp:epsilon-plus-flat", used
 *  in messages and tables) and how it explains. */
typedef struct {
    const char *label;
    xai_explain_config explain;
} xai_eval_method;

/** Progress of a driver: @p done of @p total steps finished, the last one named @p item. */
typedef void (*xai_eval_progress_fn)(void *ud, int64_t done, int64_t total, const char *item);

/** One (method, order) run of an AOPC sweep. */
typedef struct {
    char label[160];          /**< the method's label, "random" for the baseline */
    xai_perturb_order order;
    xai_perturb_result res;
} xai_aopc_run;

/** Outcome of xai_aopc_sweep_run(); free with xai_aopc_sweep_free(). */
typedef struct {
    int nruns;
    xai_aopc_run *run; /**< [nruns]: the random baseline, then per method its MoRF and/or LeRF run */
} xai_aopc_sweep;

XAI_API void xai_aopc_sweep_free(xai_aopc_sweep *s);

/**
 * Region perturbation of several methods (Samek et al. 2017). The seeded random order runs
 * first and fixes each sample's class (cfg->target, or the argmax of its logits); then every
 * method explains the n samples for those classes (xai_explain_targets()) and is perturbed in
 * the orders asked for. cfg->order and cfg->target are read as described, the rest of @p cfg
 * applies to every run.
 * @param orders   bit 0: MoRF, bit 1: LeRF (1, 2 or 3)
 * @param progress called after each run (may be NULL); total = 1 + methods * orders
 * @return XAI_OK; XAI_EINVAL, XAI_ENOMEM, or the error of a method's explanation or
 *         perturbation, its message prefixed by the method's label.
 */
XAI_API xai_status xai_aopc_sweep_run(const xai_model *m, const xai_perturb_config *cfg, unsigned orders,
                                      const xai_eval_method *methods, int nmethods, int64_t n, const float *x,
                                      xai_eval_progress_fn progress, void *ud, xai_aopc_sweep *out);

/**
 * xai_eval_metrics() for each of @p nmethods methods (each explains the samples itself), into
 * out[0..nmethods-1]; free each with xai_eval_scores_free(). On failure nothing is left to
 * free and the message starts with the method's label.
 * @param progress called after each method (may be NULL)
 */
XAI_API xai_status xai_eval_methods(const xai_model *m, const xai_eval_config *cfg, uint32_t set,
                                    const xai_eval_method *methods, int nmethods, int64_t n, const float *x,
                                    const float *mask, const int *targets, xai_eval_progress_fn progress, void *ud,
                                    xai_eval_scores *out);

#ifdef __cplusplus
}
#endif

#endif /* XAI_EVAL_H */
