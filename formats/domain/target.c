/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * target.c - the one parser of the class to explain ("pred", "true", a class name or
 * index), shared by every program (see xai/domain.h).
 */
#include "xai/domain.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int find_name(const char *text, const char *const *names, int nclasses)
{
    for (int k = 0; names && k < nclasses; k++)
        if (names[k] && strcmp(names[k], text) == 0)
            return k;
    return -1;
}

/* A plain decimal index 0..nclasses-1 (no sign, no spaces), else -1. */
static int parse_index(const char *text, int nclasses)
{
    if (*text < '0' || *text > '9')
        return -1;
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || v >= nclasses)
        return -1;
    return (int)v;
}

xai_status xai_target_parse(const char *text, const char *const *names, int nclasses,
                            unsigned allow, xai_target *t)
{
    if (!t)
        return xai_error_set(XAI_EINVAL, "--target: NULL result");
    t->kind = XAI_TARGET_PRED;
    t->cls = -1;
    if (!text || !*text || strcmp(text, "pred") == 0)
        return XAI_OK;
    if ((allow & XAI_TARGET_ALLOW_TRUE) && strcmp(text, "true") == 0) {
        t->kind = XAI_TARGET_TRUE;
        return XAI_OK;
    }
    int k = find_name(text, names, nclasses);
    if (k < 0 && (allow & XAI_TARGET_ALLOW_INDEX))
        k = parse_index(text, nclasses);
    if (k >= 0) {
        t->kind = XAI_TARGET_CLASS;
        t->cls = k;
        return XAI_OK;
    }
    return xai_error_set(XAI_EINVAL, "--target: '%s' is not pred%s or a class %sof the model", text,
                         (allow & XAI_TARGET_ALLOW_TRUE) ? ", true" : "",
                         (allow & XAI_TARGET_ALLOW_INDEX) ? "name or index " : "");
}

const char *xai_target_name(const xai_target *t, const char *const *names, int nclasses,
                            char *buf, size_t cap)
{
    if (!buf || !cap)
        return "";
    if (!t || t->kind == XAI_TARGET_PRED)
        snprintf(buf, cap, "pred");
    else if (t->kind == XAI_TARGET_TRUE)
        snprintf(buf, cap, "true");
    else if (names && t->cls >= 0 && t->cls < nclasses && names[t->cls])
        snprintf(buf, cap, "%s", names[t->cls]);
    else
        snprintf(buf, cap, "%d", t->cls);
    return buf;
}
