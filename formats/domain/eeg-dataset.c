/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eeg-dataset.c - the EEG domain's "load a study" verb: the epochs of several recordings
 * after one pre-processing record, as an xai_dataset whose groups are what the caller says
 * each file belongs to (subject, session, run ...), with per-file counts of the epochs kept
 * and of those dropped because their window left the recording.
 */
#include "xai/domain-eeg.h"

#include <stdlib.h>
#include <string.h>

/* index of @p name among the dataset's groups, adding it when new; -1 when out of memory */
static int group_index(xai_dataset *d, const char *name)
{
    for (int g = 0; g < d->ngroups; g++)
        if (strcmp(d->group_names[g], name) == 0)
            return g;
    char **v = realloc(d->group_names, (size_t)(d->ngroups + 1) * sizeof *v);
    if (!v)
        return -1;
    d->group_names = v;
    if (!(v[d->ngroups] = strdup(name)))
        return -1;
    return d->ngroups++;
}

/* append the epochs of one file; growing by a positive size only (0 epochs is no change) */
static xai_status append(xai_dataset *d, const xai_eeg_epochs *ep, int group, size_t per)
{
    if (ep->n == 0)
        return XAI_OK;
    float *x = realloc(d->x, (size_t)(d->n + ep->n) * per * sizeof *x);
    if (!x)
        return xai_error_set(XAI_ENOMEM, "out of memory for %lld epochs", (long long)(d->n + ep->n));
    d->x = x;
    int *y = realloc(d->y, (size_t)(d->n + ep->n) * sizeof *y);
    if (!y)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    d->y = y;
    int *gr = realloc(d->group, (size_t)(d->n + ep->n) * sizeof *gr);
    if (!gr)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    d->group = gr;
    memcpy(d->x + (size_t)d->n * per, ep->x, (size_t)ep->n * per * sizeof *x);
    for (int64_t i = 0; i < ep->n; i++) {
        d->y[d->n + i] = ep->y[i];
        d->group[d->n + i] = group;
    }
    d->n += ep->n;
    return XAI_OK;
}

static xai_status set_classes(xai_dataset *d, const xai_eeg_prep *p, const char *group_kind)
{
    d->ndim = 3; /* [1][channels][times]: one input plane, as the model takes it */
    d->shape[0] = 1;
    d->shape[1] = p->nch;
    d->shape[2] = p->ntimes;
    d->nclasses = p->nclass;
    d->class_names = calloc((size_t)p->nclass, sizeof *d->class_names);
    d->group_kind = strdup(group_kind ? group_kind : "recording");
    if (!d->class_names || !d->group_kind)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    for (int c = 0; c < p->nclass; c++)
        if (!(d->class_names[c] = strdup(p->classes[c])))
            return xai_error_set(XAI_ENOMEM, "out of memory");
    return XAI_OK;
}

/* read one file, binding the record (channels, rates, window) on the first */
static xai_status load_one(xai_eeg_prep *p, const char *path, int first, xai_eeg_epochs *ep)
{
    xai_eeg_raw raw;
    xai_status st = xai_eeg_raw_load(path, &raw);
    if (st != XAI_OK)
        return st;
    if (first && p->tmax <= p->tmin)
        st = xai_eeg_prep_window_from_events(p, &raw, path);
    if (st == XAI_OK && first)
        st = xai_eeg_prep_bind(p, &raw, path);
    if (st == XAI_OK)
        st = xai_eeg_epochs_make(p, &raw, path, ep);
    xai_eeg_raw_free(&raw);
    return st;
}

xai_status xai_eeg_load_dataset(xai_eeg_prep *p, int nfiles, const char *const *paths, const char *const *groups,
                                const char *group_kind, int bind, xai_progress_fn progress, void *ud,
                                xai_dataset *out, xai_eeg_file_count *counts)
{
    memset(out, 0, sizeof *out);
    if (nfiles < 1 || !paths || !groups)
        return xai_error_set(XAI_EINVAL, "no recordings to load");
    xai_status st = XAI_OK;
    for (int f = 0; f < nfiles && st == XAI_OK; f++) {
        if (progress)
            progress(ud, "load", f, nfiles, paths[f]);
        xai_eeg_epochs ep = {0}; /* freed below even when loading stopped before it was made */
        st = load_one(p, paths[f], bind && f == 0, &ep);
        if (st == XAI_OK && f == 0)
            st = set_classes(out, p, group_kind);
        int g = st == XAI_OK && ep.n > 0 ? group_index(out, groups[f]) : 0; /* no empty groups */
        if (g < 0)
            st = xai_error_set(XAI_ENOMEM, "out of memory");
        if (st == XAI_OK)
            st = append(out, &ep, g, (size_t)p->nch * (size_t)p->ntimes);
        if (st == XAI_OK && counts) {
            counts[f].kept = ep.n;
            counts[f].dropped = ep.dropped;
        }
        xai_eeg_epochs_free(&ep);
    }
    if (st == XAI_OK && progress)
        progress(ud, "load", nfiles, nfiles, NULL);
    if (st == XAI_OK && !(out->meta = xai_eeg_prep_to_json(p)))
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    if (st != XAI_OK)
        xai_dataset_free(out);
    return st;
}
