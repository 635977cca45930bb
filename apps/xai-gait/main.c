/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-gait - subject identification / condition classification from gait cycles of C3D
 * trials (Plug-in Gait angles) and its explanation with LRP or gradients, per trial or
 * over a whole cohort (resumable). Ref: Horst et al., Sci Rep 2019,
 * doi:10.1038/s41598-019-38748-8. Conventions: the README, "Outputs on disk".
 * Exit codes: 0 ok, 1 data/runtime error, 2 usage, 3 a batch finished with failed trials.
 */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "cli.h"
#include "gait.h"
#include "xai/card.h"
#include "xai/domain.h"
#include "xai/lrp.h"
#include "xai/model.h"
#include "xai/train.h"

#define PROG "xai-gait"
#ifndef XAI_GAIT_VERSION
#define XAI_GAIT_VERSION "0.1.0"
#endif
#define MARKER ".xai-gait-done.json"

static void usage(void)
{
    printf(
        "SYNOPSIS\n"
        "  " PROG " train STUDY_DIR|TRIAL.c3d... --target subject|condition -o MODEL.onnx [options]\n"
        "  " PROG " explain --model MODEL.onnx TRIAL.c3d... -o OUTDIR [options]\n"
        "  " PROG " study STUDY_DIR OUT_DIR --model MODEL.onnx [options]\n"
        "\n"
        "DESCRIPTION\n"
        "  Gait cycles run from a Foot Strike to the next same-side Foot Strike (EVENT group,\n"
        "  contexts Left/Right; pyCGM2 convention) and are time-normalised to 101 points. Each cycle\n"
        "  gives the selected variables x components (Plug-in Gait angles: X, Y, Z = sagittal,\n"
        "  frontal, transverse). A variable without an L/R prefix (KneeAngles) is taken from the\n"
        "  cycle's side; LKneeAngles is used on every cycle. Trials that cannot be read, lack a\n"
        "  variable or have no complete cycle are reported and skipped; cycles with gaps are\n"
        "  skipped and counted. The selection and the z-score normalisation are stored in the\n"
        "  model (metadata \"xai_preprocessing\") and applied identically by explain and study.\n"
        "  Names: sub-XX, ses-YY, run-ZZ and acq-<condition> from file-name entities or folders.\n"
        "\n"
        "ARGUMENTS\n"
        "  STUDY_DIR              a folder searched recursively for .c3d trials\n"
        "  TRIAL.c3d              single trials\n"
        "  OUT_DIR / OUTDIR       output folder (a BIDS derivative with dataset_description.json)\n"
        "\n"
        "OPTIONS (input, train)\n"
        "  --target subject|condition   what to classify [subject]\n"
        "  --split-by session|trial|subject|none   (alias --split) what is held out: each subject's\n"
        "                         last session or last trial (subject identification cannot hold\n"
        "                         out the subject), or a quarter of the subjects (conditions)\n"
        "                         [session for --target subject, subject for condition]\n"
        "  --sides paired|each    paired: a sample is a left cycle and the right cycle that starts\n"
        "                         inside it, each side its own channels; each: one cycle [paired]\n"
        "  --offset trial|none    subtract each channel's trial mean (per side) first: marker\n"
        "                         placement shifts whole trials by degrees [trial]\n"
        "  --weight-decay W [1e-2]  --strict (warnings about the model's validity exit 4)\n"
        "  --variables A,B,...    [" DEFAULT_VARS "]\n"
        "  --components LIST      sagittal,frontal,transverse (or x,y,z) [all three]\n"
        "  --arch SPEC            on the input [variables x components, 101]; {K} = classes\n"
        "                         [" DEFAULT_ARCH "]\n"
        "  --epochs N [60]  --batch B [32]  --lr LR [1e-3]  --seed S [0]\n"
        "\n");
    printf(
        "OPTIONS (explain, study)\n"
        "  --model M.onnx         a model written by '" PROG " train'\n"
        "  --method M             lrp|gradient|gradient-x-input|smoothgrad|integrated-gradients [lrp]\n"
        "  --composite C          LRP composite [epsilon-plus]\n"
        "  --target pred|true|CLASS   class explained per cycle; true = the trial's subject or\n"
        "                         condition when it is a model class [pred]\n"
        "  --start onehot|logit   relevance put in at the output: one-hot (the default) explains the\n"
        "                         class whatever its score; logit scales maps by the score, so a\n"
        "                         negative score flips their colours. The sidecar lists the scores\n"
        "                         (TargetScore, Logits) [onehot]\n"
        "  --no-figures           skip the PNG grids\n"
        "\n"
        "OUTPUT (per trial <stem> for explain, per subject sub-XX/sub-XX for study; D = lrp or the\n"
        "  gradient method's name)\n"
        "  <p>_desc-D_relevance.npy     float32 (cycles, variables x components, 101)\n"
        "  <p>_desc-D_cycles.tsv        subject session trial side cycle pct variable component\n"
        "                               value relevance (long format, one row per point)\n"
        "  <p>_desc-Dmean_cycles.tsv    per side, variable, component, pct: mean +- SD of value and\n"
        "                               relevance\n"
        "  <p>_desc-D_grid.png          clinical grid: rows joints, columns planes; mean +- SD, toe\n"
        "                               off, relevance shading\n"
        "  study adds group/desc-D_summary.tsv (relevance share and peak per subject, variable and\n"
        "  component, and the group mean), group/desc-D_subjects.tsv (cycles, accuracy, failed\n"
        "  trials), and per subject a done-marker " MARKER " with the SHA-256 of its inputs:\n"
        "  a rerun skips subjects whose inputs, model and options are unchanged and redoes the rest.\n"
        "  Every output has a JSON sidecar (CommandLine, Version, DateTime, ModelSHA256, Sources).\n"
        "\n"
        "%s"
        "\n"
        "EXAMPLES\n"
        "  " PROG " train study/ --target subject --split-by session -o gait.onnx\n"
        "  " PROG " explain --model gait.onnx study/sub-01/ses-02/sub-01_ses-02_task-walk_acq-normal_run-05.c3d -o out\n"
        "  " PROG " study study/ derivatives/xai-gait --model gait.onnx --progress lines\n"
        "\n"
        "REFERENCES\n"
        "  Horst et al. 2019, Sci Rep 9:2391 (LRP on gait: individuality of gait patterns).\n"
        "  pyCGM2 Processing/cycle.py (cycles); Vicon Plug-in Gait (angle conventions); c3d.org.\n"
        "\n"
        "EXIT STATUS\n"
        "  0 ok, 1 data or runtime error, 2 usage error, 3 finished but some trials failed,\n"
        "  4 --strict and the model is not above chance, misses a class or loses to the baseline.\n",
        xai_app_common_help);
}

enum { O_TARGET = 1, O_SPLIT, O_VARS, O_COMPS, O_ARCH, O_EPOCHS, O_BATCH, O_LR, O_SEED, O_MODEL, O_METHOD,
       O_COMPOSITE, O_NOFIG, O_SIDES, O_OFFSET, O_WD, O_STRICT, O_START };

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static const char *label_of(const gait_trial *t, int condition)
{
    return condition ? t->condition : t->subject;
}

/* ------------------------------------------------------------------ explainer */

typedef struct {
    xai_model *m;
    xai_gait_pre pre;
    char **classes;
    int ncls;
    int condition;          /* the model classifies conditions */
    char sha[65];
    xai_explain_config cfg;
    char desc[32];
    int target_mode;        /* 0 pred, 1 true, 2 fixed */
    int target_class;
    int figures;
    char options[512];      /* what changes the outputs (for the done-markers) */
} explainer;

static void explainer_free(explainer *e)
{
    xai_model_free(e->m);
    xai_gait_pre_free(&e->pre);
    for (int i = 0; i < e->ncls; i++)
        free(e->classes[i]);
    free(e->classes);
}

/* Pre-processing, classes and task from the model card (old models through its legacy
 * reader); warns (or with --strict refuses) when the card says the model learned nothing. */
static int read_card(xai_app *app, const opts *o, explainer *e)
{
    xai_card *card = NULL;
    if (xai_card_from_model(e->m, &card) != XAI_OK)
        return xai_app_fail(app, o->model, "model card: %s", xai_last_error());
    char *pre = xai_card_get_json(card, "preprocessing");
    xai_status st = xai_gait_pre_from_json(&e->pre, pre);
    xai_free(pre);
    if (st != XAI_OK) {
        xai_card_free(card);
        return xai_app_fail(app, o->model, "%s", xai_last_error());
    }
    e->ncls = (int)xai_model_output_numel(e->m);
    e->classes = calloc((size_t)e->ncls, sizeof(char *));
    for (int k = 0; e->classes && k < e->ncls; k++) {
        const char *s = k < xai_card_class_count(card) ? xai_card_class_name(card, k) : NULL;
        e->classes[k] = s ? strdup(s) : xai_app_strdup_printf("class%d", k);
    }
    const char *tt = xai_card_get_string(card, "training.target");
    if (!tt)
        tt = xai_card_get_string(card, "task");
    e->condition = tt && !strcmp(tt, "condition");
    char *w = NULL;
    int nw = 0;
    if (xai_card_warnings(card, &w, &nw) == XAI_OK && nw > 0) {
        size_t l = strlen(w);
        if (l && w[l - 1] == '\n')
            w[l - 1] = '\0';
        xai_app_log(app, 1, "warning: %s: %s", o->model, w);
    }
    xai_free(w);
    xai_card_free(card);
    if (nw > 0 && o->strict)
        return xai_app_fail(app, o->model, "--strict: the model card carries warnings"), GAIT_EXIT_STRICT;
    return XAI_EXIT_OK;
}

static int explainer_init(xai_app *app, const opts *o, explainer *e)
{
    memset(e, 0, sizeof *e);
    char err[512];
    if (xai_model_load_onnx(o->model, NULL, &e->m) != XAI_OK)
        return xai_app_fail(app, o->model, "%s", xai_last_error());
    int rc = read_card(app, o, e);
    if (rc != XAI_EXIT_OK)
        return rc;
    int nd;
    const int64_t *is = xai_model_input_shape(e->m, &nd);
    int64_t nin = xai_model_input_numel(e->m);
    if (nin != (int64_t)xai_gait_pre_inputs(&e->pre) * XAI_GAIT_NPTS || is[nd - 1] != XAI_GAIT_NPTS)
        return xai_app_fail(app, o->model, "the model input (%lld values) does not match its preprocessing record "
                            "(%d variables x %d components x 101%s)", (long long)nin, e->pre.nvars, e->pre.ncomps,
                            e->pre.paired ? " x 2 sides" : "");
    if (o->variables || o->components) { /* must agree with the record */
        xai_gait_pre want;
        memset(&want, 0, sizeof want);
        int bad = xai_gait_pre_set_variables(&want, o->variables ? o->variables : "x") != XAI_OK ||
                  xai_gait_pre_set_components(&want, o->components ? o->components : "sagittal") != XAI_OK;
        if (bad)
            snprintf(err, sizeof err, "%s", xai_last_error());
        want.paired = e->pre.paired; /* only the selection is compared */
        want.offset = e->pre.offset;
        if (!o->variables)
            for (int i = 0; i < e->pre.nvars && !bad; i++) {
                free(want.vars[i < want.nvars ? i : 0]);
                want.vars[i] = strdup(e->pre.vars[i]);
                want.nvars = i + 1;
            }
        if (!o->components) {
            want.ncomps = e->pre.ncomps;
            memcpy(want.comps, e->pre.comps, sizeof want.comps);
        }
        int same = !bad && xai_gait_pre_same_selection(&want, &e->pre);
        xai_gait_pre_free(&want);
        if (bad)
            return xai_app_usage_error(app, "%s", err);
        if (!same) {
            char *pt = xai_gait_pre_to_json(&e->pre);
            json_t *j = pt ? json_loads(pt, 0, NULL) : NULL;
            free(pt);
            char *s = json_dumps(json_object_get(j, "variables"), JSON_COMPACT);
            char *c = json_dumps(json_object_get(j, "components"), JSON_COMPACT);
            xai_app_fail(app, o->model, "preprocessing mismatch: the model was trained on variables %s, components "
                         "%s; --variables/--components must match (or be omitted)", s, c);
            free(s);
            free(c);
            json_decref(j);
            return XAI_EXIT_DATA;
        }
    }
    if (xai_sha256_file(o->model, e->sha) != 0)
        return xai_app_fail(app, o->model, "cannot hash the model");
    xai_explain_config_init(&e->cfg);
    e->cfg.layer_sums = 0;
    e->cfg.composite = "epsilon-plus"; /* the planted-truth test: flat first layers ignore the input */
    if (o->method_s && xai_method_parse(o->method_s, &e->cfg.method) != XAI_OK)
        return xai_app_usage_error(app, "--method: %s", xai_last_error());
    if (o->composite) {
        if (xai_composite_check(o->composite) != XAI_OK)
            return xai_app_usage_error(app, "--composite: %s", xai_last_error());
        e->cfg.composite = o->composite;
    }
    if (o->start && strcmp(o->start, "logit") && strcmp(o->start, "onehot"))
        return xai_app_usage_error(app, "--start must be logit or onehot");
    if (o->start)
        e->cfg.init = !strcmp(o->start, "logit") ? XAI_INIT_LOGIT : XAI_INIT_ONEHOT;
    if (e->cfg.method == XAI_METHOD_LRP) {
        snprintf(e->desc, sizeof e->desc, "lrp");
    } else {
        const char *mn = xai_method_name(e->cfg.method);
        size_t k = 0;
        for (const char *s = mn; *s && k + 1 < sizeof e->desc; s++)
            if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))
                e->desc[k++] = *s;
        e->desc[k] = '\0';
    }
    const char *t = o->target ? o->target : "pred";
    xai_target tg;
    if (xai_target_parse(t, (const char *const *)e->classes, e->ncls, XAI_TARGET_ALLOW_TRUE, &tg) != XAI_OK)
        return xai_app_usage_error(app, "%s", xai_last_error());
    e->target_mode = (int)tg.kind; /* 0 pred, 1 true, 2 a class */
    e->target_class = tg.cls;
    e->figures = o->figures;
    snprintf(e->options, sizeof e->options, "method=%s composite=%s target=%s figures=%d start=%s", e->desc,
             e->cfg.composite ? e->cfg.composite : "default", t, e->figures, o->start ? o->start : "default");
    return XAI_EXIT_OK;
}

/* The explained cycles of one group: every cycle that is part of a model sample. */
typedef struct {
    int64_t n;              /* cycles */
    int64_t *idx;           /* [n] indices into the cycles, in their order */
    float *rel;             /* [n][channels][101] */
    int *pred, *tgt;        /* [n] of the cycle's sample */
    float *logit;           /* [n][classes] */
    int64_t correct, labelled; /* over samples */
} explained;

static void explained_free(explained *x)
{
    free(x->idx);
    free(x->rel);
    free(x->pred);
    free(x->tgt);
    free(x->logit);
}

/* Per-sample targets: the prediction, the trial's label (an error when it is no class of
 * the model, rather than falling back to the prediction) or a fixed class. */
static int sample_targets(xai_app *app, const explainer *e, const gait_trial *tr, const xai_gait_cycles *cy,
                          const int64_t *a, int64_t ns, int *lab, int *tg)
{
    for (int64_t i = 0; i < ns; i++) {
        const char *l = label_of(&tr[cy->trial[a[i]]], e->condition);
        lab[i] = -1;
        for (int k = 0; k < e->ncls; k++)
            if (!strcmp(e->classes[k], l))
                lab[i] = k;
        if (e->target_mode == 1 && lab[i] < 0)
            return xai_app_fail(app, tr[cy->trial[a[i]]].path, "--target true: its %s '%s' is not a class of the "
                                "model (use pred or a class name)", e->condition ? "condition" : "subject", l);
        tg[i] = e->target_mode == 0 ? -1 : e->target_mode == 1 ? lab[i] : e->target_class;
    }
    return 0;
}

/* Scatter the samples' relevance back to their cycles (left block to the left cycle, right
 * block to the right one), keeping the cycles' order. */
static int scatter(const explainer *e, const xai_gait_cycles *cy, const int64_t *a, const int64_t *b, int64_t ns,
                   const float *r, const xai_explain_result *res, explained *out)
{
    size_t per = (size_t)xai_gait_pre_channels(&e->pre) * XAI_GAIT_NPTS, ncls = (size_t)e->ncls;
    int64_t *from = malloc((size_t)cy->n * sizeof(int64_t));
    out->idx = malloc((size_t)cy->n * sizeof(int64_t));
    out->rel = malloc((size_t)cy->n * per * sizeof(float));
    out->pred = malloc((size_t)cy->n * sizeof(int));
    out->tgt = malloc((size_t)cy->n * sizeof(int));
    out->logit = malloc((size_t)cy->n * ncls * sizeof(float));
    if (!from || !out->idx || !out->rel || !out->pred || !out->tgt || !out->logit) {
        free(from);
        return -1;
    }
    for (int64_t c = 0; c < cy->n; c++)
        from[c] = -1;
    for (int64_t i = 0; i < ns; i++) {
        from[a[i]] = 2 * i;
        if (b[i] >= 0)
            from[b[i]] = 2 * i + 1;
    }
    for (int64_t c = 0; c < cy->n; c++) {
        if (from[c] < 0)
            continue;
        int64_t i = from[c] / 2, k = out->n++;
        const float *lg = res->logits + (size_t)i * ncls;
        int best = 0;
        for (int q = 1; q < e->ncls; q++)
            if (lg[q] > lg[best])
                best = q;
        out->idx[k] = c;
        memcpy(out->rel + (size_t)k * per, r + ((size_t)i * (e->pre.paired ? 2 : 1) + (size_t)(from[c] % 2)) * per,
               per * sizeof(float));
        memcpy(out->logit + (size_t)k * ncls, lg, ncls * sizeof(float));
        out->pred[k] = best;
        out->tgt[k] = res->target[i];
    }
    free(from);
    return 0;
}

static int explain_cycles(xai_app *app, explainer *e, const gait_trial *tr, const xai_gait_cycles *cy,
                          const char *prefix, explained *out)
{
    memset(out, 0, sizeof *out);
    int64_t *a = NULL, *b = NULL;
    int64_t ns = xai_gait_samples(&e->pre, cy, &a, &b);
    size_t per = (size_t)xai_gait_pre_inputs(&e->pre) * XAI_GAIT_NPTS;
    float *x = malloc((size_t)(ns > 0 ? ns : 1) * per * sizeof(float));
    float *r = malloc((size_t)(ns > 0 ? ns : 1) * per * sizeof(float));
    int *lab = malloc((size_t)(ns > 0 ? ns : 1) * sizeof(int)), *tg = malloc((size_t)(ns > 0 ? ns : 1) * sizeof(int));
    xai_explain_result res;
    memset(&res, 0, sizeof res);
    int rc = -1;
    if (ns < 0 || !x || !r || !lab || !tg) {
        xai_app_fail(app, prefix, "out of memory");
        goto done;
    }
    if (ns == 0) {
        xai_app_fail(app, prefix, "no left cycle with a right cycle starting inside it (the model takes both sides)");
        goto done;
    }
    for (int64_t i = 0; i < ns; i++)
        xai_gait_input(&e->pre, cy, a[i], b[i], x + (size_t)i * per);
    if (sample_targets(app, e, tr, cy, a, ns, lab, tg) != 0)
        goto done;
    xai_explain_config cfg = e->cfg;
    cfg.targets = tg;
    if (xai_explain(e->m, &cfg, ns, x, r, &res) != XAI_OK) {
        xai_app_fail(app, prefix, "%s", xai_last_error());
        goto done;
    }
    if (scatter(e, cy, a, b, ns, r, &res, out) != 0) {
        xai_app_fail(app, prefix, "out of memory");
        goto done;
    }
    for (int64_t i = 0; i < ns; i++)
        if (lab[i] >= 0) {
            const float *lg = res.logits + (size_t)i * (size_t)e->ncls;
            int best = 0;
            for (int q = 1; q < e->ncls; q++)
                if (lg[q] > lg[best])
                    best = q;
            out->labelled++;
            out->correct += best == lab[i];
        }
    rc = 0;
done:
    xai_explain_result_free(&res);
    free(a);
    free(b);
    free(x);
    free(r);
    free(lab);
    free(tg);
    return rc;
}

/* The relevance sidecar: method, targets, and the class scores each map explains (the
 * logit of the explained class; with the one-hot start a negative score does not flip the
 * map, with --start logit it does). */
static char *sidecar_text(const explainer *e, const explained *x, json_t *sources)
{
    json_t *pa = json_array(), *ta = json_array(), *sc = json_array(), *lg = json_array();
    for (int64_t i = 0; i < x->n; i++) {
        json_array_append_new(pa, json_string(e->classes[x->pred[i]]));
        json_array_append_new(ta, json_string(e->classes[x->tgt[i]]));
        json_array_append_new(sc, json_real(x->logit[(size_t)i * (size_t)e->ncls + (size_t)x->tgt[i]]));
        json_t *row = json_array();
        for (int k = 0; k < e->ncls; k++)
            json_array_append_new(row, json_real(x->logit[(size_t)i * (size_t)e->ncls + (size_t)k]));
        json_array_append_new(lg, row);
    }
    json_t *o = json_object();
    json_object_set_new(o, "Description", json_string("xai-gait relevance of time-normalised gait cycles"));
    json_object_set(o, "Sources", sources);
    json_object_set_new(o, "ModelSHA256", json_string(e->sha));
    json_object_set_new(o, "Method", json_string(xai_method_name(e->cfg.method)));
    json_object_set_new(o, "Composite", json_string(e->cfg.composite ? e->cfg.composite : "epsilon-plus-flat"));
    json_object_set_new(o, "Start", json_string(e->cfg.init == XAI_INIT_LOGIT ? "logit" : "onehot"));
    json_object_set_new(o, "TargetMode", json_string(e->target_mode == 0 ? "pred" : e->target_mode == 1 ? "true" : "class"));
    json_object_set_new(o, "Predicted", pa);
    json_object_set_new(o, "Target", ta);
    json_object_set_new(o, "TargetScore", sc);
    json_object_set_new(o, "ClassNames", json_array());
    for (int k = 0; k < e->ncls; k++)
        json_array_append_new(json_object_get(o, "ClassNames"), json_string(e->classes[k]));
    json_object_set_new(o, "Logits", lg);
    json_object_set_new(o, "Accuracy", x->labelled ? json_real((double)x->correct / (double)x->labelled) : json_null());
    char *pt = xai_gait_pre_to_json(&e->pre);
    json_object_set_new(o, "Preprocessing", pt ? json_loads(pt, 0, NULL) : json_null());
    free(pt);
    char *t = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return t;
}

/* Explain the cycles of cy and write the outputs under prefix. *correct counts samples whose
 * prediction equals the trial's label, *labelled those whose label is a model class. */
static int explain_group(xai_app *app, explainer *e, const gait_trial *tr, const xai_gait_cycles *cy, const char *prefix,
                         const char *title, json_t *sources, gait_chan_summary *summary, int64_t *correct,
                         int64_t *labelled)
{
    explained x;
    if (explain_cycles(app, e, tr, cy, prefix, &x) != 0) {
        explained_free(&x);
        return -1;
    }
    *correct = x.correct;
    *labelled = x.labelled;
    char *et = sidecar_text(e, &x, sources);
    gait_group g = {&e->pre, tr, cy, x.idx, x.n, x.rel, e->desc};
    int rc = et && gait_write_tables(app, &g, prefix, et, summary) == 0 ? 0 : -1;
    if (rc == 0 && e->figures) {
        char *paths[4];
        gait_output_paths(prefix, e->desc, paths);
        rc = gait_plot_grid(app, &g, paths[3], title);
        if (rc == 0)
            rc = xai_app_write_sidecar(app, paths[3], et);
        for (int i = 0; i < 4; i++)
            free(paths[i]);
    }
    free(et);
    explained_free(&x);
    return rc;
}

/* ------------------------------------------------------------------ explain */

static int cmd_explain(xai_app *app, const opts *o)
{
    if (!o->model || !o->output || o->nargs < 1)
        return xai_app_usage_error(app, "explain: need --model M.onnx, TRIAL.c3d... and -o OUTDIR");
    explainer e;
    int rc = explainer_init(app, o, &e);
    if (rc != XAI_EXIT_OK) {
        explainer_free(&e);
        return rc;
    }
    gait_trial *tr = NULL;
    int ntr = 0, nfailed = 0;
    rc = XAI_EXIT_DATA;
    if (gait_trials_collect(app, o->args, o->nargs, &tr, &ntr) != 0)
        goto done;
    /* refuse before doing anything when an output exists */
    for (int i = 0; i < ntr; i++) {
        const char *b = strrchr(tr[i].path, '/');
        b = b ? b + 1 : tr[i].path;
        char *prefix = xai_app_strdup_printf("%s/%.*s", o->output, (int)strlen(b) - 4, b);
        char *paths[4];
        gait_output_paths(prefix, e.desc, paths);
        int bad = 0;
        for (int k = 0; k < (e.figures ? 4 : 3) && !bad; k++)
            bad = xai_app_check_output(app, paths[k]) != 0;
        for (int k = 0; k < 4; k++)
            free(paths[k]);
        free(prefix);
        if (bad)
            goto done;
    }
    if (xai_bids_write_dataset_description(app, o->output, PROG) != 0)
        goto done;
    for (int i = 0; i < ntr; i++) {
        xai_gait_cycles cy;
        memset(&cy, 0, sizeof cy);
        int gaps = 0;
        if (xai_gait_extract(&e.pre, tr[i].path, i, &cy, &gaps) != XAI_OK) {
            xai_app_fail(app, tr[i].path, "%s; trial skipped", xai_last_error());
            nfailed++;
            xai_gait_cycles_free(&cy);
            continue;
        }
        if (gaps)
            xai_app_log(app, 1, "%s: %d cycle(s) with gaps skipped", tr[i].path, gaps);
        const char *b = strrchr(tr[i].path, '/');
        b = b ? b + 1 : tr[i].path;
        char *prefix = xai_app_strdup_printf("%s/%.*s", o->output, (int)strlen(b) - 4, b);
        json_t *src = json_array();
        json_array_append_new(src, json_string(tr[i].path));
        int64_t ok = 0, nl = 0;
        int r = explain_group(app, &e, tr, &cy, prefix, b, src, NULL, &ok, &nl);
        json_decref(src);
        free(prefix);
        if (r == 0) {
            if (nl)
                xai_app_log(app, 1, "%s: %lld cycles (%d with gaps skipped), accuracy %.3f", tr[i].path,
                            (long long)cy.n, gaps, (double)ok / (double)nl);
            else
                xai_app_log(app, 1, "%s: %lld cycles (%d with gaps skipped)", tr[i].path, (long long)cy.n, gaps);
        }
        xai_gait_cycles_free(&cy);
        if (r != 0)
            goto done;
    }
    rc = nfailed == ntr ? XAI_EXIT_DATA : nfailed ? XAI_EXIT_PARTIAL : XAI_EXIT_OK;
done:
    gait_trials_free(tr, ntr);
    explainer_free(&e);
    return rc;
}

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
static int marker_valid(const char *mpath, const explainer *e, json_t *inputs)
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
        ok = file_exists(json_string_value(json_array_get(outs, i)));
    json_decref(mk);
    return ok;
}

static int cmd_study(xai_app *app, const opts *o)
{
    if (!o->model || o->nargs != 2)
        return xai_app_usage_error(app, "study: need STUDY_DIR OUT_DIR and --model M.onnx");
    const char *study = o->args[0], *out = o->args[1];
    explainer e;
    int rc = explainer_init(app, o, &e);
    if (rc != XAI_EXIT_OK) {
        explainer_free(&e);
        return rc;
    }
    rc = XAI_EXIT_DATA;
    gait_trial *tr = NULL;
    int ntr = 0;
    char **subs = NULL;
    int nsub = 0, nfail_total = 0, nskipped = 0, ndone = 0;
    int64_t cycles_done = 0;
    double explain_s = 0;
    char *spath = xai_app_strdup_printf("%s/.xai-gait-study.json", out);
    if (gait_trials_collect(app, o->args, 1, &tr, &ntr) != 0)
        goto done;
    /* output folder policy: ours (same model and options) resumes; anything else needs --force */
    struct stat st;
    if (stat(out, &st) == 0) {
        json_t *sj = load_json(spath);
        const char *sha = json_string_value(json_object_get(sj, "ModelSHA256"));
        const char *op = json_string_value(json_object_get(sj, "Options"));
        int ours = sj && sha && !strcmp(sha, e.sha) && op && !strcmp(op, e.options);
        json_decref(sj);
        if (!ours && !app->force) {
            char *dd = xai_app_strdup_printf("%s/dataset_description.json", out);
            int nonempty = 0;
            FILE *probe = NULL;
            (void)probe;
            nonempty = file_exists(dd) || file_exists(spath);
            free(dd);
            if (nonempty) {
                xai_app_fail(app, out, "holds results of another model or other options; use --force to redo them");
                goto done;
            }
        }
    }
    if (xai_app_mkdirs(app, out) != 0 || xai_bids_write_dataset_description(app, out, PROG) != 0)
        goto done;
    xai_app_sweep_orphans(app, out); /* resuming: temps of a killed run */
    {
        json_t *sj = json_object();
        json_object_set_new(sj, "ModelSHA256", json_string(e.sha));
        json_object_set_new(sj, "Options", json_string(e.options));
        json_object_set_new(sj, "Study", json_string(study));
        int r = write_json(app, spath, sj);
        json_decref(sj);
        if (r != 0)
            goto done;
    }
    subs = calloc((size_t)ntr, sizeof *subs);
    for (int i = 0; i < ntr; i++) {
        int k = 0;
        while (k < nsub && strcmp(subs[k], tr[i].subject))
            k++;
        if (k == nsub)
            subs[nsub++] = tr[i].subject;
    }
    xai_app_log(app, 1, "%d trials of %d subjects under %s", ntr, nsub, study);
    xai_app_progress_begin(app, "study", nsub);
    for (int s = 0; s < nsub; s++) {
        const char *sub = subs[s];
        char *sdir = xai_app_strdup_printf("%s/%s", out, sub), *mpath = xai_app_strdup_printf("%s/%s", sdir, MARKER);
        char *prefix = xai_app_strdup_printf("%s/%s", sdir, sub);
        json_t *inputs = json_array();
        for (int i = 0; i < ntr; i++)
            if (!strcmp(tr[i].subject, sub)) {
                char hex[65] = "";
                if (xai_sha256_file(tr[i].path, hex) != 0)
                    snprintf(hex, sizeof hex, "unreadable");
                json_t *it = json_object();
                json_object_set_new(it, "path", json_string(tr[i].path));
                json_object_set_new(it, "sha256", json_string(hex));
                json_array_append_new(inputs, it);
            }
        if (!app->force && marker_valid(mpath, &e, inputs)) {
            json_t *mk = load_json(mpath);
            int nf = (int)json_array_size(json_object_get(mk, "FailedTrials"));
            for (int f = 0; f < nf; f++) {
                json_t *ft = json_array_get(json_object_get(mk, "FailedTrials"), (size_t)f);
                xai_app_fail(app, json_string_value(json_object_get(ft, "path")), "%s (from the earlier run; "
                             "trial skipped)", json_string_value(json_object_get(ft, "error")));
            }
            nfail_total += nf;
            json_decref(mk);
            xai_app_log(app, 2, "%s: unchanged since the last run, skipped", sub);
            nskipped++;
            goto next;
        }
        unlink(mpath);
        if (xai_app_mkdirs(app, sdir) != 0)
            goto subject_fail;
        xai_app_sweep_orphans(app, sdir);
        {
            xai_gait_cycles cy;
            memset(&cy, 0, sizeof cy);
            json_t *failed = json_array();
            int gaps_total = 0;
            for (int i = 0; i < ntr; i++) {
                if (strcmp(tr[i].subject, sub))
                    continue;
                char err[1024];
                int gaps = 0;
                if (xai_gait_extract(&e.pre, tr[i].path, i, &cy, &gaps) != XAI_OK) {
                    snprintf(err, sizeof err, "%s", xai_last_error());
                    xai_app_fail(app, tr[i].path, "%s; trial skipped", err);
                    json_t *ft = json_object();
                    json_object_set_new(ft, "path", json_string(tr[i].path));
                    json_object_set_new(ft, "error", json_string(err));
                    json_array_append_new(failed, ft);
                    nfail_total++;
                } else if (gaps) {
                    xai_app_log(app, 1, "%s: %d cycle(s) with gaps skipped", tr[i].path, gaps);
                    gaps_total += gaps;
                }
            }
            gait_chan_summary sum[XAI_GAIT_MAX_VARS * 3];
            int64_t ok = 0, nl = 0;
            json_t *outs = json_array();
            if (cy.n > 0) {
                json_t *src = json_array();
                for (size_t k = 0; k < json_array_size(inputs); k++)
                    json_array_append(src, json_object_get(json_array_get(inputs, k), "path"));
                struct timespec t0, t1;
                clock_gettime(CLOCK_MONOTONIC, &t0);
                int r = explain_group(app, &e, tr, &cy, prefix, sub, src, sum, &ok, &nl);
                clock_gettime(CLOCK_MONOTONIC, &t1);
                explain_s += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
                json_decref(src);
                if (r != 0) {
                    json_decref(failed);
                    json_decref(outs);
                    xai_gait_cycles_free(&cy);
                    goto subject_fail;
                }
                char *paths[4];
                gait_output_paths(prefix, e.desc, paths);
                for (int k = 0; k < (e.figures ? 4 : 3); k++)
                    json_array_append_new(outs, json_string(paths[k]));
                for (int k = 0; k < 4; k++)
                    free(paths[k]);
                cycles_done += cy.n;
            }
            json_t *mk = json_object();
            json_object_set_new(mk, "Subject", json_string(sub));
            json_object_set_new(mk, "ModelSHA256", json_string(e.sha));
            json_object_set_new(mk, "Options", json_string(e.options));
            json_object_set(mk, "Inputs", inputs);
            json_object_set_new(mk, "FailedTrials", failed);
            json_object_set_new(mk, "Outputs", outs);
            json_object_set_new(mk, "Cycles", json_integer(cy.n));
            json_object_set_new(mk, "GapCycles", json_integer(gaps_total));
            json_object_set_new(mk, "Accuracy", nl ? json_real((double)ok / (double)nl) : json_null());
            json_t *sa = json_array();
            for (int v = 0; cy.n > 0 && v < e.pre.nvars; v++)
                for (int j = 0; j < e.pre.ncomps; j++) {
                    const gait_chan_summary *q = &sum[v * e.pre.ncomps + j];
                    json_t *row = json_pack("{s:s,s:s,s:f,s:f,s:i,s:f}", "variable", e.pre.vars[v], "component",
                                            xai_gait_component_names[e.pre.comps[j]], "abs_share", q->abs_share,
                                            "pos_share", q->pos_share, "peak_pct", q->peak_pct, "peak", q->peak);
                    json_array_append_new(sa, row);
                }
            json_object_set_new(mk, "Summary", sa);
            int r = write_json(app, mpath, mk);
            json_decref(mk);
            xai_gait_cycles_free(&cy);
            if (r != 0)
                goto subject_fail;
            ndone++;
        }
    next:
        json_decref(inputs);
        xai_app_progress_step(app, s + 1, sub);
        free(sdir);
        free(mpath);
        free(prefix);
        continue;
    subject_fail:
        json_decref(inputs);
        free(sdir);
        free(mpath);
        free(prefix);
        xai_app_progress_end(app);
        goto done;
    }
    xai_app_progress_end(app);
    /* group tables from every subject's marker */
    {
        char *gdir = xai_app_strdup_printf("%s/group", out);
        char *p1 = xai_app_strdup_printf("%s/desc-%s_summary.tsv", gdir, e.desc),
             *p2 = xai_app_strdup_printf("%s/desc-%s_subjects.tsv", gdir, e.desc);
        int okw = xai_app_mkdirs(app, gdir) == 0;
        FILE *f1 = NULL, *f2 = NULL;
        char *t1 = NULL, *t2 = NULL;
        if (okw) {
            f1 = xai_app_atomic_open(app, p1, &t1);
            f2 = f1 ? xai_app_atomic_open(app, p2, &t2) : NULL;
            okw = f1 && f2;
        }
        int nch = xai_gait_pre_channels(&e.pre);
        double *gabs = calloc((size_t)nch, sizeof(double)), *gpos = calloc((size_t)nch, sizeof(double));
        int ng = 0;
        if (okw) {
            fprintf(f1, "subject\tvariable\tcomponent\tabs_share\tpos_share\tpeak_pct\tpeak_relevance\n");
            fprintf(f2, "subject\ttrials\tfailed_trials\tcycles\tgap_cycles\taccuracy\n");
        }
        for (int s = 0; okw && s < nsub; s++) {
            char *mpath = xai_app_strdup_printf("%s/%s/%s", out, subs[s], MARKER);
            json_t *mk = load_json(mpath);
            free(mpath);
            if (!mk)
                continue;
            json_t *acc = json_object_get(mk, "Accuracy");
            fprintf(f2, "%s\t%zu\t%zu\t%lld\t%lld\t", subs[s], json_array_size(json_object_get(mk, "Inputs")),
                    json_array_size(json_object_get(mk, "FailedTrials")),
                    (long long)json_integer_value(json_object_get(mk, "Cycles")),
                    (long long)json_integer_value(json_object_get(mk, "GapCycles")));
            if (json_is_number(acc))
                fprintf(f2, "%.4f\n", json_number_value(acc));
            else
                fprintf(f2, "n/a\n");
            json_t *sa = json_object_get(mk, "Summary");
            if (json_array_size(sa) == (size_t)nch) {
                ng++;
                for (int ch = 0; ch < nch; ch++) {
                    json_t *row = json_array_get(sa, (size_t)ch);
                    double a = json_number_value(json_object_get(row, "abs_share"));
                    double p = json_number_value(json_object_get(row, "pos_share"));
                    gabs[ch] += a;
                    gpos[ch] += p;
                    fprintf(f1, "%s\t%s\t%s\t%.5f\t%.5f\t%lld\t%.5g\n", subs[s],
                            json_string_value(json_object_get(row, "variable")),
                            json_string_value(json_object_get(row, "component")), a, p,
                            (long long)json_integer_value(json_object_get(row, "peak_pct")),
                            json_number_value(json_object_get(row, "peak")));
                }
            }
            json_decref(mk);
        }
        for (int ch = 0; okw && ng && ch < nch; ch++)
            fprintf(f1, "group\t%s\t%s\t%.5f\t%.5f\tn/a\tn/a\n", e.pre.vars[ch / e.pre.ncomps],
                    xai_gait_component_names[e.pre.comps[ch % e.pre.ncomps]], gabs[ch] / ng, gpos[ch] / ng);
        free(gabs);
        free(gpos);
        if (f1)
            okw = xai_app_atomic_commit(app, f1, t1, p1, okw) == 0 && okw;
        if (f2)
            okw = xai_app_atomic_commit(app, f2, t2, p2, okw) == 0 && okw;
        if (okw) {
            json_t *ex = json_object();
            json_object_set_new(ex, "Description", json_string("xai-gait group summary: relevance share per "
                                "subject, variable and component (abs_share = sum|R| / total; pos_share = sum R+ "
                                "/ total R+; peak = largest mean relevance over cycles), and the group mean"));
            json_object_set_new(ex, "ModelSHA256", json_string(e.sha));
            json_object_set_new(ex, "Sources", json_string(study));
            char *et = json_dumps(ex, JSON_COMPACT);
            json_decref(ex);
            okw = xai_app_write_sidecar(app, p1, et) == 0 && xai_app_write_sidecar(app, p2, et) == 0;
            free(et);
        }
        free(gdir);
        free(p1);
        free(p2);
        if (!okw)
            goto done;
    }
    xai_app_log(app, 1, "%d subjects explained, %d unchanged and skipped; %lld cycles in %.2f s (%.0f cycles/s)%s",
                ndone, nskipped, (long long)cycles_done, explain_s,
                explain_s > 0 ? (double)cycles_done / explain_s : 0.0,
                nfail_total ? "; some trials failed (listed above)" : "");
    rc = nfail_total ? XAI_EXIT_PARTIAL : XAI_EXIT_OK;
done:
    free(spath);
    free(subs);
    gait_trials_free(tr, ntr);
    explainer_free(&e);
    return rc;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    xai_app app;
    xai_app_init(&app, PROG, XAI_GAIT_VERSION, argc, argv);
    xai_app_install_signal_handlers();
    opts o = {.epochs = 60, .batch = 32, .lr = 1e-3, .weight_decay = 1e-2, .figures = 1};
    int rc = xai_app_leading_args(&app, argc, argv, "missing command: train, explain or study", usage);
    if (rc >= 0)
        goto out;
    rc = XAI_EXIT_USAGE;
    o.cmd = argv[1];
    if (strcmp(o.cmd, "train") && strcmp(o.cmd, "explain") && strcmp(o.cmd, "study")) {
        rc = xai_app_usage_error(&app, "unknown command '%s' (train, explain or study)", o.cmd);
        goto out;
    }
    static const struct option longopts[] = {
        {"target", required_argument, 0, O_TARGET}, {"split", required_argument, 0, O_SPLIT},
        {"variables", required_argument, 0, O_VARS}, {"components", required_argument, 0, O_COMPS},
        {"arch", required_argument, 0, O_ARCH}, {"epochs", required_argument, 0, O_EPOCHS},
        {"batch", required_argument, 0, O_BATCH}, {"lr", required_argument, 0, O_LR},
        {"seed", required_argument, 0, O_SEED}, {"model", required_argument, 0, O_MODEL},
        {"method", required_argument, 0, O_METHOD}, {"composite", required_argument, 0, O_COMPOSITE},
        {"no-figures", no_argument, 0, O_NOFIG}, {"output", required_argument, 0, 'o'},
        {"split-by", required_argument, 0, O_SPLIT}, {"sides", required_argument, 0, O_SIDES},
        {"offset", required_argument, 0, O_OFFSET}, {"weight-decay", required_argument, 0, O_WD},
        {"strict", no_argument, 0, O_STRICT}, {"start", required_argument, 0, O_START},
        {"help", no_argument, 0, 'h'}, XAI_APP_LONG_OPTIONS, {0, 0, 0, 0}};
    int ac = argc - 1;
    char **av = argv + 1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(ac, av, ":o:hfqv", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case O_TARGET: o.target = optarg; break;
        case O_SPLIT: o.split = optarg; break;
        case O_VARS: o.variables = optarg; break;
        case O_COMPS: o.components = optarg; break;
        case O_ARCH: o.arch = optarg; break;
        case O_MODEL: o.model = optarg; break;
        case O_METHOD: o.method_s = optarg; break;
        case O_COMPOSITE: o.composite = optarg; break;
        case O_NOFIG: o.figures = 0; break;
        case O_SIDES: o.sides = optarg; break;
        case O_OFFSET: o.offset = optarg; break;
        case O_STRICT: o.strict = 1; break;
        case O_START: o.start = optarg; break;
        case 'o': o.output = optarg; break;
        case O_EPOCHS:
        case O_BATCH:
        case O_SEED: {
            long long v = strtoll(optarg, &end, 10);
            if (*end || v < (c == O_SEED ? 0 : 1) || v > 100000000) {
                rc = xai_app_usage_error(&app, "invalid value '%s'", optarg);
                goto out;
            }
            if (c == O_EPOCHS) o.epochs = (int)v;
            else if (c == O_BATCH) o.batch = v;
            else o.seed = (uint64_t)v;
            break;
        }
        case O_LR:
            o.lr = strtod(optarg, &end);
            if (*end || !(o.lr > 0)) {
                rc = xai_app_usage_error(&app, "--lr needs a positive number");
                goto out;
            }
            break;
        case O_WD:
            o.weight_decay = strtod(optarg, &end);
            if (*end || !(o.weight_decay >= 0) || o.weight_decay > 1) {
                rc = xai_app_usage_error(&app, "--weight-decay needs a number in [0, 1]");
                goto out;
            }
            break;
        case 'h':
            usage();
            rc = XAI_EXIT_OK;
            goto out;
        case ':':
            rc = xai_app_usage_error(&app, "option '%s' needs a value", av[optind - 1]);
            goto out;
        case '?':
            rc = xai_app_usage_error(&app, "unknown option '%s'", av[optind - 1]);
            goto out;
        default: {
            int h = xai_app_handle_option(&app, c, optarg);
            if (h == 2) {
                rc = XAI_EXIT_OK;
                goto out;
            }
            if (h != 1) {
                rc = XAI_EXIT_USAGE;
                goto out;
            }
        }
        }
    }
    o.args = av + optind;
    o.nargs = ac - optind;
    xai_app_apply_threads(&app);
    if (!strcmp(o.cmd, "train"))
        rc = gait_cmd_train(&app, &o);
    else if (!strcmp(o.cmd, "explain"))
        rc = cmd_explain(&app, &o);
    else
        rc = cmd_study(&app, &o);
out:
    xai_app_free(&app);
    cairo_debug_reset_static_data(); /* so leak checkers see only real leaks */
    FcFini();
    return rc;
}
