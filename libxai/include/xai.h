/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai.h - umbrella header for libxai: every public header of the library.
 */
#ifndef XAI_H
#define XAI_H

#include "xai/api.h"
#include "xai/status.h"
#include "xai/tensor.h"
#include "xai/model.h"
#include "xai/lrp.h"
#include "xai/train.h"
#include "xai/eval.h"
#include "xai/spray.h"
#include "xai/card.h"
#include "xai/validate.h"
#include "xai/relevance.h"
#include "xai/crp.h"
#include "xai/prune.h"
#include "xai/clarc.h"

#endif /* XAI_H */
