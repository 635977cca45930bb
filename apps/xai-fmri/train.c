/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * train.c - xai-fmri train: runs in, a model with its pre-processing record out, optionally
 * after leave-one-run-out cross-validation. The work is in xai/domain-fmri.h.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app-driver.h"
#include "fmri.h"

int load_mask(opts *o, xai_nifti **mask)
{
    *mask = NULL;
    if (o->mask && xai_nifti_open(o->mask, mask) != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    return 0;
}

void say_censored(opts *o, const xai_fmri_run *runs, int nr)
{
    for (int r = 0; r < nr; r++)
        if (runs[r].ncensored)
            xai_app_log(&o->app, 1, "%s: %lld volume(s) censored as head-motion spikes (unlabelled: out of training, "
                        "scoring and the class maps)", runs[r].path, (long long)runs[r].ncensored);
}

int load_runs(opts *o, const char *const *bold, const char *const *events, const char *const *labels, int n,
              const run_prep *rp, xai_fmri_classes *cls, xai_fmri_run *runs, int *nr, int cap)
{
    for (int i = 0; i < n; i++) {
        char *unused = NULL;
        const char *ev = events ? events[i] : NULL;
        if (xai_fmri_runs_load_as(bold[i], ev, labels ? labels[i] : NULL, rp->lag, rp->detrend, rp->fwhm_mm,
                                  rp->samples, cls, runs, nr, cap, &unused) != XAI_OK)
            return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
        if (unused)
            xai_app_log(&o->app, 1, "warning: %s: trial types not among the classes, left unlabelled: %s", ev, unused);
        free(unused);
        const int64_t *a = runs[*nr - 1].img->shape, *b = runs[0].img->shape;
        if (memcmp(a + 1, b + 1, 3 * sizeof(int64_t)))
            return xai_app_fail(&o->app, bold[i], "grid %lldx%lldx%lld differs from %s", (long long)a[3],
                                (long long)a[2], (long long)a[1], bold[0]);
    }
    return 0;
}

const char *samples_word(int samples) { return samples == XAI_FMRI_SAMPLES_VOLUMES ? "volumes" : "trials"; }

/* What a training sample is: --samples, or by the design of the events (one estimate per trial
 * when the trials' responses overlap, as decoding studies of event-related designs do). */
static int choose_samples(opts *o, const char *const *events, int n)
{
    int er = 0;
    char text[400] = "";
    for (int i = 0; events && i < n; i++) {
        xai_fmri_design d;
        if (xai_fmri_design_read(events[i], &d) != XAI_OK)
            return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
        if (d.event_related && !er++)
            xai_fmri_design_text(&d, text, sizeof text);
    }
    if (o->samples > 0 && !events)
        return xai_app_usage_error(&o->app, "--samples %s needs --events (the trials' onsets)",
                                   xai_fmri_samples_name(o->samples));
    o->use_samples = o->samples >= 0 ? o->samples : er ? XAI_FMRI_TRIALS_LSS : XAI_FMRI_SAMPLES_VOLUMES;
    if (er && o->use_samples == XAI_FMRI_SAMPLES_VOLUMES)
        xai_app_log(&o->app, 0, "warning: %s: %s; with --samples volumes a volume mixes the responses of "
                    "neighbouring trials (give --samples trials)", events[0], text);
    else if (er)
        xai_app_log(&o->app, 1, "%s: %s: one sample per trial (%s; --samples)", events[0], text,
                    o->use_samples == XAI_FMRI_TRIALS_LSS ? "least-squares-separate estimates with the canonical HRF"
                                                          : "the mean of the volumes 4-8 s after each onset");
    return 0;
}

/* Voxels in the training mask (the given one, or the automatic one of every run). */
static int64_t mask_voxels(const opts *o, const xai_fmri_run *runs, int nr, const xai_nifti *mask)
{
    int64_t nv = xai_fmri_run_nv(&runs[0]), n = 0;
    uint8_t *m = malloc((size_t)nv);
    int *use = calloc((size_t)nr, sizeof *use);
    for (int i = 0; use && i < nr; i++)
        use[i] = 1;
    xai_status st = !m || !use ? XAI_ENOMEM
                    : mask ? xai_fmri_mask_from_file(mask, o->mask, &runs[0], m)
                           : xai_fmri_mask_from_runs(runs, nr, use, o->auto_frac, m);
    for (int64_t v = 0; st == XAI_OK && v < nv; v++)
        n += m[v] != 0;
    free(m);
    free(use);
    return st == XAI_OK ? n : nv;
}

/* Load training runs; with the default smoothing and screening, decide them from the voxels per
 * labelled volume and reload smoothed when that is the choice. */
int load_training_runs(opts *o, const char *const *bold, const char *const *events, const char *const *labels,
                       int n, const xai_nifti *mask, xai_fmri_classes *cls, xai_fmri_run *runs, int *nr, int cap)
{
    double fwhm, screen;
    int rc = choose_samples(o, events, n);
    if (rc)
        return rc;
    o->use_smooth = o->smooth > 0 ? o->smooth : 0;
    o->use_screen = o->screen > 0 ? o->screen : 1;
    rc = load_runs(o, bold, events, labels, n, &(run_prep){o->lag, o->detrend, o->use_smooth, o->use_samples}, cls,
                       runs, nr, cap);
    if (rc || (o->smooth >= 0 && o->screen >= 0)) {
        if (!rc)
            say_censored(o, runs, *nr);
        return rc;
    }
    int64_t nlab = 0, nvox = mask_voxels(o, runs, *nr, mask);
    for (int i = 0; i < *nr; i++)
        for (int64_t t = 0; runs[i].labels && t < runs[i].nt; t++)
            nlab += runs[i].labels[t] >= 0;
    xai_fmri_default_reduction(nvox, nlab, o->use_samples, &fwhm, &screen);
    if (o->screen < 0)
        o->use_screen = screen;
    if (o->smooth >= 0 || fwhm == 0) {
        say_censored(o, runs, *nr);
        return 0;
    }
    char scr[160] = "";
    if (o->use_screen < 1)
        snprintf(scr, sizeof scr, " and ANOVA screening (%.3g, %.3g or %.3g %% of the voxels, whichever an inner "
                 "cross-validation on the training samples prefers)", 100 * o->use_screen, 50 * o->use_screen,
                 25 * o->use_screen);
    xai_app_log(&o->app, 1, "%lld voxels for %lld labelled %s: smoothing %g mm FWHM%s (--smooth, --screen)",
                (long long)nvox, (long long)nlab, samples_word(o->use_samples), fwhm, scr);
    for (int i = *nr - 1; i >= 0; i--)
        xai_fmri_run_free(&runs[i]);
    *nr = 0;
    o->use_smooth = fwhm;
    rc = load_runs(o, bold, events, labels, n, &(run_prep){o->lag, o->detrend, fwhm, o->use_samples}, cls, runs, nr,
                   cap);
    if (!rc)
        say_censored(o, runs, *nr);
    return rc;
}

void train_options(const opts *o, const xai_nifti *mask, xai_fmri_train_opts *t)
{
    memset(t, 0, sizeof *t);
    xai_app_train_config(&t->train, o->epochs, o->batch, o->lr, 0, o->patience, o->seed);
    t->train.weight_decay = (float)o->weight_decay;
    t->lr = o->lr;
    t->weight_decay = o->weight_decay;
    t->family = o->family;
    t->arch = o->arch;
    t->early_stop = o->val_split > 0;
    t->lag = o->lag;
    t->detrend = o->detrend;
    t->samples = o->use_samples;
    t->mask = mask;
    t->mask_path = o->mask;
    t->auto_frac = o->auto_frac;
    t->fwhm_mm = o->use_smooth;
    t->screen = o->use_screen;
    t->screen_select = o->screen < 0 && o->use_screen > 0 && o->use_screen < 1;
    t->tool = PROG " " XAI_FMRI_VERSION;
}

static void timing_warning(opts *o, const xai_fmri_run *runs, const xai_fmri_timing *timing);

/* One model on the runs with use[i], with a progress display. */
int train_model(opts *o, const xai_fmri_run *runs, int nr, const int *use, const xai_fmri_classes *cls,
                const xai_nifti *mask, xai_model **m, xai_train_result *res)
{
    xai_fmri_train_opts t;
    xai_fmri_timing timing;
    train_options(o, mask, &t);
    t.train.progress = xai_app_train_progress;
    t.train.progress_ud = &o->app;
    t.timing = &timing;
    xai_app_progress_begin(&o->app, "train", o->epochs);
    xai_status st = xai_fmri_train(&t, runs, nr, use, cls, m, res);
    xai_app_progress_end(&o->app);
    if (st != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    timing_warning(o, runs, &timing);
    return 0;
}

/* The timing warning of the training runs, when their onsets look early or late. */
static void timing_warning(opts *o, const xai_fmri_run *runs, const xai_fmri_timing *timing)
{
    if (!timing->warn)
        return;
    char msg[512];
    xai_fmri_timing_text(timing, msg, sizeof msg);
    if (o->strict)
        xai_app_fail(&o->app, runs[0].path, "strict: the training runs: %s", msg);
    else
        xai_app_log(&o->app, 0, "warning: the training runs (%s, ...): %s", runs[0].path, msg);
    o->timing_warned = 1;
}

static void print_cv(opts *o, const xai_fmri_run *runs, int nr, const xai_fmri_cv *cv)
{
    for (int h = 0; h < nr; h++)
        printf("cv\theld_out=%s:%lld\tvolumes=%lld\taccuracy=%.4f\tkept_epoch=%d\ttrain_accuracy=%.4f\n",
               runs[h].path, (long long)runs[h].t0, (long long)cv->nlab[h], cv->acc[h], cv->kept_epoch[h],
               cv->train_acc[h]);
    printf("cv\tmean_accuracy=%.4f\tsd=%.4f\truns=%d\tchance=%.4f\tblocks=%lld\tblock_accuracy=%.4f\tp_value=%.3g\n",
           cv->mean, cv->sd, nr, cv->chance, (long long)cv->nblocks, cv->block_acc, cv->p_value);
    printf("cv\tbaseline=ridge\tpooled_accuracy=%.4f\n", cv->baseline_acc);
    xai_app_log(&o->app, 1, "leave-one-run-out accuracy %.3f +- %.3f over %d runs (chance %.3f; %lld blocks, "
                "block-level binomial p = %.3g)%s", cv->mean, cv->sd, nr, cv->chance, (long long)cv->nblocks,
                cv->p_value, cv->above_chance ? "" : "; warning: not above chance");
}

#define MODEL_DESCRIPTION "xai-fmri decoder trained on every given run; its card holds the settings"
#define MODEL_DESCRIPTION_CV "xai-fmri decoder trained on every given run, with one fold model per run " \
                             "(MODEL.fold-K.onnx, trained without that run) for out-of-fold explanations"

/* The fold files of a trained set must not exist (the overwrite rule; MODEL.onnx and its
 * sidecar were checked before training). */
static int fold_files_free(opts *o, const xai_driver_set *set)
{
    char **paths = NULL;
    int n = 0, rc = 0;
    if (xai_driver_set_paths(set, o->out, &paths, &n) != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    for (int i = 1; i < n && rc == 0; i++)
        rc = xai_app_check_output(&o->app, paths[i]) ? XAI_EXIT_USAGE : 0;
    for (int i = 0; i < n; i++)
        xai_free(paths[i]);
    xai_free(paths);
    return rc;
}

/* "; screening kept S %" when the model's record has a screening share chosen for it, else "". */
static void screen_note(const opts *o, const xai_model *m, char *buf, size_t len)
{
    const char *pj = m && o->screen < 0 ? xai_model_metadata(m, "xai_preprocessing") : NULL;
    json_t *pre = pj ? json_loads(pj, 0, NULL) : NULL;
    json_t *scr = json_object_get(pre, "screening");
    buf[0] = 0;
    if (json_object_get(scr, "selection"))
        snprintf(buf, len, "; screening kept %.3g %% of the voxels",
                 100 * json_number_value(json_object_get(scr, "share")));
    json_decref(pre);
}

/* Leave-one-run-out through the shared driver, then the model for new data (trained on every
 * run) saved with its card: per-run accuracy, mean +- sd over runs, chance, a block-level
 * p-value, the ridge baseline. */
static int train_cv(opts *o, const xai_fmri_run *runs, int nr, const xai_fmri_classes *cls, const xai_nifti *mask)
{
    xai_fmri_train_opts t;
    xai_fmri_timing timing;
    xai_fmri_cv cv;
    xai_driver_set *set = NULL;
    train_options(o, mask, &t);
    t.timing = &timing;
    t.progress = xai_app_driver_progress;
    t.progress_ud = t.warn_ud = &o->app;
    t.warn = xai_app_driver_warn;
    if (xai_fmri_cross_validate(&t, runs, nr, cls, 1, &cv, &set) != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    print_cv(o, runs, nr, &cv);
    xai_app_driver_print_summary(&o->app, set);
    timing_warning(o, runs, &timing);
    xai_app_driver_opts dopt = {.strict = o->strict}; /* the driver's verdicts, then the timing's */
    int rc = xai_app_driver_strict_exit(&o->app, &dopt, set, o->out);
    if (rc == 0 && o->strict && o->timing_warned)
        rc = XAI_EXIT_STRICT; /* nothing is written */
    if (rc == 0)
        rc = fold_files_free(o, set);
    /* MODEL.onnx (every run), MODEL.fold-K.onnx (all runs but K's) and MODEL.json: explain picks
     * for each run the fold model that never saw it */
    if (rc == 0 && xai_app_save_model(&o->app, o->out, NULL, set, NULL, MODEL_DESCRIPTION_CV, NULL) != 0)
        rc = XAI_EXIT_DATA;
    char note[80];
    screen_note(o, rc == 0 ? xai_driver_set_model(set) : NULL, note, sizeof note);
    if (rc == 0)
        xai_app_log(&o->app, 1, "%s: %d classes, %d runs, kept epoch %d of %d, training accuracy %.3f%s; %d fold "
                    "models beside it", o->out, cls->n, nr, cv.final.best_epoch, cv.final.epochs_run,
                    cv.final.kept_train_acc, note, xai_driver_set_nfolds(set));
    xai_fmri_cv_free(&cv);
    xai_driver_set_free(set);
    return rc;
}

static int check_train_args(opts *o)
{
    if (!o->nbold)
        return xai_app_usage_error(&o->app, "train needs --bold");
    if (!o->out)
        return xai_app_usage_error(&o->app, "train needs -o MODEL.onnx");
    if (o->nevents && o->nevents != o->nbold)
        return xai_app_usage_error(&o->app, "give one --events per --bold (%d and %d)", o->nevents, o->nbold);
    if (o->nlabels && o->nlabels != o->nbold)
        return xai_app_usage_error(&o->app, "give one --labels per --bold (%d and %d)", o->nlabels, o->nbold);
    if (!o->nevents && !o->nlabels)
        return xai_app_usage_error(&o->app, "train needs --events or --labels");
    if (o->family && strcmp(o->family, "dense") && strcmp(o->family, "cnn3d") && strcmp(o->family, "deeplight"))
        return xai_app_usage_error(&o->app, "--family: unknown '%s' (dense, cnn3d or deeplight)", o->family);
    char *side = xai_app_sidecar_path(o->out);
    /* the one overwrite rule: an existing output without --force */
    int taken = xai_app_check_output(&o->app, o->out) != 0 || !side || xai_app_check_output(&o->app, side) != 0;
    free(side);
    return taken ? XAI_EXIT_USAGE : 0;
}

/* Train on every run and save. */
static int train_all(opts *o, xai_fmri_run *runs, int nr, const xai_fmri_classes *cls, const xai_nifti *mask)
{
    int *use = calloc((size_t)nr, sizeof *use), rc = 0;
    xai_model *m = NULL;
    xai_train_result res;
    if (!use)
        return xai_app_fail(&o->app, NULL, "out of memory");
    for (int i = 0; i < nr; i++)
        use[i] = 1;
    rc = train_model(o, runs, nr, use, cls, mask, &m, &res);
    if (rc == 0 && o->strict && o->timing_warned)
        rc = XAI_EXIT_STRICT; /* nothing is written */
    if (rc == 0) {
        xai_export_options eo = {0, 17};
        if (xai_app_save_model(&o->app, o->out, m, NULL, &eo, MODEL_DESCRIPTION, NULL) != 0)
            rc = XAI_EXIT_DATA;
        else {
            char note[80];
            screen_note(o, m, note, sizeof note);
            xai_app_log(&o->app, 1, "%s: %d classes, %d runs, kept epoch %d of %d, training accuracy %.3f%s", o->out,
                        cls->n, nr, res.best_epoch, res.epochs_run, res.kept_train_acc, note);
        }
    }
    xai_model_free(m);
    free(use);
    return rc;
}

int cmd_train(opts *o)
{
    int rc = check_train_args(o), nr = 0;
    if (rc)
        return rc;
    xai_fmri_classes cls = {0};
    if (o->conditions && xai_fmri_classes_parse(&cls, o->conditions) != XAI_OK)
        return xai_app_usage_error(&o->app, "--conditions: %s", xai_last_error());
    xai_nifti *mask = NULL;
    xai_fmri_run *runs = calloc(MAX_RUNS, sizeof *runs);
    rc = runs ? load_mask(o, &mask) : xai_app_fail(&o->app, NULL, "out of memory");
    if (rc == 0)
        rc = load_training_runs(o, o->bold, o->nevents ? o->events : NULL, o->nlabels ? o->labels : NULL, o->nbold,
                                mask, &cls, runs, &nr, MAX_RUNS);
    if (rc == 0 && cls.n < 2)
        rc = xai_app_fail(&o->app, NULL, "need at least two classes, found %d", cls.n);
    if (rc == 0 && o->cv && nr < 2)
        rc = xai_app_usage_error(&o->app, "--cv needs at least two runs (several --bold, or a --labels table "
                                          "with a run column)");
    if (rc == 0)
        rc = o->cv ? train_cv(o, runs, nr, &cls, mask) : train_all(o, runs, nr, &cls, mask);
    for (int i = nr - 1; runs && i >= 0; i--)
        xai_fmri_run_free(&runs[i]);
    free(runs);
    xai_nifti_close(mask);
    xai_fmri_classes_free(&cls);
    return rc;
}
