/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-nifti.c - NIfTI reader and writer: known facts of the real files in
 * ../shared/data/fmri (values checked independently with NumPy on the raw bytes), every
 * datatype and scaling rule on headers built byte by byte here, write-then-read round trips
 * (NIfTI-1/2, .nii/.nii.gz, 4-D and 3-D) with identical geometry, and a malformed corpus
 * that must give the right error with no crash.
 */
#include "test-common.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <nifti1.h>
#include <nifti2.h>

#include "xai/nifti.h"

/* ---- helpers -------------------------------------------------------------------------- */

static const char *fmri(const char *rest)
{
    const char *d = xai_test_shared_dir();
    if (!d)
        return NULL;
    static char buf[4][4096];
    static int slot;
    char *b = buf[slot++ & 3];
    snprintf(b, 4096, "%s/data/fmri/%s", d, rest);
    return b;
}

#define NEED_SHARED()                \
    do {                             \
        if (!xai_test_shared_dir()) { \
            xai_test_mark_skip();    \
            return;                  \
        }                            \
    } while (0)

static int bytes_per(int dt)
{
    switch (dt) {
    case DT_UINT8: case DT_INT8: return 1;
    case DT_INT16: case DT_UINT16: return 2;
    case DT_INT32: case DT_UINT32: case DT_FLOAT32: case DT_COMPLEX64: return 4;
    case DT_INT64: case DT_UINT64: case DT_FLOAT64: return 8;
    default: return 1;
    }
}

/* A sane NIfTI-1 header: 1 mm (or given) voxels, qform/sform codes 0, units mm + s. */
static void n1_default(nifti_1_header *h, int dt, int nx, int ny, int nz, int nt)
{
    memset(h, 0, sizeof *h);
    h->sizeof_hdr = 348;
    h->dim[0] = (short)(nt > 1 ? 4 : 3);
    h->dim[1] = (short)nx;
    h->dim[2] = (short)ny;
    h->dim[3] = (short)nz;
    h->dim[4] = (short)nt;
    for (int i = 5; i < 8; i++)
        h->dim[i] = 1;
    h->datatype = (short)dt;
    h->bitpix = (short)(8 * bytes_per(dt));
    for (int i = 0; i < 8; i++)
        h->pixdim[i] = 1;
    h->pixdim[4] = 2.5f;
    h->vox_offset = 352;
    h->xyzt_units = NIFTI_UNITS_MM | NIFTI_UNITS_SEC;
    memcpy(h->magic, "n+1", 4);
}

/* Header + empty extender + data, as one buffer (caller frees). */
static unsigned char *n1_build(const nifti_1_header *h, const void *data, size_t nbytes,
                               size_t *len)
{
    *len = 352 + nbytes;
    unsigned char *b = calloc(1, *len);
    ck_assert_ptr_nonnull(b);
    memcpy(b, h, 348);
    if (nbytes)
        memcpy(b + 352, data, nbytes);
    return b;
}

static void n2_default(nifti_2_header *h, int dt, int64_t nx, int64_t ny, int64_t nz, int64_t nt)
{
    memset(h, 0, sizeof *h);
    h->sizeof_hdr = 540;
    memcpy(h->magic, "n+2\0\r\n\032\n", 8);
    h->dim[0] = nt > 1 ? 4 : 3;
    h->dim[1] = nx;
    h->dim[2] = ny;
    h->dim[3] = nz;
    h->dim[4] = nt;
    for (int i = 5; i < 8; i++)
        h->dim[i] = 1;
    h->datatype = (int16_t)dt;
    h->bitpix = (int16_t)(8 * bytes_per(dt));
    for (int i = 0; i < 8; i++)
        h->pixdim[i] = 1;
    h->vox_offset = 544;
    h->xyzt_units = NIFTI_UNITS_MM | NIFTI_UNITS_SEC;
}

static unsigned char *n2_build(const nifti_2_header *h, const void *data, size_t nbytes,
                               size_t *len)
{
    *len = 544 + nbytes;
    unsigned char *b = calloc(1, *len);
    ck_assert_ptr_nonnull(b);
    memcpy(b, h, 540);
    if (nbytes)
        memcpy(b + 544, data, nbytes);
    return b;
}

static void write_file(const char *path, const void *buf, size_t len, int gz)
{
    if (gz) {
        gzFile g = gzopen(path, "wb");
        ck_assert_ptr_nonnull(g);
        ck_assert_int_eq(gzwrite(g, buf, (unsigned)len), (int)len);
        ck_assert_int_eq(gzclose(g), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
        ck_assert_int_eq(fclose(f), 0);
    }
}

/* Expect a failure with status @p want whose message names @p name and contains @p word. */
static void expect_fail_mem(const void *buf, size_t len, const char *name, xai_status want,
                            const char *word)
{
    xai_nifti *img = (xai_nifti *)1;
    xai_status st = xai_nifti_open_mem(buf, len, name, &img);
    ck_assert_msg(st == want, "%s: got %s (%s), want %s", name, xai_strerror(st),
                  xai_last_error(), xai_strerror(want));
    ck_assert_ptr_null(img);
    ck_assert_msg(strstr(xai_last_error(), name) != NULL, "message does not name the file: %s",
                  xai_last_error());
    if (word)
        ck_assert_msg(strstr(xai_last_error(), word) != NULL, "%s: message lacks \"%s\": %s",
                      name, word, xai_last_error());
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static double sum_of(const xai_nifti *img)
{
    double s = 0;
    for (size_t i = 0; i < img->n; i++)
        s += img->data[i];
    return s;
}

static size_t idx(const xai_nifti *img, int64_t t, int64_t z, int64_t y, int64_t x)
{
    return (size_t)(((t * img->shape[1] + z) * img->shape[2] + y) * img->shape[3] + x);
}

/* ---- real files ----------------------------------------------------------------------- */

START_TEST(real_example4d)
{
    NEED_SHARED();
    xai_nifti *img = NULL;
    const char *p = fmri("nibabel_example4d.nii.gz");
    ck_assert_msg(xai_nifti_open(p, &img) == XAI_OK, "%s", xai_last_error());
    const xai_nifti_info *in = &img->info;
    ck_assert_int_eq(in->version, 1);
    ck_assert_int_eq(in->dim[0], 4);
    ck_assert_int_eq(in->dim[1], 128);
    ck_assert_int_eq(in->dim[2], 96);
    ck_assert_int_eq(in->dim[3], 24);
    ck_assert_int_eq(in->dim[4], 2);
    ck_assert_int_eq(img->shape[0], 2);
    ck_assert_int_eq(img->shape[1], 24);
    ck_assert_int_eq(img->shape[2], 96);
    ck_assert_int_eq(img->shape[3], 128);
    ck_assert_uint_eq(img->n, 128u * 96 * 24 * 2);
    ck_assert_int_eq(in->datatype, DT_INT16);
    ck_assert_str_eq(xai_nifti_datatype_name(in->datatype), "int16");
    ck_assert_double_eq_tol(in->pixdim[1], 2.0, 1e-6);
    ck_assert_double_eq_tol(in->pixdim[3], 2.2, 1e-6);
    /* the quirk: 2000 stored with NIFTI_UNITS_SEC; it is milliseconds */
    ck_assert_double_eq(in->pixdim[4], 2000.0);
    ck_assert_int_eq(in->time_units, NIFTI_UNITS_SEC);
    ck_assert_int_eq(in->xyz_units, NIFTI_UNITS_MM);
    ck_assert_int_eq(in->xyzt_units, 10);
    ck_assert_double_eq(in->tr_s, 2.0);
    ck_assert_int_eq(in->tr_assumed_ms, 1);
    ck_assert_int_eq(in->qform_code, 1);
    ck_assert_int_eq(in->sform_code, 1);
    ck_assert_int_eq(in->affine_source, XAI_NIFTI_AFFINE_SFORM);
    ck_assert_double_eq_tol(in->affine[0][0], -2.0, 1e-6);
    ck_assert_double_eq_tol(in->affine[0][3], 117.855, 1e-3);
    ck_assert_double_eq_tol(in->affine[1][3], -35.7229, 1e-3);
    ck_assert_double_eq_tol(in->affine[2][2], 2.17108, 1e-4);
    ck_assert_double_eq(in->qfac, -1.0);
    ck_assert_double_eq(in->pixdim[0], -1.0);
    ck_assert_str_eq(in->descrip, "FSL3.3");
    /* NumPy on the raw int16 bytes: sum, max and two voxels (x fastest, [t][z][y][x]) */
    ck_assert_double_eq(sum_of(img), 101985356.0);
    float mx = 0;
    for (size_t i = 0; i < img->n; i++)
        mx = img->data[i] > mx ? img->data[i] : mx;
    ck_assert_float_eq(mx, 1162.0f);
    ck_assert_float_eq(img->data[idx(img, 0, 12, 48, 64)], 265.0f);
    ck_assert_float_eq(img->data[idx(img, 1, 5, 20, 10)], 0.0f);
    xai_nifti_close(img);
}
END_TEST

START_TEST(real_nifti2)
{
    NEED_SHARED();
    xai_nifti *img = NULL;
    ck_assert_msg(xai_nifti_open(fmri("nibabel_example_nifti2.nii.gz"), &img) == XAI_OK, "%s",
                  xai_last_error());
    ck_assert_int_eq(img->info.version, 2);
    ck_assert_int_eq(img->shape[0], 2);
    ck_assert_int_eq(img->shape[1], 12);
    ck_assert_int_eq(img->shape[2], 20);
    ck_assert_int_eq(img->shape[3], 32);
    ck_assert_double_eq(img->info.tr_s, 2.0);
    ck_assert_int_eq(img->info.sform_code, 1);
    ck_assert_double_eq(sum_of(img), 6926802.0);
    ck_assert_float_eq(img->data[idx(img, 1, 6, 10, 16)], 266.0f);
    xai_nifti_close(img);
}
END_TEST

START_TEST(real_haxby)
{
    NEED_SHARED();
    xai_nifti *img = NULL;
    ck_assert_msg(xai_nifti_open(fmri("haxby2001_sub001/bold_1slice_allruns.nii.gz"), &img) ==
                  XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(img->shape[0], 1452);
    ck_assert_int_eq(img->shape[1], 1);
    ck_assert_int_eq(img->shape[2], 20);
    ck_assert_int_eq(img->shape[3], 40);
    ck_assert_double_eq_tol(img->info.pixdim[1], 3.1, 1e-6);
    ck_assert_double_eq_tol(img->info.pixdim[2], 3.75, 1e-6);
    ck_assert_double_eq(img->info.tr_s, 2.5);
    ck_assert_int_eq(img->info.tr_assumed_ms, 0);
    ck_assert_double_eq(sum_of(img), 1118771612.0);
    ck_assert_float_eq(img->data[idx(img, 700, 0, 10, 20)], 963.0f);
    xai_nifti_close(img);

    /* all 12 runs: 6 x 10 x 10 x 121 int16, TR 2.5 s */
    for (int r = 1; r <= 12; r++) {
        char rel[64];
        snprintf(rel, sizeof rel, "haxby2001_sub001/run%03d_bold_25mm.nii.gz", r);
        ck_assert_msg(xai_nifti_open(fmri(rel), &img) == XAI_OK, "%s", xai_last_error());
        ck_assert_int_eq(img->shape[0], 121);
        ck_assert_int_eq(img->shape[1], 10);
        ck_assert_int_eq(img->shape[2], 10);
        ck_assert_int_eq(img->shape[3], 6);
        ck_assert_double_eq(img->info.pixdim[1], 25.0);
        ck_assert_double_eq(img->info.tr_s, 2.5);
        if (r == 1) {
            ck_assert_double_eq(sum_of(img), 22717688.0);
            ck_assert_float_eq(img->data[idx(img, 60, 5, 5, 3)], 1705.0f);
        } else if (r == 12) {
            ck_assert_double_eq(sum_of(img), 22413962.0);
        }
        xai_nifti_close(img);
    }

    /* masks: 3-D, three datatypes (int16, uint8, float32), extensions before the data */
    static const struct { const char *f; int dt; double sum; } masks[] = {
        {"brain.nii.gz", DT_INT16, 129}, {"hoc.nii.gz", DT_UINT8, 906},
        {"vt.nii.gz", DT_FLOAT32, 1}, {"gray.nii.gz", DT_FLOAT32, 28},
        {"white.nii.gz", DT_FLOAT32, 34}};
    for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "haxby2001_sub001/masks_25mm/%s", masks[i].f);
        ck_assert_msg(xai_nifti_open(fmri(rel), &img) == XAI_OK, "%s", xai_last_error());
        ck_assert_int_eq(img->info.dim[0], 3);
        ck_assert_int_eq(img->shape[0], 1);
        ck_assert_uint_eq(img->n, 600);
        ck_assert_int_eq(img->info.datatype, masks[i].dt);
        ck_assert_double_eq(img->info.tr_s, 0.0);
        ck_assert_msg(sum_of(img) == masks[i].sum, "%s: sum %g", masks[i].f, sum_of(img));
        xai_nifti_close(img);
    }
}
END_TEST

START_TEST(real_mem_matches_path)
{
    NEED_SHARED();
    size_t len = 0;
    void *buf = xai_test_read_file(fmri("nibabel_example_nifti2.nii.gz"), &len);
    ck_assert_ptr_nonnull(buf);
    xai_nifti *a = NULL, *b = NULL;
    ck_assert_int_eq(xai_nifti_open(fmri("nibabel_example_nifti2.nii.gz"), &a), XAI_OK);
    ck_assert_msg(xai_nifti_open_mem(buf, len, "ex2.nii.gz", &b) == XAI_OK, "%s",
                  xai_last_error());
    ck_assert_int_eq(memcmp(&a->info, &b->info, sizeof a->info), 0);
    ck_assert_uint_eq(a->n, b->n);
    ck_assert_int_eq(memcmp(a->data, b->data, a->n * sizeof(float)), 0);
    xai_nifti_close(a);
    xai_nifti_close(b);
    free(buf);
}
END_TEST

/* ---- datatypes, scaling, endianness, TR units ------------------------------------------ */

START_TEST(datatypes)
{
    /* 4 voxels each, extremes of the type; expected = (float)value */
    const uint8_t u8[4] = {0, 1, 200, 255};
    const int8_t i8[4] = {-128, -1, 0, 127};
    const int16_t i16[4] = {-32768, -7, 300, 32767};
    const uint16_t u16[4] = {0, 7, 40000, 65535};
    const int32_t i32[4] = {-2147483647 - 1, -5, 123456, 2147483647};
    const uint32_t u32[4] = {0, 5, 3000000000u, 4294967295u};
    const int64_t i64[4] = {-5000000000000LL, -1, 42, 9000000000000000000LL};
    const uint64_t u64[4] = {0, 1, 10000000000ULL, 18000000000000000000ULL};
    const float f32[4] = {-1.5f, 0.0f, 3.25e-20f, 6.0e30f};
    const double f64[4] = {-2.5, 1e-300, 123456.789, 1e300};
    const struct { int dt; const void *v; double e[4]; } cases[] = {
        {DT_UINT8, u8, {0, 1, 200, 255}},
        {DT_INT8, i8, {-128, -1, 0, 127}},
        {DT_INT16, i16, {-32768, -7, 300, 32767}},
        {DT_UINT16, u16, {0, 7, 40000, 65535}},
        {DT_INT32, i32, {-2147483648.0, -5, 123456, 2147483647.0}},
        {DT_UINT32, u32, {0, 5, 3000000000.0, 4294967295.0}},
        {DT_INT64, i64, {-5000000000000.0, -1, 42, 9e18}},
        {DT_UINT64, u64, {0, 1, 1e10, 1.8e19}},
        {DT_FLOAT32, f32, {-1.5, 0, 3.25e-20, 6.0e30}},
        {DT_FLOAT64, f64, {-2.5, 0, 123456.789, INFINITY}}, /* 1e-300 -> 0, 1e300 saturates */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int v = 1; v <= 2; v++) {
            size_t nb = 4 * (size_t)bytes_per(cases[c].dt), len;
            unsigned char *buf;
            if (v == 1) {
                nifti_1_header h;
                n1_default(&h, cases[c].dt, 2, 2, 1, 1);
                buf = n1_build(&h, cases[c].v, nb, &len);
            } else {
                nifti_2_header h;
                n2_default(&h, cases[c].dt, 2, 2, 1, 1);
                buf = n2_build(&h, cases[c].v, nb, &len);
            }
            xai_nifti *img = NULL;
            const char *name = xai_nifti_datatype_name(cases[c].dt);
            ck_assert_msg(xai_nifti_open_mem(buf, len, name, &img) == XAI_OK, "%s",
                          xai_last_error());
            ck_assert_int_eq(img->info.datatype, cases[c].dt);
            ck_assert_int_eq(img->info.version, v);
            ck_assert_uint_eq(img->n, 4);
            for (int i = 0; i < 4; i++)
                ck_assert_msg(img->data[i] == (float)cases[c].e[i], "%s[%d] = %g, want %g", name,
                              i, (double)img->data[i], (double)(float)cases[c].e[i]);
            xai_nifti_close(img);
            free(buf);
        }
    }
}
END_TEST

START_TEST(scaling)
{
    const int16_t raw[4] = {-2, 0, 5, 1000};
    struct { float slope, inter; double e[4]; } cases[] = {
        {2.0f, -3.0f, {-7, -3, 7, 1997}},
        {0.0f, 10.0f, {-2, 0, 5, 1000}},  /* slope 0: no scaling, inter ignored */
        {NAN, 10.0f, {-2, 0, 5, 1000}},   /* NaN slope: no scaling (nibabel does the same) */
        {0.5f, 0.25f, {-0.75, 0.25, 2.75, 500.25}},
        {1.0f, 0.0f, {-2, 0, 5, 1000}},
        {-1.0f, 100.0f, {102, 100, 95, -900}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        nifti_1_header h;
        n1_default(&h, DT_INT16, 4, 1, 1, 1);
        h.scl_slope = cases[c].slope;
        h.scl_inter = cases[c].inter;
        size_t len;
        unsigned char *buf = n1_build(&h, raw, sizeof raw, &len);
        xai_nifti *img = NULL;
        ck_assert_msg(xai_nifti_open_mem(buf, len, "scaled.nii", &img) == XAI_OK, "%s",
                      xai_last_error());
        for (int i = 0; i < 4; i++)
            ck_assert_msg(img->data[i] == (float)cases[c].e[i], "case %zu [%d]: %g want %g", c,
                          i, (double)img->data[i], cases[c].e[i]);
        xai_nifti_close(img);
        free(buf);
    }
    /* float64 data with slope in NIfTI-2 (double precision scaling) */
    nifti_2_header h2;
    n2_default(&h2, DT_FLOAT64, 2, 1, 1, 1);
    h2.scl_slope = 0.001;
    h2.scl_inter = 1.0;
    const double d[2] = {1000.0, -2000.0};
    size_t len;
    unsigned char *buf = n2_build(&h2, d, sizeof d, &len);
    xai_nifti *img = NULL;
    ck_assert_int_eq(xai_nifti_open_mem(buf, len, "s2.nii", &img), XAI_OK);
    ck_assert_float_eq_tol(img->data[0], 2.0f, 1e-6f);
    ck_assert_float_eq_tol(img->data[1], -1.0f, 1e-6f);
    xai_nifti_close(img);
    free(buf);
}
END_TEST

static void swap_bytes(void *p, size_t n)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned char t = b[i];
        b[i] = b[n - 1 - i];
        b[n - 1 - i] = t;
    }
}

START_TEST(big_endian)
{
    /* a big-endian NIfTI-1 int16 file, swapped field by field */
    nifti_1_header h;
    n1_default(&h, DT_INT16, 3, 1, 1, 1);
    h.scl_slope = 2.0f;
    h.scl_inter = 1.0f;
    swap_bytes(&h.sizeof_hdr, 4);
    for (int i = 0; i < 8; i++) {
        swap_bytes(&h.dim[i], 2);
        swap_bytes(&h.pixdim[i], 4);
    }
    swap_bytes(&h.datatype, 2);
    swap_bytes(&h.bitpix, 2);
    swap_bytes(&h.vox_offset, 4);
    swap_bytes(&h.scl_slope, 4);
    swap_bytes(&h.scl_inter, 4);
    int16_t raw[3] = {1, -300, 32000};
    for (int i = 0; i < 3; i++)
        swap_bytes(&raw[i], 2);
    size_t len;
    unsigned char *buf = n1_build(&h, raw, sizeof raw, &len);
    xai_nifti *img = NULL;
    ck_assert_msg(xai_nifti_open_mem(buf, len, "be.nii", &img) == XAI_OK, "%s",
                  xai_last_error());
    ck_assert_int_eq(img->info.dim[1], 3);
    ck_assert_float_eq(img->data[0], 3.0f);
    ck_assert_float_eq(img->data[1], -599.0f);
    ck_assert_float_eq(img->data[2], 64001.0f);
    xai_nifti_close(img);
    free(buf);
}
END_TEST

START_TEST(tr_units)
{
    const struct { int unit; float pix4; double tr; int assumed; } cases[] = {
        {NIFTI_UNITS_SEC, 2.5f, 2.5, 0},
        {NIFTI_UNITS_MSEC, 2500.0f, 2.5, 0},
        {NIFTI_UNITS_USEC, 750000.0f, 0.75, 0},
        {NIFTI_UNITS_SEC, 2000.0f, 2.0, 1},   /* nibabel example4d quirk */
        {NIFTI_UNITS_UNKNOWN, 3.0f, 3.0, 0},
        {NIFTI_UNITS_UNKNOWN, 1500.0f, 1.5, 1},
        {NIFTI_UNITS_SEC, 0.0f, 0.0, 0},      /* unknown TR: allowed, reported as 0 */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        nifti_1_header h;
        n1_default(&h, DT_UINT8, 2, 1, 1, 2);
        h.xyzt_units = (char)(NIFTI_UNITS_MM | cases[c].unit);
        h.pixdim[4] = cases[c].pix4;
        const uint8_t d[4] = {1, 2, 3, 4};
        size_t len;
        unsigned char *buf = n1_build(&h, d, sizeof d, &len);
        xai_nifti *img = NULL;
        ck_assert_msg(xai_nifti_open_mem(buf, len, "tr.nii", &img) == XAI_OK, "%s",
                      xai_last_error());
        ck_assert_msg(fabs(img->info.tr_s - cases[c].tr) < 1e-9, "case %zu: tr %g want %g", c,
                      img->info.tr_s, cases[c].tr);
        ck_assert_int_eq(img->info.tr_assumed_ms, cases[c].assumed);
        ck_assert_double_eq(img->info.pixdim[4], (double)cases[c].pix4); /* never altered */
        ck_assert_int_eq(img->shape[0], 2);
        xai_nifti_close(img);
        free(buf);
    }
}
END_TEST

/* ---- round trips ---------------------------------------------------------------------- */

static void assert_same_geometry(const xai_nifti_info *a, const xai_nifti_info *b, int spatial_only)
{
    ck_assert_int_eq(a->version, b->version);
    for (int i = 1; i <= 3; i++)
        ck_assert_int_eq(a->dim[i], b->dim[i]);
    if (!spatial_only)
        for (int i = 0; i < 8; i++)
            ck_assert_int_eq(a->dim[i], b->dim[i]);
    for (int i = 0; i < 8; i++)
        ck_assert_msg(a->pixdim[i] == b->pixdim[i], "pixdim[%d] %g != %g", i, a->pixdim[i],
                      b->pixdim[i]);
    ck_assert_int_eq(a->qform_code, b->qform_code);
    ck_assert_int_eq(a->sform_code, b->sform_code);
    ck_assert(a->quatern_b == b->quatern_b && a->quatern_c == b->quatern_c &&
              a->quatern_d == b->quatern_d);
    ck_assert(a->qoffset_x == b->qoffset_x && a->qoffset_y == b->qoffset_y &&
              a->qoffset_z == b->qoffset_z);
    ck_assert(a->qfac == b->qfac);
    ck_assert_int_eq(memcmp(a->qform, b->qform, sizeof a->qform), 0);
    ck_assert_int_eq(memcmp(a->sform, b->sform, sizeof a->sform), 0);
    ck_assert_int_eq(memcmp(a->affine, b->affine, sizeof a->affine), 0);
    ck_assert_int_eq(a->affine_source, b->affine_source);
    ck_assert_int_eq(a->xyzt_units, b->xyzt_units);
    ck_assert(a->toffset == b->toffset);
    ck_assert(a->tr_s == b->tr_s);
}

/* Write a 4-D series and a 3-D volume on the grid of @p like into @p dir, read both back. */
static void round_trip(const char *dir, const xai_nifti_info *like, const char *ext)
{
    int64_t nx = like->dim[1], ny = like->dim[2], nz = like->dim[3], nt = 3;
    size_t nvol = (size_t)(nx * ny * nz), n = nvol * (size_t)nt;
    float *r = malloc(n * sizeof *r);
    ck_assert_ptr_nonnull(r);
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        r[i] = (float)(sin((double)i * 0.37) * (double)(i % 97)) * 1e-3f;
        m = fabs((double)r[i]) > m ? fabs((double)r[i]) : m;
    }
    char p4[512], p3[512];
    snprintf(p4, sizeof p4, "%s/sub-01_desc-lrp_bold%s", dir, ext);
    snprintf(p3, sizeof p3, "%s/sub-01_desc-lrp_statmap%s", dir, ext);
    ck_assert_msg(xai_nifti_write_series(p4, like, nt, r, "xai-fmri 0.1 LRP-eps0.25 tgt=2") ==
                  XAI_OK, "%s", xai_last_error());
    ck_assert_msg(xai_nifti_write_volume(p3, like, r, "mean over volumes") == XAI_OK, "%s",
                  xai_last_error());

    xai_nifti *a = NULL;
    ck_assert_msg(xai_nifti_open(p4, &a) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(a->info.dim[0], 4);
    ck_assert_int_eq(a->info.dim[4], nt);
    ck_assert_int_eq(a->shape[0], nt);
    assert_same_geometry(&a->info, like, 1);
    ck_assert_int_eq(a->info.datatype, DT_FLOAT32);
    ck_assert_int_eq(a->info.intent_code, 1001);
    ck_assert_str_eq(a->info.intent_name, "LRP");
    ck_assert_str_eq(a->info.descrip, "xai-fmri 0.1 LRP-eps0.25 tgt=2");
    ck_assert_double_eq(a->info.cal_max, (double)(float)m);
    ck_assert_double_eq(a->info.cal_min, -(double)(float)m);
    ck_assert(a->info.scl_slope == 1.0 && a->info.scl_inter == 0.0);
    ck_assert_uint_eq(a->n, n);
    ck_assert_int_eq(memcmp(a->data, r, n * sizeof *r), 0);
    xai_nifti_close(a);

    ck_assert_msg(xai_nifti_open(p3, &a) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(a->info.dim[0], 3);
    ck_assert_int_eq(a->info.dim[4], 1);
    ck_assert_int_eq(a->shape[0], 1);
    ck_assert_double_eq(a->info.tr_s, 0.0); /* 3-D: no time axis */
    ck_assert_double_eq(a->info.pixdim[4], like->pixdim[4]);
    ck_assert_int_eq(a->info.xyzt_units, like->xyzt_units);
    ck_assert(a->info.toffset == like->toffset);
    for (int i = 1; i <= 3; i++) {
        ck_assert_int_eq(a->info.dim[i], like->dim[i]);
        ck_assert(a->info.pixdim[i] == like->pixdim[i]);
    }
    ck_assert_int_eq(memcmp(a->info.affine, like->affine, sizeof like->affine), 0);
    ck_assert_int_eq(memcmp(a->info.qform, like->qform, sizeof like->qform), 0);
    ck_assert_int_eq(memcmp(a->info.sform, like->sform, sizeof like->sform), 0);
    ck_assert_int_eq(a->info.intent_code, 1001);
    ck_assert_uint_eq(a->n, nvol);
    ck_assert_int_eq(memcmp(a->data, r, nvol * sizeof *r), 0);
    xai_nifti_close(a);
    free(r);
    /* only the two outputs remain: no temporary files */
    ck_assert_int_eq(count_entries(dir), 2);
    unlink(p4);
    unlink(p3);
}

/* A synthetic template with everything non-default: oblique qform only, ms, toffset. */
static xai_nifti *synthetic_template(int version)
{
    size_t len;
    unsigned char *buf;
    const uint8_t d[4 * 3 * 2 * 2] = {0};
    if (version == 1) {
        nifti_1_header h;
        n1_default(&h, DT_UINT8, 4, 3, 2, 2);
        h.pixdim[0] = -1;
        h.pixdim[1] = 1.5f;
        h.pixdim[2] = 2.25f;
        h.pixdim[3] = 3.0f;
        h.pixdim[4] = 800.0f;
        h.pixdim[5] = 0.0f;
        h.xyzt_units = NIFTI_UNITS_MM | NIFTI_UNITS_MSEC;
        h.toffset = 1.25f;
        h.qform_code = NIFTI_XFORM_SCANNER_ANAT;
        h.quatern_b = 0.1f;
        h.quatern_c = -0.2f;
        h.quatern_d = 0.3f;
        h.qoffset_x = -90.5f;
        h.qoffset_y = 12.0f;
        h.qoffset_z = 33.3f;
        buf = n1_build(&h, d, sizeof d, &len);
    } else {
        nifti_2_header h;
        n2_default(&h, DT_UINT8, 4, 3, 2, 2);
        h.pixdim[0] = 1;
        h.pixdim[1] = 1.1;
        h.pixdim[2] = 1.2;
        h.pixdim[3] = 1.3;
        h.pixdim[4] = 0.72;
        h.xyzt_units = NIFTI_UNITS_MICRON | NIFTI_UNITS_SEC;
        h.toffset = -0.5;
        h.qform_code = NIFTI_XFORM_ALIGNED_ANAT;
        h.quatern_b = 0.05;
        h.qoffset_x = 1.0 / 3.0;
        h.sform_code = NIFTI_XFORM_MNI_152;
        double sx[4] = {1.1, 0.01, 0.0, -80.123456789}, sy[4] = {0.0, 1.2, 0.02, 7.0},
               sz[4] = {0.003, 0.0, 1.3, 1e-9};
        memcpy(h.srow_x, sx, sizeof sx);
        memcpy(h.srow_y, sy, sizeof sy);
        memcpy(h.srow_z, sz, sizeof sz);
        buf = n2_build(&h, d, sizeof d, &len);
    }
    xai_nifti *img = NULL;
    ck_assert_msg(xai_nifti_open_mem(buf, len, "template", &img) == XAI_OK, "%s",
                  xai_last_error());
    free(buf);
    return img;
}

START_TEST(round_trip_synthetic)
{
    char *dir = xai_test_tmpdir();
    static const char *exts[] = {".nii", ".nii.gz"};
    for (int v = 1; v <= 2; v++) {
        xai_nifti *t = synthetic_template(v);
        ck_assert_int_eq(t->info.affine_source,
                         v == 1 ? XAI_NIFTI_AFFINE_QFORM : XAI_NIFTI_AFFINE_SFORM);
        if (v == 1) {
            ck_assert_double_eq_tol(t->info.tr_s, 0.8, 1e-9);
            ck_assert_int_eq(t->info.tr_assumed_ms, 0);
        }
        for (int e = 0; e < 2; e++)
            round_trip(dir, &t->info, exts[e]);
        xai_nifti_close(t);
    }
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(round_trip_real)
{
    NEED_SHARED();
    char *dir = xai_test_tmpdir();
    const char *files[] = {"nibabel_example_nifti2.nii.gz",
                           "haxby2001_sub001/run003_bold_25mm.nii.gz"};
    for (int f = 0; f < 2; f++) {
        xai_nifti *t = NULL;
        ck_assert_int_eq(xai_nifti_open(fmri(files[f]), &t), XAI_OK);
        round_trip(dir, &t->info, ".nii.gz");
        round_trip(dir, &t->info, ".nii");
        xai_nifti_close(t);
    }
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(writer_details)
{
    char *dir = xai_test_tmpdir();
    xai_nifti *t = synthetic_template(1);
    float vol[4 * 3 * 2] = {0};
    char p[512];
    snprintf(p, sizeof p, "%s/map.nii", dir);

    /* descrip: cut to 79 bytes, never inside a UTF-8 character; zero map -> cal 0/0 */
    char longd[200];
    memset(longd, 'a', 78);
    memcpy(longd + 78, "\xc3\xa9tail", 7); /* U+00E9 at bytes 78-79 */
    ck_assert_int_eq(xai_nifti_write_volume(p, &t->info, vol, longd), XAI_OK);
    xai_nifti *a = NULL;
    ck_assert_int_eq(xai_nifti_open(p, &a), XAI_OK);
    ck_assert_uint_eq(strlen(a->info.descrip), 78);
    ck_assert_double_eq(a->info.cal_min, 0.0);
    ck_assert_double_eq(a->info.cal_max, 0.0);
    xai_nifti_close(a);

    /* overwrite in place; negative maximum gives a symmetric range too */
    vol[5] = -4.5f;
    vol[6] = 2.0f;
    ck_assert_int_eq(xai_nifti_write_volume(p, &t->info, vol, NULL), XAI_OK);
    ck_assert_int_eq(xai_nifti_open(p, &a), XAI_OK);
    ck_assert_double_eq(a->info.cal_min, -4.5);
    ck_assert_double_eq(a->info.cal_max, 4.5);
    ck_assert_str_eq(a->info.descrip, "");
    ck_assert_float_eq(a->data[5], -4.5f);
    xai_nifti_close(a);
    ck_assert_int_eq(count_entries(dir), 1);

    /* errors leave nothing behind and keep the old file */
    vol[3] = NAN;
    ck_assert_int_eq(xai_nifti_write_volume(p, &t->info, vol, NULL), XAI_ENUMERIC);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "map.nii"));
    vol[3] = 0;
    ck_assert_int_eq(xai_nifti_write_series(p, &t->info, 0, vol, NULL), XAI_EINVAL);
    char bad[512];
    snprintf(bad, sizeof bad, "%s/map.img", dir);
    ck_assert_int_eq(xai_nifti_write_volume(bad, &t->info, vol, NULL), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), ".nii"));
    snprintf(bad, sizeof bad, "%s/no/such/dir/map.nii.gz", dir);
    ck_assert_int_eq(xai_nifti_write_volume(bad, &t->info, vol, NULL), XAI_EIO);
    xai_nifti_info broken = t->info;
    broken.pixdim[2] = NAN;
    ck_assert_int_eq(xai_nifti_write_volume(p, &broken, vol, NULL), XAI_EINVAL);
    broken = t->info;
    broken.dim[1] = 40000; /* does not fit NIfTI-1 */
    ck_assert_int_eq(xai_nifti_write_volume(p, &broken, vol, NULL), XAI_EINVAL);
    ck_assert_int_eq(count_entries(dir), 1);
    ck_assert_int_eq(xai_nifti_open(p, &a), XAI_OK);
    ck_assert_double_eq(a->info.cal_max, 4.5);
    xai_nifti_close(a);

    xai_nifti_close(t);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- malformed corpus ----------------------------------------------------------------- */

START_TEST(malformed)
{
    const int16_t raw[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    nifti_1_header h;
    size_t len;
    unsigned char *buf;

    /* empty and tiny buffers */
    expect_fail_mem("", 0, "empty.nii", XAI_EFORMAT, "truncated");
    expect_fail_mem("\x5c\x01\x00\x00", 4, "tiny.nii", XAI_EFORMAT, "truncated");

    /* truncated header and truncated data */
    n1_default(&h, DT_INT16, 2, 2, 2, 1);
    buf = n1_build(&h, raw, sizeof raw, &len);
    expect_fail_mem(buf, 200, "trunc-hdr.nii", XAI_EFORMAT, "truncated");
    expect_fail_mem(buf, len - 3, "trunc-data.nii", XAI_EFORMAT, "truncated");
    free(buf);

    /* wrong sizeof_hdr, wrong magic string, ANALYZE */
    n1_default(&h, DT_INT16, 2, 2, 2, 1);
    h.sizeof_hdr = 349;
    buf = n1_build(&h, raw, sizeof raw, &len);
    expect_fail_mem(buf, len, "sizeof.nii", XAI_EFORMAT, "magic");
    free(buf);
    n1_default(&h, DT_INT16, 2, 2, 2, 1);
    memcpy(h.magic, "n+3", 4);
    buf = n1_build(&h, raw, sizeof raw, &len);
    expect_fail_mem(buf, len, "magic.nii", XAI_EFORMAT, "magic");
    free(buf);
    expect_fail_mem("GIF89a this is not an image at all, not even close, honestly............",
                    70, "gif.nii", XAI_EFORMAT, "magic");

    /* huge declared dims with a tiny file: refused before any big allocation */
    n1_default(&h, DT_FLOAT64, 32767, 32767, 32767, 32767);
    buf = n1_build(&h, raw, sizeof raw, &len);
    expect_fail_mem(buf, len, "huge1.nii", XAI_EFORMAT, NULL);
    free(buf);
    n1_default(&h, DT_INT16, 1000, 1000, 1000, 1);
    buf = n1_build(&h, raw, sizeof raw, &len);
    expect_fail_mem(buf, len, "huge2.nii", XAI_EFORMAT, "truncated");
    free(buf);
    {
        nifti_2_header h2;
        n2_default(&h2, DT_INT16, (int64_t)1 << 40, (int64_t)1 << 40, 2, 1);
        buf = n2_build(&h2, raw, sizeof raw, &len);
        expect_fail_mem(buf, len, "huge3.nii", XAI_EFORMAT, NULL);
        free(buf);
        n2_default(&h2, DT_INT16, 100000, 100000, 1, 1);
        buf = n2_build(&h2, raw, sizeof raw, &len);
        expect_fail_mem(buf, len, "huge4.nii", XAI_EFORMAT, "truncated");
        free(buf);
        n2_default(&h2, DT_INT16, 2, 2, 2, 1);
        h2.vox_offset = INT64_MAX - 4;
        buf = n2_build(&h2, raw, sizeof raw, &len);
        expect_fail_mem(buf, len, "offset2.nii", XAI_EFORMAT, NULL);
        free(buf);
        n2_default(&h2, DT_INT16, 2, 2, 2, 1);
        memcpy(h2.magic + 4, "\n\n\032\n", 4);
        buf = n2_build(&h2, raw, sizeof raw, &len);
        expect_fail_mem(buf, len, "sig2.nii", XAI_EFORMAT, "signature");
        free(buf);
    }

    /* NIfTI-1 vox_offset huge or NaN */
    n1_default(&h, DT_INT16, 2, 2, 2, 1);
    h.vox_offset = 1e30f;
    buf = n1_build(&h, raw, sizeof raw, &len);
    expect_fail_mem(buf, len, "offset1.nii", XAI_EFORMAT, "vox_offset");
    free(buf);
    n1_default(&h, DT_INT16, 2, 2, 2, 1);
    h.vox_offset = 1e6f; /* finite but past the end: the data are missing */
    buf = n1_build(&h, raw, sizeof raw, &len);
    expect_fail_mem(buf, len, "offset3.nii", XAI_EFORMAT, "truncated");
    free(buf);
    {
        /* an extension that claims to run to a far vox_offset */
        n1_default(&h, DT_INT16, 2, 2, 2, 1);
        h.vox_offset = 2147483000.0f;
        buf = n1_build(&h, raw, sizeof raw, &len);
        buf[348] = 1;
        int32_t esize = 2147482000, ecode = 6;
        memcpy(buf + 352 - 0, &esize, 4);
        memcpy(buf + 356, &ecode, 4);
        expect_fail_mem(buf, len, "ext.nii", XAI_EFORMAT, "truncated");
        free(buf);
    }

    /* negative and zero dims */
    n1_default(&h, DT_INT16, 2, -2, 2, 1);
    buf = n1_build(&h, raw, sizeof raw, &len);
    expect_fail_mem(buf, len, "negdim.nii", XAI_EFORMAT, NULL);
    free(buf);
    n1_default(&h, DT_INT16, 2, 0, 2, 1);
    buf = n1_build(&h, raw, sizeof raw, &len);
    expect_fail_mem(buf, len, "zerodim.nii", XAI_EFORMAT, NULL);
    free(buf);
    n1_default(&h, DT_INT16, 2, 2, 2, 1);
    h.dim[0] = 9;
    buf = n1_build(&h, raw, sizeof raw, &len);
    expect_fail_mem(buf, len, "ndim.nii", XAI_EFORMAT, NULL);
    free(buf);

    /* zero, NaN and infinite voxel sizes; NaN and negative time step */
    const struct { int i; float v; const char *name; } pix[] = {
        {1, 0.0f, "pix0.nii"}, {2, NAN, "pixnan.nii"}, {3, INFINITY, "pixinf.nii"},
        {4, NAN, "trnan.nii"}, {4, -2.0f, "trneg.nii"}};
    for (size_t i = 0; i < sizeof pix / sizeof pix[0]; i++) {
        n1_default(&h, DT_UINT8, 2, 2, 2, 2);
        h.pixdim[pix[i].i] = pix[i].v;
        buf = n1_build(&h, raw, 16, &len);
        expect_fail_mem(buf, len, pix[i].name, XAI_EFORMAT, "pixdim");
        free(buf);
    }

    /* bad scaling */
    n1_default(&h, DT_INT16, 2, 2, 2, 1);
    h.scl_slope = INFINITY;
    buf = n1_build(&h, raw, sizeof raw, &len);
    expect_fail_mem(buf, len, "slopeinf.nii", XAI_EFORMAT, "scaling");
    free(buf);
    n1_default(&h, DT_INT16, 2, 2, 2, 1);
    h.scl_slope = 2.0f;
    h.scl_inter = NAN;
    buf = n1_build(&h, raw, sizeof raw, &len);
    expect_fail_mem(buf, len, "internan.nii", XAI_EFORMAT, "scaling");
    free(buf);

    /* non-finite sform */
    n1_default(&h, DT_INT16, 2, 2, 2, 1);
    h.sform_code = 1;
    h.srow_x[0] = 1;
    h.srow_y[1] = NAN;
    h.srow_z[2] = 1;
    buf = n1_build(&h, raw, sizeof raw, &len);
    expect_fail_mem(buf, len, "sform.nii", XAI_EFORMAT, "sform");
    free(buf);

    /* bad datatypes: unknown code, valid but unsupported ones, bitpix mismatch */
    const struct { int dt; xai_status st; const char *name; } dts[] = {
        {9999, XAI_EFORMAT, "dt9999.nii"}, {DT_COMPLEX64, XAI_EUNSUPPORTED, "complex.nii"},
        {DT_RGB24, XAI_EUNSUPPORTED, "rgb.nii"}, {DT_BINARY, XAI_EUNSUPPORTED, "binary.nii"},
        {0, XAI_EFORMAT, "dt0.nii"}};
    for (size_t i = 0; i < sizeof dts / sizeof dts[0]; i++) {
        n1_default(&h, DT_UINT8, 2, 2, 1, 1);
        h.datatype = (short)dts[i].dt;
        unsigned char big[64] = {0};
        buf = n1_build(&h, big, sizeof big, &len);
        expect_fail_mem(buf, len, dts[i].name, dts[i].st, NULL);
        free(buf);
    }

    /* 5-D images are refused clearly */
    n1_default(&h, DT_UINT8, 2, 1, 1, 1);
    h.dim[0] = 5;
    h.dim[4] = 1;
    h.dim[5] = 2;
    buf = n1_build(&h, raw, 4, &len);
    expect_fail_mem(buf, len, "5d.nii", XAI_EUNSUPPORTED, "4-D");
    free(buf);

    /* a .hdr/.img pair header cannot be read from memory */
    n1_default(&h, DT_UINT8, 2, 1, 1, 1);
    memcpy(h.magic, "ni1", 4);
    h.vox_offset = 0;
    buf = n1_build(&h, raw, 0, &len);
    expect_fail_mem(buf, 348, "pair.hdr", XAI_EUNSUPPORTED, "pair");
    free(buf);
}
END_TEST

START_TEST(malformed_gzip)
{
    char *dir = xai_test_tmpdir();
    nifti_1_header h;
    const int16_t raw[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    size_t len;
    n1_default(&h, DT_INT16, 2, 2, 2, 1);
    unsigned char *buf = n1_build(&h, raw, sizeof raw, &len);
    char p[512];
    snprintf(p, sizeof p, "%s/ok.nii.gz", dir);
    write_file(p, buf, len, 1);
    size_t glen = 0;
    unsigned char *gz = xai_test_read_file(p, &glen);
    ck_assert_ptr_nonnull(gz);
    /* sanity: the intact one reads, from the path and from memory */
    xai_nifti *img = NULL;
    ck_assert_msg(xai_nifti_open(p, &img) == XAI_OK, "%s", xai_last_error());
    ck_assert_float_eq(img->data[7], 8.0f);
    xai_nifti_close(img);
    ck_assert_int_eq(xai_nifti_open_mem(gz, glen, "ok.nii.gz", &img), XAI_OK);
    xai_nifti_close(img);
    /* gzip cut short in the data, and cut inside the header */
    expect_fail_mem(gz, glen - 12, "cut.nii.gz", XAI_EFORMAT, NULL);
    expect_fail_mem(gz, 30, "cut-hdr.nii.gz", XAI_EFORMAT, NULL);
    /* gzip member whose whole payload is garbage */
    unsigned char junk[64];
    memcpy(junk, gz, 10);
    for (int i = 10; i < 64; i++)
        junk[i] = (unsigned char)(i * 37 + 11);
    expect_fail_mem(junk, sizeof junk, "junk.nii.gz", XAI_EFORMAT, NULL);
    free(gz);
    size_t len2 = len;
    unsigned char *buf2 = buf;

    /* gzip data under a plain .nii name: named as such */
    snprintf(p, sizeof p, "%s/compressed.nii", dir);
    write_file(p, buf2, len2, 1);
    ck_assert_int_eq(xai_nifti_open(p, &img), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "gzip"));
    free(buf2);

    /* path entry: missing file is XAI_EIO and names it */
    snprintf(p, sizeof p, "%s/missing.nii", dir);
    ck_assert_int_eq(xai_nifti_open(p, &img), XAI_EIO);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "missing.nii"));
    ck_assert_int_eq(xai_nifti_open(NULL, &img), XAI_EINVAL);
    ck_assert_int_eq(xai_nifti_open_mem(NULL, 10, NULL, &img), XAI_EINVAL);
    xai_nifti_close(NULL);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("nifti");
    TCase *real = tcase_create("real");
    tcase_add_test(real, real_example4d);
    tcase_add_test(real, real_nifti2);
    tcase_add_test(real, real_haxby);
    tcase_add_test(real, real_mem_matches_path);
    tcase_add_test(real, round_trip_real);
    suite_add_tcase(s, real);
    TCase *rd = tcase_create("read");
    tcase_add_test(rd, datatypes);
    tcase_add_test(rd, scaling);
    tcase_add_test(rd, big_endian);
    tcase_add_test(rd, tr_units);
    suite_add_tcase(s, rd);
    TCase *wr = tcase_create("write");
    tcase_add_test(wr, round_trip_synthetic);
    tcase_add_test(wr, writer_details);
    suite_add_tcase(s, wr);
    TCase *bad = tcase_create("malformed");
    tcase_add_test(bad, malformed);
    tcase_add_test(bad, malformed_gzip);
    suite_add_tcase(s, bad);
    return s;
}
