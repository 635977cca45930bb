/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * train.c - xai-gait train: the study as one dataset (formats/domain gait study loader),
 * grouped cross-validation by walk, session or subject through the shared driver (fold
 * models for out-of-fold explanations, a ridge baseline on the same folds, the verdicts in
 * the model card), and the model for new data trained on every group.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app-driver.h"
#include "cli.h"
#include "explain.h"
#include "gait.h"
#include "xai/c3d.h"
#include "xai/card.h"
#include "xai/model.h"
#include "xai/train.h"

typedef struct {
    int condition, augment;
    const char *group_by; /* "session", "trial", "subject" or "none" */
    xai_gait_pre pre;
    gait_trial *tr;
    int ntr;
    xai_gait_trial_ref *refs;
    xai_gait_study st;
    char *spec;
} tset;

static void tset_free(tset *t)
{
    xai_gait_study_free(&t->st);
    xai_gait_pre_free(&t->pre);
    gait_trials_free(t->tr, t->ntr);
    free(t->refs);
    free(t->spec);
}

/* Options into t; the held-out unit defaults to what a study of that kind must hold out:
 * the session for subject identification (the subject itself cannot be held out), the
 * subject for conditions. */
static int parse_setup(xai_app *app, const opts *o, tset *t)
{
    if (!o->output || o->nargs < 1)
        return xai_app_usage_error(app, "train: need STUDY_DIR or trials, and -o MODEL.onnx");
    t->condition = o->target && !strcmp(o->target, "condition");
    t->augment = o->augment;
    if (o->target && !t->condition && strcmp(o->target, "subject"))
        return xai_app_usage_error(app, "train: --target must be subject or condition");
    int given = (o->dopt.given & XAI_APP_DRIVER_GIVEN(XAI_APP_OPT_SPLIT_BY)) != 0;
    t->group_by = given ? o->dopt.split_by : t->condition ? "subject" : "session";
    if (!strcmp(t->group_by, "subject") && !t->condition)
        return xai_app_usage_error(app, "train: --split-by subject cannot test subject identification (a "
                                   "held-out subject is no class); use session or trial");
    const char *comps = o->components ? o->components : "sagittal,frontal,transverse";
    if (xai_gait_pre_set_variables(&t->pre, o->variables ? o->variables : DEFAULT_VARS) != XAI_OK ||
        xai_gait_pre_set_components(&t->pre, comps) != XAI_OK)
        return xai_app_usage_error(app, "train: %s", xai_last_error());
    t->pre.paired = !o->sides || !strcmp(o->sides, "paired");
    t->pre.offset = !o->offset || !strcmp(o->offset, "trial");
    t->pre.events = o->events >= 0 ? o->events : XAI_GAIT_EVENTS_AUTO;
    if ((o->sides && strcmp(o->sides, "paired") && strcmp(o->sides, "each")) ||
        (o->offset && strcmp(o->offset, "trial") && strcmp(o->offset, "none")))
        return xai_app_usage_error(app, "train: --sides must be paired or each, --offset trial or none");
    if (xai_app_check_output(app, o->output) != 0)
        return XAI_EXIT_USAGE; /* the one overwrite rule: an existing output is a usage error */
    char *sidecar = xai_app_sidecar_path(o->output);
    int bad = !sidecar || xai_app_check_output(app, sidecar) != 0;
    free(sidecar);
    return bad ? XAI_EXIT_USAGE : XAI_EXIT_OK;
}

/* A trial the loader skipped, or one with gap cycles. */
static void on_trial(void *ud, int trial, xai_status st, int gaps, const char *message)
{
    const tset *t = ((void **)ud)[1];
    xai_app *app = ((void **)ud)[0];
    if (st != XAI_OK)
        xai_app_fail(app, t->tr[trial].path, "%s; trial skipped", message);
    if (st == XAI_OK && gaps)
        xai_app_log(app, 1, "%s: %d cycle(s) with gaps skipped", t->tr[trial].path, gaps);
    if (st == XAI_OK && *message)
        xai_app_log(app, 1, "%s: %s", t->tr[trial].path, message);
}

/* Fewer than two sessions cannot be split by session: the walk (trial) is held out instead. */
static const char *usable_group(xai_app *app, const tset *t, const char *group_by)
{
    if (strcmp(group_by, "session"))
        return group_by;
    for (int i = 1; i < t->ntr; i++)
        if (strcmp(t->tr[i].session, t->tr[0].session))
            return group_by;
    xai_app_log(app, 1, "one session only (%s): walks (trials) are held out instead of sessions", t->tr[0].session);
    return "trial";
}

/* Without --variables: the default variables that every readable trial has on both sides.
 * Labs export different Plug-in Gait outputs (FootProgressAngles or PelvisAngles are often
 * left out), and a default that one of them lacks would skip every trial; the choice is
 * printed and stored in the model. */
static int default_variables(xai_app *app, tset *t)
{
    char *list = strdup(DEFAULT_VARS), *save = NULL, kept[512] = "", dropped[512] = "";
    if (!list)
        return xai_app_fail(app, NULL, "out of memory");
    xai_c3d **c = calloc((size_t)t->ntr, sizeof *c);
    int nread = 0;
    for (int i = 0; c && i < t->ntr; i++)
        nread += xai_c3d_open(t->tr[i].path, &c[i]) == XAI_OK; /* unreadable ones are reported later */
    for (char *v = strtok_r(list, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
        int all = 1;
        for (int i = 0; c && i < t->ntr && all; i++) {
            char l[128], r[128];
            snprintf(l, sizeof l, "L%s", v);
            snprintf(r, sizeof r, "R%s", v);
            all = !c[i] || (xai_c3d_point_index(c[i], l) >= 0 && xai_c3d_point_index(c[i], r) >= 0);
        }
        char *dst = all ? kept : dropped;
        snprintf(dst + strlen(dst), 512 - strlen(dst), "%s%s", *dst ? "," : "", v);
    }
    for (int i = 0; c && i < t->ntr; i++)
        xai_c3d_close(c[i]);
    free(c);
    free(list);
    if (*dropped && *kept && nread > 0) {
        xai_app_log(app, 1, "not in every trial: %s; the default variables without them: %s (--variables to choose)",
                    dropped, kept);
        if (xai_gait_pre_set_variables(&t->pre, kept) != XAI_OK)
            return xai_app_fail(app, NULL, "%s", xai_last_error());
    }
    return XAI_EXIT_OK;
}

/* The study as one dataset: every trial's samples, labels and groups; normalisation fitted. */
static int load_study(xai_app *app, const opts *o, tset *t)
{
    if (gait_trials_collect(app, o->args, o->nargs, &t->tr, &t->ntr) != 0)
        return XAI_EXIT_DATA;
    if (!(t->refs = gait_trial_refs(t->tr, t->ntr)))
        return xai_app_fail(app, NULL, "out of memory");
    int rc = o->variables ? XAI_EXIT_OK : default_variables(app, t);
    if (rc != XAI_EXIT_OK)
        return rc;
    if (strcmp(t->group_by, "none"))
        t->group_by = usable_group(app, t, t->group_by);
    void *ud[2] = {app, t};
    const char *gb = strcmp(t->group_by, "none") ? t->group_by : "subject";
    if (xai_gait_study_load(&t->pre, t->refs, t->ntr, t->condition ? "condition" : "subject", NULL, 0, gb, on_trial,
                            ud, &t->st) != XAI_OK)
        return xai_app_fail(app, NULL, "%s", xai_last_error());
    if (t->st.cy.irregular)
        gait_log_irregular(app, NULL, t->st.cy.irregular);
    if (t->st.d.n == 0)
        return xai_app_fail(app, NULL, "no model sample in %d trial(s) (%d skipped, %lld cycles%s)", t->ntr,
                            t->st.nfailed, (long long)t->st.cy.n,
                            t->pre.paired ? "; paired: no left cycle has a right cycle starting inside it" : "");
    if (t->st.d.nclasses < 2)
        return xai_app_fail(app, NULL, "only one %s ('%s'); need at least two classes",
                            t->condition ? "condition" : "subject", t->st.d.class_names[0]);
    /* validated models fit their normalisation on their own training groups (norm_fit) */
    if (!strcmp(t->group_by, "none") && xai_gait_fit_normalisation(&t->pre, &t->st.d) != XAI_OK)
        return xai_app_fail(app, NULL, "%s", xai_last_error());
    return XAI_EXIT_OK;
}

/* The architecture with {K} replaced by the number of classes. */
static int expand_arch(xai_app *app, const opts *o, tset *t)
{
    const char *a = o->arch ? o->arch : DEFAULT_ARCH;
    size_t cap = strlen(a) * 2 + 64, n = 0;
    if (!(t->spec = malloc(cap)))
        return xai_app_fail(app, NULL, "out of memory");
    for (const char *s = a; *s && n + 16 < cap;) {
        if (!strncmp(s, "{K}", 3)) {
            n += (size_t)snprintf(t->spec + n, cap - n, "%d", t->st.d.nclasses);
            s += 3;
        } else {
            t->spec[n++] = *s++;
        }
    }
    t->spec[n] = '\0';
    xai_model *m = NULL;
    int64_t shape[2] = {xai_gait_pre_inputs(&t->pre), XAI_GAIT_NPTS};
    int rc = XAI_EXIT_OK;
    if (xai_model_from_spec(t->spec, 2, shape, o->dopt.seed, &m) != XAI_OK)
        rc = xai_app_usage_error(app, "--arch '%s': %s", t->spec, xai_last_error());
    else if (xai_model_output_numel(m) != t->st.d.nclasses)
        rc = xai_app_usage_error(app, "--arch '%s' has %lld outputs for %d classes", t->spec,
                                 (long long)xai_model_output_numel(m), t->st.d.nclasses);
    xai_model_free(m);
    return rc;
}

/* What the domain knows for the card: task, classes, input layout, the pre-processing record. */
static xai_card *train_card(xai_app *app, const tset *t)
{
    xai_card *c = NULL;
    char *pre = xai_gait_pre_to_json(&t->pre);
    json_t *cls = json_array();
    for (int k = 0; k < t->st.d.nclasses; k++)
        json_array_append_new(cls, json_string(t->st.d.class_names[k]));
    char *ct = json_dumps(cls, JSON_COMPACT);
    json_decref(cls);
    if (!pre || !ct || xai_card_new(&c) != XAI_OK || xai_card_set(c, "domain=gait") != XAI_OK ||
        xai_card_set(c, t->condition ? "task=condition" : "task=subject") != XAI_OK ||
        xai_card_set_json(c, "classes", ct) != XAI_OK ||
        xai_card_set_json(c, "input.axes", "[\"channel\",\"pct_gait_cycle\"]") != XAI_OK ||
        xai_card_set_json(c, "input.units", "[\"z\",\"%\"]") != XAI_OK ||
        xai_card_set_json(c, "preprocessing", pre) != XAI_OK ||
        xai_card_set(c, t->augment == GAIT_AUGMENT_GAIN    ? "training.augmentation=shift-gain"
                        : t->augment == GAIT_AUGMENT_SCALE ? "training.augmentation=shift-scale"
                                                           : "training.augmentation=none") != XAI_OK) {
        xai_app_fail(app, NULL, "model card: %s", xai_last_error());
        xai_card_free(c);
        c = NULL;
    }
    free(pre);
    free(ct);
    return c;
}

/* MODEL.json beyond the card: the sources and the trials that failed (NULL: out of memory) */
static json_t *train_sidecar(const tset *t)
{
    json_t *side = json_object(), *src = json_array();
    for (int i = 0; src && i < t->ntr; i++)
        json_array_append_new(src, json_string(t->tr[i].path));
    if (!side || !src) {
        json_decref(side), json_decref(src);
        return NULL;
    }
    json_object_set_new(side, "Sources", src);
    json_object_set_new(side, "FailedTrials", json_integer(t->st.nfailed));
    return side;
}

#define GAIT_MODEL_DESCRIPTION "xai-gait model: gait cycles -> class logits"

/* The record of one model's normalisation (with the groups it was fitted on) as its card's
 * "preprocessing"; NULL when out of memory. */
static char *norm_record(const tset *t, const int64_t *train, int64_t ntrain)
{
    const xai_dataset *d = &t->st.d;
    char *text = xai_gait_pre_to_json(&t->pre);
    json_t *r = text ? json_loads(text, 0, NULL) : NULL, *g = json_array();
    free(text);
    unsigned char *seen = calloc((size_t)d->ngroups + 1, 1);
    for (int64_t i = 0; seen && g && i < ntrain; i++)
        if (!seen[d->group[train[i]]]) {
            seen[d->group[train[i]]] = 1;
            json_array_append_new(g, json_string(d->group_names[d->group[train[i]]]));
        }
    free(seen);
    json_t *nm = json_object_get(r, "normalisation");
    json_object_set_new(nm, "fitted_on_groups", g);
    json_object_set_new(nm, "fitted_on_samples", json_integer(ntrain));
    char *out = nm ? json_dumps(r, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
    json_decref(r);
    return out;
}

/* The normalisation as the driver's prep step, fitted on each model's training samples only
 * (a fold never sees the mean curves of the session it holds out). The fitted statistics live
 * in t->pre, where the gain augmentation reads them too; the driver uses one model's state at
 * a time, so the state itself is that model's card record. */
static xai_status norm_fit(void *ud, const int64_t *idx, int64_t n, float *x, const int *y, void **state)
{
    (void)y;
    tset *t = ud;
    xai_status st = xai_gait_norm_fit(&t->pre, x, NULL, n);
    if (st)
        return st;
    xai_gait_normalise(&t->pre, x, n);
    *state = norm_record(t, idx, n);
    return *state ? XAI_OK : xai_error_set(XAI_ENOMEM, "gait normalisation: out of memory");
}

static xai_status norm_apply(void *ud, const void *state, float *x, int64_t n)
{
    (void)state;
    xai_gait_normalise(&((tset *)ud)->pre, x, n);
    return XAI_OK;
}

static xai_status norm_card_record(void *ud, const void *state, char **json)
{
    (void)ud;
    *json = strdup(state);
    return *json ? XAI_OK : xai_error_set(XAI_ENOMEM, "gait normalisation: out of memory");
}

static void norm_free(void *ud, void *state)
{
    (void)ud;
    free(state);
}

/* K folds capped at the number of groups (two sessions: each held out once). */
static void set_scheme(const tset *t, xai_driver_train_options *to)
{
    if (to->scheme == XAI_SPLIT_KFOLD && to->folds > t->st.d.ngroups)
        to->folds = t->st.d.ngroups;
}

static int train_validated(xai_app *app, const opts *o, tset *t)
{
    xai_card *card = train_card(app, t);
    xai_driver_set *set = NULL;
    xai_driver_train_options to;
    xai_app_driver_train_setup(app, &o->dopt, &to);
    to.arch = t->spec;
    xai_driver_prep norm = {norm_fit, norm_apply, NULL, norm_free, t, norm_card_record, "preprocessing"};
    to.prep = &norm;
    set_scheme(t, &to);
    if (o->augment) {
        to.augment = xai_gait_augment;
        to.augment_ud = o->augment == GAIT_AUGMENT_GAIN ? &t->pre : NULL; /* this model's normalisation */
        to.augment_copies = 1;
    }
    /* the walks inside the training groups: a fold trained on one session still tunes the
     * baseline's lambda on walks it did not fit */
    int *walk = malloc(sizeof(int) * (size_t)t->st.d.n);
    for (int64_t i = 0; walk && i < t->st.d.n; i++)
        walk[i] = t->st.cy.trial[t->st.a[i]];
    to.inner_group = walk;
    int rc = XAI_EXIT_DATA;
    if (!card || !walk)
        goto done;
    if (xai_driver_train(&t->st.d, &to, card, &set) != XAI_OK) {
        xai_app_fail(app, NULL, "training: %s", xai_last_error());
        goto done;
    }
    xai_app_driver_print_summary(app, set);
    if ((rc = xai_app_driver_strict_exit(app, &o->dopt, set, o->output)) != XAI_EXIT_OK)
        goto done; /* --strict: nothing is written */
    rc = XAI_EXIT_DATA;
    json_t *side = train_sidecar(t);
    if (!side || xai_app_save_model(app, o->output, NULL, set, NULL, GAIT_MODEL_DESCRIPTION, side) != 0) {
        if (!side)
            xai_app_fail(app, o->output, "out of memory");
        goto done;
    }
    xai_app_log(app, 1, "wrote %s", o->output);
    rc = XAI_EXIT_OK;
done:
    xai_driver_set_free(set);
    xai_card_free(card);
    free(walk);
    return rc;
}

/* --split-by none: one model on every trial, not validated (the card says so). */
static int train_unvalidated(xai_app *app, const opts *o, tset *t)
{
    xai_model *m = NULL;
    xai_card *card = train_card(app, t);
    xai_train_config cfg;
    xai_app_train_config(&cfg, o->dopt.epochs, o->dopt.batch, o->dopt.lr, 0, 0, o->dopt.seed);
    cfg.weight_decay = (float)o->dopt.weight_decay;
    cfg.optimizer = o->dopt.optimizer;
    xai_train_result res;
    int64_t shape[2] = {xai_gait_pre_inputs(&t->pre), XAI_GAIT_NPTS};
    int rc = XAI_EXIT_DATA;
    if (!card || xai_card_set(card, "validation.scheme=none") != XAI_OK ||
        xai_model_from_spec(t->spec, 2, shape, o->dopt.seed, &m) != XAI_OK ||
        xai_train(m, &cfg, t->st.d.n, t->st.d.x, t->st.d.y, &res) != XAI_OK || xai_card_apply(m, card) != XAI_OK) {
        xai_app_fail(app, NULL, "training: %s", xai_last_error());
        goto done;
    }
    xai_app_log(app, 1, "trained %d epochs on all %lld samples: training accuracy %.3f; no held-out set "
                "(--split-by none): the model is not validated", res.epochs_run, (long long)t->st.d.n,
                res.kept_train_acc);
    if (xai_app_save_model(app, o->output, m, NULL, NULL, GAIT_MODEL_DESCRIPTION, train_sidecar(t)) != 0)
        goto done;
    rc = XAI_EXIT_OK;
done:
    xai_model_free(m);
    xai_card_free(card);
    return rc;
}

int gait_cmd_train(xai_app *app, const opts *o)
{
    tset t;
    memset(&t, 0, sizeof t);
    int rc = parse_setup(app, o, &t);
    if (rc == XAI_EXIT_OK)
        rc = load_study(app, o, &t);
    if (rc == XAI_EXIT_OK)
        rc = expand_arch(app, o, &t);
    if (rc == XAI_EXIT_OK) {
        const xai_dataset *d = &t.st.d;
        xai_app_log(app, 1, "%lld samples (%d x 101, %s), %d classes, %d %ss; arch: %s", (long long)d->n,
                    xai_gait_pre_inputs(&t.pre), t.pre.paired ? "left and right cycle paired" : "one cycle",
                    d->nclasses, d->ngroups, t.group_by, t.spec);
        rc = strcmp(t.group_by, "none") ? train_validated(app, o, &t) : train_unvalidated(app, o, &t);
    }
    if (rc == XAI_EXIT_OK && t.st.nfailed)
        rc = XAI_EXIT_PARTIAL;
    tset_free(&t);
    return rc;
}
