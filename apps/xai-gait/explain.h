/* SPDX-License-Identifier: GPL-3.0-or-later */
/* explain.h - the explainer of xai-gait (a model, its card and the explanation settings),
 * shared by explain and study. */
#ifndef XAI_GAIT_EXPLAIN_H
#define XAI_GAIT_EXPLAIN_H

#include <jansson.h>

#include "cli.h"
#include "gait.h"
#include "xai/lrp.h"
#include "xai/model.h"

#define PROG "xai-gait"
#define MARKER ".xai-gait-done.json"

typedef struct {
    xai_model *m;
    xai_gait_pre pre;
    char **classes;
    int ncls;
    int condition;          /* the model classifies conditions */
    char sha[65];
    xai_explain_config cfg;
    char desc[32];
    int target_mode;        /* 0 pred, 1 true, 2 fixed */
    int target_class;
    int figures;
    int save_input;         /* also write the model inputs (for xai-evaluate) */
    char options[512];      /* what changes the outputs (for the done-markers) */
    json_t *trained;        /* file names of the trials the model was trained on (may be NULL) */
} explainer;

/** Load the model and its card, check the options against the record. An exit code. */
int explainer_init(xai_app *app, const opts *o, explainer *e);
void explainer_free(explainer *e);
/** Explain the cycles of @p cy and write the outputs under @p prefix: 0, -1 (reported), or 1
 *  when they give no model sample (nothing written; the message in xai_last_error()). */
int explain_group(xai_app *app, explainer *e, const gait_trial *tr, const xai_gait_cycles *cy, const char *prefix,
                  const char *title, json_t *sources, gait_chan_summary *summary, int64_t *correct,
                  int64_t *labelled);
int gait_file_exists(const char *p);
const char *gait_label_of(const gait_trial *t, int condition);

/** xai-gait explain (explain.c) and study (study.c). */
int gait_cmd_explain(xai_app *app, const opts *o);
int gait_cmd_study(xai_app *app, const opts *o);

#endif
