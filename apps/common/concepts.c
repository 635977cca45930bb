/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * concepts.c - --concepts LAYER[:top=K|:channels=...] of xai-explain and the domain programs:
 * Concept Relevance Propagation (Achtibat et al., Nature Machine Intelligence 5, 2023)
 * through libxai's xai_crp_explain(), first for every channel's relevance, then for the maps
 * of the chosen concepts (concepts_driver: with the model and settings of a driver explanation);
 * the concept table and sidecar. Each program writes the maps in its own layout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concepts.h"
#include "xai/sidecar.h"

int concepts_parse(const char *s, concept_spec *cs, char *msg, size_t len)
{
    memset(cs, 0, sizeof *cs);
    const char *colon = strchr(s, ':');
    size_t ln = colon ? (size_t)(colon - s) : strlen(s);
    if (ln == 0 || ln >= sizeof cs->layer) {
        snprintf(msg, len, "--concepts needs LAYER[:top=K|:channels=a,b,...]");
        return -1;
    }
    memcpy(cs->layer, s, ln);
    cs->top = 8;
    if (!colon)
        return 0;
    const char *a = colon + 1;
    long k, ch[sizeof cs->channels / sizeof cs->channels[0]];
    if (strncmp(a, "top=", 4) == 0) {
        if (xai_app_parse_long(a + 4, 1, 1024, &k)) {
            snprintf(msg, len, "--concepts: top=K needs K in 1..1024");
            return -1;
        }
        cs->top = (int)k;
        return 0;
    }
    if (strncmp(a, "channels=", 9) != 0) {
        snprintf(msg, len, "--concepts: after LAYER: expected top=K or channels=a,b,..., got '%s'", a);
        return -1;
    }
    cs->top = 0;
    if (!a[9]) {
        snprintf(msg, len, "--concepts: channels= needs at least one channel");
        return -1;
    }
    int n = xai_app_parse_long_list(a + 9, ',', 0, 1000000, ch, (int)(sizeof ch / sizeof ch[0]));
    if (n < 0) {
        snprintf(msg, len, "--concepts: channels= needs a comma-separated list of channel indices");
        return -1;
    }
    for (cs->nchannels = 0; cs->nchannels < n; cs->nchannels++)
        cs->channels[cs->nchannels] = (int)ch[cs->nchannels];
    return 0;
}

int concepts_pick(const concept_spec *cs, const double *crel, int64_t n, int64_t nch, int *ch)
{
    if (!cs->top) {
        for (int q = 0; q < cs->nchannels; q++)
            if (cs->channels[q] >= nch)
                return -1;
        memcpy(ch, cs->channels, sizeof(int) * (size_t)cs->nchannels);
        return cs->nchannels;
    }
    double *sum = calloc((size_t)nch, sizeof(double));
    if (!sum)
        return -2;
    for (int64_t s = 0; s < n; s++)
        for (int64_t c = 0; c < nch; c++)
            sum[c] += crel[s * nch + c];
    int k = xai_crp_top(sum, nch, cs->top, ch);
    free(sum);
    return k;
}

void concepts_result_free(concepts_result *r)
{
    free(r->ch);
    free(r->crel);
    free(r->target);
    free(r->maps);
    memset(r, 0, sizeof *r);
}

int concepts_compute(const xai_app *app, const char *file, const xai_model *m, const xai_explain_config *cfg,
                     const concept_spec *cs, int64_t n, const float *x, concepts_result *r)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    if (xai_crp_layer(m, cs->layer, &r->nch, NULL) != XAI_OK)
        return xai_app_fail(app, file, "--concepts: %s", xai_last_error());
    int64_t nin = xai_model_input_numel(m), nch = r->nch;
    r->crel = malloc(sizeof(double) * (size_t)(n * nch));
    r->target = malloc(sizeof(int) * (size_t)(n ? n : 1));
    r->ch = malloc(sizeof(int) * (size_t)(nch + cs->nchannels));
    int rc = XAI_EXIT_DATA;
    if (!r->crel || !r->target || !r->ch)
        xai_app_fail(app, file, "out of memory");
    else if (xai_crp_explain(m, cfg, cs->layer, n, x, 0, NULL, NULL, r->crel, r->target) != XAI_OK)
        xai_app_fail(app, file, "--concepts: %s", xai_last_error());
    else if ((r->k = concepts_pick(cs, r->crel, n, nch, r->ch)) == -1)
        xai_app_fail(app, file, "--concepts: a listed channel is not below the layer's %lld", (long long)nch);
    else if (r->k < 0 || !(r->maps = malloc(sizeof(float) * (size_t)(n * r->k * nin))))
        xai_app_fail(app, file, "out of memory");
    else if (xai_crp_explain(m, cfg, cs->layer, n, x, r->k, r->ch, r->maps, r->crel, r->target) != XAI_OK)
        xai_app_fail(app, file, "--concepts: %s", xai_last_error());
    else
        rc = 0;
    if (rc)
        concepts_result_free(r);
    return rc;
}

/* The one model that explained samples [first, first + n), or NULL (said why). */
static const xai_model *driver_model(const xai_app *app, const char *file, const xai_driver_set *set,
                                     const xai_driver_explanation *ex, int64_t first, int64_t n)
{
    for (int64_t i = first; i < first + n; i++)
        if (ex->fold[i] != ex->fold[first] || ex->target[i] < 0) {
            xai_app_fail(app, file, "--concepts: %s", ex->target[i] < 0 ? "a sample has no class to explain"
                         : "its samples were explained by different fold models (a split within the file)");
            return NULL;
        }
    return ex->fold[first] < 0 ? xai_driver_set_model(set) : xai_driver_set_fold_model(set, ex->fold[first]);
}

int concepts_driver(const xai_app *app, const char *file, const xai_driver_set *set,
                    const xai_driver_explain_options *eo, const xai_driver_explanation *ex, int64_t first, int64_t n,
                    const float *x, const concept_spec *cs, concepts_result *r)
{
    memset(r, 0, sizeof *r);
    const xai_model *m = n > 0 ? driver_model(app, file, set, ex, first, n) : NULL;
    if (!m)
        return n > 0 ? XAI_EXIT_DATA : xai_app_fail(app, file, "--concepts: no sample to explain");
    xai_explain_config cfg;
    char *rules = NULL;
    int rc = XAI_EXIT_DATA;
    if (xai_driver_explain_config(m, eo, &cfg, &rules) != XAI_OK) {
        xai_app_fail(app, file, "--concepts: %s", xai_last_error());
    } else {
        cfg.targets = ex->target + first;
        const int64_t nin = xai_model_input_numel(m); /* the bounds are aligned with the dataset, as x */
        cfg.box_low = eo->box_low ? eo->box_low + first * nin : NULL;
        cfg.box_high = eo->box_high ? eo->box_high + first * nin : NULL;
        rc = concepts_compute(app, file, m, &cfg, cs, n, x, r);
    }
    free(rules);
    return rc;
}

/* The concept table; the sample column holds names[s] when @p names is given, else s + index0. */
static xai_status table_impl(const concepts_result *r, const char *sample_col, int64_t index0,
                             const char *const *names, const char *const *classes, int nclasses, xai_tsv **out)
{
    const char *cn[] = {sample_col, "class", "rank", "concept", "relevance", "share"};
    xai_tsv_type ty[] = {names ? XAI_TSV_STRING : XAI_TSV_NUMBER, XAI_TSV_STRING, XAI_TSV_NUMBER, XAI_TSV_NUMBER,
                         XAI_TSV_NUMBER, XAI_TSV_NUMBER};
    xai_status st = xai_tsv_create(6, cn, ty, out);
    for (int64_t s = 0; st == XAI_OK && s < r->n; s++) {
        const double *cr = r->crel + s * r->nch;
        double tot = 0;
        for (int64_t c = 0; c < r->nch; c++)
            tot += cr[c];
        int t = r->target[s];
        for (int q = 0; st == XAI_OK && q < r->k; q++) {
            double v = cr[r->ch[q]], num[6] = {(double)(s + index0), 0, q + 1, r->ch[q], v, tot != 0 ? v / tot : 0};
            size_t row;
            st = xai_tsv_add_row(*out, &row);
            for (size_t c = 0; st == XAI_OK && c < 6; c++)
                st = c == 0 && names ? xai_tsv_set_string(*out, row, c, names[s])
                     : c != 1        ? xai_tsv_set_number(*out, row, c, num[c])
                     : t >= 0 && t < nclasses ? xai_tsv_set_string(*out, row, c, classes[t])
                                              : xai_tsv_set_na(*out, row, c);
        }
    }
    return st;
}

xai_status concepts_table(const concepts_result *r, const char *sample_col, int64_t index0,
                          const char *const *classes, int nclasses, xai_tsv **out)
{
    return table_impl(r, sample_col, index0, NULL, classes, nclasses, out);
}

xai_status concepts_table_named(const concepts_result *r, const char *sample_col, const char *const *names,
                                const char *const *classes, int nclasses, xai_tsv **out)
{
    return table_impl(r, sample_col, 0, names, classes, nclasses, out);
}

char *concepts_sidecar(const char *common_json, const concept_spec *cs, const concepts_result *r,
                       const char *description, const char *const *axes, size_t naxes)
{
    xai_sidecar *sc = NULL;
    char *text = NULL;
    double *v = malloc(sizeof *v * (size_t)(r->k ? r->k : 1));
    xai_status st = v ? xai_sidecar_load_mem(common_json, strlen(common_json), "concepts", &sc) : XAI_ENOMEM;
    for (int q = 0; v && q < r->k; q++)
        v[q] = r->ch[q];
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "Layer", cs->layer);
    if (st == XAI_OK)
        st = xai_sidecar_set_int(sc, "LayerChannels", r->nch);
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "Selection", cs->top ? "top by relevance summed over the samples" : "listed");
    if (st == XAI_OK)
        st = xai_sidecar_set_number_array(sc, "Concepts", v, (size_t)r->k);
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "Description", description);
    if (st == XAI_OK && axes)
        st = xai_sidecar_set_string_array(sc, "Axes", axes, naxes);
    if (st == XAI_OK)
        st = xai_sidecar_to_string(sc, &text);
    xai_sidecar_free(sc);
    free(v);
    return text;
}
