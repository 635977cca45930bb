/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * clarc.c - ClArC (Anders et al., Information Fusion 77, 2022): layer activations, concept
 * activation vectors (signal pattern, ridge, linear SVM) and the projection written into
 * the ONNX graph.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "baseline-int.h"
#include "graph-int.h"
#include "xai/clarc.h"
#include "xai/train.h"

xai_status xai_layer_activations(const xai_model *m, const char *layer, int64_t n, const float *x, float *acts,
                                 int64_t *dim)
{
    int v = xai_layer_value(m, layer);
    if (v < 0 || v == m->input || m->vals[v].is_const)
        XAI_FAIL(XAI_EINVAL, "%s: no activation called '%s' (give a node or value name)", m->name,
                 layer ? layer : "(null)");
    int64_t d = m->vals[v].numel, nin = m->vals[m->input].numel;
    *dim = d;
    if (!acts || n <= 0)
        return XAI_OK;
    int64_t cap = n < 32 ? n : 32;
    xai_workspace *ws;
    xai_status st = xai_workspace_new(m, cap, &ws);
    for (int64_t b0 = 0; b0 < n && !st; b0 += cap) {
        int64_t nb = n - b0 < cap ? n - b0 : cap;
        if (!(st = xai_graph_forward(m, ws, nb, x + b0 * nin)))
            memcpy(acts + b0 * d, ws->val[v], sizeof(float) * (size_t)(nb * d));
    }
    xai_workspace_free(ws);
    return st;
}

double xai_cav_mean_projection(const float *v, int64_t d, int64_t n, const float *acts)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++)
            s += (double)v[j] * acts[i * d + j];
    return n > 0 ? s / (double)n : 0.0;
}

/* rows of both groups in one matrix, artefact first; labels 1 (artefact) and 0 */
static float *stack_groups(int64_t d, int64_t na, const float *art, int64_t nc, const float *clean, int **y)
{
    float *x = malloc(sizeof(float) * (size_t)((na + nc) * d));
    *y = malloc(sizeof(int) * (size_t)(na + nc));
    if (!x || !*y) {
        free(x), free(*y);
        *y = NULL;
        return NULL;
    }
    memcpy(x, art, sizeof(float) * (size_t)(na * d));
    memcpy(x + na * d, clean, sizeof(float) * (size_t)(nc * d));
    for (int64_t i = 0; i < na + nc; i++)
        (*y)[i] = i < na;
    return x;
}

/* Linear SVM by dual coordinate descent (Hsieh et al. 2008), L1-loss, C = 1, on features
   standardised over both groups, bias as a constant feature; w mapped back to raw features. */
static void svm_cd(int64_t n, int64_t d, const float *x, const int *y, double *v)
{
    double *mu = calloc((size_t)d, sizeof(double)), *sc = calloc((size_t)d, sizeof(double));
    double *w = calloc((size_t)d + 1, sizeof(double)), *al = calloc((size_t)n, sizeof(double));
    double *qd = calloc((size_t)n, sizeof(double));
    if (!mu || !sc || !w || !al || !qd)
        goto out;
    for (int64_t j = 0; j < d; j++) {
        double s = 0, ss = 0;
        for (int64_t i = 0; i < n; i++)
            s += x[i * d + j];
        mu[j] = s / n;
        for (int64_t i = 0; i < n; i++)
            ss += (x[i * d + j] - mu[j]) * (x[i * d + j] - mu[j]);
        sc[j] = ss > 0 ? 1.0 / sqrt(ss / n) : 0.0;
    }
    for (int64_t i = 0; i < n; i++) {
        qd[i] = 1.0;
        for (int64_t j = 0; j < d; j++)
            qd[i] += ((x[i * d + j] - mu[j]) * sc[j]) * ((x[i * d + j] - mu[j]) * sc[j]);
    }
    const double C = 1.0;
    for (int it = 0; it < 200; it++) {
        double maxpg = 0;
        for (int64_t i = 0; i < n; i++) {
            double yi = y[i] ? 1.0 : -1.0, g = w[d];
            for (int64_t j = 0; j < d; j++)
                g += w[j] * (x[i * d + j] - mu[j]) * sc[j];
            g = yi * g - 1.0;
            double pg = al[i] == 0 ? fmin(g, 0) : al[i] == C ? fmax(g, 0) : g;
            maxpg = fmax(maxpg, fabs(pg));
            if (pg == 0)
                continue;
            double old = al[i];
            al[i] = fmin(fmax(al[i] - g / qd[i], 0.0), C);
            double dl = (al[i] - old) * yi;
            for (int64_t j = 0; j < d; j++)
                w[j] += dl * (x[i * d + j] - mu[j]) * sc[j];
            w[d] += dl;
        }
        if (maxpg < 1e-3)
            break;
    }
    for (int64_t j = 0; j < d; j++)
        v[j] = w[j] * sc[j];
out:
    free(mu), free(sc), free(w), free(al), free(qd);
}

xai_status xai_cav_fit(xai_cav_method method, int64_t d, int64_t n_art, const float *art, int64_t n_clean,
                       const float *clean, float *v)
{
    if (d < 1 || n_art < 2 || n_clean < 2)
        XAI_FAIL(XAI_EINVAL, "CAV: needs at least 2 artefact and 2 clean samples (got %lld and %lld)",
                 (long long)n_art, (long long)n_clean);
    if (method < XAI_CAV_PATTERN || method > XAI_CAV_SVM)
        XAI_FAIL(XAI_EINVAL, "CAV: unknown method %d", (int)method);
    double *w = calloc((size_t)d, sizeof(double));
    int *y = NULL;
    float *x = NULL;
    xai_status st = XAI_OK;
    if (!w)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    if (method == XAI_CAV_PATTERN) {
        /* cov(a, y) / var(y) for y in {0, 1} is the difference of the group means */
        for (int64_t j = 0; j < d; j++) {
            double sa = 0, sc = 0;
            for (int64_t i = 0; i < n_art; i++)
                sa += art[i * d + j];
            for (int64_t i = 0; i < n_clean; i++)
                sc += clean[i * d + j];
            w[j] = sa / (double)n_art - sc / (double)n_clean;
        }
    } else if (!(x = stack_groups(d, n_art, art, n_clean, clean, &y))) {
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    } else if (method == XAI_CAV_RIDGE) {
        xai_ridge *r = NULL;
        double lam;
        if (!(st = xai_ridge_fit_cv(n_art + n_clean, d, x, y, 2, NULL, 0, &r, &lam)))
            xai_ridge_raw_weights(r, 1, w);
        xai_ridge_free(r);
    } else {
        svm_cd(n_art + n_clean, d, x, y, w);
    }
    double nrm = 0;
    for (int64_t j = 0; j < d && !st; j++)
        nrm += w[j] * w[j];
    if (!st && !(nrm > 0 && isfinite(nrm)))
        st = xai_error_set(XAI_ENUMERIC, "CAV: the groups' activations do not differ at this layer");
    for (int64_t j = 0; j < d && !st; j++)
        v[j] = (float)(w[j] / sqrt(nrm));
    if (!st && xai_cav_mean_projection(v, d, n_art, art) < xai_cav_mean_projection(v, d, n_clean, clean))
        for (int64_t j = 0; j < d; j++)
            v[j] = -v[j];
    free(w), free(x), free(y);
    return st;
}

/* index of class c among the k sorted distinct classes in u */
static int64_t class_slot(const int *u, int64_t k, int c)
{
    int64_t lo = 0, hi = k - 1;
    while (lo < hi) {
        int64_t mid = (lo + hi) / 2;
        if (u[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Copies of the rows of classes present in both groups, each minus its class mean. */
typedef struct {
    int64_t k, na, nc;   /* distinct classes; rows kept per group */
    int *u;              /* the classes, sorted */
    int64_t *cnt;        /* [k][2]: artefact, clean rows per class */
    double *mean;        /* [k][d] */
    float *a, *c;        /* the kept, centred rows */
} within_rows;

static void within_free(within_rows *w)
{
    free(w->u), free(w->cnt), free(w->mean), free(w->a), free(w->c);
}

static xai_status within_classes(int64_t d, int64_t na, const int *acls, int64_t nc, const int *ccls, within_rows *w)
{
    int64_t n = na + nc;
    if (!(w->u = malloc(sizeof(int) * (size_t)n)))
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++) {
        w->u[i] = i < na ? acls[i] : ccls[i - na];
        if (w->u[i] < 0)
            XAI_FAIL(XAI_EINVAL, "CAV: class %d of row %lld is negative", w->u[i], (long long)i);
    }
    qsort(w->u, (size_t)n, sizeof(int), cmp_int);
    w->k = 0;
    for (int64_t i = 0; i < n; i++)
        if (w->k == 0 || w->u[w->k - 1] != w->u[i])
            w->u[w->k++] = w->u[i];
    w->cnt = calloc((size_t)(2 * w->k), sizeof(int64_t));
    w->mean = calloc((size_t)(w->k * d), sizeof(double));
    if (!w->cnt || !w->mean)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++)
        w->cnt[2 * class_slot(w->u, w->k, i < na ? acls[i] : ccls[i - na]) + (i >= na)]++;
    return XAI_OK;
}

/* the class means over both groups, then the kept rows minus their class's mean */
static xai_status within_centre(int64_t d, int64_t na, const float *art, const int *acls, int64_t nc,
                                const float *clean, const int *ccls, within_rows *w, unsigned char *used)
{
    for (int64_t i = 0; i < na + nc; i++) {
        int64_t s = class_slot(w->u, w->k, i < na ? acls[i] : ccls[i - na]);
        int keep = w->cnt[2 * s] > 0 && w->cnt[2 * s + 1] > 0;
        const float *r = i < na ? art + i * d : clean + (i - na) * d;
        for (int64_t j = 0; keep && j < d; j++)
            w->mean[s * d + j] += r[j] / (double)(w->cnt[2 * s] + w->cnt[2 * s + 1]);
        w->na += keep && i < na;
        w->nc += keep && i >= na;
        if (used)
            used[i] = (unsigned char)keep;
    }
    w->a = malloc(sizeof(float) * (size_t)((w->na > 0 ? w->na : 1) * d));
    w->c = malloc(sizeof(float) * (size_t)((w->nc > 0 ? w->nc : 1) * d));
    if (!w->a || !w->c)
        XAI_FAIL(XAI_ENOMEM, "out of memory");
    int64_t ka = 0, kc = 0;
    for (int64_t i = 0; i < na + nc; i++) {
        int64_t s = class_slot(w->u, w->k, i < na ? acls[i] : ccls[i - na]);
        if (!(w->cnt[2 * s] > 0 && w->cnt[2 * s + 1] > 0))
            continue;
        const float *r = i < na ? art + i * d : clean + (i - na) * d;
        float *o = i < na ? w->a + ka++ * d : w->c + kc++ * d;
        for (int64_t j = 0; j < d; j++)
            o[j] = (float)(r[j] - w->mean[s * d + j]);
    }
    return XAI_OK;
}

xai_status xai_cav_fit_within(xai_cav_method method, int64_t d, int64_t n_art, const float *art, const int *art_cls,
                              int64_t n_clean, const float *clean, const int *clean_cls, float *v, unsigned char *used)
{
    if (d < 1 || n_art < 0 || n_clean < 0 || !art_cls || !clean_cls)
        XAI_FAIL(XAI_EINVAL, "CAV: needs the activations and the class of every row");
    within_rows w = {0};
    xai_status st = within_classes(d, n_art, art_cls, n_clean, clean_cls, &w);
    if (!st)
        st = within_centre(d, n_art, art, art_cls, n_clean, clean, clean_cls, &w, used);
    if (!st && (w.na < 2 || w.nc < 2))
        st = xai_error_set(XAI_EINVAL, "CAV within classes: the classes that hold both groups have %lld artefact "
                           "and %lld clean samples; at least 2 of each are needed", (long long)w.na, (long long)w.nc);
    if (!st)
        st = xai_cav_fit(method, d, w.na, w.a, w.nc, w.c, v);
    within_free(&w);
    return st;
}

/* ------------------------------------------------------------ the projection as ONNX ops */

static Onnx__TensorProto *new_tensor(const char *name, int nd, const int64_t *dims, const float *f, const int64_t *i64,
                                     int64_t n)
{
    Onnx__TensorProto *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    onnx__tensor_proto__init(t);
    t->name = strdup(name);
    t->dims = malloc(sizeof(int64_t) * (size_t)nd);
    t->has_data_type = 1;
    if (f) {
        t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
        t->float_data = malloc(sizeof(float) * (size_t)n);
        if (t->float_data)
            memcpy(t->float_data, f, sizeof(float) * (size_t)n), t->n_float_data = (size_t)n;
    } else {
        t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
        t->int64_data = malloc(sizeof(int64_t) * (size_t)n);
        if (t->int64_data)
            memcpy(t->int64_data, i64, sizeof(int64_t) * (size_t)n), t->n_int64_data = (size_t)n;
    }
    if (!t->name || !t->dims || (!t->float_data && !t->int64_data)) {
        onnx__tensor_proto__free_unpacked(t, NULL);
        return NULL;
    }
    memcpy(t->dims, dims, sizeof(int64_t) * (size_t)nd);
    t->n_dims = (size_t)nd;
    return t;
}

static Onnx__NodeProto *new_node(const char *op, const char *name, const char *in0, const char *in1, const char *in2,
                                 const char *out)
{
    Onnx__NodeProto *n = malloc(sizeof *n);
    if (!n)
        return NULL;
    onnx__node_proto__init(n);
    const char *ins[3] = {in0, in1, in2};
    n->input = calloc(3, sizeof(char *));
    n->output = calloc(1, sizeof(char *));
    n->op_type = strdup(op);
    n->name = strdup(name);
    int bad = !n->input || !n->output || !n->op_type || !n->name || !(n->output[0] = strdup(out));
    n->n_output = n->output && n->output[0] ? 1 : 0;
    for (int k = 0; k < 3 && !bad && ins[k]; k++)
        bad |= !(n->input[n->n_input++] = strdup(ins[k]));
    if (bad) {
        onnx__node_proto__free_unpacked(n, NULL);
        return NULL;
    }
    return n;
}

/* value names of the inserted chain, all derived from the layer's activation name */
enum { CV_FLAT, CV_S, CV_U, CV_P, CV_OUT, CV_V, CV_VT, CV_B, CV_SHAPE, CV_COUNT };
static const char *const cv_suffix[CV_COUNT] = {"flat", "proj", "back", "sub", "out", "v", "vt", "z", "shape"};

static int add_inits(Onnx__GraphProto *g, char nm[][256], const xai_value *a, const float *v, int64_t d, float z)
{
    int64_t col[2] = {d, 1}, row[2] = {1, d}, one = 1, nd = a->ndim, shape[XAI_MAX_DIMS];
    float mz = -z;
    shape[0] = -1;
    for (int k = 1; k < a->ndim; k++)
        shape[k] = a->shape[k];
    Onnx__TensorProto *t[4] = {new_tensor(nm[CV_V], 2, col, v, NULL, d), new_tensor(nm[CV_VT], 2, row, v, NULL, d),
                               new_tensor(nm[CV_B], 1, &one, &mz, NULL, 1),
                               new_tensor(nm[CV_SHAPE], 1, &nd, NULL, shape, a->ndim)};
    Onnx__TensorProto **ni = realloc(g->initializer, sizeof *ni * (g->n_initializer + 4));
    if (ni)
        g->initializer = ni;
    int ok = ni != NULL;
    for (int k = 0; k < 4; k++) {
        if (ok && t[k])
            g->initializer[g->n_initializer++] = t[k];
        else if (t[k])
            onnx__tensor_proto__free_unpacked(t[k], NULL);
        ok &= t[k] != NULL;
    }
    return ok ? 0 : -1;
}

/* Insert the chain after node pos (the producer of act); consumers of act read the output. */
static int insert_chain(Onnx__GraphProto *g, size_t pos, const char *act, char nm[][256])
{
    for (size_t i = 0; i < g->n_node; i++)
        for (size_t k = 0; k < g->node[i]->n_input; k++)
            if (g->node[i]->input[k] && strcmp(g->node[i]->input[k], act) == 0) {
                char *s = strdup(nm[CV_OUT]);
                if (!s)
                    return -1;
                free(g->node[i]->input[k]);
                g->node[i]->input[k] = s;
            }
    Onnx__NodeProto *nn[5] = {new_node("Flatten", "clarc_flatten", act, NULL, NULL, nm[CV_FLAT]),
                              new_node("Gemm", "clarc_project", nm[CV_FLAT], nm[CV_V], nm[CV_B], nm[CV_S]),
                              new_node("Gemm", "clarc_direction", nm[CV_S], nm[CV_VT], NULL, nm[CV_U]),
                              new_node("Sub", "clarc_subtract", nm[CV_FLAT], nm[CV_U], NULL, nm[CV_P]),
                              new_node("Reshape", XAI_CLARC_LAST_NODE, nm[CV_P], nm[CV_SHAPE], NULL, nm[CV_OUT])};
    Onnx__NodeProto **nl = realloc(g->node, sizeof *nl * (g->n_node + 5));
    int ok = nl != NULL;
    if (nl)
        g->node = nl;
    for (int k = 0; k < 5; k++)
        ok &= nn[k] != NULL;
    if (!ok) {
        for (int k = 0; k < 5; k++)
            if (nn[k])
                onnx__node_proto__free_unpacked(nn[k], NULL);
        return -1;
    }
    memmove(&g->node[pos + 6], &g->node[pos + 1], sizeof *g->node * (g->n_node - pos - 1));
    memcpy(&g->node[pos + 1], nn, sizeof nn);
    g->n_node += 5;
    return 0;
}

/* index of the node that produces act, or -1; sets *bad when act is a graph output or the
   graph already holds a projection */
static long producer_of(const Onnx__GraphProto *g, const char *act, const char **bad)
{
    long pos = -1;
    for (size_t i = 0; i < g->n_node; i++) {
        if (g->node[i]->name && strcmp(g->node[i]->name, XAI_CLARC_LAST_NODE) == 0)
            *bad = "the model already holds a ClArC projection";
        for (size_t k = 0; k < g->node[i]->n_output; k++)
            if (g->node[i]->output[k] && strcmp(g->node[i]->output[k], act) == 0)
                pos = (long)i;
    }
    for (size_t i = 0; i < g->n_output; i++)
        if (g->output[i]->name && strcmp(g->output[i]->name, act) == 0)
            *bad = "it is the model output; choose an inner layer";
    return pos;
}

/* The projection reads the layer as [N, values]. When the graph moves the batch axis (a Transpose
   or Gather across it on a fixed-batch input), the engine's per-sample view and ONNX's shapes
   disagree and the written graph would not load: refuse rather than hand out such a model. */
static xai_status check_reloads(const xai_model *m, const char *layer, const void *bytes, size_t len)
{
    xai_model *p = NULL;
    if (xai_model_load_onnx_mem(bytes, len, m->name, NULL, &p) == XAI_OK) {
        xai_model_free(p);
        return XAI_OK;
    }
    char why[512];
    snprintf(why, sizeof why, "%s", xai_last_error());
    XAI_FAIL(XAI_EINVAL, "%s: cannot project after '%s': its values are not laid out [N, ...] in the ONNX graph (%s)",
             m->name, layer, why);
}

xai_status xai_clarc_onnx(const xai_model *m, const char *layer, const float *v, int64_t d, float z, void **bytes,
                          size_t *len)
{
    *bytes = NULL;
    *len = 0;
    int a = xai_layer_value(m, layer);
    if (a < 0 || a == m->input || m->vals[a].is_const || a == m->output)
        XAI_FAIL(XAI_EINVAL, "%s: '%s' is not an inner activation of the model", m->name, layer ? layer : "(null)");
    if (m->vals[a].numel != d)
        XAI_FAIL(XAI_EINVAL, "%s: layer '%s' has %lld values per sample, the CAV %lld", m->name, layer,
                 (long long)m->vals[a].numel, (long long)d);
    xai_export_options eo = {1, 0};
    void *src;
    size_t slen;
    xai_status st = xai_model_save_onnx_mem(m, &eo, &src, &slen);
    if (st)
        return st;
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, slen, src);
    free(src);
    if (!mp || !mp->graph) {
        if (mp)
            onnx__model_proto__free_unpacked(mp, NULL);
        XAI_FAIL(XAI_EFORMAT, "%s: cannot decode the exported model", m->name);
    }
    const char *act = m->vals[a].name, *bad = NULL;
    long pos = producer_of(mp->graph, act, &bad);
    char nm[CV_COUNT][256];
    for (int k = 0; k < CV_COUNT; k++)
        snprintf(nm[k], sizeof nm[k], "%.200s_clarc_%s", act, cv_suffix[k]);
    if (bad || pos < 0)
        st = xai_error_set(XAI_EINVAL, "%s: cannot project after '%s': %s", m->name, layer,
                           bad ? bad : "no node of the ONNX graph produces it");
    else if (add_inits(mp->graph, nm, &m->vals[a], v, d, z) || insert_chain(mp->graph, (size_t)pos, act, nm))
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    if (!st) {
        *len = onnx__model_proto__get_packed_size(mp);
        if (!(*bytes = malloc(*len ? *len : 1)))
            st = xai_error_set(XAI_ENOMEM, "out of memory");
        else
            onnx__model_proto__pack(mp, *bytes);
    }
    onnx__model_proto__free_unpacked(mp, NULL);
    if (!st && (st = check_reloads(m, layer, *bytes, *len))) {
        free(*bytes);
        *bytes = NULL;
        *len = 0;
    }
    return st;
}

/* ------------------------------------------------------------ judging a CAV on held-out rows */

double xai_cav_separation(const float *v, int64_t d, int64_t na, const float *art, int64_t nc, const float *clean)
{
    if (na < 1 || nc < 1 || na + nc < 3)
        return NAN;
    double ma = xai_cav_mean_projection(v, d, na, art), mc = xai_cav_mean_projection(v, d, nc, clean), ss = 0;
    for (int64_t i = 0; i < na + nc; i++) {
        double p = xai_cav_mean_projection(v, d, 1, i < na ? art + i * d : clean + (i - na) * d) - (i < na ? ma : mc);
        ss += p * p;
    }
    return (ma - mc) / sqrt(ss / (double)(na + nc - 2) + 1e-30);
}

/* does class c occur among the n classes in cls? */
static int has_class(const int *cls, int64_t n, int c)
{
    for (int64_t i = 0; i < n; i++)
        if (cls[i] == c)
            return 1;
    return 0;
}

/* Rows of one group split in two folds: as given (fold[i] 0 or 1), else alternating within each
   class (by the parity of the row's rank among the group's rows of its class), so both folds
   hold every class. */
typedef struct {
    int64_t n[2];
    float *x[2];
    int *c[2];
} cav_folds;

static int split_rows(int64_t d, int64_t n, const float *x, const int *cls, const unsigned char *fold, cav_folds *o)
{
    for (int f = 0; f < 2; f++) {
        o->x[f] = malloc(sizeof(float) * (size_t)((n + 1) * d));
        o->c[f] = malloc(sizeof(int) * (size_t)(n + 1));
        if (!o->x[f] || !o->c[f])
            return -1;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t rank = 0;
        for (int64_t j = 0; cls && !fold && j < i; j++)
            rank += cls[j] == cls[i];
        int f = fold ? fold[i] != 0 : (int)((cls ? rank : i) % 2);
        memcpy(o->x[f] + o->n[f] * d, x + i * d, sizeof(float) * (size_t)d);
        o->c[f][o->n[f]++] = cls ? cls[i] : 0;
    }
    return 0;
}

static void folds_free(cav_folds *o)
{
    for (int f = 0; f < 2; f++)
        free(o->x[f]), free(o->c[f]);
}

/* Cohen's d on fold h of v fitted on the other fold; within classes, only the held-out rows of
   classes that hold both groups in the fitting fold count (those the fit could see). */
static xai_status fold_separation(xai_cav_method method, int64_t d, const cav_folds *a, const cav_folds *c,
                                  int within, int h, float *v, double *sep)
{
    int f = 1 - h;
    xai_status st = within ? xai_cav_fit_within(method, d, a->n[f], a->x[f], a->c[f], c->n[f], c->x[f], c->c[f], v, NULL)
                           : xai_cav_fit(method, d, a->n[f], a->x[f], c->n[f], c->x[f], v);
    if (st)
        return st;
    float *kept[2] = {malloc(sizeof(float) * (size_t)((a->n[h] + 1) * d)),
                      malloc(sizeof(float) * (size_t)((c->n[h] + 1) * d))};
    int64_t k[2] = {0, 0};
    for (int g = 0; g < 2 && kept[0] && kept[1]; g++) {
        const cav_folds *s = g ? c : a;
        for (int64_t i = 0; i < s->n[h]; i++)
            if (!within || (has_class(a->c[f], a->n[f], s->c[h][i]) && has_class(c->c[f], c->n[f], s->c[h][i])))
                memcpy(kept[g] + k[g]++ * d, s->x[h] + i * d, sizeof(float) * (size_t)d);
    }
    if (!kept[0] || !kept[1])
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    else
        *sep = xai_cav_separation(v, d, k[0], kept[0], k[1], kept[1]);
    free(kept[0]), free(kept[1]);
    return st;
}

xai_status xai_cav_heldout_separation(xai_cav_method method, int64_t d, int64_t n_art, const float *art,
                                      const int *art_cls, const unsigned char *art_fold, int64_t n_clean,
                                      const float *clean, const int *clean_cls, const unsigned char *clean_fold,
                                      double *sep)
{
    *sep = NAN;
    if (d < 1 || n_art < 4 || n_clean < 4 || !art_cls != !clean_cls || !art_fold != !clean_fold)
        XAI_FAIL(XAI_EINVAL, "CAV held out: needs at least 4 artefact and 4 clean samples (got %lld and %lld), "
                 "classes and folds for both groups or for neither", (long long)n_art, (long long)n_clean);
    cav_folds a = {0}, c = {0};
    float *v = malloc(sizeof(float) * (size_t)d);
    xai_status st = XAI_OK;
    if (!v || split_rows(d, n_art, art, art_cls, art_fold, &a) ||
        split_rows(d, n_clean, clean, clean_cls, clean_fold, &c))
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    double s[2] = {NAN, NAN};
    for (int h = 0; h < 2 && !st; h++)
        st = fold_separation(method, d, &a, &c, art_cls != NULL, h, v, &s[h]);
    if (!st && !(isfinite(s[0]) && isfinite(s[1])))
        st = xai_error_set(XAI_EINVAL, "CAV held out: a fold has no held-out rows of both groups in the classes fitted");
    if (!st)
        *sep = 0.5 * (s[0] + s[1]);
    folds_free(&a), folds_free(&c), free(v);
    return st;
}
