/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eval-int.h - what the evaluation files share: counter-based random streams (a sample's
 * draws depend on (seed, domain, sample, counter) only, never on the stack it runs in) and
 * the batched "logit of the class of each sample" runner. Private to libxai.
 */
#ifndef XAI_EVAL_INT_H
#define XAI_EVAL_INT_H

#include <math.h>
#include <stdint.h>

#include "xai/eval.h"
#include "splitmix.h"

/* Domain constants keep the streams of one sample apart. */
#define XAI_STREAM_ORDER 0x6f726465724f5244ULL
#define XAI_STREAM_NOISE 0x6e6f6973654e4f49ULL
#define XAI_STREAM_ROAD 0x524f41446e6f6973ULL
#define XAI_STREAM_SUBSET 0x7375627365745346ULL
#define XAI_STREAM_INFID 0x696e666964454c49ULL
#define XAI_STREAM_SENS 0x73656e7369544956ULL
#define XAI_STREAM_MPRT 0x6d7072745241444fULL

static inline uint64_t xai_stream_key(uint64_t seed, uint64_t domain, int64_t sample)
{
    return xai_mix64(xai_mix64(seed ^ domain) + (uint64_t)sample);
}

/* Uniform double in [0, 1) from a counter. */
static inline double xai_stream_unit(uint64_t key, uint64_t counter)
{
    return (double)(xai_mix64(key + counter * 0xd1b54a32d192ed03ULL) >> 11) * 0x1.0p-53;
}

/* Standard normal from a counter (Box-Muller on two uniforms; 1 - u keeps the log finite). */
static inline double xai_stream_gauss(uint64_t key, uint64_t counter)
{
    double u = 1.0 - xai_stream_unit(key, 2 * counter), v = xai_stream_unit(key, 2 * counter + 1);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Mean and population sd of n floats. */
void xai_eval_moments(const float *x, int64_t n, double *mean, double *sd);

/*
 * Logits of class targets[i] of @p n stacked inputs, in stacks of @p batch on one workspace
 * (@p ws sized for batch). Non-finite logits are XAI_ENUMERIC naming @p what.
 */
xai_status xai_eval_class_logits(const xai_model *m, xai_workspace *ws, int64_t batch, int64_t n, const float *x,
                                 const int *targets, double *f, const char *what);

/* Random subset of k of 0..np-1 into idx (partial Fisher-Yates on @p perm, np entries). */
void xai_eval_subset(uint64_t key, uint64_t *ctr, int64_t np, int64_t k, int64_t *perm);

/* @p x (one sample) with the patches p of sel[p] != 0 replaced as cfg->replace says. */
xai_status xai_perturb_replace_set(const xai_perturb_config *cfg, int ndim, const int64_t *shape, const float *x,
                                  const unsigned char *sel, int64_t sample, float *out);

#endif
