/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * util.c - small helpers the programs share: formatted string duplication, reading a small
 * file whole, strict
 * parsing of option numbers (strtol(3) and strtod(3) over the whole argument, range-checked;
 * lists of them), the training
 * configuration from the common options, the per-epoch training progress callback, the
 * leading -h/--help/--version/missing-command handling of the subcommand programs, and the
 * time-and-page-fault stamps the --json summaries report phases with.
 */
#include "app-int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

xai_app_stamp xai_app_stamp_now(void)
{
    struct rusage ru;
    xai_app_stamp s = {xai_app_now() * 1e3, 0};
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        s.minflt = ru.ru_minflt;
    return s;
}

void xai_app_fault_in(void *buf, size_t bytes)
{
    /* volatile: a compiler may turn malloc() and a zeroing memset() into calloc(), which on
       fresh pages writes nothing */
    volatile char *p = buf;
    for (size_t k = 0; k < bytes; k += 4096)
        p[k] = 0;
}

char *xai_app_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)n + 1)) && fread(b, 1, (size_t)n, f) == (size_t)n) {
        b[n] = '\0';
        if (len)
            *len = (size_t)n;
    } else {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

char *xai_app_strdup_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

int xai_app_parse_long(const char *s, long lo, long hi, long *out)
{
    char *e;
    errno = 0;
    long v = strtol(s, &e, 10);
    if (e == s || *e || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int xai_app_parse_batch_limit(const char *s, int wait_timeout, int *out)
{
    long v;
    if (xai_app_parse_long(s, 1, wait_timeout ? 30L * 86400 : 100000, &v))
        return -1;
    *out = (int)v;
    return 0;
}

/* Whether strtod(3) or strtof(3) read all of @p s (up to @p e, with @p err its errno) as a finite
 * decimal number @p v within [lo, hi]. They also read hexadecimal ("0x10" is 16): a surprise for
 * an option's number, so refused. */
static int number_read(const char *s, const char *e, int err, double v, double lo, double hi)
{
    return e != s && !*e && !err && !strpbrk(s, "xX") && isfinite(v) && v >= lo && v <= hi;
}

int xai_app_parse_double(const char *s, double lo, double hi, double *out)
{
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (!number_read(s, e, errno, v, lo, hi))
        return -1;
    *out = v;
    return 0;
}

int xai_app_parse_float(const char *s, float lo, float hi, float *out)
{
    char *e;
    errno = 0;
    /* strtof, not strtod and a cast: one rounding, and ERANGE for what a float cannot hold */
    float v = strtof(s, &e);
    if (!number_read(s, e, errno, v, lo, hi))
        return -1;
    *out = v;
    return 0;
}

int xai_app_parse_u64(const char *s, uint64_t *out)
{
    char *e;
    /* strtoull would take "-1" as 2^64 - 1 */
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    if (*e || errno)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

/* One item of a list, parsed into out[i] by the list's scalar parser; 0 or -1. */
typedef int (*list_parse_fn)(const char *item, int i, const void *range, void *out);

/* The items of "A<sep>B<sep>...", each copied out whole (the scalar parsers read a whole string)
 * and handed to @p one: the number of items (>= 1), or -1 for an empty or overlong item, a
 * trailing separator, more than @p max items, or an item @p one refuses. */
static int parse_list(const char *s, char sep, int max, list_parse_fn one, const void *range, void *out)
{
    char buf[64];
    for (int n = 0;; n++) {
        size_t len = strcspn(s, (char[]){sep, '\0'});
        if (n == max || len >= sizeof buf)
            return -1;
        memcpy(buf, s, len);
        buf[len] = '\0';
        if (one(buf, n, range, out))
            return -1;
        s += len;
        if (!*s++)
            return n + 1;
    }
}

static int long_item(const char *item, int i, const void *range, void *out)
{
    const long *r = range;
    return xai_app_parse_long(item, r[0], r[1], (long *)out + i);
}

static int double_item(const char *item, int i, const void *range, void *out)
{
    const double *r = range;
    return xai_app_parse_double(item, r[0], r[1], (double *)out + i);
}

int xai_app_parse_long_list(const char *s, char sep, long lo, long hi, long *out, int max)
{
    return parse_list(s, sep, max, long_item, (const long[]){lo, hi}, out);
}

int xai_app_parse_double_list(const char *s, char sep, double lo, double hi, double *out, int max)
{
    return parse_list(s, sep, max, double_item, (const double[]){lo, hi}, out);
}

void xai_app_train_progress(const xai_train_progress *p, void *app)
{
    char item[160];
    if (isnan(p->val_loss))
        snprintf(item, sizeof item, "epoch %d loss %.4f acc %.3f", p->epoch, p->train_loss, p->train_acc);
    else
        snprintf(item, sizeof item, "epoch %d loss %.4f acc %.3f val_loss %.4f val_acc %.3f", p->epoch,
                 p->train_loss, p->train_acc, p->val_loss, p->val_acc);
    xai_app_progress_step(app, p->epoch, item);
}

void xai_app_train_config(xai_train_config *cfg, int epochs, int64_t batch, double lr, double val_split,
                          int patience, uint64_t seed)
{
    xai_train_config_init(cfg);
    cfg->epochs = epochs;
    cfg->batch = batch;
    cfg->lr = (float)lr;
    cfg->val_split = (float)val_split;
    cfg->patience = patience;
    cfg->seed = seed;
}

int xai_app_leading_args(const xai_app *app, int argc, char **argv, const char *missing, void (*usage)(void))
{
    if (argc < 2)
        return xai_app_usage_error(app, "%s", missing);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage();
        return XAI_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("%s (libxai) %s\n", app->prog, app->version);
        return XAI_EXIT_OK;
    }
    return -1;
}
