/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * speech.c - xai-speech's pipeline record, clip loading, features, sonification, figure and
 * labels. Presets follow the README, "Outputs on disk" (librosa, torchaudio, AudioMNIST:
 * Becker et al. 2018, arXiv:1807.03418). Sonification follows the L-MAC idea (mask the
 * linear spectrogram, ISTFT with the original phase; arXiv 2403.13086).
 */
#include "xai/domain-speech.h"

#include <cairo.h>
#include <ctype.h>
#include <errno.h>
#include <gsl/gsl_sort_float.h>
#include <gsl/gsl_statistics_float.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xai/audio.h"
#include "xai/bids-walk.h"
#include "xai/atomic.h"
#include "xai/figure.h"

/* ------------------------------------------------------------------ pipeline record */

static xai_status fill_shape(xai_speech_pre *p)
{
    xai_spec *s = NULL;
    xai_status st = xai_spec_new(&p->spec, &s);
    if (st != XAI_OK)
        return st;
    float *z = calloc((size_t)p->spec.fixed_length, sizeof(float));
    if (!z) {
        xai_spec_free(s);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    xai_spectrogram sp = {0};
    st = xai_spec_compute(s, z, p->spec.fixed_length, p->spec.sample_rate, &sp);
    free(z);
    xai_spec_free(s);
    if (st != XAI_OK)
        return st;
    p->rows = sp.rows;
    p->frames = sp.frames;
    xai_spectrogram_free(&sp);
    return XAI_OK;
}

xai_status xai_speech_pre_preset(const char *name, double duration_s, xai_speech_pre *p)
{
    memset(p, 0, sizeof *p);
    if (!(duration_s > 0) || duration_s > 60)
        return xai_error_set(XAI_EINVAL, "clip duration %g s: needs 0 < duration <= 60", duration_s);
    if (strcmp(name, "compact") == 0) {
        xai_spec_config *c = &p->spec;
        xai_spec_preset("torchaudio", c);
        c->sample_rate = 8000;
        c->stft.n_fft = 256;
        c->stft.win_length = 256;
        c->stft.hop = 128;
        c->stft.pad_mode = XAI_PAD_CONSTANT;
        c->n_mels = 40;
        c->fmin = 0;
        c->fmax = 4000;
        c->db = 1;
        c->db_cfg = (xai_db_config){10.0f, 1, 1.0f, 1e-10f, 80.0f};
    } else if (xai_spec_preset(name, &p->spec) != XAI_OK) {
        return xai_error_set(XAI_EINVAL, "unknown preset '%s' (" XAI_SPEECH_PRESETS ")", name);
    }
    snprintf(p->preset, sizeof p->preset, "%s", name);
    if (p->spec.fixed_length <= 0)
        p->spec.fixed_length = (int64_t)llround(duration_s * p->spec.sample_rate);
    p->spec.embed_offset = -1;
    return fill_shape(p);
}

xai_status xai_speech_pre_set_mels(xai_speech_pre *p, int n_mels)
{
    if (p->spec.n_mels <= 0)
        return xai_error_set(XAI_EINVAL, "preset '%s' has no mel bands", p->preset);
    if (n_mels < 1 || n_mels > 1024)
        return xai_error_set(XAI_EINVAL, "%d mel bands: needs 1 to 1024", n_mels);
    p->spec.n_mels = n_mels;
    return fill_shape(p);
}

static const char *window_names[] = {"hann", "hann_symmetric", "hamming", "hamming_symmetric", "rect"};

static int pick(const char *v, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (v && strcmp(v, names[i]) == 0)
            return i;
    return -1;
}

/* the pre-processing record's names of the feature normalisations, by XAI_SPEECH_NORM_* */
static const char *const norm_names[] = {"db_rel_max_80", "db_rel_max_80_cmn", "db_rel_max_80_cmvn",
                                         "pcen_rel_max_80"};
static const char *const norm_short[] = {"clip", "cmn", "cmvn", "pcen"};

/* PCEN (Wang et al. 2017): (E / (eps + M)^alpha + delta)^r - delta^r with M the first-order
 * low-pass of E over time; the constants are the paper's and librosa's (time constant 0.4 s,
 * alpha 0.98, delta 2, r 0.5), the weight s from the time constant as librosa derives it. */
#define PCEN_T 0.4
#define PCEN_ALPHA 0.98
#define PCEN_DELTA 2.0
#define PCEN_R 0.5
#define PCEN_EPS 1e-6

static double pcen_weight(const xai_speech_pre *p)
{
    const int hop = p->spec.stft.hop > 0 ? p->spec.stft.hop : p->spec.stft.n_fft / 4;
    const double tf = PCEN_T * p->spec.sample_rate / hop;
    return (sqrt(1 + 4 * tf * tf) - 1) / (2 * tf * tf);
}

static double pcen_value(double e, double m)
{
    return pow(e / pow(PCEN_EPS + m, PCEN_ALPHA) + PCEN_DELTA, PCEN_R) - pow(PCEN_DELTA, PCEN_R);
}

int xai_speech_norm_from_name(const char *name)
{
    return pick(name, norm_short, 4);
}

void xai_speech_feature_range(const xai_speech_pre *p, float *low, float *high)
{
    if (p->norm == XAI_SPEECH_NORM_PCEN) { /* M >= s E and E <= 1 bound E / M^alpha by s^-alpha */
        const double s = pcen_weight(p);
        *low = 0.0f;
        *high = (float)(pow(pow(s, -PCEN_ALPHA) + PCEN_DELTA, PCEN_R) - pow(PCEN_DELTA, PCEN_R));
        return;
    }
    float h = p->norm == XAI_SPEECH_NORM_CMVN ? (float)sqrt((double)(p->frames > 1 ? p->frames - 1 : 1)) : 1.0f;
    *low = p->norm == XAI_SPEECH_NORM_CLIP ? 0.0f : -h;
    *high = h;
}

xai_status xai_speech_floor_bounds(const xai_speech_pre *p, double q, int64_t n, const float *x, float *low,
                                   float *high)
{
    if (!p || (n > 0 && (!x || !low || !high)) || n < 0 || !(q >= 0 && q <= 1) || p->rows < 1 || p->frames < 1)
        return xai_error_set(XAI_EINVAL, "floor bounds: need clips, their outputs and a quantile in [0, 1] "
                             "(got %g)", q);
    const size_t T = (size_t)p->frames;
    float *row = malloc(sizeof(float) * T); /* one copy of a row, sorted, for all the clips */
    if (!row)
        return xai_error_set(XAI_ENOMEM, "floor bounds: out of memory");
    for (int64_t r = 0; r < n * p->rows; r++) {
        const float *xr = x + (size_t)r * T;
        memcpy(row, xr, sizeof(float) * T);
        gsl_sort_float(row, 1, T);
        const float f = (float)gsl_stats_float_quantile_from_sorted_data(row, 1, T, q);
        for (size_t t = 0; t < T; t++) {
            low[(size_t)r * T + t] = xr[t] < f ? xr[t] : f;
            high[(size_t)r * T + t] = xr[t];
        }
    }
    free(row);
    return XAI_OK;
}

char *xai_speech_pre_to_json(const xai_speech_pre *p)
{
    const xai_spec_config *c = &p->spec;
    json_t *stft = json_pack("{s:i,s:i,s:i,s:s,s:b,s:s,s:b,s:s}", "n_fft", c->stft.n_fft, "win_length",
                             c->stft.win_length, "hop", c->stft.hop, "window", window_names[c->stft.window], "center",
                             c->stft.center, "pad_mode", c->stft.pad_mode == XAI_PAD_REFLECT ? "reflect" : "constant",
                             "pad_end", c->stft.pad_end, "scaling",
                             c->stft.scaling == XAI_STFT_SCALE_SPECTRUM ? "spectrum" : "none");
    json_t *db = json_pack("{s:b,s:f,s:b,s:f,s:f,s:f}", "enabled", c->db, "multiplier", (double)c->db_cfg.multiplier,
                           "ref_max", c->db_cfg.ref_max, "ref", (double)c->db_cfg.ref, "amin", (double)c->db_cfg.amin,
                           "top_db", (double)c->db_cfg.top_db);
    json_t *j = json_pack("{s:s,s:s,s:i,s:I,s:s,s:s,s:o,s:f,s:i,s:f,s:f,s:s,s:s,s:i,s:i,s:i,s:o,s:s,s:[i,i,i]}",
                          "tool", "xai-speech", "preset", p->preset, "sample_rate", c->sample_rate, "fixed_length",
                          (json_int_t)c->fixed_length, "embed", "centre", "mono", "mean", "stft", stft, "power",
                          (double)c->power, "n_mels", c->n_mels, "fmin", c->fmin, "fmax", c->fmax, "mel_scale",
                          c->mel_scale == XAI_MEL_HTK ? "htk" : "slaney", "mel_norm",
                          c->mel_norm == XAI_MEL_NORM_SLANEY ? "slaney" : "none", "crop_rows", c->crop_rows,
                          "crop_first_frame", c->crop_first_frame, "crop_last_frames", c->crop_last_frames, "db", db,
                          "normalise", norm_names[p->norm], "input_shape", 1, p->rows,
                          (int)p->frames);
    if (!j)
        return NULL;
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(9));
    json_decref(j);
    return s;
}

xai_status xai_speech_pre_from_json(const char *text, xai_speech_pre *p)
{
    memset(p, 0, sizeof *p);
    json_error_t je;
    json_t *j = text ? json_loads(text, 0, &je) : NULL;
    if (!j)
        return xai_error_set(XAI_EFORMAT, "xai_preprocessing is not JSON");
    const char *tool = NULL, *preset = NULL, *embed = NULL, *mono = NULL, *mel_scale = NULL, *mel_norm = NULL,
               *norm = NULL, *win = NULL, *pad = NULL, *scal = NULL;
    json_int_t fixed = 0;
    int rate = 0, nfft = 0, winlen = 0, hop = 0, center = 0, pad_end = 0, n_mels = 0, crop_rows = 0, crop_first = 0,
        crop_last = 0, db = 0, ref_max = 0, s0 = 0, s1 = 0, s2 = 0;
    double power = 0, fmin = 0, fmax = 0, mult = 0, ref = 0, amin = 0, top_db = 0;
    int bad = json_unpack_ex(j, &je, 0,
                             "{s:s,s:s,s:i,s:I,s:s,s:s,s:{s:i,s:i,s:i,s:s,s:b,s:s,s:b,s:s},s:F,s:i,s:F,s:F,s:s,s:s,"
                             "s:i,s:i,s:i,s:{s:b,s:F,s:b,s:F,s:F,s:F},s:s,s:[iii]}",
                             "tool", &tool, "preset", &preset, "sample_rate", &rate, "fixed_length", &fixed, "embed",
                             &embed, "mono", &mono, "stft", "n_fft", &nfft, "win_length", &winlen, "hop", &hop,
                             "window", &win, "center", &center, "pad_mode", &pad, "pad_end", &pad_end, "scaling", &scal,
                             "power", &power, "n_mels", &n_mels, "fmin", &fmin, "fmax", &fmax, "mel_scale", &mel_scale,
                             "mel_norm", &mel_norm, "crop_rows", &crop_rows, "crop_first_frame", &crop_first,
                             "crop_last_frames", &crop_last, "db", "enabled", &db, "multiplier", &mult, "ref_max",
                             &ref_max, "ref", &ref, "amin", &amin, "top_db", &top_db, "normalise", &norm,
                             "input_shape", &s0, &s1, &s2);
    xai_status st = XAI_OK;
    if (bad) {
        st = xai_error_set(XAI_EFORMAT, "xai_preprocessing: %s", je.text);
        goto out;
    }
    int wi = pick(win, window_names, 5);
    if (strcmp(tool, "xai-speech") || strcmp(embed, "centre") || strcmp(mono, "mean") ||
        pick(norm, norm_names, 4) < 0 || wi < 0 || (strcmp(pad, "reflect") && strcmp(pad, "constant")) ||
        (strcmp(scal, "spectrum") && strcmp(scal, "none")) || (strcmp(mel_scale, "htk") && strcmp(mel_scale, "slaney")) ||
        (strcmp(mel_norm, "slaney") && strcmp(mel_norm, "none")) || strlen(preset) >= sizeof p->preset) {
        st = xai_error_set(XAI_EFORMAT, "xai_preprocessing: unknown tool, window, padding, scaling, mel or "
                                        "normalisation name");
        goto out;
    }
    if (rate < 1 || rate > 384000 || fixed < 1 || fixed > 60 * (json_int_t)rate || nfft < 2 || nfft > 65536 ||
        winlen < 0 || winlen > nfft || hop < 0 || n_mels < 0 || n_mels > 1024 || !(power > 0) || crop_rows < 0 ||
        crop_first < 0 || crop_last < 0 || (db && !(amin > 0)) || s0 != 1 || s1 < 1 || s2 < 1) {
        st = xai_error_set(XAI_EFORMAT, "xai_preprocessing: value out of range");
        goto out;
    }
    snprintf(p->preset, sizeof p->preset, "%s", preset);
    xai_spec_config *c = &p->spec;
    c->sample_rate = rate;
    c->fixed_length = fixed;
    c->embed_offset = -1;
    c->stft.n_fft = nfft;
    c->stft.win_length = winlen;
    c->stft.hop = hop;
    c->stft.window = (xai_window)wi;
    c->stft.center = center;
    c->stft.pad_mode = strcmp(pad, "reflect") == 0 ? XAI_PAD_REFLECT : XAI_PAD_CONSTANT;
    c->stft.pad_end = pad_end;
    c->stft.scaling = strcmp(scal, "spectrum") == 0 ? XAI_STFT_SCALE_SPECTRUM : XAI_STFT_SCALE_NONE;
    c->power = (float)power;
    c->n_mels = n_mels;
    c->fmin = fmin;
    c->fmax = fmax;
    c->mel_scale = strcmp(mel_scale, "htk") == 0 ? XAI_MEL_HTK : XAI_MEL_SLANEY;
    c->mel_norm = strcmp(mel_norm, "slaney") == 0 ? XAI_MEL_NORM_SLANEY : XAI_MEL_NORM_NONE;
    c->crop_rows = crop_rows;
    c->crop_first_frame = crop_first;
    c->crop_last_frames = crop_last;
    c->db = db;
    c->db_cfg = (xai_db_config){(float)mult, ref_max, (float)ref, (float)amin, (float)top_db};
    p->norm = pick(norm, norm_names, 4);
    st = fill_shape(p);
    if (st == XAI_OK && (p->rows != s1 || p->frames != s2))
        st = xai_error_set(XAI_EFORMAT, "xai_preprocessing: the pipeline gives %d x %lld features, the record says "
                                        "%d x %d", p->rows, (long long)p->frames, s1, s2);
out:
    json_decref(j);
    return st;
}

/* ------------------------------------------------------------------ clips and features */

xai_status xai_speech_ctx_init(xai_speech_ctx *c, const xai_speech_pre *p)
{
    c->pre = *p;
    return xai_spec_new(&p->spec, &c->spec);
}

void xai_speech_ctx_free(xai_speech_ctx *c)
{
    xai_spec_free(c->spec);
    c->spec = NULL;
}

xai_status xai_speech_load(const xai_speech_ctx *c, const char *path, float *sig, int64_t *start, int64_t *len,
                       int *orig_rate, int64_t *orig_frames)
{
    xai_audio a = {0};
    xai_status st = xai_audio_load(path, &a);
    if (st != XAI_OK)
        return st;
    const int64_t T = a.info.frames;
    const int C = a.info.channels;
    if (orig_rate)
        *orig_rate = a.info.sample_rate;
    if (orig_frames)
        *orig_frames = T;
    if (T < 1) {
        xai_audio_free(&a);
        return xai_error_set(XAI_EFORMAT, "%s: no samples", path);
    }
    for (int ch = 1; ch < C; ch++)
        for (int64_t t = 0; t < T; t++)
            a.data[t] += a.data[(size_t)ch * (size_t)T + (size_t)t];
    if (C > 1)
        for (int64_t t = 0; t < T; t++)
            a.data[t] /= (float)C;
    a.info.channels = 1;
    const float *x = a.data;
    int64_t n = T;
    xai_audio rs = {0};
    if (a.info.sample_rate != c->pre.spec.sample_rate) {
        st = xai_audio_resample(&a, c->pre.spec.sample_rate, XAI_RESAMPLE_MEDIUM, &rs);
        if (st != XAI_OK) {
            xai_audio_free(&a);
            return st;
        }
        x = rs.data;
        n = rs.info.frames;
    }
    const int64_t L = c->pre.spec.fixed_length;
    const int64_t m = n < L ? n : L;
    const int64_t off = (L - m) / 2;
    memset(sig, 0, sizeof(float) * (size_t)L);
    for (int64_t t = 0; t < m; t++) {
        float v = x[t];
        sig[off + t] = isfinite(v) ? v : 0.0f;
    }
    if (start)
        *start = off;
    if (len)
        *len = m;
    xai_audio_free(&rs);
    xai_audio_free(&a);
    return XAI_OK;
}

/* Per-clip mean (and variance) normalisation of each log-mel band, as cepstral mean and variance
 * normalisation does per utterance (Viikki & Laurila 1998) but in the log-mel domain: a band's
 * level, which the channel, the noise floor and the speaker set, goes, and what changes within
 * the band stays. The floor of 1 dB on the deviation keeps a nearly constant band (silence,
 * steady noise) from being blown up to unit variance. */
static void band_normalise(float *feat, int rows, int64_t frames, int variance)
{
    for (int r = 0; r < rows; r++) {
        float *v = feat + (size_t)r * (size_t)frames;
        const double m = gsl_stats_float_mean(v, 1, (size_t)frames);
        double sd = variance ? gsl_stats_float_sd_with_fixed_mean(v, 1, (size_t)frames, m) : 1.0;
        sd = sd > 1.0 / 80.0 ? sd : 1.0 / 80.0;
        for (int64_t t = 0; t < frames; t++)
            v[t] = (float)((v[t] - m) / sd);
    }
}

/* PCEN over each row of @p feat, which holds the power re the clip's maximum in dB / 80 + 1
 * (clipped at -80 dB); the smoother starts at the row's first value, as librosa's steady state. */
static void pcen_rows(const xai_speech_pre *p, float *feat)
{
    const double s = pcen_weight(p), mult = p->spec.db_cfg.multiplier > 0 ? p->spec.db_cfg.multiplier : 10.0;
    for (int r = 0; r < p->rows; r++) {
        float *v = feat + (size_t)r * (size_t)p->frames;
        double m = 0;
        for (int64_t t = 0; t < p->frames; t++) {
            const double e = pow(10.0, 80.0 * (v[t] - 1.0) / mult);
            m = t == 0 ? e : (1 - s) * m + s * e;
            v[t] = (float)pcen_value(e, m);
        }
    }
}

xai_status xai_speech_features(const xai_speech_ctx *c, const float *sig, float *feat)
{
    xai_spectrogram sp = {0};
    xai_status st = xai_spec_compute(c->spec, sig, c->pre.spec.fixed_length, c->pre.spec.sample_rate, &sp);
    if (st != XAI_OK)
        return st;
    if (sp.rows != c->pre.rows || sp.frames != c->pre.frames) {
        xai_spectrogram_free(&sp);
        return xai_error_set(XAI_ESHAPE, "spectrogram is %d x %lld, expected %d x %lld", sp.rows,
                             (long long)sp.frames, c->pre.rows, (long long)c->pre.frames);
    }
    const size_t n = (size_t)sp.rows * (size_t)sp.frames;
    float mx = -INFINITY;
    for (size_t i = 0; i < n; i++)
        mx = sp.data[i] > mx ? sp.data[i] : mx;
    for (size_t i = 0; i < n; i++) {
        float v = (sp.data[i] - mx) / 80.0f + 1.0f;
        feat[i] = v < 0 ? 0.0f : v > 1 ? 1.0f : v;
    }
    xai_spectrogram_free(&sp);
    if (c->pre.norm == XAI_SPEECH_NORM_PCEN)
        pcen_rows(&c->pre, feat);
    else if (c->pre.norm != XAI_SPEECH_NORM_CLIP)
        band_normalise(feat, c->pre.rows, c->pre.frames, c->pre.norm == XAI_SPEECH_NORM_CMVN);
    return XAI_OK;
}

xai_status xai_speech_sonify(const xai_speech_ctx *c, const float *sig, const float *rel, float *out)
{
    const xai_stft *s = xai_spec_stft(c->spec);
    const int bins = xai_stft_bins(s);
    const int64_t L = c->pre.spec.fixed_length;
    const int64_t T = xai_stft_frames(s, L);
    const int rows = c->pre.rows;
    const int64_t F = c->pre.frames, t0 = c->pre.spec.crop_first_frame;
    float *X = malloc(sizeof(float) * 2 * (size_t)bins * (size_t)T);
    float *M = calloc((size_t)bins * (size_t)T, sizeof(float));
    if (!X || !M) {
        free(X);
        free(M);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    xai_status st = xai_stft_forward(s, sig, L, X, T);
    if (st != XAI_OK)
        goto out;
    float rmax = 0;
    for (size_t i = 0; i < (size_t)rows * (size_t)F; i++)
        rmax = rel[i] > rmax ? rel[i] : rmax;
    if (rmax > 0) {
        const float *fb = xai_spec_filterbank(c->spec);
        for (int64_t j = 0; j < F; j++) {
            int64_t t = j + t0;
            if (t < 0 || t >= T)
                continue;
            for (int k = 0; k < bins; k++) {
                double m = 0;
                if (fb) {
                    double wsum = 0;
                    for (int r = 0; r < c->pre.spec.n_mels; r++) {
                        double w = fb[(size_t)r * (size_t)bins + (size_t)k];
                        wsum += w;
                        if (r < rows && w > 0) {
                            float v = rel[(size_t)r * (size_t)F + (size_t)j];
                            m += w * (v > 0 ? v / rmax : 0);
                        }
                    }
                    m = wsum > 0 ? m / wsum : 0;
                } else if (k < rows) {
                    float v = rel[(size_t)k * (size_t)F + (size_t)j];
                    m = v > 0 ? v / rmax : 0;
                }
                M[(size_t)k * (size_t)T + (size_t)t] = (float)(m > 1 ? 1 : m);
            }
        }
    }
    for (size_t i = 0; i < (size_t)bins * (size_t)T; i++) {
        X[2 * i] *= M[i];
        X[2 * i + 1] *= M[i];
    }
    st = xai_stft_inverse(s, X, T, out, L);
out:
    free(X);
    free(M);
    return st;
}

double xai_speech_row_hz(const xai_speech_pre *p, double r)
{
    const xai_spec_config *c = &p->spec;
    if (c->n_mels > 0) {
        double fmax = c->fmax > 0 ? c->fmax : c->sample_rate / 2.0;
        double m0 = xai_hz_to_mel(c->fmin, c->mel_scale), m1 = xai_hz_to_mel(fmax, c->mel_scale);
        return xai_mel_to_hz(m0 + (r + 1) * (m1 - m0) / (c->n_mels + 1), c->mel_scale);
    }
    return r * c->sample_rate / (double)c->stft.n_fft;
}

double xai_speech_col_s(const xai_speech_pre *p, double j, int64_t clip_start)
{
    const xai_spec_config *c = &p->spec;
    int hop = c->stft.hop > 0 ? c->stft.hop : (c->stft.win_length > 0 ? c->stft.win_length : c->stft.n_fft) / 4;
    double t = (j + c->crop_first_frame) * hop;
    if (!c->stft.center)
        t += c->stft.n_fft / 2.0;
    return (t - (double)clip_start) / c->sample_rate;
}

xai_status xai_speech_box_mask(const xai_speech_pre *p, int64_t clip_start, double t0, double t1, double f0,
                               double f1, float *mask)
{
    if (!p || !mask || !(t0 < t1) || !(f0 < f1))
        return xai_error_set(XAI_EINVAL, "time-frequency box [%g, %g] s x [%g, %g] Hz: needs t0 < t1 and f0 < f1",
                             t0, t1, f0, f1);
    const xai_spec_config *c = &p->spec;
    const double half_s = (c->stft.win_length > 0 ? c->stft.win_length : c->stft.n_fft) / 2.0 / c->sample_rate;
    const double half_bin = c->sample_rate / 2.0 / c->stft.n_fft;
    int64_t hits = 0;
    for (int r = 0; r < p->rows; r++) {
        /* a mel band reaches from its lower to its upper neighbour's centre; a bin half a bin */
        double lo = c->n_mels > 0 ? xai_speech_row_hz(p, r - 1) : xai_speech_row_hz(p, r) - half_bin;
        double hi = c->n_mels > 0 ? xai_speech_row_hz(p, r + 1) : xai_speech_row_hz(p, r) + half_bin;
        for (int64_t j = 0; j < p->frames; j++) {
            double t = xai_speech_col_s(p, (double)j, clip_start);
            int in = lo < f1 && hi > f0 && t - half_s < t1 && t + half_s > t0;
            mask[(size_t)r * (size_t)p->frames + (size_t)j] = in ? 1.0f : 0.0f;
            hits += in;
        }
    }
    if (hits == 0)
        return xai_error_set(XAI_EINVAL, "time-frequency box [%g, %g] s x [%g, %g] Hz meets no bin of the clip", t0,
                             t1, f0, f1);
    return XAI_OK;
}

/* ------------------------------------------------------------------ figure */

/* Inverse of xai_speech_row_hz: fractional row of frequency @p hz (monotone bisection). */
static double hz_to_row(const xai_speech_pre *p, double hz)
{
    double lo = -1, hi = p->rows;
    for (int i = 0; i < 60; i++) {
        double mid = 0.5 * (lo + hi);
        if (xai_speech_row_hz(p, mid) < hz)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

static double nice_step(double span, int want)
{
    double raw = span / want, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static cairo_status_t write_png(void *closure, const unsigned char *data, unsigned int len)
{
    return fwrite(data, 1, len, closure) == len ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/* The spectrogram in grey with the relevance over it in blue-white-red, opacity growing with |R|,
 * one pixel per bin (row 0 at the bottom); NULL when cairo cannot make the image. */
static cairo_surface_t *overlay_image(int rows, int cols, const float *feat, const float *rel, double vmax)
{
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, cols, rows);
    if (cairo_surface_status(img))
        return img;
    cairo_surface_flush(img);
    unsigned char *px = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    for (int r = 0; r < rows; r++) {
        uint32_t *line = (uint32_t *)(void *)(px + (size_t)(rows - 1 - r) * (size_t)stride); /* origin lower */
        for (int j = 0; j < cols; j++) {
            double g = 0.15 + 0.8 * feat[(size_t)r * (size_t)cols + (size_t)j], rgb[3];
            double v = rel[(size_t)r * (size_t)cols + (size_t)j] / vmax;
            xai_colormap_rgb(XAI_CMAP_BWR, 0.5 + 0.5 * v, rgb);
            double a = fabs(v) > 1 ? 1 : fabs(v);
            a = 0.9 * sqrt(a);
            unsigned out[3];
            for (int k = 0; k < 3; k++)
                out[k] = (unsigned)lround(255 * ((1 - a) * g + a * rgb[k]));
            line[j] = (out[0] << 16) | (out[1] << 8) | out[2];
        }
    }
    cairo_surface_mark_dirty(img);
    return img;
}

/* The plot frame of the speech figure: W x H pixels, the plot (pw x ph) at (ml, mt). */
typedef struct {
    int W, H, ml, mt;
    double pw, ph;
} speech_frame;

/* x axis: time in s; column j spans [j - 0.5, j + 0.5] */
static void draw_time_axis(cairo_t *cr, const speech_frame *fr, const xai_speech_pre *p, int64_t clip_start,
                           int cols)
{
    const int ml = fr->ml, mt = fr->mt, H = fr->H;
    const double pw = fr->pw, ph = fr->ph;
    char buf[64];
    cairo_text_extents_t te;
    double ta = xai_speech_col_s(p, -0.5, clip_start), tb = xai_speech_col_s(p, cols - 0.5, clip_start);
    double step = nice_step(tb - ta, 8);
    for (double t = ceil(ta / step) * step; t <= tb + 1e-9; t += step) {
        double x = ml + (t - ta) / (tb - ta) * pw;
        cairo_move_to(cr, x, mt + ph);
        cairo_line_to(cr, x, mt + ph + 5);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%.*f", step < 0.1 ? 2 : step < 1 ? 1 : 0, fabs(t) < 1e-9 ? 0.0 : t);
        cairo_text_extents(cr, buf, &te);
        cairo_move_to(cr, x - te.width / 2, mt + ph + 18);
        cairo_show_text(cr, buf);
    }
    cairo_text_extents(cr, "time (s)", &te);
    cairo_move_to(cr, ml + pw / 2 - te.width / 2, H - 12);
    cairo_show_text(cr, "time (s)");
}

/* y axis: frequency in Hz at the row positions (mel rows are not linear in Hz) */
static void draw_freq_axis(cairo_t *cr, const speech_frame *fr, const xai_speech_pre *p, int rows)
{
    const int ml = fr->ml, mt = fr->mt;
    const double ph = fr->ph;
    char buf[64];
    cairo_text_extents_t te;
    double fa = xai_speech_row_hz(p, -0.5) > 0 ? xai_speech_row_hz(p, -0.5) : 0, fb = xai_speech_row_hz(p, rows - 0.5);
    double fstep = nice_step(fb - fa, 8);
    for (double f = ceil(fa / fstep) * fstep; f <= fb + 1e-9; f += fstep) {
        double r = hz_to_row(p, f);
        double y = mt + ph - (r + 0.5) / rows * ph;
        if (y < mt - 0.5 || y > mt + ph + 0.5)
            continue;
        cairo_move_to(cr, ml, y);
        cairo_line_to(cr, ml - 5, y);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%.0f", f);
        cairo_text_extents(cr, buf, &te);
        cairo_move_to(cr, ml - 8 - te.width, y + te.height / 2);
        cairo_show_text(cr, buf);
    }
    cairo_save(cr);
    cairo_move_to(cr, 16, mt + ph / 2 + 40);
    cairo_rotate(cr, -M_PI / 2);
    cairo_show_text(cr, p->spec.n_mels > 0 ? "frequency (Hz, mel rows)" : "frequency (Hz)");
    cairo_restore(cr);
}

/* the symmetric colour bar [-vmax, vmax] right of the plot */
static void draw_colour_bar(cairo_t *cr, const speech_frame *fr, double vmax)
{
    const int W = fr->W, mt = fr->mt;
    const double pw = fr->pw, ph = fr->ph;
    char buf[64];
    const double cx = fr->ml + pw + 24, cw = 16;
    for (int i = 0; i < (int)ph; i++) {
        double rgb[3];
        xai_colormap_rgb(XAI_CMAP_BWR, 1.0 - (i + 0.5) / ph, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle(cr, cx, mt + i, cw, 1);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, cx + 0.5, mt + 0.5, cw, ph);
    cairo_stroke(cr);
    for (int k = -2; k <= 2; k++) {
        double y = mt + ph / 2 - k * ph / 4;
        snprintf(buf, sizeof buf, "%.2g", k * vmax / 2);
        cairo_move_to(cr, cx + cw, y);
        cairo_line_to(cr, cx + cw + 4, y);
        cairo_stroke(cr);
        cairo_move_to(cr, cx + cw + 6, y + 4);
        cairo_show_text(cr, buf);
    }
    cairo_save(cr);
    cairo_move_to(cr, W - 10, mt + ph / 2 + 25);
    cairo_rotate(cr, -M_PI / 2);
    cairo_show_text(cr, "relevance");
    cairo_restore(cr);
}

/* Draws the image scaled into the plot, the frame, both axes, the colour bar and the title. */
static void draw_speech_figure(cairo_surface_t *surf, cairo_surface_t *img, const speech_frame *fr,
                               const xai_speech_pre *p, int64_t clip_start, double vmax, const char *title)
{
    const int rows = p->rows, cols = (int)p->frames;
    cairo_t *cr = cairo_create(surf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_save(cr);
    cairo_translate(cr, fr->ml, fr->mt);
    cairo_scale(cr, fr->pw / cols, fr->ph / rows);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, 0, cols, rows);
    cairo_fill(cr);
    cairo_restore(cr);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 11);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, fr->ml + 0.5, fr->mt + 0.5, fr->pw, fr->ph);
    cairo_stroke(cr);
    draw_time_axis(cr, fr, p, clip_start, cols);
    draw_freq_axis(cr, fr, p, rows);
    draw_colour_bar(cr, fr, vmax);
    if (title) {
        cairo_set_font_size(cr, 13);
        cairo_move_to(cr, fr->ml, 22);
        cairo_show_text(cr, title);
    }
    cairo_destroy(cr);
    cairo_surface_flush(surf);
}

xai_status xai_speech_figure(const char *path, const xai_speech_pre *p, int64_t clip_start, const float *feat,
                             const float *rel, const char *title)
{
    const int W = 760, H = 440, ml = 72, mr = 120, mt = 34, mb = 52;
    const int rows = p->rows, cols = (int)p->frames;
    const speech_frame fr = {W, H, ml, mt, W - ml - mr, H - mt - mb};
    double vmax = 0;
    for (size_t i = 0; i < (size_t)rows * (size_t)cols; i++)
        vmax = fabs(rel[i]) > vmax ? fabs(rel[i]) : vmax;
    if (!(vmax > 0))
        vmax = 1;
    cairo_surface_t *img = overlay_image(rows, cols, feat, rel, vmax);
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    if (cairo_surface_status(img) || cairo_surface_status(surf)) {
        cairo_surface_destroy(img);
        cairo_surface_destroy(surf);
        return xai_error_set(XAI_EIO, "%s: cairo cannot make a %d x %d image", path, cols, rows);
    }
    draw_speech_figure(surf, img, &fr, p, clip_start, vmax, title);
    xai_atomic_file af;
    xai_status st = xai_atomic_begin(path, &af);
    if (st == XAI_OK) {
        if (cairo_surface_write_to_png_stream(surf, write_png, af.f) == CAIRO_STATUS_SUCCESS) {
            st = xai_atomic_commit(&af);
        } else {
            xai_atomic_abort(&af);
            st = xai_error_set(XAI_EIO, "%s: cannot write the PNG", path);
        }
    }
    cairo_surface_destroy(img);
    cairo_surface_destroy(surf);
    return st;
}

/* ------------------------------------------------------------------ files and labels */

static const char *const audio_ext[] = {".wav", ".flac", ".ogg", ".oga", ".aiff", ".aif", ".aifc", ".au",
                                        ".snd", ".caf", ".w64", ".rf64", ".mp3", ".opus", ".voc"};

static int push(xai_speech_files *f, const char *path)
{
    if (f->n == f->cap) {
        int cap = f->cap ? 2 * f->cap : 64;
        char **np = realloc(f->path, sizeof(char *) * (size_t)cap);
        if (!np)
            return -1;
        f->path = np;
        char **nl = realloc(f->label, sizeof(char *) * (size_t)cap);
        if (!nl)
            return -1;
        f->label = nl;
        char **ng = realloc(f->group, sizeof(char *) * (size_t)cap);
        if (!ng)
            return -1;
        f->group = ng;
        f->cap = cap;
    }
    f->path[f->n] = strdup(path);
    f->label[f->n] = NULL;
    f->group[f->n] = NULL;
    if (!f->path[f->n])
        return -1;
    f->n++;
    return 0;
}

/* Audio files under @p dir through the one walker of the domain layer (sorted by their path
 * below @p dir, links followed, hidden entries skipped). */
static xai_status add_dir(xai_speech_files *f, const char *dir)
{
    xai_bids_walk_opts w = {.layout = XAI_WALK_PLAIN, .extensions = audio_ext,
                            .nextensions = (int)(sizeof audio_ext / sizeof *audio_ext), .max_depth = 9};
    xai_bids_list l;
    xai_status rc = xai_bids_walk(dir, &w, &l);
    for (size_t i = 0; rc == XAI_OK && i < l.n; i++)
        if (push(f, l.files[i].path) != 0)
            rc = xai_error_set(XAI_ENOMEM, "%s: out of memory", dir);
    xai_bids_list_free(&l);
    return rc;
}

xai_status xai_speech_files_add(xai_speech_files *f, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return xai_error_set(XAI_EIO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return add_dir(f, path);
    if (push(f, path) != 0)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    return XAI_OK;
}

void xai_speech_files_free(xai_speech_files *f)
{
    for (int i = 0; i < f->n; i++) {
        free(f->path[i]);
        free(f->label[i]);
        free(f->group[i]);
    }
    free(f->path);
    free(f->label);
    free(f->group);
    memset(f, 0, sizeof *f);
}

/* A parsed labels CSV: real path of each file and its label in one column. */
typedef struct {
    char *csv;       /* real path of the CSV */
    int n;
    char **file;     /* real paths */
    char **value;
} label_table;

static void table_free(label_table *t)
{
    for (int i = 0; i < t->n; i++) {
        free(t->file[i]);
        free(t->value[i]);
    }
    free(t->file);
    free(t->value);
    free(t->csv);
    memset(t, 0, sizeof *t);
}

/* Split a CSV line in place on commas (no quoting: our files and the shared labels have none). */
static int split_csv(char *line, char **field, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    char *s = line;
    while (n < max) {
        field[n++] = s;
        char *c = strchr(s, ',');
        if (!c)
            break;
        *c = '\0';
        s = c + 1;
    }
    return n;
}

/* Load @p csv; 0 ok, -1 error (the detail in xai_last_error()). */
static int table_load(const char *csv, const char *column, label_table *t)
{
    memset(t, 0, sizeof *t);
    char rp[PATH_MAX];
    if (!realpath(csv, rp))
        return xai_error_set(XAI_EIO, "%s: %s", csv, strerror(errno)), -1;
    FILE *f = fopen(rp, "r");
    if (!f)
        return xai_error_set(XAI_EIO, "%s: %s", csv, strerror(errno)), -1;
    t->csv = strdup(rp);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", rp);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    char line[4096];
    char *field[64];
    int fcol = -1, lcol = -1, rc = 0;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        table_free(t);
        return xai_error_set(XAI_EFORMAT, "%s: empty labels file", csv), -1;
    }
    int nf = split_csv(line, field, 64);
    for (int i = 0; i < nf; i++) {
        if (strcmp(field[i], "file") == 0 || strcmp(field[i], "path") == 0 || strcmp(field[i], "filename") == 0)
            fcol = fcol < 0 ? i : fcol;
        if (strcmp(field[i], column) == 0)
            lcol = i;
    }
    if (fcol < 0 || lcol < 0) {
        fclose(f);
        table_free(t);
        return xai_error_set(XAI_EFORMAT, "%s: needs a header with columns 'file' and '%s'", csv, column), -1;
    }
    int cap = 0;
    while (fgets(line, sizeof line, f)) {
        nf = split_csv(line, field, 64);
        if (nf == 1 && field[0][0] == '\0')
            continue;
        if (nf <= fcol || nf <= lcol || !field[lcol][0]) {
            rc = (int)xai_error_set(XAI_EFORMAT, "%s: line %d: too few fields", csv, t->n + 2);
            break;
        }
        if (t->n == cap) {
            cap = cap ? 2 * cap : 256;
            char **a = realloc(t->file, sizeof(char *) * (size_t)cap), **b = a ? realloc(t->value, sizeof(char *) * (size_t)cap) : NULL;
            if (a)
                t->file = a;
            if (!a || !b) {
                rc = (int)xai_error_set(XAI_ENOMEM, "%s: out of memory", csv);
                break;
            }
            t->value = b;
        }
        char full[2 * PATH_MAX + 2], frp[PATH_MAX];
        if (field[fcol][0] == '/')
            snprintf(full, sizeof full, "%s", field[fcol]);
        else
            snprintf(full, sizeof full, "%s/%s", dir, field[fcol]);
        t->file[t->n] = strdup(realpath(full, frp) ? frp : full);
        t->value[t->n] = strdup(field[lcol]);
        t->n++;
    }
    fclose(f);
    if (rc)
        table_free(t);
    return rc ? -1 : 0;
}

static const char *table_find(const label_table *t, const char *path)
{
    char rp[PATH_MAX];
    if (!realpath(path, rp))
        return NULL;
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->file[i], rp) == 0)
            return t->value[i];
    return NULL;
}

/* labels.csv in the file's directory or up to three parents; cached by path. */
static const char *nearby_label(const xai_speech_files *notify, label_table *cache, int *ncache, int maxcache, const char *path,
                                const char *column)
{
    char dir[PATH_MAX];
    if (!realpath(path, dir))
        return NULL;
    for (int up = 0; up < 4; up++) {
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            return NULL;
        *slash = '\0';
        char csv[PATH_MAX + 16];
        snprintf(csv, sizeof csv, "%s/labels.csv", dir);
        int k;
        for (k = 0; k < *ncache; k++)
            if (cache[k].csv && strcmp(cache[k].csv, csv) == 0)
                break;
        if (k == *ncache) {
            if (access(csv, R_OK) != 0 || *ncache == maxcache)
                continue;
            if (table_load(csv, column, &cache[k]) != 0) {
                /* remember the unusable CSV (noted once) as an empty table */
                if (notify && notify->note)
                    notify->note(notify->note_ud, NULL, xai_last_error());
                memset(&cache[k], 0, sizeof cache[k]);
                char rp[PATH_MAX];
                cache[k].csv = strdup(realpath(csv, rp) ? rp : csv);
            }
            (*ncache)++;
        }
        const char *v = table_find(&cache[k], path);
        if (v)
            return v;
    }
    return NULL;
}

/* Tell the caller about input @p file, if it listens. */
static void note(const xai_speech_files *f, const char *file, const char *fmt, ...)
{
    if (!f->note)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    f->note(f->note_ud, file, msg);
}

int xai_speech_files_label(xai_speech_files *f, const char *how, const char *column)
{
    int digit = strcmp(how, "digit") == 0, gender = strcmp(how, "gender") == 0;
    label_table csv = {0}, cache[16];
    int ncache = 0;
    if (!digit && !gender && table_load(how, column ? column : "label", &csv) != 0)
        return -1;
    int removed = 0, k = 0;
    for (int i = 0; i < f->n; i++) {
        const char *v = NULL;
        char buf[16];
        if (digit) {
            const char *b = strrchr(f->path[i], '/');
            b = b ? b + 1 : f->path[i];
            if (isdigit((unsigned char)b[0]) && (b[1] == '_' || b[1] == '.' || b[1] == '-')) {
                snprintf(buf, sizeof buf, "%c", b[0]);
                v = buf;
            } else {
                v = nearby_label(f, cache, &ncache, 16, f->path[i], "digit");
            }
        } else if (gender) {
            v = nearby_label(f, cache, &ncache, 16, f->path[i], "gender");
        } else {
            v = table_find(&csv, f->path[i]);
        }
        if (!v) {
            if (removed < 10)
                note(f, f->path[i], "no %s label (%s); skipped",
                     digit ? "digit" : gender ? "gender" : column ? column : "label",
                     digit ? "name it DIGIT_SPEAKER_N.wav or list it in a labels.csv"
                     : gender ? "list it with a 'gender' column in a labels.csv next to it"
                              : "not in the labels CSV");
            free(f->path[i]);
            removed++;
            continue;
        }
        f->path[k] = f->path[i];
        f->label[k] = strdup(v);
        k++;
    }
    f->n = k;
    if (removed > 10)
        note(f, NULL, "%d files without a label in all (only the first 10 are listed)", removed);
    table_free(&csv);
    for (int i = 0; i < ncache; i++)
        table_free(&cache[i]);
    return removed;
}

/* Speaker from an FSDD/AudioMNIST name LABEL_SPEAKER_TAKE.ext into @p out; 0 when the name
 * has no such field. */
static int speaker_from_name(const char *path, char *out, size_t cap)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *u1 = strchr(b, '_'), *u2 = u1 ? strchr(u1 + 1, '_') : NULL;
    if (!u2 || u2 == u1 + 1 || (size_t)(u2 - u1) > cap)
        return 0;
    snprintf(out, cap, "%.*s", (int)(u2 - u1 - 1), u1 + 1);
    return 1;
}

static void speaker_from_dir(const char *path, char *out, size_t cap)
{
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", path);
    char *slash = strrchr(d, '/');
    if (!slash) {
        snprintf(out, cap, ".");
        return;
    }
    *slash = '\0';
    const char *parent = strrchr(d, '/');
    snprintf(out, cap, "%.*s", (int)cap - 1, parent ? parent + 1 : d);
}

xai_status xai_speech_files_group(xai_speech_files *f)
{
    label_table cache[16];
    int ncache = 0;
    xai_status rc = XAI_OK;
    for (int i = 0; i < f->n && rc == XAI_OK; i++) {
        char buf[256];
        /* no notes: a labels.csv without a speaker column is fine, names and folders follow */
        const char *v = nearby_label(NULL, cache, &ncache, 16, f->path[i],
                                     f->speaker_column ? f->speaker_column : "speaker");
        if (!v && speaker_from_name(f->path[i], buf, sizeof buf))
            v = buf;
        if (!v) {
            speaker_from_dir(f->path[i], buf, sizeof buf);
            v = buf;
        }
        free(f->group[i]);
        f->group[i] = strdup(v);
        if (!f->group[i])
            rc = xai_error_set(XAI_ENOMEM, "speakers: out of memory");
    }
    for (int i = 0; i < ncache; i++)
        table_free(&cache[i]);
    return rc;
}
