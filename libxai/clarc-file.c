/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * clarc-file.c - the CAV file of clarc.h: one JSON object with the direction, its layer, the
 * two groups' mean projections and how it was found. One reader for every program that takes
 * a CAV (ClArC projection and fine-tuning, RR-ClArC guided training), one writer.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"
#include "xai/clarc.h"

static const char *const method_names[] = {"pattern", "ridge", "svm"};

void xai_cav_file_free(xai_cav_file *c)
{
    if (!c)
        return;
    free(c->layer);
    free(c->v);
    free(c->tool);
    free(c->model);
    free(c->classes);
    memset(c, 0, sizeof *c);
}

/* An optional number: NaN when absent; *bad when present but not a number. */
static double opt_number(const json_t *r, const char *key, int *bad)
{
    const json_t *e = json_object_get(r, key);
    if (!e)
        return NAN;
    if (!json_is_number(e))
        *bad = 1;
    return json_is_number(e) ? json_number_value(e) : NAN;
}

/* An optional count: -1 when absent; *bad when present but not an integer >= 0. */
static int64_t opt_count(const json_t *r, const char *key, int *bad)
{
    const json_t *e = json_object_get(r, key);
    if (!e)
        return -1;
    if (!json_is_integer(e) || json_integer_value(e) < 0) {
        *bad = 1;
        return -1;
    }
    return (int64_t)json_integer_value(e);
}

/* An optional string, copied: NULL when absent; *bad when present but not a string. */
static char *opt_string(const json_t *r, const char *key, int *bad)
{
    const json_t *e = json_object_get(r, key);
    if (!e)
        return NULL;
    if (!json_is_string(e)) {
        *bad = 1;
        return NULL;
    }
    char *s = strdup(json_string_value(e));
    if (!s)
        *bad = 2;
    return s;
}

static int method_of(const json_t *r, int *bad)
{
    const json_t *e = json_object_get(r, "method");
    if (!e)
        return -1;
    if (!json_is_string(e)) {
        *bad = 1;
        return -1;
    }
    for (int k = 0; k < 3; k++)
        if (!strcmp(json_string_value(e), method_names[k]))
            return k;
    return -1;
}

/* The direction: a non-empty array of finite numbers. */
static xai_status read_v(const json_t *v, const char *name, xai_cav_file *c)
{
    c->dim = (int64_t)json_array_size(v);
    c->v = malloc(sizeof(float) * (size_t)c->dim);
    if (!c->v)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory for %lld values", name, (long long)c->dim);
    for (int64_t j = 0; j < c->dim; j++) {
        const json_t *e = json_array_get(v, (size_t)j);
        double x = json_is_number(e) ? json_number_value(e) : NAN;
        if (!isfinite(x) || fabs(x) > 3.4e38)
            return xai_error_set(XAI_EFORMAT, "%s: v[%lld] is not a finite number", name, (long long)j);
        c->v[j] = (float)x;
    }
    return XAI_OK;
}

static xai_status from_json(const json_t *r, const char *name, xai_cav_file *c)
{
    const json_t *v = json_object_get(r, "v"), *l = json_object_get(r, "layer");
    if (!json_is_object(r) || !json_is_array(v) || !json_is_string(l) || json_array_size(v) < 1)
        return xai_error_set(XAI_EFORMAT, "%s: needs 'layer' and 'v' (write it with xai-clarc cav)", name);
    xai_status st = read_v(v, name, c);
    if (st)
        return st;
    int bad = 0;
    c->layer = strdup(json_string_value(l));
    bad |= c->layer ? 0 : 2;
    c->z_artefact = opt_number(r, "z_artefact", &bad);
    c->z_clean = opt_number(r, "z_clean", &bad);
    c->separation_d = opt_number(r, "separation_d", &bad);
    c->n_artefact = opt_count(r, "n_artefact", &bad);
    c->n_clean = opt_count(r, "n_clean", &bad);
    c->tool = opt_string(r, "tool", &bad);
    c->model = opt_string(r, "model", &bad);
    c->classes = opt_string(r, "classes", &bad);
    c->method = method_of(r, &bad);
    if (bad & 2)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    if (bad)
        return xai_error_set(XAI_EFORMAT, "%s: a field of the wrong type (z_artefact, z_clean and separation_d are "
                                          "numbers, n_artefact and n_clean counts, tool, model, classes and method strings)",
                             name);
    return XAI_OK;
}

xai_status xai_cav_file_parse(const char *text, size_t len, const char *name, xai_cav_file *out)
{
    if (!out)
        return xai_error_set(XAI_EINVAL, "xai_cav_file_parse: NULL output");
    memset(out, 0, sizeof *out);
    name = name ? name : "(CAV)";
    if (!text && len)
        return xai_error_set(XAI_EINVAL, "%s: NULL text", name);
    json_error_t je;
    json_t *r = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!r)
        return xai_error_set(XAI_EFORMAT, "%s: %s (line %d)", name, je.text, je.line);
    xai_status st = from_json(r, name, out);
    json_decref(r);
    if (st)
        xai_cav_file_free(out);
    return st;
}

xai_status xai_cav_file_load(const char *path, xai_cav_file *out)
{
    if (!out || !path)
        return xai_error_set(XAI_EINVAL, "xai_cav_file_load: NULL argument");
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return xai_error_set(XAI_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        char *b = n == cap ? realloc(buf, cap *= 2) : buf;
        if (!b)
            free(buf);
        buf = b;
    }
    int err = ferror(f);
    fclose(f);
    xai_status st = !buf ? xai_error_set(XAI_ENOMEM, "%s: out of memory", path)
                    : err ? xai_error_set(XAI_EIO, "%s: read error", path)
                          : xai_cav_file_parse(buf, n, path, out);
    free(buf);
    return st;
}

static void set_number(json_t *r, const char *key, double x)
{
    if (!isnan(x))
        json_object_set_new(r, key, json_real(x));
}

static void set_count(json_t *r, const char *key, int64_t x)
{
    if (x >= 0)
        json_object_set_new(r, key, json_integer((json_int_t)x));
}

xai_status xai_cav_file_to_json(const xai_cav_file *c, char **text)
{
    if (!text)
        return xai_error_set(XAI_EINVAL, "xai_cav_file_to_json: NULL output");
    *text = NULL;
    if (!c || !c->layer || !c->v || c->dim < 1)
        return xai_error_set(XAI_EINVAL, "xai_cav_file_to_json: a CAV needs a layer and a direction");
    json_t *r = json_object(), *arr = json_array();
    for (int64_t j = 0; arr && j < c->dim; j++)
        json_array_append_new(arr, json_real(c->v[j]));
    if (c->tool)
        json_object_set_new(r, "tool", json_string(c->tool));
    if (c->model)
        json_object_set_new(r, "model", json_string(c->model));
    json_object_set_new(r, "layer", json_string(c->layer));
    if (c->method >= 0 && c->method < 3)
        json_object_set_new(r, "method", json_string(method_names[c->method]));
    if (c->classes)
        json_object_set_new(r, "classes", json_string(c->classes));
    json_object_set_new(r, "dim", json_integer((json_int_t)c->dim));
    set_count(r, "n_artefact", c->n_artefact);
    set_count(r, "n_clean", c->n_clean);
    set_number(r, "z_artefact", c->z_artefact);
    set_number(r, "z_clean", c->z_clean);
    set_number(r, "separation_d", c->separation_d);
    json_object_set_new(r, "v", arr);
    *text = r ? json_dumps(r, JSON_INDENT(1) | JSON_REAL_PRECISION(9)) : NULL;
    json_decref(r);
    return *text ? XAI_OK : xai_error_set(XAI_ENOMEM, "CAV file: out of memory");
}
