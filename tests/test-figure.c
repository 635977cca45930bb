/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-figure.c - colour maps, heatmaps and overlays: PNGs are read back with cairo and
 * pixels checked at the centres of known cells (red for the positive maximum, blue for the
 * negative one, white for 0, grey background under the threshold), the colour bar, image
 * size, text; SVG and PDF output is checked for its signature and size; bad arguments; line
 * and scatter charts.
 */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"
#include "xai/figure.h"

typedef struct {
    int r, g, b;
} px;

typedef struct {
    cairo_surface_t *s;
    int w, h;
} png;

static png load_png(const char *path)
{
    png p;
    p.s = cairo_image_surface_create_from_png(path);
    ck_assert_msg(cairo_surface_status(p.s) == CAIRO_STATUS_SUCCESS, "cannot read %s", path);
    p.w = cairo_image_surface_get_width(p.s);
    p.h = cairo_image_surface_get_height(p.s);
    cairo_surface_flush(p.s);
    return p;
}

static px pixel(const png *p, double x, double y)
{
    int ix = (int)x, iy = (int)y;
    const unsigned char *d = cairo_image_surface_get_data(p->s);
    uint32_t v;
    px r;
    ck_assert(ix >= 0 && iy >= 0 && ix < p->w && iy < p->h);
    v = *(const uint32_t *)(const void *)(d + (size_t)iy * cairo_image_surface_get_stride(p->s) +
                                          4 * (size_t)ix);
    r.r = (int)(v >> 16 & 0xff);
    r.g = (int)(v >> 8 & 0xff);
    r.b = (int)(v & 0xff);
    return r;
}

#define ASSERT_PX(p, R, G, B, tol)                                                           \
    ck_assert_msg(abs((p).r - (R)) <= (tol) && abs((p).g - (G)) <= (tol) &&                  \
                      abs((p).b - (B)) <= (tol),                                              \
                  "pixel (%d,%d,%d), want (%d,%d,%d)", (p).r, (p).g, (p).b, (R), (G), (B))

/* Centre of cell (r, c) of a rows x cols array drawn in rect. */
static void cell_xy(const double rect[4], int rows, int cols, int r, int c, int lower, double *x,
                    double *y)
{
    *x = rect[0] + (c + 0.5) * rect[2] / cols;
    *y = rect[1] + ((lower ? rows - 1 - r : r) + 0.5) * rect[3] / rows;
}

/* Dark pixels in a box (text, lines). */
static int dark_in(const png *p, double x0, double y0, double x1, double y1)
{
    int n = 0;
    for (int y = (int)y0; y < (int)y1; y++)
        for (int x = (int)x0; x < (int)x1; x++) {
            px q = pixel(p, x, y);
            n += q.r < 100 && q.g < 100 && q.b < 100;
        }
    return n;
}

START_TEST(test_colormaps)
{
    double c[3];
    xai_colormap_rgb(XAI_CMAP_BWR, 0, c);
    ck_assert(c[0] == 0 && c[1] == 0 && c[2] == 1);
    xai_colormap_rgb(XAI_CMAP_BWR, 0.5, c);
    ck_assert(c[0] == 1 && c[1] == 1 && c[2] == 1);
    xai_colormap_rgb(XAI_CMAP_BWR, 1, c);
    ck_assert(c[0] == 1 && c[1] == 0 && c[2] == 0);
    xai_colormap_rgb(XAI_CMAP_BWR, 0.75, c);
    ck_assert(c[0] == 1 && fabs(c[1] - 0.5) < 1e-12 && fabs(c[2] - 0.5) < 1e-12);
    xai_colormap_rgb(XAI_CMAP_BWR, 7, c); /* clamped */
    ck_assert(c[0] == 1 && c[1] == 0 && c[2] == 0);
    xai_colormap_rgb(XAI_CMAP_SEISMIC, 0, c);
    ck_assert(c[0] == 0 && c[1] == 0 && fabs(c[2] - 0.3) < 1e-12);
    xai_colormap_rgb(XAI_CMAP_SEISMIC, 0.5, c);
    ck_assert(c[0] == 1 && c[1] == 1 && c[2] == 1);
    xai_colormap_rgb(XAI_CMAP_SEISMIC, 1, c);
    ck_assert(fabs(c[0] - 0.5) < 1e-12 && c[1] == 0 && c[2] == 0);
    xai_colormap_rgb(XAI_CMAP_SEISMIC, -3, c);
    ck_assert(c[0] == 0 && c[1] == 0 && fabs(c[2] - 0.3) < 1e-12);
    xai_colormap_rgb(XAI_CMAP_HOT, 0, c);
    ck_assert(c[0] == 0 && c[1] == 0 && c[2] == 0);
    xai_colormap_rgb(XAI_CMAP_HOT, 1, c);
    ck_assert(c[0] == 1 && c[1] == 1 && c[2] == 1);
    xai_colormap_rgb(XAI_CMAP_HOT, 0.5, c); /* red full, green rising, no blue */
    ck_assert(c[0] == 1 && c[1] > 0.3 && c[1] < 0.4 && c[2] == 0);
    xai_colormap_rgb(XAI_CMAP_GREY, 0.25, c);
    ck_assert(c[0] == 0.25 && c[1] == 0.25 && c[2] == 0.25);
    xai_colormap_rgb(XAI_CMAP_BWR, NAN, c);
    ck_assert(c[0] == 0.5 && c[1] == 0.5 && c[2] == 0.5);
    ck_assert(xai_colormap_is_signed(XAI_CMAP_BWR) && xai_colormap_is_signed(XAI_CMAP_SEISMIC));
    ck_assert(!xai_colormap_is_signed(XAI_CMAP_HOT) && !xai_colormap_is_signed(XAI_CMAP_GREY));
}
END_TEST

/* 3 x 4 signed array: +2 at (0,0), -2 at (2,3), +1 at (1,1), 0 elsewhere, NaN at (2,0). */
static const float signed_data[12] = {2, 0, 0, 0, 0, 1, 0, 0, NAN, 0, 0, -2};

static void check_signed_png(const char *path, const xai_heatmap_opts *o)
{
    png p = load_png(path);
    double rect[4], x, y;
    int lower = o->origin_lower;
    xai_heatmap_layout(o, rect);
    ck_assert_int_eq(p.w, o->width);
    ck_assert_int_eq(p.h, o->height);
    cell_xy(rect, 3, 4, 0, 0, lower, &x, &y);
    ASSERT_PX(pixel(&p, x, y), 255, 0, 0, 2); /* +max: red */
    cell_xy(rect, 3, 4, 2, 3, lower, &x, &y);
    ASSERT_PX(pixel(&p, x, y), 0, 0, 255, 2); /* -max: blue */
    cell_xy(rect, 3, 4, 1, 1, lower, &x, &y);
    ASSERT_PX(pixel(&p, x, y), 255, 128, 128, 2); /* half: light red */
    cell_xy(rect, 3, 4, 0, 2, lower, &x, &y);
    ASSERT_PX(pixel(&p, x, y), 255, 255, 255, 1); /* zero: white */
    cell_xy(rect, 3, 4, 2, 0, lower, &x, &y);
    ASSERT_PX(pixel(&p, x, y), 217, 217, 217, 2); /* NaN: light grey */
    /* colour bar: red at the top, blue at the bottom, white in the middle */
    x = rect[0] + rect[2] + 18 + 8;
    ASSERT_PX(pixel(&p, x, rect[1] + 2), 255, 0, 0, 12);
    ASSERT_PX(pixel(&p, x, rect[1] + rect[3] - 2), 0, 0, 255, 12);
    ASSERT_PX(pixel(&p, x, rect[1] + rect[3] / 2), 255, 255, 255, 8);
    /* the margin corner is blank; title, tick labels and frame are drawn */
    ASSERT_PX(pixel(&p, 2, 2), 255, 255, 255, 0);
    ck_assert_int_gt(dark_in(&p, rect[0], 0, rect[0] + rect[2], rect[1] - 2), 30);
    ck_assert_int_gt(dark_in(&p, rect[0], rect[1] + rect[3] + 6, rect[0] + rect[2],
                             rect[1] + rect[3] + 25), 20);
    ck_assert_int_gt(dark_in(&p, 0, rect[1], rect[0] - 6, rect[1] + rect[3]), 20);
    ck_assert_int_gt(dark_in(&p, rect[0] + rect[2] + 36, rect[1], o->width, rect[1] + rect[3]),
                     20);
    cairo_surface_destroy(p.s);
}

START_TEST(test_heatmap_png)
{
    char *dir = xai_test_tmpdir();
    const char *path = xai_test_path(dir, "heat.png");
    xai_heatmap_opts o;
    xai_heatmap_opts_init(&o);
    o.title = "Relevance (LRP-epsilon)";
    o.xlabel = "time (s)";
    o.ylabel = "channel";
    o.cbar_label = "R";
    o.width = 480;
    o.height = 320;
    o.x0 = 0.05;
    o.dx = 0.1;
    ck_assert_int_eq(xai_figure_heatmap(path, signed_data, 3, 4, &o), XAI_OK);
    check_signed_png(path, &o);
    /* row 0 at the bottom */
    o.origin_lower = 1;
    ck_assert_int_eq(xai_figure_heatmap(path, signed_data, 3, 4, &o), XAI_OK);
    check_signed_png(path, &o);
    if (getenv("XAI_FIGURE_KEEP")) { /* for looking at the output by eye */
        o.origin_lower = 0;
        xai_figure_heatmap(getenv("XAI_FIGURE_KEEP"), signed_data, 3, 4, &o);
    }
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_heatmap_sequential)
{
    char *dir = xai_test_tmpdir();
    const char *path = xai_test_path(dir, "hot.PNG");
    float d[4] = {0, 10, 5, 20}; /* with vmin 0, vmax 10: 20 is clamped to white */
    double rect[4], x, y;
    xai_heatmap_opts o;
    png p;
    xai_heatmap_opts_init(&o);
    o.cmap = XAI_CMAP_HOT;
    o.vmin = 0;
    o.vmax = 10;
    o.colorbar = 0;
    ck_assert_int_eq(xai_figure_heatmap(path, d, 2, 2, &o), XAI_OK);
    p = load_png(path);
    xai_heatmap_layout(&o, rect);
    cell_xy(rect, 2, 2, 0, 0, 0, &x, &y);
    ASSERT_PX(pixel(&p, x, y), 0, 0, 0, 1);
    cell_xy(rect, 2, 2, 0, 1, 0, &x, &y);
    ASSERT_PX(pixel(&p, x, y), 255, 255, 255, 1);
    cell_xy(rect, 2, 2, 1, 0, 0, &x, &y);
    ASSERT_PX(pixel(&p, x, y), 255, 89, 0, 3); /* hot(0.5) = (1, 0.339, 0) */
    cell_xy(rect, 2, 2, 1, 1, 0, &x, &y);
    ASSERT_PX(pixel(&p, x, y), 255, 255, 255, 1);
    /* no colour bar: the right margin is blank */
    ck_assert_int_eq(dark_in(&p, rect[0] + rect[2] + 2, rect[1], o.width, rect[1] + rect[3]), 0);
    cairo_surface_destroy(p.s);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_overlay_png)
{
    enum { R = 8, C = 10 };
    char *dir = xai_test_tmpdir();
    const char *path = xai_test_path(dir, "overlay.png");
    float bg[R * C], map[R * C];
    double rect[4], x, y;
    xai_overlay_opts o;
    png p;
    for (int i = 0; i < R * C; i++) {
        bg[i] = (float)(i % C); /* grey ramp left to right: 0..9 */
        map[i] = 0.05f;         /* below the threshold */
    }
    map[2 * C + 3] = 1.0f;  /* strong positive */
    map[5 * C + 6] = -1.0f; /* strong negative */
    map[6 * C + 9] = NAN;   /* transparent */
    xai_overlay_opts_init(&o);
    o.title = "overlay";
    o.threshold = 0.1;
    o.alpha = 1.0;
    ck_assert_int_eq(xai_figure_overlay(path, bg, map, R, C, &o), XAI_OK);
    p = load_png(path);
    ck_assert_int_eq(p.w, 640);
    ck_assert_int_eq(p.h, 480);
    xai_overlay_layout(&o, rect);
    cell_xy(rect, R, C, 2, 3, 0, &x, &y);
    ASSERT_PX(pixel(&p, x, y), 255, 0, 0, 2);
    cell_xy(rect, R, C, 5, 6, 0, &x, &y);
    ASSERT_PX(pixel(&p, x, y), 0, 0, 255, 2);
    for (int c = 0; c < C; c++) { /* row 0: only the background, grey value c/9 */
        int g = (int)lround(c / 9.0 * 255);
        cell_xy(rect, R, C, 0, c, 0, &x, &y);
        ASSERT_PX(pixel(&p, x, y), g, g, g, 1);
    }
    cell_xy(rect, R, C, 6, 9, 0, &x, &y);
    ASSERT_PX(pixel(&p, x, y), 255, 255, 255, 1); /* NaN map over the white end of the ramp */
    cairo_surface_destroy(p.s);

    /* half transparent: red over grey g gives (128 + g/2, g/2, g/2) */
    o.alpha = 0.5;
    o.origin_lower = 1;
    ck_assert_int_eq(xai_figure_overlay(path, bg, map, R, C, &o), XAI_OK);
    p = load_png(path);
    cell_xy(rect, R, C, 2, 3, 1, &x, &y);
    {
        int g = (int)lround(3 / 9.0 * 255);
        ASSERT_PX(pixel(&p, x, y), 128 + g / 2, g / 2, g / 2, 3);
    }
    cairo_surface_destroy(p.s);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

static void check_vector(const char *path, const char *magic, size_t min_size)
{
    size_t len;
    char *b = xai_test_read_file(path, &len);
    ck_assert_ptr_nonnull(b);
    ck_assert_msg(len >= min_size, "%s: only %zu bytes", path, len);
    ck_assert_msg(memcmp(b, magic, strlen(magic)) == 0, "%s: no %s signature", path, magic);
    free(b);
}

START_TEST(test_svg_pdf)
{
    char *dir = xai_test_tmpdir();
    xai_heatmap_opts o;
    xai_overlay_opts v;
    float bg[12];
    for (int i = 0; i < 12; i++)
        bg[i] = (float)i;
    xai_heatmap_opts_init(&o);
    o.title = "vector output";
    ck_assert_int_eq(xai_figure_heatmap(xai_test_path(dir, "h.svg"), signed_data, 3, 4, &o),
                     XAI_OK);
    check_vector(xai_test_path(dir, "h.svg"), "<?xml", 2000);
    {
        size_t len;
        char *b = xai_test_read_file(xai_test_path(dir, "h.svg"), &len);
        char *z = realloc(b, len + 1);
        z[len] = '\0';
        ck_assert_ptr_nonnull(strstr(z, "<svg"));
        ck_assert_ptr_nonnull(strstr(z, "<image")); /* the cells */
        ck_assert_ptr_nonnull(strstr(z, "width=\"640\""));
        free(z);
    }
    ck_assert_int_eq(xai_figure_heatmap(xai_test_path(dir, "h.pdf"), signed_data, 3, 4, &o),
                     XAI_OK);
    check_vector(xai_test_path(dir, "h.pdf"), "%PDF-", 2000);
    xai_overlay_opts_init(&v);
    ck_assert_int_eq(xai_figure_overlay(xai_test_path(dir, "o.pdf"), bg, signed_data, 3, 4, &v),
                     XAI_OK);
    check_vector(xai_test_path(dir, "o.pdf"), "%PDF-", 2000);
    ck_assert_int_eq(xai_figure_overlay(xai_test_path(dir, "o.svg"), bg, signed_data, 3, 4, &v),
                     XAI_OK);
    check_vector(xai_test_path(dir, "o.svg"), "<?xml", 2000);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* Arrays wider than a cairo image are decimated, not refused. */
START_TEST(test_large)
{
    enum { R = 2, C = 40000 };
    char *dir = xai_test_tmpdir();
    const char *path = xai_test_path(dir, "wide.png");
    float *d = malloc(sizeof(float) * R * C);
    double rect[4], x, y;
    xai_heatmap_opts o;
    png p;
    for (int i = 0; i < R * C; i++)
        d[i] = i < C ? 1.0f : -1.0f;
    xai_heatmap_opts_init(&o);
    ck_assert_int_eq(xai_figure_heatmap(path, d, R, C, &o), XAI_OK);
    p = load_png(path);
    xai_heatmap_layout(&o, rect);
    cell_xy(rect, R, C, 0, C / 2, 0, &x, &y);
    ASSERT_PX(pixel(&p, x, y), 255, 0, 0, 2);
    cell_xy(rect, R, C, 1, C / 3, 0, &x, &y);
    ASSERT_PX(pixel(&p, x, y), 0, 0, 255, 2);
    cairo_surface_destroy(p.s);
    free(d);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_errors)
{
    char *dir = xai_test_tmpdir();
    xai_heatmap_opts o;
    xai_overlay_opts v;
    float d[4] = {0, 1, 2, 3};
    xai_heatmap_opts_init(&o);
    xai_overlay_opts_init(&v);
    ck_assert_int_eq(xai_figure_heatmap(xai_test_path(dir, "x.jpg"), d, 2, 2, &o), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "x.jpg"));
    ck_assert_int_eq(xai_figure_heatmap(xai_test_path(dir, "noext"), d, 2, 2, &o), XAI_EINVAL);
    ck_assert_int_eq(xai_figure_heatmap(xai_test_path(dir, "x.png"), d, 0, 2, &o), XAI_EINVAL);
    ck_assert_int_eq(xai_figure_heatmap(xai_test_path(dir, "x.png"), d, 2, -1, &o), XAI_EINVAL);
    ck_assert_int_eq(xai_figure_heatmap(xai_test_path(dir, "x.png"), NULL, 2, 2, &o), XAI_EINVAL);
    ck_assert_int_eq(xai_figure_heatmap(NULL, d, 2, 2, &o), XAI_EINVAL);
    o.width = 10;
    ck_assert_int_eq(xai_figure_heatmap(xai_test_path(dir, "x.png"), d, 2, 2, &o), XAI_EINVAL);
    o.width = 100000;
    ck_assert_int_eq(xai_figure_heatmap(xai_test_path(dir, "x.png"), d, 2, 2, &o), XAI_EINVAL);
    xai_heatmap_opts_init(&o);
    o.cmap = (xai_colormap)99;
    ck_assert_int_eq(xai_figure_heatmap(xai_test_path(dir, "x.png"), d, 2, 2, &o), XAI_EINVAL);
    v.alpha = 1.5;
    ck_assert_int_eq(xai_figure_overlay(xai_test_path(dir, "x.png"), d, d, 2, 2, &v), XAI_EINVAL);
    v.alpha = 0.5;
    v.threshold = -1;
    ck_assert_int_eq(xai_figure_overlay(xai_test_path(dir, "x.png"), d, d, 2, 2, &v), XAI_EINVAL);
    v.threshold = 0;
    ck_assert_int_eq(xai_figure_overlay(xai_test_path(dir, "x.png"), NULL, d, 2, 2, &v),
                     XAI_EINVAL);
    xai_heatmap_opts_init(&o);
    ck_assert_int_eq(xai_figure_heatmap(xai_test_path(dir, "no/dir/x.png"), d, 2, 2, &o),
                     XAI_EIO);
    /* nothing was written by any failure; NULL options mean the defaults */
    {
        char *b;
        size_t len;
        ck_assert_ptr_null(xai_test_read_file(xai_test_path(dir, "x.png"), &len));
        ck_assert_int_eq(xai_figure_heatmap(xai_test_path(dir, "x.png"), d, 2, 2, NULL), XAI_OK);
        ck_assert_int_eq(xai_figure_overlay(xai_test_path(dir, "y.png"), d, d, 2, 2, NULL),
                         XAI_OK);
        b = xai_test_read_file(xai_test_path(dir, "y.png"), &len);
        ck_assert_ptr_nonnull(b);
        ck_assert(len > 1000 && memcmp(b, "\x89PNG", 4) == 0);
        free(b);
    }
    /* all-NaN and constant data still render */
    {
        float nan4[4] = {NAN, NAN, NAN, NAN}, c4[4] = {3, 3, 3, 3};
        ck_assert_int_eq(xai_figure_heatmap(xai_test_path(dir, "n.png"), nan4, 2, 2, &o), XAI_OK);
        o.cmap = XAI_CMAP_GREY;
        ck_assert_int_eq(xai_figure_heatmap(xai_test_path(dir, "c.png"), c4, 2, 2, &o), XAI_OK);
        ck_assert_int_eq(xai_figure_overlay(xai_test_path(dir, "o.png"), c4, nan4, 2, 2, &v),
                         XAI_OK);
    }
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST


/* Charts: a line, dots and a broken line land where their values say, in their palette
 * colours; the legend is drawn; SVG works; bad arguments write nothing. */
START_TEST(test_chart)
{
    char *dir = xai_test_tmpdir();
    const char *path = xai_test_path(dir, "chart.png");
    double xs[2] = {0, 10}, ys[2] = {1, 1}, dx[1] = {5}, dy[1] = {0.5};
    double bx[3] = {0, 5, 10}, by[3] = {1.5, NAN, 1.5};
    xai_chart_series s[3] = {{xs, ys, 2, "line", XAI_SERIES_LINE, 3, 1},
                             {dx, dy, 1, "dots", XAI_SERIES_MARKERS, 0, 1},
                             {bx, by, 3, NULL, XAI_SERIES_LINE, 2, 1}};
    xai_chart_opts o;
    xai_chart_opts_init(&o);
    o.xmin = 0, o.xmax = 10, o.ymin = 0, o.ymax = 2;
    ck_assert_int_eq(xai_figure_chart(path, s, 3, &o), XAI_OK);
    /* data area without title and axis labels, with a legend: x 64..530, y 16..440 */
    png p = load_png(path);
    double X0 = 64, W = 760 - 64 - 230, Y0 = 16, H = 480 - 16 - 40, rgb[3];
    ck_assert_int_eq(p.w, 760);
    ck_assert_int_eq(p.h, 480);
    xai_palette_rgb(3, rgb);
    px q = pixel(&p, X0 + W * 0.37, Y0 + H * 0.5);
    ASSERT_PX(q, (int)(rgb[0] * 255 + .5), (int)(rgb[1] * 255 + .5), (int)(rgb[2] * 255 + .5), 40);
    xai_palette_rgb(0, rgb);
    q = pixel(&p, X0 + W * 0.5, Y0 + H * 0.75);
    ASSERT_PX(q, (int)(rgb[0] * 255 + .5), (int)(rgb[1] * 255 + .5), (int)(rgb[2] * 255 + .5), 40);
    /* the NaN breaks the green line: nothing green between x = 1 and 9 at y = 1.5 */
    for (double f = 0.1; f < 0.9; f += 0.05) {
        q = pixel(&p, X0 + W * f, Y0 + H * 0.25);
        ck_assert_msg(!(q.g > q.r + 60), "green at %.2f", f);
    }
    ck_assert_int_gt(dark_in(&p, X0 + W + 40, Y0, 760, Y0 + 40), 10); /* legend text */
    cairo_surface_destroy(p.s);
    ck_assert_int_eq(xai_figure_chart(xai_test_path(dir, "chart.svg"), s, 3, NULL), XAI_OK);
    /* errors: nothing written */
    double nan1[1] = {NAN};
    xai_chart_series bad = {NULL, nan1, 1, NULL, 0, 0, 1};
    ck_assert_int_eq(xai_figure_chart(xai_test_path(dir, "e.png"), s, 0, &o), XAI_EINVAL);
    ck_assert_int_eq(xai_figure_chart(xai_test_path(dir, "e.png"), &bad, 1, &o), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "e.png"));
    bad.y = NULL;
    ck_assert_int_eq(xai_figure_chart(xai_test_path(dir, "e.png"), &bad, 1, &o), XAI_EINVAL);
    ck_assert_int_eq(xai_figure_chart(xai_test_path(dir, "e.jpg"), s, 3, &o), XAI_EINVAL);
    o.height = 10;
    ck_assert_int_eq(xai_figure_chart(xai_test_path(dir, "e.png"), s, 3, &o), XAI_EINVAL);
    size_t len;
    ck_assert_ptr_null(xai_test_read_file(xai_test_path(dir, "e.png"), &len));
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* cairo and fontconfig keep font caches for the life of the process; drop them after each
 * case so that LeakSanitizer reports only real leaks. */
static void reset_caches(void)
{
    cairo_debug_reset_static_data();
    FcFini();
}

Suite *make_suite(void)
{
    Suite *s = suite_create("figure");
    TCase *tc = tcase_create("figure");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, NULL, reset_caches);
    tcase_add_test(tc, test_colormaps);
    tcase_add_test(tc, test_heatmap_png);
    tcase_add_test(tc, test_heatmap_sequential);
    tcase_add_test(tc, test_overlay_png);
    tcase_add_test(tc, test_svg_pdf);
    tcase_add_test(tc, test_large);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_chart);
    suite_add_tcase(s, tc);
    return s;
}
