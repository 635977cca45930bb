/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-guide.c - explanation-guided training (RRR). The penalty's weight gradient, computed
 * by double backpropagation, against central finite differences of the penalty for every
 * parameter kind (Conv 1-D/2-D, Dense, biases) through ReLU, LeakyReLU, MaxPool, AveragePool
 * and Dropout with a fixed mask; curved networks are refused with a reason; on a planted
 * shortcut the penalty falls during training, the masked region's input-gradient share drops
 * on held-out data and held-out accuracy without the shortcut rises. LRP guidance: its weights
 * are 1 + R/max|R| of the relevance xai_explain leaves at the layer, and the weighted pass's
 * gradient (weights held fixed) matches finite differences.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test-common.h"
#include "train-int.h"
#include "xai.h"
#include "xai/clarc.h"
#include "xai/train.h"

static void fill(float *x, int64_t n, unsigned seed)
{
    for (int64_t k = 0; k < n; k++)
        x[k] = (float)sin(1.3 * (double)(k + 1) * (seed + 1) + 0.7 * seed);
}

typedef struct {
    float *data, *grad, *g0;
    int64_t n;
    int is_bias;
} tparam;

/* Trainable tensors of m, each with a pgrad buffer installed in its node. */
static int params_of(xai_model *m, tparam *ps, int max)
{
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
        } else {
            continue;
        }
        ck_assert_int_lt(np + 2, max);
        n->pgrad[0] = calloc((size_t)nw, sizeof(float));
        ps[np++] = (tparam){w, n->pgrad[0], calloc((size_t)nw, sizeof(float)), nw, 0};
        if (b) {
            n->pgrad[1] = calloc((size_t)nb, sizeof(float));
            ps[np++] = (tparam){b, n->pgrad[1], calloc((size_t)nb, sizeof(float)), nb, 1};
        }
    }
    return np;
}

/* One batch in training mode with a fixed dropout mask: gradients into pgrad, returns the penalty. */
static double run_batch(xai_model *m, xai_workspace *ws, xai_guide_state *gs, xai_train_config *c, int64_t ns,
                        const float *x, const int *y, tparam *ps, int np)
{
    static const int64_t idx[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    for (int p = 0; p < np; p++)
        memset(ps[p].grad, 0, sizeof(float) * (size_t)ps[p].n);
    ws->training = 1;
    ws->drop_seed = 42;
    double ce = 0, pen = 0;
    int64_t hits = 0;
    ck_assert_msg(xai_batch_grad(m, ws, gs, c, ns, x, y, idx, &ce, &pen, &hits) == XAI_OK, "%s", xai_last_error());
    return pen;
}

/* central difference of the penalty in parameter element (p, k) */
static double fd_at(xai_model *m, xai_workspace *ws, xai_guide_state *gs, xai_train_config *c, int64_t ns,
                    const float *x, const int *y, tparam *ps, int np, int p, int64_t k, float h)
{
    float keep = ps[p].data[k];
    ps[p].data[k] = keep + h;
    xai_model_params_changed(m);
    double lp = run_batch(m, ws, gs, c, ns, x, y, ps, np);
    ps[p].data[k] = keep - h;
    xai_model_params_changed(m);
    double lm = run_batch(m, ws, gs, c, ns, x, y, ps, np);
    ps[p].data[k] = keep;
    xai_model_params_changed(m);
    return (lp - lm) / (2.0 * (double)h);
}

/* The penalty's gradient (gradient with lambda minus gradient without) against central
   differences of the penalty, for every parameter tensor. */
/* RR-ClArC with a fixed unit direction cav[] at the layer */
static void rrclarc_config(const xai_model *m, const char *layer, float *cav, xai_train_config *c)
{
    int64_t d;
    ck_assert_int_eq(xai_layer_activations(m, layer, 0, NULL, NULL, &d), XAI_OK);
    ck_assert_int_le(d, 512);
    double nv = 0;
    for (int64_t k = 0; k < d; k++) {
        cav[k] = (float)cos(0.7 * (double)k + 0.3);
        nv += (double)cav[k] * cav[k];
    }
    for (int64_t k = 0; k < d; k++)
        cav[k] /= (float)sqrt(nv);
    c->guide = XAI_GUIDE_RRCLARC;
    c->guide_layer = layer;
    c->guide_cav = cav;
    c->guide_cav_n = d;
}

static void fd_penalty_layer(const char *spec, int ndim, const int64_t *shape, float lambda, const char *layer)
{
    xai_model *m;
    ck_assert_msg(xai_model_from_spec(spec, ndim, shape, 3, &m) == XAI_OK, "%s: %s", spec, xai_last_error());
    const int64_t ns = 3;
    int64_t nin = xai_model_input_numel(m), nc = xai_model_output_numel(m);
    float *x = malloc(sizeof(float) * (size_t)(ns * nin)), *mask = malloc(sizeof(float) * (size_t)(ns * nin));
    int y[3] = {0, 1, (int)(2 % nc)};
    fill(x, ns * nin, 1);
    for (int64_t k = 0; k < ns * nin; k++)
        mask[k] = (k % nin) < nin / 2 ? 1.0f : (k % 5 == 0 ? 0.5f : 0.0f);
    xai_train_config c;
    xai_train_config_init(&c);
    c.guide = XAI_GUIDE_RRR;
    c.guide_lambda = lambda;
    c.guide_mask = mask;
    c.guide_mask_n = ns;
    float cav[512];
    if (layer)
        rrclarc_config(m, layer, cav, &c);
    xai_workspace *ws;
    xai_guide_state gs;
    ck_assert_int_eq(xai_workspace_new(m, ns, &ws), XAI_OK);
    ck_assert_msg(xai_guide_state_new(m, &c, ns, ns, &gs) == XAI_OK, "%s", xai_last_error());
    tparam ps[32];
    int np = params_of(m, ps, 32);
    xai_guide_state none = {0};
    run_batch(m, ws, &none, &c, ns, x, y, ps, np);
    for (int p = 0; p < np; p++)
        memcpy(ps[p].g0, ps[p].grad, sizeof(float) * (size_t)ps[p].n);
    double pen0 = run_batch(m, ws, &gs, &c, ns, x, y, ps, np);
    ck_assert_msg(pen0 > 1e-3, "%s: penalty %g too small to probe", spec, pen0);
    double worst = 0;
    int kinds[2] = {0, 0}, kinks = 0, probed = 0;
    for (int p = 0; p < np; p++) {
        double gmax = 0;
        for (int64_t k = 0; k < ps[p].n; k++)
            gmax = fmax(gmax, fabs(ps[p].grad[k] - ps[p].g0[k]));
        kinds[ps[p].is_bias] += gmax > 1e-4; /* above float noise of the two runs' summations */
        if (layer && p < 2) /* the first conv lies before the layer: untouched (up to summation order) */
            ck_assert_msg(gmax < 1e-6, "RR-ClArC reached tensor %d before its layer (%g)", p, gmax);
        int64_t step = ps[p].n > 60 ? ps[p].n / 60 : 1;
        for (int64_t k = 0; k < ps[p].n; k += step) {
            double an = (double)ps[p].grad[k] - ps[p].g0[k];
            double fd = fd_at(m, ws, &gs, &c, ns, x, y, ps, np, p, k, 1e-3f);
            double fd2 = fd_at(m, ws, &gs, &c, ns, x, y, ps, np, p, k, 2.5e-4f);
            if (fabs(fd - fd2) > 0.05 * (gmax + 1e-2)) { /* a ReLU or max-pool kink inside the step */
                kinks++;
                continue;
            }
            double err = fabs(fd - an) / (gmax + 1e-2);
            probed++;
            worst = fmax(worst, err);
            ck_assert_msg(err < 1e-2, "%s: tensor %d element %lld: double backprop %.6g, finite difference %.6g",
                          spec, p, (long long)k, an, fd);
        }
    }
    ck_assert_msg(kinks * 10 <= probed, "%s: %d of %d probes straddle a kink", spec, kinks, probed + kinks);
    /* the penalty reaches weights and biases (RRR's biases through the softmax only; RR-ClArC's
       gradient of a logit holds no bias, so it trains weights only) */
    ck_assert_int_gt(kinds[0], 0);
    ck_assert_int_eq(kinds[1] > 0, layer == NULL);
    printf("  %-60s penalty %.4g, worst FD error %.2e (%d tensors, %d probes, %d at kinks)\n", spec, pen0, worst,
           np, probed, kinks);
    for (int p = 0; p < np; p++)
        free(ps[p].g0);
    for (int i = 0; i < m->nnodes; i++)
        for (int k = 0; k < 4; k++) {
            free(m->nodes[i].pgrad[k]);
            m->nodes[i].pgrad[k] = NULL;
        }
    xai_guide_state_free(&gs);
    xai_workspace_free(ws);
    free(x);
    free(mask);
    xai_model_free(m);
}

static void fd_penalty(const char *spec, int ndim, const int64_t *shape, float lambda)
{
    fd_penalty_layer(spec, ndim, shape, lambda, NULL);
}

/* RR-ClArC: only the layers after the CAV's layer carry its gradient */
START_TEST(test_fd_rrclarc)
{
    int64_t sh[2] = {2, 16};
    fd_penalty_layer("conv1d(4,k=3,p=1) relu maxpool(2) conv1d(5,k=3,p=1) relu flatten dense(6) relu dense(3)", 2, sh,
                     30.0f, "maxpool2");
}
END_TEST

START_TEST(test_fd_conv1d)
{
    int64_t sh[2] = {2, 16};
    fd_penalty("conv1d(4,k=3,p=1) relu maxpool(2) conv1d(3,k=3) leakyrelu(0.1) flatten dense(3)", 2, sh, 300.0f);
}
END_TEST
START_TEST(test_fd_conv2d)
{
    int64_t sh[3] = {1, 6, 6};
    fd_penalty("conv2d(3,k=3,p=1) relu avgpool(2) flatten dropout(0.3) dense(5) relu dense(3)", 3, sh, 30.0f);
}
END_TEST
START_TEST(test_fd_dense)
{
    int64_t sh[1] = {10};
    fd_penalty("dense(8) relu dense(6) relu dense(4)", 1, sh, 30.0f);
}
END_TEST

START_TEST(test_refuse_curved)
{
    static const char *const bad[] = {"conv1d(4,k=3) bn relu flatten dense(2)", "conv1d(4,k=3) tanh flatten dense(2)",
                                      "conv1d(4,k=3) elu flatten dense(2)"};
    static const char *const why[] = {"BatchNormalization", "curved", "curved"};
    int64_t sh[2] = {2, 16};
    for (int i = 0; i < 3; i++) {
        xai_model *m;
        ck_assert_int_eq(xai_model_from_spec(bad[i], 2, sh, 1, &m), XAI_OK);
        ck_assert_int_eq(xai_guide_check(m, XAI_GUIDE_RRR), XAI_EUNSUPPORTED);
        ck_assert_msg(strstr(xai_last_error(), why[i]), "%s", xai_last_error());
        float x[64] = {0}, mask[32] = {0};
        int y[2] = {0, 1};
        xai_train_config c;
        xai_train_config_init(&c);
        c.guide = XAI_GUIDE_RRR;
        c.guide_lambda = 1;
        c.guide_mask = mask;
        c.guide_mask_n = 1;
        c.epochs = 1;
        ck_assert_int_eq(xai_train(m, &c, 2, x, y, NULL), XAI_EUNSUPPORTED);
        ck_assert_int_eq(xai_guide_check(m, XAI_GUIDE_NONE), XAI_OK);
        xai_model_free(m);
    }
    /* a mask count that is neither 1 nor n */
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("conv1d(4,k=3) relu flatten dense(2)", 2, sh, 1, &m), XAI_OK);
    float x[96] = {0}, mask[64] = {0};
    int y[3] = {0, 1, 0};
    xai_train_config c;
    xai_train_config_init(&c);
    c.guide = XAI_GUIDE_RRR;
    c.guide_mask = mask;
    c.guide_mask_n = 2;
    ck_assert_int_eq(xai_train(m, &c, 3, x, y, NULL), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "mask"));
    xai_model_free(m);
}
END_TEST

/* Planted shortcut on 1 x 32 signals: a noisy class bump at 4..9 (the right reason) and, when
   `shortcut`, a clean +-2 plateau at 22..27 on 95 % of the samples (the wrong one). */
enum { SC_LEN = 32, SC_LO = 22, SC_HI = 28 };
static void shortcut_set(int64_t n, float *x, int *y, int shortcut, unsigned seed)
{
    uint64_t s = seed * 2654435761u + 7;
    for (int64_t i = 0; i < n; i++) {
        float *xi = x + i * SC_LEN;
        int c = (int)(i % 2);
        y[i] = c;
        double sg = c ? 1.0 : -1.0, gain = 0;
        for (int k = 0; k < SC_LEN; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            double u = (double)(s >> 11) / 9007199254740992.0 - 0.5;
            if (k == 0)
                gain = 0.6 + 0.8 * ((double)(s >> 40) / 16777216.0);
            xi[k] = (float)(1.5 * u);
            if (k >= 4 && k < 10)
                xi[k] += (float)(sg * 0.3 * gain);
        }
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        if (shortcut && (s >> 40) % 100 < 95)
            for (int k = SC_LO; k < SC_HI; k++)
                xi[k] += (float)(2.0 * sg);
    }
}

static double first_pen, last_pen;
static void on_epoch(const xai_train_progress *p, void *ud)
{
    (void)ud;
    if (p->epoch == 1)
        first_pen = p->train_penalty;
    last_pen = p->train_penalty;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Train on the shortcut set with or without RRR; held-out share, accuracies, seconds. */
static void train_one(int guided, const float *mask, double *share, double *acc_sc, double *acc_clean, double *secs,
                      double *share0)
{
    const int64_t n = 240, nt = 200;
    int64_t sh[2] = {1, SC_LEN};
    float *x = malloc(sizeof(float) * n * SC_LEN), *xt = malloc(sizeof(float) * nt * SC_LEN),
          *xc = malloc(sizeof(float) * nt * SC_LEN);
    int *y = malloc(sizeof(int) * n), *yt = malloc(sizeof(int) * nt), *yc = malloc(sizeof(int) * nt);
    shortcut_set(n, x, y, 1, 1);
    shortcut_set(nt, xt, yt, 1, 2);
    shortcut_set(nt, xc, yc, 0, 3);
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("conv1d(4,k=5,p=2) relu maxpool(2) flatten dense(2)", 2, sh, 5, &m), XAI_OK);
    if (share0)
        ck_assert_int_eq(xai_input_gradient_share(m, nt, xt, mask, 1, share0), XAI_OK);
    xai_train_config c;
    xai_train_config_init(&c);
    c.epochs = 25;
    c.batch = 16;
    c.lr = 5e-3f;
    c.val_split = 0;
    c.seed = 9;
    c.progress = on_epoch;
    if (guided) {
        c.guide = XAI_GUIDE_RRR;
        c.guide_lambda = 20.0f;
        c.guide_mask = mask;
        c.guide_mask_n = 1;
    }
    double t0 = now_s();
    xai_train_result r;
    ck_assert_msg(xai_train(m, &c, n, x, y, &r) == XAI_OK, "%s", xai_last_error());
    *secs = now_s() - t0;
    ck_assert_int_eq(xai_input_gradient_share(m, nt, xt, mask, 1, share), XAI_OK);
    double loss;
    ck_assert_int_eq(xai_evaluate_loss(m, nt, xt, yt, NULL, &loss, acc_sc), XAI_OK);
    ck_assert_int_eq(xai_evaluate_loss(m, nt, xc, yc, NULL, &loss, acc_clean), XAI_OK);
    xai_model_free(m);
    free(x), free(xt), free(xc), free(y), free(yt), free(yc);
}

START_TEST(test_rrr_removes_shortcut)
{
    float mask[SC_LEN] = {0};
    for (int k = SC_LO; k < SC_HI; k++)
        mask[k] = 1.0f;
    double sh_p, sh_g, sh0, as_p, as_g, ac_p, ac_g, t_p, t_g;
    train_one(0, mask, &sh_p, &as_p, &ac_p, &t_p, &sh0);
    train_one(1, mask, &sh_g, &as_g, &ac_g, &t_g, NULL);
    printf("  held-out input-gradient share of the shortcut: untrained %.3f, plain %.3f, RRR %.3f\n", sh0, sh_p, sh_g);
    printf("  accuracy with shortcut / without: plain %.3f / %.3f, RRR %.3f / %.3f\n", as_p, ac_p, as_g, ac_g);
    printf("  RRR penalty per sample: epoch 1 %.4g, last epoch %.4g; training time plain %.3f s, RRR %.3f s (%.2fx)\n",
           first_pen, last_pen, t_p, t_g, t_g / t_p);
    ck_assert_msg(last_pen < 0.5 * first_pen, "penalty %g -> %g", first_pen, last_pen);
    ck_assert_msg(sh_g < 0.5 * sh_p && sh_g < sh0, "share plain %g, RRR %g, untrained %g", sh_p, sh_g, sh0);
    ck_assert_msg(ac_g >= 0.8 && ac_g > ac_p, "clean accuracy plain %g, RRR %g", ac_p, ac_g);
}
END_TEST

/* LRP guidance: w = 1 + R/max|R| per sample, R what xai_explain leaves at the layer for the label */
START_TEST(test_lrp_weights)
{
    int64_t sh[2] = {2, 16};
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("conv1d(4,k=3,p=1) relu maxpool(2) flatten dense(5) relu dense(3)", 2, sh,
                                         3, &m), XAI_OK);
    enum { NS = 4 };
    float x[NS * 32], r[NS * 32];
    int y[NS] = {0, 2, 1, 2};
    fill(x, NS * 32, 5);
    xai_train_config c;
    xai_train_config_init(&c);
    c.guide = XAI_GUIDE_LRP;
    c.guide_lambda = 1;
    c.guide_layer = "flatten3";
    xai_guide_state gs;
    ck_assert_msg(xai_guide_state_new(m, &c, NS, NS, &gs) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(xai_lrp_guide_weights(m, &gs, NS, x, y), XAI_OK);
    xai_explain_config e;
    xai_explain_config_init(&e);
    e.targets = y;
    int64_t d;
    ck_assert_msg(xai_explain_value(m, &e, NS, x, "flatten3.out", r, &d) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(d, 32);
    double worst = 0;
    for (int s = 0; s < NS; s++) {
        float mx = 0;
        for (int k = 0; k < 32; k++)
            mx = fmaxf(mx, fabsf(r[s * 32 + k]));
        ck_assert(mx > 0);
        for (int k = 0; k < 32; k++)
            worst = fmax(worst, fabs(gs.wv[s * 32 + k] - (1.0 + r[s * 32 + k] / mx)));
    }
    ck_assert_msg(worst < 1e-5, "weights differ from 1 + R/max|R| by %g", worst);
    xai_guide_state_free(&gs);
    c.guide_layer = "nosuch";
    ck_assert_int_eq(xai_guide_state_new(m, &c, NS, NS, &gs), XAI_EINVAL);
    xai_model_free(m);
}
END_TEST

/* the weighted pass's parameter gradient against central differences, weights held fixed */
START_TEST(test_lrp_pass_fd)
{
    int64_t sh[2] = {2, 16};
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("conv1d(4,k=3,p=1) relu maxpool(2) conv1d(3,k=3) relu flatten dense(3)", 2,
                                         sh, 4, &m), XAI_OK);
    enum { NS = 3 };
    float x[NS * 32];
    int y[NS] = {0, 1, 2};
    fill(x, NS * 32, 7);
    xai_train_config c;
    xai_train_config_init(&c);
    c.guide = XAI_GUIDE_LRP;
    c.guide_lambda = 2.0f;
    c.guide_layer = "relu4";
    xai_guide_state gs;
    xai_workspace *ws;
    ck_assert_int_eq(xai_workspace_new(m, NS, &ws), XAI_OK);
    ws->training = 1;
    ws->drop_seed = 42;
    ck_assert_int_eq(xai_guide_state_new(m, &c, NS, NS, &gs), XAI_OK);
    ck_assert_int_eq(xai_lrp_guide_weights(m, &gs, NS, x, y), XAI_OK);
    tparam ps[16];
    int np = params_of(m, ps, 16);
    double ce, worst = 0;
    ck_assert_int_eq(xai_lrp_guide_pass(m, ws, &gs, &c, NS, x, y, &ce), XAI_OK);
    for (int p = 0; p < np; p++) /* the probes below accumulate into grad: keep the analytic one */
        memcpy(ps[p].g0, ps[p].grad, sizeof(float) * (size_t)ps[p].n);
    for (int p = 0; p < np; p++) {
        double gmax = 0;
        for (int64_t k = 0; k < ps[p].n; k++)
            gmax = fmax(gmax, fabs(ps[p].g0[k]));
        for (int64_t k = 0; k < ps[p].n; k += ps[p].n > 40 ? ps[p].n / 40 : 1) {
            double an = ps[p].g0[k], lp, lm;
            float keep = ps[p].data[k];
            ps[p].data[k] = keep + 1e-3f;
            xai_model_params_changed(m);
            ck_assert_int_eq(xai_lrp_guide_pass(m, ws, &gs, &c, NS, x, y, &lp), XAI_OK);
            ps[p].data[k] = keep - 1e-3f;
            xai_model_params_changed(m);
            ck_assert_int_eq(xai_lrp_guide_pass(m, ws, &gs, &c, NS, x, y, &lm), XAI_OK);
            ps[p].data[k] = keep;
            double fd = c.guide_lambda * (lp - lm) / 2e-3, err = fabs(fd - an) / (gmax + 1e-2);
            worst = fmax(worst, err);
            ck_assert_msg(err < 1e-2, "tensor %d element %lld: backward %.6g, finite difference %.6g", p,
                          (long long)k, an, fd);
        }
    }
    printf("  LRP-guided pass: cross-entropy %.4f, worst FD error %.2e over %d tensors\n", ce, worst, np);
    for (int p = 0; p < np; p++)
        free(ps[p].g0);
    for (int i = 0; i < m->nnodes; i++)
        for (int k = 0; k < 4; k++) {
            free(m->nodes[i].pgrad[k]);
            m->nodes[i].pgrad[k] = NULL;
        }
    xai_guide_state_free(&gs);
    xai_workspace_free(ws);
    xai_model_free(m);
}
END_TEST

/* LRP-guided training runs end to end and learns the planted problem */
START_TEST(test_lrp_trains)
{
    const int64_t n = 120;
    int64_t sh[2] = {1, SC_LEN};
    float *x = malloc(sizeof(float) * n * SC_LEN);
    int *y = malloc(sizeof(int) * n);
    shortcut_set(n, x, y, 0, 11);
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("conv1d(4,k=5,p=2) relu maxpool(2) flatten dense(2)", 2, sh, 5, &m), XAI_OK);
    xai_train_config c;
    xai_train_config_init(&c);
    c.epochs = 15;
    c.batch = 16;
    c.lr = 5e-3f;
    c.val_split = 0;
    c.guide = XAI_GUIDE_LRP;
    c.guide_lambda = 1.0f;
    c.progress = on_epoch;
    xai_train_result r;
    ck_assert_msg(xai_train(m, &c, n, x, y, &r) == XAI_OK, "%s", xai_last_error());
    printf("  LRP-guided training: weighted-pass loss %.4f -> %.4f, kept training accuracy %.3f\n", first_pen,
           last_pen, r.kept_train_acc);
    ck_assert(last_pen < first_pen);
    ck_assert(r.kept_train_acc > 0.8);
    xai_model_free(m);
    free(x), free(y);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("guide");
    TCase *tc = tcase_create("rrr");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_fd_conv1d);
    tcase_add_test(tc, test_fd_conv2d);
    tcase_add_test(tc, test_fd_dense);
    tcase_add_test(tc, test_refuse_curved);
    tcase_add_test(tc, test_fd_rrclarc);
    tcase_add_test(tc, test_rrr_removes_shortcut);
    tcase_add_test(tc, test_lrp_weights);
    tcase_add_test(tc, test_lrp_pass_fd);
    tcase_add_test(tc, test_lrp_trains);
    suite_add_tcase(s, tc);
    return s;
}
