/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * options.c - the command line of xai-spray: input, preprocessing and clustering options,
 * checked against each other once all are read. Usage errors exit 2.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spray-app.h"

/* an int within [lo, hi] (the app layer's strict parse); 0 or -1 */
static int parse_int(const char *s, long lo, long hi, int *out)
{
    long v;
    if (xai_app_parse_long(s, lo, hi, &v))
        return -1;
    *out = (int)v;
    return 0;
}


static int parse_enum(const char *arg, const char *const *names, int n, int *out)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(arg, names[i])) {
            *out = i;
            return 0;
        }
    return -1;
}

/* --pool RxC */
static int parse_pool(const char *arg, xai_spray_config *cfg)
{
    long rc[2];
    if (!strchr(arg, 'x'))
        return xai_app_usage_error(&app, "--pool needs RxC, e.g. 8x32");
    if (xai_app_parse_long_list(arg, 'x', 0, 1 << 20, rc, 2) != 2)
        return xai_app_usage_error(&app, "--pool needs RxC with integers >= 0");
    cfg->pool_rows = (int)rc[0];
    cfg->pool_cols = (int)rc[1];
    return 0;
}

/* an integer option in [lo, hi], or the usage error naming it */
static int int_option(const char *name, const char *arg, long lo, long hi, int *out)
{
    if (parse_int(arg, lo, hi, out) == 0)
        return 0;
    return xai_app_usage_error(&app, "--%s needs an integer in %ld..%ld", name, lo, hi);
}

enum { O_LABELS = 256, O_CLASSES, O_POOL, O_SIGNED, O_NORM, O_KNN, O_EIG, O_CLUSTERS,
       O_MINC, O_MAXC, O_RESTARTS, O_SEED, O_SOLVER, O_XLABEL, O_YLABEL, O_ORIGIN };

/* the clustering options; 0 or a usage exit code */
static int cluster_option(xai_spray_config *cfg, int c, char *arg)
{
    static const char *const norms[] = {"sum", "max", "none"};
    static const char *const solvers[] = {"auto", "dense", "lanczos"};
    static const int norm_of[] = {XAI_SPRAY_NORM_SUM, XAI_SPRAY_NORM_MAX, XAI_SPRAY_NORM_NONE};
    static const int solver_of[] = {XAI_SPRAY_EIG_AUTO, XAI_SPRAY_EIG_DENSE, XAI_SPRAY_EIG_LANCZOS};
    int i, seed = 0;
    switch (c) {
    case O_POOL: return parse_pool(arg, cfg);
    case O_SIGNED: cfg->use_abs = 0; return 0;
    case O_NORM:
        if (parse_enum(arg, norms, 3, &i))
            return xai_app_usage_error(&app, "--norm must be sum, max or none");
        cfg->norm = norm_of[i];
        return 0;
    case O_SOLVER:
        if (parse_enum(arg, solvers, 3, &i))
            return xai_app_usage_error(&app, "--solver must be auto, dense or lanczos");
        cfg->solver = solver_of[i];
        return 0;
    case O_KNN: return int_option("knn", arg, 1, 1000, &cfg->knn);
    case O_EIG: return int_option("eig", arg, 2, XAI_SPRAY_MAX_EIG, &cfg->n_eig);
    case O_CLUSTERS: return int_option("clusters", arg, 0, XAI_SPRAY_MAX_EIG, &cfg->n_clusters);
    case O_MINC: return int_option("min-clusters", arg, 1, XAI_SPRAY_MAX_EIG, &cfg->min_clusters);
    case O_MAXC: return int_option("max-clusters", arg, 1, XAI_SPRAY_MAX_EIG, &cfg->max_clusters);
    case O_RESTARTS: return int_option("restarts", arg, 1, 10000, &cfg->restarts);
    case O_SEED:
        if (int_option("seed", arg, 0, INT_MAX, &seed))
            return XAI_EXIT_USAGE;
        cfg->seed = (uint64_t)seed;
        return 0;
    }
    return -1;
}

/* --classes C1,C2,...: distinct integers */
static int parse_classes(const char *arg, spray_opts *o)
{
    long v[MAX_CLASSES];
    int n = *arg ? xai_app_parse_long_list(arg, ',', INT_MIN + 1, INT_MAX, v, MAX_CLASSES - o->nclasses) : 0;
    if (n < 0)
        return xai_app_usage_error(&app, "--classes needs a comma-separated list of integers");
    for (int i = 0; i < n; i++) {
        for (int a = 0; a < o->nclasses; a++)
            if (o->classes[a] == v[i])
                return xai_app_usage_error(&app, "--classes lists a class twice");
        o->classes[o->nclasses++] = (int)v[i];
    }
    return o->nclasses ? 0 : xai_app_usage_error(&app, "--classes is empty");
}

/* one option of the getopt loop; 0, -1 to stop with exit 0 (help), or a usage exit code */
static int spray_option(void *ctx, int c, char *arg)
{
    spray_opts *o = ctx;
    switch (c) {
    case 'o': o->outdir = arg; return 0;
    case 'h': spray_usage(stdout); return -1;
    case O_LABELS: o->labels_path = arg; return 0;
    case O_XLABEL: o->xlabel = arg; return 0;
    case O_YLABEL: o->ylabel = arg; return 0;
    case O_ORIGIN: o->origin_lower = 1; return 0;
    case O_CLASSES: o->classes_arg = arg; return 0;
    }
    int rc = cluster_option(&o->cfg, c, arg);
    return rc >= 0 ? rc : XAI_APP_NOT_MINE;
}

/* the option checks after parsing; 0 or a usage exit code */
static int check_options(spray_opts *o, int argc, char **argv)
{
    if (optind + 1 != argc)
        return xai_app_usage_error(&app, "%s", optind >= argc ? "missing MAPS.npy" : "exactly one MAPS.npy expected");
    if (!o->outdir)
        return xai_app_usage_error(&app, "missing -o OUTDIR");
    if (o->cfg.max_clusters < o->cfg.min_clusters)
        return xai_app_usage_error(&app, "--max-clusters must be >= --min-clusters");
    if (o->cfg.n_clusters > o->cfg.n_eig)
        return xai_app_usage_error(&app, "--clusters must not exceed --eig");
    o->maps_path = argv[optind];
    return o->classes_arg ? parse_classes(o->classes_arg, o) : 0;
}

/* 0 to go on, -1 for exit 0 (help, version), else the exit code */
int spray_parse_args(int argc, char **argv, spray_opts *o)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},      {"labels", required_argument, 0, O_LABELS},
        {"classes", required_argument, 0, O_CLASSES}, {"pool", required_argument, 0, O_POOL},
        {"signed", no_argument, 0, O_SIGNED},       {"norm", required_argument, 0, O_NORM},
        {"knn", required_argument, 0, O_KNN},       {"eig", required_argument, 0, O_EIG},
        {"clusters", required_argument, 0, O_CLUSTERS}, {"min-clusters", required_argument, 0, O_MINC},
        {"max-clusters", required_argument, 0, O_MAXC}, {"restarts", required_argument, 0, O_RESTARTS},
        {"seed", required_argument, 0, O_SEED},     {"solver", required_argument, 0, O_SOLVER},
        {"xlabel", required_argument, 0, O_XLABEL}, {"ylabel", required_argument, 0, O_YLABEL},
        {"origin-lower", no_argument, 0, O_ORIGIN}, {"help", no_argument, 0, 'h'},
        XAI_APP_LONG_OPTIONS,                       {0, 0, 0, 0}};
    xai_spray_config_init(&o->cfg);
    o->xlabel = "column (time)";
    o->ylabel = "row (channel)";
    int rc = xai_app_getopt(&app, argc, argv, ":o:fqvhV", opts, spray_option, o);
    return rc ? rc : check_options(o, argc, argv);
}
