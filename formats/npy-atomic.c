/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * npy-atomic.c - atomic file replacement for the formats writers (see npy-atomic.h).
 * The temporary file lives in the destination directory so that rename(2) is atomic
 * (POSIX rename: the destination is replaced in one step or not at all).
 */
#include "npy-atomic.h"
#include "xai/atomic.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void release(xai_atomic_file *af)
{
    free(af->path);
    free(af->tmp);
    af->path = af->tmp = NULL;
    af->f = NULL;
}

/* Temporary files of writes in flight, for signal handlers: fixed storage and a ring of
   slots, so recording never allocates and removal is async-signal-safe. */
#define TEMP_SLOTS 32
static char temp_path[TEMP_SLOTS][4096];
static volatile sig_atomic_t temp_used[TEMP_SLOTS];
static unsigned temp_next;

void xai_formats_track_temp(const char *tmp)
{
    if (!tmp || strlen(tmp) >= sizeof temp_path[0])
        return;
    unsigned i = temp_next++ % TEMP_SLOTS;
    temp_used[i] = 0;
    strcpy(temp_path[i], tmp);
    temp_used[i] = 1;
}

void xai_formats_untrack_temp(const char *tmp)
{
    if (!tmp)
        return;
    for (int i = 0; i < TEMP_SLOTS; i++)
        if (temp_used[i] && strcmp(temp_path[i], tmp) == 0)
            temp_used[i] = 0;
}

void xai_formats_remove_temps(void)
{
    for (int i = 0; i < TEMP_SLOTS; i++)
        if (temp_used[i])
            unlink(temp_path[i]);
}

xai_status xai_atomic_begin(const char *path, xai_atomic_file *af)
{
    static const char suffix[] = ".tmpXXXXXX";
    size_t n;
    int fd;

    if (!af)
        return xai_error_set(XAI_EINVAL, "atomic write: NULL handle");
    memset(af, 0, sizeof *af);
    if (!path || !*path)
        return xai_error_set(XAI_EINVAL, "atomic write: empty output path");
    n = strlen(path);
    af->path = malloc(n + 1);
    af->tmp = malloc(n + sizeof suffix);
    if (!af->path || !af->tmp) {
        release(af);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    }
    memcpy(af->path, path, n + 1);
    memcpy(af->tmp, path, n);
    memcpy(af->tmp + n, suffix, sizeof suffix);
    fd = mkstemp(af->tmp);
    if (fd >= 0)
        xai_formats_track_temp(af->tmp);
    if (fd < 0) {
        int e = errno;
        release(af);
        return xai_error_set(XAI_EIO, "%s: cannot create temporary file: %s", path, strerror(e));
    }
    /* mkstemp makes 0600; result files are meant to be shared like any other output. */
    (void)fchmod(fd, 0644);
    af->f = fdopen(fd, "wb");
    if (!af->f) {
        int e = errno;
        close(fd);
        unlink(af->tmp);
        release(af);
        return xai_error_set(XAI_EIO, "%s: cannot open temporary file: %s", path, strerror(e));
    }
    return XAI_OK;
}

xai_status xai_atomic_commit(xai_atomic_file *af)
{
    int bad, e = 0;

    if (!af || !af->f)
        return xai_error_set(XAI_EINVAL, "atomic write: file is not open");
    bad = ferror(af->f) || fflush(af->f) != 0;
    if (bad)
        e = errno;
    if (!bad && fsync(fileno(af->f)) != 0 && errno != EINVAL && errno != EROFS) {
        bad = 1;
        e = errno;
    }
    if (fclose(af->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    af->f = NULL;
    if (!bad && rename(af->tmp, af->path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        xai_status s = xai_error_set(XAI_EIO, "%s: write failed: %s", af->path,
                                     e ? strerror(e) : "I/O error");
        unlink(af->tmp);
        release(af);
        return s;
    }
    release(af);
    return XAI_OK;
}

void xai_atomic_abort(xai_atomic_file *af)
{
    if (!af)
        return;
    if (af->f)
        fclose(af->f);
    if (af->tmp)
        unlink(af->tmp);
    release(af);
}

xai_status xai_atomic_mkstemp(const char *path, char **tmp, int *fd)
{
    size_t plen = strlen(path);
    *tmp = malloc(plen + 16);
    if (!*tmp)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    memcpy(*tmp, path, plen);
    memcpy(*tmp + plen, ".tmpXXXXXX", 11);
    *fd = mkstemp(*tmp);
    if (*fd >= 0)
        xai_formats_track_temp(*tmp);
    if (*fd < 0) {
        xai_status st = xai_error_set(XAI_EIO, "%s: cannot create temporary file: %s", path, strerror(errno));
        free(*tmp);
        *tmp = NULL;
        return st;
    }
    return XAI_OK;
}

xai_status xai_atomic_fopen_tmp(const char *path, char **tmp, FILE **f)
{
    int fd;
    xai_status st = xai_atomic_mkstemp(path, tmp, &fd);
    if (st != XAI_OK)
        return st;
    (void)fchmod(fd, 0644);
    *f = fdopen(fd, "wb");
    if (!*f) {
        close(fd);
        unlink(*tmp);
        free(*tmp);
        *tmp = NULL;
        return xai_error_set(XAI_EIO, "%s: cannot open temporary file", path);
    }
    return XAI_OK;
}
