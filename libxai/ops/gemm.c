/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gemm.c - ONNX Gemm and MatMul with a constant weight operand, normalised at load to
 * W[N][K] (alpha folded in) and a per-output bias (beta*C), so both share the linear
 * rules of linear.c. A MatMul followed by an Add of a constant bias is fused (graph.c),
 * so the bias enters the LRP denominators as it does for Gemm.
 */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"

typedef struct {
    xai_linear lin;    /* must be first */
    int64_t rows;      /* rows per sample (product of leading dims) */
    int64_t k, n;
    float *w;          /* [n][k], owned */
    float *b;          /* [n], owned or NULL */
    int from_matmul;
    int vB, vC;        /* initializers the weights and bias came from (-1: none) */
    int transB;
    float alpha, beta;
    int64_t cnumel;    /* elements of C (1 or n) */
} gemm_attr;

/* The rows of a stack go through xai_sgemm_rows, so a sample's outputs are bitwise the same
   whatever the stack size and thread count. */
static void gemm_fwd(const xai_node *nd, const float *w, const float *b, const float *x, float *z, int64_t ns,
                     float *scratch)
{
    const gemm_attr *a = nd->attr;
    (void)scratch;
    int64_t M = a->rows * ns;
    xai_sgemm_rows(CblasTrans, (int)M, (int)a->n, (int)a->k, 1.0f, x, (int)a->k, w, (int)a->k, 0.0f, z, (int)a->n);
    if (b)
        for (int64_t i = 0; i < M; i++) {
            float *zi = z + i * a->n;
            for (int64_t j = 0; j < a->n; j++)
                zi[j] += b[j];
        }
}

static void gemm_vjp(const xai_node *nd, const float *w, const float *s, float *dx, int64_t ns, float *scratch)
{
    const gemm_attr *a = nd->attr;
    (void)scratch;
    int64_t M = a->rows * ns;
    xai_sgemm_rows(CblasNoTrans, (int)M, (int)a->k, (int)a->n, 1.0f, s, (int)a->n, w, (int)a->k, 0.0f, dx,
                   (int)a->k);
}

static xai_status gemm_wgrad(const xai_node *nd, const float *x, const float *s, float *gw, float *gb, int64_t ns,
                             float *scratch)
{
    const gemm_attr *a = nd->attr;
    (void)scratch;
    int64_t M = a->rows * ns;
    if (gw)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)a->n, (int)a->k, (int)M, 1.0f, s, (int)a->n, x,
                    (int)a->k, 1.0f, gw, (int)a->k);
    if (gb)
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < a->n; j++)
                gb[j] += s[i * a->n + j];
    return XAI_OK;
}

static xai_status gemm_forward(const xai_model *m, const xai_node *n, xai_workspace *ws)
{
    const gemm_attr *a = n->attr;
    (void)m;
    gemm_fwd(n, a->lin.w, a->lin.b, ws->val[n->in[0]], ws->val[n->out[0]], ws->ns, NULL);
    return XAI_OK;
}

static void gemm_destroy(xai_node *n)
{
    gemm_attr *a = n->attr;
    if (a) {
        xai_linear_free(&a->lin);
        free(a->w);
        free(a->b);
    }
    free(a);
}

const xai_op_vtable xai_gemm_ops = {"Gemm", gemm_forward, xai_linear_backward, xai_linear_relevance, gemm_destroy};

static xai_status finish(xai_model *m, xai_node *n, gemm_attr *a, const xai_value *x)
{
    xai_value *y = &m->vals[n->out[0]];
    y->ndim = x->ndim;
    for (int i = 0; i < x->ndim; i++)
        y->shape[i] = x->shape[i];
    y->shape[x->ndim - 1] = a->n;
    y->numel = a->rows * a->n;
    a->lin.in_numel = x->numel;
    a->lin.out_numel = y->numel;
    a->lin.wlen = a->n * a->k;
    a->lin.nout_ch = a->n;
    a->lin.ch_inner = 1;
    a->lin.w = a->w;
    a->lin.b = a->b;
    a->lin.fwd = gemm_fwd;
    a->lin.vjp = gemm_vjp;
    a->lin.wgrad = gemm_wgrad;
    n->is_linear = 1;
    n->scratch = (size_t)(3 * x->numel + 4 * y->numel);
    return XAI_OK;
}

xai_status xai_gemm_init(xai_model *m, xai_node *n, const Onnx__NodeProto *np)
{
    static const char *const known[] = {"alpha", "beta", "transA", "transB", NULL};
    xai_status st = xai_attr_only(m, np, known);
    if (st)
        return st;
    if (n->nin < 2 || n->in[0] < 0 || n->in[1] < 0)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Gemm) needs A and B", m->name, n->name);
    const xai_value *x = &m->vals[n->in[0]], *bw = &m->vals[n->in[1]];
    const xai_value *c = n->nin > 2 && n->in[2] >= 0 ? &m->vals[n->in[2]] : NULL;
    int64_t ta, tb;
    float alpha, beta;
    if ((st = xai_attr_int(m, np, "transA", 0, &ta)) || (st = xai_attr_int(m, np, "transB", 0, &tb)) ||
        (st = xai_attr_float(m, np, "alpha", 1.0f, &alpha)) || (st = xai_attr_float(m, np, "beta", 1.0f, &beta)))
        return st;
    if (x->is_const)
        return xai_node_unsupported(m, n, "A", "a constant A with a variable B is not supported");
    if (ta)
        return xai_node_unsupported(m, n, "transA", "transA=1 on an activation is not supported");
    if (!bw->is_const || bw->dtype != DT_F32)
        return xai_node_unsupported(m, n, "B", "B must be a float initializer");
    if (x->ndim != 2 || bw->ndim != 2)
        XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (Gemm): A and B must be 2-D", m->name, n->name);
    gemm_attr *a = calloc(1, sizeof *a);
    if (!a)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    n->attr = a;
    a->vB = n->in[1];
    a->vC = -1;
    a->transB = (int)tb;
    a->alpha = alpha;
    a->beta = beta;
    a->rows = x->shape[0];
    a->k = x->shape[1];
    a->n = tb ? bw->shape[0] : bw->shape[1];
    if ((tb ? bw->shape[1] : bw->shape[0]) != a->k)
        XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (Gemm): A has %lld columns, B expects %lld", m->name, n->name,
                 (long long)a->k, (long long)(tb ? bw->shape[1] : bw->shape[0]));
    a->w = malloc(sizeof(float) * (size_t)(a->n * a->k));
    if (!a->w)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    for (int64_t j = 0; j < a->n; j++)
        for (int64_t i = 0; i < a->k; i++)
            a->w[j * a->k + i] = alpha * (tb ? bw->f[j * a->k + i] : bw->f[i * a->n + j]);
    if (c && beta != 0.0f) {
        if (!c->is_const || c->dtype != DT_F32)
            return xai_node_unsupported(m, n, "C", "C must be a float initializer");
        int ok = c->numel == a->n || c->numel == 1;
        if (c->ndim == 2 && c->shape[1] != a->n && c->shape[1] != 1)
            ok = 0;
        if (!ok)
            return xai_node_unsupported(m, n, "C", "C of shape with %lld values (only per-output bias)",
                                        (long long)c->numel);
        a->b = malloc(sizeof(float) * (size_t)a->n);
        if (!a->b)
            XAI_FAIL(XAI_ENOMEM, "out of memory");
        for (int64_t j = 0; j < a->n; j++)
            a->b[j] = beta * (c->numel == 1 ? c->f[0] : c->f[j]);
        a->vC = n->in[2];
        a->cnumel = c->numel;
    }
    return finish(m, n, a, x);
}

xai_status xai_matmul_init(xai_model *m, xai_node *n, const Onnx__NodeProto *np)
{
    static const char *const known[] = {NULL};
    xai_status st = xai_attr_only(m, np, known);
    if (st)
        return st;
    if (n->nin != 2 || n->in[0] < 0 || n->in[1] < 0)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (MatMul) needs A and B", m->name, n->name);
    const xai_value *x = &m->vals[n->in[0]], *bw = &m->vals[n->in[1]];
    if (x->is_const || !bw->is_const || bw->dtype != DT_F32)
        return xai_node_unsupported(m, n, "B", "only activation x constant 2-D weight products are supported");
    if (bw->ndim != 2 || x->ndim < 1 || x->shape[x->ndim - 1] != bw->shape[0])
        XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (MatMul): shapes do not multiply", m->name, n->name);
    gemm_attr *a = calloc(1, sizeof *a);
    if (!a)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    n->attr = a;
    a->from_matmul = 1;
    a->vB = n->in[1];
    a->vC = -1;
    a->transB = 0;
    a->alpha = 1.0f;
    a->beta = 1.0f;
    a->k = bw->shape[0];
    a->n = bw->shape[1];
    a->rows = x->numel / a->k;
    a->w = malloc(sizeof(float) * (size_t)(a->n * a->k));
    if (!a->w)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    for (int64_t j = 0; j < a->n; j++)
        for (int64_t i = 0; i < a->k; i++)
            a->w[j * a->k + i] = bw->f[i * a->n + j];
    return finish(m, n, a, x);
}

/* Fuse MatMul -> Add(constant bias over the last axis); returns 1 when fused. */
int xai_gemm_absorb_bias_v(xai_node *mm, const float *bias, int64_t nb, int v)
{
    if (!xai_gemm_absorb_bias(mm, bias, nb))
        return 0;
    gemm_attr *a = mm->attr;
    a->vC = v;
    a->cnumel = nb;
    return 1;
}

float *xai_gemm_weights(xai_node *n, float **bias, int64_t *nout, int64_t *nin)
{
    gemm_attr *a = n->attr;
    *bias = a->b;
    *nout = a->n;
    *nin = a->k;
    return a->w;
}

/* Write the (trained) normalised weights back into the initializers they came from. */
void xai_gemm_sync(xai_model *m, xai_node *n)
{
    gemm_attr *a = n->attr;
    if (a->vB >= 0 && m->vals[a->vB].f && a->alpha != 0.0f) {
        float *B = m->vals[a->vB].f;
        for (int64_t j = 0; j < a->n; j++)
            for (int64_t i = 0; i < a->k; i++) {
                float v = a->w[j * a->k + i] / a->alpha;
                if (a->transB)
                    B[j * a->k + i] = v;
                else
                    B[i * a->n + j] = v;
            }
    }
    if (a->b && a->vC >= 0 && m->vals[a->vC].f && a->cnumel == a->n && a->beta != 0.0f)
        for (int64_t j = 0; j < a->n; j++)
            m->vals[a->vC].f[j] = a->b[j] / a->beta;
}

int xai_gemm_absorb_bias(xai_node *mm, const float *bias, int64_t nb)
{
    gemm_attr *a = mm->attr;
    if (!a || !a->from_matmul || a->b || (nb != a->n && nb != 1))
        return 0;
    a->b = malloc(sizeof(float) * (size_t)a->n);
    if (!a->b)
        return 0;
    for (int64_t j = 0; j < a->n; j++)
        a->b[j] = nb == 1 ? bias[0] : bias[j];
    a->lin.b = a->b;
    return 1;
}
