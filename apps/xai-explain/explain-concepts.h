/* SPDX-License-Identifier: GPL-3.0-or-later */
/* explain-concepts.h - xai-explain --concepts: concept maps and relevances (CRP) next to the map. */
#ifndef XAI_EXPLAIN_CONCEPTS_H
#define XAI_EXPLAIN_CONCEPTS_H

#include <stdint.h>

#include "app.h"
#include "concepts.h"
#include "xai.h"

/* Concept maps of the n inputs x (xshape: the input file's shape, its leading axis the stack
   when n > 1 or the file has one) to OUT.concepts.npy, the concept relevances to
   OUT.concepts.tsv with its JSON sidecar. @return 0, or an exit code (printed). */
int concepts_run(xai_app *app, const xai_model *m, const xai_explain_config *cfg, const concept_spec *cs, int64_t n,
                 const float *x, int xndim, const int64_t *xshape, int stacked, const char *out);

#endif
