/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * speech-app.h - the parts of xai-speech: options (main.c), train and eval (train.c),
 * explain and its outputs (explain.c), the folder batch form (batch.c). The domain work
 * (clips, features, speakers, figure, sonification) is in formats (xai/domain-speech.h);
 * training and explaining go through the shared driver (xai/driver.h).
 */
#ifndef XAI_SPEECH_APP_H
#define XAI_SPEECH_APP_H

#include <stdint.h>

#include "app-driver.h"
#include "app.h"
#include "batch.h"
#include "concepts.h"
#include "xai/domain-speech.h"

#define PROG "xai-speech"
#ifndef XAI_SPEECH_VERSION
#define XAI_SPEECH_VERSION "0.2.0"
#endif

enum { SPEECH_AUGMENT_NONE = 0, SPEECH_AUGMENT_SHIFT, SPEECH_AUGMENT_MASK };
/** --augment's words, by SPEECH_AUGMENT_* (train.c). */
extern const char *const speech_augment_names[3];
/** The SPEECH_AUGMENT_* that @p name spells, or -1. */
int speech_augment_from_name(const char *name);

typedef enum { CMD_TRAIN = 0, CMD_EXPLAIN, CMD_EVAL, CMD_EVALUATE } speech_cmd;

typedef struct {
    xai_app app;
    xai_app_driver_opts dopt; /* --split-by --cv --strict --seed --lr --epochs ... --target --start */
    speech_cmd cmd;
    xai_speech_files files;
    const char *labels, *column, *preset, *arch, *model, *output, *sonify, *composite, *json, *metrics;
    double truth[4];          /* evaluate --truth T0,T1,F0,F1 (s, s, Hz, Hz) */
    int have_truth;
    double duration;
    int figures, stacked, save_input;
    int concepts;             /* explain --concepts: cs is set */
    concept_spec cs;
    int augment, shift_frames; /* train --augment: SPEECH_AUGMENT_*; shift: up to shift_frames frames */
    int norm;                 /* train --norm: XAI_SPEECH_NORM_* */
    int n_mels;               /* train --mels: mel bands of a mel preset (0: the preset's) */
    xai_method method;
    double root_q;            /* --root-point: the quantile of the band floor, or -1: silence */
    int have_root;            /* --root-point given */
    int root_applies;         /* the explanation puts z-box on a layer, so the root point matters */
    int shard_k, shard_n;     /* --shard K/N (0/0: every clip) */
    int slurm;                /* --slurm: submit the shards as an array job */
    int collect;              /* --collect: predictions.tsv from the shards' sidecars */
    xai_slurm_opts slurm_opts;
    int argc;                 /* the command line, for the array tasks */
    char **argv;
    int nopt_end;             /* argv index of the first operand after getopt (options before it) */
} opts;

/* Option codes of the batch form (batch.c). */
enum { O_SHARD = 0x1200, O_SLURM, O_SLURM_ARGS, O_MAX_PAR, O_DRY_RUN, O_WAIT, O_WAIT_TIMEOUT, O_COLLECT };

/** The clips of a batch run: one item per file (subject = speaker, output = its map). */
typedef struct {
    xai_batch_item *items;
    char **digests; /* "" for an unreadable file */
    int *shard;     /* 1-based shard of each item */
    int n;
} speech_batch;

/** One batch option; 1 handled, 0 not one, -1 usage error (printed). */
int speech_batch_option(opts *o, int c, const char *arg);
/** Items, digests and shards of every file of o->files (@p stems: their output stems). 0 or exit code. */
int speech_batch_prepare(opts *o, char *const *stems, const char *model_sha, speech_batch *b);
/** Submit the shards as a Slurm array (xai_slurm_run); its exit code. */
int speech_batch_slurm(opts *o, const speech_batch *b);
/** 1 when item @p i belongs to this shard and is not done with its current digest. */
int speech_batch_keep(const opts *o, const speech_batch *b, int i);
/** Record item @p i as done (@p ok) or failed. 0 or -1 (printed). */
int speech_batch_record(opts *o, const speech_batch *b, int i, int ok);
void speech_batch_free(speech_batch *b);

/** The default spectrogram pipeline (xai_speech_pre_preset()). */
#define SPEECH_DEFAULT_PRESET "compact"
/** The default architecture, before its dense(K) head. Batch norm after each convolution, as
 * audio CNNs use it (Choi et al. 2017, Hershey et al. 2017): on held-out voices it raised the
 * digit accuracy on average over three generator seeds (datasets/speech/README.md); the saved
 * model has it folded into the convolution before it, so explanations see a Conv-ReLU chain. */
#define SPEECH_DEFAULT_ARCH "conv2d(8,k=3,p=1) bn relu maxpool(2) conv2d(16,k=3,p=1) bn relu maxpool(2) flatten"
/** The default LRP composite (z-box on the first convolution with the features' range 0..1 as
 * bounds, gamma on the others, epsilon on the dense layer). */
#define SPEECH_DEFAULT_COMPOSITE "epsilon-gamma-box"
/** The default root point of the input layer's z-box: each mel band's floor, this quantile of
 * the band over the clip's frames (xai_speech_floor_bounds()). Chosen by deletion (AOPC) on
 * models trained without a planted tone (datasets/speech/README.md). */
#define SPEECH_DEFAULT_ROOT_Q 0.2
/** Momentum of the batch-norm running statistics in training (PyTorch convention). */
#define SPEECH_BN_MOMENTUM 0.5f

int run_train(opts *o);
int run_eval(opts *o);
int run_explain(opts *o);
/** What explain hands to the concept pass of one clip (borrowed). */
typedef struct {
    const char *source, *stem, *common;   /* the clip, its output stem, its map's sidecar members */
    const xai_driver_set *set;
    const xai_driver_explain_options *eo;
    const xai_driver_explanation *ex;     /* the plain pass; the clip is its sample k */
    int64_t k, rows, frames;
    const float *x;                       /* the clip's features as the model saw them */
    const char *const *classes;
    int nclasses;
} speech_concepts_in;
/** OUTDIR/STEM_concepts.npy and .tsv (concepts.c); 0, -1 out of memory. */
int speech_concepts_paths(const opts *o, const char *stem, char **npy, char **tsv);
/** explain --concepts: OUTDIR/STEM_concepts.npy (concepts, rows, frames), .tsv, sidecars. 0 or -1 (reported). */
int speech_concepts(opts *o, const speech_concepts_in *in);
int run_evaluate(opts *o);
/** --truth T0,T1,F0,F1; 1 or -1 (usage error printed). */
int speech_parse_truth(opts *o, const char *arg);
/** The driver's explain options for --target/--start/--method/--composite/--root-point (those of explain). */
int speech_explain_options(opts *o, const xai_driver_set *set, const xai_speech_pre *pre,
                           xai_driver_explain_options *eo);
/**
 * --root-point floor: the per-element z-box bounds of the clips @p d into @p *buf (grown as
 * needed, kept for the next call; free() it), set in @p eo (aligned with d->x); silence or a
 * gradient method: none. 0, or an exit code (printed).
 */
int speech_root_bounds(opts *o, const xai_speech_pre *pre, const xai_dataset *d, float **buf, size_t *cap,
                       xai_driver_explain_options *eo);
/** --root-point's value as the sidecars record it ("floor:0.2", "silence", or "none (no z-box layer)"
    when the explanation has no z-box layer), into @p buf. */
const char *speech_root_name(const opts *o, char *buf, size_t cap);

/**
 * The model set at o->model and its spectrogram pipeline (the card's preprocessing), checked
 * against the model's input and against --preset. Warnings of the card are printed.
 * @return 0, or the exit code (printed).
 */
int speech_load_model(opts *o, xai_driver_set **set, xai_speech_pre *pre);

/** The card's class names (borrowed) into names[0..K); @return K. */
int speech_class_names(const xai_driver_set *set, const char **names, int cap);

/** A xai_speech_note_fn printing "PROG: FILE: MSG" (@p app: the xai_app). */
void speech_note(void *app, const char *file, const char *msg);

#endif
