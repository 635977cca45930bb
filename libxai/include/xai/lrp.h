/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * lrp.h - Layer-wise Relevance Propagation and gradient baselines.
 *
 * Rules and composites follow Zennit's conventions exactly (README, "LRP conventions"):
 * Bach et al. 2015; Montavon et al. 2017, 2019; Kohlbrenner et al. 2020 (composites);
 * Arras et al. 2017, 2019 (LSTM). Gradient baselines: Simonyan et al. 2014,
 * Shrikumar et al. 2016 (gradient x input), Smilkov et al. 2017 (SmoothGrad),
 * Sundararajan et al. 2017 (Integrated Gradients).
 */
#ifndef XAI_LRP_H
#define XAI_LRP_H

#include <stddef.h>
#include <stdint.h>

#include "xai/model.h"
#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The rule a layer applies. */
typedef enum {
    XAI_RULE_DEFAULT = 0, /**< what the composite says (only in overrides: never resolved) */
    XAI_RULE_EPSILON,
    XAI_RULE_ZPLUS,
    XAI_RULE_ALPHABETA,
    XAI_RULE_GAMMA,
    XAI_RULE_ZBOX,
    XAI_RULE_FLAT,
    XAI_RULE_WSQUARE,
    XAI_RULE_PASS,
    XAI_RULE_NORM,
    XAI_RULE_GRADIENT,     /**< plain gradient (data movement, and what Zennit does without a rule) */
    XAI_RULE_COUNT
} xai_rule_kind;

/** A rule with its parameters. */
typedef struct {
    xai_rule_kind kind;
    float epsilon;      /**< Epsilon: the epsilon; other rules use stabilizer */
    float stabilizer;   /**< 1e-6 unless overridden */
    float gamma;        /**< Gamma */
    float alpha, beta;  /**< AlphaBeta */
    float low, high;    /**< ZBox bounds (scalars broadcast over the input); NaN: the config's
                             per-element box_low/box_high when given, else each sample's own
                             min and max (what the composites use by default) */
    float bias_factor;  /**< Epsilon with bias factor (Arras et al.); 0 = plain */
    int no_bias;        /**< ZPlus, AlphaBeta: the bias left out of both denominators (spec suffix
                             "-nobias"; Zennit's zero_params='bias'), Yeom et al.'s conv rule */
} xai_rule;

/** How BatchNormalization nodes that follow Conv/Dense are treated. */
typedef enum { XAI_BN_FOLD = 0, XAI_BN_PASS } xai_bn_mode;
/**
 * Output relevance start. AUTO: the logit for models with an LSTM (Arras et al.), else one-hot
 * (Zennit). The two contrastive starts explain the target's evidence against the other classes,
 * so evidence that every class shares (in speech: "a word is spoken here") cancels. Both put
 * relevance on the pairwise differences z_t - z_k (k != t), a linear neuron with weights
 * w_t - w_k, and seed the output layer so that its rule propagates each difference as one
 * neuron; they assume a rule on the output layer that is linear in its relevance and divides
 * by the output (epsilon, the composites' default for dense layers), not z+.
 * LOGODDS: the log-odds z_t - log sum_{k != t} exp z_k, shared among the differences by their
 * softmin weights, as the neuralised softmax of Kauffmann et al. ("From clustering to cluster
 * explanations via neural networks", IEEE TNNLS 2022); the relevance sums to the log-odds.
 * CONTRAST: the logit minus the mean of the other logits, every difference weighted 1/(C-1)
 * (a target-against-the-rest contrast in the spirit of Gu et al. 2018, contrastive LRP).
 * Gradient methods always start one-hot.
 */
typedef enum { XAI_INIT_ONEHOT = 0, XAI_INIT_LOGIT, XAI_INIT_AUTO, XAI_INIT_LOGODDS, XAI_INIT_CONTRAST } xai_init_mode;
/** Attribution method. */
typedef enum {
    XAI_METHOD_LRP = 0,
    XAI_METHOD_GRADIENT,
    XAI_METHOD_GRADIENT_X_INPUT,
    XAI_METHOD_SMOOTHGRAD,
    XAI_METHOD_INTEGRATED_GRADIENTS,
    XAI_METHOD_COUNT
} xai_method;

/** Everything an explanation needs. Initialise with xai_explain_config_init(). */
typedef struct {
    xai_method method;
    const char *composite;  /**< "epsilon-plus-flat" (default), "epsilon", "epsilon-plus", ... */
    float epsilon;          /**< epsilon of the Epsilon rule [1e-6] */
    float gamma;            /**< gamma of the Gamma rule [0.25] */
    int have_bounds;        /**< 0: ZBox bounds of each sample are that sample's min and max,
                                 so a stack explains as its samples do one by one */
    float low, high;        /**< ZBox bounds when have_bounds */
    const float *box_low;   /**< NULL [default], or n * input numel floats aligned with x: each input
                                 element's lower ZBox bound, for ZBox rules whose bounds are NaN
                                 (have_bounds 0: the z-box of the composites) on a layer whose input is
                                 the model's input; such a rule on any other layer fails with
                                 XAI_EINVAL. A root point per element, e.g. a noise floor per
                                 frequency band (Montavon et al. 2017); low = min(x, floor) with
                                 high = x gives relevance (x - l)+ w+ / z+. Gradient methods and
                                 other rules ignore them. Borrowed for the call */
    const float *box_high;  /**< as box_low, the upper bounds; both or neither [NULL] */
    xai_bn_mode bn;         /**< [fold] */
    xai_init_mode init;     /**< [auto: logit with an LSTM, else onehot] */
    int target;             /**< class to explain; -1 = the argmax [-1] */
    const int *targets;     /**< NULL [default]: every sample uses target; else n entries, the
                                 class of each sample (-1 = its argmax); overrides target */
    float bias_factor;      /**< beta of the epsilon rule with bias factor [0] */
    float lstm_epsilon;     /**< epsilon of the LSTM linear rule [1e-3] */
    const char *rules;      /**< per-layer overrides, see xai_rules_parse(); may be NULL */
    int smooth_n;           /**< SmoothGrad samples [20] */
    float smooth_sigma;     /**< SmoothGrad noise as a fraction of (max - min) [0.1] */
    uint64_t seed;          /**< SmoothGrad noise seed [0] */
    int ig_steps;           /**< Integrated Gradients steps [20] */
    int64_t batch;          /**< samples per sweep [64] */
    int layer_sums;         /**< fill the per-layer relevance sums of the result (costs a pass
                                 over every activation) [1] */
} xai_explain_config;

/** Fill @p c with the defaults listed above. */
XAI_API void xai_explain_config_init(xai_explain_config *c);

/** Per-sample outcome of an explanation. Arrays are owned; free with xai_explain_result_free(). */
typedef struct {
    int64_t n;              /**< samples */
    int64_t nclasses;       /**< logits per sample */
    float *logits;          /**< [n][nclasses] */
    int *target;            /**< [n] explained class */
    double *rel_sum;        /**< [n] sum of the input relevance */
    double *init_sum;       /**< [n] relevance put in at the output */
    int nlayers;            /**< number of nodes reported */
    char **layer_name;      /**< [nlayers] node names (owned) */
    char **layer_op;        /**< [nlayers] op types (owned) */
    const char **layer_rule;/**< [nlayers] rule names (static) */
    double *layer_in_sum;   /**< [n][nlayers] relevance sum at each node's inputs */
    double *layer_out_sum;  /**< [n][nlayers] relevance sum at each node's output */
    double *init_state_sum; /**< [n] relevance on LSTM initial states (0 without LSTM) */
    double forward_ms;      /**< wall time of the forward passes */
    double explain_ms;      /**< wall time of the whole attribution (incl. its forward passes) */
} xai_explain_result;

XAI_API void xai_explain_result_free(xai_explain_result *r);

/**
 * Explain @p n stacked inputs.
 * @param x    n * xai_model_input_numel() floats
 * @param[out] rel  n * xai_model_input_numel() floats, the attribution
 * @param[out] res  per-sample summary (may be NULL); free with xai_explain_result_free()
 * @return XAI_OK; XAI_EINVAL (bad config: unknown composite, bad rule spec, class out of
 *         range), XAI_EUNSUPPORTED (a node without a relevance rule).
 * Threads: calls with the same model take turns (they share its cached workspace);
 * calls with different models may run at the same time. Do not train a model while it
 * is being explained. Results do not depend on xai_set_num_threads().
 */
XAI_API xai_status xai_explain(const xai_model *m, const xai_explain_config *cfg, int64_t n,
                               const float *x, float *rel, xai_explain_result *res);

/**
 * Plan once, run many: make now what xai_explain() of up to @p max_batch samples with @p cfg
 * (NULL: the defaults) would make on its first call, so that call runs as fast as later ones.
 * That is the workspaces, one per pool thread, each sized for one sub-batch, with activation and
 * relevance buffers sharing memory where their lifetimes do not overlap, every page faulted in;
 * and the modified weights of cfg's rules. Later calls with more samples, another composite or
 * more threads (xai_set_num_threads()) add what they miss. Optional: without it the first
 * xai_explain() does this work (and its explain_ms includes it). Calling it again is cheap.
 * Threads: as xai_explain() (calls with the same model take turns).
 * @return XAI_OK; XAI_EINVAL (max_batch < 1, a bad cfg as in xai_explain()), XAI_ENOMEM.
 */
XAI_API xai_status xai_model_prepare(const xai_model *m, int64_t max_batch, const xai_explain_config *cfg);

/**
 * Relevance (or gradient) that the last xai_explain() sweep left at the value named
 * @p value_name for the last processed batch (borrowed; valid until the next call).
 * Mostly for debugging; see also the per-layer sums in xai_explain_result.
 */
XAI_API xai_status xai_explain_value(const xai_model *m, const xai_explain_config *cfg, int64_t n,
                                     const float *x, const char *value_name, float *out,
                                     int64_t *numel_per_sample);

/**
 * Whether explaining with @p cfg puts the z-box rule on any layer of @p m (the composite's
 * first convolution, or a rule override), so that the bounds (low/high, box_low/box_high) take
 * part; 0 for every method but LRP. @return XAI_OK, or XAI_EINVAL for a bad configuration.
 */
XAI_API xai_status xai_explain_uses_zbox(const xai_model *m, const xai_explain_config *cfg, int *uses);

/** @return XAI_OK when @p name is a known composite, else XAI_EINVAL with the list. */
XAI_API xai_status xai_composite_check(const char *name);

/** @return the name of a rule kind ("epsilon", "zplus", ...). */
XAI_API const char *xai_rule_name(xai_rule_kind k);
/** @return the name of a method ("lrp", "gradient", ...), or NULL. */
XAI_API const char *xai_method_name(xai_method m);
/** Parse a method name; @return XAI_EINVAL when unknown. */
XAI_API xai_status xai_method_parse(const char *s, xai_method *out);

/**
 * Check a rules override string without a model (syntax only). See docs in lrp.c:
 *   SPEC    := ENTRY (';' ENTRY)*
 *   ENTRY   := SELECTOR '=' RULE
 *   SELECTOR:= 'first' | 'all' | 'layer' K | 'node:' NAME | OPTYPE (Conv, Gemm, MatMul, Dense,
 *              LSTM, MaxPool, AveragePool, Add ...)
 *   RULE    := epsilon(E) | zplus | alphabeta(A,B) | gamma(G) | zbox(L,H) | zbox | flat | wsquare |
 *              pass | norm | gradient | zplus-nobias | alphabeta-nobias(A,B)
 *   (zbox without bounds: NaN bounds, each sample's own min and max, or the config's box_low/high)
 */
XAI_API xai_status xai_rules_check(const char *spec);

#ifdef __cplusplus
}
#endif

#endif /* XAI_LRP_H */
