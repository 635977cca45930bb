/* SPDX-License-Identifier: GPL-3.0-or-later */
/* options.h - the command line of xai-train (options.c). */
#ifndef XAI_TRAIN_OPTIONS_H
#define XAI_TRAIN_OPTIONS_H

#include "app.h"
#include "guide.h"
#include "xai/train.h"

/* What the command line asks for. */
typedef struct {
    xai_app *app;
    xai_train_config cfg;
    const char *arch, *xp, *yp, *init, *out, *cwarg, *classes, *layout, *pre, *logp;
    int keep_bn;
    xai_guide_arg guide;
    char logbuf[4096];
} xai_train_opts;


/*
 * Parse argv into @p o (o->app set by the caller), check the required options and that the
 * output may be written. @return 0 to go on, -1 for exit 0 (--help, --version), else the
 * exit code (message printed).
 */
int xai_train_parse_args(int argc, char **argv, xai_train_opts *o);

#endif
