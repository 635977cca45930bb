/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * evaluate.c - xai-fmri evaluate: explain a run as explain does (out of fold with a model of
 * train --cv) and score the maps with the
 * metrics of xai/eval.h, the ground truth a region image on the run's grid (--truth).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmri.h"
#include "xai/eval-write.h"

static int check_args(opts *o, uint32_t *set)
{
    if (!o->model || o->nbold != 1 || !o->truth || !o->out)
        return xai_app_usage_error(&o->app, "evaluate needs --model, one --bold, --truth REGION.nii.gz and -o "
                                            "SCORES.tsv");
    if (o->nlabels || o->nevents > 1)
        return xai_app_usage_error(&o->app, "evaluate takes at most one --events (no --labels)");
    if (xai_metric_parse_list(o->metrics ? o->metrics : "localisation,complexity", set) != XAI_OK)
        return xai_app_usage_error(&o->app, "--metrics: %s", xai_last_error());
    return xai_app_check_output(&o->app, o->out) ? XAI_EXIT_USAGE : 0;
}

/* The region on the run's grid (same grid and affine; never resampled). */
static int load_truth(opts *o, const xai_fmri_run *run, uint8_t **truth)
{
    xai_nifti *img = NULL;
    *truth = malloc((size_t)xai_fmri_run_nv(run));
    if (!*truth)
        return xai_app_fail(&o->app, NULL, "out of memory");
    int rc = xai_nifti_open(o->truth, &img) != XAI_OK || xai_fmri_mask_from_file(img, o->truth, run, *truth) != XAI_OK
                 ? xai_app_fail(&o->app, NULL, "%s", xai_last_error())
                 : 0;
    xai_nifti_close(img);
    return rc;
}

/* Explain, score, write the table and print one line per metric. */
static int score(opts *o, const xai_model *m, const xai_fmri_record *rec, xai_fmri_run *run, const uint8_t *emask,
                 const uint8_t *truth, uint32_t set, const xai_explain_config *cfg, const xai_fmri_model_choice *c,
                 const char *sel)
{
    xai_fmri_maps mp;
    xai_eval_scores sc;
    xai_eval_config ec;
    int64_t n = 0;
    xai_eval_config_init(&ec);
    ec.seed = o->seed;
    xai_app_progress_begin(&o->app, "explain", run->nt);
    xai_status st = xai_fmri_explain_run(m, cfg, run, emask, rec->cls.n, 1, explain_progress, &o->app, &mp);
    xai_app_progress_end(&o->app);
    if (st != XAI_OK)
        return xai_app_fail(&o->app, c->path, "%s", xai_last_error());
    json_t *pj = provenance_json(o);
    json_object_set_new(pj, "Description", json_string("evaluation metrics of the run's relevance maps (labelled "
                                                       "volumes, or all without --events) against --truth"));
    json_object_set_new(pj, "Sources", json_pack("[ss]", o->bold[0], o->truth));
    json_object_set_new(pj, "Model", json_string(c->path));
    if (c->held_out >= 0)
        json_object_set_new(pj, "HeldOut", json_boolean(c->held_out));
    json_object_set_new(pj, "ModelSelection", json_string(sel));
    json_object_set_new(pj, "Method", json_string(xai_method_name(cfg->method)));
    char *common = json_dumps(pj, JSON_COMPACT);
    json_decref(pj);
    st = xai_fmri_evaluate(m, &ec, cfg, set, run, &mp, truth, &sc, &n);
    xai_evalout_method me = {xai_method_name(cfg->method), &sc};
    int rc = st != XAI_OK || !common || xai_evalout_tables(o->out, NULL, &me, 1, NULL, common) != XAI_OK
                 ? xai_app_fail(&o->app, NULL, "%s", xai_last_error())
                 : 0;
    for (int k = 0; rc == 0 && k < XAI_METRIC_COUNT; k++)
        if ((set & (1u << k)) && sc.score[k].computed)
            printf("%s\t%.4g\t[%.4g, %.4g]\t%lld volumes\n", xai_metric_name((xai_metric)k), sc.score[k].mean,
                   sc.score[k].ci_low, sc.score[k].ci_high, (long long)sc.score[k].n_finite);
    if (st == XAI_OK)
        xai_eval_scores_free(&sc);
    free(common);
    xai_fmri_maps_free(&mp);
    return rc;
}

int cmd_evaluate(opts *o)
{
    uint32_t mset = 0;
    int rc = check_args(o, &mset);
    if (rc)
        return rc;
    xai_model *set = NULL, *fold = NULL;
    if (xai_model_load_onnx(o->model, NULL, &set) != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    xai_fmri_model_choice c = {0};
    char sel[1024];
    rc = choose_model(o, set, o->model, o->bold[0], &c, &fold, sel, sizeof sel); /* out of fold after train --cv */
    const xai_model *m = fold ? fold : set;
    xai_fmri_record rec = {0};
    xai_fmri_run run = {0};
    xai_explain_config cfg;
    uint8_t *emask = NULL, *truth = NULL;
    if (rc == 0)
        rc = prepare(o, m, c.path, o->bold[0], o->nevents ? o->events[0] : NULL, 0, &rec, &run, &emask);
    if (rc == 0)
        rc = explain_config(o, &rec, xai_fmri_run_nv(&run), &cfg);
    if (rc == 0)
        rc = load_truth(o, &run, &truth);
    if (rc == 0)
        rc = score(o, m, &rec, &run, emask, truth, mset, &cfg, &c, sel);
    free(truth);
    free(emask);
    xai_fmri_run_free(&run);
    xai_fmri_record_free(&rec);
    xai_fmri_model_choice_free(&c);
    xai_model_free(fold);
    xai_model_free(set);
    return rc;
}
