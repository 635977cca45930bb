/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri-eval.c - the evaluation metrics of xai/eval.h on one explained run, with the ground
 * truth given natively as a region image on the run's grid: the explained volumes, their
 * maps and the region stacked in the model's input layout (the table is written by
 * xai/eval-write.h). See xai/domain-fmri.h.
 */
#include "xai/domain-fmri.h"
#include "fmri-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
