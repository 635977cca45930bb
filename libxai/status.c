/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * status.c - status strings and the thread-local detail message.
 */
#include "xai/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef XAI_VERSION
#error "XAI_VERSION is set by the build (the meson project version)"
#endif

#define DETAIL_MAX 1024

static _Thread_local char detail[DETAIL_MAX];

static const char *const status_text[] = {
    [XAI_OK] = "success",
    [XAI_ENOMEM] = "out of memory",
    [XAI_EINVAL] = "invalid argument",
    [XAI_ESHAPE] = "shape mismatch",
    [XAI_EIO] = "input/output error",
    [XAI_EFORMAT] = "malformed file",
    [XAI_EUNSUPPORTED] = "unsupported feature",
    [XAI_ENUMERIC] = "numerical error",
    [XAI_EDEP] = "dependency failure",
};
_Static_assert(sizeof status_text / sizeof status_text[0] == XAI_STATUS_COUNT,
               "one text per status");

const char *xai_strerror(xai_status s)
{
    if ((unsigned)s >= XAI_STATUS_COUNT)
        return "unknown status";
    return status_text[s];
}

const char *xai_last_error(void)
{
    return detail;
}

xai_status xai_error_set(xai_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return s;
}

void xai_error_clear(void)
{
    detail[0] = '\0';
}

xai_status xai_error_prefix(xai_status s, const char *prefix)
{
    char tmp[DETAIL_MAX];
    if (!prefix || !*prefix)
        return s;
    memcpy(tmp, detail, sizeof tmp);
    if (tmp[0])
        snprintf(detail, sizeof detail, "%.200s: %.800s", prefix, tmp);
    else
        snprintf(detail, sizeof detail, "%.200s: %s", prefix, xai_strerror(s));
    return s;
}

const char *xai_version(void)
{
    return XAI_VERSION;
}

void xai_free(void *p)
{
    free(p);
}
