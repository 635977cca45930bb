/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * figure.h - static figures through cairo: colour maps, a heatmap of a 2-D array with axes,
 * tick labels, title and colour bar, a signed map overlaid on a grey background, and line
 * and scatter charts with a legend.
 * The output format follows the file extension (.png, .svg, .pdf); files are written
 * atomically. Text uses cairo's toy font API with "DejaVu Sans" (fonts-dejavu-core).
 */
#ifndef XAI_FIGURE_H
#define XAI_FIGURE_H

#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Colour maps; the signed ones are meant for ranges symmetric about 0 (0 maps to white). */
typedef enum {
    XAI_CMAP_BWR = 0,  /**< signed: blue (0,0,1) - white - red (1,0,0), like matplotlib "bwr" */
    XAI_CMAP_SEISMIC,  /**< signed: dark blue - blue - white - red - dark red ("seismic") */
    XAI_CMAP_HOT,      /**< sequential: black - red - yellow - white ("hot") */
    XAI_CMAP_GREY,     /**< sequential: black - white */
    XAI_CMAP_COUNT
} xai_colormap;

/**
 * Colour of @p t in [0, 1] (clamped; NaN gives mid grey) under @p cm.
 * @param[out] rgb red, green, blue in [0, 1]
 */
XAI_API void xai_colormap_rgb(xai_colormap cm, double t, double rgb[3]);

/** 1 for maps meant for signed data (XAI_CMAP_BWR, XAI_CMAP_SEISMIC). */
XAI_API int xai_colormap_is_signed(xai_colormap cm);

/** Options of xai_figure_heatmap(); start from xai_heatmap_opts_init(). Strings are borrowed. */
typedef struct {
    const char *title;      /**< above the plot, or NULL */
    const char *xlabel;     /**< below the x axis, or NULL */
    const char *ylabel;     /**< left of the y axis, or NULL */
    const char *cbar_label; /**< right of the colour bar, or NULL */
    xai_colormap cmap;      /**< default XAI_CMAP_BWR */
    double vmin, vmax;      /**< colour range; when vmin >= vmax it is chosen from the data:
                                 [-m, m] with m = max |x| for signed maps, [min, max] otherwise */
    double x0, dx;          /**< x of column j's centre is x0 + j*dx (default 0, 1) */
    double y0, dy;          /**< y of row i's centre is y0 + i*dy (default 0, 1) */
    int origin_lower;       /**< 0: row 0 at the top (like a matrix); 1: at the bottom */
    int colorbar;           /**< draw a colour bar (default 1) */
    int width, height;      /**< size in pixels (PNG) or points (SVG, PDF); default 640 x 480 */
} xai_heatmap_opts;

/** Fill @p o with the defaults. */
XAI_API void xai_heatmap_opts_init(xai_heatmap_opts *o);

/**
 * Where the data area of a heatmap with options @p o lies in the output, in pixels or
 * points from the top-left corner.
 * @param[out] rect x, y, width, height
 */
XAI_API void xai_heatmap_layout(const xai_heatmap_opts *o, double rect[4]);

/**
 * Draw @p data (@p rows x @p cols floats, row-major, borrowed) as a heatmap into @p path.
 * NaN cells are drawn light grey.
 * @return XAI_OK, XAI_EINVAL (sizes, NULL data, unknown extension, size out of 64..16384),
 *         XAI_EIO (cannot write), XAI_EDEP (cairo failed). The detail names the path.
 */
XAI_API xai_status xai_figure_heatmap(const char *path, const float *data, int rows, int cols,
                                      const xai_heatmap_opts *o);

/** Options of xai_figure_overlay(); start from xai_overlay_opts_init(). */
typedef struct {
    const char *title;  /**< or NULL */
    xai_colormap cmap;  /**< default XAI_CMAP_BWR */
    double vmax;        /**< the map's colours span [-vmax, vmax]; <= 0: max |map| */
    double threshold;   /**< cells with |map| <= threshold show only the background (default 0) */
    double alpha;       /**< opacity of the map over the background, 0..1 (default 0.8) */
    int origin_lower;   /**< as in xai_heatmap_opts */
    int colorbar;       /**< draw a colour bar (default 1) */
    int width, height;  /**< default 640 x 480 */
} xai_overlay_opts;

/** Fill @p o with the defaults. */
XAI_API void xai_overlay_opts_init(xai_overlay_opts *o);

/** Data-area rectangle of an overlay figure, as xai_heatmap_layout(). */
XAI_API void xai_overlay_layout(const xai_overlay_opts *o, double rect[4]);

/**
 * Draw the signed @p map over @p background (both @p rows x @p cols, row-major, borrowed).
 * The background is shown in grey from its minimum (black) to its maximum (white); NaN
 * map cells are left transparent.
 * @return as xai_figure_heatmap().
 */
XAI_API xai_status xai_figure_overlay(const char *path, const float *background, const float *map,
                                      int rows, int cols, const xai_overlay_opts *o);

/** The categorical palette (matplotlib's "tab10" colours) shared by every chart: colour
 *  @p i mod 10; a negative @p i gives grey. */
XAI_API void xai_palette_rgb(int i, double rgb[3]);

/** How a chart series is drawn: flags, 0 means a solid line. */
enum {
    XAI_SERIES_LINE = 1,    /**< points joined in order; a non-finite y breaks the line */
    XAI_SERIES_MARKERS = 2, /**< a dot at each finite point */
    XAI_SERIES_DASHED = 4   /**< the line dashed (with XAI_SERIES_LINE) */
};

/** One series of xai_figure_chart(); arrays are borrowed. */
typedef struct {
    const double *x;   /**< n x values, or NULL for 0, 1, ..., n-1 */
    const double *y;   /**< n y values */
    int n;
    const char *label; /**< legend text, or NULL for no legend entry */
    unsigned style;    /**< XAI_SERIES_* flags */
    int colour;        /**< palette index (xai_palette_rgb), negative for grey */
    double alpha;      /**< opacity in (0, 1]; 0 means 1 */
} xai_chart_series;

/** Options of xai_figure_chart(); start from xai_chart_opts_init(). Strings are borrowed. */
typedef struct {
    const char *title, *xlabel, *ylabel; /**< or NULL */
    const char *legend_note; /**< a small line under the legend, or NULL */
    double xmin, xmax;       /**< x range; when xmin >= xmax: the data's, padded by 2 % */
    double ymin, ymax;       /**< y range; when ymin >= ymax: the data's, padded by 5 % */
    int grid;                /**< light grid lines at the ticks (default 1) */
    int width, height;       /**< default 760 x 480; a legend takes 230 on the right */
} xai_chart_opts;

/** Fill @p o with the defaults. */
XAI_API void xai_chart_opts_init(xai_chart_opts *o);

/**
 * Draw @p nseries line/scatter series on shared axes into @p path (.png, .svg or .pdf,
 * atomically). Legend entries follow the series order, as many as fit.
 * @return XAI_OK, XAI_EINVAL (no series, n < 0, NULL y, no finite point, size or extension),
 *         XAI_EIO, XAI_EDEP, as xai_figure_heatmap().
 */
XAI_API xai_status xai_figure_chart(const char *path, const xai_chart_series *series,
                                    int nseries, const xai_chart_opts *o);

#ifdef __cplusplus
}
#endif

#endif /* XAI_FIGURE_H */
