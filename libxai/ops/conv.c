/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * conv.c - ONNX Conv, 1-D to 3-D, with strides, pads, auto_pad, dilations and groups.
 * Stride-1 convolutions of one group with few channels run their forward and transposed
 * products (input gradient, relevance) on the direct vectorised kernels below. The others run
 * on OpenBLAS sgemm through im2col / col2im, one sample at a time; among them a 1-D convolution
 * with stride 1 and one group skips im2col: y = sum over taps k of W_k x_pad[:, k*d : k*d + osp], one product per
 * tap whose B operand is a window of the zero-padded input itself (ldb = padded length), so the
 * k-times larger column matrix is never written (forward about 1.2x faster on an EEG CNN's
 * first layer); the transposed product likewise, into a padded gradient that is then cropped.
 */
#include <cblas.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"
#include "vecmath.h"

typedef struct {
    xai_linear lin;           /* must be first */
    int nsp;                  /* spatial dims 1..3 */
    int64_t b0, cin, cout, group;
    int64_t in[3], out[3], k[3], s[3], d[3], pb[3];
    int64_t isp, osp, ksz;    /* spatial sizes and kernel taps */
    int direct;               /* 1x1, stride 1, no pad: no im2col */
    int tap;                  /* 1-D, stride 1, one group: products tap by tap on the padded input */
    int64_t lp;               /* tap path: padded length osp + (k - 1) * dilation */
    int64_t colsz;            /* floats of per-sample work buffer (im2col columns or padded input) */
    int64_t dcsz;             /* direct kernels: the part of it they use (padded rows, then the channel
                                 sum of s), followed in the node's fixed scratch by the flipped weights */
    int dk;                   /* direct kernels (dconv_*) for the forward and transposed products */
    int64_t fp[3], tp[3];     /* direct kernels: padded input dims (forward) and padded s dims (transposed) */
    int fwd_inplace;          /* direct forward: rows need no padding, the kernels read x where it is (the
                                 last row's last vector reads up to DC_SLACK floats past x: the
                                 workspace leaves that much after every buffer) */
} conv_attr;

/* Output positions o in [lo, hi) whose input index o * s + off lies in [0, nin). */
static void valid_range(int64_t nout, int64_t s, int64_t off, int64_t nin, int64_t *lo, int64_t *hi)
{
    int64_t l = off < 0 ? (-off + s - 1) / s : 0;
    int64_t h = nin - off > 0 ? (nin - off + s - 1) / s : 0;
    if (h > nout)
        h = nout;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

/* im2col rows of input channels c0..c1-1 (rows c*ksz ... (c+1)*ksz - 1) */
static void im2col_ch(const conv_attr *a, const float *x, float *col, int64_t c0, int64_t c1)
{
    const int64_t ID = a->in[0], IH = a->in[1], IW = a->in[2];
    const int64_t OD = a->out[0], OH = a->out[1], OW = a->out[2];
    int64_t row = c0 * a->ksz;
    for (int64_t c = c0; c < c1; c++) {
        const float *xc = x + c * a->isp;
        for (int64_t kd = 0; kd < a->k[0]; kd++)
            for (int64_t kh = 0; kh < a->k[1]; kh++)
                for (int64_t kw = 0; kw < a->k[2]; kw++, row++) {
                    float *cr = col + row * a->osp;
                    for (int64_t od = 0; od < OD; od++) {
                        int64_t id = od * a->s[0] - a->pb[0] + kd * a->d[0];
                        for (int64_t oh = 0; oh < OH; oh++) {
                            int64_t ih = oh * a->s[1] - a->pb[1] + kh * a->d[1];
                            float *dst = cr + (od * OH + oh) * OW;
                            if (id < 0 || id >= ID || ih < 0 || ih >= IH) {
                                memset(dst, 0, sizeof(float) * (size_t)OW);
                                continue;
                            }
                            const float *src = xc + (id * IH + ih) * IW;
                            int64_t off = kw * a->d[2] - a->pb[2], lo, hi;
                            valid_range(OW, a->s[2], off, IW, &lo, &hi);
                            for (int64_t ow = 0; ow < lo; ow++)
                                dst[ow] = 0.0f;
                            if (a->s[2] == 1 && hi > lo)
                                memcpy(dst + lo, src + lo + off, sizeof(float) * (size_t)(hi - lo));
                            else if (a->s[2] != 1)
                                for (int64_t ow = lo; ow < hi; ow++)
                                    dst[ow] = src[ow * a->s[2] + off];
                            for (int64_t ow = hi; ow < OW; ow++)
                                dst[ow] = 0.0f;
                        }
                    }
                }
    }
}

/* col2im of the rows of input channels c0..c1-1 (each writes only its own channel of x) */
static void col2im_add_ch(const conv_attr *a, const float *col, float *x, int64_t c0, int64_t c1)
{
    const int64_t ID = a->in[0], IH = a->in[1], IW = a->in[2];
    const int64_t OD = a->out[0], OH = a->out[1], OW = a->out[2];
    int64_t row = c0 * a->ksz;
    for (int64_t c = c0; c < c1; c++) {
        float *xc = x + c * a->isp;
        for (int64_t kd = 0; kd < a->k[0]; kd++)
            for (int64_t kh = 0; kh < a->k[1]; kh++)
                for (int64_t kw = 0; kw < a->k[2]; kw++, row++) {
                    const float *cr = col + row * a->osp;
                    for (int64_t od = 0; od < OD; od++) {
                        int64_t id = od * a->s[0] - a->pb[0] + kd * a->d[0];
                        if (id < 0 || id >= ID)
                            continue;
                        for (int64_t oh = 0; oh < OH; oh++) {
                            int64_t ih = oh * a->s[1] - a->pb[1] + kh * a->d[1];
                            if (ih < 0 || ih >= IH)
                                continue;
                            const float *src = cr + (od * OH + oh) * OW;
                            float *dst = xc + (id * IH + ih) * IW;
                            int64_t off = kw * a->d[2] - a->pb[2], lo, hi;
                            valid_range(OW, a->s[2], off, IW, &lo, &hi);
                            if (a->s[2] == 1) {
                                for (int64_t ow = lo; ow < hi; ow++)
                                    dst[ow + off] += src[ow];
                            } else {
                                for (int64_t ow = lo; ow < hi; ow++)
                                    dst[ow * a->s[2] + off] += src[ow];
                            }
                        }
                    }
                }
    }
}

/* im2col and col2im over all channels. Inside a single-sample region (xai_par_blas_begin) the
   channels are split over the pool: they write disjoint rows (im2col) or channels (col2im), so
   the result is the same. */
typedef struct {
    const conv_attr *a;
    const float *src;
    float *dst;
    int back;
} i2c_job;

static void i2c_part(void *ctx, int64_t c0, int64_t c1, int tid)
{
    const i2c_job *j = ctx;
    (void)tid;
    if (j->back)
        col2im_add_ch(j->a, j->src, j->dst, c0, c1);
    else
        im2col_ch(j->a, j->src, j->dst, c0, c1);
}

static void i2c_run(const conv_attr *a, const float *src, float *dst, int back)
{
    if (!xai_par_region()) {
        if (back)
            col2im_add_ch(a, src, dst, 0, a->cin);
        else
            im2col_ch(a, src, dst, 0, a->cin);
        return;
    }
    i2c_job j = {a, src, dst, back};
    int64_t per_ch = a->ksz * a->osp, min_ch = ((int64_t)1 << 16) / (per_ch > 0 ? per_ch : 1);
    xai_par_for(a->cin, min_ch > 0 ? min_ch : 1, i2c_part, &j);
}

static void im2col(const conv_attr *a, const float *x, float *col)
{
    i2c_run(a, x, col, 0);
}

static void col2im_add(const conv_attr *a, const float *col, float *x)
{
    i2c_run(a, col, x, 1);
}

/* ---- direct kernels for few channels (stride 1, one group) ----
 * z[o][p] = sum over input channels c and taps k of w[o][c][k] * xp[c][p + k*d], on an input xp
 * zero-padded along the rows so that every read is in bounds. Blocks of 4 or 8 output channels by
 * two vectors (16 or 32 positions) of an output row keep their sums in vector registers over all channels and taps,
 * so each output is written once and each input vector is loaded once per block (im2col would
 * write the input ksz times over and hand a small-M product to sgemm). The transposed product
 * W^T s is the same correlation on s padded by (k-1)*d - pad, with the weights flipped and their
 * channel axes swapped. Every output element is summed in the same order (channels, then taps)
 * whatever block, thread or instruction set computes it, so the results do not depend on those. */
#define DC_CO 4      /* output channels per block (and per parallel part) */
#define DC_CO_MAX 8  /* the widest block (DK_CO_WIDE) */
#define DC_SLACK 16 /* floats after a padded buffer that a row's last vector may read */

typedef struct {
    int64_t ci, K[3], d[3], O[3];  /* input channels, taps, dilations, output dims */
    int64_t PW;                    /* padded row length: O[2] + (K[2] - 1) * d[2] */
    int64_t lo[2], hi[2];          /* padded depth and height indices in [lo, hi) hold the data; the
                                      others are zero and never read, so only these rows are stored */
} dconv_geom;

/* taps k of an axis whose padded index o + k*d lies in [lo, hi) (the others read zero rows) */
static inline void dc_taps(int64_t o, int64_t K, int64_t d, int64_t lo, int64_t hi, int64_t *k0, int64_t *k1)
{
    int64_t a = lo - o > 0 ? lo - o : 0, b = hi - o > 0 ? hi - o : 0;
    if (d > 1) { /* (a division costs tens of cycles, and this runs twice per output row) */
        a = (a + d - 1) / d;
        b = (b + d - 1) / d;
    }
    *k0 = a;
    *k1 = b < K ? b : K;
}

/* What a block accumulates and where its sums go. The relevance forms fold a rule's elementwise
   step into the product, so the input-sized buffers (the layer input, its relevance) are read
   once instead of once per product and no product is written out:
     DK_STORE  z = W x (+ b)
     DK_SPLIT  z = W x+ + W2 x- (+ b): z+ (W+, W-) and z- (W-, W+) of the z+ and alpha-beta rules
               on inputs of both signs in one sweep, x+ = max(x, 0) and x- = min(x, 0) taken in
               registers (every term has one factor zero in one of the two products)
     DK_ABS    z = |W| |x|: with the layer's output z = W x + b it gives both parts,
               z+ = (z + |W||x| + |b|) / 2 and z- = (z - |W||x| - |b|) / 2, in one product
               (linear.c; |x| taken in registers, the caller passes |W|)
     DK_XREL   r += (alpha x) (W^T s)                          (epsilon; z+ on inputs >= 0)
     DK_PM     r += (alpha x+) (W^T s) + (alpha x-) (W2^T s)   (z+, alpha-beta on both signs)
   In DK_PM one of the two terms of every element is exactly zero, so each element gets the value
   the two separate products and elementwise passes it replaces gave, bit for bit. */
enum { DK_STORE, DK_SPLIT, DK_XREL, DK_PM, DK_ADD, DK_ABS }; /* DK_ADD: r += W^T s (Flat) */

typedef struct {
    dconv_geom g;
    int64_t nout;
    const float *w, *w2, *b, *xp;  /* w2: DK_SPLIT, DK_PM; xp: the padded input of the product */
    float *z;                       /* DK_STORE, DK_SPLIT: [nout][O] */
    const float *x;                 /* DK_XREL, DK_PM: the layer input, laid out like z */
    float *r;                       /* and its relevance */
    float alpha;
    int kind;
    int fresh;                      /* DK_XREL, DK_PM: r holds no values yet (read as zeros) */
} dc_job;

/* One input row a block reads: (channel, depth tap, height tap) of the padded input, as the
   offset of the row in xp and of its first weight. A table of them per output row turns the
   channel and tap loops into one, so kernels with a single tap along the rows (a 25x1 spatial
   filter, a transposed product whose input has one row) do not pay three loop levels per tap. */
typedef struct {
    int32_t x, w;
} dc_tap;

#define DC_TAB 4096 /* rows per table: channels x depth taps x height taps (conv_choose_direct) */

/* The input rows an output row reads depend on the row only through its class, the taps
   [d0, d1) x [h0, h1) that reach data (all of them away from the padding): one table per class,
   its offsets relative to the row's base (dc_base), serves every row of the class. */
typedef struct {
    int64_t d0, d1, h0, h1;
} dc_class;

static dc_class dc_class_of(const dconv_geom *g, int64_t od, int64_t oh)
{
    dc_class k;
    dc_taps(od, g->K[0], g->d[0], g->lo[0], g->hi[0], &k.d0, &k.d1);
    dc_taps(oh, g->K[1], g->d[1], g->lo[1], g->hi[1], &k.h0, &k.h1);
    return k;
}

static int dc_same_class(dc_class a, dc_class b)
{
    return a.d0 == b.d0 && a.d1 == b.d1 && a.h0 == b.h0 && a.h1 == b.h1;
}

/* where tap (0, 0) of output row (od, oh) would sit in the stored rows (may lie before them) */
static int64_t dc_base(const dconv_geom *g, int64_t od, int64_t oh)
{
    return ((od - g->lo[0]) * (g->hi[1] - g->lo[1]) + oh - g->lo[1]) * g->PW;
}

/* the input rows of a row of class k, in the summation order (channels, then taps) */
static int dc_table(const dconv_geom *g, dc_class k, dc_tap *tab)
{
    const int64_t K = g->K[0] * g->K[1] * g->K[2], R1 = g->hi[1] - g->lo[1];
    const int64_t psp = (g->hi[0] - g->lo[0]) * R1 * g->PW;
    int nt = 0;
    /* the first channel's rows, then each channel's as the previous one's one channel further
       (offsets fit in 32 bits: conv_choose_direct) */
    const int32_t xd = (int32_t)(g->d[0] * R1 * g->PW), xh = (int32_t)(g->d[1] * g->PW);
    const int32_t wd = (int32_t)(g->K[1] * g->K[2]), wh = (int32_t)g->K[2];
    int32_t xr = (int32_t)((k.d0 * g->d[0] * R1 + k.h0 * g->d[1]) * g->PW);
    int32_t wr = (int32_t)((k.d0 * g->K[1] + k.h0) * g->K[2]);
    for (int64_t kd = k.d0; kd < k.d1; kd++, xr += xd, wr += wd)
        for (int64_t kh = k.h0; kh < k.h1; kh++, nt++) {
            tab[nt].x = xr + (int32_t)(kh - k.h0) * xh;
            tab[nt].w = wr + (int32_t)(kh - k.h0) * wh;
        }
    const int32_t xc = (int32_t)psp, wc = (int32_t)K;
    for (int t = nt; t < nt * g->ci; t++) {
        tab[t].x = tab[t - nt].x + xc;
        tab[t].w = tab[t - nt].w + wc;
    }
    return nt * (int)g->ci;
}

/* One instance of the kernels per instruction set (conv-dk.h); dconv_channels runs the widest
   this CPU has. The AVX-512 one takes 16 floats a vector; the portable one rounds each term with
   fmaf as the others do, so all three give the same bits. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(XAI_NO_CLONES)
#include <immintrin.h>
#define DK_FN(name) name##_avx512
#define DK_TARGET __attribute__((target("avx512f,fma")))
#define DK_VL 16
#define DK_FMA(c, a, b) ((c) = _mm512_fmadd_ps(a, b, c))
#define DK_SPLAT(s) _mm512_set1_ps(s)
#define DK_CO_WIDE 8
#define DK_MASK_T __mmask16
#define DK_SIGNS(x, P, N)                                                                          \
    ((P) = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ),                                 \
     (N) = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ))
#define DK_SPLIT_FMA(c, w, w2, x, P, N) ((c) = _mm512_mask3_fmadd_ps(w, x, c, P), (c) = _mm512_mask3_fmadd_ps(w2, x, c, N))
#include "conv-dk.h"
#undef DK_FN
#undef DK_TARGET
#undef DK_VL
#undef DK_FMA
#undef DK_SPLAT
#undef DK_CO_WIDE
#undef DK_MASK_T
#undef DK_SIGNS
#undef DK_SPLIT_FMA
#define DK_FN(name) name##_avx2
#define DK_TARGET __attribute__((target("avx2,fma")))
#define DK_VL 8
#define DK_FMA(c, a, b) ((c) = _mm256_fmadd_ps(a, b, c))
#define DK_SPLAT(s) _mm256_set1_ps(s)
#define DK_CO_WIDE DC_CO
#include "conv-dk.h"
#undef DK_FN
#undef DK_TARGET
#undef DK_VL
#undef DK_FMA
#undef DK_SPLAT
#undef DK_CO_WIDE
#define DK_X86 1
#endif

typedef float dk_port_v __attribute__((vector_size(32)));

/* (by pointer: without AVX a 32-byte vector passed by value has another ABI) */
static inline void dk_port_fma(dk_port_v *c, const dk_port_v *a, const dk_port_v *b)
{
    for (int i = 0; i < 8; i++)
        (*c)[i] = fmaf((*a)[i], (*b)[i], (*c)[i]);
}

#define DK_FN(name) name##_port
#define DK_TARGET
#define DK_VL 8
#define DK_FMA(c, a, b) dk_port_fma(&(c), &(a), &(b))
#define DK_SPLAT(s) ((dk_port_v){s, s, s, s, s, s, s, s})
#define DK_CO_WIDE DC_CO
#include "conv-dk.h"
#undef DK_FN
#undef DK_TARGET
#undef DK_VL
#undef DK_FMA
#undef DK_SPLAT
#undef DK_CO_WIDE

static _Atomic int dk_limit = 2; /* the widest instance allowed: 2 AVX-512, 1 AVX2, 0 portable */

int xai_dconv_isa(int limit)
{
    if (limit >= 0)
        atomic_store(&dk_limit, limit);
    int lim = atomic_load(&dk_limit);
#ifdef DK_X86
    __builtin_cpu_init();
    if (lim >= 2 && __builtin_cpu_supports("avx512f"))
        return 2;
    if (lim >= 1 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return 1;
#endif
    (void)lim;
    return 0;
}

static void dconv_channels(const dc_job *J, int64_t o0, int64_t o1)
{
#ifdef DK_X86
    int k = xai_dconv_isa(-1);
    if (k == 2) {
        dconv_channels_avx512(J, o0, o1);
        return;
    }
    if (k == 1) {
        dconv_channels_avx2(J, o0, o1);
        return;
    }
#endif
    dconv_channels_port(J, o0, o1);
}

/* x ([ch][in dims]) into xp ([ch][in0][in1][PW]): each row at offset off, zeros around it (a row
   part beyond PW is not read by the kernel and is dropped), then DC_SLACK zeros */
static void dc_pad(int64_t ch, const int64_t in[3], int64_t off, int64_t PW, const float *x, float *xp)
{
    const int64_t rows = ch * in[0] * in[1], L = in[2];
    int64_t lo = off > 0 ? 0 : -off, hi = L < PW - off ? L : PW - off;
    for (int64_t r = 0; r < rows; r++) {
        float *d = xp + r * PW;
        const float *src = x + r * L;
        if (hi <= lo) {
            memset(d, 0, sizeof(float) * (size_t)PW);
            continue;
        }
        memset(d, 0, sizeof(float) * (size_t)(off + lo));
        memcpy(d + off + lo, src + lo, sizeof(float) * (size_t)(hi - lo));
        memset(d + off + hi, 0, sizeof(float) * (size_t)(PW - off - hi));
    }
    memset(xp + rows * PW, 0, sizeof(float) * DC_SLACK);
}

static dconv_geom dc_geom(const conv_attr *a, int transposed)
{
    dconv_geom g;
    g.ci = transposed ? a->cout : a->cin;
    for (int i = 0; i < 3; i++) {
        g.K[i] = a->k[i];
        g.d[i] = a->d[i];
        g.O[i] = transposed ? a->in[i] : a->out[i];
    }
    g.PW = transposed ? a->tp[2] : a->fp[2];
    for (int i = 0; i < 2; i++) { /* where dc_pad puts the data */
        g.lo[i] = transposed ? (a->k[i] - 1) * a->d[i] - a->pb[i] : a->pb[i];
        g.hi[i] = g.lo[i] + (transposed ? a->out[i] : a->in[i]);
    }
    return g;
}

/* Transposed product's weights: wt[c][o][K-1-k] = w[o][c][k] */
static void dc_flip(const conv_attr *a, const float *w, float *wt)
{
    const int64_t K = a->ksz;
    for (int64_t o = 0; o < a->cout; o++)
        for (int64_t c = 0; c < a->cin; c++)
            for (int64_t k = 0; k < K; k++)
                wt[(c * a->cout + o) * K + K - 1 - k] = w[(o * a->cin + c) * K + k];
}

static void dc_part(void *ctx, int64_t b0, int64_t b1, int tid)
{
    const dc_job *j = ctx;
    (void)tid;
    dconv_channels(j, b0 * DC_CO, b1 * DC_CO < j->nout ? b1 * DC_CO : j->nout);
}

/* sum[k] = the sum over ch channels of s[c * n + k], channels in order. In pieces that stay in L1
   while every channel adds into them (one pass over sum per channel read it from L2 each time). */
static void dc_chan_sum(const float *restrict s, int64_t ch, int64_t n, float *restrict sum)
{
    enum { PIECE = 2048 };
    for (int64_t k0 = 0; k0 < n; k0 += PIECE) {
        const int64_t len = n - k0 < PIECE ? n - k0 : PIECE;
        memcpy(sum + k0, s + k0, sizeof(float) * (size_t)len);
        for (int64_t c = 1; c < ch; c++)
            for (int64_t k = k0; k < k0 + len; k++)
                sum[k] += s[c * n + k];
    }
}

/* One sample's product (j->xp padded, j->nout output channels). A single sample inside a region
   of several threads splits its channel blocks over the pool (the same sums). */
static void dc_run(const dc_job *j, int single)
{
    const dconv_geom *g = &j->g;
    const int64_t osp = g->O[0] * g->O[1] * g->O[2], K = g->K[0] * g->K[1] * g->K[2];
    double macs = (double)j->nout * (double)osp * (double)(g->ci * K);
    if (!single || macs < (double)(1 << 20)) {
        dconv_channels(j, 0, j->nout);
        return;
    }
    xai_par_for((j->nout + DC_CO - 1) / DC_CO, 1, dc_part, (void *)j);
}

/* Tap path: the weights tap-major, [ksz][cout][cin] (NULL: no memory) */
/* Tap path: the weights tap by tap, t[k][o][c], into the node's fixed scratch after its colsz
   floats (each call may bring another weight set, so they are laid out per call) */
static float *taps_of(const conv_attr *a, const float *w, float *scratch)
{
    const int64_t K = a->ksz, co = a->cout, ci = a->cin;
    float *t = scratch + a->colsz;
    for (int64_t o = 0; o < co; o++)
        for (int64_t c = 0; c < ci; c++)
            for (int64_t k = 0; k < K; k++)
                t[(k * co + o) * ci + c] = w[(o * ci + c) * K + k];
    return t;
}

/* Tap path: xp[c][t] = x[c][t - pad] inside the input, 0 outside ([cin][lp]) */
static void pad_input(const conv_attr *a, const float *xi, float *xp)
{
    const int64_t L = a->in[2], lp = a->lp, pb = a->pb[2];
    int64_t lo = pb < lp ? pb : lp, hi = pb + L < lp ? pb + L : lp;
    for (int64_t c = 0; c < a->cin; c++) {
        float *r = xp + c * lp;
        memset(r, 0, sizeof(float) * (size_t)lo);
        if (hi > lo)
            memcpy(r + lo, xi + c * L, sizeof(float) * (size_t)(hi - lo));
        memset(r + (hi > lo ? hi : lo), 0, sizeof(float) * (size_t)(lp - (hi > lo ? hi : lo)));
    }
}

typedef struct {
    const conv_attr *a;
    const float *w, *b, *in;
    float *out;
    int ones;
    const float *wt;    /* tap path: taps_of(w), or NULL; direct kernels: the flipped w (transposed) */
    const float *w2;    /* direct kernels, two weight sets (DK_SPLIT; DK_PM: flipped) */
    const float *x;     /* DK_XREL, DK_PM: the layer input; out is then its relevance */
    float alpha;
    int kind;           /* direct kernels: DK_* */
    _Atomic int failed; /* a worker had no memory for its scratch: the caller redoes the stack */
    int fresh;          /* DK_XREL, DK_PM: out holds no values yet */
    int64_t fin[XAI_PAR_MAX_THREADS][2]; /* transposed products: the range each thread finished */
} conv_job;

/* One sample range of the forward product; scratch holds one sample's im2col columns (or padded
   input, tap path with wt = taps_of(w)). */
static void conv_fwd_range(const conv_job *j, int64_t i0, int64_t i1, float *scratch)
{
    const conv_attr *a = j->a;
    const float *w = j->w, *wt = j->wt, *b = j->b;
    const int64_t G = a->group, cog = a->cout / G, kg = a->cin / G * a->ksz;
    for (int64_t i = i0; i < i1; i++) {
        const float *xi = j->in + i * a->cin * a->isp;
        float *zi = j->out + i * a->cout * a->osp;
        if (a->dk) {
            dc_job J = {dc_geom(a, 0), a->cout, w, j->w2, b, scratch, zi, NULL, NULL, 0.0f, j->kind, 0};
            if (a->fwd_inplace)
                J.xp = xi;
            else
                dc_pad(a->cin, a->in, a->pb[2], a->fp[2], xi, scratch);
            dc_run(&J, xai_par_region());
            continue;
        }
        if (wt) {
            pad_input(a, xi, scratch);
            for (int64_t k = 0; k < a->ksz; k++)
                xai_sgemm(CblasNoTrans, CblasNoTrans, (int)a->cout, (int)a->osp, (int)a->cin, 1.0f,
                          wt + k * a->cout * a->cin, (int)a->cin, scratch + k * a->d[2], (int)a->lp,
                          k ? 1.0f : 0.0f, zi, (int)a->osp);
        } else {
            const float *col = xi;
            if (!a->direct) {
                im2col(a, xi, scratch);
                col = scratch;
            }
            for (int64_t g = 0; g < G; g++)
                xai_sgemm(CblasNoTrans, CblasNoTrans, (int)cog, (int)a->osp, (int)kg, 1.0f, w + g * cog * kg, (int)kg,
                          col + g * kg * a->osp, (int)a->osp, 0.0f, zi + g * cog * a->osp, (int)a->osp);
        }
        if (b)
            for (int64_t c = 0; c < a->cout; c++) {
                float bc = b[c];
                float *zc = zi + c * a->osp;
                for (int64_t k = 0; k < a->osp; k++)
                    zc[k] += bc;
            }
    }
}

static void conv_fwd_worker(void *ctx, int64_t i0, int64_t i1, int tid)
{
    conv_job *j = ctx;
    (void)tid;
    float *scr = j->a->direct ? NULL : xai_thread_scratch((size_t)j->a->colsz);
    if (!j->a->direct && !scr) {
        j->failed = 1;
        return;
    }
    conv_fwd_range(j, i0, i1, scr);
}

/* The forward product over the stack (kind DK_STORE), or z = W x+ + W2 x- (+ b) (DK_SPLIT,
   direct kernels only). */
static void conv_fwd_kind(const xai_node *n, const float *w, const float *w2, const float *b, const float *x,
                          float *z, int64_t ns, float *scratch, int kind)
{
    const conv_attr *a = n->attr;
    const int64_t nb = ns * a->b0;
    const float *wt = a->tap && !a->dk ? taps_of(a, w, scratch) : NULL;
    conv_job j = {a, w, b, x, z, 0, wt, w2, NULL, 0.0f, kind, 0, 0, {{0}}};
    if (xai_par_threads() > 1 && nb > 1)
        xai_par_for(nb, 1, conv_fwd_worker, &j);
    if (xai_par_threads() <= 1 || nb <= 1 || j.failed) {
        /* the serial path uses the workspace's scratch, which always exists; per sample it computes
           exactly what a worker does */
        /* one sample: its big products are sliced over the pool (the same slices with one thread) */
        int tok = nb == 1 ? xai_par_blas_begin((double)a->cout * (double)a->osp * (double)(a->cin / a->group * a->ksz))
                          : 0;
        conv_fwd_range(&j, 0, nb, scratch);
        xai_par_blas_end(tok);
    }
}

static void conv_fwd(const xai_node *n, const float *w, const float *b, const float *x, float *z, int64_t ns,
                     float *scratch)
{
    conv_fwd_kind(n, w, NULL, b, x, z, ns, scratch, DK_STORE);
}

static void conv_fwd_pm(const xai_node *n, const float *w, const float *w2, const float *b, const float *x, float *z,
                        int64_t ns, float *scratch)
{
    conv_fwd_kind(n, w, w2, b, x, z, ns, scratch, DK_SPLIT);
}

/* z = W x+ + W2 x- + b for one output row of one sample: row k of the sample's output (its
   stacked sub-sample k / cout, channel k % cout), the same sums as the whole product */
static void conv_fwd_pm_row(const xai_node *n, const float *w, const float *w2, const float *b, const float *x, float *z,
                            int64_t k, float *scratch)
{
    const conv_attr *a = n->attr;
    const int64_t i = k / a->cout, c = k % a->cout;
    dc_job J = {dc_geom(a, 0), a->cout, w, w2, b, scratch, z + i * a->cout * a->osp, NULL, NULL, 0.0f, DK_SPLIT, 0};
    const float *xi = x + i * a->cin * a->isp;
    if (a->fwd_inplace)
        J.xp = xi;
    else
        dc_pad(a->cin, a->in, a->pb[2], a->fp[2], xi, scratch);
    dconv_channels(&J, c, c + 1);
}

static void conv_fwd_abs(const xai_node *n, const float *wabs, const float *x, float *z, int64_t ns, float *scratch)
{
    conv_fwd_kind(n, wabs, NULL, NULL, x, z, ns, scratch, DK_ABS);
}

/* W^T s for the all-ones weights of Flat (and of the bias share of Epsilon with a bias
   factor): every im2col row of a group is the sum of the group's output channels, so one
   channel is scattered back with col2im and copied to the group's other input channels,
   instead of an sgemm with inner dimension Cout/G. */
static void conv_vjp_ones(const conv_attr *a, const float *si, float *dxi, float *scratch)
{
    const int64_t G = a->group, cog = a->cout / G, cig = a->cin / G, osp = a->osp, isp = a->isp;
    conv_attr a1 = *a;
    a1.cin = 1;
    for (int64_t g = 0; g < G; g++) {
        float *d0 = dxi + g * cig * isp;
        float *t = a->direct ? d0 : scratch; /* direct: osp == isp */
        const float *sg = si + g * cog * osp;
        memcpy(t, sg, sizeof(float) * (size_t)osp);
        for (int64_t c = 1; c < cog; c++)
            for (int64_t k = 0; k < osp; k++)
                t[k] += sg[c * osp + k];
        if (!a->direct) {
            for (int64_t k = 1; k < a->ksz; k++)
                memcpy(scratch + k * osp, t, sizeof(float) * (size_t)osp);
            memset(d0, 0, sizeof(float) * (size_t)isp);
            col2im_add(&a1, scratch, d0);
        }
        for (int64_t c = 1; c < cig; c++)
            memcpy(d0 + c * isp, d0, sizeof(float) * (size_t)isp);
    }
}

static void conv_vjp_range(const conv_job *j, int64_t i0, int64_t i1, float *scratch)
{
    const conv_attr *a = j->a;
    const float *w = j->w, *wt = j->wt, *s = j->b;
    float *dx = j->out;
    const int ones = j->ones;
    const int64_t G = a->group, cog = a->cout / G, kg = a->cin / G * a->ksz;
    if (ones && !a->dk) {
        for (int64_t i = i0; i < i1; i++)
            conv_vjp_ones(a, s + i * a->cout * a->osp, dx + i * a->cin * a->isp, scratch);
        return;
    }
    if (a->dk) {
        /* direct: the flipped weights follow the per-sample work buffer (conv_vjp made them). With
           all-ones weights every input channel gets the channel sum of s spread over the taps:
           s is summed over its channels first (as conv_vjp_ones does), then one channel of ones
           weights runs (wt holds cin x ksz ones then). */
        dc_job J = {dc_geom(a, 1), a->cin, wt, j->w2, NULL, scratch, NULL, NULL, NULL, j->alpha, j->kind, j->fresh};
        const int64_t off = (a->k[2] - 1) * a->d[2] - a->pb[2];
        float *sum = scratch + (a->dcsz - a->osp);
        for (int64_t i = i0; i < i1; i++) {
            const float *si = s + i * a->cout * a->osp;
            if (ones) {
                dc_chan_sum(si, a->cout, a->osp, sum);
                J.g.ci = 1;
                si = sum;
            }
            dc_pad(J.g.ci, a->out, off, a->tp[2], si, scratch);
            J.z = J.r = dx + i * a->cin * a->isp;
            J.x = j->x ? j->x + i * a->cin * a->isp : NULL;
            dc_run(&J, xai_par_region());
        }
        return;
    }
    if (wt) {
        /* tap path: dx_pad[:, k*d : k*d + osp] += W_k^T s for every tap, then crop the padding */
        const int64_t L = a->in[2], lp = a->lp, pb = a->pb[2];
        for (int64_t i = i0; i < i1; i++) {
            const float *si = s + i * a->cout * a->osp;
            float *dxi = dx + i * a->cin * a->isp;
            memset(scratch, 0, sizeof(float) * (size_t)(a->cin * lp));
            for (int64_t k = 0; k < a->ksz; k++)
                xai_sgemm(CblasTrans, CblasNoTrans, (int)a->cin, (int)a->osp, (int)a->cout, 1.0f,
                          wt + k * a->cout * a->cin, (int)a->cin, si, (int)a->osp, 1.0f, scratch + k * a->d[2],
                          (int)lp);
            for (int64_t c = 0; c < a->cin; c++)
                for (int64_t t = 0; t < L; t++)
                    dxi[c * L + t] = t + pb < lp ? scratch[c * lp + t + pb] : 0.0f;
        }
        return;
    }
    for (int64_t i = i0; i < i1; i++) {
        const float *si = s + i * a->cout * a->osp;
        float *dxi = dx + i * a->cin * a->isp;
        float *col = a->direct ? dxi : scratch;
        for (int64_t g = 0; g < G; g++)
            xai_sgemm(CblasTrans, CblasNoTrans, (int)kg, (int)a->osp, (int)cog, 1.0f,
                        w + g * cog * kg, (int)kg, si + g * cog * a->osp, (int)a->osp, 0.0f,
                        col + g * kg * a->osp, (int)a->osp);
        if (!a->direct) {
            memset(dxi, 0, sizeof(float) * (size_t)(a->cin * a->isp));
            col2im_add(a, col, dxi);
        }
    }
}

static void conv_vjp_worker(void *ctx, int64_t i0, int64_t i1, int tid)
{
    conv_job *j = ctx;
    float *scr = xai_thread_scratch((size_t)j->a->colsz + 1);
    if (!scr) {
        j->failed = 1;
        return;
    }
    conv_vjp_range(j, i0, i1, scr);
    j->fin[tid][0] = i0;
    j->fin[tid][1] = i1;
}

/* The serial run, also the fallback after a worker found no memory: the adding kinds must not add
   a sample's relevance twice, and a write over the input's own activation (x == dx) must not read
   what it overwrote, so the samples in a range some thread finished are not redone. The
   record has one slot per thread (xai_par_for runs each on one range), so it needs no memory. */
static void conv_vjp_redo(const conv_job *j, int64_t nb, float *scratch)
{
    for (int64_t i0 = 0; i0 < nb;) {
        int64_t i1 = nb, past = 0;
        for (int t = 0; t < XAI_PAR_MAX_THREADS; t++) {
            const int64_t b = j->fin[t][0], e = j->fin[t][1];
            if (b <= i0 && i0 < e)
                past = e; /* finished */
            else if (i0 < b && b < e && b < i1)
                i1 = b; /* the next finished range */
        }
        if (past) {
            i0 = past;
            continue;
        }
        conv_vjp_range(j, i0, i1, scratch);
        i0 = i1;
    }
}

/* The transposed product over the stack: DK_STORE writes dx = W^T s; DK_XREL and DK_PM add to the
   relevance dx (direct kernels only, w2 then the second weight set), or with fresh write it as if
   it held zeros. */
static void conv_vjp_kind(const xai_node *n, const float *w, const float *w2, const float *s, const float *x,
                          float alpha, float *dx, int64_t ns, float *scratch, int kind, int fresh)
{
    const conv_attr *a = n->attr;
    const int64_t nb = ns * a->b0;
    int ones = kind == DK_STORE && w && (w == a->lin.cw[0][LW_ONES] || w == a->lin.cw[1][LW_ONES]);
    float *wt = NULL, *wt2 = NULL;
    if (a->dk) {
        wt = scratch + a->dcsz; /* the node's fixed scratch holds dcsz + 2 wlen floats */
        if (ones)
            for (int64_t k = 0; k < a->cin * a->ksz; k++)
                wt[k] = 1.0f;
        else
            dc_flip(a, w, wt);
        if (w2)
            dc_flip(a, w2, wt2 = wt + a->lin.wlen);
    } else if (a->tap && !ones) {
        wt = taps_of(a, w, scratch);
    }
    conv_job j = {a, w, s, NULL, dx, ones, wt, wt2, x, alpha, kind, 0, fresh, {{0}}};
    if (xai_par_threads() > 1 && nb > 1)
        xai_par_for(nb, 1, conv_vjp_worker, &j);
    if (xai_par_threads() <= 1 || nb <= 1 || j.failed) { /* serial (also the fallback, as above) */
        int tok = ones || nb != 1
                      ? 0
                      : xai_par_blas_begin((double)a->cout * (double)a->osp * (double)(a->cin / a->group * a->ksz));
        conv_vjp_redo(&j, nb, scratch);
        xai_par_blas_end(tok);
    }
}

static void conv_vjp(const xai_node *n, const float *w, const float *s, float *dx, int64_t ns, float *scratch)
{
    conv_vjp_kind(n, w, NULL, s, NULL, 0.0f, dx, ns, scratch, DK_STORE, 0);
}

static void conv_vjp_rel(const xai_node *n, const float *w, const float *w2, const float *s, const float *x,
                         float alpha, float *r, int64_t ns, float *scratch, int fresh)
{
    conv_vjp_kind(n, w, w2, s, x, alpha, r, ns, scratch, w2 ? DK_PM : DK_XREL, fresh);
}

/* Flat on the direct kernels: r += W1^T (R / stab(counts)), W1 all ones. Every input channel gets
   the same sum, and an output position's count is the same in every channel, so R is summed over
   the output channels and divided once per position (one division where there were as many as
   channels; the values move by rounding only), then one channel of ones runs, adding straight
   into r. */
static void conv_flat_rel(const xai_node *n, const float *R, const float *cnt, float stab, float *r, int64_t ns,
                          float *scratch)
{
    const conv_attr *a = n->attr;
    const int64_t osp = a->osp, off = (a->k[2] - 1) * a->d[2] - a->pb[2];
    float *wt = scratch + a->dcsz, *sum = scratch + (a->dcsz - osp);
    for (int64_t k = 0; k < a->cin * a->ksz; k++)
        wt[k] = 1.0f;
    dc_job J = {dc_geom(a, 1), a->cin, wt, NULL, NULL, scratch, NULL, NULL, NULL, 0.0f, DK_ADD, 0};
    J.g.ci = 1;
    for (int64_t i = 0; i < ns * a->b0; i++) {
        dc_chan_sum(R + i * a->cout * osp, a->cout, osp, sum);
        for (int64_t k = 0; k < osp; k++)
            sum[k] /= xai_stab(cnt[k], stab);
        dc_pad(1, a->out, off, a->tp[2], sum, scratch);
        J.r = r + i * a->cin * a->isp;
        dc_run(&J, xai_par_region());
    }
}

/* Training: dL/dW and dL/db. Samples are taken in fixed blocks of WG_BLOCK; each block sums
 * its samples' products into its own partial (one sgemm per sample, accumulating), the blocks
 * run in parallel on the pool, and the partials are added to gw, gb in block order, so the
 * result does not depend on the thread count. The partial holds dW transposed, [kg][cog] per
 * group: col (kg x osp) times s^T has the long dimension as M, which OpenBLAS runs about 1.4x
 * faster than s times col^T when Cout is small (M = Cout leaves its register tile half empty).
 * (Tap by tap, dW_k += s x_pad[:, k*d : k*d + osp]^T measured no faster: A = s is packed again
 * for every tap, so weight gradients keep im2col.) */
#define WG_BLOCK 8

typedef struct {
    const conv_attr *a;
    const float *x, *s;
    float *part;
    size_t plen;
    int64_t nb;
    int has_w, has_b;
    _Atomic int failed;
} wgrad_job;

static void wgrad_block(const wgrad_job *j, int64_t blk, float *col)
{
    const conv_attr *a = j->a;
    const int64_t G = a->group, cog = a->cout / G, kg = a->cin / G * a->ksz;
    int64_t i0 = blk * WG_BLOCK, i1 = i0 + WG_BLOCK < j->nb ? i0 + WG_BLOCK : j->nb;
    float *pw = j->part + (size_t)blk * j->plen, *pb = pw + (j->has_w ? a->cout * kg : 0);
    for (int64_t i = i0; i < i1; i++) {
        const float *xi = j->x + i * a->cin * a->isp;
        const float *si = j->s + i * a->cout * a->osp;
        if (j->has_w) {
            const float *c = xi;
            if (!a->direct) {
                im2col(a, xi, col);
                c = col;
            }
            for (int64_t g = 0; g < G; g++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)kg, (int)cog, (int)a->osp, 1.0f,
                            c + g * kg * a->osp, (int)a->osp, si + g * cog * a->osp, (int)a->osp,
                            i == i0 ? 0.0f : 1.0f, pw + g * kg * cog, (int)cog);
        }
        if (j->has_b)
            for (int64_t ch = 0; ch < a->cout; ch++) {
                const float *sc = si + ch * a->osp;
                float t = 0;
                for (int64_t k = 0; k < a->osp; k++)
                    t += sc[k];
                pb[ch] = i == i0 ? t : pb[ch] + t;
            }
    }
}

static void wgrad_worker(void *ctx, int64_t k0, int64_t k1, int tid)
{
    wgrad_job *j = ctx;
    (void)tid;
    float *col = NULL;
    if (j->has_w && !j->a->direct && !(col = xai_thread_scratch((size_t)j->a->colsz))) {
        j->failed = 1;
        return;
    }
    for (int64_t k = k0; k < k1; k++)
        wgrad_block(j, k, col);
}

static xai_status conv_wgrad(const xai_node *n, const float *x, const float *s, float *gw, float *gb, int64_t ns,
                             float *scratch)
{
    const conv_attr *a = n->attr;
    (void)scratch;
    const int64_t kg = a->cin / a->group * a->ksz, wlen = a->cout * kg;
    wgrad_job j = {a, x, s, NULL, 0, ns * a->b0, gw != NULL, gb != NULL, 0};
    j.plen = (size_t)((gw ? wlen : 0) + (gb ? a->cout : 0));
    int64_t nblk = (j.nb + WG_BLOCK - 1) / WG_BLOCK;
    if (!j.plen || !nblk)
        return XAI_OK;
    j.part = malloc(sizeof(float) * j.plen * (size_t)nblk);
    if (!j.part)
        XAI_FAIL(XAI_ENOMEM, "out of memory (node '%s': weight gradients)", n->name);
    xai_par_for(nblk, 1, wgrad_worker, &j);
    if (j.failed) {
        free(j.part);
        XAI_FAIL(XAI_ENOMEM, "out of memory (node '%s': weight gradients)", n->name);
    }
    const int64_t cog = a->cout / a->group;
    for (int64_t blk = 0; blk < nblk; blk++) {
        const float *pw = j.part + (size_t)blk * j.plen, *pb = pw + (gw ? wlen : 0);
        if (gw)
            for (int64_t g = 0; g < a->group; g++)
                for (int64_t o = 0; o < cog; o++) {
                    float *dst = gw + (g * cog + o) * kg;
                    const float *src = pw + g * kg * cog + o;
                    for (int64_t k = 0; k < kg; k++)
                        dst[k] += src[k * cog];
                }
        if (gb)
            for (int64_t c = 0; c < a->cout; c++)
                gb[c] += pb[c];
    }
    free(j.part);
    return XAI_OK;
}

/* In-bounds taps of every output element: (cin / group) times, per spatial axis, the taps whose
   input index lies inside the input. Exact small integers, so the same floats as the all-ones
   product that defines them, without running it (that product was most of a Flat layer's first
   call). The per-axis counts sit in a small stack buffer; longer axes are counted in place. */
static int64_t axis_taps(const conv_attr *a, int i, int64_t o)
{
    int64_t n = 0;
    for (int64_t k = 0; k < a->k[i]; k++) {
        int64_t p = o * a->s[i] - a->pb[i] + k * a->d[i];
        n += p >= 0 && p < a->in[i];
    }
    return n;
}

static void conv_counts(const xai_node *n, float *c)
{
    const conv_attr *a = n->attr;
    int64_t cw[256];
    const int64_t OW = a->out[2], per = a->cin / a->group, rows = a->b0 * a->cout;
    for (int64_t ow = 0; ow < OW && ow < 256; ow++)
        cw[ow] = axis_taps(a, 2, ow);
    for (int64_t od = 0; od < a->out[0]; od++)
        for (int64_t oh = 0; oh < a->out[1]; oh++) {
            int64_t t = per * axis_taps(a, 0, od) * axis_taps(a, 1, oh);
            float *row = c + (od * a->out[1] + oh) * OW;
            for (int64_t ow = 0; ow < OW; ow++)
                row[ow] = (float)(t * (ow < 256 ? cw[ow] : axis_taps(a, 2, ow)));
        }
    for (int64_t r = 1; r < rows; r++) /* every output channel (and leading row) the same */
        memcpy(c + r * a->osp, c, sizeof(float) * (size_t)a->osp);
}

static xai_status conv_forward(const xai_model *m, const xai_node *n, xai_workspace *ws)
{
    const conv_attr *a = n->attr;
    (void)m;
    conv_fwd(n, a->lin.w, a->lin.b, ws->val[n->in[0]], ws->val[n->out[0]], ws->ns,
             ws->scratch); /* the node's fixed scratch comes first */
    return XAI_OK;
}

static void conv_destroy(xai_node *n)
{
    conv_attr *a = n->attr;
    if (a)
        xai_linear_free(&a->lin);
    free(a);
}

const xai_op_vtable xai_conv_ops = {"Conv", conv_forward, xai_linear_backward, xai_linear_relevance, conv_destroy};

/* The direct kernels replace im2col + sgemm for stride-1 convolutions of one group with few
   channels on both sides (there the product's M or K is small and sgemm runs far below its
   peak), when the pads fit the transposed form (at most (k-1)*d on each side). Measured per
   explained sample at batch 1 against im2col / tap products on OpenBLAS: 1.3x (gait, 1-D) to
   4x (fMRI, 3-D) faster. The choice depends on the shapes only, so results are the same from run
   to run. */
#define DC_MAX_CH 64

static void conv_choose_direct(conv_attr *a)
{
    int ok = !a->direct && a->group == 1 && a->cin <= DC_MAX_CH && a->cout <= DC_MAX_CH;
    int64_t fsz = 1, tsz = 1;
    for (int i = 0; i < 3 && ok; i++) {
        int64_t span = (a->k[i] - 1) * a->d[i], pe = a->out[i] + span - a->in[i] - a->pb[i];
        ok = a->s[i] == 1 && a->pb[i] <= span && pe >= 0 && pe <= span;
        a->fp[i] = a->out[i] + span;
        a->tp[i] = a->in[i] + span;
        fsz *= a->fp[i];
        tsz *= a->tp[i];
    }
    /* the row tables (DC_TAB rows, 32-bit offsets) */
    ok = ok && a->cin * a->k[0] * a->k[1] <= DC_TAB && a->cout * a->k[0] * a->k[1] <= DC_TAB &&
         (a->cin > a->cout ? a->cin : a->cout) * (fsz > tsz ? fsz : tsz) < INT32_MAX - DC_SLACK;
    a->dk = ok;
    if (!ok)
        return;
    a->fwd_inplace = a->pb[2] == 0 && a->fp[2] == a->in[2]; /* dc_pad would copy the rows as they are */
    /* dc_pad stores only the rows that hold data (the zero rows of the padding are never read) */
    int64_t fr = a->cin * a->in[0] * a->in[1] * a->fp[2], tr = a->cout * a->out[0] * a->out[1] * a->tp[2];
    int64_t rows = (fr > tr ? fr : tr) + DC_SLACK;
    a->dcsz = rows + a->osp; /* the last osp floats: the channel sum of s for all-ones weights */
    a->colsz = (rows > a->colsz ? rows : a->colsz) + a->osp; /* a thread's scratch serves every path */
}

/* Conv's attributes as the node gives them; a count of -1 means the attribute is absent and its
   ONNX default applies. */
typedef struct {
    int64_t ks[3], ss[3], ds[3], ps[6];
    int nk, nst, nd, np;
    const char *autopad;
} conv_spec;

/* X must be an activation, W and B float initializers; all is checked before the node allocates
   anything. */
static xai_status conv_check_operands(const xai_model *m, const xai_node *n, const xai_value **xp,
                                      const xai_value **wp, const xai_value **bp)
{
    if (n->nin < 2 || n->in[0] < 0 || n->in[1] < 0)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Conv) needs X and W", m->name, n->name);
    const xai_value *x = &m->vals[n->in[0]], *w = &m->vals[n->in[1]];
    const xai_value *bv = n->nin > 2 && n->in[2] >= 0 ? &m->vals[n->in[2]] : NULL;
    if (x->is_const)
        return xai_node_unsupported(m, n, "X", "a constant input is not supported");
    if (!w->is_const || w->dtype != DT_F32)
        return xai_node_unsupported(m, n, "W", "weights must be a float initializer");
    if (bv && (!bv->is_const || bv->dtype != DT_F32))
        return xai_node_unsupported(m, n, "B", "bias must be a float initializer");
    int nsp = x->ndim - 2;
    if (nsp < 1 || nsp > 3)
        return xai_node_unsupported(m, n, "X", "input rank %d (only 1-D to 3-D convolutions)", x->ndim);
    if (w->ndim != x->ndim)
        XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (Conv): weight rank %d does not match input rank %d", m->name, n->name,
                 w->ndim, x->ndim);
    *xp = x;
    *wp = w;
    *bp = bv;
    return XAI_OK;
}

static xai_status conv_read_group(const xai_model *m, const xai_node *n, const Onnx__NodeProto *np, conv_attr *a,
                                  const xai_value *w)
{
    int64_t grp;
    xai_status st = xai_attr_int(m, np, "group", 1, &grp);
    if (st)
        return st;
    if (grp < 1 || a->cin % grp || a->cout % grp || w->shape[1] * grp != a->cin)
        XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (Conv): group %lld does not fit %lld input / %lld output channels (W %lld)",
                 m->name, n->name, (long long)grp, (long long)a->cin, (long long)a->cout, (long long)w->shape[1]);
    a->group = grp;
    return XAI_OK;
}

static xai_status conv_read_spec(const xai_model *m, const xai_node *n, const Onnx__NodeProto *np, int nsp,
                                 conv_spec *sp)
{
    xai_status st;
    if ((st = xai_attr_ints(m, np, "kernel_shape", sp->ks, 3, &sp->nk)) ||
        (st = xai_attr_ints(m, np, "strides", sp->ss, 3, &sp->nst)) ||
        (st = xai_attr_ints(m, np, "dilations", sp->ds, 3, &sp->nd)) ||
        (st = xai_attr_ints(m, np, "pads", sp->ps, 6, &sp->np)))
        return st;
    if ((sp->nk >= 0 && sp->nk != nsp) || (sp->nst >= 0 && sp->nst != nsp) || (sp->nd >= 0 && sp->nd != nsp) ||
        (sp->np >= 0 && sp->np != 2 * nsp))
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Conv): attribute lengths do not match %d spatial dims", m->name,
                 n->name, nsp);
    if ((st = xai_attr_string(m, np, "auto_pad", "NOTSET", &sp->autopad)))
        return st;
    if (strcmp(sp->autopad, "NOTSET") && strcmp(sp->autopad, "VALID") && strcmp(sp->autopad, "SAME_UPPER") &&
        strcmp(sp->autopad, "SAME_LOWER"))
        return xai_node_unsupported(m, n, "auto_pad", "value '%s'", sp->autopad);
    return XAI_OK;
}

/* auto_pad VALID or SAME replaces the explicit pads: SAME pads so that the output has
   ceil(in / s) positions, the odd pad at the end (SAME_UPPER) or at the start (SAME_LOWER). */
static void conv_auto_pads(const char *autopad, int64_t in, int64_t k, int64_t s, int64_t d, int64_t *pb,
                           int64_t *pe)
{
    if (strcmp(autopad, "VALID") == 0) {
        *pb = *pe = 0;
    } else if (strncmp(autopad, "SAME", 4) == 0) {
        int64_t o = (in + s - 1) / s;
        int64_t tot = (o - 1) * s + (k - 1) * d + 1 - in;
        if (tot < 0)
            tot = 0;
        *pb = autopad[5] == 'U' ? tot / 2 : tot - tot / 2;
        *pe = tot - *pb;
    }
}

/* The spatial axes are stored right-aligned in 3 (a 1-D convolution is 1 x 1 x L), so that
   every kernel loops over three axes whatever the rank. */
static xai_status conv_infer_shape(const xai_model *m, const xai_node *n, const conv_spec *sp, const xai_value *x,
                                   const xai_value *w, conv_attr *a)
{
    int nsp = a->nsp;
    a->isp = a->osp = a->ksz = 1;
    for (int i = 0; i < 3; i++) {
        a->in[i] = a->out[i] = a->k[i] = a->s[i] = a->d[i] = 1;
        a->pb[i] = 0;
    }
    for (int i = 0; i < nsp; i++) {
        int j = 3 - nsp + i;
        int64_t in = x->shape[2 + i], k = w->shape[2 + i];
        if (sp->nk >= 0 && sp->ks[i] != k)
            XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (Conv): kernel_shape does not match W", m->name, n->name);
        int64_t s = sp->nst >= 0 ? sp->ss[i] : 1, d = sp->nd >= 0 ? sp->ds[i] : 1;
        int64_t pb = sp->np >= 0 ? sp->ps[i] : 0, pe = sp->np >= 0 ? sp->ps[i + nsp] : 0;
        if (s < 1 || d < 1 || pb < 0 || pe < 0 || k < 1)
            return xai_node_unsupported(m, n, s < 1 ? "strides" : d < 1 ? "dilations" : "pads",
                                        "non-positive stride/dilation or negative pad");
        conv_auto_pads(sp->autopad, in, k, s, d, &pb, &pe);
        int64_t o = (in + pb + pe - d * (k - 1) - 1) / s + 1;
        if (in + pb + pe - d * (k - 1) - 1 < 0 || o < 1)
            XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (Conv): kernel %lld (dilation %lld) does not fit input %lld", m->name,
                     n->name, (long long)k, (long long)d, (long long)in);
        a->in[j] = in;
        a->out[j] = o;
        a->k[j] = k;
        a->s[j] = s;
        a->d[j] = d;
        a->pb[j] = pb;
        a->isp *= in;
        a->osp *= o;
        a->ksz *= k;
    }
    return XAI_OK;
}

/* Which product runs the convolution (1x1 without im2col, tap by tap, direct kernels, or im2col +
   sgemm), and the per-sample buffer the chosen one needs. */
static void conv_choose_path(conv_attr *a)
{
    a->direct = a->ksz == 1;
    for (int i = 0; i < 3; i++)
        if (a->s[i] != 1 || a->pb[i] != 0 || a->in[i] != a->out[i])
            a->direct = 0;
    a->tap = !a->direct && a->group == 1 && a->k[0] == 1 && a->k[1] == 1 && a->in[0] == 1 && a->in[1] == 1 &&
             a->s[2] == 1 && a->ksz > 1;
    a->lp = a->out[2] + (a->k[2] - 1) * a->d[2];
    a->colsz = a->cin * a->ksz * a->osp;
    if (a->tap && a->cin * a->lp > a->colsz)
        a->colsz = a->cin * a->lp;
    conv_choose_direct(a);
}

/* The output's shape, the node's hooks into the shared linear-layer code, and its scratch. */
static void conv_bind(xai_model *m, xai_node *n, conv_attr *a, const xai_value *x, const xai_value *w,
                      const xai_value *bv)
{
    xai_value *y = &m->vals[n->out[0]];
    y->ndim = x->ndim;
    y->shape[0] = a->b0;
    y->shape[1] = a->cout;
    for (int i = 0; i < a->nsp; i++)
        y->shape[2 + i] = a->out[3 - a->nsp + i];
    y->numel = a->b0 * a->cout * a->osp;
    a->lin.in_numel = x->numel;
    a->lin.out_numel = y->numel;
    a->lin.wlen = w->numel;
    a->lin.nout_ch = a->cout;
    a->lin.ch_inner = a->osp;
    a->lin.w = w->f;
    a->lin.b = bv ? bv->f : NULL;
    a->lin.fwd = conv_fwd;
    a->lin.vjp = conv_vjp;
    a->lin.wgrad = conv_wgrad;
    a->lin.counts = conv_counts;
    if (a->dk) {
        a->lin.fwd_pm = conv_fwd_pm;
        a->lin.fwd_abs = conv_fwd_abs;
        a->lin.fwd_pm_row = conv_fwd_pm_row;
        a->lin.vjp_rel = conv_vjp_rel;
        a->lin.flat_rel = conv_flat_rel;
    }
    n->scratch = (size_t)(3 * x->numel + 4 * y->numel);
    n->scratch_fixed = a->direct ? 0 : (size_t)(a->dk ? a->dcsz + 2 * w->numel : a->colsz + (a->tap ? w->numel : 0));
}

xai_status xai_conv_init(xai_model *m, xai_node *n, const Onnx__NodeProto *np)
{
    static const char *const known[] = {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad", NULL};
    const xai_value *x = NULL, *w = NULL, *bv = NULL;
    conv_spec sp;
    xai_status st = xai_attr_only(m, np, known);
    if (st || (st = conv_check_operands(m, n, &x, &w, &bv)))
        return st;
    conv_attr *a = calloc(1, sizeof *a);
    if (!a)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    n->attr = a;
    n->is_linear = 1;
    a->nsp = x->ndim - 2;
    a->b0 = x->shape[0];
    a->cin = x->shape[1];
    a->cout = w->shape[0];
    if ((st = conv_read_group(m, n, np, a, w)) || (st = conv_read_spec(m, n, np, a->nsp, &sp)) ||
        (st = conv_infer_shape(m, n, &sp, x, w, a)))
        return st;
    if (bv && bv->numel != a->cout)
        XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (Conv): bias has %lld values for %lld channels", m->name, n->name,
                 (long long)bv->numel, (long long)a->cout);
    conv_choose_path(a);
    conv_bind(m, n, a, x, w, bv);
    return XAI_OK;
}
