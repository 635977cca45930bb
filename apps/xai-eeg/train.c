/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * train.c - xai-eeg train: the epochs of every recording after the pre-processing chosen
 * on the command line, grouped for --split-by, through the shared driver (grouped
 * validation, baseline, card, fold sets); the model, its card and a JSON sidecar.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eeg-app.h"
#include "xai/driver.h"

/* input file stem: basename without extension and without a trailing "_eeg" */
char *eeg_stem_of(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    char *s = xai_app_strdup_printf("%s", b);
    if (!s)
        return NULL;
    char *dot = strrchr(s, '.');
    if (dot && dot != s)
        *dot = '\0';
    size_t n = strlen(s);
    if (n > 4 && strcmp(s + n - 4, "_eeg") == 0)
        s[n - 4] = '\0';
    return s;
}

/* The group of each input for --split-by: BIDS entities of the file name (sub, ses, run),
 * the file itself ("recording"), or each epoch ("epoch": the within-file split, flagged).
 * A name without the entity is its own group, and the caller is told. */
char *eeg_group_of(const char *path, const char *kind, int *missing)
{
    xai_bids_name b;
    int parsed = xai_bids_parse(path, &b) == 0;
    const char *sub = parsed ? xai_bids_get(&b, "sub") : NULL, *ses = parsed ? xai_bids_get(&b, "ses") : NULL;
    const char *run = parsed ? xai_bids_get(&b, "run") : NULL;
    if (!strcmp(kind, "subject") && sub)
        return xai_app_strdup_printf("sub-%s", sub);
    if (!strcmp(kind, "session") && sub)
        return xai_app_strdup_printf("sub-%s_ses-%s", sub, ses ? ses : "none");
    if (!strcmp(kind, "run") && sub && run)
        return xai_app_strdup_printf("sub-%s_ses-%s_run-%s", sub, ses ? ses : "none", run);
    *missing += strcmp(kind, "recording") != 0;
    return eeg_stem_of(path);
}

static int train_load(xai_app *app, const opts *o, xai_eeg_prep *p, xai_dataset *d)
{
    const char *kind = strcmp(o->dopt.split_by, "epoch") ? o->dopt.split_by : "recording";
    char **groups = calloc((size_t)o->ninputs, sizeof *groups);
    xai_eeg_file_count *cnt = calloc((size_t)o->ninputs, sizeof *cnt);
    int missing = 0, rc = XAI_EXIT_DATA;
    for (int f = 0; groups && f < o->ninputs; f++)
        if (!(groups[f] = eeg_group_of(o->inputs[f], kind, &missing)))
            break;
    if (!groups || !cnt || (o->ninputs && !groups[o->ninputs - 1]))
        xai_app_fail(app, NULL, "out of memory");
    else if (xai_eeg_load_dataset(p, o->ninputs, (const char *const *)o->inputs, (const char *const *)groups, kind, 1,
                                  xai_app_driver_progress, app, d, cnt) != XAI_OK)
        xai_app_fail(app, NULL, "%s", xai_last_error());
    else
        rc = XAI_EXIT_OK;
    for (int f = 0; rc == XAI_EXIT_OK && f < o->ninputs; f++) {
        xai_app_log(app, 2, "%s: %lld epochs (%lld outside the recording)", o->inputs[f], (long long)cnt[f].kept,
                    (long long)cnt[f].dropped);
        if (cnt[f].dropped)
            xai_app_driver_warn(app, "dropped epochs whose window leaves the recording");
        if (cnt[f].kept == 0)
            xai_app_log(app, 0, "warning: %s: no event matches --events", o->inputs[f]);
    }
    if (rc == XAI_EXIT_OK && missing)
        xai_app_log(app, 0, "warning: %d file name(s) without the BIDS entity of --split-by %s: each is its own group",
                    missing, kind);
    if (rc == XAI_EXIT_OK && !strcmp(o->dopt.split_by, "epoch") && xai_eeg_split_epochs(d) != XAI_OK)
        rc = xai_app_fail(app, NULL, "%s", xai_last_error());
    for (int f = 0; groups && f < o->ninputs; f++)
        free(groups[f]);
    free(groups);
    free(cnt);
    return rc;
}

static int check_classes(xai_app *app, const xai_eeg_prep *p, const xai_dataset *d)
{
    int64_t count[XAI_EEG_MAX_CLASSES] = {0};
    for (int64_t i = 0; i < d->n; i++)
        count[d->y[i]]++;
    for (int c = 0; c < p->nclass; c++)
        if (count[c] < 2)
            return xai_app_fail(app, NULL, "class '%s' has %lld epochs; need at least 2 (check --events against the "
                                "files' annotations)", p->classes[c], (long long)count[c]);
    return XAI_EXIT_OK;
}

static xai_eeg_prep prep_from_opts(const opts *o)
{
    xai_eeg_prep p = {0};
    p.tmin = o->tmin;
    p.tmax = o->tmax_set ? o->tmax : o->tmin_set ? 0 : 0; /* tmax <= tmin: from the events */
    p.hp = o->hp;
    p.lp = o->lp;
    p.notch = o->notch;
    p.order = o->order;
    p.rate = o->resample;
    p.average_ref = o->average_ref;
    p.baseline_mean = o->baseline_mean;
    p.standardise = o->standardise;
    return p;
}

/* The read-out's reference (the `reference` layer of the default architecture): each model's
   own training epochs, kept by fit, give the mean band power it is measured against (record).
   Fitted per model, so a fold's reference never sees the subjects it holds out. */
typedef struct {
    int64_t n, numel;
    float *x;
} ref_state;

static xai_status ref_fit(void *ud, const int64_t *idx, int64_t n, float *x, const int *y, void **state)
{
    (void)idx, (void)y;
    const int64_t *numel = ud;
    ref_state *r = calloc(1, sizeof *r);
    if (r)
        r->x = malloc(sizeof(float) * (size_t)(n * *numel));
    if (!r || !r->x) {
        free(r);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    memcpy(r->x, x, sizeof(float) * (size_t)(n * *numel));
    r->n = n;
    r->numel = *numel;
    *state = r;
    return XAI_OK;
}

static xai_status ref_apply(void *ud, const void *state, float *x, int64_t n)
{
    (void)ud, (void)state, (void)x, (void)n;
    return XAI_OK; /* the samples are not changed: only the model's reference is fitted */
}

static xai_status ref_record(void *ud, const void *state, xai_model *m, const xai_train_result *res)
{
    (void)ud, (void)res;
    const ref_state *r = state;
    return xai_model_set_reference(m, r->n, r->x);
}

static void ref_free(void *ud, void *state)
{
    (void)ud;
    ref_state *r = state;
    if (r)
        free(r->x);
    free(r);
}

static int train_outputs_free(xai_app *app, const char *out)
{
    if (xai_app_check_output(app, out) != 0)
        return -1;
    char *sidecar = xai_app_sidecar_path(out);
    int bad = !sidecar || xai_app_check_output(app, sidecar) != 0;
    free(sidecar);
    return bad ? -1 : 0;
}

/* MODEL.json beyond the card: the sources with their digests, the record and the kept
   training accuracy (NULL when out of memory) */
static json_t *train_sidecar(const opts *o, const xai_driver_set *set, const xai_eeg_prep *p)
{
    char *rec = xai_eeg_prep_to_json(p);
    json_t *src = json_array(), *side = json_object(), *pre = rec ? json_loads(rec, 0, NULL) : NULL;
    free(rec);
    for (int f = 0; src && f < o->ninputs; f++) {
        char hex[65] = "";
        xai_sha256_file(o->inputs[f], hex);
        json_array_append_new(src, json_pack("{s:s, s:s}", "Path", o->inputs[f], "SHA256", hex));
    }
    const xai_driver_summary *sm = xai_driver_set_summary(set);
    if (!src || !side || !pre) {
        json_decref(src), json_decref(side), json_decref(pre);
        return NULL;
    }
    json_object_set_new(side, "Sources", src);
    json_object_set_new(side, "Preprocessing", pre);
    json_object_set_new(side, "TrainAccuracy", json_real(sm ? sm->kept_train_acc : NAN));
    static const char *const aug[] = {"none", "shift-scale", "shift-scale-dropout"};
    json_object_set_new(side, "Augmentation",
                        json_pack("{s:s, s:i, s:f}", "Kind", aug[o->augment], "Copies", o->augment ? o->augment_copies : 0,
                                  "ChannelDropout", o->augment == EEG_AUGMENT_DROPOUT ? EEG_CHANNEL_DROPOUT : 0.0));
    return side;
}

int eeg_run_train(xai_app *app, opts *o)
{
    if (!o->events)
        return xai_app_usage_error(app, "train: --events is required (e.g. --events T1=left,T2=right)");
    if (o->ninputs < 1 || !o->output)
        return xai_app_usage_error(app, "train: need --edf FILE... and -o MODEL.onnx");
    if (train_outputs_free(app, o->output) != 0)
        return XAI_EXIT_USAGE; /* the one overwrite rule: an existing output is a usage error */
    xai_eeg_prep p = prep_from_opts(o);
    xai_dataset d = {0};
    xai_card *card = NULL;
    xai_driver_set *set = NULL;
    char *spec = NULL;
    int rc = XAI_EXIT_DATA;
    if (xai_eeg_prep_set_events(&p, o->events) != XAI_OK ||
        (o->channels && xai_eeg_prep_set_channels(&p, o->channels) != XAI_OK)) {
        rc = xai_app_usage_error(app, "%s", xai_last_error());
        goto done;
    }
    if (train_load(app, o, &p, &d) != XAI_EXIT_OK || check_classes(app, &p, &d) != XAI_EXIT_OK)
        goto done;
    if (xai_eeg_fit_normalisation(&p, &d) != XAI_OK || xai_eeg_card_new(&p, &card) != XAI_OK) {
        xai_app_fail(app, NULL, "%s", xai_last_error());
        goto done;
    }
    spec = xai_eeg_arch_expand(o->arch ? o->arch : DEFAULT_ARCH, p.nch, p.nclass, p.ntimes, p.rate);
    xai_app_log(app, 1, "%lld epochs (%d channels x %lld samples at %g Hz, window [%g, %g) s%s), %d classes, "
                "%d %ss; arch: %s", (long long)d.n, p.nch, (long long)p.ntimes, p.rate, p.tmin, p.tmax,
                p.window_from_events ? " from the events' duration" : "", p.nclass, d.ngroups, d.group_kind,
                spec ? spec : "");
    xai_driver_train_options to;
    xai_app_driver_train_setup(app, &o->dopt, &to);
    to.arch = spec;
    to.allow_within = 1; /* one subject: split by epochs, flagged as within-group in the card */
    int64_t numel = 1;
    for (int i = 0; i < d.ndim; i++)
        numel *= d.shape[i];
    const xai_driver_prep ref = {ref_fit, ref_apply, ref_record, ref_free, &numel, NULL, NULL};
    if (spec && strstr(spec, "reference"))
        to.prep = &ref;
    static const double pdrop = EEG_CHANNEL_DROPOUT;
    if (o->augment) {
        to.augment = xai_eeg_augment;
        to.augment_ud = o->augment == EEG_AUGMENT_DROPOUT ? (void *)&pdrop : NULL;
        to.augment_copies = o->augment_copies;
    }
    if (xai_driver_train(&d, &to, card, &set) != XAI_OK) {
        xai_app_fail(app, NULL, "training: %s", xai_last_error());
        goto done;
    }
    xai_app_driver_print_summary(app, set);
    const xai_driver_summary *sm = xai_driver_set_summary(set);
    if (sm && sm->n_folds > 1)
        printf("cv_accuracy\t%.4f\tsd\t%.4f\tfolds\t%d\tmajority\t%.4f\n", sm->accuracy, sm->fold_sd, sm->n_folds,
               sm->chance);
    if ((rc = xai_app_driver_strict_exit(app, &o->dopt, set, o->output)) != XAI_EXIT_OK)
        goto done; /* --strict: nothing is written */
    rc = XAI_EXIT_DATA;
    json_t *side = train_sidecar(o, set, &p);
    if (!side || xai_app_save_model(app, o->output, NULL, set, NULL, NULL, side) != 0) {
        if (!side)
            xai_app_fail(app, o->output, "out of memory");
        goto done;
    }
    xai_app_log(app, 1, "wrote %s", o->output);
    rc = XAI_EXIT_OK;
done:
    xai_driver_set_free(set);
    xai_card_free(card);
    xai_dataset_free(&d);
    free(spec);
    xai_eeg_prep_free(&p);
    return rc;
}
