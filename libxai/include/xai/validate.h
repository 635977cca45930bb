/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * validate.h - validation across groups (subjects, sessions, runs, speakers, ...), held-out
 * statistics with an exact binomial interval, verdicts, and a linear baseline.
 *
 * A model is only worth explaining if it generalises to groups it never saw. Samples of one
 * group (one subject's epochs, one run's volumes) are correlated, so a split must keep each
 * group on one side; the functions here never put a group on both sides, except the explicit
 * within-group fallback, which the result flags so that the model card can say so.
 */
#ifndef XAI_VALIDATE_H
#define XAI_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "xai/model.h"
#include "xai/status.h" /* also brings XAI_API */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ splits */

typedef enum {
    XAI_SPLIT_HOLDOUT = 0, /**< one test set: a fraction of the groups */
    XAI_SPLIT_KFOLD,       /**< k folds of whole groups, balanced sizes (and classes with labels) */
    XAI_SPLIT_LOGO,        /**< leave one group out: one fold per group */
    XAI_SPLIT_WITHIN       /**< samples, not groups: the fallback for a single group (flagged) */
} xai_split_scheme;

/** Fold assignment. Free with xai_split_free(). */
typedef struct {
    xai_split_scheme scheme;
    int64_t n;          /**< samples */
    int nfolds;         /**< test sets (1 for a hold-out) */
    int ngroups;        /**< distinct group ids */
    int *fold;          /**< [n] the fold that holds the sample out; -1 = always trained on (hold-out) */
    int within_group;   /**< 1: samples of one group are on both sides (XAI_SPLIT_WITHIN) */
} xai_split;

/** @return "grouped-holdout", "group-kfold", "leave-one-group-out", "within-group". */
XAI_API const char *xai_split_scheme_name(xai_split_scheme s);

/**
 * Assign samples to folds by group.
 * @param groups  [n] group id of each sample (any integers)
 * @param labels  [n] class of each sample, or NULL. With labels, k-fold balances the classes of
 *                the folds as far as whole groups allow, and the hold-out prefers a draw whose
 *                test and training sides both hold every class.
 * @param frac    hold-out: fraction of the GROUPS held out (rounded, at least 1, at most all but 1);
 *                within-group: fraction of the SAMPLES held out (@p groups may be NULL)
 * @param k       k-fold: folds (2..ngroups); ignored otherwise
 * @param seed    the same seed gives the same split
 * @return XAI_EINVAL with a message when there are fewer than 2 groups (a model cannot be
 *         validated across groups then: use XAI_SPLIT_WITHIN and flag the result as
 *         within-group), or when k exceeds the number of groups.
 */
XAI_API xai_status xai_split_groups(const int *groups, const int *labels, int64_t n, xai_split_scheme scheme,
                                    double frac, int k, uint64_t seed, xai_split *out);

/** Flags for xai_train_config.val_mask: mask[i] = 1 when sample i is in the test set of @p fold. */
XAI_API void xai_split_mask(const xai_split *s, int fold, unsigned char *mask);

/** Release the arrays of @p s (no-op on a zeroed struct). */
XAI_API void xai_split_free(xai_split *s);

/* ------------------------------------------------------------------ statistics */

/** Held-out statistics of one set of predictions. Free with xai_heldout_free(). */
typedef struct {
    int64_t n, correct;
    int nclasses;
    int64_t *confusion;       /**< [nclasses][nclasses]: row = true class, column = predicted */
    double accuracy;
    double balanced_accuracy; /**< mean recall over the classes present in the set */
    double chance;            /**< share of the most frequent true class in THIS set: the accuracy
                                   of always answering that class */
    double ci_low, ci_high;   /**< exact (Clopper-Pearson) 95 % interval of the accuracy */
    double p_value;           /**< one-sided binomial P(correct >= observed | p = chance) */
} xai_heldout;

XAI_API xai_status xai_heldout_stats(const int *truth, const int *pred, int64_t n, int nclasses, xai_heldout *out);
XAI_API void xai_heldout_free(xai_heldout *h);

/** Verdict on a held-out result. Free with xai_verdict_free(). */
typedef struct {
    int above_chance;         /**< the 95 % interval lies above the chance level */
    int n_never_predicted;
    int *never_predicted;     /**< classes present in the set that the model never predicted */
    int loses_to_baseline;    /**< the baseline's accuracy on the same set is higher */
} xai_verdict;

/** @param baseline_acc the linear baseline's accuracy on the same samples, or NaN for none. */
XAI_API xai_status xai_verdict_make(const xai_heldout *h, double baseline_acc, xai_verdict *out);
XAI_API void xai_verdict_free(xai_verdict *v);

/** Mean and sample standard deviation (n - 1) of @p k values; sd is NaN for k < 2. */
XAI_API void xai_mean_sd(const double *v, int k, double *mean, double *sd);

/* ------------------------------------------------------------------ one summary per split */

/**
 * What a model card records about validation, field for field (card keys in brackets). Fill it
 * with xai_validation_summarise(); free with xai_validation_free().
 */
typedef struct {
    const char *scheme;         /**< [scheme] xai_split_scheme_name() (static) */
    const char *group_kind;     /**< [group_kind] the caller's word: "subject", "run", ... (borrowed) */
    int n_groups, n_folds;      /**< [n_groups] [n_folds] */
    int within_group;           /**< the split is the flagged within-group fallback */
    xai_heldout pooled;         /**< every held-out prediction of every fold together [n_heldout,
                                     accuracy, balanced_accuracy, chance_level, ci95] */
    double fold_mean, fold_sd;  /**< accuracy per fold: mean and sample sd (NaN for one fold) */
    const char *baseline_name;  /**< [baseline.name] (borrowed), NULL without a baseline */
    double baseline_accuracy;   /**< [baseline.accuracy] on the same held-out samples, or NaN */
    xai_verdict verdict;        /**< [above_chance, classes_never_predicted, loses_to_baseline] */
} xai_validation;

/**
 * Summarise out-of-fold predictions: @p pred[i] is the prediction for sample i by the model of
 * the fold that held i out (ignored where s->fold[i] < 0).
 * @param base_pred  the baseline's out-of-fold predictions, or NULL
 */
XAI_API xai_status xai_validation_summarise(const xai_split *s, const char *group_kind, const int *truth,
                                            const int *pred, int nclasses, const char *baseline_name,
                                            const int *base_pred, xai_validation *out);
XAI_API void xai_validation_free(xai_validation *v);

/** The class (argmax logit) @p m predicts for each of @p n stacked inputs, into pred[n]. */
XAI_API xai_status xai_predict_classes(const xai_model *m, int64_t n, const float *x, int *pred);

/* ------------------------------------------------------------------ linear baseline */

/**
 * Ridge classifier: every feature standardised on the training samples (mean 0, population
 * sd 1; constant features become 0), one-vs-rest targets in {-1, +1} with an intercept,
 * solved in dual form ((K + lambda I) A = Y - mean(Y), K = Xs Xs^T), which is cheap when
 * features outnumber samples. Predicts the class with the highest score. The same as
 * scikit-learn's StandardScaler + RidgeClassifier(alpha = lambda).
 */
typedef struct xai_ridge xai_ridge;

XAI_API xai_status xai_ridge_fit(int64_t n, int64_t d, const float *x, const int *y, int nclasses, double lambda,
                                 xai_ridge **out);

/**
 * Fit with lambda chosen by an inner grouped k-fold (up to 5 folds over the training groups;
 * samples when there is a single group) on the grid lambda = c * d, c in {1e-3, 1e-2, 0.1, 1,
 * 10, 100} (d features of unit variance: K's diagonal is about d). The best mean balanced
 * accuracy wins; ties go to the larger lambda. @p groups may be NULL (sample folds).
 */
XAI_API xai_status xai_ridge_fit_cv(int64_t n, int64_t d, const float *x, const int *y, int nclasses,
                                    const int *groups, uint64_t seed, xai_ridge **out, double *lambda);

/**
 * The baseline's out-of-fold predictions on split @p s: for each fold, lambda by the inner CV
 * above and a fit on the fold's training samples only, then pred[i] for its held-out samples
 * (-1 for samples no fold holds out). Feed them to xai_validation_summarise() as base_pred.
 * @param groups  [s->n] group ids for the inner CV, or NULL
 */
XAI_API xai_status xai_ridge_out_of_fold(const xai_split *s, int64_t d, const float *x, const int *y, int nclasses,
                                         const int *groups, uint64_t seed, int *pred);

/** @param scores [n][nclasses] or NULL; @param pred [n] */
XAI_API xai_status xai_ridge_predict(const xai_ridge *r, int64_t n, const float *x, int *pred, double *scores);
XAI_API void xai_ridge_free(xai_ridge *r);

#ifdef __cplusplus
}
#endif

#endif /* XAI_VALIDATE_H */
