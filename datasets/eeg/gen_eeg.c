/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gen_eeg.c - synthetic motor-imagery EEG with a planted ground truth, written as EDF+
 * (and optionally BrainVision) files with T0/T1/T2 annotations like PhysioNet's EEGMMIDB.
 *
 * Forward model (all sources seeded and deterministic; channels at 10-20/10-10 positions of
 * apps/xai-eeg/eeg-montage.c, source-to-channel weight exp(-a^2 / (2 * 0.30^2)) for the
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
 * Usage: gen_eeg [--seed S] [--rate HZ] [--trials N] [--runs R] [--subject L] [--brainvision]
 *                [--events-tsv] OUTDIR
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

#include "eeg-montage.h"
#include "xai/edf.h"

#define PI 3.14159265358979323846

static const char *const channels[] = {"Fp1", "Fp2", "F7",  "F3",  "Fz",  "F4",  "F8",
                                       "FC3", "FCz", "FC4", "T7",  "C3",  "Cz",  "C4",
                                       "T8",  "CP3", "CPz", "CP4", "P7",  "P3",  "Pz",
                                       "P4",  "P8",  "O1",  "O2"};
#define NCH ((int)(sizeof channels / sizeof channels[0]))

/* deterministic random numbers: rng_state, rng_u64, rng_uniform, rng_normal */
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
static int write_brainvision(const char *dir, const char *base, const float *data, int64_t n, double fs,
                             const xai_edf_annotation *ann, size_t nann)
{
    char path[4096], *txt = NULL;
    size_t cap = 65536, len = 0;
    float *mux = malloc((size_t)n * NCH * sizeof *mux);
    txt = malloc(cap);
    if (!mux || !txt) {
        free(mux);
        free(txt);
        return -1;
    }
    for (int64_t i = 0; i < n; i++)
        for (int c = 0; c < NCH; c++)
            mux[i * NCH + c] = data[(int64_t)c * n + i];
    snprintf(path, sizeof path, "%s/%s.eeg", dir, base);
    int rc = write_text_atomic(path, mux, (size_t)n * NCH * sizeof *mux);
    free(mux);
    len += (size_t)snprintf(txt + len, cap - len,
                            "Brain Vision Data Exchange Header File Version 1.0\r\n"
                            "; written by gen_eeg (libxai datasets)\r\n\r\n[Common Infos]\r\n"
                            "Codepage=UTF-8\r\nDataFile=%s.eeg\r\nMarkerFile=%s.vmrk\r\n"
                            "DataFormat=BINARY\r\nDataOrientation=MULTIPLEXED\r\n"
                            "NumberOfChannels=%d\r\nSamplingInterval=%.6f\r\n\r\n[Binary Infos]\r\n"
                            "BinaryFormat=IEEE_FLOAT_32\r\n\r\n[Channel Infos]\r\n",
                            base, base, NCH, 1e6 / fs);
    for (int c = 0; c < NCH; c++)
        len += (size_t)snprintf(txt + len, cap - len, "Ch%d=%s,,1,\xC2\xB5V\r\n", c + 1, channels[c]);
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

static int gen_run(const char *outdir, const char *subject, int run, int trials, double fs, int bv,
                   int events_tsv)
{
    const double lead = 2.0, task = 4.0;
    /* trial schedule */
    double *onset = malloc((size_t)trials * sizeof *onset);
    int *cls = malloc((size_t)trials * sizeof *cls);
    if (!onset || !cls)
        return -1;
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
    /* whole seconds: EDF+ writes the record duration in 8 characters, and record lengths
       like 395/128 s do not survive that rounding (EDFlib then rejects the time-keeping) */
    double dur = ceil(t + 1.0);
    int64_t n = (int64_t)llround(dur * fs);

    double pos[NCH][3], src_c3[3], src_c4[3], src_oz[3], src_fpz[3];
    for (int c = 0; c < NCH; c++)
        eeg_montage_find(channels[c], pos[c], NULL);
    eeg_montage_find("C3", src_c3, NULL);
    eeg_montage_find("C4", src_c4, NULL);
    eeg_montage_find("Oz", src_oz, NULL);
    eeg_montage_find("Fpz", src_fpz, NULL);
    const double sig = 0.30;

    double *buf = malloc((size_t)n * sizeof *buf);
    double *mu3 = malloc((size_t)n * sizeof *mu3), *be3 = malloc((size_t)n * sizeof *be3);
    double *mu4 = malloc((size_t)n * sizeof *mu4), *be4 = malloc((size_t)n * sizeof *be4);
    double *alpha = malloc((size_t)n * sizeof *alpha), *common = malloc((size_t)n * sizeof *common);
    double *blink = calloc((size_t)n, sizeof *blink);
    float *data = malloc((size_t)n * NCH * sizeof *data);
    if (!buf || !mu3 || !be3 || !mu4 || !be4 || !alpha || !common || !blink || !data)
        return -1;

    narrowband(mu3, n, fs, 10.0 + 0.5 * rng_uniform(), 0.985);
    narrowband(be3, n, fs, 20.0 + 2.0 * rng_uniform(), 0.975);
    narrowband(mu4, n, fs, 10.0 + 0.5 * rng_uniform(), 0.985);
    narrowband(be4, n, fs, 20.0 + 2.0 * rng_uniform(), 0.975);
    narrowband(alpha, n, fs, 9.5 + rng_uniform(), 0.99);
    pink(common, n, fs);
    for (double tb = 1.0 + 3.0 * rng_uniform(); tb < dur - 0.5; tb += 3.0 + 6.0 * rng_uniform()) {
        double amp = 80.0 + 70.0 * rng_uniform(), s = 0.08;
        int64_t i0 = (int64_t)((tb - 4 * s) * fs), i1 = (int64_t)((tb + 4 * s) * fs);
        for (int64_t i = i0 < 0 ? 0 : i0; i <= i1 && i < n; i++) {
            double d = (double)i / fs - tb;
            blink[i] += amp * exp(-d * d / (2 * s * s));
        }
    }
    /* ERD envelopes: erd3 for right-hand imagery (T2, C3), erd4 for left (T1, C4) */
    double mains_phase = 2 * PI * rng_uniform();
    for (int c = 0; c < NCH; c++) {
        double w3 = exp(-pow(angle_between(pos[c], src_c3), 2) / (2 * sig * sig));
        double w4 = exp(-pow(angle_between(pos[c], src_c4), 2) / (2 * sig * sig));
        double wo = exp(-pow(angle_between(pos[c], src_oz), 2) / (2 * 0.4 * 0.4));
        double wb = exp(-pow(angle_between(pos[c], src_fpz), 2) / (2 * 0.45 * 0.45));
        pink(buf, n, fs);
        int k = 0;
        for (int64_t i = 0; i < n; i++) {
            double ti = (double)i / fs, e3 = 0, e4 = 0;
            while (k < trials && onset[k] + task + 1.0 < ti)
                k++;
            if (k < trials) {
                double p = plateau(ti, onset[k] + 0.25, onset[k] + task - 0.5, 0.5);
                if (cls[k] == 0)
                    e4 = p; /* left imagery: right hemisphere desynchronises */
                else
                    e3 = p;
            }
            double v = 8.0 * buf[i] + 4.0 * common[i];
            v += w3 * (6.0 * (1 - 0.7 * e3) * mu3[i] + 3.0 * (1 - 0.6 * e3) * be3[i]);
            v += w4 * (6.0 * (1 - 0.7 * e4) * mu4[i] + 3.0 * (1 - 0.6 * e4) * be4[i]);
            v += wo * 8.0 * alpha[i] + wb * blink[i];
            v += 3.0 * sin(2 * PI * 50.0 * ti + mains_phase);
            data[(int64_t)c * n + i] = (float)v;
        }
    }

    size_t nann = (size_t)trials * 2;
    xai_edf_annotation *ann = malloc(nann * sizeof *ann);
    if (!ann)
        return -1;
    for (int k = 0; k < trials; k++) {
        ann[2 * k] = (xai_edf_annotation){onset[k], task, cls[k] == 0 ? "T1" : "T2"};
        ann[2 * k + 1] = (xai_edf_annotation){onset[k] + task, 2.0, "T0"};
    }
    const char *units[NCH];
    for (int c = 0; c < NCH; c++)
        units[c] = "uV";
    char base[256], path[4096];
    snprintf(base, sizeof base, "sub-%s_task-mi_run-%d_eeg", subject, run);
    snprintf(path, sizeof path, "%s/%s.edf", outdir, base);
    xai_edf_write_spec spec = {.n_channels = NCH, .n_samples = n, .sample_rate = fs, .labels = channels,
                               .units = units, .data = data, .annotations = ann, .n_annotations = nann,
                               .bdf = 0, .recording = "libxai gen_eeg synthetic motor imagery"};
    int rc = 0;
    if (xai_edf_write(path, &spec) != XAI_OK) {
        fprintf(stderr, "gen_eeg: %s: %s\n", path, xai_last_error());
        rc = -1;
    }
    if (rc == 0 && events_tsv) { /* BIDS events.tsv: trial_type in words, value as annotated */
        size_t cap = 128 + nann * 96, len = 0;
        char *txt = malloc(cap);
        if (!txt)
            rc = -1;
        else {
            len += (size_t)snprintf(txt, cap, "onset\tduration\ttrial_type\tvalue\n");
            for (size_t k = 0; k < nann; k++)
                len += (size_t)snprintf(txt + len, cap - len, "%.6f\t%.3f\t%s\t%s\n", ann[k].onset_s,
                                        ann[k].duration_s,
                                        !strcmp(ann[k].text, "T1")   ? "left_hand"
                                        : !strcmp(ann[k].text, "T2") ? "right_hand"
                                                                     : "rest",
                                        ann[k].text);
            snprintf(path, sizeof path, "%s/sub-%s_task-mi_run-%d_events.tsv", outdir, subject, run);
            if (write_text_atomic(path, txt, len) != 0) {
                fprintf(stderr, "gen_eeg: %s: %s\n", path, strerror(errno));
                rc = -1;
            }
            free(txt);
        }
    }
    if (rc == 0 && bv && write_brainvision(outdir, base, data, n, fs, ann, nann) != 0) {
        fprintf(stderr, "gen_eeg: %s/%s.vhdr: %s\n", outdir, base, strerror(errno));
        rc = -1;
    }
    free(ann);
    free(onset);
    free(cls);
    free(buf);
    free(mu3);
    free(be3);
    free(mu4);
    free(be4);
    free(alpha);
    free(common);
    free(blink);
    free(data);
    return rc;
}

int main(int argc, char **argv)
{
    uint64_t seed = 1;
    double fs = 128;
    int trials = 30, runs = 3, bv = 0, events_tsv = 0;
    const char *subject = "01", *outdir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--rate") && i + 1 < argc)
            fs = atof(argv[++i]);
        else if (!strcmp(a, "--trials") && i + 1 < argc)
            trials = atoi(argv[++i]);
        else if (!strcmp(a, "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(a, "--subject") && i + 1 < argc)
            subject = argv[++i];
        else if (!strcmp(a, "--brainvision"))
            bv = 1;
        else if (!strcmp(a, "--events-tsv"))
            events_tsv = 1;
        else if (a[0] != '-' && !outdir)
            outdir = a;
        else {
            fprintf(stderr, "usage: gen_eeg [--seed S] [--rate HZ] [--trials N] [--runs R] [--subject L] "
                            "[--brainvision] [--events-tsv] OUTDIR\n");
            return 2;
        }
    }
    if (!outdir || fs < 64 || fs > 4096 || trials < 2 || trials > 1000 || runs < 1 || runs > 100) {
        fprintf(stderr, "gen_eeg: need OUTDIR, --rate 64..4096, --trials 2..1000, --runs 1..100\n");
        return 2;
    }
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
    rng_state = seed * 0x2545F4914F6CDD1Dull + 12345;
    for (int r = 1; r <= runs; r++)
        if (gen_run(outdir, subject, r, trials, fs, bv, events_tsv) != 0)
            return 1;
    return 0;
}
