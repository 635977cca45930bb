/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * relevance.h - checks and normalisation that make relevance maps safe to average.
 *
 * LRP starts each sample with a relevance at the output (1 for a one-hot start) and should
 * hand about that much down to the input. When the explained logit is close to zero, the
 * epsilon rule of the output layer divides by that logit and a single sample can end with a
 * relevance sum thousands of times its start; averaged unnormalised, that sample is the mean map.
 */
#ifndef XAI_RELEVANCE_H
#define XAI_RELEVANCE_H

#include <stdint.h>

#include "xai/export.h"
#include "xai/lrp.h"
#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default factor of xai_relevance_check(). */
#define XAI_RELEVANCE_FACTOR 10.0

/**
 * List the samples whose input relevance sum departs from their start by more than @p factor
 * in either direction: |rel_sum| > factor * |init_sum|, or |rel_sum| < |init_sum| / factor
 * (a sign flip with a large magnitude counts as growth), or a non-finite sum.
 * @param factor   > 1; 0 selects XAI_RELEVANCE_FACTOR
 * @param flagged  [r->n] caller-owned; receives the flagged sample indices, in order
 * @param nflagged receives their count
 * @param ratio    [r->n] or NULL: rel_sum / init_sum per sample (inf when the start is 0)
 */
XAI_API xai_status xai_relevance_check(const xai_explain_result *r, double factor, int64_t *flagged,
                                       int64_t *nflagged, double *ratio);

/**
 * Normalise each of @p n maps of @p numel values in place to sum |R| = 1, so that every sample
 * weighs the same in a class, run or group mean (a mean of normalised maps is a mean of
 * relevance SHARES). A map with sum |R| = 0 stays 0; one with non-finite values is an error.
 * @param l1 [n] or NULL: the sum |R| of each map before normalisation
 */
XAI_API xai_status xai_relevance_normalise(float *rel, int64_t n, int64_t numel, double *l1);

/**
 * The start recommended for averaged maps (what the apps use): one-hot start with the epsilon
 * rule's bias factor 1 (Arras et al. 2017, "explaining recurrent neural network predictions in
 * sentiment analysis"), i.e. the bias share of each Dense/Conv output under the epsilon rule is
 * spread over that layer's inputs instead of being lost. The epsilon layers then conserve
 * relevance exactly, so a near-zero logit can no longer blow the sum up (with a one-hot start
 * and bias factor 0 the sum becomes (z - b) / z). Leaves the other settings of @p c alone.
 * Individual values can still be large for such a sample: normalise before averaging.
 */
XAI_API void xai_explain_config_stable(xai_explain_config *c);

#ifdef __cplusplus
}
#endif

#endif /* XAI_RELEVANCE_H */
