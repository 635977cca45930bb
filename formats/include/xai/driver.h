/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * driver.h - the one train/explain driver that every domain (EEG, fMRI, gait, speech)
 * runs over its xai_dataset.
 *
 * Training validates across groups (subjects, runs, speakers: the dataset's groups), so the
 * accuracy it reports is the accuracy on groups the model never saw; it fits a linear
 * baseline on the same inputs and split, and writes both, with the verdicts, into the model
 * card. Explaining picks, for each sample, a model that never saw its group when a fold set
 * is given (out-of-fold explanations), starts relevance so that a near-zero logit cannot
 * blow a map up, reports samples whose relevance sum still departs from their start, and
 * normalises every map to sum |R| = 1 before any mean.
 *
 * Like the rest of the formats library the driver never prints or exits: functions return
 * an xai_status with a detail message (xai_last_error()); progress and warnings go through
 * the callbacks given in the options, from the caller's thread.
 *
 * Use (a domain program; errors and cleanup left out):
 *   xai_driver_train_options to;  xai_driver_train_options_init(&to);
 *   to.arch = "conv1d(16,k=7,p=3) relu ... dense(2)";  to.scheme = XAI_SPLIT_KFOLD;  to.folds = 5;
 *   xai_driver_set *set;  xai_driver_train(&dataset, &to, domain_card, &set);
 *   xai_driver_set_save(set, "model.onnx");            // model.onnx + model.fold-K.onnx
 *   ...
 *   xai_driver_set_load("model.onnx", NULL, &set);
 *   xai_driver_explain_options eo;  xai_driver_explain_options_init(&eo);
 *   xai_driver_explanation e;  xai_driver_explain(set, &recording, &eo, &e);   // out of fold
 *   xai_driver_mean_maps(&e, recording.y, recording.nclasses, 0, class_means, counts);
 * Explaining holds every map of the dataset in memory (n x sample size floats): explain large
 * data a recording (run, subject) at a time.
 *
 * Files. A trained set is saved as MODEL.onnx (the model for new data) plus, after a
 * cross-validation, one ONNX file per fold next to it, MODEL.fold-K.onnx (K = 1..nfolds,
 * from the stem of MODEL without ".onnx"). The index is the card of MODEL.onnx itself, under
 * the opaque card object "extra":
 *   extra.driver.folds = [ {"file": "MODEL.fold-1.onnx", "heldout_groups": ["sub-01", ...]},
 *                          ... ]                     (file names relative to MODEL.onnx)
 *   extra.driver.trained_groups = ["sub-01", ...]    groups MODEL.onnx was trained on
 * and each fold file carries its own card with the same validation record and
 *   extra.driver.fold = K, extra.driver.heldout_groups, extra.driver.trained_groups.
 * So every file is an ordinary ONNX model with a card (other tools can run it), and the
 * folds need no second index format. Groups are matched by name.
 */
#ifndef XAI_DRIVER_H
#define XAI_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "xai/api.h"
#include "xai/card.h"
#include "xai/domain.h"
#include "xai/lrp.h"
#include "xai/model.h"
#include "xai/status.h"
#include "xai/train.h"
#include "xai/validate.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A warning for the user (one line, no trailing newline), e.g. a verdict of the card. */
typedef void (*xai_warn_fn)(void *ud, const char *message);

/**
 * Augmentation hook for training: transform @p n training samples in place (@p x holds
 * n * prod(shape) floats, sample-major), e.g. a random time shift or amplitude scaling.
 * @p seed differs between calls and is reproducible from the training seed. Return XAI_OK or
 * an error status (set its message with xai_error_set()); the driver stops on error.
 * Only training samples are augmented, never validation or held-out ones.
 */
typedef xai_status (*xai_augment_fn)(void *ud, float *x, int64_t n, int ndim, const int64_t *shape,
                                     uint64_t seed);

/**
 * A pre-processing step fitted on each model's training samples only, e.g. a mask or a voxel
 * screening learned from the training runs, or a normalisation whose statistics must not see
 * the groups a fold holds out (fitting it on every sample would let the held-out groups choose
 * the features: Kriegeskorte et al. 2009, Nat. Neurosci. 12, "Circular analysis"). For each
 * model (every fold, then the model for new data) the driver calls
 *   fit     on a copy of its training samples (before the inner split and augmentation):
 *           fit the state on them and transform them in place (@p idx: their dataset indices);
 *   apply   on every other copy the model or the baseline sees (held-out samples, and the
 *           training samples again for the baseline): the same transform, nothing fitted;
 *   record  once the model is trained, e.g. to store the state in the model's metadata so that
 *           explaining applies it too (may be NULL);
 *   card_record  (may be NULL) a malloc'ed JSON text describing the state, which the driver
 *           stores in that model's card under @p card_key (e.g. "preprocessing"): the set's card
 *           holds the record of the model for new data, each fold file its own fold's record;
 *   free_state when the model's predictions and baseline are done.
 * Models are fitted and used one after another: a state is freed before the next fit.
 * With a prep step the ridge baseline is fitted per fold on the transformed samples as well.
 */
typedef struct {
    xai_status (*fit)(void *ud, const int64_t *idx, int64_t n, float *x, const int *y, void **state);
    xai_status (*apply)(void *ud, const void *state, float *x, int64_t n);
    xai_status (*record)(void *ud, const void *state, xai_model *m, const xai_train_result *res);
    void (*free_state)(void *ud, void *state);
    void *ud;
    xai_status (*card_record)(void *ud, const void *state, char **json);
    const char *card_key;
} xai_driver_prep;

/* ------------------------------------------------------------------ training */

/** Training settings. Initialise with xai_driver_train_options_init(). */
typedef struct {
    /* --- validation across the dataset's groups --- */
    xai_split_scheme scheme;  /**< XAI_SPLIT_HOLDOUT [default], XAI_SPLIT_KFOLD (with @p folds)
                                   or XAI_SPLIT_LOGO; XAI_SPLIT_WITHIN is refused unless
                                   @p allow_within */
    int folds;                /**< folds of XAI_SPLIT_KFOLD (2..ngroups) [5] */
    double holdout_frac;      /**< hold-out: fraction of the groups held out [0.25] */
    int allow_within;         /**< a dataset with one group is split by samples (the card says
                                   "within-group" and a warning is given) instead of failing [0] */
    /* --- the network --- */
    const char *arch;         /**< architecture spec (xai_arch_build_onnx()); or NULL with
                                   @p init_model */
    const char *init_model;   /**< ONNX file to fine-tune instead of @p arch (its weights are
                                   the start of every fold); NULL with @p arch */
    /** optimizer, lr, weight_decay, momentum, epochs, batch, patience, schedule, seed,
     *  class_weights. val_split, val_mask and progress are set by the driver: early stopping
     *  and the kept epoch use an inner grouped hold-out of each model's TRAINING groups
     *  (@p inner_frac of them), never the held-out groups whose accuracy is reported.
     *  With a single training group there is no inner split: the model trains all epochs
     *  (a warning says so). With train.patience 0 (no early stopping) there is none either:
     *  every training group trains, all epochs. */
    xai_train_config train;
    double inner_frac;        /**< fraction of the training groups used for early stopping [0.2] */
    const int *inner_group;   /**< [n] finer groups inside the dataset's groups (e.g. walks within
                                   sessions) for the inner splits of each training set: early
                                   stopping and the baseline's lambda; needed where a fold trains
                                   on one group. NULL: the dataset's groups [NULL] */
    /* --- augmentation (optional) --- */
    xai_augment_fn augment;   /**< NULL: none */
    void *augment_ud;
    int augment_copies;       /**< augmented copies added per training sample [1 when augment] */
    /* --- per-model pre-processing (optional) --- */
    const xai_driver_prep *prep; /**< fitted on each model's training samples; NULL: none */
    int shared_start;         /**< [0] each model gets its own seed (distinct initial weights).
                                   1: every model starts from train.seed itself, and without an
                                   inner split xai_train() gets no validation mask, so a model
                                   trains exactly as one plain xai_train() call with that seed on
                                   its samples: fold models differ only by their data (xai-fmri) */
    /* --- baseline --- */
    int baseline;             /**< 1: ridge baseline (xai_ridge_out_of_fold) on the same inputs and
                                   split [1] (with @p prep: on each fold's transform of them); 0: none
                                   (the card then has no baseline) */
    /* --- model for new data --- */
    int refit_all;            /**< after a cross-validation, train the model for new data on every
                                   group [1]; 0: the set has fold models only and the file
                                   MODEL.onnx is fold 1 (not recommended). A hold-out keeps its
                                   one model, trained on the training groups, whatever this says,
                                   unless @p refit_holdout */
    int refit_holdout;        /**< 1: after a hold-out, train the model for new data on every group
                                   as after a cross-validation (the second phase of Schirrmeister
                                   et al. 2017); the hold-out's model stays as the set's one fold,
                                   so its held-out groups keep out-of-fold maps [0] */
    /* --- provenance for the card --- */
    const char *program;      /**< provenance.program (e.g. "xai-eeg"); may be NULL */
    const char *version;      /**< provenance.version; NULL: xai_version() */
    const char *command_line; /**< provenance.command_line; may be NULL */
    const char *data_digest;  /**< provenance.data_digest; may be NULL */
    const char *date;         /**< provenance.date; NULL: now (UTC); "": not recorded, so that the
                                   same data and settings give byte-identical model files (xai-fmri:
                                   its derivatives date their sidecars instead) */
    /* --- callbacks (all may be NULL) --- */
    xai_progress_fn progress; /**< tasks "fold K/N" and "final" (epochs done of the total, item
                                   "epoch E loss L acc A [val_loss V val_acc W]") and "baseline" */
    void *progress_ud;
    xai_warn_fn warn;         /**< card verdicts and driver notices */
    void *warn_ud;
} xai_driver_train_options;

/** Fill @p o with the defaults listed above (xai_train_config_init() for @p o->train). */
XAI_API void xai_driver_train_options_init(xai_driver_train_options *o);

/**
 * What training measured, for printing (the card holds the same numbers). Borrowed from the
 * set; valid until it is freed.
 */
typedef struct {
    const char *scheme;         /**< "grouped-holdout", "group-kfold", "leave-one-group-out",
                                     "within-group" */
    const char *group_kind;     /**< the dataset's group kind ("subject", ...) */
    int n_groups, n_folds;
    int64_t n_heldout;          /**< held-out predictions pooled over the folds */
    double accuracy, balanced_accuracy, chance, ci_low, ci_high, p_value;
    double fold_mean, fold_sd;  /**< accuracy per fold (sd NaN with one fold) */
    const char *baseline_name;  /**< "ridge" or NULL */
    double baseline_accuracy;   /**< NaN without a baseline */
    int above_chance, loses_to_baseline;
    int n_never_predicted;
    const char *never_predicted;/**< class names joined by ", " ("" when none) */
    int within_group;           /**< the flagged within-group fallback was used */
    double kept_train_acc;      /**< training accuracy of the kept weights (mean over folds) */
    double mean_best_epoch;     /**< kept epoch, mean over folds */
    int n_warnings;             /**< lines of xai_driver_set_warnings() */
    const int *oof_pred;        /**< [dataset n] out-of-fold prediction of each sample (-1: no fold
                                     held it out) */
    const int *fold_kept_epoch; /**< [n_folds] kept epoch of each fold model */
    const double *fold_train_acc; /**< [n_folds] training accuracy of each fold's kept weights */
} xai_driver_summary;

/** A trained or loaded model set: the model for new data, its card, and the fold models. */
typedef struct xai_driver_set xai_driver_set;

/**
 * Train and validate on @p d across its groups.
 *
 * @p d needs x, y (every label in [0, nclasses); -1 is refused), group and ngroups (with
 * group_names: the fold index matches groups by name; without them "group-K" names are
 * made up) and group_kind. @p card_in (may be NULL) holds what the domain knows: domain,
 * task, classes (else the dataset's class names), input axes/units/sampling rate, the
 * preprocessing record. The driver adds provenance (program, version, date, command line,
 * seed, arch, data_digest), validation (scheme, group kind, counts, accuracy, balanced
 * accuracy, chance, ci95, baseline, verdicts) and the training settings, and applies the
 * card to every model of the set.
 *
 * The verdicts (not above chance, a class never predicted, losing to the baseline) are
 * passed to @p o->warn and counted in the summary; they do not fail the call (a program
 * with --strict turns them into its exit code 4).
 *
 * @param[out] out  free with xai_driver_set_free()
 * @return XAI_EINVAL (dataset without labels or groups, fewer than 2 groups without
 *         allow_within, bad options: the message names the field), errors of the arch
 *         builder, of xai_train() and of the model loader.
 */
XAI_API xai_status xai_driver_train(const xai_dataset *d, const xai_driver_train_options *o,
                                    const xai_card *card_in, xai_driver_set **out);

/** The training summary; NULL for a set loaded from files (read its card instead). */
XAI_API const xai_driver_summary *xai_driver_set_summary(const xai_driver_set *s);

/**
 * Save the set: MODEL.onnx at @p path and, with folds, MODEL.fold-K.onnx next to it (see
 * the file layout at the top). Each file is written atomically; the fold files first, so the
 * index never names a fold file that is missing. Existing files are replaced: the caller
 * applies its overwrite policy (xai_driver_set_paths() lists what will be written).
 */
XAI_API xai_status xai_driver_set_save(const xai_driver_set *s, const char *path);

/**
 * Save fold model @p k alone at @p path (atomically), with the set's card and the fold's own
 * record (extra.driver.fold, heldout_groups, trained_groups), e.g. next to the maps of the
 * group it held out. @p eo: export options (may be NULL).
 * @return XAI_OK, XAI_EINVAL (k out of range), errors of the writer.
 */
XAI_API xai_status xai_driver_set_save_fold(const xai_driver_set *s, int k, const char *path,
                                            const xai_export_options *eo);

/**
 * The files xai_driver_set_save(@p s, @p path) writes, MODEL.onnx first.
 * @param[out] paths  array of *count malloc'ed strings; free each and the array with xai_free()
 */
XAI_API xai_status xai_driver_set_paths(const xai_driver_set *s, const char *path, char ***paths,
                                        int *count);

/**
 * Load MODEL.onnx and, when its card lists folds, every fold file (a missing or unreadable
 * fold file is an error that names it). A model without the driver's index (an older model
 * or one brought from another tool, with a card made by `xai-train card`) loads as a set
 * with no folds; so does a single fold file (its trained groups still flag in-sample maps).
 * @param opts  model load options (may be NULL)
 * @return XAI_OK; errors of the model loader and of xai_card_from_model(); XAI_EFORMAT for an
 *         index that is not an object, names a fold file with a '/' (fold files must sit next
 *         to MODEL.onnx) or lists groups that are not strings.
 */
XAI_API xai_status xai_driver_set_load(const char *path, const xai_load_options *opts,
                                       xai_driver_set **out);

XAI_API void xai_driver_set_free(xai_driver_set *s);

/** The model for new data (borrowed). */
XAI_API xai_model *xai_driver_set_model(const xai_driver_set *s);
/** The card of the model for new data (borrowed). */
XAI_API const xai_card *xai_driver_set_card(const xai_driver_set *s);
/** Number of fold models (0 without a cross-validation). */
XAI_API int xai_driver_set_nfolds(const xai_driver_set *s);
/** Fold model @p k in 0..nfolds-1 (borrowed), or NULL. */
XAI_API xai_model *xai_driver_set_fold_model(const xai_driver_set *s, int k);
/**
 * Groups fold @p k held out: @p *names receives a borrowed array of @p *count names.
 * @return XAI_OK or XAI_EINVAL (k out of range).
 */
XAI_API xai_status xai_driver_set_fold_groups(const xai_driver_set *s, int k, const char *const **names,
                                              int *count);
/**
 * The model xai_driver_explain() uses for a sample of group @p group: the fold (0-based) that
 * held the group out when @p out_of_fold, else -1 (the model for new data). Lets a domain
 * build each sample's input as that model was trained (see xai_driver_prep).
 */
XAI_API int xai_driver_set_model_for(const xai_driver_set *s, const char *group, int out_of_fold);
/**
 * The card's warnings, one per line without a final newline ("" when none; borrowed), and
 * their number in @p count (may be NULL). The same text as xai_card_warnings().
 */
XAI_API const char *xai_driver_set_warnings(const xai_driver_set *s, int *count);

/* ------------------------------------------------------------------ explaining */

/** Where relevance starts and which rule the output layer uses. */
typedef enum {
    XAI_DRIVER_START_STABLE = 0, /**< [default] xai_explain_config_stable(): z+ on the output layer,
                                      bias factor 1, libxai's default start (one-hot, the logit
                                      for LSTM models): a near-zero logit cannot inflate the map;
                                      the map shows evidence FOR the target */
    XAI_DRIVER_START_ONEHOT,     /**< the plain composite, start 1 at the target (Zennit's default) */
    XAI_DRIVER_START_LOGIT,      /**< the plain composite, start = the target's logit (a negative
                                      logit flips the map's sign) */
    XAI_DRIVER_START_LOGODDS,    /**< the plain composite, start = the target's log-odds against the
                                      other classes (XAI_INIT_LOGODDS): evidence all classes
                                      share cancels */
    XAI_DRIVER_START_CONTRAST    /**< the plain composite, start = the logit minus the mean of the
                                      others (XAI_INIT_CONTRAST) */
} xai_driver_start;

/** The start's name as --start spells it ("stable", "onehot", "logit", "logodds", "contrast";
 * "stable" for a value out of range). */
XAI_API const char *xai_driver_start_name(xai_driver_start s);

/** Explanation settings. Initialise with xai_driver_explain_options_init(). */
typedef struct {
    xai_target target;        /**< pred [default], true (each sample's label) or a class */
    xai_driver_start start;   /**< [stable] */
    xai_method method;        /**< [LRP] */
    const char *composite;    /**< NULL: the libxai default ("epsilon-plus-flat") */
    const char *rules;        /**< extra per-layer rules (xai_rules_parse() syntax); they come first,
                                   so they win over the stable output rule; may be NULL */
    int have_bounds;          /**< [0] 1: the first layer's ZBox bounds are @p low, @p high (the
                                   range of the features, when the domain fixes it); 0: each
                                   sample's own min and max (libxai's default) */
    float low, high;
    const float *box_low, *box_high; /**< NULL [default], or d->n * sample size floats aligned
                                   with the dataset's x: per-element ZBox bounds (xai_explain_config's
                                   box_low/high), for a first layer whose bounds are NaN (have_bounds 0);
                                   both or neither. Borrowed for the call */
    int64_t batch;            /**< samples per xai_explain() call [64] */
    int out_of_fold;          /**< [1] with a fold set: each sample is explained by the fold model
                                   that held its group out; groups no fold held out use the model
                                   for new data. 0: the model for new data for every sample */
    int normalise;            /**< [1] each map scaled to sum |R| = 1 (xai_relevance_normalise());
                                   the raw sum |R| is kept in l1. 0: raw maps */
    double check_factor;      /**< relevance check factor (xai_relevance_check()) [10] */
    int strict;               /**< [0] 1: a card with warnings is an error (XAI_EINVAL, nothing
                                   explained, result.untrusted set): the programs exit 4 */
    xai_progress_fn progress; /**< task "explain", samples done of n; may be NULL */
    void *progress_ud;
    xai_warn_fn warn;         /**< the card's warnings (once per call) and each sample whose
                                   relevance sum departs from its start; may be NULL */
    void *warn_ud;
} xai_driver_explain_options;

XAI_API void xai_driver_explain_options_init(xai_driver_explain_options *o);

/** Per-sample flags of an explanation. */
enum {
    XAI_DRIVER_FLAG_DEPARTS = 1u,   /**< relevance sum departs from its start by more than
                                         check_factor (or is not finite) */
    XAI_DRIVER_FLAG_IN_SAMPLE = 2u, /**< the model used was trained on this sample's group: the
                                         map is not out-of-fold; means skip it by default */
    XAI_DRIVER_FLAG_NO_TARGET = 4u, /**< target "true" and the sample has no label: not
                                         explained, its map is 0 */
};

/** What xai_driver_explain() hands back. Arrays are owned; free with xai_driver_explanation_free(). */
typedef struct {
    int64_t n;          /**< samples */
    int64_t numel;      /**< values per sample (the dataset's sample size) */
    int nclasses;
    float *rel;         /**< [n][numel] relevance (L1-normalised when options.normalise) */
    float *logits;      /**< [n][nclasses] logits of the model that explained the sample */
    int *pred;          /**< [n] argmax of logits */
    int *target;        /**< [n] explained class (-1 with XAI_DRIVER_FLAG_NO_TARGET) */
    int *fold;          /**< [n] fold model used, 0-based; -1: the model for new data */
    unsigned *flags;    /**< [n] XAI_DRIVER_FLAG_* */
    double *rel_sum;    /**< [n] sum of the raw relevance */
    double *init_sum;   /**< [n] relevance put in at the output */
    double *l1;         /**< [n] sum |R| of the raw map */
    int64_t n_departs;  /**< samples with XAI_DRIVER_FLAG_DEPARTS */
    int64_t n_in_sample;/**< samples with XAI_DRIVER_FLAG_IN_SAMPLE */
    int untrusted;      /**< number of card warnings of the model(s) used */
    const char *start;  /**< "stable", "onehot" or "logit" (static) */
} xai_driver_explanation;

/**
 * Explain every sample of @p d with the set @p s.
 *
 * The dataset's sample shape must match the model input. y is needed for target "true";
 * groups (with names) are needed for out-of-fold explanations: a sample whose group a fold
 * held out is explained by that fold; other samples by the model for new data, flagged
 * IN_SAMPLE when that model was trained on their group (matched by name). Samples are
 * explained in batches of @p o->batch with per-sample targets; the model's workspace is
 * reused across batches and calls. Groups without names match the fold index as "group-K"
 * (1-based index), the names training gives them.
 *
 * @param[out] out  zeroed first; free with xai_driver_explanation_free() (also after an error)
 * @return XAI_OK; XAI_EINVAL (strict and the card has warnings: message = the warnings; a
 *         shape that does not fit; target "true" without labels), errors of xai_explain().
 */
XAI_API xai_status xai_driver_explain(const xai_driver_set *s, const xai_dataset *d,
                                      const xai_driver_explain_options *o, xai_driver_explanation *out);

XAI_API void xai_driver_explanation_free(xai_driver_explanation *e);

/**
 * The libxai explain configuration xai_driver_explain() uses for model @p m under @p o
 * (method, composite, rules, start: the stable start's output rule is added for LRP), e.g.
 * for evaluation metrics that explain the dataset's x again; its box_low/high are @p o's, so
 * aligned with that x (metrics that explain perturbed copies refuse them). @p *rules receives a string
 * the configuration points to (free() it after the last use; may be NULL).
 * @return XAI_OK or the status of xai_explain_config_stable().
 */
XAI_API xai_status xai_driver_explain_config(const xai_model *m, const xai_driver_explain_options *o,
                                             xai_explain_config *c, char **rules);

/**
 * Mean map per key (class, group, ...) of an explanation: out[k] = mean of the maps of the
 * samples with key[i] == k (k in 0..nkeys-1; other keys skipped). With normalised maps every
 * sample weighs the same. Samples flagged IN_SAMPLE or NO_TARGET are skipped unless
 * @p include_in_sample (then only NO_TARGET is skipped).
 * @param out    [nkeys][e->numel], caller-owned; keys without samples get 0
 * @param count  [nkeys] samples per key, caller-owned (may be NULL)
 */
XAI_API xai_status xai_driver_mean_maps(const xai_driver_explanation *e, const int *key, int nkeys,
                                        int include_in_sample, float *out, int64_t *count);

#ifdef __cplusplus
}
#endif

#endif /* XAI_DRIVER_H */
