/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * png.c - atomic PNG output of a cairo surface for the programs: the encoder streams into
 * the app layer's temp file (cairo_surface_write_to_png_stream), which is renamed over
 * the target only when the whole image was written.
 */
#include "app.h"

#include <cairo.h>

static cairo_status_t png_to_file(void *closure, const unsigned char *data, unsigned int len)
{
    return fwrite(data, 1, len, closure) == len ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

int xai_app_write_png(const xai_app *app, cairo_surface_t *surface, const char *path, const char *draw_msg,
                      const char *write_msg)
{
    cairo_status_t cs = cairo_surface_status(surface);
    if (cs != CAIRO_STATUS_SUCCESS)
        return xai_app_fail(app, path, "%s: %s", draw_msg, cairo_status_to_string(cs)), -1;
    char *tmp;
    FILE *f = xai_app_atomic_open(app, path, &tmp);
    if (!f)
        return -1;
    cs = cairo_surface_write_to_png_stream(surface, png_to_file, f);
    if (cs != CAIRO_STATUS_SUCCESS)
        xai_app_fail(app, path, "%s: %s", write_msg, cairo_status_to_string(cs));
    return xai_app_atomic_commit(app, f, tmp, path, cs == CAIRO_STATUS_SUCCESS);
}
