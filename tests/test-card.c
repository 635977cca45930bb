/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-card.c - the model card: JSON round trips, the schema's errors, --set parsing, cards
 * read from the metadata of older models, the warnings, and rewriting an ONNX file's card
 * with its graph and weights unchanged.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"
#include "xai.h"

/* A 2-channel, 16-sample, 3-class 1-D CNN built in memory. */
static xai_model *tiny_model(void)
{
    const int64_t shape[2] = {2, 16};
    xai_model *m = NULL;
    ck_assert_int_eq(xai_model_from_spec("conv1d(4,k=3,p=1) relu flatten dense(3)", 2, shape, 7, &m), XAI_OK);
    return m;
}

static xai_card *card_of(const char *json)
{
    xai_card *c = NULL;
    ck_assert_msg(xai_card_from_json(json, &c) == XAI_OK, "%s", xai_last_error());
    return c;
}

static const char *full_card =
    "{\"card_version\":1,\"domain\":\"eeg\",\"task\":\"left vs right hand imagery\","
    "\"classes\":[\"left\",\"right\",\"rest\"],"
    "\"input\":{\"axes\":[\"channel\",\"time\"],\"units\":[\"\",\"s\"],\"sampling_rate_hz\":160,"
    "\"channel_names\":[\"C3\",\"C4\"]},"
    "\"preprocessing\":{\"bandpass_hz\":[8,32],\"reference\":\"average\"},"
    "\"provenance\":{\"program\":\"torch\",\"seed\":3,\"data_digest\":\"abc\"},"
    "\"validation\":{\"scheme\":\"grouped-holdout\",\"group_kind\":\"subject\",\"n_groups\":10,"
    "\"n_heldout\":120,\"accuracy\":0.7,\"chance_level\":0.3333333333333333,\"ci95\":[0.61,0.78],"
    "\"baseline\":{\"name\":\"logistic regression\",\"accuracy\":0.55}}}";

START_TEST(test_json_round_trip)
{
    xai_card *c = card_of(full_card);
    char *a = NULL, *b = NULL;
    ck_assert_int_eq(xai_card_to_json(c, 0, &a), XAI_OK);
    xai_card *c2 = card_of(a);
    ck_assert_int_eq(xai_card_to_json(c2, 0, &b), XAI_OK);
    ck_assert_str_eq(a, b);
    ck_assert_int_eq(xai_card_class_count(c2), 3);
    ck_assert_str_eq(xai_card_class_name(c2, 2), "rest");
    ck_assert_ptr_null(xai_card_class_name(c2, 3));
    ck_assert_ptr_null(xai_card_class_name(c2, -1));
    ck_assert_str_eq(xai_card_get_string(c2, "validation.baseline.name"), "logistic regression");
    double v = 0;
    ck_assert_int_eq(xai_card_get_number(c2, "validation.chance_level", &v), 1);
    ck_assert(v == 1.0 / 3.0); /* stored cards keep every bit */
    ck_assert_int_eq(xai_card_get_number(c2, "validation.balanced_accuracy", &v), 0);
    char *pre = xai_card_get_json(c2, "preprocessing.bandpass_hz");
    ck_assert_str_eq(pre, "[8,32]");
    xai_free(pre);
    xai_free(a);
    xai_free(b);
    xai_card_free(c);
    xai_card_free(c2);
}
END_TEST

/* Each malformed card fails with its status and a message naming the field. */
START_TEST(test_malformed)
{
    static const struct {
        const char *json;
        xai_status st;
        const char *msg;
    } cases[] = {
        {"", XAI_EFORMAT, "line 1"},
        {"{\"card_version\":1,", XAI_EFORMAT, "not valid JSON"},
        {"[1,2]", XAI_EINVAL, "not a JSON object"},
        {"{}", XAI_EINVAL, "card_version is missing"},
        {"{\"card_version\":2}", XAI_EUNSUPPORTED, "newer"},
        {"{\"card_version\":\"1\"}", XAI_EINVAL, "card_version"},
        {"{\"card_version\":1,\"domian\":\"eeg\"}", XAI_EINVAL, "unknown field domian"},
        {"{\"card_version\":1,\"domain\":\"ecg\"}", XAI_EINVAL, "expected one of eeg"},
        {"{\"card_version\":1,\"classes\":[\"a\",\"a\"]}", XAI_EINVAL, "classes"},
        {"{\"card_version\":1,\"classes\":[\"a\",\"\"]}", XAI_EINVAL, "classes"},
        {"{\"card_version\":1,\"classes\":\"a,b\"}", XAI_EINVAL, "classes"},
        {"{\"card_version\":1,\"input\":{\"sampling_rate_hz\":0}}", XAI_EINVAL, "input.sampling_rate_hz"},
        {"{\"card_version\":1,\"input\":{\"axes\":[\"c\",\"t\"],\"units\":[\"s\"]}}", XAI_EINVAL, "input.units"},
        {"{\"card_version\":1,\"input\":{\"rate\":3}}", XAI_EINVAL, "unknown field input.rate"},
        {"{\"card_version\":1,\"validation\":{\"accuracy\":1.5}}", XAI_EINVAL, "validation.accuracy"},
        {"{\"card_version\":1,\"validation\":{\"ci95\":[0.7,0.6]}}", XAI_EINVAL, "validation.ci95"},
        {"{\"card_version\":1,\"validation\":{\"n_groups\":-1}}", XAI_EINVAL, "validation.n_groups"},
        {"{\"card_version\":1,\"validation\":{\"above_chance\":1}}", XAI_EINVAL, "validation.above_chance"},
        {"{\"card_version\":1,\"validation\":{\"baseline\":{\"acc\":0.5}}}", XAI_EINVAL, "validation.baseline.acc"},
        {"{\"card_version\":1,\"preprocessing\":[1]}", XAI_EINVAL, "preprocessing"},
        {"{\"card_version\":1,\"card_version\":1}", XAI_EFORMAT, "duplicate"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xai_card *c = (xai_card *)1;
        xai_status st = xai_card_from_json(cases[i].json, &c);
        ck_assert_msg(st == cases[i].st, "case %zu (%s): status %d, %s", i, cases[i].json, (int)st, xai_last_error());
        ck_assert_ptr_null(c);
        ck_assert_msg(strstr(xai_last_error(), cases[i].msg), "case %zu: message '%s' lacks '%s'", i,
                      xai_last_error(), cases[i].msg);
    }
}
END_TEST

START_TEST(test_set)
{
    xai_card *c;
    ck_assert_int_eq(xai_card_new(&c), XAI_OK);
    ck_assert_int_eq(xai_card_set(c, "classes=left, right ,rest"), XAI_OK);
    ck_assert_str_eq(xai_card_class_name(c, 1), "right");
    ck_assert_int_eq(xai_card_set(c, "classes=[\"a,1\",\"b\"]"), XAI_OK);
    ck_assert_str_eq(xai_card_class_name(c, 0), "a,1");
    ck_assert_int_eq(xai_card_set(c, "task=3 classes, no commas parsed"), XAI_OK);
    ck_assert_str_eq(xai_card_get_string(c, "task"), "3 classes, no commas parsed");
    ck_assert_int_eq(xai_card_set(c, "preprocessing.bandpass_hz=[8,32]"), XAI_OK);
    ck_assert_int_eq(xai_card_set(c, "preprocessing.filter.kind=butterworth"), XAI_OK); /* not JSON: a string */
    ck_assert_str_eq(xai_card_get_string(c, "preprocessing.filter.kind"), "butterworth");
    ck_assert_int_eq(xai_card_set(c, "validation.accuracy=0.75"), XAI_OK);
    ck_assert_int_eq(xai_card_set(c, "validation.above_chance=true"), XAI_OK);
    ck_assert_int_eq(xai_card_set(c, "provenance.seed=42"), XAI_OK);
    char *j = xai_card_get_json(c, "validation");
    ck_assert_str_eq(j, "{\"above_chance\":true,\"accuracy\":0.75}");
    xai_free(j);
    /* errors leave the card as it was */
    char *before = NULL, *after = NULL;
    ck_assert_int_eq(xai_card_to_json(c, 0, &before), XAI_OK);
    static const char *const bad[] = {"validation.accuracy=high", "validation.accuracy=1.01", "domain=ecg",
                                      "classes=a,,b", "classes=a,a", "nosuch=1", "validation.nosuch=1",
                                      "=3", "accuracy", "card_version=2", "provenance.seed=-4",
                                      "provenance.seed=1.5", "preprocessing.x..y=1", "task.sub=1",
                                      "input.axes=[\"a\",\"b\"", "validation.ci95=[0.2]",
                                      "task=\xff\xfe", "classes=a,\xc3", "preprocessing.note=\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(xai_card_set(c, bad[i]) == XAI_EINVAL, "'%s' was accepted", bad[i]);
    ck_assert_int_eq(xai_card_set(c, "validation.accuracy=high"), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "validation.accuracy"));
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "a number in [0, 1]"));
    ck_assert_int_eq(xai_card_to_json(c, 0, &after), XAI_OK);
    ck_assert_str_eq(before, after);
    xai_free(after);
    /* an empty value removes the field */
    ck_assert_int_eq(xai_card_set(c, "validation.accuracy="), XAI_OK);
    ck_assert_int_eq(xai_card_get_number(c, "validation.accuracy", NULL), 0);
    ck_assert_int_eq(xai_card_set_json(c, "validation.n_folds", "5"), XAI_OK);
    ck_assert_int_eq(xai_card_set_json(c, "validation.n_folds", "\"5\""), XAI_EINVAL);
    ck_assert_int_eq(xai_card_set_json(c, "validation.n_folds", NULL), XAI_OK);
    xai_free(before);
    xai_card_free(c);
}
END_TEST

/* The card stores a command line as given: shortening the program's path is the apps' work
 * (apps/common), so a library caller's value comes back unchanged, quoting included. */
START_TEST(test_command_line)
{
    static const char *const cases[] = {
        "/work/wt/x/build/apps/xai-eeg train --edf /data/a.edf -o m.onnx",
        "'/it'\\''s/xai-gait' explain",
        "xai-eeg train --edf /data/a.edf",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xai_card *c = NULL;
        ck_assert_int_eq(xai_card_new(&c), XAI_OK);
        char js[256] = "\"";
        for (const char *p = cases[i]; *p; p++) /* as a JSON string */
            snprintf(js + strlen(js), sizeof js - strlen(js), "%s%c", *p == '\\' || *p == '"' ? "\\" : "", *p);
        strcat(js, "\"");
        ck_assert_int_eq(xai_card_set_json(c, "provenance.command_line", js), XAI_OK);
        ck_assert_str_eq(xai_card_get_string(c, "provenance.command_line"), cases[i]);
        char assign[256];
        snprintf(assign, sizeof assign, "provenance.command_line=%s", cases[i]);
        ck_assert_int_eq(xai_card_set(c, assign), XAI_OK);
        ck_assert_str_eq(xai_card_get_string(c, "provenance.command_line"), cases[i]);
        xai_card_free(c);
    }
}
END_TEST

START_TEST(test_merge)
{
    xai_card *a = card_of(full_card);
    xai_card *b = card_of("{\"card_version\":1,\"preprocessing\":{\"notch_hz\":50},\"validation\":{\"accuracy\":0.8}}");
    ck_assert_int_eq(xai_card_merge(a, b), XAI_OK);
    double v;
    ck_assert(xai_card_get_number(a, "validation.accuracy", &v) && v == 0.8);
    ck_assert(xai_card_get_number(a, "validation.n_groups", &v) && v == 10);
    ck_assert(xai_card_get_number(a, "preprocessing.notch_hz", &v) && v == 50);
    ck_assert_str_eq(xai_card_get_string(a, "preprocessing.reference"), "average");
    xai_card_free(a);
    xai_card_free(b);
}
END_TEST

static char *warnings_of(const char *json, int *n)
{
    xai_card *c = card_of(json);
    char *w = NULL;
    ck_assert_int_eq(xai_card_warnings(c, &w, n), XAI_OK);
    xai_card_free(c);
    return w;
}

START_TEST(test_warnings)
{
    int n;
    char *w = warnings_of(full_card, &n);
    ck_assert_int_eq(n, 0);
    ck_assert_str_eq(w, "");
    xai_free(w);
    w = warnings_of("{\"card_version\":1,\"classes\":[\"a\",\"b\"],\"validation\":{\"scheme\":\"grouped-holdout\","
                    "\"accuracy\":0.52,\"chance_level\":0.5,\"ci95\":[0.41,0.63]}}", &n);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(w, "held-out accuracy 0.52 [0.41, 0.63] is not above chance 0.50\n");
    xai_free(w);
    /* a stored flag wins over the numbers; the baseline and never-predicted classes */
    w = warnings_of("{\"card_version\":1,\"classes\":[\"a\",\"b\",\"c\"],\"validation\":{\"scheme\":\"kfold\","
                    "\"accuracy\":0.6,\"chance_level\":0.34,\"above_chance\":false,"
                    "\"classes_never_predicted\":[\"b\",\"c\"],\"baseline\":{\"name\":\"ridge\",\"accuracy\":0.65}}}",
                    &n);
    ck_assert_int_eq(n, 4);
    ck_assert_str_eq(w, "validation scheme \"kfold\" does not hold out whole groups (subjects, sessions, ...): the "
                        "accuracy may be optimistic\n"
                        "held-out accuracy 0.60 is not above chance 0.34\n"
                        "the model never predicted classes b, c on held-out data\n"
                        "held-out accuracy 0.60 does not beat the linear baseline ridge (0.65)\n");
    xai_free(w);
    w = warnings_of("{\"card_version\":1}", &n);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(w, "the card names no classes: outputs are reported by index\n"
                        "no held-out validation is recorded: the accuracy on unseen data is unknown\n");
    xai_free(w);
}
END_TEST

/* Models from before the card: every old encoding the programs wrote. */
START_TEST(test_legacy)
{
    xai_model *m = tiny_model();
    ck_assert_int_eq(xai_model_set_metadata(m, "class_names", "left,right,rest"), XAI_OK);
    ck_assert_int_eq(xai_model_set_metadata(m, "xai_preprocessing",
                                            "{\"Version\":1,\"Channels\":[\"C3\",\"C4\"],\"SamplingFrequency\":160,"
                                            "\"TMin\":0.5,\"NTimes\":16,\"Filter\":{\"HighPass\":8,\"LowPass\":null},"
                                            "\"Events\":{\"T1\":\"left\",\"StimulusCode\":\"right\"}}"),
                     XAI_OK);
    ck_assert_int_eq(xai_model_set_metadata(m, "xai_training", "{\"Program\":\"xai-eeg 0.1.0\",\"Seed\":9,"
                                                               "\"Sources\":[{\"Path\":\"a.edf\",\"SHA256\":\"ff\"}]}"),
                     XAI_OK);
    ck_assert_int_eq(xai_model_set_metadata(m, "xai_arch", "conv1d(4,k=3,p=1) relu flatten dense(3)"), XAI_OK);
    ck_assert_int_eq(xai_model_set_metadata(m, "input_layout", "[1][C=2][T=16] EEG at 160 Hz"), XAI_OK);
    xai_card *c;
    ck_assert_int_eq(xai_card_from_model(m, &c), XAI_OK);
    ck_assert_str_eq(xai_card_get_string(c, "domain"), "eeg");
    ck_assert_int_eq(xai_card_class_count(c), 3);
    ck_assert_str_eq(xai_card_class_name(c, 1), "right");
    double v;
    ck_assert(xai_card_get_number(c, "input.sampling_rate_hz", &v) && v == 160);
    ck_assert(xai_card_get_number(c, "preprocessing.t_min", &v) && v == 0.5);
    ck_assert(xai_card_get_number(c, "preprocessing.n_times", &v) && v == 16);
    ck_assert(xai_card_get_number(c, "preprocessing.filter.high_pass", &v) && v == 8);
    /* event codes are data: their keys stay as written */
    ck_assert_str_eq(xai_card_get_string(c, "preprocessing.events.StimulusCode"), "right");
    char *src = xai_card_get_json(c, "training.sources");
    ck_assert_str_eq(src, "[{\"path\":\"a.edf\",\"sha256\":\"ff\"}]");
    xai_free(src);
    ck_assert_str_eq(xai_card_get_string(c, "provenance.program"), "xai-eeg 0.1.0");
    ck_assert(xai_card_get_number(c, "provenance.seed", &v) && v == 9);
    ck_assert_str_eq(xai_card_get_string(c, "provenance.arch"), "conv1d(4,k=3,p=1) relu flatten dense(3)");
    ck_assert_str_eq(xai_card_get_string(c, "input.description"), "[1][C=2][T=16] EEG at 160 Hz");
    char *ch = xai_card_get_json(c, "input.channel_names");
    ck_assert_str_eq(ch, "[\"C3\",\"C4\"]");
    xai_free(ch);
    xai_card_free(c);
    /* JSON-array class names (the other programs), snake_case already, speech's label file;
       values that break the contract are left out instead of failing */
    ck_assert_int_eq(xai_model_set_metadata(m, "class_names", "[\"yes\",\"no\",\"up\"]"), XAI_OK);
    ck_assert_int_eq(xai_model_set_metadata(m, "xai_preprocessing", "{\"domain\":\"speech\",\"sampling_frequency\":-1}"),
                     XAI_OK);
    ck_assert_int_eq(xai_model_set_metadata(m, "xai_training", "not json"), XAI_OK);
    ck_assert_int_eq(xai_model_set_metadata(m, "xai_labels", "labels.tsv"), XAI_OK);
    ck_assert_int_eq(xai_card_from_model(m, &c), XAI_OK);
    ck_assert_str_eq(xai_card_class_name(c, 0), "yes");
    ck_assert_str_eq(xai_card_get_string(c, "domain"), "speech");
    ck_assert_int_eq(xai_card_get_number(c, "input.sampling_rate_hz", NULL), 0);
    ck_assert_ptr_null(xai_card_get_string(c, "provenance.program"));
    ck_assert_str_eq(xai_card_get_string(c, "extra.labels"), "labels.tsv");
    xai_card_free(c);
    /* duplicate CSV class names cannot be a card's classes: left out */
    ck_assert_int_eq(xai_model_set_metadata(m, "class_names", "a,a,b"), XAI_OK);
    ck_assert_int_eq(xai_card_from_model(m, &c), XAI_OK);
    ck_assert_int_eq(xai_card_class_count(c), 0);
    xai_card_free(c);
    /* the card key wins over the old keys, and a broken card is an error */
    ck_assert_int_eq(xai_model_set_metadata(m, XAI_CARD_KEY, "{\"card_version\":1,\"domain\":\"gait\"}"), XAI_OK);
    ck_assert_int_eq(xai_card_from_model(m, &c), XAI_OK);
    ck_assert_str_eq(xai_card_get_string(c, "domain"), "gait");
    ck_assert_int_eq(xai_card_class_count(c), 0);
    xai_card_free(c);
    ck_assert_int_eq(xai_model_set_metadata(m, XAI_CARD_KEY, "{\"card_version\":1,\"domain\":7}"), XAI_OK);
    ck_assert_int_eq(xai_card_from_model(m, &c), XAI_EINVAL);
    ck_assert_ptr_null(c);
    xai_model_free(m);
}
END_TEST

/* The card is checked against the model, written into the file, read back; the rest of the file
 * (graph, weights, other metadata) is byte for byte what it was, apart from the card entry. */
START_TEST(test_onnx_file)
{
    char *dir = xai_test_tmpdir();
    char p1[512], p2[512];
    snprintf(p1, sizeof p1, "%s/a.onnx", dir);
    snprintf(p2, sizeof p2, "%s/b.onnx", dir);
    xai_model *m = tiny_model();
    ck_assert_int_eq(xai_model_set_metadata(m, "note", "kept"), XAI_OK);
    ck_assert_int_eq(xai_model_save_onnx(m, p1, NULL), XAI_OK);
    xai_model_free(m);
    ck_assert_int_eq(xai_model_load_onnx(p1, NULL, &m), XAI_OK);
    xai_card *c = card_of(full_card);
    ck_assert_int_eq(xai_card_save_onnx(m, c, p2), XAI_OK);
    /* a card that does not fit the model */
    ck_assert_int_eq(xai_card_set(c, "classes=a,b"), XAI_OK);
    ck_assert_int_eq(xai_card_save_onnx(m, c, p1), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "2 classes but the model has 3 outputs"));
    ck_assert_int_eq(xai_card_apply(m, c), XAI_EINVAL);
    ck_assert_int_eq(xai_card_set(c, "classes=a,b,c"), XAI_OK);
    ck_assert_int_eq(xai_card_set(c, "input.axes=[\"t\"]"), XAI_EINVAL); /* 2 units */
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "input.units has 2 entries but input.axes has 1"));
    ck_assert_int_eq(xai_card_set(c, "input.units="), XAI_OK);
    ck_assert_int_eq(xai_card_set(c, "input.axes=[\"t\"]"), XAI_OK);
    ck_assert_int_eq(xai_card_save_onnx(m, c, p1), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "input.axes"));
    xai_card_free(c);

    xai_model *m2;
    ck_assert_int_eq(xai_model_load_onnx(p2, NULL, &m2), XAI_OK);
    ck_assert_str_eq(xai_model_metadata(m2, "note"), "kept");
    ck_assert_int_eq(xai_card_from_model(m2, &c), XAI_OK);
    char *a, *b;
    xai_card *ref = card_of(full_card);
    ck_assert_int_eq(xai_card_to_json(c, 0, &a), XAI_OK);
    ck_assert_int_eq(xai_card_to_json(ref, 0, &b), XAI_OK);
    ck_assert_str_eq(a, b);
    xai_free(a);
    xai_free(b);
    /* same numbers out of the model */
    float x[32], y1[3], y2[3];
    for (int k = 0; k < 32; k++)
        x[k] = (float)sin(k);
    xai_workspace *w1, *w2;
    ck_assert_int_eq(xai_workspace_new(m, 1, &w1), XAI_OK);
    ck_assert_int_eq(xai_workspace_new(m2, 1, &w2), XAI_OK);
    ck_assert_int_eq(xai_model_forward(m, w1, 1, x, y1), XAI_OK);
    ck_assert_int_eq(xai_model_forward(m2, w2, 1, x, y2), XAI_OK);
    ck_assert(memcmp(y1, y2, sizeof y1) == 0);
    /* rewriting the card again replaces it (one entry), in place */
    ck_assert_int_eq(xai_card_set(c, "task=changed"), XAI_OK);
    ck_assert_int_eq(xai_card_save_onnx(m2, c, p2), XAI_OK);
    xai_model *m3;
    ck_assert_int_eq(xai_model_load_onnx(p2, NULL, &m3), XAI_OK);
    xai_card *c3;
    ck_assert_int_eq(xai_card_from_model(m3, &c3), XAI_OK);
    ck_assert_str_eq(xai_card_get_string(c3, "task"), "changed");
    /* apply + save_onnx carries the card too */
    ck_assert_int_eq(xai_card_apply(m3, ref), XAI_OK);
    ck_assert_str_eq(xai_model_metadata(m3, XAI_CARD_KEY), xai_model_metadata(m2, XAI_CARD_KEY));
    ck_assert_int_eq(xai_card_save_onnx(m, ref, "/nonexistent-dir/x.onnx"), XAI_EIO);
    xai_card_free(c);
    xai_card_free(c3);
    xai_card_free(ref);
    xai_workspace_free(w1);
    xai_workspace_free(w2);
    xai_model_free(m);
    xai_model_free(m2);
    xai_model_free(m3);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_version_and_free)
{
    const char *v = xai_version();
    int a, b, c;
    ck_assert_int_eq(sscanf(v, "%d.%d.%d", &a, &b, &c), 3);
    xai_free(NULL);
    ck_assert_int_eq(xai_card_new(NULL), XAI_EINVAL);
    ck_assert_int_eq(xai_card_from_json(NULL, NULL), XAI_EINVAL);
    xai_card_free(NULL);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("card");
    TCase *tc = tcase_create("card");
    tcase_add_test(tc, test_json_round_trip);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_set);
    tcase_add_test(tc, test_command_line);
    tcase_add_test(tc, test_merge);
    tcase_add_test(tc, test_warnings);
    tcase_add_test(tc, test_legacy);
    tcase_add_test(tc, test_onnx_file);
    tcase_add_test(tc, test_version_and_free);
    suite_add_tcase(s, tc);
    return s;
}
