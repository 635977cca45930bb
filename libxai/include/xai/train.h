/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * train.h - building models from an architecture text spec, training them, and saving
 * them as ONNX. Weights live in the model (its initializers); training updates them in
 * place, and xai_model_save_onnx() writes the model with the current weights.
 */
#ifndef XAI_TRAIN_H
#define XAI_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "xai/model.h"
#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Build an ONNX model (opset 17) from an architecture spec, with seeded PyTorch-default
 * initialisation (Kaiming-uniform a=sqrt(5) for Conv/Dense weights, uniform +-1/sqrt(fan_in)
 * biases, LSTM uniform +-1/sqrt(H); BN gamma 1, beta 0, mean 0, var 1).
 *
 * Grammar (layers separated by spaces; see docs in arch.c and README):
 *   conv1d(C,k=K[,s=S][,p=P][,d=D][,g=G])  conv2d(...)  conv3d(...)   (k/s/p/d scalar or AxB[xC])
 *   dense(N)  bn  relu  leakyrelu[(A)]  elu[(A)]  tanh  sigmoid
 *   maxpool(K[,s=S])  avgpool(K[,s=S])  gap  flatten  dropout(P)
 *   lstm(H[,bidirectional][,last|all])
 *   timedist( LAYERS )   a CNN block applied to every slice (the first input axis), followed by
 *                        an LSTM over the slices
 * @param input_shape  per-sample input shape WITHOUT a batch axis, e.g. {C, T} for conv1d,
 *                     {C, H, W}, {C, D, H, W}; {S, C, H, W} for timedist; {T, F} for lstm
 * @param[out] bytes   malloc'ed serialized ModelProto; free() it
 */
XAI_API xai_status xai_arch_build_onnx(const char *spec, int ndim, const int64_t *input_shape, uint64_t seed,
                                       void **bytes, size_t *len);

/**
 * Check a spec against an input shape (parsing and shape inference, no weights) and count its
 * trainable parameters. Errors are those of xai_arch_build_onnx().
 */
XAI_API xai_status xai_arch_param_count(const char *spec, int ndim, const int64_t *input_shape, int64_t *nparams);

/** xai_arch_build_onnx() then xai_model_load_onnx_mem(). */
XAI_API xai_status xai_model_from_spec(const char *spec, int ndim, const int64_t *input_shape, uint64_t seed,
                                       xai_model **out);

/**
 * Set the read-out's reference point: the constant c of the model's one `reference` node
 * (z = x - c, arch.c) becomes the mean of x over the @p n samples @p x, and the output Gemm's
 * bias takes up W c, so every logit stays as it was (checked; on failure the model is left
 * unchanged). LRP then credits each feature with its deviation from that mean.
 * @return XAI_EINVAL without exactly one such node, without an output Gemm, or when the layers
 *         after the node are not affine.
 */
XAI_API xai_status xai_model_set_reference(xai_model *m, int64_t n, const float *x);

/** Set (or replace) a metadata_props entry that xai_model_save_onnx() writes. */
XAI_API xai_status xai_model_set_metadata(xai_model *m, const char *key, const char *value);

/** Export options; zero-initialise. */
typedef struct {
    int keep_bn;        /**< 0: fold BatchNormalization into the preceding Conv/Gemm; 1: keep BN nodes */
    int min_opset;      /**< raise the opset import to at least this (0 = keep the model's) */
} xai_export_options;

/**
 * Write the model as ONNX with its current weights and metadata, atomically.
 * @param opts may be NULL (fold BN, keep opset).
 */
XAI_API xai_status xai_model_save_onnx(const xai_model *m, const char *path, const xai_export_options *opts);

/** Same, into a malloc'ed buffer (caller frees). */
XAI_API xai_status xai_model_save_onnx_mem(const xai_model *m, const xai_export_options *opts, void **bytes,
                                           size_t *len);

/* ------------------------------------------------------------------ training */

typedef enum { XAI_OPT_SGD = 0, XAI_OPT_ADAM, XAI_OPT_ADAMW } xai_optimizer;
typedef enum { XAI_SCHED_NONE = 0, XAI_SCHED_STEP, XAI_SCHED_COSINE } xai_schedule;

/** Explanation-guided training (see xai_train_config.guide). */
typedef enum {
    XAI_GUIDE_NONE = 0,
    /** Right for the Right Reasons (Ross et al., IJCAI 2017): loss = CE + lambda/n * sum over the
     *  batch of ||A (.) d(sum_k log p_k)/dx||^2, A the per-sample "not here" mask. Trained by double
     *  backpropagation; needs a piecewise-linear network (Conv, Gemm/MatMul, ReLU, LeakyReLU,
     *  MaxPool, AveragePool, data movement, Dropout, Add/Sub, Mul/Div by constants). */
    XAI_GUIDE_RRR,
    /** LRP-guided training (Sun et al., ICPR 2020): the activations a at guide_layer are weighted
     *  by w = 1 + R/max|R| (R: LRP relevance of the true class at that layer, per sample, from
     *  an inference-mode pass with the default composite), the rest of the network runs again on
     *  a * w, and loss = CE + lambda * CE(weighted pass). w is held constant in the gradient. */
    XAI_GUIDE_LRP,
    /** RR-ClArC (Dreyer et al., AAAI 2024): loss = CE + lambda/n * sum (v^T d z_y/da)^2, a the
     *  activations at guide_layer, v the unit artefact CAV there (guide_cav), z_y the logit of the
     *  label. Exact for a network piecewise linear after the layer (the penalty then trains only
     *  the layers after it). */
    XAI_GUIDE_RRCLARC
} xai_guide_kind;

/** Progress of one epoch, passed to the progress callback. */
typedef struct {
    int epoch, epochs;          /**< 1-based epoch and total */
    double train_loss, train_acc;
    double val_loss, val_acc;   /**< NaN without a validation split */
    double lr;                  /**< learning rate used in this epoch */
    double elapsed_s;           /**< since training started */
    double train_penalty;       /**< guided training: mean penalty term of the epoch (0 without) */
    int best_epoch;             /**< epoch of the best validation loss so far (or the last) */
    int improved;               /**< this epoch is the new best */
} xai_train_progress;

/** Training settings. Initialise with xai_train_config_init(). */
typedef struct {
    xai_optimizer optimizer;    /**< [adam] */
    float lr;                   /**< [1e-3] */
    float momentum;             /**< SGD momentum [0.9] */
    float weight_decay;         /**< L2 (SGD, Adam) or decoupled (AdamW) [0] */
    float beta1, beta2, adam_eps; /**< [0.9, 0.999, 1e-8] */
    int epochs;                 /**< [20] */
    int64_t batch;              /**< mini-batch size [32] */
    float val_split;            /**< fraction held out for validation, 0..0.9 [0.2] */
    int patience;               /**< early stopping on validation loss; 0 = off [10] */
    xai_schedule schedule;      /**< [none] */
    int step_size;              /**< step schedule: epochs per decay [10] */
    float step_gamma;           /**< step schedule: factor [0.1] */
    uint64_t seed;              /**< shuffling, split, dropout [0] */
    const float *class_weights; /**< NULL or one weight per class (cross-entropy) */
    float bn_momentum;          /**< running statistics update, PyTorch convention [0.1] */
    void (*progress)(const xai_train_progress *p, void *ud); /**< may be NULL */
    void *progress_ud;
    /** NULL, or n flags chosen by the caller (1 = validation sample, 0 = training sample),
     *  e.g. whole groups from xai_split_*(): early stopping and the kept epoch then depend on
     *  held-out groups only. Overrides val_split. All-zero flags train without validation. [NULL] */
    const unsigned char *val_mask;
    xai_guide_kind guide;       /**< explanation guidance [none] */
    float guide_lambda;         /**< weight of the guidance term [0] */
    /** RRR: the mask A, guide_mask_n * input numel floats: one per sample (guide_mask_n == n,
     *  same order as x) or one for all (guide_mask_n == 1). Usually 1 where the model must not
     *  look, 0 elsewhere. */
    const float *guide_mask;
    int64_t guide_mask_n;
    /** LRP guidance: the layer (node or activation name) whose activations are weighted; NULL:
     *  the input of the last Conv/Dense layer (the features the classifier reads). RR-ClArC:
     *  the CAV's layer (required). [NULL] */
    const char *guide_layer;
    /** RR-ClArC: the CAV at guide_layer (guide_cav_n = that layer's values per sample). */
    const float *guide_cav;
    int64_t guide_cav_n;
    /** NULL, or a node name: only the nodes after it (in graph order) are trained, the rest
     *  keep their weights (fine-tuning the later layers, e.g. after a ClArC projection). [NULL] */
    const char *train_after;
} xai_train_config;

XAI_API void xai_train_config_init(xai_train_config *c);

/** Outcome of xai_train(). */
typedef struct {
    int epochs_run;
    int best_epoch;
    double best_val_loss, best_val_acc;   /**< NaN without validation */
    double final_train_loss, final_train_acc; /**< running means of the LAST epoch (dropout on) */
    int64_t n_train, n_val;
    /** The KEPT weights (best validation epoch, or the last without validation) evaluated in
     *  inference mode on the training samples: the numbers to report next to best_val_acc. */
    double kept_train_loss, kept_train_acc;
    double final_train_penalty;           /**< guided training: mean penalty of the last epoch */
} xai_train_result;

/**
 * Train @p m on n samples x (n * xai_model_input_numel floats, stacked) with integer
 * labels y in 0..nclasses-1, by softmax cross-entropy on the model's logits. With a
 * validation split the weights of the best validation epoch are kept. The same seed gives
 * bit-identical weights on the same machine. With libxai's pool on one thread, OpenBLAS runs
 * single-threaded until the call returns, for the whole process (see xai_set_num_threads()).
 * Dropout masks come from the seed (one draw per step) and the layer's place in the graph (the
 * index of its output in the file's order): the same seed, file and build give the same masks,
 * the dropout layers of one model draw independent masks, and the same network written with its
 * tensors in another order (another exporter) draws others, as another seed would.
 * @return XAI_EINVAL (labels out of range, bad config), XAI_ENUMERIC (loss became NaN).
 */
XAI_API xai_status xai_train(xai_model *m, const xai_train_config *cfg, int64_t n, const float *x, const int *y,
                             xai_train_result *res);

/**
 * Loss and accuracy of @p m on (x, y) in inference mode.
 */
XAI_API xai_status xai_evaluate_loss(const xai_model *m, int64_t n, const float *x, const int *y,
                                     const float *class_weights, double *loss, double *acc);

/**
 * Can @p m be trained with guidance @p g? XAI_EUNSUPPORTED names the first node that prevents it
 * and why (e.g. BatchNormalization's batch statistics make the input gradient curved in the input).
 */
XAI_API xai_status xai_guide_check(const xai_model *m, xai_guide_kind g);

/**
 * Input-gradient share of a mask: with g = d(sum_k log p_k)/dx per sample in inference mode,
 * share = sum |A (.) g| / sum |g| over all n samples (A as guide_mask, mask_n 1 or n). The RRR
 * penalty should lower it on held-out data.
 */
XAI_API xai_status xai_input_gradient_share(const xai_model *m, int64_t n, const float *x, const float *mask,
                                            int64_t mask_n, double *share);

#ifdef __cplusplus
}
#endif

#endif /* XAI_TRAIN_H */
