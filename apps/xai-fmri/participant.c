/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * participant.c - the BIDS-App form of xai-fmri (Gorgolewski et al. 2017): the participant
 * level explains every BOLD run of the selected participants, each by a model that never saw
 * it (leave-one-run-out) or by a given --model; the group level averages their class maps.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app-driver.h"
#include "fmri.h"
#include "report-app.h"
#include "xai/bids-walk.h"

static int selected(const opts *o, const char *sub)
{
    if (!o->nplabels)
        return 1;
    for (int i = 0; i < o->nplabels; i++) {
        const char *l = o->plabels[i];
        if (!strncmp(l, "sub-", 4))
            l += 4;
        if (!strcmp(l, sub))
            return 1;
    }
    return 0;
}

/* Explain every run of a participant with the given model. */
static int explain_given(opts *o, const subject_runs *s, const char *out)
{
    xai_model *m = NULL;
    if (xai_model_load_onnx(o->model, NULL, &m) != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    int rc = 0;
    for (int i = 0; i < s->n && rc == 0; i++) { /* a fold set explains each run out of fold */
        char src[4200];
        snprintf(src, sizeof src, "bids:raw:%s", s->rel[i]);
        rc = explain_chosen(o, m, o->model, s->bold[i], s->events[i], out, src);
    }
    xai_model_free(m);
    return rc;
}

/* The path of run h's held-out model (next to its maps); 0, or an exit code when it exists
 * without --force. */
static int heldout_path(opts *o, const subject_runs *s, int h, const char *out, namer *nm, char *mpath, size_t cap)
{
    namer_init(nm, out, s->bold[h]);
    namer_path(nm, 0, "heldout", "model", ".onnx", mpath, cap);
    return xai_app_check_output(&o->app, mpath) ? XAI_EXIT_DATA : 0;
}

/* Save run h's model (fold k of @p set, or @p own: trained on the run itself) next to its maps,
 * then explain run h from the saved file, exactly as a user would. */
static int explain_heldout(opts *o, const subject_runs *s, const xai_fmri_run *runs, int h, const xai_model *own,
                           const xai_driver_set *set, int k, double train_acc, const char *out)
{
    namer nm;
    char mpath[4608];
    xai_export_options eo = {0, 17};
    int rc = heldout_path(o, s, h, out, &nm, mpath, sizeof mpath);
    if (rc == 0 && xai_app_mkdirs(&o->app, nm.dir))
        rc = XAI_EXIT_DATA;
    static const char desc[] = "model trained on the other runs (leave-one-run-out); its card holds the settings";
    if (rc == 0) /* a sidecar for every output (BIDS derivatives) */
        rc = own ? xai_app_save_model(&o->app, mpath, own, NULL, &eo, desc, NULL)
                 : xai_app_save_fold(&o->app, mpath, set, k, &eo, desc, NULL);
    xai_model *m = NULL;
    if (rc == 0 && xai_model_load_onnx(mpath, NULL, &m) != XAI_OK)
        rc = xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    if (rc == 0) {
        int64_t nl;
        double acc = xai_fmri_run_accuracy(m, &runs[h], &nl, NULL);
        const char *name = strrchr(s->bold[h], '/') ? strrchr(s->bold[h], '/') + 1 : s->bold[h];
        char src[4200];
        snprintf(src, sizeof src, "bids:raw:%s", s->rel[h]);
        xai_app_log(&o->app, 1, "sub-%s: %s accuracy %.3f (%lld volumes, %s)", s->sub, name, acc, (long long)nl,
                    own ? "training run" : "held out");
        const char *sel = own ? "in sample: the participant has one run, and its model was trained on it"
                              : "out of fold: the model of the fold that held this run out (leave-one-run-out)";
        explain_ctx ctx = {src, !own, train_acc, sel, 1};
        rc = explain_run(o, m, mpath, s->bold[h], s->events[h], out, &ctx);
    }
    if (rc)
        remove_empty_dirs(&nm);
    xai_model_free(m);
    return rc;
}

/* One run alone: the model is trained on it and explains it (flagged: not held out). */
static int explain_single(opts *o, const subject_runs *s, const xai_fmri_run *runs, const xai_fmri_classes *cls,
                          const xai_nifti *mask, const char *out)
{
    xai_model *m = NULL;
    xai_train_result tres;
    int use = 1, rc = train_model(o, runs, 1, &use, cls, mask, &m, &tres);
    if (rc == 0)
        rc = explain_heldout(o, s, runs, 0, m, NULL, -1, tres.kept_train_acc, out);
    xai_model_free(m);
    return rc;
}

/* Leave-one-run-out through the shared driver (one fold model per run, each fitted on the other
 * runs only), then each run explained by the fold model that held it out. */
static int explain_folds(opts *o, const subject_runs *s, const xai_fmri_run *runs, int nr,
                         const xai_fmri_classes *cls, const xai_nifti *mask, const char *out)
{
    namer nm;
    char mpath[4608];
    for (int h = 0; h < nr; h++) /* refuse before training, not after */
        if (heldout_path(o, s, h, out, &nm, mpath, sizeof mpath))
            return XAI_EXIT_DATA;
    xai_fmri_train_opts t;
    xai_fmri_timing timing; /* each fold model records the check of its training runs */
    xai_fmri_cv cv;
    xai_driver_set *set = NULL;
    train_options(o, mask, &t);
    t.timing = &timing;
    t.progress = xai_app_driver_progress;
    t.progress_ud = t.warn_ud = &o->app;
    t.warn = xai_app_driver_warn;
    xai_app_log(&o->app, 1, "sub-%s: leave-one-run-out over %d runs", s->sub, nr);
    if (xai_fmri_cross_validate(&t, runs, nr, cls, 0, &cv, &set) != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    xai_app_driver_print_summary(&o->app, set);
    int rc = 0;
    for (int h = 0; h < nr && rc == 0; h++)
        rc = cv.fold[h] < 0 ? xai_app_fail(&o->app, s->bold[h], "no labelled volumes: no held-out model")
                            : explain_heldout(o, s, runs, h, NULL, set, cv.fold[h], cv.train_acc[h], out);
    xai_fmri_cv_free(&cv);
    xai_driver_set_free(set);
    return rc;
}

/* No model: leave-one-run-out over the participant's runs. */
static int explain_loro(opts *o, const subject_runs *s, const char *out)
{
    for (int i = 0; i < s->n; i++)
        if (!s->events[i])
            return xai_app_fail(&o->app, s->bold[i], "no events.tsv next to it; training needs labels (or give "
                                                     "--model)");
    xai_fmri_classes cls = {0};
    if (o->conditions && xai_fmri_classes_parse(&cls, o->conditions) != XAI_OK)
        return xai_app_usage_error(&o->app, "--conditions: %s", xai_last_error());
    xai_nifti *mask = NULL;
    xai_fmri_run *runs = calloc((size_t)s->n, sizeof *runs);
    int nr = 0;
    int rc = runs ? load_mask(o, &mask) : xai_app_fail(&o->app, NULL, "out of memory");
    if (rc == 0)
        rc = load_training_runs(o, s->bold, s->events, NULL, s->n, mask, &cls, runs, &nr, s->n);
    if (rc == 0 && cls.n < 2)
        rc = xai_app_fail(&o->app, s->bold[0], "need at least two conditions in the events, found %d", cls.n);
    if (rc == 0)
        rc = nr == 1 ? explain_single(o, s, runs, &cls, mask, out) : explain_folds(o, s, runs, nr, &cls, mask, out);
    for (int i = nr - 1; runs && i >= 0; i--)
        xai_fmri_run_free(&runs[i]);
    free(runs);
    xai_nifti_close(mask);
    xai_fmri_classes_free(&cls);
    return rc;
}

/* The selected participants (sorted) and their BOLD runs from the walk (sorted by path). */
static int gather_subjects(const opts *o, const char *bids, const xai_bids_list *l, char **subs, size_t ns,
                           subject_runs *sr)
{
    int nsel = 0;
    for (size_t i = 0; i < ns; i++) {
        if (!selected(o, subs[i]))
            continue;
        subject_runs *s = &sr[nsel++];
        s->sub = subs[i];
        snprintf(s->dir, sizeof s->dir, "%s/sub-%s", bids, subs[i]);
        for (size_t k = 0; k < l->n && s->n < MAX_RUNS; k++)
            if (l->files[k].subject && !strcmp(l->files[k].subject, subs[i])) {
                s->bold[s->n] = l->files[k].path;
                s->events[s->n] = l->files[k].events;
                s->rel[s->n++] = l->files[k].relpath;
            }
    }
    return nsel;
}

static int one_subject(opts *o, const subject_runs *s, const char *out)
{
    if (s->n == 0)
        return xai_app_fail(&o->app, s->dir, "no%s%s BOLD runs (func/*_bold.nii.gz)", o->task ? " task-" : "",
                            o->task ? o->task : "");
    int rc = o->model ? explain_given(o, s, out) : explain_loro(o, s, out);
    /* the participant's HTML report (apps/common/report-app.h) */
    int report_rc = rc == XAI_EXIT_USAGE ? 0 : xai_app_report_subject(&o->app, out, s->sub, o->model, s->bold, s->n);
    return rc ? rc : report_rc;
}

/* The participants of this shard (all without --shard). In a batch (b), participants whose runs
 * are all done and unchanged are skipped, the others redone (their outputs replaced), and each
 * run's outcome is recorded. */
static int run_subjects(opts *o, const subject_runs *sr, int ns, const char *bids, const char *out,
                        const fmri_batch *b)
{
    int *shard = b ? calloc((size_t)ns + 1, sizeof *shard) : NULL, done = 0, failed = 0, skipped = 0;
    if (b && (!shard || fmri_batch_shards(o, b, sr, ns, o->shard_n, shard) != 0)) {
        free(shard);
        return XAI_EXIT_DATA;
    }
    for (int s = 0; s < ns; s++) {
        if (b && shard[s] != o->shard_k)
            continue;
        if (b && fmri_batch_current(out, b, sr, s)) {
            skipped++;
            continue;
        }
        int force = o->app.force;
        o->app.force |= b != NULL;
        int rc = one_subject(o, &sr[s], out);
        o->app.force = force;
        if (b && fmri_batch_record(o, out, b, sr, s, rc) != 0)
            rc = XAI_EXIT_DATA;
        failed += rc != 0;
        done++;
    }
    free(shard);
    if (b)
        xai_app_log(&o->app, 1, "shard %d/%d: %d participants done, %d failed, %d already done", o->shard_k,
                    o->shard_n, done - failed, failed, skipped);
    if (!done && (o->shard_n || skipped))
        return XAI_EXIT_OK; /* an empty or finished shard is not an error */
    if (!done)
        return xai_app_fail(&o->app, bids, "no selected participant (sub-*/ directories)");
    return failed == 0 ? XAI_EXIT_OK : failed == done ? XAI_EXIT_DATA : XAI_EXIT_PARTIAL;
}

int cmd_participant(opts *o, const char *bids, const char *out)
{
    static const char *const sfx[] = {"bold"}, *const ext[] = {".nii.gz", ".nii"};
    xai_bids_walk_opts w = {.layout = XAI_WALK_BIDS, .datatype = "func", .suffixes = sfx, .nsuffixes = 1,
                            .extensions = ext, .nextensions = 2, .tasks = o->task ? &o->task : NULL,
                            .ntasks = o->task != NULL};
    xai_bids_list l = {0};
    char **subs = NULL;
    size_t ns = 0;
    if (xai_bids_participants(bids, &subs, &ns) != XAI_OK || xai_bids_walk(bids, &w, &l) != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    subject_runs *sr = calloc(ns + 1, sizeof *sr);
    fmri_batch b = {0};
    int nsel = sr ? gather_subjects(o, bids, &l, subs, ns, sr) : 0, batch = o->slurm || o->shard_n;
    int rc = !sr ? xai_app_fail(&o->app, NULL, "out of memory") : 0;
    if (rc == 0 && batch && nsel == 0)
        rc = xai_app_fail(&o->app, bids, "no selected participant (sub-*/ directories)");
    if (rc == 0 && batch)
        rc = fmri_batch_make(o, sr, nsel, out, o->argc, o->argv, &b);
    if (rc == 0)
        rc = o->slurm ? fmri_batch_slurm(o, &b, bids, out, o->argv)
                      : run_subjects(o, sr, nsel, bids, out, batch ? &b : NULL);
    fmri_batch_free(&b);
    for (size_t i = 0; i < ns; i++)
        free(subs[i]);
    xai_free(subs);
    free(sr);
    xai_bids_list_free(&l);
    return rc;
}

/* group: per class key (task-T_desc-lrp<Class>), mean over runs within each subject, then over subjects */
int cmd_group(opts *o, const char *out)
{
    xai_fmri_group g;
    const char *sel[MAX_SUBJECTS];
    for (int i = 0; i < o->nplabels; i++)
        sel[i] = o->plabels[i];
    if (xai_fmri_group_collect(out, o->nplabels ? sel : NULL, o->nplabels, o->task, &g) != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    char gdir[4096];
    snprintf(gdir, sizeof gdir, "%s/group", out);
    json_t *pj = provenance_json(o);
    char *common = json_dumps(pj, JSON_COMPACT);
    json_decref(pj);
    int rc = !common ? xai_app_fail(&o->app, NULL, "out of memory") : xai_app_mkdirs(&o->app, gdir) ? XAI_EXIT_DATA : 0;
    int written = 0;
    for (int k = 0; k < g.nk && rc == 0; k++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s_statmap.nii.gz", gdir, g.key[k]);
        if (g.nexcluded[k]) /* averaging maps of training runs is the leakage trap */
            xai_app_log(&o->app, 0, "warning: %s: %d map%s left out, made by a model trained on %s run "
                        "(ExcludedInSample in the sidecar)", g.key[k], g.nexcluded[k], g.nexcluded[k] == 1 ? "" : "s",
                        g.nexcluded[k] == 1 ? "its" : "their");
        if (!g.nsub[k])
            continue;
        if (xai_app_check_output(&o->app, path))
            rc = XAI_EXIT_USAGE;
        else if (xai_fmri_group_write(&g, k, path, common) != XAI_OK)
            rc = xai_app_fail(&o->app, NULL, "%s", xai_last_error());
        else
            xai_app_log(&o->app, 1, "%s: %d subjects%s", path, g.nsub[k],
                        g.out_of_fold[k] ? " (every map out of fold)" : "");
        written += rc == 0;
    }
    if (rc == 0 && !written)
        rc = xai_app_fail(&o->app, out, "no out-of-fold class summary to average: every map was made by a model "
                                        "trained on its run");
    xai_fmri_group_free(&g);
    free(common);
    /* the study's HTML report (apps/common/report-app.h) */
    int report_rc = rc == XAI_EXIT_USAGE ? 0 : xai_app_report_study(&o->app, out, o->model);
    return rc ? rc : report_rc;
}
