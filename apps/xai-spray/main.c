/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-spray - Spectral Relevance Analysis over a stack of relevance maps, per class, with
 * the Clever-Hans ranking of classes by the Fisher separability of their clusters.
 * Thin program over libxai (xai/spray.h: clustering, cluster means) and the formats library
 * (xai/spray-write.h: tables and arrays with sidecars; figure charts and heatmaps). Messages,
 * the common options, the output policy and progress come from the shared app layer (app.h).
 * Refs: Lapuschkin et al. 2019, Nat. Commun. 10:1096; Anders et al. 2022, Inf. Fusion 77:261.
 * Exit codes: 0 ok, 1 data or runtime error, 2 usage error.
 */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <gsl/gsl_errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spray-app.h"
#include "xai/figure.h"
#include "xai/npy.h"
#include "xai/spray-write.h"

xai_app app;

typedef struct {
    xai_npy maps;
    int *labels;         /* [n], 0 without --labels */
    int64_t n, rows, cols;
} spray_input;

typedef struct {
    xai_spray_result **res; /* [nclasses], in classes order */
    int *order;             /* ranking: indices into classes, most separable first */
    char *prov;             /* provenance shared by every sidecar (JSON text) */
} spray_run;

/* --labels: N integers within +-1e9 */
static int load_labels(const char *path, spray_input *in)
{
    free(in->labels);
    in->labels = NULL;
    if (xai_npy_load_labels(path, in->n, -1000000000, 1000000000, &in->labels) != XAI_OK)
        return xai_app_fail(&app, NULL, "%s", xai_last_error());
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

static char *provenance(const spray_opts *o)
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
    json_t *root = json_pack("{s:o?, s:o?, s:s, s:s, s:s, s:s}", "Sources", src, "Parameters", par, "Method",
                             "SpRAy (spectral relevance analysis)", "CommandLine",
                             app.command_line ? app.command_line : "", "Version", app.version ? app.version : "",
                             "DateTime", app.datetime);
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return text;
}

static int chart(const char *path, const xai_chart_series *s, int ns, const xai_chart_opts *co)
{
    return xai_figure_chart(path, s, ns, co) != XAI_OK ? (xai_app_fail(&app, path, "%s", xai_last_error()), -1) : 0;
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

/* class-C-cluster-means.npy with its sidecar, the embedding and the prototypes */
static int class_outputs(const spray_opts *o, const spray_input *in, const spray_run *run, int a)
{
    const xai_spray_result *r = run->res[a];
    int64_t md = in->rows * in->cols;
    float *means = malloc(sizeof(float) * (size_t)(r->n_clusters * md));
    if (!means)
        return xai_app_fail(&app, o->maps_path, "out of memory");
    if (xai_spray_cluster_means(in->maps.data, in->n, md, in->labels, o->classes[a], r, means) != XAI_OK) {
        free(means);
        return xai_app_fail(&app, o->maps_path, "%s", xai_last_error());
    }
    int64_t shape[XAI_NPY_MAX_DIMS] = {r->n_clusters};
    for (int d = 1; d < in->maps.ndim; d++)
        shape[d] = in->maps.shape[d];
    const char *p = opath(o, "class-%d-cluster-means.npy", o->classes[a], 0);
    int rc = 0;
    if (xai_spray_write_means(p, means, in->maps.ndim, shape, o->classes[a], run->prov) != XAI_OK)
        rc = xai_app_fail(&app, NULL, "%s", xai_last_error());
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
    xai_spray_outcome out = {o->nclasses, o->classes, run->res, run->order, in->n, in->labels};
    if (xai_spray_write_tables(o->outdir, &out, run->prov) != XAI_OK)
        return xai_app_fail(&app, NULL, "%s", xai_last_error());
    if (plot_eigenvalues(o, run))
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
    free(run.prov);
    for (int a = 0; run.res && a < o->nclasses; a++)
        xai_spray_result_free(run.res[a]);
    free(run.res), free(run.order), free(in.labels);
    xai_npy_free(&in.maps);
    return rc;
}

int main(int argc, char **argv)
{
    static spray_opts o;
    xai_app_init(&app, PROG, "0.1.0", argc, argv);
    xai_app_install_signal_handlers();
    gsl_set_error_handler_off();
    int rc = spray_parse_args(argc, argv, &o);
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

