/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-validate.c - grouped splits (no group on both sides, balance, determinism, errors),
 * held-out statistics against hand-counted values and the defining equations of the exact
 * interval, verdicts, the ridge baseline (dual = primal solution, scikit-learn when present),
 * training on a caller's validation mask with the kept epoch's numbers, and relevance starts on
 * a planted near-zero logit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_linalg.h>

#include "test-common.h"
#include "xai.h"
#include "xai/relevance.h"
#include "xai/train.h"
#include "xai/validate.h"

/* 12 groups of unequal sizes (3..8 samples); each group holds one class (group % 2) */
enum { NG = 12 };
static int64_t make_groups(int *g, int *y)
{
    int64_t n = 0;
    for (int k = 0; k < NG; k++)
        for (int s = 0; s < 3 + (k * 5) % 6; s++) {
            g[n] = 100 + 7 * k; /* sparse ids */
            y[n++] = k % 2;
        }
    return n;
}

/* no group on both sides of any fold */
static void assert_groups_whole(const xai_split *s, const int *g)
{
    for (int64_t i = 0; i < s->n; i++)
        for (int64_t j = 0; j < s->n; j++)
            if (g[i] == g[j])
                ck_assert_int_eq(s->fold[i], s->fold[j]);
}

START_TEST(test_split_logo)
{
    int g[128], y[128];
    int64_t n = make_groups(g, y);
    xai_split s;
    ck_assert_int_eq(xai_split_groups(g, NULL, n, XAI_SPLIT_LOGO, 0, 0, 1, &s), XAI_OK);
    ck_assert_int_eq(s.nfolds, NG);
    ck_assert_int_eq(s.ngroups, NG);
    ck_assert_int_eq(s.within_group, 0);
    assert_groups_whole(&s, g);
    /* fold f holds exactly the f-th group id in ascending order */
    for (int64_t i = 0; i < n; i++)
        ck_assert_int_eq(s.fold[i], (g[i] - 100) / 7);
    ck_assert_str_eq(xai_split_scheme_name(s.scheme), "leave-one-group-out");
    xai_split_free(&s);
}
END_TEST

START_TEST(test_split_kfold)
{
    int g[128], y[128];
    int64_t n = make_groups(g, y);
    for (int strat = 0; strat < 2; strat++) {
        xai_split s, s2;
        ck_assert_int_eq(xai_split_groups(g, strat ? y : NULL, n, XAI_SPLIT_KFOLD, 0, 3, 5, &s), XAI_OK);
        ck_assert_int_eq(xai_split_groups(g, strat ? y : NULL, n, XAI_SPLIT_KFOLD, 0, 3, 5, &s2), XAI_OK);
        ck_assert_mem_eq(s.fold, s2.fold, sizeof(int) * (size_t)n); /* same seed, same split */
        assert_groups_whole(&s, g);
        int64_t size[3] = {0}, cls[3][2] = {{0}};
        for (int64_t i = 0; i < n; i++) {
            ck_assert(s.fold[i] >= 0 && s.fold[i] < 3);
            size[s.fold[i]]++;
            cls[s.fold[i]][y[i]]++;
        }
        int64_t lo = size[0], hi = size[0];
        for (int f = 1; f < 3; f++)
            lo = size[f] < lo ? size[f] : lo, hi = size[f] > hi ? size[f] : hi;
        /* greedy largest-first: folds differ by at most the largest group (8) */
        ck_assert_msg(hi - lo <= 8, "fold sizes %lld..%lld", (long long)lo, (long long)hi);
        if (strat)
            for (int f = 0; f < 3; f++)
                ck_assert_msg(cls[f][0] > 0 && cls[f][1] > 0, "fold %d lacks a class", f);
        xai_split_free(&s);
        xai_split_free(&s2);
    }
}
END_TEST

START_TEST(test_split_holdout)
{
    int g[128], y[128];
    int64_t n = make_groups(g, y);
    unsigned char mask[128];
    for (uint64_t seed = 0; seed < 8; seed++) {
        xai_split s;
        ck_assert_int_eq(xai_split_groups(g, y, n, XAI_SPLIT_HOLDOUT, 0.25, 0, seed, &s), XAI_OK);
        ck_assert_int_eq(s.nfolds, 1);
        assert_groups_whole(&s, g);
        xai_split_mask(&s, 0, mask);
        int held[NG] = {0}, cls[2][2] = {{0}};
        for (int64_t i = 0; i < n; i++) {
            held[(g[i] - 100) / 7] = mask[i];
            cls[mask[i]][y[i]]++;
        }
        int nh = 0;
        for (int k = 0; k < NG; k++)
            nh += held[k];
        ck_assert_int_eq(nh, 3); /* 25 % of 12 groups */
        for (int side = 0; side < 2; side++)
            ck_assert(cls[side][0] > 0 && cls[side][1] > 0);
        xai_split_free(&s);
    }
}
END_TEST

START_TEST(test_split_errors)
{
    int g[6] = {3, 3, 3, 3, 3, 3}, y[6] = {0, 1, 0, 1, 0, 1};
    xai_split s;
    ck_assert_int_eq(xai_split_groups(g, y, 6, XAI_SPLIT_HOLDOUT, 0.3, 0, 1, &s), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "one group"));
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "within-group"));
    /* the fallback works and says what it is */
    ck_assert_int_eq(xai_split_groups(NULL, y, 6, XAI_SPLIT_WITHIN, 0.34, 0, 1, &s), XAI_OK);
    ck_assert_int_eq(s.within_group, 1);
    ck_assert_str_eq(xai_split_scheme_name(s.scheme), "within-group");
    int held = 0;
    for (int i = 0; i < 6; i++)
        held += s.fold[i] == 0;
    ck_assert_int_eq(held, 2);
    xai_split_free(&s);
    int g2[6] = {1, 1, 2, 2, 3, 3};
    ck_assert_int_eq(xai_split_groups(g2, y, 6, XAI_SPLIT_KFOLD, 0, 4, 1, &s), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "3 groups"));
    ck_assert_int_eq(xai_split_groups(g2, y, 6, XAI_SPLIT_HOLDOUT, 1.5, 0, 1, &s), XAI_EINVAL);
    int ybad[6] = {0, -1, 0, 1, 0, 1};
    ck_assert_int_eq(xai_split_groups(g2, ybad, 6, XAI_SPLIT_LOGO, 0, 0, 1, &s), XAI_EINVAL);
}
END_TEST

START_TEST(test_heldout_values)
{
    /* 10 samples, classes 0 (6), 1 (3), 2 (1); 7 correct */
    int t[10] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 2};
    int p[10] = {0, 0, 0, 0, 0, 1, 1, 1, 0, 0};
    xai_heldout h;
    ck_assert_int_eq(xai_heldout_stats(t, p, 10, 3, &h), XAI_OK);
    ck_assert_int_eq(h.correct, 7);
    ck_assert_double_eq_tol(h.accuracy, 0.7, 1e-15);
    ck_assert_double_eq_tol(h.balanced_accuracy, (5.0 / 6 + 2.0 / 3 + 0.0) / 3, 1e-15);
    ck_assert_double_eq_tol(h.chance, 0.6, 1e-15);
    ck_assert_int_eq(h.confusion[0 * 3 + 1], 1);
    ck_assert_int_eq(h.confusion[1 * 3 + 0], 1);
    ck_assert_int_eq(h.confusion[2 * 3 + 0], 1);
    /* Clopper-Pearson, k = 7 of 10: published as [0.3475, 0.9333] */
    ck_assert_double_eq_tol(h.ci_low, 0.3475, 1e-4);
    ck_assert_double_eq_tol(h.ci_high, 0.9333, 1e-4);
    /* defining equations: P(X >= 7 | low) = 0.025 = P(X <= 7 | high) */
    ck_assert_double_eq_tol(gsl_cdf_binomial_Q(6, h.ci_low, 10), 0.025, 1e-9);
    ck_assert_double_eq_tol(gsl_cdf_binomial_P(7, h.ci_high, 10), 0.025, 1e-9);
    /* P(X >= 7 | n = 10, p = 0.6), summed by hand */
    double want = 0;
    static const double choose[11] = {1, 10, 45, 120, 210, 252, 210, 120, 45, 10, 1};
    for (int k = 7; k <= 10; k++)
        want += choose[k] * pow(0.6, k) * pow(0.4, 10 - k);
    ck_assert_double_eq_tol(h.p_value, want, 1e-12);
    xai_verdict v;
    ck_assert_int_eq(xai_verdict_make(&h, 0.8, &v), XAI_OK);
    ck_assert_int_eq(v.above_chance, 0); /* 0.3475 < 0.6 */
    ck_assert_int_eq(v.n_never_predicted, 1);
    ck_assert_int_eq(v.never_predicted[0], 2);
    ck_assert_int_eq(v.loses_to_baseline, 1);
    xai_verdict_free(&v);
    ck_assert_int_eq(xai_verdict_make(&h, NAN, &v), XAI_OK);
    ck_assert_int_eq(v.loses_to_baseline, 0);
    xai_verdict_free(&v);
    xai_heldout_free(&h);
}
END_TEST

/* pooled out-of-fold statistics, fold mean and sd, baseline and verdict, counted by hand */
START_TEST(test_validation_summary)
{
    /* 3 groups of 4; fold g holds group g out; the model is right on 4, 3 and 2 of them */
    int g[12], t[12], p[12], b[12];
    for (int i = 0; i < 12; i++) {
        g[i] = i / 4;
        t[i] = i % 2;
        b[i] = t[i]; /* a perfect baseline */
        p[i] = (i % 4) < 4 - g[i] ? t[i] : 1 - t[i];
    }
    xai_split s;
    ck_assert_int_eq(xai_split_groups(g, t, 12, XAI_SPLIT_LOGO, 0, 0, 1, &s), XAI_OK);
    xai_validation v;
    ck_assert_int_eq(xai_validation_summarise(&s, "subject", t, p, 2, "ridge", b, &v), XAI_OK);
    ck_assert_str_eq(v.scheme, "leave-one-group-out");
    ck_assert_str_eq(v.group_kind, "subject");
    ck_assert_int_eq(v.n_groups, 3);
    ck_assert_int_eq(v.n_folds, 3);
    ck_assert_int_eq(v.pooled.n, 12);
    ck_assert_int_eq(v.pooled.correct, 9);
    ck_assert_double_eq_tol(v.fold_mean, 0.75, 1e-15);
    ck_assert_double_eq_tol(v.fold_sd, 0.25, 1e-15);
    ck_assert_double_eq(v.baseline_accuracy, 1.0);
    ck_assert_int_eq(v.verdict.loses_to_baseline, 1);
    ck_assert_int_eq(v.verdict.above_chance, 0); /* 9/12: interval [0.43, 0.95] holds 0.5 */
    xai_validation_free(&v);
    ck_assert_int_eq(xai_validation_summarise(&s, "subject", t, p, 2, "ridge", NULL, &v), XAI_OK);
    ck_assert(isnan(v.baseline_accuracy));
    ck_assert_ptr_null(v.baseline_name);
    ck_assert_int_eq(v.verdict.loses_to_baseline, 0);
    xai_validation_free(&v);
    xai_split_free(&s);
}
END_TEST

START_TEST(test_heldout_edges)
{
    int t[20], p[20];
    for (int i = 0; i < 20; i++)
        t[i] = p[i] = i % 2;
    xai_heldout h;
    ck_assert_int_eq(xai_heldout_stats(t, p, 20, 2, &h), XAI_OK);
    ck_assert_double_eq(h.ci_high, 1.0);
    ck_assert_double_eq_tol(h.ci_low, pow(0.025, 1.0 / 20), 1e-12); /* k = n: closed form */
    ck_assert_double_eq_tol(h.p_value, pow(0.5, 20), 1e-18);
    xai_verdict v;
    ck_assert_int_eq(xai_verdict_make(&h, 0.9, &v), XAI_OK);
    ck_assert_int_eq(v.above_chance, 1);
    ck_assert_int_eq(v.n_never_predicted, 0);
    ck_assert_int_eq(v.loses_to_baseline, 0);
    xai_verdict_free(&v);
    xai_heldout_free(&h);
    for (int i = 0; i < 20; i++)
        p[i] = 1 - t[i];
    ck_assert_int_eq(xai_heldout_stats(t, p, 20, 2, &h), XAI_OK);
    ck_assert_double_eq(h.ci_low, 0.0);
    ck_assert_double_eq_tol(h.ci_high, 1.0 - pow(0.025, 1.0 / 20), 1e-12);
    ck_assert_double_eq(h.p_value, 1.0);
    xai_heldout_free(&h);
    p[0] = 5;
    ck_assert_int_eq(xai_heldout_stats(t, p, 20, 2, &h), XAI_EINVAL);
    double acc[4] = {0.5, 0.7, 0.6, 0.8}, m, sd;
    xai_mean_sd(acc, 4, &m, &sd);
    ck_assert_double_eq_tol(m, 0.65, 1e-15);
    ck_assert_double_eq_tol(sd, sqrt(0.05 / 3), 1e-15);
    xai_mean_sd(acc, 1, &m, &sd);
    ck_assert(isnan(sd));
}
END_TEST

/* planted linear task: class = argmax of 3 fixed directions + noise, d features >> useful ones */
static void linear_task(int64_t n, int64_t d, int nc, uint64_t seed, float *x, int *y)
{
    for (int64_t i = 0; i < n; i++) {
        y[i] = (int)(i % nc);
        for (int64_t j = 0; j < d; j++) {
            double u = sin(12.9898 * (double)(i * d + j + 1) + 78.233 * (double)seed) * 43758.5453;
            x[i * d + j] = (float)(u - floor(u) - 0.5) * 2.0f + 0.5f * (float)(j % 7); /* offsets */
        }
        x[i * d + y[i]] += 2.5f;
    }
}

/* the dual solution equals the primal one, (Xs^T Xs + lambda I) w = Xs^T (Y - mean Y) */
START_TEST(test_ridge_primal)
{
    enum { N = 30, D = 8, C = 3 };
    float x[N * D];
    int y[N];
    linear_task(N, D, C, 3, x, y);
    double lambda = 2.5;
    xai_ridge *r;
    ck_assert_int_eq(xai_ridge_fit(N, D, x, y, C, lambda, &r), XAI_OK);
    double xs[N * D], mean[D], sd[D];
    for (int j = 0; j < D; j++) {
        double s = 0, ss = 0;
        for (int i = 0; i < N; i++)
            s += x[i * D + j];
        mean[j] = s / N;
        for (int i = 0; i < N; i++)
            ss += (x[i * D + j] - mean[j]) * (x[i * D + j] - mean[j]);
        sd[j] = sqrt(ss / N);
        for (int i = 0; i < N; i++)
            xs[i * D + j] = (x[i * D + j] - mean[j]) / sd[j];
    }
    gsl_matrix *a = gsl_matrix_calloc(D, D);
    gsl_vector *rhs = gsl_vector_alloc(D);
    for (int p = 0; p < D; p++)
        for (int q = 0; q < D; q++) {
            double s = p == q ? lambda : 0;
            for (int i = 0; i < N; i++)
                s += xs[i * D + p] * xs[i * D + q];
            gsl_matrix_set(a, p, q, s);
        }
    ck_assert_int_eq(gsl_linalg_cholesky_decomp1(a), 0);
    double scores[N * C];
    int pred[N];
    ck_assert_int_eq(xai_ridge_predict(r, N, x, pred, scores), XAI_OK);
    for (int c = 0; c < C; c++) {
        double ym = 0;
        for (int i = 0; i < N; i++)
            ym += y[i] == c ? 1 : -1;
        ym /= N;
        for (int p = 0; p < D; p++) {
            double s = 0;
            for (int i = 0; i < N; i++)
                s += xs[i * D + p] * ((y[i] == c ? 1 : -1) - ym);
            gsl_vector_set(rhs, p, s);
        }
        ck_assert_int_eq(gsl_linalg_cholesky_svx(a, rhs), 0);
        for (int i = 0; i < N; i++) {
            double f = ym;
            for (int p = 0; p < D; p++)
                f += xs[i * D + p] * gsl_vector_get(rhs, p);
            ck_assert_double_eq_tol(scores[i * C + c], f, 1e-9);
        }
    }
    gsl_matrix_free(a);
    gsl_vector_free(rhs);
    xai_ridge_free(r);
    ck_assert_int_eq(xai_ridge_fit(N, D, x, y, C, 0.0, &r), XAI_EINVAL);
    y[0] = 7;
    ck_assert_int_eq(xai_ridge_fit(N, D, x, y, C, 1.0, &r), XAI_EINVAL);
}
END_TEST

/* held-out groups: the baseline learns the planted directions; lambda from the grid; deterministic */
START_TEST(test_ridge_cv)
{
    enum { N = 120, D = 300, C = 3, NTE = 60 };
    float *x = malloc(sizeof(float) * N * D), *xt = malloc(sizeof(float) * NTE * D);
    int y[N], yt[NTE], g[N], pred[NTE];
    linear_task(N, D, C, 1, x, y);
    linear_task(NTE, D, C, 2, xt, yt);
    for (int i = 0; i < N; i++)
        g[i] = i / 10;
    xai_ridge *r, *r2;
    double lambda, lambda2;
    ck_assert_int_eq(xai_ridge_fit_cv(N, D, x, y, C, g, 4, &r, &lambda), XAI_OK);
    ck_assert_int_eq(xai_ridge_fit_cv(N, D, x, y, C, g, 4, &r2, &lambda2), XAI_OK);
    ck_assert_double_eq(lambda, lambda2);
    int on_grid = 0;
    for (double c = 1e-3; c < 150; c *= 10)
        on_grid |= fabs(lambda - c * D) < 1e-9 * D;
    ck_assert(on_grid);
    ck_assert_int_eq(xai_ridge_predict(r, NTE, xt, pred, NULL), XAI_OK);
    xai_heldout h;
    ck_assert_int_eq(xai_heldout_stats(yt, pred, NTE, C, &h), XAI_OK);
    printf("  ridge baseline: lambda %g, held-out accuracy %.3f [%.3f, %.3f], chance %.3f\n", lambda, h.accuracy,
           h.ci_low, h.ci_high, h.chance);
    ck_assert_msg(h.ci_low > h.chance, "accuracy %.3f", h.accuracy);
    xai_heldout_free(&h);
    xai_ridge_free(r);
    xai_ridge_free(r2);
    free(x);
    free(xt);
}
END_TEST

/* out-of-fold predictions equal fitting each fold by hand on copies of its training samples */
START_TEST(test_ridge_out_of_fold)
{
    enum { N = 60, D = 30, C = 2 };
    float x[N * D], xa[N * D], xb[N * D];
    int y[N], g[N], pred[N], ya[N], ga[N], pb[N];
    linear_task(N, D, C, 7, x, y);
    for (int i = 0; i < N; i++)
        g[i] = i % 6;
    xai_split s;
    ck_assert_int_eq(xai_split_groups(g, y, N, XAI_SPLIT_KFOLD, 0, 3, 2, &s), XAI_OK);
    ck_assert_int_eq(xai_ridge_out_of_fold(&s, D, x, y, C, g, 9, pred), XAI_OK);
    for (int f = 0; f < 3; f++) {
        int na = 0, nb = 0, at[N];
        for (int i = 0; i < N; i++) {
            if (s.fold[i] == f) {
                memcpy(xb + nb * D, x + i * D, sizeof(float) * D);
                at[nb++] = i;
            } else {
                memcpy(xa + na * D, x + i * D, sizeof(float) * D);
                ya[na] = y[i];
                ga[na++] = g[i];
            }
        }
        xai_ridge *r;
        ck_assert_int_eq(xai_ridge_fit_cv(na, D, xa, ya, C, ga, 9, &r, NULL), XAI_OK);
        ck_assert_int_eq(xai_ridge_predict(r, nb, xb, pb, NULL), XAI_OK);
        for (int k = 0; k < nb; k++)
            ck_assert_int_eq(pred[at[k]], pb[k]);
        xai_ridge_free(r);
    }
    xai_validation v;
    ck_assert_int_eq(xai_validation_summarise(&s, "subject", y, pred, C, "ridge", pred, &v), XAI_OK);
    printf("  ridge out of fold: %.3f [%.3f, %.3f], folds %.3f +- %.3f\n", v.pooled.accuracy, v.pooled.ci_low,
           v.pooled.ci_high, v.fold_mean, v.fold_sd);
    ck_assert_int_eq(v.verdict.loses_to_baseline, 0); /* equal is not losing */
    ck_assert(v.verdict.above_chance);
    xai_validation_free(&v);
    xai_split_free(&s);
}
END_TEST

/* scikit-learn's StandardScaler + RidgeClassifier on the same data gives the same scores */
START_TEST(test_ridge_sklearn)
{
    if (system("/usr/bin/python3 -c 'import sklearn' >/dev/null 2>&1") != 0) {
        printf("SKIP ridge vs scikit-learn: /usr/bin/python3 without scikit-learn (Debian python3-sklearn)\n");
        return;
    }
    enum { N = 24, D = 300, C = 3 }; /* D > 256: more than one feature block */
    float x[N * D];
    int y[N];
    linear_task(N, D, C, 5, x, y);
    char *dir = xai_test_tmpdir();
    const char *in = xai_test_path(dir, "xy.txt");
    FILE *f = fopen(in, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < N; i++) {
        fprintf(f, "%d", y[i]);
        for (int j = 0; j < D; j++)
            fprintf(f, " %.9g", (double)x[i * D + j]);
        fprintf(f, "\n");
    }
    fclose(f);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import numpy as np, sys\n"
             "from sklearn.preprocessing import StandardScaler\n"
             "from sklearn.linear_model import RidgeClassifier\n"
             "a = np.loadtxt(sys.argv[1]); y = a[:, 0].astype(int); X = a[:, 1:]\n"
             "Xs = StandardScaler().fit_transform(X)\n"
             "m = RidgeClassifier(alpha=7.0, solver=\"cholesky\").fit(Xs, y)\n"
             "np.savetxt(sys.stdout, m.decision_function(Xs), fmt=\"%%.12g\")' %s",
             in);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    xai_ridge *r;
    ck_assert_int_eq(xai_ridge_fit(N, D, x, y, C, 7.0, &r), XAI_OK);
    double sc[N * C];
    int pred[N];
    ck_assert_int_eq(xai_ridge_predict(r, N, x, pred, sc), XAI_OK);
    for (int k = 0; k < N * C; k++) {
        double v;
        ck_assert_int_eq(fscanf(p, "%lf", &v), 1);
        ck_assert_msg(fabs(v - sc[k]) < 1e-6, "score %d: scikit-learn %.9g, libxai %.9g", k, v, sc[k]);
    }
    ck_assert_int_eq(pclose(p), 0);
    xai_ridge_free(r);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* training on a caller's validation mask: n_val follows the mask, and the kept weights' training
 * accuracy is what the result reports */
START_TEST(test_train_val_mask)
{
    enum { N = 96, D = 12 };
    float x[N * D], xtr[N * D];
    int y[N], g[N], ytr[N];
    linear_task(N, D, 2, 9, x, y);
    for (int i = 0; i < N; i++)
        g[i] = i / 8;
    xai_split s;
    ck_assert_int_eq(xai_split_groups(g, y, N, XAI_SPLIT_HOLDOUT, 0.25, 0, 3, &s), XAI_OK);
    unsigned char mask[N];
    xai_split_mask(&s, 0, mask);
    int64_t nv = 0, ntr = 0;
    for (int i = 0; i < N; i++) {
        nv += mask[i];
        if (!mask[i]) {
            memcpy(xtr + ntr * D, x + i * D, sizeof(float) * D);
            ytr[ntr++] = y[i];
        }
    }
    int64_t shape[1] = {D};
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("dense(8) relu dropout(0.5) dense(2)", 1, shape, 2, &m), XAI_OK);
    xai_train_config c;
    xai_train_config_init(&c);
    c.epochs = 15;
    c.batch = 8;
    c.lr = 0.01f;
    c.seed = 4;
    c.val_mask = mask;
    xai_train_result r;
    ck_assert_int_eq(xai_train(m, &c, N, x, y, &r), XAI_OK);
    ck_assert_int_eq(r.n_val, nv);
    ck_assert_int_eq(r.n_train, ntr);
    double loss, acc;
    ck_assert_int_eq(xai_evaluate_loss(m, ntr, xtr, ytr, NULL, &loss, &acc), XAI_OK);
    ck_assert_double_eq(acc, r.kept_train_acc);
    ck_assert_double_eq_tol(loss, r.kept_train_loss, 1e-5 * (1 + loss));
    int pred[N];
    int64_t right = 0;
    ck_assert_int_eq(xai_predict_classes(m, ntr, xtr, pred), XAI_OK);
    for (int64_t i = 0; i < ntr; i++)
        right += pred[i] == ytr[i];
    ck_assert_double_eq_tol((double)right / (double)ntr, r.kept_train_acc, 1e-12);
    for (int64_t i = 0; i < ntr; i += 7) { /* stacked as one at a time; none is no error */
        int one;
        ck_assert_int_eq(xai_predict_classes(m, 1, xtr + i * xai_model_input_numel(m), &one), XAI_OK);
        ck_assert_int_eq(one, pred[i]);
    }
    ck_assert_int_eq(xai_predict_classes(m, 0, xtr, pred), XAI_OK);
    printf("  grouped validation: kept epoch %d of %d, train %.3f, validation %.3f (last epoch's running train "
           "accuracy %.3f)\n",
           r.best_epoch, r.epochs_run, r.kept_train_acc, r.best_val_acc, r.final_train_acc);
    memset(mask, 1, sizeof mask); /* nothing left to train on */
    ck_assert_int_eq(xai_train(m, &c, N, x, y, &r), XAI_EINVAL);
    xai_model_free(m);
    xai_split_free(&s);
}
END_TEST

/* x0 + t v with the target logit within 1e-5 of 0, found by bisection on a sign change */
static int plant_zero_logit(const xai_model *m, xai_workspace *ws, int target, const float *x0, const float *v,
                            int64_t d, float *x)
{
    float lg[8];
    double lo = 0, hi = 0, flo = 0;
    for (double t = -40; t <= 40; t += 0.5) {
        for (int64_t j = 0; j < d; j++)
            x[j] = x0[j] + (float)t * v[j];
        ck_assert_int_eq(xai_model_forward(m, ws, 1, x, lg), XAI_OK);
        if (t > -40 && (lg[target] > 0) != (flo > 0)) {
            hi = t;
            break;
        }
        lo = t;
        flo = lg[target];
    }
    if (hi == 0)
        return 0;
    for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (lo + hi);
        for (int64_t j = 0; j < d; j++)
            x[j] = x0[j] + (float)mid * v[j];
        ck_assert_int_eq(xai_model_forward(m, ws, 1, x, lg), XAI_OK);
        if (fabs(lg[target]) < 1e-5)
            return 1;
        if ((lg[target] > 0) == (flo > 0))
            lo = mid;
        else
            hi = mid;
    }
    return 0;
}

/* Planted near-zero logit next to ordinary samples: the one-hot start with bias factor 0 blows the
 * sum up and the check reports that sample; the recommended start keeps every sum within 10x;
 * normalised maps weigh the same in a mean. */
static const struct {
    const char *spec;
    int ndim;
    int64_t shape[2];
} start_models[] = {
    {"dense(16) relu dense(16) relu dense(2)", 1, {20, 0}},
    {"conv1d(4,k=3,p=1) relu conv1d(4,k=3,p=1) relu flatten dense(8) relu dense(2)", 2, {2, 10}},
};

/* one-hot start: the planted sample (2) explodes and is flagged; it dominates the unnormalised
 * maps, and normalisation gives every map sum |R| = 1 */
static void check_blowup(float *rel, const int64_t *flagged, int64_t nflag, const double *ratio)
{
    enum { D = 20, NS = 4 };
    ck_assert_msg(fabs(ratio[2]) > 10, "the planted sample did not explode (%g)", ratio[2]);
    int found = 0;
    for (int64_t k = 0; k < nflag; k++)
        found |= flagged[k] == 2;
    ck_assert(found);
    double l1[NS], tot = 0;
    ck_assert_int_eq(xai_relevance_normalise(rel, NS, D, l1), XAI_OK);
    for (int i = 0; i < NS; i++)
        tot += l1[i];
    ck_assert_msg(l1[2] / tot > 0.5, "planted share %.3f", l1[2] / tot);
    for (int i = 0; i < NS; i++) {
        double sum = 0;
        for (int j = 0; j < D; j++)
            sum += fabs(rel[i * D + j]);
        ck_assert_double_eq_tol(sum, l1[i] > 0 ? 1.0 : 0.0, 1e-5);
    }
}

START_TEST(test_relevance_start)
{
    enum { D = 20, NS = 4 };
    xai_model *m;
    printf("  model %s\n", start_models[_i].spec);
    ck_assert_int_eq(xai_model_from_spec(start_models[_i].spec, start_models[_i].ndim, start_models[_i].shape, 11, &m),
                     XAI_OK);
    ck_assert_int_eq(xai_model_input_numel(m), D);
    xai_workspace *ws;
    ck_assert_int_eq(xai_workspace_new(m, 1, &ws), XAI_OK);
    float x[NS * D], v[D];
    for (int k = 0; k < NS * D; k++)
        x[k] = (float)sin(0.37 * k + 1.1);
    for (int j = 0; j < D; j++)
        v[j] = (float)cos(0.91 * j);
    float x0[D];
    memcpy(x0, x + 2 * D, sizeof x0);
    ck_assert_msg(plant_zero_logit(m, ws, 0, x0, v, D, x + 2 * D), "no sign change of logit 0 found");
    double r0 = 0;
    xai_workspace_free(ws);
    /* the output layer's own epsilon raised to 0.1 (a rules override on the last Gemm) */
    char rules[300] = "";
    for (int i = 0; i < xai_model_node_count(m); i++)
        if (!strcmp(xai_model_node_op(m, i), "Gemm"))
            snprintf(rules, sizeof rules, "node:%s=epsilon(0.1)", xai_model_node_name(m, i));
    ck_assert(rules[0]);
    static const char *names[] = {"one-hot", "logit", "one-hot, bias factor 1", "one-hot, output epsilon 0.1",
                                  "stable (output z+, bias factor 1)"};
    int64_t flagged[NS], nflag[5];
    for (int mode = 0; mode < 5; mode++) {
        xai_explain_config c;
        xai_explain_config_init(&c);
        c.target = 0;
        char *own = NULL;
        if (mode == 0)
            c.init = XAI_INIT_ONEHOT;
        else if (mode == 1)
            c.init = XAI_INIT_LOGIT;
        else if (mode == 2)
            c.bias_factor = 1.0f;
        else if (mode == 3)
            c.rules = rules;
        else
            ck_assert_int_eq(xai_explain_config_stable(m, &c, &own), XAI_OK);
        float rel[NS * D];
        xai_explain_result res;
        ck_assert_int_eq(xai_explain(m, &c, NS, x, rel, &res), XAI_OK);
        double ratio[NS];
        ck_assert_int_eq(xai_relevance_check(&res, 0, flagged, &nflag[mode], ratio), XAI_OK);
        printf("  %-34s logit %+.2e: sum/start %+.3g; others", names[mode], (double)res.logits[2 * 2],
               ratio[2]);
        for (int i = 0; i < NS; i++)
            if (i != 2)
                printf(" %+.3g", ratio[i]);
        printf("; %lld flagged\n", (long long)nflag[mode]);
        fflush(stdout);
        if (mode == 0)
            check_blowup(rel, flagged, nflag[0], ratio);
        if (mode == 1) /* a logit start scales start and sum alike: no help */
            ck_assert_double_eq_tol(ratio[2], r0, 1e-3 * fabs(r0));
        if (mode == 0)
            r0 = ratio[2];
        if (mode == 4) {
            ck_assert_ptr_nonnull(own);
            ck_assert_ptr_nonnull(strstr(own, "=zplus"));
            for (int i = 0; i < NS; i++) /* every map keeps about its one-hot start */
                ck_assert_msg(ratio[i] > 0.5 && ratio[i] < 2, "sample %d: sum/start %g", i, ratio[i]);
        }
        free(own);
        xai_explain_result_free(&res);
    }
    ck_assert_msg(nflag[4] == 0, "the stable start still departs by >10x on %lld samples", (long long)nflag[4]);
    float bad[D] = {NAN};
    ck_assert_int_eq(xai_relevance_normalise(bad, 1, D, NULL), XAI_ENUMERIC);
    xai_model_free(m);
}
END_TEST

/* the check's rule on hand-made sums: growth, shrinkage, a zero start, a non-finite sum */
START_TEST(test_relevance_check_rule)
{
    double init[6] = {1, 1, 1, 0, 2, -1}, sum[6] = {0.05, 11, -2, 0.5, NAN, -9.9};
    xai_explain_result r;
    memset(&r, 0, sizeof r);
    r.n = 6;
    r.init_sum = init;
    r.rel_sum = sum;
    int64_t fl[6], nf;
    double ratio[6];
    ck_assert_int_eq(xai_relevance_check(&r, 0, fl, &nf, ratio), XAI_OK);
    ck_assert_int_eq(nf, 4);
    ck_assert_int_eq(fl[0], 0);
    ck_assert_int_eq(fl[1], 1);
    ck_assert_int_eq(fl[2], 3);
    ck_assert_int_eq(fl[3], 4);
    ck_assert(isinf(ratio[3]));
    ck_assert_double_eq_tol(ratio[5], 9.9, 1e-12);
    ck_assert_int_eq(xai_relevance_check(&r, 1.5, fl, &nf, NULL), XAI_OK);
    ck_assert_int_eq(nf, 6);
    ck_assert_int_eq(xai_relevance_check(&r, 0.5, fl, &nf, NULL), XAI_EINVAL);
    /* the caller's rules come first (first match wins) and are kept */
    int64_t shape[1] = {6};
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("dense(4) relu dense(2)", 1, shape, 1, &m), XAI_OK);
    xai_explain_config c;
    xai_explain_config_init(&c);
    c.rules = "first=flat";
    char *own;
    ck_assert_int_eq(xai_explain_config_stable(m, &c, &own), XAI_OK);
    ck_assert_ptr_eq(c.rules, own);
    ck_assert_int_eq(strncmp(own, "first=flat;node:", 16), 0);
    ck_assert_double_eq(c.bias_factor, 1.0f);
    ck_assert_int_eq(xai_rules_check(own), XAI_OK);
    free(own);
    xai_model_free(m);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("validate");
    TCase *t = tcase_create("splits");
    tcase_add_test(t, test_split_logo);
    tcase_add_test(t, test_split_kfold);
    tcase_add_test(t, test_split_holdout);
    tcase_add_test(t, test_split_errors);
    suite_add_tcase(s, t);
    t = tcase_create("stats");
    tcase_add_test(t, test_heldout_values);
    tcase_add_test(t, test_heldout_edges);
    tcase_add_test(t, test_validation_summary);
    suite_add_tcase(s, t);
    t = tcase_create("baseline");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_ridge_primal);
    tcase_add_test(t, test_ridge_cv);
    tcase_add_test(t, test_ridge_sklearn);
    tcase_add_test(t, test_ridge_out_of_fold);
    suite_add_tcase(s, t);
    t = tcase_create("train");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_train_val_mask);
    suite_add_tcase(s, t);
    t = tcase_create("relevance");
    tcase_add_loop_test(t, test_relevance_start, 0, 2);
    tcase_add_test(t, test_relevance_check_rule);
    suite_add_tcase(s, t);
    return s;
}
