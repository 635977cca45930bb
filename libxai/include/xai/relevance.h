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

#include "xai/lrp.h"
#include "xai/model.h"
#include "xai/status.h" /* also brings XAI_API */

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
 * Settings recommended for maps that are compared or averaged (the default for the apps),
 * measured on planted near-zero logits (tests/test-validate.c, README):
 * - the output layer (the last Gemm, MatMul or Conv) uses the z+ rule: its denominator is the sum
 *   of the positive contributions, not the logit, so a logit near zero cannot inflate the
 *   relevance handed down; the map then shows the evidence FOR the explained class;
 * - every epsilon layer uses bias factor 1 (Arras et al. 2017): the share that bias and epsilon
 *   would absorb is spread evenly over the inputs, so those layers conserve relevance.
 * The start is left as configured (default: one-hot for CNNs, so every map starts at +1 whatever
 * the sign of its logit). A rule the caller already gives for the output layer wins: the caller's
 * rules come first in @p rules_out.
 * @param[out] rules_out malloc'ed rules string that c->rules now points to; free() it after the
 *             last xai_explain() with @p c. NULL when the model has no Gemm/MatMul/Conv node (then
 *             only the bias factor is set and c->rules is unchanged).
 */
XAI_API xai_status xai_explain_config_stable(const xai_model *m, xai_explain_config *c, char **rules_out);

#ifdef __cplusplus
}
#endif

#endif /* XAI_RELEVANCE_H */
