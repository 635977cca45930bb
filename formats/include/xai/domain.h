/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * domain.h - the shared shape of the domain layer (formats/domain/): every domain (EEG,
 * fMRI, gait, speech) loads its recordings into an xai_dataset, reports progress through
 * an xai_progress_fn, and takes the class to explain as an xai_target. Like the rest of
 * the formats library it never prints: functions return an xai_status and set the detail
 * message (xai_last_error()); the program decides what to print.
 */
#ifndef XAI_DOMAIN_H
#define XAI_DOMAIN_H

#include <stddef.h>
#include <stdint.h>

#include "xai/api.h"
#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most sample dimensions a dataset carries (channels x time, or a 3-D volume, ...). */
#define XAI_DATASET_MAX_NDIM 6

/**
 * Samples as the model expects them, with their labels and the groups used for honest
 * splits (subjects, runs, recordings). All arrays are owned by the dataset.
 */
typedef struct xai_dataset {
    int64_t n;                              /**< number of samples */
    int ndim;                                /**< dimensions of one sample */
    int64_t shape[XAI_DATASET_MAX_NDIM];     /**< shape of one sample */
    float *x;                                /**< n * prod(shape) values, sample-major */
    int *y;                                  /**< n labels in [0, nclasses) or -1; may be NULL */
    int nclasses;
    char **class_names;                      /**< nclasses names (may be NULL) */
    int *group;                              /**< n group indices in [0, ngroups); may be NULL */
    int ngroups;
    char **group_names;                      /**< ngroups names (may be NULL) */
    char *group_kind;                        /**< what a group is: "subject", "run", ... */
    char *meta;                              /**< domain record as a JSON text (may be NULL) */
} xai_dataset;

/**
 * Progress of a long task: @p done of @p total units (total < 0: unknown) finished, the
 * current @p item (a file name, may be NULL). Called from the caller's thread.
 */
typedef void (*xai_progress_fn)(void *ud, const char *task, int64_t done, int64_t total,
                                const char *item);

/** Values in one sample (the product of the shape); 0 when the shape is invalid. */
XAI_API int64_t xai_dataset_sample_size(const xai_dataset *d);

/**
 * Allocate @p n samples of @p shape (x zeroed, y and group set to -1/0), with @p nclasses
 * unnamed classes and no groups. @return XAI_OK, XAI_EINVAL or XAI_ENOMEM.
 */
XAI_API xai_status xai_dataset_alloc(xai_dataset *d, int64_t n, int ndim, const int64_t *shape,
                                     int nclasses);

/** Release everything a dataset owns and zero it (safe on a zeroed struct). */
XAI_API void xai_dataset_free(xai_dataset *d);

/**
 * @p out = the samples of @p a followed by those of @p b. The sample shapes must agree;
 * classes are matched by name (or by index when unnamed; then the counts must agree),
 * groups are merged by name (unnamed groups of @p b are numbered after those of @p a).
 * @return XAI_OK, XAI_EINVAL (shapes or classes disagree) or XAI_ENOMEM.
 */
XAI_API xai_status xai_dataset_concat(const xai_dataset *a, const xai_dataset *b, xai_dataset *out);

/**
 * @p out = the samples @p idx[0..k) of @p d in that order (repeats allowed), with the
 * classes and groups of @p d. @return XAI_OK, XAI_EINVAL (an index out of range), XAI_ENOMEM.
 */
XAI_API xai_status xai_dataset_subset(const xai_dataset *d, const int64_t *idx, int64_t k,
                                      xai_dataset *out);

/**
 * @p out = the samples whose group is (@p keep != 0) or is not (@p keep == 0) marked in
 * @p group_mask[0..ngroups): the held-out and training parts of a grouped split never
 * share a group. @return as xai_dataset_subset(); XAI_EINVAL when @p d has no groups.
 */
XAI_API xai_status xai_dataset_split_groups(const xai_dataset *d, const unsigned char *group_mask,
                                            int keep, xai_dataset *out);

/** The class explained per sample: the prediction, the true label, or a fixed class. */
typedef enum { XAI_TARGET_PRED = 0, XAI_TARGET_TRUE = 1, XAI_TARGET_CLASS = 2 } xai_target_kind;

typedef struct xai_target {
    xai_target_kind kind;
    int cls; /**< the class for XAI_TARGET_CLASS, else -1 */
} xai_target;

/** What xai_target_parse() accepts besides "pred" and class names. */
enum {
    XAI_TARGET_ALLOW_TRUE = 1u,  /**< "true": each sample's label */
    XAI_TARGET_ALLOW_INDEX = 2u, /**< a class index 0..nclasses-1 (a name wins over an index) */
};

/**
 * Parse "pred", "true" or a class (by name among @p names[0..nclasses), or by index when
 * allowed). A NULL or empty @p text is "pred". @return XAI_OK or XAI_EINVAL with a message
 * saying what is accepted.
 */
XAI_API xai_status xai_target_parse(const char *text, const char *const *names, int nclasses,
                                    unsigned allow, xai_target *t);

/** "pred", "true" or the class name (or its index as text when unnamed) into @p buf. */
XAI_API const char *xai_target_name(const xai_target *t, const char *const *names, int nclasses,
                                    char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* XAI_DOMAIN_H */
