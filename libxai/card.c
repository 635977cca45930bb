/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * card.c - the model card (see card.h for the contract). The card is kept as a jansson
 * tree and every change goes through one schema check, so a card in memory is always a
 * valid card: setters work on a copy and swap it in only when the whole card still checks.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card-int.h"
#include "graph-int.h"
#include "xai/train.h"

struct xai_card {
    json_t *root;
};

#define PATH_MAX_LEN 256

/* ---------------------------------------------------------------- schema */

typedef enum {
    F_OBJ,    /* an object of schema fields */
    F_OPAQUE, /* an object whose content is not ours */
    F_STR,
    F_STRS,   /* array of non-empty strings */
    F_UNITS,  /* array of strings, "" for none */
    F_CLASSES,/* array of unique non-empty strings */
    F_INT,    /* integer >= 0 */
    F_POS,    /* number > 0 */
    F_POSS,   /* array of numbers > 0 */
    F_PROB,   /* number in [0, 1] */
    F_CI,     /* [low, high] in [0, 1], low <= high */
    F_BOOL,
} field_kind;

typedef struct {
    const char *path;
    field_kind kind;
    const char *const *choices; /* F_STR: the allowed values, NULL-terminated */
} field;

static const char *const domains[] = {"eeg", "fmri", "gait", "speech", "generic", NULL};
static const char *const schemes[] = {"grouped-holdout", "group-kfold", "leave-one-group-out", "holdout", "kfold",
                                      "none", NULL};
static const char *const group_kinds[] = {"subject", "session", "run", "trial", "speaker", "clip", NULL};

static const field fields[] = {
    {"card_version", F_INT, NULL},
    {"domain", F_STR, domains},
    {"task", F_STR, NULL},
    {"classes", F_CLASSES, NULL},
    {"input", F_OBJ, NULL},
    {"input.axes", F_STRS, NULL},
    {"input.units", F_UNITS, NULL},
    {"input.sampling_rate_hz", F_POS, NULL},
    {"input.voxel_size_mm", F_POSS, NULL},
    {"input.channel_names", F_STRS, NULL},
    {"input.description", F_STR, NULL},
    {"preprocessing", F_OPAQUE, NULL},
    {"training", F_OPAQUE, NULL},
    {"extra", F_OPAQUE, NULL},
    {"provenance", F_OBJ, NULL},
    {"provenance.program", F_STR, NULL},
    {"provenance.version", F_STR, NULL},
    {"provenance.date", F_STR, NULL},
    {"provenance.command_line", F_STR, NULL},
    {"provenance.data_digest", F_STR, NULL},
    {"provenance.arch", F_STR, NULL},
    {"provenance.seed", F_INT, NULL},
    {"validation", F_OBJ, NULL},
    {"validation.scheme", F_STR, schemes},
    {"validation.group_kind", F_STR, group_kinds},
    {"validation.n_groups", F_INT, NULL},
    {"validation.n_folds", F_INT, NULL},
    {"validation.n_heldout", F_INT, NULL},
    {"validation.accuracy", F_PROB, NULL},
    {"validation.balanced_accuracy", F_PROB, NULL},
    {"validation.chance_level", F_PROB, NULL},
    {"validation.ci95", F_CI, NULL},
    {"validation.baseline", F_OBJ, NULL},
    {"validation.baseline.name", F_STR, NULL},
    {"validation.baseline.accuracy", F_PROB, NULL},
    {"validation.above_chance", F_BOOL, NULL},
    {"validation.loses_to_baseline", F_BOOL, NULL},
    {"validation.classes_never_predicted", F_STRS, NULL},
};

static const char *const kind_text[] = {
    [F_OBJ] = "an object",
    [F_OPAQUE] = "an object",
    [F_STR] = "a string",
    [F_STRS] = "an array of non-empty strings",
    [F_UNITS] = "an array of strings",
    [F_CLASSES] = "an array of unique non-empty strings",
    [F_INT] = "an integer >= 0",
    [F_POS] = "a number > 0",
    [F_POSS] = "an array of numbers > 0",
    [F_PROB] = "a number in [0, 1]",
    [F_CI] = "[low, high] with 0 <= low <= high <= 1",
    [F_BOOL] = "true or false",
};

static const field *field_find(const char *path)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strcmp(fields[i].path, path) == 0)
            return &fields[i];
    return NULL;
}

/* The opaque object that @p path lies strictly inside, or NULL. */
static const field *opaque_parent(const char *path)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        size_t n = strlen(fields[i].path);
        if (fields[i].kind == F_OPAQUE && strncmp(path, fields[i].path, n) == 0 && path[n] == '.' && path[n + 1])
            return &fields[i];
    }
    return NULL;
}

static int is_prob(const json_t *v)
{
    return json_is_number(v) && json_number_value(v) >= 0 && json_number_value(v) <= 1;
}

static int strings_ok(const json_t *v, int unique, int empty_ok)
{
    if (!json_is_array(v))
        return 0;
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *s = json_array_get(v, i);
        if (!json_is_string(s) || (!empty_ok && !*json_string_value(s)))
            return 0;
        for (size_t j = 0; unique && j < i; j++)
            if (strcmp(json_string_value(s), json_string_value(json_array_get(v, j))) == 0)
                return 0;
    }
    return 1;
}

static int choice_ok(const field *f, const char *s)
{
    if (!f->choices)
        return 1;
    for (int i = 0; f->choices[i]; i++)
        if (strcmp(f->choices[i], s) == 0)
            return 1;
    return 0;
}

static int value_ok(const field *f, const json_t *v)
{
    switch (f->kind) {
    case F_OBJ:
    case F_OPAQUE:
        return json_is_object(v);
    case F_STR:
        return json_is_string(v) && choice_ok(f, json_string_value(v));
    case F_STRS:
        return strings_ok(v, 0, 0);
    case F_UNITS:
        return strings_ok(v, 0, 1);
    case F_CLASSES:
        return strings_ok(v, 1, 0);
    case F_INT:
        return json_is_integer(v) && json_integer_value(v) >= 0;
    case F_POS:
        return json_is_number(v) && json_number_value(v) > 0;
    case F_POSS:
        if (!json_is_array(v))
            return 0;
        for (size_t i = 0; i < json_array_size(v); i++)
            if (!json_is_number(json_array_get(v, i)) || !(json_number_value(json_array_get(v, i)) > 0))
                return 0;
        return 1;
    case F_PROB:
        return is_prob(v);
    case F_CI:
        return json_is_array(v) && json_array_size(v) == 2 && is_prob(json_array_get(v, 0)) &&
               is_prob(json_array_get(v, 1)) &&
               json_number_value(json_array_get(v, 0)) <= json_number_value(json_array_get(v, 1));
    case F_BOOL:
        return json_is_boolean(v);
    }
    return 0;
}

static xai_status bad_value(const field *f, const json_t *v)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (f->choices) {
        char list[256] = "";
        for (int i = 0; f->choices[i]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", f->choices[i]);
        xai_error_set(XAI_EINVAL, "card: %s is %.60s; expected one of %s", f->path, s ? s : "?", list);
    } else {
        xai_error_set(XAI_EINVAL, "card: %s is %.60s; expected %s", f->path, s ? s : "?", kind_text[f->kind]);
    }
    free(s);
    return XAI_EINVAL;
}

static xai_status check_object(const json_t *obj, const char *prefix)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        char path[PATH_MAX_LEN];
        if (snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key) >= (int)sizeof path)
            return xai_error_set(XAI_EINVAL, "card: field name too long under %s", *prefix ? prefix : "the top level");
        const field *f = field_find(path);
        if (!f)
            return xai_error_set(XAI_EINVAL, "card: unknown field %s (see card.h for the contract)", path);
        if (!value_ok(f, v))
            return bad_value(f, v);
        xai_status st = f->kind == F_OBJ ? check_object(v, path) : XAI_OK;
        if (st)
            return st;
    }
    return XAI_OK;
}

/* Drop the fields that check_object() would reject (for cards built from old metadata). */
static void prune_object(json_t *obj, const char *prefix)
{
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, key, v)
    {
        char path[PATH_MAX_LEN];
        int fits = snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key) < (int)sizeof path;
        const field *f = fits ? field_find(path) : NULL;
        if (!f || !value_ok(f, v))
            json_object_del(obj, key);
        else if (f->kind == F_OBJ)
            prune_object(v, path);
    }
}

static const json_t *get_path(const json_t *root, const char *path);

/* The whole card: its fields, then what ties fields together. */
static xai_status check_card(const json_t *root)
{
    if (!json_is_object(root))
        return xai_error_set(XAI_EINVAL, "card: not a JSON object");
    const json_t *ver = json_object_get(root, "card_version");
    if (!ver)
        return xai_error_set(XAI_EINVAL, "card: card_version is missing");
    if (json_is_integer(ver) && json_integer_value(ver) > XAI_CARD_VERSION)
        return xai_error_set(XAI_EUNSUPPORTED, "card: card_version %lld is newer than this libxai reads (%d)",
                             (long long)json_integer_value(ver), XAI_CARD_VERSION);
    if (!json_is_integer(ver) || json_integer_value(ver) < 1)
        return xai_error_set(XAI_EINVAL, "card: card_version must be an integer from 1 to %d", XAI_CARD_VERSION);
    xai_status st = check_object(root, "");
    if (st)
        return st;
    const json_t *axes = get_path(root, "input.axes"), *units = get_path(root, "input.units");
    if (axes && units && json_array_size(axes) != json_array_size(units))
        return xai_error_set(XAI_EINVAL, "card: input.units has %zu entries but input.axes has %zu",
                             json_array_size(units), json_array_size(axes));
    return XAI_OK;
}

/* ---------------------------------------------------------------- paths */

static const json_t *get_path(const json_t *root, const char *path)
{
    char buf[PATH_MAX_LEN];
    if (strlen(path) >= sizeof buf)
        return NULL;
    strcpy(buf, path);
    const json_t *cur = root;
    for (char *save = NULL, *t = strtok_r(buf, ".", &save); t && cur; t = strtok_r(NULL, ".", &save))
        cur = json_is_object(cur) ? json_object_get(cur, t) : NULL;
    return cur;
}

/* Set (steals @p v) or remove (v NULL) the field at @p path, creating parent objects. */
static xai_status set_path(json_t *root, const char *path, json_t *v)
{
    char buf[PATH_MAX_LEN];
    if (!*path || strlen(path) >= sizeof buf || path[0] == '.' || path[strlen(path) - 1] == '.' ||
        strstr(path, "..")) {
        json_decref(v);
        return xai_error_set(XAI_EINVAL, "card: bad field path '%.60s'", path);
    }
    strcpy(buf, path);
    json_t *cur = root;
    char *save = NULL, *t = strtok_r(buf, ".", &save);
    for (char *next; (next = strtok_r(NULL, ".", &save)); t = next) {
        json_t *child = json_object_get(cur, t);
        if (!child) {
            if (!v)
                return XAI_OK;
            child = json_object();
            if (!child || json_object_set_new(cur, t, child)) {
                json_decref(v);
                return xai_error_set(XAI_ENOMEM, "card: out of memory");
            }
        } else if (!json_is_object(child)) {
            json_decref(v);
            return xai_error_set(XAI_EINVAL, "card: cannot set %s: %s is not an object", path, t);
        }
        cur = child;
    }
    if (!v) {
        json_object_del(cur, t);
        return XAI_OK;
    }
    if (json_object_set_new(cur, t, v))
        return xai_error_set(XAI_ENOMEM, "card: out of memory");
    return XAI_OK;
}

/* Replace the card's tree by @p root when it checks; @p root is consumed either way. */
static xai_status commit(xai_card *c, json_t *root)
{
    xai_status st = check_card(root);
    if (st) {
        json_decref(root);
        return st;
    }
    json_decref(c->root);
    c->root = root;
    return XAI_OK;
}

/* ---------------------------------------------------------------- life cycle, JSON */

xai_status xai_card_new(xai_card **out)
{
    if (!out)
        return xai_error_set(XAI_EINVAL, "card: NULL argument");
    *out = calloc(1, sizeof **out);
    if (*out)
        (*out)->root = json_pack("{s:i}", "card_version", XAI_CARD_VERSION);
    if (!*out || !(*out)->root) {
        free(*out);
        *out = NULL;
        return xai_error_set(XAI_ENOMEM, "card: out of memory");
    }
    return XAI_OK;
}

void xai_card_free(xai_card *c)
{
    if (!c)
        return;
    json_decref(c->root);
    free(c);
}

xai_status xai_card_from_json(const char *text, xai_card **out)
{
    if (!text || !out)
        return xai_error_set(XAI_EINVAL, "card: NULL argument");
    *out = NULL;
    json_error_t err;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return xai_error_set(XAI_EFORMAT, "card: not valid JSON at line %d, column %d: %s", err.line, err.column,
                             err.text);
    xai_card *c;
    xai_status st = xai_card_new(&c);
    if (st) {
        json_decref(root);
        return st;
    }
    if ((st = commit(c, root))) {
        xai_card_free(c);
        return st;
    }
    *out = c;
    return XAI_OK;
}

xai_status xai_card_to_json(const xai_card *c, int pretty, char **text)
{
    if (!c || !text)
        return xai_error_set(XAI_EINVAL, "card: NULL argument");
    /* stored cards keep every bit of their numbers; the indented form is for reading */
    *text = json_dumps(c->root, JSON_SORT_KEYS | (pretty ? JSON_INDENT(2) | JSON_REAL_PRECISION(15) : JSON_COMPACT));
    return *text ? XAI_OK : xai_error_set(XAI_ENOMEM, "card: out of memory");
}

/* ---------------------------------------------------------------- setting fields */

/* Split "a, b ,c" at commas into a JSON array of trimmed strings (NULL: not UTF-8). */
static json_t *comma_list(const char *s)
{
    json_t *a = json_array();
    while (a && *s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        const char *b = s;
        while (n && isspace((unsigned char)*b))
            b++, n--;
        while (n && isspace((unsigned char)b[n - 1]))
            n--;
        if (json_array_append_new(a, json_stringn(b, n))) {
            json_decref(a);
            return NULL;
        }
        s = e ? e + 1 : s + strlen(s);
    }
    return a;
}

/* The JSON value that the text @p s stands for at the field @p f (NULL: an opaque member). */
static json_t *parse_value(const field *f, const char *path, const char *s)
{
    json_t *v;
    int list = f && (f->kind == F_STRS || f->kind == F_UNITS || f->kind == F_CLASSES) && s[0] != '[';
    if ((f && f->kind == F_STR) || list) {
        v = list ? comma_list(s) : json_string(s);
        if (!v)
            xai_error_set(XAI_EINVAL, "card: %s: the value is not valid UTF-8 text", path);
        return v;
    }
    json_error_t err;
    v = json_loads(s, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
    if (v)
        return v;
    if (!f) { /* free text inside an opaque object */
        v = json_string(s);
        if (!v)
            xai_error_set(XAI_EINVAL, "card: %s: the value is not valid UTF-8 text", path);
        return v;
    }
    xai_error_set(XAI_EINVAL, "card: %s: '%.60s' is not JSON (%s); expected %s", path, s, err.text,
                  kind_text[f->kind]);
    return NULL;
}

static xai_status set_value(xai_card *c, const char *path, json_t *v)
{
    json_t *root = json_deep_copy(c->root);
    if (!root) {
        json_decref(v);
        return xai_error_set(XAI_ENOMEM, "card: out of memory");
    }
    xai_status st = set_path(root, path, v);
    if (st) {
        json_decref(root);
        return st;
    }
    return commit(c, root);
}

static xai_status known_path(const char *path, const field **f)
{
    *f = field_find(path);
    if (!*f && !opaque_parent(path))
        return xai_error_set(XAI_EINVAL, "card: unknown field %.80s (see card.h for the contract)", path);
    if (*f && strcmp(path, "card_version") == 0)
        return xai_error_set(XAI_EINVAL, "card: card_version is set by the library");
    return XAI_OK;
}

xai_status xai_card_set(xai_card *c, const char *assignment)
{
    if (!c || !assignment)
        return xai_error_set(XAI_EINVAL, "card: NULL argument");
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return xai_error_set(XAI_EINVAL, "card: '%.80s' is not PATH=VALUE", assignment);
    char path[PATH_MAX_LEN];
    if ((size_t)(eq - assignment) >= sizeof path)
        return xai_error_set(XAI_EINVAL, "card: field path too long");
    memcpy(path, assignment, (size_t)(eq - assignment));
    path[eq - assignment] = '\0';
    const field *f;
    xai_status st = known_path(path, &f);
    if (st)
        return st;
    if (!eq[1])
        return set_value(c, path, NULL);
    json_t *v = parse_value(f, path, eq + 1);
    if (!v)
        return XAI_EINVAL;
    return set_value(c, path, v);
}

xai_status xai_card_set_json(xai_card *c, const char *path, const char *json)
{
    if (!c || !path)
        return xai_error_set(XAI_EINVAL, "card: NULL argument");
    const field *f;
    xai_status st = known_path(path, &f);
    if (st)
        return st;
    if (!json)
        return set_value(c, path, NULL);
    json_error_t err;
    json_t *v = json_loads(json, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
    if (!v)
        return xai_error_set(XAI_EINVAL, "card: %s: not JSON (%s)", path, err.text);
    return set_value(c, path, v);
}

/* Copy every leaf of @p src into @p dst (objects merge, everything else is replaced). */
static int merge_tree(json_t *dst, const json_t *src)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)src, key, v)
    {
        json_t *d = json_object_get(dst, key);
        if (json_is_object(v) && json_is_object(d)) {
            if (merge_tree(d, v))
                return -1;
        } else if (json_object_set_new(dst, key, json_deep_copy(v))) {
            return -1;
        }
    }
    return 0;
}

xai_status xai_card_merge(xai_card *dst, const xai_card *src)
{
    if (!dst || !src)
        return xai_error_set(XAI_EINVAL, "card: NULL argument");
    json_t *root = json_deep_copy(dst->root);
    if (!root || merge_tree(root, src->root)) {
        json_decref(root);
        return xai_error_set(XAI_ENOMEM, "card: out of memory");
    }
    return commit(dst, root);
}

/* ---------------------------------------------------------------- reading fields */

const char *xai_card_get_string(const xai_card *c, const char *path)
{
    const json_t *v = c && path ? get_path(c->root, path) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int xai_card_get_number(const xai_card *c, const char *path, double *out)
{
    const json_t *v = c && path ? get_path(c->root, path) : NULL;
    if (!json_is_number(v))
        return 0;
    if (out)
        *out = json_number_value(v);
    return 1;
}

char *xai_card_get_json(const xai_card *c, const char *path)
{
    const json_t *v = c && path ? get_path(c->root, path) : NULL;
    return v ? json_dumps(v, JSON_ENCODE_ANY | JSON_SORT_KEYS | JSON_COMPACT) : NULL;
}

int xai_card_class_count(const xai_card *c)
{
    const json_t *v = c ? json_object_get(c->root, "classes") : NULL;
    return (int)json_array_size(v);
}

const char *xai_card_class_name(const xai_card *c, int i)
{
    const json_t *v = c && i >= 0 ? json_object_get(c->root, "classes") : NULL;
    return json_string_value(json_array_get(v, (size_t)(i >= 0 ? i : 0)));
}

/* ---------------------------------------------------------------- model metadata */

xai_status xai_card_from_model(const xai_model *m, xai_card **out)
{
    if (!m || !out)
        return xai_error_set(XAI_EINVAL, "card: NULL argument");
    *out = NULL;
    const char *text = xai_model_metadata(m, XAI_CARD_KEY);
    if (text) {
        xai_status st = xai_card_from_json(text, out);
        return st ? xai_error_prefix(st, m->name) : XAI_OK;
    }
    xai_card *c;
    xai_status st = xai_card_new(&c);
    if (st)
        return st;
    json_t *root = json_deep_copy(c->root);
    st = root ? xai_card_legacy(m, root) : xai_error_set(XAI_ENOMEM, "card: out of memory");
    if (st == XAI_OK) {
        prune_object(root, "");
        st = commit(c, root);
    }
    else
        json_decref(root);
    if (st) {
        xai_card_free(c);
        return xai_error_prefix(st, m->name);
    }
    *out = c;
    return XAI_OK;
}

/* The card must describe this model: one class per output, one axis per input dimension. */
static xai_status check_against_model(const xai_model *m, const xai_card *c)
{
    int nc = xai_card_class_count(c);
    int64_t nout = xai_model_output_numel(m);
    if (nc > 0 && nc != nout)
        return xai_error_set(XAI_EINVAL, "card: %d classes but the model has %lld outputs per sample", nc,
                             (long long)nout);
    int nd;
    (void)xai_model_input_shape(m, &nd);
    const json_t *axes = get_path(c->root, "input.axes");
    int na = (int)json_array_size(axes);
    if (axes && na != nd && na != nd - 1)
        return xai_error_set(XAI_EINVAL, "card: input.axes has %d names but the model input has %d dimensions "
                             "(%d without the batch axis)", na, nd, nd - 1);
    return XAI_OK;
}

xai_status xai_card_apply(xai_model *m, const xai_card *c)
{
    if (!m || !c)
        return xai_error_set(XAI_EINVAL, "card: NULL argument");
    xai_status st = check_against_model(m, c);
    char *text = NULL;
    if (st == XAI_OK)
        st = xai_card_to_json(c, 0, &text);
    if (st == XAI_OK)
        st = xai_model_set_metadata(m, XAI_CARD_KEY, text);
    free(text);
    return st;
}

/* Put @p text under XAI_CARD_KEY in @p mp, replacing an older card. */
static xai_status proto_set_card(Onnx__ModelProto *mp, const char *text)
{
    for (size_t i = 0; i < mp->n_metadata_props; i++) {
        Onnx__StringStringEntryProto *e = mp->metadata_props[i];
        if (e->key && strcmp(e->key, XAI_CARD_KEY) == 0) {
            char *v = strdup(text);
            if (!v)
                return xai_error_set(XAI_ENOMEM, "card: out of memory");
            if (e->value != protobuf_c_empty_string)
                free(e->value);
            e->value = v;
            return XAI_OK;
        }
    }
    Onnx__StringStringEntryProto **np = realloc(mp->metadata_props, (mp->n_metadata_props + 1) * sizeof *np);
    if (!np)
        return xai_error_set(XAI_ENOMEM, "card: out of memory");
    mp->metadata_props = np;
    Onnx__StringStringEntryProto *e = malloc(sizeof *e);
    if (!e)
        return xai_error_set(XAI_ENOMEM, "card: out of memory");
    onnx__string_string_entry_proto__init(e);
    e->key = strdup(XAI_CARD_KEY);
    e->value = strdup(text);
    np[mp->n_metadata_props++] = e; /* freed with the proto even when a strdup failed */
    return e->key && e->value ? XAI_OK : xai_error_set(XAI_ENOMEM, "card: out of memory");
}

xai_status xai_card_save_onnx(const xai_model *m, const xai_card *c, const char *path)
{
    if (!m || !c || !path || !*path)
        return xai_error_set(XAI_EINVAL, "card: NULL argument or empty path");
    xai_status st = check_against_model(m, c);
    if (st)
        return st;
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, m->src_len, m->src);
    if (!mp)
        return xai_error_set(XAI_EFORMAT, "%s: cannot decode the model again", m->name);
    char *text = NULL;
    uint8_t *buf = NULL;
    st = xai_card_to_json(c, 0, &text);
    if (st == XAI_OK)
        st = proto_set_card(mp, text);
    size_t len = st == XAI_OK ? onnx__model_proto__get_packed_size(mp) : 0;
    if (st == XAI_OK && !(buf = malloc(len ? len : 1)))
        st = xai_error_set(XAI_ENOMEM, "card: out of memory");
    if (st == XAI_OK)
        st = xai_write_file_atomic(path, buf, onnx__model_proto__pack(mp, buf));
    free(buf);
    free(text);
    onnx__model_proto__free_unpacked(mp, NULL);
    return st;
}

/* ---------------------------------------------------------------- warnings */

typedef struct {
    char *text;
    size_t len, cap;
    int count;
} warn_buf;

static void warn(warn_buf *w, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void warn(warn_buf *w, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t n = strlen(line);
    if (w->len + n + 2 > w->cap) {
        size_t cap = (w->len + n + 2) * 2;
        char *t = realloc(w->text, cap);
        if (!t)
            return; /* out of memory: this warning is dropped, the others stay readable */
        w->text = t;
        w->cap = cap;
    }
    memcpy(w->text + w->len, line, n);
    w->len += n;
    w->text[w->len++] = '\n';
    w->text[w->len] = '\0';
    w->count++;
}

/* A stored verdict flag, or -1 when the card has none. */
static int flag(const json_t *val, const char *key)
{
    const json_t *v = json_object_get(val, key);
    return json_is_boolean(v) ? json_is_true(v) : -1;
}

static void warn_chance(warn_buf *w, const json_t *val, double acc, int have_acc)
{
    double chance = 0;
    int have_chance = json_is_number(json_object_get(val, "chance_level"));
    if (have_chance)
        chance = json_number_value(json_object_get(val, "chance_level"));
    const json_t *ci = json_object_get(val, "ci95");
    int above = flag(val, "above_chance");
    if (above < 0 && have_acc && have_chance)
        above = ci ? json_number_value(json_array_get(ci, 0)) > chance : acc > chance;
    if (above != 0)
        return;
    char a[32] = "", i[48] = "", c[32] = "";
    if (have_acc)
        snprintf(a, sizeof a, " %.2f", acc);
    if (ci)
        snprintf(i, sizeof i, " [%.2f, %.2f]", json_number_value(json_array_get(ci, 0)),
                 json_number_value(json_array_get(ci, 1)));
    if (have_chance)
        snprintf(c, sizeof c, " %.2f", chance);
    warn(w, "held-out accuracy%s%s is not above chance%s", a, i, c);
}

static void warn_baseline(warn_buf *w, const json_t *val, double acc, int have_acc)
{
    const json_t *b = json_object_get(val, "baseline");
    const json_t *ba = json_object_get(b, "accuracy");
    int loses = flag(val, "loses_to_baseline");
    if (loses < 0 && have_acc && json_is_number(ba))
        loses = acc <= json_number_value(ba);
    if (loses != 1)
        return;
    const char *name = json_string_value(json_object_get(b, "name"));
    char a[32] = "", bb[32] = "";
    if (have_acc)
        snprintf(a, sizeof a, " %.2f", acc);
    if (json_is_number(ba))
        snprintf(bb, sizeof bb, " (%.2f)", json_number_value(ba));
    warn(w, "held-out accuracy%s does not beat the linear baseline%s%s%s", a, name ? " " : "", name ? name : "", bb);
}

static void warn_validation(warn_buf *w, const json_t *val)
{
    const char *scheme = json_string_value(json_object_get(val, "scheme"));
    const json_t *accj = json_object_get(val, "accuracy");
    int have_acc = json_is_number(accj);
    double acc = have_acc ? json_number_value(accj) : 0;
    if (!scheme && !have_acc) {
        warn(w, "no held-out validation is recorded: the accuracy on unseen data is unknown");
        return;
    }
    if (scheme && strcmp(scheme, "none") == 0)
        warn(w, "validation scheme is \"none\": the model was not tested on held-out data");
    else if (scheme && (strcmp(scheme, "holdout") == 0 || strcmp(scheme, "kfold") == 0))
        warn(w, "validation scheme \"%s\" does not hold out whole groups (subjects, sessions, ...): the "
                "accuracy may be optimistic", scheme);
    warn_chance(w, val, acc, have_acc);
    const json_t *never = json_object_get(val, "classes_never_predicted");
    if (json_array_size(never) > 0) {
        char list[256] = "";
        for (size_t i = 0; i < json_array_size(never); i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     json_string_value(json_array_get(never, i)));
        warn(w, "the model never predicted class%s %s on held-out data", json_array_size(never) > 1 ? "es" : "",
             list);
    }
    warn_baseline(w, val, acc, have_acc);
}

xai_status xai_card_warnings(const xai_card *c, char **text, int *count)
{
    if (!c || !text)
        return xai_error_set(XAI_EINVAL, "card: NULL argument");
    warn_buf w = {calloc(1, 256), 0, 256, 0};
    if (!w.text)
        return xai_error_set(XAI_ENOMEM, "card: out of memory");
    if (xai_card_class_count(c) == 0)
        warn(&w, "the card names no classes: outputs are reported by index");
    warn_validation(&w, json_object_get(c->root, "validation"));
    *text = w.text;
    if (count)
        *count = w.count;
    return XAI_OK;
}
