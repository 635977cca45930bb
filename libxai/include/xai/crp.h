/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * crp.h - Concept Relevance Propagation (Achtibat et al., "From attribution maps to
 * human-understandable explanations through Concept Relevance Propagation", Nature Machine
 * Intelligence 5, 2023).
 *
 * A concept is one channel of a layer (axis 0 of the layer's per-sample shape: the filters
 * of a Conv, the units of a Dense layer, the hidden units of an LSTM's final state). The LRP
 * backward pass runs once from the output down to the layer; the relevance there is kept,
 * and for each concept everything outside its channel is zeroed before the rest of the pass
 * runs down to the input over the same cached activations. Because every rule is linear in
 * the relevance it receives (the activations being fixed), the concept maps of all channels
 * of a layer add up to the plain LRP map, provided every path from the output to the input
 * runs through the layer (relevance on skip connections around it belongs to no concept).
 */
#ifndef XAI_CRP_H
#define XAI_CRP_H

#include <stdint.h>

#include "xai/lrp.h"
#include "xai/model.h"
#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The concepts of a layer. @p layer names a node (its first output) or an activation.
 * @param[out] nchannels   channels (concepts) of the layer
 * @param[out] per_channel values per channel and sample (may be NULL)
 * @return XAI_EINVAL when there is no such activation or it is the model input.
 */
XAI_API xai_status xai_crp_layer(const xai_model *m, const char *layer, int64_t *nchannels, int64_t *per_channel);

/**
 * Concept relevances and per-concept maps of @p n stacked inputs.
 * @param cfg       LRP settings (method must be LRP; composite, rules, targets as in xai_explain())
 * @param nconcepts channels to map; 0 with channels NULL: no maps (only concept relevances)
 * @param channels  [nconcepts] channel indices
 * @param[out] maps        [n][nconcepts][input numel], may be NULL when nconcepts is 0
 * @param[out] concept_rel [n][nchannels] sum of the relevance in each channel at the layer (may be NULL)
 * @param[out] targets     [n] the class explained (may be NULL)
 * @return XAI_OK; XAI_EINVAL (bad layer, channel, class or method), XAI_EUNSUPPORTED (a node
 *         without a relevance rule). Calls with the same model take turns with xai_explain().
 */
XAI_API xai_status xai_crp_explain(const xai_model *m, const xai_explain_config *cfg, const char *layer, int64_t n,
                                   const float *x, int nconcepts, const int *channels, float *maps,
                                   double *concept_rel, int *targets);

/**
 * The @p k channels of largest relevance in @p rel (nchannels values; ties: lower index
 * first), by relevance, not its absolute value, as in the CRP paper. k is clipped to nchannels.
 * @param[out] idx  [k]
 * @return the number written.
 */
XAI_API int xai_crp_top(const double *rel, int64_t nchannels, int k, int *idx);

/**
 * Reference samples by relevance maximisation (the CRP paper, "RelMax"): for each channel of
 * @p layer, the @p k samples of @p x (n stacked inputs, each explained for its class as
 * @p cfg says) in which that channel's concept relevance is largest.
 * @param[out] idx  [nchannels][k] sample indices, best first (-1 past n)
 * @param[out] val  [nchannels][k] their concept relevances (may be NULL)
 * @return as xai_crp_explain().
 */
XAI_API xai_status xai_crp_refs(const xai_model *m, const xai_explain_config *cfg, const char *layer, int64_t n,
                                const float *x, int k, int64_t *idx, double *val);

#ifdef __cplusplus
}
#endif

#endif
