/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri.h - the fMRI domain module of xai-fmri: class names, labelling volumes from BIDS
 * events.tsv (onsets and durations against the TR, with a hemodynamic lag) or from a
 * per-volume label table, the brain mask, and the per-run voxel-wise z-scoring that train
 * and explain apply identically. Plain helpers; errors through xai_error_set().
 */
#ifndef XAI_FMRI_H
#define XAI_FMRI_H

#include <stdint.h>

#include "xai/nifti.h"
#include "xai/status.h"

#define FMRI_MAX_CLASSES 64

/** Class names in class-index order (owned strings). */
typedef struct {
    int n;
    char *name[FMRI_MAX_CLASSES];
} fmri_classes;

/** Parse "a,b,c" (appends; duplicates refused). */
xai_status fmri_classes_parse(fmri_classes *c, const char *csv);
/** Parse a JSON array of strings (the model's "class_names" metadata). */
xai_status fmri_classes_from_json(fmri_classes *c, const char *json);
/** JSON array text of the names (malloc'ed). */
char *fmri_classes_to_json(const fmri_classes *c);
/** Index of @p name or -1. */
int fmri_classes_find(const fmri_classes *c, const char *name);
void fmri_classes_free(fmri_classes *c);

/**
 * Label the @p nt volumes of a run from a BIDS events.tsv (columns onset, duration,
 * trial_type). Volume t (acquired at t*tr seconds) gets class c when
 * onset + lag <= t*tr < onset + duration + lag for an event of trial_type c; volumes in no
 * event, or in events of two different classes, get -1. When @p cls is empty it is filled
 * with the trial types found, sorted; otherwise other trial types are ignored.
 * @param[out] labels nt entries
 */
xai_status fmri_label_events(const char *path, int64_t nt, double tr, double lag, fmri_classes *cls,
                             int *labels);

/**
 * Label volumes from a per-volume table: a TSV with a header and one row per volume; the
 * column "trial_type", else "label", else the first column. "n/a" and values not in @p cls
 * (when it is given) are -1; an empty @p cls is filled as in fmri_label_events(), except
 * that the value "rest" is never made a class.
 */
xai_status fmri_label_table(const char *path, int64_t nt, fmri_classes *cls, int *labels);

/** Preprocessing state of one run: the mask and per-voxel mean and 1/SD. */
typedef struct {
    int64_t nv;       /**< voxels per volume */
    int64_t nin;      /**< voxels in the mask */
    uint8_t *mask;    /**< nv */
    float *mean;      /**< nv */
    float *scale;     /**< nv: 1/SD in the mask (0 where SD is 0 and outside) */
} fmri_prep;

/**
 * Mask and z-scoring statistics of a run. With @p mask_img the mask is its non-zero voxels
 * (same grid required); otherwise an automatic intensity mask: voxels whose temporal mean
 * exceeds @p auto_frac times the 98th percentile of the mean image.
 */
xai_status fmri_prep_init(fmri_prep *p, const xai_nifti *bold, const char *bold_name,
                          const xai_nifti *mask_img, const char *mask_name, double auto_frac);
/** z = (v - mean) * scale in the mask, 0 outside. */
void fmri_prep_apply(const fmri_prep *p, const float *vol, float *out);
void fmri_prep_free(fmri_prep *p);

/**
 * Mean image over the volumes of @p bold (nv floats into @p out).
 */
void fmri_mean_volume(const xai_nifti *bold, float *out);

/**
 * Draw a slice mosaic (axial slices, anterior up, at most 24 slices) of @p map over
 * @p background into a PNG. Voxels outside @p mask (may be NULL) are transparent; the
 * colour range is symmetric, [-m, m] with m the 99.5th percentile of |map| in the mask.
 */
xai_status fmri_mosaic_png(const char *path, const xai_nifti_info *grid, const float *background,
                           const float *map, const uint8_t *mask, const char *title);

/** The 99.5th percentile of |map| over the mask (or every voxel). */
double fmri_robust_max(const float *map, int64_t nv, const uint8_t *mask);

#endif /* XAI_FMRI_H */
