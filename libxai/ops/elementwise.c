/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * elementwise.c - activations (Relu, LeakyRelu, Sigmoid, Tanh, Elu), binary
 * arithmetic with numpy broadcasting (Add, Sub, Mul, Div) and BatchNormalization
 * (inference). LRP: activations and BN pass relevance unchanged (the layer below
 * multiplies by its input); an Add or Sub of two activations splits by the Norm rule
 * R_a = a * R / stab(a+b); under Pass an Add or Sub gives it all to the activation of the
 * output's shape (x - c, the read-out's reference point); other arithmetic falls back to the
 * gradient, as Zennit does.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"
#include "vecmath.h"

/* ---------------------------------------------------------------- activations */

typedef struct {
    float alpha;
} act_attr;

typedef struct {
    const xai_model *m;
    const xai_node *n;
    xai_workspace *ws;
} act_job;

/* elements per thread below which the pool does not split an activation */
#define ACT_MIN_PER_THREAD ((int64_t)1 << 15)

/* max(x, 0) with NaN and -0 giving +0, as x > 0 ? x : 0 does: a select on the sign mask, so that
   it vectorises (as a compare and branch it ran one element at a time, mispredicted on random signs) */
XAI_VEC_CLONES
static void relu_range(const float *restrict x, float *restrict y, int64_t n)
{
    for (int64_t k = 0; k < n; k++) {
        int32_t b;
        memcpy(&b, &x[k], sizeof b);
        b &= -(int32_t)(x[k] > 0.0f);
        memcpy(&y[k], &b, sizeof b);
    }
}

static void act_forward_range(void *ctx, int64_t k0, int64_t k1, int tid)
{
    const act_job *j = ctx;
    const xai_node *n = j->n;
    const float *restrict x = j->ws->val[n->in[0]];
    float *restrict y = j->ws->val[n->out[0]];
    float al = n->attr ? ((const act_attr *)n->attr)->alpha : 0.0f;
    (void)tid;
    switch (n->kind) {
    case K_RELU: relu_range(x + k0, y + k0, k1 - k0); break;
    case K_LEAKYRELU: for (int64_t k = k0; k < k1; k++) y[k] = x[k] >= 0 ? x[k] : al * x[k]; break;
    case K_SIGMOID: for (int64_t k = k0; k < k1; k++) y[k] = 1.0f / (1.0f + expf(-x[k])); break;
    case K_TANH: for (int64_t k = k0; k < k1; k++) y[k] = tanhf(x[k]); break;
    default: for (int64_t k = k0; k < k1; k++) y[k] = x[k] >= 0 ? x[k] : al * expm1f(x[k]); break;
    }
}

/* elementwise, so ranges may run on different threads without changing any result */
static xai_status act_forward(const xai_model *m, const xai_node *n, xai_workspace *ws)
{
    act_job j = {m, n, ws};
    xai_par_for(vnumel(m, n->in[0]) * ws->ns, ACT_MIN_PER_THREAD, act_forward_range, &j);
    return XAI_OK;
}

static void act_backward_range(void *ctx, int64_t k0, int64_t k1, int tid)
{
    const act_job *j = ctx;
    const xai_node *n = j->n;
    /* distinct workspace buffers: restrict lets the compiler vectorise these loops */
    const float *restrict x = j->ws->val[n->in[0]], *restrict y = j->ws->val[n->out[0]],
                          *restrict g = j->ws->adj[n->out[0]];
    float *restrict dx = j->ws->adj[n->in[0]];
    float al = n->attr ? ((const act_attr *)n->attr)->alpha : 0.0f;
    (void)tid;
    switch (n->kind) {
    case K_RELU: /* branch-free, so it vectorises: the sign of x is random */
        for (int64_t k = k0; k < k1; k++)
            dx[k] += g[k] * (float)(x[k] > 0.0f);
        break;
    case K_LEAKYRELU: for (int64_t k = k0; k < k1; k++) dx[k] += x[k] >= 0 ? g[k] : al * g[k]; break;
    case K_SIGMOID: for (int64_t k = k0; k < k1; k++) dx[k] += g[k] * y[k] * (1.0f - y[k]); break;
    case K_TANH: for (int64_t k = k0; k < k1; k++) dx[k] += g[k] * (1.0f - y[k] * y[k]); break;
    default: for (int64_t k = k0; k < k1; k++) dx[k] += x[k] >= 0 ? g[k] : g[k] * (y[k] + al); break;
    }
}

static xai_status act_backward(const xai_model *m, const xai_node *n, xai_workspace *ws)
{
    act_job j = {m, n, ws};
    xai_par_for(vnumel(m, n->in[0]) * ws->ns, ACT_MIN_PER_THREAD, act_backward_range, &j);
    return XAI_OK;
}

static xai_status pass_relevance(const xai_model *m, const xai_node *n, const xai_rule *r, xai_workspace *ws)
{
    if (r->kind == XAI_RULE_GRADIENT)
        return n->ops->backward(m, n, ws);
    int64_t N = vnumel(m, n->in[0]) * ws->ns;
    const float *g = ws->adj[n->out[0]];
    float *dx = ws->adj[n->in[0]];
    if (ws->fresh_adj == n->in[0]) { /* dx holds no zeros yet: the same sums as 0 + g */
        ws->fresh_adj = -1;
        for (int64_t k = 0; k < N; k++)
            dx[k] = 0.0f + g[k];
        return XAI_OK;
    }
    for (int64_t k = 0; k < N; k++)
        dx[k] += g[k];
    return XAI_OK;
}

int xai_pass_writes_first(const xai_node *n, const xai_rule *r)
{
    return n->ops->relevance == pass_relevance && r->kind != XAI_RULE_GRADIENT;
}

const xai_op_vtable xai_act_ops = {"Activation", act_forward, act_backward, pass_relevance, NULL};

xai_status xai_act_init(xai_model *m, xai_node *n, const Onnx__NodeProto *np)
{
    static const char *const known_alpha[] = {"alpha", NULL};
    static const char *const none[] = {NULL};
    int has_alpha = n->kind == K_LEAKYRELU || n->kind == K_ELU;
    xai_status st = xai_attr_only(m, np, has_alpha ? known_alpha : none);
    if (st)
        return st;
    if (n->in[0] < 0 || m->vals[n->in[0]].is_const)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (%s) needs an activation input", m->name, n->name, n->op_type);
    if (has_alpha) {
        act_attr *a = calloc(1, sizeof *a);
        if (!a)
            XAI_FAIL(XAI_ENOMEM, "out of memory");
        n->attr = a;
        if ((st = xai_attr_float(m, np, "alpha", n->kind == K_LEAKYRELU ? 0.01f : 1.0f, &a->alpha)))
            return st;
    }
    const xai_value *x = &m->vals[n->in[0]];
    xai_value *y = &m->vals[n->out[0]];
    y->ndim = x->ndim;
    memcpy(y->shape, x->shape, sizeof y->shape);
    y->numel = x->numel;
    return XAI_OK;
}

/* ---------------------------------------------------------------- binary arithmetic */

typedef struct {
    int no;
    int64_t os[XAI_MAX_DIMS];
    int64_t *ia, *ib;          /* per output element: index into a and b (NULL = same index) */
} bin_attr;

static inline const float *opnd(const xai_model *m, xai_workspace *ws, int v, int64_t s)
{
    return vconst(m, v) ? ws->val[v] : ws->val[v] + s * vnumel(m, v);
}

static xai_status bin_forward(const xai_model *m, const xai_node *n, xai_workspace *ws)
{
    const bin_attr *a = n->attr;
    int64_t no = vnumel(m, n->out[0]);
    for (int64_t s = 0; s < ws->ns; s++) {
        const float *x = opnd(m, ws, n->in[0], s), *y = opnd(m, ws, n->in[1], s);
        float *z = ws->val[n->out[0]] + s * no;
        for (int64_t k = 0; k < no; k++) {
            float u = x[a->ia ? a->ia[k] : k], v = y[a->ib ? a->ib[k] : k];
            switch (n->kind) {
            case K_ADD: z[k] = u + v; break;
            case K_SUB: z[k] = u - v; break;
            case K_MUL: z[k] = u * v; break;
            default: z[k] = u / v; break;
            }
        }
    }
    return XAI_OK;
}

/* mode 0: gradient; 1: Norm rule (Add/Sub of two activations) */
static xai_status bin_back(const xai_model *m, const xai_node *n, xai_workspace *ws, int norm, float stab)
{
    const bin_attr *a = n->attr;
    int64_t no = vnumel(m, n->out[0]);
    int ca = vconst(m, n->in[0]), cb = vconst(m, n->in[1]);
    for (int64_t s = 0; s < ws->ns; s++) {
        const float *x = opnd(m, ws, n->in[0], s), *y = opnd(m, ws, n->in[1], s);
        const float *g = ws->adj[n->out[0]] + s * no, *z = ws->val[n->out[0]] + s * no;
        float *dx = ca ? NULL : ws->adj[n->in[0]] + s * vnumel(m, n->in[0]);
        float *dy = cb ? NULL : ws->adj[n->in[1]] + s * vnumel(m, n->in[1]);
        for (int64_t k = 0; k < no; k++) {
            int64_t i = a->ia ? a->ia[k] : k, j = a->ib ? a->ib[k] : k;
            float u = x[i], v = y[j], gk = g[k];
            if (norm) {
                float q = gk / xai_stab(z[k], stab);
                if (dx)
                    dx[i] += u * q;
                if (dy)
                    dy[j] += (n->kind == K_SUB ? -v : v) * q;
                continue;
            }
            switch (n->kind) {
            case K_ADD:
                if (dx) dx[i] += gk;
                if (dy) dy[j] += gk;
                break;
            case K_SUB:
                if (dx) dx[i] += gk;
                if (dy) dy[j] -= gk;
                break;
            case K_MUL:
                if (dx) dx[i] += gk * v;
                if (dy) dy[j] += gk * u;
                break;
            default:
                if (dx) dx[i] += gk / v;
                if (dy) dy[j] -= gk * u / (v * v);
                break;
            }
        }
    }
    return XAI_OK;
}

static xai_status bin_backward(const xai_model *m, const xai_node *n, xai_workspace *ws)
{
    return bin_back(m, n, ws, 0, 0);
}

/* Pass on Add/Sub: the relevance goes unchanged to the one activation of the output's shape; the
   other operand (a constant, a bias, a mean) is a reference point and gets none. Conservative,
   as BatchNorm's running mean under Pass. */
static xai_status bin_pass(const xai_model *m, const xai_node *n, xai_workspace *ws)
{
    int64_t no = vnumel(m, n->out[0]);
    int full0 = !vconst(m, n->in[0]) && vnumel(m, n->in[0]) == no;
    int full1 = !vconst(m, n->in[1]) && vnumel(m, n->in[1]) == no;
    if ((n->kind != K_ADD && n->kind != K_SUB) || full0 == full1)
        return xai_error_set(XAI_EINVAL, "rule pass on '%s' (%s) needs an Add or Sub with one activation "
                             "operand of the output's shape", n->name, n->op_type);
    const float *g = ws->adj[n->out[0]];
    float *dx = ws->adj[n->in[full0 ? 0 : 1]];
    for (int64_t k = 0; k < no * ws->ns; k++)
        dx[k] += g[k];
    return XAI_OK;
}

static xai_status bin_relevance(const xai_model *m, const xai_node *n, const xai_rule *r, xai_workspace *ws)
{
    if (r->kind == XAI_RULE_PASS)
        return bin_pass(m, n, ws);
    int two = !vconst(m, n->in[0]) && !vconst(m, n->in[1]);
    if (r->kind == XAI_RULE_NORM || (r->kind != XAI_RULE_GRADIENT && two && (n->kind == K_ADD || n->kind == K_SUB)))
        return bin_back(m, n, ws, 1, r->stabilizer);
    return bin_back(m, n, ws, 0, 0);
}

static void bin_destroy(xai_node *n)
{
    bin_attr *a = n->attr;
    if (a) {
        free(a->ia);
        free(a->ib);
    }
    free(a);
}

const xai_op_vtable xai_bin_ops = {"Arithmetic", bin_forward, bin_backward, bin_relevance, bin_destroy};

static int64_t *bmap(const bin_attr *a, const xai_value *v)
{
    int same = v->ndim == a->no;
    for (int i = 0; same && i < a->no; i++)
        same = v->shape[i] == a->os[i];
    if (same)
        return NULL;
    int64_t n = 1;
    for (int i = 0; i < a->no; i++)
        n *= a->os[i];
    int64_t *map = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    if (!map)
        return NULL;
    for (int64_t k = 0; k < n; k++) {
        int64_t r = k, idx = 0, stride = 1;
        for (int i = a->no - 1; i >= 0; i--) {
            int64_t c = r % a->os[i];
            r /= a->os[i];
            int iv = i - (a->no - v->ndim);
            if (iv >= 0) {
                if (v->shape[iv] != 1)
                    idx += c * stride;
                stride *= v->shape[iv];
            }
        }
        map[k] = idx;
    }
    return map;
}

xai_status xai_eltwise_init(xai_model *m, xai_node *n, const Onnx__NodeProto *np)
{
    static const char *const none[] = {NULL};
    xai_status st = xai_attr_only(m, np, none);
    if (st)
        return st;
    if (n->nin != 2 || n->in[0] < 0 || n->in[1] < 0)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (%s) needs two inputs", m->name, n->name, n->op_type);
    const xai_value *x = &m->vals[n->in[0]], *y = &m->vals[n->in[1]];
    if ((x->is_const && x->dtype != DT_F32) || (y->is_const && y->dtype != DT_F32))
        return xai_node_unsupported(m, n, "B", "integer operand in float arithmetic");
    bin_attr *a = calloc(1, sizeof *a);
    if (!a)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    n->attr = a;
    int nd = x->ndim > y->ndim ? x->ndim : y->ndim;
    for (int i = 0; i < nd; i++) {
        int ix = i - (nd - x->ndim), iy = i - (nd - y->ndim);
        int64_t dx = ix >= 0 ? x->shape[ix] : 1, dy = iy >= 0 ? y->shape[iy] : 1;
        if (dx != dy && dx != 1 && dy != 1)
            XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (%s): shapes do not broadcast", m->name, n->name, n->op_type);
        a->os[i] = dx == 1 ? dy : dx;
    }
    a->no = nd;
    xai_value *z = &m->vals[n->out[0]];
    z->ndim = nd;
    z->numel = 1;
    for (int i = 0; i < nd; i++) {
        if (a->os[i] > 0 && z->numel > ((int64_t)1 << 26) / a->os[i])
            XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s' (%s): output of more than 2^26 elements", m->name, n->name,
                     n->op_type);
        z->shape[i] = a->os[i];
        z->numel *= a->os[i];
    }
    if (!x->is_const && !y->is_const && (x->numel != z->numel && y->numel != z->numel))
        return xai_node_unsupported(m, n, "B", "both activation operands broadcast");
    a->ia = bmap(a, x);
    a->ib = bmap(a, y);
    if ((!a->ia && x->numel != z->numel) || (!a->ib && y->numel != z->numel))
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    return XAI_OK;
}

/* ---------------------------------------------------------------- BatchNormalization */

/* Training mode: normalise with the batch statistics of each channel (over the stack, the
   batch axis and the spatial axes) and update the running statistics (PyTorch: biased
   variance to normalise, unbiased in the running estimate). */
static void bn_batch_stats(const xai_model *m, const xai_node *n, const xai_workspace *ws, int64_t c, double *mean,
                           double *var, int64_t *count)
{
    const xai_bn_attr *a = n->attr;
    int64_t per = vnumel(m, n->in[0]);
    int64_t planes = per / a->inner * ws->ns;
    const float *x = ws->val[n->in[0]];
    double s = 0, s2 = 0;
    int64_t cnt = 0;
    for (int64_t p = c; p < planes; p += a->nch)
        for (int64_t k = 0; k < a->inner; k++) {
            double v = x[p * a->inner + k];
            s += v;
            s2 += v * v;
            cnt++;
        }
    double mu = cnt ? s / (double)cnt : 0.0;
    double vr = cnt ? s2 / (double)cnt - mu * mu : 0.0;
    *mean = mu;
    *var = vr > 0 ? vr : 0.0;
    *count = cnt;
}

/* Training mode works channel by channel (statistics, normalisation, running estimates, and
   in backward the parameter gradients); channels are independent, so the pool may split them. */
static int64_t bn_min_channels(const xai_model *m, const xai_node *n, const xai_workspace *ws)
{
    const xai_bn_attr *a = n->attr;
    int64_t per_ch = vnumel(m, n->in[0]) / (a->nch > 0 ? a->nch : 1) * ws->ns; /* elements per channel */
    int64_t k = ((int64_t)1 << 13) / (per_ch > 0 ? per_ch : 1);
    return k > 0 ? k : 1;
}

/* channels c0..c1-1 of a training-mode pass: forward (batch statistics, normalisation, running
   estimates) or backward (parameter gradients and the input gradient) */
static void bn_train_range(const xai_model *m, const xai_node *n, const xai_workspace *ws, int back, int64_t c0,
                           int64_t c1)
{
    const xai_bn_attr *a = n->attr;
    int64_t planes = vnumel(m, n->in[0]) / a->inner * ws->ns;
    const float *x = ws->val[n->in[0]];
    for (int64_t c = c0; c < c1; c++) {
        double mu, var;
        int64_t cnt;
        bn_batch_stats(m, n, ws, c, &mu, &var, &cnt);
        if (!back) {
            float *y = ws->val[n->out[0]];
            const float *g = m->vals[n->in[1]].f, *b = m->vals[n->in[2]].f;
            float *rm = m->vals[n->in[3]].f, *rv = m->vals[n->in[4]].f;
            float sc = (float)(g[c] / sqrt(var + a->eps)), sh = (float)(b[c] - mu * sc);
            for (int64_t p = c; p < planes; p += a->nch)
                for (int64_t k = 0; k < a->inner; k++)
                    y[p * a->inner + k] = x[p * a->inner + k] * sc + sh;
            float mom = ws->bn_momentum;
            rm[c] = (1 - mom) * rm[c] + mom * (float)mu;
            rv[c] = (1 - mom) * rv[c] + mom * (float)(cnt > 1 ? var * (double)cnt / (double)(cnt - 1) : var);
            continue;
        }
        const float *g = ws->adj[n->out[0]];
        float *dx = ws->adj[n->in[0]];
        const float *gam = m->vals[n->in[1]].f;
        double inv = 1.0 / sqrt(var + a->eps), sg = 0, sgx = 0;
        for (int64_t p = c; p < planes; p += a->nch)
            for (int64_t k = 0; k < a->inner; k++) {
                double gk = g[p * a->inner + k], xh = (x[p * a->inner + k] - mu) * inv;
                sg += gk;
                sgx += gk * xh;
            }
        if (n->pgrad[0])
            n->pgrad[0][c] += (float)sgx;
        if (n->pgrad[1])
            n->pgrad[1][c] += (float)sg;
        double mg = sg / (double)cnt, mgx = sgx / (double)cnt;
        for (int64_t p = c; p < planes; p += a->nch)
            for (int64_t k = 0; k < a->inner; k++) {
                double xh = (x[p * a->inner + k] - mu) * inv;
                dx[p * a->inner + k] += (float)(gam[c] * inv * (g[p * a->inner + k] - mg - xh * mgx));
            }
    }
}

static void bn_train_forward_ch(void *ctx, int64_t c0, int64_t c1, int tid)
{
    const act_job *j = ctx;
    (void)tid;
    bn_train_range(j->m, j->n, j->ws, 0, c0, c1);
}

static void bn_train_backward_ch(void *ctx, int64_t c0, int64_t c1, int tid)
{
    const act_job *j = ctx;
    (void)tid;
    bn_train_range(j->m, j->n, j->ws, 1, c0, c1);
}

static xai_status bn_forward(const xai_model *m, const xai_node *n, xai_workspace *ws)
{
    const xai_bn_attr *a = n->attr;
    int64_t per = vnumel(m, n->in[0]);
    int64_t planes = per / a->inner * ws->ns;
    const float *x = ws->val[n->in[0]];
    float *y = ws->val[n->out[0]];
    if (ws->training) {
        act_job j = {m, n, ws};
        xai_par_for(a->nch, bn_min_channels(m, n, ws), bn_train_forward_ch, &j);
        return XAI_OK;
    }
    for (int64_t p = 0; p < planes; p++) {
        int64_t c = p % a->nch;
        float sc = a->scale[c], sh = a->shift[c];
        for (int64_t k = 0; k < a->inner; k++)
            y[p * a->inner + k] = x[p * a->inner + k] * sc + sh;
    }
    return XAI_OK;
}

static xai_status bn_backward(const xai_model *m, const xai_node *n, xai_workspace *ws)
{
    const xai_bn_attr *a = n->attr;
    int64_t per = vnumel(m, n->in[0]);
    int64_t planes = per / a->inner * ws->ns;
    const float *g = ws->adj[n->out[0]];
    const float *x = ws->val[n->in[0]];
    float *dx = ws->adj[n->in[0]];
    if (ws->training) {
        act_job j = {m, n, ws};
        xai_par_for(a->nch, bn_min_channels(m, n, ws), bn_train_backward_ch, &j);
        return XAI_OK;
    }
    for (int64_t p = 0; p < planes; p++) {
        int64_t c = p % a->nch;
        float sc = a->scale[c];
        for (int64_t k = 0; k < a->inner; k++)
            dx[p * a->inner + k] += g[p * a->inner + k] * sc;
        if (n->pgrad[0] || n->pgrad[1]) {
            const float *mu = m->vals[n->in[3]].f, *rv = m->vals[n->in[4]].f;
            float inv = 1.0f / sqrtf(rv[c] + a->eps);
            for (int64_t k = 0; k < a->inner; k++) {
                if (n->pgrad[0])
                    n->pgrad[0][c] += g[p * a->inner + k] * (x[p * a->inner + k] - mu[c]) * inv;
                if (n->pgrad[1])
                    n->pgrad[1][c] += g[p * a->inner + k];
            }
        }
    }
    return XAI_OK;
}

void xai_bn_refresh(xai_node *n, const xai_model *m)
{
    xai_bn_attr *a = n->attr;
    const float *g = m->vals[n->in[1]].f, *b = m->vals[n->in[2]].f, *mu = m->vals[n->in[3]].f,
                *var = m->vals[n->in[4]].f;
    for (int64_t c = 0; c < a->nch; c++) {
        double sc = (double)g[c] / sqrt((double)var[c] + (double)a->eps);
        a->scale[c] = (float)sc;
        a->shift[c] = (float)((double)b[c] - (double)mu[c] * sc);
    }
}

static void bn_destroy(xai_node *n)
{
    xai_bn_attr *a = n->attr;
    if (a) {
        free(a->scale);
        free(a->shift);
    }
    free(a);
}

const xai_op_vtable xai_bn_ops = {"BatchNormalization", bn_forward, bn_backward, pass_relevance, bn_destroy};

xai_status xai_bn_init(xai_model *m, xai_node *n, const Onnx__NodeProto *np)
{
    static const char *const known[] = {"epsilon", "momentum", "training_mode", "spatial", NULL};
    xai_status st = xai_attr_only(m, np, known);
    if (st)
        return st;
    int64_t tm;
    float eps;
    if ((st = xai_attr_int(m, np, "training_mode", 0, &tm)) || (st = xai_attr_float(m, np, "epsilon", 1e-5f, &eps)))
        return st;
    if (tm)
        return xai_node_unsupported(m, n, "training_mode", "training mode at inference");
    if (n->nin != 5 || n->in[0] < 0)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (BatchNormalization) needs 5 inputs", m->name, n->name);
    const xai_value *x = &m->vals[n->in[0]];
    if (x->is_const || x->ndim < 2)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (BatchNormalization): bad input", m->name, n->name);
    int64_t C = x->shape[1];
    for (int k = 1; k < 5; k++) {
        const xai_value *p = n->in[k] >= 0 ? &m->vals[n->in[k]] : NULL;
        if (!p || !p->is_const || p->dtype != DT_F32 || p->numel != C)
            return xai_node_unsupported(m, n, k == 1 ? "scale" : k == 2 ? "B" : k == 3 ? "mean" : "var",
                                        "must be a float initializer with one value per channel");
    }
    xai_bn_attr *a = calloc(1, sizeof *a);
    if (!a)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    n->attr = a;
    a->nch = C;
    a->inner = x->numel / (x->shape[0] * C);
    a->scale = malloc(sizeof(float) * (size_t)C);
    a->shift = malloc(sizeof(float) * (size_t)C);
    if (!a->scale || !a->shift)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    a->eps = eps;
    xai_bn_refresh(n, m);
    xai_value *y = &m->vals[n->out[0]];
    y->ndim = x->ndim;
    memcpy(y->shape, x->shape, sizeof y->shape);
    y->numel = x->numel;
    return XAI_OK;
}
