/* SPDX-License-Identifier: GPL-3.0-or-later */
/* options.c - xai-train's --help text and option parsing into xai_train_opts. */
#include <float.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai.h"
#include "options.h"

#define PROG "xai-train"

/* a usage error's message: "PROG: message" plus the --help hint; exit code 2 */
static int usage_error(const xai_app *app, const char *msg)
{
    return xai_app_usage_error(app, "%s", msg);
}

static void usage(FILE *f)
{
    fprintf(f,
"SYNOPSIS\n"
"  " PROG " --arch SPEC --x X.npy --y Y.npy -o MODEL.onnx [options]\n"
"  " PROG " --init BASE.onnx --x X.npy --y Y.npy -o MODEL.onnx [options]     (fine-tune)\n"
"  " PROG " card MODEL.onnx [--set PATH=VALUE]... [--show]   (model card; see " PROG " card --help)\n"
"\n"
"Trains a classifier by softmax cross-entropy and saves it as ONNX (opset 17). X.npy holds N\n"
"samples (float32/float64, shape [N, ...]); Y.npy holds N integer class labels 0..K-1.\n"
"\n"
"MODEL\n"
"  --arch SPEC           layers separated by spaces, ending in dense(K), e.g.\n"
"                        'conv1d(16,k=7,p=3) bn relu maxpool(2) flatten dropout(0.5) dense(2)'\n"
"                        conv1d/conv2d/conv3d(C,k=,s=,p=,d=,g=) dense(N) bn relu leakyrelu elu\n"
"                        tanh sigmoid maxpool(K,s=) avgpool(K,s=) gap flatten dropout(P)\n"
"                        lstm(H[,bidirectional][,last|all]) timedist( CNN LAYERS ) lstm(...)\n"
"                        reference: x - c before the read-out, c set after training to the mean\n"
"                        over the samples of X.npy (logits unchanged; LRP credits deviations)\n"
"  --init BASE.onnx      start from an existing model instead (fine-tuning)\n"
"  --keep-bn             keep BatchNormalization nodes in the saved model [fold them]\n"
"\n");
    fprintf(f,
"TRAINING\n"
"  --epochs N            [20]            --batch B             [32]\n"
"  --lr LR               [1e-3]          --optimizer O         adam|adamw|sgd [adam]\n"
"  --momentum M          SGD [0.9]       --weight-decay W      [0]\n"
"  --schedule S          none|step|cosine [none]; step: --step-size E [10] --step-gamma G [0.1]\n"
"  --val-split F         held-out fraction for validation and early stopping [0.2]\n"
"  --patience P          epochs without improvement before stopping, 0 = off [10]\n"
"  --class-weights W     'balanced' or comma-separated weights [none]\n"
"  --seed S              weights, shuffling, split and dropout [0]\n"
"  --guide rrr:MASKS.npy,lambda=L\n"
"                        Right for the Right Reasons: add L/n * sum ||A * d(sum_k log p_k)/dx||^2\n"
"                        to the loss, A from MASKS.npy (1 where the model must not look; one mask\n"
"                        per sample, shape [N, ...], or one for all). Trained by double backprop;\n"
"                        needs a piecewise-linear model (conv, dense, relu, leakyrelu, maxpool,\n"
"                        avgpool, flatten, dropout; no bn). A step costs about 2x a plain one\n"
"  --guide lrp,lambda=L[,layer=NAME]\n"
"                        LRP-guided training: weight the activations at NAME [the last dense or\n"
"                        conv layer's input] by 1 + R/max|R| (R: LRP relevance of the label),\n"
"                        run the rest again, add L x its cross-entropy (about 3x a plain step)\n""  --guide rrclarc:CAV.json,lambda=L\n"
"                        RR-ClArC: add L/n * sum (v . d z_label / da)^2, v the artefact CAV of\n"
"                        xai-clarc cav at its layer; the layers after it must be piecewise linear.\n"
"                        Usually with --init MODEL.onnx (fine-tuning the model the CAV came from)\n"
"\n"
"OUTPUT\n"
"  -o, --output MODEL.onnx   written atomically with its JSON sidecar MODEL.json (card, log,\n"
"                        provenance); refused if either exists (exit 2), unless --force\n"
"  --classes A,B,...     class names stored in the model\n"
"  --layout TEXT         input layout description stored in the model (e.g. '[C][T] 160 Hz')\n"
"  --preprocessing FILE  JSON preprocessing record stored in the model\n"
"  --log LOG.json        per-epoch training log [MODEL.onnx.log.json]\n"
"  --nthreads T          threads of libxai's pool, OpenBLAS single-threaded inside it\n"
"                        [SLURM_CPUS_PER_TASK, else OMP_NUM_THREADS, else the online cores];\n"
"                        the trained model is bit-identical for any T\n"
"  -q quiet     -f, --force     -h, --help     -V, --version\n"
"\n"
"EXAMPLES\n"
"  " PROG " --arch 'conv1d(8,k=7,p=3) relu maxpool(2) flatten dense(2)' --x X.npy --y y.npy -o m.onnx\n"
"  " PROG " --init m.onnx --x newX.npy --y newy.npy --lr 1e-4 --epochs 5 -o m2.onnx\n"
"\n"
"REFERENCES\n"
"  Kingma & Ba 2015 (Adam); Loshchilov & Hutter 2019 (AdamW, cosine schedule); He et al. 2015\n"
"  (Kaiming initialisation); Ioffe & Szegedy 2015 (batch normalisation); Ross, Hughes &\n"
"  Doshi-Velez 2017 (Right for the Right Reasons, --guide rrr); Sun et al. 2020 (LRP-guided\n"
"  training, --guide lrp); Dreyer et al. 2024 (RR-ClArC, --guide rrclarc).\n");
}

enum { O_ARCH = 256, O_X, O_Y, O_INIT, O_EPOCHS, O_BATCH, O_LR, O_OPT, O_MOM, O_WD, O_SCHED, O_SSIZE, O_SGAMMA,
       O_VAL, O_PAT, O_CW, O_SEED, O_CLASSES, O_LAYOUT, O_PRE, O_LOG, O_THREADS, O_KEEPBN, O_GUIDE };

/* An int option within [lo, INT_MAX]; 0 or the usage exit code. */
static int int_option(const xai_app *app, const char *arg, long lo, int *out, const char *err)
{
    long v;
    if (xai_app_parse_long(arg, lo, INT_MAX, &v))
        return usage_error(app, err);
    *out = (int)v;
    return 0;
}

/* A float option within [lo, hi] other than @p excluded (NAN: none); 0 or the usage exit code. */
static int float_option(const xai_app *app, const char *arg, float lo, float hi, float excluded, float *out,
                        const char *err)
{
    float v;
    if (xai_app_parse_float(arg, lo, hi, &v) || v == excluded)
        return usage_error(app, err);
    *out = v;
    return 0;
}

/* The numeric training options; XAI_APP_NOT_MINE for any other. */
static int number_option(const xai_app *app, xai_train_config *cfg, int c, const char *arg)
{
    long v;
    switch (c) {
    case O_EPOCHS: return int_option(app, arg, 1, &cfg->epochs, "--epochs needs a positive integer");
    case O_SSIZE: return int_option(app, arg, 1, &cfg->step_size, "--step-size needs a positive integer");
    case O_PAT: return int_option(app, arg, 0, &cfg->patience, "--patience needs an integer >= 0");
    case O_BATCH:
        if (xai_app_parse_long(arg, 1, LONG_MAX, &v))
            return usage_error(app, "--batch needs a positive integer");
        cfg->batch = v;
        return 0;
    case O_LR: return float_option(app, arg, 0, FLT_MAX, 0, &cfg->lr, "--lr needs a positive number");
    case O_MOM: return float_option(app, arg, 0, 1, 1, &cfg->momentum, "--momentum needs a number in [0, 1)");
    case O_WD: return float_option(app, arg, 0, FLT_MAX, NAN, &cfg->weight_decay, "--weight-decay needs a number >= 0");
    case O_SGAMMA: return float_option(app, arg, 0, FLT_MAX, 0, &cfg->step_gamma, "--step-gamma needs a positive number");
    case O_VAL: return float_option(app, arg, 0, 0.9f, NAN, &cfg->val_split, "--val-split needs a number in [0, 0.9]");
    case O_SEED: return xai_app_parse_u64(arg, &cfg->seed) ? usage_error(app, "--seed needs an integer >= 0") : 0;
    default: return XAI_APP_NOT_MINE;
    }
}

/* --optimizer and --schedule; XAI_APP_NOT_MINE for any other option. */
static int choice_option(const xai_app *app, xai_train_config *cfg, int c, const char *arg)
{
    if (c == O_OPT) {
        if (!strcmp(arg, "adam")) cfg->optimizer = XAI_OPT_ADAM;
        else if (!strcmp(arg, "adamw")) cfg->optimizer = XAI_OPT_ADAMW;
        else if (!strcmp(arg, "sgd")) cfg->optimizer = XAI_OPT_SGD;
        else return usage_error(app, "--optimizer must be adam, adamw or sgd");
        return 0;
    }
    if (c == O_SCHED) {
        if (!strcmp(arg, "none")) cfg->schedule = XAI_SCHED_NONE;
        else if (!strcmp(arg, "step")) cfg->schedule = XAI_SCHED_STEP;
        else if (!strcmp(arg, "cosine")) cfg->schedule = XAI_SCHED_COSINE;
        else return usage_error(app, "--schedule must be none, step or cosine");
        return 0;
    }
    return XAI_APP_NOT_MINE;
}

static int train_option(void *ctx, int c, char *arg)
{
    xai_train_opts *o = ctx;
    xai_app *app = o->app;
    int rc = number_option(app, &o->cfg, c, arg);
    if (rc == XAI_APP_NOT_MINE)
        rc = choice_option(app, &o->cfg, c, arg);
    if (rc != XAI_APP_NOT_MINE)
        return rc;
    switch (c) {
    case O_ARCH: o->arch = arg; break;
    case O_X: o->xp = arg; break;
    case O_Y: o->yp = arg; break;
    case O_INIT: o->init = arg; break;
    case O_CW: o->cwarg = arg; break;
    case O_CLASSES: o->classes = arg; break;
    case O_LAYOUT: o->layout = arg; break;
    case O_PRE: o->pre = arg; break;
    case O_LOG: o->logp = arg; break;
    case O_KEEPBN: o->keep_bn = 1; break;
    case O_THREADS: {
        long t;
        if (xai_app_parse_long(arg, 1, 4096, &t))
            return usage_error(app, "--nthreads needs an integer 1..4096");
        app->nthreads = (int)t;
        break;
    }
    case O_GUIDE: xai_guide_free(&o->guide); return xai_guide_parse(app, arg, &o->guide) ? XAI_EXIT_USAGE : 0;
    case 'o': o->out = arg; break;
    case 'h': usage(stdout); return -1;
    default: return XAI_APP_NOT_MINE;
    }
    return 0;
}

int xai_train_parse_args(int argc, char **argv, xai_train_opts *o)
{
    xai_app *app = o->app;
    static const struct option opts[] = {
        {"arch", required_argument, 0, O_ARCH}, {"x", required_argument, 0, O_X}, {"y", required_argument, 0, O_Y},
        {"init", required_argument, 0, O_INIT}, {"epochs", required_argument, 0, O_EPOCHS},
        {"batch", required_argument, 0, O_BATCH}, {"lr", required_argument, 0, O_LR},
        {"optimizer", required_argument, 0, O_OPT}, {"momentum", required_argument, 0, O_MOM},
        {"weight-decay", required_argument, 0, O_WD}, {"schedule", required_argument, 0, O_SCHED},
        {"step-size", required_argument, 0, O_SSIZE}, {"step-gamma", required_argument, 0, O_SGAMMA},
        {"val-split", required_argument, 0, O_VAL}, {"patience", required_argument, 0, O_PAT},
        {"class-weights", required_argument, 0, O_CW}, {"seed", required_argument, 0, O_SEED},
        {"classes", required_argument, 0, O_CLASSES}, {"layout", required_argument, 0, O_LAYOUT},
        {"preprocessing", required_argument, 0, O_PRE}, {"log", required_argument, 0, O_LOG},
        {"nthreads", required_argument, 0, O_THREADS}, {"keep-bn", no_argument, 0, O_KEEPBN},
        {"guide", required_argument, 0, O_GUIDE},
        {"output", required_argument, 0, 'o'}, {"force", no_argument, 0, 'f'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'}, {"version", no_argument, 0, 'V'}, {0, 0, 0, 0}};
    xai_train_config_init(&o->cfg);
    int rc = xai_app_getopt(app, argc, argv, ":o:fqhV", opts, train_option, o);
    if (rc)
        return rc;
    if (optind != argc)
        return usage_error(app, "unexpected argument");
    xai_app_apply_threads(app); /* the pool (OpenBLAS inside it single-threaded), as every program */
    if (!o->xp || !o->yp || !o->out)
        return usage_error(app, "--x, --y and -o are required");
    if (!o->arch == !o->init)
        return usage_error(app, "give exactly one of --arch SPEC and --init BASE.onnx");
    char *side = xai_app_sidecar_path(o->out);
    int taken = xai_app_check_output(app, o->out) != 0 || !side || xai_app_check_output(app, side) != 0;
    free(side);
    if (taken)
        return XAI_EXIT_USAGE; /* the model and its sidecar: nothing is written over */
    if (!o->logp) {
        snprintf(o->logbuf, sizeof o->logbuf, "%s.log.json", o->out);
        o->logp = o->logbuf;
    }
    return 0;
}
