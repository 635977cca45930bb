/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * speech-dataset.c - a study of audio clips as the driver takes it: {x, y, groups} with the
 * speaker (or the clip) as the group, plus where each clip came from, so that maps can be
 * written back on the file's time axis.
 */
#include <stdlib.h>
#include <string.h>

#include "xai/domain-speech.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Index of @p s in @p names[0..n), or -1. */
static int find(const char *s, char *const *names, int n)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* Names[0..*n) := the sorted distinct non-NULL strings of @p v (borrowed) duplicated. */
static xai_status distinct(char *const *v, int nv, char ***names, int *n)
{
    char **tmp = malloc(sizeof(char *) * (size_t)(nv ? nv : 1)), **out = NULL;
    int k = 0, m = 0;
    if (!tmp)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    for (int i = 0; i < nv; i++)
        if (v[i])
            tmp[k++] = v[i];
    qsort(tmp, (size_t)k, sizeof *tmp, cmp_str);
    out = calloc((size_t)(k ? k : 1), sizeof *out);
    for (int i = 0; out && i < k; i++)
        if (m == 0 || strcmp(out[m - 1], tmp[i]) != 0)
            if (!(out[m++] = strdup(tmp[i])))
                break;
    free(tmp);
    if (!out || (m && !out[m - 1])) {
        for (int i = 0; out && i < m; i++)
            free(out[i]);
        free(out);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    *names = out;
    *n = m;
    return XAI_OK;
}

static char **copy_names(const char *const *src, int n)
{
    char **out = calloc((size_t)(n ? n : 1), sizeof *out);
    for (int i = 0; out && i < n; i++)
        if (!(out[i] = strdup(src[i] ? src[i] : ""))) {
            for (int j = 0; j < i; j++)
                free(out[j]);
            free(out);
            return NULL;
        }
    return out;
}

/* Classes and groups of the dataset, before any clip is read. */
static xai_status names_setup(const xai_speech_files *f, int first, int count,
                              const xai_speech_study_options *o, xai_dataset *d)
{
    xai_status st = XAI_OK;
    if (o && o->classes) {
        d->nclasses = o->nclasses;
        d->class_names = copy_names(o->classes, o->nclasses);
        if (!d->class_names)
            return xai_error_set(XAI_ENOMEM, "out of memory");
    } else if (f->label) {
        st = distinct(f->label + first, count, &d->class_names, &d->nclasses);
    }
    const int by_clip = o && o->group_kind && strcmp(o->group_kind, "clip") == 0;
    d->group_kind = strdup(by_clip ? "clip" : "speaker");
    if (st == XAI_OK && !d->group_kind)
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    if (st == XAI_OK && by_clip) {
        d->group_names = copy_names((const char *const *)f->path + first, count);
        d->ngroups = count;
        if (!d->group_names)
            st = xai_error_set(XAI_ENOMEM, "out of memory");
    } else if (st == XAI_OK) {
        st = distinct(f->group + first, count, &d->group_names, &d->ngroups);
    }
    return st;
}

static xai_status arrays_alloc(const xai_speech_pre *p, int count, xai_speech_study *s)
{
    const int64_t shape[3] = {1, p->rows, p->frames};
    xai_status st = xai_dataset_alloc(&s->d, count, 3, shape, 0);
    if (st != XAI_OK)
        return st;
    s->file = malloc(sizeof(int) * (size_t)(count ? count : 1));
    s->start = malloc(sizeof(int64_t) * (size_t)(count ? count : 1));
    s->len = malloc(sizeof(int64_t) * (size_t)(count ? count : 1));
    if (!s->file || !s->start || !s->len)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    return XAI_OK;
}

/* Read clip @p i of @p f into sample s->d.n; a file that cannot be read is noted and skipped. */
static xai_status read_clip(const xai_speech_ctx *c, const xai_speech_files *f, int i, int first,
                            float *sig, xai_speech_study *s)
{
    xai_dataset *d = &s->d;
    const int64_t per = xai_dataset_sample_size(d);
    const int64_t k = d->n;
    xai_status st = xai_speech_load(c, f->path[i], sig, &s->start[k], &s->len[k], NULL, NULL);
    if (st == XAI_OK)
        st = xai_speech_features(c, sig, d->x + (size_t)k * (size_t)per);
    if (st == XAI_ENOMEM)
        return st;
    if (st != XAI_OK) {
        if (f->note)
            f->note(f->note_ud, f->path[i], xai_last_error());
        s->nfailed++;
        return XAI_OK;
    }
    const char *lab = f->label ? f->label[i] : NULL;
    d->y[k] = find(lab, d->class_names, d->nclasses);
    if (lab && d->y[k] < 0) {
        if (f->note)
            f->note(f->note_ud, f->path[i], "its label is not a class of the model");
        s->nunknown++;
    }
    d->group[k] = strcmp(d->group_kind, "clip") == 0 ? i - first : find(f->group[i], d->group_names, d->ngroups);
    s->file[k] = i;
    d->n++;
    return XAI_OK;
}

xai_status xai_speech_study_load(const xai_speech_ctx *c, xai_speech_files *f, const xai_speech_study_options *o,
                                 xai_speech_study *s)
{
    memset(s, 0, sizeof *s);
    int first = o && o->first > 0 ? o->first : 0;
    if (first > f->n)
        first = f->n;
    int count = o && o->count > 0 && o->count < f->n - first ? o->count : f->n - first;
    xai_status st = xai_speech_files_group(f);
    float *sig = NULL;
    if (st == XAI_OK)
        st = arrays_alloc(&c->pre, count, s);
    if (st == XAI_OK)
        st = names_setup(f, first, count, o, &s->d);
    if (st == XAI_OK && !(sig = malloc(sizeof(float) * (size_t)c->pre.spec.fixed_length)))
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    s->d.n = 0; /* counts the clips read */
    for (int i = first; st == XAI_OK && i < first + count; i++) {
        st = read_clip(c, f, i, first, sig, s);
        if (o && o->progress)
            o->progress(o->progress_ud, "features", i - first + 1, count, f->path[i]);
    }
    free(sig);
    if (st != XAI_OK)
        xai_speech_study_free(s);
    return st;
}

void xai_speech_study_free(xai_speech_study *s)
{
    xai_dataset_free(&s->d);
    free(s->file);
    free(s->start);
    free(s->len);
    memset(s, 0, sizeof *s);
}
