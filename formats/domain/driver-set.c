/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * driver-set.c - the driver's model set (xai/driver.h): the model for new data, its card,
 * the fold models with the groups each held out, and their files (MODEL.onnx with the fold
 * index in its card, MODEL.fold-K.onnx next to it).
 */
#include "driver-int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai/train.h"

/* ---------------------------------------------------------------- name lists */

void xai_driver_names_free(name_list *l)
{
    for (int i = 0; l && i < l->n; i++)
        free(l->v[i]);
    if (l) {
        free(l->v);
        l->v = NULL;
        l->n = 0;
    }
}

int xai_driver_names_add(name_list *l, const char *s)
{
    char **v = realloc(l->v, sizeof *v * (size_t)(l->n + 1));
    if (!v)
        return -1;
    l->v = v;
    if (!(v[l->n] = strdup(s)))
        return -1;
    l->n++;
    return 0;
}

int xai_driver_names_has(const name_list *l, const char *s)
{
    for (int i = 0; s && i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return 1;
    return 0;
}

static json_t *names_to_json(const name_list *l)
{
    json_t *a = json_array();
    for (int i = 0; a && i < l->n; i++)
        if (json_array_append_new(a, json_string(l->v[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

char *xai_driver_names_json(const name_list *l)
{
    json_t *a = names_to_json(l);
    char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return s;
}

/* Names from a JSON array of strings; -1 when it is not one (or out of memory). */
static int names_from_json(const json_t *a, name_list *l)
{
    if (!json_is_array(a))
        return -1;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s || xai_driver_names_add(l, s))
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- life cycle, accessors */

xai_driver_set *xai_driver_set_alloc(int nfolds)
{
    xai_driver_set *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->nfolds = nfolds;
    if (nfolds > 0) {
        s->fold_model = calloc((size_t)nfolds, sizeof *s->fold_model);
        s->fold_heldout = calloc((size_t)nfolds, sizeof *s->fold_heldout);
        s->fold_trained = calloc((size_t)nfolds, sizeof *s->fold_trained);
        if (!s->fold_model || !s->fold_heldout || !s->fold_trained) {
            xai_driver_set_free(s);
            return NULL;
        }
    }
    return s;
}

void xai_driver_set_free(xai_driver_set *s)
{
    if (!s)
        return;
    for (int k = 0; k < s->nfolds; k++) {
        if (s->fold_model)
            xai_model_free(s->fold_model[k]);
        if (s->fold_heldout)
            xai_driver_names_free(&s->fold_heldout[k]);
        if (s->fold_trained)
            xai_driver_names_free(&s->fold_trained[k]);
        if (s->fold_record)
            free(s->fold_record[k]);
    }
    free(s->fold_record);
    free(s->record);
    free(s->record_key);
    free(s->fold_model);
    free(s->fold_heldout);
    free(s->fold_trained);
    xai_driver_names_free(&s->trained);
    xai_model_free(s->model);
    xai_card_free(s->card);
    free(s->warnings);
    free(s->never_predicted);
    free(s->group_kind);
    free(s->oof_pred);
    free(s->fold_kept);
    free(s->fold_train);
    free(s);
}

xai_model *xai_driver_set_model(const xai_driver_set *s)
{
    return s ? s->model : NULL;
}

const xai_card *xai_driver_set_card(const xai_driver_set *s)
{
    return s ? s->card : NULL;
}

int xai_driver_set_nfolds(const xai_driver_set *s)
{
    return s ? s->nfolds : 0;
}

xai_model *xai_driver_set_fold_model(const xai_driver_set *s, int k)
{
    return s && k >= 0 && k < s->nfolds ? s->fold_model[k] : NULL;
}

xai_status xai_driver_set_fold_groups(const xai_driver_set *s, int k, const char *const **names, int *count)
{
    if (!s || !names || !count || k < 0 || k >= s->nfolds)
        return xai_error_set(XAI_EINVAL, "driver: fold %d out of range (the set has %d folds)", k,
                             s ? s->nfolds : 0);
    *names = (const char *const *)s->fold_heldout[k].v;
    *count = s->fold_heldout[k].n;
    return XAI_OK;
}

const xai_driver_summary *xai_driver_set_summary(const xai_driver_set *s)
{
    return s && s->have_summary ? &s->summary : NULL;
}

const char *xai_driver_set_warnings(const xai_driver_set *s, int *count)
{
    if (count)
        *count = s ? s->nwarnings : 0;
    return s && s->warnings ? s->warnings : "";
}

xai_status xai_driver_set_refresh_warnings(xai_driver_set *s)
{
    char *text = NULL;
    int count = 0;
    xai_status st = xai_card_warnings(s->card, &text, &count);
    if (st)
        return st;
    size_t n = strlen(text);
    if (n && text[n - 1] == '\n')
        text[n - 1] = '\0';
    free(s->warnings);
    s->warnings = text;
    s->nwarnings = count;
    return XAI_OK;
}

void xai_driver_warn_lines(xai_warn_fn warn, void *ud, const char *text)
{
    if (!warn || !text)
        return;
    while (*text) {
        const char *e = strchr(text, '\n');
        size_t n = e ? (size_t)(e - text) : strlen(text);
        char line[600];
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), text);
        if (n)
            warn(ud, line);
        text += n + (e ? 1 : 0);
    }
}

/* ---------------------------------------------------------------- files */

/* "DIR/stem.fold-K.onnx" for MODEL path "DIR/stem.onnx" (or "DIR/stem"). */
static char *fold_path(const char *path, int k)
{
    size_t n = strlen(path);
    if (n > 5 && strcmp(path + n - 5, ".onnx") == 0)
        n -= 5;
    size_t cap = n + 32;
    char *p = malloc(cap);
    if (p)
        snprintf(p, cap, "%.*s.fold-%d.onnx", (int)n, path, k + 1);
    return p;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

xai_status xai_driver_set_paths(const xai_driver_set *s, const char *path, char ***paths, int *count)
{
    if (!s || !path || !*path || !paths || !count)
        return xai_error_set(XAI_EINVAL, "driver: NULL argument");
    char **v = calloc((size_t)s->nfolds + 1, sizeof *v);
    if (!v || !(v[0] = strdup(path))) {
        free(v);
        return xai_error_set(XAI_ENOMEM, "driver: out of memory");
    }
    for (int k = 0; k < s->nfolds; k++)
        if (!(v[k + 1] = fold_path(path, k))) {
            for (int i = 0; i <= k; i++)
                free(v[i]);
            free(v);
            return xai_error_set(XAI_ENOMEM, "driver: out of memory");
        }
    *paths = v;
    *count = s->nfolds + 1;
    return XAI_OK;
}

/* The index of the set as the JSON text of extra.driver, with fold files named after @p path. */
static char *index_json(const xai_driver_set *s, const char *path)
{
    json_t *root = json_object(), *folds = json_array();
    int bad = !root || !folds || json_object_set_new(root, "folds", folds);
    for (int k = 0; !bad && k < s->nfolds; k++) {
        char *fp = fold_path(path, k);
        json_t *e = json_object();
        bad = !fp || !e || json_array_append_new(folds, e) ||
              json_object_set_new(e, "file", json_string(base_name(fp))) ||
              json_object_set_new(e, "heldout_groups", names_to_json(&s->fold_heldout[k]));
        free(fp);
    }
    if (!bad)
        bad = json_object_set_new(root, "trained_groups", names_to_json(&s->trained)) != 0;
    char *text = bad ? NULL : json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}

/* Apply @p card with extra.driver replaced by @p driver_json (and @p key set to @p record when
 * both are given: a fold's own preparation) to @p m. */
static xai_status apply_with_index(xai_model *m, const xai_card *card, const char *driver_json, const char *key,
                                   const char *record)
{
    char *text = NULL;
    xai_card *c = NULL;
    xai_status st = xai_card_to_json(card, 0, &text);
    if (!st)
        st = xai_card_from_json(text, &c);
    xai_free(text);
    if (!st)
        st = xai_card_set_json(c, "extra.driver", driver_json);
    if (!st && key && record)
        st = xai_card_set_json(c, key, record);
    if (!st)
        st = xai_card_apply(m, c);
    xai_card_free(c);
    return st;
}

/* The card of fold @p k: the set's card with the fold's own extra.driver record. */
static xai_status apply_fold_card(const xai_driver_set *s, int k)
{
    char *held = xai_driver_names_json(&s->fold_heldout[k]);
    char *tr = xai_driver_names_json(&s->fold_trained[k]);
    char *rec = held && tr ? malloc(strlen(held) + strlen(tr) + 80) : NULL;
    xai_status st = XAI_ENOMEM;
    if (rec) {
        sprintf(rec, "{\"fold\":%d,\"heldout_groups\":%s,\"trained_groups\":%s}", k + 1, held, tr);
        st = apply_with_index(s->fold_model[k], s->card, rec, s->record_key,
                              s->fold_record ? s->fold_record[k] : NULL);
    } else
        xai_error_set(st, "driver: out of memory");
    free(held);
    free(tr);
    free(rec);
    return st;
}

xai_status xai_driver_set_save_fold(const xai_driver_set *s, int k, const char *path, const xai_export_options *eo)
{
    if (!s || !path || !*path || k < 0 || k >= s->nfolds || !s->fold_model[k])
        return xai_error_set(XAI_EINVAL, "driver: no fold %d to save or no path", k + 1);
    xai_status st = apply_fold_card(s, k);
    if (!st)
        st = xai_model_save_onnx(s->fold_model[k], path, eo);
    return st ? xai_error_prefix(st, path) : XAI_OK;
}

xai_status xai_driver_set_save(const xai_driver_set *s, const char *path)
{
    if (!s || !s->model || !path || !*path)
        return xai_error_set(XAI_EINVAL, "driver: nothing to save or no path");
    xai_status st = XAI_OK;
    for (int k = 0; k < s->nfolds && !st; k++) {
        char *fp = fold_path(path, k);
        if (!fp)
            return xai_error_set(XAI_ENOMEM, "driver: out of memory");
        st = apply_fold_card(s, k);
        if (!st)
            st = xai_model_save_onnx(s->fold_model[k], fp, NULL);
        if (st)
            xai_error_prefix(st, fp);
        free(fp);
    }
    if (st)
        return st;
    char *idx = index_json(s, path);
    if (!idx)
        return xai_error_set(XAI_ENOMEM, "driver: out of memory");
    st = apply_with_index(s->model, s->card, idx, NULL, NULL);
    free(idx);
    if (!st)
        st = xai_model_save_onnx(s->model, path, NULL);
    return st ? xai_error_prefix(st, path) : XAI_OK;
}

void xai_driver_index_free(xai_driver_index *ix)
{
    for (int k = 0; k < ix->nfolds; k++) {
        if (ix->file)
            free(ix->file[k]);
        if (ix->heldout)
            xai_driver_names_free(&ix->heldout[k]);
    }
    free(ix->file);
    free(ix->heldout);
    xai_driver_names_free(&ix->trained);
    memset(ix, 0, sizeof *ix);
}

static xai_status parse_fold(const json_t *e, int k, const char *path, xai_driver_index *ix)
{
    const char *file = json_string_value(json_object_get(e, "file"));
    if (!file || !*file || strchr(file, '/') || strcmp(file, "..") == 0 || strcmp(file, ".") == 0)
        return xai_error_set(XAI_EFORMAT, "%s: fold %d of the card's extra.driver.folds has no plain file name",
                             path, k + 1);
    if (names_from_json(json_object_get(e, "heldout_groups"), &ix->heldout[k]))
        return xai_error_set(XAI_EFORMAT, "%s: fold %d of the card's extra.driver.folds has no heldout_groups "
                             "list of strings", path, k + 1);
    if (!(ix->file[k] = strdup(file)))
        return xai_error_set(XAI_ENOMEM, "driver: out of memory");
    return XAI_OK;
}

xai_status xai_driver_index_parse(const char *text, const char *path, xai_driver_index *ix)
{
    memset(ix, 0, sizeof *ix);
    if (!text)
        return XAI_OK;
    json_t *drv = json_loads(text, JSON_DECODE_ANY, NULL);
    const json_t *folds = json_object_get(drv, "folds"), *tr = json_object_get(drv, "trained_groups");
    xai_status st = XAI_OK;
    if (!json_is_object(drv) || (folds && !json_is_array(folds)))
        st = xai_error_set(XAI_EFORMAT, "%s: the card's extra.driver is not an object with a folds array", path);
    else if (tr && names_from_json(tr, &ix->trained))
        st = xai_error_set(XAI_EFORMAT, "%s: the card's extra.driver.trained_groups is not a list of strings",
                           path);
    else if (json_array_size(folds) > 4096)
        st = xai_error_set(XAI_EFORMAT, "%s: %zu folds in the card", path, json_array_size(folds));
    size_t n = st ? 0 : json_array_size(folds);
    if (n) {
        ix->file = calloc(n, sizeof *ix->file);
        ix->heldout = calloc(n, sizeof *ix->heldout);
        if (!ix->file || !ix->heldout)
            st = xai_error_set(XAI_ENOMEM, "driver: out of memory");
        else
            ix->nfolds = (int)n;
    }
    for (int k = 0; !st && k < ix->nfolds; k++)
        st = parse_fold(json_array_get(folds, (size_t)k), k, path, ix);
    json_decref(drv);
    return st;
}

/* Load fold @p k's file from the folder of @p path. */
static xai_status load_fold(xai_driver_set *s, int k, const char *file, const char *path,
                            const xai_load_options *opts)
{
    const char *slash = strrchr(path, '/');
    size_t dn = slash ? (size_t)(slash - path) + 1 : 0, cap = dn + strlen(file) + 1;
    char *fp = malloc(cap);
    if (!fp)
        return xai_error_set(XAI_ENOMEM, "driver: out of memory");
    snprintf(fp, cap, "%.*s%s", (int)dn, path, file);
    xai_status st = xai_model_load_onnx(fp, opts, &s->fold_model[k]);
    if (st)
        xai_error_prefix(st, fp);
    else if (xai_model_input_numel(s->fold_model[k]) != xai_model_input_numel(s->model) ||
             xai_model_output_numel(s->fold_model[k]) != xai_model_output_numel(s->model))
        st = xai_error_set(XAI_EFORMAT, "%s: fold model's input or output size differs from %s", fp, path);
    free(fp);
    return st;
}

/* A set around the loaded model @p m and card @p c (both taken over), with its folds loaded. */
static xai_status read_index(const char *path, xai_model *m, xai_card *c, const xai_load_options *opts,
                             xai_driver_set **out)
{
    char *text = xai_card_get_json(c, "extra.driver");
    xai_driver_index ix;
    xai_status st = xai_driver_index_parse(text, path, &ix);
    xai_free(text);
    xai_driver_set *s = st ? NULL : xai_driver_set_alloc(ix.nfolds);
    if (!st && !s)
        st = xai_error_set(XAI_ENOMEM, "driver: out of memory");
    if (s) {
        s->model = m, s->card = c;
        m = NULL, c = NULL;
        s->trained = ix.trained;
        memset(&ix.trained, 0, sizeof ix.trained);
        for (int k = 0; k < ix.nfolds; k++) {
            s->fold_heldout[k] = ix.heldout[k];
            memset(&ix.heldout[k], 0, sizeof ix.heldout[k]);
        }
    }
    for (int k = 0; !st && k < ix.nfolds; k++)
        st = load_fold(s, k, ix.file[k], path, opts);
    xai_driver_index_free(&ix);
    if (!st)
        st = xai_driver_set_refresh_warnings(s);
    xai_model_free(m);
    xai_card_free(c);
    if (st) {
        xai_driver_set_free(s);
        return st;
    }
    *out = s;
    return XAI_OK;
}

xai_status xai_driver_set_load(const char *path, const xai_load_options *opts, xai_driver_set **out)
{
    if (!path || !out)
        return xai_error_set(XAI_EINVAL, "driver: NULL argument");
    *out = NULL;
    xai_model *m = NULL;
    xai_card *c = NULL;
    xai_status st = xai_model_load_onnx(path, opts, &m);
    if (st)
        return st;
    if ((st = xai_card_from_model(m, &c))) {
        xai_model_free(m);
        return xai_error_prefix(st, path);
    }
    return read_index(path, m, c, opts, out);
}
