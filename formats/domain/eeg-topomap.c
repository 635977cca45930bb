/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eeg-topomap.c - scalp maps of per-channel values. Electrode positions come from
 * eeg-montage.c (BESA spherical angles, azimuthal-equidistant projection: the Fpz-T7-Oz-T8
 * circle is the head outline, as in EEGLAB). Values are interpolated on a pixel grid by
 * inverse-distance weighting (power 2, Shepard 1968) over the disc that holds every
 * electrode, then drawn with the bwr colour map, a head outline, nose and ears, the sensor
 * dots, and a colour bar. The map is drawn inside the head circle (projected radius 1);
 * electrodes below the equator (Iz, T9, T10 at radius 1.24) are shown as dots outside it
 * and take part in the interpolation. Heatmap row labels: xai_eeg_heatmap_label_rows().
 */
#include "xai/domain-eeg.h"

#include <cairo.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xai/atomic.h"
#include "xai/figure.h"

#define PI 3.14159265358979323846

static void text_centered(cairo_t *cr, double x, double y, const char *s)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - e.width / 2 - e.x_bearing, y);
    cairo_show_text(cr, s);
}

/* cairo writes the PNG by name: into the atomic writer's temp, renamed when complete */
static xai_status write_png_atomic(cairo_surface_t *surf, const char *path)
{
    char *tmp;
    int fd;
    xai_status st = xai_atomic_mkstemp(path, NULL, &tmp, &fd);
    if (st != XAI_OK)
        return st;
    close(fd);
    if (cairo_surface_write_to_png(surf, tmp) != CAIRO_STATUS_SUCCESS)
        st = xai_error_set(XAI_EDEP, "%s: cairo could not write the PNG", path);
    return xai_atomic_finish(tmp, path, st);
}

xai_status xai_eeg_heatmap_label_rows(const char *path, const double rect[4], int nrows, const char *const *labels,
                                  const char *ylabel)
{
    cairo_surface_t *surf = cairo_image_surface_create_from_png(path);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surf);
        return xai_error_set(XAI_EIO, "%s: cannot read the PNG back", path);
    }
    cairo_t *cr = cairo_create(surf);
    double rh = rect[3] / (nrows > 0 ? nrows : 1);
    cairo_set_source_rgb(cr, 1, 1, 1);
    /* only beside the rows: below them the time axis' first tick label ("0") reaches left of
     * the data area and must stay */
    cairo_rectangle(cr, 0, rect[1] - rh, rect[0] - 1, rect[3] + rh + 1);
    cairo_fill(cr);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    double fs = rh * 0.8 < 11 ? rh * 0.8 : 11;
    cairo_set_font_size(cr, fs < 5 ? 5 : fs);
    cairo_set_source_rgb(cr, 0, 0, 0);
    int step = rh < 5 ? (int)ceil(5 / rh) : 1;
    for (int i = 0; i < nrows; i += step) {
        cairo_text_extents_t e;
        cairo_text_extents(cr, labels[i], &e);
        double y = rect[1] + (i + 0.5) * rh;
        cairo_move_to(cr, rect[0] - 6 - e.width - e.x_bearing, y - e.height / 2 - e.y_bearing);
        cairo_show_text(cr, labels[i]);
    }
    if (ylabel) {
        cairo_set_font_size(cr, 12);
        cairo_save(cr);
        cairo_translate(cr, 14, rect[1] + rect[3] / 2);
        cairo_rotate(cr, -PI / 2);
        text_centered(cr, 0, 0, ylabel);
        cairo_restore(cr);
    }
    cairo_destroy(cr);
    xai_status st = write_png_atomic(surf, path);
    cairo_surface_destroy(surf);
    return st;
}

/* electrodes with a standard position: their projected positions and channel indices */
typedef struct {
    int np;
    double *px, *py, rmax;
    int *idx;
} sensors;

static void sensors_free(sensors *s)
{
    free(s->px);
    free(s->py);
    free(s->idx);
}

static xai_status sensors_find(int nch, const char *const *labels, sensors *s)
{
    s->px = malloc((size_t)nch * sizeof *s->px);
    s->py = malloc((size_t)nch * sizeof *s->py);
    s->idx = malloc((size_t)nch * sizeof *s->idx);
    s->np = 0;
    s->rmax = 1.0;
    if (!s->px || !s->py || !s->idx)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    for (int c = 0; c < nch; c++) {
        double xy[2];
        if (xai_eeg_montage_find(labels[c], NULL, xy) != 0)
            continue;
        s->px[s->np] = xy[0];
        s->py[s->np] = xy[1];
        s->idx[s->np++] = c;
        double r = hypot(xy[0], xy[1]);
        if (r > s->rmax)
            s->rmax = r;
    }
    return XAI_OK;
}

/* the field of one panel by inverse-distance weighting, into @p img (transparent off the disc) */
static void draw_field(cairo_surface_t *img, int gw, double R, const sensors *s, const float *v, double vmax)
{
    cairo_surface_flush(img);
    unsigned char *buf = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    for (int j = 0; j < gw; j++)
        for (int i = 0; i < gw; i++) {
            double x = (i + 0.5 - gw / 2.0) / R, y = (gw / 2.0 - j - 0.5) / R;
            uint32_t pix = 0;
            if (hypot(x, y) <= 1.0) {
                double sw = 0, acc = 0;
                int exact = -1;
                for (int e = 0; e < s->np; e++) {
                    double d2 = (x - s->px[e]) * (x - s->px[e]) + (y - s->py[e]) * (y - s->py[e]);
                    if (d2 < 1e-12) {
                        exact = e;
                        break;
                    }
                    double w = 1.0 / d2;
                    sw += w;
                    acc += w * v[s->idx[e]];
                }
                double val = exact >= 0 ? v[s->idx[exact]] : acc / sw, rgb[3];
                xai_colormap_rgb(XAI_CMAP_BWR, (val / vmax + 1) / 2, rgb);
                pix = 0xFF000000u | ((uint32_t)lround(rgb[0] * 255) << 16) |
                      ((uint32_t)lround(rgb[1] * 255) << 8) | (uint32_t)lround(rgb[2] * 255);
            }
            memcpy(buf + (size_t)j * (size_t)stride + (size_t)i * 4, &pix, 4);
        }
    cairo_surface_mark_dirty(img);
}

/* head outline, nose, ears and the sensors of a panel centred at (cx, cy) */
static void draw_head(cairo_t *cr, double cx, double cy, double R, const sensors *s)
{
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 2);
    cairo_arc(cr, cx, cy, R, 0, 2 * PI);
    cairo_stroke(cr);
    cairo_move_to(cr, cx - 0.18 * R, cy - R * 0.985);
    cairo_line_to(cr, cx, cy - 1.15 * R);
    cairo_line_to(cr, cx + 0.18 * R, cy - R * 0.985);
    cairo_stroke(cr);
    for (int side = -1; side <= 1; side += 2) {
        cairo_save(cr);
        cairo_translate(cr, cx + side * 1.03 * R, cy);
        cairo_scale(cr, 0.08 * R, 0.2 * R);
        cairo_arc(cr, 0, 0, 1, side > 0 ? -PI / 2 : PI / 2, side > 0 ? PI / 2 : 3 * PI / 2);
        cairo_restore(cr);
        cairo_stroke(cr);
    }
    for (int e = 0; e < s->np; e++) {
        cairo_arc(cr, cx + s->px[e] * R, cy - s->py[e] * R, 2.0, 0, 2 * PI);
        cairo_fill(cr);
    }
}

/* the symmetric colour bar [-vmax, vmax] at (bx, by), bh high */
static void draw_colour_bar(cairo_t *cr, double bx, double by, double bh, double vmax, const char *label)
{
    double bw = 18;
    for (int j = 0; j < (int)bh; j++) {
        double rgb[3];
        xai_colormap_rgb(XAI_CMAP_BWR, 1.0 - (j + 0.5) / bh, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle(cr, bx, by + j, bw, 1);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, bx, by, bw, bh);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 11);
    for (int t = 0; t < 3; t++) {
        char txt[32];
        double val = vmax * (1 - t), y = by + bh * t / 2.0;
        snprintf(txt, sizeof txt, "%.3g", val);
        cairo_move_to(cr, bx + bw, y);
        cairo_line_to(cr, bx + bw + 4, y);
        cairo_stroke(cr);
        cairo_move_to(cr, bx + bw + 6, y + 4);
        cairo_show_text(cr, txt);
    }
    if (label) {
        cairo_save(cr);
        cairo_translate(cr, bx + bw + 70, by + bh / 2);
        cairo_rotate(cr, -PI / 2);
        text_centered(cr, 0, 0, label);
        cairo_restore(cr);
    }
}

/* largest |value| at a positioned sensor over all panels (1 when all are 0) */
static double value_range(const sensors *s, int nch, int npanel, const float *values)
{
    double vmax = 0;
    for (int k = 0; k < npanel; k++)
        for (int i = 0; i < s->np; i++) {
            double a = fabs(values[(size_t)k * (size_t)nch + (size_t)s->idx[i]]);
            if (isfinite(a) && a > vmax)
                vmax = a;
        }
    return vmax > 0 ? vmax : 1;
}

xai_status xai_eeg_topomap_png(const char *path, int nch, const char *const *labels, int npanel, const float *values,
                           const char *const *titles, const char *title, const char *cbar_label)
{
    if (nch < 1 || npanel < 1 || npanel > 16 || !values)
        return xai_error_set(XAI_EINVAL, "%s: topomap needs channels and 1..16 panels", path);
    sensors s;
    xai_status st = sensors_find(nch, labels, &s);
    if (st == XAI_OK && s.np < 3)
        st = xai_error_set(XAI_EINVAL, "%s: fewer than 3 channels have standard 10-20/10-10 positions", path);
    if (st != XAI_OK) {
        sensors_free(&s);
        return st;
    }
    double vmax = value_range(&s, nch, npanel, values);
    const int panel = 300, top = 60, cbar_w = 110, bottom = 20;
    const double R = 105.0; /* head radius in pixels (projected radius 1) */
    int W = npanel * panel + cbar_w, H = top + panel + bottom, gw = (int)ceil(2 * R * s.rmax) + 2;
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(surf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    if (title) {
        cairo_set_font_size(cr, 16);
        cairo_set_source_rgb(cr, 0, 0, 0);
        text_centered(cr, npanel * panel / 2.0, 24, title);
    }
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, gw, gw);
    for (int k = 0; k < npanel; k++) {
        double cx = k * panel + panel / 2.0, cy = top + panel / 2.0;
        draw_field(img, gw, R, &s, values + (size_t)k * (size_t)nch, vmax);
        cairo_save(cr);
        cairo_arc(cr, cx, cy, R, 0, 2 * PI);
        cairo_clip(cr);
        cairo_set_source_surface(cr, img, cx - gw / 2.0, cy - gw / 2.0);
        cairo_paint(cr);
        cairo_restore(cr);
        draw_head(cr, cx, cy, R, &s);
        if (titles && titles[k]) {
            cairo_set_font_size(cr, 14);
            text_centered(cr, cx, top - 4, titles[k]);
        }
    }
    draw_colour_bar(cr, npanel * panel + 20, top + 20, panel - 60, vmax, cbar_label);
    cairo_surface_destroy(img);
    cairo_destroy(cr);
    st = write_png_atomic(surf, path);
    cairo_surface_destroy(surf);
    sensors_free(&s);
    return st;
}
