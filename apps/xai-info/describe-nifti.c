/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * describe-nifti.c - xai-info for NIfTI-1/NIfTI-2 (.nii, .nii.gz, .hdr/.img) via xai_nifti.
 * Conventions follow nibabel:
 * - `dim` and `pixdim` are dim[1..dim[0]] and pixdim[1..dim[0]] as stored (header.get_zooms());
 * - `affine` is nibabel's header.get_best_affine(): the sform when sform_code != 0, else the
 *   qform when qform_code != 0, else nibabel's fallback (get_base_affine), which is NOT
 *   diag(pixdim) but shape_zoom_affine: diag(-dx, dy, dz) with the centre voxel at the
 *   origin, i.e. column 4 = -((n - 1) / 2) * zoom for the first three axes, x flipped;
 * - `tr_s` is the repetition time in seconds from pixdim[4] and the time unit, with the
 *   reader's rule for files that store ms while claiming s (`tr_assumed_ms` says so);
 * - `datatype` is the numpy name nibabel's get_data_dtype() gives ("int16", "float32"),
 *   `datatype_code` the NIfTI code; min/max/mean are over the scaled data (get_fdata()).
 */
#include <math.h>
#include <string.h>

#include "info.h"
#include "xai/nifti.h"

static json_t *mat_json(const double m[4][4])
{
    json_t *a = json_array();
    for (int i = 0; i < 4; i++) {
        json_t *row = json_array();
        for (int j = 0; j < 4; j++)
            json_array_append_new(row, info_real(m[i][j]));
        json_array_append_new(a, row);
    }
    return a;
}

static const char *space_unit(int u)
{
    switch (u) {
    case 1: return "meter";
    case 2: return "mm";
    case 3: return "micron";
    default: return "unknown";
    }
}

static const char *time_unit(int u)
{
    switch (u) {
    case 8: return "sec";
    case 16: return "msec";
    case 24: return "usec";
    default: return "unknown";
    }
}

/* nibabel AnalyzeHeader.get_base_affine (shape_zoom_affine with x_flip). */
static void base_affine(const xai_nifti_info *in, double m[4][4])
{
    memset(m, 0, 16 * sizeof(double));
    int nd = (int)in->dim[0];
    for (int i = 0; i < 3; i++) {
        double n = (i < nd) ? (double)in->dim[i + 1] : 1.0;
        double z = (i < nd) ? in->pixdim[i + 1] : 1.0;
        if (i == 0)
            z = -z;
        m[i][i] = z;
        m[i][3] = -((n - 1.0) / 2.0) * z;
    }
    m[3][3] = 1.0;
}

xai_status info_describe_nifti(const char *path, json_t **out)
{
    xai_nifti *img = NULL;
    xai_status st = xai_nifti_open(path, &img);
    if (st != XAI_OK)
        return st;
    const xai_nifti_info *in = &img->info;
    json_t *o = json_object();
    json_object_set_new(o, "format", json_string(in->version == 2 ? "nifti2" : "nifti1"));
    json_object_set_new(o, "file", info_str(path));
    int nd = (int)in->dim[0];
    if (nd < 1 || nd > 7)
        nd = 1;
    json_t *dim = json_array(), *pix = json_array();
    for (int i = 1; i <= nd; i++) {
        json_array_append_new(dim, json_integer(in->dim[i]));
        json_array_append_new(pix, info_real(in->pixdim[i]));
    }
    json_object_set_new(o, "ndim", json_integer(nd));
    json_object_set_new(o, "dim", dim);
    json_object_set_new(o, "pixdim", pix);
    json_object_set_new(o, "tr_s", info_real(in->tr_s));
    json_object_set_new(o, "tr_assumed_ms", json_boolean(in->tr_assumed_ms));
    json_object_set_new(o, "xyz_units", json_string(space_unit(in->xyz_units)));
    json_object_set_new(o, "time_units", json_string(time_unit(in->time_units)));
    json_object_set_new(o, "toffset", info_real(in->toffset));
    json_object_set_new(o, "datatype", json_string(xai_nifti_datatype_name(in->datatype)));
    json_object_set_new(o, "datatype_code", json_integer(in->datatype));
    json_object_set_new(o, "scl_slope", info_real(in->scl_slope));
    json_object_set_new(o, "scl_inter", info_real(in->scl_inter));
    json_object_set_new(o, "cal_min", info_real(in->cal_min));
    json_object_set_new(o, "cal_max", info_real(in->cal_max));
    json_object_set_new(o, "intent_code", json_integer(in->intent_code));
    json_object_set_new(o, "intent_name", info_str(in->intent_name));
    json_object_set_new(o, "descrip", info_str(in->descrip));
    json_object_set_new(o, "qform_code", json_integer(in->qform_code));
    json_object_set_new(o, "sform_code", json_integer(in->sform_code));
    double fb[4][4];
    const char *src;
    if (in->affine_source == XAI_NIFTI_AFFINE_PIXDIM) {
        base_affine(in, fb);
        src = "fallback";
        json_object_set_new(o, "affine", mat_json((const double (*)[4])fb));
    } else {
        src = in->affine_source == XAI_NIFTI_AFFINE_SFORM ? "sform" : "qform";
        json_object_set_new(o, "affine", mat_json(in->affine));
    }
    json_object_set_new(o, "affine_source", json_string(src));
    if (in->qform_code > 0)
        json_object_set_new(o, "qform", mat_json(in->qform));
    if (in->sform_code > 0)
        json_object_set_new(o, "sform", mat_json(in->sform));
    info_stats s;
    info_stats_init(&s);
    info_stats_add(&s, img->data, img->n);
    info_stats_put(&s, o);
    xai_nifti_close(img);
    *out = o;
    return XAI_OK;
}
