/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * onnx.c - ONNX import: protobuf-c decoding of our onnx.proto subset, validation,
 * topological ordering (cycles are errors), load-time folding of shape-only subgraphs,
 * and construction of runtime nodes through each op family's init.
 * Spec: ONNX IR and operator documentation, opsets 11-18.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"

#define MAX_FILE_BYTES ((size_t)2 << 30)
#define MAX_NUMEL ((int64_t)1 << 31)
#define MAX_FOLD_NUMEL ((int64_t)1 << 26) /* constants made at load time (Expand, ConstantOfShape...) */
#define MAX_ACT_NUMEL ((int64_t)1 << 26)  /* one activation, per sample (256 MiB of float32) */
#define MAX_ACT_TOTAL ((int64_t)1 << 28)  /* all activations of one sample (1 GiB) */

/* ---------------------------------------------------------------- attributes */

const Onnx__AttributeProto *xai_attr_find(const Onnx__NodeProto *np, const char *name)
{
    for (size_t i = 0; i < np->n_attribute; i++)
        if (np->attribute[i]->name && strcmp(np->attribute[i]->name, name) == 0)
            return np->attribute[i];
    return NULL;
}

static const char *nn(const Onnx__NodeProto *np)
{
    return np->name && *np->name ? np->name : "(unnamed)";
}

xai_status xai_attr_int(const xai_model *m, const Onnx__NodeProto *np, const char *name, int64_t def,
                        int64_t *out)
{
    const Onnx__AttributeProto *a = xai_attr_find(np, name);
    *out = def;
    if (!a)
        return XAI_OK;
    if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT && !a->has_i)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (%s): attribute '%s' is not an integer", m->name, nn(np),
                 np->op_type, name);
    *out = a->i;
    return XAI_OK;
}

xai_status xai_attr_float(const xai_model *m, const Onnx__NodeProto *np, const char *name, float def,
                          float *out)
{
    const Onnx__AttributeProto *a = xai_attr_find(np, name);
    *out = def;
    if (!a)
        return XAI_OK;
    if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT && !a->has_f)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (%s): attribute '%s' is not a float", m->name, nn(np),
                 np->op_type, name);
    *out = a->f;
    return XAI_OK;
}

xai_status xai_attr_ints(const xai_model *m, const Onnx__NodeProto *np, const char *name, int64_t *out,
                         int max, int *count)
{
    const Onnx__AttributeProto *a = xai_attr_find(np, name);
    *count = -1;
    if (!a)
        return XAI_OK;
    if ((int64_t)a->n_ints > max)
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s' (%s): attribute '%s' has %zu values, at most %d supported",
                 m->name, nn(np), np->op_type, name, a->n_ints, max);
    for (size_t i = 0; i < a->n_ints; i++)
        out[i] = a->ints[i];
    *count = (int)a->n_ints;
    return XAI_OK;
}

xai_status xai_attr_string(const xai_model *m, const Onnx__NodeProto *np, const char *name, const char *def,
                           const char **out)
{
    const Onnx__AttributeProto *a = xai_attr_find(np, name);
    (void)m;
    *out = def;
    if (!a || !a->has_s)
        return XAI_OK;
    static _Thread_local char buf[8][64];
    static _Thread_local int slot;
    char *b = buf[slot++ & 7];
    size_t n = a->s.len < 63 ? a->s.len : 63;
    memcpy(b, a->s.data, n);
    b[n] = '\0';
    *out = b;
    return XAI_OK;
}

xai_status xai_attr_only(const xai_model *m, const Onnx__NodeProto *np, const char *const *known)
{
    for (size_t i = 0; i < np->n_attribute; i++) {
        const char *an = np->attribute[i]->name ? np->attribute[i]->name : "";
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            if (strcmp(*k, an) == 0)
                ok = 1;
        if (!ok)
            XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s' (op %s): attribute '%s' is not supported", m->name,
                     nn(np), np->op_type, an);
    }
    return XAI_OK;
}

xai_status xai_node_unsupported(const xai_model *m, const xai_node *n, const char *attr, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return xai_error_set(XAI_EUNSUPPORTED, "%s: node '%s' (op %s): attribute '%s': %s", m->name, n->name,
                         n->op_type, attr, msg);
}

/* ---------------------------------------------------------------- tensors */

static xai_status shape_from_dims(const xai_model *m, const char *what, size_t nd, const int64_t *dims, int *ndim,
                                  int64_t *shape, int64_t *numel)
{
    if (nd > XAI_MAX_DIMS)
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: tensor '%s' has rank %zu (at most %d supported)", m->name, what, nd,
                 XAI_MAX_DIMS);
    /* the product of the nonzero dimensions is bounded too, so that no product of dimensions
       (strides, outer and inner sizes) can overflow even when a zero dimension makes it empty */
    int64_t n = 1, nz = 1;
    for (size_t i = 0; i < nd; i++) {
        if (dims[i] < 0)
            XAI_FAIL(XAI_EFORMAT, "%s: tensor '%s' has a negative dimension %lld", m->name, what,
                     (long long)dims[i]);
        if (dims[i] > 0 && nz > MAX_NUMEL / dims[i])
            XAI_FAIL(XAI_EFORMAT, "%s: tensor '%s' is too large (dimension %lld)", m->name, what,
                     (long long)dims[i]);
        if (dims[i] > 0)
            nz *= dims[i];
        n *= dims[i];
        shape[i] = dims[i];
    }
    *ndim = (int)nd;
    *numel = n;
    return XAI_OK;
}

static size_t dtype_size(int dt)
{
    switch (dt) {
    case 1: case 6: case 12: return 4;   /* float, int32, uint32 */
    case 7: case 11: case 13: return 8;  /* int64, double, uint64 */
    case 2: case 3: case 9: return 1;    /* uint8, int8, bool */
    case 4: case 5: case 10: case 16: return 2;
    default: return 0;
    }
}

static float half_to_float(uint16_t h)
{
    uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, f = h & 0x3ff, u;
    if (e == 0) {
        if (f == 0) {
            u = s;
        } else {
            float v = ldexpf((float)f, -24);
            return s ? -v : v;
        }
    } else if (e == 31) {
        u = s | 0x7f800000u | (f << 13);
    } else {
        u = s | ((e + 112) << 23) | (f << 13);
    }
    float r;
    memcpy(&r, &u, 4);
    return r;
}

/* How many values a tensor without raw_data stores for data type dt, and in which repeated field:
   float16, bfloat16 and the small integers travel in int32_data. */
static size_t typed_count(const Onnx__TensorProto *t, int dt)
{
    switch (dt) {
    case 1: return t->n_float_data;
    case 11: return t->n_double_data;
    case 7: return t->n_int64_data;
    case 12: case 13: return t->n_uint64_data;
    default: return t->n_int32_data; /* int32, int16, int8, uint8, bool, float16 */
    }
}

/* raw_data: little-endian values of es bytes each, converted to float or int64. */
static void decode_raw(const Onnx__TensorProto *t, int dt, size_t es, int64_t n, xai_value *v)
{
    const uint8_t *p = t->raw_data.data;
    for (int64_t k = 0; k < n; k++, p += es) {
        switch (dt) {
        case 1: { float x; memcpy(&x, p, 4); v->f[k] = x; break; }
        case 11: { double x; memcpy(&x, p, 8); v->f[k] = (float)x; break; }
        case 10: { uint16_t h; memcpy(&h, p, 2); v->f[k] = half_to_float(h); break; }
        case 16: { uint16_t h; memcpy(&h, p, 2); uint32_t u = (uint32_t)h << 16; float x; memcpy(&x, &u, 4); v->f[k] = x; break; }
        case 7: { int64_t x; memcpy(&x, p, 8); v->i[k] = x; break; }
        case 13: { uint64_t x; memcpy(&x, p, 8); v->i[k] = x > INT64_MAX ? INT64_MAX : (int64_t)x; break; }
        case 6: { int32_t x; memcpy(&x, p, 4); v->i[k] = x; break; }
        case 12: { uint32_t x; memcpy(&x, p, 4); v->i[k] = x; break; }
        case 2: case 9: v->i[k] = *p; break;
        case 3: v->i[k] = (int8_t)*p; break;
        case 4: { uint16_t x; memcpy(&x, p, 2); v->i[k] = x; break; }
        case 5: { int16_t x; memcpy(&x, p, 2); v->i[k] = x; break; }
        default: break;
        }
    }
}

/* The typed repeated fields, converted to float or int64. */
static void decode_typed(const Onnx__TensorProto *t, int dt, int64_t n, xai_value *v)
{
    for (int64_t k = 0; k < n; k++) {
        switch (dt) {
        case 1: v->f[k] = t->float_data[k]; break;
        case 11: v->f[k] = (float)t->double_data[k]; break;
        case 10: v->f[k] = half_to_float((uint16_t)t->int32_data[k]); break;
        case 16: { uint32_t u = (uint32_t)t->int32_data[k] << 16; float x; memcpy(&x, &u, 4); v->f[k] = x; break; }
        case 7: v->i[k] = t->int64_data[k]; break;
        case 12: case 13: v->i[k] = t->uint64_data[k] > INT64_MAX ? INT64_MAX : (int64_t)t->uint64_data[k]; break;
        default: v->i[k] = t->int32_data[k]; break;
        }
    }
}

/* Decode an ONNX TensorProto into a constant value (float or int64). */
static xai_status tensor_to_value(xai_model *m, const Onnx__TensorProto *t, xai_value *v)
{
    const char *name = t->name ? t->name : "(constant)";
    xai_status st = shape_from_dims(m, name, t->n_dims, t->dims, &v->ndim, v->shape, &v->numel);
    if (st)
        return st;
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: tensor '%s' keeps its data in an external file (not supported)", m->name,
                 name);
    int dt = t->data_type;
    size_t es = dtype_size(dt);
    if (!es)
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: tensor '%s' has data type %d (not supported)", m->name, name, dt);
    int isfloat = dt == 1 || dt == 11 || dt == 10 || dt == 16;
    int64_t n = v->numel;
    /* check the stored data covers the shape before allocating anything for it */
    if (t->has_raw_data) {
        if (t->raw_data.len != (size_t)n * es)
            XAI_FAIL(XAI_EFORMAT, "%s: tensor '%s' has %zu bytes of data, its shape needs %lld", m->name, name,
                     t->raw_data.len, (long long)((size_t)n * es));
    } else if (typed_count(t, dt) != (size_t)n) {
        XAI_FAIL(XAI_EFORMAT, "%s: tensor '%s' has %zu values, its shape needs %lld", m->name, name,
                 typed_count(t, dt), (long long)n);
    }
    v->is_const = 1;
    v->dtype = isfloat ? DT_F32 : DT_I64;
    if (isfloat)
        v->f = malloc((size_t)(n ? n : 1) * sizeof(float));
    else
        v->i = malloc((size_t)(n ? n : 1) * sizeof(int64_t));
    if (!v->f && !v->i)
        XAI_FAIL(XAI_ENOMEM, "%s: cannot allocate tensor '%s'", m->name, name);
    if (t->has_raw_data)
        decode_raw(t, dt, es, n, v);
    else
        decode_typed(t, dt, n, v);
    return XAI_OK;
}

/* ---------------------------------------------------------------- folding */

static double cget(const xai_value *v, int64_t k)
{
    return v->dtype == DT_F32 ? (double)v->f[k] : (double)v->i[k];
}

static xai_status alloc_const(xai_model *m, xai_value *o, int dtype, int ndim, const int64_t *shape)
{
    int64_t n = 1, nz = 1; /* nz: product of the nonzero dimensions, bounded as well */
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] > 0 && nz > MAX_FOLD_NUMEL / shape[i]))
            XAI_FAIL(XAI_EFORMAT, "%s: folded constant '%s' has an invalid or too large shape", m->name, o->name);
        if (shape[i] > 0)
            nz *= shape[i];
        n *= shape[i];
        o->shape[i] = shape[i];
    }
    o->ndim = ndim;
    o->numel = n;
    o->is_const = 1;
    o->dtype = dtype;
    if (dtype == DT_F32)
        o->f = calloc((size_t)(n ? n : 1), sizeof(float));
    else
        o->i = calloc((size_t)(n ? n : 1), sizeof(int64_t));
    if (!o->f && !o->i)
        XAI_FAIL(XAI_ENOMEM, "%s: out of memory folding '%s'", m->name, o->name);
    return XAI_OK;
}

static void cset(xai_value *o, int64_t k, double x)
{
    if (o->dtype == DT_F32)
        o->f[k] = (float)x;
    else
        o->i[k] = x >= 9.2e18 ? INT64_MAX : x <= -9.2e18 ? INT64_MIN : (int64_t)x;
}

static void ccopy(xai_value *o, int64_t ko, const xai_value *a, int64_t ka)
{
    if (o->dtype == DT_F32)
        o->f[ko] = a->dtype == DT_F32 ? a->f[ka] : (float)a->i[ka];
    else
        o->i[ko] = xai_value_int(a, ka);
}

/* Broadcast shape of two shapes (numpy rules). */
static int bcast_shape(int na, const int64_t *a, int nb, const int64_t *b, int *no, int64_t *o)
{
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int64_t da = i < n - na ? 1 : a[i - (n - na)];
        int64_t db = i < n - nb ? 1 : b[i - (n - nb)];
        if (da != db && da != 1 && db != 1)
            return -1;
        o[i] = da == 1 ? db : da;
    }
    *no = n;
    return 0;
}

static int64_t bcast_index(int64_t k, int no, const int64_t *os, int na, const int64_t *as)
{
    int64_t idx = 0, stride = 1;
    for (int i = no - 1; i >= 0; i--) {
        int64_t c = k % os[i];
        k /= os[i];
        int ia = i - (no - na);
        if (ia >= 0) {
            if (as[ia] != 1)
                idx += c * stride;
            stride *= as[ia];
        }
    }
    return idx;
}

/* One node being folded, its inputs looked up once; a and b are the first two (NULL when absent). */
typedef struct {
    xai_model *m;
    const Onnx__NodeProto *np;
    const int *ins;
    int nin;
    xai_value *o;
    const xai_value *a, *b;
} fold_ctx;

/* The output as a copy of a's elements (in order) under a new dtype and shape: the folding of
   every op that only relabels its input. */
static xai_status fold_copy(const fold_ctx *c, int dtype, int ndim, const int64_t *shape)
{
    xai_status st;
    if ((st = alloc_const(c->m, c->o, dtype, ndim, shape)))
        return st;
    for (int64_t k = 0; k < c->a->numel; k++)
        ccopy(c->o, k, c->a, k);
    return XAI_OK;
}

/* Shape reads only the shape of its input, which is known even when the values are not. */
static xai_status fold_shape(const fold_ctx *c)
{
    xai_model *m = c->m;
    const xai_value *a = c->a;
    xai_status st;
    int64_t shape[1];
    int64_t start = 0, end = a->ndim;
    if ((st = xai_attr_int(m, c->np, "start", 0, &start)) || (st = xai_attr_int(m, c->np, "end", a->ndim, &end)))
        return st;
    if (start < 0) start += a->ndim;
    if (end < 0) end += a->ndim;
    if (start < 0) start = 0;
    if (end > a->ndim) end = a->ndim;
    if (end < start) end = start;
    shape[0] = end - start;
    if ((st = alloc_const(m, c->o, DT_I64, 1, shape)))
        return st;
    for (int64_t k = start; k < end; k++)
        c->o->i[k - start] = a->shape[k];
    return XAI_OK;
}

static xai_status fold_identity(const fold_ctx *c)
{
    return fold_copy(c, c->a->dtype, c->a->ndim, c->a->shape);
}

static xai_status fold_cast(const fold_ctx *c)
{
    xai_status st;
    int64_t to;
    if ((st = xai_attr_int(c->m, c->np, "to", 1, &to)))
        return st;
    /* float, float16, double and bfloat16 fold to float; everything else to int64 */
    int dt = (to == 1 || to == 10 || to == 11 || to == 16) ? DT_F32 : DT_I64;
    return fold_copy(c, dt, c->a->ndim, c->a->shape);
}

/* ConstantOfShape's fill value and its dtype: the one-element "value" tensor, else float 0. */
static xai_status fill_value(const fold_ctx *c, int *dt, double *val)
{
    xai_model *m = c->m;
    const Onnx__AttributeProto *va = xai_attr_find(c->np, "value");
    xai_status st = XAI_OK;
    xai_value tv;
    memset(&tv, 0, sizeof tv);
    *val = 0;
    *dt = DT_F32;
    if (!va || !va->t)
        return XAI_OK;
    if ((st = tensor_to_value(m, va->t, &tv))) {
        /* nothing */
    } else if (tv.numel != 1) {
        st = xai_error_set(XAI_EFORMAT, "%s: node '%s' (ConstantOfShape): value must hold one element", m->name,
                           nn(c->np));
    } else {
        *dt = tv.dtype;
        *val = cget(&tv, 0);
    }
    free(tv.f);
    free(tv.i);
    return st;
}

static xai_status fold_constant_of_shape(const fold_ctx *c)
{
    xai_model *m = c->m;
    const xai_value *a = c->a;
    xai_status st;
    int64_t shape[XAI_MAX_DIMS];
    double val;
    int dt;
    if ((st = fill_value(c, &dt, &val)))
        return st;
    if (a->ndim != 1 || a->numel > XAI_MAX_DIMS)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (ConstantOfShape): bad shape input", m->name, nn(c->np));
    for (int64_t k = 0; k < a->numel; k++)
        shape[k] = xai_value_int(a, k);
    if ((st = alloc_const(m, c->o, dt, (int)a->numel, shape)))
        return st;
    for (int64_t k = 0; k < c->o->numel; k++)
        cset(c->o, k, val);
    return XAI_OK;
}

/* The axes of (Un)Squeeze: an input from opset 13 on, an attribute before; *na = -1 when absent. */
static xai_status squeeze_axes(const fold_ctx *c, int64_t *axes, int *na)
{
    const xai_value *b = c->b;
    *na = -1;
    if (!b)
        return xai_attr_ints(c->m, c->np, "axes", axes, XAI_MAX_DIMS, na);
    if (!b->is_const || b->numel > XAI_MAX_DIMS)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (%s): bad axes", c->m->name, nn(c->np), c->np->op_type);
    *na = (int)b->numel;
    for (int k = 0; k < *na; k++)
        axes[k] = xai_value_int(b, k);
    return XAI_OK;
}

static xai_status fold_unsqueeze(const fold_ctx *c)
{
    xai_model *m = c->m;
    const xai_value *a = c->a;
    xai_status st;
    int64_t axes[XAI_MAX_DIMS], shape[XAI_MAX_DIMS];
    int na, nd = 0;
    if ((st = squeeze_axes(c, axes, &na)))
        return st;
    int r = a->ndim + (na > 0 ? na : 0);
    if (r > XAI_MAX_DIMS)
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s' (Unsqueeze): rank too large", m->name, nn(c->np));
    int isnew[XAI_MAX_DIMS] = {0};
    for (int k = 0; k < na; k++) {
        int64_t ax = axes[k] < 0 ? axes[k] + r : axes[k];
        if (ax < 0 || ax >= r)
            XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Unsqueeze): axis out of range", m->name, nn(c->np));
        isnew[ax] = 1;
    }
    int j = 0;
    for (int k = 0; k < r; k++)
        shape[nd++] = isnew[k] ? 1 : (j < a->ndim ? a->shape[j++] : 1);
    return fold_copy(c, a->dtype, nd, shape);
}

/* Without axes, Squeeze drops every dimension of size 1. */
static xai_status fold_squeeze(const fold_ctx *c)
{
    xai_model *m = c->m;
    const xai_value *a = c->a;
    xai_status st;
    int64_t axes[XAI_MAX_DIMS], shape[XAI_MAX_DIMS];
    int na, nd = 0;
    if ((st = squeeze_axes(c, axes, &na)))
        return st;
    int drop[XAI_MAX_DIMS] = {0};
    for (int k = 0; k < na; k++) {
        int64_t ax = axes[k] < 0 ? axes[k] + a->ndim : axes[k];
        if (ax < 0 || ax >= a->ndim)
            XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Squeeze): axis out of range", m->name, nn(c->np));
        drop[ax] = 1;
    }
    for (int k = 0; k < a->ndim; k++)
        if (!(na > 0 ? drop[k] : a->shape[k] == 1))
            shape[nd++] = a->shape[k];
    return fold_copy(c, a->dtype, nd, shape);
}

static xai_status fold_concat(const fold_ctx *c)
{
    xai_model *m = c->m;
    const xai_value *a = c->a;
    xai_status st;
    int64_t axis, shape[XAI_MAX_DIMS];
    if ((st = xai_attr_int(m, c->np, "axis", 0, &axis)))
        return st;
    int r = a->ndim;
    if (axis < 0)
        axis += r;
    if (axis < 0 || axis >= r)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Concat): axis out of range", m->name, nn(c->np));
    memcpy(shape, a->shape, sizeof(int64_t) * (size_t)r);
    shape[axis] = 0;
    int dt = DT_I64;
    for (int k = 0; k < c->nin; k++) {
        const xai_value *v = &m->vals[c->ins[k]];
        if (!v->is_const || v->ndim != r)
            XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Concat): inputs differ in rank", m->name, nn(c->np));
        if (v->dtype == DT_F32)
            dt = DT_F32;
        shape[axis] += v->shape[axis];
    }
    if ((st = alloc_const(m, c->o, dt, r, shape)))
        return st;
    int64_t outer = 1, inner = 1;
    for (int k = 0; k < axis; k++) outer *= shape[k];
    for (int k = (int)axis + 1; k < r; k++) inner *= shape[k];
    int64_t off = 0;
    for (int k = 0; k < c->nin; k++) {
        const xai_value *v = &m->vals[c->ins[k]];
        int64_t len = v->shape[axis] * inner;
        for (int64_t p = 0; p < outer; p++)
            for (int64_t q = 0; q < len; q++)
                ccopy(c->o, p * shape[axis] * inner + off + q, v, p * len + q);
        off += len;
    }
    return XAI_OK;
}

static xai_status fold_gather(const fold_ctx *c)
{
    xai_model *m = c->m;
    const xai_value *a = c->a, *b = c->b;
    xai_status st;
    int64_t axis, shape[XAI_MAX_DIMS];
    if (!b || !b->is_const)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Gather): needs constant indices", m->name, nn(c->np));
    if ((st = xai_attr_int(m, c->np, "axis", 0, &axis)))
        return st;
    if (axis < 0) axis += a->ndim;
    if (axis < 0 || axis >= a->ndim || a->ndim - 1 + b->ndim > XAI_MAX_DIMS)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Gather): axis out of range", m->name, nn(c->np));
    int nd = 0;
    for (int k = 0; k < axis; k++) shape[nd++] = a->shape[k];
    for (int k = 0; k < b->ndim; k++) shape[nd++] = b->shape[k];
    for (int k = (int)axis + 1; k < a->ndim; k++) shape[nd++] = a->shape[k];
    if ((st = alloc_const(m, c->o, a->dtype, nd, shape)))
        return st;
    int64_t outer = 1, inner = 1, dim = a->shape[axis];
    for (int k = 0; k < axis; k++) outer *= a->shape[k];
    for (int k = (int)axis + 1; k < a->ndim; k++) inner *= a->shape[k];
    for (int64_t p = 0; p < outer; p++)
        for (int64_t j = 0; j < b->numel; j++) {
            int64_t idx = xai_value_int(b, j);
            if (idx < 0) idx += dim;
            if (idx < 0 || idx >= dim)
                XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Gather): index out of range", m->name, nn(c->np));
            for (int64_t q = 0; q < inner; q++)
                ccopy(c->o, (p * b->numel + j) * inner + q, a, (p * dim + idx) * inner + q);
        }
    return XAI_OK;
}

/* The constant 1-D shape input of Expand and Reshape. */
static xai_status shape_input(const fold_ctx *c, int64_t *shape, int *nd)
{
    const xai_value *b = c->b;
    if (!b || !b->is_const || b->ndim != 1 || b->numel > XAI_MAX_DIMS)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (%s): bad shape input", c->m->name, nn(c->np), c->np->op_type);
    *nd = (int)b->numel;
    for (int k = 0; k < *nd; k++)
        shape[k] = xai_value_int(b, k);
    return XAI_OK;
}

static xai_status fold_expand(const fold_ctx *c)
{
    const xai_value *a = c->a;
    xai_status st;
    int64_t shape[XAI_MAX_DIMS], os[XAI_MAX_DIMS];
    int nd, no;
    if ((st = shape_input(c, shape, &nd)))
        return st;
    if (bcast_shape(a->ndim, a->shape, nd, shape, &no, os) != 0)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Expand): shapes do not broadcast", c->m->name, nn(c->np));
    if ((st = alloc_const(c->m, c->o, a->dtype, no, os)))
        return st;
    for (int64_t k = 0; k < c->o->numel; k++)
        ccopy(c->o, k, a, bcast_index(k, no, os, a->ndim, a->shape));
    return XAI_OK;
}

/* Reshape's 0 copies the input's dimension and one -1 takes what is left. */
static xai_status fold_reshape(const fold_ctx *c)
{
    xai_model *m = c->m;
    const xai_value *a = c->a;
    xai_status st;
    int64_t shape[XAI_MAX_DIMS];
    int nd;
    if ((st = shape_input(c, shape, &nd)))
        return st;
    int64_t known = 1, neg = -1;
    for (int k = 0; k < nd; k++) {
        if (shape[k] == 0)
            shape[k] = k < a->ndim ? a->shape[k] : 0;
        if (shape[k] == -1) {
            if (neg >= 0)
                XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Reshape): two -1 dims", m->name, nn(c->np));
            neg = k;
        } else if (shape[k] < 0) {
            XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Reshape): bad dim", m->name, nn(c->np));
        } else {
            if (shape[k] > 0 && known > ((int64_t)1 << 40) / shape[k])
                XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Reshape): target shape is too large", m->name, nn(c->np));
            known *= shape[k];
        }
    }
    if (neg >= 0)
        shape[neg] = known ? a->numel / known : 0;
    if ((st = alloc_const(m, c->o, a->dtype, nd, shape)))
        return st;
    if (c->o->numel != a->numel)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Reshape): element count changes", m->name, nn(c->np));
    for (int64_t k = 0; k < a->numel; k++)
        ccopy(c->o, k, a, k);
    return XAI_OK;
}

static xai_status fold_neg(const fold_ctx *c)
{
    const xai_value *a = c->a;
    xai_status st;
    if ((st = alloc_const(c->m, c->o, a->dtype, a->ndim, a->shape)))
        return st;
    for (int64_t k = 0; k < a->numel; k++)
        cset(c->o, k, -cget(a, k));
    return XAI_OK;
}

/* Add, Sub, Mul and Div with numpy broadcasting; the result is float when either input is. */
static xai_status fold_arith(const fold_ctx *c)
{
    xai_model *m = c->m;
    const char *op = c->np->op_type;
    const xai_value *a = c->a, *b = c->b;
    xai_status st;
    if (!b || !b->is_const)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (%s): needs two inputs", m->name, nn(c->np), op);
    int no;
    int64_t os[XAI_MAX_DIMS];
    if (bcast_shape(a->ndim, a->shape, b->ndim, b->shape, &no, os) != 0)
        XAI_FAIL(XAI_ESHAPE, "%s: node '%s' (%s): shapes do not broadcast", m->name, nn(c->np), op);
    int dt = (a->dtype == DT_F32 || b->dtype == DT_F32) ? DT_F32 : DT_I64;
    if ((st = alloc_const(m, c->o, dt, no, os)))
        return st;
    for (int64_t k = 0; k < c->o->numel; k++) {
        double x = cget(a, bcast_index(k, no, os, a->ndim, a->shape));
        double y = cget(b, bcast_index(k, no, os, b->ndim, b->shape));
        double r;
        switch (op[0]) {
        case 'A': r = x + y; break;
        case 'S': r = x - y; break;
        case 'M': r = x * y; break;
        default:
            if (dt == DT_I64) {
                if (y == 0)
                    XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Div): integer division by zero", m->name, nn(c->np));
                r = (double)((int64_t)x / (int64_t)y);
            } else {
                r = x / y;
            }
        }
        cset(c->o, k, r);
    }
    return XAI_OK;
}

static xai_status fold_slice(const fold_ctx *c)
{
    const xai_value *a = c->a;
    xai_status st;
    int64_t st0[XAI_MAX_DIMS], stp[XAI_MAX_DIMS], shape[XAI_MAX_DIMS];
    if ((st = xai_slice_params(c->m, nn(c->np), c->ins, c->nin, a, st0, stp, shape)))
        return st;
    if ((st = alloc_const(c->m, c->o, a->dtype, a->ndim, shape)))
        return st;
    int64_t base = 0, stride[XAI_MAX_DIMS], ist[XAI_MAX_DIMS];
    xai_row_strides(a->ndim, a->shape, ist);
    for (int d = 0; d < a->ndim; d++) {
        base += st0[d] * ist[d];
        stride[d] = stp[d] * ist[d];
    }
    for (int64_t k = 0; k < c->o->numel; k++)
        ccopy(c->o, k, a, xai_strided_index(k, a->ndim, shape, base, stride));
    return XAI_OK;
}

static xai_status fold_flatten(const fold_ctx *c)
{
    const xai_value *a = c->a;
    xai_status st;
    int64_t axis, shape[2];
    if ((st = xai_attr_int(c->m, c->np, "axis", 1, &axis)))
        return st;
    if (axis < 0) axis += a->ndim;
    if (axis < 0 || axis > a->ndim)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Flatten): axis out of range", c->m->name, nn(c->np));
    shape[0] = 1;
    shape[1] = 1;
    for (int k = 0; k < a->ndim; k++)
        shape[k < axis ? 0 : 1] *= a->shape[k];
    return fold_copy(c, a->dtype, 2, shape);
}

/* Without perm, Transpose reverses the axes. */
static xai_status fold_transpose(const fold_ctx *c)
{
    xai_model *m = c->m;
    const xai_value *a = c->a;
    xai_status st;
    int64_t perm[XAI_MAX_DIMS], shape[XAI_MAX_DIMS];
    int np_ = -1;
    if ((st = xai_attr_ints(m, c->np, "perm", perm, XAI_MAX_DIMS, &np_)))
        return st;
    if (np_ < 0) {
        np_ = a->ndim;
        for (int k = 0; k < np_; k++)
            perm[k] = np_ - 1 - k;
    }
    if (np_ != a->ndim)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Transpose): perm has the wrong length", m->name, nn(c->np));
    for (int k = 0; k < np_; k++) {
        if (perm[k] < 0 || perm[k] >= np_)
            XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Transpose): bad perm", m->name, nn(c->np));
        shape[k] = a->shape[perm[k]];
    }
    if ((st = alloc_const(m, c->o, a->dtype, np_, shape)))
        return st;
    int64_t istr[XAI_MAX_DIMS], pstr[XAI_MAX_DIMS];
    xai_row_strides(a->ndim, a->shape, istr);
    for (int d = 0; d < np_; d++)
        pstr[d] = istr[perm[d]];
    for (int64_t k = 0; k < c->o->numel; k++)
        ccopy(c->o, k, a, xai_strided_index(k, np_, shape, 0, pstr));
    return XAI_OK;
}

static xai_status fold_range(const fold_ctx *c)
{
    xai_model *m = c->m;
    const xai_value *a = c->a, *b = c->b;
    xai_status st;
    int64_t shape[1];
    if (c->nin < 3 || c->ins[0] < 0 || c->ins[1] < 0 || c->ins[2] < 0)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Range): needs three inputs", m->name, nn(c->np));
    const xai_value *d_ = &m->vals[c->ins[2]];
    if (!b->is_const || !d_->is_const || a->numel != 1 || b->numel != 1 || d_->numel != 1)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Range): inputs must be constant scalars", m->name, nn(c->np));
    double s0 = cget(a, 0), lim = cget(b, 0), d = cget(d_, 0);
    if (d == 0)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Range): zero delta", m->name, nn(c->np));
    double cnt = ceil((lim - s0) / d);
    shape[0] = cnt > 0 ? (int64_t)cnt : 0;
    if (shape[0] > MAX_NUMEL)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (Range): too many elements", m->name, nn(c->np));
    if ((st = alloc_const(m, c->o, a->dtype, 1, shape)))
        return st;
    for (int64_t k = 0; k < shape[0]; k++)
        cset(c->o, k, s0 + (double)k * d);
    return XAI_OK;
}

typedef xai_status (*fold_fn)(const fold_ctx *c);

/* The ops folded at load time when all their inputs are constants (Shape: when its input's shape is
   known), so that shape arithmetic exported by PyTorch never becomes runtime nodes. */
static const struct {
    const char *op;
    fold_fn fn;
} fold_ops[] = {
    {"Shape", fold_shape},         {"Gather", fold_gather},   {"Unsqueeze", fold_unsqueeze},
    {"Squeeze", fold_squeeze},     {"Concat", fold_concat},   {"ConstantOfShape", fold_constant_of_shape},
    {"Expand", fold_expand},       {"Cast", fold_cast},       {"Reshape", fold_reshape},
    {"Slice", fold_slice},         {"Identity", fold_identity}, {"Add", fold_arith},
    {"Sub", fold_arith},           {"Mul", fold_arith},       {"Div", fold_arith},
    {"Transpose", fold_transpose}, {"Flatten", fold_flatten}, {"Range", fold_range},
    {"Neg", fold_neg},
};

static fold_fn fold_lookup(const char *op)
{
    for (size_t i = 0; i < sizeof fold_ops / sizeof fold_ops[0]; i++)
        if (strcmp(op, fold_ops[i].op) == 0)
            return fold_ops[i].fn;
    return NULL;
}

static int is_foldable(const char *op)
{
    return fold_lookup(op) != NULL;
}

static xai_status fold_node(xai_model *m, const Onnx__NodeProto *np, int *ins, int nin, int out)
{
    const char *op = np->op_type;
    fold_ctx c = {m, np, ins, nin, &m->vals[out], NULL, NULL};
    c.a = nin > 0 && ins[0] >= 0 ? &m->vals[ins[0]] : NULL;
    c.b = nin > 1 && ins[1] >= 0 ? &m->vals[ins[1]] : NULL;
    if (!c.a && strcmp(op, "Range") != 0)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (%s) has no input", m->name, nn(np), op);
    if (strcmp(op, "Shape") == 0)
        return fold_shape(&c);
    /* only Range gets here without a first input, and refuses it itself */
    if (c.a && !c.a->is_const)
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s' (%s): folding needs constant inputs", m->name, nn(np), op);
    fold_fn fn = fold_lookup(op);
    if (!fn)
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s': cannot fold op %s", m->name, nn(np), op);
    return fn(&c);
}

/* ---------------------------------------------------------------- op table */

typedef struct {
    const char *op;
    xai_kind kind;
    xai_op_init_fn init;
} op_entry;

static const op_entry op_entries[] = {
    {"Conv", K_CONV, xai_conv_init},
    {"Gemm", K_GEMM, xai_gemm_init},
    {"MatMul", K_GEMM, xai_matmul_init},
    {"Add", K_ADD, xai_eltwise_init},
    {"Sub", K_SUB, xai_eltwise_init},
    {"Mul", K_MUL, xai_eltwise_init},
    {"Div", K_DIV, xai_eltwise_init},
    {"Relu", K_RELU, xai_act_init},
    {"LeakyRelu", K_LEAKYRELU, xai_act_init},
    {"Sigmoid", K_SIGMOID, xai_act_init},
    {"Tanh", K_TANH, xai_act_init},
    {"Elu", K_ELU, xai_act_init},
    {"MaxPool", K_MAXPOOL, xai_pool_init},
    {"AveragePool", K_AVGPOOL, xai_pool_init},
    {"GlobalAveragePool", K_GAP, xai_gap_init},
    {"BatchNormalization", K_BN, xai_bn_init},
    {"Flatten", K_RESHAPE, xai_shape_init},
    {"Reshape", K_RESHAPE, xai_shape_init},
    {"Squeeze", K_RESHAPE, xai_shape_init},
    {"Unsqueeze", K_RESHAPE, xai_shape_init},
    {"Transpose", K_TRANSPOSE, xai_shape_init},
    {"Concat", K_CONCAT, xai_shape_init},
    {"Slice", K_SLICE, xai_shape_init},
    {"Gather", K_GATHER, xai_shape_init},
    {"Pad", K_PAD, xai_shape_init},
    {"Identity", K_IDENTITY, xai_shape_init},
    {"Dropout", K_IDENTITY, xai_shape_init},
    {"LSTM", K_LSTM, xai_lstm_init},
};

/* ---------------------------------------------------------------- model build */

/* Set when the last load on this thread failed only for want of an input shape, so that
   xai_model_load_for_input() knows a shape from the input may help (and nothing else). */
static _Thread_local int symbolic_input;

static xai_status value_info_shape(xai_model *m, const Onnx__ValueInfoProto *vi, const xai_load_options *opts,
                                   xai_value *v)
{
    const char *name = vi->name ? vi->name : "(input)";
    if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !vi->type->tensor_type)
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: graph input '%s' is not a tensor", m->name, name);
    const Onnx__TypeProto__Tensor *tt = vi->type->tensor_type;
    if (tt->has_elem_type && tt->elem_type != 1 && tt->elem_type != 11)
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: graph input '%s' has element type %d; only float is supported", m->name,
                 name, tt->elem_type);
    if (opts && opts->input_ndim > 0) {
        if (opts->input_ndim > XAI_MAX_DIMS)
            XAI_FAIL(XAI_EINVAL, "input shape override has too many dimensions");
        v->ndim = opts->input_ndim;
        for (int k = 0; k < v->ndim; k++)
            v->shape[k] = opts->input_shape[k];
    } else {
        if (!tt->shape)
            XAI_FAIL(XAI_EUNSUPPORTED, "%s: graph input '%s' has no shape; pass one explicitly", m->name, name);
        if (tt->shape->n_dim > XAI_MAX_DIMS)
            XAI_FAIL(XAI_EUNSUPPORTED, "%s: graph input '%s' has rank %zu", m->name, name, tt->shape->n_dim);
        v->ndim = (int)tt->shape->n_dim;
        for (int k = 0; k < v->ndim; k++) {
            const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[k];
            if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value > 0) {
                v->shape[k] = d->dim_value;
            } else if (k == 0) {
                v->shape[k] = 1; /* symbolic batch */
            } else {
                symbolic_input = 1;
                XAI_FAIL(XAI_EUNSUPPORTED,
                         "%s: graph input '%s' has a symbolic or unknown dimension %d ('%s'); pass the input shape",
                         m->name, name, k,
                         d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && d->dim_param
                             ? d->dim_param : "?");
            }
        }
    }
    v->numel = 1;
    for (int k = 0; k < v->ndim; k++) {
        if (v->shape[k] <= 0 || v->shape[k] > MAX_NUMEL / v->numel)
            XAI_FAIL(XAI_EFORMAT, "%s: graph input '%s' has an invalid dimension %lld", m->name, name,
                     (long long)v->shape[k]);
        v->numel *= v->shape[k];
    }
    v->dtype = DT_F32;
    return XAI_OK;
}

int xai_model_find_value(const xai_model *m, const char *name)
{
    for (int i = m->nvals - 1; i >= 0; i--)
        if (!m->vals[i].no_adj && strcmp(m->vals[i].name, name) == 0)
            return i;
    return -1;
}

int xai_model_add_value(xai_model *m, const char *name)
{
    if (m->nvals == m->cap_vals) {
        int cap = m->cap_vals ? m->cap_vals * 2 : 64;
        xai_value *nv = realloc(m->vals, sizeof *nv * (size_t)cap);
        if (!nv)
            return -1;
        m->vals = nv;
        m->cap_vals = cap;
    }
    xai_value *v = &m->vals[m->nvals];
    memset(v, 0, sizeof *v);
    v->name = strdup(name ? name : "");
    if (!v->name)
        return -1;
    v->producer = -1;
    return m->nvals++;
}

xai_status xai_model_add_node(xai_model *m, xai_node **out)
{
    if (m->nnodes == m->cap_nodes) {
        int cap = m->cap_nodes ? m->cap_nodes * 2 : 32;
        xai_node *nn_ = realloc(m->nodes, sizeof *nn_ * (size_t)cap);
        if (!nn_)
            XAI_FAIL(XAI_ENOMEM, "out of memory");
        m->nodes = nn_;
        m->cap_nodes = cap;
    }
    xai_node *n = &m->nodes[m->nnodes++];
    memset(n, 0, sizeof *n);
    n->fold_bn = -1;
    n->bn_of = -1;
    for (int k = 0; k < 8; k++)
        n->in[k] = -1;
    for (int k = 0; k < 4; k++)
        n->out[k] = -1;
    *out = n;
    return XAI_OK;
}

/* Simple string -> index hash map for value lookup during import. */
typedef struct {
    const char **keys;
    int *vals;
    size_t cap;
} strmap;

static uint64_t hstr(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static int map_init(strmap *mp, size_t n)
{
    mp->cap = 16;
    while (mp->cap < n * 2 + 16)
        mp->cap *= 2;
    mp->keys = calloc(mp->cap, sizeof *mp->keys);
    mp->vals = calloc(mp->cap, sizeof *mp->vals);
    return mp->keys && mp->vals ? 0 : -1;
}

static void map_put(strmap *mp, const char *k, int v)
{
    size_t i = hstr(k) & (mp->cap - 1);
    while (mp->keys[i] && strcmp(mp->keys[i], k) != 0)
        i = (i + 1) & (mp->cap - 1);
    mp->keys[i] = k;
    mp->vals[i] = v;
}

static int map_get(const strmap *mp, const char *k)
{
    size_t i = hstr(k) & (mp->cap - 1);
    while (mp->keys[i]) {
        if (strcmp(mp->keys[i], k) == 0)
            return mp->vals[i];
        i = (i + 1) & (mp->cap - 1);
    }
    return -1;
}

static void map_free(strmap *mp)
{
    free(mp->keys);
    free(mp->vals);
}

/* The state of one import: the graph, names -> value indices, and the node order being built. */
typedef struct {
    xai_model *m;
    const Onnx__GraphProto *g;
    strmap vm;
    size_t nn;          /* nodes in the graph */
    char *skip;         /* trailing Softmax/LogSoftmax/Identity nodes left out */
    int *order, *indeg; /* topological order (Kahn) and in-degrees */
    const char *outname;
    int64_t act_total;  /* activation elements per sample so far */
} importer;

/* The default-domain opset (when it is imported twice, the last entry counts). */
static xai_status read_opset(xai_model *m, const Onnx__ModelProto *mp)
{
    m->opset = -1;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const char *d = mp->opset_import[i]->domain;
        if (!d || !*d || strcmp(d, "ai.onnx") == 0)
            m->opset = (int)mp->opset_import[i]->version;
    }
    if (m->opset < 0)
        XAI_FAIL(XAI_EFORMAT, "%s: the model imports no default-domain opset", m->name);
    if (m->opset < 11 || m->opset > 18)
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: opset %d is not supported (opsets 11-18 are)", m->name, m->opset);
    return XAI_OK;
}

static xai_status read_metadata(xai_model *m, const Onnx__ModelProto *mp)
{
    for (size_t i = 0; i < mp->n_metadata_props; i++) {
        const Onnx__StringStringEntryProto *e = mp->metadata_props[i];
        char **nk = realloc(m->meta_key, sizeof(char *) * (size_t)(m->nmeta + 1));
        if (!nk)
            XAI_FAIL(XAI_ENOMEM, "out of memory");
        m->meta_key = nk;
        char **nv = realloc(m->meta_val, sizeof(char *) * (size_t)(m->nmeta + 1));
        if (!nv)
            XAI_FAIL(XAI_ENOMEM, "out of memory");
        m->meta_val = nv;
        m->meta_key[m->nmeta] = strdup(e->key ? e->key : "");
        m->meta_val[m->nmeta] = strdup(e->value ? e->value : "");
        m->nmeta++;
    }
    return XAI_OK;
}

/* A new named value, findable by name from now on; *v its index. */
static xai_status add_named(importer *im, const char *name, int *v)
{
    *v = xai_model_add_value(im->m, name);
    if (*v < 0)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    map_put(&im->vm, im->m->vals[*v].name, *v);
    return XAI_OK;
}

static xai_status add_initializers(importer *im)
{
    xai_model *m = im->m;
    xai_status st;
    int v;
    for (size_t i = 0; i < im->g->n_initializer; i++) {
        const Onnx__TensorProto *t = im->g->initializer[i];
        if (!t->name || !*t->name)
            XAI_FAIL(XAI_EFORMAT, "%s: initializer %zu has no name", m->name, i);
        v = xai_model_add_value(m, t->name);
        if (v < 0)
            XAI_FAIL(XAI_ENOMEM, "out of memory");
        if ((st = tensor_to_value(m, t, &m->vals[v])))
            return st;
        map_put(&im->vm, m->vals[v].name, v);
    }
    return XAI_OK;
}

/* The one graph input that is not an initializer (older exporters list initializers as inputs too). */
static xai_status add_input(importer *im, const xai_load_options *opts)
{
    xai_model *m = im->m;
    const Onnx__GraphProto *g = im->g;
    xai_status st;
    m->input = -1;
    for (size_t i = 0; i < g->n_input; i++) {
        const char *name = g->input[i]->name ? g->input[i]->name : "";
        if (map_get(&im->vm, name) >= 0)
            continue;
        if (m->input >= 0)
            XAI_FAIL(XAI_EUNSUPPORTED, "%s: the graph has more than one input ('%s' and '%s')", m->name,
                     m->vals[m->input].name, name);
        int v = xai_model_add_value(m, name);
        if (v < 0)
            XAI_FAIL(XAI_ENOMEM, "out of memory");
        if ((st = value_info_shape(m, g->input[i], opts, &m->vals[v])))
            return st;
        map_put(&im->vm, m->vals[v].name, v);
        m->input = v;
    }
    if (m->input < 0)
        XAI_FAIL(XAI_EFORMAT, "%s: the graph has no input", m->name);
    if (g->n_output < 1 || !g->output[0]->name)
        XAI_FAIL(XAI_EFORMAT, "%s: the graph has no output", m->name);
    return XAI_OK;
}

/* Drop Softmax/LogSoftmax (and Identity) at the output: explain the logits before them. */
static void skip_output_softmax(importer *im)
{
    im->outname = im->g->output[0]->name;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < im->nn; i++) {
            const Onnx__NodeProto *np = im->g->node[i];
            if (im->skip[i] || np->n_output < 1 || !np->output[0] || strcmp(np->output[0], im->outname) != 0)
                continue;
            const char *op = np->op_type ? np->op_type : "";
            if ((strcmp(op, "Softmax") == 0 || strcmp(op, "LogSoftmax") == 0 || strcmp(op, "Identity") == 0) &&
                np->n_input >= 1) {
                im->skip[i] = 1;
                im->outname = np->input[0];
                changed = 1;
            }
        }
    }
}

/* Which node produces each value name; a name produced twice (or also an initializer/input) is an error. */
static xai_status map_producers(importer *im, strmap *prod)
{
    xai_model *m = im->m;
    for (size_t i = 0; i < im->nn; i++) {
        const Onnx__NodeProto *np = im->g->node[i];
        if (!np->op_type)
            XAI_FAIL(XAI_EFORMAT, "%s: node %zu has no op_type", m->name, i);
        for (size_t k = 0; k < np->n_output; k++)
            if (np->output[k] && *np->output[k]) {
                if (map_get(prod, np->output[k]) >= 0 || map_get(&im->vm, np->output[k]) >= 0)
                    XAI_FAIL(XAI_EFORMAT, "%s: value '%s' is produced twice", m->name, np->output[k]);
                map_put(prod, np->output[k], (int)i);
            }
    }
    return XAI_OK;
}

/* A node's in-degree counts its inputs made by other nodes; an input nothing provides is an error. */
static xai_status count_indegrees(importer *im, const strmap *prod)
{
    for (size_t i = 0; i < im->nn; i++) {
        const Onnx__NodeProto *np = im->g->node[i];
        for (size_t k = 0; k < np->n_input; k++) {
            const char *in = np->input[k];
            if (!in || !*in)
                continue;
            if (map_get(prod, in) >= 0)
                im->indeg[i]++;
            else if (map_get(&im->vm, in) < 0)
                XAI_FAIL(XAI_EFORMAT, "%s: node '%s' (%s) reads '%s', which no initializer, input or node provides",
                         im->m->name, nn(np), np->op_type, in);
        }
    }
    return XAI_OK;
}

/* Kahn's algorithm; returns the number of nodes ordered (fewer than nn: a cycle). */
static size_t kahn_order(importer *im)
{
    const Onnx__GraphProto *g = im->g;
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < im->nn; i++)
        if (im->indeg[i] == 0)
            im->order[tail++] = (int)i;
    while (head < tail) {
        const Onnx__NodeProto *np = g->node[im->order[head++]];
        for (size_t k = 0; k < np->n_output; k++) {
            if (!np->output[k] || !*np->output[k])
                continue;
            for (size_t j = 0; j < im->nn; j++) {
                const Onnx__NodeProto *q = g->node[j];
                for (size_t t = 0; t < q->n_input; t++)
                    if (q->input[t] && strcmp(q->input[t], np->output[k]) == 0 && --im->indeg[j] == 0)
                        im->order[tail++] = (int)j;
            }
        }
    }
    return tail;
}

/* Topological order: a node is ready when every input name is known (cycles are errors). */
static xai_status topo_order(importer *im)
{
    xai_status st;
    strmap prod;
    if (map_init(&prod, im->nn * 4 + 8)) {
        map_free(&prod); /* one of its two arrays may have been allocated */
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    }
    if (!(st = map_producers(im, &prod)))
        st = count_indegrees(im, &prod);
    map_free(&prod);
    if (st)
        return st;
    size_t tail = kahn_order(im);
    if (tail != im->nn)
        XAI_FAIL(XAI_EFORMAT, "%s: the graph has a cycle (%zu of %zu nodes cannot be ordered)", im->m->name,
                 im->nn - tail, im->nn);
    return XAI_OK;
}

/* A Constant node in one of its attribute forms (value tensor, or value_float/_int/_ints/_floats). */
static xai_status add_constant(importer *im, const Onnx__NodeProto *np)
{
    xai_model *m = im->m;
    xai_status st;
    int v;
    if (np->n_output != 1 || !np->output[0])
        XAI_FAIL(XAI_EFORMAT, "%s: Constant node '%s' needs one output", m->name, nn(np));
    const Onnx__AttributeProto *a = xai_attr_find(np, "value");
    if ((st = add_named(im, np->output[0], &v)))
        return st;
    if (a && a->t)
        return tensor_to_value(m, a->t, &m->vals[v]);
    const Onnx__AttributeProto *af = xai_attr_find(np, "value_float");
    const Onnx__AttributeProto *ai = xai_attr_find(np, "value_int");
    const Onnx__AttributeProto *ais = xai_attr_find(np, "value_ints");
    const Onnx__AttributeProto *afs = xai_attr_find(np, "value_floats");
    xai_value *cv = &m->vals[v];
    int64_t one = 1;
    if (af) {
        if ((st = alloc_const(m, cv, DT_F32, 0, &one)))
            return st;
        cv->f[0] = af->f;
    } else if (ai) {
        if ((st = alloc_const(m, cv, DT_I64, 0, &one)))
            return st;
        cv->i[0] = ai->i;
    } else if (ais) {
        int64_t n1 = (int64_t)ais->n_ints;
        if ((st = alloc_const(m, cv, DT_I64, 1, &n1)))
            return st;
        for (size_t k = 0; k < ais->n_ints; k++)
            cv->i[k] = ais->ints[k];
    } else if (afs) {
        int64_t n1 = (int64_t)afs->n_floats;
        if ((st = alloc_const(m, cv, DT_F32, 1, &n1)))
            return st;
        for (size_t k = 0; k < afs->n_floats; k++)
            cv->f[k] = afs->floats[k];
    } else {
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: Constant node '%s': attribute form not supported", m->name, nn(np));
    }
    return XAI_OK;
}

static xai_status add_folded(importer *im, const Onnx__NodeProto *np, int *ins, int nin)
{
    xai_status st;
    int v;
    if (np->n_output < 1 || !np->output[0])
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' has no output", im->m->name, nn(np));
    if ((st = add_named(im, np->output[0], &v)))
        return st;
    return fold_node(im->m, np, ins, nin, v);
}

/* The node's outputs as float activations it produces (empty output names stay -1). */
static xai_status add_outputs(importer *im, xai_node *n, const Onnx__NodeProto *np)
{
    xai_model *m = im->m;
    n->nout = (int)np->n_output;
    for (int k = 0; k < n->nout; k++) {
        if (!np->output[k] || !*np->output[k])
            continue;
        int v = xai_model_add_value(m, np->output[k]);
        if (v < 0)
            XAI_FAIL(XAI_ENOMEM, "out of memory");
        m->vals[v].producer = m->nnodes - 1;
        m->vals[v].dtype = DT_F32;
        n->out[k] = v;
        map_put(&im->vm, m->vals[v].name, v);
    }
    if (n->nout < 1 || n->out[0] < 0)
        XAI_FAIL(XAI_EFORMAT, "%s: node '%s' has no output", m->name, n->name);
    return XAI_OK;
}

/* Refuse absurd activation sizes before a workspace is ever sized for them. */
static xai_status check_activations(importer *im, const xai_node *n)
{
    for (int k = 0; k < n->nout; k++) {
        if (n->out[k] < 0)
            continue;
        int64_t ne = im->m->vals[n->out[k]].numel;
        im->act_total += ne;
        if (ne > MAX_ACT_NUMEL || im->act_total > MAX_ACT_TOTAL)
            XAI_FAIL(XAI_EUNSUPPORTED,
                     "%s: node '%s' (%s): activations of %lld elements per sample are beyond what "
                     "libxai supports", im->m->name, n->name, n->op_type,
                     (long long)(ne > MAX_ACT_NUMEL ? ne : im->act_total));
    }
    return XAI_OK;
}

/* A runtime node of a supported op, shaped and checked by its op family's init. */
static xai_status add_runtime(importer *im, const Onnx__NodeProto *np, const int *ins, int nin)
{
    xai_model *m = im->m;
    const char *op = np->op_type;
    xai_status st;
    const op_entry *e = NULL;
    for (size_t k = 0; k < sizeof op_entries / sizeof op_entries[0]; k++)
        if (strcmp(op_entries[k].op, op) == 0)
            e = &op_entries[k];
    if (!e)
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s': op type '%s' is not supported", m->name, nn(np), op);
    xai_node *n;
    if ((st = xai_model_add_node(m, &n)))
        return st;
    n->kind = e->kind;
    n->ops = xai_ops_table[e->kind];
    n->name = strdup(np->name && *np->name ? np->name : (np->n_output > 0 && np->output[0]) ? np->output[0] : op);
    n->op_type = strdup(op);
    if (!n->name || !n->op_type)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    n->nin = nin;
    for (int k = 0; k < nin; k++)
        n->in[k] = ins[k];
    if ((st = add_outputs(im, n, np)) || (st = e->init(m, n, np)))
        return st;
    return check_activations(im, n);
}

/* One node in order: Constant and shape-only subgraphs fold, the rest become runtime nodes. */
static xai_status add_node_proto(importer *im, const Onnx__NodeProto *np)
{
    xai_model *m = im->m;
    const char *op = np->op_type;
    if (np->domain && *np->domain && strcmp(np->domain, "ai.onnx") != 0)
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s': op %s of domain '%s' is not supported", m->name, nn(np), op,
                 np->domain);
    if (np->n_input > 8 || np->n_output > 4)
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: node '%s' (%s) has too many inputs or outputs", m->name, nn(np), op);
    int ins[8];
    int nin = (int)np->n_input, allconst = 1, anyin = 0;
    for (int k = 0; k < nin; k++) {
        ins[k] = (np->input[k] && *np->input[k]) ? map_get(&im->vm, np->input[k]) : -1;
        if (ins[k] >= 0) {
            anyin = 1;
            if (!m->vals[ins[k]].is_const)
                allconst = 0;
        }
    }
    if (strcmp(op, "Constant") == 0)
        return add_constant(im, np);
    if (((allconst && anyin) || strcmp(op, "Shape") == 0) && is_foldable(op))
        return add_folded(im, np, ins, nin);
    return add_runtime(im, np, ins, nin);
}

/* Order the nodes, add them, and find the output (which must depend on the input). */
static xai_status build_nodes(importer *im)
{
    xai_model *m = im->m;
    xai_status st;
    skip_output_softmax(im);
    if ((st = topo_order(im)))
        return st;
    for (size_t oi = 0; oi < im->nn; oi++)
        if (!im->skip[im->order[oi]] && (st = add_node_proto(im, im->g->node[im->order[oi]])))
            return st;
    m->output = map_get(&im->vm, im->outname);
    if (m->output < 0)
        XAI_FAIL(XAI_EFORMAT, "%s: graph output '%s' is never produced", m->name, im->outname);
    if (m->vals[m->output].is_const)
        XAI_FAIL(XAI_EUNSUPPORTED, "%s: graph output '%s' does not depend on the input", m->name, im->outname);
    return XAI_OK;
}

static xai_status build(xai_model *m, const Onnx__ModelProto *mp, const xai_load_options *opts)
{
    xai_status st;
    importer im = {.m = m, .g = mp->graph};
    if (!im.g)
        XAI_FAIL(XAI_EFORMAT, "%s: not an ONNX model (no graph)", m->name);
    if ((st = read_opset(m, mp)) || (st = read_metadata(m, mp)))
        return st;
    const Onnx__GraphProto *g = im.g;
    if (map_init(&im.vm, g->n_initializer + g->n_input + g->n_node * 4 + 8)) {
        map_free(&im.vm); /* one of its two arrays may have been allocated */
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    }
    if (!(st = add_initializers(&im)) && !(st = add_input(&im, opts))) {
        im.nn = g->n_node;
        im.skip = calloc(im.nn ? im.nn : 1, 1);
        im.order = malloc(sizeof(int) * (im.nn ? im.nn : 1));
        im.indeg = calloc(im.nn ? im.nn : 1, sizeof(int));
        if (!im.skip || !im.order || !im.indeg)
            st = xai_error_set(XAI_ENOMEM, "out of memory");
        else
            st = build_nodes(&im);
        free(im.skip);
        free(im.order);
        free(im.indeg);
    }
    map_free(&im.vm);
    return st;
}

void xai_graph_finalize(xai_model *m); /* graph.c: dead-node pruning, consumers, BN pairing */

xai_status xai_model_load_onnx_mem(const void *buf, size_t len, const char *name, const xai_load_options *opts,
                                   xai_model **out)
{
    *out = NULL;
    xai_error_clear();
    symbolic_input = 0;
    if (!name)
        name = "(memory)";
    xai_model *m = calloc(1, sizeof *m);
    if (!m)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    pthread_mutex_init(&m->explain_mu, NULL);
    m->name = strdup(name);
    m->input = m->output = -1;
    if (!m->name) {
        pthread_mutex_destroy(&m->explain_mu);
        free(m);
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    }
    if (len == 0) {
        xai_model_free(m);
        XAI_FAIL(XAI_EFORMAT, "%s: empty file", name);
    }
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
    if (!mp) {
        xai_model_free(m);
        XAI_FAIL(XAI_EFORMAT, "%s: not a valid ONNX protobuf (truncated or corrupt)", name);
    }
    xai_status st = build(m, mp, opts);
    onnx__model_proto__free_unpacked(mp, NULL);
    if (st == XAI_OK) {
        m->src = malloc(len);
        if (!m->src)
            st = xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
        else
            memcpy(m->src, buf, len);
        m->src_len = len;
    }
    if (st == XAI_OK)
        xai_graph_finalize(m);
    if (st) {
        xai_model_free(m);
        return st;
    }
    *out = m;
    return XAI_OK;
}

/* The whole file at @p path into *buf (free() it), its length in *len. */
static xai_status read_model_file(const char *path, void **buf, size_t *len)
{
    *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        XAI_FAIL(XAI_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        XAI_FAIL(XAI_EIO, "%s: cannot seek", path);
    }
    long n = ftell(f);
    if (n < 0 || (size_t)n > MAX_FILE_BYTES) {
        fclose(f);
        XAI_FAIL(XAI_EIO, "%s: cannot read (size %ld)", path, n);
    }
    rewind(f);
    void *b = malloc(n > 0 ? (size_t)n : 1);
    if (!b) {
        fclose(f);
        XAI_FAIL(XAI_ENOMEM, "%s: out of memory", path);
    }
    if (n > 0 && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        fclose(f);
        XAI_FAIL(XAI_EIO, "%s: short read", path);
    }
    fclose(f);
    *buf = b;
    *len = (size_t)n;
    return XAI_OK;
}

xai_status xai_model_load_onnx(const char *path, const xai_load_options *opts, xai_model **out)
{
    *out = NULL;
    void *buf;
    size_t n;
    xai_status st = read_model_file(path, &buf, &n);
    if (st == XAI_OK)
        st = xai_model_load_onnx_mem(buf, n, path, opts, out);
    free(buf);
    return st;
}

/* Only a model that failed for want of an input shape is tried again, with the shapes the
   input allows (one sample, then a stack); when none fits, the first reason is reported. */
xai_status xai_model_load_for_input(const char *path, int ndim, const int64_t *shape, xai_model **out)
{
    if (!out)
        return xai_error_set(XAI_EINVAL, "xai_model_load_for_input: NULL output");
    *out = NULL;
    if (!path || ndim < 0 || (ndim > 0 && !shape))
        return xai_error_set(XAI_EINVAL, "xai_model_load_for_input: NULL path or shape");
    void *buf;
    size_t n;
    xai_status st = read_model_file(path, &buf, &n);
    if (st == XAI_OK)
        st = xai_model_load_onnx_mem(buf, n, path, NULL, out);
    if (st == XAI_EUNSUPPORTED && symbolic_input) {
        char first[1024];
        snprintf(first, sizeof first, "%s", xai_last_error());
        xai_status first_st = st;
        xai_load_options lo;
        memset(&lo, 0, sizeof lo);
        for (int lead = 0; lead < 2 && st != XAI_OK; lead++) {
            if (ndim - lead < 1 || ndim - lead > XAI_MAX_DIMS)
                continue;
            lo.input_ndim = ndim - lead;
            memcpy(lo.input_shape, shape + lead, sizeof(int64_t) * (size_t)lo.input_ndim);
            st = xai_model_load_onnx_mem(buf, n, path, &lo, out);
        }
        if (st != XAI_OK)
            st = xai_error_set(first_st, "%s", first);
    }
    free(buf);
    return st;
}
