/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-explain - explain any ONNX model on a .npy input with LRP or a gradient baseline.
 * Thin program over libxai: load npy -> load model -> plan (workspaces and output, faulted in)
 * -> xai_explain() -> write npy (+ JSON).
 * Exit codes: 0 ok, 1 data or runtime error, 2 usage error (also an existing output without --force),
 * 3 some inputs of a batch failed.
 */
#include <float.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xai.h"
#include "xai/npy.h"
#include "app.h"
#include "explain-concepts.h"
#include "explain.h"

xai_app app;
/* --concepts of a single-input run (NULL: none) */
static const concept_spec *concept_request;
/* --box-low, --box-high of a single-input run (NULL: none) */
static const char *box_path[2];

static int fail(const char *file, const char *msg)
{
    return xai_app_fail(&app, file, "%s", msg);
}

static int usage_error(const char *msg)
{
    return xai_app_usage_error(&app, "%s", msg);
}

/* The difference b - a of two stamps: a phase's time and the pages it first touched. */
static xai_app_stamp phase(xai_app_stamp a, xai_app_stamp b)
{
    return (xai_app_stamp){b.ms - a.ms, b.minflt - a.minflt};
}

/* Explain the n samples of @p x with @p m into @p rel (planned) and write the map, the summary
   and the concepts. 0 or 1. */
static int explain_loaded(run_files *f, const char *json, xai_explain_config *cfg, int quiet, const xai_npy *x,
                          const xai_model *m, int64_t n, float *rel)
{
    int md;
    xai_model_input_shape(m, &md);
    int64_t nin = xai_model_input_numel(m);
    xai_explain_result res;
    xai_app_stamp t0 = xai_app_stamp_now();
    if (xai_explain(m, cfg, n, x->data, rel, &res) != XAI_OK)
        return fail(f->model, xai_last_error());
    f->run = phase(t0, xai_app_stamp_now());
    json_t *root = json ? explain_summary_json(f, cfg, n, &res) : NULL;
    int rc = 0;
    if (xai_npy_save(f->out, x->ndim, x->shape, rel) != XAI_OK) {
        rc = fail(f->out, xai_last_error());
    } else if (root && explain_write_json(root, json) != 0) {
        rc = 1; /* the shared layer printed the reason */
        unlink(f->out);
    } else if (concept_request) {
        int stacked = !(n == 1 && x->ndim == md);
        rc = concepts_run(&app, m, cfg, concept_request, n, x->data, x->ndim, x->shape, stacked, f->out);
    }
    if (rc == 0 && !quiet)
        explain_report_run(f, cfg, n, &res, rel, nin);
    json_decref(root);
    xai_explain_result_free(&res);
    return rc;
}

/* --box-low/--box-high into @p box, shaped exactly like x, and into cfg. @return 0 or 1 (printed). */
static int load_boxes(const xai_npy *x, xai_npy box[2], xai_explain_config *cfg)
{
    for (int i = 0; i < 2 && box_path[0]; i++) {
        char a[256], b[256];
        if (xai_npy_load(box_path[i], &box[i]) != XAI_OK)
            return fail(box_path[i], xai_last_error());
        if (box[i].ndim != x->ndim || memcmp(box[i].shape, x->shape, sizeof(int64_t) * (size_t)x->ndim) != 0)
            return xai_app_fail(&app, box_path[i], "shape %s differs from the input's %s (the bounds are per element)",
                                xai_shape_str(box[i].ndim, box[i].shape, a, sizeof a),
                                xai_shape_str(x->ndim, x->shape, b, sizeof b));
    }
    cfg->box_low = box_path[0] ? box[0].data : NULL;
    cfg->box_high = box_path[0] ? box[1].data : NULL;
    return 0;
}

/* Everything an explanation of x's samples writes to, made before it runs: the model's
   workspaces for this many samples (xai_model_prepare) and the relevance output, both faulted
   in now (timing_ms.plan), so that the explanation allocates nothing and touches no new page.
   The output stays with @p k for the next input. The samples in *n. @return 0 or 1 (printed). */
static int plan_run(const run_files *f, explain_kept *k, const xai_npy *x, xai_explain_config *cfg, int64_t *n)
{
    int md;
    const int64_t *ms = xai_model_input_shape(k->m, &md);
    *n = xai_model_samples(k->m, x->ndim, x->shape);
    if (*n < 1) {
        char a[256], b[256];
        return xai_app_fail(&app, f->input, "shape %s does not match the model input %s (or N x that)",
                            xai_shape_str(x->ndim, x->shape, a, sizeof a), xai_shape_str(md, ms, b, sizeof b));
    }
    size_t bytes = sizeof(float) * (size_t)(*n * xai_model_input_numel(k->m));
    if (bytes > k->rel_bytes) {
        free(k->rel);
        k->rel_bytes = 0;
        if (!(k->rel = malloc(bytes)))
            return fail(f->input, "out of memory");
        k->rel_bytes = bytes;
        xai_app_fault_in(k->rel, bytes);
    }
    /* the workspaces last: what the explanation reads first is then the most recently touched */
    if (xai_model_prepare(k->m, *n, cfg) != XAI_OK)
        return fail(f->model, xai_last_error());
    return 0;
}

/* The model in @p k loaded for inputs shaped like x: kept when the last input had x's shape
   (its plan and output are reused), else loaded anew. @return 0 or 1 (printed). */
static int load_for(const char *model_path, const xai_npy *x, explain_kept *k)
{
    int fits = x->ndim <= XAI_MAX_DIMS; /* else the loader says what is wrong */
    if (k->m && fits && k->ndim == x->ndim && memcmp(k->shape, x->shape, sizeof(int64_t) * (size_t)x->ndim) == 0)
        return 0;
    xai_model_free(k->m);
    k->m = NULL;
    if (xai_model_load_for_input(model_path, x->ndim, x->shape, &k->m) != XAI_OK)
        return fail(model_path, xai_last_error());
    k->ndim = fits ? x->ndim : -1;
    if (fits)
        memcpy(k->shape, x->shape, sizeof(int64_t) * (size_t)x->ndim);
    return 0;
}

void explain_kept_free(explain_kept *k)
{
    xai_model_free(k->m);
    free(k->rel);
    memset(k, 0, sizeof *k);
}

/* Explains one input file into @p out (and the JSON summary when @p json) with the model kept in
   @p k: the whole of a single-input run, and one item of a batch. @return 0, or 1 (printed). */
int explain_one(const char *model_path, const char *input_path, const char *out, const char *json,
                xai_explain_config cfg, int quiet, explain_kept *k)
{
    xai_npy x, box[2];
    memset(&x, 0, sizeof x);
    memset(box, 0, sizeof box);
    if (xai_npy_load(input_path, &x) != XAI_OK)
        return fail(input_path, xai_last_error());
    run_files f = {.model = model_path, .input = input_path, .out = out};
    cfg.layer_sums = cfg.layer_sums && json; /* only the JSON summary reports them (--layers) */
    xai_app_stamp t0 = xai_app_stamp_now();
    int64_t n = 0;
    int rc = load_boxes(&x, box, &cfg);
    rc = rc ? rc : load_for(model_path, &x, k);
    xai_app_stamp t1 = xai_app_stamp_now();
    rc = rc ? rc : plan_run(&f, k, &x, &cfg, &n);
    f.load = phase(t0, t1);
    f.plan = phase(t1, xai_app_stamp_now());
    rc = rc ? rc : explain_loaded(&f, json, &cfg, quiet, &x, k->m, n, k->rel);
    xai_npy_free(&x);
    xai_npy_free(&box[0]);
    xai_npy_free(&box[1]);
    return rc;
}

/* Everything the command line sets. */
typedef struct {
    xai_explain_config cfg;
    const char *out, *json, *concepts_arg;
    int quiet, have_low, have_high;
    char rules[4096];
    explain_batch batch;
} explain_opts;

enum { O_METHOD = 256, O_COMPOSITE, O_EPS, O_GAMMA, O_LOW, O_HIGH, O_RULE, O_BN, O_CLASS, O_INIT, O_BF, O_LEPS,
       O_JSON, O_BATCH, O_THREADS, O_CONCEPTS, O_LAYERS, O_BOX_LOW, O_BOX_HIGH };

/* a float option >= 0 (any sign when @p any_sign) */
static int float_option(const char *arg, float *out, int any_sign, const char *err)
{
    return xai_app_parse_float(arg, any_sign ? -FLT_MAX : 0, FLT_MAX, out) ? usage_error(err) : 0;
}

/* an integer option within [lo, hi] */
static int long_option(const char *arg, long lo, long hi, long *out, const char *err)
{
    return xai_app_parse_long(arg, lo, hi, out) ? usage_error(err) : 0;
}

static int rule_option(explain_opts *o, const char *arg)
{
    if (xai_rules_check(arg))
        return xai_app_usage_error(&app, "--rule: %s", xai_last_error());
    if (strlen(o->rules) + strlen(arg) + 2 >= sizeof o->rules)
        return usage_error("--rule: too many overrides");
    if (o->rules[0])
        strcat(o->rules, ";");
    strcat(o->rules, arg);
    return 0;
}

/* --bn, --class, --init: named values */
static int choice_option(xai_explain_config *cfg, int c, const char *arg)
{
    long k = -1;
    switch (c) {
    case O_BN:
        if (strcmp(arg, "fold") && strcmp(arg, "pass"))
            return usage_error("--bn must be fold or pass");
        cfg->bn = strcmp(arg, "fold") == 0 ? XAI_BN_FOLD : XAI_BN_PASS;
        return 0;
    case O_CLASS:
        if (strcmp(arg, "pred") == 0)
            k = -1;
        else if (long_option(arg, 0, 1000000, &k, "--class needs a class index >= 0 or 'pred'"))
            return XAI_EXIT_USAGE;
        cfg->target = (int)k;
        return 0;
    case O_INIT:
        for (int m = 0; explain_init_name((xai_init_mode)m); m++)
            if (strcmp(arg, explain_init_name((xai_init_mode)m)) == 0) {
                cfg->init = (xai_init_mode)m;
                return 0;
            }
        return usage_error("--init must be auto, onehot, logit, logodds or contrast");
    }
    return -1;
}

/* the explanation's numbers and method; 0, a usage exit code, or -1 when not one of them */
static int method_option(explain_opts *o, int c, const char *arg)
{
    xai_explain_config *cfg = &o->cfg;
    long v = 0;
    switch (c) {
    case O_METHOD: return xai_method_parse(arg, &cfg->method) ? usage_error(xai_last_error()) : 0;
    case O_COMPOSITE:
        if (xai_composite_check(arg))
            return usage_error(xai_last_error());
        cfg->composite = arg;
        return 0;
    case O_EPS: return float_option(arg, &cfg->epsilon, 0, "--epsilon needs a number >= 0");
    case O_GAMMA: return float_option(arg, &cfg->gamma, 0, "--gamma needs a number >= 0");
    case O_BF: return float_option(arg, &cfg->bias_factor, 0, "--bias-factor needs a number >= 0");
    case O_LEPS: return float_option(arg, &cfg->lstm_epsilon, 0, "--lstm-epsilon needs a number >= 0");
    case O_LOW: o->have_low = 1; return float_option(arg, &cfg->low, 1, "--low needs a number");
    case O_HIGH: o->have_high = 1; return float_option(arg, &cfg->high, 1, "--high needs a number");
    case O_BOX_LOW: box_path[0] = arg; return 0;
    case O_BOX_HIGH: box_path[1] = arg; return 0;
    case O_RULE: return rule_option(o, arg);
    case O_BATCH:
        if (long_option(arg, 1, 64, &v, "--batch needs an integer in 1..64"))
            return XAI_EXIT_USAGE;
        cfg->batch = v;
        return 0;
    case O_THREADS:
        if (long_option(arg, 1, 1024, &v, "--nthreads needs a positive integer"))
            return XAI_EXIT_USAGE;
        xai_set_num_threads((int)v);
        return 0;
    }
    return choice_option(cfg, c, arg);
}

/* one option; 0, -1 to stop with exit 0 (help, version), or a usage exit code */
static int explain_option(explain_opts *o, int c, char *arg, char **argv)
{
    switch (c) {
    case 'o': o->out = arg; return 0;
    case 'q': o->quiet = 1; return 0;
    case 'f': app.force = 1; return 0;
    case 'h': explain_usage(stdout); return -1;
    case 'V': printf(PROG " (libxai) 0.1.0\n"); return -1;
    case O_JSON: o->json = arg; return 0;
    case O_LAYERS: o->cfg.layer_sums = 1; return 0;
    case O_CONCEPTS: o->concepts_arg = arg; return 0;
    case O_SHARD: case O_LIST: case O_SLURM: case O_SLURM_ARGS: case O_MAX_PAR: case O_DRY_RUN:
    case O_WAIT: case O_WAIT_TIMEOUT:
        if (batch_option(&o->batch, c, arg) != 0)
            return xai_app_usage_error(&app, "%s: bad value '%s'", argv[optind - 1], arg ? arg : "");
        return 0;
    case ':': return xai_app_usage_error(&app, "option '%s' needs a value", argv[optind - 1]);
    }
    int rc = method_option(o, c, arg);
    return rc >= 0 ? rc : xai_app_usage_error(&app, "unknown option '%s'", argv[optind - 1]);
}

/* the checks once every option is read; 0 or a usage exit code */
static int check_options(explain_opts *o, int argc)
{
    static concept_spec cspec;
    explain_batch *b = &o->batch;
    b->active = argc - optind > 2 || b->list || (o->out && *o->out && o->out[strlen(o->out) - 1] == '/');
    if (!b->active && argc - optind != 2)
        return usage_error("expected MODEL.onnx and INPUT.npy");
    if (!o->out)
        return usage_error("missing -o OUT.npy");
    if (o->cfg.layer_sums && !o->json)
        return usage_error("--layers adds to the --json summary; give --json too");
    if (o->have_low != o->have_high)
        return usage_error("--low and --high go together");
    o->cfg.have_bounds = o->have_low;
    if (o->have_low && !(o->cfg.low < o->cfg.high))
        return usage_error("--low must be below --high");
    if (!box_path[0] != !box_path[1])
        return usage_error("--box-low and --box-high go together");
    if (box_path[0] && (o->have_low || b->active))
        return usage_error("--box-low/--box-high take one input and replace --low/--high");
    if (o->rules[0])
        o->cfg.rules = o->rules;
    if (!o->concepts_arg)
        return 0;
    char msg[256];
    if (concepts_parse(o->concepts_arg, &cspec, msg, sizeof msg))
        return usage_error(msg);
    if (o->cfg.method != XAI_METHOD_LRP)
        return usage_error("--concepts needs --method lrp");
    if (b->active)
        return usage_error("--concepts takes one input");
    concept_request = &cspec;
    return 0;
}

/* 0 to go on, -1 for exit 0 (help, version), else the exit code */
static int parse_args(int argc, char **argv, explain_opts *o)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},     {"method", required_argument, 0, O_METHOD},
        {"composite", required_argument, 0, O_COMPOSITE}, {"epsilon", required_argument, 0, O_EPS},
        {"gamma", required_argument, 0, O_GAMMA},  {"low", required_argument, 0, O_LOW},
        {"high", required_argument, 0, O_HIGH},    {"rule", required_argument, 0, O_RULE},
        {"box-low", required_argument, 0, O_BOX_LOW}, {"box-high", required_argument, 0, O_BOX_HIGH},
        {"bn", required_argument, 0, O_BN},        {"class", required_argument, 0, O_CLASS},
        {"init", required_argument, 0, O_INIT},    {"bias-factor", required_argument, 0, O_BF},
        {"lstm-epsilon", required_argument, 0, O_LEPS}, {"json", required_argument, 0, O_JSON},
        {"layers", no_argument, 0, O_LAYERS},
        {"batch", required_argument, 0, O_BATCH},  {"nthreads", required_argument, 0, O_THREADS},
        {"quiet", no_argument, 0, 'q'},            {"help", no_argument, 0, 'h'},
        {"concepts", required_argument, 0, O_CONCEPTS}, {"force", no_argument, 0, 'f'},
        {"version", no_argument, 0, 'V'},          EXPLAIN_BATCH_OPTIONS, {0, 0, 0, 0}};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:qfhV", opts, NULL)) != -1) {
        int rc = explain_option(o, c, optarg, argv);
        if (rc)
            return rc;
    }
    return check_options(o, argc);
}

int main(int argc, char **argv)
{
    static explain_opts o;
    xai_app_init(&app, PROG, "0.1.0", argc, argv);
    xai_app_install_signal_handlers();
    xai_explain_config_init(&o.cfg);
    /* the per-layer sums cost a pass over every activation inside the explanation: only on request */
    o.cfg.layer_sums = 0;
    /* getopt_long moves the operands after the options but keeps each option next to its
       value, so the permuted argv is still an equivalent command line for the array tasks */
    o.batch = (explain_batch){.shard_k = 1, .shard_n = 1, .argv = argv};
    int rc = parse_args(argc, argv, &o);
    if (rc) {
        xai_app_free(&app);
        return rc < 0 ? XAI_EXIT_OK : rc;
    }
    explain_batch *b = &o.batch;
    /* the suite's one rule: an existing output is kept unless --force, and refusing is a usage error */
    if (!b->active && (xai_app_check_output(&app, o.out) != 0 || (o.json && xai_app_check_output(&app, o.json) != 0)))
        rc = XAI_EXIT_USAGE;
    else if (b->active) {
        b->model = argv[optind];
        b->inputs = argv + optind + 1;
        b->ninputs = argc - optind - 1;
        b->outdir = o.out;
        rc = o.json ? usage_error("--json takes one input; the batch form writes OUTDIR/NAME.npy per input")
                    : run_batch(b, o.cfg, o.quiet);
    } else if (b->shard_n > 1 || b->slurm) {
        rc = usage_error("--shard and --slurm need the batch form (several inputs, --list, or -o OUTDIR/)");
    } else {
        explain_kept k = {0};
        rc = explain_one(argv[optind], argv[optind + 1], o.out, o.json, o.cfg, o.quiet, &k);
        explain_kept_free(&k);
    }
    xai_app_free(&app);
    return rc;
}
