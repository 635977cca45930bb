/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * report-app.c - a study report from an output folder (report-app.h): walk the folder,
 * embed what can be seen (figures, tables, model cards), link everything.
 */
#include "report-app.h"

#include <ctype.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xai/atomic.h"
#include "xai/card.h"
#include "xai/model.h"
#include "xai/report.h"
#include "xai/sidecar.h"

#define REPORT_MAX_TABLES 24
#define REPORT_TABLE_ROWS 100
#define REPORT_MAX_CARDS 8

/* nftw has no user pointer: the walk fills this list (one walk at a time). */
static char **walk_paths;
static size_t walk_n, walk_cap;

static int walk_cb(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    /* hidden files are the programs' own state (resume markers), not outputs */
    if (type != FTW_F || strstr(path, XAI_ATOMIC_MARKER) || path[ftw->base] == '.')
        return 0;
    if (walk_n == walk_cap) {
        size_t cap = walk_cap ? 2 * walk_cap : 64;
        char **v = realloc(walk_paths, cap * sizeof *v);
        if (!v)
            return 1;
        walk_paths = v;
        walk_cap = cap;
    }
    return (walk_paths[walk_n] = strdup(path)) ? (walk_n++, 0) : 1;
}

static int cmp_path(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void walk_free(void)
{
    for (size_t i = 0; i < walk_n; i++)
        free(walk_paths[i]);
    free(walk_paths);
    walk_paths = NULL;
    walk_n = walk_cap = 0;
}

static int has_ext(const char *p, const char *ext)
{
    size_t n = strlen(p), e = strlen(ext);
    return n > e && !strcmp(p + n - e, ext);
}

/* "sub-01" in @p text, not as the start of "sub-012". */
static int names_subject(const char *text, const char *sub)
{
    char key[80];
    snprintf(key, sizeof key, "sub-%s", strncmp(sub, "sub-", 4) ? sub : sub + 4);
    size_t k = strlen(key);
    for (const char *p = strstr(text, key); p; p = strstr(p + 1, key))
        if (!isalnum((unsigned char)p[k]))
            return 1;
    return 0;
}

/* The figure's or table's caption: its path under the folder, and its sidecar's Description. */
static char *caption_for(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    const char *rel = path;
    if (!strncmp(path, dir, n) && path[n] == '/')
        for (rel = path + n; *rel == '/'; rel++)
            ;
    const char *desc = NULL;
    char *sc_path = xai_app_sidecar_path(path);
    xai_sidecar *sc = NULL;
    if (sc_path && xai_sidecar_load(sc_path, &sc) == XAI_OK)
        xai_sidecar_get_string(sc, "Description", &desc);
    char *out = desc ? xai_app_strdup_printf("%s: %s", rel, desc) : strdup(rel);
    xai_sidecar_free(sc);
    free(sc_path);
    xai_error_clear();
    return out;
}

static xai_status add_card_of(xai_report *r, const char *model_path, const char *dir)
{
    xai_model *m = NULL;
    xai_card *c = NULL;
    xai_status st = xai_model_load_onnx(model_path, NULL, &m);
    if (st == XAI_OK)
        st = xai_card_from_model(m, &c);
    if (st == XAI_OK) {
        size_t n = strlen(dir); /* the label as the program names the model in its messages */
        const char *label = !strncmp(model_path, dir, n) && model_path[n] == '/' ? model_path + n + 1 : model_path;
        st = xai_report_add_card(r, label, c);
    } else {
        st = xai_report_add_message(r, XAI_REPORT_WARNING, xai_last_error());
    }
    xai_card_free(c);
    xai_model_free(m);
    return st;
}

/* With stems in the spec: the file @p path is one of theirs (its name starts with a stem,
 * then '_' or '.'), or the message @p text names one (followed by no letter or digit). */
static int stem_matches(const xai_app_report_spec *s, const char *text, int is_message)
{
    if (!s->stems)
        return 1;
    const char *base = strrchr(text, '/');
    base = base && !is_message ? base + 1 : text;
    for (int i = 0; i < s->nstems; i++) {
        size_t k = strlen(s->stems[i]);
        if (!is_message && !strncmp(base, s->stems[i], k) && (base[k] == '_' || base[k] == '.'))
            return 1;
        for (const char *p = is_message ? strstr(text, s->stems[i]) : NULL; p; p = strstr(p + 1, s->stems[i]))
            if (!isalnum((unsigned char)p[k]))
                return 1;
    }
    return 0;
}

/* Embed and link the walked files; a file that cannot be embedded becomes a warning. */
static xai_status add_files(xai_report *r, const xai_app_report_spec *s, const char *self)
{
    int nfig = 0, ntab = 0, ncard = 0, maxfig = s->max_figures > 0 ? s->max_figures : 24;
    xai_status st = XAI_OK;
    if (s->model) {
        st = add_card_of(r, s->model, s->dir);
        ncard = REPORT_MAX_CARDS;
    }
    for (size_t i = 0; i < walk_n && st == XAI_OK; i++) {
        const char *p = walk_paths[i];
        if (!strcmp(p, self) || !stem_matches(s, p, 0))
            continue;
        int fig = has_ext(p, ".png") || has_ext(p, ".svg"), tab = has_ext(p, ".tsv");
        if ((fig && nfig < maxfig) || (tab && ntab < REPORT_MAX_TABLES)) {
            char *cap = caption_for(p, s->dir);
            xai_status e = fig ? xai_report_add_figure(r, p, cap) : xai_report_add_table(r, p, cap, REPORT_TABLE_ROWS);
            free(cap);
            nfig += fig;
            ntab += !fig;
            if (e == XAI_ENOMEM)
                st = e;
            else if (e != XAI_OK)
                st = xai_report_add_message(r, XAI_REPORT_WARNING, xai_last_error());
        } else if (has_ext(p, ".onnx") && ncard < REPORT_MAX_CARDS) {
            st = add_card_of(r, p, s->dir);
            ncard++;
        }
        if (st == XAI_OK)
            st = xai_report_add_output(r, p);
    }
    return st;
}

static xai_status add_messages(xai_report *r, const xai_app_report_spec *s)
{
    const char *const *text;
    const int *err;
    size_t n = xai_app_messages(&text, &err);
    xai_status st = XAI_OK;
    for (size_t i = 0; i < n && st == XAI_OK; i++)
        if ((!s->subject || names_subject(text[i], s->subject)) && stem_matches(s, text[i], 1))
            st = xai_report_add_message(r, err[i] ? XAI_REPORT_ERROR : XAI_REPORT_WARNING, text[i]);
    return st;
}

static xai_status build(xai_report *r, const xai_app *app, const xai_app_report_spec *s, const char *self)
{
    xai_status st = xai_report_set_header(r, app->prog, app->version, app->datetime, app->command_line);
    for (int i = 0; i < s->ninputs && st == XAI_OK; i++)
        st = xai_report_add_input(r, s->inputs[i]);
    if (st == XAI_OK)
        st = add_messages(r, s);
    if (st == XAI_OK && nftw(s->dir, walk_cb, 16, FTW_PHYS) != 0)
        st = xai_error_set(XAI_EIO, "%s: cannot list the output folder", s->dir);
    if (st == XAI_OK) {
        if (walk_n > 1) /* an empty folder leaves walk_paths NULL */
            qsort(walk_paths, walk_n, sizeof *walk_paths, cmp_path);
        st = add_files(r, s, self);
    }
    walk_free();
    return st;
}

int xai_app_report(const xai_app *app, const xai_app_report_spec *s)
{
    char *self = s->report ? strdup(s->report) : xai_app_strdup_printf("%s/report.html", s->dir);
    char *title = s->title ? strdup(s->title) : xai_app_strdup_printf("%s report", app->prog);
    xai_report *r = NULL;
    struct stat sb;
    if (stat(s->dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) { /* nothing was written: nothing to show */
        free(self);
        free(title);
        return 0;
    }
    xai_status st = self && title ? xai_report_new(title, &r) : XAI_ENOMEM;
    if (st == XAI_OK)
        st = build(r, app, s, self);
    if (st == XAI_OK)
        st = xai_report_write(r, self);
    xai_report_free(r);
    int rc = 0;
    if (st != XAI_OK)
        rc = xai_app_fail(app, self ? self : s->dir, "report not written: %s",
                          st == XAI_ENOMEM ? "out of memory" : xai_last_error());
    else
        xai_app_log(app, 1, "%s: report written", self);
    free(self);
    free(title);
    return rc;
}

int xai_app_report_subject(const xai_app *app, const char *out_dir, const char *label, const char *model,
                           const char *const *inputs, int ninputs)
{
    const char *id = strncmp(label, "sub-", 4) ? label : label + 4;
    char *dir = xai_app_strdup_printf("%s/sub-%s", out_dir, id), *title = xai_app_strdup_printf("%s: sub-%s", app->prog, id);
    if (!dir || !title) {
        free(dir);
        free(title);
        return xai_app_fail(app, out_dir, "out of memory");
    }
    xai_app_report_spec s = {.dir = dir, .title = title, .subject = id, .model = model, .inputs = inputs,
                             .ninputs = ninputs};
    int rc = xai_app_report(app, &s);
    free(dir);
    free(title);
    return rc;
}

int xai_app_report_subjects_of(const xai_app *app, const char *out_dir, const char *const *inputs, int ninputs,
                               const char *model)
{
    const char **mine = calloc((size_t)ninputs + 1, sizeof *mine);
    int rc = mine ? 0 : xai_app_fail(app, out_dir, "out of memory");
    for (int i = 0; i < ninputs && mine && rc == 0; i++) {
        xai_bids_name b, c;
        const char *sub = xai_bids_parse(inputs[i], &b) == 0 ? xai_bids_get(&b, "sub") : NULL;
        int seen = 0, n = 0;
        for (int k = 0; sub && k < ninputs; k++) {
            const char *other = xai_bids_parse(inputs[k], &c) == 0 ? xai_bids_get(&c, "sub") : NULL;
            if (other && !strcmp(other, sub)) {
                seen |= k < i; /* reported with its first input */
                mine[n++] = inputs[k];
            }
        }
        if (sub && !seen)
            rc = xai_app_report_subject(app, out_dir, sub, model, mine, n);
    }
    free(mine);
    return rc;
}

/* "dir/name.ext" -> "name" into a new string. */
static char *stem_dup(const char *path)
{
    const char *b = strrchr(path, '/');
    char *s = strdup(b ? b + 1 : path), *dot = s ? strrchr(s, '.') : NULL;
    if (dot && dot != s)
        *dot = 0;
    return s;
}

static int report_one_group(const xai_app *app, const char *out_dir, const char *const *files,
                            const char *const *groups, int n, const char *g, const char *kind, const char *model)
{
    char **stems = calloc((size_t)n + 1, sizeof *stems);
    const char **ins = calloc((size_t)n + 1, sizeof *ins);
    char *path = xai_app_strdup_printf("%s/%s-%s.html", out_dir, kind, g);
    char *title = xai_app_strdup_printf("%s: %s %s", app->prog, kind, g);
    int k = 0, rc;
    for (int i = 0; stems && ins && i < n; i++)
        if (groups[i] && !strcmp(groups[i], g) && (stems[k] = stem_dup(files[i])))
            ins[k++] = files[i];
    if (!stems || !ins || !path || !title)
        rc = xai_app_fail(app, out_dir, "out of memory");
    else {
        xai_app_report_spec s = {.dir = out_dir, .report = path, .title = title, .model = model, .inputs = ins,
                                 .ninputs = k, .stems = (const char *const *)stems, .nstems = k};
        rc = xai_app_report(app, &s);
    }
    for (int i = 0; stems && i < k; i++)
        free(stems[i]);
    free(stems);
    free(ins);
    free(path);
    free(title);
    return rc;
}

int xai_app_report_groups(const xai_app *app, const char *out_dir, const char *const *files,
                          const char *const *groups, int n, const char *kind, const char *model)
{
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        int seen = !groups[i] || strchr(groups[i], '/');
        for (int k = 0; k < i && !seen; k++)
            seen = groups[k] && !strcmp(groups[k], groups[i]);
        if (!seen)
            rc = report_one_group(app, out_dir, files, groups, n, groups[i], kind, model);
    }
    return rc;
}

int xai_app_report_study(const xai_app *app, const char *out_dir, const char *model)
{
    char *title = xai_app_strdup_printf("%s: study report", app->prog);
    const char *in[1] = {model};
    xai_app_report_spec s = {.dir = out_dir, .title = title, .model = model, .inputs = model ? in : NULL,
                             .ninputs = model != NULL, .max_figures = 48};
    int rc = xai_app_report(app, &s);
    free(title);
    return rc;
}
