/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-spray.c - SpRAy: preprocessing, kNN graph, Lanczos vs dense GSL eigenpairs (and the
 * analytic path-graph spectrum), k-means determinism, FDA on analytic cases, the adjusted
 * Rand index, and the planted Clever-Hans dataset (30% of one class carry an artefact).
 */
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"
#include "xai/spray.h"

/* ---- seeded generators (independent of the library's) ---- */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double urand(void)
{
    return (double)(rnd64() >> 11) * (1.0 / 9007199254740992.0);
}

static double nrand(void)
{
    double u = urand(), v = urand();
    if (u < 1e-300)
        u = 1e-300;
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* Gaussian blobs: n points in dim dims, centres k*sep along axis k (mod dim) */
static float *blobs(int64_t n, int dim, int nb, double sep, int *truth)
{
    float *x = malloc((size_t)n * dim * sizeof(float));
    for (int64_t i = 0; i < n; i++) {
        int b = (int)(i % nb);
        truth[i] = b;
        for (int j = 0; j < dim; j++)
            x[i * dim + j] = (float)(nrand() + (j == b % dim ? sep * (1 + b / dim) : 0));
    }
    return x;
}

static void setup(void)
{
    gsl_set_error_handler_off();
    rng_state = 12345;
}

/* ---- preprocessing ---- */

START_TEST(preprocess_pool_abs_norm)
{
    /* one 4 x 6 map: value = r*6 + c - 10 (signed) */
    float m[24];
    for (int i = 0; i < 24; i++)
        m[i] = (float)(i - 10);
    xai_spray_config c;
    xai_spray_config_init(&c);
    c.pool_rows = 2;
    c.pool_cols = 3;
    c.use_abs = 0;
    c.norm = XAI_SPRAY_NORM_NONE;
    float *y = NULL;
    int r = 0, k = 0;
    ck_assert_int_eq(xai_spray_preprocess(m, 1, 4, 6, &c, &y, &r, &k), XAI_OK);
    ck_assert_int_eq(r, 2);
    ck_assert_int_eq(k, 3);
    /* bin (0,0) sums rows 0-1, cols 0-1: (0+1+6+7) - 40 = -26 */
    ck_assert_float_eq_tol(y[0], -26.0f, 1e-5f);
    ck_assert_float_eq_tol(y[5], (float)((16 + 17 + 22 + 23) - 40), 1e-5f);
    float total = 0;
    for (int i = 0; i < 6; i++)
        total += y[i];
    ck_assert_float_eq_tol(total, (float)(276 - 240), 1e-4f); /* pooling keeps the sum */
    free(y);
    c.use_abs = 1;
    c.norm = XAI_SPRAY_NORM_SUM;
    ck_assert_int_eq(xai_spray_preprocess(m, 1, 4, 6, &c, &y, &r, &k), XAI_OK);
    total = 0;
    for (int i = 0; i < 6; i++) {
        ck_assert(y[i] >= 0);
        total += y[i];
    }
    ck_assert_float_eq_tol(total, 1.0f, 1e-6f);
    ck_assert_float_eq_tol(y[0], 26.0f / (26 + 18 + 10 + 22 + 30 + 38), 1e-6f);
    free(y);
    c.norm = XAI_SPRAY_NORM_MAX;
    ck_assert_int_eq(xai_spray_preprocess(m, 1, 4, 6, &c, &y, &r, &k), XAI_OK);
    ck_assert_float_eq_tol(y[5], 1.0f, 1e-6f);
    free(y);
    /* uneven bins: 5 columns into 2 -> [0,2) and [2,5) */
    float u[5] = {1, 2, 3, 4, 5};
    c.pool_rows = 0;
    c.pool_cols = 2;
    c.norm = XAI_SPRAY_NORM_NONE;
    ck_assert_int_eq(xai_spray_preprocess(u, 1, 1, 5, &c, &y, &r, &k), XAI_OK);
    ck_assert_int_eq(r, 1);
    ck_assert_int_eq(k, 2);
    ck_assert_float_eq(y[0], 3.0f);
    ck_assert_float_eq(y[1], 12.0f);
    free(y);
    /* an all-zero map stays zero under normalisation */
    float zero[5] = {0};
    c.norm = XAI_SPRAY_NORM_SUM;
    ck_assert_int_eq(xai_spray_preprocess(zero, 1, 1, 5, &c, &y, &r, &k), XAI_OK);
    ck_assert_float_eq(y[0] + y[1], 0.0f);
    free(y);
}
END_TEST

START_TEST(preprocess_errors)
{
    float m[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    xai_spray_config c;
    xai_spray_config_init(&c);
    float *y = NULL;
    int r, k;
    c.pool_cols = 9;
    ck_assert_int_eq(xai_spray_preprocess(m, 1, 1, 8, &c, &y, &r, &k), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "does not fit"));
    c.pool_cols = 4;
    m[6] = NAN;
    ck_assert_int_eq(xai_spray_preprocess(m, 2, 1, 4, &c, &y, &r, &k), XAI_ENUMERIC);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "map 1"));
    ck_assert_int_eq(xai_spray_preprocess(m, 0, 1, 4, &c, &y, &r, &k), XAI_EINVAL);
    ck_assert_ptr_null(y);
}
END_TEST

/* ---- kNN graph ---- */

START_TEST(knn_line)
{
    /* points at 0, 1, 3, 7, 15 on a line: nearest of each is known */
    float x[5] = {0, 1, 3, 7, 15};
    xai_csr g;
    ck_assert_int_eq(xai_spray_knn(x, 5, 1, 1, &g), XAI_OK);
    /* 1-NN: 0->1, 1->0, 3->1, 7->3, 15->7; union: 0-1, 1-3, 3-7, 7-15 (a path) */
    int64_t expect_deg[5] = {1, 2, 2, 2, 1};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(g.rowptr[i + 1] - g.rowptr[i], expect_deg[i]);
    ck_assert_int_eq(g.col[g.rowptr[1]], 0);
    ck_assert_int_eq(g.col[g.rowptr[1] + 1], 2);
    ck_assert_int_eq(g.col[g.rowptr[4]], 3);
    xai_csr_free(&g);
    xai_csr_free(&g); /* idempotent */
    ck_assert_int_eq(xai_spray_knn(x, 5, 1, 5, &g), XAI_EINVAL);
    ck_assert_int_eq(xai_spray_knn(x, 5, 1, 0, &g), XAI_EINVAL);
}
END_TEST

START_TEST(knn_symmetric_and_matches_bruteforce)
{
    int n = 1500, d = 7, k = 5; /* n > one 1024 tile: crosses tile borders */
    int *truth = malloc(n * sizeof(int));
    float *x = blobs(n, d, 3, 3.0, truth);
    xai_csr g;
    ck_assert_int_eq(xai_spray_knn(x, n, d, k, &g), XAI_OK);
    /* symmetric, no self loops, every row has >= k entries */
    for (int i = 0; i < n; i++) {
        ck_assert_int_ge(g.rowptr[i + 1] - g.rowptr[i], k);
        for (int64_t p = g.rowptr[i]; p < g.rowptr[i + 1]; p++) {
            int j = g.col[p];
            ck_assert_int_ne(j, i);
            int found = 0;
            for (int64_t q = g.rowptr[j]; q < g.rowptr[j + 1]; q++)
                found |= g.col[q] == i;
            ck_assert(found);
        }
    }
    /* row 777's own k nearest (double-precision brute force) are all in its row */
    int i = 777;
    double dist[1500];
    for (int j = 0; j < n; j++) {
        double s = 0;
        for (int a = 0; a < d; a++)
            s += ((double)x[i * d + a] - x[j * d + a]) * ((double)x[i * d + a] - x[j * d + a]);
        dist[j] = j == i ? INFINITY : s;
    }
    for (int t = 0; t < k; t++) {
        int b = 0;
        for (int j = 1; j < n; j++)
            if (dist[j] < dist[b])
                b = j;
        int found = 0;
        for (int64_t p = g.rowptr[i]; p < g.rowptr[i + 1]; p++)
            found |= g.col[p] == b;
        ck_assert_msg(found, "neighbour %d of %d missing", b, i);
        dist[b] = INFINITY;
    }
    xai_csr_free(&g);
    free(x), free(truth);
}
END_TEST

/* ---- eigen-solvers ---- */

/* r = ||L v - lam v|| with L = I - D^-1/2 W D^-1/2 */
static double lap_residual(const xai_csr *g, const double *v, double lam)
{
    int64_t n = g->n;
    double *deg = calloc(n, sizeof(double)), r = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t p = g->rowptr[i]; p < g->rowptr[i + 1]; p++)
            deg[i] += g->val[p];
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t p = g->rowptr[i]; p < g->rowptr[i + 1]; p++)
            s += g->val[p] * v[g->col[p]] / sqrt(deg[i] * deg[g->col[p]]);
        double e = v[i] - s - lam * v[i];
        r += e * e;
    }
    free(deg);
    return sqrt(r);
}

static void path_graph(int n, xai_csr *g)
{
    g->n = n;
    g->rowptr = malloc((n + 1) * sizeof(int64_t));
    g->col = malloc(2 * n * sizeof(int32_t));
    g->val = malloc(2 * n * sizeof(double));
    int64_t p = 0;
    for (int i = 0; i < n; i++) {
        g->rowptr[i] = p;
        if (i > 0) {
            g->col[p] = i - 1;
            g->val[p++] = 1;
        }
        if (i < n - 1) {
            g->col[p] = i + 1;
            g->val[p++] = 1;
        }
    }
    g->rowptr[n] = p;
}

START_TEST(eigs_path_graph_analytic)
{
    /* normalised Laplacian of the path P_n: eigenvalues 1 - cos(pi k / (n - 1)) */
    int n = 60, nev = 6;
    xai_csr g;
    path_graph(n, &g);
    double ev[6], *vec = malloc(n * nev * sizeof(double));
    for (int s = 0; s < 2; s++) {
        xai_spray_eigsolver sol = s ? XAI_SPRAY_EIG_LANCZOS : XAI_SPRAY_EIG_DENSE;
        int nc = 0;
        ck_assert_int_eq(xai_spray_laplacian_eigs(&g, nev, sol, 1000, 7, ev, vec, &nc), XAI_OK);
        ck_assert_int_eq(nc, 1);
        for (int k = 0; k < nev; k++) {
            ck_assert_msg(fabs(ev[k] - (1 - cos(M_PI * k / (n - 1)))) < 1e-9,
                          "solver %d: eigenvalue %d = %.12g", s, k, ev[k]);
            ck_assert(lap_residual(&g, vec + k * n, ev[k]) < 1e-7);
        }
    }
    free(vec);
    xai_csr_free(&g);
    /* the whole spectrum of a 6-node path: Lanczos exhausts the Krylov space */
    path_graph(6, &g);
    double e6[6], v6[36];
    for (int s = 0; s < 2; s++) {
        xai_spray_eigsolver sol = s ? XAI_SPRAY_EIG_LANCZOS : XAI_SPRAY_EIG_DENSE;
        ck_assert_int_eq(xai_spray_laplacian_eigs(&g, 6, sol, 1000, 7, e6, v6, NULL), XAI_OK);
        for (int k = 0; k < 6; k++)
            ck_assert_msg(fabs(e6[k] - (1 - cos(M_PI * k / 5))) < 1e-9, "solver %d: %d = %.12g", s,
                          k, e6[k]);
    }
    xai_csr_free(&g);
}
END_TEST

static void compare_solvers(const xai_csr *g, int nev, int expect_comp)
{
    int64_t n = g->n;
    double ed[32], el[32];
    double *vd = malloc(n * nev * sizeof(double)), *vl = malloc(n * nev * sizeof(double));
    int cd = 0, cl = 0;
    ck_assert_int_eq(xai_spray_laplacian_eigs(g, nev, XAI_SPRAY_EIG_DENSE, 0, 3, ed, vd, &cd), XAI_OK);
    ck_assert_int_eq(xai_spray_laplacian_eigs(g, nev, XAI_SPRAY_EIG_LANCZOS, 0, 3, el, vl, &cl),
                     XAI_OK);
    ck_assert_int_eq(cd, expect_comp);
    ck_assert_int_eq(cl, expect_comp);
    for (int k = 0; k < nev; k++) {
        ck_assert_msg(fabs(ed[k] - el[k]) < 1e-8, "eigenvalue %d: dense %.12g lanczos %.12g", k,
                      ed[k], el[k]);
        ck_assert(k == 0 || el[k] >= el[k - 1] - 1e-12);
        ck_assert_msg(lap_residual(g, vl + k * n, el[k]) < 1e-6, "lanczos residual %d", k);
        ck_assert_msg(lap_residual(g, vd + k * n, ed[k]) < 1e-6, "dense residual %d", k);
        /* well separated eigenvalues: the same vector (signs are normalised) */
        double gap = INFINITY;
        if (k > 0)
            gap = fmin(gap, ed[k] - ed[k - 1]);
        if (k + 1 < nev)
            gap = fmin(gap, ed[k + 1] - ed[k]);
        if (gap > 1e-3) {
            double dot = 0;
            for (int64_t i = 0; i < n; i++)
                dot += vd[k * n + i] * vl[k * n + i];
            ck_assert_msg(dot > 1 - 1e-6, "eigenvector %d: dot %.9g (gap %.3g)", k, dot, gap);
        }
        /* orthonormal */
        for (int j = 0; j <= k; j++) {
            double dot = 0;
            for (int64_t i = 0; i < n; i++)
                dot += vl[j * n + i] * vl[k * n + i];
            ck_assert(fabs(dot - (j == k)) < 1e-8);
        }
    }
    free(vd), free(vl);
}

START_TEST(eigs_lanczos_vs_dense_knn)
{
    int n = 400, d = 5;
    int *truth = malloc(n * sizeof(int));
    float *x = blobs(n, d, 4, 2.0, truth);
    xai_csr g;
    ck_assert_int_eq(xai_spray_knn(x, n, d, 10, &g), XAI_OK);
    compare_solvers(&g, 32, 1);
    compare_solvers(&g, 5, 1);
    xai_csr_free(&g);
    free(x), free(truth);
}
END_TEST

START_TEST(eigs_disconnected)
{
    /* three far-apart blobs -> three components: three zero eigenvalues, exact indicators */
    int n = 240, d = 3;
    int *truth = malloc(n * sizeof(int));
    float *x = blobs(n, d, 3, 1000.0, truth);
    xai_csr g;
    ck_assert_int_eq(xai_spray_knn(x, n, d, 6, &g), XAI_OK);
    compare_solvers(&g, 10, 3);
    double ev[2], *vec = malloc(n * 2 * sizeof(double));
    int nc;
    ck_assert_int_eq(xai_spray_laplacian_eigs(&g, 2, XAI_SPRAY_EIG_LANCZOS, 0, 1, ev, vec, &nc), XAI_OK);
    ck_assert_int_eq(nc, 3);
    ck_assert(ev[0] == 0 && ev[1] == 0);
    ck_assert_int_eq(xai_spray_laplacian_eigs(&g, 33, XAI_SPRAY_EIG_LANCZOS, 0, 1, ev, vec, &nc),
                     XAI_EINVAL);
    free(vec);
    xai_csr_free(&g);
    free(x), free(truth);
}
END_TEST

START_TEST(eigs_bad_graph)
{
    xai_csr g;
    path_graph(10, &g);
    double ev[2], vec[20];
    g.col[3] = 99; /* out of range */
    ck_assert_int_eq(xai_spray_laplacian_eigs(&g, 2, XAI_SPRAY_EIG_DENSE, 100, 1, ev, vec, NULL),
                     XAI_EINVAL);
    xai_csr_free(&g);
    path_graph(10, &g);
    g.val[0] = g.val[1] = 0; /* node 0 now isolated (weight 0) */
    ck_assert_int_eq(xai_spray_laplacian_eigs(&g, 2, XAI_SPRAY_EIG_DENSE, 100, 1, ev, vec, NULL),
                     XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "isolated"));
    xai_csr_free(&g);
}
END_TEST

/* ---- k-means ---- */

START_TEST(kmeans_deterministic)
{
    int n = 600, d = 4;
    double *x = malloc(n * d * sizeof(double));
    for (int i = 0; i < n * d; i++)
        x[i] = nrand(); /* structureless: restarts find different local optima */
    int *a = malloc(n * sizeof(int)), *b = malloc(n * sizeof(int));
    double ia, ib, ca[24], cb[24];
    ck_assert_int_eq(xai_kmeans(x, n, d, 6, 5, 300, 42, a, ca, &ia), XAI_OK);
    ck_assert_int_eq(xai_kmeans(x, n, d, 6, 5, 300, 42, b, cb, &ib), XAI_OK);
    ck_assert(ia == ib);
    ck_assert_mem_eq(a, b, n * sizeof(int));
    ck_assert_mem_eq(ca, cb, sizeof ca);
    /* labels ordered by size, and the inertia is the sum of squared distances */
    int cnt[6] = {0};
    double in = 0;
    for (int i = 0; i < n; i++) {
        ck_assert(a[i] >= 0 && a[i] < 6);
        cnt[a[i]]++;
        for (int j = 0; j < d; j++)
            in += (x[i * d + j] - ca[a[i] * d + j]) * (x[i * d + j] - ca[a[i] * d + j]);
    }
    for (int c = 1; c < 6; c++)
        ck_assert_int_ge(cnt[c - 1], cnt[c]);
    ck_assert(fabs(in - ia) < 1e-9 * ia);
    /* more restarts never do worse than fewer with the same seed stream */
    double i1;
    ck_assert_int_eq(xai_kmeans(x, n, d, 6, 1, 300, 42, b, NULL, &i1), XAI_OK);
    ck_assert(ia <= i1 + 1e-12);
    ck_assert_int_eq(xai_kmeans(x, n, d, 0, 5, 300, 42, b, NULL, NULL), XAI_EINVAL);
    ck_assert_int_eq(xai_kmeans(x, n, d, n + 1, 5, 300, 42, b, NULL, NULL), XAI_EINVAL);
    free(x), free(a), free(b);
}
END_TEST

START_TEST(kmeans_blobs)
{
    int n = 300, d = 3;
    int *truth = malloc(n * sizeof(int)), *lab = malloc(n * sizeof(int));
    float *xf = blobs(n, d, 3, 12.0, truth);
    double *x = malloc(n * d * sizeof(double));
    for (int i = 0; i < n * d; i++)
        x[i] = xf[i];
    ck_assert_int_eq(xai_kmeans(x, n, d, 3, 4, 100, 9, lab, NULL, NULL), XAI_OK);
    double ari;
    ck_assert_int_eq(xai_adjusted_rand_index(lab, truth, n, &ari), XAI_OK);
    ck_assert(ari > 0.999);
    free(truth), free(lab), free(xf), free(x);
}
END_TEST

/* ---- Fisher discriminant ---- */

START_TEST(fda_analytic)
{
    /* 1-D: {0,2} vs {4,6}: Sb = 16, Sw = 4 -> J = 4 */
    double x1[4] = {0, 2, 4, 6};
    int l1[4] = {0, 0, 1, 1};
    double j, w[2];
    ck_assert_int_eq(xai_fda_score(x1, 4, 1, l1, 2, &j, w), XAI_OK);
    ck_assert(fabs(j - 4) < 1e-7);
    ck_assert(fabs(w[0] - 1) < 1e-12);
    /* three groups {0,2},{4,6},{8,10}: Sb = 64, Sw = 6 */
    double x3[6] = {0, 2, 4, 6, 8, 10};
    int l3[6] = {0, 0, 1, 1, 2, 2};
    ck_assert_int_eq(xai_fda_score(x3, 6, 1, l3, 3, &j, NULL), XAI_OK);
    ck_assert(fabs(j - 64.0 / 6) < 1e-7);
    /* 2-D, Sw = diag(4, 16), mean difference (3, 4), n1 = n2 = 4:
     * J = n1 n2 / n * d' Sw^-1 d = 2 * (9/4 + 16/16) = 6.5, w ~ Sw^-1 d = (3/4, 1/4) */
    double x2[16] = {1, 0, -1, 0, 0, 2, 0, -2, 4, 4, 2, 4, 3, 6, 3, 2};
    int l2[8] = {0, 0, 0, 0, 1, 1, 1, 1};
    ck_assert_int_eq(xai_fda_score(x2, 8, 2, l2, 2, &j, w), XAI_OK);
    ck_assert_msg(fabs(j - 6.5) < 1e-7, "J = %.12g", j);
    double nr = sqrt(0.75 * 0.75 + 0.25 * 0.25);
    ck_assert(fabs(w[0] - 0.75 / nr) < 1e-7 && fabs(w[1] - 0.25 / nr) < 1e-7);
    /* invariant under an invertible linear map: scale x by 7, y by 0.1 */
    for (int i = 0; i < 8; i++) {
        x2[2 * i] *= 7;
        x2[2 * i + 1] *= 0.1;
    }
    ck_assert_int_eq(xai_fda_score(x2, 8, 2, l2, 2, &j, NULL), XAI_OK);
    ck_assert(fabs(j - 6.5) < 1e-6);
    /* identical groups: J = 0 */
    double xs[4] = {1, 2, 1, 2};
    ck_assert_int_eq(xai_fda_score(xs, 4, 1, l1, 2, &j, NULL), XAI_OK);
    ck_assert(fabs(j) < 1e-12);
    /* errors */
    int one[4] = {0, 0, 0, 0}, bad[4] = {0, 1, 2, 1};
    ck_assert_int_eq(xai_fda_score(x1, 4, 1, one, 2, &j, NULL), XAI_EINVAL);
    ck_assert_int_eq(xai_fda_score(x1, 4, 1, bad, 2, &j, NULL), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "label 2"));
}
END_TEST

/* ---- adjusted Rand index ---- */

START_TEST(ari_known_values)
{
    int a[4] = {0, 0, 1, 1}, b[4] = {0, 0, 1, 2}, c[4] = {0, 1, 0, 1}, p[4] = {7, 7, 3, 3};
    double r;
    ck_assert_int_eq(xai_adjusted_rand_index(a, b, 4, &r), XAI_OK);
    ck_assert(fabs(r - 4.0 / 7.0) < 1e-12); /* 0.5714..., as scikit-learn */
    ck_assert_int_eq(xai_adjusted_rand_index(a, c, 4, &r), XAI_OK);
    ck_assert(fabs(r + 0.5) < 1e-12);
    ck_assert_int_eq(xai_adjusted_rand_index(a, p, 4, &r), XAI_OK);
    ck_assert(fabs(r - 1) < 1e-12);
    int z[4] = {0, 0, 0, 0}, s[4] = {0, 1, 2, 3};
    ck_assert_int_eq(xai_adjusted_rand_index(z, s, 4, &r), XAI_OK);
    ck_assert(fabs(r) < 1e-12);
    int neg[4] = {0, -1, 0, 0};
    ck_assert_int_eq(xai_adjusted_rand_index(a, neg, 4, &r), XAI_EINVAL);
}
END_TEST

/* ---- the planted Clever-Hans dataset ---- */

#define PC 8  /* channels */
#define PT 32 /* time samples */

/* per maps per class for 3 classes: class pattern (amplitude 0.8..1.2) + Gaussian noise;
 * in class 1, 30% carry an artefact (a spike in channel 7 at t = 3..4, what a model that
 * learned the artefact would highlight) and only a quarter of the class pattern. is_art[i]
 * marks them. @p jitter shifts the pattern in time by up to +-jitter samples; @p art_amp is
 * the spike height relative to the pattern, @p noise the noise standard deviation. */
static float *planted(int per, double jitter, double art_amp, double noise, int *labels,
                      int *is_art)
{
    int n = 3 * per;
    float *m = calloc((size_t)n * PC * PT, sizeof(float));
    for (int i = 0; i < n; i++) {
        int cls = i % 3;
        labels[i] = cls;
        is_art[i] = cls == 1 && (i / 3) % 10 < 3;
        float *x = m + (size_t)i * PC * PT;
        double amp = 0.8 + 0.4 * urand(), shift = 2 * jitter * (urand() - 0.5);
        for (int ch = 0; ch < PC; ch++)
            for (int t = 0; t < PT; t++) {
                /* class pattern: a bump in channels 2c..2c+1 centred at t = 8 + 6c */
                double tc = 8 + 6 * cls + shift, dc = ch - (2 * cls + 0.5);
                double pat = amp * exp(-0.5 * ((t - tc) * (t - tc) / 9 + dc * dc));
                double v = (is_art[i] ? 0.25 : 1.0) * pat + noise * nrand();
                if (is_art[i] && ch == 7 && (t == 3 || t == 4))
                    v += art_amp * amp;
                x[ch * PT + t] = (float)v;
            }
    }
    return m;
}

/* On maps of pure noise the score over its reference is about 1 whatever the number of
 * clusters, so classes split into different k compare (the raw score depends on k and on the
 * maps). Means over a few noise sets. */
START_TEST(fda_ratio_flat_on_noise)
{
    enum { SETS = 4 };
    const int n = 200, dim = 48, ks[3] = {2, 4, 8};
    float *x = malloc((size_t)n * dim * sizeof(float));
    double fda[3] = {0}, ratio[3] = {0};
    for (int set = 0; set < SETS; set++) {
        for (int i = 0; i < n * dim; i++)
            x[i] = (float)fabs(nrand());
        for (int a = 0; a < 3; a++) {
            xai_spray_config c;
            xai_spray_config_init(&c);
            c.n_clusters = ks[a];
            c.seed = (uint64_t)set;
            xai_spray_result *r = NULL;
            ck_assert_int_eq(xai_spray_run(x, n, dim, &c, &r), XAI_OK);
            ck_assert(r->fda_null > 0 && isfinite(r->fda_ratio));
            ck_assert_double_eq_tol(r->fda_ratio, r->fda / r->fda_null, 1e-12);
            fda[a] += r->fda / SETS;
            ratio[a] += r->fda_ratio / SETS;
            xai_spray_result_free(r);
        }
    }
    fprintf(stderr, "noise: mean FDA %.3g %.3g %.3g, mean ratio %.3g %.3g %.3g at k = 2, 4, 8\n", fda[0], fda[1],
            fda[2], ratio[0], ratio[1], ratio[2]);
    for (int a = 0; a < 3; a++) /* the same for every k: near 1 */
        ck_assert_msg(ratio[a] > 0.7 && ratio[a] < 1.3, "ratio %g at k = %d", ratio[a], ks[a]);
    free(x);
}
END_TEST

START_TEST(planted_clever_hans)
{
    int per = 150, n = 3 * per;
    int *lab = malloc(n * sizeof(int)), *art = malloc(n * sizeof(int));
    float *maps = planted(per, 0.0, 2.5, 0.15, lab, art);
    xai_spray_config c;
    xai_spray_config_init(&c);
    c.pool_rows = 4;
    c.pool_cols = 16;
    float *f = NULL;
    int r, k;
    ck_assert_int_eq(xai_spray_preprocess(maps, n, PC, PT, &c, &f, &r, &k), XAI_OK);
    int dim = r * k, classes[3] = {0, 1, 2}, order[3];
    xai_spray_result *res[3];
    ck_assert_int_eq(xai_spray_by_class(f, n, dim, lab, classes, 3, &c, res, order), XAI_OK);
    /* the artefact class is ranked first */
    ck_assert_msg(order[0] == 1, "ranking %d %d %d, FDA %g %g %g", order[0], order[1], order[2],
                  res[0]->fda, res[1]->fda, res[2]->fda);
    ck_assert(res[1]->fda > res[order[1]]->fda);
    /* and its clusters separate the artefact maps (ARI against the truth >= 0.8) */
    int *truth = malloc(per * sizeof(int));
    for (int i = 0, m = 0; i < n; i++)
        if (lab[i] == 1)
            truth[m++] = art[i];
    double ari;
    ck_assert_int_eq(xai_adjusted_rand_index(res[1]->labels, truth, per, &ari), XAI_OK);
    ck_assert_msg(ari >= 0.8, "ARI %.3f with k = %d", ari, res[1]->n_clusters);
    ck_assert_int_eq(res[1]->n, per);
    ck_assert(res[1]->eigenvalues[0] >= -1e-12 && res[1]->eigenvalues[0] < 1e-9);
    /* the same class through the Lanczos solver gives the same clustering */
    float *sub = malloc((size_t)per * dim * sizeof(float));
    for (int i = 0, m = 0; i < n; i++)
        if (lab[i] == 1)
            memcpy(sub + (size_t)(m++) * dim, f + (size_t)i * dim, dim * sizeof(float));
    c.solver = XAI_SPRAY_EIG_LANCZOS;
    xai_spray_result *rl = NULL;
    ck_assert_int_eq(xai_spray_run(sub, per, dim, &c, &rl), XAI_OK);
    ck_assert_int_eq(rl->used_lanczos, 1);
    ck_assert_int_eq(rl->n_clusters, res[1]->n_clusters);
    double ari2;
    ck_assert_int_eq(xai_adjusted_rand_index(rl->labels, res[1]->labels, per, &ari2), XAI_OK);
    ck_assert(ari2 > 0.99);
    for (int j = 0; j < rl->n_eig; j++)
        ck_assert(fabs(rl->eigenvalues[j] - res[1]->eigenvalues[j]) < 1e-7);
    /* determinism: a second run gives identical labels and embedding */
    xai_spray_result *r2 = NULL;
    ck_assert_int_eq(xai_spray_run(sub, per, dim, &c, &r2), XAI_OK);
    ck_assert_mem_eq(r2->labels, rl->labels, per * sizeof(int));
    ck_assert_mem_eq(r2->embedding2d, rl->embedding2d, per * 2 * sizeof(float));
    xai_spray_result_free(r2);
    /* a fixed k is honoured */
    c.n_clusters = 4;
    ck_assert_int_eq(xai_spray_run(sub, per, dim, &c, &r2), XAI_OK);
    ck_assert_int_eq(r2->n_clusters, 4);
    int64_t tot = 0;
    for (int j = 0; j < 4; j++)
        tot += r2->sizes[j];
    ck_assert_int_eq(tot, per);
    xai_spray_result_free(r2);
    xai_spray_result_free(rl);
    for (int i = 0; i < 3; i++)
        xai_spray_result_free(res[i]);
    free(sub), free(truth), free(f), free(maps), free(lab), free(art);
}
END_TEST

/* A weaker artefact (0.6 x the pattern): the artefact maps stay joined to the rest in the kNN
 * graph (one component), so the separation comes from the spectrum, not from components. */
START_TEST(planted_connected_graph)
{
    int per = 150, n = 3 * per;
    int *lab = malloc(n * sizeof(int)), *art = malloc(n * sizeof(int));
    float *maps = planted(per, 0.0, 0.6, 0.15, lab, art);
    xai_spray_config c;
    xai_spray_config_init(&c);
    c.pool_rows = 4;
    c.pool_cols = 16;
    float *f = NULL;
    int r, k;
    ck_assert_int_eq(xai_spray_preprocess(maps, n, PC, PT, &c, &f, &r, &k), XAI_OK);
    int classes[3] = {0, 1, 2}, order[3];
    xai_spray_result *res[3];
    ck_assert_int_eq(xai_spray_by_class(f, n, r * k, lab, classes, 3, &c, res, order), XAI_OK);
    ck_assert_int_eq(res[1]->n_components, 1);
    ck_assert_msg(order[0] == 1, "ranking %d %d %d, FDA %g %g %g", order[0], order[1], order[2],
                  res[0]->fda, res[1]->fda, res[2]->fda);
    int *truth = malloc(per * sizeof(int));
    for (int i = 0, m = 0; i < n; i++)
        if (lab[i] == 1)
            truth[m++] = art[i];
    double ari;
    ck_assert_int_eq(xai_adjusted_rand_index(res[1]->labels, truth, per, &ari), XAI_OK);
    ck_assert_msg(ari >= 0.8, "ARI %.3f with k = %d", ari, res[1]->n_clusters);
    for (int i = 0; i < 3; i++)
        xai_spray_result_free(res[i]);
    free(truth), free(f), free(maps), free(lab), free(art);
}
END_TEST

/* With a time jitter the normal maps form a continuum that the eigengap may split in two
 * (k = 3); the artefact maps must still form exactly one pure cluster and rank first. */
START_TEST(planted_jitter_pure_cluster)
{
    int per = 120, n = 3 * per;
    int *lab = malloc(n * sizeof(int)), *art = malloc(n * sizeof(int));
    float *maps = planted(per, 1.0, 2.5, 0.15, lab, art);
    xai_spray_config c;
    xai_spray_config_init(&c);
    c.pool_rows = 4;
    c.pool_cols = 16;
    c.seed = 99;
    float *f = NULL;
    int r, k;
    ck_assert_int_eq(xai_spray_preprocess(maps, n, PC, PT, &c, &f, &r, &k), XAI_OK);
    int classes[3] = {2, 1, 0}, order[3];
    xai_spray_result *res[3];
    ck_assert_int_eq(xai_spray_by_class(f, n, r * k, lab, classes, 3, &c, res, order), XAI_OK);
    ck_assert_int_eq(classes[order[0]], 1);
    const xai_spray_result *a = res[1];
    int found = 0;
    for (int cl = 0; cl < a->n_clusters && !found; cl++) {
        int same = 1;
        for (int i = 0, m = 0; i < n; i++)
            if (lab[i] == 1) {
                same &= (a->labels[m] == cl) == (art[i] != 0);
                m++;
            }
        found = same;
    }
    ck_assert_msg(found, "no cluster holds exactly the artefact maps (k = %d)", a->n_clusters);
    for (int i = 0; i < 3; i++)
        xai_spray_result_free(res[i]);
    free(f), free(maps), free(lab), free(art);
}
END_TEST

START_TEST(run_errors)
{
    float x[6] = {0, 1, 2, 3, 4, 5};
    xai_spray_config c;
    xai_spray_config_init(&c);
    xai_spray_result *r = (xai_spray_result *)&c; /* must be reset to NULL */
    ck_assert_int_eq(xai_spray_run(x, 2, 3, &c, &r), XAI_EINVAL);
    ck_assert_ptr_null(r);
    c.n_eig = 40;
    ck_assert_int_eq(xai_spray_run(x, 6, 1, &c, &r), XAI_EINVAL);
    xai_spray_config_init(&c);
    int lab[6] = {0, 0, 0, 0, 0, 1}, cls[2] = {0, 1}, order[2];
    xai_spray_result *res[2];
    ck_assert_int_eq(xai_spray_by_class(x, 6, 1, lab, cls, 2, &c, res, order), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "class 1"));
    ck_assert_ptr_null(res[0]);
    xai_spray_result_free(NULL);
}
END_TEST

/* Cluster means by hand: class 4's maps (positions 0, 2, 3, 5 of the stack) in clusters
 * {0, 1, 0, 1}; class 9's maps must not enter; bad inputs are refused. */
START_TEST(cluster_means_known)
{
    const float maps[6 * 2] = {1, 2, 100, 100, 3, 6, 10, 20, 100, 100, 30, 60};
    const int lab[6] = {4, 9, 4, 4, 9, 4};
    int cl[4] = {0, 1, 0, 1};
    int64_t sizes[2] = {2, 2};
    xai_spray_result r = {0};
    r.n = 4;
    r.n_clusters = 2;
    r.labels = cl;
    r.sizes = sizes;
    float means[4];
    ck_assert_int_eq(xai_spray_cluster_means(maps, 6, 2, lab, 4, &r, means), XAI_OK);
    /* cluster 0: maps 0 and 3 -> (1+10)/2, (2+20)/2; cluster 1: maps 2 and 5 */
    const float want[4] = {5.5f, 11.0f, 16.5f, 33.0f};
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(means[i], want[i]);
    ck_assert_int_eq(xai_spray_cluster_means(maps, 6, 2, lab, 9, &r, means), XAI_EINVAL); /* 2 maps, not 4 */
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "class 9"));
    cl[2] = 2;
    ck_assert_int_eq(xai_spray_cluster_means(maps, 6, 2, lab, 4, &r, means), XAI_EINVAL);
    ck_assert_int_eq(xai_spray_cluster_means(NULL, 6, 2, lab, 4, &r, means), XAI_EINVAL);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("spray");
    TCase *t = tcase_create("spray");
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, preprocess_pool_abs_norm);
    tcase_add_test(t, preprocess_errors);
    tcase_add_test(t, knn_line);
    tcase_add_test(t, knn_symmetric_and_matches_bruteforce);
    tcase_add_test(t, eigs_path_graph_analytic);
    tcase_add_test(t, eigs_lanczos_vs_dense_knn);
    tcase_add_test(t, eigs_disconnected);
    tcase_add_test(t, eigs_bad_graph);
    tcase_add_test(t, kmeans_deterministic);
    tcase_add_test(t, kmeans_blobs);
    tcase_add_test(t, fda_analytic);
    tcase_add_test(t, fda_ratio_flat_on_noise);
    tcase_add_test(t, ari_known_values);
    tcase_add_test(t, planted_clever_hans);
    tcase_add_test(t, planted_connected_graph);
    tcase_add_test(t, planted_jitter_pure_cluster);
    tcase_add_test(t, run_errors);
    tcase_add_test(t, cluster_means_known);
    suite_add_tcase(s, t);
    return s;
}
