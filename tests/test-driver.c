/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-driver.c - the shared train/explain driver (xai/driver.h) on a small synthetic dataset:
 * subjects with a per-subject offset (the nuisance) and a planted class signal on one channel
 * and time window. Checks that no group is on both sides of a split, that the card records the
 * numbers training measured, that a model of pure noise is called "not above chance" and strict
 * refuses it, that fold models explain only the groups they held out (also after a save and
 * load), that normalised means weigh samples equally, and that a planted near-zero logit is
 * flagged by the relevance check with the plain start and not with the stable one.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-common.h"
#include "xai/driver.h"
#include "xai/train.h"

enum { C = 2, T = 16, NE = C * T };

static const char *const ARCH = "conv1d(4,k=3,p=1) relu flatten dense(8) relu dense(2)";

/* deterministic normal deviates (Box-Muller on a LCG) */
static double gauss(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    double u = ((double)(*s >> 11) + 0.5) / 9007199254740992.0;
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    double v = ((double)(*s >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* @p ng subjects of @p per samples, shape {C, T}: noise sd 1, an offset per subject in
 * [-3, 3], and for class 1 (when @p signal) +1.5 on channel 0 at times 4..8. Labels alternate
 * so that every subject holds both classes equally. */
static void make_data(xai_dataset *d, int ng, int per, int signal, uint64_t seed)
{
    const int64_t shape[2] = {C, T};
    ck_assert_int_eq(xai_dataset_alloc(d, (int64_t)ng * per, 2, shape, 2), XAI_OK);
    d->class_names = calloc(2, sizeof(char *));
    d->class_names[0] = xstrdup("rest");
    d->class_names[1] = xstrdup("task");
    d->ngroups = ng;
    d->group_names = calloc((size_t)ng, sizeof(char *));
    for (int g = 0; g < ng; g++) {
        char buf[16];
        snprintf(buf, sizeof buf, "sub-%02d", g + 1);
        d->group_names[g] = xstrdup(buf);
    }
    d->group_kind = xstrdup("subject");
    uint64_t s = seed;
    for (int g = 0; g < ng; g++) {
        double off = -3 + 6.0 * g / (ng > 1 ? ng - 1 : 1);
        for (int k = 0; k < per; k++) {
            int64_t i = (int64_t)g * per + k;
            d->group[i] = g;
            d->y[i] = signal ? k % 2 : (int)(gauss(&s) > 0);
            for (int j = 0; j < NE; j++) {
                int ch = j / T, t = j % T;
                double v = gauss(&s) + off;
                if (signal && d->y[i] == 1 && ch == 0 && t >= 4 && t <= 8)
                    v += 1.5;
                d->x[i * NE + j] = (float)v;
            }
        }
    }
}

/* collects warnings */
typedef struct {
    int n;
    char text[4096];
} warn_log;

static void collect(void *ud, const char *msg)
{
    warn_log *w = ud;
    w->n++;
    size_t len = strlen(w->text);
    snprintf(w->text + len, sizeof w->text - len, "%s\n", msg);
}

static void train_opts(xai_driver_train_options *o, warn_log *w)
{
    xai_driver_train_options_init(o);
    o->arch = ARCH;
    o->train.epochs = 25;
    o->train.patience = 8;
    o->train.lr = 3e-3f;
    o->train.batch = 16;
    o->train.seed = 3;
    o->program = "test-driver";
    o->warn = collect;
    o->warn_ud = w;
}

static int index_of(const char *const *v, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return i;
    return -1;
}

/* Every group held out by exactly one fold; @p fold_of[g] receives it. */
static void check_folds_partition(const xai_driver_set *s, const xai_dataset *d, int *fold_of)
{
    for (int g = 0; g < d->ngroups; g++)
        fold_of[g] = -1;
    for (int k = 0; k < xai_driver_set_nfolds(s); k++) {
        const char *const *names;
        int cnt;
        ck_assert_int_eq(xai_driver_set_fold_groups(s, k, &names, &cnt), XAI_OK);
        ck_assert_int_ge(cnt, 1);
        for (int i = 0; i < cnt; i++) {
            int g = index_of((const char *const *)d->group_names, d->ngroups, names[i]);
            ck_assert_int_ge(g, 0);
            ck_assert_msg(fold_of[g] < 0, "group %s held out by two folds", names[i]);
            fold_of[g] = k;
        }
    }
    for (int g = 0; g < d->ngroups; g++)
        ck_assert_msg(fold_of[g] >= 0, "group %s held out by no fold", d->group_names[g]);
    const char *const *names;
    int cnt;
    ck_assert_int_eq(xai_driver_set_fold_groups(s, xai_driver_set_nfolds(s), &names, &cnt), XAI_EINVAL);
}

/* the card holds the summary's numbers */
static void check_card_numbers(const xai_card *c, const xai_driver_summary *sm)
{
    double v;
    ck_assert(xai_card_get_number(c, "validation.accuracy", &v));
    ck_assert_double_eq_tol(v, sm->accuracy, 1e-12);
    ck_assert(xai_card_get_number(c, "validation.balanced_accuracy", &v));
    ck_assert_double_eq_tol(v, sm->balanced_accuracy, 1e-12);
    ck_assert(xai_card_get_number(c, "validation.chance_level", &v));
    ck_assert_double_eq_tol(v, sm->chance, 1e-12);
    ck_assert(xai_card_get_number(c, "validation.n_heldout", &v));
    ck_assert_int_eq((int64_t)v, sm->n_heldout);
    ck_assert(xai_card_get_number(c, "validation.baseline.accuracy", &v));
    ck_assert_double_eq_tol(v, sm->baseline_accuracy, 1e-12);
    ck_assert_str_eq(xai_card_get_string(c, "validation.scheme"), sm->scheme);
    ck_assert_str_eq(xai_card_get_string(c, "validation.group_kind"), "subject");
    ck_assert_str_eq(xai_card_get_string(c, "provenance.program"), "test-driver");
    ck_assert_str_eq(xai_card_get_string(c, "provenance.arch"), ARCH);
    ck_assert_str_eq(xai_card_class_name(c, 1), "task");
    char *ci = xai_card_get_json(c, "validation.ci95");
    ck_assert_ptr_nonnull(ci);
    double lo, hi;
    ck_assert_int_eq(sscanf(ci, "[%lf,%lf]", &lo, &hi), 2);
    ck_assert_double_eq_tol(lo, sm->ci_low, 1e-9);
    ck_assert_double_eq_tol(hi, sm->ci_high, 1e-9);
    ck_assert(lo <= sm->accuracy && sm->accuracy <= hi);
    xai_free(ci);
}

/* explaining out of fold: each sample by the fold that held its group out; logits are that
 * fold model's; no map is in-sample */
static void check_out_of_fold(const xai_driver_set *s, const xai_dataset *d, const int *fold_of)
{
    xai_driver_explain_options eo;
    xai_driver_explain_options_init(&eo);
    xai_driver_explanation e;
    ck_assert_int_eq(xai_driver_explain(s, d, &eo, &e), XAI_OK);
    ck_assert_int_eq(e.n, d->n);
    ck_assert_int_eq(e.n_in_sample, 0);
    float lg[2];
    xai_workspace *ws[8] = {0};
    for (int64_t i = 0; i < d->n; i++) {
        int k = fold_of[d->group[i]];
        ck_assert_int_eq(e.fold[i], k);
        ck_assert_int_eq(e.flags[i] & XAI_DRIVER_FLAG_IN_SAMPLE, 0);
        const xai_model *m = xai_driver_set_fold_model(s, k);
        if (!ws[k])
            ck_assert_int_eq(xai_workspace_new(m, 1, &ws[k]), XAI_OK);
        ck_assert_int_eq(xai_model_forward(m, ws[k], 1, d->x + i * NE, lg), XAI_OK);
        ck_assert_float_eq_tol(e.logits[i * 2 + 1], lg[1], 1e-4f);
        ck_assert_int_eq(e.target[i], e.pred[i]);
        double a = 0;
        for (int j = 0; j < NE; j++)
            a += fabs(e.rel[i * NE + j]);
        ck_assert_msg(e.l1[i] > 0 && fabs(a - 1) < 1e-4, "sample %lld: sum |R| %g after normalising", (long long)i,
                      a);
    }
    for (int k = 0; k < 8; k++)
        xai_workspace_free(ws[k]);
    xai_driver_explanation_free(&e);
    /* the model for new data was trained on every group: all maps are in-sample */
    eo.out_of_fold = 0;
    ck_assert_int_eq(xai_driver_explain(s, d, &eo, &e), XAI_OK);
    ck_assert_int_eq(e.n_in_sample, d->n);
    for (int64_t i = 0; i < d->n; i++)
        ck_assert_int_eq(e.fold[i], -1);
    xai_driver_explanation_free(&e);
}

START_TEST(test_cv_fold_models)
{
    xai_dataset d = {0};
    make_data(&d, 6, 40, 1, 7);
    warn_log w = {0};
    xai_driver_train_options o;
    train_opts(&o, &w);
    o.scheme = XAI_SPLIT_KFOLD;
    o.folds = 3;
    xai_driver_set *s = NULL;
    ck_assert_msg(xai_driver_train(&d, &o, NULL, &s) == XAI_OK, "%s", xai_last_error());
    const xai_driver_summary *sm = xai_driver_set_summary(s);
    ck_assert_ptr_nonnull(sm);
    printf("  group-kfold: accuracy %.3f [%.3f, %.3f] balanced %.3f chance %.3f, ridge %.3f, folds %.3f +- %.3f, "
           "kept epoch %.1f\n", sm->accuracy, sm->ci_low, sm->ci_high, sm->balanced_accuracy, sm->chance,
           sm->baseline_accuracy, sm->fold_mean, sm->fold_sd, sm->mean_best_epoch);
    ck_assert_str_eq(sm->scheme, "group-kfold");
    ck_assert_int_eq(sm->n_folds, 3);
    ck_assert_int_eq(sm->n_groups, 6);
    ck_assert_int_eq(sm->n_heldout, d.n);
    ck_assert_msg(sm->above_chance, "the planted signal was not learned: %.3f", sm->accuracy);
    ck_assert_double_eq_tol(sm->chance, 0.5, 1e-12);
    ck_assert_int_eq(xai_driver_set_nfolds(s), 3);
    int fold_of[6];
    check_folds_partition(s, &d, fold_of);
    check_card_numbers(xai_driver_set_card(s), sm);
    ck_assert_str_eq(xai_card_get_string(xai_driver_set_card(s), "training.early_stopping"),
                     "inner grouped hold-out of the training groups");
    ck_assert_str_eq(xai_card_get_string(xai_driver_set_card(s), "training.lr_schedule"), "none");
    ck_assert_str_eq(xai_card_get_string(xai_driver_set_card(s), "training.model_for_new_data"),
                     "trained on every group after the cross-validation");
    check_out_of_fold(s, &d, fold_of);
    /* saved and loaded: the same folds and the same held-out groups */
    char *dir = xai_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    ck_assert_msg(xai_driver_set_save(s, path) == XAI_OK, "%s", xai_last_error());
    char **paths;
    int np;
    ck_assert_int_eq(xai_driver_set_paths(s, path, &paths, &np), XAI_OK);
    ck_assert_int_eq(np, 4);
    ck_assert(strstr(paths[3], "/model.fold-3.onnx"));
    for (int i = 0; i < np; i++)
        xai_free(paths[i]);
    xai_free(paths);
    xai_driver_set *l = NULL;
    ck_assert_msg(xai_driver_set_load(path, NULL, &l) == XAI_OK, "%s", xai_last_error());
    ck_assert_ptr_null(xai_driver_set_summary(l));
    ck_assert_int_eq(xai_driver_set_nfolds(l), 3);
    int fold_of2[6];
    check_folds_partition(l, &d, fold_of2);
    for (int g = 0; g < 6; g++)
        ck_assert_int_eq(fold_of2[g], fold_of[g]);
    check_out_of_fold(l, &d, fold_of);
    double acc;
    ck_assert(xai_card_get_number(xai_driver_set_card(l), "validation.accuracy", &acc));
    ck_assert_double_eq_tol(acc, sm->accuracy, 1e-12);
    xai_driver_set_free(l);
    /* a fold file that is missing is an error naming it */
    snprintf(path, sizeof path, "%s/model.fold-2.onnx", dir);
    ck_assert_int_eq(remove(path), 0);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    ck_assert_int_ne(xai_driver_set_load(path, NULL, &l), XAI_OK);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "model.fold-2.onnx"));
    xai_test_rmtree(dir);
    free(dir);
    xai_driver_set_free(s);
    xai_dataset_free(&d);
}
END_TEST

/* A hold-out: the model's training groups and the held-out groups never meet; maps of training
 * groups are flagged in-sample and the held-out ones are not. */
START_TEST(test_holdout_groups)
{
    xai_dataset d = {0};
    make_data(&d, 8, 20, 1, 11);
    warn_log w = {0};
    xai_driver_train_options o;
    train_opts(&o, &w);
    xai_driver_set *s = NULL;
    ck_assert_msg(xai_driver_train(&d, &o, NULL, &s) == XAI_OK, "%s", xai_last_error());
    const xai_driver_summary *sm = xai_driver_set_summary(s);
    ck_assert_str_eq(sm->scheme, "grouped-holdout");
    ck_assert_int_eq(sm->n_heldout, 2 * 20); /* 0.25 of 8 groups */
    ck_assert_int_eq(xai_driver_set_nfolds(s), 0);
    xai_driver_explain_options eo;
    xai_driver_explain_options_init(&eo);
    xai_driver_explanation e;
    ck_assert_int_eq(xai_driver_explain(s, &d, &eo, &e), XAI_OK);
    int in_sample[8] = {0}, out_sample[8] = {0};
    for (int64_t i = 0; i < d.n; i++) {
        if (e.flags[i] & XAI_DRIVER_FLAG_IN_SAMPLE)
            in_sample[d.group[i]]++;
        else
            out_sample[d.group[i]]++;
    }
    int held = 0;
    for (int g = 0; g < 8; g++) {
        ck_assert_msg(!in_sample[g] || !out_sample[g], "group %d is on both sides", g);
        held += out_sample[g] > 0;
    }
    ck_assert_int_eq(held, 2);
    ck_assert_int_eq(e.n_in_sample, 6 * 20);
    /* class means skip in-sample maps unless asked */
    float mean[2 * NE];
    int64_t cnt[2];
    ck_assert_int_eq(xai_driver_mean_maps(&e, d.y, 2, 0, mean, cnt), XAI_OK);
    ck_assert_int_eq(cnt[0] + cnt[1], 2 * 20);
    ck_assert_int_eq(xai_driver_mean_maps(&e, d.y, 2, 1, mean, cnt), XAI_OK);
    ck_assert_int_eq(cnt[0] + cnt[1], d.n);
    xai_driver_explanation_free(&e);
    xai_driver_set_free(s);
    xai_dataset_free(&d);
}
END_TEST

/* A hold-out with refit_holdout: the validation is the hold-out's (same seed, same held-out
 * groups and predictions), the model for new data trained on every group, and the held-out
 * groups keep out-of-fold maps from the hold-out's model, now the set's one fold. */
START_TEST(test_holdout_refit)
{
    xai_dataset d = {0};
    make_data(&d, 4, 10, 1, 23);
    warn_log w = {0};
    xai_driver_train_options o;
    train_opts(&o, &w);
    o.train.epochs = 6; /* the bookkeeping is under test, not the accuracy */
    xai_driver_set *plain = NULL, *s = NULL;
    ck_assert_msg(xai_driver_train(&d, &o, NULL, &plain) == XAI_OK, "%s", xai_last_error());
    o.refit_holdout = 1;
    ck_assert_msg(xai_driver_train(&d, &o, NULL, &s) == XAI_OK, "%s", xai_last_error());
    const xai_driver_summary *a = xai_driver_set_summary(plain), *b = xai_driver_set_summary(s);
    ck_assert_str_eq(b->scheme, "grouped-holdout");
    ck_assert_int_eq(b->n_heldout, a->n_heldout);
    ck_assert_double_eq(b->accuracy, a->accuracy);
    for (int64_t i = 0; i < d.n; i++)
        ck_assert_int_eq(b->oof_pred[i], a->oof_pred[i]);
    ck_assert_int_eq(xai_driver_set_nfolds(plain), 0);
    ck_assert_int_eq(xai_driver_set_nfolds(s), 1);
    ck_assert_str_eq(xai_card_get_string(xai_driver_set_card(plain), "training.model_for_new_data"),
                     "the hold-out's model, trained without the held-out groups");
    ck_assert_str_eq(xai_card_get_string(xai_driver_set_card(s), "training.model_for_new_data"),
                     "trained on every group after the hold-out, whose model is kept as fold 1");
    xai_driver_explain_options eo;
    xai_driver_explain_options_init(&eo);
    xai_driver_explanation e;
    ck_assert_int_eq(xai_driver_explain(s, &d, &eo, &e), XAI_OK);
    ck_assert_int_eq(e.n_in_sample, d.n - b->n_heldout); /* the held-out group: out of fold */
    xai_driver_explanation_free(&e);
    xai_driver_set_free(plain);
    xai_driver_set_free(s);
    xai_dataset_free(&d);
}
END_TEST

/* Labels independent of the data: the verdict is "not above chance", the warning is given at
 * training and at explaining, and strict explaining refuses the model. */
START_TEST(test_noise_not_above_chance)
{
    xai_dataset d = {0};
    make_data(&d, 6, 30, 0, 5);
    warn_log w = {0};
    xai_driver_train_options o;
    train_opts(&o, &w);
    xai_driver_set *s = NULL;
    ck_assert_msg(xai_driver_train(&d, &o, NULL, &s) == XAI_OK, "%s", xai_last_error());
    const xai_driver_summary *sm = xai_driver_set_summary(s);
    printf("  noise: accuracy %.3f [%.3f, %.3f] chance %.3f, ridge %.3f; warnings:\n%s", sm->accuracy, sm->ci_low,
           sm->ci_high, sm->chance, sm->baseline_accuracy, w.text);
    ck_assert_int_eq(sm->above_chance, 0);
    ck_assert_int_ge(sm->n_warnings, 1);
    ck_assert_ptr_nonnull(strstr(w.text, "not above chance"));
    ck_assert_ptr_nonnull(strstr(xai_driver_set_warnings(s, NULL), "not above chance"));
    const xai_card *c = xai_driver_set_card(s);
    char *flag = xai_card_get_json(c, "validation.above_chance");
    ck_assert_str_eq(flag, "false");
    xai_free(flag);
    xai_driver_explain_options eo;
    xai_driver_explain_options_init(&eo);
    eo.strict = 1;
    xai_driver_explanation e;
    ck_assert_int_eq(xai_driver_explain(s, &d, &eo, &e), XAI_EINVAL);
    ck_assert_int_ge(e.untrusted, 1);
    ck_assert_ptr_null(e.rel);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "not above chance"));
    xai_driver_explanation_free(&e);
    warn_log w2 = {0};
    eo.strict = 0;
    eo.warn = collect;
    eo.warn_ud = &w2;
    ck_assert_int_eq(xai_driver_explain(s, &d, &eo, &e), XAI_OK);
    ck_assert_ptr_nonnull(strstr(w2.text, "not above chance"));
    ck_assert_int_ge(e.untrusted, 1);
    xai_driver_explanation_free(&e);
    xai_driver_set_free(s);
    xai_dataset_free(&d);
}
END_TEST

enum { D = 20, NS = 4 };

/* x0 + t v with logit @p target within 1e-6 of 0 (bisection on a sign change); 0 when none */
static int plant_zero_logit(const xai_model *m, int target, const float *x0, const float *v, float *x)
{
    xai_workspace *ws;
    ck_assert_int_eq(xai_workspace_new(m, 1, &ws), XAI_OK);
    float lg[2];
    double lo = -40, hi = 0, flo = 0;
    int found = 0;
    for (double t = -40; t <= 40 && !found; t += 0.5) {
        for (int j = 0; j < D; j++)
            x[j] = x0[j] + (float)t * v[j];
        ck_assert_int_eq(xai_model_forward(m, ws, 1, x, lg), XAI_OK);
        if (t > -40 && (lg[target] > 0) != (flo > 0))
            hi = t, found = 1;
        else
            lo = t, flo = lg[target];
    }
    for (int it = 0; found && it < 200; it++) {
        double mid = 0.5 * (lo + hi);
        for (int j = 0; j < D; j++)
            x[j] = x0[j] + (float)mid * v[j];
        ck_assert_int_eq(xai_model_forward(m, ws, 1, x, lg), XAI_OK);
        if (fabs(lg[target]) < 1e-6)
            break;
        if ((lg[target] > 0) == (flo > 0))
            lo = mid;
        else
            hi = mid;
    }
    xai_workspace_free(ws);
    return found;
}

/* A model brought from elsewhere (no driver index) loads as a set without folds; the data of
 * 4 samples: 0 and 1 are the same input at two scales, 2 has a near-zero class-0 logit. */
static xai_driver_set *planted_set(xai_dataset *d, char **dir)
{
    const int64_t shape[1] = {D};
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("dense(16) relu dense(16) relu dense(2)", 1, shape, 11, &m), XAI_OK);
    *dir = xai_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/brought.onnx", *dir);
    ck_assert_int_eq(xai_model_save_onnx(m, path, NULL), XAI_OK);
    ck_assert_int_eq(xai_dataset_alloc(d, NS, 1, shape, 2), XAI_OK);
    float v[D];
    for (int k = 0; k < NS * D; k++)
        d->x[k] = (float)sin(0.37 * k + 1.1);
    for (int j = 0; j < D; j++) {
        v[j] = (float)cos(0.91 * j);
        d->x[1 * D + j] = 50 * d->x[j];
    }
    float x0[D];
    memcpy(x0, d->x + 2 * D, sizeof x0);
    ck_assert_msg(plant_zero_logit(m, 0, x0, v, d->x + 2 * D), "no sign change of logit 0 found");
    xai_model_free(m);
    xai_driver_set *s = NULL;
    ck_assert_int_eq(xai_driver_set_load(path, NULL, &s), XAI_OK);
    ck_assert_int_eq(xai_driver_set_nfolds(s), 0);
    return s;
}

/* The plain one-hot start blows the planted sample up and the check reports it (flag and
 * warning); the stable default keeps every sum within the factor. */
START_TEST(test_relevance_check)
{
    xai_dataset d = {0};
    char *dir;
    xai_driver_set *s = planted_set(&d, &dir);
    xai_driver_explain_options eo;
    xai_driver_explain_options_init(&eo);
    eo.target.kind = XAI_TARGET_CLASS;
    eo.target.cls = 0;
    eo.start = XAI_DRIVER_START_ONEHOT;
    warn_log w = {0};
    eo.warn = collect;
    eo.warn_ud = &w;
    xai_driver_explanation e;
    ck_assert_int_eq(xai_driver_explain(s, &d, &eo, &e), XAI_OK);
    printf("  plain one-hot: logit %+.2e, sum/start %+.4g, %lld flagged\n", (double)e.logits[2 * 2],
           e.rel_sum[2] / e.init_sum[2], (long long)e.n_departs);
    ck_assert(fabs(e.logits[2 * 2]) < 1e-4);
    ck_assert(e.flags[2] & XAI_DRIVER_FLAG_DEPARTS);
    ck_assert_int_ge(e.n_departs, 1);
    ck_assert_ptr_nonnull(strstr(w.text, "sample 2: relevance sum"));
    ck_assert_str_eq(e.start, "onehot");
    /* the card of a brought model without validation is warned about */
    ck_assert_ptr_nonnull(strstr(w.text, "no held-out validation"));
    ck_assert_int_ge(e.untrusted, 1);
    xai_driver_explanation_free(&e);
    eo.start = XAI_DRIVER_START_STABLE;
    ck_assert_int_eq(xai_driver_explain(s, &d, &eo, &e), XAI_OK);
    printf("  stable: sum/start %+.4g, %lld flagged\n", e.rel_sum[2] / e.init_sum[2], (long long)e.n_departs);
    ck_assert_int_eq(e.n_departs, 0);
    for (int i = 0; i < NS; i++)
        ck_assert_int_eq(e.flags[i] & XAI_DRIVER_FLAG_DEPARTS, 0);
    xai_driver_explanation_free(&e);
    xai_driver_set_free(s);
    xai_test_rmtree(dir);
    free(dir);
    xai_dataset_free(&d);
}
END_TEST

/* Normalised maps weigh the same in a mean whatever their raw size; raw maps do not. */
START_TEST(test_normalised_means)
{
    xai_dataset d = {0};
    char *dir;
    xai_driver_set *s = planted_set(&d, &dir);
    xai_driver_explain_options eo;
    xai_driver_explain_options_init(&eo);
    eo.target.kind = XAI_TARGET_CLASS;
    eo.target.cls = 1;
    eo.start = XAI_DRIVER_START_LOGIT; /* raw sums follow the logit, which grows with the input */
    xai_driver_explanation e, raw;
    ck_assert_int_eq(xai_driver_explain(s, &d, &eo, &e), XAI_OK);
    eo.normalise = 0;
    ck_assert_int_eq(xai_driver_explain(s, &d, &eo, &raw), XAI_OK);
    ck_assert_msg(e.l1[1] > 10 * e.l1[0], "scaled sample: L1 %g vs %g", e.l1[1], e.l1[0]);
    const int key[NS] = {0, 0, -1, 1};
    float mean[2 * D], rmean[2 * D];
    int64_t cnt[2];
    ck_assert_int_eq(xai_driver_mean_maps(&e, key, 2, 0, mean, cnt), XAI_OK);
    ck_assert_int_eq(xai_driver_mean_maps(&raw, key, 2, 0, rmean, NULL), XAI_OK);
    ck_assert_int_eq(cnt[0], 2);
    ck_assert_int_eq(cnt[1], 1);
    double share0 = 0, share1 = 0, dist_raw = 0;
    for (int j = 0; j < D; j++) {
        ck_assert_float_eq_tol(mean[j], 0.5f * (e.rel[j] + e.rel[D + j]), 1e-6f);
        ck_assert_float_eq_tol(raw.rel[j], e.rel[j] * (float)e.l1[0], 1e-4f * (float)e.l1[0]);
        share0 += fabs(0.5 * e.rel[j]);
        share1 += fabs(0.5 * e.rel[D + j]);
        dist_raw += fabs(rmean[j] / (0.5 * (raw.l1[0] + raw.l1[1])) - raw.rel[D + j] / raw.l1[1]);
        ck_assert_float_eq_tol(mean[D + j], e.rel[3 * D + j], 1e-7f);
    }
    ck_assert_double_eq_tol(share0, 0.5, 1e-5);
    ck_assert_double_eq_tol(share1, 0.5, 1e-5);
    /* the raw mean is (nearly) the large sample's map alone */
    ck_assert_msg(dist_raw < 0.2, "raw mean departs from the large sample's map by %g", dist_raw);
    xai_driver_explanation_free(&e);
    xai_driver_explanation_free(&raw);
    /* target "true" with an unlabelled sample: flagged, not explained, never averaged */
    d.y[0] = 1, d.y[1] = 0, d.y[2] = -1, d.y[3] = 1;
    eo.target.kind = XAI_TARGET_TRUE;
    ck_assert_int_eq(xai_driver_explain(s, &d, &eo, &e), XAI_OK);
    ck_assert(e.flags[2] & XAI_DRIVER_FLAG_NO_TARGET);
    ck_assert_int_eq(e.target[2], -1);
    ck_assert_int_eq(e.target[1], 0);
    ck_assert_int_eq(e.target[3], 1);
    for (int j = 0; j < D; j++)
        ck_assert_float_eq(e.rel[2 * D + j], 0.0f);
    const int all[NS] = {0, 0, 0, 0};
    ck_assert_int_eq(xai_driver_mean_maps(&e, all, 1, 1, mean, cnt), XAI_OK);
    ck_assert_int_eq(cnt[0], 3);
    xai_driver_explanation_free(&e);
    xai_driver_set_free(s);
    xai_test_rmtree(dir);
    free(dir);
    xai_dataset_free(&d);
}
END_TEST

/* Bad inputs fail with a message; one group only is refused, or validated within it on request
 * (the card then says "holdout" and warns). */
START_TEST(test_bad_inputs)
{
    xai_dataset d = {0};
    make_data(&d, 3, 12, 1, 2);
    warn_log w = {0};
    xai_driver_train_options o;
    train_opts(&o, &w);
    o.train.epochs = 3;
    xai_driver_set *s = NULL;
    o.init_model = "x.onnx"; /* both arch and init_model */
    ck_assert_int_eq(xai_driver_train(&d, &o, NULL, &s), XAI_EINVAL);
    o.init_model = NULL;
    o.scheme = XAI_SPLIT_KFOLD;
    o.folds = 4; /* more folds than groups */
    ck_assert_int_eq(xai_driver_train(&d, &o, NULL, &s), XAI_EINVAL);
    o.scheme = XAI_SPLIT_HOLDOUT;
    d.y[5] = 2;
    ck_assert_int_eq(xai_driver_train(&d, &o, NULL, &s), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "sample 5"));
    d.y[5] = 1;
    for (int64_t i = 0; i < d.n; i++)
        d.group[i] = 0;
    ck_assert_int_eq(xai_driver_train(&d, &o, NULL, &s), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "one group"));
    o.allow_within = 1;
    ck_assert_msg(xai_driver_train(&d, &o, NULL, &s) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(xai_driver_set_summary(s)->within_group, 1);
    ck_assert_str_eq(xai_card_get_string(xai_driver_set_card(s), "validation.scheme"), "holdout");
    ck_assert_ptr_nonnull(strstr(w.text, "optimistic"));
    /* a shape that does not fit the model */
    xai_dataset small = {0};
    const int64_t shape[2] = {C, T - 1};
    ck_assert_int_eq(xai_dataset_alloc(&small, 2, 2, shape, 2), XAI_OK);
    xai_driver_explain_options eo;
    xai_driver_explain_options_init(&eo);
    xai_driver_explanation e;
    ck_assert_int_eq(xai_driver_explain(s, &small, &eo, &e), XAI_ESHAPE);
    xai_driver_explanation_free(&e);
    xai_dataset_free(&small);
    xai_driver_set_free(s);
    xai_dataset_free(&d);
}
END_TEST

/* augmentation hook: sees only training samples (never inner-validation or held-out ones) */
typedef struct {
    int calls, fail;
    int64_t n[8];
    uint64_t seed[8];
} aug_log;

static xai_status augment(void *ud, float *x, int64_t n, int ndim, const int64_t *shape, uint64_t seed)
{
    aug_log *a = ud;
    ck_assert_int_eq(ndim, 2);
    ck_assert_int_eq(shape[0] * shape[1], NE);
    if (a->calls < 8) {
        a->n[a->calls] = n;
        a->seed[a->calls] = seed;
    }
    a->calls++;
    for (int64_t k = 0; k < n * NE; k++) /* amplitude scaling */
        x[k] *= 1.1f;
    return a->fail ? xai_error_set(XAI_EINVAL, "augmentation refused") : XAI_OK;
}

/* Leave one group out with augmentation: one call per model on its training part only. */
START_TEST(test_logo_augment)
{
    xai_dataset d = {0};
    make_data(&d, 4, 10, 1, 13);
    warn_log w = {0};
    xai_driver_train_options o;
    train_opts(&o, &w);
    o.train.epochs = 4;
    o.scheme = XAI_SPLIT_LOGO;
    aug_log a = {0};
    o.augment = augment;
    o.augment_ud = &a;
    xai_driver_set *s = NULL;
    ck_assert_msg(xai_driver_train(&d, &o, NULL, &s) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(xai_driver_set_nfolds(s), 4);
    ck_assert_str_eq(xai_driver_set_summary(s)->scheme, "leave-one-group-out");
    /* 4 folds of 3 training groups (one of them the inner validation group), then all 4 groups */
    ck_assert_int_eq(a.calls, 5);
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(a.n[k], 20);
    ck_assert_int_eq(a.n[4], 30);
    ck_assert(a.seed[0] != a.seed[1]);
    double v;
    ck_assert(xai_card_get_number(xai_driver_set_card(s), "training.augment_copies", &v));
    ck_assert_double_eq(v, 1);
    for (int k = 0; k < 4; k++) {
        const char *const *names;
        int cnt;
        ck_assert_int_eq(xai_driver_set_fold_groups(s, k, &names, &cnt), XAI_OK);
        ck_assert_int_eq(cnt, 1);
    }
    xai_driver_set_free(s);
    a.fail = 1;
    ck_assert_int_eq(xai_driver_train(&d, &o, NULL, &s), XAI_EINVAL);
    ck_assert_str_eq(xai_last_error(), "augmentation refused");
    xai_dataset_free(&d);
}
END_TEST

/* A per-model prep step for the test: each feature centred on the mean of the model's
 * training samples; it logs which groups every fit saw. */
typedef struct {
    const xai_dataset *d;
    int fits, records, frees;
    unsigned seen[8]; /* bit g: group g among the fit's samples */
} prep_log;

static xai_status prep_fit(void *ud, const int64_t *idx, int64_t n, float *x, const int *y, void **state)
{
    prep_log *p = ud;
    float *mu = calloc(NE, sizeof *mu);
    ck_assert_ptr_nonnull(mu);
    for (int64_t i = 0; i < n; i++) {
        ck_assert_int_eq(y[i], p->d->y[idx[i]]);
        if (p->fits < 8)
            p->seen[p->fits] |= 1u << p->d->group[idx[i]];
        for (int j = 0; j < NE; j++) {
            ck_assert(x[i * NE + j] == p->d->x[idx[i] * NE + j]); /* the raw samples, in order */
            mu[j] += x[i * NE + j] / (float)n;
        }
    }
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < NE; j++)
            x[i * NE + j] -= mu[j];
    p->fits++;
    *state = mu;
    return XAI_OK;
}

static xai_status prep_apply(void *ud, const void *state, float *x, int64_t n)
{
    (void)ud;
    const float *mu = state;
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < NE; j++)
            x[i * NE + j] -= mu[j];
    return XAI_OK;
}

static xai_status prep_record(void *ud, const void *state, xai_model *m, const xai_train_result *res)
{
    prep_log *p = ud;
    char buf[64];
    snprintf(buf, sizeof buf, "%.6f %d", (double)((const float *)state)[0], res->epochs_run);
    p->records++;
    return xai_model_set_metadata(m, "test.prep", buf);
}

static void prep_free(void *ud, void *state)
{
    ((prep_log *)ud)->frees++;
    free(state);
}

static void logits_of(const xai_model *m, const float *x, float *out)
{
    xai_workspace *ws = NULL;
    ck_assert_int_eq(xai_workspace_new(m, 1, &ws), XAI_OK);
    ck_assert_int_eq(xai_model_forward(m, ws, 1, x, out), XAI_OK);
    xai_workspace_free(ws);
}

/* The prep step is fitted on each model's training groups only and applied to its held-out
 * samples; with shared_start a fold model is exactly one plain xai_train() with the seed on
 * the prepared training samples, and the out-of-fold predictions are that model's. */
START_TEST(test_prep_shared_start)
{
    xai_dataset d = {0};
    make_data(&d, 4, 10, 1, 21);
    warn_log w = {0};
    xai_driver_train_options o;
    train_opts(&o, &w);
    o.train.epochs = 4;
    o.train.patience = 0;
    o.train.schedule = XAI_SCHED_COSINE; /* reaches xai_train(): the models by hand below use it too */
    o.scheme = XAI_SPLIT_LOGO;
    o.shared_start = 1;
    prep_log pl = {.d = &d};
    xai_driver_prep hooks = {prep_fit, prep_apply, prep_record, prep_free, &pl, NULL, NULL};
    o.prep = &hooks;
    xai_driver_set *s = NULL;
    ck_assert_msg(xai_driver_train(&d, &o, NULL, &s) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(pl.fits, 5); /* 4 folds, then the model for new data */
    ck_assert_int_eq(pl.records, 5);
    ck_assert_int_eq(pl.frees, 5);
    ck_assert_uint_eq(pl.seen[4], 0xfu);
    const xai_driver_summary *sm = xai_driver_set_summary(s);
    ck_assert(isfinite(sm->baseline_accuracy));
    /* no patience: no inner split, all epochs run and the last is kept, as the card says */
    const xai_card *card = xai_driver_set_card(s);
    ck_assert_str_eq(xai_card_get_string(card, "training.early_stopping"), "none: every epoch runs, the last is kept");
    ck_assert_str_eq(xai_card_get_string(card, "training.lr_schedule"), "cosine");
    char *ke = xai_card_get_json(card, "training.kept_epochs");
    ck_assert_ptr_nonnull(ke);
    ck_assert_msg(strstr(ke, "[4, 4, 4, 4]") != NULL || strstr(ke, "[4,4,4,4]") != NULL, "kept epochs %s", ke);
    xai_free(ke);
    ck_assert_double_eq_tol(sm->mean_best_epoch, 4, 1e-12);
    for (int k = 0; k < 4; k++) {
        const char *const *names;
        int cnt;
        ck_assert_int_eq(xai_driver_set_fold_groups(s, k, &names, &cnt), XAI_OK);
        ck_assert_int_eq(cnt, 1);
        int h = atoi(names[0] + 4) - 1;
        ck_assert_uint_eq(pl.seen[k], 0xfu & ~(1u << h)); /* never the held-out group */
        ck_assert_ptr_nonnull(xai_model_metadata(xai_driver_set_fold_model(s, k), "test.prep"));
        /* the same model by hand: centre the other groups, train with the seed, no validation */
        float *xt = malloc(sizeof(float) * 40 * NE), mu[NE] = {0}, logit[2], want[2];
        int yt[40], n = 0;
        for (int64_t i = 0; i < d.n; i++)
            if (d.group[i] != h) {
                memcpy(xt + n * NE, d.x + i * NE, sizeof(float) * NE);
                yt[n++] = d.y[i];
            }
        float tmp[NE];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < NE; j++)
                mu[j] += xt[i * NE + j] / (float)n;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < NE; j++)
                xt[i * NE + j] -= mu[j];
        xai_model *m = NULL;
        xai_train_config cfg = o.train;
        cfg.val_split = 0;
        xai_train_result res;
        ck_assert_int_eq(xai_model_from_spec(ARCH, d.ndim, d.shape, o.train.seed, &m), XAI_OK);
        ck_assert_int_eq(xai_train(m, &cfg, n, xt, yt, &res), XAI_OK);
        for (int64_t i = 0; i < d.n; i++) {
            if (d.group[i] != h)
                continue;
            for (int j = 0; j < NE; j++)
                tmp[j] = d.x[i * NE + j] - mu[j];
            logits_of(m, tmp, want);
            logits_of(xai_driver_set_fold_model(s, k), tmp, logit);
            ck_assert(logit[0] == want[0] && logit[1] == want[1]);
            ck_assert_int_eq(sm->oof_pred[i], want[1] > want[0]);
        }
        xai_model_free(m);
        free(xt);
    }
    xai_driver_set_free(s);
    xai_dataset_free(&d);
}
END_TEST

/* A prep step with a card record: each model's statistics come from its own training rows
 * only (no row of a group the fold holds out), the model for new data's from every row; each
 * record lands in its own model's card, and xai_driver_set_model_for() names the fold that held
 * a group out. */
typedef struct {
    int fits;
    int64_t ntrain[8];
} card_log;

typedef struct {
    int fit;                 /* 0-based order of the fit */
    int64_t ntrain;
    double mean;             /* of feature 0 over the training rows */
} card_state;

static xai_status card_fit(void *ud, const int64_t *idx, int64_t n, float *x, const int *y, void **state)
{
    (void)idx, (void)y;
    card_log *p = ud;
    card_state *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    for (int64_t i = 0; i < n; i++)
        c->mean += x[i * NE];
    c->mean /= (double)n;
    for (int64_t i = 0; i < n; i++)
        x[i * NE] -= (float)c->mean; /* the training rows' mean of feature 0 removed */
    c->fit = p->fits;
    c->ntrain = n;
    if (p->fits < 8)
        p->ntrain[p->fits] = n;
    p->fits++;
    *state = c;
    return XAI_OK;
}

static xai_status card_apply(void *ud, const void *state, float *x, int64_t n)
{
    (void)ud;
    for (int64_t i = 0; i < n; i++)
        x[i * NE] -= (float)((const card_state *)state)->mean;
    return XAI_OK;
}

static xai_status card_json(void *ud, const void *state, char **json)
{
    (void)ud;
    const card_state *c = state;
    char buf[96];
    snprintf(buf, sizeof buf, "{\"fit\":%d,\"ntrain\":%lld,\"mean\":%.9g}", c->fit, (long long)c->ntrain, c->mean);
    *json = strdup(buf);
    return *json ? XAI_OK : XAI_ENOMEM;
}

static void card_free(void *ud, void *state)
{
    (void)ud;
    free(state);
}

START_TEST(test_prep_card_per_model)
{
    xai_dataset d = {0};
    make_data(&d, 4, 10, 1, 19);
    warn_log w = {0};
    xai_driver_train_options o;
    train_opts(&o, &w);
    o.train.epochs = 2;
    o.scheme = XAI_SPLIT_LOGO;
    card_log pl = {0};
    xai_driver_prep hooks = {card_fit, card_apply, NULL, card_free, &pl, card_json, NULL};
    o.prep = &hooks;
    xai_driver_set *s = NULL;
    ck_assert_int_eq(xai_driver_train(&d, &o, NULL, &s), XAI_EINVAL); /* a card record needs its key */
    hooks.card_key = "preprocessing.prep";
    ck_assert_msg(xai_driver_train(&d, &o, NULL, &s) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(pl.fits, 5); /* 4 folds, then the model for new data */
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(pl.ntrain[k], 30);
    ck_assert_int_eq(pl.ntrain[4], 40);
    /* the set's card holds the record of the model for new data */
    char *r = xai_card_get_json(xai_driver_set_card(s), "preprocessing.prep.ntrain");
    ck_assert_str_eq(r, "40");
    xai_free(r);
    char *dir = xai_test_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/prep.onnx", dir);
    ck_assert_msg(xai_driver_set_save(s, path) == XAI_OK, "%s", xai_last_error());
    xai_driver_set *l = NULL;
    ck_assert_msg(xai_driver_set_load(path, NULL, &l) == XAI_OK, "%s", xai_last_error());
    for (int k = 0; k < 4; k++) {
        xai_card *c = NULL;
        ck_assert_int_eq(xai_card_from_model(xai_driver_set_fold_model(l, k), &c), XAI_OK);
        double model = -9, mean = NAN;
        ck_assert(xai_card_get_number(c, "preprocessing.prep.fit", &model));
        ck_assert(xai_card_get_number(c, "preprocessing.prep.mean", &mean));
        ck_assert_double_eq(model, k);
        /* the fold's mean is over the groups it trained on: recompute it without its group */
        const char *const *held;
        int nh;
        ck_assert_int_eq(xai_driver_set_fold_groups(l, k, &held, &nh), XAI_OK);
        ck_assert_int_eq(nh, 1);
        double m = 0;
        int n = 0;
        for (int64_t i = 0; i < d.n; i++)
            if (strcmp(d.group_names[d.group[i]], held[0]))
                m += d.x[i * NE], n++;
        ck_assert_int_eq(n, 30);
        ck_assert_double_eq_tol(mean, m / n, 1e-5);
        ck_assert_int_eq(xai_driver_set_model_for(l, held[0], 1), k);
        ck_assert_int_eq(xai_driver_set_model_for(l, held[0], 0), -1);
        xai_card_free(c);
    }
    ck_assert_int_eq(xai_driver_set_model_for(l, "sub-99", 1), -1);
    r = xai_card_get_json(xai_driver_set_card(l), "preprocessing.prep.ntrain");
    ck_assert_str_eq(r, "40");
    xai_free(r);
    r = xai_card_get_json(xai_driver_set_card(l), "preprocessing.prep.fit");
    ck_assert_str_eq(r, "4");
    xai_free(r);
    xai_driver_set_free(l);
    xai_driver_set_free(s);
    xai_test_rmtree(dir);
    free(dir);
    xai_dataset_free(&d);
}
END_TEST

/* Fine-tuning an ONNX model instead of an arch; the domain's card survives; without refit the
 * model for new data is fold 1; a path without ".onnx" still gets fold files next to it. */
START_TEST(test_finetune_and_files)
{
    xai_dataset d = {0};
    make_data(&d, 4, 10, 1, 17);
    char *dir = xai_test_tmpdir(), init[512], path[512];
    snprintf(init, sizeof init, "%s/init.onnx", dir);
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec(ARCH, 2, d.shape, 1, &m), XAI_OK);
    ck_assert_int_eq(xai_model_save_onnx(m, init, NULL), XAI_OK);
    xai_model_free(m);
    warn_log w = {0};
    xai_driver_train_options o;
    train_opts(&o, &w);
    o.arch = NULL;
    o.init_model = init;
    o.train.epochs = 3;
    o.scheme = XAI_SPLIT_KFOLD;
    o.folds = 2;
    o.refit_all = 0;
    xai_card *in;
    ck_assert_int_eq(xai_card_new(&in), XAI_OK);
    ck_assert_int_eq(xai_card_set(in, "domain=eeg"), XAI_OK);
    ck_assert_int_eq(xai_card_set(in, "preprocessing.bandpass_hz=[8,32]"), XAI_OK);
    ck_assert_int_eq(xai_card_set(in, "training.note=kept"), XAI_OK);
    xai_driver_set *s = NULL;
    ck_assert_msg(xai_driver_train(&d, &o, in, &s) == XAI_OK, "%s", xai_last_error());
    xai_card_free(in);
    const xai_card *c = xai_driver_set_card(s);
    ck_assert_str_eq(xai_card_get_string(c, "domain"), "eeg");
    ck_assert_str_eq(xai_card_get_string(c, "provenance.arch"), init);
    ck_assert_str_eq(xai_card_get_string(c, "training.note"), "kept");
    ck_assert_str_eq(xai_card_get_string(c, "training.model_for_new_data"),
                     "fold 1's model, trained without the groups fold 1 held out");
    char *pre = xai_card_get_json(c, "preprocessing.bandpass_hz");
    ck_assert_str_eq(pre, "[8,32]");
    xai_free(pre);
    /* no refit: the model for new data is fold 1 (same logits), trained on fold 1's groups */
    float l0[2], l1[2];
    xai_workspace *w0, *w1;
    ck_assert_int_eq(xai_workspace_new(xai_driver_set_model(s), 1, &w0), XAI_OK);
    ck_assert_int_eq(xai_workspace_new(xai_driver_set_fold_model(s, 0), 1, &w1), XAI_OK);
    ck_assert_int_eq(xai_model_forward(xai_driver_set_model(s), w0, 1, d.x, l0), XAI_OK);
    ck_assert_int_eq(xai_model_forward(xai_driver_set_fold_model(s, 0), w1, 1, d.x, l1), XAI_OK);
    ck_assert_float_eq_tol(l0[0], l1[0], 1e-5f);
    xai_workspace_free(w0);
    xai_workspace_free(w1);
    snprintf(path, sizeof path, "%s/set", dir);
    ck_assert_msg(xai_driver_set_save(s, path) == XAI_OK, "%s", xai_last_error());
    snprintf(init, sizeof init, "%s/set.fold-2.onnx", dir);
    ck_assert_int_eq(access(init, R_OK), 0);
    xai_driver_set *l = NULL;
    ck_assert_msg(xai_driver_set_load(path, NULL, &l) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(xai_driver_set_nfolds(l), 2);
    xai_driver_set_free(l);
    /* a fold file loaded on its own knows the groups it was trained on */
    snprintf(init, sizeof init, "%s/set.fold-1.onnx", dir);
    ck_assert_int_eq(xai_driver_set_load(init, NULL, &l), XAI_OK);
    ck_assert_int_eq(xai_driver_set_nfolds(l), 0);
    xai_driver_explain_options eo;
    xai_driver_explain_options_init(&eo);
    xai_driver_explanation e;
    ck_assert_int_eq(xai_driver_explain(l, &d, &eo, &e), XAI_OK);
    const char *const *held;
    int nheld;
    ck_assert_int_eq(xai_driver_set_fold_groups(s, 0, &held, &nheld), XAI_OK);
    for (int64_t i = 0; i < d.n; i++) {
        int out = 0;
        for (int k = 0; k < nheld; k++)
            out |= strcmp(held[k], d.group_names[d.group[i]]) == 0;
        ck_assert_int_eq(!(e.flags[i] & XAI_DRIVER_FLAG_IN_SAMPLE), out);
    }
    xai_driver_explanation_free(&e);
    xai_driver_set_free(l);
    xai_driver_set_free(s);
    xai_test_rmtree(dir);
    free(dir);
    xai_dataset_free(&d);
}
END_TEST

/* A card whose fold index points outside the model's folder is refused. */
START_TEST(test_bad_index)
{
    char *dir = xai_test_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/m.onnx", dir);
    const int64_t shape[1] = {4};
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("dense(2)", 1, shape, 1, &m), XAI_OK);
    xai_card *c;
    ck_assert_int_eq(xai_card_new(&c), XAI_OK);
    ck_assert_int_eq(xai_card_set_json(c, "extra.driver", "{\"folds\":[{\"file\":\"../m.onnx\","
                                                         "\"heldout_groups\":[\"a\"]}]}"), XAI_OK);
    ck_assert_int_eq(xai_card_apply(m, c), XAI_OK);
    ck_assert_int_eq(xai_model_save_onnx(m, path, NULL), XAI_OK);
    xai_driver_set *s = NULL;
    ck_assert_int_eq(xai_driver_set_load(path, NULL, &s), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "no plain file name"));
    ck_assert_ptr_null(s);
    xai_card_free(c);
    xai_model_free(m);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* ZBox bounds given in the explain options reach the first conv: the maps equal xai_explain()
 * with the same bounds, and differ from the per-sample default. */
START_TEST(test_zbox_bounds)
{
    const int64_t shape[2] = {2, 12};
    xai_model *m;
    ck_assert_int_eq(xai_model_from_spec("conv1d(4,k=3,p=1) relu flatten dense(2)", 2, shape, 5, &m), XAI_OK);
    char *dir = xai_test_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/conv.onnx", dir);
    ck_assert_int_eq(xai_model_save_onnx(m, path, NULL), XAI_OK);
    xai_driver_set *s = NULL;
    ck_assert_int_eq(xai_driver_set_load(path, NULL, &s), XAI_OK);
    xai_dataset d = {0};
    ck_assert_int_eq(xai_dataset_alloc(&d, 3, 2, shape, 2), XAI_OK);
    for (int k = 0; k < 3 * 24; k++)
        d.x[k] = (float)sin(0.53 * k + 0.2);
    xai_driver_explain_options eo;
    xai_driver_explain_options_init(&eo);
    eo.composite = "epsilon-gamma-box";
    eo.start = XAI_DRIVER_START_LOGIT;
    eo.normalise = 0;
    eo.have_bounds = 1;
    eo.low = -3.0f;
    eo.high = 3.0f;
    xai_driver_explanation a, b;
    ck_assert_int_eq(xai_driver_explain(s, &d, &eo, &a), XAI_OK);
    eo.have_bounds = 0;
    ck_assert_int_eq(xai_driver_explain(s, &d, &eo, &b), XAI_OK);
    xai_explain_config c;
    xai_explain_config_init(&c);
    c.composite = "epsilon-gamma-box";
    c.init = XAI_INIT_LOGIT;
    c.have_bounds = 1;
    c.low = -3.0f;
    c.high = 3.0f;
    float ref[3 * 24];
    ck_assert_int_eq(xai_explain(m, &c, 3, d.x, ref, NULL), XAI_OK);
    ck_assert_mem_eq(a.rel, ref, sizeof ref);
    double diff = 0;
    for (int k = 0; k < 3 * 24; k++)
        diff += fabs(a.rel[k] - b.rel[k]);
    ck_assert_double_gt(diff, 1e-3);
    xai_driver_explanation_free(&a);
    /* per-element bounds, aligned with the data: the samples with a class (1 has none, so the
     * batches gather 0 and 2) get the maps xai_explain() gives them with the same bounds */
    float lo[3 * 24], hi[3 * 24];
    for (int k = 0; k < 3 * 24; k++) {
        lo[k] = fminf(d.x[k], -0.2f + 0.1f * (float)(k % 24 / 12));
        hi[k] = d.x[k];
    }
    d.y[0] = 0, d.y[1] = -1, d.y[2] = 1;
    eo.target.kind = XAI_TARGET_TRUE;
    eo.box_low = lo;
    eo.box_high = hi;
    eo.batch = 1;
    ck_assert_int_eq(xai_driver_explain(s, &d, &eo, &a), XAI_OK);
    const int tg[3] = {0, 0, 1};
    c.have_bounds = 0;
    c.targets = tg;
    c.box_low = lo;
    c.box_high = hi;
    ck_assert_int_eq(xai_explain(m, &c, 3, d.x, ref, NULL), XAI_OK);
    ck_assert_mem_eq(a.rel, ref, 24 * sizeof(float));
    ck_assert(xai_test_rel_l2(a.rel + 48, ref + 48, 24) < 1e-6); /* alone, not third in a stack */
    ck_assert(xai_test_rel_l2(a.rel, b.rel, 24) > 1e-3);
    xai_driver_explanation_free(&a);
    xai_driver_explanation_free(&b);
    eo.box_high = NULL;
    ck_assert_int_eq(xai_driver_explain(s, &d, &eo, &a), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "both"));
    xai_dataset_free(&d);
    xai_driver_set_free(s);
    xai_model_free(m);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("driver");
    TCase *tc = tcase_create("driver");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_cv_fold_models);
    tcase_add_test(tc, test_holdout_groups);
    tcase_add_test(tc, test_holdout_refit);
    tcase_add_test(tc, test_noise_not_above_chance);
    tcase_add_test(tc, test_relevance_check);
    tcase_add_test(tc, test_normalised_means);
    tcase_add_test(tc, test_bad_inputs);
    tcase_add_test(tc, test_logo_augment);
    tcase_add_test(tc, test_prep_shared_start);
    tcase_add_test(tc, test_prep_card_per_model);
    tcase_add_test(tc, test_finetune_and_files);
    tcase_add_test(tc, test_bad_index);
    tcase_add_test(tc, test_zbox_bounds);
    suite_add_tcase(s, tc);
    return s;
}
