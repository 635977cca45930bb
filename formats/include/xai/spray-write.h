/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * spray-write.h - the tables and arrays of a SpRAy run over classes (xai/spray.h), for any
 * program: ranking.tsv, eigenvalues.tsv, clusters.tsv and class-C-cluster-means.npy, each
 * with a JSON sidecar holding the caller's members (provenance, parameters) plus its
 * "Description". Files are written atomically; nothing is printed, errors name the file.
 */
#ifndef XAI_SPRAY_WRITE_H
#define XAI_SPRAY_WRITE_H

#include <stdint.h>

#include "xai/spray.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The outcome of xai_spray_by_class() with what it was run on (all borrowed). */
typedef struct {
    int nclasses;
    const int *classes;                  /**< [nclasses] the analysed labels */
    xai_spray_result *const *results;    /**< [nclasses] */
    const int *order;                    /**< [nclasses] indices into classes, most separable first */
    int64_t n;                           /**< maps in the stack */
    const int *labels;                   /**< [n] class label of each map */
} xai_spray_outcome;

/**
 * Write into @p outdir (which must exist):
 *   ranking.tsv      rank, class, n_maps, n_clusters, components, fda_score,
 *                    largest_cluster_fraction, eigengap, fda_null, fda_ratio (ranked order)
 *   eigenvalues.tsv  class, k, eigenvalue (the normalised Laplacian spectrum per class)
 *   clusters.tsv     index, class, cluster, x, y: each analysed map in stack order with its
 *                    cluster and 2-D spectral embedding
 * @param sidecar_json a JSON object text copied into each sidecar, or NULL
 */
XAI_API xai_status xai_spray_write_tables(const char *outdir, const xai_spray_outcome *o,
                                          const char *sidecar_json);

/**
 * The cluster means of one class (xai_spray_cluster_means()) as a float32 .npy at @p path,
 * shaped (K, ...) like the maps, with a sidecar that also holds "Class": @p cls.
 */
XAI_API xai_status xai_spray_write_means(const char *path, const float *means, int ndim, const int64_t *shape,
                                         int cls, const char *sidecar_json);

#ifdef __cplusplus
}
#endif

#endif /* XAI_SPRAY_WRITE_H */
