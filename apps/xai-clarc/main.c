/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-clarc - remove a Clever-Hans artefact from a model (ClArC, Anders et al., Information
 * Fusion 77, 2022). Thin program over libxai's clarc.h and train.h:
 *   cav:       a concept activation vector of the artefact at a layer
 *   project:   P-ClArC, the projection written into the ONNX model
 *   fine-tune: A-ClArC, the artefact direction pinned to its artefact value, later layers retrained
 * Exit codes: 0 ok, 1 data or runtime error, 2 usage error.
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "groups.h"
#include "xai.h"
#include "xai/npy.h"

#define PROG "xai-clarc"

static xai_app app;

static void usage(FILE *f)
{
    fprintf(f,
"SYNOPSIS\n"
"  " PROG " cav --model M.onnx --layer NAME --x X.npy GROUPS [--y Y.npy [--pooled]] [--method M]\n"
"           -o CAV.json\n"
"  " PROG " project --model M.onnx --cav CAV.json [--z clean|artefact|VALUE] -o OUT.onnx\n"
"  " PROG " fine-tune --model M.onnx --cav CAV.json --x X.npy --y Y.npy [training] -o OUT.onnx\n"
"\n"
"Class Artifact Compensation. cav finds the direction v (unit length) that separates the\n"
"activations of artefact samples from clean ones at layer NAME; project (P-ClArC) inserts\n"
"a' = a - v (v'a - z) after that layer, z the mean clean projection, as ordinary ONNX\n"
"operators (Flatten, Gemm, Sub, Reshape), so any ONNX runtime runs the corrected model;\n"
"fine-tune (A-ClArC) pins v'a to the mean ARTEFACT projection for every sample and retrains\n"
"only the layers after the projection, so the model learns to decide without the artefact.\n"
"\n"
"CAV\n"
"  --layer NAME          node or activation name (xai-info lists them); not the output\n"
"  --x X.npy             the samples, [N, model input shape]\n"
"  GROUPS, one of:\n"
"  --artefact FILE --clean FILE   0-based sample indices (whitespace or comma separated)\n"
"  --groups G.npy        one value per sample: 1 artefact, 0 clean, anything else unused\n"
"  --spray CLUSTERS.tsv --class C --cluster K\n"
"                        xai-spray's clusters.tsv: cluster K of class C is the artefact\n"
"                        group, every other row (all clusters of all classes in the file) the\n"
"                        clean one; run xai-spray on the maps of every class to get a clean\n"
"                        group that is not the artefact's class alone\n"
"  --method M            pattern (difference of the group means, i.e. cov(a, y)), ridge\n"
"                        (ridge classifier, lambda by inner CV) or svm (linear SVM) [pattern]\n"
"  --y Y.npy             the samples' classes: the CAV is fitted WITHIN classes (each class's\n"
"                        mean removed first; classes that lack one of the groups left out), so\n"
"                        it does not point along the class that carries the artefact; the z\n"
"                        values come from the samples of the classes that were kept\n"
"  --pooled              with --y: ignore the classes (artefact against every clean sample, as\n"
"                        without --y)\n"
"\n"
"PROJECT\n"
"  --cav CAV.json        written by cav\n"
"  --z clean|artefact|VALUE   the value v'a is set to [clean]\n"
"\n"
"FINE-TUNE (A-ClArC)\n"
"  --x X.npy --y Y.npy   training samples and labels (N integers as floats)\n"
"  --epochs N [10]   --lr LR [1e-3]   --batch B [32]   --val-split F [0.2]   --seed S [0]\n"
"\n"
"COMMON\n"
"  --model M.onnx    -o, --output FILE (refused if it exists, exit 2, unless --force)\n"
"  -f, --force       -q, --quiet       -h, --help\n"
"\n"
"EXAMPLES\n"
"  " PROG " cav --model m.onnx --layer relu4 --x X.npy --groups tone.npy -o cav.json\n"
"  " PROG " project --model m.onnx --cav cav.json -o m-pclarc.onnx\n"
"  " PROG " fine-tune --model m.onnx --cav cav.json --x X.npy --y y.npy --epochs 5 -o m-aclarc.onnx\n"
"\n"
"EXIT STATUS\n"
"  0 success, 1 data or runtime error, 2 usage error.\n"
"\n"
"REFERENCES\n"
"  Anders et al. 2022, Information Fusion 77:261 (ClArC); Haufe et al. 2014, NeuroImage\n"
"  87:96 (signal patterns); Hsieh et al. 2008, ICML (dual coordinate descent SVM).\n");
}

typedef struct {
    const char *sub, *model, *layer, *x, *y, *art, *clean, *groups, *spray, *cav, *zarg, *out;
    int cls, cluster, force, quiet, pooled;
    xai_cav_method method;
    xai_train_config tc;
} opts;

/* --epochs, --batch, --seed, --lr, --val-split (k = 0..4); 0 ok, else a usage error was printed */
static int train_opt(int k, const char *arg, xai_train_config *tc)
{
    long v;
    char *e;
    switch (k) {
    case 0:
        if (xai_app_parse_long(arg, 1, 100000, &v))
            return xai_app_usage_error(&app, "--epochs needs a positive integer");
        tc->epochs = (int)v;
        return 0;
    case 1:
        if (xai_app_parse_long(arg, 1, 1 << 20, &v))
            return xai_app_usage_error(&app, "--batch needs a positive integer");
        tc->batch = v;
        return 0;
    case 2:
        if (xai_app_parse_long(arg, 0, 2147483647L, &v))
            return xai_app_usage_error(&app, "--seed needs an integer >= 0");
        tc->seed = (uint64_t)v;
        return 0;
    case 3:
        tc->lr = strtof(arg, &e);
        return *e || !(tc->lr > 0) ? xai_app_usage_error(&app, "--lr needs a positive number") : 0;
    default:
        tc->val_split = strtof(arg, &e);
        return *e || !(tc->val_split >= 0 && tc->val_split <= 0.9f)
                   ? xai_app_usage_error(&app, "--val-split needs a number in [0, 0.9]")
                   : 0;
    }
}

static int parse(int argc, char **argv, opts *o)
{
    /* the training options keep this order: train_opt() takes them as 0..4 */
    enum { O_MODEL = 256, O_LAYER, O_X, O_Y, O_ART, O_CLEAN, O_GROUPS, O_SPRAY, O_CLASS, O_CLUSTER, O_METHOD,
           O_CAV, O_Z, O_EPOCHS, O_BATCH, O_SEED, O_LR, O_VAL, O_POOLED };
    static const struct option lo[] = {
        {"model", required_argument, 0, O_MODEL}, {"layer", required_argument, 0, O_LAYER},
        {"x", required_argument, 0, O_X}, {"y", required_argument, 0, O_Y},
        {"artefact", required_argument, 0, O_ART}, {"clean", required_argument, 0, O_CLEAN},
        {"groups", required_argument, 0, O_GROUPS}, {"spray", required_argument, 0, O_SPRAY},
        {"class", required_argument, 0, O_CLASS}, {"cluster", required_argument, 0, O_CLUSTER},
        {"method", required_argument, 0, O_METHOD}, {"cav", required_argument, 0, O_CAV},
        {"z", required_argument, 0, O_Z}, {"pooled", no_argument, 0, O_POOLED}, {"epochs", required_argument, 0, O_EPOCHS},
        {"lr", required_argument, 0, O_LR}, {"batch", required_argument, 0, O_BATCH},
        {"val-split", required_argument, 0, O_VAL}, {"seed", required_argument, 0, O_SEED},
        {"output", required_argument, 0, 'o'}, {"force", no_argument, 0, 'f'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    long v;
    int c;
    opterr = 0;
    optind = 2;
    while ((c = getopt_long(argc, argv, ":o:fqh", lo, NULL)) != -1) {
        switch (c) {
        case O_MODEL: o->model = optarg; break;
        case O_LAYER: o->layer = optarg; break;
        case O_X: o->x = optarg; break;
        case O_Y: o->y = optarg; break;
        case O_ART: o->art = optarg; break;
        case O_CLEAN: o->clean = optarg; break;
        case O_GROUPS: o->groups = optarg; break;
        case O_SPRAY: o->spray = optarg; break;
        case O_CAV: o->cav = optarg; break;
        case O_Z: o->zarg = optarg; break;
        case O_POOLED: o->pooled = 1; break;
        case O_CLASS:
        case O_CLUSTER:
            if (xai_app_parse_long(optarg, 0, 1000000, &v))
                return xai_app_usage_error(&app, "--%s needs an integer >= 0", c == O_CLASS ? "class" : "cluster");
            *(c == O_CLASS ? &o->cls : &o->cluster) = (int)v;
            break;
        case O_METHOD:
            if (!strcmp(optarg, "pattern")) o->method = XAI_CAV_PATTERN;
            else if (!strcmp(optarg, "ridge")) o->method = XAI_CAV_RIDGE;
            else if (!strcmp(optarg, "svm")) o->method = XAI_CAV_SVM;
            else return xai_app_usage_error(&app, "--method must be pattern, ridge or svm");
            break;
        case O_EPOCHS:
        case O_BATCH:
        case O_SEED:
        case O_LR:
        case O_VAL:
            if (train_opt(c - O_EPOCHS, optarg, &o->tc))
                return XAI_EXIT_USAGE;
            break;
        case 'o': o->out = optarg; break;
        case 'f': o->force = 1; break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(stdout); exit(0);
        case ':': return xai_app_usage_error(&app, "option '%s' needs a value", argv[optind - 1]);
        default: return xai_app_usage_error(&app, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return xai_app_usage_error(&app, "unexpected argument '%s'", argv[optind]);
    if (!o->model || !o->out)
        return xai_app_usage_error(&app, "%s needs --model and -o", o->sub);
    return 0;
}

/* the samples of X.npy that fit the model's input */
static int load_x(const opts *o, const xai_model *m, xai_npy *x)
{
    if (xai_npy_load(o->x, x) != XAI_OK)
        return xai_app_fail(&app, o->x, "%s", xai_last_error());
    int64_t per = 1;
    for (int k = 1; k < x->ndim; k++)
        per *= x->shape[k];
    if (x->ndim < 2 || x->shape[0] < 1 || per != xai_model_input_numel(m))
        return xai_app_fail(&app, o->x, "needs [N, ...] samples of %lld values (the model input)",
                            (long long)xai_model_input_numel(m));
    return 0;
}

/* activations of the listed samples at the layer */
static float *acts_of(const opts *o, const xai_model *m, const xai_npy *x, const int64_t *idx, int64_t k, int64_t d)
{
    int64_t per = xai_model_input_numel(m);
    float *xs = malloc(sizeof(float) * (size_t)(k * per)), *a = malloc(sizeof(float) * (size_t)(k * d));
    int64_t dd;
    for (int64_t i = 0; xs && i < k; i++)
        memcpy(xs + i * per, x->data + idx[i] * per, sizeof(float) * (size_t)per);
    if (!xs || !a || xai_layer_activations(m, o->layer, k, xs, a, &dd) != XAI_OK) {
        xai_app_fail(&app, o->model, "%s", xs && a ? xai_last_error() : "out of memory");
        free(a);
        a = NULL;
    }
    free(xs);
    return a;
}

static int write_cav(const opts *o, const float *v, int64_t d, int64_t na, int64_t nc, double za, double zc,
                     double sep)
{
    static const char *const mname[] = {"pattern", "ridge", "svm"};
    json_t *r = json_object(), *arr = json_array();
    for (int64_t j = 0; j < d; j++)
        json_array_append_new(arr, json_real(v[j]));
    json_object_set_new(r, "tool", json_string(PROG));
    json_object_set_new(r, "model", json_string(o->model));
    json_object_set_new(r, "layer", json_string(o->layer));
    json_object_set_new(r, "method", json_string(mname[o->method]));
    json_object_set_new(r, "classes", json_string(o->y && !o->pooled ? "within" : "pooled"));
    json_object_set_new(r, "dim", json_integer(d));
    json_object_set_new(r, "n_artefact", json_integer(na));
    json_object_set_new(r, "n_clean", json_integer(nc));
    json_object_set_new(r, "z_artefact", json_real(za));
    json_object_set_new(r, "z_clean", json_real(zc));
    json_object_set_new(r, "separation_d", json_real(sep));
    json_object_set_new(r, "v", arr);
    char *text = json_dumps(r, JSON_INDENT(1) | JSON_REAL_PRECISION(9));
    json_decref(r);
    int rc = text ? xai_app_write_atomic(&app, o->out, text, strlen(text)) : xai_app_fail(&app, o->out, "out of memory");
    free(text);
    return rc ? 1 : 0;
}

/* Cohen's d of the projections v'a of the two groups: how well v separates them */
static double separation(const float *v, int64_t d, const float *a, int64_t na, const float *c, int64_t nc)
{
    double ma = xai_cav_mean_projection(v, d, na, a), mc = xai_cav_mean_projection(v, d, nc, c), ss = 0;
    for (int64_t i = 0; i < na + nc; i++) {
        double p = xai_cav_mean_projection(v, d, 1, i < na ? a + i * d : c + (i - na) * d) - (i < na ? ma : mc);
        ss += p * p;
    }
    return (ma - mc) / sqrt(ss / (double)(na + nc - 2) + 1e-30);
}

static int load_labels(const opts *o, int64_t n, int64_t nc, int **y);

/* keep the rows i of a[n][d] with used[i] (in order); the new count */
static int64_t compact_rows(float *a, int64_t n, int64_t d, const unsigned char *used)
{
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (used[i])
            memmove(a + k++ * d, a + i * d, sizeof(float) * (size_t)d);
    return k;
}

/* The CAV, within the classes of --y unless --pooled; then aa and ac hold only the rows used. */
static int fit_cav(const opts *o, const xai_model *m, int64_t n, const int64_t *ia, int64_t *na, float *aa,
                   const int64_t *ic, int64_t *nc, float *ac, int64_t d, float *v)
{
    if (!o->y || o->pooled)
        return xai_cav_fit(o->method, d, *na, aa, *nc, ac, v) != XAI_OK ? xai_app_fail(&app, o->layer, "%s",
                                                                                        xai_last_error()) : 0;
    int *y = NULL, *ya = malloc(sizeof(int) * (size_t)(*na + 1)), *yc = malloc(sizeof(int) * (size_t)(*nc + 1));
    unsigned char *used = malloc((size_t)(*na + *nc + 1));
    int rc = !ya || !yc || !used ? xai_app_fail(&app, NULL, "out of memory") : 0;
    if (!rc)
        rc = load_labels(o, n, xai_model_output_numel(m), &y);
    for (int64_t i = 0; !rc && i < *na + *nc; i++)
        (i < *na ? ya : yc)[i < *na ? i : i - *na] = y[i < *na ? ia[i] : ic[i - *na]];
    if (!rc && xai_cav_fit_within(o->method, d, *na, aa, ya, *nc, ac, yc, v, used) != XAI_OK)
        rc = xai_app_fail(&app, o->y, "%s", xai_last_error());
    if (!rc) {
        int64_t ka = compact_rows(aa, *na, d, used);
        *nc = compact_rows(ac, *nc, d, used + *na);
        *na = ka;
    }
    free(y), free(ya), free(yc), free(used);
    return rc;
}

static int cmd_cav(const opts *o, xai_model *m)
{
    if (!o->layer || !o->x)
        return xai_app_usage_error(&app, "cav needs --layer and --x");
    xai_npy x = {0};
    int64_t *ia = NULL, *ic = NULL, na, nc, d;
    float *aa = NULL, *ac = NULL, *v = NULL;
    clarc_group_src gs = {o->art, o->clean, o->groups, o->spray, o->cls, o->cluster};
    int rc = load_x(o, m, &x);
    if (!rc && xai_layer_activations(m, o->layer, 0, NULL, NULL, &d) != XAI_OK)
        rc = xai_app_fail(&app, o->model, "%s", xai_last_error());
    if (!rc)
        rc = clarc_groups(&app, &gs, x.shape[0], &ia, &na, &ic, &nc);
    if (!rc && (!(aa = acts_of(o, m, &x, ia, na, d)) || !(ac = acts_of(o, m, &x, ic, nc, d))))
        rc = 1;
    if (!rc && !(v = malloc(sizeof(float) * (size_t)d)))
        rc = xai_app_fail(&app, NULL, "out of memory");
    if (!rc)
        rc = fit_cav(o, m, x.shape[0], ia, &na, aa, ic, &nc, ac, d, v);
    if (!rc) {
        double za = xai_cav_mean_projection(v, d, na, aa), zc = xai_cav_mean_projection(v, d, nc, ac);
        double sep = separation(v, d, aa, na, ac, nc);
        if (!o->quiet)
            fprintf(stderr, PROG ": %lld artefact, %lld clean samples%s at %s (%lld values); mean v'a %.4g vs %.4g, "
                    "separation d = %.2f\n", (long long)na, (long long)nc, o->y && !o->pooled ? " (within classes)" : "", o->layer, (long long)d, za, zc, sep);
        rc = write_cav(o, v, d, na, nc, za, zc, sep);
    }
    free(ia), free(ic), free(aa), free(ac), free(v);
    xai_npy_free(&x);
    return rc;
}

typedef struct {
    char *layer;
    float *v;
    int64_t d;
    double za, zc;
    json_t *root;
} cav_file;

static int read_cav(const char *path, cav_file *c)
{
    json_error_t je;
    memset(c, 0, sizeof *c);
    c->root = json_load_file(path, 0, &je);
    if (!c->root)
        return xai_app_fail(&app, path, "%s (line %d)", je.text, je.line);
    json_t *v = json_object_get(c->root, "v"), *l = json_object_get(c->root, "layer");
    json_t *za = json_object_get(c->root, "z_artefact"), *zc = json_object_get(c->root, "z_clean");
    if (!json_is_array(v) || !json_is_string(l) || !json_is_number(za) || !json_is_number(zc) ||
        json_array_size(v) < 1)
        return xai_app_fail(&app, path, "needs layer, v, z_artefact and z_clean (write it with " PROG " cav)");
    c->d = (int64_t)json_array_size(v);
    c->v = malloc(sizeof(float) * (size_t)c->d);
    if (!c->v)
        return xai_app_fail(&app, path, "out of memory");
    for (int64_t j = 0; j < c->d; j++) {
        json_t *e = json_array_get(v, (size_t)j);
        if (!json_is_number(e) || !isfinite(json_number_value(e)))
            return xai_app_fail(&app, path, "v[%lld] is not a finite number", (long long)j);
        c->v[j] = (float)json_number_value(e);
    }
    c->layer = (char *)json_string_value(l);
    c->za = json_number_value(za);
    c->zc = json_number_value(zc);
    return 0;
}

/* the model with the projection after the CAV's layer, v'a set to z */
static xai_model *projected(const opts *o, const xai_model *m, const cav_file *c, double z, const char *mode)
{
    void *buf;
    size_t len;
    xai_model *p = NULL;
    if (xai_clarc_onnx(m, c->layer, c->v, c->d, (float)z, &buf, &len) != XAI_OK) {
        xai_app_fail(&app, o->cav, "%s", xai_last_error());
        return NULL;
    }
    if (xai_model_load_onnx_mem(buf, len, o->out, NULL, &p) != XAI_OK)
        xai_app_fail(&app, o->out, "the projected model does not load: %s", xai_last_error());
    free(buf);
    char meta[512];
    snprintf(meta, sizeof meta, "{\"tool\":\"" PROG "\",\"mode\":\"%s\",\"layer\":\"%.200s\",\"z\":%.9g,\"cav\":\"%.200s\"}",
             mode, c->layer, z, o->cav);
    if (p)
        xai_model_set_metadata(p, "xai_clarc", meta);
    return p;
}

static int save(const opts *o, const xai_model *p)
{
    xai_export_options eo = {1, 0};
    if (xai_model_save_onnx(p, o->out, &eo) != XAI_OK)
        return xai_app_fail(&app, o->out, "%s", xai_last_error());
    if (!o->quiet)
        fprintf(stderr, PROG ": wrote %s\n", o->out);
    return 0;
}

static int cmd_project(const opts *o, xai_model *m)
{
    if (!o->cav)
        return xai_app_usage_error(&app, "project needs --cav");
    cav_file c;
    int rc = read_cav(o->cav, &c);
    double z = c.zc;
    const char *mode = "P-ClArC";
    if (!rc && o->zarg && !strcmp(o->zarg, "artefact"))
        z = c.za;
    else if (!rc && o->zarg && strcmp(o->zarg, "clean")) {
        char *e;
        z = strtod(o->zarg, &e);
        if (*e || !isfinite(z))
            rc = xai_app_usage_error(&app, "--z needs clean, artefact or a number");
    }
    xai_model *p = rc ? NULL : projected(o, m, &c, z, mode);
    rc = rc ? rc : !p ? 1 : save(o, p);
    xai_model_free(p);
    free(c.v);
    json_decref(c.root);
    return rc;
}

static int load_labels(const opts *o, int64_t n, int64_t nc, int **y)
{
    xai_npy Y;
    if (xai_npy_load(o->y, &Y) != XAI_OK)
        return xai_app_fail(&app, o->y, "%s", xai_last_error());
    int64_t k = 1;
    for (int d = 0; d < Y.ndim; d++)
        k *= Y.shape[d];
    int rc = k == n ? 0 : xai_app_fail(&app, o->y, "has %lld labels for %lld samples", (long long)k, (long long)n);
    *y = rc ? NULL : malloc(sizeof(int) * (size_t)n);
    for (int64_t i = 0; i < n && !rc; i++) {
        if (!(Y.data[i] >= 0 && Y.data[i] < (float)nc) || Y.data[i] != floorf(Y.data[i]))
            rc = xai_app_fail(&app, o->y, "label %lld is %g; the model has classes 0..%lld", (long long)i,
                              (double)Y.data[i], (long long)nc - 1);
        else
            (*y)[i] = (int)Y.data[i];
    }
    xai_npy_free(&Y);
    return rc;
}

static int cmd_finetune(opts *o, xai_model *m)
{
    if (!o->cav || !o->x || !o->y)
        return xai_app_usage_error(&app, "fine-tune needs --cav, --x and --y");
    cav_file c;
    xai_npy x = {0};
    int *y = NULL;
    xai_model *p = NULL;
    int rc = read_cav(o->cav, &c);
    if (!rc)
        rc = load_x(o, m, &x);
    if (!rc)
        rc = load_labels(o, x.shape[0], xai_model_output_numel(m), &y);
    if (!rc && !(p = projected(o, m, &c, c.za, "A-ClArC")))
        rc = 1;
    if (!rc) {
        xai_train_result res;
        o->tc.train_after = XAI_CLARC_LAST_NODE;
        if (!o->quiet)
            o->tc.progress = xai_app_train_progress, o->tc.progress_ud = &app;
        if (xai_train(p, &o->tc, x.shape[0], x.data, y, &res) != XAI_OK)
            rc = xai_app_fail(&app, o->x, "%s", xai_last_error());
        else
            rc = save(o, p);
    }
    xai_model_free(p);
    free(y);
    xai_npy_free(&x);
    free(c.v);
    json_decref(c.root);
    return rc;
}

int main(int argc, char **argv)
{
    xai_app_init(&app, PROG, "0.1.0", argc, argv);
    xai_app_install_signal_handlers();
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        xai_app_free(&app);
        return argc < 2 ? XAI_EXIT_USAGE : 0;
    }
    opts o;
    memset(&o, 0, sizeof o);
    o.sub = argv[1];
    xai_train_config_init(&o.tc);
    o.tc.epochs = 10;
    if (strcmp(o.sub, "cav") && strcmp(o.sub, "project") && strcmp(o.sub, "fine-tune")) {
        xai_app_usage_error(&app, "unknown command '%s' (cav, project or fine-tune)", o.sub);
        xai_app_free(&app);
        return XAI_EXIT_USAGE;
    }
    int rc = parse(argc, argv, &o);
    app.force = o.force;
    if (!rc && xai_app_check_output(&app, o.out) != 0)
        rc = XAI_EXIT_USAGE;
    xai_model *m = NULL;
    if (!rc && xai_model_load_onnx(o.model, NULL, &m) != XAI_OK)
        rc = xai_app_fail(&app, o.model, "%s", xai_last_error());
    if (!rc)
        rc = !strcmp(o.sub, "cav") ? cmd_cav(&o, m) : !strcmp(o.sub, "project") ? cmd_project(&o, m) : cmd_finetune(&o, m);
    xai_model_free(m);
    xai_app_free(&app);
    return rc;
}
