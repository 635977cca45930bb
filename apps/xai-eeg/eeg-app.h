/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eeg-app.h - what the parts of xai-eeg share: the options, the defaults and the commands
 * (help.c, train.c, explain.c, bids.c; main.c parses the command line).
 */
#ifndef XAI_EEG_APP_H
#define XAI_EEG_APP_H

#include "app-driver.h"
#include "app.h"
#include "concepts.h" /* concept_spec, concepts_parse(), concepts_compute() (apps/common) */
#include "eeg-batch.h"
#include "xai/domain-eeg.h"
#include "xai/driver.h"
#include "xai/lrp.h"

#define PROG "xai-eeg"
#ifndef XAI_EEG_VERSION
#define XAI_EEG_VERSION "0.1.0"
#endif

#define DEFAULT_ARCH XAI_EEG_DEFAULT_ARCH
/* 4-38 Hz keeps mu, beta and low gamma and drops drift, blinks' slow part and mains
 * (braindecode's motor-imagery examples, after Schirrmeister et al. 2017). */
#define DEFAULT_HP 4.0
#define DEFAULT_LP 38.0
/* A fixed number of epochs without early stopping: stopping early needs an inner held-out
 * subject, which a study of a handful of subjects cannot spare. */
#define DEFAULT_EPOCHS 40
#define DEFAULT_PATIENCE 0
/* L2 weight decay (added to the gradient, as torch.optim.Adam's weight_decay): the dense
 * weights of time bins that carry no class information get gradients that average to zero,
 * so without it they keep their random initial values, and the class-free activity there
 * takes a third of the relevance. The penalty pulls exactly those weights to zero while the
 * data hold the informative ones (the minimum-norm solution). Measured on the realistic
 * generator, 3 seeds, held-out subject: window share 0.70 -> 0.76, 0.65 -> 0.70, 0.69 -> 0.73;
 * with half the data 0.65 -> 0.70 and 0.58 -> 0.61, no loss of held-out accuracy (README). */
#define DEFAULT_WEIGHT_DECAY 0.1

/* --augment: none, shift-scale, shift-scale-dropout (channel dropout with EEG_CHANNEL_DROPOUT).
 * Channel dropout by default: no decision may rest on a few electrodes that an artefact, a flat or
 * a bad channel can own; on the realistic generator's three configurations, 5 seeds, held-out
 * subject, it kept every cell that passed and made three half-data cells that failed pass (README). */
enum { EEG_AUGMENT_NONE, EEG_AUGMENT_SHIFT_SCALE, EEG_AUGMENT_DROPOUT };
#define EEG_CHANNEL_DROPOUT 0.2 /* braindecode's ChannelsDropout default */
#define DEFAULT_AUGMENT EEG_AUGMENT_DROPOUT
#define DEFAULT_AUGMENT_COPIES 1

typedef struct {
    int train, evaluate;
    int bids;           /* 0, 1 participant, 2 group */
    const char *bids_dir, *task;
    char **labels;      /* --participant-label values (without "sub-") */
    int nlabels;
    char **outdirs;     /* per input in the BIDS form, else NULL */
    char **inputs;
    int ninputs;
    const char *events, *channels, *arch, *model, *output, *composite;
    const char *truth, *truth_kind, *metrics; /* evaluate */
    int concepts;             /* explain --concepts: cs is set */
    concept_spec cs;
    double tmin, tmax, hp, lp, notch, resample;
    int tmin_set, tmax_set, baseline_mean, average_ref, standardise, augment, augment_copies, order, figures, save_input;
    xai_method method;
    xai_app_driver_opts dopt; /* --split-by --cv --strict --seed --optimizer --epochs ... --target */
    eeg_batch batch;          /* --shard --slurm ...; always on at the participant level */
} opts;


/** --help */
void eeg_usage(void);
/** The shared driver options with xai-eeg's defaults (--help shows the same). */
void eeg_driver_defaults(xai_app_driver_opts *d);
/** A recording's name without folder, extension and trailing "_eeg" (malloc'ed or NULL). */
char *eeg_stem_of(const char *path);
/** The group of a recording for --split-by KIND (sub, ses, run entities of its name, or the
 *  recording itself); *missing counts names without the entity. malloc'ed, NULL when out
 *  of memory. */
char *eeg_group_of(const char *path, const char *kind, int *missing);
/** The commands; each returns the exit code. */
int eeg_run_train(xai_app *app, opts *o);
int eeg_run_explain(xai_app *app, opts *o);
int eeg_run_evaluate(xai_app *app, opts *o);
/** The model set, its record (with --events remapped) and the explanation settings, checked
 *  against --strict: what explain and evaluate share. @return an exit code. */
int eeg_prepare_model(xai_app *app, const opts *o, xai_driver_set **set, xai_eeg_prep *p,
                      xai_driver_explain_options *eo);
/** One recording's epochs after the record, warnings on dropped ones. @return an exit code. */
int eeg_load_epochs(xai_app *app, const xai_eeg_prep *p, const char *input, xai_eeg_epochs *ep);
/** What explain hands to the concept pass of one recording (borrowed). */
typedef struct {
    const char *input, *rel_npy, *common; /* the recording, its relevance .npy, its sidecar members */
    const concept_spec *cs;
    const xai_driver_set *set;
    const xai_driver_explain_options *eo;
    const xai_driver_explanation *ex;     /* the plain pass: fold and class of each epoch */
    const float *x;                       /* the epochs as the model saw them */
} eeg_concepts_in;
/** <stem>_desc-<m>_concepts.npy (epochs, concepts, channels, times), .tsv and sidecars. */
int eeg_concepts(xai_app *app, const xai_eeg_prep *p, const eeg_concepts_in *in);
/** The participant level's inputs: o->inputs and o->outdirs from the BIDS folder. */
int eeg_bids_collect(xai_app *app, opts *o);
int eeg_run_group(xai_app *app, opts *o);

#endif
