/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * graph-int.h - private model representation shared by the ONNX importer, the ops,
 * the forward/backward runners and the LRP sweep.
 *
 * Values are tensors named in the graph. Constants (initializers, folded subgraphs)
 * hold their data in the model; activations get a buffer of stack * numel floats in
 * the workspace. Shapes are per sample and fixed at load.
 */
#ifndef XAI_GRAPH_INT_H
#define XAI_GRAPH_INT_H

#include <cblas.h>
#include <pthread.h>
#include <stdint.h>
#include <stddef.h>

#include "xai/lrp.h"
#include "xai/model.h"
#include "xai/tensor.h"
#include "onnx.pb-c.h"

#define XAI_FAIL(st, ...) return xai_error_set((st), __VA_ARGS__)

enum { DT_F32 = 1, DT_I64 = 7 };

typedef struct xai_value {
    char *name;
    int ndim;
    int64_t shape[XAI_MAX_DIMS]; /* per sample */
    int64_t numel;
    int is_const;
    int dtype;                   /* DT_F32 or DT_I64 for constants; activations are DT_F32 */
    float *f;                    /* constant float data (owned) */
    int64_t *i;                  /* constant int data (owned) */
    int producer;                /* node index, -1 for inputs and constants */
    int nconsumers;
    int no_adj;                  /* a node's private output (the LSTM's records): no gradient or
                                    relevance flows through it, so it has no adj buffer (NULL), and
                                    name lookups (xai_model_find_value) do not see it */
} xai_value;

typedef enum {
    K_CONV = 0, K_GEMM, K_ADD, K_SUB, K_MUL, K_DIV, K_RELU, K_LEAKYRELU, K_SIGMOID, K_TANH, K_ELU,
    K_MAXPOOL, K_AVGPOOL, K_GAP, K_BN, K_RESHAPE, K_TRANSPOSE, K_CONCAT, K_SLICE, K_GATHER,
    K_PAD, K_IDENTITY, K_LSTM, K_COUNT
} xai_kind;

struct xai_node;
struct xai_workspace;

typedef struct xai_op_vtable {
    const char *name;
    /* forward: read ws->val[in], write ws->val[out] */
    xai_status (*forward)(const xai_model *, const struct xai_node *, struct xai_workspace *);
    /* backward: read ws->adj[out], ACCUMULATE into ws->adj[in] of non-constant inputs */
    xai_status (*backward)(const xai_model *, const struct xai_node *, struct xai_workspace *);
    /* relevance under rule r: read ws->adj[out], ACCUMULATE into ws->adj[in]; NULL = unsupported */
    xai_status (*relevance)(const xai_model *, const struct xai_node *, const xai_rule *r,
                            struct xai_workspace *);
    void (*destroy)(struct xai_node *);
} xai_op_vtable;

typedef struct xai_node {
    xai_kind kind;
    char *name;
    char *op_type;
    int nin, nout;
    int in[8];                  /* value ids, -1 = absent optional input */
    int out[4];
    void *attr;                 /* op-private state (owned; freed by vtable destroy) */
    const xai_op_vtable *ops;
    size_t scratch;             /* floats of scratch per stack element */
    size_t scratch_fixed;       /* floats of scratch independent of the stack; the workspace's scratch
                                   holds this part first, then the per-stack part (all nodes share it) */
    size_t ibuf;                /* int32 per stack element kept from forward to backward (MaxPool argmax) */
    int is_linear;              /* Conv/Gemm: rules apply */
    int fold_bn;                /* BN node folded into this linear node, or -1 */
    int bn_of;                  /* for BN: the linear node it follows, or -1 */
    float *pgrad[4];            /* training: parameter gradient buffers (NULL = not trained);
                                   Conv/Gemm: W, B; BN: scale, bias; LSTM: W, R, B */
} xai_node;

struct xai_model {
    xai_value *vals;
    int nvals, cap_vals;
    xai_node *nodes;            /* topologically sorted */
    int nnodes, cap_nodes;
    int input, output;
    int opset;
    char **meta_key, **meta_val;
    int nmeta;
    char *name;                 /* file name, for messages */
    uint8_t *src;               /* the ONNX bytes the model was loaded from (for export) */
    struct xai_workspace *ws_cache; /* stack workspace of SmoothGrad / Integrated Gradients */
    struct xai_explain_plan *plan;  /* per-thread sub-batch workspaces of xai_explain (lrp.c) */
    struct xai_rule_cache *rule_cache; /* the rules last resolved and the settings they came from (lrp.c) */
    pthread_mutex_t explain_mu;     /* explanations of one model run one at a time (they share
                                       ws_cache, the plan and the lazily built modified weights) */
    size_t src_len;
};

struct xai_workspace {
    const xai_model *m;
    int64_t cap;                /* max stack */
    int64_t ns;                 /* current stack */
    float **val;                /* per value: activation buffer, or the constant's data */
    float **adj;                /* per value: gradient / relevance buffer (activations only) */
    float *scratch;
    size_t scratch_len;
    float *bufmem;
    size_t bufmem_len;          /* floats */
    int shared;                 /* buffers share memory where their lifetimes do not overlap (plan) */
    int *lastc;                 /* per value: the last node that reads it, or -1 */
    int32_t **ibuf;             /* per node: n->ibuf * cap ints (NULL when n->ibuf == 0) */
    int bn_fold;                /* LRP: use BN-folded weights in linear nodes */
    int training;               /* training-mode semantics (BN batch statistics, dropout) */
    int input_grad;             /* training that also needs d/d(model input) (guided training) */
    uint64_t drop_seed;         /* dropout mask seed of the current step */
    float bn_momentum;          /* running-statistics momentum (PyTorch convention) */
    int lstm_init_set;          /* LSTM relevance bookkeeping (lstm.c) */
    double *init_state_rel;     /* [ns] relevance reaching LSTM initial states */
    const float *zbox_low, *zbox_high; /* [ns] per-sample ZBox bounds for rules whose bounds are NaN */
    const float *zbox_low_el, *zbox_high_el; /* [ns][input numel] per-element ZBox bounds, or NULL: they
                                                replace zbox_low/high where the rule's input is the model's */
    int fresh_adj;              /* relevance sweep: the value whose adj buffer the current node writes
                                   first and which holds no zeros yet, or -1 (xai_ws_zero_before) */
};

typedef struct xai_explain_plan xai_explain_plan;
void xai_explain_plan_free(xai_explain_plan *p); /* lrp.c */
void xai_rule_cache_free(struct xai_rule_cache *c); /* lrp.c */

/* graph.c */
int xai_model_add_value(xai_model *m, const char *name);
int xai_model_find_value(const xai_model *m, const char *name);
xai_status xai_model_add_node(xai_model *m, xai_node **out);
/* Write @p len bytes to @p path through a temporary file that is renamed into place. */
xai_status xai_write_file_atomic(const char *path, const void *buf, size_t len);
xai_status xai_graph_forward(const xai_model *m, xai_workspace *ws, int64_t n, const float *x);
void xai_ws_clear_adj(xai_workspace *ws);
/* first_in: node i's pass writes its first input's relevance whole before anything adds to it
   (xai_linear_writes_first), so that buffer is not zeroed but named in ws->fresh_adj */
void xai_ws_zero_before(xai_workspace *ws, int i, int first_in);
/* A workspace whose buffers share memory where their lifetimes in an explanation (forward,
   then relevance) do not overlap: for xai_explain's plan only (the sweep zeroes relevance
   buffers as they come to life, and a buffer is valid only during its lifetime). */
xai_status xai_workspace_new_shared(const xai_model *m, int64_t max_stack, xai_workspace **out);
void xai_workspace_touch(xai_workspace *ws, size_t scratch_len);
static inline int64_t vnumel(const xai_model *m, int v) { return m->vals[v].numel; }
static inline int vconst(const xai_model *m, int v) { return v >= 0 && m->vals[v].is_const; }

/* per-kind vtables (ops/ *.c) and their load-time init from ONNX attributes */
typedef xai_status (*xai_op_init_fn)(xai_model *m, xai_node *n, const Onnx__NodeProto *np);
extern const xai_op_vtable *const xai_ops_table[K_COUNT];
xai_status xai_make_identity(xai_node *n, int input_value);
int xai_gemm_absorb_bias(xai_node *mm, const float *bias, int64_t nb);
int xai_gemm_absorb_bias_v(xai_node *mm, const float *bias, int64_t nb, int v);
void xai_gemm_sync(xai_model *m, xai_node *n);

/* attribute helpers (onnx.c) */
const Onnx__AttributeProto *xai_attr_find(const Onnx__NodeProto *np, const char *name);
xai_status xai_attr_int(const xai_model *m, const Onnx__NodeProto *np, const char *name, int64_t def, int64_t *out);
xai_status xai_attr_float(const xai_model *m, const Onnx__NodeProto *np, const char *name, float def, float *out);
xai_status xai_attr_ints(const xai_model *m, const Onnx__NodeProto *np, const char *name, int64_t *out, int max, int *count);
xai_status xai_attr_string(const xai_model *m, const Onnx__NodeProto *np, const char *name, const char *def, const char **out);
xai_status xai_attr_only(const xai_model *m, const Onnx__NodeProto *np, const char *const *known);
xai_status xai_node_unsupported(const xai_model *m, const xai_node *n, const char *attr, const char *fmt, ...);

/* op inits */
xai_status xai_conv_init(xai_model *, xai_node *, const Onnx__NodeProto *);
/* The instruction set of the direct convolution kernels: 2 AVX-512, 1 AVX2 + FMA, 0 portable.
   limit >= 0 caps it from then on (tests compare the instances, which agree bit for bit); the
   return value is what this CPU runs under the cap. */
int xai_dconv_isa(int limit);
xai_status xai_gemm_init(xai_model *, xai_node *, const Onnx__NodeProto *);
xai_status xai_matmul_init(xai_model *, xai_node *, const Onnx__NodeProto *);
xai_status xai_pool_init(xai_model *, xai_node *, const Onnx__NodeProto *);
xai_status xai_gap_init(xai_model *, xai_node *, const Onnx__NodeProto *);
xai_status xai_bn_init(xai_model *, xai_node *, const Onnx__NodeProto *);
xai_status xai_act_init(xai_model *, xai_node *, const Onnx__NodeProto *);
xai_status xai_eltwise_init(xai_model *, xai_node *, const Onnx__NodeProto *);
xai_status xai_shape_init(xai_model *, xai_node *, const Onnx__NodeProto *);
xai_status xai_lstm_init(xai_model *, xai_node *, const Onnx__NodeProto *);
void xai_lstm_params_changed(xai_node *n); /* lstm.c: pack R again after the weights changed */

/* linear layers (conv.c, gemm.c): the operations the generic rules need */
enum { LW_W, LW_WP, LW_WN, LW_WSQ, LW_ONES, LW_WUP, LW_WDN, LW_WABS, LW_COUNT };

typedef struct xai_linear {
    int64_t in_numel, out_numel;   /* per sample */
    int64_t wlen, nout_ch;         /* number of weights; output channels (bias length) */
    const float *w, *b;            /* the node's own weights and bias (b may be NULL) */
    float *fw, *fb;                /* BN-folded weights and bias (NULL when not folded) */
    float *cw[2][LW_COUNT];        /* cached modified weights [folded][kind] (lazy) */
    float *cb[2][LW_COUNT];        /* matching biases (lazy; NULL for ONES) */
    float cgamma[2];               /* gamma the WUP/WDN caches were made with */
    float *flat_count;             /* in-bounds taps per output element (lazy) */
    /* z = W x + b over the stack; b (per output channel) may be NULL. x may be read up to 16
       floats past its end (values dropped): every workspace buffer has that much after it */
    void (*fwd)(const xai_node *, const float *w, const float *b, const float *x, float *z,
                int64_t ns, float *scratch);
    /* dx = W^T s (overwrite) */
    void (*vjp)(const xai_node *, const float *w, const float *s, float *dx, int64_t ns,
                float *scratch);
    /* optional fused forms (NULL: linear.c composes them from fwd and vjp); the two weight sets
       are read in one sweep over the input. z = w x+ + w2 x- + b: */
    void (*fwd_pm)(const xai_node *, const float *w, const float *w2, const float *b, const float *x, float *z,
                   int64_t ns, float *scratch);
    /* z = |w| |x| (no bias), w = |W|: with the forward output it gives z+ and z- (linear.c) */
    void (*fwd_abs)(const xai_node *, const float *w, const float *x, float *z, int64_t ns, float *scratch);
    /* with fwd_abs: fwd_pm for one sample's output row k (ch_inner outputs), the same sums */
    void (*fwd_pm_row)(const xai_node *, const float *w, const float *w2, const float *b, const float *x, float *z,
                       int64_t k, float *scratch);
    /* r += (alpha x) (w^T s), or with w2: r += (alpha x+) (w^T s) + (alpha x-) (w2^T s); fresh: r
       holds no values yet and is written as if it held zeros (the same bits, without reading it) */
    void (*vjp_rel)(const xai_node *, const float *w, const float *w2, const float *s, const float *x, float alpha,
                    float *r, int64_t ns, float *scratch, int fresh);
    /* optional Flat: r += W1^T (R / stab(counts)) with all-ones W1, counts = flat_count */
    void (*flat_rel)(const xai_node *, const float *R, const float *counts, float stab, float *r, int64_t ns,
                     float *scratch);
    /* optional: the number of in-bounds taps of every output element of one sample (Flat's
       denominator; NULL: linear.c runs fwd with all-ones weights and inputs) */
    void (*counts)(const xai_node *, float *c);
    int64_t ch_inner;              /* output element k has channel (k / ch_inner) % nout_ch */
    /* training: gw += dL/dW, gb += dL/db (either may be NULL) */
    xai_status (*wgrad)(const xai_node *, const float *x, const float *s, float *gw, float *gb, int64_t ns,
                        float *scratch);
} xai_linear;

xai_linear *xai_node_linear(const xai_node *n);
/* whether rule r on node n writes all of its input's relevance with its first product (then the
   sweep need not zero that buffer first) */
int xai_linear_writes_first(const xai_node *n, const xai_rule *r);
/* the same for a max pool whose windows tile its input (pool.c) and for a node whose relevance
   passes through unchanged (elementwise.c) */
int xai_pool_writes_first(const xai_node *n, const xai_rule *r);
int xai_pass_writes_first(const xai_node *n, const xai_rule *r);
/* whether that first write may go over the input's own activation (nothing of the pass reads the
   activation afterwards, and each element is read just before its relevance is written) */
int xai_linear_in_place(const xai_node *n, const xai_rule *r);
/* whether rule r on node n reads none of the node's activations (input or output) */
int xai_linear_reads_no_activation(const xai_node *n, const xai_rule *r);
xai_status xai_linear_relevance(const xai_model *m, const xai_node *n, const xai_rule *r,
                                struct xai_workspace *ws);
xai_status xai_linear_prepare(const xai_node *n, const xai_rule *r, int fold, float *scratch_in, float *scratch);
size_t xai_linear_rule_scratch(const xai_node *n, const xai_rule *r);
xai_status xai_linear_backward(const xai_model *m, const xai_node *n, struct xai_workspace *ws);
void xai_linear_fold_bn(xai_model *m, xai_node *lin, const xai_node *bn);
void xai_linear_free(xai_linear *l);

/* BatchNormalization as a per-channel affine map y = x * scale[c] + shift[c] (norm.c) */
typedef struct {
    int64_t nch, inner;            /* channels and elements per channel (per sample, batch 1) */
    float *scale, *shift;
    float eps;
} xai_bn_attr;

/* training support (train.c, graph.c) */
void xai_model_params_changed(xai_model *m);   /* drop caches, refold BN, recompute BN scale/shift */
xai_status xai_model_argmax(const xai_model *m, int64_t batch, int64_t n, const float *x, int *pred);
void xai_bn_refresh(xai_node *bn, const xai_model *m);
float *xai_gemm_weights(xai_node *n, float **bias, int64_t *nout, int64_t *nin);
void xai_graph_sync_params(xai_model *m);      /* write Gemm weights back to their initializers */
/* The activation a layer name stands for (a node's used output, else a value of that name), or -1 (crp.c) */
int xai_layer_value(const xai_model *m, const char *layer);
/* forward-mode derivative of a MaxPool at the argmax its last forward pass in ws kept (pool.c) */
void xai_maxpool_tangent(const xai_node *n, const xai_workspace *ws, const float *xd, float *yd);
static inline uint64_t xai_hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

/* parallel.c: a persistent pool splitting per-sample work; results do not depend on it. In one
   xai_par_for() fn runs at most once per thread id, on one contiguous range; tid < XAI_PAR_MAX_THREADS. */
#define XAI_PAR_MAX_THREADS 64
typedef void (*xai_par_fn)(void *ctx, int64_t begin, int64_t end, int tid);
void xai_par_for(int64_t n, int64_t min_per_thread, xai_par_fn fn, void *ctx);
/* fn once on each thread of the pool (the caller's too), item t on thread t; alone on the caller
   when the pool is busy or has one thread */
void xai_par_on_every_thread(xai_par_fn fn, void *ctx);
int xai_par_threads(void);
void xai_par_set_threads(int n);
float *xai_thread_scratch(size_t n);   /* per-thread buffer, grown on demand (NULL: no memory) */
int xai_par_blas_begin(double macs);   /* unsplittable big product: xai_sgemm splits it over the pool */
void xai_par_blas_end(int token);
int xai_par_region(void);              /* inside such a region with a pool of several threads */
int xai_par_blas_serial_begin(void);   /* OpenBLAS on one thread (training); returns what _end restores */
void xai_par_blas_serial_end(int token);
/* row-major cblas_sgemm; big products in fixed slices, run on the pool between xai_par_blas_begin/_end */
void xai_sgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc);
/* row-major C = alpha A op(B) + beta C (A not transposed) whose rows do not depend on M or on
   the row's place: for products over a stack of samples; runs on the pool when worth it */
void xai_sgemm_rows(CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                    int ldb, float beta, float *C, int ldc);


/* One axis of an ONNX Slice over a dimension d: start b and end e (negative ones count from
   the end; both clamped) and a nonzero step p give the first index, the step and the number of
   elements (returned). A step whose magnitude exceeds d selects at most one element, like a step
   of d (or 1 when d is 0): clamping it keeps step * stride and the size arithmetic from
   overflowing without changing the result. Used through xai_slice_params(). */
static inline int64_t xai_slice_axis(int64_t d, int64_t b, int64_t e, int64_t p, int64_t *first, int64_t *step)
{
    int64_t lim = d > 0 ? d : 1, len;
    p = p > lim ? lim : p < -lim ? -lim : p;
    if (b < 0)
        b += d;
    if (e < 0)
        e += d;
    if (p > 0) {
        b = b < 0 ? 0 : b > d ? d : b;
        e = e < 0 ? 0 : e > d ? d : e;
        len = e > b ? (e - b + p - 1) / p : 0;
    } else {
        b = b < 0 ? -1 : b > d - 1 ? d - 1 : b;
        e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
        len = b > e ? (b - e - p - 1) / (-p) : 0;
    }
    *first = b;
    *step = p;
    return len;
}
/* A Slice (opset >= 10) of x by the constant inputs in[1..4] (starts, ends, and the optional axes
   and steps: -1 or past nin when absent): each axis's first index and step, and the output shape
   (x's where no axis is sliced). The one reading of them, for load-time shapes (shape.c) and for
   folding (onnx.c); @p node names the node in messages. */
xai_status xai_slice_params(const xai_model *m, const char *node, const int *in, int nin, const xai_value *x,
                            int64_t *s0, int64_t *sp, int64_t *shape);

/* Row-major strides of shape[nd]. A tensor with a zero dimension may have other dimensions whose
   product overflows (its strides are then never used): the product saturates instead. */
static inline void xai_row_strides(int nd, const int64_t *shape, int64_t *st)
{
    int64_t s = 1;
    for (int i = nd - 1; i >= 0; i--) {
        st[i] = s;
        if (__builtin_mul_overflow(s, shape[i], &s))
            s = INT64_MAX;
    }
}

/* An integer read from a float constant (shapes, indices, axes): NaN gives 0 and the magnitude
   saturates at 2^62, so the conversion is defined and later sums cannot overflow; the callers'
   range checks then reject such values. */
static inline int64_t xai_f2i(float f)
{
    const float lim = 4611686018427387904.0f; /* 2^62 */
    if (!(f == f))
        return 0;
    return f >= lim ? ((int64_t)1 << 62) : f <= -lim ? -((int64_t)1 << 62) : (int64_t)f;
}

/* element k of an integer or float constant as an integer (xai_f2i for floats) */
static inline int64_t xai_value_int(const xai_value *v, int64_t k)
{
    return v->dtype == DT_I64 ? v->i[k] : xai_f2i(v->f[k]);
}

/* Affine gather index: the element k of a row-major tensor of shape[nd] reads
   base + sum_d c_d * stride[d], c its coordinates (Transpose, Slice; loads and folding). */
static inline int64_t xai_strided_index(int64_t k, int nd, const int64_t *shape, int64_t base, const int64_t *stride)
{
    for (int d = nd - 1; d >= 0; d--) {
        base += (k % shape[d]) * stride[d];
        k /= shape[d];
    }
    return base;
}

/* stabilizer: z + eps * sgn(z), sgn(0) = +1 */
static inline float xai_stab(float z, float eps) { return z >= 0.0f ? z + eps : z - eps; }

#endif /* XAI_GRAPH_INT_H */
