/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eval-figure.c - the figures of an evaluation: the AOPC curves of one order (a chart), the
 * MPRT cascade (Spearman per randomised layer) and the report's methods x metrics table
 * shaded by rank. The last two are opaque RGB PNGs drawn here through fig_render().
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "eval-write-int.h"
#include "figure-int.h"
#include "xai/figure.h"

#define MAX_SERIES 64

xai_status evw_curves(const char *path, const xai_aopc_sweep *s, xai_perturb_order order, const char *title,
                      const char *xlabel)
{
    xai_chart_series ser[MAX_SERIES];
    char lab[MAX_SERIES][200];
    int ns = 0, colour = 0, steps = 1;
    for (int i = 0; i < s->nruns && ns < MAX_SERIES; i++) {
        const xai_aopc_run *r = &s->run[i];
        if (r->order != order && r->order != XAI_ORDER_RANDOM)
            continue;
        int random = r->order == XAI_ORDER_RANDOM;
        snprintf(lab[ns], sizeof lab[ns], "%.160s %.3g", r->label, r->res.aopc);
        ser[ns] = (xai_chart_series){NULL, r->res.curve, r->res.steps + 1, lab[ns],
                                     random ? XAI_SERIES_LINE | XAI_SERIES_DASHED : XAI_SERIES_LINE,
                                     random ? -1 : colour++, 1};
        steps = r->res.steps > steps ? r->res.steps : steps;
        ns++;
    }
    xai_chart_opts co;
    xai_chart_opts_init(&co);
    co.width = 900;
    co.height = 520;
    co.title = title;
    co.xlabel = xlabel;
    co.ylabel = "f(x\xe2\x81\xb0) - f(x\xe1\xb5\x8f), mean over samples";
    co.legend_note = "(legend: method, AOPC)";
    co.xmin = 0;
    co.xmax = steps;
    return xai_figure_chart(path, ser, ns, &co);
}

/* ---- report: methods x metrics, shade by rank (best darkest), value in the cell ---- */

typedef struct {
    const evw_entries *es;
    int cols[XAI_METRIC_COUNT], nc;
} report_job;

#define R_LEFT 230.0
#define R_TOP 150.0
#define R_CW 92.0
#define R_CH 30.0

static void report_headers(cairo_t *cr, const report_job *j)
{
    char buf[96];
    cairo_select_font_face(cr, FIG_FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_font_size(cr, 15);
    cairo_move_to(cr, 12, 24);
    cairo_show_text(cr, "Methods across metrics (cell: mean over samples; shade: rank, darkest = best)");
    cairo_set_font_size(cr, 12);
    for (int c = 0; c < j->nc; c++) { /* rotated headers with the direction */
        snprintf(buf, sizeof buf, "%s %s", xai_metric_name(j->cols[c]),
                 xai_metric_direction(j->cols[c]) > 0 ? "\xe2\x86\x91 higher" : "\xe2\x86\x93 lower");
        cairo_save(cr);
        cairo_move_to(cr, R_LEFT + R_CW * c + R_CW / 2, R_TOP - 8);
        cairo_rotate(cr, -M_PI / 4);
        cairo_show_text(cr, buf);
        cairo_restore(cr);
    }
}

static void report_cell(cairo_t *cr, const evw_entries *es, const evw_entry *e, double x, double y)
{
    char buf[96];
    double shade = 0.95;
    if (e && e->rank > 0 && es->nmethods > 1)
        shade = 0.35 + 0.6 * (double)(e->rank - 1) / (double)(es->nmethods - 1);
    cairo_set_source_rgb(cr, shade, 0.55 + 0.45 * shade, shade);
    cairo_rectangle(cr, x + 1, y + 1, R_CW - 2, R_CH - 2);
    cairo_fill(cr);
    snprintf(buf, sizeof buf, e && !isnan(e->mean) ? "%.3g" : "n/a", e ? e->mean : 0.0);
    double ink = shade < 0.6 ? 1 : 0;
    cairo_set_source_rgb(cr, ink, ink, ink);
    cairo_text_extents_t te;
    cairo_text_extents(cr, buf, &te);
    cairo_move_to(cr, x + R_CW / 2 - te.x_advance / 2, y + R_CH / 2 + 4);
    cairo_show_text(cr, buf);
}

static void draw_report(cairo_t *cr, const void *ctx)
{
    const report_job *j = ctx;
    const evw_entries *es = j->es;
    report_headers(cr, j);
    for (int i = 0; i < es->nmethods; i++) {
        double y = R_TOP + R_CH * i;
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, 10, y + R_CH / 2 + 4);
        cairo_show_text(cr, es->methods[i]);
        for (int c = 0; c < j->nc; c++)
            report_cell(cr, es, evw_find(es, es->methods[i], j->cols[c]), R_LEFT + R_CW * c, y);
    }
}

xai_status evw_report_figure(const evw_entries *es, const char *path)
{
    report_job j = {.es = es};
    for (int k = 0; k < XAI_METRIC_COUNT; k++)
        for (int i = 0; i < es->nmethods; i++)
            if (evw_find(es, es->methods[i], k)) {
                j.cols[j.nc++] = k;
                break;
            }
    int W = (int)(R_LEFT + R_CW * j.nc + 130), H = (int)(R_TOP + R_CH * es->nmethods + 30); /* headers overhang */
    return fig_render(path, FIG_PNG_RGB, W, H, draw_report, &j);
}

/* ---- MPRT: mean Spearman per cascade stage (0 = original model, 1 by construction) ---- */

typedef struct {
    const xai_evalout_method *ms;
    int nm, L;
} mprt_job;

#define M_W 860
#define M_H 480
#define M_ML 70.0
#define M_MT 40.0
#define M_PW (M_W - M_ML - 220.0)
#define M_PH (M_H - M_MT - 90.0)

static double mprt_px(const mprt_job *j, int k)
{
    return M_ML + M_PW * (double)k / (double)(j->L > 0 ? j->L : 1);
}

static double mprt_py(double v)
{
    return M_MT + M_PH * (1.0 - (v + 1.0) / 2.0);
}

static void mprt_axes(cairo_t *cr, const mprt_job *j)
{
    char buf[200];
    cairo_select_font_face(cr, FIG_FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
    cairo_set_line_width(cr, 1);
    for (int g = -4; g <= 4; g++) {
        double v = g / 4.0;
        cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
        cairo_move_to(cr, M_ML, mprt_py(v));
        cairo_line_to(cr, M_ML + M_PW, mprt_py(v));
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        snprintf(buf, sizeof buf, "%.2f", v);
        cairo_move_to(cr, M_ML - 40, mprt_py(v) + 4);
        cairo_show_text(cr, buf);
    }
    for (int l = 0; l <= j->L; l++) {
        cairo_save(cr);
        cairo_move_to(cr, mprt_px(j, l) - 4, M_MT + M_PH + 14);
        cairo_rotate(cr, M_PI / 6);
        cairo_show_text(cr, l == 0 ? "original" : j->ms[0].scores->mprt.layer[l - 1]);
        cairo_restore(cr);
    }
    cairo_rectangle(cr, M_ML, M_MT, M_PW, M_PH);
    cairo_stroke(cr);
    cairo_move_to(cr, M_ML, 24);
    cairo_set_font_size(cr, 14);
    cairo_show_text(cr, "MPRT: Spearman with the original map, layers randomised from the top (lower is better)");
}

static void draw_mprt(cairo_t *cr, const void *ctx)
{
    static const double pal[][3] = {{0.12, 0.47, 0.71}, {0.84, 0.15, 0.16}, {0.17, 0.63, 0.17}, {1.0, 0.5, 0.05},
                                    {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}};
    const mprt_job *j = ctx;
    mprt_axes(cr, j);
    cairo_set_font_size(cr, 12);
    for (int i = 0; i < j->nm; i++) {
        const xai_mprt_result *r = &j->ms[i].scores->mprt;
        const double *c = pal[i % 7];
        cairo_set_source_rgb(cr, c[0], c[1], c[2]);
        cairo_set_line_width(cr, 2);
        cairo_move_to(cr, mprt_px(j, 0), mprt_py(1.0));
        for (int l = 0; l < r->nlayers && l < j->L; l++)
            cairo_line_to(cr, mprt_px(j, l + 1), mprt_py(isnan(r->mean[l]) ? 0.0 : r->mean[l]));
        cairo_stroke(cr);
        cairo_move_to(cr, M_ML + M_PW + 10, M_MT + 14 + 20 * i);
        cairo_line_to(cr, M_ML + M_PW + 34, M_MT + 14 + 20 * i);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, M_ML + M_PW + 40, M_MT + 18 + 20 * i);
        cairo_show_text(cr, j->ms[i].label);
    }
}

xai_status evw_mprt_figure(const char *path, const xai_evalout_method *ms, int nm)
{
    mprt_job j = {ms, nm, ms[0].scores->mprt.nlayers};
    return fig_render(path, FIG_PNG_RGB, M_W, M_H, draw_mprt, &j);
}
