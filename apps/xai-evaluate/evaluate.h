/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * evaluate.h - what the files of xai-evaluate share: the program's app state, the settings
 * its command line sets, the option parser and the help text.
 */
#ifndef XAI_EVALUATE_APP_H
#define XAI_EVALUATE_APP_H

#include <stdint.h>
#include <stdio.h>

#include "app.h"
#include "xai.h"
#include "xai/eval.h"

#define PROG "xai-evaluate"
#define MAX_METHODS 16

extern xai_app app;

/* One --methods entry. */
typedef struct {
    char label[160];          /* "lrp:epsilon-plus-flat", "gradient" */
    xai_method method;
    char composite[40];
} method_spec;

/* Settings of a metrics run. */
typedef struct {
    uint32_t set;
    const char *truth;
    xai_eval_config ec;
} metrics_opts;

/* Everything the command line sets for an AOPC or metrics run. */
typedef struct {
    xai_perturb_config pc;
    method_spec ms[MAX_METHODS];
    int nm;
    const char *outdir, *methods, *road_axes, *model_path, *input_path;
    int target, do_morf, do_lerf, init_logit;
    long steps;
    metrics_opts mo;
} eval_opts;

void eval_usage(FILE *f);
/* 0 to go on, -1 for exit 0 (help, version), else the exit code */
int eval_parse_args(int argc, char **argv, eval_opts *o);
/* "1,2" -> bit set of per-sample axes below ndim; 0 or -1. */
int eval_parse_axes(const char *s, int ndim, unsigned *bits);

#endif
