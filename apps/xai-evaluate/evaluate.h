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
#include "batch.h"
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
    int shard_k, shard_n, merge; /* --shard K/N (0/0 without), --merge */
    xai_slurm_opts slurm;        /* --slurm and its options (nshards 0: not given) */
    int use_slurm;
    char **argv;                 /* the command line, for the batch digests */
} eval_opts;

void eval_usage(FILE *f);
/* 0 to go on, -1 for exit 0 (help, version), else the exit code */
int eval_parse_args(int argc, char **argv, eval_opts *o);
/* "1,2" -> bit set of per-sample axes below ndim; 0 or -1. */
int eval_parse_axes(const char *s, int ndim, unsigned *bits);

/* The sidecar members of @p root (consumed) plus the program's provenance, as JSON text
 * (NULL when out of memory). */
struct json_t;
char *eval_with_provenance(struct json_t *root);
/* The outputs of one run from its results (output.c): 0 or an exit code (printed). */
int eval_write_aopc(const eval_opts *o, const xai_aopc_sweep *sw, const char *sha);
int eval_write_metrics(const eval_opts *o, const xai_eval_scores *sc, const char *sha);

/* ---- runs in parts (shard.c): one batch item per method ---- */

typedef struct {
    int n;
    xai_batch_item items[MAX_METHODS]; /* input X, subject = the method's label, output its folder */
    char *dir[MAX_METHODS];            /* OUTDIR/methods/LABEL (':' as '_') */
    char digest[MAX_METHODS][65];
} eval_shard;

/* Evaluate method @p i into folder @p dir: 0 or an exit code (printed). */
typedef int (*shard_fn)(void *ctx, int i, const char *dir);

int shard_items(const eval_opts *o, const char *model_sha, char **argv, eval_shard *sh);
void shard_free(eval_shard *sh);
int shard_run(eval_opts *o, const eval_shard *sh, int k, int n, shard_fn one, void *ctx);
/* --slurm: an array task per shard with methods to do, then the --merge step (afterok) */
int shard_slurm(eval_opts *o, const eval_shard *sh);
int shard_check_done(const eval_opts *o, const eval_shard *sh);
int shard_merge_aopc(const eval_opts *o, const eval_shard *sh, xai_aopc_sweep *out);
int shard_merge_metrics(const eval_opts *o, const eval_shard *sh, xai_eval_scores *sc);

#endif
