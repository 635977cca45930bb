/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-onnx.c - ONNX import: malformed files fail with the right status and a message
 * that names the problem; every op fixture loads; shape-only subgraphs fold; a trailing
 * Softmax is dropped; forward values match a hand computation for a Dense model; a
 * symbolic time axis is taken from the input's shape (xai_model_load_for_input).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"
#include "test-common.h"
#include "xai.h"

static const char *onnx_dir(void)
{
    return xai_test_path(xai_test_data_dir(), "onnx");
}

static void expect_fail(const char *file, xai_status want, const char *words)
{
    xai_model *m = (xai_model *)0x1;
    char p[2048];
    snprintf(p, sizeof p, "%s/bad/%s", onnx_dir(), file);
    xai_status st = xai_model_load_onnx(p, NULL, &m);
    ck_assert_msg(st == want, "%s: status %d (%s), want %d", file, st, xai_last_error(), want);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(xai_last_error(), words) != NULL, "%s: message '%s' lacks '%s'", file, xai_last_error(), words);
    ck_assert_msg(strstr(xai_last_error(), file) != NULL, "%s: message '%s' lacks the file name", file,
                  xai_last_error());
}

START_TEST(test_malformed)
{
    expect_fail("truncated.onnx", XAI_EFORMAT, "truncated or corrupt");
    expect_fail("empty.onnx", XAI_EFORMAT, "empty");
    expect_fail("garbage.onnx", XAI_EFORMAT, "");
    expect_fail("wrong_data_size.onnx", XAI_EFORMAT, "bytes of data");
    expect_fail("negative_dim.onnx", XAI_EFORMAT, "negative dimension");
    expect_fail("huge_dim.onnx", XAI_EFORMAT, "too large");
    expect_fail("cycle.onnx", XAI_EFORMAT, "cycle");
    expect_fail("missing_initializer.onnx", XAI_EFORMAT, "reads 'b'");
    expect_fail("unknown_op.onnx", XAI_EUNSUPPORTED, "HardSwish");
    expect_fail("unknown_op.onnx", XAI_EUNSUPPORTED, "mystery");
    expect_fail("bad_attribute.onnx", XAI_EUNSUPPORTED, "auto_pad");
    expect_fail("bad_attribute.onnx", XAI_EUNSUPPORTED, "padconv");
    expect_fail("old_opset.onnx", XAI_EUNSUPPORTED, "opset 9");
    expect_fail("range_no_start.onnx", XAI_EFORMAT, "(Range): needs three inputs");
}
END_TEST

START_TEST(test_missing_file)
{
    xai_model *m;
    ck_assert_int_eq(xai_model_load_onnx("/nonexistent/model.onnx", NULL, &m), XAI_EIO);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "/nonexistent/model.onnx"));
}
END_TEST

START_TEST(test_every_truncation)
{
    /* every prefix of a valid model fails cleanly or loads; never crashes */
    size_t len;
    char *buf = xai_test_read_file(xai_test_path(onnx_dir(), "ops/movement.onnx"), &len);
    ck_assert_ptr_nonnull(buf);
    int ok = 0;
    for (size_t n = 0; n < len; n++) {
        xai_model *m = NULL;
        xai_status st = xai_model_load_onnx_mem(buf, n, "cut.onnx", NULL, &m);
        if (st == XAI_OK) {
            ok++;
            xai_model_free(m);
        } else {
            ck_assert_ptr_null(m);
            ck_assert(strlen(xai_last_error()) > 0);
        }
    }
    xai_model *m = NULL;
    ck_assert_int_eq(xai_model_load_onnx_mem(buf, len, "full.onnx", NULL, &m), XAI_OK);
    xai_model_free(m);
    free(buf);
    (void)ok;
}
END_TEST

START_TEST(test_ops_load)
{
    static const char *const files[] = {"conv1d", "conv2d", "conv3d_avgpool", "pool2d", "bn_residual_arith",
                                        "movement", "dense_softmax"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[256];
        snprintf(p, sizeof p, "ops/%s.onnx", files[i]);
        xai_model *m;
        xai_status st = xai_model_load_onnx(xai_test_path(onnx_dir(), p), NULL, &m);
        ck_assert_msg(st == XAI_OK, "%s: %s", p, xai_last_error());
        ck_assert_int_eq(xai_model_output_numel(m), 3);
        xai_model_free(m);
    }
}
END_TEST

/* The shape a model loaded for an input ended up with, compared with an explicit override. */
static void expect_input_shape(xai_model *m, int nd, const int64_t *want)
{
    int got_nd;
    const int64_t *got = xai_model_input_shape(m, &got_nd);
    ck_assert_int_eq(got_nd, nd);
    for (int k = 0; k < nd; k++)
        ck_assert_int_eq(got[k], want[k]);
}

START_TEST(test_load_for_input)
{
    const char *sym = xai_test_path(onnx_dir(), "symbolic/conv1d_time.onnx");
    char path[2048];
    snprintf(path, sizeof path, "%s", sym);
    xai_model *m = NULL;
    ck_assert_int_eq(xai_model_load_onnx(path, NULL, &m), XAI_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "symbolic"));
    /* one sample [1, 2, 37]: the time axis is 37, and the logits equal an explicit override's */
    const int64_t one[3] = {1, 2, 37};
    ck_assert_msg(xai_model_load_for_input(path, 3, one, &m) == XAI_OK, "%s", xai_last_error());
    expect_input_shape(m, 3, one);
    ck_assert_int_eq(xai_model_output_numel(m), 3);
    xai_load_options lo = {3, {1, 2, 37}};
    xai_model *ref = NULL;
    ck_assert_int_eq(xai_model_load_onnx(path, &lo, &ref), XAI_OK);
    float x[74], a[3], b[3];
    for (int i = 0; i < 74; i++)
        x[i] = sinf(0.3f * (float)i) - 0.2f;
    xai_workspace *wa = NULL, *wb = NULL;
    ck_assert_int_eq(xai_workspace_new(m, 1, &wa), XAI_OK);
    ck_assert_int_eq(xai_workspace_new(ref, 1, &wb), XAI_OK);
    ck_assert_int_eq(xai_model_forward(m, wa, 1, x, a), XAI_OK);
    ck_assert_int_eq(xai_model_forward(ref, wb, 1, x, b), XAI_OK);
    xai_workspace_free(wa);
    xai_workspace_free(wb);
    for (int k = 0; k < 3; k++)
        ck_assert_float_eq(a[k], b[k]);
    xai_model_free(ref);
    xai_model_free(m);
    /* a rank the model cannot take either way: the plain load's reason, naming the file */
    const int64_t flat[1] = {37};
    m = (xai_model *)0x1;
    ck_assert_int_eq(xai_model_load_for_input(path, 1, flat, &m), XAI_EUNSUPPORTED);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "symbolic"));
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "conv1d_time.onnx"));
    /* a fixed-shape model loads as it is, whatever the input's shape */
    ck_assert_int_eq(xai_model_load_for_input(xai_test_path(onnx_dir(), "ops/conv1d.onnx"), 1, flat, &m), XAI_OK);
    const int64_t fixed[3] = {1, 2, 11};
    expect_input_shape(m, 3, fixed);
    xai_model_free(m);
    /* other failures keep their own status: no retry */
    ck_assert_int_eq(xai_model_load_for_input("/nonexistent/model.onnx", 3, one, &m), XAI_EIO);
    snprintf(path, sizeof path, "%s/bad/truncated.onnx", onnx_dir());
    ck_assert_int_eq(xai_model_load_for_input(path, 3, one, &m), XAI_EFORMAT);
    ck_assert_int_eq(xai_model_load_for_input(NULL, 3, one, &m), XAI_EINVAL);
    ck_assert_int_eq(xai_model_load_for_input(sym, 3, NULL, &m), XAI_EINVAL);
    ck_assert_int_eq(xai_model_load_for_input(sym, 3, one, NULL), XAI_EINVAL);
}
END_TEST

START_TEST(test_folding_and_softmax)
{
    xai_model *m;
    ck_assert_int_eq(xai_model_load_onnx(xai_test_path(onnx_dir(), "ops/movement.onnx"), NULL, &m), XAI_OK);
    /* Shape -> Gather -> Unsqueeze -> Concat folded: no Shape or Concat of shapes remain */
    int concat = 0;
    for (int i = 0; i < xai_model_node_count(m); i++) {
        ck_assert_str_ne(xai_model_node_op(m, i), "Shape");
        concat += strcmp(xai_model_node_op(m, i), "Concat") == 0;
    }
    ck_assert_int_eq(concat, 1); /* the data Concat stays */
    xai_model_free(m);
    ck_assert_int_eq(xai_model_load_onnx(xai_test_path(onnx_dir(), "ops/dense_softmax.onnx"), NULL, &m), XAI_OK);
    for (int i = 0; i < xai_model_node_count(m); i++)
        ck_assert_str_ne(xai_model_node_op(m, i), "Softmax");
    xai_model_free(m);
}
END_TEST

START_TEST(test_dense_forward_by_hand)
{
    /* dense_softmax: logits = 0.5 * tanh(x M1 + mb) G + 2 gc (softmax dropped) */
    xai_model *m;
    ck_assert_int_eq(xai_model_load_onnx(xai_test_path(onnx_dir(), "ops/dense_softmax.onnx"), NULL, &m), XAI_OK);
    int M1 = xai_model_find_value(m, "M1"), mb = xai_model_find_value(m, "mb"), G = xai_model_find_value(m, "G"),
        gc = xai_model_find_value(m, "gc");
    ck_assert(M1 >= 0 && mb >= 0 && G >= 0 && gc >= 0);
    float x[5] = {0.3f, -1.2f, 0.8f, 2.0f, -0.1f}, lg[3];
    xai_workspace *ws;
    ck_assert_int_eq(xai_workspace_new(m, 1, &ws), XAI_OK);
    ck_assert_int_eq(xai_model_forward(m, ws, 1, x, lg), XAI_OK);
    double h[4];
    for (int j = 0; j < 4; j++) {
        double s = m->vals[mb].f[j];
        for (int i = 0; i < 5; i++)
            s += x[i] * m->vals[M1].f[i * 4 + j];
        h[j] = tanh(s);
    }
    for (int c = 0; c < 3; c++) {
        double s = 2.0 * m->vals[gc].f[c];
        for (int j = 0; j < 4; j++)
            s += 0.5 * h[j] * m->vals[G].f[j * 3 + c];
        ck_assert_msg(fabs(s - lg[c]) < 1e-5 * (1 + fabs(s)), "logit %d: %g vs %g", c, lg[c], s);
    }
    xai_workspace_free(ws);
    xai_model_free(m);
}
END_TEST

/* The graph's input X [1,2,6] and output Y [1,2,2] as value infos (vi[0], vi[1]). */
typedef struct {
    Onnx__TensorShapeProto__Dimension d[6], *dp[6];
    Onnx__TensorShapeProto sh[2];
    Onnx__TypeProto__Tensor tt[2];
    Onnx__TypeProto ty[2];
    Onnx__ValueInfoProto vi[2];
} slice_io;

static void slice_io_init(slice_io *io)
{
    static const int64_t dv[6] = {1, 2, 6, 1, 2, 2};
    for (int i = 0; i < 6; i++) {
        onnx__tensor_shape_proto__dimension__init(&io->d[i]);
        io->d[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        io->d[i].dim_value = dv[i];
        io->dp[i] = &io->d[i];
    }
    for (int i = 0; i < 2; i++) {
        onnx__tensor_shape_proto__init(&io->sh[i]);
        io->sh[i].n_dim = 3;
        io->sh[i].dim = io->dp + 3 * i;
        onnx__type_proto__tensor__init(&io->tt[i]);
        io->tt[i].has_elem_type = 1;
        io->tt[i].elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
        io->tt[i].shape = &io->sh[i];
        onnx__type_proto__init(&io->ty[i]);
        io->ty[i].value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
        io->ty[i].tensor_type = &io->tt[i];
        onnx__value_info_proto__init(&io->vi[i]);
        io->vi[i].name = i ? "Y" : "X";
        io->vi[i].type = &io->ty[i];
    }
}

/* A Slice model in memory: Y = Slice(X) + Slice(C) with one set of starts/ends/axes/steps
 * (steps of @p nsteps values), X the input [1,2,6], C a [2,6] constant whose Slice is folded at
 * load while X's is a node: both read their parameters in one place and must agree. */
static xai_status load_slices(int nsteps, xai_model **m)
{
    static float cval[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    static int64_t cdim[2] = {2, 6}, one[1] = {1}, two[1] = {2}, st[1] = {1}, en[1] = {5}, ax[1] = {-1},
                   sp[2] = {2, 2};
    Onnx__TensorProto t[5];
    const char *tn[5] = {"C", "st", "en", "ax", "sp"};
    int64_t *tv[5] = {NULL, st, en, ax, sp};
    for (int i = 0; i < 5; i++) {
        onnx__tensor_proto__init(&t[i]);
        t[i].name = (char *)tn[i];
        t[i].has_data_type = 1;
        t[i].data_type = i ? ONNX__TENSOR_PROTO__DATA_TYPE__INT64 : ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
        t[i].n_dims = i ? 1 : 2;
        t[i].dims = i ? (i == 4 && nsteps == 2 ? two : one) : cdim;
        t[i].n_int64_data = i ? (i == 4 ? (size_t)nsteps : 1) : 0;
        t[i].int64_data = tv[i];
    }
    t[0].n_float_data = 12;
    t[0].float_data = cval;
    Onnx__TensorProto *tp[5] = {&t[0], &t[1], &t[2], &t[3], &t[4]};
    char *in_x[5] = {"X", "st", "en", "ax", "sp"}, *in_c[5] = {"C", "st", "en", "ax", "sp"}, *in_a[2] = {"xs", "cs"};
    char *out_x[1] = {"xs"}, *out_c[1] = {"cs"}, *out_a[1] = {"Y"};
    Onnx__NodeProto nd[3];
    char **ins[3] = {in_x, in_c, in_a}, **outs[3] = {out_x, out_c, out_a};
    const char *op[3] = {"Slice", "Slice", "Add"}, *name[3] = {"slice_x", "slice_c", "add"};
    for (int i = 0; i < 3; i++) {
        onnx__node_proto__init(&nd[i]);
        nd[i].n_input = i < 2 ? 5 : 2;
        nd[i].input = ins[i];
        nd[i].n_output = 1;
        nd[i].output = outs[i];
        nd[i].op_type = (char *)op[i];
        nd[i].name = (char *)name[i];
    }
    Onnx__NodeProto *np[3] = {&nd[0], &nd[1], &nd[2]};
    slice_io io;
    slice_io_init(&io);
    Onnx__ValueInfoProto *vin[1] = {&io.vi[0]}, *vout[1] = {&io.vi[1]};
    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    g.n_node = 3, g.node = np, g.n_initializer = 5, g.initializer = tp;
    g.n_input = 1, g.input = vin, g.n_output = 1, g.output = vout;
    Onnx__OperatorSetIdProto os = ONNX__OPERATOR_SET_ID_PROTO__INIT, *osp[1] = {&os};
    os.has_version = 1, os.version = 13;
    Onnx__ModelProto mp = ONNX__MODEL_PROTO__INIT;
    mp.has_ir_version = 1, mp.ir_version = 7, mp.n_opset_import = 1, mp.opset_import = osp, mp.graph = &g;
    size_t len = onnx__model_proto__get_packed_size(&mp);
    uint8_t *buf = malloc(len);
    ck_assert_ptr_nonnull(buf);
    onnx__model_proto__pack(&mp, buf);
    xai_status st_load = xai_model_load_onnx_mem(buf, len, "slices.onnx", NULL, m);
    free(buf);
    return st_load;
}

START_TEST(test_slice_folded_and_node)
{
    xai_model *m = NULL;
    ck_assert_msg(load_slices(1, &m) == XAI_OK, "%s", xai_last_error());
    int slices = 0;
    for (int i = 0; i < xai_model_node_count(m); i++)
        slices += strcmp(xai_model_node_op(m, i), "Slice") == 0;
    ck_assert_int_eq(slices, 1); /* C's Slice was folded */
    float x[12], y[4];
    for (int k = 0; k < 12; k++)
        x[k] = 100.0f * (float)(k + 1);
    xai_workspace *ws;
    ck_assert_int_eq(xai_workspace_new(m, 1, &ws), XAI_OK);
    ck_assert_int_eq(xai_model_forward(m, ws, 1, x, y), XAI_OK);
    /* columns 1 and 3 of each row (start 1, end 5, step 2 on the last axis), of X and of C */
    static const int col[4] = {1, 3, 7, 9};
    for (int k = 0; k < 4; k++)
        ck_assert_msg(y[k] == x[col[k]] + (float)col[k], "y[%d] = %g", k, y[k]);
    xai_workspace_free(ws);
    xai_model_free(m);
    /* steps longer than starts: refused with the node named, the folded one first */
    m = (xai_model *)0x1;
    ck_assert_int_eq(load_slices(2, &m), XAI_EFORMAT);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "(Slice): starts/ends/axes/steps lengths differ"));
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "slices.onnx"));
}
END_TEST

START_TEST(test_workspace_capacity)
{
    xai_model *m;
    ck_assert_int_eq(xai_model_load_onnx(xai_test_path(onnx_dir(), "ops/conv1d.onnx"), NULL, &m), XAI_OK);
    xai_workspace *ws;
    ck_assert_int_eq(xai_workspace_new(m, 0, &ws), XAI_EINVAL);
    ck_assert_int_eq(xai_workspace_new(m, 2, &ws), XAI_OK);
    float x[3 * 22] = {0}, lg[9];
    ck_assert_int_eq(xai_model_forward(m, ws, 3, x, lg), XAI_EINVAL);
    ck_assert_int_eq(xai_model_forward(m, ws, 2, x, lg), XAI_OK);
    xai_workspace_free(ws);
    xai_model_free(m);
}
END_TEST

START_TEST(test_rules_syntax)
{
    ck_assert_int_eq(xai_rules_check("layer 0=zbox(-3,3); Conv=gamma(0.1); Dense=epsilon(0.25)"), XAI_OK);
    ck_assert_int_eq(xai_rules_check("first=flat;node:/0/Conv=alphabeta(2,1)"), XAI_OK);
    ck_assert_int_eq(xai_rules_check("Conv=gama(0.1)"), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "gama"));
    ck_assert_int_eq(xai_rules_check("Conv"), XAI_EINVAL);
    ck_assert_int_eq(xai_rules_check("layer x=flat"), XAI_EINVAL);
    ck_assert_int_eq(xai_rules_check("Conv=alphabeta(2,2)"), XAI_EINVAL);
    ck_assert_int_eq(xai_rules_check("Conv=zbox(3,-3)"), XAI_EINVAL);
    ck_assert_int_eq(xai_rules_check("Conv=epsilon(0.1"), XAI_EINVAL);
    /* the bias-free variants of z+ and alpha-beta, and only those */
    ck_assert_int_eq(xai_rules_check("Conv=zplus-nobias; Dense=alphabeta-nobias(1,0)"), XAI_OK);
    ck_assert_int_eq(xai_rules_check("Conv=ZPlus-NoBias"), XAI_OK);
    ck_assert_int_eq(xai_rules_check("Conv=alphabeta-nobias(2,2)"), XAI_EINVAL);
    ck_assert_int_eq(xai_rules_check("Conv=epsilon-nobias(0.1)"), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "only zplus and alphabeta"));
    ck_assert_int_eq(xai_rules_check("Conv=-nobias"), XAI_EINVAL);
    ck_assert_int_eq(xai_rules_check("Conv=zplusnobias"), XAI_EINVAL);
}
END_TEST

START_TEST(test_status_strings)
{
    for (int s = 0; s < XAI_STATUS_COUNT; s++)
        ck_assert(strlen(xai_strerror((xai_status)s)) > 0);
    ck_assert_str_eq(xai_strerror((xai_status)999), "unknown status");
    xai_error_set(XAI_EFORMAT, "bad %d", 7);
    xai_error_prefix(XAI_EFORMAT, "file.onnx");
    ck_assert_str_eq(xai_last_error(), "file.onnx: bad 7");
    int64_t shp[3] = {2, 3, 4};
    char b[64];
    ck_assert_str_eq(xai_shape_str(3, shp, b, sizeof b), "[2, 3, 4]");
    ck_assert_str_eq(xai_shape_str(3, shp, b, 6), "[2, 3");
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("onnx");
    TCase *tc = tcase_create("import");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_every_truncation);
    tcase_add_test(tc, test_ops_load);
    tcase_add_test(tc, test_load_for_input);
    tcase_add_test(tc, test_folding_and_softmax);
    tcase_add_test(tc, test_dense_forward_by_hand);
    tcase_add_test(tc, test_slice_folded_and_node);
    tcase_add_test(tc, test_workspace_capacity);
    tcase_add_test(tc, test_rules_syntax);
    tcase_add_test(tc, test_status_strings);
    suite_add_tcase(s, tc);
    return s;
}
