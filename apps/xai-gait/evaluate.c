/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * evaluate.c - xai-gait evaluate: the app's own maps (each trial explained out of fold, as
 * study does) scored with the metrics of xai/eval.h, the ground truth given in gait terms: a
 * table of class, variable, plane, side and the phase of the cycle in % (the truth.tsv that
 * datasets/gait/gen_gait writes is one). The model-based metrics run each sample through the
 * fold model that explained it; per-sample values are pooled over the folds.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app-driver.h"
#include "explain.h"
#include "xai/eval-write.h"
#include "xai/eval.h"
#include "xai/tsv.h"

#define DEFAULT_METRICS "localisation,road-morf,road-lerf,faithfulness-corr,complexity"

typedef struct {
    int cls;       /* model class */
    int var, comp; /* indices into the record's variables and components */
    unsigned sides;/* bit 0 left, bit 1 right */
    int p0, p1;    /* phase, % of the cycle, inclusive */
} truth_row;

typedef struct {
    truth_row *r;
    int n;
} truth;

/* A string cell of row @p i in column @p name, or NULL (missing column or n/a). */
static const char *cell(const xai_tsv *t, size_t i, const char *name)
{
    long c = xai_tsv_find_column(t, name);
    return c < 0 || xai_tsv_is_na(t, i, (size_t)c) ? NULL : xai_tsv_get_string(t, i, (size_t)c);
}

static int find_str(char *const *v, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (!strcmp(v[i], s))
            return i;
    return -1;
}

/* Row @p i into @p r: 1 used, 0 skipped (another task's row), -1 error (reported). */
static int truth_parse_row(xai_app *app, const explainer *e, const char *path, const xai_tsv *t, size_t i,
                           truth_row *r)
{
    const char *kind = cell(t, i, "kind"), *var = cell(t, i, "variable"), *side = cell(t, i, "sides");
    const char *comp = cell(t, i, "component_name") ? cell(t, i, "component_name") : cell(t, i, "component");
    if (kind && strcmp(kind, e->condition ? "condition" : "subject"))
        return 0;
    if ((r->cls = find_str(e->classes, e->ncls, cell(t, i, "label"))) < 0)
        return xai_app_fail(app, path, "row %zu: label '%s' is no class of the model", i + 1,
                            cell(t, i, "label") ? cell(t, i, "label") : "n/a"), -1;
    r->var = find_str(e->pre.vars, e->pre.nvars, var);
    r->comp = -1;
    for (int j = 0; comp && j < e->pre.ncomps; j++)
        if (!strcmp(comp, xai_gait_component_names[e->pre.comps[j]]) ||
            (comp[0] - '0' == e->pre.comps[j] && !comp[1]))
            r->comp = j;
    double p0 = NAN, p1 = NAN;
    long c0 = xai_tsv_find_column(t, "pct_start"), c1 = xai_tsv_find_column(t, "pct_end");
    if (c0 >= 0 && c1 >= 0 && xai_tsv_get_number(t, i, (size_t)c0, &p0) == XAI_OK)
        xai_tsv_get_number(t, i, (size_t)c1, &p1);
    r->sides = !side || strstr(side, "oth") ? 3u : (strstr(side, "Left") ? 1u : 0u) | (strstr(side, "Right") ? 2u : 0u);
    if (r->var < 0 || r->comp < 0 || !(p0 >= 0 && p0 <= p1 && p1 <= 100) || !r->sides)
        return xai_app_fail(app, path, "row %zu: needs a variable and component of the model (%s ...), pct_start <= "
                            "pct_end in 0..100 and sides Left, Right or both", i + 1, e->pre.vars[0]), -1;
    r->p0 = (int)ceil(p0);
    r->p1 = (int)floor(p1);
    return 1;
}

/* The truth table: columns label, variable, component_name (or component), pct_start,
 * pct_end, optional sides and kind (rows of the other task are skipped). */
static int truth_load(xai_app *app, const explainer *e, const char *path, truth *tr)
{
    xai_tsv *t = NULL;
    if (xai_tsv_load(path, 0, &t) != XAI_OK)
        return xai_app_fail(app, NULL, "%s", xai_last_error());
    static const char *const need[] = {"label", "variable", "pct_start", "pct_end"};
    int rc = XAI_EXIT_OK;
    for (size_t k = 0; k < 4 && rc == XAI_EXIT_OK; k++)
        if (xai_tsv_find_column(t, need[k]) < 0)
            rc = xai_app_fail(app, path, "no column '%s' (needed: label, variable, component_name or component, "
                              "pct_start, pct_end; optional: sides, kind)", need[k]);
    tr->r = calloc(xai_tsv_nrows(t) + 1, sizeof *tr->r);
    if (rc == XAI_EXIT_OK && !tr->r)
        rc = xai_app_fail(app, path, "out of memory");
    for (size_t i = 0; rc == XAI_EXIT_OK && i < xai_tsv_nrows(t); i++) {
        int u = truth_parse_row(app, e, path, t, i, &tr->r[tr->n]);
        if (u < 0)
            rc = XAI_EXIT_DATA;
        tr->n += u > 0;
    }
    if (rc == XAI_EXIT_OK && tr->n == 0)
        rc = xai_app_fail(app, path, "no row for a %s of the model", e->condition ? "condition" : "subject");
    xai_tsv_free(t);
    return rc;
}

/* The truth of each sample's class in the model-input layout [inputs][101]: block 0 is the
 * left cycle when paired, else the cycle's own side; block 1 the right cycle. */
static void truth_masks(const explainer *e, const truth *tr, const xai_gait_study *st, const int *target, float *mask)
{
    int nch = xai_gait_pre_channels(&e->pre), nb = e->pre.paired ? 2 : 1;
    size_t per = (size_t)nb * (size_t)nch * XAI_GAIT_NPTS;
    memset(mask, 0, sizeof(float) * per * (size_t)st->d.n);
    for (int64_t i = 0; i < st->d.n; i++)
        for (int k = 0; k < tr->n; k++) {
            const truth_row *r = &tr->r[k];
            if (r->cls != target[i])
                continue;
            for (int b = 0; b < nb; b++) {
                unsigned side = e->pre.paired ? 1u << b : st->cy.side[st->a[i]][0] == 'L' ? 1u : 2u;
                if (!(r->sides & side))
                    continue;
                float *m = mask + (size_t)i * per + ((size_t)b * (size_t)nch + (size_t)(r->var * e->pre.ncomps + r->comp)) *
                                                        XAI_GAIT_NPTS;
                for (int p = r->p0; p <= r->p1; p++)
                    m[p] = 1.0f;
            }
        }
}

/* The metrics of the samples that model @p k explained (fold k, or -1: the model for new
 * data), each per-sample value into vals[metric][sample]. 0 or -1 (reported). */
static int eval_fold(xai_app *app, const explainer *e, const xai_eval_config *ec, uint32_t set, int k,
                     const xai_dataset *d, const xai_driver_explanation *ex, const float *mask, double **vals)
{
    xai_model *m = k >= 0 ? xai_driver_set_fold_model(e->set, k) : xai_driver_set_model(e->set);
    size_t per = (size_t)ex->numel;
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)ex->n), nk = 0;
    for (int64_t i = 0; idx && i < ex->n; i++)
        if (ex->fold[i] == k && !(ex->flags[i] & XAI_DRIVER_FLAG_NO_TARGET))
            idx[nk++] = i;
    float *x = malloc(sizeof(float) * per * (size_t)(nk + 1)), *r = malloc(sizeof(float) * per * (size_t)(nk + 1));
    float *mk = malloc(sizeof(float) * per * (size_t)(nk + 1));
    int *tg = malloc(sizeof(int) * (size_t)(nk + 1)), rc = -1;
    xai_eval_scores sc;
    memset(&sc, 0, sizeof sc);
    xai_explain_config cfg;
    char *rules = NULL;
    if (!idx || !x || !r || !mk || !tg) {
        xai_app_fail(app, NULL, "out of memory");
        goto done;
    }
    for (int64_t j = 0; j < nk; j++) {
        memcpy(x + (size_t)j * per, d->x + (size_t)idx[j] * per, sizeof(float) * per);
        memcpy(r + (size_t)j * per, ex->rel + (size_t)idx[j] * per, sizeof(float) * per);
        memcpy(mk + (size_t)j * per, mask + (size_t)idx[j] * per, sizeof(float) * per);
        tg[j] = ex->target[idx[j]];
    }
    if (nk > 0 && (xai_driver_explain_config(m, &e->eo, &cfg, &rules) != XAI_OK ||
                   xai_eval_metrics(m, ec, &cfg, set, nk, x, r, mk, tg, &sc) != XAI_OK)) {
        xai_app_fail(app, NULL, "%s: %s", k >= 0 ? "fold model" : "model", xai_last_error());
        goto done;
    }
    for (int q = 0; nk > 0 && q < XAI_METRIC_COUNT; q++)
        for (int64_t j = 0; sc.score[q].computed && j < nk; j++)
            vals[q][idx[j]] = sc.score[q].sample[j];
    rc = 0;
done:
    xai_eval_scores_free(&sc);
    free(rules);
    free(idx);
    free(x);
    free(r);
    free(mk);
    free(tg);
    return rc;
}

/* The metrics table (xai/eval-write.h) of the values pooled over the fold models. */
static int write_table(xai_app *app, const explainer *e, const opts *o, uint32_t set, double **vals,
                       const xai_driver_explanation *ex)
{
    xai_eval_scores sc = {.n = ex->n, .target = ex->target};
    for (int q = 0; q < XAI_METRIC_COUNT; q++) {
        sc.score[q].computed = (set & (1u << q)) != 0;
        sc.score[q].sample = vals[q];
    }
    xai_eval_scores_summarise(&sc);
    for (int q = 0; q < XAI_METRIC_COUNT; q++)
        if (sc.score[q].computed)
            xai_app_log(app, 1, "%-20s %8.4f [%.4f, %.4f] (%s is better, %lld samples)",
                        xai_metric_name((xai_metric)q), sc.score[q].mean, sc.score[q].ci_low, sc.score[q].ci_high,
                        xai_metric_direction((xai_metric)q) > 0 ? "higher" : "lower", (long long)sc.score[q].n_finite);
    json_t *sj = json_pack("{s:s,s:s,s:s}", "Samples", "each left/right cycle pair, explained out of fold",
                           "ModelSHA256", e->sha, "Options", e->options);
    char *extra = sj ? json_dumps(sj, JSON_COMPACT) : NULL;
    json_decref(sj);
    xai_evalout_method me = {xai_method_name(e->eo.method), &sc};
    int rc = 0;
    if (!extra || xai_evalout_tables(o->output, NULL, &me, 1, NULL, extra) != XAI_OK) {
        xai_app_fail(app, NULL, "%s", extra ? xai_last_error() : "out of memory");
        rc = -1;
    }
    free(extra);
    return rc;
}

/* Explain the study out of fold with the truth's classes as targets, then the metrics. */
static int evaluate_study(xai_app *app, explainer *e, const opts *o, const truth *tr, uint32_t set,
                          const xai_eval_config *ec)
{
    gait_trial *trials = NULL;
    int ntr = 0, rc = XAI_EXIT_DATA;
    xai_gait_study st;
    memset(&st, 0, sizeof st);
    xai_driver_explanation ex = {0};
    float *mask = NULL;
    double *vals[XAI_METRIC_COUNT] = {0};
    if (gait_trials_collect(app, o->args, o->nargs, &trials, &ntr) != 0)
        goto done;
    xai_gait_trial_ref *refs = gait_trial_refs(trials, ntr);
    xai_status ls = refs ? explainer_load(e, refs, ntr, NULL, NULL, &st) : XAI_ENOMEM;
    free(refs);
    if (ls != XAI_OK || st.d.n == 0) {
        xai_app_fail(app, NULL, "%s", ls != XAI_OK ? xai_last_error() : "no model sample in the trials");
        goto done;
    }
    if (xai_driver_explain(e->set, &st.d, &e->eo, &ex) != XAI_OK) {
        xai_app_fail(app, NULL, "%s", xai_last_error());
        goto done;
    }
    size_t per = (size_t)ex.numel;
    if (!(mask = malloc(sizeof(float) * per * (size_t)st.d.n)))
        goto done;
    truth_masks(e, tr, &st, ex.target, mask);
    for (int q = 0; q < XAI_METRIC_COUNT; q++) {
        if (!(vals[q] = malloc(sizeof(double) * (size_t)st.d.n)))
            goto done;
        for (int64_t i = 0; i < st.d.n; i++)
            vals[q][i] = NAN;
    }
    for (int k = -1; k < xai_driver_set_nfolds(e->set); k++)
        if (eval_fold(app, e, ec, set, k, &st.d, &ex, mask, vals) != 0)
            goto done;
    if (ex.n_in_sample)
        xai_app_log(app, 1, "warning: %lld of %lld samples were explained by a model trained on their %s "
                    "(in-sample maps)", (long long)ex.n_in_sample, (long long)ex.n, e->group_by);
    rc = write_table(app, e, o, set, vals, &ex) == 0 ? XAI_EXIT_OK : XAI_EXIT_DATA;
done:
    for (int q = 0; q < XAI_METRIC_COUNT; q++)
        free(vals[q]);
    free(mask);
    xai_driver_explanation_free(&ex);
    xai_gait_study_free(&st);
    gait_trials_free(trials, ntr);
    return rc;
}

int gait_cmd_evaluate(xai_app *app, const opts *o)
{
    if (!o->model || !o->truth || !o->output || o->nargs < 1)
        return xai_app_usage_error(app, "evaluate: need --model M.onnx, --truth TRUTH.tsv, STUDY_DIR or trials "
                                   "and -o OUT.tsv");
    uint32_t set = 0;
    if (xai_metric_parse_list(o->metrics ? o->metrics : DEFAULT_METRICS, &set) != XAI_OK)
        return xai_app_usage_error(app, "--metrics: %s", xai_last_error());
    if (xai_app_check_output(app, o->output) != 0)
        return XAI_EXIT_USAGE;
    explainer e;
    truth tr = {0};
    int rc = explainer_init(app, o, &e);
    if (rc == XAI_EXIT_OK)
        rc = truth_load(app, &e, o->truth, &tr);
    if (rc == XAI_EXIT_OK) {
        xai_eval_config ec;
        xai_eval_config_init(&ec);
        ec.seed = o->dopt.seed;
        /* patches of one channel x 5 % of the cycle: the scale of a gait event's phase */
        ec.perturb.patch_ndim = 2;
        ec.perturb.patch[0] = 1;
        ec.perturb.patch[1] = 5;
        ec.perturb.road_axes = 2u; /* ROAD imputes along the cycle, not across joints */
        int64_t npatch = (int64_t)xai_gait_pre_inputs(&e.pre) * ((XAI_GAIT_NPTS + 4) / 5);
        ec.perturb.steps = 20; /* every patch replaced in 20 steps */
        ec.perturb.per_step = (npatch + 19) / 20;
        rc = evaluate_study(app, &e, o, &tr, set, &ec);
    }
    free(tr.r);
    explainer_free(&e);
    return rc;
}
