/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tsv.c - BIDS tabular files: tab-separated, header row, "n/a" for missing values.
 * Spec: BIDS "Common principles - Tabular files" (bids-specification, common-principles.md).
 * Cells are kept as text (NULL = n/a); numbers are formatted with the shortest "%.Ng"
 * that reads back to the same double, so a write/read round trip is exact.
 */
#include "xai/tsv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai/atomic.h"
#include "xai/sidecar.h"

typedef struct {
    char *name;
    xai_tsv_type type;
    char **cells; /* cap_rows entries; NULL = n/a */
    char *desc, *units; /* for the JSON sidecar (NULL = not described) */
} column;

struct xai_tsv {
    size_t ncols, nrows, cap_rows, cap_cols;
    column *cols;
};

static const char NA[] = "n/a";

static char *dup_str(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int bad_text(const char *s)
{
    return strpbrk(s, "\t\r\n") != NULL;
}

/* A whole-string decimal number (also inf/nan as strtod spells them, but no hex). */
static int is_number(const char *s, double *v)
{
    char *end;
    double x;
    if (!*s || *s == ' ' || *s == '\t' || strpbrk(s, "xX"))
        return 0;
    errno = 0;
    x = strtod(s, &end);
    if (*end || end == s)
        return 0;
    if (v)
        *v = x;
    return 1;
}

static void format_number(double v, char *buf, size_t cap)
{
    if (isinf(v)) {
        snprintf(buf, cap, "%s", v > 0 ? "inf" : "-inf");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static xai_status check_name(const xai_tsv *t, const char *name)
{
    if (!name || !*name)
        return xai_error_set(XAI_EINVAL, "tsv: empty column name");
    if (bad_text(name))
        return xai_error_set(XAI_EINVAL, "tsv: column name '%s' holds a tab or line break", name);
    for (size_t c = 0; c < t->ncols; c++)
        if (strcmp(t->cols[c].name, name) == 0)
            return xai_error_set(XAI_EINVAL, "tsv: duplicate column name '%s'", name);
    return XAI_OK;
}

static xai_status grow_cols(xai_tsv *t)
{
    if (t->ncols == t->cap_cols) {
        size_t cap = t->cap_cols ? 2 * t->cap_cols : 8;
        column *c = realloc(t->cols, cap * sizeof *c);
        if (!c)
            return xai_error_set(XAI_ENOMEM, "tsv: out of memory");
        t->cols = c;
        t->cap_cols = cap;
    }
    return XAI_OK;
}

/* Append a column with a name of length n (not checked here). */
static xai_status push_column(xai_tsv *t, const char *name, size_t n, xai_tsv_type type)
{
    column *c;
    if (grow_cols(t) != XAI_OK)
        return XAI_ENOMEM;
    c = &t->cols[t->ncols];
    memset(c, 0, sizeof *c);
    c->name = dup_str(name, n);
    c->type = type;
    c->cells = calloc(t->cap_rows ? t->cap_rows : 1, sizeof *c->cells);
    if (!c->name || !c->cells) {
        free(c->name);
        free(c->cells);
        return xai_error_set(XAI_ENOMEM, "tsv: out of memory");
    }
    t->ncols++;
    return XAI_OK;
}

static xai_status new_table(xai_tsv **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return xai_error_set(XAI_ENOMEM, "tsv: out of memory");
    return XAI_OK;
}

xai_status xai_tsv_create(size_t ncols, const char *const *names, const xai_tsv_type *types,
                          xai_tsv **out)
{
    xai_tsv *t;
    xai_status st;
    if (!out)
        return xai_error_set(XAI_EINVAL, "tsv: NULL output");
    *out = NULL;
    if (ncols && !names)
        return xai_error_set(XAI_EINVAL, "tsv: NULL column names");
    st = new_table(&t);
    if (st != XAI_OK)
        return st;
    for (size_t c = 0; c < ncols; c++) {
        st = xai_tsv_add_column(t, names[c], types ? types[c] : XAI_TSV_NUMBER, NULL);
        if (st != XAI_OK) {
            xai_tsv_free(t);
            return st;
        }
    }
    *out = t;
    return XAI_OK;
}

void xai_tsv_free(xai_tsv *t)
{
    if (!t)
        return;
    for (size_t c = 0; c < t->ncols; c++) {
        for (size_t r = 0; r < t->nrows; r++)
            free(t->cols[c].cells[r]);
        free(t->cols[c].cells);
        free(t->cols[c].name);
        free(t->cols[c].desc);
        free(t->cols[c].units);
    }
    free(t->cols);
    free(t);
}

xai_status xai_tsv_add_column(xai_tsv *t, const char *name, xai_tsv_type type, size_t *col)
{
    xai_status st;
    if (!t)
        return xai_error_set(XAI_EINVAL, "tsv: NULL table");
    if (type != XAI_TSV_NUMBER && type != XAI_TSV_STRING)
        return xai_error_set(XAI_EINVAL, "tsv: bad column type %d", (int)type);
    st = check_name(t, name);
    if (st != XAI_OK)
        return st;
    st = push_column(t, name, strlen(name), type);
    if (st == XAI_OK && col)
        *col = t->ncols - 1;
    return st;
}

xai_status xai_tsv_add_row(xai_tsv *t, size_t *row)
{
    if (!t)
        return xai_error_set(XAI_EINVAL, "tsv: NULL table");
    if (t->nrows == t->cap_rows) {
        size_t cap = t->cap_rows ? 2 * t->cap_rows : 16;
        for (size_t c = 0; c < t->ncols; c++) {
            char **cells = realloc(t->cols[c].cells, cap * sizeof *cells);
            if (!cells)
                return xai_error_set(XAI_ENOMEM, "tsv: out of memory");
            memset(cells + t->cap_rows, 0, (cap - t->cap_rows) * sizeof *cells);
            t->cols[c].cells = cells;
        }
        t->cap_rows = cap;
    }
    for (size_t c = 0; c < t->ncols; c++)
        t->cols[c].cells[t->nrows] = NULL;
    if (row)
        *row = t->nrows;
    t->nrows++;
    return XAI_OK;
}

static xai_status check_cell(const xai_tsv *t, size_t row, size_t col)
{
    if (!t)
        return xai_error_set(XAI_EINVAL, "tsv: NULL table");
    if (row >= t->nrows || col >= t->ncols)
        return xai_error_set(XAI_EINVAL, "tsv: cell (%zu, %zu) is outside the %zu x %zu table",
                             row, col, t->nrows, t->ncols);
    return XAI_OK;
}

static void put(xai_tsv *t, size_t row, size_t col, char *s)
{
    free(t->cols[col].cells[row]);
    t->cols[col].cells[row] = s;
}

xai_status xai_tsv_set_number(xai_tsv *t, size_t row, size_t col, double v)
{
    char buf[64];
    char *s;
    xai_status st = check_cell(t, row, col);
    if (st != XAI_OK)
        return st;
    if (isnan(v)) {
        put(t, row, col, NULL);
        return XAI_OK;
    }
    format_number(v, buf, sizeof buf);
    s = dup_str(buf, strlen(buf));
    if (!s)
        return xai_error_set(XAI_ENOMEM, "tsv: out of memory");
    put(t, row, col, s);
    return XAI_OK;
}

xai_status xai_tsv_set_float(xai_tsv *t, size_t row, size_t col, float v)
{
    xai_status st = check_cell(t, row, col);
    if (st != XAI_OK)
        return st;
    if (isnan(v)) {
        put(t, row, col, NULL);
        return XAI_OK;
    }
    /* shortest text that reads back as the same float32 (at most 9 digits, IEEE 754) */
    char buf[32];
    if (isinf(v))
        snprintf(buf, sizeof buf, "%s", v > 0 ? "inf" : "-inf");
    else
        for (int prec = 6; prec <= 9; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, (double)v);
            if (strtof(buf, NULL) == v)
                break;
        }
    char *s = dup_str(buf, strlen(buf));
    if (!s)
        return xai_error_set(XAI_ENOMEM, "tsv: out of memory");
    put(t, row, col, s);
    return XAI_OK;
}

xai_status xai_tsv_set_column_info(xai_tsv *t, size_t col, const char *description, const char *units)
{
    if (!t || col >= t->ncols)
        return xai_error_set(XAI_EINVAL, "tsv: no column %zu", col);
    char *d = description ? dup_str(description, strlen(description)) : NULL;
    char *u = units ? dup_str(units, strlen(units)) : NULL;
    if ((description && !d) || (units && !u)) {
        free(d);
        free(u);
        return xai_error_set(XAI_ENOMEM, "tsv: out of memory");
    }
    free(t->cols[col].desc);
    free(t->cols[col].units);
    t->cols[col].desc = d;
    t->cols[col].units = u;
    return XAI_OK;
}

xai_status xai_tsv_set_string(xai_tsv *t, size_t row, size_t col, const char *s)
{
    char *d;
    xai_status st = check_cell(t, row, col);
    if (st != XAI_OK)
        return st;
    if (!s || !*s || strcmp(s, NA) == 0) {
        put(t, row, col, NULL); /* "" cannot be written distinctly from n/a */
        return XAI_OK;
    }
    if (bad_text(s))
        return xai_error_set(XAI_EINVAL, "tsv: value for column '%s' holds a tab or line break",
                             t->cols[col].name);
    d = dup_str(s, strlen(s));
    if (!d)
        return xai_error_set(XAI_ENOMEM, "tsv: out of memory");
    put(t, row, col, d);
    if (t->cols[col].type == XAI_TSV_NUMBER && !is_number(s, NULL))
        t->cols[col].type = XAI_TSV_STRING;
    return XAI_OK;
}

xai_status xai_tsv_set_na(xai_tsv *t, size_t row, size_t col)
{
    xai_status st = check_cell(t, row, col);
    if (st == XAI_OK)
        put(t, row, col, NULL);
    return st;
}

size_t xai_tsv_nrows(const xai_tsv *t)
{
    return t ? t->nrows : 0;
}

size_t xai_tsv_ncols(const xai_tsv *t)
{
    return t ? t->ncols : 0;
}

const char *xai_tsv_column_name(const xai_tsv *t, size_t col)
{
    return t && col < t->ncols ? t->cols[col].name : NULL;
}

xai_tsv_type xai_tsv_column_type(const xai_tsv *t, size_t col)
{
    return t && col < t->ncols ? t->cols[col].type : XAI_TSV_STRING;
}

long xai_tsv_find_column(const xai_tsv *t, const char *name)
{
    if (!t || !name)
        return -1;
    for (size_t c = 0; c < t->ncols; c++)
        if (strcmp(t->cols[c].name, name) == 0)
            return (long)c;
    return -1;
}

int xai_tsv_is_na(const xai_tsv *t, size_t row, size_t col)
{
    return !t || row >= t->nrows || col >= t->ncols || !t->cols[col].cells[row];
}

const char *xai_tsv_get_string(const xai_tsv *t, size_t row, size_t col)
{
    return xai_tsv_is_na(t, row, col) ? NULL : t->cols[col].cells[row];
}

xai_status xai_tsv_get_number(const xai_tsv *t, size_t row, size_t col, double *v)
{
    const char *s;
    xai_status st = check_cell(t, row, col);
    if (st != XAI_OK)
        return st;
    s = t->cols[col].cells[row];
    if (!s || strcmp(s, NA) == 0) {
        if (v)
            *v = NAN;
        return XAI_OK;
    }
    if (!is_number(s, v))
        return xai_error_set(XAI_EFORMAT, "tsv: column '%s' row %zu: '%s' is not a number",
                             t->cols[col].name, row + 1, s);
    return XAI_OK;
}

/* ---- reading ------------------------------------------------------------------------ */

/* Next line of [p, end): sets *len without the line break, returns the start of the next. */
static const char *next_line(const char *p, const char *end, size_t *len)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl : end;
    *len = (size_t)(stop - p);
    if (*len && p[*len - 1] == '\r')
        (*len)--;
    return nl ? nl + 1 : end;
}

static size_t count_fields(const char *p, size_t n)
{
    size_t k = 1;
    for (size_t i = 0; i < n; i++)
        k += p[i] == '\t';
    return k;
}

/* the columns of the first line: its names, or 1..ncols under XAI_TSV_NO_HEADER; names must
 * be non-empty and unique. Every column starts as a number column. */
static xai_status tsv_header(xai_tsv *t, const char *line, size_t n, size_t ncols, const char *name,
                             unsigned flags)
{
    for (size_t c = 0, start = 0; c < ncols; c++) {
        size_t stop = start;
        char num[32];
        xai_status st;
        while (stop < n && line[stop] != '\t')
            stop++;
        if (flags & XAI_TSV_NO_HEADER) {
            snprintf(num, sizeof num, "%zu", c + 1);
            st = push_column(t, num, strlen(num), XAI_TSV_NUMBER);
        } else {
            const char *nm = line + start;
            size_t nl = stop - start;
            if (nl == 0)
                return xai_error_set(XAI_EFORMAT, "%s: line 1: empty name for column %zu", name, c + 1);
            for (size_t k = 0; k < t->ncols; k++)
                if (strlen(t->cols[k].name) == nl && memcmp(t->cols[k].name, nm, nl) == 0)
                    return xai_error_set(XAI_EFORMAT, "%s: line 1: duplicate column '%.*s'", name, (int)nl,
                                         nm);
            st = push_column(t, nm, nl, XAI_TSV_NUMBER);
        }
        if (st != XAI_OK)
            return st;
        start = stop + 1;
    }
    return XAI_OK;
}

/* one data line of ncols fields as a new row; "n/a" and empty fields stay missing, and a
 * column with any non-numeric cell becomes a string column */
static xai_status tsv_row(xai_tsv *t, const char *line, size_t n, size_t ncols, size_t lineno, const char *name)
{
    size_t row, start = 0;
    if (count_fields(line, n) != ncols)
        return xai_error_set(XAI_EFORMAT, "%s: line %zu: %zu fields, the header has %zu", name, lineno,
                             count_fields(line, n), ncols);
    xai_status st = xai_tsv_add_row(t, &row);
    if (st != XAI_OK)
        return st;
    for (size_t c = 0; c < ncols; c++) {
        size_t stop = start;
        while (stop < n && line[stop] != '\t')
            stop++;
        if (stop > start && !(stop - start == 3 && memcmp(line + start, NA, 3) == 0)) {
            char *s = dup_str(line + start, stop - start);
            if (!s)
                return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
            t->cols[c].cells[row] = s;
            if (t->cols[c].type == XAI_TSV_NUMBER && !is_number(s, NULL))
                t->cols[c].type = XAI_TSV_STRING;
        }
        start = stop + 1;
    }
    return XAI_OK;
}

/* The table in @p buf; rows past @p max_rows (0: none are) are checked but not kept, and the
 * count of all rows goes to *nrows. */
static xai_status load_mem(const void *buf, size_t len, const char *name, unsigned flags, size_t max_rows,
                           xai_tsv **out, size_t *nrows)
{
    const char *p = buf, *end;
    xai_tsv *t = NULL;
    size_t lineno, n, ncols, rows = 0;
    xai_status st;

    name = name && *name ? name : "<memory>";
    if (!out)
        return xai_error_set(XAI_EINVAL, "%s: NULL output", name);
    *out = NULL;
    if (!buf && len)
        return xai_error_set(XAI_EINVAL, "%s: NULL buffer", name);
    if (len && memchr(p, '\0', len))
        return xai_error_set(XAI_EFORMAT, "%s: NUL byte in a text table", name);
    end = p + len;
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3; /* UTF-8 byte order mark (spreadsheet exports) */
    /* trailing line breaks carry no rows */
    while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
        end--;
    if (p == end)
        return xai_error_set(XAI_EFORMAT, "%s: empty table (no header row)", name);

    st = new_table(&t);
    if (st != XAI_OK)
        return st;
    const char *first = p;
    p = next_line(p, end, &n);
    ncols = count_fields(first, n);
    if ((st = tsv_header(t, first, n, ncols, name, flags)) != XAI_OK)
        goto fail;
    if (flags & XAI_TSV_NO_HEADER)
        p = first; /* the first line is data */
    lineno = (flags & XAI_TSV_NO_HEADER) ? 0 : 1;
    for (; p < end; rows++) {
        const char *line = p;
        p = next_line(p, end, &n);
        lineno++;
        if (max_rows && rows >= max_rows) { /* not kept: only its shape is checked */
            if (count_fields(line, n) != ncols) {
                st = xai_error_set(XAI_EFORMAT, "%s: line %zu: %zu fields, the header has %zu", name, lineno,
                                   count_fields(line, n), ncols);
                goto fail;
            }
        } else if ((st = tsv_row(t, line, n, ncols, lineno, name)) != XAI_OK) {
            goto fail;
        }
    }
    *out = t;
    if (nrows)
        *nrows = rows;
    return XAI_OK;
fail:
    xai_tsv_free(t);
    return st;
}

xai_status xai_tsv_load_mem(const void *buf, size_t len, const char *name, unsigned flags,
                            xai_tsv **out)
{
    return load_mem(buf, len, name, flags, 0, out, NULL);
}

xai_status xai_tsv_load_head_mem(const void *buf, size_t len, const char *name, unsigned flags, size_t max_rows,
                                 xai_tsv **out, size_t *nrows)
{
    return load_mem(buf, len, name, flags, max_rows, out, nrows);
}

/* The whole file @p path into a malloc'ed buffer. */
static xai_status read_file(const char *path, char **data, size_t *size)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return xai_error_set(XAI_EIO, "%s: cannot open: %s", path, strerror(errno));
    for (;;) {
        size_t got;
        if (len == cap) {
            char *nb;
            cap = cap ? 2 * cap : 65536;
            nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
            }
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return xai_error_set(XAI_EIO, "%s: read error", path);
    }
    fclose(f);
    *data = buf;
    *size = len;
    return XAI_OK;
}

xai_status xai_tsv_load_head(const char *path, unsigned flags, size_t max_rows, xai_tsv **out, size_t *nrows)
{
    char *buf = NULL;
    size_t len = 0;
    if (!out)
        return xai_error_set(XAI_EINVAL, "xai_tsv_load: NULL output");
    *out = NULL;
    if (!path)
        return xai_error_set(XAI_EINVAL, "xai_tsv_load: NULL path");
    xai_status st = read_file(path, &buf, &len);
    if (st == XAI_OK)
        st = load_mem(buf, len, path, flags, max_rows, out, nrows);
    free(buf);
    return st;
}

xai_status xai_tsv_load(const char *path, unsigned flags, xai_tsv **out)
{
    return xai_tsv_load_head(path, flags, 0, out, NULL);
}

/* ---- writing ------------------------------------------------------------------------ */

/* "dir/x.tsv" -> "dir/x.json" (BIDS: the data dictionary sits next to the table). */
static char *sidecar_path(const char *path)
{
    size_t n = strlen(path);
    if (n > 4 && strcmp(path + n - 4, ".tsv") == 0)
        n -= 4;
    char *p = malloc(n + 6);
    if (p) {
        memcpy(p, path, n);
        memcpy(p + n, ".json", 6);
    }
    return p;
}

/* {"column": {"Description": ..., "Units": ...}} for every described column. */
static xai_status save_dictionary(const xai_tsv *t, const char *path)
{
    xai_sidecar *sc = NULL, *child = NULL;
    char *jp = sidecar_path(path);
    xai_status st = jp ? xai_sidecar_new(&sc) : xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    for (size_t c = 0; st == XAI_OK && c < t->ncols; c++) {
        const column *k = &t->cols[c];
        if (!k->desc && !k->units)
            continue;
        st = xai_sidecar_child(sc, k->name, &child);
        if (st == XAI_OK && k->desc)
            st = xai_sidecar_set_string(child, "Description", k->desc);
        if (st == XAI_OK && k->units)
            st = xai_sidecar_set_string(child, "Units", k->units);
        xai_sidecar_free(child);
        child = NULL;
    }
    if (st == XAI_OK)
        st = xai_sidecar_save(sc, jp);
    xai_sidecar_free(sc);
    free(jp);
    return st;
}

xai_status xai_tsv_save(const xai_tsv *t, const char *path, unsigned flags)
{
    xai_atomic_file af;
    xai_status st;
    int bad = 0;

    if (!t)
        return xai_error_set(XAI_EINVAL, "xai_tsv_save: NULL table");
    if (t->ncols == 0)
        return xai_error_set(XAI_EINVAL, "%s: a table needs at least one column",
                             path ? path : "tsv");
    st = xai_atomic_begin(path, &af);
    if (st != XAI_OK)
        return st;
    if (!(flags & XAI_TSV_NO_HEADER))
        for (size_t c = 0; c < t->ncols; c++)
            bad |= fprintf(af.f, "%s%c", t->cols[c].name, c + 1 < t->ncols ? '\t' : '\n') < 0;
    for (size_t r = 0; r < t->nrows && !bad; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cols[c].cells[r];
            bad |= fprintf(af.f, "%s%c", s && *s ? s : NA, c + 1 < t->ncols ? '\t' : '\n') < 0;
        }
    if (bad) {
        st = xai_error_set(XAI_EIO, "%s: write failed: %s", path, strerror(errno));
        xai_atomic_abort(&af);
        return st;
    }
    st = xai_atomic_commit(&af);
    if (st == XAI_OK && (flags & XAI_TSV_SIDECAR))
        st = save_dictionary(t, path);
    return st;
}
