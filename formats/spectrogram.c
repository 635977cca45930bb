/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * spectrogram.c - STFT / ISTFT through FFTW single precision, mel filterbanks, dB, presets.
 * FFTW plans (r2c and c2r, FFTW_ESTIMATE) are cached per length and shared; planning and
 * destroying happen under one mutex because FFTW's planner is not thread-safe
 * (FFTW manual, "Thread safety"). Execution uses the new-array interface on per-call
 * fftwf_malloc buffers, so one plan may run in several threads at once.
 * Refs: scipy.signal.stft (spectrum scaling, boundary and padded semantics);
 * librosa.filters.mel and torchaudio.functional.melscale_fbanks (mel filterbanks);
 * Slaney, Auditory Toolbox TR 1998-010 (Slaney mel scale); Young et al., HTK Book (HTK mel);
 * Griffin & Lim 1984 (weighted overlap-add inverse); Becker et al. arXiv:1807.03418 (AudioMNIST).
 */
#include "xai/spectrogram.h"

#include "xai/audio.h"

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- shared FFTW plans -------------------------------------------------------------- */

typedef struct plan_entry {
    int n;
    int refs;
    fftwf_plan r2c, c2r;
    struct plan_entry *next;
} plan_entry;

static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;
static plan_entry *plan_list;

static plan_entry *plan_acquire(int n)
{
    pthread_mutex_lock(&plan_lock);
    plan_entry *e;
    for (e = plan_list; e; e = e->next)
        if (e->n == n)
            break;
    if (e) {
        e->refs++;
        pthread_mutex_unlock(&plan_lock);
        return e;
    }
    e = calloc(1, sizeof *e);
    float *in = fftwf_malloc(sizeof(float) * (size_t)n);
    fftwf_complex *cx = fftwf_malloc(sizeof(fftwf_complex) * (size_t)(n / 2 + 1));
    if (e && in && cx) {
        e->n = n;
        e->refs = 1;
        e->r2c = fftwf_plan_dft_r2c_1d(n, in, cx, FFTW_ESTIMATE);
        e->c2r = fftwf_plan_dft_c2r_1d(n, cx, in, FFTW_ESTIMATE);
        if (e->r2c && e->c2r) {
            e->next = plan_list;
            plan_list = e;
        } else {
            if (e->r2c)
                fftwf_destroy_plan(e->r2c);
            if (e->c2r)
                fftwf_destroy_plan(e->c2r);
            free(e);
            e = NULL;
        }
    } else {
        free(e);
        e = NULL;
    }
    fftwf_free(in);
    fftwf_free(cx);
    pthread_mutex_unlock(&plan_lock);
    return e;
}

static void plan_release(plan_entry *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&plan_lock);
    if (--e->refs == 0) {
        plan_entry **pp = &plan_list;
        while (*pp && *pp != e)
            pp = &(*pp)->next;
        if (*pp)
            *pp = e->next;
        fftwf_destroy_plan(e->r2c);
        fftwf_destroy_plan(e->c2r);
        free(e);
    }
    pthread_mutex_unlock(&plan_lock);
}

/* ---- STFT --------------------------------------------------------------------------- */

struct xai_stft {
    xai_stft_config cfg;
    int bins;
    float *window; /* n_fft, zero-padded and centred */
    double win_sum;
    plan_entry *plan;
};

void xai_stft_config_default(xai_stft_config *c)
{
    if (!c)
        return;
    memset(c, 0, sizeof *c);
    c->n_fft = 2048;
    c->win_length = 2048;
    c->hop = 512;
    c->window = XAI_WINDOW_HANN;
    c->center = 1;
    c->pad_mode = XAI_PAD_CONSTANT;
    c->pad_end = 0;
    c->scaling = XAI_STFT_SCALE_NONE;
}

static void make_window(xai_window w, int len, float *out)
{
    for (int i = 0; i < len; i++) {
        double v = 1.0;
        int sym = w == XAI_WINDOW_HANN_SYMMETRIC || w == XAI_WINDOW_HAMMING_SYMMETRIC;
        double denom = sym ? (double)(len - 1) : (double)len;
        double ph = denom > 0 ? 2.0 * M_PI * i / denom : 0.0;
        switch (w) {
        case XAI_WINDOW_HANN:
        case XAI_WINDOW_HANN_SYMMETRIC:
            v = len == 1 ? 1.0 : 0.5 - 0.5 * cos(ph);
            break;
        case XAI_WINDOW_HAMMING:
        case XAI_WINDOW_HAMMING_SYMMETRIC:
            v = len == 1 ? 1.0 : 0.54 - 0.46 * cos(ph);
            break;
        case XAI_WINDOW_RECT:
            v = 1.0;
            break;
        }
        out[i] = (float)v;
    }
}

xai_status xai_stft_new(const xai_stft_config *cfg, xai_stft **out)
{
    if (!out || !cfg)
        return xai_error_set(XAI_EINVAL, "xai_stft_new: NULL argument");
    *out = NULL;
    xai_stft_config c = *cfg;
    if (c.n_fft < 2 || c.n_fft > (1 << 24))
        return xai_error_set(XAI_EINVAL, "xai_stft_new: n_fft %d outside [2, 2^24]", c.n_fft);
    if (c.win_length == 0)
        c.win_length = c.n_fft;
    if (c.win_length < 1 || c.win_length > c.n_fft)
        return xai_error_set(XAI_EINVAL, "xai_stft_new: win_length %d outside [1, n_fft=%d]", c.win_length,
                             c.n_fft);
    if (c.hop == 0)
        c.hop = c.win_length / 4 > 0 ? c.win_length / 4 : 1;
    if (c.hop < 1)
        return xai_error_set(XAI_EINVAL, "xai_stft_new: hop %d < 1", c.hop);
    if ((unsigned)c.window > XAI_WINDOW_RECT || (unsigned)c.pad_mode > XAI_PAD_REFLECT ||
        (unsigned)c.scaling > XAI_STFT_SCALE_SPECTRUM)
        return xai_error_set(XAI_EINVAL, "xai_stft_new: unknown window, pad mode or scaling");
    xai_stft *s = calloc(1, sizeof *s);
    if (!s)
        return xai_error_set(XAI_ENOMEM, "xai_stft_new: out of memory");
    s->cfg = c;
    s->bins = c.n_fft / 2 + 1;
    s->window = calloc((size_t)c.n_fft, sizeof(float));
    if (!s->window) {
        free(s);
        return xai_error_set(XAI_ENOMEM, "xai_stft_new: out of memory");
    }
    make_window(c.window, c.win_length, s->window + (c.n_fft - c.win_length) / 2);
    for (int i = 0; i < c.n_fft; i++)
        s->win_sum += s->window[i];
    if (c.scaling == XAI_STFT_SCALE_SPECTRUM && !(s->win_sum > 0)) {
        xai_stft_free(s);
        return xai_error_set(XAI_EINVAL, "xai_stft_new: window sums to zero, cannot scale");
    }
    s->plan = plan_acquire(c.n_fft);
    if (!s->plan) {
        xai_stft_free(s);
        return xai_error_set(XAI_EDEP, "xai_stft_new: FFTW could not plan a length-%d transform", c.n_fft);
    }
    *out = s;
    return XAI_OK;
}

void xai_stft_free(xai_stft *s)
{
    if (!s)
        return;
    plan_release(s->plan);
    free(s->window);
    free(s);
}

const xai_stft_config *xai_stft_get_config(const xai_stft *s)
{
    return s ? &s->cfg : NULL;
}

int xai_stft_bins(const xai_stft *s)
{
    return s ? s->bins : 0;
}

const float *xai_stft_window(const xai_stft *s)
{
    return s ? s->window : NULL;
}

/* length of the padded signal that frames are cut from */
static int64_t padded_length(const xai_stft_config *c, int64_t n)
{
    int64_t L = n + (c->center ? 2 * (int64_t)(c->n_fft / 2) : 0);
    if (c->pad_end) {
        /* scipy: nadd = (-(L - nperseg) % nstep) % nperseg, with Python's (non-negative) modulo */
        int64_t nadd = ((c->n_fft - L) % c->hop + c->hop) % c->hop;
        nadd %= c->n_fft;
        L += nadd;
        if (L < c->n_fft)
            L = c->n_fft;
    }
    return L;
}

int64_t xai_stft_frames(const xai_stft *s, int64_t n)
{
    if (!s || n < 1 || n > ((int64_t)1 << 40))
        return 0;
    int64_t L = padded_length(&s->cfg, n);
    if (L < s->cfg.n_fft)
        return 0;
    return (L - s->cfg.n_fft) / s->cfg.hop + 1;
}

/* sample i of the padded signal */
static float padded_sample(const xai_stft_config *c, const float *x, int64_t n, int64_t i)
{
    int64_t padl = c->center ? c->n_fft / 2 : 0;
    int64_t k = i - padl;
    if (k >= 0 && k < n)
        return x[k];
    if (!c->center || c->pad_mode != XAI_PAD_REFLECT || k < -padl || k >= n + padl)
        return 0.0f;
    if (n == 1)
        return x[0];
    int64_t period = 2 * (n - 1);
    k %= period;
    if (k < 0)
        k += period;
    if (k >= n)
        k = period - k;
    return x[k];
}

static xai_status check_args(const xai_stft *s, const float *x, int64_t n, const float *out, int64_t frames,
                             const char *fn)
{
    if (!s || !x || !out)
        return xai_error_set(XAI_EINVAL, "%s: NULL argument", fn);
    int64_t want = xai_stft_frames(s, n);
    if (want < 1)
        return xai_error_set(XAI_EINVAL, "%s: signal of %lld samples is too short for n_fft %d", fn,
                             (long long)n, s->cfg.n_fft);
    if (frames != want)
        return xai_error_set(XAI_EINVAL, "%s: %lld frames given, %lld needed", fn, (long long)frames,
                             (long long)want);
    return XAI_OK;
}

/* shared driver: call emit(t, spectrum) per frame */
typedef void (*emit_fn)(const xai_stft *s, int64_t t, int64_t frames, fftwf_complex *X, float scale,
                        float *out, float power);

static xai_status run_stft(const xai_stft *s, const float *x, int64_t n, float *out, int64_t frames, emit_fn emit,
                           float power)
{
    const int N = s->cfg.n_fft;
    float *buf = fftwf_malloc(sizeof(float) * (size_t)N);
    fftwf_complex *X = fftwf_malloc(sizeof(fftwf_complex) * (size_t)s->bins);
    if (!buf || !X) {
        fftwf_free(buf);
        fftwf_free(X);
        return xai_error_set(XAI_ENOMEM, "xai_stft: out of memory");
    }
    const float scale = s->cfg.scaling == XAI_STFT_SCALE_SPECTRUM ? (float)(1.0 / s->win_sum) : 1.0f;
    for (int64_t t = 0; t < frames; t++) {
        int64_t start = t * s->cfg.hop;
        for (int j = 0; j < N; j++)
            buf[j] = s->window[j] == 0.0f ? 0.0f : s->window[j] * padded_sample(&s->cfg, x, n, start + j);
        fftwf_execute_dft_r2c(s->plan->r2c, buf, X);
        emit(s, t, frames, X, scale, out, power);
    }
    fftwf_free(buf);
    fftwf_free(X);
    return XAI_OK;
}

static void emit_complex(const xai_stft *s, int64_t t, int64_t frames, fftwf_complex *X, float scale,
                         float *out, float power)
{
    (void)power;
    for (int f = 0; f < s->bins; f++) {
        float *o = out + 2 * ((size_t)f * (size_t)frames + (size_t)t);
        o[0] = X[f][0] * scale;
        o[1] = X[f][1] * scale;
    }
}

static void emit_power(const xai_stft *s, int64_t t, int64_t frames, fftwf_complex *X, float scale,
                       float *out, float power)
{
    for (int f = 0; f < s->bins; f++) {
        double re = (double)X[f][0] * scale, im = (double)X[f][1] * scale;
        double p2 = re * re + im * im;
        double v = power == 2.0f ? p2 : power == 1.0f ? sqrt(p2) : pow(sqrt(p2), power);
        out[(size_t)f * (size_t)frames + (size_t)t] = (float)v;
    }
}

xai_status xai_stft_forward(const xai_stft *s, const float *x, int64_t n, float *out, int64_t frames)
{
    xai_status st = check_args(s, x, n, out, frames, "xai_stft_forward");
    if (st != XAI_OK)
        return st;
    return run_stft(s, x, n, out, frames, emit_complex, 1.0f);
}

xai_status xai_stft_power(const xai_stft *s, const float *x, int64_t n, float power, float *out, int64_t frames)
{
    xai_status st = check_args(s, x, n, out, frames, "xai_stft_power");
    if (st != XAI_OK)
        return st;
    if (!(power > 0) || !isfinite(power))
        return xai_error_set(XAI_EINVAL, "xai_stft_power: power %g must be > 0", (double)power);
    return run_stft(s, x, n, out, frames, emit_power, power);
}

xai_status xai_stft_inverse(const xai_stft *s, const float *spec, int64_t frames, float *y, int64_t n)
{
    if (!s || !spec || !y)
        return xai_error_set(XAI_EINVAL, "xai_stft_inverse: NULL argument");
    if (frames < 1 || n < 1 || frames > ((int64_t)1 << 40) / s->cfg.hop)
        return xai_error_set(XAI_EINVAL, "xai_stft_inverse: %lld frames, %lld samples", (long long)frames,
                             (long long)n);
    const int N = s->cfg.n_fft, hop = s->cfg.hop;
    const int64_t L = (frames - 1) * hop + N;
    double *acc = calloc((size_t)L, sizeof(double));
    double *wss = calloc((size_t)L, sizeof(double));
    float *buf = fftwf_malloc(sizeof(float) * (size_t)N);
    fftwf_complex *X = fftwf_malloc(sizeof(fftwf_complex) * (size_t)s->bins);
    if (!acc || !wss || !buf || !X) {
        free(acc);
        free(wss);
        fftwf_free(buf);
        fftwf_free(X);
        return xai_error_set(XAI_ENOMEM, "xai_stft_inverse: out of memory");
    }
    const double unscale = s->cfg.scaling == XAI_STFT_SCALE_SPECTRUM ? s->win_sum : 1.0;
    for (int64_t t = 0; t < frames; t++) {
        for (int f = 0; f < s->bins; f++) {
            const float *c = spec + 2 * ((size_t)f * (size_t)frames + (size_t)t);
            X[f][0] = c[0];
            X[f][1] = c[1];
        }
        fftwf_execute_dft_c2r(s->plan->c2r, X, buf); /* destroys X, which we refill */
        for (int j = 0; j < N; j++) {
            double w = s->window[j];
            acc[t * hop + j] += w * buf[j] * unscale / N;
            wss[t * hop + j] += w * w;
        }
    }
    const int64_t padl = s->cfg.center ? N / 2 : 0;
    for (int64_t k = 0; k < n; k++) {
        int64_t i = k + padl;
        double v = 0.0;
        if (i < L) {
            v = acc[i];
            if (wss[i] > 1e-10)
                v /= wss[i];
        }
        y[k] = (float)v;
    }
    free(acc);
    free(wss);
    fftwf_free(buf);
    fftwf_free(X);
    return XAI_OK;
}

/* ---- mel ---------------------------------------------------------------------------- */

#define SLANEY_F_SP (200.0 / 3.0)
#define SLANEY_MIN_LOG_HZ 1000.0
#define SLANEY_MIN_LOG_MEL (SLANEY_MIN_LOG_HZ / SLANEY_F_SP)
#define SLANEY_LOGSTEP (0.06875177742094912) /* log(6.4) / 27 */

double xai_hz_to_mel(double hz, xai_mel_scale scale)
{
    if (scale == XAI_MEL_HTK)
        return 2595.0 * log10(1.0 + hz / 700.0);
    if (hz >= SLANEY_MIN_LOG_HZ)
        return SLANEY_MIN_LOG_MEL + log(hz / SLANEY_MIN_LOG_HZ) / SLANEY_LOGSTEP;
    return hz / SLANEY_F_SP;
}

double xai_mel_to_hz(double mel, xai_mel_scale scale)
{
    if (scale == XAI_MEL_HTK)
        return 700.0 * (pow(10.0, mel / 2595.0) - 1.0);
    if (mel >= SLANEY_MIN_LOG_MEL)
        return SLANEY_MIN_LOG_HZ * exp(SLANEY_LOGSTEP * (mel - SLANEY_MIN_LOG_MEL));
    return SLANEY_F_SP * mel;
}

xai_status xai_mel_filterbank(int sample_rate, int n_fft, int n_mels, double fmin, double fmax,
                              xai_mel_scale scale, xai_mel_norm norm, float *fb)
{
    if (!fb || sample_rate <= 0 || n_fft < 2 || n_fft > (1 << 24) || n_mels < 1 || n_mels > 4096)
        return xai_error_set(XAI_EINVAL, "xai_mel_filterbank: bad arguments (sr %d, n_fft %d, n_mels %d)",
                             sample_rate, n_fft, n_mels);
    if (fmax <= 0)
        fmax = sample_rate / 2.0;
    if (!(fmin >= 0) || !(fmax > fmin) || (unsigned)scale > XAI_MEL_HTK || (unsigned)norm > XAI_MEL_NORM_SLANEY)
        return xai_error_set(XAI_EINVAL, "xai_mel_filterbank: bad band [%g, %g] Hz or unknown scale/norm", fmin,
                             fmax);
    const int bins = n_fft / 2 + 1;
    double *hz = malloc(sizeof(double) * (size_t)(n_mels + 2));
    if (!hz)
        return xai_error_set(XAI_ENOMEM, "xai_mel_filterbank: out of memory");
    const double m0 = xai_hz_to_mel(fmin, scale), m1 = xai_hz_to_mel(fmax, scale);
    for (int i = 0; i < n_mels + 2; i++)
        hz[i] = xai_mel_to_hz(m0 + (m1 - m0) * i / (n_mels + 1), scale);
    for (int m = 0; m < n_mels; m++) {
        const double lo = hz[m], mid = hz[m + 1], hi = hz[m + 2];
        const double enorm = norm == XAI_MEL_NORM_SLANEY ? 2.0 / (hi - lo) : 1.0;
        for (int k = 0; k < bins; k++) {
            double f = (double)k * sample_rate / n_fft;
            double up = (f - lo) / (mid - lo), down = (hi - f) / (hi - mid);
            double w = up < down ? up : down;
            fb[(size_t)m * bins + k] = (float)(w > 0 ? w * enorm : 0.0);
        }
    }
    free(hz);
    return XAI_OK;
}

xai_status xai_mel_apply(const float *fb, int n_mels, int bins, const float *spec, int64_t frames, float *out)
{
    if (!fb || !spec || !out || n_mels < 1 || bins < 1 || frames < 1)
        return xai_error_set(XAI_EINVAL, "xai_mel_apply: bad arguments");
    for (int m = 0; m < n_mels; m++) {
        float *o = out + (size_t)m * (size_t)frames;
        for (int64_t t = 0; t < frames; t++)
            o[t] = 0.0f;
        for (int k = 0; k < bins; k++) {
            float w = fb[(size_t)m * bins + k];
            if (w == 0.0f)
                continue;
            const float *r = spec + (size_t)k * (size_t)frames;
            for (int64_t t = 0; t < frames; t++)
                o[t] += w * r[t];
        }
    }
    return XAI_OK;
}

/* ---- dB ----------------------------------------------------------------------------- */

xai_status xai_db_convert(float *x, size_t n, const xai_db_config *c)
{
    if (!x || !c || n == 0)
        return xai_error_set(XAI_EINVAL, "xai_db_convert: bad arguments");
    if (!(c->amin > 0) || c->multiplier == 0 || !isfinite(c->multiplier))
        return xai_error_set(XAI_EINVAL, "xai_db_convert: amin %g must be > 0 and multiplier non-zero",
                             (double)c->amin);
    double ref = c->ref, mx = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!(x[i] >= 0))
            return xai_error_set(XAI_ENUMERIC, "xai_db_convert: value %zu is %g (negative or NaN)", i, (double)x[i]);
        if (x[i] > mx)
            mx = x[i];
    }
    if (c->ref_max)
        ref = mx;
    if (!(ref >= 0) || !isfinite(ref))
        return xai_error_set(XAI_EINVAL, "xai_db_convert: bad reference %g", ref);
    const double amin = c->amin;
    const double off = c->multiplier * log10(ref > amin ? ref : amin);
    double top = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double v = x[i] > amin ? x[i] : amin;
        double d = c->multiplier * log10(v) - off;
        x[i] = (float)d;
        if (d > top)
            top = d;
    }
    if (c->top_db > 0) {
        float floor_db = (float)(top - c->top_db);
        for (size_t i = 0; i < n; i++)
            if (x[i] < floor_db)
                x[i] = floor_db;
    }
    return XAI_OK;
}

/* ---- presets and pipeline -------------------------------------------------------- */

xai_status xai_spec_preset(const char *name, xai_spec_config *cfg)
{
    if (!name || !cfg)
        return xai_error_set(XAI_EINVAL, "xai_spec_preset: NULL argument");
    memset(cfg, 0, sizeof *cfg);
    xai_stft_config_default(&cfg->stft);
    cfg->embed_offset = -1;
    cfg->power = 2.0f;
    cfg->db = 1;
    cfg->db_cfg = (xai_db_config){10.0f, 0, 1.0f, 1e-10f, 0.0f};
    if (strcmp(name, "librosa") == 0) {
        cfg->sample_rate = 22050;
        cfg->n_mels = 128;
        cfg->mel_scale = XAI_MEL_SLANEY;
        cfg->mel_norm = XAI_MEL_NORM_SLANEY;
        cfg->db_cfg.top_db = 80.0f;
    } else if (strcmp(name, "torchaudio") == 0) {
        cfg->sample_rate = 16000;
        cfg->stft.n_fft = 400;
        cfg->stft.win_length = 400;
        cfg->stft.hop = 200;
        cfg->stft.pad_mode = XAI_PAD_REFLECT;
        cfg->n_mels = 128;
        cfg->mel_scale = XAI_MEL_HTK;
        cfg->mel_norm = XAI_MEL_NORM_NONE;
    } else if (strcmp(name, "audiomnist") == 0) {
        cfg->sample_rate = 8000;
        cfg->fixed_length = 8000;
        cfg->stft.n_fft = 455;
        cfg->stft.win_length = 455;
        cfg->stft.hop = 455 - 420;
        cfg->stft.pad_mode = XAI_PAD_CONSTANT;
        cfg->stft.pad_end = 1;
        cfg->stft.scaling = XAI_STFT_SCALE_SPECTRUM;
        cfg->power = 1.0f;
        cfg->crop_rows = 227;
        cfg->crop_first_frame = 2;
        cfg->crop_last_frames = 1;
        cfg->db_cfg = (xai_db_config){20.0f, 1, 1.0f, 1e-5f, 80.0f};
    } else {
        return xai_error_set(XAI_EINVAL, "xai_spec_preset: unknown preset '%s' (librosa, torchaudio, audiomnist)",
                             name);
    }
    return XAI_OK;
}

struct xai_spec {
    xai_spec_config cfg;
    xai_stft *stft;
    float *fb; /* [n_mels][bins] or NULL */
};

xai_status xai_spec_new(const xai_spec_config *cfg, xai_spec **out)
{
    if (!cfg || !out)
        return xai_error_set(XAI_EINVAL, "xai_spec_new: NULL argument");
    *out = NULL;
    if (cfg->sample_rate < 0 || cfg->fixed_length < 0 || cfg->fixed_length > XAI_AUDIO_MAX_SAMPLES ||
        cfg->embed_offset < -1 || !(cfg->power > 0) || cfg->n_mels < 0 || cfg->crop_rows < 0 ||
        cfg->crop_first_frame < 0 || cfg->crop_last_frames < 0)
        return xai_error_set(XAI_EINVAL, "xai_spec_new: bad configuration");
    if (cfg->n_mels > 0 && cfg->sample_rate <= 0)
        return xai_error_set(XAI_EINVAL, "xai_spec_new: mel rows need a fixed sample_rate");
    xai_spec *s = calloc(1, sizeof *s);
    if (!s)
        return xai_error_set(XAI_ENOMEM, "xai_spec_new: out of memory");
    s->cfg = *cfg;
    xai_status st = xai_stft_new(&cfg->stft, &s->stft);
    if (st != XAI_OK) {
        free(s);
        return st;
    }
    if (cfg->n_mels > 0) {
        int bins = xai_stft_bins(s->stft);
        s->fb = malloc(sizeof(float) * (size_t)cfg->n_mels * (size_t)bins);
        if (!s->fb) {
            xai_spec_free(s);
            return xai_error_set(XAI_ENOMEM, "xai_spec_new: out of memory");
        }
        st = xai_mel_filterbank(cfg->sample_rate, cfg->stft.n_fft, cfg->n_mels, cfg->fmin, cfg->fmax, cfg->mel_scale,
                                cfg->mel_norm, s->fb);
        if (st != XAI_OK) {
            xai_spec_free(s);
            return st;
        }
    }
    *out = s;
    return XAI_OK;
}

void xai_spec_free(xai_spec *s)
{
    if (!s)
        return;
    xai_stft_free(s->stft);
    free(s->fb);
    free(s);
}

const xai_stft *xai_spec_stft(const xai_spec *s)
{
    return s ? s->stft : NULL;
}

const float *xai_spec_filterbank(const xai_spec *s)
{
    return s ? s->fb : NULL;
}

void xai_spectrogram_free(xai_spectrogram *sp)
{
    if (!sp)
        return;
    free(sp->data);
    memset(sp, 0, sizeof *sp);
}

/* The signal the STFT sees: resampled to the configured rate and embedded into the fixed
 * length when the configuration asks. *sig is x or *own (to free); *n and *rate follow. */
static xai_status spec_signal(const xai_spec_config *c, const float *x, int64_t *n, int *rate, const float **sig,
                              float **own)
{
    *own = NULL;
    *sig = x;
    if (c->sample_rate > 0 && c->sample_rate != *rate) {
        xai_audio in = {.info = {.sample_rate = *rate, .channels = 1, .frames = *n}, .data = (float *)x};
        xai_audio rs;
        xai_status st = xai_audio_resample(&in, c->sample_rate, XAI_RESAMPLE_BEST, &rs);
        if (st != XAI_OK)
            return st;
        *own = rs.data;
        *n = rs.info.frames;
        *sig = *own;
        *rate = c->sample_rate;
    }
    if (c->fixed_length > 0) {
        float *fx = calloc((size_t)c->fixed_length, sizeof(float));
        if (!fx) {
            free(*own);
            *own = NULL;
            return xai_error_set(XAI_ENOMEM, "xai_spec_compute: out of memory");
        }
        int64_t m = *n < c->fixed_length ? *n : c->fixed_length;
        int64_t off = c->embed_offset < 0 ? (c->fixed_length - m) / 2 : c->embed_offset;
        if (off > c->fixed_length - m)
            off = c->fixed_length - m;
        memcpy(fx + off, *sig, (size_t)m * sizeof(float));
        free(*own);
        *own = fx;
        *sig = fx;
        *n = c->fixed_length;
    }
    return XAI_OK;
}

/* Power spectrogram of sig (bins x T, row major), mapped to mel rows when configured;
 * *rows is the number of rows of *out. Frees nothing of the caller's. */
static xai_status spec_rows(const xai_spec *s, const float *sig, int64_t n, int64_t T, int *rows, float **out)
{
    const xai_spec_config *c = &s->cfg;
    const int bins = xai_stft_bins(s->stft);
    float *pw = malloc(sizeof(float) * (size_t)bins * (size_t)T);
    if (!pw)
        return xai_error_set(XAI_ENOMEM, "xai_spec_compute: out of memory");
    xai_status st = xai_stft_power(s->stft, sig, n, c->power, pw, T);
    if (st != XAI_OK) {
        free(pw);
        return st;
    }
    *rows = bins;
    *out = pw;
    if (c->n_mels > 0) {
        float *mel = malloc(sizeof(float) * (size_t)c->n_mels * (size_t)T);
        if (!mel) {
            free(pw);
            return xai_error_set(XAI_ENOMEM, "xai_spec_compute: out of memory");
        }
        xai_mel_apply(s->fb, c->n_mels, bins, pw, T, mel);
        free(pw);
        *rows = c->n_mels;
        *out = mel;
    }
    return XAI_OK;
}

/* Keeps the first keep_rows rows and frames [t0, t0 + TT) of buf (rows x T); buf is taken over
 * (returned as is when nothing is dropped, freed otherwise), NULL when out of memory. */
static float *spec_crop(float *buf, int rows, int64_t T, int keep_rows, int64_t t0, int64_t TT)
{
    if (keep_rows == rows && TT == T)
        return buf;
    float *data = malloc(sizeof(float) * (size_t)keep_rows * (size_t)TT);
    if (data)
        for (int r = 0; r < keep_rows; r++)
            memcpy(data + (size_t)r * (size_t)TT, buf + (size_t)r * (size_t)T + (size_t)t0,
                   sizeof(float) * (size_t)TT);
    free(buf);
    return data;
}

xai_status xai_spec_compute(const xai_spec *s, const float *x, int64_t n, int sample_rate, xai_spectrogram *out)
{
    if (!s || !x || !out || n < 1 || sample_rate <= 0)
        return xai_error_set(XAI_EINVAL, "xai_spec_compute: bad arguments");
    memset(out, 0, sizeof *out);
    const xai_spec_config *c = &s->cfg;
    int rate = sample_rate;
    float *own = NULL; /* the working signal when it is not x */
    const float *sig = x;
    xai_status st = spec_signal(c, x, &n, &rate, &sig, &own);
    if (st != XAI_OK)
        return st;
    const int bins = xai_stft_bins(s->stft);
    const int64_t T = xai_stft_frames(s->stft, n);
    if (T < 1 || (uint64_t)T * (uint64_t)bins > (uint64_t)XAI_AUDIO_MAX_SAMPLES) {
        free(own);
        return xai_error_set(XAI_EINVAL, "xai_spec_compute: %lld samples give %lld frames", (long long)n,
                             (long long)T);
    }
    int rows = bins;
    float *rowsbuf = NULL;
    st = spec_rows(s, sig, n, T, &rows, &rowsbuf);
    free(own);
    if (st != XAI_OK)
        return st;
    /* crop */
    int keep_rows = c->crop_rows > 0 && c->crop_rows < rows ? c->crop_rows : rows;
    int64_t t0 = c->crop_first_frame, t1 = T - c->crop_last_frames;
    if (t1 - t0 < 1) {
        free(rowsbuf);
        return xai_error_set(XAI_EINVAL, "xai_spec_compute: %lld frames, cannot drop %d + %d", (long long)T,
                             c->crop_first_frame, c->crop_last_frames);
    }
    const int64_t TT = t1 - t0;
    float *data = spec_crop(rowsbuf, rows, T, keep_rows, t0, TT);
    if (!data)
        return xai_error_set(XAI_ENOMEM, "xai_spec_compute: out of memory");
    if (c->db) {
        st = xai_db_convert(data, (size_t)keep_rows * (size_t)TT, &c->db_cfg);
        if (st != XAI_OK) {
            free(data);
            return st;
        }
    }
    out->rows = keep_rows;
    out->frames = TT;
    out->sample_rate = rate;
    out->hop = s->cfg.stft.hop;
    out->data = data;
    return XAI_OK;
}
