/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * domain-eeg.h - the EEG domain of the formats library (formats/domain/eeg*.c): reading
 * continuous EEG (EDF/BDF/BrainVision, events from annotations, the Status channel or a BIDS
 * events.tsv), pre-processing and epoching, the pre-processing record that train stores in
 * the model card and explain applies identically, electrode positions, and the figures
 * that map relevance back to channels x time and to the scalp. Nothing here prints:
 * functions return an xai_status with the detail in xai_last_error().
 */
#ifndef XAI_DOMAIN_EEG_H
#define XAI_DOMAIN_EEG_H

#include <stddef.h>
#include <stdint.h>

#include "xai/api.h"
#include "xai/card.h"
#include "xai/domain.h"
#include "xai/model.h"
#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One event of a recording: EDF+/BDF+ annotation, BDF Status value or BrainVision marker. */
typedef struct {
    double onset_s;
    double duration_s; /**< annotation duration, events.tsv duration or marker length; 0 = none */
    char *text;       /**< owned; trigger values as decimal text ("1", "2", ...) */
} xai_eeg_event;

/** A continuous recording: the channels that share the first EEG channel's rate. */
typedef struct {
    int nch;
    char **labels;    /**< owned */
    char **units;     /**< owned */
    double rate;      /**< Hz */
    int64_t n;        /**< samples per channel */
    float *data;      /**< owned [nch][n], physical units */
    size_t nev;
    xai_eeg_event *ev;    /**< owned, in time order of the sources */
} xai_eeg_raw;

/** Read an EDF/EDF+/BDF/BDF+ (.edf, .bdf, .rec) or BrainVision (.vhdr) file. Trigger
 *  channels (Status, Trigger, STI 014) are decoded into events and not kept as data. For a
 *  BIDS name "X_eeg.ext" with a sibling "X_events.tsv", that table's onset and trial_type
 *  (else value) columns give the events instead. */
XAI_API xai_status xai_eeg_raw_load(const char *path, xai_eeg_raw *out);
XAI_API void xai_eeg_raw_free(xai_eeg_raw *r);

/** Most classes a model may have (one topomap panel each). */
#define XAI_EEG_MAX_CLASSES 16

/**
 * Scaling of each channel of a whole recording after filtering, before epoching. The
 * recording-wise z-score removes the per-subject and per-session gains and offsets that a
 * model would otherwise learn as subject identity; braindecode's exponential moving
 * standardisation serves the same end causally (Schirrmeister et al. 2017). A channel whose
 * scale is below 1/20 of the recording's median channel is taken as disconnected (flat) and set
 * to 0 instead of scaling its amplifier noise up to unit variance. The robust form
 * centres on the median and scales by the interquartile range (IQR / 1.349, the standard
 * deviation of a normal), so blinks, muscle bursts and spikes do not set a channel's scale, then
 * clips at +-XAI_EEG_ROBUST_CLIP, so that those artefacts cannot dominate a model's input (and
 * its relevance, x times w); flat channels are 0 there too.
 */
typedef enum {
    XAI_EEG_STANDARDISE_NONE = 0,
    XAI_EEG_STANDARDISE_RECORDING = 1,
    XAI_EEG_STANDARDISE_ROBUST = 2
} xai_eeg_standardise;
#define XAI_EEG_ROBUST_CLIP 6.0

/**
 * The pre-processing record, stored as the card's "preprocessing" object with snake_case
 * keys (version 2: channels, units, input_sampling_frequency, sampling_frequency, reference,
 * filter {type, order, high_pass, low_pass, notch}, resampler, standardisation, t_min, t_max,
 * window, n_times, baseline, classes, events, normalisation {type, mean, std}). Records of
 * version 1 (PascalCase keys, no standardisation) are read too.
 */
typedef struct {
    int nch;
    char **channels;  /**< selected channels, in model order (owned) */
    char **units;     /**< their units at train time (owned) */
    double rate_in;   /**< sample rate the recording must have */
    double rate;      /**< after resampling (== rate_in when not resampling) */
    int average_ref;  /**< re-reference to the average of the selected channels */
    double hp, lp;    /**< band-pass corners in Hz, 0 = off */
    double notch;     /**< notch frequency in Hz, 0 = off */
    int order;        /**< Butterworth order of each band edge (even) */
    double tmin, tmax;/**< epoch window in s relative to the event */
    int baseline_mean;/**< subtract each channel's mean (over t < 0, or the whole epoch) */
    int standardise;  /**< xai_eeg_standardise: per-recording scaling before epoching */
    int window_from_events; /**< the window was taken from the events' duration (recorded) */
    int64_t ntimes;   /**< samples per epoch */
    int nclass;
    char **classes;   /**< owned */
    int nmap;
    char **ev_keys;   /**< owned event texts */
    int *ev_class;    /**< class index of each key */
    double norm_mean, norm_std; /**< global z-scoring; std 0 = not yet computed */
} xai_eeg_prep;

XAI_API void xai_eeg_prep_free(xai_eeg_prep *p);
/** Parse "T1=left,T2=right" into keys and classes (classes in order of first use). */
XAI_API xai_status xai_eeg_prep_set_events(xai_eeg_prep *p, const char *spec);
/** Parse a comma-separated channel list. */
XAI_API xai_status xai_eeg_prep_set_channels(xai_eeg_prep *p, const char *list);
/** Choose the channels (all of @p raw when none are set), rates and ntimes from a recording. */
XAI_API xai_status xai_eeg_prep_bind(xai_eeg_prep *p, const xai_eeg_raw *raw, const char *name);
/**
 * No window end given (tmax <= tmin): take it from the mapped events of @p raw, [tmin, d)
 * with d the most common duration (EDF+ annotation duration, events.tsv duration, BrainVision
 * marker length), and mark the record. XAI_EINVAL when no mapped event has a duration.
 */
XAI_API xai_status xai_eeg_prep_window_from_events(xai_eeg_prep *p, const xai_eeg_raw *raw, const char *name);
/** JSON text of the record (malloc'ed). */
XAI_API char *xai_eeg_prep_to_json(const xai_eeg_prep *p);
/** Parse a record; @p name is used in messages. */
XAI_API xai_status xai_eeg_prep_from_json(const char *json, const char *name, xai_eeg_prep *out);

/** Epochs of one recording after the record's preprocessing. */
typedef struct {
    int64_t n;        /**< epochs */
    float *x;         /**< owned [n][nch][ntimes] */
    int *y;           /**< owned class of each epoch */
    double *onset_s;  /**< owned event onsets */
    int64_t *sample;  /**< owned first sample (at the record's rate) */
    int64_t dropped;  /**< events whose window left the recording */
} xai_eeg_epochs;

/**
 * Apply the record to @p raw (channel selection, re-reference, filters, resampling,
 * epoching, baseline and, when norm_std > 0, normalisation). A missing channel or a
 * different sample rate is XAI_EINVAL naming @p name.
 */
XAI_API xai_status xai_eeg_epochs_make(const xai_eeg_prep *p, const xai_eeg_raw *raw, const char *name, xai_eeg_epochs *out);
XAI_API void xai_eeg_epochs_free(xai_eeg_epochs *e);

/** Epochs kept and dropped (window outside the recording) in one file. */
typedef struct {
    int64_t kept, dropped;
} xai_eeg_file_count;

/**
 * Load a study: the epochs of @p nfiles recordings after the record @p p, stacked into
 * @p out (x [n][1][nch][ntimes], y, groups named by @p groups[f], the group of file f, e.g. its
 * subject; out->meta = the record as JSON). With @p bind the record is completed from the
 * first file (channels, rates, and the window from the events' duration when none is set),
 * as at training time; without it the record is applied as stored. A file without any
 * mapped event adds nothing (its count says so). @p counts (may be NULL) gets one entry per
 * file. @return XAI_OK, or the first file's error (the message names it).
 */
XAI_API xai_status xai_eeg_load_dataset(xai_eeg_prep *p, int nfiles, const char *const *paths,
                                        const char *const *groups, const char *group_kind, int bind,
                                        xai_progress_fn progress, void *ud, xai_dataset *out,
                                        xai_eeg_file_count *counts);

/** Compare channel labels ignoring case, blanks and dots. */
XAI_API int xai_eeg_label_equal(const char *a, const char *b);

/**
 * Zero-phase filtering of @p x (n samples, in place): Butterworth band-pass (order @p order
 * per edge, hp/lp 0 = off) and a notch at @p notch (Q 30), each a cascade of biquads run
 * forward then backward over an odd-reflection padded copy.
 */
XAI_API xai_status xai_eeg_filter(float *x, int64_t n, double fs, double hp, double lp, double notch, int order);

/* ------------------------------------------------------------------ decoding study */

/**
 * The shallow ConvNet of Schirrmeister et al. 2017 at our scale: a temporal filter of about
 * 0.1 s (their 25 samples at 250 Hz), a spatial filter over all channels, pooling over
 * 0.25 s, dropout 0.5. No padding: a padded filter sees zeros that are not in the data and
 * its relevance piles up at the epoch edges. The read-out measures each pooled band-power
 * feature against its mean over the training epochs (`reference`, set after training by
 * xai_model_set_reference(); the logits are unchanged), so that LRP credits a fall below the
 * average where it happens, as an ERD is read against a reference period (Pfurtscheller and
 * Lopes da Silva 1999), instead of the unchanged rest of the epoch. Placeholders: see
 * xai_eeg_arch_expand().
 */
#define XAI_EEG_DEFAULT_ARCH \
    "conv2d(16,k=1x{KT}) conv2d(16,k={C}x1) bn relu avgpool(1x{P}) flatten reference dropout(0.5) dense({K})"

/**
 * Expand the placeholders of an architecture template on the input [1, C, T]: {C} channels,
 * {K} classes, {KT} an odd temporal kernel of about 0.1 s at @p rate (at most T), {PT} its
 * half, {P} a pool of 0.25 s (1..T). @return malloc'ed text, or NULL (out of memory).
 */
XAI_API char *xai_eeg_arch_expand(const char *spec, int C, int K, int64_t T, double rate);

/**
 * Augmentation for the driver (xai_augment_fn): each epoch of x [n][1][C][T] shifted in time
 * by up to T/16 samples with mirrored edges and scaled by one gain in [0.8, 1.25], drawn
 * from @p seed. @p ud: NULL, or a const double, the probability that a channel of an epoch
 * is set to 0 (channel dropout).
 */
XAI_API xai_status xai_eeg_augment(void *ud, float *x, int64_t n, int ndim, const int64_t *shape, uint64_t seed);

/**
 * Fit the global z-score (mean and standard deviation over every value of @p d) into the
 * record and apply it to @p d in place. XAI_EINVAL when @p d is empty or constant.
 */
XAI_API xai_status xai_eeg_fit_normalisation(xai_eeg_prep *p, xai_dataset *d);

/**
 * The within-recording split: every epoch its own group, named "<group>#<k>" with k its
 * index within its old group, and the group kind "trial" (flagged in the card).
 */
XAI_API xai_status xai_eeg_split_epochs(xai_dataset *d);

/**
 * One recording's epochs as a dataset of one group @p group, or with @p per_epoch one group
 * per epoch named as xai_eeg_split_epochs() names them, so that each is explained by a fold
 * model that never saw it. On failure @p d may be partly filled: free it.
 */
XAI_API xai_status xai_eeg_epochs_dataset(const xai_eeg_prep *p, const xai_eeg_epochs *ep, const char *group,
                                          int per_epoch, xai_dataset *d);

/**
 * Replace the record's event mapping by @p spec ("EVENT=CLASS,..."), whose classes must be
 * the record's (explaining data whose events are named otherwise than at training time).
 * @return XAI_OK, XAI_EINVAL (bad syntax), XAI_EUNSUPPORTED (a class the model lacks; the
 *         message names it), XAI_ENOMEM. The record is unchanged on failure.
 */
XAI_API xai_status xai_eeg_prep_remap_events(xai_eeg_prep *p, const char *spec);

/** XAI_ESHAPE (message with the record's sizes) unless @p m takes [N, 1, nch, ntimes] and
 *  gives nclass outputs. */
XAI_API xai_status xai_eeg_prep_check_model(const xai_eeg_prep *p, const xai_model *m);

/** A model card with the EEG members: domain, task, input axes, units, rate, channel
 *  names and the pre-processing record. @p out is NULL on failure. */
XAI_API xai_status xai_eeg_card_new(const xai_eeg_prep *p, xai_card **out);

/**
 * A ground truth in native terms as a mask over the model's channels x times: the TSV has a
 * "channels" column (comma-separated labels, or "channel") and "tmin_s", "tmax_s" (seconds
 * after the event, the epochs' time axis); each row is a region, and a sample of a listed
 * channel is in it when tmin_s <= its time < tmax_s. With a "kind" column only rows of kind
 * @p kind count (NULL = "planted", the generator's truth.tsv). @param mask [nch][ntimes],
 * set to 1 inside any region and 0 elsewhere. @return XAI_OK; errors of xai_tsv_load();
 * XAI_EINVAL (a missing column, a channel the model lacks or a region outside the epoch,
 * both named with the row; no region).
 */
XAI_API xai_status xai_eeg_truth_mask(const xai_eeg_prep *p, const char *tsv_path, const char *kind, float *mask,
                                      int *nregions);

/* ------------------------------------------------------------------ group level */

/** Sums of the participants' channel relevance per channel and class; opaque. */
typedef struct xai_eeg_group xai_eeg_group;

XAI_API xai_status xai_eeg_group_new(xai_eeg_group **out);
XAI_API void xai_eeg_group_free(xai_eeg_group *g);
/**
 * The participant channels tables "*_desc-<desc>_channels.tsv" under @p outdir/sub-*
 * (nested folders followed, links too), in byte order. @param[out] paths malloc'ed array of
 * malloc'ed paths (free each and the array). Finding none is XAI_OK with *n = 0.
 */
XAI_API xai_status xai_eeg_group_find(const char *outdir, const char *desc, char ***paths, size_t *n);
/** 0 when the table's JSON sidecar says OutOfSample false, else 1 (also without a sidecar:
 *  outputs of older versions). */
XAI_API int xai_eeg_group_out_of_sample(const char *channels_tsv);
/**
 * Add one participant table (listed among the sources): its relevance_<class> columns
 * (relevance_abs excepted; at most XAI_EEG_MAX_CLASSES classes), channels matched by
 * xai_eeg_label_equal(). A table whose maps are in sample is counted but not added
 * (*left_out = 1). @return XAI_OK, or the table's read error.
 */
XAI_API xai_status xai_eeg_group_add(xai_eeg_group *g, const char *channels_tsv, int *left_out);
XAI_API int xai_eeg_group_nchannels(const xai_eeg_group *g);
XAI_API int xai_eeg_group_nclasses(const xai_eeg_group *g);
/**
 * Write the group table (name, n_recordings, relevance_<class>: the mean over the
 * recordings that have the channel; n/a where none has) and, unless @p png_path is NULL,
 * one topomap panel per class. XAI_EINVAL when nothing was added.
 */
XAI_API xai_status xai_eeg_group_write(const xai_eeg_group *g, const char *tsv_path, const char *png_path);
/** The group table's sidecar members as JSON text (malloc'ed): Sources, Description,
 *  InSampleRecordingsLeftOut and the BIDS data dictionary of the columns. */
XAI_API xai_status xai_eeg_group_sidecar(const xai_eeg_group *g, char **json);

/* ------------------------------------------------------------------ maps back out */

/** One recording's explanation, borrowed: what xai_eeg_write_maps() writes. */
typedef struct {
    const xai_eeg_prep *p;  /**< the record the epochs were made with */
    int64_t n;              /**< epochs */
    const float *rel;       /**< [n][nch][ntimes] relevance */
    const float *logits;    /**< [n][nclass] */
    const int *y, *target, *pred; /**< [n] true, explained (-1: none) and predicted class */
    const double *onset_s;  /**< [n] event onsets (s) */
    const int64_t *sample;  /**< [n] first sample of each window at the record's rate */
    const char *method;     /**< for titles ("lrp", ...); may be NULL */
} xai_eeg_maps;

/** Output paths; a NULL heat[c] or topo is not drawn. */
typedef struct {
    const char *npy, *channels, *events, *topo;
    const char *const *heat; /**< one per class, or NULL for no heatmaps */
} xai_eeg_paths;

/**
 * Write the maps of one recording in the native layout: the relevance .npy (epochs,
 * channels, times), a BIDS channels.tsv with relevance, relevance_abs, positive_share and
 * relevance_<class> (mean summed relevance over the epochs explained for the class), an
 * events.tsv with onset, duration, sample, true/explained/predicted class, correctness,
 * relevance sum and logits, the per-class heatmaps and the topomap. Each file has a JSON
 * sidecar holding the members of @p common_json (provenance, method ...; may be NULL) plus
 * its own; the topomap's lists the channels without a position. Files are written
 * atomically. @return XAI_OK or the first error (the message names the file).
 */
XAI_API xai_status xai_eeg_write_maps(const xai_eeg_maps *m, const xai_eeg_paths *o, const char *common_json);

/* ------------------------------------------------------------------ montage */

/*
 * eeg-montage.h - standard 10-20 / 10-10 electrode positions on an ideal spherical head and
 * their azimuthal-equidistant 2-D projection (used by xai-eeg's topomaps and by the EEG
 * dataset generator's forward model).
 */

/**
 * Look up an electrode label. Matching ignores ASCII case, blanks and dots (EEGMMIDB writes
 * "C3.." and "Fc5."), and maps the old 10-20 names T3/T4/T5/T6 to T7/T8/P7/P8.
 * @param[out] xyz unit vector (x to the right ear, y to the nose, z to the vertex); may be NULL
 * @param[out] xy  azimuthal-equidistant projection: the head circle (Fpz, T7, Oz, T8) has
 *                 radius 1, Cz is (0,0), the nose points to +y; may be NULL
 * @return 0 when found, -1 otherwise.
 */
XAI_API int xai_eeg_montage_find(const char *label, double xyz[3], double xy[2]);

/** Number of electrodes in the table and the canonical name of entry @p i (static). */
XAI_API int xai_eeg_montage_count(void);
XAI_API const char *xai_eeg_montage_name(int i);

/* ------------------------------------------------------------------ figures */

/*
 * eeg-topomap.h - scalp topographies (one panel per map) drawn with cairo.
 */


/**
 * Draw @p npanel topomaps side by side into the PNG @p path (written atomically).
 * @param labels  @p nch channel labels; channels without a 10-20/10-10 position are left out
 * @param values  [npanel][nch] values, borrowed; the colour range is symmetric about 0,
 *                [-m, m] with m the largest |value| over all panels (bwr colour map)
 * @param titles  @p npanel panel titles (may be NULL)
 * @param title   figure title (may be NULL); @p cbar_label colour-bar label (may be NULL)
 * @return XAI_OK, XAI_EINVAL (fewer than 3 channels with positions), XAI_EIO, XAI_EDEP.
 */
XAI_API xai_status xai_eeg_topomap_png(const char *path, int nch, const char *const *labels, int npanel, const float *values,
                           const char *const *titles, const char *title, const char *cbar_label);

/**
 * Replace the numeric row ticks of a heatmap PNG written by xai_figure_heatmap() with
 * channel names: the left margin (left of @p rect, the data area from xai_heatmap_layout())
 * is repainted white and each row gets its label; @p ylabel is drawn vertically. The file
 * is rewritten atomically.
 */
XAI_API xai_status xai_eeg_heatmap_label_rows(const char *path, const double rect[4], int nrows, const char *const *labels,
                                  const char *ylabel);

#ifdef __cplusplus
}
#endif

#endif /* XAI_DOMAIN_EEG_H */
