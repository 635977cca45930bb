/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-prune - structured pruning of a CNN by a criterion (LRP, weight, gradient, Taylor),
 * measured on held-out data, with the pruned model written as a smaller ONNX file.
 * Thin program over libxai's prune.h and train.h; tables and the chart through formats.
 * Refs: Yeom et al. 2021, Pattern Recognit. 115:107899; Li et al. 2017, ICLR; Molchanov et
 * al. 2017, ICLR; Sun et al. 2017, ICML. Exit codes: 0 ok, 1 data or runtime error, 2 usage error.
 */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "prune-run.h"

static void usage_about(FILE *f)
{
    fprintf(f,
"SYNOPSIS\n"
"  " PROG " MODEL.onnx --data X.npy --labels Y.npy --test XT.npy --test-labels YT.npy -o OUTDIR\n"
"           [options]\n"
"\n"
"Prunes whole Conv filters (and, on request, Dense units), least important first, at a\n"
"schedule of rates, and measures the held-out loss and accuracy after each step, for every\n"
"criterion and seed (defaults: Yeom et al.'s setting without fine-tuning):\n"
"  lrp       sum of |relevance| over the unit's output, mean over the reference samples,\n"
"            each explained from relevance 1 at its label, batch norm passed, epsilon for\n"
"            dense and bias-free z+ for conv layers (Yeom et al. 2021)\n"
"  weight    L1 norm of the unit's weights (Li et al. 2017)\n"
"  gradient  |mean over samples and output positions of dL/d activation|, L the\n"
"            cross-entropy at the sample's label (Sun et al. 2017), as Yeom et al.'s code\n"
"  taylor    |mean over samples and positions of activation * dL/d activation|\n"
"            (Molchanov et al. 2017), as Yeom et al.'s code\n"
"  gradient-logit, taylor-logit\n"
"            the same per sample with the label's logit for L, |.| before the mean over\n"
"            the samples (the gradient and taylor of earlier versions)\n"
"A unit is prunable when its channel reaches exactly one later Conv/Gemm/MatMul through\n"
"per-channel operators (BatchNorm, ReLU, pooling, ...); the output layer is never pruned.\n"
"Units that feed an LSTM (or any other operator) are not candidates, nor are the LSTM's\n"
"hidden units; a model without any candidate (e.g. conv -> LSTM -> dense) is refused (exit 1).\n"
"The saved model is physically smaller (filters, BatchNorm entries and the next layer's\n"
"inputs removed) and gives the logits of the original with those units zeroed.\n"
"\n"
"DATA\n"
"  --data X.npy          reference samples [N, input shape] (criteria, and fine-tuning)\n"
"  --labels Y.npy        their classes (integers)\n"
"  --test XT.npy         held-out samples: keep them out of --data (other subjects, runs\n"
"  --test-labels YT.npy  or speakers than the reference samples)\n"
"\n");
}

static void usage(FILE *f)
{
    usage_about(f);
    fprintf(f,
"PRUNING\n"
"  --criteria LIST       from lrp,weight,gradient,taylor,gradient-logit,taylor-logit, or\n"
"                        all (the first four, Yeom et al.'s) [all]\n"
"  --step R              rate added per step [0.1]\n"
"  --total R             last rate, below 1 [0.9]\n"
"  --per-layer           prune the rate within each layer (default: over all layers at once,\n"
"                        each layer's scores divided by their norm first)\n"
"  --norm auto|l1|l2     that norm [auto: Yeom et al.'s, L1 for lrp and weight, L2 for\n"
"                        the gradient and Taylor criteria]\n"
"  --ref-per-class K     reference samples drawn from --data per seed: K of each class\n"
"                        (fewer when a class has fewer) [10], as Yeom et al.'s small\n"
"                        reference sets (their scarce-data setting: 1 to 10 per class)\n"
"  --ref-size K          instead: K samples drawn regardless of class [0 = all]\n"
"  --units auto|conv|all\n"
"                        which units may go [auto: Conv filters when the model has prunable\n"
"                        ones, Dense layers staying whole, as Yeom et al. prune CNNs; else\n"
"                        Dense units, as in their multilayer perceptrons]; conv: filters\n"
"                        only; all: Conv filters and Dense units ranked together\n"
"  --iterative           prune step by step, scoring the pruned model again before each\n"
"                        step (Yeom et al.'s loop), without training unless --fine-tune\n"
"  --seeds N             seeds (reference draws), for the mean and SD [5]\n"
"  --composite NAME      LRP composite of the lrp criterion [epsilon-plus]\n"
"  --rule SPEC           its per-layer rule overrides, as xai-explain's --rule\n"
"                        [Conv=zplus-nobias: alpha1-beta0 without the bias, Yeom et al.'s\n"
"                        conv rule]; --rule '' keeps the composite's own rules\n"
"  --fine-tune E         after each step, train the pruned model E epochs on --data and score\n"
"                        the next step on it (iterative pruning) [0: one shot per rate]\n"
"  --lr LR               fine-tuning learning rate (Adam) [1e-4]\n"
"  --save RATE           write OUTDIR/pruned-CRITERION.onnx at this rate (first seed)\n"
"\n");
    fprintf(f, /* several strings: C11 compilers need to take only 4095 characters in one */
"OUTPUT (in OUTDIR)\n"
"  pruning.tsv           criterion, seed, rate, pruned units, parameters, FLOPs, loss, accuracy\n"
"  summary.tsv           per criterion and rate: accuracy mean and SD over the seeds\n"
"  pruning.png           held-out accuracy against the rate, one line per criterion\n"
"  *.json                sidecars (CommandLine, Version, inputs, parameters)\n"
"  -o, --output OUTDIR\n"
"%s"
"\n"
"EXAMPLE\n"
"  " PROG " model.onnx --data train-x.npy --labels train-y.npy --test test-x.npy \\\n"
"            --test-labels test-y.npy --save 0.5 -o prune/\n"
"\n"
"EXIT STATUS\n"
"  0 success, 1 data or runtime error, 2 usage error (also: an output exists, no --force).\n"
"\n"
"REFERENCES\n"
"  Yeom et al. 2021, Pattern Recognit. 115:107899 (pruning by explaining).  Li et al. 2017,\n"
"  ICLR (pruning filters by weight norm).  Molchanov et al. 2017, ICLR (Taylor criterion).\n"
"  Sun et al. 2017, ICML (meProp; the gradient criterion).\n",
            xai_app_common_help);
}

xai_app app;

enum { O_DATA = 256, O_LABELS, O_TEST, O_TEST_LABELS, O_CRITERIA, O_STEP, O_TOTAL, O_PER_LAYER, O_REF,
       O_SEEDS, O_COMPOSITE, O_FINE, O_LR, O_SAVE, O_PER_CLASS, O_UNITS, O_ITERATIVE, O_RULE, O_NORM };

/* a number in the open interval (lo, hi) */
static int real_in(const char *name, const char *arg, double lo, double hi, double *out)
{
    double v;
    if (xai_app_parse_double(arg, lo, hi, &v) || v == lo || v == hi)
        return xai_app_usage_error(&app, "%s needs a number in (%g, %g)", name, lo, hi);
    *out = v;
    return 0;
}

static int int_in(const char *name, const char *arg, long lo, long hi, int *out)
{
    long v;
    if (xai_app_parse_long(arg, lo, hi, &v))
        return xai_app_usage_error(&app, "%s needs an integer in %ld..%ld", name, lo, hi);
    *out = (int)v;
    return 0;
}

static int parse_criteria(const char *arg, prune_opts *o)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", strcmp(arg, "all") == 0 ? "lrp,weight,gradient,taylor" : arg);
    o->ncrit = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (o->ncrit == XAI_PRUNE_COUNT || xai_prune_criterion_parse(t, &o->crit[o->ncrit]))
            return xai_app_usage_error(&app, "--criteria: %s", o->ncrit == XAI_PRUNE_COUNT ? "too many entries"
                                                                                           : xai_last_error());
        for (int k = 0; k < o->ncrit; k++)
            if (o->crit[k] == o->crit[o->ncrit])
                return xai_app_usage_error(&app, "--criteria lists '%s' twice", t);
        o->ncrit++;
    }
    return o->ncrit ? 0 : xai_app_usage_error(&app, "--criteria is empty");
}

/* one option; 0, or the usage exit code; -1 when it is not one of ours */
static int prune_option(prune_opts *o, int c, const char *arg)
{
    double lr = 0;
    switch (c) {
    case 'o': o->outdir = arg; return 0;
    case O_DATA: o->data = arg; return 0;
    case O_LABELS: o->labels = arg; return 0;
    case O_TEST: o->test = arg; return 0;
    case O_TEST_LABELS: o->test_labels = arg; return 0;
    case O_CRITERIA: return parse_criteria(arg, o);
    case O_STEP: return real_in("--step", arg, 0, 1, &o->step);
    case O_TOTAL: return real_in("--total", arg, 0, 1, &o->total);
    case O_SAVE: return real_in("--save", arg, 0, 1, &o->save_rate);
    case O_PER_LAYER: o->global = 0; return 0;
    case O_REF: o->ref_per_class = 0; return int_in("--ref-size", arg, 0, 1 << 20, &o->ref_size);
    case O_PER_CLASS: o->ref_size = 0; return int_in("--ref-per-class", arg, 1, 1 << 20, &o->ref_per_class);
    case O_ITERATIVE: o->iterative = 1; return 0;
    case O_UNITS:
        if (strcmp(arg, "auto") && strcmp(arg, "conv") && strcmp(arg, "all"))
            return xai_app_usage_error(&app, "--units needs auto, conv or all");
        o->units = !strcmp(arg, "conv") ? XAI_PRUNE_UNITS_CONV : !strcmp(arg, "all") ? XAI_PRUNE_UNITS_ALL
                                                                                    : XAI_PRUNE_UNITS_AUTO;
        return 0;
    case O_SEEDS: return int_in("--seeds", arg, 1, 100, &o->seeds);
    case O_FINE: return int_in("--fine-tune", arg, 0, 10000, &o->fine_tune);
    case O_COMPOSITE:
        if (xai_composite_check(arg))
            return xai_app_usage_error(&app, "--composite: %s", xai_last_error());
        o->composite = arg;
        return 0;
    case O_RULE:
        if (*arg && xai_rules_check(arg))
            return xai_app_usage_error(&app, "--rule: %s", xai_last_error());
        o->rules = arg;
        return 0;
    case O_NORM:
        if (strcmp(arg, "auto") && strcmp(arg, "l1") && strcmp(arg, "l2"))
            return xai_app_usage_error(&app, "--norm needs auto, l1 or l2");
        o->norm = !strcmp(arg, "l1") ? XAI_PRUNE_NORM_L1 : !strcmp(arg, "l2") ? XAI_PRUNE_NORM_L2 : -1;
        return 0;
    case O_LR:
        if (real_in("--lr", arg, 0, 10, &lr))
            return XAI_EXIT_USAGE;
        o->lr = (float)lr;
        return 0;
    }
    return -1;
}

static int check_options(prune_opts *o, int argc, char **argv)
{
    if (optind + 1 != argc)
        return xai_app_usage_error(&app, "expected one MODEL.onnx");
    o->model = argv[optind];
    if (!o->outdir)
        return xai_app_usage_error(&app, "missing -o OUTDIR");
    if (!o->test || !o->test_labels)
        return xai_app_usage_error(&app, "--test and --test-labels are needed (held-out accuracy)");
    if (!o->data != !o->labels)
        return xai_app_usage_error(&app, "--data and --labels go together");
    int needs_data = o->fine_tune > 0;
    for (int k = 0; k < o->ncrit; k++)
        needs_data |= o->crit[k] != XAI_PRUNE_WEIGHT;
    if (needs_data && !o->data)
        return xai_app_usage_error(&app, "--data and --labels are needed by the %s", o->fine_tune ? "fine-tuning"
                                                                                                 : "criteria");
    if (o->step > o->total)
        return xai_app_usage_error(&app, "--step must not exceed --total");
    return 0;
}

static int prune_opt_fn(void *ctx, int c, char *arg)
{
    if (c == 'h')
        return usage(stdout), -1;
    int rc = prune_option(ctx, c, arg);
    return rc < 0 ? XAI_APP_NOT_MINE : rc;
}

/* 0 to go on, -1 for exit 0 (help, version), else the exit code */
static int parse_args(int argc, char **argv, prune_opts *o)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},     {"data", required_argument, 0, O_DATA},
        {"labels", required_argument, 0, O_LABELS}, {"test", required_argument, 0, O_TEST},
        {"test-labels", required_argument, 0, O_TEST_LABELS}, {"criteria", required_argument, 0, O_CRITERIA},
        {"step", required_argument, 0, O_STEP},    {"total", required_argument, 0, O_TOTAL},
        {"per-layer", no_argument, 0, O_PER_LAYER}, {"ref-size", required_argument, 0, O_REF},
        {"seeds", required_argument, 0, O_SEEDS},  {"composite", required_argument, 0, O_COMPOSITE},
        {"fine-tune", required_argument, 0, O_FINE}, {"lr", required_argument, 0, O_LR},
        {"save", required_argument, 0, O_SAVE},    {"help", no_argument, 0, 'h'},
        {"ref-per-class", required_argument, 0, O_PER_CLASS}, {"units", required_argument, 0, O_UNITS},
        {"iterative", no_argument, 0, O_ITERATIVE}, {"rule", required_argument, 0, O_RULE},
        {"norm", required_argument, 0, O_NORM},
        XAI_APP_LONG_OPTIONS,                      {0, 0, 0, 0}};
    int rc = xai_app_getopt(&app, argc, argv, ":o:fqvhV", opts, prune_opt_fn, o);
    return rc ? rc : check_options(o, argc, argv);
}

int main(int argc, char **argv)
{
    static prune_opts o = {.crit = {XAI_PRUNE_LRP, XAI_PRUNE_WEIGHT, XAI_PRUNE_GRADIENT, XAI_PRUNE_TAYLOR},
                           .ncrit = 4, .step = 0.1, .total = 0.9, .global = 1, .ref_per_class = 10, .seeds = 5,
                           .units = XAI_PRUNE_UNITS_AUTO,
                           .composite = "epsilon-plus", .rules = XAI_PRUNE_LRP_RULES, .norm = -1,
                           .lr = 1e-4f};
    xai_app_init(&app, PROG, "0.1.0", argc, argv);
    xai_app_install_signal_handlers();
    int rc = parse_args(argc, argv, &o);
    if (rc == 0) {
        xai_app_apply_threads(&app);
        rc = prune_run(&o);
    }
    cairo_debug_reset_static_data();
    FcFini();
    xai_app_free(&app);
    return rc < 0 ? XAI_EXIT_OK : rc;
}
