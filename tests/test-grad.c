/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-grad.c - gradients and conservation:
 *  - finite-difference checks of every op's backward pass (one fixture per op family:
 *    Conv 1-D/2-D/3-D with stride, dilation, groups, auto_pad; pools; BN; residual Add;
 *    Sub/Mul/Div broadcasting; data movement; MatMul+Add; Gemm alpha/beta);
 *  - gradient x input, SmoothGrad (noise-free limit) and Integrated Gradients identities;
 *  - LRP conservation: a bias-free net conserves as eps -> 0; with biases each layer's
 *    residual equals the share its biases absorb; bias factor 1 conserves exactly.
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
        x[k] = (float)sin(1.7 * (double)(k + 1) * (seed + 1) + 0.3 * seed) * 1.3f;
}

static void fd_check(const char *file)
{
    xai_model *m = load(file);
    int64_t nin = xai_model_input_numel(m), nc = xai_model_output_numel(m);
    float *x = malloc(sizeof(float) * (size_t)nin), *g = malloc(sizeof(float) * (size_t)nin);
    float *lp = malloc(sizeof(float) * (size_t)nc), *lm = malloc(sizeof(float) * (size_t)nc);
    xai_workspace *ws;
    ck_assert_int_eq(xai_workspace_new(m, 1, &ws), XAI_OK);
    fill(x, nin, 3);
    double worst = 0;
    for (int c = 0; c < nc; c++) {
        xai_explain_config cfg;
        xai_explain_config_init(&cfg);
        cfg.method = XAI_METHOD_GRADIENT;
        cfg.target = c;
        ck_assert_int_eq(xai_explain(m, &cfg, 1, x, g, NULL), XAI_OK);
        const float h = 1e-3f;
        for (int64_t i = 0; i < nin; i++) {
            float keep = x[i];
            x[i] = keep + h;
            xai_model_forward(m, ws, 1, x, lp);
            x[i] = keep - h;
            xai_model_forward(m, ws, 1, x, lm);
            x[i] = keep;
            double fd = ((double)lp[c] - (double)lm[c]) / (2.0 * h);
            double err = fabs(fd - g[i]) / (1.0 + fabs(fd));
            if (err > worst)
                worst = err;
            ck_assert_msg(err < 5e-3, "%s: d logit %d / d x[%lld]: backward %.6g, finite difference %.6g", file, c,
                          (long long)i, g[i], fd);
        }
    }
    printf("  %-28s finite-difference worst error %.2e over %lld inputs x %lld classes\n", file, worst,
           (long long)nin, (long long)nc);
    xai_workspace_free(ws);
    free(x);
    free(g);
    free(lp);
    free(lm);
    xai_model_free(m);
}

START_TEST(test_fd_conv1d) { fd_check("ops/conv1d.onnx"); }
END_TEST
START_TEST(test_fd_conv2d) { fd_check("ops/conv2d.onnx"); }
END_TEST
START_TEST(test_fd_conv3d_avgpool) { fd_check("ops/conv3d_avgpool.onnx"); }
END_TEST
START_TEST(test_fd_pool2d) { fd_check("ops/pool2d.onnx"); }
END_TEST
START_TEST(test_fd_bn_residual_arith) { fd_check("ops/bn_residual_arith.onnx"); }
END_TEST
START_TEST(test_fd_movement) { fd_check("ops/movement.onnx"); }
END_TEST
START_TEST(test_fd_dense) { fd_check("ops/dense_softmax.onnx"); }
END_TEST
START_TEST(test_fd_conserve_cnn) { fd_check("conserve/cnn_bias1.onnx"); }
END_TEST

static float *conserve_input(void)
{
    size_t len;
    float *x = xai_test_read_file(xai_test_path(xai_test_data_dir(), "onnx/conserve/input.f32"), &len);
    ck_assert_ptr_nonnull(x);
    ck_assert_uint_eq(len, 128 * sizeof(float));
    return x;
}

START_TEST(test_conservation_bias_free)
{
    static const char *const comps[] = {"epsilon", "epsilon-plus", "epsilon-plus-flat", "epsilon-alpha2-beta1"};
    xai_model *m = load("conserve/cnn_bias0.onnx");
    float *x = conserve_input(), r[128];
    for (size_t i = 0; i < sizeof comps / sizeof comps[0]; i++) {
        xai_explain_config c;
        xai_explain_config_init(&c);
        c.composite = comps[i];
        c.epsilon = 1e-9f;
        xai_explain_result res;
        ck_assert_int_eq(xai_explain(m, &c, 1, x, r, &res), XAI_OK);
        double s = 0;
        for (int k = 0; k < 128; k++)
            s += r[k];
        ck_assert_msg(fabs(s - 1.0) < 1e-4, "%s: bias-free relevance sum %.8f != 1", comps[i], s);
        for (int l = 0; l < res.nlayers; l++)
            ck_assert_msg(fabs(res.layer_out_sum[l] - res.layer_in_sum[l]) < 1e-4, "%s: layer %s residual %.3g",
                          comps[i], res.layer_name[l], res.layer_out_sum[l] - res.layer_in_sum[l]);
        xai_explain_result_free(&res);
    }
    free(x);
    xai_model_free(m);
}
END_TEST

START_TEST(test_conservation_bias_absorbed)
{
    /* Epsilon rule: each linear layer loses exactly sum_j R_j b_j / stab(z_j) */
    xai_model *m = load("conserve/cnn_bias1.onnx");
    float *x = conserve_input(), r[128];
    xai_explain_config c;
    xai_explain_config_init(&c);
    c.composite = "epsilon";
    c.epsilon = 1e-6f;
    xai_explain_result res;
    ck_assert_int_eq(xai_explain(m, &c, 1, x, r, &res), XAI_OK);
    xai_workspace *ws;
    ck_assert_int_eq(xai_workspace_new(m, 1, &ws), XAI_OK);
    ck_assert_int_eq(xai_model_forward(m, ws, 1, x, NULL), XAI_OK);
    int checked = 0;
    double total_absorbed = 0;
    for (int i = 0; i < m->nnodes; i++) {
        const xai_node *n = &m->nodes[i];
        if (!n->is_linear)
            continue;
        const xai_linear *L = xai_node_linear(n);
        int64_t no = L->out_numel;
        float *R = malloc(sizeof(float) * (size_t)no);
        int64_t per;
        ck_assert_int_eq(xai_explain_value(m, &c, 1, x, m->vals[n->out[0]].name, R, &per), XAI_OK);
        ck_assert_int_eq(per, no);
        double absorbed = 0;
        const float *z = ws->val[n->out[0]];
        for (int64_t k = 0; k < no; k++) {
            float b = L->b[(k / L->ch_inner) % L->nout_ch];
            float zs = z[k] >= 0 ? z[k] + c.epsilon : z[k] - c.epsilon;
            absorbed += (double)R[k] * (b + (z[k] >= 0 ? c.epsilon : -c.epsilon)) / zs;
        }
        double resid = res.layer_out_sum[i] - res.layer_in_sum[i];
        ck_assert_msg(fabs(resid - absorbed) < 1e-4 * (1 + fabs(absorbed)),
                      "layer %s: residual %.6g, bias share %.6g", n->name, resid, absorbed);
        ck_assert_msg(fabs(absorbed) > 1e-3, "layer %s: bias share %.3g too small to test", n->name, absorbed);
        total_absorbed += absorbed;
        checked++;
        free(R);
    }
    ck_assert_int_eq(checked, 4);
    /* and the input relevance is what the layers did not absorb */
    ck_assert_msg(fabs(res.rel_sum[0] - (1.0 - total_absorbed)) < 1e-3, "sum %.6g vs 1 - %.6g", res.rel_sum[0],
                  total_absorbed);
    xai_workspace_free(ws);
    xai_explain_result_free(&res);
    free(x);
    xai_model_free(m);
}
END_TEST

START_TEST(test_conservation_bias_factor)
{
    /* Arras et al.: with bias factor 1 the epsilon rule conserves exactly, biases and all.
       (Models without pooling: the Norm rule of a pool drops what reaches all-zero windows.) */
    static const char *const files[] = {"ops/conv1d.onnx", "ops/dense_softmax.onnx", "ops/conv2d.onnx"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        xai_model *m = load(files[f]);
        int64_t nin = xai_model_input_numel(m);
        float *x = malloc(sizeof(float) * (size_t)nin), *r = malloc(sizeof(float) * (size_t)nin);
        fill(x, nin, 5);
        xai_explain_config c;
        xai_explain_config_init(&c);
        c.composite = "epsilon";
        c.epsilon = 1e-3f;
        c.bias_factor = 1.0f;
        c.init = XAI_INIT_LOGIT;
        xai_explain_result res;
        ck_assert_int_eq(xai_explain(m, &c, 1, x, r, &res), XAI_OK);
        double logit = res.logits[res.target[0]];
        ck_assert_msg(fabs(res.rel_sum[0] - logit) < 1e-5 * fabs(logit), "%s: sum %.8g vs logit %.8g", files[f],
                      res.rel_sum[0], logit);
        /* and without the bias factor it does not */
        c.bias_factor = 0.0f;
        xai_explain_result res0;
        ck_assert_int_eq(xai_explain(m, &c, 1, x, r, &res0), XAI_OK);
        ck_assert_msg(fabs(res0.rel_sum[0] - logit) > 1e-4 * fabs(logit), "%s: conserves without bias factor", files[f]);
        xai_explain_result_free(&res);
        xai_explain_result_free(&res0);
        free(x);
        free(r);
        xai_model_free(m);
    }
}
END_TEST

/* The contrastive starts by hand: every LRP rule is linear in the relevance it receives, so a
   start that puts r_o on each logit gives sum_o (r_o / z_o) L_o, L_o the map of the logit start
   at class o. Log-odds: r_k = p_k eta on each difference z_t - z_k (p = softmax over the
   others, eta = z_t - logsumexp of the others), i.e. s_k (L_t - L_k) with s_k = r_k / d_k;
   contrast: L_t - mean of the others' L_k. With bias factor 1 the map sums to eta (log-odds)
   or to z_t - mean (contrast). */
static void contrast_by_hand(xai_model *m, const float *x, int t, int logodds, float eps, float *want, double *eta,
                             double *start, double *bound)
{
    int64_t nin = xai_model_input_numel(m), nc = xai_model_output_numel(m);
    float *L = malloc(sizeof(float) * (size_t)(nin * nc));
    float z[8];
    ck_assert_int_le(nc, 8);
    for (int o = 0; o < nc; o++) {
        xai_explain_config c;
        xai_explain_config_init(&c);
        c.composite = "epsilon";
        c.epsilon = eps;
        c.bias_factor = 1.0f;
        c.init = XAI_INIT_LOGIT;
        c.target = o;
        xai_explain_result r;
        ck_assert_int_eq(xai_explain(m, &c, 1, x, L + o * nin, &r), XAI_OK);
        z[o] = r.logits[o];
        xai_explain_result_free(&r);
    }
    double mx = -HUGE_VAL, se = 0, mean = 0;
    for (int k = 0; k < nc; k++)
        if (k != t) {
            mx = fmax(mx, z[k]);
            mean += z[k] / (double)(nc - 1);
        }
    for (int k = 0; k < nc; k++)
        se += k != t ? exp(z[k] - mx) : 0;
    *eta = logodds ? z[t] - mx - log(se) : z[t] - mean;
    for (int64_t i = 0; i < nin; i++)
        want[i] = 0;
    *start = *bound = 0;
    for (int k = 0; k < nc; k++) {
        if (k == t)
            continue;
        double d = (double)z[t] - z[k];
        double s = logodds ? exp(z[k] - mx) / se * *eta / (d + (d >= 0 ? eps : -eps)) : 1.0 / (double)(nc - 1);
        *start += s * d;
        *bound += fabs(s) * eps; /* what the stabiliser takes from each difference's share */
        for (int64_t i = 0; i < nin; i++)
            want[i] += (float)(s * ((double)L[t * nin + i] - L[k * nin + i]));
    }
    free(L);
}

START_TEST(test_contrastive_starts)
{
    static const char *const files[] = {"ops/conv1d.onnx", "ops/conv2d.onnx"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        xai_model *m = load(files[f]);
        int64_t nin = xai_model_input_numel(m), nc = xai_model_output_numel(m);
        float *x = malloc(sizeof(float) * (size_t)nin), *r = malloc(sizeof(float) * (size_t)nin);
        float *want = malloc(sizeof(float) * (size_t)nin);
        fill(x, nin, 7);
        for (int logodds = 0; logodds < 2; logodds++)
            for (int t = 0; t < nc; t++) {
                double eta, start, bound, worst = 0, scale = 0;
                contrast_by_hand(m, x, t, logodds, 1e-3f, want, &eta, &start, &bound);
                xai_explain_config c;
                xai_explain_config_init(&c);
                c.composite = "epsilon";
                c.epsilon = 1e-3f;
                c.bias_factor = 1.0f;
                c.init = logodds ? XAI_INIT_LOGODDS : XAI_INIT_CONTRAST;
                c.target = t;
                xai_explain_result res;
                ck_assert_int_eq(xai_explain(m, &c, 1, x, r, &res), XAI_OK);
                for (int64_t i = 0; i < nin; i++) {
                    worst = fmax(worst, fabs((double)r[i] - want[i]));
                    scale = fmax(scale, fabs((double)want[i]));
                }
                ck_assert_msg(worst <= 1e-5 * (1 + scale), "%s class %d (%s): map off by %g", files[f], t,
                              logodds ? "logodds" : "contrast", worst);
                ck_assert_msg(fabs(res.init_sum[0] - start) < 1e-5 * (1 + fabs(start)) &&
                                  fabs(start - eta) <= bound + 1e-6 * (1 + fabs(eta)) &&
                                  fabs(res.rel_sum[0] - start) < 1e-3 * (1 + fabs(start)),
                              "%s class %d (%s): start %.8g (by hand %.8g), sum %.8g, log-odds or contrast %.8g",
                              files[f], t, logodds ? "logodds" : "contrast", res.init_sum[0], start, res.rel_sum[0],
                              eta);
                xai_explain_result_free(&res);
            }
        free(x);
        free(r);
        free(want);
        xai_model_free(m);
    }
}
END_TEST

START_TEST(test_baseline_identities)
{
    xai_model *m = load("ops/dense_softmax.onnx");
    int64_t nin = xai_model_input_numel(m);
    float x[5] = {0.3f, -1.2f, 0.8f, 2.0f, -0.1f}, g[5], gx[5], sg[5], ig[5];
    xai_explain_config c;
    xai_explain_config_init(&c);
    c.method = XAI_METHOD_GRADIENT;
    ck_assert_int_eq(xai_explain(m, &c, 1, x, g, NULL), XAI_OK);
    c.method = XAI_METHOD_GRADIENT_X_INPUT;
    ck_assert_int_eq(xai_explain(m, &c, 1, x, gx, NULL), XAI_OK);
    for (int k = 0; k < nin; k++)
        ck_assert_float_eq_tol(gx[k], g[k] * x[k], 1e-6);
    /* SmoothGrad with one sample is the noise-free gradient */
    c.method = XAI_METHOD_SMOOTHGRAD;
    c.smooth_n = 1;
    ck_assert_int_eq(xai_explain(m, &c, 1, x, sg, NULL), XAI_OK);
    for (int k = 0; k < nin; k++)
        ck_assert_float_eq_tol(sg[k], g[k], 1e-6);
    /* SmoothGrad with noise is seeded: same seed, same map */
    c.smooth_n = 20;
    float sg2[5];
    ck_assert_int_eq(xai_explain(m, &c, 1, x, sg, NULL), XAI_OK);
    ck_assert_int_eq(xai_explain(m, &c, 1, x, sg2, NULL), XAI_OK);
    ck_assert_mem_eq(sg, sg2, sizeof sg);
    /* Integrated Gradients completeness: sum ~ f(x) - f(0) (to the Riemann error) */
    c.method = XAI_METHOD_INTEGRATED_GRADIENTS;
    c.ig_steps = 400;
    xai_explain_result res;
    ck_assert_int_eq(xai_explain(m, &c, 1, x, ig, &res), XAI_OK);
    float zero[5] = {0}, l0[3];
    xai_workspace *ws;
    ck_assert_int_eq(xai_workspace_new(m, 1, &ws), XAI_OK);
    ck_assert_int_eq(xai_model_forward(m, ws, 1, zero, l0), XAI_OK);
    double s = 0, want = res.logits[res.target[0]] - l0[res.target[0]];
    for (int k = 0; k < nin; k++)
        s += ig[k];
    ck_assert_msg(fabs(s - want) < 0.01 * (fabs(want) + 0.1), "IG sum %.5f vs f(x)-f(0) %.5f", s, want);
    xai_workspace_free(ws);
    xai_explain_result_free(&res);
    xai_model_free(m);
}
END_TEST

/* Stride-1 convolutions with few channels run on the direct kernels (ops/conv.c): the first
 * layer's forward
 * and transposed products, and the transposed product of the all-ones weights (Flat), against a
 * naive sum in double (within the float summation error bound), on shapes that exercise the kernels' edges (channel counts not a multiple
 * of the 4-channel block, rows not a multiple of 8 or 16, dilation, per-axis pads, 1-D to 3-D). */
typedef struct {
    const char *spec;
    int ndim;
    int64_t in[4];           /* C, spatial */
    int64_t k[3], p[3], d[3];
} dconv_case;

/* naive y[o][q] = sum_c sum_t w[o][c][t] x[c][q + t*d - p] (transposed: dx = W^T s) */
static void naive_conv(const dconv_case *c, int64_t co, const float *w, const float *x, const float *s, double *y,
                       double *dx, double *yabs, double *dxabs)
{
    int nsp = c->ndim - 1;
    int64_t ci = c->in[0], Is[3] = {1, 1, 1}, Ks[3] = {1, 1, 1}, Ps[3] = {0, 0, 0}, Ds[3] = {1, 1, 1}, Os[3];
    for (int i = 0; i < nsp; i++) {
        Is[3 - nsp + i] = c->in[1 + i];
        Ks[3 - nsp + i] = c->k[i];
        Ps[3 - nsp + i] = c->p[i];
        Ds[3 - nsp + i] = c->d[i];
    }
    int64_t isp = Is[0] * Is[1] * Is[2], ksz = Ks[0] * Ks[1] * Ks[2], osp = 1;
    for (int i = 0; i < 3; i++)
        osp *= (Os[i] = Is[i] + 2 * Ps[i] - (Ks[i] - 1) * Ds[i]);
    memset(y, 0, sizeof(double) * (size_t)(co * osp));
    memset(dx, 0, sizeof(double) * (size_t)(ci * isp));
    memset(yabs, 0, sizeof(double) * (size_t)(co * osp));
    memset(dxabs, 0, sizeof(double) * (size_t)(ci * isp));
    for (int64_t o = 0; o < co; o++)
        for (int64_t q = 0; q < osp; q++)
            for (int64_t cc = 0; cc < ci; cc++)
                for (int64_t t = 0; t < ksz; t++) {
                    int64_t qa[3] = {q / (Os[1] * Os[2]), q / Os[2] % Os[1], q % Os[2]};
                    int64_t ta[3] = {t / (Ks[1] * Ks[2]), t / Ks[2] % Ks[1], t % Ks[2]}, ia[3];
                    int in = 1;
                    for (int a = 0; a < 3; a++) {
                        ia[a] = qa[a] + ta[a] * Ds[a] - Ps[a];
                        in &= ia[a] >= 0 && ia[a] < Is[a];
                    }
                    if (!in)
                        continue;
                    int64_t xi = cc * isp + (ia[0] * Is[1] + ia[1]) * Is[2] + ia[2];
                    double wv = w[(o * ci + cc) * ksz + t];
                    y[o * osp + q] += wv * x[xi];
                    dx[xi] += wv * s[o * osp + q];
                    yabs[o * osp + q] += fabs(wv * x[xi]);
                    dxabs[xi] += fabs(wv * s[o * osp + q]);
                }
}

/* worst |a - b| in units of the float summation bound nterms * 2^-24 * sum |terms| (recursive
   summation; the kernels add each output's terms one after the other) */
static double sum_err(const float *a, const double *b, const double *babs, int64_t n, int64_t nterms)
{
    double worst = 0;
    for (int64_t k = 0; k < n; k++)
        worst = fmax(worst, fabs(a[k] - b[k]) / ((double)nterms * 0x1p-24 * babs[k] + 1e-30));
    return worst;
}

/* r0 + (a x+) d1 + (a x-) d2, elementwise in the order the two passes of linear.c took */
static void two_pass(const float *r0, float a, const float *x, const float *d1, const float *d2, float *r, int64_t n)
{
    for (int64_t k = 0; k < n; k++) {
        float xp = x[k] > 0 ? x[k] : 0.0f, xn = x[k] < 0 ? x[k] : 0.0f;
        r[k] = r0[k] + a * xp * d1[k];
        r[k] += a * xn * (d2 ? d2[k] : 0.0f);
    }
}

/* A fresh relevance buffer (one the sweep did not zero, its first writer storing into it) ends as a
   zeroed one would: r starts as NaN, every element must be written with the zeros' bits. */
static void check_fresh(const dconv_case *c, const xai_node *n, const xai_linear *L, const float *w, const float *w2,
                        const float *x, const float *sv, float a, const float *d1, const float *d2, float *r,
                        float *want, int64_t nin, float *inner)
{
    for (int64_t k = 0; k < nin; k++)
        r[k] = 0.0f;
    if (w2)
        two_pass(r, a, x, d1, d2, want, nin);
    else
        for (int64_t k = 0; k < nin; k++)
            want[k] = r[k] + a * x[k] * d1[k];
    for (int64_t k = 0; k < nin; k++)
        r[k] = NAN;
    L->vjp_rel(n, w, w2, sv, x, a, r, 1, inner, 1);
    ck_assert_msg(memcmp(r, want, sizeof(float) * (size_t)nin) == 0, "%s: fresh %s relevance differs from zeroed",
                  c->spec, w2 ? "z+" : "(a x) W^T s");
}

/* The fused forms of the direct kernels (the z+ / alpha-beta sweeps on inputs of both signs):
   z = W+ x+ + W- x- against the naive sums, and the fused relevance products bitwise equal to the
   separate transposed products followed by the elementwise passes they replace. */
static void check_fused(const dconv_case *c, const xai_node *n, const xai_linear *L, const float *x, const float *sv,
                        float *inner)
{
    ck_assert_msg(L->fwd_pm && L->vjp_rel, "%s: no fused direct kernels", c->spec);
    int64_t nin = L->in_numel, nout = L->out_numel, co = L->nout_ch, ksz = L->wlen / (co * c->in[0]);
    float *wp = malloc(sizeof(float) * (size_t)L->wlen), *wn = malloc(sizeof(float) * (size_t)L->wlen);
    float *xp = malloc(sizeof(float) * (size_t)nin), *xn = malloc(sizeof(float) * (size_t)nin);
    float *z = malloc(sizeof(float) * (size_t)nout), *r0 = malloc(sizeof(float) * (size_t)nin);
    float *r = malloc(sizeof(float) * (size_t)nin), *want = malloc(sizeof(float) * (size_t)nin);
    float *d1 = malloc(sizeof(float) * (size_t)nin), *d2 = malloc(sizeof(float) * (size_t)nin);
    double *zr = malloc(sizeof(double) * (size_t)nout), *za = malloc(sizeof(double) * (size_t)nout);
    double *z2 = malloc(sizeof(double) * (size_t)nout), *z2a = malloc(sizeof(double) * (size_t)nout);
    double *dxr = malloc(sizeof(double) * (size_t)nin), *dxa = malloc(sizeof(double) * (size_t)nin);
    ck_assert(wp && wn && xp && xn && z && r0 && r && want && d1 && d2 && zr && za && z2 && z2a && dxr && dxa);
    for (int64_t k = 0; k < L->wlen; k++) {
        wp[k] = L->w[k] > 0 ? L->w[k] : 0.0f;
        wn[k] = L->w[k] < 0 ? L->w[k] : 0.0f;
    }
    int neg = 0;
    for (int64_t k = 0; k < nin; k++) {
        xp[k] = x[k] > 0 ? x[k] : 0.0f;
        xn[k] = x[k] < 0 ? x[k] : 0.0f;
        neg |= x[k] < 0;
    }
    ck_assert_msg(neg, "%s: the input needs negative entries", c->spec);
    fill(r0, nin, 5);
    L->fwd_pm(n, wp, wn, NULL, x, z, 1, inner);
    naive_conv(c, co, wp, xp, sv, zr, dxr, za, dxa);
    naive_conv(c, co, wn, xn, sv, z2, dxr, z2a, dxa);
    for (int64_t k = 0; k < nout; k++) {
        zr[k] += z2[k];
        za[k] += z2a[k];
    }
    double e = sum_err(z, zr, za, nout, 2 * c->in[0] * ksz);
    ck_assert_msg(e <= 1.0, "%s: W+ x+ + W- x- beyond the rounding bound (%.2f)", c->spec, e);
    /* one weight set: r += (a x) (W^T s); two: r += (a x+) (W+^T s) + (a x-) (W-^T s) */
    const float a = -0.75f;
    L->vjp(n, L->w, sv, d1, 1, inner);
    for (int64_t k = 0; k < nin; k++)
        want[k] = r0[k] + a * x[k] * d1[k];
    memcpy(r, r0, sizeof(float) * (size_t)nin);
    L->vjp_rel(n, L->w, NULL, sv, x, a, r, 1, inner, 0);
    ck_assert_msg(memcmp(r, want, sizeof(float) * (size_t)nin) == 0, "%s: fused (a x) W^T s differs", c->spec);
    check_fresh(c, n, L, L->w, NULL, x, sv, a, d1, NULL, r, want, nin, inner);
    L->vjp(n, wp, sv, d1, 1, inner);
    L->vjp(n, wn, sv, d2, 1, inner);
    two_pass(r0, a, x, d1, d2, want, nin);
    memcpy(r, r0, sizeof(float) * (size_t)nin);
    L->vjp_rel(n, wp, wn, sv, x, a, r, 1, inner, 0);
    ck_assert_msg(memcmp(r, want, sizeof(float) * (size_t)nin) == 0, "%s: fused z+ relevance differs", c->spec);
    check_fresh(c, n, L, wp, wn, x, sv, a, d1, d2, r, want, nin, inner);
    printf("  %-40s fused W+ x+ + W- x-: %.3f of the bound; fused relevance products bitwise equal\n", c->spec, e);
    free(wp);
    free(wn);
    free(xp);
    free(xn);
    free(z);
    free(r0);
    free(r);
    free(want);
    free(d1);
    free(d2);
    free(zr);
    free(za);
    free(z2);
    free(z2a);
    free(dxr);
    free(dxa);
}

START_TEST(test_conv_direct_naive)
{
    static const dconv_case cases[] = {
        {"conv1d(6,k=5,p=2) flatten dense(2)", 2, {3, 37}, {5}, {2}, {1}},
        {"conv1d(3,k=4,p=3,d=2) flatten dense(2)", 2, {5, 20}, {4}, {3}, {2}},
        {"conv2d(5,k=3x5,p=1x2,d=2x1) flatten dense(2)", 3, {3, 9, 21}, {3, 5}, {1, 2}, {2, 1}},
        {"conv2d(4,k=3,p=0) flatten dense(2)", 3, {4, 7, 30}, {3, 3}, {0, 0}, {1, 1}},
        {"conv2d(9,k=25x1,p=0) flatten dense(2)", 3, {2, 25, 13}, {25, 1}, {0, 0}, {1, 1}},
        {"conv3d(7,k=3,p=1) flatten dense(2)", 4, {2, 5, 6, 11}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}},
        /* rows of at most 8 outputs: the kernels run two rows at once on every instruction set */
        {"conv2d(5,k=3,p=1) flatten dense(2)", 3, {3, 9, 7}, {3, 3}, {1, 1}, {1, 1}},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const dconv_case *c = &cases[ci];
        xai_model *m;
        ck_assert_msg(xai_model_from_spec(c->spec, c->ndim, c->in, 7, &m) == XAI_OK, "%s: %s", c->spec,
                      xai_last_error());
        const xai_node *n = &m->nodes[0];
        ck_assert_int_eq(n->kind, K_CONV);
        const xai_linear *L = xai_node_linear(n);
        ck_assert_ptr_nonnull(L);
        int64_t nin = L->in_numel, nout = L->out_numel, co = L->nout_ch;
        xai_workspace *ws;
        ck_assert_int_eq(xai_workspace_new(m, 1, &ws), XAI_OK);
        /* the forward product may read 16 floats past its input (the workspace's slack) */
        float *x = calloc((size_t)nin + 16, sizeof(float)), *sv = malloc(sizeof(float) * (size_t)nout);
        float *z = malloc(sizeof(float) * (size_t)nout), *dx = malloc(sizeof(float) * (size_t)nin);
        float *ones = malloc(sizeof(float) * (size_t)L->wlen);
        double *zr = malloc(sizeof(double) * (size_t)nout), *dxr = malloc(sizeof(double) * (size_t)nin);
        double *za = malloc(sizeof(double) * (size_t)nout), *dxa = malloc(sizeof(double) * (size_t)nin);
        ck_assert(x && sv && z && dx && ones && zr && dxr && za && dxa);
        fill(x, nin, (unsigned)ci);
        fill(sv, nout, (unsigned)ci + 11);
        int64_t ksz = L->wlen / (co * c->in[0]), nf = c->in[0] * ksz, nt = co * ksz; /* terms per output */
        float *inner = ws->scratch; /* the node's fixed scratch, then its stack part */
        L->fwd(n, L->w, NULL, x, z, 1, inner);
        L->vjp(n, L->w, sv, dx, 1, inner);
        naive_conv(c, co, L->w, x, sv, zr, dxr, za, dxa);
        double ef = sum_err(z, zr, za, nout, nf), et = sum_err(dx, dxr, dxa, nin, nt);
        ck_assert_msg(ef <= 1.0, "%s: forward beyond the rounding bound (%.2f)", c->spec, ef);
        ck_assert_msg(et <= 1.0, "%s: transposed beyond the rounding bound (%.2f)", c->spec, et);
        /* the all-ones weights are recognised by their cached pointer: build them as Flat does */
        xai_rule flat = {.kind = XAI_RULE_FLAT};
        ck_assert_int_eq(xai_linear_prepare(n, &flat, 0, ws->scratch + n->scratch_fixed, inner), XAI_OK);
        for (int64_t k = 0; k < L->wlen; k++)
            ones[k] = 1.0f;
        L->vjp(n, L->cw[0][LW_ONES], sv, dx, 1, inner);
        naive_conv(c, co, ones, x, sv, zr, dxr, za, dxa);
        double eo = sum_err(dx, dxr, dxa, nin, nt);
        ck_assert_msg(eo <= 1.0, "%s: all-ones transposed beyond the rounding bound (%.2f)", c->spec, eo);
        /* Flat fused: r += W1^T (s / stab(counts)) as the separate steps give it, but for rounding
           (it divides the channel sum once per position) */
        ck_assert_msg(L->flat_rel && L->flat_count, "%s: no fused Flat", c->spec);
        float *sd = malloc(sizeof(float) * (size_t)nout), *rf = malloc(sizeof(float) * (size_t)nin);
        ck_assert(sd && rf);
        for (int64_t k = 0; k < nout; k++)
            sd[k] = sv[k] / xai_stab(L->flat_count[k], 1e-6f);
        L->vjp(n, L->cw[0][LW_ONES], sd, dx, 1, inner);
        fill(rf, nin, 9);
        for (int64_t k = 0; k < nin; k++)
            dx[k] += rf[k];
        float *r0 = malloc(sizeof(float) * (size_t)nin), *da = malloc(sizeof(float) * (size_t)nin);
        ck_assert(r0 && da);
        memcpy(r0, rf, sizeof(float) * (size_t)nin);
        L->flat_rel(n, sv, L->flat_count, 1e-6f, rf, 1, inner);
        for (int64_t k = 0; k < nout; k++)
            sd[k] = fabsf(sd[k]);
        L->vjp(n, L->cw[0][LW_ONES], sd, da, 1, inner); /* sum of |terms| per input */
        double worst = 0;
        for (int64_t k = 0; k < nin; k++) /* both sides' summation error bounds */
            worst = fmax(worst, fabs((double)rf[k] - dx[k]) / (2.0 * (double)(nt + 2) * 0x1p-24 *
                                                              ((double)da[k] + fabs(r0[k])) + 1e-30));
        ck_assert_msg(worst <= 1.0, "%s: fused Flat beyond the rounding bound (%.2f)", c->spec, worst);
        free(r0);
        free(da);
        free(sd);
        free(rf);
        printf("  %-40s errors / rounding bound: forward %.3f, transposed %.3f, all-ones %.3f\n", c->spec, ef, et, eo);
        check_fused(c, n, L, x, sv, inner);
        free(x);
        free(sv);
        free(z);
        free(dx);
        free(ones);
        free(zr);
        free(dxr);
        free(za);
        free(dxa);
        xai_workspace_free(ws);
        xai_model_free(m);
    }
}
END_TEST

/* Flat's in-bounds tap counts come from the shapes (conv_counts): they must equal the all-ones
   product that defines them, on strides, pads, dilations, groups and 1-D to 3-D. */
START_TEST(test_conv_counts)
{
    static const struct {
        const char *spec;
        int ndim;
        int64_t in[4];
    } cases[] = {
        {"conv1d(6,k=5,p=2) flatten dense(2)", 2, {3, 37}},
        {"conv1d(4,k=7,s=2,p=3) flatten dense(2)", 2, {2, 300}},
        {"conv1d(4,k=3,p=5,d=3) flatten dense(2)", 2, {4, 20}},
        {"conv2d(6,k=3x5,s=2x1,p=1x2,d=1x2,g=2) flatten dense(2)", 3, {4, 9, 21}},
        {"conv2d(9,k=25x1,p=0) flatten dense(2)", 3, {2, 25, 13}},
        {"conv3d(4,k=3,s=2,p=1) flatten dense(2)", 4, {2, 5, 6, 11}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xai_model *m;
        ck_assert_msg(xai_model_from_spec(cases[i].spec, cases[i].ndim, cases[i].in, 3, &m) == XAI_OK, "%s: %s",
                      cases[i].spec, xai_last_error());
        const xai_node *n = &m->nodes[0];
        const xai_linear *L = xai_node_linear(n);
        ck_assert(L->counts != NULL);
        xai_workspace *ws;
        ck_assert_int_eq(xai_workspace_new(m, 1, &ws), XAI_OK);
        float *ones = malloc(sizeof(float) * (size_t)L->wlen), *x = ws->scratch + n->scratch_fixed;
        float *want = malloc(sizeof(float) * (size_t)L->out_numel), *got = malloc(sizeof(float) * (size_t)L->out_numel);
        ck_assert(ones && want && got);
        for (int64_t k = 0; k < L->wlen; k++)
            ones[k] = 1.0f;
        for (int64_t k = 0; k < L->in_numel; k++)
            x[k] = 1.0f;
        L->fwd(n, ones, NULL, x, want, 1, ws->scratch);
        L->counts(n, got);
        double lo = 1e30, hi = 0;
        for (int64_t k = 0; k < L->out_numel; k++) {
            ck_assert_msg(got[k] == want[k], "%s: element %lld has %g in-bounds taps, the product says %g",
                          cases[i].spec, (long long)k, got[k], want[k]);
            lo = fmin(lo, got[k]);
            hi = fmax(hi, got[k]);
        }
        ck_assert_msg(lo < hi || strstr(cases[i].spec, "p=0"), "%s: padding left every count equal", cases[i].spec);
        free(ones);
        free(want);
        free(got);
        xai_workspace_free(ws);
        xai_model_free(m);
    }
}
END_TEST

/* MaxPool's winner is the first maximum in row-major window order, whatever the forward path
   (the vectorised one for windows inside the input compares a row of windows at once): on inputs
   full of ties, the gradient of a dense layer after the pool reaches exactly that cell of each
   window. Strides 2 and 3, 2-D and 3-D, rows of whole and partial vectors. */
START_TEST(test_maxpool_first_max)
{
    static const struct {
        const char *spec;
        int ndim;
        int64_t shape[4], k, win[3], out[3];
    } cases[] = {
        {"maxpool(2) flatten dense(2)", 3, {2, 6, 70}, 2, {1, 2, 2}, {1, 3, 35}},
        {"maxpool(3) flatten dense(2)", 3, {1, 7, 9}, 3, {1, 3, 3}, {1, 2, 3}},
        {"maxpool(2) flatten dense(2)", 4, {2, 4, 4, 6}, 2, {2, 2, 2}, {2, 2, 3}},
        {"maxpool(2) flatten dense(2)", 4, {1, 2, 4, 37}, 2, {2, 2, 2}, {1, 2, 18}}, /* 8 + 8 + 2 a row */
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        xai_model *m;
        ck_assert_int_eq(xai_model_from_spec(cases[t].spec, cases[t].ndim, cases[t].shape, 3, &m), XAI_OK);
        const int64_t n = xai_model_input_numel(m), nsp = cases[t].ndim - 1;
        int64_t in[3] = {1, 1, 1};
        for (int i = 0; i < nsp; i++)
            in[3 - nsp + i] = cases[t].shape[1 + i];
        const int64_t isp = in[0] * in[1] * in[2];
        float *x = malloc(sizeof(float) * (size_t)n), *g = malloc(sizeof(float) * (size_t)n);
        ck_assert(x && g);
        for (int64_t k = 0; k < n; k++)
            x[k] = (float)((k * 7 + k / 5) % 3); /* 0, 1, 2: many ties in every window */
        xai_explain_config cfg;
        xai_explain_config_init(&cfg);
        cfg.method = XAI_METHOD_GRADIENT;
        cfg.target = 0;
        ck_assert_int_eq(xai_explain(m, &cfg, 1, x, g, NULL), XAI_OK);
        const int64_t *w = cases[t].win, *o = cases[t].out, s = cases[t].k;
        for (int64_t c = 0; c < cases[t].shape[0]; c++)
            for (int64_t o0 = 0; o0 < o[0]; o0++)
                for (int64_t o1 = 0; o1 < o[1]; o1++)
                    for (int64_t o2 = 0; o2 < o[2]; o2++) {
                        int64_t first = -1;
                        for (int64_t k0 = 0; k0 < w[0]; k0++) /* row-major window order */
                            for (int64_t k1 = 0; k1 < w[1]; k1++)
                                for (int64_t k2 = 0; k2 < w[2]; k2++) {
                                    int64_t i = c * isp + ((o0 * w[0] + k0) * in[1] + o1 * s + k1) * in[2] + o2 * s + k2;
                                    if (first < 0 || x[i] > x[first])
                                        first = i;
                                }
                        for (int64_t k0 = 0; k0 < w[0]; k0++)
                            for (int64_t k1 = 0; k1 < w[1]; k1++)
                                for (int64_t k2 = 0; k2 < w[2]; k2++) {
                                    int64_t i = c * isp + ((o0 * w[0] + k0) * in[1] + o1 * s + k1) * in[2] + o2 * s + k2;
                                    ck_assert_msg((g[i] != 0.0f) == (i == first),
                                                  "case %zu: cell %lld has gradient %g; the first maximum is %lld", t,
                                                  (long long)i, g[i], (long long)first);
                                }
                    }
        free(x);
        free(g);
        xai_model_free(m);
    }
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("grad");
    TCase *tc = tcase_create("finite-differences");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_fd_conv1d);
    tcase_add_test(tc, test_fd_conv2d);
    tcase_add_test(tc, test_fd_conv3d_avgpool);
    tcase_add_test(tc, test_conv_direct_naive);
    tcase_add_test(tc, test_conv_counts);
    tcase_add_test(tc, test_fd_pool2d);
    tcase_add_test(tc, test_maxpool_first_max);
    tcase_add_test(tc, test_fd_bn_residual_arith);
    tcase_add_test(tc, test_fd_movement);
    tcase_add_test(tc, test_fd_dense);
    tcase_add_test(tc, test_fd_conserve_cnn);
    suite_add_tcase(s, tc);
    TCase *tc2 = tcase_create("conservation");
    tcase_add_test(tc2, test_conservation_bias_free);
    tcase_add_test(tc2, test_conservation_bias_absorbed);
    tcase_add_test(tc2, test_conservation_bias_factor);
    tcase_add_test(tc2, test_baseline_identities);
    tcase_add_test(tc2, test_contrastive_starts);
    suite_add_tcase(s, tc2);
    return s;
}
