/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eeg-topomap.h - scalp topographies (one panel per map) drawn with cairo.
 */
#ifndef XAI_EEG_TOPOMAP_H
#define XAI_EEG_TOPOMAP_H

#include "xai/status.h"

/**
 * Draw @p npanel topomaps side by side into the PNG @p path (written atomically).
 * @param labels  @p nch channel labels; channels without a 10-20/10-10 position are left out
 * @param values  [npanel][nch] values, borrowed; the colour range is symmetric about 0,
 *                [-m, m] with m the largest |value| over all panels (bwr colour map)
 * @param titles  @p npanel panel titles (may be NULL)
 * @param title   figure title (may be NULL); @p cbar_label colour-bar label (may be NULL)
 * @return XAI_OK, XAI_EINVAL (fewer than 3 channels with positions), XAI_EIO, XAI_EDEP.
 */
xai_status eeg_topomap_png(const char *path, int nch, const char *const *labels, int npanel, const float *values,
                           const char *const *titles, const char *title, const char *cbar_label);

/**
 * Replace the numeric row ticks of a heatmap PNG written by xai_figure_heatmap() with
 * channel names: the left margin (left of @p rect, the data area from xai_heatmap_layout())
 * is repainted white and each row gets its label; @p ylabel is drawn vertically. The file
 * is rewritten atomically.
 */
xai_status eeg_heatmap_label_rows(const char *path, const double rect[4], int nrows, const char *const *labels,
                                  const char *ylabel);

#endif /* XAI_EEG_TOPOMAP_H */
