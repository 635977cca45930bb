/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * explain.c - xai-speech explain: clips through the shared driver (out of fold with a fold
 * set, the stable start by default, maps scaled to sum |R| = 1), written per clip
 * (STEM_relevance.npy + sidecar, STEM_overlay.png) or as one stack, with predictions.tsv
 * through the TSV writer and the optional sonification.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report-app.h"
#include "speech-app.h"
#include "xai/audio.h"
#include "xai/card.h"
#include "xai/npy.h"
#include "xai/sidecar.h"
#include "xai/tsv.h"

/* Clips read, explained and written per round: bounds the memory of a large folder. */
#define CHUNK 256

typedef struct {
    opts *o;
    const xai_driver_set *set;
    const xai_speech_pre *pre;
    const xai_driver_explain_options *eo;
    xai_speech_ctx ctx;
    const char *names[256];
    int K;
    char model_sha[65];
    char **stems;          /* output stem per file */
    xai_tsv *tsv;          /* predictions.tsv */
    xai_sidecar *stack_sc; /* --stacked: relevance.json */
    float *stack, *inputs; /* --stacked: maps and model inputs */
    float *box;            /* the chunk's z-box bounds (--root-point floor) */
    size_t box_cap;
    int64_t nstack;
    int nbad, ndone;
    /* --shard/--slurm: the batch over every file, the files of this shard in o->files, the
     * whole list kept in all, item_of[i] = the item of file i, ok[i] = its outputs written */
    int batch_mode;
    speech_batch batch;
    xai_speech_files all;
    int *item_of;
    unsigned char *ok;
} xctx;

static const char *class_name(const xctx *x, int k, char *buf, size_t cap)
{
    if (k >= 0 && k < x->K && x->names[k])
        return x->names[k];
    snprintf(buf, cap, "%d", k);
    return buf;
}

/* ------------------------------------------------------------------ output names */

static void stem_of(const char *path, char *out, size_t cap)
{
    const char *b = strrchr(path, '/');
    snprintf(out, cap, "%s", b ? b + 1 : path);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = '\0';
}

/* "PARENT_NAME" for @p path: the stem of a file whose name another input shares. */
static void parent_stem(const char *path, char *out, size_t cap)
{
    char a[256], b[512];
    stem_of(path, a, sizeof a);
    snprintf(b, sizeof b, "%s", path);
    char *slash = strrchr(b, '/');
    if (slash)
        *slash = '\0';
    const char *parent = slash ? strrchr(b, '/') : NULL;
    parent = slash ? (parent ? parent + 1 : b) : ".";
    snprintf(out, cap, "%.200s_%s", parent, a);
}

static char **stem_sort; /* for cmp_stem_idx */

static int cmp_stem_idx(const void *a, const void *b)
{
    return strcmp(stem_sort[*(const int *)a], stem_sort[*(const int *)b]);
}

/* Output stems of every input: the file name without extension, or PARENT_NAME where names
 * collide (real_digits/SPEAKER/0.wav), so outputs never overwrite each other. */
static char **make_stems(const xai_speech_files *f)
{
    const int n = f->n;
    char **st = calloc((size_t)(n ? n : 1), sizeof *st), buf[512];
    int *idx = malloc(sizeof(int) * (size_t)(n ? n : 1)), *dup = calloc((size_t)(n ? n : 1), sizeof(int)), ok = 1;
    for (int i = 0; st && idx && dup && i < n; i++) {
        stem_of(f->path[i], buf, sizeof buf);
        ok = ok && (st[i] = strdup(buf)) != NULL;
        idx[i] = i;
    }
    if (st && idx && dup && ok) {
        stem_sort = st;
        qsort(idx, (size_t)n, sizeof *idx, cmp_stem_idx);
        stem_sort = NULL;
        for (int k = 1; k < n; k++)
            if (strcmp(st[idx[k]], st[idx[k - 1]]) == 0)
                dup[idx[k]] = dup[idx[k - 1]] = 1;
    }
    for (int i = 0; st && idx && dup && ok && i < n; i++)
        if (dup[i]) {
            parent_stem(f->path[i], buf, sizeof buf);
            free(st[i]);
            ok = (st[i] = strdup(buf)) != NULL;
        }
    if (st && !(idx && dup && ok)) {
        for (int i = 0; i < n; i++)
            free(st[i]);
        free(st);
        st = NULL;
    }
    free(idx);
    free(dup);
    return st;
}

/* ------------------------------------------------------------------ sidecars */

/* Members every map of this run shares. */
static xai_status common_members(const xctx *x, const xai_driver_explanation *e, xai_sidecar *sc)
{
    const opts *o = x->o;
    char *pj = xai_speech_pre_to_json(x->pre);
    double hz[1024];
    const int rows = x->pre->rows < 1024 ? x->pre->rows : 1024;
    for (int r = 0; r < rows; r++)
        hz[r] = xai_speech_row_hz(x->pre, r);
    xai_status st = pj ? xai_sidecar_set_string(sc, "Method", xai_method_name(o->method)) : XAI_ENOMEM;
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "Composite", o->composite ? o->composite : SPEECH_DEFAULT_COMPOSITE);
    char root[32];
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "RootPoint", speech_root_name(o, root, sizeof root));
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "Start", e->start ? e->start : "stable");
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "Normalisation", "each map scaled to sum |R| = 1 (RawRelevanceSum: before)");
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "Model", o->model);
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "ModelSHA256", x->model_sha);
    if (st == XAI_OK)
        st = xai_sidecar_set_json(sc, "Preprocessing", pj);
    if (st == XAI_OK)
        st = xai_sidecar_set_number_array(sc, "RowCentreHz", hz, (size_t)rows);
    free(pj);
    return st;
}

/* Members of clip @p i (sample @p k of the explanation). */
static xai_status clip_members(const xctx *x, const xai_speech_study *s, const xai_driver_explanation *e, int64_t k,
                               const float *rel, xai_sidecar *sc)
{
    const int i = s->file[k];
    char sha[65] = "", b1[16], b2[16];
    xai_sha256_file(x->o->files.path[i], sha);
    double lg[256], rsum = 0;
    for (int c = 0; c < e->nclasses && c < 256; c++)
        lg[c] = e->logits[k * e->nclasses + c];
    for (int64_t j = 0; j < e->numel; j++)
        rsum += rel[j];
    const int t = e->target[k], p = e->pred[k];
    xai_status st = xai_sidecar_set_string(sc, "Source", x->o->files.path[i]);
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "SourceSHA256", sha);
    if (st == XAI_OK)
        st = xai_sidecar_set_int(sc, "Target", t);
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "TargetName", class_name(x, t, b1, sizeof b1));
    if (st == XAI_OK)
        st = xai_sidecar_set_int(sc, "Prediction", p);
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "PredictionName", class_name(x, p, b2, sizeof b2));
    if (st == XAI_OK)
        st = xai_sidecar_set_number_array(sc, "Logits", lg, (size_t)(e->nclasses < 256 ? e->nclasses : 256));
    if (st == XAI_OK)
        st = xai_sidecar_set_number(sc, "RelevanceSum", rsum);
    if (st == XAI_OK)
        st = xai_sidecar_set_number(sc, "RawRelevanceSum", e->rel_sum[k]);
    if (st == XAI_OK)
        st = xai_sidecar_set_number(sc, "StartRelevance", e->init_sum[k]);
    if (st == XAI_OK)
        st = e->fold[k] >= 0 ? xai_sidecar_set_int(sc, "Fold", e->fold[k] + 1) : xai_sidecar_set_null(sc, "Fold");
    if (st == XAI_OK)
        st = xai_sidecar_set_bool(sc, "OutOfSample", !(e->flags[k] & XAI_DRIVER_FLAG_IN_SAMPLE));
    if (st == XAI_OK)
        st = xai_sidecar_set_int(sc, "ClipStartSample", s->start[k]);
    if (st == XAI_OK)
        st = xai_sidecar_set_int(sc, "ClipSamples", s->len[k]);
    return st;
}

/* Frame centres on the file's time axis (clip_start) into a sidecar array. */
static xai_status frame_times(const xai_speech_pre *p, int64_t clip_start, const char *key, xai_sidecar *sc)
{
    double *ts = malloc(sizeof(double) * (size_t)p->frames);
    if (!ts)
        return XAI_ENOMEM;
    for (int64_t j = 0; j < p->frames; j++)
        ts[j] = xai_speech_col_s(p, (double)j, clip_start);
    xai_status st = xai_sidecar_set_number_array(sc, key, ts, (size_t)p->frames);
    free(ts);
    return st;
}

/* Write @p sc (with the program's provenance) as the sidecar of @p path. */
static int save_sidecar(const xctx *x, xai_sidecar *sc, const char *path)
{
    char *text = NULL;
    if (xai_sidecar_to_string(sc, &text) != XAI_OK)
        return xai_app_fail(&x->o->app, path, "%s", xai_last_error()), -1;
    int rc = xai_app_write_sidecar(&x->o->app, path, text);
    xai_free(text);
    return rc;
}

/* ------------------------------------------------------------------ one clip */

static int add_tsv_row(xctx *x, const xai_speech_study *s, const xai_driver_explanation *e, int64_t k,
                       const char *relpath, double rsum)
{
    size_t row;
    char b1[16], b2[16];
    const int t = e->target[k];
    xai_status st = xai_tsv_add_row(x->tsv, &row);
    if (st == XAI_OK)
        st = xai_tsv_set_string(x->tsv, row, 0, x->o->files.path[s->file[k]]);
    if (st == XAI_OK)
        st = xai_tsv_set_string(x->tsv, row, 1, class_name(x, e->pred[k], b1, sizeof b1));
    if (st == XAI_OK)
        st = xai_tsv_set_string(x->tsv, row, 2, class_name(x, t, b2, sizeof b2));
    if (st == XAI_OK)
        st = xai_tsv_set_number(x->tsv, row, 3, t >= 0 ? e->logits[k * e->nclasses + t] : NAN);
    if (st == XAI_OK)
        st = xai_tsv_set_number(x->tsv, row, 4, rsum);
    if (st == XAI_OK)
        st = xai_tsv_set_string(x->tsv, row, 5, relpath);
    if (st == XAI_OK)
        st = e->fold[k] >= 0 ? xai_tsv_set_number(x->tsv, row, 6, e->fold[k] + 1) : xai_tsv_set_na(x->tsv, row, 6);
    if (st != XAI_OK)
        return xai_app_fail(&x->o->app, NULL, "predictions: %s", xai_last_error()), -1;
    return 0;
}

static int figure(const xctx *x, const xai_speech_study *s, const xai_driver_explanation *e, int64_t k,
                  const char *png, const float *feat, const float *rel)
{
    char title[512], stem[256], b1[16], b2[16];
    stem_of(x->o->files.path[s->file[k]], stem, sizeof stem);
    snprintf(title, sizeof title, "%s: %s relevance for '%s' (predicted '%s')", stem, xai_method_name(x->o->method),
             class_name(x, e->target[k], b1, sizeof b1), class_name(x, e->pred[k], b2, sizeof b2));
    if (xai_speech_figure(png, x->pre, s->start[k], feat, rel, title) != XAI_OK)
        return xai_app_fail(&x->o->app, png, "%s", xai_last_error()), -1;
    return 0;
}

/* Per-clip outputs: STEM_relevance.npy, its sidecar, the figure and its sidecar. */
/* --concepts: the clip's concept maps next to its map, with its sidecar's members. */
static int clip_concepts(xctx *x, const xai_speech_study *s, const xai_driver_explanation *e, int64_t k,
                         const xai_sidecar *sc)
{
    char *common = NULL;
    if (xai_sidecar_to_string(sc, &common) != XAI_OK)
        return xai_app_fail(&x->o->app, NULL, "%s", xai_last_error()), -1;
    speech_concepts_in in = {x->o->files.path[s->file[k]], x->stems[s->file[k]], common, x->set, x->eo, e, k,
                             x->pre->rows, x->pre->frames, s->d.x + (size_t)k * (size_t)e->numel, x->names, x->K};
    int rc = speech_concepts(x->o, &in);
    xai_free(common);
    return rc;
}

/* Clip k's map, its sidecar, its concepts and its figure. */
static int write_clip(xctx *x, const xai_speech_study *s, const xai_driver_explanation *e, int64_t k,
                      xai_sidecar *sc, const char *npy, const char *png)
{
    const float *rel = e->rel + (size_t)k * (size_t)e->numel, *feat = s->d.x + (size_t)k * (size_t)e->numel;
    int64_t shape[2] = {x->pre->rows, x->pre->frames};
    if (xai_npy_save(npy, 2, shape, rel) != XAI_OK)
        return xai_app_fail(&x->o->app, npy, "%s", xai_last_error()), -1;
    xai_status st = frame_times(x->pre, s->start[k], "FrameCentreS", sc);
    if (st == XAI_OK)
        st = xai_sidecar_set_string_array(sc, "Axes", (const char *const[]){"frequency row (bottom first)",
                                                                             "time frame"}, 2);
    if (st != XAI_OK || save_sidecar(x, sc, npy) != 0)
        return st != XAI_OK ? (xai_app_fail(&x->o->app, npy, "%s", xai_last_error()), -1) : -1;
    if (x->o->concepts && clip_concepts(x, s, e, k, sc) != 0)
        return -1;
    if (!x->o->figures)
        return 0;
    if (figure(x, s, e, k, png, feat, rel) != 0 ||
        xai_sidecar_set_string(sc, "Figure", "spectrogram features (grey, [0,1]) with relevance overlaid, bwr "
                                             "centred at 0, origin lower") != XAI_OK)
        return -1;
    return save_sidecar(x, sc, png);
}

/* Append clip k to the stack: its map, input and record in relevance.json's Clips. */
static int stack_clip(xctx *x, const xai_speech_study *s, const xai_driver_explanation *e, int64_t k,
                      const char *png)
{
    const size_t per = (size_t)e->numel;
    float *ns = realloc(x->stack, sizeof(float) * per * (size_t)(x->nstack + 1));
    if (ns)
        x->stack = ns;
    float *ni = ns && x->o->save_input ? realloc(x->inputs, sizeof(float) * per * (size_t)(x->nstack + 1)) : NULL;
    if (ni)
        x->inputs = ni;
    xai_sidecar *c = NULL;
    if (!ns || (x->o->save_input && !ni) || xai_sidecar_append_object(x->stack_sc, "Clips", &c) != XAI_OK)
        return xai_app_fail(&x->o->app, NULL, "out of memory for the stacked relevance"), -1;
    const float *rel = e->rel + (size_t)k * per;
    memcpy(x->stack + per * (size_t)x->nstack, rel, sizeof(float) * per);
    if (ni)
        memcpy(x->inputs + per * (size_t)x->nstack, s->d.x + (size_t)k * per, sizeof(float) * per);
    xai_status st = clip_members(x, s, e, k, rel, c);
    if (st == XAI_OK)
        st = xai_sidecar_set_int(c, "Index", x->nstack);
    if (st == XAI_OK)
        st = xai_sidecar_set_number(c, "FirstFrameCentreS", xai_speech_col_s(x->pre, 0, s->start[k]));
    if (st == XAI_OK && x->o->figures)
        st = xai_sidecar_set_string(c, "Figure", png);
    xai_sidecar_free(c);
    if (st != XAI_OK)
        return xai_app_fail(&x->o->app, NULL, "%s", xai_last_error()), -1;
    x->nstack++;
    return x->o->figures ? figure(x, s, e, k, png, s->d.x + (size_t)k * per, rel) : 0;
}

/* Sonification of the one input clip: mask the STFT by the relevance, ISTFT, trim to the file. */
static int sonify(xctx *x, const xai_speech_study *s, const float *rel)
{
    opts *o = x->o;
    const int64_t L = x->pre->spec.fixed_length;
    float *sig = malloc(sizeof(float) * (size_t)L), *y = malloc(sizeof(float) * (size_t)L);
    int rc = -1;
    if (!sig || !y || xai_speech_load(&x->ctx, o->files.path[s->file[0]], sig, NULL, NULL, NULL, NULL) != XAI_OK ||
        xai_speech_sonify(&x->ctx, sig, rel, y) != XAI_OK ||
        xai_audio_save(o->sonify, y + s->start[0], 1, s->len[0], x->pre->spec.sample_rate, XAI_AUDIO_WAV_FLOAT) !=
            XAI_OK) {
        xai_app_fail(&o->app, o->sonify, "%s", sig && y ? xai_last_error() : "out of memory");
        goto out;
    }
    char *t = xai_app_strdup_printf(
        "{\"Source\":\"%s\",\"Model\":\"%s\",\"ModelSHA256\":\"%s\",\"SampleRate\":%d,\"Samples\":%lld,\"Mask\":\"%s\"}",
        o->files.path[s->file[0]], o->model, x->model_sha, x->pre->spec.sample_rate, (long long)s->len[0],
        x->pre->spec.n_mels > 0 ? "clip(R+/max R+,0,1) on mel rows, to linear bins by sum_m fb[m,k] R[m,t] / "
                                  "sum_m fb[m,k]; ISTFT with original phase"
                                : "clip(R+/max R+,0,1) per linear bin; ISTFT with original phase");
    rc = t ? xai_app_write_sidecar(&o->app, o->sonify, t) : -1;
    free(t);
out:
    free(sig);
    free(y);
    return rc;
}

/* --concepts: nonzero when a concept output of @p stem exists (printed). */
static int check_concepts(const opts *o, const char *stem)
{
    char *npy = NULL, *tsv = NULL;
    int bad = speech_concepts_paths(o, stem, &npy, &tsv) != 0 ? xai_app_fail(&o->app, NULL, "out of memory")
              : xai_app_check_output(&o->app, npy) != 0 || xai_app_check_output(&o->app, tsv) != 0;
    free(npy);
    free(tsv);
    return bad;
}

/* Outputs of sample k; its files are checked for the overwrite rule first. */
static int output_clip(xctx *x, const xai_speech_study *s, const xai_driver_explanation *e, int64_t k)
{
    opts *o = x->o;
    const char *stem = x->stems[s->file[k]];
    char *npy = xai_app_strdup_printf("%s/%s_relevance.npy", o->output, stem);
    char *png = xai_app_strdup_printf("%s/%s_overlay.png", o->output, stem);
    char *ref = o->stacked ? xai_app_strdup_printf("%s/relevance.npy[%lld]", o->output, (long long)x->nstack) : NULL;
    xai_sidecar *sc = NULL;
    int rc = -1;
    const float *rel = e->rel + (size_t)k * (size_t)e->numel;
    double rsum = 0;
    for (int64_t j = 0; j < e->numel; j++)
        rsum += rel[j];
    if (!npy || !png || (o->stacked && !ref))
        xai_app_fail(&o->app, NULL, "out of memory");
    else if (!x->batch_mode && ((!o->stacked && xai_app_check_output(&o->app, npy) != 0) ||
                                (o->figures && xai_app_check_output(&o->app, png) != 0) ||
                                (o->concepts && check_concepts(o, stem) != 0)))
        ; /* reported; in a batch the status files decide what is redone */
    else if (o->stacked)
        rc = stack_clip(x, s, e, k, png);
    else if (xai_sidecar_new(&sc) != XAI_OK || common_members(x, e, sc) != XAI_OK ||
             clip_members(x, s, e, k, rel, sc) != XAI_OK)
        xai_app_fail(&o->app, npy, "%s", xai_last_error());
    else
        rc = write_clip(x, s, e, k, sc, npy, png);
    if (rc == 0 && !x->batch_mode)
        rc = add_tsv_row(x, s, e, k, o->stacked ? ref : npy, rsum);
    /* recorded now, not at the end of the shard: a task killed mid-way keeps what it did */
    if (rc == 0 && x->batch_mode)
        rc = speech_batch_record(o, &x->batch, x->item_of[s->file[k]], 1);
    if (rc == 0 && x->ok)
        x->ok[s->file[k]] = 1;
    if (rc == 0 && o->sonify)
        rc = sonify(x, s, rel);
    xai_sidecar_free(sc);
    free(npy);
    free(png);
    free(ref);
    return rc;
}

/* ------------------------------------------------------------------ the run */

/* Files [first, first + count): load, explain, write. @return 0, or -1 on a fatal error. */
static int explain_chunk(xctx *x, xai_driver_explain_options *eo, int first, int count)
{
    opts *o = x->o;
    xai_speech_study s = {0};
    xai_driver_explanation e = {0};
    xai_speech_study_options so = {.classes = x->names, .nclasses = x->K, .first = first, .count = count};
    int rc = -1;
    if (xai_speech_study_load(&x->ctx, &o->files, &so, &s) != XAI_OK) {
        xai_app_fail(&o->app, NULL, "%s", xai_last_error());
        goto out;
    }
    x->nbad += s.nfailed;
    if (speech_root_bounds(o, x->pre, &s.d, &x->box, &x->box_cap, eo) != 0)
        goto out;
    if (s.d.n > 0 && xai_driver_explain(x->set, &s.d, eo, &e) != XAI_OK) {
        xai_app_fail(&o->app, o->model, "%s", xai_last_error());
        goto out;
    }
    if (x->ndone == 0 && x->stack_sc && common_members(x, &e, x->stack_sc) != XAI_OK)
        goto out;
    for (int64_t k = 0; k < s.d.n; k++) {
        if (output_clip(x, &s, &e, k) == 0)
            x->ndone++;
        else
            x->nbad++;
    }
    rc = 0;
out:
    xai_driver_explanation_free(&e);
    xai_speech_study_free(&s);
    return rc;
}

static int save_stack(xctx *x)
{
    opts *o = x->o;
    char *path = xai_app_strdup_printf("%s/relevance.npy", o->output);
    char *inpath = xai_app_strdup_printf("%s/input.npy", o->output);
    int64_t shape[3] = {x->nstack, x->pre->rows, x->pre->frames};
    int rc = -1;
    xai_status st = path && inpath ? XAI_OK : XAI_ENOMEM;
    if (st == XAI_OK)
        st = frame_times(x->pre, 0, "WindowFrameCentreS", x->stack_sc);
    if (st == XAI_OK)
        st = xai_sidecar_set_string_array(x->stack_sc, "Axes", (const char *const[]){"clip (order of Clips)",
                                          "frequency row (bottom first)", "time frame"}, 3);
    if (st == XAI_OK)
        st = xai_npy_save(path, 3, shape, x->stack);
    if (st == XAI_OK && x->inputs)
        st = xai_npy_save(inpath, 3, shape, x->inputs);
    if (st != XAI_OK)
        xai_app_fail(&o->app, path, "%s", xai_last_error());
    else
        rc = save_sidecar(x, x->stack_sc, path);
    free(path);
    free(inpath);
    return rc;
}

static xai_status tsv_setup(xai_tsv **t)
{
    static const char *const cols[] = {"file", "prediction", "target", "target_logit", "relevance_sum", "relevance",
                                       "fold"};
    static const xai_tsv_type types[] = {XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_NUMBER,
                                         XAI_TSV_NUMBER, XAI_TSV_STRING, XAI_TSV_NUMBER};
    xai_status st = xai_tsv_create(7, cols, types, t);
    if (st == XAI_OK)
        st = xai_tsv_set_column_info(*t, 4, "sum of the written map (maps are scaled to sum |R| = 1)", NULL);
    if (st == XAI_OK)
        st = xai_tsv_set_column_info(*t, 6, "fold model that explained the clip (n/a: the model for new data)", NULL);
    return st;
}

/* Whether the explanation puts z-box on a layer (the default composite's first convolution, or
   a rule), the only rule that reads a root point; a --root-point given for one that does not is
   said once. 0 or an exit code. */
static int root_applies(opts *o, const xai_driver_set *set, const xai_driver_explain_options *eo)
{
    xai_explain_config c;
    char *rules = NULL;
    const xai_model *m = xai_driver_set_model(set);
    int uses = 0;
    xai_status st = xai_driver_explain_config(m, eo, &c, &rules);
    if (st == XAI_OK)
        st = xai_explain_uses_zbox(m, &c, &uses);
    free(rules);
    if (st != XAI_OK)
        return xai_app_usage_error(&o->app, "%s", xai_last_error());
    o->root_applies = uses;
    if (!uses && o->have_root)
        xai_app_driver_warn(&o->app, "--root-point has no effect: this explanation puts the z-box rule on no layer "
                                     "(the root point is the z-box's lower bound)");
    return 0;
}

int speech_explain_options(opts *o, const xai_driver_set *set, const xai_speech_pre *pre,
                           xai_driver_explain_options *eo)
{
    if (xai_app_driver_explain_setup(&o->app, &o->dopt, xai_driver_set_card(set), eo) != 0)
        return XAI_EXIT_USAGE;
    if (o->composite && xai_composite_check(o->composite) != XAI_OK)
        return xai_app_usage_error(&o->app, "--composite: %s", xai_last_error());
    eo->method = o->method;
    eo->composite = o->composite ? o->composite : SPEECH_DEFAULT_COMPOSITE;
    /* z-box bounds, for a composite that uses them: per element at the band's floor (set with
     * the clips, speech_root_bounds), or the features' range (with --norm clip, silence, -80 dB
     * re the clip's peak, to the peak) */
    eo->have_bounds = o->root_q < 0;
    xai_speech_feature_range(pre, &eo->low, &eo->high);
    return root_applies(o, set, eo);
}

int speech_root_bounds(opts *o, const xai_speech_pre *pre, const xai_dataset *d, float **buf, size_t *cap,
                       xai_driver_explain_options *eo)
{
    eo->box_low = eo->box_high = NULL;
    if (o->root_q < 0 || !o->root_applies || d->n < 1)
        return 0;
    const size_t per = (size_t)pre->rows * (size_t)pre->frames, need = 2 * per * (size_t)d->n;
    if (need > *cap) {
        float *b = realloc(*buf, sizeof(float) * need);
        if (!b)
            return xai_app_fail(&o->app, NULL, "out of memory");
        *buf = b;
        *cap = need;
    }
    if (xai_speech_floor_bounds(pre, o->root_q, d->n, d->x, *buf, *buf + per * (size_t)d->n) != XAI_OK)
        return xai_app_fail(&o->app, NULL, "--root-point: %s", xai_last_error());
    eo->box_low = *buf;
    eo->box_high = *buf + per * (size_t)d->n;
    return 0;
}

const char *speech_root_name(const opts *o, char *buf, size_t cap)
{
    if (!o->root_applies)
        snprintf(buf, cap, "none (no z-box layer)");
    else if (o->root_q < 0)
        snprintf(buf, cap, "silence");
    else
        snprintf(buf, cap, "floor:%g", o->root_q);
    return buf;
}

/* Checks and set-up before the first clip; 0 or an exit code (printed). */
static int explain_setup(xctx *x, xai_driver_explain_options *eo, const char *tsvpath)
{
    opts *o = x->o;
    int rc = speech_explain_options(o, x->set, x->pre, eo);
    if (rc != 0)
        return rc;
    x->K = speech_class_names(x->set, x->names, 256);
    xai_sha256_file(o->model, x->model_sha);
    if (o->labels && xai_speech_files_label(&o->files, o->labels, o->column) < 0)
        return XAI_EXIT_DATA;
    if (!(x->stems = make_stems(&o->files)) || tsv_setup(&x->tsv) != XAI_OK ||
        (o->stacked && xai_sidecar_new(&x->stack_sc) != XAI_OK))
        return xai_app_fail(&o->app, NULL, "out of memory");
    if (xai_app_mkdirs(&o->app, o->output) != 0)
        return XAI_EXIT_DATA;
    char *stk = xai_app_strdup_printf("%s/relevance.npy", o->output);
    int taken = (!x->batch_mode && xai_app_check_output(&o->app, tsvpath) != 0) ||
                (o->stacked && xai_app_check_output(&o->app, stk)) ||
                (o->sonify && xai_app_check_output(&o->app, o->sonify) != 0);
    free(stk);
    if (taken)
        return XAI_EXIT_USAGE;
    if (xai_speech_ctx_init(&x->ctx, x->pre) != XAI_OK)
        return xai_app_fail(&o->app, o->model, "%s", xai_last_error());
    return 0;
}

static void xctx_free(xctx *x)
{
    for (int i = 0; x->stems && i < x->o->files.n; i++)
        free(x->stems[i]);
    free(x->stems);
    xai_tsv_free(x->tsv);
    xai_sidecar_free(x->stack_sc);
    free(x->stack);
    free(x->inputs);
    free(x->box);
    xai_speech_ctx_free(&x->ctx);
    speech_batch_free(&x->batch);
    xai_speech_files_free(&x->all);
    free(x->item_of);
    free(x->ok);
}

/* --shard: o->files := the files of this shard not yet done (their stems follow); the whole
 * list moves to x->all, which the batch items borrow from. 0 or an exit code. */
static int select_shard(xctx *x)
{
    opts *o = x->o;
    const int n = o->files.n;
    xai_speech_files sel = {.note = o->files.note, .note_ud = o->files.note_ud};
    char **stems = calloc((size_t)n + 1, sizeof *stems);
    x->item_of = calloc((size_t)n + 1, sizeof *x->item_of);
    if (!stems || !x->item_of || !(sel.path = calloc((size_t)n + 1, sizeof(char *))) ||
        !(sel.label = calloc((size_t)n + 1, sizeof(char *))) || !(sel.group = calloc((size_t)n + 1, sizeof(char *)))) {
        free(stems);
        xai_speech_files_free(&sel);
        return xai_app_fail(&o->app, NULL, "out of memory");
    }
    sel.cap = n + 1;
    for (int i = 0; i < n; i++)
        if (speech_batch_keep(o, &x->batch, i)) {
            x->item_of[sel.n] = i;
            stems[sel.n] = x->stems[i];
            x->stems[i] = NULL;
            sel.path[sel.n] = strdup(o->files.path[i]);
            sel.label[sel.n] = o->files.label[i] ? strdup(o->files.label[i]) : NULL;
            sel.group[sel.n++] = NULL;
        }
    for (int i = 0; i < n; i++)
        free(x->stems[i]);
    free(x->stems);
    x->stems = stems;
    x->all = o->files;
    o->files = sel;
    x->ok = calloc((size_t)sel.n + 1, 1);
    for (int i = 0; i < sel.n; i++)
        if (!sel.path[i] || (x->all.label[x->item_of[i]] && !sel.label[i]))
            return xai_app_fail(&o->app, NULL, "out of memory");
    return x->ok ? 0 : xai_app_fail(&o->app, NULL, "out of memory");
}

/* The batch form before any clip: Slurm submission (*done set), or this shard's files. */
static int batch_setup(xctx *x, int *done)
{
    opts *o = x->o;
    *done = 0;
    int rc = speech_batch_prepare(o, x->stems, x->model_sha, &x->batch);
    if (rc == 0 && o->slurm) {
        *done = 1;
        return speech_batch_slurm(o, &x->batch);
    }
    if (rc == 0) {
        xai_app_sweep_orphans(&o->app, o->output);
        rc = select_shard(x);
    }
    return rc;
}

/* The failed clips' status (the done ones recorded theirs when written); the shard's exit code. */
static int batch_finish(xctx *x)
{
    const opts *o = x->o;
    const int k = o->shard_k > 0 ? o->shard_k : 1, n = o->shard_n > 0 ? o->shard_n : 1;
    int failed = 0, in_shard = 0;
    for (int i = 0; i < o->files.n; i++)
        if (!x->ok[i]) {
            failed++;
            speech_batch_record(x->o, &x->batch, x->item_of[i], 0);
        }
    for (int i = 0; i < x->all.n; i++)
        in_shard += x->batch.shard[i] == k;
    xai_app_log(&x->o->app, 1, "shard %d/%d: %d clip(s) explained, %d failed, %d already done", k, n,
                o->files.n - failed, failed, in_shard - o->files.n);
    return failed ? XAI_EXIT_PARTIAL : XAI_EXIT_OK;
}

/* One row of predictions.tsv from the sidecar @p j of the map @p npy: the values add_tsv_row
 * puts there when one machine explains the clip. */
static xai_status collect_row(xctx *x, json_t *j, const char *npy)
{
    const json_t *lg = json_object_get(j, "Logits"), *fold = json_object_get(j, "Fold");
    const int t = (int)json_integer_value(json_object_get(j, "Target"));
    const char *src = json_string_value(json_object_get(j, "Source")),
               *pred = json_string_value(json_object_get(j, "PredictionName")),
               *tgt = json_string_value(json_object_get(j, "TargetName"));
    if (!src || !pred || !tgt || !json_is_array(lg) || !json_is_number(json_object_get(j, "RelevanceSum")))
        return xai_error_set(XAI_EFORMAT, "not a sidecar of %s explain", PROG);
    size_t row;
    xai_status st = xai_tsv_add_row(x->tsv, &row);
    if (st == XAI_OK)
        st = xai_tsv_set_string(x->tsv, row, 0, src);
    if (st == XAI_OK)
        st = xai_tsv_set_string(x->tsv, row, 1, pred);
    if (st == XAI_OK)
        st = xai_tsv_set_string(x->tsv, row, 2, tgt);
    if (st == XAI_OK)
        st = xai_tsv_set_number(x->tsv, row, 3, t >= 0 ? json_number_value(json_array_get(lg, (size_t)t)) : NAN);
    if (st == XAI_OK)
        st = xai_tsv_set_number(x->tsv, row, 4, json_number_value(json_object_get(j, "RelevanceSum")));
    if (st == XAI_OK)
        st = xai_tsv_set_string(x->tsv, row, 5, npy);
    if (st == XAI_OK)
        st = json_is_integer(fold) ? xai_tsv_set_number(x->tsv, row, 6, (double)json_integer_value(fold))
                                   : xai_tsv_set_na(x->tsv, row, 6);
    return st;
}

/* --collect (the group step after the shards): predictions.tsv from every clip's sidecar, in
 * input order. 0 or an exit code (printed). */
static int collect(xctx *x, const char *tsvpath)
{
    opts *o = x->o;
    int missing = 0;
    for (int i = 0; i < o->files.n; i++) {
        char *npy = xai_app_strdup_printf("%s/%s_relevance.npy", o->output, x->stems[i]);
        char *js = xai_app_strdup_printf("%s/%s_relevance.json", o->output, x->stems[i]);
        json_t *j = js ? json_load_file(js, 0, NULL) : NULL;
        if (!npy || !js)
            missing = xai_app_fail(&o->app, NULL, "out of memory");
        else if (!j)
            missing = xai_app_fail(&o->app, o->files.path[i], "no map sidecar %s: not explained yet", js);
        else if (collect_row(x, j, npy) != XAI_OK)
            missing = xai_app_fail(&o->app, js, "%s", xai_last_error());
        json_decref(j);
        free(npy);
        free(js);
    }
    if (missing)
        return XAI_EXIT_DATA;
    if (xai_tsv_save(x->tsv, tsvpath, XAI_TSV_SIDECAR) != XAI_OK)
        return xai_app_fail(&o->app, tsvpath, "%s", xai_last_error());
    xai_app_log(&o->app, 1, "collected %d clip(s) into %s", o->files.n, tsvpath);
    return XAI_EXIT_OK;
}

/* The explain command's maps, tables and figures; an exit code. */
static int explain_clips(opts *o)
{
    if (!o->model || !o->output || o->files.n == 0)
        return xai_app_usage_error(&o->app, "explain: need --model, inputs and -o OUTDIR");
    if (o->sonify && o->files.n != 1)
        return xai_app_usage_error(&o->app, "--sonify needs exactly one input clip (got %d)", o->files.n);
    if (o->concepts && (o->stacked || o->shard_n > 0 || o->slurm || o->collect || o->method != XAI_METHOD_LRP))
        return xai_app_usage_error(&o->app, "--concepts belongs to explain with --method lrp, one map per clip "
                                            "(not --stacked or the batch form)");
    xai_driver_set *set = NULL;
    xai_speech_pre pre;
    int rc = speech_load_model(o, &set, &pre);
    if (rc != 0)
        return rc;
    /* --collect overwrites predictions.tsv as a shard overwrites its maps: status decides */
    xai_driver_explain_options eo;
    xctx x = {.o = o, .set = set, .pre = &pre, .eo = &eo, .batch_mode = o->shard_n > 0 || o->slurm || o->collect};
    char *tsvpath = xai_app_strdup_printf("%s/predictions.tsv", o->output);
    int done = 0;
    rc = tsvpath ? explain_setup(&x, &eo, tsvpath) : xai_app_fail(&o->app, NULL, "out of memory");
    if (rc == 0 && o->collect) {
        rc = collect(&x, tsvpath);
        done = 1;
    } else if (rc == 0 && x.batch_mode) {
        rc = batch_setup(&x, &done);
    }
    for (int first = 0; rc == 0 && !done && first < o->files.n; first += CHUNK)
        if (explain_chunk(&x, &eo, first, CHUNK) != 0)
            rc = XAI_EXIT_DATA;
    if (rc == 0 && !done && x.batch_mode) {
        rc = batch_finish(&x);
        done = 1;
    }
    if (rc == 0 && !done && x.ndone > 0 && o->stacked && save_stack(&x) != 0)
        rc = XAI_EXIT_DATA;
    if (rc == 0 && !done && x.ndone > 0 && xai_tsv_save(x.tsv, tsvpath, XAI_TSV_SIDECAR) != XAI_OK)
        rc = xai_app_fail(&o->app, tsvpath, "%s", xai_last_error());
    if (rc == 0 && !done) {
        xai_app_log(&o->app, 1, "explained %d clip(s) into %s%s", x.ndone, o->output, x.nbad ? " (some failed)" : "");
        rc = x.nbad == 0 ? XAI_EXIT_OK : x.ndone > 0 ? XAI_EXIT_PARTIAL : XAI_EXIT_DATA;
    }
    free(tsvpath);
    xctx_free(&x);
    xai_driver_set_free(set);
    return rc;
}

int run_explain(opts *o)
{
    int rc = explain_clips(o);
    /* HTML reports of an explanation (apps/common/report-app.h): one per speaker, one per study */
    if (rc != XAI_EXIT_USAGE && o->output && xai_speech_files_group(&o->files) == XAI_OK) {
        int report_rc = xai_app_report_groups(&o->app, o->output, (const char *const *)o->files.path,
                                              (const char *const *)o->files.group, o->files.n, "speaker", o->model);
        report_rc = report_rc ? report_rc : xai_app_report_study(&o->app, o->output, o->model);
        rc = rc ? rc : report_rc;
    }
    return rc;
}
