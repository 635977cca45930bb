/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bench-fmri.c - `xai-fmri explain` on a generated 64x64x40 run of 100 volumes against baselines
 * measured in the same run (goal: < 10 s wall on 2 cores including reading and writing; peak RSS
 * under 2x input plus output size).
 * Generates the run with gen_fmri, trains a 3-D CNN (`--family cnn3d`, the costliest family to
 * explain) for one epoch with `xai-fmri train` (the weights do not change the cost of
 * explaining), then runs `xai-fmri explain` as a child (wall time, CPU time, ru_maxrss) and, in
 * this process, the trained model's forward pass and xai_explain() on 100 volumes of seeded
 * noise with the same threads. Printed: the times and the ratios app / forward and
 * explain / forward; app - explain is what reading, preprocessing and writing cost.
 * Usage: bench-fmri BUILD_ROOT [WORKDIR] [NTHREADS]   (run by hand; never part of pass/fail)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xai.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_s(const struct rusage *ru)
{
    return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) + 1e-6 * (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec);
}

static double child_cpu; /* CPU seconds of the last child */

/* Run argv as a child; wall seconds and peak RSS (KiB) of the child. */
static int run(char *const argv[], double *secs, long *rss_kib)
{
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) < 0)
        return -1;
    *secs = now() - t0;
    *rss_kib = ru.ru_maxrss;
    child_cpu = cpu_s(&ru);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The baselines: the model's forward pass over nvol volumes in stacks of 10 and one xai_explain()
   call on all of them (seeded noise: the cost does not depend on the values), wall and CPU
   seconds ([0], [1]). */
static double proc_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int baseline(const char *model, int nthreads, int nvol, double fwd_s[2], double exp_s[2])
{
    xai_model *m = NULL;
    xai_workspace *ws = NULL;
    xai_set_num_threads(nthreads);
    if (xai_model_load_onnx(model, NULL, &m) != XAI_OK)
        return -1;
    int64_t nin = xai_model_input_numel(m), nout = xai_model_output_numel(m), stack = 10;
    float *x = malloc(sizeof(float) * (size_t)(nin * nvol)), *rel = malloc(sizeof(float) * (size_t)(nin * nvol));
    float *lg = malloc(sizeof(float) * (size_t)(nout * stack));
    int rc = -1;
    if (!x || !rel || !lg || xai_workspace_new(m, stack, &ws) != XAI_OK)
        goto out;
    uint64_t r = 0x9e3779b97f4a7c15ull;
    for (int64_t k = 0; k < nin * nvol; k++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        x[k] = (float)((double)(r >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
    }
    double t0 = now(), c0 = proc_cpu();
    for (int64_t v = 0; v < nvol; v += stack)
        if (xai_model_forward(m, ws, nvol - v < stack ? nvol - v : stack, x + v * nin, lg) != XAI_OK)
            goto out;
    fwd_s[0] = now() - t0;
    fwd_s[1] = proc_cpu() - c0;
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    cfg.layer_sums = 0;
    t0 = now();
    c0 = proc_cpu();
    if (xai_explain(m, &cfg, nvol, x, rel, NULL) != XAI_OK)
        goto out;
    exp_s[0] = now() - t0;
    exp_s[1] = proc_cpu() - c0;
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "bench-fmri: %s: %s\n", model, xai_last_error());
    xai_workspace_free(ws);
    xai_model_free(m);
    free(x);
    free(rel);
    free(lg);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench-fmri BUILD_ROOT [WORKDIR] [NTHREADS]\n");
        return 2;
    }
    const char *root = argv[1], *work = argc > 2 ? argv[2] : "/tmp/bench-fmri";
    const char *nth = argc > 3 ? argv[3] : "2";
    char gen[4096], app[4096], ds[4096], bold[4300], events[4300], model[4300], out[4300];
    snprintf(gen, sizeof gen, "%s/datasets/gen_fmri", root);
    snprintf(app, sizeof app, "%s/apps/xai-fmri", root);
    snprintf(ds, sizeof ds, "%s/ds", work);
    snprintf(bold, sizeof bold, "%s/sub-01/func/sub-01_task-blocks_run-1_bold.nii.gz", ds);
    snprintf(events, sizeof events, "%s/sub-01/func/sub-01_task-blocks_run-1_events.tsv", ds);
    snprintf(model, sizeof model, "%s/cnn3d-64x64x40.onnx", work);
    snprintf(out, sizeof out, "%s/out", work);
    mkdir(work, 0777);
    double s;
    long rss;
    struct stat st;
    if (stat(bold, &st) != 0) {
        char *g[] = {gen, "--seed", "1", "--runs", "1", "--dims", "64x64x40", "--volumes", "100", ds, NULL};
        if (run(g, &s, &rss) != 0) {
            fprintf(stderr, "bench-fmri: gen_fmri failed\n");
            return 1;
        }
        printf("generate      %.2f s\n", s);
    }
    if (stat(model, &st) != 0) {
        char *t[] = {app, "train", "--bold", bold, "--events", events, "--family", "cnn3d", "--epochs", "1",
                     "--nthreads", (char *)nth, "-q", "-o", model, NULL};
        if (run(t, &s, &rss) != 0) {
            fprintf(stderr, "bench-fmri: xai-fmri train failed\n");
            return 1;
        }
        printf("train 1 epoch %.2f s, peak RSS %.1f MiB\n", s, rss / 1024.0);
    }
    char *e[] = {app, "explain", "--model", model, "--bold", bold, "--events", events, "--nthreads", (char *)nth,
                 "--force", "-q", "-o", out, NULL};
    if (run(e, &s, &rss) != 0) {
        fprintf(stderr, "bench-fmri: xai-fmri explain failed\n");
        return 1;
    }
    double app_cpu = child_cpu, fwd_s[2] = {0, 0}, exp_s[2] = {0, 0};
    if (baseline(model, atoi(nth), 100, fwd_s, exp_s) != 0)
        return 1;
    double in_mib = 64.0 * 64 * 40 * 100 * 4 / 1048576.0; /* float32 input as read, and the 4-D output */
    printf("explain 64x64x40x100 (%s threads): %.2f s wall (%.2f s CPU), peak RSS %.1f MiB; input+output float32 "
           "%.1f MiB (RSS / (input+output) = %.2f)\n",
           nth, s, app_cpu, rss / 1024.0, 2 * in_mib, rss / 1024.0 / (2 * in_mib));
    /* CPU time is the steadier measure when other jobs load the machine (waiting is not counted) */
    for (int k = 0; k < 2; k++) {
        double app = k ? app_cpu : s;
        printf("same run, %s, 100 volumes: forward %.3f s, xai_explain %.3f s, app %.3f s; app / forward = %.1f, "
               "explain / forward = %.2f, app - explain (reading, preprocessing, writing) = %.2f s\n",
               k ? "CPU time" : "wall", fwd_s[k], exp_s[k], app, app / fwd_s[k], exp_s[k] / fwd_s[k], app - exp_s[k]);
    }
    return 0;
}
