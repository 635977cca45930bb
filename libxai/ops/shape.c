/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * shape.c - data movement: Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Slice,
 * Gather, Pad (constant), Identity, Dropout (inference) and Concat.
 * Single-input ops precompute a per-sample index map out[k] = in[map[k]] (-1 = the pad
 * value), so forward is a gather and backward/relevance a scatter-add: relevance moves
 * back with the data (plain gradient), as in Zennit.
 */
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"

typedef struct {
    int64_t *map;        /* NULL: identity layout (reshape family) */
    float fill;
    float drop_ratio;    /* Dropout: probability of zeroing in training mode */
    /* Concat */
    int64_t outer, inner_out;
    int64_t inner[8];
} mv_attr;

/* Inverted dropout: the mask is a hash of the step seed, the node and the element, so the
   backward pass sees the same mask without storing it. The node is its output's value index:
   fixed by the file's order, so a model file trains the same with the same seed; the golden-ratio
   stride keeps two layers' element streams apart (no shift of one is the other's) and the final
   hash leaves their masks uncorrelated. */
static int drop_kept(const xai_workspace *ws, const xai_node *n, int64_t k, float p)
{
    uint64_t h = xai_hash64(ws->drop_seed ^ xai_hash64((uint64_t)(uintptr_t)n->out[0] * 0x9e3779b97f4a7c15ull + (uint64_t)k));
    double u = (double)(h >> 11) / 9007199254740992.0;
    return u >= p;
}

static xai_status mv_forward(const xai_model *m, const xai_node *n, xai_workspace *ws)
{
    const mv_attr *a = n->attr;
    int64_t no = vnumel(m, n->out[0]);
    float *y = ws->val[n->out[0]];
    if (n->kind == K_CONCAT) {
        for (int64_t s = 0; s < ws->ns; s++) {
            int64_t off = 0;
            for (int i = 0; i < n->nin; i++) {
                int v = n->in[i];
                const float *x = vconst(m, v) ? ws->val[v] : ws->val[v] + s * vnumel(m, v);
                for (int64_t p = 0; p < a->outer; p++)
                    memcpy(y + s * no + p * a->inner_out + off, x + p * a->inner[i], sizeof(float) * (size_t)a->inner[i]);
                off += a->inner[i];
            }
        }
        return XAI_OK;
    }
    const float *x = ws->val[n->in[0]];
    int64_t ni = vnumel(m, n->in[0]);
    if (ws->training && a->drop_ratio > 0.0f) {
        float keep = 1.0f / (1.0f - a->drop_ratio);
        for (int64_t k = 0; k < no * ws->ns; k++)
            y[k] = drop_kept(ws, n, k, a->drop_ratio) ? x[k] * keep : 0.0f;
        return XAI_OK;
    }
    if (!a->map) {
        memcpy(y, x, sizeof(float) * (size_t)(no * ws->ns));
        return XAI_OK;
    }
    for (int64_t s = 0; s < ws->ns; s++)
        for (int64_t k = 0; k < no; k++) {
            int64_t i = a->map[k];
            y[s * no + k] = i >= 0 ? x[s * ni + i] : a->fill;
        }
    return XAI_OK;
}

static xai_status mv_backward(const xai_model *m, const xai_node *n, xai_workspace *ws)
{
    const mv_attr *a = n->attr;
    int64_t no = vnumel(m, n->out[0]);
    const float *g = ws->adj[n->out[0]];
    if (n->kind == K_CONCAT) {
        for (int64_t s = 0; s < ws->ns; s++) {
            int64_t off = 0;
            for (int i = 0; i < n->nin; i++) {
                int v = n->in[i];
                if (!vconst(m, v)) {
                    float *dx = ws->adj[v] + s * vnumel(m, v);
                    for (int64_t p = 0; p < a->outer; p++)
                        for (int64_t q = 0; q < a->inner[i]; q++)
                            dx[p * a->inner[i] + q] += g[s * no + p * a->inner_out + off + q];
                }
                off += a->inner[i];
            }
        }
        return XAI_OK;
    }
    if (vconst(m, n->in[0]))
        return XAI_OK;
    float *restrict dx = ws->adj[n->in[0]];
    int64_t ni = vnumel(m, n->in[0]);
    if (ws->training && a->drop_ratio > 0.0f) {
        float keep = 1.0f / (1.0f - a->drop_ratio);
        for (int64_t k = 0; k < no * ws->ns; k++)
            if (drop_kept(ws, n, k, a->drop_ratio))
                dx[k] += g[k] * keep;
        return XAI_OK;
    }
    if (!a->map) {
        for (int64_t k = 0; k < no * ws->ns; k++)
            dx[k] += g[k];
        return XAI_OK;
    }
    for (int64_t s = 0; s < ws->ns; s++)
        for (int64_t k = 0; k < no; k++) {
            int64_t i = a->map[k];
            if (i >= 0)
                dx[s * ni + i] += g[s * no + k];
        }
    return XAI_OK;
}

static xai_status mv_relevance(const xai_model *m, const xai_node *n, const xai_rule *r, xai_workspace *ws)
{
    (void)r;
    return mv_backward(m, n, ws);
}

static void mv_destroy(xai_node *n)
{
    mv_attr *a = n->attr;
    if (a)
        free(a->map);
    free(a);
}

const xai_op_vtable xai_move_ops = {"DataMovement", mv_forward, mv_backward, mv_relevance, mv_destroy};

static xai_status set_out(xai_model *m, xai_node *n, int nd, const int64_t *shape)
{
    xai_value *y = &m->vals[n->out[0]];
    if (nd > XAI_MAX_DIMS)
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s' (%s): rank %d too large", m->name, n->name, n->op_type, nd);
    y->ndim = nd;
    y->numel = 1;
    int64_t nz = 1; /* product of the nonzero dimensions, bounded too (no product of them overflows) */
    for (int i = 0; i < nd; i++) {
        if (shape[i] < 0)
            XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (%s): negative output dimension", m->name, n->name, n->op_type);
        if (shape[i] > 0 && nz > ((int64_t)1 << 26) / shape[i])
            XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s' (%s): output of more than 2^26 elements", m->name, n->name,
                     n->op_type);
        if (shape[i] > 0)
            nz *= shape[i];
        y->shape[i] = shape[i];
        y->numel *= shape[i];
    }
    return XAI_OK;
}

/* Shape the output and allocate the per-sample index map for it. */
static xai_status out_with_map(xai_model *m, xai_node *n, mv_attr *a, int nd, const int64_t *shape, int64_t *no)
{
    xai_status st = set_out(m, n, nd, shape);
    if (st)
        return st;
    *no = m->vals[n->out[0]].numel;
    a->map = malloc(sizeof(int64_t) * (size_t)(*no ? *no : 1));
    if (!a->map)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    return XAI_OK;
}

/* An affine gather: out element with coordinates c reads in[base + sum_d c_d * stride_d]
   (Transpose: strides permuted; Slice: starts and steps folded into base and strides). */
static void strided_map(int64_t *map, int64_t no, int nd, const int64_t *shape, int64_t base,
                        const int64_t *stride)
{
    for (int64_t k = 0; k < no; k++)
        map[k] = xai_strided_index(k, nd, shape, base, stride);
}

static xai_status const_ints(const xai_model *m, const xai_node *n, int k, int64_t *out, int max, int *cnt,
                             const char *what)
{
    *cnt = -1;
    if (k >= n->nin || n->in[k] < 0)
        return XAI_OK;
    const xai_value *v = &m->vals[n->in[k]];
    if (!v->is_const)
        return xai_node_unsupported(m, (xai_node *)n, what, "must be constant (after folding)");
    if (v->numel > max)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (%s): input '%s' has too many values", m->name, n->name, n->op_type, what);
    for (int64_t i = 0; i < v->numel; i++)
        out[i] = xai_value_int(v, i);
    *cnt = (int)v->numel;
    return XAI_OK;
}

/* One node being initialised: its attribute block and data input, with the input's row-major strides
   (every index map below is written in them). */
typedef struct {
    xai_model *m;
    xai_node *n;
    const Onnx__NodeProto *np;
    mv_attr *a;
    const xai_value *x;
    int64_t ist[XAI_MAX_DIMS];
} mv_init;

/* Identity, and Dropout at inference; Dropout keeps its ratio for training (mv_forward). */
static xai_status init_identity(const mv_init *c)
{
    xai_model *m = c->m;
    xai_node *n = c->n;
    xai_status st;
    if (n->nin > 2 && n->in[2] >= 0) {
        const xai_value *tm = &m->vals[n->in[2]];
        if (!tm->is_const || (tm->numel == 1 && xai_value_int(tm, 0) != 0))
            return xai_node_unsupported(m, n, "training_mode", "only inference (false) is supported");
    }
    if (n->nout > 1 && n->out[1] >= 0)
        return xai_node_unsupported(m, n, "mask", "the mask output is not supported");
    if (strcmp(n->op_type, "Dropout") == 0) {
        float ratio = 0.5f;
        if ((st = xai_attr_float(m, c->np, "ratio", 0.5f, &ratio)))
            return st;
        if (n->nin > 1 && n->in[1] >= 0) {
            const xai_value *rv = &m->vals[n->in[1]];
            if (!rv->is_const || rv->numel != 1 || rv->dtype != DT_F32)
                return xai_node_unsupported(m, n, "ratio", "must be a constant float scalar");
            ratio = rv->f[0];
        }
        if (!(ratio >= 0.0f && ratio < 1.0f))
            return xai_node_unsupported(m, n, "ratio", "%g is outside [0, 1)", ratio);
        c->a->drop_ratio = ratio;
    }
    return set_out(m, n, c->x->ndim, c->x->shape);
}

static xai_status init_flatten(const mv_init *c)
{
    const xai_value *x = c->x;
    xai_status st;
    int64_t axis, shape[2];
    if ((st = xai_attr_int(c->m, c->np, "axis", 1, &axis)))
        return st;
    if (axis < 0)
        axis += x->ndim;
    if (axis < 0 || axis > x->ndim)
        return xai_node_unsupported(c->m, c->n, "axis", "out of range");
    shape[0] = shape[1] = 1;
    for (int i = 0; i < x->ndim; i++)
        shape[i < axis ? 0 : 1] *= x->shape[i];
    return set_out(c->m, c->n, 2, shape);
}

/* Reshape's 0 copies the input's dimension (unless allowzero) and one -1 takes what is left. */
static xai_status init_reshape(const mv_init *c)
{
    xai_model *m = c->m;
    xai_node *n = c->n;
    const xai_value *x = c->x;
    xai_status st;
    int64_t az, shape[XAI_MAX_DIMS];
    int cnt;
    if ((st = xai_attr_int(m, c->np, "allowzero", 0, &az)) ||
        (st = const_ints(m, n, 1, shape, XAI_MAX_DIMS, &cnt, "shape")))
        return st;
    if (cnt < 0)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Reshape) has no shape input", m->name, n->name);
    int64_t known_ = 1;
    int neg = -1;
    for (int i = 0; i < cnt; i++) {
        if (shape[i] == 0 && !az)
            shape[i] = i < x->ndim ? x->shape[i] : 0;
        if (shape[i] == -1) {
            if (neg >= 0)
                XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Reshape): two -1 dims", m->name, n->name);
            neg = i;
        } else if (shape[i] < 0) {
            XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Reshape): bad dimension %lld", m->name, n->name,
                     (long long)shape[i]);
        } else {
            if (shape[i] > 0 && known_ > ((int64_t)1 << 40) / shape[i])
                XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Reshape): target shape is too large", m->name, n->name);
            known_ *= shape[i];
        }
    }
    if (neg >= 0)
        shape[neg] = known_ ? x->numel / known_ : 0;
    if ((st = set_out(m, n, cnt, shape)))
        return st;
    if (m->vals[n->out[0]].numel != x->numel)
        XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (Reshape): cannot reshape %lld elements to %lld", m->name, n->name,
                 (long long)x->numel, (long long)m->vals[n->out[0]].numel);
    return XAI_OK;
}

/* The axes of (Un)Squeeze: an input from opset 13 on, an attribute before; *na = -1 when absent. */
static xai_status squeeze_axes(const mv_init *c, int64_t *axes, int *na)
{
    if (c->n->nin > 1)
        return const_ints(c->m, c->n, 1, axes, XAI_MAX_DIMS, na, "axes");
    return xai_attr_ints(c->m, c->np, "axes", axes, XAI_MAX_DIMS, na);
}

static xai_status init_unsqueeze(const mv_init *c)
{
    const xai_value *x = c->x;
    xai_status st;
    int64_t axes[XAI_MAX_DIMS], shape[XAI_MAX_DIMS];
    int na, nd = 0;
    if ((st = squeeze_axes(c, axes, &na)))
        return st;
    int r = x->ndim + (na > 0 ? na : 0);
    if (na < 0 || r > XAI_MAX_DIMS)
        return xai_node_unsupported(c->m, c->n, "axes", "missing or rank too large");
    int isnew[XAI_MAX_DIMS] = {0};
    for (int k = 0; k < na; k++) {
        int64_t ax = axes[k] < 0 ? axes[k] + r : axes[k];
        if (ax < 0 || ax >= r)
            return xai_node_unsupported(c->m, c->n, "axes", "axis %lld out of range", (long long)axes[k]);
        isnew[ax] = 1;
    }
    int j = 0;
    for (int k = 0; k < r; k++)
        shape[nd++] = isnew[k] ? 1 : x->shape[j++];
    return set_out(c->m, c->n, nd, shape);
}

/* Without axes, Squeeze drops every dimension of size 1. */
static xai_status init_squeeze(const mv_init *c)
{
    const xai_value *x = c->x;
    xai_status st;
    int64_t axes[XAI_MAX_DIMS], shape[XAI_MAX_DIMS];
    int na, nd = 0;
    if ((st = squeeze_axes(c, axes, &na)))
        return st;
    int drop[XAI_MAX_DIMS] = {0};
    for (int k = 0; k < na; k++) {
        int64_t ax = axes[k] < 0 ? axes[k] + x->ndim : axes[k];
        if (ax < 0 || ax >= x->ndim || x->shape[ax] != 1)
            return xai_node_unsupported(c->m, c->n, "axes", "axis %lld is not a unit dimension", (long long)axes[k]);
        drop[ax] = 1;
    }
    for (int k = 0; k < x->ndim; k++)
        if (!(na > 0 ? drop[k] : x->shape[k] == 1))
            shape[nd++] = x->shape[k];
    return set_out(c->m, c->n, nd, shape);
}

/* Without perm, Transpose reverses the axes. */
static xai_status init_transpose(const mv_init *c)
{
    const xai_value *x = c->x;
    xai_status st;
    int64_t perm[XAI_MAX_DIMS], shape[XAI_MAX_DIMS];
    int np_;
    if ((st = xai_attr_ints(c->m, c->np, "perm", perm, XAI_MAX_DIMS, &np_)))
        return st;
    if (np_ < 0) {
        np_ = x->ndim;
        for (int k = 0; k < np_; k++)
            perm[k] = np_ - 1 - k;
    }
    int seen[XAI_MAX_DIMS] = {0};
    if (np_ != x->ndim)
        return xai_node_unsupported(c->m, c->n, "perm", "length %d for rank %d", np_, x->ndim);
    for (int k = 0; k < np_; k++) {
        if (perm[k] < 0 || perm[k] >= np_ || seen[perm[k]]++)
            return xai_node_unsupported(c->m, c->n, "perm", "not a permutation");
        shape[k] = x->shape[perm[k]];
    }
    int64_t no, stride[XAI_MAX_DIMS];
    if ((st = out_with_map(c->m, c->n, c->a, np_, shape, &no)))
        return st;
    for (int d = 0; d < np_; d++)
        stride[d] = c->ist[perm[d]];
    strided_map(c->a->map, no, np_, shape, 0, stride);
    return XAI_OK;
}

xai_status xai_slice_params(const xai_model *m, const char *node, const int *in, int nin, const xai_value *x,
                            int64_t *s0, int64_t *sp, int64_t *shape)
{
    static const char *const what[4] = {"starts", "ends", "axes", "steps"};
    const xai_value *v[4];
    for (int k = 0; k < 4; k++)
        v[k] = k + 1 < nin && in[k + 1] >= 0 ? &m->vals[in[k + 1]] : NULL;
    if (!v[0] || !v[1])
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s' (Slice): the opset < 10 form (no starts and ends inputs) is not supported",
                 m->name, node);
    for (int k = 0; k < 4; k++)
        if (v[k] && !v[k]->is_const)
            XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s' (Slice): input '%s' must be constant (after folding)", m->name, node,
                     what[k]);
    const int64_t n = v[0]->numel;
    if (n > x->ndim || v[1]->numel != n || (v[2] && v[2]->numel != n) || (v[3] && v[3]->numel != n))
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Slice): starts/ends/axes/steps lengths differ or exceed the %d axes",
                 m->name, node, x->ndim);
    for (int d = 0; d < x->ndim; d++) {
        s0[d] = 0;
        sp[d] = 1;
        shape[d] = x->shape[d];
    }
    for (int64_t k = 0; k < n; k++) {
        int64_t ax = v[2] ? xai_value_int(v[2], k) : k, p = v[3] ? xai_value_int(v[3], k) : 1;
        if (ax < 0)
            ax += x->ndim;
        if (ax < 0 || ax >= x->ndim || p == 0)
            XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Slice): bad axis or zero step", m->name, node);
        shape[ax] = xai_slice_axis(x->shape[ax], xai_value_int(v[0], k), xai_value_int(v[1], k), p, &s0[ax], &sp[ax]);
    }
    return XAI_OK;
}

static xai_status init_slice(const mv_init *c)
{
    const xai_value *x = c->x;
    xai_status st;
    int64_t s0[XAI_MAX_DIMS], sp[XAI_MAX_DIMS], shape[XAI_MAX_DIMS];
    if ((st = xai_slice_params(c->m, c->n->name, c->n->in, c->n->nin, x, s0, sp, shape)))
        return st;
    int64_t no, base = 0, stride[XAI_MAX_DIMS];
    if ((st = out_with_map(c->m, c->n, c->a, x->ndim, shape, &no)))
        return st;
    for (int d = 0; d < x->ndim; d++) {
        base += s0[d] * c->ist[d];
        stride[d] = sp[d] * c->ist[d];
    }
    strided_map(c->a->map, no, x->ndim, shape, base, stride);
    return XAI_OK;
}

/* Gather with constant indices: the output shape is x's with the axis replaced by the indices' shape. */
static xai_status init_gather(const mv_init *c)
{
    xai_model *m = c->m;
    xai_node *n = c->n;
    const xai_value *x = c->x;
    xai_status st;
    int64_t axis, shape[XAI_MAX_DIMS];
    if ((st = xai_attr_int(m, c->np, "axis", 0, &axis)))
        return st;
    if (n->nin < 2 || n->in[1] < 0 || !m->vals[n->in[1]].is_const)
        return xai_node_unsupported(m, n, "indices", "indices must be constant");
    const xai_value *iv = &m->vals[n->in[1]];
    if (axis < 0)
        axis += x->ndim;
    if (axis < 0 || axis >= x->ndim || x->ndim - 1 + iv->ndim > XAI_MAX_DIMS)
        return xai_node_unsupported(m, n, "axis", "out of range");
    int nd = 0;
    for (int k = 0; k < axis; k++) shape[nd++] = x->shape[k];
    for (int k = 0; k < iv->ndim; k++) shape[nd++] = iv->shape[k];
    for (int k = (int)axis + 1; k < x->ndim; k++) shape[nd++] = x->shape[k];
    int64_t no, outer = 1, inner = 1, dim = x->shape[axis];
    if ((st = out_with_map(m, n, c->a, nd, shape, &no)))
        return st;
    for (int k = 0; k < axis; k++) outer *= x->shape[k];
    for (int k = (int)axis + 1; k < x->ndim; k++) inner *= x->shape[k];
    int64_t k = 0;
    for (int64_t p = 0; p < outer; p++)
        for (int64_t j = 0; j < iv->numel; j++) {
            int64_t idx = xai_value_int(iv, j);
            if (idx < 0)
                idx += dim;
            if (idx < 0 || idx >= dim)
                XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Gather): index out of range", m->name, n->name);
            for (int64_t q = 0; q < inner; q++)
                c->a->map[k++] = (p * dim + idx) * inner + q;
        }
    return XAI_OK;
}

/* Pad's pads at the beginning (pb) and end (pe) of every axis of x, and its constant fill value. */
/* Bounds each pad so that shape + pads cannot overflow int64. */
#define PAD_LIMIT ((long long)1 << 40)

static xai_status pad_params(const mv_init *c, int64_t *pb, int64_t *pe)
{
    xai_model *m = c->m;
    xai_node *n = c->n;
    const xai_value *x = c->x;
    xai_status st;
    int64_t pads[2 * XAI_MAX_DIMS], axes[XAI_MAX_DIMS];
    int cp, ca;
    if ((st = const_ints(m, n, 1, pads, 2 * XAI_MAX_DIMS, &cp, "pads")) ||
        (st = const_ints(m, n, 3, axes, XAI_MAX_DIMS, &ca, "axes")))
        return st;
    if (n->nin > 2 && n->in[2] >= 0) {
        const xai_value *cv = &m->vals[n->in[2]];
        if (!cv->is_const || cv->numel != 1)
            return xai_node_unsupported(m, n, "constant_value", "must be a constant scalar");
        c->a->fill = cv->dtype == DT_F32 ? cv->f[0] : (float)cv->i[0];
    }
    int nax = ca >= 0 ? ca : x->ndim;
    if (cp != 2 * nax)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Pad): pads has %d values for %d axes", m->name, n->name, cp, nax);
    for (int k = 0; k < nax; k++) {
        int64_t ax = ca >= 0 ? axes[k] : k;
        if (ax < 0)
            ax += x->ndim;
        if (ax < 0 || ax >= x->ndim)
            return xai_node_unsupported(m, n, "axes", "out of range");
        if (llabs(pads[k]) > PAD_LIMIT || llabs(pads[k + nax]) > PAD_LIMIT)
            XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Pad): pads %lld, %lld out of range", m->name, n->name,
                     (long long)pads[k], (long long)pads[k + nax]);
        pb[ax] = pads[k];
        pe[ax] = pads[k + nax];
    }
    return XAI_OK;
}

/* What the Pad map is built from: output shape, input shape and strides, leading pads, and the
 * output's block size below each axis. */
typedef struct {
    int nd;
    const int64_t *shape, *xshape, *pb, *ist;
    int64_t blk[XAI_MAX_DIMS];
} pad_geom;

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The map of the block at axis d whose input offset is base: the padding on either side is one
 * memset each (all bytes 0xff is -1), so the work grows with the input, not with the padded
 * output (which may be 2^26 elements around a small input). */
static void pad_block(const pad_geom *g, int d, int64_t *map, int64_t base)
{
    int64_t n = g->shape[d], blk = g->blk[d];
    int64_t lo = clamp64(g->pb[d], 0, n), hi = clamp64(g->pb[d] + g->xshape[d], lo, n);
    memset(map, 0xff, sizeof *map * (size_t)(lo * blk));
    for (int64_t i = lo; i < hi; i++) {
        int64_t src = base + (i - g->pb[d]) * g->ist[d];
        if (d == g->nd - 1)
            map[i] = src;
        else
            pad_block(g, d + 1, map + i * blk, src);
    }
    memset(map + hi * blk, 0xff, sizeof *map * (size_t)((n - hi) * blk));
}

static void pad_map(int64_t *map, int64_t no, int nd, const int64_t *shape, const int64_t *xshape,
                    const int64_t *pb, const int64_t *ist)
{
    if (nd == 0) {
        if (no)
            map[0] = 0;
        return;
    }
    pad_geom g = {nd, shape, xshape, pb, ist, {0}};
    g.blk[nd - 1] = 1;
    for (int d = nd - 2; d >= 0; d--)
        g.blk[d] = g.blk[d + 1] * shape[d + 1];
    pad_block(&g, 0, map, 0);
}

/* Constant padding: output elements outside the input map to -1 (the fill value). */
static xai_status init_pad(const mv_init *c)
{
    const xai_value *x = c->x;
    xai_status st;
    const char *mode;
    if ((st = xai_attr_string(c->m, c->np, "mode", "constant", &mode)))
        return st;
    if (strcmp(mode, "constant") != 0)
        return xai_node_unsupported(c->m, c->n, "mode", "'%s' (only constant padding)", mode);
    int64_t pb[XAI_MAX_DIMS] = {0}, pe[XAI_MAX_DIMS] = {0}, shape[XAI_MAX_DIMS];
    if ((st = pad_params(c, pb, pe)))
        return st;
    for (int d = 0; d < x->ndim; d++) {
        shape[d] = x->shape[d] + pb[d] + pe[d];
        if (shape[d] < 0)
            XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (Pad): negative output size", c->m->name, c->n->name);
    }
    int64_t no;
    if ((st = out_with_map(c->m, c->n, c->a, x->ndim, shape, &no)))
        return st;
    pad_map(c->a->map, no, x->ndim, shape, x->shape, pb, c->ist);
    return XAI_OK;
}

/* Concat keeps no map: forward copies each input's inner block per outer index. */
static xai_status init_concat(const mv_init *c)
{
    xai_model *m = c->m;
    xai_node *n = c->n;
    const xai_value *x = c->x;
    mv_attr *a = c->a;
    xai_status st;
    int64_t axis, shape[XAI_MAX_DIMS];
    if ((st = xai_attr_int(m, c->np, "axis", 0, &axis)))
        return st;
    if (axis < 0)
        axis += x->ndim;
    if (axis < 0 || axis >= x->ndim)
        return xai_node_unsupported(m, n, "axis", "out of range");
    memcpy(shape, x->shape, sizeof shape);
    shape[axis] = 0;
    a->outer = 1;
    for (int k = 0; k < axis; k++)
        a->outer *= x->shape[k];
    for (int i = 0; i < n->nin; i++) {
        if (n->in[i] < 0)
            XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Concat): empty input", m->name, n->name);
        const xai_value *v = &m->vals[n->in[i]];
        if (v->ndim != x->ndim || (v->is_const && v->dtype != DT_F32))
            XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (Concat): inputs differ in rank or type", m->name, n->name);
        for (int d = 0; d < x->ndim; d++)
            if (d != axis && v->shape[d] != x->shape[d])
                XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (Concat): input shapes differ", m->name, n->name);
        shape[axis] += v->shape[axis];
        a->inner[i] = a->outer ? v->numel / a->outer : 0;
    }
    if ((st = set_out(m, n, x->ndim, shape)))
        return st;
    a->inner_out = a->outer ? m->vals[n->out[0]].numel / a->outer : 0;
    return XAI_OK;
}

/* Each op with the attributes it accepts: any other attribute is refused before the op reads its own. */
static const struct {
    const char *op;
    const char *const *known;
    xai_status (*init)(const mv_init *c);
} mv_inits[] = {
    {"Identity", (const char *const[]){"seed", "ratio", NULL}, init_identity},
    {"Dropout", (const char *const[]){"seed", "ratio", NULL}, init_identity},
    {"Flatten", (const char *const[]){"axis", NULL}, init_flatten},
    {"Reshape", (const char *const[]){"allowzero", NULL}, init_reshape},
    {"Squeeze", (const char *const[]){"axes", NULL}, init_squeeze},
    {"Unsqueeze", (const char *const[]){"axes", NULL}, init_unsqueeze},
    {"Transpose", (const char *const[]){"perm", NULL}, init_transpose},
    {"Slice", (const char *const[]){NULL}, init_slice},
    {"Gather", (const char *const[]){"axis", NULL}, init_gather},
    {"Pad", (const char *const[]){"mode", NULL}, init_pad},
    {"Concat", (const char *const[]){"axis", NULL}, init_concat},
};

xai_status xai_shape_init(xai_model *m, xai_node *n, const Onnx__NodeProto *np)
{
    xai_status st;
    mv_attr *a = calloc(1, sizeof *a);
    if (!a)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    n->attr = a;
    if (n->in[0] < 0)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (%s) has no data input", m->name, n->name, n->op_type);
    mv_init c = {m, n, np, a, &m->vals[n->in[0]], {0}};
    xai_row_strides(c.x->ndim, c.x->shape, c.ist);
    for (size_t i = 0; i < sizeof mv_inits / sizeof mv_inits[0]; i++)
        if (strcmp(n->op_type, mv_inits[i].op) == 0)
            return (st = xai_attr_only(m, np, mv_inits[i].known)) ? st : mv_inits[i].init(&c);
    XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s': op type '%s' is not supported", m->name, n->name, n->op_type);
}

xai_status xai_make_identity(xai_node *n, int input_value)
{
    mv_attr *a = calloc(1, sizeof *a);
    if (!a)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    if (n->ops && n->ops->destroy)
        n->ops->destroy(n);
    else
        free(n->attr);
    n->attr = a;
    n->kind = K_IDENTITY;
    n->ops = &xai_move_ops;
    n->in[0] = input_value;
    for (int k = 1; k < 8; k++)
        n->in[k] = -1;
    n->nin = 1;
    return XAI_OK;
}
