/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * linear.c - LRP rules for linear layers (Conv, Gemm/MatMul), written once over the
 * layer's forward (z = Wx + b) and vector-Jacobian product (dx = W^T s).
 * Conventions (stabilizer z + eps*sgn(z) with sgn(0)=+1, bias in every denominator,
 * Flat over in-bounds taps, ZBox with cancelling bias, Gamma gated by the sign of
 * the unmodified z) follow Zennit, see the README, "LRP conventions".
 * Refs: Bach et al. 2015 (epsilon, alpha-beta); Montavon et al. 2017 (z+, z^B);
 * Montavon et al. 2019 (gamma); Lapuschkin et al. 2019 (flat); Arras et al. 2017
 * (bias factor).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"

xai_linear *xai_node_linear(const xai_node *n)
{
    return n->is_linear ? (xai_linear *)n->attr : NULL;
}

void xai_linear_free(xai_linear *l)
{
    for (int f = 0; f < 2; f++)
        for (int k = 0; k < LW_COUNT; k++) {
            free(l->cw[f][k]);
            free(l->cb[f][k]);
        }
    free(l->fw);
    free(l->fb);
    free(l->flat_count);
}

void xai_linear_fold_bn(xai_model *m, xai_node *lin, const xai_node *bn)
{
    (void)m;
    xai_linear *L = xai_node_linear(lin);
    const xai_bn_attr *a = bn->attr;
    if (!L || !a || a->nch != L->nout_ch)
        return;
    L->fw = malloc(sizeof(float) * (size_t)L->wlen);
    L->fb = malloc(sizeof(float) * (size_t)L->nout_ch);
    if (!L->fw || !L->fb) {
        free(L->fw);
        free(L->fb);
        L->fw = L->fb = NULL;
        return;
    }
    int64_t blk = L->wlen / L->nout_ch;
    for (int64_t c = 0; c < L->nout_ch; c++) {
        for (int64_t k = 0; k < blk; k++)
            L->fw[c * blk + k] = L->w[c * blk + k] * a->scale[c];
        L->fb[c] = (L->b ? L->b[c] : 0.0f) * a->scale[c] + a->shift[c];
    }
}

/* Effective weights: folded when asked for and available. */
static void eff(const xai_linear *L, int fold, const float **w, const float **b)
{
    if (fold && L->fw) {
        *w = L->fw;
        *b = L->fb;
    } else {
        *w = L->w;
        *b = L->b;
    }
}

/* Lazily built modified weights (W+, W-, W^2, ones, W+gW+, W+gW-) and biases. */
static xai_status modw(const xai_linear *Lc, int fold, int kind, float gamma, const float **w, const float **b)
{
    xai_linear *L = (xai_linear *)Lc;
    int f = (fold && L->fw) ? 1 : 0;
    const float *w0, *b0;
    eff(L, f, &w0, &b0);
    if (kind == LW_W) {
        *w = w0;
        *b = b0;
        return XAI_OK;
    }
    if ((kind == LW_WUP || kind == LW_WDN) && L->cw[f][kind] && L->cgamma[f] != gamma) {
        free(L->cw[f][LW_WUP]);
        free(L->cw[f][LW_WDN]);
        free(L->cb[f][LW_WUP]);
        free(L->cb[f][LW_WDN]);
        L->cw[f][LW_WUP] = L->cw[f][LW_WDN] = L->cb[f][LW_WUP] = L->cb[f][LW_WDN] = NULL;
    }
    if (!L->cw[f][kind]) {
        float *nw = malloc(sizeof(float) * (size_t)L->wlen);
        float *nb = malloc(sizeof(float) * (size_t)L->nout_ch);
        if (!nw || !nb) {
            free(nw);
            free(nb);
            XAI_FAIL(XAI_ENOMEM, "out of memory for modified weights");
        }
        for (int64_t k = 0; k < L->wlen; k++) {
            float v = w0[k];
            switch (kind) {
            case LW_WP: nw[k] = v > 0 ? v : 0; break;
            case LW_WN: nw[k] = v < 0 ? v : 0; break;
            case LW_WSQ: nw[k] = v * v; break;
            case LW_ONES: nw[k] = 1.0f; break;
            case LW_WUP: nw[k] = v + gamma * (v > 0 ? v : 0); break;
            case LW_WABS: nw[k] = fabsf(v); break;
            default: nw[k] = v + gamma * (v < 0 ? v : 0); break;
            }
        }
        for (int64_t c = 0; c < L->nout_ch; c++) {
            float v = b0 ? b0[c] : 0.0f;
            switch (kind) {
            case LW_WP: nb[c] = v > 0 ? v : 0; break;
            case LW_WN: nb[c] = v < 0 ? v : 0; break;
            case LW_WSQ: nb[c] = v * v; break;
            case LW_ONES: nb[c] = 0.0f; break;
            case LW_WUP: nb[c] = v + gamma * (v > 0 ? v : 0); break;
            case LW_WABS: nb[c] = fabsf(v); break;
            default: nb[c] = v + gamma * (v < 0 ? v : 0); break;
            }
        }
        L->cw[f][kind] = nw;
        L->cb[f][kind] = nb;
        if (kind == LW_WUP || kind == LW_WDN)
            L->cgamma[f] = gamma;
    }
    *w = L->cw[f][kind];
    *b = L->cb[f][kind];
    return XAI_OK;
}

/* In-bounds tap counts per output element (Flat's denominator), computed once. */
static xai_status flat_counts(const xai_node *n, const xai_linear *Lc, float *scratch_in, float *scratch)
{
    xai_linear *L = (xai_linear *)Lc;
    if (L->flat_count)
        return XAI_OK;
    const float *ones = NULL, *nob = NULL;
    xai_status st = modw(L, 0, LW_ONES, 0, &ones, &nob);
    if (st)
        return st;
    float *c = malloc(sizeof(float) * (size_t)L->out_numel);
    if (!c)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    if (L->counts) {
        L->counts(n, c);
    } else {
        for (int64_t k = 0; k < L->in_numel; k++)
            scratch_in[k] = 1.0f;
        L->fwd(n, ones, NULL, scratch_in, c, 1, scratch);
    }
    L->flat_count = c;
    return XAI_OK;
}

/* Floats of the node's per-sample scratch (after its fixed part) that xai_linear_relevance()
   touches under rule r, once xai_linear_prepare() ran: the buffers of its layout that the rule's
   path reaches (s1 and z1 for Epsilon on the direct kernels, s1 for the fused z+ and alpha-beta,
   none for Flat's one pass), else all of them. */
size_t xai_linear_rule_scratch(const xai_node *n, const xai_rule *r)
{
    const xai_linear *L = xai_node_linear(n);
    if (!L)
        return n->scratch;
    switch (r->kind) {
    case XAI_RULE_GRADIENT:
        return (size_t)L->in_numel;
    case XAI_RULE_EPSILON:
        return L->vjp_rel && r->bias_factor == 0.0f ? 2 * (size_t)L->out_numel : n->scratch;
    case XAI_RULE_ZPLUS:
    case XAI_RULE_ALPHABETA: /* s1, and z1 for |W||x| */
        return L->fwd_pm && L->vjp_rel ? (L->fwd_abs ? 2 : 1) * (size_t)L->out_numel : n->scratch;
    case XAI_RULE_FLAT:
        return L->flat_rel ? 0 : n->scratch;
    case XAI_RULE_PASS:
        return 0;
    default:
        return n->scratch;
    }
}

/* Build the lazily derived weights a rule will read, so that sub-batches explained in parallel
   afterwards only read them. scratch_in holds in_numel floats, scratch the node's per-sample
   scratch (one sample). */
xai_status xai_linear_prepare(const xai_node *n, const xai_rule *r, int fold, float *scratch_in, float *scratch)
{
    const xai_linear *L = xai_node_linear(n);
    const float *w, *b;
    xai_status st = XAI_OK;
    if (!L)
        return XAI_OK;
    switch (r->kind) {
    case XAI_RULE_EPSILON:
        if (r->bias_factor != 0.0f)
            st = flat_counts(n, L, scratch_in, scratch);
        break;
    case XAI_RULE_ZPLUS:
    case XAI_RULE_ALPHABETA:
    case XAI_RULE_ZBOX:
        if (!(st = modw(L, fold, LW_WP, 0, &w, &b)))
            st = modw(L, fold, LW_WN, 0, &w, &b);
        if (!st && L->fwd_abs && r->kind != XAI_RULE_ZBOX)
            st = modw(L, fold, LW_WABS, 0, &w, &b);
        break;
    case XAI_RULE_GAMMA:
        if (!(st = modw(L, fold, LW_WUP, r->gamma, &w, &b)))
            st = modw(L, fold, LW_WDN, r->gamma, &w, &b);
        break;
    case XAI_RULE_FLAT:
        st = flat_counts(n, L, scratch_in, scratch);
        break;
    case XAI_RULE_WSQUARE:
        st = modw(L, fold, LW_WSQ, 0, &w, &b);
        break;
    default:
        break;
    }
    return st;
}

/* x+ and x-; when x has no negative entries (the usual case after a ReLU) nothing is
   copied and x itself is returned as x+. @return the x+ to read. */
static const float *split_sign(const float *x, float *xp, float *xn, int64_t n, int *has_neg)
{
    int neg = 0;
    for (int64_t k = 0; k < n; k++)
        neg |= x[k] < 0;
    *has_neg = neg;
    if (!neg)
        return x;
    for (int64_t k = 0; k < n; k++) {
        float v = x[k];
        xp[k] = v > 0 ? v : 0;
        xn[k] = v < 0 ? v : 0;
    }
    return xp;
}

/* True when one of the n floats is negative (stops at the first). */
static int any_negative(const float *x, int64_t n)
{
    for (int64_t k = 0; k < n; k++)
        if (x[k] < 0)
            return 1;
    return 0;
}

/* z+ and alpha-beta from the layer's own output z = W x + b and A = |W||x|: since
   w x = w+x+ + w-x- + w+x- + w-x+ and |w||x| = w+x+ + w-x- - w+x- - w-x+, the parts' sums are
   (z - b + A) / 2 and (z - b - A) / 2, to which the rule's bias (b+ or b-) is added. That is
   one product (A) where the direct form needs two weight sets on x+ and x-. Where a part is
   small next to S = A + |b|, it is the difference of two nearly equal numbers and the rounding
   of z and A (a few units in S's last place) becomes a large fraction of it: an output row (one
   channel of a sample) with such an element (|part| < S / ZPART_GUARD) takes the direct product
   instead, so every part keeps a relative error of at most ZPART_GUARD times that of S; a sample
   with many such rows takes it whole. */
#define ZPART_GUARD 16.0f

/* output row r of a sample: its part (sgn +1: z+, -1: z-) into z from the output zf (bias bf)
   and A, plus the rule's bias br; @return whether an element fails the guard */
static int zpart_row(const xai_linear *L, const float *zf, const float *A, float bf, float br, float sgn, float *z)
{
    int bad = 0;
    for (int64_t k = 0; k < L->ch_inner; k++) {
        float v = 0.5f * ((zf[k] - bf) + sgn * A[k]) + br;
        bad |= fabsf(v) * ZPART_GUARD < A[k] + fabsf(bf);
        z[k] = v;
    }
    return bad;
}

/* What the fused z+ and alpha-beta read: w4 = {W+, b+, W-, b-} (the biases may be NULL); zf the
   layer's output with bias bf (zf NULL: the parts take the direct products), wabs = |W|, A a
   buffer the size of z for |W||x|. */
typedef struct {
    const float *w4[4], *zf, *bf, *wabs;
    float *A;
} zpart_in;

static float bias_at(const float *b, int64_t c)
{
    return b ? b[c] : 0.0f;
}

/* part 0 (z+) or 1 (z-) of the whole stack into z; A already holds |W||x| */
static void zpart_stack(const xai_node *n, const xai_linear *L, const zpart_in *p, int part, const float *x, float *z,
                        int64_t ns, float *inner)
{
    const float *wa = p->w4[2 * part], *ba = p->w4[2 * part + 1], *wb = p->w4[2 - 2 * part];
    const int64_t rows = L->out_numel / L->ch_inner, R = L->ch_inner;
    for (int64_t s = 0; s < ns; s++) {
        const int64_t o = s * L->out_numel;
        const float *zf = p->zf + o, *A = p->A + o, *xs = x + s * L->in_numel;
        float *zs = z + o;
        int64_t bad = 0;
        for (int64_t r = 0; r < rows; r++)
            bad += zpart_row(L, zf + r * R, A + r * R, bias_at(p->bf, r % L->nout_ch), bias_at(ba, r % L->nout_ch),
                             part ? -1.0f : 1.0f, zs + r * R);
        if (bad && 4 * bad >= rows) {
            L->fwd_pm(n, wa, wb, ba, xs, zs, 1, inner);
            continue;
        }
        for (int64_t r = 0; bad && r < rows; r++) {
            const float bf = fabsf(bias_at(p->bf, r % L->nout_ch));
            int row_bad = 0;
            for (int64_t k = r * R; k < (r + 1) * R; k++)
                row_bad |= fabsf(zs[k]) * ZPART_GUARD < A[k] + bf;
            if (row_bad)
                L->fwd_pm_row(n, wa, wb, ba, xs, zs, r, inner);
        }
    }
}

/* z+ and alpha-beta on a layer with fused products: the positive part z+ = W+ x+ + W- x- + b+
   and the negative part z- = W- x+ + W+ x- + b- each take one sweep over the input for z and one
   for the relevance, whatever the input's signs (without negative inputs, one product each; with
   them and the layer's output at hand, both parts come from one product, zpart_stack).
   z holds the outputs' stack. */
static void alpha_beta_fused(const xai_node *n, const xai_linear *L, const xai_rule *r, const zpart_in *p,
                             const float *x, const float *R, float *Rin, float *z, int64_t ns, float *inner, int fresh)
{
    const int64_t N_out = L->out_numel * ns;
    const int neg = any_negative(x, L->in_numel * ns);
    const int from_abs = neg && p->zf;
    if (from_abs)
        L->fwd_abs(n, p->wabs, x, p->A, ns, inner);
    for (int part = 0; part < 2; part++) {
        if (part && (r->kind == XAI_RULE_ZPLUS || r->beta == 0.0f))
            break;
        const float *wa = p->w4[2 * part], *ba = p->w4[2 * part + 1], *wb = p->w4[2 - 2 * part];
        if (from_abs)
            zpart_stack(n, L, p, part, x, z, ns, inner);
        else if (neg)
            L->fwd_pm(n, wa, wb, ba, x, z, ns, inner);
        else
            L->fwd(n, wa, ba, x, z, ns, inner);
        for (int64_t k = 0; k < N_out; k++)
            z[k] = R[k] / xai_stab(z[k], r->stabilizer);
        float f = part ? -r->beta : r->kind == XAI_RULE_ZPLUS ? 1.0f : r->alpha;
        L->vjp_rel(n, wa, neg ? wb : NULL, z, x, f, Rin, ns, inner, fresh && !part);
    }
}

static void add_into(float *z, const float *t, int64_t n)
{
    for (int64_t k = 0; k < n; k++)
        z[k] += t[k];
}

xai_status xai_linear_backward(const xai_model *m, const xai_node *n, xai_workspace *ws)
{
    const xai_linear *L = xai_node_linear(n);
    int xi = n->in[0];
    float *inner = ws->scratch;
    if ((n->pgrad[0] || n->pgrad[1]) && L->wgrad) {
        xai_status st = L->wgrad(n, ws->val[xi], ws->adj[n->out[0]], n->pgrad[0], n->pgrad[1], ws->ns, inner);
        if (st)
            return st;
    }
    if (vconst(m, xi) || (ws->training && !ws->input_grad && xi == m->input))
        return XAI_OK; /* plain training never needs the gradient of the model input */
    int64_t N_in = L->in_numel * ws->ns;
    float *dx = ws->scratch + n->scratch_fixed;
    L->vjp(n, L->w, ws->adj[n->out[0]], dx, ws->ns, inner);
    add_into(ws->adj[xi], dx, N_in);
    return XAI_OK;
}

/* One relevance pass through a linear node: sizes, the input, relevances in and out, and the
   node's scratch laid out as below. Each rule's function keeps its loops as they were. */
typedef struct {
    const xai_node *n;
    const xai_linear *L;
    const xai_rule *r;
    xai_workspace *ws;
    int64_t ns, nin, nout, N_in, N_out;
    const float *x, *R;
    float *Rin;
    float *inner, *s1, *z1, *z2, *s2, *xp, *xn, *dx;
    int fold;
    int at_input; /* the node's input is the model's input (per-element ZBox bounds apply) */
    int fresh; /* Rin holds no values yet: the first product writes it (xai_linear_writes_first) */
    float stab;
} lin_rel;

/* Plain gradient with the effective weights. */
static xai_status rel_gradient(const xai_model *m, const xai_node *n, const xai_linear *L, xai_workspace *ws)
{
    int xi = n->in[0];
    if (vconst(m, xi))
        return XAI_OK;
    const float *w, *b;
    eff(L, ws->bn_fold, &w, &b);
    float *dx = ws->scratch + n->scratch_fixed, *inner = ws->scratch;
    L->vjp(n, w, ws->adj[n->out[0]], dx, ws->ns, inner);
    add_into(ws->adj[xi], dx, L->in_numel * ws->ns);
    return XAI_OK;
}

/* Arras et al.: a share beta*(b_j + eps*sgn z_j)/N_j of each output's relevance goes evenly to its
   N_j in-bounds inputs. */
static xai_status rel_bias_share(const lin_rel *c, const float *b, float eps)
{
    const xai_node *n = c->n;
    const xai_linear *L = c->L;
    const float *z1 = c->z1, *s1 = c->s1;
    float *s2 = c->s2, *dx = c->dx, *inner = c->inner;
    int64_t N_out = c->N_out, nout = c->nout, ns = c->ns;
    xai_status st;
    if ((st = flat_counts(n, L, c->xp, inner)))
        return st;
    for (int64_t k = 0; k < N_out; k++) {
        int64_t kk = k % nout;
        int64_t ch = (kk / L->ch_inner) % L->nout_ch;
        float bj = b ? b[ch] : 0.0f;
        float cnt = L->flat_count[kk];
        float e = z1[k] >= 0 ? eps : -eps;
        s2[k] = cnt > 0 ? c->r->bias_factor * (bj + e) * s1[k] / cnt : 0.0f;
    }
    const float *ones, *nob;
    if ((st = modw(L, 0, LW_ONES, 0, &ones, &nob)))
        return st;
    L->vjp(n, ones, s2, dx, ns, inner);
    add_into(c->Rin, dx, c->N_in);
    return XAI_OK;
}

static xai_status rel_epsilon(const lin_rel *c)
{
    const xai_node *n = c->n;
    const xai_linear *L = c->L;
    const float *x = c->x, *R = c->R, *w, *b;
    float *z1 = c->z1, *s1 = c->s1, *dx = c->dx, *inner = c->inner, *Rin = c->Rin;
    int64_t N_in = c->N_in, N_out = c->N_out, ns = c->ns;
    eff(L, c->fold, &w, &b);
    if (!(c->fold && L->fw))
        memcpy(z1, c->ws->val[n->out[0]], sizeof(float) * (size_t)N_out);
    else
        L->fwd(n, w, b, x, z1, ns, inner);
    const float eps = c->r->epsilon;
    for (int64_t k = 0; k < N_out; k++)
        s1[k] = R[k] / xai_stab(z1[k], eps);
    if (L->vjp_rel) {
        L->vjp_rel(n, w, NULL, s1, x, 1.0f, Rin, ns, inner, c->fresh);
    } else {
        L->vjp(n, w, s1, dx, ns, inner);
        for (int64_t k = 0; k < N_in; k++)
            Rin[k] += x[k] * dx[k];
    }
    if (c->r->bias_factor != 0.0f)
        return rel_bias_share(c, b, eps);
    return XAI_OK;
}

/* z+ and alpha-beta: the positive part z+ = W+ x+ + W- x- + b+, then (beta != 0) the negative part
   z- = W- x+ + W+ x- + b-. */
static xai_status rel_alpha_beta(const lin_rel *c)
{
    const xai_node *n = c->n;
    const xai_linear *L = c->L;
    const xai_rule *r = c->r;
    const float *x = c->x, *R = c->R, *wp = NULL, *bp = NULL, *wn = NULL, *bn_ = NULL;
    float *z1 = c->z1, *z2 = c->z2, *s1 = c->s1, *xp = c->xp, *xn = c->xn, *dx = c->dx, *inner = c->inner,
          *Rin = c->Rin;
    int64_t N_in = c->N_in, N_out = c->N_out, ns = c->ns;
    const float stab = c->stab;
    xai_status st;
    int has_neg;
    if ((st = modw(L, c->fold, LW_WP, 0, &wp, &bp)) || (st = modw(L, c->fold, LW_WN, 0, &wn, &bn_)))
        return st;
    if (r->no_bias)
        bp = bn_ = NULL; /* the same kernels, the bias out of both denominators */
    if (L->fwd_pm && L->vjp_rel) {
        zpart_in p = {{wp, bp, wn, bn_}, NULL, NULL, NULL, c->z1};
        /* the forward pass kept z unless the rules read BN-folded weights it did not use */
        if (L->fwd_abs && !(c->fold && L->fw)) {
            const float *nob;
            if ((st = modw(L, c->fold, LW_WABS, 0, &p.wabs, &nob)))
                return st;
            p.zf = c->ws->val[n->out[0]];
            p.bf = L->b;
        }
        alpha_beta_fused(n, L, r, &p, x, R, Rin, s1, ns, inner, c->fresh);
        return XAI_OK;
    }
    const float *xpos = split_sign(x, xp, xn, N_in, &has_neg);
    L->fwd(n, wp, bp, xpos, z1, ns, inner);
    if (has_neg) {
        L->fwd(n, wn, NULL, xn, z2, ns, inner);
        add_into(z1, z2, N_out);
    }
    float alpha = r->kind == XAI_RULE_ZPLUS ? 1.0f : r->alpha;
    for (int64_t k = 0; k < N_out; k++)
        s1[k] = R[k] / xai_stab(z1[k], stab);
    L->vjp(n, wp, s1, dx, ns, inner);
    for (int64_t k = 0; k < N_in; k++)
        Rin[k] += alpha * xpos[k] * dx[k];
    if (has_neg) {
        L->vjp(n, wn, s1, dx, ns, inner);
        for (int64_t k = 0; k < N_in; k++)
            Rin[k] += alpha * xn[k] * dx[k];
    }
    if (r->kind == XAI_RULE_ZPLUS || r->beta == 0.0f)
        return XAI_OK;
    L->fwd(n, wn, bn_, xpos, z1, ns, inner);
    if (has_neg) {
        L->fwd(n, wp, NULL, xn, z2, ns, inner);
        add_into(z1, z2, N_out);
    }
    for (int64_t k = 0; k < N_out; k++)
        s1[k] = R[k] / xai_stab(z1[k], stab);
    L->vjp(n, wn, s1, dx, ns, inner);
    for (int64_t k = 0; k < N_in; k++)
        Rin[k] -= r->beta * xpos[k] * dx[k];
    if (has_neg) {
        L->vjp(n, wp, s1, dx, ns, inner);
        for (int64_t k = 0; k < N_in; k++)
            Rin[k] -= r->beta * xn[k] * dx[k];
    }
    return XAI_OK;
}

/* Gamma: zp = Wup x+ + Wdn x- + bup and zn = Wdn x+ + Wup x- + bdn; the unmodified z decides which
   of the two an output uses. */
static xai_status rel_gamma(const lin_rel *c)
{
    const xai_node *n = c->n;
    const xai_linear *L = c->L;
    const float *x = c->x, *R = c->R, *w, *b, *wu, *bu, *wd, *bd;
    float *z1 = c->z1, *z2 = c->z2, *s1 = c->s1, *xp = c->xp, *xn = c->xn, *dx = c->dx, *inner = c->inner,
          *Rin = c->Rin;
    int64_t N_in = c->N_in, N_out = c->N_out, ns = c->ns;
    const float stab = c->stab;
    xai_status st;
    int has_neg;
    if ((st = modw(L, c->fold, LW_WUP, c->r->gamma, &wu, &bu)) ||
        (st = modw(L, c->fold, LW_WDN, c->r->gamma, &wd, &bd)))
        return st;
    eff(L, c->fold, &w, &b);
    const float *xpos = split_sign(x, xp, xn, N_in, &has_neg);
    float *z0 = c->s2;
    if (!(c->fold && L->fw))
        memcpy(z0, c->ws->val[n->out[0]], sizeof(float) * (size_t)N_out);
    else
        L->fwd(n, w, b, x, z0, ns, inner);
    L->fwd(n, wu, bu, xpos, z1, ns, inner);
    if (has_neg) {
        L->fwd(n, wd, NULL, xn, s1, ns, inner);
        add_into(z1, s1, N_out);
    }
    L->fwd(n, wd, bd, xpos, z2, ns, inner);
    if (has_neg) {
        L->fwd(n, wu, NULL, xn, s1, ns, inner);
        add_into(z2, s1, N_out);
    }
    for (int64_t k = 0; k < N_out; k++) {
        float zz = z0[k];
        z1[k] = zz > 0 ? R[k] / xai_stab(z1[k], stab) : 0.0f; /* sp */
        z2[k] = zz < 0 ? R[k] / xai_stab(z2[k], stab) : 0.0f; /* sn */
    }
    /* x+ (Wup^T sp + Wdn^T sn) + x- (Wdn^T sp + Wup^T sn) */
    L->vjp(n, wu, z1, dx, ns, inner);
    for (int64_t k = 0; k < N_in; k++)
        Rin[k] += xpos[k] * dx[k];
    L->vjp(n, wd, z2, dx, ns, inner);
    for (int64_t k = 0; k < N_in; k++)
        Rin[k] += xpos[k] * dx[k];
    if (has_neg) {
        L->vjp(n, wd, z1, dx, ns, inner);
        for (int64_t k = 0; k < N_in; k++)
            Rin[k] += xn[k] * dx[k];
        L->vjp(n, wu, z2, dx, ns, inner);
        for (int64_t k = 0; k < N_in; k++)
            Rin[k] += xn[k] * dx[k];
    }
    return XAI_OK;
}

/* x less one ZBox bound per input element of @p ns samples: the per-element array of the
   workspace, else the sample's own (per-sample array), else the rule's scalar. */
static void zbox_excess(const float *x, const float *el, const float *own, float scalar, int64_t ns, int64_t nin,
                        float *out)
{
    if (el) {
        for (int64_t k = 0; k < ns * nin; k++)
            out[k] = x[k] - el[k];
        return;
    }
    for (int64_t s = 0; s < ns; s++) {
        const float b = own ? own[s] : scalar;
        for (int64_t k = s * nin; k < (s + 1) * nin; k++)
            out[k] = x[k] - b;
    }
}

/* z^B = W x - W+ l - W- h (the biases cancel), computed as W+ (x - l) + W- (x - h), and the input's
   relevance (x - l) W+^T s + (x - h) W-^T s: the same in exact arithmetic, without the three
   terms that cancel where x is at a bound (with l = x, or h = x, a window whose z is 0 would
   otherwise pass on the rounding of R / eps). NaN bounds: each element's given bound where the
   rule's input is the model's input (ws->zbox_low_el/high_el), else each sample's own
   (ws->zbox_low/high), so a stack explains as its samples do. */
static xai_status rel_zbox(const lin_rel *c)
{
    const xai_node *n = c->n;
    const xai_linear *L = c->L;
    const xai_rule *r = c->r;
    const xai_workspace *ws = c->ws;
    const float *x = c->x, *R = c->R, *wp, *bp, *wn, *bn_;
    float *z1 = c->z1, *z2 = c->z2, *s1 = c->s1, *xl = c->xp, *xh = c->xn, *dx = c->dx, *inner = c->inner;
    float *Rin = c->Rin;
    int64_t N_in = c->N_in, N_out = c->N_out, ns = c->ns, nin = c->nin;
    const float stab = c->stab;
    xai_status st;
    if ((st = modw(L, c->fold, LW_WP, 0, &wp, &bp)) || (st = modw(L, c->fold, LW_WN, 0, &wn, &bn_)))
        return st;
    int nan = isnan(r->low), el = nan && ws->zbox_low_el && ws->zbox_high_el;
    int own = nan && !el && ws->zbox_low && ws->zbox_high;
    if (el && !c->at_input)
        return xai_error_set(XAI_EINVAL, "rule zbox on node '%s' (%s): per-element bounds are given for the model's "
                             "input, and this layer's input is another value (give the rule scalar bounds)",
                             n->name, n->op_type);
    zbox_excess(x, el ? ws->zbox_low_el : NULL, own ? ws->zbox_low : NULL, r->low, ns, nin, xl);
    zbox_excess(x, el ? ws->zbox_high_el : NULL, own ? ws->zbox_high : NULL, r->high, ns, nin, xh);
    L->fwd(n, wp, NULL, xl, z1, ns, inner);
    L->fwd(n, wn, NULL, xh, z2, ns, inner);
    for (int64_t k = 0; k < N_out; k++)
        s1[k] = R[k] / xai_stab(z1[k] + z2[k], stab);
    L->vjp(n, wp, s1, dx, ns, inner);
    for (int64_t k = 0; k < N_in; k++)
        Rin[k] += xl[k] * dx[k];
    L->vjp(n, wn, s1, dx, ns, inner);
    for (int64_t k = 0; k < N_in; k++)
        Rin[k] += xh[k] * dx[k];
    return XAI_OK;
}

/* Flat (all weights 1, over in-bounds taps) and w^2: the relevance is spread by weights that do
   not depend on the input. */
static xai_status rel_flat_wsquare(const lin_rel *c)
{
    const xai_node *n = c->n;
    const xai_linear *L = c->L;
    const float *R = c->R, *wm, *bm;
    float *z1 = c->z1, *s1 = c->s1, *xp = c->xp, *dx = c->dx, *inner = c->inner, *Rin = c->Rin;
    int64_t ns = c->ns, nin = c->nin, nout = c->nout;
    const float stab = c->stab;
    xai_status st;
    if (c->r->kind == XAI_RULE_FLAT) {
        if ((st = flat_counts(n, L, xp, inner)) || (st = modw(L, 0, LW_ONES, 0, &wm, &bm)))
            return st;
        if (L->flat_rel) {
            L->flat_rel(n, R, L->flat_count, stab, Rin, ns, inner);
            return XAI_OK;
        }
        for (int64_t i = 0; i < ns; i++) /* per sample: no division of indices in the loop */
            for (int64_t k = 0; k < nout; k++)
                s1[i * nout + k] = R[i * nout + k] / xai_stab(L->flat_count[k], stab);
    } else {
        if ((st = modw(L, c->fold, LW_WSQ, 0, &wm, &bm)))
            return st;
        for (int64_t k = 0; k < nin; k++)
            xp[k] = 1.0f;
        L->fwd(n, wm, bm, xp, z1, 1, inner);
        for (int64_t i = 0; i < ns; i++)
            for (int64_t k = 0; k < nout; k++)
                s1[i * nout + k] = R[i * nout + k] / xai_stab(z1[k], stab);
    }
    L->vjp(n, wm, s1, dx, ns, inner);
    add_into(Rin, dx, c->N_in);
    return XAI_OK;
}

/* The rules whose first write to the input's relevance is one vjp_rel over all of it: epsilon and
   the fused z+ and alpha-beta (rel_epsilon, alpha_beta_fused). */
int xai_linear_writes_first(const xai_node *n, const xai_rule *r)
{
    const xai_linear *L = xai_node_linear(n);
    if (!L || !L->vjp_rel || n->ops->relevance != xai_linear_relevance)
        return 0;
    return r->kind == XAI_RULE_EPSILON ||
           ((r->kind == XAI_RULE_ZPLUS || r->kind == XAI_RULE_ALPHABETA) && L->fwd_pm != NULL);
}

/* Rules whose pass, once it wrote its input's relevance (whole, by the one vjp_rel of
   xai_linear_writes_first), reads the input's activation no more, and whose direct kernels read
   each activation element just before they write its relevance at the same place: epsilon, z+ and
   alpha-beta without the beta part (whose second product reads the input again). */
int xai_linear_in_place(const xai_node *n, const xai_rule *r)
{
    return xai_linear_writes_first(n, r) &&
           (r->kind != XAI_RULE_ALPHABETA || r->beta == 0.0f);
}

/* Rules that read neither the layer's input nor its output activation: their weights do not
   depend on the input (Flat and WSquare; the rule is taken as given, here on a linear node). */
int xai_linear_reads_no_activation(const xai_node *n, const xai_rule *r)
{
    return xai_node_linear(n) && n->ops->relevance == xai_linear_relevance &&
           (r->kind == XAI_RULE_FLAT || r->kind == XAI_RULE_WSQUARE);
}

xai_status xai_linear_relevance(const xai_model *m, const xai_node *n, const xai_rule *r, xai_workspace *ws)
{
    const xai_linear *L = xai_node_linear(n);
    int xi = n->in[0];
    if (r->kind == XAI_RULE_GRADIENT)
        return rel_gradient(m, n, L, ws);
    if (vconst(m, xi))
        return XAI_OK;
    lin_rel c = {.n = n, .L = L, .r = r, .ws = ws, .ns = ws->ns, .nin = L->in_numel, .nout = L->out_numel,
                 .x = ws->val[xi], .R = ws->adj[n->out[0]], .Rin = ws->adj[xi], .fold = ws->bn_fold,
                 .stab = r->stabilizer, .fresh = ws->fresh_adj == xi, .at_input = xi == m->input};
    ws->fresh_adj = -1;
    c.N_in = c.nin * c.ns;
    c.N_out = c.nout * c.ns;
    /* the node's fixed scratch first (padded inputs, flipped weights), then its stack buffers, the
       output-sized ones first: the rules that need few of them touch few pages */
    c.inner = ws->scratch;
    c.s1 = ws->scratch + n->scratch_fixed;
    c.z1 = c.s1 + c.N_out;
    c.z2 = c.z1 + c.N_out;
    c.s2 = c.z2 + c.N_out;
    c.xp = c.s2 + c.N_out;
    c.xn = c.xp + c.N_in;
    c.dx = c.xn + c.N_in;
    switch (r->kind) {
    case XAI_RULE_EPSILON: return rel_epsilon(&c);
    case XAI_RULE_ZPLUS:
    case XAI_RULE_ALPHABETA: return rel_alpha_beta(&c);
    case XAI_RULE_GAMMA: return rel_gamma(&c);
    case XAI_RULE_ZBOX: return rel_zbox(&c);
    case XAI_RULE_FLAT:
    case XAI_RULE_WSQUARE: return rel_flat_wsquare(&c);
    case XAI_RULE_PASS:
        if (c.nin != c.nout)
            return xai_error_set(XAI_EINVAL, "rule pass on node '%s' (%s): input and output sizes differ", n->name,
                                 n->op_type);
        add_into(c.Rin, c.R, c.N_in);
        return XAI_OK;
    default:
        return xai_error_set(XAI_EINVAL, "rule %s cannot be used on node '%s' (%s)", xai_rule_name(r->kind), n->name,
                             n->op_type);
    }
}
