/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri-write.c - one run's explanation as BIDS derivatives (BIDS 1.9, derivatives): the
 * per-volume table with its data dictionary, class and mean statmaps, class mosaics over the
 * mean EPI, the 4-D relevance series and the model inputs, each with a JSON sidecar. See
 * xai/domain-fmri.h.
 */
#include "xai/domain-fmri.h"
#include "fmri-int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai/npy.h"
#include "xai/sidecar.h"
#include "xai/tsv.h"

/* "x.nii.gz" / "x.tsv" / "x.png" / "x.npy" -> "x.json" (other names get ".json" appended) */
char *fmri_json_path(const char *out)
{
    static const char *const ext[] = {".nii.gz", ".nii", ".tsv", ".png", ".npy"};
    size_t n = strlen(out), stem = n;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t e = strlen(ext[i]);
        if (n > e && !strcmp(out + n - e, ext[i])) {
            stem = n - e;
            break;
        }
    }
    char *p = malloc(stem + 6);
    if (p) {
        memcpy(p, out, stem);
        memcpy(p + stem, ".json", 6);
    }
    return p;
}

xai_status fmri_write_sidecar(const char *out, const char *base_file, const char *common, json_t *own)
{
    char *path = fmri_json_path(out), *text = NULL;
    json_t *j = base_file ? json_load_file(base_file, 0, NULL) : json_object();
    json_t *c = common && *common ? json_loads(common, 0, NULL) : NULL;
    xai_sidecar *sc = NULL;
    xai_status st = path && j && own ? XAI_OK : xai_error_set(XAI_ENOMEM, "%s: cannot build the sidecar", out);
    if (st == XAI_OK && c)
        json_object_update(j, c);
    if (st == XAI_OK)
        json_object_update(j, own);
    if (st == XAI_OK && !(text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)))
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    if (st == XAI_OK)
        st = xai_sidecar_load_mem(text, strlen(text), path, &sc);
    if (st == XAI_OK)
        st = xai_sidecar_save(sc, path);
    xai_sidecar_free(sc);
    free(text);
    free(path);
    json_decref(j);
    json_decref(c);
    json_decref(own);
    return st;
}

static json_t *described(const char *description)
{
    json_t *j = json_object();
    json_object_set_new(j, "Description", json_string(description));
    return j;
}

/* The per-volume (or per-trial) table's columns, with their descriptions and units. */
static xai_status table_new(const xai_fmri_classes *cls, int trials, xai_tsv **ts)
{
    const char *fixed[7] = {trials ? "trial" : "volume", "onset", "label", "prediction", "target", "relevance_sum",
                            "relevance_start"};
    const char *info[7][2] = {
        {trials ? "trial index in the run in onset order, from 0 (the 4-D maps' volume index)"
                : "volume index in the run, from 0", NULL},
        {trials ? "onset of the trial (events.tsv)" : "acquisition start of the volume", "s"},
        {trials ? "the trial's class (events.tsv)" : "class from the events with the model's hemodynamic rule (n/a: none)",
         NULL},
        {"predicted class", NULL}, {"explained class", NULL},
        {"sum of the volume's input relevance (inside the mask)", "arbitrary"},
        {"relevance put in at the output (the explained logit)", "arbitrary"}};
    xai_tsv_type types[7] = {XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_STRING,
                             XAI_TSV_NUMBER, XAI_TSV_NUMBER};
    xai_status st = xai_tsv_create(7, fixed, types, ts);
    for (size_t i = 0; st == XAI_OK && i < 7; i++)
        st = xai_tsv_set_column_info(*ts, i, info[i][0], info[i][1]);
    for (int c = 0; st == XAI_OK && c < cls->n; c++) {
        char name[96], desc[160];
        size_t col;
        snprintf(name, sizeof name, "logit_%s", cls->name[c]);
        snprintf(desc, sizeof desc, "the model's logit for class %s", cls->name[c]);
        st = xai_tsv_add_column(*ts, name, XAI_TSV_NUMBER, &col);
        if (st == XAI_OK)
            st = xai_tsv_set_column_info(*ts, col, desc, "arbitrary");
    }
    return st;
}

static xai_status write_table(const xai_fmri_maps *mp, const xai_fmri_run *run, const xai_fmri_classes *cls,
                              const char *path, const char *common)
{
    xai_tsv *ts = NULL;
    xai_status st = table_new(cls, run->onset != NULL, &ts);
    for (int64_t t = 0; st == XAI_OK && t < mp->nt; t++) {
        size_t row;
        st = xai_tsv_add_row(ts, &row);
        xai_tsv_set_number(ts, row, 0, (double)t);
        xai_tsv_set_number(ts, row, 1, run->onset ? run->onset[t] : (double)t * run->img->info.tr_s);
        xai_tsv_set_string(ts, row, 2, run->labels && run->labels[t] >= 0 ? cls->name[run->labels[t]] : NULL);
        xai_tsv_set_string(ts, row, 3, cls->name[mp->pred[t]]);
        xai_tsv_set_string(ts, row, 4, cls->name[mp->target[t]]);
        xai_tsv_set_number(ts, row, 5, mp->relsum[t]);
        xai_tsv_set_number(ts, row, 6, mp->relinit[t]);
        for (int c = 0; c < cls->n; c++)
            xai_tsv_set_number(ts, row, 7 + (size_t)c, mp->logit[t * cls->n + c]);
    }
    if (st == XAI_OK)
        st = xai_tsv_save(ts, path, XAI_TSV_SIDECAR);
    xai_tsv_free(ts);
    if (st != XAI_OK)
        return st;
    json_t *j = described(run->onset ? "one row per trial (its least-squares-separate or peak-window estimate): class "
                                       "from events, prediction, explained target, sum of the input relevance, logits"
                                     : "one row per volume: label from events (with the hemodynamic lag), prediction, "
                                       "explained target, sum of the input relevance, logits");
    if (mp->nlab) {
        json_object_set_new(j, "Accuracy", json_real((double)mp->ncorrect / (double)mp->nlab));
        json_object_set_new(j, "LabelledVolumes", json_integer(mp->nlab));
    }
    char *dict = fmri_json_path(path);
    st = dict ? fmri_write_sidecar(path, dict, common, j) : (json_decref(j), xai_error_set(XAI_ENOMEM, "out of memory"));
    free(dict);
    return st;
}

/* Class summary c (or the mean over all volumes for c == ncls), its sidecar and mosaic. */
static xai_status write_summary(const xai_fmri_maps *mp, const xai_fmri_run *run, const uint8_t *emask,
                                const xai_fmri_classes *cls, int c, const xai_fmri_paths *p, const char *common,
                                const char *descrip, float *vol)
{
    int64_t cnt = c < cls->n ? mp->counts[c] : mp->nt, nv = mp->nv;
    const double *s = mp->sums + (size_t)c * (size_t)nv;
    for (int64_t v = 0; v < nv; v++)
        vol[v] = cnt ? (float)(s[v] / (double)cnt) : 0.0f;
    const char *path = c < cls->n ? p->cls[c] : p->mean;
    xai_status st = xai_nifti_write_volume(path, &run->img->info, vol, descrip);
    if (st != XAI_OK)
        return st;
    char desc[512];
    if (c < cls->n)
        snprintf(desc, sizeof desc, "mean of the L1-normalised relevance maps (relevance shares) of the %lld volumes "
                 "explained for class %s%s", (long long)cnt, cls->name[c], run->labels ? " and labelled with it" : "");
    else
        snprintf(desc, sizeof desc, "mean relevance over all %lld volumes", (long long)mp->nt);
    json_t *j = described(desc);
    json_object_set_new(j, "NumberOfVolumes", json_integer(cnt));
    if (c < cls->n)
        json_object_set_new(j, "Class", json_string(cls->name[c]));
    if ((st = fmri_write_sidecar(path, NULL, common, j)) != XAI_OK || c == cls->n || !p->png)
        return st;
    char title[256];
    snprintf(title, sizeof title, "LRP relevance for %s (%lld volumes) over the mean EPI", cls->name[c], (long long)cnt);
    if ((st = xai_fmri_mosaic_png(p->png[c], &run->img->info, run->prep.mean, vol, emask, title)) != XAI_OK)
        return st;
    return fmri_write_sidecar(p->png[c], NULL, common,
                         described("axial slice mosaic (anterior up, every slice or every k-th) of the class summary "
                                   "over the mean EPI; symmetric colour range at the 99.5th percentile"));
}

/* The volumes as the model saw them, for xai-evaluate: (volumes, model input shape). */
static xai_status write_input(const xai_fmri_maps *mp, const xai_model *m, const char *path)
{
    int md;
    const int64_t *ms = xai_model_input_shape(m, &md);
    int64_t shp[XAI_MAX_DIMS + 1] = {mp->nt};
    for (int d = 0; d < md; d++)
        shp[d + 1] = ms[d];
    return xai_npy_save(path, md + 1, shp, mp->input);
}

void xai_fmri_series_template(const xai_fmri_run *run, xai_nifti_info *out)
{
    *out = run->img->info;
    if (!run->onset)
        return;
    out->pixdim[4] = 1.0;
    out->xyzt_units &= 0x07; /* the space unit stays */
    out->time_units = 0;
    out->toffset = 0.0;
    out->tr_s = 0.0;
    out->tr_assumed_ms = 0;
}

xai_status xai_fmri_write_maps(const xai_fmri_maps *mp, const xai_fmri_run *run, const uint8_t *emask,
                               const xai_model *m, const xai_fmri_classes *cls, const xai_fmri_paths *p,
                               const char *common_json, const char *descrip)
{
    xai_status st = XAI_OK;
    if (p->input && mp->input)
        st = write_input(mp, m, p->input);
    if (st == XAI_OK && p->table)
        st = write_table(mp, run, cls, p->table, common_json);
    float *vol = malloc((size_t)mp->nv * sizeof *vol);
    if (st == XAI_OK && !vol)
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    for (int c = 0; c <= cls->n && st == XAI_OK; c++)
        st = write_summary(mp, run, emask, cls, c, p, common_json, descrip, vol);
    free(vol);
    if (st == XAI_OK && p->bold4d) {
        const float *data = run->img->data + run->t0 * mp->nv;
        xai_nifti_info like;
        xai_fmri_series_template(run, &like);
        st = xai_nifti_write_series(p->bold4d, &like, mp->nt, data, descrip);
        if (st == XAI_OK)
            st = fmri_write_sidecar(p->bold4d, NULL, common_json,
                               described("relevance of every volume for its explained target (see the timeseries "
                                         "table), 0 outside the mask"));
    }
    return st;
}
