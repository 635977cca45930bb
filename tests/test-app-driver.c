/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-app-driver.c - the command-line side of the driver (apps/common/app-driver.h): every
 * shared option parsed, bad values named by option and value, the mapping to the driver's
 * options, the hold-out's options refused by a program without one, the program's own defaults
 * in --help, targets resolved against the card's classes, the training summary, and exit 4 for
 * --strict on a model whose card warns.
 */
#include "test-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app-driver.h"

static char *argv0[] = {"xai-test", NULL};

/* stderr of @p fn into a malloc'ed string */
static char *stderr_of(void (*fn)(void *), void *ud)
{
    fflush(stderr);
    char path[] = "/tmp/xai-app-driverXXXXXX";
    int t = mkstemp(path);
    ck_assert_int_ge(t, 0);
    int saved = dup(2);
    ck_assert_int_ge(dup2(t, 2), 0);
    close(t);
    fn(ud);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    size_t n = 0;
    char *raw = xai_test_read_file(path, &n);
    unlink(path);
    char *s = calloc(n + 1, 1);
    if (n)
        memcpy(s, raw, n);
    free(raw);
    return s;
}

typedef struct {
    xai_app *app;
    xai_app_driver_opts *o;
    int code;
    const char *arg;
    int rc;
} opt_call;

static void call_option(void *ud)
{
    opt_call *c = ud;
    c->rc = xai_app_driver_handle_option(c->app, c->o, c->code, c->arg);
}

/* handle one option; @p err: a text stderr must hold (NULL: nothing printed) */
static int option(xai_app *app, xai_app_driver_opts *o, int code, const char *arg, const char *err)
{
    opt_call c = {app, o, code, arg, 0};
    char *text = stderr_of(call_option, &c);
    if (err)
        ck_assert_msg(strstr(text, err), "stderr '%s' lacks '%s'", text, err);
    else
        ck_assert_str_eq(text, "");
    free(text);
    return c.rc;
}

/* the program "xai-test" and its driver options (split by @p kind of @p kinds); free the app */
static void fixture(xai_app *app, xai_app_driver_opts *o, const char *kind, const char *const *kinds)
{
    xai_app_init(app, "xai-test", "1.0", 1, argv0);
    xai_app_driver_opts_init(o, kind, kinds);
}

START_TEST(test_parse)
{
    static const char *const kinds[] = {"subject", "session", NULL};
    xai_app app;
    xai_app_driver_opts o;
    fixture(&app, &o, "subject", kinds);
    ck_assert_int_eq(option(&app, &o, 'x', "1", NULL), 0);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_SPLIT_BY, "session", NULL), 1);
    ck_assert_str_eq(o.split_by, "session");
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_SPLIT_BY, "run", "--split-by: invalid value 'run': expected "
                                                                    "subject|session"), -1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_CV, "5", NULL), 1);
    ck_assert_int_eq(o.cv, 5);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_CV, "1", "--cv: invalid value '1'"), -1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_SEED, "-3", "--seed: invalid value '-3'"), -1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_SEED, "42", NULL), 1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_OPTIMIZER, "adamw", NULL), 1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_OPTIMIZER, "rmsprop", "--optimizer: invalid value 'rmsprop'"), -1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_WEIGHT_DECAY, "1e-4", NULL), 1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_WEIGHT_DECAY, "-1", "--weight-decay: invalid value '-1'"), -1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_LR, "0", "--lr: invalid value '0'"), -1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_LR, "0.01", NULL), 1);
    ck_assert_int_eq(o.schedule, XAI_SCHED_NONE);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_SCHEDULE, "step", "--schedule: invalid value 'step'"), -1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_SCHEDULE, "cosine", NULL), 1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_EPOCHS, "0", "--epochs: invalid value '0'"), -1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_EPOCHS, "7", NULL), 1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_PATIENCE, "0", NULL), 1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_BATCH, "x", "--batch: invalid value 'x'"), -1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_BATCH, "8", NULL), 1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_START, "flat", "--start: invalid value 'flat'"), -1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_START, "logit", NULL), 1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_STRICT, NULL, NULL), 1);
    /* the hold-out's fraction: the driver's default until --val-split */
    xai_driver_train_options dflt;
    xai_driver_train_options_init(&dflt);
    ck_assert_double_eq(o.holdout, dflt.holdout_frac);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_VAL_SPLIT, "0", "--val-split: invalid value '0'"), -1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_VAL_SPLIT, "0.95", "--val-split: invalid value '0.95'"), -1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_VAL_SPLIT, "0.3", NULL), 1);
    ck_assert_int_eq(o.refit, 1); /* the default; --no-refit turns it off, --refit back on */
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_NO_REFIT, NULL, NULL), 1);
    ck_assert_int_eq(o.refit, 0);
    xai_driver_train_options to;
    xai_app_driver_train_setup(&app, &o, &to);
    ck_assert_int_eq(to.refit_holdout, 0);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_REFIT, NULL, NULL), 1);
    ck_assert(o.given & XAI_APP_DRIVER_GIVEN(XAI_APP_OPT_STRICT));
    ck_assert(!(o.given & XAI_APP_DRIVER_GIVEN(XAI_APP_OPT_TARGET)));
    xai_app_driver_train_setup(&app, &o, &to);
    ck_assert_int_eq(to.scheme, XAI_SPLIT_KFOLD);
    ck_assert_int_eq(to.folds, 5);
    ck_assert_int_eq(to.train.optimizer, XAI_OPT_ADAMW);
    ck_assert_float_eq_tol(to.train.weight_decay, 1e-4f, 1e-9f);
    ck_assert_float_eq_tol(to.train.lr, 0.01f, 1e-9f);
    ck_assert_int_eq(to.train.schedule, XAI_SCHED_COSINE);
    ck_assert_int_eq(to.refit_holdout, 1);
    ck_assert_double_eq(to.holdout_frac, 0.3);
    ck_assert_int_eq(to.train.epochs, 7);
    ck_assert_int_eq(to.train.patience, 0);
    ck_assert_int_eq(to.train.batch, 8);
    ck_assert_int_eq(to.train.seed, 42);
    ck_assert_str_eq(to.program, "xai-test");
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_CV, "logo", NULL), 1);
    xai_app_driver_train_setup(&app, &o, &to);
    ck_assert_int_eq(to.scheme, XAI_SPLIT_LOGO);
    xai_app_free(&app);
}
END_TEST


typedef struct {
    xai_app *app;
    xai_app_driver_opts *o;
    const xai_driver_set *s;
    int rc;
} strict_call;

static void call_strict(void *ud)
{
    strict_call *c = ud;
    c->rc = xai_app_driver_strict_exit(c->app, c->o, c->s, "m.onnx");
}

static void call_summary(void *ud)
{
    strict_call *c = ud;
    xai_app_driver_print_summary(c->app, c->s);
}

/* a model trained by the driver on two planted groups per class signal */
static xai_driver_set *small_set(xai_app *app, xai_app_driver_opts *o)
{
    const int64_t shape[1] = {6};
    xai_dataset d = {0};
    ck_assert_int_eq(xai_dataset_alloc(&d, 48, 1, shape, 2), XAI_OK);
    d.ngroups = 4;
    d.group_kind = strdup("subject");
    d.class_names = calloc(2, sizeof(char *));
    d.class_names[0] = strdup("left");
    d.class_names[1] = strdup("right");
    for (int i = 0; i < 48; i++) {
        d.group[i] = i / 12;
        d.y[i] = i % 2;
        for (int j = 0; j < 6; j++)
            d.x[i * 6 + j] = (float)(((i * 7 + j * 13) % 11) / 11.0 - 0.5 + (d.y[i] && j == 2 ? 2.0 : 0.0));
    }
    xai_driver_train_options to;
    xai_app_driver_train_setup(app, o, &to);
    to.arch = "dense(4) relu dense(2)";
    to.progress = NULL;
    to.warn = NULL;
    xai_driver_set *s = NULL;
    ck_assert_msg(xai_driver_train(&d, &to, NULL, &s) == XAI_OK, "%s", xai_last_error());
    xai_dataset_free(&d);
    return s;
}

START_TEST(test_summary_target_strict)
{
    xai_app app;
    xai_app_driver_opts o;
    fixture(&app, &o, "subject", NULL);
    o.epochs = 20;
    o.lr = 0.02;
    xai_driver_set *s = small_set(&app, &o);
    strict_call c = {&app, &o, s, -1};
    char *text = stderr_of(call_summary, &c);
    printf("%s", text);
    ck_assert_ptr_nonnull(strstr(text, "xai-test: validation: grouped-holdout over 4 subjects (1 fold), 12 held-out"));
    /* which of the 4 subjects (12 samples each) were held out: one, named by the card's fold record */
    const char *const *held = NULL;
    int nheld = 0;
    ck_assert_int_eq(xai_driver_set_fold_groups(s, 0, &held, &nheld), XAI_OK);
    ck_assert_int_eq(nheld, 1);
    char want[128];
    snprintf(want, sizeof want, "xai-test:           held out 1 of 4 subjects (%s), trained on 3\n", held[0]);
    ck_assert_msg(strstr(text, want), "summary lacks '%s'", want);
    ck_assert_ptr_nonnull(strstr(text, "network:  accuracy"));
    ck_assert_ptr_nonnull(strstr(text, "baseline: ridge accuracy"));
    ck_assert_ptr_nonnull(strstr(text, "verdict:  "));
    /* what MODEL.onnx is: the default refit after the hold-out */
    ck_assert_ptr_nonnull(
        strstr(text, "xai-test: model:    trained on every group after the hold-out, whose model is kept as fold 1\n"));
    free(text);
    /* --target resolved against the card's classes */
    xai_driver_explain_options eo;
    o.target = "right";
    ck_assert_int_eq(xai_app_driver_explain_setup(&app, &o, xai_driver_set_card(s), &eo), 0);
    ck_assert_int_eq(eo.target.kind, XAI_TARGET_CLASS);
    ck_assert_int_eq(eo.target.cls, 1);
    o.target = "true";
    ck_assert_int_eq(xai_app_driver_explain_setup(&app, &o, xai_driver_set_card(s), &eo), 0);
    ck_assert_int_eq(eo.target.kind, XAI_TARGET_TRUE);
    o.target = "up";
    app.verbosity = 0;
    ck_assert_int_eq(xai_app_driver_explain_setup(&app, &o, xai_driver_set_card(s), &eo), -1);
    o.target = "2"; /* two classes: index 2 is out of range */
    ck_assert_int_eq(xai_app_driver_explain_setup(&app, &o, xai_driver_set_card(s), &eo), -1);
    o.target = "7"; /* no card: any index, checked later against the model */
    ck_assert_int_eq(xai_app_driver_explain_setup(&app, &o, NULL, &eo), 0);
    ck_assert_int_eq(eo.target.cls, 7);
    /* strict: exit 4 exactly when the card warns */
    int count = 0;
    xai_driver_set_warnings(s, &count);
    o.strict = 1;
    text = stderr_of(call_strict, &c);
    ck_assert_int_eq(c.rc, count ? XAI_EXIT_STRICT : XAI_EXIT_OK);
    if (count)
        ck_assert_ptr_nonnull(strstr(text, "xai-test: m.onnx: strict: "));
    free(text);
    o.strict = 0;
    text = stderr_of(call_strict, &c);
    ck_assert_int_eq(c.rc, XAI_EXIT_OK);
    ck_assert_str_eq(text, "");
    free(text);
    xai_driver_set_free(s);
    xai_app_free(&app);
}
END_TEST

/* the --help blocks of @p o (train, then explain) into a malloc'ed string */
static char *help_text(const xai_app_driver_opts *o)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    xai_app_driver_help_train(f, o);
    xai_app_driver_help_explain(f, o);
    fclose(f);
    return text;
}

/* the --help blocks name every option and show the program's defaults */
START_TEST(test_help)
{
    static const char *const kinds[] = {"run", "session", NULL};
    xai_app_driver_opts o;
    xai_app_driver_opts_init(&o, "run", kinds);
    o.epochs = 120;
    o.holdout = 0.2; /* the program's own fraction is the one shown */
    char *text = help_text(&o);
    static const char *const want[] = {"--split-by", "run|session [run]", "--cv K|logo",
                                       "[hold-out of 0.2 of the groups]\n", "--val-split F", "[0.2]\n",
                                       "--strict", "--seed",
                                       "--optimizer", "sgd|adam|adamw [adam]", "--weight-decay", "--lr",
                                       "--schedule none|cosine", "[none]", "--refit, --no-refit", "[refit]\n",
                                       "--epochs N             most epochs [120]", "--patience", "--batch",
                                       "--target", "[pred]", "--start", "[stable]", "exit 4"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(text, want[i]), "help lacks '%s'", want[i]);
    ck_assert_msg(!strstr(text, "quarter"), "help names a fraction the program does not use");
    free(text);
    o.cv = 5; /* a cross-validating default shows its number of folds */
    text = help_text(&o);
    ck_assert_msg(strstr(text, "[5 folds]\n"), "help lacks '[5 folds]'");
    free(text);
}
END_TEST

/* a program without a single hold-out refuses the hold-out's options, saying why */
START_TEST(test_no_holdout)
{
    xai_app app;
    xai_app_driver_opts o;
    fixture(&app, &o, "session", NULL);
    o.cv = 5;
    o.holdout = 0;
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_REFIT, NULL, "--refit: xai-test has no single hold-out"), -1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_NO_REFIT, NULL, "--no-refit: xai-test has no single hold-out"), -1);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_VAL_SPLIT, "0.3", "--val-split: xai-test has no single hold-out"),
                     -1);
    ck_assert_int_eq(o.refit, 1);
    ck_assert_double_eq(o.holdout, 0);
    ck_assert_int_eq(option(&app, &o, XAI_APP_OPT_CV, "logo", NULL), 1); /* the rest as usual */
    xai_driver_train_options to;
    xai_app_driver_train_setup(&app, &o, &to);
    xai_driver_train_options dflt;
    xai_driver_train_options_init(&dflt);
    ck_assert_double_eq(to.holdout_frac, dflt.holdout_frac); /* 0 is no fraction for the driver */
    char *text = help_text(&o);
    ck_assert_msg(strstr(text, "There is no single hold-out"), "help does not say there is no hold-out");
    ck_assert_msg(!strstr(text, "--refit, --no-refit") && !strstr(text, "--val-split F"),
                  "help offers the hold-out's options");
    free(text);
    xai_app_free(&app);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("app-driver");
    TCase *tc = tcase_create("app-driver");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_help);
    tcase_add_test(tc, test_no_holdout);
    tcase_add_test(tc, test_summary_target_strict);
    suite_add_tcase(s, tc);
    return s;
}
