/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-common.h - shared helpers for the Check suites.
 * Each test file defines `Suite *make_suite(void)`; test-common.c provides main().
 * A suite that needs ../shared calls xai_test_shared_dir() and skips (77) without it.
 */
#ifndef XAI_TEST_COMMON_H
#define XAI_TEST_COMMON_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "xai/model.h"

/** Provided by each test file. */
Suite *make_suite(void);

/** Directory of ../shared (XAI_SHARED_DIR), or NULL when it is absent. */
const char *xai_test_shared_dir(void);

/** Directory of tests/data (XAI_TEST_DATA). */
const char *xai_test_data_dir(void);

/** Build "dir/rest" into a static rotating buffer (8 slots). */
const char *xai_test_path(const char *dir, const char *rest);

/** Read a whole file; returns malloc'ed buffer (caller frees) and its size, or NULL. */
void *xai_test_read_file(const char *path, size_t *len);

/** Relative L2 error ||a-b|| / ||b|| in double precision (||a-b|| when b == 0). */
double xai_test_rel_l2(const float *a, const float *b, size_t n);

/** Load an ONNX model, failing the test (with the library's message) when it does not load. */
xai_model *xai_test_load_model(const char *path);

/** Make a fresh temporary directory (caller removes it with xai_test_rmtree). */
char *xai_test_tmpdir(void);
void xai_test_rmtree(const char *dir);

/** Request a skip (exit 77) from main() when every test of the suite was skipped. */
void xai_test_mark_skip(void);

#endif
