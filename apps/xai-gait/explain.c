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

const char *gait_label_of(const gait_trial *t, int condition)
{
    return condition ? t->condition : t->subject;
}

/* ------------------------------------------------------------------ explainer */



void explainer_free(explainer *e)
{
    json_decref(e->trained);
    xai_model_free(e->m);
    xai_gait_pre_free(&e->pre);
    for (int i = 0; i < e->ncls; i++)
        free(e->classes[i]);
    free(e->classes);
}

/* Pre-processing, classes and task from the model card (old models through its legacy
 * reader); warns (or with --strict refuses) when the card says the model learned nothing. */
static int read_card(xai_app *app, const opts *o, explainer *e)
{
    xai_card *card = NULL;
    if (xai_card_from_model(e->m, &card) != XAI_OK)
        return xai_app_fail(app, o->model, "model card: %s", xai_last_error());
    char *pre = xai_card_get_json(card, "preprocessing");
    xai_status st = xai_gait_pre_from_json(&e->pre, pre);
    xai_free(pre);
    if (st != XAI_OK) {
        xai_card_free(card);
        return xai_app_fail(app, o->model, "%s", xai_last_error());
    }
    e->ncls = (int)xai_model_output_numel(e->m);
    e->classes = calloc((size_t)e->ncls, sizeof(char *));
    for (int k = 0; e->classes && k < e->ncls; k++) {
        const char *s = k < xai_card_class_count(card) ? xai_card_class_name(card, k) : NULL;
        e->classes[k] = s ? strdup(s) : xai_app_strdup_printf("class%d", k);
    }
    char *trained = xai_card_get_json(card, "training.trained_trials");
    e->trained = trained ? json_loads(trained, 0, NULL) : NULL;
    xai_free(trained);
    const char *tt = xai_card_get_string(card, "training.target");
    if (!tt)
        tt = xai_card_get_string(card, "task");
    e->condition = tt && !strcmp(tt, "condition");
    char *w = NULL;
    int nw = 0;
    if (xai_card_warnings(card, &w, &nw) == XAI_OK && nw > 0)
        for (char *line = w, *nl; line && *line; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            xai_app_log(app, 1, "warning: %s: %s", o->model, line);
        }
    xai_free(w);
    xai_card_free(card);
    if (nw > 0 && o->strict)
        return xai_app_fail(app, o->model, "--strict: the model card carries warnings"), GAIT_EXIT_STRICT;
    return XAI_EXIT_OK;
}

int explainer_init(xai_app *app, const opts *o, explainer *e)
{
    memset(e, 0, sizeof *e);
    char err[512];
    if (xai_model_load_onnx(o->model, NULL, &e->m) != XAI_OK)
        return xai_app_fail(app, o->model, "%s", xai_last_error());
    int rc = read_card(app, o, e);
    if (rc != XAI_EXIT_OK)
        return rc;
    int nd;
    const int64_t *is = xai_model_input_shape(e->m, &nd);
    int64_t nin = xai_model_input_numel(e->m);
    if (nin != (int64_t)xai_gait_pre_inputs(&e->pre) * XAI_GAIT_NPTS || is[nd - 1] != XAI_GAIT_NPTS)
        return xai_app_fail(app, o->model, "the model input (%lld values) does not match its preprocessing record "
                            "(%d variables x %d components x 101%s)", (long long)nin, e->pre.nvars, e->pre.ncomps,
                            e->pre.paired ? " x 2 sides" : "");
    if (o->variables || o->components) { /* must agree with the record */
        xai_gait_pre want;
        memset(&want, 0, sizeof want);
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
        if (!same) {
            char *pt = xai_gait_pre_to_json(&e->pre);
            json_t *j = pt ? json_loads(pt, 0, NULL) : NULL;
            free(pt);
            char *s = json_dumps(json_object_get(j, "variables"), JSON_COMPACT);
            char *c = json_dumps(json_object_get(j, "components"), JSON_COMPACT);
            xai_app_fail(app, o->model, "preprocessing mismatch: the model was trained on variables %s, components "
                         "%s; --variables/--components must match (or be omitted)", s, c);
            free(s);
            free(c);
            json_decref(j);
            return XAI_EXIT_DATA;
        }
    }
    if (xai_sha256_file(o->model, e->sha) != 0)
        return xai_app_fail(app, o->model, "cannot hash the model");
    xai_explain_config_init(&e->cfg);
    e->cfg.layer_sums = 0;
    e->cfg.composite = "epsilon-plus"; /* the planted-truth test: flat first layers ignore the input */
    if (o->method_s && xai_method_parse(o->method_s, &e->cfg.method) != XAI_OK)
        return xai_app_usage_error(app, "--method: %s", xai_last_error());
    if (o->composite) {
        if (xai_composite_check(o->composite) != XAI_OK)
            return xai_app_usage_error(app, "--composite: %s", xai_last_error());
        e->cfg.composite = o->composite;
    }
    if (o->start && strcmp(o->start, "logit") && strcmp(o->start, "onehot"))
        return xai_app_usage_error(app, "--start must be logit or onehot");
    if (o->start)
        e->cfg.init = !strcmp(o->start, "logit") ? XAI_INIT_LOGIT : XAI_INIT_ONEHOT;
    if (e->cfg.method == XAI_METHOD_LRP) {
        snprintf(e->desc, sizeof e->desc, "lrp");
    } else {
        const char *mn = xai_method_name(e->cfg.method);
        size_t k = 0;
        for (const char *s = mn; *s && k + 1 < sizeof e->desc; s++)
            if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))
                e->desc[k++] = *s;
        e->desc[k] = '\0';
    }
    const char *t = o->target ? o->target : "pred";
    xai_target tg;
    if (xai_target_parse(t, (const char *const *)e->classes, e->ncls, XAI_TARGET_ALLOW_TRUE, &tg) != XAI_OK)
        return xai_app_usage_error(app, "%s", xai_last_error());
    e->target_mode = (int)tg.kind; /* 0 pred, 1 true, 2 a class */
    e->target_class = tg.cls;
    e->figures = o->figures;
    e->save_input = o->save_input;
    snprintf(e->options, sizeof e->options, "method=%s composite=%s target=%s figures=%d start=%s", e->desc,
             e->cfg.composite ? e->cfg.composite : "default", t, e->figures, o->start ? o->start : "default");
    return XAI_EXIT_OK;
}

/* The explained cycles of one group: every cycle that is part of a model sample. */
typedef struct {
    int64_t n;              /* cycles */
    int64_t *idx;           /* [n] indices into the cycles, in their order */
    float *rel;             /* [n][channels][101] */
    int *pred, *tgt;        /* [n] of the cycle's sample */
    float *logit;           /* [n][classes] */
    int64_t correct, labelled; /* over samples */
} explained;

static void explained_free(explained *x)
{
    free(x->idx);
    free(x->rel);
    free(x->pred);
    free(x->tgt);
    free(x->logit);
}

/* Per-sample targets: the prediction, the trial's label (an error when it is no class of
 * the model, rather than falling back to the prediction) or a fixed class. */
static int sample_targets(xai_app *app, const explainer *e, const gait_trial *tr, const xai_gait_cycles *cy,
                          const int64_t *a, int64_t ns, int *lab, int *tg)
{
    for (int64_t i = 0; i < ns; i++) {
        const char *l = gait_label_of(&tr[cy->trial[a[i]]], e->condition);
        lab[i] = -1;
        for (int k = 0; k < e->ncls; k++)
            if (!strcmp(e->classes[k], l))
                lab[i] = k;
        if (e->target_mode == 1 && lab[i] < 0)
            return xai_app_fail(app, tr[cy->trial[a[i]]].path, "--target true: its %s '%s' is not a class of the "
                                "model (use pred or a class name)", e->condition ? "condition" : "subject", l);
        tg[i] = e->target_mode == 0 ? -1 : e->target_mode == 1 ? lab[i] : e->target_class;
    }
    return 0;
}

/* Scatter the samples' relevance back to their cycles (left block to the left cycle, right
 * block to the right one), keeping the cycles' order. */
static int scatter(const explainer *e, const xai_gait_cycles *cy, const int64_t *a, const int64_t *b, int64_t ns,
                   const float *r, const xai_explain_result *res, explained *out)
{
    size_t per = (size_t)xai_gait_pre_channels(&e->pre) * XAI_GAIT_NPTS, ncls = (size_t)e->ncls;
    int64_t *from = malloc((size_t)cy->n * sizeof(int64_t));
    out->idx = malloc((size_t)cy->n * sizeof(int64_t));
    out->rel = malloc((size_t)cy->n * per * sizeof(float));
    out->pred = malloc((size_t)cy->n * sizeof(int));
    out->tgt = malloc((size_t)cy->n * sizeof(int));
    out->logit = malloc((size_t)cy->n * ncls * sizeof(float));
    if (!from || !out->idx || !out->rel || !out->pred || !out->tgt || !out->logit) {
        free(from);
        return -1;
    }
    for (int64_t c = 0; c < cy->n; c++)
        from[c] = -1;
    for (int64_t i = 0; i < ns; i++) {
        from[a[i]] = 2 * i;
        if (b[i] >= 0)
            from[b[i]] = 2 * i + 1;
    }
    for (int64_t c = 0; c < cy->n; c++) {
        if (from[c] < 0)
            continue;
        int64_t i = from[c] / 2, k = out->n++;
        const float *lg = res->logits + (size_t)i * ncls;
        int best = 0;
        for (int q = 1; q < e->ncls; q++)
            if (lg[q] > lg[best])
                best = q;
        out->idx[k] = c;
        memcpy(out->rel + (size_t)k * per, r + ((size_t)i * (e->pre.paired ? 2 : 1) + (size_t)(from[c] % 2)) * per,
               per * sizeof(float));
        memcpy(out->logit + (size_t)k * ncls, lg, ncls * sizeof(float));
        out->pred[k] = best;
        out->tgt[k] = res->target[i];
    }
    free(from);
    return 0;
}

/* The samples as the model saw them, PREFIX_desc-D_input.npy, for xai-evaluate. 0 or -1 (reported). */
static int save_inputs(xai_app *app, const explainer *e, const char *prefix, int64_t ns, const float *x)
{
    int md;
    const int64_t *ms = xai_model_input_shape(e->m, &md);
    int64_t shp[XAI_MAX_DIMS + 1] = {ns};
    for (int d = 0; d < md; d++)
        shp[d + 1] = ms[d];
    char *path = xai_app_strdup_printf("%s_desc-%s_input.npy", prefix, e->desc);
    int rc = path && xai_npy_save(path, md + 1, shp, x) == XAI_OK ? 0 : -1;
    if (rc)
        xai_app_fail(app, path ? path : prefix, "%s", path ? xai_last_error() : "out of memory");
    free(path);
    return rc;
}

static int explain_cycles(xai_app *app, explainer *e, const gait_trial *tr, const xai_gait_cycles *cy,
                          const char *prefix, explained *out)
{
    memset(out, 0, sizeof *out);
    int64_t *a = NULL, *b = NULL;
    int64_t ns = xai_gait_samples(&e->pre, cy, &a, &b);
    size_t per = (size_t)xai_gait_pre_inputs(&e->pre) * XAI_GAIT_NPTS;
    float *x = malloc((size_t)(ns > 0 ? ns : 1) * per * sizeof(float));
    float *r = malloc((size_t)(ns > 0 ? ns : 1) * per * sizeof(float));
    int *lab = malloc((size_t)(ns > 0 ? ns : 1) * sizeof(int)), *tg = malloc((size_t)(ns > 0 ? ns : 1) * sizeof(int));
    xai_explain_result res;
    memset(&res, 0, sizeof res);
    int rc = -1;
    if (ns < 0 || !x || !r || !lab || !tg) {
        xai_app_fail(app, prefix, "out of memory");
        goto done;
    }
    if (ns == 0) { /* the caller skips the trial (or subject) and goes on */
        int64_t nl = 0;
        for (int64_t i = 0; i < cy->n; i++)
            nl += cy->side[i][0] == 'L';
        xai_error_set(XAI_EINVAL, "no left cycle with a right cycle starting inside it (%lld Left, %lld Right "
                      "cycles; the model takes both sides)", (long long)nl, (long long)(cy->n - nl));
        rc = 1;
        goto done;
    }
    for (int64_t i = 0; i < ns; i++)
        xai_gait_input(&e->pre, cy, a[i], b[i], x + (size_t)i * per);
    if (sample_targets(app, e, tr, cy, a, ns, lab, tg) != 0)
        goto done;
    xai_explain_config cfg = e->cfg;
    cfg.targets = tg;
    if (xai_explain(e->m, &cfg, ns, x, r, &res) != XAI_OK) {
        xai_app_fail(app, prefix, "%s", xai_last_error());
        goto done;
    }
    if (e->save_input && save_inputs(app, e, prefix, ns, x) != 0)
        goto done;
    if (scatter(e, cy, a, b, ns, r, &res, out) != 0) {
        xai_app_fail(app, prefix, "out of memory");
        goto done;
    }
    for (int64_t i = 0; i < ns; i++)
        if (lab[i] >= 0) {
            const float *lg = res.logits + (size_t)i * (size_t)e->ncls;
            int best = 0;
            for (int q = 1; q < e->ncls; q++)
                if (lg[q] > lg[best])
                    best = q;
            out->labelled++;
            out->correct += best == lab[i];
        }
    rc = 0;
done:
    xai_explain_result_free(&res);
    free(a);
    free(b);
    free(x);
    free(r);
    free(lab);
    free(tg);
    return rc;
}

/* The relevance sidecar: method, targets, and the class scores each map explains (the
 * logit of the explained class; with the one-hot start a negative score does not flip the
 * map, with --start logit it does). */
static char *sidecar_text(const explainer *e, const explained *x, json_t *sources, json_t *in_sample)
{
    json_t *pa = json_array(), *ta = json_array(), *sc = json_array(), *lg = json_array();
    for (int64_t i = 0; i < x->n; i++) {
        json_array_append_new(pa, json_string(e->classes[x->pred[i]]));
        json_array_append_new(ta, json_string(e->classes[x->tgt[i]]));
        json_array_append_new(sc, json_real(x->logit[(size_t)i * (size_t)e->ncls + (size_t)x->tgt[i]]));
        json_t *row = json_array();
        for (int k = 0; k < e->ncls; k++)
            json_array_append_new(row, json_real(x->logit[(size_t)i * (size_t)e->ncls + (size_t)k]));
        json_array_append_new(lg, row);
    }
    json_t *o = json_object();
    json_object_set_new(o, "Description", json_string("xai-gait relevance of time-normalised gait cycles"));
    json_object_set(o, "Sources", sources);
    json_object_set_new(o, "ModelSHA256", json_string(e->sha));
    json_object_set_new(o, "Method", json_string(xai_method_name(e->cfg.method)));
    json_object_set_new(o, "Composite", json_string(e->cfg.composite ? e->cfg.composite : "epsilon-plus-flat"));
    json_object_set_new(o, "Start", json_string(e->cfg.init == XAI_INIT_LOGIT ? "logit" : "onehot"));
    json_object_set_new(o, "TargetMode", json_string(e->target_mode == 0 ? "pred" : e->target_mode == 1 ? "true" : "class"));
    json_object_set_new(o, "Predicted", pa);
    json_object_set_new(o, "Target", ta);
    json_object_set_new(o, "TargetScore", sc);
    json_object_set_new(o, "ClassNames", json_array());
    for (int k = 0; k < e->ncls; k++)
        json_array_append_new(json_object_get(o, "ClassNames"), json_string(e->classes[k]));
    json_object_set_new(o, "Logits", lg);
    json_object_set(o, "InSampleTrials", in_sample);
    json_object_set_new(o, "Accuracy", x->labelled ? json_real((double)x->correct / (double)x->labelled) : json_null());
    char *pt = xai_gait_pre_to_json(&e->pre);
    json_object_set_new(o, "Preprocessing", pt ? json_loads(pt, 0, NULL) : json_null());
    free(pt);
    char *t = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return t;
}

/* The trials of cy that the model was trained on (by file name), each warned about: their
 * maps show what the model fitted, not what generalises. */
static json_t *in_sample_trials(xai_app *app, const explainer *e, const gait_trial *tr, const xai_gait_cycles *cy)
{
    json_t *out = json_array();
    for (int64_t i = 0; e->trained && i < cy->n; i++) {
        if (i > 0 && cy->trial[i] == cy->trial[i - 1])
            continue;
        const char *p = tr[cy->trial[i]].path, *b = strrchr(p, '/');
        b = b ? b + 1 : p;
        for (size_t k = 0; k < json_array_size(e->trained); k++) {
            const char *name = json_string_value(json_array_get(e->trained, k));
            if (!name || strcmp(b, name))
                continue;
            xai_app_log(app, 1, "warning: %s: the model was trained on this trial; its maps are in-sample "
                        "(explain held-out trials)", p);
            json_array_append_new(out, json_string(p));
            break;
        }
    }
    return out;
}

/* Explain the cycles of cy and write the outputs under prefix. *correct counts samples whose
 * prediction equals the trial's label, *labelled those whose label is a model class.
 * 0, -1 (reported), or 1 when the cycles give no model sample (message in xai_last_error()). */
int explain_group(xai_app *app, explainer *e, const gait_trial *tr, const xai_gait_cycles *cy, const char *prefix,
                         const char *title, json_t *sources, gait_chan_summary *summary, int64_t *correct,
                         int64_t *labelled)
{
    explained x;
    int r = explain_cycles(app, e, tr, cy, prefix, &x);
    if (r != 0) {
        explained_free(&x);
        return r;
    }
    *correct = x.correct;
    *labelled = x.labelled;
    json_t *ins = in_sample_trials(app, e, tr, cy);
    char *et = sidecar_text(e, &x, sources, ins);
    json_decref(ins);
    gait_group g = {&e->pre, tr, cy, x.idx, x.n, x.rel, e->desc};
    int rc = et && gait_write_tables(app, &g, prefix, et, summary) == 0 ? 0 : -1;
    if (rc == 0 && e->figures) {
        char *paths[4];
        gait_output_paths(prefix, e->desc, paths);
        rc = gait_plot_grid(app, &g, paths[3], title);
        if (rc == 0)
            rc = xai_app_write_sidecar(app, paths[3], et);
        for (int i = 0; i < 4; i++)
            free(paths[i]);
    }
    free(et);
    explained_free(&x);
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
        for (int k = 0; k < 4; k++)
            free(paths[k]);
        free(prefix);
        if (bad)
            goto done;
    }
    if (xai_bids_write_dataset_description(app, o->output, PROG) != 0)
        goto done;
    for (int i = 0; i < ntr; i++) {
        xai_gait_cycles cy;
        memset(&cy, 0, sizeof cy);
        int gaps = 0;
        if (xai_gait_extract(&e.pre, tr[i].path, i, &cy, &gaps) != XAI_OK) {
            xai_app_fail(app, tr[i].path, "%s; trial skipped", xai_last_error());
            nfailed++;
            xai_gait_cycles_free(&cy);
            continue;
        }
        if (gaps)
            xai_app_log(app, 1, "%s: %d cycle(s) with gaps skipped", tr[i].path, gaps);
        const char *b = strrchr(tr[i].path, '/');
        b = b ? b + 1 : tr[i].path;
        char *prefix = xai_app_strdup_printf("%s/%.*s", o->output, (int)strlen(b) - 4, b);
        json_t *src = json_array();
        json_array_append_new(src, json_string(tr[i].path));
        int64_t ok = 0, nl = 0;
        int r = explain_group(app, &e, tr, &cy, prefix, b, src, NULL, &ok, &nl);
        json_decref(src);
        free(prefix);
        if (r == 1) {
            xai_app_fail(app, tr[i].path, "%s; trial skipped", xai_last_error());
            nfailed++;
            r = 0;
        } else if (r == 0) {
            if (nl)
                xai_app_log(app, 1, "%s: %lld cycles (%d with gaps skipped), accuracy %.3f", tr[i].path,
                            (long long)cy.n, gaps, (double)ok / (double)nl);
            else
                xai_app_log(app, 1, "%s: %lld cycles (%d with gaps skipped)", tr[i].path, (long long)cy.n, gaps);
        }
        xai_gait_cycles_free(&cy);
        if (r != 0)
            goto done;
    }
    rc = nfailed == ntr ? XAI_EXIT_DATA : nfailed ? XAI_EXIT_PARTIAL : XAI_EXIT_OK;
done:
    gait_trials_free(tr, ntr);
    explainer_free(&e);
    return rc;
}

