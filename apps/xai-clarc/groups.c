/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * groups.c - the artefact and clean groups of xai-clarc cav: two index lists, a per-sample
 * .npy of 1 (artefact) / 0 (clean), or a cluster of xai-spray's clusters.tsv.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "groups.h"
#include "xai.h"
#include "xai/npy.h"
#include "xai/tsv.h"

static int push(int64_t **v, int64_t *n, int64_t *cap, int64_t x)
{
    if (*n == *cap) {
        int64_t nc = *cap ? *cap * 2 : 64;
        int64_t *p = realloc(*v, sizeof(int64_t) * (size_t)nc);
        if (!p)
            return -1;
        *v = p;
        *cap = nc;
    }
    (*v)[(*n)++] = x;
    return 0;
}

static int read_list(const xai_app *app, const char *path, int64_t n, int64_t **out, int64_t *cnt)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return xai_app_fail(app, path, "cannot open: %s", strerror(errno));
    int64_t cap = 0;
    int c, rc = 0;
    long long v;
    *out = NULL;
    *cnt = 0;
    while ((c = fgetc(f)) != EOF && !rc) {
        if (isspace(c) || c == ',')
            continue;
        ungetc(c, f);
        if (fscanf(f, "%lld", &v) != 1)
            rc = xai_app_fail(app, path, "entry %lld is not an integer", (long long)*cnt + 1);
        else if (v < 0 || v >= n)
            rc = xai_app_fail(app, path, "index %lld is outside 0..%lld", v, (long long)n - 1);
        else if (push(out, cnt, &cap, (int64_t)v))
            rc = xai_app_fail(app, path, "out of memory");
    }
    fclose(f);
    return rc;
}

static int from_npy(const xai_app *app, const char *path, int64_t n, int64_t **ia, int64_t *na, int64_t **ic,
                    int64_t *nc)
{
    xai_npy g;
    if (xai_npy_load(path, &g) != XAI_OK)
        return xai_app_fail(app, path, "%s", xai_last_error());
    int64_t numel = 1, ca = 0, cc = 0;
    for (int k = 0; k < g.ndim; k++)
        numel *= g.shape[k];
    int rc = numel == n ? 0 : xai_app_fail(app, path, "has %lld values for %lld samples", (long long)numel, (long long)n);
    for (int64_t i = 0; i < n && !rc; i++)
        if ((g.data[i] == 1.0f && push(ia, na, &ca, i)) || (g.data[i] == 0.0f && push(ic, nc, &cc, i)))
            rc = xai_app_fail(app, path, "out of memory");
    xai_npy_free(&g);
    return rc;
}

static int from_spray(const xai_app *app, const clarc_group_src *s, int64_t n, int64_t **ia, int64_t *na,
                      int64_t **ic, int64_t *nc)
{
    xai_tsv *t;
    if (xai_tsv_load(s->spray, 0, &t) != XAI_OK)
        return xai_app_fail(app, s->spray, "%s", xai_last_error());
    long ci = xai_tsv_find_column(t, "index"), cc = xai_tsv_find_column(t, "class"),
         ck = xai_tsv_find_column(t, "cluster");
    int rc = ci < 0 || cc < 0 || ck < 0 ? xai_app_fail(app, s->spray, "needs the columns index, class and cluster") : 0;
    int64_t capa = 0, capc = 0;
    for (size_t r = 0; r < xai_tsv_nrows(t) && !rc; r++) {
        double idx, cls, k;
        if (xai_tsv_get_number(t, r, (size_t)ci, &idx) || xai_tsv_get_number(t, r, (size_t)cc, &cls) ||
            xai_tsv_get_number(t, r, (size_t)ck, &k) || !(idx >= 0 && idx < (double)n) || idx != floor(idx))
            rc = xai_app_fail(app, s->spray, "row %zu: bad index, class or cluster (samples 0..%lld)", r + 1,
                              (long long)n - 1);
        else if ((int)cls == s->cls && (int)k == s->cluster ? push(ia, na, &capa, (int64_t)idx)
                                                             : push(ic, nc, &capc, (int64_t)idx))
            rc = xai_app_fail(app, s->spray, "out of memory");
    }
    xai_tsv_free(t);
    return rc;
}

int clarc_groups(const xai_app *app, const clarc_group_src *src, int64_t n, int64_t **ia, int64_t *na, int64_t **ic,
                 int64_t *nc)
{
    *ia = *ic = NULL;
    *na = *nc = 0;
    int kinds = (src->art || src->clean) + !!src->npy + !!src->spray;
    if (kinds != 1 || (!src->art != !src->clean))
        return xai_app_usage_error(app, "give the groups as --artefact and --clean, --groups, or --spray");
    int rc = src->npy     ? from_npy(app, src->npy, n, ia, na, ic, nc)
             : src->spray ? from_spray(app, src, n, ia, na, ic, nc)
                          : (read_list(app, src->art, n, ia, na) || read_list(app, src->clean, n, ic, nc));
    if (!rc && (*na < 2 || *nc < 2))
        rc = xai_app_fail(app, src->npy ? src->npy : src->spray ? src->spray : src->art,
                          "the groups hold %lld artefact and %lld clean samples; each needs at least 2",
                          (long long)*na, (long long)*nc);
    return rc;
}
