/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri-screen.c - univariate ANOVA screening of a model's training samples, and the choice of
 * how much of the mask it keeps by an inner grouped cross-validation on those samples only.
 * Refs: Pereira, Mitchell & Botvinick 2009 (voxel selection inside the training folds);
 * Varoquaux et al. 2017, NeuroImage 145 (grouped inner cross-validation for decoders).
 */
#include "fmri-int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xai/validate.h"

/* Contiguous folds of a single training run: enough to hold out a few blocks or trials at once. */
#define SCREEN_RUN_FOLDS 3

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* One-way ANOVA eta^2 (monotone in F for fixed n and classes) of every mask voxel over the
 * samples without skip[k] (skip may be NULL): e[v], and the mask's values sorted descending
 * into sorted[*nin]. */
static xai_status eta2_sorted(const float *x, const int *y, int64_t n, int64_t nv, int ncls, const uint8_t *mask,
                              const unsigned char *skip, double *e, double *sorted, int64_t *nin)
{
    double *sum = calloc((size_t)(ncls + 2) * (size_t)nv, sizeof *sum), *tot = sum + (size_t)ncls * (size_t)nv;
    double *sq = tot + nv;
    int64_t cnt[XAI_FMRI_MAX_CLASSES] = {0}, m = 0;
    if (!sum)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    for (int64_t k = 0; k < n; k++) {
        if (skip && skip[k])
            continue;
        const float *row = x + k * nv;
        double *sc = sum + (size_t)y[k] * (size_t)nv;
        cnt[y[k]]++, m++;
        for (int64_t v = 0; v < nv; v++)
            if (mask[v]) {
                double a = row[v];
                sc[v] += a, tot[v] += a, sq[v] += a * a;
            }
    }
    *nin = 0;
    for (int64_t v = 0; v < nv; v++) {
        if (!mask[v])
            continue;
        double grand = m ? tot[v] / (double)m : 0, ss = sq[v] - (double)m * grand * grand, between = 0;
        for (int c = 0; c < ncls; c++)
            if (cnt[c]) {
                double d = sum[(size_t)c * (size_t)nv + (size_t)v] / (double)cnt[c] - grand;
                between += (double)cnt[c] * d * d;
            }
        sorted[(*nin)++] = e[v] = ss > 0 ? between / ss : 0;
    }
    free(sum);
    qsort(sorted, (size_t)*nin, sizeof *sorted, cmp_desc);
    return XAI_OK;
}

/* The F of the last voxel kept when @p keep of the @p nin sorted values are kept. */
static double keep_cut(const double *sorted, int64_t nin, double keep)
{
    int64_t want = (int64_t)ceil(keep * (double)nin);
    return nin ? sorted[(want < 1 ? 1 : want > nin ? nin : want) - 1] : 0;
}

xai_status fmri_screen(float *x, const int *y, int64_t n, int64_t nv, int ncls, double keep, uint8_t *mask)
{
    double *e = malloc((size_t)nv * sizeof *e), *sorted = malloc((size_t)nv * sizeof *sorted);
    int64_t nin = 0;
    xai_status st = e && sorted ? eta2_sorted(x, y, n, nv, ncls, mask, NULL, e, sorted, &nin)
                                : xai_error_set(XAI_ENOMEM, "out of memory");
    double cut = st ? 0 : keep_cut(sorted, nin, keep);
    for (int64_t v = 0; !st && v < nv; v++)
        if (mask[v] && e[v] < cut) {
            mask[v] = 0;
            for (int64_t i = 0; i < n; i++)
                x[i * nv + v] = 0.0f;
        }
    free(e);
    free(sorted);
    return st;
}

/* Inner folds: the samples' runs when there are two or more, else contiguous parts of the one
 * run (neighbouring samples share a response, so they are held out together). */
static int inner_folds(const int *run, int64_t n, int *fold)
{
    int nf = 0;
    for (int64_t k = 0; k < n; k++) {
        int f = -1;
        for (int64_t j = 0; j < k && f < 0; j++)
            if (run[j] == run[k])
                f = fold[j];
        fold[k] = f >= 0 ? f : nf++;
    }
    if (nf >= 2)
        return nf;
    for (int64_t k = 0; k < n; k++)
        fold[k] = (int)(k * SCREEN_RUN_FOLDS / n);
    return n >= SCREEN_RUN_FOLDS ? SCREEN_RUN_FOLDS : 0;
}

/* Every inner fold leaves at least two classes to train on. */
static int folds_usable(const int *y, const int *fold, int64_t n, int nfold)
{
    for (int f = 0; f < nfold; f++) {
        int first = -1, two = 0;
        for (int64_t k = 0; k < n && !two; k++)
            if (fold[k] != f) {
                if (first < 0)
                    first = y[k];
                two = y[k] != first;
            }
        if (!two)
            return 0;
    }
    return 1;
}

typedef struct {
    const float *x;
    const int *y;
    int64_t n, nv;
    int ncls;
    const uint8_t *mask;
    const int *fold;
    uint64_t seed;
    /* scratch */
    double *e, *sorted;
    float *xtr, *xte;
    int *ytr, *gtr;
    int64_t *col;
} screen_cv;

/* Fold @p f held out, the voxels of eta^2 >= @p cut on the others: a ridge classifier (its
 * lambda by its own inner CV) predicts the held-out samples into pred. */
static xai_status fold_predict(screen_cv *c, int f, double cut, int *pred)
{
    int64_t nc = 0, ntr = 0, nte = 0;
    for (int64_t v = 0; v < c->nv; v++)
        if (c->mask[v] && c->e[v] >= cut)
            c->col[nc++] = v;
    for (int64_t k = 0; k < c->n; k++) {
        int out = c->fold[k] == f;
        float *dst = out ? c->xte + nte * nc : c->xtr + ntr * nc;
        for (int64_t j = 0; j < nc; j++)
            dst[j] = c->x[k * c->nv + c->col[j]];
        if (!out)
            c->ytr[ntr] = c->y[k], c->gtr[ntr++] = c->fold[k];
        else
            nte++;
    }
    xai_ridge *r = NULL;
    double lambda;
    int *tp = malloc((size_t)(nte ? nte : 1) * sizeof *tp);
    xai_status st = tp ? xai_ridge_fit_cv(ntr, nc, c->xtr, c->ytr, c->ncls, c->gtr, c->seed, &r, &lambda)
                       : xai_error_set(XAI_ENOMEM, "out of memory");
    if (!st)
        st = xai_ridge_predict(r, nte, c->xte, tp, NULL);
    for (int64_t k = 0, t = 0; !st && k < c->n; k++)
        if (c->fold[k] == f)
            pred[k] = tp[t++];
    xai_ridge_free(r);
    free(tp);
    return st;
}

/* Out-of-fold predictions of every candidate share into pred[cand][n]. */
static xai_status screen_cv_run(screen_cv *c, int nfold, const double *share, int ncand, int *pred)
{
    unsigned char *skip = malloc((size_t)c->n);
    xai_status st = skip ? XAI_OK : xai_error_set(XAI_ENOMEM, "out of memory");
    for (int f = 0; !st && f < nfold; f++) {
        int64_t nin = 0;
        for (int64_t k = 0; k < c->n; k++)
            skip[k] = c->fold[k] == f;
        st = eta2_sorted(c->x, c->y, c->n, c->nv, c->ncls, c->mask, skip, c->e, c->sorted, &nin);
        for (int i = 0; !st && i < ncand; i++)
            st = fold_predict(c, f, keep_cut(c->sorted, nin, share[i]), pred + (size_t)i * (size_t)c->n);
    }
    free(skip);
    return st;
}

xai_status fmri_screen_select(const float *x, const int *y, const int *run, int64_t n, int64_t nv, int ncls,
                              const uint8_t *mask, double top, uint64_t seed, double *share)
{
    double cand[XAI_FMRI_SCREEN_CANDIDATES];
    for (int i = 0; i < XAI_FMRI_SCREEN_CANDIDATES; i++)
        cand[i] = top / (double)(1 << i);
    *share = top;
    size_t cells = (size_t)n * (size_t)nv; /* ties at the cut may keep more than the share */
    screen_cv c = {x, y, n, nv, ncls, mask, NULL, seed, malloc((size_t)nv * sizeof(double)),
                   malloc((size_t)nv * sizeof(double)), malloc(cells * sizeof(float)), malloc(cells * sizeof(float)),
                   malloc((size_t)n * sizeof(int)), malloc((size_t)n * sizeof(int)),
                   malloc((size_t)nv * sizeof(int64_t))};
    int *fold = malloc((size_t)n * sizeof *fold), *pred = malloc((size_t)n * XAI_FMRI_SCREEN_CANDIDATES * sizeof *pred);
    xai_status st = c.e && c.sorted && c.xtr && c.xte && c.ytr && c.gtr && c.col && fold && pred
                        ? XAI_OK : xai_error_set(XAI_ENOMEM, "out of memory");
    int nfold = st ? 0 : inner_folds(run, n, fold);
    if (nfold >= 2 && !folds_usable(y, fold, n, nfold))
        nfold = 0; /* a fold with one class to learn from cannot compare the shares */
    c.fold = fold;
    if (!st && nfold >= 2)
        st = screen_cv_run(&c, nfold, cand, XAI_FMRI_SCREEN_CANDIDATES, pred);
    double best = -1;
    for (int i = 0; !st && nfold >= 2 && i < XAI_FMRI_SCREEN_CANDIDATES; i++) {
        xai_heldout h = {0};
        st = xai_heldout_stats(y, pred + (size_t)i * (size_t)n, n, ncls, &h);
        if (!st && h.balanced_accuracy >= best) /* ties go to the smaller share: the more constrained model */
            best = h.balanced_accuracy, *share = cand[i];
        xai_heldout_free(&h);
    }
    free(c.e), free(c.sorted), free(c.xtr), free(c.xte), free(c.ytr), free(c.gtr), free(c.col);
    free(fold), free(pred);
    return st;
}
