/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * concepts.c - xai-gait explain --concepts LAYER[:top=K|:channels=...]: Concept Relevance
 * Propagation (Achtibat et al., Nature Machine Intelligence 5, 2023) in the layout of the
 * gait maps. Each concept (a filter or unit of LAYER) gets a channel x cycle-% map per cycle,
 * scattered from the model samples to the cycles exactly as the plain maps are, and explained
 * with the model, start and rules of the trial's plain map (apps/common/concepts.c), so the
 * maps of all of a layer's concepts add up to the cycle's raw map.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "concepts.h"
#include "explain.h"
#include "xai/npy.h"

static void concept_paths(const explainer *e, const char *prefix, char **npy, char **tsv)
{
    *npy = xai_app_strdup_printf("%s_desc-%s_concepts.npy", prefix, e->desc);
    *tsv = xai_app_strdup_printf("%s_desc-%s_concepts.tsv", prefix, e->desc);
}

int gait_concepts_check(xai_app *app, const explainer *e, const char *prefix)
{
    char *npy, *tsv;
    concept_paths(e, prefix, &npy, &tsv);
    int bad = !npy || !tsv ? xai_app_fail(app, NULL, "out of memory")
              : xai_app_check_output(app, npy) != 0 || xai_app_check_output(app, tsv) != 0;
    free(npy);
    free(tsv);
    return bad;
}

/* The concept maps of the samples scattered to their cycles (the plain maps' order: every
 * cycle that is part of a sample, a cycle in two samples from the later one), and the sample
 * of each cycle. @return the cycles, or -1 when out of memory. */
static int64_t scatter_concepts(const explainer *e, const xai_gait_study *st, const concepts_result *r, float **out,
                                int64_t **sample)
{
    int64_t nc = st->cy.n, *from = malloc(sizeof(int64_t) * (size_t)(nc ? nc : 1)), n = 0;
    size_t per = (size_t)xai_gait_pre_channels(&e->pre) * XAI_GAIT_NPTS, sides = e->pre.paired ? 2 : 1;
    *out = malloc(sizeof(float) * per * (size_t)r->k * (size_t)(nc ? nc : 1));
    *sample = malloc(sizeof(int64_t) * (size_t)(nc ? nc : 1));
    if (!from || !*out || !*sample) {
        free(from);
        return -1;
    }
    for (int64_t c = 0; c < nc; c++)
        from[c] = -1;
    for (int64_t i = 0; i < r->n; i++) {
        from[st->a[i]] = 2 * i;
        if (st->b[i] >= 0)
            from[st->b[i]] = 2 * i + 1;
    }
    for (int64_t c = 0; c < nc; c++) {
        if (from[c] < 0)
            continue;
        int64_t i = from[c] / 2;
        for (int q = 0; q < r->k; q++)
            memcpy(*out + ((size_t)n * (size_t)r->k + (size_t)q) * per,
                   r->maps + ((size_t)i * (size_t)r->k + (size_t)q) * per * sides + (size_t)(from[c] % 2) * per,
                   per * sizeof(float));
        (*sample)[n++] = i;
    }
    free(from);
    return n;
}

/* What the concept files share with the trial's maps: sources, model, rules, classes, and the
 * sample (row of the table) of each cycle. */
static char *common_json(const explainer *e, const explain_ctx *c, const int64_t *sample, int64_t ncyc)
{
    json_t *o = json_object(), *cn = json_array(), *cs = json_array();
    for (int k = 0; k < e->ncls; k++)
        json_array_append_new(cn, json_string(e->classes[k]));
    for (int64_t k = 0; k < ncyc; k++)
        json_array_append_new(cs, json_integer(sample[k]));
    json_object_set(o, "Sources", c->sources);
    json_object_set_new(o, "ModelSHA256", json_string(e->sha));
    json_object_set_new(o, "Method", json_string(xai_method_name(e->eo.method)));
    json_object_set_new(o, "Composite", json_string(e->eo.composite));
    json_object_set_new(o, "Start", json_string(xai_driver_start_name(e->eo.start)));
    json_object_set_new(o, "ClassNames", cn);
    json_object_set_new(o, "CycleSample", cs);
    char *t = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return t;
}

static int write_concepts(xai_app *app, const explainer *e, const explain_ctx *c, const concepts_result *r,
                          const float *maps, const int64_t *sample, int64_t ncyc)
{
    char *npy, *tsv, *common = common_json(e, c, sample, ncyc), *js = NULL;
    concept_paths(e, c->prefix, &npy, &tsv);
    if (common)
        js = concepts_sidecar(common, &e->cs, r, "Concept Relevance Propagation: one channel x cycle-% map per "
                              "cycle and concept (cycles, concepts, channels, 101), in the rows of the "
                              "relevance file, raw (not normalised); the maps of all of the layer's concepts add "
                              "up to the cycle's raw LRP map. The table is per model sample (CycleSample gives "
                              "each cycle's sample)", NULL, 0);
    int64_t shape[4] = {ncyc, r->k, xai_gait_pre_channels(&e->pre), XAI_GAIT_NPTS};
    xai_tsv *t = NULL;
    int rc = npy && tsv && js ? 0 : xai_app_fail(app, c->prefix, "out of memory");
    if (rc == 0 && (xai_npy_save(npy, 4, shape, maps) != XAI_OK ||
                    concepts_table(r, "sample", 0, (const char *const *)e->classes, e->ncls, &t) != XAI_OK ||
                    xai_tsv_save(t, tsv, 0) != XAI_OK))
        rc = xai_app_fail(app, NULL, "%s", xai_last_error());
    if (rc == 0 && (xai_app_write_sidecar(app, npy, js) != 0 || xai_app_write_sidecar(app, tsv, js) != 0))
        rc = XAI_EXIT_DATA;
    xai_tsv_free(t);
    free(npy), free(tsv), free(common), free(js);
    return rc ? -1 : 0;
}

int gait_concepts(xai_app *app, const explainer *e, const explain_ctx *c, const xai_gait_study *st,
                  const xai_driver_explanation *ex)
{
    concepts_result r;
    if (concepts_driver(app, c->prefix, e->set, &e->eo, ex, 0, ex->n, st->d.x, &e->cs, &r) != 0)
        return -1;
    float *maps = NULL;
    int64_t *sample = NULL, ncyc = scatter_concepts(e, st, &r, &maps, &sample);
    int rc = ncyc < 0 ? (xai_app_fail(app, c->prefix, "out of memory"), -1)
                      : write_concepts(app, e, c, &r, maps, sample, ncyc);
    free(maps);
    free(sample);
    concepts_result_free(&r);
    return rc;
}
