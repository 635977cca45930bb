/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * app-driver.h - the command-line side of the train/explain driver (xai/driver.h) that the
 * domain programs share: one option table and parser for the common training and explain
 * options, one --help block each, the training summary, warnings on stderr and exit code 4
 * for --strict.
 *
 * Use in a program (getopt_long):
 *   xai_app_driver_opts dopt;
 *   xai_app_driver_opts_init(&dopt, "subject", kinds);       // default --split-by, accepted kinds
 *   struct option lo[] = { ...own options..., XAI_APP_DRIVER_TRAIN_OPTIONS, XAI_APP_LONG_OPTIONS, {0} };
 *   ... r = xai_app_driver_handle_option(app, &dopt, code, optarg);  // 1 handled, -1 usage error
 *   xai_driver_train_options to; xai_app_driver_train_setup(app, &dopt, &to);
 *   to.arch = ...; xai_driver_train(&ds, &to, card, &set);
 *   xai_app_driver_print_summary(app, set);
 *   return xai_app_driver_strict_exit(app, &dopt, set, path); // 0, or 4 with --strict and warnings
 */
#ifndef XAI_APP_DRIVER_H
#define XAI_APP_DRIVER_H

#include <getopt.h>
#include <stdint.h>
#include <jansson.h>

#include "app.h"
#include "xai/driver.h"

/* Exit code of --strict: XAI_EXIT_STRICT (4) in app.h, with the other exit codes. */

/** Most group kinds a program accepts for --split-by. */
#define XAI_APP_DRIVER_MAX_KINDS 8

/** Parsed common driver options. */
typedef struct {
    const char *split_by;   /**< --split-by KIND: the group kind held out [program default] */
    const char *kinds[XAI_APP_DRIVER_MAX_KINDS + 1]; /**< accepted kinds, NULL-terminated */
    int cv;                 /**< --cv K: 0 = grouped hold-out [0], K >= 2 group k-fold */
    double holdout;         /**< --val-split F: the hold-out's fraction of the groups (of the samples
                                 within one group) [the driver's holdout_frac]; 0: the program has
                                 no hold-out (it always cross-validates, and --cv trains MODEL.onnx
                                 on every group), so --val-split, --refit and --no-refit would
                                 change nothing: they are refused (exit 2) and not in its help */
    int logo;               /**< --cv logo: leave one group out */
    int strict;             /**< --strict */
    uint64_t seed;          /**< --seed [0] */
    xai_optimizer optimizer;/**< --optimizer sgd|adam|adamw [adam] */
    double weight_decay;    /**< --weight-decay [program default, 0 when not set] */
    double lr;              /**< --lr [1e-3] */
    xai_schedule schedule;  /**< --schedule none|cosine [none] */
    int refit;              /**< after a hold-out, the model for new data trains on every group [1];
                                 --no-refit: 0 (it is the hold-out's model); --refit: 1 */
    int epochs;             /**< --epochs [program default] */
    int patience;           /**< --patience (0 = off) [program default] */
    int64_t batch;          /**< --batch [32] */
    const char *target;     /**< --target pred|true|CLASS ["pred"] */
    xai_driver_start start; /**< --start stable|onehot|logit|logodds|contrast [stable] */
    unsigned given;         /**< bit XAI_APP_DRIVER_GIVEN_* for each option given explicitly */
} xai_app_driver_opts;

enum {
    XAI_APP_OPT_SPLIT_BY = 0x1100, XAI_APP_OPT_CV, XAI_APP_OPT_STRICT, XAI_APP_OPT_SEED,
    XAI_APP_OPT_OPTIMIZER, XAI_APP_OPT_WEIGHT_DECAY, XAI_APP_OPT_LR, XAI_APP_OPT_EPOCHS,
    XAI_APP_OPT_PATIENCE, XAI_APP_OPT_BATCH, XAI_APP_OPT_TARGET, XAI_APP_OPT_START, XAI_APP_OPT_SCHEDULE,
    XAI_APP_OPT_REFIT, XAI_APP_OPT_NO_REFIT, XAI_APP_OPT_VAL_SPLIT
};
/** xai_app_driver_opts.given bits, by option: 1u << (code - XAI_APP_OPT_SPLIT_BY). */
#define XAI_APP_DRIVER_GIVEN(code) (1u << ((code) - XAI_APP_OPT_SPLIT_BY))

/** Options of `train`: --split-by --cv --val-split --strict --seed --optimizer --weight-decay
 *  --lr --schedule --epochs --patience --batch --refit --no-refit. Append to a getopt_long table. */
#define XAI_APP_DRIVER_TRAIN_OPTIONS                                                                     \
    {"split-by", required_argument, 0, XAI_APP_OPT_SPLIT_BY}, {"cv", required_argument, 0, XAI_APP_OPT_CV}, \
        {"strict", no_argument, 0, XAI_APP_OPT_STRICT}, {"seed", required_argument, 0, XAI_APP_OPT_SEED},   \
        {"optimizer", required_argument, 0, XAI_APP_OPT_OPTIMIZER},                                       \
        {"weight-decay", required_argument, 0, XAI_APP_OPT_WEIGHT_DECAY},                                 \
        {"lr", required_argument, 0, XAI_APP_OPT_LR}, {"schedule", required_argument, 0, XAI_APP_OPT_SCHEDULE}, \
        {"epochs", required_argument, 0, XAI_APP_OPT_EPOCHS},                                             \
        {"patience", required_argument, 0, XAI_APP_OPT_PATIENCE}, {"batch", required_argument, 0, XAI_APP_OPT_BATCH}, \
        {"refit", no_argument, 0, XAI_APP_OPT_REFIT}, {"no-refit", no_argument, 0, XAI_APP_OPT_NO_REFIT}, \
        {"val-split", required_argument, 0, XAI_APP_OPT_VAL_SPLIT}
/** Options of `explain`: --strict --target --start --batch. */
#define XAI_APP_DRIVER_EXPLAIN_OPTIONS                                                                   \
    {"strict", no_argument, 0, XAI_APP_OPT_STRICT}, {"target", required_argument, 0, XAI_APP_OPT_TARGET}, \
        {"start", required_argument, 0, XAI_APP_OPT_START}, {"batch", required_argument, 0, XAI_APP_OPT_BATCH}

/** The --help blocks of the options above, showing the defaults in @p defaults (the
 *  program's, after xai_app_driver_opts_init() and its own changes). */
void xai_app_driver_help_train(FILE *out, const xai_app_driver_opts *defaults);
void xai_app_driver_help_explain(FILE *out, const xai_app_driver_opts *defaults);

/**
 * Defaults: split_by = @p default_kind, @p kinds (NULL-terminated, at most
 * XAI_APP_DRIVER_MAX_KINDS; NULL: any word), hold-out of the driver's fraction of the groups
 * followed by the refit on every group, seed 0,
 * adam, lr 1e-3 (constant), epochs 30, patience 10, batch 32, weight decay 0, target "pred", start
 * stable. A program changes
 * fields it wants other defaults for after this call, before parsing.
 */
void xai_app_driver_opts_init(xai_app_driver_opts *o, const char *default_kind, const char *const *kinds);

/**
 * Handle one driver option. Errors name the option and the value ("--cv: invalid value
 * 'x': expected an integer >= 2 or 'logo'"), or say why a program without a hold-out
 * (@p o->holdout 0) refuses --val-split, --refit and --no-refit.
 * @return 1 handled, 0 not a driver option, -1 bad value (usage error printed: exit 2).
 */
int xai_app_driver_handle_option(const xai_app *app, xai_app_driver_opts *o, int code, const char *arg);

/**
 * Driver training options from the parsed ones and the program (provenance, progress on
 * the program's display, warnings on stderr). The caller sets arch or init_model, and may
 * set augment, data_digest and others afterwards.
 */
void xai_app_driver_train_setup(xai_app *app, const xai_app_driver_opts *o, xai_driver_train_options *to);

/**
 * Driver explain options from the parsed ones; --target is resolved against the card's
 * classes (names, or indices below their count); with no classes (or @p card NULL) pred, true
 * and any index are taken and xai_driver_explain() checks the index against the model.
 * @return 0, or -1 with a usage error printed (unknown class: exit 2).
 */
int xai_app_driver_explain_setup(xai_app *app, const xai_app_driver_opts *o, const xai_card *card,
                                 xai_driver_explain_options *eo);

/** A xai_warn_fn (@p ud: the xai_app *): "PROG: warning: MESSAGE" on stderr, unless -q. */
void xai_app_driver_warn(void *ud, const char *message);
/** A xai_progress_fn (@p ud: the xai_app *) on the program's progress display. */
void xai_app_driver_progress(void *ud, const char *task, int64_t done, int64_t total, const char *item);

/**
 * Print the training summary on stderr (at verbosity >= 1):
 *   validation: group-kfold over 6 subjects (5 folds), 240 held-out samples
 *   network:  accuracy 0.812 [0.757, 0.859] (balanced 0.810), chance 0.500, p = 1e-20
 *   baseline: ridge accuracy 0.790
 *   verdict:  above chance; better than the baseline
 *   model:    trained on every group after the cross-validation
 */
void xai_app_driver_print_summary(const xai_app *app, const xai_driver_set *s);

/**
 * The exit code after training or when a model is loaded for explaining: XAI_EXIT_OK, or
 * with --strict and card warnings "PROG: FILE: strict: ..." on stderr and XAI_EXIT_STRICT.
 * @p file names the model (may be NULL).
 */
int xai_app_driver_strict_exit(const xai_app *app, const xai_app_driver_opts *o, const xai_driver_set *s,
                               const char *file);

/**
 * Save a trained model and its JSON sidecar beside it (MODEL.json), the one way programs
 * save models so that none goes without its sidecar: @p set through xai_driver_set_save()
 * (its folds next to it) when given, else @p m with @p eo (NULL: opset 17, BatchNorm folded). The
 * sidecar holds the model's card, then "Description" when given, then the members of
 * @p extra (a JSON object, taken over; may be NULL), then the provenance that
 * xai_app_write_sidecar() adds. @return 0, or XAI_EXIT_DATA with the reason printed.
 */
int xai_app_save_model(const xai_app *app, const char *path, const xai_model *m, const xai_driver_set *set,
                       const xai_export_options *eo, const char *description, json_t *extra);

/** As xai_app_save_model() for fold @p k of @p set alone (xai_driver_set_save_fold()), its
 *  sidecar made from that fold's own card. */
int xai_app_save_fold(const xai_app *app, const char *path, const xai_driver_set *set, int k,
                      const xai_export_options *eo, const char *description, json_t *extra);

#endif /* XAI_APP_DRIVER_H */
