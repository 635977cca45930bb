/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gen_gait.c - synthetic overground walking trials with a planted ground truth, written as
 * C3D files with Plug-in Gait style angle outputs and Foot Strike / Foot Off events, for
 * testing subject identification and its explanations (Horst et al., Sci Rep 2019,
 * doi:10.1038/s41598-019-38748-8).
 *
 * Model (all seeded and deterministic):
 *   - points L/R{Pelvis,Hip,Knee,Ankle,FootProgress}Angles; X, Y, Z = sagittal, frontal,
 *     transverse (YXZ Cardan convention of Plug-in Gait), in degrees, at 100 Hz;
 *   - a shared normative curve per joint and plane over the cycle (sums of periodic
 *     Gaussians shaped like adult gait: knee flexion peaks of ~15 deg in loading response
 *     and ~60 deg in swing, and so on);
 *   - the planted subject signature: subject k adds a raised-cosine bump (12 deg sagittal, 6 deg
 *     frontal/transverse, where the normative variability is smaller) to ONE
 *     joint and plane over ONE 20 %-wide window of the cycle, on both sides (table
 *     `signature` below; beyond 12 subjects a formula). Nothing else differs between
 *     subjects, so that region is the only evidence for the subject;
 *   - the planted condition: in "brace" trials (runs 2 and 4) FootProgressAngles (transverse)
 *     gets -8 deg over 0-60 % on both sides (more toe-out); subjects are balanced across
 *     conditions, so it carries no subject information;
 *   - nuisance: per trial and channel an offset N(0, 0.5 deg) (marker placement); per cycle
 *     an amplitude factor 1+N(0, 0.03), a phase shift N(0, 0.4 %), three random slow
 *     sinusoids (0.5 deg each); white noise 0.3 deg per sample; cycle time 1.0-1.2 s per
 *     trial with 2 % jitter per cycle; stance (Foot Off) at 60-62 %.
 * Events: CYCLES+1 Foot Strikes per side (CYCLES full cycles), right strikes half a cycle
 * after the left ones, Foot Off after each strike, all in the EVENT group.
 *
 * Layout: OUTDIR/sub-XX/ses-YY/sub-XX_ses-YY_task-walk_acq-{normal,brace}_run-ZZ.c3d; runs
 * 1..TRIALS, the first ceil(TRIALS/2)+... in ses-01 (runs 1-3 of 5), the rest in ses-02.
 * OUTDIR/truth.tsv lists the planted regions: kind (subject|condition), label, variable,
 * component (0 sagittal, 1 frontal, 2 transverse), component_name, pct_start, pct_end,
 * amplitude_deg, sides.
 *
 * With --missing-events, OUTDIR/missed_events.tsv lists the undetected strikes (file, side,
 * true time in s).
 *
 * --nuisance realistic: per-trial marker offsets N(0, 4 deg), per-session gains, walking speed
 * (cycle time and amplitude), the signature on one side only (datasets/gait/README.md).
 *
 * Usage: gen_gait [--nuisance none|realistic] [--seed S] [--subjects N] [--trials T] [--cycles C]
 *                 [--rate HZ] [--offset-sd DEG] [--missing-events P] [--event-jitter S]
 *                 [--signature-shift PCT] [--drop-variable JOINT] [--sides one|both]
 *                 [--markers none|foot] OUTDIR
 * --markers foot also writes heel, toe and sacrum markers (LHEE, LTOE, RHEE, RTOE, SACR, in
 * mm), so Foot Strikes can be found from them (Zeni et al. 2008) as from real marker data.
 * The seven before it vary what an independent author might choose differently (sampling rate, size of
 * the marker offsets, undetected Foot Strikes and noisy event times, where the signatures lie,
 * which variables are exported, one- or two-sided signatures); their defaults give the original data.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xai/c3d.h"

#define PI 3.14159265358979323846
#define NJ 5 /* joints */
#define NBUMP 3

static const char *const joints[NJ] = {"PelvisAngles", "HipAngles", "KneeAngles", "AnkleAngles",
                                       "FootProgressAngles"};
static const char *const planes[3] = {"sagittal", "frontal", "transverse"};
#define NMARK 5 /* --markers foot */
static const char *const marker_names[NMARK] = {"LHEE", "LTOE", "RHEE", "RTOE", "SACR"};

/* planted subject signatures: joint index, plane, window start (% of cycle), amplitude */
static const struct {
    int joint, plane, start;
    double amp;
} signature[12] = {
    {2, 0, 60, 12}, {2, 0, 10, 12}, {1, 0, 40, 12}, {1, 0, 75, 12}, {3, 0, 40, 12}, {3, 0, 5, 12},
    {2, 1, 60, 6},  {1, 1, 10, 6},  {3, 2, 30, 6},  {2, 2, 40, 6},  {1, 2, 60, 6},  {2, 0, 30, -12},
};
#define WINDOW 20

/* deterministic random numbers: rng_state, rng_u64, rng_uniform, rng_normal */
#define GEN_NAME "gen_gait"
#include "../gen-args.h"
#include "../gen-rng.h"

/* What an independent author of such data might choose differently (options of the same names);
   the defaults give the original data. */
static struct {
    double rate;      /* --rate: sampling rate, Hz */
    double offset_sd; /* --offset-sd: per-trial marker offsets of the realistic mode, deg */
    double miss;      /* --missing-events: probability that a Foot Strike was not detected */
    double jitter;    /* --event-jitter: SD of the event times (force plate, detection), s */
    int shift;        /* --signature-shift: % of the cycle added to every signature window */
    int drop;         /* --drop-variable: joint not exported, or -1 */
    int both;         /* --sides both: realistic-mode signatures on both sides */
    int markers;      /* --markers foot: heel, toe and sacrum trajectories too */
    FILE *missed;     /* OUTDIR/missed_events.tsv: where the undetected strikes were (the truth
                         for event recovery), open while --missing-events > 0 */
} var = {100.0, 4.0, 0.0, 0.0, 0, -1, 0, 0, NULL};

static void subject_signature(int k, int *joint, int *plane, int *start, double *amp)
{
    if (k < 12) {
        *joint = signature[k].joint;
        *plane = signature[k].plane;
        *start = signature[k].start;
        *amp = signature[k].amp;
    } else {
        *joint = 1 + k % 3;
        *plane = (k / 3) % 3;
        *start = (k * 37) % 80;
        *amp = (k % 2) ? -12 : 12;
    }
    *start = (*start + var.shift) % (100 - WINDOW);
}

/* periodic Gaussian bump at mu with width s, p in [0, 1) */
static double g(double p, double mu, double s)
{
    double d = fabs(p - mu);
    if (d > 0.5)
        d = 1.0 - d;
    return exp(-0.5 * d * d / (s * s));
}

/* the normative curve of joint j, plane c at cycle phase p in [0, 1) */
static double base_curve(int j, int c, double p)
{
    double w = 2 * PI * p;
    switch (j * 3 + c) {
    case 0: return 10 + 2 * cos(2 * w);
    case 1: return 4 * sin(w);
    case 2: return 5 * cos(w);
    case 3: return 12 + 22 * cos(w - 0.2 * PI);
    case 4: return 5 * sin(w) - 2;
    case 5: return 3 * cos(w);
    case 6: return 5 + 15 * g(p, 0.15, 0.06) + 55 * g(p, 0.72, 0.1);
    case 7: return 3 + 4 * g(p, 0.7, 0.1);
    case 8: return 5 * g(p, 0.75, 0.12) - 5 * g(p, 0.2, 0.1);
    case 9: return 2 - 6 * g(p, 0.06, 0.04) + 10 * g(p, 0.45, 0.1) - 22 * g(p, 0.63, 0.05);
    case 10: return 2 * g(p, 0.5, 0.2);
    case 11: return -5 + 3 * cos(w);
    case 12: return 10 * g(p, 0.6, 0.1);
    case 13: return 0.5;
    default: return -10 + 2 * sin(w);
    }
}

/* raised cosine over [start, start + WINDOW] % */
static double bump(double p, int start)
{
    double x = (p * 100 - start) / WINDOW;
    if (x <= 0 || x >= 1)
        return 0;
    return 0.5 * (1 - cos(2 * PI * x));
}

typedef struct {
    double scale, shift;
    double amp[NJ][3][NBUMP], freq[NJ][3][NBUMP], ph[NJ][3][NBUMP];
} cycle_noise;

static void draw_noise(cycle_noise *n)
{
    n->scale = 1 + 0.03 * rng_normal();
    n->shift = 0.004 * rng_normal();
    for (int j = 0; j < NJ; j++)
        for (int c = 0; c < 3; c++)
            for (int b = 0; b < NBUMP; b++) {
                n->amp[j][c][b] = 0.5 * rng_normal();
                n->freq[j][c][b] = 1 + (double)(rng_u64() % 3);
                n->ph[j][c][b] = 2 * PI * rng_uniform();
            }
}

static int mkdir_p(const char *dir)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* realistic-mode nuisances of one trial (all zero / one in the default mode) */
typedef struct {
    int on;                   /* realistic mode */
    double gain[2][NJ][3];    /* per-session gains (calibration, model scaling) */
    double offset[2][NJ][3];  /* per-trial marker-placement offsets, deg */
    double speed;             /* walking-speed factor: cycle time 1.1 / speed, amplitude 0.8 + 0.2 speed */
} trial_nuisance;

/* the position of joint j among the exported ones */
static int point_index(int j) { return var.drop >= 0 && j > var.drop ? j - 1 : j; }

/* the side that carries subject k's signature in the realistic mode: 0 left, 1 right */
static int signature_side(int k) { return k % 2; }

static void draw_session_gains(trial_nuisance *tn)
{
    for (int s = 0; s < 2; s++)
        for (int j = 0; j < NJ; j++)
            for (int c = 0; c < 3; c++)
                tn->gain[s][j][c] = exp(0.08 * rng_normal());
}

static void draw_trial_nuisance(trial_nuisance *tn)
{
    for (int s = 0; s < 2; s++)
        for (int j = 0; j < NJ; j++)
            for (int c = 0; c < 3; c++)
                tn->offset[s][j][c] = var.offset_sd * rng_normal();
    tn->speed = 0.85 + 0.3 * rng_uniform();
}

/* Gait cycles of one trial for both sides: index i+1 holds strike i; index 0 and ns+1 are the
   extrapolated ones around the data, so every frame falls inside a known cycle. */
typedef struct {
    int ns;                      /* recorded strikes per side */
    double *strike[2], *dur[2];  /* strike times and cycle durations, s */
    cycle_noise *noise[2];       /* per-cycle shape noise */
    double stance;               /* fraction of the cycle before foot off */
    double offset[2][NJ][3];     /* per-trial angle offsets, deg */
} trial_cycles;

static void free_cycles(trial_cycles *tc)
{
    for (int s = 0; s < 2; s++) {
        free(tc->strike[s]);
        free(tc->dur[s]);
        free(tc->noise[s]);
    }
}

/* The right side strikes half a cycle after the left; the draws keep their order (cycle timing,
   shape noise, stance, offsets) so a seed always gives the same trial. */
static int draw_cycles(trial_cycles *tc, int ncycles, double T)
{
    int ns = tc->ns = ncycles + 1;
    for (int s = 0; s < 2; s++) {
        tc->strike[s] = malloc(sizeof(double) * (size_t)(ns + 2));
        tc->dur[s] = malloc(sizeof(double) * (size_t)(ns + 2));
        tc->noise[s] = malloc(sizeof(cycle_noise) * (size_t)(ns + 2));
        if (!tc->strike[s] || !tc->dur[s] || !tc->noise[s])
            return -1;
    }
    double t = 0.3 + 0.1 * rng_uniform();
    for (int i = 0; i < ns + 1; i++) {
        tc->dur[0][i + 1] = T * (1 + 0.02 * rng_normal());
        tc->strike[0][i + 1] = t;
        t += tc->dur[0][i + 1];
    }
    tc->dur[0][0] = tc->dur[0][1];
    tc->strike[0][0] = tc->strike[0][1] - tc->dur[0][0];
    for (int i = 0; i < ns + 2; i++) {
        tc->dur[1][i] = tc->dur[0][i];
        tc->strike[1][i] = tc->strike[0][i] + 0.5 * tc->dur[0][i];
    }
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < ns + 2; i++)
            draw_noise(&tc->noise[s][i]);
    tc->stance = 0.60 + 0.02 * rng_uniform();
    for (int s = 0; s < 2; s++)
        for (int j = 0; j < NJ; j++)
            for (int c = 0; c < 3; c++)
                tc->offset[s][j][c] = 0.5 * rng_normal();
    return 0;
}

/* An empty C3D with the exported joints of both sides, labelled L... then R... */
static xai_c3d *new_trial_c3d(const char *subject, int nk, int64_t frames)
{
    xai_c3d *c3d = NULL;
    if (xai_c3d_new(2 * nk + (var.markers ? NMARK : 0), 0, frames, 0, var.rate, &c3d) != XAI_OK)
        return NULL;
    for (int m = 0; var.markers && m < NMARK; m++) {
        free(c3d->point_labels[2 * nk + m]);
        c3d->point_labels[2 * nk + m] = strdup(marker_names[m]);
    }
    free(c3d->subject);
    c3d->subject = strdup(subject);
    free(c3d->point_units);
    c3d->point_units = strdup("deg");
    for (int s = 0; s < 2; s++)
        for (int j = 0; j < NJ; j++) {
            char label[64];
            if (j == var.drop)
                continue;
            snprintf(label, sizeof label, "%c%s", s ? 'R' : 'L', joints[j]);
            free(c3d->point_labels[s * nk + point_index(j)]);
            c3d->point_labels[s * nk + point_index(j)] = strdup(label);
        }
    return c3d;
}

/* --markers foot: the markers of the foot-based event detection (Zeni et al., Gait Posture
   2008), in mm, walking along +X at a stride of 1.3 m: the heel is furthest in front of the
   sacrum at Foot Strike, the toe furthest behind it at Foot Off. No random draws, so the
   angles of a seed stay the same with or without them. */
static void fill_markers(xai_c3d *c3d, int first, const trial_cycles *tc)
{
    for (int64_t f = 0; f < c3d->frames; f++) {
        double tf = (double)f / var.rate;
        float *p = c3d->points + ((size_t)f * (size_t)c3d->npoints + (size_t)first) * 3;
        double sacr = 1300.0 * tf / tc->dur[0][1];
        for (int s = 0; s < 2; s++) {
            int i = 0;
            while (i + 1 < tc->ns + 2 && tc->strike[s][i + 1] <= tf)
                i++;
            double ph = 2 * PI * (tf - tc->strike[s][i]) / tc->dur[s][i], y = s ? -90.0 : 90.0;
            float *heel = p + 6 * s, *toe = heel + 3;
            heel[0] = (float)(sacr + 300 * cos(ph));
            toe[0] = (float)(sacr + 150 - 350 * cos(ph - 2 * PI * tc->stance));
            heel[1] = toe[1] = (float)y;
            heel[2] = (float)(60 + 40 * fmax(0, -cos(ph)));
            toe[2] = (float)(40 + 40 * fmax(0, -cos(ph - 2 * PI * tc->stance)));
        }
        p[12] = (float)sacr;
        p[13] = 0;
        p[14] = 1000;
    }
}

/* What shapes one trial's angles besides its cycles */
typedef struct {
    int k, braced;           /* subject index; brace condition */
    int sj, sp, ss;          /* the subject's signature: joint, plane, start % */
    double sa, ampf;         /* signature amplitude; speed-dependent amplitude factor */
    const trial_nuisance *tn;
} trial_shape;

/* One angle of side s at cycle phase p (pp: p with the cycle's timing noise) */
static double joint_angle(const trial_shape *sh, const trial_cycles *tc, const cycle_noise *n, int s,
                          int j, int c, double p, double pp)
{
    const trial_nuisance *tn = sh->tn;
    double v = sh->ampf * n->scale * base_curve(j, c, pp) + tc->offset[s][j][c];
    for (int b = 0; b < NBUMP; b++)
        v += n->amp[j][c][b] * sin(2 * PI * n->freq[j][c][b] * p + n->ph[j][c][b]);
    if (j == sh->sj && c == sh->sp && (!tn->on || var.both || s == signature_side(sh->k)))
        v += sh->sa * bump(p, sh->ss);
    if (sh->braced && j == 4 && c == 2 && p < 0.6 && (!tn->on || s == 1))
        v -= 8 * sin(PI * p / 0.6);
    if (tn->on)
        v = tn->gain[s][j][c] * v + tn->offset[s][j][c];
    return v + 0.3 * rng_normal();
}

static void fill_angles(xai_c3d *c3d, int nk, const trial_shape *sh, const trial_cycles *tc)
{
    for (int64_t f = 0; f < c3d->frames; f++) {
        double tf = (double)f / var.rate; /* frame f is at time f / rate (first frame 1) */
        for (int s = 0; s < 2; s++) {
            int i = 0;
            while (i + 1 < tc->ns + 2 && tc->strike[s][i + 1] <= tf)
                i++;
            double p = (tf - tc->strike[s][i]) / tc->dur[s][i];
            if (p < 0)
                p += 1; /* before the first extrapolated strike (right side) */
            const cycle_noise *n = &tc->noise[s][i];
            double pp = fmod(p + n->shift + 1.0, 1.0);
            for (int j = 0; j < NJ; j++)
                for (int c = 0; c < 3; c++) {
                    double v = joint_angle(sh, tc, n, s, j, c, p, pp);
                    if (j != var.drop)
                        c3d->points[((size_t)f * (size_t)c3d->npoints + (size_t)(s * nk + point_index(j))) * 3 + (size_t)c] =
                            (float)v;
                }
        }
    }
}

/* Foot strike and foot off of every recorded cycle, jittered and some strikes missing as asked */
static int add_gait_events(xai_c3d *c3d, const trial_cycles *tc, const char *name)
{
    for (int i = 1; i <= tc->ns; i++)
        for (int s = 0; s < 2; s++) {
            const char *ctx = s ? "Right" : "Left";
            double fs = tc->strike[s][i] + (var.jitter > 0 ? var.jitter * rng_normal() : 0);
            double fo = tc->strike[s][i] + tc->stance * tc->dur[s][i] +
                        (var.jitter > 0 ? var.jitter * rng_normal() : 0);
            int missed = var.miss > 0 && rng_uniform() < var.miss;
            if (missed && var.missed) /* the true strike, before any jitter */
                fprintf(var.missed, "%s\t%s\t%.4f\n", name, ctx, tc->strike[s][i]);
            if ((!missed && xai_c3d_add_event(c3d, "Foot Strike", ctx, fs, XAI_C3D_EVENT_GROUP) != XAI_OK) ||
                xai_c3d_add_event(c3d, "Foot Off", ctx, fo, XAI_C3D_EVENT_GROUP) != XAI_OK)
                return -1;
        }
    return 0;
}

static int write_trial(const char *path, const char *subject, int k, int braced, int ncycles,
                       const trial_nuisance *tn)
{
    trial_shape sh = {.k = k, .braced = braced, .tn = tn};
    subject_signature(k, &sh.sj, &sh.sp, &sh.ss, &sh.sa);
    double T = tn->on ? 1.1 / tn->speed * (1 + 0.03 * rng_normal()) : 1.0 + 0.2 * rng_uniform();
    sh.ampf = tn->on ? 0.8 + 0.2 * tn->speed : 1.0;
    trial_cycles tc = {0};
    if (draw_cycles(&tc, ncycles, T) != 0) {
        free_cycles(&tc);
        return -1;
    }
    double end = tc.strike[1][tc.ns] + 0.3;
    int64_t frames = (int64_t)ceil(end * var.rate) + 1;
    const int nk = var.drop >= 0 ? NJ - 1 : NJ; /* joints exported */
    xai_c3d *c3d = new_trial_c3d(subject, nk, frames);
    if (!c3d) {
        free_cycles(&tc);
        return -1;
    }
    fill_angles(c3d, nk, &sh, &tc);
    if (var.markers)
        fill_markers(c3d, 2 * nk, &tc);
    const char *slash = strrchr(path, '/');
    int rc = add_gait_events(c3d, &tc, slash ? slash + 1 : path);
    if (rc == 0 && xai_c3d_write(path, c3d, NULL) != XAI_OK)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "gen_gait: %s: %s\n", path, xai_last_error());
    xai_c3d_close(c3d);
    free_cycles(&tc);
    return rc;
}

static int write_truth(const char *dir, int nsub, int realistic)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/truth.tsv", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "kind\tlabel\tvariable\tcomponent\tcomponent_name\tpct_start\tpct_end\tamplitude_deg\tsides\n");
    for (int k = 0; k < nsub; k++) {
        int j, p, s;
        double a;
        subject_signature(k, &j, &p, &s, &a);
        const char *sides = !realistic || var.both ? "Left,Right" : signature_side(k) ? "Right" : "Left";
        fprintf(f, "subject\tsub-%02d\t%s\t%d\t%s\t%d\t%d\t%g\t%s\n", k + 1, joints[j], p, planes[p], s,
                s + WINDOW, a, sides);
    }
    fprintf(f, "condition\tbrace\t%s\t2\t%s\t0\t60\t-8\t%s\n", joints[4], planes[2],
            realistic ? "Right" : "Left,Right");
    return fclose(f) == 0 ? 0 : -1;
}

#define USAGE                                                                                            \
    "usage: gen_gait [--nuisance none|realistic] [--seed S] [--subjects N] [--trials T] [--cycles C]\n"    \
    "                [--rate HZ] [--offset-sd DEG] [--missing-events P] [--event-jitter S]\n"               \
    "                [--signature-shift PCT] [--drop-variable JOINT] [--sides one|both]\n"               \
    "                [--markers none|foot] OUTDIR\n"                                                   \
    "--seed, --subjects, --trials, --cycles 1..1000; --rate 50..2000, --offset-sd 0..30,\n"           \
    "--missing-events [0, 1), --event-jitter 0..0.2, --signature-shift 0..79; a bad or missing\n"     \
    "value exits with 2 before anything is written\n"

/* One of the variation options: 1 when @p a is one and @p v a valid value, -1 when @p a is one
   and @p v is not or is missing (message printed), 0 when @p a is none of them. */
static int parse_variation(const char *a, const char *v)
{
    int rc = 0;
    if (!strcmp(a, "--rate")) rc = gen_arg_real(a, v, 50, 2000, 0, &var.rate);
    else if (!strcmp(a, "--offset-sd")) rc = gen_arg_real(a, v, 0, 30, 0, &var.offset_sd);
    else if (!strcmp(a, "--missing-events")) rc = gen_arg_real(a, v, 0, 1, GEN_OPEN_HI, &var.miss);
    else if (!strcmp(a, "--event-jitter")) rc = gen_arg_real(a, v, 0, 0.2, 0, &var.jitter);
    else if (!strcmp(a, "--signature-shift")) rc = gen_arg_int(a, v, 0, 100 - WINDOW - 1, &var.shift);
    else if (!strcmp(a, "--markers") && v && (!strcmp(v, "none") || !strcmp(v, "foot")))
        var.markers = !strcmp(v, "foot");
    else if (!strcmp(a, "--sides") && v && (!strcmp(v, "one") || !strcmp(v, "both")))
        var.both = !strcmp(v, "both");
    else if (!strcmp(a, "--markers") || !strcmp(a, "--sides"))
        rc = gen_arg_invalid(a, v, !strcmp(a, "--markers") ? "none or foot" : "one or both");
    else if (!strcmp(a, "--drop-variable")) {
        var.drop = -1;
        for (int j = 0; j < NJ && v; j++)
            if (!strcmp(v, joints[j]))
                var.drop = j;
        rc = var.drop < 0 ? gen_arg_invalid(a, v, "a joint angle of the trials") : 0;
    } else
        return 0;
    return rc ? -1 : 1;
}

typedef struct {
    uint64_t seed;
    int nsub, ntrials, ncycles, realistic;
    const char *out;
} gait_options;

/* One of the integer options: 1 when @p a is one (its value stored), -1 when its value is
   invalid or missing (message printed), 0 when @p a is none of them. */
static int parse_count(gait_options *o, const char *a, const char *v)
{
    int seed, rc;
    if (!strcmp(a, "--seed")) {
        if ((rc = gen_arg_int(a, v, 1, 1000, &seed)) == 0)
            o->seed = (uint64_t)seed;
    } else if (!strcmp(a, "--subjects")) rc = gen_arg_int(a, v, 1, 1000, &o->nsub);
    else if (!strcmp(a, "--trials")) rc = gen_arg_int(a, v, 1, 1000, &o->ntrials);
    else if (!strcmp(a, "--cycles")) rc = gen_arg_int(a, v, 1, 1000, &o->ncycles);
    else
        return 0;
    return rc ? -1 : 1;
}

/* 0 when the command line is valid, else the exit code (a message or the usage printed) */
static int parse_args(int argc, char **argv, gait_options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int vrc = parse_count(o, a, v);
        if (vrc == 0)
            vrc = parse_variation(a, v);
        if (vrc < 0)
            return 2;
        if (vrc > 0) {
            i++;
        } else if (!strcmp(a, "--nuisance") && v && (!strcmp(v, "none") || !strcmp(v, "realistic"))) {
            o->realistic = !strcmp(argv[++i], "realistic");
        } else if (!strcmp(a, "--nuisance")) {
            gen_arg_invalid(a, v, "none or realistic");
            return 2;
        } else if (a[0] != '-' && !o->out) {
            o->out = a;
        } else {
            fprintf(stderr, USAGE);
            return 2;
        }
    }
    if (!o->out) {
        fprintf(stderr, USAGE);
        return 2;
    }
    return 0;
}

/* Trial r of subject k; its row of trials.tsv when @p trials is open */
static int write_subject_trial(const gait_options *o, int k, int r, FILE *trials)
{
    char subject[32];
    snprintf(subject, sizeof subject, "sub-%02d", k + 1);
    int first_session = (o->ntrials * 3 + 4) / 5; /* runs 1-3 of 5 in ses-01 */
    int ses = r <= first_session ? 1 : 2;
    trial_nuisance tn = {.on = o->realistic};
    if (o->realistic) { /* the same session gains for every trial of a session */
        rng_state = o->seed * 0x2545F4914F6CDD1Dull + (uint64_t)k * 7919ull + (uint64_t)ses;
        draw_session_gains(&tn);
    }
    rng_state = o->seed * 1000003ull + (uint64_t)k * 1009ull + (uint64_t)r;
    if (o->realistic)
        draw_trial_nuisance(&tn);
    int braced = r == 2 || r == 4;
    char dir[4096], path[8192];
    snprintf(dir, sizeof dir, "%s/%s/ses-%02d", o->out, subject, ses);
    if (mkdir_p(dir) != 0) {
        fprintf(stderr, "gen_gait: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s_ses-%02d_task-walk_acq-%s_run-%02d.c3d", dir, subject, ses,
             braced ? "brace" : "normal", r);
    if (write_trial(path, subject, k, braced, o->ncycles, &tn) != 0)
        return -1;
    if (trials)
        fprintf(trials, "%s\t%s\tses-%02d\t%d\t%.3f\t%.3f\n", strrchr(path, '/') + 1, subject, ses, r,
                tn.speed, 1.1 / tn.speed);
    return 0;
}

int main(int argc, char **argv)
{
    gait_options o = {.seed = 1, .nsub = 12, .ntrials = 5, .ncycles = 6};
    int urc = parse_args(argc, argv, &o);
    if (urc != 0)
        return urc;
    if (mkdir_p(o.out) != 0) {
        fprintf(stderr, "gen_gait: %s: %s\n", o.out, strerror(errno));
        return 1;
    }
    char tpath[4096], ttmp[4200];
    snprintf(tpath, sizeof tpath, "%s/trials.tsv", o.out);
    snprintf(ttmp, sizeof ttmp, "%s.tmp", tpath);
    FILE *trials = o.realistic ? fopen(ttmp, "w") : NULL;
    if (o.realistic && !trials) {
        fprintf(stderr, "gen_gait: %s: %s\n", ttmp, strerror(errno));
        return 1;
    }
    if (trials)
        fprintf(trials, "file\tsubject\tsession\trun\tspeed\tcycle_s\n");
    char mpath[4096], mtmp[4200];
    snprintf(mpath, sizeof mpath, "%s/missed_events.tsv", o.out);
    snprintf(mtmp, sizeof mtmp, "%s.tmp", mpath);
    if (var.miss > 0 && !(var.missed = fopen(mtmp, "w"))) {
        fprintf(stderr, "gen_gait: %s: %s\n", mtmp, strerror(errno));
        return 1;
    }
    if (var.missed)
        fprintf(var.missed, "file\tside\ttime_s\n");
    for (int k = 0; k < o.nsub; k++)
        for (int r = 1; r <= o.ntrials; r++)
            if (write_subject_trial(&o, k, r, trials) != 0) {
                if (trials)
                    fclose(trials);
                return 1;
            }
    if (var.missed && (fclose(var.missed) != 0 || rename(mtmp, mpath) != 0)) {
        fprintf(stderr, "gen_gait: %s: %s\n", mpath, strerror(errno));
        return 1;
    }
    if (trials && (fclose(trials) != 0 || rename(ttmp, tpath) != 0)) {
        fprintf(stderr, "gen_gait: %s: %s\n", tpath, strerror(errno));
        return 1;
    }
    if (write_truth(o.out, o.nsub, o.realistic) != 0) {
        fprintf(stderr, "gen_gait: %s/truth.tsv: cannot write\n", o.out);
        return 1;
    }
    return 0;
}
