/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bids-walk.c - the one walker of BIDS datasets and plain folder trees (see
 * xai/bids-walk.h). File names follow the BIDS specification (entities key-value pairs
 * joined by "_", then the suffix and the extension; sidecars found by the inheritance
 * principle): Gorgolewski et al., "The brain imaging data structure", Sci. Data 3, 160044
 * (2016), and the BIDS specification 1.9, "Common principles".
 */
#include "xai/bids-walk.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_ENTITIES 24
#define MAX_NAME 512
#define MAX_LEVELS 64

/* A parsed file name; the strings point into buf. */
typedef struct {
    char buf[MAX_NAME];
    int n;
    const char *key[MAX_ENTITIES], *val[MAX_ENTITIES];
    const char *suffix;   /* NULL when the last part is an entity (a folder name) */
    const char *ext;      /* "" when the name has no dot */
} bname;

typedef struct {
    dev_t dev;
    ino_t ino;
} dir_id;

typedef struct {
    const char *root;
    const xai_bids_walk_opts *o;
    xai_bids_list *out;
    size_t cap;
    int plain;
    int max_depth;
    dir_id stack[MAX_LEVELS]; /* the folders being walked: a link back to one is a loop */
    int depth;
} walker;

static int alnum_run(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]))
            return 0;
    return 1;
}

/* 0 when @p name reads as [key-value_]...[suffix][.ext], else -1. */
static int bname_parse(const char *name, bname *b)
{
    size_t len = strlen(name);
    b->n = 0;
    b->suffix = NULL;
    if (len == 0 || len >= sizeof b->buf || name[0] == '.')
        return -1;
    memcpy(b->buf, name, len + 1);
    char *dot = strchr(b->buf, '.');
    /* the extension is kept after the stem's terminator: move it one byte right */
    if (dot) {
        if (len + 2 > sizeof b->buf)
            return -1;
        /* ".nii.gz": alphanumeric components (a backup "x.edf~" is not a BIDS name) */
        for (const char *c = dot; *c; c += 1 + strcspn(c + 1, "."))
            if (!alnum_run(c + 1, strcspn(c + 1, ".")))
                return -1;
        memmove(dot + 1, dot, strlen(dot) + 1);
        *dot = '\0';
        b->ext = dot + 1;
    } else {
        b->ext = b->buf + len;
    }
    char *part = b->buf;
    while (part) {
        char *us = strchr(part, '_');
        if (us)
            *us = '\0';
        char *dash = strchr(part, '-');
        if (!dash) {
            if (us || !alnum_run(part, strlen(part)))
                return -1; /* only the last part may be the suffix */
            b->suffix = part;
        } else {
            *dash = '\0';
            if (b->n == MAX_ENTITIES || !alnum_run(part, strlen(part)) ||
                !alnum_run(dash + 1, strlen(dash + 1)))
                return -1;
            b->key[b->n] = part;
            b->val[b->n++] = dash + 1;
        }
        part = us ? us + 1 : NULL;
    }
    return 0;
}

static const char *bname_get(const bname *b, const char *key)
{
    for (int i = 0; i < b->n; i++)
        if (strcmp(b->key[i], key) == 0)
            return b->val[i];
    return NULL;
}

/* @p sub's entities all appear in @p full with the same values. */
static int bname_subset(const bname *sub, const bname *full)
{
    for (int i = 0; i < sub->n; i++) {
        const char *v = bname_get(full, sub->key[i]);
        if (!v || strcmp(v, sub->val[i]) != 0)
            return 0;
    }
    return 1;
}

static int ends_with_ci(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcasecmp(s + n - m, suf) == 0;
}

/* "sub-01" -> "01" when the filter value carries the entity key. */
static const char *strip_key(const char *v, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(v, prefix, n) == 0 ? v + n : v;
}

static int all_digits(const char *s)
{
    return alnum_run(s, strlen(s)) && strspn(s, "0123456789") == strlen(s);
}

/* Run indices compare as numbers ("1" == "01"), other labels as text. */
static int label_eq(const char *a, const char *b, int numeric)
{
    if (numeric && all_digits(a) && all_digits(b)) {
        while (*a == '0' && a[1])
            a++;
        while (*b == '0' && b[1])
            b++;
    }
    return strcmp(a, b) == 0;
}

/* 1 when there is no filter or @p value matches one of its entries. */
static int pass(const char *const *list, int n, const char *value, const char *prefix)
{
    if (!list || n <= 0)
        return 1;
    if (!value)
        return 0;
    for (int i = 0; i < n; i++)
        if (list[i] && label_eq(strip_key(list[i], prefix), value, !strcmp(prefix, "run-")))
            return 1;
    return 0;
}

static char *join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    int slash = na > 0 && a[na - 1] != '/';
    char *s = malloc(na + nb + 2);
    if (!s)
        return NULL;
    memcpy(s, a, na);
    if (slash)
        s[na++] = '/';
    memcpy(s + na, b, nb + 1);
    return s;
}

/* The file of @p suffix + @p ext in folder root/@p dir that applies to @p data (entities a
 * subset, the most of them; ties by name). *found = malloc'ed path or unchanged.
 * @return XAI_OK or XAI_ENOMEM; an unreadable folder holds no sidecar. */
static xai_status best_in_dir(const walker *w, const char *dir, const bname *data,
                              const char *suffix, const char *ext, char **found)
{
    char *full = join(w->root, dir);
    if (!full)
        return XAI_ENOMEM;
    DIR *d = opendir(full);
    char best[MAX_NAME] = "";
    int best_n = -1;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        bname c;
        if (bname_parse(e->d_name, &c) != 0 || !c.suffix || strcmp(c.suffix, suffix) != 0 ||
            strcmp(c.ext, ext) != 0 || !bname_subset(&c, data))
            continue;
        if (c.n > best_n || (c.n == best_n && strcmp(e->d_name, best) < 0)) {
            best_n = c.n;
            snprintf(best, sizeof best, "%s", e->d_name);
        }
    }
    if (d)
        closedir(d);
    xai_status st = XAI_OK;
    if (best_n >= 0 && !(*found = join(full, best)))
        st = XAI_ENOMEM;
    free(full);
    return st;
}

/* Nearest applicable sidecar from the folder of @p rel up to the root (inheritance). */
static xai_status inherit(const walker *w, const char *rel, const bname *data, const char *suffix,
                          const char *ext, char **found)
{
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", rel) >= (int)sizeof dir)
        return XAI_OK;
    *found = NULL;
    for (;;) {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            dir[0] = '\0';
        xai_status st = best_in_dir(w, dir, data, suffix, ext, found);
        if (st != XAI_OK || *found || dir[0] == '\0')
            return st;
    }
}

/* The sidecars of a data file; a sidecar listed itself (an unfiltered walk) has none of
 * its own kind. */
static xai_status fill_sidecars(const walker *w, xai_bids_file *f, const bname *b)
{
    static const char *const sfx[3] = {"events", "channels", NULL}, *const ext[3] = {".tsv", ".tsv", ".json"};
    char **dst[3] = {&f->events, &f->channels, &f->sidecar};
    xai_status st = XAI_OK;
    for (int i = 0; i < 3 && st == XAI_OK; i++) {
        const char *s = sfx[i] ? sfx[i] : b->suffix;
        if (strcmp(s, b->suffix) != 0 || strcmp(ext[i], b->ext) != 0)
            st = inherit(w, f->relpath, b, s, ext[i], dst[i]);
    }
    return st;
}

/* The label of the nearest folder of @p rel named PREFIX<label> (e.g. "sub-"), or NULL. */
static char *folder_label(const char *rel, const char *prefix)
{
    size_t n = strlen(prefix);
    const char *hit = NULL;
    for (const char *p = rel; (p = strstr(p, prefix)) != NULL; p++)
        if ((p == rel || p[-1] == '/') && strchr(p, '/'))
            hit = p + n;
    if (!hit)
        return NULL;
    size_t len = strcspn(hit, "/");
    return len ? strndup(hit, len) : NULL;
}

/* Subject: callback, else sub entity, else sub-<label> folder, else first plain folder. */
static xai_status resolve_subject(const walker *w, xai_bids_file *f, const bname *b)
{
    if (w->o->subject_fn) {
        xai_status st = w->o->subject_fn(w->o->subject_ud, f->path, &f->subject);
        if (st != XAI_OK)
            return xai_error_prefix(st, f->path);
        if (f->subject)
            return XAI_OK;
    }
    const char *s = b ? bname_get(b, "sub") : NULL;
    if (s)
        return (f->subject = strdup(s)) ? XAI_OK : XAI_ENOMEM;
    if (!(f->subject = folder_label(f->relpath, "sub-")) && w->plain && strchr(f->relpath, '/'))
        f->subject = strndup(f->relpath, strcspn(f->relpath, "/"));
    return XAI_OK;
}

static void file_free(xai_bids_file *f)
{
    for (int i = 0; i < f->nentities; i++) {
        free(f->entities[i].key);
        free(f->entities[i].value);
    }
    free(f->entities);
    char *s[] = {f->path, f->relpath, f->suffix, f->extension, f->datatype, f->subject,
                 f->session, f->task, f->acq, f->run, f->events, f->channels, f->sidecar};
    for (size_t i = 0; i < sizeof s / sizeof *s; i++)
        free(s[i]);
    memset(f, 0, sizeof *f);
}

/* The name-derived fields of @p f (b == NULL: not a BIDS name). 0 or -1 (no memory). */
static int fill_names(xai_bids_file *f, const bname *b, const char *datatype)
{
    int bad = 0;
    if (datatype)
        bad |= !(f->datatype = strdup(datatype));
    if (b) {
        f->entities = calloc((size_t)(b->n ? b->n : 1), sizeof *f->entities);
        bad |= !f->entities;
        for (int i = 0; f->entities && i < b->n; i++, f->nentities++) {
            f->entities[i].key = strdup(b->key[i]);
            f->entities[i].value = strdup(b->val[i]);
            bad |= !f->entities[i].key || !f->entities[i].value;
        }
        if (b->suffix)
            bad |= !(f->suffix = strdup(b->suffix));
        const char *v[4] = {bname_get(b, "ses"), bname_get(b, "task"), bname_get(b, "acq"),
                            bname_get(b, "run")};
        char **dst[4] = {&f->session, &f->task, &f->acq, &f->run};
        for (int i = 0; i < 4; i++)
            if (v[i])
                bad |= !(*dst[i] = strdup(v[i]));
    }
    const char *base = strrchr(f->relpath, '/');
    const char *dot = strchr(base ? base + 1 : f->relpath, '.');
    bad |= !(f->extension = strdup(dot ? dot : ""));
    if (!f->session && !bad)
        f->session = folder_label(f->relpath, "ses-");
    return bad ? -1 : 0;
}

static xai_status push(walker *w, xai_bids_file *f)
{
    xai_bids_list *l = w->out;
    if (l->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        xai_bids_file *nf = realloc(l->files, cap * sizeof *nf);
        if (!nf)
            return XAI_ENOMEM;
        l->files = nf;
        w->cap = cap;
    }
    l->files[l->n++] = *f;
    return XAI_OK;
}

/* Filters that the name alone decides (everything but the participant of a plain file). */
static int name_passes(const walker *w, const char *name, const bname *b, const char *ses)
{
    const xai_bids_walk_opts *o = w->o;
    if (o->nextensions > 0) {
        int ok = 0;
        for (int i = 0; i < o->nextensions && !ok; i++)
            ok = o->extensions[i] && ends_with_ci(name, o->extensions[i]);
        if (!ok)
            return 0;
    }
    if (o->nsuffixes > 0 && !(b && b->suffix && pass(o->suffixes, o->nsuffixes, b->suffix, "")))
        return 0;
    return pass(o->sessions, o->nsessions, ses, "ses-") &&
           pass(o->tasks, o->ntasks, b ? bname_get(b, "task") : NULL, "task-") &&
           pass(o->runs, o->nruns, b ? bname_get(b, "run") : NULL, "run-");
}

/* Consider the file root/@p rel (named @p name) of datatype folder @p datatype (NULL in
 * plain folders); in BIDS folders @p sub / @p ses are the labels of the enclosing folders. */
static xai_status consider(walker *w, const char *rel, const char *name, const char *datatype,
                           const char *sub, const char *ses)
{
    bname b;
    /* in plain folders a name is BIDS only with an entity ("rec1.wav" is not) */
    int is_bids = bname_parse(name, &b) == 0 && b.suffix && (!w->plain || b.n > 0);
    if (!w->plain) {
        const char *fs = bname_get(&b, "sub"), *fss = bname_get(&b, "ses");
        /* a BIDS data file names its own folders: anything else is not a recording */
        if (!is_bids || !fs || strcmp(fs, sub) != 0 || (ses ? !fss || strcmp(fss, ses) : fss != NULL))
            return XAI_OK;
    }
    char *fses = is_bids && bname_get(&b, "ses") ? NULL : folder_label(rel, "ses-");
    int ok = name_passes(w, name, is_bids ? &b : NULL, fses ? fses : is_bids ? bname_get(&b, "ses") : NULL);
    free(fses);
    if (!ok)
        return XAI_OK;
    xai_bids_file f = {0};
    xai_status st = XAI_ENOMEM;
    if (!(f.relpath = strdup(rel)) || !(f.path = join(w->root, rel)) ||
        fill_names(&f, is_bids ? &b : NULL, datatype) != 0)
        goto fail;
    if ((st = resolve_subject(w, &f, is_bids ? &b : NULL)) != XAI_OK)
        goto fail;
    const char *label = w->plain ? f.subject : sub;
    if (!pass(w->o->participants, w->o->nparticipants, label, "sub-")) {
        file_free(&f);
        return XAI_OK;
    }
    if (is_bids && (st = fill_sidecars(w, &f, &b)) != XAI_OK)
        goto fail;
    if ((st = push(w, &f)) == XAI_OK)
        return XAI_OK;
fail:
    file_free(&f);
    return st == XAI_ENOMEM ? xai_error_set(XAI_ENOMEM, "%s/%s: out of memory", w->root, rel) : st;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* The visible entries of root/@p rel, sorted (walk order does not depend on readdir). */
static xai_status list_dir(const walker *w, const char *rel, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    char *full = join(w->root, rel);
    if (!full)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", w->root);
    DIR *d = opendir(full);
    if (!d) {
        xai_status st = xai_error_set(XAI_EIO, "%s: cannot open folder: %s", full, strerror(errno));
        free(full);
        return st;
    }
    size_t cap = 0;
    struct dirent *e;
    xai_status st = XAI_OK;
    while (st == XAI_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            char **nv = realloc(*names, (cap = cap ? 2 * cap : 16) * sizeof *nv);
            if (!nv) {
                st = XAI_ENOMEM;
                break;
            }
            *names = nv;
        }
        if (!((*names)[*n] = strdup(e->d_name)))
            st = XAI_ENOMEM;
        else
            (*n)++;
    }
    closedir(d);
    if (st != XAI_OK) {
        free_names(*names, *n);
        *names = NULL;
        *n = 0;
        st = xai_error_set(st, "%s: out of memory", full);
    } else if (*n > 1) {
        qsort(*names, *n, sizeof **names, cmp_str);
    }
    free(full);
    return st;
}

enum { ENT_SKIP, ENT_FILE, ENT_DIR };

/* What root/@p rel is once links are followed; a folder already on the walk stack (a link
 * loop) or past the depth limit is skipped, a dangling link counted. */
static int classify(walker *w, const char *rel, struct stat *st)
{
    char *full = join(w->root, rel);
    if (!full)
        return -1;
    int kind = ENT_SKIP;
    struct stat lst;
    if (stat(full, st) != 0) {
        if (lstat(full, &lst) == 0 && S_ISLNK(lst.st_mode))
            w->out->nbroken++;
    } else if (S_ISREG(st->st_mode)) {
        kind = ENT_FILE;
    } else if (S_ISDIR(st->st_mode) && w->depth < MAX_LEVELS) {
        kind = ENT_DIR;
        for (int i = 0; i < w->depth; i++)
            if (w->stack[i].dev == st->st_dev && w->stack[i].ino == st->st_ino)
                kind = ENT_SKIP;
    }
    free(full);
    return kind;
}

typedef struct {
    const char *datatype, *sub, *ses; /* BIDS context of the folder */
} ctx;

typedef xai_status (*visit_fn)(walker *w, const char *rel, const char *name, int kind,
                               const struct stat *st, const ctx *c);

/* Call @p visit for each visible entry of root/@p rel (the folder is on the stack meanwhile). */
static xai_status walk_dir(walker *w, const char *rel, const struct stat *self, const ctx *c,
                           visit_fn visit)
{
    char **names;
    size_t n;
    xai_status st = list_dir(w, rel, &names, &n);
    if (st != XAI_OK)
        return st;
    w->stack[w->depth].dev = self->st_dev;
    w->stack[w->depth++].ino = self->st_ino;
    for (size_t i = 0; i < n && st == XAI_OK; i++) {
        char *r = join(rel, names[i]);
        struct stat est;
        int kind = r ? classify(w, r, &est) : -1;
        if (kind < 0)
            st = xai_error_set(XAI_ENOMEM, "%s: out of memory", w->root);
        else if (kind != ENT_SKIP)
            st = visit(w, r, names[i], kind, &est, c);
        free(r);
    }
    w->depth--;
    free_names(names, n);
    return st;
}

static xai_status visit_plain(walker *w, const char *rel, const char *name, int kind,
                              const struct stat *st, const ctx *c)
{
    if (kind == ENT_FILE)
        return consider(w, rel, name, NULL, NULL, NULL);
    return w->depth <= w->max_depth ? walk_dir(w, rel, st, c, visit_plain) : XAI_OK;
}

static xai_status visit_datatype(walker *w, const char *rel, const char *name, int kind,
                                 const struct stat *st, const ctx *c)
{
    (void)st;
    return kind == ENT_FILE ? consider(w, rel, name, c->datatype, c->sub, c->ses) : XAI_OK;
}

/* Inside sub-<label>/ or sub-<label>/ses-<label>/: session and datatype folders. */
static xai_status visit_subject(walker *w, const char *rel, const char *name, int kind,
                                const struct stat *st, const ctx *c)
{
    if (kind != ENT_DIR)
        return XAI_OK; /* sessions.tsv, scans.tsv: not recordings */
    if (!c->ses && strncmp(name, "ses-", 4) == 0) {
        if (!alnum_run(name + 4, strlen(name + 4)) ||
            !pass(w->o->sessions, w->o->nsessions, name + 4, "ses-"))
            return XAI_OK;
        ctx in = {NULL, c->sub, name + 4};
        return walk_dir(w, rel, st, &in, visit_subject);
    }
    if (w->o->datatype && strcmp(name, w->o->datatype) != 0)
        return XAI_OK;
    ctx in = {name, c->sub, c->ses};
    return walk_dir(w, rel, st, &in, visit_datatype);
}

/* The dataset root: only sub-<label>/ folders hold raw data. */
static xai_status visit_root(walker *w, const char *rel, const char *name, int kind,
                             const struct stat *st, const ctx *c)
{
    (void)c;
    const char *label = name + 4;
    if (kind != ENT_DIR || strncmp(name, "sub-", 4) != 0 || !alnum_run(label, strlen(label)) ||
        !pass(w->o->participants, w->o->nparticipants, label, "sub-"))
        return XAI_OK;
    ctx in = {NULL, label, NULL};
    return walk_dir(w, rel, st, &in, visit_subject);
}

/* BIDS when the root has dataset_description.json (the file BIDS requires): a plain tree
 * of sub-* folders without datatype folders (motion capture exports) stays plain. */
static int looks_bids(const walker *w)
{
    char **names;
    size_t n;
    if (list_dir(w, "", &names, &n) != XAI_OK) {
        xai_error_clear();
        return 0;
    }
    int bids = 0;
    for (size_t i = 0; i < n && !bids; i++) {
        struct stat st;
        char *full = join(w->root, names[i]);
        if (full && stat(full, &st) == 0)
            bids = S_ISREG(st.st_mode) && strcmp(names[i], "dataset_description.json") == 0;
        free(full);
    }
    free_names(names, n);
    return bids;
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const xai_bids_file *)a)->relpath, ((const xai_bids_file *)b)->relpath);
}

/* A single file given as the root: listed as is, sidecars searched next to it. */
static xai_status walk_single(walker *w, const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path + 1)) : strdup(".");
    if (!dir)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    static const xai_bids_walk_opts none;
    const xai_bids_walk_opts *keep = w->o;
    xai_bids_walk_opts o = none;
    o.subject_fn = keep->subject_fn;
    o.subject_ud = keep->subject_ud;
    w->o = &o;
    w->root = dir;
    const char *name = slash ? slash + 1 : path;
    xai_status st = consider(w, name, name, NULL, NULL, NULL);
    if (st == XAI_OK && w->out->n == 1 && !slash) {
        free(w->out->files[0].path); /* "name", not "./name": the path as the caller gave it */
        if (!(w->out->files[0].path = strdup(path)))
            st = xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    }
    w->o = keep;
    free(dir);
    return st;
}

xai_status xai_bids_walk(const char *root, const xai_bids_walk_opts *opts, xai_bids_list *out)
{
    static const xai_bids_walk_opts defaults;
    if (out)
        memset(out, 0, sizeof *out);
    if (!root || !out)
        return xai_error_set(XAI_EINVAL, "bids walk: NULL %s", root ? "output" : "root");
    walker w = {.root = root, .o = opts ? opts : &defaults, .out = out};
    w.max_depth = w.o->max_depth > 0 && w.o->max_depth < MAX_LEVELS - 1 ? w.o->max_depth : 32;
    struct stat st;
    if (stat(root, &st) != 0)
        return xai_error_set(XAI_EIO, "%s: %s", root, strerror(errno));
    xai_walk_layout layout = w.o->layout;
    if (!S_ISDIR(st.st_mode)) {
        if (layout == XAI_WALK_BIDS || !S_ISREG(st.st_mode))
            return xai_error_set(XAI_EINVAL, "%s: not a folder", root);
        w.plain = 1;
        xai_status s = walk_single(&w, root);
        if (s != XAI_OK)
            xai_bids_list_free(out);
        return s;
    }
    if (layout == XAI_WALK_AUTO)
        layout = looks_bids(&w) ? XAI_WALK_BIDS : XAI_WALK_PLAIN;
    w.plain = layout == XAI_WALK_PLAIN;
    static const ctx top;
    xai_status s = walk_dir(&w, "", &st, &top, w.plain ? visit_plain : visit_root);
    if (s != XAI_OK) {
        size_t broken = out->nbroken;
        xai_bids_list_free(out);
        out->nbroken = broken;
        return s;
    }
    if (out->n > 1)
        qsort(out->files, out->n, sizeof *out->files, cmp_file);
    return XAI_OK;
}

void xai_bids_list_free(xai_bids_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        file_free(&l->files[i]);
    free(l->files);
    memset(l, 0, sizeof *l);
}

const char *xai_bids_file_entity(const xai_bids_file *f, const char *key)
{
    for (int i = 0; f && key && i < f->nentities; i++)
        if (strcmp(f->entities[i].key, key) == 0)
            return f->entities[i].value;
    return NULL;
}

xai_status xai_bids_participants(const char *root, char ***labels, size_t *n)
{
    if (labels)
        *labels = NULL;
    if (n)
        *n = 0;
    if (!root || !labels || !n)
        return xai_error_set(XAI_EINVAL, "bids participants: NULL argument");
    walker w = {.root = root};
    char **names;
    size_t k;
    xai_status st = list_dir(&w, "", &names, &k);
    if (st != XAI_OK)
        return st;
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        struct stat s;
        char *full = join(root, names[i]);
        const char *label = names[i] + 4;
        int keep = full && strncmp(names[i], "sub-", 4) == 0 && alnum_run(label, strlen(label)) &&
                   stat(full, &s) == 0 && S_ISDIR(s.st_mode);
        free(full);
        if (keep)
            memmove(names[i], label, strlen(label) + 1); /* sorted order is kept */
        else
            free(names[i]);
        names[m] = keep ? names[i] : names[m];
        m += (size_t)keep;
    }
    *labels = names;
    *n = m;
    return XAI_OK;
}
