/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-crp - concept-level explanations (Concept Relevance Propagation, Achtibat et al., Nature
 * Machine Intelligence 5, 2023). Thin program over libxai's crp.h.
 *   refs: each concept's reference samples by relevance maximisation over a dataset.
 * Exit codes: 0 ok, 1 data or runtime error, 2 usage error.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "xai.h"
#include "xai/npy.h"

#define PROG "xai-crp"

static xai_app app;

static void usage(FILE *f)
{
    fprintf(f,
"SYNOPSIS\n"
"  " PROG " refs MODEL.onnx DATA.npy --layer LAYER -o REFS.tsv [options]\n"
"\n"
"refs: for every channel (concept) of LAYER, the samples of DATA (a stack [N, input shape])\n"
"in which that concept carries the most relevance (relevance maximisation): each sample is\n"
"explained with LRP for its class, the relevance at LAYER summed per channel, and the\n"
"samples ranked per channel. REFS.tsv has one row per concept and rank:\n"
"  concept  rank  sample  class  relevance  share\n"
"(share: the concept's part of the sample's relevance at LAYER), plus a JSON sidecar.\n"
"\n"
"OPTIONS\n"
"  --layer NAME        node (or activation) name; its channels are the concepts: Conv\n"
"                      filters, Dense units, LSTM hidden units (see xai-info for the names)\n"
"  --top K             reference samples per concept [8]\n"
"  --labels Y.npy      the class of each sample (N integers as floats): explain that class\n"
"  --class K|pred      one class for all samples, or the prediction [pred]\n"
"  --composite NAME    LRP composite, as in xai-explain [epsilon-plus-flat]\n"
"  --samples OUT.npy   also write the reference inputs, [concepts, K, input shape]\n"
"                      (ranks past N are zeros)\n"
"  -o, --output REFS.tsv\n"
"  -h, --help\n"
"%s"
"\n"
"EXAMPLE\n"
"  " PROG " refs model.onnx epochs.npy --layer conv1 --top 5 --labels y.npy -o refs.tsv\n"
"\n"
"EXIT STATUS\n"
"  0 success, 1 data or runtime error, 2 usage error.\n"
"\n"
"REFERENCES\n"
"  Achtibat et al. 2023, Nat. Mach. Intell. 5:1006 (CRP, relevance maximisation).\n",
            xai_app_common_help);
}

typedef struct {
    const char *layer, *labels, *samples, *out;
    int top;
    xai_explain_config cfg;
} refs_opts;

/* Per-sample classes from --labels (n integers), into tg. */
static int load_labels(const char *path, int64_t n, int64_t nc, int *tg)
{
    xai_npy y;
    memset(&y, 0, sizeof y);
    if (xai_npy_load(path, &y) != XAI_OK)
        return xai_app_fail(&app, path, "%s", xai_last_error());
    int64_t cnt = 1;
    for (int d = 0; d < y.ndim; d++)
        cnt *= y.shape[d];
    int rc = cnt == n ? 0 : xai_app_fail(&app, path, "%lld labels for %lld samples", (long long)cnt, (long long)n);
    for (int64_t s = 0; rc == 0 && s < n; s++) {
        float v = y.data[s];
        if (!(v >= 0 && v < nc && v == (float)(int)v))
            rc = xai_app_fail(&app, path, "label %lld is %g, not a class in 0..%lld", (long long)s, v,
                              (long long)nc - 1);
        else
            tg[s] = (int)v;
    }
    xai_npy_free(&y);
    return rc;
}

static int write_refs(const refs_opts *o, int64_t nch, const int64_t *idx, const double *val, const double *tot,
                      const int *cls)
{
    size_t cap = 64 + (size_t)(nch * o->top) * 96, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return xai_app_fail(&app, o->out, "out of memory");
    len += (size_t)snprintf(buf, cap, "concept\trank\tsample\tclass\trelevance\tshare\n");
    for (int64_t c = 0; c < nch; c++)
        for (int q = 0; q < o->top; q++) {
            int64_t s = idx[c * o->top + q];
            if (s < 0)
                continue;
            double r = val[c * o->top + q];
            len += (size_t)snprintf(buf + len, cap - len, "%lld\t%d\t%lld\t%d\t%.9g\t%.9g\n", (long long)c, q,
                                    (long long)s, cls[s], r, tot[s] != 0 ? r / tot[s] : 0.0);
        }
    int rc = xai_app_write_atomic(&app, o->out, buf, len) ? 1 : 0;
    free(buf);
    if (rc)
        return rc;
    json_t *j = json_object();
    json_object_set_new(j, "Method", json_string("crp-relevance-maximisation"));
    json_object_set_new(j, "Layer", json_string(o->layer));
    json_object_set_new(j, "LayerChannels", json_integer(nch));
    json_object_set_new(j, "Top", json_integer(o->top));
    json_object_set_new(j, "Composite", json_string(o->cfg.composite));
    json_object_set_new(j, "Targets", json_string(o->labels ? "labels" : o->cfg.target < 0 ? "prediction" : "class"));
    char *t = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    rc = t && xai_app_write_sidecar(&app, o->out, t) == 0 ? 0 : 1;
    free(t);
    return rc;
}

/* The reference inputs, [concepts][K][input]. */
static int write_samples(const refs_opts *o, const xai_npy *x, int64_t nin, int64_t nch, const int64_t *idx)
{
    float *st = calloc((size_t)(nch * o->top * nin), sizeof(float));
    if (!st)
        return xai_app_fail(&app, o->samples, "out of memory");
    for (int64_t k = 0; k < nch * o->top; k++)
        if (idx[k] >= 0)
            memcpy(st + k * nin, x->data + idx[k] * nin, sizeof(float) * (size_t)nin);
    int64_t shape[XAI_MAX_DIMS + 2] = {nch, o->top};
    for (int d = 1; d < x->ndim; d++)
        shape[d + 1] = x->shape[d];
    int rc = xai_npy_save(o->samples, x->ndim + 1, shape, st) == XAI_OK ? 0 : xai_app_fail(&app, o->samples, "%s",
                                                                                           xai_last_error());
    free(st);
    return rc;
}

/* Concept relevances of all samples (for the shares), then the ranking and the outputs. */
static int refs_run(refs_opts *o, const xai_model *m, const xai_npy *x, int64_t n)
{
    int64_t nch, nin = xai_model_input_numel(m);
    if (xai_crp_layer(m, o->layer, &nch, NULL) != XAI_OK)
        return xai_app_fail(&app, o->out, "--layer: %s", xai_last_error());
    int *tg = malloc(sizeof(int) * (size_t)n);
    double *crel = malloc(sizeof(double) * (size_t)(n * nch)), *tot = calloc((size_t)n, sizeof(double));
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)(nch * o->top));
    double *val = malloc(sizeof(double) * (size_t)(nch * o->top));
    int rc = tg && crel && tot && idx && val ? 0 : xai_app_fail(&app, o->out, "out of memory");
    if (rc == 0 && o->labels && (rc = load_labels(o->labels, n, xai_model_output_numel(m), tg)) == 0)
        o->cfg.targets = tg;
    if (rc == 0 && (xai_crp_explain(m, &o->cfg, o->layer, n, x->data, 0, NULL, NULL, crel, tg) != XAI_OK ||
                    xai_crp_refs(m, &o->cfg, o->layer, n, x->data, o->top, idx, val) != XAI_OK))
        rc = xai_app_fail(&app, o->out, "%s", xai_last_error());
    for (int64_t s = 0; rc == 0 && s < n; s++)
        for (int64_t c = 0; c < nch; c++)
            tot[s] += crel[s * nch + c];
    if (rc == 0)
        rc = write_refs(o, nch, idx, val, tot, tg);
    if (rc == 0 && o->samples)
        rc = write_samples(o, x, nin, nch, idx);
    free(tg);
    free(crel);
    free(tot);
    free(idx);
    free(val);
    return rc;
}

static int parse_args(int argc, char **argv, refs_opts *o)
{
    enum { O_LAYER = 256, O_TOP, O_LABELS, O_CLASS, O_COMPOSITE, O_SAMPLES };
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},   {"layer", required_argument, 0, O_LAYER},
        {"top", required_argument, 0, O_TOP},    {"labels", required_argument, 0, O_LABELS},
        {"class", required_argument, 0, O_CLASS}, {"composite", required_argument, 0, O_COMPOSITE},
        {"samples", required_argument, 0, O_SAMPLES}, {"help", no_argument, 0, 'h'},
        XAI_APP_LONG_OPTIONS,                    {0, 0, 0, 0}};
    int c;
    long v;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:fqvhV", opts, NULL)) != -1) {
        int h = xai_app_handle_option(&app, c == 'V' ? XAI_APP_OPT_VERSION : c, optarg);
        if (h == 2 || h < 0)
            return h == 2 ? -XAI_EXIT_OK - 1 : XAI_EXIT_USAGE;
        if (h == 1)
            continue;
        switch (c) {
        case 'o': o->out = optarg; break;
        case 'h': usage(stdout); return -XAI_EXIT_OK - 1;
        case O_LAYER: o->layer = optarg; break;
        case O_LABELS: o->labels = optarg; break;
        case O_SAMPLES: o->samples = optarg; break;
        case O_TOP:
            if (xai_app_parse_long(optarg, 1, 100000, &v))
                return xai_app_usage_error(&app, "--top needs an integer in 1..100000");
            o->top = (int)v;
            break;
        case O_CLASS:
            if (strcmp(optarg, "pred") == 0)
                o->cfg.target = -1;
            else if (xai_app_parse_long(optarg, 0, 1000000, &v))
                return xai_app_usage_error(&app, "--class needs a class index >= 0 or 'pred'");
            else
                o->cfg.target = (int)v;
            break;
        case O_COMPOSITE:
            if (xai_composite_check(optarg))
                return xai_app_usage_error(&app, "%s", xai_last_error());
            o->cfg.composite = optarg;
            break;
        case ':': return xai_app_usage_error(&app, "option '%s' needs a value", argv[optind - 1]);
        default: return xai_app_usage_error(&app, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 3 || strcmp(argv[optind], "refs") != 0)
        return xai_app_usage_error(&app, "expected: refs MODEL.onnx DATA.npy");
    if (!o->layer || !o->out)
        return xai_app_usage_error(&app, "refs needs --layer and -o REFS.tsv");
    if (o->labels && o->cfg.target >= 0)
        return xai_app_usage_error(&app, "--labels and --class exclude each other");
    return 0;
}

static int run(refs_opts *o, const char *model_path, const char *data_path)
{
    if (xai_app_check_output(&app, o->out) || (o->samples && xai_app_check_output(&app, o->samples)))
        return XAI_EXIT_DATA;
    xai_npy x;
    memset(&x, 0, sizeof x);
    if (xai_npy_load(data_path, &x) != XAI_OK)
        return xai_app_fail(&app, data_path, "%s", xai_last_error());
    xai_model *m = NULL;
    if (xai_model_load_for_input(model_path, x.ndim, x.shape, &m) != XAI_OK) {
        int rc = xai_app_fail(&app, model_path, "%s", xai_last_error());
        xai_npy_free(&x);
        return rc;
    }
    int64_t nin = xai_model_input_numel(m), per = 1;
    for (int d = 1; d < x.ndim; d++)
        per *= x.shape[d];
    int rc = x.ndim >= 2 && per == nin ? 0
             : xai_app_fail(&app, data_path, "expected a stack [N, ...] of inputs of %lld values each", (long long)nin);
    if (rc == 0)
        rc = refs_run(o, m, &x, x.shape[0]);
    xai_model_free(m);
    xai_npy_free(&x);
    return rc;
}

int main(int argc, char **argv)
{
    xai_app_init(&app, PROG, "0.1.0", argc, argv);
    xai_app_install_signal_handlers();
    refs_opts o = {.top = 8};
    xai_explain_config_init(&o.cfg);
    int rc = parse_args(argc, argv, &o);
    if (rc == 0) {
        xai_app_apply_threads(&app);
        rc = run(&o, argv[optind + 1], argv[optind + 2]);
    } else if (rc < 0) {
        rc = -rc - 1;
    }
    xai_app_free(&app);
    return rc;
}
