/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-crp.c - Concept Relevance Propagation: the concept maps of all channels of a layer add
 * up to the plain LRP map, concept relevances add up to the relevance at that layer as
 * xai_explain() reports it, a channel wired to a planted feature is the top concept, and
 * malformed requests fail with a message.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "graph-int.h"
#include "splitmix.h"
#include "test-common.h"
#include "xai.h"
#include "xai/crp.h"
#include "xai/npy.h"
#include "xai/train.h"

static xai_model *build(const char *spec, int nd, const int64_t *shape, uint64_t seed)
{
    xai_model *m = NULL;
    xai_status st = xai_model_from_spec(spec, nd, shape, seed, &m);
    ck_assert_msg(st == XAI_OK, "%s: %s", spec, xai_last_error());
    return m;
}

static float *noise(int64_t n, uint64_t seed)
{
    float *x = malloc(sizeof(float) * (size_t)n);
    uint64_t s = seed;
    for (int64_t k = 0; k < n; k++)
        x[k] = (float)((double)(xai_splitmix64(&s) >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    return x;
}

/* The first node of an op type (its index), or -1. */
static int node_of(const xai_model *m, const char *op, int nth)
{
    for (int i = 0; i < xai_model_node_count(m); i++)
        if (strcmp(xai_model_node_op(m, i), op) == 0 && nth-- == 0)
            return i;
    return -1;
}

typedef struct {
    const char *spec;
    int nd;
    int64_t shape[3];
    const char *op;      /* the concept layer: the first node of this op type */
    const char *composite;
} crp_case;

static const crp_case cases[] = {
    {"conv1d(6,k=5) relu maxpool(2) conv1d(5,k=3) relu flatten dense(4) relu dense(3)", 2, {3, 40}, "Conv",
     "epsilon-plus-flat"},
    {"conv2d(4,k=3) bn relu conv2d(6,k=3) relu gap dense(3)", 3, {2, 10, 10}, "Relu", "epsilon-plus"},
    {"conv1d(6,k=5) relu flatten dense(8) relu dense(3)", 2, {3, 30}, "Gemm", "epsilon"},
    {"lstm(7) dense(3)", 2, {12, 4}, "LSTM", "epsilon"},
    {"conv2d(4,k=3) bn relu maxpool(2) flatten dense(3)", 3, {2, 10, 10}, "Conv", "epsilon-gamma-box"},
};

/* One case: maps of every channel sum to the LRP map; concept relevances to the layer's. */
static void check_case(const crp_case *c)
{
    xai_model *m = build(c->spec, c->nd, c->shape, 7);
    int node = node_of(m, c->op, 0);
    ck_assert_int_ge(node, 0);
    const char *layer = xai_model_node_name(m, node);
    int64_t nch = 0, per = 0, nin = xai_model_input_numel(m), n = 5;
    ck_assert_int_eq(xai_crp_layer(m, layer, &nch, &per), XAI_OK);
    ck_assert_int_gt(nch, 1);
    float *x = noise(n * nin, 11);
    for (int64_t k = 0; k < n * nin; k++)
        x[k] += 0.3f; /* mostly positive inputs, so ReLUs are neither all on nor all off */
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    cfg.composite = c->composite;
    float *rel = malloc(sizeof(float) * (size_t)(n * nin));
    xai_explain_result res;
    ck_assert_msg(xai_explain(m, &cfg, n, x, rel, &res) == XAI_OK, "%s", xai_last_error());
    int *ch = malloc(sizeof(int) * (size_t)nch);
    for (int q = 0; q < nch; q++)
        ch[q] = q;
    float *maps = malloc(sizeof(float) * (size_t)(n * nch * nin));
    double *crel = malloc(sizeof(double) * (size_t)(n * nch));
    int tg[5];
    ck_assert_msg(xai_crp_explain(m, &cfg, layer, n, x, (int)nch, ch, maps, crel, tg) == XAI_OK, "%s",
                  xai_last_error());
    for (int64_t s = 0; s < n; s++) {
        ck_assert_int_eq(tg[s], res.target[s]);
        double err = 0, scale = 0, csum = 0;
        for (int64_t k = 0; k < nin; k++) {
            double sum = 0;
            for (int64_t q = 0; q < nch; q++)
                sum += maps[(s * nch + q) * nin + k];
            err = fmax(err, fabs(sum - rel[s * nin + k]));
            scale = fmax(scale, fabs(rel[s * nin + k]));
        }
        ck_assert_msg(scale > 0 && err <= 1e-4 * scale, "%s sample %lld: max |sum of concept maps - LRP| = %g "
                      "(max |LRP| %g)", c->spec, (long long)s, err, scale);
        for (int64_t q = 0; q < nch; q++)
            csum += crel[s * nch + q];
        /* the relevance at the layer: what its node received, or for an LSTM (whose final state
           is a second output) what the next node handed down */
        int lstm = strcmp(c->op, "LSTM") == 0;
        double at = lstm ? res.layer_in_sum[s * res.nlayers + node + 1] : res.layer_out_sum[s * res.nlayers + node];
        ck_assert_msg(fabs(csum - at) <= 1e-4 * (fabs(at) + 1e-3), "%s sample %lld: concepts %g, layer %g", c->spec,
                      (long long)s, csum, at);
    }
    free(maps);
    free(crel);
    free(ch);
    free(rel);
    free(x);
    xai_explain_result_free(&res);
    xai_model_free(m);
}

START_TEST(test_maps_sum_to_lrp)
{
    check_case(&cases[_i]);
}
END_TEST

/* conv1d(3,k=1) relu gap dense(2) wired by hand: channel 1 alone sees input channel 0, where
   the planted bump lives, and alone feeds class 1 strongly; channels 0 and 2 see the
   background channel. Class 1's top concept must be channel 1, and its map must put its mass
   on the bump. */
START_TEST(test_planted_channel_is_top)
{
    int64_t shape[2] = {2, 32};
    xai_model *m = build("conv1d(3,k=1) relu gap dense(2)", 2, shape, 3);
    int ci = node_of(m, "Conv", 0), gi = node_of(m, "Gemm", 0);
    ck_assert(ci >= 0 && gi >= 0);
    xai_node *conv = &m->nodes[ci], *gemm = &m->nodes[gi];
    float *w = m->vals[conv->in[1]].f; /* [3][2][1] */
    const float cw[3][2] = {{0.0f, 0.6f}, {1.0f, 0.0f}, {0.0f, 0.5f}};
    for (int o = 0; o < 3; o++)
        for (int i = 0; i < 2; i++)
            w[o * 2 + i] = cw[o][i];
    if (conv->nin > 2 && conv->in[2] >= 0)
        memset(m->vals[conv->in[2]].f, 0, sizeof(float) * 3);
    float *b;
    int64_t no, ni;
    float *gw = xai_gemm_weights(gemm, &b, &no, &ni);
    ck_assert(no == 2 && ni == 3);
    const float dw[2][3] = {{0.5f, 0.1f, 0.5f}, {0.2f, 2.0f, 0.2f}};
    memcpy(gw, dw, sizeof dw);
    if (b)
        b[0] = b[1] = 0;
    xai_gemm_sync(m, gemm);

    float x[2 * 32];
    uint64_t s = 5;
    for (int k = 0; k < 64; k++)
        x[k] = 0.2f + 0.1f * (float)((double)(xai_splitmix64(&s) >> 11) / 9007199254740992.0);
    for (int t = 12; t < 18; t++)
        x[t] += 3.0f; /* the bump, on input channel 0 */
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    cfg.composite = "epsilon";
    cfg.target = 1;
    int all[3] = {0, 1, 2}, top[2];
    float maps[3 * 64];
    double crel[3];
    const char *layer = xai_model_node_name(m, ci);
    ck_assert_msg(xai_crp_explain(m, &cfg, layer, 1, x, 3, all, maps, crel, NULL) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(xai_crp_top(crel, 3, 2, top), 2);
    ck_assert_msg(top[0] == 1, "top concept %d (relevances %g %g %g)", top[0], crel[0], crel[1], crel[2]);
    ck_assert(crel[1] > crel[top[1]]);
    double bump = 0, total = 0;
    for (int k = 0; k < 64; k++) {
        total += fabs(maps[64 + k]);
        bump += (k >= 12 && k < 18) ? fabs(maps[64 + k]) : 0;
    }
    ck_assert_msg(bump > 0.5 * total, "concept 1 puts %g of %g on the bump", bump, total);
    xai_model_free(m);
}
END_TEST

START_TEST(test_top_order_and_ties)
{
    const double r[5] = {0.5, -2.0, 0.5, 3.0, 0.1};
    int idx[8];
    ck_assert_int_eq(xai_crp_top(r, 5, 3, idx), 3);
    ck_assert_int_eq(idx[0], 3);
    ck_assert_int_eq(idx[1], 0); /* tie with 2: lower index first */
    ck_assert_int_eq(idx[2], 2);
    ck_assert_int_eq(xai_crp_top(r, 5, 8, idx), 5);
    ck_assert_int_eq(idx[4], 1);
}
END_TEST

START_TEST(test_bad_requests)
{
    int64_t shape[2] = {2, 16};
    xai_model *m = build("conv1d(3,k=3) relu flatten dense(2)", 2, shape, 1);
    const char *layer = xai_model_node_name(m, node_of(m, "Conv", 0));
    float x[32] = {0}, maps[3 * 32];
    double crel[3];
    int bad = 3, ok = 0;
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    ck_assert_int_eq(xai_crp_explain(m, &cfg, "nope", 1, x, 0, NULL, NULL, crel, NULL), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "nope"));
    ck_assert_int_eq(xai_crp_explain(m, &cfg, layer, 1, x, 1, &bad, maps, crel, NULL), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "out of range"));
    ck_assert_int_eq(xai_crp_explain(m, &cfg, layer, 1, x, 1, &ok, NULL, crel, NULL), XAI_EINVAL);
    ck_assert_int_eq(xai_crp_explain(m, &cfg, layer, 0, x, 0, NULL, NULL, crel, NULL), XAI_EINVAL);
    cfg.target = 5;
    ck_assert_int_eq(xai_crp_explain(m, &cfg, layer, 1, x, 0, NULL, NULL, crel, NULL), XAI_EINVAL);
    cfg.target = -1;
    cfg.method = XAI_METHOD_GRADIENT;
    ck_assert_int_eq(xai_crp_explain(m, &cfg, layer, 1, x, 0, NULL, NULL, crel, NULL), XAI_EINVAL);
    ck_assert_int_eq(xai_crp_layer(m, xai_model_node_name(m, 0), NULL, NULL), XAI_OK);
    xai_model_free(m);
}
END_TEST

/* Reference samples: each channel's list is that channel's column of concept relevances,
   sorted; k beyond n pads with -1. */
START_TEST(test_refs_are_sorted_concept_relevances)
{
    int64_t shape[2] = {2, 20};
    xai_model *m = build("conv1d(3,k=3) relu flatten dense(2)", 2, shape, 2);
    const char *layer = xai_model_node_name(m, node_of(m, "Conv", 0));
    int64_t n = 9, nin = 40;
    float *x = noise(n * nin, 8);
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    double crel[9 * 3], val[3 * 12];
    int64_t idx[3 * 12];
    ck_assert_int_eq(xai_crp_explain(m, &cfg, layer, n, x, 0, NULL, NULL, crel, NULL), XAI_OK);
    ck_assert_int_eq(xai_crp_refs(m, &cfg, layer, n, x, 12, idx, val), XAI_OK);
    for (int c = 0; c < 3; c++) {
        int seen[9] = {0};
        for (int q = 0; q < 9; q++) {
            int64_t s = idx[c * 12 + q];
            ck_assert(s >= 0 && s < 9 && !seen[s]);
            seen[s] = 1;
            ck_assert(fabs(val[c * 12 + q] - crel[s * 3 + c]) <= 1e-12);
            if (q)
                ck_assert(val[c * 12 + q] <= val[c * 12 + q - 1]);
        }
        for (int q = 9; q < 12; q++)
            ck_assert_int_eq(idx[c * 12 + q], -1);
    }
    ck_assert_int_eq(xai_crp_refs(m, &cfg, layer, n, x, 0, idx, val), XAI_EINVAL);
    free(x);
    xai_model_free(m);
}
END_TEST

/* xai-explain --concepts: a stack of 3 through the program; all channels listed, the concept
   maps sum to the plain map it writes, the TSV has a row per sample and concept whose shares
   sum to 1; a bad layer is a data error (1), a bad spec a usage error (2). */
START_TEST(test_cli_concepts)
{
    const char *root = getenv("XAI_BUILD_ROOT");
    if (!root) {
        xai_test_mark_skip();
        return;
    }
    int64_t shape[2] = {2, 24};
    void *bytes;
    size_t len;
    ck_assert_int_eq(xai_arch_build_onnx("conv1d(4,k=3) relu maxpool(2) flatten dense(3)", 2, shape, 9, &bytes, &len),
                     XAI_OK);
    char *tmp = xai_test_tmpdir(), path[1024], cmd[4096];
    snprintf(path, sizeof path, "%s/m.onnx", tmp);
    FILE *f = fopen(path, "wb");
    ck_assert(f && fwrite(bytes, 1, len, f) == len);
    fclose(f);
    free(bytes);
    float *x = noise(3 * 48, 4);
    int64_t xs[3] = {3, 2, 24};
    snprintf(path, sizeof path, "%s/x.npy", tmp);
    ck_assert_int_eq(xai_npy_save(path, 3, xs, x), XAI_OK);
    snprintf(cmd, sizeof cmd, "%s/apps/xai-explain %s/m.onnx %s/x.npy -o %s/r.npy --composite epsilon -q "
             "--concepts conv0:channels=0,1,2,3", root, tmp, tmp, tmp);
    ck_assert_msg(system(cmd) == 0, "%s", cmd);
    xai_npy r, c;
    ck_assert_int_eq(xai_npy_load(xai_test_path(tmp, "r.npy"), &r), XAI_OK);
    ck_assert_int_eq(xai_npy_load(xai_test_path(tmp, "r.concepts.npy"), &c), XAI_OK);
    ck_assert_int_eq(c.ndim, 4);
    ck_assert(c.shape[0] == 3 && c.shape[1] == 4 && c.shape[2] == 2 && c.shape[3] == 24);
    for (int s = 0; s < 3; s++)
        for (int k = 0; k < 48; k++) {
            double sum = 0;
            for (int q = 0; q < 4; q++)
                sum += c.data[(s * 4 + q) * 48 + k];
            ck_assert_msg(fabs(sum - r.data[s * 48 + k]) <= 1e-5 + 1e-4 * fabs(r.data[s * 48 + k]), "%g vs %g", sum,
                          r.data[s * 48 + k]);
        }
    size_t tl;
    char *tsv = xai_test_read_file(xai_test_path(tmp, "r.concepts.tsv"), &tl);
    ck_assert_ptr_nonnull(tsv);
    ck_assert_ptr_nonnull(strstr(tsv, "sample\tclass\tlayer\tconcept\tchannel\trelevance\tshare\n"));
    int rows = 0;
    double share[3] = {0};
    for (char *l = strchr(tsv, '\n') + 1; *l; l = strchr(l, '\n') + 1, rows++) {
        int smp, cls, q, ch;
        double rl, sh;
        ck_assert_int_eq(sscanf(l, "%d\t%d\tconv0\t%d\t%d\t%lf\t%lf", &smp, &cls, &q, &ch, &rl, &sh), 6);
        ck_assert(smp >= 0 && smp < 3 && q == ch);
        share[smp] += sh;
    }
    ck_assert_int_eq(rows, 12);
    for (int s = 0; s < 3; s++)
        ck_assert_msg(fabs(share[s] - 1) < 1e-6, "shares of sample %d sum to %g", s, share[s]);
    free(tsv);
    void *side = xai_test_read_file(xai_test_path(tmp, "r.concepts.json"), &tl);
    ck_assert_ptr_nonnull(side);
    ck_assert_ptr_nonnull(strstr(side, "\"LayerChannels\": 4"));
    free(side);
    snprintf(cmd, sizeof cmd, "%s/apps/xai-explain %s/m.onnx %s/x.npy -o %s/q.npy -q --concepts nolayer:top=2 "
             "2>/dev/null", root, tmp, tmp, tmp);
    ck_assert_int_eq(WEXITSTATUS(system(cmd)), 1);
    snprintf(cmd, sizeof cmd, "%s/apps/xai-explain %s/m.onnx %s/x.npy -o %s/q.npy -q --concepts conv0:top=x "
             "2>/dev/null", root, tmp, tmp, tmp);
    ck_assert_int_eq(WEXITSTATUS(system(cmd)), 2);
    xai_npy_free(&r);
    xai_npy_free(&c);
    free(x);
    xai_test_rmtree(tmp);
    free(tmp);
}
END_TEST

/* xai-crp refs: the TSV lists, per concept, the samples xai_crp_refs() ranks, in order; the
   reference stack holds those inputs. */
START_TEST(test_cli_refs)
{
    const char *root = getenv("XAI_BUILD_ROOT");
    if (!root) {
        xai_test_mark_skip();
        return;
    }
    int64_t shape[2] = {2, 16};
    void *bytes;
    size_t len;
    ck_assert_int_eq(xai_arch_build_onnx("conv1d(3,k=3) relu flatten dense(2)", 2, shape, 6, &bytes, &len), XAI_OK);
    xai_model *m = NULL;
    ck_assert_int_eq(xai_model_load_onnx_mem(bytes, len, "m", NULL, &m), XAI_OK);
    char *tmp = xai_test_tmpdir(), cmd[4096];
    FILE *f = fopen(xai_test_path(tmp, "m.onnx"), "wb");
    ck_assert(f && fwrite(bytes, 1, len, f) == len);
    fclose(f);
    free(bytes);
    int64_t n = 10, xs[3] = {10, 2, 16};
    float *x = noise(n * 32, 12), y[10];
    int tg[10];
    for (int s = 0; s < 10; s++)
        y[s] = (float)(tg[s] = s % 2);
    int64_t ys[1] = {10};
    ck_assert_int_eq(xai_npy_save(xai_test_path(tmp, "x.npy"), 3, xs, x), XAI_OK);
    ck_assert_int_eq(xai_npy_save(xai_test_path(tmp, "y.npy"), 1, ys, y), XAI_OK);
    snprintf(cmd, sizeof cmd, "%s/apps/xai-crp refs %s/m.onnx %s/x.npy --layer conv0 --top 4 --labels %s/y.npy "
             "-o %s/refs.tsv --samples %s/refs.npy -q", root, tmp, tmp, tmp, tmp, tmp);
    ck_assert_msg(system(cmd) == 0, "%s", cmd);
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    cfg.targets = tg;
    int64_t idx[12];
    double val[12];
    ck_assert_int_eq(xai_crp_refs(m, &cfg, "conv0", n, x, 4, idx, val), XAI_OK);
    size_t tl;
    char *tsv = xai_test_read_file(xai_test_path(tmp, "refs.tsv"), &tl);
    ck_assert_ptr_nonnull(tsv);
    int rows = 0;
    for (char *l = strchr(tsv, '\n') + 1; *l; l = strchr(l, '\n') + 1, rows++) {
        int c, q, cls;
        long long smp;
        double r, sh;
        ck_assert_int_eq(sscanf(l, "%d\t%d\t%lld\t%d\t%lf\t%lf", &c, &q, &smp, &cls, &r, &sh), 6);
        ck_assert_int_eq(rows, c * 4 + q);
        ck_assert_int_eq(smp, idx[c * 4 + q]);
        ck_assert_int_eq(cls, tg[smp]);
        ck_assert(fabs(r - val[c * 4 + q]) <= 1e-6 * (fabs(r) + 1e-9));
    }
    ck_assert_int_eq(rows, 12);
    free(tsv);
    xai_npy st;
    ck_assert_int_eq(xai_npy_load(xai_test_path(tmp, "refs.npy"), &st), XAI_OK);
    ck_assert(st.ndim == 4 && st.shape[0] == 3 && st.shape[1] == 4);
    for (int k = 0; k < 12; k++)
        ck_assert(memcmp(st.data + k * 32, x + idx[k] * 32, sizeof(float) * 32) == 0);
    xai_npy_free(&st);
    snprintf(cmd, sizeof cmd, "%s/apps/xai-crp refs %s/m.onnx %s/x.npy --layer conv0 -o %s/refs.tsv -q 2>/dev/null",
             root, tmp, tmp, tmp);
    ck_assert_int_eq(WEXITSTATUS(system(cmd)), 1); /* exists, no --force */
    snprintf(cmd, sizeof cmd, "%s/apps/xai-crp refs %s/m.onnx %s/y.npy --layer conv0 -o %s/r2.tsv -q 2>/dev/null",
             root, tmp, tmp, tmp);
    ck_assert_int_eq(WEXITSTATUS(system(cmd)), 1); /* not a stack of inputs */
    snprintf(cmd, sizeof cmd, "%s/apps/xai-crp refs %s/m.onnx %s/x.npy -o %s/r3.tsv -q 2>/dev/null", root, tmp, tmp,
             tmp);
    ck_assert_int_eq(WEXITSTATUS(system(cmd)), 2); /* no --layer */
    free(x);
    xai_model_free(m);
    xai_test_rmtree(tmp);
    free(tmp);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("crp");
    TCase *tc = tcase_create("crp");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_maps_sum_to_lrp, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, test_planted_channel_is_top);
    tcase_add_test(tc, test_top_order_and_ties);
    tcase_add_test(tc, test_bad_requests);
    tcase_add_test(tc, test_cli_concepts);
    tcase_add_test(tc, test_refs_are_sorted_concept_relevances);
    tcase_add_test(tc, test_cli_refs);
    suite_add_tcase(s, tc);
    return s;
}
