/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri-run.c - the runs of xai-fmri: a 4-D BOLD file split into runs (one, or one per value of
 * a label table's run column), labelled and given their pre-processing statistics, and the
 * masks that train and explain apply to them. See xai/domain-fmri.h.
 */
#include "xai/domain-fmri.h"

#include "fmri-int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int64_t xai_fmri_run_nv(const xai_fmri_run *r) { return r->img->shape[1] * r->img->shape[2] * r->img->shape[3]; }

static const float *run_data(const xai_fmri_run *r) { return r->img->data + r->t0 * xai_fmri_run_nv(r); }

void xai_fmri_run_free(xai_fmri_run *r)
{
    if (r->owner)
        xai_nifti_close(r->img);
    xai_fmri_prep_free(&r->prep);
    free(r->labels);
    free(r->censored);
    free(r->onset);
    memset(r, 0, sizeof *r);
}

void xai_fmri_run_volume(const xai_fmri_run *r, int64_t t, const uint8_t *mask, float *out)
{
    int64_t nv = xai_fmri_run_nv(r);
    xai_fmri_prep_apply(&r->prep, run_data(r) + t * nv, t, out);
    for (int64_t v = 0; v < nv; v++)
        if (!mask[v])
            out[v] = 0.0f;
}

/* Labels of a whole file: events, a table (with its run column in chunks), or none. */
static xai_status label_file(const xai_nifti *img, const char *bold, const char *events, const char *labels,
                             double lag, xai_fmri_classes *cls, int *lab, int *chunks, int *nchunks, char **unused)
{
    int64_t nt = img->shape[0];
    double tr = img->info.tr_s;
    *nchunks = 1;
    memset(chunks, 0, (size_t)nt * sizeof *chunks);
    if (!events && !labels)
        return XAI_OK;
    if (!(tr > 0) && (events || lag != 0))
        return xai_error_set(XAI_EINVAL, "%s: no repetition time in the header (pixdim[4]); cannot place %s in time",
                             bold, events ? "events" : "the lag of --labels (give --lag 0 to take the table as it is)");
    return events ? xai_fmri_label_events(events, nt, tr, lag, cls, lab, unused)
                  : xai_fmri_label_table(labels, nt, tr, lag, cls, lab, chunks, nchunks);
}

/* One run per stretch of equal chunk values, each with its statistics and labels. */
static xai_status split_runs(const char *bold, xai_nifti *img, const int *lab, const int *chunks, int labelled,
                             int detrend, xai_fmri_run *runs, int *nruns)
{
    int64_t nt = img->shape[0], nv = img->shape[1] * img->shape[2] * img->shape[3];
    uint8_t *all = malloc((size_t)nv);
    if (!all)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    memset(all, 1, (size_t)nv);
    xai_status st = XAI_OK;
    for (int64_t a = 0; st == XAI_OK && a < nt;) {
        int64_t b = a;
        while (b < nt && chunks[b] == chunks[a])
            b++;
        xai_fmri_run *r = &runs[(*nruns)++];
        *r = (xai_fmri_run){.path = bold, .img = img, .owner = a == 0, .t0 = a, .nt = b - a};
        if (!(r->censored = malloc((size_t)r->nt))) {
            st = xai_error_set(XAI_ENOMEM, "out of memory");
            break;
        }
        r->ncensored = xai_fmri_motion_spikes(run_data(r), r->nt, nv, r->censored);
        /* the statistics keep the spikes: they inflate the SD of the voxels that motion hits
           (the brain's edge), which the model then weighs down; without them the edge's
           noise took more of the relevance on the generated runs (13.5x -> 11.3x) */
        if ((st = xai_fmri_prep_init(&r->prep, run_data(r), r->nt, nv, all, detrend)) != XAI_OK)
            xai_error_prefix(st, bold);
        else if (labelled && !(r->labels = malloc((size_t)r->nt * sizeof *r->labels)))
            st = xai_error_set(XAI_ENOMEM, "out of memory");
        else if (r->labels)
            for (int64_t t = 0; t < r->nt; t++)
                r->labels[t] = r->censored[t] ? -1 : lab[a + t];
        a = b;
    }
    free(all);
    return st;
}

xai_status xai_fmri_runs_load(const char *bold, const char *events, const char *labels, double lag, int detrend,
                              double fwhm_mm, xai_fmri_classes *cls, xai_fmri_run *runs, int *nruns, int cap,
                              char **unused)
{
    return xai_fmri_runs_load_as(bold, events, labels, lag, detrend, fwhm_mm, XAI_FMRI_SAMPLES_VOLUMES, cls, runs,
                                 nruns, cap, unused);
}

xai_status xai_fmri_runs_load_as(const char *bold, const char *events, const char *labels, double lag, int detrend,
                                 double fwhm_mm, int samples, xai_fmri_classes *cls, xai_fmri_run *runs, int *nruns,
                                 int cap, char **unused)
{
    if (samples != XAI_FMRI_SAMPLES_VOLUMES && !events)
        return xai_error_set(XAI_EINVAL, "%s: one sample per trial needs the run's events.tsv", bold);
    if (unused)
        *unused = NULL;
    xai_nifti *img = NULL;
    xai_status st = xai_nifti_open(bold, &img);
    if (st != XAI_OK)
        return st;
    int64_t nt = img->shape[0];
    if (img->info.dim[0] != 4 || nt < 3) {
        st = xai_error_set(XAI_EINVAL, "%s: not a 4-D BOLD run (dim %lld, %lld volumes)", bold,
                           (long long)img->info.dim[0], (long long)nt);
        xai_nifti_close(img);
        return st;
    }
    if ((st = xai_fmri_smooth(img, fwhm_mm)) != XAI_OK) {
        xai_error_prefix(st, bold);
        xai_nifti_close(img);
        return st;
    }
    if (samples != XAI_FMRI_SAMPLES_VOLUMES) {
        st = *nruns + 1 > cap ? xai_error_set(XAI_EINVAL, "%s: more than %d runs", bold, cap)
                              : fmri_trials_run(bold, img, events, samples, detrend, cls, &runs[*nruns], unused);
        if (st == XAI_OK)
            (*nruns)++;
        else
            xai_nifti_close(img);
        return st;
    }
    int *lab = malloc((size_t)nt * sizeof *lab), *chunks = malloc((size_t)nt * sizeof *chunks), nch = 1;
    char *un = NULL;
    st = !lab || !chunks ? xai_error_set(XAI_ENOMEM, "out of memory")
                         : label_file(img, bold, events, labels, lag, cls, lab, chunks, &nch, &un);
    if (st == XAI_OK && *nruns + nch > cap)
        st = xai_error_set(XAI_EINVAL, "%s: more than %d runs", bold, cap);
    int first = *nruns;
    if (st == XAI_OK)
        st = split_runs(bold, img, lab, chunks, events || labels, detrend, runs, nruns);
    if (*nruns == first)
        xai_nifti_close(img); /* no run took it */
    free(lab);
    free(chunks);
    if (unused)
        *unused = un;
    else
        free(un);
    return st;
}

xai_status xai_fmri_mask_from_file(const xai_nifti *file, const char *file_path, const xai_fmri_run *ref,
                                   uint8_t *mask)
{
    const xai_nifti *img = ref->img;
    if (memcmp(file->shape + 1, img->shape + 1, 3 * sizeof(int64_t)))
        return xai_error_set(XAI_EINVAL, "%s: mask grid %lldx%lldx%lld does not match %s (%lldx%lldx%lld)", file_path,
                             (long long)file->shape[3], (long long)file->shape[2], (long long)file->shape[1],
                             ref->path, (long long)img->shape[3], (long long)img->shape[2], (long long)img->shape[1]);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++)
            if (fabs(file->info.affine[r][c] - img->info.affine[r][c]) > 1e-3 * (1 + fabs(img->info.affine[r][c])))
                return xai_error_set(XAI_EINVAL, "%s: the mask's affine differs from that of %s (row %d, column %d: "
                                     "%g vs %g): the mask is in another space", file_path, ref->path, r, c,
                                     file->info.affine[r][c], img->info.affine[r][c]);
    int64_t nv = xai_fmri_run_nv(ref);
    for (int64_t v = 0; v < nv; v++)
        mask[v] = file->data[v] != 0.0f && !isnan(file->data[v]);
    return XAI_OK;
}

xai_status xai_fmri_mask_from_runs(const xai_fmri_run *runs, int nruns, const int *use, double frac, uint8_t *mask)
{
    const xai_nifti *ref = runs[0].img;
    int64_t nv = xai_fmri_run_nv(&runs[0]), n = 0;
    float *mean = calloc((size_t)nv, sizeof *mean);
    if (!mean)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    for (int i = 0; i < nruns; i++)
        if (use[i]) {
            for (int64_t v = 0; v < nv; v++)
                mean[v] += runs[i].prep.mean[v] * (float)runs[i].nt;
            n += runs[i].nt;
        }
    for (int64_t v = 0; v < nv; v++)
        mean[v] /= (float)(n ? n : 1);
    int64_t dims[3] = {ref->shape[3], ref->shape[2], ref->shape[1]};
    xai_status st = XAI_OK;
    if (frac > 0) /* the older rule, on request */
        xai_fmri_frac_mask(mean, nv, frac, mask);
    else
        st = xai_fmri_auto_mask(mean, dims, mask);
    free(mean);
    return st == XAI_OK ? XAI_OK : xai_error_prefix(st, runs[0].path);
}
