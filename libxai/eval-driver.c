/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eval-driver.c - xai_eval_metrics(): any list of metrics for one attribution method, with
 * per-sample values and their mean and 95% interval (Student's t) over the samples where the
 * value exists. One entry point for xai-evaluate and for domain programs that bring their own
 * relevance, inputs, model and truth mask in the model-input layout.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xai/eval.h"
#include "eval-int.h"
#include "graph-int.h"

#define FAIL(st, ...) return xai_error_set((st), __VA_ARGS__)
#define HAS(set, k) (((set) >> (k)) & 1u)

void xai_eval_scores_free(xai_eval_scores *s)
{
    if (!s)
        return;
    free(s->target);
    for (int k = 0; k < XAI_METRIC_COUNT; k++)
        free(s->score[k].sample);
    for (int o = 0; o < 2; o++) {
        xai_perturb_result_free(&s->aopc[o]);
        xai_perturb_result_free(&s->road[o]);
    }
    xai_mprt_result_free(&s->mprt);
    memset(s, 0, sizeof *s);
}

/* Region perturbation (AOPC) or ROAD for MoRF and LeRF into scores k_morf, k_morf + 1. */
static xai_status perturbation_pair(const xai_model *m, const xai_eval_config *cfg, uint32_t set, int road, int64_t n,
                                    const float *x, const float *rel, xai_eval_scores *out)
{
    xai_metric k0 = road ? XAI_METRIC_ROAD_MORF : XAI_METRIC_AOPC_MORF;
    for (int o = 0; o < 2; o++) {
        if (!HAS(set, k0 + o))
            continue;
        xai_perturb_config pc = cfg->perturb;
        pc.order = o == 0 ? XAI_ORDER_MORF : XAI_ORDER_LERF;
        pc.target = out->target;
        if (road)
            pc.replace = XAI_REPLACE_ROAD;
        xai_perturb_result *r = road ? &out->road[o] : &out->aopc[o];
        xai_status st = xai_perturb_evaluate(m, &pc, n, x, rel, r);
        if (st)
            return st;
        memcpy(out->score[k0 + o].sample, r->aopc_sample, sizeof(double) * (size_t)n);
    }
    return XAI_OK;
}

/* Store value v of metric k for sample s when that metric was asked for. */
static void put(xai_eval_scores *out, xai_metric k, int64_t s, double v)
{
    if (out->score[k].computed)
        out->score[k].sample[s] = v;
}

/* Localisation and complexity, sample by sample on the arrays. */
static xai_status array_metrics(const xai_eval_config *cfg, uint32_t set, int64_t n, int64_t nin, const float *rel,
                                const float *mask, xai_eval_scores *out)
{
    int loc = HAS(set, XAI_METRIC_MASS_ACCURACY) || HAS(set, XAI_METRIC_RANK_ACCURACY) ||
              HAS(set, XAI_METRIC_POINTING_GAME) || HAS(set, XAI_METRIC_ENRICHMENT);
    int cpx = HAS(set, XAI_METRIC_SPARSENESS) || HAS(set, XAI_METRIC_COMPLEXITY);
    for (int64_t s = 0; s < n; s++) {
        xai_status st;
        if (loc) {
            xai_localisation l;
            if ((st = xai_eval_localisation(rel + s * nin, mask + s * nin, nin, cfg->loc_abs, &l)))
                return xai_error_set(st, "sample %lld: %s", (long long)s, xai_last_error());
            put(out, XAI_METRIC_MASS_ACCURACY, s, l.mass_accuracy);
            put(out, XAI_METRIC_RANK_ACCURACY, s, l.rank_accuracy);
            put(out, XAI_METRIC_POINTING_GAME, s, l.pointing_game);
            put(out, XAI_METRIC_ENRICHMENT, s, l.enrichment);
        }
        double g, h;
        if (cpx && (st = xai_eval_complexity(rel + s * nin, nin, &g, &h)))
            return st;
        if (cpx) {
            put(out, XAI_METRIC_SPARSENESS, s, g);
            put(out, XAI_METRIC_COMPLEXITY, s, h);
        }
    }
    return XAI_OK;
}

/* The metrics that run the model beyond region perturbation. */
static xai_status model_metrics(const xai_model *m, const xai_eval_config *cfg, const xai_explain_config *ecfg,
                                uint32_t set, int64_t n, const float *x, const float *rel, xai_eval_scores *out)
{
    xai_status st = XAI_OK;
    xai_metric_score *sc = out->score;
    if (HAS(set, XAI_METRIC_FAITHFULNESS_CORR))
        st = xai_eval_faithfulness_correlation(m, cfg, n, x, rel, out->target, sc[XAI_METRIC_FAITHFULNESS_CORR].sample);
    if (!st && HAS(set, XAI_METRIC_INFIDELITY))
        st = xai_eval_infidelity(m, cfg, n, x, rel, out->target, sc[XAI_METRIC_INFIDELITY].sample);
    if (!st && (HAS(set, XAI_METRIC_MAX_SENSITIVITY) || HAS(set, XAI_METRIC_AVG_SENSITIVITY)))
        st = xai_eval_sensitivity(m, cfg, ecfg, n, x, rel, out->target, sc[XAI_METRIC_MAX_SENSITIVITY].sample,
                                  sc[XAI_METRIC_AVG_SENSITIVITY].sample);
    if (!st && HAS(set, XAI_METRIC_MPRT)) {
        if (!(st = xai_eval_mprt(m, cfg, ecfg, n, x, out->target, &out->mprt)))
            for (int64_t s = 0; s < n; s++) {
                double acc = 0;
                for (int l = 0; l < out->mprt.nlayers; l++)
                    acc += out->mprt.rho[s * out->mprt.nlayers + l];
                sc[XAI_METRIC_MPRT].sample[s] = acc / out->mprt.nlayers;
            }
    }
    return st;
}

void xai_eval_scores_summarise(xai_eval_scores *out)
{
    int64_t n = out ? out->n : 0;
    double *v = n > 0 ? malloc(sizeof(double) * (size_t)n) : NULL;
    for (int k = 0; out && k < XAI_METRIC_COUNT; k++) {
        xai_metric_score *sc = &out->score[k];
        if (!sc->computed)
            continue;
        int64_t c = 0;
        for (int64_t s = 0; v && s < n; s++)
            if (isfinite(sc->sample[s]))
                v[c++] = sc->sample[s];
        sc->n_finite = c;
        xai_mean_ci95(v, c, &sc->mean, &sc->sd, &sc->ci_low, &sc->ci_high);
    }
    free(v);
}

static xai_status prepare(const xai_model *m, const xai_explain_config *ecfg, uint32_t set, int64_t n,
                          const float *x, const float *mask, const int *targets, xai_eval_scores *out)
{
    if (!m || !x || !out || n < 1)
        FAIL(XAI_EINVAL, "evaluation: NULL model, input or result, or no samples");
    if (!set || set >> XAI_METRIC_COUNT)
        FAIL(XAI_EINVAL, "evaluation: empty or unknown metric set 0x%x", set);
    for (int k = 0; k < XAI_METRIC_COUNT; k++)
        if (HAS(set, k) && xai_metric_needs_mask(k) && !mask)
            FAIL(XAI_EINVAL, "evaluation: %s needs a ground-truth mask", xai_metric_name(k));
    if (!ecfg)
        FAIL(XAI_EINVAL, "evaluation: NULL method");
    out->n = n;
    if (!(out->target = malloc(sizeof(int) * (size_t)n)))
        FAIL(XAI_ENOMEM, "evaluation: out of memory");
    for (int k = 0; k < XAI_METRIC_COUNT; k++) {
        if (!HAS(set, k))
            continue;
        out->score[k].computed = 1;
        if (!(out->score[k].sample = malloc(sizeof(double) * (size_t)n)))
            FAIL(XAI_ENOMEM, "evaluation: out of memory");
        for (int64_t s = 0; s < n; s++)
            out->score[k].sample[s] = NAN;
    }
    if (targets) {
        int64_t nout = xai_model_output_numel(m);
        for (int64_t s = 0; s < n; s++)
            if (targets[s] < 0 || targets[s] >= nout)
                FAIL(XAI_EINVAL, "evaluation: class %d of sample %lld is out of range", targets[s], (long long)s);
        memcpy(out->target, targets, sizeof(int) * (size_t)n);
        return XAI_OK;
    }
    return xai_model_argmax(m, ecfg->batch, n, x, out->target);
}

xai_status xai_eval_metrics(const xai_model *m, const xai_eval_config *cfg, const xai_explain_config *ecfg,
                            uint32_t set, int64_t n, const float *x, const float *rel, const float *mask,
                            const int *targets, xai_eval_scores *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!cfg)
        FAIL(XAI_EINVAL, "evaluation: NULL config");
    xai_status st = prepare(m, ecfg, set, n, x, mask, targets, out);
    float *own = NULL;
    if (!st && !rel) {
        int64_t nin = xai_model_input_numel(m);
        if (!(own = malloc(sizeof(float) * (size_t)(n * nin))))
            st = xai_error_set(XAI_ENOMEM, "evaluation: out of memory for the maps");
        else if (!(st = xai_explain_targets(m, ecfg, n, x, out->target, own)))
            rel = own;
    }
    if (!st)
        st = perturbation_pair(m, cfg, set, 0, n, x, rel, out);
    if (!st)
        st = perturbation_pair(m, cfg, set, 1, n, x, rel, out);
    if (!st)
        st = array_metrics(cfg, set, n, xai_model_input_numel(m), rel, mask, out);
    if (!st)
        st = model_metrics(m, cfg, ecfg, set, n, x, rel, out);
    if (!st)
        xai_eval_scores_summarise(out);
    else if (out)
        xai_eval_scores_free(out);
    free(own);
    return st;
}
