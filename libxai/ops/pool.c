/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * pool.c - MaxPool, AveragePool (1-D to 3-D, pads, ceil_mode, count_include_pad) and
 * GlobalAveragePool. LRP: MaxPool is winner-take-all (first maximum in row-major window
 * order wins, overlapping windows accumulate); average pools use the Norm rule
 * R_i = x_i * sum_j R_j / (k_j * stab(mean_j)) with k_j the divisor of output j.
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"
#include "vecmath.h"

typedef struct {
    int max;                  /* MaxPool (1) or average (0) */
    int64_t planes;           /* B0 * C */
    int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
    int64_t isp, osp;
    int include_pad;
    int inside;               /* every window lies inside the unpadded input (fast path) */
    int pairs;                /* and is two cells wide with stride 2 along the rows (maxpool_pairs) */
    int tiles;                /* MaxPool: every input cell lies in exactly one window */
    int64_t *win;             /* MaxPool: per output, number of cells; avg: unused */
    float *div;               /* avg: divisor per output position */
} pool_attr;

/* Visit the in-bounds cells of output position o (row-major window order). */
#define FOR_WINDOW(a, o, IDX, BODY)                                                              \
    do {                                                                                         \
        int64_t o2_ = (o) % (a)->out[2], o1_ = ((o) / (a)->out[2]) % (a)->out[1],                \
                o0_ = (o) / ((a)->out[2] * (a)->out[1]);                                         \
        for (int64_t k0_ = 0; k0_ < (a)->k[0]; k0_++) {                                          \
            int64_t i0_ = o0_ * (a)->s[0] - (a)->pb[0] + k0_ * (a)->d[0];                        \
            if (i0_ < 0 || i0_ >= (a)->in[0])                                                    \
                continue;                                                                        \
            for (int64_t k1_ = 0; k1_ < (a)->k[1]; k1_++) {                                      \
                int64_t i1_ = o1_ * (a)->s[1] - (a)->pb[1] + k1_ * (a)->d[1];                    \
                if (i1_ < 0 || i1_ >= (a)->in[1])                                                \
                    continue;                                                                    \
                for (int64_t k2_ = 0; k2_ < (a)->k[2]; k2_++) {                                  \
                    int64_t i2_ = o2_ * (a)->s[2] - (a)->pb[2] + k2_ * (a)->d[2];                \
                    if (i2_ < 0 || i2_ >= (a)->in[2])                                            \
                        continue;                                                                \
                    int64_t IDX = (i0_ * (a)->in[1] + i1_) * (a)->in[2] + i2_;                   \
                    BODY;                                                                        \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
    } while (0)

static int64_t argmax_of(const pool_attr *a, const float *x, int64_t o)
{
    int64_t best = -1;
    float bv = -FLT_MAX;
    FOR_WINDOW(a, o, idx, {
        if (best < 0 || x[idx] > bv) {
            bv = x[idx];
            best = idx;
        }
    });
    return best;
}

/* MaxPool over windows that all lie inside the input: no bounds checks. Same order and
   tie-breaking as argmax_of (row-major window order, first maximum wins). Up to MP_CHUNK
   outputs of a row at once: their maxima start at their windows' first cells, then each later
   cell of the window is compared across the chunk with selects (which cell wins is data; one
   output at a time was a chain of dependent, often mispredicted compares). S2: the row stride,
   a constant for the usual 2 so that the loads vectorise. */
#define MP_CHUNK 64
#define MP_CELLS 64

static inline __attribute__((always_inline)) void mp_chunk(const float *restrict xp, const int32_t *cell, int nc,
                                                           int32_t base, const int32_t S2, int n,
                                                           float *restrict y, int32_t *restrict am)
{
    float bv[MP_CHUNK];
    int32_t bi[MP_CHUNK];
    for (int l = 0; l < n; l++) {
        bi[l] = base + l * S2 + cell[0];
        bv[l] = xp[bi[l]];
    }
    for (int c = 1; c < nc; c++) {
        const int32_t off = base + cell[c];
        for (int l = 0; l < n; l++) {
            float v = xp[off + l * S2];
            int gt = v > bv[l];
            bi[l] = gt ? off + l * S2 : bi[l];
            bv[l] = gt ? v : bv[l];
        }
    }
    for (int l = 0; l < n; l++) { /* (a memcpy of n floats here was a library call) */
        y[l] = bv[l];
        am[l] = bi[l];
    }
}

XAI_VEC_CLONES
static void maxpool_inside(const pool_attr *a, const float *xp, float *yp, int32_t *am)
{
    const int64_t I1 = a->in[1], I2 = a->in[2], O2 = a->out[2];
    int32_t cell[MP_CELLS];
    int nc = 0;
    for (int64_t k0 = 0; k0 < a->k[0]; k0++) /* the window's cells in row-major order */
        for (int64_t k1 = 0; k1 < a->k[1]; k1++)
            for (int64_t k2 = 0; k2 < a->k[2]; k2++)
                cell[nc++] = (int32_t)((k0 * a->d[0] * I1 + k1 * a->d[1]) * I2 + k2 * a->d[2]);
    const int32_t s2 = (int32_t)a->s[2];
    for (int64_t o0 = 0; o0 < a->out[0]; o0++)
        for (int64_t o1 = 0; o1 < a->out[1]; o1++) {
            const int64_t o = (o0 * a->out[1] + o1) * O2;
            const int32_t base = (int32_t)((o0 * a->s[0] * I1 + o1 * a->s[1]) * I2);
            for (int64_t c0 = 0; c0 < O2; c0 += MP_CHUNK) {
                int n = O2 - c0 < MP_CHUNK ? (int)(O2 - c0) : MP_CHUNK;
                int32_t b = base + (int32_t)c0 * s2;
                if (s2 == 2)
                    mp_chunk(xp, cell, nc, b, 2, n, yp + o + c0, am + o + c0);
                else
                    mp_chunk(xp, cell, nc, b, s2, n, yp + o + c0, am + o + c0);
            }
        }
}

/* Windows two cells wide with stride 2 along the rows (2x2, 2x2x2 pools), inside the input: eight
   outputs of a row at a time. Each window row's 16 inputs are split into the windows' first and
   second cells (even and odd lanes) in registers, then the cells are compared in row-major window
   order with the same strict > as argmax_of, so the winners and maxima are the same bits; a row's
   last outputs load and store under a mask (no read past the plane). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(XAI_NO_CLONES)
#include <immintrin.h>
#define MP_PAIRS 1

__attribute__((target("avx2"))) static void mp_pairs_chunk(const float *xp, const int32_t *row, int nr,
                                                         int32_t base, int n, float *y, int32_t *am)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), twice = _mm256_add_epi32(lane, lane);
    const __m256i lo = _mm256_cmpgt_epi32(_mm256_set1_epi32(2 * n), lane);
    const __m256i hi = _mm256_cmpgt_epi32(_mm256_set1_epi32(2 * n - 8), lane);
    __m256 bv = _mm256_setzero_ps();
    __m256i bi = _mm256_setzero_si256();
    for (int r = 0; r < nr; r++) {
        const float *p = xp + base + row[r];
        __m256 a = n == 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, lo);
        __m256 b = n == 8 ? _mm256_loadu_ps(p + 8) : _mm256_maskload_ps(p + 8, hi);
        /* [a0 a2 b0 b2 | a4 a6 b4 b6] -> [a0 a2 a4 a6 b0 b2 b4 b6], and the same for the odd lanes */
        __m256 ev = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xd8));
        __m256 od = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xdd)), 0xd8));
        __m256i ie = _mm256_add_epi32(_mm256_set1_epi32(base + row[r]), twice);
        __m256i io = _mm256_add_epi32(ie, _mm256_set1_epi32(1));
        if (r == 0) {
            bv = ev;
            bi = ie;
        } else {
            __m256 gt = _mm256_cmp_ps(ev, bv, _CMP_GT_OQ);
            bv = _mm256_blendv_ps(bv, ev, gt);
            bi = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bi), _mm256_castsi256_ps(ie), gt));
        }
        __m256 gt = _mm256_cmp_ps(od, bv, _CMP_GT_OQ);
        bv = _mm256_blendv_ps(bv, od, gt);
        bi = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bi), _mm256_castsi256_ps(io), gt));
    }
    if (n == 8) {
        _mm256_storeu_ps(y, bv);
        _mm256_storeu_si256((__m256i *)(void *)am, bi);
        return;
    }
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane);
    _mm256_maskstore_ps(y, m, bv);
    _mm256_maskstore_epi32((int *)am, m, bi);
}

__attribute__((target("avx2"))) static void maxpool_pairs(const pool_attr *a, const float *xp, float *yp,
                                                        int32_t *am)
{
    const int64_t I1 = a->in[1], I2 = a->in[2], O2 = a->out[2];
    int32_t row[MP_CELLS / 2];
    int nr = 0;
    for (int64_t k0 = 0; k0 < a->k[0]; k0++) /* the window's rows in row-major order */
        for (int64_t k1 = 0; k1 < a->k[1]; k1++)
            row[nr++] = (int32_t)((k0 * a->d[0] * I1 + k1 * a->d[1]) * I2);
    for (int64_t o0 = 0; o0 < a->out[0]; o0++)
        for (int64_t o1 = 0; o1 < a->out[1]; o1++) {
            const int64_t o = (o0 * a->out[1] + o1) * O2;
            const int32_t base = (int32_t)((o0 * a->s[0] * I1 + o1 * a->s[1]) * I2);
            for (int64_t c = 0; c < O2; c += 8)
                mp_pairs_chunk(xp, row, nr, base + 2 * (int32_t)c, O2 - c < 8 ? (int)(O2 - c) : 8, yp + o + c,
                               am + o + c);
        }
}

/* whether maxpool_pairs runs this pool on this CPU (elsewhere maxpool_inside gives the same bits) */
static int mp_use_pairs(const pool_attr *a)
{
    __builtin_cpu_init();
    return a->pairs && __builtin_cpu_supports("avx2");
}
#endif

typedef struct {
    const xai_model *m;
    const xai_node *n;
    xai_workspace *ws;
    int lrp;
    float stab;
    int fresh;                /* MaxPool relevance: dx holds no zeros yet (xai_pool_writes_first) */
} pool_job;

/* planes per thread below which the pool does not split (about 16k input elements) */
static int64_t min_planes(const pool_attr *a)
{
    int64_t k = ((int64_t)1 << 14) / (a->isp > 0 ? a->isp : 1);
    return k > 0 ? k : 1;
}

static void forward_planes(void *ctx, int64_t p0, int64_t p1, int tid)
{
    const pool_job *j = ctx;
    const pool_attr *a = j->n->attr;
    const float *x = j->ws->val[j->n->in[0]];
    float *y = j->ws->val[j->n->out[0]];
    int32_t *am = a->max ? j->ws->ibuf[j->n - j->m->nodes] : NULL;
    (void)tid;
#ifdef MP_PAIRS
    if (a->max && a->inside && mp_use_pairs(a)) {
        for (int64_t p = p0; p < p1; p++)
            maxpool_pairs(a, x + p * a->isp, y + p * a->osp, am + p * a->osp);
        return;
    }
#endif
    if (a->max && a->inside) {
        for (int64_t p = p0; p < p1; p++)
            maxpool_inside(a, x + p * a->isp, y + p * a->osp, am + p * a->osp);
        return;
    }
    for (int64_t p = p0; p < p1; p++) {
        const float *xp = x + p * a->isp;
        float *yp = y + p * a->osp;
        for (int64_t o = 0; o < a->osp; o++) {
            if (a->max) {
                int64_t i = argmax_of(a, xp, o);
                yp[o] = i >= 0 ? xp[i] : 0.0f;
                am[p * a->osp + o] = (int32_t)i;
            } else {
                float s = 0;
                FOR_WINDOW(a, o, idx, s += xp[idx]);
                yp[o] = s / a->div[o];
            }
        }
    }
}

/* planes are independent, so the pool may split them across threads */
static xai_status pool_forward(const xai_model *m, const xai_node *n, xai_workspace *ws)
{
    const pool_attr *a = n->attr;
    pool_job j = {m, n, ws, 0, 0, 0};
    xai_par_for(a->planes * ws->ns, min_planes(a), forward_planes, &j);
    return XAI_OK;
}

/* Gradient (mode 0) or relevance (mode 1: WTA for max, Norm for average). */
static void back_planes(void *ctx, int64_t p0, int64_t p1, int tid)
{
    const pool_job *j = ctx;
    const xai_node *n = j->n;
    const pool_attr *a = n->attr;
    const float *x = j->ws->val[n->in[0]];
    const float *y = j->ws->val[n->out[0]];
    const float *g = j->ws->adj[n->out[0]];
    float *dx = j->ws->adj[n->in[0]];
    const int32_t *am = a->max ? j->ws->ibuf[n - j->m->nodes] : NULL;
    int lrp = j->lrp;
    float stab = j->stab;
    (void)tid;
    for (int64_t p = p0; p < p1; p++) {
        const float *xp = x + p * a->isp;
        float *dp = dx + p * a->isp;
        const float *gp = g + p * a->osp, *yp = y + p * a->osp;
        if (j->fresh) /* zeroed plane by plane, while it stays in cache for the winners */
            memset(dp, 0, sizeof(float) * (size_t)a->isp);
        for (int64_t o = 0; o < a->osp; o++) {
            if (gp[o] == 0.0f)
                continue;
            if (a->max) {
                int32_t i = am[p * a->osp + o]; /* argmax kept by the forward pass */
                if (i >= 0)
                    dp[i] += gp[o];
            } else if (!lrp) {
                float v = gp[o] / a->div[o];
                FOR_WINDOW(a, o, idx, dp[idx] += v);
            } else {
                float v = gp[o] / (a->div[o] * xai_stab(yp[o], stab));
                FOR_WINDOW(a, o, idx, dp[idx] += xp[idx] * v);
            }
        }
    }
}

static xai_status pool_back(const xai_model *m, const xai_node *n, xai_workspace *ws, int lrp, float stab)
{
    const pool_attr *a = n->attr;
    pool_job j = {m, n, ws, lrp, stab, ws->fresh_adj == n->in[0]};
    ws->fresh_adj = -1;
    xai_par_for(a->planes * ws->ns, min_planes(a), back_planes, &j);
    return XAI_OK;
}

void xai_maxpool_tangent(const xai_node *n, const xai_workspace *ws, const float *xd, float *yd)
{
    const pool_attr *a = n->attr;
    const int32_t *am = ws->ibuf[n - ws->m->nodes];
    for (int64_t p = 0; p < a->planes * ws->ns; p++)
        for (int64_t o = 0; o < a->osp; o++) {
            int32_t i = am[p * a->osp + o];
            yd[p * a->osp + o] = i >= 0 ? xd[p * a->isp + i] : 0.0f;
        }
}

static xai_status pool_backward(const xai_model *m, const xai_node *n, xai_workspace *ws)
{
    return pool_back(m, n, ws, 0, 0);
}

static xai_status pool_relevance(const xai_model *m, const xai_node *n, const xai_rule *r, xai_workspace *ws)
{
    if (r->kind == XAI_RULE_GRADIENT)
        return pool_back(m, n, ws, 0, 0);
    if (r->kind == XAI_RULE_PASS) {
        const pool_attr *a = n->attr;
        if (a->isp != a->osp)
            return xai_error_set(XAI_EINVAL, "rule pass on pool '%s' changes the size", n->name);
        float *dx = ws->adj[n->in[0]];
        const float *g = ws->adj[n->out[0]];
        for (int64_t k = 0; k < a->planes * a->isp * ws->ns; k++)
            dx[k] += g[k];
        return XAI_OK;
    }
    return pool_back(m, n, ws, 1, r->stabilizer);
}

static void pool_destroy(xai_node *n)
{
    pool_attr *a = n->attr;
    if (a)
        free(a->div);
    free(a);
}

const xai_op_vtable xai_pool_ops = {"Pool", pool_forward, pool_backward, pool_relevance, pool_destroy};

/* A max pool whose windows tile its input writes every input cell's relevance (zero or its
   window's), so the sweep need not zero the buffer first. */
int xai_pool_writes_first(const xai_node *n, const xai_rule *r)
{
    const pool_attr *a = n->attr;
    return n->ops == &xai_pool_ops && a && a->max && a->tiles && r->kind != XAI_RULE_PASS;
}

static xai_status setup_common(xai_model *m, xai_node *n, pool_attr *a, const xai_value *x, int nsp)
{
    xai_value *y = &m->vals[n->out[0]];
    a->planes = x->shape[0] * x->shape[1];
    a->isp = a->osp = 1;
    for (int i = 0; i < 3; i++) {
        a->isp *= a->in[i];
        a->osp *= a->out[i];
    }
    y->ndim = x->ndim;
    y->shape[0] = x->shape[0];
    y->shape[1] = x->shape[1];
    for (int i = 0; i < nsp; i++)
        y->shape[2 + i] = a->out[3 - nsp + i];
    y->numel = a->planes * a->osp;
    if (a->max)
        n->ibuf = (size_t)y->numel;
    a->inside = a->k[0] * a->k[1] * a->k[2] <= MP_CELLS && a->isp < INT32_MAX; /* maxpool_inside's tables */
    for (int i = 0; i < 3; i++)
        if (a->pb[i] != 0 || (a->out[i] - 1) * a->s[i] + (a->k[i] - 1) * a->d[i] >= a->in[i])
            a->inside = 0;
    a->pairs = a->max && a->inside && a->k[2] == 2 && a->s[2] == 2 && a->d[2] == 1;
    a->tiles = a->max;
    for (int i = 0; i < 3; i++)
        if (a->pb[i] != 0 || (a->k[i] > 1 && a->d[i] != 1) || a->k[i] != a->s[i] || a->out[i] * a->s[i] != a->in[i])
            a->tiles = 0;
    if (a->isp > INT32_MAX)
        return xai_node_unsupported(m, n, "X", "planes of more than 2^31 elements");
    if (!a->max) {
        a->div = malloc(sizeof(float) * (size_t)a->osp);
        if (!a->div)
            XAI_FAIL(XAI_ENOMEM, "out of memory");
        for (int64_t o = 0; o < a->osp; o++) {
            int64_t oc[3] = {o / (a->out[1] * a->out[2]), (o / a->out[2]) % a->out[1], o % a->out[2]};
            int64_t cnt = 1;
            for (int i = 0; i < 3; i++) {
                int64_t st = oc[i] * a->s[i] - a->pb[i];
                int64_t en;
                if (a->include_pad) {
                    en = st + a->k[i];
                    if (en > a->in[i] + a->pe[i])
                        en = a->in[i] + a->pe[i];
                } else {
                    en = st + a->k[i];
                    if (en > a->in[i])
                        en = a->in[i];
                    if (st < 0)
                        st = 0;
                }
                cnt *= en - st > 0 ? en - st : 1;
            }
            a->div[o] = (float)cnt;
        }
    }
    return XAI_OK;
}

/* The pooling attributes as the node gives them; a count of -1 means the attribute is absent and
   its ONNX default applies (kernel_shape has none: it must be given). */
typedef struct {
    int64_t ks[3], ss[3], ds[3], ps[6], ceil_mode, cip;
    int nk, ns, nd, np;
    const char *autopad;
} pool_spec;

static xai_status pool_check_input(const xai_model *m, const xai_node *n, const xai_value **xp)
{
    if (n->in[0] < 0 || m->vals[n->in[0]].is_const)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (%s) needs an activation input", m->name, n->name, n->op_type);
    if (n->nout > 1 && n->out[1] >= 0)
        return xai_node_unsupported(m, n, "Indices", "the Indices output is not supported");
    const xai_value *x = &m->vals[n->in[0]];
    if (x->ndim - 2 < 1 || x->ndim - 2 > 3)
        return xai_node_unsupported(m, n, "X", "input rank %d (only 1-D to 3-D pooling)", x->ndim);
    *xp = x;
    return XAI_OK;
}

static xai_status pool_read_spec(const xai_model *m, const xai_node *n, const Onnx__NodeProto *np, int nsp,
                                 pool_spec *sp)
{
    int64_t so;
    xai_status st;
    if ((st = xai_attr_ints(m, np, "kernel_shape", sp->ks, 3, &sp->nk)) ||
        (st = xai_attr_ints(m, np, "strides", sp->ss, 3, &sp->ns)) ||
        (st = xai_attr_ints(m, np, "dilations", sp->ds, 3, &sp->nd)) ||
        (st = xai_attr_ints(m, np, "pads", sp->ps, 6, &sp->np)) ||
        (st = xai_attr_int(m, np, "ceil_mode", 0, &sp->ceil_mode)) ||
        (st = xai_attr_int(m, np, "count_include_pad", 0, &sp->cip)) ||
        (st = xai_attr_int(m, np, "storage_order", 0, &so)))
        return st;
    if (sp->nk != nsp || (sp->ns >= 0 && sp->ns != nsp) || (sp->nd >= 0 && sp->nd != nsp) ||
        (sp->np >= 0 && sp->np != 2 * nsp))
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (%s): kernel_shape/strides/pads do not match %d spatial dims", m->name,
                 n->name, n->op_type, nsp);
    if (so != 0)
        return xai_node_unsupported(m, n, "storage_order", "value %lld", (long long)so);
    if ((st = xai_attr_string(m, np, "auto_pad", "NOTSET", &sp->autopad)))
        return st;
    if (strcmp(sp->autopad, "NOTSET") && strcmp(sp->autopad, "VALID") && strcmp(sp->autopad, "SAME_UPPER") &&
        strcmp(sp->autopad, "SAME_LOWER"))
        return xai_node_unsupported(m, n, "auto_pad", "value '%s'", sp->autopad);
    return XAI_OK;
}

/* Output length of one axis for a window spanning ext input cells; auto_pad VALID or SAME
   replaces the explicit pads *pb, *pe. With ceil_mode the last window may hang over the end
   pad, but it must start inside the input or the start pad. */
static xai_status pool_axis_len(const xai_model *m, const xai_node *n, const pool_spec *sp, int64_t in, int64_t ext,
                                int64_t s, int64_t *pb, int64_t *pe, int64_t *out)
{
    int64_t o;
    if (strcmp(sp->autopad, "VALID") == 0) {
        *pb = *pe = 0;
        o = (in - ext) / s + 1;
    } else if (strncmp(sp->autopad, "SAME", 4) == 0) {
        o = (in + s - 1) / s;
        int64_t tot = (o - 1) * s + ext - in;
        if (tot < 0)
            tot = 0;
        *pb = sp->autopad[5] == 'U' ? tot / 2 : tot - tot / 2;
        *pe = tot - *pb;
    } else {
        int64_t span = in + *pb + *pe - ext;
        if (span < 0)
            XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (%s): window %lld larger than the padded input %lld", m->name,
                     n->name, n->op_type, (long long)ext, (long long)(in + *pb + *pe));
        o = sp->ceil_mode ? (span + s - 1) / s + 1 : span / s + 1;
        if (sp->ceil_mode && (o - 1) * s >= in + *pb)
            o--;
    }
    if (o < 1)
        XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (%s): empty output", m->name, n->name, n->op_type);
    *out = o;
    return XAI_OK;
}

/* The spatial axes are stored right-aligned in 3 (1-D pooling is 1 x 1 x L), so that
   FOR_WINDOW and the kernels loop over three axes whatever the rank. */
static xai_status pool_infer_shape(const xai_model *m, const xai_node *n, const pool_spec *sp, const xai_value *x,
                                   int nsp, pool_attr *a)
{
    for (int i = 0; i < 3; i++) {
        a->in[i] = a->out[i] = a->k[i] = a->s[i] = a->d[i] = 1;
        a->pb[i] = a->pe[i] = 0;
    }
    for (int i = 0; i < nsp; i++) {
        int j = 3 - nsp + i;
        int64_t in = x->shape[2 + i], k = sp->ks[i], s = sp->ns >= 0 ? sp->ss[i] : 1, d = sp->nd >= 0 ? sp->ds[i] : 1;
        int64_t pb = sp->np >= 0 ? sp->ps[i] : 0, pe = sp->np >= 0 ? sp->ps[i + nsp] : 0, o = 0;
        if (k < 1 || s < 1 || d < 1 || pb < 0 || pe < 0)
            return xai_node_unsupported(m, n, k < 1 ? "kernel_shape" : s < 1 ? "strides" : d < 1 ? "dilations" : "pads",
                                        "non-positive value");
        if (!a->max && d != 1)
            return xai_node_unsupported(m, n, "dilations", "dilated average pooling");
        xai_status st = pool_axis_len(m, n, sp, in, (k - 1) * d + 1, s, &pb, &pe, &o);
        if (st)
            return st;
        a->in[j] = in;
        a->out[j] = o;
        a->k[j] = k;
        a->s[j] = s;
        a->d[j] = d;
        a->pb[j] = pb;
        a->pe[j] = pe;
    }
    return XAI_OK;
}

xai_status xai_pool_init(xai_model *m, xai_node *n, const Onnx__NodeProto *np)
{
    static const char *const known_max[] = {"kernel_shape", "strides", "pads", "dilations", "ceil_mode",
                                            "auto_pad", "storage_order", NULL};
    static const char *const known_avg[] = {"kernel_shape", "strides", "pads", "ceil_mode", "auto_pad",
                                            "count_include_pad", "dilations", NULL};
    int ismax = n->kind == K_MAXPOOL;
    const xai_value *x = NULL;
    pool_spec sp;
    xai_status st = xai_attr_only(m, np, ismax ? known_max : known_avg);
    if (st || (st = pool_check_input(m, n, &x)))
        return st;
    int nsp = x->ndim - 2;
    if ((st = pool_read_spec(m, n, np, nsp, &sp)))
        return st;
    pool_attr *a = calloc(1, sizeof *a);
    if (!a)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    n->attr = a;
    a->max = ismax;
    a->include_pad = sp.cip != 0;
    if ((st = pool_infer_shape(m, n, &sp, x, nsp, a)))
        return st;
    return setup_common(m, n, a, x, nsp);
}

xai_status xai_gap_init(xai_model *m, xai_node *n, const Onnx__NodeProto *np)
{
    static const char *const known[] = {NULL};
    xai_status st = xai_attr_only(m, np, known);
    if (st)
        return st;
    if (n->in[0] < 0 || m->vals[n->in[0]].is_const)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (GlobalAveragePool) needs an activation input", m->name, n->name);
    const xai_value *x = &m->vals[n->in[0]];
    int nsp = x->ndim - 2;
    if (nsp < 1 || nsp > 3)
        return xai_node_unsupported(m, n, "X", "input rank %d", x->ndim);
    pool_attr *a = calloc(1, sizeof *a);
    if (!a)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    n->attr = a;
    for (int i = 0; i < 3; i++) {
        a->in[i] = a->k[i] = 1;
        a->out[i] = a->s[i] = a->d[i] = 1;
    }
    for (int i = 0; i < nsp; i++) {
        int j = 3 - nsp + i;
        a->in[j] = a->k[j] = x->shape[2 + i];
    }
    a->include_pad = 1;
    return setup_common(m, n, a, x, nsp);
}
