/* SPDX-License-Identifier: GPL-3.0-or-later */
/* clarc-app.h - what the parts of xai-clarc share: its options (options.c) and the groups (groups.c). */
#ifndef XAI_CLARC_APP_H
#define XAI_CLARC_APP_H

#include <stdio.h>

#include "app.h"
#include "xai.h"

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

#endif
