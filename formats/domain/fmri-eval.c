/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri-eval.c - the evaluation metrics of xai/eval.h on one explained run, with the ground
 * truth given natively as a region image on the run's grid: the explained volumes, their
 * maps and the region stacked in the model's input layout, and the scores as a BIDS-style
 * table. See xai/domain-fmri.h.
 */
#include "xai/domain-fmri.h"
#include "fmri-int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai/tsv.h"

/* The volumes to score: labelled ones when the run has labels, else all. */
static int64_t pick_volumes(const xai_fmri_run *run, int64_t nt, int64_t *idx)
{
    int64_t n = 0;
    for (int64_t t = 0; t < nt; t++)
        if (!run->labels || run->labels[t] >= 0)
            idx[n++] = t;
    return n;
}

xai_status xai_fmri_evaluate(const xai_model *m, const xai_eval_config *cfg, const xai_explain_config *ecfg,
                             uint32_t set, const xai_fmri_run *run, const xai_fmri_maps *mp, const uint8_t *truth,
                             xai_eval_scores *out, int64_t *nvol)
{
    memset(out, 0, sizeof *out);
    int64_t nv = mp->nv, nt = mp->nt, *idx = malloc((size_t)nt * sizeof *idx);
    if (!idx || !mp->input) {
        free(idx);
        return xai_error_set(idx ? XAI_EINVAL : XAI_ENOMEM, "evaluation needs the model inputs of the run");
    }
    int64_t n = pick_volumes(run, nt, idx);
    *nvol = n;
    float *x = malloc((size_t)(n ? n : 1) * (size_t)nv * sizeof *x), *rel = malloc((size_t)(n ? n : 1) * (size_t)nv * sizeof *rel);
    float *mask = malloc((size_t)(n ? n : 1) * (size_t)nv * sizeof *mask);
    int *target = malloc((size_t)(n ? n : 1) * sizeof *target);
    xai_status st = !x || !rel || !mask || !target ? xai_error_set(XAI_ENOMEM, "out of memory")
                    : n == 0 ? xai_error_set(XAI_EINVAL, "%s: no labelled volume to evaluate", run->path) : XAI_OK;
    for (int64_t k = 0; st == XAI_OK && k < n; k++) {
        int64_t t = idx[k];
        memcpy(x + k * nv, mp->input + t * nv, (size_t)nv * sizeof *x);
        memcpy(rel + k * nv, run->img->data + (run->t0 + t) * nv, (size_t)nv * sizeof *rel);
        for (int64_t v = 0; v < nv; v++)
            mask[k * nv + v] = truth[v] ? 1.0f : 0.0f;
        target[k] = mp->target[t];
    }
    if (st == XAI_OK)
        st = xai_eval_metrics(m, cfg, ecfg, set, n, x, rel, mask, target, out);
    free(idx);
    free(x);
    free(rel);
    free(mask);
    free(target);
    return st;
}

xai_status xai_fmri_write_scores(const xai_eval_scores *s, uint32_t set, const char *path, const char *common_json)
{
    static const char *const names[] = {"metric", "family", "higher_is_better", "mean", "sd", "ci_low", "ci_high",
                                        "n"};
    static const char *const info[][2] = {
        {"metric of xai/eval.h", NULL}, {"what it measures", NULL}, {"1: higher is better, 0: lower", NULL},
        {"mean over the evaluated volumes", NULL}, {"standard deviation over the volumes", NULL},
        {"95 % interval of the mean (Student t), lower end", NULL}, {"upper end", NULL},
        {"volumes with a finite value", NULL}};
    xai_tsv_type ty[8] = {XAI_TSV_STRING, XAI_TSV_STRING};
    xai_tsv *t = NULL;
    xai_status st = xai_tsv_create(8, names, ty, &t);
    for (size_t c = 0; st == XAI_OK && c < 8; c++)
        st = xai_tsv_set_column_info(t, c, info[c][0], info[c][1]);
    for (int k = 0; st == XAI_OK && k < XAI_METRIC_COUNT; k++) {
        const xai_metric_score *m = &s->score[k];
        size_t row;
        if (!(set & (1u << k)) || !m->computed || (st = xai_tsv_add_row(t, &row)) != XAI_OK)
            continue;
        xai_tsv_set_string(t, row, 0, xai_metric_name((xai_metric)k));
        xai_tsv_set_string(t, row, 1, xai_metric_family((xai_metric)k));
        xai_tsv_set_number(t, row, 2, xai_metric_direction((xai_metric)k) > 0);
        double v[4] = {m->mean, m->sd, m->ci_low, m->ci_high};
        for (int j = 0; j < 4; j++)
            isfinite(v[j]) ? xai_tsv_set_number(t, row, 3 + (size_t)j, v[j]) : xai_tsv_set_na(t, row, 3 + (size_t)j);
        xai_tsv_set_number(t, row, 7, (double)m->n_finite);
    }
    if (st == XAI_OK)
        st = xai_tsv_save(t, path, XAI_TSV_SIDECAR);
    xai_tsv_free(t);
    if (st != XAI_OK || !common_json)
        return st;
    char *dict = fmri_json_path(path); /* the data dictionary plus the caller's provenance */
    st = dict ? fmri_write_sidecar(path, dict, common_json, json_object()) : xai_error_set(XAI_ENOMEM, "out of memory");
    free(dict);
    return st;
}
