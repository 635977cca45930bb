/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * atomic.h - the one atomic writer of the suite. Every output is written to a temporary
 * file in the destination directory and renamed over the destination once complete
 * (POSIX rename(2) replaces the target in one step), so readers never see a half file.
 *
 * Temporary names identify their owner:  NAME.tmp-xai.HOST.PID.RAND[SUFFIX]
 * (NAME is the destination's file name without SUFFIX; SUFFIX keeps extensions such as
 * ".nii.gz" that a library derives the encoding from). A process-wide registry of the
 * temporaries in flight lets a signal handler remove them; after kill -9, which no handler
 * sees, xai_atomic_sweep_orphans() removes the ones whose writer is gone.
 */
#ifndef XAI_ATOMIC_H
#define XAI_ATOMIC_H

#include <stddef.h>
#include <stdio.h>

#include "xai/api.h"
#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The marker between the destination name and the owner in a temporary file name. */
#define XAI_ATOMIC_MARKER ".tmp-xai."

/** An output being written; the fields are owned by the functions below. */
typedef struct xai_atomic_file {
    char *path; /**< destination */
    char *tmp;  /**< temporary file next to it */
    FILE *f;    /**< binary stream on tmp */
} xai_atomic_file;

/**
 * Open a temporary file next to @p path for streaming. Finish with xai_atomic_commit()
 * or xai_atomic_abort().
 * @return XAI_OK, XAI_EINVAL (NULL/empty path), XAI_ENOMEM or XAI_EIO (names @p path).
 */
XAI_API xai_status xai_atomic_begin(const char *path, xai_atomic_file *af);

/**
 * Flush, fsync and close the stream, then rename the temporary over the destination.
 * On failure the temporary file is removed. @p af is released either way.
 */
XAI_API xai_status xai_atomic_commit(xai_atomic_file *af);

/** Close and remove the temporary file and release @p af (safe on a zeroed struct). */
XAI_API void xai_atomic_abort(xai_atomic_file *af);

/** Write @p len bytes of @p data to @p path atomically. */
XAI_API xai_status xai_atomic_write(const char *path, const void *data, size_t len);

/**
 * Stream form for callers that hold a FILE and the temp name (xai_atomic_fopen_tmp()):
 * when @p ok, flush, fsync, close and rename @p tmp over @p path; otherwise (or on any
 * failure) close and remove it. Frees @p tmp. @return XAI_OK or XAI_EIO.
 */
XAI_API xai_status xai_atomic_fcommit(FILE *f, char *tmp, const char *path, int ok);

/**
 * Lower level, for writers whose library writes the file by name or descriptor (EDFlib,
 * libsndfile, nifti_clib, cairo): create and register the temporary file for @p path
 * (mode 0666 minus umask) with the optional @p suffix at the end of its name. *tmp receives
 * the malloc'ed name, *fd the open descriptor. Finish with xai_atomic_finish().
 */
XAI_API xai_status xai_atomic_mkstemp(const char *path, const char *suffix, char **tmp, int *fd);

/** xai_atomic_mkstemp() without suffix, plus a binary stdio stream on it in *f. */
XAI_API xai_status xai_atomic_fopen_tmp(const char *path, char **tmp, FILE **f);

/**
 * End a write begun with xai_atomic_mkstemp(): when @p st is XAI_OK, rename @p tmp over
 * @p path (an error is set if that fails); otherwise remove @p tmp. Unregisters and frees
 * @p tmp. @return @p st, or XAI_EIO when the rename failed.
 */
XAI_API xai_status xai_atomic_finish(char *tmp, const char *path, xai_status st);

/**
 * Remove the temporary files in @p dir (not recursive) that writers on this host left
 * behind when they died: names with the marker, this host, and a process id that no
 * longer runs. Files of running writers, of other hosts (shared file systems) and all
 * other files are kept. *removed (may be NULL) receives the count.
 * @return XAI_OK (also when @p dir does not exist), XAI_EINVAL, XAI_EIO.
 */
XAI_API xai_status xai_atomic_sweep_orphans(const char *dir, int *removed);

/**
 * Unlink the temporary files of writes in progress. Async-signal-safe: for a
 * SIGTERM/SIGINT handler (apps/common installs one).
 */
XAI_API void xai_formats_remove_temps(void);

/** Register / forget a temporary file (the functions above do this themselves). */
XAI_API void xai_formats_track_temp(const char *tmp);
XAI_API void xai_formats_untrack_temp(const char *tmp);

#ifdef __cplusplus
}
#endif

#endif /* XAI_ATOMIC_H */
