/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * concepts.h - --concepts of xai-explain and the domain programs' explain (concepts.c): the
 * option's syntax, the Concept Relevance Propagation pass, and the concept table and sidecar
 * they share; each program writes the maps in its own layout.
 */
#ifndef XAI_APP_CONCEPTS_H
#define XAI_APP_CONCEPTS_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "xai.h"
#include "xai/driver.h"
#include "xai/tsv.h"

typedef struct {
    char layer[256];
    int top;            /* > 0: the top channels by relevance; 0: the listed ones */
    int nchannels;
    int channels[1024];
} concept_spec;

/* Parse LAYER[:top=K|:channels=a,b,...] (LAYER alone: top=8). @return 0, or -1 with @p msg. */
int concepts_parse(const char *s, concept_spec *cs, char *msg, size_t len);

/* The concepts to map of @p n samples with channel relevances @p crel [n][nch]: the listed
 * ones, or the top K by relevance summed over the samples, into @p ch (room for nch and for
 * the listed ones). @return how many; -1: a listed channel is not one of the layer; -2: out of memory. */
int concepts_pick(const concept_spec *cs, const double *crel, int64_t n, int64_t nch, int *ch);

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

/*
 * CRP of samples [first, first + n) of a driver explanation @p ex, x their inputs as the model
 * saw them: with the model that explained them (one fold model, or the model for new data,
 * for all of them), the plain pass's rules and start (@p eo) and its targets, so that the maps
 * of all of the layer's concepts add up to each sample's raw map. @return 0, or XAI_EXIT_DATA
 * (printed, @p file named: mixed models, a sample without a class, a CRP failure).
 */
int concepts_driver(const xai_app *app, const char *file, const xai_driver_set *set,
                    const xai_driver_explain_options *eo, const xai_driver_explanation *ex, int64_t first, int64_t n,
                    const float *x, const concept_spec *cs, concepts_result *out);

/*
 * The concept table: one row per sample and mapped concept, columns @p sample_col (0-based
 * sample index plus @p index0), class (from @p classes, indexed by the target), rank,
 * concept (the channel), relevance (the concept's relevance at the layer) and share (of the
 * layer's relevance in that sample). @return XAI_OK or an error (xai_last_error()).
 */
xai_status concepts_table(const concepts_result *r, const char *sample_col, int64_t index0,
                          const char *const *classes, int nclasses, xai_tsv **out);
/* The same with the samples named: column @p sample_col holds names[s] (text) for sample s, e.g.
 * the file of a clip explained on its own. */
xai_status concepts_table_named(const concepts_result *r, const char *sample_col, const char *const *names,
                                const char *const *classes, int nclasses, xai_tsv **out);

/*
 * The sidecar text of the concept files: the members of @p common_json plus Layer,
 * LayerChannels, Selection, Concepts, @p description and, unless NULL, the @p naxes names
 * @p axes as Axes. NULL when out of memory or when common_json is not an object. Free with free().
 */
char *concepts_sidecar(const char *common_json, const concept_spec *cs, const concepts_result *r,
                       const char *description, const char *const *axes, size_t naxes);

#endif
