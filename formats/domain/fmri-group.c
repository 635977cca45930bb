/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri-group.c - the group level of xai-fmri: the participants' class summaries averaged over
 * runs within each subject, then over subjects, with a record of which model explained each
 * map (so the group map can say whether it is out of fold). See xai/domain-fmri.h.
 */
#include "xai/domain-fmri.h"
#include "fmri-int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai/bids-walk.h"

void xai_fmri_group_free(xai_fmri_group *g)
{
    for (int k = 0; k < g->nk; k++) {
        free(g->key[k]);
        free(g->mean[k]);
        free(g->sources_json[k]);
        free(g->excluded_json[k]);
    }
    memset(g, 0, sizeof *g);
}

/* The group key of a summary ("task-T_desc-lrpX"), or 0 when the file is no class summary. */
static int summary_key(const xai_bids_file *f, char *key, size_t cap)
{
    const char *desc = xai_bids_file_entity(f, "desc");
    if (!desc || strncmp(desc, "lrp", 3) || !desc[3])
        return 0;
    if (f->task)
        snprintf(key, cap, "task-%s_desc-%s", f->task, desc);
    else
        snprintf(key, cap, "desc-%s", desc);
    return 1;
}

/* Per key: the running sums of the current subject and of the subjects done. */
typedef struct {
    double *sub[XAI_FMRI_MAX_CLASSES], *all[XAI_FMRI_MAX_CLASSES];
    int nrun[XAI_FMRI_MAX_CLASSES];
    json_t *src[XAI_FMRI_MAX_CLASSES], *excl[XAI_FMRI_MAX_CLASSES];
} sums;

static int key_index(xai_fmri_group *g, sums *s, const char *key)
{
    int k;
    for (k = 0; k < g->nk && strcmp(g->key[k], key); k++)
        ;
    if (k < g->nk || g->nk == XAI_FMRI_MAX_CLASSES)
        return k < g->nk ? k : -1;
    size_t n = strlen(key) + 1;
    if (!(g->key[k] = malloc(n)) || !(s->src[k] = json_array()) || !(s->excl[k] = json_array()))
        return -2;
    memcpy(g->key[k], key, n);
    g->out_of_fold[k] = 1;
    g->nk++;
    return k;
}

/* Which model explained the map (from its sidecar): {Map, Model, ModelSHA256, OutOfFold};
 * *out_of_fold 1 (it never saw the run), 0 (unknown) or -1 (trained on the run). */
static json_t *map_source(const xai_bids_file *f, int *out_of_fold)
{
    char *jp = fmri_json_path(f->path);
    json_t *side = jp ? json_load_file(jp, 0, NULL) : NULL, *e = json_object();
    free(jp);
    json_t *held = json_object_get(side, "HeldOut");
    json_object_set_new(e, "Map", json_string(f->relpath));
    json_object_set(e, "Model", json_object_get(side, "Model") ? json_object_get(side, "Model") : json_null());
    json_object_set(e, "ModelSHA256",
                    json_object_get(side, "ModelSHA256") ? json_object_get(side, "ModelSHA256") : json_null());
    /* a model given with --model records no HeldOut: whether it saw the run is not known */
    json_object_set_new(e, "OutOfFold", json_is_boolean(held) ? json_boolean(json_is_true(held)) : json_null());
    *out_of_fold = json_is_true(held) ? 1 : json_is_false(held) ? -1 : 0;
    json_decref(side);
    return e;
}

/* Add one summary to the current subject's sum of its key. */
static xai_status add_map(xai_fmri_group *g, sums *s, const xai_bids_file *f, const char *key)
{
    int k = key_index(g, s, key);
    if (k == -1)
        return XAI_OK; /* more keys than classes: ignored as before */
    if (k < 0)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    int oof;
    json_t *src = map_source(f, &oof);
    if (oof < 0) { /* in sample: listed, not averaged */
        json_decref(src);
        g->nexcluded[k]++;
        return json_array_append_new(s->excl[k], json_string(f->relpath)) ? xai_error_set(XAI_ENOMEM, "out of memory")
                                                                            : XAI_OK;
    }
    xai_nifti *img = NULL;
    xai_status st = xai_nifti_open(f->path, &img);
    if (st != XAI_OK) {
        json_decref(src);
        return st;
    }
    int64_t n = img->shape[1] * img->shape[2] * img->shape[3];
    if (!g->nv) {
        g->info = img->info;
        g->nv = n;
    } else if (n != g->nv || img->info.dim[1] != g->info.dim[1] || img->info.dim[2] != g->info.dim[2]) {
        xai_nifti_close(img);
        json_decref(src);
        return xai_error_set(XAI_EINVAL, "%s: grid differs from the first summary; the group level needs one common "
                             "space", f->path);
    }
    if (!s->sub[k] && !(s->sub[k] = calloc((size_t)g->nv, sizeof(double)))) {
        xai_nifti_close(img);
        json_decref(src);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    for (int64_t v = 0; v < g->nv; v++)
        s->sub[k][v] += img->data[v];
    s->nrun[k]++;
    json_array_append_new(s->src[k], src);
    g->out_of_fold[k] &= oof > 0;
    xai_nifti_close(img);
    return XAI_OK;
}

/* Close the current subject: its mean over runs joins the subject sum of each key. */
static xai_status end_subject(xai_fmri_group *g, sums *s)
{
    for (int k = 0; k < g->nk; k++) {
        if (s->nrun[k]) {
            if (!s->all[k] && !(s->all[k] = calloc((size_t)g->nv, sizeof(double))))
                return xai_error_set(XAI_ENOMEM, "out of memory");
            for (int64_t v = 0; v < g->nv; v++)
                s->all[k][v] += s->sub[k][v] / s->nrun[k];
            g->nsub[k]++;
        }
        free(s->sub[k]);
        s->sub[k] = NULL;
        s->nrun[k] = 0;
    }
    return XAI_OK;
}

static xai_status finish(xai_fmri_group *g, sums *s)
{
    for (int k = 0; k < g->nk; k++) {
        if (!(g->sources_json[k] = json_dumps(s->src[k], JSON_COMPACT)) ||
            !(g->excluded_json[k] = json_dumps(s->excl[k], JSON_COMPACT)))
            return xai_error_set(XAI_ENOMEM, "out of memory");
        if (!g->nsub[k]) /* every map of the key was in sample */
            continue;
        if (!(g->mean[k] = malloc((size_t)g->nv * sizeof(float))))
            return xai_error_set(XAI_ENOMEM, "out of memory");
        for (int64_t v = 0; v < g->nv; v++)
            g->mean[k][v] = (float)(s->all[k][v] / g->nsub[k]);
    }
    return XAI_OK;
}

static int same_subject(const xai_bids_file *a, const xai_bids_file *b)
{
    return a->subject && b->subject && !strcmp(a->subject, b->subject);
}

xai_status xai_fmri_group_collect(const char *root, const char *const *subjects, int nsubjects, const char *task,
                                  xai_fmri_group *g)
{
    memset(g, 0, sizeof *g);
    static const char *const sfx[] = {"statmap"}, *const ext[] = {".nii.gz"};
    xai_bids_walk_opts w = {.layout = XAI_WALK_BIDS, .datatype = "func", .suffixes = sfx, .nsuffixes = 1,
                            .extensions = ext, .nextensions = 1, .participants = subjects,
                            .nparticipants = nsubjects, .tasks = task ? &task : NULL, .ntasks = task != NULL};
    xai_bids_list l;
    sums s;
    memset(&s, 0, sizeof s);
    xai_status st = xai_bids_walk(root, &w, &l);
    for (size_t i = 0; st == XAI_OK && i < l.n; i++) {
        char key[512];
        if (summary_key(&l.files[i], key, sizeof key))
            st = add_map(g, &s, &l.files[i], key);
        if (st == XAI_OK && (i + 1 == l.n || !same_subject(&l.files[i], &l.files[i + 1])))
            st = end_subject(g, &s);
    }
    if (st == XAI_OK && g->nk == 0)
        st = xai_error_set(XAI_EINVAL, "%s: no participant summaries (*_desc-lrp<Class>_statmap.nii.gz); run the "
                           "participant level first", root);
    if (st == XAI_OK)
        st = finish(g, &s);
    for (int k = 0; k < XAI_FMRI_MAX_CLASSES; k++) {
        free(s.sub[k]);
        free(s.all[k]);
        json_decref(s.src[k]);
        json_decref(s.excl[k]);
    }
    xai_bids_list_free(&l);
    if (st != XAI_OK)
        xai_fmri_group_free(g);
    return st;
}

xai_status xai_fmri_group_write(const xai_fmri_group *g, int k, const char *path, const char *common_json)
{
    if (k < 0 || k >= g->nk || !g->mean[k])
        return xai_error_set(XAI_EINVAL, "%s: no out-of-fold map to average (%d left out: made by a model trained on "
                             "their run)", k >= 0 && k < g->nk ? g->key[k] : "group", k >= 0 && k < g->nk ? g->nexcluded[k] : 0);
    xai_status st = xai_nifti_write_volume(path, &g->info, g->mean[k], "xai-fmri group mean");
    if (st != XAI_OK)
        return st;
    json_t *j = common_json && *common_json ? json_loads(common_json, 0, NULL) : json_object();
    if (!j)
        return xai_error_set(XAI_EINVAL, "bad provenance JSON");
    json_t *ex = json_loads(g->sources_json[k], 0, NULL), *src = json_array(), *e;
    size_t i;
    json_array_foreach(ex, i, e)
        json_array_append(src, json_object_get(e, "Map"));
    json_object_set_new(j, "Description", json_string("mean over subjects of each subject's mean over runs of the "
                                                      "participant-level class summaries"));
    json_object_set_new(j, "NumberOfSubjects", json_integer(g->nsub[k]));
    json_object_set_new(j, "Sources", src);
    /* which model explained which run: a group map of in-sample maps would show what the
     * models memorised, not what generalises */
    json_object_set_new(j, "Explanations", ex);
    json_object_set_new(j, "OutOfFold", json_boolean(g->out_of_fold[k]));
    json_object_set_new(j, "ExcludedInSample", json_loads(g->excluded_json[k], 0, NULL));
    return fmri_write_sidecar(path, NULL, NULL, j);
}
