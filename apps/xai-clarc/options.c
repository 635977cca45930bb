/* SPDX-License-Identifier: GPL-3.0-or-later */
/* options.c - xai-clarc's --help text and its options. */
#include <float.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clarc-app.h"

void clarc_usage(FILE *f)
{
    fprintf(f,
"SYNOPSIS\n"
"  " PROG " cav --model M.onnx --layer NAME|auto --x X.npy GROUPS [--y Y.npy [--pooled]] [--method M]\n"
"           [--folds F.npy] -o CAV.json\n"
"  " PROG " project --model M.onnx --cav CAV.json [--z clean|artefact|VALUE] -o OUT.onnx\n"
"  " PROG " fine-tune --model M.onnx --cav CAV.json --x X.npy --y Y.npy [training] -o OUT.onnx\n"
"\n"
"Class Artifact Compensation. cav finds the direction v (unit length) that separates the\n"
"activations of artefact samples from clean ones at layer NAME; project (P-ClArC) inserts\n"
"a' = a - v (v'a - z) after that layer, z the mean clean projection, as ordinary ONNX\n"
"operators (Flatten, Gemm, Sub, Reshape), so any ONNX runtime runs the corrected model;\n"
"fine-tune (A-ClArC) pins v'a to the mean ARTEFACT projection for every sample and retrains\n"
"only the layers after the projection, so the model learns to decide without the artefact.\n"
"\n"
"CAV\n"
"  --layer NAME          node or activation name (xai-info lists them); not the output\n"
"  --layer auto | A,B,...  try every layer that can carry a CAV (conv, dense, activation,\n"
"                        pooling, BN, add; not the output) or the listed ones, and keep the one\n"
"                        whose CAV separates the groups best on held-out samples: two folds\n"
"                        (alternate samples of each class), fitted on one, Cohen's d of the\n"
"                        other's projections; no test data involved; each layer's d goes to\n"
"                        stderr, the chosen layer into the CAV file\n"
"  --folds F.npy         with --layer auto|A,B,...: the fold (0 or 1) of every sample of X;\n"
"                        samples that belong together (a sample and its artefact-free twin)\n"
"                        must share a fold, or the held-out d is too low [alternate]\n"
"  --x X.npy             the samples, [N, model input shape]\n"
"  GROUPS, one of:\n"
"  --artefact FILE --clean FILE   0-based sample indices (whitespace or comma separated)\n"
"  --groups G.npy        one value per sample: 1 artefact, 0 clean, anything else unused\n"
"  --spray CLUSTERS.tsv --class C --cluster K\n"
"                        xai-spray's clusters.tsv: cluster K of class C is the artefact\n"
"                        group, every other row (all clusters of all classes in the file) the\n"
"                        clean one; run xai-spray on the maps of every class to get a clean\n"
"                        group that is not the artefact's class alone\n"
"  --method M            pattern (difference of the group means, i.e. cov(a, y)), ridge\n"
"                        (ridge classifier, lambda by inner CV) or svm (linear SVM) [pattern]\n"
"  --y Y.npy             the samples' classes: the CAV is fitted WITHIN classes (each class's\n"
"                        mean removed first; classes that lack one of the groups left out), so\n"
"                        it does not point along the class that carries the artefact; the z\n"
"                        values come from the samples of the classes that were kept\n"
"  --pooled              with --y: ignore the classes (artefact against every clean sample, as\n"
"                        without --y)\n"
"\n");
    fprintf(f,
"PROJECT\n"
"  --cav CAV.json        written by cav\n"
"  --z clean|artefact|VALUE   the value v'a is set to [clean]\n"
"\n"
"FINE-TUNE (A-ClArC)\n"
"  --x X.npy --y Y.npy   training samples and labels (N integers, any integer or float dtype)\n"
"  --epochs N [10]   --lr LR [1e-3]   --batch B [32]   --val-split F [0.2]   --seed S [0]\n"
"\n"
"COMMON\n"
"  --model M.onnx    -o, --output FILE (refused if it exists, exit 2, unless --force; a model\n"
"                    gets its JSON sidecar beside it, OUT.json, under the same rule)\n"
"  -f, --force       -q, --quiet       -h, --help\n"
"  --nthreads N      threads for BLAS and libxai [SLURM_CPUS_PER_TASK, else OMP_NUM_THREADS,\n"
"                    else the online cores]\n"
"\n"
"EXAMPLES\n"
"  " PROG " cav --model m.onnx --layer relu4 --x X.npy --groups tone.npy -o cav.json\n"
"  " PROG " project --model m.onnx --cav cav.json -o m-pclarc.onnx\n"
"  " PROG " fine-tune --model m.onnx --cav cav.json --x X.npy --y y.npy --epochs 5 -o m-aclarc.onnx\n"
"\n"
"EXIT STATUS\n"
"  0 success, 1 data or runtime error, 2 usage error.\n"
"\n"
"REFERENCES\n"
"  Anders et al. 2022, Information Fusion 77:261 (ClArC); Haufe et al. 2014, NeuroImage\n"
"  87:96 (signal patterns); Hsieh et al. 2008, ICML (dual coordinate descent SVM).\n");
}


/* --epochs, --batch, --seed, --lr, --val-split (k = 0..4); 0 ok, else a usage error was printed */
static int train_opt(const xai_app *app, int k, const char *arg, xai_train_config *tc)
{
    long v;
    switch (k) {
    case 0:
        if (xai_app_parse_long(arg, 1, 100000, &v))
            return xai_app_usage_error(app, "--epochs needs a positive integer");
        tc->epochs = (int)v;
        return 0;
    case 1:
        if (xai_app_parse_long(arg, 1, 1 << 20, &v))
            return xai_app_usage_error(app, "--batch needs a positive integer");
        tc->batch = v;
        return 0;
    case 2:
        if (xai_app_parse_long(arg, 0, 2147483647L, &v))
            return xai_app_usage_error(app, "--seed needs an integer >= 0");
        tc->seed = (uint64_t)v;
        return 0;
    case 3:
        return xai_app_parse_float(arg, 0, FLT_MAX, &tc->lr) || tc->lr == 0
                   ? xai_app_usage_error(app, "--lr needs a positive number") : 0;
    default:
        return xai_app_parse_float(arg, 0, 0.9f, &tc->val_split)
                   ? xai_app_usage_error(app, "--val-split needs a number in [0, 0.9]") : 0;
    }
}

/* the training options keep this order: train_opt() takes them as 0..4 */
enum { O_MODEL = 256, O_LAYER, O_X, O_Y, O_ART, O_CLEAN, O_GROUPS, O_SPRAY, O_CLASS, O_CLUSTER, O_METHOD,
       O_CAV, O_Z, O_EPOCHS, O_BATCH, O_SEED, O_LR, O_VAL, O_POOLED, O_FOLDS };

static int clarc_option(void *ctx, int c, char *arg)
{
    clarc_opts *o = ctx;
    const xai_app *app = o->app;
    long v;
    switch (c) {
    case O_MODEL: o->model = arg; break;
    case O_LAYER: o->layer = arg; break;
    case O_X: o->x = arg; break;
    case O_Y: o->y = arg; break;
    case O_ART: o->art = arg; break;
    case O_CLEAN: o->clean = arg; break;
    case O_GROUPS: o->groups = arg; break;
    case O_SPRAY: o->spray = arg; break;
    case O_CAV: o->cav = arg; break;
    case O_Z: o->zarg = arg; break;
    case O_POOLED: o->pooled = 1; break;
    case O_FOLDS: o->folds = arg; break;
    case O_CLASS:
    case O_CLUSTER:
        if (xai_app_parse_long(arg, 0, 1000000, &v))
            return xai_app_usage_error(app, "--%s needs an integer >= 0", c == O_CLASS ? "class" : "cluster");
        *(c == O_CLASS ? &o->cls : &o->cluster) = (int)v;
        break;
    case O_METHOD:
        if (!strcmp(arg, "pattern")) o->method = XAI_CAV_PATTERN;
        else if (!strcmp(arg, "ridge")) o->method = XAI_CAV_RIDGE;
        else if (!strcmp(arg, "svm")) o->method = XAI_CAV_SVM;
        else return xai_app_usage_error(app, "--method must be pattern, ridge or svm");
        break;
    case O_EPOCHS:
    case O_BATCH:
    case O_SEED:
    case O_LR:
    case O_VAL: return train_opt(o->app, c - O_EPOCHS, arg, &o->tc) ? XAI_EXIT_USAGE : 0;
    case 'o': o->out = arg; break;
    case 'h': clarc_usage(stdout); return -1;
    default: return XAI_APP_NOT_MINE;
    }
    return 0;
}

int clarc_parse(int argc, char **argv, clarc_opts *o)
{
    xai_app *app = o->app;
    static const struct option lo[] = {
        {"model", required_argument, 0, O_MODEL}, {"layer", required_argument, 0, O_LAYER},
        {"x", required_argument, 0, O_X}, {"y", required_argument, 0, O_Y},
        {"artefact", required_argument, 0, O_ART}, {"clean", required_argument, 0, O_CLEAN},
        {"groups", required_argument, 0, O_GROUPS}, {"spray", required_argument, 0, O_SPRAY},
        {"class", required_argument, 0, O_CLASS}, {"cluster", required_argument, 0, O_CLUSTER},
        {"method", required_argument, 0, O_METHOD}, {"cav", required_argument, 0, O_CAV},
        {"z", required_argument, 0, O_Z}, {"pooled", no_argument, 0, O_POOLED},
        {"folds", required_argument, 0, O_FOLDS},
        {"epochs", required_argument, 0, O_EPOCHS},
        {"lr", required_argument, 0, O_LR}, {"batch", required_argument, 0, O_BATCH},
        {"val-split", required_argument, 0, O_VAL}, {"seed", required_argument, 0, O_SEED},
        {"output", required_argument, 0, 'o'}, {"force", no_argument, 0, 'f'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    optind = 2;
    int rc = xai_app_getopt(app, argc, argv, ":o:fqh", lo, clarc_option, o);
    o->quiet = app->verbosity == 0;
    if (rc)
        return rc;
    if (optind != argc)
        return xai_app_usage_error(app, "unexpected argument '%s'", argv[optind]);
    if (!o->model || !o->out)
        return xai_app_usage_error(app, "%s needs --model and -o", o->sub);
    return 0;
}

