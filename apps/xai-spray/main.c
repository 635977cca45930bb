/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-spray - Spectral Relevance Analysis over a stack of relevance maps, per class, with
 * the Clever-Hans ranking of classes by the Fisher separability of their clusters.
 * Thin program over libxai (spray.h) and the formats library (npy, tsv, figure charts). Messages, the common options, the output
 * policy, atomic writes and the JSON sidecars come from the shared app layer (app.h).
 * Refs: Lapuschkin et al. 2019, Nat. Commun. 10:1096; Anders et al. 2022, Inf. Fusion 77:261.
 * Exit codes: 0 ok, 1 data or runtime error, 2 usage error.
 */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <getopt.h>
#include <gsl/gsl_errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "xai/figure.h"
#include "xai/npy.h"
#include "xai/spray.h"
#include "xai/tsv.h"

#define PROG "xai-spray"
#define MAX_CLASSES 4096

static void usage(FILE *f)
{
    fprintf(f,
"SYNOPSIS\n"
"  " PROG " MAPS.npy [--labels LABELS.npy] [--classes C1,C2,...] -o OUTDIR [options]\n"
"\n"
"Spectral Relevance Analysis (SpRAy): clusters the relevance maps of each class by the\n"
"structure of what the model looked at, and ranks the classes by how separable their\n"
"clusters are (Fisher discriminant J = w'Sb w / w'Sw w in the spectral embedding). A class\n"
"at the top of the ranking splits into distinct strategies: look there for Clever-Hans\n"
"artefacts. MAPS is float32/float64 of shape (N, D), (N, H, W) or (N, C, ..., T); the\n"
"last axis is the map's columns and the axes between N and it are flattened into rows.\n"
"\n"
"INPUT\n"
"  --labels L.npy       N class labels (any integer dtype, or floats holding integers); without it\n"
"                       all maps are class 0\n"
"  --classes LIST       comma-separated classes to analyse [every label present]\n"
"\n"
"PREPROCESSING\n"
"  --pool RxC           sum-pool each map to R x C (0 keeps an axis) [no pooling]. Without pooling\n"
"                       maps are compared bin by bin, so one artefact at shifted times or\n"
"                       frequencies looks like different maps and SpRAy misses it: pool the\n"
"                       shifting axis into bins wider than the shift (e.g. --pool 8x4 for\n"
"                       spectrogram maps whose artefact moves in time)\n"
"  --signed             keep signs (default: absolute value after pooling)\n"
"  --norm sum|max|none  per-map normalisation by sum or max of |values| [sum]\n"
"\n"
    );
    fprintf(f,
"CLUSTERING\n"
"  --knn K              neighbours of the symmetric kNN graph [10]; a group of fewer than about K\n"
"                       maps is linked to the rest and never forms its own cluster: for small\n"
"                       classes lower K (the run notes classes with fewer than 4 K maps)\n"
"  --eig N              eigenpairs of the normalised Laplacian, 2..32 [32]\n"
"  --clusters K         clusters per class; 0 = by the largest eigengap [0]\n"
"  --min-clusters K     smallest k the eigengap may choose [2]\n"
"  --max-clusters K     largest k the eigengap may choose [10]\n"
"  --restarts R         k-means++ restarts [10]\n"
"  --seed S             seed of k-means++ and Lanczos [1]\n"
"  --solver S           auto | dense | lanczos (auto: dense GSL up to 1000 maps) [auto]\n"
"\n"
"OUTPUT (in OUTDIR, created if missing)\n"
"  ranking.tsv                 classes by fda_ratio = FDA score / the score of the same maps\n"
"                              with their values shuffled within each map, same number of\n"
"                              clusters (comparable across k; about 1 = no shared structure),\n"
"                              most separable (suspicious) first\n"
"  eigenvalues.tsv, eigenvalues.png   per-class Laplacian spectra (eigengap plot)\n"
"  clusters.tsv                map index, class, cluster, 2-D spectral embedding x, y\n"
"  class-C-cluster-means.npy   per-cluster mean relevance maps, (K, ...) like MAPS\n"
"  class-C-embedding.png       2-D spectral embedding coloured by cluster\n"
"  class-C-cluster-J.png       heatmap of cluster J's mean map (prototype)\n"
"  --xlabel TEXT         x-axis label of the prototype heatmaps [column (time)]\n"
"  --ylabel TEXT         y-axis label of the prototype heatmaps [row (channel)]\n"
"  --origin-lower        draw row 0 at the bottom (spectrograms: frequency upwards)\n"
"  ranking.json, clusters.json, class-C-cluster-means.json   provenance sidecars\n"
"                        (CommandLine, Version, DateTime, inputs, parameters)\n"
"  -o, --output OUTDIR   output directory (required)\n"
"  -f, --force           overwrite existing outputs (default: refuse)\n"
"  -q, --quiet           no summary on stderr\n"
"  -v, --verbose         more messages\n"
"  --nthreads N          threads for BLAS and libxai [SLURM_CPUS_PER_TASK, else\n"
"                        OMP_NUM_THREADS, else the online cores]\n"
"  --progress MODE       progress of the per-class outputs on stderr:\n"
"                        auto|bar|lines|json|none [auto: a bar on a terminal, else lines]\n"
"  -h, --help            this text\n"
"  -V, --version         version\n"
"\n"
"EXAMPLES\n"
"  " PROG " relevance.npy --labels y.npy -o spray/\n"
"  " PROG " relevance.npy --labels y.npy --classes 3,7 --pool 8x32 --clusters 4 -o spray/ -f\n"
"  " PROG " spectrogram-relevance.npy --labels y.npy --origin-lower --xlabel frame \\\n"
"            --ylabel 'frequency bin' -o spray/\n"
"\n"
"EXIT STATUS\n"
"  0 success, 1 data or runtime error, 2 usage error (also: an output exists, no --force).\n"
"\n"
"REFERENCES\n"
"  Lapuschkin et al. 2019, Nat. Commun. 10:1096 (SpRAy).  Anders et al. 2022, Inf. Fusion\n"
"  77:261 (Clever-Hans ranking by Fisher discriminant).  Ng, Jordan & Weiss 2002, NIPS\n"
"  (normalised spectral clustering).  von Luxburg 2007, Stat. Comput. 17:395 (eigengap).\n");
}

static xai_app app;

/* an int within [lo, hi] (the app layer's strict parse); 0 or -1 */
static int parse_int(const char *s, long lo, long hi, int *out)
{
    long v;
    if (xai_app_parse_long(s, lo, hi, &v))
        return -1;
    *out = (int)v;
    return 0;
}

typedef struct {
    xai_spray_config cfg;
    const char *maps_path, *labels_path, *classes_arg, *outdir;
    const char *xlabel, *ylabel;
    int origin_lower;
    int classes[MAX_CLASSES], nclasses;
} spray_opts;

typedef struct {
    xai_npy maps;
    xai_npy_int lab;
    int *labels;         /* [n], 0 without --labels */
    int64_t n, rows, cols;
} spray_input;

typedef struct {
    xai_spray_result **res; /* [nclasses], in classes order */
    int *order;             /* ranking: indices into classes, most separable first */
    json_t *prov;           /* provenance shared by every sidecar */
} spray_run;

/* ---- options ---------------------------------------------------------------------- */

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
static int parse_pool(char *arg, xai_spray_config *cfg)
{
    char *x = strchr(arg, 'x');
    if (!x)
        return xai_app_usage_error(&app, "--pool needs RxC, e.g. 8x32");
    *x = 0;
    if (parse_int(arg, 0, 1 << 20, &cfg->pool_rows) || parse_int(x + 1, 0, 1 << 20, &cfg->pool_cols))
        return xai_app_usage_error(&app, "--pool needs RxC with integers >= 0");
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
    char *copy = strdup(arg), *save = NULL;
    if (!copy)
        return xai_app_usage_error(&app, "out of memory");
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int v, dup = 0;
        if (parse_int(tok, INT_MIN + 1, INT_MAX, &v) || o->nclasses >= MAX_CLASSES) {
            free(copy);
            return xai_app_usage_error(&app, "--classes needs a comma-separated list of integers");
        }
        for (int a = 0; a < o->nclasses; a++)
            dup |= o->classes[a] == v;
        if (dup) {
            free(copy);
            return xai_app_usage_error(&app, "--classes lists a class twice");
        }
        o->classes[o->nclasses++] = v;
    }
    free(copy);
    return o->nclasses ? 0 : xai_app_usage_error(&app, "--classes is empty");
}

/* one option of the getopt loop; 0, -1 to stop with exit 0 (help), or a usage exit code */
static int spray_option(void *ctx, int c, char *arg)
{
    spray_opts *o = ctx;
    switch (c) {
    case 'o': o->outdir = arg; return 0;
    case 'h': usage(stdout); return -1;
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
static int parse_args(int argc, char **argv, spray_opts *o)
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

/* ---- input -------------------------------------------------------------------------- */

/* --labels: N integers within +-1e9 */
static int load_labels(const char *path, spray_input *in)
{
    if (xai_npy_load_int(path, &in->lab) != XAI_OK)
        return xai_app_fail(&app, NULL, "%s", xai_last_error());
    int64_t nl = 1;
    for (int a = 0; a < in->lab.ndim; a++)
        nl *= in->lab.shape[a];
    if (nl != in->n)
        return xai_app_fail(&app, path, "%lld labels for %lld maps", (long long)nl, (long long)in->n);
    for (int64_t i = 0; i < in->n; i++) {
        int64_t v = in->lab.data[i];
        if (v < -1000000000 || v > 1000000000)
            return xai_app_fail(&app, path, "label %lld is %lld, out of range", (long long)i, (long long)v);
        in->labels[i] = (int)v;
    }
    return 0;
}

static int load_input(const spray_opts *o, spray_input *in)
{
    if (xai_npy_load(o->maps_path, &in->maps) != XAI_OK)
        return xai_app_fail(&app, NULL, "%s", xai_last_error());
    if (in->maps.ndim < 2 || in->maps.shape[0] < 3)
        return xai_app_fail(&app, o->maps_path, "need shape (N, ...) with N >= 3 maps");
    in->n = in->maps.shape[0];
    in->cols = in->maps.shape[in->maps.ndim - 1];
    in->rows = 1;
    for (int a = 1; a < in->maps.ndim - 1; a++)
        in->rows *= in->maps.shape[a];
    if (in->rows * in->cols > INT_MAX / 4 || in->rows * in->cols < 1 || in->n > INT_MAX)
        return xai_app_fail(&app, o->maps_path, "maps are too large or empty");
    in->labels = calloc((size_t)in->n, sizeof(int));
    if (!in->labels)
        return xai_app_fail(&app, o->maps_path, "out of memory");
    return o->labels_path ? load_labels(o->labels_path, in) : 0;
}

/* Without --classes: every label present, ascending. Each class needs 3 maps. */
static int collect_classes(spray_opts *o, const spray_input *in)
{
    const char *src = o->labels_path ? o->labels_path : o->maps_path;
    for (int64_t i = 0; i < in->n && !o->classes_arg; i++) {
        int seen = 0;
        for (int a = 0; a < o->nclasses && !seen; a++)
            seen = o->classes[a] == in->labels[i];
        if (seen)
            continue;
        if (o->nclasses >= MAX_CLASSES)
            return xai_app_fail(&app, src, "more than %d distinct labels", MAX_CLASSES);
        int b = o->nclasses++;
        for (; b > 0 && o->classes[b - 1] > in->labels[i]; b--)
            o->classes[b] = o->classes[b - 1];
        o->classes[b] = in->labels[i];
    }
    for (int a = 0; a < o->nclasses; a++) {
        int64_t cnt = 0;
        for (int64_t i = 0; i < in->n; i++)
            cnt += in->labels[i] == o->classes[a];
        if (cnt < 3)
            return xai_app_fail(&app, src, "class %d has %lld maps; SpRAy needs at least 3",
                                o->classes[a], (long long)cnt);
    }
    return 0;
}

/* ---- outputs ------------------------------------------------------------------------- */

static const char *opath(const spray_opts *o, const char *fmt, int a, int b)
{
    static char buf[4][PATH_MAX];
    static int slot;
    char name[256];
    char *p = buf[slot++ & 3];
    snprintf(name, sizeof name, fmt, a, b);
    snprintf(p, PATH_MAX, "%s/%s", o->outdir, name);
    return p;
}

/* The overwrite rule before any work: 0, or XAI_EXIT_USAGE when an output exists without
 * --force, or 1 when OUTDIR is not a directory. *have_dir: OUTDIR exists. */
static int check_outputs(const spray_opts *o, int *have_dir)
{
    static const char *const fixed[] = {"ranking.tsv", "eigenvalues.tsv", "eigenvalues.png", "clusters.tsv"};
    static const char *const per_class[] = {"class-%d-cluster-means.npy", "class-%d-embedding.png",
                                            "class-%d-cluster-0.png"};
    struct stat st;
    *have_dir = stat(o->outdir, &st) == 0;
    if (*have_dir && !S_ISDIR(st.st_mode))
        return xai_app_fail(&app, o->outdir, "not a directory");
    if (!*have_dir)
        return 0;
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        if (xai_app_check_output(&app, opath(o, fixed[i], 0, 0)))
            return XAI_EXIT_USAGE;
    for (int a = 0; a < o->nclasses; a++)
        for (size_t i = 0; i < sizeof per_class / sizeof *per_class; i++)
            if (xai_app_check_output(&app, opath(o, per_class[i], o->classes[a], 0)))
                return XAI_EXIT_USAGE;
    return 0;
}

/* Provenance sidecar of a kept table or array: the run's inputs and parameters; the app
 * layer adds CommandLine, Version and DateTime. */
static int sidecar(const char *path, json_t *prov, const char *what)
{
    json_object_set_new(prov, "Description", json_string(what));
    char *text = json_dumps(prov, JSON_COMPACT);
    int rc = text ? xai_app_write_sidecar(&app, path, text) : xai_app_fail(&app, path, "out of memory");
    free(text);
    return rc ? -1 : 0;
}

static json_t *provenance(const spray_opts *o)
{
    const xai_spray_config *cfg = &o->cfg;
    const char *norm = cfg->norm == XAI_SPRAY_NORM_SUM ? "sum" : cfg->norm == XAI_SPRAY_NORM_MAX ? "max" : "none";
    const char *solver = cfg->solver == XAI_SPRAY_EIG_DENSE     ? "dense"
                         : cfg->solver == XAI_SPRAY_EIG_LANCZOS ? "lanczos" : "auto";
    json_t *par = json_pack("{s:i, s:i, s:b, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:I, s:s}", "pool_rows",
                            cfg->pool_rows, "pool_cols", cfg->pool_cols, "abs", cfg->use_abs, "norm", norm,
                            "knn", cfg->knn, "eig", cfg->n_eig, "clusters", cfg->n_clusters, "min_clusters",
                            cfg->min_clusters, "max_clusters", cfg->max_clusters, "restarts", cfg->restarts,
                            "seed", (json_int_t)cfg->seed, "solver", solver);
    json_t *cl = json_array(), *src = json_array();
    for (int a = 0; a < o->nclasses; a++)
        json_array_append_new(cl, json_integer(o->classes[a]));
    json_array_append_new(src, json_string(o->maps_path));
    if (o->labels_path)
        json_array_append_new(src, json_string(o->labels_path));
    if (par)
        json_object_set_new(par, "classes", cl);
    else
        json_decref(cl);
    return json_pack("{s:o?, s:o?, s:s}", "Sources", src, "Parameters", par, "Method",
                     "SpRAy (spectral relevance analysis)");
}

/* Save @p t to @p name in OUTDIR with its sidecar; frees @p t. 0 or -1. */
static int save_table(const spray_opts *o, const spray_run *r, xai_tsv *t, int ok, const char *name,
                      const char *what)
{
    const char *path = opath(o, name, 0, 0);
    if (!ok || xai_tsv_save(t, path, 0) != XAI_OK) {
        xai_tsv_free(t);
        xai_app_fail(&app, path, "%s", xai_last_error());
        return -1;
    }
    xai_tsv_free(t);
    return sidecar(path, r->prov, what);
}

static int write_ranking(const spray_opts *o, const spray_run *r)
{
    const char *names[] = {"rank", "class", "n_maps", "n_clusters", "components", "fda_score",
                           "largest_cluster_fraction", "eigengap", "fda_null", "fda_ratio"};
    xai_tsv *t = NULL;
    int ok = xai_tsv_create(10, names, NULL, &t) == XAI_OK;
    for (int a = 0; ok && a < o->nclasses; a++) {
        const xai_spray_result *s = r->res[r->order[a]];
        int k = s->n_clusters;
        double gap = k < s->n_eig ? s->eigenvalues[k] - s->eigenvalues[k - 1] : NAN;
        double v[10] = {a + 1, o->classes[r->order[a]], (double)s->n, k, s->n_components, s->fda,
                        (double)s->sizes[0] / (double)s->n, gap, s->fda_null, s->fda_ratio};
        size_t row;
        ok = xai_tsv_add_row(t, &row) == XAI_OK;
        for (int j = 0; ok && j < 10; j++)
            ok = (isfinite(v[j]) ? xai_tsv_set_number(t, row, j, v[j]) : xai_tsv_set_na(t, row, j)) == XAI_OK;
    }
    return save_table(o, r, t, ok, "ranking.tsv",
                      "classes ranked by fda_ratio (FDA score over the score of the same maps shuffled "
                      "within each map, same number of clusters), most separable first");
}

static int write_eigenvalues(const spray_opts *o, const spray_run *r)
{
    const char *names[] = {"class", "k", "eigenvalue"};
    xai_tsv *t = NULL;
    int ok = xai_tsv_create(3, names, NULL, &t) == XAI_OK;
    for (int a = 0; ok && a < o->nclasses; a++)
        for (int j = 0; ok && j < r->res[a]->n_eig; j++) {
            size_t row;
            ok = xai_tsv_add_row(t, &row) == XAI_OK && xai_tsv_set_number(t, row, 0, o->classes[a]) == XAI_OK &&
                 xai_tsv_set_number(t, row, 1, j + 1) == XAI_OK &&
                 xai_tsv_set_number(t, row, 2, r->res[a]->eigenvalues[j]) == XAI_OK;
        }
    return save_table(o, r, t, ok, "eigenvalues.tsv", "normalised Laplacian spectrum per class");
}

/* clusters.tsv: one row per analysed map, in MAPS order */
static int write_clusters(const spray_opts *o, const spray_input *in, const spray_run *r)
{
    const char *names[] = {"index", "class", "cluster", "x", "y"};
    xai_tsv *t = NULL;
    int64_t *pos = calloc((size_t)o->nclasses, sizeof(int64_t));
    int ok = pos && xai_tsv_create(5, names, NULL, &t) == XAI_OK;
    for (int64_t i = 0; ok && i < in->n; i++)
        for (int a = 0; a < o->nclasses; a++) {
            if (in->labels[i] != o->classes[a])
                continue;
            const xai_spray_result *s = r->res[a];
            int64_t m = pos[a]++;
            double v[5] = {(double)i, o->classes[a], s->labels[m], s->embedding2d[2 * m], s->embedding2d[2 * m + 1]};
            size_t row;
            ok = xai_tsv_add_row(t, &row) == XAI_OK;
            for (int j = 0; ok && j < 5; j++)
                ok = xai_tsv_set_number(t, row, j, v[j]) == XAI_OK;
            break;
        }
    free(pos);
    return save_table(o, r, t, ok, "clusters.tsv", "cluster and 2-D spectral embedding per map");
}

/* ---- figures ------------------------------------------------------------------------- */

static int chart(const char *path, const xai_chart_series *s, int ns, const xai_chart_opts *co)
{
    if (xai_figure_chart(path, s, ns, co) != XAI_OK)
    {
        xai_app_fail(&app, path, "%s", xai_last_error());
        return -1;
    }
    return 0;
}

/* the Laplacian spectrum of each class (the eigengap plot) */
static int plot_eigenvalues(const spray_opts *o, const spray_run *r)
{
    xai_chart_series *s = calloc((size_t)o->nclasses, sizeof *s);
    char (*lab)[64] = calloc((size_t)o->nclasses, sizeof *lab);
    double ks[XAI_SPRAY_MAX_EIG];
    for (int j = 0; j < XAI_SPRAY_MAX_EIG; j++)
        ks[j] = j + 1;
    if (!s || !lab) {
        free(s), free(lab);
        xai_app_fail(&app, o->outdir, "out of memory");
        return -1;
    }
    for (int a = 0; a < o->nclasses; a++) {
        snprintf(lab[a], sizeof lab[a], "class %d (k=%d)", o->classes[a], r->res[a]->n_clusters);
        s[a] = (xai_chart_series){ks, r->res[a]->eigenvalues, r->res[a]->n_eig, lab[a],
                                  XAI_SERIES_LINE | XAI_SERIES_MARKERS, a, 1};
    }
    xai_chart_opts co;
    xai_chart_opts_init(&co);
    co.title = "Normalised Laplacian spectrum per class";
    co.xlabel = "index k";
    co.ylabel = "eigenvalue lambda_k";
    int rc = chart(opath(o, "eigenvalues.png", 0, 0), s, o->nclasses, &co);
    free(s), free(lab);
    return rc;
}

/* the 2-D spectral embedding of class @p a, one colour per cluster */
static int plot_embedding(const spray_opts *o, int a, const xai_spray_result *r)
{
    int k = r->n_clusters;
    double *xy = malloc(2 * (size_t)r->n * sizeof(double));
    xai_chart_series *s = calloc((size_t)k, sizeof *s);
    char (*lab)[48] = calloc((size_t)k, sizeof *lab);
    int rc = -1;
    if (!xy || !s || !lab) {
        xai_app_fail(&app, o->outdir, "out of memory");
        goto out;
    }
    /* points grouped by cluster: x values first, then y, per cluster block */
    for (int q = 0, at = 0; q < k; q++) {
        int start = at;
        for (int64_t i = 0; i < r->n; i++)
            if (r->labels[i] == q) {
                xy[at] = r->embedding2d[2 * i];
                xy[r->n + at++] = r->embedding2d[2 * i + 1];
            }
        snprintf(lab[q], sizeof lab[q], "cluster %d (%lld)", q, (long long)r->sizes[q]);
        s[q] = (xai_chart_series){xy + start, xy + r->n + start, at - start, lab[q], XAI_SERIES_MARKERS, q, 0.7};
    }
    char title[96];
    snprintf(title, sizeof title, "Class %d: spectral embedding (FDA J = %.3g)", o->classes[a], r->fda);
    xai_chart_opts co;
    xai_chart_opts_init(&co);
    co.title = title;
    co.xlabel = "spectral coordinate 1";
    co.ylabel = "spectral coordinate 2";
    co.height = 560;
    rc = chart(opath(o, "class-%d-embedding.png", o->classes[a], 0), s, k, &co);
out:
    free(xy), free(s), free(lab);
    return rc;
}

/* cluster @p q's mean map of class @p a as a heatmap */
static int plot_prototype(const spray_opts *o, const spray_input *in, int a, int q, const float *mean,
                          int64_t size)
{
    const char *p = opath(o, "class-%d-cluster-%d.png", o->classes[a], q);
    if (q > 0 && xai_app_check_output(&app, p))
        return XAI_EXIT_USAGE;
    char title[128];
    snprintf(title, sizeof title, "class %d, cluster %d: mean of %lld maps", o->classes[a], q, (long long)size);
    xai_heatmap_opts ho;
    xai_heatmap_opts_init(&ho);
    ho.title = title;
    ho.xlabel = o->xlabel;
    ho.ylabel = o->ylabel;
    ho.origin_lower = o->origin_lower;
    ho.cbar_label = "mean relevance";
    int neg = 0;
    for (int64_t j = 0; j < in->rows * in->cols && !neg; j++)
        neg = mean[j] < 0;
    ho.cmap = neg ? XAI_CMAP_BWR : XAI_CMAP_HOT;
    if (xai_figure_heatmap(p, mean, (int)in->rows, (int)in->cols, &ho) != XAI_OK)
        return xai_app_fail(&app, p, "%s", xai_last_error());
    return 0;
}

/* ---- per class ----------------------------------------------------------------------- */

/* The mean map of each cluster of class @p a, (K, rows*cols) floats; NULL when out of memory. */
static float *cluster_means(const spray_opts *o, const spray_input *in, int a, const xai_spray_result *r)
{
    size_t md = (size_t)(in->rows * in->cols), k = (size_t)r->n_clusters;
    float *means = calloc(k * md, sizeof(float));
    double *acc = calloc(k * md, sizeof(double));
    if (!means || !acc) {
        free(means), free(acc);
        return NULL;
    }
    for (int64_t i = 0, m = 0; i < in->n; i++)
        if (in->labels[i] == o->classes[a]) {
            double *dst = acc + (size_t)r->labels[m++] * md;
            for (size_t j = 0; j < md; j++)
                dst[j] += in->maps.data[(size_t)i * md + j];
        }
    for (size_t q = 0; q < k; q++)
        for (size_t j = 0; j < md; j++)
            means[q * md + j] = (float)(acc[q * md + j] / (double)r->sizes[q]);
    free(acc);
    return means;
}

/* class-C-cluster-means.npy with its sidecar, the embedding and the prototypes */
static int class_outputs(const spray_opts *o, const spray_input *in, const spray_run *run, int a)
{
    const xai_spray_result *r = run->res[a];
    float *means = cluster_means(o, in, a, r);
    if (!means)
        return xai_app_fail(&app, o->maps_path, "out of memory");
    int64_t shape[XAI_NPY_MAX_DIMS] = {r->n_clusters};
    for (int d = 1; d < in->maps.ndim; d++)
        shape[d] = in->maps.shape[d];
    const char *p = opath(o, "class-%d-cluster-means.npy", o->classes[a], 0);
    int rc = 0;
    if (xai_npy_save(p, in->maps.ndim, shape, means) != XAI_OK)
        rc = xai_app_fail(&app, p, "%s", xai_last_error());
    if (!rc) {
        json_object_set_new(run->prov, "Class", json_integer(o->classes[a]));
        rc = sidecar(p, run->prov, "per-cluster mean relevance maps of the class, (K, ...) like MAPS") ? 1 : 0;
        json_object_del(run->prov, "Class");
    }
    if (!rc)
        rc = plot_embedding(o, a, r) ? 1 : 0;
    for (int q = 0; !rc && q < r->n_clusters; q++)
        rc = plot_prototype(o, in, a, q, means + (size_t)q * (size_t)(in->rows * in->cols), r->sizes[q]);
    free(means);
    return rc;
}

static void summary(const spray_opts *o, const spray_input *in, const spray_run *run)
{
    fprintf(stderr, PROG ": %lld maps, %d classes; ranking (most separable first):\n", (long long)in->n,
            o->nclasses);
    for (int a = 0; a < o->nclasses; a++) {
        const xai_spray_result *r = run->res[run->order[a]];
        int knn = o->cfg.knn;
        fprintf(stderr, "  %d. class %d: %lld maps, %d clusters, FDA J = %.4g (%.2f x its reference)%s\n", a + 1,
                o->classes[run->order[a]], (long long)r->n, r->n_clusters, r->fda, r->fda_ratio,
                r->used_lanczos ? " (Lanczos)" : "");
        if (r->n > knn && r->n / 4 < knn)
            fprintf(stderr, "     note: with --knn %d a group of fewer than about %d of these %lld maps is "
                    "never isolated; try --knn %d\n", knn, knn, (long long)r->n, (int)(r->n / 4 > 2 ? r->n / 4 : 2));
    }
}

/* ---- the run ------------------------------------------------------------------------- */

static int analyse(const spray_opts *o, const spray_input *in, spray_run *run)
{
    float *feat = NULL;
    int fr, fc, rc = 0;
    if (xai_spray_preprocess(in->maps.data, in->n, (int)in->rows, (int)in->cols, &o->cfg, &feat, &fr, &fc) != XAI_OK)
        return xai_app_fail(&app, o->maps_path, "%s", xai_last_error());
    run->res = calloc((size_t)o->nclasses, sizeof *run->res);
    run->order = calloc((size_t)o->nclasses, sizeof(int));
    if (!run->res || !run->order)
        rc = xai_app_fail(&app, o->maps_path, "out of memory");
    else if (xai_spray_by_class(feat, in->n, (int64_t)fr * fc, in->labels, o->classes, o->nclasses, &o->cfg,
                                run->res, run->order) != XAI_OK)
        rc = xai_app_fail(&app, o->maps_path, "%s", xai_last_error());
    free(feat);
    return rc;
}

static int write_outputs(const spray_opts *o, const spray_input *in, spray_run *run, int have_dir)
{
    if (!have_dir && xai_app_mkdirs(&app, o->outdir) != 0)
        return 1;
    if (!(run->prov = provenance(o)))
        return xai_app_fail(&app, o->outdir, "out of memory");
    if (write_ranking(o, run) || write_eigenvalues(o, run) || write_clusters(o, in, run) ||
        plot_eigenvalues(o, run))
        return 1;
    xai_app_progress_begin(&app, "class outputs", o->nclasses);
    for (int a = 0; a < o->nclasses; a++) {
        int rc = class_outputs(o, in, run, a);
        if (rc)
            return rc;
        char item[32];
        snprintf(item, sizeof item, "class %d", o->classes[a]);
        xai_app_progress_step(&app, a + 1, item);
    }
    xai_app_progress_end(&app);
    return 0;
}

static int run_spray(spray_opts *o)
{
    spray_input in = {0};
    spray_run run = {0};
    int have_dir = 0;
    int rc = load_input(o, &in);
    if (!rc)
        rc = collect_classes(o, &in);
    if (!rc)
        rc = check_outputs(o, &have_dir);
    if (!rc)
        rc = analyse(o, &in, &run);
    if (!rc)
        rc = write_outputs(o, &in, &run, have_dir);
    if (!rc && app.verbosity > 0)
        summary(o, &in, &run);
    json_decref(run.prov);
    for (int a = 0; run.res && a < o->nclasses; a++)
        xai_spray_result_free(run.res[a]);
    free(run.res), free(run.order), free(in.labels);
    xai_npy_free(&in.maps);
    xai_npy_int_free(&in.lab);
    return rc;
}

int main(int argc, char **argv)
{
    static spray_opts o;
    xai_app_init(&app, PROG, "0.1.0", argc, argv);
    xai_app_install_signal_handlers();
    gsl_set_error_handler_off();
    int rc = parse_args(argc, argv, &o);
    if (rc == 0) {
        xai_app_apply_threads(&app);
        rc = run_spray(&o);
    }
    /* release cairo's and fontconfig's caches so leak checkers see a clean exit */
    cairo_debug_reset_static_data();
    FcFini();
    xai_app_free(&app);
    return rc < 0 ? XAI_EXIT_OK : rc;
}
