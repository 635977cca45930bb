/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * clarc.h - Class Artifact Compensation (ClArC; Anders et al., "Finding and removing Clever
 * Hans: using explanation methods to debug and improve deep models", Information Fusion 77,
 * 2022). A concept activation vector (CAV) v, of unit length, separates the activations of
 * artefact samples from clean ones at a layer. P-ClArC projects every activation onto the
 * clean side along v, a' = a - v (v^T a - z) with z the mean clean projection; A-ClArC uses
 * z from the artefact samples and fine-tunes the later layers, so the model stops reading v.
 * The projection is written into the ONNX model as ordinary operators (Flatten, Gemm, Sub,
 * Reshape), so any ONNX runtime runs the corrected model.
 */
#ifndef XAI_CLARC_H
#define XAI_CLARC_H

#include <stddef.h>
#include <stdint.h>

#include "xai/model.h"
#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How the CAV is found. */
typedef enum {
    XAI_CAV_PATTERN = 0, /**< signal pattern: v ~ cov(a, y) = difference of the class means
                              (Haufe et al., NeuroImage 87, 2014) */
    XAI_CAV_RIDGE,       /**< ridge classifier weights (lambda by inner CV) mapped back to activations */
    XAI_CAV_SVM          /**< linear SVM (L2-regularised hinge loss, C = 1, dual coordinate descent,
                              Hsieh et al., ICML 2008) on standardised activations */
} xai_cav_method;

/** Name of the last node of an inserted projection: fine-tuning trains the nodes after it. */
#define XAI_CLARC_LAST_NODE "clarc_reshape"

/**
 * Activations of @p n stacked inputs at @p layer (a node name or a value name), inference mode.
 * @param acts [n][dim] or NULL to ask only for dim
 * @param[out] dim values per sample at the layer
 */
XAI_API xai_status xai_layer_activations(const xai_model *m, const char *layer, int64_t n, const float *x,
                                         float *acts, int64_t *dim);

/**
 * Unit CAV v[d] pointing from the clean activations towards the artefact ones (the mean
 * artefact projection exceeds the mean clean projection). Needs >= 2 samples in each group.
 */
XAI_API xai_status xai_cav_fit(xai_cav_method method, int64_t d, int64_t n_art, const float *art, int64_t n_clean,
                               const float *clean, float *v);

/**
 * Class-conditional CAV: each class's mean activation (over both groups) is subtracted
 * before the fit, so v carries what separates artefact from clean samples WITHIN a class and
 * not what separates the classes. When the artefact sits on most samples of one class, a CAV
 * of artefact against all clean samples also points along that class, and projecting it out
 * removes the class's evidence with the artefact. For the pattern method,
 * v ~ sum_c n_ac n_cc / n_c (mean_ac - mean_cc). Classes missing from one of the groups
 * carry no within-class contrast and are left out; needs >= 2 artefact and >= 2 clean samples
 * in the classes that are kept.
 * @param art_cls,clean_cls class of each row (>= 0)
 * @param[out] used n_art + n_clean flags (artefact rows first): 1 for the rows fitted; may be NULL
 */
XAI_API xai_status xai_cav_fit_within(xai_cav_method method, int64_t d, int64_t n_art, const float *art,
                                      const int *art_cls, int64_t n_clean, const float *clean, const int *clean_cls,
                                      float *v, unsigned char *used);

/** Mean of v^T a over n activation rows of length d. */
XAI_API double xai_cav_mean_projection(const float *v, int64_t d, int64_t n, const float *acts);

/**
 * Cohen's d of the projections v^T a of the two groups: (mean artefact - mean clean) over the
 * pooled standard deviation. NaN when a group is empty or there are fewer than 3 rows.
 */
XAI_API double xai_cav_separation(const float *v, int64_t d, int64_t n_art, const float *art, int64_t n_clean,
                                  const float *clean);

/**
 * How well a CAV of this method separates the groups on rows it was not fitted on: two folds,
 * a CAV fitted on one, Cohen's d of the other fold's projections, the mean over both ways.
 * With classes (both non-NULL) the CAV is fitted within classes (xai_cav_fit_within) and only
 * the held-out rows of classes that hold both groups in the fitting fold count. A criterion
 * for the layer of a CAV that never looks at test data: a large held-out d means v moves the
 * artefact samples far compared with the spread of the clean ones along it, so a projection
 * along v changes clean samples little. Rows that belong together (a sample and its
 * artefact-free twin) must share a fold, or the fit learns their content and the held-out d
 * drops: give the folds then. Needs >= 4 samples per group.
 * @param art_fold,clean_fold fold (0 or 1) of each row, or both NULL: the rows of each group
 *        and class alternately
 * @param[out] sep the held-out d (NaN on failure)
 */
XAI_API xai_status xai_cav_heldout_separation(xai_cav_method method, int64_t d, int64_t n_art, const float *art,
                                              const int *art_cls, const unsigned char *art_fold, int64_t n_clean,
                                              const float *clean, const int *clean_cls,
                                              const unsigned char *clean_fold, double *sep);

/**
 * ONNX bytes of @p m (current weights, BN nodes kept) with the projection a' = a - v (v^T a - z)
 * inserted after @p layer; the layer's consumers read a'. Refused for the model output, the
 * model input, or a model that already holds a projection.
 * @param[out] bytes malloc'ed; free() it
 */
XAI_API xai_status xai_clarc_onnx(const xai_model *m, const char *layer, const float *v, int64_t d, float z,
                                  void **bytes, size_t *len);

/**
 * A CAV file (JSON, written by xai-clarc cav, read by xai-clarc project / fine-tune and by
 * xai-train --guide rrclarc): the direction @c v at @c layer, the mean projections of the two
 * groups, and how it was found. Reading needs only layer and a non-empty v of finite numbers;
 * what the file lacks reads as NULL, -1 or NaN. Free with xai_cav_file_free().
 */
typedef struct {
    char *layer;          /**< node or value name of the layer */
    float *v;             /**< [dim] the direction */
    int64_t dim;
    double z_artefact;    /**< mean v'a of the artefact samples (NaN: absent) */
    double z_clean;       /**< mean v'a of the clean samples (NaN: absent) */
    char *tool, *model;   /**< provenance (NULL: absent) */
    char *classes;        /**< "within" (fitted within classes) or "pooled" (NULL: absent) */
    int method;           /**< xai_cav_method, -1 when absent or unknown */
    int64_t n_artefact, n_clean; /**< group sizes, -1 when absent */
    double separation_d;  /**< Cohen's d of the two groups' projections (NaN: absent) */
} xai_cav_file;

/**
 * Parse the JSON text @p text (@p len bytes, need not be NUL-terminated); @p name (may be
 * NULL) names the file in messages.
 * @return XAI_OK, XAI_EFORMAT (not JSON, no layer or v, a v entry that is not a finite
 *         number, a field of the wrong type), XAI_ENOMEM. On failure *out is zeroed.
 */
XAI_API xai_status xai_cav_file_parse(const char *text, size_t len, const char *name, xai_cav_file *out);
/** As xai_cav_file_parse() from a file; XAI_EIO when it cannot be read. */
XAI_API xai_status xai_cav_file_load(const char *path, xai_cav_file *out);
/**
 * The JSON text of @p c (fields that are absent are left out; numbers with 9 significant
 * digits, so v reads back to the same floats). Free with xai_free().
 */
XAI_API xai_status xai_cav_file_to_json(const xai_cav_file *c, char **text);
/** Free the fields of @p c and zero it; NULL and zeroed structs are fine. */
XAI_API void xai_cav_file_free(xai_cav_file *c);

#ifdef __cplusplus
}
#endif

#endif /* XAI_CLARC_H */
