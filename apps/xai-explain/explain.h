/* SPDX-License-Identifier: GPL-3.0-or-later */
/* xai-explain internals shared by the single-input run (main.c) and the batch form (batch.c). */
#ifndef XAI_EXPLAIN_APP_H
#define XAI_EXPLAIN_APP_H

#include <jansson.h>
#include <stdio.h>

#include "xai.h"
#include "app.h"

#define PROG "xai-explain"

extern xai_app app;

/** The batch form: many inputs, one OUTDIR, shards and Slurm. */
typedef struct {
    int active;            /**< more than one input, --list, or -o ending in '/' */
    const char *model;
    char **inputs;         /**< positional inputs (borrowed from argv) */
    int ninputs;
    const char *list;      /**< --list FILE: one input path a line */
    const char *outdir;
    int shard_k, shard_n;  /**< --shard K/N (1/1 without it) */
    int slurm, dry_run, wait, max_parallel, wait_timeout;
    const char *slurm_args;
    char **argv;           /**< the whole command line (after getopt_long's permutation) */
} explain_batch;

/** The model kept loaded and planned between the inputs of a run, and the relevance output:
 *  reused while the inputs keep one shape (plan once, run many). Zero-initialise it. */
typedef struct {
    xai_model *m;
    int ndim;                    /**< the input shape m was loaded for */
    int64_t shape[XAI_MAX_DIMS];
    float *rel;                  /**< relevance output, rel_bytes long, faulted in */
    size_t rel_bytes;
} explain_kept;
void explain_kept_free(explain_kept *k);

/** Explain one input into @p out (+ JSON summary) with the model kept in @p k (loaded or
 *  reloaded for the input's shape). @return 0 or 1 (printed). */
int explain_one(const char *model_path, const char *input_path, const char *out, const char *json,
                xai_explain_config cfg, int quiet, explain_kept *k);
/** Run the batch form. @return 0 ok, 1 data error, 2 usage error, 3 some items failed. */
int run_batch(const explain_batch *b, xai_explain_config cfg, int quiet);
/** Handle a batch option (c: the option's code). @return 0, 1 not a batch option, 2 bad value. */
int batch_option(explain_batch *b, int c, const char *arg);

/** The --help text (help.c). */
void explain_usage(FILE *f);

/** The files of one run, and what its phases cost (time and first-touched pages): loading the
 *  model, planning the explanation's buffers, and the xai_explain() call. */
typedef struct {
    const char *model, *input, *out;
    xai_app_stamp load, plan, run;
} run_files;

/** The --init name of @p m ("auto", "onehot", "logit", "logodds", "contrast"); NULL if none. */
const char *explain_init_name(xai_init_mode m);

/** The --json summary of one run over @p n samples (summary.c). */
json_t *explain_summary_json(const run_files *f, const xai_explain_config *cfg, int64_t n,
                             const xai_explain_result *res);
/** Write @p root to @p path atomically. @return 0 or -1 (printed). */
int explain_write_json(json_t *root, const char *path);
/** The one-line account of a run on stderr (with its loading and planning times), and a
 *  warning for non-finite relevance. */
void explain_report_run(const run_files *f, const xai_explain_config *cfg, int64_t n, const xai_explain_result *res,
                        const float *rel, int64_t nin);

enum { O_SHARD = 512, O_LIST, O_SLURM, O_SLURM_ARGS, O_MAX_PAR, O_DRY_RUN, O_WAIT, O_WAIT_TIMEOUT };
#define EXPLAIN_BATCH_OPTIONS                                                                                \
    {"shard", required_argument, 0, O_SHARD}, {"list", required_argument, 0, O_LIST},                         \
    {"slurm", no_argument, 0, O_SLURM}, {"slurm-args", required_argument, 0, O_SLURM_ARGS},                   \
    {"max-parallel", required_argument, 0, O_MAX_PAR}, {"dry-run", no_argument, 0, O_DRY_RUN},                \
    {"wait", no_argument, 0, O_WAIT}, {"wait-timeout", required_argument, 0, O_WAIT_TIMEOUT}

#endif
