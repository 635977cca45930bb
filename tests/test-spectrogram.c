/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-spectrogram.c - STFT, ISTFT, mel filterbanks, dB and presets (formats/spectrogram.c).
 * Golden values come from scipy.signal.stft and from mel filterbanks computed from their
 * published definitions by tests/data/spectrogram/make_golden.py (shapes listed there).
 * Agreement is required to 1e-4 relative to the largest reference value. The rest are
 * property tests in the spirit of FFTW's verify-lib: linearity, impulse response,
 * Parseval, and STFT -> ISTFT round trips.
 */
#include "test-common.h"

#include "xai/audio.h"
#include "xai/spectrogram.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *load_f32(const char *name, size_t expect)
{
    size_t len;
    const char *p = xai_test_path(xai_test_path(xai_test_data_dir(), "spectrogram"), name);
    float *v = xai_test_read_file(p, &len);
    ck_assert_msg(v != NULL, "%s missing", p);
    ck_assert_msg(len == expect * sizeof(float), "%s: %zu bytes, expected %zu", name, len, expect * sizeof(float));
    return v;
}

/* |a - b| <= tol * max|b| everywhere, and relative L2 error <= tol */
static void assert_close(const float *a, const float *b, size_t n, double tol, const char *what)
{
    double mx = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(b[i]) > mx)
            mx = fabs(b[i]);
    ck_assert_msg(mx > 0, "%s: reference is all zeros", what);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs((double)a[i] - b[i]) <= tol * mx, "%s[%zu]: %.8g vs %.8g (max %.6g)", what, i, (double)a[i],
                      (double)b[i], mx);
    double rel = xai_test_rel_l2(a, b, n);
    ck_assert_msg(rel <= tol, "%s: relative L2 error %g", what, rel);
}

static xai_stft *make(int n_fft, int win, int hop, xai_window w, int center, xai_pad_mode pad, int pad_end,
                      xai_stft_scaling sc)
{
    xai_stft_config c = {n_fft, win, hop, w, center, pad, pad_end, sc};
    xai_stft *s;
    ck_assert_msg(xai_stft_new(&c, &s) == XAI_OK, "%s", xai_last_error());
    return s;
}

/* ---- golden: scipy.signal.stft -------------------------------------------------------- */

static void golden_case(xai_stft *s, const float *x, int64_t n, const char *file, int bins, int frames)
{
    ck_assert_int_eq(xai_stft_bins(s), bins);
    ck_assert_int_eq(xai_stft_frames(s, n), frames);
    size_t m = (size_t)bins * frames;
    float *ref = load_f32(file, 2 * m);
    float *z = malloc(sizeof(float) * 2 * m);
    ck_assert_int_eq(xai_stft_forward(s, x, n, z, frames), XAI_OK);
    assert_close(z, ref, 2 * m, 1e-4, file);
    /* magnitude and power agree with |Z| and |Z|^2 */
    float *mag = malloc(sizeof(float) * m), *refmag = malloc(sizeof(float) * m), *pw = malloc(sizeof(float) * m);
    for (size_t i = 0; i < m; i++)
        refmag[i] = (float)hypot(ref[2 * i], ref[2 * i + 1]);
    ck_assert_int_eq(xai_stft_power(s, x, n, 1.0f, mag, frames), XAI_OK);
    assert_close(mag, refmag, m, 1e-4, "magnitude");
    ck_assert_int_eq(xai_stft_power(s, x, n, 2.0f, pw, frames), XAI_OK);
    for (size_t i = 0; i < m; i++)
        refmag[i] = refmag[i] * refmag[i];
    assert_close(pw, refmag, m, 2e-4, "power");
    free(mag);
    free(refmag);
    free(pw);
    free(ref);
    free(z);
}

START_TEST(golden_scipy_hann)
{
    float *x = load_f32("signal.f32", 1024);
    xai_stft *s = make(256, 256, 64, XAI_WINDOW_HANN, 1, XAI_PAD_CONSTANT, 1, XAI_STFT_SCALE_SPECTRUM);
    golden_case(s, x, 1024, "stft_a.f32", 129, 17);
    xai_stft_free(s);
    free(x);
}
END_TEST

START_TEST(golden_scipy_hamming_even)
{
    float *x = load_f32("signal.f32", 1024);
    xai_stft *s = make(65, 65, 15, XAI_WINDOW_HAMMING_SYMMETRIC, 1, XAI_PAD_REFLECT, 1, XAI_STFT_SCALE_SPECTRUM);
    golden_case(s, x, 600, "stft_b.f32", 33, 41);
    xai_stft_free(s);
    free(x);
}
END_TEST

START_TEST(golden_scipy_boxcar)
{
    float *x = load_f32("signal.f32", 1024);
    xai_stft *s = make(128, 128, 128, XAI_WINDOW_RECT, 0, XAI_PAD_CONSTANT, 0, XAI_STFT_SCALE_SPECTRUM);
    golden_case(s, x, 1024, "stft_c.f32", 65, 8);
    xai_stft_free(s);
    /* unscaled (librosa) values are scipy's times sum(window) = 128 */
    s = make(128, 128, 128, XAI_WINDOW_RECT, 0, XAI_PAD_CONSTANT, 0, XAI_STFT_SCALE_NONE);
    float *ref = load_f32("stft_c.f32", 65 * 8 * 2), z[65 * 8 * 2];
    for (int i = 0; i < 65 * 8 * 2; i++)
        ref[i] *= 128.0f;
    ck_assert_int_eq(xai_stft_forward(s, x, 1024, z, 8), XAI_OK);
    assert_close(z, ref, 65 * 8 * 2, 1e-4, "unscaled");
    xai_stft_free(s);
    free(ref);
    free(x);
}
END_TEST

START_TEST(golden_audiomnist_preset)
{
    size_t len;
    const char *p = xai_test_path(xai_test_path(xai_test_data_dir(), "spectrogram"), "audiomnist_in.i16");
    int16_t *pcm = xai_test_read_file(p, &len);
    ck_assert_ptr_nonnull(pcm);
    ck_assert_uint_eq(len, 16000);
    float x[8000];
    for (int i = 0; i < 8000; i++)
        x[i] = pcm[i] / 32768.0f;
    free(pcm);
    xai_spec_config cfg;
    ck_assert_int_eq(xai_spec_preset("audiomnist", &cfg), XAI_OK);
    xai_spec *sp;
    ck_assert_int_eq(xai_spec_new(&cfg, &sp), XAI_OK);
    xai_spectrogram out;
    ck_assert_int_eq(xai_spec_compute(sp, x, 8000, 8000, &out), XAI_OK);
    ck_assert_int_eq(out.rows, 227);
    ck_assert_int_eq(out.frames, 227);
    ck_assert_int_eq(out.hop, 35);
    float *sub = load_f32("audiomnist_db_sub.f32", 29 * 29), *stats = load_f32("audiomnist_db_stats.f32", 3);
    /* compare as amplitudes relative to the maximum: 10^(dB/20), i.e. 1e-4 of the peak */
    float a[29 * 29], b[29 * 29];
    for (int r = 0; r < 29; r++)
        for (int c = 0; c < 29; c++) {
            a[r * 29 + c] = (float)pow(10.0, out.data[(size_t)(8 * r) * 227 + (size_t)(8 * c)] / 20.0);
            b[r * 29 + c] = (float)pow(10.0, sub[r * 29 + c] / 20.0);
        }
    assert_close(a, b, 29 * 29, 1e-4, "audiomnist");
    double sum = 0, mn = 1e30, mx = -1e30;
    for (size_t i = 0; i < 227 * 227; i++) {
        sum += out.data[i];
        mn = fmin(mn, out.data[i]);
        mx = fmax(mx, out.data[i]);
    }
    ck_assert_double_eq_tol(mx, stats[2], 1e-6); /* 0 dB */
    ck_assert_double_eq_tol(mn, stats[1], 1e-3); /* floor at max - 80 dB */
    ck_assert_double_eq_tol(sum / (227 * 227), stats[0] / (227 * 227), 5e-3);
    free(sub);
    free(stats);
    xai_spectrogram_free(&out);
    xai_spec_free(sp);
}
END_TEST

/* ---- golden: mel filterbanks ------------------------------------------------------------ */

START_TEST(golden_mel)
{
    static const struct {
        const char *file;
        int sr, n_fft, n_mels;
        double fmin, fmax;
        xai_mel_scale scale;
        xai_mel_norm norm;
    } cases[] = {
        {"mel_slaney.f32", 16000, 128, 24, 0, 8000, XAI_MEL_SLANEY, XAI_MEL_NORM_SLANEY},
        {"mel_htk.f32", 16000, 128, 24, 50, 7000, XAI_MEL_HTK, XAI_MEL_NORM_NONE},
        {"mel_slaney_hi.f32", 22050, 128, 16, 300, 9000, XAI_MEL_SLANEY, XAI_MEL_NORM_NONE},
    };
    for (size_t k = 0; k < 3; k++) {
        size_t m = (size_t)cases[k].n_mels * (cases[k].n_fft / 2 + 1);
        float *ref = load_f32(cases[k].file, m), *fb = malloc(sizeof(float) * m);
        ck_assert_int_eq(xai_mel_filterbank(cases[k].sr, cases[k].n_fft, cases[k].n_mels, cases[k].fmin,
                                            cases[k].fmax, cases[k].scale, cases[k].norm, fb),
                         XAI_OK);
        assert_close(fb, ref, m, 1e-5, cases[k].file);
        free(ref);
        free(fb);
    }
}
END_TEST

START_TEST(mel_scale_points)
{
    ck_assert_double_eq_tol(xai_hz_to_mel(1000.0, XAI_MEL_SLANEY), 15.0, 1e-12);
    ck_assert_double_eq_tol(xai_hz_to_mel(500.0, XAI_MEL_SLANEY), 7.5, 1e-12);
    ck_assert_double_eq_tol(xai_hz_to_mel(6400.0, XAI_MEL_SLANEY), 42.0, 1e-9); /* 15 + 27 */
    ck_assert_double_eq_tol(xai_hz_to_mel(700.0, XAI_MEL_HTK), 2595.0 * log10(2.0), 1e-9);
    for (double f = 10; f < 20000; f *= 1.7) {
        ck_assert_double_eq_tol(xai_mel_to_hz(xai_hz_to_mel(f, XAI_MEL_SLANEY), XAI_MEL_SLANEY), f, 1e-9 * f);
        ck_assert_double_eq_tol(xai_mel_to_hz(xai_hz_to_mel(f, XAI_MEL_HTK), XAI_MEL_HTK), f, 1e-9 * f);
    }
    /* slaney-normalised triangles have area ~1 in Hz: sum(w) * df ~ 1 for wide filters */
    float fb[40 * 1025];
    ck_assert_int_eq(xai_mel_filterbank(22050, 2048, 40, 0, 0, XAI_MEL_SLANEY, XAI_MEL_NORM_SLANEY, fb), XAI_OK);
    double area = 0;
    for (int k = 0; k < 1025; k++)
        area += fb[30 * 1025 + k] * (22050.0 / 2048.0);
    ck_assert_double_eq_tol(area, 1.0, 0.02);
    /* errors */
    ck_assert_int_eq(xai_mel_filterbank(0, 2048, 40, 0, 0, XAI_MEL_SLANEY, XAI_MEL_NORM_NONE, fb), XAI_EINVAL);
    ck_assert_int_eq(xai_mel_filterbank(16000, 512, 40, 5000, 4000, XAI_MEL_HTK, XAI_MEL_NORM_NONE, fb), XAI_EINVAL);
}
END_TEST

/* ---- dB ------------------------------------------------------------------------------- */

START_TEST(db_values)
{
    float x[4] = {1.0f, 0.1f, 1e-12f, 100.0f};
    xai_db_config power = {10.0f, 0, 1.0f, 1e-10f, 0.0f};
    ck_assert_int_eq(xai_db_convert(x, 4, &power), XAI_OK);
    ck_assert_float_eq_tol(x[0], 0.0f, 1e-6f);
    ck_assert_float_eq_tol(x[1], -10.0f, 1e-5f);
    ck_assert_float_eq_tol(x[2], -100.0f, 1e-4f); /* amin */
    ck_assert_float_eq_tol(x[3], 20.0f, 1e-5f);
    float y[4] = {1.0f, 0.1f, 1e-12f, 100.0f};
    power.top_db = 80.0f;
    ck_assert_int_eq(xai_db_convert(y, 4, &power), XAI_OK);
    ck_assert_float_eq_tol(y[2], -60.0f, 1e-4f); /* 20 - 80 */
    float z[3] = {2.0f, 1.0f, 0.0f};
    xai_db_config amp = {20.0f, 1, 0.0f, 1e-5f, 80.0f};
    ck_assert_int_eq(xai_db_convert(z, 3, &amp), XAI_OK);
    ck_assert_float_eq_tol(z[0], 0.0f, 1e-6f);
    ck_assert_float_eq_tol(z[1], -6.0206f, 1e-4f);
    ck_assert_float_eq_tol(z[2], -80.0f, 1e-4f);
    float bad[2] = {1.0f, -1.0f};
    ck_assert_int_eq(xai_db_convert(bad, 2, &amp), XAI_ENUMERIC);
    bad[1] = NAN;
    ck_assert_int_eq(xai_db_convert(bad, 2, &amp), XAI_ENUMERIC);
    amp.amin = 0;
    ck_assert_int_eq(xai_db_convert(z, 3, &amp), XAI_EINVAL);
}
END_TEST

/* ---- properties ----------------------------------------------------------------------- */

static void lcg_fill(float *x, int n, unsigned seed)
{
    for (int i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

START_TEST(prop_linearity)
{
    enum { N = 3000 };
    static float a[N], b[N], c[N];
    lcg_fill(a, N, 1);
    lcg_fill(b, N, 2);
    for (int i = 0; i < N; i++)
        c[i] = 0.7f * a[i] - 1.3f * b[i];
    xai_stft *s = make(512, 400, 160, XAI_WINDOW_HAMMING, 1, XAI_PAD_REFLECT, 0, XAI_STFT_SCALE_NONE);
    int64_t T = xai_stft_frames(s, N);
    ck_assert_int_eq(T, 1 + N / 160);
    size_t m = (size_t)2 * 257 * T;
    float *A = malloc(sizeof(float) * m), *B = malloc(sizeof(float) * m), *C = malloc(sizeof(float) * m);
    ck_assert_int_eq(xai_stft_forward(s, a, N, A, T), XAI_OK);
    ck_assert_int_eq(xai_stft_forward(s, b, N, B, T), XAI_OK);
    ck_assert_int_eq(xai_stft_forward(s, c, N, C, T), XAI_OK);
    for (size_t i = 0; i < m; i++)
        A[i] = 0.7f * A[i] - 1.3f * B[i];
    assert_close(C, A, m, 1e-5, "linearity");
    free(A);
    free(B);
    free(C);
    xai_stft_free(s);
}
END_TEST

START_TEST(prop_impulse)
{
    /* rectangular window, no padding: an impulse at n0 in frame t gives X_k = e^{-2 pi i k j / N} */
    enum { N = 64, LEN = 256 };
    float x[LEN] = {0};
    const int n0 = 64 + 13;
    x[n0] = 1.0f;
    xai_stft *s = make(N, N, N, XAI_WINDOW_RECT, 0, XAI_PAD_CONSTANT, 0, XAI_STFT_SCALE_NONE);
    ck_assert_int_eq(xai_stft_frames(s, LEN), 4);
    float X[33 * 4 * 2];
    ck_assert_int_eq(xai_stft_forward(s, x, LEN, X, 4), XAI_OK);
    for (int k = 0; k < 33; k++)
        for (int t = 0; t < 4; t++) {
            double re = X[2 * (k * 4 + t)], im = X[2 * (k * 4 + t) + 1];
            double er = t == 1 ? cos(2 * M_PI * k * 13 / N) : 0, ei = t == 1 ? -sin(2 * M_PI * k * 13 / N) : 0;
            ck_assert_double_eq_tol(re, er, 1e-6);
            ck_assert_double_eq_tol(im, ei, 1e-6);
        }
    xai_stft_free(s);
    /* with a Hann window and center, an impulse's magnitude in its own frame is w[N/2] = 1 in every bin */
    s = make(N, N, 16, XAI_WINDOW_HANN, 1, XAI_PAD_CONSTANT, 0, XAI_STFT_SCALE_NONE);
    float mag[33 * 17];
    ck_assert_int_eq(xai_stft_frames(s, LEN), 17);
    x[n0] = 0;
    x[80] = 1.0f; /* frame 5 is centred at 80 */
    ck_assert_int_eq(xai_stft_power(s, x, LEN, 1.0f, mag, 17), XAI_OK);
    for (int k = 0; k < 33; k++)
        ck_assert_double_eq_tol(mag[k * 17 + 5], 1.0, 1e-6);
    xai_stft_free(s);
}
END_TEST

/* sum over frames of the full-spectrum energy, from the one-sided power */
static double spectral_energy(const float *pw, int bins, int64_t T, int n_fft)
{
    double e = 0;
    for (int k = 0; k < bins; k++) {
        double mult = (k == 0 || (n_fft % 2 == 0 && k == n_fft / 2)) ? 1.0 : 2.0;
        for (int64_t t = 0; t < T; t++)
            e += mult * pw[(size_t)k * T + t];
    }
    return e / n_fft;
}

START_TEST(prop_parseval)
{
    enum { LEN = 4096 };
    static float x[LEN];
    lcg_fill(x, LEN, 7);
    double ex = 0;
    for (int i = 0; i < LEN; i++)
        ex += (double)x[i] * x[i];
    /* rectangular, hop = N: the frames tile the signal exactly (even and odd N) */
    const int sizes[] = {256, 255};
    for (int q = 0; q < 2; q++) {
        int N = sizes[q];
        xai_stft *s = make(N, N, N, XAI_WINDOW_RECT, 0, XAI_PAD_CONSTANT, 0, XAI_STFT_SCALE_NONE);
        int64_t T = xai_stft_frames(s, LEN);
        ck_assert_int_eq(T, LEN / N);
        float *pw = malloc(sizeof(float) * (size_t)(N / 2 + 1) * T);
        ck_assert_int_eq(xai_stft_power(s, x, LEN, 2.0f, pw, T), XAI_OK);
        double ec = 0;
        for (int64_t i = 0; i < T * N; i++)
            ec += (double)x[i] * x[i];
        ck_assert_double_eq_tol(spectral_energy(pw, N / 2 + 1, T, N), ec, 1e-5 * ec);
        free(pw);
        xai_stft_free(s);
    }
    /* periodic Hann at hop N/4: sum_t w^2 = 3/2 everywhere, so energy = 1.5 * N-normalised */
    static float y[LEN];
    for (int i = 0; i < LEN; i++)
        y[i] = (i >= 1024 && i < 3072) ? x[i] : 0.0f; /* zero near the edges */
    double ey = 0;
    for (int i = 0; i < LEN; i++)
        ey += (double)y[i] * y[i];
    xai_stft *s = make(512, 512, 128, XAI_WINDOW_HANN, 1, XAI_PAD_CONSTANT, 0, XAI_STFT_SCALE_NONE);
    int64_t T = xai_stft_frames(s, LEN);
    float *pw = malloc(sizeof(float) * 257 * T);
    ck_assert_int_eq(xai_stft_power(s, y, LEN, 2.0f, pw, T), XAI_OK);
    ck_assert_double_eq_tol(spectral_energy(pw, 257, T, 512), 1.5 * ey, 1e-5 * ey);
    free(pw);
    xai_stft_free(s);
    (void)ex;
}
END_TEST

START_TEST(prop_roundtrip)
{
    enum { LEN = 5000 };
    static float x[LEN], y[LEN];
    lcg_fill(x, LEN, 11);
    static const xai_stft_config cfgs[] = {
        {512, 512, 128, XAI_WINDOW_HANN, 1, XAI_PAD_REFLECT, 0, XAI_STFT_SCALE_NONE},
        {512, 300, 100, XAI_WINDOW_HAMMING, 1, XAI_PAD_CONSTANT, 0, XAI_STFT_SCALE_NONE},
        {455, 455, 35, XAI_WINDOW_HANN, 1, XAI_PAD_CONSTANT, 1, XAI_STFT_SCALE_SPECTRUM},
        {400, 400, 200, XAI_WINDOW_HANN, 1, XAI_PAD_REFLECT, 0, XAI_STFT_SCALE_NONE},
        {256, 256, 256, XAI_WINDOW_RECT, 0, XAI_PAD_CONSTANT, 0, XAI_STFT_SCALE_NONE},
        {2048, 2048, 512, XAI_WINDOW_HANN_SYMMETRIC, 1, XAI_PAD_CONSTANT, 0, XAI_STFT_SCALE_SPECTRUM},
    };
    for (size_t q = 0; q < sizeof cfgs / sizeof cfgs[0]; q++) {
        xai_stft *s;
        ck_assert_int_eq(xai_stft_new(&cfgs[q], &s), XAI_OK);
        int64_t T = xai_stft_frames(s, LEN);
        float *Z = malloc(sizeof(float) * 2 * (size_t)xai_stft_bins(s) * T);
        ck_assert_int_eq(xai_stft_forward(s, x, LEN, Z, T), XAI_OK);
        ck_assert_int_eq(xai_stft_inverse(s, Z, T, y, LEN), XAI_OK);
        /* without center the tail beyond the last full frame is not covered */
        int64_t n = cfgs[q].center ? LEN : (T - 1) * cfgs[q].hop + cfgs[q].n_fft;
        double rel = xai_test_rel_l2(y, x, (size_t)n);
        ck_assert_msg(rel < 1e-5, "config %zu: round-trip error %g", q, rel);
        free(Z);
        xai_stft_free(s);
    }
}
END_TEST

/* ---- presets and pipeline ------------------------------------------------------------- */

START_TEST(preset_shapes)
{
    static float x[48000];
    for (int i = 0; i < 48000; i++)
        x[i] = (float)(0.3 * sin(2 * M_PI * 1000.0 * i / 48000.0));
    xai_spec_config c;
    xai_spec *sp;
    xai_spectrogram out;
    /* librosa: 22050 Hz, 1 s -> 1 + 22050/512 = 44 frames, 128 mel rows, max 0..80 dB range */
    ck_assert_int_eq(xai_spec_preset("librosa", &c), XAI_OK);
    ck_assert_int_eq(c.stft.n_fft, 2048);
    ck_assert_int_eq(c.stft.hop, 512);
    ck_assert_int_eq(xai_spec_new(&c, &sp), XAI_OK);
    ck_assert_ptr_nonnull(xai_spec_filterbank(sp));
    ck_assert_int_eq(xai_spec_compute(sp, x, 22050, 22050, &out), XAI_OK);
    ck_assert_int_eq(out.rows, 128);
    ck_assert_int_eq(out.frames, 44);
    float mx = -1e30f, mn = 1e30f;
    for (size_t i = 0; i < (size_t)128 * 44; i++) {
        mx = fmaxf(mx, out.data[i]);
        mn = fminf(mn, out.data[i]);
    }
    ck_assert_float_eq_tol(mx - mn, 80.0f, 1e-3f); /* top_db clipped */
    xai_spectrogram_free(&out);
    xai_spec_free(sp);
    /* torchaudio: 16000 Hz, 1 s -> 81 frames */
    ck_assert_int_eq(xai_spec_preset("torchaudio", &c), XAI_OK);
    ck_assert_int_eq(c.mel_scale, XAI_MEL_HTK);
    ck_assert_int_eq(c.mel_norm, XAI_MEL_NORM_NONE);
    ck_assert_int_eq(xai_spec_new(&c, &sp), XAI_OK);
    ck_assert_int_eq(xai_spec_compute(sp, x, 16000, 16000, &out), XAI_OK);
    ck_assert_int_eq(out.rows, 128);
    ck_assert_int_eq(out.frames, 81);
    xai_spectrogram_free(&out);
    /* 48 kHz input is resampled to 16 kHz first: same shape */
    ck_assert_int_eq(xai_spec_compute(sp, x, 48000, 48000, &out), XAI_OK);
    ck_assert_int_eq(out.sample_rate, 16000);
    ck_assert_int_eq(out.frames, 81);
    xai_spectrogram_free(&out);
    xai_spec_free(sp);
    /* audiomnist: any input -> 227 x 227; a 1 kHz tone peaks at bin 1000 / (8000/455) = 56.9 */
    ck_assert_int_eq(xai_spec_preset("audiomnist", &c), XAI_OK);
    ck_assert_int_eq(xai_spec_new(&c, &sp), XAI_OK);
    ck_assert_int_eq(xai_spec_compute(sp, x, 24000, 48000, &out), XAI_OK);
    ck_assert_int_eq(out.rows, 227);
    ck_assert_int_eq(out.frames, 227);
    int best = 0;
    for (int r = 0; r < 227; r++)
        if (out.data[(size_t)r * 227 + 113] > out.data[(size_t)best * 227 + 113])
            best = r;
    ck_assert_int_eq(best, 57);
    ck_assert_float_eq_tol(out.data[(size_t)best * 227 + 113], 0.0f, 0.5f); /* near the max */
    xai_spectrogram_free(&out);
    xai_spectrogram_free(&out);
    xai_spec_free(sp);
    xai_spec_free(NULL);
    ck_assert_int_eq(xai_spec_preset("kaldi", &c), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "kaldi"));
}
END_TEST

START_TEST(real_speech_preset)
{
    if (!xai_test_shared_dir()) {
        xai_test_mark_skip();
        return;
    }
    const char *p = xai_test_path(xai_test_shared_dir(), "data/speech/fsdd_subset/recordings/3_theo_0.wav");
    xai_audio a;
    ck_assert_msg(xai_audio_load(p, &a) == XAI_OK, "%s", xai_last_error());
    xai_spec_config c;
    xai_spec *sp;
    xai_spectrogram out;
    ck_assert_int_eq(xai_spec_preset("audiomnist", &c), XAI_OK);
    ck_assert_int_eq(xai_spec_new(&c, &sp), XAI_OK);
    ck_assert_int_eq(xai_spec_compute(sp, a.data, a.info.frames, a.info.sample_rate, &out), XAI_OK);
    ck_assert_int_eq(out.rows, 227);
    ck_assert_int_eq(out.frames, 227);
    /* 1931 samples of speech centred in 1 s: the columns outside the speech are silence,
     * i.e. the amin floor 20 log10(1e-5 / max) in every row; the 0 dB peak is in the middle */
    const float floor_db = out.data[0];
    ck_assert_float_lt(floor_db, -20.0f);
    int peak_t = -1;
    for (int r = 0; r < 227; r++)
        for (int t = 0; t < 227; t++) {
            float v = out.data[(size_t)r * 227 + t];
            if (t < 60 || t > 167)
                ck_assert_float_eq(v, floor_db);
            if (v == 0.0f)
                peak_t = t;
        }
    ck_assert_int_ge(peak_t, 80);
    ck_assert_int_le(peak_t, 147);
    xai_spectrogram_free(&out);
    xai_spec_free(sp);
    xai_audio_free(&a);
}
END_TEST

START_TEST(errors)
{
    xai_stft *s;
    xai_stft_config c;
    xai_stft_config_default(&c);
    ck_assert_int_eq(c.n_fft, 2048);
    c.n_fft = 1;
    ck_assert_int_eq(xai_stft_new(&c, &s), XAI_EINVAL);
    xai_stft_config_default(&c);
    c.win_length = 4096;
    ck_assert_int_eq(xai_stft_new(&c, &s), XAI_EINVAL);
    xai_stft_config_default(&c);
    c.hop = -3;
    ck_assert_int_eq(xai_stft_new(&c, &s), XAI_EINVAL);
    xai_stft_config_default(&c);
    c.window = (xai_window)99;
    ck_assert_int_eq(xai_stft_new(&c, &s), XAI_EINVAL);
    /* defaults: win_length n_fft, hop win/4 */
    xai_stft_config_default(&c);
    c.win_length = 0;
    c.hop = 0;
    ck_assert_int_eq(xai_stft_new(&c, &s), XAI_OK);
    ck_assert_int_eq(xai_stft_get_config(s)->win_length, 2048);
    ck_assert_int_eq(xai_stft_get_config(s)->hop, 512);
    xai_stft_free(s);
    /* too short without center, wrong frame count */
    s = make(256, 256, 64, XAI_WINDOW_HANN, 0, XAI_PAD_CONSTANT, 0, XAI_STFT_SCALE_NONE);
    float x[300] = {0}, out[2 * 129 * 10];
    ck_assert_int_eq(xai_stft_frames(s, 100), 0);
    ck_assert_int_eq(xai_stft_forward(s, x, 100, out, 1), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "too short"));
    ck_assert_int_eq(xai_stft_frames(s, 300), 1);
    ck_assert_int_eq(xai_stft_forward(s, x, 300, out, 2), XAI_EINVAL);
    ck_assert_int_eq(xai_stft_power(s, x, 300, 0.0f, out, 1), XAI_EINVAL);
    ck_assert_int_eq(xai_stft_inverse(s, out, 0, x, 300), XAI_EINVAL);
    xai_stft_free(s);
    xai_stft_free(NULL);
}
END_TEST

/* FFTW planning from several threads at once (plans are shared and made under a mutex) */
static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    float x[2000];
    lcg_fill(x, 2000, 3);
    static const int sizes[] = {128, 200, 256, 455, 512};
    int bad = 0;
    for (int it = 0; it < 30; it++) {
        int N = sizes[(it + id) % 5];
        xai_stft *s = NULL;
        xai_stft_config c = {N, N, N / 4, XAI_WINDOW_HANN, 1, XAI_PAD_REFLECT, 0, XAI_STFT_SCALE_NONE};
        if (xai_stft_new(&c, &s) != XAI_OK)
            return (void *)1;
        int64_t T = xai_stft_frames(s, 2000);
        float *Z = malloc(sizeof(float) * 2 * (N / 2 + 1) * T), y[2000];
        xai_stft_forward(s, x, 2000, Z, T);
        xai_stft_inverse(s, Z, T, y, 2000);
        if (xai_test_rel_l2(y, x, 2000) > 1e-5)
            bad = 1;
        free(Z);
        xai_stft_free(s);
    }
    return (void *)(intptr_t)bad;
}

START_TEST(threads)
{
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        ck_assert_ptr_null(r);
    }
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("spectrogram");
    TCase *tc = tcase_create("golden");
    tcase_add_test(tc, golden_scipy_hann);
    tcase_add_test(tc, golden_scipy_hamming_even);
    tcase_add_test(tc, golden_scipy_boxcar);
    tcase_add_test(tc, golden_audiomnist_preset);
    tcase_add_test(tc, golden_mel);
    tcase_add_test(tc, mel_scale_points);
    tcase_add_test(tc, db_values);
    suite_add_tcase(s, tc);
    tc = tcase_create("properties");
    tcase_add_test(tc, prop_linearity);
    tcase_add_test(tc, prop_impulse);
    tcase_add_test(tc, prop_parseval);
    tcase_add_test(tc, prop_roundtrip);
    tcase_add_test(tc, threads);
    suite_add_tcase(s, tc);
    tc = tcase_create("presets");
    tcase_add_test(tc, preset_shapes);
    tcase_add_test(tc, real_speech_preset);
    tcase_add_test(tc, errors);
    suite_add_tcase(s, tc);
    return s;
}
