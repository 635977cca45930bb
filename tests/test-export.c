/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-export.c - ONNX export: round trips keep every weight bit-exact and the logits identical,
 * changed weights are what gets written, BatchNormalization folding (Conv with and without
 * bias, Gemm with transB 0/1, alpha/beta, BN on the graph output) keeps the logits, metadata
 * round trips, opset raising rewrites Squeeze/Unsqueeze/Dropout, python3-onnx accepts the
 * results, and writes are atomic (no temp file left behind, failures leave the target alone).
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "graph-int.h"
#include "test-common.h"
#include "xai.h"
#include "xai/train.h"

static const char *data_path(const char *rest)
{
    return xai_test_path(xai_test_data_dir(), rest);
}

static xai_model *load_file(const char *path)
{
    xai_model *m = NULL;
    xai_status st = xai_model_load_onnx(path, NULL, &m);
    ck_assert_msg(st == XAI_OK, "%s: %s", path, xai_last_error());
    return m;
}

static xai_model *reload(const xai_model *m, const xai_export_options *o)
{
    void *bytes;
    size_t len;
    xai_status st = xai_model_save_onnx_mem(m, o, &bytes, &len);
    ck_assert_msg(st == XAI_OK, "export: %s", xai_last_error());
    xai_model *r = NULL;
    st = xai_model_load_onnx_mem(bytes, len, "exported", NULL, &r);
    ck_assert_msg(st == XAI_OK, "reload: %s", xai_last_error());
    free(bytes);
    return r;
}

static void fill(float *x, int64_t n, uint64_t seed)
{
    for (int64_t k = 0; k < n; k++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        x[k] = (float)((double)(seed >> 40) / (double)(1 << 24)) * 2.0f - 1.0f;
    }
}

/* logits of n deterministic random samples (malloc'ed) */
static float *logits(const xai_model *m, int64_t n)
{
    int64_t ni = xai_model_input_numel(m), no = xai_model_output_numel(m);
    float *x = malloc(sizeof(float) * (size_t)(n * ni)), *y = malloc(sizeof(float) * (size_t)(n * no));
    fill(x, n * ni, 2024);
    xai_workspace *ws;
    ck_assert_int_eq(xai_workspace_new(m, n, &ws), XAI_OK);
    ck_assert_msg(xai_model_forward(m, ws, n, x, y) == XAI_OK, "%s", xai_last_error());
    xai_workspace_free(ws);
    free(x);
    return y;
}

static double max_abs_diff(const float *a, const float *b, int64_t n, double *scale)
{
    double d = 0, s = 0;
    for (int64_t k = 0; k < n; k++) {
        if (fabs(a[k] - b[k]) > d)
            d = fabs(a[k] - b[k]);
        if (fabs(b[k]) > s)
            s = fabs(b[k]);
    }
    if (scale)
        *scale = s;
    return d;
}

static int count_op(const xai_model *m, const char *op)
{
    int c = 0;
    for (int i = 0; i < xai_model_node_count(m); i++)
        c += strcmp(xai_model_node_op(m, i), op) == 0;
    return c;
}

/* every float constant of a that b also has carries identical bits */
static void same_weights(const xai_model *a, const xai_model *b)
{
    int n = 0;
    for (int v = 0; v < a->nvals; v++) {
        const xai_value *x = &a->vals[v];
        if (!x->is_const || x->dtype != DT_F32 || x->producer >= 0)
            continue;
        int w = xai_model_find_value(b, x->name);
        ck_assert_msg(w >= 0, "'%s' missing after export", x->name);
        ck_assert_int_eq(b->vals[w].numel, x->numel);
        ck_assert_msg(memcmp(b->vals[w].f, x->f, sizeof(float) * (size_t)x->numel) == 0, "'%s' changed", x->name);
        n++;
    }
    ck_assert_int_gt(n, 0);
}

/* ------------------------------------------------------------ round trips */

START_TEST(test_roundtrip_identical)
{
    int64_t sh[2] = {4, 32};
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("conv1d(6,k=5,p=2) bn relu maxpool(2) lstm(5,bidirectional) dense(3)", 2,
                                         sh, 3, &m), XAI_OK);
    xai_export_options keep = {1, 0};
    xai_model *r = reload(m, &keep);
    same_weights(m, r);
    ck_assert_int_eq(xai_model_node_count(r), xai_model_node_count(m));
    float *a = logits(m, 4), *b = logits(r, 4);
    ck_assert_int_eq(memcmp(a, b, sizeof(float) * 12), 0);
    ck_assert_int_eq(xai_model_opset(r), 17);
    free(a);
    free(b);
    xai_model_free(r);

    /* fixtures: identical weights and logits (no BN in them except bn_residual_arith) */
    static const char *const files[] = {"onnx/ops/conv1d.onnx", "onnx/ops/conv2d.onnx",
                                        "onnx/ops/conv3d_avgpool.onnx", "onnx/ops/dense_softmax.onnx",
                                        "onnx/ops/movement.onnx", "onnx/ops/pool2d.onnx",
                                        "onnx/conserve/cnn_bias1.onnx"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        xai_model *f = load_file(data_path(files[i]));
        xai_model *g = reload(f, NULL);
        same_weights(f, g);
        float *p = logits(f, 2), *q = logits(g, 2);
        ck_assert_msg(memcmp(p, q, sizeof(float) * (size_t)(2 * xai_model_output_numel(f))) == 0, "%s", files[i]);
        free(p);
        free(q);
        xai_model_free(f);
        xai_model_free(g);
    }
    xai_model_free(m);
}
END_TEST

/* training writes into m->vals; the export must carry those values */
START_TEST(test_modified_weights)
{
    int64_t sh[2] = {3, 20};
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("conv1d(4,k=3) tanh flatten dense(2)", 2, sh, 1, &m), XAI_OK);
    float *before = logits(m, 3);
    int vw = xai_model_find_value(m, "conv0.weight"), vb = xai_model_find_value(m, "conv0.bias");
    ck_assert_int_ge(vw, 0);
    for (int64_t k = 0; k < m->vals[vw].numel; k++)
        m->vals[vw].f[k] *= -1.5f;
    m->vals[vb].f[1] += 0.75f;
    int vd = xai_model_find_value(m, "dense3.weight");
    m->vals[vd].f[5] = 0.125f;
    xai_model *r = reload(m, NULL);
    same_weights(m, r);
    int rd = xai_model_find_value(r, "dense3.weight");
    ck_assert_float_eq(r->vals[rd].f[5], 0.125f);
    float *after = logits(r, 3);
    double sc;
    ck_assert_double_gt(max_abs_diff(after, before, 6, &sc), 1e-3);
    /* a second round trip changes nothing */
    xai_model *r2 = reload(r, NULL);
    float *again = logits(r2, 3);
    ck_assert_int_eq(memcmp(after, again, sizeof(float) * 6), 0);
    free(before);
    free(after);
    free(again);
    xai_model_free(r2);
    xai_model_free(r);

    /* a conv-only change: the exported model reproduces the modified model's logits */
    xai_model *c;
    ck_assert_int_eq(xai_model_from_spec("conv1d(4,k=3) tanh flatten dense(2)", 2, sh, 1, &c), XAI_OK);
    int cw = xai_model_find_value(c, "conv0.weight");
    for (int64_t k = 0; k < c->vals[cw].numel; k++)
        c->vals[cw].f[k] = c->vals[cw].f[k] * 0.5f + 0.01f * (float)k;
    float *cm = logits(c, 3);
    xai_model *cr = reload(c, NULL);
    float *cx = logits(cr, 3);
    ck_assert_double_lt(max_abs_diff(cx, cm, 6, &sc), 1e-6 * (1 + sc));
    free(cm);
    free(cx);
    xai_model_free(cr);
    xai_model_free(c);
    xai_model_free(m);
}
END_TEST

/* ------------------------------------------------------------ BN folding */

static void check_fold(xai_model *m, const char *what, int want_bn_after)
{
    xai_model *folded = reload(m, NULL);
    xai_export_options keep = {1, 0};
    xai_model *kept = reload(m, &keep);
    ck_assert_msg(count_op(folded, "BatchNormalization") == want_bn_after, "%s: %d BN nodes left", what,
                  count_op(folded, "BatchNormalization"));
    ck_assert_int_eq(count_op(kept, "BatchNormalization"), count_op(m, "BatchNormalization"));
    int64_t no = xai_model_output_numel(m);
    float *a = logits(kept, 5), *b = logits(folded, 5), *c = logits(m, 5);
    double sc;
    double d = max_abs_diff(b, a, 5 * no, &sc);
    ck_assert_msg(d <= 1e-5 * (1 + sc), "%s: folded logits differ by %g (scale %g)", what, d, sc);
    ck_assert_double_le(max_abs_diff(a, c, 5 * no, &sc), 1e-6 * (1 + sc));
    free(a);
    free(b);
    free(c);
    xai_model_free(folded);
    xai_model_free(kept);
}

START_TEST(test_bn_fold_fixtures)
{
    xai_model *m = load_file(data_path("onnx/ops/bn_residual_arith.onnx"));
    ck_assert_int_eq(count_op(m, "BatchNormalization"), 1);
    check_fold(m, "bn_residual_arith", 0);
    xai_model_free(m);

    /* opset 11: Conv without bias (a bias is added), Gemm transB=0 with beta=0.5, Gemm transB=1
       without C feeding the graph output through BN, BN params also listed as graph inputs */
    m = load_file(data_path("export/opset11_bn.onnx"));
    ck_assert_int_eq(count_op(m, "BatchNormalization"), 3);
    check_fold(m, "opset11_bn", 0);
    xai_model *f = reload(m, NULL);
    ck_assert_int_eq(xai_model_find_value(f, "bn1.scale"), -1); /* folded parameters are gone */
    ck_assert_int_ge(xai_model_find_value(f, "conv.W_bnfold_bias"), 0);
    ck_assert_int_ge(xai_model_find_value(f, "fc2.W_bnfold_bias"), 0);
    xai_model_free(f);
    xai_model_free(m);
}
END_TEST

/* BN with non-trivial statistics after a built conv and dense; a BN after an activation stays */
START_TEST(test_bn_fold_built)
{
    int64_t sh[2] = {3, 16};
    xai_model *m0;
    ck_assert_int_eq(xai_model_from_spec("conv1d(5,k=3) bn relu bn flatten dense(4) bn tanh dense(2)", 2, sh, 21,
                                         &m0), XAI_OK);
    static const char *const bns[] = {"bn1", "bn3", "bn6"};
    uint64_t s = 5;
    for (int b = 0; b < 3; b++) {
        char nm[64];
        static const char *const suf[4] = {"weight", "bias", "running_mean", "running_var"};
        for (int k = 0; k < 4; k++) {
            snprintf(nm, sizeof nm, "%s.%s", bns[b], suf[k]);
            int v = xai_model_find_value(m0, nm);
            ck_assert_int_ge(v, 0);
            float *x = m0->vals[v].f;
            fill(x, m0->vals[v].numel, s++);
            for (int64_t j = 0; j < m0->vals[v].numel; j++)
                if (k == 0)
                    x[j] = 1.0f + 0.5f * x[j];
                else if (k == 3)
                    x[j] = 1.2f + x[j];
        }
    }
    /* the importer reads BN parameters at load: bake them in first */
    xai_export_options keep = {1, 0};
    xai_model *m = reload(m0, &keep);
    check_fold(m, "built", 1);
    xai_model_free(m);
    xai_model_free(m0);
}
END_TEST

/* ------------------------------------------------------------ metadata */

START_TEST(test_metadata)
{
    int64_t sh[1] = {4};
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("dense(2)", 1, sh, 1, &m), XAI_OK);
    const char *json = "{\"filter\": [0.5, 40], \"name\": \"b\\u00e4nd\", \"ok\": true}";
    ck_assert_int_eq(xai_model_set_metadata(m, "xai.preprocessing", json), XAI_OK);
    ck_assert_int_eq(xai_model_set_metadata(m, "xai.classes", "rest,task"), XAI_OK);
    ck_assert_int_eq(xai_model_set_metadata(m, "xai.classes", "left,right"), XAI_OK); /* replace */
    ck_assert_int_eq(xai_model_set_metadata(m, "xai.seed", "7"), XAI_OK);
    ck_assert_int_eq(xai_model_set_metadata(m, "empty", ""), XAI_OK);
    ck_assert_int_eq(xai_model_set_metadata(m, "", "x"), XAI_EINVAL);
    ck_assert_int_eq(xai_model_set_metadata(m, NULL, "x"), XAI_EINVAL);
    ck_assert_int_eq(xai_model_set_metadata(m, "k", NULL), XAI_EINVAL);
    ck_assert_int_eq(xai_model_set_metadata(NULL, "k", "v"), XAI_EINVAL);
    ck_assert_str_eq(xai_model_metadata(m, "xai.classes"), "left,right");
    xai_model *r = reload(m, NULL);
    ck_assert_int_eq(r->nmeta, 5);
    ck_assert_str_eq(xai_model_metadata(r, "xai.preprocessing"), json);
    ck_assert_str_eq(xai_model_metadata(r, "xai.classes"), "left,right");
    ck_assert_str_eq(xai_model_metadata(r, "xai.seed"), "7");
    ck_assert_str_eq(xai_model_metadata(r, "xai.arch"), "dense(2)");
    ck_assert_str_eq(xai_model_metadata(r, "empty"), "");
    /* the order of first insertion is kept */
    ck_assert_str_eq(r->meta_key[0], "xai.arch");
    ck_assert_str_eq(r->meta_key[2], "xai.preprocessing");
    xai_model_free(r);
    xai_model_free(m);

    /* a fixture without metadata gains some */
    m = load_file(data_path("onnx/ops/conv1d.onnx"));
    ck_assert_int_eq(m->nmeta, 0);
    ck_assert_int_eq(xai_model_set_metadata(m, "xai.layout", "[C, T]"), XAI_OK);
    r = reload(m, NULL);
    ck_assert_str_eq(xai_model_metadata(r, "xai.layout"), "[C, T]");
    xai_model_free(r);
    xai_model_free(m);
}
END_TEST

/* ------------------------------------------------------------ opset */

START_TEST(test_min_opset)
{
    xai_model *m = load_file(data_path("export/opset11_bn.onnx"));
    ck_assert_int_eq(xai_model_opset(m), 11);
    xai_export_options o = {1, 14};
    xai_model *r = reload(m, &o);
    ck_assert_int_eq(xai_model_opset(r), 14);
    float *a = logits(m, 3), *b = logits(r, 3);
    ck_assert_int_eq(memcmp(a, b, sizeof(float) * 9), 0);
    free(a);
    free(b);
    /* lower than the model's: kept */
    xai_export_options lower = {1, 12};
    xai_model *r2 = reload(r, &lower);
    ck_assert_int_eq(xai_model_opset(r2), 14);
    xai_model_free(r2);
    xai_model_free(r);
    void *bytes = (void *)1;
    size_t len = 3;
    xai_export_options bad = {0, 19};
    ck_assert_int_eq(xai_model_save_onnx_mem(m, &bad, &bytes, &len), XAI_EINVAL);
    ck_assert_ptr_null(bytes);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "min_opset 19"));
    bad.min_opset = -1;
    ck_assert_int_eq(xai_model_save_onnx_mem(m, &bad, &bytes, &len), XAI_EINVAL);
    ck_assert_int_eq(xai_model_save_onnx_mem(NULL, NULL, &bytes, &len), XAI_EINVAL);
    ck_assert_int_eq(xai_model_save_onnx_mem(m, NULL, NULL, &len), XAI_EINVAL);
    xai_model_free(m);
}
END_TEST

/* ------------------------------------------------------------ python3-onnx */

static int have_python_onnx(void)
{
    return system("/usr/bin/python3 -c 'import onnx, onnx.shape_inference' >/dev/null 2>&1") == 0;
}

/* full checker + strict shape inference, and the number of BN nodes */
static int python_check(const char *path, int want_bn)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import onnx, sys\n"
             "m = onnx.load(sys.argv[1])\n"
             "onnx.checker.check_model(m, full_check=True)\n"
             "onnx.shape_inference.infer_shapes(m, strict_mode=True)\n"
             "ops = [n.op_type for n in m.graph.node]\n"
             "sys.exit(0 if ops.count('BatchNormalization') == int(sys.argv[2]) else 3)\" '%s' %d",
             path, want_bn);
    return system(cmd);
}

static void check_file(const xai_model *m, const char *dir, const xai_export_options *o, int want_bn)
{
    const char *p = xai_test_path(dir, "out.onnx");
    xai_status st = xai_model_save_onnx(m, p, o);
    ck_assert_msg(st == XAI_OK, "%s", xai_last_error());
    int rc = python_check(p, want_bn);
    ck_assert_msg(rc == 0, "%s: python onnx check failed (%d)", m->name, rc);
}

START_TEST(test_onnx_checker)
{
    if (!have_python_onnx()) {
        xai_test_mark_skip();
        return;
    }
    char *dir = xai_test_tmpdir();
    xai_export_options keep = {1, 0}, raise = {0, 17}, keep_raise = {1, 15};
    xai_model *m = load_file(data_path("export/opset11_bn.onnx"));
    check_file(m, dir, NULL, 0);
    check_file(m, dir, &keep, 3);
    check_file(m, dir, &raise, 0);
    check_file(m, dir, &keep_raise, 3);
    xai_model_free(m);
    m = load_file(data_path("onnx/ops/bn_residual_arith.onnx"));
    check_file(m, dir, NULL, 0);
    xai_model_free(m);
    m = load_file(data_path("onnx/ops/movement.onnx"));
    check_file(m, dir, NULL, 0);
    xai_model_free(m);
    int64_t sh[4] = {4, 1, 8, 8};
    ck_assert_int_eq(xai_model_from_spec("timedist(conv2d(3,k=3) bn relu gap) lstm(4,bidirectional) dense(2)", 4, sh,
                                         2, &m), XAI_OK);
    ck_assert_int_eq(xai_model_set_metadata(m, "xai.classes", "a,b"), XAI_OK);
    check_file(m, dir, NULL, 0);
    check_file(m, dir, &keep, 1);
    xai_model_free(m);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* ------------------------------------------------------------ atomic writes */

static int leftovers(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp"))
            n++;
    closedir(d);
    return n;
}

START_TEST(test_atomic_write)
{
    char *dir = xai_test_tmpdir();
    xai_model *m = load_file(data_path("onnx/ops/conv1d.onnx"));
    const char *p = xai_test_path(dir, "model.onnx");
    char path[1024];
    snprintf(path, sizeof path, "%s", p);

    /* replaces an existing file */
    FILE *f = fopen(path, "wb");
    fputs("old contents", f);
    fclose(f);
    ck_assert_int_eq(xai_model_save_onnx(m, path, NULL), XAI_OK);
    size_t len;
    void *got = xai_test_read_file(path, &len);
    void *want;
    size_t wlen;
    ck_assert_int_eq(xai_model_save_onnx_mem(m, NULL, &want, &wlen), XAI_OK);
    ck_assert_uint_eq(len, wlen);
    ck_assert_int_eq(memcmp(got, want, len), 0);
    free(got);
    free(want);
    ck_assert_int_eq(leftovers(dir), 0);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0644);
    xai_model *r = load_file(path);
    xai_model_free(r);

    /* the target is a directory: rename fails, no temp file stays, the directory is intact */
    const char *sub = xai_test_path(dir, "adir");
    char subp[1024];
    snprintf(subp, sizeof subp, "%s", sub);
    ck_assert_int_eq(mkdir(subp, 0755), 0);
    ck_assert_int_eq(xai_model_save_onnx(m, subp, NULL), XAI_EIO);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), subp));
    ck_assert_int_eq(leftovers(dir), 0);
    ck_assert_int_eq(stat(subp, &sb), 0);
    ck_assert(S_ISDIR(sb.st_mode));

    /* a missing directory */
    const char *miss = xai_test_path(dir, "no/such/dir/model.onnx");
    ck_assert_int_eq(xai_model_save_onnx(m, miss, NULL), XAI_EIO);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "no/such/dir/model.onnx"));

    /* an export error leaves an existing file untouched and creates nothing */
    xai_export_options bad = {0, 99};
    ck_assert_int_eq(xai_model_save_onnx(m, path, &bad), XAI_EINVAL);
    ck_assert_int_eq(leftovers(dir), 0);
    r = load_file(path);
    xai_model_free(r);
    ck_assert_int_eq(xai_model_save_onnx(m, "", NULL), XAI_EINVAL);
    ck_assert_int_eq(xai_model_save_onnx(m, NULL, NULL), XAI_EINVAL);

    xai_model_free(m);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("export");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_roundtrip_identical);
    tcase_add_test(tc, test_modified_weights);
    tcase_add_test(tc, test_bn_fold_fixtures);
    tcase_add_test(tc, test_bn_fold_built);
    tcase_add_test(tc, test_metadata);
    tcase_add_test(tc, test_min_opset);
    tcase_add_test(tc, test_onnx_checker);
    tcase_add_test(tc, test_atomic_write);
    suite_add_tcase(s, tc);
    return s;
}
