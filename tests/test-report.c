/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-report.c - the HTML study report: escaping of everything that comes from files or
 * callers, sortable tables from TSV (row cap, malformed tables), figures embedded as data URIs
 * that decode back to the file's bytes, relative links, the model card's verdict, and the
 * atomic write (no temporary left, a failed write keeps the old page).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairo.h>
#include <fontconfig/fontconfig.h>

#include "test-common.h"
#include "xai/card.h"
#include "xai/figure.h"
#include "xai/report.h"

static char *read_text(const char *path)
{
    size_t n;
    char *s = xai_test_read_file(path, &n);
    ck_assert_ptr_nonnull(s);
    char *t = malloc(n + 1);
    memcpy(t, s, n);
    t[n] = 0;
    free(s);
    return t;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Page of a report with only @p r's content, written to DIR/report.html and read back. */
static char *page_of(xai_report *r, const char *dir)
{
    const char *path = xai_test_path(dir, "report.html");
    ck_assert_int_eq(xai_report_write(r, path), XAI_OK);
    return read_text(path);
}

START_TEST(test_escape)
{
    char *e = xai_report_escape("<a href=\"x\">&'b</a>");
    ck_assert_str_eq(e, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;b&lt;/a&gt;");
    free(e);
    e = xai_report_escape("plain text, µV");
    ck_assert_str_eq(e, "plain text, µV");
    free(e);

    char *dir = xai_test_tmpdir();
    const char *evil = "<script>alert(1)</script>\"'&";
    xai_report *r;
    ck_assert_int_eq(xai_report_new(evil, &r), XAI_OK);
    ck_assert_int_eq(xai_report_set_header(r, evil, evil, evil, evil), XAI_OK);
    ck_assert_int_eq(xai_report_add_input(r, evil), XAI_OK);
    ck_assert_int_eq(xai_report_add_message(r, XAI_REPORT_ERROR, evil), XAI_OK);
    ck_assert_int_eq(xai_report_add_message(r, XAI_REPORT_WARNING, evil), XAI_OK);
    ck_assert_int_eq(xai_report_add_message(r, XAI_REPORT_WARNING, evil), XAI_OK); /* a repeat: dropped */
    ck_assert_int_eq(xai_report_add_output(r, evil), XAI_OK);
    char *page = page_of(r, dir);
    /* the page's own script is the only one; the text shows up escaped instead */
    ck_assert_int_eq(count(page, "<script"), 1);
    ck_assert_int_eq(count(page, "alert(1)</script>"), 0);
    ck_assert_int_ge(count(page, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"), 8);
    /* the link's URL is percent-encoded */
    ck_assert_ptr_nonnull(strstr(page, "href=\"%3Cscript%3Ealert%281%29%3C/script%3E%22%27%26\""));
    ck_assert_ptr_nonnull(strstr(page, "1 error, 1 warning."));
    free(page);
    xai_report_free(r);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_tables)
{
    char *dir = xai_test_tmpdir();
    const char *tsv = xai_test_path(dir, "scores.tsv");
    write_file(tsv, "name\tscore\n<b>x</b>\t0.5\nsecond\t2\nthird\tn/a\n");
    xai_report *r;
    ck_assert_int_eq(xai_report_new("tables", &r), XAI_OK);
    ck_assert_int_eq(xai_report_add_table(r, tsv, "all rows", 0), XAI_OK);
    ck_assert_int_eq(xai_report_add_table(r, tsv, "capped", 2), XAI_OK);
    /* a ragged table is refused with the file named, and adds nothing */
    const char *bad = xai_test_path(dir, "bad.tsv");
    write_file(bad, "a\tb\n1\n");
    ck_assert_int_eq(xai_report_add_table(r, bad, "bad", 0), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "bad.tsv"));
    /* also when the ragged row lies past the rows shown */
    write_file(bad, "a\tb\n1\t2\n3\t4\n5\n");
    ck_assert_int_eq(xai_report_add_table(r, bad, "bad", 1), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "bad.tsv: line 4"));
    ck_assert_int_eq(xai_report_add_table(r, xai_test_path(dir, "absent.tsv"), NULL, 0), XAI_EIO);
    size_t nt;
    xai_report_counts(r, NULL, &nt, NULL, NULL);
    ck_assert_uint_eq(nt, 2);
    char *page = page_of(r, dir);
    ck_assert_int_eq(count(page, "<table class=\"sortable\">"), 2);
    ck_assert_int_eq(count(page, "<th>name</th><th>score</th>"), 2);
    ck_assert_ptr_nonnull(strstr(page, "all rows (3 rows)"));
    ck_assert_ptr_nonnull(strstr(page, "capped (first 2 of 3 rows)"));
    /* 3 + 2 body rows; the cell's markup is text */
    ck_assert_int_eq(count(page, "<tr><td>"), 5);
    ck_assert_int_eq(count(page, "<td>&lt;b&gt;x&lt;/b&gt;</td><td>0.5</td>"), 2);
    ck_assert_int_eq(count(page, "<td>third</td><td>n/a</td>"), 1);
    ck_assert_int_eq(count(page, "<b>x</b>"), 0);
    free(page);
    xai_report_free(r);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

static int b64val(char c)
{
    const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(tab, c) : NULL;
    return p ? (int)(p - tab) : -1;
}

/* Decode the data URI that follows @p prefix in @p page. */
static unsigned char *data_uri(const char *page, const char *prefix, size_t *len)
{
    const char *p = strstr(page, prefix);
    ck_assert_ptr_nonnull(p);
    p += strlen(prefix);
    size_t n = strcspn(p, "\"");
    ck_assert_uint_eq(n % 4, 0);
    unsigned char *out = malloc(n / 4 * 3 + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int j = 0; j < 4; j++)
            v[j] = p[i + j] == '=' ? 0 : b64val(p[i + j]);
        ck_assert(v[0] >= 0 && v[1] >= 0 && v[2] >= 0 && v[3] >= 0);
        unsigned w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
        out[k++] = (unsigned char)(w >> 16);
        if (p[i + 2] != '=')
            out[k++] = (unsigned char)(w >> 8);
        if (p[i + 3] != '=')
            out[k++] = (unsigned char)w;
    }
    *len = k;
    return out;
}

START_TEST(test_figures)
{
    char *dir = xai_test_tmpdir();
    float data[12] = {-1, 0, 1, 2, -2, 0.5f, 3, -3, 0, 1, 1, -1};
    xai_heatmap_opts o;
    xai_heatmap_opts_init(&o);
    o.width = 160;
    o.height = 120;
    const char *png = xai_test_path(dir, "map.png"), *svg = xai_test_path(dir, "map.svg");
    ck_assert_int_eq(xai_figure_heatmap(png, data, 3, 4, &o), XAI_OK);
    ck_assert_int_eq(xai_figure_heatmap(svg, data, 3, 4, &o), XAI_OK);
    xai_report *r;
    ck_assert_int_eq(xai_report_new("figures", &r), XAI_OK);
    ck_assert_int_eq(xai_report_add_figure(r, png, "a <PNG> map"), XAI_OK);
    ck_assert_int_eq(xai_report_add_figure(r, svg, "an SVG map"), XAI_OK);
    /* not an image, absent, and too large: refused, nothing added */
    const char *txt = xai_test_path(dir, "notes.txt");
    write_file(txt, "just text\n");
    ck_assert_int_eq(xai_report_add_figure(r, txt, NULL), XAI_EFORMAT);
    ck_assert_int_eq(xai_report_add_figure(r, xai_test_path(dir, "absent.png"), NULL), XAI_EIO);
    const char *big = xai_test_path(dir, "big.png");
    FILE *f = fopen(big, "wb");
    fwrite("\x89PNG\r\n\x1a\n", 1, 8, f);
    fclose(f);
    ck_assert_int_eq(truncate(big, (off_t)XAI_REPORT_MAX_FIGURE + 1), 0);
    ck_assert_int_eq(xai_report_add_figure(r, big, NULL), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "big.png"));
    size_t nf;
    xai_report_counts(r, &nf, NULL, NULL, NULL);
    ck_assert_uint_eq(nf, 2);
    char *page = page_of(r, dir);
    ck_assert_int_eq(count(page, "<img "), 2);
    ck_assert_ptr_nonnull(strstr(page, "<figcaption>a &lt;PNG&gt; map</figcaption>"));
    const char *names[2] = {"map.png", "map.svg"}, *prefixes[2] = {"data:image/png;base64,", "data:image/svg+xml;base64,"};
    for (int i = 0; i < 2; i++) {
        size_t n, m;
        unsigned char *got = data_uri(page, prefixes[i], &n);
        unsigned char *want = xai_test_read_file(xai_test_path(dir, names[i]), &m);
        ck_assert_uint_eq(n, m);
        ck_assert(memcmp(got, want, n) == 0);
        free(got);
        free(want);
    }
    free(page);
    xai_report_free(r);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_links)
{
    char *dir = xai_test_tmpdir();
    char sub[4096], rpt[4200], out1[4200], out2[4200];
    snprintf(sub, sizeof sub, "%s/sub-01", dir);
    ck_assert_int_eq(mkdir(sub, 0777), 0);
    snprintf(rpt, sizeof rpt, "%s/report.html", sub);
    snprintf(out1, sizeof out1, "%s/group table #1.tsv", dir);
    snprintf(out2, sizeof out2, "%s/map.png", sub);
    write_file(out1, "a\n1\n");
    write_file(out2, "x");
    xai_report *r;
    ck_assert_int_eq(xai_report_new("links", &r), XAI_OK);
    ck_assert_int_eq(xai_report_add_output(r, out1), XAI_OK);
    ck_assert_int_eq(xai_report_add_output(r, out2), XAI_OK);
    ck_assert_int_eq(xai_report_add_output(r, "no/such/file.npy"), XAI_OK);
    ck_assert_int_eq(xai_report_write(r, rpt), XAI_OK);
    char *page = read_text(rpt);
    ck_assert_ptr_nonnull(strstr(page, "<a href=\"../group%20table%20%231.tsv\">../group table #1.tsv</a>"));
    ck_assert_ptr_nonnull(strstr(page, "<a href=\"map.png\">map.png</a>"));
    ck_assert_ptr_nonnull(strstr(page, "<a href=\"no/such/file.npy\">"));
    ck_assert_ptr_nonnull(strstr(page, "Outputs (3 files)"));
    char *html;
    size_t len;
    ck_assert_int_eq(xai_report_to_string(r, rpt, &html, &len), XAI_OK); /* what the file holds */
    ck_assert_uint_eq(len, strlen(page));
    ck_assert_str_eq(html, page);
    free(html);
    free(page);
    /* the same outputs seen from the folder above */
    ck_assert_int_eq(xai_report_write(r, xai_test_path(dir, "study.html")), XAI_OK);
    page = read_text(xai_test_path(dir, "study.html"));
    ck_assert_ptr_nonnull(strstr(page, "<a href=\"sub-01/map.png\">"));
    ck_assert_ptr_nonnull(strstr(page, "<a href=\"group%20table%20%231.tsv\">"));
    free(page);
    xai_report_free(r);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

static const char card_good[] =
    "{\"card_version\":1,\"domain\":\"eeg\",\"classes\":[\"left\",\"right\"],"
    "\"preprocessing\":{\"bandpass_hz\":[4,38]},"
    "\"validation\":{\"scheme\":\"grouped-holdout\",\"group_kind\":\"subject\",\"n_heldout\":120,"
    "\"accuracy\":0.8,\"chance_level\":0.5,\"ci95\":[0.72,0.87]}}";
static const char card_weak[] =
    "{\"card_version\":1,\"classes\":[\"a\",\"b\"],"
    "\"validation\":{\"accuracy\":0.55,\"chance_level\":0.5,\"ci95\":[0.45,0.65]}}";

START_TEST(test_card)
{
    char *dir = xai_test_tmpdir();
    xai_card *good, *weak;
    ck_assert_int_eq(xai_card_from_json(card_good, &good), XAI_OK);
    ck_assert_int_eq(xai_card_from_json(card_weak, &weak), XAI_OK);
    xai_report *r;
    ck_assert_int_eq(xai_report_new("cards", &r), XAI_OK);
    ck_assert_int_eq(xai_report_add_card(r, "good.onnx", good), XAI_OK);
    size_t nm;
    xai_report_counts(r, NULL, NULL, &nm, NULL);
    ck_assert_uint_eq(nm, 0);
    ck_assert_int_eq(xai_report_add_card(r, "weak.onnx", weak), XAI_OK);
    xai_report_counts(r, NULL, NULL, &nm, NULL);
    ck_assert_uint_ge(nm, 1); /* the card's own warning: not above chance */
    char *page = page_of(r, dir);
    ck_assert_ptr_nonnull(strstr(page, "<b>0.800</b> [0.720, 0.870] (95 % interval) vs chance 0.500"));
    ck_assert_ptr_nonnull(strstr(page, "above chance (interval excludes chance)"));
    ck_assert_ptr_nonnull(strstr(page, "not shown to be above chance"));
    ck_assert_ptr_nonnull(strstr(page, "<th>Classes (2)</th><td>left, right</td>"));
    ck_assert_ptr_nonnull(strstr(page, "<li>bandpass_hz: [4,38]</li>"));
    ck_assert_ptr_nonnull(strstr(page, "<li class=\"warning\">weak.onnx: "));
    free(page);
    xai_report_free(r);
    xai_card_free(good);
    xai_card_free(weak);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

START_TEST(test_atomic)
{
    char *dir = xai_test_tmpdir();
    const char *path = xai_test_path(dir, "report.html");
    write_file(path, "old page");
    xai_report *r;
    ck_assert_int_eq(xai_report_new("new page", &r), XAI_OK);
    ck_assert_int_eq(xai_report_write(r, path), XAI_OK);
    char *page = read_text(path);
    ck_assert_ptr_nonnull(strstr(page, "<title>new page</title>"));
    ck_assert_ptr_nonnull(strstr(page, "id=\"xai-report-check\" data-rendered=\"0\""));
    ck_assert_int_eq(strcmp(page + strlen(page) - 15, "</body></html>\n"), 0);
    free(page);
    ck_assert_int_eq(entries(dir), 1); /* no temporary left next to it */
    /* a destination that cannot be replaced: an error naming it, nothing left behind */
    char blocked[4200];
    snprintf(blocked, sizeof blocked, "%s/blocked.html", dir);
    ck_assert_int_eq(mkdir(blocked, 0777), 0);
    write_file(xai_test_path(blocked, "keep"), "x");
    ck_assert_int_ne(xai_report_write(r, blocked), XAI_OK);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "blocked.html"));
    ck_assert_int_eq(entries(dir), 2);
    ck_assert_int_eq(xai_report_write(r, xai_test_path(dir, "no/such/dir/report.html")), XAI_EIO);
    ck_assert_int_eq(entries(dir), 2);
    ck_assert_int_eq(xai_report_write(NULL, path), XAI_EINVAL);
    ck_assert_int_eq(xai_report_write(r, ""), XAI_EINVAL);
    xai_report_free(r);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* cairo and fontconfig keep font caches for the life of the process (the figures drawn
 * here); drop them after each case so that LeakSanitizer reports only real leaks. */
static void reset_caches(void)
{
    cairo_debug_reset_static_data();
    FcFini();
}

Suite *make_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("report");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, NULL, reset_caches);
    tcase_add_test(tc, test_escape);
    tcase_add_test(tc, test_tables);
    tcase_add_test(tc, test_figures);
    tcase_add_test(tc, test_links);
    tcase_add_test(tc, test_card);
    tcase_add_test(tc, test_atomic);
    suite_add_tcase(s, tc);
    return s;
}
