/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * figure-int.h - what the figure sources (figure.c: heatmaps and overlays; figure-chart.c:
 * line and scatter charts) share: output kind, size checks, atomic rendering, axis ticks and
 * anchored text. Private to the formats library.
 */
#ifndef XAI_FIGURE_INT_H
#define XAI_FIGURE_INT_H

#include <cairo.h>

#include "xai/status.h"

#define FIG_FONT "DejaVu Sans"
#define FIG_MIN_SIZE 64
#define FIG_MAX_SIZE 16384

/* FIG_PNG_RGB: an opaque RGB PNG (no alpha channel), for figures drawn edge to edge */
typedef enum { FIG_PNG, FIG_SVG, FIG_PDF, FIG_PNG_RGB } fig_kind;
typedef void (*fig_draw_fn)(cairo_t *cr, const void *ctx);

/* The output kind from @p path's extension (.png, .svg, .pdf), or XAI_EINVAL naming it. */
xai_status fig_out_kind(const char *path, fig_kind *k);
/* XAI_EINVAL naming @p path when the size is outside FIG_MIN_SIZE..FIG_MAX_SIZE. */
xai_status fig_check_size(const char *path, int width, int height);
/* Paint white, call @p draw, write @p path atomically; the detail names the path. */
xai_status fig_render(const char *path, fig_kind kind, int width, int height, fig_draw_fn draw,
                      const void *ctx);
/* Text anchored at (x, y): ax/ay are the fractions of its box left of / above the point. */
void fig_text_at(cairo_t *cr, const char *txt, double x, double y, double ax, double ay,
                 double angle);
/* Up to about maxn "nice" ticks (1, 2 or 5 times a power of ten) in [lo, hi]; their count. */
int fig_nice_ticks(double lo, double hi, int maxn, double *ticks, double *step_out);
/* Ticks of one axis: along 0 = x (bottom), 1 = y (left), 2 = colour bar (right); a/b are the
 * values at the start/end of the axis in drawing order, p0/len its position, at the other
 * coordinate. */
void fig_axis_ticks(cairo_t *cr, int along, double a, double b, double p0, double len, double at);

#endif /* XAI_FIGURE_INT_H */
