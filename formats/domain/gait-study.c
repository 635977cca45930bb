/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gait-study.c - a gait study as one xai_dataset (xai/domain-gait.h): the model samples of
 * every trial, labelled by subject or condition, grouped by the unit a study holds out (the
 * walk, the session, the subject), and the normalisation fitted on such a dataset.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai/domain-gait.h"

void xai_gait_study_free(xai_gait_study *s)
{
    if (!s)
        return;
    xai_dataset_free(&s->d);
    xai_gait_cycles_free(&s->cy);
    free(s->a);
    free(s->b);
    memset(s, 0, sizeof *s);
}

/* The label (label_by) or group (group_by) field of a trial; NULL for an unknown key. */
static const char *trial_field(const xai_gait_trial_ref *t, const char *key)
{
    if (!strcmp(key, "subject"))
        return t->subject;
    if (!strcmp(key, "session"))
        return t->session;
    if (!strcmp(key, "trial") || !strcmp(key, "run"))
        return t->run;
    if (!strcmp(key, "condition"))
        return t->condition;
    return NULL;
}

static int find_name(char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], s))
            return i;
    return -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Index of @p s in the growing name list (added when new); -1 when out of memory. */
static int intern(char ***names, int *n, const char *s)
{
    int k = find_name(*names, *n, s);
    if (k >= 0)
        return k;
    char **v = realloc(*names, sizeof *v * (size_t)(*n + 1));
    if (!v)
        return -1;
    *names = v;
    if (!(v[*n] = strdup(s)))
        return -1;
    return (*n)++;
}

/* Classes: the given ones, or the sorted distinct labels of the trials that gave samples. */
static xai_status study_classes(xai_gait_study *s, const xai_gait_trial_ref *tr, const char *label_by,
                                const char *const *classes, int nclasses)
{
    xai_dataset *d = &s->d;
    if (classes) {
        d->class_names = calloc((size_t)(nclasses > 0 ? nclasses : 1), sizeof(char *));
        for (int k = 0; d->class_names && k < nclasses; k++)
            if (!(d->class_names[k] = strdup(classes[k])))
                return xai_error_set(XAI_ENOMEM, "gait study: out of memory");
        d->nclasses = nclasses;
    } else {
        for (int64_t i = 0; i < d->n; i++)
            if (intern(&d->class_names, &d->nclasses, trial_field(&tr[s->cy.trial[s->a[i]]], label_by)) < 0)
                return xai_error_set(XAI_ENOMEM, "gait study: out of memory");
        if (d->nclasses > 1)
            qsort(d->class_names, (size_t)d->nclasses, sizeof(char *), cmp_str);
    }
    if (!d->class_names && d->n > 0)
        return xai_error_set(XAI_ENOMEM, "gait study: out of memory");
    for (int64_t i = 0; i < d->n; i++)
        d->y[i] = find_name(d->class_names, d->nclasses, trial_field(&tr[s->cy.trial[s->a[i]]], label_by));
    return XAI_OK;
}

/* Groups named by the trials' group_by field, in order of first appearance. */
static xai_status study_groups(xai_gait_study *s, const xai_gait_trial_ref *tr, const char *group_by)
{
    xai_dataset *d = &s->d;
    if (!(d->group_kind = strdup(group_by)))
        return xai_error_set(XAI_ENOMEM, "gait study: out of memory");
    for (int64_t i = 0; i < d->n; i++)
        if ((d->group[i] = intern(&d->group_names, &d->ngroups, trial_field(&tr[s->cy.trial[s->a[i]]], group_by))) < 0)
            return xai_error_set(XAI_ENOMEM, "gait study: out of memory");
    return XAI_OK;
}

/* The cycles of every trial; a trial that fails is reported through @p fn and skipped. */
static void study_read(const xai_gait_pre *p, const xai_gait_trial_ref *tr, int ntr, xai_gait_trial_fn fn, void *ud,
                       xai_gait_study *s)
{
    for (int i = 0; i < ntr; i++) {
        int gaps = 0;
        xai_status st = xai_gait_extract(p, tr[i].path, i, &s->cy, &gaps);
        if (st != XAI_OK)
            s->nfailed++;
        if (st != XAI_OK || !s->cy.last_recovered)
            s->cy.last_note[0] = 0;
        char note[600] = "";
        if (st == XAI_OK && s->cy.last_recovered)
            snprintf(note, sizeof note, "%d Foot Strike(s) recovered from kinematics: %s", s->cy.last_recovered,
                     s->cy.last_note);
        if (fn && (st != XAI_OK || gaps || *note))
            fn(ud, i, st, gaps, st != XAI_OK ? xai_last_error() : note);
        s->cy.last_recovered = 0;
    }
}

xai_status xai_gait_study_load(const xai_gait_pre *p, const xai_gait_trial_ref *tr, int ntr, const char *label_by,
                               const char *const *classes, int nclasses, const char *group_by, xai_gait_trial_fn fn,
                               void *ud, xai_gait_study *s)
{
    memset(s, 0, sizeof *s);
    if (!p || ntr < 0 || (ntr > 0 && !tr) || !label_by || !group_by)
        return xai_error_set(XAI_EINVAL, "gait study: bad arguments");
    for (int i = 0; i < ntr; i++)
        if (!tr[i].path || !trial_field(&tr[i], label_by) || !trial_field(&tr[i], group_by))
            return xai_error_set(XAI_EINVAL, "gait study: trial %d lacks a path, its '%s' or its '%s' (or the key "
                                 "is not subject, session, trial or condition)", i, label_by, group_by);
    study_read(p, tr, ntr, fn, ud, s);
    int64_t n = xai_gait_samples(p, &s->cy, &s->a, &s->b);
    int64_t shape[2] = {xai_gait_pre_inputs(p), XAI_GAIT_NPTS};
    xai_status st = n < 0 ? xai_error_set(XAI_ENOMEM, "gait study: out of memory") : XAI_OK;
    if (!st)
        st = xai_dataset_alloc(&s->d, n, 2, shape, 0);
    size_t per = (size_t)shape[0] * XAI_GAIT_NPTS;
    for (int64_t i = 0; !st && i < n; i++)
        xai_gait_input(p, &s->cy, s->a[i], s->b[i], s->d.x + (size_t)i * per);
    if (!st)
        st = study_classes(s, tr, label_by, classes, nclasses);
    if (!st)
        st = study_groups(s, tr, group_by);
    if (st) {
        int nf = s->nfailed;
        xai_gait_study_free(s);
        s->nfailed = nf;
    }
    return st;
}

xai_status xai_gait_norm_fit(xai_gait_pre *p, const float *x, const int64_t *rows, int64_t nrows)
{
    int nin = xai_gait_pre_inputs(p);
    size_t per = (size_t)nin * XAI_GAIT_NPTS;
    if (!x || nrows < 1)
        return xai_error_set(XAI_EINVAL, "gait normalisation: no training sample to fit it on");
    free(p->mean);
    free(p->sd);
    p->have_norm = 0;
    p->mean = calloc(per, sizeof(float));
    p->sd = calloc((size_t)nin, sizeof(float));
    if (!p->mean || !p->sd)
        return xai_error_set(XAI_ENOMEM, "gait normalisation: out of memory");
    /* the input is the deviation from the mean curve (per channel and point) in units of the
     * channel's SD around that curve, so relevance points at deviations from the group */
    for (size_t q = 0; q < per; q++) {
        double m = 0;
        for (int64_t r = 0; r < nrows; r++)
            m += x[(size_t)(rows ? rows[r] : r) * per + q];
        p->mean[q] = (float)(m / (double)nrows);
    }
    for (int ch = 0; ch < nin; ch++) {
        double s2 = 0;
        for (int64_t r = 0; r < nrows; r++)
            for (int t = 0; t < XAI_GAIT_NPTS; t++) {
                size_t q = (size_t)ch * XAI_GAIT_NPTS + (size_t)t;
                double v = x[(size_t)(rows ? rows[r] : r) * per + q] - p->mean[q];
                s2 += v * v;
            }
        double var = s2 / ((double)nrows * XAI_GAIT_NPTS);
        p->sd[ch] = (float)(var > 1e-12 ? sqrt(var) : 1.0);
    }
    p->have_norm = 1;
    return XAI_OK;
}

void xai_gait_normalise(const xai_gait_pre *p, float *x, int64_t n)
{
    size_t per = (size_t)xai_gait_pre_inputs(p) * XAI_GAIT_NPTS;
    for (int64_t i = 0; p->have_norm && i < n; i++)
        for (size_t q = 0; q < per; q++) {
            float *v = x + (size_t)i * per + q;
            *v = (*v - p->mean[q]) / p->sd[q / XAI_GAIT_NPTS];
        }
}

xai_status xai_gait_fit_normalisation(xai_gait_pre *p, xai_dataset *d)
{
    int nin = xai_gait_pre_inputs(p);
    size_t per = (size_t)nin * XAI_GAIT_NPTS;
    if (!d || d->n < 1 || xai_dataset_sample_size(d) != (int64_t)per || p->have_norm)
        return xai_error_set(XAI_EINVAL, "gait normalisation: needs samples of %d x %d values, not yet normalised",
                             nin, XAI_GAIT_NPTS);
    xai_status st = xai_gait_norm_fit(p, d->x, NULL, d->n);
    if (!st)
        xai_gait_normalise(p, d->x, d->n);
    return st;
}

/* ------------------------------------------------------------------ augmentation */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s)
{
    return (double)(splitmix(s) >> 11) * 0x1.0p-53;
}

/* One channel of 101 points read at cycle position u (in points, circular over 0..100). */
static float at_phase(const float *src, double u)
{
    const double period = XAI_GAIT_NPTS - 1;
    u = fmod(u, period);
    if (u < 0)
        u += period;
    int i = (int)u;
    double f = u - i;
    return (float)((1 - f) * src[i] + f * src[i + 1]);
}

/* log-normal gain exp(N(0, 0.1)) (Box-Muller) */
static double gain_draw(uint64_t *s)
{
    double u1 = uniform(s), u2 = uniform(s);
    return exp(0.1 * sqrt(-2 * log(u1 > 0 ? u1 : 1e-300)) * cos(2 * M_PI * u2));
}

xai_status xai_gait_augment(void *ud, float *x, int64_t n, int ndim, const int64_t *shape, uint64_t seed)
{
    const xai_gait_pre *p = ud;
    if (ndim != 2 || shape[1] != XAI_GAIT_NPTS || shape[0] < 1)
        return xai_error_set(XAI_EINVAL, "gait augmentation: samples must be channels x %d", XAI_GAIT_NPTS);
    if (p && (!p->have_norm || xai_gait_pre_inputs(p) != shape[0]))
        return xai_error_set(XAI_EINVAL, "gait augmentation: the normalisation of %lld channels is needed",
                             (long long)shape[0]);
    float *tmp = malloc(sizeof(float) * XAI_GAIT_NPTS);
    if (!tmp)
        return xai_error_set(XAI_ENOMEM, "gait augmentation: out of memory");
    const double mid = (XAI_GAIT_NPTS - 1) / 2.0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t s = seed ^ ((uint64_t)i * 0xd1b54a32d192ed03ULL);
        double shift = (2 * uniform(&s) - 1) * 3.0, stretch = 1 + (2 * uniform(&s) - 1) * 0.05;
        double gain = gain_draw(&s);
        for (int64_t ch = 0; ch < shape[0]; ch++) {
            float *v = x + ((size_t)i * (size_t)shape[0] + (size_t)ch) * XAI_GAIT_NPTS;
            /* with the normalisation: the channel's whole angle curve (mean curve + deviation)
             * scaled, raw' = g raw, so z' = g z + (g - 1) mean / sd */
            double g = p ? gain_draw(&s) : gain;
            const float *m = p ? p->mean + (size_t)ch * XAI_GAIT_NPTS : NULL;
            double sd = p ? p->sd[ch] : 1.0;
            for (int t = 0; t < XAI_GAIT_NPTS; t++)
                tmp[t] = (float)(g * at_phase(v, mid + (t - mid) * stretch + shift) + (m ? (g - 1) * m[t] / sd : 0.0));
            memcpy(v, tmp, sizeof(float) * XAI_GAIT_NPTS);
        }
    }
    free(tmp);
    return XAI_OK;
}
