/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * prune-run.c - the pruning sweep of xai-prune: for every criterion and seed, score the units
 * on a draw of reference samples, prune each rate of the schedule (one shot from the original
 * model, or step by step with fine-tuning in between), measure the held-out loss, accuracy,
 * parameters and FLOPs; then the tables, the chart and the saved models.
 */
#include <gsl/gsl_statistics_double.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app-driver.h"
#include "prune-run.h"
#include "xai/figure.h"
#include "xai/npy.h"
#include "xai/tsv.h"

#define MAX_RATES 100

typedef struct {
    xai_npy x;
    int64_t n;
    int *lab;
} sample_set;

typedef struct {
    int crit, seed;
    double rate;
    int64_t pruned, params, flops;
    double loss, acc;
} row;

typedef struct {
    const prune_opts *o;
    xai_model *m0;
    xai_prune_plan *plan0;
    sample_set data, test;
    double rates[MAX_RATES + 1]; /* rates[0] = 0: the unpruned model */
    int nrates;
    row *rows;
    int nrows;
    void *saved[XAI_PRUNE_COUNT];
    size_t saved_len[XAI_PRUNE_COUNT];
} sweep;

/* ---- inputs ---------------------------------------------------------------------------- */

static int load_set(const char *xp, const char *yp, const xai_model *m, sample_set *s)
{
    int64_t nc = xai_model_output_numel(m);
    if (xai_npy_load(xp, &s->x) != XAI_OK)
        return xai_app_fail(&app, NULL, "%s", xai_last_error());
    if ((s->n = xai_model_samples(m, s->x.ndim, s->x.shape)) < 1)
        return xai_app_fail(&app, xp, "the shape does not match the model's input (or N x that)");
    if (xai_npy_load_labels(yp, s->n, 0, nc - 1, &s->lab) != XAI_OK)
        return xai_app_fail(&app, NULL, "%s", xai_last_error());
    return 0;
}

static void free_set(sample_set *s)
{
    xai_npy_free(&s->x);
    free(s->lab);
}

/* The seed's shuffle of 0..n-1 (xorshift, Fisher-Yates): the same draw on every machine. */
static void shuffle(int64_t *idx, int64_t n, uint64_t seed)
{
    uint64_t r = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (int64_t i = 0; i < n; i++)
        idx[i] = i;
    for (int64_t i = 0; i + 1 < n; i++) {
        r ^= r >> 12, r ^= r << 25, r ^= r >> 27;
        int64_t j = i + (int64_t)((r * 0x2545F4914F6CDD1DULL >> 11) % (uint64_t)(n - i));
        int64_t t = idx[i];
        idx[i] = idx[j], idx[j] = t;
    }
}

/* The first indices of the shuffle: k of them (all when k is 0 or >= n), or, with @p per_class,
   up to per_class of each class (Yeom et al.'s reference sets of a few samples per class). */
static int64_t pick(const sample_set *s, int64_t *idx, int k, int per_class, int nclass)
{
    if (per_class <= 0)
        return k <= 0 || k >= s->n ? s->n : k;
    int64_t m = 0, *count = calloc((size_t)nclass, sizeof *count);
    if (!count)
        return -1;
    for (int64_t i = 0; i < s->n; i++)
        if (count[s->lab[idx[i]]]++ < per_class)
            idx[m++] = idx[i];
    free(count);
    return m;
}

/* A draw of reference samples (pick()), in file order. */
static int draw_refs(const sample_set *s, int64_t nin, const prune_opts *o, int nclass, uint64_t seed, float **x,
                     int **y, int64_t *n)
{
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)s->n), m = -1;
    if (idx) {
        shuffle(idx, s->n, seed);
        m = pick(s, idx, o->ref_size, o->ref_per_class, nclass);
    }
    *x = m > 0 ? malloc(sizeof(float) * (size_t)(m * nin)) : NULL;
    *y = m > 0 ? malloc(sizeof(int) * (size_t)m) : NULL;
    if (!*x || !*y) {
        free(idx);
        return xai_app_fail(&app, NULL, "out of memory");
    }
    for (int64_t a = 1; a < m; a++) /* file order */
        for (int64_t b = a; b > 0 && idx[b - 1] > idx[b]; b--) {
            int64_t t = idx[b];
            idx[b] = idx[b - 1], idx[b - 1] = t;
        }
    for (int64_t i = 0; i < m; i++) {
        memcpy(*x + i * nin, s->x.data + idx[i] * nin, sizeof(float) * (size_t)nin);
        (*y)[i] = s->lab[idx[i]];
    }
    *n = m;
    free(idx);
    return 0;
}

/* ---- the sweep --------------------------------------------------------------------------- */

static int add_row(sweep *s, int crit, int seed, double rate, int64_t pruned, const xai_model *m)
{
    row *r = &s->rows[s->nrows];
    *r = (row){crit, seed, rate, pruned, 0, 0, NAN, NAN};
    xai_model_cost(m, &r->params, &r->flops);
    if (xai_evaluate_loss(m, s->test.n, s->test.x.data, s->test.lab, NULL, &r->loss, &r->acc) != XAI_OK)
        return xai_app_fail(&app, s->o->test, "%s", xai_last_error());
    s->nrows++;
    return 0;
}

/* The model with the units @p keep does not keep removed; NULL with the reason printed.
   The bytes are kept for --save when @p save is not NULL. */
static xai_model *pruned_model(const xai_prune_plan *p, const unsigned char *keep, void **save, size_t *save_len)
{
    void *b = NULL;
    size_t len = 0;
    xai_model *m = NULL;
    if (xai_prune_write(p, keep, 1, &b, &len) != XAI_OK ||
        xai_model_load_onnx_mem(b, len, "pruned model", NULL, &m) != XAI_OK)
        xai_app_fail(&app, NULL, "%s", xai_last_error());
    if (m && save) {
        free(*save);
        *save = b, *save_len = len;
    } else {
        free(b);
    }
    return m;
}

static xai_explain_config lrp_config(const prune_opts *o)
{
    xai_explain_config c;
    xai_explain_config_init(&c);
    c.composite = o->composite;
    c.rules = o->rules && *o->rules ? o->rules : NULL;
    c.bn = XAI_BN_PASS; /* Yeom et al.'s reference code passes relevance through batch norm */
    return c;
}

/* the per-layer normalisation of global ranking for criterion ci: --norm, or the paper's */
static xai_prune_norm norm_of(const prune_opts *o, int ci)
{
    return o->norm >= 0 ? (xai_prune_norm)o->norm : xai_prune_criterion_norm(o->crit[ci]);
}

static int is_save_rate(const prune_opts *o, double rate, int seed)
{
    return seed == 0 && o->save_rate > 0 && fabs(rate - o->save_rate) < 1e-9;
}

/* One shot: every rate pruned from the original model by the same scores. */
static int one_shot(sweep *s, int ci, int seed, const float *rx, const int *ry, int64_t nr)
{
    const prune_opts *o = s->o;
    int64_t total = xai_prune_total_units(s->plan0), np;
    double *sc = malloc(sizeof(double) * (size_t)total);
    unsigned char *keep = malloc((size_t)total);
    xai_explain_config lc = lrp_config(o);
    int rc = !sc || !keep ? xai_app_fail(&app, NULL, "out of memory") : 0;
    if (!rc && xai_prune_score(s->plan0, s->m0, o->crit[ci], &lc, nr, rx, ry, sc) != XAI_OK)
        rc = xai_app_fail(&app, o->model, "%s", xai_last_error());
    for (int k = 1; !rc && k < s->nrates; k++) {
        int save = is_save_rate(o, s->rates[k], seed);
        xai_model *pm = NULL;
        if (xai_prune_select_norm(s->plan0, sc, s->rates[k], o->global, norm_of(o, ci), keep, &np) != XAI_OK ||
            !(pm = pruned_model(s->plan0, keep, save ? &s->saved[ci] : NULL, &s->saved_len[ci])))
            rc = pm ? 1 : xai_app_fail(&app, o->model, "%s", xai_last_error());
        if (!rc)
            rc = add_row(s, ci, seed, s->rates[k], np, pm);
        xai_model_free(pm);
    }
    free(sc);
    free(keep);
    return rc;
}

/* Fine-tune @p m on all of --data for --fine-tune epochs. */
static int fine_tune(const sweep *s, xai_model *m, int seed)
{
    xai_train_config tc;
    xai_train_config_init(&tc);
    tc.epochs = s->o->fine_tune;
    tc.lr = s->o->lr;
    tc.val_split = 0;
    tc.patience = 0;
    tc.seed = (uint64_t)seed + 1;
    xai_train_result tr;
    if (xai_train(m, &tc, s->data.n, s->data.x.data, s->data.lab, &tr) != XAI_OK)
        return xai_app_fail(&app, s->o->data, "fine-tuning: %s", xai_last_error());
    return 0;
}

/* One step of iterative pruning on @p cur: prune up to rate r of the original units, of which
   *done are gone. A layer down to one unit leaves the plan (it keeps that unit), so the count
   is kept here rather than read from the plan; a model whose layers all have one unit left
   cannot lose more. */
static int step_once(sweep *s, int ci, int seed, xai_model **cur, double r, const float *rx, const int *ry,
                     int64_t nr, int64_t *done)
{
    const prune_opts *o = s->o;
    xai_prune_plan *p = NULL;
    xai_status ps = xai_prune_plan_new_units(*cur, xai_prune_plan_units(s->plan0), &p);
    if (ps == XAI_EINVAL && *done > 0)
        return add_row(s, ci, seed, r, *done, *cur);
    if (ps != XAI_OK)
        return xai_app_fail(&app, o->model, "%s", xai_last_error());
    int64_t t0 = xai_prune_total_units(s->plan0), tc = xai_prune_total_units(p), np = 0;
    int64_t want = (int64_t)floor(r * (double)t0 + 1e-9) - *done;
    double *sc = malloc(sizeof(double) * (size_t)tc);
    unsigned char *keep = malloc((size_t)tc);
    xai_explain_config lc = lrp_config(o);
    int save = is_save_rate(o, r, seed), rc = !sc || !keep ? xai_app_fail(&app, NULL, "out of memory") : 0;
    xai_model *next = NULL;
    if (!rc && xai_prune_score(p, *cur, o->crit[ci], &lc, nr, rx, ry, sc) != XAI_OK)
        rc = xai_app_fail(&app, o->model, "%s", xai_last_error());
    if (!rc && xai_prune_select_norm(p, sc, want > 0 ? (want + 0.5) / (double)tc : 0, o->global, norm_of(o, ci),
                                       keep, &np) != XAI_OK)
        rc = xai_app_fail(&app, o->model, "%s", xai_last_error());
    if (!rc && !(next = pruned_model(p, keep, NULL, NULL)))
        rc = 1;
    if (!rc && o->fine_tune > 0)
        rc = fine_tune(s, next, seed);
    if (!rc && save && xai_model_save_onnx_mem(next, &(xai_export_options){.keep_bn = 1}, &s->saved[ci],
                                               &s->saved_len[ci]) != XAI_OK)
        rc = xai_app_fail(&app, NULL, "%s", xai_last_error());
    if (!rc)
        rc = add_row(s, ci, seed, r, *done += np, next);
    xai_model_free(rc ? next : *cur);
    if (!rc)
        *cur = next;
    xai_prune_plan_free(p);
    free(sc);
    free(keep);
    return rc;
}

static int iterative(sweep *s, int ci, int seed, const float *rx, const int *ry, int64_t nr)
{
    void *b = NULL;
    size_t len = 0;
    xai_model *cur = NULL;
    if (xai_model_save_onnx_mem(s->m0, &(xai_export_options){.keep_bn = 1}, &b, &len) != XAI_OK ||
        xai_model_load_onnx_mem(b, len, s->o->model, NULL, &cur) != XAI_OK) {
        free(b);
        return xai_app_fail(&app, s->o->model, "%s", xai_last_error());
    }
    free(b);
    int rc = 0;
    int64_t done = 0;
    for (int k = 1; !rc && k < s->nrates; k++)
        rc = step_once(s, ci, seed, &cur, s->rates[k], rx, ry, nr, &done);
    xai_model_free(cur);
    return rc;
}

static int run_sweep(sweep *s)
{
    const prune_opts *o = s->o;
    int64_t nin = xai_model_input_numel(s->m0);
    int rc = 0, done = 0;
    xai_app_progress_begin(&app, "criterion x seed", (int64_t)o->ncrit * o->seeds);
    for (int ci = 0; ci < o->ncrit && !rc; ci++)
        for (int seed = 0; seed < o->seeds && !rc; seed++) {
            float *rx = NULL;
            int *ry = NULL;
            int64_t nr = 0;
            rc = add_row(s, ci, seed, 0, 0, s->m0);
            if (!rc && s->data.n > 0)
                rc = draw_refs(&s->data, nin, o, (int)xai_model_output_numel(s->m0), (uint64_t)seed, &rx, &ry, &nr);
            if (!rc)
                rc = o->fine_tune || o->iterative ? iterative(s, ci, seed, rx, ry, nr)
                                                  : one_shot(s, ci, seed, rx, ry, nr);
            free(rx);
            free(ry);
            char item[64];
            snprintf(item, sizeof item, "%s seed %d", xai_prune_criterion_name(o->crit[ci]), seed + 1);
            xai_app_progress_step(&app, ++done, item);
        }
    xai_app_progress_end(&app);
    return rc;
}

/* ---- outputs ------------------------------------------------------------------------------ */

static const char *opath(const prune_opts *o, const char *name)
{
    static char buf[2][4096];
    static int slot;
    char *p = buf[slot++ & 1];
    snprintf(p, sizeof buf[0], "%s/%s", o->outdir, name);
    return p;
}

static int save_table(const prune_opts *o, xai_tsv *t, int ok, const char *name, const char *what, json_t *prov)
{
    const char *path = opath(o, name);
    int rc = 0;
    if (!ok || xai_tsv_save(t, path, 0) != XAI_OK)
        rc = xai_app_fail(&app, path, "%s", xai_last_error());
    xai_tsv_free(t);
    if (!rc) {
        json_object_set_new(prov, "Description", json_string(what));
        char *text = json_dumps(prov, JSON_COMPACT);
        rc = text && xai_app_write_sidecar(&app, path, text) == 0 ? 0 : 1;
        free(text);
    }
    return rc;
}

static int write_rows(const sweep *s, json_t *prov)
{
    const char *names[] = {"criterion", "seed", "rate", "pruned_units", "params", "flops", "loss", "accuracy"};
    const xai_tsv_type types[] = {XAI_TSV_STRING, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER,
                                  XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER};
    xai_tsv *t = NULL;
    int ok = xai_tsv_create(8, names, types, &t) == XAI_OK;
    for (int i = 0; ok && i < s->nrows; i++) {
        const row *r = &s->rows[i];
        double v[8] = {0, r->seed + 1, r->rate, (double)r->pruned, (double)r->params, (double)r->flops, r->loss,
                       r->acc};
        size_t k;
        ok = xai_tsv_add_row(t, &k) == XAI_OK &&
             xai_tsv_set_string(t, k, 0, xai_prune_criterion_name(s->o->crit[r->crit])) == XAI_OK;
        for (int j = 1; ok && j < 8; j++)
            ok = xai_tsv_set_number(t, k, (size_t)j, v[j]) == XAI_OK;
    }
    return save_table(s->o, t, ok, "pruning.tsv", "held-out loss and accuracy per criterion, seed and pruning rate",
                      prov);
}

/* Accuracies of criterion ci at rate index k over the seeds, into a (seeds values). */
static int accuracies(const sweep *s, int ci, int k, double *a, double *params)
{
    int n = 0;
    for (int i = 0; i < s->nrows; i++)
        if (s->rows[i].crit == ci && fabs(s->rows[i].rate - s->rates[k]) < 1e-12) {
            a[n++] = s->rows[i].acc;
            *params = (double)s->rows[i].params;
        }
    return n;
}

static int write_summary(const sweep *s, json_t *prov, double *mean)
{
    const char *names[] = {"criterion", "rate", "accuracy_mean", "accuracy_sd", "seeds", "params"};
    const xai_tsv_type types[] = {XAI_TSV_STRING, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER,
                                  XAI_TSV_NUMBER, XAI_TSV_NUMBER};
    double a[100], params = 0;
    xai_tsv *t = NULL;
    int ok = xai_tsv_create(6, names, types, &t) == XAI_OK;
    for (int ci = 0; ok && ci < s->o->ncrit; ci++)
        for (int k = 0; ok && k < s->nrates; k++) {
            int n = accuracies(s, ci, k, a, &params);
            double m = gsl_stats_mean(a, 1, (size_t)n), sd = n > 1 ? gsl_stats_sd(a, 1, (size_t)n) : 0;
            double v[6] = {0, s->rates[k], m, sd, n, params};
            size_t r;
            mean[ci * s->nrates + k] = m;
            ok = xai_tsv_add_row(t, &r) == XAI_OK &&
                 xai_tsv_set_string(t, r, 0, xai_prune_criterion_name(s->o->crit[ci])) == XAI_OK;
            for (int j = 1; ok && j < 6; j++)
                ok = xai_tsv_set_number(t, r, (size_t)j, v[j]) == XAI_OK;
        }
    return save_table(s->o, t, ok, "summary.tsv", "held-out accuracy mean and SD over the seeds", prov);
}

static int plot(const sweep *s, const double *mean)
{
    xai_chart_series ser[XAI_PRUNE_COUNT];
    for (int ci = 0; ci < s->o->ncrit; ci++)
        ser[ci] = (xai_chart_series){s->rates, mean + ci * s->nrates, s->nrates,
                                     xai_prune_criterion_name(s->o->crit[ci]),
                                     XAI_SERIES_LINE | XAI_SERIES_MARKERS, ci, 1};
    xai_chart_opts co;
    xai_chart_opts_init(&co);
    co.title = "Held-out accuracy after pruning";
    co.xlabel = s->o->global ? "fraction of units pruned (all layers)" : "fraction of units pruned (each layer)";
    co.ylabel = "accuracy (mean over seeds)";
    co.xmin = 0;
    co.xmax = s->rates[s->nrates - 1];
    co.legend_note = s->o->fine_tune ? "iterative, fine-tuned" : "one shot, no fine-tuning";
    const char *path = opath(s->o, "pruning.png");
    if (xai_figure_chart(path, ser, s->o->ncrit, &co) != XAI_OK)
        return xai_app_fail(&app, path, "%s", xai_last_error());
    return 0;
}

/* Each criterion's model at the --save rate with its card and sidecar (xai_app_save_model):
 * the sidecar says how it was pruned, on top of the provenance of every output. */
static int write_models(const sweep *s, json_t *prov)
{
    for (int ci = 0; ci < s->o->ncrit; ci++) {
        char name[64];
        const char *crit = xai_prune_criterion_name(s->o->crit[ci]);
        snprintf(name, sizeof name, "pruned-%s.onnx", crit);
        xai_model *m = NULL;
        if (!s->saved[ci])
            continue;
        if (xai_model_load_onnx_mem(s->saved[ci], s->saved_len[ci], name, NULL, &m) != XAI_OK)
            return xai_app_fail(&app, NULL, "%s", xai_last_error());
        json_t *extra = json_deep_copy(prov);
        json_object_del(extra, "Description"); /* the tables' own; the model's comes below */
        json_object_set_new(extra, "Pruning", json_pack("{s:s, s:f, s:b}", "criterion", crit, "rate",
                                                        s->o->save_rate, "global", s->o->global));
        int rc = extra ? xai_app_save_model(&app, opath(s->o, name), m, NULL, &(xai_export_options){.keep_bn = 1},
                                            "xai-prune: a model pruned by the criterion at the rate below", extra)
                       : xai_app_fail(&app, NULL, "out of memory");
        xai_model_free(m);
        if (rc)
            return rc;
    }
    return 0;
}

static json_t *provenance(const prune_opts *o, const xai_prune_plan *plan)
{
    json_t *crit = json_array();
    for (int k = 0; k < o->ncrit; k++)
        json_array_append_new(crit, json_string(xai_prune_criterion_name(o->crit[k])));
    json_t *p = json_pack("{s:[s,s?,s?,s,s], s:s, s:{s:o, s:f, s:f, s:b, s:i, s:i, s:s, s:i, s:f}}", "Sources",
                     o->model, o->data, o->labels, o->test, o->test_labels, "Method",
                     "structured pruning (Yeom et al. 2021)", "Parameters", "criteria", crit, "step", o->step,
                     "total", o->total, "global", o->global, "ref_size", o->ref_size, "seeds", o->seeds,
                     "composite", o->composite, "fine_tune_epochs", o->fine_tune, "lr", (double)o->lr);
    json_t *par = p ? json_object_get(p, "Parameters") : NULL;
    if (par) {
        json_object_set_new(par, "ref_per_class", json_integer(o->ref_per_class));
        json_object_set_new(par, "lrp_rules", json_string(o->rules ? o->rules : ""));
        json_object_set_new(par, "norm", json_string(o->norm < 0 ? "auto" : o->norm == XAI_PRUNE_NORM_L2 ? "l2" : "l1"));
        json_object_set_new(par, "units", json_string(xai_prune_plan_units(plan) == XAI_PRUNE_UNITS_CONV ? "conv"
                                                                                                      : "all"));
        json_object_set_new(par, "iterative", json_boolean(o->iterative || o->fine_tune > 0));
    }
    return p;
}

static int write_outputs(const sweep *s)
{
    double *mean = malloc(sizeof(double) * (size_t)(s->o->ncrit * s->nrates));
    json_t *prov = provenance(s->o, s->plan0);
    int rc = !mean || !prov ? xai_app_fail(&app, s->o->outdir, "out of memory") : 0;
    if (!rc)
        rc = xai_app_mkdirs(&app, s->o->outdir) ? 1 : 0;
    if (!rc)
        rc = write_rows(s, prov);
    if (!rc)
        rc = write_summary(s, prov, mean);
    if (!rc)
        rc = plot(s, mean);
    if (!rc)
        rc = write_models(s, prov);
    json_decref(prov);
    free(mean);
    return rc;
}

/* ---- the run -------------------------------------------------------------------------------- */

/* The schedule step, 2 step, ... up to total; 2 when --save is not one of its rates. */
static int schedule(sweep *s)
{
    const prune_opts *o = s->o;
    int on = o->save_rate == 0;
    s->rates[0] = 0;
    s->nrates = 1;
    for (int k = 1; k <= MAX_RATES && k * o->step <= o->total + 1e-9; k++) {
        s->rates[s->nrates++] = round(k * o->step * 1e9) / 1e9; /* 0.3, not 0.30000000000000004 */
        on |= fabs(k * o->step - o->save_rate) < 1e-9;
    }
    if (s->nrates > MAX_RATES)
        return xai_app_usage_error(&app, "--step %g gives more than %d rates", o->step, MAX_RATES);
    return on ? 0 : xai_app_usage_error(&app, "--save %g is not a rate of the schedule (multiples of --step up to "
                                        "--total)", o->save_rate);
}

static int check_outputs(const prune_opts *o)
{
    static const char *const fixed[] = {"pruning.tsv", "summary.tsv", "pruning.png"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        if (xai_app_check_output(&app, opath(o, fixed[i])))
            return XAI_EXIT_USAGE;
    for (int k = 0; o->save_rate > 0 && k < o->ncrit; k++) {
        char name[64];
        snprintf(name, sizeof name, "pruned-%s.json", xai_prune_criterion_name(o->crit[k]));
        if (xai_app_check_output(&app, opath(o, name)))
            return XAI_EXIT_USAGE;
        snprintf(name, sizeof name, "pruned-%s.onnx", xai_prune_criterion_name(o->crit[k]));
        if (xai_app_check_output(&app, opath(o, name)))
            return XAI_EXIT_USAGE;
    }
    return 0;
}

static int setup(sweep *s)
{
    const prune_opts *o = s->o;
    int rc = schedule(s);
    if (!rc)
        rc = check_outputs(o);
    if (!rc && xai_model_load_onnx(o->model, NULL, &s->m0) != XAI_OK)
        rc = xai_app_fail(&app, NULL, "%s", xai_last_error());
    if (!rc && xai_prune_plan_new_units(s->m0, o->units, &s->plan0) != XAI_OK)
        rc = xai_app_fail(&app, o->model, "%s", xai_last_error());
    if (!rc && o->data)
        rc = load_set(o->data, o->labels, s->m0, &s->data);
    if (!rc)
        rc = load_set(o->test, o->test_labels, s->m0, &s->test);
    if (!rc && !(s->rows = calloc((size_t)(o->ncrit * o->seeds * s->nrates), sizeof(row))))
        rc = xai_app_fail(&app, NULL, "out of memory");
    return rc;
}

static void print_summary(const sweep *s)
{
    int half = s->nrates - 1;
    for (int k = 1; k < s->nrates; k++)
        if (fabs(s->rates[k] - 0.5) < fabs(s->rates[half] - 0.5))
            half = k;
    fprintf(stderr, PROG ": %lld prunable units in %d layers; held-out accuracy, mean (SD) over %d seed%s:\n",
            (long long)xai_prune_total_units(s->plan0), xai_prune_nlayers(s->plan0), s->o->seeds,
            s->o->seeds == 1 ? "" : "s");
    for (int ci = 0; ci < s->o->ncrit; ci++) {
        double a[100], params = 0;
        int n = accuracies(s, ci, half, a, &params);
        fprintf(stderr, "  %-9s unpruned %.3f, at %.0f%% pruned %.3f (%.3f), %.0f parameters\n",
                xai_prune_criterion_name(s->o->crit[ci]), s->rows[0].acc, 100 * s->rates[half],
                gsl_stats_mean(a, 1, (size_t)n), n > 1 ? gsl_stats_sd(a, 1, (size_t)n) : 0.0, params);
    }
}

int prune_run(const prune_opts *o)
{
    sweep s = {.o = o};
    int rc = setup(&s);
    if (!rc)
        rc = run_sweep(&s);
    if (!rc)
        rc = write_outputs(&s);
    if (!rc && app.verbosity > 0)
        print_summary(&s);
    for (int k = 0; k < XAI_PRUNE_COUNT; k++)
        free(s.saved[k]);
    free(s.rows);
    free_set(&s.data);
    free_set(&s.test);
    xai_prune_plan_free(s.plan0);
    xai_model_free(s.m0);
    return rc;
}
