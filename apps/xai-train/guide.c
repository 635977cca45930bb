/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * guide.c - xai-train --guide: Right for the Right Reasons (Ross et al., IJCAI 2017) with
 * per-sample "not here" masks read from an .npy of the samples' shape; LRP-guided training
 * (Sun et al., ICPR 2020); RR-ClArC (Dreyer et al., AAAI 2024) with a CAV of xai-clarc cav.
 */
#include <stdlib.h>
#include <string.h>

#include "guide.h"
#include "xai.h"

/* The L of "lambda=L" from @p s up to @p end (NULL: the end): a number in [0, 1e12]; 0 or -1. */
static int parse_lambda(const char *s, const char *end, float *out)
{
    char buf[64];
    size_t n = end ? (size_t)(end - s) : strlen(s);
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return xai_app_parse_float(buf, 0, 1e12f, out);
}

/* "lrp,lambda=L[,layer=NAME]" */
static int parse_lrp(const xai_app *app, const char *s, xai_guide_arg *g)
{
    const char *p = s + 3;
    if (strncmp(p, ",lambda=", 8) != 0)
        return xai_app_usage_error(app, "--guide lrp needs ',lambda=L' (got '%s')", s);
    const char *layer = strstr(p + 8, ",layer=");
    if (parse_lambda(p + 8, layer, &g->lambda))
        return xai_app_usage_error(app, "--guide lrp: lambda must be a number >= 0, then optionally ,layer=NAME "
                                        "(got '%s')", s);
    if (layer && !(g->layer = strdup(layer + 7)))
        return xai_app_fail(app, NULL, "out of memory");
    g->kind = XAI_GUIDE_LRP;
    return 0;
}

int xai_guide_parse(const xai_app *app, const char *s, xai_guide_arg *g)
{
    memset(g, 0, sizeof *g);
    if (strncmp(s, "lrp", 3) == 0 && (s[3] == ',' || !s[3]))
        return parse_lrp(app, s, g);
    int rr = strncmp(s, "rrclarc:", 8) == 0;
    if (strncmp(s, "rrr:", 4) != 0 && !rr)
        return xai_app_usage_error(app, "--guide needs rrr:MASKS.npy,lambda=L, lrp,lambda=L or "
                                        "rrclarc:CAV.json,lambda=L (got '%s')", s);
    const char *p = s + (rr ? 8 : 4), *comma = strstr(p, ",lambda=");
    if (!comma || comma == p)
        return xai_app_usage_error(app, "--guide rrr needs a masks file and ',lambda=L' (got '%s')", s);
    if (parse_lambda(comma + 8, NULL, &g->lambda))
        return xai_app_usage_error(app, "--guide: lambda must be a number >= 0 (got '%s')", comma + 8);
    char *path = strndup(p, (size_t)(comma - p));
    *(rr ? &g->cav_path : &g->mask_path) = path;
    g->kind = rr ? XAI_GUIDE_RRCLARC : XAI_GUIDE_RRR;
    return path ? 0 : xai_app_fail(app, NULL, "out of memory");
}

/* the layer and direction of a CAV written by xai-clarc cav (taken over from the file) */
static int read_cav(const xai_app *app, xai_guide_arg *g)
{
    xai_cav_file c;
    if (xai_cav_file_load(g->cav_path, &c) != XAI_OK)
        return xai_app_fail(app, NULL, "%s", xai_last_error());
    g->cav = c.v, g->cav_n = c.dim, g->layer = c.layer;
    c.v = NULL, c.layer = NULL;
    xai_cav_file_free(&c);
    return 0;
}

int xai_guide_setup(const xai_app *app, xai_guide_arg *g, const xai_model *m, int64_t n, int64_t per,
                    xai_train_config *cfg)
{
    if (g->kind == XAI_GUIDE_NONE)
        return 0;
    if (g->kind == XAI_GUIDE_RRCLARC) {
        int rc = read_cav(app, g);
        if (rc)
            return rc;
        cfg->guide_cav = g->cav;
        cfg->guide_cav_n = g->cav_n;
    }
    if (g->kind == XAI_GUIDE_LRP || g->kind == XAI_GUIDE_RRCLARC) {
        cfg->guide = g->kind;
        cfg->guide_lambda = g->lambda;
        cfg->guide_layer = g->layer;
        return 0;
    }
    if (xai_guide_check(m, g->kind) != XAI_OK)
        return xai_app_fail(app, "--guide", "%s", xai_last_error());
    if (xai_npy_load(g->mask_path, &g->mask) != XAI_OK)
        return xai_app_fail(app, g->mask_path, "%s", xai_last_error());
    int64_t numel = 1;
    for (int k = 0; k < g->mask.ndim; k++)
        numel *= g->mask.shape[k];
    if (numel != n * per && numel != per)
        return xai_app_fail(app, g->mask_path,
                            "holds %lld values; the masks need one sample's worth (%lld) or one per sample "
                            "(%lld x %lld)", (long long)numel, (long long)per, (long long)n, (long long)per);
    cfg->guide = g->kind;
    cfg->guide_lambda = g->lambda;
    cfg->guide_mask = g->mask.data;
    cfg->guide_mask_n = numel == per ? 1 : n;
    return 0;
}

void xai_guide_free(xai_guide_arg *g)
{
    free(g->mask_path);
    free(g->layer);
    free(g->cav_path);
    free(g->cav);
    xai_npy_free(&g->mask);
    memset(g, 0, sizeof *g);
}
