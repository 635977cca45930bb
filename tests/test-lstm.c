/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-lstm.c - ONNX LSTM forward, BPTT gradient and Arras et al. LRP-all.
 * References: ../shared/reference/lstm/{lstm_uni,lstm_bidi} (float64 LRP-all, tolerances of
 * compare_lstm.py) and the tiny fixtures of tests/data/lstm (make_lstm_models.py: every
 * direction and layout, sequence_lens, constant / absent / computed initial states,
 * malformed nodes). Gradients are checked against central finite differences: the input
 * gradient, and (training) the parameter gradients dL/dW, dL/dR, dL/dB of every direction.
 * CNN+LSTM (DeepLight-style, uni- and bidirectional) and the exporter patterns around an LSTM:
 * tests/data/lstm/{cnn_lstm_uni,cnn_lstm_bidi,cnn_lstm_bidi_view,lstm_patterns} from
 * make_cnn_lstm.py (float64 lrpref for the CNN part, LRP-all for the LSTM and head), for four
 * composites, beta 0 and 1; gradients vs finite differences; stacks of samples.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"
#include "test-common.h"
#include "vecmath.h"
#include "xai/lrp.h"
#include "xai/model.h"
#include "xai/status.h"
#include "xai/train.h"

static float *read_f32(const char *path, size_t want)
{
    size_t len = 0;
    float *p = xai_test_read_file(path, &len);
    ck_assert_msg(p != NULL, "cannot read %s", path);
    ck_assert_msg(len == want * sizeof(float), "%s: %zu bytes, expected %zu", path, len, want * sizeof(float));
    return p;
}

static int argmax(const float *v, int n)
{
    int k = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[k])
            k = i;
    return k;
}

/* LRP with the LSTM reference conventions: epsilon 1e-3 everywhere, logit start */
static void explain_lrp(const xai_model *m, const float *x, int64_t n, float beta, float *rel, xai_explain_result *res)
{
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    cfg.method = XAI_METHOD_LRP;
    cfg.composite = "epsilon";
    cfg.epsilon = 1e-3f;
    cfg.lstm_epsilon = 1e-3f;
    cfg.bias_factor = beta;
    cfg.init = XAI_INIT_LOGIT;
    xai_status st = xai_explain(m, &cfg, n, x, rel, res);
    ck_assert_msg(st == XAI_OK, "explain: %s", xai_last_error());
}

/* the metrics of compare_lstm.py */
typedef struct {
    double rel_l2, max_abs_rel, one_minus_cos, sum_rel;
} score;

static score score_of(const float *c, const float *r, size_t n, double logit)
{
    double d2 = 0, r2 = 0, c2 = 0, dot = 0, mad = 0, mar = 0, sc = 0, sr = 0;
    for (size_t k = 0; k < n; k++) {
        double d = (double)c[k] - r[k];
        d2 += d * d;
        r2 += (double)r[k] * r[k];
        c2 += (double)c[k] * c[k];
        dot += (double)c[k] * r[k];
        mad = fabs(d) > mad ? fabs(d) : mad;
        mar = fabs(r[k]) > mar ? fabs(r[k]) : mar;
        sc += c[k];
        sr += r[k];
    }
    score s = {sqrt(d2 / r2), mad / mar, 1.0 - dot / sqrt(r2 * c2), fabs(sc - sr) / fabs(logit)};
    return s;
}

static void check_score(const char *what, score s, double tol_l2, double tol_cos)
{
    fprintf(stderr, "%s: rel_l2 %.3g max_abs_rel %.3g 1-cos %.3g sum_rel %.3g\n", what, s.rel_l2, s.max_abs_rel,
            s.one_minus_cos, s.sum_rel);
    ck_assert_msg(s.rel_l2 <= tol_l2, "%s: rel L2 %g > %g", what, s.rel_l2, tol_l2);
    ck_assert_msg(s.max_abs_rel <= tol_l2, "%s: max abs %g > %g", what, s.max_abs_rel, tol_l2);
    ck_assert_msg(s.one_minus_cos <= tol_cos, "%s: 1 - cos %g > %g", what, s.one_minus_cos, tol_cos);
    ck_assert_msg(s.sum_rel <= 1e-5, "%s: sum differs by %g of the logit", what, s.sum_rel);
}

/* ---------------------------------------------------------------- shared reference */

static void reference_case(const char *name, size_t nin, int ncls)
{
    const char *sh = xai_test_shared_dir();
    if (!sh) {
        xai_test_mark_skip();
        return;
    }
    char dir[512];
    snprintf(dir, sizeof dir, "reference/lstm/%s", name);
    const char *cd = xai_test_path(sh, dir);
    char cdir[600];
    snprintf(cdir, sizeof cdir, "%s", cd);
    xai_model *m = xai_test_load_model(xai_test_path(cdir, "model.onnx"));
    ck_assert_int_eq(xai_model_input_numel(m), (int64_t)nin);
    ck_assert_int_eq(xai_model_output_numel(m), ncls);
    float *x = read_f32(xai_test_path(cdir, "input.f32"), nin);
    float *lref = read_f32(xai_test_path(cdir, "logits.f32"), (size_t)ncls);
    float *rel = malloc(sizeof(float) * nin);
    for (int bf = 0; bf <= 1; bf++) {
        float *ref = read_f32(xai_test_path(cdir, bf ? "relevance_bf1.f32" : "relevance.f32"), nin);
        xai_explain_result res;
        explain_lrp(m, x, 1, (float)bf, rel, &res);
        double mx = 1.0;
        for (int c = 0; c < ncls; c++)
            mx = fabs(lref[c]) > mx ? fabs(lref[c]) : mx;
        for (int c = 0; c < ncls; c++)
            ck_assert_msg(fabs(res.logits[c] - lref[c]) <= 1e-5 * mx, "%s: logit %d %g vs %g", name, c,
                          res.logits[c], lref[c]);
        int k = argmax(lref, ncls);
        ck_assert_int_eq(res.target[0], k);
        char what[64];
        snprintf(what, sizeof what, "%s beta=%d", name, bf);
        check_score(what, score_of(rel, ref, nin, res.logits[k]), bf ? 5e-5 : 1e-5, bf ? 1e-7 : 1e-8);
        if (bf) {
            double tot = res.rel_sum[0] + res.init_state_sum[0];
            fprintf(stderr, "%s: sum %.9g + initial states %.9g = %.9g, logit %.9g\n", what, res.rel_sum[0],
                    res.init_state_sum[0], tot, (double)res.logits[k]);
            ck_assert_msg(fabs(tot - res.logits[k]) <= 1e-5 * fabs(res.logits[k]),
                          "%s: not conserved: %.9g vs logit %.9g", what, tot, (double)res.logits[k]);
            ck_assert_msg(fabs(res.init_state_sum[0]) > 1e-3, "%s: no relevance on the initial states", what);
        }
        xai_explain_result_free(&res);
        free(ref);
    }
    free(rel);
    free(x);
    free(lref);
    xai_model_free(m);
}

START_TEST(test_reference_uni)
{
    reference_case("lstm_uni", 30 * 8, 3);
}
END_TEST

START_TEST(test_reference_bidi)
{
    reference_case("lstm_bidi", 1200 / 4, 3);
}
END_TEST

/* ---------------------------------------------------------------- fixtures */

static const struct {
    const char *name;
    int conserves; /* no sequence_lens: padded outputs would absorb relevance */
} fixtures[] = {
    {"fwd_l0_init", 1},
    {"rev_l1_lens", 0},
    {"bidi_l0_lens_acth0", 0},
    {"bidi_l1", 1},
};
enum { NFIX = sizeof fixtures / sizeof fixtures[0], FIX_NIN = 30, FIX_NC = 3 };

static xai_model *load_fixture(int i, float **x)
{
    char f[256];
    snprintf(f, sizeof f, "lstm/%s.onnx", fixtures[i].name);
    xai_model *m = xai_test_load_model(xai_test_path(xai_test_data_dir(), f));
    ck_assert_int_eq(xai_model_input_numel(m), FIX_NIN);
    ck_assert_int_eq(xai_model_output_numel(m), FIX_NC);
    snprintf(f, sizeof f, "lstm/%s.x.f32", fixtures[i].name);
    *x = read_f32(xai_test_path(xai_test_data_dir(), f), FIX_NIN);
    return m;
}

START_TEST(test_fixture_lrp)
{
    int i = _i;
    float *x;
    xai_model *m = load_fixture(i, &x);
    char f[256];
    snprintf(f, sizeof f, "lstm/%s.logits.f32", fixtures[i].name);
    float *lref = read_f32(xai_test_path(xai_test_data_dir(), f), FIX_NC);
    float rel[FIX_NIN];
    for (int bf = 0; bf <= 1; bf++) {
        snprintf(f, sizeof f, "lstm/%s.r%d.f32", fixtures[i].name, bf);
        float *ref = read_f32(xai_test_path(xai_test_data_dir(), f), FIX_NIN);
        xai_explain_result res;
        explain_lrp(m, x, 1, (float)bf, rel, &res);
        for (int c = 0; c < FIX_NC; c++)
            ck_assert_msg(fabs(res.logits[c] - lref[c]) <= 1e-5, "%s: logit %d %g vs %g", fixtures[i].name, c,
                          res.logits[c], lref[c]);
        int k = argmax(lref, FIX_NC);
        ck_assert_int_eq(res.target[0], k);
        char what[96];
        snprintf(what, sizeof what, "%s beta=%d", fixtures[i].name, bf);
        check_score(what, score_of(rel, ref, FIX_NIN, res.logits[k]), bf ? 5e-5 : 1e-5, bf ? 1e-7 : 1e-8);
        if (bf) {
            size_t len;
            snprintf(f, sizeof f, "lstm/%s.init1.f64", fixtures[i].name);
            double *iref = xai_test_read_file(xai_test_path(xai_test_data_dir(), f), &len);
            ck_assert(iref && len == sizeof(double));
            ck_assert_msg(fabs(res.init_state_sum[0] - iref[0]) <= 1e-5 * fabs(res.logits[k]),
                          "%s: initial-state relevance %.9g vs %.9g", what, res.init_state_sum[0], iref[0]);
            free(iref);
            if (fixtures[i].conserves)
                ck_assert_msg(fabs(res.rel_sum[0] + res.init_state_sum[0] - res.logits[k]) <=
                                  1e-5 * fabs(res.logits[k]),
                              "%s: %.9g + %.9g != logit %.9g", what, res.rel_sum[0], res.init_state_sum[0],
                              (double)res.logits[k]);
        }
        xai_explain_result_free(&res);
        free(ref);
    }
    free(lref);
    free(x);
    xai_model_free(m);
}
END_TEST

/* A stack of samples explained in one sweep equals the samples explained one at a time. */
START_TEST(test_fixture_stack)
{
    int i = _i;
    float *x;
    xai_model *m = load_fixture(i, &x);
    enum { NS = 3 };
    float xs[NS * FIX_NIN], rs[NS * FIX_NIN], r1[FIX_NIN];
    for (int k = 0; k < FIX_NIN; k++) {
        xs[k] = x[k];
        xs[FIX_NIN + k] = -0.5f * x[k];
        xs[2 * FIX_NIN + k] = x[k] + 0.3f * (float)((k % 5) - 2);
    }
    for (int bf = 0; bf <= 1; bf++) {
        xai_explain_result res, r1res;
        explain_lrp(m, xs, NS, (float)bf, rs, &res);
        for (int s = 0; s < NS; s++) {
            explain_lrp(m, xs + s * FIX_NIN, 1, (float)bf, r1, &r1res);
            ck_assert_int_eq(r1res.target[0], res.target[s]);
            ck_assert_msg(xai_test_rel_l2(rs + s * FIX_NIN, r1, FIX_NIN) < 1e-6, "%s sample %d differs (beta %d: %g)",
                          fixtures[i].name, s, bf, xai_test_rel_l2(rs + s * FIX_NIN, r1, FIX_NIN));
            ck_assert(fabs(r1res.init_state_sum[0] - res.init_state_sum[s]) <= 1e-6 * (1 + fabs(r1res.init_state_sum[0])));
            xai_explain_result_free(&r1res);
        }
        xai_explain_result_free(&res);
    }
    free(x);
    xai_model_free(m);
}
END_TEST

/* BPTT gradient vs central finite differences of the float32 forward, every class. */
START_TEST(test_fixture_gradient_fd)
{
    int i = _i;
    float *x;
    xai_model *m = load_fixture(i, &x);
    xai_workspace *ws;
    ck_assert_int_eq(xai_workspace_new(m, 1, &ws), XAI_OK);
    for (int c = 0; c < FIX_NC; c++) {
        xai_explain_config cfg;
        xai_explain_config_init(&cfg);
        cfg.method = XAI_METHOD_GRADIENT;
        cfg.target = c;
        float g[FIX_NIN], fd[FIX_NIN], xp[FIX_NIN], lp[FIX_NC], lm[FIX_NC];
        ck_assert_int_eq(xai_explain(m, &cfg, 1, x, g, NULL), XAI_OK);
        const float h = 4e-3f;
        for (int k = 0; k < FIX_NIN; k++) {
            float hi = x[k] + h, lo = x[k] - h;
            memcpy(xp, x, sizeof xp);
            xp[k] = hi;
            ck_assert_int_eq(xai_model_forward(m, ws, 1, xp, lp), XAI_OK);
            xp[k] = lo;
            ck_assert_int_eq(xai_model_forward(m, ws, 1, xp, lm), XAI_OK);
            fd[k] = (lp[c] - lm[c]) / (hi - lo);
        }
        double e = xai_test_rel_l2(g, fd, FIX_NIN);
        fprintf(stderr, "%s class %d: gradient vs finite differences rel L2 %.3g\n", fixtures[i].name, c, e);
        ck_assert_msg(e < 2e-3, "%s class %d: gradient rel L2 %g", fixtures[i].name, c, e);
    }
    xai_workspace_free(ws);
    free(x);
    xai_model_free(m);
}
END_TEST

/* sequence_lens: inputs past a sequence's end have no influence. */
START_TEST(test_lens_padding)
{
    float *x;
    xai_model *m = load_fixture(1, &x); /* rev_l1_lens: layout 1 [B=2,T=5,D=3], lens {3,5} */
    float rel[FIX_NIN], g[FIX_NIN];
    xai_explain_result res;
    explain_lrp(m, x, 1, 1.0f, rel, &res);
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    cfg.method = XAI_METHOD_GRADIENT;
    ck_assert_int_eq(xai_explain(m, &cfg, 1, x, g, NULL), XAI_OK);
    for (int t = 0; t < 5; t++)
        for (int d = 0; d < 3; d++) {
            int k = (0 * 5 + t) * 3 + d;
            if (t >= 3) {
                ck_assert_float_eq(rel[k], 0.0f);
                ck_assert_float_eq(g[k], 0.0f);
            } else {
                ck_assert(rel[k] != 0.0f);
            }
        }
    /* moving a padded input leaves the logits unchanged */
    float l0[FIX_NC], l1[FIX_NC];
    xai_workspace *ws;
    ck_assert_int_eq(xai_workspace_new(m, 1, &ws), XAI_OK);
    ck_assert_int_eq(xai_model_forward(m, ws, 1, x, l0), XAI_OK);
    x[4 * 3 + 1] += 10.0f;
    ck_assert_int_eq(xai_model_forward(m, ws, 1, x, l1), XAI_OK);
    for (int c = 0; c < FIX_NC; c++)
        ck_assert_float_eq(l0[c], l1[c]);
    xai_workspace_free(ws);
    xai_explain_result_free(&res);
    free(x);
    xai_model_free(m);
}
END_TEST

/* Only the epsilon rule (LRP-all) and the gradient apply to an LSTM node. */
START_TEST(test_rule_override)
{
    float *x;
    xai_model *m = load_fixture(0, &x);
    float rel[FIX_NIN], g[FIX_NIN];
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    cfg.rules = "LSTM=pass";
    ck_assert_int_eq(xai_explain(m, &cfg, 1, x, rel, NULL), XAI_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "LSTM"));
    /* "LSTM=gradient" gives the LSTM's input gradient times what reaches it: with a gradient
     * head as well it is exactly the gradient */
    cfg.rules = "LSTM=gradient; Gemm=gradient";
    cfg.init = XAI_INIT_ONEHOT; /* the default for LSTM models starts from the logit */
    ck_assert_int_eq(xai_explain(m, &cfg, 1, x, rel, NULL), XAI_OK);
    cfg.rules = NULL;
    cfg.method = XAI_METHOD_GRADIENT;
    ck_assert_int_eq(xai_explain(m, &cfg, 1, x, g, NULL), XAI_OK);
    ck_assert(xai_test_rel_l2(rel, g, FIX_NIN) < 1e-6);
    free(x);
    xai_model_free(m);
}
END_TEST

/* ---------------------------------------------------------------- CNN+LSTM and exporter patterns */

/* Folders written by make_cnn_lstm.py: DeepLight-style CNN over slices -> (bi)LSTM -> Gemm, and a
 * bidirectional LSTM behind the exporter patterns (Squeeze/Gather/Slice/Reshape/Concat of Y, Y_h,
 * Y_c; Expand-ed zero initial states). Maps: float64 lrpref (CNN) + LRP-all (LSTM, head). */
static const struct {
    const char *dir;
    int nin, ncls;
} folders[] = {
    {"cnn_lstm_uni", 6 * 64, 3},
    {"cnn_lstm_bidi", 6 * 64, 3},
    {"cnn_lstm_bidi_view", 6 * 64, 3}, /* volume input, torch view() patterns, head on out[-1] */
    {"lstm_patterns", 5 * 3, 3},
};
enum { PATTERNS = 3 };
enum { NFOLD = sizeof folders / sizeof folders[0] };

static const struct {
    const char *key, *composite;
    float epsilon;
    int conserves; /* Epsilon-with-bias-factor everywhere: beta = 1 conserves exactly */
    int auto_init; /* leave cfg.init at AUTO (must pick the logit for an LSTM model) */
} fold_keys[] = {
    {"eps3", "epsilon", 1e-3f, 1, 0},
    {"eps6", "epsilon", 1e-6f, 1, 1},
    {"epf", "epsilon-plus-flat", 1e-6f, 0, 1},
    {"egb", "epsilon-gamma-box", 1e-6f, 0, 1}, /* ZBox bounds -4, 4 */
};

static const char *fold_path(int f, const char *file)
{
    static char rel[256];
    snprintf(rel, sizeof rel, "lstm/%s/%s", folders[f].dir, file);
    return xai_test_path(xai_test_data_dir(), rel);
}

static xai_model *load_folder(int f, float **x, float **lref)
{
    xai_model *m = xai_test_load_model(fold_path(f, "model.onnx"));
    ck_assert_int_eq(xai_model_input_numel(m), folders[f].nin);
    ck_assert_int_eq(xai_model_output_numel(m), folders[f].ncls);
    *x = read_f32(fold_path(f, "x.f32"), (size_t)folders[f].nin);
    if (lref)
        *lref = read_f32(fold_path(f, "logits.f32"), (size_t)folders[f].ncls);
    return m;
}

/* one map of one folder against its float64 reference, beta 0 and 1 */
static void check_folder_map(int f, const xai_model *m, const float *x, const float *lref, const char *key,
                             const char *composite, float eps, int auto_init, int conserves)
{
    int nin = folders[f].nin, nc = folders[f].ncls;
    float *rel = malloc(sizeof(float) * (size_t)nin);
    ck_assert_ptr_nonnull(rel);
    for (int bf = 0; bf <= 1; bf++) {
        char file[64];
        snprintf(file, sizeof file, "%s.r%d.f32", key, bf);
        float *ref = read_f32(fold_path(f, file), (size_t)nin);
        xai_explain_config cfg;
        xai_explain_config_init(&cfg);
        cfg.composite = composite;
        cfg.epsilon = eps;
        cfg.lstm_epsilon = 1e-3f;
        cfg.bias_factor = (float)bf;
        if (!auto_init)
            cfg.init = XAI_INIT_LOGIT;
        if (strcmp(composite, "epsilon-gamma-box") == 0) {
            cfg.have_bounds = 1;
            cfg.low = -4.0f;
            cfg.high = 4.0f;
        }
        xai_explain_result res;
        ck_assert_msg(xai_explain(m, &cfg, 1, x, rel, &res) == XAI_OK, "explain: %s", xai_last_error());
        double mx = 1.0;
        for (int c = 0; c < nc; c++)
            mx = fabs(lref[c]) > mx ? fabs(lref[c]) : mx;
        for (int c = 0; c < nc; c++)
            ck_assert_msg(fabs(res.logits[c] - lref[c]) <= 1e-5 * mx, "%s: logit %d %g vs %g", folders[f].dir, c,
                          res.logits[c], lref[c]);
        int k = argmax(lref, nc);
        ck_assert_int_eq(res.target[0], k);
        char what[96];
        snprintf(what, sizeof what, "%s %s beta=%d", folders[f].dir, key, bf);
        check_score(what, score_of(rel, ref, (size_t)nin, res.logits[k]), bf ? 5e-5 : 1e-5, bf ? 1e-7 : 1e-8);
        if (bf) {
            size_t len;
            snprintf(file, sizeof file, "%s.init1.f64", key);
            double *iref = xai_test_read_file(fold_path(f, file), &len);
            ck_assert(iref && len == sizeof(double));
            ck_assert_msg(fabs(res.init_state_sum[0] - iref[0]) <= 1e-5 * fabs(res.logits[k]),
                          "%s: initial-state relevance %.9g vs %.9g", what, res.init_state_sum[0], iref[0]);
            ck_assert_msg(iref[0] != 0.0, "%s: the reference has no initial-state relevance", what);
            free(iref);
            double tot = res.rel_sum[0] + res.init_state_sum[0];
            fprintf(stderr, "%s: sum %.9g + initial states %.9g = %.9g, logit %.9g\n", what, res.rel_sum[0],
                    res.init_state_sum[0], tot, (double)res.logits[k]);
            if (conserves)
                ck_assert_msg(fabs(tot - res.logits[k]) <= 1e-5 * fabs(res.logits[k]),
                              "%s: not conserved: %.9g vs logit %.9g", what, tot, (double)res.logits[k]);
        }
        xai_explain_result_free(&res);
        free(ref);
    }
    free(rel);
}

static const xai_node *node_of_kind(const xai_model *m, int kind, int which)
{
    for (int i = 0; i < m->nnodes; i++)
        if ((int)m->nodes[i].kind == kind && which-- == 0)
            return &m->nodes[i];
    return NULL;
}

/* CNN+LSTM end to end: the CNN part follows the composite, the LSTM and the head LRP-all */
START_TEST(test_cnn_lstm_lrp)
{
    int f = _i;
    float *x, *lref;
    xai_model *m = load_folder(f, &x, &lref);
    for (size_t k = 0; k < sizeof fold_keys / sizeof fold_keys[0]; k++)
        check_folder_map(f, m, x, lref, fold_keys[k].key, fold_keys[k].composite, fold_keys[k].epsilon,
                         fold_keys[k].auto_init, fold_keys[k].conserves);
    /* the rules the defaults chose: Flat on the first Conv, ZPlus on the second, Epsilon on the
       head behind the LSTM; the zero initial states were folded to constants at load */
    float *rel = malloc(sizeof(float) * (size_t)folders[f].nin);
    ck_assert_ptr_nonnull(rel);
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    xai_explain_result res;
    ck_assert_int_eq(xai_explain(m, &cfg, 1, x, rel, &res), XAI_OK);
    const xai_node *c0 = node_of_kind(m, K_CONV, 0), *c1 = node_of_kind(m, K_CONV, 1);
    const xai_node *g = node_of_kind(m, K_GEMM, 0), *l = node_of_kind(m, K_LSTM, 0);
    ck_assert(c0 && c1 && g && l && !node_of_kind(m, K_CONV, 2) && !node_of_kind(m, K_GEMM, 1));
    ck_assert_str_eq(res.layer_rule[c0 - m->nodes], "flat");
    ck_assert_str_eq(res.layer_rule[c1 - m->nodes], "zplus");
    ck_assert_str_eq(res.layer_rule[g - m->nodes], "epsilon");
    ck_assert_int_eq(l->nin, 7);
    for (int k = 5; k < 7; k++)
        ck_assert_msg(l->in[k] >= 0 && m->vals[l->in[k]].is_const, "LSTM input %d is not a folded constant", k);
    xai_explain_result_free(&res);
    free(rel);
    free(lref);
    free(x);
    xai_model_free(m);
}
END_TEST

START_TEST(test_lstm_patterns_lrp)
{
    float *x, *lref;
    xai_model *m = load_folder(PATTERNS, &x, &lref);
    check_folder_map(PATTERNS, m, x, lref, "lstm", "epsilon", 1e-3f, 0, 1);
    /* no Conv/Dense before the LSTM: the composite changes nothing */
    check_folder_map(PATTERNS, m, x, lref, "lstm", "epsilon-plus-flat", 1e-6f, 1, 1);
    const xai_node *l = node_of_kind(m, K_LSTM, 0);
    ck_assert_ptr_nonnull(l);
    for (int k = 5; k < 7; k++)
        ck_assert_msg(l->in[k] >= 0 && m->vals[l->in[k]].is_const, "LSTM input %d is not a folded constant", k);
    free(lref);
    free(x);
    xai_model_free(m);
}
END_TEST

/* three samples explained in one sweep equal the samples explained one at a time (the slices
 * are the CNN's batch axis inside each sample) */
START_TEST(test_folder_stack)
{
    int f = _i;
    float *x;
    xai_model *m = load_folder(f, &x, NULL);
    int nin = folders[f].nin;
    enum { NS = 3 };
    float *xs = malloc(sizeof(float) * (size_t)(NS * nin)), *rs = malloc(sizeof(float) * (size_t)(NS * nin));
    float *r1 = malloc(sizeof(float) * (size_t)nin);
    ck_assert(xs && rs && r1);
    for (int k = 0; k < nin; k++) {
        xs[k] = x[k];
        xs[nin + k] = -0.5f * x[nin - 1 - k];
        xs[2 * nin + k] = x[k] + 0.3f * (float)((k % 5) - 2);
    }
    for (int bf = 0; bf <= 1; bf++) {
        xai_explain_config cfg;
        xai_explain_config_init(&cfg);
        cfg.bias_factor = (float)bf;
        xai_explain_result res, r1res;
        ck_assert_int_eq(xai_explain(m, &cfg, NS, xs, rs, &res), XAI_OK);
        for (int s = 0; s < NS; s++) {
            ck_assert_int_eq(xai_explain(m, &cfg, 1, xs + s * nin, r1, &r1res), XAI_OK);
            ck_assert_int_eq(r1res.target[0], res.target[s]);
            ck_assert_float_eq(r1res.logits[r1res.target[0]], res.logits[s * folders[f].ncls + res.target[s]]);
            ck_assert_msg(xai_test_rel_l2(rs + s * nin, r1, (size_t)nin) < 1e-6, "%s sample %d differs",
                          folders[f].dir, s);
            ck_assert(fabs(r1res.init_state_sum[0] - res.init_state_sum[s]) <=
                      1e-6 * (1 + fabs(r1res.init_state_sum[0])));
            xai_explain_result_free(&r1res);
        }
        xai_explain_result_free(&res);
    }
    free(xs);
    free(rs);
    free(r1);
    free(x);
    xai_model_free(m);
}
END_TEST

/* gradient of every logit through the whole CNN+LSTM (BPTT, MaxPool, ReLU) vs central
 * differences of the float64 reference forward (grad.f32, h = 1e-6: float32 differences of the
 * float32 forward cross ReLU/MaxPool kinks at any step size that beats the rounding noise) */
START_TEST(test_folder_gradient_fd)
{
    int f = _i;
    float *x;
    xai_model *m = load_folder(f, &x, NULL);
    int nin = folders[f].nin, nc = folders[f].ncls;
    float *fd = read_f32(fold_path(f, "grad.f32"), (size_t)(nc * nin));
    float *g = malloc(sizeof(float) * (size_t)nin);
    ck_assert_ptr_nonnull(g);
    for (int c = 0; c < nc; c++) {
        xai_explain_config cfg;
        xai_explain_config_init(&cfg);
        cfg.method = XAI_METHOD_GRADIENT;
        cfg.target = c;
        ck_assert_int_eq(xai_explain(m, &cfg, 1, x, g, NULL), XAI_OK);
        double e = xai_test_rel_l2(g, fd + (size_t)c * (size_t)nin, (size_t)nin);
        fprintf(stderr, "%s class %d: gradient vs finite differences rel L2 %.3g\n", folders[f].dir, c, e);
        ck_assert_msg(e < 1e-5, "%s class %d: gradient rel L2 %g", folders[f].dir, c, e);
    }
    free(g);
    free(fd);
    free(x);
    xai_model_free(m);
}
END_TEST

/* ---------------------------------------------------------------- parameter gradients */

enum { PG_NS = 2 };

/* L = sum over the stack and the classes of r * logit, from a fresh forward pass */
static double pg_loss(const xai_model *m, xai_workspace *ws, const float *xs, const float *r)
{
    ck_assert_int_eq(xai_graph_forward(m, ws, PG_NS, xs), XAI_OK);
    const float *o = ws->val[m->output];
    double L = 0;
    for (int k = 0; k < PG_NS * FIX_NC; k++)
        L += (double)r[k] * (double)o[k];
    return L;
}

/* forward, seed dL/dlogits = r, run every node's backward (what training does) */
static void pg_backward(const xai_model *m, xai_workspace *ws, const float *xs, const float *r)
{
    ck_assert_int_eq(xai_graph_forward(m, ws, PG_NS, xs), XAI_OK);
    xai_ws_clear_adj(ws);
    memcpy(ws->adj[m->output], r, sizeof(float) * PG_NS * FIX_NC);
    for (int i = m->nnodes - 1; i >= 0; i--)
        ck_assert_int_eq(m->nodes[i].ops->backward(m, &m->nodes[i], ws), XAI_OK);
}

static float lcg_unit(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(*s >> 11) / 9007199254740992.0) * 2.0f - 1.0f;
}

/* dL/dW, dL/dR, dL/dB accumulated by the LSTM backward (node->pgrad, as training sets them)
 * vs central differences of L in the float32 forward, every element of every tensor; then a
 * second backward must double them (accumulation, no overwrite). */
START_TEST(test_fixture_param_grad_fd)
{
    static const char *const tname[3] = {"W", "R", "B"};
    int i = _i;
    float *x;
    xai_model *m = load_fixture(i, &x);
    ck_assert_int_eq(vnumel(m, m->output), FIX_NC);
    float xs[PG_NS * FIX_NIN], r[PG_NS * FIX_NC];
    uint64_t seed = 0x5eed0000u + (uint64_t)i;
    for (int k = 0; k < FIX_NIN; k++) {
        xs[k] = x[k];
        xs[FIX_NIN + k] = -0.7f * x[k] + 0.4f * lcg_unit(&seed);
    }
    for (int k = 0; k < PG_NS * FIX_NC; k++)
        r[k] = lcg_unit(&seed);
    xai_node *n = NULL;
    for (int k = 0; k < m->nnodes; k++)
        if (m->nodes[k].kind == K_LSTM)
            n = &m->nodes[k];
    ck_assert_ptr_nonnull(n);
    float *g[3] = {NULL, NULL, NULL};
    int64_t ne[3] = {0, 0, 0};
    for (int t = 0; t < 3; t++) {
        int v = n->in[1 + t];
        ck_assert_int_ge(v, 0);
        ck_assert(m->vals[v].is_const);
        ne[t] = m->vals[v].numel;
        g[t] = calloc((size_t)ne[t], sizeof(float));
        ck_assert_ptr_nonnull(g[t]);
        n->pgrad[t] = g[t];
    }
    xai_workspace *ws;
    ck_assert_int_eq(xai_workspace_new(m, PG_NS, &ws), XAI_OK);
    ws->training = 1; /* no semantic difference for an LSTM; exercised as training runs it */
    pg_backward(m, ws, xs, r);
    const float h = 4e-3f; /* float32 forward: FD noise dominates below this */
    for (int t = 0; t < 3; t++) {
        float *p = m->vals[n->in[1 + t]].f;
        double gmax = 0, emax = 0;
        for (int64_t k = 0; k < ne[t]; k++)
            gmax = fabs(g[t][k]) > gmax ? fabs(g[t][k]) : gmax;
        ck_assert_msg(gmax > 1e-3, "%s: dL/d%s is zero", fixtures[i].name, tname[t]);
        for (int64_t k = 0; k < ne[t]; k++) {
            float p0 = p[k], hi = p0 + h, lo = p0 - h;
            p[k] = hi;
            double lp = pg_loss(m, ws, xs, r);
            p[k] = lo;
            double lm = pg_loss(m, ws, xs, r);
            p[k] = p0;
            double fd = (lp - lm) / ((double)hi - (double)lo);
            double e = fabs(fd - g[t][k]);
            emax = e > emax ? e : emax;
            ck_assert_msg(e <= 2e-3 * gmax, "%s: dL/d%s[%lld] = %g, finite differences %g (max |grad| %g)",
                          fixtures[i].name, tname[t], (long long)k, (double)g[t][k], fd, gmax);
        }
        fprintf(stderr, "%s: dL/d%s (%lld values) vs finite differences: max error %.3g of max |grad| %.3g\n",
                fixtures[i].name, tname[t], (long long)ne[t], emax / gmax, gmax);
    }
    /* the Wb and Rb halves of B get the same gradient */
    const xai_value *Rv = &m->vals[n->in[2]];
    int64_t ndir = Rv->shape[0], H = Rv->shape[2];
    ck_assert_int_eq(ne[2], ndir * 8 * H);
    for (int64_t d = 0; d < ndir; d++)
        for (int64_t j = 0; j < 4 * H; j++)
            ck_assert_float_eq(g[2][d * 8 * H + j], g[2][d * 8 * H + 4 * H + j]);
    /* accumulation: a second backward adds the same amount */
    float *g1[3];
    for (int t = 0; t < 3; t++) {
        g1[t] = malloc(sizeof(float) * (size_t)ne[t]);
        ck_assert_ptr_nonnull(g1[t]);
        memcpy(g1[t], g[t], sizeof(float) * (size_t)ne[t]);
    }
    pg_backward(m, ws, xs, r);
    for (int t = 0; t < 3; t++) {
        for (int64_t k = 0; k < ne[t]; k++)
            ck_assert_msg(fabsf(g[t][k] - 2.0f * g1[t][k]) <= 1e-5f * (1.0f + fabsf(g1[t][k])),
                          "%s: dL/d%s[%lld] not accumulated: %g after two passes, %g after one", fixtures[i].name,
                          tname[t], (long long)k, (double)g[t][k], (double)g1[t][k]);
        free(g1[t]);
    }
    /* the explanation gradient (rule "gradient" through relevance) leaves them alone */
    ws->training = 0;
    for (int t = 0; t < 3; t++)
        memset(g[t], 0, sizeof(float) * (size_t)ne[t]);
    float ge[FIX_NIN];
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    cfg.rules = "LSTM=gradient; Gemm=gradient";
    ck_assert_int_eq(xai_explain(m, &cfg, 1, x, ge, NULL), XAI_OK);
    for (int t = 0; t < 3; t++) {
        for (int64_t k = 0; k < ne[t]; k++)
            ck_assert_float_eq(g[t][k], 0.0f);
        n->pgrad[t] = NULL;
        free(g[t]);
    }
    xai_workspace_free(ws);
    free(x);
    xai_model_free(m);
}
END_TEST

/* Only some parameters trained (the others NULL): the given ones get the same gradient. */
START_TEST(test_param_grad_partial)
{
    float *x;
    xai_model *m = load_fixture(3, &x); /* bidi_l1 */
    float xs[PG_NS * FIX_NIN], r[PG_NS * FIX_NC];
    uint64_t seed = 77;
    for (int k = 0; k < PG_NS * FIX_NIN; k++)
        xs[k] = x[k % FIX_NIN] + 0.2f * lcg_unit(&seed);
    for (int k = 0; k < PG_NS * FIX_NC; k++)
        r[k] = lcg_unit(&seed);
    xai_node *n = NULL;
    for (int k = 0; k < m->nnodes; k++)
        if (m->nodes[k].kind == K_LSTM)
            n = &m->nodes[k];
    ck_assert_ptr_nonnull(n);
    xai_workspace *ws;
    ck_assert_int_eq(xai_workspace_new(m, PG_NS, &ws), XAI_OK);
    float *full[3], *one[3];
    int64_t ne[3];
    for (int t = 0; t < 3; t++) {
        ne[t] = m->vals[n->in[1 + t]].numel;
        full[t] = calloc((size_t)ne[t], sizeof(float));
        one[t] = calloc((size_t)ne[t], sizeof(float));
        ck_assert(full[t] && one[t]);
        n->pgrad[t] = full[t];
    }
    pg_backward(m, ws, xs, r);
    for (int t = 0; t < 3; t++) {
        for (int u = 0; u < 3; u++)
            n->pgrad[u] = u == t ? one[t] : NULL;
        pg_backward(m, ws, xs, r);
        for (int64_t k = 0; k < ne[t]; k++)
            ck_assert_float_eq(one[t][k], full[t][k]);
    }
    for (int t = 0; t < 3; t++) {
        n->pgrad[t] = NULL;
        free(full[t]);
        free(one[t]);
    }
    xai_workspace_free(ws);
    free(x);
    xai_model_free(m);
}
END_TEST

/* ---------------------------------------------------------------- malformed nodes */

START_TEST(test_bad_nodes)
{
    static const struct {
        const char *file;
        xai_status st;
        const char *needle;
    } bad[] = {
        {"bad_wshape", XAI_EFORMAT, "W 'W' must have shape [1,16,3]"},
        {"bad_rshape", XAI_EFORMAT, "R 'R' must have shape [1,16,4]"},
        {"bad_bshape", XAI_EFORMAT, "B 'Bias' must have shape [1,32]"},
        {"bad_hidden", XAI_EFORMAT, "hidden_size 5 does not match W"},
        {"bad_direction", XAI_EFORMAT, "unknown direction 'sideways'"},
        {"bad_clip", XAI_EUNSUPPORTED, "'clip'"},
        {"bad_forget", XAI_EUNSUPPORTED, "'input_forget'"},
        {"bad_acts", XAI_EUNSUPPORTED, "'activations'"},
        {"bad_peephole", XAI_EUNSUPPORTED, "peephole"},
        {"bad_lens", XAI_EFORMAT, "sequence_lens[0] = 6 is outside 1..5"},
        {"bad_ndir", XAI_EFORMAT, "W 'W' must have shape [2,16,3]"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char f[128];
        snprintf(f, sizeof f, "lstm/%s.onnx", bad[k].file);
        xai_model *m = NULL;
        xai_status st = xai_model_load_onnx(xai_test_path(xai_test_data_dir(), f), NULL, &m);
        const char *msg = xai_last_error();
        ck_assert_msg(st == bad[k].st, "%s: status %d (%s), expected %d", f, st, msg, bad[k].st);
        ck_assert_ptr_null(m);
        ck_assert_msg(msg && strstr(msg, bad[k].needle) && strstr(msg, "LSTM"), "%s: message '%s' lacks '%s'", f,
                      msg ? msg : "(null)", bad[k].needle);
    }
}
END_TEST

START_TEST(test_threads_identical)
{
    /* the LSTM splits a stack into fixed blocks for the thread pool: 1 and 2 threads agree bitwise */
    int64_t shape[2] = {30, 8};
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("lstm(16,bidirectional,last) dense(3)", 2, shape, 5, &m), XAI_OK);
    enum { N = 40 };
    float *x = malloc(sizeof(float) * N * 240), *r1 = malloc(sizeof(float) * N * 240), *r2 = malloc(sizeof(float) * N * 240);
    for (int k = 0; k < N * 240; k++)
        x[k] = (float)sin(0.37 * k);
    xai_explain_config c;
    xai_explain_config_init(&c);
    c.bias_factor = 1.0f;
    xai_set_num_threads(1);
    ck_assert_int_eq(xai_explain(m, &c, N, x, r1, NULL), XAI_OK);
    xai_set_num_threads(2);
    ck_assert_int_eq(xai_explain(m, &c, N, x, r2, NULL), XAI_OK);
    xai_set_num_threads(1);
    ck_assert_mem_eq(r1, r2, sizeof(float) * N * 240);
    free(x);
    free(r1);
    free(r2);
    xai_model_free(m);
}
END_TEST

START_TEST(test_weights_changed)
{
    /* W and R are packed when the model is loaded; after they change in place and the model is
     * told (xai_model_params_changed, as training does), the explanation is that of a model
     * loaded with the new weights */
    int64_t shape[2] = {9, 4};
    xai_model *m, *m2;
    ck_assert_int_eq(xai_model_from_spec("lstm(13,bidirectional,last) dense(2)", 2, shape, 3, &m), XAI_OK);
    float x[36], r0[36], r1[36], r2[36];
    for (int k = 0; k < 36; k++)
        x[k] = (float)cos(0.7 * k);
    xai_explain_config c;
    xai_explain_config_init(&c);
    c.bias_factor = 1.0f;
    ck_assert_int_eq(xai_explain(m, &c, 1, x, r0, NULL), XAI_OK);
    int changed = 0;
    for (int i = 0; i < m->nnodes; i++)
        if (m->nodes[i].kind == K_LSTM) {
            xai_value *W = &m->vals[m->nodes[i].in[1]], *R = &m->vals[m->nodes[i].in[2]];
            for (int64_t k = 0; k < R->numel; k++)
                R->f[k] = -1.5f * R->f[k];
            for (int64_t k = 0; k < W->numel; k++)
                W->f[k] = 0.5f * W->f[k] + 0.01f * (float)(k % 7);
            changed++;
        }
    ck_assert_int_eq(changed, 1);
    xai_model_params_changed(m);
    ck_assert_int_eq(xai_explain(m, &c, 1, x, r1, NULL), XAI_OK);
    void *bytes;
    size_t len;
    ck_assert_int_eq(xai_model_save_onnx_mem(m, NULL, &bytes, &len), XAI_OK);
    ck_assert_int_eq(xai_model_load_onnx_mem(bytes, len, "changed", NULL, &m2), XAI_OK);
    free(bytes);
    ck_assert_int_eq(xai_explain(m2, &c, 1, x, r2, NULL), XAI_OK);
    ck_assert_msg(memcmp(r0, r1, sizeof r0) != 0, "the new W and R did not change the relevance");
    ck_assert_mem_eq(r1, r2, sizeof r1);
    xai_model_free(m);
    xai_model_free(m2);
}
END_TEST

START_TEST(test_records_private)
{
    /* the records the forward pass keeps for the relevance are the node's own: no relevance
     * buffer, not found by name; explaining them is refused, and the input relevance of a stack
     * is that of its samples alone (nothing reads a buffer the sweep no longer zeroes) */
    int64_t shape[2] = {6, 3};
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("lstm(5,last) dense(2)", 2, shape, 4, &m), XAI_OK);
    int v = -1;
    for (int i = 0; i < m->nnodes; i++)
        if (m->nodes[i].kind == K_LSTM)
            v = m->nodes[i].out[3];
    ck_assert_int_ge(v, 0);
    ck_assert(m->vals[v].no_adj);
    char name[256];
    snprintf(name, sizeof name, "%s", m->vals[v].name);
    ck_assert_int_eq(xai_model_find_value(m, name), -1);
    float x[3 * 18], r[3 * 18], r1[18], out[512];
    for (int k = 0; k < 3 * 18; k++)
        x[k] = (float)sin(1.3 * k);
    int64_t per = 0;
    ck_assert_int_eq(xai_explain_value(m, NULL, 1, x, name, out, &per), XAI_EINVAL);
    xai_explain_config c;
    xai_explain_config_init(&c);
    c.bias_factor = 1.0f;
    ck_assert_int_eq(xai_explain(m, &c, 3, x, r, NULL), XAI_OK);
    for (int s = 0; s < 3; s++) {
        ck_assert_int_eq(xai_explain(m, &c, 1, x + 18 * s, r1, NULL), XAI_OK);
        ck_assert_mem_eq(r1, r + 18 * s, sizeof r1);
    }
    xai_model_free(m);
}
END_TEST

START_TEST(test_isa_identical)
{
    /* the recurrent, input and input-relevance products on the AVX2/FMA kernels and on the
     * portable loops agree bitwise: H = 50, 20, 13 and 11 and D = 5 and 50 give column tiles of
     * every width (48, 32, 16, under 16, a remainder under 4 or 8), a stack of 5 rows in pairs
     * and alone; forward, LRP with beta 1 and gradient */
    static const char *const specs[4] = {"lstm(50,bidirectional,last) dense(3)", "lstm(13,all) lstm(13,last) dense(2)",
                                         "lstm(20,all) lstm(11,last) dense(2)", "lstm(20,bidirectional,last) dense(2)"};
    static const int64_t Ds[4] = {5, 5, 5, 50};
    const int top = xai_dconv_isa(2);
    if (top == 0)
        printf("lstm: this CPU has only the portable kernels; nothing to compare\n");
    enum { N = 5, T = 7, DMAX = 50 };
    static float x[N * T * DMAX], r0[N * T * DMAX], r[N * T * DMAX];
    for (int k = 0; k < N * T * DMAX; k++)
        x[k] = (float)sin(0.61 * k);
    for (int i = 0; i < 4; i++) {
        xai_model *m;
        int64_t shape[2] = {T, Ds[i]}, nx = N * T * Ds[i];
        ck_assert_int_eq(xai_model_from_spec(specs[i], 2, shape, 7, &m), XAI_OK);
        for (int meth = 0; meth < 2; meth++) {
            xai_explain_config c;
            xai_explain_config_init(&c);
            c.method = meth ? XAI_METHOD_GRADIENT : XAI_METHOD_LRP;
            c.bias_factor = 1.0f;
            xai_dconv_isa(2);
            ck_assert_int_eq(xai_explain(m, &c, N, x, r0, NULL), XAI_OK);
            double mag = 0;
            for (int64_t k = 0; k < nx; k++)
                mag += fabs(r0[k]);
            ck_assert_msg(mag > 0 && isfinite(mag), "%s: relevance sum %g", specs[i], mag);
            for (int isa = top - 1; isa >= 0; isa--) {
                ck_assert_int_eq(xai_dconv_isa(isa), isa);
                ck_assert_int_eq(xai_explain(m, &c, N, x, r, NULL), XAI_OK);
                ck_assert_msg(!memcmp(r, r0, sizeof(float) * (size_t)nx), "%s (%s): instruction set %d differs from %d",
                              specs[i], meth ? "gradient" : "LRP", isa, top);
            }
        }
        xai_dconv_isa(2);
        xai_model_free(m);
    }
}
END_TEST

/* distance of f from the double d in units of the float spacing at d */
static double ulps(float f, double d)
{
    float fd = (float)d;
    double sp = (double)nextafterf(fabsf(fd), INFINITY) - (double)fabsf(fd);
    return fabs((double)f - d) / sp;
}

START_TEST(test_gate_functions)
{
    /* the float gates against libm in double: a few ulp on a grid over the range where the
       results are not saturated, limits and NaN outside it */
    double ws = 0, wt = 0;
    for (int k = -200000; k <= 200000; k++) {
        float x = (float)k * 2e-4f + (float)k * (float)k * 1e-9f * (k < 0 ? -1.0f : 1.0f);
        double s = ulps(xai_vsigmoidf(x), 1.0 / (1.0 + exp(-(double)x)));
        double t = x == 0.0f ? 0.0 : ulps(xai_vtanhf(x), tanh((double)x));
        ws = s > ws ? s : ws;
        wt = t > wt ? t : wt;
    }
    ck_assert_msg(ws <= 3.0 && wt <= 3.0, "sigmoid %g ulp, tanh %g ulp", ws, wt);
    ck_assert(xai_vsigmoidf(-INFINITY) < 1e-37f && xai_vsigmoidf(INFINITY) == 1.0f);
    ck_assert(xai_vtanhf(INFINITY) == 1.0f && xai_vtanhf(-INFINITY) == -1.0f);
    ck_assert(isnan(xai_vsigmoidf(NAN)) && isnan(xai_vtanhf(NAN)));
    ck_assert(xai_vtanhf(-0.0f) == 0.0f && signbit(xai_vtanhf(-0.0f)));
    /* the array form skips a branch no element needs but gives the same bits: vectors with only
       small, only large and mixed magnitudes */
    float in[3][37], out[37];
    for (int j = 0; j < 37; j++) {
        in[0][j] = (float)(j - 18) * 0.019f;
        in[1][j] = (j % 2 ? -1.0f : 1.0f) * (0.35f + (float)j * 0.4f);
        in[2][j] = (float)(j - 18) * 0.11f;
    }
    for (int v = 0; v < 3; v++) {
        xai_vtanh_array(37, in[v], out);
        for (int j = 0; j < 37; j++) {
            float want = xai_vtanhf(in[v][j]);
            ck_assert_msg(memcmp(&out[j], &want, sizeof want) == 0, "vector %d element %d", v, j);
        }
    }
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("lstm");
    TCase *tr = tcase_create("reference");
    tcase_add_test(tr, test_threads_identical);
    tcase_add_test(tr, test_records_private);
    tcase_add_test(tr, test_isa_identical);
    tcase_add_test(tr, test_gate_functions);
    tcase_add_test(tr, test_weights_changed);
    tcase_add_test(tr, test_reference_uni);
    tcase_add_test(tr, test_reference_bidi);
    suite_add_tcase(s, tr);
    TCase *tf = tcase_create("fixtures");
    tcase_add_loop_test(tf, test_fixture_lrp, 0, NFIX);
    tcase_add_loop_test(tf, test_fixture_stack, 0, NFIX);
    tcase_add_loop_test(tf, test_fixture_gradient_fd, 0, NFIX);
    tcase_add_loop_test(tf, test_fixture_param_grad_fd, 0, NFIX);
    tcase_add_test(tf, test_param_grad_partial);
    tcase_add_test(tf, test_lens_padding);
    tcase_add_test(tf, test_rule_override);
    tcase_add_test(tf, test_bad_nodes);
    suite_add_tcase(s, tf);
    TCase *tc = tcase_create("cnn_lstm");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_cnn_lstm_lrp, 0, PATTERNS);
    tcase_add_test(tc, test_lstm_patterns_lrp);
    tcase_add_loop_test(tc, test_folder_gradient_fd, 0, NFOLD);
    tcase_add_loop_test(tc, test_folder_stack, 0, NFOLD);
    suite_add_tcase(s, tc);
    return s;
}
