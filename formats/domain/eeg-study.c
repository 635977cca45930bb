/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eeg-study.c - the EEG domain's pieces of a decoding study around the shared driver: the
 * default network with its placeholders, the epoch augmentation, the global z-score fitted
 * on the training epochs, the within-recording (per-epoch) grouping, one recording's
 * epochs as a dataset and the model card's EEG members.
 */
#include "xai/domain-eeg.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai/card.h"
#include "xai/model.h"

char *xai_eeg_arch_expand(const char *spec, int C, int K, int64_t T, double rate)
{
    int kt = 2 * (int)lround(rate / 20) + 1, pool = (int)(rate / 4);
    if (kt > T)
        kt = (int)(T % 2 ? T : T - 1);
    if (pool < 1)
        pool = 1;
    if (pool > T)
        pool = (int)T;
    struct {
        const char *key;
        int val;
    } sub[] = {{"{C}", C}, {"{K}", K}, {"{KT}", kt}, {"{PT}", kt / 2}, {"{P}", pool}};
    size_t cap = strlen(spec) * 4 + 64, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (const char *s = spec; *s;) {
        int done = 0;
        for (size_t i = 0; i < sizeof sub / sizeof sub[0] && !done; i++) {
            size_t l = strlen(sub[i].key);
            if (strncmp(s, sub[i].key, l) == 0) {
                n += (size_t)snprintf(out + n, cap - n, "%d", sub[i].val);
                s += l;
                done = 1;
            }
        }
        if (!done && n + 1 < cap)
            out[n++] = *s++;
        if (n + 16 >= cap)
            break;
    }
    out[n] = '\0';
    return out;
}

/* Trial-to-trial latency and amplitude vary in real data: a shift of up to 1/16 of the
 * window with mirrored (not zero-filled) edges and a global gain in [0.8, 1.25]. Channel
 * dropout (ud: the probability) sets whole channels to their mean, 0 after standardisation,
 * so that no decision rests on a few electrodes that an artefact can own (braindecode's
 * ChannelsDropout; Saeed et al. 2021, "Learning from heterogeneous EEG signals"). */
xai_status xai_eeg_augment(void *ud, float *x, int64_t n, int ndim, const int64_t *shape, uint64_t seed)
{
    double pdrop = ud ? *(const double *)ud : 0;
    if (ndim != 3)
        return xai_error_set(XAI_EINVAL, "augment: expected [1][channels][times]");
    int64_t C = shape[1], T = shape[2], maxs = T / 16;
    float *row = malloc((size_t)T * sizeof *row);
    if (!row)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    uint64_t r = seed | 1;
    for (int64_t i = 0; i < n; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        int64_t sh = maxs ? (int64_t)(r % (uint64_t)(2 * maxs + 1)) - maxs : 0;
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        float g = (float)exp(((double)(r % 10001) / 10000.0 - 0.5) * 2 * log(1.25));
        for (int64_t c = 0; c < C; c++) {
            float *v = x + ((size_t)i * (size_t)C + (size_t)c) * (size_t)T;
            if (pdrop > 0) {
                r ^= r << 13, r ^= r >> 7, r ^= r << 17;
                if ((double)(r % 1000000) / 1e6 < pdrop) {
                    memset(v, 0, (size_t)T * sizeof *v);
                    continue;
                }
            }
            for (int64_t t = 0; t < T; t++) {
                int64_t u = t - sh;
                u = u < 0 ? -u : u >= T ? 2 * (T - 1) - u : u;
                row[t] = g * v[u];
            }
            memcpy(v, row, (size_t)T * sizeof *row);
        }
    }
    free(row);
    return XAI_OK;
}

xai_status xai_eeg_fit_normalisation(xai_eeg_prep *p, xai_dataset *d)
{
    size_t total = (size_t)d->n * (size_t)xai_dataset_sample_size(d);
    if (total == 0)
        return xai_error_set(XAI_EINVAL, "no epochs to fit the normalisation on");
    double s1 = 0, s2 = 0;
    for (size_t i = 0; i < total; i++)
        s1 += d->x[i];
    p->norm_mean = s1 / (double)total;
    for (size_t i = 0; i < total; i++)
        s2 += (d->x[i] - p->norm_mean) * (d->x[i] - p->norm_mean);
    p->norm_std = sqrt(s2 / (double)total);
    if (!(p->norm_std > 0))
        return xai_error_set(XAI_EINVAL, "the epochs are constant; nothing to learn");
    for (size_t i = 0; i < total; i++)
        d->x[i] = (float)((d->x[i] - p->norm_mean) / p->norm_std);
    return XAI_OK;
}

static char *epoch_name(const char *group, int64_t k)
{
    int len = snprintf(NULL, 0, "%s#%lld", group, (long long)k);
    char *s = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (s)
        snprintf(s, (size_t)len + 1, "%s#%lld", group, (long long)k);
    return s;
}

xai_status xai_eeg_split_epochs(xai_dataset *d)
{
    char **names = calloc((size_t)d->n + 1, sizeof *names);
    int64_t *seen = calloc((size_t)d->ngroups + 1, sizeof *seen);
    char *kind = strdup("trial");
    int ok = names && seen && kind;
    for (int64_t i = 0; ok && i < d->n; i++)
        ok = (names[i] = epoch_name(d->group_names[d->group[i]], seen[d->group[i]]++)) != NULL;
    free(seen);
    if (!ok) {
        for (int64_t i = 0; names && i < d->n; i++)
            free(names[i]);
        free(names);
        free(kind);
        return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    for (int g = 0; g < d->ngroups; g++)
        free(d->group_names[g]);
    free(d->group_names);
    free(d->group_kind);
    d->group_names = names;
    d->group_kind = kind;
    d->ngroups = (int)d->n;
    for (int64_t i = 0; i < d->n; i++)
        d->group[i] = (int)i;
    return XAI_OK;
}

xai_status xai_eeg_epochs_dataset(const xai_eeg_prep *p, const xai_eeg_epochs *ep, const char *group, int per_epoch,
                                  xai_dataset *d)
{
    int64_t shape[3] = {1, p->nch, p->ntimes}, ng = per_epoch ? ep->n : 1;
    xai_status st = xai_dataset_alloc(d, ep->n, 3, shape, p->nclass);
    if (st != XAI_OK)
        return st;
    if (!(d->group_names = calloc((size_t)ng + 1, sizeof(char *))))
        return xai_error_set(XAI_ENOMEM, "out of memory");
    d->ngroups = (int)ng;
    for (int64_t g = 0; g < ng; g++)
        if (!(d->group_names[g] = per_epoch ? epoch_name(group, g) : strdup(group)))
            return xai_error_set(XAI_ENOMEM, "out of memory");
    memcpy(d->x, ep->x, (size_t)ep->n * (size_t)p->nch * (size_t)p->ntimes * sizeof *d->x);
    for (int64_t i = 0; i < ep->n; i++) {
        d->y[i] = ep->y[i];
        d->group[i] = per_epoch ? (int)i : 0;
    }
    return XAI_OK;
}

/* the channel names as a JSON array (malloc'ed text) */
static char *channels_json(const xai_eeg_prep *p)
{
    json_t *a = json_array();
    for (int i = 0; a && i < p->nch; i++)
        if (json_array_append_new(a, json_string(p->channels[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return s;
}

xai_status xai_eeg_card_new(const xai_eeg_prep *p, xai_card **out)
{
    xai_card *c = NULL;
    char *rec = xai_eeg_prep_to_json(p), *chans = channels_json(p), rate[64];
    snprintf(rate, sizeof rate, "%.17g", p->rate);
    xai_status st = rec && chans ? xai_card_new(&c) : xai_error_set(XAI_ENOMEM, "out of memory");
    const char *const sets[] = {"domain=eeg", "task=event classification of epoched EEG",
                                "input.axes=plane,channel,time", "input.units=,,s"};
    for (size_t i = 0; st == XAI_OK && i < sizeof sets / sizeof *sets; i++)
        st = xai_card_set(c, sets[i]);
    if (st == XAI_OK)
        st = xai_card_set_json(c, "input.sampling_rate_hz", rate);
    if (st == XAI_OK)
        st = xai_card_set_json(c, "input.channel_names", chans);
    if (st == XAI_OK)
        st = xai_card_set_json(c, "preprocessing", rec);
    free(rec);
    free(chans);
    if (st != XAI_OK) {
        xai_card_free(c);
        c = NULL;
    }
    *out = c;
    return st;
}

xai_status xai_eeg_prep_remap_events(xai_eeg_prep *p, const char *spec)
{
    xai_eeg_prep q = {0};
    xai_status st = xai_eeg_prep_set_events(&q, spec);
    for (int i = 0; st == XAI_OK && i < q.nmap; i++) {
        const char *cls = q.classes[q.ev_class[i]];
        int found = -1;
        for (int c = 0; c < p->nclass; c++)
            if (strcmp(p->classes[c], cls) == 0)
                found = c;
        if (found < 0)
            st = xai_error_set(XAI_EUNSUPPORTED, "the model has no class '%s'", cls);
        q.ev_class[i] = found;
    }
    if (st == XAI_OK) { /* the new mapping replaces the record's; the classes stay */
        int *ev_class = p->ev_class;
        char **ev_keys = p->ev_keys;
        int nmap = p->nmap;
        p->ev_keys = q.ev_keys, p->ev_class = q.ev_class, p->nmap = q.nmap;
        q.ev_keys = ev_keys, q.ev_class = ev_class, q.nmap = nmap;
    }
    xai_eeg_prep_free(&q);
    return st;
}

xai_status xai_eeg_prep_check_model(const xai_eeg_prep *p, const xai_model *m)
{
    int nd = 0;
    const int64_t *shape = xai_model_input_shape(m, &nd);
    if (!(nd == 4 && shape[1] == 1 && shape[2] == p->nch && shape[3] == p->ntimes) ||
        xai_model_output_numel(m) != p->nclass)
        return xai_error_set(XAI_ESHAPE, "the model's input/output shape does not match its preprocessing record "
                             "(%d channels x %lld samples, %d classes)", p->nch, (long long)p->ntimes, p->nclass);
    return XAI_OK;
}
