/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * card-legacy.c - reading the metadata that models carried before the card:
 *   class_names        JSON array of strings, or "a,b,c"
 *   xai_preprocessing  JSON object (PascalCase keys in models from xai-eeg)
 *   xai_training       JSON object (PascalCase keys in models from xai-eeg)
 *   xai_arch           architecture spec text
 *   input_layout       free text
 *   xai_labels         label file of xai-speech
 * Object keys become snake_case; the domain is taken from the training program's name.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "card-int.h"

/* Objects whose keys are data (event codes, class names), not field names. */
static const char *const data_maps[] = {"events", "counts", NULL};

static int is_pascal(const char *k)
{
    if (!isupper((unsigned char)k[0]))
        return 0;
    for (const char *p = k; *p; p++)
        if (!isalnum((unsigned char)*p))
            return 0;
    return 1;
}

/* "InputSamplingFrequency" -> "input_sampling_frequency", "TMin" -> "t_min",
 * "SHA256" -> "sha256": a word starts at an upper-case letter that follows a lower-case
 * letter or digit, or that precedes a lower-case letter after another upper-case one. */
static char *snake(const char *k)
{
    size_t n = strlen(k);
    char *s = malloc(2 * n + 1), *o = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)k[i];
        if (i > 0 && isupper(c)) {
            unsigned char p = (unsigned char)k[i - 1], q = (unsigned char)k[i + 1];
            if (islower(p) || isdigit(p) || (isupper(p) && islower(q)))
                *o++ = '_';
        }
        *o++ = (char)tolower(c);
    }
    *o = '\0';
    return s;
}

static int is_data_map(const char *key)
{
    for (int i = 0; data_maps[i]; i++)
        if (strcmp(key, data_maps[i]) == 0)
            return 1;
    return 0;
}

static xai_status snake_value(json_t *v);

xai_status xai_card_snake_keys(json_t *obj)
{
    json_t *out = json_object();
    if (!out)
        return xai_error_set(XAI_ENOMEM, "card: out of memory");
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        char *k = is_pascal(key) ? snake(key) : strdup(key);
        xai_status st = k ? XAI_OK : xai_error_set(XAI_ENOMEM, "card: out of memory");
        if (st == XAI_OK && !is_data_map(k))
            st = snake_value(v);
        if (st == XAI_OK && json_object_set(out, k, v))
            st = xai_error_set(XAI_ENOMEM, "card: out of memory");
        free(k);
        if (st) {
            json_decref(out);
            return st;
        }
    }
    json_object_clear(obj);
    int bad = json_object_update(obj, out);
    json_decref(out);
    return bad ? xai_error_set(XAI_ENOMEM, "card: out of memory") : XAI_OK;
}

static xai_status snake_value(json_t *v)
{
    if (json_is_object(v))
        return xai_card_snake_keys(v);
    for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++) {
        xai_status st = snake_value(json_array_get(v, i));
        if (st)
            return st;
    }
    return XAI_OK;
}

/* A JSON object from metadata @p key with snake_case keys, or NULL. */
static json_t *legacy_object(const xai_model *m, const char *key)
{
    const char *text = xai_model_metadata(m, key);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_object(o) || xai_card_snake_keys(o) != XAI_OK) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *legacy_classes(const char *text)
{
    json_t *a = json_loads(text, 0, NULL);
    if (json_is_array(a))
        return a;
    json_decref(a);
    a = json_array();
    for (const char *s = text; a && *s;) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        json_array_append_new(a, json_stringn(s, n));
        s = e ? e + 1 : s + n;
    }
    return a;
}

/* Set @p path in the card tree to a copy of @p v when present (type checks come later). */
static void put(json_t *root, const char *obj, const char *key, json_t *v)
{
    if (!v)
        return;
    json_t *parent = root;
    if (obj) {
        parent = json_object_get(root, obj);
        if (!parent) {
            parent = json_object();
            json_object_set_new(root, obj, parent);
        }
    }
    if (json_is_object(parent))
        json_object_set_new(parent, key, v);
    else
        json_decref(v);
}

static json_t *copy_if(const json_t *v, int ok)
{
    return v && ok ? json_deep_copy(v) : NULL;
}

static void legacy_domain(json_t *root, const json_t *pre, const char *program)
{
    static const char *const known[] = {"eeg", "fmri", "gait", "speech", NULL};
    const char *d = json_string_value(json_object_get(pre, "domain"));
    for (int i = 0; known[i]; i++) {
        char prog[16];
        snprintf(prog, sizeof prog, "xai-%s", known[i]);
        if ((d && strcmp(d, known[i]) == 0) || (program && strncmp(program, prog, strlen(prog)) == 0 &&
                                                (!program[strlen(prog)] || program[strlen(prog)] == ' '))) {
            json_object_set_new(root, "domain", json_string(known[i]));
            return;
        }
    }
}

static void legacy_training(json_t *root, json_t *tr)
{
    const json_t *prog = json_object_get(tr, "program");
    if (!prog)
        prog = json_object_get(tr, "tool");
    put(root, "provenance", "program", copy_if(prog, json_is_string(prog)));
    const json_t *seed = json_object_get(tr, "seed");
    put(root, "provenance", "seed", copy_if(seed, json_is_integer(seed) && json_integer_value(seed) >= 0));
    legacy_domain(root, NULL, json_string_value(prog));
}

xai_status xai_card_legacy(const xai_model *m, json_t *root)
{
    const char *cn = xai_model_metadata(m, "class_names");
    if (cn && *cn)
        json_object_set_new(root, "classes", legacy_classes(cn));
    json_t *pre = legacy_object(m, "xai_preprocessing");
    if (pre) {
        const json_t *ch = json_object_get(pre, "channels"), *fs = json_object_get(pre, "sampling_frequency");
        const json_t *vox = json_object_get(pre, "voxel_size");
        put(root, "input", "channel_names", copy_if(ch, json_is_array(ch)));
        put(root, "input", "sampling_rate_hz", copy_if(fs, json_is_number(fs) && json_number_value(fs) > 0));
        put(root, "input", "voxel_size_mm", copy_if(vox, json_is_array(vox)));
        legacy_domain(root, pre, NULL);
        json_object_set_new(root, "preprocessing", pre);
    }
    json_t *tr = legacy_object(m, "xai_training");
    if (tr) {
        legacy_training(root, tr);
        json_object_set_new(root, "training", tr);
    }
    const char *arch = xai_model_metadata(m, "xai_arch");
    put(root, "provenance", "arch", arch && *arch ? json_string(arch) : NULL);
    const char *layout = xai_model_metadata(m, "input_layout");
    put(root, "input", "description", layout && *layout ? json_string(layout) : NULL);
    const char *labels = xai_model_metadata(m, "xai_labels");
    put(root, "extra", "labels", labels && *labels ? json_string(labels) : NULL);
    return XAI_OK;
}
