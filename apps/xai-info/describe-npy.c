/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * describe-npy.c - xai-info for NumPy .npy files (format 1.0, 2.0, 3.0; numpy NEP 1 and
 * numpy.lib.format). The header, its descr's kind, item size and byte order included, is read by
 * xai_npy_read_header(), which takes every dtype (not only the float32/float64 that
 * xai_npy_load() reads) and refuses a malformed one: `shape`, `dtype` (numpy's dtype.name, e.g.
 * "float32", "int16", "complex64"; "structured" for record dtypes), `descr` (the header's
 * descr text, e.g. "<f4") and `fortran_order`. For real numeric dtypes (float32/64, integers,
 * bool) min/max/mean of the finite values are added, computed in double from the file.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "info.h"
#include "xai/npy.h"

/* numpy's dtype.name of a plain descr from the kind and size the reader found; NULL when it has
 * none (the descr's text is shown instead) */
static const char *dtype_name(const xai_npy_header *h, char *buf, size_t bufn)
{
    int n = h->itemsize;
    if (h->kind == 'O')
        return "object";
    if (n <= 0)
        return NULL;
    switch (h->kind) {
    case 'f': snprintf(buf, bufn, "float%d", n * 8); break;
    case 'i': snprintf(buf, bufn, "int%d", n * 8); break;
    case 'u': snprintf(buf, bufn, "uint%d", n * 8); break;
    case 'c': snprintf(buf, bufn, "complex%d", n * 8); break;
    case 'b': snprintf(buf, bufn, n == 1 ? "bool" : "b%d", n); break;
    case 'U': snprintf(buf, bufn, "str%d", n * 8); break;
    case 'S': snprintf(buf, bufn, "bytes%d", n * 8); break;
    case 'V': snprintf(buf, bufn, "void%d", n * 8); break;
    default: return NULL;
    }
    return buf;
}

/* Value of one element of kind @p kind and @p size bytes (already in host order). */
static double element(const unsigned char *p, char kind, int size)
{
    union { uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32;
            uint64_t u64; int64_t i64; float f; double d; } v;
    memcpy(&v, p, (size_t)size);
    switch (kind) {
    case 'f': return size == 4 ? (double)v.f : v.d;
    case 'i': return size == 1 ? v.i8 : size == 2 ? v.i16 : size == 4 ? v.i32 : (double)v.i64;
    default: return size == 1 ? v.u8 : size == 2 ? v.u16 : size == 4 ? v.u32 : (double)v.u64;
    }
}

/*
 * min/max/mean of real numeric arrays (float32/64, signed/unsigned ints, bool), read in
 * chunks straight from the file in double precision (so float64 values beyond the float32
 * range stay exact); the memory order does not matter for these statistics.
 */
static xai_status raw_stats(const char *path, const xai_npy_header *h, int64_t numel, json_t *o)
{
    char kind = h->kind;
    int size = h->itemsize;
    int ok = (kind == 'f' && (size == 4 || size == 8)) ||
             ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)) ||
             (kind == 'b' && size == 1);
    if (!ok || numel == 0)
        return XAI_OK;
    if (kind == 'b')
        kind = 'u';
    int swap = size > 1 && h->big_endian;
    {
        const uint16_t one = 1;
        unsigned char first;
        memcpy(&first, &one, 1);
        if (first == 0) /* a big-endian host swaps the little-endian data instead */
            swap = size > 1 && !h->big_endian;
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        return xai_error_set(XAI_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (fseeko(f, (off_t)h->data_offset, SEEK_SET) != 0) {
        fclose(f);
        return xai_error_set(XAI_EIO, "%s: cannot seek to the data", path);
    }
    enum { CHUNK = 1 << 16 };
    unsigned char *buf = malloc((size_t)CHUNK * (size_t)size);
    if (!buf) {
        fclose(f);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    }
    info_stats s;
    info_stats_init(&s);
    xai_status st = XAI_OK;
    for (int64_t done = 0; done < numel;) {
        size_t n = (size_t)(numel - done < CHUNK ? numel - done : CHUNK);
        if (fread(buf, (size_t)size, n, f) != n) {
            st = xai_error_set(XAI_EFORMAT, "%s: NPY data truncated", path);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            unsigned char *p = buf + i * (size_t)size;
            if (swap)
                for (int a = 0, b = size - 1; a < b; a++, b--) {
                    unsigned char t = p[a];
                    p[a] = p[b];
                    p[b] = t;
                }
            double v = element(p, kind, size);
            if (!isfinite(v)) {
                s.nonfinite++;
                continue;
            }
            if (v < s.min) s.min = v;
            if (v > s.max) s.max = v;
            s.sum += v;
            s.n++;
        }
        done += (int64_t)n;
    }
    free(buf);
    fclose(f);
    if (st == XAI_OK)
        info_stats_put(&s, o);
    return st;
}

xai_status info_describe_npy(const char *path, json_t **out)
{
    xai_npy_header hd;
    xai_status st = xai_npy_read_header(path, &hd);
    if (st)
        return st;
    json_t *o = json_object();
    json_object_set_new(o, "format", json_string("npy"));
    json_object_set_new(o, "file", info_str(path));
    json_object_set_new(o, "version", json_sprintf("%d.%d", hd.major, hd.minor));
    char nbuf[32];
    long isz = hd.itemsize;
    const char *dname = hd.structured ? "structured" : dtype_name(&hd, nbuf, sizeof nbuf);
    json_t *shape = json_array();
    int64_t numel = 1;
    int overflow = 0;
    for (int i = 0; i < hd.ndim; i++) {
        int64_t v = hd.shape[i];
        if (v != 0 && numel > INT64_MAX / v)
            overflow = 1;
        else
            numel *= v;
        json_array_append_new(shape, json_integer(v));
    }
    json_object_set_new(o, "shape", shape);
    json_object_set_new(o, "dtype", dname ? json_string(dname) : info_str(hd.descr));
    json_object_set_new(o, "descr", info_str(hd.descr));
    json_object_set_new(o, "fortran_order", json_boolean(hd.fortran_order));
    if (isz > 0 && (overflow || numel > hd.data_bytes / isz))
        st = xai_error_set(XAI_EFORMAT, "%s: NPY data truncated: the header declares %s "
                           "elements, the file holds %lld bytes of data", path,
                           overflow ? "too many" : "more", (long long)hd.data_bytes);
    if (st == XAI_OK) {
        json_object_set_new(o, "numel", json_integer(numel));
        st = raw_stats(path, &hd, numel, o);
    }
    if (st != XAI_OK) {
        json_decref(o);
        return st;
    }
    *out = o;
    return XAI_OK;
}
