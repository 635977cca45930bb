/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-domain.c - the domain layer's shared shape (xai/domain.h): dataset allocation,
 * subsets, grouped splits that never share a group, concatenation that matches classes
 * by name, and the one target parser.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"
#include "xai/domain.h"

static char **names(const char *const *v, int n)
{
    char **out = calloc((size_t)n, sizeof *out);
    for (int i = 0; i < n; i++)
        out[i] = strdup(v[i]);
    return out;
}

/* n samples of shape 2x3 whose values encode (tag, sample, position). */
static void make(xai_dataset *d, int64_t n, float tag, const char *const *cls, int ncls,
                 const char *const *grp, int ngrp)
{
    const int64_t shape[2] = {2, 3};
    ck_assert_int_eq(xai_dataset_alloc(d, n, 2, shape, ncls), XAI_OK);
    ck_assert_int_eq(xai_dataset_sample_size(d), 6);
    d->class_names = cls ? names(cls, ncls) : NULL;
    d->ngroups = ngrp;
    d->group_names = grp ? names(grp, ngrp) : NULL;
    d->group_kind = strdup("subject");
    for (int64_t i = 0; i < n; i++) {
        for (int k = 0; k < 6; k++)
            d->x[i * 6 + k] = tag * 1000 + (float)i * 10 + (float)k;
        d->y[i] = (int)(i % ncls);
        d->group[i] = (int)(i % ngrp);
    }
}

START_TEST(test_alloc_and_subset)
{
    static const char *const cls[] = {"left", "right"}, *const grp[] = {"01", "02", "03"};
    xai_dataset d, s;
    make(&d, 6, 1, cls, 2, grp, 3);
    int64_t idx[] = {5, 0, 5};
    ck_assert_int_eq(xai_dataset_subset(&d, idx, 3, &s), XAI_OK);
    ck_assert_int_eq(s.n, 3);
    ck_assert_int_eq(s.shape[1], 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_float_eq(s.x[i * 6 + 4], d.x[idx[i] * 6 + 4]);
        ck_assert_int_eq(s.y[i], d.y[idx[i]]);
        ck_assert_int_eq(s.group[i], d.group[idx[i]]);
    }
    ck_assert_str_eq(s.class_names[1], "right");
    ck_assert_str_eq(s.group_names[2], "03");
    ck_assert_str_eq(s.group_kind, "subject");
    xai_dataset_free(&s);
    int64_t bad[] = {6};
    ck_assert_int_eq(xai_dataset_subset(&d, bad, 1, &s), XAI_EINVAL);
    const int64_t zero[1] = {0};
    ck_assert_int_eq(xai_dataset_alloc(&s, 2, 1, zero, 2), XAI_EINVAL);
    ck_assert_int_eq(xai_dataset_alloc(&s, 1, 0, zero, 2), XAI_EINVAL);
    xai_dataset_free(&d);
    xai_dataset_free(&d); /* zeroed: harmless */
}
END_TEST

START_TEST(test_group_split)
{
    static const char *const cls[] = {"a", "b"}, *const grp[] = {"01", "02", "03"};
    xai_dataset d, held, train;
    make(&d, 7, 2, cls, 2, grp, 3);
    unsigned char mask[3] = {0, 1, 0};
    ck_assert_int_eq(xai_dataset_split_groups(&d, mask, 1, &held), XAI_OK);
    ck_assert_int_eq(xai_dataset_split_groups(&d, mask, 0, &train), XAI_OK);
    ck_assert_int_eq(held.n + train.n, d.n);
    ck_assert_int_eq(held.n, 2); /* samples 1 and 4 */
    for (int64_t i = 0; i < held.n; i++)
        ck_assert_int_eq(held.group[i], 1);
    for (int64_t i = 0; i < train.n; i++)
        ck_assert_int_ne(train.group[i], 1);
    ck_assert_float_eq(held.x[6], d.x[4 * 6]);
    xai_dataset_free(&held);
    xai_dataset_free(&train);
    d.group[3] = 7; /* out of range: refused, not read past the mask */
    ck_assert_int_eq(xai_dataset_split_groups(&d, mask, 1, &held), XAI_EINVAL);
    xai_dataset_free(&d);
}
END_TEST

START_TEST(test_concat)
{
    static const char *const ca[] = {"rest", "task"}, *const cb[] = {"task", "rest"};
    static const char *const ga[] = {"01", "02"}, *const gb[] = {"02", "03"};
    xai_dataset a, b, c;
    make(&a, 3, 1, ca, 2, ga, 2);
    make(&b, 4, 2, cb, 2, gb, 2);
    ck_assert_int_eq(xai_dataset_concat(&a, &b, &c), XAI_OK);
    ck_assert_int_eq(c.n, 7);
    ck_assert_int_eq(c.ngroups, 3);
    ck_assert_str_eq(c.group_names[2], "03");
    ck_assert_float_eq(c.x[2 * 6 + 5], a.x[2 * 6 + 5]);
    ck_assert_float_eq(c.x[3 * 6 + 1], b.x[1]);
    for (int64_t i = 0; i < b.n; i++) {
        /* the same class name and group name after the merge */
        ck_assert_str_eq(c.class_names[c.y[3 + i]], cb[b.y[i]]);
        ck_assert_str_eq(c.group_names[c.group[3 + i]], gb[b.group[i]]);
    }
    xai_dataset_free(&c);
    /* classes that do not match, and shapes that differ, are refused */
    free(b.class_names[0]);
    b.class_names[0] = strdup("other");
    ck_assert_int_eq(xai_dataset_concat(&a, &b, &c), XAI_EINVAL);
    b.shape[1] = 4;
    ck_assert_int_eq(xai_dataset_concat(&a, &b, &c), XAI_EINVAL);
    xai_dataset_free(&a);
    xai_dataset_free(&b);
}
END_TEST

START_TEST(test_target)
{
    static const char *const cls[] = {"left", "right", "7"};
    xai_target t;
    char buf[32];
    ck_assert_int_eq(xai_target_parse(NULL, cls, 3, 0, &t), XAI_OK);
    ck_assert_int_eq(t.kind, XAI_TARGET_PRED);
    ck_assert_int_eq(xai_target_parse("pred", cls, 3, 0, &t), XAI_OK);
    ck_assert_int_eq(t.cls, -1);
    ck_assert_int_eq(xai_target_parse("true", cls, 3, XAI_TARGET_ALLOW_TRUE, &t), XAI_OK);
    ck_assert_int_eq(t.kind, XAI_TARGET_TRUE);
    ck_assert_str_eq(xai_target_name(&t, cls, 3, buf, sizeof buf), "true");
    ck_assert_int_eq(xai_target_parse("true", cls, 3, 0, &t), XAI_EINVAL);
    ck_assert_int_eq(xai_target_parse("right", cls, 3, 0, &t), XAI_OK);
    ck_assert_int_eq(t.kind, XAI_TARGET_CLASS);
    ck_assert_int_eq(t.cls, 1);
    ck_assert_str_eq(xai_target_name(&t, cls, 3, buf, sizeof buf), "right");
    /* an index only when allowed, and a name wins over an index */
    ck_assert_int_eq(xai_target_parse("0", cls, 3, 0, &t), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "'0'"));
    ck_assert_int_eq(xai_target_parse("0", cls, 3, XAI_TARGET_ALLOW_INDEX, &t), XAI_OK);
    ck_assert_int_eq(t.cls, 0);
    ck_assert_int_eq(xai_target_parse("7", cls, 3, XAI_TARGET_ALLOW_INDEX, &t), XAI_OK);
    ck_assert_int_eq(t.cls, 2);
    ck_assert_int_eq(xai_target_parse("3", cls, 3, XAI_TARGET_ALLOW_INDEX, &t), XAI_EINVAL);
    ck_assert_int_eq(xai_target_parse("-1", cls, 3, XAI_TARGET_ALLOW_INDEX, &t), XAI_EINVAL);
    ck_assert_int_eq(xai_target_parse("1x", cls, 3, XAI_TARGET_ALLOW_INDEX, &t), XAI_EINVAL);
    ck_assert_int_eq(xai_target_parse("LEFT", cls, 3, 0, &t), XAI_EINVAL);
    ck_assert_int_eq(xai_target_parse("1", NULL, 2, XAI_TARGET_ALLOW_INDEX, &t), XAI_OK);
    ck_assert_str_eq(xai_target_name(&t, NULL, 2, buf, sizeof buf), "1");
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("domain");
    TCase *tc = tcase_create("domain");
    tcase_add_test(tc, test_alloc_and_subset);
    tcase_add_test(tc, test_group_split);
    tcase_add_test(tc, test_concat);
    tcase_add_test(tc, test_target);
    suite_add_tcase(s, tc);
    return s;
}
