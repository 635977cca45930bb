/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eval-read.c - the tables of xai/eval-write.h read back into the structures they were
 * written from, so that runs done in parts (one method per machine) join into the outputs
 * of one run: numbers are written with round-trip precision, so what is read writes the
 * same files again.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval-write-int.h"

typedef struct {
    xai_tsv *t;
    const char *path;
} table;

static xai_status open_table(const char *dir, const char *name, table *tb, char *path, size_t plen)
{
    snprintf(path, plen, "%s/%s", dir, name);
    tb->path = path;
    tb->t = NULL;
    xai_status st = xai_tsv_load(path, 0, &tb->t);
    return st ? xai_out_fail(st, path) : XAI_OK;
}

/* The number in column @p name of row @p r; XAI_EFORMAT naming the file when absent. */
static xai_status cell(const table *tb, size_t r, const char *name, double *v)
{
    long c = xai_tsv_find_column(tb->t, name);
    if (c < 0 || r >= xai_tsv_nrows(tb->t) || xai_tsv_get_number(tb->t, r, (size_t)c, v) != XAI_OK)
        return xai_error_set(XAI_EFORMAT, "%s: no number in column '%s', row %zu", tb->path, name, r + 2);
    return XAI_OK;
}

/* As cell(), for a count or class: a whole number in [0, max]. */
static xai_status whole(const table *tb, size_t r, const char *name, double max, double *v)
{
    xai_status st = cell(tb, r, name, v);
    if (!st && !(*v >= 0 && *v <= max && *v == floor(*v)))
        st = xai_error_set(XAI_EFORMAT, "%s: column '%s', row %zu: not a whole number in 0..%.0f", tb->path, name,
                           r + 2, max);
    return st;
}

static const char *text(const table *tb, size_t r, const char *name)
{
    long c = xai_tsv_find_column(tb->t, name);
    const char *s = c < 0 ? NULL : xai_tsv_get_string(tb->t, r, (size_t)c);
    return s ? s : "";
}

static void *alloc_n(size_t n, size_t size, xai_status *st)
{
    void *p = *st ? NULL : calloc(n ? n : 1, size);
    if (!p && !*st)
        *st = xai_error_set(XAI_ENOMEM, "out of memory");
    return p;
}

/* ---- one method's metrics run ------------------------------------------------------ */

/* metrics.tsv: the summaries of the metrics computed */
static xai_status read_summaries(const table *tb, const char *label, xai_eval_scores *sc)
{
    xai_status st = XAI_OK;
    for (size_t r = 0; r < xai_tsv_nrows(tb->t) && !st; r++) {
        if (strcmp(text(tb, r, "method"), label) != 0)
            return xai_error_set(XAI_EFORMAT, "%s: row %zu is not of method '%s'", tb->path, r + 2, label);
        int k = -1;
        for (int q = 0; q < XAI_METRIC_COUNT; q++)
            if (strcmp(text(tb, r, "metric"), xai_metric_name(q)) == 0)
                k = q;
        if (k < 0)
            return xai_error_set(XAI_EFORMAT, "%s: row %zu: unknown metric", tb->path, r + 2);
        xai_metric_score *m = &sc->score[k];
        double nf = 0;
        m->computed = 1;
        if (!(st = cell(tb, r, "mean", &m->mean)) && !(st = cell(tb, r, "ci_low", &m->ci_low)) &&
            !(st = cell(tb, r, "ci_high", &m->ci_high)) && !(st = cell(tb, r, "sd", &m->sd)))
            st = whole(tb, r, "n", 1e12, &nf);
        if (!st)
            m->n_finite = (int64_t)nf;
    }
    return st;
}

/* metrics_samples.tsv: the class and every metric value per sample */
static xai_status read_samples(const table *tb, const char *label, xai_eval_scores *sc)
{
    xai_status st = XAI_OK;
    int64_t n = (int64_t)xai_tsv_nrows(tb->t);
    sc->n = n;
    sc->target = alloc_n((size_t)n, sizeof(int), &st);
    char col[300];
    for (int k = 0; k < XAI_METRIC_COUNT && !st; k++) {
        if (!sc->score[k].computed)
            continue;
        snprintf(col, sizeof col, "%s/%s", label, xai_metric_name(k));
        sc->score[k].sample = alloc_n((size_t)n, sizeof(double), &st);
        for (int64_t s = 0; s < n && !st; s++)
            st = cell(tb, (size_t)s, col, &sc->score[k].sample[s]);
    }
    for (int64_t s = 0; s < n && !st; s++) {
        double c;
        if (!(st = whole(tb, (size_t)s, "class", 1e9, &c)))
            sc->target[s] = (int)c;
    }
    return st;
}

/* mprt.tsv: the per-layer means and intervals (the per-sample correlations stay behind) */
static xai_status read_mprt(const table *tb, xai_mprt_result *r)
{
    xai_status st = XAI_OK;
    int L = (int)xai_tsv_nrows(tb->t);
    r->nlayers = L;
    r->layer = alloc_n((size_t)L, sizeof(char *), &st);
    r->mean = alloc_n((size_t)L, sizeof(double), &st);
    r->ci_low = alloc_n((size_t)L, sizeof(double), &st);
    r->ci_high = alloc_n((size_t)L, sizeof(double), &st);
    for (int l = 0; l < L && !st; l++) {
        if (!(r->layer[l] = strdup(text(tb, (size_t)l, "layer"))))
            st = xai_error_set(XAI_ENOMEM, "out of memory");
        if (!st && !(st = cell(tb, (size_t)l, "spearman", &r->mean[l])) &&
            !(st = cell(tb, (size_t)l, "ci_low", &r->ci_low[l])))
            st = cell(tb, (size_t)l, "ci_high", &r->ci_high[l]);
    }
    return st;
}

xai_status xai_evalout_read_metrics(const char *dir, const char *label, xai_eval_scores *sc)
{
    char p1[4096], p2[4096], p3[4096];
    table a = {0}, b = {0}, c = {0};
    memset(sc, 0, sizeof *sc);
    xai_status st = open_table(dir, "metrics.tsv", &a, p1, sizeof p1);
    if (!st)
        st = read_summaries(&a, label, sc);
    if (!st && !(st = open_table(dir, "metrics_samples.tsv", &b, p2, sizeof p2)))
        st = read_samples(&b, label, sc);
    if (!st && sc->score[XAI_METRIC_MPRT].computed && !(st = open_table(dir, "mprt.tsv", &c, p3, sizeof p3)))
        st = read_mprt(&c, &sc->mprt);
    xai_tsv_free(a.t), xai_tsv_free(b.t), xai_tsv_free(c.t);
    if (st)
        xai_eval_scores_free(sc);
    return st;
}

/* ---- one method's AOPC sweep ------------------------------------------------------- */

/* run @p i: its row of aopc.tsv, its column of curves.tsv and of aopc_samples.tsv */
static xai_status read_run(const table *t3, size_t i, xai_aopc_run *run)
{
    xai_perturb_result *r = &run->res;
    const char *order = text(&t3[0], i, "order");
    snprintf(run->label, sizeof run->label, "%s", text(&t3[0], i, "method"));
    if (xai_perturb_order_parse(order, &run->order) != XAI_OK)
        return xai_error_set(XAI_EFORMAT, "%s: row %zu: unknown order '%s'", t3[0].path, i + 2, order);
    double v[4];
    const char *num[] = {"n", "steps", "patches", "aopc"};
    xai_status st = XAI_OK;
    for (int k = 0; k < 4 && !st; k++)
        st = k < 3 ? whole(&t3[0], i, num[k], 1e9, &v[k]) : cell(&t3[0], i, num[k], &v[k]);
    if (!st && !(st = cell(&t3[0], i, "ci_low", &r->ci_low)) && !(st = cell(&t3[0], i, "ci_high", &r->ci_high)))
        st = cell(&t3[0], i, "sd", &r->sd);
    if (st)
        return st;
    r->n = (int64_t)v[0], r->steps = (int)v[1], r->npatches = (int64_t)v[2], r->aopc = v[3];
    if (r->steps + 1 != (int)xai_tsv_nrows(t3[1].t) || r->n != (int64_t)xai_tsv_nrows(t3[2].t))
        return xai_error_set(XAI_EFORMAT, "%s: steps or samples differ from aopc.tsv", t3[1].path);
    char col[200];
    snprintf(col, sizeof col, "%s/%s", run->label, order);
    r->curve = alloc_n((size_t)r->steps + 1, sizeof(double), &st);
    r->fraction = alloc_n((size_t)r->steps + 1, sizeof(double), &st);
    r->aopc_sample = alloc_n((size_t)r->n, sizeof(double), &st);
    r->target = alloc_n((size_t)r->n, sizeof(int), &st);
    for (int k = 0; k <= r->steps && !st; k++)
        if (!(st = cell(&t3[1], (size_t)k, col, &r->curve[k])))
            st = cell(&t3[1], (size_t)k, "fraction", &r->fraction[k]);
    for (int64_t s = 0; s < r->n && !st; s++) {
        double c;
        if (!(st = cell(&t3[2], (size_t)s, col, &r->aopc_sample[s])) &&
            !(st = whole(&t3[2], (size_t)s, "class", 1e9, &c)))
            r->target[s] = (int)c;
    }
    return st;
}

xai_status xai_evalout_read_aopc(const char *dir, xai_aopc_sweep *sw)
{
    static const char *const names[] = {"aopc.tsv", "curves.tsv", "aopc_samples.tsv"};
    char path[3][4096];
    table t3[3] = {{0}};
    memset(sw, 0, sizeof *sw);
    xai_status st = XAI_OK;
    for (int i = 0; i < 3 && !st; i++)
        st = open_table(dir, names[i], &t3[i], path[i], sizeof path[i]);
    size_t nr = st ? 0 : xai_tsv_nrows(t3[0].t);
    if (!st && nr < 1)
        st = xai_error_set(XAI_EFORMAT, "%s: no run", path[0]);
    sw->run = alloc_n(nr, sizeof *sw->run, &st);
    for (size_t i = 0; i < nr && !st; i++, sw->nruns++)
        st = read_run(t3, i, &sw->run[i]);
    for (int i = 0; i < 3; i++)
        xai_tsv_free(t3[i].t);
    if (st)
        xai_aopc_sweep_free(sw);
    return st;
}
