/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * dataset.c - helpers of the domain layer's sample set (see xai/domain.h): allocation,
 * concatenation of recordings, and subsets by index or by group for grouped splits.
 */
#include "xai/domain.h"

#include <stdlib.h>
#include <string.h>

int64_t xai_dataset_sample_size(const xai_dataset *d)
{
    if (!d || d->ndim < 1 || d->ndim > XAI_DATASET_MAX_NDIM)
        return 0;
    int64_t s = 1;
    for (int i = 0; i < d->ndim; i++) {
        if (d->shape[i] < 1 || s > INT64_MAX / d->shape[i])
            return 0;
        s *= d->shape[i];
    }
    return s;
}

static void free_names(char **v, int n)
{
    for (int i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void xai_dataset_free(xai_dataset *d)
{
    if (!d)
        return;
    free(d->x);
    free(d->y);
    free(d->group);
    free_names(d->class_names, d->nclasses);
    free_names(d->group_names, d->ngroups);
    free(d->group_kind);
    free(d->meta);
    memset(d, 0, sizeof *d);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Copy of names[0..n) (NULL stays NULL); 0 or -1 on allocation failure. */
static int copy_names(char *const *names, int n, char ***out)
{
    *out = NULL;
    if (!names || n < 1)
        return 0;
    *out = calloc((size_t)n, sizeof **out);
    if (!*out)
        return -1;
    for (int i = 0; i < n; i++)
        if (names[i] && !((*out)[i] = strdup(names[i])))
            return -1;
    return 0;
}

xai_status xai_dataset_alloc(xai_dataset *d, int64_t n, int ndim, const int64_t *shape, int nclasses)
{
    if (!d)
        return xai_error_set(XAI_EINVAL, "dataset: NULL");
    memset(d, 0, sizeof *d);
    if (n < 0 || ndim < 1 || ndim > XAI_DATASET_MAX_NDIM || !shape || nclasses < 0)
        return xai_error_set(XAI_EINVAL, "dataset: bad size (n %lld, %d dimensions, %d classes)",
                             (long long)n, ndim, nclasses);
    d->ndim = ndim;
    memcpy(d->shape, shape, sizeof *shape * (size_t)ndim);
    int64_t s = xai_dataset_sample_size(d);
    if (s == 0 || (n > 0 && (uint64_t)s > SIZE_MAX / sizeof(float) / (uint64_t)n)) {
        memset(d, 0, sizeof *d);
        return xai_error_set(XAI_EINVAL, "dataset: bad or too large sample shape");
    }
    d->n = n;
    d->nclasses = nclasses;
    size_t m = n > 0 ? (size_t)n : 1;
    d->x = calloc(m * (size_t)s, sizeof *d->x);
    d->y = malloc(m * sizeof *d->y);
    d->group = calloc(m, sizeof *d->group);
    if (!d->x || !d->y || !d->group) {
        xai_dataset_free(d);
        return xai_error_set(XAI_ENOMEM, "dataset: out of memory for %lld samples", (long long)n);
    }
    for (int64_t i = 0; i < n; i++)
        d->y[i] = -1;
    return XAI_OK;
}

/* out gets the classes, groups and labels of d (shape already set by the caller). */
static xai_status copy_header(const xai_dataset *d, xai_dataset *out)
{
    out->ngroups = d->ngroups;
    if (copy_names(d->class_names, d->nclasses, &out->class_names) ||
        copy_names(d->group_names, d->ngroups, &out->group_names) ||
        (d->group_kind && !(out->group_kind = dup_or_null(d->group_kind))) ||
        (d->meta && !(out->meta = dup_or_null(d->meta)))) {
        xai_dataset_free(out);
        return xai_error_set(XAI_ENOMEM, "dataset: out of memory");
    }
    return XAI_OK;
}

xai_status xai_dataset_subset(const xai_dataset *d, const int64_t *idx, int64_t k, xai_dataset *out)
{
    if (!d || !out || (k > 0 && !idx) || k < 0)
        return xai_error_set(XAI_EINVAL, "dataset subset: bad arguments");
    for (int64_t i = 0; i < k; i++)
        if (idx[i] < 0 || idx[i] >= d->n)
            return xai_error_set(XAI_EINVAL, "dataset subset: index %lld is outside 0..%lld",
                                 (long long)idx[i], (long long)d->n - 1);
    xai_status st = xai_dataset_alloc(out, k, d->ndim, d->shape, d->nclasses);
    if (st != XAI_OK || (st = copy_header(d, out)) != XAI_OK)
        return st;
    size_t s = (size_t)xai_dataset_sample_size(d);
    for (int64_t i = 0; i < k; i++) {
        memcpy(out->x + (size_t)i * s, d->x + (size_t)idx[i] * s, s * sizeof *d->x);
        out->y[i] = d->y ? d->y[idx[i]] : -1;
        out->group[i] = d->group ? d->group[idx[i]] : 0;
    }
    return XAI_OK;
}

xai_status xai_dataset_split_groups(const xai_dataset *d, const unsigned char *group_mask, int keep,
                                    xai_dataset *out)
{
    if (!d || !group_mask || !out || !d->group || d->ngroups < 1)
        return xai_error_set(XAI_EINVAL, "dataset split: no groups to split by");
    int64_t *idx = malloc((d->n > 0 ? (size_t)d->n : 1) * sizeof *idx), k = 0;
    if (!idx)
        return xai_error_set(XAI_ENOMEM, "dataset split: out of memory");
    for (int64_t i = 0; i < d->n; i++) {
        int g = d->group[i];
        if (g < 0 || g >= d->ngroups) {
            free(idx);
            return xai_error_set(XAI_EINVAL, "dataset split: sample %lld has group %d of %d",
                                 (long long)i, g, d->ngroups);
        }
        if ((group_mask[g] != 0) == (keep != 0))
            idx[k++] = i;
    }
    xai_status st = xai_dataset_subset(d, idx, k, out);
    free(idx);
    return st;
}

/* Index of name in v[0..n), else -1. */
static int name_index(char *const *v, int n, const char *name)
{
    for (int i = 0; v && name && i < n; i++)
        if (v[i] && strcmp(v[i], name) == 0)
            return i;
    return -1;
}

/* Map of b's classes onto a's (by name when both are named); -1 when they disagree. */
static int class_map(const xai_dataset *a, const xai_dataset *b, int *map)
{
    if (!a->class_names || !b->class_names) {
        if (a->nclasses != b->nclasses)
            return -1;
        for (int k = 0; k < b->nclasses; k++)
            map[k] = k;
        return 0;
    }
    if (a->nclasses != b->nclasses)
        return -1;
    for (int k = 0; k < b->nclasses; k++)
        if ((map[k] = name_index(a->class_names, a->nclasses, b->class_names[k])) < 0)
            return -1;
    return 0;
}

/* Append b's groups to out (which holds a's): named ones merge by name. */
static int merge_groups(xai_dataset *out, const xai_dataset *b, int *gmap)
{
    int na = out->ngroups, named = b->group_names != NULL || out->group_names != NULL;
    char **v = named ? realloc(out->group_names, sizeof *v * (size_t)(na + b->ngroups + 1)) : NULL;
    if (named && !v)
        return -1;
    if (named && !out->group_names)
        memset(v, 0, sizeof *v * (size_t)na);
    if (named)
        out->group_names = v;
    for (int g = 0; g < b->ngroups; g++) {
        const char *nm = b->group_names ? b->group_names[g] : NULL;
        int k = name_index(out->group_names, out->ngroups, nm);
        if (k < 0) {
            k = out->ngroups++;
            if (named && !(out->group_names[k] = dup_or_null(nm)) && nm)
                return -1;
        }
        gmap[g] = k;
    }
    return 0;
}

xai_status xai_dataset_concat(const xai_dataset *a, const xai_dataset *b, xai_dataset *out)
{
    if (!a || !b || !out)
        return xai_error_set(XAI_EINVAL, "dataset concat: NULL argument");
    if (a->ndim != b->ndim || memcmp(a->shape, b->shape, sizeof *a->shape * (size_t)a->ndim) != 0)
        return xai_error_set(XAI_EINVAL, "dataset concat: the sample shapes differ");
    int *cmap = malloc(sizeof *cmap * (size_t)(b->nclasses + 1));
    int *gmap = malloc(sizeof *gmap * (size_t)(b->ngroups + 1));
    xai_status st = XAI_ENOMEM;
    if (!cmap || !gmap)
        goto fail_nomem;
    if (class_map(a, b, cmap) != 0) {
        st = xai_error_set(XAI_EINVAL, "dataset concat: the class lists differ");
        goto out;
    }
    for (int64_t i = 0; b->group && i < b->n; i++)
        if (b->group[i] < 0 || (b->ngroups > 0 && b->group[i] >= b->ngroups)) {
            st = xai_error_set(XAI_EINVAL, "dataset concat: sample %lld has group %d of %d",
                               (long long)i, b->group[i], b->ngroups);
            goto out;
        }
    int64_t *idx = malloc(sizeof *idx * (size_t)(a->n + 1));
    if (!idx)
        goto fail_nomem;
    for (int64_t i = 0; i < a->n; i++)
        idx[i] = i;
    st = xai_dataset_subset(a, idx, a->n, out);
    free(idx);
    if (st != XAI_OK)
        goto out;
    if (merge_groups(out, b, gmap) != 0)
        goto fail_nomem_out;
    size_t s = (size_t)xai_dataset_sample_size(a), n = (size_t)(a->n + b->n);
    float *x = realloc(out->x, (n ? n : 1) * s * sizeof *x);
    if (x)
        out->x = x;
    int *y = x ? realloc(out->y, (n ? n : 1) * sizeof *y) : NULL;
    if (y)
        out->y = y;
    int *g = y ? realloc(out->group, (n ? n : 1) * sizeof *g) : NULL;
    if (!g)
        goto fail_nomem_out;
    out->group = g;
    memcpy(out->x + (size_t)a->n * s, b->x, (size_t)b->n * s * sizeof *x);
    for (int64_t i = 0; i < b->n; i++) {
        int yb = b->y ? b->y[i] : -1;
        out->y[a->n + i] = yb >= 0 && yb < b->nclasses ? cmap[yb] : -1;
        out->group[a->n + i] = b->group && b->ngroups > 0 ? gmap[b->group[i]] : 0;
    }
    out->n = (int64_t)n;
    st = XAI_OK;
    goto out;
fail_nomem_out:
    xai_dataset_free(out);
fail_nomem:
    st = xai_error_set(XAI_ENOMEM, "dataset concat: out of memory");
out:
    free(cmap);
    free(gmap);
    return st;
}
