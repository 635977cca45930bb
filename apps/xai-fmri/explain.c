/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * explain.c - xai-fmri explain: one run through a model, its relevance written as BIDS
 * derivatives (names, overwrite rule, provenance here; the work in xai/domain-fmri.h).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmri.h"
#include "xai/domain.h"

void namer_init(namer *nm, const char *out, const char *bold)
{
    memset(nm, 0, sizeof *nm);
    nm->bids = xai_bids_parse(bold, &nm->b) == 0 && xai_bids_get(&nm->b, "sub") != NULL;
    if (nm->bids) {
        const char *ses = xai_bids_get(&nm->b, "ses");
        snprintf(nm->dir, sizeof nm->dir, "%s/sub-%s%s%s/func", out, xai_bids_get(&nm->b, "sub"),
                 ses ? "/ses-" : "", ses ? ses : "");
        snprintf(nm->figdir, sizeof nm->figdir, "%s/sub-%s/figures", out, xai_bids_get(&nm->b, "sub"));
        return;
    }
    const char *base = strrchr(bold, '/');
    base = base ? base + 1 : bold;
    snprintf(nm->stem, sizeof nm->stem, "%s", base);
    char *dot = strstr(nm->stem, ".nii");
    if (dot)
        *dot = 0;
    size_t l = strlen(nm->stem);
    if (l > 5 && !strcmp(nm->stem + l - 5, "_bold"))
        nm->stem[l - 5] = 0;
    snprintf(nm->dir, sizeof nm->dir, "%s", out);
    snprintf(nm->figdir, sizeof nm->figdir, "%s/figures", out);
}

void namer_path(const namer *nm, int fig, const char *desc, const char *suffix, const char *ext, char *buf,
                size_t len)
{
    char name[1024];
    if (nm->bids) {
        xai_bids_name b = nm->b;
        xai_bids_set(&b, "desc", desc);
        xai_bids_format(&b, suffix, ext, name, sizeof name);
    } else {
        snprintf(name, sizeof name, "%s_desc-%s_%s%s", nm->stem, desc, suffix, ext);
    }
    int w = snprintf(buf, len, "%s/%s", fig ? nm->figdir : nm->dir, name);
    if (w < 0 || (size_t)w >= len)
        buf[0] = 0; /* never a truncated name */
}

/* Remove the figure, func and session/subject folders of a namer where a failure left them
 * empty (rmdir refuses folders that hold anything). */
void remove_empty_dirs(const namer *nm)
{
    rmdir(nm->figdir);
    char d[sizeof nm->dir];
    snprintf(d, sizeof d, "%s", nm->dir);
    while (rmdir(d) == 0) {
        char *slash = strrchr(d, '/');
        if (!slash)
            break;
        *slash = '\0';
        const char *base = strrchr(d, '/') ? strrchr(d, '/') + 1 : d;
        if (strncmp(base, "sub-", 4) && strncmp(base, "ses-", 4))
            break; /* never the output root */
    }
}

/* "lrp" + the class name's letters and digits, first letter upper case. */
static void class_desc(const char *name, char *buf, size_t len)
{
    size_t k = snprintf(buf, len, "lrp");
    int first = 1;
    for (const char *s = name; *s && k + 1 < len; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')) {
            buf[k++] = (char)(first && *s >= 'a' && *s <= 'z' ? *s - 32 : *s);
            first = 0;
        }
    buf[k] = 0;
}

/* Every output path of one run. */
typedef struct {
    namer nm;
    char p4d[4608], pmean[4608], pts[4608], pin[4608];
    char pcls[XAI_FMRI_MAX_CLASSES][4608], ppng[XAI_FMRI_MAX_CLASSES][4608];
    const char *cls[XAI_FMRI_MAX_CLASSES], *png[XAI_FMRI_MAX_CLASSES];
} out_paths;

/* Name every output and refuse existing ones (exit 2) before any work. */
static int name_outputs(opts *o, const char *out, const char *bold, const xai_fmri_classes *cls, out_paths *p)
{
    namer_init(&p->nm, out, bold);
    namer_path(&p->nm, 0, "lrp", "bold", ".nii.gz", p->p4d, sizeof p->p4d);
    namer_path(&p->nm, 0, "lrp", "statmap", ".nii.gz", p->pmean, sizeof p->pmean);
    namer_path(&p->nm, 0, "lrp", "timeseries", ".tsv", p->pts, sizeof p->pts);
    namer_path(&p->nm, 0, "input", "bold", ".npy", p->pin, sizeof p->pin);
    for (int c = 0; c < cls->n; c++) {
        char d[96];
        class_desc(cls->name[c], d, sizeof d);
        namer_path(&p->nm, 0, d, "statmap", ".nii.gz", p->pcls[c], sizeof p->pcls[c]);
        namer_path(&p->nm, 1, d, "bold", ".png", p->ppng[c], sizeof p->ppng[c]);
        p->cls[c] = p->pcls[c];
        p->png[c] = p->ppng[c];
    }
    int refuse = (!o->no4d && xai_app_check_output(&o->app, p->p4d)) || xai_app_check_output(&o->app, p->pmean) ||
                 xai_app_check_output(&o->app, p->pts);
    for (int c = 0; c < cls->n && !refuse; c++)
        refuse = xai_app_check_output(&o->app, p->pcls[c]) || xai_app_check_output(&o->app, p->ppng[c]);
    return refuse ? XAI_EXIT_USAGE : 0;
}

/* A model whose training runs failed the event-timing check says so on every use; with
 * --strict it is refused (exit 4). */
static int timing_warning(const opts *o, const xai_model *m, const char *model_path)
{
    const char *txt = xai_model_metadata(m, "xai_timing");
    json_t *j = txt ? json_loads(txt, 0, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(j, "message"));
    int rc = 0;
    if (json_is_true(json_object_get(j, "warning")) && o->strict) {
        xai_app_fail(&o->app, model_path, "strict: in its training runs, %s", msg ? msg : "the events appear to be off");
        rc = XAI_EXIT_STRICT;
    } else if (json_is_true(json_object_get(j, "warning")))
        xai_app_log(&o->app, 0, "warning: %s: in its training runs, %s", model_path,
                    msg ? msg : "the events appear to be off");
    json_decref(j);
    return rc;
}

/* The verdicts of the model's card (not above chance, a class never predicted, losing to the
 * baseline): a warning each, or with --strict an error each and exit 4. */
static int card_warnings(const opts *o, const xai_model *m, const char *model_path)
{
    xai_card *card = NULL;
    char *text = NULL;
    int count = 0;
    if (xai_card_from_model(m, &card) != XAI_OK || xai_card_warnings(card, &text, &count) != XAI_OK)
        count = 0; /* a model without a card has no verdicts */
    for (const char *t = text; count && t && *t;) {
        const char *e = strchr(t, '\n');
        int n = e ? (int)(e - t) : (int)strlen(t);
        if (n && o->strict)
            xai_app_fail(&o->app, model_path, "strict: %.*s", n, t);
        else if (n)
            xai_app_log(&o->app, 0, "warning: %s: %.*s", model_path, n, t);
        t += n + (e ? 1 : 0);
    }
    xai_free(text);
    xai_card_free(card);
    return count && o->strict ? XAI_EXIT_STRICT : 0;
}

/* The model's record, the run loaded its way, the checks and the explain-time mask. */
int prepare(opts *o, const xai_model *m, const char *model_path, const char *bold, const char *events,
                   int ctx_trained, xai_fmri_record *rec, xai_fmri_run *run, uint8_t **emask)
{
    if (xai_fmri_record_read(m, model_path, o->lag, rec) != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    if (rec->mask_file && !o->mask)
        return xai_app_fail(&o->app, model_path, "the model was trained with --mask; give the mask of this run "
                                                 "with --mask (preprocessing must match)");
    int rc = 0;
    if (!ctx_trained && !strcmp(o->warned_model, model_path)) /* a model explaining several runs warns once */
        rc = o->warned_rc;
    else if (!ctx_trained) {
        rc = timing_warning(o, m, model_path);
        if (rc == 0)
            rc = card_warnings(o, m, model_path);
        snprintf(o->warned_model, sizeof o->warned_model, "%s", model_path);
        o->warned_rc = rc;
    }
    if (rc)
        return rc;
    if (!rec->mask_file && o->mask)
        xai_app_log(&o->app, 1, "warning: the model was trained with the automatic mask; using %s instead", o->mask);
    xai_nifti *mask = NULL;
    int nr = 0;
    rc = load_mask(o, &mask);
    if (rc == 0 && rec->samples != XAI_FMRI_SAMPLES_VOLUMES && !events)
        rc = xai_app_usage_error(&o->app, "%s: the model takes one sample per trial (%s): give the run's --events",
                                 model_path, xai_fmri_samples_name(rec->samples));
    if (rc == 0)
        rc = load_runs(o, &bold, &events, NULL, 1, &(run_prep){rec->lag, rec->detrend, rec->fwhm_mm, rec->samples},
                       &rec->cls, run, &nr, 1);
    if (rc == 0)
        say_censored(o, run, nr);
    if (rc == 0 && (xai_fmri_record_check(rec, m, run, model_path) != XAI_OK ||
                    xai_fmri_explain_mask(m, run, mask, o->mask, rec->auto_frac, emask) != XAI_OK))
        rc = xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    xai_nifti_close(mask);
    return rc;
}

/* The explanation settings: method, composite, target, volumes per sweep. */
int explain_config(opts *o, const xai_fmri_record *rec, int64_t nv, xai_explain_config *cfg)
{
    xai_target tg;
    if (xai_target_parse(o->target, (const char *const *)rec->cls.name, rec->cls.n, 0, &tg) != XAI_OK)
        return xai_app_usage_error(&o->app, "%s", xai_last_error());
    int64_t B = o->ebatch;
    if (B <= 0) { /* auto: about 128 Ki voxels per sweep keeps the workspace small */
        B = 131072 / (nv > 0 ? nv : 1);
        B = B < 1 ? 1 : B > 16 ? 16 : B;
    }
    xai_explain_config_init(cfg);
    cfg->method = XAI_METHOD_LRP;
    if (o->method && xai_method_parse(o->method, &cfg->method) != XAI_OK)
        return xai_app_usage_error(&o->app, "--method: %s", xai_last_error());
    if (o->composite)
        cfg->composite = o->composite;
    cfg->epsilon = (float)o->epsilon;
    cfg->gamma = (float)o->gamma;
    cfg->batch = B;
    cfg->layer_sums = 0;
    cfg->target = tg.cls; /* -1: the predicted class */
    xai_fmri_stable_lrp(rec, o->composite != NULL, cfg);
    return 0;
}

/* CommandLine, Version and DateTime of this invocation (a JSON object). */
json_t *provenance_json(const opts *o)
{
    json_t *b = json_object();
    json_object_set_new(b, "CommandLine", json_string(o->app.command_line ? o->app.command_line : ""));
    json_object_set_new(b, "Version", json_string(o->app.version ? o->app.version : ""));
    json_object_set_new(b, "DateTime", json_string(o->app.datetime));
    return b;
}

/* The sidecar members every output of the run shares: provenance and settings. */
static char *common_json(const opts *o, const xai_model *m, const xai_fmri_record *rec, const xai_explain_config *cfg,
                         const char *model_path, const char *bold, const explain_ctx *ctx)
{
    char sha[65] = "";
    xai_sha256_file(model_path, sha);
    json_t *b = provenance_json(o);
    json_object_set_new(b, "Sources", json_pack("[s]", ctx && ctx->source ? ctx->source : bold));
    json_object_set_new(b, "ModelSHA256", json_string(sha));
    json_object_set_new(b, "Model", json_string(model_path));
    json_object_set_new(b, "Method", json_string(xai_method_name(cfg->method)));
    if (cfg->method == XAI_METHOD_LRP)
        json_object_set_new(b, "Rule", json_string(cfg->composite ? cfg->composite : "epsilon-plus-flat"));
    json_object_set_new(b, "Parameters", json_pack("{s:f,s:f}", "epsilon", o->epsilon, "gamma", o->gamma));
    json_object_set_new(b, "Target", json_string(cfg->target >= 0 ? rec->cls.name[cfg->target] : "pred"));
    json_object_set_new(b, "ClassNames", json_loads(xai_model_metadata(m, "class_names"), 0, NULL));
    json_object_set_new(b, "Preprocessing", json_loads(rec->json, 0, NULL));
    json_object_set_new(b, "Units", json_string("arbitrary"));
    const char *timing = xai_model_metadata(m, "xai_timing"); /* the event-timing check of its training runs */
    if (timing)
        json_object_set_new(b, "EventTiming", json_loads(timing, 0, NULL));
    if (ctx && ctx->held_out >= 0) { /* out of fold: the model never saw this run */
        json_object_set_new(b, "HeldOut", json_boolean(ctx->held_out));
        json_object_set_new(b, "TrainAccuracy", isnan(ctx->train_acc) ? json_null() : json_real(ctx->train_acc));
    }
    if (ctx && ctx->selection)
        json_object_set_new(b, "ModelSelection", json_string(ctx->selection));
    char *s = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(b);
    return s;
}

void explain_progress(void *ud, int64_t done, int64_t total)
{
    (void)total;
    xai_app_progress_step(ud, done, NULL);
}

/* Explain the prepared run and write its outputs. */
static int explain_write(opts *o, const xai_model *m, const char *model_path, const char *bold,
                         const xai_fmri_record *rec, xai_fmri_run *run, const uint8_t *emask,
                         const xai_explain_config *cfg, const out_paths *p, const explain_ctx *ctx)
{
    xai_fmri_maps mp;
    xai_app_progress_begin(&o->app, "explain", run->nt);
    xai_status st = xai_fmri_explain_run(m, cfg, run, emask, rec->cls.n, o->save_input, explain_progress, &o->app, &mp);
    xai_app_progress_end(&o->app);
    if (st != XAI_OK)
        return xai_app_fail(&o->app, model_path, "%s", xai_last_error());
    if (mp.nflag)
        xai_app_log(&o->app, 1, "warning: %s: %lld volume%s whose relevance sum departs from its start (the logit) "
                    "by more than a factor of 10 (see relevance_sum and relevance_start in the table); class maps "
                    "average L1-normalised maps", bold, (long long)mp.nflag, mp.nflag == 1 ? "" : "s");
    char descrip[96], *common = common_json(o, m, rec, cfg, model_path, bold, ctx);
    snprintf(descrip, sizeof descrip, "xai-fmri %s %s", XAI_FMRI_VERSION,
             cfg->method == XAI_METHOD_LRP ? (cfg->composite ? cfg->composite : "epsilon-plus-flat")
                                           : xai_method_name(cfg->method));
    xai_fmri_paths fp = {o->no4d ? NULL : p->p4d, p->pmean, p->pts, o->save_input ? p->pin : NULL, p->cls, p->png};
    int rc = 0;
    if (!common || xai_fmri_write_maps(&mp, run, emask, m, &rec->cls, &fp, common, descrip) != XAI_OK)
        rc = xai_app_fail(&o->app, NULL, "%s", common ? xai_last_error() : "out of memory");
    else if (mp.nlab)
        xai_app_log(&o->app, 1, "%s: accuracy %.3f on %lld labelled %s", bold, (double)mp.ncorrect / (double)mp.nlab,
                    (long long)mp.nlab, samples_word(rec->samples));
    free(common);
    xai_fmri_maps_free(&mp);
    return rc;
}

/* --concepts, before the plain pass turns the run's data into relevance. */
static int concepts_pass(opts *o, const xai_model *m, const char *model_path, const char *bold,
                         const xai_fmri_record *rec, const xai_fmri_run *run, const uint8_t *emask,
                         const xai_explain_config *cfg, const out_paths *p, const explain_ctx *ctx)
{
    if (cfg->method != XAI_METHOD_LRP)
        return xai_app_usage_error(&o->app, "--concepts needs --method lrp");
    char descrip[96], *common = common_json(o, m, rec, cfg, model_path, bold, ctx);
    snprintf(descrip, sizeof descrip, "xai-fmri %s CRP %.40s", XAI_FMRI_VERSION, o->cs.layer);
    fmri_concepts_in in = {bold, common, descrip, m, cfg, run, emask, &rec->cls, &p->nm, &o->cs};
    int rc = common ? fmri_concepts(o, &in) : xai_app_fail(&o->app, NULL, "out of memory");
    free(common);
    return rc;
}

int explain_run(opts *o, const xai_model *m, const char *model_path, const char *bold, const char *events,
                const char *out, const explain_ctx *ctx)
{
    xai_fmri_record rec = {0};
    xai_fmri_run run = {0};
    uint8_t *emask = NULL;
    xai_explain_config cfg;
    out_paths *p = calloc(1, sizeof *p);
    int made = 0, rc = p ? prepare(o, m, model_path, bold, events, ctx && ctx->fresh, &rec, &run, &emask)
                         : xai_app_fail(&o->app, NULL, "out of memory");
    if (rc == 0)
        rc = explain_config(o, &rec, xai_fmri_run_nv(&run), &cfg);
    if (rc == 0)
        rc = name_outputs(o, out, bold, &rec.cls, p);
    if (rc == 0 && (xai_bids_write_dataset_description(&o->app, out, PROG) || xai_app_mkdirs(&o->app, p->nm.dir) ||
                    xai_app_mkdirs(&o->app, p->nm.figdir)))
        rc = XAI_EXIT_DATA;
    if (rc == 0) {
        made = 1; /* a failed run removes the folders it made when they are empty */
        xai_app_sweep_orphans(&o->app, out); /* a resumed participant job: orphans of a killed one */
        xai_app_sweep_orphans(&o->app, p->nm.dir);
        xai_app_sweep_orphans(&o->app, p->nm.figdir);
        if (o->concepts)
            rc = concepts_pass(o, m, model_path, bold, &rec, &run, emask, &cfg, p, ctx);
        if (rc == 0)
            rc = explain_write(o, m, model_path, bold, &rec, &run, emask, &cfg, p, ctx);
    }
    if (rc && made)
        remove_empty_dirs(&p->nm);
    free(p);
    free(emask);
    xai_fmri_run_free(&run);
    xai_fmri_record_free(&rec);
    return rc;
}

int cmd_explain(opts *o)
{
    if (!o->model)
        return xai_app_usage_error(&o->app, "explain needs --model");
    if (o->nlabels)
        return xai_app_usage_error(&o->app, "explain takes --events (BIDS events.tsv) for the labels of its run; "
                                            "--labels tables are for train (explain a run's volumes with --events, "
                                            "or without labels)");
    if (o->nbold != 1)
        return xai_app_usage_error(&o->app, "explain needs exactly one --bold");
    if (!o->out)
        return xai_app_usage_error(&o->app, "explain needs -o OUTDIR");
    if (o->nevents > 1)
        return xai_app_usage_error(&o->app, "explain takes at most one --events");
    xai_model *m = NULL;
    if (xai_model_load_onnx(o->model, NULL, &m) != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    int rc = explain_chosen(o, m, o->model, o->bold[0], o->nevents ? o->events[0] : NULL, o->out, NULL);
    xai_model_free(m);
    return rc;
}

/* The kept training accuracy that xai-fmri records in a model (NaN: none). */
static double recorded_train_acc(const xai_model *m)
{
    const char *t = xai_model_metadata(m, "xai_training");
    json_t *j = t ? json_loads(t, 0, NULL) : NULL, *a = json_object_get(j, "train_acc");
    double v = json_is_number(a) ? json_number_value(a) : NAN;
    json_decref(j);
    return v;
}

int choose_model(opts *o, const xai_model *m, const char *model_path, const char *bold, xai_fmri_model_choice *c,
                 xai_model **fold, char *sel, size_t cap)
{
    *fold = NULL;
    if (xai_fmri_model_choose(m, model_path, bold, c) != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    if (c->fold > 0 && xai_model_load_onnx(c->path, NULL, fold) != XAI_OK) {
        xai_fmri_model_choice_free(c);
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    }
    xai_fmri_model_choice_text(c, sel, cap);
    if (c->held_out == 0) /* the leakage trap: a map of what the model memorised */
        xai_app_log(&o->app, 0, "warning: %s: %s (train with --cv to explain it out of fold)", bold, sel);
    else
        xai_app_log(&o->app, 1, "%s: %s", bold, sel);
    return 0;
}

int explain_chosen(opts *o, const xai_model *m, const char *model_path, const char *bold, const char *events,
                   const char *out, const char *source)
{
    xai_fmri_model_choice c;
    xai_model *fm = NULL;
    char sel[1024];
    int rc = choose_model(o, m, model_path, bold, &c, &fm, sel, sizeof sel);
    if (rc)
        return rc;
    const xai_model *use = fm ? fm : m;
    explain_ctx ctx = {source, c.held_out, recorded_train_acc(use), sel, 0};
    rc = explain_run(o, use, c.path, bold, events, out, &ctx);
    xai_model_free(fm);
    xai_fmri_model_choice_free(&c);
    return rc;
}
