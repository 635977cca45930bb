/* SPDX-License-Identifier: GPL-3.0-or-later */
/* clarc-app.h - what the parts of xai-clarc share: its options (options.c), the groups (groups.c)
   and the layer the CAV is fitted at (layer.c). */
#ifndef XAI_CLARC_APP_H
#define XAI_CLARC_APP_H

#include <stdio.h>

#include "app.h"
#include "xai.h"
#include "xai/npy.h"

#define PROG "xai-clarc"

/* The command line; app is set by the caller. */
typedef struct {
    xai_app *app;
    const char *sub, *model, *layer, *x, *y, *art, *clean, *groups, *spray, *cav, *zarg, *out, *folds;
    int cls, cluster, quiet, pooled;
    xai_cav_method method;
    xai_train_config tc;
} clarc_opts;

/* The --help text. */
void clarc_usage(FILE *f);

/* Parse the options after the command (argv[1]). @return 0 to go on, -1 for exit 0
   (--help), else the exit code (message printed). */
int clarc_parse(int argc, char **argv, clarc_opts *o);

/* The two groups' rows of X, their classes (NULL: pooled) and folds (NULL: alternate). */
typedef struct {
    int64_t *ia, *ic, na, nc;
    int *ya, *yc;
    unsigned char *fa, *fc;
} cav_rows;

/* The activations at @p layer of the listed rows of X ([k][d]); NULL with the error printed. */
float *clarc_acts(const clarc_opts *o, const char *layer, const xai_model *m, const xai_npy *x, const int64_t *idx,
                  int64_t k, int64_t d);

/* --folds F.npy: each grouped row's fold (0 or 1) into r->fa, r->fc. @return 0, or an exit code. */
int clarc_group_folds(const clarc_opts *o, int64_t n, cav_rows *r);

/* The layer the CAV is fitted at: as given, or (--layer auto: every candidate layer; A,B,...:
   those) the one whose CAV separates the groups best on held-out rows. Returns the node's name
   (owned by the model or the options) or NULL (message printed). */
const char *clarc_cav_layer(const clarc_opts *o, const xai_model *m, const xai_npy *x, const cav_rows *r);

#endif
