/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * file-util.h - private helpers shared by the formats readers: open an input file and make
 * sure it is a regular file (not a directory, FIFO or device) before its size is trusted;
 * free an array of strings. Not installed; the functions are hidden (no XAI_API).
 */
#ifndef XAI_FILE_UTIL_H
#define XAI_FILE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xai/status.h"

/**
 * fopen(@p path, "rb") and fstat(2) it: *f receives the open stream (the caller closes
 * it), *size the file length in bytes.
 * @return XAI_OK, or XAI_EIO with "PATH: cannot open: REASON" or "PATH: not a regular
 *         file" (nothing is left open).
 */
xai_status xai_file_open_regular(const char *path, FILE **f, uint64_t *size);

/** Free the @p n strings of @p v and @p v itself (NULL is fine). */
void xai_strv_free(char **v, size_t n);

#endif /* XAI_FILE_UTIL_H */
