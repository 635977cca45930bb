/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-eeg - train a shallow CNN on epoched EEG and explain it: channel x time relevance
 * (.npy), a channels.tsv with relevance columns, an epochs table with predictions and
 * logits, heatmaps and scalp topomaps. The EEG domain (reading, pre-processing, epochs,
 * maps, topomaps, group level) is formats/domain/eeg*.c; this program parses the command
 * line (main.c) and runs train.c, explain.c, bids.c and batch.c. Refs: Schirrmeister et al. 2017 (shallow
 * ConvNet); Sturm et al. 2016 (LRP for EEG, J Neurosci Methods 274:141).
 * Exit codes: 0 ok, 1 data/runtime error, 2 usage, 3 some inputs failed.
 */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eeg-app.h"
#include "report-app.h"

enum { O_EDF = 1, O_EVENTS, O_TMIN, O_TMAX, O_BASELINE, O_CHANNELS, O_REF, O_BANDPASS, O_NOTCH, O_ORDER,
       O_RESAMPLE, O_ARCH, O_MODEL, O_METHOD, O_COMPOSITE, O_NOFIG, O_LABEL, O_TASK, O_STANDARDISE,
       O_AUGMENT, O_SAVE_INPUT, O_TRUTH, O_TRUTH_KIND, O_METRICS, O_CONCEPTS, O_AUG_COPIES };

static void free_inputs(opts *o)
{
    for (int i = 0; i < o->ninputs; i++) {
        free(o->inputs[i]);
        if (o->outdirs)
            free(o->outdirs[i]);
    }
    free(o->inputs);
    free(o->outdirs);
    for (int i = 0; i < o->nlabels; i++)
        free(o->labels[i]);
    free(o->labels);
}

static const struct option longopts[] = {
    {"edf", required_argument, 0, O_EDF}, {"input", required_argument, 0, O_EDF},
    {"events", required_argument, 0, O_EVENTS}, {"tmin", required_argument, 0, O_TMIN},
    {"tmax", required_argument, 0, O_TMAX}, {"baseline", required_argument, 0, O_BASELINE},
    {"channels", required_argument, 0, O_CHANNELS}, {"reference", required_argument, 0, O_REF},
    {"bandpass", required_argument, 0, O_BANDPASS}, {"notch", required_argument, 0, O_NOTCH},
    {"filter-order", required_argument, 0, O_ORDER}, {"resample", required_argument, 0, O_RESAMPLE},
    {"arch", required_argument, 0, O_ARCH},
    {"standardise", required_argument, 0, O_STANDARDISE}, {"augment", required_argument, 0, O_AUGMENT},
    {"augment-copies", required_argument, 0, O_AUG_COPIES},
    {"model", required_argument, 0, O_MODEL}, {"method", required_argument, 0, O_METHOD},
    {"composite", required_argument, 0, O_COMPOSITE}, XAI_APP_DRIVER_TRAIN_OPTIONS,
    XAI_APP_DRIVER_EXPLAIN_OPTIONS,
    {"truth", required_argument, 0, O_TRUTH}, {"truth-kind", required_argument, 0, O_TRUTH_KIND},
    {"metrics", required_argument, 0, O_METRICS}, {"concepts", required_argument, 0, O_CONCEPTS}, {"no-figures", no_argument, 0, O_NOFIG}, {"save-input", no_argument, 0, O_SAVE_INPUT}, {"output", required_argument, 0, 'o'},
    {"participant-label", required_argument, 0, O_LABEL}, {"participant_label", required_argument, 0, O_LABEL},
    {"task", required_argument, 0, O_TASK}, EEG_BATCH_LONG_OPTIONS,
    {"help", no_argument, 0, 'h'}, XAI_APP_LONG_OPTIONS, {0, 0, 0, 0}};

/* An option with a list of values (--edf F F ..., --participant-label L L ...): the values
 * up to the next option are taken, labels without their "sub-". */
static int take_list(xai_app *app, char ***list, int *n, const char *first, int ac, char **av, int strip_sub)
{
    char **nl = realloc(*list, (size_t)(*n + ac + 1) * sizeof *nl);
    if (!nl)
        return xai_app_fail(app, NULL, "out of memory");
    *list = nl;
    for (const char *v = first;;) {
        if (!(nl[(*n)++] = xai_app_strdup_printf("%s", strip_sub && !strncmp(v, "sub-", 4) ? v + 4 : v)))
            return xai_app_fail(app, NULL, "out of memory");
        if (optind >= ac || av[optind][0] == '-')
            return XAI_EXIT_OK;
        v = av[optind++];
    }
}

static int number_option(xai_app *app, opts *o, int c, const char *name, const char *arg)
{
    double v;
    double lo = c == O_TMIN || c == O_TMAX ? -1e5 : 0, hi = c == O_NOTCH ? HUGE_VAL : c == O_RESAMPLE ? 1e6 : 1e5;
    if (xai_app_parse_double(arg, lo, hi, &v) != 0)
        return xai_app_usage_error(app, "--%s: invalid value '%s'", name, arg);
    if (c == O_TMIN)
        o->tmin = v, o->tmin_set = 1;
    else if (c == O_TMAX)
        o->tmax = v, o->tmax_set = 1;
    else if (c == O_NOTCH)
        o->notch = v;
    else
        o->resample = v;
    return XAI_EXIT_OK;
}

/* the options that choose between two words */
static int choice_option(xai_app *app, opts *o, int c, const char *name, const char *arg)
{
    static const struct {
        int code;
        const char *off, *on;
    } ch[] = {{O_STANDARDISE, "none", "recording"}, {O_AUGMENT, "none", "shift-scale"},
              {O_BASELINE, "none", "mean"}, {O_REF, "none", "average"}};
    if (c == O_STANDARDISE && !strcmp(arg, "robust")) {
        o->standardise = XAI_EEG_STANDARDISE_ROBUST;
        return XAI_EXIT_OK;
    }
    if (c == O_AUGMENT && !strcmp(arg, "shift-scale-dropout")) {
        o->augment = EEG_AUGMENT_DROPOUT;
        return XAI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof ch / sizeof ch[0]; i++) {
        if (ch[i].code != c)
            continue;
        if (c == O_STANDARDISE && strcmp(arg, ch[i].off) && strcmp(arg, ch[i].on))
            return xai_app_usage_error(app, "--%s: invalid value '%s' (none, recording or robust)", name, arg);
        if (c == O_AUGMENT && strcmp(arg, ch[i].off) && strcmp(arg, ch[i].on))
            return xai_app_usage_error(app, "--%s: invalid value '%s' (none, shift-scale or shift-scale-dropout)",
                                       name, arg);
        if (strcmp(arg, ch[i].off) && strcmp(arg, ch[i].on))
            return xai_app_usage_error(app, "--%s: invalid value '%s' (%s or %s)", name, arg, ch[i].off, ch[i].on);
        int on = !strcmp(arg, ch[i].on);
        *(c == O_STANDARDISE ? &o->standardise : c == O_AUGMENT ? &o->augment
                                                 : c == O_BASELINE ? &o->baseline_mean : &o->average_ref) = on;
        return XAI_EXIT_OK;
    }
    return -1;
}

static int concept_option(xai_app *app, opts *o, const char *arg)
{
    char msg[256];
    if (concepts_parse(arg, &o->cs, msg, sizeof msg) != 0)
        return xai_app_usage_error(app, "%s", msg);
    o->concepts = 1;
    return XAI_EXIT_OK;
}

static int own_option(xai_app *app, opts *o, int c, const char *name, const char *arg, int ac, char **av)
{
    long n;
    double band[2];
    switch (c) {
    case O_EDF:
    case 'i': return take_list(app, &o->inputs, &o->ninputs, arg, ac, av, 0);
    case O_LABEL: return take_list(app, &o->labels, &o->nlabels, arg, ac, av, 1);
    case O_TMIN: case O_TMAX: case O_NOTCH: case O_RESAMPLE: return number_option(app, o, c, name, arg);
    case O_STANDARDISE: case O_AUGMENT: case O_BASELINE: case O_REF: return choice_option(app, o, c, name, arg);
    case O_BANDPASS:
        if (xai_app_parse_double_list(arg, ',', 0, HUGE_VAL, band, 2) != 2 || (band[1] > 0 && band[0] >= band[1]))
            return xai_app_usage_error(app, "--bandpass: expected LO,HI with 0 <= LO < HI (0 = edge off)");
        o->hp = band[0];
        o->lp = band[1];
        return XAI_EXIT_OK;
    case O_ORDER:
        if (xai_app_parse_long(arg, 2, 16, &n) != 0 || n % 2)
            return xai_app_usage_error(app, "--filter-order: invalid value '%s' (an even number 2..16)", arg);
        o->order = (int)n;
        return XAI_EXIT_OK;
    case O_AUG_COPIES:
        if (xai_app_parse_long(arg, 1, 8, &n) != 0)
            return xai_app_usage_error(app, "--augment-copies: invalid value '%s' (1..8)", arg);
        o->augment_copies = (int)n;
        return XAI_EXIT_OK;
    case O_METHOD:
        return xai_method_parse(arg, &o->method) == XAI_OK ? XAI_EXIT_OK
                                                            : xai_app_usage_error(app, "--method: %s", xai_last_error());
    case O_EVENTS: o->events = arg; return XAI_EXIT_OK;
    case O_CHANNELS: o->channels = arg; return XAI_EXIT_OK;
    case O_ARCH: o->arch = arg; return XAI_EXIT_OK;
    case O_MODEL: o->model = arg; return XAI_EXIT_OK;
    case O_COMPOSITE: o->composite = arg; return XAI_EXIT_OK;
    case O_NOFIG: o->figures = 0; return XAI_EXIT_OK;
    case O_SAVE_INPUT: o->save_input = 1; return XAI_EXIT_OK;
    case O_TASK: o->task = arg; return XAI_EXIT_OK;
    case O_TRUTH: o->truth = arg; return XAI_EXIT_OK;
    case O_TRUTH_KIND: o->truth_kind = arg; return XAI_EXIT_OK;
    case O_METRICS: o->metrics = arg; return XAI_EXIT_OK;
    case O_CONCEPTS: return concept_option(app, o, arg);
    case 'o': o->output = arg; return XAI_EXIT_OK;
    }
    return -1;
}

/* @return -1 to go on, or the exit code */
static int parse_options(xai_app *app, opts *o, int ac, char **av)
{
    int c, idx = 0;
    optind = 1;
    while ((c = getopt_long(ac, av, "i:o:hfqv", longopts, &idx)) != -1) {
        if (c == 'h') {
            eeg_usage();
            return XAI_EXIT_OK;
        }
        int r = eeg_batch_option(&o->batch, c, optarg);
        if (r == 2)
            return xai_app_usage_error(app, "--%s: invalid value '%s'", longopts[idx].name, optarg);
        if (r == 0)
            continue;
        r = own_option(app, o, c, longopts[idx].name, optarg, ac, av);
        if (r >= 0 && r != XAI_EXIT_OK)
            return r;
        if (r == XAI_EXIT_OK)
            continue;
        if ((r = xai_app_driver_handle_option(app, &o->dopt, c, optarg)) != 0) {
            if (r < 0)
                return XAI_EXIT_USAGE;
            continue;
        }
        r = xai_app_handle_option(app, c, optarg);
        if (r == 1)
            continue;
        if (r == 0)
            xai_app_usage_error(app, "unknown option");
        return r == 2 ? XAI_EXIT_OK : XAI_EXIT_USAGE;
    }
    if (optind < ac)
        return xai_app_usage_error(app, "unexpected argument '%s'", av[optind]);
    return -1;
}

static int check_options(xai_app *app, const opts *o)
{
    if (o->tmax_set && o->tmax <= o->tmin)
        return xai_app_usage_error(app, "--tmax must exceed --tmin");
    if (o->tmin_set && !o->tmax_set && o->tmin < 0)
        return xai_app_usage_error(app, "--tmin below 0 needs --tmax (the events' duration is measured from 0)");
    if (o->bids && o->ninputs)
        return xai_app_usage_error(app, "the BIDS form finds its inputs itself; --edf is for explain");
    if ((o->nlabels || o->task) && !o->bids)
        return xai_app_usage_error(app, "--participant-label and --task belong to the BIDS form");
    if (o->bids == 1 && !o->model)
        return xai_app_usage_error(app, "participant: --model M.onnx is required");
    if (o->concepts && (o->train || o->evaluate || o->bids == 2 || o->method != XAI_METHOD_LRP))
        return xai_app_usage_error(app, "--concepts belongs to explain with --method lrp");
    if ((o->truth || o->truth_kind || o->metrics) && !o->evaluate)
        return xai_app_usage_error(app, "--truth, --truth-kind and --metrics belong to evaluate");
    if (o->batch.active && (o->train || o->evaluate || o->bids == 2))
        return xai_app_usage_error(app, "--shard and --slurm belong to explain and the participant level");
    return -1;
}

/* the subcommand or the BIDS-App form; @return the arguments before the options, or -1 */
static int subcommand(xai_app *app, opts *o, int argc, char **argv)
{
    if (argc >= 4 && argv[1][0] != '-' && argv[2][0] != '-' &&
        (!strcmp(argv[3], "participant") || !strcmp(argv[3], "group"))) {
        o->bids = !strcmp(argv[3], "participant") ? 1 : 2;
        o->bids_dir = argv[1];
        o->output = argv[2];
        o->batch.active = o->bids == 1;
        o->batch.group_bids = o->bids == 1 ? argv[1] : NULL;
        o->batch.first = 4;
        return 3;
    }
    o->train = !strcmp(argv[1], "train");
    o->evaluate = !strcmp(argv[1], "evaluate");
    if (!o->train && !o->evaluate && strcmp(argv[1], "explain") != 0) {
        xai_app_usage_error(app, "unknown subcommand '%s' (train, explain, evaluate, or BIDS_DIR OUT_DIR "
                            "participant|group)",
                            argv[1]);
        return -1;
    }
    return 1;
}

static void opts_init(opts *o)
{
    *o = (opts){.tmin = 0, .hp = DEFAULT_HP, .lp = DEFAULT_LP, .order = 4, .augment = DEFAULT_AUGMENT, .augment_copies = DEFAULT_AUGMENT_COPIES, .figures = 1,
                .standardise = XAI_EEG_STANDARDISE_RECORDING, .method = XAI_METHOD_LRP};
    eeg_driver_defaults(&o->dopt);
    o->batch = (eeg_batch){.shard_k = 1, .shard_n = 1, .first = 1};
}

int main(int argc, char **argv)
{
    xai_app app;
    xai_app_init(&app, PROG, XAI_EEG_VERSION, argc, argv);
    opts o;
    opts_init(&o);
    o.batch.argv = argv;
    int rc = xai_app_leading_args(&app, argc, argv, "missing subcommand: train or explain", eeg_usage), skip;
    if (rc < 0)
        rc = (skip = subcommand(&app, &o, argc, argv)) < 0 ? XAI_EXIT_USAGE : parse_options(&app, &o, argc - skip, argv + skip);
    if (rc < 0)
        rc = check_options(&app, &o);
    if (rc < 0) {
        xai_app_apply_threads(&app);
        if (o.bids == 2)
            rc = eeg_run_group(&app, &o);
        else if (o.bids == 1 && (rc = eeg_bids_collect(&app, &o)) != XAI_EXIT_OK)
            ;
        else
            rc = o.train ? eeg_run_train(&app, &o) : o.evaluate ? eeg_run_evaluate(&app, &o) : eeg_run_explain(&app, &o);
        /* HTML reports (apps/common/report-app.h): one per participant, one per study */
        int report_rc = 0;
        if (rc != XAI_EXIT_USAGE && o.bids == 1)
            report_rc = xai_app_report_subjects_of(&app, o.output, (const char *const *)o.inputs, o.ninputs, o.model);
        else if (rc != XAI_EXIT_USAGE && o.bids == 2)
            report_rc = xai_app_report_study(&app, o.output, NULL);
        rc = rc ? rc : report_rc;
    }
    free_inputs(&o);
    xai_app_free(&app);
    cairo_debug_reset_static_data(); /* so leak checkers see only real leaks */
    FcFini();
    return rc;
}
