/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri.c - labelling fMRI volumes (BIDS events.tsv: onset, duration, trial_type in seconds,
 * BIDS "Task events"), brain masks, per-run voxel-wise z-scoring and the slice mosaic of
 * xai-fmri. See xai/domain-fmri.h.
 */
#include "xai/domain-fmri.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fmri-int.h"
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

static xai_status classes_add(xai_fmri_classes *c, const char *name)
{
    if (!*name)
        return xai_error_set(XAI_EINVAL, "empty class name");
    if (xai_fmri_classes_find(c, name) >= 0)
        return xai_error_set(XAI_EINVAL, "class '%s' given twice", name);
    if (c->n >= XAI_FMRI_MAX_CLASSES)
        return xai_error_set(XAI_EINVAL, "more than %d classes", XAI_FMRI_MAX_CLASSES);
    if (!(c->name[c->n] = dupstr(name)))
        return xai_error_set(XAI_ENOMEM, "out of memory");
    c->n++;
    return XAI_OK;
}

xai_status xai_fmri_classes_parse(xai_fmri_classes *c, const char *csv)
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

xai_status xai_fmri_classes_from_json(xai_fmri_classes *c, const char *json)
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

char *xai_fmri_classes_to_json(const xai_fmri_classes *c)
{
    json_t *a = json_array();
    for (int i = 0; i < c->n; i++)
        json_array_append_new(a, json_string(c->name[i]));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

int xai_fmri_classes_find(const xai_fmri_classes *c, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->name[i], name))
            return i;
    return -1;
}

void xai_fmri_classes_free(xai_fmri_classes *c)
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
static xai_status classes_from_column(xai_fmri_classes *cls, const xai_tsv *t, size_t col, int skip_rest)
{
    xai_fmri_classes tmp = {0};
    xai_status st = XAI_OK;
    for (size_t r = 0; r < xai_tsv_nrows(t) && st == XAI_OK; r++) {
        const char *v = xai_tsv_get_string(t, r, col);
        if (!v || (skip_rest && !strcmp(v, "rest")) || xai_fmri_classes_find(&tmp, v) >= 0)
            continue;
        st = classes_add(&tmp, v);
    }
    if (st == XAI_OK) {
        qsort(tmp.name, (size_t)tmp.n, sizeof tmp.name[0], cmp_str);
        *cls = tmp;
    } else {
        xai_fmri_classes_free(&tmp);
    }
    return st;
}

/* SPM's canonical HRF, gamma(6,1) - gamma(16,1)/6 density in seconds (Friston et al. 1998). */
static double spm_hrf(double t)
{
    if (t <= 0)
        return 0;
    return exp(5.0 * log(t) - t - lgamma(6.0)) - exp(15.0 * log(t) - t - lgamma(16.0)) / 6.0;
}

#define HRF_DT 0.01
#define HRF_N 3200 /* 32 s of HRF */

/* Boxcar of K steps convolved with the HRF at step m, from the cumulative HRF table H. */
static double block_response(const double *H, int64_t K, int64_t m)
{
    double hi = m < 0 ? 0 : H[m < HRF_N ? m : HRF_N - 1];
    int64_t j = m - K;
    double lo = j < 0 ? 0 : H[j < HRF_N ? j : HRF_N - 1];
    return hi - lo;
}

static void mark(int *labels, unsigned char *conflict, int64_t i, int c)
{
    if (labels[i] >= 0 && labels[i] != c)
        conflict[i] = 1;
    labels[i] = c;
}

/* Volumes whose mid-time response to the block exceeds half the block's peak. */
static void label_hrf(const double *H, double on, double du, int c, int64_t nt, double tr, int *labels,
                      unsigned char *conflict)
{
    int64_t K = (int64_t)llround(du / HRF_DT);
    if (K < 1)
        K = 1;
    double peak = 0;
    for (int64_t m = 0; m < K + HRF_N; m++) {
        double r = block_response(H, K, m);
        peak = r > peak ? r : peak;
    }
    for (int64_t i = 0; i < nt && peak > 0; i++) {
        double t = (double)i * tr + tr / 2 - on;
        if (t >= 0 && block_response(H, K, (int64_t)floor(t / HRF_DT)) > 0.5 * peak)
            mark(labels, conflict, i, c);
    }
}

double *fmri_hrf_cumulative(void)
{
    double *H = malloc(HRF_N * sizeof *H);
    for (int i = 0; H && i < HRF_N; i++)
        H[i] = (i ? H[i - 1] : 0) + spm_hrf((i + 0.5) * HRF_DT) * HRF_DT;
    return H;
}

void fmri_hrf_regressor(const double *H, double on, double du, int64_t nt, double tr, double *x)
{
    int64_t K = (int64_t)llround(du / HRF_DT);
    K = K < 1 ? 1 : K;
    for (int64_t i = 0; i < nt; i++) {
        double t = (double)i * tr + tr / 2 - on;
        x[i] = t >= 0 ? block_response(H, K, (int64_t)floor(t / HRF_DT)) : 0.0;
    }
}

xai_status xai_fmri_label_blocks(const double *onset, const double *duration, const int *cls, int nev,
                                 int64_t nt, double tr, double lag, int *labels)
{
    int hrf = lag == XAI_FMRI_LAG_HRF;
    if (!(tr > 0) || (!hrf && !(lag >= 0)))
        return xai_error_set(XAI_EINVAL, "labelling volumes needs a repetition time > 0 and a lag >= 0 (%g, %g)",
                             tr, lag);
    unsigned char *conflict = calloc((size_t)nt + 1, 1);
    double *H = hrf ? fmri_hrf_cumulative() : NULL;
    if (!conflict || (hrf && !H)) {
        free(conflict);
        free(H);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    for (int64_t i = 0; i < nt; i++)
        labels[i] = -1;
    for (int e = 0; e < nev; e++) {
        double on = onset[e], du = duration[e];
        if (cls[e] < 0 || !isfinite(on) || !(du >= 0))
            continue;
        if (hrf) {
            label_hrf(H, on, du, cls[e], nt, tr, labels, conflict);
            continue;
        }
        for (int64_t i = 0; i < nt; i++) {
            double ti = (double)i * tr;
            if (ti >= on + lag && ti < on + du + lag)
                mark(labels, conflict, i, cls[e]);
        }
    }
    for (int64_t i = 0; i < nt; i++)
        if (conflict[i])
            labels[i] = -1;
    free(conflict);
    free(H);
    return XAI_OK;
}

/* "type (N events), ..." of the event types that are no class; NULL when there are none. */
static char *unused_types(const xai_tsv *t, size_t cty, const xai_fmri_classes *cls)
{
    xai_fmri_classes seen = {0};
    int count[XAI_FMRI_MAX_CLASSES] = {0};
    for (size_t r = 0; r < xai_tsv_nrows(t); r++) {
        const char *ty = xai_tsv_get_string(t, r, cty);
        if (!ty || xai_fmri_classes_find(cls, ty) >= 0)
            continue;
        int k = xai_fmri_classes_find(&seen, ty);
        if (k < 0 && seen.n < XAI_FMRI_MAX_CLASSES && classes_add(&seen, ty) == XAI_OK)
            k = seen.n - 1;
        if (k >= 0)
            count[k]++;
    }
    if (!seen.n)
        return NULL;
    size_t cap = 64;
    for (int k = 0; k < seen.n; k++)
        cap += strlen(seen.name[k]) + 32;
    char *s = malloc(cap);
    size_t len = 0;
    for (int k = 0; s && k < seen.n; k++)
        len += (size_t)snprintf(s + len, cap - len, "%s%s (%d event%s)", k ? ", " : "", seen.name[k], count[k],
                                count[k] == 1 ? "" : "s");
    xai_fmri_classes_free(&seen);
    return s;
}

void fmri_events_free(fmri_events *e)
{
    free(e->onset);
    free(e->duration);
    free(e->cls);
    memset(e, 0, sizeof *e);
}

xai_status fmri_events_read(const char *path, xai_fmri_classes *cls, fmri_events *ev, char **unused)
{
    memset(ev, 0, sizeof *ev);
    if (unused)
        *unused = NULL;
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
    size_t n = xai_tsv_nrows(t);
    ev->n = (int)n;
    ev->onset = malloc((n + 1) * sizeof *ev->onset);
    ev->duration = malloc((n + 1) * sizeof *ev->duration);
    ev->cls = malloc((n + 1) * sizeof *ev->cls);
    if (!ev->onset || !ev->duration || !ev->cls)
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    for (size_t r = 0; r < n && st == XAI_OK; r++) {
        const char *ty = xai_tsv_get_string(t, r, (size_t)cty);
        if (xai_tsv_get_number(t, r, (size_t)con, &ev->onset[r]) != XAI_OK ||
            xai_tsv_get_number(t, r, (size_t)cdu, &ev->duration[r]) != XAI_OK || !isfinite(ev->onset[r]))
            st = xai_error_set(XAI_EFORMAT, "%s: line %zu: onset and duration must be numbers", path, r + 2);
        else
            ev->cls[r] = ty && ev->duration[r] >= 0 ? xai_fmri_classes_find(cls, ty) : -1;
    }
    if (st == XAI_OK && unused)
        *unused = unused_types(t, (size_t)cty, cls);
    xai_tsv_free(t);
    if (st != XAI_OK)
        fmri_events_free(ev);
    return st;
}

xai_status xai_fmri_label_events(const char *path, int64_t nt, double tr, double lag, xai_fmri_classes *cls,
                                 int *labels, char **unused)
{
    fmri_events ev;
    xai_status st = fmri_events_read(path, cls, &ev, unused);
    if (st != XAI_OK)
        return st;
    for (int r = 0; r < ev.n; r++) /* an event of no duration labels no volume */
        if (!(ev.duration[r] > 0))
            ev.cls[r] = -1;
    if ((st = xai_fmri_label_blocks(ev.onset, ev.duration, ev.cls, ev.n, nt, tr, lag, labels)) != XAI_OK)
        st = xai_error_set(st, "%s: %s", path, xai_last_error());
    fmri_events_free(&ev);
    if (st != XAI_OK && unused) {
        free(*unused);
        *unused = NULL;
    }
    return st;
}

/* A label table read into memory: one label and one run name per row. */
typedef struct {
    int64_t n;
    char **label, **chunk; /* n strings each; chunk entries NULL without a run column */
} label_rows;

static void rows_free(label_rows *r)
{
    for (int64_t i = 0; i < r->n; i++) {
        free(r->label[i]);
        free(r->chunk[i]);
    }
    free(r->label);
    free(r->chunk);
    memset(r, 0, sizeof *r);
}

static int name_in(const char *tok, const char *const *names)
{
    for (; *names; names++)
        if (!strcasecmp(tok, *names))
            return 1;
    return 0;
}

static const char *const label_names[] = {"trial_type", "label", "labels", "targets", NULL};
static const char *const chunk_names[] = {"chunk", "chunks", "run", NULL};

/* Split a line on tabs and spaces in place; returns the number of tokens (at most cap). */
static int split_ws(char *line, char **tok, int cap)
{
    int n = 0;
    for (char *save = NULL, *t = strtok_r(line, " \t\r\n", &save); t && n < cap; t = strtok_r(NULL, " \t\r\n", &save))
        tok[n++] = t;
    return n;
}

static xai_status rows_push(label_rows *r, int64_t *cap, const char *lab, const char *chunk)
{
    if (r->n == *cap) {
        int64_t nc = *cap ? 2 * *cap : 256;
        char **a = realloc(r->label, (size_t)nc * sizeof *a);
        if (a)
            r->label = a;
        char **b = a ? realloc(r->chunk, (size_t)nc * sizeof *b) : NULL;
        if (!b)
            return xai_error_set(XAI_ENOMEM, "out of memory");
        r->chunk = b;
        *cap = nc;
    }
    r->label[r->n] = dupstr(lab);
    r->chunk[r->n] = chunk ? dupstr(chunk) : NULL;
    r->n++;
    return r->label[r->n - 1] && (!chunk || r->chunk[r->n - 1]) ? XAI_OK : xai_error_set(XAI_ENOMEM, "out of memory");
}

static xai_status read_label_rows(const char *path, label_rows *r)
{
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "r");
    if (!f)
        return xai_error_set(XAI_EIO, "%s: cannot open the label table", path);
    char *line = NULL, *tok[64];
    size_t lcap = 0;
    int64_t cap = 0, lineno = 0;
    int lcol = 0, ccol = -1, first = 1;
    xai_status st = XAI_OK;
    while (st == XAI_OK && getline(&line, &lcap, f) >= 0) {
        lineno++;
        int nt = split_ws(line, tok, 64);
        if (nt == 0)
            continue;
        if (first) {
            first = 0;
            int hdr = 0;
            for (int k = 0; k < nt; k++) {
                if (name_in(tok[k], label_names) && (hdr |= 1))
                    lcol = k;
                else if (name_in(tok[k], chunk_names) && (hdr |= 2))
                    ccol = k;
            }
            if (hdr) {
                if (!(hdr & 1))
                    st = xai_error_set(XAI_EFORMAT, "%s: line 1: the header has no label column (trial_type, label, "
                                                    "labels or targets)", path);
                continue;
            }
            ccol = nt > 1 ? 1 : -1;
        }
        int need = (lcol > ccol ? lcol : ccol) + 1;
        if (nt < need)
            st = xai_error_set(XAI_EFORMAT, "%s: line %lld: %d column%s, expected %d (label%s)", path,
                               (long long)lineno, nt, nt == 1 ? "" : "s", need, ccol >= 0 ? " and run" : "");
        else
            st = rows_push(r, &cap, tok[lcol], ccol >= 0 ? tok[ccol] : NULL);
    }
    free(line);
    fclose(f);
    if (st != XAI_OK)
        rows_free(r);
    return st;
}

/* Run index of every row (contiguous runs, numbered in order); -1 on a run that comes back. */
static int chunk_index(const label_rows *r, const char *path, int *chunks, int *nchunks)
{
    int k = 0;
    for (int64_t i = 0; i < r->n; i++) {
        if (i && r->chunk[i] && strcmp(r->chunk[i], r->chunk[i - 1])) {
            for (int64_t j = 0; j < i; j++)
                if (!strcmp(r->chunk[j], r->chunk[i])) {
                    xai_error_set(XAI_EFORMAT, "%s: line of volume %lld: run '%s' comes back after run '%s'; the "
                                               "volumes of a run must be contiguous", path, (long long)i,
                                  r->chunk[i], r->chunk[i - 1]);
                    return -1;
                }
            k++;
        }
        chunks[i] = k;
    }
    *nchunks = k + 1;
    return 0;
}

/* Blocks (runs of one class) of the volumes [a, b) labelled into labels[a..b). */
static xai_status label_chunk(const int *cls_of, int64_t a, int64_t b, double tr, double lag, int *labels)
{
    int64_t n = b - a, nb = 0;
    double *on = malloc((size_t)n * sizeof *on), *du = malloc((size_t)n * sizeof *du);
    int *c = malloc((size_t)n * sizeof *c);
    xai_status st = on && du && c ? XAI_OK : xai_error_set(XAI_ENOMEM, "out of memory");
    for (int64_t i = a; st == XAI_OK && i < b; i++) {
        if (cls_of[i] < 0 || (i > a && cls_of[i] == cls_of[i - 1]))
            continue;
        int64_t j = i;
        while (j < b && cls_of[j] == cls_of[i])
            j++;
        on[nb] = (double)(i - a) * tr;
        du[nb] = (double)(j - i) * tr;
        c[nb++] = cls_of[i];
    }
    if (st == XAI_OK)
        st = xai_fmri_label_blocks(on, du, c, (int)nb, n, tr, lag, labels + a);
    free(on);
    free(du);
    free(c);
    return st;
}

xai_status xai_fmri_label_table(const char *path, int64_t nt, double tr, double lag, xai_fmri_classes *cls,
                                int *labels, int *chunks, int *nchunks)
{
    label_rows r;
    xai_status st = read_label_rows(path, &r);
    if (st != XAI_OK)
        return st;
    int *cls_of = malloc((size_t)(r.n + 1) * sizeof *cls_of), *ch = malloc((size_t)(r.n + 1) * sizeof *ch), nch = 1;
    if (!cls_of || !ch)
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    else if (r.n != nt)
        st = xai_error_set(XAI_EFORMAT, "%s: %lld rows, but the run has %lld volumes (one row per volume; a "
                                        "header line is recognised by its column names)",
                           path, (long long)r.n, (long long)nt);
    xai_fmri_classes found = {0};
    for (int64_t i = 0; st == XAI_OK && cls->n == 0 && i < r.n; i++)
        if (strcmp(r.label[i], "rest") && strcmp(r.label[i], "n/a") && xai_fmri_classes_find(&found, r.label[i]) < 0 &&
            (st = classes_add(&found, r.label[i])) != XAI_OK)
            st = xai_error_set(st, "%s: %s (is this a label table?)", path, xai_last_error());
    if (st == XAI_OK && cls->n == 0) {
        qsort(found.name, (size_t)found.n, sizeof found.name[0], cmp_str);
        *cls = found;
        memset(&found, 0, sizeof found);
    }
    xai_fmri_classes_free(&found);
    for (int64_t i = 0; st == XAI_OK && i < r.n; i++) {
        cls_of[i] = strcmp(r.label[i], "rest") ? xai_fmri_classes_find(cls, r.label[i]) : -1;
        ch[i] = 0;
    }
    if (st == XAI_OK && r.n && r.chunk[0] && chunk_index(&r, path, ch, &nch))
        st = XAI_EFORMAT;
    if (st == XAI_OK && lag == 0 && !(tr > 0))
        tr = 1; /* the table as it is: the time unit does not matter */
    for (int64_t a = 0; st == XAI_OK && a < r.n;) {
        int64_t b = a;
        while (b < r.n && ch[b] == ch[a])
            b++;
        if ((st = label_chunk(cls_of, a, b, tr, lag, labels)) != XAI_OK)
            st = xai_error_set(st, "%s: %s", path, xai_last_error());
        a = b;
    }
    if (st == XAI_OK && chunks)
        memcpy(chunks, ch, (size_t)r.n * sizeof *ch);
    if (st == XAI_OK && nchunks)
        *nchunks = nch;
    free(cls_of);
    free(ch);
    rows_free(&r);
    return st;
}


static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void xai_fmri_mean_volume(const float *data, int64_t nt, int64_t nv, float *out)
{
    for (int64_t v = 0; v < nv; v++) {
        double s = 0;
        for (int64_t t = 0; t < nt; t++)
            s += data[t * nv + v];
        out[v] = (float)(s / (double)(nt > 0 ? nt : 1));
    }
}

void xai_fmri_frac_mask(const float *mean, int64_t nv, double frac, uint8_t *mask)
{
    float *sorted = malloc((size_t)(nv > 0 ? nv : 1) * sizeof *sorted);
    size_t nfin = 0;
    for (int64_t v = 0; sorted && v < nv; v++)
        if (isfinite(mean[v]))
            sorted[nfin++] = mean[v];
    qsort(sorted, nfin, sizeof(float), cmp_float);
    float thr = nfin ? (float)(frac * sorted[(size_t)(0.98 * (double)(nfin - 1))]) : INFINITY;
    for (int64_t v = 0; v < nv; v++)
        mask[v] = isfinite(mean[v]) && mean[v] > thr;
    free(sorted);
}

/* Flood from the seeds already set in @p seen through voxels with mask[v] == want, with
 * 26-connectivity (conn26) or 6-connectivity; @p queue holds nv entries. */
static int64_t flood(const uint8_t *mask, uint8_t want, const int64_t d[3], int conn26, uint8_t *seen,
                     int64_t *queue, int64_t qn)
{
    for (int64_t qh = 0; qh < qn; qh++) {
        int64_t v = queue[qh], x = v % d[0], y = (v / d[0]) % d[1], z = v / (d[0] * d[1]);
        for (int dz = -1; dz <= 1; dz++)
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int nz = (dx != 0) + (dy != 0) + (dz != 0);
                    if (!nz || (!conn26 && nz > 1))
                        continue;
                    int64_t X = x + dx, Y = y + dy, Z = z + dz;
                    if (X < 0 || Y < 0 || Z < 0 || X >= d[0] || Y >= d[1] || Z >= d[2])
                        continue;
                    int64_t u = (Z * d[1] + Y) * d[0] + X;
                    if (!seen[u] && mask[u] == want) {
                        seen[u] = 1;
                        queue[qn++] = u;
                    }
                }
    }
    return qn;
}

/* Keep the largest 26-connected component of mask. */
static void largest_component(uint8_t *mask, const int64_t d[3], uint8_t *seen, int64_t *queue)
{
    int64_t nv = d[0] * d[1] * d[2], best = -1, bestn = 0;
    memset(seen, 0, (size_t)nv);
    for (int64_t v = 0; v < nv; v++) {
        if (!mask[v] || seen[v])
            continue;
        seen[v] = 1;
        queue[0] = v;
        int64_t n = flood(mask, 1, d, 1, seen, queue, 1);
        if (n > bestn) {
            bestn = n;
            best = v;
        }
    }
    if (best < 0)
        return;
    memset(seen, 0, (size_t)nv);
    seen[best] = 1;
    queue[0] = best;
    flood(mask, 1, d, 1, seen, queue, 1);
    memcpy(mask, seen, (size_t)nv);
}

/* Set the background voxels that the grid's border (along axes longer than 1) cannot reach. */
static void fill_holes(uint8_t *mask, const int64_t d[3], uint8_t *seen, int64_t *queue)
{
    int64_t nv = d[0] * d[1] * d[2], qn = 0;
    if (nv <= 0)
        return;
    memset(seen, 0, (size_t)nv);
    for (int64_t v = 0; v < nv; v++) {
        int64_t x = v % d[0], y = (v / d[0]) % d[1], z = v / (d[0] * d[1]);
        int border = (d[0] > 1 && (x == 0 || x == d[0] - 1)) || (d[1] > 1 && (y == 0 || y == d[1] - 1)) ||
                     (d[2] > 1 && (z == 0 || z == d[2] - 1));
        if (border && !mask[v]) {
            seen[v] = 1;
            queue[qn++] = v;
        }
    }
    flood(mask, 0, d, 0, seen, queue, qn);
    for (int64_t v = 0; v < nv; v++)
        if (!mask[v] && !seen[v])
            mask[v] = 1;
}

xai_status xai_fmri_auto_mask(const float *mean, const int64_t dims[3], uint8_t *mask)
{
    int64_t nv = dims[0] * dims[1] * dims[2];
    float *s = malloc((size_t)(nv > 0 ? nv : 1) * sizeof *s);
    uint8_t *seen = malloc((size_t)(nv > 0 ? nv : 1));
    int64_t *queue = malloc((size_t)(nv > 0 ? nv : 1) * sizeof *queue);
    if (!s || !seen || !queue) {
        free(s);
        free(seen);
        free(queue);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    size_t n = 0;
    for (int64_t v = 0; v < nv; v++)
        if (isfinite(mean[v]))
            s[n++] = mean[v];
    qsort(s, n, sizeof *s, cmp_float);
    float thr = INFINITY;
    if (n >= 2) {
        size_t lo = (size_t)(0.2 * (double)(n - 1)), hi = (size_t)(0.85 * (double)(n - 1)), at = lo;
        for (size_t i = lo; i < hi; i++)
            if (s[i + 1] - s[i] > s[at + 1] - s[at])
                at = i;
        thr = s[at];
    }
    for (int64_t v = 0; v < nv; v++)
        mask[v] = isfinite(mean[v]) && mean[v] > thr;
    largest_component(mask, dims, seen, queue);
    fill_holes(mask, dims, seen, queue);
    int64_t nin = 0;
    for (int64_t v = 0; v < nv; v++)
        nin += mask[v] != 0;
    free(s);
    free(seen);
    free(queue);
    return nin ? XAI_OK : xai_error_set(XAI_EINVAL, "the automatic mask holds no voxel (constant mean image?)");
}

/* RMS over the voxels of volume t's difference from the mean of its nearest uncensored
   neighbours (the one neighbour at either end of the run). */
static double spike_score(const float *data, int64_t nt, int64_t nv, const uint8_t *censor, int64_t t)
{
    int64_t a = t - 1, b = t + 1;
    while (a >= 0 && censor[a])
        a--;
    while (b < nt && censor[b])
        b++;
    a = a >= 0 ? a : b;
    b = b < nt ? b : a;
    if (a < 0 || a >= nt)
        return 0;
    const float *x = data + t * nv, *u = data + a * nv, *w = data + b * nv;
    double ss = 0;
    for (int64_t v = 0; v < nv; v++) {
        double e = x[v] - 0.5 * ((double)u[v] + w[v]);
        ss += isfinite(e) ? e * e : 0;
    }
    /* white noise of variance s2 gives 1.5 s2 against two neighbours, 2 s2 against one: scale
       the run's ends to be comparable */
    return sqrt(ss / (double)nv * (a == b ? 0.75 : 1.0));
}

double fmri_median(double *d, size_t n)
{
    if (!n)
        return NAN;
    gsl_sort(d, 1, n);
    return gsl_stats_median_from_sorted_data(d, 1, n);
}

/* RMS over the voxels of the run's mean image (the scale of the data). */
static double mean_image_rms(const float *data, int64_t nt, int64_t nv)
{
    double ss = 0;
    for (int64_t v = 0; v < nv; v++) {
        double m = 0;
        for (int64_t t = 0; t < nt; t++)
            m += data[t * nv + v];
        m /= (double)nt;
        ss += isfinite(m) ? m * m : 0;
    }
    return sqrt(ss / (double)nv);
}

int64_t xai_fmri_motion_spikes(const float *data, int64_t nt, int64_t nv, uint8_t *censor)
{
    memset(censor, 0, (size_t)nt);
    double *d = malloc(2 * (size_t)nt * sizeof *d);
    if (!d || nt < 8) {
        free(d);
        return 0;
    }
    for (int64_t t = 0; t < nt; t++)
        d[t] = d[nt + t] = spike_score(data, nt, nv, censor, t);
    double med = fmri_median(d + nt, (size_t)nt);
    for (int64_t t = 0; t < nt; t++)
        d[nt + t] = fabs(d[t] - med);
    double sd = 1.4826 * fmri_median(d + nt, (size_t)nt), thr = med + XAI_FMRI_SPIKE_Z * sd, floor = mean_image_rms(data, nt, nv);
    /* and at least XAI_FMRI_SPIKE_FLOOR of the mean image: a quiet run's small MAD must not turn
       a block's rise or a run end into a spike */
    if (thr < XAI_FMRI_SPIKE_FLOOR * floor)
        thr = XAI_FMRI_SPIKE_FLOOR * floor;
    int64_t n = 0;
    /* a spike also lifts its neighbours' scores (half as much): censor the local maxima above
       the threshold, then score the rest against their uncensored neighbours again */
    for (int pass = 0; sd > 0 && pass < 4; pass++) {
        int64_t added = 0;
        for (int64_t t = 0; t < nt; t++)
            d[nt + t] = censor[t] ? 0 : spike_score(data, nt, nv, censor, t);
        for (int64_t t = 0; t < nt; t++)
            if (!censor[t] && d[nt + t] > thr && (t == 0 || d[nt + t] >= d[nt + t - 1]) &&
                (t + 1 == nt || d[nt + t] >= d[nt + t + 1])) {
                censor[t] = 1;
                added++;
            }
        n += added;
        if (!added)
            break;
    }
    free(d);
    return n;
}

xai_status xai_fmri_prep_init(xai_fmri_prep *p, const float *data, int64_t nt, int64_t nv, const uint8_t *mask,
                              int detrend)
{
    memset(p, 0, sizeof *p);
    if (nt < 3 || nv < 1)
        return xai_error_set(XAI_EINVAL, "pre-processing a run needs at least three volumes (%lld)", (long long)nt);
    p->nv = nv;
    p->nt = nt;
    p->mask = malloc((size_t)nv);
    p->mean = calloc((size_t)nv, sizeof(float));
    p->slope = calloc((size_t)nv, sizeof(float));
    p->scale = calloc((size_t)nv, sizeof(float));
    if (!p->mask || !p->mean || !p->slope || !p->scale) {
        xai_fmri_prep_free(p);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    double tc = (double)(nt - 1) / 2, stt = 0;
    for (int64_t t = 0; t < nt; t++)
        stt += ((double)t - tc) * ((double)t - tc);
    for (int64_t v = 0; v < nv; v++) {
        double s = 0, st = 0, s2 = 0;
        for (int64_t t = 0; t < nt; t++) {
            s += data[t * nv + v];
            st += ((double)t - tc) * data[t * nv + v];
        }
        double m = s / (double)nt, b = detrend ? st / stt : 0;
        for (int64_t t = 0; t < nt; t++) {
            double r = data[t * nv + v] - m - b * ((double)t - tc);
            s2 += r * r;
        }
        double sd = sqrt(s2 / (double)(nt - 1));
        p->mask[v] = mask[v] && isfinite(m) && isfinite(sd);
        p->mean[v] = (float)m;
        p->slope[v] = (float)b;
        p->scale[v] = p->mask[v] && sd > 1e-6 * (fabs(m) + 1e-6) ? (float)(1.0 / sd) : 0.0f;
        p->nin += p->mask[v];
    }
    if (p->nin == 0) {
        xai_fmri_prep_free(p);
        return xai_error_set(XAI_EINVAL, "the mask holds no voxel with finite data");
    }
    return XAI_OK;
}

void xai_fmri_prep_apply(const xai_fmri_prep *p, const float *vol, int64_t t, float *out)
{
    double dt = (double)t - (double)(p->nt - 1) / 2;
    for (int64_t v = 0; v < p->nv; v++) {
        float z = p->mask[v] ? (float)((vol[v] - p->mean[v] - p->slope[v] * dt) * p->scale[v]) : 0.0f;
        out[v] = isfinite(z) ? z : 0.0f;
    }
}

void xai_fmri_prep_free(xai_fmri_prep *p)
{
    free(p->mask);
    free(p->mean);
    free(p->slope);
    free(p->scale);
    memset(p, 0, sizeof *p);
}

char *xai_fmri_mask_encode(const uint8_t *mask, int64_t nv)
{
    json_t *a = json_array();
    for (int64_t v = 0; a && v < nv;) {
        if (!mask[v]) {
            v++;
            continue;
        }
        int64_t u = v;
        while (u < nv && mask[u])
            u++;
        json_array_append_new(a, json_integer(v));
        json_array_append_new(a, json_integer(u - v));
        v = u;
    }
    char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return s;
}

xai_status xai_fmri_mask_decode(const char *text, int64_t nv, uint8_t *mask)
{
    json_error_t err;
    json_t *a = text ? json_loads(text, 0, &err) : NULL;
    xai_status st = a && json_is_array(a) && json_array_size(a) % 2 == 0
                        ? XAI_OK
                        : xai_error_set(XAI_EFORMAT, "the stored mask is not a JSON array of start, length pairs");
    memset(mask, 0, (size_t)nv);
    for (size_t i = 0; st == XAI_OK && i < json_array_size(a); i += 2) {
        json_t *js = json_array_get(a, i), *jl = json_array_get(a, i + 1);
        json_int_t s0 = json_integer_value(js), len = json_integer_value(jl);
        if (!json_is_integer(js) || !json_is_integer(jl) || s0 < 0 || len < 1 || s0 > nv || len > nv - s0)
            st = xai_error_set(XAI_EFORMAT, "the stored mask's run %zu (%lld, %lld) is outside %lld voxels", i / 2,
                               (long long)s0, (long long)len, (long long)nv);
        else
            memset(mask + s0, 1, (size_t)len);
    }
    json_decref(a);
    return st;
}

double xai_fmri_robust_max(const float *map, int64_t nv, const uint8_t *mask)
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

xai_status xai_fmri_mosaic_png(const char *path, const xai_nifti_info *grid, const float *background,
                               const float *map, const uint8_t *mask, const char *title)
{
    int nx = (int)grid->dim[1], ny = (int)grid->dim[2], nz = (int)grid->dim[3];
    if (nz < 1)
        nz = 1;
    /* neurological convention (as nilearn draws): the subject's left on the left, anterior up */
    char orient[4];
    xai_fmri_orientation(grid, orient);
    int flip_x = orient[0] == 'L', flip_y = orient[1] != 'P';
    int step = (nz + 23) / 24, ns = (nz + step - 1) / step;
    double dx = grid->pixdim[1] > 0 ? grid->pixdim[1] : 1, dy = grid->pixdim[2] > 0 ? grid->pixdim[2] : 1;
    int cols = (int)ceil(sqrt((double)ns * ny * dy / (nx * dx) * 1.3)), rows;
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
                int px = flip_x ? nx - 1 - x : x, py = flip_y ? ny - 1 - y : y;
                size_t o = (size_t)(tr * ny + py) * W + (size_t)(tc * nx + px);
                bg[o] = background[v];
                mp[o] = (!mask || mask[v]) ? map[v] : NAN;
            }
    }
    char full[512];
    snprintf(full, sizeof full, "%s  [L | R, neurological]", title ? title : "");
    xai_overlay_opts o;
    xai_overlay_opts_init(&o);
    o.title = full;
    o.vmax = xai_fmri_robust_max(map, nv, mask);
    o.threshold = 0.1 * o.vmax;
    o.width = 900;
    /* true voxel aspect: a pixel is dx wide and dy high */
    o.height = (int)(900.0 * H * dy / (W * dx)) + 60;
    if (o.height < 200)
        o.height = 200;
    if (o.height > 4000)
        o.height = 4000;
    xai_status st = xai_figure_overlay(path, bg, mp, H, W, &o);
    free(bg);
    free(mp);
    return st;
}

void xai_fmri_orientation(const xai_nifti_info *info, char out[4])
{
    static const char pos[3] = {'R', 'A', 'S'}, neg[3] = {'L', 'P', 'I'};
    for (int c = 0; c < 3; c++) {
        int best = 0;
        for (int r = 1; r < 3; r++)
            if (fabs(info->affine[r][c]) > fabs(info->affine[best][c]))
                best = r;
        out[c] = info->affine[best][c] >= 0 ? pos[best] : neg[best];
    }
    out[3] = '\0';
}
