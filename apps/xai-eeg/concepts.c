/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * concepts.c - xai-eeg explain --concepts LAYER[:top=K|:channels=...]: Concept Relevance
 * Propagation (Achtibat et al., Nature Machine Intelligence 5, 2023) in the native layout.
 * Each concept (a filter or unit of LAYER) gets a channel x time map per epoch, explained
 * with the same model, start and rules as the recording's plain map (apps/common/concepts.c),
 * so that the maps of all of a layer's concepts add up to it.
 */
#include <stdlib.h>
#include <string.h>

#include "eeg-app.h"
#include "xai/npy.h"
#include "xai/tsv.h"

/* "<stem>_desc-<m>_relevance.npy" -> "<stem>_desc-<m>_concepts<ext>" */
static char *concept_path(const char *rel_npy, const char *ext)
{
    size_t len = strlen(rel_npy), sl = strlen("relevance.npy");
    return len < sl ? NULL : xai_app_strdup_printf("%.*sconcepts%s", (int)(len - sl), rel_npy, ext);
}

static int write_concepts(xai_app *app, const xai_eeg_prep *p, const eeg_concepts_in *in, const concepts_result *r)
{
    char *npy = concept_path(in->rel_npy, ".npy"), *tsv = concept_path(in->rel_npy, ".tsv");
    char *js = concepts_sidecar(in->common, in->cs, r, "Concept Relevance Propagation: per epoch, one channel x time "
                                "map per concept (epochs, concepts, channels, times), raw (not normalised); the maps "
                                "of all of the layer's concepts add up to the epoch's raw LRP map", NULL, 0);
    int64_t shape[4] = {r->n, r->k, p->nch, p->ntimes};
    xai_tsv *t = NULL;
    int rc = npy && tsv && js ? XAI_EXIT_OK : xai_app_fail(app, in->rel_npy, "out of memory");
    if (rc == XAI_EXIT_OK &&
        (xai_npy_save(npy, 4, shape, r->maps) != XAI_OK ||
         concepts_table(r, "epoch", 0, (const char *const *)p->classes, p->nclass, &t) != XAI_OK ||
         xai_tsv_save(t, tsv, 0) != XAI_OK))
        rc = xai_app_fail(app, NULL, "%s", xai_last_error());
    if (rc == XAI_EXIT_OK && (xai_app_write_sidecar(app, npy, js) != 0 || xai_app_write_sidecar(app, tsv, js) != 0))
        rc = XAI_EXIT_DATA;
    xai_tsv_free(t);
    free(npy), free(tsv), free(js);
    return rc;
}

int eeg_concepts(xai_app *app, const xai_eeg_prep *p, const eeg_concepts_in *in)
{
    concepts_result r;
    int rc = concepts_driver(app, in->input, in->set, in->eo, in->ex, 0, in->ex->n, in->x, in->cs, &r);
    if (rc == 0) {
        rc = write_concepts(app, p, in, &r);
        concepts_result_free(&r);
    }
    return rc;
}
