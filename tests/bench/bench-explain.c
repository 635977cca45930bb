/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bench-explain.c - speed of the forward pass and of epsilon-plus-flat LRP.
 *
 * For each model given: per-sample forward and explanation time at batch 1 and 64 (median
 * of --reps repetitions after a warm-up), their ratio, and the achieved GFLOP/s. FLOPs are
 * counted exactly: this program interposes cblas_sgemm (the library links OpenBLAS
 * dynamically, so its calls land here first), adds 2*M*N*K per call and forwards to the
 * real OpenBLAS routine. "forward GFLOP/s" is the sgemm work of one forward pass over its
 * time; "explain GFLOP/s" is all the sgemm work xai_explain() does (its forward pass, the
 * rules' modified forwards and transposed products) over its time. OpenBLAS sgemm itself
 * is timed in the same run on the largest conv's im2col shape (M=Cout, N=out pixels,
 * K=Cin*taps, per sample and with 64 samples side by side) and on 1024^3.
 *
 *   /usr/bin/python3 tests/bench/make_bench_models.py /tmp/bench-models
 *   meson setup /tmp/build-bench --buildtype=release && ninja -C /tmp/build-bench
 *   /tmp/build-bench/tests/bench/bench-explain --threads 2 \
 *       /work/shared/reference/cnn/eeg_cnn1d/model.onnx /work/shared/reference/cnn/mlp/model.onnx \
 *       /tmp/bench-models/conv2d_64.onnx /tmp/bench-models/eeg1d_64.onnx
 *
 * Options: --threads N (BLAS threads, default 2), --reps R (default 7), --batch 1|64 (only
 * that batch size, for profiling), --layers (per-node forward and relevance times), --shapes
 * (time and GFLOP/s per sgemm call shape during one explanation; timing every call adds a little),
 * --composite NAME (default epsilon-plus-flat).
 *
 * The direct convolution kernels do not call sgemm, so the program also counts FLOPs from the
 * layers: every Conv/Gemm product is 2 * MACs of the layer (output elements x input channels per
 * group x taps, padding included, as FLOP counts of convolutions are usually given), the forward
 * pass one product per layer, and each rule the products it needs by definition (epsilon and
 * Flat one transposed product, z+ a forward and a transposed one, twice that on inputs of both
 * signs, ...; see rule_products). "counted" lines give those GFLOP/s, whatever kernel ran.
 */
#include <cblas.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph-int.h"
#include "lrp-int.h"
#include "xai/lrp.h"
#include "xai/model.h"

/* ---- sgemm interposition: count FLOPs, forward to OpenBLAS ------------------------------- */

typedef void (*sgemm_fn)(OPENBLAS_CONST enum CBLAS_ORDER, OPENBLAS_CONST enum CBLAS_TRANSPOSE,
                         OPENBLAS_CONST enum CBLAS_TRANSPOSE, OPENBLAS_CONST blasint, OPENBLAS_CONST blasint,
                         OPENBLAS_CONST blasint, OPENBLAS_CONST float, OPENBLAS_CONST float *,
                         OPENBLAS_CONST blasint, OPENBLAS_CONST float *, OPENBLAS_CONST blasint,
                         OPENBLAS_CONST float, float *, OPENBLAS_CONST blasint);

static sgemm_fn real_sgemm;
static double sgemm_flops;
static long sgemm_calls;

/* --shapes: time spent per distinct sgemm call shape */
typedef struct {
    int ta, tb;
    long m, n, k;
    long calls;
    double ms;
} shape_stat;
static int shape_on, shape_rec;
static shape_stat shapes[256];
static int nshapes;

static double now_ms(void);

static void bind_sgemm(void)
{
    void *p = dlsym(RTLD_NEXT, "cblas_sgemm");
    if (!p) {
        fprintf(stderr, "bench-explain: cannot find OpenBLAS cblas_sgemm: %s\n", dlerror());
        exit(1);
    }
    memcpy(&real_sgemm, &p, sizeof real_sgemm); /* object to function pointer, ISO-C clean */
}

void cblas_sgemm(OPENBLAS_CONST enum CBLAS_ORDER Order, OPENBLAS_CONST enum CBLAS_TRANSPOSE TransA,
                 OPENBLAS_CONST enum CBLAS_TRANSPOSE TransB, OPENBLAS_CONST blasint M, OPENBLAS_CONST blasint N,
                 OPENBLAS_CONST blasint K, OPENBLAS_CONST float alpha, OPENBLAS_CONST float *A,
                 OPENBLAS_CONST blasint lda, OPENBLAS_CONST float *B, OPENBLAS_CONST blasint ldb,
                 OPENBLAS_CONST float beta, float *C, OPENBLAS_CONST blasint ldc)
{
    if (!real_sgemm)
        bind_sgemm();
    sgemm_flops += 2.0 * (double)M * (double)N * (double)K;
    sgemm_calls++;
    if (!shape_rec) {
        real_sgemm(Order, TransA, TransB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    double t0 = now_ms();
    real_sgemm(Order, TransA, TransB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    double dt = now_ms() - t0;
    int ta = TransA == CblasTrans, tb = TransB == CblasTrans, i;
    for (i = 0; i < nshapes; i++)
        if (shapes[i].ta == ta && shapes[i].tb == tb && shapes[i].m == M && shapes[i].n == N && shapes[i].k == K)
            break;
    if (i == nshapes) {
        if (nshapes == 256)
            return;
        shapes[nshapes++] = (shape_stat){ta, tb, (long)M, (long)N, (long)K, 0, 0};
    }
    shapes[i].calls++;
    shapes[i].ms += dt;
}

static void print_shapes(const char *label, long batch)
{
    for (int i = 0; i < nshapes; i++) {
        const shape_stat *s = &shapes[i];
        double gf = 2.0 * (double)s->m * (double)s->n * (double)s->k * (double)s->calls / (s->ms * 1e-3) / 1e9;
        printf("%s shapes batch=%ld sgemm %c%c M=%ld N=%ld K=%ld calls=%ld total_ms=%.2f GFLOP/s=%.1f\n", label,
               batch, s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->m, s->n, s->k, s->calls, s->ms, gf);
    }
}

/* ---- helpers ---------------------------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static float frand(void) /* uniform in [-1, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((double)(rng_state >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* "…/eeg_cnn1d/model.onnx" -> "eeg_cnn1d"; "…/conv2d_64.onnx" -> "conv2d_64" */
static void model_label(const char *path, char *out, size_t len)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strcmp(base, "model.onnx") == 0 && base > path + 1) {
        const char *end = base - 1, *start = end;
        while (start > path && start[-1] != '/')
            start--;
        snprintf(out, len, "%.*s", (int)(end - start), start);
        return;
    }
    snprintf(out, len, "%s", base);
    char *dot = strstr(out, ".onnx");
    if (dot)
        *dot = '\0';
}

/* The largest linear node's GEMM shape (per sample, group 1 assumed). */
static void biggest_gemm(const xai_model *m, int64_t *M, int64_t *N, int64_t *K, const char **name)
{
    double best = 0;
    *M = *N = *K = 0;
    *name = "";
    for (int i = 0; i < m->nnodes; i++) {
        const xai_linear *L = xai_node_linear(&m->nodes[i]);
        if (!L || L->nout_ch < 1)
            continue;
        int64_t mm = L->nout_ch, nn = L->out_numel / L->nout_ch, kk = L->wlen / L->nout_ch;
        double macs = (double)mm * (double)nn * (double)kk;
        if (macs > best) {
            best = macs;
            *M = mm;
            *N = nn;
            *K = kk;
            *name = m->nodes[i].name;
        }
    }
}

/* GFLOP/s of OpenBLAS sgemm (row major, no transposes) on M x N x K, median of reps. */
static int bench_threads = 1;

/* OpenBLAS's idle threads busy-wait (sched_yield loop) for about 0.1 s after the library loads
   and after a threaded call; let them go to sleep before libxai is timed, or they compete with
   its pool */
static void settle_openblas(void)
{
    struct timespec settle = {0, 300000000};
    nanosleep(&settle, NULL);
}

/* OpenBLAS's own GFLOP/s with all the bench's threads (libxai's pool keeps OpenBLAS at
   one thread inside its workers, so restore that afterwards) */
static double sgemm_gflops_impl(int64_t M, int64_t N, int64_t K, int reps);
static double sgemm_gflops(int64_t M, int64_t N, int64_t K, int reps)
{
    openblas_set_num_threads(bench_threads);
    double g = sgemm_gflops_impl(M, N, K, reps);
    xai_set_num_threads(1);
    xai_set_num_threads(bench_threads);
    settle_openblas();
    return g;
}

static double sgemm_gflops_impl(int64_t M, int64_t N, int64_t K, int reps)
{
    float *a = malloc(sizeof(float) * (size_t)(M * K));
    float *b = malloc(sizeof(float) * (size_t)(K * N));
    float *c = malloc(sizeof(float) * (size_t)(M * N));
    if (!a || !b || !c) {
        free(a);
        free(b);
        free(c);
        return 0;
    }
    for (int64_t k = 0; k < M * K; k++)
        a[k] = frand();
    for (int64_t k = 0; k < K * N; k++)
        b[k] = frand();
    double flop = 2.0 * (double)M * (double)N * (double)K;
    /* enough inner calls for ~2 GFLOP (~20 ms) per timing */
    int inner = (int)(2e9 / (flop > 1 ? flop : 1)) + 1;
    if (inner > 1000)
        inner = 1000;
    double *t = malloc(sizeof(double) * (size_t)reps);
    if (!t) {
        free(a);
        free(b);
        free(c);
        return 0;
    }
    real_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)M, (blasint)N, (blasint)K, 1.0f, a, (blasint)K,
               b, (blasint)N, 0.0f, c, (blasint)N);
    for (int r = 0; r < reps; r++) {
        double t0 = now_ms();
        for (int i = 0; i < inner; i++)
            real_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)M, (blasint)N, (blasint)K, 1.0f, a,
                       (blasint)K, b, (blasint)N, 0.0f, c, (blasint)N);
        t[r] = (now_ms() - t0) / inner;
    }
    double ms = median(t, reps);
    free(t);
    free(a);
    free(b);
    free(c);
    return flop / (ms * 1e-3) / 1e9;
}

/* Forward-sized products a linear layer's rule computes (neg: its input has negative entries). */
static double rule_products(const xai_rule *r, int neg)
{
    switch (r->kind) {
    case XAI_RULE_EPSILON: return r->bias_factor != 0.0f ? 2 : 1;
    case XAI_RULE_ZPLUS: return neg ? 4 : 2;
    case XAI_RULE_ALPHABETA: return (neg ? 4 : 2) * (r->beta != 0.0f ? 2 : 1);
    case XAI_RULE_GAMMA: return neg ? 8 : 4;
    case XAI_RULE_ZBOX: return 6;
    case XAI_RULE_FLAT: case XAI_RULE_WSQUARE: case XAI_RULE_GRADIENT: return 1;
    default: return 0;
    }
}

/* 2 * MACs of one sample's forward product of a linear node */
static double node_flop(const xai_node *n)
{
    const xai_linear *L = xai_node_linear(n);
    return L ? 2.0 * (double)L->out_numel * (double)(L->wlen / L->nout_ch) : 0;
}

static int any_neg(const float *x, int64_t n)
{
    for (int64_t k = 0; k < n; k++)
        if (x[k] < 0)
            return 1;
    return 0;
}

/* Counted FLOPs per sample of the forward pass and of the rules of cfg on the stack of B samples
   that ws holds after a forward pass; conv_rel gets the Conv layers' share of the rules'. */
static void counted_flop(const xai_model *m, xai_workspace *ws, const xai_explain_config *cfg, int64_t B,
                         double *fwd, double *rel, double *conv_rel)
{
    xai_rule *rules = NULL;
    *fwd = *rel = *conv_rel = 0;
    if (xai_lrp_rules(m, cfg, ws, &rules) != XAI_OK)
        return;
    for (int i = 0; i < m->nnodes; i++) {
        const xai_node *n = &m->nodes[i];
        if (!n->is_linear)
            continue;
        double f = node_flop(n), r = f * rule_products(&rules[i], any_neg(ws->val[n->in[0]], vnumel(m, n->in[0]) * B));
        *fwd += f;
        *rel += r;
        if (n->kind == K_CONV)
            *conv_rel += r;
    }
    free(rules);
}

static double conv_rel_gflops[2]; /* --layers: the Conv layers' relevance GFLOP/s at batch 1 and 64 */

typedef struct {
    double fwd_min, exp_min;           /* per sample: fastest repetition (robust on a busy machine) */
    double fwd_ms, exp_ms, exp_int_ms; /* per sample: forward, explain (wall), explain (library's explain_ms) */
    double fwd_flop, exp_flop;         /* sgemm FLOPs per sample */
    double fwd_cnt, rel_cnt, conv_cnt; /* counted FLOPs per sample: forward, rules, the rules on Conv */
    double ws_ms;                      /* per sample: new workspace, first touch, free */
    double ws_mb;                      /* workspace size in MB */
} bench_row;

/* What xai_explain() pays per call for its private workspace: allocate, touch, free. */
static double workspace_cost(const xai_model *m, int64_t B, int reps, double *mb)
{
    double *t = malloc(sizeof(double) * (size_t)reps);
    if (!t)
        return 0;
    *mb = 0;
    for (int r = 0; r < reps; r++) {
        xai_workspace *ws = NULL;
        double t0 = now_ms();
        if (xai_workspace_new(m, B, &ws)) {
            free(t);
            return 0;
        }
        size_t act = 0;
        for (int v = 0; v < m->nvals; v++)
            if (!m->vals[v].is_const)
                act += (size_t)m->vals[v].numel * (size_t)B * 2;
        memset(ws->bufmem, 0, sizeof(float) * act);
        memset(ws->scratch, 0, sizeof(float) * ws->scratch_len);
        *mb = (double)(act + ws->scratch_len) * sizeof(float) / 1e6;
        xai_workspace_free(ws);
        t[r] = (now_ms() - t0) / (double)B;
    }
    double ms = median(t, reps);
    free(t);
    return ms;
}

static int bench_batch(const xai_model *m, const char *label, const char *composite, int64_t B, int reps,
                       bench_row *row)
{
    int64_t nin = xai_model_input_numel(m), nout = xai_model_output_numel(m);
    float *x = malloc(sizeof(float) * (size_t)(B * nin));
    float *rel = malloc(sizeof(float) * (size_t)(B * nin));
    float *logits = malloc(sizeof(float) * (size_t)(B * nout));
    double *tf = malloc(sizeof(double) * (size_t)reps), *te = malloc(sizeof(double) * (size_t)reps);
    double *ti = malloc(sizeof(double) * (size_t)reps);
    xai_workspace *ws = NULL;
    int rc = 1;
    if (!x || !rel || !logits || !tf || !te || !ti) {
        fprintf(stderr, "%s: out of memory\n", label);
        goto out;
    }
    for (int64_t k = 0; k < B * nin; k++)
        x[k] = frand();
    xai_status st = xai_workspace_new(m, B, &ws);
    if (st) {
        fprintf(stderr, "%s: workspace: %s\n", label, xai_last_error());
        goto out;
    }
    /* forward: warm-up, then count the sgemm work of one pass, then time. The warm-up runs for
       at least 0.2 s: right after the pool's threads start, the kernel may keep a worker on
       the caller's core for a few tens of milliseconds (the first passes are then up to 4x
       slower); steady-state throughput is what a batch tool sees. */
    double wu0 = now_ms();
    for (int w = 0; w < 2 || now_ms() - wu0 < 200.0; w++)
        if ((st = xai_model_forward(m, ws, B, x, logits))) {
            fprintf(stderr, "%s: forward: %s\n", label, xai_last_error());
            goto out;
        }
    double f0 = sgemm_flops;
    xai_model_forward(m, ws, B, x, logits);
    row->fwd_flop = (sgemm_flops - f0) / (double)B;
    for (int r = 0; r < reps; r++) {
        double t0 = now_ms();
        xai_model_forward(m, ws, B, x, logits);
        tf[r] = (now_ms() - t0) / (double)B;
    }
    row->fwd_ms = median(tf, reps);
    row->fwd_min = tf[0];

    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    cfg.method = XAI_METHOD_LRP;
    cfg.composite = composite;
    cfg.batch = B;
    cfg.layer_sums = 0; /* as xai-explain without --json */
    xai_explain_result res;
    /* warm-up also builds the lazy modified weights and Flat counts */
    for (int w = 0; w < 2; w++) {
        if ((st = xai_explain(m, &cfg, B, x, rel, &res))) {
            fprintf(stderr, "%s: explain: %s\n", label, xai_last_error());
            goto out;
        }
        xai_explain_result_free(&res);
    }
    f0 = sgemm_flops;
    nshapes = 0;
    shape_rec = shape_on;
    xai_explain(m, &cfg, B, x, rel, &res);
    shape_rec = 0;
    xai_explain_result_free(&res);
    row->exp_flop = (sgemm_flops - f0) / (double)B;
    if (shape_on)
        print_shapes(label, (long)B);
    for (int r = 0; r < reps; r++) {
        double t0 = now_ms();
        xai_explain(m, &cfg, B, x, rel, &res);
        te[r] = (now_ms() - t0) / (double)B;
        ti[r] = res.explain_ms / (double)B;
        xai_explain_result_free(&res);
    }
    row->exp_ms = median(te, reps);
    row->exp_min = te[0];
    xai_model_forward(m, ws, B, x, logits);
    counted_flop(m, ws, &cfg, B, &row->fwd_cnt, &row->rel_cnt, &row->conv_cnt);
    row->exp_int_ms = median(ti, reps);
    row->ws_ms = workspace_cost(m, B, reps, &row->ws_mb);
    rc = 0;
out:
    xai_workspace_free(ws);
    free(x);
    free(rel);
    free(logits);
    free(tf);
    free(te);
    free(ti);
    return rc;
}

/*
 * --layers: per-node forward and relevance time at stack B, with the epsilon-plus-flat rules
 * chosen as lrp.c does (first linear Flat, other Conv ZPlus, Gemm Epsilon, pools Norm/WTA,
 * activations Pass). Relevance inputs are synthetic (all ones): this times the kernels only.
 */
static void layer_profile(const xai_model *m, const char *label, int64_t B, int reps)
{
    int64_t nin = xai_model_input_numel(m);
    float *x = malloc(sizeof(float) * (size_t)(B * nin));
    double *t = malloc(sizeof(double) * (size_t)reps);
    xai_workspace *ws = NULL;
    if (!x || !t || xai_workspace_new(m, B, &ws)) {
        free(x);
        free(t);
        return;
    }
    for (int64_t k = 0; k < B * nin; k++)
        x[k] = frand();
    xai_model_forward(m, ws, B, x, NULL);
    ws->bn_fold = 1;
    int first_lin = -1;
    for (int i = 0; i < m->nnodes && first_lin < 0; i++)
        if (m->nodes[i].is_linear)
            first_lin = i;
    double tot_f = 0, tot_r = 0, conv_f = 0, conv_t = 0;
    for (int i = 0; i < m->nnodes; i++) {
        const xai_node *n = &m->nodes[i];
        for (int r = 0; r < reps; r++) {
            double t0 = now_ms();
            n->ops->forward(m, n, ws);
            t[r] = now_ms() - t0;
        }
        double fms = median(t, reps) / (double)B;
        xai_rule rule;
        memset(&rule, 0, sizeof rule);
        rule.stabilizer = 1e-6f;
        rule.epsilon = 1e-6f;
        rule.kind = n->is_linear ? (i == first_lin ? XAI_RULE_FLAT
                                    : n->kind == K_GEMM ? XAI_RULE_EPSILON : XAI_RULE_ZPLUS)
                    : (n->kind == K_MAXPOOL || n->kind == K_AVGPOOL || n->kind == K_GAP) ? XAI_RULE_NORM
                    : (n->kind == K_RELU || n->kind == K_BN) ? XAI_RULE_PASS : XAI_RULE_GRADIENT;
        double rms = 0;
        if (n->ops->relevance) {
            int out = n->out[0];
            for (int64_t k = 0; k < vnumel(m, out) * B; k++)
                ws->adj[out][k] = 1.0f;
            n->ops->relevance(m, n, &rule, ws); /* warm-up: lazy weights, Flat counts */
            for (int r = 0; r < reps; r++) {
                double t0 = now_ms();
                n->ops->relevance(m, n, &rule, ws);
                t[r] = now_ms() - t0;
            }
            rms = median(t, reps) / (double)B;
        }
        double mflop = node_flop(n) / 1e6;
        double rflop = n->is_linear ? mflop * rule_products(&rule, any_neg(ws->val[n->in[0]], vnumel(m, n->in[0]) * B))
                                    : 0;
        if (n->kind == K_CONV) {
            conv_f += rflop;
            conv_t += rms;
        }
        printf("%s layers batch=%lld node=%-10s op=%-11s rule=%-8s forward_ms/sample=%.4f relevance_ms/sample=%.4f"
               " fwd_MFLOP=%.2f relevance_MFLOP=%.2f relevance_GFLOP/s=%.2f\n",
               label, (long long)B, n->name, n->op_type, xai_rule_name(rule.kind), fms, rms, mflop, rflop,
               rms > 0 ? rflop / rms : 0);
        tot_f += fms;
        tot_r += rms;
    }
    printf("%s layers batch=%lld total forward_ms/sample=%.4f relevance_ms/sample=%.4f\n", label, (long long)B,
           tot_f, tot_r);
    conv_rel_gflops[B > 1] = conv_t > 0 ? conv_f / conv_t : 0;
    if (conv_t > 0)
        printf("%s layers batch=%lld conv_relevance MFLOP/sample=%.2f ms/sample=%.4f GFLOP/s=%.2f (counted)\n", label,
               (long long)B, conv_f, conv_t, conv_f / conv_t);
    xai_workspace_free(ws);
    free(x);
    free(t);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench-explain [--threads N] [--reps R] [--batch 1|64] [--layers] [--shapes] [--composite NAME]\n"
               "       MODEL.onnx...\n"
               "  Per-sample forward and LRP time at batch 1 and 64, GFLOP/s against OpenBLAS sgemm.\n"
               "  Large models: /usr/bin/python3 tests/bench/make_bench_models.py OUTDIR\n");
}

int main(int argc, char **argv)
{
    int threads = 2, reps = 7;
    long only_batch = 0;
    int layers = 0;
    const char *composite = "epsilon-plus-flat";
    const char *models[64];
    int nmodels = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--layers") == 0)
            layers = 1;
        else if (strcmp(argv[i], "--shapes") == 0)
            shape_on = 1;
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            only_batch = atol(argv[++i]);
        else if (strcmp(argv[i], "--composite") == 0 && i + 1 < argc)
            composite = argv[++i];
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' || nmodels == 64) {
            usage(stderr);
            return 2;
        } else
            models[nmodels++] = argv[i];
    }
    if (nmodels == 0 || threads < 1 || reps < 1) {
        usage(stderr);
        return 2;
    }
    bind_sgemm();
    bench_threads = threads;
    openblas_set_num_threads(threads);
    xai_set_num_threads(threads);
    settle_openblas();
    printf("# bench-explain: threads=%d reps=%d composite=%s openblas=\"%s\" (median per-sample times)\n",
           threads, reps, composite, openblas_get_config());

    int rc = 0;
    for (int i = 0; i < nmodels; i++) {
        char label[256];
        model_label(models[i], label, sizeof label);
        xai_model *m = NULL;
        if (xai_model_load_onnx(models[i], NULL, &m)) {
            fprintf(stderr, "%s: %s\n", models[i], xai_last_error());
            rc = 1;
            continue;
        }
        int64_t M, N, K;
        const char *bname;
        biggest_gemm(m, &M, &N, &K, &bname);
        bench_row rows[2];
        const int64_t batches[2] = {1, 64};
        int ok = 1;
        for (int b = 0; b < 2 && ok; b++) {
            if (only_batch > 0 && only_batch != batches[b])
                continue;
            if (bench_batch(m, label, composite, batches[b], reps, &rows[b])) {
                ok = 0;
                rc = 1;
                break;
            }
            if (layers)
                layer_profile(m, label, batches[b], reps);
            const bench_row *r = &rows[b];
            printf("%s batch=%lld forward_ms/sample=%.4f explain_ms/sample=%.4f ratio=%.2f "
                   "(relevance_only_ratio=%.2f, library explain_ms/sample=%.4f)\n",
                   label, (long long)batches[b], r->fwd_ms, r->exp_ms, r->exp_ms / r->fwd_ms,
                   (r->exp_ms - r->fwd_ms) / r->fwd_ms, r->exp_int_ms);
            printf("%s batch=%lld forward_MFLOP/sample=%.2f forward_GFLOP/s=%.2f explain_MFLOP/sample=%.2f "
                   "explain_GFLOP/s=%.2f explain_fwd_equiv_GFLOP/s=%.2f\n",
                   label, (long long)batches[b], r->fwd_flop / 1e6, r->fwd_flop / (r->fwd_ms * 1e-3) / 1e9,
                   r->exp_flop / 1e6, r->exp_flop / (r->exp_ms * 1e-3) / 1e9,
                   r->fwd_flop / (r->exp_ms * 1e-3) / 1e9);
            printf("%s batch=%lld counted forward_MFLOP/sample=%.2f relevance_MFLOP/sample=%.2f (Conv %.2f) "
                   "forward_GFLOP/s=%.2f explain_GFLOP/s=%.2f\n",
                   label, (long long)batches[b], r->fwd_cnt / 1e6, r->rel_cnt / 1e6, r->conv_cnt / 1e6,
                   r->fwd_cnt / (r->fwd_ms * 1e-3) / 1e9, (r->fwd_cnt + r->rel_cnt) / (r->exp_ms * 1e-3) / 1e9);
            printf("%s batch=%lld min forward_ms/sample=%.4f explain_ms/sample=%.4f ratio=%.2f\n", label,
                   (long long)batches[b], r->fwd_min, r->exp_min, r->exp_min / r->fwd_min);
            printf("%s batch=%lld workspace_MB=%.1f workspace_new+touch+free_ms/sample=%.4f (paid by every "
                   "xai_explain call)\n",
                   label, (long long)batches[b], r->ws_mb, r->ws_ms);
        }
        if (ok && M > 0) {
            /* measured right after the model, so a busy machine hurts both alike */
            double s1024 = sgemm_gflops(1024, 1024, 1024, reps);
            double s1 = sgemm_gflops(M, N, K, reps);
            double s64 = sgemm_gflops(M, N * 64, K, reps);
            printf("%s sgemm biggest_layer=%s M=%lld N=%lld K=%lld GFLOP/s=%.1f; N*64 GFLOP/s=%.1f; 1024^3 "
                   "GFLOP/s=%.1f\n",
                   label, bname, (long long)M, (long long)N, (long long)K, s1, s64, s1024);
            for (int b = 0; b < 2; b++) {
                if (only_batch > 0 && only_batch != batches[b])
                    continue;
                const bench_row *r = &rows[b];
                double fg = r->fwd_flop / (r->fwd_ms * 1e-3) / 1e9, eg = r->exp_flop / (r->exp_ms * 1e-3) / 1e9;
                double ref = b == 0 ? s1 : s64;
                printf("%s batch=%d forward/sgemm(layer shape)=%.0f%% explain/sgemm(layer shape)=%.0f%% "
                       "forward/sgemm(1024^3)=%.0f%% explain/sgemm(1024^3)=%.0f%%\n",
                       label, b ? 64 : 1, 100 * fg / ref, 100 * eg / ref, 100 * fg / s1024, 100 * eg / s1024);
                double cf = r->fwd_cnt / (r->fwd_ms * 1e-3) / 1e9;
                double ce = (r->fwd_cnt + r->rel_cnt) / (r->exp_ms * 1e-3) / 1e9;
                printf("%s batch=%d counted: forward/sgemm(1024^3)=%.0f%% explain/sgemm(1024^3)=%.0f%% "
                       "explain/sgemm(layer shape)=%.0f%%",
                       label, b ? 64 : 1, 100 * cf / s1024, 100 * ce / s1024, 100 * ce / ref);
                if (layers && conv_rel_gflops[b] > 0)
                    printf(" conv_relevance/sgemm(1024^3)=%.0f%% conv_relevance/sgemm(layer shape)=%.0f%%",
                           100 * conv_rel_gflops[b] / s1024, 100 * conv_rel_gflops[b] / ref);
                printf("\n");
            }
        }
        xai_model_free(m);
    }
    return rc;
}
