/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * study.c - xai-gait study: every subject of a study explained into OUT_DIR/sub-XX, a
 * done-marker per subject (model, options, input hashes, outputs) so that a rerun skips what
 * is unchanged and redoes the rest, temporaries of a killed run swept, and group tables.
 */
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "report-app.h"
#include "batch.h"
#include "explain.h"
#include "xai/card.h"
#include "xai/domain.h"
#include "xai/tsv.h"

/* ------------------------------------------------------------------ study */

static json_t *load_json(const char *path)
{
    json_error_t je;
    return json_load_file(path, 0, &je);
}

static int write_json(xai_app *app, const char *path, json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    int rc = s ? xai_app_write_atomic(app, path, s, strlen(s)) : -1;
    free(s);
    return rc;
}

/* the subject's marker is valid when model, options, inputs and outputs are unchanged */
static int marker_valid(const char *mpath, const char *out, const explainer *e, json_t *inputs)
{
    json_t *mk = load_json(mpath);
    if (!mk)
        return 0;
    const char *sha = json_string_value(json_object_get(mk, "ModelSHA256"));
    const char *op = json_string_value(json_object_get(mk, "Options"));
    int ok = sha && !strcmp(sha, e->sha) && op && !strcmp(op, e->options) &&
             json_equal(json_object_get(mk, "Inputs"), inputs);
    json_t *outs = json_object_get(mk, "Outputs");
    for (size_t i = 0; ok && i < json_array_size(outs); i++)
    {
        char *p = xai_app_strdup_printf("%s/%s", out, json_string_value(json_array_get(outs, i)));
        ok = p && gait_file_exists(p);
        free(p);
    }
    json_decref(mk);
    return ok;
}

/* Output folder policy: ours (same model and options) resumes; anything else needs --force.
 * Then the folder, its description, the sweep of a killed run's temporaries, the state file. */
static int study_folder(xai_app *app, const explainer *e, const char *out, const char *spath, const char *study)
{
    struct stat st;
    if (stat(out, &st) == 0) {
        json_t *sj = load_json(spath);
        const char *sha = json_string_value(json_object_get(sj, "ModelSHA256"));
        const char *op = json_string_value(json_object_get(sj, "Options"));
        int ours = sj && sha && !strcmp(sha, e->sha) && op && !strcmp(op, e->options);
        json_decref(sj);
        char *dd = xai_app_strdup_printf("%s/dataset_description.json", out);
        int nonempty = gait_file_exists(dd) || gait_file_exists(spath);
        free(dd);
        if (!ours && !app->force && nonempty)
            return xai_app_fail(app, out, "holds results of another model or other options; use --force to redo them");
    }
    if (xai_app_mkdirs(app, out) != 0 || xai_bids_write_dataset_description(app, out, PROG) != 0)
        return XAI_EXIT_DATA;
    xai_app_sweep_orphans(app, out);
    json_t *sj = json_pack("{s:s,s:s,s:s}", "ModelSHA256", e->sha, "Options", e->options, "Study", study);
    int r = write_json(app, spath, sj);
    json_decref(sj);
    return r == 0 ? XAI_EXIT_OK : XAI_EXIT_DATA;
}

/* The subject's trials with their SHA-256 (what the done-marker compares). */
static json_t *subject_inputs(const gait_trial *tr, int ntr, const char *sub)
{
    json_t *inputs = json_array();
    for (int i = 0; i < ntr; i++)
        if (!strcmp(tr[i].subject, sub)) {
            char hex[65] = "";
            if (xai_sha256_file(tr[i].path, hex) != 0)
                snprintf(hex, sizeof hex, "unreadable");
            json_array_append_new(inputs, json_pack("{s:s,s:s}", "path", tr[i].path, "sha256", hex));
        }
    return inputs;
}

/* An unchanged subject: report the trials that failed in the earlier run; their count. */
static int report_earlier_failures(xai_app *app, const char *mpath)
{
    json_t *mk = load_json(mpath);
    json_t *fl = json_object_get(mk, "FailedTrials");
    int nf = (int)json_array_size(fl);
    for (int f = 0; f < nf; f++) {
        json_t *ft = json_array_get(fl, (size_t)f);
        xai_app_fail(app, json_string_value(json_object_get(ft, "path")), "%s (from the earlier run; trial skipped)",
                     json_string_value(json_object_get(ft, "error")));
    }
    json_decref(mk);
    return nf;
}

typedef struct {
    int nfail, nskipped, ndone;
    int64_t cycles;
    double explain_s;
} study_stats;

/* The per-channel summary of a subject for its marker. */
static json_t *summary_json(const explainer *e, const gait_chan_summary *sum, int64_t ncycles)
{
    json_t *sa = json_array();
    for (int v = 0; ncycles > 0 && v < e->pre.nvars; v++)
        for (int j = 0; j < e->pre.ncomps; j++) {
            const gait_chan_summary *q = &sum[v * e->pre.ncomps + j];
            json_array_append_new(sa, json_pack("{s:s,s:s,s:f,s:f,s:i,s:f}", "variable", e->pre.vars[v], "component",
                                                xai_gait_component_names[e->pre.comps[j]], "abs_share",
                                                q->abs_share, "pos_share", q->pos_share, "peak_pct", q->peak_pct,
                                                "peak", q->peak));
        }
    return sa;
}

/* The subject's trials (shallow copies of the study's entries, in study order). */
static gait_trial *subject_trials(const gait_trial *tr, int ntr, const char *sub, int *n)
{
    gait_trial *st = malloc(sizeof *st * (size_t)(ntr > 0 ? ntr : 1));
    *n = 0;
    for (int i = 0; st && i < ntr; i++)
        if (!strcmp(tr[i].subject, sub))
            st[(*n)++] = tr[i];
    return st;
}

/* Explain one subject (each trial by the fold model that never saw its group) and write its
 * outputs and done-marker. 0 or -1 (reported). */
static int subject_run(xai_app *app, explainer *e, const gait_trial *tr, int ntr, const char *sub, const char *prefix,
                       const char *mpath, json_t *inputs, study_stats *ss)
{
    int nst = 0, r = 0;
    gait_trial *st = subject_trials(tr, ntr, sub, &nst);
    json_t *failed = json_array(), *outs = json_array(), *src = json_array();
    for (size_t k = 0; k < json_array_size(inputs); k++)
        json_array_append(src, json_object_get(json_array_get(inputs, k), "path"));
    gait_chan_summary sum[XAI_GAIT_MAX_VARS * 3 * 2];
    explain_ctx c = {.app = app, .tr = st, .ntr = nst, .prefix = prefix, .title = sub, .sources = src,
                     .failed = failed};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = st ? explain_group(e, &c, sum) : (xai_app_fail(app, sub, "out of memory"), -1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ss->explain_s += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    ss->nfail += c.nfailed;
    if (r == 1) { /* no model sample: the subject's trials are reported, the study goes on */
        char err[1024];
        snprintf(err, sizeof err, "%s", xai_last_error());
        xai_app_fail(app, sub, "%s; subject skipped", err);
        json_array_append_new(failed, json_pack("{s:s,s:s}", "path", sub, "error", err));
        ss->nfail++;
    }
    if (r == 0) {
        char *paths[4];
        gait_output_paths(prefix, e->desc, paths);
        for (int k = 0; k < (e->figures ? 4 : 3); k++) { /* relative to OUT_DIR, so shards agree */
            char *rel = xai_app_strdup_printf("%s/%s", sub, strrchr(paths[k], '/') + 1);
            json_array_append_new(outs, json_string(rel));
            free(rel);
        }
        for (int k = 0; k < 4; k++)
            free(paths[k]);
        ss->cycles += c.ncycles;
    }
    if (r >= 0) {
        json_t *mk = json_pack("{s:s,s:s,s:s,s:O,s:O,s:O,s:I,s:i,s:o,s:o}", "Subject", sub, "ModelSHA256", e->sha,
                               "Options", e->options, "Inputs", inputs, "FailedTrials", failed, "Outputs", outs,
                               "Cycles", (json_int_t)c.ncycles, "GapCycles", c.gaps, "Accuracy",
                               c.labelled ? json_real((double)c.correct / (double)c.labelled) : json_null(),
                               "Summary", summary_json(e, sum, c.ncycles));
        r = write_json(app, mpath, mk);
        json_decref(mk);
    }
    json_decref(src);
    json_decref(failed);
    json_decref(outs);
    free(st);
    return r;
}

/* One subject: skipped when its marker says nothing changed, else redone. 0 or -1. */
static int study_subject(xai_app *app, explainer *e, const gait_trial *tr, int ntr, const char *out, const char *sub,
                         study_stats *ss)
{
    char *sdir = xai_app_strdup_printf("%s/%s", out, sub), *mpath = xai_app_strdup_printf("%s/%s", sdir, MARKER);
    char *prefix = xai_app_strdup_printf("%s/%s", sdir, sub);
    json_t *inputs = subject_inputs(tr, ntr, sub);
    int r = 0;
    if (!app->force && marker_valid(mpath, out, e, inputs)) {
        ss->nfail += report_earlier_failures(app, mpath);
        xai_app_log(app, 2, "%s: unchanged since the last run, skipped", sub);
        ss->nskipped++;
    } else {
        unlink(mpath);
        r = xai_app_mkdirs(app, sdir);
        if (r == 0) {
            xai_app_sweep_orphans(app, sdir);
            r = subject_run(app, e, tr, ntr, sub, prefix, mpath, inputs, ss);
        }
        ss->ndone += r == 0;
    }
    json_decref(inputs);
    free(sdir);
    free(mpath);
    free(prefix);
    return r;
}

/* The two group tables: per subject and channel (summary), per subject (subjects). */
static const char *const sum_cols[] = {"subject", "variable", "component", "abs_share", "pos_share", "peak_pct",
                                       "peak_relevance"};
static const char *const sum_desc[][2] = {
    {"subject label, or 'group' for the mean over subjects", NULL},
    {"Plug-in Gait variable (both sides added)", NULL},
    {"plane: sagittal, frontal or transverse", NULL},
    {"sum |R| of the channel / sum |R| over all channels (maps scaled to sum |R| = 1 per sample)", "ratio"},
    {"sum of positive R of the channel / sum of positive R", "ratio"},
    {"point of the cycle with the largest mean relevance", "%"},
    {"that mean relevance (per-sample maps scaled to sum |R| = 1)", "arbitrary"}};
static const char *const sub_cols[] = {"subject", "trials", "failed_trials", "cycles", "gap_cycles", "accuracy"};
static const char *const sub_desc[][2] = {
    {"subject label", NULL}, {"trials of the subject", "trials"}, {"trials skipped (unreadable, no cycle)", "trials"},
    {"cycles explained", "cycles"}, {"cycles skipped for gaps", "cycles"},
    {"share of samples whose prediction is the subject (out of fold)", "ratio"}};

static int tsv_num(xai_tsv *t, size_t row, size_t col, double v)
{
    return (isfinite(v) ? xai_tsv_set_number(t, row, col, v) : xai_tsv_set_na(t, row, col)) == XAI_OK ? 0 : -1;
}

/* One subject's rows of the group tables from its marker; adds its shares to gabs/gpos. */
static int group_rows(xai_tsv *t1, xai_tsv *t2, const char *sub, json_t *mk, int nch, double *gabs, double *gpos)
{
    json_t *acc = json_object_get(mk, "Accuracy");
    size_t r;
    int bad = xai_tsv_add_row(t2, &r) != XAI_OK || xai_tsv_set_string(t2, r, 0, sub) != XAI_OK;
    double v[5] = {(double)json_array_size(json_object_get(mk, "Inputs")),
                   (double)json_array_size(json_object_get(mk, "FailedTrials")),
                   (double)json_integer_value(json_object_get(mk, "Cycles")),
                   (double)json_integer_value(json_object_get(mk, "GapCycles")),
                   json_is_number(acc) ? json_number_value(acc) : NAN};
    for (size_t c = 0; c < 5 && !bad; c++)
        bad = tsv_num(t2, r, c + 1, v[c]);
    json_t *sa = json_object_get(mk, "Summary");
    if (bad || json_array_size(sa) != (size_t)nch)
        return bad ? -1 : 0;
    for (int ch = 0; ch < nch && !bad; ch++) {
        json_t *row = json_array_get(sa, (size_t)ch);
        double a = json_number_value(json_object_get(row, "abs_share"));
        double p = json_number_value(json_object_get(row, "pos_share"));
        gabs[ch] += a;
        gpos[ch] += p;
        bad = xai_tsv_add_row(t1, &r) != XAI_OK || xai_tsv_set_string(t1, r, 0, sub) != XAI_OK ||
              xai_tsv_set_string(t1, r, 1, json_string_value(json_object_get(row, "variable"))) != XAI_OK ||
              xai_tsv_set_string(t1, r, 2, json_string_value(json_object_get(row, "component"))) != XAI_OK ||
              tsv_num(t1, r, 3, a) || tsv_num(t1, r, 4, p) ||
              tsv_num(t1, r, 5, (double)json_integer_value(json_object_get(row, "peak_pct"))) ||
              tsv_num(t1, r, 6, json_number_value(json_object_get(row, "peak")));
    }
    return bad ? -1 : 1;
}

/* Save a table and its sidecar: provenance and, as a BIDS data dictionary, its columns. */
static int save_table(xai_app *app, const explainer *e, xai_tsv *t, const char *path, const char *const *cols,
                      const char *const (*desc)[2], size_t ncols, const char *study)
{
    if (xai_tsv_save(t, path, 0) != XAI_OK)
        return xai_app_fail(app, path, "%s", xai_last_error()), -1;
    json_t *sj = json_pack("{s:s,s:s,s:s}", "Description", "xai-gait group summary: relevance share per subject, "
                           "variable and component, the group mean, and per subject its trials and accuracy",
                           "ModelSHA256", e->sha, "Sources", study);
    for (size_t c = 0; sj && c < ncols; c++) {
        json_t *d = json_pack("{s:s}", "Description", desc[c][0]);
        if (d && desc[c][1])
            json_object_set_new(d, "Units", json_string(desc[c][1]));
        json_object_set_new(sj, cols[c], d);
    }
    char *et = sj ? json_dumps(sj, JSON_COMPACT) : NULL;
    json_decref(sj);
    int rc = et && xai_app_write_sidecar(app, path, et) == 0 ? 0 : -1;
    free(et);
    return rc;
}

/* group/desc-D_summary.tsv and group/desc-D_subjects.tsv from every subject's marker. */
static int group_tables(xai_app *app, const explainer *e, const char *out, char **subs, int nsub, const char *study)
{
    char *gdir = xai_app_strdup_printf("%s/group", out);
    char *p1 = xai_app_strdup_printf("%s/desc-%s_summary.tsv", gdir, e->desc),
         *p2 = xai_app_strdup_printf("%s/desc-%s_subjects.tsv", gdir, e->desc);
    int nch = xai_gait_pre_channels(&e->pre), ng = 0;
    xai_tsv *t1 = NULL, *t2 = NULL;
    xai_tsv_type ty1[7] = {XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_STRING}, ty2[6] = {XAI_TSV_STRING};
    double *gabs = calloc((size_t)nch, sizeof(double)), *gpos = calloc((size_t)nch, sizeof(double));
    int okw = gdir && p1 && p2 && gabs && gpos && xai_app_mkdirs(app, gdir) == 0 &&
              xai_tsv_create(7, sum_cols, ty1, &t1) == XAI_OK && xai_tsv_create(6, sub_cols, ty2, &t2) == XAI_OK;
    for (int s = 0; okw && s < nsub; s++) {
        char *mpath = xai_app_strdup_printf("%s/%s/%s", out, subs[s], MARKER);
        json_t *mk = mpath ? load_json(mpath) : NULL;
        free(mpath);
        int r = mk ? group_rows(t1, t2, subs[s], mk, nch, gabs, gpos) : 0;
        okw = r >= 0;
        ng += r > 0;
        json_decref(mk);
    }
    for (int ch = 0; okw && ng && ch < nch; ch++) {
        size_t r;
        okw = xai_tsv_add_row(t1, &r) == XAI_OK && xai_tsv_set_string(t1, r, 0, "group") == XAI_OK &&
              xai_tsv_set_string(t1, r, 1, e->pre.vars[ch / e->pre.ncomps]) == XAI_OK &&
              xai_tsv_set_string(t1, r, 2, xai_gait_component_names[e->pre.comps[ch % e->pre.ncomps]]) == XAI_OK &&
              !tsv_num(t1, r, 3, gabs[ch] / ng) && !tsv_num(t1, r, 4, gpos[ch] / ng) && !tsv_num(t1, r, 5, NAN) &&
              !tsv_num(t1, r, 6, NAN);
    }
    if (okw)
        okw = save_table(app, e, t1, p1, sum_cols, sum_desc, 7, study) == 0 &&
              save_table(app, e, t2, p2, sub_cols, sub_desc, 6, study) == 0;
    else
        xai_app_fail(app, gdir ? gdir : out, "cannot write the group tables: %s", xai_last_error());
    xai_tsv_free(t1);
    xai_tsv_free(t2);
    free(gabs);
    free(gpos);
    free(gdir);
    free(p1);
    free(p2);
    return okw ? 0 : -1;
}

/* 1 when every subject has a done-marker of this model and these options (all shards done). */
static int all_markers(const explainer *e, const char *out, char **subs, int nsub)
{
    int ok = 1;
    for (int s = 0; ok && s < nsub; s++) {
        char *mpath = xai_app_strdup_printf("%s/%s/%s", out, subs[s], MARKER);
        json_t *mk = mpath ? load_json(mpath) : NULL;
        const char *sha = json_string_value(json_object_get(mk, "ModelSHA256"));
        const char *op = json_string_value(json_object_get(mk, "Options"));
        ok = sha && op && !strcmp(sha, e->sha) && !strcmp(op, e->options);
        json_decref(mk);
        free(mpath);
    }
    return ok;
}

/* Per subject a batch item (its first trial, its label, its cycles table) and a digest over
 * the model, the options and every trial of the subject, for shards and Slurm status files. */
static int study_items(xai_app *app, const explainer *e, const gait_trial *tr, int ntr, const char *out,
                       char **subs, int nsub, xai_batch_item *items, char **digests)
{
    for (int s = 0; s < nsub; s++) {
        int first = 0;
        while (first < ntr && strcmp(tr[first].subject, subs[s]))
            first++;
        json_t *inputs = subject_inputs(tr, ntr, subs[s]);
        char *it = json_dumps(inputs, JSON_COMPACT);
        json_decref(inputs);
        char *salt = it ? xai_app_strdup_printf("%s\n%s\n%s", e->sha, e->options, it) : NULL;
        char *paths[4] = {NULL, NULL, NULL, NULL}, *prefix = xai_app_strdup_printf("%s/%s/%s", out, subs[s], subs[s]);
        if (prefix)
            gait_output_paths(prefix, e->desc, paths);
        items[s] = (xai_batch_item){tr[first].path, subs[s], paths[1]};
        digests[s] = calloc(65, 1);
        int bad = !salt || !paths[1] || !digests[s] || xai_batch_digest(&items[s], salt, digests[s]) != 0;
        free(it);
        free(salt);
        free(prefix);
        for (int k = 0; k < 4; k++)
            if (k != 1)
                free(paths[k]);
        if (bad)
            return xai_app_fail(app, tr[first].path, "cannot digest the subject's trials");
    }
    return XAI_EXIT_OK;
}

/* The subjects of this shard (all without --shard): explained or skipped, status recorded. */
static int study_shard(xai_app *app, explainer *e, const opts *o, const gait_trial *tr, int ntr, char **subs,
                       int nsub, const xai_batch_item *items, char *const *digests, study_stats *ss, char *fresh)
{
    const char *out = o->args[1];
    int *shard = malloc(sizeof(int) * (size_t)(nsub > 0 ? nsub : 1)), rc = XAI_EXIT_OK;
    if (!shard || xai_batch_assign(items, nsub, o->shard_n, shard) != 0) {
        free(shard);
        return xai_app_fail(app, out, "out of memory");
    }
    xai_app_progress_begin(app, "study", nsub);
    for (int s = 0; rc == XAI_EXIT_OK && s < nsub; s++) {
        if (shard[s] != o->shard_k)
            continue;
        int skipped = ss->nskipped, r = study_subject(app, e, tr, ntr, out, subs[s], ss);
        fresh[s] = ss->nskipped == skipped;
        if (xai_batch_status_write(app, out, &items[s], digests[s], r != 0) != 0 || r != 0)
            rc = XAI_EXIT_DATA;
        xai_app_progress_step(app, s + 1, subs[s]);
    }
    xai_app_progress_end(app);
    free(shard);
    return rc;
}

/* The group step as a shell command: in the current folder, this study command line without
 * the shard and Slurm options and with "group" for "study" (the same model and options, so the
 * same outputs are checked and summarised). NULL when out of memory. */
static char *group_command(const opts *o)
{
    char exe[PATH_MAX], cwd[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || !getcwd(cwd, sizeof cwd))
        return NULL;
    exe[n] = '\0';
    char **t = xai_batch_task_argv(o->argv);
    int argc = 0;
    while (t && t[argc])
        argc++;
    char *cmd = NULL, *dir = NULL, *s = NULL;
    if (argc >= 2) {
        char *cw[1] = {cwd};
        t[0] = exe;
        t[1] = "group";
        cmd = xai_app_quote_words(argc, t);
        dir = xai_app_quote_words(1, cw);
    }
    if (cmd && dir)
        s = xai_app_strdup_printf("cd %s && %s", dir, cmd);
    free(t);
    free(cmd);
    free(dir);
    return s;
}

/* --slurm: every shard with unfinished subjects as a Slurm array task, then the group step as
 * its own job after every task succeeded (afterok); --wait waits for both. */
static int study_slurm(xai_app *app, const explainer *e, const opts *o, const xai_batch_item *items,
                       char *const *digests, int nsub)
{
    char **targv = xai_batch_task_argv(o->argv);
    char *group = group_command(o);
    xai_slurm_opts so = {.nshards = o->shard_n, .max_parallel = o->max_parallel, .sbatch_args = o->slurm_args,
                         .group_cmd = group, .dry_run = o->dry_run, .wait = o->wait,
                         .wait_timeout_s = o->wait_timeout};
    int rc = targv && group ? xai_slurm_run(app, o->args[1], targv, items, digests, nsub, &so)
                            : xai_app_fail(app, NULL, "out of memory");
    free(targv);
    free(group);
    if (rc == 0 && o->wait && !o->dry_run) { /* the group job ran: its tables must be there */
        char *p = xai_app_strdup_printf("%s/group/desc-%s_summary.tsv", o->args[1], e->desc);
        if (!p || !gait_file_exists(p))
            rc = xai_app_fail(app, o->args[1], "the group step wrote no group tables; see its log under "
                              "%s/slurm/logs", o->args[1]);
        free(p);
    }
    return rc;
}

/* xai-gait group: the group tables from the done-markers of every subject, once the study (all
 * of its shards) has explained them with this model and these options. */
static int group_step(xai_app *app, const explainer *e, const opts *o, char **subs, int nsub)
{
    int missing = 0;
    for (int s = 0; s < nsub; s++)
        if (!all_markers(e, o->args[1], subs + s, 1)) {
            xai_app_fail(app, subs[s], "no done-marker of this model and these options under %s", o->args[1]);
            missing++;
        }
    if (missing)
        return xai_app_fail(app, o->args[1], "%d of %d subjects not done: run the study (every shard) first",
                            missing, nsub);
    if (group_tables(app, e, o->args[1], subs, nsub, o->args[0]) != 0)
        return XAI_EXIT_DATA;
    xai_app_log(app, 1, "group tables of %d subjects written under %s/group", nsub, o->args[1]);
    return xai_app_report_study(app, o->args[1], o->model) ? XAI_EXIT_DATA : XAI_EXIT_OK;
}

/* The distinct subjects of the trials, in trial order (borrowed). */
static char **study_subjects(const gait_trial *tr, int ntr, int *nsub)
{
    char **subs = calloc((size_t)ntr + 1, sizeof *subs);
    *nsub = 0;
    for (int i = 0; subs && i < ntr; i++) {
        int k = 0;
        while (k < *nsub && strcmp(subs[k], tr[i].subject))
            k++;
        if (k == *nsub)
            subs[(*nsub)++] = tr[i].subject;
    }
    return subs;
}

/* Whether a report is to be written: its subject (@p sub; NULL: the study) was explained by this
 * run, or the report is missing. *any becomes 1 when it is. */
static int report_due(const char *out, const char *sub, int fresh, int *any)
{
    char *p = sub ? xai_app_strdup_printf("%s/%s/report.html", out, sub) : xai_app_strdup_printf("%s/report.html", out);
    int due = fresh || !p || !gait_file_exists(p);
    free(p);
    *any |= due;
    return due;
}

static int study_report(xai_app *app, const opts *o, const study_stats *ss)
{
    xai_app_log(app, 1, "%s%d subjects explained, %d unchanged and skipped; %lld cycles in %.2f s (%.0f cycles/s)%s",
                o->shard_n > 1 ? "this shard: " : "", ss->ndone, ss->nskipped, (long long)ss->cycles, ss->explain_s,
                ss->explain_s > 0 ? (double)ss->cycles / ss->explain_s : 0.0,
                ss->nfail ? "; some trials failed (listed above)" : "");
    return ss->nfail ? XAI_EXIT_PARTIAL : XAI_EXIT_OK;
}

int gait_cmd_study(xai_app *app, const opts *o)
{
    int group = !strcmp(o->cmd, "group");
    if (!o->model || o->nargs != 2)
        return xai_app_usage_error(app, "%s: need STUDY_DIR OUT_DIR and --model M.onnx", o->cmd);
    const char *study = o->args[0], *out = o->args[1];
    explainer e;
    int rc = explainer_init(app, o, &e);
    gait_trial *tr = NULL;
    int ntr = 0, nsub = 0;
    char **subs = NULL, **digests = NULL, *spath = xai_app_strdup_printf("%s/.xai-gait-study.json", out);
    xai_batch_item *items = NULL;
    char *fresh = NULL; /* [nsub] 1: explained (or failed) by this run */
    int any = 0;
    study_stats ss = {0, 0, 0, 0, 0};
    if (rc == XAI_EXIT_OK)
        rc = gait_trials_collect(app, o->args, 1, &tr, &ntr) != 0 ? XAI_EXIT_DATA : XAI_EXIT_OK;
    if (rc == XAI_EXIT_OK && group && !gait_file_exists(spath))
        rc = xai_app_fail(app, out, "no study output here: run '" PROG " study' first");
    if (rc == XAI_EXIT_OK && !group)
        rc = study_folder(app, &e, out, spath, study);
    if (rc == XAI_EXIT_OK && (!(subs = study_subjects(tr, ntr, &nsub)) ||
                              !(items = calloc((size_t)nsub + 1, sizeof *items)) ||
                              !(digests = calloc((size_t)nsub + 1, sizeof *digests))))
        rc = xai_app_fail(app, NULL, "out of memory");
    if (rc == XAI_EXIT_OK && group) {
        rc = group_step(app, &e, o, subs, nsub);
        goto done;
    }
    if (rc == XAI_EXIT_OK)
        rc = study_items(app, &e, tr, ntr, out, subs, nsub, items, digests);
    if (rc == XAI_EXIT_OK && o->slurm) {
        rc = study_slurm(app, &e, o, items, digests, nsub);
        goto reports;
    }
    if (rc == XAI_EXIT_OK) {
        xai_app_log(app, 1, "%d trials of %d subjects under %s", ntr, nsub, study);
        rc = (fresh = calloc((size_t)nsub + 1, 1)) ? study_shard(app, &e, o, tr, ntr, subs, nsub, items, digests, &ss,
                                                                 fresh)
                                                     : xai_app_fail(app, NULL, "out of memory");
    }
    /* a shard (also an array task) leaves the group tables to the group step, which reads every
     * shard's markers; a whole run writes them itself once every subject is done */
    if (rc == XAI_EXIT_OK && o->shard_given)
        xai_app_log(app, 1, "group tables: by '" PROG " group' with the same arguments once every shard is done");
    else if (rc == XAI_EXIT_OK && group_tables(app, &e, out, subs, nsub, study) != 0)
        rc = XAI_EXIT_DATA;
    if (rc == XAI_EXIT_OK)
        rc = study_report(app, o, &ss);
reports:
    /* HTML reports (apps/common/report-app.h): one per subject this run explained (or that has
     * none yet), one per study unless this is a shard (the group step writes it) or nothing
     * changed; they are views of the outputs, and rewriting every subject's on every run made
     * each shard and rerun cost as much as the whole study's reports */
    for (int s = 0; s < nsub; s++)
        if (report_due(out, subs[s], fresh && fresh[s], &any))
            rc = xai_app_report_subject(app, out, subs[s], o->model, NULL, 0) && !rc ? XAI_EXIT_DATA : rc;
    if (nsub > 0 && !o->shard_given && report_due(out, NULL, any, &any))
        rc = xai_app_report_study(app, out, o->model) && !rc ? XAI_EXIT_DATA : rc;
done:
    free(fresh);
    for (int s = 0; s < nsub; s++) {
        free(digests ? digests[s] : NULL);
        free(items ? (char *)items[s].output : NULL);
    }
    free(digests);
    free(items);
    free(spath);
    free(subs);
    gait_trials_free(tr, ntr);
    explainer_free(&e);
    return rc;
}
