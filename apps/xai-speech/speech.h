/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * speech.h - the testable part of xai-speech: the spectrogram pipeline recorded in a model
 * (metadata "xai_preprocessing", JSON), clip loading (mono, resampled, embedded in a fixed
 * length), model features, labels from file names or CSV, the relevance figure and the
 * sonification (mask the linear STFT by positive relevance, ISTFT with the original phase).
 * Ownership: every pointer argument is borrowed; functions returning char * or filling
 * arrays allocate them with malloc and the caller frees. Errors are xai_status with the
 * detail in xai_last_error().
 */
#ifndef XAI_SPEECH_H
#define XAI_SPEECH_H

#include <stdint.h>

#include "xai/spectrogram.h"
#include "xai/status.h"
#include "app.h"

/** A feature pipeline: spectrogram configuration plus the fixed feature shape. */
typedef struct {
    char preset[32];      /**< "compact", "audiomnist", "librosa" or "torchaudio" */
    xai_spec_config spec; /**< sample_rate > 0 and fixed_length > 0 always */
    int rows;             /**< feature rows (mel bands or frequency bins) */
    int64_t frames;       /**< feature columns (STFT frames after cropping) */
} speech_pre;

/** The preset names accepted by speech_pre_preset(), for messages. */
#define SPEECH_PRESETS "compact, audiomnist, librosa, torchaudio"

/**
 * Fill @p p from preset @p name; @p duration_s (> 0) fixes the clip length for the presets
 * that do not fix it themselves (audiomnist always uses 1 s = 8000 samples at 8 kHz).
 * "compact" is our small default: 8 kHz, n_fft 256, hop 128, Hann, centred, power 2,
 * 40 HTK mels, dB re max with top 80 dB. Computes rows and frames.
 */
xai_status speech_pre_preset(const char *name, double duration_s, speech_pre *p);

/** The pipeline as compact JSON text (malloc'ed), as stored in "xai_preprocessing". */
char *speech_pre_to_json(const speech_pre *p);

/** Parse JSON written by speech_pre_to_json(); every key must be present and valid. */
xai_status speech_pre_from_json(const char *text, speech_pre *p);

/** A ready pipeline: the xai_spec (STFT plan, filterbank) for one speech_pre. */
typedef struct {
    speech_pre pre;
    xai_spec *spec;
} speech_ctx;

xai_status speech_ctx_init(speech_ctx *c, const speech_pre *p);
void speech_ctx_free(speech_ctx *c);

/**
 * Load @p path as mono (mean of the channels), resample to the pipeline rate and embed it
 * centred in fixed_length samples (longer clips keep their first fixed_length samples).
 * @param sig caller-allocated, fixed_length floats.
 * @param[out] start, len where the clip lies inside @p sig (may be NULL).
 * @param[out] orig_rate, orig_frames the file's rate and length (may be NULL).
 */
xai_status speech_load(const speech_ctx *c, const char *path, float *sig, int64_t *start, int64_t *len,
                       int *orig_rate, int64_t *orig_frames);

/**
 * Model features of an embedded signal: the pipeline's dB spectrogram mapped to [0, 1] by
 * (dB - max dB) / 80 + 1, clipped (silence -> 0). @p feat: rows * frames floats.
 */
xai_status speech_features(const speech_ctx *c, const float *sig, float *feat);

/**
 * Sonify: mask the complex STFT of @p sig by clip(R+/max R+, 0, 1), mapped back to linear
 * bins (mel rows through the normalised filterbank transpose:
 * M[k,t] = sum_m fb[m,k] R[m,t] / sum_m fb[m,k]), ISTFT with the original phase.
 * @param out caller-allocated, fixed_length floats.
 */
xai_status speech_sonify(const speech_ctx *c, const float *sig, const float *rel, float *out);

/** Frequency in Hz of the centre of feature row @p r (mel centre or bin frequency). */
double speech_row_hz(const speech_pre *p, double r);
/**
 * Time in s of the centre of feature column @p j on the FILE's time axis: @p clip_start is
 * where the file's first sample lies in the fixed-length window (speech_load()'s start; the
 * padding before it gets negative times, and a cut clip starts at 0).
 */
double speech_col_s(const speech_pre *p, double j, int64_t clip_start);

/**
 * Draw the spectrogram (features, grey) with @p rel overlaid in a signed, centred bwr map
 * (opacity grows with |R|), axes in s (the file's time, see speech_col_s()) and Hz, a title and a colour bar, as PNG, atomically.
 * @return 0 or -1 (message printed through @p app).
 */
int speech_figure(const xai_app *app, const char *path, const speech_pre *p, int64_t clip_start, const float *feat,
                  const float *rel, const char *title);

/* ---- inputs and labels ---- */

/** A list of audio files. */
typedef struct {
    int n, cap;
    char **path;   /**< owned */
    char **label;  /**< owned label text per file (NULL until labelled) */
    char **group;  /**< owned speaker per file (NULL until speech_files_group()) */
} speech_files;

/** Add a file, or a directory's audio files (recursively, sorted). @return 0 or -1 (printed). */
int speech_files_add(const xai_app *app, speech_files *f, const char *path);
void speech_files_free(speech_files *f);

/**
 * Label every file. @p how: "digit" (leading number of the file name, "3_theo_0.wav",
 * "7.wav"), "gender" (column "gender" of a labels.csv next to the inputs or in a parent
 * up to the input directory), or a CSV path (column @p column, default "label", files
 * relative to the CSV's directory, matched by real path). Unlabelled files are reported
 * and removed. @return the number removed, or -1 on a fatal error (printed).
 */
int speech_files_label(const xai_app *app, speech_files *f, const char *how, const char *column);

/**
 * The speaker of every (labelled) file, the group a speech study must hold out: the
 * 'speaker' column of a labels.csv next to the file (or up to three parents), else the
 * second field of an FSDD/AudioMNIST name ("3_theo_0.wav": theo), else the name of the
 * file's directory (real_digits/SPEAKER/0.wav). Every file gets a speaker.
 * @return 0, or -1 when out of memory (printed).
 */
int speech_files_group(const xai_app *app, speech_files *f);

#endif /* XAI_SPEECH_H */
