/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * domain-gait.h - the gait domain: gait cycles from C3D trials (Foot Strike to the next
 * same-side Foot Strike, 101 points, pyCGM2 convention via xai_c3d_gait_cycles), the
 * pre-processing record a model carries in its card (variables, planes, sides, trial offset
 * removal, z-scoring) and the model inputs built from it. Plug-in Gait angles are YXZ Cardan,
 * so the X, Y, Z components are sagittal, frontal and transverse.
 *
 * Like the rest of the formats library nothing here prints: functions return an xai_status
 * and set the detail message (xai_last_error()).
 */
#ifndef XAI_DOMAIN_GAIT_H
#define XAI_DOMAIN_GAIT_H

#include <stddef.h>
#include <stdint.h>

#include "xai/api.h"
#include "xai/c3d.h"
#include "xai/domain.h"
#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XAI_GAIT_NPTS XAI_C3D_CYCLE_POINTS
#define XAI_GAIT_MAX_VARS 32
/* Stride-time limits relative to the trial's median stride of the side: stride time varies
   by a few per cent between the strides of a steady walk (CV 1-3 % in healthy adults, under
   10 % in most patient groups; Hausdorff, Hum Mov Sci 2007, doi:10.1016/j.humov.2007.05.009),
   so a third off the median is a detection error, and a missed strike doubles the stride. */
#define XAI_GAIT_STRIDE_LO 0.7
#define XAI_GAIT_STRIDE_HI 1.35

/** Where the Foot Strikes come from (xai_gait_pre.events, `--events`). */
enum {
    XAI_GAIT_EVENTS_AUTO = 0,     /**< the file's, with gaps of about two strides or more filled
                                       from the kinematics */
    XAI_GAIT_EVENTS_FILE = 1,     /**< the file's only */
    XAI_GAIT_EVENTS_KINEMATIC = 2 /**< all from the heel, toe and sacrum markers */
};
/** "auto", "file", "kinematic" (indexed by the enum). */
XAI_API extern const char *const xai_gait_events_names[3];
/** The XAI_GAIT_EVENTS_* value of a name, -1 when unknown. */
XAI_API int xai_gait_events_parse(const char *s);

/**
 * Foot Strikes from the kinematics, added to @p c's events (EVENT group, description
 * "recovered from kinematics"; see xai_gait_event_recovered()).
 * - XAI_GAIT_EVENTS_FILE: nothing changes.
 * - XAI_GAIT_EVENTS_AUTO: for each side, an interval between the file's Foot Strikes of about
 *   two strides or more (above XAI_GAIT_STRIDE_HI times the side's stride) gets the strikes it
 *   lacks: with heel, toe and sacrum markers the heel's forward maxima relative to the sacrum
 *   inside it (Zeni et al. 2008); without them the times where the sagittal hip and knee angles
 *   best match the side's own strikes, when the match is within a few times as close as those
 *   strikes' own. A side with fewer than two file strikes takes all its strikes from markers.
 * - XAI_GAIT_EVENTS_KINEMATIC: every Foot Strike and Foot Off from the markers (Zeni et al.).
 * @param[out] recovered number of Foot Strikes added
 * @return XAI_OK; XAI_EINVAL (bad mode; kinematic mode without the markers); XAI_ENOMEM.
 */
XAI_API xai_status xai_gait_recover_events(xai_c3d *c, int mode, int *recovered);
/** 1 when @p e was added by xai_gait_recover_events(). */
XAI_API int xai_gait_event_recovered(const xai_c3d_event *e);

/** The pre-processing record: what is fed to the model (the card's "preprocessing"). */
typedef struct {
    int nvars;
    char *vars[XAI_GAIT_MAX_VARS]; /**< "KneeAngles" (side from the cycle) or "LKneeAngles" (fixed) */
    int ncomps;
    int comps[3];              /**< 0 sagittal (X), 1 frontal (Y), 2 transverse (Z) */
    int paired;                /**< 1: a sample is a left cycle and the right cycle that starts
                                    during it, [left channels, right channels]; 0: one cycle */
    int offset;                /**< 1: subtract each channel's trial mean (per side) first */
    int events;                /**< XAI_GAIT_EVENTS_*: where the Foot Strikes come from */
    int have_norm;
    float *mean;               /**< [inputs][101] training mean curve per model input channel */
    float *sd;                 /**< [inputs] SD around that curve per model input channel */
} xai_gait_pre;

/** "sagittal", "frontal", "transverse". */
XAI_API extern const char *const xai_gait_component_names[3];

/** Parse a variable list "A,B" / a component list "sagittal,frontal" (or x,y,z or 0,1,2).
 *  @return XAI_OK or XAI_EINVAL (empty, repeated, unknown, too many) with a message. */
XAI_API xai_status xai_gait_pre_set_variables(xai_gait_pre *p, const char *list);
XAI_API xai_status xai_gait_pre_set_components(xai_gait_pre *p, const char *list);
XAI_API void xai_gait_pre_free(xai_gait_pre *p);
/** Channels per cycle (nvars * ncomps). */
XAI_API int xai_gait_pre_channels(const xai_gait_pre *p);
/** Model input channels per sample: channels, twice that when paired. */
XAI_API int xai_gait_pre_inputs(const xai_gait_pre *p);
/** The record as JSON text (snake_case keys; malloc'ed, free()), NULL when out of memory. */
XAI_API char *xai_gait_pre_to_json(const xai_gait_pre *p);
/** Read a record written by xai_gait_pre_to_json() (records without "sides"/"offset" are
 *  one-cycle records without offset removal). @return XAI_OK or XAI_EINVAL with a message. */
XAI_API xai_status xai_gait_pre_from_json(xai_gait_pre *p, const char *text);
/** 1 when both select the same variables, components, sides and offset rule. */
XAI_API int xai_gait_pre_same_selection(const xai_gait_pre *a, const xai_gait_pre *b);
/** The point label of variable @p v on a cycle of side @p side ("Left"/"Right"). */
XAI_API void xai_gait_var_label(const xai_gait_pre *p, int v, const char *side, char *buf, size_t len);

/** Cycles extracted from trials, values in degrees (not normalised). */
typedef struct {
    int64_t n, cap;
    int nch;
    float *x;           /**< [n][nch][XAI_GAIT_NPTS] */
    int *trial;         /**< [n] index into the caller's trial list */
    char (*side)[8];    /**< [n] "Left" / "Right" */
    int *cycle;         /**< [n] 1-based number within the trial and side */
    double *foot_off;   /**< [n] same-side Foot Off in % of the cycle, NaN if absent */
    double *start_s;    /**< [n] time of the opening Foot Strike */
    double *end_s;      /**< [n] time of the closing Foot Strike */
    float *offset;      /**< [n][nch] the channel's mean over the trial's cycles of that side */
    int64_t irregular;  /**< cycles skipped because their stride time is off the trial's median
                             (a missed or spurious Foot Strike), over all calls */
    int64_t recovered;  /**< Foot Strikes found from the kinematics (p->events), over all calls */
    int last_recovered; /**< those of the last xai_gait_extract() call, listed in last_note */
    char last_note[512];/**< "Left 3.412 s, Right 5.020 s" (truncated with "..."), "" when none */
} xai_gait_cycles;

XAI_API void xai_gait_cycles_free(xai_gait_cycles *c);

/**
 * Append the cycles of one C3D file (and their trial offsets). Cycles with gaps (NaN in a
 * selected variable) are skipped and counted in *gaps. A cycle whose stride time is below
 * XAI_GAIT_STRIDE_LO or above XAI_GAIT_STRIDE_HI times the median of the trial's cycles of
 * that side (at least three) is an event error, not a stride: an undetected Foot Strike joins
 * two strides into one, a spurious one splits a stride; such cycles are skipped and counted
 * in cy->irregular.
 * @return XAI_OK; XAI_EINVAL when a selected variable is missing (the message names every
 *         missing one and lists the angle outputs the file has) or there is no complete
 *         cycle; the C3D reader's status for an unreadable file; XAI_ENOMEM.
 */
XAI_API xai_status xai_gait_extract(const xai_gait_pre *p, const char *path, int trial_index, xai_gait_cycles *cy,
                                    int *gaps);

/**
 * The model's samples over cycles: one per cycle, or (paired) one per left cycle that has a
 * right cycle starting inside it in the same trial. a[k] / b[k] are the cycles of sample k
 * (b[k] = -1 unless paired). Returns the count (arrays malloc'ed), -1 when out of memory.
 */
XAI_API int64_t xai_gait_samples(const xai_gait_pre *p, const xai_gait_cycles *cy, int64_t **a, int64_t **b);
/** The model input of sample (a, b): trial offset removed, then z-scored ([inputs][101]). */
XAI_API void xai_gait_input(const xai_gait_pre *p, const xai_gait_cycles *cy, int64_t a, int64_t b, float *dst);

/* ------------------------------------------------------------------ a study as a dataset */

/** One trial of a study and its names (borrowed strings; "n/a" where unknown). */
typedef struct {
    const char *path;
    const char *subject;   /**< "sub-01" */
    const char *session;   /**< "ses-01" */
    const char *run;       /**< the walk: "run-03" or the file stem */
    const char *condition; /**< e.g. the acq entity, "brace" */
} xai_gait_trial_ref;

/**
 * Called for each trial that cannot be used (@p st != XAI_OK, @p message says why; the trial
 * is skipped), that had cycles with gaps (@p gaps > 0, skipped cycles) or whose Foot Strikes
 * were partly recovered from the kinematics (@p st XAI_OK, @p message "N Foot Strike(s)
 * recovered from kinematics: Left 3.412 s, ..."; "" when none were).
 */
typedef void (*xai_gait_trial_fn)(void *ud, int trial, xai_status st, int gaps, const char *message);

/** A study loaded by xai_gait_study_load(). */
typedef struct {
    xai_dataset d;      /**< x [n][inputs][101], y, groups (names and kind), classes */
    xai_gait_cycles cy; /**< every cycle read (cy.trial indexes the caller's trial list) */
    int64_t *a, *b;     /**< [d.n] the cycles of each sample (b = -1 unless paired) */
    int nfailed;        /**< trials skipped */
} xai_gait_study;

/**
 * The model samples of @p tr[0..ntr) as one dataset, in trial order. Each sample is labelled
 * by the trial's @p label_by field and grouped by its @p group_by field (keys: "subject",
 * "session", "trial" (= "run", the walk) or "condition"). Classes are @p classes[0..nclasses)
 * (a label that is none of them gives y = -1), or with @p classes NULL the sorted distinct
 * labels. Inputs are built with @p p as it is: trial offsets removed when p->offset, z-scored
 * when p->have_norm (see xai_gait_fit_normalisation()). Unreadable trials are reported through
 * @p fn (may be NULL) and skipped.
 * A study without any model sample (every trial failed, or paired samples and no left cycle
 * with a right cycle starting inside it) is no error: s->d.n is 0 and s->cy holds the cycles.
 * @return XAI_OK; XAI_EINVAL (bad arguments, a trial lacking a field); XAI_ENOMEM. @p s is
 *         freed on error (its nfailed kept).
 */
XAI_API xai_status xai_gait_study_load(const xai_gait_pre *p, const xai_gait_trial_ref *tr, int ntr,
                                       const char *label_by, const char *const *classes, int nclasses,
                                       const char *group_by, xai_gait_trial_fn fn, void *ud, xai_gait_study *s);
XAI_API void xai_gait_study_free(xai_gait_study *s);

/**
 * Fit the normalisation on @p d (inputs built without it) and apply it in place: per model
 * input channel the mean curve over samples (101 points) and the SD around it; stored in @p p
 * (mean, sd, have_norm = 1) so new data is normalised the same way by xai_gait_input().
 * @return XAI_OK, XAI_EINVAL (empty dataset, wrong sample size, already normalised), XAI_ENOMEM.
 */
XAI_API xai_status xai_gait_fit_normalisation(xai_gait_pre *p, xai_dataset *d);

/**
 * Fit the normalisation of xai_gait_fit_normalisation() on the samples @p rows[0..nrows) of
 * @p x (inputs built without it, [*][inputs][101]; @p rows NULL: the first @p nrows), e.g. one
 * fold's training samples, without changing @p x. Replaces any earlier fit in @p p.
 * @return XAI_OK, XAI_EINVAL (no rows), XAI_ENOMEM.
 */
XAI_API xai_status xai_gait_norm_fit(xai_gait_pre *p, const float *x, const int64_t *rows, int64_t nrows);
/** Apply @p p's normalisation (nothing without one) to @p n samples built without it, in place. */
XAI_API void xai_gait_normalise(const xai_gait_pre *p, float *x, int64_t n);

/**
 * Augment training samples in place (an xai_augment_fn of xai/driver.h): each sample's
 * channels [ndim 2: channels x 101] get one random warp of the cycle's time axis, a shift of
 * up to 3 % of the cycle (circular: 0 % and 100 % are the same foot strike) and a stretch
 * about mid-cycle by up to 5 % (linear interpolation), as event detection and walking speed
 * move the phases of real cycles. The warp acts on the model input, the z-scored deviation from
 * the mean curve: a walker's deviations move in phase while the group's mean curve stays put.
 * Amplitude: with @p ud NULL, one gain exp(N(0, 0.1)) on every channel's deviation; with @p ud
 * the xai_gait_pre whose normalisation made the input, one gain exp(N(0, 0.1)) per channel on
 * the whole angle curve (mean curve plus deviation), as marker placement and calibration
 * change a joint's range between sessions: z' = g z + (g - 1) mean / sd. Draws depend only on
 * @p seed and the sample's index (Um et al., ICMI 2017, on time warping and scaling of
 * wearable-sensor data).
 * @return XAI_OK, XAI_EINVAL (a shape other than [channels, 101]; @p ud without a normalisation
 *         of that many channels), XAI_ENOMEM.
 */
XAI_API xai_status xai_gait_augment(void *ud, float *x, int64_t n, int ndim, const int64_t *shape, uint64_t seed);

#ifdef __cplusplus
}
#endif

#endif /* XAI_DOMAIN_GAIT_H */
