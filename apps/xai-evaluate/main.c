/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-evaluate - how faithful are explanations of an ONNX model? Region perturbation
 * (Samek et al. 2017, IEEE TNNLS 28(11):2660) with AOPC per method and order, against a
 * seeded random order. Thin program over libxai: load npy -> load model -> for each method
 * xai_explain() -> xai_perturb_evaluate() per order -> TSV tables and PNG curves (cairo).
 * Messages, the common options, the output policy, atomic writes, progress and the JSON
 * sidecars (with the model's SHA-256) come from the shared app layer (app.h).
 * Exit codes: 0 ok, 1 data or runtime error, 2 usage error.
 */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "evalout.h"
#include "xai.h"
#include "xai/eval.h"
#include "xai/figure.h"
#include "xai/npy.h"
#include "xai/tsv.h"

#define PROG "xai-evaluate"
#define MAX_METHODS 16
#define MAX_RUNS (2 * MAX_METHODS + 1)

static void usage(FILE *f)
{
    fprintf(f,
"SYNOPSIS\n"
"  " PROG " MODEL.onnx X.npy -o OUTDIR [options]\n"
"  " PROG " MODEL.onnx X.npy -o OUTDIR --metrics LIST [--truth MASK.npy] [options]\n"
"  " PROG " report METRICS.tsv... -o OUTDIR\n"
"\n"
"Measures how faithful attribution methods are for an ONNX model by region perturbation\n"
"(\"pixel flipping\"): each sample of X.npy is cut into patches, the patches are replaced in\n"
"the order of their summed relevance, and the explained class logit f is tracked. X is\n"
"float32 or float64 C order, shaped like the model input or N x that (a stack of samples).\n"
"\n"
"  AOPC = mean over samples of 1/(L+1) sum_{k=0..L} [f(x^0) - f(x^k)]\n"
"\n"
"f is the logit (pre-softmax) of the explained class; x^k has k steps of patches replaced.\n"
"MoRF (most relevant first): higher is better. LeRF (least relevant first): lower is better.\n"
"A seeded random order is always evaluated as the baseline. The 95%% interval of the AOPC is\n"
"mean -/+ t(0.975, n-1) * sd / sqrt(n) over the n samples (Student's t; none for n = 1).\n"
"\n"
"METHODS\n"
"  --methods LIST      comma-separated: lrp[:COMPOSITE], gradient, gradient-x-input,\n"
"                      smoothgrad, integrated-gradients\n"
"                      [lrp:epsilon-plus-flat,lrp:epsilon-plus,lrp:epsilon,gradient]\n"
"                      COMPOSITE: epsilon | epsilon-plus | epsilon-plus-flat |\n"
"                      epsilon-alpha2-beta1 | epsilon-alpha2-beta1-flat | epsilon-gamma-box\n"
"                      (epsilon-gamma-box uses the min and max of X as ZBox bounds)\n"
"  --class K|pred      class to explain and track; pred = argmax of each sample's logits [pred]\n"
"  --init logit|onehot LRP output relevance: the class logit f, so relevance ranks the\n"
"                      contributions to f even when f < 0; or 1 at the class, as in Zennit\n"
"                      (for f < 0 this flips the sign of epsilon-rule maps) [logit].\n"
"                      Gradient methods always use df/dx.\n"
"\n"
"PERTURBATION\n"
"  --patch SPEC        patch extent over the trailing axes of the per-sample input shape, leading\n"
"                      axes get 1: 8 (1-D time windows), 1x8 (channel x time tiles),\n"
"                      4x4x4 (voxel blocks); edge patches are cut short [1: single elements]\n"
"  --steps L           perturbation steps [100, or fewer when the patches run out]\n"
"  --per-step K        patches replaced per step [1]\n"
"  --order LIST        morf, lerf or morf,lerf [morf,lerf]\n"
"  --replace MODE      baseline: the --baseline value; uniform: noise in [min, max] of the\n"
"                      sample (seeded); mean: the mean of the patch [baseline]\n"
"  --baseline V        value of --replace baseline [0]\n"
"  --seed S            random order and uniform noise [0]\n"
"  --batch B           samples per forward stack, 1..64 [64]\n");
    fprintf(f,
"\n"
"METRICS (--metrics: instead of the AOPC outputs, any of these per method; a family name\n"
"selects all its metrics, 'all' every one; better = the direction of a better value)\n"
"  aopc-morf, aopc-lerf      region perturbation as above            higher / lower\n"
"  road-morf, road-lerf      the same with ROAD noisy linear imputation (Rong et al. 2022):\n"
"                            a removed element is the mean of its neighbours along the\n"
"                            --road-axes, plus N(0, (--road-noise * sd(x))^2)   higher / lower\n"
"  faithfulness-corr         Pearson(sum of R over a random patch set, f(x) - f(x with the\n"
"                            set replaced)) over --fc-runs sets (Bhatt et al. 2020)   higher\n"
"  infidelity                mean (beta I.R - (f(x) - f(x - I)))^2, I ~ N(0, (--infid-sigma\n"
"                            * sd(x))^2), beta the best scale (Yeh et al. 2019)        lower\n"
"  mass-accuracy             sum of R+ in the truth / sum of R+ (Arras et al. 2022)   higher\n"
"  rank-accuracy             share of the K = |truth| most relevant elements in it    higher\n"
"  pointing-game             1 when the most relevant element is in the truth         higher\n"
"  enrichment                mass-accuracy / (|truth| / size), 1 = chance            higher\n"
"  max-sensitivity, avg-sensitivity   ||Phi(x+u) - Phi(x)|| / ||Phi(x)|| over --sens-runs\n"
"                            u uniform in +-(--sens-radius * (max - min)) (Yeh et al.)  lower\n"
"  mprt                      Spearman of |R| with the original after randomising layers\n"
"                            top-down, mean over the cascade (Adebayo et al. 2018)     lower\n"
"  sparseness                Gini index of |R| (Chalasani et al. 2020)                higher\n"
"  complexity                entropy of |R| / sum |R| (Bhatt et al. 2020); as a list item\n"
"                            'complexity' is the family: sparseness and complexity     lower\n"
"  --metrics LIST      e.g. all, faithfulness,localisation, road-morf,mprt\n"
"  --truth MASK.npy    ground truth for localisation: nonzero = relevant, shaped like X or\n"
"                      like one sample (then used for every sample)\n"
"  --road-axes LIST    per-sample axes whose neighbours impute (0-based, e.g. 2 or 1,2)\n"
"                      [every axis longer than 1]\n"
"  --road-noise F      [0.01]\n"
"  --fc-runs N, --fc-fraction F          [64, 0.1 of the patches]\n"
"  --infid-runs N, --infid-sigma F       [64, 0.1]\n"
"  --sens-runs N, --sens-radius F        [10, 0.02]\n"
"  --loc-abs           localisation on |R| instead of max(R, 0) (for unsigned maps)\n"
"  Outputs: metrics.tsv (method, metric, family, better, mean, ci_low, ci_high, sd, n),\n"
"  metrics_samples.tsv, mprt.tsv and mprt.png (with mprt), report.tsv and report.png, each\n"
"  with a JSON sidecar.\n");
    fprintf(f,
"\n"
"REPORT\n"
"  " PROG " report METRICS.tsv... -o OUTDIR   one table (report.tsv: metric, family, better,\n"
"  method, mean, ci_low, ci_high, n, rank) and one figure (report.png) comparing the methods\n"
"  of one or more metrics.tsv on every metric; with several inputs, methods are named\n"
"  DIR:method after the input's directory.\n"
"\n"
"OUTPUT (in OUTDIR, created if missing; every file is written atomically)\n"
"  aopc.tsv            method, order, aopc, ci_low, ci_high, sd, n, steps, per_step, patches\n"
"  curves.tsv          step, fraction of patches replaced, then per method/order the mean\n"
"                      f(x^0) - f(x^k) over samples\n"
"  aopc_samples.tsv    sample, class, then the AOPC of each method/order for that sample\n"
"  aopc.json, curves.json, aopc_samples.json   provenance sidecars of the tables\n"
"                      (CommandLine, Version, DateTime, ModelSHA256, Sources, Parameters)\n"
"  curves_morf.png, curves_lerf.png   the curves of every method and the random baseline\n"
"  -o, --output OUTDIR\n"
"  -f, --force         overwrite existing outputs (refused otherwise)\n"
"  -q, --quiet         no table or progress on stderr\n"
"  -v, --verbose       more messages\n"
"  --nthreads N        threads for BLAS and libxai [SLURM_CPUS_PER_TASK, else\n"
"                      OMP_NUM_THREADS, else the online cores]\n"
"  --progress MODE     progress of the evaluated method/order runs on stderr:\n"
"                      auto|bar|lines|json|none [auto: a bar on a terminal, else lines]\n"
"  -h, --help          this text\n"
"  -V, --version       version\n");
    fprintf(f,
"\n"
"EXAMPLES\n"
"  " PROG " eeg_cnn.onnx epochs.npy --patch 1x8 --steps 64 --per-step 4 -o eval/\n"
"  " PROG " model.onnx x.npy --methods lrp:epsilon-plus-flat,gradient --replace uniform -o out\n"
"  " PROG " cnn3d.onnx volumes.npy --patch 4x4x4 --order morf --replace mean -o out --force\n"
"\n"
"  " PROG " model.onnx x.npy --metrics all --truth mask.npy --patch 1x8 -o metrics/\n"
"  " PROG " report eeg/metrics.tsv fmri/metrics.tsv -o report/\n"
"\n"
"EXIT STATUS\n"
"  0 success, 1 data or runtime error, 2 usage error (also: an output exists, no --force).\n"
"\n"
"REFERENCES\n"
"  Samek, Binder, Montavon, Lapuschkin, Mueller 2017, \"Evaluating the visualization of what a\n"
"  deep neural network has learned\", IEEE TNNLS 28(11):2660 (region perturbation, AOPC).\n"
"  Bach et al. 2015, PLoS ONE 10(7):e0130140 (LRP, pixel flipping). Kohlbrenner et al. 2020,\n"
"  IJCNN (composites). Simonyan et al. 2014 (gradient). Shrikumar et al. 2016 (gradient x\n"
"  input). Smilkov et al. 2017 (SmoothGrad). Sundararajan et al. 2017 (Integrated Gradients).\n"
"  Rong et al. 2022, ICML (ROAD). Bhatt, Weller, Moura 2020, IJCAI (faithfulness correlation,\n"
"  complexity). Yeh et al. 2019, NeurIPS (infidelity, sensitivity). Arras, Osman, Samek 2022,\n"
"  Information Fusion 81 (relevance mass and rank accuracy). Zhang et al. 2016, ECCV (pointing\n"
"  game). Adebayo et al. 2018, NeurIPS (MPRT). Chalasani et al. 2020, ICML (Gini sparseness).\n");
}

static xai_app app;

static int fail(const char *file, const char *msg)
{
    size_t fl = strlen(file);
    if (strncmp(msg, file, fl) == 0 && msg[fl] == ':') /* the library already named the file */
        return xai_app_fail(&app, NULL, "%s", msg);
    return xai_app_fail(&app, file, "%s", msg);
}

typedef struct {
    char label[160];          /* "lrp:epsilon-plus-flat", "gradient", "random" */
    xai_method method;
    char composite[40];
} method_spec;

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

/* One evaluated (method, order) pair. */
typedef struct {
    char label[160];
    xai_perturb_order order;
    xai_perturb_result res;
} run;

/* The curves of @p runs whose order is @p order, plus the random run (dashed grey), into
 * @p path. 0, or -1 with the reason printed. */
static int plot_curves(const char *path, const run *runs, int nruns, xai_perturb_order order, const char *title,
                       const char *xlabel)
{
    xai_chart_series s[MAX_RUNS];
    char lab[MAX_RUNS][200];
    int ns = 0, colour = 0, steps = 1;
    for (int i = 0; i < nruns; i++) {
        const run *r = &runs[i];
        if (r->order != order && r->order != XAI_ORDER_RANDOM)
            continue;
        int random = r->order == XAI_ORDER_RANDOM;
        snprintf(lab[ns], sizeof lab[ns], "%.160s %.3g", r->label, r->res.aopc);
        s[ns] = (xai_chart_series){NULL, r->res.curve, r->res.steps + 1, lab[ns],
                                   random ? XAI_SERIES_LINE | XAI_SERIES_DASHED : XAI_SERIES_LINE,
                                   random ? -1 : colour++, 1};
        steps = r->res.steps > steps ? r->res.steps : steps;
        ns++;
    }
    xai_chart_opts co;
    xai_chart_opts_init(&co);
    co.width = 900;
    co.height = 520;
    co.title = title;
    co.xlabel = xlabel;
    co.ylabel = "f(x\xe2\x81\xb0) - f(x\xe1\xb5\x8f), mean over samples";
    co.legend_note = "(legend: method, AOPC)";
    co.xmin = 0;
    co.xmax = steps;
    if (xai_figure_chart(path, s, ns, &co) != XAI_OK) {
        fail(path, xai_last_error());
        return -1;
    }
    return 0;
}

/* ---- tables ---------------------------------------------------------------------- */

/* A table with the number columns FIRST, SECOND and one "LABEL/ORDER" per run. On failure
 * *t may hold a partial table (free it). */
static xai_status runs_table(const char *first, const char *second, const run *runs, int nruns, xai_tsv **t)
{
    const char *names[] = {first, second};
    xai_status st = xai_tsv_create(2, names, NULL, t);
    for (int i = 0; i < nruns && !st; i++) {
        char col[200];
        snprintf(col, sizeof col, "%s/%s", runs[i].label, xai_perturb_order_name(runs[i].order));
        st = xai_tsv_add_column(*t, col, XAI_TSV_NUMBER, NULL);
    }
    return st;
}

/* Save @p t to @p path when @p st is XAI_OK, free it either way; the first error. */
static xai_status finish_table(xai_tsv *t, const char *path, xai_status st)
{
    if (!st)
        st = xai_tsv_save(t, path, 0);
    xai_tsv_free(t);
    return st;
}

static xai_status write_tables(const char *outdir, const run *runs, int nruns, int64_t per_step, char *path,
                               size_t plen)
{
    xai_status st;
    xai_tsv *t = NULL;
    /* aopc.tsv */
    const char *names[] = {"method", "order", "aopc", "ci_low", "ci_high", "sd", "n", "steps", "per_step", "patches"};
    const xai_tsv_type types[] = {XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER,
                                  XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER};
    snprintf(path, plen, "%s/aopc.tsv", outdir);
    if ((st = xai_tsv_create(10, names, types, &t)))
        return st;
    for (int i = 0; i < nruns && !st; i++) {
        size_t r;
        const xai_perturb_result *p = &runs[i].res;
        if ((st = xai_tsv_add_row(t, &r)))
            break;
        xai_tsv_set_string(t, r, 0, runs[i].label);
        xai_tsv_set_string(t, r, 1, xai_perturb_order_name(runs[i].order));
        xai_tsv_set_number(t, r, 2, p->aopc);
        xai_tsv_set_number(t, r, 3, p->ci_low);
        xai_tsv_set_number(t, r, 4, p->ci_high);
        xai_tsv_set_number(t, r, 5, p->sd);
        xai_tsv_set_number(t, r, 6, (double)p->n);
        xai_tsv_set_number(t, r, 7, p->steps);
        xai_tsv_set_number(t, r, 8, (double)per_step);
        xai_tsv_set_number(t, r, 9, (double)p->npatches);
    }
    if ((st = finish_table(t, path, st)))
        return st;

    /* curves.tsv */
    snprintf(path, plen, "%s/curves.tsv", outdir);
    st = runs_table("step", "fraction", runs, nruns, &t);
    for (int k = 0; !st && k <= runs[0].res.steps; k++) {
        size_t r;
        if ((st = xai_tsv_add_row(t, &r)))
            break;
        xai_tsv_set_number(t, r, 0, k);
        xai_tsv_set_number(t, r, 1, runs[0].res.fraction[k]);
        for (int i = 0; i < nruns; i++)
            xai_tsv_set_number(t, r, 2 + (size_t)i, runs[i].res.curve[k]);
    }
    if ((st = finish_table(t, path, st)))
        return st;

    /* aopc_samples.tsv */
    snprintf(path, plen, "%s/aopc_samples.tsv", outdir);
    st = runs_table("sample", "class", runs, nruns, &t);
    for (int64_t s = 0; !st && s < runs[0].res.n; s++) {
        size_t r;
        if ((st = xai_tsv_add_row(t, &r)))
            break;
        xai_tsv_set_number(t, r, 0, (double)s);
        xai_tsv_set_number(t, r, 1, runs[0].res.target[s]);
        for (int i = 0; i < nruns; i++)
            xai_tsv_set_number(t, r, 2 + (size_t)i, runs[i].res.aopc_sample[s]);
    }
    return finish_table(t, path, st);
}

/* Provenance sidecars (aopc.json, curves.json, aopc_samples.json) of the three tables:
 * the app layer adds CommandLine, Version and DateTime. 0, or -1 with the reason printed. */
static int write_sidecars(const char *outdir, const char *model_path, const char *input_path,
                          const method_spec *ms, int nm, const xai_perturb_config *pc, int do_morf,
                          int do_lerf, int target, int init_logit)
{
    static const char *const tables[][2] = {
        {"aopc.tsv", "AOPC per method and order, with its 95% interval"},
        {"curves.tsv", "mean f(x^0) - f(x^k) per perturbation step, per method and order"},
        {"aopc_samples.tsv", "AOPC per sample, per method and order"}};
    char sha[65], path[4096];
    if (xai_sha256_file(model_path, sha) != 0)
        return xai_app_fail(&app, model_path, "cannot read it for its SHA-256"), -1;
    json_t *methods = json_array(), *patch = json_array();
    for (int i = 0; i < nm; i++)
        json_array_append_new(methods, json_string(ms[i].label));
    for (int d = 0; d < pc->patch_ndim; d++)
        json_array_append_new(patch, json_integer(pc->patch[d]));
    json_t *root = json_pack(
        "{s:s, s:[s, s], s:s, s:{s:o, s:o, s:i, s:I, s:s, s:s, s:f, s:I, s:I, s:o, s:s}}",
        "ModelSHA256", sha, "Sources", model_path, input_path, "Method", "region perturbation (AOPC)",
        "Parameters", "methods", methods, "patch", patch, "steps", pc->steps, "per_step",
        (json_int_t)pc->per_step, "order", do_morf && do_lerf ? "morf,lerf" : do_morf ? "morf" : "lerf",
        "replace", xai_replace_name(pc->replace), "baseline", (double)pc->baseline, "seed",
        (json_int_t)pc->seed, "batch", (json_int_t)pc->batch, "class",
        target >= 0 ? json_integer(target) : json_string("pred"), "init", init_logit ? "logit" : "onehot");
    if (!root)
        return xai_app_fail(&app, outdir, "out of memory"), -1;
    int rc = 0;
    for (size_t i = 0; i < sizeof tables / sizeof *tables && rc == 0; i++) {
        json_object_set_new(root, "Description", json_string(tables[i][1]));
        char *text = json_dumps(root, JSON_COMPACT);
        snprintf(path, sizeof path, "%s/%s", outdir, tables[i][0]);
        rc = text ? xai_app_write_sidecar(&app, path, text) : (xai_app_fail(&app, path, "out of memory"), -1);
        free(text);
    }
    json_decref(root);
    return rc;
}

/* "1,2" -> bit set of per-sample axes below ndim; 0 or -1. */
static int parse_axes(const char *s, int ndim, unsigned *bits)
{
    unsigned b = 0;
    for (const char *p = s;;) {
        char *e;
        errno = 0;
        long v = strtol(p, &e, 10);
        if (e == p || errno || v < 0 || v >= ndim || (*e && *e != ','))
            return -1;
        b |= 1u << v;
        if (!*e)
            break;
        p = e + 1;
    }
    *bits = b;
    return 0;
}

/* The explanation settings of one method (LRP: the --init start; gradients: df/dx). */
static void method_config(const method_spec *ms, int init_logit, float xmin, float xmax, const xai_perturb_config *pc,
                          xai_explain_config *ec)
{
    xai_explain_config_init(ec);
    ec->method = ms->method;
    if (ms->method == XAI_METHOD_LRP) {
        ec->composite = ms->composite;
        ec->init = init_logit ? XAI_INIT_LOGIT : XAI_INIT_ONEHOT;
    } else {
        ec->init = XAI_INIT_ONEHOT; /* the plain gradient of f */
    }
    ec->batch = pc->batch;
    ec->seed = pc->seed;
    if (ms->method == XAI_METHOD_LRP && strcmp(ms->composite, "epsilon-gamma-box") == 0) {
        ec->have_bounds = 1;
        ec->low = xmin;
        ec->high = xmax > xmin ? xmax : xmin + 1;
    }
}

/* --truth: a mask shaped like X (n samples) or like one sample, expanded to n samples. */
static float *load_truth(const char *path, int64_t n, int64_t nin)
{
    xai_npy t;
    memset(&t, 0, sizeof t);
    if (xai_npy_load(path, &t) != XAI_OK) {
        fail(path, xai_last_error());
        return NULL;
    }
    int64_t cnt = 1;
    for (int d = 0; d < t.ndim; d++)
        cnt *= t.shape[d];
    float *m = NULL;
    if (cnt != nin && cnt != n * nin) {
        char msg[200];
        snprintf(msg, sizeof msg, "%lld values, expected one sample (%lld) or all %lld samples (%lld)",
                 (long long)cnt, (long long)nin, (long long)n, (long long)(n * nin));
        fail(path, msg);
    } else if ((m = malloc(sizeof(float) * (size_t)(n * nin)))) {
        for (int64_t s = 0; s < n; s++)
            memcpy(m + s * nin, cnt == nin ? t.data : t.data + s * nin, sizeof(float) * (size_t)nin);
    } else {
        fail(path, "out of memory");
    }
    xai_npy_free(&t);
    return m;
}

/* Settings of a metrics run that main() parses. */
typedef struct {
    uint32_t set;
    const char *truth;
    xai_eval_config ec;
} metrics_opts;

static char *metrics_sidecar_json(const char *model_path, const char *input_path, const metrics_opts *mo,
                                  const method_spec *ms, int nm, int target)
{
    char sha[65];
    if (xai_sha256_file(model_path, sha) != 0)
        return NULL;
    json_t *methods = json_array(), *metrics = json_array(), *patch = json_array();
    for (int i = 0; i < nm; i++)
        json_array_append_new(methods, json_string(ms[i].label));
    for (int k = 0; k < XAI_METRIC_COUNT; k++)
        if ((mo->set >> k) & 1u)
            json_array_append_new(metrics, json_string(xai_metric_name(k)));
    for (int d = 0; d < mo->ec.perturb.patch_ndim; d++)
        json_array_append_new(patch, json_integer(mo->ec.perturb.patch[d]));
    const xai_eval_config *c = &mo->ec;
    json_t *root = json_pack("{s:s, s:[s, s, s?], s:{s:o, s:o, s:o, s:i, s:I, s:s, s:f, s:I, s:I, s:f, s:i, s:f, "
                             "s:i, s:f, s:i, s:b, s:b, s:I, s:o}}",
        "ModelSHA256", sha, "Sources", model_path, input_path, mo->truth, "Parameters", "methods", methods,
        "metrics", metrics, "patch", patch, "steps", c->perturb.steps, "per_step", (json_int_t)c->perturb.per_step,
        "replace", xai_replace_name(c->perturb.replace), "road_noise", (double)c->perturb.road_noise,
        "road_axes_mask", (json_int_t)c->perturb.road_axes, "seed", (json_int_t)c->seed, "fc_fraction",
        c->fc_fraction, "fc_runs", c->fc_runs, "infid_sigma", c->infid_sigma, "infid_runs", c->infid_runs,
        "sens_radius", c->sens_radius, "sens_runs", c->sens_runs, "loc_abs", c->loc_abs, "mprt_abs", c->mprt_abs,
        "batch", (json_int_t)c->perturb.batch, "class", target >= 0 ? json_integer(target) : json_string("pred"));
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return text;
}

/* --metrics: every method through xai_eval_metrics(), then the tables and figures. */
static int run_metrics(const char *model_path, const char *input_path, const char *outdir, const xai_model *m,
                       const xai_npy *x, int64_t n, metrics_opts *mo, const method_spec *ms, int nm, int target,
                       int init_logit, float xmin, float xmax)
{
    int64_t nin = xai_model_input_numel(m);
    float *mask = mo->truth ? load_truth(mo->truth, n, nin) : NULL;
    int *tg = target >= 0 ? malloc(sizeof(int) * (size_t)n) : NULL;
    xai_eval_scores *sc = calloc((size_t)nm, sizeof *sc);
    xai_evalout_method *om = calloc((size_t)nm, sizeof *om);
    char *extra = NULL;
    int rc = 1, done = 0;
    if ((mo->truth && !mask) || (target >= 0 && !tg) || !sc || !om)
        goto out;
    for (int64_t s = 0; tg && s < n; s++)
        tg[s] = target;
    xai_app_progress_begin(&app, "methods", nm);
    for (int i = 0; i < nm; i++, done++) {
        xai_explain_config ec;
        method_config(&ms[i], init_logit, xmin, xmax, &mo->ec.perturb, &ec);
        if (xai_eval_metrics(m, &mo->ec, &ec, mo->set, n, x->data, NULL, mask, tg, &sc[i]) != XAI_OK) {
            char msg[600];
            snprintf(msg, sizeof msg, "%.100s: %.480s", ms[i].label, xai_last_error());
            fail(model_path, msg);
            goto out;
        }
        om[i].label = ms[i].label;
        om[i].scores = &sc[i];
        xai_app_progress_step(&app, i + 1, ms[i].label);
    }
    xai_app_progress_end(&app);
    if (!(extra = metrics_sidecar_json(model_path, input_path, mo, ms, nm, target))) {
        fail(model_path, "cannot read it for its SHA-256");
        goto out;
    }
    if (xai_app_mkdirs(&app, outdir) == 0 && xai_evalout_write(&app, outdir, om, nm, extra) == 0)
        rc = 0;
out:
    for (int i = 0; sc && i < done; i++)
        xai_eval_scores_free(&sc[i]);
    free(sc);
    free(om);
    free(mask);
    free(tg);
    free(extra);
    return rc;
}

/* xai-evaluate report METRICS.tsv... -o OUTDIR */
static int report_main(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'},
                                         XAI_APP_LONG_OPTIONS, {0, 0, 0, 0}};
    const char *outdir = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:fqvhV", opts, NULL)) != -1) {
        int h = xai_app_handle_option(&app, c == 'V' ? XAI_APP_OPT_VERSION : c, optarg);
        if (h == 2 || h < 0)
            return h == 2 ? XAI_EXIT_OK : XAI_EXIT_USAGE;
        if (h == 1)
            continue;
        if (c == 'o')
            outdir = optarg;
        else if (c == 'h')
            return usage(stdout), 0;
        else
            return xai_app_usage_error(&app, "report: unknown option or missing value '%s'", argv[optind - 1]);
    }
    if (optind >= argc)
        return xai_app_usage_error(&app, "report: expected one or more metrics.tsv");
    if (!outdir)
        return xai_app_usage_error(&app, "report: missing -o OUTDIR");
    char path[4096];
    if (strlen(outdir) > sizeof path - 32)
        return xai_app_usage_error(&app, "OUTDIR path too long");
    static const char *const outs[] = {"report.tsv", "report.png"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", outdir, outs[i]);
        if (xai_app_check_output(&app, path) != 0)
            return XAI_EXIT_DATA;
    }
    json_t *src = json_array();
    for (int i = optind; i < argc; i++)
        json_array_append_new(src, json_string(argv[i]));
    json_t *root = json_pack("{s:o}", "Sources", src);
    char *extra = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    int rc = XAI_EXIT_DATA;
    if (extra && xai_app_mkdirs(&app, outdir) == 0 &&
        xai_evalout_report(&app, (const char *const *)argv + optind, argc - optind, outdir, extra) == 0)
        rc = 0;
    free(extra);
    return rc;
}

/* Everything the command line sets for an AOPC or metrics run. */
typedef struct {
    xai_perturb_config pc;
    method_spec ms[MAX_METHODS];
    int nm;
    const char *outdir, *methods, *road_axes, *model_path, *input_path;
    int target, do_morf, do_lerf, init_logit;
    long steps;
    metrics_opts mo;
} eval_opts;

enum { O_METHODS = 256, O_PATCH, O_STEPS, O_PERSTEP, O_ORDER, O_REPLACE, O_BASELINE, O_CLASS, O_SEED, O_BATCH,
       O_INIT, O_METRICS, O_TRUTH, O_ROAD_AXES, O_ROAD_NOISE, O_FC_RUNS, O_FC_FRACTION, O_INFID_RUNS,
       O_INFID_SIGMA, O_SENS_RUNS, O_SENS_RADIUS, O_LOC_ABS };

/* a finite number; 0 or -1 */
static int parse_double(const char *arg, double *out)
{
    char *e;
    errno = 0;
    double d = strtod(arg, &e);
    if (e == arg || *e || errno || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

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
    char *e;
    errno = 0;
    unsigned long long v = strtoull(arg, &e, 10);
    if (e == arg || *e || errno || arg[0] == '-')
        return xai_app_usage_error(&app, "--seed needs a non-negative integer");
    *seed = (uint64_t)v;
    return 0;
}

/* the perturbation and explanation options; 0, a usage exit code, or -1 when not one of them */
static int perturb_option(eval_opts *o, int c, const char *arg)
{
    long v;
    double d;
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
        if (parse_double(arg, &d))
            return xai_app_usage_error(&app, "--baseline needs a finite number");
        o->pc.baseline = (float)d;
        return 0;
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
    if (parse_double(arg, &d) || d < 0 || (c != O_ROAD_NOISE && d == 0) || (c == O_FC_FRACTION && d > 1))
        return xai_app_usage_error(&app, "%s needs a number %s", name, range);
    if (c == O_ROAD_NOISE)
        o->pc.road_noise = (float)d;
    else
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
    if (strlen(o->outdir) > 4096 - 32)
        return xai_app_usage_error(&app, "OUTDIR path too long");
    return 0;
}

/* one option; 0, -1 for exit 0 (help), an exit code, or XAI_APP_NOT_MINE */
static int eval_option(void *ctx, int c, char *arg)
{
    eval_opts *o = ctx;
    if (c == 'h')
        return usage(stdout), -1;
    if (c == 'o') {
        o->outdir = arg;
        return 0;
    }
    int rc = perturb_option(o, c, arg);
    if (rc < 0)
        rc = metric_option(o, c, arg);
    return rc < 0 ? XAI_APP_NOT_MINE : rc;
}

/* 0 to go on, -1 for exit 0 (help, version), else the exit code */
static int parse_args(int argc, char **argv, eval_opts *o)
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
        {"loc-abs", no_argument, 0, O_LOC_ABS},
        {"help", no_argument, 0, 'h'},                XAI_APP_LONG_OPTIONS,
        {0, 0, 0, 0}};
    int rc = xai_app_getopt(&app, argc, argv, ":o:fqvhV", opts, eval_option, o);
    return rc ? rc : check_options(o, argc, argv);
}

/* Refuse to overwrite before doing any work: 0, XAI_EXIT_USAGE, or 1 (OUTDIR not a folder). */
static int check_outputs(const eval_opts *o)
{
    static const char *const aopc_outputs[] = {"aopc.tsv", "curves.tsv", "aopc_samples.tsv", "curves_morf.png",
                                               "curves_lerf.png"};
    const char *const *outputs = o->mo.set ? xai_evalout_files : aopc_outputs;
    size_t noutputs = o->mo.set ? (size_t)xai_evalout_nfiles : sizeof aopc_outputs / sizeof *aopc_outputs;
    char path[4096];
    struct stat sb;
    if (stat(o->outdir, &sb) != 0)
        return 0;
    if (!S_ISDIR(sb.st_mode))
        return fail(o->outdir, "exists and is not a directory");
    for (size_t i = 0; i < noutputs; i++) {
        snprintf(path, sizeof path, "%s/%s", o->outdir, outputs[i]);
        if (xai_app_check_output(&app, path) != 0)
            return XAI_EXIT_USAGE;
    }
    return 0;
}

/* What the inputs fix: samples, patches, steps. 0, 1 (data error) or 2 (options that do
 * not fit the model). */
static int fit_to_model(eval_opts *o, const xai_npy *x, const xai_model *m, int64_t *n, int64_t *np)
{
    int md;
    const int64_t *ms = xai_model_input_shape(m, &md);
    char a[256], b[256];
    if ((*n = xai_model_samples(m, x->ndim, x->shape)) < 1)
        return xai_app_fail(&app, o->input_path, "shape %s does not match the model input %s (or N x that)",
                            xai_shape_str(x->ndim, x->shape, a, sizeof a), xai_shape_str(md, ms, b, sizeof b));
    if (o->target >= xai_model_output_numel(m))
        return xai_app_fail(&app, o->model_path, "--class %d is out of range: the model has %lld outputs",
                            o->target, (long long)xai_model_output_numel(m));
    if (xai_perturb_patches(md, ms, &o->pc, NULL, np) != XAI_OK)
        return xai_app_fail(&app, o->model_path, "--patch does not fit the per-sample input %s: %s",
                            xai_shape_str(md, ms, b, sizeof b), xai_last_error()) + 1;
    if (o->pc.replace == XAI_REPLACE_MEAN && *np == xai_model_input_numel(m))
        return fail(o->model_path, "--replace mean with patches of one element changes nothing; give a larger "
                                   "--patch") + 1;
    int64_t maxsteps = (*np + o->pc.per_step - 1) / o->pc.per_step;
    if (o->steps > maxsteps)
        return xai_app_fail(&app, o->model_path, "--steps %ld with --per-step %lld needs %lld patches, but the "
                            "input has %lld", o->steps, (long long)o->pc.per_step,
                            (long long)(o->steps * o->pc.per_step), (long long)*np) + 1;
    o->pc.steps = o->steps < 0 ? (int)(maxsteps < 100 ? maxsteps : 100) : (int)o->steps;
    if (o->mo.set && o->road_axes && parse_axes(o->road_axes, md, &o->pc.road_axes))
        return xai_app_usage_error(&app, "--road-axes needs axis indices 0..%d joined by commas", md - 1);
    return 0;
}

/* One method's relevance, then its MoRF and/or LeRF runs appended to @p runs. */
static int method_runs(eval_opts *o, const xai_model *m, const xai_npy *x, int64_t n, const float lim[2],
                       int i, float *rel, run *runs, int *nruns)
{
    xai_explain_config ec;
    method_config(&o->ms[i], o->init_logit, lim[0], lim[1], &o->pc, &ec);
    if (xai_explain_targets(m, &ec, n, x->data, o->pc.target, rel) != XAI_OK)
        return xai_app_fail(&app, o->model_path, "%.100s: %.400s", o->ms[i].label, xai_last_error());
    for (int k = 0; k < 2; k++) {
        if ((k == 0 && !o->do_morf) || (k == 1 && !o->do_lerf))
            continue;
        run *r = &runs[*nruns];
        snprintf(r->label, sizeof r->label, "%.*s", (int)sizeof r->label - 1, o->ms[i].label);
        r->order = o->pc.order = k == 0 ? XAI_ORDER_MORF : XAI_ORDER_LERF;
        if (xai_perturb_evaluate(m, &o->pc, n, x->data, rel, &r->res) != XAI_OK)
            return xai_app_fail(&app, o->model_path, "%.100s: %.400s", o->ms[i].label, xai_last_error());
        ++*nruns;
        char item[200];
        snprintf(item, sizeof item, "%.100s/%s", o->ms[i].label, xai_perturb_order_name(r->order));
        xai_app_progress_step(&app, *nruns, item);
    }
    return 0;
}

/* The random baseline first (it fixes every sample's class: argmax or --class), then every
 * method. @p tg has room for n classes. */
static int aopc_runs(eval_opts *o, const xai_model *m, const xai_npy *x, int64_t n, const float lim[2], int *tg,
                     float *rel, run *runs, int *nruns)
{
    for (int64_t s = 0; o->target >= 0 && s < n; s++)
        tg[s] = o->target;
    o->pc.target = o->target >= 0 ? tg : NULL;
    xai_app_progress_begin(&app, "method/order runs", 1 + (int64_t)o->nm * (o->do_morf + o->do_lerf));
    o->pc.order = XAI_ORDER_RANDOM;
    snprintf(runs[0].label, sizeof runs[0].label, "random");
    runs[0].order = XAI_ORDER_RANDOM;
    if (xai_perturb_evaluate(m, &o->pc, n, x->data, NULL, &runs[0].res) != XAI_OK)
        return fail(o->model_path, xai_last_error());
    *nruns = 1;
    xai_app_progress_step(&app, *nruns, "random");
    memcpy(tg, runs[0].res.target, sizeof(int) * (size_t)n);
    o->pc.target = tg;
    for (int i = 0; i < o->nm; i++)
        if (method_runs(o, m, x, n, lim, i, rel, runs, nruns))
            return 1;
    xai_app_progress_end(&app);
    return 0;
}

/* aopc.tsv, curves.tsv, aopc_samples.tsv with sidecars, and the curves of each order */
static int write_aopc(const eval_opts *o, const run *runs, int nruns, int64_t n, int64_t np)
{
    char path[4096];
    if (xai_app_mkdirs(&app, o->outdir) != 0)
        return 1;
    if (write_tables(o->outdir, runs, nruns, o->pc.per_step, path, sizeof path) != XAI_OK)
        return fail(path, xai_last_error());
    if (write_sidecars(o->outdir, o->model_path, o->input_path, o->ms, o->nm, &o->pc, o->do_morf, o->do_lerf,
                       o->target, o->init_logit) != 0)
        return 1;
    for (int k = 0; k < 2; k++) {
        if ((k == 0 && !o->do_morf) || (k == 1 && !o->do_lerf))
            continue;
        char title[256], xlabel[256];
        snprintf(path, sizeof path, "%s/%s", o->outdir, k == 0 ? "curves_morf.png" : "curves_lerf.png");
        snprintf(title, sizeof title, "%s perturbation, %s replacement, n = %lld", k == 0 ? "MoRF" : "LeRF",
                 xai_replace_name(o->pc.replace), (long long)n);
        snprintf(xlabel, sizeof xlabel, "step k (%lld of %lld patch%s per step)", (long long)o->pc.per_step,
                 (long long)np, np == 1 ? "" : "es");
        if (plot_curves(path, runs, nruns, k == 0 ? XAI_ORDER_MORF : XAI_ORDER_LERF, title, xlabel))
            return 1;
    }
    return 0;
}

static void print_aopc(const eval_opts *o, const run *runs, int nruns, int64_t n, int64_t np)
{
    fprintf(stderr, "%-28s %-6s %10s %10s %10s  (n = %lld, L = %d, %lld patches, %lld per step, %s)\n", "method",
            "order", "AOPC", "CI low", "CI high", (long long)n, o->pc.steps, (long long)np,
            (long long)o->pc.per_step, xai_replace_name(o->pc.replace));
    for (int i = 0; i < nruns; i++)
        fprintf(stderr, "%-28s %-6s %10.5g %10.5g %10.5g\n", runs[i].label, xai_perturb_order_name(runs[i].order),
                runs[i].res.aopc, runs[i].res.ci_low, runs[i].res.ci_high);
}

/* Region perturbation (AOPC) of every method, or the --metrics run. */
static int evaluate(eval_opts *o, const xai_npy *x, const xai_model *m)
{
    int64_t n, np, nin = xai_model_input_numel(m);
    int rc = fit_to_model(o, x, m, &n, &np), nruns = 0;
    if (rc)
        return rc;
    float lim[2] = {x->data[0], x->data[0]};
    for (int64_t i = 0; i < n * nin; i++) {
        lim[0] = fminf(lim[0], x->data[i]);
        lim[1] = fmaxf(lim[1], x->data[i]);
    }
    if (o->mo.set) {
        o->mo.ec.perturb = o->pc;
        o->mo.ec.seed = o->pc.seed;
        return run_metrics(o->model_path, o->input_path, o->outdir, m, x, n, &o->mo, o->ms, o->nm, o->target,
                           o->init_logit, lim[0], lim[1]);
    }
    float *rel = malloc(sizeof(float) * (size_t)(n * nin));
    int *tg = malloc(sizeof(int) * (size_t)n);
    run *runs = calloc(MAX_RUNS, sizeof *runs);
    if (!rel || !tg || !runs)
        rc = fail(o->input_path, "out of memory");
    if (!rc)
        rc = aopc_runs(o, m, x, n, lim, tg, rel, runs, &nruns);
    if (!rc)
        rc = write_aopc(o, runs, nruns, n, np);
    if (!rc && app.verbosity > 0)
        print_aopc(o, runs, nruns, n, np);
    for (int i = 0; runs && i < nruns; i++)
        xai_perturb_result_free(&runs[i].res);
    free(runs), free(rel), free(tg);
    return rc;
}

static int run_evaluate(eval_opts *o)
{
    xai_npy x = {0};
    xai_model *m = NULL;
    int rc = check_outputs(o);
    if (rc)
        return rc;
    if (xai_npy_load(o->input_path, &x) != XAI_OK)
        return fail(o->input_path, xai_last_error());
    if (xai_model_load_onnx(o->model_path, NULL, &m) != XAI_OK)
        rc = fail(o->model_path, xai_last_error());
    else
        rc = evaluate(o, &x, m);
    xai_model_free(m);
    xai_npy_free(&x);
    return rc;
}

int main(int argc, char **argv)
{
    static eval_opts o;
    int rc;
    xai_app_init(&app, PROG, "0.1.0", argc, argv);
    xai_app_install_signal_handlers();
    if (argc > 1 && strcmp(argv[1], "report") == 0) {
        rc = report_main(argc - 1, argv + 1);
    } else {
        xai_perturb_config_init(&o.pc);
        xai_eval_config_init(&o.mo.ec);
        o.methods = "lrp:epsilon-plus-flat,lrp:epsilon-plus,lrp:epsilon,gradient";
        o.target = -1;
        o.do_morf = o.do_lerf = o.init_logit = 1;
        o.steps = -1;
        rc = parse_args(argc, argv, &o);
        if (rc == 0) {
            xai_app_apply_threads(&app);
            rc = run_evaluate(&o);
        }
    }
    /* drop cairo's and fontconfig's caches so leak checkers see a clean exit */
    cairo_debug_reset_static_data();
    FcFini();
    xai_app_free(&app);
    return rc < 0 ? XAI_EXIT_OK : rc;
}
