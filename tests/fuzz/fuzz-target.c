/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-target.c - libFuzzer target for the --target parser (xai_target_parse): the input
 * is "TEXT\nNAME\nNAME..." (class names one per line); an accepted target must name a
 * class in range and print back to a name that selects a class of the same name.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xai/domain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    const char *names[16];
    int n = 0;
    char *text = s, *p = strchr(s, '\n');
    while (p && n < 16) {
        *p = '\0';
        names[n++] = p + 1;
        p = strchr(p + 1, '\n');
    }
    if (p)
        *p = '\0';
    for (unsigned allow = 0; allow < 4; allow++) {
        xai_target t, u;
        if (xai_target_parse(text, names, n, allow, &t) != XAI_OK)
            continue;
        if (t.kind == XAI_TARGET_CLASS && (t.cls < 0 || t.cls >= n))
            abort();
        char buf[64];
        xai_target_name(&t, names, n, buf, sizeof buf);
        /* a class printed by name or index parses back to a class with that name */
        if (t.kind == XAI_TARGET_CLASS && buf[0] && strlen(buf) < sizeof buf - 1 && strcmp(buf, "pred") &&
            strcmp(buf, "true")) {
            if (xai_target_parse(buf, names, n, XAI_TARGET_ALLOW_INDEX, &u) != XAI_OK || u.kind != XAI_TARGET_CLASS ||
                strcmp(names[u.cls], names[t.cls]) != 0)
                abort();
        }
    }
    free(s);
    return 0;
}
