/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * spectrogram.h - STFT, ISTFT, mel filterbanks and dB scaling through FFTW (single
 * precision), with the presets used to train speech models (librosa, torchaudio, AudioMNIST).
 *
 * Layouts: a spectrogram is [F][T] (frequency rows, time columns, as librosa and torchaudio
 * return it); a complex STFT is [F][T][2] (re, im interleaved); a mel filterbank is
 * [n_mels][n_fft/2+1]. F = n_fft/2 + 1 (one-sided).
 *
 * Conventions: frame t covers padded samples [t*hop, t*hop + n_fft); with center the signal
 * is padded by n_fft/2 on both sides (librosa, torchaudio, and scipy.signal.stft's
 * boundary='zeros' / 'even' when nperseg == nfft). A window shorter than n_fft is
 * zero-padded on both sides to n_fft (librosa's pad_center). The FFT sign is e^{-2 pi i k n/N}.
 */
#ifndef XAI_SPECTROGRAM_H
#define XAI_SPECTROGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Analysis windows. Periodic ("fftbins") windows divide by N, symmetric ones by N - 1. */
typedef enum {
    XAI_WINDOW_HANN = 0,          /**< periodic Hann (scipy get_window('hann'), torch.hann_window) */
    XAI_WINDOW_HANN_SYMMETRIC,    /**< symmetric Hann (numpy.hanning) */
    XAI_WINDOW_HAMMING,           /**< periodic Hamming, 0.54 - 0.46 cos */
    XAI_WINDOW_HAMMING_SYMMETRIC, /**< symmetric Hamming (numpy.hamming) */
    XAI_WINDOW_RECT               /**< all ones (scipy 'boxcar') */
} xai_window;

/** How center padding extends the signal. */
typedef enum {
    XAI_PAD_CONSTANT = 0, /**< zeros (librosa >= 0.10, scipy boundary='zeros') */
    XAI_PAD_REFLECT       /**< mirror without repeating the edge (numpy 'reflect', scipy 'even') */
} xai_pad_mode;

/** Scaling of the STFT values. */
typedef enum {
    XAI_STFT_SCALE_NONE = 0, /**< plain DFT of the windowed frame (librosa, torchaudio) */
    XAI_STFT_SCALE_SPECTRUM  /**< divided by sum(window) (scipy.signal.stft default) */
} xai_stft_scaling;

/** STFT parameters. Start from xai_stft_config_default(). */
typedef struct {
    int n_fft;                /**< FFT length, >= 2 */
    int win_length;           /**< window length <= n_fft; 0 means n_fft */
    int hop;                  /**< hop in samples, >= 1; 0 means win_length / 4 */
    xai_window window;        /**< analysis window */
    int center;               /**< pad n_fft/2 on both sides so frame t is centred at t*hop */
    xai_pad_mode pad_mode;    /**< padding used by center */
    int pad_end;              /**< zero-pad the end so the last frame is full (scipy padded=True) */
    xai_stft_scaling scaling; /**< value scaling */
} xai_stft_config;

/** Fill @p c with librosa's defaults: n_fft 2048, hop 512, periodic Hann, center, constant pad. */
XAI_API void xai_stft_config_default(xai_stft_config *c);

/**
 * An STFT plan (opaque): window and FFTW plans for one configuration. FFTW plans are shared
 * between xai_stft objects of the same n_fft and made under a process-wide mutex (FFTW
 * planning is not thread-safe); executing one xai_stft from several threads is safe.
 */
typedef struct xai_stft xai_stft;

/**
 * Make a plan for @p cfg (copied).
 * @param[out] out new plan owned by the caller (xai_stft_free()).
 * @return XAI_OK, XAI_EINVAL (bad sizes), XAI_EDEP (FFTW could not plan), XAI_ENOMEM.
 */
XAI_API xai_status xai_stft_new(const xai_stft_config *cfg, xai_stft **out);

/** Free @p s; NULL is fine. */
XAI_API void xai_stft_free(xai_stft *s);

/** @return the resolved configuration of @p s (win_length and hop filled in; borrowed). */
XAI_API const xai_stft_config *xai_stft_get_config(const xai_stft *s);

/** @return the number of frequency bins, n_fft/2 + 1. */
XAI_API int xai_stft_bins(const xai_stft *s);

/** @return the number of frames for a signal of @p n samples, or 0 when it is too short. */
XAI_API int64_t xai_stft_frames(const xai_stft *s, int64_t n);

/** @return the window, zero-padded to n_fft (borrowed, n_fft floats). */
XAI_API const float *xai_stft_window(const xai_stft *s);

/**
 * Complex STFT of @p x (@p n samples, borrowed) into @p out, [bins][frames][2] floats,
 * caller-allocated; @p frames must equal xai_stft_frames(s, n).
 * @return XAI_OK, XAI_EINVAL (signal too short, wrong frame count), XAI_ENOMEM.
 */
XAI_API xai_status xai_stft_forward(const xai_stft *s, const float *x, int64_t n, float *out, int64_t frames);

/**
 * |STFT|^@p power into @p out, [bins][frames] (power 1: magnitude, 2: power).
 * Same arguments and errors as xai_stft_forward().
 */
XAI_API xai_status xai_stft_power(const xai_stft *s, const float *x, int64_t n, float power, float *out,
                                  int64_t frames);

/**
 * Inverse STFT by weighted overlap-add: each frame's inverse FFT is multiplied by the
 * window and the sum is divided by the summed squared window (where it exceeds 1e-10,
 * elsewhere left undivided), then the center padding is trimmed. Inverts
 * xai_stft_forward() for any window and hop satisfying NOLA.
 * @param spec [bins][frames][2], borrowed. @param[out] y caller-allocated, @p n samples;
 * samples beyond the frames' reach are 0.
 * @return XAI_OK, XAI_EINVAL, XAI_ENOMEM.
 */
XAI_API xai_status xai_stft_inverse(const xai_stft *s, const float *spec, int64_t frames, float *y, int64_t n);

/** Mel scales. */
typedef enum {
    XAI_MEL_SLANEY = 0, /**< linear below 1 kHz, logarithmic above (Slaney's Auditory Toolbox, librosa) */
    XAI_MEL_HTK         /**< 2595 log10(1 + f/700) (HTK, torchaudio default) */
} xai_mel_scale;

/** Mel filter normalisation. */
typedef enum {
    XAI_MEL_NORM_NONE = 0, /**< triangles peak at 1 */
    XAI_MEL_NORM_SLANEY    /**< each triangle scaled by 2 / (f_right - f_left): constant energy */
} xai_mel_norm;

/** Hz to mel on @p scale. */
XAI_API double xai_hz_to_mel(double hz, xai_mel_scale scale);
/** Mel to Hz on @p scale. */
XAI_API double xai_mel_to_hz(double mel, xai_mel_scale scale);

/**
 * Triangular mel filterbank (librosa.filters.mel / torchaudio melscale_fbanks):
 * n_mels triangles with edges equally spaced in mel between @p fmin and @p fmax, evaluated
 * at the FFT bin frequencies k * sample_rate / n_fft.
 * @param fmax upper edge in Hz; <= 0 means sample_rate / 2.
 * @param[out] fb caller-allocated [n_mels][n_fft/2+1].
 * @return XAI_OK or XAI_EINVAL.
 */
XAI_API xai_status xai_mel_filterbank(int sample_rate, int n_fft, int n_mels, double fmin, double fmax,
                                      xai_mel_scale scale, xai_mel_norm norm, float *fb);

/**
 * @p out [n_mels][frames] = @p fb [n_mels][bins] x @p spec [bins][frames] (all borrowed,
 * @p out caller-allocated and distinct from the inputs).
 */
XAI_API xai_status xai_mel_apply(const float *fb, int n_mels, int bins, const float *spec, int64_t frames,
                                 float *out);

/** Decibel conversion: multiplier * log10(max(amin, x) / max(amin, ref)), floored at max - top_db. */
typedef struct {
    float multiplier; /**< 10 for power, 20 for amplitude */
    int ref_max;      /**< 1: ref is the maximum of x (librosa ref=np.max); 0: use ref */
    float ref;        /**< reference value when ref_max is 0 */
    float amin;       /**< floor, > 0 (librosa: 1e-10 for power, 1e-5 for amplitude) */
    float top_db;     /**< clip to max - top_db; <= 0 means no clipping */
} xai_db_config;

/**
 * Convert @p x (@p n non-negative values) to dB in place.
 * @return XAI_OK, XAI_EINVAL (amin <= 0, multiplier 0), XAI_ENUMERIC (NaN or negative input).
 */
XAI_API xai_status xai_db_convert(float *x, size_t n, const xai_db_config *c);

/** A whole spectrogram pipeline (resample, fix length, STFT, |.|^p, mel, crop, dB). */
typedef struct {
    int sample_rate;          /**< rate the pipeline runs at; input is resampled to it (0: keep) */
    int64_t fixed_length;     /**< > 0: zero-pad or truncate the signal to this many samples */
    int64_t embed_offset;     /**< start of the signal inside fixed_length; -1: centred */
    xai_stft_config stft;     /**< STFT parameters */
    float power;              /**< exponent of |STFT|: 1 magnitude, 2 power */
    int n_mels;               /**< 0: linear frequency rows; > 0: mel rows */
    double fmin, fmax;        /**< mel band edges in Hz (fmax <= 0: sample_rate/2) */
    xai_mel_scale mel_scale;  /**< mel scale */
    xai_mel_norm mel_norm;    /**< mel normalisation */
    int crop_rows;            /**< > 0: keep only the first crop_rows rows */
    int crop_first_frame;     /**< drop this many frames at the start */
    int crop_last_frames;     /**< drop this many frames at the end */
    int db;                   /**< apply xai_db_convert with db_cfg */
    xai_db_config db_cfg;     /**< dB parameters */
} xai_spec_config;

/**
 * Fill @p cfg with preset @p name:
 * - "librosa": 22050 Hz, n_fft 2048, hop 512, periodic Hann, center with zero padding,
 *   power 2, 128 Slaney mels with slaney norm, power_to_db(ref 1, amin 1e-10, top_db 80);
 * - "torchaudio": 16000 Hz, n_fft 400, hop 200, periodic Hann, center with reflect padding,
 *   power 2, 128 HTK mels without norm, AmplitudeToDB('power', top_db None);
 * - "audiomnist": 8000 Hz, signal centred in 8000 samples, scipy.signal.stft(nperseg 455,
 *   noverlap 420, 'hann') i.e. spectrum scaling and end padding, |Z|[0:227, 2:-1] (227x227),
 *   amplitude_to_db(ref=max, amin 1e-5, top_db 80).
 * @return XAI_OK or XAI_EINVAL (unknown name).
 */
XAI_API xai_status xai_spec_preset(const char *name, xai_spec_config *cfg);

/** A configured pipeline (opaque): STFT plan and mel filterbank, reusable across signals. */
typedef struct xai_spec xai_spec;

/** Make a pipeline for @p cfg (copied); free with xai_spec_free(). */
XAI_API xai_status xai_spec_new(const xai_spec_config *cfg, xai_spec **out);

/** Free @p s; NULL is fine. */
XAI_API void xai_spec_free(xai_spec *s);

/** @return the STFT plan of @p s (borrowed), e.g. for xai_stft_inverse(). */
XAI_API const xai_stft *xai_spec_stft(const xai_spec *s);

/** @return the mel filterbank of @p s ([n_mels][bins], borrowed) or NULL without mels. */
XAI_API const float *xai_spec_filterbank(const xai_spec *s);

/** A computed spectrogram. Free with xai_spectrogram_free(). */
typedef struct {
    int rows;          /**< frequency or mel rows */
    int64_t frames;    /**< time columns */
    int sample_rate;   /**< rate the STFT ran at */
    int hop;           /**< hop in samples at that rate */
    float *data;       /**< owned, [rows][frames] */
} xai_spectrogram;

/**
 * Run the pipeline on mono signal @p x (@p n samples at @p sample_rate, borrowed).
 * @p out->data is allocated here (xai_spectrogram_free()).
 * @return XAI_OK, XAI_EINVAL (signal too short, bad rate), XAI_EDEP, XAI_ENOMEM.
 */
XAI_API xai_status xai_spec_compute(const xai_spec *s, const float *x, int64_t n, int sample_rate,
                                    xai_spectrogram *out);

/** Free the data of @p sp and zero it; NULL is fine. */
XAI_API void xai_spectrogram_free(xai_spectrogram *sp);

#ifdef __cplusplus
}
#endif

#endif /* XAI_SPECTROGRAM_H */
