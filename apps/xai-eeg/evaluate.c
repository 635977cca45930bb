/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * evaluate.c - xai-eeg evaluate: the metrics of xai/eval.h on the program's own maps (the
 * epochs of each recording after the model's record, explained out of fold exactly as
 * explain does), against a ground truth given as channel names and seconds. Each epoch is
 * scored with the model that explained it (the fold that held its group out, or the model
 * for new data), so perturbation metrics test the map's own model.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eeg-app.h"
#include "xai/eval-write.h"
#include "xai/eval.h"
#include "xai/sidecar.h"
#include "xai/tsv.h"

/* every explained epoch of every recording */
typedef struct {
    int64_t n, numel;
    float *x, *rel;
    int *target, *fold, *rec, *epoch;
} pool;

static void pool_free(pool *pl)
{
    free(pl->x);
    free(pl->rel);
    free(pl->target);
    free(pl->fold);
    free(pl->rec);
    free(pl->epoch);
}

/* append the epochs that have a class to explain (not NO_TARGET) */
static int pool_add(pool *pl, const xai_dataset *ds, const xai_driver_explanation *ex, int rec)
{
    int64_t add = ex->n, m = pl->n + add, k = pl->numel = ex->numel;
    float *x = realloc(pl->x, (size_t)(m * k) * sizeof *x);
    pl->x = x ? x : pl->x;
    float *r = x ? realloc(pl->rel, (size_t)(m * k) * sizeof *r) : NULL;
    pl->rel = r ? r : pl->rel;
    int **iv[4] = {&pl->target, &pl->fold, &pl->rec, &pl->epoch};
    int ok = x && r;
    for (int a = 0; ok && a < 4; a++) {
        int *v = realloc(*iv[a], (size_t)m * sizeof *v);
        ok = v != NULL;
        *iv[a] = v ? v : *iv[a];
    }
    for (int64_t i = 0; ok && i < ex->n; i++) {
        if (ex->target[i] < 0)
            continue;
        memcpy(pl->x + pl->n * k, ds->x + i * k, (size_t)k * sizeof *x);
        memcpy(pl->rel + pl->n * k, ex->rel + i * k, (size_t)k * sizeof *r);
        pl->target[pl->n] = ex->target[i], pl->fold[pl->n] = ex->fold[i];
        pl->rec[pl->n] = rec, pl->epoch[pl->n] = (int)i;
        pl->n++;
    }
    return ok ? 0 : -1;
}

static int collect(xai_app *app, const opts *o, const xai_driver_set *set, const xai_eeg_prep *p,
                   const xai_driver_explain_options *eo, pool *pl)
{
    const char *kind = xai_card_get_string(xai_driver_set_card(set), "validation.group_kind");
    int per_epoch = kind && !strcmp(kind, "trial"), rc = XAI_EXIT_OK;
    for (int f = 0; rc == XAI_EXIT_OK && f < o->ninputs; f++) {
        xai_eeg_epochs ep = {0};
        xai_dataset ds = {0};
        xai_driver_explanation ex = {0};
        int miss = 0;
        char *group = eeg_group_of(o->inputs[f], per_epoch ? "recording" : kind ? kind : "subject", &miss);
        if (!group)
            rc = xai_app_fail(app, NULL, "out of memory");
        else if ((rc = eeg_load_epochs(app, p, o->inputs[f], &ep)) == XAI_EXIT_OK &&
                 (xai_eeg_epochs_dataset(p, &ep, group, per_epoch, &ds) != XAI_OK ||
                  xai_driver_explain(set, &ds, eo, &ex) != XAI_OK))
            rc = xai_app_fail(app, o->inputs[f], "%s", xai_last_error());
        if (rc == XAI_EXIT_OK && ex.n_in_sample)
            xai_app_log(app, 0, "warning: %s: the model was trained on this recording's %s: its scores are not "
                        "out of sample", o->inputs[f], kind ? kind : "group");
        if (rc == XAI_EXIT_OK && pool_add(pl, &ds, &ex, f) != 0)
            rc = xai_app_fail(app, NULL, "out of memory");
        free(group);
        xai_driver_explanation_free(&ex);
        xai_dataset_free(&ds);
        xai_eeg_epochs_free(&ep);
    }
    if (rc == XAI_EXIT_OK && pl->n == 0)
        rc = xai_app_fail(app, NULL, "no epoch has a class to explain");
    return rc;
}

/* The epochs one model explained, scored with that model; values scattered into vals[k][n]. */
static xai_status score_fold(const xai_model *m, const xai_eval_config *cfg, uint32_t set, const pool *pl,
                             const float *mask, int fold, double *vals)
{
    int64_t k = pl->numel, nk = 0;
    int64_t *idx = malloc((size_t)pl->n * sizeof *idx);
    float *x = malloc((size_t)(pl->n * k) * sizeof *x), *r = malloc((size_t)(pl->n * k) * sizeof *r);
    float *mk = malloc((size_t)(pl->n * k) * sizeof *mk);
    int *t = malloc((size_t)pl->n * sizeof *t);
    xai_status st = idx && x && r && mk && t ? XAI_OK : xai_error_set(XAI_ENOMEM, "out of memory");
    for (int64_t i = 0; st == XAI_OK && i < pl->n; i++)
        if (pl->fold[i] == fold) {
            memcpy(x + nk * k, pl->x + i * k, (size_t)k * sizeof *x);
            memcpy(r + nk * k, pl->rel + i * k, (size_t)k * sizeof *r);
            memcpy(mk + nk * k, mask, (size_t)k * sizeof *mk);
            t[nk] = pl->target[i];
            idx[nk++] = i;
        }
    xai_explain_config ec;
    xai_explain_config_init(&ec); /* unused: no metric that explains again is allowed here */
    xai_eval_scores sc = {0};
    if (st == XAI_OK && nk > 0 && (st = xai_eval_metrics(m, cfg, &ec, set, nk, x, r, mk, t, &sc)) == XAI_OK)
        for (int q = 0; q < XAI_METRIC_COUNT; q++)
            for (int64_t j = 0; sc.score[q].computed && j < nk; j++)
                vals[(size_t)q * (size_t)pl->n + (size_t)idx[j]] = sc.score[q].sample[j];
    xai_eval_scores_free(&sc);
    free(idx), free(x), free(r), free(mk), free(t);
    return st;
}

/* metric settings: ROAD/AOPC/faithfulness patches of one channel x 1/8 s, a quarter of them
 * removed in 16 steps (the evidence of an EEG epoch is in few channels and windows) */
static void eval_setup(const xai_eeg_prep *p, xai_eval_config *cfg)
{
    xai_eval_config_init(cfg);
    int64_t seg = (int64_t)lround(p->rate / 8);
    seg = seg < 1 ? 1 : seg > p->ntimes ? p->ntimes : seg;
    cfg->perturb.patch_ndim = 3;
    cfg->perturb.patch[0] = 1, cfg->perturb.patch[1] = 1, cfg->perturb.patch[2] = seg;
    int64_t npatch = (int64_t)p->nch * ((p->ntimes + seg - 1) / seg), per = npatch / 64;
    cfg->perturb.steps = 16;
    cfg->perturb.per_step = per < 1 ? 1 : per;
    if (cfg->perturb.steps * cfg->perturb.per_step > npatch)
        cfg->perturb.steps = (int)(npatch / cfg->perturb.per_step);
    cfg->perturb.road_axes = 1u << 2; /* neighbours along time */
}

static int score_all(xai_app *app, const xai_driver_set *set, const xai_eval_config *cfg, uint32_t metrics,
                     const pool *pl, const float *mask, double *vals)
{
    for (int fold = -1; fold < xai_driver_set_nfolds(set); fold++) {
        const xai_model *m = fold < 0 ? xai_driver_set_model(set) : xai_driver_set_fold_model(set, fold);
        if (m && score_fold(m, cfg, metrics, pl, mask, fold, vals) != XAI_OK)
            return xai_app_fail(app, NULL, "%s", xai_last_error());
    }
    return XAI_EXIT_OK;
}

/* The names of each epoch for the per-sample table: recording, epoch index, explained class,
 * model used (0: the model for new data); strings in @p buf ([n][3][24]) or borrowed. */
static void epoch_ids(const opts *o, const xai_eeg_prep *p, const pool *pl, char (*buf)[3][24], const char **v[4])
{
    for (int64_t i = 0; i < pl->n; i++) {
        snprintf(buf[i][0], sizeof buf[i][0], "%d", pl->epoch[i]);
        snprintf(buf[i][1], sizeof buf[i][1], "%d", pl->fold[i] + 1);
        v[0][i] = o->inputs[pl->rec[i]];
        v[1][i] = buf[i][0];
        v[2][i] = pl->target[i] >= 0 ? p->classes[pl->target[i]] : NULL;
        v[3][i] = buf[i][1];
    }
}

/* The metrics and per-epoch tables of xai/eval-write.h at @p sum and @p per, values pooled over
 * the fold models. */
static xai_status write_tables(const opts *o, const xai_eeg_prep *p, uint32_t metrics, const pool *pl, double *vals,
                               const char *sum, const char *per, const char *json)
{
    static const char *const names[] = {"recording", "epoch", "target", "fold"};
    const char **v[4] = {0};
    char(*buf)[3][24] = malloc(sizeof *buf * (size_t)(pl->n > 0 ? pl->n : 1));
    for (int c = 0; c < 4; c++)
        v[c] = malloc(sizeof(char *) * (size_t)(pl->n > 0 ? pl->n : 1));
    xai_status st = buf && v[0] && v[1] && v[2] && v[3] ? XAI_OK : xai_error_set(XAI_ENOMEM, "out of memory");
    xai_eval_scores sc = {.n = pl->n, .target = pl->target};
    for (int q = 0; q < XAI_METRIC_COUNT; q++) {
        sc.score[q].computed = (metrics >> q & 1u) != 0;
        sc.score[q].sample = vals + (size_t)q * (size_t)pl->n;
    }
    if (!st) {
        epoch_ids(o, p, pl, buf, v);
        xai_eval_scores_summarise(&sc);
        xai_evalout_ids ids = {4, names, (const char *const *const *)v, NULL};
        xai_evalout_method me = {xai_method_name(o->method), &sc};
        st = xai_evalout_tables(sum, per, &me, 1, &ids, json);
    }
    for (int c = 0; c < 4; c++)
        free(v[c]);
    free(buf);
    return st;
}

/* the sidecar both tables share: what was scored against what */
static char *eval_json(const opts *o, const xai_eval_config *cfg, int nregions)
{
    xai_sidecar *sc = NULL;
    char sha[65] = "", *text = NULL;
    xai_sha256_file(o->model, sha);
    xai_status st = xai_sidecar_new(&sc);
    const char *str[][2] = {{"Description", "Metrics of xai/eval.h on xai-eeg's own maps (each epoch's map "
                             "L1-normalised, explained out of fold as by explain) against the ground truth"},
                            {"Model", o->model}, {"ModelSHA256", sha}, {"Truth", o->truth},
                            {"TruthKind", o->truth_kind ? o->truth_kind : "planted"},
                            {"Method", xai_method_name(o->method)}, {"Metrics", o->metrics}};
    for (size_t i = 0; st == XAI_OK && i < sizeof str / sizeof *str; i++)
        st = xai_sidecar_set_string(sc, str[i][0], str[i][1]);
    double patch[3] = {(double)cfg->perturb.patch[0], (double)cfg->perturb.patch[1], (double)cfg->perturb.patch[2]};
    if (st == XAI_OK)
        st = xai_sidecar_set_number_array(sc, "Patch", patch, 3);
    if (st == XAI_OK)
        st = xai_sidecar_set_int(sc, "Steps", cfg->perturb.steps);
    if (st == XAI_OK)
        st = xai_sidecar_set_int(sc, "PerStep", cfg->perturb.per_step);
    if (st == XAI_OK)
        st = xai_sidecar_set_int(sc, "TruthRegions", nregions);
    if (st == XAI_OK)
        st = xai_sidecar_set_string_array(sc, "Sources", (const char *const *)o->inputs, (size_t)o->ninputs);
    if (st == XAI_OK)
        st = xai_sidecar_to_string(sc, &text);
    xai_sidecar_free(sc);
    return text;
}

static int write_outputs(xai_app *app, const opts *o, const xai_eeg_prep *p, const xai_eval_config *cfg,
                         uint32_t metrics, const pool *pl, double *vals, int nregions)
{
    char desc[32];
    snprintf(desc, sizeof desc, "%s", o->method == XAI_METHOD_LRP ? "lrp" : xai_method_name(o->method));
    for (char *c = desc; *c; c++)
        *c = *c == '-' ? 'x' : *c; /* BIDS labels are alphanumeric */
    char *sum = xai_app_strdup_printf("%s/desc-%s_metrics.tsv", o->output, desc);
    char *per = xai_app_strdup_printf("%s/desc-%s_samples.tsv", o->output, desc), *js = eval_json(o, cfg, nregions);
    int rc = sum && per && js ? XAI_EXIT_OK : xai_app_fail(app, NULL, "out of memory");
    if (rc == XAI_EXIT_OK && (xai_app_check_output(app, sum) != 0 || xai_app_check_output(app, per) != 0))
        rc = XAI_EXIT_USAGE;
    if (rc == XAI_EXIT_OK && xai_app_mkdirs(app, o->output) != 0)
        rc = XAI_EXIT_DATA;
    if (rc == XAI_EXIT_OK && write_tables(o, p, metrics, pl, vals, sum, per, js) != XAI_OK)
        rc = xai_app_fail(app, NULL, "%s", xai_last_error());
    if (rc == XAI_EXIT_OK)
        xai_app_log(app, 1, "%lld epochs scored -> %s", (long long)pl->n, sum);
    free(sum), free(per), free(js);
    return rc;
}

/* the metric set: the maps' own metrics only (robustness and randomisation explain again,
 * with settings the driver's stable start does not reproduce) */
static int parse_metrics(xai_app *app, const opts *o, uint32_t *set)
{
    if (xai_metric_parse_list(o->metrics, set) != XAI_OK)
        return xai_app_usage_error(app, "--metrics: %s", xai_last_error());
    static const xai_metric refused[] = {XAI_METRIC_MAX_SENSITIVITY, XAI_METRIC_AVG_SENSITIVITY, XAI_METRIC_MPRT};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        if (*set >> refused[i] & 1u)
            return xai_app_usage_error(app, "--metrics: %s explains again and is not available here; use "
                                       "explain --save-input and xai-evaluate", xai_metric_name(refused[i]));
    return XAI_EXIT_OK;
}

int eeg_run_evaluate(xai_app *app, opts *o)
{
    if (!o->model || o->ninputs < 1 || !o->output || !o->truth)
        return xai_app_usage_error(app, "evaluate: need --model M.onnx, --edf FILE..., --truth TRUTH.tsv, -o OUTDIR");
    if (!o->metrics)
        o->metrics = "localisation,complexity";
    uint32_t metrics = 0;
    int rc = parse_metrics(app, o, &metrics), nregions = 0;
    xai_driver_set *set = NULL;
    xai_eeg_prep p = {0};
    xai_driver_explain_options eo;
    pool pl = {0};
    float *mask = NULL;
    double *vals = NULL;
    xai_eval_config cfg;
    if (rc == XAI_EXIT_OK)
        rc = eeg_prepare_model(app, o, &set, &p, &eo);
    if (rc == XAI_EXIT_OK && !(mask = malloc((size_t)p.nch * (size_t)p.ntimes * sizeof *mask)))
        rc = xai_app_fail(app, NULL, "out of memory");
    if (rc == XAI_EXIT_OK && xai_eeg_truth_mask(&p, o->truth, o->truth_kind, mask, &nregions) != XAI_OK)
        rc = xai_app_fail(app, NULL, "%s", xai_last_error());
    if (rc == XAI_EXIT_OK)
        rc = collect(app, o, set, &p, &eo, &pl);
    if (rc == XAI_EXIT_OK && !(vals = malloc((size_t)XAI_METRIC_COUNT * (size_t)pl.n * sizeof *vals)))
        rc = xai_app_fail(app, NULL, "out of memory");
    for (size_t i = 0; vals && i < (size_t)XAI_METRIC_COUNT * (size_t)pl.n; i++)
        vals[i] = NAN;
    if (rc == XAI_EXIT_OK) {
        eval_setup(&p, &cfg);
        rc = score_all(app, set, &cfg, metrics, &pl, mask, vals);
    }
    if (rc == XAI_EXIT_OK)
        rc = write_outputs(app, o, &p, &cfg, metrics, &pl, vals, nregions);
    free(vals);
    free(mask);
    pool_free(&pl);
    xai_eeg_prep_free(&p);
    xai_driver_set_free(set);
    return rc;
}
