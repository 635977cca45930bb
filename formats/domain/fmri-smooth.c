/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri-smooth.c - isotropic Gaussian smoothing of BOLD volumes, FWHM in millimetres, applied
 * per voxel axis with that axis's voxel size (the spatial smoothing step of SPM, FSL and
 * nilearn's smooth_img; Worsley & Friston 1995 for the FWHM convention). The image's edge
 * value pads the borders. See xai/domain-fmri.h.
 */
#include "xai/domain-fmri.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_filter.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdlib.h>

/* Smooth every line of @p vol along axis @p ax (0 = x, fastest) with a sigma of @p sd voxels. */
static xai_status smooth_axis(float *vol, const int64_t d[3], int ax, double sd)
{
    int64_t n = d[ax], stride = ax == 0 ? 1 : ax == 1 ? d[0] : d[0] * d[1];
    size_t K = 2 * (size_t)ceil(3 * sd) + 1; /* +-3 sigma */
    if (n < 2 || K < 3)
        return XAI_OK;
    gsl_filter_gaussian_workspace *w = gsl_filter_gaussian_alloc(K);
    gsl_vector *x = gsl_vector_alloc((size_t)n), *y = gsl_vector_alloc((size_t)n);
    xai_status st = w && x && y ? XAI_OK : xai_error_set(XAI_ENOMEM, "out of memory");
    double alpha = (double)(K - 1) / (2 * sd); /* GSL: sigma = (K - 1) / (2 alpha) */
    int64_t nlines = d[0] * d[1] * d[2] / n;
    for (int64_t l = 0; st == XAI_OK && l < nlines; l++) {
        /* the first voxel of line l: every index whose axis-ax coordinate is 0 */
        int64_t lo = l % stride, hi = l / stride, base = lo + hi * stride * n;
        for (int64_t i = 0; i < n; i++)
            gsl_vector_set(x, (size_t)i, vol[base + i * stride]);
        if (gsl_filter_gaussian(GSL_FILTER_END_PADVALUE, alpha, 0, x, y, w) != GSL_SUCCESS)
            st = xai_error_set(XAI_EINVAL, "smoothing failed");
        for (int64_t i = 0; st == XAI_OK && i < n; i++)
            vol[base + i * stride] = (float)gsl_vector_get(y, (size_t)i);
    }
    gsl_filter_gaussian_free(w);
    gsl_vector_free(x);
    gsl_vector_free(y);
    return st;
}

xai_status xai_fmri_smooth(xai_nifti *img, double fwhm_mm)
{
    if (!(fwhm_mm > 0))
        return XAI_OK;
    int64_t d[3] = {img->shape[3], img->shape[2], img->shape[1]}, nv = d[0] * d[1] * d[2];
    gsl_error_handler_t *old = gsl_set_error_handler_off(); /* errors come back as statuses */
    xai_status st = XAI_OK;
    for (int ax = 0; ax < 3 && st == XAI_OK; ax++) {
        double mm = img->info.pixdim[ax + 1], sd = mm > 0 ? fwhm_mm / (2 * sqrt(2 * log(2))) / mm : 0;
        for (int64_t t = 0; sd > 0 && st == XAI_OK && t < img->shape[0]; t++)
            st = smooth_axis(img->data + t * nv, d, ax, sd);
    }
    gsl_set_error_handler(old);
    return st;
}
