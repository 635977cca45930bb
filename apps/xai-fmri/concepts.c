/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * concepts.c - xai-fmri explain --concepts LAYER[:top=K|:channels=...]: Concept Relevance
 * Propagation (Achtibat et al., Nature Machine Intelligence 5, 2023) on the run's grid.
 * Each concept (a filter or unit of LAYER) gets one 4-D NIfTI, ..._desc-lrpconceptC_bold.nii.gz
 * (C the channel): the relevance of every volume for that concept alone, on the input's grid
 * with the same header, mask and masked-out spreading as the plain 4-D map, so that FSLeyes
 * or nilearn open it over the BOLD run like the plain map, and the files of all of a layer's
 * concepts add up to it. A 5-D image (concepts after time) would be one file, but FSLeyes and
 * nilearn read only 3-D and 4-D images. The concept table ..._desc-lrpconcepts_timeseries.tsv
 * gives each volume's concept relevances. One concept is mapped at a time over the run, so the
 * memory is one 4-D series whatever K.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concepts.h"
#include "fmri.h"
#include "xai/crp.h"
#include "xai/domain.h"
#include "xai/nifti.h"

/* The concept relevance of every volume (and the class each explains), B volumes per sweep. */
static xai_status relevances(const fmri_concepts_in *in, int64_t B, float *xb, concepts_result *r)
{
    int64_t nv = xai_fmri_run_nv(in->run);
    xai_status st = XAI_OK;
    for (int64_t t0 = 0; st == XAI_OK && t0 < r->n; t0 += B) {
        int64_t nb = r->n - t0 < B ? r->n - t0 : B;
        for (int64_t j = 0; j < nb; j++)
            xai_fmri_run_volume(in->run, t0 + j, in->emask, xb + j * nv);
        st = xai_crp_explain(in->m, in->cfg, in->cs->layer, nb, xb, 0, NULL, NULL, r->crel + t0 * r->nch,
                             r->target + t0);
    }
    return st;
}

/* Concept q's map of every volume, explained for the class of the plain pass, into @p series. */
static xai_status concept_series(const fmri_concepts_in *in, const concepts_result *r, int q, int64_t B, float *xb,
                                 float *mb, float *series)
{
    int64_t nv = xai_fmri_run_nv(in->run);
    xai_explain_config c = *in->cfg;
    xai_status st = XAI_OK;
    for (int64_t t0 = 0; st == XAI_OK && t0 < r->n; t0 += B) {
        int64_t nb = r->n - t0 < B ? r->n - t0 : B;
        for (int64_t j = 0; j < nb; j++)
            xai_fmri_run_volume(in->run, t0 + j, in->emask, xb + j * nv);
        c.targets = r->target + t0;
        st = xai_crp_explain(in->m, &c, in->cs->layer, nb, xb, 1, &r->ch[q], mb, NULL, NULL);
        for (int64_t j = 0; st == XAI_OK && j < nb; j++) {
            double sum;
            xai_fmri_place_map(mb + j * nv, in->emask, nv, series + (t0 + j) * nv, &sum);
        }
    }
    return st;
}

static void concept_path(const fmri_concepts_in *in, int ch, char *buf, size_t len)
{
    char desc[48];
    snprintf(desc, sizeof desc, "lrpconcept%d", ch);
    namer_path(in->nm, 0, desc, "bold", ".nii.gz", buf, len);
}

/* Every concept output, refused (exit 2) when one exists, before any is written. */
static int check_outputs(opts *o, const fmri_concepts_in *in, const concepts_result *r, char *tsv, size_t len)
{
    char path[4608];
    namer_path(in->nm, 0, "lrpconcepts", "timeseries", ".tsv", tsv, len);
    int bad = xai_app_check_output(&o->app, tsv) != 0;
    for (int q = 0; q < r->k && !bad; q++) {
        concept_path(in, r->ch[q], path, sizeof path);
        bad = xai_app_check_output(&o->app, path) != 0;
    }
    return bad ? XAI_EXIT_USAGE : 0;
}

static int write_outputs(opts *o, const fmri_concepts_in *in, const concepts_result *r, const char *tsvpath)
{
    int64_t nv = xai_fmri_run_nv(in->run), B = in->cfg->batch > 0 ? in->cfg->batch : 1;
    float *xb = malloc(sizeof(float) * (size_t)(B * nv)), *mb = malloc(sizeof(float) * (size_t)(B * nv));
    float *series = malloc(sizeof(float) * (size_t)(r->n * nv));
    char *js = concepts_sidecar(in->common, in->cs, r, "Concept Relevance Propagation: per volume, the relevance "
                                "of one concept of the layer, raw, 0 outside the mask; the files of all of the "
                                "layer's concepts add up to the 4-D LRP map (desc-lrp_bold)", NULL, 0);
    xai_tsv *t = NULL;
    char path[4608];
    int rc = xb && mb && series && js ? 0 : xai_app_fail(&o->app, NULL, "out of memory");
    if (rc == 0 && (concepts_table(r, "volume", 0, (const char *const *)in->cls->name, in->cls->n, &t) != XAI_OK ||
                    xai_tsv_save(t, tsvpath, 0) != XAI_OK))
        rc = xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    if (rc == 0 && xai_app_write_sidecar(&o->app, tsvpath, js) != 0)
        rc = XAI_EXIT_DATA;
    xai_nifti_info like;
    xai_fmri_series_template(in->run, &like);
    for (int q = 0; rc == 0 && q < r->k; q++) {
        concept_path(in, r->ch[q], path, sizeof path);
        if (concept_series(in, r, q, B, xb, mb, series) != XAI_OK ||
            xai_nifti_write_series(path, &like, r->n, series, in->descrip) != XAI_OK)
            rc = xai_app_fail(&o->app, path, "%s", xai_last_error());
        else if (xai_app_write_sidecar(&o->app, path, js) != 0)
            rc = XAI_EXIT_DATA;
    }
    xai_tsv_free(t);
    free(xb), free(mb), free(series), free(js);
    return rc;
}

int fmri_concepts(opts *o, const fmri_concepts_in *in)
{
    concepts_result r = {.n = in->run->nt};
    int64_t nv = xai_fmri_run_nv(in->run), B = in->cfg->batch > 0 ? in->cfg->batch : 1;
    if (xai_crp_layer(in->m, in->cs->layer, &r.nch, NULL) != XAI_OK)
        return xai_app_fail(&o->app, in->bold, "--concepts: %s", xai_last_error());
    r.crel = malloc(sizeof(double) * (size_t)(r.n * r.nch + 1));
    r.target = malloc(sizeof(int) * (size_t)(r.n + 1));
    r.ch = malloc(sizeof(int) * (size_t)(r.nch + in->cs->nchannels));
    float *xb = malloc(sizeof(float) * (size_t)(B * nv));
    char tsv[4608];
    int rc = XAI_EXIT_DATA;
    if (!r.crel || !r.target || !r.ch || !xb)
        xai_app_fail(&o->app, NULL, "out of memory");
    else if (relevances(in, B, xb, &r) != XAI_OK)
        xai_app_fail(&o->app, in->bold, "--concepts: %s", xai_last_error());
    else if ((r.k = concepts_pick(in->cs, r.crel, r.n, r.nch, r.ch)) == -1)
        xai_app_fail(&o->app, in->bold, "--concepts: a listed channel is not below the layer's %lld",
                     (long long)r.nch);
    else if (r.k < 0)
        xai_app_fail(&o->app, NULL, "out of memory");
    else if ((rc = check_outputs(o, in, &r, tsv, sizeof tsv)) == 0)
        rc = write_outputs(o, in, &r, tsv);
    free(xb);
    concepts_result_free(&r);
    return rc;
}
