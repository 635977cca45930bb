/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * domain-fmri.h - the fMRI domain of the formats library: class names, labelling volumes from BIDS
 * events.tsv (onsets and durations against the TR, with a hemodynamic lag) or from a
 * per-volume label table, the brain mask, smoothing and the per-run voxel-wise z-scoring that
 * train and explain apply identically; runs, training with screening and cross-validation,
 * the event-timing check, the streamed explanation of a run and its BIDS derivatives,
 * evaluation against a region, and the group mean. Nothing here prints; errors through
 * xai_error_set().
 */
#ifndef XAI_DOMAIN_FMRI_H
#define XAI_DOMAIN_FMRI_H

#include <stdint.h>

#include "xai/api.h"
#include "xai/driver.h"
#include "xai/eval.h"
#include "xai/lrp.h"
#include "xai/model.h"
#include "xai/train.h"
#include "xai/nifti.h"
#include "xai/status.h"

#define XAI_FMRI_MAX_CLASSES 64

/** Class names in class-index order (owned strings). */
typedef struct {
    int n;
    char *name[XAI_FMRI_MAX_CLASSES];
} xai_fmri_classes;

/** Parse "a,b,c" (appends; duplicates refused). */
XAI_API xai_status xai_fmri_classes_parse(xai_fmri_classes *c, const char *csv);
/** Parse a JSON array of strings (the model's "class_names" metadata). */
XAI_API xai_status xai_fmri_classes_from_json(xai_fmri_classes *c, const char *json);
/** JSON array text of the names (malloc'ed). */
XAI_API char *xai_fmri_classes_to_json(const xai_fmri_classes *c);
/** Index of @p name or -1. */
XAI_API int xai_fmri_classes_find(const xai_fmri_classes *c, const char *name);
XAI_API void xai_fmri_classes_free(xai_fmri_classes *c);

/** Use the canonical HRF rule instead of a fixed lag (see xai_fmri_label_blocks()). */
#define XAI_FMRI_LAG_HRF (-1.0)

/**
 * Label @p nt volumes (volume i acquired over [i*tr, (i+1)*tr)) from @p nev blocks (onset and
 * duration in seconds, class index or -1 for blocks that are no class). With @p lag >= 0 a
 * volume takes a block's class when onset + lag <= i*tr < onset + duration + lag. With
 * @p lag == XAI_FMRI_LAG_HRF (the default of xai-fmri) the canonical SPM double-gamma HRF
 * (peak 5 s, undershoot 15 s, ratio 1/6) decides: a volume takes the class of a block whose
 * boxcar convolved with the HRF, at the volume's mid-acquisition time i*tr + tr/2, exceeds
 * half of its peak (Friston et al. 1998; for 22.5 s blocks at TR 2.5 s this is the 2-volume
 * shift of the MVPA tutorials). Volumes claimed by two classes are unlabelled (-1).
 */
XAI_API xai_status xai_fmri_label_blocks(const double *onset, const double *duration, const int *cls, int nev,
                                         int64_t nt, double tr, double lag, int *labels);

/**
 * Label the @p nt volumes of a run from a BIDS events.tsv (columns onset, duration,
 * trial_type) with xai_fmri_label_blocks(). When @p cls is empty it is filled with the
 * trial types found, sorted; otherwise other trial types are not used. @p unused (may be
 * NULL) receives a malloc'ed "type (N events), ..." list of the trial types not used, or
 * NULL when every event was used.
 * @param[out] labels nt entries
 */
XAI_API xai_status xai_fmri_label_events(const char *path, int64_t nt, double tr, double lag, xai_fmri_classes *cls,
                                         int *labels, char **unused);

/**
 * Label volumes from a per-volume table, one row per volume, separated by tabs or spaces,
 * with or without a header line (PyMVPA's attributes.txt `label chunk` has none). With a
 * header the label column is trial_type, label, labels or targets and the run column chunk,
 * chunks or run; without one, the first column is the label and the second (if any) the
 * run. "n/a", "rest" and values not in @p cls (when it is given) are no class. The labels are
 * turned into blocks (runs of equal labels within a run, onset = first volume * @p tr) and
 * labelled with xai_fmri_label_blocks() and @p lag (lag 0 keeps the table as it is).
 * @param[out] labels @p nt entries
 * @param[out] chunks @p nt run indices 0, 1, ... in order of first appearance, or NULL;
 *                    *nchunks receives their count (1 without a run column)
 * Errors name @p path, the line and what is wrong.
 */
XAI_API xai_status xai_fmri_label_table(const char *path, int64_t nt, double tr, double lag, xai_fmri_classes *cls,
                                        int *labels, int *chunks, int *nchunks);

/**
 * The automatic brain mask from a mean EPI image of @p dims (x, y, z; x fastest): threshold at
 * the largest gap between consecutive sorted mean intensities between the 20 % and 85 %
 * quantiles (the histogram-gap idea of nilearn's compute_epi_mask, after Nichols), keep the
 * largest 26-connected component and fill its holes (background not connected to the grid's
 * border). @return XAI_EINVAL when nothing is left.
 */
XAI_API xai_status xai_fmri_auto_mask(const float *mean, const int64_t dims[3], uint8_t *mask);

/** Mask of the voxels whose mean exceeds @p frac times the 98th percentile (the older rule). */
XAI_API void xai_fmri_frac_mask(const float *mean, int64_t nv, double frac, uint8_t *mask);

/**
 * Pre-processing of one run inside a mask: optional linear detrending over the run, then
 * voxel-wise z-scoring of the residual (ddof 1), 0 outside the mask and for constant voxels.
 */
typedef struct {
    int64_t nv;       /**< voxels per volume */
    int64_t nt;       /**< volumes in the run */
    int64_t nin;      /**< voxels in the mask */
    uint8_t *mask;    /**< nv (a copy) */
    float *mean;      /**< nv temporal means */
    float *slope;     /**< nv linear trend per volume about the run's centre (0 without detrending) */
    float *scale;     /**< nv: 1/SD of the (detrended) series in the mask, else 0 */
} xai_fmri_prep;

/**
 * Statistics of the run @p data (@p nt volumes of @p nv voxels, volume-major) inside @p mask.
 * @p detrend 1 removes a least-squares line per voxel before z-scoring (per-run linear
 * detrending as in the MVPA tutorials), 0 only centres.
 */
XAI_API xai_status xai_fmri_prep_init(xai_fmri_prep *p, const float *data, int64_t nt, int64_t nv,
                                      const uint8_t *mask, int detrend);
/** Pre-process volume @p t of the run into @p out. */
XAI_API void xai_fmri_prep_apply(const xai_fmri_prep *p, const float *vol, int64_t t, float *out);

/* A volume is a spike (xai_fmri_motion_spikes) when its score is this many robust SDs above the
   run's median and above this share of the RMS of the run's mean image. */
#define XAI_FMRI_SPIKE_Z 5.0
#define XAI_FMRI_SPIKE_FLOOR 0.01
/**
 * Head-motion spikes of a run (@p nt volumes of @p nv voxels): a volume whose RMS difference
 * from the mean of its two neighbours is more than XAI_FMRI_SPIKE_Z robust SDs (1.4826 MAD)
 * above the run's median of that difference, and more than XAI_FMRI_SPIKE_FLOOR of the RMS
 * of the run's mean image. A one-volume jump of the head or the intensity
 * shows as such an outlier (the DVARS idea of Power et al., NeuroImage 2012,
 * doi:10.1016/j.neuroimage.2011.10.018, against both neighbours so that slow drift and
 * block responses do not count). Sets @p censor[t] (nt bytes) and returns the count; runs
 * under 8 volumes are not screened.
 */
XAI_API int64_t xai_fmri_motion_spikes(const float *data, int64_t nt, int64_t nv, uint8_t *censor);
XAI_API void xai_fmri_prep_free(xai_fmri_prep *p);

/** Mean image over @p nt volumes of @p nv voxels into @p out (non-finite samples propagate). */
XAI_API void xai_fmri_mean_volume(const float *data, int64_t nt, int64_t nv, float *out);

/**
 * The world direction (RAS+ letters R/L, A/P, S/I) that each voxel axis i, j, k points to in
 * the image's affine, e.g. "LAS" for radiological storage; @p out holds 4 chars.
 */
XAI_API void xai_fmri_orientation(const xai_nifti_info *info, char out[4]);

/** Run-length code of a mask as a JSON array [start, length, ...] (malloc'ed text). */
XAI_API char *xai_fmri_mask_encode(const uint8_t *mask, int64_t nv);
/** Decode xai_fmri_mask_encode() text into @p mask[nv]; XAI_EFORMAT on a bad code. */
XAI_API xai_status xai_fmri_mask_decode(const char *json, int64_t nv, uint8_t *mask);

/**
 * Draw a slice mosaic (axial slices, at most 24) of @p map over @p background into a PNG,
 * in the neurological convention whatever the storage order: the affine decides, the
 * subject's left is on the left and anterior is up (as nilearn draws), the title says so,
 * and pixels have the voxels' true aspect. Voxels outside @p mask (may be NULL) are
 * transparent; the colour range is symmetric, [-m, m] with m the 99.5th percentile of |map|
 * in the mask.
 */
XAI_API xai_status xai_fmri_mosaic_png(const char *path, const xai_nifti_info *grid, const float *background,
                                       const float *map, const uint8_t *mask, const char *title);

/** The 99.5th percentile of |map| over the mask (or every voxel). */
XAI_API double xai_fmri_robust_max(const float *map, int64_t nv, const uint8_t *mask);

/**
 * Smooth every volume of @p img in place with an isotropic Gaussian of @p fwhm_mm (FWHM in
 * mm; each voxel axis uses its own voxel size; 0 = none), the usual spatial smoothing of
 * fMRI pre-processing. @return XAI_OK, XAI_ENOMEM.
 */
XAI_API xai_status xai_fmri_smooth(xai_nifti *img, double fwhm_mm);

/* ------------------------------------------------------------------ runs */

/** One run: its volumes in a 4-D image, its pre-processing and labels. */
typedef struct {
    const char *path;   /**< the BOLD file (borrowed) */
    xai_nifti *img;     /**< shared by the runs of one concatenated file; the first of them owns it */
    int owner;
    int64_t t0, nt;     /**< the run's volumes in img */
    xai_fmri_prep prep; /**< statistics over the whole grid (mask = every voxel) */
    int *labels;        /**< nt class indices (-1 unlabelled), or NULL without labels */
    uint8_t *censored;  /**< nt: 1 for a motion spike (xai_fmri_motion_spikes): unlabelled, so
                             out of training and scoring, and out of the class summaries */
    int64_t ncensored;
    double *onset;      /**< nt trial onsets in s when the samples are trials (one estimate per
                             trial, see xai_fmri_runs_load_as()), else NULL: the samples are volumes */
} xai_fmri_run;

/**
 * The header template of @p run's 4-D outputs in @p out: its image's own, so the series keeps
 * the TR; when its samples are trials (onset set), the 4th axis is trials, not time, and
 * claims no TR: pixdim[4] = 1, no time unit, toffset 0 (as nibabel and nilearn write a stack
 * of per-trial estimates; NIfTI-1 reserves pixdim[4] and the time unit for a time axis).
 */
XAI_API void xai_fmri_series_template(const xai_fmri_run *run, xai_nifti_info *out);

/**
 * Open @p bold (4-D, at least 3 volumes) and append its runs to @p runs: one, or one per
 * value of the run column of a --labels table. Volumes are labelled from @p events (BIDS
 * events.tsv) or @p labels (a per-volume table) with @p lag (see xai_fmri_label_blocks()),
 * or not at all when both are NULL; the volumes are smoothed (xai_fmri_smooth(), @p fwhm_mm)
 * and each run gets its own statistics (@p detrend as in xai_fmri_prep_init()). @p unused (may be NULL) receives the malloc'ed list of trial types
 * that are no class (see xai_fmri_label_events()). @return XAI_OK, XAI_EIO, XAI_EFORMAT,
 * XAI_EINVAL (not a BOLD run, no TR for the events, more than @p cap runs), XAI_ENOMEM.
 */
XAI_API xai_status xai_fmri_runs_load(const char *bold, const char *events, const char *labels, double lag,
                                      int detrend, double fwhm_mm, xai_fmri_classes *cls, xai_fmri_run *runs,
                                      int *nruns, int cap, char **unused);

/** The record's name of a sample kind ("volumes", "trials-lss", "trials-peak"), and back (-1: unknown). */
XAI_API const char *xai_fmri_samples_name(int samples);
XAI_API int xai_fmri_samples_parse(const char *name);

/** What one sample of a run is: a volume, or one estimate per trial (see xai_fmri_trial_estimates()). */
enum { XAI_FMRI_SAMPLES_VOLUMES = 0, XAI_FMRI_TRIALS_LSS = 1, XAI_FMRI_TRIALS_PEAK = 2 };

/**
 * As xai_fmri_runs_load(), with @p samples: XAI_FMRI_SAMPLES_VOLUMES is xai_fmri_runs_load();
 * the trial estimators need @p events and make the run's samples the trials of the classes, in
 * onset order (xai_fmri_trial_estimates() over the smoothed volumes, head-motion spikes left out
 * of the fits and counted in ncensored): the image's volumes are replaced by the estimates
 * (same grid and affine), labels are the trials' classes, run->onset their onsets; @p detrend
 * is applied in the estimates' fits, and the statistics only centre and z-score over the trials
 * (a line over the trials would remove the class contrast of a run whose classes follow its
 * time course). Trials whose response the run
 * does not hold are dropped. @return as xai_fmri_runs_load(); XAI_EINVAL for fewer than 3 trials.
 */
XAI_API xai_status xai_fmri_runs_load_as(const char *bold, const char *events, const char *labels, double lag,
                                         int detrend, double fwhm_mm, int samples, xai_fmri_classes *cls,
                                         xai_fmri_run *runs, int *nruns, int cap, char **unused);
XAI_API void xai_fmri_run_free(xai_fmri_run *r);
/** Voxels per volume. */
XAI_API int64_t xai_fmri_run_nv(const xai_fmri_run *r);
/** Volume @p t of a run, pre-processed, 0 outside @p mask. */
XAI_API void xai_fmri_run_volume(const xai_fmri_run *r, int64_t t, const uint8_t *mask, float *out);

/**
 * The mask image @p file (read from @p file_path, for messages) on the grid of @p ref: the
 * grid and the affine must match (never resampled). @return XAI_OK or XAI_EINVAL.
 */
XAI_API xai_status xai_fmri_mask_from_file(const xai_nifti *file, const char *file_path, const xai_fmri_run *ref,
                                           uint8_t *mask);
/**
 * The automatic mask over the volume-weighted mean image of the runs with use[i]:
 * xai_fmri_auto_mask(), or xai_fmri_frac_mask() with @p frac > 0.
 */
XAI_API xai_status xai_fmri_mask_from_runs(const xai_fmri_run *runs, int nruns, const int *use, double frac,
                                           uint8_t *mask);

/* ------------------------------------------------------------------ event-related designs */

/** Longest median event duration (s) of an event-related design. */
#define XAI_FMRI_EVENT_MAX_DURATION 5.0
/** The canonical response to one event, at the median onset spacing, above this share of its peak:
 *  neighbouring trials' responses overlap. */
#define XAI_FMRI_EVENT_OVERLAP 0.1

/** Above this share of consecutive events of one type the events are blocks of stimuli (a block
 *  design written event by event), not an event-related design. */
#define XAI_FMRI_EVENT_MAX_SAME 0.75

/** A run's design, from its events. */
typedef struct {
    int nevents;
    double median_duration, median_soa; /**< s; the onset spacing over every event, whatever its type */
    double overlap;      /**< the canonical response to a median event, median_soa after its onset, over its peak */
    double same_type;    /**< share of consecutive events (in onset order) of the same type */
    int event_related;   /**< short events (<= XAI_FMRI_EVENT_MAX_DURATION) whose responses overlap
                              (overlap > XAI_FMRI_EVENT_OVERLAP) and whose types alternate
                              (same_type <= XAI_FMRI_EVENT_MAX_SAME): a volume then mixes trials of
                              different classes */
} xai_fmri_design;

/** The design of @p n events (onsets and durations in s, @p type an index per event or NULL;
 *  events with a non-finite onset or a negative duration are ignored). */
XAI_API xai_status xai_fmri_design_of(const double *onset, const double *duration, const int *type, int n,
                                      xai_fmri_design *d);
/** The design of a BIDS events.tsv. */
XAI_API xai_status xai_fmri_design_read(const char *events, xai_fmri_design *d);
/** One sentence on a design (for logs). */
XAI_API void xai_fmri_design_text(const xai_fmri_design *d, char *buf, size_t len);

/**
 * One estimate per trial of a run (@p data: @p nt volumes of @p nv voxels, TR @p tr s): for the
 * events with want[e] (NULL: all), in their order, into @p out (one nv-volume each) and ok
 * (1 when the run holds the trial's response; else the volume is 0). Volumes with censor[t]
 * (may be NULL) are left out.
 * - XAI_FMRI_TRIALS_LSS, least squares separate (Mumford et al. 2012, NeuroImage 59): per trial
 *   a voxel-wise least-squares fit of the trial's regressor, one regressor for every other event,
 *   a constant and (with @p detrend) a linear drift, each event a boxcar of its duration convolved with the
 *   canonical SPM HRF; the estimate is the trial's beta times its regressor's peak plus the
 *   constant (in the image's units, so that the mean over trials is still an EPI image).
 * - XAI_FMRI_TRIALS_PEAK: the mean of the volumes whose mid-acquisition time lies 4-8 s after
 *   the onset, where the canonical response to a short event peaks (with @p detrend, of the
 *   volumes less their least-squares line).
 */
XAI_API xai_status xai_fmri_trial_estimates(const float *data, int64_t nt, int64_t nv, double tr,
                                            const uint8_t *censor, const double *onset, const double *duration,
                                            int nev, const int *want, int method, int detrend, float *out,
                                            uint8_t *ok);

/* ------------------------------------------------------------------ event timing */

#define XAI_FMRI_TIMING_MAX_SHIFT 4

/** Outcome of xai_fmri_timing_check(). */
typedef struct {
    int best;          /**< label shift in volumes that explains the most signal (> 0: the response is later) */
    double eta2[2 * XAI_FMRI_TIMING_MAX_SHIFT + 1]; /**< mean per-voxel eta^2 for shifts -K..K */
    double tr;         /**< seconds per volume */
    int warn;          /**< |best| > 1 volume and it explains clearly more (> 1.1x) than the stated timing,
                            or the classes follow time (confounded) */
    double time_r;     /**< the largest |correlation| of a class's indicator with time over the labelled
                            volumes, pooled within runs (each run centred on its own volumes) */
    int confounded;    /**< time_r > XAI_FMRI_CONFOUND_R: slow drifts can stand in for the class (e.g. a
                            run with all blocks of one class first); the shift curve is then unreliable */
} xai_fmri_timing;

/** Class-time correlation above which the training runs' design confounds the classes with time:
 *  a linear trend then carries over a quarter of a class indicator's variance. */
#define XAI_FMRI_CONFOUND_R 0.5

/**
 * Check the event timing on labelled runs (use[i]): for label shifts of -K..K volumes
 * (K = XAI_FMRI_TIMING_MAX_SHIFT) the mean over the mask's voxels of the share of each
 * pre-processed voxel's variance explained by the class means (eta^2 of a one-way ANOVA).
 * Correct onsets with the HRF rule peak at shift 0; a warning means the events appear to
 * lead or lag the BOLD response by more than one volume, or that the classes are confounded
 * with time within the runs (then the shift is not judged: any slow drift correlates with the
 * labels at every shift).
 */
XAI_API xai_status xai_fmri_timing_check(const xai_fmri_run *runs, int nruns, const int *use, const uint8_t *mask,
                                         int ncls, xai_fmri_timing *out);
/** One sentence on a check's outcome (for warnings and sidecars). */
XAI_API void xai_fmri_timing_text(const xai_fmri_timing *t, char *buf, size_t len);

/* ------------------------------------------------------------------ models */

/** How many screening shares the default choice compares (the default share, its half, ...). */
#define XAI_FMRI_SCREEN_CANDIDATES 3

/** Voxels per labelled training volume above which xai_fmri_default_reduction() reduces. */
#define XAI_FMRI_REDUCE_RATIO 10.0

/**
 * The default dimensionality reduction for @p nvox mask voxels and @p nlab labelled training
 * volumes. With many more voxels than volumes (> XAI_FMRI_REDUCE_RATIO per volume) a linear
 * read-out's weights are mostly fitted noise spread over the whole mask, so the defaults are
 * the usual remedies: 6 mm FWHM spatial smoothing and univariate ANOVA screening that keeps
 * 20 % of the voxels (the default of nilearn's Decoder; Pereira, Mitchell & Botvinick 2009 on
 * voxel selection); otherwise neither (*fwhm_mm = 0, *screen = 1). With one sample per trial
 * (@p samples a trial estimator), when 20 % would still be more than XAI_FMRI_REDUCE_RATIO
 * voxels per labelled trial, the screening keeps XAI_FMRI_REDUCE_RATIO * nlab voxels: what the
 * rule allows (an event-related run has a few dozen trials). The app screens with this share,
 * its half or its quarter (xai_fmri_train_opts.screen_select): each model takes the one an
 * inner grouped cross-validation on its own training samples prefers.
 */
XAI_API void xai_fmri_default_reduction(int64_t nvox, int64_t nlab, int samples, double *fwhm_mm, double *screen);

/** How xai_fmri_train() builds, trains and records a model. */
typedef struct {
    const char *family;      /**< dense, cnn3d or deeplight (NULL = dense) */
    const char *arch;        /**< an architecture spec instead of the family (may be NULL) */
    xai_train_config train;  /**< optimiser settings; val_mask is set here (the last used run) */
    double lr, weight_decay; /**< as given (train holds them as float), for the provenance record */
    int early_stop;          /**< hold out the last used run for early stopping (needs >= 2 runs) */
    double lag;              /**< the labelling rule recorded in the model */
    int detrend;
    int samples;             /**< what the runs' samples are (XAI_FMRI_SAMPLES_VOLUMES or a trial estimator) */
    const xai_nifti *mask;   /**< a mask image, or NULL for the automatic one */
    const char *mask_path;   /**< its path (messages) */
    double auto_frac;        /**< > 0: the fraction rule instead of the gap rule */
    double fwhm_mm;          /**< the smoothing the runs were loaded with (recorded for explain) */
    double screen;           /**< in (0, 1): keep this share of the mask's voxels, those with the largest
                              *   one-way ANOVA F over the classes on the training volumes (univariate
                              *   screening); 0 or 1 = every voxel */
    int screen_select;       /**< 1: screen is the largest candidate share; each model keeps the share, of
                              *   screen / 2^i for i < XAI_FMRI_SCREEN_CANDIDATES, that an inner grouped
                              *   cross-validation on its own training samples prefers */
    const char *tool;        /**< "xai-fmri VERSION", recorded as provenance */
    xai_fmri_timing *timing; /**< receives the event-timing check of the training runs (may be NULL) */
    /* cross-validation only (the driver's callbacks; may be NULL) */
    xai_progress_fn progress; /**< tasks "fold K/N", "final", "baseline" */
    void *progress_ud;
    xai_warn_fn warn;         /**< the card's verdicts (not above chance, loses to the baseline, ...) */
    void *warn_ud;
} xai_fmri_train_opts;

/**
 * Build the architecture on the runs' grid, train it on the labelled volumes of the runs with
 * use[i] (pre-processed, masked) and record class_names, xai_arch, xai_preprocessing (grid,
 * orientation, voxel size, TR, lag rule, detrending, the mask), xai_training and, with
 * o->timing, the event-timing check of the training runs (xai_timing) in the model.
 * Errors name what is wrong (too few labelled volumes, a grid the family cannot take, ...).
 */
XAI_API xai_status xai_fmri_train(const xai_fmri_train_opts *o, const xai_fmri_run *runs, int nruns, const int *use,
                                  const xai_fmri_classes *cls, xai_model **out, xai_train_result *res);

/** The input mask a model records (mask_voxels; malloc'ed @p nv bytes), or NULL for older models. */
XAI_API uint8_t *xai_fmri_model_mask(const xai_model *m, int64_t nv);

/**
 * Predictions of @p m for the labelled volumes of @p r (@p pred may be NULL; pred[t] = -1 for
 * unlabelled volumes). @return the accuracy (NaN without labelled volumes); *nlab the count.
 */
XAI_API double xai_fmri_run_accuracy(const xai_model *m, const xai_fmri_run *r, int64_t *nlab, int *pred);

/**
 * Block-level truth and majority prediction of one run (consecutive volumes of one class
 * form a block: they share one haemodynamic response). @return the number of blocks.
 */
XAI_API int64_t xai_fmri_run_blocks(const xai_fmri_run *r, const int *pred, int *bt, int *bp, int ncls);

/** Leave-one-run-out outcome. */
typedef struct {
    int nruns;
    double *acc;            /**< nruns held-out accuracies (NaN: a run without labelled volumes) */
    int64_t *nlab;          /**< nruns labelled volumes */
    int *kept_epoch;        /**< nruns */
    double *train_acc;      /**< nruns kept-epoch training accuracies */
    int *fold;              /**< nruns: the fold of the driver set that held the run out (-1: none) */
    double mean, sd, chance;
    double baseline_acc;    /**< the ridge baseline's pooled held-out accuracy on the same voxels */
    xai_train_result final; /**< training of the model for new data (with refit) */
    int64_t nblocks;
    double block_acc, p_value; /**< blocks as the independent units */
    int above_chance;       /**< the block accuracy's 95 % interval lies above chance */
} xai_fmri_cv;

/**
 * Leave-one-run-out over @p nr runs with the settings of @p o, through the shared driver
 * (xai/driver.h): one fold per run with labelled volumes, each fold model trained exactly as
 * xai_fmri_train() trains on the other runs (the same seed, its mask and screening fitted on
 * them only, the same metadata), the ridge baseline on the same voxels, held-out statistics and
 * verdicts in the card. With @p refit the set's model for new data is trained on every run;
 * else it is a copy of fold 1. With o->timing every model records the event-timing check of its
 * training runs (o->timing holds the last one's: the model for new data with @p refit).
 * @param out  the trained set (fold models, card, summary), or NULL to discard it
 */
XAI_API xai_status xai_fmri_cross_validate(const xai_fmri_train_opts *o, const xai_fmri_run *runs, int nr,
                                           const xai_fmri_classes *cls, int refit, xai_fmri_cv *cv,
                                           xai_driver_set **out);
XAI_API void xai_fmri_cv_free(xai_fmri_cv *cv);

/**
 * Which model explains a run, out of fold when it can. @p m is the model read from
 * @p model_path: with the index that `train --cv` writes into its card (xai/driver.h), a run
 * that a fold held out is explained by that fold's file (MODEL.fold-K.onnx); otherwise by
 * @p m itself. Runs are matched by file name, as training named them. Whether the chosen
 * model saw the run comes from the card's list of training runs; a model without that list
 * (trained elsewhere, or before the list existed) leaves it unknown.
 */
typedef struct {
    char *path;   /**< the file to explain with (malloc'ed): @p model_path or a fold file beside it */
    int fold;     /**< 1-based fold of the set that held the run out; 0: the model itself */
    int nfolds;   /**< folds listed in the card (0: none) */
    int held_out; /**< 1 the chosen model never saw the run, 0 it was trained on it, -1 unknown */
} xai_fmri_model_choice;
XAI_API xai_status xai_fmri_model_choose(const xai_model *m, const char *model_path, const char *bold,
                                         xai_fmri_model_choice *c);
XAI_API void xai_fmri_model_choice_free(xai_fmri_model_choice *c);
/** One sentence on @p c for logs and sidecars ("out of fold: ..."); @p buf is returned. */
XAI_API const char *xai_fmri_model_choice_text(const xai_fmri_model_choice *c, char *buf, size_t cap);

/* ------------------------------------------------------------------ explaining runs */

/** What an xai-fmri model records about its input (read from its metadata). */
typedef struct {
    xai_fmri_classes cls;
    double lag;             /**< the model's labelling rule */
    int detrend;
    int mask_file;          /**< trained with a mask image */
    double auto_frac;       /**< the fraction rule's parameter (0: the gap rule) */
    double fwhm_mm;         /**< spatial smoothing (0: none) */
    int samples;            /**< XAI_FMRI_SAMPLES_VOLUMES (also for models that record none) or a trial estimator */
    char *json;             /**< the xai_preprocessing record as text */
    int dense;              /**< the linear default architecture */
} xai_fmri_record;

/**
 * Read the record of @p m (@p model_path for messages); @p lag is used for models that
 * record none. @return XAI_EFORMAT for a model that is not an xai-fmri model.
 */
XAI_API xai_status xai_fmri_record_read(const xai_model *m, const char *model_path, double lag, xai_fmri_record *r);
XAI_API void xai_fmri_record_free(xai_fmri_record *r);
/** The run must have the model's orientation, grid and voxel size (xai-fmri never resamples). */
XAI_API xai_status xai_fmri_record_check(const xai_fmri_record *r, const xai_model *m, const xai_fmri_run *run,
                                         const char *model_path);

/**
 * The explain-time input mask (malloc'ed): the mask image @p file when given, else the one
 * the model records, else (older models) the fraction rule on the run's mean; always inside
 * the run's own statistics mask.
 */
XAI_API xai_status xai_fmri_explain_mask(const xai_model *m, const xai_fmri_run *run, const xai_nifti *file,
                                         const char *file_path, double frac, uint8_t **out);

/**
 * LRP settings for maps that are averaged: start from the explained logit and spread the bias
 * share with bias factor 1 (Arras et al. 2017), so that each volume's relevance sums to its
 * logit for linear layers and a near-zero logit gives a near-zero map; the dense default is
 * explained with the epsilon rule throughout unless @p composite_given.
 */
XAI_API void xai_fmri_stable_lrp(const xai_fmri_record *r, int composite_given, xai_explain_config *cfg);

/** One run's explanation (xai_fmri_explain_run()); the relevance itself replaces the run's data. */
typedef struct {
    int ncls;
    int64_t nt, nv;
    double *sums;           /**< (ncls + 1) x nv: per class the sum of L1-normalised maps, then the plain sum */
    int64_t counts[XAI_FMRI_MAX_CLASSES]; /**< volumes in each class sum */
    int *pred, *target;     /**< nt */
    float *logit;           /**< nt x ncls */
    double *relsum, *relinit; /**< nt: the map's sum and its start (the explained logit) */
    int64_t nflag;          /**< LRP maps whose sum departs from the start by more than 10x */
    int64_t nlab, ncorrect; /**< labelled volumes and correct predictions */
    float *input;           /**< nt x nv model inputs when asked for, else NULL */
} xai_fmri_maps;

/**
 * A volume's map @p r (nv values) into @p dst as the 4-D relevance holds it: 0 outside @p emask,
 * with the share the rules put on the masked-out inputs spread evenly over the mask (linear in
 * r, so maps that add up still add up). @return its L1 norm; *sum receives its sum.
 */
XAI_API double xai_fmri_place_map(const float *r, const uint8_t *emask, int64_t nv, float *dst, double *sum);

/** Progress of an explanation: volumes done of the run's total. */
typedef void (*xai_fmri_progress_fn)(void *ud, int64_t done, int64_t total);

/**
 * Explain every volume of @p run with @p cfg (cfg->batch volumes per sweep): the relevance of
 * volume t overwrites the run's image data (0 outside @p emask; what the rules put on the
 * masked-out zero inputs is spread evenly over the mask, so each map still sums to its start).
 * Class sums hold volumes explained for a class and (with labels) labelled with it.
 */
XAI_API xai_status xai_fmri_explain_run(const xai_model *m, const xai_explain_config *cfg, xai_fmri_run *run,
                                        const uint8_t *emask, int ncls, int keep_input, xai_fmri_progress_fn progress,
                                        void *ud, xai_fmri_maps *out);
XAI_API void xai_fmri_maps_free(xai_fmri_maps *m);

/** Where xai_fmri_write_maps() writes; a NULL path is not written. */
typedef struct {
    const char *bold4d;      /**< 4-D relevance NIfTI */
    const char *mean;        /**< mean relevance over all volumes */
    const char *table;       /**< per-volume TSV (with its data dictionary in the sidecar) */
    const char *input;       /**< model inputs .npy (needs maps->input) */
    const char *const *cls;  /**< per class statmap */
    const char *const *png;  /**< per class mosaic */
} xai_fmri_paths;

/**
 * Write one run's explanation: the per-volume table, the class and mean statmaps, the class
 * mosaics over the mean EPI, the 4-D series and the inputs. Each file gets a JSON sidecar:
 * the members of @p common_json plus its own description; @p descrip goes into the NIfTI
 * header. Files are written atomically. @return XAI_OK or the first error.
 */
XAI_API xai_status xai_fmri_write_maps(const xai_fmri_maps *mp, const xai_fmri_run *run, const uint8_t *emask,
                                       const xai_model *m, const xai_fmri_classes *cls, const xai_fmri_paths *p,
                                       const char *common_json, const char *descrip);

/* ------------------------------------------------------------------ evaluation */

/**
 * Score one explained run (xai_fmri_explain_run() with keep_input, its maps still in the run's
 * data) with the metrics in @p set (xai/eval.h): the labelled volumes (all without labels),
 * their explained targets, and @p truth (the run grid's region, e.g. from
 * xai_fmri_mask_from_file()) as the localisation ground truth of every volume. *nvol receives
 * how many volumes were scored. The relevance is the run's own (with the masked-out share
 * spread over the mask); metrics that explain again (MPRT, sensitivity) use @p ecfg.
 */
XAI_API xai_status xai_fmri_evaluate(const xai_model *m, const xai_eval_config *cfg, const xai_explain_config *ecfg,
                                     uint32_t set, const xai_fmri_run *run, const xai_fmri_maps *mp,
                                     const uint8_t *truth, xai_eval_scores *out, int64_t *nvol);

/* ------------------------------------------------------------------ group level */

/** Group means of participant-level class summaries, one per key ("task-T_desc-lrpX"). */
typedef struct {
    int nk;
    char *key[XAI_FMRI_MAX_CLASSES];
    float *mean[XAI_FMRI_MAX_CLASSES];  /**< nv: mean over subjects of each subject's mean over runs */
    int nsub[XAI_FMRI_MAX_CLASSES];
    char *sources_json[XAI_FMRI_MAX_CLASSES]; /**< the maps averaged, relative to the root, and the
                                                *  model that explained each (from their sidecars) */
    int out_of_fold[XAI_FMRI_MAX_CLASSES]; /**< every map was explained by a model that never saw its run */
    int nexcluded[XAI_FMRI_MAX_CLASSES];   /**< maps left out: their model was trained on their run */
    char *excluded_json[XAI_FMRI_MAX_CLASSES]; /**< those maps (a JSON array of paths) */
    xai_nifti_info info;    /**< grid of the first summary */
    int64_t nv;
} xai_fmri_group;

/**
 * Average the *_desc-lrp<Class>_statmap.nii.gz summaries under @p root (a participant-level
 * output folder) of the participants @p subjects (NULL = all) and task @p task (NULL = all):
 * runs within a subject, then subjects. A map whose sidecar says its model was trained on its
 * run (HeldOut false) is left out and listed: averaging maps of training data shows what the
 * models memorised. A key whose maps are all left out has no mean (nsub 0, mean NULL).
 * @return XAI_EINVAL when there is none or grids differ.
 */
XAI_API xai_status xai_fmri_group_collect(const char *root, const char *const *subjects, int nsubjects,
                                          const char *task, xai_fmri_group *g);
XAI_API void xai_fmri_group_free(xai_fmri_group *g);
/**
 * Write group map @p k to @p path (NIfTI, atomically) with its sidecar: the members of
 * @p common_json, the number of subjects, the maps averaged, the model that explained each
 * and whether every one of them was out of fold ("OutOfFold"), and the maps left out as
 * in-sample ("ExcludedInSample"). @return XAI_EINVAL for a key without a mean.
 */
XAI_API xai_status xai_fmri_group_write(const xai_fmri_group *g, int k, const char *path, const char *common_json);

#endif /* XAI_DOMAIN_FMRI_H */
