/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * baseline.c - the linear baseline every trained network is compared with: a ridge
 * classifier (Hoerl & Kennard 1970; one-vs-rest least squares on +-1 targets) on standardised
 * inputs, solved in dual form (Saunders, Gammerman & Vovk 1998) because recordings have far
 * more features (channels x times, voxels) than samples. Double precision throughout.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_linalg.h>

#include "baseline-int.h"

struct xai_ridge {
    int64_t d;
    int nc;
    double *mean, *scale;   /* [d] standardisation: (x - mean) * scale */
    double *w;              /* [d][nc] */
    double *b;              /* [nc] */
};

void xai_ridge_free(xai_ridge *r)
{
    if (!r)
        return;
    free(r->mean), free(r->scale), free(r->w), free(r->b);
    free(r);
}

void xai_ridge_raw_weights(const xai_ridge *r, int c, double *v)
{
    for (int64_t j = 0; j < r->d; j++)
        v[j] = r->w[j * r->nc + c] * r->scale[j];
}

/* Samples are rows idx[0..n-1] of x (idx NULL: rows 0..n-1), so that folds need no copies. */
static const float *row(const float *x, int64_t d, const int64_t *idx, int64_t i)
{
    return x + (idx ? idx[i] : i) * d;
}

static void standardise_fit(xai_ridge *r, int64_t n, const float *x, const int64_t *idx)
{
    int64_t d = r->d;
    for (int64_t j = 0; j < d; j++) {
        double s = 0, ss = 0;
        for (int64_t i = 0; i < n; i++)
            s += row(x, d, idx, i)[j];
        double m = s / n;
        for (int64_t i = 0; i < n; i++) {
            double v = row(x, d, idx, i)[j] - m;
            ss += v * v;
        }
        double sd = sqrt(ss / n);
        r->mean[j] = m;
        r->scale[j] = sd > 0 ? 1.0 / sd : 0.0; /* a constant feature carries nothing */
    }
}

enum { BLOCK = 256 }; /* features standardised at a time: memory n x BLOCK, not n x d */

/* standardised columns j0..j0+nb-1 of the n samples into blk (n x nb) */
static void std_block(const xai_ridge *r, int64_t n, const float *x, const int64_t *idx, int64_t j0, int64_t nb,
                      double *blk)
{
    for (int64_t i = 0; i < n; i++) {
        const float *p = row(x, r->d, idx, i);
        for (int64_t j = 0; j < nb; j++)
            blk[i * nb + j] = (p[j0 + j] - r->mean[j0 + j]) * r->scale[j0 + j];
    }
}

static xai_status ridge_check(int64_t n, int64_t d, const float *x, const int *y, int nclasses, double lambda)
{
    if (n < 2 || d < 1 || nclasses < 2 || !(lambda > 0) || !isfinite(lambda))
        return xai_error_set(XAI_EINVAL, "ridge: needs >= 2 samples, >= 1 feature, >= 2 classes, lambda > 0 "
                                         "(got %lld, %lld, %d, %g)",
                             (long long)n, (long long)d, nclasses, lambda);
    for (int64_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= nclasses)
            return xai_error_set(XAI_EINVAL, "ridge: label %d of sample %lld is outside 0..%d", y[i], (long long)i,
                                 nclasses - 1);
    for (int64_t k = 0; k < n * d; k++)
        if (!isfinite(x[k]))
            return xai_error_set(XAI_ENUMERIC, "ridge: sample %lld holds a non-finite value", (long long)(k / d));
    return XAI_OK;
}

/* K = Xs Xs^T (lower triangle), accumulated over feature blocks */
static void kernel(const xai_ridge *r, int64_t n, const float *x, const int64_t *idx, double *blk, gsl_matrix *k)
{
    gsl_matrix_set_zero(k);
    for (int64_t j0 = 0; j0 < r->d; j0 += BLOCK) {
        int64_t nb = r->d - j0 < BLOCK ? r->d - j0 : BLOCK;
        std_block(r, n, x, idx, j0, nb, blk);
        gsl_matrix_const_view bv = gsl_matrix_const_view_array(blk, (size_t)n, (size_t)nb);
        gsl_blas_dsyrk(CblasLower, CblasNoTrans, 1.0, &bv.matrix, 1.0, k);
    }
}

/* Dual solution: A = (K + lambda I)^-1 (Y - mean Y), w = Xs^T A, b = mean Y. */
static xai_status solve_dual(xai_ridge *r, int64_t n, const float *x, const int64_t *idx, const int *y,
                             double lambda)
{
    int nc = r->nc;
    gsl_matrix *k = gsl_matrix_alloc((size_t)n, (size_t)n);
    gsl_matrix *a = gsl_matrix_alloc((size_t)n, (size_t)nc);
    double *blk = malloc(sizeof(double) * (size_t)(n * BLOCK));
    if (!k || !a || !blk) {
        gsl_matrix_free(k), gsl_matrix_free(a), free(blk);
        return xai_error_set(XAI_ENOMEM, "ridge: out of memory for a %lld x %lld kernel", (long long)n, (long long)n);
    }
    kernel(r, n, x, idx, blk, k);
    for (int64_t i = 0; i < n; i++)
        k->data[i * n + i] += lambda;
    for (int c = 0; c < nc; c++) {
        double s = 0;
        for (int64_t i = 0; i < n; i++)
            s += y[i] == c ? 1.0 : -1.0;
        r->b[c] = s / n;
        for (int64_t i = 0; i < n; i++)
            a->data[i * nc + c] = (y[i] == c ? 1.0 : -1.0) - r->b[c];
    }
    /* K + lambda I is positive definite for lambda > 0; GSL reads the lower triangle */
    int err = gsl_linalg_cholesky_decomp1(k);
    for (int c = 0; c < nc && !err; c++) {
        gsl_vector_view col = gsl_matrix_column(a, (size_t)c);
        err = gsl_linalg_cholesky_svx(k, &col.vector);
    }
    for (int64_t j0 = 0; j0 < r->d && !err; j0 += BLOCK) {
        int64_t nb = r->d - j0 < BLOCK ? r->d - j0 : BLOCK;
        std_block(r, n, x, idx, j0, nb, blk);
        gsl_matrix_const_view bv = gsl_matrix_const_view_array(blk, (size_t)n, (size_t)nb);
        gsl_matrix_view wv = gsl_matrix_view_array(r->w + j0 * nc, (size_t)nb, (size_t)nc);
        gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &bv.matrix, a, 0.0, &wv.matrix);
    }
    gsl_matrix_free(k), gsl_matrix_free(a), free(blk);
    if (err)
        return xai_error_set(XAI_ENUMERIC, "ridge: the kernel system could not be solved (lambda %g)", lambda);
    return XAI_OK;
}

/* fit on rows idx (NULL: all n); labels y are indexed like the rows of x */
static xai_status fit_rows(int64_t n, int64_t d, const float *x, const int64_t *idx, const int *y, int nclasses,
                           double lambda, xai_ridge **out)
{
    xai_ridge *r = calloc(1, sizeof *r);
    int *ys = malloc(sizeof(int) * (size_t)n);
    if (r) {
        r->d = d;
        r->nc = nclasses;
        r->mean = malloc(sizeof(double) * (size_t)d);
        r->scale = malloc(sizeof(double) * (size_t)d);
        r->w = malloc(sizeof(double) * (size_t)(d * nclasses));
        r->b = malloc(sizeof(double) * (size_t)nclasses);
    }
    if (!r || !ys || !r->mean || !r->scale || !r->w || !r->b) {
        xai_ridge_free(r), free(ys);
        return xai_error_set(XAI_ENOMEM, "ridge: out of memory for %lld features", (long long)d);
    }
    for (int64_t i = 0; i < n; i++)
        ys[i] = y[idx ? idx[i] : i];
    standardise_fit(r, n, x, idx);
    xai_status st = solve_dual(r, n, x, idx, ys, lambda);
    free(ys);
    if (st) {
        xai_ridge_free(r);
        return st;
    }
    *out = r;
    return XAI_OK;
}

xai_status xai_ridge_fit(int64_t n, int64_t d, const float *x, const int *y, int nclasses, double lambda,
                         xai_ridge **out)
{
    xai_status st = ridge_check(n, d, x, y, nclasses, lambda);
    return st ? st : fit_rows(n, d, x, NULL, y, nclasses, lambda, out);
}

static void predict_rows(const xai_ridge *r, int64_t n, const float *x, const int64_t *idx, double *sc, int *pred,
                         double *scores)
{
    for (int64_t i = 0; i < n; i++) {
        const float *p = row(x, r->d, idx, i);
        for (int c = 0; c < r->nc; c++)
            sc[c] = r->b[c];
        for (int64_t j = 0; j < r->d; j++) {
            double v = (p[j] - r->mean[j]) * r->scale[j];
            for (int c = 0; c < r->nc; c++)
                sc[c] += v * r->w[j * r->nc + c];
        }
        int best = 0;
        for (int c = 1; c < r->nc; c++)
            if (sc[c] > sc[best])
                best = c;
        pred[i] = best;
        if (scores)
            memcpy(scores + i * r->nc, sc, sizeof(double) * (size_t)r->nc);
    }
}

xai_status xai_ridge_predict(const xai_ridge *r, int64_t n, const float *x, int *pred, double *scores)
{
    if (!r || n < 0 || (n > 0 && (!x || !pred)))
        return xai_error_set(XAI_EINVAL, "ridge: no model or no output");
    double *sc = malloc(sizeof(double) * (size_t)r->nc);
    if (!sc)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    predict_rows(r, n, x, NULL, sc, pred, scores);
    free(sc);
    return XAI_OK;
}

/* rows (rows[i], or i without rows) of the samples with fold[i] == f (take = 1: held out) or
 * fold[i] != f (take = 0: trained on, including -1) into idx; @return their count */
static int64_t fold_rows(const int *fold, int64_t n, const int64_t *rows, int f, int take, int64_t *idx)
{
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if ((fold[i] == f) == take)
            idx[k++] = rows ? rows[i] : i;
    return k;
}

typedef struct {
    int64_t *tr, *te;
    int *yt, *pred;
} cv_work;

/* Mean balanced accuracy over the folds of s (over the samples rows) for one lambda. */
static xai_status cv_score(const xai_split *s, const int64_t *rows, int64_t d, const float *x, const int *y, int nc,
                           double lambda, cv_work *w, double *score)
{
    double sum = 0, sc[64];
    double *scp = nc <= 64 ? sc : malloc(sizeof(double) * (size_t)nc);
    if (!scp)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    xai_status st = XAI_OK;
    for (int f = 0; f < s->nfolds && !st; f++) {
        int64_t ntr = fold_rows(s->fold, s->n, rows, f, 0, w->tr), nte = fold_rows(s->fold, s->n, rows, f, 1, w->te);
        xai_ridge *r = NULL;
        xai_heldout h;
        if ((st = fit_rows(ntr, d, x, w->tr, y, nc, lambda, &r)))
            break;
        predict_rows(r, nte, x, w->te, scp, w->pred, NULL);
        for (int64_t i = 0; i < nte; i++)
            w->yt[i] = y[w->te[i]];
        xai_ridge_free(r);
        if ((st = xai_heldout_stats(w->yt, w->pred, nte, nc, &h)))
            break;
        sum += h.balanced_accuracy;
        xai_heldout_free(&h);
    }
    if (scp != sc)
        free(scp);
    *score = sum / s->nfolds;
    return st;
}

/* Inner split of the m samples rows (NULL: 0..m-1): grouped 5-fold (fewer with fewer groups), or
 * a 20 % sample hold-out for a single group. */
static xai_status inner_split(const int64_t *rows, int64_t m, const int *y, const int *groups, uint64_t seed,
                              xai_split *s)
{
    int *ys = malloc(sizeof(int) * (size_t)m), *gs = groups ? malloc(sizeof(int) * (size_t)m) : NULL;
    if (!ys || (groups && !gs)) {
        free(ys), free(gs);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    for (int64_t i = 0; i < m; i++) {
        ys[i] = y[rows ? rows[i] : i];
        if (gs)
            gs[i] = groups[rows ? rows[i] : i];
    }
    int ng = 0;
    if (gs && xai_split_groups(gs, NULL, m, XAI_SPLIT_LOGO, 0, 0, seed, s) == XAI_OK)
        ng = s->ngroups; /* LOGO only counts the groups here */
    xai_split_free(s);
    xai_status st = ng >= 2 ? xai_split_groups(gs, ys, m, XAI_SPLIT_KFOLD, 0, ng < 5 ? ng : 5, seed, s)
                            : xai_split_groups(NULL, ys, m, XAI_SPLIT_WITHIN, 0.2, 0, seed, s);
    free(ys), free(gs);
    return st;
}

/* lambda on the grid by inner CV over the m samples rows (NULL: 0..m-1) */
static xai_status choose_lambda(const int64_t *rows, int64_t m, int64_t d, const float *x, const int *y, int nc,
                                const int *groups, uint64_t seed, double *lambda)
{
    static const double grid[] = {1e-3, 1e-2, 1e-1, 1, 10, 100};
    xai_split s = {0};
    xai_status st = inner_split(rows, m, y, groups, seed, &s);
    if (st)
        return st;
    cv_work w = {malloc(sizeof(int64_t) * (size_t)m), malloc(sizeof(int64_t) * (size_t)m),
                 malloc(sizeof(int) * (size_t)m), malloc(sizeof(int) * (size_t)m)};
    double best = -1;
    *lambda = grid[0] * (double)d;
    if (!w.tr || !w.te || !w.yt || !w.pred)
        st = xai_error_set(XAI_ENOMEM, "ridge: out of memory");
    for (size_t g = 0; g < sizeof grid / sizeof grid[0] && !st; g++) {
        double score = -1; /* set by cv_score on success; the initialiser quiets -Wmaybe-uninitialized */
        st = cv_score(&s, rows, d, x, y, nc, grid[g] * (double)d, &w, &score);
        if (!st && score >= best) { /* >=: ties go to the stronger regularisation */
            best = score;
            *lambda = grid[g] * (double)d;
        }
    }
    free(w.tr), free(w.te), free(w.yt), free(w.pred);
    xai_split_free(&s);
    return st;
}

xai_status xai_ridge_fit_cv(int64_t n, int64_t d, const float *x, const int *y, int nclasses, const int *groups,
                            uint64_t seed, xai_ridge **out, double *lambda)
{
    double lam;
    xai_status st = ridge_check(n, d, x, y, nclasses, 1.0);
    if (!st)
        st = choose_lambda(NULL, n, d, x, y, nclasses, groups, seed, &lam);
    if (st)
        return st;
    if (lambda)
        *lambda = lam;
    return fit_rows(n, d, x, NULL, y, nclasses, lam, out);
}

xai_status xai_ridge_out_of_fold(const xai_split *s, int64_t d, const float *x, const int *y, int nclasses,
                                 const int *groups, uint64_t seed, int *pred)
{
    if (!s || !s->fold || !pred)
        return xai_error_set(XAI_EINVAL, "ridge: out-of-fold predictions need a split and an output");
    xai_status st = ridge_check(s->n, d, x, y, nclasses, 1.0);
    if (st)
        return st;
    int64_t *tr = malloc(sizeof(int64_t) * (size_t)s->n), *te = malloc(sizeof(int64_t) * (size_t)s->n);
    double *sc = malloc(sizeof(double) * (size_t)nclasses);
    if (!tr || !te || !sc)
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    for (int64_t i = 0; i < s->n; i++)
        pred[i] = -1;
    for (int f = 0; f < s->nfolds && !st; f++) {
        int64_t ntr = fold_rows(s->fold, s->n, NULL, f, 0, tr), nte = fold_rows(s->fold, s->n, NULL, f, 1, te);
        double lam;
        xai_ridge *r = NULL;
        if (ntr < 2) {
            st = xai_error_set(XAI_EINVAL, "ridge: fold %d leaves %lld training samples", f, (long long)ntr);
            break;
        }
        if ((st = choose_lambda(tr, ntr, d, x, y, nclasses, groups, seed, &lam)) ||
            (st = fit_rows(ntr, d, x, tr, y, nclasses, lam, &r)))
            break;
        int *p = malloc(sizeof(int) * (size_t)(nte > 0 ? nte : 1));
        if (!p) {
            xai_ridge_free(r);
            st = xai_error_set(XAI_ENOMEM, "out of memory");
            break;
        }
        predict_rows(r, nte, x, te, sc, p, NULL);
        for (int64_t i = 0; i < nte; i++)
            pred[te[i]] = p[i];
        free(p);
        xai_ridge_free(r);
    }
    free(tr), free(te), free(sc);
    return st;
}
