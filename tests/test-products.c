/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-products.c - xai_sgemm_rows: a row of the product is bitwise the same whatever the
 * number of rows in the call, the row's place in it and the thread count (BLAS kernels may
 * round the edge rows of a product differently), and the values match a float64 product.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"
#include "splitmix.h"
#include "test-common.h"
#include "xai.h"

enum { MAXR = 40 };

typedef struct {
    int n, k, tb;
} shape;

/* small ones hit every edge row; the last one is cut into column slices */
static const shape shapes[] = {{64, 100, 1}, {7, 33, 1}, {1, 50, 1}, {256, 300, 0}, {3, 5, 0}, {1024, 512, 1}};
enum { NSHAPES = sizeof shapes / sizeof shapes[0] };

static void fill(float *v, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (float)(xai_splitmix_unit(&seed) - 0.5);
}

/* alpha A op(B) + beta C0 in double for row i */
static void reference_row(const shape *s, float alpha, const float *a, const float *b, float beta, const float *c0,
                          double *out)
{
    for (int j = 0; j < s->n; j++) {
        double acc = 0;
        for (int k = 0; k < s->k; k++)
            acc += (double)a[k] * (double)(s->tb ? b[(size_t)j * s->k + k] : b[(size_t)k * s->n + j]);
        out[j] = alpha * acc + (beta != 0.0f ? beta * (double)c0[j] : 0.0);
    }
}

/* rows o..o+m-1 of A (row stride lda = k + 3) into C (row stride ldc = n + 5) holding c0 */
static void product(const shape *s, int o, int m, float alpha, const float *a, const float *b, float beta,
                    const float *c0, float *c)
{
    int lda = s->k + 3, ldc = s->n + 5;
    memcpy(c, c0, sizeof(float) * (size_t)MAXR * (size_t)ldc);
    xai_sgemm_rows(s->tb ? CblasTrans : CblasNoTrans, m, s->n, s->k, alpha, a + (size_t)o * lda, lda, b,
                   s->tb ? s->k : s->n, beta, c + (size_t)o * ldc, ldc);
}

static void check_shape(const shape *s, float alpha, float beta)
{
    int lda = s->k + 3, ldc = s->n + 5;
    float *a = malloc(sizeof(float) * (size_t)MAXR * lda), *b = malloc(sizeof(float) * (size_t)s->n * s->k);
    float *c0 = malloc(sizeof(float) * (size_t)MAXR * ldc), *c = malloc(sizeof(float) * (size_t)MAXR * ldc);
    float *one = malloc(sizeof(float) * (size_t)MAXR * ldc);
    double *ref = malloc(sizeof(double) * (size_t)s->n);
    ck_assert(a && b && c0 && c && one && ref);
    fill(a, (size_t)MAXR * lda, 11);
    fill(b, (size_t)s->n * s->k, 23);
    fill(c0, (size_t)MAXR * ldc, 37);
    /* each row alone, checked against float64 */
    for (int i = 0; i < MAXR; i++) {
        product(s, i, 1, alpha, a, b, beta, c0, c);
        memcpy(one + (size_t)i * ldc, c + (size_t)i * ldc, sizeof(float) * (size_t)s->n);
        reference_row(s, alpha, a + (size_t)i * lda, b, beta, c0 + (size_t)i * ldc, ref);
        for (int j = 0; j < s->n; j++)
            ck_assert_msg(fabs(one[(size_t)i * ldc + j] - ref[j]) <= 1e-5 * (1 + sqrt(s->k)),
                          "n=%d k=%d row %d col %d: %g vs %g", s->n, s->k, i, j, one[(size_t)i * ldc + j], ref[j]);
    }
    int big = s->n * s->k > 100000;
    for (int m = 2; m <= MAXR; m += big ? 7 : 1)
        for (int o = 0; o + m <= MAXR; o += big ? 13 : 3) {
            product(s, o, m, alpha, a, b, beta, c0, c);
            for (int i = 0; i < MAXR; i++) {
                const float *want = i >= o && i < o + m ? one + (size_t)i * ldc : c0 + (size_t)i * ldc;
                ck_assert_msg(!memcmp(c + (size_t)i * ldc, want, sizeof(float) * (size_t)s->n),
                              "n=%d k=%d tb=%d: row %d of the %d rows from %d differs from the row alone", s->n, s->k,
                              s->tb, i, m, o);
                /* the padding between rows is never written */
                ck_assert(!memcmp(c + (size_t)i * ldc + s->n, c0 + (size_t)i * ldc + s->n, sizeof(float) * 5));
            }
        }
    free(a);
    free(b);
    free(c0);
    free(c);
    free(one);
    free(ref);
}

START_TEST(test_rows_invariant)
{
    check_shape(&shapes[_i], 1.0f, 0.0f);
    check_shape(&shapes[_i], 0.75f, -1.5f);
}
END_TEST

/* the same rows with a pool of two threads (the blocks run on both) */
START_TEST(test_rows_threads)
{
    xai_par_set_threads(2);
    check_shape(&shapes[_i], 1.0f, 0.0f);
    xai_par_set_threads(1);
}
END_TEST

/* The direct convolution kernels (conv-dk.h) exist once per instruction set; each explains with
   the same bits. Models whose convolutions take them, with row lengths that leave partial
   vectors, a conv on a conv's mixed-sign output (z+ and alpha-beta split x into its signs), more
   channels than a block, and composites that reach every kind of kernel (forward, split, Flat,
   epsilon and z+ relevance). */
static const struct {
    const char *spec;
    int ndim;
    int64_t shape[4];
} dk_models[] = {
    {"conv2d(6,k=1x9) conv2d(8,k=5x1) relu avgpool(1x4) flatten dense(3)", 3, {1, 5, 45}},
    {"conv1d(7,k=7,p=3) relu conv1d(5,k=5,p=2,d=2) conv1d(6,k=3,p=1) relu flatten dense(4)", 2, {3, 37}},
    {"conv2d(4,k=3,p=1) relu conv2d(5,k=3,p=1) relu flatten dense(3)", 3, {2, 9, 19}},
    {"conv3d(3,k=3,p=1) relu conv3d(4,k=3,p=1) flatten dense(2)", 4, {1, 6, 7, 18}},
    {"conv3d(3,k=3,p=1) relu maxpool(2) conv3d(5,k=3,p=1) flatten dense(2)", 4, {2, 6, 9, 14}},
    /* long sums (280 terms) over more channels than a block: the AVX-512 kernels' blocks of 8
       channels (8 + 5) against the others' blocks of 4 */
    {"conv2d(40,k=1x9) conv2d(13,k=7x1) relu avgpool(1x4) flatten dense(3)", 3, {1, 7, 40}},
};

static void dk_explain(const xai_model *m, const char *comp, xai_method meth, const float *x, int64_t n, float *r)
{
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    cfg.composite = comp;
    cfg.method = meth;
    ck_assert_int_eq(xai_explain(m, &cfg, n, x, r, NULL), XAI_OK);
}

START_TEST(test_dconv_isa_same)
{
    static const char *const comps[] = {"epsilon-plus-flat", "epsilon-plus", "epsilon-alpha2-beta1", "epsilon"};
    enum { N = 3 };
    const int top = xai_dconv_isa(2);
    if (top == 0)
        printf("dconv: this CPU has only the portable kernels; nothing to compare\n");
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec(dk_models[_i].spec, dk_models[_i].ndim, dk_models[_i].shape, 5, &m), XAI_OK);
    const int64_t nin = xai_model_input_numel(m), len = N * nin;
    float *x = malloc(sizeof(float) * (size_t)len), *r0 = malloc(sizeof(float) * (size_t)len);
    float *r = malloc(sizeof(float) * (size_t)len);
    ck_assert(x && r0 && r);
    fill(x, (size_t)len, 99 + (uint64_t)_i);
    for (int c = 0; c < 5; c++) {
        const char *comp = comps[c < 4 ? c : 0];
        xai_method meth = c < 4 ? XAI_METHOD_LRP : XAI_METHOD_GRADIENT;
        xai_dconv_isa(2);
        dk_explain(m, comp, meth, x, N, r0);
        double mag = 0;
        for (int64_t k = 0; k < len; k++) {
            ck_assert_msg(isfinite(r0[k]), "%s: relevance %lld is not finite", comp, (long long)k);
            mag += fabs(r0[k]);
        }
        ck_assert_msg(mag > 0, "%s: all relevance zero", comp);
        for (int isa = top - 1; isa >= 0; isa--) {
            ck_assert_int_eq(xai_dconv_isa(isa), isa);
            dk_explain(m, comp, meth, x, N, r);
            ck_assert_msg(!memcmp(r, r0, sizeof(float) * (size_t)len), "model %d, %s%s: instruction set %d differs from %d",
                          _i, comp, c < 4 ? "" : " (gradient)", isa, top);
        }
    }
    xai_dconv_isa(2);
    free(x);
    free(r0);
    free(r);
    xai_model_free(m);
}
END_TEST

/* z+ and alpha-beta on inputs of both signs take their parts from the layer's output and one
   product |W||x| (linear.c). Against the direct products (the layer's fwd_abs removed): close on
   every sample, also on one with an output whose positive part nearly cancels (all terms but a
   tiny one against its weights' signs; then the relevance of that output goes almost all to
   the one input, scaled by 1 / z+) and one whose negative part does. Taken from z and |W||x|
   without the guard, that sample's relevance was 3.5e-4 (relative L2) off; the guard sends
   their rows to the direct product. No ReLU follows the conv, so both outputs pass relevance. */
START_TEST(test_zpart_guard)
{
    static const char *const comps[] = {"epsilon-plus", "epsilon-alpha2-beta1"};
    enum { N = 3, C = 4, L = 30, K = 7, P = 3 };
    const int64_t shp[2] = {C, L}, nin = C * L;
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("conv1d(4,k=7,p=3) flatten dense(3)", 2, shp, 5, &m), XAI_OK);
    xai_linear *lin = NULL;
    for (int i = 0; i < m->nnodes && !lin; i++)
        if (m->nodes[i].kind == K_CONV)
            lin = xai_node_linear(&m->nodes[i]);
    ck_assert_msg(lin && lin->fwd_abs, "the conv does not run on the direct kernels");
    float x[N * C * L], r0[N * C * L], r1[N * C * L];
    fill(x, sizeof x / sizeof x[0], 7);
    /* sample 1: output (channel o, position at) with every term of sign sg but the first (1e-4 of it) */
    for (int o = 0; o < 2; o++) {
        const float sg = o ? 1.0f : -1.0f;
        const int at = o ? 20 : 10;
        ((float *)lin->b)[o] = 0.0f;
        for (int c = 0; c < C; c++)
            for (int k = 0; k < K; k++) {
                float w = lin->w[(o * C + c) * K + k], v = (w > 0 ? sg : -sg) * 0.4f;
                x[nin + c * L + at - P + k] = c + k ? v : -v * 1e-4f;
            }
    }
    void (*fwd_abs)(const xai_node *, const float *, const float *, float *, int64_t, float *) = lin->fwd_abs;
    for (int c = 0; c < 2; c++) {
        lin->fwd_abs = NULL;
        dk_explain(m, comps[c], XAI_METHOD_LRP, x, N, r0);
        lin->fwd_abs = fwd_abs;
        dk_explain(m, comps[c], XAI_METHOD_LRP, x, N, r1);
        int same = 1;
        for (int s = 0; s < N; s++) {
            double e = xai_test_rel_l2(r1 + s * nin, r0 + s * nin, (size_t)nin);
            ck_assert_msg(e < 1e-6, "%s: sample %d: rel L2 %.3e against the direct products", comps[c], s, e);
            same &= !memcmp(r0 + s * nin, r1 + s * nin, sizeof(float) * (size_t)nin);
        }
        ck_assert_msg(!same, "%s: no sample took its parts from |W||x|", comps[c]);
    }
    xai_model_free(m);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("products");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_rows_invariant, 0, NSHAPES);
    tcase_add_loop_test(tc, test_rows_threads, 0, NSHAPES);
    tcase_add_loop_test(tc, test_dconv_isa_same, 0, (int)(sizeof dk_models / sizeof dk_models[0]));
    tcase_add_test(tc, test_zpart_guard);
    suite_add_tcase(s, tc);
    return s;
}
