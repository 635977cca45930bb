/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-spray - Spectral Relevance Analysis over a stack of relevance maps, per class, with
 * the Clever-Hans ranking of classes by the Fisher separability of their clusters.
 * Thin program over libxai (spray.h) and the formats library (npy, tsv, figure); the line
 * and scatter plots are drawn here with cairo. Messages, the common options, the output
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
"  --labels L.npy       N class labels (integers as float); without it all maps are class 0\n"
"  --classes LIST       comma-separated classes to analyse [every label present]\n"
"\n"
"PREPROCESSING\n"
"  --pool RxC           sum-pool each map to R x C (0 keeps an axis) [no pooling]\n"
"  --signed             keep signs (default: absolute value after pooling)\n"
"  --norm sum|max|none  per-map normalisation by sum or max of |values| [sum]\n"
"\n"
"CLUSTERING\n"
"  --knn K              neighbours of the symmetric kNN graph [10]\n"
"  --eig N              eigenpairs of the normalised Laplacian, 2..32 [32]\n"
"  --clusters K         clusters per class; 0 = by the largest eigengap [0]\n"
"  --min-clusters K     smallest k the eigengap may choose [2]\n"
"  --max-clusters K     largest k the eigengap may choose [10]\n"
"  --restarts R         k-means++ restarts [10]\n"
"  --seed S             seed of k-means++ and Lanczos [1]\n"
"  --solver S           auto | dense | lanczos (auto: dense GSL up to 1000 maps) [auto]\n"
"\n"
"OUTPUT (in OUTDIR, created if missing)\n"
"  ranking.tsv                 classes by FDA score, most separable (suspicious) first\n"
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

/* atomic cairo PNG output through the app layer; 0 or -1 with the reason printed */
static int save_png(cairo_surface_t *s, const char *path)
{
    return xai_app_write_png(&app, s, path, "cannot draw the plot", "cannot write the plot");
}

static const double palette[10][3] = {
    {0.12, 0.47, 0.71}, {1.00, 0.50, 0.05}, {0.17, 0.63, 0.17}, {0.84, 0.15, 0.16},
    {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.50, 0.50, 0.50},
    {0.74, 0.74, 0.13}, {0.09, 0.75, 0.81}};

typedef struct {
    double x0, x1, y0, y1;      /* data range */
    double px, py, pw, ph;      /* plot area in pixels */
} frame;

static double fx(const frame *f, double x) { return f->px + (x - f->x0) / (f->x1 - f->x0) * f->pw; }
static double fy(const frame *f, double y) { return f->py + f->ph - (y - f->y0) / (f->y1 - f->y0) * f->ph; }

/* white background, axes box, 5 ticks per axis, labels and title */
static void draw_frame(cairo_t *cr, const frame *f, const char *title, const char *xl, const char *yl)
{
    char buf[64];
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, f->px, f->py, f->pw, f->ph);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 11);
    for (int t = 0; t <= 4; t++) {
        double xv = f->x0 + t * (f->x1 - f->x0) / 4, yv = f->y0 + t * (f->y1 - f->y0) / 4;
        double X = fx(f, xv), Y = fy(f, yv);
        cairo_move_to(cr, X, f->py + f->ph);
        cairo_line_to(cr, X, f->py + f->ph + 4);
        cairo_move_to(cr, f->px, Y);
        cairo_line_to(cr, f->px - 4, Y);
        cairo_stroke(cr);
        cairo_text_extents_t te;
        snprintf(buf, sizeof buf, "%.3g", xv);
        cairo_text_extents(cr, buf, &te);
        cairo_move_to(cr, X - te.width / 2, f->py + f->ph + 17);
        cairo_show_text(cr, buf);
        snprintf(buf, sizeof buf, "%.3g", yv);
        cairo_text_extents(cr, buf, &te);
        cairo_move_to(cr, f->px - 7 - te.width, Y + 4);
        cairo_show_text(cr, buf);
    }
    cairo_text_extents_t te;
    cairo_set_font_size(cr, 12);
    cairo_text_extents(cr, xl, &te);
    cairo_move_to(cr, f->px + f->pw / 2 - te.width / 2, f->py + f->ph + 36);
    cairo_show_text(cr, xl);
    cairo_save(cr);
    cairo_text_extents(cr, yl, &te);
    cairo_move_to(cr, 18, f->py + f->ph / 2 + te.width / 2);
    cairo_rotate(cr, -M_PI / 2);
    cairo_show_text(cr, yl);
    cairo_restore(cr);
    cairo_set_font_size(cr, 14);
    cairo_text_extents(cr, title, &te);
    cairo_move_to(cr, f->px + f->pw / 2 - te.width / 2, 24);
    cairo_show_text(cr, title);
}

static void legend(cairo_t *cr, const frame *f, int i, const double rgb[3], const char *text)
{
    cairo_set_font_size(cr, 11);
    double x = f->px + f->pw + 12, y = f->py + 10 + 18 * i;
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_arc(cr, x + 5, y - 4, 4, 0, 2 * M_PI);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, x + 14, y);
    cairo_show_text(cr, text);
}

static int plot_eigenvalues(const char *path, int nclasses, const int *classes,
                            xai_spray_result *const *res)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 760, 480);
    cairo_t *cr = cairo_create(s);
    int nmax = 1;
    double ymax = 0;
    for (int c = 0; c < nclasses; c++) {
        if (res[c]->n_eig > nmax)
            nmax = res[c]->n_eig;
        for (int j = 0; j < res[c]->n_eig; j++)
            ymax = fmax(ymax, res[c]->eigenvalues[j]);
    }
    frame f = {1, nmax > 1 ? nmax : 2, 0, ymax > 0 ? ymax * 1.05 : 1, 70, 40, 540, 380};
    draw_frame(cr, &f, "Normalised Laplacian spectrum per class", "index k",
               "eigenvalue lambda_k");
    cairo_set_line_width(cr, 1.5);
    for (int c = 0; c < nclasses; c++) {
        const double *rgb = palette[c % 10];
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        for (int j = 0; j < res[c]->n_eig; j++) {
            double X = fx(&f, j + 1), Y = fy(&f, res[c]->eigenvalues[j]);
            if (j == 0)
                cairo_move_to(cr, X, Y);
            else
                cairo_line_to(cr, X, Y);
        }
        cairo_stroke(cr);
        for (int j = 0; j < res[c]->n_eig; j++) {
            cairo_arc(cr, fx(&f, j + 1), fy(&f, res[c]->eigenvalues[j]), 2.5, 0, 2 * M_PI);
            cairo_fill(cr);
        }
        if (c < 20) {
            char buf[64];
            snprintf(buf, sizeof buf, "class %d (k=%d)", classes[c], res[c]->n_clusters);
            legend(cr, &f, c, rgb, buf);
        }
    }
    cairo_destroy(cr);
    int rc = save_png(s, path);
    cairo_surface_destroy(s);
    return rc;
}

static int plot_embedding(const char *path, int cls, const xai_spray_result *r)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 760, 560);
    cairo_t *cr = cairo_create(s);
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int64_t i = 0; i < r->n; i++) {
        x0 = fmin(x0, r->embedding2d[2 * i]);
        x1 = fmax(x1, r->embedding2d[2 * i]);
        y0 = fmin(y0, r->embedding2d[2 * i + 1]);
        y1 = fmax(y1, r->embedding2d[2 * i + 1]);
    }
    double mx = (x1 - x0) * 0.05 + 1e-12, my = (y1 - y0) * 0.05 + 1e-12;
    frame f = {x0 - mx, x1 + mx, y0 - my, y1 + my, 80, 40, 520, 460};
    char title[96];
    snprintf(title, sizeof title, "Class %d: spectral embedding (FDA J = %.3g)", cls, r->fda);
    draw_frame(cr, &f, title, "spectral coordinate 1", "spectral coordinate 2");
    for (int64_t i = 0; i < r->n; i++) {
        const double *rgb = palette[r->labels[i] % 10];
        cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], 0.7);
        cairo_arc(cr, fx(&f, r->embedding2d[2 * i]), fy(&f, r->embedding2d[2 * i + 1]), 2.5, 0,
                  2 * M_PI);
        cairo_fill(cr);
    }
    for (int k = 0; k < r->n_clusters && k < 24; k++) {
        char buf[64];
        snprintf(buf, sizeof buf, "cluster %d (%lld)", k, (long long)r->sizes[k]);
        legend(cr, &f, k, palette[k % 10], buf);
    }
    cairo_destroy(cr);
    int rc = save_png(s, path);
    cairo_surface_destroy(s);
    return rc;
}

/* ---- output paths ---- */

static const char *outdir;

static const char *opath(const char *fmt, int a, int b)
{
    static char buf[4][PATH_MAX];
    static int slot;
    char name[256];
    char *p = buf[slot++ & 3];
    snprintf(name, sizeof name, fmt, a, b);
    snprintf(p, PATH_MAX, "%s/%s", outdir, name);
    return p;
}

/* 0 when @p path may be written (absent, or --force) */
static int check_free(const char *path)
{
    return xai_app_check_output(&app, path);
}

/* Provenance sidecar of a kept table or array: @p extra holds the run's inputs and
 * parameters; the app layer adds CommandLine, Version and DateTime. */
static int sidecar(const char *path, json_t *extra, const char *what)
{
    json_object_set_new(extra, "Description", json_string(what));
    char *text = json_dumps(extra, JSON_COMPACT);
    int rc = text ? xai_app_write_sidecar(&app, path, text) : xai_app_fail(&app, path, "out of memory");
    free(text);
    return rc ? -1 : 0;
}

int main(int argc, char **argv)
{
    enum { O_LABELS = 256, O_CLASSES, O_POOL, O_SIGNED, O_NORM, O_KNN, O_EIG, O_CLUSTERS,
           O_MINC, O_MAXC, O_RESTARTS, O_SEED, O_SOLVER, O_XLABEL, O_YLABEL, O_ORIGIN };
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
    xai_spray_config cfg;
    xai_spray_config_init(&cfg);
    const char *labels_path = NULL, *classes_arg = NULL;
    const char *xlabel = "column (time)", *ylabel = "row (channel)";
    int origin_lower = 0, c;
    xai_app_init(&app, PROG, "0.1.0", argc, argv);
    xai_app_install_signal_handlers();
    gsl_set_error_handler_off();
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:fqvhV", opts, NULL)) != -1) {
        char msg[160];
        int h = xai_app_handle_option(&app, c == 'V' ? XAI_APP_OPT_VERSION : c, optarg);
        if (h == 2 || h < 0) {
            xai_app_free(&app);
            return h == 2 ? XAI_EXIT_OK : XAI_EXIT_USAGE;
        }
        if (h == 1)
            continue;
        switch (c) {
        case 'o': outdir = optarg; break;
        case 'h': usage(stdout); xai_app_free(&app); return 0;
        case O_LABELS: labels_path = optarg; break;
        case O_XLABEL: xlabel = optarg; break;
        case O_YLABEL: ylabel = optarg; break;
        case O_ORIGIN: origin_lower = 1; break;
        case O_CLASSES: classes_arg = optarg; break;
        case O_POOL: {
            char *x = strchr(optarg, 'x');
            if (!x)
                return xai_app_usage_error(&app, "--pool needs RxC, e.g. 8x32");
            *x = 0;
            if (parse_int(optarg, 0, 1 << 20, &cfg.pool_rows) || parse_int(x + 1, 0, 1 << 20, &cfg.pool_cols))
                return xai_app_usage_error(&app, "--pool needs RxC with integers >= 0");
            break;
        }
        case O_SIGNED: cfg.use_abs = 0; break;
        case O_NORM:
            if (!strcmp(optarg, "sum"))
                cfg.norm = XAI_SPRAY_NORM_SUM;
            else if (!strcmp(optarg, "max"))
                cfg.norm = XAI_SPRAY_NORM_MAX;
            else if (!strcmp(optarg, "none"))
                cfg.norm = XAI_SPRAY_NORM_NONE;
            else
                return xai_app_usage_error(&app, "--norm must be sum, max or none");
            break;
        case O_KNN:
            if (parse_int(optarg, 1, 1000, &cfg.knn))
                return xai_app_usage_error(&app, "--knn needs an integer in 1..1000");
            break;
        case O_EIG:
            if (parse_int(optarg, 2, XAI_SPRAY_MAX_EIG, &cfg.n_eig))
                return xai_app_usage_error(&app, "--eig needs an integer in 2..32");
            break;
        case O_CLUSTERS:
            if (parse_int(optarg, 0, XAI_SPRAY_MAX_EIG, &cfg.n_clusters))
                return xai_app_usage_error(&app, "--clusters needs an integer in 0..32");
            break;
        case O_MINC:
            if (parse_int(optarg, 1, XAI_SPRAY_MAX_EIG, &cfg.min_clusters))
                return xai_app_usage_error(&app, "--min-clusters needs an integer in 1..32");
            break;
        case O_MAXC:
            if (parse_int(optarg, 1, XAI_SPRAY_MAX_EIG, &cfg.max_clusters))
                return xai_app_usage_error(&app, "--max-clusters needs an integer in 1..32");
            break;
        case O_RESTARTS:
            if (parse_int(optarg, 1, 10000, &cfg.restarts))
                return xai_app_usage_error(&app, "--restarts needs an integer in 1..10000");
            break;
        case O_SEED: {
            int s;
            if (parse_int(optarg, 0, INT_MAX, &s))
                return xai_app_usage_error(&app, "--seed needs an integer >= 0");
            cfg.seed = (uint64_t)s;
            break;
        }
        case O_SOLVER:
            if (!strcmp(optarg, "auto"))
                cfg.solver = XAI_SPRAY_EIG_AUTO;
            else if (!strcmp(optarg, "dense"))
                cfg.solver = XAI_SPRAY_EIG_DENSE;
            else if (!strcmp(optarg, "lanczos"))
                cfg.solver = XAI_SPRAY_EIG_LANCZOS;
            else
                return xai_app_usage_error(&app, "--solver must be auto, dense or lanczos");
            break;
        case ':':
            snprintf(msg, sizeof msg, "option '%s' needs an argument", argv[optind - 1]);
            return xai_app_usage_error(&app, "%s", msg);
        default:
            snprintf(msg, sizeof msg, "unknown option '%s'", argv[optind - 1]);
            return xai_app_usage_error(&app, "%s", msg);
        }
    }
    if (optind + 1 != argc)
        return xai_app_usage_error(&app, "%s", optind >= argc ? "missing MAPS.npy" : "exactly one MAPS.npy expected");
    if (!outdir)
        return xai_app_usage_error(&app, "missing -o OUTDIR");
    if (cfg.max_clusters < cfg.min_clusters)
        return xai_app_usage_error(&app, "--max-clusters must be >= --min-clusters");
    if (cfg.n_clusters > cfg.n_eig)
        return xai_app_usage_error(&app, "--clusters must not exceed --eig");
    xai_app_apply_threads(&app);
    const char *maps_path = argv[optind];
    int classes[MAX_CLASSES], nclasses = 0;
    if (classes_arg) {
        char *copy = strdup(classes_arg), *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            int v;
            if (parse_int(tok, INT_MIN + 1, INT_MAX, &v) || nclasses >= MAX_CLASSES) {
                free(copy);
                return xai_app_usage_error(&app, "--classes needs a comma-separated list of integers");
            }
            for (int a = 0; a < nclasses; a++)
                if (classes[a] == v) {
                    free(copy);
                    return xai_app_usage_error(&app, "--classes lists a class twice");
                }
            classes[nclasses++] = v;
        }
        free(copy);
        if (nclasses == 0)
            return xai_app_usage_error(&app, "--classes is empty");
    }

    int rc = 1;
    xai_npy maps = {0}, lab = {0};
    int *labels = NULL, *order = NULL;
    float *feat = NULL, *means = NULL;
    xai_spray_result **res = NULL;
    xai_tsv *t = NULL;
    json_t *prov = NULL;

    if (xai_npy_load(maps_path, &maps) != XAI_OK) {
        xai_app_fail(&app, NULL, "%s", xai_last_error());
        goto out;
    }
    if (maps.ndim < 2 || maps.shape[0] < 3) {
        xai_app_fail(&app, maps_path, "need shape (N, ...) with N >= 3 maps");
        goto out;
    }
    int64_t n = maps.shape[0], cols = maps.shape[maps.ndim - 1], rows = 1;
    for (int a = 1; a < maps.ndim - 1; a++)
        rows *= maps.shape[a];
    if (rows * cols > INT_MAX / 4 || rows * cols < 1 || n > INT_MAX) {
        xai_app_fail(&app, maps_path, "maps are too large or empty");
        goto out;
    }
    labels = calloc((size_t)n, sizeof(int));
    if (!labels) {
        xai_app_fail(&app, maps_path, "out of memory");
        goto out;
    }
    if (labels_path) {
        if (xai_npy_load(labels_path, &lab) != XAI_OK) {
            xai_app_fail(&app, NULL, "%s", xai_last_error());
            goto out;
        }
        int64_t nl = 1;
        for (int a = 0; a < lab.ndim; a++)
            nl *= lab.shape[a];
        if (nl != n) {
            char msg[128];
            snprintf(msg, sizeof msg, "%lld labels for %lld maps", (long long)nl, (long long)n);
            xai_app_fail(&app, labels_path, "%s", msg);
            goto out;
        }
        for (int64_t i = 0; i < n; i++) {
            float v = lab.data[i];
            if (!isfinite(v) || v != floorf(v) || fabsf(v) > 1e9f) {
                char msg[128];
                snprintf(msg, sizeof msg, "label %lld is %g, not an integer", (long long)i, v);
                xai_app_fail(&app, labels_path, "%s", msg);
                goto out;
            }
            labels[i] = (int)v;
        }
    }
    if (!classes_arg) {
        for (int64_t i = 0; i < n; i++) {
            int seen = 0;
            for (int a = 0; a < nclasses && !seen; a++)
                seen = classes[a] == labels[i];
            if (!seen) {
                if (nclasses >= MAX_CLASSES) {
                    xai_app_fail(&app, labels_path, "more than 4096 distinct labels");
                    goto out;
                }
                classes[nclasses++] = labels[i];
            }
        }
        for (int a = 1; a < nclasses; a++) /* ascending */
            for (int b = a; b > 0 && classes[b - 1] > classes[b]; b--) {
                int tmp = classes[b];
                classes[b] = classes[b - 1];
                classes[b - 1] = tmp;
            }
    }
    for (int a = 0; a < nclasses; a++) {
        int64_t cnt = 0;
        for (int64_t i = 0; i < n; i++)
            cnt += labels[i] == classes[a];
        if (cnt < 3) {
            char msg[128];
            snprintf(msg, sizeof msg, "class %d has %lld maps; SpRAy needs at least 3", classes[a],
                     (long long)cnt);
            xai_app_fail(&app, labels_path ? labels_path : maps_path, "%s", msg);
            goto out;
        }
    }

    /* no-overwrite check before any work; the directory is made once the analysis is done */
    struct stat st;
    int have_dir = stat(outdir, &st) == 0;
    if (have_dir && !S_ISDIR(st.st_mode)) {
        xai_app_fail(&app, outdir, "not a directory");
        goto out;
    }
    if (have_dir) {
        if (check_free(opath("ranking.tsv", 0, 0)) || check_free(opath("eigenvalues.tsv", 0, 0)) ||
            check_free(opath("eigenvalues.png", 0, 0)) || check_free(opath("clusters.tsv", 0, 0))) {
            rc = XAI_EXIT_USAGE;
            goto out;
        }
        for (int a = 0; a < nclasses; a++)
            if (check_free(opath("class-%d-cluster-means.npy", classes[a], 0)) ||
                check_free(opath("class-%d-embedding.png", classes[a], 0)) ||
                check_free(opath("class-%d-cluster-0.png", classes[a], 0))) {
                rc = XAI_EXIT_USAGE;
                goto out;
            }
    }

    int fr, fc;
    if (xai_spray_preprocess(maps.data, n, (int)rows, (int)cols, &cfg, &feat, &fr, &fc) != XAI_OK) {
        xai_app_fail(&app, maps_path, "%s", xai_last_error());
        goto out;
    }
    res = calloc((size_t)nclasses, sizeof *res);
    order = calloc((size_t)nclasses, sizeof(int));
    if (!res || !order) {
        xai_app_fail(&app, maps_path, "out of memory");
        goto out;
    }
    if (xai_spray_by_class(feat, n, (int64_t)fr * fc, labels, classes, nclasses, &cfg, res, order) !=
        XAI_OK) {
        xai_app_fail(&app, maps_path, "%s", xai_last_error());
        goto out;
    }

    if (!have_dir && xai_app_mkdirs(&app, outdir) != 0)
        goto out;
    /* provenance of the kept tables and arrays: inputs and every analysis parameter */
    {
        const char *norm = cfg.norm == XAI_SPRAY_NORM_SUM ? "sum"
                           : cfg.norm == XAI_SPRAY_NORM_MAX ? "max" : "none";
        const char *solver = cfg.solver == XAI_SPRAY_EIG_DENSE     ? "dense"
                             : cfg.solver == XAI_SPRAY_EIG_LANCZOS ? "lanczos" : "auto";
        json_t *par = json_pack("{s:i, s:i, s:b, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:I, s:s}",
                                "pool_rows", cfg.pool_rows, "pool_cols", cfg.pool_cols, "abs",
                                cfg.use_abs, "norm", norm, "knn", cfg.knn, "eig",
                                cfg.n_eig, "clusters", cfg.n_clusters, "min_clusters",
                                cfg.min_clusters, "max_clusters", cfg.max_clusters, "restarts",
                                cfg.restarts, "seed", (json_int_t)cfg.seed, "solver",
                                solver);
        json_t *cl = json_array(), *src = json_array();
        for (int a = 0; a < nclasses; a++)
            json_array_append_new(cl, json_integer(classes[a]));
        json_array_append_new(src, json_string(maps_path));
        if (labels_path)
            json_array_append_new(src, json_string(labels_path));
        if (par)
            json_object_set_new(par, "classes", cl);
        else
            json_decref(cl);
        prov = json_pack("{s:o?, s:o?, s:s}", "Sources", src, "Parameters", par, "Method",
                         "SpRAy (spectral relevance analysis)");
        if (!prov) {
            xai_app_fail(&app, outdir, "out of memory");
            goto out;
        }
    }
    /* ranking.tsv */
    {
        const char *names[] = {"rank", "class", "n_maps", "n_clusters", "components", "fda_score",
                               "largest_cluster_fraction", "eigengap"};
        if (xai_tsv_create(8, names, NULL, &t) != XAI_OK)
            goto tsv_fail;
        for (int a = 0; a < nclasses; a++) {
            const xai_spray_result *r = res[order[a]];
            size_t row;
            int k = r->n_clusters;
            double gap = k < r->n_eig ? r->eigenvalues[k] - r->eigenvalues[k - 1] : NAN;
            if (xai_tsv_add_row(t, &row) || xai_tsv_set_number(t, row, 0, a + 1) ||
                xai_tsv_set_number(t, row, 1, classes[order[a]]) || xai_tsv_set_number(t, row, 2, (double)r->n) ||
                xai_tsv_set_number(t, row, 3, k) || xai_tsv_set_number(t, row, 4, r->n_components) ||
                xai_tsv_set_number(t, row, 5, r->fda) ||
                xai_tsv_set_number(t, row, 6, (double)r->sizes[0] / (double)r->n) ||
                (isfinite(gap) ? xai_tsv_set_number(t, row, 7, gap) : xai_tsv_set_na(t, row, 7)))
                goto tsv_fail;
        }
        if (xai_tsv_save(t, opath("ranking.tsv", 0, 0), 0) != XAI_OK)
            goto tsv_fail;
        if (sidecar(opath("ranking.tsv", 0, 0), prov, "classes ranked by FDA score, most separable first"))
            goto out;
        xai_tsv_free(t);
        t = NULL;
    }
    /* eigenvalues.tsv */
    {
        const char *names[] = {"class", "k", "eigenvalue"};
        if (xai_tsv_create(3, names, NULL, &t) != XAI_OK)
            goto tsv_fail;
        for (int a = 0; a < nclasses; a++)
            for (int j = 0; j < res[a]->n_eig; j++) {
                size_t row;
                if (xai_tsv_add_row(t, &row) || xai_tsv_set_number(t, row, 0, classes[a]) ||
                    xai_tsv_set_number(t, row, 1, j + 1) ||
                    xai_tsv_set_number(t, row, 2, res[a]->eigenvalues[j]))
                    goto tsv_fail;
            }
        if (xai_tsv_save(t, opath("eigenvalues.tsv", 0, 0), 0) != XAI_OK)
            goto tsv_fail;
        if (sidecar(opath("eigenvalues.tsv", 0, 0), prov, "normalised Laplacian spectrum per class"))
            goto out;
        xai_tsv_free(t);
        t = NULL;
    }
    /* clusters.tsv: one row per analysed map, in MAPS order */
    {
        const char *names[] = {"index", "class", "cluster", "x", "y"};
        if (xai_tsv_create(5, names, NULL, &t) != XAI_OK)
            goto tsv_fail;
        int64_t *pos = calloc((size_t)nclasses, sizeof(int64_t));
        if (!pos)
            goto tsv_fail;
        for (int64_t i = 0; i < n; i++)
            for (int a = 0; a < nclasses; a++)
                if (labels[i] == classes[a]) {
                    const xai_spray_result *r = res[a];
                    int64_t m = pos[a]++;
                    size_t row;
                    if (xai_tsv_add_row(t, &row) || xai_tsv_set_number(t, row, 0, (double)i) ||
                        xai_tsv_set_number(t, row, 1, classes[a]) ||
                        xai_tsv_set_number(t, row, 2, r->labels[m]) ||
                        xai_tsv_set_number(t, row, 3, r->embedding2d[2 * m]) ||
                        xai_tsv_set_number(t, row, 4, r->embedding2d[2 * m + 1])) {
                        free(pos);
                        goto tsv_fail;
                    }
                    break;
                }
        free(pos);
        if (xai_tsv_save(t, opath("clusters.tsv", 0, 0), 0) != XAI_OK)
            goto tsv_fail;
        if (sidecar(opath("clusters.tsv", 0, 0), prov, "cluster and 2-D spectral embedding per map"))
            goto out;
        xai_tsv_free(t);
        t = NULL;
    }
    if (plot_eigenvalues(opath("eigenvalues.png", 0, 0), nclasses, classes, res) != 0)
        goto out;
    /* per class: mean maps (.npy), embedding scatter, prototype heatmaps */
    size_t md = (size_t)rows * (size_t)cols;
    xai_app_progress_begin(&app, "class outputs", nclasses);
    for (int a = 0; a < nclasses; a++) {
        const xai_spray_result *r = res[a];
        int k = r->n_clusters;
        free(means);
        means = calloc((size_t)k * md, sizeof(float));
        double *acc = calloc((size_t)k * md, sizeof(double));
        if (!means || !acc) {
            free(acc);
            xai_app_fail(&app, maps_path, "out of memory");
            goto out;
        }
        for (int64_t i = 0, m = 0; i < n; i++)
            if (labels[i] == classes[a]) {
                double *dst = acc + (size_t)r->labels[m++] * md;
                for (size_t j = 0; j < md; j++)
                    dst[j] += maps.data[(size_t)i * md + j];
            }
        for (int q = 0; q < k; q++)
            for (size_t j = 0; j < md; j++)
                means[(size_t)q * md + j] = (float)(acc[(size_t)q * md + j] / (double)r->sizes[q]);
        free(acc);
        int64_t shape[XAI_NPY_MAX_DIMS];
        shape[0] = k;
        for (int d = 1; d < maps.ndim; d++)
            shape[d] = maps.shape[d];
        const char *p = opath("class-%d-cluster-means.npy", classes[a], 0);
        if (xai_npy_save(p, maps.ndim, shape, means) != XAI_OK) {
            xai_app_fail(&app, p, "%s", xai_last_error());
            goto out;
        }
        json_object_set_new(prov, "Class", json_integer(classes[a]));
        int sc = sidecar(p, prov, "per-cluster mean relevance maps of the class, (K, ...) like MAPS");
        json_object_del(prov, "Class");
        if (sc)
            goto out;
        p = opath("class-%d-embedding.png", classes[a], 0);
        if (plot_embedding(p, classes[a], r) != 0)
            goto out;
        for (int q = 0; q < k; q++) {
            p = opath("class-%d-cluster-%d.png", classes[a], q);
            if (q > 0 && check_free(p)) {
                rc = XAI_EXIT_USAGE;
                goto out;
            }
            char title[128];
            snprintf(title, sizeof title, "class %d, cluster %d: mean of %lld maps", classes[a], q,
                     (long long)r->sizes[q]);
            xai_heatmap_opts ho;
            xai_heatmap_opts_init(&ho);
            ho.title = title;
            ho.xlabel = xlabel;
            ho.ylabel = ylabel;
            ho.origin_lower = origin_lower;
            ho.cbar_label = "mean relevance";
            int neg = 0;
            for (size_t j = 0; j < md && !neg; j++)
                neg = means[(size_t)q * md + j] < 0;
            ho.cmap = neg ? XAI_CMAP_BWR : XAI_CMAP_HOT;
            if (xai_figure_heatmap(p, means + (size_t)q * md, (int)rows, (int)cols, &ho) != XAI_OK) {
                xai_app_fail(&app, p, "%s", xai_last_error());
                goto out;
            }
        }
        char item[32];
        snprintf(item, sizeof item, "class %d", classes[a]);
        xai_app_progress_step(&app, a + 1, item);
    }
    xai_app_progress_end(&app);
    if (app.verbosity > 0) {
        fprintf(stderr, PROG ": %lld maps, %d classes; ranking (most separable first):\n",
                (long long)n, nclasses);
        for (int a = 0; a < nclasses; a++) {
            const xai_spray_result *r = res[order[a]];
            fprintf(stderr, "  %d. class %d: %lld maps, %d clusters, FDA J = %.4g%s\n", a + 1,
                    classes[order[a]], (long long)r->n, r->n_clusters, r->fda,
                    r->used_lanczos ? " (Lanczos)" : "");
        }
    }
    rc = 0;
    goto out;
tsv_fail:
    xai_app_fail(&app, outdir, "%s", xai_last_error());
out:
    json_decref(prov);
    if (res)
        for (int a = 0; a < nclasses; a++)
            xai_spray_result_free(res[a]);
    xai_tsv_free(t);
    free(res), free(order), free(feat), free(means), free(labels);
    xai_npy_free(&maps);
    xai_npy_free(&lab);
    /* release cairo's and fontconfig's caches so leak checkers see a clean exit */
    cairo_debug_reset_static_data();
    FcFini();
    xai_app_free(&app);
    return rc;
}
