/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-train - train a CNN / LSTM classifier from an architecture spec (or fine-tune an
 * ONNX model) on X.npy / Y.npy, and save it as ONNX with its provenance in metadata_props.
 * Thin program over libxai's xai_model_from_spec / xai_train; the model is saved with its
 * JSON sidecar (MODEL.json) by xai_app_save_model.
 * Exit codes: 0 ok, 1 data or runtime error, 2 usage error.
 */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xai.h"
#include "xai/npy.h"
#include "xai/train.h"
#include "app-driver.h"
#include "app.h"
#include "card-cmd.h"
#include "guide.h"
#include "options.h"
#include "record.h"

#define PROG "xai-train"

static xai_app app;

static int usage_error(const char *msg)
{
    return xai_app_usage_error(&app, "%s", msg);
}

static int fail(const char *file, const char *msg)
{
    return xai_app_fail(&app, file, "%s", msg);
}

static int write_json_atomic(json_t *root, const char *path)
{
    char *text = json_dumps(root, JSON_INDENT(2));
    if (!text)
        return -1;
    int rc = xai_app_write_atomic(&app, path, text, strlen(text));
    free(text);
    return rc;
}

/* What was loaded and made from it; freed by data_free(). */
typedef struct {
    xai_npy X;
    int *y;
    int64_t n, per, nc;
    int ymax;
    xai_model *m;
    char *pretext; /* the --preprocessing record, stored verbatim */
    float *cw;
} train_data;

/* The --preprocessing record must be JSON; it is kept as written. */
static int load_preprocessing(const char *pre, train_data *d)
{
    if (!pre)
        return 0;
    d->pretext = xai_app_read_file(pre, NULL);
    json_error_t je;
    json_t *pj = d->pretext ? json_loads(d->pretext, 0, &je) : NULL;
    if (!pj)
        return fail(pre, d->pretext ? je.text : "cannot read");
    json_decref(pj);
    return 0;
}

/* Labels of any integer dtype (or integral floats), one per sample of X, each >= 0. */
static int load_labels(const xai_train_opts *o, train_data *d)
{
    if (xai_npy_load_labels(o->yp, d->n, 0, 100000, &d->y) != XAI_OK)
        return xai_app_fail(&app, NULL, "%s", xai_last_error());
    for (int64_t i = 0; i < d->n; i++)
        d->ymax = d->y[i] > d->ymax ? d->y[i] : d->ymax;
    return 0;
}

/* The model from --arch or --init, checked against the samples and labels. */
static int make_model(const xai_train_opts *o, train_data *d)
{
    if (o->arch) {
        if (xai_model_from_spec(o->arch, d->X.ndim - 1, d->X.shape + 1, o->cfg.seed, &d->m) != XAI_OK)
            return fail("--arch", xai_last_error());
    } else if (xai_model_load_onnx(o->init, NULL, &d->m) != XAI_OK) {
        return fail(o->init, xai_last_error());
    }
    int nd;
    const int64_t *ms = xai_model_input_shape(d->m, &nd);
    d->per = xai_model_input_numel(d->m);
    int64_t xper = 1;
    for (int k = 1; k < d->X.ndim; k++)
        xper *= d->X.shape[k];
    if (xper != d->per) {
        char a[256], b[256];
        return xai_app_fail(&app, o->xp, "samples of shape %s do not fit the model input %s",
                            xai_shape_str(d->X.ndim - 1, d->X.shape + 1, a, sizeof a),
                            xai_shape_str(nd, ms, b, sizeof b));
    }
    return 0;
}

/* --class-weights: 'balanced' (n / (K n_k)) or one weight per class. */
static int class_weights(const char *arg, train_data *d)
{
    d->cw = calloc((size_t)d->nc, sizeof(float));
    if (!d->cw)
        return fail(NULL, "out of memory");
    if (!strcmp(arg, "balanced")) {
        for (int64_t i = 0; i < d->n; i++)
            d->cw[d->y[i]] += 1;
        for (int64_t k = 0; k < d->nc; k++)
            d->cw[k] = d->cw[k] > 0 ? (float)d->n / ((float)d->nc * d->cw[k]) : 0.0f;
        return 0;
    }
    double *w = malloc(sizeof(double) * (size_t)d->nc);
    if (!w)
        return fail(NULL, "out of memory");
    int n = d->nc <= INT_MAX ? xai_app_parse_double_list(arg, ',', 0, FLT_MAX, w, (int)d->nc) : -1;
    for (int64_t k = 0; n == d->nc && k < d->nc; k++)
        d->cw[k] = (float)w[k];
    free(w);
    if (n != d->nc)
        return usage_error("--class-weights needs 'balanced' or one non-negative weight per class");
    return 0;
}

/* Everything training needs, checked; @return 0 or the exit code (message printed). */
static int load_all(xai_train_opts *o, train_data *d)
{
    int rc = load_preprocessing(o->pre, d);
    if (rc)
        return rc;
    if (xai_npy_load(o->xp, &d->X) != XAI_OK)
        return fail(o->xp, xai_last_error());
    d->n = d->X.shape[0];
    if ((rc = load_labels(o, d)) != 0)
        return rc;
    if (d->X.ndim < 2)
        return fail(o->xp, "needs a leading sample axis and at least one more ([N, ...])");
    if ((rc = make_model(o, d)) != 0 || (rc = xai_guide_setup(&app, &o->guide, d->m, d->n, d->per, &o->cfg)) != 0)
        return rc;
    d->nc = xai_model_output_numel(d->m);
    if (d->ymax >= d->nc)
        return xai_app_fail(&app, o->yp, "label %d but the model has %lld outputs", d->ymax, (long long)d->nc);
    if (o->cwarg) {
        if ((rc = class_weights(o->cwarg, d)) != 0)
            return rc;
        o->cfg.class_weights = d->cw;
    }
    return 0;
}

/* whether an architecture spec has the `reference` layer (a whole word, not a substring) */
static int spec_has_reference(const char *spec)
{
    static const char word[] = "reference";
    for (const char *p = spec ? strstr(spec, word) : NULL; p; p = strstr(p + 1, word)) {
        char after = p[sizeof word - 1];
        if ((p == spec || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')) && !(isalnum((unsigned char)after) ||
                                                                                   after == '_'))
            return 1;
    }
    return 0;
}

/* The `reference` layer (arch.c) is the identity until it is set: measure the read-out against
   the mean over the training samples, as xai-eeg does per fold. Every sample of X.npy counts,
   the validation part too: the reference moves no logit (checked by xai_model_set_reference),
   only what the relevance is measured against. A fine-tuned model's reference is refitted,
   because its features changed. */
static int fit_reference(const xai_train_opts *o, train_data *d)
{
    const char *spec = o->arch ? o->arch : xai_model_metadata(d->m, "xai_arch");
    if (!spec_has_reference(spec))
        return 0;
    if (xai_model_set_reference(d->m, d->n, d->X.data) != XAI_OK)
        return xai_app_fail(&app, o->xp, "reference layer: %s", xai_last_error());
    if (app.verbosity > 0)
        fprintf(stderr, PROG ": reference layer set to the mean over the %lld training samples\n", (long long)d->n);
    return 0;
}

/* Train, store the card, write the model and then its log (no log, no model). */
static int train_and_write(xai_train_opts *o, train_data *d)
{
    xai_train_log ls = {json_array(), app.verbosity == 0};
    o->cfg.progress = xai_train_log_epoch;
    o->cfg.progress_ud = &ls;
    if (!ls.quiet)
        fprintf(stderr, PROG ": %lld samples of %lld values, %lld classes, up to %d epochs\n", (long long)d->n,
                (long long)d->per, (long long)d->nc, o->cfg.epochs);
    xai_train_result res;
    xai_status st = xai_train(d->m, &o->cfg, d->n, d->X.data, d->y, &res);
    json_t *log = json_object();
    json_object_set_new(log, "epochs", ls.epochs);
    int rc = st != XAI_OK ? fail(o->xp, xai_last_error()) : fit_reference(o, d);
    if (!rc) {
        xai_train_origin org = {PROG " 0.1.0", o->arch, o->init, o->guide.kind, o->guide.lambda};
        json_t *prov = xai_train_provenance(&org, &o->cfg, &res);
        json_object_set_new(log, "result", prov);
        rc = xai_train_set_metadata(&app, d->m, prov, o->arch, o->classes, o->layout, d->pretext);
    }
    xai_export_options eo = {o->keep_bn, 17};
    if (!rc)
        rc = xai_app_save_model(&app, o->out, d->m, NULL, &eo, "xai-train model: samples -> class logits",
                                json_pack("{s:s}", "TrainingLog", o->logp));
    if (!rc && write_json_atomic(log, o->logp) != 0) {
        char *side = xai_app_sidecar_path(o->out);
        unlink(o->out);
        if (side)
            unlink(side);
        free(side);
        rc = XAI_EXIT_DATA;
    }
    if (!rc && !ls.quiet)
        fprintf(stderr, PROG ": wrote %s (best epoch %d); log %s\n", o->out, res.best_epoch, o->logp);
    json_decref(log);
    return rc;
}

static void data_free(train_data *d)
{
    free(d->cw);
    free(d->y);
    free(d->pretext);
    xai_model_free(d->m);
    xai_npy_free(&d->X);
}

int main(int argc, char **argv)
{
    xai_app_init(&app, PROG, "0.1.0", argc, argv);
    xai_app_install_signal_handlers();
    if (argc > 1 && strcmp(argv[1], "card") == 0) {
        int crc = xai_train_card_main(&app, argc - 1, argv + 1);
        xai_app_free(&app);
        return crc;
    }
    xai_train_opts o = {.app = &app};
    train_data d = {0};
    int rc = xai_train_parse_args(argc, argv, &o);
    if (rc == 0)
        rc = load_all(&o, &d);
    if (rc == 0)
        rc = train_and_write(&o, &d);
    xai_guide_free(&o.guide);
    data_free(&d);
    xai_app_free(&app);
    return rc < 0 ? 0 : rc;
}
