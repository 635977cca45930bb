/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri-trials.c - event-related designs in xai-fmri: telling them from block designs, and one
 * sample per trial instead of one per volume. In a rapid event-related design the responses to
 * neighbouring trials overlap, so a volume labelled by the HRF-shifted events mixes trials of
 * different classes; decoding studies estimate each trial's response first and decode those:
 * a least-squares-separate beta series (Mumford, Turner, Ashby & Poldrack 2012, NeuroImage 59,
 * doi:10.1016/j.neuroimage.2011.08.076) or the mean of the volumes at the response's peak.
 * See xai/domain-fmri.h.
 */
#include "xai/domain-fmri.h"

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_sort.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmri-int.h"

/* The peak-window estimate: volumes whose mid-acquisition time lies this far after the onset. */
#define PEAK_FROM_S 4.0
#define PEAK_TO_S 8.0

static const char *const sample_names[3] = {"volumes", "trials-lss", "trials-peak"};

const char *xai_fmri_samples_name(int samples)
{
    return samples >= 0 && samples < 3 ? sample_names[samples] : "volumes";
}

int xai_fmri_samples_parse(const char *name)
{
    for (int i = 0; name && i < 3; i++)
        if (!strcmp(name, sample_names[i]))
            return i;
    return -1;
}

/* Peak of the canonical response to a boxcar of @p du s, and its value @p lag s after the onset. */
static void response_at(const double *H, double du, double lag, double *peak, double *at)
{
    enum { N = 400 }; /* 40 s at 0.1 s */
    double x[N];
    fmri_hrf_regressor(H, 0.05, du, N, 0.1, x);
    *peak = 0;
    for (int i = 0; i < N; i++)
        *peak = x[i] > *peak ? x[i] : *peak;
    int k = (int)floor(lag / 0.1);
    *at = k >= 0 && k < N ? x[k] : 0;
}

/* The share of consecutive events (in onset order) of the same type. */
static double same_type_share(const double *on, const int *type, size_t k)
{
    size_t *p = malloc((k + 1) * sizeof *p), same = 0;
    if (!p || !type || k < 2) {
        free(p);
        return 0;
    }
    gsl_sort_index(p, on, 1, k);
    for (size_t i = 0; i + 1 < k; i++)
        same += type[p[i]] == type[p[i + 1]];
    free(p);
    return (double)same / (double)(k - 1);
}

xai_status xai_fmri_design_of(const double *onset, const double *duration, const int *type, int n,
                              xai_fmri_design *d)
{
    memset(d, 0, sizeof *d);
    double *on = malloc(((size_t)n + 1) * sizeof *on), *du = malloc(((size_t)n + 1) * sizeof *du);
    int *ty = malloc(((size_t)n + 1) * sizeof *ty);
    double *H = fmri_hrf_cumulative();
    if (!on || !du || !ty || !H) {
        free(on), free(du), free(ty), free(H);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    size_t k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(onset[i]) && duration[i] >= 0) {
            ty[k] = type ? type[i] : -1;
            on[k] = onset[i];
            du[k++] = duration[i];
        }
    d->nevents = (int)k;
    d->same_type = same_type_share(on, type ? ty : NULL, k);
    gsl_sort(on, 1, k);
    for (size_t i = 0; i + 1 < k; i++)
        on[i] = on[i + 1] - on[i];
    d->median_soa = k > 1 ? fmri_median(on, k - 1) : NAN;
    d->median_duration = fmri_median(du, k);
    if (k > 1) {
        double peak, at;
        response_at(H, d->median_duration, d->median_soa, &peak, &at);
        d->overlap = peak > 0 ? at / peak : 0;
    }
    d->event_related = k > 1 && d->median_duration <= XAI_FMRI_EVENT_MAX_DURATION &&
                       d->overlap > XAI_FMRI_EVENT_OVERLAP && d->same_type <= XAI_FMRI_EVENT_MAX_SAME;
    free(on), free(du), free(ty), free(H);
    return XAI_OK;
}

xai_status xai_fmri_design_read(const char *events, xai_fmri_design *d)
{
    xai_fmri_classes cls = {0};
    fmri_events ev;
    xai_status st = fmri_events_read(events, &cls, &ev, NULL);
    xai_fmri_classes_free(&cls);
    if (st != XAI_OK)
        return st;
    st = xai_fmri_design_of(ev.onset, ev.duration, ev.cls, ev.n, d);
    fmri_events_free(&ev);
    return st;
}

void xai_fmri_design_text(const xai_fmri_design *d, char *buf, size_t len)
{
    snprintf(buf, len, "%s design: %d events, median duration %.3g s, median onset spacing %.3g s (the response to "
             "one event is still at %.0f %% of its peak when the next begins), %.0f %% of neighbouring events of one "
             "type", d->event_related ? "event-related" : "block", d->nevents, d->median_duration, d->median_soa,
             100 * d->overlap, 100 * d->same_type);
}

/* The LSS weights of one trial: w[t] such that sum_t w[t] y[t] is the trial's beta times its
 * response's peak plus the run's level at its centre. Columns: the trial, every other event,
 * a constant and (with @p detrend) a linear drift, over the volumes not censored. 0 when the
 * fit is singular. */
static int lss_weights(const double *xj, const double *xo, const uint8_t *censor, int64_t nt, double peak, int detrend,
                       double *w)
{
    double X[4], A[16] = {0}, tc = (double)(nt - 1) / 2;
    int p = detrend ? 4 : 3;
    for (int64_t t = 0; t < nt; t++) {
        if (censor && censor[t])
            continue;
        X[0] = xj[t], X[1] = xo[t], X[2] = 1, X[3] = ((double)t - tc) / (double)nt;
        for (int a = 0; a < p; a++)
            for (int b = 0; b < p; b++)
                A[a * p + b] += X[a] * X[b];
    }
    gsl_matrix_view Av = gsl_matrix_view_array(A, (size_t)p, (size_t)p);
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int bad = A[0] < 1e-12 || gsl_linalg_cholesky_decomp1(&Av.matrix) || gsl_linalg_cholesky_invert(&Av.matrix);
    gsl_set_error_handler(old);
    if (bad)
        return 0;
    for (int64_t t = 0; t < nt; t++) {
        X[0] = xj[t], X[1] = xo[t], X[2] = 1, X[3] = ((double)t - tc) / (double)nt;
        double b0 = 0, b2 = 0;
        for (int a = 0; a < p; a++) {
            b0 += A[0 * p + a] * X[a];
            b2 += A[2 * p + a] * X[a];
        }
        w[t] = censor && censor[t] ? 0 : peak * b0 + b2;
    }
    return 1;
}

/* The peak-window weights of a trial: the mean of the volumes 4-8 s after its onset, with
 * @p detrend of the series less its least-squares line over the volumes not censored. */
static int peak_weights(double on, const uint8_t *censor, int64_t nt, double tr, int detrend, double *w)
{
    int n = 0;
    double tm = 0, m = 0, sxx = 0, wx = 0;
    for (int64_t t = 0; t < nt; t++) {
        double s = (double)t * tr + tr / 2 - on;
        int use = !(censor && censor[t]);
        w[t] = s >= PEAK_FROM_S && s <= PEAK_TO_S && use;
        n += w[t] != 0;
        tm += use ? (double)t : 0, m += use;
    }
    tm /= m > 0 ? m : 1;
    for (int64_t t = 0; n && t < nt; t++) {
        w[t] /= n;
        wx += w[t] * ((double)t - tm);
        sxx += censor && censor[t] ? 0 : ((double)t - tm) * ((double)t - tm);
    }
    for (int64_t t = 0; n && detrend && sxx > 0 && t < nt; t++)
        if (!(censor && censor[t]))
            w[t] -= wx * ((double)t - tm) / sxx;
    return n > 0;
}

/* out[v] = sum_t w[t] data[t][v], accumulated in @p acc (nv) */
static void weigh(const float *data, int64_t nt, int64_t nv, const double *w, double *acc, float *out)
{
    memset(acc, 0, (size_t)nv * sizeof *acc);
    for (int64_t t = 0; t < nt; t++)
        if (w[t] != 0)
            for (int64_t v = 0; v < nv; v++)
                acc[v] += w[t] * data[t * nv + v];
    for (int64_t v = 0; v < nv; v++)
        out[v] = (float)acc[v];
}

xai_status xai_fmri_trial_estimates(const float *data, int64_t nt, int64_t nv, double tr, const uint8_t *censor,
                                    const double *onset, const double *duration, int nev, const int *want, int method,
                                    int detrend, float *out, uint8_t *ok)
{
    if (!(tr > 0) || nt < 1 || nev < 1)
        return xai_error_set(XAI_EINVAL, "trial estimates need a repetition time > 0, volumes and events");
    double *H = fmri_hrf_cumulative(), *X = calloc((size_t)(nev + 3) * (size_t)nt, sizeof *X);
    double *acc = malloc((size_t)nv * sizeof *acc);
    if (!H || !X || !acc) {
        free(H);
        free(X);
        free(acc);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    double *xo = X + (size_t)nev * (size_t)nt, *w = xo + nt, *all = w + nt;
    for (int e = 0; e < nev; e++) {
        fmri_hrf_regressor(H, onset[e], duration[e] > 0 ? duration[e] : 0, nt, tr, X + (size_t)e * (size_t)nt);
        for (int64_t t = 0; t < nt; t++)
            all[t] += X[(size_t)e * (size_t)nt + t];
    }
    int k = 0;
    for (int e = 0; e < nev; e++) {
        if (want && !want[e])
            continue;
        const double *xj = X + (size_t)e * (size_t)nt;
        double peak, at;
        response_at(H, duration[e] > 0 ? duration[e] : 0, 0, &peak, &at);
        for (int64_t t = 0; t < nt; t++)
            xo[t] = all[t] - xj[t];
        ok[k] = method == XAI_FMRI_TRIALS_PEAK ? peak_weights(onset[e], censor, nt, tr, detrend, w)
                                                : lss_weights(xj, xo, censor, nt, peak, detrend, w);
        if (ok[k])
            weigh(data, nt, nv, w, acc, out + (size_t)k * (size_t)nv);
        else
            memset(out + (size_t)k * (size_t)nv, 0, (size_t)nv * sizeof *out);
        k++;
    }
    free(acc);
    free(H);
    free(X);
    return XAI_OK;
}

/* The events in onset order: the trial series, its table and its 4-D maps follow the run's time. */
static xai_status events_sorted(fmri_events *ev)
{
    size_t n = (size_t)ev->n, *p = malloc((n + 1) * sizeof *p);
    double *on = malloc((n + 1) * sizeof *on), *du = malloc((n + 1) * sizeof *du);
    int *c = malloc((n + 1) * sizeof *c);
    if (!p || !on || !du || !c) {
        free(p), free(on), free(du), free(c);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    gsl_sort_index(p, ev->onset, 1, n);
    for (size_t i = 0; i < n; i++)
        on[i] = ev->onset[p[i]], du[i] = ev->duration[p[i]], c[i] = ev->cls[p[i]];
    free(ev->onset), free(ev->duration), free(ev->cls), free(p);
    ev->onset = on, ev->duration = du, ev->cls = c;
    return XAI_OK;
}

/* Keep the samples whose estimate exists: estimates, labels and onsets compacted; their count. */
static int64_t keep_estimated(const fmri_events *ev, const uint8_t *ok, int64_t nv, float *est, int *lab, double *on)
{
    int64_t k = 0, j = 0;
    for (int e = 0; e < ev->n; e++) {
        if (ev->cls[e] < 0)
            continue;
        if (ok[j]) {
            memmove(est + k * nv, est + j * nv, (size_t)nv * sizeof *est);
            lab[k] = ev->cls[e];
            on[k++] = ev->onset[e];
        }
        j++;
    }
    return k;
}

/* The run's statistics over its trial estimates, which replace the image's volumes. */
static xai_status trials_into_run(const char *bold, xai_nifti *img, float *est, int64_t ns, xai_fmri_run *r)
{
    int64_t nv = img->shape[1] * img->shape[2] * img->shape[3];
    free(img->data);
    img->data = est;
    img->shape[0] = ns;
    img->info.dim[4] = ns;
    img->n = (size_t)(ns * nv);
    uint8_t *all = malloc((size_t)nv);
    if (!all || !(r->censored = calloc((size_t)ns, 1))) {
        free(all);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    memset(all, 1, (size_t)nv);
    /* the drift was in the estimates' fits; a line over the trials would also remove the
       class contrast of a run whose classes follow its time course (all faces trials first) */
    xai_status st = xai_fmri_prep_init(&r->prep, est, ns, nv, all, 0);
    free(all);
    return st == XAI_OK ? XAI_OK : xai_error_prefix(st, bold);
}

xai_status fmri_trials_run(const char *bold, xai_nifti *img, const char *events, int method, int detrend,
                           xai_fmri_classes *cls, xai_fmri_run *r, char **unused)
{
    int64_t nt = img->shape[0], nv = img->shape[1] * img->shape[2] * img->shape[3];
    if (!(img->info.tr_s > 0))
        return xai_error_set(XAI_EINVAL, "%s: no repetition time in the header (pixdim[4]); cannot place events in "
                             "time", bold);
    fmri_events ev;
    xai_status st = fmri_events_read(events, cls, &ev, unused);
    if (st != XAI_OK || (st = events_sorted(&ev)) != XAI_OK)
        return st;
    int ns = 0, *want = calloc((size_t)ev.n + 1, sizeof *want);
    for (int e = 0; want && e < ev.n; e++) {
        want[e] = ev.cls[e] >= 0;
        ns += want[e];
    }
    float *est = malloc(((size_t)ns + 1) * (size_t)nv * sizeof *est);
    uint8_t *ok = malloc((size_t)ns + 1), *censor = malloc((size_t)nt);
    *r = (xai_fmri_run){.path = bold, .img = img, .owner = 1, .t0 = 0};
    r->labels = malloc(((size_t)ns + 1) * sizeof *r->labels);
    r->onset = malloc(((size_t)ns + 1) * sizeof *r->onset);
    if (!want || !est || !ok || !censor || !r->labels || !r->onset)
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    if (st == XAI_OK) {
        r->ncensored = xai_fmri_motion_spikes(img->data, nt, nv, censor);
        st = xai_fmri_trial_estimates(img->data, nt, nv, img->info.tr_s, censor, ev.onset, ev.duration, ev.n, want,
                                      method, detrend, est, ok);
    }
    int64_t kept = st == XAI_OK ? keep_estimated(&ev, ok, nv, est, r->labels, r->onset) : 0;
    if (st == XAI_OK && kept < 3)
        st = xai_error_set(XAI_EINVAL, "%s: %lld trials of the classes inside the run; one sample per trial needs at "
                           "least 3 (give --samples volumes)", events, (long long)kept);
    if (st == XAI_OK) {
        r->nt = kept;
        st = trials_into_run(bold, img, est, kept, r);
        est = NULL; /* the image's now */
    }
    free(est), free(ok), free(censor), free(want);
    fmri_events_free(&ev);
    if (st != XAI_OK) { /* the image stays the caller's */
        r->owner = 0;
        xai_fmri_run_free(r);
        if (unused) {
            free(*unused);
            *unused = NULL;
        }
    }
    return st;
}
