/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-batch.c - libFuzzer target for the batch readers of apps/common/batch.c: a status file
 * (xai_batch_status_parse) and an input list (xai_batch_list_parse); the first byte chooses.
 * A status is done, an exit code 1..255 or unreadable, with a digest of at most 64 bytes;
 * every listed path is a non-empty line without a newline that does not start with '#'.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_list(const char *text, size_t len)
{
    char **v = NULL;
    int n = -1, bad = 0;
    int rc = xai_batch_list_parse(text, len, &v, &n, &bad);
    if (rc == -2 && (bad < 1 || v || n))
        abort();
    if (rc == 0 && (n < 0 || (n > 0 && (!v || v[n]))))
        abort();
    for (int i = 0; rc == 0 && i < n; i++)
        if (!v[i][0] || v[i][0] == '#' || strchr(v[i], '\n') || strlen(v[i]) > len)
            abort();
    xai_batch_list_free(v, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        check_list(text, len);
        return 0;
    }
    char digest[65];
    memset(digest, 'x', sizeof digest);
    int code = xai_batch_status_parse(text, len, digest);
    if (code < -1 || code > 255 || !memchr(digest, '\0', sizeof digest) || (code >= 0 && !digest[0]))
        abort();
    return 0;
}
