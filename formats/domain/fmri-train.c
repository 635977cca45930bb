/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri-train.c - xai-fmri's decoders: the architecture of a family on a run's grid, training
 * on labelled volumes with the pre-processing record stored in the model, held-out accuracy
 * per run and per block, and leave-one-run-out cross-validation. See xai/domain-fmri.h.
 * Refs: DeepLight (Thomas et al. 2019, doi:10.3389/fnins.2019.01321).
 */
#include "xai/domain-fmri.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai/validate.h"

/* The default: L2-regularised linear read-out of the masked volume (a logistic regression
 * trained by Adam), the model class of the MVPA baselines; it fits any grid, a single slice too. */
static const char *const arch_dense = "flatten dense(%d)";
static const char *const arch_cnn3d =
    "conv3d(8,k=3,p=1) relu maxpool(2) conv3d(16,k=3,p=1) relu maxpool(2) flatten dense(%d)";
static const char *const arch_deeplight =
    "timedist( conv2d(8,k=3,p=1) relu maxpool(2) conv2d(16,k=3,p=1) relu maxpool(2) flatten ) "
    "lstm(16,bidirectional,last) dense(%d)";

void xai_fmri_default_reduction(int64_t nvox, int64_t nlab, double *fwhm_mm, double *screen)
{
    int reduce = (double)nvox > XAI_FMRI_REDUCE_RATIO * (double)(nlab > 0 ? nlab : 1);
    *fwhm_mm = reduce ? 6.0 : 0.0;
    *screen = reduce ? 0.2 : 1.0;
}

/* The architecture for the family (or o->arch) on the runs' grid; *timedist for DeepLight. */
static xai_status pick_arch(const xai_fmri_train_opts *o, const xai_fmri_run *ref, int ncls, char *spec, size_t cap,
                            int *timedist)
{
    const char *fam = o->family ? o->family : "dense";
    const int64_t *sh = ref->img->shape;
    *timedist = o->arch ? strstr(o->arch, "timedist") != NULL : !strcmp(fam, "deeplight");
    if (o->arch) {
        snprintf(spec, cap, "%s", o->arch);
        return XAI_OK;
    }
    int64_t small = sh[1] < sh[2] ? sh[1] : sh[2];
    small = small < sh[3] ? small : sh[3];
    if (!strcmp(fam, "cnn3d") && small < 4)
        return xai_error_set(XAI_EINVAL, "%s: --family cnn3d needs at least 4 voxels along every axis (two 2x "
                             "poolings); the grid is %lldx%lldx%lld: use the default family dense", ref->path,
                             (long long)sh[3], (long long)sh[2], (long long)sh[1]);
    if (*timedist && (sh[2] < 4 || sh[3] < 4))
        return xai_error_set(XAI_EINVAL, "%s: --family deeplight needs slices of at least 4x4 voxels", ref->path);
    snprintf(spec, cap, !strcmp(fam, "cnn3d") ? arch_cnn3d : *timedist ? arch_deeplight : arch_dense, ncls);
    return XAI_OK;
}

/* The labelled volumes of the used runs, pre-processed and masked; valrun flags the last run. */
static xai_status gather(const xai_fmri_run *runs, int nruns, const int *use, const uint8_t *mask, float **x, int **y,
                         int64_t *n, unsigned char **valrun)
{
    int64_t nv = xai_fmri_run_nv(&runs[0]), k = 0, last = -1;
    *n = 0;
    for (int i = 0; i < nruns; i++)
        if (use[i]) {
            last = i;
            for (int64_t t = 0; t < runs[i].nt; t++)
                *n += runs[i].labels[t] >= 0;
        }
    if (*n < 2)
        return xai_error_set(XAI_EINVAL, "fewer than two labelled volumes to train on (check --events/--labels, "
                                         "--conditions and --lag)");
    *x = malloc((size_t)*n * (size_t)nv * sizeof **x);
    *y = malloc((size_t)*n * sizeof **y);
    *valrun = calloc((size_t)*n, 1);
    if (!*x || !*y || !*valrun)
        return xai_error_set(XAI_ENOMEM, "out of memory (%lld volumes)", (long long)*n);
    for (int i = 0; i < nruns; i++)
        if (use[i])
            for (int64_t t = 0; t < runs[i].nt; t++)
                if (runs[i].labels[t] >= 0) {
                    xai_fmri_run_volume(&runs[i], t, mask, *x + k * nv);
                    (*valrun)[k] = i == last; /* early stopping holds out a whole run, never volumes */
                    (*y)[k++] = runs[i].labels[t];
                }
    return XAI_OK;
}

/* The pre-processing record that explain applies identically. */
static void set_prep_metadata(const xai_fmri_train_opts *o, xai_model *m, const xai_fmri_run *ref, const char *fam,
                              int timedist, const uint8_t *mask)
{
    const xai_nifti *img = ref->img;
    json_t *pre = json_object();
    json_object_set_new(pre, "domain", json_string("fmri"));
    json_object_set_new(pre, "zscore", json_string("voxel-run"));
    json_object_set_new(pre, "detrend", json_string(o->detrend ? "linear" : "none"));
    json_object_set_new(pre, "mask", json_string(o->mask ? "file" : o->auto_frac > 0 ? "auto-fraction" : "auto-gap"));
    if (!o->mask && o->auto_frac > 0)
        json_object_set_new(pre, "auto_fraction", json_real(o->auto_frac));
    char *rle = xai_fmri_mask_encode(mask, xai_fmri_run_nv(ref));
    json_object_set_new(pre, "mask_voxels", rle ? json_loads(rle, 0, NULL) : json_null());
    free(rle);
    char orient[4];
    xai_fmri_orientation(&img->info, orient);
    json_object_set_new(pre, "orientation", json_string(orient));
    json_object_set_new(pre, "grid", json_pack("[III]", (json_int_t)img->shape[3], (json_int_t)img->shape[2],
                                               (json_int_t)img->shape[1]));
    json_object_set_new(pre, "voxel_size",
                        json_pack("[fff]", img->info.pixdim[1], img->info.pixdim[2], img->info.pixdim[3]));
    json_object_set_new(pre, "tr", json_real(img->info.tr_s));
    if (o->lag == XAI_FMRI_LAG_HRF)
        json_object_set_new(pre, "lag_rule", json_string("spm-hrf-0.5"));
    else
        json_object_set_new(pre, "lag_s", json_real(o->lag));
    json_object_set_new(pre, "smoothing_fwhm_mm", json_real(o->fwhm_mm));
    if (o->screen > 0 && o->screen < 1)
        json_object_set_new(pre, "screening", json_pack("{s:s,s:f}", "statistic", "anova-f", "share", o->screen));
    json_object_set_new(pre, "family", json_string(fam));
    json_object_set_new(pre, "layout", json_string(timedist ? "Z,1,Y,X" : "1,Z,Y,X"));
    char *pres = json_dumps(pre, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(pre);
    xai_model_set_metadata(m, "xai_preprocessing", pres);
    free(pres);
}

/* Classes, architecture and training provenance. */
static void set_model_metadata(const xai_fmri_train_opts *o, xai_model *m, const xai_fmri_classes *cls,
                               const char *spec, const xai_train_result *res)
{
    char *cj = xai_fmri_classes_to_json(cls);
    xai_model_set_metadata(m, "class_names", cj);
    free(cj);
    xai_model_set_metadata(m, "xai_arch", spec);
    json_t *prov = json_pack("{s:s,s:I,s:I,s:I,s:f,s:f,s:I,s:f,s:f,s:s}", "tool", o->tool ? o->tool : "xai-fmri",
                             "seed", (json_int_t)o->train.seed, "epochs_run", (json_int_t)res->epochs_run,
                             "kept_epoch", (json_int_t)res->best_epoch, "train_acc", res->kept_train_acc,
                             "final_train_loss", res->final_train_loss, "n_train", (json_int_t)res->n_train, "lr",
                             o->lr, "weight_decay", o->weight_decay, "optimizer", "adam");
    if (prov) {
        json_object_set_new(prov, "best_val_acc", isnan(res->best_val_acc) ? json_null() : json_real(res->best_val_acc));
        char *ps = json_dumps(prov, JSON_COMPACT | JSON_SORT_KEYS);
        xai_model_set_metadata(m, "xai_training", ps);
        free(ps);
        json_decref(prov);
    }
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* One-way ANOVA eta^2 (monotone in F for fixed n and classes) of voxel v over the n volumes. */
static double anova_eta2(const float *x, const int *y, int64_t n, int64_t nv, int64_t v, int ncls)
{
    double sum[XAI_FMRI_MAX_CLASSES] = {0}, tot = 0, sq = 0, between = 0;
    int64_t cnt[XAI_FMRI_MAX_CLASSES] = {0};
    for (int64_t k = 0; k < n; k++) {
        double a = x[k * nv + v];
        sum[y[k]] += a;
        cnt[y[k]]++;
        tot += a;
        sq += a * a;
    }
    double grand = tot / (double)n, ss = sq - (double)n * grand * grand;
    for (int c = 0; c < ncls; c++)
        if (cnt[c])
            between += (double)cnt[c] * (sum[c] / (double)cnt[c] - grand) * (sum[c] / (double)cnt[c] - grand);
    return ss > 0 ? between / ss : 0;
}

/* Univariate screening (as in nilearn's Decoder and the ANOVA + SVM pipelines of the MVPA
 * tutorials), on the training volumes only: keep the share @p keep of the mask's voxels with
 * the largest F; the others leave the mask and their inputs become 0. */
static xai_status screen_voxels(float *x, const int *y, int64_t n, int64_t nv, int ncls, double keep, uint8_t *mask)
{
    int64_t nin = 0, k = 0;
    for (int64_t v = 0; v < nv; v++)
        nin += mask[v] != 0;
    double *e = malloc((size_t)nv * sizeof *e), *sorted = malloc((size_t)(nin ? nin : 1) * sizeof *sorted);
    if (!e || !sorted) {
        free(e);
        free(sorted);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    for (int64_t v = 0; v < nv; v++)
        if (mask[v])
            sorted[k++] = e[v] = anova_eta2(x, y, n, nv, v, ncls);
    qsort(sorted, (size_t)nin, sizeof *sorted, cmp_desc);
    int64_t want = (int64_t)ceil(keep * (double)nin);
    double cut = nin ? sorted[(want < 1 ? 1 : want) - 1] : 0;
    for (int64_t v = 0; v < nv; v++)
        if (mask[v] && e[v] < cut) {
            mask[v] = 0;
            for (int64_t i = 0; i < n; i++)
                x[i * nv + v] = 0.0f;
        }
    free(e);
    free(sorted);
    return XAI_OK;
}

/* Build the model and train it on (x, y). */
static xai_status build_and_train(const xai_fmri_train_opts *o, const xai_fmri_run *ref, const xai_fmri_classes *cls,
                                  const char *spec, int timedist, int64_t n, const float *x, const int *y,
                                  const unsigned char *valrun, xai_model **m, xai_train_result *res)
{
    const int64_t *sh = ref->img->shape;
    int64_t shape[4] = {timedist ? sh[1] : 1, timedist ? 1 : sh[1], sh[2], sh[3]};
    xai_status st = xai_model_from_spec(spec, 4, shape, o->train.seed, m);
    if (st != XAI_OK)
        return xai_error_prefix(st, o->arch ? "--arch" : "the default architecture");
    if (xai_model_output_numel(*m) != cls->n)
        return xai_error_set(XAI_EINVAL, "the architecture has %lld outputs but there are %d classes",
                             (long long)xai_model_output_numel(*m), cls->n);
    xai_train_config cfg = o->train;
    cfg.val_mask = o->early_stop ? valrun : NULL;
    st = xai_train(*m, &cfg, n, x, y, res);
    return st == XAI_OK ? XAI_OK : xai_error_prefix(st, "training failed");
}

/* The event-timing check of the training runs into the model (xai_timing). */
static void timing_metadata(xai_model *m, const xai_fmri_timing *t)
{
    json_t *j = json_object(), *e = json_array();
    for (int s = 0; s < 2 * XAI_FMRI_TIMING_MAX_SHIFT + 1; s++)
        json_array_append_new(e, isfinite(t->eta2[s]) ? json_real(t->eta2[s]) : json_null());
    json_object_set_new(j, "best_shift_volumes", json_integer(t->best));
    json_object_set_new(j, "shifts", json_pack("[ii]", -XAI_FMRI_TIMING_MAX_SHIFT, XAI_FMRI_TIMING_MAX_SHIFT));
    json_object_set_new(j, "eta2", e);
    json_object_set_new(j, "warning", json_boolean(t->warn));
    if (t->warn) {
        char msg[512];
        xai_fmri_timing_text(t, msg, sizeof msg);
        json_object_set_new(j, "message", json_string(msg));
    }
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    if (s)
        xai_model_set_metadata(m, "xai_timing", s);
    free(s);
}

xai_status xai_fmri_train(const xai_fmri_train_opts *o, const xai_fmri_run *runs, int nruns, const int *use,
                          const xai_fmri_classes *cls, xai_model **out, xai_train_result *res)
{
    *out = NULL;
    int64_t nv = xai_fmri_run_nv(&runs[0]), n = 0;
    float *x = NULL;
    int *y = NULL, timedist = 0, nused = 0;
    unsigned char *valrun = NULL;
    uint8_t *mask = malloc((size_t)nv);
    xai_model *m = NULL;
    char spec[1024];
    xai_status st = !mask ? xai_error_set(XAI_ENOMEM, "out of memory")
                    : o->mask ? xai_fmri_mask_from_file(o->mask, o->mask_path, &runs[0], mask)
                              : xai_fmri_mask_from_runs(runs, nruns, use, o->auto_frac, mask);
    if (st == XAI_OK && o->timing) /* on the whole mask: screening would favour the stated timing */
        st = xai_fmri_timing_check(runs, nruns, use, mask, cls->n, o->timing);
    if (st == XAI_OK)
        st = gather(runs, nruns, use, mask, &x, &y, &n, &valrun);
    if (st == XAI_OK && o->screen > 0 && o->screen < 1)
        st = screen_voxels(x, y, n, nv, cls->n, o->screen, mask);
    if (st == XAI_OK)
        st = pick_arch(o, &runs[0], cls->n, spec, sizeof spec, &timedist);
    for (int i = 0; i < nruns; i++)
        nused += use[i] != 0;
    xai_fmri_train_opts eo = *o;
    eo.early_stop = o->early_stop && nused >= 2;
    if (st == XAI_OK)
        st = build_and_train(&eo, &runs[0], cls, spec, timedist, n, x, y, valrun, &m, res);
    if (st == XAI_OK && o->timing)
        timing_metadata(m, o->timing);
    if (st == XAI_OK) {
        set_prep_metadata(o, m, &runs[0], o->arch ? "custom" : o->family ? o->family : "dense", timedist, mask);
        set_model_metadata(o, m, cls, spec, res);
        *out = m;
        m = NULL;
    }
    xai_model_free(m);
    free(x);
    free(y);
    free(valrun);
    free(mask);
    return st;
}

uint8_t *xai_fmri_model_mask(const xai_model *m, int64_t nv)
{
    const char *pres = xai_model_metadata(m, "xai_preprocessing");
    json_t *pre = pres ? json_loads(pres, 0, NULL) : NULL, *mv = json_object_get(pre, "mask_voxels");
    char *txt = mv && json_is_array(mv) ? json_dumps(mv, JSON_COMPACT) : NULL;
    uint8_t *mask = txt ? malloc((size_t)nv) : NULL;
    if (mask && xai_fmri_mask_decode(txt, nv, mask) != XAI_OK) {
        free(mask);
        mask = NULL;
    }
    free(txt);
    json_decref(pre);
    return mask;
}

double xai_fmri_run_accuracy(const xai_model *m, const xai_fmri_run *r, int64_t *nlab, int *pred)
{
    int64_t nv = xai_fmri_run_nv(r), n = 0, ok = 0;
    xai_workspace *ws = NULL;
    float *x = malloc((size_t)nv * sizeof *x), logits[XAI_FMRI_MAX_CLASSES];
    uint8_t *mask = xai_fmri_model_mask(m, nv);
    int64_t nc = xai_model_output_numel(m);
    if (x && mask && nc <= XAI_FMRI_MAX_CLASSES && xai_workspace_new(m, 1, &ws) == XAI_OK) {
        for (int64_t t = 0; t < r->nt; t++) {
            if (pred)
                pred[t] = -1;
            if (r->labels[t] < 0)
                continue;
            xai_fmri_run_volume(r, t, mask, x);
            if (xai_model_forward(m, ws, 1, x, logits) != XAI_OK)
                break;
            int best = 0;
            for (int c = 1; c < nc; c++)
                if (logits[c] > logits[best])
                    best = c;
            if (pred)
                pred[t] = best;
            ok += best == r->labels[t];
            n++;
        }
    }
    xai_workspace_free(ws);
    free(x);
    free(mask);
    *nlab = n;
    return n ? (double)ok / (double)n : NAN;
}

int64_t xai_fmri_run_blocks(const xai_fmri_run *r, const int *pred, int *bt, int *bp, int ncls)
{
    int64_t nb = 0;
    for (int64_t t = 0; t < r->nt;) {
        if (r->labels[t] < 0) {
            t++;
            continue;
        }
        int64_t u = t, votes[XAI_FMRI_MAX_CLASSES] = {0};
        for (; u < r->nt && r->labels[u] == r->labels[t]; u++)
            if (pred[u] >= 0 && pred[u] < ncls)
                votes[pred[u]]++;
        int best = 0;
        for (int c = 1; c < ncls; c++)
            if (votes[c] > votes[best])
                best = c;
        bt[nb] = r->labels[t];
        bp[nb++] = best;
        t = u;
    }
    return nb;
}

void xai_fmri_cv_free(xai_fmri_cv *cv)
{
    free(cv->acc);
    free(cv->nlab);
    free(cv->kept_epoch);
    free(cv->train_acc);
    memset(cv, 0, sizeof *cv);
}

/* Train without run h and score run h; its blocks are appended to bt/bp. */
static xai_status cv_fold(const xai_fmri_train_opts *o, const xai_fmri_run *runs, int nr, int h, int *use,
                          const xai_fmri_classes *cls, xai_fmri_cv *cv, int *pred, int *bt, int *bp)
{
    for (int i = 0; i < nr; i++)
        use[i] = i != h;
    xai_model *m = NULL;
    xai_train_result res;
    xai_status st = xai_fmri_train(o, runs, nr, use, cls, &m, &res);
    if (st == XAI_OK) {
        cv->acc[h] = xai_fmri_run_accuracy(m, &runs[h], &cv->nlab[h], pred);
        cv->kept_epoch[h] = res.best_epoch;
        cv->train_acc[h] = res.kept_train_acc;
        cv->nblocks += xai_fmri_run_blocks(&runs[h], pred, bt + cv->nblocks, bp + cv->nblocks, cls->n);
    }
    xai_model_free(m);
    return st;
}

xai_status xai_fmri_cross_validate(const xai_fmri_train_opts *o, const xai_fmri_run *runs, int nr,
                                   const xai_fmri_classes *cls, xai_fmri_cv *cv)
{
    memset(cv, 0, sizeof *cv);
    cv->nruns = nr;
    int64_t ntot = 0;
    for (int i = 0; i < nr; i++)
        ntot += runs[i].nt;
    int *use = calloc((size_t)nr, sizeof *use), *pred = malloc((size_t)ntot * sizeof *pred),
        *bt = malloc((size_t)ntot * sizeof *bt), *bp = malloc((size_t)ntot * sizeof *bp);
    cv->acc = calloc((size_t)nr, sizeof *cv->acc);
    cv->nlab = calloc((size_t)nr, sizeof *cv->nlab);
    cv->kept_epoch = calloc((size_t)nr, sizeof *cv->kept_epoch);
    cv->train_acc = calloc((size_t)nr, sizeof *cv->train_acc);
    xai_status st = !use || !pred || !bt || !bp || !cv->acc || !cv->nlab || !cv->kept_epoch || !cv->train_acc
                        ? xai_error_set(XAI_ENOMEM, "out of memory") : XAI_OK;
    xai_fmri_train_opts q = *o;
    q.train.progress = NULL; /* the folds train quietly */
    q.timing = NULL;
    for (int h = 0; h < nr && st == XAI_OK; h++)
        st = cv_fold(&q, runs, nr, h, use, cls, cv, pred, bt, bp);
    xai_heldout hb;
    memset(&hb, 0, sizeof hb);
    if (st == XAI_OK)
        st = xai_heldout_stats(bt, bp, cv->nblocks, cls->n, &hb);
    if (st == XAI_OK) {
        xai_mean_sd(cv->acc, nr, &cv->mean, &cv->sd);
        cv->chance = 1.0 / cls->n;
        cv->block_acc = hb.accuracy;
        cv->above_chance = hb.ci_low > hb.chance;
        cv->p_value = hb.p_value;
    }
    xai_heldout_free(&hb);
    free(use);
    free(pred);
    free(bt);
    free(bp);
    if (st != XAI_OK)
        xai_fmri_cv_free(cv);
    return st;
}
