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

static void usage(void)
{
    printf(
        "SYNOPSIS\n"
        "  " PROG " train STUDY_DIR|TRIAL.c3d... --target subject|condition -o MODEL.onnx [options]\n"
        "  " PROG " explain --model MODEL.onnx TRIAL.c3d... -o OUTDIR [options]\n"
        "  " PROG " study STUDY_DIR OUT_DIR --model MODEL.onnx [options]\n"
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
        "  --split-by session|trial|subject|none   (alias --split) what is held out: each subject's\n"
        "                         last session or last trial (subject identification cannot hold\n"
        "                         out the subject), or a quarter of the subjects (conditions)\n"
        "                         [session for --target subject, subject for condition]\n"
        "  --sides paired|each    paired: a sample is a left cycle and the right cycle that starts\n"
        "                         inside it, each side its own channels; each: one cycle [paired]\n"
        "  --offset trial|none    subtract each channel's trial mean (per side) first: marker\n"
        "                         placement shifts whole trials by degrees [trial]\n"
        "  --weight-decay W [1e-2]  --strict (warnings about the model's validity exit 4)\n"
        "  --variables A,B,...    [" DEFAULT_VARS "]\n"
        "  --components LIST      sagittal,frontal,transverse (or x,y,z) [all three]\n"
        "  --arch SPEC            on the input [variables x components, 101]; {K} = classes\n"
        "                         [" DEFAULT_ARCH "]\n"
        "  --epochs N [60]  --batch B [32]  --lr LR [1e-3]  --seed S [0]\n"
        "\n");
    printf(
        "OPTIONS (explain, study)\n"
        "  --model M.onnx         a model written by '" PROG " train'\n"
        "  --method M             lrp|gradient|gradient-x-input|smoothgrad|integrated-gradients [lrp]\n"
        "  --composite C          LRP composite [epsilon-plus]\n"
        "  --target pred|true|CLASS   class explained per cycle; true = the trial's subject or\n"
        "                         condition when it is a model class [pred]\n"
        "  --start onehot|logit   relevance put in at the output: one-hot (the default) explains the\n"
        "                         class whatever its score; logit scales maps by the score, so a\n"
        "                         negative score flips their colours. The sidecar lists the scores\n"
        "                         (TargetScore, Logits) [onehot]\n"
        "  --no-figures           skip the PNG grids\n"
        "  --save-input           also write the model inputs, <p>_desc-D_input.npy float32\n"
        "  --save-input           also write the model inputs, <p>_desc-D_input.npy float32\n"
        "                         (cycles, variables x components, 101), e.g. for xai-evaluate\n"
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

enum { O_TARGET = 1, O_SPLIT, O_VARS, O_COMPS, O_ARCH, O_EPOCHS, O_BATCH, O_LR, O_SEED, O_MODEL, O_METHOD,
       O_COMPOSITE, O_NOFIG, O_SIDES, O_OFFSET, O_WD, O_STRICT, O_START, O_SAVE_INPUT };

/* ------------------------------------------------------------------ main */

/* A numeric option into o; -1, or the usage error's exit code. */
static int take_number(xai_app *app, int c, const char *arg, opts *o)
{
    char *end = NULL;
    if (c == O_LR || c == O_WD) {
        double v = strtod(arg, &end);
        if (*end || !(v >= 0) || (c == O_LR && !(v > 0)) || (c == O_WD && v > 1))
            return xai_app_usage_error(app, "%s needs %s, not '%s'", c == O_LR ? "--lr" : "--weight-decay",
                                       c == O_LR ? "a positive number" : "a number in [0, 1]", arg);
        *(c == O_LR ? &o->lr : &o->weight_decay) = v;
        return -1;
    }
    long long v = strtoll(arg, &end, 10);
    const char *name = c == O_EPOCHS ? "--epochs" : c == O_BATCH ? "--batch" : "--seed";
    if (*end || v < (c == O_SEED ? 0 : 1) || v > 100000000)
        return xai_app_usage_error(app, "invalid value '%s' for %s", arg, name);
    if (c == O_EPOCHS)
        o->epochs = (int)v;
    else if (c == O_BATCH)
        o->batch = v;
    else
        o->seed = (uint64_t)v;
    return -1;
}

/* One parsed option into o; -1 to go on, else the exit code (help printed, usage error). */
static int take_option(xai_app *app, int c, const char *arg, const char *word, opts *o)
{
    switch (c) {
    case O_TARGET: o->target = arg; break;
    case O_SPLIT: o->split = arg; break;
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
    case O_STRICT: o->strict = 1; break;
    case O_START: o->start = arg; break;
    case 'o': o->output = arg; break;
    case O_EPOCHS:
    case O_BATCH:
    case O_SEED:
    case O_LR:
    case O_WD: return take_number(app, c, arg, o);
    case 'h': usage(); return XAI_EXIT_OK;
    case ':': return xai_app_usage_error(app, "option '%s' needs a value", word);
    case '?': return xai_app_usage_error(app, "unknown option '%s'", word);
    default: {
        int h = xai_app_handle_option(app, c, arg);
        if (h != 1)
            return h == 2 ? XAI_EXIT_OK : XAI_EXIT_USAGE;
    }
    }
    return -1;
}

int main(int argc, char **argv)
{
    xai_app app;
    xai_app_init(&app, PROG, XAI_GAIT_VERSION, argc, argv);
    xai_app_install_signal_handlers();
    opts o = {.epochs = 60, .batch = 32, .lr = 1e-3, .weight_decay = 1e-2, .figures = 1};
    int rc = xai_app_leading_args(&app, argc, argv, "missing command: train, explain or study", usage);
    if (rc >= 0)
        goto out;
    o.cmd = argv[1];
    if (strcmp(o.cmd, "train") && strcmp(o.cmd, "explain") && strcmp(o.cmd, "study")) {
        rc = xai_app_usage_error(&app, "unknown command '%s' (train, explain or study)", o.cmd);
        goto out;
    }
    static const struct option longopts[] = {
        {"target", required_argument, 0, O_TARGET}, {"split", required_argument, 0, O_SPLIT},
        {"variables", required_argument, 0, O_VARS}, {"components", required_argument, 0, O_COMPS},
        {"arch", required_argument, 0, O_ARCH}, {"epochs", required_argument, 0, O_EPOCHS},
        {"batch", required_argument, 0, O_BATCH}, {"lr", required_argument, 0, O_LR},
        {"seed", required_argument, 0, O_SEED}, {"model", required_argument, 0, O_MODEL},
        {"method", required_argument, 0, O_METHOD}, {"composite", required_argument, 0, O_COMPOSITE},
        {"no-figures", no_argument, 0, O_NOFIG}, {"save-input", no_argument, 0, O_SAVE_INPUT}, {"output", required_argument, 0, 'o'},
        {"split-by", required_argument, 0, O_SPLIT}, {"sides", required_argument, 0, O_SIDES},
        {"offset", required_argument, 0, O_OFFSET}, {"weight-decay", required_argument, 0, O_WD},
        {"strict", no_argument, 0, O_STRICT}, {"start", required_argument, 0, O_START},
        {"help", no_argument, 0, 'h'}, XAI_APP_LONG_OPTIONS, {0, 0, 0, 0}};
    int ac = argc - 1, c;
    char **av = argv + 1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(ac, av, ":o:hfqv", longopts, NULL)) != -1)
        if ((rc = take_option(&app, c, optarg, av[optind - 1], &o)) >= 0)
            goto out;
    o.args = av + optind;
    o.nargs = ac - optind;
    xai_app_apply_threads(&app);
    if (!strcmp(o.cmd, "train"))
        rc = gait_cmd_train(&app, &o);
    else if (!strcmp(o.cmd, "explain"))
        rc = gait_cmd_explain(&app, &o);
    else
        rc = gait_cmd_study(&app, &o);
out:
    xai_app_free(&app);
    cairo_debug_reset_static_data(); /* so leak checkers see only real leaks */
    FcFini();
    return rc;
}
