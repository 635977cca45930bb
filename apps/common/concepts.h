/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * concepts.h - --concepts of xai-explain and xai-eeg explain (concepts.c): the option's syntax
 * and the Concept Relevance Propagation pass both run before writing in their own layouts.
 */
#ifndef XAI_APP_CONCEPTS_H
#define XAI_APP_CONCEPTS_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "xai.h"

typedef struct {
    char layer[256];
    int top;            /* > 0: the top channels by relevance; 0: the listed ones */
    int nchannels;
    int channels[1024];
} concept_spec;

/* Parse LAYER[:top=K|:channels=a,b,...] (LAYER alone: top=8). @return 0, or -1 with @p msg. */
int concepts_parse(const char *s, concept_spec *cs, char *msg, size_t len);

/* The concepts of a stack of inputs; free with concepts_result_free(). */
typedef struct {
    int64_t n, nch;   /* samples; channels (concepts) of the layer */
    int k;            /* concepts mapped */
    int *ch;          /* [k] their channels: as listed, or the top K by relevance summed over the stack */
    double *crel;     /* [n][nch] each channel's relevance per sample */
    int *target;      /* [n] the class explained */
    float *maps;      /* [n][k][input values] one input map per sample and mapped concept */
} concepts_result;

/*
 * Run CRP (xai_crp_explain) on the n inputs x with @p cfg (its targets included) at
 * cs->layer: the relevance of every channel first, then the maps of the chosen ones. With
 * top=K every sample has the same concepts in the same order. @return 0, or
 * XAI_EXIT_DATA with "PROG: FILE: --concepts: why" printed (@p file names the input).
 */
int concepts_compute(const xai_app *app, const char *file, const xai_model *m, const xai_explain_config *cfg,
                     const concept_spec *cs, int64_t n, const float *x, concepts_result *out);
void concepts_result_free(concepts_result *r);

#endif
