/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bids.c - JSON sidecars with provenance, BIDS file names and derivative
 * dataset_description.json, and job sharding for the libxai programs.
 * Entity order and dataset_description fields follow the BIDS specification 1.9.0
 * (Appendix "Entity table"; "Derived dataset and pipeline description").
 */
#include "app-int.h"
#include "xai/atomic.h"
#include "xai/sidecar.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- sidecars ---- */

/* Extensions replaced by ".json" (longest first where one ends another). */
static const char *const sidecar_exts[] = {
    ".nii.gz", ".tsv.gz", ".nii", ".npy", ".tsv", ".png", ".svg", ".pdf", ".onnx",
    ".edf", ".bdf", ".vhdr", ".wav", ".c3d", ".csv",
};

static int ends_with(const char *s, size_t n, const char *suf)
{
    size_t m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

char *xai_app_sidecar_path(const char *output_path)
{
    size_t n = strlen(output_path);
    const char *base = strrchr(output_path, '/');
    size_t base_len = base ? n - (size_t)(base + 1 - output_path) : n;
    size_t keep = n; /* unknown extension: append ".json" */
    for (size_t i = 0; i < sizeof sidecar_exts / sizeof sidecar_exts[0]; i++) {
        /* the stem must not be empty ("dir/.nii" keeps its name) */
        if (ends_with(output_path, n, sidecar_exts[i]) && base_len > strlen(sidecar_exts[i])) {
            keep = n - strlen(sidecar_exts[i]);
            break;
        }
    }
    char *out = malloc(keep + 6);
    if (!out)
        return NULL;
    memcpy(out, output_path, keep);
    memcpy(out + keep, ".json", 6);
    return out;
}

/* The sidecar goes through the formats library's JSON writer (sorted keys, two-space
   indent, final newline, atomic): one serialisation for every JSON file of the suite. */
int xai_app_write_sidecar(const xai_app *app, const char *output_path, const char *extra_json)
{
    char *path = xai_app_sidecar_path(output_path);
    if (!path) {
        xai_app_fail(app, output_path, "out of memory");
        return -1;
    }
    xai_sidecar *sc = NULL;
    xai_status st = extra_json && *extra_json ? xai_sidecar_load_mem(extra_json, strlen(extra_json), path, &sc)
                                              : xai_sidecar_new(&sc);
    if (st != XAI_OK) {
        xai_app_fail(app, NULL, "bad sidecar content: %s", xai_last_error());
        free(path);
        return -1;
    }
    /* provenance always comes from the program itself */
    st = xai_sidecar_set_string(sc, "CommandLine", app && app->command_line ? app->command_line : "");
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "Version", app && app->version ? app->version : "");
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "DateTime", app ? app->datetime : "");
    if (st == XAI_OK)
        st = xai_sidecar_save(sc, path);
    if (st != XAI_OK)
        xai_app_fail(app, NULL, "%s", xai_last_error());
    xai_sidecar_free(sc);
    free(path);
    return st == XAI_OK ? 0 : -1;
}

/* ---- BIDS names ---- */

static const char *const entity_order[] = {
    "sub", "ses", "sample", "task", "acq", "ce", "trc", "stain", "rec", "dir",
    "run", "mod", "echo", "flip", "inv", "mt", "part", "proc", "hemi", "space",
    "split", "recording", "chunk", "atlas", "roi", "res", "den", "label", "desc",
};
#define N_ENTITIES ((int)(sizeof entity_order / sizeof entity_order[0]))

/* Rank of a key in the BIDS order; unknown keys after every known one. */
static int entity_rank(const char *key)
{
    for (int i = 0; i < N_ENTITIES; i++)
        if (strcmp(key, entity_order[i]) == 0)
            return i;
    return N_ENTITIES;
}

static int is_alnum_str(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

int xai_bids_parse(const char *path, xai_bids_name *out)
{
    memset(out, 0, sizeof *out);
    if (!path)
        return -1;
    /* the last path component, ignoring trailing slashes (a directory such as "sub-01/") */
    size_t end = strlen(path);
    while (end > 0 && path[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    if (start == end)
        return -1;
    const char *name = path + start;
    size_t len = end - start;
    const char *dot = memchr(name, '.', len);
    size_t stem = dot ? (size_t)(dot - name) : len;
    if (dot) {
        size_t elen = len - stem;
        if (elen >= sizeof out->extension)
            return -1;
        /* ".nii.gz": non-empty alphanumeric components separated by single dots */
        for (size_t i = 0; i < elen; i++) {
            if (dot[i] == '.' ? (i + 1 == elen || dot[i + 1] == '.') : !is_alnum_str(dot + i, 1))
                return -1;
        }
        memcpy(out->extension, dot, elen);
        out->extension[elen] = '\0';
    }
    if (stem == 0)
        return -1;
    size_t pos = 0;
    while (pos < stem) {
        const char *part = name + pos;
        const char *us = memchr(part, '_', stem - pos);
        size_t plen = us ? (size_t)(us - part) : stem - pos;
        const char *dash = memchr(part, '-', plen);
        if (!dash) {
            /* the suffix: only last */
            if (us || plen >= sizeof out->suffix || !is_alnum_str(part, plen))
                goto bad;
            memcpy(out->suffix, part, plen);
            out->suffix[plen] = '\0';
        } else {
            size_t klen = (size_t)(dash - part), vlen = plen - klen - 1;
            if (out->n >= XAI_BIDS_MAX_ENTITIES || klen >= sizeof out->key[0] ||
                vlen >= sizeof out->value[0] || !is_alnum_str(part, klen) ||
                !is_alnum_str(dash + 1, vlen))
                goto bad;
            char key[sizeof out->key[0]];
            memcpy(key, part, klen);
            key[klen] = '\0';
            if (xai_bids_get(out, key))
                goto bad; /* duplicate entity */
            memcpy(out->key[out->n], key, klen + 1);
            memcpy(out->value[out->n], dash + 1, vlen);
            out->value[out->n][vlen] = '\0';
            out->n++;
        }
        if (!us)
            break;
        pos += plen + 1;
        if (pos >= stem)
            goto bad; /* trailing '_' */
    }
    return 0;
bad:
    memset(out, 0, sizeof *out);
    return -1;
}

const char *xai_bids_get(const xai_bids_name *b, const char *key)
{
    for (int i = 0; i < b->n; i++)
        if (strcmp(b->key[i], key) == 0)
            return b->value[i];
    return NULL;
}

void xai_bids_set(xai_bids_name *b, const char *key, const char *value)
{
    if (!key || strlen(key) >= sizeof b->key[0] || (value && strlen(value) >= sizeof b->value[0]))
        return;
    for (int i = 0; i < b->n; i++) {
        if (strcmp(b->key[i], key) != 0)
            continue;
        if (value) {
            strcpy(b->value[i], value);
        } else { /* NULL removes the entity */
            memmove(b->key[i], b->key[i + 1], sizeof b->key[0] * (size_t)(b->n - i - 1));
            memmove(b->value[i], b->value[i + 1], sizeof b->value[0] * (size_t)(b->n - i - 1));
            b->n--;
        }
        return;
    }
    if (!value || b->n >= XAI_BIDS_MAX_ENTITIES)
        return;
    /* insert before the first entity that comes later in the BIDS order */
    int r = entity_rank(key), at = b->n;
    for (int i = 0; i < b->n; i++) {
        if (entity_rank(b->key[i]) > r) {
            at = i;
            break;
        }
    }
    memmove(b->key[at + 1], b->key[at], sizeof b->key[0] * (size_t)(b->n - at));
    memmove(b->value[at + 1], b->value[at], sizeof b->value[0] * (size_t)(b->n - at));
    strcpy(b->key[at], key);
    strcpy(b->value[at], value);
    b->n++;
}

char *xai_bids_format(const xai_bids_name *b, const char *suffix, const char *extension, char *buf, size_t len)
{
    if (!buf || len == 0)
        return buf;
    if (!suffix)
        suffix = b->suffix;
    if (!extension)
        extension = b->extension;
    /* entities in BIDS order (stable for equal ranks, i.e. unknown keys keep their order) */
    int idx[XAI_BIDS_MAX_ENTITIES], n = b->n < XAI_BIDS_MAX_ENTITIES ? b->n : XAI_BIDS_MAX_ENTITIES;
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && entity_rank(b->key[idx[j - 1]]) > entity_rank(b->key[i])) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    size_t pos = 0;
    int over = 0;
    buf[0] = '\0';
#define APPEND(...)                                                                                \
    do {                                                                                           \
        int w_ = snprintf(buf + pos, pos < len ? len - pos : 0, __VA_ARGS__);                      \
        if (w_ < 0 || (size_t)w_ >= len - pos)                                                     \
            over = 1;                                                                              \
        else                                                                                       \
            pos += (size_t)w_;                                                                     \
    } while (0)
    for (int i = 0; i < n && !over; i++)
        APPEND("%s%s-%s", i ? "_" : "", b->key[idx[i]], b->value[idx[i]]);
    if (!over && suffix && *suffix)
        APPEND("%s%s", n ? "_" : "", suffix);
    if (!over && extension && *extension)
        APPEND("%s%s", extension[0] == '.' ? "" : ".", extension);
#undef APPEND
    if (over)
        buf[0] = '\0'; /* never a truncated name */
    return buf;
}

int xai_bids_write_dataset_description(const xai_app *app, const char *out_dir, const char *name)
{
    if (xai_app_mkdirs(app, out_dir) != 0)
        return -1;
    size_t n = strlen(out_dir);
    char *path = malloc(n + 32);
    if (!path) {
        xai_app_fail(app, out_dir, "out of memory");
        return -1;
    }
    snprintf(path, n + 32, "%s%sdataset_description.json", out_dir,
             n && out_dir[n - 1] == '/' ? "" : "/");
    struct stat st;
    if (lstat(path, &st) == 0 && !(app && app->force)) {
        free(path); /* shared by every participant job: keep the first one */
        return 0;
    }
    json_t *gen = json_object();
    json_object_set_new(gen, "Name", json_string(app && app->prog ? app->prog : "xai"));
    json_object_set_new(gen, "Version", json_string(app && app->version ? app->version : ""));
    json_t *root = json_object();
    json_object_set_new(root, "Name", json_string(name ? name : (app && app->prog ? app->prog : "xai")));
    json_object_set_new(root, "BIDSVersion", json_string("1.9.0"));
    json_object_set_new(root, "DatasetType", json_string("derivative"));
    json_t *arr = json_array();
    json_array_append_new(arr, gen);
    json_object_set_new(root, "GeneratedBy", arr);
    char *txt = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    int rc = -1;
    if (!txt) {
        xai_app_fail(app, path, "cannot serialise JSON");
        free(path);
        return -1;
    }
    char *tmp;
    FILE *f = xai_app_atomic_open(app, path, &tmp);
    if (f) {
        int ok = fputs(txt, f) >= 0 && fputc('\n', f) != EOF;
        if (app && app->force) {
            rc = xai_app_atomic_commit(app, f, tmp, path, ok);
        } else {
            /* concurrent participant jobs: publish with link(2), which fails on an existing
             * file, so the first complete description wins and none is ever half-written */
            if (ok && fflush(f) == 0 && fsync(fileno(f)) == 0) {
                if (link(tmp, path) == 0 || errno == EEXIST)
                    rc = 0;
                else if (errno == EPERM || errno == ENOSYS || errno == EOPNOTSUPP) {
                    /* no hard links on this file system: fall back to rename */
                    fclose(f);
                    f = NULL;
                    if (lstat(path, &st) == 0 || rename(tmp, path) == 0)
                        rc = 0;
                }
                if (rc != 0)
                    xai_app_fail(app, path, "cannot write: %s", strerror(errno));
            } else {
                xai_app_fail(app, path, "cannot write: %s", strerror(errno ? errno : EIO));
            }
            if (f)
                fclose(f);
            unlink(tmp);
            xai_formats_untrack_temp(tmp);
            free(tmp);
        }
    }
    free(txt);
    free(path);
    return rc;
}

/* ---- shards ---- */

int xai_app_parse_shard(const char *s, int *k, int *n)
{
    long kn[2];
    /* digits and the slash only: no sign or blank inside */
    if (!s || strspn(s, "0123456789/") != strlen(s) || xai_app_parse_long_list(s, '/', 1, 1000000, kn, 2) != 2 ||
        kn[0] > kn[1])
        return -1;
    *k = (int)kn[0];
    *n = (int)kn[1];
    return 0;
}

int xai_app_in_shard(int64_t i, int k, int n)
{
    if (n <= 1)
        return 1;
    if (i < 0)
        return 0;
    return i % n == (int64_t)(k - 1);
}
