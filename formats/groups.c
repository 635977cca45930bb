/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * groups.c - two groups of samples from files (groups.h): index lists, a per-sample .npy,
 * a cluster of xai-spray's clusters.tsv.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file-util.h"
#include "xai/groups.h"
#include "xai/npy.h"
#include "xai/tsv.h"

void xai_sample_groups_free(xai_sample_groups *g)
{
    if (!g)
        return;
    free(g->in);
    free(g->out);
    memset(g, 0, sizeof *g);
}

static int push(int64_t **v, int64_t *n, int64_t *cap, int64_t x)
{
    if (*n == *cap) {
        int64_t nc = *cap ? *cap * 2 : 64;
        int64_t *p = realloc(*v, sizeof(int64_t) * (size_t)nc);
        if (!p)
            return -1;
        *v = p;
        *cap = nc;
    }
    (*v)[(*n)++] = x;
    return 0;
}

/* The whole of a regular file; *buf malloc'ed. */
static xai_status read_whole(const char *path, char **buf, size_t *len)
{
    FILE *f;
    uint64_t size;
    *buf = NULL;
    xai_status st = xai_file_open_regular(path, &f, &size);
    if (st)
        return st;
    if (size >= SIZE_MAX || !(*buf = malloc(size ? (size_t)size : 1)))
        st = xai_error_set(XAI_ENOMEM, "%s: out of memory for %llu bytes", path, (unsigned long long)size);
    else if (fread(*buf, 1, (size_t)size, f) != (size_t)size)
        st = xai_error_set(XAI_EIO, "%s: short read", path);
    fclose(f);
    if (st) {
        free(*buf);
        *buf = NULL;
    }
    *len = (size_t)size;
    return st;
}

static int is_sep(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == ',';
}

/* One entry of an index list at text[*pos] (separators skipped), as strtoll reads it. */
static xai_status list_entry(const char *text, size_t len, size_t *pos, const char *name, int64_t n, int64_t k,
                             int64_t *v)
{
    char tok[32];
    size_t i = *pos, t = 0;
    while (i < len && !is_sep(text[i]) && t < sizeof tok - 1)
        tok[t++] = text[i++];
    tok[t] = '\0';
    *pos = i;
    char *e;
    errno = 0;
    long long x = strtoll(tok, &e, 10);
    if (e == tok || *e || (i < len && !is_sep(text[i])))
        return xai_error_set(XAI_EFORMAT, "%s: entry %lld is not an integer", name, (long long)k + 1);
    if (errno == ERANGE || x < 0 || x >= n)
        return xai_error_set(XAI_EFORMAT, "%s: index %s is outside 0..%lld", name, tok, (long long)n - 1);
    *v = (int64_t)x;
    return XAI_OK;
}

xai_status xai_index_list_parse(const char *text, size_t len, const char *name, int64_t n, int64_t **idx,
                                int64_t *count)
{
    name = name ? name : "(index list)";
    if (!idx || !count || (!text && len))
        return xai_error_set(XAI_EINVAL, "%s: NULL argument", name);
    *idx = NULL;
    *count = 0;
    int64_t cap = 0;
    xai_status st = XAI_OK;
    for (size_t pos = 0; pos < len && !st;) {
        if (is_sep(text[pos])) {
            pos++;
            continue;
        }
        int64_t v = 0;
        st = list_entry(text, len, &pos, name, n, *count, &v);
        if (!st && push(idx, count, &cap, v))
            st = xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    }
    if (st) {
        free(*idx);
        *idx = NULL;
        *count = 0;
    }
    return st;
}

xai_status xai_index_list_load(const char *path, int64_t n, int64_t **idx, int64_t *count)
{
    if (!path || !idx || !count)
        return xai_error_set(XAI_EINVAL, "xai_index_list_load: NULL argument");
    *idx = NULL;
    *count = 0;
    char *buf;
    size_t len;
    xai_status st = read_whole(path, &buf, &len);
    if (!st)
        st = xai_index_list_parse(buf, len, path, n, idx, count);
    free(buf);
    return st;
}

/* Sample i of the array: 1 in, 0 out, anything else in neither. */
static int add_value(xai_sample_groups *g, int64_t i, double x, int64_t *cap_in, int64_t *cap_out)
{
    if (x == 1.0)
        return push(&g->in, &g->n_in, cap_in, i);
    if (x == 0.0)
        return push(&g->out, &g->n_out, cap_out, i);
    return 0;
}

/* Float .npy first; integer and bool dtypes through the exact integer reader. */
static xai_status npy_values(const void *buf, size_t len, const char *name, int64_t n, xai_sample_groups *g)
{
    xai_npy a;
    xai_npy_int ai;
    int is_int = 0;
    xai_status st = xai_npy_load_mem(buf, len, name, &a);
    if (st == XAI_EUNSUPPORTED && xai_npy_load_int_mem(buf, len, name, &ai) == XAI_OK)
        st = XAI_OK, is_int = 1;
    if (st)
        return st;
    int ndim = is_int ? ai.ndim : a.ndim;
    const int64_t *shape = is_int ? ai.shape : a.shape;
    int64_t numel = 1, cap_in = 0, cap_out = 0;
    for (int k = 0; k < ndim; k++)
        numel *= shape[k];
    if (numel != n)
        st = xai_error_set(XAI_EFORMAT, "%s: has %lld values for %lld samples", name, (long long)numel, (long long)n);
    for (int64_t i = 0; i < n && !st; i++)
        if (add_value(g, i, is_int ? (double)ai.data[i] : (double)a.data[i], &cap_in, &cap_out))
            st = xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    if (is_int)
        xai_npy_int_free(&ai);
    else
        xai_npy_free(&a);
    return st;
}

xai_status xai_sample_groups_npy(const void *buf, size_t len, const char *name, int64_t n, xai_sample_groups *g)
{
    name = name ? name : "(groups)";
    if (!g)
        return xai_error_set(XAI_EINVAL, "%s: NULL output", name);
    memset(g, 0, sizeof *g);
    xai_status st = npy_values(buf, len, name, n, g);
    if (st)
        xai_sample_groups_free(g);
    return st;
}

/* The rows of clusters.tsv into the two groups. */
static xai_status spray_rows(const xai_tsv *t, const char *name, int cls, int cluster, int64_t n,
                             xai_sample_groups *g)
{
    long ci = xai_tsv_find_column(t, "index"), cc = xai_tsv_find_column(t, "class"),
         ck = xai_tsv_find_column(t, "cluster");
    if (ci < 0 || cc < 0 || ck < 0)
        return xai_error_set(XAI_EFORMAT, "%s: needs the columns index, class and cluster", name);
    int64_t cap_in = 0, cap_out = 0;
    for (size_t r = 0; r < xai_tsv_nrows(t); r++) {
        double idx, c, k;
        if (xai_tsv_get_number(t, r, (size_t)ci, &idx) || xai_tsv_get_number(t, r, (size_t)cc, &c) ||
            xai_tsv_get_number(t, r, (size_t)ck, &k) || !(idx >= 0 && idx < (double)n) || idx != floor(idx) ||
            isnan(c) || isnan(k))
            return xai_error_set(XAI_EFORMAT, "%s: row %zu: bad index, class or cluster (samples 0..%lld)", name, r + 1,
                                 (long long)n - 1);
        int hit = c == (double)cls && k == (double)cluster;
        if (hit ? push(&g->in, &g->n_in, &cap_in, (int64_t)idx) : push(&g->out, &g->n_out, &cap_out, (int64_t)idx))
            return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    }
    return XAI_OK;
}

xai_status xai_sample_groups_spray(const void *buf, size_t len, const char *name, int cls, int cluster, int64_t n,
                                   xai_sample_groups *g)
{
    name = name ? name : "(clusters.tsv)";
    if (!g)
        return xai_error_set(XAI_EINVAL, "%s: NULL output", name);
    memset(g, 0, sizeof *g);
    xai_tsv *t;
    xai_status st = xai_tsv_load_mem(buf, len, name, 0, &t);
    if (st)
        return st;
    st = spray_rows(t, name, cls, cluster, n, g);
    xai_tsv_free(t);
    if (st)
        xai_sample_groups_free(g);
    return st;
}

xai_status xai_sample_groups_load_npy(const char *path, int64_t n, xai_sample_groups *g)
{
    if (!path || !g)
        return xai_error_set(XAI_EINVAL, "xai_sample_groups_load_npy: NULL argument");
    memset(g, 0, sizeof *g);
    char *buf;
    size_t len;
    xai_status st = read_whole(path, &buf, &len);
    if (!st)
        st = xai_sample_groups_npy(buf, len, path, n, g);
    free(buf);
    return st;
}

xai_status xai_sample_groups_load_spray(const char *path, int cls, int cluster, int64_t n, xai_sample_groups *g)
{
    if (!path || !g)
        return xai_error_set(XAI_EINVAL, "xai_sample_groups_load_spray: NULL argument");
    memset(g, 0, sizeof *g);
    char *buf;
    size_t len;
    xai_status st = read_whole(path, &buf, &len);
    if (!st)
        st = xai_sample_groups_spray(buf, len, path, cls, cluster, n, g);
    free(buf);
    return st;
}
