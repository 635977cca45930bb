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
"                         conservation residuals; timing_ms {load, forward, explain};\n"
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
    xai_model *m = NULL;
    xai_status lst = xai_model_load_onnx(model_path, NULL, &m);
    if (lst == XAI_EUNSUPPORTED && strstr(xai_last_error(), "symbolic")) {
        /* a model with symbolic dimensions (e.g. time): take them from the input, first as
           one sample of that shape, then as a stack of samples */
        char first_err[1024];
        snprintf(first_err, sizeof first_err, "%s", xai_last_error());
        xai_load_options lo;
        memset(&lo, 0, sizeof lo);
        for (int lead = 0; lead < 2 && lst != XAI_OK; lead++) {
            if (x.ndim - lead < 1 || x.ndim - lead > XAI_MAX_DIMS)
                continue;
            lo.input_ndim = x.ndim - lead;
            memcpy(lo.input_shape, x.shape + lead, sizeof(int64_t) * (size_t)lo.input_ndim);
            lst = xai_model_load_onnx(model_path, &lo, &m);
        }
        if (lst != XAI_OK)
            xai_error_set(lst, "%s", first_err);
    }
    if (lst != XAI_OK) {
        xai_npy_free(&x);
        return fail(model_path, xai_last_error());
    }
    double load_ms = now_ms() - t0;

    int md;
    const int64_t *ms = xai_model_input_shape(m, &md);
    int64_t n = -1;
    if (x.ndim == md && memcmp(x.shape, ms, sizeof(int64_t) * (size_t)md) == 0)
        n = 1;
    else if (x.ndim == md + 1 && memcmp(x.shape + 1, ms, sizeof(int64_t) * (size_t)md) == 0)
        n = x.shape[0];
    else if (x.ndim == md && md > 1 && ms[0] == 1 && memcmp(x.shape + 1, ms + 1, sizeof(int64_t) * (size_t)(md - 1)) == 0)
        n = x.shape[0];
    if (n < 1) {
        char a[256], b[256], msg[640];
        snprintf(msg, sizeof msg, "shape %s does not match the model input %s (or N x that)",
                 xai_shape_str(x.ndim, x.shape, a, sizeof a), xai_shape_str(md, ms, b, sizeof b));
        xai_model_free(m);
        xai_npy_free(&x);
        return fail(input_path, msg);
    }
    int64_t nin = xai_model_input_numel(m);
    float *rel = malloc(sizeof(float) * (size_t)(n * nin));
    if (!rel) {
        xai_model_free(m);
        xai_npy_free(&x);
        return fail(input_path, "out of memory");
    }
    xai_explain_result res;
    cfg.layer_sums = json != NULL; /* only the JSON summary reports them */
    if (xai_explain(m, &cfg, n, x.data, rel, &res) != XAI_OK) {
        int rc = fail(model_path, xai_last_error());
        free(rel);
        xai_model_free(m);
        xai_npy_free(&x);
        return rc;
    }
    int64_t nonfinite = 0;
    for (int64_t k = 0; k < n * nin; k++)
        nonfinite += !isfinite(rel[k]);

    json_t *root = NULL;
    if (json) {
        root = json_object();
        json_object_set_new(root, "model", json_string(model_path));
        json_object_set_new(root, "input", json_string(input_path));
        json_object_set_new(root, "output", json_string(out));
        json_object_set_new(root, "method", json_string(xai_method_name(cfg.method)));
        if (cfg.method == XAI_METHOD_LRP) {
            json_object_set_new(root, "composite", json_string(cfg.composite));
            json_object_set_new(root, "rules", json_string(cfg.rules ? cfg.rules : ""));
            json_object_set_new(root, "bn", json_string(cfg.bn == XAI_BN_FOLD ? "fold" : "pass"));
        }
        json_t *par = json_object();
        json_object_set_new(par, "epsilon", json_real(cfg.epsilon));
        json_object_set_new(par, "gamma", json_real(cfg.gamma));
        json_object_set_new(par, "bias_factor", json_real(cfg.bias_factor));
        json_object_set_new(par, "lstm_epsilon", json_real(cfg.lstm_epsilon));
        json_object_set_new(par, "init", json_string(cfg.init == XAI_INIT_LOGIT ? "logit"
                                                     : cfg.init == XAI_INIT_ONEHOT ? "onehot" : "auto"));
        if (cfg.have_bounds) {
            json_object_set_new(par, "low", json_real(cfg.low));
            json_object_set_new(par, "high", json_real(cfg.high));
        }
        json_object_set_new(root, "parameters", par);
        json_object_set_new(root, "n", json_integer(n));
        json_t *samples = json_array();
        for (int64_t s = 0; s < n; s++) {
            json_t *o = json_object();
            json_t *lg = json_array();
            for (int64_t k = 0; k < res.nclasses; k++)
                json_array_append_new(lg, json_real(res.logits[s * res.nclasses + k]));
            json_object_set_new(o, "logits", lg);
            json_object_set_new(o, "class", json_integer(res.target[s]));
            json_object_set_new(o, "relevance_init", json_real(res.init_sum[s]));
            json_object_set_new(o, "relevance_sum", json_real(res.rel_sum[s]));
            json_object_set_new(o, "initial_state_relevance", json_real(res.init_state_sum[s]));
            json_object_set_new(o, "conservation_residual",
                                json_real(res.init_sum[s] - res.rel_sum[s] - res.init_state_sum[s]));
            json_t *layers = json_array();
            for (int i = 0; i < res.nlayers; i++) {
                json_t *l = json_object();
                double ri = res.layer_in_sum[s * res.nlayers + i], ro = res.layer_out_sum[s * res.nlayers + i];
                json_object_set_new(l, "name", json_string(res.layer_name[i]));
                json_object_set_new(l, "op", json_string(res.layer_op[i]));
                json_object_set_new(l, "rule", json_string(cfg.method == XAI_METHOD_LRP ? res.layer_rule[i] : "gradient"));
                json_object_set_new(l, "relevance_out", json_real(ro));
                json_object_set_new(l, "relevance_in", json_real(ri));
                json_object_set_new(l, "residual", json_real(ro - ri));
                json_array_append_new(layers, l);
            }
            json_object_set_new(o, "layers", layers);
            json_array_append_new(samples, o);
        }
        json_object_set_new(root, "samples", samples);
        json_t *tm = json_object();
        json_object_set_new(tm, "load", json_real(load_ms));
        json_object_set_new(tm, "forward", json_real(res.forward_ms));
        json_object_set_new(tm, "explain", json_real(res.explain_ms));
        json_object_set_new(root, "timing_ms", tm);
        json_object_set_new(root, "peak_rss_mb", json_real(peak_rss_mb()));
    }
    int rc = 0;
    if (xai_npy_save(out, x.ndim, x.shape, rel) != XAI_OK) {
        rc = fail(out, xai_last_error());
    } else if (root && write_json(root, json) != 0) {
        rc = 1; /* the shared layer printed the reason */
        unlink(out);
    } else if (concept_request) {
        int stacked = !(n == 1 && x.ndim == md);
        rc = concepts_run(&app, m, &cfg, concept_request, n, x.data, x.ndim, x.shape, stacked, out);
    }
    if (rc == 0 && !quiet) {
        fprintf(stderr, PROG ": explained %lld sample%s with %s%s%s in %.2f ms (forward %.2f ms)",
                (long long)n, n == 1 ? "" : "s", xai_method_name(cfg.method),
                cfg.method == XAI_METHOD_LRP ? "/" : "", cfg.method == XAI_METHOD_LRP ? cfg.composite : "",
                res.explain_ms, res.forward_ms);
        if (n == 1)
            fprintf(stderr, "; class %d, logit %.6g, relevance sum %.6g", res.target[0],
                    res.logits[res.target[0]], res.rel_sum[0]);
        fprintf(stderr, "\n");
        if (nonfinite)
            fprintf(stderr, PROG ": warning: %lld relevance values are not finite\n", (long long)nonfinite);
    }
    json_decref(root);
    xai_explain_result_free(&res);
    free(rel);
    xai_model_free(m);
    xai_npy_free(&x);
    return rc;
}

int main(int argc, char **argv)
{
    enum { O_METHOD = 256, O_COMPOSITE, O_EPS, O_GAMMA, O_LOW, O_HIGH, O_RULE, O_BN, O_CLASS, O_INIT, O_BF, O_LEPS,
           O_JSON, O_BATCH, O_THREADS, O_CONCEPTS };
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
    xai_app_init(&app, PROG, "0.1.0", argc, argv);
    xai_app_install_signal_handlers();
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    const char *out = NULL, *json = NULL, *concepts_arg = NULL;
    int quiet = 0, have_low = 0, have_high = 0;
    char rules[4096] = "";
    /* getopt_long moves the operands after the options but keeps each option next to its
       value, so the permuted argv is still an equivalent command line for the array tasks */
    explain_batch batch = {.shard_k = 1, .shard_n = 1, .argv = argv};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:qfhV", opts, NULL)) != -1) {
        char msg[256];
        switch (c) {
        case 'o': out = optarg; break;
        case 'q': quiet = 1; break;
        case 'f': app.force = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf(PROG " (libxai) 0.1.0\n"); return 0;
        case O_METHOD:
            if (xai_method_parse(optarg, &cfg.method))
                return usage_error(xai_last_error());
            break;
        case O_COMPOSITE:
            if (xai_composite_check(optarg))
                return usage_error(xai_last_error());
            cfg.composite = optarg;
            break;
        case O_EPS:
            if (parse_float(optarg, &cfg.epsilon) || cfg.epsilon < 0)
                return usage_error("--epsilon needs a number >= 0");
            break;
        case O_GAMMA:
            if (parse_float(optarg, &cfg.gamma) || cfg.gamma < 0)
                return usage_error("--gamma needs a number >= 0");
            break;
        case O_LOW:
            if (parse_float(optarg, &cfg.low))
                return usage_error("--low needs a number");
            have_low = 1;
            break;
        case O_HIGH:
            if (parse_float(optarg, &cfg.high))
                return usage_error("--high needs a number");
            have_high = 1;
            break;
        case O_RULE:
            if (xai_rules_check(optarg)) {
                snprintf(msg, sizeof msg, "--rule: %s", xai_last_error());
                return usage_error(msg);
            }
            if (strlen(rules) + strlen(optarg) + 2 >= sizeof rules)
                return usage_error("--rule: too many overrides");
            if (rules[0])
                strcat(rules, ";");
            strcat(rules, optarg);
            break;
        case O_BN:
            if (strcmp(optarg, "fold") == 0)
                cfg.bn = XAI_BN_FOLD;
            else if (strcmp(optarg, "pass") == 0)
                cfg.bn = XAI_BN_PASS;
            else
                return usage_error("--bn must be fold or pass");
            break;
        case O_CLASS:
            if (strcmp(optarg, "pred") == 0) {
                cfg.target = -1;
            } else {
                char *e;
                long k = strtol(optarg, &e, 10);
                if (e == optarg || *e || k < 0 || k > 1000000)
                    return usage_error("--class needs a class index >= 0 or 'pred'");
                cfg.target = (int)k;
            }
            break;
        case O_INIT:
            if (strcmp(optarg, "auto") == 0)
                cfg.init = XAI_INIT_AUTO;
            else if (strcmp(optarg, "onehot") == 0)
                cfg.init = XAI_INIT_ONEHOT;
            else if (strcmp(optarg, "logit") == 0)
                cfg.init = XAI_INIT_LOGIT;
            else
                return usage_error("--init must be auto, onehot or logit");
            break;
        case O_BF:
            if (parse_float(optarg, &cfg.bias_factor) || cfg.bias_factor < 0)
                return usage_error("--bias-factor needs a number >= 0");
            break;
        case O_LEPS:
            if (parse_float(optarg, &cfg.lstm_epsilon) || cfg.lstm_epsilon < 0)
                return usage_error("--lstm-epsilon needs a number >= 0");
            break;
        case O_JSON: json = optarg; break;
        case O_CONCEPTS: concepts_arg = optarg; break;
        case O_BATCH: {
            char *e;
            long b = strtol(optarg, &e, 10);
            if (e == optarg || *e || b < 1 || b > 64)
                return usage_error("--batch needs an integer in 1..64");
            cfg.batch = b;
            break;
        }
        case O_THREADS: {
            char *e;
            long t = strtol(optarg, &e, 10);
            if (e == optarg || *e || t < 1 || t > 1024)
                return usage_error("--nthreads needs a positive integer");
            xai_set_num_threads((int)t);
            break;
        }
        case O_SHARD: case O_LIST: case O_SLURM: case O_SLURM_ARGS: case O_MAX_PAR: case O_DRY_RUN:
        case O_WAIT: case O_WAIT_TIMEOUT:
            if (batch_option(&batch, c, optarg) != 0) {
                snprintf(msg, sizeof msg, "%s: bad value '%s'", argv[optind - 1], optarg ? optarg : "");
                return usage_error(msg);
            }
            break;
        case ':':
            snprintf(msg, sizeof msg, "option '%s' needs a value", argv[optind - 1]);
            return usage_error(msg);
        default:
            snprintf(msg, sizeof msg, "unknown option '%s'", argv[optind - 1]);
            return usage_error(msg);
        }
    }
    batch.active = argc - optind > 2 || batch.list || (out && *out && out[strlen(out) - 1] == '/');
    if (!batch.active && argc - optind != 2)
        return usage_error("expected MODEL.onnx and INPUT.npy");
    if (!out)
        return usage_error("missing -o OUT.npy");
    if (have_low != have_high)
        return usage_error("--low and --high go together");
    cfg.have_bounds = have_low;
    if (have_low && !(cfg.low < cfg.high))
        return usage_error("--low must be below --high");
    if (rules[0])
        cfg.rules = rules;
    static concept_spec cspec;
    if (concepts_arg) {
        char msg[256];
        if (concepts_parse(concepts_arg, &cspec, msg, sizeof msg))
            return usage_error(msg);
        if (cfg.method != XAI_METHOD_LRP)
            return usage_error("--concepts needs --method lrp");
        if (batch.active)
            return usage_error("--concepts takes one input");
        concept_request = &cspec;
    }
    /* the suite's one rule: an existing output is kept unless --force, and refusing is a usage error */
    if (!batch.active && (xai_app_check_output(&app, out) != 0 || (json && xai_app_check_output(&app, json) != 0)))
        return XAI_EXIT_USAGE;
    int rc;
    if (batch.active) {
        batch.model = argv[optind];
        batch.inputs = argv + optind + 1;
        batch.ninputs = argc - optind - 1;
        batch.outdir = out;
        rc = json ? usage_error("--json takes one input; the batch form writes OUTDIR/NAME.npy per input")
                  : run_batch(&batch, cfg, quiet);
    } else if (batch.shard_n > 1 || batch.slurm) {
        rc = usage_error("--shard and --slurm need the batch form (several inputs, --list, or -o OUTDIR/)");
    } else {
        rc = explain_one(argv[optind], argv[optind + 1], out, json, cfg, quiet);
    }
    xai_app_free(&app);
    return rc;
}
