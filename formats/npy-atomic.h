/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * npy-atomic.h - private helper shared by the NPY, TSV, sidecar and figure writers:
 * write to "PATH.tmpXXXXXX" in the destination directory, then rename() over PATH.
 * Not installed; the functions are hidden (no XAI_API).
 */
#ifndef XAI_NPY_ATOMIC_H
#define XAI_NPY_ATOMIC_H

#include <stdio.h>

#include "xai/status.h"

/** An output file being written; fields are private to npy-atomic.c. */
typedef struct {
    char *path; /* destination (owned copy) */
    char *tmp;  /* temporary name (owned) */
    FILE *f;    /* open stream on tmp */
} xai_atomic_file;

/**
 * Create the temporary file for @p path and open it for binary writing.
 * @return XAI_OK, XAI_EINVAL (NULL/empty path), XAI_ENOMEM or XAI_EIO (detail names @p path).
 */
xai_status xai_atomic_begin(const char *path, xai_atomic_file *af);

/**
 * Flush, sync and close the temporary file, then rename it over the destination.
 * On any failure the temporary file is removed. @p af is released either way.
 */
xai_status xai_atomic_commit(xai_atomic_file *af);

/** Close and remove the temporary file and release @p af (safe on a zeroed struct). */
void xai_atomic_abort(xai_atomic_file *af);

/**
 * Lower level, for writers that finish the file themselves (C3D, MOT, WAV): create
 * "PATH.tmpXXXXXX" (mode 0600) next to @p path. *tmp receives the malloc'ed name (the
 * caller renames or unlinks it, then frees it), *fd the open descriptor.
 * @return XAI_OK, XAI_ENOMEM or XAI_EIO ("PATH: cannot create temporary file: ...");
 *         on failure nothing is left behind and *tmp is NULL.
 */
xai_status xai_atomic_mkstemp(const char *path, char **tmp, int *fd);

/**
 * xai_atomic_mkstemp(), then mode 0644 and a stdio stream for binary writing in *f.
 * @return XAI_OK, or an error ("PATH: cannot open temporary file") with the temp removed.
 */
xai_status xai_atomic_fopen_tmp(const char *path, char **tmp, FILE **f);

#endif /* XAI_NPY_ATOMIC_H */
