/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * table-out.h - a result table and its sidecar (table-out.c). Private to formats.
 */
#ifndef XAI_TABLE_OUT_H
#define XAI_TABLE_OUT_H

#include "xai/status.h"
#include "xai/tsv.h"

/* "PATH: detail" from the last error, unless the detail already names the path. */
xai_status xai_out_fail(xai_status st, const char *path);
/* Save @p t to @p path when @p st is XAI_OK and free it either way; the first error, naming
 * the file. */
xai_status xai_out_table(xai_tsv *t, const char *path, xai_status st);
/* The sidecar of the output @p path (".tsv" or ".npy" becomes ".json", else ".json" is appended): the
 * members of the JSON object text @p json (may be NULL) plus a "Description". */
xai_status xai_out_sidecar(const char *path, const char *json, const char *desc);
/* The same with a BIDS data dictionary: cols[c][0] {"Description": cols[c][1]} for @p ncols
 * columns. */
xai_status xai_out_sidecar_cols(const char *path, const char *json, const char *desc, const char *const (*cols)[2],
                                int ncols);

#endif
