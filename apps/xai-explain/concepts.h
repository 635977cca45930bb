/* SPDX-License-Identifier: GPL-3.0-or-later */
/* concepts.h - xai-explain --concepts: concept maps and relevances (CRP) next to the map. */
#ifndef XAI_EXPLAIN_CONCEPTS_H
#define XAI_EXPLAIN_CONCEPTS_H

#include <stddef.h>
#include <stdint.h>

#include "xai.h"
#include "app.h"

typedef struct {
    char layer[256];
    int top;            /* > 0: the top channels by relevance; 0: the listed ones */
    int nchannels;
    int channels[1024];
} concept_spec;

/* Parse LAYER[:top=K|:channels=a,b,...] (LAYER alone: top=8). @return 0, or -1 with @p msg. */
int concepts_parse(const char *s, concept_spec *cs, char *msg, size_t len);

/* Concept maps of the n inputs x (xshape: the input file's shape, its leading axis the stack
   when n > 1 or the file has one) to OUT.concepts.npy, the concept relevances to
   OUT.concepts.tsv with its JSON sidecar. @return 0, or an exit code (printed). */
int concepts_run(xai_app *app, const xai_model *m, const xai_explain_config *cfg, const concept_spec *cs, int64_t n,
                 const float *x, int xndim, const int64_t *xshape, int stacked, const char *out);

#endif
