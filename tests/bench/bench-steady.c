/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bench-steady.c - the library side of vs-zennit: steady-state time per sample of a model's
 * forward pass and of xai_explain() through the public API, as an application that keeps the
 * model loaded sees it, and the process's peak RSS. One line of JSON on stdout.
 *
 *   bench-steady MODEL.onnx [--batch B] [--threads T] [--reps R] [--composite NAME] [--seconds S] [--cpu]
 *                [--no-prepare] [--flush MB] [--gap MS]
 *
 * The input is seeded noise in [-1, 1). Each timed repetition explains B samples in one call
 * (cfg.batch = B). Warm-up: at least two calls and 0.2 s (the pool's threads and the kernel's
 * placement settle, the lazily built modified weights exist). Reported: median and minimum
 * per-sample time of --reps calls (at least --seconds of them in total). Before the warm-up, as
 * an application starts: xai_model_prepare() for B samples (unless --no-prepare) and the first
 * xai_explain() call are timed once each (prepare_ms, first_explain_ms: per call, not per sample;
 * with --no-prepare the first call makes the workspaces itself).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "xai.h"

/* wall time, or with --cpu the process's CPU time: on a machine shared with other jobs the CPU
   time of a one-thread run is the steadier measure (waiting for a core is not counted) */
static clockid_t bench_clock = CLOCK_MONOTONIC;

/* --flush MB: before each timed call (outside its time) the bench writes and reads a buffer of
   MB megabytes, so the call starts with the model's data and workspaces out of the caches, as
   the one call of a new process (xai-explain) finds them */
static unsigned char *flush_buf;
static size_t flush_len;
static volatile unsigned flush_sink;

/* --gap MS: before each timed call (outside its time) the bench sleeps MS milliseconds, so the
   call finds the core as a call does after the core idled or ran other work for that long; on
   the 2-core VMs a gap of 20 ms makes every call cost as much CPU time as the first call of a
   new process, which shows that the first call's extra time is the core's cold caches and
   predictors, not work the library does once */
static long gap_us;

static void flush_caches(void)
{
    unsigned acc = 0;
    for (size_t k = 0; k < flush_len; k += 64) {
        flush_buf[k] = (unsigned char)(flush_buf[k] + 1);
        acc += flush_buf[k];
    }
    flush_sink = acc;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* VmHWM of this process image: unlike getrusage()'s ru_maxrss it does not include the image
   of the parent before exec (a Python driver's tens of MB) */
static double peak_rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lf", &kb) == 1)
            break;
    if (f)
        fclose(f);
    if (kb < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kb = (double)ru.ru_maxrss;
    }
    return kb / 1024.0;
}

typedef struct {
    const char *model, *composite;
    long batch, reps;
    int threads, prepare;
    double seconds;
} opts;

static int parse(int argc, char **argv, opts *o)
{
    *o = (opts){NULL, "epsilon-plus-flat", 1, 15, 1, 1, 0.5};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-') {
            o->model = a;
            continue;
        }
        if (strcmp(a, "--cpu") == 0) {
            bench_clock = CLOCK_PROCESS_CPUTIME_ID;
            continue;
        }
        if (strcmp(a, "--no-prepare") == 0) {
            o->prepare = 0;
            continue;
        }
        if (!v)
            return -1;
        if (strcmp(a, "--flush") == 0)
            flush_len = (size_t)(atof(v) * 1048576.0);
        else if (strcmp(a, "--gap") == 0)
            gap_us = (long)(atof(v) * 1e3);
        else if (strcmp(a, "--batch") == 0)
            o->batch = atol(v);
        else if (strcmp(a, "--threads") == 0)
            o->threads = atoi(v);
        else if (strcmp(a, "--reps") == 0)
            o->reps = atol(v);
        else if (strcmp(a, "--composite") == 0)
            o->composite = v;
        else if (strcmp(a, "--seconds") == 0)
            o->seconds = atof(v);
        else
            return -1;
        i++;
    }
    return o->model && o->batch > 0 && o->reps > 0 && o->threads > 0 ? 0 : -1;
}

/* median and minimum per-sample ms of fn over reps calls (and at least `seconds`) */
typedef int (*run_fn)(void *ctx);

static int timed(run_fn fn, void *ctx, long batch, long reps, double seconds, double *med, double *min)
{
    double w0 = now_ms();
    for (int w = 0; w < 2 || now_ms() - w0 < 200.0; w++)
        if (fn(ctx))
            return -1;
    long cap = reps * 64, n = 0;
    double *t = malloc(sizeof(double) * (size_t)cap), t_all = now_ms();
    if (!t)
        return -1;
    while (n < reps || (now_ms() - t_all < seconds * 1e3 && n < cap)) {
        if (flush_len)
            flush_caches();
        if (gap_us) {
            struct timespec g = {gap_us / 1000000, gap_us % 1000000 * 1000};
            nanosleep(&g, NULL);
        }
        double t0 = now_ms();
        if (fn(ctx)) {
            free(t);
            return -1;
        }
        t[n++] = (now_ms() - t0) / (double)batch;
    }
    qsort(t, (size_t)n, sizeof(double), cmp_d);
    *med = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    *min = t[0];
    free(t);
    return 0;
}

typedef struct {
    xai_model *m;
    xai_workspace *ws;
    xai_explain_config cfg;
    long batch;
    float *x, *rel, *logits;
} run_ctx;

static int run_forward(void *p)
{
    run_ctx *c = p;
    return xai_model_forward(c->m, c->ws, c->batch, c->x, c->logits) != XAI_OK;
}

static int run_explain(void *p)
{
    run_ctx *c = p;
    return xai_explain(c->m, &c->cfg, c->batch, c->x, c->rel, NULL) != XAI_OK;
}

int main(int argc, char **argv)
{
    opts o;
    if (parse(argc, argv, &o)) {
        fprintf(stderr, "usage: bench-steady MODEL.onnx [--batch B] [--threads T] [--reps R] [--composite NAME] "
                        "[--seconds S] [--cpu] [--no-prepare] [--flush MB] [--gap MS]\n");
        return 2;
    }
    if (flush_len && !(flush_buf = calloc(flush_len, 1))) {
        fprintf(stderr, "bench-steady: no memory for the --flush buffer\n");
        return 1;
    }
    xai_set_num_threads(o.threads);
    run_ctx c = {0};
    c.batch = o.batch;
    if (xai_model_load_onnx(o.model, NULL, &c.m) != XAI_OK) {
        fprintf(stderr, "bench-steady: %s: %s\n", o.model, xai_last_error());
        return 1;
    }
    int64_t nin = xai_model_input_numel(c.m), nout = xai_model_output_numel(c.m);
    c.x = malloc(sizeof(float) * (size_t)(o.batch * nin));
    c.rel = malloc(sizeof(float) * (size_t)(o.batch * nin));
    c.logits = malloc(sizeof(float) * (size_t)(o.batch * nout));
    int rc = 1;
    if (!c.x || !c.rel || !c.logits)
        goto out;
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int64_t k = 0; k < o.batch * nin; k++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        c.x[k] = (float)((double)(s >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
    }
    xai_explain_config_init(&c.cfg);
    c.cfg.composite = o.composite;
    c.cfg.batch = o.batch;
    c.cfg.layer_sums = 0;
    double e_med, e_min, f_med, f_min, t0 = now_ms();
    if (o.prepare && xai_model_prepare(c.m, o.batch, &c.cfg) != XAI_OK) {
        fprintf(stderr, "bench-steady: %s: %s\n", o.model, xai_last_error());
        goto out;
    }
    double t1 = now_ms();
    if (run_explain(&c)) {
        fprintf(stderr, "bench-steady: %s: %s\n", o.model, xai_last_error());
        goto out;
    }
    double prepare_ms = t1 - t0, first_ms = now_ms() - t1;
    if (timed(run_explain, &c, o.batch, o.reps, o.seconds, &e_med, &e_min)) {
        fprintf(stderr, "bench-steady: %s: %s\n", o.model, xai_last_error());
        goto out;
    }
    double rss_explain = peak_rss_mb();
    /* the forward pass on a workspace of its own, after the explanations (so the peak RSS above
       is the explanation's) */
    if (xai_workspace_new(c.m, o.batch, &c.ws) != XAI_OK || timed(run_forward, &c, o.batch, o.reps, o.seconds,
                                                                   &f_med, &f_min)) {
        fprintf(stderr, "bench-steady: %s: %s\n", o.model, xai_last_error());
        goto out;
    }
    printf("{\"model\": \"%s\", \"batch\": %ld, \"threads\": %d, \"explain_ms\": %.5f, \"explain_min_ms\": %.5f, "
           "\"forward_ms\": %.5f, \"forward_min_ms\": %.5f, \"peak_rss_mb\": %.1f, \"prepare_ms\": %.4f, "
           "\"first_explain_ms\": %.4f}\n",
           o.model, o.batch, o.threads, e_med, e_min, f_med, f_min, rss_explain, prepare_ms, first_ms);
    rc = 0;
out:
    xai_workspace_free(c.ws);
    xai_model_free(c.m);
    free(c.x);
    free(c.rel);
    free(c.logits);
    free(flush_buf);
    return rc;
}
