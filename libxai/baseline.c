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

#include "xai/validate.h"

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

/* Standardised copy of x (n x d, double) with the statistics stored in r. */
static double *standardise_fit(xai_ridge *r, int64_t n, const float *x)
{
    int64_t d = r->d;
    double *xs = malloc(sizeof(double) * (size_t)(n * d));
    if (!xs)
        return NULL;
    for (int64_t j = 0; j < d; j++) {
        double s = 0, ss = 0;
        for (int64_t i = 0; i < n; i++)
            s += x[i * d + j];
        double m = s / n;
        for (int64_t i = 0; i < n; i++)
            ss += (x[i * d + j] - m) * (x[i * d + j] - m);
        double sd = sqrt(ss / n);
        r->mean[j] = m;
        r->scale[j] = sd > 0 ? 1.0 / sd : 0.0; /* a constant feature carries nothing */
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++)
            xs[i * d + j] = (x[i * d + j] - r->mean[j]) * r->scale[j];
    return xs;
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

/* Dual solution: A = (K + lambda I)^-1 (Y - mean Y), w = Xs^T A, b = mean Y. */
static xai_status solve_dual(xai_ridge *r, int64_t n, const double *xs, const int *y, double lambda)
{
    int64_t d = r->d;
    int nc = r->nc;
    gsl_matrix *k = gsl_matrix_alloc((size_t)n, (size_t)n);
    gsl_matrix *a = gsl_matrix_alloc((size_t)n, (size_t)nc);
    if (!k || !a) {
        gsl_matrix_free(k), gsl_matrix_free(a);
        return xai_error_set(XAI_ENOMEM, "ridge: out of memory for a %lld x %lld kernel", (long long)n, (long long)n);
    }
    gsl_matrix_const_view xv = gsl_matrix_const_view_array(xs, (size_t)n, (size_t)d);
    gsl_blas_dsyrk(CblasLower, CblasNoTrans, 1.0, &xv.matrix, 0.0, k);
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
    /* row-major lower triangle = GSL's layout; K + lambda I is positive definite for lambda > 0 */
    int err = gsl_linalg_cholesky_decomp1(k);
    for (int c = 0; c < nc && !err; c++) {
        gsl_vector_view col = gsl_matrix_column(a, (size_t)c);
        err = gsl_linalg_cholesky_svx(k, &col.vector);
    }
    if (!err) {
        gsl_matrix_view wv = gsl_matrix_view_array(r->w, (size_t)d, (size_t)nc);
        gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, &xv.matrix, a, 0.0, &wv.matrix);
    }
    gsl_matrix_free(k), gsl_matrix_free(a);
    if (err)
        return xai_error_set(XAI_ENUMERIC, "ridge: the kernel system could not be solved (lambda %g)", lambda);
    return XAI_OK;
}

xai_status xai_ridge_fit(int64_t n, int64_t d, const float *x, const int *y, int nclasses, double lambda,
                         xai_ridge **out)
{
    xai_status st = ridge_check(n, d, x, y, nclasses, lambda);
    if (st)
        return st;
    xai_ridge *r = calloc(1, sizeof *r);
    if (!r)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    r->d = d;
    r->nc = nclasses;
    r->mean = malloc(sizeof(double) * (size_t)d);
    r->scale = malloc(sizeof(double) * (size_t)d);
    r->w = malloc(sizeof(double) * (size_t)(d * nclasses));
    r->b = malloc(sizeof(double) * (size_t)nclasses);
    double *xs = r->mean && r->scale && r->w && r->b ? standardise_fit(r, n, x) : NULL;
    if (!xs) {
        xai_ridge_free(r);
        return xai_error_set(XAI_ENOMEM, "ridge: out of memory for %lld x %lld inputs", (long long)n, (long long)d);
    }
    st = solve_dual(r, n, xs, y, lambda);
    free(xs);
    if (st) {
        xai_ridge_free(r);
        return st;
    }
    *out = r;
    return XAI_OK;
}

xai_status xai_ridge_predict(const xai_ridge *r, int64_t n, const float *x, int *pred, double *scores)
{
    if (!r || n < 0)
        return xai_error_set(XAI_EINVAL, "ridge: no model");
    double *sc = malloc(sizeof(double) * (size_t)r->nc);
    if (!sc)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++) {
        for (int c = 0; c < r->nc; c++)
            sc[c] = r->b[c];
        for (int64_t j = 0; j < r->d; j++) {
            double v = (x[i * r->d + j] - r->mean[j]) * r->scale[j];
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
    free(sc);
    return XAI_OK;
}

/* Copy the samples with fold[i] == f (take = 1) or != f (take = 0). @return their count. */
static int64_t gather(const float *x, const int *y, int64_t n, int64_t d, const int *fold, int f, int take, float *xo,
                      int *yo)
{
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if ((fold[i] == f) == take) {
            memcpy(xo + k * d, x + i * d, sizeof(float) * (size_t)d);
            yo[k++] = y[i];
        }
    return k;
}

/* Mean balanced accuracy over the folds of s for one lambda. */
static xai_status cv_score(const xai_split *s, int64_t n, int64_t d, const float *x, const int *y, int nc,
                           double lambda, float *xa, int *ya, float *xb, int *yb, int *pred, double *score)
{
    double sum = 0;
    for (int f = 0; f < s->nfolds; f++) {
        int64_t ntr = gather(x, y, n, d, s->fold, f, 0, xa, ya);
        int64_t nte = gather(x, y, n, d, s->fold, f, 1, xb, yb);
        xai_ridge *r = NULL;
        xai_heldout h;
        xai_status st = xai_ridge_fit(ntr, d, xa, ya, nc, lambda, &r);
        if (!st)
            st = xai_ridge_predict(r, nte, xb, pred, NULL);
        if (!st)
            st = xai_heldout_stats(yb, pred, nte, nc, &h);
        xai_ridge_free(r);
        if (st)
            return st;
        sum += h.balanced_accuracy;
        xai_heldout_free(&h);
    }
    *score = sum / s->nfolds;
    return XAI_OK;
}

xai_status xai_ridge_fit_cv(int64_t n, int64_t d, const float *x, const int *y, int nclasses, const int *groups,
                            uint64_t seed, xai_ridge **out, double *lambda)
{
    static const double grid[] = {1e-3, 1e-2, 1e-1, 1, 10, 100};
    xai_status st = ridge_check(n, d, x, y, nclasses, 1.0);
    if (st)
        return st;
    xai_split s = {0};
    int ng = 0;
    if (groups) { /* count groups through a LOGO split (cheap: no assignment work) */
        if (xai_split_groups(groups, NULL, n, XAI_SPLIT_LOGO, 0, 0, seed, &s) == XAI_OK)
            ng = s.ngroups;
        xai_split_free(&s);
    }
    if (ng >= 2)
        st = xai_split_groups(groups, y, n, XAI_SPLIT_KFOLD, 0, ng < 5 ? ng : 5, seed, &s);
    else
        st = xai_split_groups(NULL, y, n, XAI_SPLIT_WITHIN, 0.2, 0, seed, &s);
    if (st)
        return st;
    float *xa = malloc(sizeof(float) * (size_t)(n * d)), *xb = malloc(sizeof(float) * (size_t)(n * d));
    int *ya = malloc(sizeof(int) * (size_t)n), *yb = malloc(sizeof(int) * (size_t)n);
    int *pred = malloc(sizeof(int) * (size_t)n);
    double best = -1, best_lambda = grid[0] * (double)d;
    if (!xa || !xb || !ya || !yb || !pred)
        st = xai_error_set(XAI_ENOMEM, "ridge: out of memory");
    for (size_t g = 0; g < sizeof grid / sizeof grid[0] && !st; g++) {
        double score;
        st = cv_score(&s, n, d, x, y, nclasses, grid[g] * (double)d, xa, ya, xb, yb, pred, &score);
        if (!st && score >= best) { /* >=: ties go to the stronger regularisation */
            best = score;
            best_lambda = grid[g] * (double)d;
        }
    }
    free(xa), free(xb), free(ya), free(yb), free(pred);
    xai_split_free(&s);
    if (st)
        return st;
    if (lambda)
        *lambda = best_lambda;
    return xai_ridge_fit(n, d, x, y, nclasses, best_lambda, out);
}
