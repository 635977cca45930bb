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
#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XAI_GAIT_NPTS XAI_C3D_CYCLE_POINTS
#define XAI_GAIT_MAX_VARS 32

/** The pre-processing record: what is fed to the model (the card's "preprocessing"). */
typedef struct {
    int nvars;
    char *vars[XAI_GAIT_MAX_VARS]; /**< "KneeAngles" (side from the cycle) or "LKneeAngles" (fixed) */
    int ncomps;
    int comps[3];              /**< 0 sagittal (X), 1 frontal (Y), 2 transverse (Z) */
    int paired;                /**< 1: a sample is a left cycle and the right cycle that starts
                                    during it, [left channels, right channels]; 0: one cycle */
    int offset;                /**< 1: subtract each channel's trial mean (per side) first */
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
} xai_gait_cycles;

XAI_API void xai_gait_cycles_free(xai_gait_cycles *c);

/**
 * Append the cycles of one C3D file (and their trial offsets). Cycles with gaps (NaN in a
 * selected variable) are skipped and counted in *gaps.
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

#ifdef __cplusplus
}
#endif

#endif /* XAI_DOMAIN_GAIT_H */
