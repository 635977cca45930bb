/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri.h - the options and commands of xai-fmri (train, explain, the BIDS-App participant and
 * group levels). The work itself is in the fMRI domain library (xai/domain-fmri.h).
 */
#ifndef XAI_FMRI_APP_H
#define XAI_FMRI_APP_H

#include <stdint.h>

#include "app.h"
#include "batch.h"
#include "concepts.h"
#include "xai/domain-fmri.h"

#define PROG "xai-fmri"
#ifndef XAI_FMRI_VERSION
#define XAI_FMRI_VERSION "0.1.0"
#endif
#define MAX_RUNS 256
#define MAX_SUBJECTS 1024

typedef struct {
    xai_app app;
    /* data */
    const char *bold[MAX_RUNS], *events[MAX_RUNS], *labels[MAX_RUNS];
    int nbold, nevents, nlabels;
    const char *mask;
    double lag, auto_frac;
    int detrend;
    int samples, use_samples; /* --samples (-1: by the design of the events) and what training uses */
    double smooth, screen; /* FWHM in mm; share of the mask's voxels kept by ANOVA screening; < 0: by the
                            * default rule (xai_fmri_default_reduction) */
    double use_smooth, use_screen; /* what the current training uses */
    const char *conditions;
    /* train */
    const char *arch, *family;
    int epochs, patience, cv, strict, timing_warned; /* strict: a model whose record warns is an error (exit 4) */
    int64_t batch;
    double lr, val_split, weight_decay;
    uint64_t seed;
    const char *out;
    /* explain */
    const char *model, *method, *composite, *target;
    char warned_model[4096]; /* the model file whose record and card warnings were given: once per file */
    int warned_rc;           /* and what they returned (exit 4 with --strict), for its later runs */
    double epsilon, gamma;
    int no4d, save_input;
    int64_t ebatch;
    int concepts;         /* --concepts: cs is set */
    concept_spec cs;
    /* BIDS-App */
    const char *plabels[MAX_SUBJECTS];
    int nplabels;
    const char *task;
    int shard_k, shard_n; /* --shard K/N over the selected participants (0 = all) */
    int slurm, dry_run, wait, max_parallel, wait_timeout;
    const char *slurm_args;
    int argc;
    char **argv;
    /* evaluate */
    const char *truth, *metrics;
} opts;

/* The runs of one participant: paths into the walk's list (borrowed). */
typedef struct {
    const char *sub;
    char dir[4096]; /* BIDS_DIR/sub-X */
    int n;
    const char *bold[MAX_RUNS], *events[MAX_RUNS], *rel[MAX_RUNS];
} subject_runs;

/* The participant level as a batch: one item per run (apps/common/batch.h). */
typedef struct {
    xai_batch_item *items;
    char **digests;
    int64_t n;
    char *salt;
} fmri_batch;
int fmri_batch_make(opts *o, const subject_runs *subs, int ns, const char *out, int argc, char **argv,
                    fmri_batch *b);
void fmri_batch_free(fmri_batch *b);
int fmri_batch_shards(opts *o, const fmri_batch *b, const subject_runs *subs, int ns, int nshards, int *shard_of);
int fmri_batch_current(const char *out, const fmri_batch *b, const subject_runs *subs, int s);
int fmri_batch_record(opts *o, const char *out, const fmri_batch *b, const subject_runs *subs, int s, int code);
int fmri_batch_slurm(opts *o, const fmri_batch *b, const char *bids, const char *out, char **argv);

/** What explain records about where a run's model came from (may be NULL). */
typedef struct {
    const char *source;     /* for Sources (BIDS URI or path) */
    int held_out;           /* -1 unknown (a given --model), 0 the run was in training, 1 held out */
    double train_acc;       /* the model's kept training accuracy (NaN: unknown) */
    const char *selection;  /* why this model explains the run (xai_fmri_model_choice_text), or NULL */
    int fresh;              /* trained in this invocation: its training warnings were printed then */
} explain_ctx;

int cmd_train(opts *o);
int cmd_explain(opts *o);
int cmd_participant(opts *o, const char *bids, const char *out);
int cmd_group(opts *o, const char *out);
int cmd_evaluate(opts *o);

/* shared by the commands (commands.c) */
/* how runs are labelled and pre-processed on loading */
typedef struct {
    double lag;
    int detrend;
    double fwhm_mm;
    int samples; /* XAI_FMRI_SAMPLES_VOLUMES or a trial estimator */
} run_prep;
/* What a sample is called in messages ("volumes" or "trials"). */
const char *samples_word(int samples);
/* Say how many volumes of each run were censored as head-motion spikes. */
void say_censored(opts *o, const xai_fmri_run *runs, int nr);
int load_runs(opts *o, const char *const *bold, const char *const *events, const char *const *labels, int n,
              const run_prep *rp, xai_fmri_classes *cls, xai_fmri_run *runs, int *nr, int cap);
int load_training_runs(opts *o, const char *const *bold, const char *const *events, const char *const *labels,
                       int n, const xai_nifti *mask, xai_fmri_classes *cls, xai_fmri_run *runs, int *nr, int cap);
void train_options(const opts *o, const xai_nifti *mask, xai_fmri_train_opts *t);
int train_model(opts *o, const xai_fmri_run *runs, int nr, const int *use, const xai_fmri_classes *cls,
                const xai_nifti *mask, xai_model **m, xai_train_result *res);
int explain_run(opts *o, const xai_model *m, const char *model_path, const char *bold, const char *events,
                const char *out, const explain_ctx *ctx);
/* Explain a run with the model at model_path (m, loaded), or with the fold model of its set
 * that never saw the run (xai_fmri_model_choose); source as in explain_ctx (may be NULL). */
int explain_chosen(opts *o, const xai_model *m, const char *model_path, const char *bold, const char *events,
                   const char *out, const char *source);
/* The choice itself, logged (a warning when the model saw the run): the fold model in *fold
 * (NULL: m itself), the sentence in sel; 0 or an exit code. */
int choose_model(opts *o, const xai_model *m, const char *model_path, const char *bold, xai_fmri_model_choice *c,
                 xai_model **fold, char *sel, size_t cap);
int load_mask(opts *o, xai_nifti **mask);
/* explain's steps (explain.c), shared with evaluate */
int prepare(opts *o, const xai_model *m, const char *model_path, const char *bold, const char *events,
            int ctx_trained, xai_fmri_record *rec, xai_fmri_run *run, uint8_t **emask);
int explain_config(opts *o, const xai_fmri_record *rec, int64_t nv, xai_explain_config *cfg);
void explain_progress(void *ud, int64_t done, int64_t total);
/* CommandLine, Version and DateTime of this invocation (a jansson object) */
struct json_t *provenance_json(const opts *o);

/* output names: BIDS-named inputs keep their entities under OUT/sub-X[/ses-Y]/func */
typedef struct {
    xai_bids_name b;
    int bids;
    char stem[512];
    char dir[4096], figdir[4096];
} namer;
void namer_init(namer *nm, const char *out, const char *bold);
void namer_path(const namer *nm, int fig, const char *desc, const char *suffix, const char *ext, char *buf,
                size_t len);
void remove_empty_dirs(const namer *nm);

/* What explain hands to the concept pass of one run (borrowed); the run's data still the
 * pre-processed BOLD (before the plain pass overwrites it with relevance). */
typedef struct {
    const char *bold, *common, *descrip; /* the run, the sidecar members of its outputs, the NIfTI descrip */
    const xai_model *m;
    const xai_explain_config *cfg;       /* the plain pass's settings (its target: a class or -1, pred) */
    const xai_fmri_run *run;
    const uint8_t *emask;
    const xai_fmri_classes *cls;
    const namer *nm;
    const concept_spec *cs;
} fmri_concepts_in;
/** explain --concepts (concepts.c): one 4-D NIfTI per concept and the concept table. An exit code. */
int fmri_concepts(opts *o, const fmri_concepts_in *in);

/* The --help text of one command (train, explain, evaluate), or of all of them (NULL). */
void fmri_help(const char *cmd);

#endif
