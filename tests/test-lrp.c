/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-lrp.c - LRP and gradient maps against reference explanations:
 *  - ../shared/reference/cnn (Zennit 0.5.1), skipped when ../shared is absent;
 *  - tests/data/lrpref/cases (an independent float64 NumPy implementation of
 *    the README's "LRP conventions", validated against the Zennit cases; see its README).
 * Every case folder: model.onnx, input.f32, logits.f32, meta.json, relevance_<key>.f32.
 * Pass: logits to 1e-5 relative, every map to rel L2 < 1e-4 (compare_cnn.py's threshold).
 * Also runs the same maps through the xai-explain program once per case.
 */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"
#include "lrp-int.h"
#include "test-common.h"
#include "xai.h"
#include "xai/npy.h"
#include "xai/train.h"

static int method_config(const char *key, json_t *conv, xai_explain_config *c, int *bnpass)
{
    char k[128];
    snprintf(k, sizeof k, "%s", key);
    *bnpass = 0;
    char *dbl = strstr(k, "__bnpass");
    if (dbl) {
        *dbl = '\0';
        *bnpass = 1;
    } else if (strstr(k, "__")) {
        return -1;
    }
    xai_explain_config_init(c);
    c->bn = *bnpass ? XAI_BN_PASS : XAI_BN_FOLD;
    if (strcmp(k, "gradient") == 0) {
        c->method = XAI_METHOD_GRADIENT;
    } else if (strcmp(k, "gradient_x_input") == 0) {
        c->method = XAI_METHOD_GRADIENT_X_INPUT;
    } else if (strcmp(k, "epsilon_0p25") == 0) {
        c->composite = "epsilon";
        c->epsilon = 0.25f;
    } else {
        static const char *const comps[][2] = {{"epsilon", "epsilon"},
                                               {"epsilon_plus", "epsilon-plus"},
                                               {"epsilon_plus_flat", "epsilon-plus-flat"},
                                               {"epsilon_alpha2_beta1", "epsilon-alpha2-beta1"},
                                               {"epsilon_alpha2_beta1_flat", "epsilon-alpha2-beta1-flat"},
                                               {"epsilon_gamma_box", "epsilon-gamma-box"}};
        int found = 0;
        for (size_t i = 0; i < sizeof comps / sizeof comps[0]; i++)
            if (strcmp(k, comps[i][0]) == 0) {
                c->composite = comps[i][1];
                found = 1;
            }
        if (!found)
            return -1;
        if (strcmp(k, "epsilon_gamma_box") == 0) {
            c->have_bounds = 1;
            c->low = (float)json_number_value(json_object_get(conv, "zbox_low"));
            c->high = (float)json_number_value(json_object_get(conv, "zbox_high"));
        }
    }
    return 0;
}

static float *read_f32(const char *dir, const char *file, size_t expect)
{
    size_t len = 0;
    float *p = xai_test_read_file(xai_test_path(dir, file), &len);
    ck_assert_msg(p != NULL, "cannot read %s/%s", dir, file);
    ck_assert_msg(len == expect * sizeof(float), "%s/%s: %zu bytes, expected %zu", dir, file, len,
                  expect * sizeof(float));
    return p;
}

/* Run every reference map of one case folder; returns the number of maps compared. */
static int run_case(const char *dir, int use_cli)
{
    json_error_t jerr;
    json_t *meta = json_load_file(xai_test_path(dir, "meta.json"), 0, &jerr);
    ck_assert_msg(meta != NULL, "%s/meta.json: %s", dir, jerr.text);
    xai_model *m = NULL;
    xai_status st = xai_model_load_onnx(xai_test_path(dir, "model.onnx"), NULL, &m);
    ck_assert_msg(st == XAI_OK, "%s: %s", dir, xai_last_error());
    int64_t nin = xai_model_input_numel(m), nc = xai_model_output_numel(m);
    float *x = read_f32(dir, "input.f32", (size_t)nin);
    float *lg_ref = read_f32(dir, "logits.f32", (size_t)nc);
    float *lg = malloc(sizeof(float) * (size_t)nc);
    xai_workspace *ws;
    ck_assert_int_eq(xai_workspace_new(m, 1, &ws), XAI_OK);
    ck_assert_int_eq(xai_model_forward(m, ws, 1, x, lg), XAI_OK);
    double lerr = xai_test_rel_l2(lg, lg_ref, (size_t)nc);
    ck_assert_msg(lerr < 1e-5, "%s: logits rel err %.3g", dir, lerr);
    xai_workspace_free(ws);
    int target = (int)json_integer_value(json_object_get(meta, "explained_class"));
    json_t *conv = json_object_get(meta, "conventions");
    json_t *rels = json_object_get(meta, "relevances");
    const char *key;
    json_t *val;
    int count = 0;
    float *rel = malloc(sizeof(float) * (size_t)nin);
    json_object_foreach(rels, key, val) {
        xai_explain_config c;
        int bnpass;
        if (method_config(key, conv, &c, &bnpass) != 0)
            continue;
        float *ref = read_f32(dir, json_string_value(json_object_get(val, "file")), (size_t)nin);
        xai_explain_result res;
        st = xai_explain(m, &c, 1, x, rel, &res);
        ck_assert_msg(st == XAI_OK, "%s [%s]: %s", dir, key, xai_last_error());
        ck_assert_int_eq(res.target[0], target);
        double e = xai_test_rel_l2(rel, ref, (size_t)nin);
        printf("  %-28s %-32s rel_L2 = %.3e\n", strrchr(dir, '/') + 1, key, e);
        ck_assert_msg(e < 1e-4, "%s [%s]: rel L2 %.3e >= 1e-4", dir, key, e);
        xai_explain_result_free(&res);
        if (use_cli) {
            /* same map through the xai-explain program */
            const char *root = getenv("XAI_BUILD_ROOT");
            char *tmp = xai_test_tmpdir();
            char cmd[8192], npy[1024];
            snprintf(npy, sizeof npy, "%s/in.npy", tmp);
            int64_t shp[XAI_MAX_DIMS];
            int nd;
            const int64_t *ms = xai_model_input_shape(m, &nd);
            memcpy(shp, ms, sizeof(int64_t) * (size_t)nd);
            ck_assert_int_eq(xai_npy_save(npy, nd, shp, x), XAI_OK);
            const char *method = c.method == XAI_METHOD_GRADIENT ? "gradient"
                               : c.method == XAI_METHOD_GRADIENT_X_INPUT ? "gradient-x-input" : "lrp";
            char extra[256] = "";
            if (c.have_bounds)
                snprintf(extra, sizeof extra, "--low %.9g --high %.9g", c.low, c.high);
            snprintf(cmd, sizeof cmd,
                     "%s/apps/xai-explain '%s/model.onnx' '%s' -o '%s/out.npy' --method %s --composite %s "
                     "--epsilon %.9g --bn %s %s -q",
                     root, dir, npy, tmp, method, c.composite, c.epsilon, bnpass ? "pass" : "fold", extra);
            ck_assert_msg(system(cmd) == 0, "command failed: %s", cmd);
            char outp[1100];
            snprintf(outp, sizeof outp, "%s/out.npy", tmp);
            xai_npy o;
            ck_assert_int_eq(xai_npy_load(outp, &o), XAI_OK);
            ck_assert_int_eq(o.ndim, nd);
            double e2 = xai_test_rel_l2(o.data, ref, (size_t)nin);
            ck_assert_msg(e2 < 1e-4, "%s [%s] via xai-explain: rel L2 %.3e", dir, key, e2);
            xai_npy_free(&o);
            xai_test_rmtree(tmp);
            free(tmp);
        }
        free(ref);
        count++;
    }
    free(rel);
    free(x);
    free(lg);
    free(lg_ref);
    xai_model_free(m);
    json_decref(meta);
    return count;
}

static int run_dir(const char *root_in, int use_cli)
{
    char root[2048];
    snprintf(root, sizeof root, "%s", root_in);
    struct dirent **list;
    int n = scandir(root, &list, NULL, alphasort);
    int cases = 0;
    ck_assert_msg(n > 0, "no cases in %s", root);
    for (int i = 0; i < n; i++) {
        if (list[i]->d_name[0] != '.') {
            char dir[4096];
            snprintf(dir, sizeof dir, "%s/%s", root, list[i]->d_name);
            char meta[4200];
            snprintf(meta, sizeof meta, "%s/meta.json", dir);
            FILE *f = fopen(meta, "r");
            if (f) {
                fclose(f);
                int k = run_case(dir, use_cli);
                ck_assert_msg(k >= 8, "%s: only %d maps compared", dir, k);
                cases++;
            }
        }
        free(list[i]);
    }
    free(list);
    return cases;
}

START_TEST(test_reference_zennit)
{
    const char *sh = xai_test_shared_dir();
    if (!sh) {
        xai_test_mark_skip();
        return;
    }
    int cases = run_dir(xai_test_path(sh, "reference/cnn"), 0);
    ck_assert_int_ge(cases, 4);
}
END_TEST

START_TEST(test_reference_zennit_cli)
{
    const char *sh = xai_test_shared_dir();
    if (!sh) {
        xai_test_mark_skip();
        return;
    }
    run_dir(xai_test_path(sh, "reference/cnn"), 1);
}
END_TEST

START_TEST(test_reference_lrpref)
{
    int cases = run_dir(xai_test_path(xai_test_data_dir(), "lrpref/cases"), 0);
    ck_assert_int_ge(cases, 8);
}
END_TEST

START_TEST(test_batched_equals_single)
{
    /* a stack of inputs explained in one sweep gives each sample's single result */
    const char *dir = xai_test_path(xai_test_data_dir(), "lrpref/cases/conv2d_dil_maxpool");
    xai_model *m;
    ck_assert_int_eq(xai_model_load_onnx(xai_test_path(dir, "model.onnx"), NULL, &m), XAI_OK);
    int64_t nin = xai_model_input_numel(m);
    enum { N = 5 };
    float *x = malloc(sizeof(float) * (size_t)(N * nin));
    float *rb = malloc(sizeof(float) * (size_t)(N * nin));
    float *r1 = malloc(sizeof(float) * (size_t)nin);
    for (int64_t k = 0; k < N * nin; k++)
        x[k] = (float)sin(0.37 * (double)k) * 2.0f;
    xai_explain_config c;
    xai_explain_config_init(&c);
    c.composite = "epsilon-gamma-box";
    c.have_bounds = 1;
    c.low = -3;
    c.high = 3;
    c.batch = 3; /* two batches: 3 + 2 */
    ck_assert_int_eq(xai_explain(m, &c, N, x, rb, NULL), XAI_OK);
    for (int s = 0; s < N; s++) {
        ck_assert_int_eq(xai_explain(m, &c, 1, x + s * nin, r1, NULL), XAI_OK);
        double e = xai_test_rel_l2(rb + s * nin, r1, (size_t)nin);
        ck_assert_msg(e < 1e-6, "sample %d: batched vs single rel L2 %.3g", s, e);
    }
    free(x);
    free(rb);
    free(r1);
    xai_model_free(m);
}
END_TEST

/* Stack of N samples of the model at @p case_name, each a different wave and scale. */
static float *wave_stack(xai_model **m, const char *case_name, int n)
{
    const char *dir = xai_test_path(xai_test_data_dir(), case_name);
    ck_assert_int_eq(xai_model_load_onnx(xai_test_path(dir, "model.onnx"), NULL, m), XAI_OK);
    int64_t nin = xai_model_input_numel(*m);
    float *x = malloc(sizeof(float) * (size_t)(n * nin));
    ck_assert_ptr_nonnull(x);
    for (int s = 0; s < n; s++)
        for (int64_t k = 0; k < nin; k++)
            x[s * nin + k] = (float)sin(0.37 * (double)k + s) * (float)(1 + s);
    return x;
}

/* Per-sample targets: in a stack with mixed classes every sample's map is, bit for bit, its map
 * in the same stack explained for its class alone, and matches the sample explained alone (to
 * rounding: BLAS may sum a different number of columns in another order). For LRP and the
 * gradient methods. */
START_TEST(test_per_sample_targets)
{
    enum { N = 5 };
    xai_model *m;
    float *x = wave_stack(&m, "lrpref/cases/conv2d_dil_maxpool", N);
    int64_t nin = xai_model_input_numel(m), nc = xai_model_output_numel(m);
    ck_assert_int_ge(nc, 2);
    const int targets[N] = {1, 0, -1, (int)nc - 1, 0};
    float *rm = malloc(sizeof(float) * (size_t)(N * nin)), *ru = malloc(sizeof(float) * (size_t)(N * nin));
    float *r1 = malloc(sizeof(float) * (size_t)nin);
    static const xai_method methods[] = {XAI_METHOD_LRP, XAI_METHOD_GRADIENT, XAI_METHOD_GRADIENT_X_INPUT,
                                         XAI_METHOD_INTEGRATED_GRADIENTS};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        xai_explain_config c;
        xai_explain_config_init(&c);
        c.method = methods[i];
        c.ig_steps = 4;
        c.targets = targets;
        c.batch = 3; /* two batches: the targets must follow the samples across them */
        xai_explain_result res;
        ck_assert_int_eq(xai_explain(m, &c, N, x, rm, &res), XAI_OK);
        c.targets = NULL;
        for (int s = 0; s < N; s++) {
            if (targets[s] >= 0)
                ck_assert_int_eq(res.target[s], targets[s]);
            c.target = targets[s];
            xai_explain_result r1s;
            ck_assert_int_eq(xai_explain(m, &c, N, x, ru, NULL), XAI_OK);
            ck_assert_msg(memcmp(rm + s * nin, ru + s * nin, sizeof(float) * (size_t)nin) == 0,
                          "%s sample %d differs from the uniform-target stack", xai_method_name(methods[i]), s);
            ck_assert_int_eq(xai_explain(m, &c, 1, x + s * nin, r1, &r1s), XAI_OK);
            ck_assert_int_eq(res.target[s], r1s.target[0]);
            double e = xai_test_rel_l2(rm + s * nin, r1, (size_t)nin);
            ck_assert_msg(e < 1e-5, "%s sample %d alone: rel L2 %g", xai_method_name(methods[i]), s, e);
            xai_explain_result_free(&r1s);
        }
        xai_explain_result_free(&res);
    }
    /* out of range: named in the message */
    xai_explain_config c;
    xai_explain_config_init(&c);
    int bad[N] = {0, 1, (int)nc, 0, 0};
    c.targets = bad;
    ck_assert_int_eq(xai_explain(m, &c, N, x, rm, NULL), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "per-sample target"));
    bad[2] = -2;
    ck_assert_int_eq(xai_explain(m, &c, N, x, rm, NULL), XAI_EINVAL);
    free(rm);
    free(ru);
    free(r1);
    free(x);
    xai_model_free(m);
}
END_TEST

/* Default ZBox bounds are each sample's min and max: a sample's map does not depend on what it
 * is stacked with (bitwise), matches the sample alone, and equals giving its own range
 * explicitly; bounds shared over the stack would change it (so the test can tell). */
START_TEST(test_zbox_bounds_per_sample)
{
    enum { N = 2 };
    xai_model *m;
    float *x = wave_stack(&m, "lrpref/cases/conv2d_dil_maxpool", N);
    int64_t nin = xai_model_input_numel(m);
    float *ra = malloc(sizeof(float) * (size_t)(N * nin)), *rb = malloc(sizeof(float) * (size_t)(N * nin));
    float *r1 = malloc(sizeof(float) * (size_t)nin), *r2 = malloc(sizeof(float) * (size_t)nin);
    xai_explain_config c;
    xai_explain_config_init(&c);
    c.composite = "epsilon-gamma-box";
    ck_assert_int_eq(xai_explain(m, &c, N, x, ra, NULL), XAI_OK);
    for (int64_t k = 0; k < nin; k++)
        x[nin + k] *= 5; /* the partner's range grows, sample 0 stays */
    ck_assert_int_eq(xai_explain(m, &c, N, x, rb, NULL), XAI_OK);
    ck_assert(memcmp(ra, rb, sizeof(float) * (size_t)nin) == 0);
    ck_assert_int_eq(xai_explain(m, &c, 1, x, r1, NULL), XAI_OK);
    ck_assert(xai_test_rel_l2(ra, r1, (size_t)nin) < 1e-5);
    float lo = x[0], hi = x[0], glo = x[0], ghi = x[0];
    for (int64_t k = 0; k < N * nin; k++) {
        if (k < nin) {
            lo = fminf(lo, x[k]);
            hi = fmaxf(hi, x[k]);
        }
        glo = fminf(glo, x[k]);
        ghi = fmaxf(ghi, x[k]);
    }
    c.have_bounds = 1;
    c.low = lo;
    c.high = hi;
    ck_assert_int_eq(xai_explain(m, &c, 1, x, r2, NULL), XAI_OK);
    ck_assert(memcmp(r1, r2, sizeof(float) * (size_t)nin) == 0);
    c.low = glo;
    c.high = ghi;
    ck_assert_int_eq(xai_explain(m, &c, 1, x, r2, NULL), XAI_OK);
    ck_assert(xai_test_rel_l2(r1, r2, (size_t)nin) > 1e-3);
    free(ra);
    free(rb);
    free(r1);
    free(r2);
    free(x);
    xai_model_free(m);
}
END_TEST

/* The smallest and largest of @p n floats. */
static void sample_minmax(const float *x, int64_t n, float *lo, float *hi)
{
    *lo = *hi = x[0];
    for (int64_t k = 1; k < n; k++) {
        *lo = fminf(*lo, x[k]);
        *hi = fmaxf(*hi, x[k]);
    }
}
/* The first layer's z-box input relevance with per-element bounds l and high = x, by hand:
 * z_j = sum_i w+_ji (x_i - l_i), R_i = (x_i - l_i) sum_j w+_ji R_j / (z_j + eps). The layer is a
 * Dense (W[nout][nin]) or a 3x3 convolution with padding 1 over one input plane (W[nout][1][3][3],
 * nout planes of h x w). Also the relevance of the outputs with z_j > 0 (what the layer keeps). */
static void zbox_by_hand(const float *W, int conv, int64_t nin, int64_t nout, int64_t h, int64_t w, const float *x,
                         const float *l, const float *Rout, double *Rin, double *kept)
{
    int64_t nz = conv ? nout * h * w : nout;
    double *z = calloc((size_t)nz, sizeof *z);
    ck_assert_ptr_nonnull(z);
    for (int pass = 0; pass < 2; pass++)
        for (int64_t j = 0; j < nz; j++) {
            int64_t o = conv ? j / (h * w) : j, r = conv ? j % (h * w) / w : 0, c = conv ? j % w : 0;
            double s = pass ? Rout[j] / (z[j] + 1e-6) : 0;
            for (int64_t i = 0; i < (conv ? 9 : nin); i++) {
                int64_t y = conv ? r + i / 3 - 1 : 0, xx = conv ? c + i % 3 - 1 : i;
                if (conv && (y < 0 || y >= h || xx < 0 || xx >= w))
                    continue;
                int64_t at = conv ? y * w + xx : i;
                double wp = fmax(W[o * (conv ? 9 : nin) + i], 0.0), d = (double)x[at] - l[at];
                if (pass)
                    Rin[at] += d * wp * s;
                else
                    z[j] += wp * d;
            }
            if (pass && z[j] > 0)
                *kept += Rout[j];
        }
    free(z);
}

/* Per-element z-box bounds (box_low/box_high): filled with the rule's scalars they give the scalar
 * rule's map bit for bit, filled with each sample's range the default's; with high = x and a
 * floor per row, the input relevance is (x - l)+ w+ / z+ by hand on a Dense and a convolution,
 * sums to what the layer received, and does not depend on the thread count; a z-box with them
 * on a layer whose input is not the model's input is refused, as are one array without the
 * other and the sensitivity metrics. */
START_TEST(test_zbox_bounds_per_element)
{
    enum { N = 5, H = 4, W = 6 };
    static const char *const specs[] = {"dense(5) relu dense(3)", "conv2d(3,k=3,p=1) relu flatten dense(3)"};
    for (int conv = 0; conv < 2; conv++) {
        int64_t shape[3] = {1, H, W}, flat[1] = {H * W};
        xai_model *m;
        ck_assert_int_eq(xai_model_from_spec(specs[conv], conv ? 3 : 1, conv ? shape : flat, 11, &m), XAI_OK);
        const int64_t nin = H * W, nt = N * nin, nout = conv ? 3 : 5;
        float *x = malloc(sizeof(float) * (size_t)nt), *lo = malloc(sizeof(float) * (size_t)nt);
        float *hi = malloc(sizeof(float) * (size_t)nt), *ra = malloc(sizeof(float) * (size_t)nt);
        float *rb = malloc(sizeof(float) * (size_t)nt), *Rout = malloc(sizeof(float) * (size_t)(N * nout * nin));
        double *Rin = calloc((size_t)nt, sizeof *Rin);
        ck_assert(x && lo && hi && ra && rb && Rout && Rin);
        for (int64_t k = 0; k < nt; k++)
            x[k] = 1.0f + 0.8f * (float)sin(0.37 * (double)k);
        xai_explain_config c;
        xai_explain_config_init(&c);
        c.composite = "epsilon";
        c.batch = 2; /* sub-batches at offsets into the bound arrays */
        /* the scalar rule */
        c.rules = "first=zbox(-1.5,2.5)";
        ck_assert_int_eq(xai_explain(m, &c, N, x, ra, NULL), XAI_OK);
        for (int64_t k = 0; k < nt; k++) {
            lo[k] = -1.5f;
            hi[k] = 2.5f;
        }
        c.rules = "first=zbox";
        c.box_low = lo;
        c.box_high = hi;
        ck_assert_int_eq(xai_explain(m, &c, N, x, rb, NULL), XAI_OK);
        ck_assert_msg(memcmp(ra, rb, sizeof(float) * (size_t)nt) == 0, "%s: scalar bounds differ", specs[conv]);
        /* each sample's own range */
        for (int s = 0; s < N; s++) {
            float a, b;
            sample_minmax(x + s * nin, nin, &a, &b);
            for (int64_t k = 0; k < nin; k++) {
                lo[s * nin + k] = a;
                hi[s * nin + k] = b;
            }
        }
        ck_assert_int_eq(xai_explain(m, &c, N, x, rb, NULL), XAI_OK);
        c.box_low = c.box_high = NULL;
        ck_assert_int_eq(xai_explain(m, &c, N, x, ra, NULL), XAI_OK);
        ck_assert_msg(memcmp(ra, rb, sizeof(float) * (size_t)nt) == 0, "%s: own ranges differ", specs[conv]);
        /* a floor per row, high = x */
        for (int64_t k = 0; k < nt; k++) {
            float f = 0.9f + 0.05f * (float)(k % nin / W);
            lo[k] = x[k] < f ? x[k] : f;
            hi[k] = x[k];
        }
        c.box_low = lo;
        c.box_high = hi;
        xai_set_num_threads(1);
        ck_assert_int_eq(xai_explain(m, &c, N, x, ra, NULL), XAI_OK);
        xai_set_num_threads(2);
        ck_assert_int_eq(xai_explain(m, &c, N, x, rb, NULL), XAI_OK);
        ck_assert_msg(memcmp(ra, rb, sizeof(float) * (size_t)nt) == 0, "%s: differs with 2 threads", specs[conv]);
        xai_set_num_threads(1);
        int64_t per = 0;
        const xai_node *first = &m->nodes[0];
        ck_assert(vconst(m, first->in[1]));
        ck_assert_int_eq(xai_explain_value(m, &c, N, x, m->vals[first->out[0]].name, Rout, &per), XAI_OK);
        ck_assert_int_eq(per, conv ? nout * nin : nout);
        for (int s = 0; s < N; s++) {
            double kept = 0, sum = 0;
            zbox_by_hand(m->vals[first->in[1]].f, conv, nin, nout, H, W, x + s * nin, lo + s * nin, Rout + s * per,
                         Rin + s * nin, &kept);
            double scale = 0; /* the rule subtracts terms of this size: x - l = 0 leaves rounding */
            for (int64_t k = 0; k < nin; k++)
                scale = fmax(scale, fabs(Rin[s * nin + k]));
            for (int64_t k = 0; k < nin; k++) {
                double want = Rin[s * nin + k];
                ck_assert_msg(fabs(ra[s * nin + k] - want) <= 1e-4 * (1 + scale), "%s sample %d element %lld: "
                              "%g, by hand %g (largest %g)", specs[conv], s, (long long)k, ra[s * nin + k], want, scale);
                sum += ra[s * nin + k];
            }
            ck_assert_msg(fabs(sum - kept) <= 1e-4 * (1 + fabs(kept)), "not conserved: %g of %g", sum, kept);
        }
        free(x), free(lo), free(hi), free(ra), free(rb), free(Rout), free(Rin);
        xai_model_free(m);
    }
    /* a z-box whose input is not the model's input */
    int64_t shape[3] = {1, H, W};
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("relu conv2d(3,k=3,p=1) relu flatten dense(3)", 3, shape, 11, &m), XAI_OK);
    float x[H * W], r[H * W];
    for (int k = 0; k < H * W; k++)
        x[k] = (float)k / (H * W);
    xai_explain_config c;
    xai_explain_config_init(&c);
    c.composite = "epsilon-gamma-box";
    c.box_low = x;
    c.box_high = x;
    ck_assert_int_eq(xai_explain(m, &c, 1, x, r, NULL), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "per-element bounds"));
    c.box_high = NULL;
    ck_assert_int_eq(xai_explain(m, &c, 1, x, r, NULL), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "both"));
    /* sensitivity explains noisy copies of x, for which bounds given with x do not hold */
    xai_eval_config ev;
    xai_eval_config_init(&ev);
    c.box_high = x;
    int t0 = 0;
    double mx, avg;
    ck_assert_int_eq(xai_eval_sensitivity(m, &ev, &c, 1, x, r, &t0, &mx, &avg), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "per-element"));
    xai_model_free(m);
}
END_TEST

START_TEST(test_bn_not_foldable)
{
    /* A BatchNormalization that follows no Conv/Dense has no rule in Zennit: the gradient
       (x gamma/sigma per channel) carries the relevance. With --bn pass it is passed as is. */
    const char *p = xai_test_path(xai_test_data_dir(), "onnx/ops/bn_first.onnx");
    xai_model *m;
    ck_assert_int_eq(xai_model_load_onnx(p, NULL, &m), XAI_OK);
    float x[12], r[12], rb[12];
    for (int k = 0; k < 12; k++)
        x[k] = (float)cos(0.9 * k) * 1.5f;
    xai_explain_config c;
    xai_explain_config_init(&c);
    c.composite = "epsilon";
    ck_assert_int_eq(xai_explain(m, &c, 1, x, r, NULL), XAI_OK);
    int64_t per;
    ck_assert_int_eq(xai_explain_value(m, &c, 1, x, "bn", rb, &per), XAI_OK);
    ck_assert_int_eq(per, 12);
    int g = -1, var = -1;
    for (int v = 0; v < m->nvals; v++) {
        if (strcmp(m->vals[v].name, "g") == 0)
            g = v;
        if (strcmp(m->vals[v].name, "var") == 0)
            var = v;
    }
    ck_assert(g >= 0 && var >= 0);
    for (int k = 0; k < 12; k++) {
        double scale = m->vals[g].f[k / 4] / sqrt(m->vals[var].f[k / 4] + 1e-5);
        ck_assert_msg(fabs(r[k] - rb[k] * scale) < 1e-5 * (1 + fabs(r[k])), "element %d: %g vs %g", k, r[k],
                      rb[k] * scale);
    }
    c.bn = XAI_BN_PASS;
    ck_assert_int_eq(xai_explain(m, &c, 1, x, r, NULL), XAI_OK);
    for (int k = 0; k < 12; k++)
        ck_assert_float_eq_tol(r[k], rb[k], 1e-6f);
    xai_model_free(m);
}
END_TEST

/* One sample of conserve/ through cnn_bias@p bias with @p rules on the epsilon composite: the
 * map into @p r (128 floats) and the per-layer sums into @p res. */
static void explain_conserve(int bias, const char *rules, float *r, xai_explain_result *res)
{
    char name[64];
    snprintf(name, sizeof name, "onnx/conserve/cnn_bias%d.onnx", bias);
    xai_model *m = xai_test_load_model(xai_test_path(xai_test_data_dir(), name));
    size_t len = 0;
    float *x = xai_test_read_file(xai_test_path(xai_test_data_dir(), "onnx/conserve/input.f32"), &len);
    ck_assert_uint_eq(len, 128 * sizeof(float));
    xai_explain_config c;
    xai_explain_config_init(&c);
    c.composite = "epsilon";
    c.rules = rules;
    ck_assert_msg(xai_explain(m, &c, 1, x, r, res) == XAI_OK, "%s", xai_last_error());
    free(x);
    xai_model_free(m);
}

/* The largest relative gap between the relevance into and out of a Conv layer. */
static double conv_gap(const xai_explain_result *res, const char *label)
{
    double worst = 0;
    int nconv = 0;
    for (int i = 0; i < res->nlayers; i++) {
        if (strcmp(res->layer_op[i], "Conv") != 0)
            continue;
        nconv++;
        ck_assert_str_eq(res->layer_rule[i], label);
        double in = res->layer_in_sum[i], out = res->layer_out_sum[i], gap = fabs(in - out) / fabs(out);
        worst = gap > worst ? gap : worst;
    }
    ck_assert_int_eq(nconv, 2);
    return worst;
}

/* z+ and alpha-beta without the bias (Zennit's zero_params='bias'): on a bias-free model they
 * are the plain rules; with biases they conserve the relevance at each Conv layer (as long as
 * no output has all its inputs at zero), which the rules with b+ and b- in their denominators
 * do not. */
START_TEST(test_zplus_nobias)
{
    static const char *const pairs[][4] = {
        {"Conv=zplus-nobias", "Conv=zplus", "zplus-nobias", "zplus"},
        {"Conv=alphabeta-nobias(2,1)", "Conv=alphabeta(2,1)", "alphabeta-nobias", "alphabeta"}};
    for (int k = 0; k < 2; k++) {
        float r0[128], r1[128];
        xai_explain_result a, b;
        explain_conserve(0, pairs[k][0], r0, NULL);
        explain_conserve(0, pairs[k][1], r1, NULL);
        for (int i = 0; i < 128; i++)
            ck_assert_msg(fabsf(r0[i] - r1[i]) <= 1e-6f * (1 + fabsf(r1[i])), "%s, no bias in the model: %d", pairs[k][0],
                          i);
        explain_conserve(1, pairs[k][0], r0, &a);
        explain_conserve(1, pairs[k][1], r1, &b);
        double without = conv_gap(&a, pairs[k][2]), with = conv_gap(&b, pairs[k][3]);
        xai_explain_result_free(&a);
        xai_explain_result_free(&b);
        ck_assert_msg(without < 1e-5, "%s: relevance lost at a Conv: %g", pairs[k][0], without);
        ck_assert_msg(with > 1e-3, "%s: the biases absorb no relevance (%g): the fixture tests nothing", pairs[k][1],
                      with);
    }
}
END_TEST

/* Weights of every Conv and Gemm of @p src into the same nodes of @p dst, in order; the two
   models differ only in how their convolutions are laid out, so the tensors have the same
   numbers in the same order. Gemm keeps its own normalised copy of the weights. */
static void copy_params(xai_model *src, xai_model *dst)
{
    int j = 0;
    for (int i = 0; i < src->nnodes; i++) {
        xai_node *a = &src->nodes[i];
        if (a->kind != K_CONV && a->kind != K_GEMM)
            continue;
        while (j < dst->nnodes && dst->nodes[j].kind != a->kind)
            j++;
        ck_assert_msg(j < dst->nnodes, "no %s left in the second model", a->op_type);
        xai_node *b = &dst->nodes[j++];
        if (a->kind == K_GEMM) {
            float *ba, *bb;
            int64_t oa, ka, ob, kb;
            float *wa = xai_gemm_weights(a, &ba, &oa, &ka), *wb = xai_gemm_weights(b, &bb, &ob, &kb);
            ck_assert(oa == ob && ka == kb && ba && bb);
            memcpy(wb, wa, sizeof(float) * (size_t)(oa * ka));
            memcpy(bb, ba, sizeof(float) * (size_t)oa);
            continue;
        }
        for (int k = 1; k < 3 && k < a->nin; k++) {
            const xai_value *va = &src->vals[a->in[k]], *vb = &dst->vals[b->in[k]];
            ck_assert_int_eq(va->numel, vb->numel);
            memcpy(vb->f, va->f, sizeof(float) * (size_t)va->numel);
        }
    }
    xai_model_params_changed(dst);
}

/* A 1-D convolution with more channels than the direct kernels take runs tap by tap on the
 * padded input (its weights laid out per call in the node's scratch); the same layers as 2-D
 * convolutions with Kx1 kernels run through im2col. Both must give the same maps, with one
 * thread and with the samples shared over two. */
START_TEST(test_tap_path_matches_im2col)
{
    const int64_t s1[2] = {3, 40}, s2[3] = {3, 40, 1};
    xai_model *m1, *m2;
    ck_assert_int_eq(xai_model_from_spec("conv1d(72,k=5,p=2) relu conv1d(66,k=3,d=2,p=2) relu flatten dense(3)", 2,
                                         s1, 5, &m1), XAI_OK);
    ck_assert_int_eq(xai_model_from_spec("conv2d(72,k=5x1,p=2x0) relu conv2d(66,k=3x1,d=2x1,p=2x0) relu flatten "
                                         "dense(3)", 3, s2, 6, &m2), XAI_OK);
    copy_params(m1, m2);
    enum { N = 3, NIN = 120 };
    float x[N * NIN], r1[N * NIN], r2[N * NIN];
    for (int k = 0; k < N * NIN; k++)
        x[k] = (float)sin(0.29 * k) * 1.5f;
    static const char *const comps[] = {"epsilon-plus-flat", "epsilon-alpha2-beta1", "epsilon-gamma-box", NULL};
    for (int t = 1; t <= 2; t++)
        for (int c = 0; c < 4; c++) {
            xai_explain_config cfg;
            xai_explain_config_init(&cfg);
            cfg.composite = comps[c];
            cfg.method = comps[c] ? cfg.method : XAI_METHOD_GRADIENT;
            cfg.have_bounds = 1;
            cfg.low = -1.5f;
            cfg.high = 1.5f;
            xai_set_num_threads(t);
            xai_explain_result a, b;
            ck_assert_int_eq(xai_explain(m1, &cfg, N, x, r1, &a), XAI_OK);
            ck_assert_int_eq(xai_explain(m2, &cfg, N, x, r2, &b), XAI_OK);
            double el = xai_test_rel_l2(a.logits, b.logits, N * 3);
            ck_assert_msg(el < 1e-6, "%d threads: the logits differ by rel L2 %.3g", t, el);
            xai_explain_result_free(&a);
            xai_explain_result_free(&b);
            double e = xai_test_rel_l2(r1, r2, N * NIN);
            ck_assert_msg(e < 1e-5, "%s, %d threads: tap vs im2col rel L2 %.3g", comps[c] ? comps[c] : "gradient", t, e);
        }
    xai_set_num_threads(1);
    xai_model_free(m1);
    xai_model_free(m2);
}
END_TEST

/* Which configurations put z-box on a layer: the composite's first convolution, a rule
   override, and nothing for a dense model's box composite (no convolution) or other methods. */
START_TEST(test_uses_zbox)
{
    const int64_t s1[2] = {2, 16}, s0[1] = {8};
    xai_model *conv, *dense;
    ck_assert_int_eq(xai_model_from_spec("conv1d(3,k=3) relu flatten dense(2)", 2, s1, 1, &conv), XAI_OK);
    ck_assert_int_eq(xai_model_from_spec("dense(4) relu dense(2)", 1, s0, 1, &dense), XAI_OK);
    static const struct {
        const char *composite, *rules;
        xai_method method;
        int conv, dense;
    } cases[] = {{"epsilon-gamma-box", NULL, XAI_METHOD_LRP, 1, 0},
                 {"epsilon-plus", NULL, XAI_METHOD_LRP, 0, 0},
                 {"epsilon-plus", "first=zbox", XAI_METHOD_LRP, 1, 1},
                 {"epsilon", "Gemm=zbox(-1,1)", XAI_METHOD_LRP, 1, 1},
                 {"epsilon-gamma-box", NULL, XAI_METHOD_GRADIENT, 0, 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        xai_explain_config c;
        xai_explain_config_init(&c);
        c.composite = cases[k].composite;
        c.rules = cases[k].rules;
        c.method = cases[k].method;
        int u = -1;
        ck_assert_int_eq(xai_explain_uses_zbox(conv, &c, &u), XAI_OK);
        ck_assert_msg(u == cases[k].conv, "case %zu, conv model: %d", k, u);
        ck_assert_int_eq(xai_explain_uses_zbox(dense, &c, &u), XAI_OK);
        ck_assert_msg(u == cases[k].dense, "case %zu, dense model: %d", k, u);
    }
    xai_explain_config c;
    xai_explain_config_init(&c);
    c.composite = "no-such";
    int u;
    ck_assert_int_eq(xai_explain_uses_zbox(conv, &c, &u), XAI_EINVAL);
    xai_model_free(conv);
    xai_model_free(dense);
}
END_TEST

START_TEST(test_threads_same_result)
{
    /* the thread pool splits samples (Conv) and rows (Dense); every map is bit-identical */
    const char *dir = xai_test_path(xai_test_data_dir(), "lrpref/cases/conv2d_dil_maxpool");
    xai_model *m;
    ck_assert_int_eq(xai_model_load_onnx(xai_test_path(dir, "model.onnx"), NULL, &m), XAI_OK);
    int64_t nin = xai_model_input_numel(m);
    enum { N = 9 };
    float *x = malloc(sizeof(float) * (size_t)(N * nin));
    float *r1 = malloc(sizeof(float) * (size_t)(N * nin)), *r2 = malloc(sizeof(float) * (size_t)(N * nin));
    for (int64_t k = 0; k < N * nin; k++)
        x[k] = (float)sin(0.11 * (double)k) * 2.0f;
    static const char *const comps[] = {"epsilon-plus-flat", "epsilon-gamma-box", "epsilon-alpha2-beta1"};
    for (int c = 0; c < 3; c++) {
        xai_explain_config cfg;
        xai_explain_config_init(&cfg);
        cfg.composite = comps[c];
        xai_set_num_threads(1);
        ck_assert_int_eq(xai_explain(m, &cfg, N, x, r1, NULL), XAI_OK);
        xai_set_num_threads(2);
        ck_assert_int_eq(xai_explain(m, &cfg, N, x, r2, NULL), XAI_OK);
        ck_assert_msg(memcmp(r1, r2, sizeof(float) * (size_t)(N * nin)) == 0, "%s differs with 2 threads", comps[c]);
        cfg.method = XAI_METHOD_GRADIENT;
        ck_assert_int_eq(xai_explain(m, &cfg, N, x, r2, NULL), XAI_OK);
        xai_set_num_threads(1);
        ck_assert_int_eq(xai_explain(m, &cfg, N, x, r1, NULL), XAI_OK);
        ck_assert_msg(memcmp(r1, r2, sizeof(float) * (size_t)(N * nin)) == 0, "gradient differs with 2 threads");
    }
    free(x);
    free(r1);
    free(r2);
    xai_model_free(m);
}
END_TEST

/* Big enough that a single sample's products are split over the pool (xai_sgemm) and the pool
 * also splits activations and pooling planes: 1 and 2 threads agree bitwise at batch 1 and in a
 * stack. Then three application threads explain at once, two of them with the same model (its
 * explanations take turns) and one with an identical second model (it competes for the pool,
 * which runs one job at a time; the other caller runs its job alone): all get the same maps. */
typedef struct {
    const xai_model *m;
    const float *x;
    float *r;
    int64_t n;
    xai_status st;
} explain_arg;

static void *explain_thread(void *p)
{
    explain_arg *a = p;
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    for (int k = 0; k < 5 && !a->st; k++)
        a->st = xai_explain(a->m, &cfg, a->n, a->x, a->r, NULL);
    return NULL;
}

START_TEST(test_threads_big_and_concurrent)
{
    int64_t shape[3] = {8, 64, 64};
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("conv2d(32,k=3,p=1) relu maxpool(2) conv2d(32,k=3,p=1) relu flatten dense(4)",
                                         3, shape, 9, &m),
                     XAI_OK);
    int64_t nin = xai_model_input_numel(m);
    enum { N = 3 };
    float *x = malloc(sizeof(float) * (size_t)(N * nin)), *r1 = malloc(sizeof(float) * (size_t)(N * nin)),
          *r2 = malloc(sizeof(float) * (size_t)(N * nin)), *r3 = malloc(sizeof(float) * (size_t)(N * nin)),
          *ra = malloc(sizeof(float) * (size_t)nin), *rb = malloc(sizeof(float) * (size_t)(2 * nin));
    for (int64_t k = 0; k < N * nin; k++)
        x[k] = (float)sin(0.031 * (double)k);
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    for (int n = 1; n <= N; n += N - 1) {
        xai_set_num_threads(1);
        ck_assert_int_eq(xai_explain(m, &cfg, n, x, r1, NULL), XAI_OK);
        xai_set_num_threads(2);
        ck_assert_int_eq(xai_explain(m, &cfg, n, x, r2, NULL), XAI_OK);
        ck_assert_msg(memcmp(r1, r2, sizeof(float) * (size_t)(n * nin)) == 0, "%d sample(s): 1 and 2 threads differ", n);
    }
    /* what the concurrent callers must get: sample 0 alone, samples 1-2 as a stack (one thread) */
    xai_set_num_threads(1);
    ck_assert_int_eq(xai_explain(m, &cfg, 1, x, ra, NULL), XAI_OK);
    ck_assert_int_eq(xai_explain(m, &cfg, 2, x + nin, rb, NULL), XAI_OK);
    xai_set_num_threads(2);
    /* three application threads at once, the pool at 2 threads */
    xai_model *m2;
    ck_assert_int_eq(xai_model_from_spec("conv2d(32,k=3,p=1) relu maxpool(2) conv2d(32,k=3,p=1) relu flatten dense(4)",
                                         3, shape, 9, &m2),
                     XAI_OK);
    float *r4 = malloc(sizeof(float) * (size_t)(2 * nin));
    explain_arg a = {m, x, r2, 1, XAI_OK}, b = {m2, x + nin, r3, 2, XAI_OK}, c = {m, x + nin, r4, 2, XAI_OK};
    pthread_t ta, tb, tc;
    ck_assert_int_eq(pthread_create(&ta, NULL, explain_thread, &a), 0);
    ck_assert_int_eq(pthread_create(&tb, NULL, explain_thread, &b), 0);
    ck_assert_int_eq(pthread_create(&tc, NULL, explain_thread, &c), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_join(tc, NULL);
    xai_set_num_threads(1);
    ck_assert_int_eq(a.st, XAI_OK);
    ck_assert_int_eq(b.st, XAI_OK);
    ck_assert_int_eq(c.st, XAI_OK);
    ck_assert_msg(memcmp(rb, r4, sizeof(float) * (size_t)(2 * nin)) == 0, "concurrent caller C differs");
    free(r4);
    xai_model_free(m2);
    ck_assert_msg(memcmp(ra, r2, sizeof(float) * (size_t)nin) == 0, "concurrent caller A differs");
    ck_assert_msg(memcmp(rb, r3, sizeof(float) * (size_t)(2 * nin)) == 0, "concurrent caller B differs");
    free(ra);
    free(rb);
    free(x);
    free(r1);
    free(r2);
    free(r3);
    xai_model_free(m);
}
END_TEST

/* The plan's workspaces share memory between buffers whose lifetimes do not overlap. Checked on
 * a residual model (a value with two consumers) and a chain: no two buffers that are alive at
 * the same step of an explanation overlap in memory; the relevance at every activation and at
 * the input, and the logits, are bitwise those of a workspace without sharing (forward, seed and
 * sweep on it); xai_model_prepare() makes the plan that the explanations then use unchanged. */
static int lifetimes_overlap(const xai_model *m, const xai_workspace *ws, int v, int av, int u, int au)
{
    int N = m->nnodes, p[2] = {m->vals[v].producer, m->vals[u].producer}, lo[2], hi[2];
    for (int k = 0; k < 2; k++) {
        int w = k ? u : v, adj = k ? au : av;
        hi[k] = p[k] < 0 ? 2 * N + 1 : 2 * N - p[k];
        lo[k] = p[k] < 0 ? 0 : !adj ? p[k] : ws->lastc[w] >= 0 ? 2 * N - ws->lastc[w] : w == m->output ? N : hi[k];
        if (adj && w == m->output && lo[k] > N)
            lo[k] = N;
    }
    return lo[0] <= hi[1] && lo[1] <= hi[0];
}

static void check_shared_layout(const xai_model *m, const xai_workspace *ws)
{
    for (int v = 0; v < m->nvals; v++)
        for (int u = 0; u < m->nvals; u++)
            for (int a = 0; a < 4 && !m->vals[v].is_const && !m->vals[u].is_const; a++) {
                int av = a & 1, au = a >> 1;
                if (u == v && av == au)
                    continue;
                const float *bv = av ? ws->adj[v] : ws->val[v], *bu = au ? ws->adj[u] : ws->val[u];
                size_t lv = (size_t)(m->vals[v].numel * ws->cap), lu = (size_t)(m->vals[u].numel * ws->cap);
                int mem = bv < bu + lu && bu < bv + lv;
                ck_assert_msg(!(mem && lifetimes_overlap(m, ws, v, av, u, au)),
                              "buffers of '%s' and '%s' overlap while both are alive", m->vals[v].name,
                              m->vals[u].name);
            }
}

/* model m (freed here), named case_dir in messages */
static void check_model_against_packed(xai_model *m, const char *case_dir, const char *composite, int64_t n)
{
    int64_t nin = xai_model_input_numel(m), nc = xai_model_output_numel(m);
    float *x = malloc(sizeof(float) * (size_t)(n * nin)), *r = malloc(sizeof(float) * (size_t)(n * nin));
    for (int64_t k = 0; k < n * nin; k++)
        x[k] = (float)sin(0.37 * (double)k + 0.2);
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    cfg.composite = composite;
    cfg.have_bounds = 1; /* ZBox: the same bounds on both sides */
    cfg.low = -1.5f;
    cfg.high = 1.5f;
    ck_assert_int_eq(xai_model_prepare(m, n, &cfg), XAI_OK);
    const void *plan = m->plan;
    xai_workspace *sh;
    ck_assert_int_eq(xai_workspace_new_shared(m, n, &sh), XAI_OK);
    check_shared_layout(m, sh);
    xai_workspace_free(sh);
    /* the reference: one stack on a workspace without sharing */
    xai_workspace *ws;
    xai_rule *rules;
    int *tg = malloc(sizeof(int) * (size_t)n);
    for (int64_t s = 0; s < n; s++)
        tg[s] = -1;
    ck_assert_int_eq(xai_workspace_new(m, n, &ws), XAI_OK);
    ws->bn_fold = cfg.bn == XAI_BN_FOLD;
    ck_assert_int_eq(xai_lrp_rules(m, &cfg, ws, &rules), XAI_OK);
    ck_assert_int_eq(xai_graph_forward(m, ws, n, x), XAI_OK);
    xai_ws_clear_adj(ws);
    ck_assert_int_eq(xai_lrp_seed(m, ws, &cfg, tg, NULL), XAI_OK);
    ck_assert_int_eq(xai_lrp_sweep_nodes(m, ws, rules, m->nnodes - 1, 0), XAI_OK);
    cfg.batch = n; /* one stack, as the reference */
    xai_explain_result res;
    ck_assert_int_eq(xai_explain(m, &cfg, n, x, r, &res), XAI_OK);
    ck_assert_msg(m->plan == plan, "the explanation did not use the prepared plan");
    ck_assert_msg(memcmp(r, ws->adj[m->input], sizeof(float) * (size_t)(n * nin)) == 0, "%s: input relevance differs",
                  case_dir);
    ck_assert_msg(memcmp(res.logits, ws->val[m->output], sizeof(float) * (size_t)(n * nc)) == 0, "logits differ");
    for (int v = 0; v < m->nvals; v++) {
        if (m->vals[v].is_const || v == m->input)
            continue;
        int64_t per = 0;
        float *rv = malloc(sizeof(float) * (size_t)(n * m->vals[v].numel));
        ck_assert_int_eq(xai_explain_value(m, &cfg, n, x, m->vals[v].name, rv, &per), XAI_OK);
        ck_assert_msg(memcmp(rv, ws->adj[v], sizeof(float) * (size_t)(n * per)) == 0, "%s: relevance at '%s' differs",
                      case_dir, m->vals[v].name);
        free(rv);
    }
    ck_assert_msg(m->plan == plan, "a later explanation replaced the prepared plan");
    xai_explain_result_free(&res);
    free(rules);
    free(tg);
    xai_workspace_free(ws);
    free(x);
    free(r);
    xai_model_free(m);
}

static void check_against_packed(const char *case_dir, const char *composite, int64_t n)
{
    xai_model *m;
    ck_assert_int_eq(xai_model_load_onnx(xai_test_path(case_dir, "model.onnx"), NULL, &m), XAI_OK);
    check_model_against_packed(m, case_dir, composite, n);
}

/* Explain x with c on the model loaded fresh from @p path into r. */
static void explain_fresh(const char *path, const xai_explain_config *c, const float *x, float *r)
{
    xai_model *m;
    ck_assert_int_eq(xai_model_load_onnx(path, NULL, &m), XAI_OK);
    ck_assert_int_eq(xai_explain(m, c, 1, x, r, NULL), XAI_OK);
    xai_model_free(m);
}

START_TEST(test_rules_follow_settings)
{
    /* one model explains with settings that change from call to call (the composite, a rule
       parameter, overrides rewritten in the same buffer, and back): each map is, bit for bit,
       the one a freshly loaded model gives, so rules kept from an earlier call never leak */
    const char *dir = xai_test_path(xai_test_data_dir(), "lrpref/cases/conv2d_dil_maxpool");
    char path[1024], rules[64] = "";
    snprintf(path, sizeof path, "%s", xai_test_path(dir, "model.onnx"));
    xai_model *m;
    ck_assert_int_eq(xai_model_load_onnx(path, NULL, &m), XAI_OK);
    int64_t nin = xai_model_input_numel(m);
    float *x = malloc(sizeof(float) * (size_t)nin), *r = malloc(sizeof(float) * (size_t)nin),
          *f = malloc(sizeof(float) * (size_t)nin), *prev = malloc(sizeof(float) * (size_t)nin);
    for (int64_t k = 0; k < nin; k++)
        x[k] = (float)sin(0.37 * (double)k) * 2.0f;
    xai_explain_config c;
    xai_explain_config_init(&c);
    c.rules = rules;
    static const struct { const char *composite, *rules; float epsilon, gamma; } steps[] = {
        {"epsilon-plus-flat", "", 1e-6f, 0.25f},       {"epsilon", "", 1e-6f, 0.25f},
        {"epsilon", "", 0.25f, 0.25f},                 {"epsilon-gamma-box", "", 0.25f, 0.25f},
        {"epsilon-gamma-box", "", 0.25f, 1.0f},        {"epsilon-gamma-box", "first=flat", 0.25f, 1.0f},
        {"epsilon-gamma-box", "first=wsquare", 0.25f, 1.0f}, {"epsilon-plus-flat", "", 1e-6f, 0.25f},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        c.composite = steps[i].composite;
        snprintf(rules, sizeof rules, "%s", steps[i].rules);
        c.epsilon = steps[i].epsilon;
        c.gamma = steps[i].gamma;
        ck_assert_int_eq(xai_explain(m, &c, 1, x, r, NULL), XAI_OK);
        explain_fresh(path, &c, x, f);
        ck_assert_msg(memcmp(r, f, sizeof(float) * (size_t)nin) == 0, "step %zu (%s, '%s'): differs from a fresh model",
                      i, steps[i].composite, steps[i].rules);
        ck_assert_msg(i == 0 || memcmp(r, prev, sizeof(float) * (size_t)nin) != 0, "step %zu changes nothing", i);
        memcpy(prev, r, sizeof(float) * (size_t)nin);
    }
    free(x);
    free(r);
    free(f);
    free(prev);
    xai_model_free(m);
}
END_TEST

START_TEST(test_prepared_shared_workspace)
{
    xai_set_num_threads(1);
    static const char *const cases[] = {"residual_add", "conv2d_dil_maxpool", "conv_bn_keep"};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *dir = xai_test_path(xai_test_data_dir(), "lrpref/cases");
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, cases[c]);
        check_against_packed(path, "epsilon-plus-flat", 1);
        check_against_packed(path, "epsilon-gamma-box", 3);
    }
    /* a convolution straight after another (as in the EEG app's model): under Flat on the first
       and z+ or epsilon on the second, the second writes its input's relevance over that input's
       activation; under alpha2-beta1, whose second product reads the input again, it does not */
    static const char *const comps[] = {"epsilon-plus-flat", "epsilon-alpha2-beta1-flat"};
    for (size_t c = 0; c < 2; c++)
        for (int64_t n = 1; n <= 3; n += 2) {
            int64_t in_shape[3] = {1, 9, 12};
            xai_model *cc;
            ck_assert_int_eq(xai_model_from_spec("conv2d(6,k=3,p=1) conv2d(5,k=3,p=1) relu flatten dense(3)", 3,
                                                 in_shape, 7, &cc),
                             XAI_OK);
            check_model_against_packed(cc, "conv-conv", comps[c], n);
        }
    /* the layout saves memory on a chain: relevance buffers reuse dead ones */
    int64_t shape[3] = {2, 16, 16};
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("conv2d(8,k=3,p=1) relu conv2d(8,k=3,p=1) relu flatten dense(3)", 3, shape, 1,
                                         &m),
                     XAI_OK);
    xai_workspace *a, *b;
    ck_assert_int_eq(xai_workspace_new(m, 4, &a), XAI_OK);
    ck_assert_int_eq(xai_workspace_new_shared(m, 4, &b), XAI_OK);
    check_shared_layout(m, b);
    ck_assert_msg(b->bufmem_len < a->bufmem_len * 3 / 4, "shared %zu floats, packed %zu", b->bufmem_len, a->bufmem_len);
    xai_workspace_free(a);
    xai_workspace_free(b);
    ck_assert_int_eq(xai_model_prepare(m, 0, NULL), XAI_EINVAL);
    xai_model_free(m);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("lrp");
    TCase *tc = tcase_create("reference");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_reference_zennit);
    tcase_add_test(tc, test_reference_zennit_cli);
    tcase_add_test(tc, test_reference_lrpref);
    tcase_add_test(tc, test_batched_equals_single);
    tcase_add_test(tc, test_bn_not_foldable);
    tcase_add_test(tc, test_zplus_nobias);
    tcase_add_test(tc, test_per_sample_targets);
    tcase_add_test(tc, test_zbox_bounds_per_sample);
    tcase_add_test(tc, test_zbox_bounds_per_element);
    tcase_add_test(tc, test_tap_path_matches_im2col);
    tcase_add_test(tc, test_uses_zbox);
    tcase_add_test(tc, test_threads_same_result);
    tcase_add_test(tc, test_threads_big_and_concurrent);
    tcase_add_test(tc, test_prepared_shared_workspace);
    tcase_add_test(tc, test_rules_follow_settings);
    suite_add_tcase(s, tc);
    return s;
}
