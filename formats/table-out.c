/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * table-out.c - saving a result table with its provenance sidecar, for the writers of
 * program outputs in this library (evaluation, SpRAy): one place for the "NAME.json next to
 * NAME.tsv" rule and for messages that name the file.
 */
#include <stdio.h>
#include <string.h>

#include "table-out.h"
#include "xai/sidecar.h"

#define PATHLEN 4096

xai_status xai_out_fail(xai_status st, const char *path)
{
    const char *msg = xai_last_error();
    size_t pl = strlen(path);
    if (strncmp(msg, path, pl) == 0 && msg[pl] == ':')
        return st;
    return xai_error_set(st, "%s: %s", path, msg);
}

xai_status xai_out_table(xai_tsv *t, const char *path, xai_status st)
{
    if (!st)
        st = xai_tsv_save(t, path, 0);
    xai_tsv_free(t);
    return st ? xai_out_fail(st, path) : XAI_OK;
}

xai_status xai_out_sidecar(const char *path, const char *json, const char *desc)
{
    return xai_out_sidecar_cols(path, json, desc, NULL, 0);
}

xai_status xai_out_sidecar_cols(const char *path, const char *json, const char *desc, const char *const (*cols)[2],
                                int ncols)
{
    char side[PATHLEN];
    size_t n = strlen(path);
    if (n > 4 && (strcmp(path + n - 4, ".tsv") == 0 || strcmp(path + n - 4, ".npy") == 0))
        n -= 4;
    if (n + 6 > sizeof side)
        return xai_error_set(XAI_EINVAL, "%s: path too long for its sidecar", path);
    snprintf(side, sizeof side, "%.*s.json", (int)n, path);
    xai_sidecar *sc = NULL;
    xai_status st = json && *json ? xai_sidecar_load_mem(json, strlen(json), side, &sc) : xai_sidecar_new(&sc);
    if (!st)
        st = xai_sidecar_set_string(sc, "Description", desc);
    for (int c = 0; c < ncols && !st; c++) {
        xai_sidecar *col = NULL;
        if (!(st = xai_sidecar_child(sc, cols[c][0], &col)))
            st = xai_sidecar_set_string(col, "Description", cols[c][1]);
        xai_sidecar_free(col);
    }
    if (!st)
        st = xai_sidecar_save(sc, side);
    xai_sidecar_free(sc);
    return st ? xai_out_fail(st, side) : XAI_OK;
}
