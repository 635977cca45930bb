/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * spray.h - Spectral Relevance Analysis (SpRAy) over stacks of relevance maps, and the
 * Clever-Hans ranking of classes by Fisher discriminant separability of their clusters.
 * Pipeline: preprocess (sum-pool, |.|, normalise) -> symmetric kNN graph -> smallest
 * eigenpairs of the normalised Laplacian (dense GSL or own Lanczos) -> k-means (k-means++,
 * seeded, restarts; k from the eigengap) -> 2-D spectral embedding -> FDA score.
 * Refs: Lapuschkin et al. 2019, Nat. Commun. 10:1096 (SpRAy); Ng, Jordan & Weiss 2002
 * (normalised spectral clustering); von Luxburg 2007, Stat. Comput. 17:395 (eigengap);
 * Anders et al. 2022, Inf. Fusion 77:261 (Clever-Hans ranking by FDA); Hubert & Arabie
 * 1985, J. Classif. 2:193 (adjusted Rand index); Arthur & Vassilvitskii 2007 (k-means++).
 */
#ifndef XAI_SPRAY_H
#define XAI_SPRAY_H

#include <stddef.h>
#include <stdint.h>

#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XAI_SPRAY_MAX_EIG 32 /**< most eigenpairs computed */

/** Per-map normalisation after pooling. */
typedef enum {
    XAI_SPRAY_NORM_NONE = 0, /**< leave values as they are */
    XAI_SPRAY_NORM_SUM,      /**< divide by the sum of |values| */
    XAI_SPRAY_NORM_MAX       /**< divide by the largest |value| */
} xai_spray_norm;

/** Eigen-solver choice. */
typedef enum {
    XAI_SPRAY_EIG_AUTO = 0, /**< dense for n <= dense_max, Lanczos above */
    XAI_SPRAY_EIG_DENSE,    /**< GSL gsl_eigen_symmv on the dense n x n matrix */
    XAI_SPRAY_EIG_LANCZOS   /**< Lanczos with full reorthogonalisation on the sparse graph */
} xai_spray_eigsolver;

/** Options; start from xai_spray_config_init(). Defaults in brackets. */
typedef struct {
    int pool_rows, pool_cols; /**< sum-pool each rows x cols map to this size; 0 = keep [0, 0] */
    int use_abs;              /**< take |x| after pooling [1] */
    xai_spray_norm norm;      /**< [XAI_SPRAY_NORM_SUM] */
    int knn;                  /**< neighbours per node of the kNN graph [10] */
    int n_eig;                /**< eigenpairs to compute, 2..32 [32] */
    int n_clusters;           /**< clusters; 0 = chosen by the eigengap [0] */
    int min_clusters;         /**< smallest k the eigengap may choose [2] */
    int max_clusters;         /**< largest k the eigengap may choose [10] */
    int restarts;             /**< k-means restarts [10] */
    int max_iter;             /**< Lloyd iterations per restart [300] */
    uint64_t seed;            /**< k-means++ and Lanczos start seed [1] */
    xai_spray_eigsolver solver; /**< [XAI_SPRAY_EIG_AUTO] */
    int dense_max;            /**< largest n for the dense solver under AUTO [1000] */
} xai_spray_config;

/** Fill @p c with the defaults. */
XAI_API void xai_spray_config_init(xai_spray_config *c);

/**
 * A sparse symmetric matrix in compressed sparse row form (the kNN affinity).
 * Free with xai_csr_free(); all arrays are owned.
 */
typedef struct {
    int64_t n;       /**< rows = columns */
    int64_t *rowptr; /**< n + 1 offsets into col/val */
    int32_t *col;    /**< column indices, increasing within a row */
    double *val;     /**< weights */
} xai_csr;

/** Release the arrays of @p m and zero it (NULL is fine). */
XAI_API void xai_csr_free(xai_csr *m);

/** Result of one SpRAy run. Free with xai_spray_result_free(). All arrays are owned. */
typedef struct {
    int64_t n;            /**< maps */
    int n_eig;            /**< eigenpairs computed */
    double *eigenvalues;  /**< n_eig eigenvalues of L_sym = I - D^-1/2 W D^-1/2, ascending */
    float *embedding;     /**< n x n_eig: row i holds D^-1/2 u_j (i), the spectral embedding */
    int n_components;     /**< connected components of the kNN graph */
    int n_clusters;       /**< k used by k-means */
    int *labels;          /**< n cluster labels in 0..n_clusters-1, largest cluster first */
    int64_t *sizes;       /**< n_clusters cluster sizes */
    float *embedding2d;   /**< n x 2: the first two non-trivial spectral coordinates */
    double inertia;       /**< k-means objective of the best restart */
    double fda;           /**< Fisher separability J of the clusters in the embedding */
    double fda_null;      /**< J of the same pipeline with the same k on the maps with their values
                               shuffled within each map (mean of two shuffles): what k clusters
                               score when the maps share no structure */
    double fda_ratio;     /**< fda / fda_null: comparable across k (about 1: no more separable
                               than maps without shared structure); the per-class ranking uses it */
    double knn_seconds;   /**< wall time of the kNN graph */
    double eig_seconds;   /**< wall time of the eigen-solver */
    double kmeans_seconds; /**< wall time of k-means (all restarts) */
    int used_lanczos;     /**< 1 when the Lanczos solver ran */
} xai_spray_result;

/** Free @p r and everything it owns (NULL is fine). */
XAI_API void xai_spray_result_free(xai_spray_result *r);

/**
 * Preprocess @p n maps of @p rows x @p cols floats (row-major, borrowed): sum-pool to
 * cfg->pool_rows x cfg->pool_cols (bins split the axis as evenly as possible; 0 keeps the
 * axis), optional |.|, then normalise each map (all-zero maps stay zero).
 * @param[out] out malloc'ed n x (*out_rows * *out_cols) floats; the caller frees it.
 * @return XAI_OK, XAI_EINVAL (sizes, pool target larger than the map), XAI_ENOMEM,
 *         XAI_ENUMERIC (a non-finite value; the detail names the map).
 */
XAI_API xai_status xai_spray_preprocess(const float *maps, int64_t n, int rows, int cols,
                                        const xai_spray_config *cfg, float **out,
                                        int *out_rows, int *out_cols);

/**
 * Symmetric kNN graph of the rows of @p x (@p n x @p dim floats, borrowed) under Euclidean
 * distance: i and j are joined (weight 1) when either is among the @p k nearest of the
 * other. Distances come from blocked cblas_sgemm; ties go to the lower index.
 * @param[out] out the graph; free with xai_csr_free().
 * @return XAI_OK, XAI_EINVAL (k < 1 or k >= n), XAI_ENOMEM.
 */
XAI_API xai_status xai_spray_knn(const float *x, int64_t n, int64_t dim, int k, xai_csr *out);

/**
 * The @p nev smallest eigenpairs of the normalised Laplacian L = I - D^-1/2 W D^-1/2 of
 * the graph @p w (borrowed). Eigenvectors of connected components are set exactly (one
 * per component, eigenvalue 0) and the rest found in their orthogonal complement, so
 * disconnected graphs are handled by either solver. Signs: the largest |entry| is positive.
 * Lanczos (single start vector, thick restart, residual ||Lv - lv|| <= 1e-9) finds one copy
 * of an eigenvalue repeated inside one component (symmetric graphs such as rings); the
 * dense solver (n <= 8192) finds all copies.
 * @param solver XAI_SPRAY_EIG_DENSE or XAI_SPRAY_EIG_LANCZOS (AUTO picks by @p dense_max)
 * @param[out] evals @p nev eigenvalues, ascending (caller-allocated)
 * @param[out] evecs n x @p nev, column j the unit eigenvector of evals[j] (caller-allocated)
 * @param[out] ncomp number of connected components (may be NULL)
 * @return XAI_OK, XAI_EINVAL (nev out of 1..min(32, n), isolated node, bad entry, dense
 *         solver above 8192 nodes), XAI_ENOMEM, XAI_EDEP (GSL failed),
 *         XAI_ENUMERIC (Lanczos did not converge).
 */
XAI_API xai_status xai_spray_laplacian_eigs(const xai_csr *w, int nev, xai_spray_eigsolver solver,
                                            int dense_max, uint64_t seed, double *evals,
                                            double *evecs, int *ncomp);

/**
 * k-means on @p n points of @p dim doubles (row-major, borrowed): k-means++ seeding from
 * @p seed, @p restarts runs of at most @p max_iter Lloyd steps; the run with the lowest
 * inertia wins. The same seed gives the same labels on every platform.
 * @param[out] labels n labels in 0..k-1 (caller-allocated)
 * @param[out] centers k x dim centres (caller-allocated, may be NULL)
 * @param[out] inertia sum of squared distances to the centres (may be NULL)
 * @return XAI_OK, XAI_EINVAL (k out of 1..n, restarts < 1), XAI_ENOMEM.
 */
XAI_API xai_status xai_kmeans(const double *x, int64_t n, int dim, int k, int restarts,
                              int max_iter, uint64_t seed, int *labels, double *centers,
                              double *inertia);

/**
 * Fisher discriminant separability J(w) = w'S_b w / w'S_w w of the groups @p labels
 * (0..k-1) among @p n points of @p dim doubles, at the optimal w (largest generalised
 * eigenvalue of (S_b, S_w)). S_b = sum_c n_c (m_c - m)(m_c - m)', S_w = sum_c sum_i
 * (x_i - m_c)(x_i - m_c)'; S_w gets a ridge of 1e-12 * trace(S_w + S_b)/dim (+1e-300),
 * so groups collapsed to points give a large finite J (about 1e12) instead of infinity.
 * @param[out] j the score
 * @param[out] wopt the optimal direction, unit length (dim doubles, may be NULL)
 * @return XAI_OK, XAI_EINVAL (fewer than 2 non-empty groups, label out of range),
 *         XAI_ENOMEM, XAI_EDEP.
 */
XAI_API xai_status xai_fda_score(const double *x, int64_t n, int dim, const int *labels, int k,
                                 double *j, double *wopt);

/**
 * Adjusted Rand index of two labelings of @p n items (labels >= 0).
 * @return XAI_OK, XAI_EINVAL (n < 1, negative label), XAI_ENOMEM.
 */
XAI_API xai_status xai_adjusted_rand_index(const int *a, const int *b, int64_t n, double *ari);

/**
 * Run SpRAy on @p n preprocessed maps (@p dim floats each, borrowed): kNN graph,
 * eigenpairs (min(n_eig, n - 1)), k-means on the row-normalised first k eigenvectors,
 * 2-D embedding and the FDA score of the clusters on the k - 1 non-trivial spectral
 * coordinates (on k when the graph is disconnected).
 * @param[out] out the result; free with xai_spray_result_free().
 * knn is lowered to n - 1 and n_eig to n for small n.
 * @return XAI_OK, XAI_EINVAL (n < 3, bad options), XAI_ENOMEM, XAI_EDEP, XAI_ENUMERIC.
 */
XAI_API xai_status xai_spray_run(const float *x, int64_t n, int64_t dim,
                                 const xai_spray_config *cfg, xai_spray_result **out);

/**
 * SpRAy per class: run xai_spray_run() on the maps whose label is classes[c], for each of
 * @p nclasses classes, and rank the classes by fda_ratio (the FDA score over its reference for
 * the same number of clusters), highest (most suspicious) first.
 * @param labels n class labels (borrowed)
 * @param[out] results nclasses results (caller-allocated array; each entry freed by the
 *             caller with xai_spray_result_free(); entries are NULL on failure)
 * @param[out] order nclasses indices into @p classes, most separable first
 * @return as xai_spray_run(); the detail names the class.
 */
XAI_API xai_status xai_spray_by_class(const float *x, int64_t n, int64_t dim, const int *labels,
                                      const int *classes, int nclasses, const xai_spray_config *cfg,
                                      xai_spray_result **results, int *order);

/**
 * The mean map of each cluster of one class (the prototypes of its strategies): the maps whose
 * label is @p cls, in their order, are the n maps that @p r clustered (xai_spray_by_class()),
 * and cluster q's mean is the average of its members' maps, accumulated in double.
 * @param maps   n_all x dim maps (borrowed): the original maps, not the preprocessed features
 * @param labels n_all class labels (borrowed)
 * @param[out] means r->n_clusters x dim floats (caller-allocated)
 * @return XAI_OK; XAI_EINVAL (NULL, dim < 1, or the class has not r->n maps, or a cluster
 *         label outside 0..n_clusters-1).
 */
XAI_API xai_status xai_spray_cluster_means(const float *maps, int64_t n_all, int64_t dim, const int *labels, int cls,
                                           const xai_spray_result *r, float *means);

#ifdef __cplusplus
}
#endif

#endif /* XAI_SPRAY_H */
