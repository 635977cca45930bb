/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-train - train a CNN / LSTM classifier from an architecture spec (or fine-tune an
 * ONNX model) on X.npy / Y.npy, and save it as ONNX with its provenance in metadata_props.
 * Thin program over libxai's xai_model_from_spec / xai_train / xai_model_save_onnx.
 * Exit codes: 0 ok, 1 data or runtime error, 2 usage error.
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
#include "xai/train.h"
#include "app.h"
#include "card-cmd.h"
#include "guide.h"

#define PROG "xai-train"

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
"  --init BASE.onnx      start from an existing model instead (fine-tuning)\n"
"  --keep-bn             keep BatchNormalization nodes in the saved model [fold them]\n"
"\n"
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
"  -o, --output MODEL.onnx   written atomically; refused if it exists (exit 2), unless --force\n"
"  --classes A,B,...     class names stored in the model\n"
"  --layout TEXT         input layout description stored in the model (e.g. '[C][T] 160 Hz')\n"
"  --preprocessing FILE  JSON preprocessing record stored in the model\n"
"  --log LOG.json        per-epoch training log [MODEL.onnx.log.json]\n"
"  --nthreads T          BLAS threads     -q quiet     -f, --force     -h, --help     -V, --version\n"
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

static xai_app app;

static int usage_error(const char *msg)
{
    return xai_app_usage_error(&app, "%s", msg);
}

static int fail(const char *file, const char *msg)
{
    return xai_app_fail(&app, file, "%s", msg);
}

typedef struct {
    json_t *epochs;
    int quiet;
} log_state;

static void on_progress(const xai_train_progress *p, void *ud)
{
    log_state *ls = ud;
    json_t *e = json_object();
    json_object_set_new(e, "epoch", json_integer(p->epoch));
    json_object_set_new(e, "train_loss", json_real(p->train_loss));
    json_object_set_new(e, "train_acc", json_real(p->train_acc));
    json_object_set_new(e, "val_loss", isnan(p->val_loss) ? json_null() : json_real(p->val_loss));
    json_object_set_new(e, "val_acc", isnan(p->val_acc) ? json_null() : json_real(p->val_acc));
    json_object_set_new(e, "lr", json_real(p->lr));
    json_object_set_new(e, "elapsed_s", json_real(p->elapsed_s));
    json_object_set_new(e, "train_penalty", json_real(p->train_penalty));
    json_array_append_new(ls->epochs, e);
    char pen[48] = "";
    if (p->train_penalty != 0)
        snprintf(pen, sizeof pen, "  penalty %.4g", p->train_penalty);
    if (!ls->quiet) {
        if (isnan(p->val_loss))
            fprintf(stderr, "epoch %3d/%d  loss %.4f  acc %.3f  lr %.2e  %.1fs%s\n", p->epoch, p->epochs, p->train_loss,
                    p->train_acc, p->lr, p->elapsed_s, pen);
        else
            fprintf(stderr, "epoch %3d/%d  loss %.4f  acc %.3f  val_loss %.4f  val_acc %.3f  lr %.2e  %.1fs%s%s\n",
                    p->epoch, p->epochs, p->train_loss, p->train_acc, p->val_loss, p->val_acc, p->lr, p->elapsed_s,
                    pen, p->improved ? "  *" : "");
    }
}

static int write_json_atomic(json_t *root, const char *path)
{
    char *text = json_dumps(root, JSON_INDENT(2));
    if (!text)
        return -1;
    int rc = xai_app_write_atomic(&app, path, text, strlen(text));
    free(text);
    return rc;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b)
        b[n] = '\0';
    fclose(f);
    return b;
}

int main(int argc, char **argv)
{
    enum { O_ARCH = 256, O_X, O_Y, O_INIT, O_EPOCHS, O_BATCH, O_LR, O_OPT, O_MOM, O_WD, O_SCHED, O_SSIZE, O_SGAMMA,
           O_VAL, O_PAT, O_CW, O_SEED, O_CLASSES, O_LAYOUT, O_PRE, O_LOG, O_THREADS, O_KEEPBN, O_GUIDE };
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
    xai_app_init(&app, PROG, "0.1.0", argc, argv);
    xai_app_install_signal_handlers();
    if (argc > 1 && strcmp(argv[1], "card") == 0) {
        int crc = xai_train_card_main(&app, argc - 1, argv + 1);
        xai_app_free(&app);
        return crc;
    }
    xai_train_config cfg;
    xai_train_config_init(&cfg);
    const char *arch = NULL, *xp = NULL, *yp = NULL, *init = NULL, *out = NULL, *cwarg = NULL, *classes = NULL,
               *layout = NULL, *pre = NULL, *logp = NULL;
    int force = 0, quiet = 0, keep_bn = 0, c;
    xai_guide_arg guide = {0};
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:fqhV", opts, NULL)) != -1) {
        char *e = NULL;
        char msg[256];
        switch (c) {
        case O_ARCH: arch = optarg; break;
        case O_X: xp = optarg; break;
        case O_Y: yp = optarg; break;
        case O_INIT: init = optarg; break;
        case O_EPOCHS: cfg.epochs = (int)strtol(optarg, &e, 10); if (*e || cfg.epochs < 1) return usage_error("--epochs needs a positive integer"); break;
        case O_BATCH: cfg.batch = strtol(optarg, &e, 10); if (*e || cfg.batch < 1) return usage_error("--batch needs a positive integer"); break;
        case O_LR: cfg.lr = strtof(optarg, &e); if (*e || !(cfg.lr > 0)) return usage_error("--lr needs a positive number"); break;
        case O_MOM: cfg.momentum = strtof(optarg, &e); if (*e || cfg.momentum < 0 || cfg.momentum >= 1) return usage_error("--momentum needs a number in [0, 1)"); break;
        case O_WD: cfg.weight_decay = strtof(optarg, &e); if (*e || cfg.weight_decay < 0) return usage_error("--weight-decay needs a number >= 0"); break;
        case O_SSIZE: cfg.step_size = (int)strtol(optarg, &e, 10); if (*e || cfg.step_size < 1) return usage_error("--step-size needs a positive integer"); break;
        case O_SGAMMA: cfg.step_gamma = strtof(optarg, &e); if (*e || !(cfg.step_gamma > 0)) return usage_error("--step-gamma needs a positive number"); break;
        case O_VAL: cfg.val_split = strtof(optarg, &e); if (*e || !(cfg.val_split >= 0 && cfg.val_split <= 0.9f)) return usage_error("--val-split needs a number in [0, 0.9]"); break;
        case O_PAT: cfg.patience = (int)strtol(optarg, &e, 10); if (*e || cfg.patience < 0) return usage_error("--patience needs an integer >= 0"); break;
        case O_SEED: cfg.seed = strtoull(optarg, &e, 10); if (*e) return usage_error("--seed needs an integer"); break;
        case O_THREADS: { long t = strtol(optarg, &e, 10); if (*e || t < 1) return usage_error("--nthreads needs a positive integer"); xai_set_num_threads((int)t); break; }
        case O_OPT:
            if (!strcmp(optarg, "adam")) cfg.optimizer = XAI_OPT_ADAM;
            else if (!strcmp(optarg, "adamw")) cfg.optimizer = XAI_OPT_ADAMW;
            else if (!strcmp(optarg, "sgd")) cfg.optimizer = XAI_OPT_SGD;
            else return usage_error("--optimizer must be adam, adamw or sgd");
            break;
        case O_SCHED:
            if (!strcmp(optarg, "none")) cfg.schedule = XAI_SCHED_NONE;
            else if (!strcmp(optarg, "step")) cfg.schedule = XAI_SCHED_STEP;
            else if (!strcmp(optarg, "cosine")) cfg.schedule = XAI_SCHED_COSINE;
            else return usage_error("--schedule must be none, step or cosine");
            break;
        case O_CW: cwarg = optarg; break;
        case O_CLASSES: classes = optarg; break;
        case O_LAYOUT: layout = optarg; break;
        case O_PRE: pre = optarg; break;
        case O_LOG: logp = optarg; break;
        case O_KEEPBN: keep_bn = 1; break;
        case O_GUIDE: xai_guide_free(&guide); if (xai_guide_parse(&app, optarg, &guide)) return XAI_EXIT_USAGE; break;
        case 'o': out = optarg; break;
        case 'f': force = 1; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf(PROG " (libxai) 0.1.0\n"); return 0;
        case ':': snprintf(msg, sizeof msg, "option '%s' needs a value", argv[optind - 1]); return usage_error(msg);
        default: snprintf(msg, sizeof msg, "unknown option '%s'", argv[optind - 1]); return usage_error(msg);
        }
    }
    if (optind != argc)
        return usage_error("unexpected argument");
    if (!xp || !yp || !out)
        return usage_error("--x, --y and -o are required");
    if (!arch == !init)
        return usage_error("give exactly one of --arch SPEC and --init BASE.onnx");
    app.force = force;
    if (xai_app_check_output(&app, out) != 0)
        return XAI_EXIT_USAGE;
    char logbuf[4096];
    if (!logp) {
        snprintf(logbuf, sizeof logbuf, "%s.log.json", out);
        logp = logbuf;
    }
    char *pretext = NULL;
    if (pre) {
        pretext = read_text(pre);
        json_error_t je;
        json_t *pj = pretext ? json_loads(pretext, 0, &je) : NULL;
        if (!pj) {
            free(pretext);
            return fail(pre, pretext ? je.text : "cannot read");
        }
        json_decref(pj);
    }

    xai_npy X, Y;
    memset(&X, 0, sizeof X);
    memset(&Y, 0, sizeof Y);
    if (xai_npy_load(xp, &X) != XAI_OK) {
        free(pretext);
        return fail(xp, xai_last_error());
    }
    int rc = 1;
    xai_model *m = NULL;
    int *y = NULL;
    float *cw = NULL;
    json_t *log = NULL;
    if (xai_npy_load(yp, &Y) != XAI_OK) {
        fail(yp, xai_last_error());
        goto done;
    }
    if (X.ndim < 2) {
        fail(xp, "needs a leading sample axis and at least one more ([N, ...])");
        goto done;
    }
    int64_t n = X.shape[0], ny = 1;
    for (int k = 0; k < Y.ndim; k++)
        ny *= Y.shape[k];
    if (ny != n) {
        char msg[256];
        snprintf(msg, sizeof msg, "has %lld labels for %lld samples in %s", (long long)ny, (long long)n, xp);
        fail(yp, msg);
        goto done;
    }
    y = malloc(sizeof(int) * (size_t)n);
    int ymax = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = Y.data[i];
        if (!(v >= 0) || v != floorf(v) || v > 100000) {
            char msg[128];
            snprintf(msg, sizeof msg, "label %lld is %g; labels must be integers >= 0", (long long)i, v);
            fail(yp, msg);
            goto done;
        }
        y[i] = (int)v;
        ymax = y[i] > ymax ? y[i] : ymax;
    }
    if (arch) {
        if (xai_model_from_spec(arch, X.ndim - 1, X.shape + 1, cfg.seed, &m) != XAI_OK) {
            fail("--arch", xai_last_error());
            goto done;
        }
    } else {
        if (xai_model_load_onnx(init, NULL, &m) != XAI_OK) {
            fail(init, xai_last_error());
            goto done;
        }
    }
    int nd;
    const int64_t *ms = xai_model_input_shape(m, &nd);
    int64_t per = xai_model_input_numel(m);
    int64_t xper = 1;
    for (int k = 1; k < X.ndim; k++)
        xper *= X.shape[k];
    if (xper != per) {
        char a[256], b[256], msg[600];
        snprintf(msg, sizeof msg, "samples of shape %s do not fit the model input %s",
                 xai_shape_str(X.ndim - 1, X.shape + 1, a, sizeof a), xai_shape_str(nd, ms, b, sizeof b));
        fail(xp, msg);
        goto done;
    }
    if ((rc = xai_guide_setup(&app, &guide, m, n, per, &cfg)) != 0)
        goto done;
    rc = 1;
    int64_t nc = xai_model_output_numel(m);
    if (ymax >= nc) {
        char msg[160];
        snprintf(msg, sizeof msg, "label %d but the model has %lld outputs", ymax, (long long)nc);
        fail(yp, msg);
        goto done;
    }
    if (cwarg) {
        cw = calloc((size_t)nc, sizeof(float));
        if (!strcmp(cwarg, "balanced")) {
            for (int64_t i = 0; i < n; i++)
                cw[y[i]] += 1;
            for (int64_t k = 0; k < nc; k++)
                cw[k] = cw[k] > 0 ? (float)n / ((float)nc * cw[k]) : 0.0f;
        } else {
            const char *s = cwarg;
            for (int64_t k = 0; k < nc; k++) {
                char *e;
                cw[k] = strtof(s, &e);
                if (e == s || cw[k] < 0 || (k + 1 < nc && *e != ',') || (k + 1 == nc && *e)) {
                    rc = usage_error("--class-weights needs 'balanced' or one non-negative weight per class");
                    goto done;
                }
                s = e + 1;
            }
        }
        cfg.class_weights = cw;
    }
    log_state ls = {json_array(), quiet};
    cfg.progress = on_progress;
    cfg.progress_ud = &ls;
    if (!quiet)
        fprintf(stderr, PROG ": %lld samples of %lld values, %lld classes, up to %d epochs\n", (long long)n,
                (long long)per, (long long)nc, cfg.epochs);
    xai_train_result res;
    xai_status st = xai_train(m, &cfg, n, X.data, y, &res);
    log = json_object();
    json_object_set_new(log, "epochs", ls.epochs);
    if (st != XAI_OK) {
        fail(xp, xai_last_error());
        goto done;
    }
    /* provenance and preprocessing in metadata_props */
    char buf[512];
    json_t *prov = json_object();
    json_object_set_new(prov, "tool", json_string(PROG " 0.1.0"));
    json_object_set_new(prov, "arch", json_string(arch ? arch : ""));
    json_object_set_new(prov, "init", json_string(init ? init : ""));
    json_object_set_new(prov, "seed", json_integer((json_int_t)cfg.seed));
    json_object_set_new(prov, "epochs_run", json_integer(res.epochs_run));
    json_object_set_new(prov, "best_epoch", json_integer(res.best_epoch));
    json_object_set_new(prov, "final_train_loss", json_real(res.final_train_loss));
    json_object_set_new(prov, "final_train_acc", json_real(res.final_train_acc));
    /* the kept weights' training accuracy is the one to set beside best_val_acc */
    json_object_set_new(prov, "kept_train_loss", json_real(res.kept_train_loss));
    json_object_set_new(prov, "kept_train_acc", json_real(res.kept_train_acc));
    json_object_set_new(prov, "best_val_loss", isnan(res.best_val_loss) ? json_null() : json_real(res.best_val_loss));
    json_object_set_new(prov, "best_val_acc", isnan(res.best_val_acc) ? json_null() : json_real(res.best_val_acc));
    json_object_set_new(prov, "n_train", json_integer(res.n_train));
    json_object_set_new(prov, "n_val", json_integer(res.n_val));
    snprintf(buf, sizeof buf, "%s", cfg.optimizer == XAI_OPT_SGD ? "sgd" : cfg.optimizer == XAI_OPT_ADAMW ? "adamw" : "adam");
    json_object_set_new(prov, "optimizer", json_string(buf));
    json_object_set_new(prov, "lr", json_real(cfg.lr));
    json_object_set_new(prov, "batch", json_integer(cfg.batch));
    if (guide.kind != XAI_GUIDE_NONE) {
        json_object_set_new(prov, "guide", json_string(guide.kind == XAI_GUIDE_RRR   ? "rrr"
                                                       : guide.kind == XAI_GUIDE_LRP ? "lrp"
                                                                                     : "rrclarc"));
        json_object_set_new(prov, "guide_lambda", json_real(guide.lambda));
        json_object_set_new(prov, "final_train_penalty", json_real(res.final_train_penalty));
    }
    char *provs = json_dumps(prov, JSON_COMPACT | JSON_SORT_KEYS);
    xai_model_set_metadata(m, "xai_training", provs);
    json_object_set_new(log, "result", prov);
    free(provs);
    if (arch)
        xai_model_set_metadata(m, "xai_arch", arch);
    if (classes) {
        json_t *arr = json_array();
        char *dup = strdup(classes), *save = NULL;
        for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save))
            json_array_append_new(arr, json_string(t));
        free(dup);
        if ((int64_t)json_array_size(arr) != nc) {
            json_decref(arr);
            rc = usage_error("--classes needs one name per class");
            goto done;
        }
        char *s = json_dumps(arr, JSON_COMPACT);
        xai_model_set_metadata(m, "class_names", s);
        free(s);
        json_decref(arr);
    }
    {
        char a[256];
        xai_shape_str(nd, ms, a, sizeof a);
        snprintf(buf, sizeof buf, "%s%s%s", a, layout ? " " : "", layout ? layout : "");
        xai_model_set_metadata(m, "input_layout", buf);
    }
    xai_model_set_metadata(m, "xai_preprocessing", pretext ? pretext : "{}");
    xai_export_options eo = {keep_bn, 17};
    if (xai_model_save_onnx(m, out, &eo) != XAI_OK) {
        fail(out, xai_last_error());
        goto done;
    }
    if (write_json_atomic(log, logp) != 0) {
        unlink(out);
        goto done;
    }
    if (!quiet)
        fprintf(stderr, PROG ": wrote %s (best epoch %d); log %s\n", out, res.best_epoch, logp);
    rc = 0;
done:
    xai_guide_free(&guide);
    json_decref(log);
    free(cw);
    free(y);
    free(pretext);
    xai_model_free(m);
    xai_npy_free(&X);
    xai_npy_free(&Y);
    xai_app_free(&app);
    return rc;
}
