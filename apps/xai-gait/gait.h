/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gait.h - the parts of xai-gait below the command line: trial names (subject, session,
 * trial, condition from BIDS entities or folders), the preprocessing record stored in the
 * model, gait-cycle extraction from C3D files (Foot Strike to the next same-side Foot
 * Strike, 101 points, pyCGM2 convention via xai_c3d_gait_cycles) and the output writers
 * (relevance .npy, long-format and mean +- SD TSVs, the clinical grid PNG).
 */
#ifndef XAI_GAIT_H
#define XAI_GAIT_H

#include <stdint.h>

#include <jansson.h>

#include "app.h"
#include "xai/c3d.h"

#define GAIT_NPTS XAI_C3D_CYCLE_POINTS
#define GAIT_MAX_VARS 32

/** One trial of a study. Strings are owned (free with gait_trials_free()). */
typedef struct {
    char *path;
    char *subject;   /**< "sub-01" */
    char *session;   /**< "ses-01" or "n/a" */
    char *trial;     /**< "run-01" or the file stem */
    char *condition; /**< acq entity value or "n/a" */
} gait_trial;

/** Collect the .c3d files under dirs / the files given, sorted by path. 0 or -1 (printed). */
int gait_trials_collect(const xai_app *app, char **args, int nargs, gait_trial **out, int *n);
void gait_trials_free(gait_trial *t, int n);

/** What is fed to the model; stored as JSON in the model's "xai_preprocessing". */
typedef struct {
    int nvars;
    char *vars[GAIT_MAX_VARS]; /**< "KneeAngles" (side from the cycle) or "LKneeAngles" (fixed) */
    int ncomps;
    int comps[3];              /**< 0 sagittal (X), 1 frontal (Y), 2 transverse (Z) */
    int paired;                /**< 1: a sample is a left cycle and the right cycle that starts
                                    during it, [left channels, right channels]; 0: one cycle */
    int offset;                /**< 1: subtract each channel's trial mean (per side) first */
    int have_norm;
    float *mean;               /**< [inputs][101] training mean curve per model input channel */
    float *sd;                 /**< [inputs] SD around that curve per model input channel */
} gait_pre;

extern const char *const gait_component_names[3];

/** Parse "--variables A,B" / "--components sagittal,frontal". 0 or -1 (message in err). */
int gait_pre_set_variables(gait_pre *p, const char *list, char *err, size_t errlen);
int gait_pre_set_components(gait_pre *p, const char *list, char *err, size_t errlen);
void gait_pre_free(gait_pre *p);
/** Channels per cycle (nvars * ncomps). */
int gait_pre_channels(const gait_pre *p);
/** Model input channels per sample: channels, twice that when paired. */
int gait_pre_inputs(const gait_pre *p);
/** The record as JSON (new reference). */
json_t *gait_pre_to_json(const gait_pre *p);
/** Read the record; 0 or -1 (message in err). */
int gait_pre_from_json(gait_pre *p, const char *text, char *err, size_t errlen);
/** 1 when both select the same variables and components. */
int gait_pre_same_selection(const gait_pre *a, const gait_pre *b);
/** The point label of variable @p v on a cycle of side @p side ("Left"/"Right"). */
void gait_var_label(const gait_pre *p, int v, const char *side, char *buf, size_t len);

/** Cycles extracted from trials, values in degrees (not normalised). */
typedef struct {
    int64_t n, cap;
    int nch;
    float *x;           /**< [n][nch][GAIT_NPTS] */
    int *trial;         /**< [n] index into the trial list */
    char (*side)[8];    /**< [n] "Left" / "Right" */
    int *cycle;         /**< [n] 1-based number within the trial and side */
    double *foot_off;   /**< [n] same-side Foot Off in % of the cycle, NaN if absent */
    double *start_s;    /**< [n] time of the opening Foot Strike */
    double *end_s;      /**< [n] time of the closing Foot Strike */
    float *offset;      /**< [n][nch] the channel's mean over the trial's cycles of that side */
} gait_cycles;

void gait_cycles_free(gait_cycles *c);

/**
 * Append the cycles of one C3D file. Cycles with gaps (NaN in a selected variable) are
 * skipped and counted in *gaps. @return 0, or -1 with the reason in err (unreadable or
 * corrupt file, a selected variable missing, no complete gait cycle).
 */
int gait_extract(const gait_pre *p, const char *path, int trial_index, gait_cycles *cy, int *gaps, char *err,
                 size_t errlen);

/**
 * The model's samples over cycles: one per cycle, or (paired) one per left cycle that has a
 * right cycle starting inside it in the same trial. a[k] / b[k] are the cycles of sample k
 * (b[k] = -1 unless paired). Returns the count (arrays malloc'ed), -1 when out of memory.
 */
int64_t gait_samples(const gait_pre *p, const gait_cycles *cy, int64_t **a, int64_t **b);
/** The model input of sample (a, b): trial offset removed, then z-scored ([inputs][101]). */
void gait_input(const gait_pre *p, const gait_cycles *cy, int64_t a, int64_t b, float *dst);

/** Names and rows for the output writers. */
typedef struct {
    const gait_pre *pre;
    const gait_trial *trials;
    const gait_cycles *cy;
    const int64_t *idx;   /**< cycles written, indices into cy */
    int64_t n;
    const float *rel;     /**< [n][nch][GAIT_NPTS] relevance of those cycles */
    const char *desc;     /**< "lrp", "gradient", ... */
} gait_group;

/** Per variable x component summary of one group (for the group table). */
typedef struct {
    double abs_share;   /**< sum |R| here / sum |R| over all channels */
    double pos_share;   /**< sum R+ here / sum R+ */
    int peak_pct;       /**< pct of the largest mean relevance */
    double peak;        /**< that mean relevance */
} gait_chan_summary;

/** Write PREFIX_desc-D_relevance.npy, _cycles.tsv, D+"mean"_cycles.tsv (each checked
 *  against the overwrite policy unless @p resume) and fill summary[nch]. 0 or -1 (printed). */
int gait_write_tables(const xai_app *app, const gait_group *g, const char *prefix, const char *extra_json,
                      gait_chan_summary *summary);

/** The clinical grid: rows joints (variables), columns planes; mean +- SD per side, a
 *  toe-off line per side, relevance shading (mean over cycles, bwr, symmetric). */
int gait_plot_grid(const xai_app *app, const gait_group *g, const char *path, const char *title);

/** The output paths of a group (malloc'ed) into out[5]: npy, cycles.tsv, mean.tsv, png, NULL. */
void gait_output_paths(const char *prefix, const char *desc, char *out[4]);

#endif /* XAI_GAIT_H */
