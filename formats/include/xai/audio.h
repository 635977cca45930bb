/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * audio.h - sound files through libsndfile (WAV, FLAC, AIFF, OGG, ... anything it reads),
 * resampling through libsamplerate, and an atomic WAV writer.
 * Samples come out as float32 [C][T] (channel-major, deinterleaved), scaled as libsndfile
 * scales them: integer PCM is divided by 2^(bits-1), so values lie in [-1, 1).
 * Format and subformat names follow the libsndfile/soundfile spelling ("WAV", "PCM_16").
 */
#ifndef XAI_AUDIO_H
#define XAI_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest number of samples (frames x channels) a reader will decode: 2^28 (1 GiB of float). */
#define XAI_AUDIO_MAX_SAMPLES ((int64_t)1 << 28)

/** Header facts about a sound file. */
typedef struct {
    int sample_rate;      /**< frames per second, > 0 */
    int channels;         /**< >= 1 */
    int64_t frames;       /**< frames per channel as declared by the header (-1: not declared) */
    double duration_s;    /**< frames / sample_rate (-1 when frames is -1) */
    char format[16];      /**< container, e.g. "WAV", "FLAC", "AIFF" */
    char subformat[16];   /**< encoding, e.g. "PCM_16", "FLOAT", "ULAW" */
} xai_audio_info;

/** Decoded audio. Free with xai_audio_free(). */
typedef struct {
    xai_audio_info info; /**< info.frames is the number of frames actually in data */
    float *data;         /**< owned, [info.channels][info.frames] */
} xai_audio;

/** An open sound file (opaque). Close with xai_audio_close(). */
typedef struct xai_audio_file xai_audio_file;

/**
 * Open @p path for reading and read its header.
 * @param[out] out new handle, owned by the caller (xai_audio_close()).
 * @return XAI_OK, XAI_EIO (cannot open), XAI_EFORMAT (not a sound file libsndfile knows,
 *         bad header, zero sample rate or channel count). The detail names the file.
 */
XAI_API xai_status xai_audio_open(const char *path, xai_audio_file **out);

/**
 * As xai_audio_open() on an in-memory file (libsndfile virtual I/O). The buffer is
 * borrowed: it must stay valid and unchanged until xai_audio_close(). @p name is used in
 * messages (may be NULL).
 */
XAI_API xai_status xai_audio_open_mem(const void *buf, size_t len, const char *name,
                                      xai_audio_file **out);

/** @return the header facts of @p f (borrowed, valid until xai_audio_close()). */
XAI_API const xai_audio_info *xai_audio_file_info(const xai_audio_file *f);

/**
 * Decode every remaining frame of @p f into @p out ([C][T] float32).
 * @p out->data is allocated here and owned by the caller (xai_audio_free()).
 * @return XAI_OK, XAI_EFORMAT (fewer frames than the header declares, i.e. a truncated file,
 *         or a decoding error), XAI_EUNSUPPORTED (more than XAI_AUDIO_MAX_SAMPLES samples),
 *         XAI_ENOMEM.
 */
XAI_API xai_status xai_audio_read(xai_audio_file *f, xai_audio *out);

/** Close @p f; NULL is fine. */
XAI_API void xai_audio_close(xai_audio_file *f);

/** Open, read and close @p path in one call; see xai_audio_open() and xai_audio_read(). */
XAI_API xai_status xai_audio_load(const char *path, xai_audio *out);

/** As xai_audio_load() from memory; @p buf is only used during the call. */
XAI_API xai_status xai_audio_load_mem(const void *buf, size_t len, const char *name, xai_audio *out);

/** Free the samples of @p a and zero it; NULL and zeroed structs are fine. */
XAI_API void xai_audio_free(xai_audio *a);

/** Resampler quality, mapped onto libsamplerate's converters. */
typedef enum {
    XAI_RESAMPLE_BEST = 0,  /**< SRC_SINC_BEST_QUALITY */
    XAI_RESAMPLE_MEDIUM,    /**< SRC_SINC_MEDIUM_QUALITY */
    XAI_RESAMPLE_FASTEST,   /**< SRC_SINC_FASTEST */
    XAI_RESAMPLE_LINEAR     /**< SRC_LINEAR */
} xai_resample_quality;

/**
 * Resample @p in to @p rate frames per second into @p out (each channel separately).
 * The output has round(frames * rate / in_rate) frames. When the rates are equal the
 * samples are copied. @p out is allocated here (xai_audio_free()); @p in is unchanged and
 * may not alias @p out.
 * @return XAI_OK, XAI_EINVAL (bad rate or empty input), XAI_EDEP (libsamplerate failed),
 *         XAI_ENOMEM.
 */
XAI_API xai_status xai_audio_resample(const xai_audio *in, int rate, xai_resample_quality q,
                                      xai_audio *out);

/** Sample encoding of xai_audio_save(). */
typedef enum {
    XAI_AUDIO_WAV_PCM16 = 0, /**< 16-bit PCM, values clipped to [-1, 1) */
    XAI_AUDIO_WAV_FLOAT      /**< 32-bit IEEE float, values kept as they are */
} xai_audio_encoding;

/**
 * Write @p channels x @p frames samples of @p data ([C][T], borrowed) at @p sample_rate
 * to @p path as WAV, atomically: the file is written as "path.tmpXXXXXX" in the same
 * directory and renamed over @p path only when complete; on failure it is removed.
 * @return XAI_OK, XAI_EINVAL (bad sizes or rate), XAI_ENUMERIC (NaN or infinity in data),
 *         XAI_EIO (cannot create, write or rename), XAI_ENOMEM.
 */
XAI_API xai_status xai_audio_save(const char *path, const float *data, int channels, int64_t frames,
                                  int sample_rate, xai_audio_encoding enc);

#ifdef __cplusplus
}
#endif

#endif /* XAI_AUDIO_H */
