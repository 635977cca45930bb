/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * info.h - internal interface of xai-info: format detection, one describer per file family
 * (each builds a jansson object, the single source of both outputs) and the text renderer.
 * Conventions follow the reference tools the output is checked against: MNE (EEG),
 * nibabel (NIfTI), soundfile (audio); see the comment of each describer.
 */
#ifndef XAI_INFO_H
#define XAI_INFO_H

#include <jansson.h>
#include <stdio.h>

#include "xai/status.h"

/** File families xai-info knows. */
typedef enum {
    INFO_UNKNOWN = 0,
    INFO_EDF,         /* EDF, EDF+, BDF, BDF+ (flavour from the header) */
    INFO_BRAINVISION, /* .vhdr (or its .vmrk/.eeg sibling) */
    INFO_BIOSIG,      /* GDF, BCI2000, Neuroscan CNT, EGI (through BioSig) */
    INFO_NIFTI,       /* NIfTI-1/2, .nii, .nii.gz, .hdr/.img */
    INFO_AUDIO,       /* anything libsndfile opens */
    INFO_C3D,
    INFO_TRC,
    INFO_MOT,         /* .mot and .sto */
    INFO_NPY,
    INFO_ONNX
} info_kind;

/**
 * Decide the family of @p path: magic bytes first, file name extension second.
 * @return INFO_UNKNOWN when neither says anything (the error detail is then set).
 */
info_kind info_detect(const char *path);

/**
 * Describers: build @p *out (a new JSON object, caller owns it) with "format" first.
 * On failure the xai error detail names the file and the fault.
 */
xai_status info_describe_edf(const char *path, json_t **out);
xai_status info_describe_brainvision(const char *path, json_t **out);
xai_status info_describe_biosig(const char *path, json_t **out);
xai_status info_describe_nifti(const char *path, json_t **out);
xai_status info_describe_audio(const char *path, json_t **out);
xai_status info_describe_c3d(const char *path, json_t **out);
xai_status info_describe_trc(const char *path, json_t **out);
xai_status info_describe_mot(const char *path, json_t **out);
xai_status info_describe_npy(const char *path, json_t **out);
xai_status info_describe_onnx(const char *path, json_t **out);

/** Detect and describe @p path in one call. */
xai_status info_describe(const char *path, json_t **out);

/** Print @p obj (as made by a describer) as human-readable text. */
void info_print_text(FILE *f, const json_t *obj);

/**
 * A JSON string for @p s (NULL gives ""). Invalid UTF-8 is read as Latin-1, as MNE reads
 * EDF headers, so a header byte 0xB5 becomes "µ".
 */
json_t *info_str(const char *s);

/** A JSON number for @p x, or null when it is not finite (JSON has no NaN). */
json_t *info_real(double x);

/** Running min/max/mean over finite values (NaN/inf are counted apart). */
typedef struct {
    double min, max, sum;
    long long n, nonfinite;
} info_stats;

void info_stats_init(info_stats *s);
void info_stats_add(info_stats *s, const float *x, size_t n);
/** Set "min", "max", "mean" (and "nonfinite" when > 0) on @p obj. */
void info_stats_put(const info_stats *s, json_t *obj);

#endif /* XAI_INFO_H */
