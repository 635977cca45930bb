/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri-timing.c - does the BOLD response follow the events when the hemodynamic rule says
 * it should? The class labels of the training runs are shifted by -K..K volumes and, for
 * each shift, the share of the (pre-processed, unit-variance) signal that the class means
 * explain is averaged over the mask's voxels (eta squared of a one-way ANOVA per voxel).
 * With correct onsets and a typical HRF the stated timing (shift 0) explains the most; a
 * clearly better shift means the event file is early or late (a shifted copy of a dataset,
 * onsets in another clock, slice-timing or dummy-scan offsets). See xai/domain-fmri.h.
 */
#include "xai/domain-fmri.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Class sums per shift: sum[(s * ncls + c) * nin + i] and counts n[s * ncls + c]. */
typedef struct {
    int ns, ncls;
    int64_t nin;
    double *sum, *sq;
    int64_t *n;
} shift_sums;

/* Add volume t of run r (x: its masked voxels) to the class of every shifted labelling. */
static void add_volume(shift_sums *a, const xai_fmri_run *r, int64_t t, const float *x, int maxshift)
{
    for (int s = -maxshift; s <= maxshift; s++) {
        int64_t u = t - s; /* shift s > 0: the response comes s volumes after the rule's labels */
        int c = u >= 0 && u < r->nt ? r->labels[u] : -1;
        if (c < 0 || c >= a->ncls)
            continue;
        int k = (s + maxshift) * a->ncls + c;
        double *sum = a->sum + (size_t)k * (size_t)a->nin, *sq = a->sq + (size_t)(s + maxshift) * (size_t)a->nin;
        for (int64_t i = 0; i < a->nin; i++) {
            sum[i] += x[i];
            sq[i] += (double)x[i] * x[i];
        }
        a->n[k]++;
    }
}

/* eta^2 of voxel i under shift index si: between-class / total sum of squares about the grand mean. */
static double voxel_eta2(const shift_sums *a, int si, int64_t i)
{
    int64_t N = 0;
    double tot = 0, between = 0;
    const double *sum = a->sum + (size_t)si * (size_t)a->ncls * (size_t)a->nin;
    for (int c = 0; c < a->ncls; c++) {
        N += a->n[si * a->ncls + c];
        tot += sum[(size_t)c * (size_t)a->nin + (size_t)i];
    }
    if (N < 2)
        return NAN;
    double grand = tot / (double)N, ss = a->sq[(size_t)si * (size_t)a->nin + (size_t)i] - (double)N * grand * grand;
    for (int c = 0; c < a->ncls; c++) {
        int64_t n = a->n[si * a->ncls + c];
        double m = n ? sum[(size_t)c * (size_t)a->nin + (size_t)i] / (double)n : 0;
        between += (double)n * (m - grand) * (m - grand);
    }
    return ss > 0 ? between / ss : 0;
}

static int cmp_desc(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? 1 : a > b ? -1 : 0;
}

/* Mean eta^2 per shift over the voxels that respond to the classes at all: the top tenth by
 * their best eta^2 over every shift (a choice that favours no shift), so that the many
 * voxels without class signal do not flatten the comparison. */
static xai_status shift_curve(const shift_sums *a, double *curve)
{
    double *e = malloc((size_t)a->ns * (size_t)a->nin * sizeof *e), *best = malloc((size_t)a->nin * sizeof *best);
    if (!e || !best) {
        free(e);
        free(best);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    for (int64_t i = 0; i < a->nin; i++) {
        best[i] = 0;
        for (int s = 0; s < a->ns; s++) {
            e[(size_t)s * (size_t)a->nin + (size_t)i] = voxel_eta2(a, s, i);
            if (e[(size_t)s * (size_t)a->nin + (size_t)i] > best[i])
                best[i] = e[(size_t)s * (size_t)a->nin + (size_t)i];
        }
    }
    double *sorted = malloc((size_t)a->nin * sizeof *sorted);
    int64_t keep = a->nin / 10 > 10 ? a->nin / 10 : a->nin < 10 ? a->nin : 10;
    double cut = 0;
    if (sorted) {
        memcpy(sorted, best, (size_t)a->nin * sizeof *sorted);
        qsort(sorted, (size_t)a->nin, sizeof *sorted, cmp_desc);
        cut = sorted[keep - 1];
    }
    for (int s = 0; s < a->ns; s++) {
        double acc = 0;
        int64_t n = 0;
        for (int64_t i = 0; i < a->nin; i++)
            if (best[i] >= cut && isfinite(e[(size_t)s * (size_t)a->nin + (size_t)i])) {
                acc += e[(size_t)s * (size_t)a->nin + (size_t)i];
                n++;
            }
        curve[s] = n ? acc / (double)n : NAN;
    }
    free(sorted);
    free(e);
    free(best);
    return XAI_OK;
}

static void sums_free(shift_sums *a)
{
    free(a->sum);
    free(a->sq);
    free(a->n);
}

/* Accumulate the used runs' labelled neighbourhoods into the shifted class sums. */
static xai_status accumulate(shift_sums *a, const xai_fmri_run *runs, int nruns, const int *use, const uint8_t *mask,
                             int maxshift)
{
    int64_t nv = xai_fmri_run_nv(&runs[0]);
    float *vol = malloc((size_t)nv * sizeof *vol), *x = malloc((size_t)a->nin * sizeof *x);
    if (!vol || !x) {
        free(vol);
        free(x);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    for (int r = 0; r < nruns; r++)
        for (int64_t t = 0; use[r] && runs[r].labels && t < runs[r].nt; t++) {
            xai_fmri_run_volume(&runs[r], t, mask, vol);
            for (int64_t v = 0, i = 0; v < nv; v++)
                if (mask[v])
                    x[i++] = vol[v];
            add_volume(a, &runs[r], t, x, maxshift);
        }
    free(vol);
    free(x);
    return XAI_OK;
}

/* Pooled within-run correlation of each class's indicator with time over the labelled volumes of
 * the runs with use[i]; the largest |r|. A drift direction a run shows the classes in one order
 * and another run in the other cancels, as it does for a model trained on both. */
static double time_confound(const xai_fmri_run *runs, int nruns, const int *use, int ncls)
{
    double best = 0;
    for (int c = 0; c < ncls; c++) {
        double sty = 0, stt = 0, syy = 0;
        for (int i = 0; i < nruns; i++) {
            const int *lab = runs[i].labels;
            double n = 0, mt = 0, my = 0;
            for (int64_t t = 0; use[i] && lab && t < runs[i].nt; t++)
                if (lab[t] >= 0) {
                    n++;
                    mt += (double)t;
                    my += lab[t] == c;
                }
            if (n < 2)
                continue;
            mt /= n, my /= n;
            for (int64_t t = 0; t < runs[i].nt; t++)
                if (lab[t] >= 0) {
                    double dt = (double)t - mt, dy = (lab[t] == c) - my;
                    sty += dt * dy, stt += dt * dt, syy += dy * dy;
                }
        }
        double r = stt > 0 && syy > 0 ? fabs(sty) / sqrt(stt * syy) : 0;
        best = r > best ? r : best;
    }
    return best;
}

xai_status xai_fmri_timing_check(const xai_fmri_run *runs, int nruns, const int *use, const uint8_t *mask, int ncls,
                                 xai_fmri_timing *out)
{
    memset(out, 0, sizeof *out);
    int K = XAI_FMRI_TIMING_MAX_SHIFT, ns = 2 * K + 1;
    int64_t nv = xai_fmri_run_nv(&runs[0]), nin = 0;
    for (int64_t v = 0; v < nv; v++)
        nin += mask[v] != 0;
    if (nin == 0 || ncls < 2)
        return xai_error_set(XAI_EINVAL, "timing check: an empty mask or fewer than two classes");
    shift_sums a = {ns, ncls, nin, calloc((size_t)ns * (size_t)ncls * (size_t)nin, sizeof(double)),
                    calloc((size_t)ns * (size_t)nin, sizeof(double)), calloc((size_t)ns * (size_t)ncls, sizeof(int64_t))};
    xai_status st = a.sum && a.sq && a.n ? accumulate(&a, runs, nruns, use, mask, K)
                                         : xai_error_set(XAI_ENOMEM, "out of memory");
    out->tr = runs[0].img->info.tr_s;
    out->best = 0;
    if (st == XAI_OK)
        st = shift_curve(&a, out->eta2);
    for (int s = 0; st == XAI_OK && s < ns; s++)
        if (isfinite(out->eta2[s]) && !(out->eta2[s] <= out->eta2[out->best + K]))
            out->best = s - K;
    sums_free(&a);
    /* more than one volume off, and clearly so: a half-volume HRF difference between regions or
     * subjects moves the peak by one volume at most */
    out->time_r = time_confound(runs, nruns, use, ncls);
    out->confounded = out->time_r > XAI_FMRI_CONFOUND_R;
    out->warn = st == XAI_OK &&
                (out->confounded || (abs(out->best) > 1 && out->eta2[out->best + K] > 1.1 * out->eta2[K]));
    return st;
}

void xai_fmri_timing_text(const xai_fmri_timing *t, char *buf, size_t len)
{
    int K = XAI_FMRI_TIMING_MAX_SHIFT;
    if (t->confounded) {
        snprintf(buf, len, "the classes follow the time course within the training runs (a class correlates with "
                 "time at r = %.2f, pooled within runs): slow drifts can stand in for the class, so the model may "
                 "not generalise to runs with another block order, and the event timing cannot be checked; train on "
                 "more runs or runs with a counterbalanced block order", t->time_r);
        return;
    }
    snprintf(buf, len, "the BOLD response fits the class labels best %d volume%s (%.1f s) %s than the events and the "
             "hemodynamic rule place it (class-explained signal share %.3f there vs %.3f at the stated timing): the "
             "onsets in the events file appear to be %s by that much; check them (or --lag)", abs(t->best),
             abs(t->best) == 1 ? "" : "s", fabs(t->best * t->tr), t->best < 0 ? "earlier" : "later",
             t->eta2[t->best + K], t->eta2[K], t->best < 0 ? "late" : "early");
}
