/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * figure.c - heatmaps and signed overlays drawn with cairo (image, SVG and PDF surfaces).
 * Cells become one pixel each in an image surface that is painted scaled into the data area
 * with a NEAREST filter, so the cells stay crisp in every output and large arrays stay cheap.
 * Colour maps follow matplotlib's linear-segment definitions of bwr, seismic and hot.
 * Ref: cairo API (cairographics.org/manual), matplotlib _cm.py segment data.
 */
#include "xai/figure.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xai/atomic.h"
#include "figure-int.h"

#define MAX_IMAGE 8192 /* cells beyond this are decimated (cairo images stop at 32767) */

/* ---- colour maps ----------------------------------------------------------------------- */

typedef struct {
    double t, r, g, b;
} stop;

static const stop seismic[] = {
    {0.0, 0.0, 0.0, 0.3}, {0.25, 0.0, 0.0, 1.0}, {0.5, 1.0, 1.0, 1.0},
    {0.75, 1.0, 0.0, 0.0}, {1.0, 0.5, 0.0, 0.0}};

static void interp(const stop *s, size_t n, double t, double rgb[3])
{
    for (size_t i = 1; i < n; i++)
        if (t <= s[i].t || i == n - 1) {
            double f = (t - s[i - 1].t) / (s[i].t - s[i - 1].t);
            f = f < 0 ? 0 : f > 1 ? 1 : f;
            rgb[0] = s[i - 1].r + f * (s[i].r - s[i - 1].r);
            rgb[1] = s[i - 1].g + f * (s[i].g - s[i - 1].g);
            rgb[2] = s[i - 1].b + f * (s[i].b - s[i - 1].b);
            return;
        }
}

static double ramp(double t, double a, double b)
{
    return t <= a ? 0.0 : t >= b ? 1.0 : (t - a) / (b - a);
}

void xai_colormap_rgb(xai_colormap cm, double t, double rgb[3])
{
    if (isnan(t)) {
        rgb[0] = rgb[1] = rgb[2] = 0.5;
        return;
    }
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    switch (cm) {
    case XAI_CMAP_SEISMIC:
        interp(seismic, sizeof seismic / sizeof seismic[0], t, rgb);
        return;
    case XAI_CMAP_HOT:
        rgb[0] = ramp(t, 0.0, 0.365079);
        rgb[1] = ramp(t, 0.365079, 0.746032);
        rgb[2] = ramp(t, 0.746032, 1.0);
        return;
    case XAI_CMAP_GREY:
        rgb[0] = rgb[1] = rgb[2] = t;
        return;
    case XAI_CMAP_BWR:
    default:
        if (t < 0.5) {
            rgb[0] = rgb[1] = 2 * t;
            rgb[2] = 1;
        } else {
            rgb[0] = 1;
            rgb[1] = rgb[2] = 2 * (1 - t);
        }
        return;
    }
}

int xai_colormap_is_signed(xai_colormap cm)
{
    return cm == XAI_CMAP_BWR || cm == XAI_CMAP_SEISMIC;
}

static uint32_t pack(const double rgb[3], double a)
{
    /* cairo ARGB32 is premultiplied, native-endian 32-bit words */
    uint32_t A = (uint32_t)(a * 255 + 0.5);
    uint32_t R = (uint32_t)(rgb[0] * a * 255 + 0.5), G = (uint32_t)(rgb[1] * a * 255 + 0.5),
             B = (uint32_t)(rgb[2] * a * 255 + 0.5);
    return A << 24 | R << 16 | G << 8 | B;
}

/* ---- figure description, layout ------------------------------------------------------ */

typedef struct {
    const char *title, *xlabel, *ylabel, *cbar_label;
    xai_colormap cmap;
    double vmin, vmax, x0, dx, y0, dy;
    int origin_lower, colorbar, width, height;
} spec;

static void layout(const spec *s, double rect[4])
{
    double left = s->ylabel ? 78 : 60, right = s->colorbar ? (s->cbar_label ? 110 : 90) : 20;
    double top = s->title ? 40 : 16, bottom = s->xlabel ? 62 : 40;
    rect[0] = left;
    rect[1] = top;
    rect[2] = fmax(1.0, s->width - left - right);
    rect[3] = fmax(1.0, s->height - top - bottom);
}

void xai_heatmap_opts_init(xai_heatmap_opts *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->cmap = XAI_CMAP_BWR;
    o->dx = o->dy = 1;
    o->colorbar = 1;
    o->width = 640;
    o->height = 480;
}

void xai_overlay_opts_init(xai_overlay_opts *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->cmap = XAI_CMAP_BWR;
    o->alpha = 0.8;
    o->colorbar = 1;
    o->width = 640;
    o->height = 480;
}

static void heat_spec(const xai_heatmap_opts *o, spec *s)
{
    xai_heatmap_opts d;
    if (!o) {
        xai_heatmap_opts_init(&d);
        o = &d;
    }
    s->title = o->title;
    s->xlabel = o->xlabel;
    s->ylabel = o->ylabel;
    s->cbar_label = o->cbar_label;
    s->cmap = o->cmap;
    s->vmin = o->vmin;
    s->vmax = o->vmax;
    s->x0 = o->x0;
    s->dx = o->dx != 0 ? o->dx : 1;
    s->y0 = o->y0;
    s->dy = o->dy != 0 ? o->dy : 1;
    s->origin_lower = o->origin_lower;
    s->colorbar = o->colorbar;
    s->width = o->width;
    s->height = o->height;
}

static void overlay_spec(const xai_overlay_opts *o, spec *s)
{
    xai_overlay_opts d;
    if (!o) {
        xai_overlay_opts_init(&d);
        o = &d;
    }
    memset(s, 0, sizeof *s);
    s->title = o->title;
    s->cmap = o->cmap;
    s->vmax = o->vmax;
    s->dx = s->dy = 1;
    s->origin_lower = o->origin_lower;
    s->colorbar = o->colorbar;
    s->width = o->width;
    s->height = o->height;
}

void xai_heatmap_layout(const xai_heatmap_opts *o, double rect[4])
{
    spec s;
    heat_spec(o, &s);
    layout(&s, rect);
}

void xai_overlay_layout(const xai_overlay_opts *o, double rect[4])
{
    spec s;
    overlay_spec(o, &s);
    layout(&s, rect);
}

/* ---- drawing helpers ------------------------------------------------------------------- */

/* Text anchored at (x, y): ax/ay are the fractions of its box left of / above the point. */
void fig_text_at(cairo_t *cr, const char *txt, double x, double y, double ax, double ay,
                 double angle)
{
    cairo_text_extents_t e;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, angle);
    cairo_text_extents(cr, txt, &e);
    cairo_move_to(cr, -ax * e.width - e.x_bearing, -ay * e.height - e.y_bearing);
    cairo_show_text(cr, txt);
    cairo_restore(cr);
}

/* Up to about maxn "nice" tick values (1, 2 or 5 times a power of ten) within [lo, hi]. */
int fig_nice_ticks(double lo, double hi, int maxn, double *ticks, double *step_out)
{
    double range = hi - lo, raw, mag, step, f;
    int n = 0;
    if (!(range > 0) || !isfinite(range))
        return 0;
    raw = range / maxn;
    mag = pow(10, floor(log10(raw)));
    f = raw / mag;
    step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
    for (double v = ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9 && n < 2 * maxn + 2;
         v += step)
        ticks[n++] = fabs(v) < step * 1e-9 ? 0.0 : v;
    *step_out = step;
    return n;
}

static void tick_label(double v, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.6g", v);
}

/*
 * Draw the ticks of one axis. along: 0 = x axis (bottom), 1 = y axis (left), 2 = colour bar
 * (right). a/b: data values at the start/end of the axis in drawing order
 * (left-to-right or top-to-bottom); p0/len: its position; at: the other coordinate.
 */
void fig_axis_ticks(cairo_t *cr, int along, double a, double b, double p0, double len,
                    double at)
{
    double ticks[32], step;
    int maxn = along == 0 ? (len > 300 ? 8 : 4) : (len > 250 ? 6 : 3);
    int n = fig_nice_ticks(fmin(a, b), fmax(a, b), maxn, ticks, &step);
    char lab[64];
    cairo_set_font_size(cr, 11);
    cairo_set_line_width(cr, 1);
    for (int i = 0; i < n; i++) {
        double p = p0 + (ticks[i] - a) / (b - a) * len;
        tick_label(ticks[i], lab, sizeof lab);
        if (along == 0) {
            cairo_move_to(cr, p, at);
            cairo_line_to(cr, p, at + 5);
            cairo_stroke(cr);
            fig_text_at(cr, lab, p, at + 8, 0.5, 0, 0);
        } else if (along == 1) {
            cairo_move_to(cr, at, p);
            cairo_line_to(cr, at - 5, p);
            cairo_stroke(cr);
            fig_text_at(cr, lab, at - 8, p, 1, 0.5, 0);
        } else {
            cairo_move_to(cr, at, p);
            cairo_line_to(cr, at + 4, p);
            cairo_stroke(cr);
            fig_text_at(cr, lab, at + 7, p, 0, 0.5, 0);
        }
    }
}

/* Paint a cols x rows image stretched over rect, flipped when origin_lower. */
static void paint_cells(cairo_t *cr, cairo_surface_t *img, const double rect[4], int origin_lower,
                        double alpha)
{
    int iw = cairo_image_surface_get_width(img), ih = cairo_image_surface_get_height(img);
    cairo_pattern_t *pat;
    cairo_save(cr);
    cairo_rectangle(cr, rect[0], rect[1], rect[2], rect[3]);
    cairo_clip(cr);
    cairo_translate(cr, rect[0], rect[1]);
    cairo_scale(cr, rect[2] / iw, rect[3] / ih);
    if (origin_lower) {
        cairo_translate(cr, 0, ih);
        cairo_scale(cr, 1, -1);
    }
    cairo_set_source_surface(cr, img, 0, 0);
    pat = cairo_get_source(cr);
    cairo_pattern_set_filter(pat, CAIRO_FILTER_NEAREST);
    cairo_pattern_set_extend(pat, CAIRO_EXTEND_PAD);
    cairo_rectangle(cr, 0, 0, iw, ih);
    cairo_clip(cr);
    if (alpha >= 1)
        cairo_paint(cr);
    else
        cairo_paint_with_alpha(cr, alpha);
    cairo_restore(cr);
}

/* An image of the array: colour(v) per cell; NULL on failure. */
typedef uint32_t (*cell_colour)(float v, const void *ctx);

static cairo_surface_t *cells_image(const float *data, int rows, int cols, cell_colour fn,
                                    const void *ctx)
{
    int iw = cols < MAX_IMAGE ? cols : MAX_IMAGE, ih = rows < MAX_IMAGE ? rows : MAX_IMAGE;
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, iw, ih);
    unsigned char *px;
    int stride;
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(img);
        return NULL;
    }
    cairo_surface_flush(img);
    px = cairo_image_surface_get_data(img);
    stride = cairo_image_surface_get_stride(img);
    for (int y = 0; y < ih; y++) {
        size_t r = (size_t)((int64_t)y * rows / ih);
        uint32_t *line = (uint32_t *)(void *)(px + (size_t)y * (size_t)stride);
        for (int x = 0; x < iw; x++) {
            size_t c = (size_t)((int64_t)x * cols / iw);
            line[x] = fn(data[r * (size_t)cols + c], ctx);
        }
    }
    cairo_surface_mark_dirty(img);
    return img;
}

typedef struct {
    xai_colormap cmap;
    double lo, hi, threshold;
} colour_ctx;

static uint32_t heat_colour(float v, const void *p)
{
    const colour_ctx *c = p;
    double rgb[3];
    if (isnan(v)) {
        rgb[0] = rgb[1] = rgb[2] = 0.85;
        return pack(rgb, 1);
    }
    xai_colormap_rgb(c->cmap, (v - c->lo) / (c->hi - c->lo), rgb);
    return pack(rgb, 1);
}

static uint32_t grey_colour(float v, const void *p)
{
    const colour_ctx *c = p;
    double rgb[3];
    double t = isnan(v) ? 0 : (v - c->lo) / (c->hi - c->lo);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    rgb[0] = rgb[1] = rgb[2] = t;
    return pack(rgb, 1);
}

static uint32_t overlay_colour(float v, const void *p)
{
    const colour_ctx *c = p;
    double rgb[3];
    if (isnan(v) || fabs(v) <= c->threshold)
        return 0; /* transparent */
    xai_colormap_rgb(c->cmap, (v - c->lo) / (c->hi - c->lo), rgb);
    return pack(rgb, 1);
}

static void colour_bar(cairo_t *cr, const spec *s, const double rect[4], double lo, double hi)
{
    double x = rect[0] + rect[2] + 18, w = 16, y = rect[1], h = rect[3];
    cairo_surface_t *bar = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 256);
    if (cairo_surface_status(bar) == CAIRO_STATUS_SUCCESS) {
        unsigned char *px;
        int stride;
        double r4[4] = {x, y, w, h};
        cairo_surface_flush(bar);
        px = cairo_image_surface_get_data(bar);
        stride = cairo_image_surface_get_stride(bar);
        for (int i = 0; i < 256; i++) {
            double rgb[3];
            xai_colormap_rgb(s->cmap, 1.0 - (i + 0.5) / 256.0, rgb); /* top = hi */
            *(uint32_t *)(void *)(px + (size_t)i * (size_t)stride) = pack(rgb, 1);
        }
        cairo_surface_mark_dirty(bar);
        paint_cells(cr, bar, r4, 0, 1);
    }
    cairo_surface_destroy(bar);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x, y, w, h);
    cairo_stroke(cr);
    fig_axis_ticks(cr, 2, hi, lo, y, h, x + w);
    if (s->cbar_label) {
        cairo_set_font_size(cr, 12);
        fig_text_at(cr, s->cbar_label, s->width - 8, y + h / 2, 0.5, 1, -M_PI / 2);
    }
}

/* Frame, ticks, labels and title around the data area. */
static void decorations(cairo_t *cr, const spec *s, const double rect[4], int rows, int cols)
{
    double xa = s->x0 - s->dx / 2, xb = s->x0 + (cols - 0.5) * s->dx;
    double ya = s->y0 - s->dy / 2, yb = s->y0 + (rows - 0.5) * s->dy;
    cairo_select_font_face(cr, FIG_FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, rect[0], rect[1], rect[2], rect[3]);
    cairo_stroke(cr);
    fig_axis_ticks(cr, 0, xa, xb, rect[0], rect[2], rect[1] + rect[3]);
    if (s->origin_lower)
        fig_axis_ticks(cr, 1, yb, ya, rect[1], rect[3], rect[0]);
    else
        fig_axis_ticks(cr, 1, ya, yb, rect[1], rect[3], rect[0]);
    cairo_set_font_size(cr, 12);
    if (s->xlabel)
        fig_text_at(cr, s->xlabel, rect[0] + rect[2] / 2, s->height - 8, 0.5, 1, 0);
    if (s->ylabel)
        fig_text_at(cr, s->ylabel, 8, rect[1] + rect[3] / 2, 0.5, 0, -M_PI / 2);
    if (s->title) {
        cairo_select_font_face(cr, FIG_FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
        cairo_set_font_size(cr, 14);
        fig_text_at(cr, s->title, rect[0] + rect[2] / 2, 12, 0.5, 0, 0);
        cairo_select_font_face(cr, FIG_FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    }
}

/* ---- output ---------------------------------------------------------------------------- */

static cairo_status_t write_fn(void *closure, const unsigned char *data, unsigned int len)
{
    return fwrite(data, 1, len, (FILE *)closure) == len ? CAIRO_STATUS_SUCCESS
                                                        : CAIRO_STATUS_WRITE_ERROR;
}

xai_status fig_out_kind(const char *path, fig_kind *k)
{
    const char *dot;
    if (!path || !*path)
        return xai_error_set(XAI_EINVAL, "figure: empty output path");
    dot = strrchr(path, '.');
    if (dot && strcasecmp(dot, ".png") == 0)
        *k = FIG_PNG;
    else if (dot && strcasecmp(dot, ".svg") == 0)
        *k = FIG_SVG;
    else if (dot && strcasecmp(dot, ".pdf") == 0)
        *k = FIG_PDF;
    else
        return xai_error_set(XAI_EINVAL, "%s: unknown figure type (use .png, .svg or .pdf)", path);
    return XAI_OK;
}

xai_status fig_check_size(const char *path, int width, int height)
{
    if (width < FIG_MIN_SIZE || height < FIG_MIN_SIZE || width > FIG_MAX_SIZE ||
        height > FIG_MAX_SIZE)
        return xai_error_set(XAI_EINVAL, "%s: figure size %d x %d is outside %d..%d", path,
                             width, height, FIG_MIN_SIZE, FIG_MAX_SIZE);
    return XAI_OK;
}

static xai_status check_common(const char *path, int rows, int cols, const spec *s, fig_kind *k)
{
    xai_status st = fig_out_kind(path, k);
    if (st != XAI_OK)
        return st;
    if (rows <= 0 || cols <= 0)
        return xai_error_set(XAI_EINVAL, "%s: cannot draw a %d x %d array", path, rows, cols);
    if ((st = fig_check_size(path, s->width, s->height)) != XAI_OK)
        return st;
    if ((unsigned)s->cmap >= XAI_CMAP_COUNT)
        return xai_error_set(XAI_EINVAL, "%s: unknown colour map %d", path, (int)s->cmap);
    return XAI_OK;
}

xai_status fig_render(const char *path, fig_kind kind, int width, int height, fig_draw_fn draw,
                      const void *ctx)
{
    xai_atomic_file af;
    cairo_surface_t *surf;
    cairo_t *cr;
    cairo_status_t cs;
    xai_status st = xai_atomic_begin(path, &af);
    if (st != XAI_OK)
        return st;
    if (kind == FIG_PNG || kind == FIG_PNG_RGB)
        surf = cairo_image_surface_create(kind == FIG_PNG ? CAIRO_FORMAT_ARGB32 : CAIRO_FORMAT_RGB24, width, height);
    else if (kind == FIG_SVG)
        surf = cairo_svg_surface_create_for_stream(write_fn, af.f, width, height);
    else
        surf = cairo_pdf_surface_create_for_stream(write_fn, af.f, width, height);
    cr = cairo_create(surf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    draw(cr, ctx);
    cs = cairo_status(cr);
    cairo_destroy(cr);
    if (cs == CAIRO_STATUS_SUCCESS && (kind == FIG_PNG || kind == FIG_PNG_RGB))
        cs = cairo_surface_write_to_png_stream(surf, write_fn, af.f);
    cairo_surface_finish(surf);
    if (cs == CAIRO_STATUS_SUCCESS)
        cs = cairo_surface_status(surf);
    cairo_surface_destroy(surf);
    if (cs != CAIRO_STATUS_SUCCESS) {
        st = xai_error_set(cs == CAIRO_STATUS_WRITE_ERROR ? XAI_EIO : XAI_EDEP, "%s: cairo: %s",
                           path, cairo_status_to_string(cs));
        xai_atomic_abort(&af);
        return st;
    }
    return xai_atomic_commit(&af);
}

/* Finite min/max and max |x|; returns 0 when there is no finite value. */
static int data_range(const float *d, size_t n, double *lo, double *hi, double *amax)
{
    int any = 0;
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(d[i])) {
            any = 1;
            *lo = fmin(*lo, d[i]);
            *hi = fmax(*hi, d[i]);
        }
    *amax = any ? fmax(fabs(*lo), fabs(*hi)) : 0;
    return any;
}

/* ---- heatmap --------------------------------------------------------------------------- */

typedef struct {
    const spec *s;
    const float *data;
    int rows, cols;
    double lo, hi;
    cairo_surface_t *img;
} heat_job;

static void draw_heatmap(cairo_t *cr, const void *p)
{
    const heat_job *j = p;
    double rect[4];
    layout(j->s, rect);
    paint_cells(cr, j->img, rect, j->s->origin_lower, 1);
    decorations(cr, j->s, rect, j->rows, j->cols);
    if (j->s->colorbar)
        colour_bar(cr, j->s, rect, j->lo, j->hi);
}

xai_status xai_figure_heatmap(const char *path, const float *data, int rows, int cols,
                              const xai_heatmap_opts *o)
{
    spec s;
    fig_kind kind;
    heat_job j;
    colour_ctx cc;
    double lo, hi, amax;
    xai_status st;

    heat_spec(o, &s);
    st = check_common(path, rows, cols, &s, &kind);
    if (st != XAI_OK)
        return st;
    if (!data)
        return xai_error_set(XAI_EINVAL, "%s: NULL data", path);
    if (s.vmin < s.vmax && isfinite(s.vmin) && isfinite(s.vmax)) {
        lo = s.vmin;
        hi = s.vmax;
    } else {
        data_range(data, (size_t)rows * (size_t)cols, &lo, &hi, &amax);
        if (xai_colormap_is_signed(s.cmap)) {
            hi = amax > 0 ? amax : 1;
            lo = -hi;
        } else if (!(lo < hi)) {
            double c = isfinite(lo) ? lo : 0;
            lo = c - 0.5;
            hi = c + 0.5;
        }
    }
    cc.cmap = s.cmap;
    cc.lo = lo;
    cc.hi = hi;
    cc.threshold = 0;
    j.s = &s;
    j.data = data;
    j.rows = rows;
    j.cols = cols;
    j.lo = lo;
    j.hi = hi;
    j.img = cells_image(data, rows, cols, heat_colour, &cc);
    if (!j.img)
        return xai_error_set(XAI_ENOMEM, "%s: cannot make the cell image", path);
    st = fig_render(path, kind, s.width, s.height, draw_heatmap, &j);
    cairo_surface_destroy(j.img);
    return st;
}

/* ---- overlay --------------------------------------------------------------------------- */

typedef struct {
    const spec *s;
    int rows, cols;
    double vmax, alpha;
    cairo_surface_t *bg, *map;
} overlay_job;

static void draw_overlay(cairo_t *cr, const void *p)
{
    const overlay_job *j = p;
    double rect[4];
    layout(j->s, rect);
    paint_cells(cr, j->bg, rect, j->s->origin_lower, 1);
    paint_cells(cr, j->map, rect, j->s->origin_lower, j->alpha);
    decorations(cr, j->s, rect, j->rows, j->cols);
    if (j->s->colorbar)
        colour_bar(cr, j->s, rect, -j->vmax, j->vmax);
}

xai_status xai_figure_overlay(const char *path, const float *background, const float *map,
                              int rows, int cols, const xai_overlay_opts *o)
{
    xai_overlay_opts d;
    spec s;
    fig_kind kind;
    overlay_job j;
    colour_ctx bgc, mc;
    double lo, hi, amax;
    size_t n;
    xai_status st;

    if (!o) {
        xai_overlay_opts_init(&d);
        o = &d;
    }
    overlay_spec(o, &s);
    st = check_common(path, rows, cols, &s, &kind);
    if (st != XAI_OK)
        return st;
    if (!background || !map)
        return xai_error_set(XAI_EINVAL, "%s: NULL background or map", path);
    if (!(o->alpha >= 0 && o->alpha <= 1) || !(o->threshold >= 0) || isnan(o->vmax))
        return xai_error_set(XAI_EINVAL, "%s: alpha must be in [0, 1] and threshold >= 0", path);
    n = (size_t)rows * (size_t)cols;
    if (!data_range(background, n, &lo, &hi, &amax))
        lo = 0, hi = 1;
    if (!(lo < hi))
        lo -= 0.5, hi += 0.5;
    bgc.cmap = XAI_CMAP_GREY;
    bgc.lo = lo;
    bgc.hi = hi;
    bgc.threshold = 0;
    if (o->vmax > 0 && isfinite(o->vmax)) {
        amax = o->vmax;
    } else {
        data_range(map, n, &lo, &hi, &amax);
        if (!(amax > 0))
            amax = 1;
    }
    mc.cmap = s.cmap;
    mc.lo = -amax;
    mc.hi = amax;
    mc.threshold = o->threshold;
    j.s = &s;
    j.rows = rows;
    j.cols = cols;
    j.vmax = amax;
    j.alpha = o->alpha;
    j.bg = cells_image(background, rows, cols, grey_colour, &bgc);
    j.map = cells_image(map, rows, cols, overlay_colour, &mc);
    if (!j.bg || !j.map) {
        cairo_surface_destroy(j.bg);
        cairo_surface_destroy(j.map);
        return xai_error_set(XAI_ENOMEM, "%s: cannot make the cell images", path);
    }
    st = fig_render(path, kind, s.width, s.height, draw_overlay, &j);
    cairo_surface_destroy(j.bg);
    cairo_surface_destroy(j.map);
    return st;
}
