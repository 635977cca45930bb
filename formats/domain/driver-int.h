/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * driver-int.h - what the driver's sources (driver.c: training; driver-set.c: the model
 * set and its files; driver-explain.c) share. Private to the formats library.
 */
#ifndef XAI_DRIVER_INT_H
#define XAI_DRIVER_INT_H

#include "xai/driver.h"

/* A list of owned names. */
typedef struct {
    char **v;
    int n;
} name_list;

struct xai_driver_set {
    xai_model *model;         /* the model for new data */
    xai_card *card;           /* its card (the fold index is added when saving) */
    int nfolds;
    xai_model **fold_model;   /* [nfolds] */
    name_list *fold_heldout;  /* [nfolds] groups each fold held out */
    name_list *fold_trained;  /* [nfolds] groups each fold was trained on */
    name_list trained;        /* groups the model for new data was trained on */
    char *warnings;           /* card warnings, lines joined by '\n', no final newline */
    int nwarnings;
    int have_summary;
    xai_driver_summary summary;
    char *never_predicted;    /* backing store of summary.never_predicted */
    char *group_kind;         /* backing store of summary.group_kind */
    int *oof_pred;            /* backing store of summary.oof_pred, fold_kept_epoch, fold_train_acc */
    int *fold_kept;
    double *fold_train;
    char *record_key;         /* card key of the prep step's card records, or NULL */
    char *record;             /* JSON record of the model for new data (also in card), or NULL */
    char **fold_record;       /* [nfolds] JSON record of each fold's prep step, or NULL */
};

void xai_driver_names_free(name_list *l);
/* Append a copy of @p s; 0 or -1 (out of memory). */
int xai_driver_names_add(name_list *l, const char *s);
/* 1 when @p s is in @p l. */
int xai_driver_names_has(const name_list *l, const char *s);
/* The names as a JSON array text (malloc'ed), or NULL when out of memory. */
char *xai_driver_names_json(const name_list *l);

/* What training measured, for the card (driver-card.c). */
typedef struct {
    const xai_dataset *d;
    const xai_driver_train_options *o;
    const xai_validation *val;
    const name_list *gnames;   /* a name per group of d */
    const int *kept_epoch;     /* [nfolds] kept (best) epoch of each fold model */
    const double *fold_acc;    /* [nfolds] held-out accuracy of each fold */
    double kept_train_acc;     /* training accuracy of the kept weights, mean over the folds */
} xai_driver_record;

/* Fill @p card (the domain's card, already copied) with classes, provenance, validation and
 * training settings. */
xai_status xai_driver_card_fill(xai_card *card, const xai_driver_record *r);
/* How the model for new data is made after a validation of @p nfolds test sets: the one decision,
   for training (driver.c) and for the card's training.model_for_new_data (driver-card.c). */
typedef enum { XAI_FINAL_VALIDATION_MODEL, XAI_FINAL_FOLD1_COPY, XAI_FINAL_REFIT } xai_final_kind;
xai_final_kind xai_driver_final_kind(const xai_driver_train_options *o, int within_group, int nfolds);

/* The fold index of a card (extra.driver), parsed. */
typedef struct {
    int nfolds;
    char **file;          /* [nfolds] plain file names next to the model */
    name_list *heldout;   /* [nfolds] */
    name_list trained;    /* groups the model for new data was trained on */
} xai_driver_index;

/* Parse the JSON text of extra.driver (NULL: no index, no folds). Entries must name a plain
 * file (no '/', not "." or "..") and list the held-out groups as strings; @p path names the
 * model in messages. @return XAI_OK, XAI_EFORMAT, XAI_ENOMEM. Free with xai_driver_index_free()
 * (also after an error). */
xai_status xai_driver_index_parse(const char *text, const char *path, xai_driver_index *ix);
void xai_driver_index_free(xai_driver_index *ix);

/* A zeroed set, or NULL when out of memory. */
xai_driver_set *xai_driver_set_alloc(int nfolds);
/* Fill s->warnings from s->card. */
xai_status xai_driver_set_refresh_warnings(xai_driver_set *s);
/* Pass each line of @p text to @p warn. */
void xai_driver_warn_lines(xai_warn_fn warn, void *ud, const char *text);

#endif /* XAI_DRIVER_INT_H */
