/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * train.c - xai-gait train: cycles from the trials, a split that holds out whole trials,
 * sessions or subjects, the CNN, a ridge baseline on the same inputs and split, and the
 * model card (classes, pre-processing record, validation result and verdict).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gait.h"
#include "xai/card.h"
#include "xai/model.h"
#include "xai/train.h"
#include "xai/validate.h"


enum { SPLIT_NONE, SPLIT_TRIAL, SPLIT_SESSION, SPLIT_SUBJECT };
static const char *const split_names[] = {"none", "trial", "session", "subject"};

typedef struct {
    int condition, split;
    xai_gait_pre pre;
    gait_trial *tr;
    int ntr, nfailed;
    xai_gait_cycles cy;
    char **classes; /* borrowed from tr */
    int ncls;
    int *held;      /* [ntr] trial is held out */
    int64_t ns, ntrain, ntest;
    int64_t *sa, *sb; /* samples, training ones first */
    float *x;       /* [ns][inputs][101] */
    int *y;
} tset;

static const char *label_of(const gait_trial *t, int condition)
{
    return condition ? t->condition : t->subject;
}

static void tset_free(tset *t)
{
    xai_gait_pre_free(&t->pre);
    xai_gait_cycles_free(&t->cy);
    gait_trials_free(t->tr, t->ntr);
    free(t->classes);
    free(t->held);
    free(t->sa);
    free(t->sb);
    free(t->x);
    free(t->y);
}

/* Options into t; the held-out unit defaults to what a study of that kind must hold out:
 * the session for subject identification (the subject itself cannot be held out), the
 * subject for conditions. */
static int parse_setup(xai_app *app, const opts *o, tset *t)
{
    if (!o->output || o->nargs < 1)
        return xai_app_usage_error(app, "train: need STUDY_DIR or trials, and -o MODEL.onnx");
    t->condition = o->target && !strcmp(o->target, "condition");
    if (o->target && !t->condition && strcmp(o->target, "subject"))
        return xai_app_usage_error(app, "train: --target must be subject or condition");
    t->split = t->condition ? SPLIT_SUBJECT : SPLIT_SESSION;
    if (o->split) {
        t->split = -1;
        for (int k = 0; k < 4; k++)
            if (!strcmp(o->split, split_names[k]))
                t->split = k;
        if (t->split < 0)
            return xai_app_usage_error(app, "train: --split-by must be session, trial, subject or none");
        if (t->split == SPLIT_SUBJECT && !t->condition)
            return xai_app_usage_error(app, "train: --split-by subject cannot test subject identification (a "
                                       "held-out subject is no class); use session or trial");
    }
    const char *comps = o->components ? o->components : "sagittal,frontal,transverse";
    if (xai_gait_pre_set_variables(&t->pre, o->variables ? o->variables : DEFAULT_VARS) != XAI_OK ||
        xai_gait_pre_set_components(&t->pre, comps) != XAI_OK)
        return xai_app_usage_error(app, "train: %s", xai_last_error());
    t->pre.paired = !o->sides || !strcmp(o->sides, "paired");
    t->pre.offset = !o->offset || !strcmp(o->offset, "trial");
    if ((o->sides && strcmp(o->sides, "paired") && strcmp(o->sides, "each")) ||
        (o->offset && strcmp(o->offset, "trial") && strcmp(o->offset, "none")))
        return xai_app_usage_error(app, "train: --sides must be paired or each, --offset trial or none");
    return xai_app_check_output(app, o->output) != 0 ? XAI_EXIT_DATA : XAI_EXIT_OK;
}

static int read_cycles(xai_app *app, const opts *o, tset *t)
{
    if (gait_trials_collect(app, o->args, o->nargs, &t->tr, &t->ntr) != 0)
        return XAI_EXIT_DATA;
    xai_app_progress_begin(app, "read", t->ntr);
    for (int i = 0; i < t->ntr; i++) {
        int gaps = 0;
        if (xai_gait_extract(&t->pre, t->tr[i].path, i, &t->cy, &gaps) != XAI_OK) {
            xai_app_fail(app, t->tr[i].path, "%s; trial skipped", xai_last_error());
            t->nfailed++;
        } else if (gaps) {
            xai_app_log(app, 1, "%s: %d cycle(s) with gaps skipped", t->tr[i].path, gaps);
        }
        xai_app_progress_step(app, i + 1, t->tr[i].path);
    }
    xai_app_progress_end(app);
    if (t->cy.n == 0)
        return xai_app_fail(app, NULL, "no gait cycles in any trial");
    return XAI_EXIT_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted distinct labels of the trials that gave cycles. */
static int find_classes(xai_app *app, tset *t)
{
    t->classes = calloc((size_t)t->ntr, sizeof *t->classes);
    if (!t->classes)
        return xai_app_fail(app, NULL, "out of memory");
    for (int64_t i = 0; i < t->cy.n; i++) {
        const char *l = label_of(&t->tr[t->cy.trial[i]], t->condition);
        int k = 0;
        while (k < t->ncls && strcmp(t->classes[k], l))
            k++;
        if (k == t->ncls)
            t->classes[t->ncls++] = (char *)l;
    }
    qsort(t->classes, (size_t)t->ncls, sizeof *t->classes, cmp_str);
    if (t->ncls < 2)
        return xai_app_fail(app, NULL, "only one %s ('%s'); need at least two classes",
                            t->condition ? "condition" : "subject", t->classes[0]);
    return XAI_EXIT_OK;
}

/* Per subject the last trial (trial) or the trials of its last session (session); a subject
 * with one trial or one session keeps it for training. */
static void hold_out_within(tset *t)
{
    const gait_trial *tr = t->tr;
    for (int i = 0; i < t->ntr; i++) {
        int last = -1, nsame = 0;
        for (int j = 0; j < t->ntr; j++) {
            if (strcmp(tr[j].subject, tr[i].subject))
                continue;
            nsame++;
            int sc = last < 0 ? 1 : strcmp(tr[j].session, tr[last].session);
            if (sc > 0 || (t->split == SPLIT_TRIAL && sc == 0 && strcmp(tr[j].trial, tr[last].trial) > 0))
                last = j;
        }
        if (nsame >= 2)
            t->held[i] = t->split == SPLIT_TRIAL ? last == i : !strcmp(tr[i].session, tr[last].session);
    }
    for (int i = 0; i < t->ntr; i++) {
        int all = 1;
        for (int j = 0; j < t->ntr; j++)
            if (!strcmp(tr[j].subject, tr[i].subject) && !t->held[j])
                all = 0;
        if (all)
            t->held[i] = 0;
    }
}

/* A quarter of the subjects (at least one) held out, classes balanced where whole subjects allow. */
static int hold_out_subjects(xai_app *app, tset *t, uint64_t seed)
{
    int *g = malloc((size_t)t->ntr * sizeof(int)), *lab = malloc((size_t)t->ntr * sizeof(int));
    xai_split s = {0};
    int rc = XAI_EXIT_DATA;
    if (!g || !lab)
        goto done;
    for (int i = 0; i < t->ntr; i++) {
        g[i] = i;
        for (int j = 0; j < i; j++)
            if (!strcmp(t->tr[j].subject, t->tr[i].subject)) {
                g[i] = g[j];
                break;
            }
        const char *l = label_of(&t->tr[i], t->condition);
        lab[i] = 0;
        for (int k = 0; k < t->ncls; k++)
            if (!strcmp(t->classes[k], l))
                lab[i] = k;
    }
    if (xai_split_groups(g, lab, t->ntr, XAI_SPLIT_HOLDOUT, 0.25, 0, seed, &s) != XAI_OK) {
        xai_app_fail(app, NULL, "--split-by subject: %s", xai_last_error());
        goto done;
    }
    for (int i = 0; i < t->ntr; i++)
        t->held[i] = s.fold[i] >= 0;
    rc = XAI_EXIT_OK;
done:
    xai_split_free(&s);
    free(g);
    free(lab);
    return rc;
}

/* Samples in order (training first), their inputs z-scored with training statistics. */
static int build_inputs(xai_app *app, tset *t)
{
    int64_t *a = NULL, *b = NULL;
    int64_t n = xai_gait_samples(&t->pre, &t->cy, &a, &b);
    int nin = xai_gait_pre_inputs(&t->pre);
    size_t per = (size_t)nin * XAI_GAIT_NPTS;
    t->sa = malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
    t->sb = malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
    t->x = malloc((size_t)(n > 0 ? n : 1) * per * sizeof(float));
    t->y = malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    t->pre.mean = calloc(per, sizeof(float));
    t->pre.sd = calloc((size_t)nin, sizeof(float));
    if (n < 0 || !t->sa || !t->sb || !t->x || !t->y || !t->pre.mean || !t->pre.sd) {
        free(a);
        free(b);
        return xai_app_fail(app, NULL, "out of memory");
    }
    t->ns = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int64_t i = 0; i < n; i++)
            if (t->held[t->cy.trial[a[i]]] == pass) {
                t->sa[t->ns] = a[i];
                t->sb[t->ns] = b[i];
                xai_gait_input(&t->pre, &t->cy, a[i], b[i], t->x + (size_t)t->ns * per);
                const char *l = label_of(&t->tr[t->cy.trial[a[i]]], t->condition);
                for (int k = 0; k < t->ncls; k++)
                    if (!strcmp(t->classes[k], l))
                        t->y[t->ns] = k;
                t->ns++;
                pass ? t->ntest++ : t->ntrain++;
            }
    free(a);
    free(b);
    if (t->ntrain == 0)
        return xai_app_fail(app, NULL, "no training samples left after the split%s",
                            t->pre.paired ? " (paired: no left cycle has a right cycle starting inside it)" : "");
    /* the input is the deviation from the training mean curve (per input channel and point)
     * in units of the channel's SD around that curve, so relevance points at deviations */
    for (int ch = 0; ch < nin; ch++) {
        float *m = t->pre.mean + (size_t)ch * XAI_GAIT_NPTS;
        double s2 = 0;
        for (int64_t i = 0; i < t->ntrain; i++)
            for (int k = 0; k < XAI_GAIT_NPTS; k++)
                m[k] += t->x[(size_t)i * per + (size_t)ch * XAI_GAIT_NPTS + (size_t)k] / (float)t->ntrain;
        for (int64_t i = 0; i < t->ntrain; i++)
            for (int k = 0; k < XAI_GAIT_NPTS; k++) {
                double d = t->x[(size_t)i * per + (size_t)ch * XAI_GAIT_NPTS + (size_t)k] - m[k];
                s2 += d * d;
            }
        double var = s2 / ((double)t->ntrain * XAI_GAIT_NPTS);
        t->pre.sd[ch] = (float)(var > 1e-12 ? sqrt(var) : 1.0);
        for (int64_t i = 0; i < t->ns; i++)
            for (int k = 0; k < XAI_GAIT_NPTS; k++) {
                float *v = t->x + (size_t)i * per + (size_t)ch * XAI_GAIT_NPTS + (size_t)k;
                *v = (*v - m[k]) / t->pre.sd[ch];
            }
    }
    t->pre.have_norm = 1;
    return XAI_EXIT_OK;
}

static int make_model(xai_app *app, const opts *o, const tset *t, xai_model **m, char **spec)
{
    const char *a = o->arch ? o->arch : DEFAULT_ARCH;
    size_t cap = strlen(a) * 2 + 64, n = 0;
    *spec = malloc(cap);
    if (!*spec)
        return xai_app_fail(app, NULL, "out of memory");
    for (const char *s = a; *s && n + 16 < cap;) {
        if (!strncmp(s, "{K}", 3)) {
            n += (size_t)snprintf(*spec + n, cap - n, "%d", t->ncls);
            s += 3;
        } else {
            (*spec)[n++] = *s++;
        }
    }
    (*spec)[n] = '\0';
    int64_t shape[2] = {xai_gait_pre_inputs(&t->pre), XAI_GAIT_NPTS};
    if (xai_model_from_spec(*spec, 2, shape, o->seed, m) != XAI_OK)
        return xai_app_usage_error(app, "--arch '%s': %s", *spec, xai_last_error());
    if (xai_model_output_numel(*m) != t->ncls)
        return xai_app_usage_error(app, "--arch '%s' has %lld outputs for %d classes", *spec,
                                   (long long)xai_model_output_numel(*m), t->ncls);
    return XAI_EXIT_OK;
}

/* Held-out result of the network and of a ridge baseline on the same inputs and split. */
typedef struct {
    double train_acc;
    xai_heldout h;
    xai_verdict v;
    double base_acc, lambda;
} tresult;

static int evaluate(xai_app *app, xai_model *m, const tset *t, tresult *r)
{
    size_t per = (size_t)xai_gait_pre_inputs(&t->pre) * XAI_GAIT_NPTS;
    int *pred = malloc((size_t)t->ns * sizeof(int)), *groups = malloc((size_t)t->ns * sizeof(int));
    xai_ridge *rg = NULL;
    int rc = XAI_EXIT_DATA;
    r->base_acc = NAN;
    if (!pred || !groups || xai_predict_classes(m, t->ns, t->x, pred) != XAI_OK) {
        xai_app_fail(app, NULL, "prediction: %s", xai_last_error());
        goto done;
    }
    int64_t ok = 0;
    for (int64_t i = 0; i < t->ntrain; i++)
        ok += pred[i] == t->y[i];
    r->train_acc = (double)ok / (double)t->ntrain;
    if (t->ntest == 0) {
        rc = XAI_EXIT_OK;
        goto done;
    }
    for (int64_t i = 0; i < t->ns; i++)
        groups[i] = t->cy.trial[t->sa[i]]; /* the baseline's inner CV holds out whole trials */
    if (xai_heldout_stats(t->y + t->ntrain, pred + t->ntrain, t->ntest, t->ncls, &r->h) != XAI_OK)
        goto done;
    if (xai_ridge_fit_cv(t->ntrain, (int64_t)per, t->x, t->y, t->ncls, groups, 0, &rg, &r->lambda) == XAI_OK &&
        xai_ridge_predict(rg, t->ntest, t->x + (size_t)t->ntrain * per, pred, NULL) == XAI_OK) {
        ok = 0;
        for (int64_t i = 0; i < t->ntest; i++)
            ok += pred[i] == t->y[t->ntrain + i];
        r->base_acc = (double)ok / (double)t->ntest;
    } else {
        xai_app_log(app, 1, "warning: linear baseline not fitted: %s", xai_last_error());
    }
    if (xai_verdict_make(&r->h, r->base_acc, &r->v) != XAI_OK)
        goto done;
    rc = XAI_EXIT_OK;
done:
    xai_ridge_free(rg);
    free(pred);
    free(groups);
    return rc;
}

static void card_set(xai_card *c, const char *path, json_t *v, int *bad)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s || xai_card_set_json(c, path, s) != XAI_OK)
        *bad = 1;
    free(s);
    json_decref(v);
}

static void card_validation(xai_card *c, const tset *t, const tresult *r, int *bad)
{
    const char *kind = t->split == SPLIT_SUBJECT ? "subject" : t->split == SPLIT_SESSION ? "session" : "trial";
    card_set(c, "validation.scheme", json_string(t->split == SPLIT_NONE ? "none" : "grouped-holdout"), bad);
    if (t->split == SPLIT_NONE || t->ntest == 0)
        return;
    card_set(c, "validation.group_kind", json_string(kind), bad);
    card_set(c, "validation.n_folds", json_integer(1), bad);
    card_set(c, "validation.n_heldout", json_integer(t->ntest), bad);
    card_set(c, "validation.accuracy", json_real(r->h.accuracy), bad);
    card_set(c, "validation.balanced_accuracy", json_real(r->h.balanced_accuracy), bad);
    card_set(c, "validation.chance_level", json_real(r->h.chance), bad);
    card_set(c, "validation.ci95", json_pack("[ff]", r->h.ci_low, r->h.ci_high), bad);
    card_set(c, "validation.above_chance", json_boolean(r->v.above_chance), bad);
    if (isfinite(r->base_acc)) {
        card_set(c, "validation.baseline.name", json_string("ridge"), bad);
        card_set(c, "validation.baseline.accuracy", json_real(r->base_acc), bad);
        card_set(c, "validation.loses_to_baseline", json_boolean(r->v.loses_to_baseline), bad);
    }
    json_t *nv = json_array();
    for (int k = 0; k < r->v.n_never_predicted; k++)
        json_array_append_new(nv, json_string(t->classes[r->v.never_predicted[k]]));
    card_set(c, "validation.classes_never_predicted", nv, bad);
}

/* The model card: classes, pre-processing record, provenance, training and validation. */
static int write_card(xai_app *app, const opts *o, xai_model *m, const tset *t, const tresult *r,
                      const char *spec, int epochs)
{
    xai_card *c = NULL;
    if (xai_card_new(&c) != XAI_OK)
        return xai_app_fail(app, o->output, "%s", xai_last_error());
    int bad = 0;
    json_t *cls = json_array(), *held = json_array(), *sources = json_array(), *trained = json_array();
    for (int k = 0; k < t->ncls; k++)
        json_array_append_new(cls, json_string(t->classes[k]));
    for (int i = 0; i < t->ntr; i++) {
        json_array_append_new(sources, json_string(t->tr[i].path));
        if (t->held[i]) {
            json_array_append_new(held, json_string(t->tr[i].path));
        } else { /* by file name, so that explain recognises a training trial wherever it lies */
            const char *b = strrchr(t->tr[i].path, '/');
            json_array_append_new(trained, json_string(b ? b + 1 : t->tr[i].path));
        }
    }
    card_set(c, "domain", json_string("gait"), &bad);
    card_set(c, "task", json_string(t->condition ? "condition" : "subject"), &bad);
    card_set(c, "classes", cls, &bad);
    card_set(c, "input.axes", json_pack("[ss]", "channel", "pct_gait_cycle"), &bad);
    card_set(c, "input.units", json_pack("[ss]", "z", "%"), &bad);
    char *pre = xai_gait_pre_to_json(&t->pre);
    if (!pre || xai_card_set_json(c, "preprocessing", pre) != XAI_OK)
        bad = 1;
    free(pre);
    card_set(c, "provenance.program", json_string(app->prog), &bad);
    card_set(c, "provenance.arch", json_string(spec), &bad);
    card_set(c, "provenance.seed", json_integer((json_int_t)o->seed), &bad);
    card_set(c, "training", json_pack("{s:s,s:s,s:i,s:I,s:I,s:f,s:f,s:o,s:o,s:i}", "target",
                                      t->condition ? "condition" : "subject", "split", split_names[t->split],
                                      "epochs", epochs, "train_samples", (json_int_t)t->ntrain,
                                      "heldout_samples", (json_int_t)t->ntest, "train_accuracy", r->train_acc,
                                      "weight_decay", o->weight_decay, "heldout_trials", held,
                                      "trained_trials", trained, "failed_trials", t->nfailed), &bad);
    card_validation(c, t, r, &bad);
    int rc = XAI_EXIT_OK;
    xai_export_options eo = {0, 17};
    if (bad || xai_card_apply(m, c) != XAI_OK || xai_model_save_onnx(m, o->output, &eo) != XAI_OK) {
        rc = xai_app_fail(app, o->output, "%s", bad ? "cannot fill the model card" : xai_last_error());
    } else {
        char *text = NULL;
        json_t *sc = NULL;
        if (xai_card_to_json(c, 0, &text) == XAI_OK && (sc = json_loads(text, 0, NULL))) {
            json_object_set_new(sc, "Description", json_string("xai-gait model: gait cycles -> class logits"));
            json_object_set_new(sc, "Sources", json_incref(sources));
            char *st = json_dumps(sc, JSON_COMPACT);
            rc = st && xai_app_write_sidecar(app, o->output, st) == 0 ? XAI_EXIT_OK : XAI_EXIT_DATA;
            free(st);
        }
        json_decref(sc);
        xai_free(text);
    }
    json_decref(sources);
    xai_card_free(c);
    return rc;
}

static void report(xai_app *app, const tset *t, const tresult *r, int epochs)
{
    if (t->ntest == 0) {
        xai_app_log(app, 1, "trained %d epochs: train accuracy %.3f; no held-out %s (--split-by %s): the model is "
                    "not validated", epochs, r->train_acc, t->split == SPLIT_NONE ? "set" : "trials",
                    split_names[t->split]);
        return;
    }
    xai_app_log(app, 1, "trained %d epochs: train accuracy %.3f, held-out accuracy %.3f [95%% CI %.3f, %.3f] "
                "(%lld samples, held out by %s; chance %.3f, balanced accuracy %.3f)", epochs, r->train_acc,
                r->h.accuracy, r->h.ci_low, r->h.ci_high, (long long)t->ntest, split_names[t->split], r->h.chance,
                r->h.balanced_accuracy);
    if (isfinite(r->base_acc))
        xai_app_log(app, 1, "linear baseline (ridge, lambda %.3g): accuracy %.3f on the same held-out samples", r->lambda,
                    r->base_acc);
}

/* Warnings about the model's validity; 1 when there is one. */
static int warn_validity(xai_app *app, const tset *t, const tresult *r)
{
    int n = 0;
    if (t->ntest == 0)
        return 0;
    if (!r->v.above_chance && ++n)
        xai_app_log(app, 1, "warning: held-out accuracy %.3f [%.3f, %.3f] is not above chance %.3f", r->h.accuracy,
                    r->h.ci_low, r->h.ci_high, r->h.chance);
    if (r->v.n_never_predicted > 0 && ++n)
        xai_app_log(app, 1, "warning: %d class(es) never predicted on the held-out set (first: %s)",
                    r->v.n_never_predicted, t->classes[r->v.never_predicted[0]]);
    if (r->v.loses_to_baseline && ++n)
        xai_app_log(app, 1, "warning: the network (%.3f) loses to the linear baseline (%.3f)", r->h.accuracy,
                    r->base_acc);
    return n > 0;
}

int gait_cmd_train(xai_app *app, const opts *o)
{
    tset t;
    memset(&t, 0, sizeof t);
    tresult r;
    memset(&r, 0, sizeof r);
    xai_model *m = NULL;
    char *spec = NULL;
    int rc = parse_setup(app, o, &t);
    if (rc == XAI_EXIT_OK)
        rc = read_cycles(app, o, &t);
    if (rc == XAI_EXIT_OK)
        rc = find_classes(app, &t);
    if (rc == XAI_EXIT_OK && !(t.held = calloc((size_t)t.ntr, sizeof(int))))
        rc = xai_app_fail(app, NULL, "out of memory");
    if (rc == XAI_EXIT_OK && t.split == SPLIT_SUBJECT)
        rc = hold_out_subjects(app, &t, o->seed);
    else if (rc == XAI_EXIT_OK && t.split != SPLIT_NONE)
        hold_out_within(&t);
    if (rc == XAI_EXIT_OK)
        rc = build_inputs(app, &t);
    if (rc == XAI_EXIT_OK)
        rc = make_model(app, o, &t, &m, &spec);
    xai_train_result res;
    if (rc == XAI_EXIT_OK) {
        xai_app_log(app, 1, "%lld training and %lld held-out samples (%d x 101, %s), %d classes; arch: %s",
                    (long long)t.ntrain, (long long)t.ntest, xai_gait_pre_inputs(&t.pre),
                    t.pre.paired ? "left and right cycle paired" : "one cycle", t.ncls, spec);
        xai_train_config cfg;
        xai_app_train_config(&cfg, o->epochs, o->batch, o->lr, 0, 0, o->seed);
        cfg.weight_decay = (float)o->weight_decay;
        if (xai_train(m, &cfg, t.ntrain, t.x, t.y, &res) != XAI_OK)
            rc = xai_app_fail(app, NULL, "training: %s", xai_last_error());
    }
    if (rc == XAI_EXIT_OK)
        rc = evaluate(app, m, &t, &r);
    if (rc == XAI_EXIT_OK) {
        report(app, &t, &r, res.epochs_run);
        int warned = warn_validity(app, &t, &r);
        rc = write_card(app, o, m, &t, &r, spec, res.epochs_run);
        if (rc == XAI_EXIT_OK)
            xai_app_log(app, 1, "wrote %s", o->output);
        if (rc == XAI_EXIT_OK && warned && o->strict)
            rc = GAIT_EXIT_STRICT;
        else if (rc == XAI_EXIT_OK && t.nfailed)
            rc = XAI_EXIT_PARTIAL;
    }
    xai_heldout_free(&r.h);
    xai_verdict_free(&r.v);
    free(spec);
    xai_model_free(m);
    tset_free(&t);
    return rc;
}
