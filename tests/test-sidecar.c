/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-sidecar.c - JSON sidecars: exact text of a BIDS dataset_description.json, byte
 * equality with Python's json.dumps(indent=2, sort_keys=True, ensure_ascii=False), exact
 * round trips, handle lifetimes, invalid input and malformed files.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"
#include "xai/sidecar.h"

START_TEST(test_dataset_description_text)
{
    static const char want[] =
        "{\n"
        "  \"BIDSVersion\": \"1.10.0\",\n"
        "  \"DatasetLinks\": {\n"
        "    \"raw\": \"../..\"\n"
        "  },\n"
        "  \"DatasetType\": \"derivative\",\n"
        "  \"GeneratedBy\": [\n"
        "    {\n"
        "      \"Name\": \"xai-eeg\",\n"
        "      \"Version\": \"0.1.0\"\n"
        "    }\n"
        "  ],\n"
        "  \"Name\": \"LRP relevance\",\n"
        "  \"SamplingFrequency\": 160,\n"
        "  \"Scale\": [\n"
        "    0.25,\n"
        "    -1.5,\n"
        "    2e-07\n"
        "  ],\n"
        "  \"Tags\": [],\n"
        "  \"Valid\": true\n"
        "}\n";
    double scale[3] = {0.25, -1.5, 2e-7};
    xai_sidecar *sc, *gen, *links;
    char *text;
    ck_assert_int_eq(xai_sidecar_new(&sc), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_string(sc, "Name", "LRP relevance"), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_string(sc, "BIDSVersion", "1.10.0"), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_string(sc, "DatasetType", "derivative"), XAI_OK);
    ck_assert_int_eq(xai_sidecar_append_object(sc, "GeneratedBy", &gen), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_string(gen, "Version", "0.1.0"), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_string(gen, "Name", "xai-eeg"), XAI_OK);
    ck_assert_int_eq(xai_sidecar_child(sc, "DatasetLinks", &links), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_string(links, "raw", "../.."), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_number(sc, "SamplingFrequency", 160.0), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_number_array(sc, "Scale", scale, 3), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_string_array(sc, "Tags", NULL, 0), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_bool(sc, "Valid", 1), XAI_OK);
    ck_assert_int_eq(xai_sidecar_to_string(sc, &text), XAI_OK);
    ck_assert_str_eq(text, want);
    free(text);
    xai_sidecar_free(gen);
    xai_sidecar_free(links);
    xai_sidecar_free(sc);
}
END_TEST

/* Build a sidecar with awkward values used by the next tests. */
static xai_sidecar *awkward(void)
{
    static const double nums[] = {0.1, 1.0 / 3.0, 1e-300, 6.02214076e23, -0.5, 1e22, 12345.678};
    static const char *strs[] = {"quote \" back \\ slash", "tab\tnew\nline\x01\x1f",
                                 "UTF-8: \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", ""};
    xai_sidecar *sc, *c;
    ck_assert_int_eq(xai_sidecar_new(&sc), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_number_array(sc, "nums", nums, 7), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_string_array(sc, "strs", strs, 4), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_int(sc, "big", INT64_C(9007199254740993)), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_number(sc, "neg", -42), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_null(sc, "none"), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_bool(sc, "no", 0), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_json(sc, "raw", "{\"b\": [1, {\"z\": null}], \"a\": 2.5}"),
                     XAI_OK);
    ck_assert_int_eq(xai_sidecar_child(sc, "Zeta", &c), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_string(c, "\xc3\xa9t\xc3\xa9", "key in UTF-8"), XAI_OK);
    xai_sidecar_free(c);
    ck_assert_int_eq(xai_sidecar_append_string(sc, "Sources", "bids:raw:sub-01/eeg/x.edf"),
                     XAI_OK);
    ck_assert_int_eq(xai_sidecar_append_string(sc, "Sources", "bids:raw:sub-01/eeg/y.edf"),
                     XAI_OK);
    return sc;
}

START_TEST(test_round_trip)
{
    static const double nums[] = {0.1, 1.0 / 3.0, 1e-300, 6.02214076e23, -0.5, 1e22, 12345.678};
    char *dir = xai_test_tmpdir();
    const char *p = xai_test_path(dir, "x.json");
    xai_sidecar *sc = awkward(), *back, *raw, *item;
    double *v, d;
    size_t n;
    const char *s;
    int b;

    ck_assert_int_eq(xai_sidecar_save(sc, p), XAI_OK);
    ck_assert_int_eq(xai_sidecar_load(p, &back), XAI_OK);
    ck_assert_int_eq(xai_sidecar_get_number_array(back, "nums", &v, &n), XAI_OK);
    ck_assert_uint_eq(n, 7);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(v[i] == nums[i], "%zu: %.17g", i, v[i]);
    free(v);
    ck_assert_int_eq(xai_sidecar_get_array_size(back, "strs", &n), XAI_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(xai_sidecar_get_string_at(back, "strs", 0, &s), XAI_OK);
    ck_assert_str_eq(s, "quote \" back \\ slash");
    ck_assert_int_eq(xai_sidecar_get_string_at(back, "strs", 1, &s), XAI_OK);
    ck_assert_str_eq(s, "tab\tnew\nline\x01\x1f");
    ck_assert_int_eq(xai_sidecar_get_string_at(back, "strs", 2, &s), XAI_OK);
    ck_assert_str_eq(s, "UTF-8: \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    ck_assert_int_eq(xai_sidecar_get_number(back, "big", &d), XAI_OK);
    ck_assert_double_eq(d, 9007199254740992.0); /* nearest double; the integer itself survives: */
    {
        char *text;
        ck_assert_int_eq(xai_sidecar_to_string(back, &text), XAI_OK);
        ck_assert_ptr_nonnull(strstr(text, "\"big\": 9007199254740993,"));
        free(text);
    }
    ck_assert_int_eq(xai_sidecar_get_number(back, "neg", &d), XAI_OK);
    ck_assert_double_eq(d, -42.0);
    ck_assert_int_eq(xai_sidecar_get_bool(back, "no", &b), XAI_OK);
    ck_assert_int_eq(b, 0);
    ck_assert(xai_sidecar_has(back, "none"));
    ck_assert(!xai_sidecar_has(back, "absent"));
    ck_assert_int_eq(xai_sidecar_get_child(back, "raw", 0, &raw), XAI_OK);
    ck_assert_int_eq(xai_sidecar_get_number(raw, "a", &d), XAI_OK);
    ck_assert_double_eq(d, 2.5);
    ck_assert_int_eq(xai_sidecar_get_child(raw, "b", 1, &item), XAI_OK);
    ck_assert(xai_sidecar_has(item, "z"));
    xai_sidecar_free(item);
    ck_assert_int_eq(xai_sidecar_get_child(raw, "b", 0, &item), XAI_EINVAL); /* 1: not an object */
    ck_assert_ptr_null(item);
    ck_assert_int_eq(xai_sidecar_get_child(raw, "b", 5, &item), XAI_EINVAL);
    xai_sidecar_free(raw);
    ck_assert_int_eq(xai_sidecar_get_string_at(back, "Sources", 1, &s), XAI_OK);
    ck_assert_str_eq(s, "bids:raw:sub-01/eeg/y.edf");
    xai_sidecar_free(back);
    xai_sidecar_free(sc);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* Our text equals Python's json.dumps(json.load(f), indent=2, sort_keys=True,
 * ensure_ascii=False) + "\n" (skipped without /usr/bin/python3). */
START_TEST(test_matches_python)
{
    char *dir = xai_test_tmpdir();
    const char *p = xai_test_path(dir, "py.json");
    char cmd[4096];
    xai_sidecar *sc = awkward();
    int rc;
    if (system("/usr/bin/python3 -c 'import json' >/dev/null 2>&1") != 0) {
        xai_sidecar_free(sc);
        xai_test_rmtree(dir);
        free(dir);
        return;
    }
    ck_assert_int_eq(xai_sidecar_save(sc, p), XAI_OK);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import json, sys; t = open(sys.argv[1], encoding='utf-8')"
             ".read(); o = json.loads(t); "
             "sys.exit(0 if json.dumps(o, indent=2, sort_keys=True, ensure_ascii=False) + "
             "chr(10) == t else 3)\" '%s'",
             p);
    rc = system(cmd);
    ck_assert_msg(rc == 0, "python's json output differs from ours (rc %d)", rc);
    xai_sidecar_free(sc);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_handles)
{
    xai_sidecar *sc, *child, *again;
    const char *s;
    ck_assert_int_eq(xai_sidecar_new(&sc), XAI_OK);
    ck_assert_int_eq(xai_sidecar_child(sc, "Inner", &child), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_string(child, "k", "v1"), XAI_OK);
    ck_assert_int_eq(xai_sidecar_child(sc, "Inner", &again), XAI_OK); /* same object */
    ck_assert_int_eq(xai_sidecar_get_string(again, "k", &s), XAI_OK);
    ck_assert_str_eq(s, "v1");
    xai_sidecar_free(sc); /* children stay valid after the parent handle is gone */
    ck_assert_int_eq(xai_sidecar_set_string(child, "k", "v2"), XAI_OK);
    ck_assert_int_eq(xai_sidecar_get_string(again, "k", &s), XAI_OK);
    ck_assert_str_eq(s, "v2");
    xai_sidecar_free(child);
    xai_sidecar_free(again);
    xai_sidecar_free(NULL);
}
END_TEST

START_TEST(test_invalid_values)
{
    xai_sidecar *sc, *c;
    const char *s;
    double d, bad[2] = {1.0, NAN};
    int b;
    ck_assert_int_eq(xai_sidecar_new(&sc), XAI_OK);
    ck_assert_int_eq(xai_sidecar_set_number(sc, "x", NAN), XAI_EINVAL);
    ck_assert_int_eq(xai_sidecar_set_number(sc, "x", INFINITY), XAI_EINVAL);
    ck_assert_int_eq(xai_sidecar_set_number_array(sc, "x", bad, 2), XAI_EINVAL);
    ck_assert_int_eq(xai_sidecar_set_number_array(sc, "x", NULL, 2), XAI_EINVAL);
    ck_assert_int_eq(xai_sidecar_set_string(sc, "x", "bad \xff utf8"), XAI_EINVAL);
    ck_assert_int_eq(xai_sidecar_set_string(sc, "bad \xc3 key", "v"), XAI_EINVAL);
    ck_assert_int_eq(xai_sidecar_set_string(sc, "x", NULL), XAI_EINVAL);
    ck_assert_int_eq(xai_sidecar_set_string(NULL, "x", "v"), XAI_EINVAL);
    ck_assert_int_eq(xai_sidecar_set_string(sc, NULL, "v"), XAI_EINVAL);
    ck_assert_int_eq(xai_sidecar_set_json(sc, "x", "{broken"), XAI_EFORMAT);
    ck_assert(!xai_sidecar_has(sc, "x")); /* nothing was stored by the failures */
    ck_assert_int_eq(xai_sidecar_set_string(sc, "x", "text"), XAI_OK);
    ck_assert_int_eq(xai_sidecar_child(sc, "x", &c), XAI_EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(xai_sidecar_append_string(sc, "x", "v"), XAI_EINVAL);
    ck_assert_int_eq(xai_sidecar_append_object(sc, "x", &c), XAI_EINVAL);
    ck_assert_int_eq(xai_sidecar_get_number(sc, "x", &d), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "'x'"));
    ck_assert_int_eq(xai_sidecar_get_bool(sc, "x", &b), XAI_EINVAL);
    ck_assert_int_eq(xai_sidecar_get_string(sc, "missing", &s), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "missing"));
    ck_assert_int_eq(xai_sidecar_get_string_at(sc, "x", 0, &s), XAI_EINVAL);
    ck_assert_int_eq(xai_sidecar_remove(sc, "x"), XAI_OK);
    ck_assert_int_eq(xai_sidecar_remove(sc, "x"), XAI_OK);
    ck_assert(!xai_sidecar_has(sc, "x"));
    ck_assert_int_eq(xai_sidecar_save(sc, "/nonexistent/dir/x.json"), XAI_EIO);
    xai_sidecar_free(sc);
}
END_TEST

START_TEST(test_malformed)
{
    static const struct {
        const char *text;
        const char *word;
    } bad[] = {
        {"", "line"},
        {"{", "line"},
        {"{\"a\": 1,}", "line 1"},
        {"{\n\"a\": 1\n\"b\": 2}", "line 3"},
        {"[1, 2]", "object"},
        {"\"str\"", "line"}, /* not an object (jansson refuses non-containers first) */
        {"{\"a\": 1, \"a\": 2}", "duplicate"},
        {"{\"a\": NaN}", "line"},
        {"{\"a\": \"\xff\"}", "line"},
        {"{\"a\": 1} trailing", "line"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        xai_sidecar *sc = (xai_sidecar *)&sc;
        xai_status s = xai_sidecar_load_mem(bad[k].text, strlen(bad[k].text), "bad.json", &sc);
        ck_assert_msg(s == XAI_EFORMAT, "case %zu: %s", k, xai_strerror(s));
        ck_assert_ptr_null(sc);
        ck_assert_msg(strstr(xai_last_error(), "bad.json") && strstr(xai_last_error(), bad[k].word),
                      "case %zu: '%s'", k, xai_last_error());
    }
    {
        xai_sidecar *sc;
        char *deep = malloc(200001);
        memset(deep, '[', 200000);
        deep[200000] = '\0';
        /* a deeply nested document is refused, not a stack overflow */
        ck_assert_int_eq(xai_sidecar_load_mem(deep, 200000, "deep.json", &sc), XAI_EFORMAT);
        free(deep);
        ck_assert_int_eq(xai_sidecar_load("/nonexistent/x.json", &sc), XAI_EIO);
        ck_assert_ptr_nonnull(strstr(xai_last_error(), "/nonexistent/x.json"));
    }
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("sidecar");
    TCase *tc = tcase_create("sidecar");
    tcase_add_test(tc, test_dataset_description_text);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_matches_python);
    tcase_add_test(tc, test_handles);
    tcase_add_test(tc, test_invalid_values);
    tcase_add_test(tc, test_malformed);
    suite_add_tcase(s, tc);
    return s;
}
