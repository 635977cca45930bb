/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * atomic.c - the one atomic writer and temp registry (see xai/atomic.h).
 * The temporary file lives in the destination directory so that rename(2) is atomic
 * (POSIX rename: the destination is replaced in one step or not at all).
 */

#include "xai/atomic.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Temporary files in flight, for signal handlers: fixed storage, slots claimed with an
   atomic compare-and-swap so writer threads never share one and the handler only reads
   complete names (state 2 = being filled, 1 = live). Writes beyond the slots still work;
   their temps are then left for xai_atomic_sweep_orphans(). */
#define TEMP_SLOTS 64
static char temp_path[TEMP_SLOTS][4096];
static volatile sig_atomic_t temp_used[TEMP_SLOTS];

void xai_formats_track_temp(const char *tmp)
{
    if (!tmp || strlen(tmp) >= sizeof temp_path[0])
        return;
    for (int i = 0; i < TEMP_SLOTS; i++) {
        sig_atomic_t free_slot = 0;
        if (__atomic_compare_exchange_n(&temp_used[i], &free_slot, 2, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            strcpy(temp_path[i], tmp);
            __atomic_store_n(&temp_used[i], 1, __ATOMIC_RELEASE);
            return;
        }
    }
}

void xai_formats_untrack_temp(const char *tmp)
{
    if (!tmp)
        return;
    for (int i = 0; i < TEMP_SLOTS; i++)
        if (__atomic_load_n(&temp_used[i], __ATOMIC_ACQUIRE) == 1 && strcmp(temp_path[i], tmp) == 0) {
            __atomic_store_n(&temp_used[i], 0, __ATOMIC_RELEASE);
            return;
        }
}

void xai_formats_remove_temps(void)
{
    for (int i = 0; i < TEMP_SLOTS; i++)
        if (temp_used[i] == 1)
            unlink(temp_path[i]);
}

/* This host's name reduced to [A-Za-z0-9-] (dots separate the fields of a temp name). */
static void host_tag(char *out, size_t cap)
{
    char h[256] = "";
    if (gethostname(h, sizeof h - 1) != 0 || !h[0])
        strcpy(h, "host");
    size_t j = 0;
    for (size_t i = 0; h[i] && j + 1 < cap; i++) {
        char c = h[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        out[j++] = ok ? c : '-';
    }
    out[j] = '\0';
}

/* Permissions a plain open(O_CREAT, 0666) would give (mkstemp makes 0600; outputs are
   meant to be shared like any other file). */
static mode_t default_file_mode(void)
{
    mode_t mask = umask(022);
    umask(mask);
    return 0666 & ~mask;
}

xai_status xai_atomic_mkstemp(const char *path, const char *suffix, char **tmp, int *fd)
{
    *tmp = NULL;
    *fd = -1;
    if (!path || !*path)
        return xai_error_set(XAI_EINVAL, "atomic write: empty output path");
    if (!suffix)
        suffix = "";
    size_t plen = strlen(path), slen = strlen(suffix);
    if (slen > plen)
        slen = plen;
    const char *slash = strrchr(path, '/');
    size_t base = slash ? (size_t)(slash - path) + 1 : 0, nlen = plen - slen - base;
    if (nlen > 160) /* keep the name under NAME_MAX with the owner fields */
        nlen = 160;
    char host[64];
    host_tag(host, sizeof host);
    size_t cap = base + nlen + strlen(XAI_ATOMIC_MARKER) + strlen(host) + 40 + slen;
    char *t = malloc(cap);
    if (!t)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    snprintf(t, cap, "%.*s%.*s%s%s.%ld.XXXXXX%s", (int)base, path, (int)nlen, path + base,
             XAI_ATOMIC_MARKER, host, (long)getpid(), suffix);
    int d = mkstemps(t, (int)slen);
    if (d < 0) {
        xai_status st = xai_error_set(XAI_EIO, "%s: cannot create a temporary file next to it: %s",
                                      path, strerror(errno));
        free(t);
        return st;
    }
    xai_formats_track_temp(t);
    (void)fchmod(d, default_file_mode());
    *tmp = t;
    *fd = d;
    return XAI_OK;
}

xai_status xai_atomic_fopen_tmp(const char *path, char **tmp, FILE **f)
{
    int fd;
    *f = NULL;
    xai_status st = xai_atomic_mkstemp(path, NULL, tmp, &fd);
    if (st != XAI_OK)
        return st;
    *f = fdopen(fd, "wb");
    if (!*f) {
        st = xai_error_set(XAI_EIO, "%s: cannot open the temporary file: %s", path, strerror(errno));
        close(fd);
        xai_atomic_finish(*tmp, path, st);
        *tmp = NULL;
    }
    return st;
}

xai_status xai_atomic_finish(char *tmp, const char *path, xai_status st)
{
    if (!tmp)
        return st;
    if (st == XAI_OK && rename(tmp, path) != 0)
        st = xai_error_set(XAI_EIO, "%s: cannot rename the temporary file over it: %s", path,
                           strerror(errno));
    if (st != XAI_OK)
        unlink(tmp);
    xai_formats_untrack_temp(tmp);
    free(tmp);
    return st;
}

xai_status xai_atomic_fcommit(FILE *f, char *tmp, const char *path, int ok)
{
    int e = 0;
    if (!f) {
        return xai_atomic_finish(tmp, path,
                                 xai_error_set(XAI_EINVAL, "%s: write: file is not open", path ? path : "(null)"));
    }
    if (!ok) { /* the caller has set the reason */
        fclose(f);
        return xai_atomic_finish(tmp, path, XAI_EIO);
    }
    if (ferror(f) || fflush(f) != 0) {
        ok = 0;
        e = errno ? errno : EIO;
    }
    if (ok && fsync(fileno(f)) != 0 && errno != EINVAL && errno != EROFS) {
        ok = 0;
        e = errno;
    }
    if (fclose(f) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    xai_status st = ok ? XAI_OK : xai_error_set(XAI_EIO, "%s: write failed: %s", path, strerror(e));
    return xai_atomic_finish(tmp, path, st);
}

xai_status xai_atomic_begin(const char *path, xai_atomic_file *af)
{
    if (!af)
        return xai_error_set(XAI_EINVAL, "atomic write: NULL handle");
    memset(af, 0, sizeof *af);
    if (!path || !*path)
        return xai_error_set(XAI_EINVAL, "atomic write: empty output path");
    af->path = strdup(path);
    if (!af->path)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    xai_status st = xai_atomic_fopen_tmp(path, &af->tmp, &af->f);
    if (st != XAI_OK) {
        free(af->path);
        af->path = NULL;
    }
    return st;
}

xai_status xai_atomic_commit(xai_atomic_file *af)
{
    if (!af || !af->f)
        return xai_error_set(XAI_EINVAL, "atomic write: file is not open");
    xai_status st = xai_atomic_fcommit(af->f, af->tmp, af->path, 1);
    free(af->path);
    memset(af, 0, sizeof *af);
    return st;
}

void xai_atomic_abort(xai_atomic_file *af)
{
    if (!af)
        return;
    if (af->f) {
        fclose(af->f);
        xai_atomic_finish(af->tmp, af->path, XAI_EIO);
    } else {
        free(af->tmp);
    }
    free(af->path);
    memset(af, 0, sizeof *af);
}

xai_status xai_atomic_write(const char *path, const void *data, size_t len)
{
    xai_atomic_file af;
    xai_status st = xai_atomic_begin(path, &af);
    if (st != XAI_OK)
        return st;
    if (len && (!data || fwrite(data, 1, len, af.f) != len)) {
        st = xai_error_set(data ? XAI_EIO : XAI_EINVAL, "%s: write failed: %s", path,
                           data ? strerror(errno ? errno : EIO) : "no data");
        xai_atomic_abort(&af);
        return st;
    }
    return xai_atomic_commit(&af);
}

/* Process id of an orphan candidate "…MARKER HOST.PID.RAND…" of this host, else 0. */
static long orphan_pid(const char *name, const char *host)
{
    const char *m = strstr(name, XAI_ATOMIC_MARKER);
    if (!m)
        return 0;
    m += strlen(XAI_ATOMIC_MARKER);
    size_t hl = strlen(host);
    if (strncmp(m, host, hl) != 0 || m[hl] != '.')
        return 0;
    char *end;
    long pid = strtol(m + hl + 1, &end, 10);
    if (pid <= 0 || *end != '.' || strlen(end + 1) < 6)
        return 0;
    return pid;
}

static int pid_alive(long pid)
{
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

xai_status xai_atomic_sweep_orphans(const char *dir, int *removed)
{
    if (removed)
        *removed = 0;
    if (!dir || !*dir)
        return xai_error_set(XAI_EINVAL, "sweep: empty directory name");
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? XAI_OK
                               : xai_error_set(XAI_EIO, "%s: cannot list: %s", dir, strerror(errno));
    char host[64];
    host_tag(host, sizeof host);
    xai_status st = XAI_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid = orphan_pid(e->d_name, host);
        if (!pid || pid == (long)getpid() || pid_alive(pid))
            continue;
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(n);
        if (!p) {
            st = xai_error_set(XAI_ENOMEM, "%s: out of memory", dir);
            break;
        }
        snprintf(p, n, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISREG(sb.st_mode) && unlink(p) == 0 && removed)
            (*removed)++;
        free(p);
    }
    closedir(d);
    return st;
}
