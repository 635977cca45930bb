/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * concepts.c - xai-explain --concepts: the concepts of apps/common/concepts.c written next to
 * the map: OUT.concepts.npy ([N,] concepts, input shape), OUT.concepts.tsv and its sidecar.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concepts.h"
#include "explain-concepts.h"
#include "xai/npy.h"

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

int concepts_run(xai_app *app, const xai_model *m, const xai_explain_config *cfg, const concept_spec *cs, int64_t n,
                 const float *x, int xndim, const int64_t *xshape, int stacked, const char *out)
{
    concepts_result r;
    if (concepts_compute(app, out, m, cfg, cs, n, x, &r) != 0)
        return 1;
    char *npy = derived(out, ".concepts.npy"), *tsv = derived(out, ".concepts.tsv");
    int rc = 1;
    int64_t shape[XAI_MAX_DIMS + 2];
    int nd = 0;
    if (stacked)
        shape[nd++] = n;
    shape[nd++] = r.k;
    for (int d = stacked ? 1 : 0; d < xndim; d++)
        shape[nd++] = xshape[d];
    if (!npy || !tsv)
        xai_app_fail(app, out, "out of memory");
    else if (xai_npy_save(npy, nd, shape, r.maps) != XAI_OK)
        xai_app_fail(app, npy, "%s", xai_last_error());
    else
        rc = write_tsv(app, tsv, cs, r.ch, r.k, n, r.nch, r.crel, r.target) ||
             write_sidecar(app, tsv, npy, cfg, cs, r.ch, r.k, r.nch);
    concepts_result_free(&r);
    free(npy);
    free(tsv);
    return rc;
}
