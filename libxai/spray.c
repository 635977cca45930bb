/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * spray.c - Spectral Relevance Analysis (SpRAy) and the Clever-Hans (FDA) class ranking.
 * Preprocessing (sum-pool, |.|, normalise), a symmetric kNN graph from blocked sgemm
 * distances, the smallest eigenpairs of L_sym = I - D^-1/2 W D^-1/2 (dense GSL symmv, or a
 * thick-restart Lanczos with full reorthogonalisation on the sparse graph), k-means++ with
 * restarts, the eigengap choice of k, and the Fisher discriminant score J = w'Sb w / w'Sw w.
 * Refs: Lapuschkin et al. 2019 (SpRAy); Ng, Jordan & Weiss 2002; von Luxburg 2007;
 * Wu & Simon 2000, SIAM J. Matrix Anal. Appl. 22:602 (thick-restart Lanczos);
 * Anders et al. 2022 (FDA ranking); Hubert & Arabie 1985 (ARI); Arthur & Vassilvitskii 2007.
 */
#include "xai/spray.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spray-int.h"
#include "splitmix.h"

/* ---- small helpers ------------------------------------------------------------------ */


static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *xcalloc(size_t n, size_t sz)
{
    if (n == 0)
        n = 1;
    if (sz && n > SIZE_MAX / sz)
        return NULL;
    return calloc(n, sz);
}

static void *xmalloc(size_t n, size_t sz)
{
    if (n == 0)
        n = 1;
    if (sz && n > SIZE_MAX / sz)
        return NULL;
    return malloc(n * sz);
}

void xai_spray_config_init(xai_spray_config *c)
{
    if (!c)
        return;
    memset(c, 0, sizeof *c);
    c->use_abs = 1;
    c->norm = XAI_SPRAY_NORM_SUM;
    c->knn = 10;
    c->n_eig = 32;
    c->n_clusters = 0;
    c->min_clusters = 2;
    c->max_clusters = 10;
    c->restarts = 10;
    c->max_iter = 300;
    c->seed = 1;
    c->solver = XAI_SPRAY_EIG_AUTO;
    c->dense_max = 1000;
}

void xai_csr_free(xai_csr *m)
{
    if (!m)
        return;
    free(m->rowptr);
    free(m->col);
    free(m->val);
    memset(m, 0, sizeof *m);
}

void xai_spray_result_free(xai_spray_result *r)
{
    if (!r)
        return;
    free(r->eigenvalues);
    free(r->embedding);
    free(r->labels);
    free(r->sizes);
    free(r->embedding2d);
    free(r);
}

/* ---- preprocessing ------------------------------------------------------------------ */

xai_status xai_spray_preprocess(const float *maps, int64_t n, int rows, int cols,
                                const xai_spray_config *cfg, float **out, int *out_rows,
                                int *out_cols)
{
    if (!maps || !cfg || !out || !out_rows || !out_cols || n < 1 || rows < 1 || cols < 1)
        return xai_error_set(XAI_EINVAL, "spray preprocess: bad arguments (n=%lld, %d x %d)",
                             (long long)n, rows, cols);
    int tr = cfg->pool_rows > 0 ? cfg->pool_rows : rows;
    int tc = cfg->pool_cols > 0 ? cfg->pool_cols : cols;
    if (tr > rows || tc > cols || cfg->pool_rows < 0 || cfg->pool_cols < 0)
        return xai_error_set(XAI_EINVAL,
                             "spray preprocess: pool target %d x %d does not fit the %d x %d maps",
                             cfg->pool_rows, cfg->pool_cols, rows, cols);
    if (cfg->norm != XAI_SPRAY_NORM_NONE && cfg->norm != XAI_SPRAY_NORM_SUM &&
        cfg->norm != XAI_SPRAY_NORM_MAX)
        return xai_error_set(XAI_EINVAL, "spray preprocess: unknown normalisation %d", (int)cfg->norm);
    size_t in_dim = (size_t)rows * (size_t)cols, od = (size_t)tr * (size_t)tc;
    float *y = xmalloc((size_t)n, od * sizeof(float));
    int *rbin = xmalloc((size_t)rows, sizeof(int)), *cbin = xmalloc((size_t)cols, sizeof(int));
    double *acc = xmalloc(od, sizeof(double));
    if (!y || !rbin || !cbin || !acc) {
        free(y), free(rbin), free(cbin), free(acc);
        return xai_error_set(XAI_ENOMEM, "spray preprocess: out of memory for %lld maps",
                             (long long)n);
    }
    /* bin t covers [floor(t*A/T), floor((t+1)*A/T)); inverted here per input index */
    for (int t = 0; t < tr; t++)
        for (int64_t i = (int64_t)t * rows / tr; i < (int64_t)(t + 1) * rows / tr; i++)
            rbin[i] = t;
    for (int t = 0; t < tc; t++)
        for (int64_t i = (int64_t)t * cols / tc; i < (int64_t)(t + 1) * cols / tc; i++)
            cbin[i] = t;
    for (int64_t m = 0; m < n; m++) {
        const float *x = maps + (size_t)m * in_dim;
        memset(acc, 0, od * sizeof(double));
        for (int r = 0; r < rows; r++) {
            double *a = acc + (size_t)rbin[r] * tc;
            for (int c = 0; c < cols; c++) {
                float v = x[(size_t)r * cols + c];
                if (!isfinite(v)) {
                    free(y), free(rbin), free(cbin), free(acc);
                    return xai_error_set(XAI_ENUMERIC,
                                         "spray preprocess: map %lld has a non-finite value at "
                                         "(%d, %d)", (long long)m, r, c);
                }
                a[cbin[c]] += v;
            }
        }
        double s = 0;
        for (size_t j = 0; j < od; j++) {
            if (cfg->use_abs)
                acc[j] = fabs(acc[j]);
            if (cfg->norm == XAI_SPRAY_NORM_SUM)
                s += fabs(acc[j]);
            else if (cfg->norm == XAI_SPRAY_NORM_MAX && fabs(acc[j]) > s)
                s = fabs(acc[j]);
        }
        double scale = (cfg->norm != XAI_SPRAY_NORM_NONE && s > 0) ? 1.0 / s : 1.0;
        for (size_t j = 0; j < od; j++)
            y[(size_t)m * od + j] = (float)(acc[j] * scale);
    }
    free(rbin), free(cbin), free(acc);
    *out = y;
    *out_rows = tr;
    *out_cols = tc;
    return XAI_OK;
}

/* ---- kNN graph ------------------------------------------------------------------------ */

/* insert (d, j) into the ascending top-k list of one row if it beats the worst entry;
 * (distance, index) is compared lexicographically so the result does not depend on order */
static inline void topk_insert(float *bd, int32_t *bi, int k, float d, int32_t j)
{
    if (d > bd[k - 1] || (d == bd[k - 1] && j >= bi[k - 1]))
        return;
    int p = k - 1;
    while (p > 0 && (bd[p - 1] > d || (bd[p - 1] == d && bi[p - 1] > j))) {
        bd[p] = bd[p - 1];
        bi[p] = bi[p - 1];
        p--;
    }
    bd[p] = d;
    bi[p] = j;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* squared norms of the points into nrm; a non-finite point is refused */
static xai_status knn_norms(const float *x, int64_t n, int64_t dim, float *nrm)
{
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t j = 0; j < dim; j++)
            s += (double)x[i * dim + j] * x[i * dim + j];
        nrm[i] = (float)s;
        if (!isfinite(nrm[i]))
            return xai_error_set(XAI_ENUMERIC, "spray knn: point %lld is not finite", (long long)i);
    }
    return XAI_OK;
}

/* upper-triangular tiles only: each pair's distance is computed once and offered to
 * both rows, which halves the sgemm work and keeps the graph exactly symmetric */
static void knn_tiles(const float *x, int64_t n, int64_t dim, int k, int64_t tile, const float *nrm,
                      float *g, float *bd, int32_t *bi)
{
    for (int64_t i0 = 0; i0 < n; i0 += tile) {
        int64_t ni = n - i0 < tile ? n - i0 : tile;
        for (int64_t j0 = i0; j0 < n; j0 += tile) {
            int64_t nj = n - j0 < tile ? n - j0 : tile;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ni, (int)nj, (int)dim, 1.0f,
                        x + i0 * dim, (int)dim, x + j0 * dim, (int)dim, 0.0f, g, (int)nj);
            for (int64_t a = 0; a < ni; a++) {
                int64_t i = i0 + a;
                const float *gr = g + a * nj;
                float *bdi = bd + i * k;
                int32_t *bii = bi + i * k;
                for (int64_t b = (j0 == i0 ? a + 1 : 0); b < nj; b++) {
                    int64_t j = j0 + b;
                    float d = nrm[i] + nrm[j] - 2.0f * gr[b];
                    if (d < 0)
                        d = 0;
                    topk_insert(bdi, bii, k, d, (int32_t)j);
                    topk_insert(bd + j * k, bi + j * k, k, d, (int32_t)i);
                }
            }
        }
    }
}

/* the k nearest neighbours of every point (n x k indices into *bi_out, the caller's) */
static xai_status knn_nearest(const float *x, int64_t n, int64_t dim, int k, int32_t **bi_out)
{
    const int64_t T = 1024; /* tile edge of the distance matrix */
    int64_t tile = n < T ? n : T;
    float *bd = xmalloc((size_t)n * k, sizeof(float));
    int32_t *bi = xmalloc((size_t)n * k, sizeof(int32_t));
    float *nrm = xmalloc((size_t)n, sizeof(float));
    float *g = xmalloc((size_t)(tile * tile), sizeof(float));
    if (!bd || !bi || !nrm || !g) {
        free(bd), free(bi), free(nrm), free(g);
        return xai_error_set(XAI_ENOMEM, "spray knn: out of memory for %lld points", (long long)n);
    }
    for (size_t i = 0; i < (size_t)n * k; i++) {
        bd[i] = INFINITY;
        bi[i] = INT32_MAX;
    }
    xai_status st = knn_norms(x, n, dim, nrm);
    if (st == XAI_OK)
        knn_tiles(x, n, dim, k, tile, nrm, g, bd, bi);
    free(g), free(nrm), free(bd);
    if (st != XAI_OK)
        free(bi), bi = NULL;
    *bi_out = bi;
    return st;
}

/* sort and deduplicate each CSR row in place, compacting the arrays; returns the entries kept */
static int64_t csr_dedup_rows(int64_t n, int64_t *rowptr, int32_t *col)
{
    int64_t w = 0, start = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t end = rowptr[i + 1];
        qsort(col + start, (size_t)(end - start), sizeof(int32_t), cmp_i32);
        rowptr[i] = w;
        for (int64_t p = start; p < end; p++)
            if (p == start || col[p] != col[p - 1])
                col[w++] = col[p];
        start = end;
    }
    rowptr[n] = w;
    return w;
}

/* union symmetrisation: row i holds its own k neighbours plus every j that chose i, all
 * with weight 1. Takes bi (freed here). */
static xai_status knn_symmetrise(int32_t *bi, int64_t n, int k, xai_csr *out)
{
    int64_t *cnt = xcalloc((size_t)n + 1, sizeof(int64_t));
    if (!cnt) {
        free(bi);
        return xai_error_set(XAI_ENOMEM, "spray knn: out of memory");
    }
    for (int64_t i = 0; i < n; i++)
        for (int a = 0; a < k; a++) {
            cnt[i + 1]++;
            cnt[(int64_t)bi[i * k + a] + 1]++;
        }
    for (int64_t i = 0; i < n; i++)
        cnt[i + 1] += cnt[i];
    int32_t *col = xmalloc((size_t)cnt[n], sizeof(int32_t));
    int64_t *fill = xmalloc((size_t)n, sizeof(int64_t));
    if (!col || !fill) {
        free(bi), free(cnt), free(col), free(fill);
        return xai_error_set(XAI_ENOMEM, "spray knn: out of memory");
    }
    memcpy(fill, cnt, (size_t)n * sizeof(int64_t));
    for (int64_t i = 0; i < n; i++)
        for (int a = 0; a < k; a++) {
            int32_t j = bi[i * k + a];
            col[fill[i]++] = j;
            col[fill[j]++] = (int32_t)i;
        }
    free(bi), free(fill);
    int64_t w = csr_dedup_rows(n, cnt, col);
    double *val = xmalloc((size_t)w, sizeof(double));
    int32_t *col2 = realloc(col, (size_t)(w > 0 ? w : 1) * sizeof(int32_t));
    if (col2)
        col = col2;
    if (!val) {
        free(col), free(cnt);
        return xai_error_set(XAI_ENOMEM, "spray knn: out of memory");
    }
    for (int64_t p = 0; p < w; p++)
        val[p] = 1.0;
    out->n = n;
    out->rowptr = cnt;
    out->col = col;
    out->val = val;
    return XAI_OK;
}

xai_status xai_spray_knn(const float *x, int64_t n, int64_t dim, int k, xai_csr *out)
{
    if (!x || !out || n < 2 || dim < 1 || n > INT32_MAX || dim > INT32_MAX)
        return xai_error_set(XAI_EINVAL, "spray knn: bad arguments (n=%lld, dim=%lld)",
                             (long long)n, (long long)dim);
    if (k < 1 || k >= n)
        return xai_error_set(XAI_EINVAL, "spray knn: k=%d must be in 1..%lld", k, (long long)n - 1);
    memset(out, 0, sizeof *out);
    int32_t *bi = NULL;
    xai_status st = knn_nearest(x, n, dim, k, &bi);
    if (st != XAI_OK)
        return st;
    return knn_symmetrise(bi, n, k, out);
}

/* ---- eigenpairs of the normalised Laplacian ----------------------------------------- */

/* components by union-find; comp[i] in 0..nc-1, numbered by their lowest node */
static int components(const xai_csr *w, int32_t *comp)
{
    int64_t n = w->n;
    for (int64_t i = 0; i < n; i++)
        comp[i] = (int32_t)i;
    for (int64_t i = 0; i < n; i++)
        for (int64_t p = w->rowptr[i]; p < w->rowptr[i + 1]; p++) {
            int32_t a = (int32_t)i, b = w->col[p];
            while (comp[a] != a)
                a = comp[a] = comp[comp[a]];
            while (comp[b] != b)
                b = comp[b] = comp[comp[b]];
            if (a != b) {
                if (a < b)
                    comp[b] = a;
                else
                    comp[a] = b;
            }
        }
    int nc = 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t r = (int32_t)i;
        while (comp[r] != r)
            r = comp[r];
        comp[i] = r; /* root is the lowest index of the component */
    }
    /* renumber roots 0..nc-1 in order of first appearance; roots are < i so already final */
    for (int64_t i = 0; i < n; i++) {
        if (comp[i] == (int32_t)i)
            comp[i] = -(++nc); /* mark with a negative id */
        else
            comp[i] = comp[comp[i]];
    }
    for (int64_t i = 0; i < n; i++)
        comp[i] = -comp[i] - 1;
    return nc;
}

/* y = D^-1/2 W D^-1/2 x */
static void normadj_mul(const xai_csr *w, const double *isd, const double *x, double *y)
{
    for (int64_t i = 0; i < w->n; i++) {
        double s = 0;
        for (int64_t p = w->rowptr[i]; p < w->rowptr[i + 1]; p++)
            s += w->val[p] * isd[w->col[p]] * x[w->col[p]];
        y[i] = s * isd[i];
    }
}

/* largest @p need eigenpairs of the symmetric m x m matrix H (row-major, destroyed is ok):
 * values descending into th, vectors as columns of S (m x need, row-major) */
static xai_status small_eigs(double *h, int m, int need, double *th, double *s)
{
    int rc = spray_symm_eig_top(h, m, need, th, s);
    if (rc == -1)
        return xai_error_set(XAI_ENOMEM, "spray: out of memory in the eigen-solver (m=%d)", m);
    if (rc != 0)
        return xai_error_set(XAI_EDEP, "spray: GSL gsl_eigen_symmv failed (m=%d)", m);
    return XAI_OK;
}

/* v -= Z Z' v for the nz orthonormal columns of Z (n x nz, column j at Z + j*n) */
static void project_out(const double *z, int nz, int64_t n, double *v)
{
    for (int j = 0; j < nz; j++) {
        double d = cblas_ddot((int)n, z + (size_t)j * n, 1, v, 1);
        cblas_daxpy((int)n, -d, z + (size_t)j * n, 1, v, 1);
    }
}

/* Lanczos workspace: the basis Q (n x (mmax+1), column-major), the projected matrix H
 * (mmax x mmax, row-major) and the scratch of one Rayleigh-Ritz step */
typedef struct {
    const xai_csr *w;
    const double *isd, *z;
    int nz, mmax, keep;
    int64_t n;
    double *q, *hm, *hw, *s, *th, *f, *hc, *h2, *y;
} lz_work;

static void lz_free(lz_work *lz)
{
    free(lz->q), free(lz->hm), free(lz->hw), free(lz->s), free(lz->th), free(lz->f), free(lz->hc);
    free(lz->h2), free(lz->y);
}

/* basis size: at least 32 spare columns (or as many as requested) so that restarts are rare,
 * never more than the complement has dimensions */
static xai_status lz_alloc(lz_work *lz, int64_t cdim, int need)
{
    int64_t n = lz->n;
    int mmax = need + (need > 32 ? need : 32) + 8;
    if (mmax > cdim)
        mmax = (int)cdim;
    int keep = need + (mmax - need) / 2;
    if (keep >= mmax)
        keep = mmax - 1;
    lz->mmax = mmax;
    lz->keep = keep;
    lz->q = xmalloc((size_t)n * (size_t)(mmax + 1), sizeof(double));
    lz->hm = xcalloc((size_t)mmax * mmax, sizeof(double));
    lz->hw = xmalloc((size_t)mmax * mmax, sizeof(double));
    lz->s = xmalloc((size_t)mmax * mmax, sizeof(double));
    lz->th = xmalloc((size_t)mmax, sizeof(double));
    lz->f = xmalloc((size_t)n, sizeof(double));
    lz->hc = xmalloc((size_t)mmax + 1, sizeof(double));
    lz->h2 = xmalloc((size_t)mmax + 1, sizeof(double));
    lz->y = xmalloc((size_t)n * (size_t)mmax, sizeof(double));
    if (!lz->q || !lz->hm || !lz->hw || !lz->s || !lz->th || !lz->f || !lz->hc || !lz->h2 || !lz->y)
        return xai_error_set(XAI_ENOMEM, "spray lanczos: out of memory (n=%lld, m=%d)",
                             (long long)n, mmax);
    return XAI_OK;
}

/* column m of Q := a random unit vector orthogonal to Z and Q; retried a few times on bad luck */
static xai_status lz_fresh_vector(lz_work *lz, int m, uint64_t *rs)
{
    int64_t n = lz->n;
    double nr = 0;
    for (int attempt = 0; attempt < 8 && nr < 1e-8; attempt++) {
        double *v = lz->q + (size_t)m * n;
        for (int64_t i = 0; i < n; i++)
            v[i] = xai_splitmix_unit(rs) - 0.5;
        for (int pass = 0; pass < 2; pass++) {
            project_out(lz->z, lz->nz, n, v);
            if (m > 0) {
                cblas_dgemv(CblasColMajor, CblasTrans, (int)n, m, 1.0, lz->q, (int)n, v, 1, 0.0, lz->hc, 1);
                cblas_dgemv(CblasColMajor, CblasNoTrans, (int)n, m, -1.0, lz->q, (int)n, lz->hc, 1, 1.0, v, 1);
            }
        }
        nr = cblas_dnrm2((int)n, v, 1);
        if (nr >= 1e-8)
            cblas_dscal((int)n, 1.0 / nr, v, 1);
    }
    if (nr < 1e-8)
        return xai_error_set(XAI_ENUMERIC, "spray lanczos: cannot extend the Krylov basis");
    return XAI_OK;
}

/* grow the basis from column *m until it is full or breaks down: column m of H from M q_m,
 * the residual (orthogonalised twice) into f. Returns 1 on breakdown (an invariant subspace,
 * so the next column needs a fresh direction and H gets a zero coupling). */
static int lz_expand(lz_work *lz, int *m, double *fnorm)
{
    int64_t n = lz->n;
    int mmax = lz->mmax;
    double *q = lz->q, *f = lz->f, *hc = lz->hc, *h2 = lz->h2;
    while (*m < mmax) {
        double *qm = q + (size_t)*m * n;
        normadj_mul(lz->w, lz->isd, qm, f);
        int cols = *m + 1;
        cblas_dgemv(CblasColMajor, CblasTrans, (int)n, cols, 1.0, q, (int)n, f, 1, 0.0, hc, 1);
        cblas_dgemv(CblasColMajor, CblasNoTrans, (int)n, cols, -1.0, q, (int)n, hc, 1, 1.0, f, 1);
        cblas_dgemv(CblasColMajor, CblasTrans, (int)n, cols, 1.0, q, (int)n, f, 1, 0.0, h2, 1);
        cblas_dgemv(CblasColMajor, CblasNoTrans, (int)n, cols, -1.0, q, (int)n, h2, 1, 1.0, f, 1);
        project_out(lz->z, lz->nz, n, f);
        for (int i = 0; i < cols; i++) {
            double v = hc[i] + h2[i];
            lz->hm[(size_t)i * mmax + *m] = v;
            lz->hm[(size_t)*m * mmax + i] = v;
        }
        *fnorm = cblas_dnrm2((int)n, f, 1);
        (*m)++;
        if (*m == mmax)
            return 0;
        if (*fnorm < 1e-12)
            return 1;
        memcpy(q + (size_t)*m * n, f, (size_t)n * sizeof(double));
        cblas_dscal((int)n, 1.0 / *fnorm, q + (size_t)*m * n, 1);
    }
    return 0;
}

/* vecs = Q_m S_need (n x need, column-major by vector), theta = the top Ritz values */
static void lz_ritz_vectors(const lz_work *lz, int m, int nk, int need, double *theta, double *vecs)
{
    int64_t n = lz->n;
    for (int j = 0; j < need; j++) {
        double *v = vecs + (size_t)j * n;
        memset(v, 0, (size_t)n * sizeof(double));
        for (int i = 0; i < m; i++)
            cblas_daxpy((int)n, lz->s[(size_t)i * nk + j], lz->q + (size_t)i * n, 1, v, 1);
        theta[j] = lz->th[j];
    }
}

/* thick restart: keep nk Ritz vectors (H becomes their diagonal), then the normalised residual */
static void lz_restart(lz_work *lz, int m, int nk, double fnorm)
{
    int64_t n = lz->n;
    int mmax = lz->mmax;
    /* s is row-major m x nk, i.e. column-major S' (nk x m): Y = Q (n x m) * S (m x nk) */
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, (int)n, nk, m, 1.0, lz->q, (int)n, lz->s, nk,
                0.0, lz->y, (int)n);
    memcpy(lz->q, lz->y, (size_t)n * nk * sizeof(double));
    memset(lz->hm, 0, (size_t)mmax * mmax * sizeof(double));
    for (int i = 0; i < nk; i++)
        lz->hm[(size_t)i * mmax + i] = lz->th[i];
    memcpy(lz->q + (size_t)nk * n, lz->f, (size_t)n * sizeof(double));
    cblas_dscal((int)n, 1.0 / fnorm, lz->q + (size_t)nk * n, 1);
}

/* Rayleigh-Ritz on the m x m projected matrix: the top nk eigenpairs into th and s
 * (nk: the number kept at a restart, at least the ntop wanted) */
static xai_status lz_rayleigh_ritz(lz_work *lz, int m, int ntop, int *nk)
{
    *nk = m < lz->keep ? m : lz->keep;
    if (*nk < ntop)
        *nk = ntop;
    for (int i = 0; i < m; i++)
        memcpy(lz->hw + (size_t)i * m, lz->hm + (size_t)i * lz->mmax, (size_t)m * sizeof(double));
    return small_eigs(lz->hw, m, *nk, lz->th, lz->s);
}

/* Largest @p need eigenpairs of M = D^-1/2 W D^-1/2 on the complement of Z, by thick-restart
 * Lanczos with full (twice classical Gram-Schmidt) reorthogonalisation. The projected
 * matrix H = Q'MQ is kept in full, so the restart keeps Ritz vectors plus the residual
 * direction (Krylov-Schur form). Output: theta descending, vectors as columns (n x need). */
static xai_status lanczos(const xai_csr *w, const double *isd, const double *z, int nz, int need,
                          uint64_t seed, double *theta, double *vecs)
{
    lz_work lz = {.w = w, .isd = isd, .z = z, .nz = nz, .n = w->n};
    int64_t cdim = lz.n - nz;            /* dimension of the complement */
    const int max_restarts = 2000;
    const double tol = 1e-9;
    xai_status st = lz_alloc(&lz, cdim, need);
    uint64_t rs = seed ^ 0x5DEECE66Dull;
    int m = 0;           /* columns of Q in use */
    int restarts = 0;
    int start_new = 1;   /* column m must be filled with a fresh random vector */
    double fnorm = 0;
    while (st == XAI_OK) {
        if (start_new && (st = lz_fresh_vector(&lz, m, &rs)) != XAI_OK)
            break;
        start_new = lz_expand(&lz, &m, &fnorm);
        if (start_new && m < lz.mmax && m < need)
            continue;
        int ntop = need > m ? m : need;
        int nk;
        if ((st = lz_rayleigh_ritz(&lz, m, ntop, &nk)) != XAI_OK)
            break;
        int conv = ntop == need;
        if (start_new)
            fnorm = 0; /* breakdown: the basis is invariant */
        for (int j = 0; conv && j < need; j++)
            if (fabs(fnorm * lz.s[(size_t)(m - 1) * nk + j]) > tol)
                conv = 0;
        if (conv || m >= cdim) {
            if (ntop < need)
                st = xai_error_set(XAI_ENUMERIC, "spray lanczos: only %d of %d eigenpairs exist",
                                   ntop, need);
            else
                lz_ritz_vectors(&lz, m, nk, need, theta, vecs);
            break;
        }
        if (start_new)
            continue; /* Ritz pairs not yet accurate and the space is invariant: grow it */
        if (++restarts > max_restarts) {
            st = xai_error_set(XAI_ENUMERIC,
                               "spray lanczos: no convergence after %d restarts (n=%lld)",
                               max_restarts, (long long)lz.n);
            break;
        }
        lz_restart(&lz, m, nk, fnorm);
        m = nk;
    }
    lz_free(&lz);
    return st;
}

/* dense path: eigenpairs of M - 2 Z Z' (Z directions pushed to -1, below M's spectrum) */
static xai_status dense_eigs(const xai_csr *w, const double *isd, const double *z, int nz,
                             int need, double *theta, double *vecs)
{
    int64_t n = w->n;
    double *a = xcalloc((size_t)n * (size_t)n, sizeof(double));
    double *s = xmalloc((size_t)n * (size_t)need, sizeof(double));
    if (!a || !s) {
        free(a), free(s);
        return xai_error_set(XAI_ENOMEM, "spray: out of memory for the dense %lld x %lld matrix",
                             (long long)n, (long long)n);
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t p = w->rowptr[i]; p < w->rowptr[i + 1]; p++)
            a[i * n + w->col[p]] += w->val[p] * isd[i] * isd[w->col[p]];
    for (int j = 0; j < nz; j++)
        cblas_dger(CblasRowMajor, (int)n, (int)n, -2.0, z + (size_t)j * n, 1, z + (size_t)j * n, 1,
                   a, (int)n);
    xai_status st = small_eigs(a, (int)n, need, theta, s);
    if (st == XAI_OK)
        for (int j = 0; j < need; j++)
            for (int64_t i = 0; i < n; i++)
                vecs[(size_t)j * n + i] = s[(size_t)i * need + j];
    free(a), free(s);
    return st;
}

/* isd = D^-1/2 of the graph; refuses bad entries and isolated nodes */
static xai_status inv_sqrt_degrees(const xai_csr *w, double *isd)
{
    int64_t n = w->n;
    for (int64_t i = 0; i < n; i++) {
        double d = 0;
        for (int64_t p = w->rowptr[i]; p < w->rowptr[i + 1]; p++) {
            if (w->col[p] < 0 || w->col[p] >= n || !(w->val[p] >= 0) || !isfinite(w->val[p]))
                return xai_error_set(XAI_EINVAL, "spray eigs: bad entry in row %lld", (long long)i);
            d += w->val[p];
        }
        if (!(d > 0))
            return xai_error_set(XAI_EINVAL, "spray eigs: node %lld is isolated", (long long)i);
        isd[i] = 1.0 / sqrt(d);
    }
    return XAI_OK;
}

/* exact null vectors D^1/2 1_c of the first nz components, unit length, into z (n x nz) */
static void null_vectors(int64_t n, const int32_t *comp, const double *isd, int nz, double *z)
{
    for (int64_t i = 0; i < n; i++)
        if (comp[i] < nz)
            z[(size_t)comp[i] * n + i] = 1.0 / isd[i];
    for (int j = 0; j < nz; j++) {
        double nr = cblas_dnrm2((int)n, z + (size_t)j * n, 1);
        cblas_dscal((int)n, 1.0 / nr, z + (size_t)j * n, 1);
    }
}

/* the need smallest Laplacian eigenpairs on the complement of Z (1 - the largest of the
 * normalised adjacency), stored after the nz null pairs in evals and evecs */
static xai_status complement_eigs(const xai_csr *w, const double *isd, const double *z, int nz,
                                  int need, xai_spray_eigsolver solver, int dense_max,
                                  uint64_t seed, double *evals, double *evecs)
{
    int64_t n = w->n;
    double *theta = xmalloc((size_t)need, sizeof(double));
    double *vecs = xmalloc((size_t)n * (size_t)need, sizeof(double));
    xai_status st = XAI_OK;
    if (!theta || !vecs) {
        st = xai_error_set(XAI_ENOMEM, "spray eigs: out of memory");
        goto done;
    }
    if (solver == XAI_SPRAY_EIG_AUTO)
        solver = n <= dense_max ? XAI_SPRAY_EIG_DENSE : XAI_SPRAY_EIG_LANCZOS;
    if (solver == XAI_SPRAY_EIG_DENSE && n > 8192) {
        st = xai_error_set(XAI_EINVAL, "spray eigs: the dense solver is limited to 8192 nodes "
                           "(n=%lld needs %.1f GB); use Lanczos", (long long)n,
                           (double)n * (double)n * 8e-9);
        goto done;
    }
    st = solver == XAI_SPRAY_EIG_DENSE ? dense_eigs(w, isd, z, nz, need, theta, vecs)
                                       : lanczos(w, isd, z, nz, need, seed, theta, vecs);
    if (st != XAI_OK)
        goto done;
    for (int j = 0; j < need; j++) {
        double lam = 1.0 - theta[j];
        evals[nz + j] = lam < 0 && lam > -1e-12 ? 0.0 : lam;
        memcpy(evecs + (size_t)(nz + j) * n, vecs + (size_t)j * n, (size_t)n * sizeof(double));
    }
done:
    free(theta), free(vecs);
    return st;
}

/* deterministic signs: the entry of largest magnitude of each vector is positive */
static void fix_signs(double *evecs, int64_t n, int nev)
{
    for (int j = 0; j < nev; j++) {
        double *v = evecs + (size_t)j * n;
        double nr = cblas_dnrm2((int)n, v, 1);
        int64_t im = 0;
        for (int64_t i = 1; i < n; i++)
            if (fabs(v[i]) > fabs(v[im]) + 1e-12 * nr)
                im = i;
        double sc = (v[im] < 0 ? -1.0 : 1.0) / (nr > 0 ? nr : 1.0);
        cblas_dscal((int)n, sc, v, 1);
    }
}

xai_status xai_spray_laplacian_eigs(const xai_csr *w, int nev, xai_spray_eigsolver solver,
                                    int dense_max, uint64_t seed, double *evals, double *evecs,
                                    int *ncomp)
{
    if (!w || !w->rowptr || !evals || !evecs || w->n < 1 || w->n > INT32_MAX)
        return xai_error_set(XAI_EINVAL, "spray eigs: bad arguments");
    int64_t n = w->n;
    if (nev < 1 || nev > XAI_SPRAY_MAX_EIG || nev > n)
        return xai_error_set(XAI_EINVAL, "spray eigs: nev=%d must be in 1..%lld", nev,
                             (long long)(n < XAI_SPRAY_MAX_EIG ? n : XAI_SPRAY_MAX_EIG));
    double *isd = xmalloc((size_t)n, sizeof(double));
    int32_t *comp = xmalloc((size_t)n, sizeof(int32_t));
    double *z = NULL;
    xai_status st = XAI_OK;
    if (!isd || !comp) {
        st = xai_error_set(XAI_ENOMEM, "spray eigs: out of memory");
        goto done;
    }
    if ((st = inv_sqrt_degrees(w, isd)) != XAI_OK)
        goto done;
    int nc = components(w, comp);
    if (ncomp)
        *ncomp = nc;
    int nz = nc < nev ? nc : nev;
    z = xcalloc((size_t)n * (size_t)(nz > 0 ? nz : 1), sizeof(double));
    if (!z) {
        st = xai_error_set(XAI_ENOMEM, "spray eigs: out of memory");
        goto done;
    }
    null_vectors(n, comp, isd, nz, z);
    for (int j = 0; j < nz; j++) {
        evals[j] = 0.0;
        memcpy(evecs + (size_t)j * n, z + (size_t)j * n, (size_t)n * sizeof(double));
    }
    /* when every component is already used as a Z vector the complement must be covered
     * too: then Z holds all nc components and need <= n - nc */
    int need = nev - nz;
    if (need > 0 &&
        (st = complement_eigs(w, isd, z, nz, need, solver, dense_max, seed, evals, evecs)) != XAI_OK)
        goto done;
    fix_signs(evecs, n, nev);
done:
    free(isd), free(comp), free(z);
    return st;
}

/* ---- k-means ------------------------------------------------------------------------ */

static double sqdist(const double *a, const double *b, int d)
{
    double s = 0;
    for (int j = 0; j < d; j++) {
        double e = a[j] - b[j];
        s += e * e;
    }
    return s;
}

/* k-means++ seeding (Arthur & Vassilvitskii 2007): centres drawn with probability
 * proportional to the squared distance to the nearest centre so far */
static void kmeanspp_seed(const double *x, int64_t n, int dim, int k, uint64_t *rs, double *c,
                          double *dmin)
{
    int64_t first = (int64_t)(xai_splitmix_unit(rs) * (double)n);
    if (first >= n)
        first = n - 1;
    memcpy(c, x + first * dim, (size_t)dim * sizeof(double));
    double tot = 0;
    for (int64_t i = 0; i < n; i++) {
        dmin[i] = sqdist(x + i * dim, c, dim);
        tot += dmin[i];
    }
    for (int cc = 1; cc < k; cc++) {
        int64_t pick = n - 1;
        if (tot > 0) {
            double r = xai_splitmix_unit(rs) * tot, acc = 0;
            for (int64_t i = 0; i < n; i++) {
                acc += dmin[i];
                if (acc > r && dmin[i] > 0) {
                    pick = i;
                    break;
                }
            }
        } else {
            pick = (int64_t)(xai_splitmix_unit(rs) * (double)n);
            if (pick >= n)
                pick = n - 1;
        }
        memcpy(c + (size_t)cc * dim, x + pick * dim, (size_t)dim * sizeof(double));
        tot = 0;
        for (int64_t i = 0; i < n; i++) {
            double d = sqdist(x + i * dim, c + (size_t)cc * dim, dim);
            if (d < dmin[i])
                dmin[i] = d;
            tot += dmin[i];
        }
    }
}

/* Lloyd's assignment step: each point to its nearest centre (distance into dmin);
 * returns whether any label changed, the inertia into *inertia */
static int kmeans_assign(const double *x, int64_t n, int dim, int k, const double *c, int *lab,
                         double *dmin, double *inertia)
{
    int changed = 0;
    *inertia = 0;
    for (int64_t i = 0; i < n; i++) {
        int best = 0;
        double bd = sqdist(x + i * dim, c, dim);
        for (int cc = 1; cc < k; cc++) {
            double d = sqdist(x + i * dim, c + (size_t)cc * dim, dim);
            if (d < bd) {
                bd = d;
                best = cc;
            }
        }
        dmin[i] = bd;
        *inertia += bd;
        if (lab[i] != best) {
            lab[i] = best;
            changed = 1;
        }
    }
    return changed;
}

/* Lloyd's update step: centres to their cluster means; an empty cluster moves to the point
 * farthest from its centre */
static void kmeans_update(const double *x, int64_t n, int dim, int k, const int *lab, double *c,
                          double *dmin, int64_t *cnt)
{
    memset(c, 0, (size_t)k * dim * sizeof(double));
    memset(cnt, 0, (size_t)k * sizeof(int64_t));
    for (int64_t i = 0; i < n; i++) {
        cnt[lab[i]]++;
        for (int j = 0; j < dim; j++)
            c[(size_t)lab[i] * dim + j] += x[i * dim + j];
    }
    for (int cc = 0; cc < k; cc++) {
        if (cnt[cc] > 0) {
            for (int j = 0; j < dim; j++)
                c[(size_t)cc * dim + j] /= (double)cnt[cc];
        } else {
            int64_t far = 0;
            for (int64_t i = 1; i < n; i++)
                if (dmin[i] > dmin[far])
                    far = i;
            memcpy(c + (size_t)cc * dim, x + far * dim, (size_t)dim * sizeof(double));
            dmin[far] = 0;
        }
    }
}

/* one k-means++ seeded Lloyd run; returns inertia */
static double kmeans_once(const double *x, int64_t n, int dim, int k, int max_iter, uint64_t *rs,
                          int *lab, double *c, double *dmin, int64_t *cnt)
{
    kmeanspp_seed(x, n, dim, k, rs, c, dmin);
    for (int64_t i = 0; i < n; i++)
        lab[i] = -1;
    double inertia = 0;
    for (int it = 0; it < max_iter; it++) {
        if (!kmeans_assign(x, n, dim, k, c, lab, dmin, &inertia))
            break;
        kmeans_update(x, n, dim, k, lab, c, dmin, cnt);
    }
    return inertia;
}

xai_status xai_kmeans(const double *x, int64_t n, int dim, int k, int restarts, int max_iter,
                      uint64_t seed, int *labels, double *centers, double *inertia)
{
    if (!x || !labels || n < 1 || dim < 1 || k < 1 || k > n || restarts < 1 || max_iter < 1)
        return xai_error_set(XAI_EINVAL, "kmeans: bad arguments (n=%lld, dim=%d, k=%d, restarts=%d)",
                             (long long)n, dim, k, restarts);
    int *lab = xmalloc((size_t)n, sizeof(int));
    double *c = xmalloc((size_t)k * dim, sizeof(double));
    double *bc = xmalloc((size_t)k * dim, sizeof(double));
    double *dmin = xmalloc((size_t)n, sizeof(double));
    int64_t *cnt = xmalloc((size_t)k, sizeof(int64_t));
    int64_t *first = xmalloc((size_t)k, sizeof(int64_t));
    int *perm = xmalloc((size_t)k, sizeof(int));
    if (!lab || !c || !bc || !dmin || !cnt || !first || !perm) {
        free(lab), free(c), free(bc), free(dmin), free(cnt), free(first), free(perm);
        return xai_error_set(XAI_ENOMEM, "kmeans: out of memory (n=%lld)", (long long)n);
    }
    double best = INFINITY;
    for (int r = 0; r < restarts; r++) {
        uint64_t rs = seed + 0x632BE59BD9B4E019ull * (uint64_t)(r + 1);
        double in = kmeans_once(x, n, dim, k, max_iter, &rs, lab, c, dmin, cnt);
        if (in < best) {
            best = in;
            memcpy(labels, lab, (size_t)n * sizeof(int));
            memcpy(bc, c, (size_t)k * dim * sizeof(double));
        }
    }
    /* canonical numbering: larger clusters first, ties by first member */
    for (int cc = 0; cc < k; cc++) {
        cnt[cc] = 0;
        first[cc] = n;
        perm[cc] = cc;
    }
    for (int64_t i = 0; i < n; i++) {
        cnt[labels[i]]++;
        if (first[labels[i]] == n)
            first[labels[i]] = i;
    }
    for (int a = 1; a < k; a++) { /* insertion sort of cluster ids */
        int v = perm[a], b = a;
        while (b > 0 && (cnt[perm[b - 1]] < cnt[v] ||
                         (cnt[perm[b - 1]] == cnt[v] && first[perm[b - 1]] > first[v]))) {
            perm[b] = perm[b - 1];
            b--;
        }
        perm[b] = v;
    }
    int *inv = lab; /* reuse: inverse permutation in the first k slots */
    for (int a = 0; a < k; a++)
        inv[perm[a]] = a;
    for (int64_t i = 0; i < n; i++)
        labels[i] = inv[labels[i]];
    if (centers)
        for (int a = 0; a < k; a++)
            memcpy(centers + (size_t)a * dim, bc + (size_t)perm[a] * dim, (size_t)dim * sizeof(double));
    if (inertia)
        *inertia = best;
    free(lab), free(c), free(bc), free(dmin), free(cnt), free(first), free(perm);
    return XAI_OK;
}

/* ---- Fisher discriminant ------------------------------------------------------------ */

/* group sizes cnt, group means mc (k x d) and the grand mean mu; labels must lie in 0..k-1
 * and at least two groups must be non-empty */
static xai_status fda_means(const double *x, int64_t n, int dim, const int *labels, int k,
                            double *mu, double *mc, int64_t *cnt)
{
    size_t d = (size_t)dim;
    for (int64_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= k)
            return xai_error_set(XAI_EINVAL, "fda: label %d of point %lld is outside 0..%d",
                                 labels[i], (long long)i, k - 1);
        cnt[labels[i]]++;
        for (size_t a = 0; a < d; a++) {
            mc[(size_t)labels[i] * d + a] += x[i * dim + a];
            mu[a] += x[i * dim + a];
        }
    }
    int groups = 0;
    for (int c = 0; c < k; c++)
        if (cnt[c] > 0) {
            groups++;
            for (size_t a = 0; a < d; a++)
                mc[(size_t)c * d + a] /= (double)cnt[c];
        }
    if (groups < 2)
        return xai_error_set(XAI_EINVAL, "fda: need at least 2 non-empty groups, got %d", groups);
    for (size_t a = 0; a < d; a++)
        mu[a] /= (double)n;
    return XAI_OK;
}

/* within- and between-group scatter into sw and sb (d x d); returns the ridge added to the
 * diagonal of sw. The ridge is relative to the total scatter S_w + S_b: collapsed groups
 * (S_w = 0) then give J ~ 1e12 rather than an overflow, and J stays invariant under scaling. */
static double fda_scatter(const double *x, int64_t n, int dim, const int *labels, int k,
                          const double *mu, const double *mc, const int64_t *cnt, double *sw,
                          double *sb)
{
    size_t d = (size_t)dim;
    for (int64_t i = 0; i < n; i++) {
        const double *m = mc + (size_t)labels[i] * d;
        for (size_t a = 0; a < d; a++)
            for (size_t b = 0; b < d; b++)
                sw[a * d + b] += (x[i * dim + a] - m[a]) * (x[i * dim + b] - m[b]);
    }
    for (int c = 0; c < k; c++)
        for (size_t a = 0; a < d && cnt[c] > 0; a++)
            for (size_t b = 0; b < d; b++)
                sb[a * d + b] += (double)cnt[c] * (mc[(size_t)c * d + a] - mu[a]) *
                                 (mc[(size_t)c * d + b] - mu[b]);
    double tr = 0;
    for (size_t a = 0; a < d; a++)
        tr += sw[a * d + a] + sb[a * d + a];
    double ridge = 1e-12 * tr / (double)d + 1e-300;
    for (size_t a = 0; a < d; a++)
        sw[a * d + a] += ridge;
    return ridge;
}

/* the whitener P = V diag(l^-1/2) V' of Sw = V diag(l) V' (eigenvalues floored at the ridge);
 * sw is destroyed, ev and V are scratch */
static xai_status fda_whitener(double *sw, int dim, double ridge, double *ev, double *V, double *p)
{
    size_t d = (size_t)dim;
    int rc = spray_symm_eig_top(sw, dim, dim, ev, V);
    if (rc != 0)
        return rc == -1 ? xai_error_set(XAI_ENOMEM, "fda: out of memory")
                        : xai_error_set(XAI_EDEP, "fda: GSL gsl_eigen_symmv failed on S_w");
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++) {
            double s = 0;
            for (size_t e = 0; e < d; e++) {
                double l = ev[e] > ridge ? ev[e] : ridge;
                s += V[a * d + e] * V[b * d + e] / sqrt(l);
            }
            p[a * d + b] = s;
        }
    return XAI_OK;
}

/* w = P v of unit length, its sign chosen so that the largest |entry| is positive */
static void fda_direction(const double *p, const double *v, int dim, double *u, double *wopt)
{
    size_t d = (size_t)dim;
    double nr = 0;
    for (size_t a = 0; a < d; a++) {
        double s = 0;
        for (size_t b = 0; b < d; b++)
            s += p[a * d + b] * v[b];
        u[a] = s;
        nr += s * s;
    }
    nr = sqrt(nr);
    size_t im = 0;
    for (size_t a = 1; a < d; a++)
        if (fabs(u[a]) > fabs(u[im]))
            im = a;
    double sc = (u[im] < 0 ? -1.0 : 1.0) / (nr > 0 ? nr : 1.0);
    for (size_t a = 0; a < d; a++)
        wopt[a] = u[a] * sc;
}

xai_status xai_fda_score(const double *x, int64_t n, int dim, const int *labels, int k, double *j,
                         double *wopt)
{
    if (!x || !labels || !j || n < 2 || dim < 1 || k < 2 || dim > 4096)
        return xai_error_set(XAI_EINVAL, "fda: bad arguments (n=%lld, dim=%d, k=%d)", (long long)n,
                             dim, k);
    size_t d = (size_t)dim;
    double *mu = xcalloc(d, sizeof(double)), *mc = xcalloc((size_t)k * d, sizeof(double));
    int64_t *cnt = xcalloc((size_t)k, sizeof(int64_t));
    double *sw = xcalloc(d * d, sizeof(double)), *sb = xcalloc(d * d, sizeof(double));
    double *t = xcalloc(d * d, sizeof(double)), *u = xcalloc(d, sizeof(double));
    double *ev = xcalloc(d, sizeof(double)), *V = xcalloc(d * d, sizeof(double));
    double *p = xcalloc(d * d, sizeof(double));
    xai_status st = XAI_OK;
    int rc;
    if (!mu || !mc || !cnt || !sw || !sb || !t || !u || !ev || !V || !p) {
        st = xai_error_set(XAI_ENOMEM, "fda: out of memory");
        goto done;
    }
    if ((st = fda_means(x, n, dim, labels, k, mu, mc, cnt)) != XAI_OK)
        goto done;
    double ridge = fda_scatter(x, n, dim, labels, k, mu, mc, cnt, sw, sb);
    /* whiten: J* = top eigenvalue of P Sb P and w* = P v* (the generalised eigenvector of
     * (Sb, Sw)) */
    if ((st = fda_whitener(sw, dim, ridge, ev, V, p)) != XAI_OK)
        goto done;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, dim, dim, dim, 1.0, p, dim, sb, dim, 0.0,
                sw, dim);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, dim, dim, dim, 1.0, sw, dim, p, dim, 0.0,
                t, dim);
    for (size_t a = 0; a < d; a++) /* symmetrise rounding */
        for (size_t b = a + 1; b < d; b++)
            t[a * d + b] = t[b * d + a] = 0.5 * (t[a * d + b] + t[b * d + a]);
    rc = spray_symm_eig_top(t, dim, 1, ev, V);
    if (rc != 0) {
        st = rc == -1 ? xai_error_set(XAI_ENOMEM, "fda: out of memory")
                      : xai_error_set(XAI_EDEP, "fda: GSL gsl_eigen_symmv failed");
        goto done;
    }
    *j = ev[0] > 0 ? ev[0] : 0.0;
    if (wopt)
        fda_direction(p, V, dim, u, wopt);
done:
    free(mu), free(mc), free(cnt), free(sw), free(sb), free(t), free(u), free(ev), free(V), free(p);
    return st;
}

/* ---- adjusted Rand index ------------------------------------------------------------ */

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* map labels to 0..m-1 through their sorted distinct values */
static int compact(const int *a, int64_t n, int *out, int *m)
{
    int *s = xmalloc((size_t)n, sizeof(int));
    if (!s)
        return -1;
    memcpy(s, a, (size_t)n * sizeof(int));
    qsort(s, (size_t)n, sizeof(int), cmp_int);
    int64_t u = 0;
    for (int64_t i = 0; i < n; i++)
        if (i == 0 || s[i] != s[i - 1])
            s[u++] = s[i];
    for (int64_t i = 0; i < n; i++) {
        int *f = bsearch(&a[i], s, (size_t)u, sizeof(int), cmp_int);
        out[i] = (int)(f - s);
    }
    *m = (int)u;
    free(s);
    return 0;
}

xai_status xai_adjusted_rand_index(const int *a, const int *b, int64_t n, double *ari)
{
    if (!a || !b || !ari || n < 1)
        return xai_error_set(XAI_EINVAL, "ari: bad arguments (n=%lld)", (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (a[i] < 0 || b[i] < 0)
            return xai_error_set(XAI_EINVAL, "ari: negative label at item %lld", (long long)i);
    int *ca = xmalloc((size_t)n, sizeof(int)), *cb = xmalloc((size_t)n, sizeof(int));
    int ma = 0, mb = 0;
    if (!ca || !cb || compact(a, n, ca, &ma) || compact(b, n, cb, &mb)) {
        free(ca), free(cb);
        return xai_error_set(XAI_ENOMEM, "ari: out of memory");
    }
    /* contingency counts via sorting pair codes (ma * mb may be large) */
    int64_t *code = xmalloc((size_t)n, sizeof(int64_t));
    double *ra = xcalloc((size_t)ma, sizeof(double)), *rb = xcalloc((size_t)mb, sizeof(double));
    if (!code || !ra || !rb) {
        free(ca), free(cb), free(code), free(ra), free(rb);
        return xai_error_set(XAI_ENOMEM, "ari: out of memory");
    }
    for (int64_t i = 0; i < n; i++) {
        code[i] = (int64_t)ca[i] * mb + cb[i];
        ra[ca[i]] += 1;
        rb[cb[i]] += 1;
    }
    /* bottom-up merge sort of the pair codes; equal runs are the contingency cells */
    int64_t *tmp = xmalloc((size_t)n, sizeof(int64_t));
    if (!tmp) {
        free(ca), free(cb), free(code), free(ra), free(rb);
        return xai_error_set(XAI_ENOMEM, "ari: out of memory");
    }
    for (int64_t width = 1; width < n; width *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * width) {
            int64_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            int64_t p = lo, q = mid, o = lo;
            while (p < mid && q < hi)
                tmp[o++] = code[p] <= code[q] ? code[p++] : code[q++];
            while (p < mid)
                tmp[o++] = code[p++];
            while (q < hi)
                tmp[o++] = code[q++];
        }
        memcpy(code, tmp, (size_t)n * sizeof(int64_t));
    }
    double sij = 0, sa = 0, sb = 0;
    for (int64_t i = 0; i < n;) {
        int64_t e = i;
        while (e < n && code[e] == code[i])
            e++;
        double c = (double)(e - i);
        sij += c * (c - 1) / 2;
        i = e;
    }
    for (int i = 0; i < ma; i++)
        sa += ra[i] * (ra[i] - 1) / 2;
    for (int i = 0; i < mb; i++)
        sb += rb[i] * (rb[i] - 1) / 2;
    double tot = (double)n * ((double)n - 1) / 2;
    double expct = tot > 0 ? sa * sb / tot : 0, mx = 0.5 * (sa + sb);
    *ari = mx - expct != 0 ? (sij - expct) / (mx - expct) : 1.0;
    free(ca), free(cb), free(code), free(ra), free(rb), free(tmp);
    return XAI_OK;
}

/* ---- the SpRAy pipeline ------------------------------------------------------------- */

static xai_status fda_null(const float *x, int64_t n, int64_t dim, const xai_spray_config *cfg, int k,
                           double *out);

/* the argument and option checks of spray_run(); knn and nev clipped to what n maps allow */
static xai_status spray_check(const float *x, int64_t n, int64_t dim, const xai_spray_config *cfg,
                              xai_spray_result **out, int *knn, int *nev)
{
    if (!x || !cfg || !out || dim < 1)
        return xai_error_set(XAI_EINVAL, "spray: bad arguments");
    *out = NULL;
    if (n < 3)
        return xai_error_set(XAI_EINVAL, "spray: %lld maps are too few (need 3)", (long long)n);
    if (cfg->knn < 1 || cfg->n_eig < 2 || cfg->n_eig > XAI_SPRAY_MAX_EIG || cfg->restarts < 1 ||
        cfg->max_iter < 1 || cfg->n_clusters < 0 || cfg->min_clusters < 1 ||
        cfg->max_clusters < cfg->min_clusters)
        return xai_error_set(XAI_EINVAL,
                             "spray: bad options (knn=%d, n_eig=%d, restarts=%d, clusters %d..%d)",
                             cfg->knn, cfg->n_eig, cfg->restarts, cfg->min_clusters,
                             cfg->max_clusters);
    *knn = cfg->knn < n ? cfg->knn : (int)n - 1;
    *nev = cfg->n_eig < n ? cfg->n_eig : (int)n;
    if (cfg->n_clusters > *nev)
        return xai_error_set(XAI_EINVAL, "spray: %d clusters need at least as many eigenvectors "
                             "(n_eig=%d)", cfg->n_clusters, *nev);
    return XAI_OK;
}

/* the Laplacian's eigenpairs (vectors into ev, n x nev by vector) and the spectral embedding
 * D^-1/2 u (random-walk eigenvectors) into r->embedding */
static xai_status spray_spectrum(const xai_csr *g, const xai_spray_config *cfg, xai_spray_result *r,
                                 double *ev)
{
    int64_t n = r->n;
    int nev = r->n_eig;
    xai_spray_eigsolver solver = cfg->solver;
    if (solver == XAI_SPRAY_EIG_AUTO)
        solver = n <= cfg->dense_max ? XAI_SPRAY_EIG_DENSE : XAI_SPRAY_EIG_LANCZOS;
    r->used_lanczos = solver == XAI_SPRAY_EIG_LANCZOS;
    double t0 = now_s();
    xai_status st = xai_spray_laplacian_eigs(g, nev, solver, cfg->dense_max, cfg->seed,
                                             r->eigenvalues, ev, &r->n_components);
    r->eig_seconds = now_s() - t0;
    if (st != XAI_OK)
        return st;
    for (int64_t i = 0; i < n; i++) {
        double deg = 0;
        for (int64_t p = g->rowptr[i]; p < g->rowptr[i + 1]; p++)
            deg += g->val[p];
        double s = 1.0 / sqrt(deg);
        for (int j = 0; j < nev; j++)
            r->embedding[i * nev + j] = (float)(ev[(size_t)j * n + i] * s);
    }
    return XAI_OK;
}

/* k from the largest eigengap lambda_k - lambda_{k-1}, k in [min, max], unless fixed */
static int eigengap_k(const xai_spray_config *cfg, const double *lambda, int nev, int64_t n)
{
    int k = cfg->n_clusters;
    if (k == 0) {
        int kmin = cfg->min_clusters, kmax = cfg->max_clusters < nev - 1 ? cfg->max_clusters : nev - 1;
        if (kmin > kmax)
            kmin = kmax;
        if (kmin < 1)
            kmin = 1;
        double bestgap = -1;
        k = kmin;
        for (int kk = kmin; kk <= kmax; kk++) {
            double gap = lambda[kk] - lambda[kk - 1];
            if (gap > bestgap) {
                bestgap = gap;
                k = kk;
            }
        }
    }
    if (k > n)
        k = (int)n;
    return k;
}

/* NJW: the first k eigenvectors with each row normalised to unit length */
static void njw_features(const double *ev, int64_t n, int k, double *feat)
{
    for (int64_t i = 0; i < n; i++) {
        double nr = 0;
        for (int j = 0; j < k; j++) {
            double v = ev[(size_t)j * n + i];
            feat[i * k + j] = v;
            nr += v * v;
        }
        nr = sqrt(nr);
        for (int j = 0; j < k && nr > 0; j++)
            feat[i * k + j] /= nr;
    }
}

/* FDA of the clusters on the non-trivial spectral coordinates c0 .. k-1 (feat is scratch of
 * n x k), and against the null reference when with_null */
static xai_status spray_fda(const float *x, int64_t dim, const xai_spray_config *cfg, int with_null,
                            int c0, xai_spray_result *r, double *feat)
{
    int64_t n = r->n;
    int k = r->n_clusters, nev = r->n_eig;
    r->fda = 0;
    r->fda_null = 0;
    r->fda_ratio = 0;
    if (k < 2)
        return XAI_OK;
    int fd = k - c0;
    if (fd < 1)
        fd = 1;
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < fd; j++)
            feat[i * fd + j] = r->embedding[i * nev + c0 + j];
    xai_status st = xai_fda_score(feat, n, fd, r->labels, k, &r->fda, NULL);
    if (st == XAI_OK && with_null)
        st = fda_null(x, n, dim, cfg, k, &r->fda_null);
    if (st != XAI_OK)
        return st;
    r->fda_ratio = r->fda_null > 0 ? r->fda / r->fda_null : 0;
    return XAI_OK;
}

/* spectral clustering of the embedding into k groups: labels, sizes and the 2-D view, which
 * shows the first two non-trivial coordinates (skipping the constant one) */
static xai_status spray_cluster(const xai_spray_config *cfg, const double *ev, xai_spray_result *r,
                                double **feat, int *c0)
{
    int64_t n = r->n;
    int k = r->n_clusters, nev = r->n_eig;
    *feat = xmalloc((size_t)n * k, sizeof(double));
    r->sizes = xcalloc((size_t)k, sizeof(int64_t));
    if (!*feat || !r->sizes)
        return xai_error_set(XAI_ENOMEM, "spray: out of memory");
    njw_features(ev, n, k, *feat);
    double t0 = now_s();
    xai_status st = xai_kmeans(*feat, n, k, k, cfg->restarts, cfg->max_iter, cfg->seed, r->labels,
                               NULL, &r->inertia);
    r->kmeans_seconds = now_s() - t0;
    if (st != XAI_OK)
        return st;
    for (int64_t i = 0; i < n; i++)
        r->sizes[r->labels[i]]++;
    *c0 = r->n_components == 1 ? 1 : 0;
    for (int64_t i = 0; i < n; i++)
        for (int a = 0; a < 2; a++)
            r->embedding2d[i * 2 + a] = *c0 + a < nev ? r->embedding[i * nev + *c0 + a] : 0.0f;
    return XAI_OK;
}

/* xai_spray_run(); with_null = 0 skips the null reference (the null's own runs). */
static xai_status spray_run(const float *x, int64_t n, int64_t dim, const xai_spray_config *cfg, int with_null,
                            xai_spray_result **out)
{
    int knn = 0, nev = 0, c0 = 0;
    xai_status st = spray_check(x, n, dim, cfg, out, &knn, &nev);
    if (st != XAI_OK)
        return st;
    xai_spray_result *r = calloc(1, sizeof *r);
    xai_csr g = {0};
    double *ev = NULL, *feat = NULL;
    if (!r)
        return xai_error_set(XAI_ENOMEM, "spray: out of memory");
    r->n = n;
    r->n_eig = nev;
    double t0 = now_s();
    st = xai_spray_knn(x, n, dim, knn, &g);
    r->knn_seconds = now_s() - t0;
    if (st != XAI_OK)
        goto fail;
    r->eigenvalues = xmalloc((size_t)nev, sizeof(double));
    ev = xmalloc((size_t)n * nev, sizeof(double));
    r->embedding = xmalloc((size_t)n * nev, sizeof(float));
    r->embedding2d = xmalloc((size_t)n * 2, sizeof(float));
    r->labels = xmalloc((size_t)n, sizeof(int));
    if (!r->eigenvalues || !ev || !r->embedding || !r->embedding2d || !r->labels) {
        st = xai_error_set(XAI_ENOMEM, "spray: out of memory for %lld maps", (long long)n);
        goto fail;
    }
    if ((st = spray_spectrum(&g, cfg, r, ev)) != XAI_OK)
        goto fail;
    r->n_clusters = eigengap_k(cfg, r->eigenvalues, nev, n);
    if ((st = spray_cluster(cfg, ev, r, &feat, &c0)) != XAI_OK ||
        (st = spray_fda(x, dim, cfg, with_null, c0, r, feat)) != XAI_OK)
        goto fail;
    xai_csr_free(&g);
    free(ev), free(feat);
    *out = r;
    return XAI_OK;
fail:
    xai_csr_free(&g);
    free(ev), free(feat);
    xai_spray_result_free(r);
    return st;
}

xai_status xai_spray_run(const float *x, int64_t n, int64_t dim, const xai_spray_config *cfg,
                         xai_spray_result **out)
{
    return spray_run(x, n, dim, cfg, 1, out);
}

/* The FDA score the same pipeline gives, with the same number of clusters, to the maps with
 * their values shuffled within each map: every map keeps its distribution of values but the
 * maps share no structure, so their k clusters are separable only as far as any k k-means
 * clusters are. J over this reference is comparable across k (a permutation reference, as
 * in the gap statistic of Tibshirani, Walther & Hastie 2001); mean of two shuffles. */
static xai_status fda_null(const float *x, int64_t n, int64_t dim, const xai_spray_config *cfg, int k,
                           double *out)
{
    enum { DRAWS = 2 };
    float *y = xmalloc((size_t)n * (size_t)dim, sizeof(float));
    if (!y)
        return xai_error_set(XAI_ENOMEM, "spray: out of memory for the null reference");
    xai_spray_config c = *cfg;
    c.n_clusters = k;
    uint64_t rs = cfg->seed ^ 0x6a09e667f3bcc909ULL;
    double sum = 0;
    xai_status st = XAI_OK;
    for (int d = 0; d < DRAWS && st == XAI_OK; d++) {
        memcpy(y, x, sizeof(float) * (size_t)n * (size_t)dim);
        for (int64_t i = 0; i < n; i++) {
            float *row = y + (size_t)i * (size_t)dim;
            for (int64_t a = dim - 1; a > 0; a--) { /* Fisher-Yates */
                int64_t b = (int64_t)(xai_splitmix_unit(&rs) * (double)(a + 1));
                b = b > a ? a : b;
                float t = row[a];
                row[a] = row[b];
                row[b] = t;
            }
        }
        xai_spray_result *r = NULL;
        st = spray_run(y, n, dim, &c, 0, &r);
        if (st == XAI_OK)
            sum += r->fda;
        xai_spray_result_free(r);
    }
    free(y);
    *out = st == XAI_OK ? sum / DRAWS : 0;
    return st;
}

xai_status xai_spray_by_class(const float *x, int64_t n, int64_t dim, const int *labels,
                              const int *classes, int nclasses, const xai_spray_config *cfg,
                              xai_spray_result **results, int *order)
{
    if (!x || !labels || !classes || nclasses < 1 || !cfg || !results || !order || n < 1 || dim < 1)
        return xai_error_set(XAI_EINVAL, "spray by class: bad arguments");
    for (int c = 0; c < nclasses; c++)
        results[c] = NULL;
    float *sub = xmalloc((size_t)n, (size_t)dim * sizeof(float));
    if (!sub)
        return xai_error_set(XAI_ENOMEM, "spray by class: out of memory");
    xai_status st = XAI_OK;
    for (int c = 0; c < nclasses; c++) {
        int64_t m = 0;
        for (int64_t i = 0; i < n; i++)
            if (labels[i] == classes[c])
                memcpy(sub + (size_t)(m++) * dim, x + (size_t)i * dim, (size_t)dim * sizeof(float));
        st = xai_spray_run(sub, m, dim, cfg, &results[c]);
        if (st != XAI_OK) {
            char pre[64];
            snprintf(pre, sizeof pre, "class %d", classes[c]);
            xai_error_prefix(st, pre);
            for (int b = 0; b < c; b++) {
                xai_spray_result_free(results[b]);
                results[b] = NULL;
            }
            free(sub);
            return st;
        }
        order[c] = c;
    }
    free(sub);
    for (int a = 1; a < nclasses; a++) { /* insertion sort by descending FDA, stable */
        int v = order[a], b = a;
        while (b > 0 && results[order[b - 1]]->fda_ratio < results[v]->fda_ratio) {
            order[b] = order[b - 1];
            b--;
        }
        order[b] = v;
    }
    return st;
}

xai_status xai_spray_cluster_means(const float *maps, int64_t n_all, int64_t dim, const int *labels, int cls,
                                   const xai_spray_result *r, float *means)
{
    if (!maps || !labels || !r || !means || dim < 1 || n_all < 1 || r->n_clusters < 1)
        return xai_error_set(XAI_EINVAL, "spray: cluster means: NULL argument, no maps or no clusters");
    int64_t m = 0;
    for (int64_t i = 0; i < n_all; i++)
        m += labels[i] == cls;
    if (m != r->n)
        return xai_error_set(XAI_EINVAL, "spray: cluster means: class %d has %lld maps, the result %lld", cls,
                             (long long)m, (long long)r->n);
    size_t md = (size_t)dim, k = (size_t)r->n_clusters;
    double *acc = calloc(k * md, sizeof(double));
    if (!acc)
        return xai_error_set(XAI_ENOMEM, "spray: cluster means: out of memory");
    for (int64_t i = 0, j = 0; i < n_all; i++) {
        if (labels[i] != cls)
            continue;
        int q = r->labels[j++];
        if (q < 0 || (size_t)q >= k) {
            free(acc);
            return xai_error_set(XAI_EINVAL, "spray: cluster means: cluster label %d out of range", q);
        }
        double *dst = acc + (size_t)q * md;
        for (size_t e = 0; e < md; e++)
            dst[e] += maps[(size_t)i * md + e];
    }
    for (size_t q = 0; q < k; q++)
        for (size_t e = 0; e < md; e++)
            means[q * md + e] = (float)(acc[q * md + e] / (double)r->sizes[q]);
    free(acc);
    return XAI_OK;
}
