/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * groups.c - the artefact and clean groups of xai-clarc cav from its options: two index
 * lists, a per-sample .npy of 1 (artefact) / 0 (clean), or a cluster of xai-spray's
 * clusters.tsv (the readers are formats' xai/groups.h).
 */
#include <stdlib.h>

#include "groups.h"
#include "xai.h"
#include "xai/groups.h"

static xai_status read_groups(const clarc_group_src *src, int64_t n, xai_sample_groups *g)
{
    if (src->npy)
        return xai_sample_groups_load_npy(src->npy, n, g);
    if (src->spray)
        return xai_sample_groups_load_spray(src->spray, src->cls, src->cluster, n, g);
    xai_status st = xai_index_list_load(src->art, n, &g->in, &g->n_in);
    if (!st)
        st = xai_index_list_load(src->clean, n, &g->out, &g->n_out);
    if (st)
        xai_sample_groups_free(g);
    return st;
}

int clarc_groups(const xai_app *app, const clarc_group_src *src, int64_t n, int64_t **ia, int64_t *na, int64_t **ic,
                 int64_t *nc)
{
    *ia = *ic = NULL;
    *na = *nc = 0;
    int kinds = (src->art || src->clean) + !!src->npy + !!src->spray;
    if (kinds != 1 || (!src->art != !src->clean))
        return xai_app_usage_error(app, "give the groups as --artefact and --clean, --groups, or --spray");
    xai_sample_groups g = {0};
    if (read_groups(src, n, &g) != XAI_OK)
        return xai_app_fail(app, NULL, "%s", xai_last_error());
    *ia = g.in, *na = g.n_in, *ic = g.out, *nc = g.n_out;
    if (*na < 2 || *nc < 2)
        return xai_app_fail(app, src->npy ? src->npy : src->spray ? src->spray : src->art,
                            "the groups hold %lld artefact and %lld clean samples; each needs at least 2",
                            (long long)*na, (long long)*nc);
    return 0;
}
