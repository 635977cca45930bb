/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-reference.c - the read-out's reference point (arch `reference`, xai_model_set_reference):
 * the logits do not move, the constant is the training mean of the node's input, LRP credits
 * each feature with (x - mean) w / z (checked against weights measured by finite differences),
 * the node passes relevance unchanged (conservation), the ONNX file round-trips, and every
 * refusal leaves the model as it was.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"
#include "xai.h"
#include "xai/clarc.h"
#include "xai/train.h"

static xai_model *build(const char *spec, int64_t f)
{
    xai_model *m = NULL;
    ck_assert_msg(xai_model_from_spec(spec, 1, &f, 7, &m) == XAI_OK, "%s: %s", spec, xai_last_error());
    return m;
}

/* n samples of f values, not centred (mean about 1.5) so that the reference matters */
static float *samples(int64_t n, int64_t f, uint64_t seed)
{
    float *x = malloc(sizeof(float) * (size_t)(n * f));
    ck_assert_ptr_nonnull(x);
    for (int64_t i = 0; i < n * f; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = 1.5f + (float)((double)(seed >> 11) / 9007199254740992.0 - 0.5) * 2.0f;
    }
    return x;
}

static float *logits(const xai_model *m, int64_t n, const float *x)
{
    int64_t k = xai_model_output_numel(m);
    float *y = malloc(sizeof(float) * (size_t)(n * k));
    xai_workspace *ws = NULL;
    ck_assert_ptr_nonnull(y);
    ck_assert_int_eq(xai_workspace_new(m, n, &ws), XAI_OK);
    ck_assert_int_eq(xai_model_forward(m, ws, n, x, y), XAI_OK);
    xai_workspace_free(ws);
    return y;
}

static double max_abs_diff(const float *a, const float *b, int64_t n)
{
    double e = 0;
    for (int64_t i = 0; i < n; i++)
        e = fmax(e, fabs((double)a[i] - b[i]));
    return e;
}

/* logits unchanged; the constant is the mean of the node's input over the samples */
START_TEST(test_logits_kept)
{
    xai_model *m = build("dense(6) relu reference dropout dense(3)", 5);
    const int64_t n = 40;
    float *x = samples(n, 5, 1), *y0 = logits(m, n, x);
    float acts[40 * 6];
    int64_t d = 0;
    ck_assert_int_eq(xai_layer_activations(m, "relu1", n, x, acts, &d), XAI_OK);
    ck_assert_int_eq(d, 6);
    ck_assert_int_eq(xai_model_set_reference(m, n, x), XAI_OK);
    float *y1 = logits(m, n, x);
    ck_assert_msg(max_abs_diff(y0, y1, n * 3) < 1e-5, "logits moved by %g", max_abs_diff(y0, y1, n * 3));
    /* z = x - c at the node's output: its mean over the same samples is 0 */
    float z[40 * 6];
    ck_assert_int_eq(xai_layer_activations(m, "reference2", n, x, z, &d), XAI_OK);
    for (int64_t j = 0; j < 6; j++) {
        double mz = 0, ma = 0;
        for (int64_t i = 0; i < n; i++)
            mz += z[i * 6 + j] / (double)n, ma += acts[i * 6 + j] / (double)n;
        ck_assert_msg(fabs(mz) < 1e-5 * (1 + fabs(ma)), "feature %lld: mean deviation %g", (long long)j, mz);
    }
    free(x), free(y0), free(y1);
    xai_model_free(m);
}
END_TEST

/* LRP-epsilon through reference + dense: R_i = (x_i - c_i) w_ki / z_k, with w measured by finite
   differences of the logits and c the training mean; the reference node conserves relevance */
START_TEST(test_lrp_values)
{
    const int64_t f = 4, n = 30;
    xai_model *m = build("reference dense(2)", f);
    float *x = samples(n, f, 2);
    ck_assert_int_eq(xai_model_set_reference(m, n, x), XAI_OK);
    double c[4] = {0};
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < f; j++)
            c[j] += x[i * f + j] / (double)n;
    float probe[5 * 4] = {0.3f, 2.0f, -1.0f, 1.1f};
    for (int64_t j = 0; j < f; j++) { /* probe + unit steps: w_kj = logit_k(probe + e_j) - logit_k(probe) */
        memcpy(probe + (j + 1) * f, probe, sizeof(float) * (size_t)f);
        probe[(j + 1) * f + j] += 1.0f;
    }
    float *y = logits(m, 5, probe);
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    cfg.composite = "epsilon";
    cfg.epsilon = 1e-9f;
    for (int k = 0; k < 2; k++) {
        cfg.target = k;
        float rel[4];
        xai_explain_result res;
        ck_assert_int_eq(xai_explain(m, &cfg, 1, probe, rel, &res), XAI_OK);
        for (int64_t j = 0; j < f; j++) {
            double w = (double)y[(j + 1) * 2 + k] - y[k];
            double want = (probe[j] - c[j]) * w / y[k];
            ck_assert_msg(fabs(rel[j] - want) < 1e-3 * (1 + fabs(want)), "class %d feature %lld: %g, want %g", k,
                          (long long)j, rel[j], want);
        }
        int found = 0;
        for (int l = 0; l < res.nlayers; l++)
            if (!strcmp(res.layer_op[l], "Sub")) {
                found = 1;
                ck_assert_str_eq(res.layer_rule[l], "pass");
                ck_assert_msg(fabs(res.layer_in_sum[l] - res.layer_out_sum[l]) < 1e-6 * (1 + fabs(res.layer_out_sum[l])),
                              "reference node: %g in, %g out", res.layer_in_sum[l], res.layer_out_sum[l]);
            }
        ck_assert(found);
        xai_explain_result_free(&res);
    }
    free(y), free(x);
    xai_model_free(m);
}
END_TEST

/* the written ONNX file holds the reference: same logits and maps after loading it again */
START_TEST(test_onnx_round_trip)
{
    xai_model *m = build("dense(5) relu reference dense(2)", 6), *r = NULL;
    const int64_t n = 12;
    float *x = samples(n, 6, 3);
    ck_assert_int_eq(xai_model_set_reference(m, n, x), XAI_OK);
    void *bytes = NULL;
    size_t len = 0;
    ck_assert_int_eq(xai_model_save_onnx_mem(m, NULL, &bytes, &len), XAI_OK);
    ck_assert_int_eq(xai_model_load_onnx_mem(bytes, len, "reference.onnx", NULL, &r), XAI_OK);
    free(bytes);
    float *y0 = logits(m, n, x), *y1 = logits(r, n, x);
    ck_assert(max_abs_diff(y0, y1, n * 2) == 0);
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    float a[12 * 6], b[12 * 6];
    ck_assert_int_eq(xai_explain(m, &cfg, n, x, a, NULL), XAI_OK);
    ck_assert_int_eq(xai_explain(r, &cfg, n, x, b, NULL), XAI_OK);
    ck_assert(max_abs_diff(a, b, n * 6) == 0);
    free(x), free(y0), free(y1);
    xai_model_free(m);
    xai_model_free(r);
}
END_TEST

/* refusals name the reason and leave the model as it was */
START_TEST(test_refusals)
{
    const int64_t n = 20;
    float *x = samples(n, 5, 4);
    struct {
        const char *spec, *words;
    } bad[] = {
        {"dense(4) relu dense(2)", "0 reference nodes"},
        {"reference dense(4) reference dense(2)", "2 reference nodes"},
        {"dense(4) reference relu dense(2)", "not affine"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xai_model *m = build(bad[i].spec, 5);
        float *y0 = logits(m, n, x);
        ck_assert_int_eq(xai_model_set_reference(m, n, x), XAI_EINVAL);
        ck_assert_msg(strstr(xai_last_error(), bad[i].words), "%s: %s", bad[i].spec, xai_last_error());
        float *y1 = logits(m, n, x);
        ck_assert_msg(max_abs_diff(y0, y1, n * 2) == 0, "%s: the model changed", bad[i].spec);
        free(y0), free(y1);
        xai_model_free(m);
    }
    ck_assert_int_eq(xai_model_set_reference(NULL, n, x), XAI_EINVAL);
    free(x);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("reference");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_logits_kept);
    tcase_add_test(tc, test_lrp_values);
    tcase_add_test(tc, test_onnx_round_trip);
    tcase_add_test(tc, test_refusals);
    suite_add_tcase(s, tc);
    return s;
}
