/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * nifti.h - NIfTI-1 and NIfTI-2 images (.nii, .nii.gz) through nifti_clib.
 * Reads 1-D to 4-D images of every common integer and float datatype into float32
 * [T][Z][Y][X] (x fastest, as stored; no transpose) with scl_slope/scl_inter applied,
 * plus the header geometry. Writes float32 relevance maps that copy the geometry of an
 * input image exactly (intent ESTIMATE "LRP", symmetric cal_min/cal_max), atomically.
 * Specs: NIfTI-1 (nifti1.h, DFWG 2004), NIfTI-2 (nifti2.h, 2011).
 * nifti_clib keeps global options: these functions set its debug level to 0 (so it prints
 * nothing) and, like nifti_clib itself, must not run concurrently from several threads.
 */
#ifndef XAI_NIFTI_H
#define XAI_NIFTI_H

#include <stddef.h>
#include <stdint.h>

#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Where xai_nifti_info.affine comes from. */
typedef enum {
    XAI_NIFTI_AFFINE_PIXDIM = 0, /**< neither form set: diag(pixdim[1..3]), NIfTI-1 "method 1" */
    XAI_NIFTI_AFFINE_QFORM = 1,  /**< qform_code > 0 and sform_code == 0 */
    XAI_NIFTI_AFFINE_SFORM = 2   /**< sform_code > 0 (preferred, as viewers and nibabel do) */
} xai_nifti_affine_source;

/** NIfTI intent code written into relevance maps (NIFTI_INTENT_ESTIMATE). */
#define XAI_NIFTI_INTENT_LRP 1001

/**
 * Header of a NIfTI image, as stored (after byte swapping). Plain data, no pointers:
 * copy it freely. xai_nifti_write_series() and xai_nifti_write_volume() take one as the
 * geometry template.
 */
typedef struct {
    int version;                /**< 1 (NIfTI-1, 348-byte header) or 2 (NIfTI-2, 540 bytes) */
    int64_t dim[8];             /**< dim[0] = number of dimensions, dim[1..7] sizes (>= 1) */
    double pixdim[8];           /**< pixdim[1..3] voxel size, pixdim[4] time step as stored;
                                     pixdim[0] is set to qfac */
    int64_t vox_offset;         /**< byte offset of the voxels in the (image) file */
    int datatype;               /**< NIfTI DT_* code of the stored voxels (2 uint8, 4 int16, ...) */
    double scl_slope;           /**< as stored (0 or NaN means no scaling) */
    double scl_inter;           /**< as stored */
    double cal_min, cal_max;    /**< display range as stored */
    int intent_code;            /**< NIFTI_INTENT_* */
    char intent_name[17];       /**< NUL-terminated copy of the 16-byte field */
    char descrip[81];           /**< NUL-terminated copy of the 80-byte field */
    int qform_code, sform_code; /**< NIFTI_XFORM_* codes (0 = unset) */
    double quatern_b, quatern_c, quatern_d; /**< qform rotation quaternion */
    double qoffset_x, qoffset_y, qoffset_z; /**< qform translation (mm) */
    double qfac;                /**< qform handedness, -1 or 1 */
    double qform[4][4];         /**< voxel (i,j,k,1) to world; diag(pixdim) when qform_code == 0 */
    double sform[4][4];         /**< srow_x/y/z and (0 0 0 1); zero when sform_code == 0 */
    double affine[4][4];        /**< the one a viewer uses: sform, else qform, else pixdim */
    xai_nifti_affine_source affine_source; /**< which of the three @ref affine is */
    int xyzt_units;             /**< as stored: space units | time units */
    int xyz_units;              /**< NIFTI_UNITS_MM (2), _METER (1), _MICRON (3) or 0 */
    int time_units;             /**< NIFTI_UNITS_SEC (8), _MSEC (16), _USEC (24) or 0 */
    double toffset;             /**< time coordinate offset as stored */
    double tr_s;                /**< repetition time in seconds (0 when unknown), see below */
    int tr_assumed_ms;          /**< 1 when pixdim[4] was taken as milliseconds against its unit */
} xai_nifti_info;

/**
 * A NIfTI image read into memory. Everything is owned by the struct; free it with
 * xai_nifti_close().
 *
 * TR: pixdim[4] is converted with the time unit (ms / 1e3, us / 1e6, s or unknown as is).
 * Some writers store milliseconds while the unit says seconds (nibabel's example4d stores
 * 2000 with NIFTI_UNITS_SEC). No fMRI repetition time is anywhere near 100 s, so a value of
 * 100 or more that claims seconds (or has no unit) is taken as milliseconds: tr_s becomes
 * pixdim[4] / 1000 and tr_assumed_ms is set. pixdim[4] itself is never changed, so
 * writers still copy the header exactly.
 */
typedef struct {
    xai_nifti_info info;        /**< header and geometry */
    int64_t shape[4];           /**< [T][Z][Y][X]: dim[4], dim[3], dim[2], dim[1] (1 if absent) */
    size_t n;                   /**< shape[0] * shape[1] * shape[2] * shape[3] */
    float *data;                /**< owned; n values, x fastest; scl_slope/scl_inter applied */
} xai_nifti;

/**
 * Read a NIfTI-1 or NIfTI-2 image (.nii, .nii.gz, or a .hdr/.img pair) into float32.
 * Images with more than four dimensions (dim[5..7] > 1) and complex/RGB voxels are refused.
 * The header is checked against the file length before anything large is allocated.
 * @param path file name
 * @param[out] out the new image (caller frees with xai_nifti_close()); NULL on failure
 * @return XAI_OK; XAI_EIO (cannot open); XAI_EFORMAT (bad header, bad magic, truncated data,
 *         zero or non-finite voxel size, bad scaling); XAI_EUNSUPPORTED (datatype, more than
 *         4-D); XAI_ENOMEM; XAI_EDEP (nifti_clib failed). The detail message names the file.
 */
XAI_API xai_status xai_nifti_open(const char *path, xai_nifti **out);

/**
 * As xai_nifti_open() from a memory buffer holding a single-file image (.nii, or
 * gzip-compressed .nii.gz, detected by its magic bytes). nifti_clib reads only files, so
 * the buffer goes to a private temporary file under $TMPDIR (or /tmp) that is removed before
 * returning. The buffer is not kept.
 * @param name used in messages (may be NULL, then "<memory>")
 */
XAI_API xai_status xai_nifti_open_mem(const void *buf, size_t len, const char *name,
                                      xai_nifti **out);

/** Free an image and everything it owns; NULL is fine. */
XAI_API void xai_nifti_close(xai_nifti *img);

/**
 * Write a 4-D float32 series of @p nt volumes on the grid of @p like (NIfTI-2 if
 * like->version == 2, otherwise NIfTI-1; gzip-compressed when @p path ends in ".gz").
 * Copied from @p like: dim[1..3], pixdim (all eight), qform (code, quaternion, offsets,
 * qfac), sform (code, rows), xyzt_units and toffset. Set: dim[0] = 4, dim[4] = nt,
 * datatype FLOAT32, scl_slope 1, scl_inter 0, intent_code 1001 (ESTIMATE), intent_name
 * "LRP", cal_min/cal_max = -m/+m with m = max |value|, descrip = @p descrip cut to 79 bytes
 * (at a UTF-8 character boundary). Extensions are not copied.
 * The file is written as ".NAME.tmpXXXXXX<ext>" in the same directory, read back and
 * checked, then renamed over @p path; on any failure the temporary file is removed.
 * @param data nt * dim[3] * dim[2] * dim[1] finite values, [T][Z][Y][X] (not kept)
 * @param descrip provenance text, may be NULL
 * @return XAI_OK; XAI_EINVAL (bad arguments or template); XAI_ENUMERIC (a value is NaN or
 *         infinite); XAI_EIO (cannot create or rename); XAI_EDEP (nifti_clib failed to write).
 */
XAI_API xai_status xai_nifti_write_series(const char *path, const xai_nifti_info *like,
                                          int64_t nt, const float *data, const char *descrip);

/**
 * Write a 3-D float32 volume (dim[0] = 3, dim[4] = 1) on the spatial grid of @p like, which
 * may be a 4-D image: everything else is as xai_nifti_write_series() (pixdim[4..7],
 * xyzt_units and toffset are still copied).
 * @param data dim[3] * dim[2] * dim[1] values, [Z][Y][X]
 */
XAI_API xai_status xai_nifti_write_volume(const char *path, const xai_nifti_info *like,
                                          const float *data, const char *descrip);

/** Name of a NIfTI datatype code ("int16", "float32", ...); "unknown" for others. */
XAI_API const char *xai_nifti_datatype_name(int datatype);

#ifdef __cplusplus
}
#endif

#endif /* XAI_NIFTI_H */
