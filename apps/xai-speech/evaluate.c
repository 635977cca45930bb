/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * evaluate.c - xai-speech evaluate: the explanation metrics of xai/eval.h on clips, with the
 * ground truth given as a time-frequency box in seconds (the file's time axis) and hertz, so
 * no hand-made mask in the model-input layout is needed. The maps are the ones `explain`
 * writes (same start, composite, root point and bounds), all from the model for new data, so perturbation
 * metrics test the model that made each map.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "speech-app.h"
#include "xai/eval-write.h"
#include "xai/eval.h"
#include "xai/relevance.h"

int speech_parse_truth(opts *o, const char *arg)
{
    double t[4];
    if (xai_app_parse_double_list(arg, ',', -HUGE_VAL, HUGE_VAL, t, 4) != 4 || !(t[0] < t[1]) || !(t[2] < t[3]) ||
        t[2] < 0)
        return xai_app_usage_error(&o->app, "--truth: invalid value '%s' (T0,T1,F0,F1: seconds on the file's time "
                                   "axis and hertz, T0 < T1, 0 <= F0 < F1)", arg), -1;
    memcpy(o->truth, t, sizeof t);
    o->have_truth = 1;
    return 1;
}

/* Masks of the truth box for every clip of @p s. */
static float *truth_masks(opts *o, const xai_speech_pre *pre, const xai_speech_study *s)
{
    const size_t per = (size_t)pre->rows * (size_t)pre->frames;
    float *m = malloc(sizeof(float) * per * (size_t)(s->d.n ? s->d.n : 1));
    for (int64_t k = 0; m && k < s->d.n; k++)
        if (xai_speech_box_mask(pre, s->start[k], o->truth[0], o->truth[1], o->truth[2], o->truth[3],
                                m + (size_t)k * per) != XAI_OK) {
            xai_app_fail(&o->app, o->files.path[s->file[k]], "--truth: %s", xai_last_error());
            free(m);
            return NULL;
        }
    if (!m)
        xai_app_fail(&o->app, NULL, "out of memory");
    return m;
}

/* OUT.tsv: one row per clip, named by its file and the predicted class, then the explained
 * class and each metric (the per-sample table of xai/eval-write.h); the summary on stdout. */
static int write_table(opts *o, const xai_speech_study *s, const xai_driver_explanation *e, const xai_eval_scores *sc,
                       const char *method)
{
    static const char *const names[] = {"file", "prediction"};
    static const char *const desc[] = {"the audio file of the clip", "the class the model predicts (index of its output)"};
    const char **v[2] = {malloc(sizeof(char *) * (size_t)(s->d.n + 1)), malloc(sizeof(char *) * (size_t)(s->d.n + 1))};
    char(*pred)[16] = malloc(sizeof *pred * (size_t)(s->d.n + 1));
    for (int64_t i = 0; v[0] && v[1] && pred && i < s->d.n; i++) {
        snprintf(pred[i], sizeof pred[i], "%d", e->pred[i]);
        v[0][i] = o->files.path[s->file[i]];
        v[1][i] = pred[i];
    }
    xai_evalout_ids ids = {2, names, (const char *const *const *)v, desc};
    xai_evalout_method me = {method, sc};
    xai_status st = v[0] && v[1] && pred ? xai_evalout_tables(NULL, o->output, &me, 1, &ids, NULL)
                                         : xai_error_set(XAI_ENOMEM, "out of memory");
    free(v[0]), free(v[1]), free(pred);
    if (st != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    for (int k = 0; k < XAI_METRIC_COUNT; k++)
        if (sc->score[k].computed)
            printf("%-20s %.4f [%.4f, %.4f] (%lld clips; %s is better)\n", xai_metric_name((xai_metric)k),
                   sc->score[k].mean, sc->score[k].ci_low, sc->score[k].ci_high, (long long)sc->score[k].n_finite,
                   xai_metric_direction((xai_metric)k) > 0 ? "higher" : "lower");
    return 0;
}

/* Explain the study and score the maps; 0 or an exit code. */
static int score(opts *o, const xai_driver_set *set, const xai_speech_pre *pre, const xai_speech_study *s,
                 xai_driver_explain_options *eo, uint32_t metrics)
{
    xai_driver_explanation e = {0};
    xai_eval_scores sc = {0};
    xai_explain_config ec;
    char *rules = NULL;
    float *mask = o->have_truth ? truth_masks(o, pre, s) : NULL, *box = NULL;
    size_t box_cap = 0;
    int rc = XAI_EXIT_DATA;
    eo->out_of_fold = 0; /* one model makes every map and answers every perturbation */
    if ((o->have_truth && !mask) || speech_root_bounds(o, pre, &s->d, &box, &box_cap, eo) != 0)
        goto out;
    if (xai_driver_explain(set, &s->d, eo, &e) != XAI_OK ||
        xai_driver_explain_config(xai_driver_set_model(set), eo, &ec, &rules) != XAI_OK) {
        xai_app_fail(&o->app, o->model, "%s", xai_last_error());
        goto out;
    }
    xai_eval_config cfg;
    xai_eval_config_init(&cfg);
    cfg.seed = o->dopt.seed;
    if (xai_eval_metrics(xai_driver_set_model(set), &cfg, &ec, metrics, s->d.n, s->d.x, e.rel, mask, e.target,
                         &sc) != XAI_OK) {
        xai_app_fail(&o->app, NULL, "%s", xai_last_error());
        goto out;
    }
    rc = write_table(o, s, &e, &sc, xai_method_name(eo->method)) == 0 ? 0 : XAI_EXIT_DATA;
out:
    xai_eval_scores_free(&sc);
    xai_driver_explanation_free(&e);
    free(rules);
    free(mask);
    free(box);
    return rc;
}

int run_evaluate(opts *o)
{
    if (!o->model || !o->output || o->files.n == 0)
        return xai_app_usage_error(&o->app, "evaluate: need --model, inputs and -o OUT.tsv");
    uint32_t metrics = 0;
    const char *list = o->metrics ? o->metrics : o->have_truth ? "localisation,complexity" : "complexity";
    if (xai_metric_parse_list(list, &metrics) != XAI_OK)
        return xai_app_usage_error(&o->app, "--metrics: %s", xai_last_error());
    for (int k = 0; k < XAI_METRIC_COUNT; k++)
        if ((metrics >> k & 1u) && xai_metric_needs_mask((xai_metric)k) && !o->have_truth)
            return xai_app_usage_error(&o->app, "--metrics %s needs --truth T0,T1,F0,F1", xai_metric_name((xai_metric)k));
    if (xai_app_check_output(&o->app, o->output) != 0)
        return XAI_EXIT_USAGE;
    xai_driver_set *set = NULL;
    xai_speech_pre pre;
    int rc = speech_load_model(o, &set, &pre);
    if (rc != 0)
        return rc;
    xai_driver_explain_options eo;
    const char *names[256];
    const int K = speech_class_names(set, names, 256);
    xai_speech_ctx ctx = {0};
    xai_speech_study s = {0};
    xai_speech_study_options so = {.classes = names, .nclasses = K};
    if ((rc = speech_explain_options(o, set, &pre, &eo)) != 0)
        goto out;
    if (((metrics >> XAI_METRIC_MAX_SENSITIVITY) & 1u || (metrics >> XAI_METRIC_AVG_SENSITIVITY) & 1u) &&
        o->root_q >= 0 && o->root_applies) {
        rc = xai_app_usage_error(&o->app, "--metrics max-/avg-sensitivity explain noisy copies of each clip, which "
                                 "have no band floor of their own here: add --root-point silence");
        goto out;
    }
    rc = XAI_EXIT_DATA;
    if ((o->labels && xai_speech_files_label(&o->files, o->labels, o->column) < 0) ||
        xai_speech_ctx_init(&ctx, &pre) != XAI_OK || xai_speech_study_load(&ctx, &o->files, &so, &s) != XAI_OK) {
        if (!o->labels || o->files.n > 0)
            xai_app_fail(&o->app, NULL, "%s", xai_last_error());
        goto out;
    }
    if (s.d.n > 0 && (rc = score(o, set, &pre, &s, &eo, metrics)) == 0)
        rc = s.nfailed ? XAI_EXIT_PARTIAL : XAI_EXIT_OK;
out:
    xai_speech_study_free(&s);
    xai_speech_ctx_free(&ctx);
    xai_driver_set_free(set);
    return rc;
}
