/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eeg-truth.c - a ground truth given in the terms of the recording (channel names, seconds
 * after the event) turned into a mask over the model's channels x times, so that the
 * localisation metrics of xai/eval.h can score the EEG maps without a hand-made array.
 */
#include "xai/domain-eeg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xai/tsv.h"

/* mark @p label's row of the mask over [t0, t1) s; XAI_EINVAL when the model lacks it */
static xai_status mark(const xai_eeg_prep *p, const char *label, double t0, double t1, float *mask,
                       const char *name, size_t row)
{
    int c = -1;
    for (int i = 0; i < p->nch && c < 0; i++)
        if (xai_eeg_label_equal(p->channels[i], label))
            c = i;
    if (c < 0)
        return xai_error_set(XAI_EINVAL, "%s: row %zu: channel '%s' is not one of the model's", name, row + 1, label);
    int64_t hits = 0;
    for (int64_t t = 0; t < p->ntimes; t++) {
        double s = p->tmin + (double)t / p->rate;
        if (s >= t0 && s < t1) {
            mask[(size_t)c * (size_t)p->ntimes + (size_t)t] = 1.0f;
            hits++;
        }
    }
    if (hits == 0)
        return xai_error_set(XAI_EINVAL, "%s: row %zu: [%g, %g) s is outside the epoch [%g, %g) s", name, row + 1, t0,
                             t1, p->tmin, p->tmin + (double)p->ntimes / p->rate);
    return XAI_OK;
}

/* one region: every channel of the row's comma-separated list over [tmin_s, tmax_s) */
static xai_status region(const xai_eeg_prep *p, const xai_tsv *t, size_t r, const long col[3], float *mask,
                         const char *name)
{
    double t0, t1;
    const char *chs = xai_tsv_get_string(t, r, (size_t)col[0]);
    if (!chs || xai_tsv_get_number(t, r, (size_t)col[1], &t0) != XAI_OK ||
        xai_tsv_get_number(t, r, (size_t)col[2], &t1) != XAI_OK || !isfinite(t0) || !isfinite(t1) || t1 <= t0)
        return xai_error_set(XAI_EINVAL, "%s: row %zu: need channels and tmin_s < tmax_s", name, r + 1);
    char *list = strdup(chs), *save = NULL;
    if (!list)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    xai_status st = XAI_OK;
    for (char *tok = strtok_r(list, ",", &save); tok && st == XAI_OK; tok = strtok_r(NULL, ",", &save))
        st = mark(p, tok, t0, t1, mask, name, r);
    free(list);
    return st;
}

xai_status xai_eeg_truth_mask(const xai_eeg_prep *p, const char *tsv_path, const char *kind, float *mask,
                              int *nregions)
{
    xai_tsv *t = NULL;
    xai_status st = xai_tsv_load(tsv_path, 0, &t);
    if (st != XAI_OK)
        return st;
    long col[3] = {xai_tsv_find_column(t, "channels"), xai_tsv_find_column(t, "tmin_s"),
                   xai_tsv_find_column(t, "tmax_s")}, kcol = xai_tsv_find_column(t, "kind");
    if (col[0] < 0)
        col[0] = xai_tsv_find_column(t, "channel");
    if (col[0] < 0 || col[1] < 0 || col[2] < 0) {
        xai_tsv_free(t);
        return xai_error_set(XAI_EINVAL, "%s: need the columns channels (or channel), tmin_s and tmax_s", tsv_path);
    }
    memset(mask, 0, (size_t)p->nch * (size_t)p->ntimes * sizeof *mask);
    *nregions = 0;
    for (size_t r = 0; st == XAI_OK && r < xai_tsv_nrows(t); r++) {
        const char *k = kcol >= 0 ? xai_tsv_get_string(t, r, (size_t)kcol) : NULL;
        if (kcol >= 0 && (!k || strcmp(k, kind ? kind : "planted") != 0))
            continue;
        st = region(p, t, r, col, mask, tsv_path);
        *nregions += st == XAI_OK;
    }
    xai_tsv_free(t);
    if (st == XAI_OK && *nregions == 0)
        st = xai_error_set(XAI_EINVAL, "%s: no region%s%s", tsv_path, kcol >= 0 ? " of kind " : "",
                           kcol >= 0 ? (kind ? kind : "planted") : "");
    return st;
}
