/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * biosig.h - EEG recordings in the formats of the field through BioSig (libbiosig):
 * GDF 1.x and 2.x (BCI Competition IV 2a/2b), BCI2000 .dat (EEGMMIDB's original format),
 * Neuroscan CNT and EGI. EDF/BDF stay with EDFlib (xai/edf.h).
 *
 * The handle presents a recording with the structs of xai/edf.h, so code written for the
 * EDF reader takes these files with the names changed: channels are xai_edf_channel
 * (physical units, label cut to 16 bytes, unit to 8), events are xai_edf_annotation
 * (onset and duration in seconds from the start, text). A GDF event with a code below 256
 * carries its free-text description (the EDF+ annotations that save2gdf converts); any
 * other code becomes its decimal number ("769"), as MNE-Python's GDF reader names them.
 * Trigger channels that a converter turned into events (BDF `Status`) are events here.
 *
 * libbiosig is not safe on malformed input (fuzzing finds crashes and endless loops in its
 * header parsers), prints to stdout/stderr and keeps global state. Every file is
 * therefore read whole, header, events and samples, by a short-lived child process
 * (fork): a crash, exit() or hang there (killed after 10 s plus 1 s per MiB) becomes
 * XAI_EFORMAT with a message, BioSig's own error text is quoted in xai_last_error(), and
 * nothing is printed. The caller's process state is never touched by BioSig. Memory: the
 * samples are held as float32 [C][T] in the handle.
 * Reference: Schloegl A. et al., "GDF - A general dataformat for biosignals",
 * arXiv:cs/0608052 (2006); BioSig for C/C++, biosig.sourceforge.net.
 */
#ifndef XAI_BIOSIG_H
#define XAI_BIOSIG_H

#include <stddef.h>
#include <stdint.h>

#include "xai/edf.h"
#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Whole-file facts. */
typedef struct {
    char format[32];          /**< BioSig's name of the format ("GDF", "BCI2000", "CNT", ...) */
    double version;           /**< format version (GDF: 1.x or 2.x), 0 when BioSig has none */
    int n_channels;           /**< channels that carry data */
    int64_t n_samples;        /**< samples per channel at sample_rate */
    double sample_rate;       /**< the file's sample rate in Hz (the highest channel rate) */
    double duration_s;        /**< n_samples / sample_rate */
    int start_year, start_month, start_day;     /**< start date (0 when absent) */
    int start_hour, start_minute, start_second; /**< start time */
    size_t n_annotations;     /**< events read at open */
} xai_biosig_info;

/** An open recording (opaque; owns the BioSig header, events and samples). */
typedef struct xai_biosig xai_biosig;

/**
 * @return 1 when @p path has an extension read through BioSig (.gdf, .dat, .cnt, .egi,
 * .raw: ASCII case ignored), else 0. The EEG loader dispatches on this before EDF/BDF.
 */
XAI_API int xai_biosig_handles(const char *path);

/**
 * Open @p path and read it whole (in a child process, see above). GDF headers are checked
 * first (header length against channel count and file size), since BioSig reads past its
 * buffers otherwise; a header that claims more samples than the file can hold is refused.
 * @param[out] out the new handle; close it with xai_biosig_close().
 * @return XAI_OK, XAI_EIO (cannot open, cannot fork), XAI_EFORMAT (BioSig refuses the
 *         file, crashes or hangs on it, or finds no data channels; BioSig's own message is
 *         quoted when it gives one), XAI_ENOMEM.
 */
XAI_API xai_status xai_biosig_open(const char *path, xai_biosig **out);

/**
 * As xai_biosig_open() from memory. BioSig reads files only, so the bytes go to a private
 * temporary file (under $TMPDIR or /tmp, same extension as @p name) that is removed
 * before the call returns. @p name (may be NULL) is used in messages.
 */
XAI_API xai_status xai_biosig_open_mem(const void *buf, size_t len, const char *name,
                                       xai_biosig **out);

/** Close @p h and free everything it owns; NULL is fine. */
XAI_API void xai_biosig_close(xai_biosig *h);

/** @return the file facts (borrowed, valid until xai_biosig_close()). */
XAI_API const xai_biosig_info *xai_biosig_get_info(const xai_biosig *h);

/** @return channel @p ch (borrowed), or NULL when @p ch is out of range. */
XAI_API const xai_edf_channel *xai_biosig_get_channel(const xai_biosig *h, int ch);

/**
 * @return the events as annotations (borrowed array of xai_biosig_info.n_annotations
 * entries, in BioSig's order). Durations come from a GDF duration table, else from an end
 * event (GDF code | 0x8000) paired with the latest open start of the same code (the end is
 * then not listed); -1 when neither exists. BioSig turns BCI2000 states into GDF codes:
 * TargetCode k becomes 0x300 + k ("769" for 1), ResultCode and Feedback likewise.
 */
XAI_API const xai_edf_annotation *xai_biosig_get_annotations(const xai_biosig *h, size_t *n);

/**
 * Read channels into one [C][T] float32 matrix in physical units, as
 * xai_edf_read_matrix() does.
 * @param channels the channel indices to read, in this order, or NULL for all channels.
 * @param n_sel    number of entries in @p channels (ignored when it is NULL).
 * @param[out] out malloc'ed [C][T] data (caller frees with free()).
 * @param[out] n_times T (may be NULL).
 * @param[out] rate  the sample rate in Hz (may be NULL).
 * @return XAI_OK; XAI_EUNSUPPORTED when a selected channel has a lower rate than the file
 *         (BioSig would repeat its samples); XAI_EINVAL for a bad selection;
 *         XAI_ENUMERIC for a non-finite sample (BioSig's marker of missing data).
 */
XAI_API xai_status xai_biosig_read_matrix(xai_biosig *h, const int *channels, int n_sel,
                                          float **out, int64_t *n_times, double *rate);

#ifdef __cplusplus
}
#endif

#endif /* XAI_BIOSIG_H */
