/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-clarc.c - ClArC: each CAV method recovers a planted direction, and within classes it
 * recovers the artefact where the pooled CAV follows the class; the projection written
 * into the ONNX graph gives a' = a - v (v^T a - z) exactly when libxai reloads it (so v^T a' = z
 * for every sample) and leaves everything else of the model alone; bad layers are refused;
 * fine-tuning after a node leaves the earlier weights bit-identical; the held-out separation
 * that picks a CAV's layer rejects noise, ranks artefacts by strength and keeps twins together.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"
#include "xai.h"
#include "xai/clarc.h"
#include "xai/train.h"

static uint64_t rs = 12345;
static double gauss(void)
{
    double s = 0;
    for (int k = 0; k < 12; k++) {
        rs = rs * 6364136223846793005ull + 1442695040888963407ull;
        s += (double)(rs >> 11) / 9007199254740992.0;
    }
    return s - 6.0;
}

START_TEST(test_cav_methods)
{
    enum { D = 24, NA = 150, NC = 200 };
    float u[D], art[NA * D], clean[NC * D], v[D];
    double nu = 0;
    for (int j = 0; j < D; j++) {
        u[j] = (float)gauss();
        nu += (double)u[j] * u[j];
    }
    for (int j = 0; j < D; j++)
        u[j] /= (float)sqrt(nu);
    for (int i = 0; i < NA * D; i++)
        art[i] = (float)(gauss() + 1.5 * u[i % D]);
    for (int i = 0; i < NC * D; i++)
        clean[i] = (float)gauss();
    static const char *const name[] = {"pattern", "ridge", "svm"};
    for (int mth = XAI_CAV_PATTERN; mth <= XAI_CAV_SVM; mth++) {
        ck_assert_msg(xai_cav_fit((xai_cav_method)mth, D, NA, art, NC, clean, v) == XAI_OK, "%s", xai_last_error());
        double c = 0, nv = 0;
        for (int j = 0; j < D; j++)
            c += (double)v[j] * u[j], nv += (double)v[j] * v[j];
        printf("  CAV %-8s cosine with the planted direction %.3f\n", name[mth], c);
        ck_assert_msg(fabs(nv - 1) < 1e-5, "%s: |v|^2 = %g", name[mth], nv);
        ck_assert_msg(c > 0.8, "%s: cosine %g", name[mth], c);
        ck_assert(xai_cav_mean_projection(v, D, NA, art) > xai_cav_mean_projection(v, D, NC, clean));
    }
    ck_assert_int_eq(xai_cav_fit(XAI_CAV_PATTERN, D, 1, art, NC, clean, v), XAI_EINVAL);
    ck_assert_int_eq(xai_cav_fit(XAI_CAV_PATTERN, D, 2, clean, 2, clean, v), XAI_ENUMERIC);
}
END_TEST

/* unit vector of gaussians */
static void unit_dir(float *u, int d)
{
    double n = 0;
    for (int j = 0; j < d; j++)
        u[j] = (float)gauss(), n += (double)u[j] * u[j];
    for (int j = 0; j < d; j++)
        u[j] /= (float)sqrt(n);
}

static double cosine(const float *a, const float *b, int d)
{
    double c = 0, na = 0, nb = 0;
    for (int j = 0; j < d; j++)
        c += (double)a[j] * b[j], na += (double)a[j] * a[j], nb += (double)b[j] * b[j];
    return c / sqrt(na * nb);
}

/* The artefact (direction u) on 80 % of class 1, never on class 0; the classes differ along w.
   Pooled, the CAV leans towards w; within classes it is u. */
START_TEST(test_cav_within_classes)
{
    /* 80 clean class-1 rows: the within-class mean difference has an SD of about 0.12 per
       coordinate, a cosine of about 0.08 with w by chance; the bounds are 2.5 SD off */
    enum { D = 24, N1 = 400, N0 = 200, NA = N1 * 4 / 5, NC = N1 - NA + N0 };
    static float art[NA * D], clean[NC * D];
    float u[D], w[D], v[D];
    int ca[NA], cc[NC];
    rs = 777; /* the same draw with and without CK_FORK */
    unit_dir(u, D), unit_dir(w, D);
    double uw = cosine(u, w, D), nw = 0; /* w orthogonal to u, so cos(v, w) measures the class's share */
    for (int j = 0; j < D; j++)
        w[j] -= (float)(uw * u[j]), nw += (double)w[j] * w[j];
    for (int j = 0; j < D; j++)
        w[j] /= (float)sqrt(nw);
    for (int i = 0; i < NA; i++) {
        ca[i] = 1;
        for (int j = 0; j < D; j++)
            art[i * D + j] = (float)(gauss() + 1.5 * u[j] + 3.0 * w[j]);
    }
    for (int i = 0; i < NC; i++) {
        cc[i] = i < N1 - NA; /* the class-1 rows without the artefact first */
        for (int j = 0; j < D; j++)
            clean[i * D + j] = (float)(gauss() + 3.0 * w[j] * cc[i]);
    }
    ck_assert_int_eq(xai_cav_fit(XAI_CAV_PATTERN, D, NA, art, NC, clean, v), XAI_OK);
    double pu = cosine(v, u, D), pw = cosine(v, w, D);
    static const char *const name[] = {"pattern", "ridge", "svm"};
    for (int mth = XAI_CAV_PATTERN; mth <= XAI_CAV_SVM; mth++) {
        unsigned char used[NA + NC];
        ck_assert_msg(xai_cav_fit_within((xai_cav_method)mth, D, NA, art, ca, NC, clean, cc, v, used) == XAI_OK, "%s",
                      xai_last_error());
        printf("  CAV %-8s cosine with the artefact / the class: pooled pattern %.3f / %.3f, within %.3f / %.3f\n",
               name[mth], pu, pw, cosine(v, u, D), cosine(v, w, D));
        ck_assert_msg(cosine(v, u, D) > 0.8 && fabs(cosine(v, w, D)) < 0.2, "%s", name[mth]);
        for (int i = 0; i < NA + NC; i++) /* class 0 has no artefact rows: left out */
            ck_assert_int_eq(used[i], i < NA || i - NA < N1 - NA);
    }
    ck_assert_msg(pw > 0.5 && pu < 0.6, "pooled: the class should dominate (%.3f / %.3f)", pu, pw);
}
END_TEST

/* by hand: v ~ sum_c n_ac n_cc / n_c (mean_ac - mean_cc), the class means over both groups removed */
START_TEST(test_cav_within_hand)
{
    /* class 0: art {(2,0),(4,0)}, clean {(0,0)} -> 2*1/3 * (3,0) = (2,0)
       class 1: art {(0,1)}, clean {(0,0),(0,-2)} -> 1*2/3 * (0,2) = (0,4/3)
       class 2: artefact rows only, left out */
    const float art[] = {2, 0, 4, 0, 0, 1, 9, 9}, clean[] = {0, 0, 0, 0, 0, -2};
    const int ca[] = {0, 0, 1, 2}, cc[] = {0, 1, 1};
    float v[2];
    unsigned char used[7];
    ck_assert_int_eq(xai_cav_fit_within(XAI_CAV_PATTERN, 2, 4, art, ca, 3, clean, cc, v, used), XAI_OK);
    double n = sqrt(4 + 16.0 / 9);
    ck_assert_msg(fabs(v[0] - 2 / n) < 1e-6 && fabs(v[1] - 4.0 / 3 / n) < 1e-6, "v = (%g, %g)", v[0], v[1]);
    static const unsigned char want[] = {1, 1, 1, 0, 1, 1, 1};
    ck_assert_int_eq(memcmp(used, want, 7), 0);
    /* classes without both groups: too few rows left; a negative class is refused */
    const int c2[] = {2, 2, 2, 2};
    ck_assert_int_eq(xai_cav_fit_within(XAI_CAV_PATTERN, 2, 4, art, c2, 3, clean, cc, v, NULL), XAI_EINVAL);
    const int neg[] = {0, -1, 1};
    ck_assert_int_eq(xai_cav_fit_within(XAI_CAV_PATTERN, 2, 4, art, ca, 3, clean, neg, v, NULL), XAI_EINVAL);
}
END_TEST

/* Cohen's d by hand: v = (1, 0); artefact projections 2, 4, clean 0, 2: (3 - 1) / sqrt(4 / 2) */
START_TEST(test_cav_separation_hand)
{
    const float v[] = {1, 0}, art[] = {2, 7, 4, -1}, clean[] = {0, 3, 2, 5};
    ck_assert_msg(fabs(xai_cav_separation(v, 2, 2, art, 2, clean) - sqrt(2.0)) < 1e-9, "%g",
                  xai_cav_separation(v, 2, 2, art, 2, clean));
    ck_assert(isnan(xai_cav_separation(v, 2, 1, art, 1, clean)));
}
END_TEST

/* Held out, a CAV fitted to noise does not separate the groups although it does on its own
   rows; a planted artefact of strength s along a unit u is separated by about s (the
   projections have unit SD); a stronger artefact scores higher (the layer criterion). */
START_TEST(test_cav_heldout)
{
    enum { D = 60, NA = 40, NC = 40 };
    static float art[NA * D], clean[NC * D];
    float u[D], v[D];
    int ca[NA], cc[NC];
    rs = 4242;
    unit_dir(u, D);
    double sep[3];
    const double strength[3] = {0, 2, 4};
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < NA * D; i++)
            art[i] = (float)(gauss() + strength[k] * u[i % D]);
        for (int i = 0; i < NC * D; i++)
            clean[i] = (float)gauss();
        ck_assert_msg(xai_cav_heldout_separation(XAI_CAV_PATTERN, D, NA, art, NULL, NULL, NC, clean, NULL, NULL, &sep[k]) == XAI_OK,
                      "%s", xai_last_error());
        ck_assert_int_eq(xai_cav_fit(XAI_CAV_PATTERN, D, NA, art, NC, clean, v), XAI_OK);
        double in = xai_cav_separation(v, D, NA, art, NC, clean);
        printf("  artefact strength %.0f: separation on the fitted rows %.2f, held out %.2f\n", strength[k], in, sep[k]);
        ck_assert(sep[k] < in);
    }
    ck_assert_msg(fabs(sep[0]) < 0.7, "noise: held-out d %g", sep[0]);
    ck_assert_msg(sep[1] > 1.2 && sep[1] < 2.5, "strength 2: held-out d %g", sep[1]);
    ck_assert(sep[2] > sep[1] + 1);
    /* within classes: class 1 holds both groups, class 0 only clean rows (left out) */
    for (int i = 0; i < NA; i++)
        ca[i] = 1;
    for (int i = 0; i < NC; i++)
        cc[i] = i % 2;
    double w;
    ck_assert_msg(xai_cav_heldout_separation(XAI_CAV_PATTERN, D, NA, art, ca, NULL, NC, clean, cc, NULL, &w) == XAI_OK, "%s",
                  xai_last_error());
    ck_assert_msg(w > 2.5, "within classes, strength 4: %g", w);
    ck_assert_int_eq(xai_cav_heldout_separation(XAI_CAV_PATTERN, D, 3, art, NULL, NULL, NC, clean, NULL, NULL, &w), XAI_EINVAL);
    ck_assert(isnan(w));
    ck_assert_int_eq(xai_cav_heldout_separation(XAI_CAV_PATTERN, D, NA, art, ca, NULL, NC, clean, NULL, NULL, &w), XAI_EINVAL);
}
END_TEST

/* Twins: each artefact row is a sample plus the artefact, and the clean group holds the same
   samples without it (after one unrelated clean row, so alternating rows split the pairs).
   With the pairs kept in one fold the held-out d is large; split, the fit learns the samples'
   content and the held-out d collapses. */
START_TEST(test_cav_heldout_twins)
{
    enum { D = 60, N = 40 };
    static float art[N * D], clean[(N + 1) * D];
    static unsigned char fa[N], fc[N + 1];
    float u[D];
    rs = 99;
    unit_dir(u, D);
    for (int j = 0; j < D; j++)
        clean[j] = (float)(3 * gauss());
    fc[0] = 0;
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++) {
            float content = (float)(3 * gauss());
            clean[(i + 1) * D + j] = content + 0.3f * (float)gauss();
            art[i * D + j] = content + 0.3f * (float)gauss() + 2.0f * u[j];
        }
        fa[i] = fc[i + 1] = (unsigned char)(i % 2);
    }
    double paired, split;
    ck_assert_int_eq(xai_cav_heldout_separation(XAI_CAV_PATTERN, D, N, art, NULL, fa, N + 1, clean, NULL, fc, &paired),
                     XAI_OK);
    ck_assert_int_eq(xai_cav_heldout_separation(XAI_CAV_PATTERN, D, N, art, NULL, NULL, N + 1, clean, NULL, NULL, &split),
                     XAI_OK);
    printf("  twins: held-out d with the pairs in one fold %.2f, split %.2f\n", paired, split);
    ck_assert_msg(paired > split + 0.3, "paired %g, split %g", paired, split);
    ck_assert_int_eq(xai_cav_heldout_separation(XAI_CAV_PATTERN, D, N, art, NULL, fa, N + 1, clean, NULL, NULL, &split),
                     XAI_EINVAL);
}
END_TEST



static xai_model *small_model(void)
{
    int64_t sh[2] = {2, 20};
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("conv1d(4,k=3,p=1) relu maxpool(2) conv1d(3,k=3,p=1) relu flatten dense(3)",
                                         2, sh, 7, &m),
                     XAI_OK);
    return m;
}

START_TEST(test_projection_in_graph)
{
    xai_model *m = small_model();
    enum { N = 5 };
    float x[N * 40];
    for (int i = 0; i < N * 40; i++)
        x[i] = (float)gauss();
    int64_t d;
    ck_assert_int_eq(xai_layer_activations(m, "relu4", 0, NULL, NULL, &d), XAI_OK);
    ck_assert_int_eq(d, 30);
    float a[N * 30], a2[N * 30], v[30];
    ck_assert_int_eq(xai_layer_activations(m, "relu4", N, x, a, &d), XAI_OK);
    double nv = 0;
    for (int j = 0; j < 30; j++) {
        v[j] = (float)gauss();
        nv += (double)v[j] * v[j];
    }
    for (int j = 0; j < 30; j++)
        v[j] /= (float)sqrt(nv);
    const float z = 0.37f;
    void *buf;
    size_t len;
    ck_assert_msg(xai_clarc_onnx(m, "relu4", v, 30, z, &buf, &len) == XAI_OK, "%s", xai_last_error());
    xai_model *p;
    ck_assert_msg(xai_model_load_onnx_mem(buf, len, "projected", NULL, &p) == XAI_OK, "%s", xai_last_error());
    free(buf);
    int64_t d2;
    ck_assert_int_eq(xai_layer_activations(p, XAI_CLARC_LAST_NODE, N, x, a2, &d2), XAI_OK);
    ck_assert_int_eq(d2, 30);
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double va = 0, va2 = 0;
        for (int j = 0; j < 30; j++)
            va += (double)v[j] * a[i * 30 + j], va2 += (double)v[j] * a2[i * 30 + j];
        ck_assert_msg(fabs(va2 - z) < 1e-5, "sample %d: v.a' = %g, z = %g", i, va2, z);
        for (int j = 0; j < 30; j++)
            worst = fmax(worst, fabs(a2[i * 30 + j] - (a[i * 30 + j] - v[j] * (va - z))));
    }
    ck_assert_msg(worst < 1e-5, "projection off by %g", worst);
    /* the projected model's logits: the original head applied to a' (checked through z = v.a,
       which makes the projection the identity) */
    float za[N];
    for (int i = 0; i < N; i++)
        za[i] = (float)xai_cav_mean_projection(v, 30, 1, a + i * 30);
    ck_assert_int_eq(xai_clarc_onnx(m, "relu4", v, 30, za[0], &buf, &len), XAI_OK);
    xai_model *q;
    ck_assert_int_eq(xai_model_load_onnx_mem(buf, len, "identity", NULL, &q), XAI_OK);
    free(buf);
    float l0[3], l1[3];
    xai_workspace *w0, *w1;
    ck_assert_int_eq(xai_workspace_new(m, 1, &w0), XAI_OK);
    ck_assert_int_eq(xai_workspace_new(q, 1, &w1), XAI_OK);
    ck_assert_int_eq(xai_model_forward(m, w0, 1, x, l0), XAI_OK);
    ck_assert_int_eq(xai_model_forward(q, w1, 1, x, l1), XAI_OK);
    for (int c = 0; c < 3; c++)
        ck_assert_msg(fabs(l0[c] - l1[c]) < 1e-5, "logit %d: %g vs %g", c, l0[c], l1[c]);
    xai_workspace_free(w0), xai_workspace_free(w1);
    /* refusals */
    ck_assert_int_eq(xai_clarc_onnx(p, "relu4", v, 30, z, &buf, &len), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "already"));
    ck_assert_int_eq(xai_clarc_onnx(m, "dense6", v, 3, z, &buf, &len), XAI_EINVAL);
    ck_assert_int_eq(xai_clarc_onnx(m, "nosuch", v, 30, z, &buf, &len), XAI_EINVAL);
    ck_assert_int_eq(xai_clarc_onnx(m, "relu1", v, 30, z, &buf, &len), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "values per sample"));
    xai_model_free(q), xai_model_free(p), xai_model_free(m);
}
END_TEST

START_TEST(test_train_after)
{
    xai_model *m = small_model();
    enum { N = 24 };
    float x[N * 40];
    int y[N];
    for (int i = 0; i < N * 40; i++)
        x[i] = (float)gauss() + (float)((i / 40) % 3) * (i % 40 < 10);
    for (int i = 0; i < N; i++)
        y[i] = i % 3;
    void *b0;
    size_t l0;
    ck_assert_int_eq(xai_model_save_onnx_mem(m, NULL, &b0, &l0), XAI_OK);
    xai_train_config c;
    xai_train_config_init(&c);
    c.epochs = 3;
    c.val_split = 0;
    c.lr = 1e-2f;
    c.train_after = "nosuch";
    ck_assert_int_eq(xai_train(m, &c, N, x, y, NULL), XAI_EINVAL);
    c.train_after = "relu4";
    ck_assert_int_eq(xai_train(m, &c, N, x, y, NULL), XAI_OK);
    /* conv weights bit-identical, dense weights moved */
    xai_model *m0;
    ck_assert_int_eq(xai_model_load_onnx_mem(b0, l0, "before", NULL, &m0), XAI_OK);
    free(b0);
    float a0[N * 30], a1[N * 30], o0[3], o1[3];
    int64_t d;
    ck_assert_int_eq(xai_layer_activations(m0, "relu4", N, x, a0, &d), XAI_OK);
    ck_assert_int_eq(xai_layer_activations(m, "relu4", N, x, a1, &d), XAI_OK);
    ck_assert_int_eq(memcmp(a0, a1, sizeof a0), 0);
    xai_workspace *w;
    ck_assert_int_eq(xai_workspace_new(m, 1, &w), XAI_OK);
    ck_assert_int_eq(xai_model_forward(m, w, 1, x, o1), XAI_OK);
    xai_workspace_free(w);
    ck_assert_int_eq(xai_workspace_new(m0, 1, &w), XAI_OK);
    ck_assert_int_eq(xai_model_forward(m0, w, 1, x, o0), XAI_OK);
    xai_workspace_free(w);
    ck_assert(memcmp(o0, o1, sizeof o0) != 0);
    xai_model_free(m0), xai_model_free(m);
}
END_TEST

/* The CAV file: written, read back to the same floats; what it lacks reads as absent; what
   is malformed is refused with the file's name. */
START_TEST(test_cav_file)
{
    float v[3] = {0.1f, -0.7f, 1.0f / 3.0f};
    xai_cav_file c = {"relu1", v, 3, 1.5, -0.25, "xai-clarc", "m.onnx", "within", XAI_CAV_RIDGE, 12, 30, 2.75};
    char *text = NULL;
    ck_assert_int_eq(xai_cav_file_to_json(&c, &text), XAI_OK);
    xai_cav_file r;
    ck_assert_int_eq(xai_cav_file_parse(text, strlen(text), "cav.json", &r), XAI_OK);
    ck_assert_str_eq(r.layer, "relu1");
    ck_assert_str_eq(r.model, "m.onnx");
    ck_assert_str_eq(r.classes, "within");
    ck_assert_int_eq(r.dim, 3);
    for (int j = 0; j < 3; j++)
        ck_assert_msg(r.v[j] == v[j], "v[%d] %.9g != %.9g", j, r.v[j], v[j]);
    ck_assert(r.z_artefact == 1.5 && r.z_clean == -0.25 && r.separation_d == 2.75);
    ck_assert(r.method == XAI_CAV_RIDGE && r.n_artefact == 12 && r.n_clean == 30);
    xai_cav_file_free(&r);
    xai_free(text);
    static const char minimal[] = "{\"layer\": \"x\", \"v\": [2, 0.5]}";
    ck_assert_int_eq(xai_cav_file_parse(minimal, strlen(minimal), NULL, &r), XAI_OK);
    ck_assert(r.dim == 2 && r.v[0] == 2.0f && isnan(r.z_clean) && r.n_clean == -1 && r.method == -1 && !r.model && !r.classes);
    xai_cav_file_free(&r);
    static const char *const bad[] = {"{\"layer\": \"x\"}", "{\"layer\": \"x\", \"v\": []}", "{\"v\": [1]}",
                                      "{\"layer\": \"x\", \"v\": [1, \"a\"]}", "{\"layer\": \"x\", \"v\": [1e39]}",
                                      "{\"layer\": \"x\", \"v\": [1], \"n_clean\": -2}", "[1, 2]", "{\"layer\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(xai_cav_file_parse(bad[i], strlen(bad[i]), "bad.json", &r) == XAI_EFORMAT, "accepted %s", bad[i]);
        ck_assert_ptr_nonnull(strstr(xai_last_error(), "bad.json"));
        ck_assert(!r.v && !r.layer);
    }
    ck_assert_int_eq(xai_cav_file_load("/nonexistent/cav.json", &r), XAI_EIO);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("clarc");
    TCase *tc = tcase_create("clarc");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_cav_methods);
    tcase_add_test(tc, test_cav_within_classes);
    tcase_add_test(tc, test_cav_within_hand);
    tcase_add_test(tc, test_cav_separation_hand);
    tcase_add_test(tc, test_cav_heldout);
    tcase_add_test(tc, test_cav_heldout_twins);
    tcase_add_test(tc, test_projection_in_graph);
    tcase_add_test(tc, test_train_after);
    tcase_add_test(tc, test_cav_file);
    suite_add_tcase(s, tc);
    return s;
}
