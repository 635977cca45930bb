/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tsv.h - BIDS-style tab-separated tables (a header row of column names, then one row per
 * record; "n/a" marks a missing value). Columns are numeric or string. Readers take a path
 * or memory; the writer replaces its file atomically. Spec: BIDS common principles,
 * "Tabular files" (UTF-8, tab separator, header row, n/a for missing values).
 */
#ifndef XAI_TSV_H
#define XAI_TSV_H

#include <stddef.h>

#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Column kinds. On read a column is numeric when every present cell is a decimal number. */
typedef enum {
    XAI_TSV_NUMBER = 0, /**< finite or infinite numbers (written with round-trip precision) */
    XAI_TSV_STRING = 1  /**< free text without tabs or line breaks */
} xai_tsv_type;

/** Flags for xai_tsv_load() and xai_tsv_save(). */
enum {
    /** No header row (BIDS motion and physio files): columns are named "1", "2", ... on read,
     *  and the names are not written on save. */
    XAI_TSV_NO_HEADER = 1u << 0,
    /** xai_tsv_save(): also write the BIDS data dictionary "NAME.json" next to "NAME.tsv",
     *  {"column": {"Description": ..., "Units": ...}} for the columns given those
     *  (xai_tsv_set_column_info()), atomically like the table. */
    XAI_TSV_SIDECAR = 1u << 1
};

/** A table held in memory; opaque. Free with xai_tsv_free(). */
typedef struct xai_tsv xai_tsv;

/**
 * Make an empty table with no rows.
 * @param ncols number of columns (may be 0; add more with xai_tsv_add_column())
 * @param names column names (copied; non-empty, unique, no tab or line break)
 * @param types column kinds, or NULL for all XAI_TSV_NUMBER
 * @param[out] out new table, owned by the caller (xai_tsv_free())
 * @return XAI_OK, XAI_EINVAL (bad name), XAI_ENOMEM
 */
XAI_API xai_status xai_tsv_create(size_t ncols, const char *const *names, const xai_tsv_type *types,
                                  xai_tsv **out);

/** Free @p t (NULL is fine). */
XAI_API void xai_tsv_free(xai_tsv *t);

/**
 * Read a table from @p path. Lines end in LF or CRLF; the last newline is optional; every
 * row must have as many fields as the header. Empty cells are read as n/a.
 * @return XAI_OK, XAI_EIO, XAI_EFORMAT (ragged row, empty file, duplicate column name,
 *         NUL byte), XAI_ENOMEM. The detail names the file and line.
 */
XAI_API xai_status xai_tsv_load(const char *path, unsigned flags, xai_tsv **out);

/**
 * As xai_tsv_load(), keeping only the first @p max_rows rows (0: all), for a preview of a large
 * table: every line is still checked as xai_tsv_load() checks it (so this refuses what that
 * refuses), but the rows past @p max_rows are not split into cells, and the column kinds are
 * those of the kept rows.
 * @param[out] nrows the number of rows in the file (NULL: not wanted)
 */
XAI_API xai_status xai_tsv_load_head(const char *path, unsigned flags, size_t max_rows, xai_tsv **out,
                                     size_t *nrows);

/** As xai_tsv_load() from memory; @p name is used in messages (may be NULL). */
XAI_API xai_status xai_tsv_load_mem(const void *buf, size_t len, const char *name, unsigned flags,
                                    xai_tsv **out);

/** As xai_tsv_load_head() from memory; @p name is used in messages (may be NULL). */
XAI_API xai_status xai_tsv_load_head_mem(const void *buf, size_t len, const char *name, unsigned flags,
                                         size_t max_rows, xai_tsv **out, size_t *nrows);

/** Write @p t to @p path atomically (temporary file in the same directory, then rename). */
XAI_API xai_status xai_tsv_save(const xai_tsv *t, const char *path, unsigned flags);

/** Number of rows (not counting the header) and of columns. */
XAI_API size_t xai_tsv_nrows(const xai_tsv *t);
XAI_API size_t xai_tsv_ncols(const xai_tsv *t);

/** Name of column @p col (borrowed; NULL when out of range). */
XAI_API const char *xai_tsv_column_name(const xai_tsv *t, size_t col);

/** Kind of column @p col (XAI_TSV_STRING when out of range). */
XAI_API xai_tsv_type xai_tsv_column_type(const xai_tsv *t, size_t col);

/** Index of the column called @p name, or -1. */
XAI_API long xai_tsv_find_column(const xai_tsv *t, const char *name);

/**
 * Append a column filled with n/a.
 * @param[out] col its index (may be NULL)
 * @return XAI_OK, XAI_EINVAL (empty, duplicate or invalid name), XAI_ENOMEM
 */
XAI_API xai_status xai_tsv_add_column(xai_tsv *t, const char *name, xai_tsv_type type, size_t *col);

/**
 * Append a row whose cells are all n/a.
 * @param[out] row its index (may be NULL)
 */
XAI_API xai_status xai_tsv_add_row(xai_tsv *t, size_t *row);

/** Set a cell to a number; NaN is stored as n/a. @return XAI_OK or XAI_EINVAL (out of range). */
XAI_API xai_status xai_tsv_set_number(xai_tsv *t, size_t row, size_t col, double v);

/** A float32 value in the shortest text that reads back as the same float (NaN = n/a). */
XAI_API xai_status xai_tsv_set_float(xai_tsv *t, size_t row, size_t col, float v);
/** Description and units of column @p col for the sidecar (either may be NULL). */
XAI_API xai_status xai_tsv_set_column_info(xai_tsv *t, size_t col, const char *description,
                                           const char *units);

/**
 * Set a cell to a copy of @p s (NULL stores n/a). A string cell in a numeric column turns the
 * column into a string column.
 * @return XAI_OK, XAI_EINVAL (out of range, or @p s holds a tab or line break), XAI_ENOMEM
 */
XAI_API xai_status xai_tsv_set_string(xai_tsv *t, size_t row, size_t col, const char *s);

/** Set a cell to n/a. */
XAI_API xai_status xai_tsv_set_na(xai_tsv *t, size_t row, size_t col);

/** 1 when the cell is n/a or out of range, else 0. */
XAI_API int xai_tsv_is_na(const xai_tsv *t, size_t row, size_t col);

/**
 * Text of a cell as it will be written (borrowed, valid until the cell changes), or NULL for
 * n/a and out-of-range cells.
 */
XAI_API const char *xai_tsv_get_string(const xai_tsv *t, size_t row, size_t col);

/**
 * Numeric value of a cell.
 * @param[out] v the value; NaN for n/a
 * @return XAI_OK (also for n/a), XAI_EINVAL (out of range), XAI_EFORMAT (not a number)
 */
XAI_API xai_status xai_tsv_get_number(const xai_tsv *t, size_t row, size_t col, double *v);

#ifdef __cplusplus
}
#endif

#endif /* XAI_TSV_H */
