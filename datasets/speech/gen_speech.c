/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gen_speech.c - synthesise spoken digits 0-9 with the espeak-ng program over many voice
 * variants (male en+m1..m7, female en+f1..f5, several speeds and pitches), as 8 kHz mono
 * 16-bit WAVs named like FSDD/AudioMNIST, "{digit}_{speaker}_{index}.wav", plus labels.csv
 * (file, digit, gender, speaker, voice, speed, pitch, planted).
 * Each clip is trimmed of leading/trailing silence, peak-normalised to a random level and
 * given a white noise floor (real recordings are never digitally silent).
 * Planted variant (--planted-class D): every clip of digit D gets a pure tone at
 * --planted-hz (default 1500 Hz) over its whole duration, so a model can use that band and
 * the ground truth of "where the evidence is" is known.
 * --nuisance realistic: speakers are voices, pink noise at a random SNR, level, reverberation,
 * a shortcut tone in a time-frequency box (datasets/speech/README.md).
 * espeak-ng runs through fork/exec with -w (write WAV); no audio is committed. Its WAV and
 * labels.csv are written to temporaries first, removed on every exit (an interrupt included).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xai/audio.h"

#define GEN_NAME "gen_speech"
#include "../gen-args.h"

/* This run's temporaries: espeak-ng's WAV, and the table being written (labels.csv, truth.tsv)
 * until its rename ("": none). */
static char tmp_wav[4096], tmp_out[4096];

static void remove_temporaries(void)
{
    if (tmp_wav[0])
        unlink(tmp_wav);
    if (tmp_out[0])
        unlink(tmp_out);
}

/* An interrupt removes them too, then ends the run as the signal would have. */
static void on_signal(int sig)
{
    remove_temporaries();
    signal(sig, SIG_DFL);
    raise(sig);
}

static const char *const words[10] = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};

static void usage(FILE *f)
{
    fprintf(f,
"usage: gen_speech [options] OUTDIR\n"
"  --voices LIST       comma-separated espeak-ng variants NAME[:male|:female]; without a gender,\n"
"                      names starting with 'f' are female [m1..m8 and 9 named male variants,\n"
"                      f1..f5 and 11 named female variants: 33 voices]\n"
"  --speeds LIST       words per minute [130,160,190]\n"
"  --pitches LIST      0-99 [35,50,65]\n"
"  --lang L            espeak-ng voice language [en-us]\n"
"  --digits N          digits 0..N-1 [10]\n"
"  --planted-class D   add a tone to every clip of digit D [-1: none]\n"
"  --planted-hz F      tone frequency [1500]\n"
"  --planted-db G      tone amplitude relative to the clip peak [-14]\n"
"  --noise-db G        white noise floor relative to the clip peak [-45]\n"
"  --rate R            output sample rate [8000]\n"
"  --seed S            levels and noise [1]\n"
"  --length S          pad (centred, with the noise floor) or cut every clip to S seconds [0: as spoken]\n"
"  --espeak PATH       the espeak-ng program [espeak-ng]\n"
"  --nuisance M        none [default] or realistic (needs --length): a speaker is a voice (its\n"
"                      speeds and pitches are takes), babble or pink noise at --snr LO,HI dB\n"
"                      [0,20] of the clip RMS, level -26..-6 dB peak, optional --reverb 1, and\n"
"                      with --shortcut-class D a tone of --shortcut-hz [2000] Hz at --shortcut-db\n"
"                      [-20] dB of the peak in --shortcut-box T0,T1 s [0.1,0.3] on a fraction\n"
"                      --shortcut-frac [0.9] of the clips of D from all but the last\n"
"                      --test-voices N voices [0] (the test speakers: never the tone; list the\n"
"                      voices alternating by sex to hold out both)\n"
"Ranges: --digits 1..10, --planted-class and --shortcut-class -1..9, tones below half the --rate,\n"
"dB levels -120..0, --rate 4000..48000, --length 0..60, --speeds 80..450, --pitches 0..99,\n"
"--snr -30..60, --reverb 0|1, --test-voices 0..64. A bad or missing value exits with 2 before\n"
"anything is written.\n");
}

static uint64_t rng_state = 1;
static double urand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}
static double nrand(void)
{
    double u = urand(), v = urand();
    return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

/* ---- realistic mode: background noise, level, reverberation, a shortcut ---- */
typedef struct {
    int on, reverb;
    double snr_lo, snr_hi;   /* background pink noise SNR range, dB */
    int sc_class;            /* the shortcut's class or -1 */
    double sc_frac, sc_hz, sc_t0, sc_t1, sc_db;
    int sc_test_voices;      /* the last N voices are the test speakers: never the shortcut */
} realism;

/* pink (1/f) noise of unit variance: a sum of first-order low-pass processes with corners in
   octaves from 20 Hz to 3.2 kHz */
static void pink_noise(float *x, int64_t n, int rate)
{
    double st[8] = {0}, a[8], g[8];
    for (int k = 0; k < 8; k++) {
        double fc = 20.0 * pow(2, k);
        fc = fc < 0.45 * rate ? fc : 0.45 * rate;
        a[k] = exp(-2 * M_PI * fc / rate);
        g[k] = sqrt(1 - a[k] * a[k]);
    }
    for (int64_t t = 0; t < n; t++) {
        double s = 0;
        for (int k = 0; k < 8; k++)
            s += (st[k] = a[k] * st[k] + g[k] * nrand());
        x[t] = (float)(s / sqrt(8.0));
    }
}

/* babble: recent clean clips of other words and voices, mixed four at a time */
#define BABBLE_POOL 24
static struct {
    float *clip[BABBLE_POOL];
    int64_t len[BABBLE_POOL];
    int n, next;
} pool;

static void pool_add(const float *x, int64_t m)
{
    float *c = malloc(sizeof(float) * (size_t)m);
    if (!c)
        return; /* babble is optional: pink noise is used until the pool fills */
    memcpy(c, x, sizeof(float) * (size_t)m);
    free(pool.clip[pool.next]);
    pool.clip[pool.next] = c;
    pool.len[pool.next] = m;
    pool.next = (pool.next + 1) % BABBLE_POOL;
    pool.n += pool.n < BABBLE_POOL;
}

static void pool_free(void)
{
    for (int i = 0; i < BABBLE_POOL; i++)
        free(pool.clip[i]);
    memset(&pool, 0, sizeof pool);
}

/* four pooled clips, each at a random circular shift and unit RMS, summed and scaled to unit
   RMS into nz[m]; -1 while the pool holds fewer than 8 clips */
static int babble_noise(float *nz, int64_t m)
{
    if (pool.n < 8)
        return -1;
    memset(nz, 0, sizeof(float) * (size_t)m);
    for (int k = 0; k < 4; k++) {
        int i = (int)(urand() * pool.n) % pool.n;
        int64_t L = pool.len[i], sh = (int64_t)(urand() * (double)L);
        double e = 0;
        for (int64_t t = 0; t < L; t++)
            e += (double)pool.clip[i][t] * pool.clip[i][t];
        float g = (float)(1.0 / sqrt(e / (double)L + 1e-30));
        for (int64_t t = 0; t < m; t++)
            nz[t] += g * pool.clip[i][(t + sh) % L];
    }
    double e = 0;
    for (int64_t t = 0; t < m; t++)
        e += (double)nz[t] * nz[t];
    float g = (float)(1.0 / sqrt(e / (double)(m ? m : 1) + 1e-30));
    for (int64_t t = 0; t < m; t++)
        nz[t] *= g;
    return 0;
}

/* reverberation-like smearing: convolution with an exponentially decaying noise tail (RT60
   0.2-0.5 s), mixed 30 % wet */
static int reverb(float *x, int64_t n, int rate)
{
    double rt60 = 0.2 + 0.3 * urand();
    int64_t L = (int64_t)(rt60 * rate);
    float *h = malloc(sizeof(float) * (size_t)L), *y = calloc((size_t)n, sizeof(float));
    if (!h || !y) {
        free(h);
        free(y);
        return -1;
    }
    double e = 0;
    for (int64_t k = 0; k < L; k++) {
        h[k] = (float)(nrand() * pow(10, -3.0 * k / (double)L));
        e += (double)h[k] * h[k];
    }
    for (int64_t k = 0; k < L; k++)
        h[k] = (float)(h[k] / sqrt(e));
    for (int64_t t = 0; t < n; t++)
        for (int64_t k = 0; k < L && k <= t; k++)
            y[t] += h[k] * x[t - k];
    for (int64_t t = 0; t < n; t++)
        x[t] = (float)(0.7 * x[t] + 0.3 * y[t]);
    free(h);
    free(y);
    return 0;
}

/* the clip (m samples, already at its final length) gets an optional reverberation, background
   noise at a random SNR relative to its RMS (babble of other clips or pink noise, half and half;
   *babble says which), a random level of -26..-6 dB peak and, when asked, the shortcut tone in
   its time-frequency box; returns the SNR in dB or NAN when out of memory */
static double realistic_clip(float *x, int64_t m, int rate, const realism *R, int tone, int *babble)
{
    if (R->reverb && reverb(x, m, rate) != 0)
        return NAN;
    float *nz = malloc(sizeof(float) * (size_t)m);
    if (!nz)
        return NAN;
    double rms = 0, snr = R->snr_lo + (R->snr_hi - R->snr_lo) * urand();
    for (int64_t t = 0; t < m; t++)
        rms += (double)x[t] * x[t];
    rms = sqrt(rms / (double)(m ? m : 1));
    *babble = urand() < 0.5 && babble_noise(nz, m) == 0;
    if (!*babble)
        pink_noise(nz, m, rate);
    pool_add(x, m);
    double na = rms * pow(10, -snr / 20), peak = 0;
    for (int64_t t = 0; t < m; t++) {
        x[t] = (float)(x[t] + na * nz[t]);
        peak = fabs(x[t]) > peak ? fabs(x[t]) : peak;
    }
    free(nz);
    double g = pow(10, (-26 + 20 * urand()) / 20) / (peak > 0 ? peak : 1);
    int64_t t0 = (int64_t)(R->sc_t0 * rate), t1 = (int64_t)(R->sc_t1 * rate), fade = rate / 100;
    double ph = 2 * M_PI * urand(), ta = pow(10, R->sc_db / 20) * (peak > 0 ? peak : 1);
    for (int64_t t = 0; t < m; t++) {
        double v = x[t];
        if (tone && t >= t0 && t < t1) {
            double w = t - t0 < fade ? (double)(t - t0) / fade : t1 - 1 - t < fade ? (double)(t1 - 1 - t) / fade : 1;
            v += ta * w * sin(2 * M_PI * R->sc_hz * t / rate + ph);
        }
        x[t] = (float)(g * v);
    }
    return snr;
}

/* OUT/truth.tsv of the realistic mode: the shortcut's class, band, time box and share */
static int write_truth(const char *out, const realism *R, int nv, char *const *voices)
{
    char *tmp = tmp_out, path[4096];
    snprintf(tmp_out, sizeof tmp_out, "%s/.truth-%d.tsv", out, (int)getpid());
    snprintf(path, sizeof path, "%s/truth.tsv", out);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "kind\tclass\tfreq_hz\tt0_s\tt1_s\tlevel_db\tfraction\ttest_speakers\n");
    fprintf(f, "shortcut\t%d\t%g\t%g\t%g\t%g\t%g\t", R->sc_class, R->sc_hz, R->sc_t0, R->sc_t1, R->sc_db,
            R->sc_class >= 0 ? R->sc_frac : 0.0);
    for (int i = nv - R->sc_test_voices; i < nv; i++)
        fprintf(f, "%s%s", i > nv - R->sc_test_voices ? "," : "", i >= 0 ? voices[i] : "");
    fprintf(f, "%s\n", R->sc_test_voices ? "" : "-");
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return -1; /* the temporary goes at exit */
    tmp_out[0] = '\0';
    return 0;
}

static int split(char *s, char **out, int max)
{
    int n = 0;
    for (char *save = NULL, *t = strtok_r(s, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save))
        out[n++] = t;
    return n;
}

/* Run espeak-ng; 0 on success. */
static int speak(const char *prog, const char *voice, const char *speed, const char *pitch, const char *word,
                 const char *wav)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp(prog, prog, "-v", voice, "-s", speed, "-p", pitch, "-w", wav, word, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

typedef struct {
    char vbuf[1024], sbuf[256], pbuf[256]; /* comma lists, split in place later */
    const char *lang, *prog, *out;
    int ndigits, planted, rate;
    double planted_hz, planted_db, noise_db, length_s;
    realism R;
} speech_options;

/* A numeric option @p a with its value @p v: 1 when taken, 0 when @p a is none of them, -1 when
   the value is refused (message printed). Tones stay below the Nyquist frequency of the highest
   --rate; the one given is checked at the end. */
static int numeric_option(speech_options *o, const char *a, const char *v)
{
    realism *R = &o->R;
    double t[2];
    uint64_t seed;
    int rc = 0;
    if (!strcmp(a, "--digits")) rc = gen_arg_int(a, v, 1, 10, &o->ndigits);
    else if (!strcmp(a, "--planted-class")) rc = gen_arg_int(a, v, -1, 9, &o->planted);
    else if (!strcmp(a, "--planted-hz")) rc = gen_arg_real(a, v, 0, 24000, GEN_OPEN_LO | GEN_OPEN_HI, &o->planted_hz);
    else if (!strcmp(a, "--planted-db")) rc = gen_arg_real(a, v, -120, 0, 0, &o->planted_db);
    else if (!strcmp(a, "--noise-db")) rc = gen_arg_real(a, v, -120, 0, 0, &o->noise_db);
    else if (!strcmp(a, "--rate")) rc = gen_arg_int(a, v, 4000, 48000, &o->rate);
    else if (!strcmp(a, "--length")) rc = gen_arg_real(a, v, 0, 60, 0, &o->length_s);
    else if (!strcmp(a, "--seed")) {
        if ((rc = gen_arg_seed(a, v, &seed)) == 0)
            rng_state = seed * 2654435761u + 1;
    } else if (!strcmp(a, "--snr")) {
        if ((rc = gen_arg_tuple(a, v, ',', 2, -30, 60, 0, t)) == 0)
            R->snr_lo = t[0], R->snr_hi = t[1];
    } else if (!strcmp(a, "--shortcut-box")) {
        if ((rc = gen_arg_tuple(a, v, ',', 2, 0, 60, 0, t)) == 0)
            R->sc_t0 = t[0], R->sc_t1 = t[1];
    } else if (!strcmp(a, "--reverb")) rc = gen_arg_int(a, v, 0, 1, &R->reverb);
    else if (!strcmp(a, "--shortcut-class")) rc = gen_arg_int(a, v, -1, 9, &R->sc_class);
    else if (!strcmp(a, "--shortcut-frac")) rc = gen_arg_real(a, v, 0, 1, 0, &R->sc_frac);
    else if (!strcmp(a, "--shortcut-hz")) rc = gen_arg_real(a, v, 0, 24000, GEN_OPEN_LO | GEN_OPEN_HI, &R->sc_hz);
    else if (!strcmp(a, "--shortcut-db")) rc = gen_arg_real(a, v, -120, 0, 0, &R->sc_db);
    else if (!strcmp(a, "--test-voices")) rc = gen_arg_int(a, v, 0, 64, &R->sc_test_voices);
    else
        return 0;
    return rc ? -1 : 1;
}

/* Option @p a with its value @p v: 0 when taken, 2 (message printed) when unknown or invalid */
static int parse_option(speech_options *o, const char *a, const char *v)
{
    int rc = numeric_option(o, a, v);
    if (rc != 0)
        return rc < 0 ? 2 : 0;
    if (!strcmp(a, "--voices")) snprintf(o->vbuf, sizeof o->vbuf, "%s", v);
    else if (!strcmp(a, "--speeds")) snprintf(o->sbuf, sizeof o->sbuf, "%s", v);
    else if (!strcmp(a, "--pitches")) snprintf(o->pbuf, sizeof o->pbuf, "%s", v);
    else if (!strcmp(a, "--lang")) o->lang = v;
    else if (!strcmp(a, "--espeak")) o->prog = v;
    else if (!strcmp(a, "--nuisance") && strcmp(v, "none") && strcmp(v, "realistic")) {
        gen_arg_invalid(a, v, "none or realistic");
        return 2;
    } else if (!strcmp(a, "--nuisance")) o->R.on = !strcmp(v, "realistic");
    else {
        fprintf(stderr, "gen_speech: unknown option %s\n", a);
        return 2;
    }
    return 0;
}

/* 0 when @p list holds 1 to 16 comma-separated integers in [lo, hi] (espeak-ng's words per minute
   or pitches), else -1 (message printed) */
static int check_list(const char *opt, const char *list, int lo, int hi)
{
    double t[16];
    int n = 1;
    for (const char *c = list; *c; c++)
        n += *c == ',';
    if (n <= 16 && gen_parse_tuple(list, ',', n, lo, hi, 1, t) == 0)
        return 0;
    char what[96];
    snprintf(what, sizeof what, "1 to 16 comma-separated integers from %d to %d", lo, hi);
    return gen_arg_invalid(opt, list, what);
}

/* -1 when the command line is valid, else the exit code (0 after --help) */
static int parse_args(int argc, char **argv, speech_options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (a[0] != '-') {
            o->out = a;
            continue;
        }
        if (!v) {
            gen_arg_invalid(a, v, "");
            return 2;
        }
        i++;
        if (parse_option(o, a, v))
            return 2;
    }
    const realism *R = &o->R;
    if (R->on && (o->length_s <= 0 || R->sc_t0 < 0 || R->sc_t1 <= R->sc_t0 || R->sc_t1 > o->length_s ||
                  R->sc_hz <= 0 || R->sc_hz >= o->rate / 2.0 || R->snr_hi < R->snr_lo || R->sc_test_voices < 0)) {
        fprintf(stderr, "gen_speech: --nuisance realistic needs --length > 0, a --shortcut-box inside it, "
                        "--snr LO,HI with LO <= HI and --shortcut-hz below half the --rate\n");
        return 2;
    }
    if (o->planted_hz >= o->rate / 2.0) {
        fprintf(stderr, "gen_speech: --planted-hz: invalid value '%g' (expected below half the --rate, %g Hz)\n",
                o->planted_hz, o->rate / 2.0);
        return 2;
    }
    if (check_list("--speeds", o->sbuf, 80, 450) || check_list("--pitches", o->pbuf, 0, 99))
        return 2;
    if (!o->out) {
        usage(stderr);
        return 2;
    }
    return -1;
}

/* Strips the ":male"/":female" suffixes off @p voices; without one, names starting with 'f' are
   female. 0, or 2 (message printed) for another suffix. */
static int voice_genders(char **voices, int nv, const char **gender)
{
    for (int i = 0; i < nv; i++) {
        char *colon = strchr(voices[i], ':');
        gender[i] = voices[i][0] == 'f' ? "female" : "male";
        if (colon) {
            *colon = '\0';
            if (strcmp(colon + 1, "male") && strcmp(colon + 1, "female")) {
                fprintf(stderr, "gen_speech: voice %s: gender must be male or female\n", voices[i]);
                return 2;
            }
            gender[i] = colon + 1;
        }
    }
    return 0;
}

/* one voice at one speed and pitch */
typedef struct {
    char voice[128], speaker[128];
    const char *speed, *pitch, *gender;
    int take, test;
} speech_take;

/* espeak-ng's WAV at @p tmp, resampled to @p rate into @p r; 0, or 1 (message printed) */
static int load_word(const char *tmp, int rate, xai_audio *r)
{
    xai_audio a = {0};
    if (xai_audio_load(tmp, &a) != XAI_OK || xai_audio_resample(&a, rate, XAI_RESAMPLE_MEDIUM, r) != XAI_OK) {
        fprintf(stderr, "gen_speech: %s\n", xai_last_error());
        xai_audio_free(&a);
        return 1;
    }
    xai_audio_free(&a);
    return 0;
}

/* The word trimmed of leading and trailing silence (below 2% of its peak), at a random level,
   with the white noise floor (amplitude *na) and, for the planted class, the tone over all of
   it; written to the start of r->data, *m samples. 0, or 1 (message printed) for a silent word. */
static int shape_word(const speech_options *o, xai_audio *r, const char *voice, int d, int64_t *m, double *na)
{
    float *x = r->data;
    int64_t n = r->info.frames, b = 0, e = n;
    float peak = 0;
    for (int64_t t = 0; t < n; t++)
        peak = fabsf(x[t]) > peak ? fabsf(x[t]) : peak;
    if (peak <= 0) {
        fprintf(stderr, "gen_speech: %s said nothing for '%s'\n", voice, words[d]);
        return 1;
    }
    while (b < n && fabsf(x[b]) < 0.02f * peak)
        b++;
    while (e > b && fabsf(x[e - 1]) < 0.02f * peak)
        e--;
    *m = e - b;
    double level = 0.3 + 0.5 * urand();
    double g = level / peak;
    *na = level * pow(10, o->noise_db / 20);
    double ta = level * pow(10, o->planted_db / 20), ph = 2 * M_PI * urand();
    int64_t fade = o->rate / 100;
    for (int64_t t = 0; t < *m; t++) {
        double v = x[b + t] * g + *na * nrand();
        if (d == o->planted) {
            double w = t < fade ? (double)t / fade : *m - 1 - t < fade ? (double)(*m - 1 - t) / fade : 1;
            v += ta * w * sin(2 * M_PI * o->planted_hz * t / o->rate + ph);
        }
        x[t] = (float)v;
    }
    return 0;
}

/* The clip centred in --length seconds of the noise floor, or cut to it; *m becomes that length */
static float *pad_clip(const float *x, int64_t *m, double length_s, int rate, double na)
{
    int64_t L = (int64_t)llround(length_s * rate), keep = *m < L ? *m : L, off = (L - keep) / 2;
    float *padded = malloc(sizeof(float) * (size_t)L);
    if (!padded)
        return NULL;
    for (int64_t t = 0; t < L; t++)
        padded[t] = (float)(na * nrand());
    for (int64_t t = 0; t < keep; t++)
        padded[off + t] = x[t];
    *m = L;
    return padded;
}

/* Digit d of take @p tk: spoken, shaped, padded, the realistic nuisances, saved as a WAV and
   listed in @p csv. 0, or 1 (message printed). */
static int make_clip(const speech_options *o, const speech_take *tk, int d, const char *tmp, FILE *csv)
{
    const realism *R = &o->R;
    if (speak(o->prog, tk->voice, tk->speed, tk->pitch, words[d], tmp) != 0) {
        fprintf(stderr, "gen_speech: %s -v %s failed (is espeak-ng installed?)\n", o->prog, tk->voice);
        unlink(tmp);
        return 1;
    }
    xai_audio r = {0};
    if (load_word(tmp, o->rate, &r))
        return 1;
    int64_t m;
    double na;
    float *clip = r.data, *padded = NULL;
    if (shape_word(o, &r, tk->voice, d, &m, &na) ||
        (o->length_s > 0 && !(clip = padded = pad_clip(r.data, &m, o->length_s, o->rate, na)))) {
        if (clip == NULL)
            fprintf(stderr, "gen_speech: out of memory\n");
        xai_audio_free(&r);
        return 1;
    }
    int tone = R->on && d == R->sc_class && !tk->test && urand() < R->sc_frac;
    int babble = 0;
    double snr = R->on ? realistic_clip(clip, m, o->rate, R, tone, &babble) : 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/%d_%s_%d.wav", o->out, d, tk->speaker, tk->take);
    xai_status sst = isnan(snr) ? XAI_OK : xai_audio_save(path, clip, 1, m, o->rate, XAI_AUDIO_WAV_PCM16);
    free(padded);
    xai_audio_free(&r);
    if (isnan(snr) || sst != XAI_OK) {
        fprintf(stderr, "gen_speech: %s\n", isnan(snr) ? "out of memory" : xai_last_error());
        return 1;
    }
    fprintf(csv, "%d_%s_%d.wav,%d,%s,%s,%s,%s,%s,%d", d, tk->speaker, tk->take, d, tk->gender, tk->speaker,
            tk->voice, tk->speed, tk->pitch, R->on ? tone : d == o->planted);
    if (R->on)
        fprintf(csv, ",%.1f,%s,%s", snr, babble ? "babble" : "pink", tk->test ? "test" : "train");
    fputc('\n', csv);
    return 0;
}

/* Every digit of every voice, speed and pitch; the number of clips, or -1 (message printed) */
static int make_clips(const speech_options *o, char **voices, const char **gender, int nv, char **speeds,
                      int ns, char **pitches, int np, const char *tmp, FILE *csv)
{
    int nclips = 0;
    for (int iv = 0; iv < nv; iv++)
        for (int is = 0; is < ns; is++)
            for (int ip = 0; ip < np; ip++) {
                speech_take tk = {.speed = speeds[is], .pitch = pitches[ip], .gender = gender[iv]};
                snprintf(tk.voice, sizeof tk.voice, "%s+%s", o->lang, voices[iv]);
                if (o->R.on) /* a speaker is a voice; its speeds and pitches are its takes */
                    snprintf(tk.speaker, sizeof tk.speaker, "%s", voices[iv]);
                else
                    snprintf(tk.speaker, sizeof tk.speaker, "%ss%sp%s", voices[iv], speeds[is], pitches[ip]);
                tk.take = o->R.on ? is * np + ip : 0;
                tk.test = iv >= nv - o->R.sc_test_voices;
                for (int d = 0; d < o->ndigits; d++, nclips++)
                    if (make_clip(o, &tk, d, tmp, csv))
                        return -1;
            }
    return nclips;
}

/* A held-out split whose test speakers are all one sex confounds sex with the split: say so,
   since the test speakers are simply the last voices listed. */
static void warn_one_sex_test(char *const *voices, const char *const *gender, int nv, int ntest)
{
    int first = nv - ntest < 0 ? 0 : nv - ntest, same = 1;
    for (int i = first + 1; i < nv; i++)
        same &= strcmp(gender[i], gender[first]) == 0;
    if (ntest >= 2 && first < nv && same)
        fprintf(stderr, "gen_speech: warning: the %d test voices (%s ... %s) are all %s: list the voices "
                        "alternating by sex (m1,f1,m2,f2,...) to hold out both\n",
                nv - first, voices[first], voices[nv - 1], gender[first]);
}

int main(int argc, char **argv)
{
    speech_options o = {
        .vbuf = "m1,m2,m3,m4,m5,m6,m7,m8,Andy:male,Denis:male,Hugo:male,Lee:male,travis:male,"
                "victor:male,michel:male,Marco:male,antonio:male,f1,f2,f3,f4,f5,Annie:female,"
                "Alicia:female,Andrea:female,anika:female,aunty:female,belinda:female,linda:female,"
                "steph:female,steph2:female,steph3:female,grandma:female",
        .sbuf = "130,160,190", .pbuf = "35,50,65", .lang = "en-us", .prog = "espeak-ng",
        .ndigits = 10, .planted = -1, .rate = 8000, .planted_hz = 1500, .planted_db = -14, .noise_db = -45,
        .R = {0, 0, 0, 20, -1, 0.9, 2000, 0.1, 0.3, -20, 0}};
    int urc = parse_args(argc, argv, &o);
    if (urc >= 0)
        return urc;
    char *voices[64], *speeds[16], *pitches[16];
    const char *gender[64];
    int nv = split(o.vbuf, voices, 64), ns = split(o.sbuf, speeds, 16), np = split(o.pbuf, pitches, 16);
    if (voice_genders(voices, nv, gender))
        return 2;
    warn_one_sex_test(voices, gender, nv, o.R.sc_test_voices);
    if (mkdir(o.out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "gen_speech: %s: %s\n", o.out, strerror(errno));
        return 1;
    }
    char path[4096];
    const char *tmp = tmp_wav, *csvp = tmp_out;
    snprintf(tmp_wav, sizeof tmp_wav, "%s/.espeak-%d.wav", o.out, (int)getpid());
    snprintf(tmp_out, sizeof tmp_out, "%s/.labels-%d.csv", o.out, (int)getpid());
    atexit(remove_temporaries);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    FILE *csv = fopen(csvp, "w");
    if (!csv) {
        fprintf(stderr, "gen_speech: %s: %s\n", csvp, strerror(errno));
        return 1;
    }
    fprintf(csv, "file,digit,gender,speaker,voice,speed,pitch,planted%s\n", o.R.on ? ",snr_db,noise,split" : "");
    int nclips = make_clips(&o, voices, gender, nv, speeds, ns, pitches, np, tmp, csv);
    if (nclips < 0) {
        fclose(csv);
        return 1;
    }
    pool_free();
    if (fclose(csv) != 0) {
        fprintf(stderr, "gen_speech: %s: write failed\n", csvp);
        return 1;
    }
    snprintf(path, sizeof path, "%s/labels.csv", o.out);
    if (rename(csvp, path) != 0) {
        fprintf(stderr, "gen_speech: %s: %s\n", path, strerror(errno));
        return 1;
    }
    tmp_out[0] = '\0';
    if (o.R.on && write_truth(o.out, &o.R, nv, voices) != 0) {
        fprintf(stderr, "gen_speech: %s/truth.tsv: %s\n", o.out, strerror(errno));
        return 1;
    }
    printf("gen_speech: %d clips in %s\n", nclips, o.out);
    return 0;
}
