/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-eval.c - region perturbation and AOPC (Samek et al. 2017):
 *  - patch grids in 1-D, 2-D and 3-D, patch spec parsing, MoRF/LeRF/random orders;
 *  - replacement by baseline, seeded uniform noise and patch mean, cumulative steps;
 *  - analytic AOPC on a linear model (tests/data/eval/linear.onnx: f = w.x + b): with
 *    baseline 0 and patches of 1, f(x^0) - f(x^k) is the sum of the k removed w_j x_j, so the
 *    oracle MoRF curve is the running sum of the sorted contributions and no order beats it;
 *  - determinism for a seed and independence of the batch size; Student's t interval;
 *  - errors; and on ../shared/reference/cnn/eeg_cnn1d (skipped without it) LRP ordering
 *    beats a random ordering; the xai-evaluate program end to end.
 */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-common.h"
#include "xai/eval-write.h"
#include "xai/eval.h"
#include "xai/lrp.h"
#include "xai/model.h"
#include "xai/npy.h"
#include "xai/tsv.h"

/* ---- helpers ---------------------------------------------------------------------- */

static uint64_t rng_state;

static double rnd(void) /* uniform [0, 1), xorshift64* */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

static double gauss(void)
{
    double u = rnd(), v = rnd();
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* The weights of linear.onnx, recomputed from the generator's formula. */
static double lin_w(int c, int j)
{
    return (double)(((7 * j + 5 * c + 3) % 13) - 6) / 8.0;
}
static const double lin_b[2] = {0.5, -0.25};

static xai_model *load_linear(void)
{
    xai_model *m = NULL;
    xai_status st = xai_model_load_onnx(xai_test_path(xai_test_data_dir(), "eval/linear.onnx"), NULL, &m);
    ck_assert_msg(st == XAI_OK, "linear.onnx: %s", xai_last_error());
    ck_assert_int_eq(xai_model_input_numel(m), 24);
    return m;
}

static int cmp_desc_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* ---- patches and parsing --------------------------------------------------------- */

START_TEST(test_patch_grid)
{
    xai_perturb_config c;
    xai_perturb_config_init(&c);
    int64_t np, of[64];

    /* 1-D: [1, 10] with windows of 4 -> sizes 4, 4, 2 */
    const int64_t s1[2] = {1, 10};
    ck_assert_int_eq(xai_perturb_patch_parse("4", &c), XAI_OK);
    ck_assert_int_eq(xai_perturb_patches(2, s1, &c, of, &np), XAI_OK);
    ck_assert_int_eq(np, 3);
    const int64_t want1[10] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2};
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(of[i], want1[i]);

    /* 2-D: [1, 3, 4] channel x time with 2x3 tiles -> 2 x 2 grid, edge tiles cut */
    const int64_t s2[3] = {1, 3, 4};
    ck_assert_int_eq(xai_perturb_patch_parse("2x3", &c), XAI_OK);
    ck_assert_int_eq(c.patch_ndim, 2);
    ck_assert_int_eq(xai_perturb_patches(3, s2, &c, of, &np), XAI_OK);
    ck_assert_int_eq(np, 4);
    const int64_t want2[12] = {0, 0, 0, 1, 0, 0, 0, 1, 2, 2, 2, 3};
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(of[i], want2[i]);

    /* 3-D voxels: [1, 4, 4, 4] with 2x2x2 blocks -> 8 blocks of 8 */
    const int64_t s3[4] = {1, 4, 4, 4};
    ck_assert_int_eq(xai_perturb_patch_parse("2x2x2", &c), XAI_OK);
    ck_assert_int_eq(xai_perturb_patches(4, s3, &c, of, &np), XAI_OK);
    ck_assert_int_eq(np, 8);
    int count[8] = {0};
    for (int i = 0; i < 64; i++)
        count[of[i]]++;
    for (int p = 0; p < 8; p++)
        ck_assert_int_eq(count[p], 8);
    /* voxel (z=3, y=0, x=2) lies in block (1, 0, 1) = 5 */
    ck_assert_int_eq(of[3 * 16 + 0 * 4 + 2], 5);

    /* patch_ndim 0: single elements */
    xai_perturb_config_init(&c);
    ck_assert_int_eq(xai_perturb_patches(4, s3, &c, of, &np), XAI_OK);
    ck_assert_int_eq(np, 64);
    for (int i = 0; i < 64; i++)
        ck_assert_int_eq(of[i], i);

    /* errors: patch larger than its axis, more patch axes than the shape */
    ck_assert_int_eq(xai_perturb_patch_parse("5x1", &c), XAI_OK);
    ck_assert_int_eq(xai_perturb_patches(3, s2, &c, NULL, &np), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "axis 1"));
    ck_assert_int_eq(xai_perturb_patch_parse("1x1x1x1", &c), XAI_OK);
    ck_assert_int_eq(xai_perturb_patches(3, s2, &c, NULL, &np), XAI_EINVAL);
    const int64_t bad[2] = {1, 0};
    xai_perturb_config_init(&c);
    ck_assert_int_eq(xai_perturb_patches(2, bad, &c, NULL, &np), XAI_EINVAL);
}
END_TEST

START_TEST(test_patch_parse)
{
    xai_perturb_config c;
    xai_perturb_config_init(&c);
    ck_assert_int_eq(xai_perturb_patch_parse("1x8", &c), XAI_OK);
    ck_assert_int_eq(c.patch_ndim, 2);
    ck_assert_int_eq(c.patch[0], 1);
    ck_assert_int_eq(c.patch[1], 8);
    ck_assert_int_eq(xai_perturb_patch_parse("4X4x16", &c), XAI_OK);
    ck_assert_int_eq(c.patch_ndim, 3);
    ck_assert_int_eq(c.patch[2], 16);
    const char *bad[] = {"", "0", "1x", "x1", "1x0", "abc", "1,8", "-1", "1x2x3x4x5x6x7x8x9",
                         "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        xai_perturb_config_init(&c);
        ck_assert_msg(xai_perturb_patch_parse(bad[i], &c) == XAI_EINVAL, "'%s' accepted", bad[i]);
        ck_assert_int_eq(c.patch_ndim, 0); /* untouched on failure */
        ck_assert_str_ne(xai_last_error(), "");
    }
    xai_perturb_order o;
    xai_replace_mode r;
    ck_assert_int_eq(xai_perturb_order_parse("lerf", &o), XAI_OK);
    ck_assert_int_eq(o, XAI_ORDER_LERF);
    ck_assert_int_eq(xai_perturb_order_parse("MoRF", &o), XAI_EINVAL);
    ck_assert_int_eq(xai_replace_parse("mean", &r), XAI_OK);
    ck_assert_int_eq(r, XAI_REPLACE_MEAN);
    ck_assert_int_eq(xai_replace_parse("zero", &r), XAI_EINVAL);
    ck_assert_str_eq(xai_perturb_order_name(XAI_ORDER_RANDOM), "random");
    ck_assert_str_eq(xai_replace_name(XAI_REPLACE_UNIFORM), "uniform");
    ck_assert_ptr_null(xai_perturb_order_name(XAI_ORDER_COUNT));
}
END_TEST

/* ---- orders ---------------------------------------------------------------------- */

START_TEST(test_order)
{
    /* [1, 12] in windows of 3: patch sums 1+2+3, -5, 0 (tie with the next), 0 */
    const int64_t sh[2] = {1, 12};
    const float rel[12] = {1, 2, 3, -1, -2, -2, 4, -4, 0, 0, 0, 0};
    xai_perturb_config c;
    xai_perturb_config_init(&c);
    ck_assert_int_eq(xai_perturb_patch_parse("3", &c), XAI_OK);
    int64_t ord[4];
    ck_assert_int_eq(xai_perturb_order_patches(&c, 2, sh, rel, 0, ord), XAI_OK);
    const int64_t morf[4] = {0, 2, 3, 1};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(ord[i], morf[i]);
    c.order = XAI_ORDER_LERF;
    ck_assert_int_eq(xai_perturb_order_patches(&c, 2, sh, rel, 0, ord), XAI_OK);
    const int64_t lerf[4] = {1, 2, 3, 0};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(ord[i], lerf[i]);

    /* random: a permutation, fixed by (seed, sample), ignoring the relevance */
    xai_perturb_config_init(&c);
    c.order = XAI_ORDER_RANDOM;
    const int64_t sh2[2] = {1, 50};
    int64_t a[50], b[50], d[50];
    ck_assert_int_eq(xai_perturb_order_patches(&c, 2, sh2, NULL, 3, a), XAI_OK);
    ck_assert_int_eq(xai_perturb_order_patches(&c, 2, sh2, NULL, 3, b), XAI_OK);
    int seen[50] = {0}, same = 1, ident = 1;
    for (int i = 0; i < 50; i++) {
        ck_assert(a[i] >= 0 && a[i] < 50);
        seen[a[i]]++;
        same &= a[i] == b[i];
        ident &= a[i] == i;
    }
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(seen[i], 1);
    ck_assert(same);
    ck_assert(!ident);
    ck_assert_int_eq(xai_perturb_order_patches(&c, 2, sh2, NULL, 4, d), XAI_OK);
    int diff_sample = 0;
    for (int i = 0; i < 50; i++)
        diff_sample += a[i] != d[i];
    ck_assert_int_gt(diff_sample, 10);
    c.seed = 12345;
    ck_assert_int_eq(xai_perturb_order_patches(&c, 2, sh2, NULL, 3, d), XAI_OK);
    int diff_seed = 0;
    for (int i = 0; i < 50; i++)
        diff_seed += a[i] != d[i];
    ck_assert_int_gt(diff_seed, 10);

    /* MoRF without relevance, and non-finite relevance */
    xai_perturb_config_init(&c);
    ck_assert_int_eq(xai_perturb_order_patches(&c, 2, sh, NULL, 0, ord), XAI_EINVAL);
    float nanrel[12];
    memcpy(nanrel, rel, sizeof nanrel);
    nanrel[7] = NAN;
    int64_t o12[12];
    ck_assert_int_eq(xai_perturb_order_patches(&c, 2, sh, nanrel, 2, o12), XAI_ENUMERIC);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "sample 2"));
}
END_TEST

/* ---- replacement ----------------------------------------------------------------- */

START_TEST(test_replace_modes)
{
    /* [1, 2, 6] channel x time, tiles 1x3 -> 4 patches; relevance makes the order 3, 0, 2, 1 */
    const int64_t sh[3] = {1, 2, 6};
    const float x[12] = {1, 2, 3, 10, 20, 30, -1, -2, -3, 5, 6, 7};
    const float rel[12] = {1, 1, 1, 0, 0, 0, 0.5f, 0.5f, 0, 2, 2, 2};
    xai_perturb_config c;
    xai_perturb_config_init(&c);
    ck_assert_int_eq(xai_perturb_patch_parse("1x3", &c), XAI_OK);
    float out[12];

    /* baseline: step 2 replaces patches 3 and 0 */
    c.baseline = -7.5f;
    ck_assert_int_eq(xai_perturb_input(&c, 3, sh, x, rel, 0, 2, out), XAI_OK);
    const float want_b[12] = {-7.5f, -7.5f, -7.5f, 10, 20, 30, -1, -2, -3, -7.5f, -7.5f, -7.5f};
    for (int i = 0; i < 12; i++)
        ck_assert_float_eq(out[i], want_b[i]);
    /* step 0 is the input, the last step replaces everything */
    ck_assert_int_eq(xai_perturb_input(&c, 3, sh, x, rel, 0, 0, out), XAI_OK);
    ck_assert_int_eq(memcmp(out, x, sizeof x), 0);
    ck_assert_int_eq(xai_perturb_input(&c, 3, sh, x, rel, 0, 4, out), XAI_OK);
    for (int i = 0; i < 12; i++)
        ck_assert_float_eq(out[i], -7.5f);
    ck_assert_int_eq(xai_perturb_input(&c, 3, sh, x, rel, 0, 5, out), XAI_EINVAL);

    /* two patches per step: step 1 = patches 3 and 0 */
    c.per_step = 2;
    ck_assert_int_eq(xai_perturb_input(&c, 3, sh, x, rel, 0, 1, out), XAI_OK);
    for (int i = 0; i < 12; i++)
        ck_assert_float_eq(out[i], want_b[i]);
    ck_assert_int_eq(xai_perturb_input(&c, 3, sh, x, rel, 0, 3, out), XAI_EINVAL);
    c.per_step = 1;

    /* local mean: each replaced patch becomes its own mean */
    c.replace = XAI_REPLACE_MEAN;
    ck_assert_int_eq(xai_perturb_input(&c, 3, sh, x, rel, 0, 3, out), XAI_OK);
    const float want_m[12] = {2, 2, 2, 10, 20, 30, -2, -2, -2, 6, 6, 6};
    for (int i = 0; i < 12; i++)
        ck_assert_float_eq_tol(out[i], want_m[i], 1e-6f);

    /* uniform noise: inside the sample's range [-3, 30], seeded, untouched patches kept */
    c.replace = XAI_REPLACE_UNIFORM;
    c.seed = 99;
    float u1[12], u2[12], u3[12];
    ck_assert_int_eq(xai_perturb_input(&c, 3, sh, x, rel, 0, 2, u1), XAI_OK);
    ck_assert_int_eq(xai_perturb_input(&c, 3, sh, x, rel, 0, 2, u2), XAI_OK);
    ck_assert_int_eq(memcmp(u1, u2, sizeof u1), 0);
    int changed = 0;
    for (int i = 0; i < 12; i++) {
        int replaced = i < 3 || i >= 9;
        if (!replaced) {
            ck_assert_float_eq(u1[i], x[i]);
        } else {
            ck_assert(u1[i] >= -3.0f && u1[i] <= 30.0f);
            changed += u1[i] != x[i];
        }
    }
    ck_assert_int_eq(changed, 6);
    /* the noise of an element does not depend on when it is replaced (LeRF replaces 1 first) */
    c.order = XAI_ORDER_LERF;
    ck_assert_int_eq(xai_perturb_input(&c, 3, sh, x, rel, 0, 4, u3), XAI_OK);
    for (int i = 0; i < 3; i++)
        ck_assert_float_eq(u3[i], u1[i]);
    c.order = XAI_ORDER_MORF;
    c.seed = 100;
    ck_assert_int_eq(xai_perturb_input(&c, 3, sh, x, rel, 0, 2, u3), XAI_OK);
    ck_assert(memcmp(u1, u3, sizeof u1) != 0);
    /* the noise spreads over the range (mean of many draws near the middle) */
    float big[4096], bx[4096];
    for (int i = 0; i < 4096; i++)
        bx[i] = i == 0 ? -1.0f : (i == 1 ? 3.0f : 0.0f);
    const int64_t shb[2] = {1, 4096};
    xai_perturb_config_init(&c);
    c.replace = XAI_REPLACE_UNIFORM;
    c.order = XAI_ORDER_RANDOM;
    ck_assert_int_eq(xai_perturb_input(&c, 2, shb, bx, NULL, 0, 4096, big), XAI_OK);
    double mean = 0, lo = 1e9, hi = -1e9;
    for (int i = 0; i < 4096; i++) {
        mean += big[i] / 4096.0;
        lo = fmin(lo, big[i]);
        hi = fmax(hi, big[i]);
    }
    ck_assert_double_eq_tol(mean, 1.0, 0.1);
    ck_assert(lo >= -1.0 && lo < -0.95 && hi <= 3.0 && hi > 2.95);
}
END_TEST

/* ---- the linear model ------------------------------------------------------------ */

START_TEST(test_linear_analytic)
{
    xai_model *m = load_linear();
    enum { N = 6, D = 24 };
    float x[N * D], rel[N * D];
    rng_state = 0x1234567ULL;
    for (int i = 0; i < N * D; i++)
        x[i] = (float)(2.0 * rnd() - 1.0);
    /* the explained class (argmax) and its oracle relevance w_j x_j */
    int cls[N];
    for (int s = 0; s < N; s++) {
        double f[2];
        for (int c = 0; c < 2; c++) {
            f[c] = lin_b[c];
            for (int j = 0; j < D; j++)
                f[c] += lin_w(c, j) * x[s * D + j];
        }
        cls[s] = f[1] > f[0];
        for (int j = 0; j < D; j++)
            rel[s * D + j] = (float)(lin_w(cls[s], j) * x[s * D + j]);
    }
    xai_perturb_config c;
    xai_perturb_config_init(&c);
    c.batch = 7; /* stacks that cut across samples */
    xai_perturb_result r;
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, N, x, rel, &r), XAI_OK);
    ck_assert_int_eq(r.n, N);
    ck_assert_int_eq(r.steps, D);
    ck_assert_int_eq(r.npatches, D);
    double per[N], curve[D + 1] = {0};
    for (int s = 0; s < N; s++) {
        ck_assert_int_eq(r.target[s], cls[s]);
        double cv[D];
        for (int j = 0; j < D; j++)
            cv[j] = rel[s * D + j];
        qsort(cv, D, sizeof *cv, cmp_desc_d);
        double drop = 0, acc = 0, f0 = r.f[s * (D + 1)];
        for (int k = 0; k <= D; k++) {
            if (k > 0)
                drop += cv[k - 1];
            /* f(x^k) = f(x^0) - (sum of the k largest contributions) */
            ck_assert_msg(fabs(r.f[s * (D + 1) + k] - (f0 - drop)) < 1e-4, "sample %d step %d: %g vs %g", s, k,
                          r.f[s * (D + 1) + k], f0 - drop);
            acc += drop;
            curve[k] += drop / N;
        }
        per[s] = acc / (D + 1);
        ck_assert_double_eq_tol(r.aopc_sample[s], per[s], 1e-4);
        /* all replaced: only the bias is left */
        ck_assert_double_eq_tol(r.f[s * (D + 1) + D], lin_b[cls[s]], 1e-5);
    }
    for (int k = 0; k <= D; k++) {
        ck_assert_double_eq_tol(r.curve[k], curve[k], 1e-4);
        ck_assert_double_eq_tol(r.fraction[k], (double)k / D, 1e-12);
    }
    double mu = 0, ss = 0;
    for (int s = 0; s < N; s++)
        mu += per[s] / N;
    for (int s = 0; s < N; s++)
        ss += (per[s] - mu) * (per[s] - mu);
    double half = 2.5706 * sqrt(ss / (N - 1)) / sqrt((double)N); /* t_{0.975, 5} */
    ck_assert_double_eq_tol(r.aopc, mu, 1e-4);
    ck_assert_double_eq_tol(r.ci_low, mu - half, 1e-4);
    ck_assert_double_eq_tol(r.ci_high, mu + half, 1e-4);
    xai_perturb_result_free(&r);
    xai_perturb_result_free(&r); /* zeroed: harmless */

    /* L = 5 steps of 2 patches: the curve is the same running sum at k * 2 */
    c.steps = 5;
    c.per_step = 2;
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, N, x, rel, &r), XAI_OK);
    ck_assert_int_eq(r.steps, 5);
    for (int k = 0; k <= 5; k++)
        ck_assert_double_eq_tol(r.curve[k], curve[2 * k], 1e-4);
    xai_perturb_result_free(&r);
    xai_model_free(m);
}
END_TEST

START_TEST(test_oracle_beats_random)
{
    /* The oracle MoRF order is optimal per sample: >= any random order, and the oracle LeRF
     * is <= any. Checked per sample and for the means, with several seeds. */
    xai_model *m = load_linear();
    enum { N = 16, D = 24 };
    float x[N * D], rel[N * D];
    rng_state = 0xfeedULL;
    for (int i = 0; i < N * D; i++)
        x[i] = (float)gauss();
    xai_perturb_config c;
    xai_perturb_config_init(&c);
    c.steps = 12;
    xai_perturb_result r0;
    c.order = XAI_ORDER_RANDOM; /* first run picks the classes */
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, N, x, NULL, &r0), XAI_OK);
    for (int s = 0; s < N; s++)
        for (int j = 0; j < D; j++)
            rel[s * D + j] = (float)(lin_w(r0.target[s], j) * x[s * D + j]);
    xai_perturb_result morf, lerf;
    c.order = XAI_ORDER_MORF;
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, N, x, rel, &morf), XAI_OK);
    c.order = XAI_ORDER_LERF;
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, N, x, rel, &lerf), XAI_OK);
    for (uint64_t seed = 0; seed < 4; seed++) {
        xai_perturb_result rr;
        c.order = XAI_ORDER_RANDOM;
        c.seed = seed;
        ck_assert_int_eq(xai_perturb_evaluate(m, &c, N, x, NULL, &rr), XAI_OK);
        for (int s = 0; s < N; s++) {
            ck_assert_double_ge(morf.aopc_sample[s] + 1e-5, rr.aopc_sample[s]);
            ck_assert_double_le(lerf.aopc_sample[s] - 1e-5, rr.aopc_sample[s]);
        }
        ck_assert_double_gt(morf.aopc, rr.aopc);
        ck_assert_double_lt(lerf.aopc, rr.aopc);
        xai_perturb_result_free(&rr);
    }
    /* with a 95% interval that separates them */
    ck_assert_double_gt(morf.ci_low, lerf.ci_high);
    xai_perturb_result_free(&r0);
    xai_perturb_result_free(&morf);
    xai_perturb_result_free(&lerf);
    xai_model_free(m);
}
END_TEST

START_TEST(test_linear_patches_mean)
{
    /* 2-D tiles (1x2x2 over [1, 2, 3, 4]) replaced by their mean: each replaced tile P changes
     * f by -sum_{j in P} w_j (x_j - mean_P x). */
    xai_model *m = load_linear();
    enum { N = 3, D = 24 };
    float x[N * D], rel[N * D];
    rng_state = 77;
    for (int i = 0; i < N * D; i++) {
        x[i] = (float)(3.0 * rnd());
        rel[i] = (float)(rnd() - 0.5);
    }
    xai_perturb_config c;
    xai_perturb_config_init(&c);
    ck_assert_int_eq(xai_perturb_patch_parse("1x2x2", &c), XAI_OK);
    c.replace = XAI_REPLACE_MEAN;
    int64_t of[D], np;
    const int64_t sh[4] = {1, 2, 3, 4};
    ck_assert_int_eq(xai_perturb_patches(4, sh, &c, of, &np), XAI_OK);
    ck_assert_int_eq(np, 2 * 2 * 2);
    xai_perturb_result r;
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, N, x, rel, &r), XAI_OK);
    ck_assert_int_eq(r.steps, 8);
    for (int s = 0; s < N; s++) {
        int64_t ord[8];
        ck_assert_int_eq(xai_perturb_order_patches(&c, 4, sh, rel + s * D, s, ord), XAI_OK);
        int t = r.target[s];
        double drop = 0;
        for (int k = 1; k <= 8; k++) {
            int64_t p = ord[k - 1];
            double mean = 0;
            int cnt = 0;
            for (int j = 0; j < D; j++)
                if (of[j] == p) {
                    mean += x[s * D + j];
                    cnt++;
                }
            mean /= cnt;
            for (int j = 0; j < D; j++)
                if (of[j] == p)
                    drop += lin_w(t, j) * (x[s * D + j] - mean);
            ck_assert_double_eq_tol(r.f[s * 9 + k], r.f[s * 9] - drop, 1e-4);
        }
    }
    xai_perturb_result_free(&r);
    xai_model_free(m);
}
END_TEST

START_TEST(test_determinism)
{
    /* random order + uniform noise: the same seed gives identical curves whatever the batch,
     * and a sample's result does not depend on the samples around it */
    xai_model *m = load_linear();
    enum { N = 9, D = 24 };
    float x[N * D];
    rng_state = 4242;
    for (int i = 0; i < N * D; i++)
        x[i] = (float)gauss();
    xai_perturb_config c;
    xai_perturb_config_init(&c);
    c.order = XAI_ORDER_RANDOM;
    c.replace = XAI_REPLACE_UNIFORM;
    c.seed = 2026;
    c.steps = 5; /* of the 6 tiles */
    ck_assert_int_eq(xai_perturb_patch_parse("2x1x2", &c), XAI_OK);
    xai_perturb_result a, b, d;
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, N, x, NULL, &a), XAI_OK);
    c.batch = 4;
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, N, x, NULL, &b), XAI_OK);
    ck_assert_int_eq(a.steps, b.steps);
    for (int i = 0; i < N * (a.steps + 1); i++)
        ck_assert_double_eq(a.f[i], b.f[i]);
    ck_assert_double_eq(a.aopc, b.aopc);
    c.seed = 2027;
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, N, x, NULL, &d), XAI_OK);
    int differ = 0;
    for (int i = 0; i < N * (a.steps + 1); i++)
        differ += a.f[i] != d.f[i];
    ck_assert_int_gt(differ, N * a.steps / 2);
    xai_perturb_result_free(&d);
    xai_perturb_result_free(&b);
    xai_perturb_result_free(&a);
    xai_model_free(m);
}
END_TEST

START_TEST(test_t_interval)
{
    ck_assert_double_eq_tol(xai_t975(1), 12.7062, 1e-4);
    ck_assert_double_eq_tol(xai_t975(10), 2.2281, 1e-4);
    ck_assert_double_eq_tol(xai_t975(30), 2.0423, 1e-4);
    ck_assert_double_eq_tol(xai_t975(31), 2.0395, 1e-4);
    ck_assert_double_eq_tol(xai_t975(40), 2.0211, 1e-4);
    ck_assert_double_eq_tol(xai_t975(100), 1.9840, 1e-4);
    ck_assert_double_eq_tol(xai_t975(1000), 1.9623, 1e-4);
    ck_assert(isnan(xai_t975(0)));
    const double v[5] = {1, 2, 3, 4, 5};
    double mu, sd, lo, hi;
    xai_mean_ci95(v, 5, &mu, &sd, &lo, &hi);
    ck_assert_double_eq_tol(mu, 3.0, 1e-12);
    ck_assert_double_eq_tol(sd, sqrt(2.5), 1e-12);
    ck_assert_double_eq_tol(hi - mu, 2.7764 * sqrt(2.5) / sqrt(5.0), 1e-4);
    ck_assert_double_eq_tol(mu - lo, hi - mu, 1e-12);
    xai_mean_ci95(v, 1, &mu, &sd, &lo, &hi);
    ck_assert_double_eq(mu, 1.0);
    ck_assert(isnan(sd) && isnan(lo) && isnan(hi));
}
END_TEST

START_TEST(test_errors)
{
    xai_model *m = load_linear();
    float x[48] = {0}, rel[48] = {0};
    xai_perturb_config c;
    xai_perturb_result r;
    xai_perturb_config_init(&c);
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, 2, x, NULL, &r), XAI_EINVAL); /* MoRF needs rel */
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "relevance"));
    ck_assert_ptr_null(r.f);
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, 0, x, rel, &r), XAI_EINVAL);
    ck_assert_int_eq(xai_perturb_evaluate(NULL, &c, 2, x, rel, &r), XAI_EINVAL);
    ck_assert_int_eq(xai_perturb_evaluate(m, NULL, 2, x, rel, &r), XAI_EINVAL);
    c.steps = 25; /* 24 patches */
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, 2, x, rel, &r), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "24 patches"));
    c.steps = 0;
    c.per_step = 0;
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, 2, x, rel, &r), XAI_EINVAL);
    c.per_step = 1;
    c.batch = 0;
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, 2, x, rel, &r), XAI_EINVAL);
    c.batch = 64;
    const int tgt[2] = {0, 2};
    c.target = tgt;
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, 2, x, rel, &r), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "sample 1"));
    c.target = NULL;
    c.replace = (xai_replace_mode)7;
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, 2, x, rel, &r), XAI_EINVAL);
    c.replace = XAI_REPLACE_BASELINE;
    c.baseline = NAN;
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, 2, x, rel, &r), XAI_EINVAL);
    c.baseline = 0;
    ck_assert_int_eq(xai_perturb_patch_parse("3x3", &c), XAI_OK); /* axes of 3 and 4: 1 x 2 tiles */
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, 2, x, rel, &r), XAI_OK);
    ck_assert_int_eq(r.npatches, 2 * 1 * 2);
    xai_perturb_result_free(&r);
    ck_assert_int_eq(xai_perturb_patch_parse("5x1", &c), XAI_OK); /* axis of 3 */
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, 2, x, rel, &r), XAI_EINVAL);
    xai_perturb_config_init(&c);
    rel[30] = INFINITY;
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, 2, x, rel, &r), XAI_ENUMERIC);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "sample 1"));
    rel[30] = 0;
    x[40] = NAN; /* NaN input -> NaN logit */
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, 2, x, rel, &r), XAI_ENUMERIC);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "not finite"));
    ck_assert_ptr_null(r.f);
    /* one sample: no interval */
    x[40] = 0;
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, 1, x, rel, &r), XAI_OK);
    ck_assert(isnan(r.ci_low) && isnan(r.ci_high));
    ck_assert_double_eq_tol(r.aopc, 0.0, 1e-12);
    xai_perturb_result_free(&r);
    xai_model_free(m);
}
END_TEST

/* ---- the xai-evaluate program ---------------------------------------------------- */

/* Run xai-evaluate with @p args (NULL-terminated), stdout+stderr into @p log; exit status. */
static int run_cli(const char *log, const char *const *args)
{
    const char *root = getenv("XAI_BUILD_ROOT");
    ck_assert_msg(root != NULL, "XAI_BUILD_ROOT is not set");
    char exe[4096];
    snprintf(exe, sizeof exe, "%s/apps/xai-evaluate", root);
    ck_assert_msg(access(exe, X_OK) == 0, "%s is missing (build it)", exe);
    const char *argv[40];
    int n = 0;
    argv[n++] = exe;
    for (; args[n - 1] && n < 39; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        FILE *f = freopen(log, "w", stdout);
        if (!f || dup2(fileno(stdout), 2) < 0)
            _exit(126);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int log_has(const char *log, const char *needle)
{
    size_t len = 0;
    char *t = xai_test_read_file(log, &len);
    if (!t)
        return 0;
    char *z = realloc(t, len + 1);
    ck_assert_ptr_nonnull(z);
    z[len] = '\0';
    int hit = strstr(z, needle) != NULL;
    free(z);
    return hit;
}

START_TEST(test_cli)
{
    char *dir = xai_test_tmpdir();
    char log[4096], xp[4096], out[4096], aopc[4096], junk[4096];
    snprintf(log, sizeof log, "%s/log.txt", dir);
    snprintf(xp, sizeof xp, "%s/x.npy", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(aopc, sizeof aopc, "%s/out/aopc.tsv", dir);
    snprintf(junk, sizeof junk, "%s/missing.onnx", dir);
    char model[4096]; /* own copy: xai_test_path() recycles its buffers */
    snprintf(model, sizeof model, "%s", xai_test_path(xai_test_data_dir(), "eval/linear.onnx"));
    enum { N = 8, D = 24 };
    float x[N * D];
    rng_state = 555;
    for (int i = 0; i < N * D; i++)
        x[i] = (float)gauss();
    const int64_t shape[5] = {N, 1, 2, 3, 4};
    ck_assert_int_eq(xai_npy_save(xp, 5, shape, x), XAI_OK);

    /* help, usage errors (2), data errors naming the file (1) */
    ck_assert_int_eq(run_cli(log, (const char *[]){"--help", NULL}), 0);
    ck_assert(log_has(log, "SYNOPSIS") && log_has(log, "EXAMPLES") && log_has(log, "REFERENCES"));
    ck_assert(log_has(log, "[baseline]") && log_has(log, "Samek"));
    ck_assert_int_eq(run_cli(log, (const char *[]){model, NULL}), 2);
    ck_assert_int_eq(run_cli(log, (const char *[]){model, xp, NULL}), 2); /* no -o */
    ck_assert(log_has(log, "-o OUTDIR"));
    ck_assert_int_eq(run_cli(log, (const char *[]){model, xp, "-o", out, "--patch", "1x0", NULL}), 2);
    ck_assert_int_eq(run_cli(log, (const char *[]){model, xp, "-o", out, "--methods", "lrp:nope", NULL}), 2);
    ck_assert(log_has(log, "nope"));
    ck_assert_int_eq(run_cli(log, (const char *[]){model, xp, "-o", out, "--methods", "gradient,", NULL}), 2);
    ck_assert_int_eq(run_cli(log, (const char *[]){model, xp, "-o", out, "--replace", "zero", NULL}), 2);
    ck_assert_int_eq(run_cli(log, (const char *[]){model, xp, "-o", out, "--frobnicate", NULL}), 2);
    ck_assert_int_eq(run_cli(log, (const char *[]){model, xp, "-o", out, "--patch", "4x4", NULL}), 2);
    ck_assert(log_has(log, "--patch"));
    ck_assert_int_eq(run_cli(log, (const char *[]){model, xp, "-o", out, "--steps", "25", NULL}), 2);
    ck_assert_int_eq(run_cli(log, (const char *[]){junk, xp, "-o", out, NULL}), 1);
    ck_assert(log_has(log, "missing.onnx"));
    ck_assert_int_eq(run_cli(log, (const char *[]){model, model, "-o", out, NULL}), 1);
    ck_assert(log_has(log, "linear.onnx"));
    ck_assert_int_eq(access(out, F_OK), -1); /* nothing written on failure */

    /* a run: gradient x input on a linear model is the oracle w_j x_j */
    const char *args[] = {model, xp, "-o", out, "--methods", "gradient-x-input,lrp:epsilon", "-q", NULL};
    ck_assert_int_eq(run_cli(log, args), 0);
    const char *files[] = {"aopc.tsv", "curves.tsv", "aopc_samples.tsv", "curves_morf.png", "curves_lerf.png"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        struct stat sb;
        ck_assert_msg(stat(xai_test_path(out, files[i]), &sb) == 0 && sb.st_size > 0, "%s missing", files[i]);
    }
    xai_tsv *t = NULL;
    ck_assert_int_eq(xai_tsv_load(aopc, 0, &t), XAI_OK);
    ck_assert_uint_eq(xai_tsv_nrows(t), 5); /* random + 2 methods x 2 orders */
    long cm = xai_tsv_find_column(t, "method"), co = xai_tsv_find_column(t, "order");
    long ca = xai_tsv_find_column(t, "aopc"), cn = xai_tsv_find_column(t, "n");
    ck_assert(cm >= 0 && co >= 0 && ca >= 0 && cn >= 0 && xai_tsv_find_column(t, "ci_low") >= 0 &&
              xai_tsv_find_column(t, "ci_high") >= 0);
    /* expected oracle AOPC: classes by argmax, contributions sorted, L = 24 */
    double expect = 0;
    for (int s = 0; s < N; s++) {
        double f[2], cv[D];
        for (int c = 0; c < 2; c++) {
            f[c] = lin_b[c];
            for (int j = 0; j < D; j++)
                f[c] += lin_w(c, j) * x[s * D + j];
        }
        int cls = f[1] > f[0];
        for (int j = 0; j < D; j++)
            cv[j] = lin_w(cls, j) * x[s * D + j];
        qsort(cv, D, sizeof *cv, cmp_desc_d);
        double drop = 0, acc = 0;
        for (int k = 1; k <= D; k++)
            acc += (drop += cv[k - 1]);
        expect += acc / (D + 1) / N;
    }
    /* both classes occur, so the per-class explanation stacks are exercised */
    int ncls[2] = {0, 0};
    for (int s = 0; s < N; s++) {
        double f0 = lin_b[0], f1 = lin_b[1];
        for (int j = 0; j < D; j++) {
            f0 += lin_w(0, j) * x[s * D + j];
            f1 += lin_w(1, j) * x[s * D + j];
        }
        ncls[f1 > f0]++;
    }
    ck_assert(ncls[0] > 0 && ncls[1] > 0);
    double a_gxi = NAN, a_eps = NAN, a_rnd = NAN, nn = 0;
    for (size_t r = 0; r < xai_tsv_nrows(t); r++) {
        const char *mm = xai_tsv_get_string(t, r, (size_t)cm), *oo = xai_tsv_get_string(t, r, (size_t)co);
        double v;
        ck_assert_int_eq(xai_tsv_get_number(t, r, (size_t)ca, &v), XAI_OK);
        ck_assert_int_eq(xai_tsv_get_number(t, r, (size_t)cn, &nn), XAI_OK);
        ck_assert_double_eq(nn, N);
        if (strcmp(mm, "gradient-x-input") == 0 && strcmp(oo, "morf") == 0)
            a_gxi = v;
        if (strcmp(mm, "lrp:epsilon") == 0 && strcmp(oo, "morf") == 0)
            a_eps = v;
        if (strcmp(mm, "random") == 0 && strcmp(oo, "random") == 0)
            a_rnd = v;
    }
    xai_tsv_free(t);
    ck_assert_double_eq_tol(a_gxi, expect, 1e-4);
    /* LRP-epsilon started from the logit (the program's default) gives w x (1 + O(eps)) */
    ck_assert_double_eq_tol(a_eps, expect, 1e-3);
    ck_assert_double_gt(a_gxi, a_rnd);
    /* started from one-hot, LRP-epsilon is w x / f: never better than the oracle */
    const char *args1[] = {model, xp, "-o", out, "--methods", "lrp:epsilon", "--init", "onehot", "--order", "morf",
                           "--force", "-q", NULL};
    ck_assert_int_eq(run_cli(log, args1), 0);
    ck_assert_int_eq(xai_tsv_load(aopc, 0, &t), XAI_OK);
    ck_assert_uint_eq(xai_tsv_nrows(t), 2);
    ck_assert_int_eq(xai_tsv_get_number(t, 1, (size_t)ca, &a_eps), XAI_OK);
    ck_assert(isfinite(a_eps) && a_eps <= expect + 1e-4);
    xai_tsv_free(t);
    ck_assert_int_eq(run_cli(log, (const char *[]){model, xp, "-o", out, "--force", "--replace", "mean", NULL}), 2);
    ck_assert(log_has(log, "changes nothing"));
    const char *args1b[] = {model, xp, "-o", out, "--methods", "gradient-x-input,lrp:epsilon", "-q", "--force",
                            NULL};
    ck_assert_int_eq(run_cli(log, args1b), 0);

    /* no overwrite without --force; the file is left alone */
    size_t len0 = 0, len1 = 0;
    char *before = xai_test_read_file(aopc, &len0);
    const char *args2[] = {model, xp, "-o", out, "--methods", "gradient", "-q", NULL};
    ck_assert_int_eq(run_cli(log, args2), 2); /* refusing to overwrite is a usage error */
    ck_assert(log_has(log, "--force"));
    char *after = xai_test_read_file(aopc, &len1);
    ck_assert(len0 == len1 && memcmp(before, after, len0) == 0);
    free(after);
    const char *args3[] = {model, xp, "-o", out, "--methods", "gradient", "--order", "morf", "--force",
                           "--replace", "mean", "--patch", "1x2", "--steps", "6", "-q", NULL};
    ck_assert_int_eq(run_cli(log, args3), 0);
    after = xai_test_read_file(aopc, &len1);
    ck_assert(len0 != len1 || memcmp(before, after, len0) != 0);
    free(after);
    free(before);
    ck_assert_int_eq(xai_tsv_load(aopc, 0, &t), XAI_OK);
    ck_assert_uint_eq(xai_tsv_nrows(t), 2);
    double steps = 0, patches = 0;
    ck_assert_int_eq(xai_tsv_get_number(t, 1, (size_t)xai_tsv_find_column(t, "steps"), &steps), XAI_OK);
    ck_assert_int_eq(xai_tsv_get_number(t, 1, (size_t)xai_tsv_find_column(t, "patches"), &patches), XAI_OK);
    ck_assert_double_eq(steps, 6);
    ck_assert_double_eq(patches, 12);
    xai_tsv_free(t);
    /* no temporary files left behind */
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp", out);
    ck_assert_int_ne(system(cmd), 0);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* Value of column @p col in the row whose columns c1, c2 hold s1, s2 (NaN when absent). */
static double tsv_lookup(const xai_tsv *t, const char *c1, const char *s1, const char *c2, const char *s2,
                         const char *col)
{
    long a = xai_tsv_find_column(t, c1), b = xai_tsv_find_column(t, c2), v = xai_tsv_find_column(t, col);
    ck_assert(a >= 0 && b >= 0 && v >= 0);
    for (size_t r = 0; r < xai_tsv_nrows(t); r++) {
        const char *p = xai_tsv_get_string(t, r, (size_t)a), *q = xai_tsv_get_string(t, r, (size_t)b);
        double x;
        if (p && q && strcmp(p, s1) == 0 && strcmp(q, s2) == 0 && xai_tsv_get_number(t, r, (size_t)v, &x) == 0)
            return x;
    }
    return NAN;
}

START_TEST(test_cli_metrics)
{
    char *dir = xai_test_tmpdir();
    char log[4096], xp[4096], mp[4096], bad[4096], out[4096], out2[4096], rep[4096], model[4096];
    snprintf(log, sizeof log, "%s/log.txt", dir);
    snprintf(xp, sizeof xp, "%s/x.npy", dir);
    snprintf(mp, sizeof mp, "%s/mask.npy", dir);
    snprintf(bad, sizeof bad, "%s/bad.npy", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(out2, sizeof out2, "%s/out2", dir);
    snprintf(rep, sizeof rep, "%s/rep", dir);
    snprintf(model, sizeof model, "%s", xai_test_path(xai_test_data_dir(), "eval/linear.onnx"));
    enum { N = 6, D = 24 };
    float x[N * D], mask[D];
    rng_state = 99;
    for (int i = 0; i < N * D; i++)
        x[i] = (float)gauss();
    for (int j = 0; j < D; j++) /* the truth: the elements of the largest weights of class 0 */
        mask[j] = lin_w(0, j) >= 0.6;
    const int64_t shape[5] = {N, 1, 2, 3, 4}, mshape[4] = {1, 2, 3, 4}, bshape[1] = {5};
    ck_assert_int_eq(xai_npy_save(xp, 5, shape, x), XAI_OK);
    ck_assert_int_eq(xai_npy_save(mp, 4, mshape, mask), XAI_OK);
    ck_assert_int_eq(xai_npy_save(bad, 1, bshape, mask), XAI_OK);

    /* usage (2) and data (1) errors; nothing written */
    ck_assert_int_eq(run_cli(log, (const char *[]){model, xp, "-o", out, "--metrics", "mass-accuracy", NULL}), 2);
    ck_assert(log_has(log, "--truth"));
    ck_assert_int_eq(run_cli(log, (const char *[]){model, xp, "-o", out, "--metrics", "roads", NULL}), 2);
    ck_assert(log_has(log, "roads"));
    ck_assert_int_eq(run_cli(log, (const char *[]){model, xp, "-o", out, "--truth", mp, NULL}), 2);
    ck_assert_int_eq(run_cli(log, (const char *[]){model, xp, "-o", out, "--metrics", "road-morf", "--road-axes",
                                                   "4", NULL}), 2);
    ck_assert_int_eq(run_cli(log, (const char *[]){model, xp, "-o", out, "--metrics", "infidelity",
                                                   "--infid-sigma", "0", NULL}), 2);
    ck_assert_int_eq(run_cli(log, (const char *[]){model, xp, "-o", out, "--metrics", "localisation", "--truth",
                                                   bad, NULL}), 1);
    ck_assert(log_has(log, "bad.npy"));
    ck_assert_int_eq(access(out, F_OK), -1);

    /* gradient x input is the exact contribution of a linear model: faithfulness correlation 1
     * (baseline 0), and it wins that metric in the report */
    const char *args[] = {model, xp, "-o", out, "--methods", "gradient-x-input,gradient", "--metrics",
                          "faithfulness,localisation,complexity,mprt", "--truth", mp, "--class", "0",
                          "--road-axes", "3", "--fc-runs", "12", "--infid-runs", "8", "--steps", "8", "-q", NULL};
    ck_assert_int_eq(run_cli(log, args), 0);
    const char *files[] = {"metrics.tsv", "metrics.json", "metrics_samples.tsv", "metrics_samples.json", "mprt.tsv",
                           "mprt.png", "report.tsv", "report.png", "report.json"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        struct stat sb;
        ck_assert_msg(stat(xai_test_path(out, files[i]), &sb) == 0 && sb.st_size > 0, "%s missing", files[i]);
    }
    xai_tsv *t = NULL;
    ck_assert_int_eq(xai_tsv_load(xai_test_path(out, "metrics.tsv"), 0, &t), XAI_OK);
    ck_assert_uint_eq(xai_tsv_nrows(t), 2 * 13); /* 6 faithfulness, 4 localisation, 2 complexity, mprt */
    double fc = tsv_lookup(t, "method", "gradient-x-input", "metric", "faithfulness-corr", "mean");
    ck_assert_double_eq_tol(fc, 1.0, 1e-5);
    ck_assert_double_eq(tsv_lookup(t, "method", "gradient", "metric", "mass-accuracy", "n"), N);
    xai_tsv_free(t);
    ck_assert_int_eq(xai_tsv_load(xai_test_path(out, "report.tsv"), 0, &t), XAI_OK);
    ck_assert_double_eq(tsv_lookup(t, "method", "gradient-x-input", "metric", "faithfulness-corr", "rank"), 1);
    long cb = xai_tsv_find_column(t, "better"), ck = xai_tsv_find_column(t, "metric");
    for (size_t r = 0; r < xai_tsv_nrows(t); r++) {
        const char *k = xai_tsv_get_string(t, r, (size_t)ck), *b = xai_tsv_get_string(t, r, (size_t)cb);
        uint32_t one;
        ck_assert_int_eq(xai_metric_parse_list(k, &one), XAI_OK);
        int dir_ = strcmp(k, "complexity") == 0 ? -1 : xai_metric_direction(__builtin_ctz(one));
        ck_assert_str_eq(b, dir_ > 0 ? "higher" : "lower");
    }
    xai_tsv_free(t);
    /* the gradient of class 0 is its weight vector: its K largest values are the truth */
    ck_assert_int_eq(xai_tsv_load(xai_test_path(out, "metrics.tsv"), 0, &t), XAI_OK);
    ck_assert_double_eq_tol(tsv_lookup(t, "method", "gradient", "metric", "rank-accuracy", "mean"), 1.0, 1e-12);
    xai_tsv_free(t);

    /* no overwrite without --force */
    ck_assert_int_eq(run_cli(log, args), 2); /* an existing output is a usage error */
    ck_assert(log_has(log, "--force"));

    /* report over two runs: methods named after their directories */
    const char *args2[] = {model, xp, "-o", out2, "--methods", "lrp:epsilon", "--metrics", "sparseness,road-morf",
                           "--steps", "4", "-q", NULL};
    ck_assert_int_eq(run_cli(log, args2), 0);
    char m1[4200], m2[4200];
    snprintf(m1, sizeof m1, "%s/metrics.tsv", out);
    snprintf(m2, sizeof m2, "%s/metrics.tsv", out2);
    ck_assert_int_eq(run_cli(log, (const char *[]){"report", m1, m2, "-o", rep, NULL}), 0);
    ck_assert_int_eq(xai_tsv_load(xai_test_path(rep, "report.tsv"), 0, &t), XAI_OK);
    ck_assert(isfinite(tsv_lookup(t, "method", "out2:lrp:epsilon", "metric", "sparseness", "mean")));
    ck_assert(isfinite(tsv_lookup(t, "method", "out:gradient", "metric", "sparseness", "mean")));
    ck_assert_double_eq(tsv_lookup(t, "method", "out:gradient-x-input", "metric", "faithfulness-corr", "rank"), 1);
    xai_tsv_free(t);
    ck_assert_int_eq(run_cli(log, (const char *[]){"report", "-o", rep, NULL}), 2);
    ck_assert_int_eq(run_cli(log, (const char *[]){"report", mp, "-o", rep, "--force", NULL}), 1);
    snprintf(m2, sizeof m2, "%s/mprt.tsv", out);
    ck_assert_int_eq(run_cli(log, (const char *[]){"report", m2, "-o", rep, "--force", NULL}), 1);
    ck_assert(log_has(log, "metrics.tsv"));
    char cmd[12400];
    snprintf(cmd, sizeof cmd, "find '%s' '%s' '%s' -name '*tmp*' | grep -q .", out, out2, rep);
    ck_assert_int_ne(system(cmd), 0);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- reference model: LRP against random ordering -------------------------------- */

START_TEST(test_eeg_lrp_beats_random)
{
    const char *sh = xai_test_shared_dir();
    if (!sh) {
        xai_test_mark_skip();
        return;
    }
    const char *dir = xai_test_path(sh, "reference/cnn/eeg_cnn1d");
    xai_model *m = NULL;
    ck_assert_msg(xai_model_load_onnx(xai_test_path(dir, "model.onnx"), NULL, &m) == XAI_OK, "%s",
                  xai_last_error());
    int64_t nin = xai_model_input_numel(m);
    size_t len = 0;
    float *x0 = xai_test_read_file(xai_test_path(dir, "input.f32"), &len);
    ck_assert_ptr_nonnull(x0);
    ck_assert_uint_eq(len, sizeof(float) * (size_t)nin);
    /* 16 samples around the one reference input: x + 0.25 N(0, 1) */
    enum { N = 16 };
    float *x = malloc(sizeof(float) * (size_t)(N * nin));
    float *rl = malloc(sizeof(float) * (size_t)(N * nin));
    float *rg = malloc(sizeof(float) * (size_t)(N * nin));
    rng_state = 3011;
    for (int s = 0; s < N; s++)
        for (int64_t i = 0; i < nin; i++)
            x[s * nin + i] = x0[i] + (float)(0.25 * gauss());
    xai_explain_config e;
    xai_explain_config_init(&e);
    e.composite = "epsilon-plus-flat";
    e.target = 1;
    ck_assert_int_eq(xai_explain(m, &e, N, x, rl, NULL), XAI_OK);
    e.method = XAI_METHOD_GRADIENT;
    ck_assert_int_eq(xai_explain(m, &e, N, x, rg, NULL), XAI_OK);
    int tg[N];
    for (int s = 0; s < N; s++)
        tg[s] = 1;
    xai_perturb_config c;
    xai_perturb_config_init(&c);
    ck_assert_int_eq(xai_perturb_patch_parse("1x8", &c), XAI_OK); /* channel x 8 samples: 1024 */
    c.steps = 16;
    c.per_step = 16; /* 16 steps of 16 tiles: a quarter of the input */
    c.target = tg;
    xai_perturb_result lrp, grad, rnd_, lerf, plus;
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, N, x, rl, &lrp), XAI_OK);
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, N, x, rg, &grad), XAI_OK);
    e.method = XAI_METHOD_LRP;
    e.composite = "epsilon-plus";
    ck_assert_int_eq(xai_explain(m, &e, N, x, rg, NULL), XAI_OK);
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, N, x, rg, &plus), XAI_OK);
    c.order = XAI_ORDER_LERF;
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, N, x, rl, &lerf), XAI_OK);
    c.order = XAI_ORDER_RANDOM;
    ck_assert_int_eq(xai_perturb_evaluate(m, &c, N, x, NULL, &rnd_), XAI_OK);
    fprintf(stderr, "eeg_cnn1d MoRF AOPC (n=%d, 1x8 tiles, 16x16 of 1024): lrp:epsilon-plus-flat %.4f "
            "[%.4f, %.4f], lrp:epsilon-plus %.4f [%.4f, %.4f], gradient %.4f [%.4f, %.4f], random %.4f "
            "[%.4f, %.4f]; LeRF lrp:epsilon-plus-flat %.4f\n", N, lrp.aopc, lrp.ci_low, lrp.ci_high, plus.aopc,
            plus.ci_low, plus.ci_high, grad.aopc, grad.ci_low, grad.ci_high, rnd_.aopc, rnd_.ci_low, rnd_.ci_high,
            lerf.aopc);
    /* the 95% intervals do not overlap: LRP composites beat random and gradient ordering */
    ck_assert_double_gt(lrp.ci_low, rnd_.ci_high);
    ck_assert_double_gt(lrp.ci_low, grad.ci_high);
    ck_assert_double_gt(plus.ci_low, lrp.ci_high);
    ck_assert_double_lt(lerf.ci_high, rnd_.ci_low);
    xai_perturb_result_free(&lrp);
    xai_perturb_result_free(&grad);
    xai_perturb_result_free(&rnd_);
    xai_perturb_result_free(&plus);
    xai_perturb_result_free(&lerf);
    free(x);
    free(x0);
    free(rl);
    free(rg);
    xai_model_free(m);
}
END_TEST

/* ---- drivers over several methods and their writers ------------------------------ */

typedef struct {
    int calls;
    int64_t last_done, total;
    char last_item[200];
} progress_log;

static void log_progress(void *ud, int64_t done, int64_t total, const char *item)
{
    progress_log *p = ud;
    p->calls++;
    ck_assert_int_eq(done, p->last_done + 1); /* one step at a time, in order */
    p->last_done = done;
    p->total = total;
    snprintf(p->last_item, sizeof p->last_item, "%s", item);
}

static void two_methods(xai_eval_method *me)
{
    xai_explain_config_init(&me[0].explain);
    me[0].label = "gradient-x-input";
    me[0].explain.method = XAI_METHOD_GRADIENT_X_INPUT;
    me[0].explain.init = XAI_INIT_ONEHOT;
    xai_explain_config_init(&me[1].explain);
    me[1].label = "lrp:epsilon";
    me[1].explain.method = XAI_METHOD_LRP;
    me[1].explain.composite = "epsilon";
}

/* The sweep equals the single runs it stands for: the random order fixes the classes, then
 * each method's MoRF and LeRF runs on its own maps for those classes. */
START_TEST(test_aopc_sweep)
{
    enum { N = 6, D = 24 };
    xai_model *m = load_linear();
    float x[N * D], rel[N * D];
    rng_state = 77;
    for (int i = 0; i < N * D; i++)
        x[i] = (float)gauss();
    xai_eval_method me[2];
    two_methods(me);
    xai_perturb_config pc;
    xai_perturb_config_init(&pc);
    pc.steps = 10;
    xai_aopc_sweep sw;
    progress_log pl = {0};
    ck_assert_int_eq(xai_aopc_sweep_run(m, &pc, 3, me, 2, N, x, log_progress, &pl, &sw), XAI_OK);
    ck_assert_int_eq(sw.nruns, 5);
    ck_assert_int_eq(pl.calls, 5);
    ck_assert_int_eq(pl.total, 5);
    ck_assert_str_eq(pl.last_item, "lrp:epsilon/lerf");
    ck_assert_str_eq(sw.run[0].label, "random");
    xai_perturb_result r;
    pc.order = XAI_ORDER_RANDOM;
    ck_assert_int_eq(xai_perturb_evaluate(m, &pc, N, x, NULL, &r), XAI_OK);
    ck_assert(r.aopc == sw.run[0].res.aopc);
    pc.target = r.target;
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(xai_explain_targets(m, &me[i].explain, N, x, r.target, rel), XAI_OK);
        for (int k = 0; k < 2; k++) {
            const xai_aopc_run *run = &sw.run[1 + 2 * i + k];
            xai_perturb_result one;
            pc.order = k == 0 ? XAI_ORDER_MORF : XAI_ORDER_LERF;
            ck_assert_int_eq(xai_perturb_evaluate(m, &pc, N, x, rel, &one), XAI_OK);
            ck_assert_str_eq(run->label, me[i].label);
            ck_assert_int_eq(run->order, pc.order);
            for (int s = 0; s < N; s++)
                ck_assert(one.aopc_sample[s] == run->res.aopc_sample[s]);
            xai_perturb_result_free(&one);
        }
    }
    /* the gradient x input oracle of a linear model beats the random order (MoRF) */
    ck_assert(sw.run[1].res.aopc > sw.run[0].res.aopc);
    xai_perturb_result_free(&r);
    xai_aopc_sweep_free(&sw);
    /* only MoRF: 1 + 2 runs; errors name the method */
    pc.target = NULL;
    ck_assert_int_eq(xai_aopc_sweep_run(m, &pc, 1, me, 2, N, x, NULL, NULL, &sw), XAI_OK);
    ck_assert_int_eq(sw.nruns, 3);
    xai_aopc_sweep_free(&sw);
    ck_assert_int_eq(xai_aopc_sweep_run(m, &pc, 0, me, 2, N, x, NULL, NULL, &sw), XAI_EINVAL);
    me[1].explain.composite = "no-such-composite";
    ck_assert_int_ne(xai_aopc_sweep_run(m, &pc, 3, me, 2, N, x, NULL, NULL, &sw), XAI_OK);
    ck_assert_msg(strncmp(xai_last_error(), "lrp:epsilon: ", 13) == 0, "%s", xai_last_error());
    ck_assert_ptr_null(sw.run);
    xai_model_free(m);
}
END_TEST

/* A numeric cell of a TSV: the row whose column @p key equals @p val (and @p key2 equals
 * @p val2 when given). */
static double tsv_cell(const char *path, const char *key, const char *val, const char *key2, const char *val2,
                       const char *col)
{
    xai_tsv *t = NULL;
    ck_assert_msg(xai_tsv_load(path, 0, &t) == XAI_OK, "%s", xai_last_error());
    long k = xai_tsv_find_column(t, key), k2 = key2 ? xai_tsv_find_column(t, key2) : -1,
         c = xai_tsv_find_column(t, col);
    ck_assert(k >= 0 && c >= 0 && (!key2 || k2 >= 0));
    double v = NAN;
    int hits = 0;
    for (size_t r = 0; r < xai_tsv_nrows(t); r++)
        if (strcmp(xai_tsv_get_string(t, r, (size_t)k), val) == 0 &&
            (!key2 || strcmp(xai_tsv_get_string(t, r, (size_t)k2), val2) == 0)) {
            ck_assert_int_eq(xai_tsv_get_number(t, r, (size_t)c, &v), XAI_OK);
            hits++;
        }
    ck_assert_int_eq(hits, 1);
    xai_tsv_free(t);
    return v;
}

/* The tables at paths of the caller's choosing (the domain programs' evaluate): pooled
 * per-sample values summarised as xai_eval_metrics() does, the sample names as columns, n/a
 * where a value or name is missing, a column dictionary in the summary's sidecar, and a
 * summary that the report reads. */
START_TEST(test_evalout_tables)
{
    double sp[3] = {0.2, NAN, 0.4};
    int target[3] = {1, 0, 1};
    xai_eval_scores sc = {.n = 3, .target = target};
    sc.score[XAI_METRIC_SPARSENESS].computed = 1;
    sc.score[XAI_METRIC_SPARSENESS].sample = sp;
    xai_eval_scores_summarise(&sc);
    ck_assert_int_eq(sc.score[XAI_METRIC_SPARSENESS].n_finite, 2);
    ck_assert_double_eq_tol(sc.score[XAI_METRIC_SPARSENESS].mean, 0.3, 1e-15);
    ck_assert_double_eq_tol(sc.score[XAI_METRIC_SPARSENESS].sd, sqrt(0.02), 1e-15);
    char *dir = xai_test_tmpdir(), mpath[4096], spath[4096], js[4096];
    snprintf(mpath, sizeof mpath, "%s/scores.tsv", dir);
    snprintf(spath, sizeof spath, "%s/per-sample.tsv", dir);
    const char *names[] = {"recording"}, *rec[] = {"a", "b", NULL}, *const *vals[] = {rec};
    const char *desc[] = {"the recording of the sample"};
    xai_evalout_ids ids = {1, names, vals, desc};
    xai_evalout_method om = {"lrp", &sc};
    ck_assert_msg(xai_evalout_tables(mpath, spath, &om, 1, &ids, "{\"Origin\": \"t\"}") == XAI_OK, "%s",
                  xai_last_error());
    ck_assert_double_eq_tol(tsv_cell(mpath, "method", "lrp", "metric", "sparseness", "mean"), 0.3, 1e-12);
    ck_assert(tsv_cell(mpath, "method", "lrp", "metric", "sparseness", "n") == 2);
    xai_tsv *t = NULL;
    ck_assert_int_eq(xai_tsv_load(spath, 0, &t), XAI_OK);
    ck_assert_int_eq(xai_tsv_ncols(t), 4);
    ck_assert_int_eq(xai_tsv_nrows(t), 3);
    const char *cols[] = {"sample", "recording", "class", "lrp/sparseness"};
    for (size_t c = 0; c < 4; c++)
        ck_assert_str_eq(xai_tsv_column_name(t, c), cols[c]);
    double v = NAN, cls = NAN;
    ck_assert_str_eq(xai_tsv_get_string(t, 1, 1), "b");
    ck_assert(xai_tsv_get_number(t, 1, 2, &cls) == XAI_OK && cls == 0);
    ck_assert(xai_tsv_get_number(t, 0, 3, &v) == XAI_OK && fabs(v - 0.2) < 1e-12);
    ck_assert(xai_tsv_is_na(t, 1, 3) && xai_tsv_is_na(t, 2, 1));
    xai_tsv_free(t);
    snprintf(js, sizeof js, "%s/scores.json", dir);
    size_t len;
    char *text = xai_test_read_file(js, &len);
    ck_assert_ptr_nonnull(text);
    text[len - 1] = '\0';
    ck_assert_ptr_nonnull(strstr(text, "\"Origin\": \"t\""));
    ck_assert_ptr_nonnull(strstr(text, "\"ci_low\": {"));
    free(text);
    /* the per-sample table's sidecar describes each of its columns, the caller's with its words */
    snprintf(js, sizeof js, "%s/per-sample.json", dir);
    text = xai_test_read_file(js, &len);
    ck_assert_ptr_nonnull(text);
    text[len - 1] = '\0';
    ck_assert_ptr_nonnull(strstr(text, "\"Origin\": \"t\""));
    for (size_t c = 0; c < 4; c++) {
        char key[64];
        snprintf(key, sizeof key, "\"%s\": {", cols[c]);
        ck_assert_msg(strstr(text, key) != NULL, "no entry for %s in %s", cols[c], text);
    }
    ck_assert_ptr_nonnull(strstr(text, "\"the recording of the sample\""));
    ck_assert_ptr_nonnull(strstr(text, "sparseness of the sample's map by lrp (complexity; higher is better"));
    free(text);
    const char *in[1] = {mpath};
    ck_assert_msg(xai_evalout_report(in, 1, dir, NULL) == XAI_OK, "%s", xai_last_error());
    snprintf(js, sizeof js, "%s/report.tsv", dir);
    ck_assert(tsv_cell(js, "method", "lrp", "metric", "sparseness", "rank") == 1);
    /* only the per-sample table; errors name what is wrong */
    snprintf(mpath, sizeof mpath, "%s/only.tsv", dir);
    ck_assert_int_eq(xai_evalout_tables(NULL, mpath, &om, 1, NULL, NULL), XAI_OK);
    ck_assert_int_eq(xai_evalout_tables(NULL, NULL, &om, 1, NULL, NULL), XAI_EINVAL);
    vals[0] = NULL;
    ck_assert_int_eq(xai_evalout_tables(mpath, NULL, &om, 1, &ids, NULL), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "sample name column 1"));
    xai_test_rmtree(dir);
    free(dir);
    cairo_debug_reset_static_data(); /* the report figure's font caches, as in the next test */
    FcFini();
}
END_TEST

/* xai_eval_methods() equals xai_eval_metrics() per method; the writers read back to the
 * same numbers, rank in each metric's direction, carry the caller's sidecar members and
 * return errors that name the file instead of printing. */
START_TEST(test_eval_methods_and_writers)
{
    enum { N = 5, D = 24 };
    xai_model *m = load_linear();
    float x[N * D];
    rng_state = 91;
    for (int i = 0; i < N * D; i++)
        x[i] = (float)gauss();
    xai_eval_method me[2];
    two_methods(me);
    xai_eval_config ec;
    xai_eval_config_init(&ec);
    ec.perturb.steps = 8;
    uint32_t set = 1u << XAI_METRIC_AOPC_MORF | 1u << XAI_METRIC_SPARSENESS | 1u << XAI_METRIC_COMPLEXITY;
    xai_eval_scores sc[2], one;
    progress_log pl = {0};
    ck_assert_int_eq(xai_eval_methods(m, &ec, set, me, 2, N, x, NULL, NULL, log_progress, &pl, sc), XAI_OK);
    ck_assert_int_eq(pl.calls, 2);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(xai_eval_metrics(m, &ec, &me[i].explain, set, N, x, NULL, NULL, NULL, &one), XAI_OK);
        for (int k = 0; k < XAI_METRIC_COUNT; k++)
            ck_assert(one.score[k].computed == sc[i].score[k].computed &&
                      (!one.score[k].computed || one.score[k].mean == sc[i].score[k].mean));
        xai_eval_scores_free(&one);
    }
    char *dir = xai_test_tmpdir(), path[4096], bad[4096];
    xai_evalout_method om[2] = {{me[0].label, &sc[0]}, {me[1].label, &sc[1]}};
    ck_assert_msg(xai_evalout_write(dir, om, 2, "{\"Origin\": \"test\"}") == XAI_OK, "%s", xai_last_error());
    snprintf(path, sizeof path, "%s/metrics.tsv", dir);
    for (int i = 0; i < 2; i++) {
        double v = tsv_cell(path, "method", me[i].label, "metric", "sparseness", "mean");
        ck_assert_double_eq_tol(v, sc[i].score[XAI_METRIC_SPARSENESS].mean, 1e-12 * fabs(v));
    }
    /* report: rank 1 of sparseness (higher better) and complexity (lower better) */
    snprintf(path, sizeof path, "%s/report.tsv", dir);
    int sp = sc[0].score[XAI_METRIC_SPARSENESS].mean > sc[1].score[XAI_METRIC_SPARSENESS].mean ? 0 : 1;
    int cx = sc[0].score[XAI_METRIC_COMPLEXITY].mean < sc[1].score[XAI_METRIC_COMPLEXITY].mean ? 0 : 1;
    ck_assert(tsv_cell(path, "method", me[sp].label, "metric", "sparseness", "rank") == 1);
    ck_assert(tsv_cell(path, "method", me[cx].label, "metric", "complexity", "rank") == 1);
    snprintf(path, sizeof path, "%s/metrics.json", dir);
    size_t len;
    char *js = xai_test_read_file(path, &len);
    ck_assert_ptr_nonnull(js);
    js[len - 1] = '\0';
    ck_assert_ptr_nonnull(strstr(js, "\"Origin\": \"test\""));
    ck_assert_ptr_nonnull(strstr(js, "\"Description\""));
    free(js);
    /* the report of two metrics.tsv labels methods by their folder */
    snprintf(path, sizeof path, "%s/metrics.tsv", dir);
    const char *in[2] = {path, path};
    ck_assert_int_eq(xai_evalout_report(in, 2, dir, NULL), XAI_EFORMAT); /* same method twice */
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "twice"));
    /* inputs in folders of one name are told apart by their parents */
    char sub[2][4096], in2[2][4096];
    for (int i = 0; i < 2; i++) {
        snprintf(sub[i], sizeof sub[i], "%s/%c", dir, 'a' + i);
        mkdir(sub[i], 0700);
        snprintf(sub[i], sizeof sub[i], "%s/%c/ev", dir, 'a' + i);
        mkdir(sub[i], 0700);
        ck_assert_int_eq(xai_evalout_write(sub[i], om, 2, NULL), XAI_OK);
        snprintf(in2[i], sizeof in2[i], "%s/metrics.tsv", sub[i]);
    }
    const char *in3[2] = {in2[0], in2[1]};
    ck_assert_msg(xai_evalout_report(in3, 2, dir, NULL) == XAI_OK, "%s", xai_last_error());
    snprintf(path, sizeof path, "%s/report.tsv", dir);
    ck_assert(tsv_cell(path, "method", "b/ev:lrp:epsilon", "metric", "sparseness", "mean") ==
              tsv_cell(path, "method", "a/ev:lrp:epsilon", "metric", "sparseness", "mean"));
    snprintf(bad, sizeof bad, "%s/no/such/dir", dir);
    ck_assert_int_ne(xai_evalout_write(bad, om, 2, NULL), XAI_OK);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), bad));
    ck_assert_int_ne(xai_evalout_write(dir, om, 2, "not json"), XAI_OK);
    for (int i = 0; i < 2; i++)
        xai_eval_scores_free(&sc[i]);
    me[0].explain.composite = NULL;
    me[0].explain.method = (xai_method)99;
    ck_assert_int_ne(xai_eval_methods(m, &ec, set, me, 2, N, x, NULL, NULL, NULL, NULL, sc), XAI_OK);
    ck_assert_msg(strncmp(xai_last_error(), "gradient-x-input: ", 18) == 0, "%s", xai_last_error());
    xai_test_rmtree(dir);
    free(dir);
    xai_model_free(m);
    /* cairo and fontconfig keep font caches for the life of the process: drop them so that
       LeakSanitizer reports only real leaks */
    cairo_debug_reset_static_data();
    FcFini();
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("eval");
    TCase *tc = tcase_create("perturbation");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_patch_grid);
    tcase_add_test(tc, test_patch_parse);
    tcase_add_test(tc, test_order);
    tcase_add_test(tc, test_replace_modes);
    tcase_add_test(tc, test_linear_analytic);
    tcase_add_test(tc, test_oracle_beats_random);
    tcase_add_test(tc, test_linear_patches_mean);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_t_interval);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_aopc_sweep);
    tcase_add_test(tc, test_eval_methods_and_writers);
    tcase_add_test(tc, test_evalout_tables);
    suite_add_tcase(s, tc);
    TCase *cli = tcase_create("cli");
    tcase_set_timeout(cli, 300);
    tcase_add_test(cli, test_cli);
    tcase_add_test(cli, test_cli_metrics);
    suite_add_tcase(s, cli);
    TCase *ref = tcase_create("reference");
    tcase_set_timeout(ref, 300);
    tcase_add_test(ref, test_eeg_lrp_beats_random);
    suite_add_tcase(s, ref);
    return s;
}
