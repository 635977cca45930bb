/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * evalout.c - tables, sidecars and figures of a metric evaluation (see evalout.h). The report
 * ranks methods per metric in the metric's own direction (xai_metric_direction()), so one
 * table and one figure compare them across metrics whose "better" differs.
 */
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evalout.h"
#include "xai/tsv.h"

const char *const xai_evalout_files[] = {"metrics.tsv", "metrics_samples.tsv", "mprt.tsv", "mprt.png",
                                         "report.tsv",  "report.png"};
const int xai_evalout_nfiles = 6;

/* One (method, metric) summary of the report. */
typedef struct {
    char method[200];
    int metric;
    double mean, lo, hi, n;
    int rank;
} entry;

typedef struct {
    entry *e;
    int n, cap;
    char methods[64][200]; /* distinct methods in order of appearance */
    int nmethods;
} entries;

static int add_entry(entries *es, const char *method, int metric, double mean, double lo, double hi, double n)
{
    if (es->n == es->cap) {
        int cap = es->cap ? 2 * es->cap : 64;
        entry *p = realloc(es->e, sizeof *p * (size_t)cap);
        if (!p)
            return -1;
        es->e = p;
        es->cap = cap;
    }
    entry *e = &es->e[es->n++];
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
    return 0;
}

/* Rank within each metric: 1 = best in its direction; NaN means rank last (0 = none). */
static void rank_entries(entries *es)
{
    for (int i = 0; i < es->n; i++) {
        entry *a = &es->e[i];
        int dir = xai_metric_direction(a->metric), r = 1;
        if (isnan(a->mean)) {
            a->rank = 0;
            continue;
        }
        for (int j = 0; j < es->n; j++) {
            const entry *b = &es->e[j];
            if (j != i && b->metric == a->metric && !isnan(b->mean) && dir * (b->mean - a->mean) > 0)
                r++;
        }
        a->rank = r;
    }
}

static const entry *find(const entries *es, const char *method, int metric)
{
    for (int i = 0; i < es->n; i++)
        if (es->e[i].metric == metric && strcmp(es->e[i].method, method) == 0)
            return &es->e[i];
    return NULL;
}

static int table_fail(const xai_app *app, const char *path, xai_tsv *t)
{
    xai_tsv_free(t);
    return xai_app_fail(app, path, "%s", xai_last_error()), -1;
}

static int sidecar(const xai_app *app, const char *path, const char *extra_json, const char *desc)
{
    size_t len = strlen(extra_json ? extra_json : "{}") + strlen(desc) + 64;
    char *text = malloc(len);
    if (!text)
        return xai_app_fail(app, path, "out of memory"), -1;
    const char *ej = extra_json && strcmp(extra_json, "{}") != 0 ? extra_json : NULL;
    if (ej) /* splice the description into the caller's object */
        snprintf(text, len, "{\"Description\": \"%s\", %s", desc, strchr(ej, '{') + 1);
    else
        snprintf(text, len, "{\"Description\": \"%s\"}", desc);
    int rc = xai_app_write_sidecar(app, path, text);
    free(text);
    return rc;
}

/* report.tsv */
static int write_report_table(const xai_app *app, const entries *es, const char *path)
{
    const char *names[] = {"metric", "family", "better", "method", "mean", "ci_low", "ci_high", "n", "rank"};
    const xai_tsv_type types[] = {XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_NUMBER,
                                  XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER};
    xai_tsv *t = NULL;
    xai_status st = xai_tsv_create(9, names, types, &t);
    for (int k = 0; k < XAI_METRIC_COUNT && !st; k++)
        for (int i = 0; i < es->nmethods && !st; i++) {
            const entry *e = find(es, es->methods[i], k);
            size_t r;
            if (!e || (st = xai_tsv_add_row(t, &r)))
                continue;
            xai_tsv_set_string(t, r, 0, xai_metric_name(k));
            xai_tsv_set_string(t, r, 1, xai_metric_family(k));
            xai_tsv_set_string(t, r, 2, xai_metric_direction(k) > 0 ? "higher" : "lower");
            xai_tsv_set_string(t, r, 3, e->method);
            xai_tsv_set_number(t, r, 4, e->mean);
            xai_tsv_set_number(t, r, 5, e->lo);
            xai_tsv_set_number(t, r, 6, e->hi);
            xai_tsv_set_number(t, r, 7, e->n);
            xai_tsv_set_number(t, r, 8, e->rank > 0 ? e->rank : NAN);
        }
    if (st || (st = xai_tsv_save(t, path, 0)))
        return table_fail(app, path, t);
    xai_tsv_free(t);
    return 0;
}

/* report.png: methods x metrics, cell shade by rank (best darkest), value in the cell. */
static int write_report_figure(const xai_app *app, const entries *es, const char *path)
{
    int cols[XAI_METRIC_COUNT], nc = 0;
    for (int k = 0; k < XAI_METRIC_COUNT; k++)
        for (int i = 0; i < es->nmethods; i++)
            if (find(es, es->methods[i], k)) {
                cols[nc++] = k;
                break;
            }
    const double left = 230, top = 150, cw = 92, ch = 30;
    int W = (int)(left + cw * nc + 130), H = (int)(top + ch * es->nmethods + 30); /* rotated headers overhang */
    cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(sf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_font_size(cr, 15);
    cairo_move_to(cr, 12, 24);
    cairo_show_text(cr, "Methods across metrics (cell: mean over samples; shade: rank, darkest = best)");
    cairo_set_font_size(cr, 12);
    char buf[96];
    for (int c = 0; c < nc; c++) { /* rotated headers with the direction */
        snprintf(buf, sizeof buf, "%s %s", xai_metric_name(cols[c]),
                 xai_metric_direction(cols[c]) > 0 ? "\xe2\x86\x91 higher" : "\xe2\x86\x93 lower");
        cairo_save(cr);
        cairo_move_to(cr, left + cw * c + cw / 2, top - 8);
        cairo_rotate(cr, -M_PI / 4);
        cairo_show_text(cr, buf);
        cairo_restore(cr);
    }
    for (int i = 0; i < es->nmethods; i++) {
        double y = top + ch * i;
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, 10, y + ch / 2 + 4);
        cairo_show_text(cr, es->methods[i]);
        for (int c = 0; c < nc; c++) {
            const entry *e = find(es, es->methods[i], cols[c]);
            double shade = 0.95;
            if (e && e->rank > 0 && es->nmethods > 1)
                shade = 0.35 + 0.6 * (double)(e->rank - 1) / (double)(es->nmethods - 1);
            cairo_set_source_rgb(cr, shade, 0.55 + 0.45 * shade, shade);
            cairo_rectangle(cr, left + cw * c + 1, y + 1, cw - 2, ch - 2);
            cairo_fill(cr);
            snprintf(buf, sizeof buf, e && !isnan(e->mean) ? "%.3g" : "n/a", e ? e->mean : 0.0);
            cairo_set_source_rgb(cr, shade < 0.6 ? 1 : 0, shade < 0.6 ? 1 : 0, shade < 0.6 ? 1 : 0);
            cairo_text_extents_t te;
            cairo_text_extents(cr, buf, &te);
            cairo_move_to(cr, left + cw * c + cw / 2 - te.x_advance / 2, y + ch / 2 + 4);
            cairo_show_text(cr, buf);
        }
    }
    cairo_destroy(cr);
    int rc = xai_app_write_png(app, sf, path, "cairo", "cannot write PNG");
    cairo_surface_destroy(sf);
    return rc;
}

static int write_report(const xai_app *app, entries *es, const char *outdir, const char *extra_json)
{
    char path[4096];
    rank_entries(es);
    snprintf(path, sizeof path, "%s/report.tsv", outdir);
    if (write_report_table(app, es, path) ||
        sidecar(app, path, extra_json, "every metric per method: mean, 95% interval, rank (1 = best in the "
                "metric's direction, column better)"))
        return -1;
    snprintf(path, sizeof path, "%s/report.png", outdir);
    return write_report_figure(app, es, path);
}

/* ---- metrics.tsv, metrics_samples.tsv ------------------------------------------------ */

static int write_metrics(const xai_app *app, const char *outdir, const xai_evalout_method *ms, int nm,
                         const char *extra_json, entries *es)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/metrics.tsv", outdir);
    const char *names[] = {"method", "metric", "family", "better", "mean", "ci_low", "ci_high", "sd", "n"};
    const xai_tsv_type types[] = {XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_NUMBER,
                                  XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER};
    xai_tsv *t = NULL;
    xai_status st = xai_tsv_create(9, names, types, &t);
    for (int i = 0; i < nm && !st; i++)
        for (int k = 0; k < XAI_METRIC_COUNT && !st; k++) {
            const xai_metric_score *sc = &ms[i].scores->score[k];
            size_t r;
            if (!sc->computed || (st = xai_tsv_add_row(t, &r)))
                continue;
            xai_tsv_set_string(t, r, 0, ms[i].label);
            xai_tsv_set_string(t, r, 1, xai_metric_name(k));
            xai_tsv_set_string(t, r, 2, xai_metric_family(k));
            xai_tsv_set_string(t, r, 3, xai_metric_direction(k) > 0 ? "higher" : "lower");
            xai_tsv_set_number(t, r, 4, sc->mean);
            xai_tsv_set_number(t, r, 5, sc->ci_low);
            xai_tsv_set_number(t, r, 6, sc->ci_high);
            xai_tsv_set_number(t, r, 7, sc->sd);
            xai_tsv_set_number(t, r, 8, (double)sc->n_finite);
            if (add_entry(es, ms[i].label, k, sc->mean, sc->ci_low, sc->ci_high, (double)sc->n_finite))
                st = xai_error_set(XAI_ENOMEM, "out of memory");
        }
    if (st || (st = xai_tsv_save(t, path, 0)))
        return table_fail(app, path, t);
    xai_tsv_free(t);
    return sidecar(app, path, extra_json, "per method and metric: mean over samples with a value, 95% Student-t "
                   "interval, sd, n; better = direction of a better value");
}

static int write_samples(const xai_app *app, const char *outdir, const xai_evalout_method *ms, int nm,
                         const char *extra_json)
{
    char path[4096], col[300];
    snprintf(path, sizeof path, "%s/metrics_samples.tsv", outdir);
    const char *names[] = {"sample", "class"};
    xai_tsv *t = NULL;
    xai_status st = xai_tsv_create(2, names, NULL, &t);
    for (int i = 0; i < nm && !st; i++)
        for (int k = 0; k < XAI_METRIC_COUNT && !st; k++)
            if (ms[i].scores->score[k].computed) {
                snprintf(col, sizeof col, "%s/%s", ms[i].label, xai_metric_name(k));
                st = xai_tsv_add_column(t, col, XAI_TSV_NUMBER, NULL);
            }
    for (int64_t s = 0; s < ms[0].scores->n && !st; s++) {
        size_t r, c = 2;
        if ((st = xai_tsv_add_row(t, &r)))
            break;
        xai_tsv_set_number(t, r, 0, (double)s);
        xai_tsv_set_number(t, r, 1, ms[0].scores->target[s]);
        for (int i = 0; i < nm; i++)
            for (int k = 0; k < XAI_METRIC_COUNT; k++)
                if (ms[i].scores->score[k].computed)
                    xai_tsv_set_number(t, r, c++, ms[i].scores->score[k].sample[s]);
    }
    if (st || (st = xai_tsv_save(t, path, 0)))
        return table_fail(app, path, t);
    xai_tsv_free(t);
    return sidecar(app, path, extra_json, "per sample: the explained class and every method/metric value "
                   "(n/a where a value does not exist)");
}

/* ---- MPRT ------------------------------------------------------------------------------ */

static int write_mprt_table(const xai_app *app, const char *path, const xai_evalout_method *ms, int nm)
{
    const char *names[] = {"method", "stage", "layer", "spearman", "ci_low", "ci_high"};
    const xai_tsv_type types[] = {XAI_TSV_STRING, XAI_TSV_NUMBER, XAI_TSV_STRING, XAI_TSV_NUMBER, XAI_TSV_NUMBER,
                                  XAI_TSV_NUMBER};
    xai_tsv *t = NULL;
    xai_status st = xai_tsv_create(6, names, types, &t);
    for (int i = 0; i < nm && !st; i++) {
        const xai_mprt_result *r = &ms[i].scores->mprt;
        for (int l = 0; l < r->nlayers && !st; l++) {
            size_t row;
            if ((st = xai_tsv_add_row(t, &row)))
                break;
            xai_tsv_set_string(t, row, 0, ms[i].label);
            xai_tsv_set_number(t, row, 1, l + 1);
            xai_tsv_set_string(t, row, 2, r->layer[l]);
            xai_tsv_set_number(t, row, 3, r->mean[l]);
            xai_tsv_set_number(t, row, 4, r->ci_low[l]);
            xai_tsv_set_number(t, row, 5, r->ci_high[l]);
        }
    }
    if (st || (st = xai_tsv_save(t, path, 0)))
        return table_fail(app, path, t);
    xai_tsv_free(t);
    return 0;
}

/* mprt.png: mean Spearman per cascade stage (0 = original model, 1.0 by construction). */
static int write_mprt_figure(const xai_app *app, const char *path, const xai_evalout_method *ms, int nm)
{
    const int W = 860, H = 480;
    const double ml = 70, mr = 220, mt = 40, mb = 90, pw = W - ml - mr, ph = H - mt - mb;
    const xai_mprt_result *r0 = &ms[0].scores->mprt;
    int L = r0->nlayers;
    cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(sf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
#define PX(k) (ml + pw * (double)(k) / (double)(L > 0 ? L : 1))
#define PY(v) (mt + ph * (1.0 - ((v) + 1.0) / 2.0))
    cairo_set_line_width(cr, 1);
    char buf[200];
    for (int g = -4; g <= 4; g++) {
        double v = g / 4.0;
        cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
        cairo_move_to(cr, ml, PY(v));
        cairo_line_to(cr, ml + pw, PY(v));
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        snprintf(buf, sizeof buf, "%.2f", v);
        cairo_move_to(cr, ml - 40, PY(v) + 4);
        cairo_show_text(cr, buf);
    }
    for (int l = 0; l <= L; l++) {
        cairo_save(cr);
        cairo_move_to(cr, PX(l) - 4, mt + ph + 14);
        cairo_rotate(cr, M_PI / 6);
        cairo_show_text(cr, l == 0 ? "original" : r0->layer[l - 1]);
        cairo_restore(cr);
    }
    cairo_rectangle(cr, ml, mt, pw, ph);
    cairo_stroke(cr);
    cairo_move_to(cr, ml, 24);
    cairo_set_font_size(cr, 14);
    cairo_show_text(cr, "MPRT: Spearman with the original map, layers randomised from the top (lower is better)");
    static const double pal[][3] = {{0.12, 0.47, 0.71}, {0.84, 0.15, 0.16}, {0.17, 0.63, 0.17}, {1.0, 0.5, 0.05},
                                    {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}};
    cairo_set_font_size(cr, 12);
    for (int i = 0; i < nm; i++) {
        const xai_mprt_result *r = &ms[i].scores->mprt;
        const double *c = pal[i % 7];
        cairo_set_source_rgb(cr, c[0], c[1], c[2]);
        cairo_set_line_width(cr, 2);
        cairo_move_to(cr, PX(0), PY(1.0));
        for (int l = 0; l < r->nlayers && l < L; l++)
            cairo_line_to(cr, PX(l + 1), PY(isnan(r->mean[l]) ? 0.0 : r->mean[l]));
        cairo_stroke(cr);
        cairo_move_to(cr, ml + pw + 10, mt + 14 + 20 * i);
        cairo_line_to(cr, ml + pw + 34, mt + 14 + 20 * i);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, ml + pw + 40, mt + 18 + 20 * i);
        cairo_show_text(cr, ms[i].label);
    }
#undef PX
#undef PY
    cairo_destroy(cr);
    int rc = xai_app_write_png(app, sf, path, "cairo", "cannot write PNG");
    cairo_surface_destroy(sf);
    return rc;
}

int xai_evalout_write(const xai_app *app, const char *outdir, const xai_evalout_method *ms, int nm,
                      const char *extra_json)
{
    if (nm < 1)
        return xai_app_fail(app, outdir, "no method to write"), -1;
    entries es = {0};
    int rc = write_metrics(app, outdir, ms, nm, extra_json, &es);
    if (!rc)
        rc = write_samples(app, outdir, ms, nm, extra_json);
    if (!rc && ms[0].scores->score[XAI_METRIC_MPRT].computed) {
        char path[4096];
        snprintf(path, sizeof path, "%s/mprt.tsv", outdir);
        rc = write_mprt_table(app, path, ms, nm);
        if (!rc)
            rc = sidecar(app, path, extra_json, "MPRT per method and cascade stage: mean Spearman rank "
                         "correlation with the original map after randomising the layers up to this one");
        snprintf(path, sizeof path, "%s/mprt.png", outdir);
        if (!rc)
            rc = write_mprt_figure(app, path, ms, nm);
    }
    if (!rc)
        rc = write_report(app, &es, outdir, extra_json);
    free(es.e);
    return rc;
}

/* ---- report from metrics.tsv files ------------------------------------------------------ */

/* Directory name of @p path ("." when none) into buf. */
static void dir_label(const char *path, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(buf, len, ".");
        return;
    }
    const char *start = slash;
    while (start > path && start[-1] != '/')
        start--;
    snprintf(buf, len, "%.*s", (int)(slash - start), start);
}

static int read_metrics(const xai_app *app, const char *path, int prefix, entries *es)
{
    xai_tsv *t = NULL;
    if (xai_tsv_load(path, 0, &t) != XAI_OK)
        return xai_app_fail(app, path, "%s", xai_last_error()), -1;
    const char *need[] = {"method", "metric", "mean", "ci_low", "ci_high", "n"};
    long col[6];
    for (int i = 0; i < 6; i++)
        if ((col[i] = xai_tsv_find_column(t, need[i])) < 0) {
            xai_tsv_free(t);
            return xai_app_fail(app, path, "no column '%s' (not a metrics.tsv of xai-evaluate)", need[i]), -1;
        }
    char lab[64], method[200];
    dir_label(path, lab, sizeof lab);
    for (size_t r = 0; r < xai_tsv_nrows(t); r++) {
        const char *m = xai_tsv_get_string(t, r, (size_t)col[0]), *k = xai_tsv_get_string(t, r, (size_t)col[1]);
        int metric = -1;
        for (int q = 0; k && q < XAI_METRIC_COUNT; q++)
            if (strcmp(k, xai_metric_name(q)) == 0)
                metric = q;
        if (!m || metric < 0) {
            xai_tsv_free(t);
            return xai_app_fail(app, path, "row %zu: missing method or unknown metric '%s'", r + 2, k ? k : "n/a"), -1;
        }
        double v[4];
        for (int i = 0; i < 4; i++)
            if (xai_tsv_get_number(t, r, (size_t)col[2 + i], &v[i]) != XAI_OK) {
                xai_tsv_free(t);
                return xai_app_fail(app, path, "row %zu: '%s' is not a number", r + 2, need[2 + i]), -1;
            }
        snprintf(method, sizeof method, prefix ? "%s:%s" : "%s%s", prefix ? lab : "", m);
        if (find(es, method, metric)) {
            xai_tsv_free(t);
            return xai_app_fail(app, path, "method '%s' has metric '%s' twice", method, k), -1;
        }
        if (add_entry(es, method, metric, v[0], v[1], v[2], v[3])) {
            xai_tsv_free(t);
            return xai_app_fail(app, path, "out of memory"), -1;
        }
    }
    xai_tsv_free(t);
    return 0;
}

int xai_evalout_report(const xai_app *app, const char *const *inputs, int ninputs, const char *outdir,
                       const char *extra_json)
{
    entries es = {0};
    int rc = 0;
    for (int i = 0; i < ninputs && !rc; i++)
        rc = read_metrics(app, inputs[i], ninputs > 1, &es);
    if (!rc && es.n == 0)
        rc = (xai_app_fail(app, inputs[0], "no metric rows"), -1);
    if (!rc)
        rc = write_report(app, &es, outdir, extra_json);
    free(es.e);
    return rc;
}
