/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * validate.c - grouped splits, held-out statistics (exact binomial interval, one-sided test
 * against chance) and verdicts. The interval is Clopper & Pearson (1934), Biometrika 26:404;
 * the greedy group-to-fold assignment follows the usual GroupKFold idea (largest groups first,
 * each to the fold where it hurts the balance least).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "graph-int.h"
#include "splitmix.h"
#include "xai/validate.h"

const char *xai_split_scheme_name(xai_split_scheme s)
{
    switch (s) {
    case XAI_SPLIT_HOLDOUT: return "grouped-holdout";
    case XAI_SPLIT_KFOLD: return "group-kfold";
    case XAI_SPLIT_LOGO: return "leave-one-group-out";
    case XAI_SPLIT_WITHIN: return "within-group";
    }
    return NULL;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Dense group index of every sample (groups ordered by id); @return the number of groups or -1. */
static int dense_groups(const int *groups, int64_t n, int *gi)
{
    int *u = malloc(sizeof(int) * (size_t)n);
    if (!u)
        return -1;
    memcpy(u, groups, sizeof(int) * (size_t)n);
    qsort(u, (size_t)n, sizeof(int), cmp_int);
    int ng = 0;
    for (int64_t i = 0; i < n; i++)
        if (i == 0 || u[i] != u[ng - 1])
            u[ng++] = u[i];
    for (int64_t i = 0; i < n; i++)
        gi[i] = (int)((int *)bsearch(&groups[i], u, (size_t)ng, sizeof(int), cmp_int) - u);
    free(u);
    return ng;
}

static void shuffle_ints(int *v, int n, uint64_t *rng)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(xai_splitmix64(rng) % (uint64_t)(i + 1));
        int t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

typedef struct {
    int ng, nc;
    int64_t *size;  /* [ng] samples per group */
    int64_t *cls;   /* [ng][nc] samples per group and class (nc = 1 without labels) */
} group_table;

static int table_make(group_table *t, const int *gi, const int *labels, int64_t n, int ng)
{
    int nc = 1;
    if (labels)
        for (int64_t i = 0; i < n; i++)
            if (labels[i] + 1 > nc)
                nc = labels[i] + 1;
    t->ng = ng;
    t->nc = nc;
    t->size = calloc((size_t)ng, sizeof(int64_t));
    t->cls = calloc((size_t)ng * (size_t)nc, sizeof(int64_t));
    if (!t->size || !t->cls)
        return -1;
    for (int64_t i = 0; i < n; i++) {
        t->size[gi[i]]++;
        t->cls[(size_t)gi[i] * nc + (labels ? labels[i] : 0)]++;
    }
    return 0;
}

/* Groups to folds: largest first (seeded order among equal sizes), each to the fold whose
 * per-class counts end up closest to their per-fold target (sum of squared excesses). */
static int assign_kfold(const group_table *t, int k, uint64_t *rng, int *gfold)
{
    int *order = malloc(sizeof(int) * (size_t)t->ng);
    int64_t *cnt = calloc((size_t)k * (size_t)t->nc, sizeof(int64_t));
    double *target = calloc((size_t)t->nc, sizeof(double));
    if (!order || !cnt || !target) {
        free(order), free(cnt), free(target);
        return -1;
    }
    for (int g = 0; g < t->ng; g++) {
        order[g] = g;
        for (int c = 0; c < t->nc; c++)
            target[c] += (double)t->cls[(size_t)g * t->nc + c] / k;
    }
    shuffle_ints(order, t->ng, rng);
    for (int a = 1; a < t->ng; a++) /* stable insertion sort by size, descending */
        for (int b = a; b > 0 && t->size[order[b]] > t->size[order[b - 1]]; b--) {
            int s = order[b];
            order[b] = order[b - 1];
            order[b - 1] = s;
        }
    for (int a = 0; a < t->ng; a++) {
        int g = order[a], best = 0;
        double best_cost = INFINITY, best_size = INFINITY;
        for (int f = 0; f < k; f++) {
            double cost = 0, size = 0;
            for (int c = 0; c < t->nc; c++) {
                double after = (double)(cnt[(size_t)f * t->nc + c] + t->cls[(size_t)g * t->nc + c]);
                double ex = after - target[c];
                cost += ex > 0 ? ex * ex : 0;
                size += (double)cnt[(size_t)f * t->nc + c];
            }
            /* ties (e.g. no fold full yet) go to the smallest fold, as in GroupKFold */
            if (cost < best_cost || (cost == best_cost && size < best_size)) {
                best_cost = cost;
                best_size = size;
                best = f;
            }
        }
        gfold[g] = best;
        for (int c = 0; c < t->nc; c++)
            cnt[(size_t)best * t->nc + c] += t->cls[(size_t)g * t->nc + c];
    }
    free(order), free(cnt), free(target);
    return 0;
}

/* 1 when both sides of a hold-out hold every class that occurs at all */
static int holdout_covers(const group_table *t, const int *gfold)
{
    for (int c = 0; c < t->nc; c++) {
        int64_t in = 0, out = 0;
        for (int g = 0; g < t->ng; g++) {
            if (gfold[g] == 0)
                in += t->cls[(size_t)g * t->nc + c];
            else
                out += t->cls[(size_t)g * t->nc + c];
        }
        if (in + out > 0 && (in == 0 || out == 0))
            return 0;
    }
    return 1;
}

/* Hold out nh groups; with labels, the first of up to 64 seeded draws in which both sides hold
 * every class (else the first draw). */
static int assign_holdout(const group_table *t, int nh, uint64_t *rng, int *gfold)
{
    int *order = malloc(sizeof(int) * (size_t)t->ng), *first = malloc(sizeof(int) * (size_t)t->ng);
    if (!order || !first) {
        free(order), free(first);
        return -1;
    }
    for (int attempt = 0; attempt < 64; attempt++) {
        for (int g = 0; g < t->ng; g++)
            order[g] = g;
        shuffle_ints(order, t->ng, rng);
        for (int a = 0; a < t->ng; a++)
            gfold[order[a]] = a < nh ? 0 : -1;
        if (attempt == 0)
            memcpy(first, gfold, sizeof(int) * (size_t)t->ng);
        if (t->nc == 1 || holdout_covers(t, gfold)) {
            free(order), free(first);
            return 0;
        }
    }
    memcpy(gfold, first, sizeof(int) * (size_t)t->ng);
    free(order), free(first);
    return 0;
}

static xai_status split_check(const int *groups, const int *labels, int64_t n, xai_split_scheme scheme,
                              double frac, xai_split *out)
{
    if (!out || n < 2 || (!groups && scheme != XAI_SPLIT_WITHIN))
        return xai_error_set(XAI_EINVAL, "a split needs at least 2 samples and their group ids");
    if ((scheme == XAI_SPLIT_HOLDOUT || scheme == XAI_SPLIT_WITHIN) && !(frac > 0 && frac < 1))
        return xai_error_set(XAI_EINVAL, "the held-out fraction must lie in (0, 1), not %g", frac);
    if (labels)
        for (int64_t i = 0; i < n; i++)
            if (labels[i] < 0)
                return xai_error_set(XAI_EINVAL, "label %d of sample %lld is negative", labels[i], (long long)i);
    return XAI_OK;
}

xai_status xai_split_groups(const int *groups, const int *labels, int64_t n, xai_split_scheme scheme, double frac,
                            int k, uint64_t seed, xai_split *out)
{
    xai_status st = split_check(groups, labels, n, scheme, frac, out);
    if (st)
        return st;
    memset(out, 0, sizeof *out);
    int *gi = malloc(sizeof(int) * (size_t)n);
    if (!gi)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    int ng;
    if (scheme == XAI_SPLIT_WITHIN) { /* every sample its own group */
        for (int64_t i = 0; i < n; i++)
            gi[i] = (int)i;
        ng = (int)n;
    } else {
        ng = dense_groups(groups, n, gi);
    }
    if (ng < 0) {
        free(gi);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    if (ng < 2) {
        free(gi);
        return xai_error_set(XAI_EINVAL,
                             "all %lld samples belong to one group: a model cannot be validated across groups; "
                             "the fallback is a within-group split (XAI_SPLIT_WITHIN), which the model card must "
                             "record as within-group",
                             (long long)n);
    }
    if (scheme == XAI_SPLIT_KFOLD && (k < 2 || k > ng)) {
        free(gi);
        return xai_error_set(XAI_EINVAL, "%d folds need between 2 and %d groups; there are %d groups", k, ng, ng);
    }
    group_table t = {0};
    int *gfold = malloc(sizeof(int) * (size_t)ng);
    out->fold = malloc(sizeof(int) * (size_t)n);
    uint64_t rng = seed ^ 0x6a09e667f3bcc909ull;
    int bad = !gfold || !out->fold || table_make(&t, gi, labels, n, ng);
    if (!bad) {
        if (scheme == XAI_SPLIT_LOGO) {
            for (int g = 0; g < ng; g++)
                gfold[g] = g;
            out->nfolds = ng;
        } else if (scheme == XAI_SPLIT_KFOLD) {
            bad = assign_kfold(&t, k, &rng, gfold);
            out->nfolds = k;
        } else { /* hold-out, also the within-group fallback (a fraction of samples) */
            int nh = (int)floor(frac * ng + 0.5);
            nh = nh < 1 ? 1 : nh > ng - 1 ? ng - 1 : nh;
            bad = assign_holdout(&t, nh, &rng, gfold);
            out->nfolds = 1;
        }
    }
    if (!bad)
        for (int64_t i = 0; i < n; i++)
            out->fold[i] = gfold[gi[i]];
    free(t.size), free(t.cls), free(gfold), free(gi);
    if (bad) {
        xai_split_free(out);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    out->scheme = scheme;
    out->n = n;
    out->ngroups = scheme == XAI_SPLIT_WITHIN ? 1 : ng;
    out->within_group = scheme == XAI_SPLIT_WITHIN;
    return XAI_OK;
}

void xai_split_mask(const xai_split *s, int fold, unsigned char *mask)
{
    for (int64_t i = 0; i < s->n; i++)
        mask[i] = s->fold[i] == fold;
}

void xai_split_free(xai_split *s)
{
    if (!s)
        return;
    free(s->fold);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------ statistics */

xai_status xai_heldout_stats(const int *truth, const int *pred, int64_t n, int nclasses, xai_heldout *out)
{
    if (!out || n < 1 || nclasses < 1)
        return xai_error_set(XAI_EINVAL, "held-out statistics need at least one sample and one class");
    memset(out, 0, sizeof *out);
    for (int64_t i = 0; i < n; i++)
        if (truth[i] < 0 || truth[i] >= nclasses || pred[i] < 0 || pred[i] >= nclasses)
            return xai_error_set(XAI_EINVAL, "sample %lld: class %d / prediction %d outside 0..%d", (long long)i,
                                 truth[i], pred[i], nclasses - 1);
    out->confusion = calloc((size_t)nclasses * (size_t)nclasses, sizeof(int64_t));
    if (!out->confusion)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    out->n = n;
    out->nclasses = nclasses;
    for (int64_t i = 0; i < n; i++) {
        out->confusion[(size_t)truth[i] * nclasses + pred[i]]++;
        out->correct += truth[i] == pred[i];
    }
    int64_t most = 0;
    double recall = 0;
    int present = 0;
    for (int c = 0; c < nclasses; c++) {
        int64_t row = 0;
        for (int p = 0; p < nclasses; p++)
            row += out->confusion[(size_t)c * nclasses + p];
        if (row > most)
            most = row;
        if (row > 0) {
            recall += (double)out->confusion[(size_t)c * nclasses + c] / (double)row;
            present++;
        }
    }
    unsigned k = (unsigned)out->correct, nn = (unsigned)n;
    out->accuracy = (double)k / (double)n;
    out->balanced_accuracy = recall / present;
    out->chance = (double)most / (double)n;
    out->ci_low = k == 0 ? 0.0 : gsl_cdf_beta_Pinv(0.025, k, nn - k + 1.0);
    out->ci_high = k == nn ? 1.0 : gsl_cdf_beta_Qinv(0.025, k + 1.0, nn - k);
    /* P(X >= k) = P(X > k - 1); chance is 1 only when every sample has the same class */
    out->p_value = k == 0 ? 1.0 : out->chance >= 1.0 ? 1.0 : gsl_cdf_binomial_Q(k - 1, out->chance, nn);
    return XAI_OK;
}

void xai_heldout_free(xai_heldout *h)
{
    if (!h)
        return;
    free(h->confusion);
    memset(h, 0, sizeof *h);
}

xai_status xai_verdict_make(const xai_heldout *h, double baseline_acc, xai_verdict *out)
{
    if (!h || !h->confusion || !out)
        return xai_error_set(XAI_EINVAL, "a verdict needs held-out statistics");
    memset(out, 0, sizeof *out);
    int nc = h->nclasses;
    out->never_predicted = malloc(sizeof(int) * (size_t)nc);
    if (!out->never_predicted)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    for (int c = 0; c < nc; c++) {
        int64_t row = 0, col = 0;
        for (int o = 0; o < nc; o++) {
            row += h->confusion[(size_t)c * nc + o];
            col += h->confusion[(size_t)o * nc + c];
        }
        if (row > 0 && col == 0)
            out->never_predicted[out->n_never_predicted++] = c;
    }
    out->above_chance = h->ci_low > h->chance;
    out->loses_to_baseline = !isnan(baseline_acc) && baseline_acc > h->accuracy;
    return XAI_OK;
}

void xai_verdict_free(xai_verdict *v)
{
    if (!v)
        return;
    free(v->never_predicted);
    memset(v, 0, sizeof *v);
}

void xai_mean_sd(const double *v, int k, double *mean, double *sd)
{
    double s = 0, ss = 0;
    for (int i = 0; i < k; i++)
        s += v[i];
    double m = k > 0 ? s / k : NAN;
    for (int i = 0; i < k; i++)
        ss += (v[i] - m) * (v[i] - m);
    *mean = m;
    *sd = k > 1 ? sqrt(ss / (k - 1)) : NAN;
}

/* ------------------------------------------------------------------ summary */

/* held-out statistics of the samples with fold == f (f < 0: every held-out sample) */
static xai_status stats_of(const xai_split *s, int f, const int *truth, const int *pred, int nc, int *t, int *p,
                           xai_heldout *h)
{
    int64_t k = 0;
    for (int64_t i = 0; i < s->n; i++)
        if (s->fold[i] >= 0 && (f < 0 || s->fold[i] == f)) {
            t[k] = truth[i];
            p[k++] = pred[i];
        }
    if (k == 0)
        return xai_error_set(XAI_EINVAL, "fold %d holds no sample", f);
    return xai_heldout_stats(t, p, k, nc, h);
}

static xai_status summarise(const xai_split *s, const int *truth, const int *pred, int nc, const int *base_pred,
                            int *t, int *p, double *facc, xai_validation *out)
{
    xai_status st = stats_of(s, -1, truth, pred, nc, t, p, &out->pooled);
    for (int f = 0; f < s->nfolds && !st; f++) {
        xai_heldout h;
        if (!(st = stats_of(s, f, truth, pred, nc, t, p, &h)))
            facc[f] = h.accuracy;
        xai_heldout_free(&h);
    }
    if (st)
        return st;
    xai_mean_sd(facc, s->nfolds, &out->fold_mean, &out->fold_sd);
    if (base_pred) {
        xai_heldout b;
        if ((st = stats_of(s, -1, truth, base_pred, nc, t, p, &b)))
            return st;
        out->baseline_accuracy = b.accuracy;
        xai_heldout_free(&b);
    }
    return xai_verdict_make(&out->pooled, out->baseline_accuracy, &out->verdict);
}

xai_status xai_validation_summarise(const xai_split *s, const char *group_kind, const int *truth, const int *pred,
                                    int nclasses, const char *baseline_name, const int *base_pred,
                                    xai_validation *out)
{
    if (!s || !s->fold || !truth || !pred || !out)
        return xai_error_set(XAI_EINVAL, "validation summary: needs a split, labels and predictions");
    memset(out, 0, sizeof *out);
    out->scheme = xai_split_scheme_name(s->scheme);
    out->group_kind = group_kind;
    out->n_groups = s->ngroups;
    out->n_folds = s->nfolds;
    out->within_group = s->within_group;
    out->baseline_name = base_pred ? baseline_name : NULL;
    out->baseline_accuracy = NAN;
    int *t = malloc(sizeof(int) * (size_t)s->n), *p = malloc(sizeof(int) * (size_t)s->n);
    double *facc = malloc(sizeof(double) * (size_t)s->nfolds);
    xai_status st = t && p && facc ? summarise(s, truth, pred, nclasses, base_pred, t, p, facc, out)
                                   : xai_error_set(XAI_ENOMEM, "out of memory");
    free(t), free(p), free(facc);
    if (st)
        xai_validation_free(out);
    return st;
}

void xai_validation_free(xai_validation *v)
{
    if (!v)
        return;
    xai_heldout_free(&v->pooled);
    xai_verdict_free(&v->verdict);
    memset(v, 0, sizeof *v);
}

xai_status xai_predict_classes(const xai_model *m, int64_t n, const float *x, int *pred)
{
    if (!m || n < 0 || (n > 0 && (!x || !pred)))
        return xai_error_set(XAI_EINVAL, "prediction: needs a model, inputs and an output");
    return xai_model_argmax(m, 64, n, x, pred);
}
