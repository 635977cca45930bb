/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * concepts.c - xai-eeg explain --concepts LAYER[:top=K|:channels=...]: Concept Relevance
 * Propagation (Achtibat et al., Nature Machine Intelligence 5, 2023) in the native layout.
 * Each concept (a filter or unit of LAYER) gets a channel x time map per epoch, explained
 * with the same model, start and rules as the recording's plain map, so that the maps of
 * all of a layer's concepts add up to it.
 */
#include <stdlib.h>
#include <string.h>

#include "eeg-app.h"
#include "xai/crp.h"
#include "xai/npy.h"
#include "xai/sidecar.h"
#include "xai/tsv.h"

/* "<stem>_desc-<m>_relevance.npy" -> "<stem>_desc-<m>_concepts<ext>" */
static char *concept_path(const char *rel_npy, const char *ext)
{
    size_t len = strlen(rel_npy), sl = strlen("relevance.npy");
    return len < sl ? NULL : xai_app_strdup_printf("%.*sconcepts%s", (int)(len - sl), rel_npy, ext);
}

/* one row per epoch and mapped concept: its relevance at the layer and its share of the
 * layer's relevance in that epoch */
static xai_status concept_table(const xai_eeg_prep *p, const int *ch, int k, int64_t n, int64_t nch,
                                const double *crel, const int *tg, xai_tsv **out)
{
    const char *cn[] = {"epoch", "class", "rank", "concept", "relevance", "share"};
    xai_tsv_type ty[] = {XAI_TSV_NUMBER, XAI_TSV_STRING, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER,
                         XAI_TSV_NUMBER};
    xai_status st = xai_tsv_create(6, cn, ty, out);
    for (int64_t s = 0; st == XAI_OK && s < n; s++) {
        double tot = 0;
        for (int64_t c = 0; c < nch; c++)
            tot += crel[s * nch + c];
        for (int q = 0; st == XAI_OK && q < k; q++) {
            double r = crel[s * nch + ch[q]], num[6] = {(double)s, 0, q + 1, ch[q], r, tot != 0 ? r / tot : 0};
            size_t row;
            st = xai_tsv_add_row(*out, &row);
            for (size_t c = 0; st == XAI_OK && c < 6; c++)
                st = c == 1 ? xai_tsv_set_string(*out, row, c, p->classes[tg[s]])
                            : xai_tsv_set_number(*out, row, c, num[c]);
        }
    }
    return st;
}

/* the sidecar: the recording's common members plus the layer and the concepts mapped */
static char *concept_json(const char *common, const concept_spec *cs, const int *ch, int k, int64_t nch)
{
    xai_sidecar *sc = NULL;
    char *text = NULL;
    double *v = malloc(sizeof *v * (size_t)k);
    xai_status st = v ? xai_sidecar_load_mem(common, strlen(common), "concepts", &sc) : XAI_ENOMEM;
    for (int q = 0; v && q < k; q++)
        v[q] = ch[q];
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "Layer", cs->layer);
    if (st == XAI_OK)
        st = xai_sidecar_set_int(sc, "LayerChannels", nch);
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "Selection", cs->top ? "top by relevance summed over the epochs" : "listed");
    if (st == XAI_OK)
        st = xai_sidecar_set_number_array(sc, "Concepts", v, (size_t)k);
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "Description", "Concept Relevance Propagation: per epoch, one channel x time "
                                    "map per concept (epochs, concepts, channels, times), raw (not normalised); the "
                                    "maps of all of the layer's concepts add up to the epoch's raw LRP map");
    if (st == XAI_OK)
        st = xai_sidecar_to_string(sc, &text);
    xai_sidecar_free(sc);
    free(v);
    return text;
}

static int write_concepts(xai_app *app, const xai_eeg_prep *p, const eeg_concepts_in *in, const int *ch, int k,
                          int64_t nch, const double *crel, const float *maps)
{
    char *npy = concept_path(in->rel_npy, ".npy"), *tsv = concept_path(in->rel_npy, ".tsv");
    char *js = concept_json(in->common, in->cs, ch, k, nch);
    int64_t shape[4] = {in->ex->n, k, p->nch, p->ntimes};
    xai_tsv *t = NULL;
    int rc = npy && tsv && js ? XAI_EXIT_OK : xai_app_fail(app, in->rel_npy, "out of memory");
    if (rc == XAI_EXIT_OK && (xai_npy_save(npy, 4, shape, maps) != XAI_OK ||
                              concept_table(p, ch, k, in->ex->n, nch, crel, in->ex->target, &t) != XAI_OK ||
                              xai_tsv_save(t, tsv, 0) != XAI_OK))
        rc = xai_app_fail(app, NULL, "%s", xai_last_error());
    if (rc == XAI_EXIT_OK && (xai_app_write_sidecar(app, npy, js) != 0 || xai_app_write_sidecar(app, tsv, js) != 0))
        rc = XAI_EXIT_DATA;
    xai_tsv_free(t);
    free(npy), free(tsv), free(js);
    return rc;
}

/* the one model that explained every epoch of the recording, or NULL (said why) */
static const xai_model *recording_model(xai_app *app, const eeg_concepts_in *in)
{
    for (int64_t i = 0; i < in->ex->n; i++)
        if (in->ex->fold[i] != in->ex->fold[0] || in->ex->target[i] < 0) {
            xai_app_fail(app, in->input, "--concepts: %s", in->ex->target[i] < 0 ? "an epoch has no class to explain"
                         : "the epochs were explained by different fold models (a within-recording split)");
            return NULL;
        }
    return in->ex->fold[0] < 0 ? xai_driver_set_model(in->set) : xai_driver_set_fold_model(in->set, in->ex->fold[0]);
}

int eeg_concepts(xai_app *app, const xai_eeg_prep *p, const eeg_concepts_in *in)
{
    const xai_model *m = recording_model(app, in);
    if (!m)
        return XAI_EXIT_DATA;
    xai_explain_config cfg;
    char *rules = NULL;
    concepts_result r;
    int rc = XAI_EXIT_DATA;
    if (xai_driver_explain_config(m, in->eo, &cfg, &rules) != XAI_OK) {
        xai_app_fail(app, in->input, "--concepts: %s", xai_last_error());
    } else {
        cfg.targets = in->ex->target;
        if (concepts_compute(app, in->input, m, &cfg, in->cs, in->ex->n, in->x, &r) == 0) {
            rc = write_concepts(app, p, in, r.ch, r.k, r.nch, r.crel, r.maps);
            concepts_result_free(&r);
        }
    }
    free(rules);
    return rc;
}
