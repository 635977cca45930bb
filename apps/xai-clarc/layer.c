/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * layer.c - the activations xai-clarc fits CAVs on, and the choice of the layer (--layer auto
 * or a list): the candidate whose CAV separates the groups best on held-out rows.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "clarc-app.h"
#include "xai.h"
#include "xai/npy.h"

/* activations of the listed samples at the layer */
float *clarc_acts(const clarc_opts *o, const char *layer, const xai_model *m, const xai_npy *x, const int64_t *idx,
                      int64_t k, int64_t d)
{
    int64_t per = xai_model_input_numel(m);
    float *xs = malloc(sizeof(float) * (size_t)(k * per)), *a = malloc(sizeof(float) * (size_t)(k * d));
    int64_t dd;
    for (int64_t i = 0; xs && i < k; i++)
        memcpy(xs + i * per, x->data + idx[i] * per, sizeof(float) * (size_t)per);
    if (!xs || !a || xai_layer_activations(m, layer, k, xs, a, &dd) != XAI_OK) {
        xai_app_fail(o->app, o->model, "%s", xs && a ? xai_last_error() : "out of memory");
        free(a);
        a = NULL;
    }
    free(xs);
    return a;
}

/* May node i carry a CAV? Layers whose values are those of another one (Flatten, Dropout,
   Reshape ...) are left out, and so is the last node (the model output). */
static int candidate_op(const xai_model *m, int i)
{
    static const char *const ops[] = {"Conv", "Gemm", "MatMul", "Relu", "LeakyRelu", "Elu", "Tanh", "Sigmoid",
                                      "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization", "Add"};
    const char *op = xai_model_node_op(m, i);
    for (size_t k = 0; op && i < xai_model_node_count(m) - 1 && k < sizeof ops / sizeof *ops; k++)
        if (!strcmp(op, ops[k]))
            return 1;
    return 0;
}

/* is name one of the comma-separated entries of list? */
static int listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p; p = strchr(p, ','), p = p ? p + 1 : NULL)
        if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

/* --folds F.npy: one fold (0 or 1) per sample of X, for the groups' rows */
int clarc_group_folds(const clarc_opts *o, int64_t n, cav_rows *r)
{
    if (!o->folds)
        return 0;
    int *f = NULL;
    if (xai_npy_load_labels(o->folds, n, 0, 1, &f) != XAI_OK)
        return xai_app_fail(o->app, o->folds, "%s", xai_last_error());
    int rc = 0;
    r->fa = malloc((size_t)(r->na + 1));
    r->fc = malloc((size_t)(r->nc + 1));
    if (!r->fa || !r->fc)
        rc = xai_app_fail(o->app, NULL, "out of memory");
    for (int64_t i = 0; !rc && i < r->na + r->nc; i++) {
        if (i < r->na)
            r->fa[i] = (unsigned char)f[r->ia[i]];
        else
            r->fc[i - r->na] = (unsigned char)f[r->ic[i - r->na]];
    }
    free(f);
    return rc;
}

/* The held-out separation (xai_cav_heldout_separation) of the CAV at one layer; NaN when it
   cannot be judged there. */
static double layer_score(const clarc_opts *o, const xai_model *m, const xai_npy *x, const char *layer,
                          const cav_rows *r)
{
    int64_t d;
    double sep = NAN;
    if (xai_layer_activations(m, layer, 0, NULL, NULL, &d) != XAI_OK)
        return NAN;
    float *aa = clarc_acts(o, layer, m, x, r->ia, r->na, d), *ac = aa ? clarc_acts(o, layer, m, x, r->ic, r->nc, d) : NULL;
    if (ac && xai_cav_heldout_separation(o->method, d, r->na, aa, r->ya, r->fa, r->nc, ac, r->yc, r->fc, &sep) != XAI_OK
        && !o->quiet)
        fprintf(stderr, PROG ": %s: not judged: %s\n", layer, xai_last_error());
    free(aa), free(ac);
    return sep;
}

/* the layer the CAV is fitted at: as given, or (--layer auto: every candidate layer; A,B,...:
   those) the one whose CAV separates the groups best on held-out rows. Returns the node's name
   (owned by the model or the options) or NULL (message printed). */
const char *clarc_cav_layer(const clarc_opts *o, const xai_model *m, const xai_npy *x, const cav_rows *r)
{
    int auto_all = !strcmp(o->layer, "auto");
    if (!auto_all && !strchr(o->layer, ','))
        return o->layer;
    const char *best = NULL;
    double best_sep = -INFINITY;
    for (int i = 0; i < xai_model_node_count(m); i++) {
        const char *name = xai_model_node_name(m, i);
        if (!name || !(auto_all ? candidate_op(m, i) : listed(o->layer, name)))
            continue;
        double sep = layer_score(o, m, x, name, r);
        if (!o->quiet)
            fprintf(stderr, PROG ": layer %-20s %-18s held-out separation d = %.3f\n", name, xai_model_node_op(m, i),
                    sep);
        if (isfinite(sep) && sep > best_sep)
            best = name, best_sep = sep;
    }
    if (!best)
        xai_app_fail(o->app, o->model, "no layer of '%s' gives a CAV that can be judged on held-out samples", o->layer);
    return best;
}
