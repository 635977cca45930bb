/* SPDX-License-Identifier: GPL-3.0-or-later */
/* baseline-int.h - private access to a fitted ridge classifier (baseline.c). */
#ifndef XAI_BASELINE_INT_H
#define XAI_BASELINE_INT_H

#include "xai/validate.h"

/* Class c's weights mapped back to the unstandardised features: v[j] = w[j][c] * scale[j]
   (the score's gradient with respect to the raw input). */
void xai_ridge_raw_weights(const xai_ridge *r, int c, double *v);

#endif
