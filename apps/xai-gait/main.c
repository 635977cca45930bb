/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-gait - subject identification / condition classification from gait cycles of C3D
 * trials (Plug-in Gait angles) and its explanation with LRP or gradients, per trial or
 * over a whole cohort (resumable). Ref: Horst et al., Sci Rep 2019,
 * doi:10.1038/s41598-019-38748-8. Conventions: the README, "Outputs on disk".
 * Exit codes: 0 ok, 1 data/runtime error, 2 usage, 3 a batch finished with failed trials.
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
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "cli.h"
#include "explain.h"
#include "gait.h"
#include "xai/card.h"
#include "xai/domain.h"
#include "xai/lrp.h"
#include "xai/model.h"
#include "xai/train.h"

#ifndef XAI_GAIT_VERSION
#define XAI_GAIT_VERSION "0.1.0"
#endif

static void opts_defaults(opts *o);

/* The help text, one function per part: synopsis to training, explain and study, the rest. */
static void usage_train(const opts *o)
{
    printf(
        "SYNOPSIS\n"
        "  " PROG " train STUDY_DIR|TRIAL.c3d... --target subject|condition -o MODEL.onnx [options]\n"
        "  " PROG " explain --model MODEL.onnx TRIAL.c3d... -o OUTDIR [options]\n"
        "  " PROG " study STUDY_DIR OUT_DIR --model MODEL.onnx [options]\n"
        "  " PROG " group STUDY_DIR OUT_DIR --model MODEL.onnx [the study's options]\n"
        "  " PROG " evaluate --model MODEL.onnx --truth TRUTH.tsv STUDY_DIR|TRIAL.c3d... -o OUT.tsv [options]\n"
        "\n"
        "DESCRIPTION\n"
        "  Gait cycles run from a Foot Strike to the next same-side Foot Strike (EVENT group,\n"
        "  contexts Left/Right; pyCGM2 convention) and are time-normalised to 101 points. Each cycle\n"
        "  gives the selected variables x components (Plug-in Gait angles: X, Y, Z = sagittal,\n"
        "  frontal, transverse). A variable without an L/R prefix (KneeAngles) is taken from the\n"
        "  cycle's side; LKneeAngles is used on every cycle. Trials that cannot be read, lack a\n"
        "  variable or have no complete cycle are reported and skipped; cycles with gaps are\n"
        "  skipped and counted. The selection and the z-score normalisation are stored in the\n"
        "  model (metadata \"xai_preprocessing\") and applied identically by explain and study.\n"
        "  Names: sub-XX, ses-YY, run-ZZ and acq-<condition> from file-name entities or folders.\n"
        "\n"
        "ARGUMENTS\n"
        "  STUDY_DIR              a folder searched recursively for .c3d trials\n"
        "  TRIAL.c3d              single trials\n"
        "  OUT_DIR / OUTDIR       output folder (a BIDS derivative with dataset_description.json)\n"
        "\n"
        "OPTIONS (input, train)\n"
        "  --target subject|condition   what to classify [subject]\n"
        "  --split-by session|trial|subject|none   (alias --split) the group held out: the session or\n"
        "                         the walk (trial, by its run entity) for subject identification, which\n"
        "                         cannot hold out the subject it identifies; the subject for conditions;\n"
        "                         none trains on everything, unvalidated [session for --target subject\n"
        "                         (the walk when there is one session only), subject for condition];\n"
        "                         --cv K folds are capped at the number of groups (two sessions: each\n"
        "                         is held out once)\n"
        "  --sides paired|each    paired: a sample is a left cycle and the right cycle that starts\n"
        "                         inside it, each side its own channels; each: one cycle [paired]\n"
        "  --offset trial|none    subtract each channel's trial mean (per side) first: marker\n"
        "                         placement shifts whole trials by degrees [trial]\n"
        "  --augment shift-gain|shift-scale|none  add a copy of every training sample with its cycle\n"
        "                         shifted by up to 3 %%, stretched by up to 5 %% (event detection and\n"
        "                         walking speed move phases between walks) and scaled: shift-gain scales\n"
        "                         each channel's whole angle curve by its own gain (marker placement and\n"
        "                         calibration change a joint's range between sessions), shift-scale the\n"
        "                         deviations from the mean curve by one gain [%s]\n"
        "  --events auto|file|kinematic  where the Foot Strikes come from: file, the trial's events;\n"
        "                         kinematic, every Foot Strike and Foot Off from the heel, toe and\n"
        "                         sacrum markers (Zeni et al. 2008); auto, the file's, and where a side's\n"
        "                         strikes leave a gap of about two strides or more, before its first or\n"
        "                         after its last strike (or the side has none) the missing ones from\n"
        "                         the markers, or without markers where the sagittal hip and knee\n"
        "                         angles match the side's own strikes. Recovered\n"
        "                         strikes are reported per trial; the mode is recorded in the model and\n"
        "                         explain, study and evaluate use it unless given [auto]\n",
        o->augment == GAIT_AUGMENT_GAIN ? "shift-gain" : o->augment == GAIT_AUGMENT_SCALE ? "shift-scale" : "none");
    printf(
        "  --variables A,B,...    [" DEFAULT_VARS ", those of them that every trial has]\n"
        "  --components LIST      sagittal,frontal,transverse (or x,y,z) [all three]\n"
        "  --arch SPEC            on the input [variables x components (x 2 sides), 101]; {K} = classes\n"
        "                         [" DEFAULT_ARCH "]\n"
        "  Inputs are z-scored per channel around the mean curve of each model's own training\n"
        "  samples: a fold model never sees the session it holds out; each model file records its\n"
        "  statistics and the groups they came from, and explain uses each fold's own.\n"
        "\n");
}

static void usage_explain(void)
{
    printf(
        "\n"
        "OPTIONS (explain, study)\n"
        "  --model M.onnx         a model written by '" PROG " train' (its fold models are found next to it)\n"
        "  --method M             lrp|gradient|gradient-x-input|smoothgrad|integrated-gradients [lrp]\n"
        "  --composite C          LRP composite [epsilon-plus]\n"
        "  --target pred|true|CLASS   class explained per cycle; true = the trial's subject or\n"
        "                         condition, an error when it is no class of the model [pred]\n"
        "  --start stable|onehot|logit|logodds|contrast  relevance put in at the output: stable (z+ on\n"
        "                         the output layer, evidence for the class, a near-zero score cannot\n"
        "                         inflate a map); onehot explains the class whatever its score; logit scales\n"
        "                         maps by the score, so a negative score flips their colours; logodds and\n"
        "                         contrast explain the class against the others (its log-odds, its score\n"
        "                         minus the others' mean). The sidecar lists the scores (TargetScore,\n"
        "                         Logits) [stable]\n"
        "  --no-figures           skip the PNG grids\n"
        "  --save-input           also write the model inputs, <p>_desc-D_input.npy float32\n"
        "                         (samples, inputs, 101), e.g. for xai-evaluate\n"
        "  --concepts LAYER[:top=K|:channels=a,b,...]  explain: concept relevance (CRP, Achtibat et al.\n"
        "                         2023, LRP only): the filters/units of LAYER (a node name, e.g. conv0)\n"
        "                         as concepts; <p>_desc-D_concepts.npy (cycles, concepts, channels, 101),\n"
        "                         raw maps in the relevance file's cycle order that add up to the cycle's\n"
        "                         map over all concepts, and _concepts.tsv (sample, class, rank,\n"
        "                         concept, relevance, share) [top=8]\n"
        "  --shard K/N            study: only the subjects of shard K of N (subject labels in byte order,\n"
        "                         the j-th to shard j mod N + 1); a shard never writes the group\n"
        "                         tables: '" PROG " group' with the same arguments (no --shard) writes them\n"
        "                         from every shard's done-markers once all are done (an error naming\n"
        "                         the subjects that are not); outputs match a one-shard run byte for byte\n"
        "  --slurm                study: write OUT_DIR/slurm/xai-gait-array.sbatch, one array task per\n"
        "                         shard with unfinished subjects (N from --shard K/N, K ignored), and\n"
        "                         submit it, then the group step ('" PROG " group', xai-gait-group.sbatch)\n"
        "                         as its own job with --dependency=afterok on the array; --slurm-args\n"
        "                         \"ARGS\" for sbatch, --max-parallel M (%%M), --dry-run (print both\n"
        "                         scripts only), --wait (poll squeue until the array and the group job\n"
        "                         end, name failed subjects), --wait-timeout S. Needs a filesystem\n"
        "                         shared by every node.\n"
        "  Each trial is explained by the fold model that held its session (walk, subject) out; each\n"
        "  sample's map is scaled to sum |R| = 1. Maps of a model trained on the trial are flagged\n"
        "  (warning, InSampleTrials and OutOfSample in the sidecar).\n"
        "\n");
}

static void usage_evaluate_output(void)
{
    printf(
        "OPTIONS (evaluate)\n"
        "  --truth TRUTH.tsv      where each class's evidence lies, in gait terms: columns label (a class),\n"
        "                         variable (KneeAngles), component_name or component (sagittal or 0),\n"
        "                         pct_start, pct_end (%% of the cycle), optional sides (Left, Right, both)\n"
        "                         and kind (subject or condition: rows of the other task are skipped);\n"
        "                         gen_gait's truth.tsv is one\n"
        "  --metrics LIST         metrics of the out-of-fold maps (names or families of xai-evaluate:\n"
        "                         localisation, faithfulness, robustness, randomisation, complexity, all)\n"
        "                         [" "localisation,road-morf,road-lerf,faithfulness-corr,complexity" "]\n"
        "  The class explained is each trial's own (--target true) unless --target says otherwise;\n"
        "  patches of one channel x 5 %% of the cycle, removed in 20 steps; ROAD imputes along the\n"
        "  cycle. OUT.tsv (as xai-evaluate's metrics.tsv): method, metric, family, better, mean,\n"
        "  ci_low, ci_high, sd, n (samples).\n"
        "\n"
        "OUTPUT (per trial <stem> for explain, per subject sub-XX/sub-XX for study; D = lrp or the\n"
        "  gradient method's name)\n"
        "  <p>_desc-D_relevance.npy     float32 (cycles, variables x components, 101)\n"
        "  <p>_desc-D_cycles.tsv        subject session trial side cycle pct variable component\n"
        "                               value relevance (long format, one row per point)\n"
        "  <p>_desc-Dmean_cycles.tsv    per side, variable, component, pct: mean +- SD of value and\n"
        "                               relevance\n"
        "  <p>_desc-D_grid.png          clinical grid: rows joints, columns planes; mean +- SD, toe\n"
        "                               off, relevance shading\n"
        "  study adds group/desc-D_summary.tsv (relevance share and peak per subject, variable and\n"
        "  component, and the group mean), group/desc-D_subjects.tsv (cycles, accuracy, failed\n"
        "  trials), and per subject a done-marker " MARKER " with the SHA-256 of its inputs:\n"
        "  a rerun skips subjects whose inputs, model and options are unchanged and redoes the rest.\n"
        "  Every output has a JSON sidecar (CommandLine, Version, DateTime, ModelSHA256, Sources).\n"
        "\n"
        "%s"
        "\n"
        "EXAMPLES\n"
        "  " PROG " train study/ --target subject --split-by session -o gait.onnx\n"
        "  " PROG " explain --model gait.onnx study/sub-01/ses-02/sub-01_ses-02_task-walk_acq-normal_run-05.c3d -o out\n"
        "  " PROG " study study/ derivatives/xai-gait --model gait.onnx --progress lines\n"
        "\n"
        "REFERENCES\n"
        "  Horst et al. 2019, Sci Rep 9:2391 (LRP on gait: individuality of gait patterns).\n"
        "  pyCGM2 Processing/cycle.py (cycles); Vicon Plug-in Gait (angle conventions); c3d.org.\n"
        "\n"
        "EXIT STATUS\n"
        "  0 ok, 1 data or runtime error, 2 usage error, 3 finished but some trials failed,\n"
        "  4 --strict and the model is not above chance, misses a class or loses to the baseline.\n",
        xai_app_common_help);
}

static void usage(const opts *o)
{
    usage_train(o);
    xai_app_driver_help_train(stdout, &o->dopt);
    usage_explain();
    usage_evaluate_output();
}

enum { O_TARGET = 1, O_VARS, O_COMPS, O_ARCH, O_MODEL, O_METHOD, O_COMPOSITE, O_NOFIG, O_SIDES, O_OFFSET,
       O_SAVE_INPUT, O_AUGMENT, O_SHARD, O_SLURM, O_SLURM_ARGS, O_MAX_PAR, O_DRY_RUN, O_WAIT, O_WAIT_TIMEOUT, O_TRUTH, O_METRICS, O_CONCEPTS,
       O_EVENTS };

/* The batch options of study: --shard --slurm --slurm-args --max-parallel --dry-run --wait
 * --wait-timeout; -1 to go on, else the usage error's exit code. */
static int take_batch_option(xai_app *app, int c, const char *arg, opts *o)
{
    switch (c) {
    case O_SHARD:
        if (xai_app_parse_shard(arg, &o->shard_k, &o->shard_n))
            return xai_app_usage_error(app, "--shard: invalid value '%s': expected K/N with 1 <= K <= N", arg);
        o->shard_given = 1;
        break;
    case O_SLURM: o->slurm = 1; break;
    case O_SLURM_ARGS: o->slurm_args = arg; break;
    case O_DRY_RUN: o->dry_run = 1; break;
    case O_WAIT: o->wait = 1; break;
    case O_MAX_PAR:
    case O_WAIT_TIMEOUT:
        if (xai_app_parse_batch_limit(arg, c == O_WAIT_TIMEOUT, c == O_MAX_PAR ? &o->max_parallel : &o->wait_timeout))
            return xai_app_usage_error(app, "--%s: invalid value '%s': expected an integer >= 1",
                                       c == O_MAX_PAR ? "max-parallel" : "wait-timeout", arg);
        break;
    }
    return -1;
}

/* ------------------------------------------------------------------ main */

/* One parsed option into o; -1 to go on, else the exit code (help printed, usage error). */
static int take_option(xai_app *app, int c, const char *arg, const char *word, opts *o)
{
    switch (c) {
    case O_TARGET: o->target = arg; break;
    case O_VARS: o->variables = arg; break;
    case O_COMPS: o->components = arg; break;
    case O_ARCH: o->arch = arg; break;
    case O_MODEL: o->model = arg; break;
    case O_METHOD: o->method_s = arg; break;
    case O_COMPOSITE: o->composite = arg; break;
    case O_NOFIG: o->figures = 0; break;
    case O_SAVE_INPUT: o->save_input = 1; break;
    case O_SIDES: o->sides = arg; break;
    case O_OFFSET: o->offset = arg; break;
    case O_TRUTH: o->truth = arg; break;
    case O_METRICS: o->metrics = arg; break;
    case O_CONCEPTS: o->concepts = arg; break;
    case O_EVENTS:
        if ((o->events = xai_gait_events_parse(arg)) < 0)
            return xai_app_usage_error(app, "--events: invalid value '%s': expected auto, file or kinematic", arg);
        break;
    case O_AUGMENT:
        if (strcmp(arg, "shift-scale") && strcmp(arg, "shift-gain") && strcmp(arg, "none"))
            return xai_app_usage_error(app, "--augment: invalid value '%s': expected shift-gain, shift-scale or none",
                                       arg);
        o->augment = !strcmp(arg, "shift-gain") ? GAIT_AUGMENT_GAIN : !strcmp(arg, "shift-scale");
        break;
    case O_SHARD:
    case O_SLURM:
    case O_SLURM_ARGS:
    case O_MAX_PAR:
    case O_DRY_RUN:
    case O_WAIT:
    case O_WAIT_TIMEOUT: return take_batch_option(app, c, arg, o);
    case 'o': o->output = arg; break;
    case 'h': usage(o); return XAI_EXIT_OK;
    case ':': return xai_app_usage_error(app, "option '%s' needs a value", word);
    case '?': return xai_app_usage_error(app, "unknown option '%s'", word);
    default: {
        int d = xai_app_driver_handle_option(app, &o->dopt, c, arg);
        if (d == 1)
            break;
        if (d < 0)
            return XAI_EXIT_USAGE;
        int h = xai_app_handle_option(app, c, arg);
        if (h != 1)
            return h == 2 ? XAI_EXIT_OK : XAI_EXIT_USAGE;
    }
    }
    return -1;
}

/* The program's defaults: subject identification held out by session, cross-validated (there
 * is no single hold-out, so no refit after one: MODEL.onnx trains on every group); each
 * training sample plus one time-warped copy whose channels' angle curves are scaled by gains of
 * their own (a fold trained on one session would otherwise learn that session's per-channel
 * ranges as the walker's); 100 epochs without early stopping (the kept model trains on every
 * walk of its session); weight decay 1e-2. */
static void opts_defaults(opts *o)
{
    static const char *const kinds[] = {"session", "trial", "subject", "none", NULL};
    memset(o, 0, sizeof *o);
    o->figures = 1;
    o->events = -1;
    o->shard_k = o->shard_n = 1;
    xai_app_driver_opts_init(&o->dopt, "session", kinds);
    o->dopt.cv = 5;
    o->dopt.holdout = 0;
    o->augment = GAIT_AUGMENT_GAIN;
    o->dopt.epochs = 100;
    o->dopt.patience = 0;
    o->dopt.weight_decay = 1e-2;
}

static void usage_defaults(void)
{
    opts o;
    opts_defaults(&o);
    usage(&o);
}

int main(int argc, char **argv)
{
    xai_app app;
    xai_app_init(&app, PROG, XAI_GAIT_VERSION, argc, argv);
    xai_app_install_signal_handlers();
    opts o;
    opts_defaults(&o);
    int rc = xai_app_leading_args(&app, argc, argv, "missing command: train, explain, study, group or evaluate",
                                  usage_defaults);
    if (rc >= 0)
        goto out;
    o.cmd = argv[1];
    o.argv = argv;
    if (strcmp(o.cmd, "train") && strcmp(o.cmd, "explain") && strcmp(o.cmd, "study") && strcmp(o.cmd, "group") &&
        strcmp(o.cmd, "evaluate")) {
        rc = xai_app_usage_error(&app, "unknown command '%s' (train, explain, study, group or evaluate)", o.cmd);
        goto out;
    }
    static const struct option longopts[] = {
        {"target", required_argument, 0, O_TARGET}, {"split", required_argument, 0, XAI_APP_OPT_SPLIT_BY},
        {"variables", required_argument, 0, O_VARS}, {"components", required_argument, 0, O_COMPS},
        {"arch", required_argument, 0, O_ARCH}, {"model", required_argument, 0, O_MODEL},
        {"method", required_argument, 0, O_METHOD}, {"composite", required_argument, 0, O_COMPOSITE},
        {"no-figures", no_argument, 0, O_NOFIG}, {"save-input", no_argument, 0, O_SAVE_INPUT},
        {"output", required_argument, 0, 'o'}, {"sides", required_argument, 0, O_SIDES},
        {"offset", required_argument, 0, O_OFFSET}, {"augment", required_argument, 0, O_AUGMENT},
        {"start", required_argument, 0, XAI_APP_OPT_START}, XAI_APP_DRIVER_TRAIN_OPTIONS,
        {"shard", required_argument, 0, O_SHARD}, {"slurm", no_argument, 0, O_SLURM},
        {"slurm-args", required_argument, 0, O_SLURM_ARGS}, {"max-parallel", required_argument, 0, O_MAX_PAR},
        {"dry-run", no_argument, 0, O_DRY_RUN}, {"wait", no_argument, 0, O_WAIT},
        {"wait-timeout", required_argument, 0, O_WAIT_TIMEOUT}, {"truth", required_argument, 0, O_TRUTH},
        {"metrics", required_argument, 0, O_METRICS}, {"concepts", required_argument, 0, O_CONCEPTS},
        {"events", required_argument, 0, O_EVENTS},
        {"help", no_argument, 0, 'h'}, XAI_APP_LONG_OPTIONS, {0, 0, 0, 0}};
    int ac = argc - 1, c;
    char **av = argv + 1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(ac, av, ":o:hfqv", longopts, NULL)) != -1)
        if ((rc = take_option(&app, c, optarg, av[optind - 1], &o)) >= 0)
            goto out;
    if (strcmp(o.cmd, "train") && o.target) /* explain, study, evaluate: the class explained */
        o.dopt.target = o.target;
    else if (!strcmp(o.cmd, "evaluate")) /* the truth is each sample's own class */
        o.dopt.target = "true";
    if (strcmp(o.cmd, "study") && (o.shard_given || o.slurm)) {
        rc = xai_app_usage_error(&app, "--shard and --slurm belong to the study command");
        goto out;
    }
    o.args = av + optind;
    o.nargs = ac - optind;
    xai_app_apply_threads(&app);
    if (!strcmp(o.cmd, "train"))
        rc = gait_cmd_train(&app, &o);
    else if (!strcmp(o.cmd, "explain"))
        rc = gait_cmd_explain(&app, &o);
    else if (!strcmp(o.cmd, "evaluate"))
        rc = gait_cmd_evaluate(&app, &o);
    else
        rc = gait_cmd_study(&app, &o);
out:
    xai_app_free(&app);
    cairo_debug_reset_static_data(); /* so leak checkers see only real leaks */
    FcFini();
    return rc;
}
