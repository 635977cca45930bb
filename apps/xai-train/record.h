/* SPDX-License-Identifier: GPL-3.0-or-later */
/* record.h - what xai-train records (record.c): the per-epoch log and the model's metadata. */
#ifndef XAI_TRAIN_RECORD_H
#define XAI_TRAIN_RECORD_H

#include <jansson.h>

#include "app.h"
#include "xai/train.h"

/* The per-epoch log kept by xai_train_log_epoch (an xai_train_config progress callback). */
typedef struct {
    json_t *epochs;
    int quiet;
} xai_train_log;

void xai_train_log_epoch(const xai_train_progress *p, void *log);

/* What the model was made from, for the training record. */
typedef struct {
    const char *prog;   /* "xai-train 0.1.0" */
    const char *arch;   /* --arch or NULL */
    const char *init;   /* --init or NULL */
    xai_guide_kind guide;
    float guide_lambda;
} xai_train_origin;

/* The training record stored as xai_training and as the log's "result". */
json_t *xai_train_provenance(const xai_train_origin *org, const xai_train_config *cfg, const xai_train_result *res);

/*
 * The model's metadata_props: the record @p prov, the spec, the class names (one per output
 * of the model, else a usage error is printed), the input layout and the pre-processing
 * record (verbatim, "{}" when NULL). @return 0 or XAI_EXIT_USAGE.
 */
int xai_train_set_metadata(const xai_app *app, xai_model *m, const json_t *prov, const char *arch,
                           const char *classes, const char *layout, const char *pretext);

#endif
