/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * conv-dk.h - the direct convolution kernels of conv.c, written once and instantiated by conv.c
 * once per instruction set (AVX-512, AVX2 + FMA, portable), which picks one at run time. Before
 * each inclusion conv.c defines:
 *   DK_FN(name)     the instance's spelling of name
 *   DK_TARGET       the instance's function attribute (its target), or nothing
 *   DK_VL           floats per vector: 16 or 8
 *   DK_FMA(c, a, b) c = a * b + c, lane by lane, rounded once
 *   DK_SPLAT(s)     a vector of s
 *   DK_CO_WIDE      output channels per block of DK_SPLIT, and of DK_STORE on long sums: 8
 *                   with 32 vector registers, 4 with 16
 * and may define DK_MASK_T, DK_SIGNS and DK_SPLIT_FMA (below) to run DK_SPLIT on sign masks.
 * Every instance computes every output element with the same operations in the same order
 * (channels, then taps; one fused multiply-add per term), only more lanes at a time, so the
 * instances agree bit for bit and results do not depend on the CPU; the lanes a vector adds past
 * a row's end are dropped.
 */
#define DK_V DK_FN(vf)
#define DK_I DK_FN(vi)
typedef float DK_V __attribute__((vector_size(4 * DK_VL)));
typedef int32_t DK_I __attribute__((vector_size(4 * DK_VL)));

/* the lanes of v with v > 0 (POS) or v < 0 (NEG), zero elsewhere */
#define DK_POS(v) ((DK_V)((DK_I)(v) & ((v) > 0.0f)))
#define DK_NEG(v) ((DK_V)((DK_I)(v) & ((v) < 0.0f)))
/* |v|, lane by lane (the sign bit cleared) */
#define DK_ABSV(v) ((DK_V)((DK_I)(v) & 0x7fffffff))

/* DK_SPLIT's terms, c += w x+ then c += w2 x-. Without mask registers x+ and x- are made once per
   input vector (P, N) and both products are added, one of them exactly zero in every lane. With
   them (AVX-512) the masks P (x > 0) and N (x < 0) select the lanes each product is added to: a
   sum that starts at +0 never becomes -0, so skipping a +-0 term gives the same bits, with one
   operation per term fewer. */
#ifndef DK_SPLIT_FMA
#define DK_MASK_T DK_V
#define DK_SIGNS(x, P, N) ((P) = DK_POS(x), (N) = DK_NEG(x))
#define DK_SPLIT_FMA(c, w, w2, x, P, N) (DK_FMA(c, w, P), DK_FMA(c, w2, N))
#define DK_SPLIT_OWN 1
#endif

/* a block's sums for the n <= DK_VL outputs at z + off (or x, r + off) of output channel c; with
   n the constant DK_VL the copies are plain vector loads and stores. The relevance step is the
   same sequence of roundings as the elementwise pass it replaces (no fused operations). */
static inline __attribute__((always_inline)) DK_TARGET void DK_FN(dc_out)(const dc_job *J, int64_t off, DK_V a,
                                                                          DK_V a2, int64_t c, const int n,
                                                                          const int KIND, const int FRESH)
{
    const size_t nb = sizeof(float) * (size_t)n;
    if (KIND == DK_STORE || KIND == DK_SPLIT || KIND == DK_ABS) {
        if (J->b)
            a += J->b[c];
        memcpy(J->z + off, &a, nb);
        return;
    }
    DK_V xv = {0}, rv = {0};
    if (!FRESH) /* FRESH: r holds no values yet; it is written as its zeros would give */
        memcpy(&rv, J->r + off, nb);
    if (KIND == DK_ADD) {
        rv += a;
        memcpy(J->r + off, &rv, nb);
        return;
    }
    memcpy(&xv, J->x + off, nb);
    if (KIND == DK_XREL)
        rv += (J->alpha * xv) * a;
    else
        rv += (J->alpha * DK_POS(xv)) * a + (J->alpha * DK_NEG(xv)) * a2;
    memcpy(J->r + off, &rv, nb);
}

/* outputs o..o+nc-1 (nc <= DC_CO_MAX) of the output row starting at zrow (its input rows at xb plus
   the offsets in tab), positions
   [p0, p0 + DK_VL) and, with NV = 2, the second vector's: its input sits xs floats after the
   first's and its outputs zs after them, len1 of them valid (the next DK_VL positions of the row:
   xs = zs = DK_VL; or, for rows of at most DK_VL outputs, the same positions of the next row,
   whose taps are the same: xs = PW, zs = OW). Lanes past a row's end read the padding or the
   next row (or the buffer's slack, DC_SLACK >= DK_VL - 1) and are dropped. KW1: one tap along
   the rows. */
static inline __attribute__((always_inline)) DK_TARGET void DK_FN(dc_block)(const dc_job *J, int64_t o, const int nc,
                                                                            int64_t zrow, int64_t xb, const dc_tap *tab, int nt,
                                                                            int64_t p0, const int NV, int64_t xs,
                                                                            int64_t zs, int64_t len1, const int KW1,
                                                                            const int KIND, const int FRESH)
{
    const dconv_geom *g = &J->g;
    const int64_t ws = g->ci * g->K[0] * g->K[1] * g->K[2], KW = KW1 ? 1 : g->K[2], dw = g->d[2];
    const float *w = J->w + o * ws, *w2 = KIND == DK_SPLIT || KIND == DK_PM ? J->w2 + o * ws : NULL;
    DK_V acc[DC_CO_MAX][2] = {{{0}}}, acc2[DC_CO_MAX][2] = {{{0}}};
    for (int t = 0; t < nt; t++) {
        const float *xr = J->xp + (xb + tab[t].x + p0);
        const int64_t wk = tab[t].w;
        for (int64_t kw = 0; kw < KW; kw++) {
            DK_V x0, x1 = {0};
            memcpy(&x0, xr + kw * dw, sizeof x0); /* unaligned loads */
            if (NV > 1)
                memcpy(&x1, xr + kw * dw + xs, sizeof x1);
            if (KIND == DK_ABS) {
                x0 = DK_ABSV(x0);
                x1 = DK_ABSV(x1);
            }
            if (KIND == DK_SPLIT) {
                DK_MASK_T p0, q0, p1, q1;
                DK_SIGNS(x0, p0, q0);
                if (NV > 1)
                    DK_SIGNS(x1, p1, q1);
                for (int j = 0; j < nc; j++) {
                    DK_V wv = DK_SPLAT(w[j * ws + wk + kw]), w2v = DK_SPLAT(w2[j * ws + wk + kw]);
                    DK_SPLIT_FMA(acc[j][0], wv, w2v, x0, p0, q0);
                    if (NV > 1)
                        DK_SPLIT_FMA(acc[j][1], wv, w2v, x1, p1, q1);
                }
                continue;
            }
            for (int j = 0; j < nc; j++) {
                DK_V wv = DK_SPLAT(w[j * ws + wk + kw]);
                DK_FMA(acc[j][0], wv, x0);
                if (NV > 1)
                    DK_FMA(acc[j][1], wv, x1);
                if (KIND == DK_PM) {
                    DK_V w2v = DK_SPLAT(w2[j * ws + wk + kw]);
                    DK_FMA(acc2[j][0], w2v, x0);
                    if (NV > 1)
                        DK_FMA(acc2[j][1], w2v, x1);
                }
            }
        }
    }
    const int64_t osp = g->O[0] * g->O[1] * g->O[2], OW = g->O[2];
    for (int j = 0; j < nc; j++)
        for (int v = 0; v < NV; v++) {
            int64_t len = v ? len1 : OW - p0, off = (o + j) * osp + zrow + p0 + (v ? zs : 0);
            if (len >= DK_VL)
                DK_FN(dc_out)(J, off, acc[j][v], acc2[j][v], o + j, DK_VL, KIND, FRESH);
            else if (len > 0) /* the row's last vector: its other lanes are not outputs */
                DK_FN(dc_out)(J, off, acc[j][v], acc2[j][v], o + j, (int)len, KIND, FRESH);
        }
}

/* output channels o0..o1-1 of the product, in blocks of DC_CO or DK_CO_WIDE (two with two sets of
   sums). Rows of at most DK_VL outputs go two at a time when the second reads the same taps one
   input row further (all but the rows next to the padding): each weight then serves two vectors. */
static inline __attribute__((always_inline)) DK_TARGET void DK_FN(dconv_rows)(const dc_job *J, int64_t o0, int64_t o1,
                                                                              const int KIND, const int FRESH)
{
    const dconv_geom *g = &J->g;
    /* wide blocks pay off over long sums (a 25x1 filter over 16 channels: 400 terms), not over a
       13-tap filter on one channel or a 3x3 one on 8 channels (72), where the forward pass ran
       8-15 % slower with them */
    const int64_t terms = g->ci * g->K[0] * g->K[1] * g->K[2];
    const int CO = KIND == DK_PM ? 2 : KIND == DK_SPLIT || ((KIND == DK_STORE || KIND == DK_ABS) && terms >= 256) ? DK_CO_WIDE : DC_CO;
    const int64_t OW = g->O[2];
    const int kw1 = g->K[2] == 1;
    dc_tap tab[DC_TAB];
    dc_class have = {-1, -1, -1, -1}; /* the class tab holds */
    int nt = 0;
    for (int64_t od = 0; od < g->O[0]; od++) {
        for (int64_t oh = 0; oh < g->O[1];) {
            const dc_class k = dc_class_of(g, od, oh);
            if (!dc_same_class(k, have)) {
                nt = dc_table(g, k, tab);
                have = k;
            }
            int pair = OW <= DK_VL && oh + 1 < g->O[1] && dc_same_class(dc_class_of(g, od, oh + 1), k);
            int64_t zr = (od * g->O[1] + oh) * OW, xb = dc_base(g, od, oh);
            for (int64_t o = o0; o < o1; o += CO) {
                int nc = o1 - o < CO ? (int)(o1 - o) : CO;
                for (int64_t p = 0; p < OW; p += 2 * DK_VL) {
                    int nv = pair || OW - p > DK_VL ? 2 : 1;
                    int64_t xs = pair ? g->PW : DK_VL, zs = pair ? OW : DK_VL, len1 = pair ? OW : OW - p - DK_VL;
                    /* constant channel, vector and tap counts for the compiler */
                    int sel = ((nc - 1) * 2 + nv - 1) * 2 + kw1;
#define DC_CASE(NC, NV, K1)                                                                        \
    case ((NC - 1) * 2 + NV - 1) * 2 + K1:                                                         \
        DK_FN(dc_block)(J, o, NC, zr, xb, tab, nt, p, NV, xs, zs, len1, K1, KIND, FRESH);          \
        break;
                    if (CO > DC_CO && nc > DC_CO) {
                        switch (sel) {
                        DC_CASE(8, 2, 0) DC_CASE(8, 1, 0) DC_CASE(7, 2, 0) DC_CASE(7, 1, 0)
                        DC_CASE(6, 2, 0) DC_CASE(6, 1, 0) DC_CASE(5, 2, 0) DC_CASE(5, 1, 0)
                        DC_CASE(8, 2, 1) DC_CASE(8, 1, 1) DC_CASE(7, 2, 1) DC_CASE(7, 1, 1)
                        DC_CASE(6, 2, 1) DC_CASE(6, 1, 1) DC_CASE(5, 2, 1) DC_CASE(5, 1, 1)
                        default: break;
                        }
                        continue;
                    }
                    switch (sel) {
                    DC_CASE(4, 2, 0) DC_CASE(4, 1, 0) DC_CASE(3, 2, 0) DC_CASE(3, 1, 0)
                    DC_CASE(2, 2, 0) DC_CASE(2, 1, 0) DC_CASE(1, 2, 0) DC_CASE(1, 1, 0)
                    DC_CASE(4, 2, 1) DC_CASE(4, 1, 1) DC_CASE(3, 2, 1) DC_CASE(3, 1, 1)
                    DC_CASE(2, 2, 1) DC_CASE(2, 1, 1) DC_CASE(1, 2, 1) DC_CASE(1, 1, 1)
                    default: break;
                    }
#undef DC_CASE
                }
            }
            oh += pair ? 2 : 1;
        }
    }
}

/* one function per kind, so that each kind's loops are compiled with its constants */
static DK_TARGET void DK_FN(dconv_store)(const dc_job *J, int64_t o0, int64_t o1)
{
    DK_FN(dconv_rows)(J, o0, o1, DK_STORE, 0);
}

static DK_TARGET void DK_FN(dconv_split)(const dc_job *J, int64_t o0, int64_t o1)
{
    DK_FN(dconv_rows)(J, o0, o1, DK_SPLIT, 0);
}

static DK_TARGET void DK_FN(dconv_abs)(const dc_job *J, int64_t o0, int64_t o1)
{
    DK_FN(dconv_rows)(J, o0, o1, DK_ABS, 0);
}

static DK_TARGET void DK_FN(dconv_xrel)(const dc_job *J, int64_t o0, int64_t o1)
{
    DK_FN(dconv_rows)(J, o0, o1, DK_XREL, 0);
}

static DK_TARGET void DK_FN(dconv_xrel_fresh)(const dc_job *J, int64_t o0, int64_t o1)
{
    DK_FN(dconv_rows)(J, o0, o1, DK_XREL, 1);
}

static DK_TARGET void DK_FN(dconv_pm)(const dc_job *J, int64_t o0, int64_t o1)
{
    DK_FN(dconv_rows)(J, o0, o1, DK_PM, 0);
}

static DK_TARGET void DK_FN(dconv_pm_fresh)(const dc_job *J, int64_t o0, int64_t o1)
{
    DK_FN(dconv_rows)(J, o0, o1, DK_PM, 1);
}

static DK_TARGET void DK_FN(dconv_add)(const dc_job *J, int64_t o0, int64_t o1)
{
    DK_FN(dconv_rows)(J, o0, o1, DK_ADD, 0);
}

static void DK_FN(dconv_channels)(const dc_job *J, int64_t o0, int64_t o1)
{
    switch (J->kind) {
    case DK_ADD: DK_FN(dconv_add)(J, o0, o1); break;
    case DK_SPLIT: DK_FN(dconv_split)(J, o0, o1); break;
    case DK_XREL: (J->fresh ? DK_FN(dconv_xrel_fresh) : DK_FN(dconv_xrel))(J, o0, o1); break;
    case DK_PM: (J->fresh ? DK_FN(dconv_pm_fresh) : DK_FN(dconv_pm))(J, o0, o1); break;
    case DK_ABS: DK_FN(dconv_abs)(J, o0, o1); break;
    default: DK_FN(dconv_store)(J, o0, o1); break;
    }
}

#undef DK_POS
#undef DK_NEG
#undef DK_ABSV
#ifdef DK_SPLIT_OWN
#undef DK_MASK_T
#undef DK_SIGNS
#undef DK_SPLIT_FMA
#undef DK_SPLIT_OWN
#endif
#undef DK_V
#undef DK_I
