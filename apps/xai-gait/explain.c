/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * explain.c - xai-gait explain: the model and its card, per-sample targets, the model
 * samples scattered back to their cycles (left block to the left cycle, right block to the
 * right one), and the per-trial outputs with the class scores in their sidecars.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "explain.h"
#include "xai/npy.h"
#include "xai/card.h"
#include "xai/domain.h"

int gait_file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

void gait_log_irregular(const xai_app *app, const char *what, int64_t n)
{
    xai_app_log(app, 1, "%s%s%lld cycle(s) skipped: stride time off the median of their trial and side (a missed "
                "or spurious Foot Strike)", what ? what : "", what ? ": " : "", (long long)n);
}

const char *gait_label_of(const gait_trial *t, int condition)
{
    return condition ? t->condition : t->subject;
}

/* ------------------------------------------------------------------ explainer */

void explainer_free(explainer *e)
{
    xai_driver_set_free(e->set);
    xai_gait_pre_free(&e->pre);
    for (int k = 0; k < e->nfold_pre; k++)
        xai_gait_pre_free(&e->fold_pre[k]);
    free(e->fold_pre);
    for (int i = 0; i < e->ncls; i++)
        free(e->classes[i]);
    free(e->classes);
    free(e->group_by);
    json_decref(e->pre_json);
}

/* Pre-processing, classes, task and the validation's group kind from the model card (old
 * models through its legacy reader). */
static int read_card(xai_app *app, const opts *o, explainer *e)
{
    const xai_card *card = xai_driver_set_card(e->set);
    char *pre = xai_card_get_json(card, "preprocessing");
    xai_status st = xai_gait_pre_from_json(&e->pre, pre);
    xai_free(pre);
    if (st != XAI_OK)
        return xai_app_fail(app, o->model, "%s", xai_last_error());
    e->ncls = (int)xai_model_output_numel(xai_driver_set_model(e->set));
    e->classes = calloc((size_t)e->ncls, sizeof(char *));
    for (int k = 0; e->classes && k < e->ncls; k++) {
        const char *s = k < xai_card_class_count(card) ? xai_card_class_name(card, k) : NULL;
        e->classes[k] = s ? strdup(s) : xai_app_strdup_printf("class%d", k);
    }
    const char *tt = xai_card_get_string(card, "training.target");
    if (!tt)
        tt = xai_card_get_string(card, "task");
    e->condition = tt && !strcmp(tt, "condition");
    /* the unit training held out names the groups that pick each trial's fold model */
    const char *gk = xai_card_get_string(card, "validation.group_kind");
    int known = gk && (!strcmp(gk, "session") || !strcmp(gk, "trial") || !strcmp(gk, "subject"));
    e->group_by = strdup(known ? gk : "session");
    return e->classes && e->group_by ? XAI_EXIT_OK : xai_app_fail(app, NULL, "out of memory");
}

/* Each fold model's own pre-processing record (models trained before per-fold normalisation
 * carry the set's record in every fold file, which reads the same). */
static int read_fold_cards(xai_app *app, const opts *o, explainer *e)
{
    int nf = xai_driver_set_nfolds(e->set);
    if (nf < 1)
        return XAI_EXIT_OK;
    if (!(e->fold_pre = calloc((size_t)nf, sizeof *e->fold_pre)))
        return xai_app_fail(app, NULL, "out of memory");
    e->nfold_pre = nf;
    for (int k = 0; k < nf; k++) {
        xai_card *c = NULL;
        char *pre = NULL;
        xai_status st = xai_card_from_model(xai_driver_set_fold_model(e->set, k), &c);
        if (!st && !(pre = xai_card_get_json(c, "preprocessing")))
            st = xai_error_set(XAI_EFORMAT, "fold %d has no preprocessing record in its card", k + 1);
        if (!st)
            st = xai_gait_pre_from_json(&e->fold_pre[k], pre);
        xai_free(pre);
        xai_card_free(c);
        if (st == XAI_OK && !xai_gait_pre_same_selection(&e->fold_pre[k], &e->pre))
            st = xai_error_set(XAI_EFORMAT, "fold %d was trained on other variables or sides than the model", k + 1);
        if (st != XAI_OK)
            return xai_app_fail(app, o->model, "%s", xai_last_error());
    }
    return XAI_EXIT_OK;
}

xai_status explainer_load(const explainer *e, const xai_gait_trial_ref *refs, int ntr, xai_gait_trial_fn fn,
                          void *ud, xai_gait_study *st)
{
    xai_gait_pre raw = e->pre; /* a shallow copy: the inputs before any normalisation */
    raw.have_norm = 0;
    xai_status s = xai_gait_study_load(&raw, refs, ntr, e->condition ? "condition" : "subject",
                                       (const char *const *)e->classes, e->ncls, e->group_by, fn, ud, st);
    size_t per = (size_t)xai_gait_pre_inputs(&e->pre) * XAI_GAIT_NPTS;
    for (int64_t i = 0; s == XAI_OK && i < st->d.n; i++) {
        int k = xai_driver_set_model_for(e->set, st->d.group_names[st->d.group[i]], e->eo.out_of_fold);
        const xai_gait_pre *p = k >= 0 && k < e->nfold_pre ? &e->fold_pre[k] : &e->pre;
        xai_gait_normalise(p, st->d.x + (size_t)i * per, 1);
    }
    return s;
}

/* --variables/--components given at explain time must select what the model was trained on. */
static int check_selection(xai_app *app, const opts *o, const explainer *e)
{
    xai_gait_pre want;
    memset(&want, 0, sizeof want);
    char err[512] = "";
    int bad = xai_gait_pre_set_variables(&want, o->variables ? o->variables : "x") != XAI_OK ||
              xai_gait_pre_set_components(&want, o->components ? o->components : "sagittal") != XAI_OK;
    if (bad)
        snprintf(err, sizeof err, "%s", xai_last_error());
    want.paired = e->pre.paired; /* only the selection is compared */
    want.offset = e->pre.offset;
    if (!o->variables)
        for (int i = 0; i < e->pre.nvars && !bad; i++) {
            free(want.vars[i < want.nvars ? i : 0]);
            want.vars[i] = strdup(e->pre.vars[i]);
            want.nvars = i + 1;
        }
    if (!o->components) {
        want.ncomps = e->pre.ncomps;
        memcpy(want.comps, e->pre.comps, sizeof want.comps);
    }
    int same = !bad && xai_gait_pre_same_selection(&want, &e->pre);
    xai_gait_pre_free(&want);
    if (bad)
        return xai_app_usage_error(app, "%s", err);
    if (same)
        return XAI_EXIT_OK;
    char *pt = xai_gait_pre_to_json(&e->pre);
    json_t *j = pt ? json_loads(pt, 0, NULL) : NULL;
    free(pt);
    char *s = json_dumps(json_object_get(j, "variables"), JSON_COMPACT);
    char *c = json_dumps(json_object_get(j, "components"), JSON_COMPACT);
    xai_app_fail(app, o->model, "preprocessing mismatch: the model was trained on variables %s, components %s; "
                 "--variables/--components must match (or be omitted)", s, c);
    free(s);
    free(c);
    json_decref(j);
    return XAI_EXIT_DATA;
}

/* Method, composite, target and start into the driver's explain options. */
static int explain_settings(xai_app *app, const opts *o, explainer *e)
{
    if (xai_app_driver_explain_setup(app, &o->dopt, xai_driver_set_card(e->set), &e->eo) != 0)
        return XAI_EXIT_USAGE;
    e->eo.composite = "epsilon-plus"; /* the planted-truth test: flat first layers ignore the input */
    if (o->method_s && xai_method_parse(o->method_s, &e->eo.method) != XAI_OK)
        return xai_app_usage_error(app, "--method: %s", xai_last_error());
    if (o->composite) {
        if (xai_composite_check(o->composite) != XAI_OK)
            return xai_app_usage_error(app, "--composite: %s", xai_last_error());
        e->eo.composite = o->composite;
    }
    if (e->eo.method == XAI_METHOD_LRP) {
        snprintf(e->desc, sizeof e->desc, "lrp");
    } else {
        const char *mn = xai_method_name(e->eo.method);
        size_t k = 0;
        for (const char *s = mn; *s && k + 1 < sizeof e->desc; s++)
            if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))
                e->desc[k++] = *s;
        e->desc[k] = '\0';
    }
    snprintf(e->options, sizeof e->options, "method=%s composite=%s target=%s figures=%d start=%s", e->desc,
             e->eo.composite, o->dopt.target, o->figures, xai_driver_start_name(o->dopt.start));
    return XAI_EXIT_OK;
}

int explainer_init(xai_app *app, const opts *o, explainer *e)
{
    memset(e, 0, sizeof *e);
    if (xai_driver_set_load(o->model, NULL, &e->set) != XAI_OK)
        return xai_app_fail(app, NULL, "%s", xai_last_error());
    int rc = read_card(app, o, e);
    if (rc == XAI_EXIT_OK)
        rc = read_fold_cards(app, o, e);
    if (rc != XAI_EXIT_OK)
        return rc;
    int nd;
    const xai_model *m = xai_driver_set_model(e->set);
    const int64_t *is = xai_model_input_shape(m, &nd);
    int64_t nin = xai_model_input_numel(m);
    if (nin != (int64_t)xai_gait_pre_inputs(&e->pre) * XAI_GAIT_NPTS || is[nd - 1] != XAI_GAIT_NPTS)
        return xai_app_fail(app, o->model, "the model input (%lld values) does not match its preprocessing record "
                            "(%d variables x %d components x 101%s)", (long long)nin, e->pre.nvars, e->pre.ncomps,
                            e->pre.paired ? " x 2 sides" : "");
    if ((o->variables || o->components) && (rc = check_selection(app, o, e)) != XAI_EXIT_OK)
        return rc;
    if (o->events >= 0) /* else the model's own (file events for models older than the choice) */
        e->pre.events = o->events;
    if (xai_sha256_file(o->model, e->sha) != 0)
        return xai_app_fail(app, o->model, "cannot hash the model");
    if ((rc = explain_settings(app, o, e)) != XAI_EXIT_OK)
        return rc;
    char msg[256];
    if (o->concepts && (strcmp(o->cmd, "explain") || e->eo.method != XAI_METHOD_LRP))
        return xai_app_usage_error(app, "--concepts belongs to explain with --method lrp");
    if (o->concepts && concepts_parse(o->concepts, &e->cs, msg, sizeof msg) != 0)
        return xai_app_usage_error(app, "%s", msg);
    e->concepts = o->concepts != NULL;
    e->figures = o->figures;
    e->save_input = o->save_input;
    char *pt = xai_gait_pre_to_json(&e->pre); /* every sidecar of the run carries it */
    e->pre_json = pt ? json_loads(pt, 0, NULL) : NULL;
    free(pt);
    if (!e->pre_json)
        return xai_app_fail(app, NULL, "out of memory");
    return xai_app_driver_strict_exit(app, &o->dopt, e->set, o->model);
}

/* The explained cycles of one group: every cycle that is part of a model sample. */
typedef struct {
    int64_t n;              /* cycles */
    int64_t *idx;           /* [n] indices into the cycles, in their order */
    float *rel;             /* [n][channels][101] */
    int *pred, *tgt, *fold; /* [n] of the cycle's sample (fold -1: the model for new data) */
    unsigned char *insamp;  /* [n] the sample's map is in-sample (its group trained the model) */
    float *logit;           /* [n][classes] */
    int64_t correct, labelled, in_sample; /* over samples */
} explained;

static void explained_free(explained *x)
{
    free(x->idx);
    free(x->rel);
    free(x->pred);
    free(x->tgt);
    free(x->fold);
    free(x->insamp);
    free(x->logit);
}

static int explained_alloc(explained *out, int64_t n, size_t per, int ncls)
{
    size_t un = (size_t)(n > 0 ? n : 1);
    out->idx = malloc(un * sizeof(int64_t));
    out->rel = malloc(un * per * sizeof(float));
    out->pred = malloc(un * sizeof(int));
    out->tgt = malloc(un * sizeof(int));
    out->fold = malloc(un * sizeof(int));
    out->insamp = malloc(un);
    out->logit = malloc(un * (size_t)ncls * sizeof(float));
    return out->idx && out->rel && out->pred && out->tgt && out->fold && out->insamp && out->logit ? 0 : -1;
}

/* Scatter the samples' relevance back to their cycles (left block to the left cycle, right
 * block to the right one), keeping the cycles' order. */
static int scatter(const explainer *e, const xai_gait_study *st, const xai_driver_explanation *ex, explained *out)
{
    const xai_gait_cycles *cy = &st->cy;
    size_t per = (size_t)xai_gait_pre_channels(&e->pre) * XAI_GAIT_NPTS, ncls = (size_t)e->ncls;
    int64_t *from = malloc((size_t)(cy->n > 0 ? cy->n : 1) * sizeof(int64_t));
    if (!from || explained_alloc(out, cy->n, per, e->ncls) != 0) {
        free(from);
        return -1;
    }
    for (int64_t c = 0; c < cy->n; c++)
        from[c] = -1;
    for (int64_t i = 0; i < ex->n; i++) {
        from[st->a[i]] = 2 * i;
        if (st->b[i] >= 0)
            from[st->b[i]] = 2 * i + 1;
    }
    for (int64_t c = 0; c < cy->n; c++) {
        if (from[c] < 0)
            continue;
        int64_t i = from[c] / 2, k = out->n++;
        out->idx[k] = c;
        memcpy(out->rel + (size_t)k * per, ex->rel + ((size_t)i * (e->pre.paired ? 2 : 1) + (size_t)(from[c] % 2)) * per,
               per * sizeof(float));
        memcpy(out->logit + (size_t)k * ncls, ex->logits + (size_t)i * ncls, ncls * sizeof(float));
        out->pred[k] = ex->pred[i];
        out->tgt[k] = ex->target[i];
        out->fold[k] = ex->fold[i];
        out->insamp[k] = (ex->flags[i] & XAI_DRIVER_FLAG_IN_SAMPLE) != 0;
    }
    free(from);
    return 0;
}

/* The samples as the model saw them, PREFIX_desc-D_input.npy, for xai-evaluate. 0 or -1 (reported). */
static int save_inputs(xai_app *app, const explainer *e, const char *prefix, const xai_dataset *d)
{
    int64_t shp[3] = {d->n, d->shape[0], d->shape[1]};
    char *path = xai_app_strdup_printf("%s_desc-%s_input.npy", prefix, e->desc);
    int rc = path && xai_npy_save(path, 3, shp, d->x) == XAI_OK ? 0 : -1;
    if (rc)
        xai_app_fail(app, path ? path : prefix, "%s", path ? xai_last_error() : "out of memory");
    free(path);
    return rc;
}

/* A trial the loader skipped: reported, and listed in the caller's JSON array (may be NULL). */
static void on_trial(void *ud, int trial, xai_status st, int gaps, const char *message)
{
    explain_ctx *c = ud;
    if (st == XAI_OK) {
        if (gaps)
            xai_app_log(c->app, 1, "%s: %d cycle(s) with gaps skipped", c->tr[trial].path, gaps);
        if (*message)
            xai_app_log(c->app, 1, "%s: %s", c->tr[trial].path, message);
        c->gaps += gaps;
        return;
    }
    xai_app_fail(c->app, c->tr[trial].path, "%s; trial skipped", message);
    if (c->failed)
        json_array_append_new(c->failed, json_pack("{s:s,s:s}", "path", c->tr[trial].path, "error", message));
    c->nfailed++;
}

/* --target true: every sample's label must be a class of the model. 0 or -1 (reported). */
static int check_true_targets(xai_app *app, const explainer *e, const explain_ctx *c, const xai_gait_study *st)
{
    if (e->eo.target.kind != XAI_TARGET_TRUE)
        return 0;
    for (int64_t i = 0; i < st->d.n; i++)
        if (st->d.y[i] < 0) {
            const gait_trial *t = &c->tr[st->cy.trial[st->a[i]]];
            xai_app_fail(app, t->path, "--target true: its %s '%s' is not a class of the model (use pred or a class "
                         "name)", e->condition ? "condition" : "subject", gait_label_of(t, e->condition));
            return -1;
        }
    return 0;
}

/* Load the group's trials, explain them with the fold model that never saw each trial's
 * group and scatter the maps to the cycles. 0, -1 (reported), 1: no model sample (message in
 * xai_last_error()), 2: no trial could be read (each reported). */
static int explain_cycles(xai_app *app, explainer *e, explain_ctx *c, xai_gait_study *st, explained *out)
{
    memset(out, 0, sizeof *out);
    xai_gait_trial_ref *refs = gait_trial_refs(c->tr, c->ntr);
    xai_driver_explanation ex = {0};
    int rc = -1;
    if (!refs) {
        xai_app_fail(app, c->prefix, "out of memory");
        goto done;
    }
    if (explainer_load(e, refs, c->ntr, on_trial, c, st) != XAI_OK) {
        xai_app_fail(app, c->prefix, "%s", xai_last_error());
        goto done;
    }
    if (st->cy.irregular)
        gait_log_irregular(app, c->prefix, st->cy.irregular);
    if (st->d.n == 0) { /* the caller skips the trial (or subject) and goes on */
        int64_t nl = 0;
        for (int64_t i = 0; i < st->cy.n; i++)
            nl += st->cy.side[i][0] == 'L';
        xai_error_set(XAI_EINVAL, "no left cycle with a right cycle starting inside it (%lld Left, %lld Right "
                      "cycles; the model takes both sides)", (long long)nl, (long long)(st->cy.n - nl));
        rc = st->cy.n ? 1 : 2;
        goto done;
    }
    if (check_true_targets(app, e, c, st) != 0)
        goto done;
    if (xai_driver_explain(e->set, &st->d, &e->eo, &ex) != XAI_OK) {
        xai_app_fail(app, c->prefix, "%s", xai_last_error());
        goto done;
    }
    if ((e->save_input && save_inputs(app, e, c->prefix, &st->d) != 0))
        goto done;
    if (scatter(e, st, &ex, out) != 0) {
        xai_app_fail(app, c->prefix, "out of memory");
        goto done;
    }
    if (e->concepts && gait_concepts(app, e, c, st, &ex) != 0)
        goto done;
    for (int64_t i = 0; i < ex.n; i++) {
        out->in_sample += (ex.flags[i] & XAI_DRIVER_FLAG_IN_SAMPLE) != 0;
        if (st->d.y[i] >= 0) {
            out->labelled++;
            out->correct += ex.pred[i] == st->d.y[i];
        }
    }
    rc = 0;
done:
    xai_driver_explanation_free(&ex);
    free(refs);
    return rc;
}

/* The relevance sidecar: method, start, targets, and the class scores each map explains (the
 * logit of the explained class; with --start logit a negative score flips the map), the fold
 * model of each cycle and the trials whose maps are in-sample. */
static char *sidecar_text(const explainer *e, const explained *x, json_t *sources, json_t *in_sample)
{
    json_t *pa = json_array(), *ta = json_array(), *sc = json_array(), *lg = json_array(), *fa = json_array();
    for (int64_t i = 0; i < x->n; i++) {
        json_array_append_new(pa, json_string(e->classes[x->pred[i]]));
        json_array_append_new(ta, x->tgt[i] >= 0 ? json_string(e->classes[x->tgt[i]]) : json_null());
        json_array_append_new(sc, x->tgt[i] >= 0 ? json_real(x->logit[(size_t)i * (size_t)e->ncls + (size_t)x->tgt[i]])
                                                 : json_null());
        json_array_append_new(fa, x->fold[i] >= 0 ? json_integer(x->fold[i] + 1) : json_null());
        json_t *row = json_array();
        for (int k = 0; k < e->ncls; k++)
            json_array_append_new(row, json_real(x->logit[(size_t)i * (size_t)e->ncls + (size_t)k]));
        json_array_append_new(lg, row);
    }
    json_t *o = json_object(), *cn = json_array();
    for (int k = 0; k < e->ncls; k++)
        json_array_append_new(cn, json_string(e->classes[k]));
    json_object_set_new(o, "Description", json_string("xai-gait relevance of time-normalised gait cycles"));
    json_object_set(o, "Sources", sources);
    json_object_set_new(o, "ModelSHA256", json_string(e->sha));
    json_object_set_new(o, "Method", json_string(xai_method_name(e->eo.method)));
    json_object_set_new(o, "Composite", json_string(e->eo.composite));
    json_object_set_new(o, "Start", json_string(xai_driver_start_name(e->eo.start)));
    json_object_set_new(o, "Normalisation", json_string("each sample's map scaled to sum |R| = 1"));
    json_object_set_new(o, "TargetMode", json_string(e->eo.target.kind == XAI_TARGET_PRED ? "pred"
                                                     : e->eo.target.kind == XAI_TARGET_TRUE ? "true" : "class"));
    json_object_set_new(o, "Predicted", pa);
    json_object_set_new(o, "Target", ta);
    json_object_set_new(o, "TargetScore", sc);
    json_object_set_new(o, "ClassNames", cn);
    json_object_set_new(o, "Logits", lg);
    json_object_set_new(o, "FoldModel", fa);
    json_object_set_new(o, "HeldOutUnit", json_string(e->group_by));
    json_object_set(o, "InSampleTrials", in_sample);
    json_object_set_new(o, "OutOfSample", json_boolean(x->in_sample == 0));
    json_object_set_new(o, "Accuracy", x->labelled ? json_real((double)x->correct / (double)x->labelled) : json_null());
    json_object_set(o, "Preprocessing", e->pre_json);
    char *t = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return t;
}

/* The trials whose samples a model trained on their group explained, each warned about: their
 * maps show what the model fitted, not what generalises. */
static json_t *in_sample_trials(xai_app *app, const explainer *e, const explain_ctx *c, const xai_gait_study *st,
                                const explained *x)
{
    json_t *out = json_array();
    int last = -1;
    for (int64_t k = 0; x->in_sample && k < x->n; k++) {
        int tr = st->cy.trial[x->idx[k]];
        if (!x->insamp[k] || tr == last)
            continue;
        last = tr;
        xai_app_log(app, 1, "warning: %s: the model was trained on this trial's %s; its maps are in-sample "
                    "(explain held-out trials, or train with --cv)", c->tr[tr].path, e->group_by);
        json_array_append_new(out, json_string(c->tr[tr].path));
    }
    return out;
}

/* Explain the trials of c and write the outputs under c->prefix; counts into c. 0, -1
 * (reported), 1 when the cycles give no model sample (message in xai_last_error()), 2 when
 * no trial could be read (each reported). */
int explain_group(explainer *e, explain_ctx *c, gait_chan_summary *summary)
{
    xai_gait_study st;
    explained x;
    memset(&st, 0, sizeof st);
    int r = explain_cycles(c->app, e, c, &st, &x);
    c->ncycles = r == 0 ? x.n : 0;
    if (r != 0) {
        explained_free(&x);
        xai_gait_study_free(&st);
        return r;
    }
    c->correct = x.correct;
    c->labelled = x.labelled;
    json_t *ins = in_sample_trials(c->app, e, c, &st, &x);
    char *et = sidecar_text(e, &x, c->sources, ins);
    json_decref(ins);
    gait_group g = {&e->pre, c->tr, &st.cy, x.idx, x.n, x.rel, e->desc};
    int rc = et && gait_write_tables(c->app, &g, c->prefix, et, summary) == 0 ? 0 : -1;
    if (rc == 0 && e->figures) {
        char *paths[4];
        gait_output_paths(c->prefix, e->desc, paths);
        rc = gait_plot_grid(c->app, &g, paths[3], c->title);
        if (rc == 0)
            rc = xai_app_write_sidecar(c->app, paths[3], et);
        for (int i = 0; i < 4; i++)
            free(paths[i]);
    }
    free(et);
    explained_free(&x);
    xai_gait_study_free(&st);
    return rc;
}

/* ------------------------------------------------------------------ explain */

int gait_cmd_explain(xai_app *app, const opts *o)
{
    if (!o->model || !o->output || o->nargs < 1)
        return xai_app_usage_error(app, "explain: need --model M.onnx, TRIAL.c3d... and -o OUTDIR");
    explainer e;
    int rc = explainer_init(app, o, &e);
    if (rc != XAI_EXIT_OK) {
        explainer_free(&e);
        return rc;
    }
    gait_trial *tr = NULL;
    int ntr = 0, nfailed = 0;
    rc = XAI_EXIT_DATA;
    if (gait_trials_collect(app, o->args, o->nargs, &tr, &ntr) != 0)
        goto done;
    /* refuse before doing anything when an output exists */
    for (int i = 0; i < ntr; i++) {
        const char *b = strrchr(tr[i].path, '/');
        b = b ? b + 1 : tr[i].path;
        char *prefix = xai_app_strdup_printf("%s/%.*s", o->output, (int)strlen(b) - 4, b);
        char *paths[4];
        gait_output_paths(prefix, e.desc, paths);
        int bad = 0;
        for (int k = 0; k < (e.figures ? 4 : 3) && !bad; k++)
            bad = xai_app_check_output(app, paths[k]) != 0;
        bad = bad || (e.concepts && gait_concepts_check(app, &e, prefix) != 0);
        for (int k = 0; k < 4; k++)
            free(paths[k]);
        free(prefix);
        if (bad) {
            rc = XAI_EXIT_USAGE; /* the one overwrite rule: an existing output is a usage error */
            goto done;
        }
    }
    if (xai_bids_write_dataset_description(app, o->output, PROG) != 0)
        goto done;
    for (int i = 0; i < ntr; i++) {
        const char *b = strrchr(tr[i].path, '/');
        b = b ? b + 1 : tr[i].path;
        char *prefix = xai_app_strdup_printf("%s/%.*s", o->output, (int)strlen(b) - 4, b);
        json_t *src = json_array();
        json_array_append_new(src, json_string(tr[i].path));
        explain_ctx c = {.app = app, .tr = &tr[i], .ntr = 1, .prefix = prefix, .title = b, .sources = src};
        int r = explain_group(&e, &c, NULL);
        json_decref(src);
        free(prefix);
        if (r == 1)
            xai_app_fail(app, tr[i].path, "%s; trial skipped", xai_last_error());
        if (r == 1 || r == 2) {
            nfailed++;
            continue;
        }
        if (r != 0)
            goto done;
        if (c.labelled)
            xai_app_log(app, 1, "%s: %lld cycles (%d with gaps skipped), accuracy %.3f", tr[i].path,
                        (long long)c.ncycles, c.gaps, (double)c.correct / (double)c.labelled);
        else
            xai_app_log(app, 1, "%s: %lld cycles (%d with gaps skipped)", tr[i].path, (long long)c.ncycles, c.gaps);
    }
    rc = nfailed == ntr ? XAI_EXIT_DATA : nfailed ? XAI_EXIT_PARTIAL : XAI_EXIT_OK;
done:
    gait_trials_free(tr, ntr);
    explainer_free(&e);
    return rc;
}

