/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * text.c - xai-info human-readable output, rendered from the same JSON object that --json
 * prints, so both always agree: scalars as "key: value" lines, lists of scalars joined,
 * matrices row by row, lists of objects (channels, annotations, events, inputs) as
 * aligned tables. Long tables are cut with a note pointing at --json.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "info.h"

#define MAX_ROWS 40
#define MAX_LIST 64

/* Format a scalar into buf. */
static const char *scalar(const json_t *v, char *buf, size_t n)
{
    switch (json_typeof(v)) {
    case JSON_STRING: snprintf(buf, n, "%s", json_string_value(v)); break;
    case JSON_INTEGER: snprintf(buf, n, "%lld", (long long)json_integer_value(v)); break;
    case JSON_REAL: snprintf(buf, n, "%.6g", json_real_value(v)); break;
    case JSON_TRUE: snprintf(buf, n, "yes"); break;
    case JSON_FALSE: snprintf(buf, n, "no"); break;
    case JSON_NULL: snprintf(buf, n, "-"); break;
    case JSON_ARRAY: {
        /* short list inline, e.g. a shape */
        size_t k = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < json_array_size(v) && k + 1 < n; i++) {
            char e[64];
            scalar(json_array_get(v, i), e, sizeof e);
            k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? "x" : "", e);
            if (k >= n)
                break;
        }
        if (json_array_size(v) == 0)
            snprintf(buf, n, "(scalar)");
        break;
    }
    case JSON_OBJECT: { /* a record inside a record, e.g. a model's screening */
        size_t k = (size_t)snprintf(buf, n, "{");
        const char *key;
        json_t *x;
        json_object_foreach((json_t *)v, key, x) {
            char e[128];
            if (k + 1 >= n)
                break;
            k += (size_t)snprintf(buf + k, n - k, "%s%s=%s", k > 1 ? ", " : "", key, scalar(x, e, sizeof e));
        }
        if (k + 1 < n)
            snprintf(buf + k, n - k, "}");
        break;
    }
    default: snprintf(buf, n, "?"); break;
    }
    return buf;
}

static int is_scalar(const json_t *v)
{
    return !json_is_array(v) && !json_is_object(v);
}

static void print_table(FILE *f, const char *key, const json_t *arr)
{
    size_t rows = json_array_size(arr);
    fprintf(f, "%s: %zu\n", key, rows);
    if (rows == 0)
        return;
    const json_t *first = json_array_get(arr, 0);
    size_t ncol = json_object_size(first);
    if (ncol == 0)
        return;
    const char **cols = calloc(ncol, sizeof *cols);
    int *w = calloc(ncol, sizeof *w);
    if (!cols || !w) {
        free(cols);
        free(w);
        return;
    }
    size_t c = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)first, k, v) {
        cols[c] = k;
        w[c] = (int)strlen(k);
        c++;
    }
    size_t shown = rows > MAX_ROWS ? MAX_ROWS : rows;
    char buf[256];
    for (size_t r = 0; r < shown; r++)
        for (c = 0; c < ncol; c++) {
            const json_t *cell = json_object_get(json_array_get(arr, r), cols[c]);
            int l = cell ? (int)strlen(scalar(cell, buf, sizeof buf)) : 1;
            if (l > w[c])
                w[c] = l > 40 ? 40 : l;
        }
    fprintf(f, "  ");
    for (c = 0; c < ncol; c++)
        fprintf(f, "%-*s%s", w[c], cols[c], c + 1 < ncol ? "  " : "\n");
    for (size_t r = 0; r < shown; r++) {
        fprintf(f, "  ");
        for (c = 0; c < ncol; c++) {
            const json_t *cell = json_object_get(json_array_get(arr, r), cols[c]);
            const char *s = cell ? scalar(cell, buf, sizeof buf) : "-";
            int right = cell && json_is_number(cell);
            if (right)
                fprintf(f, "%*.*s%s", w[c], w[c], s, c + 1 < ncol ? "  " : "\n");
            else if (c + 1 < ncol)
                fprintf(f, "%-*.*s  ", w[c], w[c], s);
            else
                fprintf(f, "%s\n", s);
        }
    }
    if (shown < rows)
        fprintf(f, "  ... %zu more (all of them with --json)\n", rows - shown);
    free(cols);
    free(w);
}

void info_print_text(FILE *f, const json_t *obj)
{
    const char *key;
    json_t *v;
    char buf[512];
    json_object_foreach((json_t *)obj, key, v) {
        if (is_scalar(v)) {
            fprintf(f, "%-18s %s\n", key, scalar(v, buf, sizeof buf));
        } else if (json_is_object(v)) {
            fprintf(f, "%-18s", key);
            const char *k2;
            json_t *v2;
            int first = 1;
            json_object_foreach(v, k2, v2) {
                if (is_scalar(v2) || json_is_object(v2) || (json_is_array(v2) && json_array_size(v2) <= 8))
                    fprintf(f, "%s%s=%s", first ? " " : ", ", k2, scalar(v2, buf, sizeof buf));
                first = 0;
            }
            fprintf(f, "\n");
        } else if (json_array_size(v) > 0 && json_is_object(json_array_get(v, 0))) {
            print_table(f, key, v);
        } else if (json_array_size(v) > 0 && json_is_array(json_array_get(v, 0))) {
            fprintf(f, "%s:\n", key);
            for (size_t i = 0; i < json_array_size(v); i++) {
                const json_t *row = json_array_get(v, i);
                fprintf(f, " ");
                for (size_t j = 0; j < json_array_size(row); j++) {
                    const json_t *x = json_array_get(row, j);
                    if (json_is_number(x))
                        fprintf(f, " %12.6g", json_number_value(x));
                    else
                        fprintf(f, " %12s", scalar(x, buf, sizeof buf));
                }
                fprintf(f, "\n");
            }
        } else if (!strcmp(key, "dim") || !strcmp(key, "pixdim") || !strcmp(key, "shape")) {
            fprintf(f, "%-18s %s\n", key, json_array_size(v) ? scalar(v, buf, sizeof buf) : "(scalar)");
        } else {
            size_t n = json_array_size(v);
            fprintf(f, "%-18s (%zu)", key, n);
            for (size_t i = 0; i < n && i < MAX_LIST; i++)
                fprintf(f, "%s%s", i ? ", " : " ", scalar(json_array_get(v, i), buf, sizeof buf));
            if (n > MAX_LIST)
                fprintf(f, ", ... %zu more", n - MAX_LIST);
            fprintf(f, "\n");
        }
    }
}
