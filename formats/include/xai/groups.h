/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * groups.h - two groups of samples (e.g. with and without an artefact, for a concept
 * activation vector) given as files: two index lists, a per-sample .npy of 1 / 0, or one
 * cluster of xai-spray's clusters.tsv against the rest. Sample indices are 0-based, < n.
 */
#ifndef XAI_GROUPS_H
#define XAI_GROUPS_H

#include <stddef.h>
#include <stdint.h>

#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The two groups; free with xai_sample_groups_free(). */
typedef struct {
    int64_t *in, *out;       /**< sample indices in the group and in the other one */
    int64_t n_in, n_out;
} xai_sample_groups;

/** Free the index arrays of @p g and zero it; NULL and zeroed structs are fine. */
XAI_API void xai_sample_groups_free(xai_sample_groups *g);

/**
 * An index list: decimal integers separated by white space or commas, each in 0..n-1, kept
 * in the order given (repeats are kept). @p name names the input in messages (may be NULL).
 * @param[out] idx  malloc'ed (free() it; NULL when the list is empty)
 * @return XAI_OK, XAI_EFORMAT (an entry that is not an integer, or outside 0..n-1),
 *         XAI_ENOMEM; XAI_EIO from the _load variant when the file cannot be read.
 */
XAI_API xai_status xai_index_list_parse(const char *text, size_t len, const char *name, int64_t n, int64_t **idx,
                                        int64_t *count);
XAI_API xai_status xai_index_list_load(const char *path, int64_t n, int64_t **idx, int64_t *count);

/**
 * A .npy of one value per sample (n values, any shape, float or integer dtype): samples
 * holding 1 are in the group, those holding 0 out of it, any other value in neither.
 * Indices ascend. @return as xai_npy_load(), and XAI_EFORMAT when it holds another count.
 */
XAI_API xai_status xai_sample_groups_npy(const void *buf, size_t len, const char *name, int64_t n,
                                         xai_sample_groups *g);
XAI_API xai_status xai_sample_groups_load_npy(const char *path, int64_t n, xai_sample_groups *g);

/**
 * xai-spray's clusters.tsv (columns index, class, cluster; others ignored): the rows of class
 * @p cls and cluster @p cluster are in the group, every other row out of it, in row order.
 * @return as xai_tsv_load(), and XAI_EFORMAT for a missing column or a row whose index is
 *         not an integer in 0..n-1 or whose class or cluster is not a number.
 */
XAI_API xai_status xai_sample_groups_spray(const void *buf, size_t len, const char *name, int cls, int cluster,
                                           int64_t n, xai_sample_groups *g);
XAI_API xai_status xai_sample_groups_load_spray(const char *path, int cls, int cluster, int64_t n,
                                                xai_sample_groups *g);

#ifdef __cplusplus
}
#endif

#endif /* XAI_GROUPS_H */
