/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * brainvision.h - BrainVision recordings: header (.vhdr), binary data (.eeg) and markers
 * (.vmrk), read by our own parser. Binary data only (INT_16, UINT_16, INT_32,
 * IEEE_FLOAT_32; little- or big-endian), multiplexed or vectorized, scaled by each
 * channel's resolution into its unit (default µV) and returned as float32 [C][T].
 * Spec: Brain Products "BrainVision Core Data Format 1.0" and the older
 * "Brain Vision Data Exchange" 1.0 header files.
 */
#ifndef XAI_BRAINVISION_H
#define XAI_BRAINVISION_H

#include <stddef.h>
#include <stdint.h>

#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Binary sample type of the .eeg file. */
typedef enum {
    XAI_BV_INT16 = 0,   /**< INT_16 */
    XAI_BV_UINT16 = 1,  /**< UINT_16 */
    XAI_BV_INT32 = 2,   /**< INT_32 */
    XAI_BV_FLOAT32 = 3  /**< IEEE_FLOAT_32 */
} xai_bv_format;

/** One channel (strings owned by the recording, UTF-8). */
typedef struct {
    const char *label;       /**< channel name ("\1" decoded to ",") */
    const char *reference;   /**< reference channel name, "" when absent */
    double resolution;       /**< unit per bit (1 when the field is empty) */
    const char *unit;        /**< unit, "µV" when absent or empty */
} xai_bv_channel;

/** One marker of the .vmrk file (strings owned by the recording). */
typedef struct {
    const char *type;        /**< e.g. "Stimulus", "Response", "New Segment" */
    const char *description; /**< e.g. "S253", "" when absent */
    int64_t sample;          /**< 0-based sample = the file's 1-based position - 1 */
    int64_t length;          /**< length in samples (1 when absent) */
    int channel;             /**< 1-based channel, 0 = all channels */
    const char *date;        /**< "New Segment" date (YYYYMMDDhhmmssuuuuuu) or "" */
} xai_bv_marker;

/** A recording read whole. All fields are read-only; free with xai_brainvision_close(). */
typedef struct {
    int n_channels;          /**< C */
    int64_t n_samples;       /**< T (from the data file size) */
    double sampling_interval_us; /**< SamplingInterval, microseconds */
    double sample_rate;      /**< 1e6 / sampling_interval_us, Hz */
    xai_bv_format format;    /**< binary sample type */
    int vectorized;          /**< 1: VECTORIZED, 0: MULTIPLEXED */
    xai_bv_channel *channels; /**< C channels */
    xai_bv_marker *markers;  /**< markers in file order */
    size_t n_markers;
    float *data;             /**< [C][T] in each channel's unit (value * resolution) */
} xai_brainvision;

/**
 * Read the header @p vhdr_path and the data and marker files it names (looked up next to
 * the header; any directory part in DataFile/MarkerFile is ignored).
 * @param[out] out the recording; free it with xai_brainvision_close().
 * @return XAI_OK, XAI_EIO (a file is missing or unreadable; the message names it),
 *         XAI_EFORMAT (malformed header, markers or data size), XAI_EUNSUPPORTED (ASCII
 *         data, other binary formats), XAI_ENOMEM.
 */
XAI_API xai_status xai_brainvision_open(const char *vhdr_path, xai_brainvision **out);

/**
 * As xai_brainvision_open() from three buffers (none is kept). @p vmrk may be NULL
 * (no markers). @p name (may be NULL) is used in messages.
 */
XAI_API xai_status xai_brainvision_open_mem(const void *vhdr, size_t vhdr_len,
                                            const void *eeg, size_t eeg_len,
                                            const void *vmrk, size_t vmrk_len,
                                            const char *name, xai_brainvision **out);

/** Free @p bv and everything it owns; NULL is fine. */
XAI_API void xai_brainvision_close(xai_brainvision *bv);

/** @return the index of the channel labelled @p label (exact match), or -1. */
XAI_API int xai_brainvision_find_channel(const xai_brainvision *bv, const char *label);

#ifdef __cplusplus
}
#endif

#endif /* XAI_BRAINVISION_H */
