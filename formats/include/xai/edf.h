/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * edf.h - EDF, EDF+ (continuous and discontinuous), BDF and BDF+ recordings through EDFlib.
 * Signals come out as float32 in physical units, one array per channel (channels may have
 * different sample rates) or as one [C][T] matrix when the chosen channels share one rate.
 * Annotations (EDF+/BDF+ TALs) are read at open; trigger channels (BDF `Status`) are
 * decoded into events from the low 16 bits of their digital values.
 * Specs: edfplus.info/specs/edf.html, edfplus.html; BioSemi BDF and teuniz.net BDF+.
 */
#ifndef XAI_EDF_H
#define XAI_EDF_H

#include <stddef.h>
#include <stdint.h>

#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** File flavour, as found in the header. */
typedef enum {
    XAI_EDF_FILE_EDF = 0,     /**< plain EDF (16-bit) */
    XAI_EDF_FILE_EDFPLUS = 1, /**< EDF+ (16-bit, annotations) */
    XAI_EDF_FILE_BDF = 2,     /**< plain BDF (24-bit BioSemi) */
    XAI_EDF_FILE_BDFPLUS = 3  /**< BDF+ (24-bit, annotations) */
} xai_edf_filetype;

/** One (non-annotation) signal of a recording. */
typedef struct {
    char label[17];           /**< label, trailing blanks removed */
    char unit[9];             /**< physical dimension ("uV", ...), trailing blanks removed */
    char transducer[81];      /**< transducer type */
    char prefilter[81];       /**< prefiltering text */
    double sample_rate;       /**< Hz = samples_per_record / record duration */
    int64_t samples;          /**< samples of this channel in the whole file */
    int samples_per_record;   /**< samples of this channel in one data record */
    double phys_min, phys_max; /**< physical range (phys_min may exceed phys_max: inverted) */
    int dig_min, dig_max;     /**< digital range */
} xai_edf_channel;

/** Whole-file facts. */
typedef struct {
    xai_edf_filetype filetype; /**< EDF, EDF+, BDF or BDF+ */
    int discontinuous;        /**< 1 for EDF+D/BDF+D. EDFlib 1.23 reads these only when the
                                   records are in fact contiguous; real gaps are refused with
                                   XAI_EUNSUPPORTED. */
    int n_channels;           /**< signals, annotation signals excluded */
    int64_t n_records;        /**< data records */
    double record_duration_s; /**< duration of one record in seconds */
    double duration_s;        /**< n_records * record_duration_s */
    int start_year, start_month, start_day;     /**< start date */
    int start_hour, start_minute, start_second; /**< start time */
    double start_subsecond;   /**< EDF+/BDF+ sub-second start offset, seconds */
    char patient[81];         /**< patient field (plain EDF/BDF; EDF+ gives the code) */
    char recording[81];       /**< recording field (plain EDF/BDF; EDF+ gives equipment) */
    size_t n_annotations;     /**< annotations read at open */
} xai_edf_info;

/** One annotation. For reading, @c text is owned by the handle. */
typedef struct {
    double onset_s;           /**< onset in seconds from the file start */
    double duration_s;        /**< duration in seconds, or -1 when absent */
    const char *text;         /**< UTF-8 description */
} xai_edf_annotation;

/** One trigger event decoded from a trigger channel. */
typedef struct {
    int64_t sample;           /**< sample index in the trigger channel */
    double onset_s;           /**< sample / channel rate */
    unsigned value;           /**< new low-16-bit value (never 0) */
} xai_edf_event;

/** An open recording (opaque; owns the EDFlib handle and the annotations). */
typedef struct xai_edf xai_edf;

/**
 * Open @p path (EDF, EDF+, BDF or BDF+) and read its header and all annotations.
 * Samples are read on demand; the handle keeps an EDFlib handle open (EDFlib allows 64 open
 * files per process). Calls on handles are serialised by one internal lock.
 * @param[out] out the new handle; close it with xai_edf_close().
 * @return XAI_OK, XAI_EIO (cannot open), XAI_EFORMAT (malformed header or size),
 *         XAI_EUNSUPPORTED (EDFlib refuses, e.g. too many signals), XAI_ENOMEM.
 *         The detail message names the file.
 */
XAI_API xai_status xai_edf_open(const char *path, xai_edf **out);

/**
 * As xai_edf_open() from a memory buffer. EDFlib needs a path, so the bytes are written to
 * a private temporary file (under $TMPDIR or /tmp) that is unlinked at once; the buffer
 * is not kept. @p name (may be NULL) is used in messages.
 */
XAI_API xai_status xai_edf_open_mem(const void *buf, size_t len, const char *name,
                                    xai_edf **out);

/** Close @p h and free everything it owns; NULL is fine. */
XAI_API void xai_edf_close(xai_edf *h);

/** @return the file facts (borrowed, valid until xai_edf_close()). */
XAI_API const xai_edf_info *xai_edf_get_info(const xai_edf *h);

/** @return channel @p ch (borrowed), or NULL when @p ch is out of range. */
XAI_API const xai_edf_channel *xai_edf_get_channel(const xai_edf *h, int ch);

/**
 * @return the index of the first channel whose label equals @p label (ASCII case and
 * surrounding blanks ignored), or -1.
 */
XAI_API int xai_edf_find_channel(const xai_edf *h, const char *label);

/**
 * @return the annotations (borrowed array of xai_edf_info.n_annotations entries, texts
 * owned by the handle), in file order.
 */
XAI_API const xai_edf_annotation *xai_edf_get_annotations(const xai_edf *h, size_t *n);

/**
 * Read @p count samples of channel @p ch, from sample @p start, in physical units into the
 * caller's buffer @p dst (at least @p count floats).
 * @return XAI_OK, XAI_EINVAL (bad channel or range), XAI_EIO/XAI_EFORMAT (short file).
 */
XAI_API xai_status xai_edf_read_channel(xai_edf *h, int ch, int64_t start, int64_t count,
                                        float *dst);

/**
 * Read every channel whole, each with its own length (xai_edf_channel.samples), so
 * mixed sample rates are fine.
 * @param[out] out a malloc'ed array of n_channels pointers; the sample arrays live in the
 *             same block, so one free(*out) releases everything.
 */
XAI_API xai_status xai_edf_read_all(xai_edf *h, float ***out);

/**
 * Read channels into one [C][T] float32 matrix in physical units.
 * @param channels the channel indices to read, in this order, or NULL for all channels.
 * @param n_sel    number of entries in @p channels (ignored when it is NULL).
 * @param[out] out malloc'ed [C][T] data (caller frees with free()).
 * @param[out] n_times T (may be NULL).
 * @param[out] rate  the common sample rate in Hz (may be NULL).
 * @return XAI_OK; XAI_EUNSUPPORTED when the selected channels have different sample rates
 *         (the message names two channels and their rates: read them per channel with
 *         xai_edf_read_channel() or xai_edf_read_all(), or pass a selection that agrees);
 *         XAI_EINVAL for a bad selection.
 */
XAI_API xai_status xai_edf_read_matrix(xai_edf *h, const int *channels, int n_sel,
                                       float **out, int64_t *n_times, double *rate);

/**
 * Decode the trigger channel @p ch into events: the low 16 bits of each digital sample
 * are taken, and an event is reported at every sample where that value changes to a
 * non-zero value (the value before the first sample counts as 0). Pass @p ch = -1 to use
 * the channel labelled `Status` (BDF), or else `Trigger` or `STI 014`.
 * @param[out] out malloc'ed events (caller frees with free(); NULL when there are none).
 * @param[out] n   number of events.
 * @return XAI_OK, XAI_EINVAL (no such channel / no trigger channel found), XAI_EIO.
 */
XAI_API xai_status xai_edf_read_events(xai_edf *h, int ch, xai_edf_event **out, size_t *n);

/** What xai_edf_write() writes: derived signals sharing one sample rate. */
typedef struct {
    int n_channels;                   /**< C, 1..512 */
    int64_t n_samples;                /**< T per channel, >= 1 */
    double sample_rate;               /**< Hz, > 0 */
    const char *const *labels;        /**< C labels (max 16 chars) */
    const char *const *units;         /**< C units (max 8 chars), or NULL for "" */
    const float *data;                /**< [C][T] physical values (finite) */
    const xai_edf_annotation *annotations; /**< may be NULL */
    size_t n_annotations;
    int bdf;                          /**< 0: EDF+ (16-bit), 1: BDF+ (24-bit) */
    const char *recording;            /**< equipment/recording text, or NULL */
} xai_edf_write_spec;

/**
 * Write an EDF+C (or BDF+C) file atomically (temporary file in the same directory, then
 * rename). Each channel's physical range is its data range, widened to what fits the
 * 8-character header fields; values are quantised to 16 (24) bits in that range, so a
 * read gives back the data within (phys_max - phys_min) / 65535 (/ 16777215).
 * The record length is chosen so that records hold whole samples and, when possible,
 * divide T exactly; otherwise the last record is padded with zeros (clamped into range)
 * and reads return up to one record more than T. Annotation texts are limited by EDFlib
 * to 40 bytes; longer texts are refused.
 * @return XAI_OK, XAI_EINVAL (bad spec), XAI_EUNSUPPORTED (rate not representable),
 *         XAI_ENUMERIC (non-finite data), XAI_EIO (write failed).
 */
XAI_API xai_status xai_edf_write(const char *path, const xai_edf_write_spec *spec);

#ifdef __cplusplus
}
#endif

#endif /* XAI_EDF_H */
