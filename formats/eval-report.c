/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eval-report.c - the report that compares attribution methods across metrics (see
 * xai/eval-write.h). Methods are ranked per metric in the metric's own direction
 * (xai_metric_direction()), so one table and one figure compare them across metrics whose
 * "better" differs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval-write-int.h"

xai_status evw_add(evw_entries *es, const char *method, int metric, double mean, double lo, double hi, double n)
{
    if (es->n == es->cap) {
        int cap = es->cap ? 2 * es->cap : 64;
        evw_entry *p = realloc(es->e, sizeof *p * (size_t)cap);
        if (!p)
            return xai_error_set(XAI_ENOMEM, "out of memory");
        es->e = p;
        es->cap = cap;
    }
    evw_entry *e = &es->e[es->n++];
    snprintf(e->method, sizeof e->method, "%s", method);
    e->metric = metric;
    e->mean = mean;
    e->lo = lo;
    e->hi = hi;
    e->n = n;
    int known = 0;
    for (int i = 0; i < es->nmethods; i++)
        known |= strcmp(es->methods[i], method) == 0;
    if (!known && es->nmethods < 64)
        snprintf(es->methods[es->nmethods++], sizeof es->methods[0], "%s", method);
    return XAI_OK;
}

const evw_entry *evw_find(const evw_entries *es, const char *method, int metric)
{
    for (int i = 0; i < es->n; i++)
        if (es->e[i].metric == metric && strcmp(es->e[i].method, method) == 0)
            return &es->e[i];
    return NULL;
}

/* Rank within each metric: 1 = best in its direction; NaN gets no rank (0). */
static void rank_entries(evw_entries *es)
{
    for (int i = 0; i < es->n; i++) {
        evw_entry *a = &es->e[i];
        int dir = xai_metric_direction(a->metric), r = 1;
        if (isnan(a->mean)) {
            a->rank = 0;
            continue;
        }
        for (int j = 0; j < es->n; j++) {
            const evw_entry *b = &es->e[j];
            if (j != i && b->metric == a->metric && !isnan(b->mean) && dir * (b->mean - a->mean) > 0)
                r++;
        }
        a->rank = r;
    }
}

static xai_status report_table(const evw_entries *es, const char *path)
{
    const char *names[] = {"metric", "family", "better", "method", "mean", "ci_low", "ci_high", "n", "rank"};
    const xai_tsv_type types[] = {XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_NUMBER,
                                  XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER};
    xai_tsv *t = NULL;
    xai_status st = xai_tsv_create(9, names, types, &t);
    for (int k = 0; k < XAI_METRIC_COUNT && !st; k++)
        for (int i = 0; i < es->nmethods && !st; i++) {
            const evw_entry *e = evw_find(es, es->methods[i], k);
            size_t r;
            if (!e || (st = xai_tsv_add_row(t, &r)))
                continue;
            xai_tsv_set_string(t, r, 0, xai_metric_name(k));
            xai_tsv_set_string(t, r, 1, xai_metric_family(k));
            xai_tsv_set_string(t, r, 2, xai_metric_direction(k) > 0 ? "higher" : "lower");
            xai_tsv_set_string(t, r, 3, e->method);
            const double v[] = {e->mean, e->lo, e->hi, e->n, e->rank > 0 ? e->rank : NAN};
            for (size_t c = 0; c < sizeof v / sizeof *v; c++)
                xai_tsv_set_number(t, r, 4 + c, v[c]);
        }
    return xai_out_table(t, path, st);
}

xai_status evw_report(evw_entries *es, const char *outdir, const char *sidecar_json)
{
    char path[4096];
    rank_entries(es);
    snprintf(path, sizeof path, "%s/report.tsv", outdir);
    xai_status st = report_table(es, path);
    if (!st)
        st = xai_out_sidecar(path, sidecar_json, "every metric per method: mean, 95% interval, rank (1 = best in the "
                         "metric's direction, column better)");
    snprintf(path, sizeof path, "%s/report.png", outdir);
    if (!st && (st = evw_report_figure(es, path)))
        st = xai_out_fail(st, path);
    return st;
}

/* ---- report from metrics.tsv files ------------------------------------------------- */

/* The last @p depth folders of @p path's folder ("." when it has none) into buf. */
static void dir_suffix(const char *path, int depth, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(buf, len, ".");
        return;
    }
    const char *start = slash;
    for (int d = 0; d < depth && start > path; d++)
        for (start--; start > path && start[-1] != '/'; start--)
            ;
    snprintf(buf, len, "%.*s", (int)(slash - start), start);
}

/* Each input's label: its folder's name, with as many parent folders as it takes to tell the
 * inputs apart ("eeg/ev" and "fmri/ev" for two runs written to folders called "ev"). */
static void input_labels(const char *const *inputs, int n, char (*lab)[64])
{
    for (int depth = 1; depth <= 16; depth++) {
        int clash = 0;
        for (int i = 0; i < n; i++)
            dir_suffix(inputs[i], depth, lab[i], sizeof lab[i]);
        for (int i = 0; i < n && !clash; i++)
            for (int j = i + 1; j < n && !clash; j++)
                clash = strcmp(lab[i], lab[j]) == 0 && strcmp(inputs[i], inputs[j]) != 0;
        if (!clash)
            return;
    }
}

/* The metric of row @p r, or -1 */
static int row_metric(const xai_tsv *t, size_t r, long col)
{
    const char *k = xai_tsv_get_string(t, r, (size_t)col);
    for (int q = 0; k && q < XAI_METRIC_COUNT; q++)
        if (strcmp(k, xai_metric_name(q)) == 0)
            return q;
    return -1;
}

static xai_status read_rows(const xai_tsv *t, const char *path, const long col[6], const char *prefix,
                            evw_entries *es)
{
    static const char *const need[] = {"method", "metric", "mean", "ci_low", "ci_high", "n"};
    char method[200];
    for (size_t r = 0; r < xai_tsv_nrows(t); r++) {
        const char *m = xai_tsv_get_string(t, r, (size_t)col[0]), *k = xai_tsv_get_string(t, r, (size_t)col[1]);
        int metric = row_metric(t, r, col[1]);
        if (!m || metric < 0)
            return xai_error_set(XAI_EFORMAT, "%s: row %zu: missing method or unknown metric '%s'", path, r + 2,
                                 k ? k : "n/a");
        double v[4];
        for (int i = 0; i < 4; i++)
            if (xai_tsv_get_number(t, r, (size_t)col[2 + i], &v[i]) != XAI_OK)
                return xai_error_set(XAI_EFORMAT, "%s: row %zu: '%s' is not a number", path, r + 2, need[2 + i]);
        snprintf(method, sizeof method, prefix ? "%s:%s" : "%s%s", prefix ? prefix : "", m);
        if (evw_find(es, method, metric))
            return xai_error_set(XAI_EFORMAT, "%s: method '%s' has metric '%s' twice", path, method, k);
        if (evw_add(es, method, metric, v[0], v[1], v[2], v[3]))
            return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    }
    return XAI_OK;
}

static xai_status read_metrics(const char *path, const char *label, evw_entries *es)
{
    static const char *const need[] = {"method", "metric", "mean", "ci_low", "ci_high", "n"};
    xai_tsv *t = NULL;
    xai_status st = xai_tsv_load(path, 0, &t);
    if (st)
        return xai_out_fail(st, path);
    long col[6];
    for (int i = 0; i < 6 && !st; i++)
        if ((col[i] = xai_tsv_find_column(t, need[i])) < 0)
            st = xai_error_set(XAI_EFORMAT, "%s: no column '%s' (not a metrics.tsv of xai-evaluate)", path, need[i]);
    if (!st)
        st = read_rows(t, path, col, label, es);
    xai_tsv_free(t);
    return st;
}

xai_status xai_evalout_report(const char *const *inputs, int ninputs, const char *outdir, const char *sidecar_json)
{
    if (!inputs || ninputs < 1 || !outdir)
        return xai_error_set(XAI_EINVAL, "report: no metrics.tsv or no folder");
    if (strlen(outdir) > 4096 - 32)
        return xai_error_set(XAI_EINVAL, "%s: path too long", outdir);
    evw_entries es = {0};
    char (*lab)[64] = calloc((size_t)ninputs, sizeof *lab);
    xai_status st = lab ? XAI_OK : xai_error_set(XAI_ENOMEM, "report: out of memory");
    if (lab)
        input_labels(inputs, ninputs, lab);
    for (int i = 0; i < ninputs && !st; i++)
        st = read_metrics(inputs[i], ninputs > 1 ? lab[i] : NULL, &es);
    free(lab);
    if (!st && es.n == 0)
        st = xai_error_set(XAI_EFORMAT, "%s: no metric rows", inputs[0]);
    if (!st)
        st = evw_report(&es, outdir, sidecar_json);
    free(es.e);
    return st;
}
