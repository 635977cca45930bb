/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * concepts.c - --concepts LAYER[:top=K|:channels=...] of xai-explain and xai-eeg explain:
 * Concept Relevance Propagation (Achtibat et al., Nature Machine Intelligence 5, 2023)
 * through libxai's xai_crp_explain(), first for every channel's relevance, then for the maps
 * of the chosen concepts. Each program writes the result in its own layout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concepts.h"

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

/* The concepts to map: the listed ones (-1 when one is not a channel of the layer), or the
   top K by relevance summed over the stack. */
static int pick(const concept_spec *cs, const double *crel, int64_t n, int64_t nch, int *ch)
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
    else if ((r->k = pick(cs, r->crel, n, nch, r->ch)) == -1)
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
