/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * summary.c - what a run of xai-explain reports: the --json summary (settings, per-sample
 * logits, class, relevance sums and the per-layer conservation check, timing, peak memory)
 * and the one-line account on stderr.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"

/* Peak resident memory of this program in MB (VmHWM: the image since exec, unlike getrusage(),
   which also counts the parent's image before exec); -1 where /proc is absent. */
static double peak_rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lf", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb < 0 ? -1 : kb / 1024.0;
}

/* JSON summary, written atomically through the shared app layer. */
int explain_write_json(json_t *root, const char *path)
{
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(9));
    if (!text)
        return -1;
    size_t len = strlen(text);
    char *buf = realloc(text, len + 2);
    if (!buf) {
        free(text);
        return -1;
    }
    buf[len] = '\n';
    buf[len + 1] = '\0';
    int rc = xai_app_write_atomic(&app, path, buf, len + 1);
    free(buf);
    return rc;
}

/* The settings of the explanation, as the JSON summary reports them. */
const char *explain_init_name(xai_init_mode m)
{
    static const char *const names[] = {[XAI_INIT_ONEHOT] = "onehot", [XAI_INIT_LOGIT] = "logit",
                                        [XAI_INIT_AUTO] = "auto", [XAI_INIT_LOGODDS] = "logodds",
                                        [XAI_INIT_CONTRAST] = "contrast"};
    return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : NULL;
}

static json_t *summary_parameters(const xai_explain_config *cfg)
{
    json_t *par = json_object();
    json_object_set_new(par, "epsilon", json_real(cfg->epsilon));
    json_object_set_new(par, "gamma", json_real(cfg->gamma));
    json_object_set_new(par, "bias_factor", json_real(cfg->bias_factor));
    json_object_set_new(par, "lstm_epsilon", json_real(cfg->lstm_epsilon));
    json_object_set_new(par, "init", json_string(explain_init_name(cfg->init)));
    if (cfg->have_bounds) {
        json_object_set_new(par, "low", json_real(cfg->low));
        json_object_set_new(par, "high", json_real(cfg->high));
    }
    return par;
}

/* Sample @p s: logits, class, the relevance at the start and the input, and each layer's
   relevance in and out (the conservation check) when they were asked for (--layers). */
static json_t *summary_sample(const xai_explain_config *cfg, const xai_explain_result *res, int64_t s)
{
    json_t *o = json_object(), *lg = json_array();
    for (int64_t k = 0; k < res->nclasses; k++)
        json_array_append_new(lg, json_real(res->logits[s * res->nclasses + k]));
    json_object_set_new(o, "logits", lg);
    json_object_set_new(o, "class", json_integer(res->target[s]));
    json_object_set_new(o, "relevance_init", json_real(res->init_sum[s]));
    json_object_set_new(o, "relevance_sum", json_real(res->rel_sum[s]));
    json_object_set_new(o, "initial_state_relevance", json_real(res->init_state_sum[s]));
    json_object_set_new(o, "conservation_residual",
                        json_real(res->init_sum[s] - res->rel_sum[s] - res->init_state_sum[s]));
    if (!cfg->layer_sums)
        return o;
    json_t *layers = json_array();
    for (int i = 0; i < res->nlayers; i++) {
        json_t *l = json_object();
        double ri = res->layer_in_sum[s * res->nlayers + i], ro = res->layer_out_sum[s * res->nlayers + i];
        json_object_set_new(l, "name", json_string(res->layer_name[i]));
        json_object_set_new(l, "op", json_string(res->layer_op[i]));
        json_object_set_new(l, "rule", json_string(cfg->method == XAI_METHOD_LRP ? res->layer_rule[i] : "gradient"));
        json_object_set_new(l, "relevance_out", json_real(ro));
        json_object_set_new(l, "relevance_in", json_real(ri));
        json_object_set_new(l, "residual", json_real(ro - ri));
        json_array_append_new(layers, l);
    }
    json_object_set_new(o, "layers", layers);
    return o;
}


/* The --json summary of one run. */
json_t *explain_summary_json(const run_files *f, const xai_explain_config *cfg, int64_t n,
                            const xai_explain_result *res)
{
    json_t *root = json_object(), *samples = json_array(), *tm = json_object();
    json_object_set_new(root, "model", json_string(f->model));
    json_object_set_new(root, "input", json_string(f->input));
    json_object_set_new(root, "output", json_string(f->out));
    json_object_set_new(root, "method", json_string(xai_method_name(cfg->method)));
    if (cfg->method == XAI_METHOD_LRP) {
        json_object_set_new(root, "composite", json_string(cfg->composite));
        json_object_set_new(root, "rules", json_string(cfg->rules ? cfg->rules : ""));
        json_object_set_new(root, "bn", json_string(cfg->bn == XAI_BN_FOLD ? "fold" : "pass"));
    }
    json_object_set_new(root, "parameters", summary_parameters(cfg));
    json_object_set_new(root, "n", json_integer(n));
    for (int64_t s = 0; s < n; s++)
        json_array_append_new(samples, summary_sample(cfg, res, s));
    json_object_set_new(root, "samples", samples);
    json_object_set_new(tm, "load", json_real(f->load.ms));
    json_object_set_new(tm, "plan", json_real(f->plan.ms));
    json_object_set_new(tm, "forward", json_real(res->forward_ms));
    json_object_set_new(tm, "explain", json_real(res->explain_ms));
    json_object_set_new(root, "timing_ms", tm);
    json_t *pf = json_object();
    json_object_set_new(pf, "load", json_integer(f->load.minflt));
    json_object_set_new(pf, "plan", json_integer(f->plan.minflt));
    json_object_set_new(pf, "explain", json_integer(f->run.minflt));
    json_object_set_new(root, "page_faults", pf);
    json_object_set_new(root, "peak_rss_mb", json_real(peak_rss_mb()));
    return root;
}

/* The one-line account of a run on stderr, and a warning for non-finite relevance. */
void explain_report_run(const run_files *f, const xai_explain_config *cfg, int64_t n, const xai_explain_result *res,
                        const float *rel, int64_t nin)
{
    int lrp = cfg->method == XAI_METHOD_LRP;
    int64_t nonfinite = 0;
    for (int64_t k = 0; k < n * nin; k++)
        nonfinite += !isfinite(rel[k]);
    fprintf(stderr, PROG ": explained %lld sample%s with %s%s%s in %.2f ms (forward %.2f ms; before it, loading %.2f ms, "
            "planning %.2f ms)", (long long)n, n == 1 ? "" : "s", xai_method_name(cfg->method), lrp ? "/" : "",
            lrp ? cfg->composite : "", res->explain_ms, res->forward_ms, f->load.ms, f->plan.ms);
    if (n == 1)
        fprintf(stderr, "; class %d, logit %.6g, relevance sum %.6g", res->target[0], res->logits[res->target[0]],
                res->rel_sum[0]);
    fprintf(stderr, "\n");
    if (nonfinite)
        fprintf(stderr, PROG ": warning: %lld relevance values are not finite\n", (long long)nonfinite);
}

