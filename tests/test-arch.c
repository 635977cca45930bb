/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-arch.c - architecture specs: parse errors point at the offending column and token,
 * built models load with the right input/output shapes and run, parameter counts, seeded
 * determinism, PyTorch-default initialisation statistics, Gemm/LSTM layouts checked by hand,
 * and the ONNX checker + strict shape inference of Debian's python3-onnx on the emitted bytes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"
#include "test-common.h"
#include "xai.h"
#include "xai/train.h"

static xai_model *build(const char *spec, int nd, const int64_t *shape, uint64_t seed)
{
    xai_model *m = NULL;
    xai_status st = xai_model_from_spec(spec, nd, shape, seed, &m);
    ck_assert_msg(st == XAI_OK, "%s: %s", spec, xai_last_error());
    return m;
}

/* ------------------------------------------------------------ errors */

typedef struct {
    const char *spec;
    int nd;
    int64_t shape[5];
    const char *quote;   /* the layer text the message quotes */
    int column;          /* 1-based */
    const char *words;
} bad_spec;

static const bad_spec bad[] = {
    {"conv1d(16,k=)", 2, {8, 100}, "'conv1d(16,k=)'", 13, "expected a number"},
    {"conv1d(16,k=3) foo dense(2)", 2, {8, 100}, "'foo'", 16, "unknown layer 'foo'"},
    {"conv1d(16,k=3) relu", 2, {8, 100}, "'relu'", 16, "last layer must be dense"},
    {"conv1d(16,k=3) dense(2)", 2, {8, 100}, "'dense(2)'", 16, "got [16, 98]"},
    {"conv2d(16,k=3) flatten dense(2)", 2, {8, 100}, "'conv2d(16,k=3)'", 1, "needs a [C, H, W] input, got [8, 100]"},
    {"conv1d(16,k=300) flatten dense(2)", 2, {8, 100}, "'conv1d(16,k=300)'", 1, "does not fit input [8, 100]"},
    {"conv1d(16,k=3,q=2) flatten dense(2)", 2, {8, 100}, "'conv1d(16,k=3,q=2)'", 15, "unknown argument 'q'"},
    {"conv1d(16 k=3) flatten dense(2)", 2, {8, 100}, "'conv1d(16 k='", 10, "separate arguments with ','"},
    {"conv1d(16,k=3 x3) flatten dense(2)", 2, {8, 100}, "'conv1d(16,k=3 x3)'", 14, "unexpected space"},
    {"conv1d(16,k=3x3) flatten dense(2)", 2, {8, 100}, "'conv1d(16,k=3x3)'", 13, "2 values for a 1-D"},
    {"conv1d(16,k=3,g=3) flatten dense(2)", 2, {8, 100}, "'conv1d(16,k=3,g=3)'", 1, "group 3 does not divide"},
    {"conv1d(16,s=2) flatten dense(2)", 2, {8, 100}, "'conv1d(16,s=2)'", 14, "missing kernel size"},
    {"conv1d(k=3) flatten dense(2)", 2, {8, 100}, "'conv1d(k=3)'", 8, "output channels first"},
    {"conv1d(0,k=3) flatten dense(2)", 2, {8, 100}, "'conv1d(0,k=3)'", 8, "at least 1"},
    {"conv1d(1a,k=3) flatten dense(2)", 2, {8, 100}, "'conv1d(1a,k=3)'", 9, "expected a digit"},
    {"timedist(conv2d(4,k=3) flatten) dense(2)", 4, {3, 1, 8, 8}, "'dense(2)'", 33, "must be followed by lstm"},
    {"relu timedist(conv2d(4,k=3)) lstm(3) dense(2)", 4, {3, 1, 8, 8}, "'timedist(conv2d(4,k=3))'", 6,
     "must be the first layer"},
    {"timedist(conv2d(4,k=3) flatten", 4, {3, 1, 8, 8}, "'timedist(conv2d(4,k=3) flatten'", 31, "expected ')'"},
    {"timedist() lstm(2) dense(2)", 4, {3, 1, 8, 8}, "'timedist()'", 10, "needs layers"},
    {"timedist(timedist(relu)) lstm(2) dense(2)", 4, {3, 1, 8, 8}, "'timedist'", 10, "cannot be nested"},
    {"timedist(lstm(3)) lstm(2) dense(2)", 4, {3, 1, 8, 8}, "'lstm(3)'", 10, "not allowed inside timedist"},
    {"dropout(1.5) dense(2)", 1, {8}, "'dropout(1.5)'", 9, "outside [0, 1]"},
    {"dropout(1) dense(2)", 1, {8}, "'dropout(1)'", 9, "below 1"},
    {"dense(2)(", 1, {8}, "'dense(2)('", 9, "expected a space"},
    {"dense(3),dense(2)", 1, {8}, "'dense(3),'", 9, "expected a space"},
    {"", 1, {8}, "''", 1, "empty"},
    {"lstm(4,sideways) dense(2)", 2, {5, 3}, "'lstm(4,sideways)'", 8, "unknown argument 'sideways'"},
    {"lstm(4) dense(2)", 3, {5, 3, 2}, "'lstm(4)'", 1, "needs a sequence"},
    {"conv2d(4,k=3) lstm(4) dense(2)", 3, {1, 8, 8}, "'lstm(4)'", 15, "needs a sequence"},
    {"dense(99999999999)", 1, {8}, "'dense(99999999999)'", 7, "too large"},
    {"maxpool(2,s=0) flatten dense(2)", 2, {8, 100}, "'maxpool(2,s=0)'", 13, "at least 1"},
    {"conv1d(4,k=3,p=3) flatten dense(2)", 2, {8, 100}, "'conv1d(4,k=3,p=3)'", 1, "more than the kernel extent"},
    {"maxpool(4,p=3) flatten dense(2)", 2, {8, 100}, "'maxpool(4,p=3)'", 1, "more than half"},
    {"maxpool(2) dense(2)", 1, {8}, "'maxpool(2)'", 1, "pooling needs"},
    {"leakyrelu(abc) flatten dense(2)", 2, {8, 100}, "'leakyrelu(abc)'", 11, "expected a number"},
    {"dense(10000,)", 1, {8}, "'dense(10000,)'", 13, "expected an argument"},
    {"dense(3,4)", 1, {8}, "'dense(3,4)'", 9, "one argument"},
    {"relu(2) dense(2)", 1, {8}, "'relu(2)'", 6, "no arguments"},
    {"dense", 1, {8}, "'dense'", 6, "expected '('"},
    {"lstm(4,all) bn lstm(2) dense(2)", 2, {5, 3}, "'lstm(2)'", 16, "lstm needs a sequence"},
    {"gap dense(2)", 1, {8}, "'gap'", 1, "gap needs"},
    {"dense(4) (relu) dense(2)", 1, {8}, "'('", 10, "expected a layer name"},
    {"conv3d(4096,k=1) flatten dense(2)", 4, {1, 256, 256, 256}, "'conv3d(4096,k=1)'", 1, "output is too large"},
};

START_TEST(test_errors)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const bad_spec *b = &bad[i];
        void *bytes = (void *)0x1;
        size_t len = 7;
        xai_status st = xai_arch_build_onnx(b->spec, b->nd, b->shape, 1, &bytes, &len);
        const char *msg = xai_last_error();
        ck_assert_msg(st == XAI_EINVAL, "'%s': status %d (%s)", b->spec, st, msg);
        ck_assert_ptr_null(bytes);
        ck_assert_uint_eq(len, 0);
        char col[32];
        snprintf(col, sizeof col, "at column %d:", b->column);
        ck_assert_msg(strncmp(msg, "arch spec: ", 11) == 0, "'%s': message '%s'", b->spec, msg);
        ck_assert_msg(strstr(msg, b->quote) != NULL, "'%s': message '%s' lacks %s", b->spec, msg, b->quote);
        ck_assert_msg(strstr(msg, col) != NULL, "'%s': message '%s' lacks '%s'", b->spec, msg, col);
        ck_assert_msg(strstr(msg, b->words) != NULL, "'%s': message '%s' lacks '%s'", b->spec, msg, b->words);
        /* the checker path gives the same error */
        int64_t np = 5;
        ck_assert_int_eq(xai_arch_param_count(b->spec, b->nd, b->shape, &np), XAI_EINVAL);
        ck_assert_int_eq(np, 0);
        xai_model *m = (xai_model *)0x1;
        ck_assert_int_eq(xai_model_from_spec(b->spec, b->nd, b->shape, 1, &m), XAI_EINVAL);
        ck_assert_ptr_null(m);
    }
}
END_TEST

START_TEST(test_bad_arguments)
{
    void *bytes;
    size_t len;
    int64_t sh[2] = {8, 100};
    ck_assert_int_eq(xai_arch_build_onnx(NULL, 2, sh, 1, &bytes, &len), XAI_EINVAL);
    ck_assert_int_eq(xai_arch_build_onnx("dense(2)", 1, NULL, 1, &bytes, &len), XAI_EINVAL);
    ck_assert_int_eq(xai_arch_build_onnx("flatten dense(2)", 0, sh, 1, &bytes, &len), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "input shape has 0 dimensions"));
    int64_t neg[2] = {8, -3};
    ck_assert_int_eq(xai_arch_build_onnx("flatten dense(2)", 2, neg, 1, &bytes, &len), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "input dimension 1 is -3"));
    int64_t huge[3] = {1 << 20, 1 << 20, 4};
    ck_assert_int_eq(xai_arch_build_onnx("flatten dense(2)", 3, huge, 1, &bytes, &len), XAI_EINVAL);
    int64_t seven[7] = {1, 1, 1, 1, 1, 1, 1};
    ck_assert_int_eq(xai_arch_build_onnx("flatten dense(2)", 7, seven, 1, &bytes, &len), XAI_OK);
    free(bytes);
    int64_t eight[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    ck_assert_int_eq(xai_arch_build_onnx("flatten dense(2)", 8, eight, 1, &bytes, &len), XAI_EINVAL);
    ck_assert_int_eq(xai_arch_build_onnx("dense(2)", 1, sh, 1, NULL, &len), XAI_EINVAL);
    ck_assert_int_eq(xai_model_from_spec("dense(2)", 1, sh, 1, NULL), XAI_EINVAL);
    ck_assert_int_eq(xai_arch_param_count("dense(2)", 1, sh, NULL), XAI_EINVAL);
    /* too many parameters: refused before allocating */
    int64_t big[1] = {1 << 16};
    ck_assert_int_eq(xai_arch_build_onnx("dense(16384)", 1, big, 1, &bytes, &len), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "more than"));
}
END_TEST

/* ------------------------------------------------------------ shapes */

typedef struct {
    const char *spec;
    int nd;
    int64_t shape[5];
    int in_nd;
    int64_t in_shape[6];
    int64_t nout;
    int64_t nparams;
} good_spec;

static const good_spec good[] = {
    /* conv 16*8*7+16 = 912; T: 100 -> 100 (p=3) -> 50 -> (50-8-1)+1 = 42; dense 32*42*10+10 = 13450;
       bn 4*16 = 64; conv2 32*16*5+32 = 2592 */
    {"conv1d(16,k=7,p=3) bn relu maxpool(2) conv1d(32,k=5,d=2) relu flatten dropout(0.5) dense(10)", 2, {8, 100},
     3, {1, 8, 100}, 10, 912 + 64 + 2592 + 13450},
    {"conv2d(8,k=3x3,p=1) relu maxpool(2) conv2d(16,k=3,p=1,s=2) relu gap dense(4)", 3, {3, 32, 32}, 4,
     {1, 3, 32, 32}, 4, (8 * 27 + 8) + (16 * 72 + 16) + (16 * 4 + 4)},
    {"conv3d(8,k=3,p=1) elu avgpool(2,p=1) flatten dense(2)", 4, {1, 8, 8, 8}, 5, {1, 1, 8, 8, 8}, 2,
     (8 * 27 + 8) + (8 * 125 * 2 + 2)},
    {"conv1d(6,k=3,g=2) leakyrelu(0.2) conv1d(4,k=1) tanh gap dense(3)", 2, {4, 20}, 3, {1, 4, 20}, 3,
     (6 * 2 * 3 + 6) + (4 * 6 + 4) + (4 * 3 + 3)},
    {"lstm(32,bidirectional) dense(5)", 2, {50, 6}, 3, {1, 50, 6}, 5,
     (2 * 128 * 6 + 2 * 128 * 32 + 2 * 256) + (64 * 5 + 5)},
    {"lstm(8,all) dense(3)", 2, {10, 4}, 3, {1, 10, 4}, 3, (32 * 4 + 32 * 8 + 64) + (80 * 3 + 3)},
    {"lstm(8,bidirectional,all) lstm(4,last) dense(3)", 2, {10, 4}, 3, {1, 10, 4}, 3,
     (2 * 32 * 4 + 2 * 32 * 8 + 2 * 64) + (16 * 16 + 16 * 4 + 32) + (4 * 3 + 3)},
    {"conv1d(8,k=3) relu lstm(10,all) dense(2)", 2, {4, 30}, 3, {1, 4, 30}, 2,
     (8 * 12 + 8) + (40 * 8 + 40 * 10 + 80) + (28 * 10 * 2 + 2)},
    {"timedist(conv2d(4,k=3,p=1) relu maxpool(2) flatten) lstm(6,bidirectional) dense(2)", 4, {5, 1, 8, 8}, 4,
     {5, 1, 8, 8}, 2, (4 * 9 + 4) + (2 * 24 * 64 + 2 * 24 * 6 + 2 * 48) + (12 * 2 + 2)},
    {"timedist(conv1d(3,k=2) bn sigmoid) lstm(5) dense(4)", 3, {7, 2, 9}, 3, {7, 2, 9}, 4,
     (3 * 4 + 3) + 12 + (20 * 24 + 20 * 5 + 40) + (5 * 4 + 4)},
    {"dense(10) bn tanh dropout dense(3)", 1, {7}, 2, {1, 7}, 3, (70 + 10) + 40 + (30 + 3)},
    {" dense( 4 )   relu dense(2) ", 1, {3}, 2, {1, 3}, 2, 16 + 10},
    /* the reference's constant (32 values) is not trained, so not counted */
    {"conv1d(4,k=3) relu flatten reference dropout dense(2)", 2, {2, 10}, 3, {1, 2, 10}, 2, (4 * 6 + 4) + (32 * 2 + 2)},
};

/* How many samples an input array holds for a model whose per-sample shape is (1, 8, 100). */
START_TEST(test_samples)
{
    xai_model *m = build("conv1d(4,k=3) relu flatten dense(2)", 2, (const int64_t[]){8, 100}, 1);
    ck_assert_int_eq(xai_model_samples(m, 3, (const int64_t[]){1, 8, 100}), 1);
    ck_assert_int_eq(xai_model_samples(m, 3, (const int64_t[]){5, 8, 100}), 5);
    ck_assert_int_eq(xai_model_samples(m, 4, (const int64_t[]){6, 1, 8, 100}), 6);
    ck_assert_int_eq(xai_model_samples(m, 3, (const int64_t[]){1, 8, 99}), -1);
    ck_assert_int_eq(xai_model_samples(m, 4, (const int64_t[]){6, 2, 8, 100}), -1);
    ck_assert_int_eq(xai_model_samples(m, 2, (const int64_t[]){8, 100}), -1);
    xai_model_free(m);
}
END_TEST

START_TEST(test_shapes)
{
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const good_spec *g = &good[i];
        int64_t np = -1;
        ck_assert_msg(xai_arch_param_count(g->spec, g->nd, g->shape, &np) == XAI_OK, "%s: %s", g->spec,
                      xai_last_error());
        ck_assert_msg(np == g->nparams, "%s: %lld parameters, want %lld", g->spec, (long long)np,
                      (long long)g->nparams);
        xai_model *m = build(g->spec, g->nd, g->shape, 3);
        int nd;
        const int64_t *is = xai_model_input_shape(m, &nd);
        ck_assert_msg(nd == g->in_nd, "%s: input rank %d", g->spec, nd);
        for (int k = 0; k < nd; k++)
            ck_assert_msg(is[k] == g->in_shape[k], "%s: input dim %d is %lld", g->spec, k, (long long)is[k]);
        const int64_t *os = xai_model_output_shape(m, &nd);
        ck_assert_msg(nd == 2 && os[0] == 1 && os[1] == g->nout, "%s: output rank %d [%lld, ..]", g->spec, nd,
                      (long long)os[0]);
        ck_assert_str_eq(xai_model_metadata(m, "xai.arch"), g->spec);
        ck_assert_str_eq(xai_model_metadata(m, "xai.seed"), "3");
        ck_assert_int_eq(xai_model_opset(m), 17);
        /* the trainable parameters the importer sees add up to the count (dropout ratios and the
           reference's constant excluded) */
        int64_t have = 0;
        for (int v = 0; v < m->nvals; v++)
            if (m->vals[v].is_const && m->vals[v].dtype == DT_F32 && !strstr(m->vals[v].name, ".ratio") &&
                !strstr(m->vals[v].name, ".ref"))
                have += m->vals[v].numel;
        ck_assert_msg(have == g->nparams, "%s: %lld float constants", g->spec, (long long)have);
        /* it runs: three samples, finite and not all equal */
        int64_t n_in = xai_model_input_numel(m), n_out = xai_model_output_numel(m);
        float *x = malloc(sizeof(float) * (size_t)(3 * n_in)), *y = malloc(sizeof(float) * (size_t)(3 * n_out));
        uint64_t s = 99;
        for (int64_t k = 0; k < 3 * n_in; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            x[k] = (float)((double)(s >> 40) / (double)(1 << 24)) - 0.5f;
        }
        xai_workspace *ws;
        ck_assert_int_eq(xai_workspace_new(m, 3, &ws), XAI_OK);
        ck_assert_msg(xai_model_forward(m, ws, 3, x, y) == XAI_OK, "%s: %s", g->spec, xai_last_error());
        int differ = 0;
        for (int64_t k = 0; k < 3 * n_out; k++) {
            ck_assert(isfinite(y[k]));
            if (y[k] != y[0])
                differ = 1;
        }
        ck_assert_msg(differ, "%s: constant output", g->spec);
        xai_workspace_free(ws);
        free(x);
        free(y);
        xai_model_free(m);
    }
}
END_TEST

/* ------------------------------------------------------------ determinism and initialisation */

START_TEST(test_determinism)
{
    const char *spec = "conv1d(8,k=5) bn relu lstm(6,bidirectional) dense(3)";
    int64_t sh[2] = {4, 40};
    void *a, *b, *c;
    size_t la, lb, lc;
    ck_assert_int_eq(xai_arch_build_onnx(spec, 2, sh, 12345, &a, &la), XAI_OK);
    ck_assert_int_eq(xai_arch_build_onnx(spec, 2, sh, 12345, &b, &lb), XAI_OK);
    ck_assert_int_eq(xai_arch_build_onnx(spec, 2, sh, 12346, &c, &lc), XAI_OK);
    ck_assert_uint_eq(la, lb);
    ck_assert_int_eq(memcmp(a, b, la), 0);
    ck_assert_uint_eq(la, lc); /* only the values differ (the seed text has the same length) */
    ck_assert_int_ne(memcmp(a, c, la), 0);
    free(a);
    free(b);
    free(c);

    /* the weights themselves differ almost everywhere between seeds */
    xai_model *m1 = build(spec, 2, sh, 1), *m2 = build(spec, 2, sh, 2);
    int v1 = xai_model_find_value(m1, "lstm3.W"), v2 = xai_model_find_value(m2, "lstm3.W");
    ck_assert_int_ge(v1, 0);
    ck_assert_int_ge(v2, 0);
    int64_t same = 0;
    for (int64_t k = 0; k < m1->vals[v1].numel; k++)
        same += m1->vals[v1].f[k] == m2->vals[v2].f[k];
    ck_assert_int_lt(same, 3);
    xai_model_free(m1);
    xai_model_free(m2);
}
END_TEST

static void check_uniform(const xai_model *m, const char *name, double bound, int64_t want_n)
{
    int v = xai_model_find_value(m, name);
    ck_assert_msg(v >= 0, "no value '%s'", name);
    const xai_value *x = &m->vals[v];
    ck_assert_int_eq(x->numel, want_n);
    double sum = 0, sq = 0, mx = 0;
    for (int64_t k = 0; k < x->numel; k++) {
        double w = x->f[k];
        ck_assert_msg(fabs(w) <= bound * (1 + 1e-6), "%s[%lld] = %g beyond %g", name, (long long)k, w, bound);
        sum += w;
        sq += w * w;
        if (fabs(w) > mx)
            mx = fabs(w);
    }
    double n = (double)x->numel, mean = sum / n, var = sq / n - mean * mean;
    double sd_mean = bound / sqrt(3.0 * n);
    ck_assert_msg(fabs(mean) < 4.5 * sd_mean, "%s: mean %g (sd %g)", name, mean, sd_mean);
    /* U(-b, b) has variance b^2/3; its sample variance has relative sd sqrt(0.8/n) */
    double rel = fabs(var / (bound * bound / 3.0) - 1.0);
    ck_assert_msg(rel < 4.5 * sqrt(0.8 / n) + 1e-3, "%s: variance %g, want %g", name, var, bound * bound / 3);
    ck_assert_msg(mx > bound * (1.0 - 20.0 / n), "%s: max |w| %g, bound %g", name, mx, bound);
}

static void check_const(const xai_model *m, const char *name, float val, int64_t want_n)
{
    int v = xai_model_find_value(m, name);
    ck_assert_msg(v >= 0, "no value '%s'", name);
    ck_assert_int_eq(m->vals[v].numel, want_n);
    for (int64_t k = 0; k < want_n; k++)
        ck_assert_float_eq(m->vals[v].f[k], val);
}

START_TEST(test_init_statistics)
{
    int64_t sh[2] = {16, 40};
    xai_model *m = build("conv1d(64,k=5) bn relu flatten dense(10)", 2, sh, 777);
    check_uniform(m, "conv0.weight", 1.0 / sqrt(16 * 5), 64 * 16 * 5);
    check_uniform(m, "conv0.bias", 1.0 / sqrt(16 * 5), 64);
    check_const(m, "bn1.weight", 1.0f, 64);
    check_const(m, "bn1.bias", 0.0f, 64);
    check_const(m, "bn1.running_mean", 0.0f, 64);
    check_const(m, "bn1.running_var", 1.0f, 64);
    check_uniform(m, "dense4.weight", 1.0 / sqrt(64 * 36), 10 * 64 * 36);
    check_uniform(m, "dense4.bias", 1.0 / sqrt(64 * 36), 10);
    xai_model_free(m);

    int64_t sq[2] = {12, 5};
    m = build("lstm(20,bidirectional) dense(2)", 2, sq, 5);
    check_uniform(m, "lstm0.W", 1.0 / sqrt(20), 2 * 80 * 5);
    check_uniform(m, "lstm0.R", 1.0 / sqrt(20), 2 * 80 * 20);
    check_uniform(m, "lstm0.B", 1.0 / sqrt(20), 2 * 160);
    xai_model_free(m);

    int64_t im[3] = {3, 10, 10};
    m = build("conv2d(32,k=3x5,g=1) flatten dense(2)", 3, im, 9);
    check_uniform(m, "conv0.weight", 1.0 / sqrt(3 * 15), 32 * 3 * 15);
    xai_model_free(m);

    /* grouped convolution: fan_in counts the channels of one group */
    int64_t gi[2] = {8, 10};
    m = build("conv1d(16,k=3,g=4) flatten dense(2)", 2, gi, 9);
    check_uniform(m, "conv0.weight", 1.0 / sqrt(2 * 3), 16 * 2 * 3);
    xai_model_free(m);
}
END_TEST

/* dense(N): Gemm with W[N, F] (PyTorch Linear layout), y = W x + b */
START_TEST(test_dense_layout)
{
    int64_t sh[1] = {5};
    xai_model *m = build("dense(3)", 1, sh, 4);
    int vw = xai_model_find_value(m, "dense0.weight"), vb = xai_model_find_value(m, "dense0.bias");
    ck_assert_int_eq(m->vals[vw].ndim, 2);
    ck_assert_int_eq(m->vals[vw].shape[0], 3);
    ck_assert_int_eq(m->vals[vw].shape[1], 5);
    float x[5] = {0.5f, -1.0f, 2.0f, 0.25f, -0.75f}, y[3];
    xai_workspace *ws;
    ck_assert_int_eq(xai_workspace_new(m, 1, &ws), XAI_OK);
    ck_assert_int_eq(xai_model_forward(m, ws, 1, x, y), XAI_OK);
    for (int j = 0; j < 3; j++) {
        double want = m->vals[vb].f[j];
        for (int i = 0; i < 5; i++)
            want += (double)m->vals[vw].f[j * 5 + i] * x[i];
        ck_assert_msg(fabs(y[j] - want) < 1e-5, "y[%d] = %g, want %g", j, y[j], want);
    }
    xai_workspace_free(ws);
    xai_model_free(m);
}
END_TEST

/*
 * Sequence semantics: for a forward LSTM, lstm(H,all) keeps every step and lstm(H,last) the final
 * state. With the same seed both draw the same LSTM weights; a dense layer that reads only the
 * last step of 'all' (the other weights zeroed) then equals dense on 'last'.
 */
START_TEST(test_lstm_last_vs_all)
{
    int64_t sh[2] = {6, 3};
    const int H = 4, T = 6;
    xai_model *a = build("lstm(4,all) dense(2)", 2, sh, 11);
    xai_model *l = build("lstm(4,last) dense(2)", 2, sh, 11);
    int wa = xai_model_find_value(a, "lstm0.W"), wl = xai_model_find_value(l, "lstm0.W");
    ck_assert_int_eq(memcmp(a->vals[wa].f, l->vals[wl].f, sizeof(float) * (size_t)a->vals[wa].numel), 0);
    /* make the dense weights agree on the last step; Gemm copies its weights at load, so
       rebuild both models from exported bytes */
    int da = xai_model_find_value(a, "dense1.weight"), dl = xai_model_find_value(l, "dense1.weight");
    int ba = xai_model_find_value(a, "dense1.bias"), bl = xai_model_find_value(l, "dense1.bias");
    for (int j = 0; j < 2; j++) {
        for (int k = 0; k < T * H; k++)
            a->vals[da].f[j * T * H + k] = k >= (T - 1) * H ? l->vals[dl].f[j * H + k - (T - 1) * H] : 0.0f;
        a->vals[ba].f[j] = l->vals[bl].f[j];
    }
    void *bytes;
    size_t len;
    ck_assert_int_eq(xai_model_save_onnx_mem(a, NULL, &bytes, &len), XAI_OK);
    xai_model *a2;
    ck_assert_int_eq(xai_model_load_onnx_mem(bytes, len, "a2", NULL, &a2), XAI_OK);
    free(bytes);
    float x[18], ya[2], yl[2];
    for (int k = 0; k < 18; k++)
        x[k] = (float)sin(0.7 * k);
    xai_workspace *w1, *w2;
    ck_assert_int_eq(xai_workspace_new(a2, 1, &w1), XAI_OK);
    ck_assert_int_eq(xai_workspace_new(l, 1, &w2), XAI_OK);
    ck_assert_int_eq(xai_model_forward(a2, w1, 1, x, ya), XAI_OK);
    ck_assert_int_eq(xai_model_forward(l, w2, 1, x, yl), XAI_OK);
    for (int j = 0; j < 2; j++)
        ck_assert_msg(fabs(ya[j] - yl[j]) < 1e-5, "logit %d: all %g last %g", j, ya[j], yl[j]);
    xai_workspace_free(w1);
    xai_workspace_free(w2);
    xai_model_free(a);
    xai_model_free(a2);
    xai_model_free(l);
}
END_TEST

/* ------------------------------------------------------------ python3-onnx */

static int have_python_onnx(void)
{
    return system("/usr/bin/python3 -c 'import onnx, onnx.shape_inference' >/dev/null 2>&1") == 0;
}

START_TEST(test_onnx_checker)
{
    if (!have_python_onnx()) {
        xai_test_mark_skip();
        return;
    }
    /* every model of the table through the full checker and strict shape inference in one
       python process; the inferred 'logits' shape must be [1, nout] */
    char *dir = xai_test_tmpdir();
    char cmd[8192];
    size_t o = (size_t)snprintf(cmd, sizeof cmd,
                                "/usr/bin/python3 -c \"import onnx, sys\n"
                                "a = sys.argv[1:]\n"
                                "for p, n in zip(a[0::2], a[1::2]):\n"
                                "    m = onnx.load(p)\n"
                                "    onnx.checker.check_model(m, full_check=True)\n"
                                "    i = onnx.shape_inference.infer_shapes(m, strict_mode=True)\n"
                                "    d = [x.dim_value for x in i.graph.output[0].type.tensor_type.shape.dim]\n"
                                "    assert d == [1, int(n)], (p, d)\n\"");
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const good_spec *g = &good[i];
        void *bytes;
        size_t len;
        ck_assert_int_eq(xai_arch_build_onnx(g->spec, g->nd, g->shape, 8, &bytes, &len), XAI_OK);
        char name[32];
        snprintf(name, sizeof name, "model%zu.onnx", i);
        const char *p = xai_test_path(dir, name);
        FILE *f = fopen(p, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
        fclose(f);
        free(bytes);
        o += (size_t)snprintf(cmd + o, sizeof cmd - o, " '%s' %lld", p, (long long)g->nout);
        ck_assert_uint_lt(o, sizeof cmd);
    }
    int rc = system(cmd);
    ck_assert_msg(rc == 0, "onnx checker / shape inference failed (%d)", rc);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("arch");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_shapes);
    tcase_add_test(tc, test_samples);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_init_statistics);
    tcase_add_test(tc, test_dense_layout);
    tcase_add_test(tc, test_lstm_last_vs_all);
    tcase_add_test(tc, test_onnx_checker);
    suite_add_tcase(s, tc);
    return s;
}
