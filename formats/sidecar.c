/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * sidecar.c - JSON sidecars through jansson (parsing, the value tree and its reference
 * counts). Serialisation is our own so that output is stable and readable: keys sorted
 * bytewise, two-space indent, UTF-8 kept as is, reals in the shortest "%.Ng" that reads back
 * to the same double (like Python's json module). Spec: RFC 8259; BIDS sidecar conventions.
 */
#include "xai/sidecar.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai/atomic.h"

struct xai_sidecar {
    json_t *obj; /* a reference we hold on a JSON object */
    char *name;  /* file name for messages, or NULL */
};

static const char *nm(const xai_sidecar *sc)
{
    return sc && sc->name ? sc->name : "sidecar";
}

static xai_status wrap(json_t *obj, const char *name, xai_sidecar **out)
{
    xai_sidecar *sc = calloc(1, sizeof *sc);
    if (!sc) {
        json_decref(obj);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name ? name : "sidecar");
    }
    if (name) {
        sc->name = strdup(name);
        if (!sc->name) {
            free(sc);
            json_decref(obj);
            return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
        }
    }
    sc->obj = obj;
    *out = sc;
    return XAI_OK;
}

xai_status xai_sidecar_new(xai_sidecar **out)
{
    json_t *o;
    if (!out)
        return xai_error_set(XAI_EINVAL, "sidecar: NULL output");
    *out = NULL;
    o = json_object();
    if (!o)
        return xai_error_set(XAI_ENOMEM, "sidecar: out of memory");
    return wrap(o, NULL, out);
}

void xai_sidecar_free(xai_sidecar *sc)
{
    if (!sc)
        return;
    json_decref(sc->obj);
    free(sc->name);
    free(sc);
}

static xai_status from_root(json_t *root, const json_error_t *err, const char *name,
                            xai_sidecar **out)
{
    if (!root)
        return xai_error_set(XAI_EFORMAT, "%s: bad JSON at line %d, column %d: %s", name,
                             err->line, err->column, err->text);
    if (!json_is_object(root)) {
        json_decref(root);
        return xai_error_set(XAI_EFORMAT, "%s: a sidecar must be a JSON object", name);
    }
    return wrap(root, name, out);
}

xai_status xai_sidecar_load_mem(const void *buf, size_t len, const char *name, xai_sidecar **out)
{
    json_error_t err;
    name = name && *name ? name : "<memory>";
    if (!out)
        return xai_error_set(XAI_EINVAL, "%s: NULL output", name);
    *out = NULL;
    if (!buf && len)
        return xai_error_set(XAI_EINVAL, "%s: NULL buffer", name);
    return from_root(json_loadb(buf ? buf : "", len, JSON_REJECT_DUPLICATES, &err), &err, name,
                     out);
}

xai_status xai_sidecar_load(const char *path, xai_sidecar **out)
{
    json_error_t err;
    json_t *root;
    FILE *f;
    if (!out)
        return xai_error_set(XAI_EINVAL, "xai_sidecar_load: NULL output");
    *out = NULL;
    if (!path)
        return xai_error_set(XAI_EINVAL, "xai_sidecar_load: NULL path");
    f = fopen(path, "rb");
    if (!f)
        return xai_error_set(XAI_EIO, "%s: cannot open: %s", path, strerror(errno));
    root = json_loadf(f, JSON_REJECT_DUPLICATES, &err);
    fclose(f);
    return from_root(root, &err, path, out);
}

/* ---- serialisation ------------------------------------------------------------------- */

typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} strbuf;

static void put_mem(strbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *np;
        while (cap < b->n + n + 1)
            cap *= 2;
        np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void put_str(strbuf *b, const char *s)
{
    put_mem(b, s, strlen(s));
}

static void put_indent(strbuf *b, int depth)
{
    for (int i = 0; i < depth; i++)
        put_mem(b, "  ", 2);
}

static void put_quoted(strbuf *b, const char *s, size_t n)
{
    put_mem(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        switch (c) {
        case '"': put_mem(b, "\\\"", 2); break;
        case '\\': put_mem(b, "\\\\", 2); break;
        case '\n': put_mem(b, "\\n", 2); break;
        case '\r': put_mem(b, "\\r", 2); break;
        case '\t': put_mem(b, "\\t", 2); break;
        case '\b': put_mem(b, "\\b", 2); break;
        case '\f': put_mem(b, "\\f", 2); break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                put_mem(b, esc, 6);
            } else {
                put_mem(b, (const char *)&s[i], 1);
            }
        }
    }
    put_mem(b, "\"", 1);
}

static void put_real(strbuf *b, double v)
{
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    put_str(b, buf);
    if (!strpbrk(buf, ".eEni"))
        put_str(b, ".0"); /* keep it a real, as Python writes 2.0 */
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void put_value(strbuf *b, json_t *v, int depth)
{
    char num[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), k = 0;
        const char **keys;
        const char *key;
        json_t *val;
        if (n == 0) {
            put_str(b, "{}");
            return;
        }
        keys = malloc(n * sizeof *keys);
        if (!keys) {
            b->oom = 1;
            return;
        }
        json_object_foreach(v, key, val) keys[k++] = key;
        qsort(keys, n, sizeof *keys, cmp_keys);
        put_str(b, "{\n");
        for (k = 0; k < n; k++) {
            put_indent(b, depth + 1);
            put_quoted(b, keys[k], strlen(keys[k]));
            put_str(b, ": ");
            put_value(b, json_object_get(v, keys[k]), depth + 1);
            put_str(b, k + 1 < n ? ",\n" : "\n");
        }
        put_indent(b, depth);
        put_str(b, "}");
        free(keys);
        return;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        if (n == 0) {
            put_str(b, "[]");
            return;
        }
        put_str(b, "[\n");
        for (size_t i = 0; i < n; i++) {
            put_indent(b, depth + 1);
            put_value(b, json_array_get(v, i), depth + 1);
            put_str(b, i + 1 < n ? ",\n" : "\n");
        }
        put_indent(b, depth);
        put_str(b, "]");
        return;
    }
    case JSON_STRING:
        put_quoted(b, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        put_str(b, num);
        return;
    case JSON_REAL:
        put_real(b, json_real_value(v));
        return;
    case JSON_TRUE:
        put_str(b, "true");
        return;
    case JSON_FALSE:
        put_str(b, "false");
        return;
    case JSON_NULL:
        put_str(b, "null");
        return;
    }
}

xai_status xai_sidecar_to_string(const xai_sidecar *sc, char **text)
{
    strbuf b = {0};
    if (!sc || !text)
        return xai_error_set(XAI_EINVAL, "sidecar: NULL argument");
    *text = NULL;
    put_value(&b, sc->obj, 0);
    put_str(&b, "\n");
    if (b.oom) {
        free(b.p);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", nm(sc));
    }
    *text = b.p;
    return XAI_OK;
}

xai_status xai_sidecar_save(const xai_sidecar *sc, const char *path)
{
    xai_atomic_file af;
    char *text;
    size_t n;
    xai_status st = xai_sidecar_to_string(sc, &text);
    if (st != XAI_OK)
        return st;
    st = xai_atomic_begin(path, &af);
    if (st != XAI_OK) {
        free(text);
        return st;
    }
    n = strlen(text);
    if (fwrite(text, 1, n, af.f) != n) {
        st = xai_error_set(XAI_EIO, "%s: write failed: %s", path, strerror(errno));
        xai_atomic_abort(&af);
        free(text);
        return st;
    }
    free(text);
    return xai_atomic_commit(&af);
}

/* ---- setters --------------------------------------------------------------------------- */

/* Store v (a new reference, may be NULL after a failed constructor) under key. */
static xai_status set_new(xai_sidecar *sc, const char *key, json_t *v, const char *what)
{
    if (!sc || !key) {
        json_decref(v);
        return xai_error_set(XAI_EINVAL, "sidecar: NULL handle or key");
    }
    if (!v)
        return xai_error_set(XAI_EINVAL, "%s: value of '%s' is not valid (%s)", nm(sc), key, what);
    if (json_object_set_new(sc->obj, key, v) != 0)
        return xai_error_set(XAI_EINVAL, "%s: key '%s' is not valid UTF-8", nm(sc), key);
    return XAI_OK;
}

xai_status xai_sidecar_set_string(xai_sidecar *sc, const char *key, const char *value)
{
    return set_new(sc, key, value ? json_string(value) : NULL, "NULL or invalid UTF-8 string");
}

xai_status xai_sidecar_set_int(xai_sidecar *sc, const char *key, int64_t value)
{
    return set_new(sc, key, json_integer((json_int_t)value), "integer");
}

static json_t *number(double v)
{
    if (!isfinite(v))
        return NULL;
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        return json_integer((json_int_t)v);
    return json_real(v);
}

xai_status xai_sidecar_set_number(xai_sidecar *sc, const char *key, double value)
{
    return set_new(sc, key, number(value), "JSON has no NaN or infinity");
}

xai_status xai_sidecar_set_bool(xai_sidecar *sc, const char *key, int value)
{
    return set_new(sc, key, json_boolean(value), "boolean");
}

xai_status xai_sidecar_set_null(xai_sidecar *sc, const char *key)
{
    return set_new(sc, key, json_null(), "null");
}

xai_status xai_sidecar_set_number_array(xai_sidecar *sc, const char *key, const double *values,
                                        size_t n)
{
    json_t *a = json_array();
    if (a && n && !values) {
        json_decref(a);
        a = NULL;
    }
    for (size_t i = 0; a && i < n; i++) {
        json_t *x = number(values[i]);
        if (!x || json_array_append_new(a, x) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    return set_new(sc, key, a, "NULL array or a NaN/infinite element");
}

xai_status xai_sidecar_set_string_array(xai_sidecar *sc, const char *key,
                                        const char *const *values, size_t n)
{
    json_t *a = json_array();
    if (a && n && !values) {
        json_decref(a);
        a = NULL;
    }
    for (size_t i = 0; a && i < n; i++) {
        json_t *x = values[i] ? json_string(values[i]) : NULL;
        if (!x || json_array_append_new(a, x) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    return set_new(sc, key, a, "NULL array or a NULL/invalid UTF-8 element");
}

xai_status xai_sidecar_set_json(xai_sidecar *sc, const char *key, const char *json)
{
    json_error_t err;
    json_t *v;
    if (!sc || !key || !json)
        return xai_error_set(XAI_EINVAL, "sidecar: NULL argument");
    v = json_loads(json, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
    if (!v)
        return xai_error_set(XAI_EFORMAT, "%s: value for '%s' is not JSON: %s", nm(sc), key,
                             err.text);
    return set_new(sc, key, v, "JSON");
}

/* The array under key, created when missing. */
static xai_status get_array(xai_sidecar *sc, const char *key, json_t **arr)
{
    json_t *a = NULL;
    if (!sc || !key)
        return xai_error_set(XAI_EINVAL, "sidecar: NULL handle or key");
    a = json_object_get(sc->obj, key);
    if (!a) {
        xai_status st = set_new(sc, key, json_array(), "array");
        if (st != XAI_OK)
            return st;
        a = json_object_get(sc->obj, key);
    }
    if (!json_is_array(a))
        return xai_error_set(XAI_EINVAL, "%s: '%s' is not an array", nm(sc), key);
    *arr = a;
    return XAI_OK;
}

xai_status xai_sidecar_append_string(xai_sidecar *sc, const char *key, const char *value)
{
    json_t *a = NULL, *s;
    xai_status st = get_array(sc, key, &a);
    if (st != XAI_OK)
        return st;
    s = value ? json_string(value) : NULL;
    if (!s)
        return xai_error_set(XAI_EINVAL, "%s: NULL or invalid UTF-8 value for '%s'", nm(sc), key);
    if (json_array_append_new(a, s) != 0)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", nm(sc));
    return XAI_OK;
}

static xai_status child_handle(const xai_sidecar *sc, json_t *obj, xai_sidecar **child)
{
    return wrap(json_incref(obj), sc->name, child);
}

xai_status xai_sidecar_child(xai_sidecar *sc, const char *key, xai_sidecar **child)
{
    json_t *o;
    if (!child)
        return xai_error_set(XAI_EINVAL, "sidecar: NULL output");
    *child = NULL;
    if (!sc || !key)
        return xai_error_set(XAI_EINVAL, "sidecar: NULL handle or key");
    o = json_object_get(sc->obj, key);
    if (!o) {
        xai_status st = set_new(sc, key, json_object(), "object");
        if (st != XAI_OK)
            return st;
        o = json_object_get(sc->obj, key);
    }
    if (!json_is_object(o))
        return xai_error_set(XAI_EINVAL, "%s: '%s' is not an object", nm(sc), key);
    return child_handle(sc, o, child);
}

xai_status xai_sidecar_append_object(xai_sidecar *sc, const char *key, xai_sidecar **child)
{
    json_t *a = NULL, *o;
    xai_status st;
    if (!child)
        return xai_error_set(XAI_EINVAL, "sidecar: NULL output");
    *child = NULL;
    st = get_array(sc, key, &a);
    if (st != XAI_OK)
        return st;
    o = json_object();
    if (!o || json_array_append_new(a, o) != 0)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", nm(sc));
    return child_handle(sc, o, child);
}

xai_status xai_sidecar_remove(xai_sidecar *sc, const char *key)
{
    if (!sc || !key)
        return xai_error_set(XAI_EINVAL, "sidecar: NULL handle or key");
    json_object_del(sc->obj, key);
    return XAI_OK;
}

/* ---- getters --------------------------------------------------------------------------- */

static json_t *lookup(const xai_sidecar *sc, const char *key, xai_status *st)
{
    json_t *v;
    if (!sc || !key) {
        *st = xai_error_set(XAI_EINVAL, "sidecar: NULL handle or key");
        return NULL;
    }
    v = json_object_get(sc->obj, key);
    *st = v ? XAI_OK : xai_error_set(XAI_EINVAL, "%s: no key '%s'", nm(sc), key);
    return v;
}

static xai_status wrong_type(const xai_sidecar *sc, const char *key, const char *want)
{
    return xai_error_set(XAI_EINVAL, "%s: '%s' is not %s", nm(sc), key, want);
}

int xai_sidecar_has(const xai_sidecar *sc, const char *key)
{
    return sc && key && json_object_get(sc->obj, key) != NULL;
}

xai_status xai_sidecar_get_string(const xai_sidecar *sc, const char *key, const char **value)
{
    xai_status st;
    json_t *v = lookup(sc, key, &st);
    if (!v)
        return st;
    if (!json_is_string(v))
        return wrong_type(sc, key, "a string");
    if (value)
        *value = json_string_value(v);
    return XAI_OK;
}

xai_status xai_sidecar_get_number(const xai_sidecar *sc, const char *key, double *value)
{
    xai_status st;
    json_t *v = lookup(sc, key, &st);
    if (!v)
        return st;
    if (!json_is_number(v))
        return wrong_type(sc, key, "a number");
    if (value)
        *value = json_number_value(v);
    return XAI_OK;
}

xai_status xai_sidecar_get_bool(const xai_sidecar *sc, const char *key, int *value)
{
    xai_status st;
    json_t *v = lookup(sc, key, &st);
    if (!v)
        return st;
    if (!json_is_boolean(v))
        return wrong_type(sc, key, "true or false");
    if (value)
        *value = json_is_true(v);
    return XAI_OK;
}

xai_status xai_sidecar_get_array_size(const xai_sidecar *sc, const char *key, size_t *n)
{
    xai_status st;
    json_t *v = lookup(sc, key, &st);
    if (!v)
        return st;
    if (!json_is_array(v))
        return wrong_type(sc, key, "an array");
    if (n)
        *n = json_array_size(v);
    return XAI_OK;
}

xai_status xai_sidecar_get_number_array(const xai_sidecar *sc, const char *key, double **values,
                                        size_t *n)
{
    xai_status st;
    json_t *v = lookup(sc, key, &st);
    size_t k;
    double *d;
    if (!values || !n)
        return xai_error_set(XAI_EINVAL, "sidecar: NULL output");
    *values = NULL;
    *n = 0;
    if (!v)
        return st;
    if (!json_is_array(v))
        return wrong_type(sc, key, "an array");
    k = json_array_size(v);
    for (size_t i = 0; i < k; i++)
        if (!json_is_number(json_array_get(v, i)))
            return xai_error_set(XAI_EINVAL, "%s: element %zu of '%s' is not a number", nm(sc), i,
                                 key);
    if (k == 0)
        return XAI_OK;
    d = malloc(k * sizeof *d);
    if (!d)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", nm(sc));
    for (size_t i = 0; i < k; i++)
        d[i] = json_number_value(json_array_get(v, i));
    *values = d;
    *n = k;
    return XAI_OK;
}

xai_status xai_sidecar_get_string_at(const xai_sidecar *sc, const char *key, size_t i,
                                     const char **value)
{
    xai_status st;
    json_t *v = lookup(sc, key, &st), *e;
    if (!v)
        return st;
    if (!json_is_array(v))
        return wrong_type(sc, key, "an array");
    e = json_array_get(v, i);
    if (!e)
        return xai_error_set(XAI_EINVAL, "%s: '%s' has no element %zu", nm(sc), key, i);
    if (!json_is_string(e))
        return xai_error_set(XAI_EINVAL, "%s: element %zu of '%s' is not a string", nm(sc), i,
                             key);
    if (value)
        *value = json_string_value(e);
    return XAI_OK;
}

xai_status xai_sidecar_get_child(const xai_sidecar *sc, const char *key, size_t i,
                                 xai_sidecar **child)
{
    xai_status st;
    json_t *v;
    if (!child)
        return xai_error_set(XAI_EINVAL, "sidecar: NULL output");
    *child = NULL;
    v = lookup(sc, key, &st);
    if (!v)
        return st;
    if (json_is_array(v)) {
        json_t *e = json_array_get(v, i);
        if (!e)
            return xai_error_set(XAI_EINVAL, "%s: '%s' has no element %zu", nm(sc), key, i);
        if (!json_is_object(e))
            return xai_error_set(XAI_EINVAL, "%s: element %zu of '%s' is not an object", nm(sc),
                                 i, key);
        return child_handle(sc, e, child);
    }
    if (!json_is_object(v))
        return wrong_type(sc, key, "an object or array");
    return child_handle(sc, v, child);
}
