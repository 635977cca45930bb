/* SPDX-License-Identifier: GPL-3.0-or-later */
/* explain.h - the explainer of xai-gait (a model, its card and the explanation settings),
 * shared by explain and study. */
#ifndef XAI_GAIT_EXPLAIN_H
#define XAI_GAIT_EXPLAIN_H

#include <jansson.h>

#include "cli.h"
#include "concepts.h"
#include "gait.h"
#include "xai/driver.h"
#include "xai/lrp.h"
#include "xai/model.h"

#define PROG "xai-gait"
#define MARKER ".xai-gait-done.json"

typedef struct {
    xai_driver_set *set;    /* the model for new data and, after train --cv, the fold models */
    xai_gait_pre pre;       /* the model for new data's record */
    json_t *pre_json;       /* that record as the sidecars carry it, made once */
    xai_gait_pre *fold_pre; /* [nfolds] each fold model's record (its own normalisation) */
    int nfold_pre;
    char **classes;
    int ncls;
    int condition;          /* the model classifies conditions */
    char *group_by;         /* the unit training held out ("session", "trial", "subject") */
    char sha[65];
    xai_driver_explain_options eo;
    char desc[32];
    int figures;
    int save_input;         /* also write the model inputs (for xai-evaluate) */
    char options[512];      /* what changes the outputs (for the done-markers) */
    int concepts;           /* explain --concepts: cs is set */
    concept_spec cs;
} explainer;

/* One group of trials to explain (a trial for explain, a subject for study) and what came of it. */
typedef struct {
    xai_app *app;
    const gait_trial *tr;   /* the group's trials */
    int ntr;
    const char *prefix, *title;
    json_t *sources;        /* borrowed, for the sidecars */
    json_t *failed;         /* may be NULL: {path, error} of each trial skipped is appended */
    int nfailed, gaps;
    int64_t ncycles, correct, labelled;
} explain_ctx;

/** Load the model set and its card, check the options against the record. An exit code. */
int explainer_init(xai_app *app, const opts *o, explainer *e);
void explainer_free(explainer *e);
/** The model samples of trials @p refs, each normalised as the model that explains it was
 *  trained (a fold's own statistics for the groups it held out). xai_gait_study_load's status. */
xai_status explainer_load(const explainer *e, const xai_gait_trial_ref *refs, int ntr, xai_gait_trial_fn fn,
                          void *ud, xai_gait_study *st);
/** Explain the trials of @p c (each by the fold model that never saw its group) and write the
 *  outputs under c->prefix: 0, -1 (reported), 1 when they give no model sample (nothing
 *  written; the message in xai_last_error()), 2 when no trial could be read (each reported). */
int explain_group(explainer *e, explain_ctx *c, gait_chan_summary *summary);
/** --concepts (concepts.c): refuse existing concept outputs of @p prefix (nonzero, printed). */
int gait_concepts_check(xai_app *app, const explainer *e, const char *prefix);
/** The trial's <p>_desc-D_concepts.npy (cycles, concepts, channels, 101), .tsv and sidecars,
 *  from its model samples @p st as explained in @p ex. 0 or -1 (reported). */
int gait_concepts(xai_app *app, const explainer *e, const explain_ctx *c, const xai_gait_study *st,
                  const xai_driver_explanation *ex);
int gait_file_exists(const char *p);
/** Say that @p n cycles (of @p what, or of the study when NULL) were skipped for their stride time. */
void gait_log_irregular(const xai_app *app, const char *what, int64_t n);
const char *gait_label_of(const gait_trial *t, int condition);

/** xai-gait explain (explain.c) and study (study.c). */
int gait_cmd_explain(xai_app *app, const opts *o);
int gait_cmd_study(xai_app *app, const opts *o);
/** xai-gait evaluate (evaluate.c). */
int gait_cmd_evaluate(xai_app *app, const opts *o);

#endif
