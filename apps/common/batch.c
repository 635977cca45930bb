/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Batches over many inputs: shards by subject, status files, Slurm job arrays.
 * The array follows the fMRIPrep HPC template (one array task per unit of work, %M
 * throttle, per-task logs); waiting polls squeue and reads the tasks' status files, because
 * clusters often run without accounting (no sacct).
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"

char *xai_batch_subject(const char *path, char *buf, size_t len)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    xai_bids_name b;
    const char *sub = xai_bids_parse(base, &b) == 0 ? xai_bids_get(&b, "sub") : NULL;
    if (sub && *sub) {
        snprintf(buf, len, "%s", sub);
        return buf;
    }
    snprintf(buf, len, "%s", base);
    char *dot = strchr(buf, '.');
    if (dot && dot != buf)
        *dot = '\0';
    return buf;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int xai_batch_assign(const xai_batch_item *items, int64_t nitems, int n, int *shard_of)
{
    if (nitems <= 0)
        return 0;
    const char **labels = malloc(sizeof *labels * (size_t)nitems);
    if (!labels)
        return -1;
    for (int64_t i = 0; i < nitems; i++)
        labels[i] = items[i].subject;
    qsort(labels, (size_t)nitems, sizeof *labels, cmp_str);
    int64_t nd = 0; /* distinct labels, sorted */
    for (int64_t i = 0; i < nitems; i++)
        if (nd == 0 || strcmp(labels[nd - 1], labels[i]) != 0)
            labels[nd++] = labels[i];
    for (int64_t i = 0; i < nitems; i++) {
        const char *key = items[i].subject;
        const char **hit = bsearch(&key, labels, (size_t)nd, sizeof *labels, cmp_str);
        shard_of[i] = n <= 1 ? 1 : (int)((hit - labels) % n) + 1;
    }
    free(labels);
    return 0;
}

/* ---- status files ---- */

static char *status_path(const char *outdir, const xai_batch_item *item)
{
    const char *base = strrchr(item->output, '/');
    base = base ? base + 1 : item->output;
    return xai_app_strdup_printf("%s/.xai-status/%s.status", outdir, base);
}

int xai_batch_digest(const xai_batch_item *item, const char *salt, char hex[65])
{
    char in[65];
    if (xai_sha256_file(item->input, in) != 0)
        return -1;
    char *both = xai_app_strdup_printf("%s\n%s", in, salt ? salt : "");
    if (!both)
        return -1;
    xai_sha256_buffer(both, strlen(both), hex);
    free(both);
    return 0;
}

int xai_batch_status_write(const xai_app *app, const char *outdir, const xai_batch_item *item,
                           const char *digest, int code)
{
    char *dir = xai_app_strdup_printf("%s/.xai-status", outdir);
    char *path = status_path(outdir, item);
    char line[128];
    int len = code == 0 ? snprintf(line, sizeof line, "done %s\n", digest)
                        : snprintf(line, sizeof line, "failed %d %s\n", code, digest);
    int rc = -1;
    if (dir && path && xai_app_mkdirs(app, dir) == 0)
        rc = xai_app_write_atomic(app, path, line, (size_t)len);
    free(dir);
    free(path);
    return rc;
}

/* The next whitespace-separated word of text[*pos..len) into w (at most cap - 1 bytes kept,
   as fscanf's %Ns does); 0 when there is none. */
static int next_word(const char *text, size_t len, size_t *pos, char *w, size_t cap)
{
    size_t i = *pos, k = 0;
    while (i < len && isspace((unsigned char)text[i]))
        i++;
    while (i < len && text[i] && !isspace((unsigned char)text[i]) && k + 1 < cap)
        w[k++] = text[i++];
    w[k] = '\0';
    *pos = i;
    return k > 0;
}

int xai_batch_status_parse(const char *text, size_t len, char digest[65])
{
    char word[16], num[16];
    size_t pos = 0;
    digest[0] = '\0';
    if (!text || !next_word(text, len, &pos, word, sizeof word))
        return -1;
    if (strcmp(word, "done") == 0)
        return next_word(text, len, &pos, digest, 65) ? 0 : -1;
    if (strcmp(word, "failed") != 0 || !next_word(text, len, &pos, num, sizeof num))
        return -1;
    long code;
    if (xai_app_parse_long(num, 1, 255, &code) || !next_word(text, len, &pos, digest, 65))
        return -1;
    return (int)code;
}

/* Reads the status of an item: @return the code (0 done, > 0 failed) or -1 when absent or
   unreadable; digest[65] receives the recorded digest. */
static int read_status(const char *outdir, const xai_batch_item *item, char digest[65])
{
    char *path = status_path(outdir, item);
    FILE *f = path ? fopen(path, "r") : NULL;
    free(path);
    digest[0] = '\0';
    if (!f)
        return -1;
    char text[256]; /* a status line is about 80 bytes */
    size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    return xai_batch_status_parse(text, n, digest);
}

int xai_batch_status_code(const char *outdir, const xai_batch_item *item)
{
    char d[65];
    return read_status(outdir, item, d);
}

int xai_batch_is_current(const char *outdir, const xai_batch_item *item, const char *digest)
{
    char d[65] = "";
    if (read_status(outdir, item, d) != 0 || strcmp(d, digest) != 0)
        return 0;
    return access(item->output, F_OK) == 0;
}

/* --- command lines: a task's argv and the options that decide an output --- */

static const xai_batch_word slurm_words[] = {
    {"--shard", 1}, {"--slurm-args", 1}, {"--max-parallel", 1}, {"--wait-timeout", 1},
    {"--slurm", 0}, {"--dry-run", 0}, {"--wait", 0}};

/* how many words @p w (and its values) take when it matches a table entry: 0 no match */
static int match_word(char *const *argv, int i, const xai_batch_word *tab, int ntab)
{
    for (int k = 0; k < ntab; k++) {
        size_t l = strlen(tab[k].name);
        if (strncmp(argv[i], tab[k].name, l) == 0 && argv[i][l] == '=' && tab[k].values != 0)
            return 1;
        if (strcmp(argv[i], tab[k].name) != 0)
            continue;
        if (tab[k].values >= 0)
            return 1 + tab[k].values;
        int n = 1; /* a list: every word up to the next option */
        while (argv[i + n] && argv[i + n][0] != '-')
            n++;
        return n;
    }
    return 0;
}

char **xai_batch_task_argv(char *const *argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    char **t = calloc((size_t)argc + 1, sizeof *t);
    int n = 0, ntab = (int)(sizeof slurm_words / sizeof *slurm_words);
    for (int i = 0; t && i < argc;) {
        int skip = match_word(argv, i, slurm_words, ntab);
        if (skip == 0)
            t[n++] = argv[i++];
        else
            i += skip;
    }
    return t;
}

char *xai_batch_salt(const char *model_sha, char *const *argv, int first, const xai_batch_word *ignore, int nignore)
{
    size_t cap = strlen(model_sha) + 2, len;
    for (int i = first; argv[i]; i++)
        cap += strlen(argv[i]) + 1;
    char *salt = malloc(cap);
    if (!salt)
        return NULL;
    len = (size_t)snprintf(salt, cap, "%s", model_sha);
    int ntab = (int)(sizeof slurm_words / sizeof *slurm_words);
    for (int i = first; argv[i];) {
        int skip = match_word(argv, i, ignore, nignore);
        if (skip == 0)
            skip = match_word(argv, i, slurm_words, ntab);
        if (skip == 0)
            len += (size_t)snprintf(salt + len, cap - len, "\n%s", argv[i]);
        i += skip ? skip : 1;
    }
    return salt;
}

void xai_batch_list_free(char **paths, int n)
{
    for (int i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
}

/* Append a copy of line[0..len) to the list. */
static int list_push(char ***v, int *n, int *cap, const char *line, size_t len)
{
    if (*n + 1 >= *cap) {
        int nc = *cap ? *cap * 2 : 16;
        char **nv = realloc(*v, sizeof **v * (size_t)nc);
        if (!nv)
            return -1;
        *v = nv;
        *cap = nc;
    }
    char *s = malloc(len + 1);
    if (!s)
        return -1;
    memcpy(s, line, len);
    s[len] = '\0';
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
    return 0;
}

int xai_batch_list_parse(const char *text, size_t len, char ***paths, int *n, int *bad_line)
{
    char **v = NULL;
    int cap = 0, rc = 0, line = 0;
    *paths = NULL;
    *n = 0;
    for (size_t pos = 0; pos < len && rc == 0;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len, l = end - pos;
        line++;
        if (l > 0 && text[pos + l - 1] == '\r')
            l--;
        if (memchr(text + pos, '\0', l))
            rc = -2, *bad_line = line;
        else if (l > 0 && text[pos] != '#' && (*n >= INT_MAX - 2 || list_push(&v, n, &cap, text + pos, l)))
            rc = -1;
        pos = end + 1;
    }
    if (rc) {
        xai_batch_list_free(v, *n);
        *n = 0;
        return rc;
    }
    *paths = v;
    return 0;
}
