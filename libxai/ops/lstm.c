/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * lstm.c - ONNX LSTM (opset 7/14 semantics): forward for directions forward, reverse and
 * bidirectional, layout 0 and 1, optional constant sequence_lens and optional initial
 * states; backward (BPTT over every direction) for the gradient baselines and for training
 * (dL/dW, dL/dR, dL/dB accumulated into node->pgrad); and Arras et al.'s LRP-all
 * (epsilon rule with bias factor on every linear split, signal-take-all at the gates,
 * forget path as a carried relevance), as the README's "LRP conventions" states.
 * Gate order in W, R and each half of B is i, o, f, c (ONNX operator spec, "LSTM").
 * Refs: Hochreiter & Schmidhuber 1997; Arras et al. 2017, "Explaining recurrent neural
 * network predictions in sentiment analysis" (WASSA).
 *
 * The forward pass keeps its gate activations and states (what BPTT and LRP need) in a
 * hidden per-sample activation value owned by the node (its 4th output), so backward and
 * relevance read them instead of recomputing; scratch holds per-step work buffers and the
 * relevance's per-step split factors. Speed: the input products x_t W^T of all steps are one
 * product per sequence and direction (written into the records), and so are the input
 * relevances (in chunks of steps); only the recurrent products remain per step. All of them run
 * on our own loops over W and R packed in column tiles when the model is loaded or its weights
 * change, not on BLAS calls, whose packing of the weights dominates at batch 1; on AVX2/FMA
 * CPUs register-tiled kernels, which give the same bits as the portable loops. Per sequence
 * and direction that is 4H*(D+H)*T multiply-adds in the forward pass and H*(D+H)*T in the
 * relevance, summed in float by fused multiply-adds (at batch 1 the recurrent ones are bounded
 * by streaming R from the second-level cache every step). Gate loops use the
 * vectorizable exp/tanh of vecmath.h. Forward and LRP split a stack into fixed blocks of
 * samples, and each block into its directions; the thread pool runs these items in parallel,
 * each with its own work buffers, and the directions' input relevances are summed afterwards
 * in a fixed order (results do not depend on the thread count).
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"
#include "vecmath.h"

#define LSTM_MAX_SCRATCH ((int64_t)1 << 26) /* floats of records + scratch per stack element */

typedef struct {
    int64_t T, B, D, H, ndir;
    int layout;
    int reverse;          /* direction == "reverse" (only with ndir == 1) */
    const float *W, *R;   /* [ndir][4H][D], [ndir][4H][H] (model constants) */
    const float *Bv;      /* [ndir][8H] Wb then Rb (model constant), or NULL = zeros; read on
                           * every pass (not cached) so training updates take effect */
    int64_t *len;         /* [B] sequence lengths, owned, or NULL (all T) */
    size_t rec;           /* floats per stored step record: i,o,f,g (4H), a (H), c (H), h (H) */
    int64_t tc;           /* time steps per chunk of the batched input-relevance product */
    int recv;             /* hidden value holding the records [ndir][T][stack*B][rec] */
    float *pk;            /* [ndir][pk_floats] (owned): R_d^T [H][4H], the cell rows of R_d [H][H], W_d^T
                           * [D][4H] and the cell rows of W_d [H][D], in column tiles (pack_weights) */
} lstm_attr;

enum { IN_X, IN_W, IN_R, IN_B, IN_LEN, IN_H0, IN_C0, IN_P };

/* floats of one direction's packed matrices in lstm_attr.pk */
static inline size_t pk_floats(const lstm_attr *a)
{
    return (size_t)(5 * a->H * (a->H + a->D));
}

static inline int dir_rev(const lstm_attr *a, int64_t d)
{
    return a->reverse || d == 1;
}

static inline int step_valid(const lstm_attr *a, int64_t t, int64_t b)
{
    return !a->len || t < a->len[b];
}

static inline int64_t x_off(const lstm_attr *a, int64_t t, int64_t b)
{
    return (a->layout ? b * a->T + t : t * a->B + b) * a->D;
}

static inline int64_t y_off(const lstm_attr *a, int64_t t, int64_t d, int64_t b)
{
    return (a->layout ? (b * a->T + t) * a->ndir + d : (t * a->ndir + d) * a->B + b) * a->H;
}

static inline int64_t st_off(const lstm_attr *a, int64_t d, int64_t b)
{
    return (a->layout ? b * a->ndir + d : d * a->B + b) * a->H;
}

/* bias of gate row j (0..4H-1) of direction d: Wb + Rb */
static inline float bias_at(const lstm_attr *a, int64_t d, int64_t j)
{
    if (!a->Bv)
        return 0.0f;
    const float *b = a->Bv + d * 8 * a->H;
    return b[j] + b[4 * a->H + j];
}

/* initial state (which: IN_H0 / IN_C0) of direction d, row r = s*B + b; NULL = zeros */
static const float *init_state(const xai_model *m, const xai_node *n, const xai_workspace *ws, int which,
                               int64_t d, int64_t r)
{
    const lstm_attr *a = n->attr;
    int v = n->nin > which ? n->in[which] : -1;
    if (v < 0)
        return NULL;
    int64_t s = r / a->B, b = r % a->B;
    const float *base = vconst(m, v) ? ws->val[v] : ws->val[v] + s * vnumel(m, v);
    return base + st_off(a, d, b);
}

/* record of direction d, time t, row r in the store */
static inline float *rec_at(const lstm_attr *a, float *store, int64_t nr, int64_t d, int64_t t, int64_t r)
{
    return store + ((size_t)(d * a->T + t) * (size_t)nr + (size_t)r) * a->rec;
}

/* the record of the step processed before (d, t, r), or NULL when that is the initial state */
static inline float *rec_prev(const lstm_attr *a, float *store, int64_t nr, int64_t d, int64_t t, int64_t r)
{
    int64_t b = r % a->B;
    if (dir_rev(a, d)) {
        int64_t L = a->len ? a->len[b] : a->T;
        return t + 1 < L ? rec_at(a, store, nr, d, t + 1, r) : NULL;
    }
    return t > 0 ? rec_at(a, store, nr, d, t - 1, r) : NULL;
}

typedef struct {
    float *store, *xt, *z, *hp, *cp, *dh, *dc, *tmp, *p, *dxt;
    float *pall, *shall; /* relevance: p of every step [s][T][B][H], bias shares [s][T][B] */
    float *contrib;      /* relevance: this direction's input relevance, laid out like X [s][xn] */
    double *isr;         /* relevance reaching constant or absent initial states [2][nr] (h, c) */
    const float *RF, *RC; /* R_d^T and the cell rows of R_d in column tiles (lstm_attr.pk) */
    const float *WF, *WC; /* W_d^T and the cell rows of W_d in column tiles (lstm_attr.pk) */
    float *bsum;         /* Wb + Rb of direction d [4H] */
} lstm_bufs;

/* floats of the per-direction work set per stack element (see bufs_split); even, so every work
 * set starts 8-byte aligned for its doubles */
static size_t set_floats(const lstm_attr *a)
{
    size_t H = (size_t)a->H, D = (size_t)a->D, B = (size_t)a->B, T = (size_t)a->T;
    size_t n = B * ((1 + (size_t)a->tc) * D + 10 * H + 1 + T * (H + 1) + T * D) + 4 * B; /* T*B*D: contrib */
    return n + (n & 1);
}

/* The work buffers of direction d for a stack of nr rows. Scratch layout: the fixed part
 * (bsum [4H] per direction), then one work set per direction: isr (doubles,
 * kept 8-byte aligned), xt, dxt, z, hp, cp, dh, dc, tmp, p (+ shares), pall, shall, contrib. */
static void bufs_split(const lstm_attr *a, const xai_workspace *ws, int64_t nr, int64_t d, lstm_bufs *bf)
{
    size_t H = (size_t)a->H, D = (size_t)a->D, R = (size_t)nr, ns = (size_t)(nr / a->B);
    size_t fixed = (size_t)a->ndir * 4 * H;
    fixed += fixed & 1;
    bf->store = ws->val[a->recv];
    bf->RF = a->pk + (size_t)d * pk_floats(a);
    bf->RC = bf->RF + 4 * H * H;
    bf->WF = bf->RC + H * H;
    bf->WC = bf->WF + 4 * H * D;
    bf->bsum = ws->scratch + (size_t)d * 4 * H;
    float *w = ws->scratch + fixed + (size_t)d * ns * set_floats(a);
    bf->isr = (double *)(void *)w;
    w += 4 * R;
    bf->xt = w;
    w += R * D;
    bf->dxt = w;  /* [tc][nr][D]: relevance chunks; backward uses the first step */
    w += (size_t)a->tc * R * D;
    bf->z = w;
    w += R * 4 * H;
    bf->hp = w;
    w += R * H;
    bf->cp = w;
    w += R * H;
    bf->dh = w;
    w += R * H;
    bf->dc = w;
    w += R * H;
    bf->tmp = w;
    w += R * H;
    bf->p = w;
    w += R * H + R;
    bf->pall = w;
    w += (size_t)a->T * R * H;
    bf->shall = w;
    w += (size_t)a->T * R;
    bf->contrib = w;
}

/* Column tiles of a K x N product matrix: the tile that starts at column j has tile_w(N, j)
 * columns and is stored row-major [K][w] from float j * K on, so the kernels stream each tile
 * once from contiguous memory (rows of a plain [K][4H] matrix are 2 KiB apart at H = 128,
 * which maps a tile's rows onto a few cache sets). */
static inline int64_t tile_w(int64_t N, int64_t j)
{
    return N - j >= 48 ? 48 : N - j >= 32 ? 32 : N - j;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(XAI_NO_CLONES)
#include <immintrin.h>
#define LSTM_X86 1

/* dst[k * ldd + c] = src[c * lds + k] for an 8 x 8 block */
__attribute__((target("avx2"))) static void transpose8(const float *restrict src, int64_t lds, float *restrict dst,
                                                       int64_t ldd)
{
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++)
        r[i] = _mm256_loadu_ps(src + i * lds);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        _mm256_storeu_ps(dst + i * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
        _mm256_storeu_ps(dst + (i + 4) * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
    }
}
#endif

/* element (k, j) of the matrix is src[k * ks + j * js]; with ks = 1 the tile is a transpose,
 * done in 8 x 8 blocks where the CPU has AVX2 */
static void pack_tiles(int64_t K, int64_t N, const float *restrict src, int64_t ks, int64_t js, float *restrict dst)
{
#ifdef LSTM_X86
    int avx2 = ks == 1 && xai_dconv_isa(-1) >= 1;
#endif
    for (int64_t j0 = 0, w; j0 < N; j0 += w) {
        w = tile_w(N, j0);
        float *restrict t = dst + j0 * K;
        int64_t c0 = 0;
        if (ks != 1) {
            for (int64_t k = 0; k < K; k++)
                memcpy(t + k * w, src + k * ks + j0 * js, sizeof(float) * (size_t)w);
            continue;
        }
#ifdef LSTM_X86
        if (avx2)
            for (; c0 + 8 <= w && K >= 8; c0 += 8) {
                int64_t k = 0;
                for (; k + 8 <= K; k += 8)
                    transpose8(src + (j0 + c0) * js + k, js, t + k * w + c0, w);
                for (; k < K; k++)
                    for (int64_t c = c0; c < c0 + 8; c++)
                        t[k * w + c] = src[(j0 + c) * js + k];
            }
#endif
        for (int64_t c = c0; c < w; c++) { /* a column at a time: reads a row of R */
            const float *restrict sc = src + (j0 + c) * js;
            for (int64_t k = 0; k < K; k++)
                t[k * w + c] = sc[k];
        }
    }
}

/* The matrices of every direction's products in column tiles, into a->pk: the forward pass
 * multiplies by R_d^T and W_d^T, the relevance by the cell rows of R_d and of W_d. Done when the
 * model is loaded and whenever its weights change (xai_lstm_params_changed), not on every pass. */
static void pack_weights(lstm_attr *a)
{
    int64_t H = a->H, D = a->D;
    for (int64_t d = 0; d < a->ndir; d++) {
        const float *Rd = a->R + d * 4 * H * H, *Wd = a->W + d * 4 * H * D;
        float *pk = a->pk + (size_t)d * pk_floats(a);
        pack_tiles(H, 4 * H, Rd, 1, H, pk);
        pk += 4 * H * H;
        pack_tiles(H, H, Rd + 3 * H * H, H, 1, pk);
        pk += H * H;
        pack_tiles(D, 4 * H, Wd, 1, D, pk);
        pk += 4 * H * D;
        pack_tiles(H, D, Wd + 3 * H * D, D, 1, pk);
    }
}

void xai_lstm_params_changed(xai_node *n)
{
    pack_weights(n->attr);
}

/* bsum of every direction (the scratch is shared by all nodes, so every pass fills it again).
 * Training steps change R between passes without telling the model, so a training pass packs
 * R again first. */
static void prepare_weights(const lstm_attr *a, const xai_workspace *ws)
{
    int64_t H = a->H;
    if (ws->training)
        pack_weights((lstm_attr *)a);
    for (int64_t d = 0; d < a->ndir; d++) {
        lstm_bufs bf;
        bufs_split(a, ws, a->B, d, &bf);
        for (int64_t j = 0; j < 4 * H; j++)
            bf.bsum[j] = bias_at(a, d, j);
    }
}

/* The products of the LSTM: out[r][j] (+)= sum_k in[r][k] M[k][j] for M in column tiles, as one
 * chain of fused multiply-adds in float per element (k = 0..K-1), starting from what out holds
 * (add) or from zero. BLAS packs its operand on every call, which costs more than the product
 * itself for one row (about 15 us against 3 us for R at H = 128), and an sgemm of a sequence's
 * T rows still packed W and ran OpenBLAS's edge kernels (a third of LRP's time at D = 64), so
 * these loops do all of them on matrices packed once (pack_weights). Forward: the input part
 * x_t W^T of every step (M = W^T), then per step h_prev R^T added to it; relevance: per step
 * p times the cell rows of R, then for every step p times the cell rows of W. Every operand is
 * a float, so double sums buy little here (the Arras reference cases and conservation keep
 * their tolerances), while widening every weight to double costs a vector instruction per four
 * products, which bounded the step at batch 1. fmaf rounds once, as the FMA instruction does,
 * so the portable loops and the AVX2/FMA tiles give the same bits, and a row's result depends
 * on that row only: a sample gets the same numbers alone or in a stack. */
XAI_VEC_CLONES static void fma_rows_port(int64_t nr, int64_t K, int64_t N, const float *restrict in, size_t ldi,
                                         const float *restrict M, float *restrict out, size_t ldo, int add)
{
    for (int64_t r = 0; r < nr; r++) {
        const float *ir = in + (size_t)r * ldi;
        float *restrict o = out + (size_t)r * ldo;
        if (!add)
            for (int64_t j = 0; j < N; j++)
                o[j] = 0.0f;
        for (int64_t k = 0; k < K; k++) {
            float hk = ir[k];
            const float *restrict m = M + k * N;
            for (int64_t j = 0; j < N; j++)
                o[j] = fmaf(hk, m[j], o[j]);
        }
    }
}

#ifdef LSTM_X86
/* NR rows (1 or 2) times NV vectors of eight outputs, the accumulators in registers over the
 * whole sum; two rows share each load of M (with one row the loads, not the FMA units, bound it) */
#define LSTM_FTILE(NR, NV)                                                                                         \
    __attribute__((target("avx2,fma"))) static void ftile_##NR##x##NV(                                             \
        int64_t K, int64_t N, const float *restrict in, size_t ldi, const float *restrict M, float *restrict out, \
        size_t ldo, int add)                                                                                       \
    {                                                                                                              \
        __m256 acc[NR][NV];                                                                                        \
        _Pragma("GCC unroll 2") for (int i = 0; i < NR; i++)                                                       \
            _Pragma("GCC unroll 8") for (int v = 0; v < NV; v++) acc[i][v] =                                       \
                add ? _mm256_loadu_ps(out + i * ldo + 8 * v) : _mm256_setzero_ps();                               \
        for (int64_t k = 0; k < K; k++) {                                                                          \
            __m256 h[NR];                                                                                          \
            _Pragma("GCC unroll 2") for (int i = 0; i < NR; i++)                                                   \
                h[i] = _mm256_set1_ps(in[i * ldi + k]);                                                            \
            _Pragma("GCC unroll 8") for (int v = 0; v < NV; v++) {                                                 \
                __m256 mv = _mm256_loadu_ps(M + k * N + 8 * v);                                                    \
                if (NR > 1)                                                                                        \
                    __asm__("" : "+x"(mv)); /* one load for every row, not a load per row */                      \
                _Pragma("GCC unroll 2") for (int i = 0; i < NR; i++)                                               \
                    acc[i][v] = _mm256_fmadd_ps(h[i], mv, acc[i][v]);                                              \
            }                                                                                                      \
        }                                                                                                          \
        _Pragma("GCC unroll 2") for (int i = 0; i < NR; i++)                                                       \
            _Pragma("GCC unroll 8") for (int v = 0; v < NV; v++) _mm256_storeu_ps(out + i * ldo + 8 * v, acc[i][v]); \
    }
LSTM_FTILE(1, 6)
LSTM_FTILE(1, 4)
LSTM_FTILE(1, 2)
LSTM_FTILE(1, 1)
LSTM_FTILE(2, 6)
LSTM_FTILE(2, 4)
LSTM_FTILE(2, 2)
LSTM_FTILE(2, 1)

typedef void ftile_fn(int64_t, int64_t, const float *restrict, size_t, const float *restrict, float *restrict, size_t,
                      int);

/* nrow (1 or 2) rows of one column tile of width N (at most 48) on the AVX2/FMA kernels; the
 * columns after the last multiple of 8 in the same chains, one element at a time */
__attribute__((target("avx2,fma"))) static void fma_tile_avx2(int nrow, int64_t K, int64_t N, const float *in,
                                                              size_t ldi, const float *M, float *out, size_t ldo,
                                                              int add)
{
    static ftile_fn *const wide[2][4] = {{ftile_1x6, ftile_1x4, ftile_1x2, ftile_1x1},
                                         {ftile_2x6, ftile_2x4, ftile_2x2, ftile_2x1}};
    int64_t N8 = N - N % 8, j = 0;
    if (N8 == 48) { /* tile_w's widths: 48, 32 or the last columns */
        wide[nrow - 1][0](K, N, in, ldi, M, out, ldo, add);
        j = 48;
    } else if (N8 >= 32) {
        wide[nrow - 1][1](K, N, in, ldi, M, out, ldo, add);
        j = 32;
    }
    for (; j + 16 <= N8; j += 16)
        wide[nrow - 1][2](K, N, in, ldi, M + j, out + j, ldo, add);
    for (; j < N8; j += 8)
        wide[nrow - 1][3](K, N, in, ldi, M + j, out + j, ldo, add);
    for (int i = 0; i < nrow; i++)
        for (int64_t c = j; c < N; c++) {
            float acc = add ? out[i * ldo + c] : 0.0f;
            for (int64_t k = 0; k < K; k++)
                acc = fmaf(in[i * ldi + k], M[k * N + c], acc);
            out[i * ldo + c] = acc;
        }
}

/* fma_rows_port's sums for one column tile on the AVX2/FMA kernels, two rows at a time (the tile
 * stays in the first-level cache from one pair to the next) */
__attribute__((target("avx2,fma"))) static void fma_rows_avx2(int64_t nr, int64_t K, int64_t N,
                                                              const float *restrict in, size_t ldi,
                                                              const float *restrict M, float *restrict out,
                                                              size_t ldo, int add)
{
    for (int64_t r = 0; r < nr; r += 2)
        fma_tile_avx2(nr - r >= 2 ? 2 : 1, K, N, in + (size_t)r * ldi, ldi, M, out + (size_t)r * ldo, ldo, add);
}
#endif

/* fma_rows' flags: add to what out holds (else start from zero); run the column tiles from the
 * last to the first. Alternating the order from one step to the next starts each step on the
 * tiles the previous one left in the first-level cache (the matrices pass through it every
 * step: R^T is 256 KiB at H = 128, its cell rows 64 KiB). */
enum { FMA_ADD = 1, FMA_FROM_END = 2 };

/* the first column of tile i < tile_count(N) (tile_w's widths: 48 while 48 or more columns
 * remain, then 32 if as many remain, then the rest) */
static inline int64_t tile_at(int64_t N, int64_t i)
{
    int64_t n48 = N / 48;
    return i <= n48 ? 48 * i : 48 * n48 + 32;
}

static inline int64_t tile_count(int64_t N)
{
    int64_t rest = N % 48;
    return N / 48 + (rest >= 32) + (rest % 32 > 0);
}

/* out (+)= in M for nr rows (row strides ldi, ldo), P the K x N matrix M in column tiles */
static void fma_rows(int64_t nr, int64_t K, int64_t N, const float *restrict in, size_t ldi, const float *restrict P,
                     float *restrict out, size_t ldo, int flags)
{
#ifdef LSTM_X86
    int fma = xai_dconv_isa(-1) >= 1;
#endif
    int add = flags & FMA_ADD;
    int64_t nt = tile_count(N);
    for (int64_t i = 0; i < nt; i++) {
        int64_t j0 = tile_at(N, flags & FMA_FROM_END ? nt - 1 - i : i), w = tile_w(N, j0);
#ifdef LSTM_X86
        if (fma) {
            fma_rows_avx2(nr, K, w, in, ldi, P + j0 * K, out + j0, ldo, add);
            continue;
        }
#endif
        fma_rows_port(nr, K, w, in, ldi, P + j0 * K, out + j0, ldo, add);
    }
}

/* One row's step: rc[0..4H) holds the gate preactivations without bias; they become
 * i, o, f, g, followed by a (g's preactivation), c and h; cp and hp are updated. */
XAI_VEC_CLONES static void gates_row(int64_t H, float *restrict rc, const float *restrict bsum, float *restrict cp,
                      float *restrict hp)
{
    float *restrict g = rc + 3 * H, *restrict ag = rc + 4 * H, *restrict cs = rc + 5 * H, *restrict hs = rc + 6 * H;
    for (int64_t j = 0; j < 3 * H; j++)
        rc[j] = xai_vsigmoidf(rc[j] + bsum[j]);
    for (int64_t j = 0; j < H; j++)
        ag[j] = g[j] + bsum[3 * H + j];
    xai_vtanh_array(H, ag, g);
    for (int64_t j = 0; j < H; j++) {
        float c = rc[2 * H + j] * cp[j] + rc[j] * g[j];
        cs[j] = c;
        cp[j] = c;
    }
    xai_vtanh_array(H, cs, hs);
    for (int64_t j = 0; j < H; j++) {
        float h = rc[H + j] * hs[j];
        hs[j] = h;
        hp[j] = h;
    }
}

/* The input part of every step's gate preactivations, a sequence at a time (W_d^T packed once,
 * not once per step): the i,o,f,g slots of the record of (d, t, r) receive x_t,r W_d^T. The step
 * loop then adds h_prev R_d^T in place. */
static void project_inputs(const xai_model *m, const xai_node *n, const xai_workspace *ws, const lstm_bufs *bf,
                           int64_t d, int64_t nr, int64_t r0, int64_t r1)
{
    const lstm_attr *a = n->attr;
    int64_t H = a->H, D = a->D, T = a->T, B = a->B;
    const float *X = ws->val[n->in[IN_X]];
    int64_t xn = vnumel(m, n->in[IN_X]);
    float *c0 = rec_at(a, bf->store, nr, d, 0, 0);
    for (int64_t r = r0; r < r1; r++)
        fma_rows(T, D, 4 * H, X + (r / B) * xn + x_off(a, 0, r % B), (size_t)(a->layout ? D : B * D), bf->WF,
                 c0 + (size_t)r * a->rec, (size_t)nr * a->rec, 0);
}

/* Run direction d over rows r0..r1-1 of the stack (whole stack elements), filling their
 * records and writing their Y, Y_h, Y_c. Rows and directions are independent, so they can run
 * on different threads; each row's arithmetic does not depend on the range. */
static void run_forward(const xai_model *m, const xai_node *n, xai_workspace *ws, const lstm_bufs *bf, int64_t d,
                        int64_t r0, int64_t r1)
{
    const lstm_attr *a = n->attr;
    int64_t H = a->H, T = a->T, B = a->B, nr = ws->ns * B;
    int rev = dir_rev(a, d);
    for (int64_t r = r0; r < r1; r++) {
        const float *h0 = init_state(m, n, ws, IN_H0, d, r), *c0 = init_state(m, n, ws, IN_C0, d, r);
        for (int64_t j = 0; j < H; j++) {
            bf->hp[r * H + j] = h0 ? h0[j] : 0.0f;
            bf->cp[r * H + j] = c0 ? c0[j] : 0.0f;
        }
    }
    project_inputs(m, n, ws, bf, d, nr, r0, r1);
    for (int64_t k = 0; k < T; k++) {
        int64_t t = rev ? T - 1 - k : k;
        /* z = x_t W^T (in the records) + h_prev R^T; the gates then overwrite z in place */
        float *z0 = rec_at(a, bf->store, nr, d, t, r0);
        fma_rows(r1 - r0, H, 4 * H, bf->hp + r0 * H, (size_t)H, bf->RF, z0, a->rec,
                 FMA_ADD | (k & 1 ? FMA_FROM_END : 0));
        for (int64_t r = r0; r < r1; r++)
            if (step_valid(a, t, r % B))
                gates_row(H, rec_at(a, bf->store, nr, d, t, r), bf->bsum, bf->cp + r * H, bf->hp + r * H);
    }
    for (int64_t r = r0; r < r1; r++) {
        int64_t s = r / B, b = r % B;
        if (n->out[0] >= 0) {
            float *Y = ws->val[n->out[0]] + s * vnumel(m, n->out[0]);
            for (int64_t t = 0; t < T; t++) {
                float *y = Y + y_off(a, t, d, b);
                if (step_valid(a, t, b))
                    memcpy(y, rec_at(a, bf->store, nr, d, t, r) + 6 * H, sizeof(float) * (size_t)H);
                else
                    memset(y, 0, sizeof(float) * (size_t)H);
            }
        }
        if (n->nout > 1 && n->out[1] >= 0)
            memcpy(ws->val[n->out[1]] + s * vnumel(m, n->out[1]) + st_off(a, d, b), bf->hp + r * H,
                   sizeof(float) * (size_t)H);
        if (n->nout > 2 && n->out[2] >= 0)
            memcpy(ws->val[n->out[2]] + s * vnumel(m, n->out[2]) + st_off(a, d, b), bf->cp + r * H,
                   sizeof(float) * (size_t)H);
    }
}

/* A stack is processed in fixed blocks of LSTM_BLOCK stack elements, which the thread pool
 * distributes. The blocks do not depend on the thread count, so neither do the results (BLAS
 * rounding can depend on the number of rows of a product). */
#define LSTM_BLOCK 16

static int64_t nblocks(const xai_workspace *ws)
{
    return (ws->ns + LSTM_BLOCK - 1) / LSTM_BLOCK;
}

typedef struct {
    const xai_model *m;
    const xai_node *n;
    xai_workspace *ws;
    const xai_rule *rule;
} par_ctx;

/* work item k of a pass: block k / ndir, direction k % ndir, with that direction's buffers */
static void item_rows(const par_ctx *c, int64_t k, int64_t *r0, int64_t *r1, int64_t *d, lstm_bufs *bf)
{
    const lstm_attr *a = c->n->attr;
    int64_t blk = k / a->ndir, s1 = (blk + 1) * LSTM_BLOCK < c->ws->ns ? (blk + 1) * LSTM_BLOCK : c->ws->ns;
    *d = k % a->ndir;
    *r0 = blk * LSTM_BLOCK * a->B;
    *r1 = s1 * a->B;
    bufs_split(a, c->ws, c->ws->ns * a->B, *d, bf);
}

static void relevance_rows(const xai_model *m, const xai_node *n, xai_workspace *ws, const lstm_bufs *bf,
                           const xai_rule *rule, int64_t d, int64_t r0, int64_t r1);

/* items k0..k1-1 of a forward pass (c->rule NULL) or of an LRP pass */
static void items_part(void *ctx, int64_t k0, int64_t k1, int tid)
{
    const par_ctx *c = ctx;
    (void)tid;
    for (int64_t k = k0; k < k1; k++) {
        int64_t r0, r1, d;
        lstm_bufs bf;
        item_rows(c, k, &r0, &r1, &d, &bf);
        if (c->rule)
            relevance_rows(c->m, c->n, c->ws, &bf, c->rule, d, r0, r1);
        else
            run_forward(c->m, c->n, c->ws, &bf, d, r0, r1);
    }
}

static xai_status lstm_forward(const xai_model *m, const xai_node *n, xai_workspace *ws)
{
    const lstm_attr *a = n->attr;
    prepare_weights(a, ws);
    par_ctx c = {m, n, ws, NULL};
    xai_par_for(nblocks(ws) * a->ndir, 1, items_part, &c);
    return XAI_OK;
}

/* adjoint (gradient or relevance) of output k for direction d, row r, at state offset; NULL if absent */
static const float *out_adj_state(const xai_model *m, const xai_node *n, const xai_workspace *ws, int k, int64_t d,
                                  int64_t r)
{
    const lstm_attr *a = n->attr;
    if (n->nout <= k || n->out[k] < 0)
        return NULL;
    return ws->adj[n->out[k]] + (r / a->B) * vnumel(m, n->out[k]) + st_off(a, d, r % a->B);
}

static void seed_state(const xai_model *m, const xai_node *n, const xai_workspace *ws, const lstm_bufs *bf,
                       int64_t d, int64_t r0, int64_t r1)
{
    int64_t H = ((const lstm_attr *)n->attr)->H;
    for (int64_t r = r0; r < r1; r++) {
        const float *gh = out_adj_state(m, n, ws, 1, d, r), *gc = out_adj_state(m, n, ws, 2, d, r);
        for (int64_t j = 0; j < H; j++) {
            bf->dh[r * H + j] = gh ? gh[j] : 0.0f;
            bf->dc[r * H + j] = gc ? gc[j] : 0.0f;
        }
    }
}

/* What reaches the initial states: activations get it in their adjoint; for constant or absent
 * states, relevance passes keep the row sums in bf->isr (added to ws->init_state_rel in a fixed
 * order once every direction is done). */
static void finish_state(const xai_model *m, const xai_node *n, xai_workspace *ws, const lstm_bufs *bf, int64_t d,
                         int64_t r0, int64_t r1, int relevance)
{
    const lstm_attr *a = n->attr;
    int64_t H = a->H;
    for (int which = IN_H0; which <= IN_C0; which++) {
        int v = n->nin > which ? n->in[which] : -1;
        const float *src = which == IN_H0 ? bf->dh : bf->dc;
        for (int64_t r = r0; r < r1; r++) {
            int64_t s = r / a->B;
            if (relevance)
                bf->isr[(which - IN_H0) * ws->ns * a->B + r] = 0.0;
            if (v >= 0 && !vconst(m, v)) {
                float *g = ws->adj[v] + s * vnumel(m, v) + st_off(a, d, r % a->B);
                for (int64_t j = 0; j < H; j++)
                    g[j] += src[r * H + j];
            } else if (relevance) {
                double sum = 0;
                for (int64_t j = 0; j < H; j++)
                    sum += src[r * H + j];
                bf->isr[(which - IN_H0) * ws->ns * a->B + r] = sum;
            }
        }
    }
}

static void scatter_x(const xai_model *m, const xai_node *n, xai_workspace *ws, const float *dxt, int64_t t,
                      int64_t nr)
{
    const lstm_attr *a = n->attr;
    int64_t xn = vnumel(m, n->in[IN_X]), D = a->D;
    float *gx = ws->adj[n->in[IN_X]];
    for (int64_t r = 0; r < nr; r++) {
        if (!step_valid(a, t, r % a->B))
            continue;
        float *g = gx + (r / a->B) * xn + x_off(a, t, r % a->B);
        for (int64_t k = 0; k < D; k++)
            g[k] += dxt[r * D + k];
    }
}

/* Parameter gradients of one step (training): with da = dL/d(gate preactivations) [nr][4H]
 * of step t (zero rows where the step is padding),
 *   dW_d += da^T x_t,  dR_d += da^T h_prev,  dWb_d = dRb_d += sum_r da.
 * xt and hp of bf are free during backward and receive the inputs of the step. */
static void param_grads(const xai_model *m, const xai_node *n, const xai_workspace *ws, const lstm_bufs *bf,
                        int64_t d, int64_t t, int64_t nr)
{
    const lstm_attr *a = n->attr;
    int64_t H = a->H, D = a->D, B = a->B;
    float *gW = n->pgrad[0], *gR = n->pgrad[1], *gB = a->Bv ? n->pgrad[2] : NULL;
    if (gW) {
        const float *X = ws->val[n->in[IN_X]];
        int64_t xn = vnumel(m, n->in[IN_X]);
        for (int64_t r = 0; r < nr; r++) {
            if (step_valid(a, t, r % B))
                memcpy(bf->xt + r * D, X + (r / B) * xn + x_off(a, t, r % B), sizeof(float) * (size_t)D);
            else
                memset(bf->xt + r * D, 0, sizeof(float) * (size_t)D);
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(4 * H), (int)D, (int)nr, 1.0f, bf->z,
                    (int)(4 * H), bf->xt, (int)D, 1.0f, gW + d * 4 * H * D, (int)D);
    }
    if (gR) {
        for (int64_t r = 0; r < nr; r++) {
            const float *hprev = NULL;
            if (step_valid(a, t, r % B)) {
                const float *pr = rec_prev(a, bf->store, nr, d, t, r);
                hprev = pr ? pr + 6 * H : init_state(m, n, ws, IN_H0, d, r);
            }
            if (hprev)
                memcpy(bf->hp + r * H, hprev, sizeof(float) * (size_t)H);
            else
                memset(bf->hp + r * H, 0, sizeof(float) * (size_t)H);
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(4 * H), (int)H, (int)nr, 1.0f, bf->z,
                    (int)(4 * H), bf->hp, (int)H, 1.0f, gR + d * 4 * H * H, (int)H);
    }
    if (gB) {
        float *gw = gB + d * 8 * H, *gr = gw + 4 * H;
        for (int64_t j = 0; j < 4 * H; j++) {
            double sum = 0;
            for (int64_t r = 0; r < nr; r++)
                sum += bf->z[r * 4 * H + j];
            gw[j] += (float)sum;
            gr[j] += (float)sum;
        }
    }
}

/* BPTT: accumulates dL/dX (and dL/d initial states that are activations) into ws->adj; with
 * params, also dL/dW, dL/dR, dL/dB into the node's training buffers n->pgrad[0..2] (those not
 * NULL). Training mode (ws->training) changes nothing in an LSTM. */
static xai_status bptt(const xai_model *m, const xai_node *n, xai_workspace *ws, int params)
{
    const lstm_attr *a = n->attr;
    int64_t H = a->H, D = a->D, T = a->T, B = a->B, nr = ws->ns * B;
    lstm_bufs bf;
    bufs_split(a, ws, nr, 0, &bf);
    params = params && (n->pgrad[0] || n->pgrad[1] || (a->Bv && n->pgrad[2]));
    const float *gY = n->out[0] >= 0 ? ws->adj[n->out[0]] : NULL;
    int64_t yn = n->out[0] >= 0 ? vnumel(m, n->out[0]) : 0;
    for (int64_t d = 0; d < a->ndir; d++) {
        const float *Wd = a->W + d * 4 * H * D, *Rd = a->R + d * 4 * H * H;
        int rev = dir_rev(a, d);
        seed_state(m, n, ws, &bf, d, 0, nr);
        for (int64_t k = T - 1; k >= 0; k--) {
            int64_t t = rev ? T - 1 - k : k;
            for (int64_t r = 0; r < nr; r++) {
                float *da = bf.z + r * 4 * H;
                if (!step_valid(a, t, r % B)) {
                    memset(da, 0, sizeof(float) * (size_t)(4 * H));
                    continue;
                }
                const float *rc = rec_at(a, bf.store, nr, d, t, r);
                const float *pr = rec_prev(a, bf.store, nr, d, t, r);
                const float *cprev = pr ? pr + 5 * H : init_state(m, n, ws, IN_C0, d, r);
                const float *gy = gY ? gY + (r / B) * yn + y_off(a, t, d, r % B) : NULL;
                float *dh = bf.dh + r * H, *dc = bf.dc + r * H;
                for (int64_t j = 0; j < H; j++) {
                    float gi = rc[j], go = rc[H + j], gf = rc[2 * H + j], gg = rc[3 * H + j], c = rc[5 * H + j];
                    float dht = dh[j] + (gy ? gy[j] : 0.0f);
                    float tc = xai_vtanhf(c);
                    float dct = dc[j] + dht * go * (1.0f - tc * tc);
                    float cpv = cprev ? cprev[j] : 0.0f;
                    da[j] = dct * gg * gi * (1.0f - gi);
                    da[H + j] = dht * tc * go * (1.0f - go);
                    da[2 * H + j] = dct * cpv * gf * (1.0f - gf);
                    da[3 * H + j] = dct * gi * (1.0f - gg * gg);
                    dc[j] = dct * gf;
                }
            }
            if (params)
                param_grads(m, n, ws, &bf, d, t, nr);
            xai_sgemm_rows(CblasNoTrans, (int)nr, (int)D, (int)(4 * H), 1.0f, bf.z, (int)(4 * H), Wd, (int)D, 0.0f,
                           bf.dxt, (int)D);
            scatter_x(m, n, ws, bf.dxt, t, nr);
            xai_sgemm_rows(CblasNoTrans, (int)nr, (int)H, (int)(4 * H), 1.0f, bf.z, (int)(4 * H), Rd, (int)H, 0.0f,
                           bf.tmp, (int)H);
            for (int64_t r = 0; r < nr; r++)
                if (step_valid(a, t, r % B))
                    memcpy(bf.dh + r * H, bf.tmp + r * H, sizeof(float) * (size_t)H);
        }
        finish_state(m, n, ws, &bf, d, 0, nr, 0);
    }
    return XAI_OK;
}

static xai_status lstm_backward(const xai_model *m, const xai_node *n, xai_workspace *ws)
{
    return bptt(m, n, ws, 1);
}

/* The cell split of one row's step: R(c_t) = carry + R(h_t) (+ R(y_t)) goes to f*c_prev (the new
 * carry) and i*g, and i*g's share on to g's preactivation: p = R(a_g) / (a_g + eps sgn a_g),
 * the factor that the recurrent and input products distribute. Returns the bias share of the
 * gate split (0 without beta); N = 2H for the cell split, D + H for the gate. */
XAI_VEC_CLONES static float cell_split(int64_t H, int64_t D, float eps, float beta, const float *restrict rc,
                        const float *restrict cprev, const float *restrict ry, const float *restrict bc,
                        float *restrict rh, float *restrict rcar, float *restrict p)
{
    const float *restrict c = rc + 5 * H, *restrict ag = rc + 4 * H;
    if (ry)
        for (int64_t j = 0; j < H; j++)
            p[j] = (rcar[j] + rh[j] + ry[j]) / xai_stab(c[j], eps);
    else
        for (int64_t j = 0; j < H; j++)
            p[j] = (rcar[j] + rh[j]) / xai_stab(c[j], eps);
    float scs = 0.0f;
    if (beta != 0.0f) {
        double sc = 0;
        for (int64_t j = 0; j < H; j++)
            sc += (double)((c[j] >= 0.0f ? eps : -eps) * p[j]);
        scs = (float)((double)beta * sc / (2.0 * (double)H));
    }
    if (cprev)
        for (int64_t j = 0; j < H; j++)
            rcar[j] = rc[2 * H + j] * cprev[j] * p[j] + scs;
    else
        for (int64_t j = 0; j < H; j++)
            rcar[j] = 0.0f * p[j] + scs;
    for (int64_t j = 0; j < H; j++)
        p[j] = (rc[j] * rc[3 * H + j] * p[j] + scs) / xai_stab(ag[j], eps);
    if (beta == 0.0f)
        return 0.0f;
    double sa = 0;
    for (int64_t j = 0; j < H; j++)
        sa += (double)((bc[j] + (ag[j] >= 0.0f ? eps : -eps)) * p[j]);
    return (float)((double)beta * sa / (double)(D + H));
}

/* R(x_t) = x (.) (W_c^T p) + share for every step of the stack elements of rows r0..r1-1, from
 * the p and shares the step loop kept, tc steps per product, into bf->contrib (laid out like X) */
static void input_relevance(const xai_model *m, const xai_node *n, const xai_workspace *ws, const lstm_bufs *bf,
                            int64_t r0, int64_t r1)
{
    const lstm_attr *a = n->attr;
    int64_t H = a->H, D = a->D, T = a->T, B = a->B;
    const float *X = ws->val[n->in[IN_X]];
    int64_t xn = vnumel(m, n->in[IN_X]);
    for (int64_t s = r0 / B; s < r1 / B; s++) {
        float *dxs = bf->dxt + s * a->tc * B * D; /* this element's chunk buffer [tc][B][D] */
        for (int64_t t0 = 0; t0 < T; t0 += a->tc) {
            int64_t nt = T - t0 < a->tc ? T - t0 : a->tc;
            fma_rows(nt * B, H, D, bf->pall + (size_t)((s * T + t0) * B * H), (size_t)H, bf->WC, dxs, (size_t)D, 0);
            for (int64_t t = t0; t < t0 + nt; t++)
                for (int64_t b = 0; b < B; b++) {
                    float *restrict g = bf->contrib + s * xn + x_off(a, t, b);
                    if (!step_valid(a, t, b)) {
                        memset(g, 0, sizeof(float) * (size_t)D);
                        continue;
                    }
                    const float *restrict dx = dxs + ((t - t0) * B + b) * D;
                    float sh = bf->shall[(s * T + t) * B + b];
                    const float *restrict x = X + s * xn + x_off(a, t, b);
                    for (int64_t i = 0; i < D; i++)
                        g[i] = x[i] * dx[i] + sh;
                }
        }
    }
}

/* LRP-all of direction d over rows r0..r1-1 (whole stack elements; items are independent,
 * see run_forward). The input relevance goes to bf->contrib, laid out like X. */
static void relevance_rows(const xai_model *m, const xai_node *n, xai_workspace *ws, const lstm_bufs *bf,
                           const xai_rule *rule, int64_t d, int64_t r0, int64_t r1)
{
    const lstm_attr *a = n->attr;
    int64_t H = a->H, D = a->D, T = a->T, B = a->B, nr = ws->ns * B;
    float eps = rule->epsilon, beta = rule->bias_factor;
    const float *RY = n->out[0] >= 0 ? ws->adj[n->out[0]] : NULL;
    int64_t yn = n->out[0] >= 0 ? vnumel(m, n->out[0]) : 0;
    float *share = bf->p + nr * H; /* [nr] bias shares of the current step */
    int rev = dir_rev(a, d);
    seed_state(m, n, ws, bf, d, r0, r1); /* dh = R(h) carried, dc = R(c) carried */
    for (int64_t k = T - 1; k >= 0; k--) {
        int64_t t = rev ? T - 1 - k : k;
        for (int64_t r = r0; r < r1; r++) {
            float *p = bf->p + r * H;
            if (!step_valid(a, t, r % B)) {
                memset(p, 0, sizeof(float) * (size_t)H);
                share[r] = 0.0f;
                continue;
            }
            const float *rc = rec_at(a, bf->store, nr, d, t, r);
            const float *pr = rec_prev(a, bf->store, nr, d, t, r);
            const float *cprev = pr ? pr + 5 * H : init_state(m, n, ws, IN_C0, d, r);
            const float *ry = RY ? RY + (r / B) * yn + y_off(a, t, d, r % B) : NULL;
            share[r] = cell_split(H, D, eps, beta, rc, cprev, ry, bf->bsum + 3 * H, bf->dh + r * H, bf->dc + r * H, p);
        }
        /* R(h_prev) = h_prev (.) (R_c^T p) + share */
        fma_rows(r1 - r0, H, H, bf->p + r0 * H, (size_t)H, bf->RC, bf->tmp + r0 * H, (size_t)H,
                 k & 1 ? FMA_FROM_END : 0);
        for (int64_t r = r0; r < r1; r++) {
            /* keep p and the share for the input relevance: [s][t][b] */
            size_t row = (size_t)(((r / B) * T + t) * B + r % B);
            memcpy(bf->pall + row * (size_t)H, bf->p + r * H, sizeof(float) * (size_t)H);
            bf->shall[row] = share[r];
            if (!step_valid(a, t, r % B))
                continue;
            const float *pr = rec_prev(a, bf->store, nr, d, t, r);
            const float *hprev = pr ? pr + 6 * H : init_state(m, n, ws, IN_H0, d, r);
            float *restrict dh = bf->dh + r * H;
            const float *restrict tmp = bf->tmp + r * H;
            float sh = share[r];
            if (hprev)
                for (int64_t i = 0; i < H; i++)
                    dh[i] = hprev[i] * tmp[i] + sh;
            else
                for (int64_t i = 0; i < H; i++)
                    dh[i] = 0.0f * tmp[i] + sh;
        }
    }
    input_relevance(m, n, ws, bf, r0, r1);
    finish_state(m, n, ws, bf, d, r0, r1, 1);
}

/* LRP-all. Linear rule (epsilon with bias factor beta, N lower units):
 *   R_i = sum_j [w_ji x_i + beta (b_j + eps sgn z_j) / N] R_j / (z_j + eps sgn z_j).
 * The bias share does not depend on i, so it is one scalar per row added to every lower unit
 * (as in Arras et al.'s lrp_linear with an identity matrix for the cell split, N = 2H).
 * Blocks of stack elements are split across the thread pool. */
static xai_status lstm_relevance(const xai_model *m, const xai_node *n, const xai_rule *rule, xai_workspace *ws)
{
    if (rule->kind == XAI_RULE_GRADIENT)
        return bptt(m, n, ws, 0);
    if (rule->kind != XAI_RULE_EPSILON)
        XAI_FAIL(XAI_EUNSUPPORTED, "node '%s' (LSTM): rule %s is not defined for LSTM (epsilon or gradient)", n->name,
                 xai_rule_name(rule->kind));
    const lstm_attr *a = n->attr;
    prepare_weights(a, ws);
    par_ctx c = {m, n, ws, rule};
    xai_par_for(nblocks(ws) * a->ndir, 1, items_part, &c);
    /* the directions' input and initial-state relevances, summed in direction order */
    int64_t xn = vnumel(m, n->in[IN_X]), nr = ws->ns * a->B;
    float *gx = ws->adj[n->in[IN_X]];
    for (int64_t d = 0; d < a->ndir; d++) {
        lstm_bufs bf;
        bufs_split(a, ws, nr, d, &bf);
        for (int64_t i = 0; i < ws->ns * xn; i++)
            gx[i] += bf.contrib[i];
        if (ws->init_state_rel)
            for (int which = 0; which < 2; which++)
                for (int64_t r = 0; r < nr; r++)
                    ws->init_state_rel[r / a->B] += bf.isr[which * nr + r];
    }
    return XAI_OK;
}

static void lstm_destroy(xai_node *n)
{
    lstm_attr *a = n->attr;
    if (a) {
        free(a->len);
        free(a->pk);
    }
    free(a);
    n->attr = NULL;
}

const xai_op_vtable xai_lstm_ops = {"LSTM", lstm_forward, lstm_backward, lstm_relevance, lstm_destroy};

/* ---------------------------------------------------------------- load */

static int str_is(const ProtobufCBinaryData *s, const char *want)
{
    size_t l = strlen(want);
    return s->len == l && memcmp(s->data, want, l) == 0;
}

static xai_status check_weight(const xai_model *m, const xai_node *n, int v, const char *what, int64_t d0, int64_t d1,
                               int64_t d2, int nd)
{
    const xai_value *w = &m->vals[v];
    if (!w->is_const || w->dtype != DT_F32)
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s' (LSTM): %s '%s' must be a float constant (initializer)", m->name,
                 n->name, what, w->name);
    int ok = w->ndim == nd && w->shape[0] == d0 && w->shape[1] == d1 && (nd < 3 || w->shape[2] == d2);
    if (!ok) {
        if (nd == 3)
            XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (LSTM): %s '%s' must have shape [%lld,%lld,%lld]", m->name, n->name,
                     what, w->name, (long long)d0, (long long)d1, (long long)d2);
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (LSTM): %s '%s' must have shape [%lld,%lld]", m->name, n->name, what,
                 w->name, (long long)d0, (long long)d1);
    }
    return XAI_OK;
}

/* the node's attributes: only the plain LSTM (default activations, no clip, no coupled
 * gates) is supported; hidden size, layout and direction into s */
static xai_status lstm_attrs(xai_model *m, xai_node *n, const Onnx__NodeProto *np, lstm_attr *s)
{
    static const char *const known[] = {"hidden_size", "direction", "layout", "activations", "activation_alpha",
                                        "activation_beta", "clip", "input_forget", NULL};
    xai_status st = xai_attr_only(m, np, known);
    if (st)
        return st;
    if (xai_attr_find(np, "clip"))
        return xai_node_unsupported(m, n, "clip", "cell clipping is not supported");
    if (xai_attr_find(np, "activation_alpha") || xai_attr_find(np, "activation_beta"))
        return xai_node_unsupported(m, n, xai_attr_find(np, "activation_alpha") ? "activation_alpha" : "activation_beta",
                                    "only the default activations Sigmoid, Tanh, Tanh are supported");
    int64_t hs, layout, input_forget;
    if ((st = xai_attr_int(m, np, "hidden_size", -1, &hs)) || (st = xai_attr_int(m, np, "layout", 0, &layout)) ||
        (st = xai_attr_int(m, np, "input_forget", 0, &input_forget)))
        return st;
    if (input_forget != 0)
        return xai_node_unsupported(m, n, "input_forget", "coupled input and forget gates are not supported");
    const char *dir;
    if ((st = xai_attr_string(m, np, "direction", "forward", &dir)))
        return st;
    int64_t ndir;
    int reverse = 0;
    if (strcmp(dir, "forward") == 0) {
        ndir = 1;
    } else if (strcmp(dir, "reverse") == 0) {
        ndir = 1;
        reverse = 1;
    } else if (strcmp(dir, "bidirectional") == 0) {
        ndir = 2;
    } else {
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (LSTM): unknown direction '%s' (forward, reverse, bidirectional)",
                 m->name, n->name, dir);
    }
    const Onnx__AttributeProto *act = xai_attr_find(np, "activations");
    if (act) {
        static const char *const def[3] = {"Sigmoid", "Tanh", "Tanh"};
        int ok = act->n_strings == (size_t)(3 * ndir);
        for (size_t k = 0; ok && k < act->n_strings; k++)
            ok = str_is(&act->strings[k], def[k % 3]);
        if (!ok)
            return xai_node_unsupported(m, n, "activations",
                                        "only the default activations Sigmoid, Tanh, Tanh (per direction) are supported");
    }
    if (layout != 0 && layout != 1)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (LSTM): layout must be 0 or 1 (got %lld)", m->name, n->name,
                 (long long)layout);
    if (hs < 1 || hs > (1 << 20))
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (LSTM): hidden_size must be given and positive (got %lld)", m->name,
                 n->name, (long long)hs);
    s->H = hs;
    s->layout = (int)layout;
    s->ndir = ndir;
    s->reverse = reverse;
    return XAI_OK;
}

/* initial_h and initial_c, when given: float, [ndir, B, H] (or [B, ndir, H] in layout 1) */
static xai_status lstm_check_states(const xai_model *m, const xai_node *n, const lstm_attr *s)
{
    for (int which = IN_H0; which <= IN_C0; which++) {
        int v = n->nin > which ? n->in[which] : -1;
        if (v < 0)
            continue;
        const xai_value *sv = &m->vals[v];
        if (sv->is_const && sv->dtype != DT_F32)
            XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (LSTM): %s '%s' must be float", m->name, n->name,
                     which == IN_H0 ? "initial_h" : "initial_c", sv->name);
        int64_t e0 = s->layout ? s->B : s->ndir, e1 = s->layout ? s->ndir : s->B;
        if (sv->ndim != 3 || sv->shape[0] != e0 || sv->shape[1] != e1 || sv->shape[2] != s->H)
            XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (LSTM): %s '%s' must have shape [%lld,%lld,%lld]", m->name, n->name,
                     which == IN_H0 ? "initial_h" : "initial_c", sv->name, (long long)e0, (long long)e1,
                     (long long)s->H);
    }
    return XAI_OK;
}

/* the inputs X, W, R, B and the initial states; T, B and D into s, whether B is given into *has_b */
static xai_status lstm_inputs(const xai_model *m, xai_node *n, lstm_attr *s, int *has_b)
{
    int64_t hs = s->H, ndir = s->ndir;
    xai_status st;
    if (n->nin < 3 || n->in[IN_X] < 0 || n->in[IN_W] < 0 || n->in[IN_R] < 0)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (LSTM): needs inputs X, W and R", m->name, n->name);
    if (n->nin > IN_P && n->in[IN_P] >= 0)
        return xai_node_unsupported(m, n, "P", "peephole connections are not supported");
    const xai_value *X = &m->vals[n->in[IN_X]];
    if (X->is_const)
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s' (LSTM): X must depend on the model input", m->name, n->name);
    if (X->ndim != 3)
        XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (LSTM): X must have rank 3 (got %d)", m->name, n->name, X->ndim);
    s->T = s->layout ? X->shape[1] : X->shape[0];
    s->B = s->layout ? X->shape[0] : X->shape[1];
    s->D = X->shape[2];
    if (s->T < 1 || s->B < 1 || s->D < 1)
        XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (LSTM): empty input X", m->name, n->name);
    const xai_value *Wv = &m->vals[n->in[IN_W]];
    if (Wv->ndim == 3 && Wv->shape[1] != 4 * hs && Wv->shape[1] % 4 == 0)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (LSTM): hidden_size %lld does not match W '%s' (4*H = %lld rows)",
                 m->name, n->name, (long long)hs, Wv->name, (long long)Wv->shape[1]);
    if ((st = check_weight(m, n, n->in[IN_W], "W", ndir, 4 * hs, s->D, 3)) ||
        (st = check_weight(m, n, n->in[IN_R], "R", ndir, 4 * hs, hs, 3)))
        return st;
    *has_b = n->nin > IN_B && n->in[IN_B] >= 0;
    if (*has_b && (st = check_weight(m, n, n->in[IN_B], "B", ndir, 8 * hs, 0, 2)))
        return st;
    return lstm_check_states(m, n, s);
}

/* record size and input-relevance chunk into s; refuses a node whose records and scratch
 * per stack element would pass LSTM_MAX_SCRATCH */
static xai_status lstm_sizes(const xai_model *m, const xai_node *n, lstm_attr *s)
{
    int64_t T = s->T, B = s->B, D = s->D, hs = s->H, ndir = s->ndir;
    int64_t rec = 7 * hs;
    /* steps per chunk of the input-relevance product: up to 2^17 floats of output per stack element */
    int64_t tc = ((int64_t)1 << 17) / (B * D);
    tc = tc < 1 ? 1 : tc > T ? T : tc;
    if ((double)ndir * ((double)T * (double)B * (double)rec +
                        (double)B * ((double)(1 + tc) * (double)D + 10.0 * (double)hs + 5.0 +
                                     (double)T * ((double)hs + 1.0 + (double)D))) >
            (double)LSTM_MAX_SCRATCH ||
        (double)ndir * 5.0 * (double)hs * ((double)hs + (double)D) > (double)LSTM_MAX_SCRATCH)
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s' (LSTM): too large (T=%lld, batch=%lld, D=%lld, H=%lld)", m->name,
                 n->name, (long long)T, (long long)B, (long long)D, (long long)hs);
    s->rec = (size_t)rec;
    s->tc = tc;
    return XAI_OK;
}

/* sequence_lens, when given: an integer constant with one length in 1..T per sample */
static xai_status lstm_seq_lens(const xai_model *m, const xai_node *n, lstm_attr *a)
{
    if (!(n->nin > IN_LEN && n->in[IN_LEN] >= 0))
        return XAI_OK;
    const xai_value *L = &m->vals[n->in[IN_LEN]];
    if (!L->is_const || L->dtype != DT_I64)
        return xai_node_unsupported(m, n, "sequence_lens",
                                    "sequence_lens must be an integer constant (per-sample lengths are not supported)");
    if (L->numel != a->B)
        XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (LSTM): sequence_lens '%s' has %lld values for a batch of %lld",
                 m->name, n->name, L->name, (long long)L->numel, (long long)a->B);
    a->len = malloc(sizeof(int64_t) * (size_t)a->B);
    if (!a->len)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    for (int64_t b = 0; b < a->B; b++) {
        if (L->i[b] < 1 || L->i[b] > a->T)
            XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (LSTM): sequence_lens[%lld] = %lld is outside 1..%lld", m->name,
                     n->name, (long long)b, (long long)L->i[b], (long long)a->T);
        a->len[b] = L->i[b];
    }
    return XAI_OK;
}

/* shapes of Y [T, ndir, B, H] (layout 1: [B, T, ndir, H]) and of Y_h, Y_c */
static xai_status lstm_outputs(xai_model *m, const xai_node *n, const lstm_attr *a)
{
    int64_t T = a->T, B = a->B, hs = a->H, ndir = a->ndir;
    if (n->nout > 3)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (LSTM): at most 3 outputs", m->name, n->name);
    for (int k = 0; k < n->nout && k < 3; k++) {
        if (n->out[k] < 0)
            continue;
        xai_value *o = &m->vals[n->out[k]];
        if (k == 0) {
            o->ndim = 4;
            int64_t sh[4] = {T, ndir, B, hs}, shl[4] = {B, T, ndir, hs};
            memcpy(o->shape, a->layout ? shl : sh, sizeof sh);
            o->numel = T * ndir * B * hs;
        } else {
            o->ndim = 3;
            o->shape[0] = a->layout ? B : ndir;
            o->shape[1] = a->layout ? ndir : B;
            o->shape[2] = hs;
            o->numel = ndir * B * hs;
        }
    }
    return XAI_OK;
}

/* the records: a hidden activation, 4th output of the node, kept for the relevance pass */
static xai_status lstm_add_records(xai_model *m, xai_node *n, lstm_attr *a)
{
    char vname[512];
    snprintf(vname, sizeof vname, "%s#lstm-records", n->name);
    int rv = xai_model_add_value(m, vname);
    if (rv < 0)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    xai_value *r = &m->vals[rv];
    r->ndim = 1;
    r->shape[0] = a->ndir * a->T * a->B * (int64_t)a->rec;
    r->numel = r->shape[0];
    r->dtype = DT_F32;
    r->producer = m->nnodes - 1;
    r->no_adj = 1;
    for (int k = n->nout; k < 3; k++)
        n->out[k] = -1;
    n->out[3] = rv;
    n->nout = 4;
    a->recv = rv;
    return XAI_OK;
}

xai_status xai_lstm_init(xai_model *m, xai_node *n, const Onnx__NodeProto *np)
{
    lstm_attr s = {0};
    int has_b = 0;
    xai_status st;
    if ((st = lstm_attrs(m, n, np, &s)) || (st = lstm_inputs(m, n, &s, &has_b)) || (st = lstm_sizes(m, n, &s)))
        return st;
    lstm_attr *a = calloc(1, sizeof *a);
    if (!a)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    n->attr = a;
    *a = s;
    a->W = m->vals[n->in[IN_W]].f;
    a->R = m->vals[n->in[IN_R]].f;
    a->Bv = has_b ? m->vals[n->in[IN_B]].f : NULL;
    if ((st = lstm_seq_lens(m, n, a)) || (st = lstm_outputs(m, n, a)) || (st = lstm_add_records(m, n, a)))
        return st;
    a->pk = malloc(sizeof(float) * (size_t)s.ndir * pk_floats(&s));
    if (!a->pk)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    pack_weights(a);
    /* scratch: per direction the bias sums (fixed), and a work set per stack element (see
     * bufs_split) */
    n->scratch = (size_t)s.ndir * set_floats(a);
    n->scratch_fixed = (size_t)(s.ndir * 4 * s.H + 1);
    return XAI_OK;
}
