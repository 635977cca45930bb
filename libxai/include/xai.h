/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai.h - umbrella header for libxai.
 */
#ifndef XAI_H
#define XAI_H

#include "xai/status.h"
#include "xai/tensor.h"
#include "xai/model.h"
#include "xai/lrp.h"

#endif /* XAI_H */
