/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eeg-pre.h - xai-eeg's reading, preprocessing and epoching of continuous EEG, and the
 * preprocessing record that train stores in the model (metadata_props "xai_preprocessing")
 * and explain applies identically.
 */
#ifndef XAI_EEG_PRE_H
#define XAI_EEG_PRE_H

#include <stddef.h>
#include <stdint.h>

#include "xai/status.h"

/** One event of a recording: EDF+/BDF+ annotation, BDF Status value or BrainVision marker. */
typedef struct {
    double onset_s;
    char *text;       /**< owned; trigger values as decimal text ("1", "2", ...) */
} eeg_event;

/** A continuous recording: the channels that share the first EEG channel's rate. */
typedef struct {
    int nch;
    char **labels;    /**< owned */
    char **units;     /**< owned */
    double rate;      /**< Hz */
    int64_t n;        /**< samples per channel */
    float *data;      /**< owned [nch][n], physical units */
    size_t nev;
    eeg_event *ev;    /**< owned, in time order of the sources */
} eeg_raw;

/** Read an EDF/EDF+/BDF/BDF+ (.edf, .bdf, .rec) or BrainVision (.vhdr) file. Trigger
 *  channels (Status, Trigger, STI 014) are decoded into events and not kept as data. For a
 *  BIDS name "X_eeg.ext" with a sibling "X_events.tsv", that table's onset and trial_type
 *  (else value) columns give the events instead. */
xai_status eeg_raw_load(const char *path, eeg_raw *out);
void eeg_raw_free(eeg_raw *r);

/** Most classes a model may have (one topomap panel each). */
#define EEG_MAX_CLASSES 16

/** The preprocessing record. */
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
    int64_t ntimes;   /**< samples per epoch */
    int nclass;
    char **classes;   /**< owned */
    int nmap;
    char **ev_keys;   /**< owned event texts */
    int *ev_class;    /**< class index of each key */
    double norm_mean, norm_std; /**< global z-scoring; std 0 = not yet computed */
} eeg_prep;

void eeg_prep_free(eeg_prep *p);
/** Parse "T1=left,T2=right" into keys and classes (classes in order of first use). */
xai_status eeg_prep_set_events(eeg_prep *p, const char *spec);
/** Parse a comma-separated channel list. */
xai_status eeg_prep_set_channels(eeg_prep *p, const char *list);
/** Choose the channels (all of @p raw when none are set), rates and ntimes from a recording. */
xai_status eeg_prep_bind(eeg_prep *p, const eeg_raw *raw, const char *name);
/** JSON text of the record (malloc'ed). */
char *eeg_prep_to_json(const eeg_prep *p);
/** Parse a record; @p name is used in messages. */
xai_status eeg_prep_from_json(const char *json, const char *name, eeg_prep *out);

/** Epochs of one recording after the record's preprocessing. */
typedef struct {
    int64_t n;        /**< epochs */
    float *x;         /**< owned [n][nch][ntimes] */
    int *y;           /**< owned class of each epoch */
    double *onset_s;  /**< owned event onsets */
    int64_t *sample;  /**< owned first sample (at the record's rate) */
    int64_t dropped;  /**< events whose window left the recording */
} eeg_epochs;

/**
 * Apply the record to @p raw (channel selection, re-reference, filters, resampling,
 * epoching, baseline and, when norm_std > 0, normalisation). A missing channel or a
 * different sample rate is XAI_EINVAL naming @p name.
 */
xai_status eeg_epochs_make(const eeg_prep *p, const eeg_raw *raw, const char *name, eeg_epochs *out);
void eeg_epochs_free(eeg_epochs *e);

/** Compare channel labels ignoring case, blanks and dots. */
int eeg_label_equal(const char *a, const char *b);

/**
 * Zero-phase filtering of @p x (n samples, in place): Butterworth band-pass (order @p order
 * per edge, hp/lp 0 = off) and a notch at @p notch (Q 30), each a cascade of biquads run
 * forward then backward over an odd-reflection padded copy.
 */
xai_status eeg_filter(float *x, int64_t n, double fs, double hp, double lp, double notch, int order);

#endif /* XAI_EEG_PRE_H */
