/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-eval-metrics.c - the metrics beyond AOPC:
 *  - every metric against the float64 NumPy reference of tests/data/eval/make_metrics.py
 *    (fixtures in tests/data/eval/metrics: localisation, complexity, Spearman, ROAD
 *    imputation with and without noise, ROAD perturbation, faithfulness correlation,
 *    infidelity, max/avg-sensitivity on tests/data/eval/linear.onnx);
 *  - small cases worked out by hand (values in the comments);
 *  - invariants: exact contributions give faithfulness correlation 1, the gradient of a
 *    linear model has infidelity 0 at any scale and sensitivity 0;
 *  - MPRT: an unchanged copy explains identically; on every bundled model
 *    (datasets/ * / *.onnx) and on a trained BatchNorm model the rank correlation with the
 *    original map falls as layers are randomised from the top;
 *  - the driver, metric names and directions, and errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"
#include "xai/eval.h"
#include "xai/lrp.h"
#include "xai/model.h"
#include "xai/npy.h"
#include "xai/train.h"

/* ---- fixtures ------------------------------------------------------------------- */

static const char *fixture(const char *name)
{
    return xai_test_path(xai_test_path(xai_test_data_dir(), "eval/metrics"), name);
}

static xai_npy load_npy(const char *name)
{
    xai_npy a;
    memset(&a, 0, sizeof a);
    ck_assert_msg(xai_npy_load(fixture(name), &a) == XAI_OK, "%s: %s", name, xai_last_error());
    return a;
}

/* Expected value "name index" of expected.txt (fails the test when absent). */
static double expect(const char *name, int index)
{
    FILE *f = fopen(fixture("expected.txt"), "r");
    ck_assert_ptr_nonnull(f);
    char key[64];
    int i;
    double v;
    while (fscanf(f, "%63s %d %lf", key, &i, &v) == 3)
        if (strcmp(key, name) == 0 && i == index) {
            fclose(f);
            return v;
        }
    fclose(f);
    ck_abort_msg("expected.txt has no %s %d", name, index);
    return NAN;
}

#define CLOSE(a, b, tol) ck_assert_msg(fabs((a) - (b)) <= (tol), "%s = %.9g, expected %.9g", #a, (double)(a), (double)(b))

static xai_model *load_linear(void)
{
    return xai_test_load_model(xai_test_path(xai_test_data_dir(), "eval/linear.onnx"));
}

static double lin_w(int c, int j)
{
    return (double)(((7 * j + 5 * c + 3) % 13) - 6) / 8.0;
}

/* ---- hand values ---------------------------------------------------------------- */

START_TEST(test_localisation_hand)
{
    /* R = [3, -1, 2, 0], GT = {0, 3}. R+ = [3, 0, 2, 0]: mass 3/5, top-2 {0, 2} -> 1 of 2,
     * argmax 0 in GT, enrichment 0.6 / (2/4) = 1.2. |R| = [3, 1, 2, 0]: mass 3/6 = 0.5,
     * top-2 {0, 2} -> 0.5, pointing 1, enrichment 1.0. */
    const float r[4] = {3, -1, 2, 0}, m[4] = {1, 0, 0, 1};
    xai_localisation l;
    ck_assert_int_eq(xai_eval_localisation(r, m, 4, 0, &l), XAI_OK);
    CLOSE(l.mass_accuracy, 0.6, 1e-15);
    CLOSE(l.rank_accuracy, 0.5, 1e-15);
    CLOSE(l.pointing_game, 1.0, 0);
    CLOSE(l.enrichment, 1.2, 1e-15);
    ck_assert_int_eq(xai_eval_localisation(r, m, 4, 1, &l), XAI_OK);
    CLOSE(l.mass_accuracy, 0.5, 1e-15);
    CLOSE(l.rank_accuracy, 0.5, 1e-15);
    CLOSE(l.enrichment, 1.0, 1e-15);
    /* the largest value outside the truth: pointing 0; the strongest |R| is negative */
    const float r2[4] = {1, 5, -7, 2};
    ck_assert_int_eq(xai_eval_localisation(r2, m, 4, 0, &l), XAI_OK);
    CLOSE(l.pointing_game, 0.0, 0);
    CLOSE(l.mass_accuracy, 3.0 / 8.0, 1e-15);
    ck_assert_int_eq(xai_eval_localisation(r2, m, 4, 1, &l), XAI_OK);
    CLOSE(l.pointing_game, 0.0, 0); /* |-7| at index 2, not in GT */
    /* no positive relevance: mass undefined */
    const float neg[4] = {-1, -2, -3, -4};
    ck_assert_int_eq(xai_eval_localisation(neg, m, 4, 0, &l), XAI_OK);
    ck_assert(isnan(l.mass_accuracy));
    ck_assert(isnan(l.rank_accuracy));
    ck_assert(isnan(l.enrichment));
    CLOSE(l.pointing_game, 1.0, 0); /* the largest value, -1 at index 0, is in the truth */
}
END_TEST

START_TEST(test_complexity_hand)
{
    double g, h;
    const float flat[4] = {1, -1, 1, 1}; /* Gini 0, entropy ln 4 */
    ck_assert_int_eq(xai_eval_complexity(flat, 4, &g, &h), XAI_OK);
    CLOSE(g, 0.0, 1e-15);
    CLOSE(h, log(4.0), 1e-15);
    const float one[4] = {0, 0, 0, -4}; /* Gini (2*4-4-1)*4 / (4*4) = 0.75, entropy 0 */
    ck_assert_int_eq(xai_eval_complexity(one, 4, &g, &h), XAI_OK);
    CLOSE(g, 0.75, 1e-15);
    CLOSE(h, 0.0, 1e-15);
    const float two[2] = {1, -3}; /* Gini ((-1)*1 + 1*3) / (2*4) = 0.25; p = 1/4, 3/4 */
    ck_assert_int_eq(xai_eval_complexity(two, 2, &g, &h), XAI_OK);
    CLOSE(g, 0.25, 1e-15);
    CLOSE(h, 0.5623351446188083, 1e-15);
    const float zero[3] = {0, 0, 0};
    ck_assert_int_eq(xai_eval_complexity(zero, 3, &g, &h), XAI_OK);
    ck_assert(isnan(g) && isnan(h));
}
END_TEST

START_TEST(test_spearman_hand)
{
    const float a[4] = {1, 2, 3, 4}, up[4] = {10, 20, 30, 40}, down[4] = {4, 3, 2, 1}, sq[4] = {1, 4, 9, 16};
    double rho;
    ck_assert_int_eq(xai_spearman(a, up, 4, &rho), XAI_OK);
    CLOSE(rho, 1.0, 1e-15);
    ck_assert_int_eq(xai_spearman(a, down, 4, &rho), XAI_OK);
    CLOSE(rho, -1.0, 1e-15);
    ck_assert_int_eq(xai_spearman(a, sq, 4, &rho), XAI_OK); /* monotone, not linear */
    CLOSE(rho, 1.0, 1e-15);
    /* ties: ranks [1.5, 1.5, 3] vs [1, 2, 3] -> 1.5 / sqrt(1.5 * 2) = sqrt(3)/2 */
    const float t[3] = {1, 1, 2}, u[3] = {1, 2, 3};
    ck_assert_int_eq(xai_spearman(t, u, 3, &rho), XAI_OK);
    CLOSE(rho, sqrt(3.0) / 2.0, 1e-15);
    const float c[3] = {2, 2, 2};
    ck_assert_int_eq(xai_spearman(c, u, 3, &rho), XAI_OK);
    ck_assert(isnan(rho));
    const double pa[3] = {1, 2, 3}, pb[3] = {2, 4, 7}; /* Pearson: 5.5 / sqrt(2 * 12.6667) */
    CLOSE(xai_pearson(pa, pb, 3), 5.0 / sqrt(2.0 * 38.0 / 3.0), 1e-14);
}
END_TEST

START_TEST(test_road_hand)
{
    unsigned char rm[4] = {0, 1, 0, 0};
    float out[4];
    /* [1, ?, 3]: the mean of its neighbours, 2 */
    const float x3[3] = {1, 100, 3};
    const int64_t s3[1] = {3};
    ck_assert_int_eq(xai_road_impute(1, s3, 0, x3, rm, 0.0, 0, 0, out), XAI_OK);
    CLOSE(out[0], 1.0, 0);
    CLOSE(out[1], 2.0, 1e-6);
    CLOSE(out[2], 3.0, 0);
    /* [1, ?, ?, 7]: the 1-D Laplace equation interpolates linearly: 3, 5 */
    const float x4[4] = {1, 0, 0, 7};
    const int64_t s4[1] = {4};
    unsigned char rm2[4] = {0, 1, 1, 0};
    ck_assert_int_eq(xai_road_impute(1, s4, 0, x4, rm2, 0.0, 0, 0, out), XAI_OK);
    CLOSE(out[1], 3.0, 1e-5);
    CLOSE(out[2], 5.0, 1e-5);
    /* 3 x 3, centre removed: mean of the 4 axis neighbours (2 + 4 + 6 + 8) / 4 = 5; only
     * along axis 1 (bit 1): (4 + 6) / 2 = 5 as well; only along axis 0: (2 + 8) / 2 */
    const float g[9] = {1, 2, 3, 4, 50, 6, 7, 8, 9.5f};
    const int64_t sg[2] = {3, 3};
    unsigned char rc[9] = {0, 0, 0, 0, 1, 0, 0, 0, 0};
    float o9[9];
    ck_assert_int_eq(xai_road_impute(2, sg, 0, g, rc, 0.0, 0, 0, o9), XAI_OK);
    CLOSE(o9[4], 5.0, 1e-5);
    ck_assert_int_eq(xai_road_impute(2, sg, 1u, g, rc, 0.0, 0, 0, o9), XAI_OK);
    CLOSE(o9[4], 5.0, 1e-5);
    /* a whole row removed with neighbours only along axis 1: no kept neighbour, so the kept
     * mean (1+2+3+7+8+9.5)/6 */
    unsigned char row[9] = {0, 0, 0, 1, 1, 1, 0, 0, 0};
    ck_assert_int_eq(xai_road_impute(2, sg, 2u, g, row, 0.0, 0, 0, o9), XAI_OK);
    for (int i = 3; i < 6; i++)
        CLOSE(o9[i], 30.5 / 6.0, 1e-5);
    /* everything removed: nothing kept, zeros */
    unsigned char all[3] = {1, 1, 1};
    ck_assert_int_eq(xai_road_impute(1, s3, 0, x3, all, 0.0, 0, 0, out), XAI_OK);
    CLOSE(out[0], 0.0, 0);
    /* noise changes imputed values only, reproducibly */
    float n1[9], n2[9];
    ck_assert_int_eq(xai_road_impute(2, sg, 0, g, rc, 0.1, 4, 2, n1), XAI_OK);
    ck_assert_int_eq(xai_road_impute(2, sg, 0, g, rc, 0.1, 4, 2, n2), XAI_OK);
    ck_assert(memcmp(n1, n2, sizeof n1) == 0);
    ck_assert(n1[4] != 5.0f);
    for (int i = 0; i < 9; i++)
        if (i != 4)
            CLOSE(n1[i], g[i], 0);
}
END_TEST

/* ---- against the NumPy reference ------------------------------------------------- */

START_TEST(test_arrays_vs_numpy)
{
    xai_npy rel = load_npy("rel.npy"), mask = load_npy("mask.npy"), other = load_npy("other.npy");
    char name[64];
    for (int s = 0; s < 5; s++) {
        const float *r = rel.data + s * 24, *m = mask.data + s * 24;
        for (int a = 0; a < 2; a++) {
            xai_localisation l;
            ck_assert_int_eq(xai_eval_localisation(r, m, 24, a, &l), XAI_OK);
            snprintf(name, sizeof name, "loc_%s_%d", a ? "abs" : "pos", s);
            CLOSE(l.mass_accuracy, expect(name, 0), 1e-12);
            CLOSE(l.rank_accuracy, expect(name, 1), 1e-12);
            CLOSE(l.pointing_game, expect(name, 2), 0);
            CLOSE(l.enrichment, expect(name, 3), 1e-12);
        }
        double g, h, rho;
        ck_assert_int_eq(xai_eval_complexity(r, 24, &g, &h), XAI_OK);
        snprintf(name, sizeof name, "complexity_%d", s);
        CLOSE(g, expect(name, 0), 1e-12);
        CLOSE(h, expect(name, 1), 1e-12);
        ck_assert_int_eq(xai_spearman(r, other.data + s * 24, 24, &rho), XAI_OK);
        snprintf(name, sizeof name, "spearman_%d", s);
        CLOSE(rho, expect(name, 0), 1e-12);
    }
    xai_npy_free(&rel);
    xai_npy_free(&mask);
    xai_npy_free(&other);
}
END_TEST

START_TEST(test_road_vs_numpy)
{
    xai_npy x = load_npy("road_x.npy"), rm = load_npy("road_removed.npy");
    const int64_t shape[3] = {2, 3, 4};
    unsigned char removed[24];
    float out[24];
    for (int i = 0; i < 24; i++)
        removed[i] = rm.data[i] != 0;
    ck_assert_int_eq(xai_road_impute(3, shape, 0, x.data, removed, 0.0, 0, 0, out), XAI_OK);
    for (int i = 0; i < 24; i++)
        CLOSE(out[i], expect("road_all", i), 2e-6);
    ck_assert_int_eq(xai_road_impute(3, shape, 4u, x.data, removed, 0.0, 0, 0, out), XAI_OK);
    for (int i = 0; i < 24; i++)
        CLOSE(out[i], expect("road_time", i), 2e-6);
    ck_assert_int_eq(xai_road_impute(3, shape, 0, x.data, removed, 0.5, 9, 3, out), XAI_OK);
    for (int i = 0; i < 24; i++)
        CLOSE(out[i], expect("road_noise", i), 2e-6);
    xai_npy_free(&x);
    xai_npy_free(&rm);
}
END_TEST

static const int lin_cls[4] = {0, 1, 1, 0};

START_TEST(test_model_metrics_vs_numpy)
{
    xai_model *m = load_linear();
    xai_npy x = load_npy("lin_x.npy"), rel = load_npy("lin_rel.npy");
    char name[64];
    /* ROAD MoRF: patches of 2 along the last axis, 5 steps, no noise */
    xai_perturb_config pc;
    xai_perturb_config_init(&pc);
    ck_assert_int_eq(xai_perturb_patch_parse("2", &pc), XAI_OK);
    pc.steps = 5;
    pc.replace = XAI_REPLACE_ROAD;
    pc.road_noise = 0;
    pc.target = lin_cls;
    xai_perturb_result pr;
    ck_assert_int_eq(xai_perturb_evaluate(m, &pc, 4, x.data, rel.data, &pr), XAI_OK);
    for (int s = 0; s < 4; s++) {
        snprintf(name, sizeof name, "road_aopc_%d", s);
        CLOSE(pr.aopc_sample[s], expect(name, 0), 1e-5);
    }
    xai_perturb_result_free(&pr);

    xai_eval_config c;
    xai_eval_config_init(&c);
    ck_assert_int_eq(xai_perturb_patch_parse("2", &c.perturb), XAI_OK);
    c.fc_runs = 16;
    c.fc_fraction = 0.25;
    c.infid_runs = 12;
    c.infid_sigma = 0.2;
    c.sens_runs = 6;
    c.sens_radius = 0.05;
    c.seed = 5;
    c.perturb.seed = 5;
    c.perturb.batch = 5; /* not a divisor of the runs: results must not depend on it */
    double fc[4], inf[4], smax[4], savg[4];
    ck_assert_int_eq(xai_eval_faithfulness_correlation(m, &c, 4, x.data, rel.data, lin_cls, fc), XAI_OK);
    ck_assert_int_eq(xai_eval_infidelity(m, &c, 4, x.data, rel.data, lin_cls, inf), XAI_OK);
    xai_explain_config e;
    xai_explain_config_init(&e);
    e.method = XAI_METHOD_GRADIENT_X_INPUT;
    e.init = XAI_INIT_ONEHOT;
    float gxi[4 * 24];
    ck_assert_int_eq(xai_explain_targets(m, &e, 4, x.data, lin_cls, gxi), XAI_OK);
    ck_assert_int_eq(xai_eval_sensitivity(m, &c, &e, 4, x.data, gxi, lin_cls, smax, savg), XAI_OK);
    for (int s = 0; s < 4; s++) {
        snprintf(name, sizeof name, "faithcorr_%d", s);
        CLOSE(fc[s], expect(name, 0), 1e-5);
        snprintf(name, sizeof name, "infid_%d", s);
        CLOSE(inf[s], expect(name, 0), 1e-5 * (1 + expect(name, 0)));
        snprintf(name, sizeof name, "sens_%d", s);
        CLOSE(smax[s], expect(name, 0), 1e-5);
        CLOSE(savg[s], expect(name, 1), 1e-5);
    }
    xai_npy_free(&x);
    xai_npy_free(&rel);
    xai_model_free(m);
}
END_TEST

/* ---- invariants on the linear model ------------------------------------------------ */

START_TEST(test_linear_invariants)
{
    xai_model *m = load_linear();
    xai_npy x = load_npy("lin_x.npy");
    float exact[4 * 24], w3[4 * 24], grad[4 * 24];
    for (int s = 0; s < 4; s++)
        for (int j = 0; j < 24; j++) {
            exact[s * 24 + j] = (float)(lin_w(lin_cls[s], j) * x.data[s * 24 + j]);
            w3[s * 24 + j] = (float)(3.0 * lin_w(lin_cls[s], j));
        }
    xai_eval_config c;
    xai_eval_config_init(&c);
    c.fc_runs = 20;
    double v[4], v2[4];
    /* removing S to 0 lowers f by exactly sum_S w_j x_j: correlation 1 */
    ck_assert_int_eq(xai_eval_faithfulness_correlation(m, &c, 4, x.data, exact, lin_cls, v), XAI_OK);
    for (int s = 0; s < 4; s++)
        CLOSE(v[s], 1.0, 1e-6);
    /* f(x) - f(x - I) = w . I: the gradient (at any scale) has infidelity 0 */
    ck_assert_int_eq(xai_eval_infidelity(m, &c, 4, x.data, w3, lin_cls, v), XAI_OK);
    for (int s = 0; s < 4; s++)
        CLOSE(v[s], 0.0, 1e-9);
    /* ... while the gradient x input map does not explain random perturbations */
    ck_assert_int_eq(xai_eval_infidelity(m, &c, 4, x.data, exact, lin_cls, v), XAI_OK);
    for (int s = 0; s < 4; s++)
        ck_assert_double_gt(v[s], 1e-4);
    /* the gradient of a linear model does not move: sensitivity 0 */
    xai_explain_config e;
    xai_explain_config_init(&e);
    e.method = XAI_METHOD_GRADIENT;
    e.init = XAI_INIT_ONEHOT;
    ck_assert_int_eq(xai_explain_targets(m, &e, 4, x.data, lin_cls, grad), XAI_OK);
    for (int s = 0; s < 4; s++)
        for (int j = 0; j < 24; j++)
            CLOSE(grad[s * 24 + j], lin_w(lin_cls[s], j), 1e-7);
    ck_assert_int_eq(xai_eval_sensitivity(m, &c, &e, 4, x.data, grad, lin_cls, v, v2), XAI_OK);
    for (int s = 0; s < 4; s++) {
        CLOSE(v[s], 0.0, 1e-7);
        CLOSE(v2[s], 0.0, 1e-7);
    }
    xai_npy_free(&x);
    xai_model_free(m);
}
END_TEST

/* ---- MPRT -------------------------------------------------------------------------- */

/* MPRT of @p m on n samples; checks that the correlation falls and returns the result. */
static void mprt_falls(xai_model *m, const float *x, int64_t n, const char *what, xai_mprt_result *r)
{
    xai_eval_config c;
    xai_eval_config_init(&c);
    c.seed = 11;
    xai_explain_config e;
    xai_explain_config_init(&e);
    e.composite = "epsilon-plus-flat";
    int *t = malloc(sizeof(int) * (size_t)n);
    int64_t nout = xai_model_output_numel(m);
    for (int64_t s = 0; s < n; s++)
        t[s] = (int)(s % nout);
    ck_assert_msg(xai_eval_mprt(m, &c, &e, n, x, t, r) == XAI_OK, "%s: %s", what, xai_last_error());
    fprintf(stderr, "MPRT %s:", what);
    for (int l = 0; l < r->nlayers; l++)
        fprintf(stderr, " %s %.3f", r->layer[l], r->mean[l]);
    fprintf(stderr, "\n");
    int L = r->nlayers;
    ck_assert_int_ge(L, 2);
    /* the first stage randomises the output layer: the map changes already */
    ck_assert_double_lt(r->mean[0], 0.999);
    /* fully randomised: far below the first stage and well below the original (1) */
    ck_assert_double_lt(r->mean[L - 1], r->mean[0]);
    ck_assert_double_lt(r->mean[L - 1], 0.6);
    free(t);
}

START_TEST(test_mprt_bundled_models)
{
    const char *src = getenv("XAI_SOURCE_ROOT");
    if (!src) {
        fprintf(stderr, "SKIP: XAI_SOURCE_ROOT not set\n");
        xai_test_mark_skip();
        return;
    }
    static const char *const models[] = {"datasets/eeg/mi-shallow.onnx", "datasets/example/model.onnx",
                                         "datasets/fmri/model-cnn3d.onnx", "datasets/gait/model-subject.onnx",
                                         "datasets/speech/model-digits.onnx", "datasets/speech/model-gender.onnx"};
    for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
        xai_model *m = xai_test_load_model(xai_test_path(src, models[i]));
        int64_t nin = xai_model_input_numel(m), n = 4;
        float *x = malloc(sizeof(float) * (size_t)(n * nin));
        uint64_t st = 77 + i;
        for (int64_t k = 0; k < n * nin; k++) { /* smooth-ish random inputs */
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            x[k] = (float)((double)(st >> 11) * 0x1.0p-53 - 0.5) + (k > 0 ? 0.7f * x[k - 1] : 0.0f);
        }
        xai_mprt_result r;
        mprt_falls(m, x, n, models[i], &r);
        xai_mprt_result_free(&r);
        free(x);
        xai_model_free(m);
    }
}
END_TEST

START_TEST(test_mprt_batchnorm)
{
    /* a Conv-BN-ReLU model trained for a few epochs so that BN statistics are far from the
     * defaults; the BN must be randomised with its conv (named "conv+bn") and the maps of
     * the folded model must change when it is */
    const int64_t shape[2] = {2, 32};
    xai_model *m = NULL;
    ck_assert_int_eq(xai_model_from_spec("conv1d(4,k=5,p=2) bn relu conv1d(4,k=3,p=1) bn relu gap flatten dense(2)",
                                         2, shape, 3, &m), XAI_OK);
    enum { N = 64 };
    float *x = malloc(sizeof(float) * N * 64);
    int y[N];
    uint64_t st = 5;
    for (int s = 0; s < N; s++) {
        y[s] = s % 2;
        for (int k = 0; k < 64; k++) {
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            double u = (double)(st >> 11) * 0x1.0p-53;
            x[s * 64 + k] = (float)(3.0 + u + (y[s] && k >= 10 && k < 16 ? 2.0 : 0.0));
        }
    }
    xai_train_config tc;
    xai_train_config_init(&tc);
    tc.epochs = 5;
    tc.val_split = 0;
    tc.lr = 0.01f;
    ck_assert_int_eq(xai_train(m, &tc, N, x, y, NULL), XAI_OK);
    xai_mprt_result r;
    mprt_falls(m, x, 8, "conv-bn model", &r);
    ck_assert_int_eq(r.nlayers, 3);
    ck_assert_ptr_nonnull(strchr(r.layer[1], '+'));
    ck_assert_ptr_nonnull(strchr(r.layer[2], '+'));
    xai_mprt_result_free(&r);
    free(x);
    xai_model_free(m);
}
END_TEST

START_TEST(test_mprt_identity_copy)
{
    /* the original map comes from the copy: explaining the copy equals the model */
    xai_model *m = load_linear();
    xai_npy x = load_npy("lin_x.npy");
    xai_eval_config c;
    xai_eval_config_init(&c);
    xai_explain_config e;
    xai_explain_config_init(&e);
    e.method = XAI_METHOD_GRADIENT;
    xai_mprt_result r;
    ck_assert_int_eq(xai_eval_mprt(m, &c, &e, 4, x.data, lin_cls, &r), XAI_OK);
    ck_assert_int_eq(r.nlayers, 1);
    ck_assert_int_eq(r.n, 4);
    /* gradient of a random linear layer: |w'| is unrelated to |w| */
    ck_assert_double_lt(fabs(r.mean[0]), 0.6);
    xai_mprt_result_free(&r);
    /* the model itself is untouched */
    float g[4 * 24];
    ck_assert_int_eq(xai_explain_targets(m, &e, 4, x.data, lin_cls, g), XAI_OK);
    for (int s = 0; s < 4; s++)
        for (int j = 0; j < 24; j++)
            CLOSE(g[s * 24 + j], lin_w(lin_cls[s], j), 1e-7);
    xai_npy_free(&x);
    xai_model_free(m);
}
END_TEST

/* ---- driver, names, errors ---------------------------------------------------------- */

START_TEST(test_driver)
{
    xai_model *m = load_linear();
    xai_npy x = load_npy("lin_x.npy");
    float mask[4 * 24];
    for (int i = 0; i < 4 * 24; i++)
        mask[i] = (i % 24) < 6;
    xai_eval_config c;
    xai_eval_config_init(&c);
    c.perturb.steps = 8;
    c.fc_runs = 8;
    c.infid_runs = 8;
    c.sens_runs = 3;
    xai_explain_config e;
    xai_explain_config_init(&e);
    e.composite = "epsilon";
    uint32_t all;
    ck_assert_int_eq(xai_metric_parse_list("all", &all), XAI_OK);
    xai_eval_scores sc;
    ck_assert_int_eq(xai_eval_metrics(m, &c, &e, all, 4, x.data, NULL, NULL, NULL, &sc), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "mask"));
    ck_assert_int_eq(xai_eval_metrics(m, &c, &e, all, 4, x.data, NULL, mask, lin_cls, &sc), XAI_OK);
    for (int k = 0; k < XAI_METRIC_COUNT; k++) {
        ck_assert_int_eq(sc.score[k].computed, 1);
        ck_assert_msg(isfinite(sc.score[k].mean), "%s", xai_metric_name(k));
        ck_assert_int_eq(sc.score[k].n_finite, 4);
        ck_assert(sc.score[k].ci_low <= sc.score[k].mean && sc.score[k].mean <= sc.score[k].ci_high);
    }
    /* the driver agrees with the family functions */
    float rel[4 * 24];
    ck_assert_int_eq(xai_explain_targets(m, &e, 4, x.data, lin_cls, rel), XAI_OK);
    double g;
    ck_assert_int_eq(xai_eval_complexity(rel + 24, 24, &g, NULL), XAI_OK);
    CLOSE(sc.score[XAI_METRIC_SPARSENESS].sample[1], g, 0);
    ck_assert_int_eq(sc.aopc[0].steps, 8);
    ck_assert_int_eq(sc.mprt.nlayers, 1);
    xai_eval_scores_free(&sc);
    /* a part of a family: only the metrics asked for exist */
    uint32_t some = (1u << XAI_METRIC_SPARSENESS) | (1u << XAI_METRIC_RANK_ACCURACY) |
                    (1u << XAI_METRIC_AVG_SENSITIVITY);
    ck_assert_int_eq(xai_eval_metrics(m, &c, &e, some, 4, x.data, rel, mask, lin_cls, &sc), XAI_OK);
    for (int k = 0; k < XAI_METRIC_COUNT; k++)
        ck_assert_int_eq(sc.score[k].computed, (int)((some >> k) & 1u));
    CLOSE(sc.score[XAI_METRIC_SPARSENESS].sample[1], g, 0);
    ck_assert(isfinite(sc.score[XAI_METRIC_AVG_SENSITIVITY].mean));
    xai_eval_scores_free(&sc);
    xai_npy_free(&x);
    xai_model_free(m);
}
END_TEST

START_TEST(test_names_and_errors)
{
    uint32_t set;
    ck_assert_int_eq(xai_metric_parse_list("localisation,mprt", &set), XAI_OK);
    ck_assert_uint_eq(set, (1u << XAI_METRIC_MASS_ACCURACY) | (1u << XAI_METRIC_RANK_ACCURACY) |
                               (1u << XAI_METRIC_POINTING_GAME) | (1u << XAI_METRIC_ENRICHMENT) |
                               (1u << XAI_METRIC_MPRT));
    ck_assert_int_eq(xai_metric_parse_list("road-morf,infidelity", &set), XAI_OK);
    ck_assert_uint_eq(set, (1u << XAI_METRIC_ROAD_MORF) | (1u << XAI_METRIC_INFIDELITY));
    ck_assert_int_eq(xai_metric_parse_list("roads", &set), XAI_EINVAL);
    ck_assert_int_eq(xai_metric_parse_list("mprt,", &set), XAI_EINVAL);
    ck_assert_int_eq(xai_metric_parse_list("", &set), XAI_EINVAL);
    ck_assert_int_eq(xai_metric_direction(XAI_METRIC_INFIDELITY), -1);
    ck_assert_int_eq(xai_metric_direction(XAI_METRIC_MASS_ACCURACY), 1);
    ck_assert_int_eq(xai_metric_direction(XAI_METRIC_COUNT), 0);
    ck_assert_ptr_null(xai_metric_name(XAI_METRIC_COUNT));
    ck_assert_str_eq(xai_metric_family(XAI_METRIC_MPRT), "randomisation");
    xai_replace_mode rm;
    ck_assert_int_eq(xai_replace_parse("road", &rm), XAI_OK);
    ck_assert_int_eq(rm, XAI_REPLACE_ROAD);

    const float r[3] = {1, 2, 3}, nanr[3] = {1, NAN, 3}, empty[3] = {0, 0, 0}, full[3] = {1, 1, 1};
    xai_localisation l;
    ck_assert_int_eq(xai_eval_localisation(r, empty, 3, 0, &l), XAI_EINVAL);
    ck_assert_int_eq(xai_eval_localisation(r, full, 3, 0, &l), XAI_EINVAL);
    ck_assert_int_eq(xai_eval_localisation(nanr, full, 3, 0, &l), XAI_ENUMERIC);
    ck_assert_int_eq(xai_eval_complexity(nanr, 3, NULL, NULL), XAI_ENUMERIC);
    ck_assert_int_eq(xai_eval_complexity(r, 0, NULL, NULL), XAI_EINVAL);
    double rho;
    ck_assert_int_eq(xai_spearman(r, nanr, 3, &rho), XAI_ENUMERIC);
    ck_assert_int_eq(xai_spearman(r, r, 1, &rho), XAI_EINVAL);
    const int64_t s3[1] = {3};
    unsigned char rm3[3] = {0, 1, 0};
    float o[3];
    ck_assert_int_eq(xai_road_impute(1, s3, 2u, r, rm3, 0, 0, 0, o), XAI_EINVAL); /* axis 1 of 1 */
    ck_assert_int_eq(xai_road_impute(1, s3, 0, r, rm3, -1, 0, 0, o), XAI_EINVAL);
    ck_assert_int_eq(xai_road_impute(0, s3, 0, r, rm3, 0, 0, 0, o), XAI_EINVAL);

    xai_model *m = load_linear();
    xai_npy x = load_npy("lin_x.npy");
    xai_eval_config c;
    xai_eval_config_init(&c);
    double v[4];
    const int bad[4] = {0, 2, 0, 0};
    ck_assert_int_eq(xai_eval_infidelity(m, &c, 4, x.data, x.data, bad, v), XAI_EINVAL);
    c.fc_runs = 1;
    ck_assert_int_eq(xai_eval_faithfulness_correlation(m, &c, 4, x.data, x.data, lin_cls, v), XAI_EINVAL);
    xai_eval_config_init(&c);
    c.perturb.replace = XAI_REPLACE_ROAD;
    c.perturb.road_noise = NAN;
    ck_assert_int_eq(xai_eval_faithfulness_correlation(m, &c, 4, x.data, x.data, lin_cls, v), XAI_EINVAL);
    xai_npy_free(&x);
    xai_model_free(m);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("eval-metrics");
    TCase *tc = tcase_create("arrays");
    tcase_add_test(tc, test_localisation_hand);
    tcase_add_test(tc, test_complexity_hand);
    tcase_add_test(tc, test_spearman_hand);
    tcase_add_test(tc, test_road_hand);
    tcase_add_test(tc, test_arrays_vs_numpy);
    tcase_add_test(tc, test_road_vs_numpy);
    tcase_add_test(tc, test_names_and_errors);
    suite_add_tcase(s, tc);
    TCase *mc = tcase_create("model");
    tcase_set_timeout(mc, 300);
    tcase_add_test(mc, test_model_metrics_vs_numpy);
    tcase_add_test(mc, test_linear_invariants);
    tcase_add_test(mc, test_mprt_identity_copy);
    tcase_add_test(mc, test_driver);
    tcase_add_test(mc, test_mprt_batchnorm);
    tcase_add_test(mc, test_mprt_bundled_models);
    suite_add_tcase(s, mc);
    return s;
}
