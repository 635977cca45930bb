/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-bids-walk.c - libFuzzer target for the BIDS walker (xai/bids-walk.h) and its file
 * name parser: each input line is a relative file path created in a fresh temporary
 * dataset; the walk in each layout must list existing files in strictly increasing order,
 * with alphanumeric entities, a subject matching the sub- folder, and existing sidecars.
 */
#include <ctype.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xai/bids-walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int exists(const char *path)
{
    struct stat st;
    return path == NULL || stat(path, &st) == 0;
}

static int alnum(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s))
            return 0;
    return 1;
}

/* Create root/rel and its folders; lines that are not plain relative paths are skipped. */
static void create(const char *root, char *rel)
{
    if (!*rel || rel[0] == '/' || strstr(rel, "..") || strstr(rel, "//") || strlen(rel) > 200)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0700);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
}

static void check(const char *root, const xai_bids_list *l, int bids)
{
    char path[1024];
    for (size_t i = 0; i < l->n; i++) {
        const xai_bids_file *f = &l->files[i];
        snprintf(path, sizeof path, "%s/%s", root, f->relpath);
        if (strcmp(path, f->path) != 0 || !exists(f->path) || !exists(f->events) ||
            !exists(f->channels) || !exists(f->sidecar) || !f->extension)
            abort();
        if (i > 0 && strcmp(l->files[i - 1].relpath, f->relpath) >= 0)
            abort();
        for (int k = 0; k < f->nentities; k++)
            if (!alnum(f->entities[k].key) || !alnum(f->entities[k].value))
                abort();
        if (bids && (!f->subject || !f->datatype || strncmp(f->relpath, "sub-", 4) != 0 ||
                     strncmp(f->relpath + 4, f->subject, strlen(f->subject)) != 0 ||
                     f->relpath[4 + strlen(f->subject)] != '/'))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096 || memchr(data, '\0', size))
        return 0;
    char root[] = "/tmp/fuzz-bids-walk-XXXXXX";
    char *text = malloc(size + 1);
    if (!text || !mkdtemp(root)) {
        free(text);
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    int lines = 0;
    for (char *line = strtok(text, "\n"); line && lines < 64; line = strtok(NULL, "\n"), lines++)
        create(root, line);
    static const xai_walk_layout layouts[] = {XAI_WALK_AUTO, XAI_WALK_BIDS, XAI_WALK_PLAIN};
    static const char *const ext[] = {".edf", ".nii.gz"}, *const run[] = {"1"};
    for (int i = 0; i < 3; i++) {
        xai_bids_walk_opts o = {.layout = layouts[i]};
        xai_bids_list l;
        if (xai_bids_walk(root, &o, &l) == XAI_OK)
            check(root, &l, layouts[i] == XAI_WALK_BIDS);
        xai_bids_list_free(&l);
        o.extensions = ext;
        o.nextensions = 2;
        o.runs = run;
        o.nruns = 1;
        if (xai_bids_walk(root, &o, &l) == XAI_OK)
            check(root, &l, layouts[i] == XAI_WALK_BIDS);
        xai_bids_list_free(&l);
    }
    nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(text);
    return 0;
}
