/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eval.c - region perturbation ("pixel flipping") and AOPC, Samek et al. 2017, IEEE TNNLS
 * 28(11):2660, "Evaluating the visualization of what a deep neural network has learned".
 * Patches are a row-major grid over the per-sample shape; relevance is summed per patch to
 * order them (MoRF, LeRF) or a seeded permutation is drawn (random baseline). x^k replaces
 * the first k steps' patches cumulatively; every x^k is pushed through the model in stacks.
 * Random streams are counter based (splitmix64 of seed, sample, element), so a sample's
 * noise and random order do not depend on the stack it runs in. The 95% interval uses
 * Student's t (table for df <= 30; Cornish-Fisher expansion, Abramowitz & Stegun 26.7.5).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xai/eval.h"
#include "xai/model.h"
#include "eval-int.h"

#define FAIL(st, ...) return xai_error_set((st), __VA_ARGS__)

static const char *const order_names[XAI_ORDER_COUNT] = {"morf", "lerf", "random"};
static const char *const replace_names[XAI_REPLACE_COUNT] = {"baseline", "uniform", "mean", "road"};

#define STREAM_ORDER XAI_STREAM_ORDER
#define STREAM_NOISE XAI_STREAM_NOISE

void xai_perturb_config_init(xai_perturb_config *c)
{
    if (!c)
        return;
    memset(c, 0, sizeof *c);
    c->patch_ndim = 0;
    c->steps = 0;
    c->per_step = 1;
    c->order = XAI_ORDER_MORF;
    c->replace = XAI_REPLACE_BASELINE;
    c->baseline = 0.0f;
    c->seed = 0;
    c->batch = 64;
    c->target = NULL;
    c->road_axes = 0;
    c->road_noise = 0.01f;
}

void xai_perturb_result_free(xai_perturb_result *r)
{
    if (!r)
        return;
    free(r->target);
    free(r->f);
    free(r->aopc_sample);
    free(r->curve);
    free(r->fraction);
    memset(r, 0, sizeof *r);
}

const char *xai_perturb_order_name(xai_perturb_order o)
{
    return (unsigned)o < XAI_ORDER_COUNT ? order_names[o] : NULL;
}

xai_status xai_perturb_order_parse(const char *s, xai_perturb_order *out)
{
    for (int i = 0; s && i < XAI_ORDER_COUNT; i++)
        if (strcmp(s, order_names[i]) == 0) {
            *out = (xai_perturb_order)i;
            return XAI_OK;
        }
    FAIL(XAI_EINVAL, "unknown perturbation order '%s' (morf, lerf, random)", s ? s : "(null)");
}

const char *xai_replace_name(xai_replace_mode r)
{
    return (unsigned)r < XAI_REPLACE_COUNT ? replace_names[r] : NULL;
}

xai_status xai_replace_parse(const char *s, xai_replace_mode *out)
{
    for (int i = 0; s && i < XAI_REPLACE_COUNT; i++)
        if (strcmp(s, replace_names[i]) == 0) {
            *out = (xai_replace_mode)i;
            return XAI_OK;
        }
    FAIL(XAI_EINVAL, "unknown replacement '%s' (baseline, uniform, mean, road)", s ? s : "(null)");
}

xai_status xai_perturb_patch_parse(const char *s, xai_perturb_config *cfg)
{
    if (!s || !cfg || !*s)
        FAIL(XAI_EINVAL, "empty patch spec (expected e.g. 8, 1x8 or 4x4x4)");
    int nd = 0;
    int64_t p[XAI_MAX_DIMS];
    const char *c = s;
    for (;;) {
        if (*c < '0' || *c > '9')
            FAIL(XAI_EINVAL, "bad patch spec '%s' (expected sizes joined by 'x', e.g. 1x8)", s);
        int64_t v = 0;
        while (*c >= '0' && *c <= '9') {
            v = v * 10 + (*c - '0');
            if (v > ((int64_t)1 << 40))
                FAIL(XAI_EINVAL, "patch spec '%s': size too large", s);
            c++;
        }
        if (v < 1)
            FAIL(XAI_EINVAL, "patch spec '%s': sizes must be >= 1", s);
        if (nd == XAI_MAX_DIMS)
            FAIL(XAI_EINVAL, "patch spec '%s': more than %d axes", s, XAI_MAX_DIMS);
        p[nd++] = v;
        if (*c == '\0')
            break;
        if (*c != 'x' && *c != 'X')
            FAIL(XAI_EINVAL, "bad patch spec '%s' (expected sizes joined by 'x', e.g. 1x8)", s);
        c++;
    }
    cfg->patch_ndim = nd;
    memcpy(cfg->patch, p, sizeof(int64_t) * (size_t)nd);
    return XAI_OK;
}

/* ---- statistics ------------------------------------------------------------------ */

double xai_t975(int64_t df)
{
    /* t_{0.975, df} for df = 1..30 (to 4 decimals, standard tables). */
    static const double tab[30] = {
        12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
        2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
        2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423};
    if (df < 1)
        return NAN;
    if (df <= 30)
        return tab[df - 1];
    /* Cornish-Fisher expansion of t in terms of the normal quantile z (A&S 26.7.5);
     * the error is below 1e-5 for df > 30. */
    const double z = 1.959963984540054, d = (double)df;
    const double z2 = z * z, z3 = z2 * z, z5 = z3 * z2, z7 = z5 * z2;
    const double g1 = (z3 + z) / 4.0;
    const double g2 = (5.0 * z5 + 16.0 * z3 + 3.0 * z) / 96.0;
    const double g3 = (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / 384.0;
    const double g4 = (79.0 * z7 * z2 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / 92160.0;
    return z + g1 / d + g2 / (d * d) + g3 / (d * d * d) + g4 / (d * d * d * d);
}

void xai_mean_ci95(const double *v, int64_t n, double *mean, double *sd, double *lo, double *hi)
{
    double mu = NAN, s = NAN, l = NAN, h = NAN;
    if (v && n >= 1) {
        double acc = 0;
        for (int64_t i = 0; i < n; i++)
            acc += v[i];
        mu = acc / (double)n;
        if (n >= 2) {
            double ss = 0;
            for (int64_t i = 0; i < n; i++)
                ss += (v[i] - mu) * (v[i] - mu);
            s = sqrt(ss / (double)(n - 1));
            double half = xai_t975(n - 1) * s / sqrt((double)n);
            l = mu - half;
            h = mu + half;
        }
    }
    if (mean)
        *mean = mu;
    if (sd)
        *sd = s;
    if (lo)
        *lo = l;
    if (hi)
        *hi = h;
}

/* ---- random streams -------------------------------------------------------------- */


#define stream_key xai_stream_key
#define unit xai_stream_unit

/* Unbiased integer in [0, bound) by rejection. */
static uint64_t below(uint64_t key, uint64_t *ctr, uint64_t bound)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % bound;
    for (;;) {
        uint64_t r = xai_mix64(key + (*ctr)++ * 0xd1b54a32d192ed03ULL);
        if (r < lim)
            return r % bound;
    }
}

void xai_eval_subset(uint64_t key, uint64_t *ctr, int64_t np, int64_t k, int64_t *perm)
{
    for (int64_t p = 0; p < np; p++)
        perm[p] = p;
    for (int64_t p = 0; p < k && p < np - 1; p++) {
        int64_t j = p + (int64_t)below(key, ctr, (uint64_t)(np - p));
        int64_t t = perm[p];
        perm[p] = perm[j];
        perm[j] = t;
    }
}

/* ---- patches --------------------------------------------------------------------- */

static xai_status check_shape(int ndim, const int64_t *shape, int64_t *numel)
{
    if (ndim < 1 || ndim > XAI_MAX_DIMS || !shape)
        FAIL(XAI_EINVAL, "perturbation: per-sample shape needs 1..%d axes, got %d", XAI_MAX_DIMS, ndim);
    int64_t ne = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 1 || shape[d] > ((int64_t)1 << 40) / ne)
            FAIL(XAI_EINVAL, "perturbation: bad extent %lld on axis %d", (long long)shape[d], d);
        ne *= shape[d];
    }
    *numel = ne;
    return XAI_OK;
}

/* Full per-axis patch extents (leading axes 1). */
static xai_status patch_extents(int ndim, const int64_t *shape, const xai_perturb_config *cfg, int64_t *ext,
                                int64_t *grid, int64_t *npatches)
{
    if (!cfg)
        FAIL(XAI_EINVAL, "perturbation: NULL config");
    if (cfg->patch_ndim < 0 || cfg->patch_ndim > ndim)
        FAIL(XAI_EINVAL, "perturbation: the patch has %d axes but the per-sample input only %d",
             cfg->patch_ndim, ndim);
    int64_t np = 1;
    for (int d = 0; d < ndim; d++) {
        int pd = d - (ndim - cfg->patch_ndim);
        ext[d] = pd >= 0 ? cfg->patch[pd] : 1;
        if (ext[d] < 1 || ext[d] > shape[d])
            FAIL(XAI_EINVAL, "perturbation: patch extent %lld on axis %d must lie in 1..%lld",
                 (long long)ext[d], d, (long long)shape[d]);
        grid[d] = (shape[d] + ext[d] - 1) / ext[d];
        np *= grid[d];
    }
    *npatches = np;
    return XAI_OK;
}

xai_status xai_perturb_patches(int ndim, const int64_t *shape, const xai_perturb_config *cfg,
                               int64_t *patch_of, int64_t *npatches)
{
    int64_t numel = 0, ext[XAI_MAX_DIMS] = {0}, grid[XAI_MAX_DIMS] = {0}, np = 0;
    xai_status st = check_shape(ndim, shape, &numel);
    if (st)
        return st;
    if ((st = patch_extents(ndim, shape, cfg, ext, grid, &np)))
        return st;
    if (patch_of) {
        int64_t idx[XAI_MAX_DIMS] = {0};
        for (int64_t e = 0; e < numel; e++) {
            int64_t p = 0;
            for (int d = 0; d < ndim; d++)
                p = p * grid[d] + idx[d] / ext[d];
            patch_of[e] = p;
            for (int d = ndim - 1; d >= 0; d--) {
                if (++idx[d] < shape[d])
                    break;
                idx[d] = 0;
            }
        }
    }
    if (npatches)
        *npatches = np;
    return XAI_OK;
}

/* A sample's patch layout: CSR lists of member elements. */
typedef struct {
    int64_t numel, npatches;
    int64_t *patch_of; /* [numel] */
    int64_t *start;    /* [npatches + 1] */
    int64_t *member;   /* [numel] */
} layout;

static void layout_free(layout *l)
{
    free(l->patch_of);
    free(l->start);
    free(l->member);
    memset(l, 0, sizeof *l);
}

static xai_status layout_make(int ndim, const int64_t *shape, const xai_perturb_config *cfg, layout *l)
{
    memset(l, 0, sizeof *l);
    xai_status st = check_shape(ndim, shape, &l->numel);
    if (st)
        return st;
    if ((st = xai_perturb_patches(ndim, shape, cfg, NULL, &l->npatches)))
        return st;
    l->patch_of = malloc(sizeof(int64_t) * (size_t)l->numel);
    l->start = calloc((size_t)l->npatches + 1, sizeof(int64_t));
    l->member = malloc(sizeof(int64_t) * (size_t)l->numel);
    if (!l->patch_of || !l->start || !l->member) {
        layout_free(l);
        FAIL(XAI_ENOMEM, "perturbation: out of memory for %lld elements", (long long)l->numel);
    }
    xai_perturb_patches(ndim, shape, cfg, l->patch_of, NULL);
    for (int64_t e = 0; e < l->numel; e++)
        l->start[l->patch_of[e] + 1]++;
    for (int64_t p = 0; p < l->npatches; p++)
        l->start[p + 1] += l->start[p];
    int64_t *fill = malloc(sizeof(int64_t) * (size_t)l->npatches);
    if (!fill) {
        layout_free(l);
        FAIL(XAI_ENOMEM, "perturbation: out of memory for %lld patches", (long long)l->npatches);
    }
    memcpy(fill, l->start, sizeof(int64_t) * (size_t)l->npatches);
    for (int64_t e = 0; e < l->numel; e++)
        l->member[fill[l->patch_of[e]]++] = e;
    free(fill);
    return XAI_OK;
}

typedef struct {
    double key;
    int64_t idx;
} keyed;

static int cmp_desc(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static int cmp_asc(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Order the patches of one sample; @p tmp holds npatches keyed entries. */
static xai_status order_sample(const xai_perturb_config *cfg, const layout *l, const float *rel, int64_t sample,
                               keyed *tmp, int64_t *order)
{
    int64_t np = l->npatches;
    if (cfg->order == XAI_ORDER_RANDOM) {
        uint64_t key = stream_key(cfg->seed, STREAM_ORDER, sample), ctr = 0;
        for (int64_t p = 0; p < np; p++)
            order[p] = p;
        for (int64_t p = np - 1; p > 0; p--) {
            int64_t j = (int64_t)below(key, &ctr, (uint64_t)p + 1);
            int64_t t = order[p];
            order[p] = order[j];
            order[j] = t;
        }
        return XAI_OK;
    }
    if ((unsigned)cfg->order >= XAI_ORDER_COUNT)
        FAIL(XAI_EINVAL, "perturbation: unknown order %d", (int)cfg->order);
    if (!rel)
        FAIL(XAI_EINVAL, "perturbation: %s order needs a relevance map", order_names[cfg->order]);
    for (int64_t p = 0; p < np; p++) {
        double s = 0;
        for (int64_t i = l->start[p]; i < l->start[p + 1]; i++)
            s += rel[l->member[i]];
        if (!isfinite(s))
            FAIL(XAI_ENUMERIC, "perturbation: relevance of sample %lld is not finite (patch %lld)",
                 (long long)sample, (long long)p);
        tmp[p].key = s;
        tmp[p].idx = p;
    }
    qsort(tmp, (size_t)np, sizeof *tmp, cfg->order == XAI_ORDER_MORF ? cmp_desc : cmp_asc);
    for (int64_t p = 0; p < np; p++)
        order[p] = tmp[p].idx;
    return XAI_OK;
}

xai_status xai_perturb_order_patches(const xai_perturb_config *cfg, int ndim, const int64_t *shape,
                                     const float *rel, int64_t sample, int64_t *order)
{
    if (!order)
        FAIL(XAI_EINVAL, "perturbation: NULL order");
    layout l;
    xai_status st = layout_make(ndim, shape, cfg, &l);
    if (st)
        return st;
    keyed *tmp = malloc(sizeof(keyed) * (size_t)l.npatches);
    if (!tmp) {
        layout_free(&l);
        FAIL(XAI_ENOMEM, "perturbation: out of memory");
    }
    st = order_sample(cfg, &l, rel, sample, tmp, order);
    free(tmp);
    layout_free(&l);
    return st;
}

/* Per-sample state of the replacement. */
typedef struct {
    float lo, hi;      /* range of the unperturbed sample (uniform noise) */
    uint64_t noise;    /* noise stream key */
    float *pmean;      /* [npatches] patch means (mean mode) */
    unsigned char *removed; /* [numel] removed so far (ROAD: imputed together at every step) */
} sample_state;

static void sample_prepare(const xai_perturb_config *cfg, const layout *l, const float *x, int64_t sample,
                           sample_state *s)
{
    s->noise = stream_key(cfg->seed, STREAM_NOISE, sample);
    if (cfg->replace == XAI_REPLACE_ROAD)
        memset(s->removed, 0, (size_t)l->numel);
    if (cfg->replace == XAI_REPLACE_UNIFORM) {
        float lo = x[0], hi = x[0];
        for (int64_t e = 1; e < l->numel; e++) {
            if (x[e] < lo)
                lo = x[e];
            if (x[e] > hi)
                hi = x[e];
        }
        s->lo = lo;
        s->hi = hi;
    }
    if (cfg->replace == XAI_REPLACE_MEAN) {
        for (int64_t p = 0; p < l->npatches; p++) {
            double acc = 0;
            for (int64_t i = l->start[p]; i < l->start[p + 1]; i++)
                acc += x[l->member[i]];
            s->pmean[p] = (float)(acc / (double)(l->start[p + 1] - l->start[p]));
        }
    }
}

static void replace_patch(const xai_perturb_config *cfg, const layout *l, sample_state *s, int64_t p,
                          float *cur)
{
    for (int64_t i = l->start[p]; i < l->start[p + 1]; i++) {
        int64_t e = l->member[i];
        switch (cfg->replace) {
        case XAI_REPLACE_UNIFORM:
            cur[e] = (float)(s->lo + (double)(s->hi - s->lo) * unit(s->noise, (uint64_t)e));
            if (cur[e] > s->hi) /* rounding to float */
                cur[e] = s->hi;
            break;
        case XAI_REPLACE_MEAN:
            cur[e] = s->pmean[p];
            break;
        case XAI_REPLACE_ROAD:
            s->removed[e] = 1;
            break;
        default:
            cur[e] = cfg->baseline;
            break;
        }
    }
}

static xai_status check_config(const xai_perturb_config *cfg)
{
    if (!cfg)
        FAIL(XAI_EINVAL, "perturbation: NULL config");
    if ((unsigned)cfg->order >= XAI_ORDER_COUNT)
        FAIL(XAI_EINVAL, "perturbation: unknown order %d", (int)cfg->order);
    if ((unsigned)cfg->replace >= XAI_REPLACE_COUNT)
        FAIL(XAI_EINVAL, "perturbation: unknown replacement %d", (int)cfg->replace);
    if (cfg->per_step < 1)
        FAIL(XAI_EINVAL, "perturbation: per_step must be >= 1, got %lld", (long long)cfg->per_step);
    if (cfg->steps < 0)
        FAIL(XAI_EINVAL, "perturbation: steps must be >= 0, got %d", cfg->steps);
    if (cfg->replace == XAI_REPLACE_BASELINE && !isfinite(cfg->baseline))
        FAIL(XAI_EINVAL, "perturbation: the baseline value is not finite");
    if (cfg->replace == XAI_REPLACE_ROAD && !(cfg->road_noise >= 0 && isfinite(cfg->road_noise)))
        FAIL(XAI_EINVAL, "perturbation: the ROAD noise level must be finite and >= 0");
    return XAI_OK;
}

/* Number of steps until every patch is replaced. */
static int64_t max_steps(const xai_perturb_config *cfg, int64_t np)
{
    return (np + cfg->per_step - 1) / cfg->per_step;
}

/* Apply step k (1-based) of @p order to @p cur. */
static void apply_step(const xai_perturb_config *cfg, const layout *l, sample_state *s,
                       const int64_t *order, int64_t k, float *cur)
{
    int64_t a = (k - 1) * cfg->per_step, b = a + cfg->per_step;
    if (b > l->npatches)
        b = l->npatches;
    for (int64_t i = a; i < b; i++)
        replace_patch(cfg, l, s, order[i], cur);
}

xai_status xai_perturb_input(const xai_perturb_config *cfg, int ndim, const int64_t *shape, const float *x,
                             const float *rel, int64_t sample, int k, float *out)
{
    xai_status st = check_config(cfg);
    if (st)
        return st;
    if (!x || !out)
        FAIL(XAI_EINVAL, "perturbation: NULL input or output");
    layout l;
    if ((st = layout_make(ndim, shape, cfg, &l)))
        return st;
    if (k < 0 || k > max_steps(cfg, l.npatches)) {
        int64_t ms = max_steps(cfg, l.npatches);
        layout_free(&l);
        FAIL(XAI_EINVAL, "perturbation: step %d out of range 0..%lld", k, (long long)ms);
    }
    int64_t *order = malloc(sizeof(int64_t) * (size_t)l.npatches);
    keyed *tmp = malloc(sizeof(keyed) * (size_t)l.npatches);
    sample_state s = {0};
    s.pmean = malloc(sizeof(float) * (size_t)l.npatches);
    s.removed = malloc((size_t)l.numel);
    if (!order || !tmp || !s.pmean || !s.removed) {
        st = xai_error_set(XAI_ENOMEM, "perturbation: out of memory");
        goto done;
    }
    if ((st = order_sample(cfg, &l, rel, sample, tmp, order)))
        goto done;
    sample_prepare(cfg, &l, x, sample, &s);
    memmove(out, x, sizeof(float) * (size_t)l.numel);
    for (int64_t j = 1; j <= k; j++)
        apply_step(cfg, &l, &s, order, j, out);
    if (cfg->replace == XAI_REPLACE_ROAD)
        st = xai_road_impute(ndim, shape, cfg->road_axes, x, s.removed, cfg->road_noise, cfg->seed, sample, out);
done:
    free(order);
    free(tmp);
    free(s.pmean);
    free(s.removed);
    layout_free(&l);
    return st;
}

xai_status xai_perturb_replace_set(const xai_perturb_config *cfg, int ndim, const int64_t *shape, const float *x,
                                  const unsigned char *sel, int64_t sample, float *out)
{
    xai_status st = check_config(cfg);
    if (st)
        return st;
    layout l;
    if ((st = layout_make(ndim, shape, cfg, &l)))
        return st;
    sample_state s = {0};
    s.pmean = malloc(sizeof(float) * (size_t)l.npatches);
    s.removed = malloc((size_t)l.numel);
    if (!s.pmean || !s.removed) {
        st = xai_error_set(XAI_ENOMEM, "perturbation: out of memory");
        goto done;
    }
    sample_prepare(cfg, &l, x, sample, &s);
    memmove(out, x, sizeof(float) * (size_t)l.numel);
    for (int64_t p = 0; p < l.npatches; p++)
        if (sel[p])
            replace_patch(cfg, &l, &s, p, out);
    if (cfg->replace == XAI_REPLACE_ROAD)
        st = xai_road_impute(ndim, shape, cfg->road_axes, x, s.removed, cfg->road_noise, cfg->seed, sample, out);
done:
    free(s.pmean);
    free(s.removed);
    layout_free(&l);
    return st;
}

/* One perturbation run: the model, its shapes, the patch layout and the work buffers. Model
 * inputs are queued as (sample, step) slots and run B at a time. */
typedef struct {
    const xai_model *m;
    const xai_perturb_config *cfg;
    int64_t n, nin, nout, np, B;
    int ndim, L;
    const int64_t *shape;
    layout l;
    xai_workspace *ws;
    float *xb, *lg, *cur;
    int64_t *slot_s, *order;
    int *slot_k;
    keyed *tmp;
    sample_state ss;
    int64_t used; /* slots queued */
} perturb_run;

/* the arguments that need no model shapes */
static xai_status perturb_check_args(const xai_model *m, const xai_perturb_config *cfg, int64_t n, const float *x,
                                     const float *rel, xai_perturb_result *res)
{
    if (res)
        memset(res, 0, sizeof *res);
    if (!m || !x || !res)
        FAIL(XAI_EINVAL, "perturbation: NULL model, input or result");
    xai_status st = check_config(cfg);
    if (st)
        return st;
    if (n < 1)
        FAIL(XAI_EINVAL, "perturbation: need at least one sample, got %lld", (long long)n);
    if (cfg->batch < 1 || cfg->batch > 4096)
        FAIL(XAI_EINVAL, "perturbation: batch must lie in 1..4096, got %lld", (long long)cfg->batch);
    if (cfg->order != XAI_ORDER_RANDOM && !rel)
        FAIL(XAI_EINVAL, "perturbation: %s order needs a relevance map", order_names[cfg->order]);
    return XAI_OK;
}

/* the patch layout of the model input, the number of steps L and the targets; on failure the
 * layout is freed */
static xai_status perturb_plan(perturb_run *r)
{
    const xai_perturb_config *cfg = r->cfg;
    r->shape = xai_model_input_shape(r->m, &r->ndim);
    r->nout = xai_model_output_numel(r->m);
    xai_status st = layout_make(r->ndim, r->shape, cfg, &r->l);
    if (st)
        return st;
    int64_t nin = r->l.numel, np = r->l.npatches, ms = max_steps(cfg, np);
    r->nin = nin;
    r->np = np;
    if (nin != xai_model_input_numel(r->m))
        st = xai_error_set(XAI_ESHAPE, "perturbation: model input shape and size disagree");
    else if ((int64_t)cfg->steps > ms)
        st = xai_error_set(XAI_EINVAL, "perturbation: %d steps of %lld patch%s exceed the %lld patches of a sample "
                           "(at most %lld steps)", cfg->steps, (long long)cfg->per_step,
                           cfg->per_step == 1 ? "" : "es", (long long)np, (long long)ms);
    else if (ms > 1000000)
        st = xai_error_set(XAI_EINVAL, "perturbation: %lld steps are too many; use larger patches, per_step or steps",
                           (long long)ms);
    r->L = cfg->steps > 0 ? cfg->steps : (int)ms;
    if (!st && cfg->target)
        for (int64_t s = 0; s < r->n && !st; s++)
            if (cfg->target[s] < 0 || cfg->target[s] >= r->nout)
                st = xai_error_set(XAI_EINVAL, "perturbation: class %d of sample %lld is out of range 0..%lld",
                                   cfg->target[s], (long long)s, (long long)(r->nout - 1));
    if (!st && (uint64_t)r->n > SIZE_MAX / sizeof(double) / ((size_t)r->L + 1))
        st = xai_error_set(XAI_ENOMEM, "perturbation: %lld samples x %d steps is too large", (long long)r->n, r->L);
    if (st)
        layout_free(&r->l);
    return st;
}

static xai_status perturb_alloc(perturb_run *r, xai_perturb_result *res)
{
    int64_t B = r->B, nin = r->nin, np = r->np, n = r->n;
    int L = r->L;
    size_t nf = (size_t)n * ((size_t)L + 1);
    r->xb = malloc(sizeof(float) * (size_t)(B * nin));
    r->lg = malloc(sizeof(float) * (size_t)(B * r->nout));
    r->slot_s = malloc(sizeof(int64_t) * (size_t)B);
    r->slot_k = malloc(sizeof(int) * (size_t)B);
    r->cur = malloc(sizeof(float) * (size_t)nin);
    r->order = malloc(sizeof(int64_t) * (size_t)np);
    r->tmp = malloc(sizeof(keyed) * (size_t)np);
    r->ss.pmean = malloc(sizeof(float) * (size_t)np);
    r->ss.removed = malloc((size_t)nin);
    res->target = malloc(sizeof(int) * (size_t)n);
    res->f = malloc(sizeof(double) * nf);
    res->aopc_sample = malloc(sizeof(double) * (size_t)n);
    res->curve = calloc((size_t)L + 1, sizeof(double));
    res->fraction = calloc((size_t)L + 1, sizeof(double));
    if (!r->xb || !r->lg || !r->slot_s || !r->slot_k || !r->cur || !r->order || !r->tmp || !r->ss.pmean ||
        !r->ss.removed || !res->target || !res->f || !res->aopc_sample || !res->curve || !res->fraction)
        return xai_error_set(XAI_ENOMEM, "perturbation: out of memory (%lld samples, %d steps, %lld inputs)",
                             (long long)n, L, (long long)nin);
    return xai_workspace_new(r->m, B, &r->ws);
}

static void perturb_free(perturb_run *r)
{
    xai_workspace_free(r->ws);
    free(r->xb);
    free(r->lg);
    free(r->slot_s);
    free(r->slot_k);
    free(r->cur);
    free(r->order);
    free(r->tmp);
    free(r->ss.pmean);
    free(r->ss.removed);
    layout_free(&r->l);
}

/* runs the queued slots through the model and records the target logit of each. Slots run
 * in (sample, step) order, so k = 0 of a sample is seen before its later steps. */
static xai_status perturb_flush(perturb_run *r, xai_perturb_result *res)
{
    int64_t used = r->used, nout = r->nout;
    r->used = 0;
    xai_status st = xai_model_forward(r->m, r->ws, used, r->xb, r->lg);
    if (st)
        return st;
    for (int64_t i = 0; i < used; i++) {
        int64_t si = r->slot_s[i];
        const float *li = r->lg + i * nout;
        if (r->slot_k[i] == 0) {
            int t = 0;
            if (r->cfg->target) {
                t = r->cfg->target[si];
            } else {
                for (int64_t c = 1; c < nout; c++)
                    if (li[c] > li[t])
                        t = (int)c;
            }
            res->target[si] = t;
        }
        double f = li[res->target[si]];
        if (!isfinite(f))
            return xai_error_set(XAI_ENUMERIC, "perturbation: the logit of sample %lld at step %d "
                                 "is not finite", (long long)si, r->slot_k[i]);
        res->f[(size_t)si * ((size_t)r->L + 1) + (size_t)r->slot_k[i]] = f;
    }
    return XAI_OK;
}

/* queues sample s at every step 0..L (flushing full batches, and the last one at the end) */
static xai_status perturb_sample(perturb_run *r, const float *x, const float *rel, int64_t s,
                                 xai_perturb_result *res)
{
    const xai_perturb_config *cfg = r->cfg;
    int64_t nin = r->nin;
    const float *xs = x + s * nin;
    xai_status st = order_sample(cfg, &r->l, rel ? rel + s * nin : NULL, s, r->tmp, r->order);
    if (st)
        return st;
    sample_prepare(cfg, &r->l, xs, s, &r->ss);
    memcpy(r->cur, xs, sizeof(float) * (size_t)nin);
    for (int k = 0; k <= r->L; k++) {
        if (k > 0)
            apply_step(cfg, &r->l, &r->ss, r->order, k, r->cur);
        if (k > 0 && cfg->replace == XAI_REPLACE_ROAD &&
            (st = xai_road_impute(r->ndim, r->shape, cfg->road_axes, xs, r->ss.removed, cfg->road_noise, cfg->seed,
                                  s, r->cur)))
            return st;
        memcpy(r->xb + r->used * nin, r->cur, sizeof(float) * (size_t)nin);
        r->slot_s[r->used] = s;
        r->slot_k[r->used] = k;
        r->used++;
        int last = s == r->n - 1 && k == r->L;
        if (r->used < r->B && !last)
            continue;
        if ((st = perturb_flush(r, res)))
            return st;
    }
    return XAI_OK;
}

/* AOPC per sample (Samek et al. 2017: the mean drop of the target logit over steps 0..L),
 * the mean curve, the removed fractions and the mean AOPC with its 95% interval */
static void perturb_summarise(const perturb_run *r, xai_perturb_result *res)
{
    int64_t n = r->n;
    int L = r->L;
    for (int64_t s = 0; s < n; s++) {
        const double *fs = res->f + (size_t)s * ((size_t)L + 1);
        double acc = 0;
        for (int k = 0; k <= L; k++) {
            acc += fs[0] - fs[k];
            res->curve[k] += fs[0] - fs[k];
        }
        res->aopc_sample[s] = acc / (double)(L + 1);
    }
    for (int k = 0; k <= L; k++) {
        res->curve[k] /= (double)n;
        int64_t done = (int64_t)k * r->cfg->per_step;
        if (done > r->np)
            done = r->np;
        res->fraction[k] = (double)done / (double)r->np;
    }
    xai_mean_ci95(res->aopc_sample, n, &res->aopc, &res->sd, &res->ci_low, &res->ci_high);
}

xai_status xai_perturb_evaluate(const xai_model *m, const xai_perturb_config *cfg, int64_t n, const float *x,
                                const float *rel, xai_perturb_result *res)
{
    xai_status st = perturb_check_args(m, cfg, n, x, rel, res);
    if (st)
        return st;
    perturb_run r = {.m = m, .cfg = cfg, .n = n, .B = cfg->batch};
    if ((st = perturb_plan(&r)))
        return st;
    if ((st = perturb_alloc(&r, res)) == XAI_OK) {
        res->n = n;
        res->steps = r.L;
        res->npatches = r.np;
        for (int64_t s = 0; s < n && !st; s++)
            st = perturb_sample(&r, x, rel, s, res);
    }
    if (st)
        xai_perturb_result_free(res);
    else
        perturb_summarise(&r, res);
    perturb_free(&r);
    return st;
}
