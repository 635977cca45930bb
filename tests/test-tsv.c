/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-tsv.c - BIDS TSV tables: exact text written, round trips (numbers bit-exact, n/a,
 * strings), tolerant reading (CRLF, BOM, no final newline, empty cells), headerless files,
 * malformed tables, previews of the first rows, and a real Haxby events.tsv from ../shared (skipped when absent).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-common.h"
#include "xai/tsv.h"

static xai_tsv *parse(const char *text, unsigned flags)
{
    xai_tsv *t = NULL;
    xai_status s = xai_tsv_load_mem(text, strlen(text), "t.tsv", flags, &t);
    ck_assert_msg(s == XAI_OK, "%s", xai_last_error());
    return t;
}

static double num(const xai_tsv *t, size_t r, size_t c)
{
    double v;
    ck_assert_int_eq(xai_tsv_get_number(t, r, c, &v), XAI_OK);
    return v;
}

START_TEST(test_write_exact_text)
{
    static const char *names[] = {"name", "type", "relevance"};
    static const xai_tsv_type types[] = {XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_NUMBER};
    char *dir = xai_test_tmpdir();
    const char *p = xai_test_path(dir, "channels.tsv");
    xai_tsv *t;
    size_t r, len;
    char *text;

    ck_assert_int_eq(xai_tsv_create(3, names, types, &t), XAI_OK);
    ck_assert_int_eq(xai_tsv_add_row(t, &r), XAI_OK);
    ck_assert_uint_eq(r, 0);
    ck_assert_int_eq(xai_tsv_set_string(t, 0, 0, "Fp1"), XAI_OK);
    ck_assert_int_eq(xai_tsv_set_string(t, 0, 1, "EEG"), XAI_OK);
    ck_assert_int_eq(xai_tsv_set_number(t, 0, 2, 0.1), XAI_OK);
    ck_assert_int_eq(xai_tsv_add_row(t, &r), XAI_OK);
    ck_assert_int_eq(xai_tsv_set_string(t, 1, 0, "Status"), XAI_OK);
    ck_assert_int_eq(xai_tsv_set_string(t, 1, 1, "TRIG"), XAI_OK);
    ck_assert_int_eq(xai_tsv_set_number(t, 1, 2, NAN), XAI_OK); /* missing */
    ck_assert_int_eq(xai_tsv_add_row(t, NULL), XAI_OK);
    ck_assert_int_eq(xai_tsv_set_string(t, 2, 0, "Cz"), XAI_OK);
    ck_assert_int_eq(xai_tsv_set_number(t, 2, 2, -1.5e-7), XAI_OK);
    ck_assert_int_eq(xai_tsv_save(t, p, 0), XAI_OK);
    text = xai_test_read_file(p, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(len, strlen("name\ttype\trelevance\nFp1\tEEG\t0.1\nStatus\tTRIG\tn/a\n"
                                  "Cz\tn/a\t-1.5e-07\n"));
    ck_assert(memcmp(text, "name\ttype\trelevance\nFp1\tEEG\t0.1\nStatus\tTRIG\tn/a\n"
                           "Cz\tn/a\t-1.5e-07\n", len) == 0);
    free(text);
    xai_tsv_free(t);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_round_trip)
{
    static const double vals[] = {0.1, 1.0 / 3.0, -2.5, 1e-300, 6.02214076e23, 0.0, -0.0,
                                  INFINITY, -INFINITY, 123456789.0, 3.4028234663852886e38};
    const size_t nv = sizeof vals / sizeof vals[0];
    char *dir = xai_test_tmpdir();
    const char *p = xai_test_path(dir, "rt.tsv");
    const char *names[] = {"onset", "label"};
    const xai_tsv_type types[] = {XAI_TSV_NUMBER, XAI_TSV_STRING};
    xai_tsv *t, *u;

    ck_assert_int_eq(xai_tsv_create(2, names, types, &t), XAI_OK);
    for (size_t i = 0; i < nv; i++) {
        char lab[32];
        ck_assert_int_eq(xai_tsv_add_row(t, NULL), XAI_OK);
        ck_assert_int_eq(xai_tsv_set_number(t, i, 0, vals[i]), XAI_OK);
        snprintf(lab, sizeof lab, "ev %zu \xc3\xa9", i); /* spaces and UTF-8 are fine */
        ck_assert_int_eq(xai_tsv_set_string(t, i, 1, i == 4 ? NULL : lab), XAI_OK);
    }
    ck_assert_int_eq(xai_tsv_save(t, p, 0), XAI_OK);
    ck_assert_int_eq(xai_tsv_load(p, 0, &u), XAI_OK);
    ck_assert_uint_eq(xai_tsv_nrows(u), nv);
    ck_assert_uint_eq(xai_tsv_ncols(u), 2);
    ck_assert_str_eq(xai_tsv_column_name(u, 0), "onset");
    ck_assert_str_eq(xai_tsv_column_name(u, 1), "label");
    ck_assert_int_eq(xai_tsv_column_type(u, 0), XAI_TSV_NUMBER);
    ck_assert_int_eq(xai_tsv_column_type(u, 1), XAI_TSV_STRING);
    for (size_t i = 0; i < nv; i++) {
        double v = num(u, i, 0);
        ck_assert_msg(memcmp(&v, &vals[i], sizeof v) == 0, "row %zu: %.17g != %.17g", i, v,
                      vals[i]);
        if (i == 4) {
            ck_assert(xai_tsv_is_na(u, i, 1));
            ck_assert_ptr_null(xai_tsv_get_string(u, i, 1));
        } else {
            ck_assert_str_eq(xai_tsv_get_string(u, i, 1), xai_tsv_get_string(t, i, 1));
        }
    }
    xai_tsv_free(t);
    xai_tsv_free(u);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_tolerant_reading)
{
    /* CRLF, UTF-8 BOM, no final newline, an empty cell and explicit n/a */
    xai_tsv *t = parse("\xef\xbb\xbfonset\tduration\tvalue\r\n1.5\t2\tn/a\r\n3\t\tabc", 0);
    double v;
    ck_assert_uint_eq(xai_tsv_ncols(t), 3);
    ck_assert_uint_eq(xai_tsv_nrows(t), 2);
    ck_assert_str_eq(xai_tsv_column_name(t, 0), "onset");
    ck_assert_int_eq(xai_tsv_find_column(t, "value"), 2);
    ck_assert_int_eq(xai_tsv_find_column(t, "nope"), -1);
    ck_assert_int_eq(xai_tsv_column_type(t, 0), XAI_TSV_NUMBER);
    ck_assert_int_eq(xai_tsv_column_type(t, 1), XAI_TSV_NUMBER);
    ck_assert_int_eq(xai_tsv_column_type(t, 2), XAI_TSV_STRING);
    ck_assert_double_eq(num(t, 0, 0), 1.5);
    ck_assert_double_eq(num(t, 1, 0), 3.0);
    ck_assert(xai_tsv_is_na(t, 1, 1));
    ck_assert(isnan(num(t, 1, 1)));
    ck_assert(xai_tsv_is_na(t, 0, 2));
    ck_assert_str_eq(xai_tsv_get_string(t, 1, 2), "abc");
    ck_assert_int_eq(xai_tsv_get_number(t, 1, 2, &v), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "'abc'"));
    ck_assert_int_eq(xai_tsv_get_number(t, 2, 0, &v), XAI_EINVAL);
    ck_assert_int_eq(xai_tsv_get_number(t, 0, 3, &v), XAI_EINVAL);
    ck_assert(xai_tsv_is_na(t, 9, 9));
    xai_tsv_free(t);

    /* header only: no rows */
    t = parse("a\tb\n", 0);
    ck_assert_uint_eq(xai_tsv_nrows(t), 0);
    ck_assert_uint_eq(xai_tsv_ncols(t), 2);
    xai_tsv_free(t);

    /* hex and partial numbers make a string column */
    t = parse("x\ty\n0x10\t1e3\n", 0);
    ck_assert_int_eq(xai_tsv_column_type(t, 0), XAI_TSV_STRING);
    ck_assert_int_eq(xai_tsv_column_type(t, 1), XAI_TSV_NUMBER);
    ck_assert_double_eq(num(t, 0, 1), 1000.0);
    xai_tsv_free(t);
}
END_TEST

START_TEST(test_headerless)
{
    char *dir = xai_test_tmpdir();
    const char *p = xai_test_path(dir, "motion.tsv");
    xai_tsv *t = parse("1\t2\t3\n4\tn/a\t6\n", XAI_TSV_NO_HEADER), *u;
    size_t len;
    char *text;
    ck_assert_uint_eq(xai_tsv_nrows(t), 2);
    ck_assert_uint_eq(xai_tsv_ncols(t), 3);
    ck_assert_str_eq(xai_tsv_column_name(t, 2), "3");
    ck_assert_double_eq(num(t, 0, 0), 1.0);
    ck_assert_double_eq(num(t, 1, 2), 6.0);
    ck_assert(xai_tsv_is_na(t, 1, 1));
    ck_assert_int_eq(xai_tsv_save(t, p, XAI_TSV_NO_HEADER), XAI_OK);
    text = xai_test_read_file(p, &len);
    ck_assert_uint_eq(len, 14);
    ck_assert(memcmp(text, "1\t2\t3\n4\tn/a\t6\n", 14) == 0);
    free(text);
    ck_assert_int_eq(xai_tsv_load(p, XAI_TSV_NO_HEADER, &u), XAI_OK);
    ck_assert_uint_eq(xai_tsv_nrows(u), 2);
    xai_tsv_free(u);
    xai_tsv_free(t);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* Load a table, add a column and rows, save, read back: the EEG channels use case. */
START_TEST(test_extend)
{
    char *dir = xai_test_tmpdir();
    const char *p = xai_test_path(dir, "ext.tsv");
    xai_tsv *t = parse("name\ttype\tunits\nC3\tEEG\tuV\nC4\tEEG\tuV\n", 0), *u;
    size_t col, row;
    ck_assert_int_eq(xai_tsv_add_column(t, "relevance", XAI_TSV_NUMBER, &col), XAI_OK);
    ck_assert_uint_eq(col, 3);
    ck_assert(xai_tsv_is_na(t, 1, 3));
    ck_assert_int_eq(xai_tsv_set_number(t, 0, col, 0.25), XAI_OK);
    ck_assert_int_eq(xai_tsv_set_number(t, 1, col, -0.75), XAI_OK);
    for (int i = 0; i < 40; i++) { /* grow past the initial capacity */
        ck_assert_int_eq(xai_tsv_add_row(t, &row), XAI_OK);
        ck_assert_int_eq(xai_tsv_set_string(t, row, 0, "X"), XAI_OK);
        ck_assert_int_eq(xai_tsv_set_number(t, row, col, i), XAI_OK);
    }
    ck_assert_int_eq(xai_tsv_add_column(t, "relevance", XAI_TSV_NUMBER, NULL), XAI_EINVAL);
    ck_assert_int_eq(xai_tsv_add_column(t, "", XAI_TSV_NUMBER, NULL), XAI_EINVAL);
    ck_assert_int_eq(xai_tsv_add_column(t, "a\tb", XAI_TSV_NUMBER, NULL), XAI_EINVAL);
    ck_assert_int_eq(xai_tsv_set_string(t, 0, 0, "bad\nvalue"), XAI_EINVAL);
    ck_assert_int_eq(xai_tsv_set_string(t, 0, 9, "x"), XAI_EINVAL);
    ck_assert_int_eq(xai_tsv_set_number(t, 99, 0, 1), XAI_EINVAL);
    ck_assert_int_eq(xai_tsv_set_na(t, 99, 0), XAI_EINVAL);
    ck_assert_int_eq(xai_tsv_save(t, p, 0), XAI_OK);
    ck_assert_int_eq(xai_tsv_load(p, 0, &u), XAI_OK);
    ck_assert_uint_eq(xai_tsv_nrows(u), 42);
    ck_assert_uint_eq(xai_tsv_ncols(u), 4);
    ck_assert_double_eq(num(u, 1, 3), -0.75);
    ck_assert_double_eq(num(u, 41, 3), 39.0);
    ck_assert(xai_tsv_is_na(u, 41, 1));
    ck_assert_str_eq(xai_tsv_get_string(u, 1, 0), "C4");
    /* a text value turns a numeric column into a string column */
    ck_assert_int_eq(xai_tsv_column_type(u, 3), XAI_TSV_NUMBER);
    ck_assert_int_eq(xai_tsv_set_string(u, 0, 3, "high"), XAI_OK);
    ck_assert_int_eq(xai_tsv_column_type(u, 3), XAI_TSV_STRING);
    xai_tsv_free(u);
    xai_tsv_free(t);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_malformed)
{
    static const struct {
        const char *text;
        size_t len; /* 0: strlen */
        const char *word;
    } bad[] = {
        {"", 0, "empty"},
        {"\n\n", 0, "empty"},
        {"a\tb\n1\t2\t3\n", 0, "line 2"},
        {"a\tb\n1\t2\n4\n", 0, "line 3"},
        {"a\ta\n1\t2\n", 0, "duplicate"},
        {"a\t\tc\n1\t2\t3\n", 0, "empty name"},
        {"a\tb\n1\0\t2\n", 8, "NUL"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        xai_tsv *t = (xai_tsv *)&t;
        size_t len = bad[k].len ? bad[k].len : strlen(bad[k].text);
        ck_assert_int_eq(xai_tsv_load_mem(bad[k].text, len, "bad.tsv", 0, &t), XAI_EFORMAT);
        ck_assert_ptr_null(t);
        ck_assert_msg(strstr(xai_last_error(), "bad.tsv") && strstr(xai_last_error(), bad[k].word),
                      "case %zu: '%s'", k, xai_last_error());
    }
    {
        xai_tsv *t;
        const char *names[] = {"a", "a"};
        ck_assert_int_eq(xai_tsv_load("/nonexistent/x.tsv", 0, &t), XAI_EIO);
        ck_assert_ptr_nonnull(strstr(xai_last_error(), "/nonexistent/x.tsv"));
        ck_assert_int_eq(xai_tsv_create(2, names, NULL, &t), XAI_EINVAL);
        ck_assert_ptr_null(t);
        ck_assert_int_eq(xai_tsv_create(0, NULL, NULL, &t), XAI_OK);
        ck_assert_int_eq(xai_tsv_save(t, "/tmp/never-written.tsv", 0), XAI_EINVAL);
        ck_assert_int_eq(xai_tsv_save(NULL, "/tmp/never-written.tsv", 0), XAI_EINVAL);
        ck_assert_int_eq(xai_tsv_add_column(t, "a", XAI_TSV_STRING, NULL), XAI_OK);
        ck_assert_int_eq(xai_tsv_save(t, "/nonexistent/dir/x.tsv", 0), XAI_EIO);
        xai_tsv_free(t);
        xai_tsv_free(NULL);
    }
}
END_TEST

/* A real BIDS-style events file (Haxby 2001, run 1). */
/* A preview keeps the first rows, counts all, and refuses what the full reader refuses. */
START_TEST(test_load_head)
{
    char *dir = xai_test_tmpdir();
    const char *p = xai_test_path(dir, "long.tsv");
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs("id\tlabel\r\n1\ta\r\n2\tb\r\n3\tn/a\r\nx\td\r\n5\te\r\n\r\n", f);
    fclose(f);
    xai_tsv *t = NULL, *all = NULL;
    size_t n = 0;
    ck_assert_int_eq(xai_tsv_load_head(p, 0, 2, &t, &n), XAI_OK);
    ck_assert_int_eq(xai_tsv_load(p, 0, &all), XAI_OK);
    ck_assert_uint_eq(n, 5);
    ck_assert_uint_eq(xai_tsv_nrows(t), 2);
    ck_assert_uint_eq(xai_tsv_nrows(all), 5);
    /* the kinds are the kept rows': "x" in row 4 makes the full column text */
    ck_assert_int_eq(xai_tsv_column_type(t, 0), XAI_TSV_NUMBER);
    ck_assert_int_eq(xai_tsv_column_type(all, 0), XAI_TSV_STRING);
    ck_assert_str_eq(xai_tsv_get_string(t, 1, 1), "b");
    xai_tsv_free(t);
    ck_assert_int_eq(xai_tsv_load_head(p, 0, 0, &t, &n), XAI_OK);
    ck_assert_uint_eq(n, 5);
    ck_assert_uint_eq(xai_tsv_nrows(t), 5);
    ck_assert_str_eq(xai_tsv_get_string(t, 3, 0), "x");
    xai_tsv_free(t);
    xai_tsv_free(all);
    /* a ragged line or a NUL byte past the kept rows is still an error naming the line */
    f = fopen(p, "w");
    fputs("id\tlabel\n1\ta\n2\tb\n3\n", f);
    fclose(f);
    ck_assert_int_eq(xai_tsv_load_head(p, 0, 1, &t, &n), XAI_EFORMAT);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "long.tsv: line 4: 1 fields, the header has 2"));
    f = fopen(p, "w");
    fwrite("id\n1\n2\0\n", 1, 8, f);
    fclose(f);
    ck_assert_int_eq(xai_tsv_load_head(p, 0, 1, &t, &n), XAI_EFORMAT);
    ck_assert_int_eq(xai_tsv_load_head(xai_test_path(dir, "absent.tsv"), 0, 1, &t, &n), XAI_EIO);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_haxby_events)
{
    const char *shared = xai_test_shared_dir();
    xai_tsv *t;
    if (!shared) {
        xai_test_mark_skip();
        return;
    }
    ck_assert_int_eq(
        xai_tsv_load(xai_test_path(shared, "data/fmri/haxby2001_sub001/run001_events.tsv"), 0, &t),
        XAI_OK);
    ck_assert_uint_eq(xai_tsv_ncols(t), 3);
    ck_assert_uint_eq(xai_tsv_nrows(t), 8);
    ck_assert_str_eq(xai_tsv_column_name(t, 0), "onset");
    ck_assert_str_eq(xai_tsv_column_name(t, 1), "duration");
    ck_assert_str_eq(xai_tsv_column_name(t, 2), "trial_type");
    ck_assert_int_eq(xai_tsv_column_type(t, 0), XAI_TSV_NUMBER);
    ck_assert_int_eq(xai_tsv_column_type(t, 2), XAI_TSV_STRING);
    ck_assert_double_eq(num(t, 0, 0), 15.0);
    ck_assert_double_eq(num(t, 7, 0), 265.0);
    for (size_t r = 0; r < 8; r++)
        ck_assert_double_eq(num(t, r, 1), 22.5);
    ck_assert_str_eq(xai_tsv_get_string(t, 0, 2), "scissors");
    ck_assert_str_eq(xai_tsv_get_string(t, 5, 2), "scrambledpix");
    xai_tsv_free(t);
}
END_TEST

/* float32 cells in their shortest round-trip text, and the BIDS data dictionary */
START_TEST(test_float_and_dictionary)
{
    const char *names[] = {"onset", "relevance", "label"};
    xai_tsv_type types[] = {XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_STRING};
    xai_tsv *t;
    ck_assert_int_eq(xai_tsv_create(3, names, types, &t), XAI_OK);
    const float v[] = {0.1f, 1.0f / 3.0f, 3.4028235e38f, 1.4e-45f, -2.5f, NAN};
    const char *text[] = {"0.1", "0.33333334", "3.4028235e+38", "1.4013e-45", "-2.5", "n/a"};
    for (size_t r = 0; r < 6; r++) {
        size_t row;
        ck_assert_int_eq(xai_tsv_add_row(t, &row), XAI_OK);
        ck_assert_int_eq(xai_tsv_set_float(t, row, 1, v[r]), XAI_OK);
        ck_assert_int_eq(xai_tsv_set_number(t, row, 0, (double)r * 0.5), XAI_OK);
        ck_assert_int_eq(xai_tsv_set_string(t, row, 2, "left"), XAI_OK);
        if (r < 5) {
            ck_assert_str_eq(xai_tsv_get_string(t, row, 1), text[r]);
            ck_assert(strtof(xai_tsv_get_string(t, row, 1), NULL) == v[r]);
        } else {
            ck_assert(xai_tsv_is_na(t, row, 1));
        }
    }
    ck_assert_int_eq(xai_tsv_set_column_info(t, 0, "start of the epoch", "s"), XAI_OK);
    ck_assert_int_eq(xai_tsv_set_column_info(t, 1, "summed LRP relevance", NULL), XAI_OK);
    ck_assert_int_eq(xai_tsv_set_column_info(t, 3, "none", "s"), XAI_EINVAL);
    char *dir = xai_test_tmpdir();
    char path[4200], json[4200];
    snprintf(path, sizeof path, "%s/x_events.tsv", dir);
    snprintf(json, sizeof json, "%s/x_events.json", dir);
    ck_assert_int_eq(xai_tsv_save(t, path, 0), XAI_OK);
    ck_assert_int_eq(access(json, F_OK), -1); /* only on request */
    ck_assert_int_eq(xai_tsv_save(t, path, XAI_TSV_SIDECAR), XAI_OK);
    size_t n;
    char *got = xai_test_read_file(json, &n);
    ck_assert_ptr_nonnull(got);
    const char *want = "{\n  \"onset\": {\n    \"Description\": \"start of the epoch\",\n    \"Units\": \"s\"\n"
                       "  },\n  \"relevance\": {\n    \"Description\": \"summed LRP relevance\"\n  }\n}\n";
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_int_eq(memcmp(got, want, n), 0);
    free(got);
    got = xai_test_read_file(path, &n);
    ck_assert_ptr_nonnull(strstr(got, "\n0.5\t0.33333334\tleft\n"));
    ck_assert_ptr_nonnull(strstr(got, "\n2.5\tn/a\tleft\n"));
    free(got);
    xai_tsv_free(t);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("tsv");
    TCase *tc = tcase_create("tsv");
    tcase_add_test(tc, test_write_exact_text);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_tolerant_reading);
    tcase_add_test(tc, test_headerless);
    tcase_add_test(tc, test_extend);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_load_head);
    tcase_add_test(tc, test_haxby_events);
    tcase_add_test(tc, test_float_and_dictionary);
    suite_add_tcase(s, tc);
    return s;
}
