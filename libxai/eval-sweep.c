/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eval-sweep.c - the drivers over several attribution methods: xai_aopc_sweep() (region
 * perturbation of every method in MoRF and/or LeRF order against one seeded random order,
 * Samek et al. 2017) and xai_eval_methods() (xai_eval_metrics() for every method). Both
 * explain each method themselves, report progress through a callback and never print.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai/eval.h"

void xai_aopc_sweep_free(xai_aopc_sweep *s)
{
    if (!s)
        return;
    for (int i = 0; s->run && i < s->nruns; i++)
        xai_perturb_result_free(&s->run[i].res);
    free(s->run);
    memset(s, 0, sizeof *s);
}

/* A failed method's message starts with its label, cut as the programs print it. */
static xai_status method_error(xai_status st, const char *label)
{
    return xai_error_set(st, "%.100s: %.400s", label, xai_last_error());
}

static void step(xai_eval_progress_fn progress, void *ud, int64_t done, int64_t total, const char *item)
{
    if (progress)
        progress(ud, done, total, item);
}

/* One method's relevance, then its MoRF and/or LeRF runs appended to @p s. */
static xai_status method_runs(const xai_model *m, xai_perturb_config *pc, unsigned orders,
                              const xai_eval_method *me, int64_t n, const float *x, float *rel, xai_aopc_sweep *s,
                              xai_eval_progress_fn progress, void *ud, int64_t total)
{
    xai_status st = xai_explain_targets(m, &me->explain, n, x, pc->target, rel);
    if (st)
        return method_error(st, me->label);
    for (int k = 0; k < 2; k++) {
        if (!((orders >> k) & 1u))
            continue;
        xai_aopc_run *r = &s->run[s->nruns];
        snprintf(r->label, sizeof r->label, "%.*s", (int)sizeof r->label - 1, me->label);
        r->order = pc->order = k == 0 ? XAI_ORDER_MORF : XAI_ORDER_LERF;
        if ((st = xai_perturb_evaluate(m, pc, n, x, rel, &r->res)))
            return method_error(st, me->label);
        s->nruns++;
        char item[200];
        snprintf(item, sizeof item, "%.100s/%s", me->label, xai_perturb_order_name(r->order));
        step(progress, ud, s->nruns, total, item);
    }
    return XAI_OK;
}

/* The random run first: it fixes every sample's class (cfg->target or the argmax), which
 * every method then explains and tracks. */
static xai_status sweep(const xai_model *m, const xai_perturb_config *cfg, unsigned orders,
                        const xai_eval_method *methods, int nmethods, int64_t n, const float *x, float *rel,
                        int *tg, xai_aopc_sweep *s, xai_eval_progress_fn progress, void *ud)
{
    int64_t total = 1 + (int64_t)nmethods * ((orders & 1u) + ((orders >> 1) & 1u));
    xai_perturb_config pc = *cfg;
    pc.order = XAI_ORDER_RANDOM;
    snprintf(s->run[0].label, sizeof s->run[0].label, "random");
    s->run[0].order = XAI_ORDER_RANDOM;
    xai_status st = xai_perturb_evaluate(m, &pc, n, x, NULL, &s->run[0].res);
    if (st)
        return st;
    s->nruns = 1;
    step(progress, ud, s->nruns, total, "random");
    memcpy(tg, s->run[0].res.target, sizeof(int) * (size_t)n);
    pc.target = tg;
    for (int i = 0; i < nmethods && !st; i++)
        st = method_runs(m, &pc, orders, &methods[i], n, x, rel, s, progress, ud, total);
    return st;
}

xai_status xai_aopc_sweep_run(const xai_model *m, const xai_perturb_config *cfg, unsigned orders,
                              const xai_eval_method *methods, int nmethods, int64_t n, const float *x,
                              xai_eval_progress_fn progress, void *ud, xai_aopc_sweep *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!m || !cfg || !x || !out || n < 1 || nmethods < 0 || (nmethods > 0 && !methods))
        return xai_error_set(XAI_EINVAL, "AOPC sweep: NULL model, config, input or result, or no samples");
    if (!orders || orders > 3u)
        return xai_error_set(XAI_EINVAL, "AOPC sweep: orders must be MoRF, LeRF or both (bit set 1..3)");
    int64_t nin = xai_model_input_numel(m);
    float *rel = malloc(sizeof(float) * (size_t)(n * nin));
    int *tg = malloc(sizeof(int) * (size_t)n);
    out->run = calloc((size_t)(1 + 2 * nmethods), sizeof *out->run);
    xai_status st = rel && tg && out->run ? XAI_OK : xai_error_set(XAI_ENOMEM, "AOPC sweep: out of memory");
    if (!st)
        st = sweep(m, cfg, orders, methods, nmethods, n, x, rel, tg, out, progress, ud);
    if (st)
        xai_aopc_sweep_free(out);
    free(rel);
    free(tg);
    return st;
}

xai_status xai_eval_methods(const xai_model *m, const xai_eval_config *cfg, uint32_t set,
                            const xai_eval_method *methods, int nmethods, int64_t n, const float *x,
                            const float *mask, const int *targets, xai_eval_progress_fn progress, void *ud,
                            xai_eval_scores *out)
{
    if (!out || nmethods < 1 || !methods)
        return xai_error_set(XAI_EINVAL, "evaluation: no method or NULL result");
    memset(out, 0, sizeof *out * (size_t)nmethods);
    for (int i = 0; i < nmethods; i++) {
        xai_status st = xai_eval_metrics(m, cfg, &methods[i].explain, set, n, x, NULL, mask, targets, &out[i]);
        if (st) {
            st = xai_error_set(st, "%.100s: %.480s", methods[i].label, xai_last_error());
            for (int j = 0; j < i; j++)
                xai_eval_scores_free(&out[j]);
            return st;
        }
        step(progress, ud, i + 1, nmethods, methods[i].label);
    }
    return XAI_OK;
}
