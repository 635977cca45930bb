/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-atomic.c - the atomic writer (xai/atomic.h): owner-tagged temp names, commit and
 * abort, the whole-buffer form, the signal-handler registry, and the orphan sweep after
 * a writer is killed with SIGKILL in the middle of a write.
 */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-common.h"
#include "xai/atomic.h"

/* Entries of dir whose name contains needle. */
static int count_with(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, "..")))
            n += strstr(e->d_name, needle) != NULL;
    closedir(d);
    return n;
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("x", f);
    fclose(f);
}

START_TEST(test_stream_commit_abort)
{
    char *dir = xai_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/out.bin", dir);
    xai_atomic_file af;
    ck_assert_int_eq(xai_atomic_begin(path, &af), XAI_OK);
    /* the temp sits next to the target and names its owner (marker, pid) */
    ck_assert_ptr_nonnull(strstr(af.tmp, "out.bin" XAI_ATOMIC_MARKER));
    char pid[32];
    snprintf(pid, sizeof pid, ".%ld.", (long)getpid());
    ck_assert_ptr_nonnull(strstr(af.tmp, pid));
    ck_assert_int_eq(strncmp(af.tmp, dir, strlen(dir)), 0);
    fputs("partial", af.f);
    xai_atomic_abort(&af);
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_int_eq(count_with(dir, "tmp"), 0);

    ck_assert_int_eq(xai_atomic_begin(path, &af), XAI_OK);
    fputs("complete", af.f);
    ck_assert_int_eq(xai_atomic_commit(&af), XAI_OK);
    size_t n;
    char *got = xai_test_read_file(path, &n);
    ck_assert_uint_eq(n, 8);
    ck_assert_int_eq(memcmp(got, "complete", 8), 0);
    free(got);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    mode_t mask = umask(022);
    umask(mask);
    ck_assert_uint_eq(st.st_mode & 0777, 0666 & ~mask);

    /* whole-buffer form replaces the file in one step */
    ck_assert_int_eq(xai_atomic_write(path, "ab", 2), XAI_OK);
    got = xai_test_read_file(path, &n);
    ck_assert_uint_eq(n, 2);
    free(got);
    ck_assert_int_eq(count_with(dir, "tmp"), 0);
    ck_assert_int_eq(xai_atomic_begin("", &af), XAI_EINVAL);
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/missing/out.bin", dir);
    ck_assert_int_eq(xai_atomic_write(bad, "x", 1), XAI_EIO);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), bad));
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_suffix_and_finish)
{
    char *dir = xai_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/map.nii.gz", dir);
    char *tmp;
    int fd;
    ck_assert_int_eq(xai_atomic_mkstemp(path, ".nii.gz", &tmp, &fd), XAI_OK);
    size_t tl = strlen(tmp);
    ck_assert_str_eq(tmp + tl - 7, ".nii.gz");
    ck_assert_ptr_nonnull(strstr(tmp, "/map" XAI_ATOMIC_MARKER));
    ck_assert_int_eq(write(fd, "abc", 3), 3);
    close(fd);
    ck_assert_int_eq(xai_atomic_finish(tmp, path, XAI_OK), XAI_OK);
    ck_assert_int_eq(access(path, F_OK), 0);
    /* a failed write leaves the old file and no temp */
    ck_assert_int_eq(xai_atomic_mkstemp(path, ".nii.gz", &tmp, &fd), XAI_OK);
    close(fd);
    ck_assert_int_eq(xai_atomic_finish(tmp, path, XAI_EDEP), XAI_EDEP);
    size_t n;
    char *got = xai_test_read_file(path, &n);
    ck_assert_uint_eq(n, 3);
    free(got);
    ck_assert_int_eq(count_with(dir, "tmp"), 0);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* The registry is what a signal handler uses: temps in flight go, finished files stay. */
START_TEST(test_remove_temps)
{
    char *dir = xai_test_tmpdir();
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/a.txt", dir);
    snprintf(b, sizeof b, "%s/b.txt", dir);
    ck_assert_int_eq(xai_atomic_write(a, "done", 4), XAI_OK);
    xai_atomic_file af;
    ck_assert_int_eq(xai_atomic_begin(b, &af), XAI_OK);
    fflush(af.f);
    ck_assert_int_eq(count_with(dir, XAI_ATOMIC_MARKER), 1);
    xai_formats_remove_temps();
    ck_assert_int_eq(count_with(dir, XAI_ATOMIC_MARKER), 0);
    ck_assert_int_eq(access(a, F_OK), 0);
    ck_assert_int_ne(xai_atomic_commit(&af), XAI_OK); /* its temp is gone */
    ck_assert_int_eq(access(b, F_OK), -1);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_kill9_then_sweep)
{
    char *dir = xai_test_tmpdir();
    char path[4096], other[4200], live[4200], foreign[4200], hidden[4200];
    snprintf(path, sizeof path, "%s/result.npy", dir);
    int ready[2];
    ck_assert_int_eq(pipe(ready), 0);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        /* a writer that blocks in the middle of its output until it is killed */
        xai_atomic_file af;
        if (xai_atomic_begin(path, &af) != XAI_OK)
            _exit(1);
        fputs("half of the data", af.f);
        fflush(af.f);
        if (write(ready[1], "r", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(ready[1]);
    char c;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    close(ready[0]);
    ck_assert_int_eq(count_with(dir, XAI_ATOMIC_MARKER), 1);
    /* while the writer lives its temp is not an orphan */
    int removed = -1;
    ck_assert_int_eq(xai_atomic_sweep_orphans(dir, &removed), XAI_OK);
    ck_assert_int_eq(removed, 0);
    kill(child, SIGKILL);
    int ws;
    ck_assert_int_eq(waitpid(child, &ws, 0), child);
    ck_assert(WIFSIGNALED(ws));
    ck_assert_int_eq(count_with(dir, XAI_ATOMIC_MARKER), 1);

    /* files that are not dead writers' temps of this host must survive the sweep */
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    snprintf(other, sizeof other, "%s/result.npy.tmpABCDEF", dir);           /* other pattern */
    snprintf(live, sizeof live, "%s/x.npy" XAI_ATOMIC_MARKER "%s.%ld.QWERTY", dir,
             host[0] ? host : "host", (long)getppid());                      /* a live pid */
    snprintf(foreign, sizeof foreign, "%s/y.npy" XAI_ATOMIC_MARKER "otherhost.%ld.QWERTY", dir,
             (long)child);                                                   /* another host */
    snprintf(hidden, sizeof hidden, "%s/notes" XAI_ATOMIC_MARKER "txt", dir); /* no owner */
    touch(other);
    touch(foreign);
    touch(hidden);
    int host_plain = 1;
    for (const char *h = host; *h; h++)
        host_plain &= (*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') || (*h >= '0' && *h <= '9') || *h == '-';
    if (host_plain)
        touch(live);
    ck_assert_int_eq(xai_atomic_sweep_orphans(dir, &removed), XAI_OK);
    ck_assert_int_eq(removed, 1);
    ck_assert_int_eq(access(other, F_OK), 0);
    ck_assert_int_eq(access(foreign, F_OK), 0);
    ck_assert_int_eq(access(hidden, F_OK), 0);
    if (host_plain)
        ck_assert_int_eq(access(live, F_OK), 0);
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_int_eq(count_with(dir, "result.npy" XAI_ATOMIC_MARKER), 0);
    /* a missing folder is nothing to sweep */
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/none", dir);
    ck_assert_int_eq(xai_atomic_sweep_orphans(missing, &removed), XAI_OK);
    ck_assert_int_eq(removed, 0);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("atomic");
    TCase *tc = tcase_create("atomic");
    tcase_add_test(tc, test_stream_commit_abort);
    tcase_add_test(tc, test_suffix_and_finish);
    tcase_add_test(tc, test_remove_temps);
    tcase_add_test(tc, test_kill9_then_sweep);
    suite_add_tcase(s, tc);
    return s;
}
