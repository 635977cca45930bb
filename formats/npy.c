/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * npy.c - NumPy .npy reader and float32 writer.
 * Spec: NEP 1 / numpy.lib.format ("A Simple File Format for NumPy Arrays"):
 * magic "\x93NUMPY", major, minor; then a little-endian header length (uint16 for 1.0,
 * uint32 for 2.0 and 3.0); then a Python dict literal with exactly the keys 'descr',
 * 'fortran_order' and 'shape' (latin-1, or UTF-8 for 3.0) padded with spaces and a
 * final '\n'; then the raw array data. We parse that literal ourselves (no eval) and
 * check every size against the real data length before allocating.
 */
#include "xai/npy.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file-util.h"
#include "xai/atomic.h"

#define MAGIC "\x93NUMPY"
#define MAGIC_LEN 6
#define PREAMBLE_MAX 12 /* magic + version + 4-byte header length */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_LITTLE 1
#else
#define HOST_LITTLE 0
#endif

/* What the header says about the data. */
typedef struct {
    int ndim;
    int64_t shape[XAI_NPY_MAX_DIMS];
    int itemsize;   /* 1, 2, 4 or 8 */
    int big;        /* big-endian data */
    char kind;      /* 'f' float, 'i' signed, 'u' unsigned integer, 'b' bool */
    char descr[16]; /* as written, for messages */
    size_t count;   /* number of elements */
    char text[128]; /* READ_ANY: the descr as written, a structured dtype's field list truncated */
    int structured; /* READ_ANY: descr is a list of fields */
} npy_desc;

/* Which dtypes a header may declare: floats (xai_npy_load), also integers and bools
 * (xai_npy_load_int), or any dtype and Fortran order (xai_npy_read_header, which only
 * describes the array). */
enum { READ_FLOAT, READ_INT, READ_ANY };

/* A cursor over the header text. */
typedef struct {
    const char *p, *end;
    const char *name;
} cursor;

static const char *dname(const char *name)
{
    return name && *name ? name : "<memory>";
}

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int accept(cursor *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted Python string (no escapes are needed for the values we accept). */
static int parse_string(cursor *c, char *out, size_t cap)
{
    char q;
    size_t n = 0;
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return 0;
    q = *c->p++;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || *c->p == '\n')
            return 0;
        if (n + 1 < cap)
            out[n] = *c->p;
        n++;
        c->p++;
    }
    if (c->p >= c->end)
        return 0;
    c->p++;
    if (n + 1 > cap)
        n = cap - 1; /* truncated: callers compare against short literals, so it cannot match */
    out[n] = '\0';
    return 1;
}

static int match_word(cursor *c, const char *w)
{
    size_t n = strlen(w);
    skip_ws(c);
    if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
        const char *after = c->p + n;
        if (after < c->end && ((*after >= 'a' && *after <= 'z') || (*after >= 'A' && *after <= 'Z') ||
                               (*after >= '0' && *after <= '9') || *after == '_'))
            return 0;
        c->p = after;
        return 1;
    }
    return 0;
}

static xai_status parse_shape(cursor *c, npy_desc *d)
{
    int n = 0, commas = 0;
    if (!accept(c, '('))
        return xai_error_set(XAI_EFORMAT, "%s: bad header: 'shape' is not a tuple", c->name);
    for (;;) {
        int64_t v = 0;
        int digits = 0;
        if (accept(c, ')'))
            break;
        skip_ws(c);
        if (c->p < c->end && *c->p == '-')
            return xai_error_set(XAI_EFORMAT, "%s: bad header: negative dimension in 'shape'",
                                 c->name);
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            int dig = *c->p - '0';
            if (v > (INT64_MAX - dig) / 10)
                return xai_error_set(XAI_EFORMAT, "%s: bad header: dimension too large in 'shape'",
                                     c->name);
            v = v * 10 + dig;
            digits++;
            c->p++;
        }
        if (!digits)
            return xai_error_set(XAI_EFORMAT, "%s: bad header: 'shape' holds a non-integer",
                                 c->name);
        if (c->p < c->end && (*c->p == 'L' || *c->p == 'l'))
            c->p++; /* Python 2 long literal, written by old NumPy versions */
        if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E' || *c->p == 'j'))
            return xai_error_set(XAI_EFORMAT, "%s: bad header: 'shape' holds a non-integer",
                                 c->name);
        if (n >= XAI_NPY_MAX_DIMS)
            return xai_error_set(XAI_EUNSUPPORTED, "%s: more than %d dimensions", c->name,
                                 XAI_NPY_MAX_DIMS);
        d->shape[n++] = v;
        if (accept(c, ',')) {
            commas++;
            continue;
        }
        if (accept(c, ')'))
            break;
        return xai_error_set(XAI_EFORMAT, "%s: bad header: malformed 'shape' tuple", c->name);
    }
    /* "(3)" is an int in Python, not a tuple; NumPy refuses it too. */
    if (n == 1 && commas == 0)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: 'shape' (%lld) is not a tuple",
                             c->name, (long long)d->shape[0]);
    d->ndim = n;
    return XAI_OK;
}

static xai_status parse_descr(cursor *c, npy_desc *d)
{
    char s[64];
    skip_ws(c);
    if (c->p < c->end && (*c->p == '[' || *c->p == '('))
        return xai_error_set(XAI_EUNSUPPORTED,
                             "%s: structured dtype is not supported (need float32 or float64)",
                             c->name);
    if (!parse_string(c, s, sizeof s))
        return xai_error_set(XAI_EFORMAT, "%s: bad header: 'descr' is not a string", c->name);
    if ((s[0] == '<' || s[0] == '>') && s[1] == 'f' && (s[2] == '4' || s[2] == '8') && !s[3]) {
        d->big = s[0] == '>';
        d->itemsize = s[2] - '0';
        d->kind = 'f';
        return XAI_OK;
    }
    /* integers and bools: only xai_npy_load_int() takes them (checked by the caller) */
    int order = s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=';
    if (order && (s[1] == 'i' || s[1] == 'u' || s[1] == 'b') &&
        (s[2] == '1' || s[2] == '2' || s[2] == '4' || s[2] == '8') && !s[3] && (s[1] != 'b' || s[2] == '1')) {
        d->big = s[0] == '>';
        d->itemsize = s[2] - '0';
        d->kind = s[1];
        memcpy(d->descr, s, 4); /* three characters and the NUL */
        return XAI_OK;
    }
    return xai_error_set(XAI_EUNSUPPORTED,
                         "%s: dtype '%s' is not supported (need '<f4', '>f4', '<f8' or '>f8')",
                         c->name, s);
}

/* what the header dict has given so far; an unsupported dtype is kept to be reported only
 * after the header is known to be well formed */
typedef struct {
    int have_descr, have_fortran, have_shape, fortran;
    xai_status dtype_st;
    char dtype_msg[512];
} header_keys;

/* after an unsupported 'descr': skip its value, a string (already consumed by parse_descr)
 * or a bracketed list */
static xai_status skip_descr(cursor *c, const char *name)
{
    skip_ws(c);
    if (c->p < c->end && *c->p != '[' && *c->p != '(')
        return XAI_OK;
    int depth = 0;
    for (; c->p < c->end; c->p++) {
        if (*c->p == '[' || *c->p == '(')
            depth++;
        else if ((*c->p == ']' || *c->p == ')') && --depth == 0) {
            c->p++;
            break;
        }
    }
    if (depth != 0)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: unbalanced 'descr'", name);
    return XAI_OK;
}

/* READ_ANY: the kind, item size and byte order of a plain descr as numpy writes one (dtype.str:
 * "<f4", "|u1", "<U10", "|O", "<M8[ns]"): an optional byte order, a letter, the size in decimal
 * digits (none: unknown, 0), a unit in brackets for datetime64 and timedelta64. The one reading
 * of this grammar; a descr string outside it is a malformed header. */
static xai_status descr_kind(const char *name, npy_desc *d)
{
    const char *s = d->text, *p;
    d->big = *s == '>' || (*s == '=' && !HOST_LITTLE);
    if (*s && strchr("<>|=", *s))
        s++;
    int letter = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z');
    long size = 0;
    for (p = s + letter; letter && *p >= '0' && *p <= '9' && size <= INT_MAX / 40; p++)
        size = size * 10 + (*p - '0');
    if (letter && (*s == 'm' || *s == 'M') && *p == '[') {
        const char *u = p + 1;
        while ((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') || (*u >= '0' && *u <= '9'))
            u++;
        if (u > p + 1 && *u == ']')
            p = u + 1;
    }
    /* the bound keeps the size in bytes and in bits (numpy's dtype names) within an int */
    if (!letter || *p || size > INT_MAX / 40)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: 'descr' '%s' is not a NumPy type string", name, d->text);
    d->kind = *s;
    d->itemsize = (int)(*s == 'U' ? 4 * size : size); /* numpy stores 4 bytes per character */
    return XAI_OK;
}

/* READ_ANY: the descr's text, a quoted dtype or a (balanced) list of fields */
static xai_status descr_text(cursor *c, const char *name, npy_desc *d)
{
    skip_ws(c);
    if (c->p < c->end && (*c->p == '[' || *c->p == '(')) {
        const char *from = c->p;
        xai_status st = skip_descr(c, name);
        size_t n = (size_t)(c->p - from) < sizeof d->text ? (size_t)(c->p - from) : sizeof d->text - 1;
        memcpy(d->text, from, n);
        d->text[n] = '\0';
        d->structured = 1;
        return st;
    }
    if (!parse_string(c, d->text, sizeof d->text))
        return xai_error_set(XAI_EFORMAT, "%s: bad header: 'descr' is not a string", name);
    return descr_kind(name, d);
}

static xai_status header_descr(cursor *c, const char *name, npy_desc *d, int mode, header_keys *hk)
{
    hk->have_descr = 1;
    if (mode == READ_ANY)
        return descr_text(c, name, d);
    xai_status st = parse_descr(c, d);
    if (st == XAI_OK && d->kind != 'f' && mode != READ_INT)
        st = xai_error_set(XAI_EUNSUPPORTED, "%s: dtype '%s' is not supported (need '<f4', '>f4', '<f8' or '>f8')",
                           name, d->descr);
    if (st != XAI_EUNSUPPORTED)
        return st;
    hk->dtype_st = st;
    snprintf(hk->dtype_msg, sizeof hk->dtype_msg, "%s", xai_last_error());
    return skip_descr(c, name);
}

/* the value of one key of the header dict; each of the three keys once, no other */
static xai_status header_value(cursor *c, const char *name, const char *key, npy_desc *d, int mode,
                               header_keys *hk)
{
    if (strcmp(key, "descr") == 0 && !hk->have_descr)
        return header_descr(c, name, d, mode, hk);
    if (strcmp(key, "fortran_order") == 0 && !hk->have_fortran) {
        hk->have_fortran = 1;
        if (match_word(c, "True"))
            hk->fortran = 1;
        else if (match_word(c, "False"))
            hk->fortran = 0;
        else
            return xai_error_set(XAI_EFORMAT, "%s: bad header: 'fortran_order' is not True or False", name);
        return XAI_OK;
    }
    if (strcmp(key, "shape") == 0 && !hk->have_shape) {
        hk->have_shape = 1;
        return parse_shape(c, d);
    }
    if (strcmp(key, "descr") == 0 || strcmp(key, "fortran_order") == 0 || strcmp(key, "shape") == 0)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: duplicate key '%s'", name, key);
    return xai_error_set(XAI_EFORMAT, "%s: bad header: unexpected key '%s'", name, key);
}

/* Parse the header dict literal; sets every field of d except count. */
static xai_status parse_header(const char *name, const char *h, size_t n, npy_desc *d, int mode, int *fortran)
{
    cursor c = {h, h + n, name};
    header_keys hk = {0};
    xai_status st;

    memset(d, 0, sizeof *d);
    if (!accept(&c, '{'))
        return xai_error_set(XAI_EFORMAT, "%s: bad header: not a dict literal", name);
    for (;;) {
        char key[32];
        if (accept(&c, '}'))
            break;
        if (!parse_string(&c, key, sizeof key))
            return xai_error_set(XAI_EFORMAT, "%s: bad header: expected a quoted key", name);
        if (!accept(&c, ':'))
            return xai_error_set(XAI_EFORMAT, "%s: bad header: expected ':' after '%s'", name, key);
        if ((st = header_value(&c, name, key, d, mode, &hk)) != XAI_OK)
            return st;
        if (accept(&c, ','))
            continue;
        if (accept(&c, '}'))
            break;
        return xai_error_set(XAI_EFORMAT, "%s: bad header: expected ',' or '}'", name);
    }
    skip_ws(&c);
    if (c.p != c.end)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: trailing bytes after the dict", name);
    if (!hk.have_descr || !hk.have_fortran || !hk.have_shape)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: missing key '%s'", name,
                             !hk.have_descr ? "descr" : !hk.have_fortran ? "fortran_order" : "shape");
    if (hk.dtype_st != XAI_OK)
        return xai_error_set(hk.dtype_st, "%s", hk.dtype_msg);
    if (fortran)
        *fortran = hk.fortran;
    if (hk.fortran && mode != READ_ANY)
        return xai_error_set(XAI_EUNSUPPORTED,
                             "%s: Fortran-order arrays are not supported (save with C order)", name);
    return XAI_OK;
}

/*
 * Check magic and version in the first bytes (avail = bytes of the whole input) and
 * return where the header text starts and how long it is.
 */
static xai_status parse_preamble(const char *name, const unsigned char *p, size_t got,
                                 uint64_t total, size_t *hstart, size_t *hlen)
{
    uint64_t len;
    if (got < MAGIC_LEN || memcmp(p, MAGIC, MAGIC_LEN) != 0)
        return xai_error_set(XAI_EFORMAT, "%s: not a .npy file (bad magic)", name);
    if (got < 8)
        return xai_error_set(XAI_EFORMAT, "%s: truncated header", name);
    if (p[6] == 1) {
        if (got < 10)
            return xai_error_set(XAI_EFORMAT, "%s: truncated header", name);
        len = (uint64_t)p[8] | (uint64_t)p[9] << 8;
        *hstart = 10;
    } else if (p[6] == 2 || p[6] == 3) {
        if (got < 12)
            return xai_error_set(XAI_EFORMAT, "%s: truncated header", name);
        len = (uint64_t)p[8] | (uint64_t)p[9] << 8 | (uint64_t)p[10] << 16 | (uint64_t)p[11] << 24;
        *hstart = 12;
    } else {
        return xai_error_set(XAI_EUNSUPPORTED, "%s: .npy format version %u.%u is not supported",
                             name, p[6], p[7]);
    }
    if (p[7] != 0)
        return xai_error_set(XAI_EUNSUPPORTED, "%s: .npy format version %u.%u is not supported",
                             name, p[6], p[7]);
    if (len > total - *hstart)
        return xai_error_set(XAI_EFORMAT,
                             "%s: truncated header (header length %llu, only %llu bytes follow)",
                             name, (unsigned long long)len,
                             (unsigned long long)(total - *hstart));
    *hlen = (size_t)len;
    return XAI_OK;
}

/* Element count from the shape, checked against the bytes that follow the header. */
static xai_status check_size(const char *name, npy_desc *d, uint64_t data_len)
{
    uint64_t count = 1, need, item = (uint64_t)(d->itemsize > 0 ? d->itemsize : 1);
    int zero = 0;
    /* the nonzero dimensions are bounded even when another one is 0 (as numpy does), so that
       any product of the dimensions a reader forms, in any order, stays within int64 */
    for (int i = 0; i < d->ndim; i++) {
        uint64_t v = (uint64_t)d->shape[i];
        zero |= v == 0;
        if (v && (count > (uint64_t)INT64_MAX / v || count * v > (uint64_t)INT64_MAX / item))
            return xai_error_set(XAI_EFORMAT, "%s: bad header: shape is too large", name);
        count *= v ? v : 1;
    }
    if (zero) {
        d->count = 0;
        return XAI_OK;
    }
    need = count * (uint64_t)d->itemsize;
    if (need > data_len)
        return xai_error_set(XAI_EFORMAT,
                             "%s: truncated data (shape needs %llu bytes, file has %llu)", name,
                             (unsigned long long)need, (unsigned long long)data_len);
    if (count > SIZE_MAX / sizeof(float))
        return xai_error_set(XAI_ENOMEM, "%s: array too large for this machine", name);
    d->count = (size_t)count;
    return XAI_OK;
}

static xai_status check_header_text(const char *name, const unsigned char *h, size_t n)
{
    /* 1.0/2.0 are latin-1 and 3.0 is UTF-8; the keys and values we accept are ASCII, so a
     * NUL or other control byte can only mean a damaged header. */
    for (size_t i = 0; i < n; i++)
        if (h[i] == 0 || (h[i] < 0x20 && h[i] != '\n' && h[i] != '\r' && h[i] != '\t'))
            return xai_error_set(XAI_EFORMAT, "%s: bad header: control byte 0x%02x in header",
                                 name, h[i]);
    return XAI_OK;
}

static void convert(const unsigned char *src, float *dst, size_t n, const npy_desc *d)
{
    if (d->itemsize == 4) {
        if (!d->big && HOST_LITTLE) {
            memcpy(dst, src, n * 4);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            const unsigned char *b = src + 4 * i;
            uint32_t u = d->big ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                                      (uint32_t)b[2] << 8 | b[3]
                                : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 |
                                      (uint32_t)b[1] << 8 | b[0];
            float f;
            memcpy(&f, &u, 4);
            dst[i] = f;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            const unsigned char *b = src + 8 * i;
            uint64_t u = 0;
            double x;
            for (int k = 0; k < 8; k++)
                u = u << 8 | b[d->big ? k : 7 - k];
            memcpy(&x, &u, 8);
            dst[i] = (float)x;
        }
    }
}

static xai_status alloc_out(const char *name, const npy_desc *d, xai_npy *out)
{
    out->data = malloc(d->count ? d->count * sizeof(float) : sizeof(float));
    if (!out->data)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory for %zu values", name, d->count);
    out->ndim = d->ndim;
    memcpy(out->shape, d->shape, sizeof d->shape);
    out->source_dtype = d->itemsize;
    return XAI_OK;
}

xai_status xai_npy_load_mem(const void *buf, size_t len, const char *name, xai_npy *out)
{
    const unsigned char *p = buf;
    size_t hstart, hlen;
    npy_desc d;
    xai_status st;

    name = dname(name);
    if (!out)
        return xai_error_set(XAI_EINVAL, "%s: NULL output", name);
    memset(out, 0, sizeof *out);
    if (!buf && len)
        return xai_error_set(XAI_EINVAL, "%s: NULL buffer", name);
    st = parse_preamble(name, p, len, len, &hstart, &hlen);
    if (st != XAI_OK)
        return st;
    st = check_header_text(name, p + hstart, hlen);
    if (st != XAI_OK)
        return st;
    st = parse_header(name, (const char *)p + hstart, hlen, &d, READ_FLOAT, NULL);
    if (st != XAI_OK)
        return st;
    st = check_size(name, &d, len - hstart - hlen);
    if (st != XAI_OK)
        return st;
    st = alloc_out(name, &d, out);
    if (st != XAI_OK)
        return st;
    convert(p + hstart + hlen, out->data, d.count, &d);
    return XAI_OK;
}

/* The header text of the open file @p f (@p fsize bytes): *hdr (malloc'ed, not terminated; the
 * caller frees it, also on failure), its offset and length, and the preamble's bytes into
 * @p pre_out (PREAMBLE_MAX; may be NULL); the file is left at the data. */
static xai_status read_header_text(const char *path, FILE *f, uint64_t fsize, unsigned char **hdr, size_t *hstart,
                                   size_t *hlen, unsigned char *pre_out)
{
    unsigned char pre[PREAMBLE_MAX];
    size_t got = fread(pre, 1, sizeof pre, f);
    *hdr = NULL;
    xai_status st = parse_preamble(path, pre, got, fsize, hstart, hlen);
    if (st != XAI_OK)
        return st;
    if (pre_out)
        memcpy(pre_out, pre, got);
    /* hlen <= file size (checked), so this allocation is bounded by the real file. */
    *hdr = malloc(*hlen ? *hlen : 1);
    if (!*hdr)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory for the header", path);
    if (fseek(f, (long)*hstart, SEEK_SET) != 0 || fread(*hdr, 1, *hlen, f) != *hlen)
        return xai_error_set(XAI_EIO, "%s: short read in the header", path);
    return check_header_text(path, *hdr, *hlen);
}

xai_status xai_npy_load(const char *path, xai_npy *out)
{
    unsigned char *hdr = NULL;
    size_t hstart, hlen;
    uint64_t fsize;
    npy_desc d;
    xai_status st;
    FILE *f;

    if (!out)
        return xai_error_set(XAI_EINVAL, "xai_npy_load: NULL output");
    memset(out, 0, sizeof *out);
    if (!path)
        return xai_error_set(XAI_EINVAL, "xai_npy_load: NULL path");
    st = xai_file_open_regular(path, &f, &fsize);
    if (st != XAI_OK)
        return st;
    st = read_header_text(path, f, fsize, &hdr, &hstart, &hlen, NULL);
    if (st != XAI_OK)
        goto done;
    st = parse_header(path, (const char *)hdr, hlen, &d, READ_FLOAT, NULL);
    if (st != XAI_OK)
        goto done;
    st = check_size(path, &d, fsize - hstart - hlen);
    if (st != XAI_OK)
        goto done;
    st = alloc_out(path, &d, out);
    if (st != XAI_OK)
        goto done;
    if (d.itemsize == 4 && !d.big && HOST_LITTLE) {
        if (fread(out->data, 4, d.count, f) != d.count)
            st = xai_error_set(XAI_EIO, "%s: short read in the data", path);
    } else {
        unsigned char chunk[1 << 15];
        size_t per = sizeof chunk / (size_t)d.itemsize, done_n = 0;
        while (done_n < d.count) {
            size_t n = d.count - done_n < per ? d.count - done_n : per;
            if (fread(chunk, (size_t)d.itemsize, n, f) != n) {
                st = xai_error_set(XAI_EIO, "%s: short read in the data", path);
                break;
            }
            convert(chunk, out->data + done_n, n, &d);
            done_n += n;
        }
    }
    if (st != XAI_OK)
        xai_npy_free(out);
done:
    free(hdr);
    fclose(f);
    return st;
}

/* Element @p i of raw data as an exact integer; XAI_EUNSUPPORTED for a float that is not an
 * integer (or beyond 2^53) and an unsigned value beyond INT64_MAX. */
static xai_status int_at(const unsigned char *src, size_t i, const npy_desc *d, const char *name, int64_t *v)
{
    const unsigned char *b = src + (size_t)d->itemsize * i;
    uint64_t u = 0;
    for (int k = 0; k < d->itemsize; k++)
        u = u << 8 | b[d->big ? k : d->itemsize - 1 - k];
    if (d->kind == 'f') {
        double x;
        if (d->itemsize == 4) {
            uint32_t w = (uint32_t)u;
            float f;
            memcpy(&f, &w, 4);
            x = f;
        } else {
            memcpy(&x, &u, 8);
        }
        if (!(fabs(x) <= 9007199254740992.0) || x != floor(x))
            return xai_error_set(XAI_EUNSUPPORTED, "%s: element %zu is %g, not an integer", name, i, x);
        *v = (int64_t)x;
    } else if (d->kind == 'i') {
        int shift = 64 - 8 * d->itemsize; /* sign-extend */
        *v = shift ? (int64_t)(u << shift) >> shift : (int64_t)u;
    } else {
        if (u > (uint64_t)INT64_MAX)
            return xai_error_set(XAI_EUNSUPPORTED, "%s: element %zu exceeds the int64 range", name, i);
        *v = (int64_t)u;
    }
    return XAI_OK;
}

xai_status xai_npy_load_int_mem(const void *buf, size_t len, const char *name, xai_npy_int *out)
{
    const unsigned char *p = buf;
    size_t hstart, hlen;
    npy_desc d;
    name = dname(name);
    if (!out)
        return xai_error_set(XAI_EINVAL, "%s: NULL output", name);
    memset(out, 0, sizeof *out);
    if (!buf && len)
        return xai_error_set(XAI_EINVAL, "%s: NULL buffer", name);
    xai_status st = parse_preamble(name, p, len, len, &hstart, &hlen);
    if (st == XAI_OK)
        st = check_header_text(name, p + hstart, hlen);
    if (st == XAI_OK)
        st = parse_header(name, (const char *)p + hstart, hlen, &d, READ_INT, NULL);
    if (st == XAI_OK)
        st = check_size(name, &d, len - hstart - hlen);
    if (st != XAI_OK)
        return st;
    out->data = malloc(d.count ? d.count * sizeof(int64_t) : sizeof(int64_t));
    if (!out->data)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory for %zu values", name, d.count);
    out->ndim = d.ndim;
    memcpy(out->shape, d.shape, sizeof d.shape);
    for (size_t i = 0; i < d.count && st == XAI_OK; i++)
        st = int_at(p + hstart + hlen, i, &d, name, &out->data[i]);
    if (st != XAI_OK)
        xai_npy_int_free(out);
    return st;
}

xai_status xai_npy_load_int(const char *path, xai_npy_int *out)
{
    FILE *f;
    uint64_t fsize;
    if (!out || !path)
        return xai_error_set(XAI_EINVAL, "xai_npy_load_int: NULL argument");
    memset(out, 0, sizeof *out);
    xai_status st = xai_file_open_regular(path, &f, &fsize);
    if (st != XAI_OK)
        return st;
    unsigned char *buf = fsize < SIZE_MAX ? malloc(fsize ? (size_t)fsize : 1) : NULL;
    if (!buf)
        st = xai_error_set(XAI_ENOMEM, "%s: out of memory for %llu bytes", path, (unsigned long long)fsize);
    else if (fread(buf, 1, (size_t)fsize, f) != (size_t)fsize)
        st = xai_error_set(XAI_EIO, "%s: short read", path);
    fclose(f);
    if (st == XAI_OK)
        st = xai_npy_load_int_mem(buf, (size_t)fsize, path, out);
    free(buf);
    return st;
}

void xai_npy_int_free(xai_npy_int *a)
{
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

xai_status xai_npy_load_labels(const char *path, int64_t n, int64_t lo, int64_t hi, int **labels)
{
    if (!labels || n < 0 || lo > hi || lo < INT_MIN || hi > INT_MAX)
        return xai_error_set(XAI_EINVAL, "xai_npy_load_labels: bad arguments");
    *labels = NULL;
    xai_npy_int y;
    xai_status st = xai_npy_load_int(path, &y);
    if (st)
        return st;
    int64_t count = 1;
    for (int d = 0; d < y.ndim; d++)
        count *= y.shape[d];
    int *out = count == n ? malloc(sizeof(int) * (size_t)(n > 0 ? n : 1)) : NULL;
    if (count != n)
        st = xai_error_set(XAI_EFORMAT, "%s: %lld labels for %lld samples", path, (long long)count, (long long)n);
    else if (!out)
        st = xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    for (int64_t i = 0; !st && i < n; i++) {
        if (y.data[i] < lo || y.data[i] > hi)
            st = xai_error_set(XAI_EFORMAT, "%s: label %lld is %lld, not a class in %lld..%lld", path, (long long)i,
                               (long long)y.data[i], (long long)lo, (long long)hi);
        else
            out[i] = (int)y.data[i];
    }
    xai_npy_int_free(&y);
    if (st)
        free(out);
    else
        *labels = out;
    return st;
}

void xai_npy_free(xai_npy *a)
{
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* the element count of a shape to save; refuses bad arguments and counts past SIZE_MAX / 4 */
static xai_status save_count(const char *path, int ndim, const int64_t *shape, const float *data, uint64_t *count)
{
    int zero = 0;
    if (ndim < 0 || ndim > XAI_NPY_MAX_DIMS)
        return xai_error_set(XAI_EINVAL, "%s: cannot save %d dimensions (0..%d)", path, ndim,
                             XAI_NPY_MAX_DIMS);
    if (ndim > 0 && !shape)
        return xai_error_set(XAI_EINVAL, "%s: NULL shape", path);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return xai_error_set(XAI_EINVAL, "%s: negative dimension %lld", path,
                                 (long long)shape[i]);
        if (shape[i] == 0)
            zero = 1;
    }
    *count = 1;
    if (zero) {
        *count = 0;
    } else {
        for (int i = 0; i < ndim; i++) {
            if (*count > (uint64_t)SIZE_MAX / 4 / (uint64_t)shape[i])
                return xai_error_set(XAI_EINVAL, "%s: shape is too large", path);
            *count *= (uint64_t)shape[i];
        }
    }
    if (*count && !data)
        return xai_error_set(XAI_EINVAL, "%s: NULL data", path);
    return XAI_OK;
}

/* the version 1.0 header dict of a little-endian float32 C-order array into hdr; returns its
 * length. Padded with spaces so that magic + header end on a 64-byte boundary, then '\n'. */
static size_t save_header(char *hdr, size_t cap, int ndim, const int64_t *shape)
{
    size_t n = (size_t)snprintf(hdr, cap, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < ndim; i++)
        n += (size_t)snprintf(hdr + n, cap - n, "%s%lld", i ? ", " : "", (long long)shape[i]);
    n += (size_t)snprintf(hdr + n, cap - n, "%s), }", ndim == 1 ? "," : "");
    size_t total = 10 + n + 1;
    total = (total + 63) / 64 * 64;
    while (10 + n + 1 < total)
        hdr[n++] = ' ';
    hdr[n++] = '\n';
    return n;
}

/* the data as little-endian float32, byte-swapped in chunks on a big-endian host; 0 on a
 * write error */
static int write_le_floats(FILE *f, const float *data, uint64_t count)
{
    if (HOST_LITTLE)
        return !(count && fwrite(data, 4, (size_t)count, f) != (size_t)count);
    unsigned char chunk[4096];
    for (size_t i = 0; i < count;) {
        size_t k = 0;
        for (; k < sizeof chunk / 4 && i < count; k++, i++) {
            uint32_t u;
            memcpy(&u, &data[i], 4);
            chunk[4 * k] = (unsigned char)u;
            chunk[4 * k + 1] = (unsigned char)(u >> 8);
            chunk[4 * k + 2] = (unsigned char)(u >> 16);
            chunk[4 * k + 3] = (unsigned char)(u >> 24);
        }
        if (fwrite(chunk, 4, k, f) != k)
            return 0;
    }
    return 1;
}

xai_status xai_npy_save(const char *path, int ndim, const int64_t *shape, const float *data)
{
    char hdr[128 + XAI_NPY_MAX_DIMS * 24];
    uint64_t count = 0;
    xai_atomic_file af;
    xai_status st;

    if (!path || !*path)
        return xai_error_set(XAI_EINVAL, "xai_npy_save: empty path");
    if ((st = save_count(path, ndim, shape, data, &count)) != XAI_OK)
        return st;
    size_t n = save_header(hdr, sizeof hdr, ndim, shape);
    st = xai_atomic_begin(path, &af);
    if (st != XAI_OK)
        return st;
    unsigned char pre[10];
    memcpy(pre, MAGIC, MAGIC_LEN);
    pre[6] = 1;
    pre[7] = 0;
    pre[8] = (unsigned char)(n & 0xff);
    pre[9] = (unsigned char)(n >> 8);
    if (fwrite(pre, 1, 10, af.f) != 10 || fwrite(hdr, 1, n, af.f) != n || !write_le_floats(af.f, data, count)) {
        st = xai_error_set(XAI_EIO, "%s: write failed: %s", path, strerror(errno));
        xai_atomic_abort(&af);
        return st;
    }
    return xai_atomic_commit(&af);
}

/* xai_npy_read_header's result from the parsed header of a @p total byte input. */
static void fill_header(xai_npy_header *out, const npy_desc *d, const unsigned char *pre, size_t hstart, size_t hlen,
                        uint64_t total)
{
    out->major = pre[6];
    out->minor = pre[7];
    memcpy(out->descr, d->text, sizeof out->descr);
    out->structured = d->structured;
    out->kind = d->structured ? 0 : d->kind;
    out->itemsize = d->structured ? 0 : d->itemsize;
    out->big_endian = !d->structured && d->big;
    out->ndim = d->ndim;
    memcpy(out->shape, d->shape, sizeof out->shape);
    out->data_offset = (int64_t)(hstart + hlen);
    out->data_bytes = (int64_t)(total - hstart - hlen);
}

xai_status xai_npy_read_header(const char *path, xai_npy_header *out)
{
    if (!out || !path)
        return xai_error_set(XAI_EINVAL, "xai_npy_read_header: NULL argument");
    memset(out, 0, sizeof *out);
    FILE *f;
    uint64_t fsize;
    xai_status st = xai_file_open_regular(path, &f, &fsize);
    if (st != XAI_OK)
        return st;
    unsigned char *hdr = NULL, pre[PREAMBLE_MAX] = {0};
    size_t hstart = 0, hlen = 0;
    npy_desc d;
    st = read_header_text(path, f, fsize, &hdr, &hstart, &hlen, pre);
    fclose(f);
    if (st == XAI_OK)
        st = parse_header(path, (const char *)hdr, hlen, &d, READ_ANY, &out->fortran_order);
    free(hdr);
    if (st == XAI_OK)
        fill_header(out, &d, pre, hstart, hlen, fsize);
    return st;
}

xai_status xai_npy_read_header_mem(const void *buf, size_t len, const char *name, xai_npy_header *out)
{
    name = dname(name);
    if (!out || (!buf && len))
        return xai_error_set(XAI_EINVAL, "xai_npy_read_header_mem: NULL argument");
    memset(out, 0, sizeof *out);
    const unsigned char *p = buf;
    size_t hstart, hlen;
    npy_desc d;
    xai_status st = parse_preamble(name, p, len, len, &hstart, &hlen);
    if (st == XAI_OK)
        st = check_header_text(name, p + hstart, hlen);
    if (st == XAI_OK)
        st = parse_header(name, (const char *)p + hstart, hlen, &d, READ_ANY, &out->fortran_order);
    if (st == XAI_OK)
        fill_header(out, &d, p, hstart, hlen, len);
    return st;
}
