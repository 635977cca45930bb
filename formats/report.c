/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * report.c - the self-contained HTML study report (report.h). Each part is rendered to HTML
 * when it is added, so the report only keeps strings; xai_report_write() puts them in page
 * order and hands the page to the atomic writer.
 */
#include "xai/report.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xai/atomic.h"
#include "xai/tsv.h"

#include "report-page.h"

/* ------------------------------------------------------------ growing strings */

typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_reserve(sbuf *b, size_t extra)
{
    if (b->oom || b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->oom = 1;
        return;
    }
    b->s = s;
    b->cap = cap;
}

static void sb_addn(sbuf *b, const char *s, size_t n)
{
    sb_reserve(b, n);
    if (b->oom)
        return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

static void sb_add(sbuf *b, const char *s) { sb_addn(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    sb_reserve(b, (size_t)n);
    if (b->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Text from files and callers: the five characters that can open markup or end an attribute. */
static void sb_esc(sbuf *b, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '&': sb_add(b, "&amp;"); break;
        case '<': sb_add(b, "&lt;"); break;
        case '>': sb_add(b, "&gt;"); break;
        case '"': sb_add(b, "&quot;"); break;
        case '\'': sb_add(b, "&#39;"); break;
        default: sb_addn(b, p, 1);
        }
    }
}

/* A relative URL: bytes outside the unreserved set and '/' are percent-encoded, so names with
 * '#', '?', '%', spaces or quotes still point at the file. */
static void sb_url(sbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p)) {
            sb_addn(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            sb_addn(b, e, 3);
        }
    }
}

/* RFC 4648 base64, for data URIs. */
static void sb_base64(sbuf *b, const unsigned char *d, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    sb_reserve(b, (n + 2) / 3 * 4);
    for (size_t i = 0; i < n && !b->oom; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
        char q[4] = {tab[v >> 18 & 63], tab[v >> 12 & 63], i + 1 < n ? tab[v >> 6 & 63] : '=',
                     i + 2 < n ? tab[v & 63] : '='};
        sb_addn(b, q, 4);
    }
}

/* ------------------------------------------------------------------ the report */

typedef struct {
    char **v;
    size_t n, cap;
} strlist;

static xai_status list_push(strlist *l, char *s)
{
    if (!s)
        return xai_error_set(XAI_ENOMEM, "report: out of memory");
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            free(s);
            return xai_error_set(XAI_ENOMEM, "report: out of memory");
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return XAI_OK;
}

static void list_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

/* Hand a finished buffer to a list (NULL when it ran out of memory). */
static xai_status push_buf(strlist *l, sbuf *b)
{
    if (b->oom) {
        free(b->s);
        b->s = NULL;
    }
    return list_push(l, b->s);
}

struct xai_report {
    char *title, *program, *version, *date, *command;
    strlist inputs, cards, figures, tables, warnings, errors, outputs;
};

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

xai_status xai_report_new(const char *title, xai_report **out)
{
    if (!out)
        return xai_error_set(XAI_EINVAL, "report: NULL output");
    *out = calloc(1, sizeof **out);
    if (!*out || !((*out)->title = strdup(title ? title : "libxai report"))) {
        free(*out);
        *out = NULL;
        return xai_error_set(XAI_ENOMEM, "report: out of memory");
    }
    return XAI_OK;
}

void xai_report_free(xai_report *r)
{
    if (!r)
        return;
    free(r->title);
    free(r->program);
    free(r->version);
    free(r->date);
    free(r->command);
    strlist *ls[] = {&r->inputs, &r->cards, &r->figures, &r->tables, &r->warnings, &r->errors, &r->outputs};
    for (size_t i = 0; i < sizeof ls / sizeof *ls; i++)
        list_free(ls[i]);
    free(r);
}

xai_status xai_report_set_header(xai_report *r, const char *program, const char *version, const char *date,
                                 const char *command_line)
{
    if (!r)
        return xai_error_set(XAI_EINVAL, "report: NULL report");
    char *f[4] = {dup_or_null(program), dup_or_null(version), dup_or_null(date), dup_or_null(command_line)};
    const char *in[4] = {program, version, date, command_line};
    for (int i = 0; i < 4; i++)
        if (in[i] && !f[i]) {
            for (int k = 0; k < 4; k++)
                free(f[k]);
            return xai_error_set(XAI_ENOMEM, "report: out of memory");
        }
    free(r->program);
    free(r->version);
    free(r->date);
    free(r->command);
    r->program = f[0];
    r->version = f[1];
    r->date = f[2];
    r->command = f[3];
    return XAI_OK;
}

xai_status xai_report_add_input(xai_report *r, const char *input)
{
    if (!r || !input)
        return xai_error_set(XAI_EINVAL, "report: NULL argument");
    return list_push(&r->inputs, strdup(input));
}

/* Add a message unless the list holds it already (a program may print a card warning that
 * the card section derives again). Takes @p text. */
static xai_status push_message(strlist *l, char *text)
{
    for (size_t i = 0; text && i < l->n; i++)
        if (!strcmp(l->v[i], text)) {
            free(text);
            return XAI_OK;
        }
    return list_push(l, text);
}

xai_status xai_report_add_message(xai_report *r, xai_report_level level, const char *text)
{
    if (!r || !text)
        return xai_error_set(XAI_EINVAL, "report: NULL argument");
    return push_message(level == XAI_REPORT_ERROR ? &r->errors : &r->warnings, strdup(text));
}

void xai_report_counts(const xai_report *r, size_t *figures, size_t *tables, size_t *messages, size_t *outputs)
{
    if (figures)
        *figures = r ? r->figures.n : 0;
    if (tables)
        *tables = r ? r->tables.n : 0;
    if (messages)
        *messages = r ? r->warnings.n + r->errors.n : 0;
    if (outputs)
        *outputs = r ? r->outputs.n : 0;
}

char *xai_report_escape(const char *s)
{
    sbuf b = {0};
    sb_add(&b, "");
    sb_esc(&b, s);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* ------------------------------------------------------------------ figures */

static xai_status read_all(const char *path, unsigned char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return xai_error_set(XAI_EIO, "%s: cannot open", path);
    size_t cap = 1 << 16, n = 0;
    unsigned char *d = malloc(cap);
    while (d) {
        n += fread(d + n, 1, cap - n, f);
        if (n < cap || cap > XAI_REPORT_MAX_FIGURE)
            break;
        unsigned char *g = realloc(d, cap * 2);
        if (!g) {
            free(d);
            d = NULL;
            break;
        }
        d = g;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!d)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    if (err) {
        free(d);
        return xai_error_set(XAI_EIO, "%s: read error", path);
    }
    if (n > XAI_REPORT_MAX_FIGURE) {
        free(d);
        return xai_error_set(XAI_EFORMAT, "%s: larger than %zu bytes; not embedded", path,
                             (size_t)XAI_REPORT_MAX_FIGURE);
    }
    *data = d;
    *len = n;
    return XAI_OK;
}

/* The figure's type from its bytes: PNG signature, or an <svg element near the start. */
static const char *figure_mime(const unsigned char *d, size_t n)
{
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 8 && !memcmp(d, png, 8))
        return "image/png";
    size_t look = n < 4096 ? n : 4096;
    for (size_t i = 0; i + 4 <= look; i++)
        if (!memcmp(d + i, "<svg", 4))
            return "image/svg+xml";
    return NULL;
}

xai_status xai_report_add_figure(xai_report *r, const char *path, const char *caption)
{
    if (!r || !path)
        return xai_error_set(XAI_EINVAL, "report: NULL argument");
    unsigned char *d = NULL;
    size_t n = 0;
    xai_status st = read_all(path, &d, &n);
    if (st != XAI_OK)
        return st;
    const char *mime = figure_mime(d, n);
    if (!mime) {
        free(d);
        return xai_error_set(XAI_EFORMAT, "%s: neither PNG nor SVG", path);
    }
    sbuf b = {0};
    sb_add(&b, "<figure class=\"fig\"><img alt=\"");
    sb_esc(&b, caption ? caption : path);
    sb_printf(&b, "\" src=\"data:%s;base64,", mime);
    sb_base64(&b, d, n);
    free(d);
    sb_add(&b, "\"><figcaption>");
    sb_esc(&b, caption ? caption : path);
    sb_add(&b, "</figcaption></figure>\n");
    return push_buf(&r->figures, &b);
}

/* ------------------------------------------------------------------ tables */

static void table_body(sbuf *b, const xai_tsv *t, size_t rows)
{
    size_t nc = xai_tsv_ncols(t);
    sb_add(b, "<table class=\"sortable\"><thead><tr>");
    for (size_t c = 0; c < nc; c++) {
        sb_add(b, "<th>");
        sb_esc(b, xai_tsv_column_name(t, c));
        sb_add(b, "</th>");
    }
    sb_add(b, "</tr></thead><tbody>\n");
    for (size_t i = 0; i < rows; i++) {
        sb_add(b, "<tr>");
        for (size_t c = 0; c < nc; c++) {
            const char *s = xai_tsv_get_string(t, i, c);
            sb_add(b, "<td>");
            sb_esc(b, s ? s : "n/a");
            sb_add(b, "</td>");
        }
        sb_add(b, "</tr>\n");
    }
    sb_add(b, "</tbody></table>");
}

xai_status xai_report_add_table(xai_report *r, const char *path, const char *caption, size_t max_rows)
{
    if (!r || !path)
        return xai_error_set(XAI_EINVAL, "report: NULL argument");
    xai_tsv *t;
    size_t n;
    /* the rows past max_rows are counted, not parsed: a study's long tables run to 10^5 rows */
    xai_status st = xai_tsv_load_head(path, 0, max_rows, &t, &n);
    if (st != XAI_OK)
        return st;
    size_t shown = xai_tsv_nrows(t);
    sbuf b = {0};
    sb_add(&b, "<div class=\"tbl\"><p class=\"caption\">");
    sb_esc(&b, caption ? caption : path);
    if (shown < n)
        sb_printf(&b, " (first %zu of %zu rows)", shown, n);
    else
        sb_printf(&b, " (%zu row%s)", n, n == 1 ? "" : "s");
    sb_add(&b, "</p>");
    table_body(&b, t, shown);
    sb_add(&b, "</div>\n");
    xai_tsv_free(t);
    return push_buf(&r->tables, &b);
}

/* ------------------------------------------------------------------ outputs */

/* @p target relative to directory @p dir (both absolute, canonical). */
static char *relative_to(const char *dir, const char *target)
{
    size_t common = 0, i = 0;
    while (dir[i] && dir[i] == target[i]) {
        i++;
        if (dir[i] == 0 && (target[i] == '/' || target[i] == 0))
            common = i;
        else if (dir[i] == '/' && target[i] == '/')
            common = i;
    }
    if (!strcmp(dir, "/"))
        return strdup(target + 1);
    size_t ups = 0;
    for (const char *p = dir + common; *p; p++)
        if (*p == '/')
            ups++;
    const char *rest = target + common;
    while (*rest == '/')
        rest++;
    char *out = malloc(ups * 3 + strlen(rest) + 2);
    if (!out)
        return NULL;
    out[0] = 0;
    for (size_t k = 0; k < ups; k++)
        strcat(out, "../");
    strcat(out, rest);
    return out;
}

/* The directory of @p path, canonical; NULL when it does not resolve. */
static char *canonical_dir(const char *path)
{
    char *copy = strdup(path), *dir = NULL;
    if (!copy)
        return NULL;
    char *slash = strrchr(copy, '/');
    if (slash == copy)
        dir = realpath("/", NULL);
    else if (slash) {
        *slash = 0;
        dir = realpath(copy, NULL);
    } else
        dir = realpath(".", NULL);
    free(copy);
    return dir;
}

xai_status xai_report_add_output(xai_report *r, const char *path)
{
    if (!r || !path)
        return xai_error_set(XAI_EINVAL, "report: NULL argument");
    return list_push(&r->outputs, strdup(path));
}

/* The links, resolved against the report's own directory at write time. */
static void render_outputs(sbuf *b, const xai_report *r, const char *report_path)
{
    if (!r->outputs.n)
        return;
    char *rdir = canonical_dir(report_path);
    sb_printf(b, "<section id=\"outputs\"><h2>Outputs (%zu files)</h2><ul class=\"outputs\">\n", r->outputs.n);
    for (size_t i = 0; i < r->outputs.n; i++) {
        const char *p = r->outputs.v[i];
        char *abs = rdir ? realpath(p, NULL) : NULL;
        char *rel = abs ? relative_to(rdir, abs) : NULL;
        const char *href = rel ? rel : p;
        sb_add(b, "<li><a href=\"");
        sb_url(b, href);
        sb_add(b, "\">");
        sb_esc(b, href);
        sb_add(b, "</a></li>\n");
        free(rel);
        free(abs);
    }
    sb_add(b, "</ul></section>\n");
    free(rdir);
}

/* ------------------------------------------------------------------ page */

static void render_header(sbuf *b, const xai_report *r)
{
    sb_add(b, "<header><h1>");
    sb_esc(b, r->title);
    sb_add(b, "</h1><table class=\"kv\">");
    const char *k[4] = {"Program", "Version", "Date", "Command"};
    const char *v[4] = {r->program, r->version, r->date, r->command};
    for (int i = 0; i < 4; i++) {
        if (!v[i])
            continue;
        sb_printf(b, "<tr><th>%s</th><td>", k[i]);
        if (i == 3)
            sb_add(b, "<code>");
        sb_esc(b, v[i]);
        sb_add(b, i == 3 ? "</code></td></tr>" : "</td></tr>");
    }
    if (r->inputs.n) {
        sb_printf(b, "<tr><th>Inputs (%zu)</th><td><ul>", r->inputs.n);
        for (size_t i = 0; i < r->inputs.n; i++) {
            sb_add(b, "<li>");
            sb_esc(b, r->inputs.v[i]);
            sb_add(b, "</li>");
        }
        sb_add(b, "</ul></td></tr>");
    }
    sb_add(b, "</table></header>\n");
}

static void render_list(sbuf *b, const strlist *l, const char *cls)
{
    for (size_t i = 0; i < l->n; i++) {
        sb_printf(b, "<li class=\"%s\">", cls);
        sb_esc(b, l->v[i]);
        sb_add(b, "</li>\n");
    }
}

static void render_messages(sbuf *b, const xai_report *r)
{
    sb_printf(b, "<section id=\"messages\"><h2>Warnings and errors</h2><p>%zu error%s, %zu warning%s.</p>\n",
              r->errors.n, r->errors.n == 1 ? "" : "s", r->warnings.n, r->warnings.n == 1 ? "" : "s");
    if (r->errors.n + r->warnings.n) {
        sb_add(b, "<ul class=\"messages\">\n");
        render_list(b, &r->errors, "error");
        render_list(b, &r->warnings, "warning");
        sb_add(b, "</ul>");
    }
    sb_add(b, "</section>\n");
}

static void render_blocks(sbuf *b, const strlist *l, const char *id, const char *heading)
{
    if (!l->n)
        return;
    sb_printf(b, "<section id=\"%s\"><h2>%s (%zu)</h2>\n", id, heading, l->n);
    for (size_t i = 0; i < l->n; i++)
        sb_add(b, l->v[i]);
    sb_add(b, "</section>\n");
}

static xai_status render_page(const xai_report *r, const char *path, sbuf *b)
{
    sb_add(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>");
    sb_esc(b, r->title);
    sb_add(b, "</title>\n<meta name=\"generator\" content=\"libxai\">\n<style>");
    sb_add(b, xai_report_page_css);
    sb_add(b, "</style></head>\n<body>\n");
    render_header(b, r);
    sb_printf(b, "<nav><a href=\"#messages\">Warnings and errors</a>%s%s%s%s</nav>\n",
              r->cards.n ? " <a href=\"#model\">Model</a>" : "", r->figures.n ? " <a href=\"#figures\">Figures</a>" : "",
              r->tables.n ? " <a href=\"#tables\">Tables</a>" : "",
              r->outputs.n ? " <a href=\"#outputs\">Outputs</a>" : "");
    render_messages(b, r);
    render_blocks(b, &r->cards, "model", "Model card");
    render_blocks(b, &r->figures, "figures", "Figures");
    render_blocks(b, &r->tables, "tables", "Tables");
    render_outputs(b, r, path);
    sb_add(b, "<footer id=\"xai-report-check\" data-rendered=\"0\">Written by ");
    sb_esc(b, r->program ? r->program : "libxai");
    sb_add(b, " through libxai's report writer. This page is self-contained and needs no network.</footer>\n<script>");
    sb_add(b, xai_report_page_js);
    sb_add(b, "</script>\n</body></html>\n");
    return b->oom ? xai_error_set(XAI_ENOMEM, "report: out of memory rendering %s", path) : XAI_OK;
}

xai_status xai_report_to_string(const xai_report *r, const char *path, char **html, size_t *len)
{
    if (!r || !path || !*path || !html)
        return xai_error_set(XAI_EINVAL, "report: NULL report, path or output");
    sbuf b = {0};
    xai_status st = render_page(r, path, &b);
    if (st != XAI_OK) {
        free(b.s);
        return st;
    }
    *html = b.s;
    if (len)
        *len = b.len;
    return XAI_OK;
}

xai_status xai_report_write(const xai_report *r, const char *path)
{
    char *html = NULL;
    size_t len = 0;
    xai_status st = xai_report_to_string(r, path, &html, &len);
    if (st == XAI_OK)
        st = xai_atomic_write(path, html, len);
    free(html);
    return st;
}

/* ------------------------------------------------------------------ model card */

/* One row of the card table (the value escaped; absent values give no row). */
static void card_row(sbuf *b, const char *key, const char *value)
{
    if (!value)
        return;
    sb_printf(b, "<tr><th>%s</th><td>", key);
    sb_esc(b, value);
    sb_add(b, "</td></tr>");
}

static void card_number_row(sbuf *b, const xai_card *c, const char *key, const char *path)
{
    double v;
    if (xai_card_get_number(c, path, &v))
        sb_printf(b, "<tr><th>%s</th><td>%.4g</td></tr>", key, v);
}

static void card_json_row(sbuf *b, const xai_card *c, const char *key, const char *path)
{
    char *j = xai_card_get_json(c, path);
    card_row(b, key, j);
    xai_free(j);
}

static void card_classes(sbuf *b, const xai_card *c)
{
    int n = xai_card_class_count(c);
    if (n <= 0)
        return;
    sb_printf(b, "<tr><th>Classes (%d)</th><td>", n);
    for (int i = 0; i < n; i++) {
        sb_add(b, i ? ", " : "");
        sb_esc(b, xai_card_class_name(c, i));
    }
    sb_add(b, "</td></tr>");
}

/* Longest card value shown in full. */
#define CARD_VALUE_MAX 160

/* An opaque object of the card (pre-processing) as one row per member. */
static void card_object_rows(sbuf *b, const xai_card *c, const char *key_label, const char *path)
{
    char *text = xai_card_get_json(c, path);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    xai_free(text);
    if (!json_is_object(o)) {
        json_decref(o);
        return;
    }
    sb_printf(b, "<tr><th>%s</th><td><details><summary>%zu settings</summary><ul class=\"prep\">", key_label,
              json_object_size(o));
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        char *vt = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        sb_add(b, "<li>");
        sb_esc(b, key);
        sb_add(b, ": ");
        const char *text = json_is_string(v) ? json_string_value(v) : vt ? vt : "?";
        if (strlen(text) > CARD_VALUE_MAX) /* e.g. a mask's voxel runs: the model file has them */
            sb_printf(b, "(%zu characters, in the model's card)", strlen(text));
        else
            sb_esc(b, text);
        sb_add(b, "</li>");
        free(vt);
    }
    sb_add(b, "</ul></details></td></tr>");
    json_decref(o);
}

/* Held-out accuracy against chance: the numbers, the interval and the verdict in words. */
static void card_verdict(sbuf *b, const xai_card *c)
{
    double acc, chance, base;
    if (!xai_card_get_number(c, "validation.accuracy", &acc))
        return;
    char *ci = xai_card_get_json(c, "validation.ci95");
    double lo = -1, hi = -1;
    if (ci && sscanf(ci, " [ %lf , %lf ]", &lo, &hi) != 2)
        lo = hi = -1;
    xai_free(ci);
    int has_chance = xai_card_get_number(c, "validation.chance_level", &chance);
    sb_printf(b, "<tr><th>Held-out accuracy</th><td><b>%.3f</b>", acc);
    if (lo >= 0)
        sb_printf(b, " [%.3f, %.3f] (95 %% interval)", lo, hi);
    if (has_chance)
        sb_printf(b, " vs chance %.3f", chance);
    if (xai_card_get_number(c, "validation.baseline.accuracy", &base))
        sb_printf(b, "; linear baseline %.3f", base);
    sb_add(b, "</td></tr>");
    if (has_chance && lo >= 0) {
        int above = lo > chance;
        sb_printf(b, "<tr><th>Verdict</th><td class=\"%s\">%s</td></tr>", above ? "ok" : "bad",
                  above ? "above chance (interval excludes chance)" : "not shown to be above chance");
    }
}

static xai_status card_warnings(xai_report *r, const char *label, const xai_card *c)
{
    char *w = NULL;
    int nw = 0;
    xai_status st = xai_card_warnings(c, &w, &nw);
    for (char *line = w, *next; st == XAI_OK && line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        else
            next = line + strlen(line);
        if (*line) {
            size_t n = strlen(label) + strlen(line) + 16;
            char *m = malloc(n);
            if (m)
                snprintf(m, n, "%s: %s", label, line);
            st = push_message(&r->warnings, m);
        }
    }
    xai_free(w);
    return st;
}

xai_status xai_report_add_card(xai_report *r, const char *label, const xai_card *card)
{
    if (!r || !card)
        return xai_error_set(XAI_EINVAL, "report: NULL argument");
    label = label ? label : "model";
    sbuf b = {0};
    /* the first card open, the others (fold or per-run models) folded away */
    sb_printf(&b, "<details class=\"card\"%s><summary>", r->cards.n ? "" : " open");
    sb_esc(&b, label);
    sb_add(&b, "</summary><table class=\"kv\">");
    card_row(&b, "Domain", xai_card_get_string(card, "domain"));
    card_row(&b, "Task", xai_card_get_string(card, "task"));
    card_classes(&b, card);
    card_json_row(&b, card, "Input axes", "input.axes");
    card_number_row(&b, card, "Sampling rate (Hz)", "input.sampling_rate_hz");
    card_object_rows(&b, card, "Pre-processing", "preprocessing");
    card_row(&b, "Validation", xai_card_get_string(card, "validation.scheme"));
    card_row(&b, "Groups", xai_card_get_string(card, "validation.group_kind"));
    card_number_row(&b, card, "Held-out samples", "validation.n_heldout");
    card_verdict(&b, card);
    card_number_row(&b, card, "Balanced accuracy", "validation.balanced_accuracy");
    card_row(&b, "Trained by", xai_card_get_string(card, "provenance.program"));
    card_row(&b, "Trained on", xai_card_get_string(card, "provenance.date"));
    sb_add(&b, "</table></details>\n");
    xai_status st = push_buf(&r->cards, &b);
    return st == XAI_OK ? card_warnings(r, label, card) : st;
}
