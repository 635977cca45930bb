/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bench-fmri.c - time and peak RSS of `xai-fmri explain` on a 64x64x40 run of 100 volumes
 * (goal: < 10 s on 2 cores, peak RSS under 2x input plus output size).
 * Generates the run with gen_fmri, trains the default 3-D CNN for one epoch with
 * `xai-fmri train` (the weights do not change the cost of explaining), then runs
 * `xai-fmri explain` as a child and reports its wall time and ru_maxrss (wait4).
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

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

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
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
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
        char *t[] = {app, "train", "--bold", bold, "--events", events, "--epochs", "1", "--nthreads", (char *)nth,
                     "-q", "-o", model, NULL};
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
    double in_mib = 64.0 * 64 * 40 * 100 * 4 / 1048576.0; /* float32 input as read, and the 4-D output */
    printf("explain 64x64x40x100 (%s threads): %.2f s, peak RSS %.1f MiB; input+output float32 %.1f MiB "
           "(RSS / (input+output) = %.2f)\n",
           nth, s, rss / 1024.0, 2 * in_mib, rss / 1024.0 / (2 * in_mib));
    return 0;
}
