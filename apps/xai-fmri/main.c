/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-fmri - train and explain fMRI decoders (a linear read-out by default, a 3-D CNN per volume,
 * or DeepLight-style 2-D CNN per axial slice + biLSTM over slices) and write LRP relevance as
 * BIDS derivatives: a 4-D relevance NIfTI in the input's exact grid, 3-D per-class summaries, a
 * slice mosaic PNG over the mean EPI, a per-volume prediction table, JSON sidecars with
 * provenance. Forms: `xai-fmri train ...`, `xai-fmri explain ...`, `xai-fmri evaluate ...`,
 * and the BIDS-App form `xai-fmri BIDS_DIR OUT_DIR participant|group` (participant also in
 * shards or as a Slurm array). This file is the options and the help; the commands are in
 * train.c, explain.c, evaluate.c, participant.c and batch.c, the work in xai/domain-fmri.h.
 * Refs: BIDS 1.9 (derivatives, task events); BIDS-Apps (Gorgolewski et al. 2017);
 * DeepLight (Thomas et al. 2019, doi:10.3389/fnins.2019.01321); LRP (Bach et al. 2015).
 */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmri.h"
#include "xai/lrp.h"


/* ---------------------------------------------------------------- options */

enum {
    OPT_BOLD = 0x2000, OPT_EVENTS, OPT_LABELS, OPT_MASK, OPT_LAG, OPT_AUTOMASK, OPT_CONDITIONS, OPT_ARCH,
    OPT_FAMILY, OPT_EPOCHS, OPT_BATCH, OPT_LR, OPT_SEED, OPT_VALSPLIT, OPT_PATIENCE, OPT_CV, OPT_MODEL,
    OPT_METHOD, OPT_COMPOSITE, OPT_EPSILON, OPT_GAMMA, OPT_TARGET, OPT_NO4D, OPT_EBATCH, OPT_PLABEL, OPT_TASK, OPT_SHARD,
    OPT_SAVE_INPUT, OPT_CONCEPTS, OPT_WD, OPT_DETREND, OPT_SMOOTH, OPT_SCREEN, OPT_SLURM, OPT_SLURM_ARGS, OPT_MAX_PAR,
    OPT_DRY_RUN, OPT_WAIT, OPT_WAIT_TIMEOUT, OPT_TRUTH, OPT_METRICS, OPT_STRICT, OPT_SAMPLES
};

/* A participant label (optionally "sub-" + letters and digits), not a path or a level. */
static int is_label(const char *s)
{
    if (!strncmp(s, "sub-", 4))
        s += 4;
    if (!*s || !strcmp(s, "participant") || !strcmp(s, "group"))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

static const struct option lopts[] = {
    {"bold", required_argument, 0, OPT_BOLD}, {"events", required_argument, 0, OPT_EVENTS},
    {"labels", required_argument, 0, OPT_LABELS}, {"mask", required_argument, 0, OPT_MASK},
    {"lag", required_argument, 0, OPT_LAG}, {"auto-mask", required_argument, 0, OPT_AUTOMASK},
    {"conditions", required_argument, 0, OPT_CONDITIONS}, {"arch", required_argument, 0, OPT_ARCH},
    {"family", required_argument, 0, OPT_FAMILY}, {"epochs", required_argument, 0, OPT_EPOCHS},
    {"batch", required_argument, 0, OPT_BATCH}, {"lr", required_argument, 0, OPT_LR},
    {"seed", required_argument, 0, OPT_SEED}, {"val-split", required_argument, 0, OPT_VALSPLIT},
    {"patience", required_argument, 0, OPT_PATIENCE}, {"cv", no_argument, 0, OPT_CV},
    {"model", required_argument, 0, OPT_MODEL}, {"method", required_argument, 0, OPT_METHOD},
    {"composite", required_argument, 0, OPT_COMPOSITE}, {"epsilon", required_argument, 0, OPT_EPSILON},
    {"gamma", required_argument, 0, OPT_GAMMA}, {"target", required_argument, 0, OPT_TARGET},
    {"no-4d", no_argument, 0, OPT_NO4D}, {"explain-batch", required_argument, 0, OPT_EBATCH},
    {"save-input", no_argument, 0, OPT_SAVE_INPUT}, {"concepts", required_argument, 0, OPT_CONCEPTS},
    {"participant-label", required_argument, 0, OPT_PLABEL},
    {"participant_label", required_argument, 0, OPT_PLABEL}, {"task", required_argument, 0, OPT_TASK},
    {"shard", required_argument, 0, OPT_SHARD}, {"weight-decay", required_argument, 0, OPT_WD},
    {"detrend", required_argument, 0, OPT_DETREND}, {"smooth", required_argument, 0, OPT_SMOOTH},
    {"screen", required_argument, 0, OPT_SCREEN}, {"slurm", no_argument, 0, OPT_SLURM},
    {"slurm-args", required_argument, 0, OPT_SLURM_ARGS}, {"max-parallel", required_argument, 0, OPT_MAX_PAR},
    {"dry-run", no_argument, 0, OPT_DRY_RUN}, {"wait", no_argument, 0, OPT_WAIT},
    {"wait-timeout", required_argument, 0, OPT_WAIT_TIMEOUT}, {"truth", required_argument, 0, OPT_TRUTH},
    {"metrics", required_argument, 0, OPT_METRICS}, {"strict", no_argument, 0, OPT_STRICT},
    {"samples", required_argument, 0, OPT_SAMPLES},
    {"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, XAI_APP_LONG_OPTIONS,
    {0, 0, 0, 0}};

static void defaults(opts *o)
{
    o->lag = XAI_FMRI_LAG_HRF;
    o->auto_frac = 0; /* the histogram-gap mask */
    o->detrend = 1;
    o->samples = -1; /* trials for event-related designs, volumes for block designs */
    o->epochs = 50;
    o->batch = 16;
    o->lr = 1e-3;
    o->weight_decay = 0.1;
    o->seed = 1;
    o->epsilon = 1e-6;
    o->gamma = 0.25;
    o->smooth = -1; /* by the data's voxels per labelled volume */
    o->screen = -1;
}

/* The long name of an option code, for messages. */
static const char *long_name(int c)
{
    const struct option *p = lopts;
    while (p->name && p->val != c)
        p++;
    return p->name ? p->name : "?";
}

/* Options with a real value. */
static int real_option(opts *o, int c, const char *arg)
{
    double d;
    if (xai_app_parse_double(arg, 0, HUGE_VAL, &d) || (c == OPT_VALSPLIT && d > 0.9) || (c == OPT_AUTOMASK && d >= 1) ||
        (c == OPT_LR && d == 0) || (c == OPT_SCREEN && (d == 0 || d > 100)))
        return xai_app_usage_error(&o->app, "--%s: invalid value '%s'", long_name(c), arg);
    if (c == OPT_SCREEN)
        d /= 100; /* a percentage on the command line */
    double *dst[] = {&o->lag, &o->weight_decay, &o->auto_frac, &o->lr, &o->val_split, &o->epsilon, &o->gamma,
                     &o->smooth, &o->screen};
    static const int code[] = {OPT_LAG, OPT_WD, OPT_AUTOMASK, OPT_LR, OPT_VALSPLIT, OPT_EPSILON, OPT_GAMMA,
                               OPT_SMOOTH, OPT_SCREEN};
    for (size_t i = 0; i < sizeof code / sizeof code[0]; i++)
        if (code[i] == c)
            *dst[i] = d;
    return 0;
}

/* Options with an integer value. */
static int int_option(opts *o, int c, const char *arg)
{
    long v;
    if (xai_app_parse_long(arg, c == OPT_SEED || c == OPT_PATIENCE || c == OPT_EBATCH ? 0 : 1, 100000000, &v))
        return xai_app_usage_error(&o->app, "--%s: invalid value '%s'", long_name(c), arg);
    if (c == OPT_EPOCHS)
        o->epochs = (int)v;
    else if (c == OPT_BATCH)
        o->batch = v;
    else if (c == OPT_SEED)
        o->seed = (uint64_t)v;
    else if (c == OPT_PATIENCE)
        o->patience = (int)v;
    else
        o->ebatch = v;
    return 0;
}

/* Options that take a file or a word. */
static int word_option(opts *o, int c, const char *arg, int argc, char **argv)
{
    switch (c) {
    case 'o': o->out = arg; return 0;
    case OPT_BOLD:
        if (o->nbold == MAX_RUNS)
            return xai_app_usage_error(&o->app, "too many --bold");
        o->bold[o->nbold++] = arg;
        return 0;
    case OPT_EVENTS: if (o->nevents < MAX_RUNS) o->events[o->nevents++] = arg; return 0;
    case OPT_LABELS: if (o->nlabels < MAX_RUNS) o->labels[o->nlabels++] = arg; return 0;
    case OPT_MASK: o->mask = arg; return 0;
    case OPT_CONDITIONS: o->conditions = arg; return 0;
    case OPT_ARCH: o->arch = arg; return 0;
    case OPT_FAMILY: o->family = arg; return 0;
    case OPT_MODEL: o->model = arg; return 0;
    case OPT_METHOD: o->method = arg; return 0;
    case OPT_TARGET: o->target = arg; return 0;
    case OPT_TASK: o->task = arg; return 0;
    case OPT_SLURM_ARGS: o->slurm_args = arg; return 0;
    case OPT_TRUTH: o->truth = arg; return 0;
    case OPT_METRICS: o->metrics = arg; return 0;
    case OPT_MAX_PAR: case OPT_WAIT_TIMEOUT: {
        if (xai_app_parse_batch_limit(arg, c == OPT_WAIT_TIMEOUT, c == OPT_MAX_PAR ? &o->max_parallel : &o->wait_timeout))
            return xai_app_usage_error(&o->app, "%s: invalid value '%s'", c == OPT_MAX_PAR ? "--max-parallel"
                                                                                          : "--wait-timeout", arg);
        return 0;
    }
    case OPT_COMPOSITE:
        if (xai_composite_check(arg) != XAI_OK)
            return xai_app_usage_error(&o->app, "--composite: %s", xai_last_error());
        o->composite = arg;
        return 0;
    case OPT_DETREND:
        if (strcmp(arg, "linear") && strcmp(arg, "none"))
            return xai_app_usage_error(&o->app, "--detrend: expected linear or none, got '%s'", arg);
        o->detrend = !strcmp(arg, "linear");
        return 0;
    case OPT_SAMPLES:
        o->samples = !strcmp(arg, "trials") ? XAI_FMRI_TRIALS_LSS : xai_fmri_samples_parse(arg);
        if (o->samples < 0)
            return xai_app_usage_error(&o->app, "--samples: expected volumes, trials, trials-lss or trials-peak, "
                                                "got '%s'", arg);
        return 0;
    case OPT_SHARD:
        if (xai_app_parse_shard(arg, &o->shard_k, &o->shard_n) != 0)
            return xai_app_usage_error(&o->app, "--shard: expected K/N with 1 <= K <= N, got '%s'", arg);
        return 0;
    case OPT_PLABEL: /* takes one or more labels: the following non-option words too */
        o->plabels[o->nplabels++] = arg;
        while (optind < argc && o->nplabels < MAX_SUBJECTS && is_label(argv[optind]))
            o->plabels[o->nplabels++] = argv[optind++];
        return 0;
    default: return xai_app_usage_error(&o->app, "unknown option");
    }
}

/* One program option: 0 go on, else the exit code (-1: stop with 0, e.g. after --help). */
static int program_option(opts *o, int c, const char *cmd, int argc, char **argv)
{
    switch (c) {
    case 'h': fmri_help(cmd); return -1;
    case OPT_CV: o->cv = 1; return 0;
    case OPT_STRICT: o->strict = 1; return 0;
    case OPT_NO4D: o->no4d = 1; return 0;
    case OPT_SAVE_INPUT: o->save_input = 1; return 0;
    case OPT_CONCEPTS: {
        char msg[256];
        if (concepts_parse(optarg, &o->cs, msg, sizeof msg) != 0)
            return xai_app_usage_error(&o->app, "%s", msg);
        o->concepts = 1;
        return 0;
    }
    case OPT_SLURM: o->slurm = 1; return 0;
    case OPT_DRY_RUN: o->dry_run = 1; return 0;
    case OPT_WAIT: o->wait = 1; return 0;
    case OPT_LAG: case OPT_WD: case OPT_AUTOMASK: case OPT_LR: case OPT_VALSPLIT: case OPT_EPSILON: case OPT_GAMMA:
    case OPT_SMOOTH: case OPT_SCREEN:
        return real_option(o, c, optarg);
    case OPT_EPOCHS: case OPT_BATCH: case OPT_SEED: case OPT_PATIENCE: case OPT_EBATCH:
        return int_option(o, c, optarg);
    default: return word_option(o, c, optarg, argc, argv);
    }
}

/* The command: train, explain, or BIDS_DIR OUT_DIR participant|group. */
static int dispatch(opts *o, const char *cmd, int argc, char **argv)
{
    if (cmd) {
        if (optind + 1 != argc)
            return xai_app_usage_error(&o->app, "%s: unexpected argument '%s'", cmd,
                                       argv[optind + 1 < argc ? optind + 1 : optind]);
        if (o->concepts && strcmp(cmd, "explain"))
            return xai_app_usage_error(&o->app, "--concepts belongs to explain");
        return !strcmp(cmd, "train") ? cmd_train(o) : !strcmp(cmd, "explain") ? cmd_explain(o) : cmd_evaluate(o);
    }
    if (o->concepts)
        return xai_app_usage_error(&o->app, "--concepts belongs to explain");
    if (argc - optind != 3)
        return xai_app_usage_error(&o->app, "expected 'train', 'explain' or BIDS_DIR OUT_DIR participant|group");
    const char *bids = argv[optind], *outd = argv[optind + 1], *level = argv[optind + 2];
    if (o->strict) /* the participant level trains and explains in one go; its verdicts are in the sidecars */
        return xai_app_usage_error(&o->app, "--strict applies to train, explain and evaluate, not to the %s level",
                                   level);
    if (o->slurm && strcmp(level, "participant"))
        return xai_app_usage_error(&o->app, "--slurm runs the participant level (the group step follows it)");
    if (!strcmp(level, "participant"))
        return cmd_participant(o, bids, outd);
    if (!strcmp(level, "group"))
        return cmd_group(o, outd);
    return xai_app_usage_error(&o->app, "analysis level must be participant or group, not '%s'", level);
}

int main(int argc, char **argv)
{
    opts *o = calloc(1, sizeof *o);
    if (!o)
        return XAI_EXIT_DATA;
    xai_app_init(&o->app, PROG, XAI_FMRI_VERSION, argc, argv);
    o->argc = argc;
    o->argv = argv;
    defaults(o);
    int rc = 0, c;
    const char *cmd = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    if (cmd && strcmp(cmd, "train") && strcmp(cmd, "explain") && strcmp(cmd, "evaluate"))
        cmd = NULL;
    while (rc == 0 && (c = getopt_long(argc, argv, "o:hfqv", lopts, NULL)) != -1) {
        int h = xai_app_handle_option(&o->app, c, optarg);
        rc = h == 1 ? 0 : h == -1 ? XAI_EXIT_USAGE : h == 2 ? -1 : program_option(o, c, cmd, argc, argv);
    }
    if (rc == 0) {
        xai_app_apply_threads(&o->app);
        rc = dispatch(o, cmd, argc, argv);
    }
    xai_app_free(&o->app);
    free(o);
    cairo_debug_reset_static_data(); /* so leak checkers see only real leaks */
    FcFini();
    return rc < 0 ? XAI_EXIT_OK : rc;
}
