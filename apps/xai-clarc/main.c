/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-clarc - remove a Clever-Hans artefact from a model (ClArC, Anders et al., Information
 * Fusion 77, 2022). Thin program over libxai's clarc.h and train.h:
 *   cav:       a concept activation vector of the artefact at a layer
 *   project:   P-ClArC, the projection written into the ONNX model
 *   fine-tune: A-ClArC, the artefact direction pinned to its artefact value, later layers retrained
 * Exit codes: 0 ok, 1 data or runtime error, 2 usage error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app-driver.h"
#include "app.h"
#include "clarc-app.h"
#include "groups.h"
#include "xai.h"
#include "xai/npy.h"

static xai_app app;

/* the samples of X.npy that fit the model's input */
static int load_x(const clarc_opts *o, const xai_model *m, xai_npy *x)
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
static float *acts_of(const clarc_opts *o, const xai_model *m, const xai_npy *x, const int64_t *idx, int64_t k, int64_t d)
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

static int write_cav(const clarc_opts *o, float *v, int64_t d, int64_t na, int64_t nc, double za, double zc, double sep)
{
    xai_cav_file c = {(char *)o->layer, v, d, za, zc, (char *)PROG, (char *)o->model,
                      (char *)(o->y && !o->pooled ? "within" : "pooled"), o->method, na, nc, sep};
    char *text = NULL;
    if (xai_cav_file_to_json(&c, &text) != XAI_OK)
        return xai_app_fail(&app, o->out, "%s", xai_last_error());
    int rc = xai_app_write_atomic(&app, o->out, text, strlen(text));
    xai_free(text);
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

static int load_labels(const clarc_opts *o, int64_t n, int64_t nc, int **y);

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
static int fit_cav(const clarc_opts *o, const xai_model *m, int64_t n, const int64_t *ia, int64_t *na, float *aa,
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

static int cmd_cav(const clarc_opts *o, xai_model *m)
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
                    "separation d = %.2f\n", (long long)na, (long long)nc, o->y && !o->pooled ? " (within classes)" : "",
                    o->layer, (long long)d, za, zc, sep);
        rc = write_cav(o, v, d, na, nc, za, zc, sep);
    }
    free(ia), free(ic), free(aa), free(ac), free(v);
    xai_npy_free(&x);
    return rc;
}

/* A CAV file with both mean projections, which project and fine-tune need. */
static int read_cav(const char *path, xai_cav_file *c)
{
    if (xai_cav_file_load(path, c) != XAI_OK)
        return xai_app_fail(&app, NULL, "%s", xai_last_error());
    if (isnan(c->z_artefact) || isnan(c->z_clean))
        return xai_app_fail(&app, path, "needs layer, v, z_artefact and z_clean (write it with " PROG " cav)");
    return 0;
}

/* the model with the projection after the CAV's layer, v'a set to z */
static xai_model *projected(const clarc_opts *o, const xai_model *m, const xai_cav_file *c, double z, const char *mode)
{
    void *buf;
    size_t len;
    xai_model *p = NULL;
    if (xai_clarc_onnx(m, c->layer, c->v, c->dim, (float)z, &buf, &len) != XAI_OK) {
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

/* the corrected model (BatchNorm kept) and its sidecar */
static int save(const clarc_opts *o, const xai_model *p, const char *mode)
{
    xai_export_options eo = {1, 0};
    char what[96];
    snprintf(what, sizeof what, "%s model of " PROG ": the artefact direction of the CAV handled at its layer", mode);
    if (xai_app_save_model(&app, o->out, p, NULL, &eo, what, json_pack("{s:s}", "CAV", o->cav)) != 0)
        return XAI_EXIT_DATA;
    if (!o->quiet)
        fprintf(stderr, PROG ": wrote %s\n", o->out);
    return 0;
}

static int cmd_project(const clarc_opts *o, xai_model *m)
{
    if (!o->cav)
        return xai_app_usage_error(&app, "project needs --cav");
    xai_cav_file c;
    int rc = read_cav(o->cav, &c);
    double z = c.z_clean;
    const char *mode = "P-ClArC";
    if (!rc && o->zarg && !strcmp(o->zarg, "artefact"))
        z = c.z_artefact;
    else if (!rc && o->zarg && strcmp(o->zarg, "clean")) {
        char *e;
        z = strtod(o->zarg, &e);
        if (*e || !isfinite(z))
            rc = xai_app_usage_error(&app, "--z needs clean, artefact or a number");
    }
    xai_model *p = rc ? NULL : projected(o, m, &c, z, mode);
    rc = rc ? rc : !p ? 1 : save(o, p, mode);
    xai_model_free(p);
    xai_cav_file_free(&c);
    return rc;
}

/* labels of any integer dtype (or integral floats), one per sample, each a class of the model */
static int load_labels(const clarc_opts *o, int64_t n, int64_t nc, int **y)
{
    return xai_npy_load_labels(o->y, n, 0, nc - 1, y) == XAI_OK ? 0 : xai_app_fail(&app, NULL, "%s", xai_last_error());
}

static int cmd_finetune(clarc_opts *o, xai_model *m)
{
    if (!o->cav || !o->x || !o->y)
        return xai_app_usage_error(&app, "fine-tune needs --cav, --x and --y");
    xai_cav_file c;
    xai_npy x = {0};
    int *y = NULL;
    xai_model *p = NULL;
    int rc = read_cav(o->cav, &c);
    if (!rc)
        rc = load_x(o, m, &x);
    if (!rc)
        rc = load_labels(o, x.shape[0], xai_model_output_numel(m), &y);
    if (!rc && !(p = projected(o, m, &c, c.z_artefact, "A-ClArC")))
        rc = 1;
    if (!rc) {
        xai_train_result res;
        o->tc.train_after = XAI_CLARC_LAST_NODE;
        if (!o->quiet)
            o->tc.progress = xai_app_train_progress, o->tc.progress_ud = &app;
        if (xai_train(p, &o->tc, x.shape[0], x.data, y, &res) != XAI_OK)
            rc = xai_app_fail(&app, o->x, "%s", xai_last_error());
        else
            rc = save(o, p, "A-ClArC");
    }
    xai_model_free(p);
    free(y);
    xai_npy_free(&x);
    xai_cav_file_free(&c);
    return rc;
}

int main(int argc, char **argv)
{
    xai_app_init(&app, PROG, "0.1.0", argc, argv);
    xai_app_install_signal_handlers();
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        clarc_usage(argc < 2 ? stderr : stdout);
        xai_app_free(&app);
        return argc < 2 ? XAI_EXIT_USAGE : 0;
    }
    clarc_opts o;
    memset(&o, 0, sizeof o);
    o.app = &app;
    o.sub = argv[1];
    xai_train_config_init(&o.tc);
    o.tc.epochs = 10;
    if (strcmp(o.sub, "cav") && strcmp(o.sub, "project") && strcmp(o.sub, "fine-tune")) {
        xai_app_usage_error(&app, "unknown command '%s' (cav, project or fine-tune)", o.sub);
        xai_app_free(&app);
        return XAI_EXIT_USAGE;
    }
    int rc = clarc_parse(argc, argv, &o);
    char *side = rc || !strcmp(o.sub, "cav") ? NULL : xai_app_sidecar_path(o.out);
    if (!rc && (xai_app_check_output(&app, o.out) != 0 || (side && xai_app_check_output(&app, side) != 0)))
        rc = XAI_EXIT_USAGE; /* a model and its sidecar: nothing is written over */
    free(side);
    xai_model *m = NULL;
    if (!rc && xai_model_load_onnx(o.model, NULL, &m) != XAI_OK)
        rc = xai_app_fail(&app, o.model, "%s", xai_last_error());
    if (!rc)
        rc = !strcmp(o.sub, "cav") ? cmd_cav(&o, m) : !strcmp(o.sub, "project") ? cmd_project(&o, m) : cmd_finetune(&o, m);
    xai_model_free(m);
    xai_app_free(&app);
    return rc < 0 ? 0 : rc;
}
