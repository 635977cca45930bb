/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * npy.h - NumPy .npy arrays (format versions 1.0, 2.0 and 3.0).
 * Reads little- or big-endian float32 and float64 in C order and returns float32;
 * refuses Fortran order and every other dtype with a message that names the file.
 * Writes float32 C-order arrays atomically (temporary file, then rename).
 */
#ifndef XAI_NPY_H
#define XAI_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "xai/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XAI_NPY_MAX_DIMS 16

/** An array read from a .npy file. Free with xai_npy_free(). */
typedef struct {
    int ndim;                         /**< number of dimensions (0 for a scalar) */
    int64_t shape[XAI_NPY_MAX_DIMS];  /**< shape, outermost first */
    int source_dtype;                 /**< 4 for float32, 8 for float64 in the file */
    float *data;                      /**< owned, C order, prod(shape) floats */
} xai_npy;

/**
 * Read @p path into @p out (float64 is converted to float32).
 * @return XAI_OK, XAI_EIO (cannot open or short read), XAI_EFORMAT (bad magic or header),
 *         XAI_EUNSUPPORTED (Fortran order, other dtype). The detail names the file.
 */
XAI_API xai_status xai_npy_load(const char *path, xai_npy *out);

/** As xai_npy_load() from memory; @p name is used in messages (may be NULL). */
XAI_API xai_status xai_npy_load_mem(const void *buf, size_t len, const char *name, xai_npy *out);

/** Free the data of @p a and zero it; NULL and zeroed structs are fine. */
XAI_API void xai_npy_free(xai_npy *a);

/** An integer array (labels, indices) read by xai_npy_load_int(). Free with xai_npy_int_free(). */
typedef struct {
    int ndim;
    int64_t shape[XAI_NPY_MAX_DIMS];
    int64_t *data; /**< owned, C order, prod(shape) values */
} xai_npy_int;

/**
 * Read integer data exactly: bool, int8..int64 and uint8..uint64 (either byte order), and
 * float32/float64 whose every value is an integer (labels saved as floats).
 * @return as xai_npy_load(); XAI_EUNSUPPORTED also for a float that is not an integer and
 *         a uint64 beyond INT64_MAX (the detail names the element).
 */
XAI_API xai_status xai_npy_load_int(const char *path, xai_npy_int *out);
XAI_API xai_status xai_npy_load_int_mem(const void *buf, size_t len, const char *name, xai_npy_int *out);
XAI_API void xai_npy_int_free(xai_npy_int *a);

/**
 * Class labels of @p n samples, the one reader the programs share: an integer array of any
 * shape read by xai_npy_load_int() holding exactly @p n values, each in [@p lo, @p hi].
 * @param[out] labels  malloc'ed [n] (free()); NULL on error
 * @return XAI_OK; the errors of xai_npy_load_int(); XAI_EFORMAT for another count or a value
 *         outside the range (the message names the file, and the label's index and value).
 */
XAI_API xai_status xai_npy_load_labels(const char *path, int64_t n, int64_t lo, int64_t hi, int **labels);

/** What an NPY header declares, whatever the dtype and memory order (xai_npy_read_header()). */
typedef struct {
    int major, minor;                /**< format version (1.0, 2.0 or 3.0) */
    char descr[128];                 /**< the descr as written ("<f4", "|u1"); a structured dtype's
                                          field list, truncated to fit */
    int structured;                  /**< descr is a list of fields */
    char kind;                       /**< numpy's kind letter of a plain descr ('f', 'i', 'u', 'b',
                                          'c', 'U', 'S', 'V', 'O', 'M', 'm'); 0 when structured */
    int itemsize;                    /**< bytes per element the descr states ('<U10': 40); 0 when it
                                          states none ('|O') or structured */
    int big_endian;                  /**< the descr's byte order is big-endian ('>', or '=' on a
                                          big-endian host) */
    int fortran_order;               /**< 1: Fortran (column-major) order */
    int ndim;                        /**< number of dimensions (0 for a scalar) */
    int64_t shape[XAI_NPY_MAX_DIMS]; /**< shape, outermost first */
    int64_t data_offset;             /**< bytes before the data */
    int64_t data_bytes;              /**< bytes after the header (not checked against the shape) */
} xai_npy_header;

/**
 * Read and check the header of @p path without its data, for any dtype and either memory
 * order (to describe a file; loading still needs xai_npy_load() or xai_npy_load_int()).
 * A descr string must be a NumPy type string as numpy writes them ("<f4", "|S5", "<M8[ns]").
 * @return XAI_OK, XAI_EIO, XAI_EFORMAT (bad magic, malformed or truncated header, a descr
 *         that is no type string),
 *         XAI_EUNSUPPORTED (format version, more than XAI_NPY_MAX_DIMS dimensions).
 */
XAI_API xai_status xai_npy_read_header(const char *path, xai_npy_header *out);
/** As xai_npy_read_header() from memory (@p len bytes of the whole file); @p name for messages. */
XAI_API xai_status xai_npy_read_header_mem(const void *buf, size_t len, const char *name, xai_npy_header *out);

/**
 * Write a float32 C-order array to @p path atomically: the data go to a temporary file
 * in the same directory, which is renamed over @p path only when complete.
 */
XAI_API xai_status xai_npy_save(const char *path, int ndim, const int64_t *shape, const float *data);

#ifdef __cplusplus
}
#endif

#endif /* XAI_NPY_H */
