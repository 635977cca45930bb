/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri-train.c - xai-fmri's decoders: the architecture of a family on a run's grid, the
 * labelled volumes of runs as a driver dataset, the per-model step the driver fits on each
 * model's training runs (mask, ANOVA screening, the pre-processing record stored in the
 * model), one model trained on given runs, and held-out accuracy per run and per block. The
 * leave-one-run-out cross-validation through the driver is in fmri-cv.c. See xai/domain-fmri.h.
 * Refs: DeepLight (Thomas et al. 2019, doi:10.3389/fnins.2019.01321).
 */
#include "fmri-int.h"

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

void xai_fmri_default_reduction(int64_t nvox, int64_t nlab, int samples, double *fwhm_mm, double *screen)
{
    double per = XAI_FMRI_REDUCE_RATIO * (double)(nlab > 0 ? nlab : 1);
    int reduce = (double)nvox > per, cap = samples != XAI_FMRI_SAMPLES_VOLUMES && per < 0.2 * (double)nvox;
    *fwhm_mm = reduce ? 6.0 : 0.0;
    *screen = !reduce ? 1.0 : cap ? per / (double)nvox : 0.2;
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

/* The screening's statistic and share; when the share was chosen, how and among which. */
static json_t *screening_record(const xai_fmri_train_opts *o, double screen)
{
    json_t *j = json_pack("{s:s,s:f}", "statistic", "anova-f", "share", screen);
    if (o->screen_select) {
        json_t *c = json_array();
        for (int i = 0; i < XAI_FMRI_SCREEN_CANDIDATES; i++)
            json_array_append_new(c, json_real(o->screen / (double)(1 << i)));
        json_object_set_new(j, "candidates", c);
        json_object_set_new(j, "selection", json_string("inner grouped cross-validation on the training samples "
                                                        "(runs, or thirds of a single run): ridge, balanced "
                                                        "accuracy, ties to the smaller share"));
    }
    return j;
}

/* The pre-processing record that explain applies identically (JSON text, malloc'ed; NULL: out of
 * memory): the model's xai_preprocessing metadata and its card's preprocessing. */
static char *prep_text(const xai_fmri_train_opts *o, const xai_fmri_run *ref, const char *fam, int timedist,
                       const uint8_t *mask, double screen)
{
    const xai_nifti *img = ref->img;
    json_t *pre = json_object();
    json_object_set_new(pre, "domain", json_string("fmri"));
    json_object_set_new(pre, "zscore", json_string("voxel-run"));
    json_object_set_new(pre, "detrend", json_string(o->detrend ? "linear" : "none"));
    if (o->samples != XAI_FMRI_SAMPLES_VOLUMES) /* older readers see no key: volumes */
        json_object_set_new(pre, "samples", json_string(xai_fmri_samples_name(o->samples)));
    json_object_set_new(pre, "motion_censoring", json_pack("{s:s,s:f,s:f}", "rule", "rms-difference-from-neighbours",
                                                           "robust_z", XAI_FMRI_SPIKE_Z, "floor_of_mean_image_rms",
                                                           XAI_FMRI_SPIKE_FLOOR));
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
    if (screen > 0 && screen < 1)
        json_object_set_new(pre, "screening", screening_record(o, screen));
    json_object_set_new(pre, "family", json_string(fam));
    json_object_set_new(pre, "layout", json_string(timedist ? "Z,1,Y,X" : "1,Z,Y,X"));
    char *pres = json_dumps(pre, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(pre);
    return pres;
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
    json_object_set_new(j, "time_class_correlation", json_real(t->time_r));
    json_object_set_new(j, "confounded", json_boolean(t->confounded));
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

/* The input mask of a model trained on the runs with use[i]: the given one or the automatic one. */
static xai_status training_mask(const xai_fmri_train_opts *o, const xai_fmri_run *runs, int nruns, const int *use,
                                uint8_t *mask)
{
    return o->mask ? xai_fmri_mask_from_file(o->mask, o->mask_path, &runs[0], mask)
                   : xai_fmri_mask_from_runs(runs, nruns, use, o->auto_frac, mask);
}

xai_status xai_fmri_timing_record(const xai_fmri_train_opts *o, const xai_fmri_run *runs, int nruns, const int *use,
                                  int ncls, xai_model *m)
{
    uint8_t *mask = malloc((size_t)xai_fmri_run_nv(&runs[0]));
    xai_status st = mask ? training_mask(o, runs, nruns, use, mask) : xai_error_set(XAI_ENOMEM, "out of memory");
    if (st == XAI_OK) /* on the whole mask: screening would favour the stated timing */
        st = xai_fmri_timing_check(runs, nruns, use, mask, ncls, o->timing);
    if (st == XAI_OK && m)
        timing_metadata(m, o->timing);
    free(mask);
    return st;
}

void fmri_data_free(fmri_data *fd)
{
    for (int g = 0; fd->d.group_names && g < fd->d.ngroups; g++)
        free(fd->d.group_names[g]);
    free(fd->d.group_names);
    free(fd->d.x);
    free(fd->d.y);
    free(fd->d.group);
    free(fd->run_of);
    free(fd->group_run);
    memset(fd, 0, sizeof *fd);
}

/* Count the labelled volumes of the used runs and give each run with any a group. */
static xai_status data_count(const xai_fmri_run *runs, int nruns, const int *use, fmri_data *fd)
{
    fd->group_run = malloc(sizeof(int) * (size_t)nruns);
    fd->d.group_names = calloc((size_t)nruns, sizeof(char *));
    char **names = calloc((size_t)nruns, sizeof *names);
    xai_status st = fd->group_run && fd->d.group_names && names ? fmri_run_names(runs, nruns, names)
                                                                : xai_error_set(XAI_ENOMEM, "out of memory");
    for (int i = 0; st == XAI_OK && i < nruns; i++) {
        int64_t k = 0;
        for (int64_t t = 0; use[i] && runs[i].labels && t < runs[i].nt; t++)
            k += runs[i].labels[t] >= 0;
        if (!k)
            continue;
        fd->d.n += k;
        fd->group_run[fd->d.ngroups] = i;
        fd->d.group_names[fd->d.ngroups++] = names[i];
        names[i] = NULL;
    }
    for (int i = 0; names && i < nruns; i++)
        free(names[i]);
    free(names);
    if (st != XAI_OK)
        return st;
    if (fd->d.n < 2)
        return xai_error_set(XAI_EINVAL, "fewer than two labelled volumes to train on (check --events/--labels, "
                                         "--conditions and --lag)");
    return XAI_OK;
}

xai_status fmri_data_make(const xai_fmri_run *runs, int nruns, const int *use, const xai_fmri_classes *cls,
                          int timedist, fmri_data *fd)
{
    memset(fd, 0, sizeof *fd);
    const int64_t *sh = runs[0].img->shape;
    int64_t nv = xai_fmri_run_nv(&runs[0]), k = 0;
    xai_status st = data_count(runs, nruns, use, fd);
    xai_dataset *d = &fd->d;
    d->ndim = 4;
    d->shape[0] = timedist ? sh[1] : 1, d->shape[1] = timedist ? 1 : sh[1], d->shape[2] = sh[2], d->shape[3] = sh[3];
    d->nclasses = cls->n;
    d->class_names = (char **)cls->name;
    d->group_kind = (char *)"run";
    uint8_t *all = st ? NULL : malloc((size_t)nv); /* every voxel: the mask is each model's prep step */
    if (!st) {
        d->x = malloc(sizeof(float) * (size_t)(d->n * nv));
        d->y = malloc(sizeof(int) * (size_t)d->n);
        d->group = malloc(sizeof(int) * (size_t)d->n);
        fd->run_of = malloc(sizeof(int) * (size_t)d->n);
        if (!all || !d->x || !d->y || !d->group || !fd->run_of)
            st = xai_error_set(XAI_ENOMEM, "out of memory (%lld volumes)", (long long)d->n);
    }
    if (all)
        memset(all, 1, (size_t)nv);
    for (int g = 0; !st && g < d->ngroups; g++) {
        const xai_fmri_run *r = &runs[fd->group_run[g]];
        for (int64_t t = 0; t < r->nt; t++)
            if (r->labels[t] >= 0) {
                xai_fmri_run_volume(r, t, all, d->x + k * nv);
                d->y[k] = r->labels[t];
                d->group[k] = g;
                fd->run_of[k++] = fd->group_run[g];
            }
    }
    free(all);
    return st;
}

/* ---- the per-model step of the driver: the mask of the training runs, then the screening ---- */

static void mask_apply(const uint8_t *mask, int64_t nv, float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        for (int64_t v = 0; v < nv; v++)
            if (!mask[v])
                x[i * nv + v] = 0.0f;
}

/* What the step fitted for one model: its training runs and its input mask. */
typedef struct {
    int *use;
    uint8_t *mask;
    double screen; /* the share of the mask the screening kept (0 or 1: none) */
} prep_state;

static void prep_free(void *ud, void *state)
{
    (void)ud;
    prep_state *s = state;
    if (s) {
        free(s->use);
        free(s->mask);
    }
    free(s);
}

/* The screening of the model's training samples; with o->screen_select its share by an inner
 * grouped cross-validation on them. */
static xai_status prep_screen(const fmri_prep *p, const int64_t *idx, int64_t n, float *x, const int *y,
                              prep_state *s)
{
    int64_t nv = xai_fmri_run_nv(&p->runs[0]);
    s->screen = p->o->screen;
    if (!(s->screen > 0 && s->screen < 1))
        return XAI_OK;
    xai_status st = XAI_OK;
    if (p->o->screen_select) {
        int *run = malloc((size_t)(n ? n : 1) * sizeof *run);
        if (!run)
            return xai_error_set(XAI_ENOMEM, "out of memory");
        for (int64_t i = 0; i < n; i++)
            run[i] = p->run_of[idx ? idx[i] : i];
        st = fmri_screen_select(x, y, run, n, nv, p->cls->n, s->mask, p->o->screen, p->o->train.seed, &s->screen);
        free(run);
    }
    return st ? st : fmri_screen(x, y, n, nv, p->cls->n, s->screen, s->mask);
}

static xai_status prep_fit(void *ud, const int64_t *idx, int64_t n, float *x, const int *y, void **state)
{
    fmri_prep *p = ud;
    int64_t nv = xai_fmri_run_nv(&p->runs[0]);
    prep_state *s = calloc(1, sizeof *s);
    if (s) {
        s->mask = malloc((size_t)nv);
        s->use = calloc((size_t)p->nruns, sizeof *s->use);
    }
    xai_status st = s && s->mask && s->use ? XAI_OK : xai_error_set(XAI_ENOMEM, "out of memory");
    for (int64_t i = 0; !st && i < n; i++)
        s->use[p->run_of[idx ? idx[i] : i]] = 1;
    if (!st)
        st = training_mask(p->o, p->runs, p->nruns, s->use, s->mask);
    if (!st)
        mask_apply(s->mask, nv, x, n);
    if (!st)
        st = prep_screen(p, idx, n, x, y, s);
    if (st) {
        prep_free(ud, s);
        s = NULL;
    }
    *state = s;
    return st;
}

static xai_status prep_apply(void *ud, const void *state, float *x, int64_t n)
{
    const fmri_prep *p = ud;
    mask_apply(((const prep_state *)state)->mask, xai_fmri_run_nv(&p->runs[0]), x, n);
    return XAI_OK;
}

static const char *prep_family(const xai_fmri_train_opts *o)
{
    return o->arch ? "custom" : o->family ? o->family : "dense";
}

/* The card's preprocessing of a model of the driver: the record its metadata holds, so that a
 * card read alone (MODEL.json) says how to reproduce the inputs, the screening included. */
static xai_status prep_card_record(void *ud, const void *state, char **json)
{
    const fmri_prep *p = ud;
    const prep_state *s = state;
    *json = prep_text(p->o, &p->runs[0], prep_family(p->o), p->timedist, s->mask, s->screen);
    return *json ? XAI_OK : xai_error_set(XAI_ENOMEM, "out of memory");
}

/* xai-fmri's metadata: the event-timing check of the model's training runs (with o->timing), the
 * pre-processing record with its mask, classes, architecture and training. */
static xai_status prep_record(void *ud, const void *state, xai_model *m, const xai_train_result *res)
{
    fmri_prep *p = ud;
    const xai_fmri_train_opts *o = p->o;
    const prep_state *s = state;
    xai_status st = o->timing ? xai_fmri_timing_record(o, p->runs, p->nruns, s->use, p->cls->n, m) : XAI_OK;
    if (st != XAI_OK)
        return st;
    char *pres = prep_text(o, &p->runs[0], prep_family(o), p->timedist, s->mask, s->screen);
    if (!pres)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    xai_model_set_metadata(m, "xai_preprocessing", pres);
    free(pres);
    p->last_screen = s->screen;
    set_model_metadata(o, m, p->cls, p->spec, res);
    p->last = *res;
    return XAI_OK;
}

xai_status fmri_prep_init(fmri_prep *p, const xai_fmri_train_opts *o, const xai_fmri_run *runs, int nruns,
                          const xai_fmri_classes *cls, xai_driver_prep *hooks)
{
    memset(p, 0, sizeof *p);
    p->o = o, p->runs = runs, p->nruns = nruns, p->cls = cls;
    *hooks = (xai_driver_prep){prep_fit, prep_apply, prep_record, prep_free, p, prep_card_record, "preprocessing"};
    return pick_arch(o, &runs[0], cls->n, p->spec, sizeof p->spec, &p->timedist);
}

/* Build the model of the spec and train it on the prepared volumes (early stopping on the last run). */
static xai_status build_and_train(const fmri_prep *p, const fmri_data *fd, const float *x, xai_model **m,
                                  xai_train_result *res)
{
    const xai_fmri_train_opts *o = p->o;
    xai_status st = xai_model_from_spec(p->spec, fd->d.ndim, fd->d.shape, o->train.seed, m);
    if (st != XAI_OK)
        return xai_error_prefix(st, o->arch ? "--arch" : "the default architecture");
    if (xai_model_output_numel(*m) != p->cls->n)
        return xai_error_set(XAI_EINVAL, "the architecture has %lld outputs but there are %d classes",
                             (long long)xai_model_output_numel(*m), p->cls->n);
    unsigned char *valrun = calloc((size_t)fd->d.n, 1);
    if (!valrun)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    int last = fd->group_run[fd->d.ngroups - 1];
    for (int64_t k = 0; k < fd->d.n; k++)
        valrun[k] = fd->run_of[k] == last; /* early stopping holds out a whole run, never volumes */
    xai_train_config cfg = o->train;
    cfg.val_mask = o->early_stop && fd->d.ngroups >= 2 ? valrun : NULL;
    st = xai_train(*m, &cfg, fd->d.n, x, fd->d.y, res);
    free(valrun);
    return st == XAI_OK ? XAI_OK : xai_error_prefix(st, "training failed");
}

/* The runs @p m was trained on, by name, in its card (extra.driver.trained_groups, as the driver
 * records them), so that explain can tell a training run from new data; and the event-timing
 * check of those runs (extra.event_timing), so that the card, and the sidecar made from it,
 * says when the runs' classes follow the time course. */
static xai_status record_trained(xai_model *m, const fmri_data *fd)
{
    json_t *names = json_array(), *drv = json_object();
    for (int g = 0; names && g < fd->d.ngroups; g++)
        json_array_append_new(names, json_string(fd->d.group_names[g]));
    char *text = NULL;
    if (drv && names && !json_object_set(drv, "trained_groups", names))
        text = json_dumps(drv, JSON_COMPACT);
    json_decref(names);
    json_decref(drv);
    xai_card *c = NULL;
    xai_status st = !text ? xai_error_set(XAI_ENOMEM, "out of memory") : xai_card_from_model(m, &c);
    if (st == XAI_OK)
        st = xai_card_set_json(c, "extra.driver", text);
    const char *timing = xai_model_metadata(m, "xai_timing");
    if (st == XAI_OK && timing)
        st = xai_card_set_json(c, "extra.event_timing", timing);
    if (st == XAI_OK)
        st = xai_card_apply(m, c);
    xai_card_free(c);
    free(text);
    return st;
}

xai_status xai_fmri_train(const xai_fmri_train_opts *o, const xai_fmri_run *runs, int nruns, const int *use,
                          const xai_fmri_classes *cls, xai_model **out, xai_train_result *res)
{
    *out = NULL;
    fmri_prep p;
    xai_driver_prep hooks;
    fmri_data fd = {0};
    xai_model *m = NULL;
    void *state = NULL;
    xai_status st = fmri_prep_init(&p, o, runs, nruns, cls, &hooks);
    if (st == XAI_OK)
        st = fmri_data_make(runs, nruns, use, cls, p.timedist, &fd);
    p.run_of = fd.run_of;
    if (st == XAI_OK)
        st = prep_fit(&p, NULL, fd.d.n, fd.d.x, fd.d.y, &state);
    if (st == XAI_OK)
        st = build_and_train(&p, &fd, fd.d.x, &m, res);
    if (st == XAI_OK)
        st = prep_record(&p, state, m, res);
    if (st == XAI_OK)
        st = record_trained(m, &fd);
    if (st == XAI_OK) {
        *out = m;
        m = NULL;
    }
    xai_model_free(m);
    prep_free(&p, state);
    fmri_data_free(&fd);
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
