/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * domain-fmri.h - the fMRI domain of the formats library: class names, labelling volumes from BIDS
 * events.tsv (onsets and durations against the TR, with a hemodynamic lag) or from a
 * per-volume label table, the brain mask, and the per-run voxel-wise z-scoring that train
 * and explain apply identically. Plain helpers; errors through xai_error_set().
 */
#ifndef XAI_DOMAIN_FMRI_H
#define XAI_DOMAIN_FMRI_H

#include <stdint.h>

#include "xai/api.h"
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

#endif /* XAI_DOMAIN_FMRI_H */
