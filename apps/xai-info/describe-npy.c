/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * describe-npy.c - xai-info for NumPy .npy files (format 1.0, 2.0, 3.0; numpy NEP 1 and
 * numpy.lib.format). The header is parsed here, so every dtype is described (not only the
 * float32/float64 that xai_npy_load() reads): `shape`, `dtype` (numpy's dtype.name, e.g.
 * "float32", "int16", "complex64"; "structured" for record dtypes), `descr` (the header's
 * descr text, e.g. "<f4") and `fortran_order`. For real numeric dtypes (float32/64, integers,
 * bool) min/max/mean of the finite values are added, computed in double from the file.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "info.h"

#define MAX_HEADER (1u << 20)

/* Position just after key ('key' or "key") and the colon, or NULL. */
static const char *find_key(const char *h, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = h; (p = strstr(p, key)) != NULL; p += kl) {
        if (p == h || (p[-1] != '\'' && p[-1] != '"') || p[kl] != p[-1])
            continue;
        const char *q = p + kl + 1;
        while (*q == ' ')
            q++;
        if (*q == ':') {
            q++;
            while (*q == ' ')
                q++;
            return q;
        }
    }
    return NULL;
}

static const char *dtype_name(const char *d, char *buf, size_t bufn)
{
    char bo = d[0];
    if (bo == '<' || bo == '>' || bo == '|' || bo == '=')
        d++;
    char kind = d[0];
    if (!kind)
        return NULL;
    char *end;
    long size = strtol(d + 1, &end, 10);
    if (*end != '\0' || size <= 0) {
        if (kind == 'O' && d[1] == '\0')
            return "object";
        return NULL;
    }
    switch (kind) {
    case 'f': snprintf(buf, bufn, "float%ld", size * 8); break;
    case 'i': snprintf(buf, bufn, "int%ld", size * 8); break;
    case 'u': snprintf(buf, bufn, "uint%ld", size * 8); break;
    case 'c': snprintf(buf, bufn, "complex%ld", size * 8); break;
    case 'b': snprintf(buf, bufn, size == 1 ? "bool" : "b%ld", size); break;
    case 'U': snprintf(buf, bufn, "str%ld", size * 32); break;
    case 'S': snprintf(buf, bufn, "bytes%ld", size * 8); break;
    case 'V': snprintf(buf, bufn, "void%ld", size * 8); break;
    default: return NULL;
    }
    return buf;
}

static long item_size(const char *d)
{
    if (*d == '<' || *d == '>' || *d == '|' || *d == '=')
        d++;
    char *end;
    long size = strtol(d + 1, &end, 10);
    if (*end != '\0' || size <= 0)
        return -1;
    return d[0] == 'U' ? size * 4 : size;
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
static xai_status raw_stats(const char *path, int64_t offset, const char *descr, int64_t numel,
                            json_t *o)
{
    char bo = descr[0];
    const char *d = (bo == '<' || bo == '>' || bo == '|' || bo == '=') ? descr + 1 : descr;
    char kind = d[0];
    int size = atoi(d + 1);
    int ok = (kind == 'f' && (size == 4 || size == 8)) ||
             ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)) ||
             (kind == 'b' && size == 1);
    if (!ok || numel == 0)
        return XAI_OK;
    if (kind == 'b')
        kind = 'u';
    int swap = size > 1 && bo == '>'; /* host is little-endian on every platform we build for */
    {
        const uint16_t one = 1;
        unsigned char first;
        memcpy(&first, &one, 1);
        if (first == 0)
            swap = size > 1 && bo == '<';
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        return xai_error_set(XAI_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (fseeko(f, (off_t)offset, SEEK_SET) != 0) {
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

/* An NPY file's preamble and header text. */
typedef struct {
    int major, minor;
    long pre_len;      /* bytes before the header: 10 (v1) or 12 (v2, v3) */
    uint32_t hlen;
    int64_t file_size;
    char *h;           /* the header, NUL-terminated; the caller frees it */
} npy_head;

static xai_status read_head(const char *path, npy_head *hd)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return xai_error_set(XAI_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    unsigned char pre[12];
    if (fstat(fileno(f), &sb) != 0 || fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        fclose(f);
        return xai_error_set(XAI_EFORMAT, "%s: not an NPY file (bad magic or too short)", path);
    }
    hd->major = pre[6];
    hd->minor = pre[7];
    hd->file_size = (int64_t)sb.st_size;
    hd->pre_len = 10;
    if (hd->major == 1) {
        hd->hlen = (uint32_t)pre[8] | (uint32_t)pre[9] << 8;
    } else if (hd->major == 2 || hd->major == 3) {
        if (fread(pre + 10, 1, 2, f) != 2) {
            fclose(f);
            return xai_error_set(XAI_EFORMAT, "%s: truncated NPY preamble", path);
        }
        hd->hlen = (uint32_t)pre[8] | (uint32_t)pre[9] << 8 | (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
        hd->pre_len = 12;
    } else {
        fclose(f);
        return xai_error_set(XAI_EUNSUPPORTED, "%s: NPY format version %d.%d unknown", path, hd->major, hd->minor);
    }
    if (hd->hlen > MAX_HEADER || (int64_t)hd->hlen > hd->file_size - hd->pre_len) {
        fclose(f);
        return xai_error_set(XAI_EFORMAT, "%s: NPY header length %u exceeds the file", path, (unsigned)hd->hlen);
    }
    hd->h = malloc((size_t)hd->hlen + 1);
    if (!hd->h) {
        fclose(f);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    }
    size_t got = fread(hd->h, 1, hd->hlen, f);
    fclose(f);
    hd->h[got] = '\0';
    if (got != hd->hlen || memchr(hd->h, '\0', got)) {
        free(hd->h);
        return xai_error_set(XAI_EFORMAT, "%s: truncated or binary NPY header", path);
    }
    return XAI_OK;
}

/* The header's descr value at pd: a quoted dtype string (named, with its item size) or a list of
   fields (a structured dtype, kept as text, truncated to fit descr). */
static xai_status parse_descr(const char *path, const char *pd, char *descr, size_t cap, char *nbuf, size_t nbufn,
                              const char **dname, long *isz)
{
    if (*pd == '\'' || *pd == '"') {
        const char *e = strchr(pd + 1, *pd);
        if (!e || (size_t)(e - pd - 1) >= cap)
            return xai_error_set(XAI_EFORMAT, "%s: bad descr in NPY header", path);
        memcpy(descr, pd + 1, (size_t)(e - pd - 1));
        descr[e - pd - 1] = '\0';
        *dname = dtype_name(descr, nbuf, nbufn);
        *isz = item_size(descr);
        return XAI_OK;
    }
    if (*pd == '[') {
        const char *e = strchr(pd, ']');
        size_t n = e ? (size_t)(e - pd + 1) : strlen(pd);
        if (n >= cap)
            n = cap - 1;
        memcpy(descr, pd, n);
        descr[n] = '\0';
        *dname = "structured";
        return XAI_OK;
    }
    return xai_error_set(XAI_EFORMAT, "%s: bad descr in NPY header", path);
}

/* The shape tuple after ps's '(' into the JSON array; *overflow when the element count does not fit
   in int64 (the dimensions are still listed). Python 2 writers may suffix an 'L'. */
static xai_status parse_shape(const char *path, const char *ps, json_t *shape, int64_t *numel, int *overflow)
{
    int ndim = 0;
    const char *p = ps + 1;
    for (;;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == ')')
            return XAI_OK;
        if (!isdigit((unsigned char)*p))
            return xai_error_set(XAI_EFORMAT, "%s: bad shape in NPY header", path);
        errno = 0;
        char *e;
        long long v = strtoll(p, &e, 10);
        if (errno || v < 0)
            return xai_error_set(XAI_EFORMAT, "%s: bad shape in NPY header", path);
        while (*e == 'L')
            e++;
        p = e;
        if (v != 0 && *numel > INT64_MAX / v)
            *overflow = 1;
        else
            *numel *= v;
        json_array_append_new(shape, json_integer(v));
        if (++ndim > 64)
            return xai_error_set(XAI_EFORMAT, "%s: too many dimensions in NPY header", path);
    }
}

xai_status info_describe_npy(const char *path, json_t **out)
{
    npy_head hd = {0};
    xai_status st = read_head(path, &hd);
    if (st)
        return st;
    const char *pd = find_key(hd.h, "descr"), *pf = find_key(hd.h, "fortran_order");
    const char *ps = find_key(hd.h, "shape");
    if (!pd || !pf || !ps || (*pf != 'T' && *pf != 'F') || *ps != '(') {
        free(hd.h);
        return xai_error_set(XAI_EFORMAT, "%s: NPY header lacks descr, fortran_order or shape", path);
    }
    json_t *o = json_object();
    json_object_set_new(o, "format", json_string("npy"));
    json_object_set_new(o, "file", info_str(path));
    json_object_set_new(o, "version", json_sprintf("%d.%d", hd.major, hd.minor));
    char descr[128] = "", nbuf[32];
    long isz = -1;
    const char *dname = NULL;
    st = parse_descr(path, pd, descr, sizeof descr, nbuf, sizeof nbuf, &dname, &isz);
    json_t *shape = json_array();
    int64_t numel = 1;
    int overflow = 0;
    if (st == XAI_OK)
        st = parse_shape(path, ps, shape, &numel, &overflow);
    json_object_set_new(o, "shape", shape);
    json_object_set_new(o, "dtype", dname ? json_string(dname) : info_str(descr));
    json_object_set_new(o, "descr", info_str(descr));
    json_object_set_new(o, "fortran_order", json_boolean(*pf == 'T'));
    free(hd.h);
    int64_t data_bytes = hd.file_size - hd.pre_len - (int64_t)hd.hlen;
    if (st == XAI_OK && isz > 0 && (overflow || numel > data_bytes / isz))
        st = xai_error_set(XAI_EFORMAT, "%s: NPY data truncated: the header declares %s "
                           "elements, the file holds %lld bytes of data", path,
                           overflow ? "too many" : "more", (long long)data_bytes);
    if (st == XAI_OK) {
        json_object_set_new(o, "numel", json_integer(numel));
        st = raw_stats(path, hd.pre_len + (int64_t)hd.hlen, descr, numel, o);
    }
    if (st != XAI_OK) {
        json_decref(o);
        return st;
    }
    *out = o;
    return XAI_OK;
}
