/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eval-model.c - metrics that run the model: faithfulness correlation (Bhatt, Weller, Moura,
 * IJCAI 2020), infidelity and max/avg-sensitivity (Yeh, Hsieh, Suggala, Inouye, Ravikumar,
 * NeurIPS 2019), and the per-sample-class explanation they share. Every random draw comes
 * from (seed, metric, sample, counter), so all methods see the same perturbations and a
 * sample's value does not depend on the stack it ran in.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xai/eval.h"
#include "xai/lrp.h"
#include "eval-int.h"

#define FAIL(st, ...) return xai_error_set((st), __VA_ARGS__)

xai_status xai_explain_targets(const xai_model *m, const xai_explain_config *ecfg, int64_t n, const float *x,
                               const int *targets, float *rel)
{
    if (!m || !ecfg || !x || !targets || !rel || n < 1)
        FAIL(XAI_EINVAL, "explain: NULL argument or no samples");
    int64_t nout = xai_model_output_numel(m);
    for (int64_t s = 0; s < n; s++)
        if (targets[s] < 0 || targets[s] >= nout)
            FAIL(XAI_EINVAL, "explain: class %d of sample %lld is out of range 0..%lld", targets[s], (long long)s,
                 (long long)(nout - 1));
    xai_explain_config ec = *ecfg;
    ec.targets = targets;
    return xai_explain(m, &ec, n, x, rel, NULL);
}

xai_status xai_eval_class_logits(const xai_model *m, xai_workspace *ws, int64_t batch, int64_t n, const float *x,
                                 const int *targets, double *f, const char *what)
{
    int64_t nin = xai_model_input_numel(m), nout = xai_model_output_numel(m);
    float *lg = malloc(sizeof(float) * (size_t)(batch * nout));
    if (!lg)
        FAIL(XAI_ENOMEM, "%s: out of memory", what);
    xai_status st = XAI_OK;
    for (int64_t a = 0; a < n && !st; a += batch) {
        int64_t cnt = n - a < batch ? n - a : batch;
        if ((st = xai_model_forward(m, ws, cnt, x + a * nin, lg)))
            break;
        for (int64_t i = 0; i < cnt; i++) {
            f[a + i] = lg[i * nout + targets[a + i]];
            if (!isfinite(f[a + i]))
                st = xai_error_set(XAI_ENUMERIC, "%s: a logit became non-finite", what);
        }
    }
    free(lg);
    return st;
}

/* Shared per-run state of the model-based metrics: a workspace, T copies of a sample, their
 * logits and a constant class list. */
typedef struct {
    xai_workspace *ws;
    int64_t nin, runs, batch;
    float *xb;   /* [runs][nin] */
    double *f;   /* [runs] */
    int *cls;    /* [runs] */
} runner;

static void runner_free(runner *r)
{
    xai_workspace_free(r->ws);
    free(r->xb);
    free(r->f);
    free(r->cls);
    memset(r, 0, sizeof *r);
}

static xai_status runner_make(const xai_model *m, int64_t runs, int64_t batch, runner *r, const char *what)
{
    memset(r, 0, sizeof *r);
    r->nin = xai_model_input_numel(m);
    r->runs = runs;
    r->batch = batch < 1 ? 1 : batch > runs ? runs : batch;
    r->xb = malloc(sizeof(float) * (size_t)(runs * r->nin));
    r->f = malloc(sizeof(double) * (size_t)runs);
    r->cls = malloc(sizeof(int) * (size_t)runs);
    if (!r->xb || !r->f || !r->cls) {
        runner_free(r);
        FAIL(XAI_ENOMEM, "%s: out of memory for %lld copies of a sample", what, (long long)runs);
    }
    xai_status st = xai_workspace_new(m, r->batch, &r->ws);
    if (st)
        runner_free(r);
    return st;
}

/* Run the runs copies for class c. */
static xai_status runner_go(const xai_model *m, runner *r, int c, const char *what)
{
    for (int64_t t = 0; t < r->runs; t++)
        r->cls[t] = c;
    return xai_eval_class_logits(m, r->ws, r->batch, r->runs, r->xb, r->cls, r->f, what);
}

static xai_status check_common(const xai_model *m, int64_t n, const float *x, const float *rel, const int *targets,
                               const void *out, const char *what)
{
    if (!m || !x || !rel || !targets || !out || n < 1)
        FAIL(XAI_EINVAL, "%s: NULL argument or no samples", what);
    int64_t nout = xai_model_output_numel(m);
    for (int64_t s = 0; s < n; s++)
        if (targets[s] < 0 || targets[s] >= nout)
            FAIL(XAI_EINVAL, "%s: class %d of sample %lld is out of range", what, targets[s], (long long)s);
    return XAI_OK;
}

/* f(x) of every sample for its class. */
static xai_status base_logits(const xai_model *m, int64_t batch, int64_t n, const float *x, const int *targets,
                              double *f0, const char *what)
{
    int64_t b = batch < 1 ? 1 : batch > n ? n : batch;
    xai_workspace *ws = NULL;
    xai_status st = xai_workspace_new(m, b, &ws);
    if (!st)
        st = xai_eval_class_logits(m, ws, b, n, x, targets, f0, what);
    xai_workspace_free(ws);
    return st;
}

/* One sample of faithfulness correlation; perm and sel hold np entries, rs runs doubles. */
static xai_status fc_sample(const xai_model *m, const xai_eval_config *cfg, runner *r, const int64_t *patch_of,
                            int64_t np, const float *xs, const float *rs, int c, double f0, int64_t s,
                            int64_t *perm, unsigned char *sel, double *sum, double *out)
{
    int ndim;
    const int64_t *shape = xai_model_input_shape(m, &ndim);
    int64_t k = (int64_t)llround(cfg->fc_fraction * (double)np);
    k = k < 1 ? 1 : k > np ? np : k;
    uint64_t key = xai_stream_key(cfg->seed, XAI_STREAM_SUBSET, s), ctr = 0;
    xai_status st = XAI_OK;
    for (int64_t t = 0; t < r->runs && !st; t++) {
        xai_eval_subset(key, &ctr, np, k, perm);
        memset(sel, 0, (size_t)np);
        for (int64_t i = 0; i < k; i++)
            sel[perm[i]] = 1;
        double acc = 0;
        for (int64_t e = 0; e < r->nin; e++)
            acc += sel[patch_of[e]] ? rs[e] : 0.0;
        sum[t] = acc;
        st = xai_perturb_replace_set(&cfg->perturb, ndim, shape, xs, sel, s, r->xb + t * r->nin);
    }
    if (!st)
        st = runner_go(m, r, c, "faithfulness correlation");
    if (!st) {
        for (int64_t t = 0; t < r->runs; t++)
            r->f[t] = f0 - r->f[t];
        *out = xai_pearson(sum, r->f, r->runs);
    }
    return st;
}

xai_status xai_eval_faithfulness_correlation(const xai_model *m, const xai_eval_config *cfg, int64_t n,
                                             const float *x, const float *rel, const int *targets, double *out)
{
    const char *what = "faithfulness correlation";
    xai_status st = check_common(m, n, x, rel, targets, out, what);
    if (st)
        return st;
    if (!cfg || cfg->fc_runs < 2 || !(cfg->fc_fraction > 0 && cfg->fc_fraction <= 1))
        FAIL(XAI_EINVAL, "%s: needs at least 2 runs and a subset fraction in (0, 1]", what);
    int ndim;
    const int64_t *shape = xai_model_input_shape(m, &ndim);
    int64_t np = 0, nin = xai_model_input_numel(m);
    if ((st = xai_perturb_patches(ndim, shape, &cfg->perturb, NULL, &np)))
        return st;
    int64_t *patch_of = malloc(sizeof(int64_t) * (size_t)nin), *perm = malloc(sizeof(int64_t) * (size_t)np);
    unsigned char *sel = malloc((size_t)np);
    double *sum = malloc(sizeof(double) * (size_t)cfg->fc_runs), *f0 = malloc(sizeof(double) * (size_t)n);
    runner r = {0};
    if (!patch_of || !perm || !sel || !sum || !f0)
        st = xai_error_set(XAI_ENOMEM, "%s: out of memory", what);
    if (!st)
        st = xai_perturb_patches(ndim, shape, &cfg->perturb, patch_of, &np);
    if (!st)
        st = base_logits(m, cfg->perturb.batch, n, x, targets, f0, what);
    if (!st)
        st = runner_make(m, cfg->fc_runs, cfg->perturb.batch, &r, what);
    for (int64_t s = 0; s < n && !st; s++)
        st = fc_sample(m, cfg, &r, patch_of, np, x + s * nin, rel + s * nin, targets[s], f0[s], s, perm, sel, sum,
                       &out[s]);
    runner_free(&r);
    free(patch_of);
    free(perm);
    free(sel);
    free(sum);
    free(f0);
    return st;
}

xai_status xai_eval_infidelity(const xai_model *m, const xai_eval_config *cfg, int64_t n, const float *x,
                               const float *rel, const int *targets, double *out)
{
    const char *what = "infidelity";
    xai_status st = check_common(m, n, x, rel, targets, out, what);
    if (st)
        return st;
    if (!cfg || cfg->infid_runs < 1 || !(cfg->infid_sigma > 0) || !isfinite(cfg->infid_sigma))
        FAIL(XAI_EINVAL, "%s: needs at least 1 run and a noise level > 0", what);
    int64_t nin = xai_model_input_numel(m), T = cfg->infid_runs;
    double *f0 = malloc(sizeof(double) * (size_t)n), *a = malloc(sizeof(double) * (size_t)T);
    runner r = {0};
    if (!f0 || !a)
        st = xai_error_set(XAI_ENOMEM, "%s: out of memory", what);
    if (!st)
        st = base_logits(m, cfg->perturb.batch, n, x, targets, f0, what);
    if (!st)
        st = runner_make(m, T, cfg->perturb.batch, &r, what);
    for (int64_t s = 0; s < n && !st; s++) {
        const float *xs = x + s * nin, *rs = rel + s * nin;
        double mu, sd;
        xai_eval_moments(xs, nin, &mu, &sd);
        uint64_t key = xai_stream_key(cfg->seed, XAI_STREAM_INFID, s);
        for (int64_t t = 0; t < T; t++) {
            double acc = 0;
            for (int64_t e = 0; e < nin; e++) {
                float in = (float)(cfg->infid_sigma * sd * xai_stream_gauss(key, (uint64_t)(t * nin + e)));
                r.xb[t * nin + e] = xs[e] - in;
                acc += (double)in * rs[e];
            }
            a[t] = acc;
        }
        if ((st = runner_go(m, &r, targets[s], what)))
            break;
        double ab = 0, aa = 0, sq = 0;
        for (int64_t t = 0; t < T; t++) {
            r.f[t] = f0[s] - r.f[t];
            ab += a[t] * r.f[t];
            aa += a[t] * a[t];
        }
        double beta = aa > 0 ? ab / aa : 0.0;
        for (int64_t t = 0; t < T; t++)
            sq += (beta * a[t] - r.f[t]) * (beta * a[t] - r.f[t]);
        out[s] = sq / (double)T;
    }
    runner_free(&r);
    free(f0);
    free(a);
    return st;
}

/* Sensitivities of one sample: copies in cp (runs x nin), their maps in cr. */
static xai_status sens_sample(const xai_model *m, const xai_eval_config *cfg, const xai_explain_config *ecfg,
                              const float *xs, const float *rs, int64_t nin, int c, int64_t s, float *cp, float *cr,
                              double *mx, double *avg)
{
    float lo = xs[0], hi = xs[0];
    for (int64_t e = 1; e < nin; e++) {
        lo = fminf(lo, xs[e]);
        hi = fmaxf(hi, xs[e]);
    }
    double rad = cfg->sens_radius * (double)(hi - lo), den = 0;
    uint64_t key = xai_stream_key(cfg->seed, XAI_STREAM_SENS, s);
    int64_t T = cfg->sens_runs;
    for (int64_t t = 0; t < T; t++)
        for (int64_t e = 0; e < nin; e++)
            cp[t * nin + e] = (float)(xs[e] + rad * (2.0 * xai_stream_unit(key, (uint64_t)(t * nin + e)) - 1.0));
    xai_explain_config ec = *ecfg;
    ec.target = c;
    xai_status st = xai_explain(m, &ec, T, cp, cr, NULL);
    if (st)
        return st;
    for (int64_t e = 0; e < nin; e++)
        den += (double)rs[e] * rs[e];
    double best = -INFINITY, acc = 0;
    for (int64_t t = 0; t < T; t++) {
        double d = 0;
        for (int64_t e = 0; e < nin; e++) {
            double q = (double)cr[t * nin + e] - rs[e];
            d += q * q;
        }
        double v = den > 0 ? sqrt(d / den) : NAN;
        best = fmax(best, v);
        acc += v;
    }
    *mx = den > 0 ? best : NAN;
    *avg = den > 0 ? acc / (double)T : NAN;
    return XAI_OK;
}

xai_status xai_eval_sensitivity(const xai_model *m, const xai_eval_config *cfg, const xai_explain_config *ecfg,
                                int64_t n, const float *x, const float *rel, const int *targets, double *max_out,
                                double *avg_out)
{
    const char *what = "sensitivity";
    xai_status st = check_common(m, n, x, rel, targets, x, what);
    if (st)
        return st;
    if (!cfg || !ecfg || cfg->sens_runs < 1 || !(cfg->sens_radius > 0) || !isfinite(cfg->sens_radius))
        FAIL(XAI_EINVAL, "%s: needs a method, at least 1 run and a radius > 0", what);
    if (ecfg->box_low || ecfg->box_high)
        FAIL(XAI_EINVAL, "%s: explains perturbed copies of each sample, and per-element z-box bounds are given "
             "only for the samples themselves", what);
    int64_t nin = xai_model_input_numel(m), T = cfg->sens_runs;
    float *cp = malloc(sizeof(float) * (size_t)(T * nin)), *cr = malloc(sizeof(float) * (size_t)(T * nin));
    if (!cp || !cr)
        st = xai_error_set(XAI_ENOMEM, "%s: out of memory for %lld copies", what, (long long)T);
    for (int64_t s = 0; s < n && !st; s++) {
        double mx, avg;
        if ((st = sens_sample(m, cfg, ecfg, x + s * nin, rel + s * nin, nin, targets[s], s, cp, cr, &mx, &avg)))
            break;
        if (max_out)
            max_out[s] = mx;
        if (avg_out)
            avg_out[s] = avg;
    }
    free(cp);
    free(cr);
    return st;
}
