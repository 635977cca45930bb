/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-groups.c - the sample-group readers (xai/groups.h): index lists, a group .npy of float
 * or integer dtype, a cluster of clusters.tsv; known groups and refused inputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"
#include "xai.h"
#include "xai/groups.h"
#include "xai/npy.h"

static void expect_indices(const int64_t *got, int64_t n, const int64_t *want, int64_t nw)
{
    ck_assert_int_eq(n, nw);
    for (int64_t i = 0; i < n; i++)
        ck_assert_int_eq(got[i], want[i]);
}

START_TEST(test_index_list)
{
    static const char text[] = " 3,1\n\t7 ,, 0\r\n3";
    int64_t *idx, n;
    ck_assert_int_eq(xai_index_list_parse(text, strlen(text), "a.txt", 8, &idx, &n), XAI_OK);
    expect_indices(idx, n, (const int64_t[]){3, 1, 7, 0, 3}, 5);
    free(idx);
    ck_assert_int_eq(xai_index_list_parse("", 0, "e.txt", 8, &idx, &n), XAI_OK);
    ck_assert(n == 0 && !idx);
    static const char *const bad[] = {"1 8", "1 -1", "1 2x", "1;2", "0.5", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(xai_index_list_parse(bad[i], strlen(bad[i]), "b.txt", 8, &idx, &n) == XAI_EFORMAT, "%s", bad[i]);
        ck_assert_ptr_nonnull(strstr(xai_last_error(), "b.txt"));
        ck_assert(!idx && n == 0);
    }
}
END_TEST

/* a .npy in memory: header for a 1-D array of dtype @p descr */
static size_t npy_bytes(char *buf, const char *descr, const void *data, size_t nbytes, int n)
{
    char hdr[128];
    int hl = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (%d,), }", descr, n);
    int pad = 64 - (10 + hl + 1) % 64;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)((hl + pad + 1) & 0xff), buf[9] = (char)((hl + pad + 1) >> 8);
    memcpy(buf + 10, hdr, (size_t)hl);
    memset(buf + 10 + hl, ' ', (size_t)pad);
    buf[10 + hl + pad] = '\n';
    memcpy(buf + 11 + hl + pad, data, nbytes);
    return (size_t)(11 + hl + pad) + nbytes;
}

START_TEST(test_groups_npy)
{
    char buf[512];
    const float f[6] = {1, 0, 2, 1, 0, 0.5f};
    const int64_t i64[6] = {0, 1, 1, 7, 0, 1};
    xai_sample_groups g;
    size_t len = npy_bytes(buf, "<f4", f, sizeof f, 6);
    ck_assert_int_eq(xai_sample_groups_npy(buf, len, "g.npy", 6, &g), XAI_OK);
    expect_indices(g.in, g.n_in, (const int64_t[]){0, 3}, 2);
    expect_indices(g.out, g.n_out, (const int64_t[]){1, 4}, 2);
    xai_sample_groups_free(&g);
    ck_assert_int_eq(xai_sample_groups_npy(buf, len, "g.npy", 7, &g), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "6 values for 7 samples"));
    len = npy_bytes(buf, "<i8", i64, sizeof i64, 6);
    ck_assert_int_eq(xai_sample_groups_npy(buf, len, "g.npy", 6, &g), XAI_OK);
    expect_indices(g.in, g.n_in, (const int64_t[]){1, 2, 5}, 3);
    expect_indices(g.out, g.n_out, (const int64_t[]){0, 4}, 2);
    xai_sample_groups_free(&g);
    ck_assert_int_ne(xai_sample_groups_npy(buf, 20, "g.npy", 6, &g), XAI_OK);
    ck_assert(!g.in && !g.out);
}
END_TEST

START_TEST(test_groups_spray)
{
    static const char tsv[] = "index\tclass\tcluster\tscore\n4\t1\t2\t0.1\n0\t1\t0\t0.2\n2\t0\t2\tn/a\n5\t1\t2\t0\n";
    xai_sample_groups g;
    ck_assert_int_eq(xai_sample_groups_spray(tsv, strlen(tsv), "c.tsv", 1, 2, 6, &g), XAI_OK);
    expect_indices(g.in, g.n_in, (const int64_t[]){4, 5}, 2);
    expect_indices(g.out, g.n_out, (const int64_t[]){0, 2}, 2);
    xai_sample_groups_free(&g);
    ck_assert_int_eq(xai_sample_groups_spray(tsv, strlen(tsv), "c.tsv", 1, 2, 5, &g), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "row 4"));
    static const char nocol[] = "index\tclass\n1\t0\n", na[] = "index\tclass\tcluster\n1\tn/a\t0\n";
    ck_assert_int_eq(xai_sample_groups_spray(nocol, strlen(nocol), "c.tsv", 0, 0, 5, &g), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "index, class and cluster"));
    ck_assert_int_eq(xai_sample_groups_spray(na, strlen(na), "c.tsv", 0, 0, 5, &g), XAI_EFORMAT);
    ck_assert(!g.in && !g.out);
    ck_assert_int_eq(xai_sample_groups_load_spray("/nonexistent/c.tsv", 0, 0, 5, &g), XAI_EIO);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("groups");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_index_list);
    tcase_add_test(tc, test_groups_npy);
    tcase_add_test(tc, test_groups_spray);
    suite_add_tcase(s, tc);
    return s;
}
