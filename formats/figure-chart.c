/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * figure-chart.c - line and scatter charts on shared axes with a legend (perturbation
 * curves, spectra, embeddings, pruning curves), drawn with the heatmap's axes and output.
 */
#include <math.h>
#include <stdio.h>

#include "figure-int.h"
#include "xai/figure.h"

#define LEGEND_W 230.0

static const double tab10[10][3] = {
    {0.12, 0.47, 0.71}, {1.00, 0.50, 0.05}, {0.17, 0.63, 0.17}, {0.84, 0.15, 0.16},
    {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.50, 0.50, 0.50},
    {0.74, 0.74, 0.13}, {0.09, 0.75, 0.81}};

void xai_palette_rgb(int i, double rgb[3])
{
    for (int c = 0; c < 3; c++)
        rgb[c] = i < 0 ? 0.35 : tab10[i % 10][c];
}

void xai_chart_opts_init(xai_chart_opts *o)
{
    *o = (xai_chart_opts){.grid = 1, .width = 760, .height = 480};
}

typedef struct {
    const xai_chart_series *s;
    int ns;
    const xai_chart_opts *o;
    double x0, x1, y0, y1; /* axis ranges */
    double rect[4];        /* data area */
} chart;

static double px(const chart *c, double x) { return c->rect[0] + (x - c->x0) / (c->x1 - c->x0) * c->rect[2]; }
static double py(const chart *c, double y) { return c->rect[1] + (c->y1 - y) / (c->y1 - c->y0) * c->rect[3]; }
static double sx(const xai_chart_series *s, int i) { return s->x ? s->x[i] : i; }

/* Data ranges; 0 when no series has a finite point. */
static int data_ranges(chart *c)
{
    double xl = INFINITY, xh = -INFINITY, yl = INFINITY, yh = -INFINITY;
    for (int k = 0; k < c->ns; k++)
        for (int i = 0; i < c->s[k].n; i++)
            if (isfinite(sx(&c->s[k], i)) && isfinite(c->s[k].y[i])) {
                xl = fmin(xl, sx(&c->s[k], i));
                xh = fmax(xh, sx(&c->s[k], i));
                yl = fmin(yl, c->s[k].y[i]);
                yh = fmax(yh, c->s[k].y[i]);
            }
    if (!(xl <= xh))
        return 0;
    double xp = xh > xl ? 0.02 * (xh - xl) : 0.5, yp = yh > yl ? 0.05 * (yh - yl) : 0.5;
    c->x0 = c->o->xmin < c->o->xmax ? c->o->xmin : xl - xp;
    c->x1 = c->o->xmin < c->o->xmax ? c->o->xmax : xh + xp;
    c->y0 = c->o->ymin < c->o->ymax ? c->o->ymin : yl - yp;
    c->y1 = c->o->ymin < c->o->ymax ? c->o->ymax : yh + yp;
    return 1;
}

static int has_legend(const chart *c)
{
    for (int k = 0; k < c->ns; k++)
        if (c->s[k].label)
            return 1;
    return 0;
}

/* Light lines at the ticks fig_axis_ticks() draws (the same tick rule). */
static void grid(cairo_t *cr, const chart *c)
{
    double t[32], step;
    int nx = fig_nice_ticks(c->x0, c->x1, c->rect[2] > 300 ? 8 : 4, t, &step);
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_set_line_width(cr, 1);
    for (int i = 0; i < nx; i++) {
        cairo_move_to(cr, px(c, t[i]), c->rect[1]);
        cairo_line_to(cr, px(c, t[i]), c->rect[1] + c->rect[3]);
    }
    int ny = fig_nice_ticks(c->y0, c->y1, c->rect[3] > 250 ? 6 : 3, t, &step);
    for (int i = 0; i < ny; i++) {
        cairo_move_to(cr, c->rect[0], py(c, t[i]));
        cairo_line_to(cr, c->rect[0] + c->rect[2], py(c, t[i]));
    }
    cairo_stroke(cr);
}

static void set_style(cairo_t *cr, const xai_chart_series *s)
{
    static const double dash[2] = {6, 4};
    double rgb[3];
    xai_palette_rgb(s->colour, rgb);
    cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], s->alpha > 0 && s->alpha < 1 ? s->alpha : 1);
    cairo_set_dash(cr, dash, (s->style & XAI_SERIES_DASHED) ? 2 : 0, 0);
    cairo_set_line_width(cr, 2);
}

static void draw_series(cairo_t *cr, const chart *c, const xai_chart_series *s)
{
    unsigned st = s->style ? s->style : XAI_SERIES_LINE;
    set_style(cr, s);
    if (st & XAI_SERIES_LINE) {
        int open = 0;
        for (int i = 0; i < s->n; i++) {
            double x = sx(s, i), y = s->y[i];
            if (!isfinite(x) || !isfinite(y)) {
                open = 0;
                continue;
            }
            if (open)
                cairo_line_to(cr, px(c, x), py(c, y));
            else
                cairo_move_to(cr, px(c, x), py(c, y));
            open = 1;
        }
        cairo_stroke(cr);
    }
    if (st & XAI_SERIES_MARKERS)
        for (int i = 0; i < s->n; i++)
            if (isfinite(sx(s, i)) && isfinite(s->y[i])) {
                cairo_new_sub_path(cr);
                cairo_arc(cr, px(c, sx(s, i)), py(c, s->y[i]), 2.6, 0, 2 * M_PI);
                cairo_fill(cr);
            }
    cairo_set_dash(cr, NULL, 0, 0);
}

/* One legend row per labelled series while they fit; then the note. */
static void legend(cairo_t *cr, const chart *c)
{
    double x = c->rect[0] + c->rect[2] + 14, y = c->rect[1] + 8, bottom = c->rect[1] + c->rect[3];
    cairo_set_font_size(cr, 11);
    for (int k = 0; k < c->ns && y + 16 <= bottom; k++) {
        const xai_chart_series *s = &c->s[k];
        if (!s->label)
            continue;
        unsigned st = s->style ? s->style : XAI_SERIES_LINE;
        set_style(cr, s);
        if (st & XAI_SERIES_LINE) {
            cairo_move_to(cr, x, y + 6);
            cairo_line_to(cr, x + 24, y + 6);
            cairo_stroke(cr);
        } else {
            cairo_arc(cr, x + 12, y + 6, 3.5, 0, 2 * M_PI);
            cairo_fill(cr);
        }
        cairo_set_dash(cr, NULL, 0, 0);
        cairo_set_source_rgb(cr, 0, 0, 0);
        fig_text_at(cr, s->label, x + 30, y + 6, 0, 0.5, 0);
        y += 18;
    }
    if (c->o->legend_note) {
        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        cairo_set_font_size(cr, 10);
        fig_text_at(cr, c->o->legend_note, x, y + 6, 0, 0.5, 0);
    }
}

static void draw_chart(cairo_t *cr, const void *p)
{
    const chart *c = p;
    const xai_chart_opts *o = c->o;
    cairo_select_font_face(cr, FIG_FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    if (o->grid)
        grid(cr, c);
    cairo_save(cr);
    cairo_rectangle(cr, c->rect[0], c->rect[1], c->rect[2], c->rect[3]);
    cairo_clip(cr);
    for (int k = 0; k < c->ns; k++)
        draw_series(cr, c, &c->s[k]);
    cairo_restore(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, c->rect[0], c->rect[1], c->rect[2], c->rect[3]);
    cairo_stroke(cr);
    fig_axis_ticks(cr, 0, c->x0, c->x1, c->rect[0], c->rect[2], c->rect[1] + c->rect[3]);
    fig_axis_ticks(cr, 1, c->y1, c->y0, c->rect[1], c->rect[3], c->rect[0]);
    cairo_set_font_size(cr, 12);
    if (o->xlabel)
        fig_text_at(cr, o->xlabel, c->rect[0] + c->rect[2] / 2, o->height - 8, 0.5, 1, 0);
    if (o->ylabel)
        fig_text_at(cr, o->ylabel, 8, c->rect[1] + c->rect[3] / 2, 0.5, 0, -M_PI / 2);
    if (o->title) {
        cairo_select_font_face(cr, FIG_FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
        cairo_set_font_size(cr, 14);
        fig_text_at(cr, o->title, c->rect[0] + c->rect[2] / 2, 12, 0.5, 0, 0);
        cairo_select_font_face(cr, FIG_FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    }
    if (has_legend(c))
        legend(cr, c);
}

static xai_status check_series(const char *path, const xai_chart_series *s, int ns)
{
    if (!s || ns <= 0)
        return xai_error_set(XAI_EINVAL, "%s: a chart needs at least one series", path);
    for (int k = 0; k < ns; k++)
        if (s[k].n < 0 || (s[k].n > 0 && !s[k].y))
            return xai_error_set(XAI_EINVAL, "%s: series %d has no y values", path, k);
    return XAI_OK;
}

xai_status xai_figure_chart(const char *path, const xai_chart_series *series, int nseries,
                            const xai_chart_opts *o)
{
    xai_chart_opts def;
    fig_kind kind;
    chart c = {.s = series, .ns = nseries};
    if (!o) {
        xai_chart_opts_init(&def);
        o = &def;
    }
    c.o = o;
    xai_status st = fig_out_kind(path, &kind);
    if (st == XAI_OK)
        st = fig_check_size(path, o->width, o->height);
    if (st == XAI_OK)
        st = check_series(path, series, nseries);
    if (st != XAI_OK)
        return st;
    if (!data_ranges(&c))
        return xai_error_set(XAI_EINVAL, "%s: the chart has no finite point", path);
    double right = has_legend(&c) ? LEGEND_W : 24, top = o->title ? 40 : 16;
    c.rect[0] = o->ylabel ? 84 : 64;
    c.rect[1] = top;
    c.rect[2] = fmax(1.0, o->width - c.rect[0] - right);
    c.rect[3] = fmax(1.0, o->height - top - (o->xlabel ? 62 : 40));
    return fig_render(path, kind, o->width, o->height, draw_chart, &c);
}
