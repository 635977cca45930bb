/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-npy.c - NPY reader/writer: fixtures written by NumPy (tests/data/npy, made by
 * make-npy-fixtures.py), round trips (also read back by NumPy when /usr/bin/python3 has
 * it), refused dtypes and orders, and a corpus of malformed headers built in memory.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-common.h"
#include "xai/npy.h"

static const char *fixture(const char *name)
{
    return xai_test_path(xai_test_path(xai_test_data_dir(), "npy"), name);
}

/* Load a fixture both from its path and from memory and check both agree. */
static xai_status load_both(const char *name, xai_npy *a)
{
    const char *path = fixture(name);
    xai_npy m;
    size_t len;
    void *buf = xai_test_read_file(path, &len);
    xai_status s1, s2;
    ck_assert_msg(buf != NULL, "cannot read fixture %s", path);
    s1 = xai_npy_load(path, a);
    s2 = xai_npy_load_mem(buf, len, name, &m);
    ck_assert_int_eq(s1, s2);
    if (s1 == XAI_OK) {
        size_t n = 1;
        ck_assert_int_eq(a->ndim, m.ndim);
        for (int i = 0; i < a->ndim; i++) {
            ck_assert_int_eq(a->shape[i], m.shape[i]);
            n *= (size_t)a->shape[i];
        }
        ck_assert_int_eq(a->source_dtype, m.source_dtype);
        ck_assert(memcmp(a->data, m.data, n * sizeof(float)) == 0);
    }
    xai_npy_free(&m);
    free(buf);
    return s1;
}

static float seqv(int i)
{
    return (float)((i - 3) * 0.25);
}

START_TEST(test_f4_le)
{
    xai_npy a;
    ck_assert_int_eq(load_both("f4-le-2x3.npy", &a), XAI_OK);
    ck_assert_int_eq(a.ndim, 2);
    ck_assert_int_eq(a.shape[0], 2);
    ck_assert_int_eq(a.shape[1], 3);
    ck_assert_int_eq(a.source_dtype, 4);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(a.data[i], seqv(i));
    xai_npy_free(&a);
    ck_assert_ptr_null(a.data);
    ck_assert_int_eq(a.ndim, 0);
}
END_TEST

START_TEST(test_f4_be)
{
    xai_npy a;
    ck_assert_int_eq(load_both("f4-be-3x4.npy", &a), XAI_OK);
    ck_assert_int_eq(a.ndim, 2);
    ck_assert_int_eq(a.shape[0], 3);
    ck_assert_int_eq(a.shape[1], 4);
    ck_assert_int_eq(a.source_dtype, 4);
    for (int i = 0; i < 12; i++)
        ck_assert_float_eq(a.data[i], seqv(i));
    xai_npy_free(&a);
}
END_TEST

START_TEST(test_f8)
{
    xai_npy a;
    ck_assert_int_eq(load_both("f8-le-5.npy", &a), XAI_OK);
    ck_assert_int_eq(a.ndim, 1);
    ck_assert_int_eq(a.shape[0], 5);
    ck_assert_int_eq(a.source_dtype, 8);
    for (int i = 0; i < 5; i++)
        ck_assert_float_eq(a.data[i], (float)(i * 0.1 - 0.5));
    xai_npy_free(&a);

    ck_assert_int_eq(load_both("f8-be-2x2x2.npy", &a), XAI_OK);
    ck_assert_int_eq(a.ndim, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(a.shape[i], 2);
    ck_assert_int_eq(a.source_dtype, 8);
    for (int i = 0; i < 8; i++)
        ck_assert_float_eq(a.data[i], (float)(i * 0.1 - 0.5));
    xai_npy_free(&a);
}
END_TEST

START_TEST(test_f8_special)
{
    xai_npy a;
    ck_assert_int_eq(load_both("f8-special.npy", &a), XAI_OK);
    ck_assert_int_eq(a.shape[0], 6);
    ck_assert(isinf(a.data[0]) && a.data[0] > 0);
    ck_assert(isinf(a.data[1]) && a.data[1] < 0);
    ck_assert(isinf(a.data[2]) && a.data[2] > 0);
    ck_assert(isnan(a.data[3]));
    ck_assert_float_eq(a.data[4], 0.0f);
    ck_assert(a.data[5] == 0.0f && signbit(a.data[5]));
    xai_npy_free(&a);
}
END_TEST

START_TEST(test_scalar_empty)
{
    xai_npy a;
    ck_assert_int_eq(load_both("f4-scalar.npy", &a), XAI_OK);
    ck_assert_int_eq(a.ndim, 0);
    ck_assert_ptr_nonnull(a.data);
    ck_assert_float_eq(a.data[0], 2.5f);
    xai_npy_free(&a);

    ck_assert_int_eq(load_both("f4-empty-0.npy", &a), XAI_OK);
    ck_assert_int_eq(a.ndim, 1);
    ck_assert_int_eq(a.shape[0], 0);
    ck_assert_ptr_nonnull(a.data);
    xai_npy_free(&a);

    ck_assert_int_eq(load_both("f4-empty-2x0.npy", &a), XAI_OK);
    ck_assert_int_eq(a.ndim, 2);
    ck_assert_int_eq(a.shape[0], 2);
    ck_assert_int_eq(a.shape[1], 0);
    xai_npy_free(&a);
}
END_TEST

START_TEST(test_versions_4d)
{
    static const char *names[] = {"f4-v2-4.npy", "f4-v3-4.npy"};
    xai_npy a;
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(load_both(names[k], &a), XAI_OK);
        ck_assert_int_eq(a.ndim, 1);
        ck_assert_int_eq(a.shape[0], 4);
        for (int i = 0; i < 4; i++)
            ck_assert_float_eq(a.data[i], seqv(i));
        xai_npy_free(&a);
    }
    ck_assert_int_eq(load_both("f4-4d.npy", &a), XAI_OK);
    ck_assert_int_eq(a.ndim, 4);
    ck_assert_int_eq(a.shape[0], 2);
    ck_assert_int_eq(a.shape[1], 1);
    ck_assert_int_eq(a.shape[2], 3);
    ck_assert_int_eq(a.shape[3], 2);
    for (int i = 0; i < 12; i++)
        ck_assert_float_eq(a.data[i], seqv(i));
    xai_npy_free(&a);
}
END_TEST

/* Refused inputs: the status and a message naming the file and the dtype or order. */
START_TEST(test_refused)
{
    static const struct {
        const char *file, *word;
    } cases[] = {
        {"f4-fortran-2x3.npy", "Fortran"},
        {"i4-3.npy", "'<i4'"},
        {"f2-3.npy", "'<f2'"},
        {"c8-2.npy", "'<c8'"},
        {"u1-3.npy", "'|u1'"},
        {"struct-2.npy", "structured"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        xai_npy a;
        const char *path = fixture(cases[k].file);
        ck_assert_int_eq(xai_npy_load(path, &a), XAI_EUNSUPPORTED);
        ck_assert_ptr_null(a.data);
        ck_assert_msg(strstr(xai_last_error(), path) != NULL, "no file name in '%s'",
                      xai_last_error());
        ck_assert_msg(strstr(xai_last_error(), cases[k].word) != NULL, "no '%s' in '%s'",
                      cases[k].word, xai_last_error());
    }
}
END_TEST

/* Build a .npy in memory: version, header text (padded as given), then data bytes. */
static unsigned char *make_npy(int major, const char *hdr, size_t ndata, size_t *len)
{
    size_t hl = strlen(hdr), pre = major == 1 ? 10 : 12;
    unsigned char *b = calloc(1, pre + hl + ndata + 1);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    b[8] = (unsigned char)(hl & 0xff);
    b[9] = (unsigned char)(hl >> 8);
    if (major != 1) {
        b[10] = (unsigned char)(hl >> 16);
        b[11] = (unsigned char)(hl >> 24);
    }
    memcpy(b + pre, hdr, hl);
    for (size_t i = 0; i < ndata; i++)
        b[pre + hl + i] = (unsigned char)(i * 7);
    *len = pre + hl + ndata;
    return b;
}

static xai_status try_header(int major, const char *hdr, size_t ndata, xai_npy *a)
{
    size_t len;
    unsigned char *b = make_npy(major, hdr, ndata, &len);
    xai_status s = xai_npy_load_mem(b, len, "hdr.npy", a);
    free(b);
    return s;
}

/* The header reader describes what the loaders refuse (other dtypes, Fortran order, structured
 * dtypes); values from numpy.lib.format's own reader on the fixtures. */
START_TEST(header_any_dtype)
{
    static const struct {
        const char *file, *descr;
        int structured, fortran, major, ndim;
        int64_t shape[2], data_bytes;
        char kind;
        int itemsize;
    } cases[] = {
        {"c8-2.npy", "<c8", 0, 0, 1, 1, {2}, 16, 'c', 8},
        {"f4-fortran-2x3.npy", "<f4", 0, 1, 1, 2, {2, 3}, 24, 'f', 4},
        {"struct-2.npy", "[('a', '<f4'), ('b', '<i2')]", 1, 0, 1, 1, {2}, 12, 0, 0},
        {"f4-v3-4.npy", "<f4", 0, 0, 3, 1, {4}, 16, 'f', 4},
        {"f4-scalar.npy", "<f4", 0, 0, 1, 0, {0}, 4, 'f', 4},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        xai_npy_header h;
        ck_assert_int_eq(xai_npy_read_header(fixture(cases[k].file), &h), XAI_OK);
        ck_assert_str_eq(h.descr, cases[k].descr);
        ck_assert_int_eq(h.structured, cases[k].structured);
        ck_assert_int_eq(h.fortran_order, cases[k].fortran);
        ck_assert_int_eq(h.major, cases[k].major);
        ck_assert_int_eq(h.minor, 0);
        ck_assert_int_eq(h.ndim, cases[k].ndim);
        for (int d = 0; d < h.ndim; d++)
            ck_assert_int_eq(h.shape[d], cases[k].shape[d]);
        ck_assert_int_eq(h.data_offset, 128);
        ck_assert_int_eq(h.data_bytes, cases[k].data_bytes);
        ck_assert_int_eq(h.kind, cases[k].kind);
        ck_assert_int_eq(h.itemsize, cases[k].itemsize);
        ck_assert_int_eq(h.big_endian, 0);
    }
    /* the descr's kind, item size and byte order, as numpy's dtype(descr) has them */
    static const struct {
        const char *descr;
        char kind;
        int itemsize, big;
    } types[] = {{">i2", 'i', 2, 1}, {"|u1", 'u', 1, 0}, {"<U10", 'U', 40, 0}, {"|S5", 'S', 5, 0},
                 {"|O", 'O', 0, 0}, {"<M8[ns]", 'M', 8, 0}, {">m8[10ms]", 'm', 8, 1}, {"|V16", 'V', 16, 0}};
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        char text[128];
        snprintf(text, sizeof text, "{'descr': '%s', 'fortran_order': False, 'shape': (1,)}\n", types[k].descr);
        size_t len;
        unsigned char *b = make_npy(1, text, 64, &len);
        xai_npy_header h;
        ck_assert_msg(xai_npy_read_header_mem(b, len, "t.npy", &h) == XAI_OK, "%s: %s", types[k].descr,
                      xai_last_error());
        ck_assert_msg(h.kind == types[k].kind && h.itemsize == types[k].itemsize && h.big_endian == types[k].big,
                      "%s: kind %c size %d big %d", types[k].descr, h.kind, h.itemsize, h.big_endian);
        free(b);
    }
    /* malformed headers are refused as by the loaders, from a file and from memory */
    static const char *const bad[] = {
        "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), } x\n",
        "{'descr': [('a', '<f4'), 'fortran_order': False, 'shape': (2,)}\n",
        "{'descr': '<f4', 'shape': (2,)}\n",
        "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,)}\n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3)}\n",
        /* a descr string that is no type string */
        "{'descr': '<f4x', 'fortran_order': False, 'shape': (2,)}\n",
        "{'descr': '<i99999999999999999999', 'fortran_order': False, 'shape': (2,)}\n",
        "{'descr': '', 'fortran_order': False, 'shape': (2,)}\n",
        "{'descr': '<4', 'fortran_order': False, 'shape': (2,)}\n",
        "{'descr': '<M8[ns', 'fortran_order': False, 'shape': (2,)}\n",
        "{'descr': '<f8[s]', 'fortran_order': False, 'shape': (2,)}\n",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        size_t len;
        unsigned char *b = make_npy(1, bad[k], 8, &len);
        xai_npy_header h;
        ck_assert_int_eq(xai_npy_read_header_mem(b, len, "bad.npy", &h), XAI_EFORMAT);
        ck_assert_msg(strstr(xai_last_error(), "bad.npy: bad header") != NULL, "'%s'", xai_last_error());
        free(b);
    }
    xai_npy_header h;
    ck_assert_int_eq(xai_npy_read_header(fixture("no-such-file.npy"), &h), XAI_EIO);
}
END_TEST

START_TEST(test_header_variants_ok)
{
    /* Forms NumPy or other writers produce that must be accepted. */
    static const struct {
        const char *hdr;
        int ndim;
        int64_t d0, d1;
        size_t ndata;
    } ok[] = {
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 2, 2, 3, 24},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3,), }", 2, 2, 3, 24},
        {"{\"shape\": (3,), \"fortran_order\": False, \"descr\": \"<f8\"}", 1, 3, 0, 24},
        {"{ 'descr' : '>f4' ,'fortran_order':False,'shape':( 4 , ) }    \n", 1, 4, 0, 16},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 2L), }", 2, 3, 2, 24},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 0, 0, 0, 4},
        /* more data than the shape needs: NumPy ignores the rest */
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 1, 2, 0, 13},
    };
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++) {
        xai_npy a;
        xai_status s = try_header(k % 2 ? 2 : 1, ok[k].hdr, ok[k].ndata, &a);
        ck_assert_msg(s == XAI_OK, "case %zu: %s", k, xai_last_error());
        ck_assert_int_eq(a.ndim, ok[k].ndim);
        if (a.ndim > 0)
            ck_assert_int_eq(a.shape[0], ok[k].d0);
        if (a.ndim > 1)
            ck_assert_int_eq(a.shape[1], ok[k].d1);
        xai_npy_free(&a);
    }
}
END_TEST

START_TEST(test_malformed_headers)
{
    static const struct {
        const char *hdr;
        size_t ndata;
        xai_status want;
        const char *word;
    } bad[] = {
        {"", 0, XAI_EFORMAT, "dict"},
        {"[1, 2]", 0, XAI_EFORMAT, "dict"},
        {"{'descr': '<f4', 'fortran_order': False}", 4, XAI_EFORMAT, "shape"},
        {"{'descr': '<f4', 'shape': (1,)}", 4, XAI_EFORMAT, "fortran_order"},
        {"{'fortran_order': False, 'shape': (1,)}", 4, XAI_EFORMAT, "descr"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", 4, XAI_EFORMAT, "'x'"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", 4, XAI_EFORMAT,
         "duplicate"},
        {"{'descr': '<f4', 'fortran_order': maybe, 'shape': (1,)}", 4, XAI_EFORMAT, "True"},
        {"{'descr': '<f4', 'fortran_order': Falsey, 'shape': (1,)}", 4, XAI_EFORMAT, "True"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", 4, XAI_EFORMAT, "negative"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", 4,
         XAI_EFORMAT, "too large"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", 4,
         XAI_EFORMAT, "too large"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775807,)}", 8,
         XAI_EFORMAT, "too large"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000)}", 64, XAI_EFORMAT,
         "truncated data"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", 23, XAI_EFORMAT,
         "truncated data"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3)}", 12, XAI_EFORMAT, "tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': 3}", 12, XAI_EFORMAT, "tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}", 12, XAI_EFORMAT, "integer"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1 2)}", 12, XAI_EFORMAT, "shape"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,", 12, XAI_EFORMAT, "shape"},
        {"{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}", 4, XAI_EFORMAT, "header"},
        {"{'descr': <f4, 'fortran_order': False, 'shape': (1,)}", 4, XAI_EFORMAT, "descr"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk", 4, XAI_EFORMAT,
         "trailing"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", 4, XAI_EFORMAT, "header"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\x01", 4, XAI_EFORMAT, "control"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': "
         "(1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1)}",
         4, XAI_EUNSUPPORTED, "dimensions"},
        {"{'descr': '<i8', 'fortran_order': False, 'shape': (1,)}", 8, XAI_EUNSUPPORTED, "'<i8'"},
        {"{'descr': '|f4', 'fortran_order': False, 'shape': (1,)}", 4, XAI_EUNSUPPORTED, "'|f4'"},
        {"{'descr': 'f4', 'fortran_order': False, 'shape': (1,)}", 4, XAI_EUNSUPPORTED, "'f4'"},
        {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2)}", 16, XAI_EUNSUPPORTED,
         "Fortran"},
        /* malformed beats unsupported: an odd dtype in a broken header is still malformed */
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (-1,)}", 4, XAI_EFORMAT, "negative"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        xai_npy a;
        xai_status s = try_header(k % 3 == 2 ? 3 : 1, bad[k].hdr, bad[k].ndata, &a);
        ck_assert_msg(s == bad[k].want, "case %zu: got %s (%s)", k, xai_strerror(s),
                      xai_last_error());
        ck_assert_ptr_null(a.data);
        ck_assert_msg(strstr(xai_last_error(), "hdr.npy") != NULL, "case %zu: '%s'", k,
                      xai_last_error());
        ck_assert_msg(strstr(xai_last_error(), bad[k].word) != NULL, "case %zu: no '%s' in '%s'",
                      k, bad[k].word, xai_last_error());
    }
}
END_TEST

START_TEST(test_malformed_preamble)
{
    static const char ok_hdr[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n";
    size_t len;
    unsigned char *b = make_npy(1, ok_hdr, 4, &len);
    xai_npy a;

    /* sanity: the base file is valid */
    ck_assert_int_eq(xai_npy_load_mem(b, len, "p.npy", &a), XAI_OK);
    xai_npy_free(&a);
    /* every truncation before the end of the data fails cleanly */
    for (size_t cut = 0; cut < len; cut++) {
        xai_status s = xai_npy_load_mem(b, cut, "p.npy", &a);
        ck_assert_msg(s == XAI_EFORMAT, "cut %zu: %s", cut, xai_strerror(s));
        ck_assert_ptr_null(a.data);
    }
    /* wrong magic */
    b[1] = 'n';
    ck_assert_int_eq(xai_npy_load_mem(b, len, "p.npy", &a), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "magic"));
    b[1] = 'N';
    /* unknown versions */
    b[6] = 4;
    ck_assert_int_eq(xai_npy_load_mem(b, len, "p.npy", &a), XAI_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "4.0"));
    b[6] = 1;
    b[7] = 1;
    ck_assert_int_eq(xai_npy_load_mem(b, len, "p.npy", &a), XAI_EUNSUPPORTED);
    b[7] = 0;
    /* header length past the end of the file */
    b[8] = 0xff;
    b[9] = 0xff;
    ck_assert_int_eq(xai_npy_load_mem(b, len, "p.npy", &a), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "truncated header"));
    free(b);

    /* a 2.0 header claiming 4 GiB */
    b = make_npy(2, ok_hdr, 4, &len);
    b[8] = b[9] = b[10] = b[11] = 0xff;
    ck_assert_int_eq(xai_npy_load_mem(b, len, "p.npy", &a), XAI_EFORMAT);
    free(b);

    ck_assert_int_eq(xai_npy_load_mem(NULL, 0, NULL, &a), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "<memory>"));
    ck_assert_int_eq(xai_npy_load_mem(ok_hdr, 3, "x", NULL), XAI_EINVAL);
}
END_TEST

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* The path reader sees the same malformed files through stdio. */
START_TEST(test_malformed_files)
{
    char *dir = xai_test_tmpdir();
    const char *p = xai_test_path(dir, "bad.npy");
    size_t len;
    unsigned char *b;
    xai_npy a;

    b = make_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 4), }\n", 128, &len);
    write_bytes(p, b, len);
    ck_assert_int_eq(xai_npy_load(p, &a), XAI_OK);
    xai_npy_free(&a);
    for (size_t cut = 0; cut < len; cut += 7) {
        write_bytes(p, b, cut);
        ck_assert_int_eq(xai_npy_load(p, &a), XAI_EFORMAT);
        ck_assert_ptr_nonnull(strstr(xai_last_error(), p));
        ck_assert_ptr_null(a.data);
    }
    free(b);
    b = make_npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,)}", 8, &len);
    write_bytes(p, b, len);
    ck_assert_int_eq(xai_npy_load(p, &a), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "truncated data"));
    free(b);
    /* an empty array's other dimensions are bounded too (numpy refuses them as too big), so that
       a reader's product of the shape cannot overflow; within the bound an empty array loads */
    static const struct {
        const char *hdr;
        xai_status want;
    } empty[] = {{"{'descr': '<f4', 'fortran_order': False, 'shape': (7, 991899999999998990, 10, 0), }", XAI_EFORMAT},
                 {"{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 0), }", XAI_EFORMAT},
                 {"{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 0, 1000000), }", XAI_OK}};
    for (size_t k = 0; k < sizeof empty / sizeof empty[0]; k++) {
        xai_npy_int ai;
        b = make_npy(1, empty[k].hdr, 0, &len);
        ck_assert_int_eq(xai_npy_load_mem(b, len, "e.npy", &a), empty[k].want);
        ck_assert(empty[k].want == XAI_OK || strstr(xai_last_error(), "e.npy: bad header: shape is too large"));
        ck_assert_int_eq(xai_npy_load_int_mem(b, len, "e.npy", &ai), empty[k].want);
        if (empty[k].want == XAI_OK) {
            ck_assert(a.ndim == 3 && a.shape[1] == 0 && ai.ndim == 3);
            xai_npy_free(&a);
            xai_npy_int_free(&ai);
        }
        free(b);
    }

    ck_assert_int_eq(xai_npy_load(xai_test_path(dir, "missing.npy"), &a), XAI_EIO);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "missing.npy"));
    ck_assert_int_eq(xai_npy_load(dir, &a), XAI_EIO); /* a directory */
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

START_TEST(test_round_trip)
{
    static const struct {
        int ndim;
        int64_t shape[6];
    } shapes[] = {{0, {0}}, {1, {7}}, {2, {3, 5}}, {3, {2, 0, 4}}, {5, {2, 1, 3, 1, 2}},
                  {1, {1000}}};
    char *dir = xai_test_tmpdir();
    const char *p = xai_test_path(dir, "rt.npy");
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        size_t n = 1, len;
        float *v;
        unsigned char *raw;
        xai_npy a;
        for (int i = 0; i < shapes[k].ndim; i++)
            n *= (size_t)shapes[k].shape[i];
        v = malloc((n ? n : 1) * sizeof *v);
        for (size_t i = 0; i < n; i++)
            v[i] = (float)i * 0.37f - 11.0f + (i == 3 ? NAN : 0.0f);
        ck_assert_int_eq(xai_npy_save(p, shapes[k].ndim, shapes[k].shape, v), XAI_OK);
        raw = xai_test_read_file(p, &len);
        ck_assert_ptr_nonnull(raw);
        ck_assert_int_eq(raw[6], 1);
        ck_assert_int_eq((10 + raw[8] + 256 * raw[9]) % 64, 0); /* aligned data */
        ck_assert_uint_eq(len, 10 + raw[8] + 256u * raw[9] + 4 * n);
        ck_assert_int_eq(raw[10 + raw[8] + 256 * raw[9] - 1], '\n');
        free(raw);
        ck_assert_int_eq(xai_npy_load(p, &a), XAI_OK);
        ck_assert_int_eq(a.ndim, shapes[k].ndim);
        ck_assert_int_eq(a.source_dtype, 4);
        for (int i = 0; i < a.ndim; i++)
            ck_assert_int_eq(a.shape[i], shapes[k].shape[i]);
        ck_assert(memcmp(a.data, v, n * sizeof *v) == 0); /* bit-exact, NaN included */
        xai_npy_free(&a);
        free(v);
    }
    /* only the result is left: no temporary files */
    ck_assert_int_eq(count_entries(dir), 1);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* NumPy itself reads what we write (skipped when /usr/bin/python3 lacks NumPy). */
START_TEST(test_numpy_reads_ours)
{
    char *dir = xai_test_tmpdir();
    const char *p = xai_test_path(dir, "ours.npy");
    char cmd[8192];
    int64_t shape[3] = {2, 3, 4};
    float v[24];
    int rc;
    if (system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
        xai_test_rmtree(dir);
        free(dir);
        return;
    }
    for (int i = 0; i < 24; i++)
        v[i] = (float)i * 0.5f - 3.0f;
    ck_assert_int_eq(xai_npy_save(p, 3, shape, v), XAI_OK);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import numpy as np, sys; a = np.load(sys.argv[1]); "
             "e = (np.arange(24, dtype='f4') * 0.5 - 3).reshape(2, 3, 4); "
             "sys.exit(0 if a.dtype == np.dtype('<f4') and a.shape == (2, 3, 4) "
             "and (a == e).all() else 3)\" '%s'",
             p);
    rc = system(cmd);
    ck_assert_msg(rc == 0, "numpy could not read our file (rc %d)", rc);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_save_atomic_and_errors)
{
    char *dir = xai_test_tmpdir();
    const char *p = xai_test_path(dir, "x.npy");
    int64_t shape[2] = {2, 2}, neg[1] = {-1};
    float v[4] = {1, 2, 3, 4}, w[4] = {5, 6, 7, 8};
    xai_npy a;

    ck_assert_int_eq(xai_npy_save(p, 2, shape, v), XAI_OK);
    ck_assert_int_eq(xai_npy_save(p, 2, shape, w), XAI_OK); /* replaces */
    ck_assert_int_eq(xai_npy_load(p, &a), XAI_OK);
    ck_assert_float_eq(a.data[3], 8.0f);
    xai_npy_free(&a);
    ck_assert_int_eq(count_entries(dir), 1);

    /* unwritable destination: error naming the path, nothing left behind */
    ck_assert_int_eq(xai_npy_save(xai_test_path(dir, "no/such/dir.npy"), 2, shape, v), XAI_EIO);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "no/such/dir.npy"));
    ck_assert_int_eq(count_entries(dir), 1);

    ck_assert_int_eq(xai_npy_save(p, 1, neg, v), XAI_EINVAL);
    ck_assert_int_eq(xai_npy_save(p, XAI_NPY_MAX_DIMS + 1, shape, v), XAI_EINVAL);
    ck_assert_int_eq(xai_npy_save(p, -1, shape, v), XAI_EINVAL);
    ck_assert_int_eq(xai_npy_save(p, 2, NULL, v), XAI_EINVAL);
    ck_assert_int_eq(xai_npy_save(p, 2, shape, NULL), XAI_EINVAL);
    ck_assert_int_eq(xai_npy_save(NULL, 2, shape, v), XAI_EINVAL);
    ck_assert_int_eq(xai_npy_save("", 2, shape, v), XAI_EINVAL);
    /* the failed calls did not touch the existing file */
    ck_assert_int_eq(xai_npy_load(p, &a), XAI_OK);
    ck_assert_float_eq(a.data[0], 5.0f);
    xai_npy_free(&a);

    xai_npy_free(NULL);
    memset(&a, 0, sizeof a);
    xai_npy_free(&a);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* Integer arrays read exactly (labels): every integer dtype and byte order, floats holding
 * integers; a float that is not an integer and a too large uint64 are refused. */
static xai_status load_int_hdr(const char *descr, const char *shape, const void *data, size_t nbytes,
                               xai_npy_int *out)
{
    char hdr[128];
    int len = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    size_t total = 128; /* preamble and header padded to a multiple of 64, as NumPy writes */
    unsigned char *buf = calloc(1, total + nbytes);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)(total - 10);
    buf[9] = 0;
    memset(buf + 10, ' ', total - 10);
    memcpy(buf + 10, hdr, (size_t)len);
    buf[total - 1] = '\n';
    memcpy(buf + total, data, nbytes);
    xai_status st = xai_npy_load_int_mem(buf, total + nbytes, "mem.npy", out);
    free(buf);
    return st;
}

START_TEST(int_arrays)
{
    xai_npy_int a;
    const int64_t v8[3] = {-5, 0, 4000000000LL};
    ck_assert_int_eq(load_int_hdr("<i8", "(3,)", v8, sizeof v8, &a), XAI_OK);
    ck_assert_int_eq(a.ndim, 1);
    ck_assert_int_eq(a.shape[0], 3);
    ck_assert(a.data[0] == -5 && a.data[1] == 0 && a.data[2] == 4000000000LL);
    xai_npy_int_free(&a);
    const unsigned char be16[4] = {0xff, 0xfd, 0x00, 0x07}; /* -3, 7 big-endian int16 */
    ck_assert_int_eq(load_int_hdr(">i2", "(2,)", be16, 4, &a), XAI_OK);
    ck_assert(a.data[0] == -3 && a.data[1] == 7);
    xai_npy_int_free(&a);
    const unsigned char u1[2] = {200, 1};
    ck_assert_int_eq(load_int_hdr("|u1", "(1, 2)", u1, 2, &a), XAI_OK);
    ck_assert(a.ndim == 2 && a.data[0] == 200 && a.data[1] == 1);
    xai_npy_int_free(&a);
    const float f[2] = {3.0f, -1.0f};
    ck_assert_int_eq(load_int_hdr("<f4", "(2,)", f, sizeof f, &a), XAI_OK);
    ck_assert(a.data[0] == 3 && a.data[1] == -1);
    xai_npy_int_free(&a);
    const float g[2] = {3.0f, 0.5f};
    ck_assert_int_eq(load_int_hdr("<f4", "(2,)", g, sizeof g, &a), XAI_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "element 1"));
    const uint64_t big = 0xffffffffffffffffULL;
    ck_assert_int_eq(load_int_hdr("<u8", "(1,)", &big, 8, &a), XAI_EUNSUPPORTED);
    ck_assert_int_eq(load_int_hdr("<i8", "(3,)", v8, 16, &a), XAI_EFORMAT); /* truncated */
    ck_assert_int_eq(load_int_hdr("<c8", "(1,)", v8, 8, &a), XAI_EUNSUPPORTED);
}
END_TEST

/* The shared label reader: n values of any shape in [lo, hi] as int; another count, a value
 * out of range and a non-integer are refused with the file, index and value named. */
START_TEST(labels)
{
    char *dir = xai_test_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/y.npy", dir);
    const float y[4] = {2, 0, 1, -1};
    const int64_t shape[2] = {2, 2};
    ck_assert_int_eq(xai_npy_save(path, 2, shape, y), XAI_OK);
    int *lab = (int *)1;
    ck_assert_int_eq(xai_npy_load_labels(path, 4, -1, 2, &lab), XAI_OK);
    ck_assert(lab[0] == 2 && lab[1] == 0 && lab[2] == 1 && lab[3] == -1);
    free(lab);
    ck_assert_int_eq(xai_npy_load_labels(path, 5, -1, 2, &lab), XAI_EFORMAT);
    ck_assert_ptr_null(lab);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "4 labels for 5 samples"));
    ck_assert_ptr_nonnull(strstr(xai_last_error(), path));
    ck_assert_int_eq(xai_npy_load_labels(path, 4, 0, 2, &lab), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "label 3 is -1, not a class in 0..2"));
    ck_assert_int_eq(xai_npy_load_labels(path, 4, 0, 1, &lab), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "label 0 is 2"));
    const float h[2] = {1, 0.5f};
    const int64_t n2 = 2;
    ck_assert_int_eq(xai_npy_save(path, 1, &n2, h), XAI_OK);
    ck_assert_int_eq(xai_npy_load_labels(path, 2, 0, 1, &lab), XAI_EUNSUPPORTED);
    ck_assert_int_eq(xai_npy_load_labels(path, 2, 1, 0, &lab), XAI_EINVAL);
    snprintf(path, sizeof path, "%s/none.npy", dir);
    ck_assert_int_ne(xai_npy_load_labels(path, 2, 0, 1, &lab), XAI_OK);
    ck_assert_ptr_null(lab);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("npy");
    TCase *ti = tcase_create("int");
    tcase_add_test(ti, int_arrays);
    tcase_add_test(ti, labels);
    suite_add_tcase(s, ti);
    TCase *tc = tcase_create("npy");
    tcase_add_test(tc, test_f4_le);
    tcase_add_test(tc, test_f4_be);
    tcase_add_test(tc, test_f8);
    tcase_add_test(tc, test_f8_special);
    tcase_add_test(tc, test_scalar_empty);
    tcase_add_test(tc, test_versions_4d);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, header_any_dtype);
    tcase_add_test(tc, test_header_variants_ok);
    tcase_add_test(tc, test_malformed_headers);
    tcase_add_test(tc, test_malformed_preamble);
    tcase_add_test(tc, test_malformed_files);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_numpy_reads_ours);
    tcase_add_test(tc, test_save_atomic_and_errors);
    suite_add_tcase(s, tc);
    return s;
}
