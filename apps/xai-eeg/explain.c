/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * explain.c - xai-eeg explain (and the participant level): each recording's epochs after
 * the model's own pre-processing record, explained out of fold by the shared driver, and
 * written back in the native layout (formats/domain/eeg-write.c) with provenance.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eeg-app.h"
#include "xai/driver.h"
#include "xai/npy.h"
#include "xai/sidecar.h"

static void alnum_only(const char *in, char *out, size_t cap, int capitalise)
{
    size_t n = 0;
    for (; *in && n + 1 < cap; in++)
        if (isalnum((unsigned char)*in))
            out[n++] = *in;
    out[n] = '\0';
    if (capitalise && n)
        out[0] = (char)toupper((unsigned char)out[0]);
}

typedef struct {
    char *npy, *channels, *events, *topo;
    char **heat; /* one per class */
} out_names;

static void out_names_free(out_names *n, int nclass)
{
    free(n->npy);
    free(n->channels);
    free(n->events);
    free(n->topo);
    for (int c = 0; n->heat && c < nclass; c++)
        free(n->heat[c]);
    free(n->heat);
}

static int make_names(const char *outdir, const char *input, const char *desc, const xai_eeg_prep *p, out_names *n)
{
    memset(n, 0, sizeof *n);
    char *stem = eeg_stem_of(input);
    if (!stem)
        return -1;
    n->npy = xai_app_strdup_printf("%s/%s_desc-%s_relevance.npy", outdir, stem, desc);
    n->channels = xai_app_strdup_printf("%s/%s_desc-%s_channels.tsv", outdir, stem, desc);
    n->events = xai_app_strdup_printf("%s/%s_desc-%s_events.tsv", outdir, stem, desc);
    n->topo = xai_app_strdup_printf("%s/%s_desc-%s_topomap.png", outdir, stem, desc);
    n->heat = calloc((size_t)p->nclass, sizeof *n->heat);
    int ok = n->npy && n->channels && n->events && n->topo && n->heat;
    for (int c = 0; ok && c < p->nclass; c++) {
        char cls[64];
        alnum_only(p->classes[c], cls, sizeof cls, 1);
        n->heat[c] = xai_app_strdup_printf("%s/%s_desc-%s%s_heatmap.png", outdir, stem, desc, cls);
        ok = n->heat[c] != NULL;
    }
    free(stem);
    return ok ? 0 : -1;
}

/* every output and its sidecar must be writable before anything is written */
static int check_names(xai_app *app, const out_names *n, int nclass, int figures)
{
    const char *list[64];
    int k = 0;
    list[k++] = n->npy;
    list[k++] = n->channels;
    list[k++] = n->events;
    if (figures) {
        list[k++] = n->topo;
        for (int c = 0; c < nclass && k < 60; c++)
            list[k++] = n->heat[c];
    }
    for (int i = 0; i < k; i++) {
        if (xai_app_check_output(app, list[i]) != 0)
            return -1;
        char *sc = xai_app_sidecar_path(list[i]);
        int bad = !sc || xai_app_check_output(app, sc) != 0;
        free(sc);
        if (bad)
            return -1;
    }
    return 0;
}

int eeg_load_epochs(xai_app *app, const xai_eeg_prep *p, const char *input, xai_eeg_epochs *ep)
{
    xai_eeg_raw raw;
    if (xai_eeg_raw_load(input, &raw) != XAI_OK)
        return xai_app_fail(app, NULL, "%s", xai_last_error());
    xai_status st = xai_eeg_epochs_make(p, &raw, input, ep);
    xai_eeg_raw_free(&raw);
    if (st != XAI_OK)
        return xai_app_fail(app, NULL, "%s", xai_last_error());
    if (ep->dropped)
        xai_app_log(app, 0, "warning: %s: %lld epoch(s) dropped: their window leaves the recording", input,
                    (long long)ep->dropped);
    if (ep->n == 0)
        return xai_app_fail(app, input, "no epochs: none of the events %s%s occurs in the file",
                            p->nmap ? p->ev_keys[0] : "", p->nmap > 1 ? ", ..." : "");
    return XAI_EXIT_OK;
}

/* the sidecar members every output of one recording shares: provenance and settings */
static char *common_json(const xai_app *app, const opts *o, const xai_eeg_prep *p, const char *input,
                         const char *model_sha, const xai_driver_explain_options *eo, const char *start,
                         int out_of_sample)
{
    xai_sidecar *sc = NULL;
    char hex[65] = "", *rec = xai_eeg_prep_to_json(p), *text = NULL;
    xai_sha256_file(input, hex);
    xai_status st = rec ? xai_sidecar_new(&sc) : XAI_ENOMEM;
    const char *str[][2] = {
        {"CommandLine", app->command_line ? app->command_line : ""}, {"Version", app->version ? app->version : ""},
        {"DateTime", app->datetime}, {"ModelSHA256", model_sha}, {"Model", o->model},
        {"Method", xai_method_name(o->method)}, {"Target", o->dopt.target ? o->dopt.target : "pred"},
        {"Start", start}, {"SourceSHA256", hex},
        {"Normalisation", eo->normalise ? "each epoch's map scaled to sum |R| = 1" : "none"}};
    for (size_t i = 0; st == XAI_OK && i < sizeof str / sizeof str[0]; i++)
        st = xai_sidecar_set_string(sc, str[i][0], str[i][1]);
    if (st == XAI_OK && o->method == XAI_METHOD_LRP)
        st = xai_sidecar_set_string(sc, "Composite", eo->composite ? eo->composite : "epsilon-plus-flat");
    if (st == XAI_OK)
        st = eo->rules ? xai_sidecar_set_string(sc, "Rules", eo->rules) : xai_sidecar_set_null(sc, "Rules");
    if (st == XAI_OK) /* group summaries average only maps of models that never saw the recording */
        st = xai_sidecar_set_bool(sc, "OutOfSample", out_of_sample);
    if (st == XAI_OK)
        st = xai_sidecar_set_string_array(sc, "Sources", &input, 1);
    if (st == XAI_OK)
        st = xai_sidecar_set_string_array(sc, "Classes", (const char *const *)p->classes, (size_t)p->nclass);
    if (st == XAI_OK)
        st = xai_sidecar_set_json(sc, "Preprocessing", rec);
    if (st == XAI_OK)
        st = xai_sidecar_to_string(sc, &text);
    xai_sidecar_free(sc);
    free(rec);
    return st == XAI_OK ? text : NULL;
}

/* The epochs as the model saw them, next to the relevance file (.._relevance.npy -> .._input.npy). */
static int save_inputs(const xai_app *app, const char *rel_path, const xai_dataset *ds)
{
    size_t len = strlen(rel_path), sl = strlen("relevance.npy");
    if (len < sl)
        return xai_app_fail(app, rel_path, "unexpected output name"), -1;
    char *path = xai_app_strdup_printf("%.*sinput.npy", (int)(len - sl), rel_path);
    int64_t shape[XAI_DATASET_MAX_NDIM + 1] = {ds->n};
    for (int d = 0; d < ds->ndim; d++)
        shape[d + 1] = ds->shape[d];
    int rc = 0;
    if (!path || xai_npy_save(path, ds->ndim + 1, shape, ds->x) != XAI_OK)
        rc = (xai_app_fail(app, path ? path : rel_path, "%s", path ? xai_last_error() : "out of memory"), -1);
    free(path);
    return rc;
}

static int explain_one(xai_app *app, const opts *o, const xai_driver_set *set, const xai_eeg_prep *p,
                       const char *input, const out_names *names, const char *model_sha,
                       const xai_driver_explain_options *eo)
{
    xai_eeg_epochs ep = {0};
    xai_dataset ds = {0};
    xai_driver_explanation ex = {0};
    const char *kind = xai_card_get_string(xai_driver_set_card(set), "validation.group_kind");
    int miss = 0, rc = XAI_EXIT_DATA;
    int per_epoch = kind && !strcmp(kind, "trial");
    char *group = eeg_group_of(input, per_epoch ? "recording" : kind ? kind : "subject", &miss), *common = NULL;
    if (!group || eeg_load_epochs(app, p, input, &ep) != XAI_EXIT_OK)
        goto done;
    if (xai_eeg_epochs_dataset(p, &ep, group, per_epoch, &ds) != XAI_OK ||
        xai_driver_explain(set, &ds, eo, &ex) != XAI_OK) {
        xai_app_fail(app, input, "%s", xai_last_error());
        goto done;
    }
    if (ex.n_in_sample)
        xai_app_log(app, 0, "warning: %s: the model was trained on this recording's %s: the maps are not "
                    "out of sample", input, kind ? kind : "group");
    char desc[32];
    alnum_only(xai_method_name(o->method), desc, sizeof desc, 0);
    xai_eeg_maps mp = {p, ep.n, ex.rel, ex.logits, ep.y, ex.target, ex.pred, ep.onset_s, ep.sample, desc};
    xai_eeg_paths op = {names->npy, names->channels, names->events, o->figures ? names->topo : NULL,
                        o->figures ? (const char *const *)names->heat : NULL};
    if (!(common = common_json(app, o, p, input, model_sha, eo, ex.start, ex.n_in_sample == 0))) {
        xai_app_fail(app, input, "%s", xai_last_error());
        goto done;
    }
    if (xai_eeg_write_maps(&mp, &op, common) != XAI_OK) {
        xai_app_fail(app, NULL, "%s", xai_last_error());
        goto done;
    }
    if (o->save_input && save_inputs(app, names->npy, &ds) != 0)
        goto done;
    eeg_concepts_in ci = {input, names->npy, common, &o->cs, set, eo, &ex, ds.x};
    if (o->concepts && eeg_concepts(app, p, &ci) != XAI_EXIT_OK)
        goto done;
    for (int ch = 0; o->figures && ch < p->nch; ch++)
        if (xai_eeg_montage_find(p->channels[ch], NULL, NULL) != 0)
            xai_app_log(app, 1, "%s: channel %s has no 10-05 position: not in the topomap", input, p->channels[ch]);
    int64_t ncorrect = 0;
    for (int64_t i = 0; i < ep.n; i++)
        ncorrect += ex.pred[i] == ep.y[i];
    xai_app_log(app, 1, "%s: %lld epochs, accuracy %.3f", input, (long long)ep.n, (double)ncorrect / (double)ep.n);
    rc = XAI_EXIT_OK;
done:
    free(group);
    free(common);
    xai_driver_explanation_free(&ex);
    xai_dataset_free(&ds);
    xai_eeg_epochs_free(&ep);
    return rc;
}

/* --events at explain time: map other event names onto the model's classes */
static int remap_events(xai_app *app, const opts *o, xai_eeg_prep *p)
{
    xai_status st = xai_eeg_prep_remap_events(p, o->events);
    if (st == XAI_EINVAL)
        return xai_app_usage_error(app, "%s", xai_last_error());
    return st == XAI_OK ? XAI_EXIT_OK : xai_app_fail(app, o->model, "--events: %s", xai_last_error());
}

/* the model set and its EEG record (the card's preprocessing, or xai_preprocessing of old models) */
static int load_model(xai_app *app, const opts *o, xai_driver_set **set, xai_eeg_prep *p)
{
    if (xai_driver_set_load(o->model, NULL, set) != XAI_OK)
        return xai_app_fail(app, NULL, "%s", xai_last_error());
    char *rec = xai_card_get_json(xai_driver_set_card(*set), "preprocessing");
    xai_status st = rec ? xai_eeg_prep_from_json(rec, o->model, p) : XAI_EFORMAT;
    xai_free(rec);
    if (!rec)
        return xai_app_fail(app, o->model, "no EEG pre-processing record in the model card (preprocessing, or "
                            "xai_preprocessing in older models): train it with '" PROG " train'");
    if (st != XAI_OK)
        return xai_app_fail(app, NULL, "%s", xai_last_error());
    if (xai_eeg_prep_check_model(p, xai_driver_set_model(*set)) != XAI_OK)
        return xai_app_fail(app, o->model, "%s", xai_last_error());
    return XAI_EXIT_OK;
}

static int explain_setup(xai_app *app, const opts *o, const xai_driver_set *set, xai_driver_explain_options *eo)
{
    if (xai_app_driver_explain_setup(app, &o->dopt, xai_driver_set_card(set), eo) != 0)
        return XAI_EXIT_USAGE;
    if (o->composite && xai_composite_check(o->composite) != XAI_OK)
        return xai_app_usage_error(app, "--composite: %s", xai_last_error());
    eo->method = o->method;
    eo->composite = o->composite;
    eo->warn = xai_app_driver_warn;
    eo->warn_ud = app;
    return XAI_EXIT_OK;
}

static int prepare_names(xai_app *app, const opts *o, const xai_eeg_prep *p, out_names *names)
{
    char desc[32];
    if (o->method == XAI_METHOD_LRP)
        snprintf(desc, sizeof desc, "lrp");
    else
        alnum_only(xai_method_name(o->method), desc, sizeof desc, 0);
    for (int f = 0; f < o->ninputs; f++)
        if (make_names(o->outdirs ? o->outdirs[f] : o->output, o->inputs[f], desc, p, &names[f]) != 0)
            return xai_app_fail(app, NULL, "out of memory");
    for (int f = 0; f < o->ninputs; f++)
        for (int g = 0; g < f; g++)
            if (strcmp(names[f].npy, names[g].npy) == 0)
                return xai_app_usage_error(app, "%s and %s would write the same outputs", o->inputs[g], o->inputs[f]);
    if (xai_app_mkdirs(app, o->output) != 0)
        return XAI_EXIT_DATA;
    if (o->batch.slurm)
        return XAI_EXIT_OK; /* the array tasks make the rest */
    for (int f = 0; o->outdirs && f < o->ninputs; f++)
        if (xai_app_mkdirs(app, o->outdirs[f]) != 0)
            return XAI_EXIT_DATA;
    for (int f = 0; f < o->ninputs; f++)
        if (!o->batch.active && check_names(app, &names[f], p->nclass, o->figures) != 0)
            return XAI_EXIT_USAGE;
    char *dd = xai_app_strdup_printf("%s/dataset_description.json", o->output);
    FILE *probe = dd ? fopen(dd, "r") : NULL;
    if (probe)
        fclose(probe);
    free(dd);
    if (!probe && xai_bids_write_dataset_description(app, o->output, PROG) != 0)
        return XAI_EXIT_DATA;
    return XAI_EXIT_OK;
}

/* what explaining one recording needs */
typedef struct {
    xai_app *app;
    const opts *o;
    const xai_driver_set *set;
    const xai_eeg_prep *p;
    const out_names *names;
    char sha[65];
    const xai_driver_explain_options *eo;
} explain_ctx;

static int explain_item(void *ud, int f)
{
    explain_ctx *c = ud;
    return explain_one(c->app, c->o, c->set, c->p, c->o->inputs[f], &c->names[f], c->sha, c->eo);
}

static int run_all(explain_ctx *c)
{
    int nfail = 0, n = c->o->ninputs;
    xai_app_progress_begin(c->app, "explain", n);
    for (int f = 0; f < n; f++) {
        nfail += explain_item(c, f) != XAI_EXIT_OK;
        xai_app_progress_step(c->app, f + 1, c->o->inputs[f]);
    }
    xai_app_progress_end(c->app);
    return nfail == 0 ? XAI_EXIT_OK : nfail < n ? XAI_EXIT_PARTIAL : XAI_EXIT_DATA;
}

/* the batch form: each recording an item whose status file sits in OUT_DIR/.xai-status */
static int run_batch(explain_ctx *c)
{
    char **npy = calloc((size_t)c->o->ninputs + 1, sizeof *npy);
    if (!npy)
        return xai_app_fail(c->app, NULL, "out of memory");
    for (int f = 0; f < c->o->ninputs; f++)
        npy[f] = c->names[f].npy;
    eeg_batch b = c->o->batch;
    b.no_figures = !c->o->figures;
    int rc = eeg_batch_run(c->app, &b, c->o->output, c->o->model, c->o->inputs, npy, c->o->ninputs, explain_item, c);
    free(npy);
    return rc;
}

int eeg_prepare_model(xai_app *app, const opts *o, xai_driver_set **set, xai_eeg_prep *p,
                      xai_driver_explain_options *eo)
{
    int rc = load_model(app, o, set, p);
    if (rc == XAI_EXIT_OK && o->events)
        rc = remap_events(app, o, p);
    if (rc == XAI_EXIT_OK)
        rc = explain_setup(app, o, *set, eo);
    if (rc == XAI_EXIT_OK)
        rc = xai_app_driver_strict_exit(app, &o->dopt, *set, o->model);
    return rc;
}

int eeg_run_explain(xai_app *app, opts *o)
{
    if (!o->model || o->ninputs < 1 || !o->output)
        return xai_app_usage_error(app, "explain: need --model M.onnx, --edf FILE... and -o OUTDIR");
    xai_driver_set *set = NULL;
    xai_eeg_prep p = {0};
    out_names *names = calloc((size_t)o->ninputs, sizeof *names);
    xai_driver_explain_options eo;
    int rc = eeg_prepare_model(app, o, &set, &p, &eo);
    if (rc == XAI_EXIT_OK && !names)
        rc = xai_app_fail(app, NULL, "out of memory");
    if (rc == XAI_EXIT_OK)
        rc = prepare_names(app, o, &p, names);
    if (rc == XAI_EXIT_OK) {
        explain_ctx cx = {app, o, set, &p, names, "", &eo};
        xai_sha256_file(o->model, cx.sha);
        rc = o->batch.active ? run_batch(&cx) : run_all(&cx);
    }
    for (int f = 0; names && f < o->ninputs; f++)
        out_names_free(&names[f], p.nclass);
    free(names);
    xai_eeg_prep_free(&p);
    xai_driver_set_free(set);
    return rc;
}
