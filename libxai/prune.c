/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * prune.c - structured pruning: which Conv/Gemm/MatMul units can go, their scores under LRP
 * (Yeom et al. 2021), weight L1 (Li et al. 2017), gradient (Sun et al. 2017) and first-order
 * Taylor (Molchanov et al. 2017) criteria, the choice of units to keep, and the ONNX model with
 * those units zeroed or physically removed. The edits work on the model's ONNX message
 * (current weights, BatchNormalization kept), so the result opens in any ONNX runtime.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"
#include "lrp-int.h"
#include "onnx-edit.h"
#include "xai/prune.h"

#define MAX_EDITS 8
#define MAX_CHAIN 64

/* An initializer whose axis holds a layer's channels, each in @c block consecutive entries. */
typedef struct {
    const char *tensor;   /* borrowed from the plan's message */
    int axis;
    int64_t block;
    int zero;             /* masking zeroes it; removal always shortens it */
} edit;

typedef struct {
    const char *name;     /* node name (borrowed) */
    const char *value;    /* the layer's output tensor (borrowed) */
    int64_t nch;
    edit own[MAX_EDITS];  /* W, bias, BN scale, shift, mean, variance */
    int nown;
    edit next;            /* the consumer's input weights */
} layer;

struct xai_prune_plan {
    Onnx__ModelProto *mp;
    layer *l;
    int nl;
    int64_t total;
    xai_prune_units units; /* ALL or CONV, never AUTO */
};

static const char *const crit_names[XAI_PRUNE_COUNT] = {"lrp",    "weight",         "gradient",
                                                         "taylor", "gradient-logit", "taylor-logit"};

const char *xai_prune_criterion_name(xai_prune_criterion c)
{
    return (unsigned)c < XAI_PRUNE_COUNT ? crit_names[c] : "?";
}

xai_status xai_prune_criterion_parse(const char *s, xai_prune_criterion *c)
{
    for (int i = 0; s && i < XAI_PRUNE_COUNT; i++)
        if (strcmp(s, crit_names[i]) == 0) {
            *c = (xai_prune_criterion)i;
            return XAI_OK;
        }
    return xai_error_set(XAI_EINVAL, "unknown pruning criterion '%s' (lrp, weight, gradient, taylor, "
                         "gradient-logit, taylor-logit)",
                         s ? s : "(null)");
}

/* ---- finding the prunable layers in the ONNX graph ---------------------------------- */

/* The one node reading tensor @p t, or NULL when none, several, or it is a graph output. */
static Onnx__NodeProto *sole_consumer(const Onnx__GraphProto *g, const char *t)
{
    Onnx__NodeProto *c = NULL;
    int uses = 0;
    for (size_t i = 0; i < g->n_node; i++)
        for (size_t k = 0; k < g->node[i]->n_input; k++)
            if (g->node[i]->input[k] && strcmp(g->node[i]->input[k], t) == 0) {
                c = g->node[i];
                uses++;
            }
    for (size_t i = 0; i < g->n_output; i++)
        uses += g->output[i]->name && strcmp(g->output[i]->name, t) == 0 ? 2 : 0;
    return uses == 1 ? c : NULL;
}

/* A float initializer input @p k of @p n with @p ndim axes (0: any), or NULL. */
static Onnx__TensorProto *weight_of(const Onnx__GraphProto *g, const Onnx__NodeProto *n, size_t k, size_t ndim)
{
    if (n->n_input <= k || !n->input[k])
        return NULL;
    Onnx__TensorProto *t = xai_onnx_init(g, n->input[k], NULL);
    if (!t || t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || (ndim && t->n_dims != ndim))
        return NULL;
    return t;
}

static int add_edit(layer *L, const Onnx__TensorProto *t, int axis, int zero)
{
    if (L->nown == MAX_EDITS)
        return 0;
    L->own[L->nown++] = (edit){t->name, axis, 1, zero};
    return 1;
}

/* The input side of a consumer that reads the channels as features: Gemm (B as [out, in]
   with transB, else [in, out]) or MatMul ([in, out]). */
static int dense_input(const Onnx__GraphProto *g, const Onnx__NodeProto *c, const char *t, int64_t width,
                       int64_t block, edit *e)
{
    int gemm = xai_onnx_op_is(c, "Gemm");
    if (!(gemm || xai_onnx_op_is(c, "MatMul")) || strcmp(c->input[0], t) != 0 ||
        (gemm && xai_onnx_attr_i(c, "transA", 0)))
        return 0;
    Onnx__TensorProto *w = weight_of(g, c, 1, 2);
    int axis = gemm && xai_onnx_attr_i(c, "transB", 0) ? 1 : 0;
    if (!w || w->dims[axis] != width * block)
        return 0;
    *e = (edit){w->name, axis, block, 0};
    return 1;
}

static int passes_channels(const Onnx__NodeProto *c)
{
    static const char *const ops[] = {"Relu", "LeakyRelu", "Elu", "Tanh", "MaxPool", "AveragePool",
                                      "GlobalAveragePool", "Dropout", "Identity"};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (xai_onnx_op_is(c, ops[i]))
            return 1;
    return 0;
}

/* per-position operators that keep zero at zero */
static int elementwise(const Onnx__NodeProto *c)
{
    static const char *const ops[] = {"Relu", "LeakyRelu", "Elu", "Tanh", "Dropout", "Identity"};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (xai_onnx_op_is(c, ops[i]))
            return 1;
    return 0;
}

/* Follow the layer's channels from L->value to the layer that reads them; 1 when found. */
static int follow(const xai_model *m, const Onnx__GraphProto *g, layer *L)
{
    const char *t = L->value;
    for (int step = 0; step < MAX_CHAIN; step++) {
        Onnx__NodeProto *c = sole_consumer(g, t);
        if (!c || c->n_output < 1 || strcmp(c->input[0], t) != 0)
            return 0;
        if (xai_onnx_op_is(c, "BatchNormalization")) {
            for (size_t k = 1; k <= 4; k++) {
                Onnx__TensorProto *p = weight_of(g, c, k, 1);
                if (!p || p->dims[0] != L->nch || !add_edit(L, p, 0, k <= 2))
                    return 0;
            }
        } else if (xai_onnx_op_is(c, "Conv")) {
            Onnx__TensorProto *w = weight_of(g, c, 1, 0);
            if (!w || w->n_dims < 3 || w->dims[1] != L->nch || xai_onnx_attr_i(c, "group", 1) != 1)
                return 0;
            L->next = (edit){w->name, 1, 1, 0};
            return 1;
        } else if (xai_onnx_op_is(c, "Flatten") || xai_onnx_op_is(c, "Reshape")) {
            int v = xai_model_find_value(m, t);
            const char *ft = c->output[0];
            Onnx__NodeProto *d = sole_consumer(g, ft);
            /* element-wise operators between the flattening and the dense layer (dropout(0.5)
               after flatten, as the EEG and gait apps build it) keep each position's zero; the
               read-out's reference (Sub of a constant per position) does once its entries of the
               removed channels are zeroed or removed too */
            int64_t block = v < 0 ? 0 : m->vals[v].numel / L->nch;
            for (int k = 0; d && k < MAX_CHAIN && d->n_output >= 1 && !strcmp(d->input[0], ft); k++) {
                Onnx__TensorProto *r = xai_onnx_op_is(d, "Sub") ? weight_of(g, d, 1, 1) : NULL;
                if (!elementwise(d) && !(r && r->dims[0] == L->nch * block && L->nown < MAX_EDITS))
                    break;
                if (r)
                    L->own[L->nown++] = (edit){r->name, 0, block, 1};
                d = sole_consumer(g, ft = d->output[0]);
            }
            if (v < 0 || (xai_onnx_op_is(c, "Flatten") && xai_onnx_attr_i(c, "axis", 1) != 1) || !d)
                return 0;
            return dense_input(g, d, ft, L->nch, m->vals[v].numel / L->nch, &L->next);
        } else if (!passes_channels(c)) {
            return dense_input(g, c, t, L->nch, 1, &L->next);
        }
        t = c->output[0];
    }
    return 0;
}

/* The units and own weights of node @p n when it is a Conv, Gemm or MatMul(+Add). */
static int own_weights(const Onnx__GraphProto *g, const Onnx__NodeProto *n, layer *L)
{
    Onnx__TensorProto *w, *b = NULL;
    if (xai_onnx_op_is(n, "Conv") && (w = weight_of(g, n, 1, 0)) && w->n_dims >= 3 &&
        xai_onnx_attr_i(n, "group", 1) == 1) {
        L->nch = w->dims[0];
        add_edit(L, w, 0, 1);
        b = weight_of(g, n, 2, 1);
    } else if (xai_onnx_op_is(n, "Gemm") && (w = weight_of(g, n, 1, 2)) && !xai_onnx_attr_i(n, "transA", 0)) {
        int tb = xai_onnx_attr_i(n, "transB", 0) != 0;
        L->nch = w->dims[tb ? 0 : 1];
        add_edit(L, w, tb ? 0 : 1, 1);
        b = weight_of(g, n, 2, 1);
    } else if (xai_onnx_op_is(n, "MatMul") && (w = weight_of(g, n, 1, 2))) {
        L->nch = w->dims[1];
        add_edit(L, w, 1, 1);
        Onnx__NodeProto *a = sole_consumer(g, n->output[0]);
        if (a && xai_onnx_op_is(a, "Add") && a->n_input == 2 && strcmp(a->input[0], n->output[0]) == 0 &&
            (b = weight_of(g, a, 1, 1)))
            L->value = a->output[0];
    } else {
        return 0;
    }
    if (b && (b->dims[0] != L->nch || !add_edit(L, b, 0, 1)))
        return 0;
    return L->nch > 1;
}

static int analyse(const xai_model *m, const Onnx__GraphProto *g, const Onnx__NodeProto *n, xai_prune_units units,
                   layer *L)
{
    memset(L, 0, sizeof *L);
    if (!n->name || !*n->name || n->n_output < 1 || (units == XAI_PRUNE_UNITS_CONV && !xai_onnx_op_is(n, "Conv")))
        return 0;
    L->name = n->name;
    L->value = n->output[0];
    if (!own_weights(g, n, L) || !follow(m, g, L))
        return 0;
    int v = xai_model_find_value(m, L->value);
    return v >= 0 && !m->vals[v].is_const;
}

xai_status xai_prune_plan_new(const xai_model *m, xai_prune_plan **out)
{
    return xai_prune_plan_new_units(m, XAI_PRUNE_UNITS_ALL, out);
}

xai_status xai_prune_plan_new_units(const xai_model *m, xai_prune_units units, xai_prune_plan **out)
{
    if (units == XAI_PRUNE_UNITS_AUTO) {
        xai_status st = xai_prune_plan_new_units(m, XAI_PRUNE_UNITS_CONV, out);
        return st == XAI_EINVAL ? xai_prune_plan_new_units(m, XAI_PRUNE_UNITS_ALL, out) : st;
    }
    xai_export_options eo = {.keep_bn = 1};
    *out = NULL;
    xai_prune_plan *p = calloc(1, sizeof *p);
    if (!p)
        XAI_FAIL(XAI_ENOMEM, "prune: out of memory");
    p->units = units;
    xai_status st = xai_export_proto(m, &eo, &p->mp);
    const Onnx__GraphProto *g = st ? NULL : p->mp->graph;
    if (g && !(p->l = calloc(g->n_node ? g->n_node : 1, sizeof *p->l)))
        st = xai_error_set(XAI_ENOMEM, "prune: out of memory");
    for (size_t i = 0; !st && i < g->n_node; i++)
        if (analyse(m, g, g->node[i], units, &p->l[p->nl])) {
            p->total += p->l[p->nl].nch;
            p->nl++;
        }
    if (!st && p->nl == 0)
        st = xai_error_set(XAI_EINVAL, "prune: %s has no prunable layer (a %s whose channels reach exactly "
                           "one later Conv, Gemm or MatMul through per-channel operators)",
                           m->name ? m->name : "the model",
                           units == XAI_PRUNE_UNITS_CONV ? "Conv" : "Conv, Gemm or MatMul");
    if (st) {
        xai_prune_plan_free(p);
        return st;
    }
    *out = p;
    return XAI_OK;
}

void xai_prune_plan_free(xai_prune_plan *p)
{
    if (!p)
        return;
    if (p->mp)
        onnx__model_proto__free_unpacked(p->mp, NULL);
    free(p->l);
    free(p);
}

int xai_prune_nlayers(const xai_prune_plan *p) { return p->nl; }
const char *xai_prune_layer_name(const xai_prune_plan *p, int l) { return l >= 0 && l < p->nl ? p->l[l].name : NULL; }
int64_t xai_prune_layer_units(const xai_prune_plan *p, int l) { return l >= 0 && l < p->nl ? p->l[l].nch : 0; }
int64_t xai_prune_total_units(const xai_prune_plan *p) { return p->total; }
xai_prune_units xai_prune_plan_units(const xai_prune_plan *p) { return p->units; }

/* ---- scores ------------------------------------------------------------------------- */

/* L1 norm of each unit's weights (Li et al. 2017). */
static xai_status weight_scores(const xai_prune_plan *p, const layer *L, double *s)
{
    const edit *e = &L->own[0];
    const Onnx__TensorProto *t = xai_onnx_init(p->mp->graph, e->tensor, NULL);
    int64_t n, outer = 1, inner = 1;
    float *w = t ? xai_onnx_floats(t, &n) : NULL;
    if (!w)
        XAI_FAIL(XAI_EFORMAT, "prune: cannot read the weights '%s'", e->tensor);
    for (size_t k = 0; k < t->n_dims; k++)
        if ((int)k < e->axis)
            outer *= t->dims[k];
        else if ((int)k > e->axis)
            inner *= t->dims[k];
    memset(s, 0, sizeof(double) * (size_t)L->nch);
    for (int64_t a = 0; a < outer; a++)
        for (int64_t c = 0; c < L->nch; c++)
            for (int64_t i = 0; i < inner; i++)
                s[c] += fabs(w[(a * L->nch + c) * inner + i]);
    free(w);
    return XAI_OK;
}

/* The layer's output laid out as [n][nch][inner]: inner via @p inner, or an error. */
static xai_status channel_layout(const xai_model *m, const layer *L, int *v, int64_t *inner)
{
    *v = xai_model_find_value(m, L->value);
    const xai_value *val = &m->vals[*v];
    int64_t axis = val->ndim >= 2 ? 1 : 0;
    *inner = 1;
    for (int k = (int)axis + 1; k < val->ndim; k++)
        *inner *= val->shape[k];
    if (val->shape[axis] != L->nch || val->numel != L->nch * *inner)
        XAI_FAIL(XAI_EUNSUPPORTED, "prune: the activation of '%s' is not laid out as channels", L->name);
    return XAI_OK;
}

/*
 * The LRP criterion of Yeom et al. (Pattern Recognition 115, 2021) and of their reference
 * code: each sample explained from its true class with relevance 1 there (one-hot), batch
 * norm passed as identity rather than folded, epsilon for dense layers and z+ = alpha1-beta0
 * without the bias for convolutions (by default: composite epsilon-plus, Conv=zplus-nobias);
 * a unit's score is the sum of |R| over its output positions, averaged over the samples.
 * |R| per position, not |sum R|: opposite signs within a filter's map do not cancel. Dead
 * units score 0 and go first.
 */
static xai_status lrp_scores(const xai_model *m, const layer *L, const xai_explain_config *lrp, int64_t n,
                             const float *x, const int *y, double *s)
{
    xai_explain_config cfg;
    if (lrp) {
        cfg = *lrp;
    } else {
        xai_explain_config_init(&cfg);
        cfg.composite = "epsilon-plus";
        cfg.rules = XAI_PRUNE_LRP_RULES;
        cfg.bn = XAI_BN_PASS;
    }
    cfg.method = XAI_METHOD_LRP;
    cfg.init = XAI_INIT_ONEHOT;
    cfg.targets = y;
    cfg.target = -1;
    int v;
    int64_t inner;
    xai_status st = channel_layout(m, L, &v, &inner);
    if (st)
        return st;
    int64_t per = m->vals[v].numel;
    float *r = malloc(sizeof(float) * (size_t)(n * per));
    if (!r)
        XAI_FAIL(XAI_ENOMEM, "prune: out of memory");
    st = xai_explain_value(m, &cfg, n, x, L->value, r, NULL);
    for (int64_t c = 0; !st && c < L->nch; c++) {
        double acc = 0;
        for (int64_t k = 0; k < n; k++)
            for (int64_t i = 0; i < inner; i++)
                acc += fabs(r[k * per + c * inner + i]);
        s[c] = acc / (double)n;
    }
    free(r);
    return st;
}

/* The layer's activations over all samples, as xai_graph_forward() leaves them. */
static xai_status activations(const xai_model *m, int v, int64_t n, const float *x, float *a)
{
    xai_workspace *ws;
    int64_t nin = m->vals[m->input].numel, per = m->vals[v].numel, B = n < 64 ? n : 64;
    xai_status st = xai_workspace_new(m, B, &ws);
    for (int64_t b0 = 0; !st && b0 < n; b0 += B) {
        int64_t nb = n - b0 < B ? n - b0 : B;
        st = xai_graph_forward(m, ws, nb, x + b0 * nin);
        if (!st)
            memcpy(a + b0 * per, ws->val[v], sizeof(float) * (size_t)(nb * per));
    }
    if (ws)
        xai_workspace_free(ws);
    return st;
}

/* Per-sample logit gradient (mean of sum |g|) or Taylor (mean of |mean a g|) per unit. */
static xai_status grad_scores(const xai_model *m, const layer *L, int taylor, int64_t n, const float *x, const int *y,
                              double *s)
{
    int v;
    int64_t inner;
    xai_status st = channel_layout(m, L, &v, &inner);
    if (st)
        return st;
    int64_t per = m->vals[v].numel;
    float *g = malloc(sizeof(float) * (size_t)(n * per)), *a = taylor ? malloc(sizeof(float) * (size_t)(n * per)) : NULL;
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    cfg.method = XAI_METHOD_GRADIENT;
    cfg.init = XAI_INIT_ONEHOT;
    cfg.targets = y;
    st = !g || (taylor && !a) ? xai_error_set(XAI_ENOMEM, "prune: out of memory")
                              : xai_explain_value(m, &cfg, n, x, L->value, g, NULL);
    if (!st && taylor)
        st = activations(m, v, n, x, a);
    for (int64_t c = 0; !st && c < L->nch; c++) {
        s[c] = 0;
        for (int64_t k = 0; k < n; k++) {
            const float *gk = g + k * per + c * inner, *ak = a ? a + k * per + c * inner : NULL;
            double acc = 0;
            for (int64_t i = 0; i < inner; i++)
                acc += taylor ? (double)ak[i] * gk[i] : fabs(gk[i]);
            s[c] += (taylor ? fabs(acc / (double)inner) : acc) / (double)n;
        }
    }
    free(g);
    free(a);
    return st;
}

/* dL/dz = softmax(z) - onehot(y) of one sample's cross-entropy L, into g; y < 0: the argmax */
static void xent_grad(const float *z, int64_t nc, int y, float *g)
{
    double mx = z[0], se = 0;
    int am = 0;
    for (int64_t c = 1; c < nc; c++)
        if (z[c] > mx)
            mx = z[c], am = (int)c;
    for (int64_t c = 0; c < nc; c++)
        se += exp(z[c] - mx);
    for (int64_t c = 0; c < nc; c++)
        g[c] = (float)(exp(z[c] - mx) / se - (c == (y >= 0 ? y : am)));
}

/* Add, per unit of every layer, the sum over the batch's samples and positions of dL/da
   (gradient) or a dL/da (Taylor) into acc, from the forward and backward pass left on ws. */
static void loss_accumulate(const xai_prune_plan *p, const xai_model *m, const xai_workspace *ws, int taylor,
                            double *acc)
{
    for (int l = 0; l < p->nl; l++) {
        const layer *L = &p->l[l];
        int v = xai_model_find_value(m, L->value);
        int64_t per = m->vals[v].numel, inner = per / L->nch;
        for (int64_t k = 0; k < ws->ns; k++)
            for (int64_t c = 0; c < L->nch; c++) {
                const float *g = ws->adj[v] + k * per + c * inner, *a = ws->val[v] + k * per + c * inner;
                double t = 0;
                for (int64_t i = 0; i < inner; i++)
                    t += taylor ? (double)a[i] * g[i] : g[i];
                acc[c] += t;
            }
        acc += L->nch;
    }
}

/*
 * The gradient and Taylor criteria as Yeom et al.'s reference code computes them (after
 * Molchanov et al. 2017): the gradient of the cross-entropy loss at each sample's label, summed
 * (or a g summed) over the samples and the unit's output positions, divided by their number,
 * then the absolute value. Signs cancel across samples before |.|, unlike the per-sample logit
 * variants. One forward and one backward pass per batch serve every layer.
 */
static xai_status loss_scores(const xai_prune_plan *p, const xai_model *m, int taylor, int64_t n, const float *x,
                              const int *y, double *s)
{
    int64_t nin = m->vals[m->input].numel, nc = m->vals[m->output].numel, B = n < 64 ? n : 64;
    xai_workspace *ws = NULL;
    xai_status st = XAI_OK;
    for (int l = 0; l < p->nl && !st; l++) {
        int v;
        int64_t inner;
        st = channel_layout(m, &p->l[l], &v, &inner);
    }
    if (!st)
        st = xai_workspace_new(m, B, &ws);
    memset(s, 0, sizeof(double) * (size_t)p->total);
    for (int64_t b0 = 0; !st && b0 < n; b0 += B) {
        int64_t nb = n - b0 < B ? n - b0 : B;
        if ((st = xai_graph_forward(m, ws, nb, x + b0 * nin)))
            break;
        xai_ws_clear_adj(ws);
        for (int64_t k = 0; k < nb; k++)
            xent_grad(ws->val[m->output] + k * nc, nc, y ? y[b0 + k] : -1, ws->adj[m->output] + k * nc);
        if (!(st = xai_lrp_sweep_nodes(m, ws, NULL, m->nnodes - 1, 0)))
            loss_accumulate(p, m, ws, taylor, s);
    }
    xai_workspace_free(ws);
    for (int l = 0, off = 0; !st && l < p->nl; off += (int)p->l[l++].nch) {
        double per = (double)n * (double)(m->vals[xai_model_find_value(m, p->l[l].value)].numel / p->l[l].nch);
        for (int64_t c = 0; c < p->l[l].nch; c++)
            s[off + c] = fabs(s[off + c]) / per;
    }
    return st;
}

xai_status xai_prune_score(const xai_prune_plan *p, const xai_model *m, xai_prune_criterion c,
                           const xai_explain_config *lrp, int64_t n, const float *x, const int *y, double *scores)
{
    if (!p || !m || !scores || (unsigned)c >= XAI_PRUNE_COUNT)
        XAI_FAIL(XAI_EINVAL, "prune: bad arguments");
    if (c != XAI_PRUNE_WEIGHT && (n < 1 || !x))
        XAI_FAIL(XAI_EINVAL, "prune: the %s criterion needs reference samples", crit_names[c]);
    for (int64_t k = 0; y && k < n; k++)
        if (y[k] < -1 || y[k] >= xai_model_output_numel(m))
            XAI_FAIL(XAI_EINVAL, "prune: sample %lld has class %d, outside 0..%lld", (long long)k, y[k],
                     (long long)xai_model_output_numel(m) - 1);
    if (c == XAI_PRUNE_GRADIENT || c == XAI_PRUNE_TAYLOR)
        return loss_scores(p, m, c == XAI_PRUNE_TAYLOR, n, x, y, scores);
    xai_status st = XAI_OK;
    for (int l = 0; l < p->nl && !st; l++) {
        const layer *L = &p->l[l];
        if (c == XAI_PRUNE_WEIGHT)
            st = weight_scores(p, L, scores);
        else if (c == XAI_PRUNE_LRP)
            st = lrp_scores(m, L, lrp, n, x, y, scores);
        else
            st = grad_scores(m, L, c == XAI_PRUNE_TAYLOR_LOGIT, n, x, y, scores);
        scores += L->nch;
    }
    return st;
}

/* ---- choosing the units to keep ------------------------------------------------------ */

typedef struct {
    double s;
    int64_t i;
} ranked;

static int by_score(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->s != y->s)
        return x->s < y->s ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Prune the @p k lowest of @p r (n entries) while each layer keeps a unit. */
static int64_t prune_lowest(const xai_prune_plan *p, ranked *r, int64_t n, int64_t k, unsigned char *keep)
{
    int64_t *left = malloc(sizeof(int64_t) * (size_t)p->nl), done = 0;
    if (!left)
        return -1;
    qsort(r, (size_t)n, sizeof *r, by_score);
    for (int l = 0; l < p->nl; l++)
        left[l] = p->l[l].nch;
    for (int64_t j = 0; j < n && done < k; j++) {
        int64_t i = r[j].i, off = 0;
        int l = 0;
        while (i >= off + p->l[l].nch)
            off += p->l[l++].nch;
        if (left[l] > 1) {
            keep[i] = 0;
            left[l]--;
            done++;
        }
    }
    free(left);
    return done;
}

xai_prune_norm xai_prune_criterion_norm(xai_prune_criterion c)
{
    return c == XAI_PRUNE_LRP || c == XAI_PRUNE_WEIGHT ? XAI_PRUNE_NORM_L1 : XAI_PRUNE_NORM_L2;
}

/* the L1 or L2 norm of a layer's n scores */
static double layer_norm(const double *s, int64_t n, xai_prune_norm norm)
{
    double acc = 0;
    for (int64_t c = 0; c < n; c++)
        acc += norm == XAI_PRUNE_NORM_L2 ? s[c] * s[c] : fabs(s[c]);
    return norm == XAI_PRUNE_NORM_L2 ? sqrt(acc) : acc;
}

xai_status xai_prune_select(const xai_prune_plan *p, const double *scores, double rate, int global,
                            unsigned char *keep, int64_t *npruned)
{
    return xai_prune_select_norm(p, scores, rate, global, XAI_PRUNE_NORM_L1, keep, npruned);
}

xai_status xai_prune_select_norm(const xai_prune_plan *p, const double *scores, double rate, int global,
                                 xai_prune_norm norm, unsigned char *keep, int64_t *npruned)
{
    if (norm != XAI_PRUNE_NORM_L1 && norm != XAI_PRUNE_NORM_L2)
        XAI_FAIL(XAI_EINVAL, "prune: unknown norm %d", (int)norm);
    if (!p || !scores || !keep || !(rate >= 0 && rate < 1))
        XAI_FAIL(XAI_EINVAL, "prune: the rate must be in [0, 1)");
    ranked *r = malloc(sizeof(ranked) * (size_t)p->total);
    if (!r)
        XAI_FAIL(XAI_ENOMEM, "prune: out of memory");
    memset(keep, 1, (size_t)p->total);
    int64_t done = 0, off = 0;
    for (int l = 0; l < p->nl; l++) {
        double nrm = layer_norm(scores + off, p->l[l].nch, norm);
        for (int64_t c = 0; c < p->l[l].nch; c++)
            r[off + c] = (ranked){global && nrm > 0 ? scores[off + c] / nrm : scores[off + c], off + c};
        if (!global)
            done += prune_lowest(p, r + off, p->l[l].nch, (int64_t)floor(rate * (double)p->l[l].nch + 1e-9), keep);
        off += p->l[l].nch;
    }
    if (global)
        done = prune_lowest(p, r, p->total, (int64_t)floor(rate * (double)p->total + 1e-9), keep);
    free(r);
    if (done < 0)
        XAI_FAIL(XAI_ENOMEM, "prune: out of memory");
    if (npruned)
        *npruned = done;
    return XAI_OK;
}

/* ---- writing the pruned model -------------------------------------------------------- */

/* Zero or drop the channels of @p e that @p keep (nch flags) does not keep. 0 or -1. */
static int apply_edit(Onnx__GraphProto *g, const edit *e, const unsigned char *keep, int64_t nch, int physical)
{
    Onnx__TensorProto *t = xai_onnx_init(g, e->tensor, NULL);
    int64_t n, outer = 1, inner = 1, kept = 0, o = 0;
    float *x = t ? xai_onnx_floats(t, &n) : NULL;
    if (!x || t->dims[e->axis] != nch * e->block) {
        free(x);
        return -1;
    }
    for (size_t k = 0; k < t->n_dims; k++)
        if ((int)k < e->axis)
            outer *= t->dims[k];
        else if ((int)k > e->axis)
            inner *= t->dims[k];
    for (int64_t c = 0; c < nch; c++)
        kept += keep[c] != 0;
    float *y = malloc(sizeof(float) * (size_t)(n ? n : 1));
    for (int64_t a = 0; y && a < outer; a++)
        for (int64_t j = 0; j < nch * e->block; j++) {
            const float *src = x + (a * nch * e->block + j) * inner;
            if (keep[j / e->block])
                memcpy(y + o, src, sizeof(float) * (size_t)inner);
            else if (!physical)
                memset(y + o, 0, sizeof(float) * (size_t)inner);
            o += keep[j / e->block] || !physical ? inner : 0;
        }
    int rc = y ? xai_onnx_set_floats(t, y, o) : -1;
    if (rc == 0 && physical)
        t->dims[e->axis] = kept * e->block;
    free(x);
    free(y);
    return rc;
}

/* Shapes recorded for intermediate tensors no longer hold once channels go. */
static void drop_value_info(Onnx__GraphProto *g)
{
    for (size_t i = 0; i < g->n_value_info; i++)
        onnx__value_info_proto__free_unpacked(g->value_info[i], NULL);
    free(g->value_info);
    g->value_info = NULL;
    g->n_value_info = 0;
}

static xai_status pack(Onnx__ModelProto *mp, void **bytes, size_t *len)
{
    size_t sz = onnx__model_proto__get_packed_size(mp);
    uint8_t *buf = malloc(sz ? sz : 1);
    if (!buf)
        XAI_FAIL(XAI_ENOMEM, "prune: out of memory (%zu bytes)", sz);
    *len = onnx__model_proto__pack(mp, buf);
    *bytes = buf;
    return XAI_OK;
}

xai_status xai_prune_write(const xai_prune_plan *p, const unsigned char *keep, int physical, void **bytes,
                           size_t *len)
{
    if (!p || !keep || !bytes || !len)
        XAI_FAIL(XAI_EINVAL, "prune: bad arguments");
    void *orig = NULL;
    size_t olen = 0;
    xai_status st = pack(p->mp, &orig, &olen);
    if (st)
        return st;
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, olen, orig);
    free(orig);
    if (!mp)
        XAI_FAIL(XAI_ENOMEM, "prune: cannot copy the model");
    int rc = 0;
    for (int l = 0, off = 0; l < p->nl && !rc; off += (int)p->l[l].nch, l++) {
        const layer *L = &p->l[l];
        for (int k = 0; k < L->nown && !rc; k++)
            if (physical || L->own[k].zero)
                rc = apply_edit(mp->graph, &L->own[k], keep + off, L->nch, physical);
        if (physical && !rc)
            rc = apply_edit(mp->graph, &L->next, keep + off, L->nch, 1);
    }
    if (physical)
        drop_value_info(mp->graph);
    st = rc ? xai_error_set(XAI_ENOMEM, "prune: cannot rewrite the weights") : pack(mp, bytes, len);
    onnx__model_proto__free_unpacked(mp, NULL);
    return st;
}

xai_status xai_model_cost(const xai_model *m, int64_t *params, int64_t *flops)
{
    int64_t np = 0, nf = 0;
    for (int v = 0; v < m->nvals; v++)
        if (m->vals[v].is_const && m->vals[v].producer < 0 && m->vals[v].dtype == DT_F32 &&
            m->vals[v].nconsumers > 0)
            np += m->vals[v].numel;
    for (int i = 0; i < m->nnodes; i++) {
        const xai_linear *l = m->nodes[i].is_linear ? xai_node_linear(&m->nodes[i]) : NULL;
        if (l && l->nout_ch > 0)
            nf += 2 * l->out_numel * (l->wlen / l->nout_ch);
    }
    if (params)
        *params = np;
    if (flops)
        *flops = nf;
    return XAI_OK;
}
