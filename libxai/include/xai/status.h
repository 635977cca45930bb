/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * status.h - error codes shared by libxai and the formats library, and the two
 * library-wide helpers: the version and the deallocator for buffers libxai returns.
 * Fallible functions return an xai_status; on failure a detail message that names
 * the file, node or field at fault is kept per thread and read with xai_last_error().
 */
#ifndef XAI_STATUS_H
#define XAI_STATUS_H

#include "xai/api.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Result of every fallible libxai call. */
typedef enum {
    XAI_OK = 0,       /**< success */
    XAI_ENOMEM,       /**< out of memory */
    XAI_EINVAL,       /**< invalid argument */
    XAI_ESHAPE,       /**< tensor shapes do not fit */
    XAI_EIO,          /**< read or write failed */
    XAI_EFORMAT,      /**< malformed file or stream */
    XAI_EUNSUPPORTED, /**< valid but not supported (operator, attribute, datatype) */
    XAI_ENUMERIC,     /**< non-finite or otherwise unusable numbers */
    XAI_EDEP,         /**< a dependency (BLAS, FFTW, nifti, sndfile, ...) failed */
    XAI_STATUS_COUNT
} xai_status;

/**
 * @return a static description of @p s; never NULL.
 */
XAI_API const char *xai_strerror(xai_status s);

/**
 * @return the detail message of the last failure on this thread (borrowed, valid until
 * the next libxai call on this thread), or "" when there is none.
 */
XAI_API const char *xai_last_error(void);

/**
 * Set the detail message and return @p s. Used by the libxai modules and the formats
 * library; applications may use it to report their own errors the same way.
 */
XAI_API xai_status xai_error_set(xai_status s, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/** Clear the detail message of this thread. */
XAI_API void xai_error_clear(void);

/**
 * Prefix the current detail message with "PREFIX: " (for example a file name) and
 * return @p s unchanged.
 */
XAI_API xai_status xai_error_prefix(xai_status s, const char *prefix);

/** @return the libxai version, "MAJOR.MINOR.PATCH" (static string). */
XAI_API const char *xai_version(void);

/** Release a buffer that a libxai function allocated and documented as "free with
 *  xai_free()" (strings, arrays). NULL is fine. */
XAI_API void xai_free(void *p);

#ifdef __cplusplus
}
#endif

#endif /* XAI_STATUS_H */
