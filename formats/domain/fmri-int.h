/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri-int.h - what the fMRI domain's writers share (fmri-write.c, fmri-eval.c, fmri-group.c).
 * Private to the formats library.
 */
#ifndef XAI_FMRI_INT_H
#define XAI_FMRI_INT_H

#include <jansson.h>

#include "xai/domain-fmri.h"
#include "xai/driver.h"
#include "xai/status.h"

/**
 * Write the JSON sidecar of output @p out ("x.nii.gz", "x.tsv", ... -> "x.json"): the object
 * in @p base_file (may be NULL, e.g. a table's data dictionary), then the members of
 * @p common (JSON object text, may be NULL) and of @p own (consumed), atomically through the
 * formats library's JSON writer.
 */
xai_status fmri_write_sidecar(const char *out, const char *base_file, const char *common, json_t *own);
/** The sidecar path of an output (malloc'ed). */
char *fmri_json_path(const char *out);

/* The labelled volumes of some runs as a driver dataset (fmri-train.c): pre-processed over the
 * whole grid (each model's mask is its prep step), one group per run with labelled volumes. */
typedef struct {
    xai_dataset d;     /* class names borrowed from the classes */
    int *run_of;       /* [n] run index of each sample */
    int *group_run;    /* [ngroups] run index of each group */
} fmri_data;
/* The group name of each of @p n runs into @p names (malloc'ed each; fmri-cv.c): the BIDS
 * entities that name the run ("sub-01_task-faces_run-1"), else its file name with as many folders
 * as tell it from the other runs; "@t0" when its file holds several runs. explain finds a run's
 * fold by these names. */
xai_status fmri_run_names(const xai_fmri_run *runs, int n, char **names);
xai_status fmri_data_make(const xai_fmri_run *runs, int nruns, const int *use, const xai_fmri_classes *cls,
                          int timedist, fmri_data *fd);
void fmri_data_free(fmri_data *fd);

/* The per-model step (xai_driver_prep): the mask of the model's training runs (or the given
 * one), then the ANOVA screening on its training volumes; recording writes xai-fmri's metadata. */
typedef struct {
    const xai_fmri_train_opts *o;
    const xai_fmri_run *runs;
    int nruns;
    const int *run_of;            /* fmri_data.run_of, set after fmri_data_make() */
    const xai_fmri_classes *cls;
    char spec[1024];              /* the architecture on the runs' grid */
    int timedist;
    xai_train_result last;        /* of the last model recorded */
    double last_screen;           /* the screening share of the last model recorded */
} fmri_prep;
/* Fill @p p and @p hooks (ud = p); the architecture is chosen here (its errors returned). */
xai_status fmri_prep_init(fmri_prep *p, const xai_fmri_train_opts *o, const xai_fmri_run *runs, int nruns,
                          const xai_fmri_classes *cls, xai_driver_prep *hooks);
/* The event-timing check (o->timing) of the runs with use[i] on their whole mask; recorded in
 * @p m when given. */
xai_status xai_fmri_timing_record(const xai_fmri_train_opts *o, const xai_fmri_run *runs, int nruns, const int *use,
                                  int ncls, xai_model *m);

/* The events of an events.tsv (fmri.c): class index per event (-1: no class), in file order. */
typedef struct {
    int n;
    double *onset, *duration;
    int *cls;
} fmri_events;
/* Read @p path (columns onset, duration, trial_type); an empty @p cls is filled with the trial
 * types, sorted; @p unused as in xai_fmri_label_events(). */
xai_status fmri_events_read(const char *path, xai_fmri_classes *cls, fmri_events *ev, char **unused);
void fmri_events_free(fmri_events *e);
/* Univariate screening (as in nilearn's Decoder and the ANOVA + SVM pipelines of the MVPA
 * tutorials), on the training samples only: keep the share @p keep of the mask's voxels with the
 * largest one-way ANOVA F; the others leave the mask and their inputs become 0. */
xai_status fmri_screen(float *x, const int *y, int64_t n, int64_t nv, int ncls, double keep, uint8_t *mask);
/* The share to screen with, among @p top, top/2, top/4, ...: the best pooled balanced accuracy of
 * a ridge classifier on the screened voxels over inner folds (the samples' runs @p run, or
 * thirds of a single run), the screening fitted inside each fold; ties go to the smaller share.
 * Fewer than two folds, or a fold whose training part holds one class only: @p top. */
xai_status fmri_screen_select(const float *x, const int *y, const int *run, int64_t n, int64_t nv, int ncls,
                              const uint8_t *mask, double top, uint64_t seed, double *share);
/* The cumulative canonical HRF (malloc'ed table for fmri_hrf_regressor). */
double *fmri_hrf_cumulative(void);
/* The median of n values, sorted in place; NaN when n is 0. */
double fmri_median(double *d, size_t n);
/* A boxcar of @p du s from @p on s convolved with the canonical HRF, at the mid-acquisition times
 * of @p nt volumes of @p tr s, into @p x. */
void fmri_hrf_regressor(const double *H, double on, double du, int64_t nt, double tr, double *x);
/* One run of per-trial estimates (fmri-trials.c, @p method an XAI_FMRI_TRIALS_* value) from the
 * open BOLD image @p img, which it takes over: its volumes become the estimates of the trials of
 * the classes in onset order (labels and onsets in @p r); head-motion spikes are left out of
 * the fits, and counted in r->ncensored. */
xai_status fmri_trials_run(const char *bold, xai_nifti *img, const char *events, int method, int detrend,
                           xai_fmri_classes *cls, xai_fmri_run *r, char **unused);

#endif
