/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-prune.c - structured pruning: which layers are prunable, unit selection by hand-made
 * scores (per layer and global with per-layer L1 normalisation), the masked and the
 * physically pruned model give the same logits at several rates under every criterion, the
 * pruned model is smaller in parameters and FLOPs, a dead unit scores zero under LRP,
 * Taylor and weight and goes first, models without a prunable layer are refused, and the LRP
 * criterion equals Yeom et al.'s, computed by hand on a tiny network, with its bias-free conv
 * rule, the gradient and Taylor criteria (loss and logit versions) equal their values by hand,
 * and global ranking normalises by the L1 or the L2 norm.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"
#include "xai.h"

#define SPEC "conv2d(6,k=3,p=1) bn relu maxpool(2) conv2d(5,k=3,p=1) relu flatten dropout(0.5) dense(7) relu dense(3)"
#define NS 24

static const int64_t in_shape[3] = {2, 8, 8};

static xai_model *load_bytes(const void *b, size_t len)
{
    xai_model *m = NULL;
    ck_assert_msg(xai_model_load_onnx_mem(b, len, "pruned", NULL, &m) == XAI_OK, "%s", xai_last_error());
    return m;
}

/* A trained-looking model: random weights, BN statistics away from identity. */
static xai_model *make_model(void)
{
    xai_model *m = NULL;
    ck_assert_msg(xai_model_from_spec(SPEC, 3, in_shape, 7, &m) == XAI_OK, "%s", xai_last_error());
    return m;
}

static float *inputs(void)
{
    float *x = malloc(sizeof(float) * NS * 128);
    uint64_t s = 99;
    for (int i = 0; i < NS * 128; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 2 - 1);
    }
    return x;
}

static void logits(const xai_model *m, const float *x, float *out)
{
    xai_workspace *ws = NULL;
    ck_assert_int_eq(xai_workspace_new(m, NS, &ws), XAI_OK);
    ck_assert_msg(xai_model_forward(m, ws, NS, x, out) == XAI_OK, "%s", xai_last_error());
    xai_workspace_free(ws);
}

START_TEST(test_layers)
{
    xai_model *m = make_model();
    xai_prune_plan *p = NULL;
    ck_assert_msg(xai_prune_plan_new(m, &p) == XAI_OK, "%s", xai_last_error());
    /* conv1 -> conv2, conv2 -> flatten -> dropout -> dense(7), dense(7) -> dense(3); the output layer stays */
    ck_assert_int_eq(xai_prune_nlayers(p), 3);
    ck_assert_int_eq(xai_prune_layer_units(p, 0), 6);
    ck_assert_int_eq(xai_prune_layer_units(p, 1), 5);
    ck_assert_int_eq(xai_prune_layer_units(p, 2), 7);
    ck_assert_int_eq(xai_prune_total_units(p), 18);
    xai_prune_plan_free(p);
    xai_model_free(m);
    /* nothing to prune: one Dense layer; a Sigmoid does not keep zero channels at zero */
    const char *none[] = {"flatten dense(3)", "conv2d(4,k=3) sigmoid flatten dense(2)"};
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(xai_model_from_spec(none[i], 3, in_shape, 1, &m), XAI_OK);
        ck_assert_int_eq(xai_prune_plan_new(m, &p), XAI_EINVAL);
        ck_assert_ptr_nonnull(strstr(xai_last_error(), "no prunable layer"));
        ck_assert_ptr_null(p);
        xai_model_free(m);
    }
}
END_TEST

START_TEST(test_select)
{
    xai_model *m = make_model();
    xai_prune_plan *p = NULL;
    ck_assert_int_eq(xai_prune_plan_new(m, &p), XAI_OK);
    double s[18] = {3, 1, 2, 6, 5, 4, /* layer 0 */ 10, 50, 40, 30, 25, /* layer 1 */ 2, 2, 2, 2, 2, 2, 3};
    unsigned char keep[18];
    int64_t np;
    /* per layer, half: floor(3), floor(2.5), floor(3.5) lowest of each; ties to the lower index */
    ck_assert_int_eq(xai_prune_select(p, s, 0.5, 0, keep, &np), XAI_OK);
    ck_assert_int_eq(np, 3 + 2 + 3);
    const unsigned char want[18] = {0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1};
    ck_assert_mem_eq(keep, want, 18);
    /* global: scores over each layer's L1 norm (21, 155, 15): 1/21, 10/155, 2/21, then three of
       layer 2's tied 2/15 (lower index first) */
    ck_assert_int_eq(xai_prune_select(p, s, 6.0 / 18.0, 1, keep, &np), XAI_OK);
    ck_assert_int_eq(np, 6);
    const unsigned char want_g[18] = {1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1};
    ck_assert_mem_eq(keep, want_g, 18);
    ck_assert_int_eq(xai_prune_select_norm(p, s, 6.0 / 18.0, 1, XAI_PRUNE_NORM_L1, keep, &np), XAI_OK);
    ck_assert_mem_eq(keep, want_g, 18);
    /* over each layer's L2 norm instead (sqrt 91, sqrt 5725, sqrt 33), as Yeom et al. for the
       gradient and Taylor criteria: 1/9.54, 10/75.7, 2/9.54, 3/9.54, 25/75.7, then one 2/5.74 */
    ck_assert_int_eq(xai_prune_select_norm(p, s, 6.0 / 18.0, 1, XAI_PRUNE_NORM_L2, keep, &np), XAI_OK);
    ck_assert_int_eq(np, 6);
    const unsigned char want_l2[18] = {0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1};
    ck_assert_mem_eq(keep, want_l2, 18);
    /* per layer, the norm changes nothing */
    ck_assert_int_eq(xai_prune_select_norm(p, s, 0.5, 0, XAI_PRUNE_NORM_L2, keep, &np), XAI_OK);
    ck_assert_mem_eq(keep, want, 18);
    ck_assert_int_eq(xai_prune_select_norm(p, s, 0.5, 1, (xai_prune_norm)7, keep, &np), XAI_EINVAL);
    ck_assert_int_eq(xai_prune_criterion_norm(XAI_PRUNE_LRP), XAI_PRUNE_NORM_L1);
    ck_assert_int_eq(xai_prune_criterion_norm(XAI_PRUNE_WEIGHT), XAI_PRUNE_NORM_L1);
    ck_assert_int_eq(xai_prune_criterion_norm(XAI_PRUNE_GRADIENT), XAI_PRUNE_NORM_L2);
    ck_assert_int_eq(xai_prune_criterion_norm(XAI_PRUNE_TAYLOR), XAI_PRUNE_NORM_L2);
    /* every layer keeps a unit */
    ck_assert_int_eq(xai_prune_select(p, s, 0.99, 0, keep, &np), XAI_OK);
    ck_assert_int_eq(np, 5 + 4 + 6);
    ck_assert_int_eq(xai_prune_select(p, s, 1.0, 0, keep, &np), XAI_EINVAL);
    xai_prune_plan_free(p);
    xai_model_free(m);
}
END_TEST

/* Conv filters only (Yeom et al.'s CNN setting): the conv layers with the same units and scores
   as in the full plan, the Dense layer whole in the pruned model, masked = pruned logits. */
START_TEST(test_conv_units)
{
    xai_model *m = make_model(), *lin = NULL;
    float *x = inputs(), a[NS * 3], b[NS * 3];
    xai_prune_plan *p = NULL, *all = NULL;
    ck_assert_msg(xai_prune_plan_new_units(m, XAI_PRUNE_UNITS_CONV, &p) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(xai_prune_plan_new(m, &all), XAI_OK);
    ck_assert_int_eq(xai_prune_nlayers(p), 2);
    ck_assert_int_eq(xai_prune_total_units(p), 11);
    for (int l = 0; l < 2; l++)
        ck_assert_str_eq(xai_prune_layer_name(p, l), xai_prune_layer_name(all, l));
    double s[11], sa[18];
    ck_assert_int_eq(xai_prune_score(p, m, XAI_PRUNE_LRP, NULL, NS, x, NULL, s), XAI_OK);
    ck_assert_int_eq(xai_prune_score(all, m, XAI_PRUNE_LRP, NULL, NS, x, NULL, sa), XAI_OK);
    for (int i = 0; i < 11; i++)
        ck_assert_double_eq(s[i], sa[i]);
    unsigned char keep[11];
    int64_t np = 0;
    ck_assert_int_eq(xai_prune_select(p, s, 0.5, 1, keep, &np), XAI_OK);
    ck_assert_int_eq(np, 5);
    void *mb, *pb;
    size_t ml, pl;
    ck_assert_int_eq(xai_prune_write(p, keep, 0, &mb, &ml), XAI_OK);
    ck_assert_int_eq(xai_prune_write(p, keep, 1, &pb, &pl), XAI_OK);
    xai_model *mm = load_bytes(mb, ml), *pm = load_bytes(pb, pl);
    logits(mm, x, a);
    logits(pm, x, b);
    for (int i = 0; i < NS * 3; i++)
        ck_assert_msg(fabsf(a[i] - b[i]) <= 1e-5f * (1 + fabsf(a[i])), "logit %d %g vs %g", i, a[i], b[i]);
    xai_prune_plan *pp = NULL; /* the Dense layer kept its 7 units */
    ck_assert_int_eq(xai_prune_plan_new(pm, &pp), XAI_OK);
    ck_assert_int_eq(xai_prune_layer_units(pp, 2), 7);
    ck_assert_int_eq(xai_prune_total_units(pp), 18 - 5);
    xai_prune_plan_free(pp);
    xai_model_free(mm);
    xai_model_free(pm);
    free(mb);
    free(pb);
    /* a model of Dense layers only has no conv candidate */
    ck_assert_int_eq(xai_model_from_spec("flatten dense(5) relu dense(3)", 3, in_shape, 1, &lin), XAI_OK);
    ck_assert_int_eq(xai_prune_plan_new_units(lin, XAI_PRUNE_UNITS_CONV, &pp), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "no prunable layer (a Conv whose"));
    ck_assert_int_eq(xai_prune_plan_new_units(lin, XAI_PRUNE_UNITS_ALL, &pp), XAI_OK);
    ck_assert_int_eq(xai_prune_total_units(pp), 5);
    xai_prune_plan_free(pp);
    xai_model_free(lin);
    xai_prune_plan_free(p);
    xai_prune_plan_free(all);
    xai_model_free(m);
    free(x);
}
END_TEST

/* Masked and pruned models agree under every criterion and rate; the pruned one is smaller. */
START_TEST(test_masked_equals_pruned)
{
    xai_model *m = make_model();
    float *x = inputs(), a[NS * 3], b[NS * 3];
    xai_prune_plan *p = NULL;
    ck_assert_int_eq(xai_prune_plan_new(m, &p), XAI_OK);
    int64_t p0, f0;
    xai_model_cost(m, &p0, &f0);
    for (int c = 0; c < XAI_PRUNE_GRADIENT_LOGIT; c++) { /* the logit variants: test_gradient_taylor_by_hand */
        double s[18];
        ck_assert_msg(xai_prune_score(p, m, (xai_prune_criterion)c, NULL, NS, x, NULL, s) == XAI_OK, "%s: %s",
                      xai_prune_criterion_name((xai_prune_criterion)c), xai_last_error());
        for (int i = 0; i < 18; i++)
            ck_assert(isfinite(s[i]));
        for (int r = 1; r <= 3; r++) {
            unsigned char keep[18];
            void *mb, *pb;
            size_t ml, pl;
            ck_assert_int_eq(xai_prune_select(p, s, 0.25 * r, r == 2, keep, NULL), XAI_OK);
            ck_assert_int_eq(xai_prune_write(p, keep, 0, &mb, &ml), XAI_OK);
            ck_assert_msg(xai_prune_write(p, keep, 1, &pb, &pl) == XAI_OK, "%s", xai_last_error());
            xai_model *mm = load_bytes(mb, ml), *pm = load_bytes(pb, pl);
            logits(mm, x, a);
            logits(pm, x, b);
            for (int i = 0; i < NS * 3; i++)
                ck_assert_msg(fabsf(a[i] - b[i]) <= 1e-5f * (1 + fabsf(a[i])), "%s rate %.2f: logit %d %g vs %g",
                              xai_prune_criterion_name((xai_prune_criterion)c), 0.25 * r, i, a[i], b[i]);
            int64_t p1, f1, p2, f2;
            xai_model_cost(mm, &p1, &f1);
            xai_model_cost(pm, &p2, &f2);
            ck_assert_int_eq(p1, p0);
            ck_assert_int_eq(f1, f0);
            ck_assert_int_lt(p2, p0);
            ck_assert_int_lt(f2, f0);
            xai_model_free(mm);
            xai_model_free(pm);
            free(mb);
            free(pb);
        }
    }
    /* keeping everything changes nothing */
    unsigned char all[18];
    memset(all, 1, sizeof all);
    void *kb;
    size_t kl;
    ck_assert_int_eq(xai_prune_write(p, all, 1, &kb, &kl), XAI_OK);
    xai_model *km = load_bytes(kb, kl);
    logits(m, x, a);
    logits(km, x, b);
    ck_assert_mem_eq(a, b, sizeof a);
    xai_model_free(km);
    free(kb);
    xai_prune_plan_free(p);
    xai_model_free(m);
    free(x);
}
END_TEST

/* The read-out's reference (x - c after flatten, as xai-eeg builds it): the last conv layer is
   still a candidate, and masking (c zeroed for the removed channels) equals removal (c shortened). */
START_TEST(test_reference_readout)
{
    xai_model *m = NULL;
    ck_assert_int_eq(xai_model_from_spec("conv2d(6,k=3,p=1) bn relu maxpool(2) conv2d(5,k=3,p=1) relu flatten "
                                         "reference dropout(0.5) dense(3)", 3, in_shape, 7, &m), XAI_OK);
    float *x = inputs(), a[NS * 3], b[NS * 3];
    ck_assert_int_eq(xai_model_set_reference(m, NS, x), XAI_OK);
    xai_prune_plan *p = NULL;
    ck_assert_msg(xai_prune_plan_new(m, &p) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(xai_prune_nlayers(p), 2);
    ck_assert_int_eq(xai_prune_layer_units(p, 1), 5);
    double s[11] = {1, 2, 3, 4, 5, 6, /* layer 1 */ 5, 1, 4, 2, 3};
    unsigned char keep[11];
    ck_assert_int_eq(xai_prune_select(p, s, 0.4, 0, keep, NULL), XAI_OK);
    ck_assert(!keep[7] && !keep[9]); /* two of layer 1's five go */
    void *mb, *pb;
    size_t ml, pl;
    ck_assert_int_eq(xai_prune_write(p, keep, 0, &mb, &ml), XAI_OK);
    ck_assert_msg(xai_prune_write(p, keep, 1, &pb, &pl) == XAI_OK, "%s", xai_last_error());
    xai_model *mm = load_bytes(mb, ml), *pm = load_bytes(pb, pl);
    logits(mm, x, a);
    logits(pm, x, b);
    for (int i = 0; i < NS * 3; i++)
        ck_assert_msg(fabsf(a[i] - b[i]) <= 1e-5f * (1 + fabsf(a[i])), "logit %d: masked %g, pruned %g", i, a[i],
                      b[i]);
    xai_model_free(mm);
    xai_model_free(pm);
    free(mb);
    free(pb);
    xai_prune_plan_free(p);
    xai_model_free(m);
    free(x);
}
END_TEST

/* A unit with no weights: zero under LRP, Taylor and weight, and the first to go. */
START_TEST(test_dead_unit)
{
    xai_model *m0 = make_model();
    float *x = inputs();
    xai_prune_plan *p = NULL;
    ck_assert_int_eq(xai_prune_plan_new(m0, &p), XAI_OK);
    unsigned char keep[18];
    memset(keep, 1, sizeof keep);
    keep[8] = 0; /* conv2, unit 2 */
    void *b;
    size_t len;
    ck_assert_int_eq(xai_prune_write(p, keep, 0, &b, &len), XAI_OK);
    xai_prune_plan_free(p);
    xai_model *m = load_bytes(b, len);
    free(b);
    ck_assert_int_eq(xai_prune_plan_new(m, &p), XAI_OK);
    const xai_prune_criterion cs[3] = {XAI_PRUNE_LRP, XAI_PRUNE_TAYLOR, XAI_PRUNE_WEIGHT};
    for (int k = 0; k < 3; k++) {
        double s[18];
        ck_assert_int_eq(xai_prune_score(p, m, cs[k], NULL, NS, x, NULL, s), XAI_OK);
        ck_assert_msg(s[8] == 0, "%s: dead unit scores %g", xai_prune_criterion_name(cs[k]), s[8]);
        for (int i = 6; i < 11; i++)
            ck_assert_msg(i == 8 || s[i] != 0, "%s: unit %d scores 0", xai_prune_criterion_name(cs[k]), i);
        ck_assert_int_eq(xai_prune_select(p, s, 0.2, 0, keep, NULL), XAI_OK); /* one of conv2's five */
        ck_assert_int_eq(keep[8], 0);
        ck_assert_int_eq(keep[6] + keep[7] + keep[9] + keep[10], 4);
    }
    ck_assert_int_eq(xai_prune_score(p, m, XAI_PRUNE_LRP, NULL, 0, NULL, NULL, (double[18]){0}), XAI_EINVAL);
    xai_prune_criterion c;
    ck_assert_int_eq(xai_prune_criterion_parse("taylor", &c), XAI_OK);
    ck_assert_int_eq(c, XAI_PRUNE_TAYLOR);
    ck_assert_int_eq(xai_prune_criterion_parse("l1", &c), XAI_EINVAL);
    xai_prune_plan_free(p);
    xai_model_free(m);
    xai_model_free(m0);
    free(x);
}
END_TEST

/* The LRP criterion of Yeom et al. 2021 by hand on tests/data/onnx/prune/yeom.onnx: x [2][2]
 * -> conv0 (1x1) -> relu -> conv1 (1x1) -> relu -> flatten -> dense (2 classes); no conv
 * biases (yeom-bias.onnx: the biases YB0, YB1). Relevance 1 at the true class; epsilon on the
 * dense layer; z+ (alpha1-beta0) on conv1, its denominator without the bias as Yeom et al.'s
 * (zplus-nobias, the default) or with b+ (plain zplus, @p zplus_bias); a filter's score is the
 * sum over positions of |R| at its output, averaged over the samples. */
static const float YW0[2][2] = {{1, 0.5f}, {-0.5f, 1}}, YW1[2][2] = {{1, -1}, {0.5f, 2}};
static const float YW2[2][4] = {{1, -1, 0.5f, 0.25f}, {-0.5f, 1, 1, -1}}, YB2[2] = {0.1f, -0.2f};
static const float YB0[2] = {0.25f, -0.5f}, YB1[2] = {0.5f, -0.25f};

typedef struct {
    int bias;       /* the model has the conv biases YB0, YB1 */
    int zplus_bias; /* conv1's z+ denominator has b+ */
} yeom_case;

static void yeom_by_hand(const yeom_case *yc, const float *x, int y, double s0[2], double s1[2], double *signed1)
{
    double a0[2][2], a1[2][2], r1[2][2], z = YB2[y];
    for (int p = 0; p < 2; p++)
        for (int c = 0; c < 2; c++) {
            double v = YW0[c][0] * x[p] + YW0[c][1] * x[2 + p] + (yc->bias ? YB0[c] : 0);
            a0[c][p] = v > 0 ? v : 0;
        }
    for (int p = 0; p < 2; p++)
        for (int c = 0; c < 2; c++) {
            double v = YW1[c][0] * a0[0][p] + YW1[c][1] * a0[1][p] + (yc->bias ? YB1[c] : 0);
            a1[c][p] = v > 0 ? v : 0;
            z += YW2[y][c * 2 + p] * a1[c][p];
        }
    double zs = z + (z >= 0 ? 1e-6 : -1e-6); /* the epsilon rule's stabiliser */
    for (int c = 0; c < 2; c++) {
        for (int p = 0; p < 2; p++) {
            r1[c][p] = a1[c][p] * YW2[y][c * 2 + p] / zs;
            s1[c] += fabs(r1[c][p]);
        }
        signed1[c] += fabs(r1[c][0] + r1[c][1]);
    }
    double r0[2][2] = {{0}};
    for (int p = 0; p < 2; p++)
        for (int c = 0; c < 2; c++) { /* z+: positive weights, inputs >= 0 after the ReLU */
            double zp = yc->bias && yc->zplus_bias && YB1[c] > 0 ? YB1[c] : 0;
            for (int i = 0; i < 2; i++)
                zp += a0[i][p] * (YW1[c][i] > 0 ? YW1[c][i] : 0);
            for (int i = 0; zp > 0 && i < 2; i++)
                r0[i][p] += a0[i][p] * (YW1[c][i] > 0 ? YW1[c][i] : 0) / (zp + 1e-6) * r1[c][p];
        }
    for (int i = 0; i < 2; i++)
        s0[i] += fabs(r0[i][0]) + fabs(r0[i][1]);
}

/* the criterion of @p m under @p cfg (NULL: the defaults) against yeom_by_hand() */
static void check_yeom(xai_model *m, const yeom_case *yc, const xai_explain_config *cfg, const char *what)
{
    xai_prune_plan *p = NULL;
    ck_assert_int_eq(xai_prune_plan_new(m, &p), XAI_OK);
    ck_assert_int_eq(xai_prune_nlayers(p), 2);
    ck_assert_str_eq(xai_prune_layer_name(p, 0), "conv0");
    const float x[2][4] = {{1, 2, 1, -1}, {2, 0.5f, 0, 1}}; /* [sample][channel][position] */
    const int y[2] = {0, 1};
    double e0[2] = {0}, e1[2] = {0}, signed1[2] = {0}, s[4];
    for (int k = 0; k < 2; k++)
        yeom_by_hand(yc, x[k], y[k], e0, e1, signed1);
    double want[4] = {e0[0] / 2, e0[1] / 2, e1[0] / 2, e1[1] / 2};
    ck_assert_int_eq(xai_prune_score(p, m, XAI_PRUNE_LRP, cfg, 2, &x[0][0], y, s), XAI_OK);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(fabs(s[i] - want[i]) <= 1e-5 * fabs(want[i]) + 1e-9, "%s unit %d: %.9g, by hand %.9g", what, i,
                      s[i], want[i]);
    /* the case the criterion was built for: conv1's filter 0 has relevance of both signs, so
     * sum |R| differs from |sum R| */
    ck_assert_msg(fabs(e1[0] - signed1[0]) > 0.1 * e1[0], "fixture: %g vs %g", e1[0], signed1[0]);
    xai_prune_plan_free(p);
}

START_TEST(test_lrp_criterion_by_hand)
{
    xai_model *m = xai_test_load_model(xai_test_path(xai_test_data_dir(), "onnx/prune/yeom.onnx"));
    /* the start is one-hot whatever the caller's init; batch norm mode does not apply here */
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    cfg.composite = "epsilon-plus";
    cfg.init = XAI_INIT_LOGIT;
    const yeom_case plain = {0, 0};
    check_yeom(m, &plain, NULL, "defaults");
    check_yeom(m, &plain, &cfg, "logit config");
    xai_model_free(m);
}
END_TEST

/* With conv biases: the default criterion leaves conv1's bias out of its z+ denominator, as
 * Yeom et al.; the composite's own z+ puts b+ in, and the scores of conv0 differ. */
START_TEST(test_lrp_criterion_bias_free)
{
    xai_model *m = xai_test_load_model(xai_test_path(xai_test_data_dir(), "onnx/prune/yeom-bias.onnx"));
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    cfg.composite = "epsilon-plus";
    cfg.bn = XAI_BN_PASS;
    const yeom_case nobias = {1, 0}, withb = {1, 1};
    check_yeom(m, &nobias, NULL, "defaults (zplus-nobias)");
    cfg.rules = XAI_PRUNE_LRP_RULES;
    check_yeom(m, &nobias, &cfg, "Conv=zplus-nobias");
    cfg.rules = "Conv=alphabeta-nobias(1,0)";
    check_yeom(m, &nobias, &cfg, "Conv=alphabeta-nobias(1,0)");
    cfg.rules = NULL;
    check_yeom(m, &withb, &cfg, "composite's zplus");
    /* the fixture: b1+ changes conv0's scores by more than float noise */
    const float x[4] = {1, 2, 1, -1};
    double a0[2] = {0}, a1[2] = {0}, b0[2] = {0}, b1[2] = {0}, t[2] = {0};
    yeom_by_hand(&nobias, x, 0, a0, a1, t);
    yeom_by_hand(&withb, x, 0, b0, b1, t);
    ck_assert_msg(fabs(a0[0] - b0[0]) > 1e-3 * a0[0], "fixture: %g vs %g", a0[0], b0[0]);
    xai_model_free(m);
}
END_TEST

/* Forward pass of yeom(-bias).onnx for one sample, each conv unit's output scaled by
   scale[unit] (conv0's two, then conv1's): pre-activations v0, v1 [unit][position], logits z;
   returns the cross-entropy at class y. */
static double yeom_forward(int bias, const float *x, const double scale[4], double v0[2][2], double v1[2][2],
                           double z[2], int y)
{
    for (int c = 0; c < 2; c++)
        for (int p = 0; p < 2; p++)
            v0[c][p] = scale[c] * (YW0[c][0] * x[p] + YW0[c][1] * x[2 + p] + (bias ? YB0[c] : 0));
    for (int c = 0; c < 2; c++)
        for (int p = 0; p < 2; p++)
            v1[c][p] = scale[2 + c] * (YW1[c][0] * fmax(v0[0][p], 0) + YW1[c][1] * fmax(v0[1][p], 0) +
                                       (bias ? YB1[c] : 0));
    for (int k = 0; k < 2; k++) {
        z[k] = YB2[k];
        for (int c = 0; c < 2; c++)
            for (int p = 0; p < 2; p++)
                z[k] += YW2[k][c * 2 + p] * fmax(v1[c][p], 0);
    }
    double mx = fmax(z[0], z[1]);
    return mx + log(exp(z[0] - mx) + exp(z[1] - mx)) - z[y];
}

/* By hand: dL/dv of the conv outputs given dL/dz, for one sample. */
static void yeom_backward(double v0[2][2], double v1[2][2], const double gz[2], double g0[2][2], double g1[2][2])
{
    for (int c = 0; c < 2; c++)
        for (int p = 0; p < 2; p++)
            g1[c][p] = v1[c][p] > 0 ? gz[0] * YW2[0][c * 2 + p] + gz[1] * YW2[1][c * 2 + p] : 0;
    for (int i = 0; i < 2; i++)
        for (int p = 0; p < 2; p++)
            g0[i][p] = v0[i][p] > 0 ? YW1[0][i] * g1[0][p] + YW1[1][i] * g1[1][p] : 0;
}

/* The gradient and Taylor criteria by hand on the Yeom et al. network, with and without conv
 * biases: the loss versions (cross-entropy at the label, summed over samples and positions
 * before |.|, as Yeom et al.'s code) and the per-sample logit versions; the summed a dL/da of a
 * unit is the derivative of the summed loss when the unit's output is scaled (central
 * differences), and the fixture has a unit whose gradient changes sign between the samples. */
START_TEST(test_gradient_taylor_by_hand)
{
    const char *files[2] = {"onnx/prune/yeom.onnx", "onnx/prune/yeom-bias.onnx"};
    const float x[3][4] = {{1, 2, 1, -1}, {2, 0.5f, 0, 1}, {-1, 1, 2, 0.5f}};
    const int y[3] = {0, 1, 1};
    const double one[4] = {1, 1, 1, 1};
    for (int bias = 0; bias < 2; bias++) {
        xai_model *m = xai_test_load_model(xai_test_path(xai_test_data_dir(), files[bias]));
        xai_prune_plan *p = NULL;
        ck_assert_int_eq(xai_prune_plan_new(m, &p), XAI_OK);
        double gs[4] = {0}, ts[4] = {0}, gabs[4] = {0}, gl[4] = {0}, tl[4] = {0};
        for (int k = 0; k < 3; k++) {
            double v[2][2][2], z[2], g[2][2][2], h[2][2][2];
            yeom_forward(bias, x[k], one, v[0], v[1], z, y[k]);
            double pz = 1 / (1 + exp(z[1 - y[k]] - z[y[k]])), gz[2], oh[2] = {y[k] == 0, y[k] == 1};
            gz[y[k]] = pz - 1, gz[1 - y[k]] = 1 - pz;
            yeom_backward(v[0], v[1], gz, g[0], g[1]);
            yeom_backward(v[0], v[1], oh, h[0], h[1]);
            for (int u = 0; u < 4; u++) {
                double tlk = 0;
                for (int q = 0; q < 2; q++) {
                    const double gg = g[u / 2][u % 2][q], hh = h[u / 2][u % 2][q], vv = v[u / 2][u % 2][q];
                    gs[u] += gg, gabs[u] += fabs(gg), ts[u] += vv * gg;
                    gl[u] += fabs(hh) / 3, tlk += vv * hh / 2;
                }
                tl[u] += fabs(tlk) / 3;
            }
        }
        const double *want[4] = {gs, ts, gl, tl};
        const xai_prune_criterion cs[4] = {XAI_PRUNE_GRADIENT, XAI_PRUNE_TAYLOR, XAI_PRUNE_GRADIENT_LOGIT,
                                           XAI_PRUNE_TAYLOR_LOGIT};
        for (int ci = 0; ci < 4; ci++) {
            double sc[4];
            ck_assert_msg(xai_prune_score(p, m, cs[ci], NULL, 3, &x[0][0], y, sc) == XAI_OK, "%s", xai_last_error());
            for (int u = 0; u < 4; u++) {
                double w = ci < 2 ? fabs(want[ci][u]) / 6 : want[ci][u]; /* 3 samples x 2 positions */
                ck_assert_msg(fabs(sc[u] - w) <= 1e-5 * w + 1e-9, "%s bias %d unit %d: %.9g, by hand %.9g",
                              xai_prune_criterion_name(cs[ci]), bias, u, sc[u], w);
            }
        }
        int cancels = 0;
        for (int u = 0; u < 4; u++) {
            double up[4] = {1, 1, 1, 1}, dn[4] = {1, 1, 1, 1}, lp = 0, ln = 0, v[2][2][2], z[2];
            up[u] += 1e-4, dn[u] -= 1e-4;
            for (int k = 0; k < 3; k++) {
                lp += yeom_forward(bias, x[k], up, v[0], v[1], z, y[k]);
                ln += yeom_forward(bias, x[k], dn, v[0], v[1], z, y[k]);
            }
            ck_assert_msg(fabs((lp - ln) / 2e-4 - ts[u]) <= 1e-5 + 1e-4 * fabs(ts[u]), "bias %d unit %d: dL/dscale %g, "
                          "sum a g %g", bias, u, (lp - ln) / 2e-4, ts[u]);
            cancels |= fabs(gs[u]) < 0.9 * gabs[u];
        }
        ck_assert_msg(cancels, "fixture: no unit's gradient changes sign between samples");
        double sc[4];
        ck_assert_int_eq(xai_prune_score(p, m, XAI_PRUNE_GRADIENT, NULL, 3, &x[0][0], (int[3]){0, 2, 1}, sc),
                         XAI_EINVAL);
        xai_prune_plan_free(p);
        xai_model_free(m);
    }
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("prune");
    TCase *tc = tcase_create("prune");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_layers);
    tcase_add_test(tc, test_select);
    tcase_add_test(tc, test_conv_units);
    tcase_add_test(tc, test_masked_equals_pruned);
    tcase_add_test(tc, test_reference_readout);
    tcase_add_test(tc, test_dead_unit);
    tcase_add_test(tc, test_lrp_criterion_by_hand);
    tcase_add_test(tc, test_lrp_criterion_bias_free);
    tcase_add_test(tc, test_gradient_taylor_by_hand);
    suite_add_tcase(s, tc);
    return s;
}
