/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gen_eeg.c - synthetic motor-imagery EEG with a planted ground truth, written as EDF+
 * (and optionally BrainVision) files with T0/T1/T2 annotations like PhysioNet's EEGMMIDB.
 *
 * Forward model (all sources seeded and deterministic; channels at 10-20/10-10 positions of
 * formats/domain/eeg-montage.c, source-to-channel weight exp(-a^2 / (2 * 0.30^2)) for the
 * great-circle angle a in radians):
 *   - background: per-channel 1/f noise (a sum of seven first-order low-pass processes with
 *     corner frequencies 0.5..32 Hz in octaves, equal variance, which gives a 1/f power
 *     spectrum between the corners) plus a common 1/f component;
 *   - sensorimotor rhythms: one source under C3 and one under C4, each with a mu (10-11 Hz)
 *     and a beta (20-22 Hz) narrow-band process (second-order resonators driven by noise);
 *   - the planted effect: event-related desynchronisation. During class "left" trials (T1)
 *     the C4 source's mu and beta amplitude drops to 30 % / 40 % (from 0.25 s to 4 s after
 *     onset, with 0.5 s ramps); during "right" trials (T2) the C3 source's does;
 *   - distractors that carry no class information: an occipital alpha source (Oz), eye
 *     blinks on frontal channels (about every 3-9 s, 80-150 uV, a Gaussian of sigma 80 ms,
 *     weights decaying from Fpz) and 50 Hz mains hum.
 * The ground-truth region is therefore FC3, C3, CP3 (weight >= 0.5 from the C3 source) and
 * FC4, C4, CP4: 6 of the 25 channels.
 * Trials: 4 s imagery (annotation T1 or T2, duration 4), then rest (T0), period 6-7 s,
 * classes balanced and shuffled per run.
 *
 * Usage: gen_eeg [--nuisance none|realistic] [--seed S] [--rate HZ] [--trials N] [--runs R]
 *                [--subject L] [--subjects N] [--sessions N] [--placement default|alt|beta]
 *                [--montage 32|64] [--task S] [--artefacts normal|strong] [--bdf] [--brainvision]
 *                [--events-tsv] OUTDIR
 * --nuisance realistic: several subjects and sessions, 32 channels, the planted effect on
 * FC6/T8/CP6/P8/P4 with C3/C4 decoys and the nuisances of real recordings, OUTDIR/truth.tsv
 * (see datasets/eeg/README.md and the realistic-mode section below); the placement, montage,
 * task and artefact options change that mode only.
 * Writes OUTDIR/sub-L_task-mi_run-R_eeg.edf (and .vhdr/.vmrk/.eeg with --brainvision, and a
 * BIDS sub-L_task-mi_run-R_events.tsv with trial_type left_hand/right_hand/rest and value
 * T1/T2/T0 with --events-tsv).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xai/domain-eeg.h"
#include "xai/edf.h"

#define PI 3.14159265358979323846

static const char *const channels[] = {"Fp1", "Fp2", "F7",  "F3",  "Fz",  "F4",  "F8",
                                       "FC3", "FCz", "FC4", "T7",  "C3",  "Cz",  "C4",
                                       "T8",  "CP3", "CPz", "CP4", "P7",  "P3",  "Pz",
                                       "P4",  "P8",  "O1",  "O2"};
#define NCH ((int)(sizeof channels / sizeof channels[0]))

/* deterministic random numbers: rng_state, rng_u64, rng_uniform, rng_normal */
#define GEN_NAME "gen_eeg"
#include "../gen-args.h"
#include "../gen-rng.h"

/* 1/f noise of unit variance into x[n] */
static void pink(double *x, int64_t n, double fs)
{
    static const double corners[] = {0.5, 1, 2, 4, 8, 16, 32};
    const int nk = (int)(sizeof corners / sizeof corners[0]);
    double state[7] = {0};
    double a[7], g[7];
    for (int k = 0; k < nk; k++) {
        double fc = corners[k] < 0.45 * fs ? corners[k] : 0.45 * fs;
        a[k] = exp(-2.0 * PI * fc / fs);
        g[k] = sqrt(1.0 - a[k] * a[k]);
        state[k] = rng_normal();
    }
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int k = 0; k < nk; k++) {
            state[k] = a[k] * state[k] + g[k] * rng_normal();
            s += state[k];
        }
        x[i] = s / sqrt((double)nk);
    }
}

/* narrow-band process around f0 Hz (resonator with pole radius r), scaled to unit variance */
static void narrowband(double *x, int64_t n, double fs, double f0, double r)
{
    double w = 2.0 * PI * f0 / fs, y1 = 0, y2 = 0, ss = 0;
    for (int64_t i = -512; i < n; i++) { /* burn-in */
        double y = 2.0 * r * cos(w) * y1 - r * r * y2 + rng_normal();
        y2 = y1;
        y1 = y;
        if (i >= 0) {
            x[i] = y;
            ss += y * y;
        }
    }
    double sd = sqrt(ss / (double)n);
    for (int64_t i = 0; i < n; i++)
        x[i] /= sd;
}

static double angle_between(const double a[3], const double b[3])
{
    double d = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    return acos(d > 1 ? 1 : d < -1 ? -1 : d);
}

/* ramp from 0 at t0 to 1 at t0+w, 1 until t1, back to 0 at t1+w */
static double plateau(double t, double t0, double t1, double w)
{
    if (t <= t0 || t >= t1 + w)
        return 0;
    if (t < t0 + w)
        return (t - t0) / w;
    if (t <= t1)
        return 1;
    return 1 - (t - t1) / w;
}

static int write_text_atomic(const char *path, const void *data, size_t len)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -1;
    fchmod(fd, 0644);
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    int ok = fwrite(data, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* BrainVision triplet: multiplexed IEEE float32, markers "Stimulus,T1" etc. */
static int write_brainvision(const char *dir, const char *base, const char *const *labels, int nch,
                             const float *data, int64_t n, double fs, const xai_edf_annotation *ann, size_t nann)
{
    char path[4096], *txt = NULL;
    size_t cap = 65536, len = 0;
    float *mux = malloc((size_t)n * (size_t)nch * sizeof *mux);
    txt = malloc(cap);
    if (!mux || !txt) {
        free(mux);
        free(txt);
        return -1;
    }
    for (int64_t i = 0; i < n; i++)
        for (int c = 0; c < nch; c++)
            mux[i * nch + c] = data[(int64_t)c * n + i];
    snprintf(path, sizeof path, "%s/%s.eeg", dir, base);
    int rc = write_text_atomic(path, mux, (size_t)n * (size_t)nch * sizeof *mux);
    free(mux);
    len += (size_t)snprintf(txt + len, cap - len,
                            "Brain Vision Data Exchange Header File Version 1.0\r\n"
                            "; written by gen_eeg (libxai datasets)\r\n\r\n[Common Infos]\r\n"
                            "Codepage=UTF-8\r\nDataFile=%s.eeg\r\nMarkerFile=%s.vmrk\r\n"
                            "DataFormat=BINARY\r\nDataOrientation=MULTIPLEXED\r\n"
                            "NumberOfChannels=%d\r\nSamplingInterval=%.6f\r\n\r\n[Binary Infos]\r\n"
                            "BinaryFormat=IEEE_FLOAT_32\r\n\r\n[Channel Infos]\r\n",
                            base, base, nch, 1e6 / fs);
    for (int c = 0; c < nch; c++)
        len += (size_t)snprintf(txt + len, cap - len, "Ch%d=%s,,1,\xC2\xB5V\r\n", c + 1, labels[c]);
    snprintf(path, sizeof path, "%s/%s.vhdr", dir, base);
    if (rc == 0)
        rc = write_text_atomic(path, txt, len);
    len = (size_t)snprintf(txt, cap,
                           "Brain Vision Data Exchange Marker File Version 1.0\r\n\r\n[Common Infos]\r\n"
                           "Codepage=UTF-8\r\nDataFile=%s.eeg\r\n\r\n[Marker Infos]\r\n"
                           "Mk1=New Segment,,1,1,0\r\n",
                           base);
    for (size_t k = 0; k < nann && len + 128 < cap; k++)
        len += (size_t)snprintf(txt + len, cap - len, "Mk%zu=Stimulus,%s,%lld,1,0\r\n", k + 2, ann[k].text,
                                (long long)llround(ann[k].onset_s * fs) + 1);
    snprintf(path, sizeof path, "%s/%s.vmrk", dir, base);
    if (rc == 0)
        rc = write_text_atomic(path, txt, len);
    free(txt);
    return rc;
}

typedef struct {
    int bv, events_tsv, bdf;
} output_opts;

/* BIDS events.tsv: trial_type in words, value as annotated */
static int write_events_tsv(const char *path, const xai_edf_annotation *ann, size_t nann)
{
    size_t cap = 128 + nann * 96, len = 0;
    char *txt = malloc(cap);
    if (!txt)
        return -1;
    len += (size_t)snprintf(txt, cap, "onset\tduration\ttrial_type\tvalue\n");
    for (size_t k = 0; k < nann; k++)
        len += (size_t)snprintf(txt + len, cap - len, "%.6f\t%.3f\t%s\t%s\n", ann[k].onset_s, ann[k].duration_s,
                                !strcmp(ann[k].text, "T1")   ? "left_hand"
                                : !strcmp(ann[k].text, "T2") ? "right_hand"
                                                             : "rest",
                                ann[k].text);
    int rc = write_text_atomic(path, txt, len);
    free(txt);
    return rc;
}

/* OUTDIR/BASE.edf (or .bdf), and with the options BASE minus "_eeg" + "_events.tsv" and the
   BrainVision triplet */
static int write_outputs(const char *outdir, const char *base, const char *const *labels, int nch,
                         const float *data, int64_t n, double fs, const xai_edf_annotation *ann, size_t nann,
                         const output_opts *o)
{
    const char *units[64];
    for (int c = 0; c < nch; c++)
        units[c] = "uV";
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%s", outdir, base, o->bdf ? "bdf" : "edf");
    xai_edf_write_spec spec = {.n_channels = nch, .n_samples = n, .sample_rate = fs, .labels = labels,
                               .units = units, .data = data, .annotations = ann, .n_annotations = nann,
                               .bdf = o->bdf, .recording = "libxai gen_eeg synthetic motor imagery"};
    if (xai_edf_write(path, &spec) != XAI_OK) {
        fprintf(stderr, "gen_eeg: %s: %s\n", path, xai_last_error());
        return -1;
    }
    if (o->events_tsv) {
        size_t bl = strlen(base) > 4 ? strlen(base) - 4 : strlen(base);
        snprintf(path, sizeof path, "%s/%.*s_events.tsv", outdir, (int)bl, base);
        if (write_events_tsv(path, ann, nann) != 0) {
            fprintf(stderr, "gen_eeg: %s: %s\n", path, strerror(errno));
            return -1;
        }
    }
    if (o->bv && write_brainvision(outdir, base, labels, nch, data, n, fs, ann, nann) != 0) {
        fprintf(stderr, "gen_eeg: %s/%s.vhdr: %s\n", outdir, base, strerror(errno));
        return -1;
    }
    return 0;
}

/* Trial onsets from @p lead s on, each followed by 2-3 s of rest, and a shuffled balanced class
   order; returns the end of the last rest */
static double draw_schedule(int trials, double lead, double task, double *onset, int *cls)
{
    double t = lead;
    for (int k = 0; k < trials; k++) {
        onset[k] = t;
        t += task + 2.0 + rng_uniform();
        cls[k] = k % 2;
    }
    for (int k = trials - 1; k > 0; k--) { /* Fisher-Yates */
        int j = (int)(rng_u64() % (uint64_t)(k + 1)), tmp = cls[k];
        cls[k] = cls[j];
        cls[j] = tmp;
    }
    return t;
}

/* The source time courses of a default-mode run, shared by every channel with spatial weights */
typedef struct {
    int64_t n;
    double fs, dur;
    double *mu3, *be3, *mu4, *be4; /* mu and beta rhythms under C3 and C4 */
    double *alpha, *common, *blink;
    double mains_phase;
} textbook_sources;

static void free_textbook_sources(textbook_sources *s)
{
    free(s->mu3);
    free(s->be3);
    free(s->mu4);
    free(s->be4);
    free(s->alpha);
    free(s->common);
    free(s->blink);
}

/* Blinks every 3-9 s, 80-150 uV Gaussians of 80 ms SD */
static void add_blinks(double *blink, int64_t n, double fs, double dur)
{
    for (double tb = 1.0 + 3.0 * rng_uniform(); tb < dur - 0.5; tb += 3.0 + 6.0 * rng_uniform()) {
        double amp = 80.0 + 70.0 * rng_uniform(), s = 0.08;
        int64_t i0 = (int64_t)((tb - 4 * s) * fs), i1 = (int64_t)((tb + 4 * s) * fs);
        for (int64_t i = i0 < 0 ? 0 : i0; i <= i1 && i < n; i++) {
            double d = (double)i / fs - tb;
            blink[i] += amp * exp(-d * d / (2 * s * s));
        }
    }
}

static int draw_textbook_sources(textbook_sources *s)
{
    size_t n = (size_t)s->n;
    s->mu3 = malloc(n * sizeof *s->mu3);
    s->be3 = malloc(n * sizeof *s->be3);
    s->mu4 = malloc(n * sizeof *s->mu4);
    s->be4 = malloc(n * sizeof *s->be4);
    s->alpha = malloc(n * sizeof *s->alpha);
    s->common = malloc(n * sizeof *s->common);
    s->blink = calloc(n, sizeof *s->blink);
    if (!s->mu3 || !s->be3 || !s->mu4 || !s->be4 || !s->alpha || !s->common || !s->blink)
        return -1;
    narrowband(s->mu3, s->n, s->fs, 10.0 + 0.5 * rng_uniform(), 0.985);
    narrowband(s->be3, s->n, s->fs, 20.0 + 2.0 * rng_uniform(), 0.975);
    narrowband(s->mu4, s->n, s->fs, 10.0 + 0.5 * rng_uniform(), 0.985);
    narrowband(s->be4, s->n, s->fs, 20.0 + 2.0 * rng_uniform(), 0.975);
    narrowband(s->alpha, s->n, s->fs, 9.5 + rng_uniform(), 0.99);
    pink(s->common, s->n, s->fs);
    add_blinks(s->blink, s->n, s->fs, s->dur);
    s->mains_phase = 2 * PI * rng_uniform();
    return 0;
}

/* Spatial weight of a source at @p src for a channel at @p pos: Gaussian in the angle between them.
   pow() rather than src_weight()'s a * a: the default data set was made with it, and the two
   can differ in the last bit. */
static double textbook_weight(const double pos[3], const char *src, double sd)
{
    double at[3];
    xai_eeg_montage_find(src, at, NULL);
    return exp(-pow(angle_between(pos, at), 2) / (2 * sd * sd));
}

/* Channel c: its own pink noise, the shared sources by distance, and the ERD of the imagery
   trials. erd3 is right-hand imagery (T2, C3), erd4 left (T1, C4). */
static void mix_textbook_channel(float *out, double *buf, int c, const textbook_sources *s, const double *onset,
                        const int *cls, int trials, double task)
{
    double pos[3];
    xai_eeg_montage_find(channels[c], pos, NULL);
    const double sig = 0.30;
    double w3 = textbook_weight(pos, "C3", sig), w4 = textbook_weight(pos, "C4", sig);
    double wo = textbook_weight(pos, "Oz", 0.4), wb = textbook_weight(pos, "Fpz", 0.45);
    pink(buf, s->n, s->fs);
    int k = 0;
    for (int64_t i = 0; i < s->n; i++) {
        double ti = (double)i / s->fs, e3 = 0, e4 = 0;
        while (k < trials && onset[k] + task + 1.0 < ti)
            k++;
        if (k < trials) {
            double p = plateau(ti, onset[k] + 0.25, onset[k] + task - 0.5, 0.5);
            if (cls[k] == 0)
                e4 = p; /* left imagery: right hemisphere desynchronises */
            else
                e3 = p;
        }
        double v = 8.0 * buf[i] + 4.0 * s->common[i];
        v += w3 * (6.0 * (1 - 0.7 * e3) * s->mu3[i] + 3.0 * (1 - 0.6 * e3) * s->be3[i]);
        v += w4 * (6.0 * (1 - 0.7 * e4) * s->mu4[i] + 3.0 * (1 - 0.6 * e4) * s->be4[i]);
        v += wo * 8.0 * s->alpha[i] + wb * s->blink[i];
        v += 3.0 * sin(2 * PI * 50.0 * ti + s->mains_phase);
        out[i] = (float)v;
    }
}

/* One default-mode run: the schedule, the sources, every channel, T1/T2 and T0 annotations */
static int gen_run(const char *outdir, const char *subject, int run, int trials, double fs, int bv,
                   int events_tsv)
{
    const double lead = 2.0, task = 4.0;
    double *onset = malloc((size_t)trials * sizeof *onset);
    int *cls = malloc((size_t)trials * sizeof *cls);
    textbook_sources src = {.fs = fs};
    double *buf = NULL;
    float *data = NULL;
    xai_edf_annotation *ann = NULL;
    int rc = -1;
    if (!onset || !cls)
        goto done;
    double t = draw_schedule(trials, lead, task, onset, cls);
    /* whole seconds: EDF+ writes the record duration in 8 characters, and record lengths
       like 395/128 s do not survive that rounding (EDFlib then rejects the time-keeping) */
    src.dur = ceil(t + 1.0);
    src.n = (int64_t)llround(src.dur * fs);
    buf = malloc((size_t)src.n * sizeof *buf);
    data = malloc((size_t)src.n * NCH * sizeof *data);
    if (!buf || !data || draw_textbook_sources(&src) != 0)
        goto done;
    for (int c = 0; c < NCH; c++)
        mix_textbook_channel(data + (int64_t)c * src.n, buf, c, &src, onset, cls, trials, task);
    size_t nann = (size_t)trials * 2;
    if (!(ann = malloc(nann * sizeof *ann)))
        goto done;
    for (int k = 0; k < trials; k++) {
        ann[2 * k] = (xai_edf_annotation){onset[k], task, cls[k] == 0 ? "T1" : "T2"};
        ann[2 * k + 1] = (xai_edf_annotation){onset[k] + task, 2.0, "T0"};
    }
    char base[256];
    snprintf(base, sizeof base, "sub-%s_task-mi_run-%d_eeg", subject, run);
    const output_opts o = {bv, events_tsv, 0};
    rc = write_outputs(outdir, base, channels, NCH, data, src.n, fs, ann, nann, &o);
done:
    free(ann);
    free(onset);
    free(cls);
    free(buf);
    free(data);
    free_textbook_sources(&src);
    return rc;
}

/* ---- realistic mode: several subjects and sessions with the nuisances of real recordings ---- */

static const char *const rchannels32[] = {"Fp1", "Fp2", "AF3", "AF4", "F7",  "F3",  "Fz",  "F4",
                                        "F8",  "FC5", "FC1", "FC2", "FC6", "T7",  "C3",  "Cz",
                                        "C4",  "T8",  "CP5", "CP1", "CP2", "CP6", "P7",  "P3",
                                        "Pz",  "P4",  "P8",  "PO3", "PO4", "O1",  "Oz",  "O2"};
/* --montage 64: the 64-channel 10-10 cap of BioSemi and similar systems */
static const char *const rchannels64[] = {
    "Fp1", "AF7", "AF3", "F1",  "F3",  "F5",  "F7",  "FT7", "FC5", "FC3", "FC1", "C1",  "C3",  "C5",  "T7",  "TP7",
    "CP5", "CP3", "CP1", "P1",  "P3",  "P5",  "P7",  "P9",  "PO7", "PO3", "O1",  "Iz",  "Oz",  "POz", "Pz",  "CPz",
    "Fpz", "Fp2", "AF8", "AF4", "AFz", "Fz",  "F2",  "F4",  "F6",  "F8",  "FT8", "FC6", "FC4", "FC2", "FCz", "Cz",
    "C2",  "C4",  "C6",  "T8",  "TP8", "CP6", "CP4", "CP2", "P2",  "P4",  "P6",  "P8",  "P10", "PO8", "PO4", "O2"};
#define RMAX 64
static const char *const *rchannels = rchannels32;
static int RNCH = (int)(sizeof rchannels32 / sizeof rchannels32[0]);
/* the planted channels (right lateral fronto-temporo-parietal, away from the C3/C4 of motor
   imagery textbooks) and their source weights */
static const char *const planted_right[5] = {"FC6", "T8", "CP6", "P8", "P4"};
/* --placement alt: left fronto-temporal channels and an earlier window off the 0.25 s grid, so
   that a default is not tuned to one placement */
static const char *const planted_left[5] = {"F3", "F7", "FC5", "T7", "P7"};
/* --placement beta: a beta-band effect (2.2 x the individual alpha frequency, 19-26 Hz, close
   to the decoy's beta) over left parieto-occipital channels next to the occipital alpha, early in
   a short epoch, that falls in T1 and rises in T2 (ERD against ERS, Pfurtscheller and Lopes da
   Silva 1999) */
static const char *const planted_beta[5] = {"P3", "PO3", "CP5", "P7", "O1"};
static const char *const *planted_ch = planted_right;
static const double planted_w[5] = {1.0, 1.0, 0.9, 0.8, 0.8};
/* the planted window inside the epoch (s after onset), the class gains of the planted band's
   amplitude in it, and its centre as a multiple of the individual alpha frequency */
static double PL_T0 = 1.5, PL_T1 = 3.0, PL_GAIN_T1 = 2.0, PL_GAIN_T2 = 0.6, PL_FREQ = 1.5;

typedef struct {
    double iaf;          /* individual alpha frequency; mu at iaf, planted band at PL_FREQ * iaf */
    double line_hz;      /* 50 or 60 Hz mains */
    double gain[RMAX];   /* per-subject channel gains (electrode impedance, skull) */
    double offset[RMAX]; /* per-subject DC offsets, uV */
    double planted_amp;  /* baseline amplitude of the planted band, uV */
} eeg_subject;

typedef struct {
    double gain[RMAX], offset[RMAX];
    double line_amp, drift_amp;
    int bad;             /* a bad channel (index) or -1 */
    int flat;            /* --artefacts strong: a disconnected (flat) channel or -1 */
} eeg_session;

/* --artefacts strong: what a hurried or long session adds (larger and more frequent blinks,
   scalp-muscle bursts over temporal channels, more mains, a noisier bad channel, a flat one) */
static int strong_artefacts;

static double lognormal(double s) { return exp(s * rng_normal()); }

static void draw_subject(eeg_subject *s)
{
    s->iaf = 8.5 + 3.5 * rng_uniform();
    s->line_hz = rng_uniform() < 0.5 ? 50.0 : 60.0;
    s->planted_amp = 2.5 * lognormal(0.2);
    for (int c = 0; c < RNCH; c++) {
        s->gain[c] = lognormal(0.2);
        s->offset[c] = 25.0 * rng_normal();
    }
}

static void draw_session(eeg_session *e)
{
    double g = lognormal(0.15); /* amplifier / cap differences */
    for (int c = 0; c < RNCH; c++) {
        e->gain[c] = g * lognormal(0.1);
        e->offset[c] = 15.0 * rng_normal();
    }
    e->line_amp = 1.0 + 9.0 * rng_uniform();
    e->drift_amp = 10.0 + 20.0 * rng_uniform();
    e->bad = rng_uniform() < 0.5 ? (int)(rng_u64() % RNCH) : -1;
    e->flat = -1;
    if (strong_artefacts) { /* drawn last, so the other modes' draws are unchanged */
        e->line_amp *= 3.0;
        e->flat = rng_uniform() < 0.5 ? (int)(rng_u64() % RNCH) : -1;
        if (e->flat == e->bad)
            e->flat = -1;
    }
}

/* trial schedule: onsets (s) and balanced shuffled classes; returns the recording length */
static double schedule(int trials, double task, double *onset, int *cls)
{
    double t = 2.0;
    for (int k = 0; k < trials; k++) {
        onset[k] = t;
        t += task + 2.0 + rng_uniform();
        cls[k] = k % 2;
    }
    for (int k = trials - 1; k > 0; k--) {
        int j = (int)(rng_u64() % (uint64_t)(k + 1)), tmp = cls[k];
        cls[k] = cls[j];
        cls[j] = tmp;
    }
    return ceil(t + 1.0);
}

/* per-sample envelopes: decoy ERD (both classes) and the planted band's class gain */
static void envelopes(int64_t n, double fs, int trials, const double *onset, const int *cls, double task,
                      double *erd, double *planted)
{
    int k = 0;
    for (int64_t i = 0; i < n; i++) {
        double ti = (double)i / fs;
        while (k < trials && onset[k] + task + 1.0 < ti)
            k++;
        erd[i] = planted[i] = 0;
        if (k < trials) {
            erd[i] = plateau(ti, onset[k] + 0.25, onset[k] + task - 0.5, 0.5);
            /* ramps of 0.25 s inside the window: the effect is fully inside [PL_T0, PL_T1] */
            double p = plateau(ti, onset[k] + PL_T0, onset[k] + PL_T1 - 0.25, 0.25);
            planted[i] = p * ((cls[k] == 0 ? PL_GAIN_T1 : PL_GAIN_T2) - 1.0);
        }
    }
}

/* blinks (frontal, Gaussian, 80-150 uV) into blink[n] and amplitude spikes (one channel, 20 ms,
   150-400 uV, about one per 30 s) into spike[c][n] */
static void artefacts(int64_t n, double fs, double *blink, float *spike)
{
    double dur = (double)n / fs, big = strong_artefacts ? 1.6 : 1.0, gap = strong_artefacts ? 0.5 : 1.0;
    for (double tb = 1.0 + 3.0 * rng_uniform(); tb < dur - 0.5; tb += gap * (3.0 + 6.0 * rng_uniform())) {
        double amp = big * (80.0 + 70.0 * rng_uniform()), s = 0.08;
        int64_t i0 = (int64_t)((tb - 4 * s) * fs), i1 = (int64_t)((tb + 4 * s) * fs);
        for (int64_t i = i0 < 0 ? 0 : i0; i <= i1 && i < n; i++) {
            double d = (double)i / fs - tb;
            blink[i] += amp * exp(-d * d / (2 * s * s));
        }
    }
    for (double ts = 30.0 * rng_uniform(); ts < dur; ts += 10.0 + 40.0 * rng_uniform()) {
        int c = (int)(rng_u64() % RNCH);
        double amp = (150.0 + 250.0 * rng_uniform()) * (rng_uniform() < 0.5 ? -1 : 1);
        int64_t i0 = (int64_t)(ts * fs), w = (int64_t)(0.02 * fs) + 1;
        for (int64_t i = i0; i < i0 + w && i < n; i++)
            spike[(int64_t)c * n + i] += (float)amp;
    }
}

/* scalp-muscle (EMG) bursts of one side into emg[n]: 0.3-1.5 s of broadband noise (first
   differences of white noise, so most power lies above 20 Hz), 10-40 uV, about every 4-16 s,
   unrelated to the trials (jaw clenching, swallowing) */
static void emg_bursts(int64_t n, double fs, double *emg)
{
    double dur = (double)n / fs, prev = 0;
    for (double tb = 4.0 * rng_uniform(); tb < dur; tb += 4.0 + 12.0 * rng_uniform()) {
        double len = 0.3 + 1.2 * rng_uniform(), amp = 10.0 + 30.0 * rng_uniform();
        int64_t i0 = (int64_t)(tb * fs), i1 = (int64_t)((tb + len) * fs);
        for (int64_t i = i0; i < i1 && i < n; i++) {
            double w = rng_normal(), ramp = plateau((double)i / fs, tb, tb + len - 0.1, 0.1);
            emg[i] += amp * ramp * (w - prev) / sqrt(2.0);
            prev = w;
        }
    }
}

/* slow drift of one channel: a random linear trend plus three sinusoids of 0.01-0.1 Hz */
static double drift_at(const double *d, double t, double dur)
{
    return d[0] * (t / dur - 0.5) + d[1] * sin(2 * PI * d[2] * t + d[3]) + d[4] * sin(2 * PI * d[5] * t + d[6]) +
           d[7] * sin(2 * PI * d[8] * t + d[9]);
}

typedef struct {
    double *mu3, *mu4, *beta3, *beta4, *alpha, *common, *plant, *erd, *gainp, *blink, *buf, *emgl, *emgr;
    float *spike;
} eeg_sources;

static void free_sources(eeg_sources *s)
{
    double **p[] = {&s->mu3, &s->mu4, &s->beta3, &s->beta4, &s->alpha, &s->common, &s->plant,
                    &s->erd, &s->gainp, &s->blink, &s->buf, &s->emgl, &s->emgr};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        free(*p[i]);
    free(s->spike);
}

static int alloc_sources(eeg_sources *s, int64_t n)
{
    double **p[] = {&s->mu3, &s->mu4, &s->beta3, &s->beta4, &s->alpha, &s->common, &s->plant,
                    &s->erd, &s->gainp, &s->blink, &s->buf, &s->emgl, &s->emgr};
    int ok = 1;
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        ok = (*p[i] = calloc((size_t)n, sizeof(double))) != NULL && ok;
    s->spike = calloc((size_t)n * RNCH, sizeof(float));
    return ok && s->spike ? 0 : -1;
}

static double src_weight(const double *pos, const char *src, double sig)
{
    double q[3];
    xai_eeg_montage_find(src, q, NULL);
    double a = angle_between(pos, q);
    return exp(-a * a / (2 * sig * sig));
}

static double planted_weight(const char *ch)
{
    for (int k = 0; k < 5; k++)
        if (!strcmp(ch, planted_ch[k]))
            return planted_w[k];
    return 0;
}

/* one channel of a realistic run: sources mixed by the forward model, then nuisances */
static void mix_channel(int c, int64_t n, double fs, const eeg_subject *sub, const eeg_session *ses,
                        eeg_sources *s, float *out)
{
    double pos[3];
    xai_eeg_montage_find(rchannels[c], pos, NULL);
    double w3 = src_weight(pos, "C3", 0.30), w4 = src_weight(pos, "C4", 0.30);
    double wo = src_weight(pos, "Oz", 0.40), wb = src_weight(pos, "Fpz", 0.45), wp = planted_weight(rchannels[c]);
    double noise = c == ses->bad ? (strong_artefacts ? 10.0 : 5.0) : 1.0, dur = (double)n / fs, d[10], lph = 2 * PI * rng_uniform();
    double line = ses->line_amp * (0.5 + rng_uniform());
    for (int k = 0; k < 10; k++)
        d[k] = k == 0 ? ses->drift_amp * rng_normal()
             : k % 3 == 1 ? ses->drift_amp * 0.5 * rng_normal()
             : k % 3 == 2 ? 0.01 + 0.09 * rng_uniform() : 2 * PI * rng_uniform();
    double wl = src_weight(pos, "T7", 0.25), wr = src_weight(pos, "T8", 0.25);
    pink(s->buf, n, fs);
    double g = sub->gain[c] * ses->gain[c], off = sub->offset[c] + ses->offset[c];
    for (int64_t i = 0; i < n; i++) {
        double ti = (double)i / fs, e = 1 - 0.6 * s->erd[i];
        double v = 8.0 * noise * s->buf[i] + 4.0 * s->common[i];
        v += w3 * e * (6.0 * s->mu3[i] + 3.0 * s->beta3[i]) + w4 * e * (6.0 * s->mu4[i] + 3.0 * s->beta4[i]);
        v += wo * 8.0 * s->alpha[i] + wp * sub->planted_amp * (1 + s->gainp[i]) * s->plant[i];
        v = g * v + off + drift_at(d, ti, dur) + wb * s->blink[i] + s->spike[(int64_t)c * n + i];
        v += line * sin(2 * PI * sub->line_hz * ti + lph);
        if (strong_artefacts)
            v += wl * s->emgl[i] + wr * s->emgr[i];
        if (c == ses->flat) /* a disconnected electrode: its offset and the amplifier's noise */
            v = off + 0.2 * s->buf[i];
        out[(int64_t)c * n + i] = (float)v;
    }
}

typedef struct {
    int trials, bv, events_tsv, bdf;
    double fs, task; /* rate, annotated imagery duration (s) */
} real_opts;

/* one run of one session: the sources, the mixture, annotations, files */
static int gen_run_realistic(const char *outdir, int sub, int ses, int run, const eeg_subject *subj,
                             const eeg_session *sess, const real_opts *ro)
{
    const double task = ro->task, fs = ro->fs;
    double onset[1000];
    int cls[1000];
    double dur = schedule(ro->trials, task, onset, cls);
    int64_t n = (int64_t)llround(dur * fs);
    eeg_sources s = {0};
    float *data = malloc((size_t)n * RNCH * sizeof *data);
    xai_edf_annotation *ann = malloc((size_t)ro->trials * 2 * sizeof *ann);
    int rc = -1;
    if (alloc_sources(&s, n) != 0 || !data || !ann)
        goto out;
    narrowband(s.mu3, n, fs, subj->iaf + 0.3 * rng_normal(), 0.985);
    narrowband(s.mu4, n, fs, subj->iaf + 0.3 * rng_normal(), 0.985);
    narrowband(s.beta3, n, fs, 2 * subj->iaf + rng_normal(), 0.975);
    narrowband(s.beta4, n, fs, 2 * subj->iaf + rng_normal(), 0.975);
    narrowband(s.alpha, n, fs, subj->iaf, 0.99);
    narrowband(s.plant, n, fs, PL_FREQ * subj->iaf, 0.98);
    pink(s.common, n, fs);
    envelopes(n, fs, ro->trials, onset, cls, task, s.erd, s.gainp);
    artefacts(n, fs, s.blink, s.spike);
    if (strong_artefacts) {
        emg_bursts(n, fs, s.emgl);
        emg_bursts(n, fs, s.emgr);
    }
    for (int c = 0; c < RNCH; c++)
        mix_channel(c, n, fs, subj, sess, &s, data);
    for (int k = 0; k < ro->trials; k++) {
        ann[2 * k] = (xai_edf_annotation){onset[k], task, cls[k] == 0 ? "T1" : "T2"};
        ann[2 * k + 1] = (xai_edf_annotation){onset[k] + task, 2.0, "T0"};
    }
    char base[256];
    snprintf(base, sizeof base, "sub-%02d_ses-%02d_task-mi_run-%d_eeg", sub, ses, run);
    const output_opts o = {ro->bv, ro->events_tsv, ro->bdf};
    rc = write_outputs(outdir, base, rchannels, RNCH, data, n, fs, ann, (size_t)ro->trials * 2, &o);
out:
    free_sources(&s);
    free(data);
    free(ann);
    return rc;
}

/* truth.tsv: the planted effect, the decoys, and each subject's and session's nuisances */
static int write_truth(const char *outdir, const eeg_subject *subj, int nsub, const eeg_session *sess, int nses,
                       double task)
{
    char path[4096], *txt = malloc(65536);
    size_t cap = 65536, len = 0;
    if (!txt)
        return -1;
    len += (size_t)snprintf(txt + len, cap - len,
                            "kind\tlabel\tchannels\ttmin_s\ttmax_s\tfmin_hz\tfmax_hz\tvalue\tdescription\n");
    len += (size_t)snprintf(txt + len, cap - len,
                            "planted\tT1,T2\t%s,%s,%s,%s,%s\t%g\t%g\t%g*iaf-1.5\t%g*iaf+1.5\t%g,%g\t"
                            "band amplitude gain of T1,T2 over baseline in the window (s after onset)\n",
                            planted_ch[0], planted_ch[1], planted_ch[2], planted_ch[3], planted_ch[4], PL_T0, PL_T1,
                            PL_FREQ, PL_FREQ, PL_GAIN_T1, PL_GAIN_T2);
    char decoy[512] = "";
    for (int c = 0; c < RNCH; c++) { /* weight >= 0.3 from the C3 or C4 source */
        double pos[3];
        xai_eeg_montage_find(rchannels[c], pos, NULL);
        if (src_weight(pos, "C3", 0.30) >= 0.3 || src_weight(pos, "C4", 0.30) >= 0.3)
            snprintf(decoy + strlen(decoy), sizeof decoy - strlen(decoy), "%s%s", *decoy ? "," : "", rchannels[c]);
    }
    len += (size_t)snprintf(txt + len, cap - len,
                            "decoy\tT1,T2\t%s\t0.25\t%.1f\tiaf-1\t2*iaf+1\t0.4,0.4\t"
                            "mu and beta amplitude of the C3 and C4 sources (weight >= 0.3 listed), the same "
                            "for both classes\n", decoy, task);
    for (int k = 0; k < nsub; k++)
        len += (size_t)snprintf(txt + len, cap - len, "subject\tsub-%02d\t-\t-\t-\t%.3f\t%.3f\tline=%g\t"
                                "individual alpha frequency, planted band centre, mains\n",
                                k + 1, subj[k].iaf, PL_FREQ * subj[k].iaf, subj[k].line_hz);
    for (int k = 0; k < nsub * nses && len + 256 < cap; k++)
        len += (size_t)snprintf(txt + len, cap - len, "session\tsub-%02d_ses-%02d\t%s\t-\t-\t-\t-\tline_uv=%.1f%s%s\t"
                                "bad channel (%gx noise) or -%s\n", k / nses + 1, k % nses + 1,
                                sess[k].bad >= 0 ? rchannels[sess[k].bad] : "-", sess[k].line_amp,
                                strong_artefacts ? ";flat=" : "",
                                !strong_artefacts ? "" : sess[k].flat >= 0 ? rchannels[sess[k].flat] : "-",
                                strong_artefacts ? 10.0 : 5.0, strong_artefacts ? "; flat: a disconnected channel" : "");
    snprintf(path, sizeof path, "%s/truth.tsv", outdir);
    int rc = write_text_atomic(path, txt, len);
    free(txt);
    return rc;
}

static int gen_realistic(const char *outdir, uint64_t seed, int nsub, int nses, int runs, const real_opts *ro)
{
    eeg_subject *subj = malloc((size_t)nsub * sizeof *subj);
    eeg_session *sess = malloc((size_t)nsub * (size_t)nses * sizeof *sess);
    int rc = subj && sess ? 0 : -1;
    for (int k = 0; k < nsub && rc == 0; k++) {
        rng_state = seed * 0x2545F4914F6CDD1Dull + (uint64_t)(k + 1) * 7919ull;
        draw_subject(&subj[k]);
        for (int e = 0; e < nses; e++)
            draw_session(&sess[k * nses + e]);
        for (int e = 0; e < nses && rc == 0; e++)
            for (int r = 1; r <= runs && rc == 0; r++) {
                rng_state = seed * 1000003ull + (uint64_t)(k + 1) * 1009ull + (uint64_t)(e + 1) * 101ull + (uint64_t)r;
                rc = gen_run_realistic(outdir, k + 1, e + 1, r, &subj[k], &sess[k * nses + e], ro);
            }
    }
    if (rc == 0 && write_truth(outdir, subj, nsub, sess, nses, ro->task) != 0) {
        fprintf(stderr, "gen_eeg: %s/truth.tsv: %s\n", outdir, strerror(errno));
        rc = -1;
    }
    free(subj);
    free(sess);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: gen_eeg [--nuisance none|realistic] [--seed S] [--rate HZ] [--trials N] [--runs R]\n"
               "               [--subject L] [--subjects N] [--sessions N] [--placement default|alt|beta]\n"
               "               [--montage 32|64] [--task S] [--artefacts normal|strong] [--bdf]\n"
               "               [--brainvision] [--events-tsv]\n"
               "               OUTDIR\n"
               "  --nuisance none       one subject, 25 channels, textbook C3/C4 effect (the default)\n"
               "  --nuisance realistic  --subjects x --sessions x --runs recordings, 32 channels, planted\n"
               "                        effect on FC6,T8,CP6,P8,P4 with C3/C4 decoys and nuisances; truth.tsv\n"
               "  --placement alt       realistic: the effect on F3,F7,FC5,T7,P7 in 0.6-2.1 s instead of\n"
               "                        1.5-3.0 s\n"
               "  --placement beta      realistic: a beta effect (2.2 x alpha) on P3,PO3,CP5,P7,O1 in 0.4-1.6 s,\n"
               "                        falling in T1 and rising in T2\n"
               "  --montage 64          realistic: the 64-channel 10-10 cap instead of 32 channels\n"
               "  --task S              realistic: imagery annotations of S seconds (default 4)\n"
               "  --artefacts strong    realistic: more and larger blinks, temporal EMG bursts, 3x mains,\n"
               "                        a 10x noisy bad channel and a flat one\n"
               "  --rate 64..4096 Hz, --trials 2..1000, --runs 1..100, --subjects 1..99, --sessions 1..9,\n"
               "  --task up to 10 s; a bad or missing value exits with 2 before anything is written\n");
}

typedef struct {
    uint64_t seed;
    double fs, task;
    int trials, runs, runs_set, nsub, nses, realistic, bv, bdf, events_tsv;
    const char *subject, *outdir;
} eeg_options;

/* the options of realistic mode beyond the common ones: 1 when argv[*i] was one (and *i moved
   past its value), 0 when it is not, -1 when its value is wrong or missing */
static int realistic_option(int argc, char **argv, int *i, double *task)
{
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (strcmp(a, "--placement") && strcmp(a, "--montage") && strcmp(a, "--task") && strcmp(a, "--artefacts"))
        return 0;
    if (!v)
        return gen_arg_invalid(a, v, "");
    ++*i;
    if (!strcmp(a, "--placement") && !strcmp(v, "alt"))
        planted_ch = planted_left, PL_T0 = 0.6, PL_T1 = 2.1;
    else if (!strcmp(a, "--placement") && !strcmp(v, "beta")) {
        planted_ch = planted_beta, PL_T0 = 0.4, PL_T1 = 1.6;
        PL_GAIN_T1 = 0.5, PL_GAIN_T2 = 1.6, PL_FREQ = 2.2;
    } else if (!strcmp(a, "--montage") && !strcmp(v, "64"))
        rchannels = rchannels64, RNCH = (int)(sizeof rchannels64 / sizeof rchannels64[0]);
    else if (!strcmp(a, "--task")) /* its lower end, the planted window's, is checked at the end */
        return gen_arg_real(a, v, 0, 10, GEN_OPEN_LO, task) ? -1 : 1;
    else if (!strcmp(a, "--artefacts") && !strcmp(v, "strong"))
        strong_artefacts = 1;
    else if (!strcmp(a, "--placement") && strcmp(v, "default"))
        return gen_arg_invalid(a, v, "default, alt or beta");
    else if (!strcmp(a, "--montage") && strcmp(v, "32"))
        return gen_arg_invalid(a, v, "32 or 64");
    else if (!strcmp(a, "--artefacts") && strcmp(v, "normal"))
        return gen_arg_invalid(a, v, "normal or strong");
    return 1;
}

/* A numeric option @p a with its value @p v (NULL: missing): 1 when taken, 0 when @p a is none of
   them, -1 when the value is refused (message printed) */
static int numeric_option(eeg_options *o, const char *a, const char *v)
{
    int rc = 0;
    if (!strcmp(a, "--seed"))
        rc = gen_arg_seed(a, v, &o->seed);
    else if (!strcmp(a, "--rate"))
        rc = gen_arg_real(a, v, 64, 4096, 0, &o->fs);
    else if (!strcmp(a, "--trials"))
        rc = gen_arg_int(a, v, 2, 1000, &o->trials);
    else if (!strcmp(a, "--runs"))
        rc = gen_arg_int(a, v, 1, 100, &o->runs), o->runs_set = 1;
    else if (!strcmp(a, "--subjects"))
        rc = gen_arg_int(a, v, 1, 99, &o->nsub);
    else if (!strcmp(a, "--sessions"))
        rc = gen_arg_int(a, v, 1, 9, &o->nses);
    else
        return 0;
    return rc ? -1 : 1;
}

/* The flags, --subject, --nuisance and OUTDIR: 1 when argv[*i] was one of them (*i past its
   value), 0 when not, -1 when its value is wrong or missing (message printed) */
static int other_option(eeg_options *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if ((!strcmp(a, "--subject") || !strcmp(a, "--nuisance")) && !v)
        return gen_arg_invalid(a, v, "");
    if (!strcmp(a, "--subject"))
        o->subject = argv[++*i];
    else if (!strcmp(a, "--nuisance") && strcmp(v, "none") && strcmp(v, "realistic"))
        return gen_arg_invalid(a, v, "none or realistic");
    else if (!strcmp(a, "--nuisance"))
        o->realistic = !strcmp(argv[++*i], "realistic");
    else if (!strcmp(a, "--brainvision"))
        o->bv = 1;
    else if (!strcmp(a, "--bdf"))
        o->bdf = 1;
    else if (!strcmp(a, "--events-tsv"))
        o->events_tsv = 1;
    else if (a[0] != '-' && !o->outdir)
        o->outdir = a;
    else
        return 0;
    return 1;
}

/* -1 when the command line is valid, else the exit code (0 after --help; 2 after a message) */
static int parse_args(int argc, char **argv, eeg_options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        int rc = numeric_option(o, a, i + 1 < argc ? argv[i + 1] : NULL);
        if (rc > 0)
            i++;
        if (rc == 0 && (rc = realistic_option(argc, argv, &i, &o->task)) == 0 &&
            (rc = other_option(o, argc, argv, &i)) == 0)
            usage(stderr);
        if (rc <= 0)
            return 2;
    }
    if (o->realistic && !o->runs_set)
        o->runs = 2;
    if (!o->outdir) {
        usage(stderr);
        return 2;
    }
    if (o->task < PL_T1) {
        fprintf(stderr, "gen_eeg: --task: invalid value '%g' (expected from the planted window's end, %g s, to 10 s)\n",
                o->task, PL_T1);
        return 2;
    }
    return -1;
}

int main(int argc, char **argv)
{
    eeg_options o = {.seed = 1, .fs = 128, .task = 4.0, .trials = 30, .runs = 3, .nsub = 4, .nses = 2,
                     .subject = "01"};
    int urc = parse_args(argc, argv, &o);
    if (urc >= 0)
        return urc;
    const char *outdir = o.outdir;
    char dir[4096]; /* mkdir -p */
    snprintf(dir, sizeof dir, "%s", outdir);
    for (char *q = dir + 1;; q++) {
        int end = *q == '\0';
        if (*q == '/' || end) {
            *q = '\0';
            if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
                fprintf(stderr, "gen_eeg: %s: %s\n", dir, strerror(errno));
                return 1;
            }
            if (end)
                break;
            *q = '/';
        }
    }
    if (o.realistic) {
        const real_opts rop = {o.trials, o.bv, o.events_tsv, o.bdf, o.fs, o.task};
        return gen_realistic(outdir, o.seed, o.nsub, o.nses, o.runs, &rop) == 0 ? 0 : 1;
    }
    rng_state = o.seed * 0x2545F4914F6CDD1Dull + 12345;
    for (int r = 1; r <= o.runs; r++)
        if (gen_run(outdir, o.subject, r, o.trials, o.fs, o.bv, o.events_tsv) != 0)
            return 1;
    return 0;
}
