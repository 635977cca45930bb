/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eeg-group.c - the EEG group level: per channel and class, the mean over recordings of the
 * relevance_<class> columns of the participants' channels tables, as a table (with its
 * data dictionary) and a topomap. Only maps explained by a model that never saw the
 * recording's group are averaged: averaging maps of training subjects is the classic
 * leakage trap (Varoquaux et al. 2017).
 */
#include "xai/domain-eeg.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../file-util.h"
#include "xai/bids-walk.h"
#include "xai/sidecar.h"
#include "xai/tsv.h"

#define GROUP_MAX_CLASSES XAI_EEG_MAX_CLASSES

struct xai_eeg_group {
    char **chan, **cls, **sources;
    int nch, ncls, nsources, left_out;
    double *sum; /* [nch][GROUP_MAX_CLASSES] */
    int *cnt;    /* [nch][GROUP_MAX_CLASSES] */
};

xai_status xai_eeg_group_new(xai_eeg_group **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? XAI_OK : xai_error_set(XAI_ENOMEM, "out of memory");
}

void xai_eeg_group_free(xai_eeg_group *g)
{
    if (!g)
        return;
    xai_strv_free(g->chan, (size_t)g->nch);
    xai_strv_free(g->cls, (size_t)g->ncls);
    xai_strv_free(g->sources, (size_t)g->nsources);
    free(g->sum);
    free(g->cnt);
    free(g);
}

int xai_eeg_group_nchannels(const xai_eeg_group *g) { return g->nch; }
int xai_eeg_group_nclasses(const xai_eeg_group *g) { return g->ncls; }

xai_status xai_eeg_group_find(const char *outdir, const char *desc, char ***paths, size_t *n)
{
    char ext[128];
    snprintf(ext, sizeof ext, "_desc-%s_channels.tsv", desc);
    const char *const exts[] = {ext};
    xai_bids_walk_opts w = {.layout = XAI_WALK_PLAIN, .extensions = exts, .nextensions = 1, .max_depth = 5};
    xai_bids_list l;
    *paths = NULL;
    *n = 0;
    struct stat sb;
    if (stat(outdir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return XAI_OK; /* no participant level yet */
    xai_status st = xai_bids_walk(outdir, &w, &l);
    char **v = st == XAI_OK ? calloc(l.n + 1, sizeof *v) : NULL;
    if (st == XAI_OK && !v)
        st = xai_error_set(XAI_ENOMEM, "out of memory");
    for (size_t i = 0; st == XAI_OK && i < l.n; i++) {
        if (strncmp(l.files[i].relpath, "sub-", 4) != 0) /* participant outputs only */
            continue;
        if (!(v[*n] = strdup(l.files[i].path)))
            st = xai_error_set(XAI_ENOMEM, "out of memory");
        else
            (*n)++;
    }
    xai_bids_list_free(&l);
    if (st != XAI_OK) {
        xai_strv_free(v, *n);
        *n = 0;
        return st;
    }
    *paths = v;
    return XAI_OK;
}

int xai_eeg_group_out_of_sample(const char *channels_tsv)
{
    size_t len = strlen(channels_tsv);
    char *js = len > 4 ? malloc(len + 2) : NULL;
    xai_sidecar *sc = NULL;
    int oos = 1;
    if (js) {
        memcpy(js, channels_tsv, len - 4);
        strcpy(js + len - 4, ".json");
    }
    if (js && xai_sidecar_load(js, &sc) == XAI_OK && xai_sidecar_has(sc, "OutOfSample") &&
        xai_sidecar_get_bool(sc, "OutOfSample", &oos) != XAI_OK)
        oos = 1;
    xai_sidecar_free(sc);
    free(js);
    return oos;
}

static int group_class(xai_eeg_group *g, const char *name)
{
    for (int j = 0; j < g->ncls; j++)
        if (!strcmp(g->cls[j], name))
            return j;
    char **nc = g->ncls < GROUP_MAX_CLASSES ? realloc(g->cls, (size_t)(g->ncls + 1) * sizeof *nc) : NULL;
    if (!nc)
        return -1;
    g->cls = nc;
    return (nc[g->ncls] = strdup(name)) ? g->ncls++ : -1;
}

static int group_channel(xai_eeg_group *g, const char *ch)
{
    for (int j = 0; j < g->nch; j++)
        if (xai_eeg_label_equal(g->chan[j], ch))
            return j;
    size_t m = GROUP_MAX_CLASSES;
    char **nc = realloc(g->chan, (size_t)(g->nch + 1) * sizeof *nc);
    if (nc)
        g->chan = nc;
    double *ns = realloc(g->sum, (size_t)(g->nch + 1) * m * sizeof *ns);
    if (ns)
        g->sum = ns;
    int *nn = realloc(g->cnt, (size_t)(g->nch + 1) * m * sizeof *nn);
    if (nn)
        g->cnt = nn;
    if (!nc || !ns || !nn || !(nc[g->nch] = strdup(ch)))
        return -1;
    memset(g->sum + (size_t)g->nch * m, 0, m * sizeof *ns);
    memset(g->cnt + (size_t)g->nch * m, 0, m * sizeof *nn);
    return g->nch++;
}

static void add_table(xai_eeg_group *g, const xai_tsv *t)
{
    for (size_t c = 0; c < xai_tsv_ncols(t); c++) {
        const char *name = xai_tsv_column_name(t, c);
        int k = strncmp(name, "relevance_", 10) || !strcmp(name, "relevance_abs") ? -1 : group_class(g, name + 10);
        for (size_t r = 0; k >= 0 && r < xai_tsv_nrows(t); r++) {
            const char *ch = xai_tsv_get_string(t, r, 0);
            double v;
            int j = ch && xai_tsv_get_number(t, r, c, &v) == XAI_OK && isfinite(v) ? group_channel(g, ch) : -1;
            if (j < 0)
                continue;
            g->sum[(size_t)j * GROUP_MAX_CLASSES + (size_t)k] += v;
            g->cnt[(size_t)j * GROUP_MAX_CLASSES + (size_t)k]++;
        }
    }
}

xai_status xai_eeg_group_add(xai_eeg_group *g, const char *channels_tsv, int *left_out)
{
    char **ns = realloc(g->sources, (size_t)(g->nsources + 1) * sizeof *ns);
    if (!ns)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    g->sources = ns;
    if (!(ns[g->nsources] = strdup(channels_tsv)))
        return xai_error_set(XAI_ENOMEM, "out of memory");
    g->nsources++;
    *left_out = !xai_eeg_group_out_of_sample(channels_tsv);
    if (*left_out) {
        g->left_out++;
        return XAI_OK;
    }
    xai_tsv *t = NULL;
    xai_status st = xai_tsv_load(channels_tsv, 0, &t);
    if (st == XAI_OK)
        add_table(g, t);
    xai_tsv_free(t);
    return st;
}

/* the group table and the topomap values [ncls][nch] */
static xai_status group_table(const xai_eeg_group *g, xai_tsv **out, float *vals)
{
    const char *cn[] = {"name", "n_recordings"};
    xai_tsv_type ty[] = {XAI_TSV_STRING, XAI_TSV_NUMBER};
    xai_status st = xai_tsv_create(2, cn, ty, out);
    for (int k = 0; st == XAI_OK && k < g->ncls; k++) {
        char name[96];
        size_t col;
        snprintf(name, sizeof name, "relevance_%s", g->cls[k]);
        st = xai_tsv_add_column(*out, name, XAI_TSV_NUMBER, &col);
    }
    for (int j = 0; st == XAI_OK && j < g->nch; j++) {
        size_t row;
        int nrec = 0;
        st = xai_tsv_add_row(*out, &row);
        if (st == XAI_OK)
            st = xai_tsv_set_string(*out, row, 0, g->chan[j]);
        for (int k = 0; st == XAI_OK && k < g->ncls; k++) {
            int c = g->cnt[(size_t)j * GROUP_MAX_CLASSES + (size_t)k];
            nrec = c > nrec ? c : nrec;
            double m = c ? g->sum[(size_t)j * GROUP_MAX_CLASSES + (size_t)k] / c : NAN;
            vals[(size_t)k * (size_t)g->nch + (size_t)j] = c ? (float)m : 0.0f;
            st = c ? xai_tsv_set_number(*out, row, 2 + (size_t)k, m) : xai_tsv_set_na(*out, row, 2 + (size_t)k);
        }
        if (st == XAI_OK)
            st = xai_tsv_set_number(*out, row, 1, nrec);
    }
    return st;
}

xai_status xai_eeg_group_write(const xai_eeg_group *g, const char *tsv_path, const char *png_path)
{
    if (g->nch == 0 || g->ncls == 0)
        return xai_error_set(XAI_EINVAL, "the channel tables hold no out-of-sample relevance_<class> columns");
    xai_tsv *out = NULL;
    float *vals = calloc((size_t)g->ncls * (size_t)g->nch, sizeof *vals);
    xai_status st = vals ? group_table(g, &out, vals) : xai_error_set(XAI_ENOMEM, "out of memory");
    if (st == XAI_OK)
        st = xai_tsv_save(out, tsv_path, 0);
    if (st == XAI_OK && png_path)
        st = xai_eeg_topomap_png(png_path, g->nch, (const char *const *)g->chan, g->ncls, vals,
                                 (const char *const *)g->cls, "Group mean relevance per channel", "summed relevance");
    xai_tsv_free(out);
    free(vals);
    return st;
}

/* {"name": {...}, "n_recordings": {...}, "relevance_<class>": {...}}: the BIDS data dictionary */
static xai_status dictionary(const xai_eeg_group *g, xai_sidecar *sc)
{
    xai_sidecar *ch = NULL;
    xai_status st = xai_sidecar_child(sc, "name", &ch);
    if (st == XAI_OK)
        st = xai_sidecar_set_string(ch, "Description", "Channel label");
    xai_sidecar_free(ch);
    ch = NULL;
    if (st == XAI_OK && (st = xai_sidecar_child(sc, "n_recordings", &ch)) == XAI_OK)
        st = xai_sidecar_set_string(ch, "Description", "Out-of-sample recordings averaged for this channel");
    xai_sidecar_free(ch);
    for (int k = 0; st == XAI_OK && k < g->ncls; k++) {
        char name[96], text[256];
        snprintf(name, sizeof name, "relevance_%s", g->cls[k]);
        snprintf(text, sizeof text, "Mean over recordings of the channel's summed relevance for class %s "
                 "(each epoch's map scaled to sum |R| = 1 before averaging)", g->cls[k]);
        ch = NULL;
        if ((st = xai_sidecar_child(sc, name, &ch)) == XAI_OK)
            st = xai_sidecar_set_string(ch, "Description", text);
        if (st == XAI_OK)
            st = xai_sidecar_set_string(ch, "Units", "arbitrary");
        xai_sidecar_free(ch);
    }
    return st;
}

xai_status xai_eeg_group_sidecar(const xai_eeg_group *g, char **json)
{
    xai_sidecar *sc = NULL;
    *json = NULL;
    xai_status st = xai_sidecar_new(&sc);
    if (st == XAI_OK)
        st = xai_sidecar_set_string_array(sc, "Sources", (const char *const *)g->sources, (size_t)g->nsources);
    if (st == XAI_OK)
        st = xai_sidecar_set_string(sc, "Description", "Group level: per channel, the mean over recordings of "
                                    "relevance_<class> from each participant channels.tsv; only out-of-sample maps "
                                    "(explained by a model that never saw the recording's group) are averaged");
    if (st == XAI_OK)
        st = xai_sidecar_set_int(sc, "InSampleRecordingsLeftOut", g->left_out);
    if (st == XAI_OK)
        st = dictionary(g, sc);
    if (st == XAI_OK)
        st = xai_sidecar_to_string(sc, json);
    xai_sidecar_free(sc);
    return st;
}
