/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * export.c - ONNX export of a loaded (and possibly trained) model: the ONNX bytes the model
 * was loaded from are decoded again, every float32 initializer gets the model's current
 * values (raw_data, little-endian), metadata_props become the model's, BatchNormalization
 * after a Conv/Gemm is folded into it (unless asked to keep it), the default-domain opset
 * can be raised, and the result is written atomically (temp file + rename).
 * Fields of the ONNX schema outside our onnx.proto subset survive as protobuf-c unknown
 * fields. Specs: ONNX IR (onnx.proto), operator docs for BatchNormalization, Conv, Gemm,
 * Squeeze/Unsqueeze (opset 13: axes become an input) and Dropout (opset 12: ratio becomes
 * an input); ONNX IR version table (opset 13-14: IR 7, opset 15-18: IR 8).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graph-int.h"
#include "onnx-edit.h"
#include "xai/train.h"

#define MAX_EXPORT_OPSET 18

/* ---------------------------------------------------------------- metadata */

xai_status xai_model_set_metadata(xai_model *m, const char *key, const char *value)
{
    if (!m || !key || !value)
        return xai_error_set(XAI_EINVAL, "metadata: NULL argument");
    if (!*key)
        return xai_error_set(XAI_EINVAL, "metadata: empty key");
    char *v = strdup(value);
    if (!v)
        return xai_error_set(XAI_ENOMEM, "metadata: out of memory");
    for (int i = 0; i < m->nmeta; i++)
        if (strcmp(m->meta_key[i], key) == 0) {
            free(m->meta_val[i]);
            m->meta_val[i] = v;
            return XAI_OK;
        }
    char *k = strdup(key);
    char **nk = realloc(m->meta_key, sizeof(char *) * (size_t)(m->nmeta + 1));
    if (nk)
        m->meta_key = nk;
    char **nv = nk ? realloc(m->meta_val, sizeof(char *) * (size_t)(m->nmeta + 1)) : NULL;
    if (nv)
        m->meta_val = nv;
    if (!k || !nk || !nv) {
        free(k);
        free(v);
        return xai_error_set(XAI_ENOMEM, "metadata: out of memory");
    }
    m->meta_key[m->nmeta] = k;
    m->meta_val[m->nmeta] = v;
    m->nmeta++;
    return XAI_OK;
}

/* ---------------------------------------------------------------- tensor helpers */

int64_t xai_onnx_numel(const Onnx__TensorProto *t)
{
    int64_t n = 1;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0 || (t->dims[i] > 0 && n > INT64_MAX / t->dims[i]))
            return -1;
        n *= t->dims[i];
    }
    return n;
}

/* Replace the data of a float tensor with n floats (raw_data, little-endian). */
int xai_onnx_set_floats(Onnx__TensorProto *t, const float *x, int64_t n)
{
    uint8_t *p = malloc((size_t)(n ? n : 1) * 4);
    if (!p)
        return -1;
    for (int64_t k = 0; k < n; k++) {
        uint32_t u;
        memcpy(&u, &x[k], 4);
        p[4 * k] = (uint8_t)u;
        p[4 * k + 1] = (uint8_t)(u >> 8);
        p[4 * k + 2] = (uint8_t)(u >> 16);
        p[4 * k + 3] = (uint8_t)(u >> 24);
    }
    free(t->raw_data.data);
    t->raw_data.data = p;
    t->raw_data.len = (size_t)n * 4;
    t->has_raw_data = 1;
    free(t->float_data);
    t->float_data = NULL;
    t->n_float_data = 0;
    return 0;
}

/* malloc'ed copy of a float32 tensor's values, or NULL (not float32 / inconsistent / no memory) */
float *xai_onnx_floats(const Onnx__TensorProto *t, int64_t *n)
{
    if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ||
        (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL))
        return NULL;
    int64_t k = xai_onnx_numel(t);
    if (k < 0)
        return NULL;
    if (t->has_raw_data ? t->raw_data.len != (size_t)k * 4 : t->n_float_data != (size_t)k)
        return NULL;
    float *x = malloc((size_t)(k ? k : 1) * sizeof(float));
    if (!x)
        return NULL;
    for (int64_t i = 0; i < k; i++) {
        if (t->has_raw_data) {
            const uint8_t *p = t->raw_data.data + 4 * i;
            uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            memcpy(&x[i], &u, 4);
        } else {
            x[i] = t->float_data[i];
        }
    }
    *n = k;
    return x;
}

static int is_default_domain(const char *d)
{
    return !d || !*d || strcmp(d, "ai.onnx") == 0;
}

int xai_onnx_op_is(const Onnx__NodeProto *n, const char *op)
{
    return n->op_type && strcmp(n->op_type, op) == 0 && is_default_domain(n->domain);
}

Onnx__TensorProto *xai_onnx_init(const Onnx__GraphProto *g, const char *name, size_t *idx)
{
    if (!name || !*name)
        return NULL;
    for (size_t i = 0; i < g->n_initializer; i++)
        if (g->initializer[i]->name && strcmp(g->initializer[i]->name, name) == 0) {
            if (idx)
                *idx = i;
            return g->initializer[i];
        }
    return NULL;
}

/* how often a name is read: node inputs plus graph outputs */
static int uses(const Onnx__GraphProto *g, const char *name)
{
    int c = 0;
    for (size_t i = 0; i < g->n_node; i++)
        for (size_t k = 0; k < g->node[i]->n_input; k++)
            if (g->node[i]->input[k] && strcmp(g->node[i]->input[k], name) == 0)
                c++;
    for (size_t i = 0; i < g->n_output; i++)
        if (g->output[i]->name && strcmp(g->output[i]->name, name) == 0)
            c++;
    return c;
}

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0)
            return n->attribute[i];
    return NULL;
}

int64_t xai_onnx_attr_i(const Onnx__NodeProto *n, const char *name, int64_t def)
{
    const Onnx__AttributeProto *a = attr(n, name);
    return a && (a->has_i || a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT) ? a->i : def;
}

static float attr_f(const Onnx__NodeProto *n, const char *name, float def)
{
    const Onnx__AttributeProto *a = attr(n, name);
    return a && (a->has_f || a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT) ? a->f : def;
}

/* set (or add) a float attribute */
static int set_attr_f(Onnx__NodeProto *n, const char *name, float v)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0) {
            n->attribute[i]->has_f = 1;
            n->attribute[i]->f = v;
            return 0;
        }
    Onnx__AttributeProto *a = malloc(sizeof *a);
    Onnx__AttributeProto **na = realloc(n->attribute, sizeof *na * (n->n_attribute + 1));
    if (na)
        n->attribute = na;
    if (!a || !na) {
        free(a);
        return -1;
    }
    onnx__attribute_proto__init(a);
    a->name = strdup(name);
    if (!a->name) {
        free(a);
        return -1;
    }
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    a->has_f = 1;
    a->f = v;
    n->attribute[n->n_attribute++] = a;
    return 0;
}

static void remove_attr(Onnx__NodeProto *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0) {
            onnx__attribute_proto__free_unpacked(n->attribute[i], NULL);
            memmove(&n->attribute[i], &n->attribute[i + 1], sizeof *n->attribute * (n->n_attribute - i - 1));
            n->n_attribute--;
            return;
        }
}

static int push_input(Onnx__NodeProto *n, const char *name)
{
    char *s = strdup(name);
    char **ni = s ? realloc(n->input, sizeof *ni * (n->n_input + 1)) : NULL;
    if (!ni) {
        free(s);
        return -1;
    }
    n->input = ni;
    n->input[n->n_input++] = s;
    return 0;
}

/* a name no value of the graph uses yet: base, base_1, base_2, ... */
static char *unique_name(const Onnx__GraphProto *g, const char *base)
{
    size_t len = strlen(base) + 24;
    char *s = malloc(len);
    if (!s)
        return NULL;
    for (int k = 0;; k++) {
        if (k == 0)
            snprintf(s, len, "%s", base);
        else
            snprintf(s, len, "%s_%d", base, k);
        int taken = xai_onnx_init(g, s, NULL) != NULL;
        for (size_t i = 0; i < g->n_node && !taken; i++) {
            const Onnx__NodeProto *n = g->node[i];
            for (size_t j = 0; j < n->n_output; j++)
                if (n->output[j] && strcmp(n->output[j], s) == 0)
                    taken = 1;
        }
        for (size_t i = 0; i < g->n_input && !taken; i++)
            if (g->input[i]->name && strcmp(g->input[i]->name, s) == 0)
                taken = 1;
        if (!taken)
            return s;
    }
}

/* append a new float32 initializer (1-D, n values) */
static int add_init(Onnx__GraphProto *g, const char *name, const float *x, int64_t n)
{
    Onnx__TensorProto *t = malloc(sizeof *t);
    Onnx__TensorProto **ni = t ? realloc(g->initializer, sizeof *ni * (g->n_initializer + 1)) : NULL;
    if (ni)
        g->initializer = ni;
    if (!t || !ni) {
        free(t);
        return -1;
    }
    onnx__tensor_proto__init(t);
    t->name = strdup(name);
    t->dims = malloc(sizeof(int64_t));
    if (!t->name || !t->dims || xai_onnx_set_floats(t, x, n)) {
        onnx__tensor_proto__free_unpacked(t, NULL);
        return -1;
    }
    t->dims[0] = n;
    t->n_dims = 1;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    g->initializer[g->n_initializer++] = t;
    return 0;
}

static void remove_node(Onnx__GraphProto *g, size_t i)
{
    onnx__node_proto__free_unpacked(g->node[i], NULL);
    memmove(&g->node[i], &g->node[i + 1], sizeof *g->node * (g->n_node - i - 1));
    g->n_node--;
}

/* drop an initializer nobody reads any more (and its graph input entry, for IR < 4 files) */
static void drop_if_unused(Onnx__GraphProto *g, const char *name)
{
    size_t idx;
    if (!name || !xai_onnx_init(g, name, &idx) || uses(g, name) > 0)
        return;
    for (size_t i = 0; i < g->n_input; i++)
        if (g->input[i]->name && strcmp(g->input[i]->name, name) == 0) {
            onnx__value_info_proto__free_unpacked(g->input[i], NULL);
            memmove(&g->input[i], &g->input[i + 1], sizeof *g->input * (g->n_input - i - 1));
            g->n_input--;
            break;
        }
    onnx__tensor_proto__free_unpacked(g->initializer[idx], NULL);
    memmove(&g->initializer[idx], &g->initializer[idx + 1], sizeof *g->initializer * (g->n_initializer - idx - 1));
    g->n_initializer--;
}

static void drop_value_info(Onnx__GraphProto *g, const char *name)
{
    for (size_t i = 0; i < g->n_value_info;) {
        if (g->value_info[i]->name && strcmp(g->value_info[i]->name, name) == 0) {
            onnx__value_info_proto__free_unpacked(g->value_info[i], NULL);
            memmove(&g->value_info[i], &g->value_info[i + 1], sizeof *g->value_info * (g->n_value_info - i - 1));
            g->n_value_info--;
        } else {
            i++;
        }
    }
}

/* ---------------------------------------------------------------- BN folding */

/* A BN node and the Conv or Gemm (not transA) that feeds it alone, with initializer weights (and
   bias) used by it alone. */
typedef struct {
    Onnx__NodeProto *bn, *p;
    Onnx__TensorProto *wt, *bt, *pt[4]; /* weight, bias (or NULL), BN scale, bias, mean, var */
    int is_conv, is_gemm, has_bias_input;
} bn_pattern;

/* The values of one fold, decoded to float; C output channels of `inner` weights each (Conv). */
typedef struct {
    float *w, *b, *pv[4], *nbias;
    int64_t nw, nb, np[4], C, inner;
    int transB;
    float beta;
} bn_values;

/* Whether g->node[bi] is a foldable BN: 1 with *pat filled, else 0. */
static int match_bn(Onnx__GraphProto *g, size_t bi, bn_pattern *pat)
{
    Onnx__NodeProto *bn = g->node[bi];
    if (bn->n_input != 5 || bn->n_output < 1 || !bn->output[0] || !*bn->output[0] || xai_onnx_attr_i(bn, "training_mode", 0))
        return 0;
    for (size_t k = 1; k < bn->n_output; k++)
        if (bn->output[k] && *bn->output[k])
            return 0;
    const char *x = bn->input[0];
    if (!x || uses(g, x) != 1)
        return 0;
    Onnx__NodeProto *p = NULL;
    for (size_t i = 0; i < g->n_node; i++)
        if (g->node[i]->n_output >= 1 && g->node[i]->output[0] && strcmp(g->node[i]->output[0], x) == 0)
            p = g->node[i];
    if (!p)
        return 0;
    pat->bn = bn;
    pat->p = p;
    pat->is_conv = xai_onnx_op_is(p, "Conv");
    pat->is_gemm = xai_onnx_op_is(p, "Gemm");
    if ((!pat->is_conv && !pat->is_gemm) || p->n_output != 1 || p->n_input < 2)
        return 0;
    if (pat->is_gemm && xai_onnx_attr_i(p, "transA", 0))
        return 0;
    pat->wt = xai_onnx_init(g, p->input[1], NULL);
    pat->bt = p->n_input > 2 ? xai_onnx_init(g, p->input[2], NULL) : NULL;
    pat->has_bias_input = p->n_input > 2 && p->input[2] && *p->input[2];
    if (!pat->wt || uses(g, p->input[1]) != 1 || (pat->has_bias_input && (!pat->bt || uses(g, p->input[2]) != 1)))
        return 0;
    for (int k = 0; k < 4; k++)
        if (!(pat->pt[k] = xai_onnx_init(g, bn->input[1 + k], NULL)))
            return 0;
    return 1;
}

/* Decode the values and check their sizes agree: 1 when they do, 0 when the fold does not apply
   (or a value cannot be decoded), -1 out of memory. */
static int load_bn_values(const bn_pattern *pat, bn_values *v)
{
    const Onnx__TensorProto *wt = pat->wt, *bt = pat->bt;
    v->w = xai_onnx_floats(wt, &v->nw);
    v->b = bt ? xai_onnx_floats(bt, &v->nb) : NULL;
    if (!v->w || (bt && !v->b))
        return 0;
    for (int k = 0; k < 4; k++)
        if (!(v->pv[k] = xai_onnx_floats(pat->pt[k], &v->np[k])))
            return 0;
    v->inner = 1;
    v->transB = 0;
    v->beta = 1.0f;
    if (pat->is_conv) {
        if (wt->n_dims < 3)
            return 0;
        v->C = wt->dims[0];
        v->inner = v->C ? v->nw / v->C : 0;
    } else {
        if (wt->n_dims != 2)
            return 0;
        v->transB = xai_onnx_attr_i(pat->p, "transB", 0) != 0;
        v->beta = attr_f(pat->p, "beta", 1.0f);
        v->C = v->transB ? wt->dims[0] : wt->dims[1];
    }
    for (int k = 0; k < 4; k++)
        if (v->np[k] != v->C)
            return 0;
    if (v->b && !(v->nb == v->C || (pat->is_gemm && v->nb == 1)))
        return 0;
    if (v->b && pat->is_gemm && bt->n_dims == 2 && bt->dims[0] != 1)
        return 0;
    v->nbias = malloc(sizeof(float) * (size_t)(v->C ? v->C : 1));
    return v->nbias ? 1 : -1;
}

/* Per channel c: s = gamma / sqrt(var + eps) scales the weights of c, and the new bias is
   (b - mean) * s + beta_bn (divided by Gemm's beta, which multiplies it again). */
static void scale_bn(const bn_pattern *pat, bn_values *v)
{
    const Onnx__TensorProto *wt = pat->wt;
    float *w = v->w, *b = v->b, **pv = v->pv;
    int64_t C = v->C, inner = v->inner, nb = v->nb;
    int is_conv = pat->is_conv, is_gemm = pat->is_gemm;
    float beta = v->beta;
    float eps = attr_f(pat->bn, "epsilon", 1e-5f);
    for (int64_t c = 0; c < C; c++) {
        double s = (double)pv[0][c] / sqrt((double)pv[3][c] + (double)eps);
        if (is_conv) {
            for (int64_t q = 0; q < inner; q++)
                w[c * inner + q] = (float)(w[c * inner + q] * s);
        } else if (v->transB) {
            for (int64_t q = 0; q < wt->dims[1]; q++)
                w[c * wt->dims[1] + q] = (float)(w[c * wt->dims[1] + q] * s);
        } else {
            for (int64_t q = 0; q < wt->dims[0]; q++)
                w[q * C + c] = (float)(w[q * C + c] * s);
        }
        double b0 = 0.0;
        if (b)
            b0 = is_conv ? b[c] : (double)beta * (nb == 1 ? b[0] : b[c]);
        double nbv = (b0 - pv[2][c]) * s + pv[1][c];
        if (is_gemm && b && beta != 0.0f)
            nbv /= beta;
        v->nbias[c] = (float)nbv;
    }
}

/* The new bias: into the existing bias initializer, or (no bias, or Gemm's beta 0) a new one,
   "<weight>_bnfold_bias", with Gemm's beta set to 1. 0 on success, -1 out of memory. */
static int store_bias(Onnx__GraphProto *g, const bn_pattern *pat, const bn_values *v, char **bname)
{
    Onnx__NodeProto *p = pat->p;
    Onnx__TensorProto *bt = pat->bt;
    if (v->b && !(pat->is_gemm && v->beta == 0.0f)) {
        if (xai_onnx_set_floats(bt, v->nbias, v->C))
            return -1;
        if (bt->n_dims != 1) {
            int64_t *nd = realloc(bt->dims, sizeof(int64_t));
            if (!nd)
                return -1;
            bt->dims = nd;
            bt->n_dims = 1;
        }
        bt->dims[0] = v->C;
        return 0;
    }
    char base[256];
    snprintf(base, sizeof base, "%s_bnfold_bias", p->input[1]);
    if (!(*bname = unique_name(g, base)) || add_init(g, *bname, v->nbias, v->C))
        return -1;
    if (pat->has_bias_input) {
        char *old = p->input[2];
        p->input[2] = strdup(*bname);
        if (!p->input[2]) {
            p->input[2] = old;
            return -1;
        }
        drop_if_unused(g, old);
        free(old);
    } else if (p->n_input == 2 && push_input(p, *bname)) {
        return -1;
    }
    if (pat->is_gemm && set_attr_f(p, "beta", 1.0f))
        return -1;
    return 0;
}

/* The producer now writes the BN output; the BN node and its parameters go. 1, or -1 out of memory. */
static int rewire_bn(Onnx__GraphProto *g, size_t bi, const bn_pattern *pat)
{
    char *newout = strdup(pat->bn->output[0]);
    if (!newout)
        return -1;
    char *oldout = pat->p->output[0];
    pat->p->output[0] = newout;
    char *params[4];
    for (int k = 0; k < 4; k++)
        params[k] = strdup(pat->bn->input[1 + k]);
    remove_node(g, bi);
    drop_value_info(g, oldout);
    free(oldout);
    for (int k = 0; k < 4; k++) {
        drop_if_unused(g, params[k]);
        free(params[k]);
    }
    return 1;
}

/*
 * Try to fold BN node g->node[bi] into its producer. Returns 1 when folded, 0 when the
 * pattern does not apply (left as is), -1 on out of memory.
 */
static int fold_one(Onnx__GraphProto *g, size_t bi)
{
    bn_pattern pat = {0};
    if (!match_bn(g, bi, &pat))
        return 0;
    bn_values v = {0};
    char *bname = NULL;
    int ret = load_bn_values(&pat, &v);
    if (ret == 1) {
        scale_bn(&pat, &v);
        if (xai_onnx_set_floats(pat.wt, v.w, v.nw) || store_bias(g, &pat, &v, &bname))
            ret = -1;
        else
            ret = rewire_bn(g, bi, &pat);
    }
    free(v.w);
    free(v.b);
    for (int k = 0; k < 4; k++)
        free(v.pv[k]);
    free(v.nbias);
    free(bname);
    return ret;
}

static xai_status fold_bn(Onnx__GraphProto *g)
{
    for (size_t i = 0; i < g->n_node;) {
        if (xai_onnx_op_is(g->node[i], "BatchNormalization")) {
            int r = fold_one(g, i);
            if (r < 0)
                return xai_error_set(XAI_ENOMEM, "export: out of memory folding BatchNormalization");
            if (r > 0)
                continue; /* node i was removed */
        }
        i++;
    }
    return XAI_OK;
}

/* ---------------------------------------------------------------- opset raising */

/* attribute ints -> a new int64 initializer appended as input k */
static int attr_to_input_i64(Onnx__GraphProto *g, Onnx__NodeProto *n, const char *aname)
{
    const Onnx__AttributeProto *a = attr(n, aname);
    if (!a)
        return 0;
    char base[256];
    snprintf(base, sizeof base, "%s_%s", n->name && *n->name ? n->name : n->op_type, aname);
    char *nm = unique_name(g, base);
    Onnx__TensorProto *t = malloc(sizeof *t);
    Onnx__TensorProto **ni = (nm && t) ? realloc(g->initializer, sizeof *ni * (g->n_initializer + 1)) : NULL;
    if (ni)
        g->initializer = ni;
    if (!ni) {
        free(nm);
        free(t);
        return -1;
    }
    onnx__tensor_proto__init(t);
    t->name = nm;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    t->dims = malloc(sizeof(int64_t));
    t->int64_data = malloc(sizeof(int64_t) * (a->n_ints ? a->n_ints : 1));
    if (!t->dims || !t->int64_data || push_input(n, nm)) {
        onnx__tensor_proto__free_unpacked(t, NULL);
        return -1;
    }
    t->dims[0] = (int64_t)a->n_ints;
    t->n_dims = 1;
    memcpy(t->int64_data, a->ints, sizeof(int64_t) * a->n_ints);
    t->n_int64_data = a->n_ints;
    g->initializer[g->n_initializer++] = t;
    remove_attr(n, aname);
    return 0;
}

static xai_status raise_opset(Onnx__ModelProto *mp, int from, int to)
{
    Onnx__GraphProto *g = mp->graph;
    for (size_t i = 0; i < g->n_node; i++) {
        Onnx__NodeProto *n = g->node[i];
        if (!is_default_domain(n->domain) || !n->op_type)
            continue;
        if (from < 13 && to >= 13 && (xai_onnx_op_is(n, "Squeeze") || xai_onnx_op_is(n, "Unsqueeze")) && n->n_input == 1) {
            if (attr_to_input_i64(g, n, "axes"))
                return xai_error_set(XAI_ENOMEM, "export: out of memory");
        }
        if (from < 12 && to >= 12 && xai_onnx_op_is(n, "Dropout") && attr(n, "ratio")) {
            float r = attr_f(n, "ratio", 0.5f);
            char base[256];
            snprintf(base, sizeof base, "%s_ratio", n->name && *n->name ? n->name : "dropout");
            char *nm = unique_name(g, base);
            int fail = !nm || add_init(g, nm, &r, 1);
            if (!fail) {
                /* a scalar: drop the dims add_init gave it */
                Onnx__TensorProto *t = g->initializer[g->n_initializer - 1];
                t->n_dims = 0;
                if (n->n_input == 1)
                    fail = push_input(n, nm);
                remove_attr(n, "ratio");
            }
            free(nm);
            if (fail)
                return xai_error_set(XAI_ENOMEM, "export: out of memory");
        }
    }
    for (size_t i = 0; i < mp->n_opset_import; i++)
        if (is_default_domain(mp->opset_import[i]->domain)) {
            mp->opset_import[i]->has_version = 1;
            mp->opset_import[i]->version = to;
        }
    int64_t ir = to >= 15 ? 8 : to >= 13 ? 7 : 6;
    if (!mp->has_ir_version || mp->ir_version < ir) {
        mp->has_ir_version = 1;
        mp->ir_version = ir;
    }
    return XAI_OK;
}

/* ---------------------------------------------------------------- export */

/* Puts the model's current weights into the float initializers they came from. */
static xai_status export_weights(const xai_model *m, Onnx__GraphProto *g)
{
    for (size_t i = 0; i < g->n_initializer; i++) {
        Onnx__TensorProto *t = g->initializer[i];
        if (!t->name || t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
            continue;
        int v = xai_model_find_value(m, t->name);
        if (v < 0 || !m->vals[v].is_const || m->vals[v].dtype != DT_F32 || !m->vals[v].f)
            continue;
        if (m->vals[v].producer >= 0)
            continue;
        if (xai_onnx_numel(t) != m->vals[v].numel)
            return xai_error_set(XAI_EFORMAT, "export: %s: initializer '%s' has %lld values, the model holds %lld",
                                 m->name, t->name, (long long)xai_onnx_numel(t), (long long)m->vals[v].numel);
        if (xai_onnx_set_floats(t, m->vals[v].f, m->vals[v].numel))
            return xai_error_set(XAI_ENOMEM, "export: out of memory");
        t->has_data_location = 0;
    }
    return XAI_OK;
}

/* Replaces the file's metadata by the model's (key, value) pairs. */
static xai_status export_metadata(const xai_model *m, Onnx__ModelProto *mp)
{
    for (size_t i = 0; i < mp->n_metadata_props; i++)
        onnx__string_string_entry_proto__free_unpacked(mp->metadata_props[i], NULL);
    free(mp->metadata_props);
    mp->metadata_props = NULL;
    mp->n_metadata_props = 0;
    if (m->nmeta <= 0)
        return XAI_OK;
    mp->metadata_props = calloc((size_t)m->nmeta, sizeof *mp->metadata_props);
    if (!mp->metadata_props)
        return xai_error_set(XAI_ENOMEM, "export: out of memory");
    for (int i = 0; i < m->nmeta; i++) {
        Onnx__StringStringEntryProto *e = malloc(sizeof *e);
        if (!e)
            return xai_error_set(XAI_ENOMEM, "export: out of memory");
        onnx__string_string_entry_proto__init(e);
        mp->metadata_props[mp->n_metadata_props++] = e;
        e->key = strdup(m->meta_key[i]);
        e->value = strdup(m->meta_val[i]);
        if (!e->key || !e->value)
            return xai_error_set(XAI_ENOMEM, "export: out of memory");
    }
    return XAI_OK;
}

/* Raises the default-domain opset to at least @p min_opset (0: leave it). */
static xai_status export_min_opset(Onnx__ModelProto *mp, int min_opset)
{
    if (min_opset <= 0)
        return XAI_OK;
    int cur = -1;
    for (size_t i = 0; i < mp->n_opset_import; i++)
        if (is_default_domain(mp->opset_import[i]->domain))
            cur = (int)mp->opset_import[i]->version;
    if (cur >= 0 && cur < min_opset)
        return raise_opset(mp, cur, min_opset);
    return XAI_OK;
}

xai_status xai_export_proto(const xai_model *m, const xai_export_options *opts, Onnx__ModelProto **out)
{
    *out = NULL;
    if (!m)
        return xai_error_set(XAI_EINVAL, "export: NULL model");
    if (!m->src || !m->src_len)
        return xai_error_set(XAI_EINVAL, "export: %s: the model keeps no source ONNX bytes", m->name);
    if (opts && (opts->min_opset < 0 || opts->min_opset > MAX_EXPORT_OPSET))
        return xai_error_set(XAI_EINVAL, "export: min_opset %d is outside 0..%d", opts->min_opset,
                             MAX_EXPORT_OPSET);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, m->src_len, m->src);
    if (!mp || !mp->graph) {
        if (mp)
            onnx__model_proto__free_unpacked(mp, NULL);
        return xai_error_set(XAI_EFORMAT, "export: %s: cannot decode the model's ONNX bytes", m->name);
    }
    xai_status st;
    if ((st = export_weights(m, mp->graph)) || (st = export_metadata(m, mp)))
        goto fail;
    if (!(opts && opts->keep_bn) && (st = fold_bn(mp->graph)))
        goto fail;
    if ((st = export_min_opset(mp, opts ? opts->min_opset : 0)))
        goto fail;
    *out = mp;
    return XAI_OK;
fail:
    onnx__model_proto__free_unpacked(mp, NULL);
    return st;
}

xai_status xai_model_save_onnx_mem(const xai_model *m, const xai_export_options *opts, void **bytes, size_t *len)
{
    if (!bytes || !len)
        return xai_error_set(XAI_EINVAL, "export: NULL output argument");
    *bytes = NULL;
    *len = 0;
    xai_error_clear();
    Onnx__ModelProto *mp;
    xai_status st = xai_export_proto(m, opts, &mp);
    if (st)
        return st;
    size_t sz = onnx__model_proto__get_packed_size(mp);
    uint8_t *buf = malloc(sz ? sz : 1);
    if (!buf) {
        onnx__model_proto__free_unpacked(mp, NULL);
        return xai_error_set(XAI_ENOMEM, "export: out of memory (%zu bytes)", sz);
    }
    *len = onnx__model_proto__pack(mp, buf);
    *bytes = buf;
    onnx__model_proto__free_unpacked(mp, NULL);
    return XAI_OK;
}

xai_status xai_write_file_atomic(const char *path, const void *buf, size_t len)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        xai_status st = xai_error_set(XAI_EIO, "%s: cannot create a temporary file: %s", path, strerror(errno));
        free(tmp);
        return st;
    }
    (void)fchmod(fd, 0644); /* mkstemp makes 0600; models are meant to be shared */
    xai_status st = XAI_OK;
    const uint8_t *p = buf;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            st = xai_error_set(XAI_EIO, "%s: write failed: %s", path, w < 0 ? strerror(errno) : "no progress");
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (st == XAI_OK && fsync(fd) != 0 && errno != EINVAL)
        st = xai_error_set(XAI_EIO, "%s: fsync failed: %s", path, strerror(errno));
    if (close(fd) != 0 && st == XAI_OK)
        st = xai_error_set(XAI_EIO, "%s: close failed: %s", path, strerror(errno));
    if (st == XAI_OK && rename(tmp, path) != 0)
        st = xai_error_set(XAI_EIO, "%s: cannot rename the temporary file into place: %s", path, strerror(errno));
    if (st)
        unlink(tmp);
    free(tmp);
    return st;
}

xai_status xai_model_save_onnx(const xai_model *m, const char *path, const xai_export_options *opts)
{
    if (!path || !*path)
        return xai_error_set(XAI_EINVAL, "export: no output path");
    void *buf;
    size_t len;
    xai_status st = xai_model_save_onnx_mem(m, opts, &buf, &len);
    if (st)
        return st;
    st = xai_write_file_atomic(path, buf, len);
    free(buf);
    return st;
}
