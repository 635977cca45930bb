/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-explain - explain any ONNX model on a .npy input with LRP or a gradient baseline.
 * Thin program over libxai: load npy -> load model -> xai_explain() -> write npy (+ JSON).
 * Exit codes: 0 ok, 1 data or runtime error, 2 usage error (also an existing output without --force),
 * 3 some inputs of a batch failed.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xai.h"
#include "xai/npy.h"
#include "app.h"
#include "concepts.h"
#include "explain.h"

static void usage(FILE *f)
{
    fprintf(f,
"SYNOPSIS\n"
"  " PROG " MODEL.onnx INPUT.npy -o OUT.npy [options]\n"
"  " PROG " MODEL.onnx IN1.npy IN2.npy ... [--list FILE] -o OUTDIR/ [--shard K/N] [--slurm ...]\n"
"\n"
"Explains what an ONNX model (CNN or MLP; opsets 11-18) saw in INPUT.npy, writing a relevance\n"
"map OUT.npy with INPUT's shape. INPUT is float32 or float64, C order, shaped exactly like the\n"
"model input, or with one extra leading dimension N (a stack of N inputs, explained in batches).\n"
"\n"
"METHOD\n"
"  --method M          lrp | gradient | gradient-x-input | smoothgrad | integrated-gradients [lrp]\n"
"  --composite NAME    epsilon | epsilon-plus | epsilon-plus-flat | epsilon-alpha2-beta1 |\n"
"                      epsilon-alpha2-beta1-flat | epsilon-gamma-box [epsilon-plus-flat]\n"
"  --epsilon E         epsilon of the Epsilon rule [1e-6]\n"
"  --gamma G           gamma of the Gamma rule [0.25]\n"
"  --low L --high H    ZBox bounds for the first Conv [each sample's own min and max]\n"
"  --rule SPEC         per-layer override, repeatable: SELECTOR=RULE[; ...]\n"
"                      SELECTOR: first | all | layer K | node:NAME | Conv | Dense | Gemm | MatMul\n"
"                      RULE: epsilon(E) zplus alphabeta(A,B) gamma(G) zbox(L,H) flat wsquare\n"
"                            pass norm gradient   (first match wins, before the composite)\n"
"  --bn fold|pass      BatchNorm after Conv/Dense: fold into the layer, or pass relevance [fold]\n"
"  --bias-factor B     share of the bias (plus stabilizer) given back to the inputs by the\n"
"                      Epsilon rule, Arras et al. (B=1 conserves exactly) [0]\n"
"  --lstm-epsilon E    epsilon of the LSTM linear rule [1e-3]\n"
"\n"
"TARGET\n"
"  --class K|pred      class to explain; pred = the argmax of the logits [pred]\n"
"  --init auto|onehot|logit  output relevance: 1 at the class (Zennit), or the class logit\n"
"                      (Arras et al.); auto = logit for models with an LSTM, else onehot [auto]\n"
"\n"
"OUTPUT\n"
"  -o, --output OUT.npy   relevance, float32, INPUT's shape (written atomically)\n"
"  --json SUMMARY.json    per sample: logits, class, relevance sum, per-layer sums and\n"
"                         conservation residuals; timing_ms {load, forward, explain}\n"
"                         (load includes planning and faulting in the workspaces);\n"
"                         peak_rss_mb (peak resident memory so far)\n"
"  --batch B              samples per sweep [64]\n"
"  --nthreads T           threads of libxai's pool (OpenBLAS then runs single-threaded inside them)\n"
"                         [none: OpenBLAS's own threading]\n"
"  -f, --force            overwrite existing outputs (default: refuse, exit 2)\n"
"  --concepts LAYER[:top=K|:channels=a,b,...]\n"
"                         concept relevance (CRP, LRP only, one input): LAYER is a node (or\n"
"                         activation) name, its channels the concepts (Conv filters, Dense\n"
"                         units, LSTM hidden units). Writes OUT.concepts.npy, one map per\n"
"                         concept ([N,] concepts, input shape; they sum to the map when all\n"
"                         channels are listed), OUT.concepts.tsv (relevance of each mapped\n"
"                         concept at LAYER and its share of the layer's total) and its sidecar.\n"
"                         top=K: the K channels of largest relevance summed over the stack [8]\n");
    fprintf(f,
"  -q, --quiet            no summary on stderr\n"
"  -h, --help             this text\n"
"  -V, --version          version\n"
"\n"
"BATCH (several inputs, --list, or -o ending in '/')\n"
"  Writes OUTDIR/NAME.npy per input (NAME: its file name without .npy) and a status file per\n"
"  input under OUTDIR/.xai-status; a rerun skips inputs done with the same input and model\n"
"  (SHA-256) and redoes the rest. --json is for one input only.\n"
"  --list FILE            more inputs, one path a line ('#' comments)\n"
"  --shard K/N            only shard K of N: subjects (BIDS sub- label, else NAME) in byte\n"
"                         order, the j-th to shard j mod N + 1; outputs match a one-shard run\n"
"  --slurm                write OUTDIR/slurm/xai-explain-array.sbatch (one array task per shard\n"
"                         with unfinished items, logs in OUTDIR/slurm/logs) and submit it;\n"
"                         N from --shard K/N (K ignored) [1]. Needs a shared filesystem.\n"
"  --slurm-args \"ARGS\"   passed to sbatch (e.g. \"-p short --time 10\")\n"
"  --max-parallel M       at most M array tasks at once (%%M)\n"
"  --dry-run              print the script and the sbatch command; submit nothing\n"
"  --wait                 wait for the array (polls squeue; no sacct needed), then name each\n"
"                         input that failed (with its exit code) or did not finish\n"
"  --wait-timeout S       give up waiting after S seconds (exit 1) [86400]\n");
    fprintf(f,
"\n"
"EXAMPLES\n"
"  " PROG " model.onnx epochs.npy -o relevance.npy --json summary.json\n"
"  " PROG " model.onnx x.npy -o r.npy --composite epsilon-gamma-box --low -3 --high 3\n"
"  " PROG " model.onnx x.npy -o r.npy --rule 'layer 0=zbox(-3,3); Conv=gamma(0.1)' --class 1\n"
"  " PROG " model.onnx x.npy -o g.npy --method integrated-gradients\n"
"  " PROG " model.onnx x.npy -o r.npy --concepts conv1:top=4\n"
"\n"
"EXIT STATUS\n"
"  0 success, 1 data or runtime error, 2 usage error (also: an output exists, no --force),\n"
"  3 some inputs of a batch failed.\n"
"\n"
"REFERENCES\n"
"  Bach et al. 2015, PLoS ONE 10(7):e0130140 (LRP).  Montavon et al. 2017, Pattern Recognit.\n"
"  65:211 (deep Taylor, z+, zB).  Montavon et al. 2019, LNCS 11700 (LRP overview, gamma).\n"
"  Kohlbrenner et al. 2020, IJCNN (composites).  Arras et al. 2017, WASSA (LSTM, bias factor).\n"
"  Achtibat et al. 2023, Nat. Mach. Intell. 5:1006 (concept relevance, CRP).\n"
"  Smilkov et al. 2017 (SmoothGrad).  Sundararajan et al. 2017, ICML (Integrated Gradients).\n");
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

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

static int parse_float(const char *s, float *out)
{
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (e == s || *e || errno || !isfinite(v))
        return -1;
    *out = (float)v;
    return 0;
}

xai_app app;
/* --concepts of a single-input run (NULL: none) */
static const concept_spec *concept_request;

static int fail(const char *file, const char *msg)
{
    return xai_app_fail(&app, file, "%s", msg);
}

static int usage_error(const char *msg)
{
    return xai_app_usage_error(&app, "%s", msg);
}

/* JSON summary, written atomically through the shared app layer. */
static int write_json(json_t *root, const char *path)
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

/* The model, with symbolic dimensions (e.g. time) taken from the input when the file has
   them: first as one sample of the input's shape, then as a stack of samples. NULL with the
   reason printed. */
static xai_model *load_model_for(const char *model_path, const xai_npy *x)
{
    xai_model *m = NULL;
    xai_status lst = xai_model_load_onnx(model_path, NULL, &m);
    if (lst == XAI_EUNSUPPORTED && strstr(xai_last_error(), "symbolic")) {
        char first_err[1024];
        snprintf(first_err, sizeof first_err, "%s", xai_last_error());
        xai_load_options lo;
        memset(&lo, 0, sizeof lo);
        for (int lead = 0; lead < 2 && lst != XAI_OK; lead++) {
            if (x->ndim - lead < 1 || x->ndim - lead > XAI_MAX_DIMS)
                continue;
            lo.input_ndim = x->ndim - lead;
            memcpy(lo.input_shape, x->shape + lead, sizeof(int64_t) * (size_t)lo.input_ndim);
            lst = xai_model_load_onnx(model_path, &lo, &m);
        }
        if (lst != XAI_OK)
            xai_error_set(lst, "%s", first_err);
    }
    if (lst != XAI_OK) {
        fail(model_path, xai_last_error());
        return NULL;
    }
    return m;
}

/* The settings of the explanation, as the JSON summary reports them. */
static json_t *summary_parameters(const xai_explain_config *cfg)
{
    json_t *par = json_object();
    json_object_set_new(par, "epsilon", json_real(cfg->epsilon));
    json_object_set_new(par, "gamma", json_real(cfg->gamma));
    json_object_set_new(par, "bias_factor", json_real(cfg->bias_factor));
    json_object_set_new(par, "lstm_epsilon", json_real(cfg->lstm_epsilon));
    json_object_set_new(par, "init", json_string(cfg->init == XAI_INIT_LOGIT    ? "logit"
                                                 : cfg->init == XAI_INIT_ONEHOT ? "onehot" : "auto"));
    if (cfg->have_bounds) {
        json_object_set_new(par, "low", json_real(cfg->low));
        json_object_set_new(par, "high", json_real(cfg->high));
    }
    return par;
}

/* Sample @p s: logits, class, the relevance at the start and the input, and each layer's
   relevance in and out (the conservation check). */
static json_t *summary_sample(const xai_explain_config *cfg, const xai_explain_result *res, int64_t s)
{
    json_t *o = json_object(), *lg = json_array(), *layers = json_array();
    for (int64_t k = 0; k < res->nclasses; k++)
        json_array_append_new(lg, json_real(res->logits[s * res->nclasses + k]));
    json_object_set_new(o, "logits", lg);
    json_object_set_new(o, "class", json_integer(res->target[s]));
    json_object_set_new(o, "relevance_init", json_real(res->init_sum[s]));
    json_object_set_new(o, "relevance_sum", json_real(res->rel_sum[s]));
    json_object_set_new(o, "initial_state_relevance", json_real(res->init_state_sum[s]));
    json_object_set_new(o, "conservation_residual",
                        json_real(res->init_sum[s] - res->rel_sum[s] - res->init_state_sum[s]));
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

typedef struct {
    const char *model, *input, *out;
    double load_ms;
} run_files;

/* The --json summary of one run. */
static json_t *summary_json(const run_files *f, const xai_explain_config *cfg, int64_t n,
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
    json_object_set_new(tm, "load", json_real(f->load_ms));
    json_object_set_new(tm, "forward", json_real(res->forward_ms));
    json_object_set_new(tm, "explain", json_real(res->explain_ms));
    json_object_set_new(root, "timing_ms", tm);
    json_object_set_new(root, "peak_rss_mb", json_real(peak_rss_mb()));
    return root;
}

/* The one-line account of a run on stderr, and a warning for non-finite relevance. */
static void report_run(const xai_explain_config *cfg, int64_t n, const xai_explain_result *res, const float *rel,
                       int64_t nin)
{
    int lrp = cfg->method == XAI_METHOD_LRP;
    int64_t nonfinite = 0;
    for (int64_t k = 0; k < n * nin; k++)
        nonfinite += !isfinite(rel[k]);
    fprintf(stderr, PROG ": explained %lld sample%s with %s%s%s in %.2f ms (forward %.2f ms)", (long long)n,
            n == 1 ? "" : "s", xai_method_name(cfg->method), lrp ? "/" : "", lrp ? cfg->composite : "",
            res->explain_ms, res->forward_ms);
    if (n == 1)
        fprintf(stderr, "; class %d, logit %.6g, relevance sum %.6g", res->target[0], res->logits[res->target[0]],
                res->rel_sum[0]);
    fprintf(stderr, "\n");
    if (nonfinite)
        fprintf(stderr, PROG ": warning: %lld relevance values are not finite\n", (long long)nonfinite);
}

/* Explain @p x with @p m and write the map, the summary and the concepts. 0 or 1. */
static int explain_loaded(const run_files *f, const char *json, xai_explain_config *cfg, int quiet,
                          const xai_npy *x, const xai_model *m)
{
    int md;
    xai_model_input_shape(m, &md);
    int64_t n = xai_model_samples(m, x->ndim, x->shape), nin = xai_model_input_numel(m);
    if (n < 1) {
        char a[256], b[256];
        const int64_t *ms = xai_model_input_shape(m, &md);
        return xai_app_fail(&app, f->input, "shape %s does not match the model input %s (or N x that)",
                            xai_shape_str(x->ndim, x->shape, a, sizeof a), xai_shape_str(md, ms, b, sizeof b));
    }
    float *rel = malloc(sizeof(float) * (size_t)(n * nin));
    if (!rel)
        return fail(f->input, "out of memory");
    xai_explain_result res;
    cfg->layer_sums = json != NULL; /* only the JSON summary reports them */
    if (xai_explain(m, cfg, n, x->data, rel, &res) != XAI_OK) {
        free(rel);
        return fail(f->model, xai_last_error());
    }
    json_t *root = json ? summary_json(f, cfg, n, &res) : NULL;
    int rc = 0;
    if (xai_npy_save(f->out, x->ndim, x->shape, rel) != XAI_OK) {
        rc = fail(f->out, xai_last_error());
    } else if (root && write_json(root, json) != 0) {
        rc = 1; /* the shared layer printed the reason */
        unlink(f->out);
    } else if (concept_request) {
        int stacked = !(n == 1 && x->ndim == md);
        rc = concepts_run(&app, m, cfg, concept_request, n, x->data, x->ndim, x->shape, stacked, f->out);
    }
    if (rc == 0 && !quiet)
        report_run(cfg, n, &res, rel, nin);
    json_decref(root);
    xai_explain_result_free(&res);
    free(rel);
    return rc;
}

/* Explains one input file into @p out (and the JSON summary when @p json): the whole of a
   single-input run, and one item of a batch. @return 0, or 1 (message printed). */
int explain_one(const char *model_path, const char *input_path, const char *out, const char *json,
                xai_explain_config cfg, int quiet)
{
    xai_npy x;
    memset(&x, 0, sizeof x);
    if (xai_npy_load(input_path, &x) != XAI_OK)
        return fail(input_path, xai_last_error());
    double t0 = now_ms();
    xai_model *m = load_model_for(model_path, &x);
    int rc = 1;
    /* plan the explanation's workspaces for this many samples and fault them in as part of the
       load (timing_ms.load), so that timing_ms.explain is the steady-state time */
    int64_t n = m ? xai_model_samples(m, x.ndim, x.shape) : -1;
    if (n > 0 && xai_model_prepare(m, n, &cfg) != XAI_OK) {
        fail(model_path, xai_last_error());
        xai_model_free(m);
        m = NULL;
    }
    if (m) {
        run_files f = {model_path, input_path, out, now_ms() - t0};
        rc = explain_loaded(&f, json, &cfg, quiet, &x, m);
    }
    xai_model_free(m);
    xai_npy_free(&x);
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
       O_JSON, O_BATCH, O_THREADS, O_CONCEPTS };

/* a float option >= 0 (any sign when @p any_sign) */
static int float_option(const char *arg, float *out, int any_sign, const char *err)
{
    if (parse_float(arg, out) || (!any_sign && *out < 0))
        return usage_error(err);
    return 0;
}

/* an integer option within [lo, hi] */
static int long_option(const char *arg, long lo, long hi, long *out, const char *err)
{
    char *e;
    long v = strtol(arg, &e, 10);
    if (e == arg || *e || v < lo || v > hi)
        return usage_error(err);
    *out = v;
    return 0;
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
        if (strcmp(arg, "auto") == 0)
            cfg->init = XAI_INIT_AUTO;
        else if (strcmp(arg, "onehot") == 0)
            cfg->init = XAI_INIT_ONEHOT;
        else if (strcmp(arg, "logit") == 0)
            cfg->init = XAI_INIT_LOGIT;
        else
            return usage_error("--init must be auto, onehot or logit");
        return 0;
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
    case 'h': usage(stdout); return -1;
    case 'V': printf(PROG " (libxai) 0.1.0\n"); return -1;
    case O_JSON: o->json = arg; return 0;
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
    if (o->have_low != o->have_high)
        return usage_error("--low and --high go together");
    o->cfg.have_bounds = o->have_low;
    if (o->have_low && !(o->cfg.low < o->cfg.high))
        return usage_error("--low must be below --high");
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
        {"bn", required_argument, 0, O_BN},        {"class", required_argument, 0, O_CLASS},
        {"init", required_argument, 0, O_INIT},    {"bias-factor", required_argument, 0, O_BF},
        {"lstm-epsilon", required_argument, 0, O_LEPS}, {"json", required_argument, 0, O_JSON},
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
        rc = explain_one(argv[optind], argv[optind + 1], o.out, o.json, o.cfg, o.quiet);
    }
    xai_app_free(&app);
    return rc;
}
