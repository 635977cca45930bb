/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * concepts.c - xai-speech explain --concepts LAYER[:top=K|:channels=...]: Concept Relevance
 * Propagation (Achtibat et al., Nature Machine Intelligence 5, 2023) in the layout of the
 * clip maps. Each concept (a filter or unit of LAYER) gets a frequency x time map of the clip,
 * explained with the clip's model (its fold model out of fold), start and rules
 * (apps/common/concepts.c), so the maps of all of a layer's concepts add up to the clip's raw map.
 */
#include <stdlib.h>

#include "speech-app.h"
#include "xai/npy.h"
#include "xai/tsv.h"

int speech_concepts_paths(const opts *o, const char *stem, char **npy, char **tsv)
{
    *npy = xai_app_strdup_printf("%s/%s_concepts.npy", o->output, stem);
    *tsv = xai_app_strdup_printf("%s/%s_concepts.tsv", o->output, stem);
    return *npy && *tsv ? 0 : -1;
}

int speech_concepts(opts *o, const speech_concepts_in *in)
{
    static const char *const axes[] = {"concept (order of Concepts)", "frequency row (bottom first)", "time frame"};
    concepts_result r;
    const xai_driver_explanation *e = in->ex;
    if (concepts_driver(&o->app, in->source, in->set, in->eo, e, in->k, 1, in->x, &o->cs, &r) != 0)
        return -1;
    char *npy = NULL, *tsv = NULL;
    char *js = concepts_sidecar(in->common, &o->cs, &r, "Concept Relevance Propagation: one frequency x time map "
                                "per concept (concepts, rows, frames), raw (not normalised); the maps of all of "
                                "the layer's concepts add up to the clip's raw LRP map", axes, 3);
    int64_t shape[3] = {r.k, in->rows, in->frames};
    xai_tsv *t = NULL;
    int rc = js && speech_concepts_paths(o, in->stem, &npy, &tsv) == 0 ? 0
                                                                        : xai_app_fail(&o->app, NULL, "out of memory");
    if (rc == 0 && (xai_npy_save(npy, 3, shape, r.maps) != XAI_OK ||
                    concepts_table_named(&r, "clip", &in->source, in->classes, in->nclasses, &t) != XAI_OK ||
                    xai_tsv_save(t, tsv, 0) != XAI_OK))
        rc = xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    if (rc == 0 && (xai_app_write_sidecar(&o->app, npy, js) != 0 || xai_app_write_sidecar(&o->app, tsv, js) != 0))
        rc = XAI_EXIT_DATA;
    xai_tsv_free(t);
    free(npy), free(tsv), free(js);
    concepts_result_free(&r);
    return rc ? -1 : 0;
}
