/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eeg-write.c - the EEG domain's "map relevance back and write it" verb: per recording the
 * relevance as an (epochs, channels, times) .npy, a BIDS channels table with relevance
 * columns, an events table with the predictions and logits, one channels x time heatmap
 * per explained class and a scalp topomap, each with a JSON sidecar (formats/sidecar.c).
 * Every file is written through the atomic writer; nothing is printed.
 */
#include "xai/domain-eeg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai/figure.h"
#include "xai/npy.h"
#include "xai/sidecar.h"
#include "xai/tsv.h"

/* Per-class means of one recording's maps: the channels x time map and its channel sums. */
typedef struct {
    float *heat;    /* [K][C*T] */
    float *topo;    /* [K][C] */
    int64_t *count; /* [K] epochs explained for the class */
} class_means;

static void means_free(class_means *m)
{
    free(m->heat);
    free(m->topo);
    free(m->count);
}

static xai_status means_make(const xai_eeg_maps *m, class_means *out)
{
    int C = m->p->nch, K = m->p->nclass;
    int64_t T = m->p->ntimes;
    size_t per = (size_t)C * (size_t)T;
    out->heat = calloc((size_t)K * per, sizeof *out->heat);
    out->topo = calloc((size_t)K * (size_t)C, sizeof *out->topo);
    out->count = calloc((size_t)K, sizeof *out->count);
    if (!out->heat || !out->topo || !out->count)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    for (int64_t i = 0; i < m->n; i++) {
        int c = m->target[i];
        if (c < 0 || c >= K)
            continue;
        const float *r = m->rel + (size_t)i * per;
        out->count[c]++;
        for (size_t j = 0; j < per; j++)
            out->heat[(size_t)c * per + j] += r[j];
        for (int ch = 0; ch < C; ch++)
            for (int64_t t = 0; t < T; t++)
                out->topo[(size_t)c * (size_t)C + (size_t)ch] += r[(size_t)ch * (size_t)T + (size_t)t];
    }
    for (int c = 0; c < K; c++)
        if (out->count[c] > 0) {
            for (size_t j = 0; j < per; j++)
                out->heat[(size_t)c * per + j] /= (float)out->count[c];
            for (int ch = 0; ch < C; ch++)
                out->topo[(size_t)c * (size_t)C + (size_t)ch] /= (float)out->count[c];
        }
    return XAI_OK;
}

/* sidecar = the caller's members + @p extra (set by @p fill) + a description, saved next to @p out */
static xai_status write_sidecar(const char *common, const char *out, const char *description,
                                xai_status (*fill)(xai_sidecar *, const void *), const void *ud)
{
    size_t n = strlen(out);
    const char *dot = strrchr(out, '.');
    char *path = malloc(n + 8);
    if (!path)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    size_t stem = dot && dot > strrchr(out, '/') ? (size_t)(dot - out) : n;
    memcpy(path, out, stem);
    strcpy(path + stem, ".json");
    xai_sidecar *sc = NULL;
    xai_status st = common && *common ? xai_sidecar_load_mem(common, strlen(common), path, &sc) : xai_sidecar_new(&sc);
    if (st == XAI_OK && description)
        st = xai_sidecar_set_string(sc, "Description", description);
    if (st == XAI_OK && fill)
        st = fill(sc, ud);
    if (st == XAI_OK)
        st = xai_sidecar_save(sc, path);
    xai_sidecar_free(sc);
    free(path);
    return st;
}

/* "[[l00, l01], [l10, l11], ...]": the logits of every epoch as JSON text */
static char *logits_json(const xai_eeg_maps *m)
{
    int K = m->p->nclass;
    size_t cap = (size_t)m->n * (size_t)K * 28 + 16, n = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    s[n++] = '[';
    for (int64_t i = 0; i < m->n; i++) {
        n += (size_t)snprintf(s + n, cap - n, "%s[", i ? "," : "");
        for (int k = 0; k < K; k++)
            n += (size_t)snprintf(s + n, cap - n, "%s%.9g", k ? "," : "", m->logits[(size_t)i * (size_t)K + (size_t)k]);
        s[n++] = ']';
    }
    snprintf(s + n, cap - n, "]");
    return s;
}

static xai_status fill_npy(xai_sidecar *sc, const void *ud)
{
    const xai_eeg_maps *m = ud;
    const char *dims[] = {"epochs", "channels", "times"};
    xai_status st = xai_sidecar_set_string_array(sc, "Dimensions", dims, 3);
    if (st == XAI_OK)
        st = xai_sidecar_set_number(sc, "SamplingFrequency", m->p->rate);
    if (st == XAI_OK)
        st = xai_sidecar_set_number(sc, "TMin", m->p->tmin);
    char *lg = st == XAI_OK ? logits_json(m) : NULL;
    if (st == XAI_OK)
        st = lg ? xai_sidecar_set_json(sc, "Logits", lg) : xai_error_set(XAI_ENOMEM, "out of memory");
    free(lg);
    return st;
}

static xai_status write_npy(const xai_eeg_maps *m, const xai_eeg_paths *o, const char *common)
{
    int64_t shape[3] = {m->n, m->p->nch, m->p->ntimes};
    xai_status st = xai_npy_save(o->npy, 3, shape, m->rel);
    if (st != XAI_OK)
        return st;
    return write_sidecar(common, o->npy, "Input relevance per epoch, channel and sample (float32), in the order of the "
                         "events table and the model's channels", fill_npy, m);
}

/* relevance, relevance_abs, positive_share per channel over all epochs */
static xai_status channel_sums(const xai_eeg_maps *m, double *sum, double *sabs, double *pos)
{
    int C = m->p->nch;
    int64_t T = m->p->ntimes;
    double ptot = 0;
    for (int64_t i = 0; i < m->n; i++)
        for (int ch = 0; ch < C; ch++)
            for (int64_t t = 0; t < T; t++) {
                float r = m->rel[((size_t)i * (size_t)C + (size_t)ch) * (size_t)T + (size_t)t];
                sum[ch] += r;
                sabs[ch] += fabsf(r);
                if (r > 0) {
                    pos[ch] += r;
                    ptot += r;
                }
            }
    for (int ch = 0; ch < C; ch++) {
        sum[ch] /= (double)m->n;
        sabs[ch] /= (double)m->n;
        pos[ch] = ptot > 0 ? pos[ch] / ptot : 0;
    }
    return XAI_OK;
}

static xai_status channels_table(const xai_eeg_maps *m, const class_means *cm, xai_tsv **out)
{
    const xai_eeg_prep *p = m->p;
    int C = p->nch, K = p->nclass;
    const char *cn[] = {"name", "type", "units", "relevance", "relevance_abs", "positive_share"};
    xai_tsv_type ty[] = {XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER};
    double *v = calloc(3 * (size_t)C, sizeof *v);
    xai_status st = v ? xai_tsv_create(6, cn, ty, out) : xai_error_set(XAI_ENOMEM, "out of memory");
    for (int c = 0; st == XAI_OK && c < K; c++) {
        char name[96];
        size_t col;
        snprintf(name, sizeof name, "relevance_%s", p->classes[c]);
        st = xai_tsv_add_column(*out, name, XAI_TSV_NUMBER, &col);
    }
    if (st == XAI_OK)
        st = channel_sums(m, v, v + C, v + 2 * C);
    for (int ch = 0; st == XAI_OK && ch < C; ch++) {
        size_t row;
        const char *unit = p->units && p->units[ch] && p->units[ch][0] ? p->units[ch] : "n/a";
        st = xai_tsv_add_row(*out, &row);
        if (st == XAI_OK)
            st = xai_tsv_set_string(*out, row, 0, p->channels[ch]);
        if (st == XAI_OK)
            st = xai_tsv_set_string(*out, row, 1, "EEG");
        if (st == XAI_OK)
            st = xai_tsv_set_string(*out, row, 2, unit);
        for (int k = 0; st == XAI_OK && k < 3; k++)
            st = xai_tsv_set_number(*out, row, 3 + (size_t)k, v[(size_t)k * (size_t)C + (size_t)ch]);
        for (int c = 0; st == XAI_OK && c < K; c++)
            st = cm->count[c] > 0 ? xai_tsv_set_number(*out, row, 6 + (size_t)c, cm->topo[(size_t)c * (size_t)C + (size_t)ch])
                                  : xai_tsv_set_na(*out, row, 6 + (size_t)c);
    }
    free(v);
    return st;
}

static xai_status events_row(const xai_eeg_maps *m, xai_tsv *t, int64_t i, const double *relsum)
{
    const xai_eeg_prep *p = m->p;
    int K = p->nclass;
    size_t row;
    xai_status st = xai_tsv_add_row(t, &row);
    double num[] = {m->onset_s[i], p->tmax - p->tmin, (double)m->sample[i]};
    for (int k = 0; st == XAI_OK && k < 3; k++)
        st = xai_tsv_set_number(t, row, (size_t)k, num[k]);
    const char *txt[] = {p->classes[m->y[i]], m->target[i] >= 0 ? p->classes[m->target[i]] : "n/a",
                         p->classes[m->pred[i]]};
    for (int k = 0; st == XAI_OK && k < 3; k++)
        st = xai_tsv_set_string(t, row, 3 + (size_t)k, txt[k]);
    if (st == XAI_OK)
        st = xai_tsv_set_number(t, row, 6, m->pred[i] == m->y[i]);
    if (st == XAI_OK)
        st = xai_tsv_set_number(t, row, 7, relsum[i]);
    for (int c = 0; st == XAI_OK && c < K; c++)
        st = xai_tsv_set_number(t, row, 8 + (size_t)c, m->logits[(size_t)i * (size_t)K + (size_t)c]);
    return st;
}

static xai_status events_table(const xai_eeg_maps *m, xai_tsv **out)
{
    const char *cn[] = {"onset", "duration", "sample", "trial_type", "target", "prediction", "correct", "relevance_sum"};
    xai_tsv_type ty[] = {XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_STRING,
                         XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_NUMBER, XAI_TSV_NUMBER};
    size_t per = (size_t)m->p->nch * (size_t)m->p->ntimes;
    double *relsum = calloc((size_t)m->n, sizeof *relsum);
    xai_status st = relsum ? xai_tsv_create(8, cn, ty, out) : xai_error_set(XAI_ENOMEM, "out of memory");
    for (int c = 0; st == XAI_OK && c < m->p->nclass; c++) {
        char name[96];
        size_t col;
        snprintf(name, sizeof name, "logit_%s", m->p->classes[c]);
        st = xai_tsv_add_column(*out, name, XAI_TSV_NUMBER, &col);
    }
    for (int64_t i = 0; st == XAI_OK && i < m->n; i++) {
        for (size_t j = 0; j < per; j++)
            relsum[i] += m->rel[(size_t)i * per + j];
        st = events_row(m, *out, i, relsum);
    }
    free(relsum);
    return st;
}

/* the BIDS data dictionary of a table: fixed columns, then one per class with a prefix */
typedef struct {
    const char *name, *desc, *units;
} column_info;

typedef struct {
    const column_info *cols;
    size_t n;
    const xai_eeg_prep *p;
    column_info per_class; /* name = the prefix of "<prefix><class>" */
} dictionary;

static xai_status describe(xai_sidecar *sc, const char *name, const char *desc, const char *units)
{
    xai_sidecar *ch = NULL;
    xai_status st = xai_sidecar_child(sc, name, &ch);
    if (st == XAI_OK)
        st = xai_sidecar_set_string(ch, "Description", desc);
    if (st == XAI_OK && units)
        st = xai_sidecar_set_string(ch, "Units", units);
    xai_sidecar_free(ch);
    return st;
}

static xai_status fill_dictionary(xai_sidecar *sc, const void *ud)
{
    const dictionary *d = ud;
    xai_status st = XAI_OK;
    for (size_t i = 0; st == XAI_OK && i < d->n; i++)
        st = describe(sc, d->cols[i].name, d->cols[i].desc, d->cols[i].units);
    for (int c = 0; st == XAI_OK && c < d->p->nclass; c++) {
        char name[128];
        snprintf(name, sizeof name, "%s%s", d->per_class.name, d->p->classes[c]);
        st = describe(sc, name, d->per_class.desc, d->per_class.units);
    }
    return st;
}

static const column_info channel_cols[] = {
    {"name", "Channel label, as in the model's pre-processing record", NULL},
    {"type", "Channel type (BIDS)", NULL},
    {"units", "Units of the recorded signal", NULL},
    {"relevance", "Mean over epochs of the channel's summed relevance, each epoch's map scaled to sum |R| = 1",
     "arbitrary"},
    {"relevance_abs", "Mean over epochs of the channel's summed |R|, each epoch's map scaled to sum |R| = 1",
     "arbitrary"},
    {"positive_share", "The channel's share of all positive relevance", "ratio"}};

static const column_info event_cols[] = {
    {"onset", "Event onset from the start of the recording", "s"},
    {"duration", "Length of the explained window", "s"},
    {"sample", "First sample of the window at the model's sampling rate", "samples"},
    {"trial_type", "True class of the epoch", NULL},
    {"target", "Class explained (n/a: none)", NULL},
    {"prediction", "Class the model predicted", NULL},
    {"correct", "1 when the prediction equals the true class, else 0", NULL},
    {"relevance_sum", "Sum of the epoch's relevance as written (after scaling)", "arbitrary"}};


/* events.json is a BIDS data dictionary: every top-level member describes a column of the
 * table (an object), so the provenance and the description form one object member of their own. */
static xai_status write_events_sidecar(const char *common, const char *out, const char *description,
                                       const dictionary *d)
{
    char *path = malloc(strlen(out) + 8), *dot;
    xai_sidecar *sc = NULL, *prov = NULL;
    if (!path)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    strcpy(path, out);
    if ((dot = strrchr(path, '.')) && dot > strrchr(path, '/'))
        *dot = 0;
    strcat(path, ".json");
    xai_status st = xai_sidecar_new(&sc);
    if (st == XAI_OK)
        st = xai_sidecar_set_json(sc, "Provenance", common && *common ? common : "{}");
    if (st == XAI_OK)
        st = xai_sidecar_child(sc, "Provenance", &prov);
    if (st == XAI_OK)
        st = xai_sidecar_set_string(prov, "Description", description);
    if (st == XAI_OK)
        st = fill_dictionary(sc, d);
    if (st == XAI_OK)
        st = xai_sidecar_save(sc, path);
    xai_sidecar_free(prov);
    xai_sidecar_free(sc);
    free(path);
    return st;
}

static xai_status write_tables(const xai_eeg_maps *m, const class_means *cm, const xai_eeg_paths *o,
                               const char *common)
{
    dictionary dc = {channel_cols, sizeof channel_cols / sizeof *channel_cols, m->p,
                     {"relevance_", "Mean summed relevance over the epochs explained for this class", "arbitrary"}};
    dictionary de = {event_cols, sizeof event_cols / sizeof *event_cols, m->p,
                     {"logit_", "The model's logit (pre-softmax output) for this class", NULL}};
    xai_tsv *ct = NULL, *et = NULL;
    xai_status st = channels_table(m, cm, &ct);
    if (st == XAI_OK)
        st = xai_tsv_save(ct, o->channels, 0);
    if (st == XAI_OK)
        st = write_sidecar(common, o->channels,
                           "BIDS channels table plus relevance columns: relevance = mean over epochs of the "
                           "channel's summed relevance; relevance_abs = the same of |R|; positive_share = the "
                           "channel's share of all positive relevance; relevance_<class> = mean summed relevance "
                           "over the epochs explained for that class", fill_dictionary, &dc);
    if (st == XAI_OK)
        st = events_table(m, &et);
    if (st == XAI_OK)
        st = xai_tsv_save(et, o->events, 0);
    if (st == XAI_OK)
        st = write_events_sidecar(common, o->events,
                                  "One row per explained epoch: event onset (s), window length (s), first sample "
                                  "at the model's rate, true class, explained class, predicted class, correctness, "
                                  "summed input relevance and the logits", &de);
    xai_tsv_free(ct);
    xai_tsv_free(et);
    return st;
}

typedef struct {
    const xai_eeg_prep *p;
    int cls;
} heat_info;

static xai_status fill_heat(xai_sidecar *sc, const void *ud)
{
    const heat_info *h = ud;
    xai_status st = xai_sidecar_set_string_array(sc, "Rows", (const char *const *)h->p->channels, (size_t)h->p->nch);
    return st == XAI_OK ? xai_sidecar_set_string(sc, "Class", h->p->classes[h->cls]) : st;
}

static xai_status write_heatmap(const xai_eeg_maps *m, const class_means *cm, int c, const char *path,
                                const char *common)
{
    const xai_eeg_prep *p = m->p;
    int C = p->nch;
    char title[256];
    xai_heatmap_opts ho;
    xai_heatmap_opts_init(&ho);
    snprintf(title, sizeof title, "%s relevance, class %s (mean of %lld epochs)", m->method ? m->method : "",
             p->classes[c], (long long)cm->count[c]);
    ho.title = title;
    ho.xlabel = "time (s)";
    ho.ylabel = "channel";
    ho.cbar_label = "relevance";
    ho.x0 = p->tmin;
    ho.dx = 1.0 / p->rate;
    ho.width = 900;
    ho.height = 60 + 14 * C + 120 > 480 ? 60 + 14 * C + 120 : 480;
    if (ho.height > 4000)
        ho.height = 4000;
    double rect[4];
    xai_heatmap_layout(&ho, rect);
    size_t per = (size_t)C * (size_t)p->ntimes;
    xai_status st = xai_figure_heatmap(path, cm->heat + (size_t)c * per, C, (int)p->ntimes, &ho);
    if (st == XAI_OK)
        st = xai_eeg_heatmap_label_rows(path, rect, C, (const char *const *)p->channels, "channel");
    heat_info h = {p, c};
    if (st == XAI_OK)
        st = write_sidecar(common, path, "Mean relevance over the epochs explained for this class; rows are channels "
                           "(top = first), columns samples from TMin", fill_heat, &h);
    return st;
}

static xai_status fill_topo(xai_sidecar *sc, const void *ud)
{
    const xai_eeg_prep *p = ud;
    xai_sidecar_set_string_array(sc, "ChannelsWithoutPosition", NULL, 0);
    xai_status st = XAI_OK;
    for (int ch = 0; st == XAI_OK && ch < p->nch; ch++)
        if (xai_eeg_montage_find(p->channels[ch], NULL, NULL) != 0)
            st = xai_sidecar_append_string(sc, "ChannelsWithoutPosition", p->channels[ch]);
    return st;
}

static xai_status write_topomap(const xai_eeg_maps *m, const class_means *cm, const char *path, const char *common)
{
    const xai_eeg_prep *p = m->p;
    int C = p->nch, np = 0;
    const char *titles[XAI_EEG_MAX_CLASSES];
    char tbuf[XAI_EEG_MAX_CLASSES][96], title[160];
    float *vals = calloc((size_t)p->nclass * (size_t)C, sizeof *vals);
    if (!vals)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    for (int c = 0; c < p->nclass && np < XAI_EEG_MAX_CLASSES; c++) {
        if (cm->count[c] == 0)
            continue;
        snprintf(tbuf[np], sizeof tbuf[np], "%s (n=%lld)", p->classes[c], (long long)cm->count[c]);
        titles[np] = tbuf[np];
        memcpy(vals + (size_t)np * (size_t)C, cm->topo + (size_t)c * (size_t)C, (size_t)C * sizeof *vals);
        np++;
    }
    snprintf(title, sizeof title, "Mean %s relevance per channel", m->method ? m->method : "");
    xai_status st = xai_eeg_topomap_png(path, C, (const char *const *)p->channels, np, vals, titles, title,
                                        "summed relevance");
    free(vals);
    if (st == XAI_OK)
        st = write_sidecar(common, path, "Scalp map of the mean summed relevance per channel, one panel per explained "
                           "class; positions: BESA spherical 10-05 angles, azimuthal-equidistant projection, "
                           "inverse-distance interpolation; channels without a position are listed",
                           fill_topo, p);
    return st;
}

xai_status xai_eeg_write_maps(const xai_eeg_maps *m, const xai_eeg_paths *o, const char *common_json)
{
    if (!m || !o || !m->p || m->n < 1 || !o->npy || !o->channels || !o->events)
        return xai_error_set(XAI_EINVAL, "eeg maps: nothing to write");
    class_means cm = {0};
    xai_status st = means_make(m, &cm);
    if (st == XAI_OK)
        st = write_npy(m, o, common_json);
    if (st == XAI_OK)
        st = write_tables(m, &cm, o, common_json);
    for (int c = 0; st == XAI_OK && o->heat && c < m->p->nclass; c++)
        if (cm.count[c] > 0 && o->heat[c])
            st = write_heatmap(m, &cm, c, o->heat[c], common_json);
    if (st == XAI_OK && o->topo)
        st = write_topomap(m, &cm, o->topo, common_json);
    means_free(&cm);
    return st;
}
