/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-common.c - main() and helpers shared by every Check suite.
 * Returns 77 when a suite asked for a skip (its prerequisites are missing), otherwise
 * EXIT_FAILURE when any case failed.
 */
#include "test-common.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int skip_requested; /* number of cases that asked to skip */

void xai_test_mark_skip(void)
{
    skip_requested++;
}

const char *xai_test_shared_dir(void)
{
    const char *d = getenv("XAI_SHARED_DIR");
    struct stat st;
    if (!d || stat(d, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return d;
}

const char *xai_test_data_dir(void)
{
    const char *d = getenv("XAI_TEST_DATA");
    return d ? d : XAI_TEST_DATA;
}

const char *xai_test_path(const char *dir, const char *rest)
{
    static char buf[8][4096];
    static int slot;
    char *b = buf[slot++ & 7];
    snprintf(b, 4096, "%s/%s", dir, rest);
    return b;
}

void *xai_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long n = ftell(f);
    rewind(f);
    char *buf = malloc(n > 0 ? (size_t)n + 1 : 1); /* NUL-terminated, so text files are strings */
    if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n > 0 ? n : 0] = '\0';
    fclose(f);
    if (buf && len)
        *len = (size_t)n;
    return buf;
}

xai_model *xai_test_load_model(const char *path)
{
    xai_model *m = NULL;
    xai_status st = xai_model_load_onnx(path, NULL, &m);
    ck_assert_msg(st == XAI_OK, "load %s: %s", path, xai_last_error());
    return m;
}

double xai_test_rel_l2(const float *a, const float *b, size_t n)
{
    double d = 0, r = 0;
    for (size_t i = 0; i < n; i++) {
        double e = (double)a[i] - (double)b[i];
        d += e * e;
        r += (double)b[i] * b[i];
        if (!isfinite(a[i]))
            return INFINITY;
    }
    return r > 0 ? sqrt(d / r) : sqrt(d);
}

char *xai_test_tmpdir(void)
{
    char tmpl[] = "/tmp/xai-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

void xai_test_rmtree(const char *dir)
{
    if (dir)
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    SRunner *sr = srunner_create(make_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    int run = srunner_ntests_run(sr);
    srunner_free(sr);
    if (failed)
        return EXIT_FAILURE;
    if (skip_requested > 0 && skip_requested >= run)
        return 77;
    return EXIT_SUCCESS;
}
