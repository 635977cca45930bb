/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * concepts.c - xai-explain --concepts: Concept Relevance Propagation (Achtibat et al., Nature
 * Machine Intelligence 5, 2023) through libxai's xai_crp_explain(). With top=K the K channels
 * of largest relevance summed over the stack are mapped, so every sample of a stack has the
 * same concepts in the same order.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concepts.h"
#include "xai/npy.h"

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
    char *e;
    if (strncmp(a, "top=", 4) == 0) {
        long k = strtol(a + 4, &e, 10);
        if (e == a + 4 || *e || k < 1 || k > 1024) {
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
    for (a += 9; *a; a = *e ? e + 1 : e) {
        long c = strtol(a, &e, 10);
        if (e == a || (*e && *e != ',') || c < 0 || c > 1000000 || cs->nchannels >= 1024) {
            snprintf(msg, len, "--concepts: channels= needs a comma-separated list of channel indices");
            return -1;
        }
        cs->channels[cs->nchannels++] = (int)c;
    }
    if (!cs->nchannels) {
        snprintf(msg, len, "--concepts: channels= needs at least one channel");
        return -1;
    }
    return 0;
}

/* OUT without ".npy", plus @p ext (malloc'ed). */
static char *derived(const char *out, const char *ext)
{
    size_t l = strlen(out);
    if (l > 4 && strcmp(out + l - 4, ".npy") == 0)
        l -= 4;
    return xai_app_strdup_printf("%.*s%s", (int)l, out, ext);
}

/* The TSV: one row per sample and mapped concept, ranked by that sample's relevance. */
static int write_tsv(xai_app *app, const char *path, const concept_spec *cs, const int *ch, int k, int64_t n,
                     int64_t nch, const double *crel, const int *tg)
{
    size_t cap = 128 + (size_t)(n * k) * (96 + strlen(cs->layer)), len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return xai_app_fail(app, path, "out of memory");
    len += (size_t)snprintf(buf, cap, "sample\tclass\tlayer\tconcept\tchannel\trelevance\tshare\n");
    for (int64_t s = 0; s < n; s++) {
        double tot = 0;
        for (int64_t c = 0; c < nch; c++)
            tot += crel[s * nch + c];
        for (int q = 0; q < k; q++) {
            double r = crel[s * nch + ch[q]];
            len += (size_t)snprintf(buf + len, cap - len, "%lld\t%d\t%s\t%d\t%d\t%.9g\t%.9g\n", (long long)s, tg[s],
                                    cs->layer, q, ch[q], r, tot != 0 ? r / tot : 0.0);
        }
    }
    int rc = xai_app_write_atomic(app, path, buf, len);
    free(buf);
    return rc ? 1 : 0;
}

static int write_sidecar(xai_app *app, const char *tsv, const char *npy, const xai_explain_config *cfg,
                         const concept_spec *cs, const int *ch, int k, int64_t nch)
{
    json_t *o = json_object(), *arr = json_array();
    for (int q = 0; q < k; q++)
        json_array_append_new(arr, json_integer(ch[q]));
    json_object_set_new(o, "Method", json_string("crp"));
    json_object_set_new(o, "Composite", json_string(cfg->composite));
    json_object_set_new(o, "Layer", json_string(cs->layer));
    json_object_set_new(o, "LayerChannels", json_integer(nch));
    json_object_set_new(o, "Selection", json_string(cs->top ? "top" : "channels"));
    json_object_set_new(o, "Maps", json_string(npy));
    json_object_set_new(o, "Channels", arr);
    char *j = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!j)
        return xai_app_fail(app, tsv, "out of memory");
    int rc = xai_app_write_sidecar(app, tsv, j);
    free(j);
    return rc ? 1 : 0;
}

/* The concepts to map: the listed ones, or the top K by relevance summed over the stack. */
static int pick(const concept_spec *cs, const double *crel, int64_t n, int64_t nch, int *ch)
{
    if (!cs->top) {
        memcpy(ch, cs->channels, sizeof(int) * (size_t)cs->nchannels);
        return cs->nchannels;
    }
    double *sum = calloc((size_t)nch, sizeof(double));
    if (!sum)
        return -1;
    for (int64_t s = 0; s < n; s++)
        for (int64_t c = 0; c < nch; c++)
            sum[c] += crel[s * nch + c];
    int k = xai_crp_top(sum, nch, cs->top, ch);
    free(sum);
    return k;
}

int concepts_run(xai_app *app, const xai_model *m, const xai_explain_config *cfg, const concept_spec *cs, int64_t n,
                 const float *x, int xndim, const int64_t *xshape, int stacked, const char *out)
{
    int64_t nch = 0, nin = xai_model_input_numel(m);
    if (xai_crp_layer(m, cs->layer, &nch, NULL) != XAI_OK)
        return xai_app_fail(app, out, "--concepts: %s", xai_last_error());
    double *crel = malloc(sizeof(double) * (size_t)(n * nch));
    int *tg = malloc(sizeof(int) * (size_t)n), *ch = malloc(sizeof(int) * (size_t)(nch > cs->nchannels ? nch : cs->nchannels));
    char *npy = derived(out, ".concepts.npy"), *tsv = derived(out, ".concepts.tsv");
    float *maps = NULL;
    int rc = 1, k = 0;
    if (!crel || !tg || !ch || !npy || !tsv) {
        xai_app_fail(app, out, "out of memory");
    } else if (xai_crp_explain(m, cfg, cs->layer, n, x, 0, NULL, NULL, crel, tg) != XAI_OK) {
        xai_app_fail(app, out, "--concepts: %s", xai_last_error());
    } else if ((k = pick(cs, crel, n, nch, ch)) < 0 || !(maps = malloc(sizeof(float) * (size_t)(n * k * nin)))) {
        xai_app_fail(app, out, "out of memory");
    } else if (xai_crp_explain(m, cfg, cs->layer, n, x, k, ch, maps, crel, tg) != XAI_OK) {
        xai_app_fail(app, out, "--concepts: %s", xai_last_error());
    } else {
        int64_t shape[XAI_MAX_DIMS + 2];
        int nd = 0;
        if (stacked)
            shape[nd++] = n;
        shape[nd++] = k;
        for (int d = stacked ? 1 : 0; d < xndim; d++)
            shape[nd++] = xshape[d];
        if (xai_npy_save(npy, nd, shape, maps) != XAI_OK)
            xai_app_fail(app, npy, "%s", xai_last_error());
        else
            rc = write_tsv(app, tsv, cs, ch, k, n, nch, crel, tg) || write_sidecar(app, tsv, npy, cfg, cs, ch, k, nch);
    }
    free(maps);
    free(crel);
    free(tg);
    free(ch);
    free(npy);
    free(tsv);
    return rc;
}
