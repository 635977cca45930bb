/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * train.c - xai-speech train and eval: clips into a study (xai_speech_study_load), the
 * shared driver for grouped validation by speaker, the model card with the spectrogram
 * pipeline as its pre-processing record.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "speech-app.h"
#include "xai/card.h"
#include "xai/validate.h"

const char *const speech_augment_names[3] = {"none", "shift", "mask"};

int speech_augment_from_name(const char *name)
{
    for (int k = SPEECH_AUGMENT_NONE; k <= SPEECH_AUGMENT_MASK; k++)
        if (!strcmp(name, speech_augment_names[k]))
            return k;
    return -1;
}

void speech_note(void *app, const char *file, const char *msg)
{
    xai_app_fail(app, file, "%s", msg);
}

int speech_class_names(const xai_driver_set *set, const char **names, int cap)
{
    const xai_card *card = xai_driver_set_card(set);
    int k = xai_card_class_count(card);
    k = k < cap ? k : cap;
    for (int i = 0; i < k; i++)
        names[i] = xai_card_class_name(card, i);
    return k;
}

/* The pipeline of the model's card, checked against the model input and --preset. */
static int check_pipeline(opts *o, const xai_driver_set *set, xai_speech_pre *pre)
{
    char *pj = xai_card_get_json(xai_driver_set_card(set), "preprocessing");
    if (!pj || !strstr(pj, "xai-speech")) {
        xai_free(pj);
        return xai_app_fail(&o->app, o->model, "no xai-speech spectrogram pipeline in the model card's "
                            "preprocessing (metadata xai_preprocessing in older models; train the model with '"
                            PROG " train')");
    }
    xai_status st = xai_speech_pre_from_json(pj, pre);
    xai_free(pj);
    if (st != XAI_OK)
        return xai_app_fail(&o->app, o->model, "%s", xai_last_error());
    if (o->preset && strcmp(o->preset, pre->preset) != 0)
        return xai_app_fail(&o->app, o->model, "was trained with spectrogram preset '%s', not '%s'; features "
                            "would not match", pre->preset, o->preset);
    int nd;
    const int64_t *sh = xai_model_input_shape(xai_driver_set_model(set), &nd);
    const int64_t *s3 = nd == 4 ? sh + 1 : sh; /* per-sample shape, with or without batch 1 */
    if ((nd != 3 && nd != 4) || (nd == 4 && sh[0] != 1) || s3[0] != 1 || s3[1] != pre->rows || s3[2] != pre->frames) {
        char a[128];
        return xai_app_fail(&o->app, o->model, "input shape %s does not match its spectrogram pipeline [1, %d, %lld]",
                            xai_shape_str(nd, sh, a, sizeof a), pre->rows, (long long)pre->frames);
    }
    return 0;
}

int speech_load_model(opts *o, xai_driver_set **set, xai_speech_pre *pre)
{
    *set = NULL;
    if (xai_driver_set_load(o->model, NULL, set) != XAI_OK)
        return xai_app_fail(&o->app, o->model, "%s", xai_last_error());
    int rc = check_pipeline(o, *set, pre);
    if (rc == 0)
        rc = xai_app_driver_strict_exit(&o->app, &o->dopt, *set, o->model);
    if (rc != 0) {
        xai_driver_set_free(*set);
        *set = NULL;
    }
    return rc;
}

/* ------------------------------------------------------------------ train */

/* What the domain knows for the card: classes, axes, the pipeline, the labels' origin. */
static xai_card *speech_card(const opts *o, const xai_speech_pre *pre)
{
    xai_card *c = NULL;
    char *pj = xai_speech_pre_to_json(pre), rate[32], axes[128], lab[600];
    snprintf(rate, sizeof rate, "%d", pre->spec.sample_rate);
    snprintf(axes, sizeof axes, "[\"channel\",\"%s\",\"time\"]", pre->spec.n_mels > 0 ? "mel band" : "frequency bin");
    json_t *lj = json_string(o->labels);
    char *ls = lj ? json_dumps(lj, JSON_ENCODE_ANY) : NULL;
    json_decref(lj);
    snprintf(lab, sizeof lab, "%s", ls ? ls : "null");
    free(ls);
    const char *kv[][2] = {{"domain", "\"speech\""}, {"input.axes", axes}, {"input.units", "[\"\",\"Hz\",\"s\"]"},
                           {"input.sampling_rate_hz", rate}, {"preprocessing", pj}, {"training.labels", lab},
                           {"training.split_by", strcmp(o->dopt.split_by, "clip") ? "\"speaker\"" : "\"clip\""}};
    xai_status st = pj ? xai_card_new(&c) : XAI_ENOMEM;
    for (size_t i = 0; st == XAI_OK && i < sizeof kv / sizeof kv[0]; i++)
        st = xai_card_set_json(c, kv[i][0], kv[i][1]);
    free(pj);
    if (st != XAI_OK) {
        xai_app_fail(&o->app, NULL, "model card: %s", xai_last_error());
        xai_card_free(c);
        return NULL;
    }
    return c;
}

/* MODEL.json beyond the card: what the run read (classes and counts, clips, failures) and
   the card's pre-processing record again under the sidecar's name */
static json_t *train_sidecar(const opts *o, const xai_driver_set *set, const xai_speech_study *s, int removed)
{
    char *cj = NULL;
    json_t *card = NULL, *side = json_object(), *counts = json_object(), *cls = json_array();
    if (xai_card_to_json(xai_driver_set_card(set), 0, &cj) == XAI_OK)
        card = json_loads(cj, 0, NULL);
    xai_free(cj);
    for (int k = 0; counts && cls && k < s->d.nclasses; k++) {
        int64_t n = 0;
        for (int64_t i = 0; i < s->d.n; i++)
            n += s->d.y[i] == k;
        json_array_append_new(cls, json_string(s->d.class_names[k]));
        json_object_set_new(counts, s->d.class_names[k], json_integer(n));
    }
    if (side && counts && cls) {
        json_object_set(side, "Classes", cls);
        json_object_set(side, "ClassCounts", counts);
        json_object_set_new(side, "Labels", json_string(o->labels));
        json_object_set_new(side, "Clips", json_integer(s->d.n));
        json_object_set_new(side, "FailedClips", json_integer(s->nfailed));
        json_object_set_new(side, "UnlabelledFiles", json_integer(removed));
        json_object_set_new(side, "Augmentation", json_string(speech_augment_names[o->augment]));
        json_object_set(side, "Preprocessing", json_object_get(card, "preprocessing"));
    }
    json_decref(card);
    json_decref(counts);
    json_decref(cls);
    return side;
}

/* Labelled clips of the inputs as a study; 0 or the exit code (printed). */
static int train_study(opts *o, xai_speech_ctx *ctx, xai_speech_study *s)
{
    xai_speech_pre pre;
    if (xai_speech_pre_preset(o->preset ? o->preset : SPEECH_DEFAULT_PRESET, o->duration, &pre) != XAI_OK)
        return xai_app_usage_error(&o->app, "--preset: %s", xai_last_error());
    pre.norm = o->norm;
    if (o->n_mels > 0 && xai_speech_pre_set_mels(&pre, o->n_mels) != XAI_OK)
        return xai_app_usage_error(&o->app, "--mels: %s", xai_last_error());
    if (xai_speech_ctx_init(ctx, &pre) != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    xai_speech_study_options so = {.group_kind = o->dopt.split_by, .progress = xai_app_driver_progress,
                                   .progress_ud = &o->app};
    if (xai_speech_study_load(ctx, &o->files, &so, s) != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    if (s->d.n < 2)
        return xai_app_fail(&o->app, NULL, "train: %lld usable labelled clips; need at least 2", (long long)s->d.n);
    if (s->d.nclasses < 2)
        return xai_app_fail(&o->app, NULL, "train: only one class ('%s') among the labels",
                            s->d.nclasses ? s->d.class_names[0] : "");
    xai_app_log(&o->app, 1, "%lld clips of %d %ss, %d classes, features %d x %lld (%s)", (long long)s->d.n,
                s->d.ngroups, s->d.group_kind, s->d.nclasses, pre.rows, (long long)pre.frames, pre.preset);
    return 0;
}

/* --augment shift: a copy of each training clip moved in time by up to o->shift_frames whole
 * frames (SpecAugment-style time shift, Park et al. 2019); the frames moved in take the clip's
 * quietest value, as the centred padding of a short clip would. */
static xai_status shift_augment(void *ud, float *x, int64_t n, int ndim, const int64_t *shape, uint64_t seed)
{
    const int64_t maxs = *(const int *)ud;
    if (ndim != 3)
        return xai_error_set(XAI_EINVAL, "augment: expected [1][rows][frames]");
    const int64_t R = shape[1], T = shape[2];
    float *row = malloc((size_t)T * sizeof *row);
    if (!row)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    uint64_t r = seed | 1;
    for (int64_t i = 0; i < n; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        const int64_t sh = maxs ? (int64_t)(r % (uint64_t)(2 * maxs + 1)) - maxs : 0;
        float *v = x + (size_t)i * (size_t)R * (size_t)T, lo = v[0];
        for (int64_t k = 1; k < R * T; k++)
            lo = v[k] < lo ? v[k] : lo;
        for (int64_t c = 0; c < R; c++, v += T) {
            for (int64_t t = 0; t < T; t++)
                row[t] = t - sh >= 0 && t - sh < T ? v[t - sh] : lo;
            memcpy(v, row, (size_t)T * sizeof *row);
        }
    }
    free(row);
    return XAI_OK;
}

/* --augment mask: a copy of each training clip with one band of up to rows/5 rows and one span
 * of up to frames/5 frames set to the clip's mean (SpecAugment's frequency and time masks, Park
 * et al. 2019; their zero is the mean of their mean-normalised features). */
static xai_status mask_augment(void *ud, float *x, int64_t n, int ndim, const int64_t *shape, uint64_t seed)
{
    (void)ud;
    if (ndim != 3)
        return xai_error_set(XAI_EINVAL, "augment: expected [1][rows][frames]");
    const int64_t R = shape[1], T = shape[2], F = R / 5, W = T / 5;
    uint64_t r = seed | 1;
    for (int64_t i = 0; i < n; i++) {
        float *v = x + (size_t)i * (size_t)R * (size_t)T;
        double mean = 0;
        for (int64_t k = 0; k < R * T; k++)
            mean += v[k];
        mean /= (double)(R * T);
        int64_t draw[4];
        for (int k = 0; k < 4; k++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            draw[k] = (int64_t)(r >> 11);
        }
        const int64_t f = draw[0] % (F + 1), f0 = draw[1] % (R - f + 1);
        const int64_t w = draw[2] % (W + 1), t0 = draw[3] % (T - w + 1);
        for (int64_t c = 0; c < R; c++)
            for (int64_t t = 0; t < T; t++)
                if ((c >= f0 && c < f0 + f) || (t >= t0 && t < t0 + w))
                    v[c * T + t] = (float)mean;
    }
    return XAI_OK;
}

/* Train through the driver; *set on success. 0 or the exit code (printed). */
static int train_set(opts *o, const xai_speech_ctx *ctx, const xai_speech_study *s, xai_driver_set **set)
{
    xai_card *card = speech_card(o, &ctx->pre);
    char *arch = o->arch ? strdup(o->arch)
                         : xai_app_strdup_printf("%s dense(%d)", SPEECH_DEFAULT_ARCH, s->d.nclasses);
    int rc = XAI_EXIT_DATA;
    if (card && arch) {
        xai_driver_train_options to;
        xai_app_driver_train_setup(&o->app, &o->dopt, &to);
        to.arch = arch;
        to.allow_within = 1; /* one speaker: split by clips, flagged in the card */
        /* Batch norm's running statistics: one batch of spectrograms pools thousands of values
           per channel, so it estimates them well, while a small set gives few steps per epoch
           (two on 64 clips), too few for PyTorch's 0.1 to forget its initial 0 and 1 before
           early stopping keeps an epoch. */
        to.train.bn_momentum = SPEECH_BN_MOMENTUM;
        if (o->augment == SPEECH_AUGMENT_SHIFT) {
            const xai_spec_config *c = &ctx->pre.spec;
            const int hop = c->stft.hop > 0 ? c->stft.hop : c->stft.n_fft / 4;
            o->shift_frames = (int)(0.1 * c->sample_rate / hop); /* 100 ms */
            to.augment = shift_augment;
            to.augment_ud = &o->shift_frames;
            to.augment_copies = 1;
        } else if (o->augment == SPEECH_AUGMENT_MASK) {
            to.augment = mask_augment;
            to.augment_copies = 1;
        }
        if (xai_driver_train(&s->d, &to, card, set) == XAI_OK)
            rc = 0;
        else
            xai_app_fail(&o->app, o->arch ? "--arch" : NULL, "training: %s", xai_last_error());
    } else if (!arch) {
        xai_app_fail(&o->app, NULL, "out of memory");
    }
    free(arch);
    xai_card_free(card);
    return rc;
}

int run_train(opts *o)
{
    xai_app *app = &o->app;
    if (!o->labels || !o->output || o->files.n == 0)
        return xai_app_usage_error(app, "train: need inputs, --labels and -o MODEL.onnx");
    char *side = xai_app_sidecar_path(o->output);
    int taken = xai_app_check_output(app, o->output) != 0 || !side || xai_app_check_output(app, side) != 0;
    free(side);
    if (taken)
        return XAI_EXIT_USAGE; /* the one overwrite rule: nothing is written */
    int removed = xai_speech_files_label(&o->files, o->labels, o->column);
    if (removed < 0)
        return XAI_EXIT_DATA;
    xai_speech_ctx ctx = {0};
    xai_speech_study s = {0};
    xai_driver_set *set = NULL;
    int rc = train_study(o, &ctx, &s);
    if (rc == 0)
        rc = train_set(o, &ctx, &s, &set);
    if (rc == 0) {
        xai_app_driver_print_summary(app, set);
        rc = xai_app_driver_strict_exit(app, &o->dopt, set, o->output); /* --strict: nothing written */
    }
    if (rc == 0)
        rc = xai_app_save_model(app, o->output, NULL, set, NULL, NULL, train_sidecar(o, set, &s, removed));
    if (rc == 0) {
        xai_app_log(app, 1, "wrote %s", o->output);
        rc = (s.nfailed || removed) ? XAI_EXIT_PARTIAL : XAI_EXIT_OK;
    }
    xai_driver_set_free(set);
    xai_speech_study_free(&s);
    xai_speech_ctx_free(&ctx);
    return rc;
}

/* ------------------------------------------------------------------ eval */

static void print_eval(const xai_heldout *h, const char *const *names, int K)
{
    printf("accuracy %.4f (%lld of %lld clips)\n", h->n ? (double)h->correct / (double)h->n : 0.0,
           (long long)h->correct, (long long)h->n);
    printf("95%% interval %.4f-%.4f, chance %.4f (most frequent class)%s\n", h->ci_low, h->ci_high, h->chance,
           h->ci_low > h->chance ? "" : ": NOT above chance");
    for (int t = 0; t < K; t++) {
        int64_t row = 0;
        for (int p = 0; p < K; p++)
            row += h->confusion[t * K + p];
        if (row)
            printf("  class %-10s accuracy %.4f (%lld of %lld)\n", names[t], (double)h->confusion[t * K + t] / (double)row,
                   (long long)h->confusion[t * K + t], (long long)row);
    }
    printf("balanced accuracy %.4f\nconfusion (rows truth, columns prediction):\n", h->balanced_accuracy);
    for (int t = 0; t < K; t++) {
        printf("  %-10s", names[t]);
        for (int p = 0; p < K; p++)
            printf(" %4lld", (long long)h->confusion[t * K + p]);
        printf("\n");
    }
}

static int write_eval_json(opts *o, const xai_heldout *h, const char *const *names, int K, const xai_speech_study *s)
{
    json_t *pc = json_object(), *cm = json_array(), *cls = json_array();
    for (int t = 0; t < K; t++) {
        json_t *row = json_array();
        int64_t sum = 0;
        for (int p = 0; p < K; p++) {
            sum += h->confusion[t * K + p];
            json_array_append_new(row, json_integer(h->confusion[t * K + p]));
        }
        json_array_append_new(cm, row);
        json_array_append_new(cls, json_string(names[t]));
        if (sum)
            json_object_set_new(pc, names[t], json_real((double)h->confusion[t * K + t] / (double)sum));
    }
    char sha[65] = "";
    xai_sha256_file(o->model, sha);
    json_t *j = json_pack("{s:f,s:f,s:I,s:I,s:o,s:o,s:i,s:i,s:s,s:o,s:[f,f],s:f}", "accuracy",
                          h->n ? (double)h->correct / (double)h->n : 0.0, "balanced_accuracy", h->balanced_accuracy,
                          "clips", (json_int_t)h->n, "correct", (json_int_t)h->correct, "per_class_accuracy", pc,
                          "confusion", cm, "failed", s->nfailed, "unknown_label", s->nunknown, "model_sha256", sha,
                          "classes", cls, "ci95", h->ci_low, h->ci_high, "chance_level", h->chance);
    char *t = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    int rc = t ? xai_app_write_atomic(&o->app, o->json, t, strlen(t)) : -1;
    free(t);
    return rc;
}

/* Predictions of the model for new data on the labelled clips of @p s; 0 or exit code. */
static int eval_study(opts *o, const xai_driver_set *set, const xai_speech_study *s, const char *const *names, int K)
{
    int *pred = malloc(sizeof(int) * (size_t)(s->d.n ? s->d.n : 1)), *truth = malloc(sizeof(int) * (size_t)(s->d.n ? s->d.n : 1));
    int rc = XAI_EXIT_DATA;
    xai_heldout h = {0};
    if (!pred || !truth || xai_predict_classes(xai_driver_set_model(set), s->d.n, s->d.x, pred) != XAI_OK) {
        xai_app_fail(&o->app, o->model, "%s", pred && truth ? xai_last_error() : "out of memory");
        goto out;
    }
    int64_t n = 0;
    for (int64_t i = 0; i < s->d.n; i++)
        if (s->d.y[i] >= 0) {
            truth[n] = s->d.y[i];
            pred[n++] = pred[i];
        }
    if (n == 0 || xai_heldout_stats(truth, pred, n, K, &h) != XAI_OK) {
        xai_app_fail(&o->app, NULL, "eval: %s", n ? xai_last_error() : "no clip with a label of the model's classes");
        goto out;
    }
    print_eval(&h, names, K);
    if (o->json && write_eval_json(o, &h, names, K, s) != 0)
        goto out;
    rc = 0;
out:
    xai_heldout_free(&h);
    free(pred);
    free(truth);
    return rc;
}

int run_eval(opts *o)
{
    if (!o->model || !o->labels || o->files.n == 0)
        return xai_app_usage_error(&o->app, "eval: need --model, inputs and --labels");
    if (o->json && xai_app_check_output(&o->app, o->json) != 0)
        return XAI_EXIT_USAGE;
    xai_driver_set *set = NULL;
    xai_speech_pre pre;
    int rc = speech_load_model(o, &set, &pre);
    if (rc != 0)
        return rc;
    const char *names[256];
    const int K = speech_class_names(set, names, 256);
    int removed = xai_speech_files_label(&o->files, o->labels, o->column);
    xai_speech_ctx ctx = {0};
    xai_speech_study s = {0};
    xai_speech_study_options so = {.classes = names, .nclasses = K};
    rc = XAI_EXIT_DATA;
    if (removed < 0 || K != xai_model_output_numel(xai_driver_set_model(set)))
        rc = removed < 0 ? rc : xai_app_fail(&o->app, o->model, "the card's classes do not match the model's outputs");
    else if (xai_speech_ctx_init(&ctx, &pre) != XAI_OK || xai_speech_study_load(&ctx, &o->files, &so, &s) != XAI_OK)
        xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    else if ((rc = eval_study(o, set, &s, names, K)) == 0)
        rc = (s.nfailed || removed || s.nunknown) ? XAI_EXIT_PARTIAL : XAI_EXIT_OK;
    xai_speech_study_free(&s);
    xai_speech_ctx_free(&ctx);
    xai_driver_set_free(set);
    return rc;
}
