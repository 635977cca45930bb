/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * relevance.c - conservation check, per-sample normalisation and the recommended start.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai/relevance.h"

xai_status xai_relevance_check(const xai_explain_result *r, double factor, int64_t *flagged, int64_t *nflagged,
                               double *ratio)
{
    if (factor == 0)
        factor = XAI_RELEVANCE_FACTOR;
    if (!r || !flagged || !nflagged || !(factor > 1))
        return xai_error_set(XAI_EINVAL, "relevance check: needs a result and a factor > 1 (got %g)", factor);
    if (r->n > 0 && (!r->rel_sum || !r->init_sum))
        return xai_error_set(XAI_EINVAL, "relevance check: the result holds no relevance sums");
    int64_t k = 0;
    for (int64_t i = 0; i < r->n; i++) {
        double got = fabs(r->rel_sum[i]), start = fabs(r->init_sum[i]);
        if (ratio)
            ratio[i] = r->init_sum[i] != 0 ? r->rel_sum[i] / r->init_sum[i] : got > 0 ? INFINITY : 1.0;
        if (!isfinite(r->rel_sum[i]) || got > factor * start || got * factor < start)
            flagged[k++] = i;
    }
    *nflagged = k;
    return XAI_OK;
}

xai_status xai_relevance_normalise(float *rel, int64_t n, int64_t numel, double *l1)
{
    if (n < 0 || numel < 1 || (n > 0 && !rel))
        return xai_error_set(XAI_EINVAL, "relevance normalisation: bad sizes %lld x %lld", (long long)n,
                             (long long)numel);
    for (int64_t i = 0; i < n; i++) {
        float *p = rel + i * numel;
        double s = 0;
        for (int64_t k = 0; k < numel; k++)
            s += fabs((double)p[k]);
        if (!isfinite(s))
            return xai_error_set(XAI_ENUMERIC, "relevance normalisation: map %lld holds non-finite values",
                                 (long long)i);
        if (l1)
            l1[i] = s;
        if (s > 0)
            for (int64_t k = 0; k < numel; k++)
                p[k] = (float)(p[k] / s);
    }
    return XAI_OK;
}

xai_status xai_explain_config_stable(const xai_model *m, xai_explain_config *c, char **rules_out)
{
    if (!m || !c || !rules_out)
        return xai_error_set(XAI_EINVAL, "stable relevance settings: needs a model, a config and an output");
    *rules_out = NULL;
    c->bias_factor = 1.0f;
    const char *top = NULL;
    for (int i = 0; i < xai_model_node_count(m); i++) {
        const char *op = xai_model_node_op(m, i);
        if (!strcmp(op, "Gemm") || !strcmp(op, "MatMul") || !strcmp(op, "Conv"))
            top = xai_model_node_name(m, i);
    }
    if (!top)
        return XAI_OK;
    const char *user = c->rules && c->rules[0] ? c->rules : NULL;
    size_t len = strlen(top) + (user ? strlen(user) : 0) + 32;
    char *r = malloc(len);
    if (!r)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    snprintf(r, len, "%s%snode:%s=zplus", user ? user : "", user ? ";" : "", top);
    c->rules = r;
    *rules_out = r;
    return XAI_OK;
}
