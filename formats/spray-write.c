/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * spray-write.c - the tables and cluster means of a SpRAy run (see xai/spray-write.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table-out.h"
#include "xai/npy.h"
#include "xai/sidecar.h"
#include "xai/spray-write.h"

#define PATHLEN 4096

/* Append a row of numbers; with @p na, non-finite values are n/a (else NaN only). */
static xai_status number_row(xai_tsv *t, const double *v, size_t nv, int na)
{
    size_t row;
    xai_status st = xai_tsv_add_row(t, &row);
    for (size_t j = 0; !st && j < nv; j++)
        st = isfinite(v[j]) || !na ? xai_tsv_set_number(t, row, j, v[j]) : xai_tsv_set_na(t, row, j);
    return st;
}

static xai_status ranking(const char *path, const xai_spray_outcome *o)
{
    const char *names[] = {"rank", "class", "n_maps", "n_clusters", "components", "fda_score",
                           "largest_cluster_fraction", "eigengap", "fda_null", "fda_ratio"};
    xai_tsv *t = NULL;
    xai_status st = xai_tsv_create(10, names, NULL, &t);
    for (int a = 0; !st && a < o->nclasses; a++) {
        const xai_spray_result *s = o->results[o->order[a]];
        int k = s->n_clusters;
        double gap = k < s->n_eig ? s->eigenvalues[k] - s->eigenvalues[k - 1] : NAN;
        double v[10] = {a + 1, o->classes[o->order[a]], (double)s->n, k, s->n_components, s->fda,
                        (double)s->sizes[0] / (double)s->n, gap, s->fda_null, s->fda_ratio};
        st = number_row(t, v, 10, 1);
    }
    return xai_out_table(t, path, st);
}

static xai_status eigenvalues(const char *path, const xai_spray_outcome *o)
{
    const char *names[] = {"class", "k", "eigenvalue"};
    xai_tsv *t = NULL;
    xai_status st = xai_tsv_create(3, names, NULL, &t);
    for (int a = 0; !st && a < o->nclasses; a++)
        for (int j = 0; !st && j < o->results[a]->n_eig; j++) {
            double v[3] = {o->classes[a], j + 1, o->results[a]->eigenvalues[j]};
            st = number_row(t, v, 3, 0);
        }
    return xai_out_table(t, path, st);
}

/* one row per analysed map, in stack order */
static xai_status clusters(const char *path, const xai_spray_outcome *o)
{
    const char *names[] = {"index", "class", "cluster", "x", "y"};
    xai_tsv *t = NULL;
    int64_t *pos = calloc((size_t)o->nclasses, sizeof(int64_t));
    xai_status st = pos ? xai_tsv_create(5, names, NULL, &t) : xai_error_set(XAI_ENOMEM, "out of memory");
    for (int64_t i = 0; !st && i < o->n; i++)
        for (int a = 0; a < o->nclasses; a++) {
            if (o->labels[i] != o->classes[a])
                continue;
            const xai_spray_result *s = o->results[a];
            int64_t m = pos[a]++;
            double v[5] = {(double)i, o->classes[a], s->labels[m], s->embedding2d[2 * m], s->embedding2d[2 * m + 1]};
            st = number_row(t, v, 5, 0);
            break;
        }
    free(pos);
    return xai_out_table(t, path, st);
}

xai_status xai_spray_write_tables(const char *outdir, const xai_spray_outcome *o, const char *sidecar_json)
{
    static const char *const desc[] = {
        "classes ranked by fda_ratio (FDA score over the score of the same maps shuffled within each map, same "
        "number of clusters), most separable first",
        "normalised Laplacian spectrum per class", "cluster and 2-D spectral embedding per map"};
    static const char *const file[] = {"ranking.tsv", "eigenvalues.tsv", "clusters.tsv"};
    xai_status (*const table[])(const char *, const xai_spray_outcome *) = {ranking, eigenvalues, clusters};
    if (!outdir || !o || o->nclasses < 1 || !o->classes || !o->results || !o->order || !o->labels)
        return xai_error_set(XAI_EINVAL, "SpRAy tables: no folder or no outcome");
    if (strlen(outdir) > PATHLEN - 32)
        return xai_error_set(XAI_EINVAL, "%s: path too long", outdir);
    char path[PATHLEN];
    xai_status st = XAI_OK;
    for (int i = 0; i < 3 && !st; i++) {
        snprintf(path, sizeof path, "%s/%s", outdir, file[i]);
        if (!(st = table[i](path, o)))
            st = xai_out_sidecar(path, sidecar_json, desc[i]);
    }
    return st;
}

xai_status xai_spray_write_means(const char *path, const float *means, int ndim, const int64_t *shape, int cls,
                                 const char *sidecar_json)
{
    xai_status st = xai_npy_save(path, ndim, shape, means);
    if (st)
        return xai_out_fail(st, path);
    xai_sidecar *sc = NULL;
    char *text = NULL;
    st = sidecar_json && *sidecar_json ? xai_sidecar_load_mem(sidecar_json, strlen(sidecar_json), path, &sc)
                                       : xai_sidecar_new(&sc);
    if (!st)
        st = xai_sidecar_set_int(sc, "Class", cls);
    if (!st)
        st = xai_sidecar_to_string(sc, &text);
    xai_sidecar_free(sc);
    if (!st)
        st = xai_out_sidecar(path, text, "per-cluster mean relevance maps of the class, (K, ...) like MAPS");
    free(text);
    return st;
}
