/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gait-events.c - Foot Strikes that the file lacks, found from the kinematics (xai/domain-gait.h).
 *
 * Two detectors, as gait labs use them when force plates or manual marking leave events out:
 *   - markers (Zeni et al., Gait Posture 2008, doi:10.1016/j.gaitpost.2007.07.007): a Foot
 *     Strike is a maximum of the heel marker's distance in front of the sacrum along the walking
 *     direction, a Foot Off a minimum of the toe marker's; relative to the sacrum, so it works
 *     overground and on a treadmill; missing strikes are taken from them in the gaps and at the
 *     trial's ends, each a plausible stride from its neighbour;
 *   - angles (no markers exported): the sagittal hip and knee angles around the trial's own
 *     Foot Strikes make a template of that side's strike, and a missing strike is where the
 *     angles inside the gap match it best (least squares over a window of half a stride).
 *     A match much worse than the file's own strikes is refused: the gap stays and its joined
 *     stride is skipped as before.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "xai/domain-gait.h"

const char *const xai_gait_events_names[3] = {"auto", "file", "kinematic"};

#define RECOVERED_DESC "recovered from kinematics"
/* Half-width of the matched window, as a fraction of the stride: loading response and the
   end of swing, where the hip and knee pattern pins the strike. */
#define MATCH_HALF 0.25
/* Search range around the expected strike (fraction of the stride). */
#define SEARCH_HALF 0.3
/* A match may cost at most this many times the median cost at the file's own strikes. */
#define MATCH_TOLERANCE 4.0
/* Strides outside these bounds (s) are no walking (running strides are about 0.7 s, the
   slowest patient walks under 3 s): the events are left as they are. */
#define MIN_STRIDE_S 0.3
#define MAX_STRIDE_S 5.0
/* A stride sampled by fewer frames has no angle pattern to match (and a search stride by
   stride through a long trial at such a rate would not end in useful time). */
#define MIN_STRIDE_FRAMES 10.0

int xai_gait_events_parse(const char *s)
{
    for (int i = 0; s && i < 3; i++)
        if (!strcmp(s, xai_gait_events_names[i]))
            return i;
    return -1;
}

/* Linear interpolation of point @p idx, component @p comp at time @p t; NaN outside the data. */
static double point_at(const xai_c3d *c, int idx, int comp, double t)
{
    double u = t * c->point_rate + 1.0 - (double)c->first_frame;
    if (!(u >= 0) || u > (double)(c->frames - 1))
        return NAN;
    int64_t f = (int64_t)floor(u);
    if (f >= c->frames - 1)
        f = c->frames - 2 >= 0 ? c->frames - 2 : 0;
    double w = u - (double)f;
    const float *p = c->points + ((size_t)f * (size_t)c->npoints + (size_t)idx) * 3 + (size_t)comp;
    if (c->frames < 2)
        return p[0];
    const float *q = p + (size_t)c->npoints * 3;
    return (1 - w) * p[0] + w * q[0];
}

/* The sorted Foot Strike times of one side (malloc'ed), their count in *n. */
static double *side_strikes(const xai_c3d *c, const char *side, int *n)
{
    double *t = malloc(sizeof *t * (size_t)(c->nevents + 1));
    *n = 0;
    for (int e = 0; t && e < c->nevents; e++)
        if (!strcasecmp(c->events[e].label, "Foot Strike") && !strcasecmp(c->events[e].context, side))
            t[(*n)++] = c->events[e].time_s;
    if (t && *n > 1)
        gsl_sort(t, 1, (size_t)*n);
    return t;
}

/* The stride of a side whose strikes may lack some: the lower quartile of the intervals
 * (a missed strike doubles an interval, so most of the short ones are true strides) gives the
 * count of strides in each interval, and the median interval per stride is the stride. 0 when
 * there are fewer than two intervals. */
static double robust_stride(const double *t, int n)
{
    if (n < 3)
        return 0;
    double *d = malloc(sizeof *d * (size_t)(n - 1));
    if (!d)
        return 0;
    for (int i = 0; i + 1 < n; i++)
        d[i] = t[i + 1] - t[i];
    gsl_sort(d, 1, (size_t)(n - 1));
    double q = gsl_stats_quantile_from_sorted_data(d, 1, (size_t)(n - 1), 0.25);
    for (int i = 0; i + 1 < n; i++) {
        double k = q > 0 ? round(d[i] / q) : 1;
        d[i] /= k >= 1 ? k : 1;
    }
    gsl_sort(d, 1, (size_t)(n - 1));
    double m = gsl_stats_median_from_sorted_data(d, 1, (size_t)(n - 1));
    free(d);
    return m >= MIN_STRIDE_S && m <= MAX_STRIDE_S ? m : 0;
}

/* ------------------------------------------------------------------ angle template */

#define TPL_N 51 /* samples of the matched window */

typedef struct {
    const xai_c3d *c;
    int idx[2];            /* sagittal hip and knee angle of the side */
    double stride;
    double tpl[2][TPL_N];  /* mean angle around the side's strikes, window [-h, h] strides */
} strike_template;

/* The angles of the window around a strike at @p s into v[2][TPL_N]; -1 when it leaves the data. */
static int window_at(const strike_template *st, double s, double v[2][TPL_N])
{
    for (int ch = 0; ch < 2; ch++)
        for (int i = 0; i < TPL_N; i++) {
            double t = s + st->stride * MATCH_HALF * (2.0 * i / (TPL_N - 1) - 1.0);
            v[ch][i] = point_at(st->c, st->idx[ch], 0, t);
            if (!isfinite(v[ch][i]))
                return -1;
        }
    return 0;
}

/* Mean squared difference to the template of a strike at @p s (INFINITY off the data). */
static double match_cost(const strike_template *st, double s)
{
    double v[2][TPL_N], e = 0;
    if (window_at(st, s, v) != 0)
        return INFINITY;
    for (int ch = 0; ch < 2; ch++)
        for (int i = 0; i < TPL_N; i++)
            e += (v[ch][i] - st->tpl[ch][i]) * (v[ch][i] - st->tpl[ch][i]);
    return e / (2 * TPL_N);
}

/* A file strike that opens or closes a stride of plausible length: its window is a true strike. */
static int regular_strike(const double *t, int n, int i, double stride)
{
    double lo = XAI_GAIT_STRIDE_LO * stride, hi = XAI_GAIT_STRIDE_HI * stride;
    return (i > 0 && t[i] - t[i - 1] >= lo && t[i] - t[i - 1] <= hi) ||
           (i + 1 < n && t[i + 1] - t[i] >= lo && t[i + 1] - t[i] <= hi);
}

/* Template from the side's regular strikes, and the median cost of those strikes in *ref.
 * -1 when the side has no such strike with data around it. */
static int build_template(strike_template *st, const double *t, int n, double *ref)
{
    int used = 0;
    double v[2][TPL_N];
    memset(st->tpl, 0, sizeof st->tpl);
    for (int i = 0; i < n; i++) {
        if (!regular_strike(t, n, i, st->stride) || window_at(st, t[i], v) != 0)
            continue;
        for (int ch = 0; ch < 2; ch++)
            for (int k = 0; k < TPL_N; k++)
                st->tpl[ch][k] += v[ch][k];
        used++;
    }
    if (used == 0)
        return -1;
    for (int ch = 0; ch < 2; ch++)
        for (int k = 0; k < TPL_N; k++)
            st->tpl[ch][k] /= used;
    double *cost = malloc(sizeof *cost * (size_t)used);
    int m = 0;
    for (int i = 0; cost && i < n; i++) {
        double e = regular_strike(t, n, i, st->stride) ? match_cost(st, t[i]) : INFINITY;
        if (isfinite(e))
            cost[m++] = e;
    }
    if (m > 0)
        gsl_sort(cost, 1, (size_t)m);
    *ref = m > 0 ? gsl_stats_median_from_sorted_data(cost, 1, (size_t)m) : 0;
    free(cost);
    return m > 0 ? 0 : -1;
}

/* The best strike time in [lo, hi] on the frame grid, refined by a parabola through the
 * neighbouring costs; its cost in *cost. */
static double best_match(const strike_template *st, double lo, double hi, double *cost)
{
    double dt = 1.0 / st->c->point_rate, best = NAN, bc = INFINITY;
    /* never more than the trial's frames; NaN bounds give no steps */
    double span = floor((hi - lo) / dt);
    int64_t steps = span >= 0 && span <= (double)st->c->frames ? (int64_t)span : -1;
    for (int64_t k = 0; k <= steps; k++) {
        double s = lo + (double)k * dt, e = match_cost(st, s);
        if (e < bc) {
            bc = e;
            best = s;
        }
    }
    *cost = bc;
    if (!isfinite(bc))
        return NAN;
    double a = match_cost(st, best - dt), b = match_cost(st, best + dt);
    double den = a - 2 * bc + b;
    if (isfinite(a) && isfinite(b) && den > 0)
        best += 0.5 * dt * (a - b) / den;
    return best;
}

/* Appends a recovered Foot Strike (EVENT group, described as recovered). */
static xai_status add_recovered(xai_c3d *c, const char *label, const char *side, double t)
{
    xai_status st = xai_c3d_add_event(c, label, side, t, XAI_C3D_EVENT_GROUP);
    if (st != XAI_OK)
        return st;
    xai_c3d_event *e = &c->events[c->nevents - 1];
    free(e->description);
    e->description = strdup(RECOVERED_DESC);
    return e->description ? XAI_OK : xai_error_set(XAI_ENOMEM, "out of memory");
}

/* Fill the gaps of one side's strikes (intervals of about two strides or more) from the angles. */
static xai_status fill_from_angles(xai_c3d *c, const char *side, const double *t, int n, double stride, int *added)
{
    strike_template st = {.c = c, .stride = stride};
    char hip[32], knee[32];
    snprintf(hip, sizeof hip, "%cHipAngles", side[0]);
    snprintf(knee, sizeof knee, "%cKneeAngles", side[0]);
    st.idx[0] = xai_c3d_point_index(c, hip);
    st.idx[1] = xai_c3d_point_index(c, knee);
    double ref;
    if (!(stride * c->point_rate >= MIN_STRIDE_FRAMES) || st.idx[0] < 0 || st.idx[1] < 0 ||
        build_template(&st, t, n, &ref) != 0)
        return XAI_OK; /* nothing to match against: the gaps stay */
    double limit = MATCH_TOLERANCE * (ref > 1e-6 ? ref : 1e-6);
    xai_status rc = XAI_OK;
    /* before the first and after the last strike: a stride further, as long as the data and
       the match allow (a missed first or last strike loses a whole cycle too) */
    for (int dir = -1; dir <= 1 && rc == XAI_OK; dir += 2)
        for (double from = dir < 0 ? t[0] : t[n - 1];;) {
            double cost, s = best_match(&st, from + dir * stride - SEARCH_HALF * stride,
                                        from + dir * stride + SEARCH_HALF * stride, &cost);
            /* each step must move on by at least half a stride, so the walk ends at the data's end */
            if (!isfinite(s) || cost > limit || dir * (s - from) < 0.5 * stride ||
                (rc = add_recovered(c, "Foot Strike", side, s)) != XAI_OK)
                break;
            (*added)++;
            from = s;
        }
    for (int i = 0; rc == XAI_OK && i + 1 < n; i++) {
        double d = t[i + 1] - t[i];
        double kd = round(d / stride) - 1; /* strikes missing in this interval */
        /* written so that a NaN time (an event the file gives as NaN) skips the interval too */
        if (!(d > XAI_GAIT_STRIDE_HI * stride) || !(kd >= 1) || !(kd * stride * c->point_rate <= (double)c->frames))
            continue;
        int k = (int)kd;
        for (int j = 1; j <= k; j++) {
            double e = t[i] + d * j / (k + 1), cost;
            double s = best_match(&st, e - SEARCH_HALF * stride, e + SEARCH_HALF * stride, &cost);
            if (!isfinite(s) || cost > limit)
                continue;
            if ((rc = add_recovered(c, "Foot Strike", side, s)) != XAI_OK)
                break;
            (*added)++;
        }
    }
    return rc;
}

/* ------------------------------------------------------------------ markers (Zeni et al.) */

typedef struct {
    int heel, toe, sacr, lpsi, rpsi;
    double dir[2]; /* walking direction in the horizontal (X, Y) plane, unit length */
} foot_markers;

static int first_point(const xai_c3d *c, char side, const char *const *names)
{
    for (int i = 0; names[i]; i++) {
        char l[16];
        snprintf(l, sizeof l, "%c%s", side, names[i]);
        int k = side ? xai_c3d_point_index(c, l) : xai_c3d_point_index(c, names[i]);
        if (k >= 0)
            return k;
    }
    return -1;
}

/* The sacrum at frame f (SACR, else the midpoint of the posterior iliac spines), component k. */
static double sacrum(const xai_c3d *c, const foot_markers *m, int64_t f, int k)
{
    const float *p = c->points + (size_t)f * (size_t)c->npoints * 3;
    if (m->sacr >= 0)
        return p[(size_t)m->sacr * 3 + (size_t)k];
    return 0.5 * (p[(size_t)m->lpsi * 3 + (size_t)k] + p[(size_t)m->rpsi * 3 + (size_t)k]);
}

/* The markers of one side and the walking direction: the foot's long axis (toe minus heel)
 * averaged over the trial, horizontal (Z up, as Vicon and most labs write). -1 without them. */
static int find_markers(const xai_c3d *c, char side, foot_markers *m)
{
    static const char *const heel[] = {"HEE", "CAL", "HEEL", NULL}, *const toe[] = {"TOE", "MT2", NULL};
    static const char *const sac[] = {"SACR", "SACRUM", "V.Sacral", NULL};
    m->heel = first_point(c, side, heel);
    m->toe = first_point(c, side, toe);
    m->sacr = first_point(c, 0, sac);
    m->lpsi = xai_c3d_point_index(c, "LPSI");
    m->rpsi = xai_c3d_point_index(c, "RPSI");
    if (m->heel < 0 || m->toe < 0 || (m->sacr < 0 && (m->lpsi < 0 || m->rpsi < 0)))
        return -1;
    double v[2] = {0, 0};
    for (int64_t f = 0; f < c->frames; f++) {
        const float *p = c->points + (size_t)f * (size_t)c->npoints * 3;
        for (int k = 0; k < 2; k++) {
            double d = p[(size_t)m->toe * 3 + (size_t)k] - p[(size_t)m->heel * 3 + (size_t)k];
            if (isfinite(d))
                v[k] += d;
        }
    }
    double len = hypot(v[0], v[1]);
    if (!(len > 0))
        return -1;
    m->dir[0] = v[0] / len;
    m->dir[1] = v[1] / len;
    return 0;
}

/* Distance of marker @p idx in front of the sacrum along the walking direction at each frame. */
static double *ap_distance(const xai_c3d *c, const foot_markers *m, int idx)
{
    double *d = malloc(sizeof *d * (size_t)(c->frames ? c->frames : 1));
    for (int64_t f = 0; d && f < c->frames; f++) {
        const float *p = c->points + (size_t)f * (size_t)c->npoints * 3;
        d[f] = 0;
        for (int k = 0; k < 2; k++)
            d[f] += (p[(size_t)idx * 3 + (size_t)k] - sacrum(c, m, f, k)) * m->dir[k];
    }
    return d;
}

/* Frames where @p sign * d is the largest within +-w frames: the strikes (sign 1, heel) or
 * foot offs (sign -1, toe). The times go to t[*n]. Within w of the data's first or last frame
 * the window is cut there when @p edge > 0 and at least @p edge frames confirm the extremum on
 * the cut side. */
static int extrema(const xai_c3d *c, const double *d, int sign, int64_t w, int64_t edge, double *t, int cap)
{
    int n = 0;
    for (int64_t f = 1; f + 1 < c->frames && n < cap; f++) {
        if (!isfinite(d[f]))
            continue;
        int top = 1;
        for (int64_t g = f - w; top && g <= f + w; g++)
            if (g >= 0 && g < c->frames && g != f && isfinite(d[g]) &&
                (sign * d[g] > sign * d[f] || (sign * d[g] == sign * d[f] && g < f)))
                top = 0;
        /* a maximum at the edge of the data or of a gap may lie outside it */
        int64_t lo = f - w >= 0 ? f - w : edge > 0 && f >= edge ? 0 : -1;
        int64_t hi = f + w < c->frames ? f + w : edge > 0 && c->frames - 1 - f >= edge ? c->frames - 1 : -1;
        if (top && lo >= 0 && hi >= 0 && isfinite(d[lo]) && isfinite(d[hi]))
            t[n++] = ((double)(f + c->first_frame) - 1.0) / c->point_rate;
    }
    return n;
}

/* Foot Strikes (heel) or Foot Offs (toe) of one side from the markers, into *t (malloc'ed);
 * @p edge as extrema()'s. */
static int marker_events(const xai_c3d *c, char side, int toe, int64_t edge, double **t)
{
    foot_markers m;
    *t = NULL;
    if (find_markers(c, side, &m) != 0)
        return -1;
    double *d = ap_distance(c, &m, toe ? m.toe : m.heel);
    *t = malloc(sizeof **t * (size_t)(c->frames / 2 + 1));
    if (!d || !*t) {
        free(d);
        return -1;
    }
    /* two events of a side are at least ~0.8 s apart even in fast walking: +-0.35 s */
    double wd = 0.35 * c->point_rate;
    int64_t w = wd > 0 && wd < (double)c->frames ? (int64_t)lround(wd) : 0;
    /* shorter than a window (or a rate that gives none): no extremum can be told */
    if (!(wd < (double)c->frames) || 2 * w + 1 >= c->frames) {
        free(d);
        return 0;
    }
    int n = extrema(c, d, toe ? -1 : 1, w > 0 ? w : 1, edge < w ? edge : w, *t, (int)(c->frames / 2));
    free(d);
    return n;
}

/* The trial's ends of one side: before its first and after its last strike, the marker strike a
 * plausible stride from the strike next to it, walking outwards strike by strike (each one closes
 * a whole stride inside the data, as the markers' extrema lie inside it; a missed first or last
 * strike loses a whole cycle too). */
static xai_status markers_at_ends(xai_c3d *c, const char *side, const double *t, int n, double stride,
                                  const double *mk, int nm, int *added)
{
    double lo = XAI_GAIT_STRIDE_LO * stride, hi = XAI_GAIT_STRIDE_HI * stride;
    for (int dir = -1; dir <= 1; dir += 2)
        for (double from = dir < 0 ? t[0] : t[n - 1];;) {
            int best = -1;
            for (int j = 0; j < nm; j++) {
                double d = dir * (mk[j] - from); /* > 0 outwards */
                if (d >= lo && d <= hi && (best < 0 || fabs(d - stride) < fabs(dir * (mk[best] - from) - stride)))
                    best = j;
            }
            if (best < 0)
                break;
            xai_status rc = add_recovered(c, "Foot Strike", side, mk[best]);
            if (rc != XAI_OK)
                return rc;
            (*added)++;
            from = mk[best]; /* moves on by at least lo > 0: the walk ends */
        }
    return XAI_OK;
}

/* The file's gaps of one side filled by the marker strikes inside them (more than a third of a
 * stride from the file's strikes), then the trial's ends. */
static xai_status fill_from_markers(xai_c3d *c, const char *side, const double *t, int n, double stride,
                                    const double *mk, int nm, int *added)
{
    for (int j = 0; j < nm; j++) {
        int inside = 0, near = 0;
        for (int i = 0; i < n; i++) {
            near |= fabs(mk[j] - t[i]) < stride / 3;
            inside |= i + 1 < n && mk[j] > t[i] && mk[j] < t[i + 1] && t[i + 1] - t[i] > XAI_GAIT_STRIDE_HI * stride;
        }
        if (inside && !near) {
            xai_status rc = add_recovered(c, "Foot Strike", side, mk[j]);
            if (rc != XAI_OK)
                return rc;
            (*added)++;
        }
    }
    return markers_at_ends(c, side, t, n, stride, mk, nm, added);
}

/* Drops the file's events of @p label (kinematic mode replaces them). */
static void drop_events(xai_c3d *c, const char *label)
{
    int k = 0;
    for (int e = 0; e < c->nevents; e++) {
        if (!strcasecmp(c->events[e].label, label)) {
            free(c->events[e].label);
            free(c->events[e].context);
            free(c->events[e].description);
            continue;
        }
        c->events[k++] = c->events[e];
    }
    c->nevents = k;
}

/* --events kinematic: every Foot Strike and Foot Off from the markers. */
static xai_status events_from_markers(xai_c3d *c, int *added)
{
    double *t[2][2] = {{NULL, NULL}, {NULL, NULL}};
    int n[2][2];
    xai_status st = XAI_OK;
    for (int s = 0; s < 2; s++)
        for (int toe = 0; toe < 2; toe++)
            if ((n[s][toe] = marker_events(c, s ? 'R' : 'L', toe, 0, &t[s][toe])) < 0)
                st = xai_error_set(XAI_EINVAL, "--events kinematic needs heel (HEE/CAL), toe (TOE) and sacrum "
                                   "(SACR, or LPSI and RPSI) markers on both sides; the file lacks them");
    if (st == XAI_OK) {
        drop_events(c, "Foot Strike");
        drop_events(c, "Foot Off");
    }
    for (int s = 0; st == XAI_OK && s < 2; s++)
        for (int toe = 0; st == XAI_OK && toe < 2; toe++)
            for (int i = 0; st == XAI_OK && i < n[s][toe]; i++) {
                st = add_recovered(c, toe ? "Foot Off" : "Foot Strike", s ? "Right" : "Left", t[s][toe][i]);
                *added += !toe && st == XAI_OK;
            }
    for (int s = 0; s < 2; s++)
        for (int toe = 0; toe < 2; toe++)
            free(t[s][toe]);
    return st;
}

/* --events auto: the gaps of each side's strikes filled, from markers when the file has them,
 * else from the angle template. */
static xai_status fill_gaps(xai_c3d *c, int *added)
{
    for (int s = 0; s < 2; s++) {
        const char *side = s ? "Right" : "Left";
        int n;
        double *t = side_strikes(c, side, &n);
        if (!t)
            return xai_error_set(XAI_ENOMEM, "out of memory");
        double stride = robust_stride(t, n), *mk = NULL;
        xai_status st = XAI_OK;
        /* at the trial's ends a strike that the data confirm over the match window of the angles
           (a quarter stride) is taken; not at rates too low for a stride to have a pattern */
        double ed = MATCH_HALF * stride * c->point_rate;
        int64_t edge = stride * c->point_rate >= MIN_STRIDE_FRAMES && ed < (double)c->frames ? (int64_t)lround(ed) : 0;
        int nm = stride > 0 || n < 2 ? marker_events(c, side[0], 0, edge, &mk) : -1;
        if (n < 2) /* the file gives the side no stride: the markers give all its strikes */
            for (int j = 0; st == XAI_OK && j < nm; j++)
                if (n == 0 || fabs(mk[j] - t[0]) > 0.3) {
                    st = add_recovered(c, "Foot Strike", side, mk[j]);
                    *added += st == XAI_OK;
                }
        if (stride > 0)
            st = nm >= 0 ? fill_from_markers(c, side, t, n, stride, mk, nm, added)
                         : fill_from_angles(c, side, t, n, stride, added);
        free(mk);
        free(t);
        if (st != XAI_OK)
            return st;
    }
    return XAI_OK;
}

xai_status xai_gait_recover_events(xai_c3d *c, int mode, int *recovered)
{
    *recovered = 0;
    if (!c || mode < 0 || mode > 2)
        return xai_error_set(XAI_EINVAL, "gait events: bad arguments");
    if (mode == XAI_GAIT_EVENTS_FILE || c->frames < 3 || !c->points)
        return XAI_OK;
    return mode == XAI_GAIT_EVENTS_KINEMATIC ? events_from_markers(c, recovered) : fill_gaps(c, recovered);
}

int xai_gait_event_recovered(const xai_c3d_event *e)
{
    return e->description && !strcmp(e->description, RECOVERED_DESC);
}
