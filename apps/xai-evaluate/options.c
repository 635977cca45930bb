/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * options.c - the command line of an xai-evaluate run: methods, perturbation and metric
 * settings, checked against each other once all are read. Usage errors exit 2.
 */
#include <float.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluate.h"

static const char *const composites[] = {"epsilon", "epsilon-plus", "epsilon-plus-flat", "epsilon-alpha2-beta1",
                                         "epsilon-alpha2-beta1-flat", "epsilon-gamma-box"};

static int parse_methods(const char *list, method_spec *ms, int *nm, char *err, size_t errlen)
{
    *nm = 0;
    const char *p = list;
    while (*p) {
        const char *q = strchr(p, ',');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        char tok[128];
        if (len == 0 || len >= sizeof tok) {
            snprintf(err, errlen, "--methods: empty or too long entry in '%s'", list);
            return -1;
        }
        memcpy(tok, p, len);
        tok[len] = '\0';
        if (*nm == MAX_METHODS) {
            snprintf(err, errlen, "--methods: at most %d methods", MAX_METHODS);
            return -1;
        }
        method_spec *m = &ms[(*nm)++];
        memset(m, 0, sizeof *m);
        char *colon = strchr(tok, ':');
        if (colon)
            *colon = '\0';
        if (xai_method_parse(tok, &m->method) != XAI_OK) {
            snprintf(err, errlen, "--methods: unknown method '%s' (lrp, gradient, gradient-x-input, smoothgrad, "
                     "integrated-gradients)", tok);
            return -1;
        }
        if (m->method == XAI_METHOD_LRP) {
            const char *comp = colon ? colon + 1 : "epsilon-plus-flat";
            int ok = 0;
            for (size_t i = 0; i < sizeof composites / sizeof *composites; i++)
                ok |= strcmp(comp, composites[i]) == 0;
            if (!ok) {
                snprintf(err, errlen, "--methods: unknown LRP composite '%s'", comp);
                return -1;
            }
            snprintf(m->composite, sizeof m->composite, "%s", comp);
            snprintf(m->label, sizeof m->label, "lrp:%s", comp);
        } else {
            if (colon) {
                snprintf(err, errlen, "--methods: '%s' takes no ':' option", tok);
                return -1;
            }
            snprintf(m->label, sizeof m->label, "%.*s", (int)sizeof m->label - 1, tok);
        }
        for (int i = 0; i < *nm - 1; i++)
            if (strcmp(ms[i].label, m->label) == 0) {
                snprintf(err, errlen, "--methods: '%.100s' given twice", m->label);
                return -1;
            }
        p = q ? q + 1 : p + len;
        if (q && !*p) {
            snprintf(err, errlen, "--methods: trailing comma in '%s'", list);
            return -1;
        }
    }
    if (*nm == 0) {
        snprintf(err, errlen, "--methods: no method given");
        return -1;
    }
    return 0;
}

/* "1,2" -> bit set of per-sample axes below ndim; 0 or -1. */
int eval_parse_axes(const char *s, int ndim, unsigned *bits)
{
    long ax[32];
    int n = ndim < 1 || ndim > 32 ? -1 : xai_app_parse_long_list(s, ',', 0, ndim - 1, ax, 32);
    if (n < 0)
        return -1;
    unsigned b = 0;
    while (n--)
        b |= 1u << ax[n];
    *bits = b;
    return 0;
}

enum { O_METHODS = 256, O_PATCH, O_STEPS, O_PERSTEP, O_ORDER, O_REPLACE, O_BASELINE, O_CLASS, O_SEED, O_BATCH,
       O_INIT, O_METRICS, O_TRUTH, O_ROAD_AXES, O_ROAD_NOISE, O_FC_RUNS, O_FC_FRACTION, O_INFID_RUNS,
       O_INFID_SIGMA, O_SENS_RUNS, O_SENS_RADIUS, O_LOC_ABS, O_SHARD, O_MERGE, O_SLURM,
       O_SLURM_ARGS, O_MAX_PAR, O_DRY_RUN, O_WAIT, O_WAIT_TIMEOUT };

static int parse_order(const char *arg, eval_opts *o)
{
    if (strcmp(arg, "morf") == 0 || strcmp(arg, "lerf") == 0) {
        o->do_morf = arg[0] == 'm';
        o->do_lerf = !o->do_morf;
    } else if (strcmp(arg, "morf,lerf") == 0 || strcmp(arg, "lerf,morf") == 0) {
        o->do_morf = o->do_lerf = 1;
    } else {
        return xai_app_usage_error(&app, "--order must be morf, lerf or morf,lerf");
    }
    return 0;
}

static int parse_seed(const char *arg, uint64_t *seed)
{
    return xai_app_parse_u64(arg, seed) ? xai_app_usage_error(&app, "--seed needs a non-negative integer") : 0;
}

/* the perturbation and explanation options; 0, a usage exit code, or -1 when not one of them */
static int perturb_option(eval_opts *o, int c, const char *arg)
{
    long v;
    switch (c) {
    case O_METHODS: o->methods = arg; return 0;
    case O_PATCH:
        if (xai_perturb_patch_parse(arg, &o->pc) != XAI_OK)
            return xai_app_usage_error(&app, "--patch: %s", xai_last_error());
        return 0;
    case O_STEPS:
        return xai_app_parse_long(arg, 1, 1000000, &o->steps)
                   ? xai_app_usage_error(&app, "--steps needs an integer in 1..1000000") : 0;
    case O_PERSTEP:
        if (xai_app_parse_long(arg, 1, 1L << 30, &v))
            return xai_app_usage_error(&app, "--per-step needs a positive integer");
        o->pc.per_step = v;
        return 0;
    case O_ORDER: return parse_order(arg, o);
    case O_REPLACE:
        return xai_replace_parse(arg, &o->pc.replace) != XAI_OK
                   ? xai_app_usage_error(&app, "--replace must be baseline, uniform or mean") : 0;
    case O_BASELINE:
        return xai_app_parse_float(arg, -FLT_MAX, FLT_MAX, &o->pc.baseline)
                   ? xai_app_usage_error(&app, "--baseline needs a finite number") : 0;
    case O_CLASS:
        if (strcmp(arg, "pred") == 0)
            v = -1;
        else if (xai_app_parse_long(arg, 0, 1000000, &v))
            return xai_app_usage_error(&app, "--class needs a class index >= 0 or 'pred'");
        o->target = (int)v;
        return 0;
    case O_SEED: return parse_seed(arg, &o->pc.seed);
    case O_BATCH:
        if (xai_app_parse_long(arg, 1, 64, &v))
            return xai_app_usage_error(&app, "--batch needs an integer in 1..64");
        o->pc.batch = v;
        return 0;
    case O_INIT:
        if (strcmp(arg, "logit") && strcmp(arg, "onehot"))
            return xai_app_usage_error(&app, "--init must be logit or onehot");
        o->init_logit = strcmp(arg, "logit") == 0;
        return 0;
    }
    return -1;
}

/* --fc-runs, --infid-runs, --sens-runs */
static int runs_option(metrics_opts *mo, int c, const char *arg)
{
    const char *name = c == O_FC_RUNS ? "--fc-runs" : c == O_INFID_RUNS ? "--infid-runs" : "--sens-runs";
    int lo = c == O_FC_RUNS ? 2 : 1;
    long v;
    if (xai_app_parse_long(arg, lo, 100000, &v))
        return xai_app_usage_error(&app, "%s needs an integer in %d..100000", name, lo);
    *(c == O_FC_RUNS ? &mo->ec.fc_runs : c == O_INFID_RUNS ? &mo->ec.infid_runs : &mo->ec.sens_runs) = (int)v;
    return 0;
}

/* --road-noise (>= 0), --fc-fraction (in (0, 1]), --infid-sigma, --sens-radius (> 0) */
static int real_option(eval_opts *o, int c, const char *arg)
{
    const char *name = c == O_ROAD_NOISE ? "--road-noise" : c == O_FC_FRACTION ? "--fc-fraction"
                       : c == O_INFID_SIGMA ? "--infid-sigma" : "--sens-radius";
    const char *range = c == O_ROAD_NOISE ? ">= 0" : c == O_FC_FRACTION ? "in (0, 1]" : "> 0";
    double d;
    if (c == O_ROAD_NOISE)
        return xai_app_parse_float(arg, 0, FLT_MAX, &o->pc.road_noise)
                   ? xai_app_usage_error(&app, "%s needs a number %s", name, range) : 0;
    if (xai_app_parse_double(arg, 0, c == O_FC_FRACTION ? 1 : HUGE_VAL, &d) || d == 0)
        return xai_app_usage_error(&app, "%s needs a number %s", name, range);
    *(c == O_FC_FRACTION ? &o->mo.ec.fc_fraction : c == O_INFID_SIGMA ? &o->mo.ec.infid_sigma
                                                                      : &o->mo.ec.sens_radius) = d;
    return 0;
}

/* the metric options; 0, a usage exit code, or -1 when not one of them */
static int metric_option(eval_opts *o, int c, const char *arg)
{
    switch (c) {
    case O_METRICS:
        return xai_metric_parse_list(arg, &o->mo.set) != XAI_OK
                   ? xai_app_usage_error(&app, "--metrics: %s", xai_last_error()) : 0;
    case O_TRUTH: o->mo.truth = arg; return 0;
    case O_ROAD_AXES: o->road_axes = arg; return 0;
    case O_LOC_ABS: o->mo.ec.loc_abs = 1; return 0;
    case O_FC_RUNS:
    case O_INFID_RUNS:
    case O_SENS_RUNS: return runs_option(&o->mo, c, arg);
    case O_ROAD_NOISE:
    case O_FC_FRACTION:
    case O_INFID_SIGMA:
    case O_SENS_RADIUS: return real_option(o, c, arg);
    }
    return -1;
}

/* the checks between options once all are read; 0 or a usage exit code */
static int check_options(eval_opts *o, int argc, char **argv)
{
    char msg[512];
    if (argc - optind != 2)
        return xai_app_usage_error(&app, "expected MODEL.onnx and X.npy");
    if (!o->outdir)
        return xai_app_usage_error(&app, "missing -o OUTDIR");
    if (parse_methods(o->methods, o->ms, &o->nm, msg, sizeof msg))
        return xai_app_usage_error(&app, "%s", msg);
    o->model_path = argv[optind];
    o->input_path = argv[optind + 1];
    if (!o->mo.set && (o->mo.truth || o->road_axes))
        return xai_app_usage_error(&app, "--truth and --road-axes need --metrics");
    for (int k = 0; k < XAI_METRIC_COUNT; k++)
        if (((o->mo.set >> k) & 1u) && xai_metric_needs_mask(k) && !o->mo.truth)
            return xai_app_usage_error(&app, "--metrics %s needs --truth MASK.npy", xai_metric_name(k));
    if (o->merge && o->use_slurm)
        return xai_app_usage_error(&app, "--slurm submits the --merge step itself");
    if (o->merge && o->shard_n > 0)
        return xai_app_usage_error(&app, "--merge joins the shards' results: give it without --shard");
    if (strlen(o->outdir) > 4096 - 32)
        return xai_app_usage_error(&app, "OUTDIR path too long");
    return 0;
}

/* --slurm and its options; 0 or a usage exit code */
static int slurm_option(eval_opts *o, int c, const char *arg)
{
    switch (c) {
    case O_SLURM: o->use_slurm = 1; return 0;
    case O_SLURM_ARGS: o->slurm.sbatch_args = arg; return 0;
    case O_DRY_RUN: o->slurm.dry_run = 1; return 0;
    case O_WAIT: o->slurm.wait = 1; return 0;
    case O_MAX_PAR:
        if (xai_app_parse_batch_limit(arg, 0, &o->slurm.max_parallel))
            return xai_app_usage_error(&app, "--max-parallel needs an integer in 1..100000");
        return 0;
    default:
        if (xai_app_parse_batch_limit(arg, 1, &o->slurm.wait_timeout_s))
            return xai_app_usage_error(&app, "--wait-timeout needs seconds in 1..2592000");
        return 0;
    }
}

/* one option; 0, -1 for exit 0 (help), an exit code, or XAI_APP_NOT_MINE */
static int eval_option(void *ctx, int c, char *arg)
{
    eval_opts *o = ctx;
    if (c == 'h')
        return eval_usage(stdout), -1;
    if (c == 'o') {
        o->outdir = arg;
        return 0;
    }
    if (c == O_SHARD)
        return xai_app_parse_shard(arg, &o->shard_k, &o->shard_n)
                   ? xai_app_usage_error(&app, "--shard needs K/N with 1 <= K <= N") : 0;
    if (c == O_MERGE)
        return o->merge = 1, 0;
    if (c >= O_SLURM)
        return slurm_option(o, c, arg);
    int rc = perturb_option(o, c, arg);
    if (rc < 0)
        rc = metric_option(o, c, arg);
    return rc < 0 ? XAI_APP_NOT_MINE : rc;
}

/* 0 to go on, -1 for exit 0 (help, version), else the exit code */
int eval_parse_args(int argc, char **argv, eval_opts *o)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},        {"methods", required_argument, 0, O_METHODS},
        {"patch", required_argument, 0, O_PATCH},     {"steps", required_argument, 0, O_STEPS},
        {"per-step", required_argument, 0, O_PERSTEP}, {"order", required_argument, 0, O_ORDER},
        {"replace", required_argument, 0, O_REPLACE}, {"baseline", required_argument, 0, O_BASELINE},
        {"class", required_argument, 0, O_CLASS},     {"seed", required_argument, 0, O_SEED},
        {"batch", required_argument, 0, O_BATCH},     {"init", required_argument, 0, O_INIT},
        {"metrics", required_argument, 0, O_METRICS}, {"truth", required_argument, 0, O_TRUTH},
        {"road-axes", required_argument, 0, O_ROAD_AXES}, {"road-noise", required_argument, 0, O_ROAD_NOISE},
        {"fc-runs", required_argument, 0, O_FC_RUNS}, {"fc-fraction", required_argument, 0, O_FC_FRACTION},
        {"infid-runs", required_argument, 0, O_INFID_RUNS}, {"infid-sigma", required_argument, 0, O_INFID_SIGMA},
        {"sens-runs", required_argument, 0, O_SENS_RUNS}, {"sens-radius", required_argument, 0, O_SENS_RADIUS},
        {"loc-abs", no_argument, 0, O_LOC_ABS},      {"shard", required_argument, 0, O_SHARD},
        {"merge", no_argument, 0, O_MERGE},          {"slurm", no_argument, 0, O_SLURM},
        {"slurm-args", required_argument, 0, O_SLURM_ARGS}, {"max-parallel", required_argument, 0, O_MAX_PAR},
        {"dry-run", no_argument, 0, O_DRY_RUN},      {"wait", no_argument, 0, O_WAIT},
        {"wait-timeout", required_argument, 0, O_WAIT_TIMEOUT},
        {"help", no_argument, 0, 'h'},                XAI_APP_LONG_OPTIONS,
        {0, 0, 0, 0}};
    int rc = xai_app_getopt(&app, argc, argv, ":o:fqvhV", opts, eval_option, o);
    return rc ? rc : check_options(o, argc, argv);
}
