/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-speech - train a spectrogram CNN on spoken audio (digits, speaker gender or any CSV
 * labels) and explain it with LRP: relevance aligned to the time-frequency bins (.npy),
 * a spectrogram figure with the relevance overlaid, and an optional sonification.
 * The model carries its spectrogram pipeline in metadata "xai_preprocessing"; explain and
 * eval rebuild exactly that pipeline. Conventions: the README, "Outputs on disk".
 * Exit codes: 0 ok, 1 data error, 2 usage error, 3 some inputs failed.
 */
#include <cairo.h>
#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report-app.h"
#include "xai.h"
#include "xai/domain.h"
#include "xai/audio.h"
#include "xai/npy.h"
#include "xai/train.h"
#include "xai/validate.h"
#include "xai/card.h"
#include "app.h"
#include "xai/domain-speech.h"

#define PROG "xai-speech"
#ifndef XAI_SPEECH_VERSION
#define XAI_SPEECH_VERSION "0.1.0"
#endif

static void usage(void)
{
    printf(
"SYNOPSIS\n"
"  " PROG " train DIR|FILE... --labels digit|gender|CSV -o MODEL.onnx [options]\n"
"  " PROG " explain --model MODEL.onnx DIR|FILE... -o OUTDIR [--sonify OUT.wav] [options]\n"
"  " PROG " eval --model MODEL.onnx DIR|FILE... --labels digit|gender|CSV [--json OUT.json]\n"
"\n"
"Audio is anything libsndfile reads (WAV, FLAC, OGG, AIFF, ...); directories are searched\n"
"recursively. Clips are mixed to mono, resampled to the pipeline rate and centred in a fixed\n"
"length (longer clips are cut). Features are the pipeline's dB spectrogram mapped to [0, 1] by\n"
"(dB - max)/80 + 1. The model stores the whole pipeline (metadata xai_preprocessing).\n"
"\n"
"TRAIN\n"
"  --labels digit        leading digit of the file name (FSDD/AudioMNIST '3_theo_0.wav', '7.wav'),\n"
"                        else the 'digit' column of a labels.csv next to the file\n"
"  --labels gender       the 'gender' column of a labels.csv next to the files (or up to 3 parents)\n"
"  --labels FILE.csv     a CSV with columns file (relative to the CSV) and --label-column [label]\n"
"  --preset P            compact | audiomnist | librosa | torchaudio [compact]\n"
"                        compact: 8 kHz, n_fft 256, hop 128, Hann, 40 HTK mels, 40 x 63 per second\n"
"                        audiomnist: scipy stft 455/420 at 8 kHz, 227 x 227 (Becker et al. 2018)\n"
"  --duration S          clip length for compact/librosa/torchaudio [1]\n"
"  --arch SPEC           [conv2d(8,k=3,p=1) relu maxpool(2) conv2d(16,k=3,p=1) relu maxpool(2)\n"
"                        flatten dense(K)] with K the number of classes\n"
"  --epochs N [60]   --batch B [32]   --lr LR [3e-3] (Adam)   --val-split F [0.2]   --patience P [10]\n"
"                        early stopping keeps the epoch with the best loss on the held-out speakers\n"
"  --seed S [0]\n"
"  --split-by speaker|clip  validation holds out whole speakers (a labels.csv 'speaker' column, else\n"
"                        the SPEAKER of LABEL_SPEAKER_N.wav, else the folder) [speaker]; clip puts a\n"
"                        speaker's clips on both sides and overrates the model. --val-split is the\n"
"                        fraction of speakers held out. Training prints the held-out accuracy with\n"
"                        its 95%% interval, chance level and a ridge baseline on the same clips; the\n"
"                        model card records them; a warning says when it is not above chance\n"
"  --strict              exit 4 when the model card warns (train: after writing the model;\n"
"                        explain/eval: before using it)\n"
"  -o, --output MODEL.onnx   model (+ MODEL.json sidecar with the training record)\n");
    printf(
"\n"
    );
    printf(
"EXPLAIN\n"
"  --model MODEL.onnx    a model written by '" PROG " train'\n"
"  --preset P            optional check: fail unless the model uses preset P\n"
"  --method M            lrp | gradient | gradient-x-input | smoothgrad | integrated-gradients [lrp]\n"
"  --composite NAME      LRP composite [epsilon-gamma-box, with box bounds 0..1 = the feature range]\n"
"  --target pred|K|NAME  class to explain [pred]\n"
"  --init logit|onehot   output relevance: the target's logit, so R > 0 is evidence for the class\n"
"                        even when its logit is negative; onehot (Zennit's 1) flips every sign\n"
"                        when the logit is negative [logit]\n"
"  --no-figures          no PNG figures (faster)\n"
"  --stacked             one OUTDIR/relevance.npy [clips][rows][frames] and one relevance.json\n"
"  --save-input          with --stacked: also OUTDIR/input.npy, the model inputs [clips][rows][frames]\n"
"                        (e.g. for xai-evaluate)\n"
"                        (per-clip records in 'Clips') instead of files per clip: for large batches\n"
"  --sonify OUT.wav      (one input only) ISTFT of the STFT masked by clip(R+/max R+, 0, 1) with the\n"
"                        original phase, at the pipeline rate, trimmed to the clip. Mel relevance\n"
"                        goes back to linear bins by the normalised filterbank transpose:\n"
"                        M[k,t] = sum_m fb[m,k] R+[m,t] / sum_m fb[m,k]\n"
"  --batch B             clips per LRP sweep [64]\n"
"  -o, --output OUTDIR   per clip STEM_relevance.npy [rows][frames] float32 (rows = mel bands or\n"
"                        frequency bins, bottom first; frames = time), STEM_relevance.json,\n"
"                        STEM_overlay.png (+ .json); OUTDIR/predictions.tsv for the run\n"
"\n"
"EVAL\n"
"  --labels ...          as for train; prints accuracy, per-class accuracy and the confusion matrix\n"
"  --json OUT.json       the same as JSON\n"
"\n"
"%s"
"\n"
"EXAMPLES\n"
"  " PROG " train build/datasets/speech-synth --labels digit -o digits.onnx\n"
"  " PROG " eval --model digits.onnx ../shared/data/speech/fsdd_subset/recordings --labels digit\n"
"  " PROG " explain --model digits.onnx 3_theo_0.wav -o out --sonify out/3_theo_0_used.wav\n"
"\n"
"EXIT STATUS\n"
"  0 success, 1 data error, 2 usage error, 3 some inputs failed (reported; the rest were done),\n"
"  4 --strict and the model card warns (not above chance, a class never predicted, loses to ridge).\n"
"\n"
"REFERENCES\n"
"  Becker et al. 2018, arXiv:1807.03418 (AudioMNIST, LRP on spectrograms).  Bach et al. 2015\n"
"  (LRP).  Montavon et al. 2019 (composites, z-box).  Paissan et al. 2024, arXiv:2403.13086\n"
"  (L-MAC: listenable masks, ISTFT with the original phase).\n",
           xai_app_common_help);
}

typedef struct {
    xai_app app;
    int cmd; /* 0 train, 1 explain, 2 eval */
    xai_speech_files files;
    const char *labels, *column, *preset, *arch, *model, *output, *sonify, *composite, *target, *json;
    double duration, lr, val_split;
    int epochs, patience, figures, stacked, init_onehot, save_input, split_clip, strict;
    int64_t batch, xbatch;
    uint64_t seed;
    xai_method method;
} opts;

static const char *default_arch = "conv2d(8,k=3,p=1) relu maxpool(2) conv2d(16,k=3,p=1) relu maxpool(2) flatten";

/* ------------------------------------------------------------------ shared helpers */

static int cmp_label(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted unique labels of @p f into *names (pointers borrowed from f). */
static int unique_labels(const xai_speech_files *f, const char ***names)
{
    const char **u = malloc(sizeof(char *) * (size_t)(f->n ? f->n : 1));
    if (!u)
        return -1;
    for (int i = 0; i < f->n; i++)
        u[i] = f->label[i];
    qsort(u, (size_t)f->n, sizeof *u, cmp_label);
    int k = 0;
    for (int i = 0; i < f->n; i++)
        if (k == 0 || strcmp(u[k - 1], u[i]) != 0)
            u[k++] = u[i];
    *names = u;
    return k;
}

static void stem_of(const char *path, char *out, size_t cap)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, cap, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = '\0';
}

/* Inputs whose file names (without extension) collide, e.g. real_digits/SPEAKER/0.wav:
 * flag[i] = 1 for those. Returns a malloc'ed array of f->n ints, or NULL. */
static char (*sort_stems)[256];
static int cmp_stem_idx(const void *a, const void *b)
{
    return strcmp(sort_stems[*(const int *)a], sort_stems[*(const int *)b]);
}

static int *duplicate_stems(const xai_speech_files *f)
{
    int n = f->n;
    int *flag = calloc((size_t)(n ? n : 1), sizeof(int)), *idx = malloc(sizeof(int) * (size_t)(n ? n : 1));
    char(*st)[256] = malloc(sizeof *st * (size_t)(n ? n : 1));
    if (!flag || !idx || !st) {
        free(flag);
        free(idx);
        free(st);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        stem_of(f->path[i], st[i], sizeof st[i]);
        idx[i] = i;
    }
    sort_stems = st;
    qsort(idx, (size_t)n, sizeof *idx, cmp_stem_idx);
    for (int k = 1; k < n; k++)
        if (strcmp(st[idx[k]], st[idx[k - 1]]) == 0)
            flag[idx[k]] = flag[idx[k - 1]] = 1;
    sort_stems = NULL;
    free(idx);
    free(st);
    return flag;
}

/* Output stem of input @p i: its name without extension, or "PARENT_NAME" when @p dup says
 * another input has the same name, so outputs never collide. */
static void output_stem(const char *path, int dup, char *out, size_t cap)
{
    char a[256], b[512];
    stem_of(path, a, sizeof a);
    if (!dup) {
        snprintf(out, cap, "%s", a);
        return;
    }
    snprintf(b, sizeof b, "%s", path);
    char *slash = strrchr(b, '/');
    if (slash)
        *slash = '\0';
    const char *parent = slash ? strrchr(b, '/') : NULL;
    parent = slash ? (parent ? parent + 1 : b) : ".";
    snprintf(out, cap, "%.200s_%s", parent, a);
}

/* Model + its pipeline + class names. */
typedef struct {
    xai_model *m;
    xai_speech_pre pre;
    json_t *classes; /* array of strings or NULL */
    char sha[65];
    int untrusted;   /* the card says the model is not above chance, misses a class or loses to its baseline */
} loaded_model;

static void loaded_free(loaded_model *lm)
{
    xai_model_free(lm->m);
    json_decref(lm->classes);
    memset(lm, 0, sizeof *lm);
}

/* Print the card's warnings about the model's validity, one line each; @return how many. */
static int card_warn(const xai_app *app, const char *model, const xai_card *card)
{
    char *w = NULL;
    int nw = 0;
    if (xai_card_warnings(card, &w, &nw) != XAI_OK)
        return 0;
    for (char *line = w, *end; line && *line; line = end ? end + 1 : NULL) {
        end = strchr(line, '\n');
        if (end)
            *end = '\0';
        if (*line)
            xai_app_log(app, 1, "warning: %s%s%s", model ? model : "", model ? ": " : "", line);
    }
    xai_free(w);
    return nw;
}

static int load_model(opts *o, loaded_model *lm)
{
    memset(lm, 0, sizeof *lm);
    if (xai_model_load_onnx(o->model, NULL, &lm->m) != XAI_OK)
        return xai_app_fail(&o->app, o->model, "%s", xai_last_error());
    /* the card reader also reads the keys models carried before the card */
    xai_card *card = NULL;
    if (xai_card_from_model(lm->m, &card) != XAI_OK) {
        xai_app_fail(&o->app, o->model, "model card: %s", xai_last_error());
        goto bad;
    }
    char *pj = xai_card_get_json(card, "preprocessing");
    if (!pj || !strstr(pj, "xai-speech")) {
        xai_free(pj);
        xai_card_free(card);
        xai_app_fail(&o->app, o->model, "no xai-speech spectrogram pipeline in the model card's preprocessing "
                                        "(metadata xai_preprocessing in older models; train the model with '" PROG
                                        " train')");
        goto bad;
    }
    xai_status pst = xai_speech_pre_from_json(pj, &lm->pre);
    xai_free(pj);
    int K = xai_card_class_count(card);
    if (K == xai_model_output_numel(lm->m)) {
        lm->classes = json_array();
        for (int k = 0; k < K; k++)
            json_array_append_new(lm->classes, json_string(xai_card_class_name(card, k)));
    }
    lm->untrusted = card_warn(&o->app, o->model, card);
    xai_card_free(card);
    if (pst != XAI_OK) {
        xai_app_fail(&o->app, o->model, "%s", xai_last_error());
        goto bad;
    }
    if (lm->untrusted && o->strict) {
        xai_app_fail(&o->app, o->model, "--strict: the model card's warnings make it unfit to explain");
        loaded_free(lm);
        return XAI_EXIT_STRICT;
    }
    if (o->preset && strcmp(o->preset, lm->pre.preset) != 0) {
        xai_app_fail(&o->app, o->model, "was trained with spectrogram preset '%s', not '%s'; features would not match",
                     lm->pre.preset, o->preset);
        goto bad;
    }
    int nd;
    const int64_t *sh = xai_model_input_shape(lm->m, &nd);
    const int64_t *s3 = nd == 4 && sh[0] == 1 ? sh + 1 : sh; /* per-sample shape, with or without batch 1 */
    if ((nd != 3 && nd != 4) || (nd == 4 && sh[0] != 1) || s3[0] != 1 || s3[1] != lm->pre.rows ||
        s3[2] != lm->pre.frames) {
        char a[128];
        xai_app_fail(&o->app, o->model, "input shape %s does not match its spectrogram pipeline [1, %d, %lld]",
                     xai_shape_str(nd, sh, a, sizeof a), lm->pre.rows, (long long)lm->pre.frames);
        goto bad;
    }
    if (xai_sha256_file(o->model, lm->sha) != 0)
        lm->sha[0] = '\0';
    return 0;
bad:
    loaded_free(lm);
    return XAI_EXIT_DATA;
}

static const char *class_name(const loaded_model *lm, int k, char *buf, size_t cap)
{
    json_t *v = lm->classes ? json_array_get(lm->classes, (size_t)k) : NULL;
    if (json_is_string(v))
        return json_string_value(v);
    snprintf(buf, cap, "%d", k);
    return buf;
}

static int class_index(const loaded_model *lm, const char *name)
{
    if (!lm->classes)
        return -1;
    for (size_t i = 0; i < json_array_size(lm->classes); i++)
        if (strcmp(json_string_value(json_array_get(lm->classes, i)), name) == 0)
            return (int)i;
    return -1;
}

/* --target pred|NAME|INDEX through the one parser; *cls stays -1 for pred. 0 or -1 (printed). */
static int parse_target(const xai_app *app, const loaded_model *lm, const char *text, int K, int *cls)
{
    const char **names = calloc((size_t)(K > 0 ? K : 1), sizeof *names);
    if (!names)
        return xai_app_fail(app, NULL, "out of memory"), -1;
    for (int i = 0; i < K && i < (int)json_array_size(lm->classes); i++)
        names[i] = json_string_value(json_array_get(lm->classes, (size_t)i));
    xai_target tg;
    xai_status st = xai_target_parse(text, names, K, XAI_TARGET_ALLOW_INDEX, &tg);
    free(names);
    if (st != XAI_OK) {
        xai_app_usage_error(app, "%s (indices below %d)", xai_last_error(), K);
        return -1;
    }
    if (tg.kind == XAI_TARGET_CLASS)
        *cls = tg.cls;
    return 0;
}

static json_t *pre_json(const xai_speech_pre *p)
{
    char *s = xai_speech_pre_to_json(p);
    json_t *j = s ? json_loads(s, 0, NULL) : NULL;
    free(s);
    return j;
}

static int write_sidecar(xai_app *app, const char *path, json_t *extra)
{
    char *s = json_dumps(extra, JSON_COMPACT | JSON_REAL_PRECISION(9));
    int rc = s ? xai_app_write_sidecar(app, path, s) : -1;
    free(s);
    return rc;
}

/* The domain library's notes about skipped inputs, printed as data errors. */
static void print_note(void *app, const char *file, const char *msg)
{
    xai_app_fail(app, file, "%s", msg);
}

static int figure(const xai_app *app, const char *path, const xai_speech_pre *p, int64_t start, const float *feat,
                  const float *rel, const char *title)
{
    if (xai_speech_figure(path, p, start, feat, rel, title) == XAI_OK)
        return 0;
    return xai_app_fail(app, NULL, "%s", xai_last_error()), -1;
}

/* ------------------------------------------------------------------ train */

/* Features of every file into X (n_ok rows); failures are reported and counted. */
static int load_features(opts *o, const xai_speech_ctx *ctx, float **Xo, int **ok_idx, int *n_ok)
{
    const int64_t per = (int64_t)ctx->pre.rows * ctx->pre.frames;
    float *X = malloc(sizeof(float) * (size_t)per * (size_t)(o->files.n ? o->files.n : 1));
    float *sig = malloc(sizeof(float) * (size_t)ctx->pre.spec.fixed_length);
    int *idx = malloc(sizeof(int) * (size_t)(o->files.n ? o->files.n : 1));
    if (!X || !sig || !idx) {
        free(X);
        free(sig);
        free(idx);
        return xai_app_fail(&o->app, NULL, "out of memory"), -1;
    }
    int k = 0, bad = 0;
    xai_app_progress_begin(&o->app, "features", o->files.n);
    for (int i = 0; i < o->files.n; i++) {
        xai_status st = xai_speech_load(ctx, o->files.path[i], sig, NULL, NULL, NULL, NULL);
        if (st == XAI_OK)
            st = xai_speech_features(ctx, sig, X + (size_t)k * (size_t)per);
        if (st != XAI_OK) {
            xai_app_fail(&o->app, o->files.path[i], "%s", xai_last_error());
            bad++;
        } else {
            idx[k++] = i;
        }
        xai_app_progress_step(&o->app, i + 1, o->files.path[i]);
    }
    xai_app_progress_end(&o->app);
    free(sig);
    *Xo = X;
    *ok_idx = idx;
    *n_ok = k;
    return bad;
}

/* Speaker ids of the usable clips into gid[n]; @return the number of speakers or -1. */
static int speaker_ids(const xai_speech_files *f, int n, const int *idx, int *gid)
{
    int ng = 0;
    for (int i = 0; i < n; i++) {
        gid[i] = -1;
        for (int j = 0; j < i && gid[i] < 0; j++)
            if (strcmp(f->group[idx[j]], f->group[idx[i]]) == 0)
                gid[i] = gid[j];
        if (gid[i] < 0)
            gid[i] = ng++;
    }
    return ng;
}

/* The validation split: whole speakers held out (the default), or clips with --split-by clip
 * or when there is a single speaker (flagged: a speaker on both sides flatters the model). */
static int make_split(opts *o, int n, const int *y, const int *gid, int ng, xai_split *sp)
{
    int by_clip = o->split_clip || ng < 2;
    if (!o->split_clip && ng < 2)
        xai_app_log(&o->app, 1, "warning: one speaker only; validating on clips of the same speaker, "
                                "which says nothing about new speakers");
    if (xai_split_groups(by_clip ? NULL : gid, y, n, by_clip ? XAI_SPLIT_WITHIN : XAI_SPLIT_HOLDOUT, o->val_split, 0,
                         o->seed, sp) != XAI_OK)
        return xai_app_fail(&o->app, NULL, "validation split: %s", xai_last_error()), -1;
    return 0;
}

/* The validation record of the card, from a summary. */
static int card_validation(xai_card *c, const xai_validation *v, const char **names)
{
    char buf[512];
    json_t *j = json_pack("{s:s,s:s,s:i,s:i,s:I,s:f,s:f,s:f,s:[f,f],s:b,s:b}", "scheme",
                          v->within_group ? "holdout" : v->scheme, "group_kind", v->within_group ? "clip" : "speaker",
                          "n_groups", v->n_groups, "n_folds", v->n_folds, "n_heldout", (json_int_t)v->pooled.n,
                          "accuracy", v->pooled.accuracy, "balanced_accuracy", v->pooled.balanced_accuracy,
                          "chance_level", v->pooled.chance, "ci95", v->pooled.ci_low, v->pooled.ci_high,
                          "above_chance", v->verdict.above_chance, "loses_to_baseline",
                          v->verdict.loses_to_baseline);
    if (!j)
        return -1;
    if (v->baseline_name && isfinite(v->baseline_accuracy))
        json_object_set_new(j, "baseline", json_pack("{s:s,s:f}", "name", v->baseline_name, "accuracy",
                                                     v->baseline_accuracy));
    json_t *np = json_array();
    for (int i = 0; i < v->verdict.n_never_predicted; i++)
        json_array_append_new(np, json_string(names[v->verdict.never_predicted[i]]));
    json_object_set_new(j, "classes_never_predicted", np);
    char *t = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(j);
    int rc = t && xai_card_set_json(c, "validation", t) == XAI_OK ? 0 : -1;
    free(t);
    (void)buf;
    return rc;
}

/* Held-out accuracy of the network and of the ridge baseline on the same held-out clips,
 * printed and recorded in @p card. @return the number of warnings, or -1. */
static int validate_model(opts *o, const xai_model *m, const xai_split *sp, int n, int64_t per, const float *X,
                          const int *y, const int *gid, int K, const char **names, xai_card *card)
{
    int *pred = malloc(sizeof(int) * (size_t)n), *bpred = malloc(sizeof(int) * (size_t)n), rc = -1;
    xai_validation v = {0};
    if (!pred || !bpred || xai_predict_classes(m, n, X, pred) != XAI_OK) {
        xai_app_fail(&o->app, NULL, "validation: %s", pred && bpred ? xai_last_error() : "out of memory");
        goto out;
    }
    int have_base = xai_ridge_out_of_fold(sp, per, X, y, K, sp->within_group ? NULL : gid, o->seed, bpred) == XAI_OK;
    if (!have_base)
        xai_app_log(&o->app, 1, "warning: no ridge baseline: %s", xai_last_error());
    if (xai_validation_summarise(sp, sp->within_group ? "clip" : "speaker", y, pred, K, have_base ? "ridge" : NULL,
                                 have_base ? bpred : NULL, &v) != XAI_OK) {
        xai_app_fail(&o->app, NULL, "validation: %s", xai_last_error());
        goto out;
    }
    int nh = 0; /* held-out speakers */
    for (int i = 0; i < n; i++) {
        int first = sp->fold[i] >= 0;
        for (int j = 0; j < i && first; j++)
            first = !(sp->fold[j] >= 0 && gid[j] == gid[i]);
        nh += first;
    }
    char who[96];
    if (v.within_group)
        snprintf(who, sizeof who, "clips of the training speakers (not held-out speakers)");
    else
        snprintf(who, sizeof who, "speakers: %d of %d speakers", nh, v.n_groups);
    xai_app_log(&o->app, 1, "held-out %s, %lld clips: accuracy %.3f (95%% CI %.3f-%.3f), balanced %.3f, chance "
                "%.3f; ridge baseline %.3f", who, (long long)v.pooled.n, v.pooled.accuracy, v.pooled.ci_low,
                v.pooled.ci_high, v.pooled.balanced_accuracy, v.pooled.chance, v.baseline_accuracy);
    if (card_validation(card, &v, names) != 0) {
        xai_app_fail(&o->app, NULL, "model card: %s", xai_last_error());
        goto out;
    }
    rc = card_warn(&o->app, NULL, card);
out:
    xai_validation_free(&v);
    free(pred);
    free(bpred);
    return rc;
}

/* The model card of a new model: classes, input axes, the spectrogram pipeline (the card's
 * pre-processing record), training settings and provenance. Steals @p cls and @p tr. */
static xai_card *speech_card(opts *o, const xai_speech_pre *pre, json_t *cls, json_t *tr, const char *arch)
{
    xai_card *c = NULL;
    char *pj = xai_speech_pre_to_json(pre), *cj = json_dumps(cls, JSON_COMPACT), *tj = json_dumps(tr, JSON_COMPACT);
    char seed[32], rate[32], axes[128];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    snprintf(rate, sizeof rate, "%d", pre->spec.sample_rate);
    snprintf(axes, sizeof axes, "[\"channel\",\"%s\",\"time\"]", pre->spec.n_mels > 0 ? "mel band" : "frequency bin");
    xai_status st = pj && cj && tj ? xai_card_new(&c) : XAI_ENOMEM;
    if (st == XAI_OK)
        st = xai_card_set_json(c, "domain", "\"speech\"");
    if (st == XAI_OK)
        st = xai_card_set_json(c, "classes", cj);
    if (st == XAI_OK)
        st = xai_card_set_json(c, "input.axes", axes);
    if (st == XAI_OK)
        st = xai_card_set_json(c, "input.units", "[\"\",\"Hz\",\"s\"]");
    if (st == XAI_OK)
        st = xai_card_set_json(c, "input.sampling_rate_hz", rate);
    if (st == XAI_OK)
        st = xai_card_set_json(c, "preprocessing", pj);
    if (st == XAI_OK)
        st = xai_card_set_json(c, "training", tj);
    if (st == XAI_OK)
        st = xai_card_set_json(c, "provenance.seed", seed);
    if (st == XAI_OK)
        st = xai_card_set_json(c, "provenance.program", "\"" PROG "\"");
    if (st == XAI_OK)
        st = xai_card_set_json(c, "provenance.version", "\"" XAI_SPEECH_VERSION "\"");
    if (st == XAI_OK) {
        json_t *a = json_string(arch);
        char *aj = json_dumps(a, JSON_ENCODE_ANY);
        st = aj ? xai_card_set_json(c, "provenance.arch", aj) : XAI_ENOMEM;
        free(aj);
        json_decref(a);
    }
    if (st != XAI_OK) {
        xai_app_fail(&o->app, NULL, "model card: %s", pj && cj && tj ? xai_last_error() : "out of memory");
        xai_card_free(c);
        c = NULL;
    }
    free(pj);
    free(cj);
    free(tj);
    json_decref(cls);
    json_decref(tr);
    return c;
}

static int run_train(opts *o)
{
    xai_app *app = &o->app;
    if (!o->labels || !o->output || o->files.n == 0)
        return xai_app_usage_error(app, "train: need inputs, --labels and -o MODEL.onnx");
    if (xai_app_check_output(app, o->output) != 0)
        return XAI_EXIT_DATA;
    int removed = xai_speech_files_label(&o->files, o->labels, o->column);
    if (removed < 0)
        return XAI_EXIT_DATA;
    xai_speech_pre pre;
    if (xai_speech_pre_preset(o->preset ? o->preset : "compact", o->duration, &pre) != XAI_OK)
        return xai_app_usage_error(app, "--preset: %s", xai_last_error());
    xai_speech_ctx ctx = {0};
    if (xai_speech_ctx_init(&ctx, &pre) != XAI_OK)
        return xai_app_fail(app, NULL, "%s", xai_last_error());
    int rc = XAI_EXIT_DATA, n_ok = 0, *idx = NULL, *y = NULL, *gid = NULL;
    unsigned char *vmask = NULL;
    xai_split sp = {0};
    xai_card *card = NULL;
    float *X = NULL;
    const char **names = NULL;
    xai_model *m = NULL;
    char *arch = NULL;
    int bad = load_features(o, &ctx, &X, &idx, &n_ok);
    if (bad < 0)
        goto out;
    if (n_ok < 2) {
        xai_app_fail(app, NULL, "train: %d usable labelled clips; need at least 2", n_ok);
        goto out;
    }
    /* classes from the usable clips */
    xai_speech_files ok = {.n = n_ok};
    ok.label = malloc(sizeof(char *) * (size_t)n_ok);
    y = malloc(sizeof(int) * (size_t)n_ok);
    if (!ok.label || !y) {
        free(ok.label);
        xai_app_fail(app, NULL, "out of memory");
        goto out;
    }
    for (int i = 0; i < n_ok; i++)
        ok.label[i] = o->files.label[idx[i]];
    int K = unique_labels(&ok, &names);
    free(ok.label);
    if (K < 2) {
        xai_app_fail(app, NULL, "train: only one class ('%s') among the labels", K == 1 ? names[0] : "");
        goto out;
    }
    int *count = calloc((size_t)K, sizeof(int));
    for (int i = 0; i < n_ok; i++) {
        int c = 0;
        while (strcmp(names[c], o->files.label[idx[i]]) != 0)
            c++;
        y[i] = c;
        if (count)
            count[c]++;
    }
    if (o->arch) {
        arch = strdup(o->arch);
    } else {
        size_t len = strlen(default_arch) + 32;
        arch = malloc(len);
        if (arch)
            snprintf(arch, len, "%s dense(%d)", default_arch, K);
    }
    const int64_t shape[3] = {1, pre.rows, pre.frames};
    if (!arch || xai_model_from_spec(arch, 3, shape, o->seed, &m) != XAI_OK) {
        xai_app_fail(app, "--arch", "%s", xai_last_error());
        free(count);
        goto out;
    }
    if (xai_model_output_numel(m) != K) {
        xai_app_fail(app, "--arch", "the model has %lld outputs for %d classes", (long long)xai_model_output_numel(m),
                     K);
        free(count);
        goto out;
    }
    gid = malloc(sizeof(int) * (size_t)n_ok);
    vmask = calloc((size_t)n_ok, 1);
    if (!gid || !vmask || xai_speech_files_group(&o->files) != XAI_OK) {
        xai_app_fail(app, NULL, "out of memory");
        free(count);
        goto out;
    }
    int ng = speaker_ids(&o->files, n_ok, idx, gid);
    if (o->val_split > 0) {
        if (make_split(o, n_ok, y, gid, ng, &sp) != 0) {
            free(count);
            goto out;
        }
        xai_split_mask(&sp, 0, vmask);
    }
    xai_train_config cfg;
    xai_app_train_config(&cfg, o->epochs, o->batch, o->lr, o->val_split, o->patience, o->seed);
    cfg.val_mask = vmask;
    cfg.progress = xai_app_train_progress;
    cfg.progress_ud = app;
    xai_app_log(app, 1, "%d clips of %d speakers, %d classes, features %d x %lld (%s), %d epochs", n_ok, ng, K,
                pre.rows, (long long)pre.frames, pre.preset, cfg.epochs);
    xai_train_result res;
    xai_app_progress_begin(app, "train", cfg.epochs);
    xai_status st = xai_train(m, &cfg, n_ok, X, y, &res);
    xai_app_progress_end(app);
    if (st != XAI_OK) {
        xai_app_fail(app, NULL, "training failed: %s", xai_last_error());
        free(count);
        goto out;
    }
    json_t *cls = json_array(), *counts = json_object();
    for (int c = 0; c < K; c++) {
        json_array_append_new(cls, json_string(names[c]));
        json_object_set_new(counts, names[c], json_integer(count ? count[c] : 0));
    }
    free(count);
    json_t *tr = json_pack("{s:s,s:i,s:i,s:i,s:f,s:f,s:f,s:f,s:I,s:I,s:f,s:I,s:s}", "labels", o->labels,
                           "epochs_run", res.epochs_run, "best_epoch", res.best_epoch, "classes", K,
                           "kept_train_loss", res.kept_train_loss, "kept_train_acc", res.kept_train_acc,
                           "best_val_loss", isnan(res.best_val_loss) ? -1.0 : res.best_val_loss, "best_val_acc",
                           isnan(res.best_val_acc) ? -1.0 : res.best_val_acc, "n_train", (json_int_t)res.n_train,
                           "n_val", (json_int_t)res.n_val, "lr", o->lr, "batch", (json_int_t)o->batch, "split_by",
                           o->split_clip ? "clip" : "speaker");
    int nwarn = 0;
    if (!(card = speech_card(o, &pre, json_incref(cls), json_incref(tr), arch))) {
        json_decref(cls);
        json_decref(counts);
        json_decref(tr);
        goto out;
    }
    if (o->val_split > 0 &&
        (nwarn = validate_model(o, m, &sp, n_ok, (int64_t)pre.rows * pre.frames, X, y, gid, K, names, card)) < 0) {
        json_decref(cls);
        json_decref(counts);
        json_decref(tr);
        goto out;
    }
    xai_export_options eo = {0, 17};
    if (xai_card_apply(m, card) != XAI_OK || xai_model_save_onnx(m, o->output, &eo) != XAI_OK) {
        xai_app_fail(app, o->output, "%s", xai_last_error());
        json_decref(cls);
        json_decref(counts);
        json_decref(tr);
        goto out;
    }
    json_t *sc = json_pack("{s:o,s:o,s:o,s:s,s:i,s:i,s:i,s:o}", "Classes", cls, "ClassCounts", counts, "Training", tr,
                           "Labels", o->labels, "Clips", n_ok, "FailedClips", bad, "UnlabelledFiles", removed,
                           "Preprocessing", pre_json(&pre));
    if (write_sidecar(app, o->output, sc) != 0) {
        json_decref(sc);
        goto out;
    }
    json_decref(sc);
    xai_app_log(app, 1, "wrote %s (kept epoch %d of %d: train acc %.3f, validation acc %.3f)", o->output,
                res.best_epoch, res.epochs_run, res.kept_train_acc, res.best_val_acc);
    rc = (o->strict && nwarn > 0) ? XAI_EXIT_STRICT : (bad || removed) ? XAI_EXIT_PARTIAL : XAI_EXIT_OK;
out:
    xai_card_free(card);
    xai_split_free(&sp);
    free(gid);
    free(vmask);
    free(arch);
    xai_model_free(m);
    free(names);
    free(y);
    free(X);
    free(idx);
    xai_speech_ctx_free(&ctx);
    return rc;
}

/* ------------------------------------------------------------------ eval */

static int run_eval(opts *o)
{
    xai_app *app = &o->app;
    if (!o->model || !o->labels || o->files.n == 0)
        return xai_app_usage_error(app, "eval: need --model, inputs and --labels");
    if (o->json && xai_app_check_output(app, o->json) != 0)
        return XAI_EXIT_DATA;
    loaded_model lm;
    int lrc = load_model(o, &lm);
    if (lrc != 0)
        return lrc;
    int removed = xai_speech_files_label(&o->files, o->labels, o->column);
    xai_speech_ctx ctx = {0};
    int rc = XAI_EXIT_DATA, n_ok = 0, *idx = NULL, *conf = NULL, *tv = NULL, *pv = NULL;
    float *X = NULL, *logits = NULL;
    xai_workspace *ws = NULL;
    if (removed < 0)
        goto out;
    if (xai_speech_ctx_init(&ctx, &lm.pre) != XAI_OK) {
        xai_app_fail(app, o->model, "%s", xai_last_error());
        goto out;
    }
    int bad = load_features(o, &ctx, &X, &idx, &n_ok);
    if (bad < 0)
        goto out;
    const int K = (int)xai_model_output_numel(lm.m);
    const int64_t per = (int64_t)lm.pre.rows * lm.pre.frames;
    logits = malloc(sizeof(float) * (size_t)K * (size_t)(n_ok ? n_ok : 1));
    conf = calloc((size_t)K * (size_t)K, sizeof(int));
    if (!logits || !conf || xai_workspace_new(lm.m, 64, &ws) != XAI_OK) {
        xai_app_fail(app, NULL, "out of memory");
        goto out;
    }
    for (int i = 0; i < n_ok; i += 64) {
        int nb = n_ok - i < 64 ? n_ok - i : 64;
        if (xai_model_forward(lm.m, ws, nb, X + (size_t)i * (size_t)per, logits + (size_t)i * (size_t)K) != XAI_OK) {
            xai_app_fail(app, o->model, "%s", xai_last_error());
            goto out;
        }
    }
    int n = 0, correct = 0, unknown = 0;
    tv = malloc(sizeof(int) * (size_t)(n_ok ? n_ok : 1));
    pv = malloc(sizeof(int) * (size_t)(n_ok ? n_ok : 1));
    if (!tv || !pv) {
        xai_app_fail(app, NULL, "out of memory");
        goto out;
    }
    for (int i = 0; i < n_ok; i++) {
        int truth = class_index(&lm, o->files.label[idx[i]]);
        if (truth < 0) {
            xai_app_fail(app, o->files.path[idx[i]], "label '%s' is not a class of the model; not counted",
                         o->files.label[idx[i]]);
            unknown++;
            continue;
        }
        const float *l = logits + (size_t)i * (size_t)K;
        int pred = 0;
        for (int k = 1; k < K; k++)
            pred = l[k] > l[pred] ? k : pred;
        conf[truth * K + pred]++;
        correct += pred == truth;
        tv[n] = truth;
        pv[n] = pred;
        n++;
    }
    char b1[16];
    json_t *pc = json_object(), *cm = json_array();
    printf("accuracy %.4f (%d of %d clips)\n", n ? (double)correct / n : 0.0, correct, n);
    xai_heldout h = {0};
    int have_h = n > 0 && xai_heldout_stats(tv, pv, n, K, &h) == XAI_OK;
    if (have_h)
        printf("95%% interval %.4f-%.4f, chance %.4f (most frequent class)%s\n", h.ci_low, h.ci_high, h.chance,
               h.ci_low > h.chance ? "" : ": NOT above chance");
    const double ci_low = h.ci_low, ci_high = h.ci_high, chance = h.chance;
    xai_heldout_free(&h);
    double bal = 0;
    int nbal = 0;
    for (int t = 0; t < K; t++) {
        int rowsum = 0;
        json_t *row = json_array();
        for (int p = 0; p < K; p++) {
            rowsum += conf[t * K + p];
            json_array_append_new(row, json_integer(conf[t * K + p]));
        }
        json_array_append_new(cm, row);
        if (rowsum) {
            double a = (double)conf[t * K + t] / rowsum;
            bal += a;
            nbal++;
            printf("  class %-10s accuracy %.4f (%d of %d)\n", class_name(&lm, t, b1, sizeof b1), a, conf[t * K + t],
                   rowsum);
            json_object_set_new(pc, class_name(&lm, t, b1, sizeof b1), json_real(a));
        }
    }
    printf("balanced accuracy %.4f\nconfusion (rows truth, columns prediction):\n", nbal ? bal / nbal : 0.0);
    for (int t = 0; t < K; t++) {
        printf("  %-10s", class_name(&lm, t, b1, sizeof b1));
        for (int p = 0; p < K; p++)
            printf(" %4d", conf[t * K + p]);
        printf("\n");
    }
    if (o->json) {
        json_t *j = json_pack("{s:f,s:f,s:i,s:i,s:o,s:o,s:i,s:i,s:s,s:O}", "accuracy", n ? (double)correct / n : 0.0,
                              "balanced_accuracy", nbal ? bal / nbal : 0.0, "clips", n, "correct", correct,
                              "per_class_accuracy", pc, "confusion", cm, "failed", bad, "unknown_label", unknown,
                              "model_sha256", lm.sha, "classes", lm.classes ? lm.classes : json_null());
        if (j && have_h) {
            json_object_set_new(j, "ci95", json_pack("[f,f]", ci_low, ci_high));
            json_object_set_new(j, "chance_level", json_real(chance));
        }
        char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
        json_decref(j);
        int w = s ? xai_app_write_atomic(app, o->json, s, strlen(s)) : -1;
        free(s);
        if (w != 0)
            goto out;
    } else {
        json_decref(pc);
        json_decref(cm);
    }
    rc = (bad || removed || unknown) ? XAI_EXIT_PARTIAL : XAI_EXIT_OK;
out:
    free(tv);
    free(pv);
    xai_workspace_free(ws);
    free(X);
    free(idx);
    free(logits);
    free(conf);
    xai_speech_ctx_free(&ctx);
    loaded_free(&lm);
    return rc;
}

/* ------------------------------------------------------------------ explain */

typedef struct {
    int file;            /* index into o->files */
    int64_t start, len;  /* clip inside the fixed-length signal */
    char npy[4096], png[4096];
} item;

/* Outputs of one clip. With @p stack (--stacked) the relevance goes to the caller's stack and
 * the clip's record is appended to @p stack instead of its own .npy and sidecars. */
static int write_item(opts *o, const loaded_model *lm, const item *it, const float *feat, const float *rel,
                      const float *logits, int target, const xai_explain_config *cfg, FILE *tsv, json_t *stack)
{
    xai_app *app = &o->app;
    const int K = (int)xai_model_output_numel(lm->m);
    const int rows = lm->pre.rows;
    const int64_t F = lm->pre.frames;
    const char *src = o->files.path[it->file];
    int64_t shape[2] = {rows, F};
    if (!stack && xai_npy_save(it->npy, 2, shape, rel) != XAI_OK)
        return xai_app_fail(app, it->npy, "%s", xai_last_error()), -1;
    double rsum = 0;
    for (size_t i = 0; i < (size_t)rows * (size_t)F; i++)
        rsum += rel[i];
    int pred = 0;
    for (int k = 1; k < K; k++)
        pred = logits[k] > logits[pred] ? k : pred;
    char b1[16], b2[16], srcsha[65];
    if (xai_sha256_file(src, srcsha) != 0)
        srcsha[0] = '\0';
    json_t *lg = json_array(), *hz = json_array(), *ts = json_array();
    for (int k = 0; k < K; k++)
        json_array_append_new(lg, json_real(logits[k]));
    if (stack) {
        json_decref(hz);
        json_decref(ts);
        json_t *e = json_pack("{s:I,s:s,s:s,s:i,s:s,s:i,s:s,s:o,s:f,s:I,s:I,s:f,s:s?}", "Index",
                              (json_int_t)json_array_size(stack), "Source", src, "SourceSHA256", srcsha, "Target",
                              target, "TargetName", class_name(lm, target, b1, sizeof b1), "Prediction", pred,
                              "PredictionName", class_name(lm, pred, b2, sizeof b2), "Logits", lg, "RelevanceSum",
                              rsum, "ClipStartSample", (json_int_t)it->start, "ClipSamples", (json_int_t)it->len,
                              "FirstFrameCentreS", xai_speech_col_s(&lm->pre, 0, it->start),
                              "Figure", o->figures ? it->png : NULL);
        if (!e || json_array_append_new(stack, e) != 0)
            return xai_app_fail(app, src, "out of memory"), -1;
        if (o->figures) {
            char title[512], stem[256];
            stem_of(src, stem, sizeof stem);
            snprintf(title, sizeof title, "%s: %s relevance for '%s' (predicted '%s')", stem,
                     xai_method_name(cfg->method), class_name(lm, target, b1, sizeof b1),
                     class_name(lm, pred, b2, sizeof b2));
            if (figure(app, it->png, &lm->pre, it->start, feat, rel, title) != 0)
                return -1;
        }
        fprintf(tsv, "%s\t%s\t%s\t%.6g\t%.6g\t%s[%lld]\n", src, class_name(lm, pred, b1, sizeof b1),
                class_name(lm, target, b2, sizeof b2), (double)logits[target], rsum, it->npy,
                (long long)json_array_size(stack) - 1);
        return 0;
    }
    for (int r = 0; r < rows; r++)
        json_array_append_new(hz, json_real(xai_speech_row_hz(&lm->pre, r)));
    for (int64_t j = 0; j < F; j++)
        json_array_append_new(ts, json_real(xai_speech_col_s(&lm->pre, (double)j, it->start)));
    json_t *j = json_pack("{s:s,s:s,s:s,s:i,s:s,s:i,s:s,s:o,s:f,s:s,s:s,s:s,s:o,s:[s,s],s:o,s:o,s:I,s:I}", "Method",
                          xai_method_name(cfg->method), "Composite", cfg->composite, "Source", src, "Target", target,
                          "TargetName", class_name(lm, target, b1, sizeof b1), "Prediction", pred, "PredictionName",
                          class_name(lm, pred, b2, sizeof b2), "Logits", lg, "RelevanceSum", rsum, "SourceSHA256",
                          srcsha, "Model", o->model, "ModelSHA256", lm->sha, "Preprocessing", pre_json(&lm->pre),
                          "Axes", "frequency row (bottom first)", "time frame", "RowCentreHz", hz, "FrameCentreS", ts,
                          "ClipStartSample", (json_int_t)it->start, "ClipSamples", (json_int_t)it->len);
    if (j)
        json_object_set_new(j, "Init", json_string(cfg->init == XAI_INIT_ONEHOT ? "onehot" : "logit"));
    if (!j || write_sidecar(app, it->npy, j) != 0) {
        json_decref(j);
        return -1;
    }
    if (o->figures) {
        char title[512];
        char stem[256];
        stem_of(src, stem, sizeof stem);
        snprintf(title, sizeof title, "%s: %s relevance for '%s' (predicted '%s')", stem,
                 xai_method_name(cfg->method), class_name(lm, target, b1, sizeof b1),
                 class_name(lm, pred, b2, sizeof b2));
        if (figure(app, it->png, &lm->pre, it->start, feat, rel, title) != 0) {
            json_decref(j);
            return -1;
        }
        json_object_set_new(j, "Figure", json_string("spectrogram features (grey, [0,1]) with relevance overlaid, "
                                                     "bwr centred at 0, origin lower"));
        if (write_sidecar(app, it->png, j) != 0) {
            json_decref(j);
            return -1;
        }
    }
    json_decref(j);
    fprintf(tsv, "%s\t%s\t%s\t%.6g\t%.6g\t%s\n", src, class_name(lm, pred, b1, sizeof b1),
            class_name(lm, target, b2, sizeof b2), (double)logits[target], rsum, it->npy);
    return 0;
}

static int run_explain(opts *o)
{
    xai_app *app = &o->app;
    if (!o->model || !o->output || o->files.n == 0)
        return xai_app_usage_error(app, "explain: need --model, inputs and -o OUTDIR");
    if (o->sonify && o->files.n != 1)
        return xai_app_usage_error(app, "--sonify needs exactly one input clip (got %d)", o->files.n);
    loaded_model lm;
    int lrc = load_model(o, &lm);
    if (lrc != 0)
        return lrc;
    const int K = (int)xai_model_output_numel(lm.m);
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    cfg.method = o->method;
    cfg.composite = o->composite ? o->composite : "epsilon-gamma-box";
    cfg.have_bounds = 1;
    cfg.low = 0;
    cfg.high = 1;
    cfg.layer_sums = 0;
    cfg.batch = o->xbatch;
    /* Start from the class logit, not 1: with one-hot the epsilon rule divides by the logit's
     * pre-activation, so a class whose logit is negative (common: only differences matter
     * under softmax) gets every sign flipped. With the logit, R+ is evidence for the class. */
    cfg.init = o->init_onehot ? XAI_INIT_ONEHOT : XAI_INIT_LOGIT;
    int rc = XAI_EXIT_DATA;
    if (parse_target(app, &lm, o->target, K, &cfg.target) != 0) {
        loaded_free(&lm);
        return XAI_EXIT_USAGE;
    }
    if (o->composite && xai_composite_check(o->composite) != XAI_OK) {
        xai_app_usage_error(app, "--composite: %s", xai_last_error());
        loaded_free(&lm);
        return XAI_EXIT_USAGE;
    }
    char tsvpath[4096], stackpath[4096];
    snprintf(tsvpath, sizeof tsvpath, "%s/predictions.tsv", o->output);
    snprintf(stackpath, sizeof stackpath, "%s/relevance.npy", o->output);
    xai_speech_ctx ctx = {0};
    const int rows = lm.pre.rows;
    const int64_t F = lm.pre.frames, per = (int64_t)rows * F, L = lm.pre.spec.fixed_length;
    const int64_t B = o->xbatch;
    float *X = malloc(sizeof(float) * (size_t)(per * B)), *R = malloc(sizeof(float) * (size_t)(per * B));
    float *sigs = malloc(sizeof(float) * (size_t)(L * B));
    item *items = calloc((size_t)B, sizeof(item));
    char *tsvtmp = NULL;
    FILE *tsv = NULL;
    xai_explain_result res = {0};
    int nbad = 0, ndone = 0;
    json_t *stack = o->stacked ? json_array() : NULL;
    int *dups = duplicate_stems(&o->files);
    float *stackbuf = NULL, *inbuf = NULL;
    if (!X || !R || !sigs || !items || !dups) {
        xai_app_fail(app, NULL, "out of memory");
        goto out;
    }
    if (xai_app_mkdirs(app, o->output) != 0 || xai_app_check_output(app, tsvpath) != 0 ||
        (o->stacked && xai_app_check_output(app, stackpath) != 0) ||
        (o->sonify && xai_app_check_output(app, o->sonify) != 0))
        goto out;
    if (xai_speech_ctx_init(&ctx, &lm.pre) != XAI_OK) {
        xai_app_fail(app, o->model, "%s", xai_last_error());
        goto out;
    }
    tsv = xai_app_atomic_open(app, tsvpath, &tsvtmp);
    if (!tsv)
        goto out;
    fprintf(tsv, "file\tprediction\ttarget\ttarget_logit\trelevance_sum\trelevance\n");
    xai_app_progress_begin(app, "explain", o->files.n);
    for (int i0 = 0; i0 < o->files.n; i0 += (int)B) {
        int nb = 0;
        for (int i = i0; i < o->files.n && i < i0 + B; i++) {
            item *it = &items[nb];
            char stem[1024];
            output_stem(o->files.path[i], dups ? dups[i] : 0, stem, sizeof stem);
            it->file = i;
            if (o->stacked)
                snprintf(it->npy, sizeof it->npy, "%s", stackpath);
            else
                snprintf(it->npy, sizeof it->npy, "%s/%s_relevance.npy", o->output, stem);
            snprintf(it->png, sizeof it->png, "%s/%s_overlay.png", o->output, stem);
            if ((!o->stacked && xai_app_check_output(app, it->npy) != 0) ||
                (o->figures && xai_app_check_output(app, it->png) != 0)) {
                nbad++;
                continue;
            }
            float *sig = sigs + (size_t)nb * (size_t)L;
            xai_status st = xai_speech_load(&ctx, o->files.path[i], sig, &it->start, &it->len, NULL, NULL);
            if (st == XAI_OK)
                st = xai_speech_features(&ctx, sig, X + (size_t)nb * (size_t)per);
            if (st != XAI_OK) {
                xai_app_fail(app, o->files.path[i], "%s", xai_last_error());
                nbad++;
                continue;
            }
            nb++;
        }
        if (nb == 0)
            continue;
        xai_explain_result_free(&res);
        if (xai_explain(lm.m, &cfg, nb, X, R, &res) != XAI_OK) {
            xai_app_fail(app, o->model, "%s", xai_last_error());
            goto out;
        }
        if (stack) {
            float *nbuf = realloc(stackbuf, sizeof(float) * (size_t)per * (size_t)(ndone + nb));
            float *nin = o->save_input ? realloc(inbuf, sizeof(float) * (size_t)per * (size_t)(ndone + nb)) : NULL;
            if (nin)
                inbuf = nin;
            if (!nbuf || (o->save_input && !nin)) {
                xai_app_fail(app, NULL, "out of memory for the stacked relevance");
                goto out;
            }
            stackbuf = nbuf;
        }
        for (int b = 0; b < nb; b++) {
            const float *feat = X + (size_t)b * (size_t)per, *rel = R + (size_t)b * (size_t)per;
            if (write_item(o, &lm, &items[b], feat, rel, res.logits + (size_t)b * (size_t)K, res.target[b], &cfg,
                           tsv, stack) != 0) {
                nbad++;
                continue;
            }
            if (stack)
                memcpy(stackbuf + (size_t)ndone * (size_t)per, rel, sizeof(float) * (size_t)per);
            if (stack && inbuf)
                memcpy(inbuf + (size_t)ndone * (size_t)per, feat, sizeof(float) * (size_t)per);
            ndone++;
            if (o->sonify) {
                float *y = malloc(sizeof(float) * (size_t)L);
                const float *sig = sigs + (size_t)b * (size_t)L;
                if (!y || xai_speech_sonify(&ctx, sig, rel, y) != XAI_OK ||
                    xai_audio_save(o->sonify, y + items[b].start, 1, items[b].len, lm.pre.spec.sample_rate,
                                   XAI_AUDIO_WAV_FLOAT) != XAI_OK) {
                    xai_app_fail(app, o->sonify, "%s", y ? xai_last_error() : "out of memory");
                    free(y);
                    nbad++;
                    ndone--;
                    continue;
                }
                free(y);
                json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:i,s:I,s:s}", "Source", o->files.path[items[b].file],
                                      "Model", o->model, "ModelSHA256", lm.sha, "Relevance", items[b].npy,
                                      "SampleRate", lm.pre.spec.sample_rate, "Samples", (json_int_t)items[b].len,
                                      "Mask", lm.pre.spec.n_mels > 0
                                                  ? "clip(R+/max R+,0,1) on mel rows, to linear bins by "
                                                    "sum_m fb[m,k] R[m,t] / sum_m fb[m,k]; ISTFT with original phase"
                                                  : "clip(R+/max R+,0,1) per linear bin; ISTFT with original phase");
                if (!j || write_sidecar(app, o->sonify, j) != 0) {
                    json_decref(j);
                    nbad++;
                    ndone--;
                    continue;
                }
                json_decref(j);
            }
        }
        xai_app_progress_step(app, i0 + B < o->files.n ? i0 + B : o->files.n, NULL);
    }
    xai_app_progress_end(app);
    if (stack && ndone > 0) {
        int64_t shape[3] = {ndone, rows, F};
        if (xai_npy_save(stackpath, 3, shape, stackbuf) != XAI_OK) {
            xai_app_fail(app, stackpath, "%s", xai_last_error());
            goto out;
        }
        if (inbuf) {
            char inpath[4096];
            snprintf(inpath, sizeof inpath, "%s/input.npy", o->output);
            if (xai_npy_save(inpath, 3, shape, inbuf) != XAI_OK) {
                xai_app_fail(app, inpath, "%s", xai_last_error());
                goto out;
            }
        }
        json_t *hz = json_array(), *ts = json_array();
        for (int r = 0; r < rows; r++)
            json_array_append_new(hz, json_real(xai_speech_row_hz(&lm.pre, r)));
        for (int64_t j = 0; j < F; j++)
            json_array_append_new(ts, json_real(xai_speech_col_s(&lm.pre, (double)j, 0)));
        json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:o,s:[s,s,s],s:o,s:o,s:O}", "Method", xai_method_name(cfg.method),
                              "Composite", cfg.composite, "Model", o->model, "ModelSHA256", lm.sha, "Preprocessing",
                              pre_json(&lm.pre), "Axes", "clip (order of Clips)", "frequency row (bottom first)",
                              "time frame", "RowCentreHz", hz, "WindowFrameCentreS", ts, "Clips", stack);
        if (j)
            json_object_set_new(j, "Init", json_string(cfg.init == XAI_INIT_ONEHOT ? "onehot" : "logit"));
        if (!j || write_sidecar(app, stackpath, j) != 0) {
            json_decref(j);
            unlink(stackpath);
            goto out;
        }
        json_decref(j);
    }
    if (xai_app_atomic_commit(app, tsv, tsvtmp, tsvpath, ndone > 0) != 0 && ndone > 0) {
        tsv = NULL;
        goto out;
    }
    tsv = NULL;
    if (ndone > 0 && xai_app_write_sidecar(app, tsvpath, "{\"Description\": \"one row per explained clip: source, "
                                                        "predicted and explained class, logit, relevance sum, map\"}"))
        goto out; /* a sidecar for every output */
    xai_app_log(app, 1, "explained %d clip(s) into %s%s", ndone, o->output, nbad ? " (some failed)" : "");
    rc = nbad == 0 ? XAI_EXIT_OK : ndone > 0 ? XAI_EXIT_PARTIAL : XAI_EXIT_DATA;
out:
    if (tsv)
        xai_app_atomic_commit(app, tsv, tsvtmp, tsvpath, 0);
    xai_explain_result_free(&res);
    json_decref(stack);
    free(stackbuf);
    free(inbuf);
    free(dups);
    free(X);
    free(R);
    free(sigs);
    free(items);
    xai_speech_ctx_free(&ctx);
    loaded_free(&lm);
    return rc;
}

/* ------------------------------------------------------------------ main */

static int parse_num(const char *s, double lo, double hi, double *v)
{
    char *e;
    errno = 0;
    *v = strtod(s, &e);
    return (e == s || *e || errno || !(*v >= lo && *v <= hi)) ? -1 : 0;
}

/* The long name of option @p val, for messages: the value's position in argv says nothing
 * once getopt has moved past it ("--lr=0" and "--lr 0" differ). */
static const char *option_name(const struct option *opts, int val)
{
    for (; opts->name; opts++)
        if (opts->val == val)
            return opts->name;
    return "?";
}

int main(int argc, char **argv)
{
    enum { O_LABELS = 256, O_COLUMN, O_PRESET, O_DURATION, O_ARCH, O_EPOCHS, O_BATCH, O_LR, O_VAL, O_PATIENCE, O_SEED,
           O_MODEL, O_METHOD, O_COMPOSITE, O_TARGET, O_NOFIG, O_SONIFY, O_JSON, O_STACKED, O_INIT, O_SAVE_INPUT,
           O_SPLIT, O_STRICT };
    static opts o;
    xai_app_init(&o.app, PROG, XAI_SPEECH_VERSION, argc, argv);
    xai_app_install_signal_handlers();
    o.files.note = print_note;
    o.files.note_ud = &o.app;
    o.duration = 1;
    o.lr = 3e-3;
    o.val_split = 0.2;
    o.epochs = 60;
    o.patience = 10;
    o.batch = 32;
    o.xbatch = 64;
    o.figures = 1;
    o.method = XAI_METHOD_LRP;
    int rc = xai_app_leading_args(&o.app, argc, argv, "missing command: train, explain or eval", usage);
    if (rc >= 0)
        goto done;
    rc = XAI_EXIT_USAGE;
    if (!strcmp(argv[1], "train"))
        o.cmd = 0;
    else if (!strcmp(argv[1], "explain"))
        o.cmd = 1;
    else if (!strcmp(argv[1], "eval"))
        o.cmd = 2;
    else {
        rc = xai_app_usage_error(&o.app, "unknown command '%s' (train, explain or eval)", argv[1]);
        goto done;
    }
    static const struct option longopts[] = {
        {"labels", required_argument, 0, O_LABELS}, {"label-column", required_argument, 0, O_COLUMN},
        {"preset", required_argument, 0, O_PRESET}, {"duration", required_argument, 0, O_DURATION},
        {"arch", required_argument, 0, O_ARCH}, {"epochs", required_argument, 0, O_EPOCHS},
        {"batch", required_argument, 0, O_BATCH}, {"lr", required_argument, 0, O_LR},
        {"val-split", required_argument, 0, O_VAL}, {"patience", required_argument, 0, O_PATIENCE},
        {"seed", required_argument, 0, O_SEED}, {"model", required_argument, 0, O_MODEL},
        {"method", required_argument, 0, O_METHOD}, {"composite", required_argument, 0, O_COMPOSITE},
        {"target", required_argument, 0, O_TARGET}, {"no-figures", no_argument, 0, O_NOFIG},
        {"sonify", required_argument, 0, O_SONIFY}, {"json", required_argument, 0, O_JSON},
        {"stacked", no_argument, 0, O_STACKED}, {"init", required_argument, 0, O_INIT},
        {"save-input", no_argument, 0, O_SAVE_INPUT},
        {"split-by", required_argument, 0, O_SPLIT}, {"strict", no_argument, 0, O_STRICT},
        {"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, XAI_APP_LONG_OPTIONS, {0, 0, 0, 0}};
    int ac = argc - 1;
    char **av = argv + 1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(ac, av, ":o:hfqv", longopts, NULL)) != -1) {
        double v;
        switch (c) {
        case O_LABELS: o.labels = optarg; break;
        case O_COLUMN: o.column = optarg; break;
        case O_PRESET:
            o.preset = optarg;
            break;
        case O_ARCH: o.arch = optarg; break;
        case O_MODEL: o.model = optarg; break;
        case O_COMPOSITE: o.composite = optarg; break;
        case O_TARGET: o.target = optarg; break;
        case O_NOFIG: o.figures = 0; break;
        case O_STACKED: o.stacked = 1; break;
        case O_SAVE_INPUT: o.save_input = 1; break;
        case O_INIT:
            if (strcmp(optarg, "logit") && strcmp(optarg, "onehot")) {
                rc = xai_app_usage_error(&o.app, "--init: logit or onehot");
                goto done;
            }
            o.init_onehot = !strcmp(optarg, "onehot");
            break;
        case O_SPLIT:
            if (strcmp(optarg, "speaker") && strcmp(optarg, "clip")) {
                rc = xai_app_usage_error(&o.app, "--split-by: invalid value '%s' (speaker or clip)", optarg);
                goto done;
            }
            o.split_clip = !strcmp(optarg, "clip");
            break;
        case O_STRICT: o.strict = 1; break;
        case O_SONIFY: o.sonify = optarg; break;
        case O_JSON: o.json = optarg; break;
        case 'o': o.output = optarg; break;
        case O_METHOD:
            if (xai_method_parse(optarg, &o.method) != XAI_OK) {
                rc = xai_app_usage_error(&o.app, "--method: %s", xai_last_error());
                goto done;
            }
            break;
        case O_DURATION:
        case O_LR:
        case O_VAL:
            if (parse_num(optarg, c == O_VAL ? 0 : 1e-9, c == O_VAL ? 0.9 : c == O_LR ? 10 : 60, &v) != 0) {
                rc = xai_app_usage_error(&o.app, "--%s: invalid value '%s'", option_name(longopts, c), optarg);
                goto done;
            }
            if (c == O_DURATION) o.duration = v;
            else if (c == O_LR) o.lr = v;
            else o.val_split = v;
            break;
        case O_EPOCHS:
        case O_BATCH:
        case O_PATIENCE:
        case O_SEED:
            if (parse_num(optarg, c == O_PATIENCE || c == O_SEED ? 0 : 1, 1e9, &v) != 0 || v != floor(v)) {
                rc = xai_app_usage_error(&o.app, "--%s: invalid value '%s'", option_name(longopts, c), optarg);
                goto done;
            }
            if (c == O_EPOCHS) o.epochs = (int)v;
            else if (c == O_BATCH) o.batch = o.xbatch = (int64_t)v;
            else if (c == O_PATIENCE) o.patience = (int)v;
            else o.seed = (uint64_t)v;
            break;
        case 'h':
            usage();
            rc = XAI_EXIT_OK;
            goto done;
        case ':':
            rc = xai_app_usage_error(&o.app, "option '%s' needs a value", av[optind - 1]);
            goto done;
        case '?':
            rc = xai_app_usage_error(&o.app, "unknown option '%s'", av[optind - 1]);
            goto done;
        default: {
            int h = xai_app_handle_option(&o.app, c, optarg);
            if (h == 1)
                break;
            rc = h == 2 ? XAI_EXIT_OK : XAI_EXIT_USAGE;
            if (h == 0)
                xai_app_usage_error(&o.app, "unknown option");
            goto done;
        }
        }
    }
    if (o.preset && o.cmd != 2) {
        xai_speech_pre tmp;
        if (xai_speech_pre_preset(o.preset, o.duration, &tmp) != XAI_OK) {
            rc = xai_app_usage_error(&o.app, "--preset: %s", xai_last_error());
            goto done;
        }
    }
    for (int i = optind; i < ac; i++)
        if (xai_speech_files_add(&o.files, av[i]) != XAI_OK) {
            xai_app_fail(&o.app, NULL, "%s", xai_last_error());
            rc = XAI_EXIT_DATA;
            goto done;
        }
    if (optind < ac && o.files.n == 0) {
        rc = xai_app_fail(&o.app, av[optind], "no audio files found");
        goto done;
    }
    xai_app_apply_threads(&o.app);
    rc = o.cmd == 0 ? run_train(&o) : o.cmd == 1 ? run_explain(&o) : run_eval(&o);
    /* HTML reports of an explanation (apps/common/report-app.h): one per speaker, one per study */
    if (o.cmd == 1 && rc != XAI_EXIT_USAGE && o.output && xai_speech_files_group(&o.files) == XAI_OK) {
        int report_rc = xai_app_report_groups(&o.app, o.output, (const char *const *)o.files.path,
                                              (const char *const *)o.files.group, o.files.n, "speaker", o.model);
        report_rc = report_rc ? report_rc : xai_app_report_study(&o.app, o.output, o.model);
        rc = rc ? rc : report_rc;
    }
done:
    xai_speech_files_free(&o.files);
    xai_app_free(&o.app);
    cairo_debug_reset_static_data(); /* so leak checkers see only real leaks */
    FcFini();
    return rc;
}
