/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-eeg - train a shallow CNN on epoched EEG and explain it: channel x time relevance
 * (.npy), a channels.tsv with relevance columns, an epochs table with predictions and
 * logits, heatmaps and scalp topomaps. Reading and preprocessing: eeg-pre.c; positions:
 * eeg-montage.c; topomaps: eeg-topomap.c. Refs: Schirrmeister et al. 2017 (shallow
 * ConvNet); Sturm et al. 2016 (LRP for EEG, J Neurosci Methods 274:141).
 * Exit codes: 0 ok, 1 data/runtime error, 2 usage, 3 some inputs failed.
 */
#include <cairo.h>
#include <ctype.h>
#include <fontconfig/fontconfig.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#include "app-driver.h"
#include "app.h"
#include "report-app.h"
#include "xai/domain-eeg.h"
#include "xai/domain.h"
#include "xai/driver.h"
#include "xai/figure.h"
#include "xai/lrp.h"
#include "xai/model.h"
#include "xai/npy.h"
#include "xai/sidecar.h"
#include "xai/train.h"
#include "xai/tsv.h"

#define PROG "xai-eeg"
#ifndef XAI_EEG_VERSION
#define XAI_EEG_VERSION "0.1.0"
#endif

/* The shallow ConvNet of Schirrmeister et al. 2017 at our scale: a temporal filter of about
 * 0.1 s (their 25 samples at 250 Hz), a spatial filter over all channels, pooling over
 * 0.25 s, dropout 0.5. No padding: a padded filter sees zeros that are not in the data and
 * its relevance piles up at the epoch edges. */
#define DEFAULT_ARCH "conv2d(16,k=1x{KT}) conv2d(16,k={C}x1) bn relu avgpool(1x{P}) flatten dropout(0.5) dense({K})"
/* 4-38 Hz keeps mu, beta and low gamma and drops drift, blinks' slow part and mains
 * (braindecode's motor-imagery examples, after Schirrmeister et al. 2017). */
#define DEFAULT_HP 4.0
#define DEFAULT_LP 38.0
/* A fixed number of epochs without early stopping: stopping early needs an inner held-out
 * subject, which a study of a handful of subjects cannot spare. */
#define DEFAULT_EPOCHS 40
#define DEFAULT_PATIENCE 0


static void usage_input(void)
{
    fputs(
        "SYNOPSIS\n"
        "  " PROG " train --edf F.edf [F2 ...] --events T1=left,T2=right -o MODEL.onnx [options]\n"
        "  " PROG " explain --model MODEL.onnx --edf F.edf [F2 ...] -o OUTDIR [options]\n"
        "  " PROG " BIDS_DIR OUT_DIR participant --model MODEL.onnx [--participant-label L ...] [--task T]\n"
        "  " PROG " BIDS_DIR OUT_DIR group\n"
        "\n"
        "Epochs continuous EEG around annotated events, trains a shallow CNN (temporal conv, spatial\n"
        "conv across channels, pooling, dense) validated on held-out subjects, and explains it with\n"
        "LRP or gradients. Inputs: EDF, EDF+, BDF, BDF+ (annotations and the Status channel) and\n"
        "BrainVision .vhdr; a BIDS sibling *_events.tsv replaces the file's events. The\n"
        "pre-processing chosen at train time is stored in the model card and applied identically by\n"
        "explain; a recording without a model channel or at another sample rate is an error.\n"
        "\n"
        "INPUT\n"
        "  --edf F [F ...]        recordings (.edf .bdf .vhdr); also -i/--input\n"
        "  --events MAP           EVENT=CLASS list, e.g. T1=left,T2=right; BDF Status values as\n"
        "                         decimal text (1=left); required for train; explain defaults to\n"
        "                         the model's mapping\n"
        "  --tmin S, --tmax S     epoch window [tmin, tmax) in s around each event [tmin 0, tmax the\n"
        "                         events' most common duration]; a window leaving the recording is\n"
        "                         dropped and reported, never padded\n"
        "  --baseline none|mean   subtract each channel's mean over t < 0 (or the whole epoch when\n"
        "                         tmin >= 0) [none]\n"
        "\n"
        "PRE-PROCESSING (train; stored in the model card)\n"
        "  --channels A,B,...     channels to use, in this order [all EEG channels]\n"
        "  --reference none|average   re-reference [none]\n"
        "  --bandpass LO,HI       zero-phase Butterworth band-pass in Hz, 0 = edge off [4,38]\n"
        "  --notch HZ             zero-phase notch (Q 30) [off]\n"
        "  --filter-order N       Butterworth order per band edge (even) [4]\n"
        "  --resample HZ          resample after filtering (libsamplerate) [off]\n"
        "  --standardise none|recording  z-score each channel over its whole recording after\n"
        "                         filtering: removes per-subject and per-session gains [recording]\n"
        "\n"
        , stdout);
}

static void usage(void)
{
    usage_input();
    fputs(
        "MODEL AND TRAINING (train)\n"
        "  --arch SPEC            architecture on the input [1, C, T]; {C} {K} {KT} {PT} {P} expand to\n"
        "                         channels, classes, temporal kernel (~0.1 s), its half, pool (0.25 s)\n"
        "                         [" DEFAULT_ARCH "]\n"
        "  --val-split F          hold-out: fraction of the groups held out [0.25]\n"
        "  --augment none|shift-scale  add a copy of each training epoch shifted by up to 1/16 of\n"
        "                         the window (mirrored edges) and scaled by 0.8..1.25 [none]\n"
        "  --split-by KIND        groups from the BIDS entities of the file names (sub-, ses-, run-);\n"
        "                         epoch = the within-recording split (optimistic, flagged in the card)\n"
        , stdout);
    xai_app_driver_opts d;
    static const char *const kinds[] = {"subject", "session", "run", "recording", "epoch", NULL};
    xai_app_driver_opts_init(&d, "subject", kinds);
    d.epochs = DEFAULT_EPOCHS;
    d.patience = DEFAULT_PATIENCE;
    d.batch = 16;
    xai_app_driver_help_train(stdout, &d);
    fputs(
        "\n"
        "EXPLANATION (explain)\n"
        "  --model M.onnx         a model written by '" PROG " train' (its fold models are used out of\n"
        "                         fold: each subject is explained by the model that never saw it)\n"
        "  --method M             lrp|gradient|gradient-x-input|smoothgrad|integrated-gradients [lrp]\n"
        "  --save-input           explain: also write the model inputs, <stem>_desc-<m>_input.npy\n"
        "                         float32 (epochs, 1, channels, times), e.g. for xai-evaluate\n"
        "  --composite C          LRP composite [epsilon-plus-flat]\n"
        "  --no-figures           skip the PNGs\n"
        , stdout);
    xai_app_driver_help_explain(stdout, &d);
    fputs(
        "\n"
        "BIDS-APP FORM\n"
        "  participant            explain every sub-*/[ses-*/]eeg/*_eeg.{edf,bdf,vhdr} of BIDS_DIR into\n"
        "                         OUT_DIR/sub-*/[ses-*/]eeg/ (names as below); a sibling *_events.tsv\n"
        "                         (onset, duration, trial_type) replaces the file's annotations\n"
        "  group                  OUT_DIR/group_desc-lrp_channels.tsv and _topomap.png: the mean over\n"
        "                         recordings of each channel's relevance_<class>\n"
        "  --participant-label L [L ...]  labels with or without 'sub-' [all]\n"
        "  --task T               only recordings of this task [all]\n"
        "\n"
        "OUTPUT\n"
        "  -o, --output P         train: MODEL.onnx (+ MODEL.fold-K.onnx after --cv, MODEL.json);\n"
        "                         explain: OUTDIR with, per input <stem> (name without _eeg and ext):\n"
        "                         <stem>_desc-<m>_relevance.npy   float32 (epochs, channels, times),\n"
        "                                                         each epoch's map scaled to sum |R| = 1\n"
        "                         <stem>_desc-<m>_channels.tsv    name type units + relevance columns\n"
        "                         <stem>_desc-<m>_events.tsv      one row per epoch: prediction, logits\n"
        "                         <stem>_desc-<m><Class>_heatmap.png   mean relevance, channels x time\n"
        "                         <stem>_desc-<m>_topomap.png     mean relevance per channel, per class\n"
        "                         each with a JSON sidecar; dataset_description.json in OUTDIR\n"
        "\n"
        , stdout);
    fputs(xai_app_common_help, stdout);
    fputs(
        "\n"
        "EXAMPLES\n"
        "  " PROG " train --edf sub-0[1-8]_task-mi_run-*_eeg.edf --events T1=left,T2=right --cv 4 -o mi.onnx\n"
        "  " PROG " explain --model mi.onnx --edf sub-0[1-8]_task-mi_run-*_eeg.edf -o derivatives/xai-eeg\n"
        "  " PROG " train --edf S001R04.edf --events T1=left,T2=right --split-by epoch --cv 5 -o s1.onnx\n"
        "  " PROG " /data/bids /data/bids/derivatives/xai-eeg participant --model mi.onnx --participant-label 01\n"
        "\n"
        "REFERENCES\n"
        "  Schirrmeister et al. 2017, Hum Brain Mapp 38:5391 (shallow ConvNet, 4-38 Hz, standardisation).\n"
        "  Sturm et al. 2016, J Neurosci Methods 274:141 (LRP for EEG).\n"
        "  Varoquaux et al. 2017, NeuroImage 145:166 (cross-validation across subjects).\n"
        "  Montavon et al. 2019, LRP overview; BIDS 1.9 EEG and derivatives.\n", stdout);
}

typedef struct {
    int train;
    int bids;           /* 0, 1 participant, 2 group */
    const char *bids_dir, *task;
    char **labels;      /* --participant-label values (without "sub-") */
    int nlabels;
    char **outdirs;     /* per input in the BIDS form, else NULL */
    char **inputs;
    int ninputs;
    const char *events, *channels, *arch, *model, *output, *composite;
    double tmin, tmax, hp, lp, notch, resample, val_split;
    int tmin_set, tmax_set, baseline_mean, average_ref, standardise, augment, order, figures, save_input;
    xai_method method;
    xai_app_driver_opts dopt; /* --split-by --cv --strict --seed --optimizer --epochs ... --target */
} opts;

enum { O_EDF = 1, O_EVENTS, O_TMIN, O_TMAX, O_BASELINE, O_CHANNELS, O_REF, O_BANDPASS, O_NOTCH, O_ORDER,
       O_RESAMPLE, O_ARCH, O_VAL, O_MODEL, O_METHOD, O_COMPOSITE, O_NOFIG, O_LABEL, O_TASK, O_STANDARDISE,
       O_AUGMENT, O_SAVE_INPUT };

static int parse_double(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && *end == '\0' && isfinite(*v) ? 0 : -1;
}

/* ------------------------------------------------------------------ helpers */

/* replace {NAME} placeholders in the arch spec */
static char *expand_arch(const char *spec, int C, int K, int64_t T, double rate)
{
    int kt = 2 * (int)lround(rate / 20) + 1, pool = (int)(rate / 4);
    if (kt > T)
        kt = (int)(T % 2 ? T : T - 1);
    if (pool < 1)
        pool = 1;
    if (pool > T)
        pool = (int)T;
    struct {
        const char *key;
        int val;
    } sub[] = {{"{C}", C}, {"{K}", K}, {"{KT}", kt}, {"{PT}", kt / 2}, {"{P}", pool}};
    size_t cap = strlen(spec) * 4 + 64, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (const char *s = spec; *s;) {
        int done = 0;
        for (size_t i = 0; i < sizeof sub / sizeof sub[0] && !done; i++) {
            size_t l = strlen(sub[i].key);
            if (strncmp(s, sub[i].key, l) == 0) {
                n += (size_t)snprintf(out + n, cap - n, "%d", sub[i].val);
                s += l;
                done = 1;
            }
        }
        if (!done && n + 1 < cap)
            out[n++] = *s++;
        if (n + 16 >= cap)
            break;
    }
    out[n] = '\0';
    return out;
}

/* input file stem: basename without extension and without a trailing "_eeg" */
static char *stem_of(const char *path)
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

static void free_inputs(opts *o)
{
    for (int i = 0; i < o->ninputs; i++) {
        free(o->inputs[i]);
        if (o->outdirs)
            free(o->outdirs[i]);
    }
    free(o->inputs);
    free(o->outdirs);
    for (int i = 0; i < o->nlabels; i++)
        free(o->labels[i]);
    free(o->labels);
}

/* ------------------------------------------------------------------ train */

/* The group of each input for --split-by: BIDS entities of the file name (sub, ses, run),
 * the file itself ("recording"), or each epoch ("epoch": the within-file split, flagged).
 * A name without the entity is its own group, and the caller is told. */
static char *group_of(const char *path, const char *kind, int *missing)
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
    return stem_of(path);
}

/* An EEG epoch's time shift (up to 1/16 of the window, edges mirrored, not zero-filled) and
 * a global gain in [0.8, 1.25]: trial-to-trial latency and amplitude vary in real data. */
static xai_status eeg_augment(void *ud, float *x, int64_t n, int ndim, const int64_t *shape, uint64_t seed)
{
    (void)ud;
    if (ndim != 3)
        return xai_error_set(XAI_EINVAL, "augment: expected [1][channels][times]");
    int64_t C = shape[1], T = shape[2], maxs = T / 16;
    float *row = malloc((size_t)T * sizeof *row);
    if (!row)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    uint64_t r = seed | 1;
    for (int64_t i = 0; i < n; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        int64_t sh = maxs ? (int64_t)(r % (uint64_t)(2 * maxs + 1)) - maxs : 0;
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        float g = (float)exp(((double)(r % 10001) / 10000.0 - 0.5) * 2 * log(1.25));
        for (int64_t c = 0; c < C; c++) {
            float *v = x + ((size_t)i * (size_t)C + (size_t)c) * (size_t)T;
            for (int64_t t = 0; t < T; t++) {
                int64_t u = t - sh;
                u = u < 0 ? -u : u >= T ? 2 * (T - 1) - u : u;
                row[t] = g * v[u];
            }
            memcpy(v, row, (size_t)T * sizeof *row);
        }
    }
    free(row);
    return XAI_OK;
}

/* global z-scoring with the training data's statistics, recorded in @p p */
static int normalise_global(xai_app *app, xai_eeg_prep *p, xai_dataset *d)
{
    size_t total = (size_t)d->n * (size_t)xai_dataset_sample_size(d);
    double s1 = 0, s2 = 0;
    for (size_t i = 0; i < total; i++)
        s1 += d->x[i];
    p->norm_mean = s1 / (double)total;
    for (size_t i = 0; i < total; i++)
        s2 += (d->x[i] - p->norm_mean) * (d->x[i] - p->norm_mean);
    p->norm_std = sqrt(s2 / (double)total);
    if (!(p->norm_std > 0))
        return xai_app_fail(app, NULL, "the epochs are constant; nothing to learn");
    for (size_t i = 0; i < total; i++)
        d->x[i] = (float)((d->x[i] - p->norm_mean) / p->norm_std);
    return XAI_EXIT_OK;
}

/* One group per epoch, "<recording>#<k>" with k the epoch's index in its recording: the
 * within-recording split that --split-by epoch asks for ("trial" in the card). explain names
 * the epochs the same way, so each is explained by a fold model that never saw it. */
static int split_epochs(xai_dataset *d)
{
    char **names = calloc((size_t)d->n, sizeof *names);
    int64_t *seen = calloc((size_t)d->ngroups, sizeof *seen);
    char *kind = xai_app_strdup_printf("trial");
    int ok = names && seen && kind;
    for (int64_t i = 0; ok && i < d->n; i++)
        ok = (names[i] = xai_app_strdup_printf("%s#%lld", d->group_names[d->group[i]],
                                               (long long)seen[d->group[i]]++)) != NULL;
    free(seen);
    if (!ok) {
        for (int64_t i = 0; names && i < d->n; i++)
            free(names[i]);
        free(names);
        free(kind);
        return -1;
    }
    for (int g = 0; g < d->ngroups; g++)
        free(d->group_names[g]);
    free(d->group_names);
    free(d->group_kind);
    d->group_names = names;
    d->group_kind = kind;
    d->ngroups = (int)d->n;
    for (int64_t i = 0; i < d->n; i++)
        d->group[i] = (int)i;
    return 0;
}

static int train_load(xai_app *app, const opts *o, xai_eeg_prep *p, xai_dataset *d)
{
    const char *kind = strcmp(o->dopt.split_by, "epoch") ? o->dopt.split_by : "recording";
    char **groups = calloc((size_t)o->ninputs, sizeof *groups);
    xai_eeg_file_count *cnt = calloc((size_t)o->ninputs, sizeof *cnt);
    int missing = 0, rc = XAI_EXIT_DATA;
    for (int f = 0; groups && f < o->ninputs; f++)
        if (!(groups[f] = group_of(o->inputs[f], kind, &missing)))
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
    if (rc == XAI_EXIT_OK && !strcmp(o->dopt.split_by, "epoch") && split_epochs(d) != 0)
        rc = xai_app_fail(app, NULL, "out of memory");
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

/* what the domain knows for the card: classes, input axes and rate, channels, record */
static xai_card *train_card(xai_app *app, const xai_eeg_prep *p)
{
    xai_card *c = NULL;
    char *rec = xai_eeg_prep_to_json(p), rate[64];
    snprintf(rate, sizeof rate, "%.17g", p->rate);
    size_t cap = 16;
    for (int i = 0; i < p->nch; i++)
        cap += strlen(p->channels[i]) * 2 + 4;
    char *chans = malloc(cap);
    if (chans) {
        size_t n = 0;
        chans[n++] = '[';
        for (int i = 0; i < p->nch; i++) {
            json_t *s = json_string(p->channels[i]);
            char *t = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
            n += (size_t)snprintf(chans + n, cap - n, "%s%s", i ? "," : "", t ? t : "\"\"");
            free(t);
            json_decref(s);
        }
        snprintf(chans + n, cap - n, "]");
    }
    if (!rec || !chans || xai_card_new(&c) != XAI_OK || xai_card_set(c, "domain=eeg") != XAI_OK ||
        xai_card_set(c, "task=event classification of epoched EEG") != XAI_OK ||
        xai_card_set(c, "input.axes=plane,channel,time") != XAI_OK || xai_card_set(c, "input.units=,,s") != XAI_OK ||
        xai_card_set_json(c, "input.sampling_rate_hz", rate) != XAI_OK ||
        xai_card_set_json(c, "input.channel_names", chans) != XAI_OK ||
        xai_card_set_json(c, "preprocessing", rec) != XAI_OK) {
        xai_app_fail(app, NULL, "model card: %s", xai_last_error());
        xai_card_free(c);
        c = NULL;
    }
    free(rec);
    free(chans);
    return c;
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

static int train_outputs_free(xai_app *app, const char *out)
{
    if (xai_app_check_output(app, out) != 0)
        return -1;
    char *sidecar = xai_app_sidecar_path(out);
    int bad = !sidecar || xai_app_check_output(app, sidecar) != 0;
    free(sidecar);
    return bad ? -1 : 0;
}

/* MODEL.json: the card, the sources with their digests, the record and the kept training accuracy */
static int train_sidecar(xai_app *app, const opts *o, const xai_driver_set *set, const xai_eeg_prep *p)
{
    char *cj = NULL, *rec = xai_eeg_prep_to_json(p);
    json_t *side = NULL, *src = json_array();
    if (xai_card_to_json(xai_driver_set_card(set), 0, &cj) == XAI_OK)
        side = json_loads(cj, 0, NULL);
    xai_free(cj);
    for (int f = 0; src && f < o->ninputs; f++) {
        char hex[65] = "";
        xai_sha256_file(o->inputs[f], hex);
        json_array_append_new(src, json_pack("{s:s, s:s}", "Path", o->inputs[f], "SHA256", hex));
    }
    const xai_driver_summary *sm = xai_driver_set_summary(set);
    int rc = -1;
    if (side && src && rec) {
        json_object_set(side, "Sources", src);
        json_object_set_new(side, "Preprocessing", json_loads(rec, 0, NULL));
        json_object_set_new(side, "TrainAccuracy", json_real(sm ? sm->kept_train_acc : NAN));
        char *s = json_dumps(side, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        rc = s ? xai_app_write_sidecar(app, o->output, s) : -1;
        free(s);
    }
    json_decref(side);
    json_decref(src);
    free(rec);
    return rc;
}

static int run_train(xai_app *app, opts *o)
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
    if (train_load(app, o, &p, &d) != XAI_EXIT_OK || check_classes(app, &p, &d) != XAI_EXIT_OK ||
        normalise_global(app, &p, &d) != XAI_EXIT_OK || !(card = train_card(app, &p)))
        goto done;
    spec = expand_arch(o->arch ? o->arch : DEFAULT_ARCH, p.nch, p.nclass, p.ntimes, p.rate);
    xai_app_log(app, 1, "%lld epochs (%d channels x %lld samples at %g Hz, window [%g, %g) s%s), %d classes, "
                "%d %ss; arch: %s", (long long)d.n, p.nch, (long long)p.ntimes, p.rate, p.tmin, p.tmax,
                p.window_from_events ? " from the events' duration" : "", p.nclass, d.ngroups, d.group_kind,
                spec ? spec : "");
    xai_driver_train_options to;
    xai_app_driver_train_setup(app, &o->dopt, &to);
    to.arch = spec;
    to.allow_within = 1; /* one subject: split by epochs, flagged as within-group in the card */
    if (o->val_split > 0)
        to.holdout_frac = o->val_split;
    if (o->augment) {
        to.augment = eeg_augment;
        to.augment_copies = 1;
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
    if (xai_driver_set_save(set, o->output) != XAI_OK) {
        xai_app_fail(app, NULL, "%s", xai_last_error());
        goto done;
    }
    if (train_sidecar(app, o, set, &p) != 0)
        goto done;
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

/* ------------------------------------------------------------------ explain */

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
    char *stem = stem_of(input);
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

/* the epochs of one recording as a dataset: one group named as in training (the recording's
 * subject, session ...; or each epoch "<stem>#<k>" after a within-recording split) */
static int epochs_dataset(xai_app *app, const xai_eeg_prep *p, const xai_eeg_epochs *ep, const char *group,
                          int per_epoch, xai_dataset *d)
{
    int64_t shape[3] = {1, p->nch, p->ntimes}, ng = per_epoch ? ep->n : 1;
    if (xai_dataset_alloc(d, ep->n, 3, shape, p->nclass) != XAI_OK ||
        !(d->group_names = calloc((size_t)ng, sizeof(char *))))
        return xai_app_fail(app, NULL, "out of memory");
    d->ngroups = (int)ng;
    for (int64_t g = 0; g < ng; g++)
        if (!(d->group_names[g] = per_epoch ? xai_app_strdup_printf("%s#%lld", group, (long long)g)
                                            : xai_app_strdup_printf("%s", group)))
            return xai_app_fail(app, NULL, "out of memory");
    memcpy(d->x, ep->x, (size_t)ep->n * (size_t)p->nch * (size_t)p->ntimes * sizeof *d->x);
    for (int64_t i = 0; i < ep->n; i++) {
        d->y[i] = ep->y[i];
        d->group[i] = per_epoch ? (int)i : 0;
    }
    return XAI_EXIT_OK;
}

static int load_epochs(xai_app *app, const xai_eeg_prep *p, const char *input, xai_eeg_epochs *ep)
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
    char *group = group_of(input, per_epoch ? "recording" : kind ? kind : "subject", &miss), *common = NULL;
    if (!group || load_epochs(app, p, input, &ep) != XAI_EXIT_OK ||
        epochs_dataset(app, p, &ep, group, per_epoch, &ds) != XAI_EXIT_OK)
        goto done;
    if (xai_driver_explain(set, &ds, eo, &ex) != XAI_OK) {
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
    xai_eeg_prep q = {0};
    if (xai_eeg_prep_set_events(&q, o->events) != XAI_OK) {
        xai_eeg_prep_free(&q);
        return xai_app_usage_error(app, "%s", xai_last_error());
    }
    for (int i = 0; i < q.nmap; i++) {
        const char *cls = q.classes[q.ev_class[i]];
        int found = -1;
        for (int c = 0; c < p->nclass; c++)
            if (strcmp(p->classes[c], cls) == 0)
                found = c;
        if (found < 0) {
            int rc = xai_app_fail(app, o->model, "--events: the model has no class '%s'", cls);
            xai_eeg_prep_free(&q); /* after the message: it owns cls */
            return rc;
        }
        q.ev_class[i] = found;
    }
    for (int i = 0; i < p->nmap; i++)
        free(p->ev_keys[i]);
    free(p->ev_keys);
    free(p->ev_class);
    p->ev_keys = q.ev_keys;
    p->ev_class = q.ev_class;
    p->nmap = q.nmap;
    q.ev_keys = NULL;
    q.ev_class = NULL;
    q.nmap = 0;
    xai_eeg_prep_free(&q);
    return XAI_EXIT_OK;
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
    int nd = 0;
    const xai_model *m = xai_driver_set_model(*set);
    const int64_t *shape = xai_model_input_shape(m, &nd);
    if (!(nd == 4 && shape[1] == 1 && shape[2] == p->nch && shape[3] == p->ntimes) ||
        xai_model_output_numel(m) != p->nclass)
        return xai_app_fail(app, o->model, "the model's input/output shape does not match its preprocessing record "
                            "(%d channels x %lld samples, %d classes)", p->nch, (long long)p->ntimes, p->nclass);
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
    for (int f = 0; o->outdirs && f < o->ninputs; f++)
        if (xai_app_mkdirs(app, o->outdirs[f]) != 0)
            return XAI_EXIT_DATA;
    for (int f = 0; f < o->ninputs; f++)
        if (check_names(app, &names[f], p->nclass, o->figures) != 0)
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

static int run_explain(xai_app *app, opts *o)
{
    if (!o->model || o->ninputs < 1 || !o->output)
        return xai_app_usage_error(app, "explain: need --model M.onnx, --edf FILE... and -o OUTDIR");
    xai_driver_set *set = NULL;
    xai_eeg_prep p = {0};
    out_names *names = calloc((size_t)o->ninputs, sizeof *names);
    xai_driver_explain_options eo;
    int rc = load_model(app, o, &set, &p);
    if (rc == XAI_EXIT_OK && o->events)
        rc = remap_events(app, o, &p);
    if (rc == XAI_EXIT_OK)
        rc = explain_setup(app, o, set, &eo);
    if (rc == XAI_EXIT_OK && !names)
        rc = xai_app_fail(app, NULL, "out of memory");
    if (rc == XAI_EXIT_OK)
        rc = xai_app_driver_strict_exit(app, &o->dopt, set, o->model);
    if (rc == XAI_EXIT_OK)
        rc = prepare_names(app, o, &p, names);
    if (rc == XAI_EXIT_OK) {
        char sha[65] = "";
        xai_sha256_file(o->model, sha);
        int nfail = 0;
        xai_app_progress_begin(app, "explain", o->ninputs);
        for (int f = 0; f < o->ninputs; f++) {
            nfail += explain_one(app, o, set, &p, o->inputs[f], &names[f], sha, &eo) != XAI_EXIT_OK;
            xai_app_progress_step(app, f + 1, o->inputs[f]);
        }
        xai_app_progress_end(app);
        rc = nfail == 0 ? XAI_EXIT_OK : nfail < o->ninputs ? XAI_EXIT_PARTIAL : XAI_EXIT_DATA;
    }
    for (int f = 0; names && f < o->ninputs; f++)
        out_names_free(&names[f], p.nclass);
    free(names);
    xai_eeg_prep_free(&p);
    xai_driver_set_free(set);
    return rc;
}

/* ------------------------------------------------------------------ BIDS-App form */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* add the recordings of one BIDS eeg/ directory (relative part rel, e.g. "sub-01/ses-a/eeg") */
static int add_eeg_dir(opts *o, const char *root, const char *rel)
{
    char *dir = xai_app_strdup_printf("%s/%s", root, rel);
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d) {
        free(dir);
        return 0;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (!ends_with(e->d_name, "_eeg.edf") && !ends_with(e->d_name, "_eeg.bdf") &&
            !ends_with(e->d_name, "_eeg.vhdr"))
            continue;
        if (o->task) {
            xai_bids_name b;
            const char *t = xai_bids_parse(e->d_name, &b) == 0 ? xai_bids_get(&b, "task") : NULL;
            if (!t || strcmp(t, o->task) != 0)
                continue;
        }
        char **ni = realloc(o->inputs, (size_t)(o->ninputs + 1) * sizeof *ni);
        char **no = ni ? realloc(o->outdirs, (size_t)(o->ninputs + 1) * sizeof *no) : NULL;
        if (ni)
            o->inputs = ni;
        if (no)
            o->outdirs = no;
        if (!ni || !no) {
            rc = -1;
            break;
        }
        o->inputs[o->ninputs] = xai_app_strdup_printf("%s/%s", dir, e->d_name);
        o->outdirs[o->ninputs] = xai_app_strdup_printf("%s/%s", o->output, rel);
        o->ninputs++;
    }
    closedir(d);
    free(dir);
    return rc;
}

/* every sub-<label>[/ses-*]/eeg recording of the selected participants, in name order */
/* one participant's recordings (sub-X/eeg and each session's eeg folder), in name order */
static int collect_participant(opts *o, const char *sub)
{
    int first = o->ninputs;
    char *rel = xai_app_strdup_printf("%s/eeg", sub), *sdir = xai_app_strdup_printf("%s/%s", o->bids_dir, sub);
    int rc = rel ? add_eeg_dir(o, o->bids_dir, rel) : -1;
    free(rel);
    DIR *sd = sdir ? opendir(sdir) : NULL;
    char **ses = NULL;
    int nses = 0;
    struct dirent *e;
    while (sd && (e = readdir(sd)))
        if (strncmp(e->d_name, "ses-", 4) == 0) {
            char **ns = realloc(ses, (size_t)(nses + 1) * sizeof *ns);
            if (ns) {
                ses = ns;
                ses[nses++] = xai_app_strdup_printf("%s/%s/eeg", sub, e->d_name);
            }
        }
    if (sd)
        closedir(sd);
    free(sdir);
    if (nses > 1)
        qsort(ses, (size_t)nses, sizeof *ses, cmp_str);
    for (int j = 0; j < nses; j++) {
        if (rc == 0 && ses[j])
            rc = add_eeg_dir(o, o->bids_dir, ses[j]);
        free(ses[j]);
    }
    free(ses);
    /* name order within a participant (readdir order is arbitrary) */
    for (int a = first; a < o->ninputs; a++)
        for (int b = a + 1; b < o->ninputs; b++)
            if (strcmp(o->inputs[b], o->inputs[a]) < 0) {
                char *t = o->inputs[a];
                o->inputs[a] = o->inputs[b];
                o->inputs[b] = t;
                t = o->outdirs[a];
                o->outdirs[a] = o->outdirs[b];
                o->outdirs[b] = t;
            }
    return rc;
}

static int bids_collect(xai_app *app, opts *o)
{
    DIR *d = opendir(o->bids_dir);
    if (!d)
        return xai_app_fail(app, o->bids_dir, "cannot open the BIDS directory");
    char **subs = NULL;
    int nsub = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "sub-", 4) != 0)
            continue;
        int want = o->nlabels == 0;
        for (int i = 0; i < o->nlabels; i++)
            want |= strcmp(e->d_name + 4, o->labels[i]) == 0;
        char *full = xai_app_strdup_printf("%s/%s", o->bids_dir, e->d_name);
        if (want && full && is_dir(full)) {
            char **ns = realloc(subs, (size_t)(nsub + 1) * sizeof *ns);
            if (ns) {
                subs = ns;
                subs[nsub++] = xai_app_strdup_printf("%s", e->d_name);
            }
        }
        free(full);
    }
    closedir(d);
    if (nsub > 1)
        qsort(subs, (size_t)nsub, sizeof *subs, cmp_str);
    for (int i = 0; i < o->nlabels; i++) {
        int found = 0;
        for (int k = 0; k < nsub; k++)
            found |= strcmp(subs[k] + 4, o->labels[i]) == 0;
        if (!found)
            xai_app_log(app, 1, "warning: no participant sub-%s in %s", o->labels[i], o->bids_dir);
    }
    int rc = 0;
    for (int k = 0; k < nsub && rc == 0; k++)
        rc = collect_participant(o, subs[k]);
    for (int k = 0; k < nsub; k++)
        free(subs[k]);
    free(subs);
    if (rc != 0)
        return xai_app_fail(app, NULL, "out of memory");
    if (o->ninputs == 0)
        return xai_app_fail(app, o->bids_dir, "no EEG recordings (sub-*/[ses-*/]eeg/*_eeg.edf|bdf|vhdr)%s%s",
                            o->task ? " for task " : "", o->task ? o->task : "");
    xai_app_log(app, 2, "%d recordings", o->ninputs);
    return XAI_EXIT_OK;
}

/* group level: mean of the per-recording channel relevance (relevance_<class> columns) over
 * every participant output under OUT_DIR, as a table and a topomap */
static int group_scan(const char *dir, char ***files, int *n, int depth)
{
    DIR *d = opendir(dir);
    if (!d || depth > 4) {
        if (d)
            closedir(d);
        return 0;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *full = xai_app_strdup_printf("%s/%s", dir, e->d_name);
        if (!full)
            break;
        if (depth == 0 && strncmp(e->d_name, "sub-", 4) != 0) {
            free(full);
            continue;
        }
        if (is_dir(full)) {
            group_scan(full, files, n, depth + 1);
            free(full);
        } else if (ends_with(e->d_name, "_desc-lrp_channels.tsv")) {
            char **nf = realloc(*files, (size_t)(*n + 1) * sizeof *nf);
            if (!nf) {
                free(full);
                break;
            }
            *files = nf;
            nf[(*n)++] = full;
        } else
            free(full);
    }
    closedir(d);
    return 0;
}

/* the channels table's sidecar says whether its maps are out of sample (absent: older outputs) */
static int out_of_sample(const char *tsv)
{
    char *js = xai_app_strdup_printf("%.*s.json", (int)(strlen(tsv) - 4), tsv);
    xai_sidecar *sc = NULL;
    int oos = 1;
    if (js && xai_sidecar_load(js, &sc) == XAI_OK && xai_sidecar_has(sc, "OutOfSample") &&
        xai_sidecar_get_bool(sc, "OutOfSample", &oos) != XAI_OK)
        oos = 1;
    xai_sidecar_free(sc);
    free(js);
    return oos;
}

/* Channel x class sums over the participants' channels tables (at most 16 classes). */
typedef struct {
    char **chan, **cls;
    int nch, ncls;
    double *sum; /* [nch][16] */
    int *cnt;    /* [nch][16] */
} group_acc;

static void group_acc_free(group_acc *g)
{
    for (int j = 0; j < g->nch; j++)
        free(g->chan[j]);
    for (int k = 0; k < g->ncls; k++)
        free(g->cls[k]);
    free(g->chan);
    free(g->cls);
    free(g->sum);
    free(g->cnt);
}

static int group_class(group_acc *g, const char *name)
{
    for (int j = 0; j < g->ncls; j++)
        if (!strcmp(g->cls[j], name))
            return j;
    char **nc = g->ncls < 16 ? realloc(g->cls, (size_t)(g->ncls + 1) * sizeof *nc) : NULL;
    if (!nc)
        return -1;
    g->cls = nc;
    return (nc[g->ncls] = xai_app_strdup_printf("%s", name)) ? g->ncls++ : -1;
}

static int group_channel(group_acc *g, const char *ch)
{
    for (int j = 0; j < g->nch; j++)
        if (xai_eeg_label_equal(g->chan[j], ch))
            return j;
    char **nc = realloc(g->chan, (size_t)(g->nch + 1) * sizeof *nc);
    if (nc)
        g->chan = nc;
    double *ns = realloc(g->sum, (size_t)(g->nch + 1) * 16 * sizeof *ns);
    if (ns)
        g->sum = ns;
    int *nn = realloc(g->cnt, (size_t)(g->nch + 1) * 16 * sizeof *nn);
    if (nn)
        g->cnt = nn;
    if (!nc || !ns || !nn || !(nc[g->nch] = xai_app_strdup_printf("%s", ch)))
        return -1;
    memset(g->sum + (size_t)g->nch * 16, 0, 16 * sizeof *ns);
    memset(g->cnt + (size_t)g->nch * 16, 0, 16 * sizeof *nn);
    return g->nch++;
}

static void group_add(group_acc *g, const xai_tsv *t)
{
    for (size_t c = 0; c < xai_tsv_ncols(t); c++) {
        const char *name = xai_tsv_column_name(t, c);
        int k = strncmp(name, "relevance_", 10) || !strcmp(name, "relevance_abs") ? -1 : group_class(g, name + 10);
        for (size_t r = 0; k >= 0 && r < xai_tsv_nrows(t); r++) {
            const char *ch = xai_tsv_get_string(t, r, 0);
            double v;
            int j = ch && xai_tsv_get_number(t, r, c, &v) == XAI_OK && isfinite(v) ? group_channel(g, ch) : -1;
            if (j < 0)
                continue;
            g->sum[(size_t)j * 16 + (size_t)k] += v;
            g->cnt[(size_t)j * 16 + (size_t)k]++;
        }
    }
}

/* the group table and the topomap values [ncls][nch] */
static xai_status group_table(const group_acc *g, xai_tsv **out, float *vals)
{
    const char *cn[] = {"name", "n_recordings"};
    xai_tsv_type ty[] = {XAI_TSV_STRING, XAI_TSV_NUMBER};
    xai_status st = xai_tsv_create(2, cn, ty, out);
    for (int k = 0; st == XAI_OK && k < g->ncls; k++) {
        char name[96];
        size_t col;
        snprintf(name, sizeof name, "relevance_%s", g->cls[k]);
        st = xai_tsv_add_column(*out, name, XAI_TSV_NUMBER, &col);
    }
    for (int j = 0; st == XAI_OK && j < g->nch; j++) {
        size_t row;
        int nrec = 0;
        st = xai_tsv_add_row(*out, &row);
        if (st == XAI_OK)
            st = xai_tsv_set_string(*out, row, 0, g->chan[j]);
        for (int k = 0; st == XAI_OK && k < g->ncls; k++) {
            int c = g->cnt[(size_t)j * 16 + (size_t)k];
            nrec = c > nrec ? c : nrec;
            double m = c ? g->sum[(size_t)j * 16 + (size_t)k] / c : NAN;
            vals[(size_t)k * (size_t)g->nch + (size_t)j] = c ? (float)m : 0.0f;
            st = c ? xai_tsv_set_number(*out, row, 2 + (size_t)k, m) : xai_tsv_set_na(*out, row, 2 + (size_t)k);
        }
        if (st == XAI_OK)
            st = xai_tsv_set_number(*out, row, 1, nrec);
    }
    return st;
}

static int group_write(xai_app *app, const opts *o, const group_acc *g, char **files, int n, int skipped,
                       const char *tsv_path, const char *png_path)
{
    xai_tsv *out = NULL;
    float *vals = calloc((size_t)g->ncls * (size_t)g->nch, sizeof *vals);
    xai_sidecar *sc = NULL;
    char *js = NULL;
    xai_status st = vals ? group_table(g, &out, vals) : XAI_ENOMEM;
    if (st == XAI_OK)
        st = xai_tsv_save(out, tsv_path, 0);
    if (st == XAI_OK)
        st = xai_sidecar_new(&sc);
    if (st == XAI_OK)
        st = xai_sidecar_set_string_array(sc, "Sources", (const char *const *)files, (size_t)n);
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "Description", "Group level: per channel, the mean over recordings of "
                                    "relevance_<class> from each participant channels.tsv; only out-of-sample maps "
                                    "(explained by a model that never saw the recording's group) are averaged");
    if (st == XAI_OK)
        st = xai_sidecar_set_int(sc, "InSampleRecordingsLeftOut", skipped);
    if (st == XAI_OK)
        st = xai_sidecar_to_string(sc, &js);
    if (st == XAI_OK && o->figures)
        st = xai_eeg_topomap_png(png_path, g->nch, (const char *const *)g->chan, g->ncls, vals,
                                 (const char *const *)g->cls, "Group mean relevance per channel", "summed relevance");
    xai_sidecar_free(sc);
    xai_tsv_free(out);
    free(vals);
    int rc = st == XAI_OK ? XAI_EXIT_OK : xai_app_fail(app, NULL, "%s", xai_last_error());
    if (rc == XAI_EXIT_OK && (xai_app_write_sidecar(app, tsv_path, js) != 0 ||
                              (o->figures && xai_app_write_sidecar(app, png_path, js) != 0)))
        rc = XAI_EXIT_DATA;
    free(js);
    return rc;
}

static int run_group(xai_app *app, opts *o)
{
    char **files = NULL, *tsv_path = NULL, *png_path = NULL;
    int n = 0, rc = XAI_EXIT_DATA, skipped = 0;
    group_acc g = {0};
    group_scan(o->output, &files, &n, 0);
    if (n > 1)
        qsort(files, (size_t)n, sizeof *files, cmp_str);
    if (n == 0)
        xai_app_fail(app, o->output, "no participant outputs (*_desc-lrp_channels.tsv); run the participant level first");
    for (int f = 0; f < n; f++) {
        xai_tsv *t = NULL;
        if (!out_of_sample(files[f])) {
            xai_app_log(app, 0, "warning: %s: maps of a model trained on this recording's group: left out of the "
                        "group mean", files[f]);
            skipped++;
        } else if (xai_tsv_load(files[f], 0, &t) != XAI_OK) {
            xai_app_fail(app, NULL, "%s", xai_last_error());
            goto done;
        } else
            group_add(&g, t);
        xai_tsv_free(t);
    }
    if (n > 0 && (g.nch == 0 || g.ncls == 0))
        xai_app_fail(app, o->output, "the channel tables hold no out-of-sample relevance_<class> columns");
    if (n == 0 || g.nch == 0 || g.ncls == 0)
        goto done;
    tsv_path = xai_app_strdup_printf("%s/group_desc-lrp_channels.tsv", o->output);
    png_path = xai_app_strdup_printf("%s/group_desc-lrp_topomap.png", o->output);
    if (!tsv_path || !png_path || xai_app_check_output(app, tsv_path) != 0 ||
        (o->figures && xai_app_check_output(app, png_path) != 0)) {
        rc = tsv_path && png_path ? XAI_EXIT_USAGE : XAI_EXIT_DATA;
        goto done;
    }
    if ((rc = group_write(app, o, &g, files, n, skipped, tsv_path, png_path)) == XAI_EXIT_OK)
        xai_app_log(app, 1, "group: %d recordings (%d in sample, left out), %d channels, %d classes -> %s", n, skipped,
                    g.nch, g.ncls, tsv_path);
done:
    for (int f = 0; f < n; f++)
        free(files[f]);
    free(files);
    group_acc_free(&g);
    free(tsv_path);
    free(png_path);
    return rc;
}

/* ------------------------------------------------------------------ main */

static const struct option longopts[] = {
    {"edf", required_argument, 0, O_EDF}, {"input", required_argument, 0, O_EDF},
    {"events", required_argument, 0, O_EVENTS}, {"tmin", required_argument, 0, O_TMIN},
    {"tmax", required_argument, 0, O_TMAX}, {"baseline", required_argument, 0, O_BASELINE},
    {"channels", required_argument, 0, O_CHANNELS}, {"reference", required_argument, 0, O_REF},
    {"bandpass", required_argument, 0, O_BANDPASS}, {"notch", required_argument, 0, O_NOTCH},
    {"filter-order", required_argument, 0, O_ORDER}, {"resample", required_argument, 0, O_RESAMPLE},
    {"arch", required_argument, 0, O_ARCH}, {"val-split", required_argument, 0, O_VAL},
    {"standardise", required_argument, 0, O_STANDARDISE}, {"augment", required_argument, 0, O_AUGMENT},
    {"model", required_argument, 0, O_MODEL}, {"method", required_argument, 0, O_METHOD},
    {"composite", required_argument, 0, O_COMPOSITE}, XAI_APP_DRIVER_TRAIN_OPTIONS,
    XAI_APP_DRIVER_EXPLAIN_OPTIONS,
    {"no-figures", no_argument, 0, O_NOFIG}, {"save-input", no_argument, 0, O_SAVE_INPUT}, {"output", required_argument, 0, 'o'},
    {"participant-label", required_argument, 0, O_LABEL}, {"participant_label", required_argument, 0, O_LABEL},
    {"task", required_argument, 0, O_TASK},
    {"help", no_argument, 0, 'h'}, XAI_APP_LONG_OPTIONS, {0, 0, 0, 0}};

/* An option with a list of values (--edf F F ..., --participant-label L L ...): the values
 * up to the next option are taken, labels without their "sub-". */
static int take_list(xai_app *app, char ***list, int *n, const char *first, int ac, char **av, int strip_sub)
{
    char **nl = realloc(*list, (size_t)(*n + ac + 1) * sizeof *nl);
    if (!nl)
        return xai_app_fail(app, NULL, "out of memory");
    *list = nl;
    for (const char *v = first;;) {
        if (!(nl[(*n)++] = xai_app_strdup_printf("%s", strip_sub && !strncmp(v, "sub-", 4) ? v + 4 : v)))
            return xai_app_fail(app, NULL, "out of memory");
        if (optind >= ac || av[optind][0] == '-')
            return XAI_EXIT_OK;
        v = av[optind++];
    }
}

static int number_option(xai_app *app, opts *o, int c, const char *name, const char *arg)
{
    double v;
    if (parse_double(arg, &v) != 0 || (c == O_NOTCH && v < 0) || (c == O_RESAMPLE && (v < 0 || v > 1e6)) ||
        ((c == O_TMIN || c == O_TMAX) && fabs(v) > 1e5) || (c == O_VAL && (v < 0 || v > 0.9)))
        return xai_app_usage_error(app, "--%s: invalid value '%s'", name, arg);
    if (c == O_TMIN)
        o->tmin = v, o->tmin_set = 1;
    else if (c == O_TMAX)
        o->tmax = v, o->tmax_set = 1;
    else if (c == O_NOTCH)
        o->notch = v;
    else if (c == O_RESAMPLE)
        o->resample = v;
    else
        o->val_split = v;
    return XAI_EXIT_OK;
}

/* the options that choose between two words */
static int choice_option(xai_app *app, opts *o, int c, const char *name, const char *arg)
{
    static const struct {
        int code;
        const char *off, *on;
    } ch[] = {{O_STANDARDISE, "none", "recording"}, {O_AUGMENT, "none", "shift-scale"},
              {O_BASELINE, "none", "mean"}, {O_REF, "none", "average"}};
    for (size_t i = 0; i < sizeof ch / sizeof ch[0]; i++) {
        if (ch[i].code != c)
            continue;
        if (strcmp(arg, ch[i].off) && strcmp(arg, ch[i].on))
            return xai_app_usage_error(app, "--%s: invalid value '%s' (%s or %s)", name, arg, ch[i].off, ch[i].on);
        int on = !strcmp(arg, ch[i].on);
        *(c == O_STANDARDISE ? &o->standardise : c == O_AUGMENT ? &o->augment
                                                 : c == O_BASELINE ? &o->baseline_mean : &o->average_ref) = on;
        return XAI_EXIT_OK;
    }
    return -1;
}

static int own_option(xai_app *app, opts *o, int c, const char *name, const char *arg, int ac, char **av)
{
    char *end;
    long n;
    switch (c) {
    case O_EDF:
    case 'i': return take_list(app, &o->inputs, &o->ninputs, arg, ac, av, 0);
    case O_LABEL: return take_list(app, &o->labels, &o->nlabels, arg, ac, av, 1);
    case O_TMIN: case O_TMAX: case O_NOTCH: case O_RESAMPLE: case O_VAL: return number_option(app, o, c, name, arg);
    case O_STANDARDISE: case O_AUGMENT: case O_BASELINE: case O_REF: return choice_option(app, o, c, name, arg);
    case O_BANDPASS:
        o->hp = strtod(arg, &end);
        if (*end != ',' || (o->lp = strtod(end + 1, &end), *end) || o->hp < 0 || o->lp < 0 || (o->lp > 0 && o->hp >= o->lp))
            return xai_app_usage_error(app, "--bandpass: expected LO,HI with 0 <= LO < HI (0 = edge off)");
        return XAI_EXIT_OK;
    case O_ORDER:
        if (xai_app_parse_long(arg, 2, 16, &n) != 0 || n % 2)
            return xai_app_usage_error(app, "--filter-order: invalid value '%s' (an even number 2..16)", arg);
        o->order = (int)n;
        return XAI_EXIT_OK;
    case O_METHOD:
        return xai_method_parse(arg, &o->method) == XAI_OK ? XAI_EXIT_OK
                                                            : xai_app_usage_error(app, "--method: %s", xai_last_error());
    case O_EVENTS: o->events = arg; return XAI_EXIT_OK;
    case O_CHANNELS: o->channels = arg; return XAI_EXIT_OK;
    case O_ARCH: o->arch = arg; return XAI_EXIT_OK;
    case O_MODEL: o->model = arg; return XAI_EXIT_OK;
    case O_COMPOSITE: o->composite = arg; return XAI_EXIT_OK;
    case O_NOFIG: o->figures = 0; return XAI_EXIT_OK;
    case O_SAVE_INPUT: o->save_input = 1; return XAI_EXIT_OK;
    case O_TASK: o->task = arg; return XAI_EXIT_OK;
    case 'o': o->output = arg; return XAI_EXIT_OK;
    }
    return -1;
}

/* @return -1 to go on, or the exit code */
static int parse_options(xai_app *app, opts *o, int ac, char **av)
{
    int c, idx = 0;
    optind = 1;
    while ((c = getopt_long(ac, av, "i:o:hfqv", longopts, &idx)) != -1) {
        if (c == 'h') {
            usage();
            return XAI_EXIT_OK;
        }
        int r = own_option(app, o, c, longopts[idx].name, optarg, ac, av);
        if (r >= 0 && r != XAI_EXIT_OK)
            return r;
        if (r == XAI_EXIT_OK)
            continue;
        if ((r = xai_app_driver_handle_option(app, &o->dopt, c, optarg)) != 0) {
            if (r < 0)
                return XAI_EXIT_USAGE;
            continue;
        }
        r = xai_app_handle_option(app, c, optarg);
        if (r == 1)
            continue;
        if (r == 0)
            xai_app_usage_error(app, "unknown option");
        return r == 2 ? XAI_EXIT_OK : XAI_EXIT_USAGE;
    }
    if (optind < ac)
        return xai_app_usage_error(app, "unexpected argument '%s'", av[optind]);
    return -1;
}

static int check_options(xai_app *app, const opts *o)
{
    if (o->tmax_set && o->tmax <= o->tmin)
        return xai_app_usage_error(app, "--tmax must exceed --tmin");
    if (o->tmin_set && !o->tmax_set && o->tmin < 0)
        return xai_app_usage_error(app, "--tmin below 0 needs --tmax (the events' duration is measured from 0)");
    if (o->bids && o->ninputs)
        return xai_app_usage_error(app, "the BIDS form finds its inputs itself; --edf is for explain");
    if ((o->nlabels || o->task) && !o->bids)
        return xai_app_usage_error(app, "--participant-label and --task belong to the BIDS form");
    if (o->bids == 1 && !o->model)
        return xai_app_usage_error(app, "participant: --model M.onnx is required");
    return -1;
}

/* the subcommand or the BIDS-App form; @return the arguments before the options, or -1 */
static int subcommand(xai_app *app, opts *o, int argc, char **argv)
{
    if (argc >= 4 && argv[1][0] != '-' && argv[2][0] != '-' &&
        (!strcmp(argv[3], "participant") || !strcmp(argv[3], "group"))) {
        o->bids = !strcmp(argv[3], "participant") ? 1 : 2;
        o->bids_dir = argv[1];
        o->output = argv[2];
        return 3;
    }
    o->train = !strcmp(argv[1], "train");
    if (!o->train && strcmp(argv[1], "explain") != 0) {
        xai_app_usage_error(app, "unknown subcommand '%s' (train, explain, or BIDS_DIR OUT_DIR participant|group)",
                            argv[1]);
        return -1;
    }
    return 1;
}

static void opts_init(opts *o)
{
    static const char *const kinds[] = {"subject", "session", "run", "recording", "epoch", NULL};
    *o = (opts){.tmin = 0, .hp = DEFAULT_HP, .lp = DEFAULT_LP, .order = 4, .val_split = 0.25, .figures = 1,
                .standardise = XAI_EEG_STANDARDISE_RECORDING, .method = XAI_METHOD_LRP};
    xai_app_driver_opts_init(&o->dopt, "subject", kinds);
    o->dopt.epochs = DEFAULT_EPOCHS;
    o->dopt.patience = DEFAULT_PATIENCE;
    o->dopt.batch = 16;
}

int main(int argc, char **argv)
{
    xai_app app;
    xai_app_init(&app, PROG, XAI_EEG_VERSION, argc, argv);
    opts o;
    opts_init(&o);
    int rc = xai_app_leading_args(&app, argc, argv, "missing subcommand: train or explain", usage), skip;
    if (rc < 0)
        rc = (skip = subcommand(&app, &o, argc, argv)) < 0 ? XAI_EXIT_USAGE : parse_options(&app, &o, argc - skip, argv + skip);
    if (rc < 0)
        rc = check_options(&app, &o);
    if (rc < 0) {
        xai_app_apply_threads(&app);
        if (o.bids == 2)
            rc = run_group(&app, &o);
        else if (o.bids == 1 && (rc = bids_collect(&app, &o)) != XAI_EXIT_OK)
            ;
        else
            rc = o.train ? run_train(&app, &o) : run_explain(&app, &o);
        /* HTML reports (apps/common/report-app.h): one per participant, one per study */
        int report_rc = 0;
        if (rc != XAI_EXIT_USAGE && o.bids == 1)
            report_rc = xai_app_report_subjects_of(&app, o.output, (const char *const *)o.inputs, o.ninputs, o.model);
        else if (rc != XAI_EXIT_USAGE && o.bids == 2)
            report_rc = xai_app_report_study(&app, o.output, NULL);
        rc = rc ? rc : report_rc;
    }
    free_inputs(&o);
    xai_app_free(&app);
    cairo_debug_reset_static_data(); /* so leak checkers see only real leaks */
    FcFini();
    return rc;
}
