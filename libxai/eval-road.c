/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eval-road.c - ROAD's noisy linear imputation (Rong, Leemann, Borisov, Kasneci, Kasneci,
 * "A Consistent and Efficient Evaluation Strategy for Attribution Methods", ICML 2022),
 * for any input layout: a removed element becomes the mean of its axis neighbours, so the
 * removed set solves a graph Laplace equation with the kept values as boundary. The paper
 * weighs the 8 image neighbours (direct 1/6, diagonal 1/12); along time, channels or voxels
 * we use the 2 neighbours of each chosen axis with equal weight. The system
 *     deg(e) v_e - sum_{j in N(e), removed} v_j = sum_{j in N(e), kept} x_j
 * is symmetric positive definite once every connected removed group touches a kept element
 * (groups that do not are filled with the kept mean first), so conjugate gradients solve it
 * without building the matrix (GSL's sparse solvers offer GMRES only).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xai/eval.h"
#include "eval-int.h"

#define FAIL(st, ...) return xai_error_set((st), __VA_ARGS__)

typedef struct {
    int ndim;
    int64_t shape[XAI_MAX_DIMS], stride[XAI_MAX_DIMS], numel;
    unsigned axes;
} grid;

/* Neighbours of e along the chosen axes into nb; returns their count. */
static int neighbours(const grid *g, int64_t e, int64_t *nb)
{
    int c = 0;
    for (int d = 0; d < g->ndim; d++) {
        if (!(g->axes & (1u << d)))
            continue;
        int64_t k = (e / g->stride[d]) % g->shape[d];
        if (k > 0)
            nb[c++] = e - g->stride[d];
        if (k + 1 < g->shape[d])
            nb[c++] = e + g->stride[d];
    }
    return c;
}

static xai_status grid_make(int ndim, const int64_t *shape, unsigned axes, grid *g)
{
    if (ndim < 1 || ndim > XAI_MAX_DIMS || !shape)
        FAIL(XAI_EINVAL, "ROAD: per-sample shape needs 1..%d axes, got %d", XAI_MAX_DIMS, ndim);
    if (axes >> ndim)
        FAIL(XAI_EINVAL, "ROAD: neighbour axes 0x%x name an axis beyond the %d of the input", axes, ndim);
    g->ndim = ndim;
    g->numel = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        if (shape[d] < 1 || shape[d] > ((int64_t)1 << 40) / g->numel)
            FAIL(XAI_EINVAL, "ROAD: bad extent %lld on axis %d", (long long)shape[d], d);
        g->shape[d] = shape[d];
        g->stride[d] = g->numel;
        g->numel *= shape[d];
    }
    g->axes = axes;
    if (!axes)
        for (int d = 0; d < ndim; d++)
            if (shape[d] > 1)
                g->axes |= 1u << d;
    return XAI_OK;
}

/* Fill removed groups that touch no kept element with @p fill and mark them kept in @p unk
 * (-1); the others keep unk = 0 for now. @p queue holds numel entries. */
static void fill_isolated(const grid *g, const unsigned char *removed, int64_t *unk, int64_t *queue, double fill,
                          double *v)
{
    int64_t nb[2 * XAI_MAX_DIMS];
    for (int64_t e = 0; e < g->numel; e++)
        unk[e] = removed[e] ? 0 : -1;
    for (int64_t s = 0; s < g->numel; s++) {
        if (unk[s] != 0)
            continue;
        int64_t head = 0, tail = 0;
        int touches = 0;
        queue[tail++] = s;
        unk[s] = -2; /* visited */
        while (head < tail) {
            int c = neighbours(g, queue[head++], nb);
            for (int i = 0; i < c; i++) {
                if (unk[nb[i]] == -1)
                    touches = 1;
                else if (unk[nb[i]] == 0) {
                    unk[nb[i]] = -2;
                    queue[tail++] = nb[i];
                }
            }
        }
        for (int64_t i = 0; i < tail; i++)
            unk[queue[i]] = touches ? -3 : -4;
    }
    for (int64_t e = 0; e < g->numel; e++) {
        if (unk[e] == -4) {
            v[e] = fill;
            unk[e] = -1;
        } else if (unk[e] == -3) {
            unk[e] = 0;
        }
    }
}

/* The system matrix without index arithmetic in the solver's loop: per unknown its degree and
 * the positions of its unknown neighbours (w per row, -1 = none). */
typedef struct {
    int64_t m;
    int w;
    int *deg;     /* [m] */
    int64_t *nbu; /* [m][w] */
} lap;

/* y = A p */
static void apply_a(const lap *a, const double *p, double *y)
{
    for (int64_t i = 0; i < a->m; i++) {
        const int64_t *q = a->nbu + i * a->w;
        double acc = a->deg[i] * p[i];
        for (int k = 0; k < a->w && q[k] >= 0; k++)
            acc -= p[q[k]];
        y[i] = acc;
    }
}

/* Conjugate gradients on A v = b from v = x0 (v holds x0 on entry); work: 3 m doubles. */
static void solve_cg(const lap *a, const double *b, double *v, double *work)
{
    int64_t m = a->m;
    double *r = work, *p = work + m, *ap = work + 2 * m;
    apply_a(a, v, ap);
    double rr = 0, bb = 0;
    for (int64_t i = 0; i < m; i++) {
        r[i] = b[i] - ap[i];
        p[i] = r[i];
        rr += r[i] * r[i];
        bb += b[i] * b[i];
    }
    double tol = 1e-14 * (bb > 0 ? bb : 1.0); /* relative residual 1e-7 */
    for (int64_t it = 0; it < 4 * m + 100 && rr > tol; it++) {
        apply_a(a, p, ap);
        double pap = 0;
        for (int64_t i = 0; i < m; i++)
            pap += p[i] * ap[i];
        if (!(pap > 0))
            break;
        double alpha = rr / pap, rr2 = 0;
        for (int64_t i = 0; i < m; i++) {
            v[i] += alpha * p[i];
            r[i] -= alpha * ap[i];
            rr2 += r[i] * r[i];
        }
        for (int64_t i = 0; i < m; i++)
            p[i] = r[i] + rr2 / rr * p[i];
        rr = rr2;
    }
}

/* Solve for the unknown values, given v = current values (kept and isolated-filled). */
static xai_status impute_linear(const grid *g, int64_t *unk, double *v, double start)
{
    int64_t m = 0;
    for (int64_t e = 0; e < g->numel; e++)
        if (unk[e] == 0)
            unk[e] = m++;
    if (m == 0)
        return XAI_OK;
    lap a = {.m = m, .w = 2 * g->ndim};
    int64_t *u = malloc(sizeof(int64_t) * (size_t)m);
    double *b = calloc((size_t)m * 5, sizeof(double));
    a.deg = malloc(sizeof(int) * (size_t)m);
    a.nbu = malloc(sizeof(int64_t) * (size_t)m * (size_t)a.w);
    xai_status st = XAI_OK;
    if (!u || !b || !a.deg || !a.nbu) {
        st = xai_error_set(XAI_ENOMEM, "ROAD: out of memory for %lld imputed values", (long long)m);
        goto done;
    }
    double *sol = b + m, *work = b + 2 * m;
    int64_t nb[2 * XAI_MAX_DIMS];
    for (int64_t e = 0; e < g->numel; e++)
        if (unk[e] >= 0)
            u[unk[e]] = e;
    for (int64_t i = 0; i < m; i++) {
        int c = neighbours(g, u[i], nb), w = 0;
        double acc = 0;
        for (int k = 0; k < c; k++) {
            if (unk[nb[k]] < 0)
                acc += v[nb[k]];
            else
                a.nbu[i * a.w + w++] = unk[nb[k]];
        }
        for (; w < a.w; w++)
            a.nbu[i * a.w + w] = -1;
        a.deg[i] = c;
        b[i] = acc;
        sol[i] = start;
    }
    solve_cg(&a, b, sol, work);
    for (int64_t i = 0; i < m; i++)
        v[u[i]] = sol[i];
done:
    free(u);
    free(b);
    free(a.deg);
    free(a.nbu);
    return st;
}

xai_status xai_road_impute(int ndim, const int64_t *shape, unsigned axes, const float *x,
                           const unsigned char *removed, double noise, uint64_t seed, int64_t sample, float *out)
{
    grid g;
    memset(&g, 0, sizeof g);
    xai_status st = grid_make(ndim, shape, axes, &g);
    if (st)
        return st;
    if (!x || !removed || !out)
        FAIL(XAI_EINVAL, "ROAD: NULL input, removal mask or output");
    if (!isfinite(noise) || noise < 0)
        FAIL(XAI_EINVAL, "ROAD: the noise level must be finite and >= 0");
    int64_t n = g.numel, nkept = 0;
    double *v = malloc(sizeof(double) * (size_t)n);
    int64_t *unk = malloc(sizeof(int64_t) * (size_t)n * 2);
    if (!v || !unk) {
        free(v);
        free(unk);
        FAIL(XAI_ENOMEM, "ROAD: out of memory for %lld values", (long long)n);
    }
    double kept_mean = 0, mean, sd;
    for (int64_t e = 0; e < n; e++) {
        v[e] = x[e];
        if (!removed[e]) {
            kept_mean += x[e];
            nkept++;
        }
    }
    kept_mean = nkept ? kept_mean / (double)nkept : 0.0;
    xai_eval_moments(x, n, &mean, &sd);
    fill_isolated(&g, removed, unk, unk + n, kept_mean, v);
    st = impute_linear(&g, unk, v, kept_mean);
    if (!st) {
        uint64_t key = xai_stream_key(seed, XAI_STREAM_ROAD, sample);
        for (int64_t e = 0; e < n; e++) {
            double z = removed[e] && noise > 0 ? noise * sd * xai_stream_gauss(key, (uint64_t)e) : 0.0;
            out[e] = removed[e] ? (float)(v[e] + z) : x[e];
        }
    }
    free(v);
    free(unk);
    return st;
}
