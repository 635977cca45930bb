/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bench-train.c - training throughput samples per second of xai_train()
 * (Adam, batch 64, no validation split) against PyTorch on the same CPU with the same
 * architecture, optimizer and thread count (tests/bench/bench_train_torch.py, run through
 * /usr/bin/python3; that column is skipped when `import torch` fails).
 *
 * Models:
 *   eeg_cnn1d  the reference EEG CNN (../shared/reference/cnn/eeg_cnn1d): Conv1d(32,8,k13,p6)+BN,
 *              ReLU, Conv1d(8,16,k7,s2,p3), ReLU, AvgPool(8), Linear(256,32), ReLU, Linear(32,2);
 *              input [32, 256]
 *   bilstm     lstm(64,bidirectional,last) dense(2); input [30, 16] (T, features)
 *
 * Data: seeded uniform noise with alternating labels (the content does not change the cost).
 * Each model is trained for one warm-up epoch, then --epochs epochs are timed one by one; the
 * table gives the best epoch (the robust figure when other processes compete for the 2 cores)
 * and the median epoch, for both libraries. The ratios are libxai / PyTorch of the best epochs
 * and of the median epochs (PyTorch's epochs vary more than libxai's on a shared machine).
 *
 *   meson setup /tmp/build-bench --buildtype=release && ninja -C /tmp/build-bench
 *   /tmp/build-bench/tests/bench/bench-train [--threads N] [--n SAMPLES] [--epochs E] [--no-torch]
 *                                            [--model eeg_cnn1d|bilstm] [--script PY]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai/model.h"
#include "xai/train.h"

#ifndef BENCH_SRCDIR
#define BENCH_SRCDIR "tests/bench"
#endif

typedef struct {
    const char *name;
    const char *spec;
    int ndim;
    int64_t shape[4];
} bench_model;

static const bench_model models[] = {
    {"eeg_cnn1d", "conv1d(8,k=13,p=6) bn relu conv1d(16,k=7,s=2,p=3) relu avgpool(8) flatten dense(32) relu dense(2)",
     2, {32, 256, 0, 0}},
    {"bilstm", "lstm(64,bidirectional,last) dense(2)", 2, {30, 16, 0, 0}},
};

static void die(const char *what, xai_status st)
{
    fprintf(stderr, "bench-train: %s: %s (%s)\n", what, xai_strerror(st), xai_last_error());
    exit(1);
}

typedef struct {
    double last, best, t[64];
    int ne;
} epoch_times;

static void on_epoch(const xai_train_progress *p, void *ud)
{
    epoch_times *et = ud;
    if (et->ne < 64)
        et->t[et->ne++] = p->elapsed_s - et->last;
    et->last = p->elapsed_s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* libxai samples/s of the best and the median timed epoch */
static void bench_xai(const bench_model *bm, int64_t n, int epochs, double *best, double *med)
{
    xai_model *m = NULL;
    xai_status st = xai_model_from_spec(bm->spec, bm->ndim, bm->shape, 1, &m);
    if (st)
        die(bm->spec, st);
    int64_t nin = xai_model_input_numel(m);
    float *x = malloc(sizeof(float) * (size_t)(n * nin));
    int *y = malloc(sizeof(int) * (size_t)n);
    if (!x || !y)
        die("malloc", XAI_ENOMEM);
    uint64_t s = 99;
    for (int64_t i = 0; i < n * nin; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((s >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
    }
    for (int64_t i = 0; i < n; i++)
        y[i] = (int)(i & 1);
    xai_train_config cfg;
    xai_train_config_init(&cfg);
    cfg.optimizer = XAI_OPT_ADAM;
    cfg.lr = 1e-3f;
    cfg.batch = 64;
    cfg.val_split = 0.0f;
    cfg.patience = 0;
    cfg.seed = 1;
    cfg.epochs = 1;
    xai_train_result res;
    if ((st = xai_train(m, &cfg, n, x, y, &res))) /* warm-up */
        die("xai_train", st);
    cfg.epochs = epochs;
    epoch_times et;
    memset(&et, 0, sizeof et);
    cfg.progress = on_epoch;
    cfg.progress_ud = &et;
    if ((st = xai_train(m, &cfg, n, x, y, &res)))
        die("xai_train", st);
    qsort(et.t, (size_t)et.ne, sizeof(double), cmp_double);
    *best = (double)n / et.t[0];
    *med = (double)n / et.t[et.ne / 2];
    free(x);
    free(y);
    xai_model_free(m);
}

/* PyTorch samples/s (best and median epoch) from the script's output line "<name> <best> <median>";
 * 0 when unavailable */
static void bench_torch(const char *script, const bench_model *bm, int threads, int64_t n, int epochs, double *best,
                        double *med)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' --model %s --threads %d --n %lld --epochs %d 2>/dev/null", script,
             bm->name, threads, (long long)n, epochs);
    *best = *med = 0;
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    char line[256], name[64];
    double v = 0, w = 0, gb = 0, gm = 0;
    while (fgets(line, sizeof line, p))
        if (sscanf(line, "%63s %lf %lf", name, &v, &w) == 3 && strcmp(name, bm->name) == 0) {
            gb = v;
            gm = w;
        }
    if (pclose(p) == 0) {
        *best = gb;
        *med = gm;
    }
}

int main(int argc, char **argv)
{
    int threads = 2, epochs = 3, torch = 1;
    int64_t n = 2048;
    const char *script = BENCH_SRCDIR "/bench_train_torch.py", *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc)
            epochs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
            n = atoll(argv[++i]);
        else if (strcmp(argv[i], "--script") == 0 && i + 1 < argc)
            script = argv[++i];
        else if (strcmp(argv[i], "--no-torch") == 0)
            torch = 0;
        else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
            only = argv[++i];
        else {
            fprintf(stderr, "usage: bench-train [--threads N] [--n SAMPLES] [--epochs E] [--script PY] [--no-torch] "
                            "[--model eeg_cnn1d|bilstm]\n");
            return 2;
        }
    }
    if (epochs < 1 || epochs > 64 || n < 64) {
        fprintf(stderr, "bench-train: need 1 <= --epochs <= 64 and --n >= 64\n");
        return 2;
    }
    /* PyTorch first, while this process has no worker threads of its own */
    enum { NM = sizeof models / sizeof models[0] };
    double tb[NM] = {0}, tm[NM] = {0};
    for (size_t k = 0; torch && k < NM; k++)
        if (!only || strcmp(only, models[k].name) == 0)
            bench_torch(script, &models[k], threads, n, epochs, &tb[k], &tm[k]);
    xai_set_num_threads(threads);
    printf("# training throughput, Adam, batch 64, %lld samples x %d timed epochs (after 1 warm-up epoch), "
           "%d thread(s); samples/s of the best (median) epoch\n",
           (long long)n, epochs, threads);
    printf("%-10s %22s %22s %8s %8s\n", "model", "libxai", "torch", "best", "median");
    for (size_t k = 0; k < NM; k++) {
        if (only && strcmp(only, models[k].name) != 0)
            continue;
        double xb, xm;
        bench_xai(&models[k], n, epochs, &xb, &xm);
        if (tb[k] > 0)
            printf("%-10s %10.0f (%9.0f) %10.0f (%9.0f) %7.2fx %7.2fx\n", models[k].name, xb, xm, tb[k], tm[k],
                   xb / tb[k], tm[k] > 0 ? xm / tm[k] : 0.0);
        else
            printf("%-10s %10.0f (%9.0f) %22s %8s %8s\n", models[k].name, xb, xm, "-", "-", "-");
        fflush(stdout);
    }
    return 0;
}
