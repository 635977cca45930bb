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
   backward pass sees the same mask without storing it. */
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
        out[i] = v->dtype == DT_I64 ? v->i[i] : xai_f2i(v->f[i]);
    *cnt = (int)v->numel;
    return XAI_OK;
}

xai_status xai_shape_init(xai_model *m, xai_node *n, const Onnx__NodeProto *np)
{
    const char *op = n->op_type;
    xai_status st;
    mv_attr *a = calloc(1, sizeof *a);
    if (!a)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    n->attr = a;
    if (n->in[0] < 0)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (%s) has no data input", m->name, n->name, op);
    const xai_value *x = &m->vals[n->in[0]];
    int64_t shape[XAI_MAX_DIMS];
    int64_t ist[XAI_MAX_DIMS];
    xai_row_strides(x->ndim, x->shape, ist);

    if (strcmp(op, "Identity") == 0 || strcmp(op, "Dropout") == 0) {
        static const char *const known[] = {"seed", "ratio", NULL};
        if ((st = xai_attr_only(m, np, known)))
            return st;
        if (n->nin > 2 && n->in[2] >= 0) {
            const xai_value *tm = &m->vals[n->in[2]];
            if (!tm->is_const || (tm->numel == 1 && (tm->dtype == DT_I64 ? tm->i[0] : xai_f2i(tm->f[0])) != 0))
                return xai_node_unsupported(m, n, "training_mode", "only inference (false) is supported");
        }
        if (n->nout > 1 && n->out[1] >= 0)
            return xai_node_unsupported(m, n, "mask", "the mask output is not supported");
        if (strcmp(op, "Dropout") == 0) {
            float ratio = 0.5f;
            if ((st = xai_attr_float(m, np, "ratio", 0.5f, &ratio)))
                return st;
            if (n->nin > 1 && n->in[1] >= 0) {
                const xai_value *rv = &m->vals[n->in[1]];
                if (!rv->is_const || rv->numel != 1 || rv->dtype != DT_F32)
                    return xai_node_unsupported(m, n, "ratio", "must be a constant float scalar");
                ratio = rv->f[0];
            }
            if (!(ratio >= 0.0f && ratio < 1.0f))
                return xai_node_unsupported(m, n, "ratio", "%g is outside [0, 1)", ratio);
            a->drop_ratio = ratio;
        }
        return set_out(m, n, x->ndim, x->shape);
    }
    if (strcmp(op, "Flatten") == 0) {
        static const char *const known[] = {"axis", NULL};
        int64_t axis;
        if ((st = xai_attr_only(m, np, known)) || (st = xai_attr_int(m, np, "axis", 1, &axis)))
            return st;
        if (axis < 0)
            axis += x->ndim;
        if (axis < 0 || axis > x->ndim)
            return xai_node_unsupported(m, n, "axis", "out of range");
        shape[0] = shape[1] = 1;
        for (int i = 0; i < x->ndim; i++)
            shape[i < axis ? 0 : 1] *= x->shape[i];
        return set_out(m, n, 2, shape);
    }
    if (strcmp(op, "Reshape") == 0) {
        static const char *const known[] = {"allowzero", NULL};
        int64_t az;
        int cnt;
        if ((st = xai_attr_only(m, np, known)) || (st = xai_attr_int(m, np, "allowzero", 0, &az)) ||
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
    if (strcmp(op, "Squeeze") == 0 || strcmp(op, "Unsqueeze") == 0) {
        static const char *const known[] = {"axes", NULL};
        int64_t axes[XAI_MAX_DIMS];
        int na;
        if ((st = xai_attr_only(m, np, known)))
            return st;
        if (n->nin > 1)
            st = const_ints(m, n, 1, axes, XAI_MAX_DIMS, &na, "axes");
        else
            st = xai_attr_ints(m, np, "axes", axes, XAI_MAX_DIMS, &na);
        if (st)
            return st;
        int nd = 0;
        if (op[0] == 'U') {
            int r = x->ndim + (na > 0 ? na : 0);
            if (na < 0 || r > XAI_MAX_DIMS)
                return xai_node_unsupported(m, n, "axes", "missing or rank too large");
            int isnew[XAI_MAX_DIMS] = {0};
            for (int k = 0; k < na; k++) {
                int64_t ax = axes[k] < 0 ? axes[k] + r : axes[k];
                if (ax < 0 || ax >= r)
                    return xai_node_unsupported(m, n, "axes", "axis %lld out of range", (long long)axes[k]);
                isnew[ax] = 1;
            }
            int j = 0;
            for (int k = 0; k < r; k++)
                shape[nd++] = isnew[k] ? 1 : x->shape[j++];
        } else {
            int drop[XAI_MAX_DIMS] = {0};
            for (int k = 0; k < na; k++) {
                int64_t ax = axes[k] < 0 ? axes[k] + x->ndim : axes[k];
                if (ax < 0 || ax >= x->ndim || x->shape[ax] != 1)
                    return xai_node_unsupported(m, n, "axes", "axis %lld is not a unit dimension", (long long)axes[k]);
                drop[ax] = 1;
            }
            for (int k = 0; k < x->ndim; k++)
                if (!(na > 0 ? drop[k] : x->shape[k] == 1))
                    shape[nd++] = x->shape[k];
        }
        return set_out(m, n, nd, shape);
    }
    if (strcmp(op, "Transpose") == 0) {
        static const char *const known[] = {"perm", NULL};
        int64_t perm[XAI_MAX_DIMS];
        int np_;
        if ((st = xai_attr_only(m, np, known)) || (st = xai_attr_ints(m, np, "perm", perm, XAI_MAX_DIMS, &np_)))
            return st;
        if (np_ < 0) {
            np_ = x->ndim;
            for (int k = 0; k < np_; k++)
                perm[k] = np_ - 1 - k;
        }
        int seen[XAI_MAX_DIMS] = {0};
        if (np_ != x->ndim)
            return xai_node_unsupported(m, n, "perm", "length %d for rank %d", np_, x->ndim);
        for (int k = 0; k < np_; k++) {
            if (perm[k] < 0 || perm[k] >= np_ || seen[perm[k]]++)
                return xai_node_unsupported(m, n, "perm", "not a permutation");
            shape[k] = x->shape[perm[k]];
        }
        int64_t no, stride[XAI_MAX_DIMS];
        if ((st = out_with_map(m, n, a, np_, shape, &no)))
            return st;
        for (int d = 0; d < np_; d++)
            stride[d] = ist[perm[d]];
        strided_map(a->map, no, np_, shape, 0, stride);
        return XAI_OK;
    }
    if (strcmp(op, "Slice") == 0) {
        static const char *const known[] = {NULL};
        int64_t sts[XAI_MAX_DIMS], ens[XAI_MAX_DIMS], axs[XAI_MAX_DIMS], sps[XAI_MAX_DIMS];
        int c1, c2, c3, c4;
        if ((st = xai_attr_only(m, np, known)) || (st = const_ints(m, n, 1, sts, XAI_MAX_DIMS, &c1, "starts")) ||
            (st = const_ints(m, n, 2, ens, XAI_MAX_DIMS, &c2, "ends")) ||
            (st = const_ints(m, n, 3, axs, XAI_MAX_DIMS, &c3, "axes")) ||
            (st = const_ints(m, n, 4, sps, XAI_MAX_DIMS, &c4, "steps")))
            return st;
        if (c1 < 0 || c1 != c2 || (c3 >= 0 && c3 != c1) || (c4 >= 0 && c4 != c1))
            XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Slice): starts/ends/axes/steps lengths differ", m->name, n->name);
        int64_t s0[XAI_MAX_DIMS], sp[XAI_MAX_DIMS];
        for (int d = 0; d < x->ndim; d++) {
            s0[d] = 0;
            sp[d] = 1;
            shape[d] = x->shape[d];
        }
        for (int k = 0; k < c1; k++) {
            int64_t ax = c3 >= 0 ? axs[k] : k;
            if (ax < 0)
                ax += x->ndim;
            int64_t p = c4 >= 0 ? sps[k] : 1;
            if (ax < 0 || ax >= x->ndim || p == 0)
                return xai_node_unsupported(m, n, "axes", "bad axis or zero step");
            shape[ax] = xai_slice_axis(x->shape[ax], sts[k], ens[k], p, &s0[ax], &sp[ax]);
        }
        int64_t no, base = 0, stride[XAI_MAX_DIMS];
        if ((st = out_with_map(m, n, a, x->ndim, shape, &no)))
            return st;
        for (int d = 0; d < x->ndim; d++) {
            base += s0[d] * ist[d];
            stride[d] = sp[d] * ist[d];
        }
        strided_map(a->map, no, x->ndim, shape, base, stride);
        return XAI_OK;
    }
    if (strcmp(op, "Gather") == 0) {
        static const char *const known[] = {"axis", NULL};
        int64_t axis;
        if ((st = xai_attr_only(m, np, known)) || (st = xai_attr_int(m, np, "axis", 0, &axis)))
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
        if ((st = out_with_map(m, n, a, nd, shape, &no)))
            return st;
        for (int k = 0; k < axis; k++) outer *= x->shape[k];
        for (int k = (int)axis + 1; k < x->ndim; k++) inner *= x->shape[k];
        int64_t k = 0;
        for (int64_t p = 0; p < outer; p++)
            for (int64_t j = 0; j < iv->numel; j++) {
                int64_t idx = iv->dtype == DT_I64 ? iv->i[j] : xai_f2i(iv->f[j]);
                if (idx < 0)
                    idx += dim;
                if (idx < 0 || idx >= dim)
                    XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Gather): index out of range", m->name, n->name);
                for (int64_t q = 0; q < inner; q++)
                    a->map[k++] = (p * dim + idx) * inner + q;
            }
        return XAI_OK;
    }
    if (strcmp(op, "Pad") == 0) {
        static const char *const known[] = {"mode", NULL};
        const char *mode;
        if ((st = xai_attr_only(m, np, known)) || (st = xai_attr_string(m, np, "mode", "constant", &mode)))
            return st;
        if (strcmp(mode, "constant") != 0)
            return xai_node_unsupported(m, n, "mode", "'%s' (only constant padding)", mode);
        int64_t pads[2 * XAI_MAX_DIMS], axes[XAI_MAX_DIMS];
        int cp, ca;
        if ((st = const_ints(m, n, 1, pads, 2 * XAI_MAX_DIMS, &cp, "pads")) ||
            (st = const_ints(m, n, 3, axes, XAI_MAX_DIMS, &ca, "axes")))
            return st;
        if (n->nin > 2 && n->in[2] >= 0) {
            const xai_value *cv = &m->vals[n->in[2]];
            if (!cv->is_const || cv->numel != 1)
                return xai_node_unsupported(m, n, "constant_value", "must be a constant scalar");
            a->fill = cv->dtype == DT_F32 ? cv->f[0] : (float)cv->i[0];
        }
        int64_t pb[XAI_MAX_DIMS] = {0}, pe[XAI_MAX_DIMS] = {0};
        int nax = ca >= 0 ? ca : x->ndim;
        if (cp != 2 * nax)
            XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Pad): pads has %d values for %d axes", m->name, n->name, cp, nax);
        for (int k = 0; k < nax; k++) {
            int64_t ax = ca >= 0 ? axes[k] : k;
            if (ax < 0)
                ax += x->ndim;
            if (ax < 0 || ax >= x->ndim)
                return xai_node_unsupported(m, n, "axes", "out of range");
            pb[ax] = pads[k];
            pe[ax] = pads[k + nax];
        }
        for (int d = 0; d < x->ndim; d++) {
            shape[d] = x->shape[d] + pb[d] + pe[d];
            if (shape[d] < 0)
                XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (Pad): negative output size", m->name, n->name);
        }
        int64_t no;
        if ((st = out_with_map(m, n, a, x->ndim, shape, &no)))
            return st;
        for (int64_t k = 0; k < no; k++) {
            int64_t r = k, src = 0;
            int in = 1;
            for (int d = x->ndim - 1; d >= 0; d--) {
                int64_t c = r % shape[d] - pb[d];
                r /= shape[d];
                if (c < 0 || c >= x->shape[d])
                    in = 0;
                src += c * ist[d];
            }
            a->map[k] = in ? src : -1;
        }
        return XAI_OK;
    }
    if (strcmp(op, "Concat") == 0) {
        static const char *const known[] = {"axis", NULL};
        int64_t axis;
        if ((st = xai_attr_only(m, np, known)) || (st = xai_attr_int(m, np, "axis", 0, &axis)))
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
    XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s': op type '%s' is not supported", m->name, n->name, op);
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
