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
#include "xai/domain-gait.h"

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
/** The trials as the domain library's references (borrowing their strings; free() the array). */
xai_gait_trial_ref *gait_trial_refs(const gait_trial *t, int n);

/** Names and rows for the output writers. */
typedef struct {
    const xai_gait_pre *pre;
    const gait_trial *trials;
    const xai_gait_cycles *cy;
    const int64_t *idx;   /**< cycles written, indices into cy */
    int64_t n;
    const float *rel;     /**< [n][nch][XAI_GAIT_NPTS] relevance of those cycles */
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
