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

static int write_cav(const clarc_opts *o, const char *layer, float *v, int64_t d, int64_t na, int64_t nc, double za,
                     double zc, double sep)
{
    xai_cav_file c = {(char *)layer, v, d, za, zc, (char *)PROG, (char *)o->model,
                      (char *)(o->y && !o->pooled ? "within" : "pooled"), o->method, na, nc, sep};
    char *text = NULL;
    if (xai_cav_file_to_json(&c, &text) != XAI_OK)
        return xai_app_fail(&app, o->out, "%s", xai_last_error());
    int rc = xai_app_write_atomic(&app, o->out, text, strlen(text));
    xai_free(text);
    return rc ? 1 : 0;
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

/* The classes of the two groups' rows (--y, unless --pooled: then both stay NULL). */
static int group_classes(const clarc_opts *o, const xai_model *m, int64_t n, const int64_t *ia, int64_t na,
                         const int64_t *ic, int64_t nc, int **ya, int **yc)
{
    *ya = *yc = NULL;
    if (!o->y || o->pooled)
        return 0;
    int *y = NULL, rc = load_labels(o, n, xai_model_output_numel(m), &y);
    *ya = rc ? NULL : malloc(sizeof(int) * (size_t)(na + 1));
    *yc = rc ? NULL : malloc(sizeof(int) * (size_t)(nc + 1));
    if (!rc && (!*ya || !*yc))
        rc = xai_app_fail(&app, NULL, "out of memory");
    for (int64_t i = 0; !rc && i < na + nc; i++)
        (i < na ? *ya : *yc)[i < na ? i : i - na] = y[i < na ? ia[i] : ic[i - na]];
    free(y);
    return rc;
}

/* The CAV, within classes when ya is set; then aa and ac hold only the rows used. */
static int fit_cav(const clarc_opts *o, const char *layer, int64_t *na, float *aa, const int *ya, int64_t *nc,
                   float *ac, const int *yc, int64_t d, float *v)
{
    if (!ya)
        return xai_cav_fit(o->method, d, *na, aa, *nc, ac, v) != XAI_OK ? xai_app_fail(&app, layer, "%s",
                                                                                        xai_last_error()) : 0;
    unsigned char *used = malloc((size_t)(*na + *nc + 1));
    if (!used)
        return xai_app_fail(&app, NULL, "out of memory");
    int rc = 0;
    if (xai_cav_fit_within(o->method, d, *na, aa, ya, *nc, ac, yc, v, used) != XAI_OK)
        rc = xai_app_fail(&app, o->y, "%s", xai_last_error());
    if (!rc) {
        int64_t ka = compact_rows(aa, *na, d, used);
        *nc = compact_rows(ac, *nc, d, used + *na);
        *na = ka;
    }
    free(used);
    return rc;
}

static int cav_report(const clarc_opts *o, const char *layer, float *v, int64_t d, int64_t na, const float *aa,
                      int64_t nc, const float *ac)
{
    double za = xai_cav_mean_projection(v, d, na, aa), zc = xai_cav_mean_projection(v, d, nc, ac);
    double sep = xai_cav_separation(v, d, na, aa, nc, ac);
    if (!o->quiet)
        fprintf(stderr, PROG ": %lld artefact, %lld clean samples%s at %s (%lld values); mean v'a %.4g vs %.4g, "
                "separation d = %.2f\n", (long long)na, (long long)nc, o->y && !o->pooled ? " (within classes)" : "",
                layer, (long long)d, za, zc, sep);
    return write_cav(o, layer, v, d, na, nc, za, zc, sep);
}

static int cmd_cav(const clarc_opts *o, xai_model *m)
{
    if (!o->layer || !o->x)
        return xai_app_usage_error(&app, "cav needs --layer and --x");
    xai_npy x = {0};
    cav_rows r = {0};
    int64_t d;
    float *aa = NULL, *ac = NULL, *v = NULL;
    const char *layer = NULL;
    clarc_group_src gs = {o->art, o->clean, o->groups, o->spray, o->cls, o->cluster};
    int rc = load_x(o, m, &x);
    if (!rc)
        rc = clarc_groups(&app, &gs, x.shape[0], &r.ia, &r.na, &r.ic, &r.nc);
    if (!rc)
        rc = group_classes(o, m, x.shape[0], r.ia, r.na, r.ic, r.nc, &r.ya, &r.yc);
    if (!rc)
        rc = clarc_group_folds(o, x.shape[0], &r);
    if (!rc && !(layer = clarc_cav_layer(o, m, &x, &r)))
        rc = 1;
    if (!rc && xai_layer_activations(m, layer, 0, NULL, NULL, &d) != XAI_OK)
        rc = xai_app_fail(&app, o->model, "%s", xai_last_error());
    if (!rc && (!(aa = clarc_acts(o, layer, m, &x, r.ia, r.na, d)) || !(ac = clarc_acts(o, layer, m, &x, r.ic, r.nc, d))))
        rc = 1;
    if (!rc && !(v = malloc(sizeof(float) * (size_t)d)))
        rc = xai_app_fail(&app, NULL, "out of memory");
    if (!rc)
        rc = fit_cav(o, layer, &r.na, aa, r.ya, &r.nc, ac, r.yc, d, v);
    if (!rc)
        rc = cav_report(o, layer, v, d, r.na, aa, r.nc, ac);
    free(r.ia), free(r.ic), free(r.ya), free(r.yc), free(r.fa), free(r.fc), free(aa), free(ac), free(v);
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
        if (xai_app_parse_double(o->zarg, -HUGE_VAL, HUGE_VAL, &z))
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
    if (!rc)
        xai_app_apply_threads(&app);
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
