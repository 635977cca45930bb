/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sidecar.h - JSON sidecars (BIDS ".json" next to each data file, dataset_description.json)
 * built and read through jansson. Output is deterministic: keys sorted, two-space indent,
 * numbers in the shortest form that reads back exactly, written atomically.
 */
#ifndef XAI_SIDECAR_H
#define XAI_SIDECAR_H

#include <stddef.h>
#include <stdint.h>

#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A JSON object being built or read; opaque. A handle returned by xai_sidecar_new() or a
 * loader owns its object; a handle returned by xai_sidecar_child() or
 * xai_sidecar_append_object() refers to an object nested inside another one (edits through
 * it change the parent). Every handle is released with xai_sidecar_free(), in any order.
 */
typedef struct xai_sidecar xai_sidecar;

/** Make an empty object. @param[out] out new handle (xai_sidecar_free()). */
XAI_API xai_status xai_sidecar_new(xai_sidecar **out);

/** Release a handle (NULL is fine). */
XAI_API void xai_sidecar_free(xai_sidecar *sc);

/**
 * Read a JSON object from @p path.
 * @return XAI_OK, XAI_EIO, XAI_EFORMAT (bad JSON with line/column, or not an object),
 *         XAI_ENOMEM. The detail names the file.
 */
XAI_API xai_status xai_sidecar_load(const char *path, xai_sidecar **out);

/** As xai_sidecar_load() from memory; @p name is used in messages (may be NULL). */
XAI_API xai_status xai_sidecar_load_mem(const void *buf, size_t len, const char *name,
                                        xai_sidecar **out);

/** Write atomically to @p path: sorted keys, two-space indent, final newline. */
XAI_API xai_status xai_sidecar_save(const xai_sidecar *sc, const char *path);

/** Serialise as xai_sidecar_save() would. @param[out] text malloc'ed, caller frees. */
XAI_API xai_status xai_sidecar_to_string(const xai_sidecar *sc, char **text);

/* Setters replace any existing value of @p key. Keys and strings must be valid UTF-8.
 * They return XAI_OK, XAI_EINVAL (NULL handle or key, invalid UTF-8, non-finite number)
 * or XAI_ENOMEM. */

XAI_API xai_status xai_sidecar_set_string(xai_sidecar *sc, const char *key, const char *value);
/** Integral values with |v| < 2^53 are stored as JSON integers ("160", not "160.0"). */
XAI_API xai_status xai_sidecar_set_number(xai_sidecar *sc, const char *key, double value);
XAI_API xai_status xai_sidecar_set_int(xai_sidecar *sc, const char *key, int64_t value);
XAI_API xai_status xai_sidecar_set_bool(xai_sidecar *sc, const char *key, int value);
XAI_API xai_status xai_sidecar_set_null(xai_sidecar *sc, const char *key);
XAI_API xai_status xai_sidecar_set_number_array(xai_sidecar *sc, const char *key,
                                                const double *values, size_t n);
XAI_API xai_status xai_sidecar_set_string_array(xai_sidecar *sc, const char *key,
                                                const char *const *values, size_t n);
/** Append @p value to the array @p key (created when missing; XAI_EINVAL if not an array). */
XAI_API xai_status xai_sidecar_append_string(xai_sidecar *sc, const char *key, const char *value);

/** Parse @p json (any JSON value) and store it under @p key. XAI_EFORMAT if it is not JSON. */
XAI_API xai_status xai_sidecar_set_json(xai_sidecar *sc, const char *key, const char *json);

/**
 * The object under @p key, created empty when missing.
 * @param[out] child a new handle on the nested object (xai_sidecar_free()).
 * @return XAI_OK, XAI_EINVAL (the key holds something other than an object), XAI_ENOMEM
 */
XAI_API xai_status xai_sidecar_child(xai_sidecar *sc, const char *key, xai_sidecar **child);

/**
 * Append a new empty object to the array @p key (created when missing), e.g. one
 * "GeneratedBy" entry. @param[out] child a new handle on it (xai_sidecar_free()).
 */
XAI_API xai_status xai_sidecar_append_object(xai_sidecar *sc, const char *key,
                                             xai_sidecar **child);

/** Remove @p key; XAI_OK also when it was absent. */
XAI_API xai_status xai_sidecar_remove(xai_sidecar *sc, const char *key);

/* Getters return XAI_OK, or XAI_EINVAL when the key is missing or has another type
 * (the detail names the key and, for loaded sidecars, the file). */

/** 1 when @p key is present. */
XAI_API int xai_sidecar_has(const xai_sidecar *sc, const char *key);
/** @param[out] value borrowed, valid while @p sc holds the key. */
XAI_API xai_status xai_sidecar_get_string(const xai_sidecar *sc, const char *key, const char **value);
/** Accepts JSON integers and reals. */
XAI_API xai_status xai_sidecar_get_number(const xai_sidecar *sc, const char *key, double *value);
XAI_API xai_status xai_sidecar_get_bool(const xai_sidecar *sc, const char *key, int *value);
/**
 * A numeric array. @param[out] values malloc'ed (caller frees; NULL when @p n is 0).
 * @param[out] n element count
 */
XAI_API xai_status xai_sidecar_get_number_array(const xai_sidecar *sc, const char *key,
                                                double **values, size_t *n);
/** Number of elements of the array @p key. */
XAI_API xai_status xai_sidecar_get_array_size(const xai_sidecar *sc, const char *key, size_t *n);
/** Element @p i of the array @p key as a string (borrowed). */
XAI_API xai_status xai_sidecar_get_string_at(const xai_sidecar *sc, const char *key, size_t i,
                                             const char **value);
/**
 * The nested object @p key, or element @p i of the array @p key when @p key names an array.
 * @param[out] child a new handle (xai_sidecar_free()).
 */
XAI_API xai_status xai_sidecar_get_child(const xai_sidecar *sc, const char *key, size_t i,
                                         xai_sidecar **child);

#ifdef __cplusplus
}
#endif

#endif /* XAI_SIDECAR_H */
