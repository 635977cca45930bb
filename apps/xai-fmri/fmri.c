/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri.c - labelling fMRI volumes (BIDS events.tsv: onset, duration, trial_type in seconds,
 * BIDS "Task events"), brain masks, per-run voxel-wise z-scoring and the slice mosaic of
 * xai-fmri. See fmri.h.
 */
#include "fmri.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai/figure.h"
#include "xai/tsv.h"

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static xai_status classes_add(fmri_classes *c, const char *name)
{
    if (!*name)
        return xai_error_set(XAI_EINVAL, "empty class name");
    if (fmri_classes_find(c, name) >= 0)
        return xai_error_set(XAI_EINVAL, "class '%s' given twice", name);
    if (c->n >= FMRI_MAX_CLASSES)
        return xai_error_set(XAI_EINVAL, "more than %d classes", FMRI_MAX_CLASSES);
    if (!(c->name[c->n] = dupstr(name)))
        return xai_error_set(XAI_ENOMEM, "out of memory");
    c->n++;
    return XAI_OK;
}

xai_status fmri_classes_parse(fmri_classes *c, const char *csv)
{
    char *dup = dupstr(csv), *save = NULL;
    if (!dup)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    xai_status st = XAI_OK;
    for (char *t = strtok_r(dup, ",", &save); t && st == XAI_OK; t = strtok_r(NULL, ",", &save))
        st = classes_add(c, t);
    free(dup);
    return st;
}

xai_status fmri_classes_from_json(fmri_classes *c, const char *json)
{
    json_error_t err;
    json_t *a = json_loads(json, 0, &err);
    xai_status st = XAI_OK;
    if (!a || !json_is_array(a)) {
        json_decref(a);
        return xai_error_set(XAI_EFORMAT, "class_names is not a JSON array of strings");
    }
    for (size_t i = 0; i < json_array_size(a) && st == XAI_OK; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        st = s ? classes_add(c, s) : xai_error_set(XAI_EFORMAT, "class_names holds a non-string");
    }
    json_decref(a);
    return st;
}

char *fmri_classes_to_json(const fmri_classes *c)
{
    json_t *a = json_array();
    for (int i = 0; i < c->n; i++)
        json_array_append_new(a, json_string(c->name[i]));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

int fmri_classes_find(const fmri_classes *c, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->name[i], name))
            return i;
    return -1;
}

void fmri_classes_free(fmri_classes *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->name[i]);
    c->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fill an empty class list with the sorted distinct non-n/a values of a string column. */
static xai_status classes_from_column(fmri_classes *cls, const xai_tsv *t, size_t col, int skip_rest)
{
    fmri_classes tmp = {0};
    xai_status st = XAI_OK;
    for (size_t r = 0; r < xai_tsv_nrows(t) && st == XAI_OK; r++) {
        const char *v = xai_tsv_get_string(t, r, col);
        if (!v || (skip_rest && !strcmp(v, "rest")) || fmri_classes_find(&tmp, v) >= 0)
            continue;
        st = classes_add(&tmp, v);
    }
    if (st == XAI_OK) {
        qsort(tmp.name, (size_t)tmp.n, sizeof tmp.name[0], cmp_str);
        *cls = tmp;
    } else {
        fmri_classes_free(&tmp);
    }
    return st;
}

xai_status fmri_label_events(const char *path, int64_t nt, double tr, double lag, fmri_classes *cls,
                             int *labels)
{
    xai_tsv *t = NULL;
    xai_status st = xai_tsv_load(path, 0, &t);
    if (st != XAI_OK)
        return st;
    long con = xai_tsv_find_column(t, "onset"), cdu = xai_tsv_find_column(t, "duration"),
         cty = xai_tsv_find_column(t, "trial_type");
    if (con < 0 || cdu < 0 || cty < 0) {
        xai_tsv_free(t);
        return xai_error_set(XAI_EFORMAT, "%s: events.tsv needs the columns onset, duration and trial_type",
                             path);
    }
    if (cls->n == 0 && (st = classes_from_column(cls, t, (size_t)cty, 0)) != XAI_OK) {
        xai_tsv_free(t);
        return st;
    }
    for (int64_t i = 0; i < nt; i++)
        labels[i] = -1;
    int *conflict = calloc((size_t)nt, sizeof *conflict);
    if (!conflict) {
        xai_tsv_free(t);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    for (size_t r = 0; r < xai_tsv_nrows(t); r++) {
        double on, du;
        const char *ty = xai_tsv_get_string(t, r, (size_t)cty);
        if (xai_tsv_get_number(t, r, (size_t)con, &on) != XAI_OK ||
            xai_tsv_get_number(t, r, (size_t)cdu, &du) != XAI_OK || !isfinite(on)) {
            free(conflict);
            xai_tsv_free(t);
            return xai_error_set(XAI_EFORMAT, "%s: line %zu: onset and duration must be numbers", path,
                                 r + 2);
        }
        int c = ty ? fmri_classes_find(cls, ty) : -1;
        if (c < 0 || !(du > 0))
            continue;
        for (int64_t i = 0; i < nt; i++) {
            double ti = (double)i * tr;
            if (ti >= on + lag && ti < on + du + lag) {
                if (labels[i] >= 0 && labels[i] != c)
                    conflict[i] = 1;
                labels[i] = c;
            }
        }
    }
    for (int64_t i = 0; i < nt; i++)
        if (conflict[i])
            labels[i] = -1;
    free(conflict);
    xai_tsv_free(t);
    return XAI_OK;
}

xai_status fmri_label_table(const char *path, int64_t nt, fmri_classes *cls, int *labels)
{
    xai_tsv *t = NULL;
    xai_status st = xai_tsv_load(path, 0, &t);
    if (st != XAI_OK)
        return st;
    long col = xai_tsv_find_column(t, "trial_type");
    if (col < 0)
        col = xai_tsv_find_column(t, "label");
    if (col < 0)
        col = 0;
    size_t nrows = xai_tsv_nrows(t);
    if ((int64_t)nrows != nt) {
        xai_tsv_free(t);
        return xai_error_set(XAI_EFORMAT, "%s: %zu rows, but the run has %lld volumes (one row per volume)",
                             path, nrows, (long long)nt);
    }
    if (cls->n == 0 && (st = classes_from_column(cls, t, (size_t)col, 1)) != XAI_OK) {
        xai_tsv_free(t);
        return st;
    }
    for (int64_t i = 0; i < nt; i++) {
        const char *v = xai_tsv_get_string(t, (size_t)i, (size_t)col);
        labels[i] = v ? fmri_classes_find(cls, v) : -1;
    }
    xai_tsv_free(t);
    return XAI_OK;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void fmri_mean_volume(const xai_nifti *bold, float *out)
{
    int64_t nv = bold->shape[1] * bold->shape[2] * bold->shape[3], nt = bold->shape[0];
    for (int64_t v = 0; v < nv; v++) {
        double s = 0;
        for (int64_t t = 0; t < nt; t++)
            s += bold->data[t * nv + v];
        out[v] = (float)(s / (double)nt);
    }
}

xai_status fmri_prep_init(fmri_prep *p, const xai_nifti *bold, const char *bold_name,
                          const xai_nifti *mask_img, const char *mask_name, double auto_frac)
{
    memset(p, 0, sizeof *p);
    int64_t nv = bold->shape[1] * bold->shape[2] * bold->shape[3], nt = bold->shape[0];
    if (nt < 2)
        return xai_error_set(XAI_EINVAL, "%s: z-scoring a run needs at least two volumes", bold_name);
    if (mask_img) {
        if (mask_img->shape[1] != bold->shape[1] || mask_img->shape[2] != bold->shape[2] ||
            mask_img->shape[3] != bold->shape[3])
            return xai_error_set(XAI_ESHAPE, "%s: mask grid %lldx%lldx%lld does not match %s (%lldx%lldx%lld)",
                                 mask_name, (long long)mask_img->shape[3], (long long)mask_img->shape[2],
                                 (long long)mask_img->shape[1], bold_name, (long long)bold->shape[3],
                                 (long long)bold->shape[2], (long long)bold->shape[1]);
    }
    p->nv = nv;
    p->mask = calloc((size_t)nv, 1);
    p->mean = calloc((size_t)nv, sizeof(float));
    p->scale = calloc((size_t)nv, sizeof(float));
    float *sorted = mask_img ? NULL : malloc((size_t)nv * sizeof(float));
    if (!p->mask || !p->mean || !p->scale || (!mask_img && !sorted)) {
        free(sorted);
        fmri_prep_free(p);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    fmri_mean_volume(bold, p->mean);
    if (mask_img) {
        for (int64_t v = 0; v < nv; v++)
            p->mask[v] = mask_img->data[v] != 0.0f && !isnan(mask_img->data[v]);
    } else {
        size_t nfin = 0;
        for (int64_t v = 0; v < nv; v++)
            if (isfinite(p->mean[v]))
                sorted[nfin++] = p->mean[v];
        qsort(sorted, nfin, sizeof(float), cmp_float);
        float thr = nfin ? (float)(auto_frac * sorted[(size_t)(0.98 * (double)(nfin - 1))]) : 0.0f;
        for (int64_t v = 0; v < nv; v++)
            p->mask[v] = p->mean[v] > thr;
        free(sorted);
    }
    for (int64_t v = 0; v < nv; v++) {
        if (!isfinite(p->mean[v])) /* NaN or infinite samples: leave the voxel out */
            p->mask[v] = 0;
        if (!p->mask[v])
            continue;
        double s2 = 0;
        for (int64_t t = 0; t < nt; t++) {
            double d = bold->data[t * nv + v] - p->mean[v];
            s2 += d * d;
        }
        double sd = sqrt(s2 / (double)(nt - 1));
        p->scale[v] = sd > 1e-6 * (fabs(p->mean[v]) + 1e-6) ? (float)(1.0 / sd) : 0.0f;
        p->nin++;
    }
    if (p->nin == 0) {
        fmri_prep_free(p);
        return xai_error_set(XAI_EINVAL, "%s: the mask holds no voxel%s", mask_img ? mask_name : bold_name,
                             mask_img ? "" : " (automatic mask)");
    }
    return XAI_OK;
}

void fmri_prep_apply(const fmri_prep *p, const float *vol, float *out)
{
    for (int64_t v = 0; v < p->nv; v++) {
        float z = p->mask[v] ? (vol[v] - p->mean[v]) * p->scale[v] : 0.0f;
        out[v] = isfinite(z) ? z : 0.0f;
    }
}

void fmri_prep_free(fmri_prep *p)
{
    free(p->mask);
    free(p->mean);
    free(p->scale);
    memset(p, 0, sizeof *p);
}

double fmri_robust_max(const float *map, int64_t nv, const uint8_t *mask)
{
    float *a = malloc((size_t)nv * sizeof *a);
    if (!a)
        return 0;
    size_t n = 0;
    for (int64_t v = 0; v < nv; v++)
        if (!mask || mask[v])
            a[n++] = fabsf(map[v]);
    double m = 0;
    if (n) {
        qsort(a, n, sizeof *a, cmp_float);
        m = a[(size_t)(0.995 * (double)(n - 1))];
        if (m <= 0)
            m = a[n - 1];
    }
    free(a);
    return m;
}

xai_status fmri_mosaic_png(const char *path, const xai_nifti_info *grid, const float *background,
                           const float *map, const uint8_t *mask, const char *title)
{
    int nx = (int)grid->dim[1], ny = (int)grid->dim[2], nz = (int)grid->dim[3];
    if (nz < 1)
        nz = 1;
    int step = (nz + 23) / 24, ns = (nz + step - 1) / step;
    int cols = (int)ceil(sqrt((double)ns * ny / nx * 1.3)), rows;
    if (cols < 1)
        cols = 1;
    if (cols > ns)
        cols = ns;
    rows = (ns + cols - 1) / cols;
    int W = cols * nx, H = rows * ny;
    float *bg = malloc((size_t)W * H * sizeof *bg), *mp = malloc((size_t)W * H * sizeof *mp);
    if (!bg || !mp) {
        free(bg);
        free(mp);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    float bmin = background[0];
    int64_t nv = (int64_t)nx * ny * nz;
    for (int64_t v = 1; v < nv; v++)
        if (background[v] < bmin)
            bmin = background[v];
    for (size_t i = 0; i < (size_t)W * H; i++) {
        bg[i] = bmin;
        mp[i] = NAN;
    }
    for (int s = 0; s < ns; s++) {
        int z = s * step, tr = s / cols, tc = s % cols;
        for (int y = 0; y < ny; y++)
            for (int x = 0; x < nx; x++) {
                size_t v = ((size_t)z * ny + y) * nx + x;
                size_t o = (size_t)(tr * ny + (ny - 1 - y)) * W + (size_t)(tc * nx + x);
                bg[o] = background[v];
                mp[o] = (!mask || mask[v]) ? map[v] : NAN;
            }
    }
    xai_overlay_opts o;
    xai_overlay_opts_init(&o);
    o.title = title;
    o.vmax = fmri_robust_max(map, nv, mask);
    o.threshold = 0.1 * o.vmax;
    o.width = 900;
    o.height = (int)(900.0 * H / W) + 60;
    if (o.height < 200)
        o.height = 200;
    if (o.height > 4000)
        o.height = 4000;
    xai_status st = xai_figure_overlay(path, bg, mp, H, W, &o);
    free(bg);
    free(mp);
    return st;
}
