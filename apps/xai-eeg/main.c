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
#include "eeg-batch.h"
#include "xai/bids-walk.h"
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

#define DEFAULT_ARCH XAI_EEG_DEFAULT_ARCH
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
        "  The participant level is a batch: one status file per recording in OUT_DIR/.xai-status,\n"
        "  so a rerun redoes only failed, unfinished or changed recordings (also explain with --shard).\n"
        "  --shard K/N            only shard K of N: subjects (BIDS sub- label, else the file name) in\n"
        "                         byte order, the j-th to shard j mod N + 1; the outputs match one run\n"
        "  --slurm                write OUT_DIR/slurm/xai-eeg-array.sbatch (one array task per shard\n"
        "                         with unfinished recordings, logs in OUT_DIR/slurm/logs) and submit it;\n"
        "                         N from --shard K/N [1]. Needs a filesystem that every node sees\n"
        "  --slurm-args \"ARGS\"   passed to sbatch;  --max-parallel M: at most M tasks at once\n"
        "  --dry-run              print the script, submit nothing\n"
        "  --wait                 wait for the array (squeue, status files; no sacct); exit 3 naming\n"
        "                         the failed recordings;  --wait-timeout S bounds it [one day]\n"
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
        "  " PROG " /data/bids /data/out participant --model mi.onnx --shard 3/8 --slurm --wait\n"
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
    eeg_batch batch;          /* --shard --slurm ...; always on at the participant level */
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
    if (o->val_split > 0)
        to.holdout_frac = o->val_split;
    if (o->augment) {
        to.augment = xai_eeg_augment;
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
    if (!group || load_epochs(app, p, input, &ep) != XAI_EXIT_OK)
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
    int rc = eeg_batch_run(c->app, &c->o->batch, c->o->output, c->o->model, c->o->inputs, npy, c->o->ninputs,
                           explain_item, c);
    free(npy);
    return rc;
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

/* ------------------------------------------------------------------ BIDS-App form */

/* one input of the walk: the recording and OUT_DIR/<its folder below the root> */
static int add_input(opts *o, const xai_bids_file *f)
{
    const char *slash = strrchr(f->relpath, '/');
    int dirlen = slash ? (int)(slash - f->relpath) : 0;
    char **ni = realloc(o->inputs, (size_t)(o->ninputs + 1) * sizeof *ni);
    if (ni)
        o->inputs = ni;
    char **no = ni ? realloc(o->outdirs, (size_t)(o->ninputs + 1) * sizeof *no) : NULL;
    if (no)
        o->outdirs = no;
    if (!ni || !no)
        return -1;
    o->inputs[o->ninputs] = xai_app_strdup_printf("%s", f->path);
    o->outdirs[o->ninputs] = xai_app_strdup_printf("%s/%.*s", o->output, dirlen, f->relpath);
    o->ninputs++;
    return o->inputs[o->ninputs - 1] && o->outdirs[o->ninputs - 1] ? 0 : -1;
}

/* a --participant-label that names no sub-* folder is worth a warning, not an error */
static void warn_missing_labels(xai_app *app, const opts *o)
{
    char **subs = NULL;
    size_t nsub = 0;
    if (!o->nlabels || xai_bids_participants(o->bids_dir, &subs, &nsub) != XAI_OK)
        return;
    for (int i = 0; i < o->nlabels; i++) {
        int found = 0;
        for (size_t k = 0; k < nsub; k++)
            found |= strcmp(subs[k], o->labels[i]) == 0;
        if (!found)
            xai_app_log(app, 1, "warning: no participant sub-%s in %s", o->labels[i], o->bids_dir);
    }
    for (size_t k = 0; k < nsub; k++)
        xai_free(subs[k]);
    xai_free(subs);
}

/* sub-<label>/[ses-<label>/]eeg/<name>: the layout of a raw EEG recording. The walk is plain
 * and this decides, because many EEG datasets leave the ses- entity out of names inside a
 * session folder, which a strict BIDS walk skips. */
static int eeg_relpath(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    int depth = 0;
    for (const char *c = rel; *c; c++)
        depth += *c == '/';
    if (strncmp(rel, "sub-", 4) != 0 || !slash || slash - rel < 4 || strncmp(slash - 4, "/eeg", 4) != 0)
        return 0;
    if (depth == 2)
        return 1;
    const char *ses = strchr(rel, '/') + 1;
    return depth == 3 && strncmp(ses, "ses-", 4) == 0;
}

/* every such recording (*_eeg.edf|bdf|vhdr) of the selected participants, in name order */
static int bids_collect(xai_app *app, opts *o)
{
    static const char *const sfx[] = {"eeg"}, *const ext[] = {".edf", ".bdf", ".vhdr"};
    xai_bids_walk_opts w = {.layout = XAI_WALK_PLAIN, .suffixes = sfx, .nsuffixes = 1, .max_depth = 4,
                            .extensions = ext, .nextensions = 3, .participants = (const char *const *)o->labels,
                            .nparticipants = o->nlabels, .tasks = o->task ? &o->task : NULL, .ntasks = o->task != NULL};
    xai_bids_list l;
    if (xai_bids_walk(o->bids_dir, &w, &l) != XAI_OK)
        return xai_app_fail(app, NULL, "%s", xai_last_error());
    warn_missing_labels(app, o);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < l.n; i++)
        if (eeg_relpath(l.files[i].relpath))
            rc = add_input(o, &l.files[i]);
    xai_bids_list_free(&l);
    if (rc != 0)
        return xai_app_fail(app, NULL, "out of memory");
    if (o->ninputs == 0)
        return xai_app_fail(app, o->bids_dir, "no EEG recordings (sub-*/[ses-*/]eeg/*_eeg.edf|bdf|vhdr)%s%s",
                            o->task ? " for task " : "", o->task ? o->task : "");
    xai_app_log(app, 2, "%d recordings", o->ninputs);
    return XAI_EXIT_OK;
}

/* every participant table into the group sums; in-sample maps are left out, with a warning */
static int group_collect(xai_app *app, const opts *o, xai_eeg_group *g, int *n)
{
    char **files = NULL;
    size_t nf = 0;
    int rc = XAI_EXIT_OK;
    if (xai_eeg_group_find(o->output, "lrp", &files, &nf) != XAI_OK)
        return xai_app_fail(app, NULL, "%s", xai_last_error());
    if (nf == 0)
        rc = xai_app_fail(app, o->output, "no participant outputs (*_desc-lrp_channels.tsv); run the participant "
                          "level first");
    for (size_t f = 0; rc == XAI_EXIT_OK && f < nf; f++) {
        int left_out = 0;
        if (xai_eeg_group_add(g, files[f], &left_out) != XAI_OK)
            rc = xai_app_fail(app, NULL, "%s", xai_last_error());
        else if (left_out)
            xai_app_log(app, 0, "warning: %s: maps of a model trained on this recording's group: left out of the "
                        "group mean", files[f]);
    }
    for (size_t f = 0; f < nf; f++)
        free(files[f]);
    free(files);
    *n = (int)nf;
    if (rc == XAI_EXIT_OK && (xai_eeg_group_nchannels(g) == 0 || xai_eeg_group_nclasses(g) == 0))
        rc = xai_app_fail(app, o->output, "the channel tables hold no out-of-sample relevance_<class> columns");
    return rc;
}

/* group level: OUT_DIR/group_desc-lrp_channels.tsv and _topomap.png, each with a sidecar */
static int run_group(xai_app *app, opts *o)
{
    xai_eeg_group *g = NULL;
    char *tsv = xai_app_strdup_printf("%s/group_desc-lrp_channels.tsv", o->output), *js = NULL;
    char *png = xai_app_strdup_printf("%s/group_desc-lrp_topomap.png", o->output);
    int n = 0, rc = !tsv || !png || xai_eeg_group_new(&g) != XAI_OK ? xai_app_fail(app, NULL, "out of memory")
                                                                    : group_collect(app, o, g, &n);
    if (rc == XAI_EXIT_OK && (xai_app_check_output(app, tsv) != 0 || (o->figures && xai_app_check_output(app, png))))
        rc = XAI_EXIT_USAGE;
    if (rc == XAI_EXIT_OK && (xai_eeg_group_write(g, tsv, o->figures ? png : NULL) != XAI_OK ||
                              xai_eeg_group_sidecar(g, &js) != XAI_OK))
        rc = xai_app_fail(app, NULL, "%s", xai_last_error());
    if (rc == XAI_EXIT_OK && (xai_app_write_sidecar(app, tsv, js) != 0 ||
                              (o->figures && xai_app_write_sidecar(app, png, js) != 0)))
        rc = XAI_EXIT_DATA;
    if (rc == XAI_EXIT_OK)
        xai_app_log(app, 1, "group: %d recordings, %d channels, %d classes -> %s", n, xai_eeg_group_nchannels(g),
                    xai_eeg_group_nclasses(g), tsv);
    free(js);
    xai_eeg_group_free(g);
    free(tsv);
    free(png);
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
    {"task", required_argument, 0, O_TASK}, EEG_BATCH_LONG_OPTIONS,
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
        int r = eeg_batch_option(&o->batch, c, optarg);
        if (r == 2)
            return xai_app_usage_error(app, "--%s: invalid value '%s'", longopts[idx].name, optarg);
        if (r == 0)
            continue;
        r = own_option(app, o, c, longopts[idx].name, optarg, ac, av);
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
    if (o->batch.active && (o->train || o->bids == 2))
        return xai_app_usage_error(app, "--shard and --slurm belong to explain and the participant level");
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
        o->batch.active = o->bids == 1;
        o->batch.first = 4;
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
    o->batch = (eeg_batch){.shard_k = 1, .shard_n = 1, .first = 1};
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
    o.batch.argv = argv;
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
    }
    free_inputs(&o);
    xai_app_free(&app);
    cairo_debug_reset_static_data(); /* so leak checkers see only real leaks */
    FcFini();
    return rc;
}
