/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-products.c - xai_sgemm_rows: a row of the product is bitwise the same whatever the
 * number of rows in the call, the row's place in it and the thread count (BLAS kernels may
 * round the edge rows of a product differently), and the values match a float64 product.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"
#include "splitmix.h"
#include "test-common.h"

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

Suite *make_suite(void)
{
    Suite *s = suite_create("products");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_rows_invariant, 0, NSHAPES);
    tcase_add_loop_test(tc, test_rows_threads, 0, NSHAPES);
    suite_add_tcase(s, tc);
    return s;
}
