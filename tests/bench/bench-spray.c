/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * bench-spray.c - SpRAy at scale: N maps x D dimensions (default 20,000 x 1,024), the sizes
 * The goal is to finish in under 60 s on 2 cores. The maps are seeded synthetic relevance
 * maps: 8 smooth prototypes (one of them an "artefact" spike) plus noise, so the run also
 * reports how well the clusters recover the prototypes (adjusted Rand index).
 * Prints wall time per stage and the peak resident set size (getrusage ru_maxrss).
 * Usage: bench-spray [N [D [NOISE]]]   (defaults 20000 1024 0.7; OPENBLAS_NUM_THREADS=2)
 * NOISE is the standard deviation of the Gaussian noise added to every value; at 0.7 the
 * kNN graph is connected and the Lanczos solver meets clustered small eigenvalues.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "xai/spray.h"

static uint64_t rs = 2024;

static double urand(void)
{
    uint64_t z = (rs += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

static double nrand(void)
{
    double u = urand(), v = urand();
    return sqrt(-2 * log(u > 1e-300 ? u : 1e-300)) * cos(6.283185307179586 * v);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000, d = argc > 2 ? atol(argv[2]) : 1024;
    double noise = argc > 3 ? atof(argv[3]) : 0.7;
    const int np = 8;
    if (n < 100 || d < 16) {
        fprintf(stderr, "usage: bench-spray [N>=100 [D>=16 [NOISE]]]\n");
        return 2;
    }
    float *proto = malloc((size_t)np * d * sizeof(float));
    float *x = malloc((size_t)n * d * sizeof(float));
    int *truth = malloc((size_t)n * sizeof(int));
    if (!proto || !x || !truth)
        return 1;
    for (int p = 0; p < np; p++) /* smooth bumps at different places; prototype 7 a spike */
        for (long j = 0; j < d; j++) {
            double c = (p + 0.5) * d / np, w = d / 24.0;
            proto[p * d + j] = p == np - 1 ? (j == 3 || j == 4 ? 6.0f : 0.0f)
                                           : (float)exp(-0.5 * (j - c) * (j - c) / (w * w));
        }
    for (long i = 0; i < n; i++) {
        int p = (int)(i % np);
        truth[i] = p;
        double a = 0.8 + 0.4 * urand();
        for (long j = 0; j < d; j++)
            x[i * d + j] = (float)(a * proto[p * d + j] + noise * nrand());
    }
    xai_spray_config c;
    xai_spray_config_init(&c);
    float *f = NULL;
    int r, k;
    double t0 = now();
    if (xai_spray_preprocess(x, n, 1, (int)d, &c, &f, &r, &k) != XAI_OK) {
        fprintf(stderr, "bench-spray: %s\n", xai_last_error());
        return 1;
    }
    double t1 = now();
    free(x);
    xai_spray_result *res = NULL;
    if (xai_spray_run(f, n, d, &c, &res) != XAI_OK) {
        fprintf(stderr, "bench-spray: %s\n", xai_last_error());
        return 1;
    }
    double t2 = now();
    double ari = 0;
    xai_adjusted_rand_index(res->labels, truth, n, &ari);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("bench-spray: n=%ld dim=%ld noise=%g knn=%d n_eig=%d solver=%s\n", n, d, noise, c.knn, res->n_eig,
           res->used_lanczos ? "lanczos" : "dense");
    printf("  preprocess   %8.2f s\n", t1 - t0);
    printf("  knn graph    %8.2f s\n", res->knn_seconds);
    printf("  eigenpairs   %8.2f s  (lambda_1..4: %.4f %.4f %.4f %.4f ... lambda_%d %.4f)\n",
           res->eig_seconds, res->eigenvalues[0], res->eigenvalues[1], res->eigenvalues[2],
           res->eigenvalues[3], res->n_eig, res->eigenvalues[res->n_eig - 1]);
    printf("  k-means      %8.2f s  (k=%d from the eigengap, %d restarts)\n", res->kmeans_seconds,
           res->n_clusters, c.restarts);
    printf("  total        %8.2f s  (spray run %.2f s)\n", t2 - t0, t2 - t1);
    printf("  peak RSS     %8.1f MiB\n", ru.ru_maxrss / 1024.0);
    printf("  ARI vs the %d prototypes: %.3f, FDA J = %.3g, components %d\n", np, ari, res->fda,
           res->n_components);
    xai_spray_result_free(res);
    free(f), free(proto), free(truth);
    return 0;
}
