/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * output.c - the outputs of an xai-evaluate run through the writers of xai/eval-write.h,
 * with the sidecar members (model SHA-256, sources, parameters, the program's provenance)
 * and the table of a verbose AOPC run on stderr.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluate.h"
#include "xai/eval-write.h"

/* The sidecar members of @p root plus the program's provenance, as JSON text (NULL when out
 * of memory); @p root is consumed. */
char *eval_with_provenance(json_t *root)
{
    if (!root)
        return NULL;
    json_object_set_new(root, "CommandLine", json_string(app.command_line ? app.command_line : ""));
    json_object_set_new(root, "Version", json_string(app.version ? app.version : ""));
    json_object_set_new(root, "DateTime", json_string(app.datetime));
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}

static json_t *label_array(const eval_opts *o)
{
    json_t *a = json_array();
    for (int i = 0; i < o->nm; i++)
        json_array_append_new(a, json_string(o->ms[i].label));
    return a;
}

static json_t *patch_array(const xai_perturb_config *pc)
{
    json_t *a = json_array();
    for (int d = 0; d < pc->patch_ndim; d++)
        json_array_append_new(a, json_integer(pc->patch[d]));
    return a;
}

static char *aopc_sidecar_json(const eval_opts *o, const char *sha)
{
    const xai_perturb_config *pc = &o->pc;
    return eval_with_provenance(json_pack(
        "{s:s, s:[s, s], s:s, s:{s:o, s:o, s:i, s:I, s:s, s:s, s:f, s:I, s:I, s:o, s:s}}",
        "ModelSHA256", sha, "Sources", o->model_path, o->input_path, "Method", "region perturbation (AOPC)",
        "Parameters", "methods", label_array(o), "patch", patch_array(pc), "steps", pc->steps, "per_step",
        (json_int_t)pc->per_step, "order", o->do_morf && o->do_lerf ? "morf,lerf" : o->do_morf ? "morf" : "lerf",
        "replace", xai_replace_name(pc->replace), "baseline", (double)pc->baseline, "seed", (json_int_t)pc->seed,
        "batch", (json_int_t)pc->batch, "class", o->target >= 0 ? json_integer(o->target) : json_string("pred"),
        "init", o->init_logit ? "logit" : "onehot"));
}

static char *metrics_sidecar_json(const eval_opts *o, const char *sha)
{
    const xai_eval_config *c = &o->mo.ec;
    json_t *metrics = json_array();
    for (int k = 0; k < XAI_METRIC_COUNT; k++)
        if ((o->mo.set >> k) & 1u)
            json_array_append_new(metrics, json_string(xai_metric_name(k)));
    return eval_with_provenance(json_pack(
        "{s:s, s:[s, s, s?], s:{s:o, s:o, s:o, s:i, s:I, s:s, s:f, s:I, s:I, s:f, s:i, s:f, s:i, s:f, s:i, s:b, "
        "s:b, s:I, s:o}}",
        "ModelSHA256", sha, "Sources", o->model_path, o->input_path, o->mo.truth, "Parameters", "methods",
        label_array(o), "metrics", metrics, "patch", patch_array(&c->perturb), "steps", c->perturb.steps, "per_step",
        (json_int_t)c->perturb.per_step, "replace", xai_replace_name(c->perturb.replace), "road_noise",
        (double)c->perturb.road_noise, "road_axes_mask", (json_int_t)c->perturb.road_axes, "seed",
        (json_int_t)c->seed, "fc_fraction", c->fc_fraction, "fc_runs", c->fc_runs, "infid_sigma", c->infid_sigma,
        "infid_runs", c->infid_runs, "sens_radius", c->sens_radius, "sens_runs", c->sens_runs, "loc_abs",
        c->loc_abs, "mprt_abs", c->mprt_abs, "batch", (json_int_t)c->perturb.batch, "class",
        o->target >= 0 ? json_integer(o->target) : json_string("pred")));
}

static void print_aopc(const eval_opts *o, const xai_aopc_sweep *s)
{
    const xai_perturb_result *r0 = &s->run[0].res;
    fprintf(stderr, "%-28s %-6s %10s %10s %10s  (n = %lld, L = %d, %lld patches, %lld per step, %s)\n", "method",
            "order", "AOPC", "CI low", "CI high", (long long)r0->n, o->pc.steps, (long long)r0->npatches,
            (long long)o->pc.per_step, xai_replace_name(o->pc.replace));
    for (int i = 0; i < s->nruns; i++)
        fprintf(stderr, "%-28s %-6s %10.5g %10.5g %10.5g\n", s->run[i].label,
                xai_perturb_order_name(s->run[i].order), s->run[i].res.aopc, s->run[i].res.ci_low,
                s->run[i].res.ci_high);
}

int eval_write_aopc(const eval_opts *o, const xai_aopc_sweep *sw, const char *sha)
{
    unsigned orders = (unsigned)o->do_morf | (unsigned)o->do_lerf << 1;
    char *json = aopc_sidecar_json(o, sha);
    int rc = 0;
    if (!json)
        rc = xai_app_fail(&app, o->outdir, "out of memory");
    else if (xai_app_mkdirs(&app, o->outdir) != 0)
        rc = 1;
    else if (xai_evalout_aopc(o->outdir, sw, &o->pc, orders, json) != XAI_OK)
        rc = xai_app_fail(&app, NULL, "%s", xai_last_error());
    if (!rc && app.verbosity > 0 && o->shard_n == 0) /* a shard's parts are not the result */
        print_aopc(o, sw);
    free(json);
    return rc;
}

int eval_write_metrics(const eval_opts *o, const xai_eval_scores *sc, const char *sha)
{
    xai_evalout_method om[MAX_METHODS];
    for (int i = 0; i < o->nm; i++)
        om[i] = (xai_evalout_method){o->ms[i].label, &sc[i]};
    char *json = metrics_sidecar_json(o, sha);
    int rc = 1;
    if (!json)
        xai_app_fail(&app, o->outdir, "out of memory");
    else if (xai_app_mkdirs(&app, o->outdir) == 0)
        rc = xai_evalout_write(o->outdir, om, o->nm, json) ? xai_app_fail(&app, NULL, "%s", xai_last_error()) : 0;
    free(json);
    return rc;
}

