/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eval-metrics.c - metrics on plain arrays: Pearson and Spearman correlation, localisation
 * against a truth mask (relevance mass and rank accuracy, Arras et al., Information Fusion
 * 81, 2022; pointing game, Zhang et al., ECCV 2016; enrichment = mass share / volume share),
 * complexity (Gini sparseness, Chalasani et al., ICML 2020; entropy, Bhatt et al., IJCAI 2020),
 * and the metric names, families and directions.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xai/eval.h"
#include "eval-int.h"

#define FAIL(st, ...) return xai_error_set((st), __VA_ARGS__)

void xai_eval_moments(const float *x, int64_t n, double *mean, double *sd)
{
    double mu = 0, ss = 0;
    for (int64_t i = 0; i < n; i++)
        mu += x[i];
    mu /= (double)n;
    for (int64_t i = 0; i < n; i++)
        ss += (x[i] - mu) * (x[i] - mu);
    *mean = mu;
    *sd = sqrt(ss / (double)n);
}

double xai_pearson(const double *a, const double *b, int64_t n)
{
    if (!a || !b || n < 2)
        return NAN;
    double ma = 0, mb = 0;
    for (int64_t i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= (double)n;
    mb /= (double)n;
    double sab = 0, saa = 0, sbb = 0;
    for (int64_t i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    if (!(saa > 0) || !(sbb > 0))
        return NAN;
    return sab / sqrt(saa * sbb);
}

typedef struct {
    float v;
    int64_t i;
} vi;

static int cmp_vi(const void *p, const void *q)
{
    const vi *a = p, *b = q;
    if (a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* Average ranks (1-based) of v into r; tmp holds n entries. */
static void ranks(const float *v, int64_t n, vi *tmp, double *r)
{
    for (int64_t i = 0; i < n; i++) {
        tmp[i].v = v[i];
        tmp[i].i = i;
    }
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_vi);
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j + 1 < n && tmp[j + 1].v == tmp[i].v)
            j++;
        double avg = 0.5 * (double)(i + j) + 1.0;
        for (int64_t k = i; k <= j; k++)
            r[tmp[k].i] = avg;
        i = j + 1;
    }
}

xai_status xai_spearman(const float *a, const float *b, int64_t n, double *rho)
{
    if (!a || !b || !rho || n < 2)
        FAIL(XAI_EINVAL, "spearman: need two vectors of at least 2 values");
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(a[i]) || !isfinite(b[i]))
            FAIL(XAI_ENUMERIC, "spearman: value %lld is not finite", (long long)i);
    vi *tmp = malloc(sizeof(vi) * (size_t)n);
    double *ra = malloc(sizeof(double) * (size_t)n), *rb = malloc(sizeof(double) * (size_t)n);
    if (!tmp || !ra || !rb) {
        free(tmp);
        free(ra);
        free(rb);
        FAIL(XAI_ENOMEM, "spearman: out of memory for %lld values", (long long)n);
    }
    ranks(a, n, tmp, ra);
    ranks(b, n, tmp, rb);
    *rho = xai_pearson(ra, rb, n);
    free(tmp);
    free(ra);
    free(rb);
    return XAI_OK;
}

static xai_status check_map(const float *rel, int64_t numel, const char *what)
{
    if (!rel || numel < 1)
        FAIL(XAI_EINVAL, "%s: need a relevance map of at least one value", what);
    for (int64_t i = 0; i < numel; i++)
        if (!isfinite(rel[i]))
            FAIL(XAI_ENUMERIC, "%s: relevance value %lld is not finite", what, (long long)i);
    return XAI_OK;
}

/* Scored relevance of localisation: max(R, 0) or |R|. */
static double loc_score(float r, int use_abs)
{
    return use_abs ? fabs((double)r) : (r > 0 ? (double)r : 0.0);
}

xai_status xai_eval_localisation(const float *rel, const float *mask, int64_t numel, int use_abs,
                                 xai_localisation *out)
{
    xai_status st = check_map(rel, numel, "localisation");
    if (st)
        return st;
    if (!mask || !out)
        FAIL(XAI_EINVAL, "localisation: NULL mask or result");
    int64_t k = 0, best = 0;
    double in = 0, tot = 0;
    for (int64_t i = 0; i < numel; i++) {
        if (!isfinite(mask[i]))
            FAIL(XAI_ENUMERIC, "localisation: mask value %lld is not finite", (long long)i);
        double r = loc_score(rel[i], use_abs);
        k += mask[i] != 0;
        tot += r;
        in += mask[i] != 0 ? r : 0;
        double pick = use_abs ? fabs((double)rel[i]) : rel[i];
        double cur = use_abs ? fabs((double)rel[best]) : rel[best];
        if (pick > cur)
            best = i;
    }
    if (k == 0 || k == numel)
        FAIL(XAI_EINVAL, "localisation: the truth mask %s", k == 0 ? "is empty" : "covers every element");
    vi *tmp = malloc(sizeof(vi) * (size_t)numel);
    if (!tmp)
        FAIL(XAI_ENOMEM, "localisation: out of memory for %lld values", (long long)numel);
    /* descending score, ties by lower index: sort ascending on the negated score */
    for (int64_t i = 0; i < numel; i++) {
        tmp[i].v = (float)-loc_score(rel[i], use_abs);
        tmp[i].i = i;
    }
    qsort(tmp, (size_t)numel, sizeof *tmp, cmp_vi);
    int64_t hit = 0;
    for (int64_t i = 0; i < k; i++)
        hit += mask[tmp[i].i] != 0;
    free(tmp);
    out->mass_accuracy = tot > 0 ? in / tot : NAN;
    out->rank_accuracy = tot > 0 ? (double)hit / (double)k : NAN; /* no relevance to rank */
    out->pointing_game = mask[best] != 0 ? 1.0 : 0.0;
    out->enrichment = out->mass_accuracy / ((double)k / (double)numel);
    return XAI_OK;
}

static int cmp_double(const void *p, const void *q)
{
    double a = *(const double *)p, b = *(const double *)q;
    return (a > b) - (a < b);
}

xai_status xai_eval_complexity(const float *rel, int64_t numel, double *sparseness, double *complexity)
{
    xai_status st = check_map(rel, numel, "complexity");
    if (st)
        return st;
    double *a = malloc(sizeof(double) * (size_t)numel);
    if (!a)
        FAIL(XAI_ENOMEM, "complexity: out of memory for %lld values", (long long)numel);
    double sum = 0;
    for (int64_t i = 0; i < numel; i++) {
        a[i] = fabs((double)rel[i]);
        sum += a[i];
    }
    double gini = NAN, ent = NAN;
    if (sum > 0) {
        double ent_acc = 0;
        for (int64_t i = 0; i < numel; i++)
            if (a[i] > 0)
                ent_acc -= a[i] / sum * log(a[i] / sum);
        ent = ent_acc;
        qsort(a, (size_t)numel, sizeof *a, cmp_double);
        double g = 0;
        for (int64_t i = 0; i < numel; i++)
            g += (double)(2 * (i + 1) - numel - 1) * a[i];
        gini = g / ((double)numel * sum);
    }
    free(a);
    if (sparseness)
        *sparseness = gini;
    if (complexity)
        *complexity = ent;
    return XAI_OK;
}

/* ---- names ------------------------------------------------------------------------- */

static const struct {
    const char *name, *family;
    int dir, mask;
} metric_info[XAI_METRIC_COUNT] = {
    {"aopc-morf", "faithfulness", +1, 0},     {"aopc-lerf", "faithfulness", -1, 0},
    {"road-morf", "faithfulness", +1, 0},     {"road-lerf", "faithfulness", -1, 0},
    {"faithfulness-corr", "faithfulness", +1, 0}, {"infidelity", "faithfulness", -1, 0},
    {"mass-accuracy", "localisation", +1, 1}, {"rank-accuracy", "localisation", +1, 1},
    {"pointing-game", "localisation", +1, 1}, {"enrichment", "localisation", +1, 1},
    {"max-sensitivity", "robustness", -1, 0}, {"avg-sensitivity", "robustness", -1, 0},
    {"mprt", "randomisation", -1, 0},
    {"sparseness", "complexity", +1, 0},      {"complexity", "complexity", -1, 0},
};

const char *xai_metric_name(xai_metric k)
{
    return (unsigned)k < XAI_METRIC_COUNT ? metric_info[k].name : NULL;
}

const char *xai_metric_family(xai_metric k)
{
    return (unsigned)k < XAI_METRIC_COUNT ? metric_info[k].family : NULL;
}

int xai_metric_direction(xai_metric k)
{
    return (unsigned)k < XAI_METRIC_COUNT ? metric_info[k].dir : 0;
}

int xai_metric_needs_mask(xai_metric k)
{
    return (unsigned)k < XAI_METRIC_COUNT ? metric_info[k].mask : 0;
}

/* Bits of one list token; 0 when unknown. */
static uint32_t token_bits(const char *t, size_t len)
{
    uint32_t bits = 0;
    if (len == 3 && strncmp(t, "all", 3) == 0)
        return (1u << XAI_METRIC_COUNT) - 1u;
    for (int k = 0; k < XAI_METRIC_COUNT; k++)
        if ((strlen(metric_info[k].name) == len && strncmp(t, metric_info[k].name, len) == 0) ||
            (strlen(metric_info[k].family) == len && strncmp(t, metric_info[k].family, len) == 0))
            bits |= 1u << k;
    return bits;
}

xai_status xai_metric_parse_list(const char *s, uint32_t *set)
{
    if (!s || !set || !*s)
        FAIL(XAI_EINVAL, "empty metric list");
    uint32_t acc = 0;
    for (const char *p = s;;) {
        const char *q = strchr(p, ',');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        uint32_t b = token_bits(p, len);
        if (!b)
            FAIL(XAI_EINVAL, "unknown metric '%.*s' (all, a family: faithfulness, localisation, robustness, "
                 "randomisation, complexity, or a metric: aopc-morf, aopc-lerf, road-morf, road-lerf, "
                 "faithfulness-corr, infidelity, mass-accuracy, rank-accuracy, pointing-game, enrichment, "
                 "max-sensitivity, avg-sensitivity, mprt, sparseness, complexity)", (int)(len > 64 ? 64 : len), p);
        acc |= b;
        if (!q)
            break;
        p = q + 1;
    }
    *set = acc;
    return XAI_OK;
}

void xai_eval_config_init(xai_eval_config *c)
{
    if (!c)
        return;
    memset(c, 0, sizeof *c);
    xai_perturb_config_init(&c->perturb);
    c->fc_runs = 64;
    c->fc_fraction = 0.1;
    c->infid_runs = 64;
    c->infid_sigma = 0.1;
    c->sens_runs = 10;
    c->sens_radius = 0.02;
    c->loc_abs = 0;
    c->mprt_abs = 1;
    c->seed = 0;
}
