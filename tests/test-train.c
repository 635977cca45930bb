/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-train.c - training: finite-difference checks of parameter gradients (Conv 1-D,
 * 2-D, 3-D, Gemm, MatMul+bias, BatchNormalization in training mode, Dropout with a fixed
 * mask), then the loop itself: loss goes down on a planted problem, the same seed gives
 * bit-identical weights, validation split and early stopping, class weights.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"
#include "test-common.h"
#include "xai.h"
#include "xai/train.h"

/* a model of tests/data/onnx */
static xai_model *load(const char *rel)
{
    return xai_test_load_model(xai_test_path(xai_test_path(xai_test_data_dir(), "onnx"), rel));
}

static void fill(float *x, int64_t n, unsigned seed)
{
    for (int64_t k = 0; k < n; k++)
        x[k] = (float)sin(1.3 * (double)(k + 1) * (seed + 1) + 0.7 * seed);
}

/* L = sum over the stack of r . logits, in training mode with a fixed dropout seed */
static double loss_of(xai_model *m, xai_workspace *ws, int64_t ns, const float *x, const float *r)
{
    ws->training = 1;
    ws->drop_seed = 42;
    ck_assert_int_eq(xai_graph_forward(m, ws, ns, x), XAI_OK);
    double l = 0;
    int64_t no = m->vals[m->output].numel * ns;
    for (int64_t k = 0; k < no; k++)
        l += (double)r[k] * ws->val[m->output][k];
    return l;
}

typedef struct {
    float *data;
    int64_t n;
    float *grad;
    const char *what;
} tparam;

static void fd_params_model(xai_model *m, const char *file, int64_t ns)
{
    xai_workspace *ws;
    ck_assert_int_eq(xai_workspace_new(m, ns, &ws), XAI_OK);
    ws->bn_momentum = 0.0f; /* keep running statistics fixed while probing */
    int64_t nin = m->vals[m->input].numel * ns, no = m->vals[m->output].numel * ns;
    float *x = malloc(sizeof(float) * (size_t)nin), *r = malloc(sizeof(float) * (size_t)no);
    fill(x, nin, 1);
    fill(r, no, 2);
    tparam ps[64];
    int np = 0;
    for (int i = 0; i < m->nnodes; i++) {
        xai_node *n = &m->nodes[i];
        float *w = NULL, *b = NULL;
        int64_t nw = 0, nb = 0;
        if (n->kind == K_CONV) {
            w = m->vals[n->in[1]].f;
            nw = m->vals[n->in[1]].numel;
            if (n->nin > 2 && n->in[2] >= 0) {
                b = m->vals[n->in[2]].f;
                nb = m->vals[n->in[2]].numel;
            }
        } else if (n->kind == K_GEMM) {
            int64_t o, k;
            w = xai_gemm_weights(n, &b, &o, &k);
            nw = o * k;
            nb = b ? o : 0;
        } else if (n->kind == K_BN) {
            w = m->vals[n->in[1]].f;
            b = m->vals[n->in[2]].f;
            nw = nb = m->vals[n->in[1]].numel;
        } else {
            continue;
        }
        if (w) {
            n->pgrad[0] = calloc((size_t)nw, sizeof(float));
            ps[np++] = (tparam){w, nw, n->pgrad[0], n->op_type};
        }
        if (b) {
            n->pgrad[1] = calloc((size_t)nb, sizeof(float));
            ps[np++] = (tparam){b, nb, n->pgrad[1], n->op_type};
        }
    }
    ck_assert_int_gt(np, 0);
    loss_of(m, ws, ns, x, r);
    xai_ws_clear_adj(ws);
    memcpy(ws->adj[m->output], r, sizeof(float) * (size_t)no);
    for (int i = m->nnodes - 1; i >= 0; i--)
        ck_assert_int_eq(m->nodes[i].ops->backward(m, &m->nodes[i], ws), XAI_OK);
    double worst = 0;
    for (int p = 0; p < np; p++) {
        double gmax = 0;
        for (int64_t k = 0; k < ps[p].n; k++)
            gmax = fmax(gmax, fabs(ps[p].grad[k]));
        int64_t step = ps[p].n > 150 ? ps[p].n / 150 : 1;
        for (int64_t k = 0; k < ps[p].n; k += step) {
            float keep = ps[p].data[k];
            const float h = 1e-3f;
            ps[p].data[k] = keep + h;
            xai_model_params_changed(m);
            double lp = loss_of(m, ws, ns, x, r);
            ps[p].data[k] = keep - h;
            xai_model_params_changed(m);
            double lm = loss_of(m, ws, ns, x, r);
            ps[p].data[k] = keep;
            double fd = (lp - lm) / (2.0 * h);
            /* relative to the tensor's largest gradient; 1e-2 absolute floor for float32 FD noise */
            double err = fabs(fd - ps[p].grad[k]) / (gmax + 1e-2);
            worst = fmax(worst, err);
            ck_assert_msg(err < 5e-3, "%s: %s parameter %d element %lld: backward %.6g, finite difference %.6g", file,
                          ps[p].what, p, (long long)k, ps[p].grad[k], fd);
        }
    }
    xai_model_params_changed(m);
    printf("  %-32s parameter finite-difference worst error %.2e (%d tensors, stack %lld)\n", file, worst, np,
           (long long)ns);
    for (int i = 0; i < m->nnodes; i++)
        for (int k = 0; k < 4; k++) {
            free(m->nodes[i].pgrad[k]);
            m->nodes[i].pgrad[k] = NULL;
        }
    free(x);
    free(r);
    xai_workspace_free(ws);
    xai_model_free(m);
}

static void fd_params(const char *file, int64_t ns)
{
    fd_params_model(load(file), file, ns);
}

/* 1-D convolutions with stride 1: dilations, paddings wider than the kernel reach, no padding;
 * the second layer's input gradient feeds the first layer's parameter gradients, so forward,
 * input gradient and weight gradient are all probed. Few channels take the direct kernels,
 * more than they take (the last spec) the tap-by-tap products on the padded input. */
static void fd_params_spec(const char *spec)
{
    int64_t shape[2] = {3, 17};
    xai_model *m;
    ck_assert_msg(xai_model_from_spec(spec, 2, shape, 4, &m) == XAI_OK, "%s: %s", spec, xai_last_error());
    fd_params_model(m, spec, 2);
}

START_TEST(test_pgrad_conv1d) { fd_params("ops/conv1d.onnx", 2); }
END_TEST
START_TEST(test_pgrad_conv1d_taps)
{
    fd_params_spec("conv1d(4,k=3,p=1) tanh conv1d(5,k=4,d=2,p=3) tanh flatten dense(3)");
    fd_params_spec("conv1d(4,k=5) tanh conv1d(3,k=3,d=3,p=5) tanh flatten dense(2)");
    fd_params_spec("conv1d(2,k=6,p=2,d=2) sigmoid conv1d(4,k=2) tanh flatten dense(3)");
    fd_params_spec("conv1d(70,k=3,p=1) tanh conv1d(66,k=4,d=2,p=3) tanh flatten dense(3)");
}
END_TEST
START_TEST(test_pgrad_conv2d) { fd_params("ops/conv2d.onnx", 2); }
END_TEST
START_TEST(test_pgrad_conv3d) { fd_params("ops/conv3d_avgpool.onnx", 2); }
END_TEST
START_TEST(test_pgrad_bn_train) { fd_params("ops/bn_residual_arith.onnx", 3); }
END_TEST
START_TEST(test_pgrad_dense) { fd_params("ops/dense_softmax.onnx", 3); }
END_TEST
START_TEST(test_pgrad_pool_cnn) { fd_params("conserve/cnn_bias1.onnx", 2); }
END_TEST

/* Planted problem for cnn_bias1 ([1,2,8,8] -> 3 classes): the class is where a bright
   blob sits (left, middle, right third of channel 0), on noise. */
static void planted(int64_t n, float *x, int *y, unsigned seed)
{
    uint64_t s = seed * 7919u + 1;
    for (int64_t i = 0; i < n; i++) {
        float *xi = x + i * 128;
        for (int k = 0; k < 128; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            xi[k] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5) * 0.6f;
        }
        int c = (int)(i % 3);
        y[i] = c;
        int col = 1 + c * 3;
        for (int r = 2; r < 6; r++)
            for (int dc = 0; dc < 2 && col + dc < 8; dc++)
                xi[r * 8 + col + dc] += 2.0f;
    }
}

static int count_progress;
static void on_progress(const xai_train_progress *p, void *ud)
{
    (void)ud;
    (void)p;
    count_progress++;
}

START_TEST(test_train_learns)
{
    xai_model *m = load("conserve/cnn_bias1.onnx");
    enum { N = 240 };
    float *x = malloc(sizeof(float) * N * 128);
    int y[N];
    planted(N, x, y, 1);
    double l0, a0;
    ck_assert_int_eq(xai_evaluate_loss(m, N, x, y, NULL, &l0, &a0), XAI_OK);
    xai_train_config c;
    xai_train_config_init(&c);
    c.epochs = 15;
    c.batch = 16;
    c.lr = 3e-3f;
    c.seed = 5;
    c.progress = on_progress;
    xai_train_result r;
    count_progress = 0;
    ck_assert_int_eq(xai_train(m, &c, N, x, y, &r), XAI_OK);
    double l1, a1;
    ck_assert_int_eq(xai_evaluate_loss(m, N, x, y, NULL, &l1, &a1), XAI_OK);
    printf("  planted 3-class problem: loss %.3f -> %.3f, accuracy %.2f -> %.2f (best epoch %d of %d)\n", l0, l1, a0,
           a1, r.best_epoch, r.epochs_run);
    ck_assert_int_eq(count_progress, r.epochs_run);
    ck_assert_msg(l1 < 0.5 * l0, "loss %.3f -> %.3f", l0, l1);
    ck_assert_msg(a1 > 0.9, "accuracy %.3f", a1);
    ck_assert_int_eq(r.n_val, 48);
    ck_assert_int_eq(r.n_train, 192);
    free(x);
    xai_model_free(m);
}
END_TEST

/* the running training loss of each epoch, for no_validation_keeps_last */
static double epoch_loss[64];
static void record_loss(const xai_train_progress *p, void *ud)
{
    (void)ud;
    if (p->epoch >= 1 && p->epoch <= 64)
        epoch_loss[p->epoch - 1] = p->train_loss;
}

/* Without a validation set the last epoch's weights are kept, so that is the kept epoch the
 * result reports (cards and logs print it), even when an earlier epoch had a lower training loss. */
START_TEST(no_validation_keeps_last)
{
    xai_model *m = load("conserve/cnn_bias1.onnx");
    enum { N = 96, E = 12 };
    float *x = malloc(sizeof(float) * N * 128);
    int y[N];
    planted(N, x, y, 2);
    xai_train_config c;
    xai_train_config_init(&c);
    c.epochs = E;
    c.batch = 8;
    c.lr = 0.2f; /* large steps: the training loss goes up and down (lowest at epoch 5 of 12) */
    c.val_split = 0;
    c.seed = 3;
    c.progress = record_loss;
    xai_train_result r;
    ck_assert_int_eq(xai_train(m, &c, N, x, y, &r), XAI_OK);
    int best = 0;
    for (int e = 1; e < E; e++)
        if (epoch_loss[e] < epoch_loss[best])
            best = e;
    printf("  no validation: lowest running training loss at epoch %d of %d, kept epoch %d\n", best + 1, E,
           r.best_epoch);
    /* the set-up must have a better epoch before the last, or this test checks nothing */
    ck_assert_int_lt(best + 1, E);
    ck_assert_int_eq(r.n_val, 0);
    ck_assert_int_eq(r.epochs_run, E);
    ck_assert_int_eq(r.best_epoch, E);
    double l, a;
    ck_assert_int_eq(xai_evaluate_loss(m, N, x, y, NULL, &l, &a), XAI_OK);
    ck_assert_double_eq_tol(r.kept_train_loss, l, 1e-6 * (1 + l));
    free(x);
    xai_model_free(m);
}
END_TEST

static void train_once(uint64_t seed, xai_optimizer opt, float *wout, int64_t *nw)
{
    xai_model *m = load("ops/bn_residual_arith.onnx");
    enum { N = 60 };
    int64_t nin = xai_model_input_numel(m);
    float *x = malloc(sizeof(float) * (size_t)(N * nin));
    int y[N];
    fill(x, N * nin, 3);
    for (int i = 0; i < N; i++)
        y[i] = x[i * nin] > 0 ? 1 : (x[i * nin + 1] > 0 ? 2 : 0);
    xai_train_config c;
    xai_train_config_init(&c);
    c.epochs = 3;
    c.batch = 8;
    c.seed = seed;
    c.optimizer = opt;
    c.weight_decay = 1e-3f;
    c.schedule = XAI_SCHED_COSINE;
    xai_train_result r;
    ck_assert_int_eq(xai_train(m, &c, N, x, y, &r), XAI_OK);
    int v = xai_model_find_value(m, "W1");
    *nw = m->vals[v].numel;
    memcpy(wout, m->vals[v].f, sizeof(float) * (size_t)*nw);
    free(x);
    xai_model_free(m);
}

START_TEST(test_train_deterministic)
{
    float a[64], b[64], c[64];
    int64_t n;
    for (int opt = 0; opt < 3; opt++) {
        train_once(11, (xai_optimizer)opt, a, &n);
        train_once(11, (xai_optimizer)opt, b, &n);
        train_once(12, (xai_optimizer)opt, c, &n);
        ck_assert_mem_eq(a, b, sizeof(float) * (size_t)n);
        ck_assert_msg(memcmp(a, c, sizeof(float) * (size_t)n) != 0, "optimizer %d: seed has no effect", opt);
    }
}
END_TEST

START_TEST(test_train_errors)
{
    xai_model *m = load("ops/dense_softmax.onnx");
    float x[10] = {0};
    int y[2] = {0, 7};
    xai_train_config c;
    xai_train_config_init(&c);
    ck_assert_int_eq(xai_train(m, &c, 2, x, y, NULL), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "label 7"));
    y[1] = 1;
    c.epochs = 0;
    ck_assert_int_eq(xai_train(m, &c, 2, x, y, NULL), XAI_EINVAL);
    c.epochs = 1;
    c.lr = 1e30f;
    float xb[10] = {1, 2, 3, 4, 5, -1, -2, -3, -4, -5};
    xai_status st = xai_train(m, &c, 2, xb, y, NULL);
    ck_assert(st == XAI_OK || st == XAI_ENUMERIC);
    xai_model_free(m);
}
END_TEST

START_TEST(test_class_weights)
{
    xai_model *m = load("ops/dense_softmax.onnx");
    float x[20];
    fill(x, 20, 4);
    int y[4] = {0, 1, 2, 1};
    double l1, a1, l2, a2;
    float cw[3] = {1, 1, 1}, cw2[3] = {5, 1, 1};
    ck_assert_int_eq(xai_evaluate_loss(m, 4, x, y, NULL, &l1, &a1), XAI_OK);
    ck_assert_int_eq(xai_evaluate_loss(m, 4, x, y, cw, &l2, &a2), XAI_OK);
    ck_assert_double_eq_tol(l1, l2, 1e-9);
    ck_assert_int_eq(xai_evaluate_loss(m, 4, x, y, cw2, &l2, &a2), XAI_OK);
    ck_assert(fabs(l1 - l2) > 1e-6);
    xai_model_free(m);
}
END_TEST

/* A separable task for both families: class 1 carries a bump on channel 1 between steps
   10 and 20 (CNN input [C=3][T=32]; LSTM input [T=32][F=3], the same data transposed). */
static void bump_task(int64_t n, int transpose, float *x, int *y)
{
    uint64_t s = 99;
    for (int64_t i = 0; i < n; i++) {
        y[i] = (int)(i % 2);
        for (int c = 0; c < 3; c++)
            for (int t = 0; t < 32; t++) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                float v = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
                if (y[i] && c == 1 && t >= 10 && t < 20)
                    v += 1.5f;
                x[i * 96 + (transpose ? t * 3 + c : c * 32 + t)] = v;
            }
    }
}

/* weights of every float constant, concatenated (caller frees) */
static float *all_weights(const xai_model *m, int64_t *n)
{
    int64_t total = 0;
    for (int v = 0; v < m->nvals; v++)
        if (m->vals[v].is_const && m->vals[v].f)
            total += m->vals[v].numel;
    float *w = malloc(sizeof(float) * (size_t)total), *p = w;
    for (int v = 0; v < m->nvals; v++)
        if (m->vals[v].is_const && m->vals[v].f) {
            memcpy(p, m->vals[v].f, sizeof(float) * (size_t)m->vals[v].numel);
            p += m->vals[v].numel;
        }
    *n = total;
    return w;
}

static void spec_learns(const char *spec, int transpose, int epochs, float lr)
{
    enum { N = 200 };
    float *x = malloc(sizeof(float) * N * 96);
    int y[N];
    bump_task(N, transpose, x, y);
    int64_t shape[2] = {transpose ? 32 : 3, transpose ? 3 : 32};
    float *w1 = NULL;
    int64_t nw = 0;
    for (int run = 0; run < 2; run++) {
        xai_model *m;
        xai_set_num_threads(run + 1); /* the second run uses the thread pool */
        ck_assert_msg(xai_model_from_spec(spec, 2, shape, 7, &m) == XAI_OK, "%s: %s", spec, xai_last_error());
        xai_train_config c;
        xai_train_config_init(&c);
        c.epochs = epochs;
        c.batch = 16;
        c.lr = lr;
        c.seed = 21;
        c.patience = 0;
        xai_train_result r;
        ck_assert_int_eq(xai_train(m, &c, N, x, y, &r), XAI_OK);
        printf("  %-44s best validation accuracy %.3f (epoch %d), train loss %.4f\n", spec, r.best_val_acc,
               r.best_epoch, r.final_train_loss);
        ck_assert_msg(r.best_val_acc >= 0.95, "%s: validation accuracy %.3f", spec, r.best_val_acc);
        ck_assert_int_eq(r.n_val, 40);
        /* determinism: the second run ends with bit-identical weights */
        int64_t total;
        float *w = all_weights(m, &total);
        if (run == 0) {
            w1 = w;
            nw = total;
        } else {
            ck_assert_int_eq(total, nw);
            ck_assert_msg(memcmp(w, w1, sizeof(float) * (size_t)nw) == 0, "%s: runs with 1 and 2 threads differ", spec);
            free(w);
        }
        xai_model_free(m);
    }
    xai_set_num_threads(1);
    free(w1);
    free(x);
}

/* A model big enough that the pool splits every kind of training work (conv weight-gradient
 * blocks, BatchNorm channels, activations, pooling planes): 1 and 2 threads end bit-identical,
 * and so does the library's default state (no pool, OpenBLAS with threads of its own, which
 * split its products differently from one thread: training runs it single-threaded). */
START_TEST(test_train_threads_identical)
{
    enum { N = 56, C = 16, T = 512 };
    const char *spec = "conv1d(16,k=7,p=3) bn relu maxpool(2) conv1d(16,k=5,p=2) relu avgpool(4) flatten dense(2)";
    int64_t shape[2] = {C, T};
    float *x = malloc(sizeof(float) * N * C * T);
    int y[N];
    for (int i = 0; i < N; i++) {
        y[i] = i % 2;
        for (int k = 0; k < C * T; k++)
            x[i * C * T + k] = (float)sin(0.013 * (double)(k + 7 * i)) + (y[i] && k % T < 40 ? 0.5f : 0.0f);
    }
    float *w[3];
    int64_t nw[3];
    for (int run = 0; run < 3; run++) {
        xai_model *m;
        xai_set_num_threads(run == 1 ? 2 : 1);
        if (run == 2)
            openblas_set_num_threads(2);
        ck_assert_int_eq(xai_model_from_spec(spec, 2, shape, 3, &m), XAI_OK);
        xai_train_config c;
        xai_train_config_init(&c);
        c.epochs = 2;
        c.batch = 32;
        c.lr = 1e-3f;
        c.seed = 5;
        c.val_split = 0;
        ck_assert_msg(xai_train(m, &c, N, x, y, NULL) == XAI_OK, "%s", xai_last_error());
        if (run == 2)
            ck_assert_int_eq(openblas_get_num_threads(), 2); /* restored after training */
        w[run] = all_weights(m, &nw[run]);
        xai_model_free(m);
    }
    xai_set_num_threads(1);
    ck_assert_int_eq(nw[0], nw[1]);
    ck_assert_int_eq(nw[0], nw[2]);
    ck_assert_msg(memcmp(w[0], w[1], sizeof(float) * (size_t)nw[0]) == 0, "1 and 2 threads give different weights");
    ck_assert_msg(memcmp(w[0], w[2], sizeof(float) * (size_t)nw[0]) == 0,
                  "OpenBLAS's own threads give different weights");
    for (int run = 0; run < 3; run++)
        free(w[run]);
    free(x);
}
END_TEST

START_TEST(test_cnn_from_spec_learns)
{
    spec_learns("conv1d(8,k=5,p=2) bn relu maxpool(2) flatten dropout(0.2) dense(2)", 0, 12, 3e-3f);
}
END_TEST

START_TEST(test_lstm_from_spec_learns)
{
    spec_learns("lstm(12,bidirectional,last) dense(2)", 1, 25, 1e-2f);
}
END_TEST

START_TEST(test_bad_data)
{
    xai_model *m = load("ops/dense_softmax.onnx");
    float x[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    int y[2] = {0, 1};
    x[7] = NAN;
    xai_train_config c;
    xai_train_config_init(&c);
    ck_assert_int_eq(xai_train(m, &c, 2, x, y, NULL), XAI_ENUMERIC);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "sample 1"));
    ck_assert_int_eq(xai_train(m, &c, 0, x, y, NULL), XAI_EINVAL);
    xai_model_free(m);
    int64_t shape[2] = {3, 32};
    ck_assert_int_eq(xai_model_from_spec("conv1d(8,k=5) frobnicate dense(2)", 2, shape, 1, &m), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "frobnicate"));
    ck_assert_int_eq(xai_model_from_spec("conv1d(8,k=64) dense(2)", 2, shape, 1, &m) != XAI_OK, 1);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("gradients");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_pgrad_conv1d);
    tcase_add_test(tc, test_pgrad_conv1d_taps);
    tcase_add_test(tc, test_pgrad_conv2d);
    tcase_add_test(tc, test_pgrad_conv3d);
    tcase_add_test(tc, test_pgrad_bn_train);
    tcase_add_test(tc, test_pgrad_dense);
    tcase_add_test(tc, test_pgrad_pool_cnn);
    suite_add_tcase(s, tc);
    TCase *t2 = tcase_create("loop");
    tcase_set_timeout(t2, 300);
    tcase_add_test(t2, test_train_learns);
    tcase_add_test(t2, no_validation_keeps_last);
    tcase_add_test(t2, test_train_deterministic);
    tcase_add_test(t2, test_train_errors);
    tcase_add_test(t2, test_class_weights);
    tcase_add_test(t2, test_cnn_from_spec_learns);
    tcase_add_test(t2, test_lstm_from_spec_learns);
    tcase_add_test(t2, test_train_threads_identical);
    tcase_add_test(t2, test_bad_data);
    suite_add_tcase(s, t2);
    return s;
}
