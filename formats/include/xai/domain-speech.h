/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * domain-speech.h - the speech domain: the spectrogram pipeline recorded in the model card's
 * pre-processing record (JSON, snake_case keys), clip loading (mono, resampled, embedded in a
 * fixed length), model features (level-normalised per clip), labels and speakers from file
 * names or CSV, maps back to seconds (the file's time axis) and Hz, the relevance figure and
 * the sonification (mask the linear STFT by positive relevance, ISTFT with the original phase).
 * Ownership: every pointer argument is borrowed; functions returning char * or filling
 * arrays allocate them with malloc and the caller frees. Errors are xai_status with the
 * detail in xai_last_error(); nothing here prints (per-file notes go to a callback).
 */
#ifndef XAI_DOMAIN_SPEECH_H
#define XAI_DOMAIN_SPEECH_H

#include <stdint.h>

#include "xai/api.h"
#include "xai/domain.h"
#include "xai/spectrogram.h"
#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A feature pipeline: spectrogram configuration plus the fixed feature shape. */
typedef struct {
    char preset[32];      /**< "compact", "audiomnist", "librosa" or "torchaudio" */
    xai_spec_config spec; /**< sample_rate > 0 and fixed_length > 0 always */
    int rows;             /**< feature rows (mel bands or frequency bins) */
    int64_t frames;       /**< feature columns (STFT frames after cropping) */
    int norm;             /**< XAI_SPEECH_NORM_* (0 = clip) */
} xai_speech_pre;

/** How the dB spectrogram becomes model features (see xai_speech_features()). */
enum { XAI_SPEECH_NORM_CLIP = 0, XAI_SPEECH_NORM_CMN = 1, XAI_SPEECH_NORM_CMVN = 2, XAI_SPEECH_NORM_PCEN = 3 };

/** Feature normalisation by name ("clip", "cmn", "cmvn", "pcen"); -1 if unknown. */
XAI_API int xai_speech_norm_from_name(const char *name);

/** The preset names accepted by xai_speech_pre_preset(), for messages. */
#define XAI_SPEECH_PRESETS "compact, audiomnist, librosa, torchaudio"

/**
 * Fill @p p from preset @p name; @p duration_s (> 0) fixes the clip length for the presets
 * that do not fix it themselves (audiomnist always uses 1 s = 8000 samples at 8 kHz).
 * "compact" is our small default: 8 kHz, n_fft 256, hop 128, Hann, centred, power 2,
 * 40 HTK mels, dB re max with top 80 dB. Computes rows and frames.
 */
XAI_API xai_status xai_speech_pre_preset(const char *name, double duration_s, xai_speech_pre *p);

/** Use @p n_mels mel bands (a mel preset only) and recompute rows and frames. */
XAI_API xai_status xai_speech_pre_set_mels(xai_speech_pre *p, int n_mels);

/** The pipeline as compact JSON text (malloc'ed; free()), the model card's "preprocessing". */
XAI_API char *xai_speech_pre_to_json(const xai_speech_pre *p);

/** Parse JSON written by xai_speech_pre_to_json() (also the older "xai_preprocessing" metadata
 * of the same content); every key must be present and valid. */
XAI_API xai_status xai_speech_pre_from_json(const char *text, xai_speech_pre *p);

/** A ready pipeline: the xai_spec (STFT plan, filterbank) for one xai_speech_pre. */
typedef struct {
    xai_speech_pre pre;
    xai_spec *spec;
} xai_speech_ctx;

XAI_API xai_status xai_speech_ctx_init(xai_speech_ctx *c, const xai_speech_pre *p);
XAI_API void xai_speech_ctx_free(xai_speech_ctx *c);

/**
 * Load @p path as mono (mean of the channels), resample to the pipeline rate and embed it
 * centred in fixed_length samples (longer clips keep their first fixed_length samples).
 * @param sig caller-allocated, fixed_length floats.
 * @param[out] start, len where the clip lies inside @p sig (may be NULL).
 * @param[out] orig_rate, orig_frames the file's rate and length (may be NULL).
 */
XAI_API xai_status xai_speech_load(const xai_speech_ctx *c, const char *path, float *sig, int64_t *start, int64_t *len,
                       int *orig_rate, int64_t *orig_frames);

/**
 * Model features of an embedded signal: the pipeline's dB spectrogram mapped to [0, 1] by
 * (dB - max dB) / 80 + 1, clipped (silence -> 0). Then each row (mel band) less its mean over
 * the clip's frames (norm XAI_SPEECH_NORM_CMN), or standardised over them (CMVN):
 * (v - mean) / max(sd, 1 dB / 80). XAI_SPEECH_NORM_PCEN: per-channel energy normalisation
 * of the mel power relative to the clip's maximum (floor -80 dB), see speech.c.
 * @p feat: rows * frames floats.
 */
XAI_API xai_status xai_speech_features(const xai_speech_ctx *c, const float *sig, float *feat);

/**
 * The range every feature of @p p lies in (the z-box bounds): [0, 1] for "clip", [-1, 1] for
 * "cmn"; for "cmvn" +-sqrt(frames - 1), the largest |z| a standardised row of that length has;
 * for "pcen" 0 to its value at E = M = the smoother's weight s times the clip's maximum.
 */
XAI_API void xai_speech_feature_range(const xai_speech_pre *p, float *low, float *high);

/**
 * Per-element z-box bounds that put the input layer's root point at each band's noise floor:
 * low = min(x, the @p q quantile of that row over the clip's frames), high = x, so that the
 * z-box rule gives each bin (x - low)+ w+ / z+, the excess over the band's floor (deep Taylor's
 * z+ with the root point at the floor rather than at silence, Montavon et al. 2017).
 * @p x, @p low, @p high: @p n clips of rows * frames features (low and high may not alias x).
 * @return XAI_OK; XAI_EINVAL (q outside [0, 1], n < 0); XAI_ENOMEM.
 */
XAI_API xai_status xai_speech_floor_bounds(const xai_speech_pre *p, double q, int64_t n, const float *x, float *low,
                                           float *high);

/**
 * Sonify: mask the complex STFT of @p sig by clip(R+/max R+, 0, 1), mapped back to linear
 * bins (mel rows through the normalised filterbank transpose:
 * M[k,t] = sum_m fb[m,k] R[m,t] / sum_m fb[m,k]), ISTFT with the original phase.
 * @param out caller-allocated, fixed_length floats.
 */
XAI_API xai_status xai_speech_sonify(const xai_speech_ctx *c, const float *sig, const float *rel, float *out);

/** Frequency in Hz of the centre of feature row @p r (mel centre or bin frequency). */
XAI_API double xai_speech_row_hz(const xai_speech_pre *p, double r);
/**
 * Time in s of the centre of feature column @p j on the FILE's time axis: @p clip_start is
 * where the file's first sample lies in the fixed-length window (xai_speech_load()'s start; the
 * padding before it gets negative times, and a cut clip starts at 0).
 */
XAI_API double xai_speech_col_s(const xai_speech_pre *p, double j, int64_t clip_start);

/**
 * A time-frequency box as a mask over one clip's features (@p mask: rows * frames floats,
 * 1 inside, 0 outside): the rows whose band reaches into [f0, f1] Hz (a mel row spans its
 * neighbours' centres, a linear bin half a bin either side) times the frames whose analysis
 * window meets [t0, t1] s on the file's time axis (@p clip_start as for xai_speech_col_s()).
 * @return XAI_OK, XAI_EINVAL (not t0 < t1 and f0 < f1, or a box that meets no bin).
 */
XAI_API xai_status xai_speech_box_mask(const xai_speech_pre *p, int64_t clip_start, double t0, double t1,
                                       double f0, double f1, float *mask);

/**
 * Draw the spectrogram (features, grey) with @p rel overlaid in a signed, centred bwr map
 * (opacity grows with |R|), axes in s (the file's time, see xai_speech_col_s()) and Hz, a title and a colour bar, as PNG, atomically.
 * @return XAI_OK, XAI_EIO (cairo cannot draw or the file cannot be written).
 */
XAI_API xai_status xai_speech_figure(const char *path, const xai_speech_pre *p, int64_t clip_start, const float *feat,
                  const float *rel, const char *title);

/* ---- inputs and labels ---- */

/** A note about one input (@p file may be NULL) that the caller may show; not an error. */
typedef void (*xai_speech_note_fn)(void *ud, const char *file, const char *msg);

/** A list of audio files. Zero-initialise; set @p note to hear about skipped inputs. */
typedef struct {
    xai_speech_note_fn note; /**< may be NULL */
    void *note_ud;
    int n, cap;
    char **path;   /**< owned */
    char **label;  /**< owned label text per file (NULL until labelled) */
    char **group;  /**< owned speaker per file (NULL until xai_speech_files_group()) */
    const char *speaker_column; /**< labels.csv column naming the speaker [NULL: "speaker"] */
} xai_speech_files;

/** Add a file, or a directory's audio files (recursively, sorted). @return XAI_OK, XAI_EIO, XAI_ENOMEM. */
XAI_API xai_status xai_speech_files_add(xai_speech_files *f, const char *path);
XAI_API void xai_speech_files_free(xai_speech_files *f);

/**
 * Label every file. @p how: "digit" (leading number of the file name, "3_theo_0.wav",
 * "7.wav"), "gender" (column "gender" of a labels.csv next to the inputs or in a parent
 * up to the input directory), or a CSV path (column @p column, default "label", files
 * relative to the CSV's directory, matched by real path). Unlabelled files are removed, each
 * with a note (the first 10, then one count). @return the number removed, or -1 on a fatal
 * error (the detail in xai_last_error()).
 */
XAI_API int xai_speech_files_label(xai_speech_files *f, const char *how, const char *column);

/**
 * The speaker of every (labelled) file, the group a speech study must hold out: the
 * 'speaker' column (or f->speaker_column) of a labels.csv next to the file (or up to three parents), else the
 * second field of an FSDD/AudioMNIST name ("3_theo_0.wav": theo), else the name of the
 * file's directory (real_digits/SPEAKER/0.wav). Every file gets a speaker.
 * @return XAI_OK or XAI_ENOMEM.
 */
XAI_API xai_status xai_speech_files_group(xai_speech_files *f);

/* ---- a study: {x, y, groups} for the train/explain driver (xai/driver.h) ---- */

/** What xai_speech_study_load() reads. Zero-initialise; every field is optional. */
typedef struct {
    const char *const *classes; /**< the classes (a model's), labels matched by name; NULL: the
                                     sorted distinct labels of the files */
    int nclasses;
    const char *group_kind;     /**< "speaker" [default]: the group a speech study holds out;
                                     "clip": every clip its own group (a clip-wise split, which
                                     puts a speaker on both sides) */
    int first, count;           /**< files [first, first + count) of the list; count 0: to the end */
    xai_progress_fn progress;   /**< task "features", files done of count; may be NULL */
    void *progress_ud;
} xai_speech_study_options;

/** Clips as the model sees them and where they came from. */
typedef struct {
    xai_dataset d;   /**< x: n samples of [1][rows][frames] (xai_speech_features()); y: the class
                          of the file's label, -1 without a label or for a label that is not a
                          class; groups: the speakers (xai_speech_files_group()) or the clips */
    int *file;       /**< [n] the clip's index in the file list */
    int64_t *start;  /**< [n] where the file's first sample lies in the fixed-length window */
    int64_t *len;    /**< [n] samples of the file inside the window */
    int nfailed;     /**< files that could not be read (each passed to the list's note callback) */
    int nunknown;    /**< clips whose label is not one of the given classes (each noted) */
} xai_speech_study;

/**
 * Load the files of @p f (labels from xai_speech_files_label(), if any) into @p s: features
 * through the pipeline of @p c, labels as classes, speakers as groups (the list's speakers
 * are filled in here). A file that cannot be read is noted and skipped, not an error.
 * @return XAI_OK, XAI_ENOMEM; @p s is empty after an error. Free with xai_speech_study_free().
 */
XAI_API xai_status xai_speech_study_load(const xai_speech_ctx *c, xai_speech_files *f,
                                         const xai_speech_study_options *o, xai_speech_study *s);
XAI_API void xai_speech_study_free(xai_speech_study *s);

#ifdef __cplusplus
}
#endif

#endif /* XAI_DOMAIN_SPEECH_H */
