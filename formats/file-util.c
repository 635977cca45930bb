/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * file-util.c - opening a reader's input as a regular file (see file-util.h; POSIX
 * fstat(2) on the open stream, so the check and the read are about the same file) and
 * freeing string arrays.
 */
#include "file-util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

xai_status xai_file_open_regular(const char *path, FILE **f, uint64_t *size)
{
    *f = fopen(path, "rb");
    if (!*f)
        return xai_error_set(XAI_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(*f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(*f);
        *f = NULL;
        return xai_error_set(XAI_EIO, "%s: not a regular file", path);
    }
    *size = (uint64_t)sb.st_size;
    return XAI_OK;
}

void xai_strv_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
