#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Golden fixtures for tests/test-spectrogram.c.

Run with Debian's Python (numpy + scipy):  /usr/bin/python3 make_golden.py
It rewrites the files below in this directory. All arrays are raw little-endian float32
(int16 for audiomnist_in.i16), C order, without header; shapes are listed here and in
test-spectrogram.c.

  signal.f32              [1024]      test signal (two tones, a chirp, seeded noise), fs 8000
  stft_a.f32              [129][17][2] scipy.signal.stft(signal, 8000, 'hann', nperseg=256,
                                       noverlap=192)  (boundary 'zeros', padded, spectrum scaling)
  stft_b.f32              [33][41][2]  scipy.signal.stft(signal[:600], 8000, symmetric hamming(65),
                                       nperseg=65, noverlap=50, boundary='even')
  stft_c.f32              [65][8][2]   scipy.signal.stft(signal, 8000, 'boxcar', nperseg=128,
                                       noverlap=0, boundary=None, padded=False)
  audiomnist_in.i16       [8000]      int16 test signal (float value = int / 32768), fs 8000
  audiomnist_db_sub.f32   [29][29]    AudioMNIST preprocessing (scipy.signal.stft nperseg 455,
                                       noverlap 420, 'hann'; |Z|[0:227, 2:-1]; amplitude_to_db with
                                       ref=max, amin=1e-5, top_db=80) sampled at rows/cols 0, 8, .., 224
  audiomnist_db_stats.f32 [3]         sum, min and max of the full 227x227 dB array
  mel_slaney.f32          [24][65]    Slaney mel, slaney norm, sr 16000, n_fft 128, fmin 0, fmax 8000
  mel_htk.f32             [24][65]    HTK mel, no norm, sr 16000, n_fft 128, fmin 50, fmax 7000
  mel_slaney_hi.f32       [16][65]    Slaney mel, no norm, sr 22050, n_fft 128, fmin 300, fmax 9000

The mel filterbanks are computed here from the published definitions (Slaney's Auditory
Toolbox scale: linear 200/3 Hz per mel below 1 kHz, log step ln(6.4)/27 above; HTK:
2595 log10(1 + f/700)); triangles span adjacent mel-spaced edges and are evaluated at the
FFT bin frequencies k*sr/n_fft; the slaney norm scales each by 2/(right edge - left edge).
librosa is not used.
"""
import os

import numpy as np
import scipy.signal as ss

HERE = os.path.dirname(os.path.abspath(__file__))


def save(name, arr, dtype="<f4"):
    arr = np.ascontiguousarray(np.asarray(arr).astype(dtype))
    arr.tofile(os.path.join(HERE, name))
    print(f"{name}: shape {arr.shape}, {arr.nbytes} bytes")


def cplx(z):
    out = np.empty(z.shape + (2,), dtype=np.float64)
    out[..., 0] = z.real
    out[..., 1] = z.imag
    return out


def test_signal(n, fs, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    x = (0.5 * np.sin(2 * np.pi * 440.0 * t) + 0.25 * np.sin(2 * np.pi * 1234.5 * t + 0.3)
         + 0.2 * ss.chirp(t, f0=100.0, t1=t[-1], f1=3500.0) + 0.05 * rng.standard_normal(n))
    return x


# ---- STFT vs scipy --------------------------------------------------------------------
fs = 8000
sig = test_signal(1024, fs, 1234).astype(np.float32)
save("signal.f32", sig)
x = sig.astype(np.float64)

_, _, za = ss.stft(x, fs, window="hann", nperseg=256, noverlap=192)
assert za.shape == (129, 17), za.shape
save("stft_a.f32", cplx(za))

win_b = ss.get_window("hamming", 65, fftbins=False)
_, _, zb = ss.stft(x[:600], fs, window=win_b, nperseg=65, noverlap=50, boundary="even")
assert zb.shape == (33, 41), zb.shape
save("stft_b.f32", cplx(zb))

_, _, zc = ss.stft(x, fs, window="boxcar", nperseg=128, noverlap=0, boundary=None, padded=False)
assert zc.shape == (65, 8), zc.shape
save("stft_c.f32", cplx(zc))

# ---- AudioMNIST preprocessing ---------------------------------------------------------
am = np.round(test_signal(8000, fs, 99) * 12000.0).astype(np.int16)
save("audiomnist_in.i16", am, "<i2")
xa = am.astype(np.float32).astype(np.float64) / 32768.0
_, _, z = ss.stft(xa, 8000, nperseg=455, noverlap=420, window="hann")
mag = np.abs(z[0:227, 2:-1])
assert mag.shape == (227, 227), mag.shape
# librosa.amplitude_to_db(S, ref=np.max): power_to_db(S**2, ref=max(S)**2, amin=1e-10, top_db=80)
amin = 1e-5
db = 20.0 * np.log10(np.maximum(amin, mag)) - 20.0 * np.log10(max(amin, mag.max()))
db = np.maximum(db, db.max() - 80.0)
save("audiomnist_db_sub.f32", db[::8, ::8])
save("audiomnist_db_stats.f32", np.array([db.sum(), db.min(), db.max()]))


# ---- mel filterbanks from the definitions --------------------------------------------
def hz_to_mel(f, htk):
    f = np.asarray(f, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    lin = f / (200.0 / 3.0)
    log = 15.0 + np.log(np.maximum(f, 1e-12) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, log, lin)


def mel_to_hz(m, htk):
    m = np.asarray(m, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    lin = m * (200.0 / 3.0)
    log = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
    return np.where(m >= 15.0, log, lin)


def melbank(sr, n_fft, n_mels, fmin, fmax, htk, slaney_norm):
    freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n_mels + 2), htk)
    fb = np.zeros((n_mels, freqs.size))
    for m in range(n_mels):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        for k, f in enumerate(freqs):
            if lo < f < hi:
                fb[m, k] = (f - lo) / (mid - lo) if f <= mid else (hi - f) / (hi - mid)
        if slaney_norm:
            fb[m] *= 2.0 / (hi - lo)
    return fb


# sanity checks of the scale definitions against known points
assert abs(hz_to_mel(1000.0, False) - 15.0) < 1e-12
assert abs(hz_to_mel(1000.0, True) - 999.9855371) < 1e-6
assert abs(mel_to_hz(hz_to_mel(4321.0, False), False) - 4321.0) < 1e-9

save("mel_slaney.f32", melbank(16000, 128, 24, 0.0, 8000.0, False, True))
save("mel_htk.f32", melbank(16000, 128, 24, 50.0, 7000.0, True, False))
save("mel_slaney_hi.f32", melbank(22050, 128, 16, 300.0, 9000.0, False, False))
