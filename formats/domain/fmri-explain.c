/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri-explain.c - explaining the volumes of a run with an xai-fmri model: the model's
 * record of its input (classes, labelling rule, pre-processing, grid) and the checks against
 * a run, the explain-time mask, the LRP start, and the streamed explanation with its class
 * summaries. See xai/domain-fmri.h. Refs: LRP (Bach et al. 2015); bias factor 1 and the
 * logit start (Arras et al. 2017).
 */
#include "xai/domain-fmri.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void xai_fmri_record_free(xai_fmri_record *r)
{
    xai_fmri_classes_free(&r->cls);
    free(r->json);
    memset(r, 0, sizeof *r);
}

xai_status xai_fmri_record_read(const xai_model *m, const char *model_path, double lag, xai_fmri_record *r)
{
    memset(r, 0, sizeof *r);
    const char *pres = xai_model_metadata(m, "xai_preprocessing"), *cn = xai_model_metadata(m, "class_names");
    json_t *pre = pres ? json_loads(pres, 0, NULL) : NULL;
    const char *domain = json_string_value(json_object_get(pre, "domain"));
    xai_status st = XAI_OK;
    if (!domain || strcmp(domain, "fmri"))
        st = xai_error_set(XAI_EFORMAT, "%s: not an xai-fmri model (no fMRI \"xai_preprocessing\" metadata)",
                           model_path);
    else if (!cn || xai_fmri_classes_from_json(&r->cls, cn) != XAI_OK || r->cls.n != xai_model_output_numel(m))
        st = xai_error_set(XAI_EFORMAT, "%s: missing or bad \"class_names\" metadata", model_path);
    else if (!(r->json = dupstr(pres)))
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    if (st == XAI_OK) {
        const char *mk = json_string_value(json_object_get(pre, "mask"));
        const char *dt = json_string_value(json_object_get(pre, "detrend"));
        json_t *ls = json_object_get(pre, "lag_s");
        r->mask_file = mk && !strcmp(mk, "file");
        r->auto_frac = json_number_value(json_object_get(pre, "auto_fraction"));
        r->lag = json_object_get(pre, "lag_rule") ? XAI_FMRI_LAG_HRF : json_is_number(ls) ? json_number_value(ls) : lag;
        r->detrend = dt && !strcmp(dt, "linear");
        r->fwhm_mm = json_number_value(json_object_get(pre, "smoothing_fwhm_mm"));
        json_t *sa = json_object_get(pre, "samples");
        r->samples = sa ? xai_fmri_samples_parse(json_string_value(sa)) : XAI_FMRI_SAMPLES_VOLUMES;
        if (r->samples < 0)
            st = xai_error_set(XAI_EFORMAT, "%s: unknown \"samples\" in its pre-processing record", model_path);
        const char *arch = xai_model_metadata(m, "xai_arch");
        r->dense = arch && !strncmp(arch, "flatten dense(", 14);
    }
    json_decref(pre);
    if (st != XAI_OK)
        xai_fmri_record_free(r);
    return st;
}

/* The grid and voxel size recorded in the model against the run's. */
static xai_status check_grid(json_t *pre, const xai_model *m, const xai_fmri_run *run, const char *model_path)
{
    const xai_nifti *img = run->img;
    json_t *g = json_object_get(pre, "grid"), *vs = json_object_get(pre, "voxel_size");
    int64_t gx = json_integer_value(json_array_get(g, 0)), gy = json_integer_value(json_array_get(g, 1)),
            gz = json_integer_value(json_array_get(g, 2));
    if (gx != img->shape[3] || gy != img->shape[2] || gz != img->shape[1] ||
        xai_model_input_numel(m) != xai_fmri_run_nv(run))
        return xai_error_set(XAI_EINVAL, "%s: voxel grid %lldx%lldx%lld does not match the model's %lldx%lldx%lld "
                             "(%s); xai-fmri does not resample: resample the run to the model's grid or train a "
                             "model on this grid", run->path, (long long)img->shape[3], (long long)img->shape[2],
                             (long long)img->shape[1], (long long)gx, (long long)gy, (long long)gz, model_path);
    for (int k = 0; k < 3; k++) {
        double a = json_number_value(json_array_get(vs, (size_t)k)), b = img->info.pixdim[k + 1];
        if (fabs(a - b) > 0.01 * fabs(a))
            return xai_error_set(XAI_EINVAL, "%s: voxel size %gx%gx%g mm does not match the model's %gx%gx%g mm (%s)",
                                 run->path, img->info.pixdim[1], img->info.pixdim[2], img->info.pixdim[3],
                                 json_number_value(json_array_get(vs, 0)), json_number_value(json_array_get(vs, 1)),
                                 json_number_value(json_array_get(vs, 2)), model_path);
    }
    return XAI_OK;
}

xai_status xai_fmri_record_check(const xai_fmri_record *r, const xai_model *m, const xai_fmri_run *run,
                                 const char *model_path)
{
    json_t *pre = json_loads(r->json, 0, NULL);
    const char *orient = json_string_value(json_object_get(pre, "orientation"));
    char ro[4];
    xai_fmri_orientation(&run->img->info, ro);
    xai_status st = XAI_OK;
    if (orient && strcmp(orient, ro))
        st = xai_error_set(XAI_EINVAL, "%s: voxel axes point %s, but the model was trained on %s data (%s): "
                           "reorient the run to the model's orientation", run->path, ro, orient, model_path);
    else
        st = check_grid(pre, m, run, model_path);
    json_decref(pre);
    return st;
}

xai_status xai_fmri_explain_mask(const xai_model *m, const xai_fmri_run *run, const xai_nifti *file,
                                 const char *file_path, double frac, uint8_t **out)
{
    int64_t nv = xai_fmri_run_nv(run);
    xai_status st = XAI_OK;
    uint8_t *mask = file ? malloc((size_t)nv) : xai_fmri_model_mask(m, nv);
    if (file && mask)
        st = xai_fmri_mask_from_file(file, file_path, run, mask);
    else if (!mask && (mask = malloc((size_t)nv)) != NULL)
        xai_fmri_frac_mask(run->prep.mean, nv, frac > 0 ? frac : 0.3, mask); /* as older models did */
    if (!mask)
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    /* a mask image never adds voxels the model did not use (screening leaves their weights
     * untrained) */
    uint8_t *used = file && st == XAI_OK ? xai_fmri_model_mask(m, nv) : NULL;
    for (int64_t v = 0; st == XAI_OK && v < nv; v++)
        mask[v] = mask[v] && run->prep.mask[v] && (!used || used[v]);
    free(used);
    if (st != XAI_OK) {
        free(mask);
        mask = NULL;
    }
    *out = mask;
    return st;
}

void xai_fmri_stable_lrp(const xai_fmri_record *r, int composite_given, xai_explain_config *cfg)
{
    if (cfg->method != XAI_METHOD_LRP)
        return;
    cfg->init = XAI_INIT_LOGIT;
    cfg->bias_factor = 1.0f;
    if (!composite_given && r->dense)
        cfg->composite = "epsilon";
}

void xai_fmri_maps_free(xai_fmri_maps *m)
{
    free(m->sums);
    free(m->pred);
    free(m->target);
    free(m->logit);
    free(m->relsum);
    free(m->relinit);
    free(m->input);
    memset(m, 0, sizeof *m);
}

static xai_status maps_alloc(xai_fmri_maps *o, int ncls, int64_t nt, int64_t nv, int keep_input)
{
    memset(o, 0, sizeof *o);
    *o = (xai_fmri_maps){.ncls = ncls, .nt = nt, .nv = nv};
    o->sums = calloc((size_t)(ncls + 1) * (size_t)nv, sizeof *o->sums);
    o->pred = malloc((size_t)nt * sizeof *o->pred);
    o->target = malloc((size_t)nt * sizeof *o->target);
    o->logit = malloc((size_t)nt * (size_t)ncls * sizeof *o->logit);
    o->relsum = malloc((size_t)nt * sizeof *o->relsum);
    o->relinit = malloc((size_t)nt * sizeof *o->relinit);
    o->input = keep_input ? malloc(sizeof(float) * (size_t)(nt * nv)) : NULL;
    if (!o->sums || !o->pred || !o->target || !o->logit || !o->relsum || !o->relinit || (keep_input && !o->input)) {
        xai_fmri_maps_free(o);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    return XAI_OK;
}

double xai_fmri_place_map(const float *r, const uint8_t *emask, int64_t nv, float *dst, double *sum)
{
    double s = 0, outside = 0, l1 = 0;
    int64_t nin = 0;
    for (int64_t v = 0; v < nv; v++) {
        if (!emask[v] && isfinite(r[v]))
            outside += r[v];
        nin += emask[v] != 0;
    }
    /* inputs outside the mask are 0: what the rules put there is the bias share that bias
     * factor 1 spreads over every input (or the flat rule's spread); spread it over the
     * mask instead, so that nothing lands outside and the map still sums to its start */
    float add = nin ? (float)(outside / (double)nin) : 0.0f;
    for (int64_t v = 0; v < nv; v++) {
        dst[v] = emask[v] && isfinite(r[v]) ? r[v] + add : 0.0f;
        s += dst[v];
    }
    for (int64_t v = 0; v < nv; v++)
        l1 += fabs(dst[v]);
    *sum = s;
    return l1;
}

/* Record volume t (sweep index j of res) into the maps and class sums. */
static void account(xai_fmri_maps *o, const xai_explain_config *cfg, const xai_fmri_run *run, int64_t t, int64_t j,
                    const xai_explain_result *res, const float *dst, double l1)
{
    int K = o->ncls;
    int64_t nv = o->nv;
    o->relinit[t] = res->init_sum ? res->init_sum[j] : NAN;
    double ratio = o->relinit[t] != 0 ? o->relsum[t] / o->relinit[t] : INFINITY;
    if (cfg->method == XAI_METHOD_LRP && !(ratio >= 0.1 && ratio <= 10))
        o->nflag++;
    double w = l1 > 0 ? 1.0 / l1 : 0; /* class maps average relevance shares */
    int best = 0;
    for (int c = 0; c < K; c++) {
        o->logit[t * K + c] = res->logits[j * K + c];
        if (res->logits[j * K + c] > res->logits[j * K + best])
            best = c;
    }
    o->pred[t] = best;
    o->target[t] = res->target[j];
    int c = o->target[t];
    double *acc = o->sums + (size_t)K * (size_t)nv;
    for (int64_t v = 0; v < nv; v++)
        acc[v] += dst[v]; /* the run's mean: exactly the mean of the 4-D file */
    int spike = run->censored && run->censored[t];
    if (c >= 0 && c < K && !spike && (!run->labels || run->labels[t] == c)) {
        o->counts[c]++;
        double *sc = o->sums + (size_t)c * (size_t)nv;
        for (int64_t v = 0; v < nv; v++)
            sc[v] += dst[v] * w;
    }
    if (run->labels && run->labels[t] >= 0) {
        o->nlab++;
        o->ncorrect += best == run->labels[t];
    }
}

/* One sweep of nb volumes from t0: pre-process, explain, put the relevance over the input. */
static xai_status sweep(const xai_model *m, const xai_explain_config *cfg, xai_fmri_run *run, const uint8_t *emask,
                        int64_t t0, int64_t nb, float *xb, float *rb, xai_fmri_maps *o)
{
    int64_t nv = o->nv;
    for (int64_t j = 0; j < nb; j++)
        xai_fmri_run_volume(run, t0 + j, emask, xb + j * nv);
    if (o->input)
        memcpy(o->input + t0 * nv, xb, sizeof(float) * (size_t)(nb * nv));
    xai_explain_result res;
    memset(&res, 0, sizeof res);
    xai_status st = xai_explain(m, cfg, nb, xb, rb, &res);
    if (st != XAI_OK) {
        xai_explain_result_free(&res);
        return xai_error_prefix(st, "explain failed");
    }
    for (int64_t j = 0; j < nb; j++) {
        int64_t t = t0 + j;
        float *dst = run->img->data + (run->t0 + t) * nv;
        double l1 = xai_fmri_place_map(rb + j * nv, emask, nv, dst, &o->relsum[t]);
        account(o, cfg, run, t, j, &res, dst, l1);
    }
    xai_explain_result_free(&res);
    return XAI_OK;
}

xai_status xai_fmri_explain_run(const xai_model *m, const xai_explain_config *cfg, xai_fmri_run *run,
                                const uint8_t *emask, int ncls, int keep_input, xai_fmri_progress_fn progress,
                                void *ud, xai_fmri_maps *out)
{
    int64_t nv = xai_fmri_run_nv(run), nt = run->nt, B = cfg->batch > 0 ? cfg->batch : 1;
    xai_status st = maps_alloc(out, ncls, nt, nv, keep_input);
    if (st != XAI_OK)
        return st;
    float *xb = malloc((size_t)B * (size_t)nv * sizeof *xb), *rb = malloc((size_t)B * (size_t)nv * sizeof *rb);
    if (!xb || !rb)
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    else if (nt > 0) /* the workspaces for these sweeps, made once */
        st = xai_model_prepare(m, nt < B ? nt : B, cfg);
    for (int64_t t0 = 0; t0 < nt && st == XAI_OK; t0 += B) {
        int64_t nb = nt - t0 < B ? nt - t0 : B;
        st = sweep(m, cfg, run, emask, t0, nb, xb, rb, out);
        if (progress)
            progress(ud, t0 + nb, nt);
    }
    free(xb);
    free(rb);
    if (st != XAI_OK)
        xai_fmri_maps_free(out);
    return st;
}
