/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eeg.c - the EEG domain: reading EEG recordings (EDF/EDF+/BDF/BDF+ through formats/edf.h, BrainVision
 * through formats/brainvision.h), preprocessing and epoching for xai-eeg, and the JSON
 * preprocessing record stored in the model.
 *
 * Events: EDF+/BDF+ annotations, BDF Status values (decimal text) or BrainVision marker
 * descriptions; when a BIDS sibling "<entities>_events.tsv" exists next to a
 * "<entities>_eeg.<ext>" file its onset/trial_type (or value) rows replace them, as MNE-BIDS does.
 *
 * Order of the steps (the same at train and explain time): channel selection, re-reference
 * to the average of the selected channels, zero-phase band-pass and notch, resampling
 * (libsamplerate sinc, medium quality, through xai_audio_resample), epoching [tmin, tmax)
 * around each mapped event, baseline, global z-scoring with the training mean and std.
 *
 * Filters: Butterworth band edges as cascades of second-order sections (the bilinear-
 * transform biquads of R. Bristow-Johnson's "Audio EQ Cookbook", whose Q values
 * 1/(2 cos((2k-1) pi / 2N)) make an order-N Butterworth), and a notch biquad with Q = 30.
 * Each cascade runs forward and then backward (like scipy.signal.filtfilt), so the result
 * has zero phase and the squared magnitude response; the signal is first padded at both
 * ends by odd reflection (2 x[0] - x[k]) over min(n - 1, max(3 s, 6 / hp)) samples to keep
 * the start-up transients out of the data.
 */
#include "../file-util.h"
#include "xai/biosig.h"
#include "xai/domain-eeg.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gsl/gsl_statistics_float.h>

#include "xai/audio.h"
#include "xai/brainvision.h"
#include "xai/edf.h"
#include "xai/tsv.h"

#define PI 3.14159265358979323846
#define MAX_CHANNELS 1024

static void trim_copy(const char *s, char *out, size_t cap, int drop_all_space)
{
    size_t n = 0;
    while (*s && isspace((unsigned char)*s))
        s++;
    for (; *s && n + 1 < cap; s++)
        if (!(drop_all_space && isspace((unsigned char)*s)))
            out[n++] = *s;
    while (n > 0 && isspace((unsigned char)out[n - 1]))
        n--;
    out[n] = '\0';
}

int xai_eeg_label_equal(const char *a, const char *b)
{
    for (;;) {
        while (*a && (isspace((unsigned char)*a) || *a == '.'))
            a++;
        while (*b && (isspace((unsigned char)*b) || *b == '.'))
            b++;
        if (!*a || !*b)
            return !*a && !*b;
        if (toupper((unsigned char)*a) != toupper((unsigned char)*b))
            return 0;
        a++;
        b++;
    }
}

static int is_trigger_label(const char *s)
{
    return xai_eeg_label_equal(s, "Status") || xai_eeg_label_equal(s, "Trigger") || xai_eeg_label_equal(s, "STI 014");
}

/* ------------------------------------------------------------------ reading */

void xai_eeg_raw_free(xai_eeg_raw *r)
{
    if (!r)
        return;
    xai_strv_free(r->labels, (size_t)r->nch);
    xai_strv_free(r->units, (size_t)r->nch);
    free(r->data);
    for (size_t i = 0; i < r->nev; i++)
        free(r->ev[i].text);
    free(r->ev);
    memset(r, 0, sizeof *r);
}

static xai_status add_event(xai_eeg_raw *r, double onset, double duration, const char *text)
{
    xai_eeg_event *e = realloc(r->ev, (r->nev + 1) * sizeof *e);
    if (!e)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    r->ev = e;
    char buf[128];
    trim_copy(text, buf, sizeof buf, 0);
    e[r->nev].onset_s = onset;
    e[r->nev].duration_s = duration > 0 && isfinite(duration) ? duration : 0;
    e[r->nev].text = strdup(buf);
    if (!e[r->nev].text)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    r->nev++;
    return XAI_OK;
}

static int has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), m = strlen(ext);
    return n >= m && strcasecmp(path + n - m, ext) == 0;
}

static xai_status load_bv(const char *path, xai_eeg_raw *out)
{
    xai_brainvision *bv = NULL;
    xai_status st = xai_brainvision_open(path, &bv);
    if (st != XAI_OK)
        return st;
    out->nch = bv->n_channels;
    out->rate = bv->sample_rate;
    out->n = bv->n_samples;
    out->labels = calloc((size_t)out->nch, sizeof *out->labels);
    out->units = calloc((size_t)out->nch, sizeof *out->units);
    out->data = malloc((size_t)out->nch * (size_t)out->n * sizeof *out->data);
    if (!out->labels || !out->units || !out->data) {
        xai_brainvision_close(bv);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    }
    memcpy(out->data, bv->data, (size_t)out->nch * (size_t)out->n * sizeof *out->data);
    for (int c = 0; c < out->nch; c++) {
        out->labels[c] = strdup(bv->channels[c].label);
        out->units[c] = strdup(bv->channels[c].unit);
        if (!out->labels[c] || !out->units[c]) {
            xai_brainvision_close(bv);
            return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
        }
    }
    for (size_t k = 0; k < bv->n_markers && st == XAI_OK; k++)
        if (bv->markers[k].description && bv->markers[k].description[0])
            st = add_event(out, (double)bv->markers[k].sample / bv->sample_rate,
                           bv->markers[k].length > 1 ? (double)bv->markers[k].length / bv->sample_rate : 0,
                           bv->markers[k].description);
    xai_brainvision_close(bv);
    return st;
}

/* Labels and units of the selected channels and the annotations as events: what the EDF
   and BioSig readers (which share the EDF reader's structs) hand over the same way. */
static xai_status take_channels_events(const char *path, const xai_edf_channel *const *chs, int nsel,
                                       const xai_edf_annotation *ann, size_t nann, xai_eeg_raw *out)
{
    out->nch = nsel;
    out->labels = calloc((size_t)nsel, sizeof *out->labels);
    out->units = calloc((size_t)nsel, sizeof *out->units);
    if (!out->labels || !out->units)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    for (int c = 0; c < nsel; c++) {
        out->labels[c] = strdup(chs[c]->label);
        out->units[c] = strdup(chs[c]->unit);
        if (!out->labels[c] || !out->units[c])
            return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    }
    xai_status st = XAI_OK;
    for (size_t k = 0; st == XAI_OK && k < nann; k++)
        st = add_event(out, ann[k].onset_s, ann[k].duration_s, ann[k].text ? ann[k].text : "");
    return st;
}

/* GDF, BCI2000, CNT and EGI through BioSig: the data channels at the file's rate (BioSig has
   already turned trigger channels into events). */
static xai_status load_biosig(const char *path, xai_eeg_raw *out)
{
    xai_biosig *h = NULL;
    xai_status st = xai_biosig_open(path, &h);
    if (st != XAI_OK)
        return st;
    const xai_biosig_info *info = xai_biosig_get_info(h);
    int sel[MAX_CHANNELS], nsel = 0;
    const xai_edf_channel *chs[MAX_CHANNELS];
    for (int c = 0; c < info->n_channels && nsel < MAX_CHANNELS; c++) {
        const xai_edf_channel *ch = xai_biosig_get_channel(h, c);
        if (is_trigger_label(ch->label) || (nsel && fabs(ch->sample_rate - chs[0]->sample_rate) > 1e-9 * ch->sample_rate))
            continue;
        chs[nsel] = ch;
        sel[nsel++] = c;
    }
    if (nsel == 0)
        st = xai_error_set(XAI_EFORMAT, "%s: no data channels", path);
    if (st == XAI_OK)
        st = xai_biosig_read_matrix(h, sel, nsel, &out->data, &out->n, &out->rate);
    size_t nann = 0;
    const xai_edf_annotation *ann = xai_biosig_get_annotations(h, &nann);
    if (st == XAI_OK)
        st = take_channels_events(path, chs, nsel, ann, nann, out);
    xai_biosig_close(h);
    return st;
}

static xai_status load_edf(const char *path, xai_eeg_raw *out)
{
    xai_edf *h = NULL;
    xai_status st = xai_edf_open(path, &h);
    if (st != XAI_OK)
        return st;
    const xai_edf_info *info = xai_edf_get_info(h);
    int sel[MAX_CHANNELS], nsel = 0, trig = -1;
    double rate = 0;
    for (int c = 0; c < info->n_channels && nsel < MAX_CHANNELS; c++) {
        const xai_edf_channel *ch = xai_edf_get_channel(h, c);
        if (is_trigger_label(ch->label)) {
            if (trig < 0)
                trig = c;
            continue;
        }
        if (nsel == 0)
            rate = ch->sample_rate;
        if (fabs(ch->sample_rate - rate) > 1e-9 * rate)
            continue; /* other rates (e.g. slow auxiliary channels) are not EEG data here */
        sel[nsel++] = c;
    }
    if (nsel == 0) {
        xai_edf_close(h);
        return xai_error_set(XAI_EFORMAT, "%s: no data channels", path);
    }
    st = xai_edf_read_matrix(h, sel, nsel, &out->data, &out->n, &out->rate);
    const xai_edf_channel *chs[MAX_CHANNELS];
    for (int c = 0; c < nsel; c++)
        chs[c] = xai_edf_get_channel(h, sel[c]);
    size_t nann = 0;
    const xai_edf_annotation *ann = xai_edf_get_annotations(h, &nann);
    if (st == XAI_OK)
        st = take_channels_events(path, chs, nsel, ann, nann, out);
    if (st == XAI_OK && trig >= 0) {
        xai_edf_event *ev = NULL;
        size_t nev = 0;
        st = xai_edf_read_events(h, trig, &ev, &nev);
        for (size_t k = 0; st == XAI_OK && k < nev; k++) {
            char buf[16];
            snprintf(buf, sizeof buf, "%u", ev[k].value);
            st = add_event(out, ev[k].onset_s, 0, buf);
        }
        free(ev);
    }
    xai_edf_close(h);
    return st;
}

/* BIDS sibling: ".../sub-01_task-x_run-1_eeg.edf" -> ".../sub-01_task-x_run-1_events.tsv" */
static char *events_tsv_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *eeg = strstr(base, "_eeg.");
    if (!eeg)
        return NULL;
    size_t pre = (size_t)(eeg - path);
    char *t = malloc(pre + sizeof "_events.tsv");
    if (t) {
        memcpy(t, path, pre);
        strcpy(t + pre, "_events.tsv");
    }
    return t;
}

/* events from a BIDS events.tsv: onset (s) and trial_type (else value) */
static xai_status load_events_tsv(const char *tsv_path, xai_eeg_raw *out)
{
    xai_tsv *t = NULL;
    xai_status st = xai_tsv_load(tsv_path, 0, &t);
    if (st != XAI_OK)
        return st;
    long on = xai_tsv_find_column(t, "onset"), ty = xai_tsv_find_column(t, "trial_type");
    long du = xai_tsv_find_column(t, "duration");
    if (ty < 0)
        ty = xai_tsv_find_column(t, "value");
    if (on < 0 || ty < 0) {
        xai_tsv_free(t);
        return xai_error_set(XAI_EFORMAT, "%s: needs the columns onset and trial_type (or value)", tsv_path);
    }
    for (size_t k = 0; k < out->nev; k++)
        free(out->ev[k].text);
    free(out->ev);
    out->ev = NULL;
    out->nev = 0;
    for (size_t r = 0; st == XAI_OK && r < xai_tsv_nrows(t); r++) {
        double onset;
        const char *txt = xai_tsv_get_string(t, r, (size_t)ty);
        if (xai_tsv_get_number(t, r, (size_t)on, &onset) != XAI_OK || !isfinite(onset)) {
            st = xai_error_set(XAI_EFORMAT, "%s: row %zu: onset is not a number", tsv_path, r + 2);
            break;
        }
        double dur = 0; /* "n/a" or a missing column: no duration */
        if (du < 0 || xai_tsv_get_number(t, r, (size_t)du, &dur) != XAI_OK)
            dur = 0;
        if (txt)
            st = add_event(out, onset, dur, txt);
    }
    xai_tsv_free(t);
    return st;
}

xai_status xai_eeg_raw_load(const char *path, xai_eeg_raw *out)
{
    memset(out, 0, sizeof *out);
    xai_status st = has_ext(path, ".vhdr") ? load_bv(path, out)
                   : xai_biosig_handles(path) ? load_biosig(path, out)
                                               : load_edf(path, out);
    char *tsv = st == XAI_OK ? events_tsv_path(path) : NULL;
    if (tsv && access(tsv, F_OK) == 0)
        st = load_events_tsv(tsv, out); /* like MNE-BIDS: events.tsv replaces the file's own events */
    free(tsv);
    if (st == XAI_OK && (out->rate <= 0 || out->n < 1))
        st = xai_error_set(XAI_EFORMAT, "%s: empty recording or zero sample rate", path);
    if (st != XAI_OK)
        xai_eeg_raw_free(out);
    return st;
}

/* ------------------------------------------------------------------ filters */

typedef struct {
    double b0, b1, b2, a1, a2;
} biquad;

/* RBJ cookbook: kind 0 low-pass, 1 high-pass, 2 notch; normalised by a0 */
static biquad design(int kind, double f0, double fs, double q)
{
    double w = 2 * PI * f0 / fs, cw = cos(w), al = sin(w) / (2 * q), a0 = 1 + al;
    biquad s;
    if (kind == 0) {
        s.b0 = (1 - cw) / 2;
        s.b1 = 1 - cw;
        s.b2 = (1 - cw) / 2;
    } else if (kind == 1) {
        s.b0 = (1 + cw) / 2;
        s.b1 = -(1 + cw);
        s.b2 = (1 + cw) / 2;
    } else {
        s.b0 = 1;
        s.b1 = -2 * cw;
        s.b2 = 1;
    }
    s.b0 /= a0;
    s.b1 /= a0;
    s.b2 /= a0;
    s.a1 = -2 * cw / a0;
    s.a2 = (1 - al) / a0;
    return s;
}

/* one pass of the cascade over y[n] (transposed direct form II), direction dir = +1/-1 */
static void run_cascade(const biquad *sec, int nsec, double *y, int64_t n, int dir)
{
    for (int k = 0; k < nsec; k++) {
        const biquad *s = &sec[k];
        /* start in the steady state of a constant input equal to the first sample */
        double x0 = dir > 0 ? y[0] : y[n - 1];
        double dc = (s->b0 + s->b1 + s->b2) / (1 + s->a1 + s->a2);
        double z1 = dc * x0 - s->b0 * x0, z2 = s->b2 * x0 - s->a2 * dc * x0;
        for (int64_t j = 0; j < n; j++) {
            int64_t i = dir > 0 ? j : n - 1 - j;
            double in = y[i], out = s->b0 * in + z1;
            z1 = s->b1 * in - s->a1 * out + z2;
            z2 = s->b2 * in - s->a2 * out;
            y[i] = out;
        }
    }
}

xai_status xai_eeg_filter(float *x, int64_t n, double fs, double hp, double lp, double notch, int order)
{
    biquad sec[24];
    int nsec = 0;
    if (order < 2 || order > 16 || order % 2)
        return xai_error_set(XAI_EINVAL, "filter order must be even, 2..16 (got %d)", order);
    double nyq = fs / 2;
    if (hp < 0 || lp < 0 || notch < 0 || (hp > 0 && hp >= nyq) || (lp > 0 && lp >= nyq) ||
        (notch > 0 && notch >= nyq) || (hp > 0 && lp > 0 && hp >= lp))
        return xai_error_set(XAI_EINVAL,
                             "filter frequencies must satisfy 0 < low < high < Nyquist (%g Hz); "
                             "got band-pass %g,%g and notch %g",
                             nyq, hp, lp, notch);
    for (int k = 1; k <= order / 2; k++) {
        double q = 1.0 / (2.0 * cos((2.0 * k - 1.0) * PI / (2.0 * order)));
        if (hp > 0)
            sec[nsec++] = design(1, hp, fs, q);
        if (lp > 0)
            sec[nsec++] = design(0, lp, fs, q);
    }
    if (notch > 0)
        sec[nsec++] = design(2, notch, fs, 30.0);
    if (nsec == 0 || n < 2)
        return XAI_OK;
    int64_t pad = (int64_t)(3 * fs);
    if (hp > 0 && (int64_t)(6 * fs / hp) > pad)
        pad = (int64_t)(6 * fs / hp);
    if (pad > n - 1)
        pad = n - 1;
    int64_t m = n + 2 * pad;
    double *y = malloc((size_t)m * sizeof *y);
    if (!y)
        return xai_error_set(XAI_ENOMEM, "out of memory (%lld samples)", (long long)m);
    for (int64_t i = 0; i < pad; i++) {
        y[i] = 2.0 * x[0] - x[pad - i];
        y[pad + n + i] = 2.0 * x[n - 1] - x[n - 2 - i];
    }
    for (int64_t i = 0; i < n; i++)
        y[pad + i] = x[i];
    run_cascade(sec, nsec, y, m, +1);
    run_cascade(sec, nsec, y, m, -1);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)y[pad + i];
    free(y);
    return XAI_OK;
}

/* ------------------------------------------------------------------ the record */

void xai_eeg_prep_free(xai_eeg_prep *p)
{
    if (!p)
        return;
    xai_strv_free(p->channels, (size_t)p->nch);
    xai_strv_free(p->units, (size_t)p->nch);
    xai_strv_free(p->classes, (size_t)p->nclass);
    xai_strv_free(p->ev_keys, (size_t)p->nmap);
    free(p->ev_class);
    memset(p, 0, sizeof *p);
}

static int find_class(const xai_eeg_prep *p, const char *name)
{
    for (int i = 0; i < p->nclass; i++)
        if (strcmp(p->classes[i], name) == 0)
            return i;
    return -1;
}

static xai_status add_mapping(xai_eeg_prep *p, const char *key, const char *cls)
{
    int c = find_class(p, cls);
    if (c < 0) {
        char **v = realloc(p->classes, (size_t)(p->nclass + 1) * sizeof *v);
        if (!v)
            return xai_error_set(XAI_ENOMEM, "out of memory");
        p->classes = v;
        if (!(v[p->nclass] = strdup(cls)))
            return xai_error_set(XAI_ENOMEM, "out of memory");
        c = p->nclass++;
    }
    char **k = realloc(p->ev_keys, (size_t)(p->nmap + 1) * sizeof *k);
    if (!k)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    p->ev_keys = k;
    int *ec = realloc(p->ev_class, (size_t)(p->nmap + 1) * sizeof *ec);
    if (!ec)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    p->ev_class = ec;
    if (!(k[p->nmap] = strdup(key)))
        return xai_error_set(XAI_ENOMEM, "out of memory");
    ec[p->nmap++] = c;
    return XAI_OK;
}

xai_status xai_eeg_prep_set_events(xai_eeg_prep *p, const char *spec)
{
    char *dup = strdup(spec), *save = NULL;
    if (!dup)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    xai_status st = XAI_OK;
    for (char *tok = strtok_r(dup, ",", &save); tok && st == XAI_OK; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        char key[128], cls[128];
        if (!eq) {
            st = xai_error_set(XAI_EINVAL, "--events: '%s' is not EVENT=CLASS", tok);
            break;
        }
        *eq = '\0';
        trim_copy(tok, key, sizeof key, 0);
        trim_copy(eq + 1, cls, sizeof cls, 0);
        if (!key[0] || !cls[0]) {
            st = xai_error_set(XAI_EINVAL, "--events: empty event or class in '%s=%s'", tok, eq + 1);
            break;
        }
        for (int i = 0; i < p->nmap; i++)
            if (strcmp(p->ev_keys[i], key) == 0)
                st = xai_error_set(XAI_EINVAL, "--events: event '%s' is mapped twice", key);
        if (st == XAI_OK)
            st = add_mapping(p, key, cls);
    }
    free(dup);
    if (st == XAI_OK && p->nclass < 2)
        st = xai_error_set(XAI_EINVAL, "--events: need at least two classes (e.g. T1=left,T2=right)");
    if (st == XAI_OK && p->nclass > XAI_EEG_MAX_CLASSES)
        st = xai_error_set(XAI_EINVAL, "--events: at most %d classes", XAI_EEG_MAX_CLASSES);
    return st;
}

xai_status xai_eeg_prep_set_channels(xai_eeg_prep *p, const char *list)
{
    char *dup = strdup(list), *save = NULL;
    if (!dup)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char name[64];
        trim_copy(tok, name, sizeof name, 0);
        if (!name[0])
            continue;
        char **v = realloc(p->channels, (size_t)(p->nch + 1) * sizeof *v);
        if (!v || !(v[p->nch] = strdup(name))) {
            if (v)
                p->channels = v;
            free(dup);
            return xai_error_set(XAI_ENOMEM, "out of memory");
        }
        p->channels = v;
        p->nch++;
    }
    free(dup);
    return p->nch > 0 ? XAI_OK : xai_error_set(XAI_EINVAL, "--channels: empty list");
}

static int raw_find(const xai_eeg_raw *raw, const char *label)
{
    for (int c = 0; c < raw->nch; c++)
        if (xai_eeg_label_equal(raw->labels[c], label))
            return c;
    return -1;
}

xai_status xai_eeg_prep_bind(xai_eeg_prep *p, const xai_eeg_raw *raw, const char *name)
{
    if (p->nch == 0) {
        p->channels = calloc((size_t)raw->nch, sizeof *p->channels);
        if (!p->channels)
            return xai_error_set(XAI_ENOMEM, "out of memory");
        for (int c = 0; c < raw->nch; c++)
            if (!(p->channels[p->nch++] = strdup(raw->labels[c])))
                return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    xai_strv_free(p->units, 0);
    p->units = calloc((size_t)p->nch, sizeof *p->units);
    if (!p->units)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    for (int i = 0; i < p->nch; i++) {
        int c = raw_find(raw, p->channels[i]);
        if (c < 0)
            return xai_error_set(XAI_EINVAL, "%s: no channel '%s'", name, p->channels[i]);
        if (!(p->units[i] = strdup(raw->units[c])))
            return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    p->rate_in = raw->rate;
    if (p->rate <= 0)
        p->rate = raw->rate;
    if (p->rate > 16 * p->rate_in)
        return xai_error_set(XAI_EINVAL, "%s: resampling from %g to %g Hz: at most 16-fold upsampling", name,
                             p->rate_in, p->rate);
    p->ntimes = (int64_t)llround((p->tmax - p->tmin) * p->rate);
    if (p->ntimes < 8 || p->ntimes > 10000000)
        return xai_error_set(XAI_EINVAL, "epoch window [%g, %g) s holds %lld samples at %g Hz (need 8..1e7)",
                             p->tmin, p->tmax, (long long)p->ntimes, p->rate);
    return XAI_OK;
}

static const char *standardise_name(int s)
{
    return s == XAI_EEG_STANDARDISE_RECORDING ? "recording-channel-zscore"
         : s == XAI_EEG_STANDARDISE_ROBUST    ? "recording-channel-robust"
                                              : "none";
}

char *xai_eeg_prep_to_json(const xai_eeg_prep *p)
{
    json_t *o = json_object(), *a;
    json_object_set_new(o, "version", json_integer(2));
    a = json_array();
    for (int i = 0; i < p->nch; i++)
        json_array_append_new(a, json_string(p->channels[i]));
    json_object_set_new(o, "channels", a);
    a = json_array();
    for (int i = 0; i < p->nch; i++)
        json_array_append_new(a, json_string(p->units && p->units[i] ? p->units[i] : ""));
    json_object_set_new(o, "units", a);
    json_object_set_new(o, "input_sampling_frequency", json_real(p->rate_in));
    json_object_set_new(o, "sampling_frequency", json_real(p->rate));
    json_object_set_new(o, "reference", json_string(p->average_ref ? "average" : "none"));
    json_t *f = json_object();
    json_object_set_new(f, "type", json_string("butterworth-biquad-forward-backward"));
    json_object_set_new(f, "order", json_integer(p->order));
    json_object_set_new(f, "high_pass", p->hp > 0 ? json_real(p->hp) : json_null());
    json_object_set_new(f, "low_pass", p->lp > 0 ? json_real(p->lp) : json_null());
    json_object_set_new(f, "notch", p->notch > 0 ? json_real(p->notch) : json_null());
    json_object_set_new(o, "filter", f);
    json_object_set_new(o, "resampler", json_string("libsamplerate sinc medium"));
    json_object_set_new(o, "standardisation", json_string(standardise_name(p->standardise)));
    json_object_set_new(o, "t_min", json_real(p->tmin));
    json_object_set_new(o, "t_max", json_real(p->tmax));
    json_object_set_new(o, "window", json_string(p->window_from_events ? "annotation-duration" : "explicit"));
    json_object_set_new(o, "n_times", json_integer(p->ntimes));
    json_object_set_new(o, "baseline", json_string(p->baseline_mean ? "mean" : "none"));
    a = json_array();
    for (int i = 0; i < p->nclass; i++)
        json_array_append_new(a, json_string(p->classes[i]));
    json_object_set_new(o, "classes", a);
    json_t *ev = json_object();
    for (int i = 0; i < p->nmap; i++)
        json_object_set_new(ev, p->ev_keys[i], json_string(p->classes[p->ev_class[i]]));
    json_object_set_new(o, "events", ev);
    json_t *nm = json_object();
    json_object_set_new(nm, "type", json_string("global-zscore"));
    json_object_set_new(nm, "mean", json_real(p->norm_mean));
    json_object_set_new(nm, "std", json_real(p->norm_std));
    json_object_set_new(o, "normalisation", nm);
    char *s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(o);
    return s;
}

/* A member by its snake_case name, or by the PascalCase name of the first record version
 * (models written before the card keep that form in xai_preprocessing). */
static json_t *member(json_t *o, const char *snake, const char *pascal)
{
    json_t *v = json_object_get(o, snake);
    return v ? v : json_object_get(o, pascal);
}

/* a number member; null means 0 (off); absent is an error only for required members */
static double num(json_t *o, const char *snake, const char *pascal, int required, int *bad)
{
    json_t *v = member(o, snake, pascal);
    if (!v && required)
        *bad = 1;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v)) {
        *bad = 1;
        return 0;
    }
    return json_number_value(v);
}

static xai_status read_channels(json_t *ch, json_t *un, xai_eeg_prep *out, int *bad)
{
    size_t i;
    json_t *v;
    out->channels = calloc(json_array_size(ch), sizeof *out->channels);
    out->units = calloc(json_array_size(ch), sizeof *out->units);
    if (!out->channels || !out->units)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    json_array_foreach(ch, i, v)
    {
        if (!json_is_string(v)) {
            *bad = 1;
            return XAI_OK;
        }
        json_t *u = json_is_array(un) ? json_array_get(un, i) : NULL;
        out->channels[i] = strdup(json_string_value(v));
        out->units[i] = strdup(json_is_string(u) ? json_string_value(u) : "");
        out->nch++;
        if (!out->channels[i] || !out->units[i])
            return xai_error_set(XAI_ENOMEM, "out of memory");
    }
    return XAI_OK;
}

static xai_status read_classes(json_t *cl, json_t *ev, xai_eeg_prep *out, int *bad)
{
    size_t i;
    json_t *v;
    json_array_foreach(cl, i, v)
    {
        if (!json_is_string(v)) {
            *bad = 1;
            return XAI_OK;
        }
        char **c = realloc(out->classes, (size_t)(out->nclass + 1) * sizeof *c);
        if (!c)
            return xai_error_set(XAI_ENOMEM, "out of memory");
        out->classes = c;
        if (!(c[out->nclass] = strdup(json_string_value(v))))
            return xai_error_set(XAI_ENOMEM, "out of memory");
        out->nclass++;
    }
    const char *key;
    json_object_foreach(ev, key, v)
    {
        int c = json_is_string(v) ? find_class(out, json_string_value(v)) : -1;
        if (c < 0) {
            *bad = 1;
            return XAI_OK;
        }
        xai_status st = add_mapping(out, key, out->classes[c]);
        if (st != XAI_OK)
            return st;
    }
    return XAI_OK;
}

/* the scalar members; sets *bad on a missing or malformed one */
static void read_numbers(json_t *o, json_t *f, json_t *nm, xai_eeg_prep *out, int *bad)
{
    out->rate_in = num(o, "input_sampling_frequency", "InputSamplingFrequency", 1, bad);
    out->rate = num(o, "sampling_frequency", "SamplingFrequency", 1, bad);
    out->tmin = num(o, "t_min", "TMin", 1, bad);
    out->tmax = num(o, "t_max", "TMax", 1, bad);
    double nt = num(o, "n_times", "NTimes", 1, bad), order = num(f, "order", "Order", 0, bad);
    if (!(nt >= 1 && nt <= 1e9 && order >= 0 && order <= 16)) /* range before the casts */
        *bad = 1;
    else {
        out->ntimes = (int64_t)nt;
        out->order = (int)order;
    }
    out->hp = num(f, "high_pass", "HighPass", 0, bad);
    out->lp = num(f, "low_pass", "LowPass", 0, bad);
    out->notch = num(f, "notch", "Notch", 0, bad);
    out->norm_mean = num(nm, "mean", "Mean", 1, bad);
    out->norm_std = num(nm, "std", "Std", 1, bad);
    const char *ref = json_string_value(member(o, "reference", "Reference"));
    const char *base = json_string_value(member(o, "baseline", "Baseline"));
    json_t *sd = json_object_get(o, "standardisation"); /* absent before version 2: none */
    const char *win = json_string_value(json_object_get(o, "window"));
    out->average_ref = ref && strcmp(ref, "average") == 0;
    out->baseline_mean = base && strcmp(base, "mean") == 0;
    out->window_from_events = win && strcmp(win, "annotation-duration") == 0;
    out->standardise = XAI_EEG_STANDARDISE_NONE;
    for (int k = XAI_EEG_STANDARDISE_RECORDING; sd && k <= XAI_EEG_STANDARDISE_ROBUST; k++)
        if (json_is_string(sd) && strcmp(json_string_value(sd), standardise_name(k)) == 0)
            out->standardise = k;
    if (sd && out->standardise == XAI_EEG_STANDARDISE_NONE &&
        !(json_is_string(sd) && strcmp(json_string_value(sd), "none") == 0))
        *bad = 1; /* an unknown standardisation cannot be applied as trained */
    if (!ref || !base)
        *bad = 1;
}

static int record_valid(const xai_eeg_prep *p)
{
    return p->rate_in > 0 && p->rate_in <= 1e6 && p->rate > 0 && p->rate <= 1e6 && p->rate <= 16 * p->rate_in &&
           fabs(p->tmin) <= 1e5 && fabs(p->tmax) <= 1e5 && p->ntimes >= 1 && p->tmax > p->tmin &&
           p->norm_std > 0 && p->nmap >= 2;
}

xai_status xai_eeg_prep_from_json(const char *json, const char *name, xai_eeg_prep *out)
{
    memset(out, 0, sizeof *out);
    json_error_t err;
    json_t *o = json_loads(json, 0, &err);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return xai_error_set(XAI_EFORMAT, "%s: the pre-processing record is not a JSON object (%s)", name, err.text);
    }
    json_t *ch = member(o, "channels", "Channels"), *un = member(o, "units", "Units");
    json_t *cl = member(o, "classes", "Classes"), *ev = member(o, "events", "Events");
    json_t *f = member(o, "filter", "Filter"), *nm = member(o, "normalisation", "Normalisation");
    if (!json_is_array(ch) || json_array_size(ch) == 0 || json_array_size(ch) > MAX_CHANNELS || !json_is_array(cl) ||
        json_array_size(cl) < 2 || json_array_size(cl) > XAI_EEG_MAX_CLASSES || !json_is_object(ev) ||
        !json_is_object(f) || !json_is_object(nm)) {
        json_decref(o);
        return xai_error_set(XAI_EFORMAT,
                             "%s: the pre-processing record lacks channels, classes, events, filter or "
                             "normalisation (not a model trained by xai-eeg?)",
                             name);
    }
    int bad = 0;
    xai_status st = read_channels(ch, un, out, &bad);
    if (st == XAI_OK && !bad)
        st = read_classes(cl, ev, out, &bad);
    if (st == XAI_OK && !bad)
        read_numbers(o, f, nm, out, &bad);
    if (st == XAI_OK && (bad || !record_valid(out)))
        st = xai_error_set(XAI_EFORMAT, "%s: the pre-processing record has a missing or invalid field", name);
    json_decref(o);
    if (st != XAI_OK)
        xai_eeg_prep_free(out);
    return st;
}

/* ------------------------------------------------------------------ epochs */

void xai_eeg_epochs_free(xai_eeg_epochs *e)
{
    if (!e)
        return;
    free(e->x);
    free(e->y);
    free(e->onset_s);
    free(e->sample);
    memset(e, 0, sizeof *e);
}

static int event_class(const xai_eeg_prep *p, const char *text)
{
    char a[128], b[128];
    trim_copy(text, a, sizeof a, 1);
    for (int i = 0; i < p->nmap; i++) {
        trim_copy(p->ev_keys[i], b, sizeof b, 1);
        if (strcmp(a, b) == 0)
            return p->ev_class[i];
    }
    return -1;
}

/* The window from the mapped events: tmax is the most common duration (events
 * of one kind of trial normally share it; a few truncated ones must not shorten all). */
xai_status xai_eeg_prep_window_from_events(xai_eeg_prep *p, const xai_eeg_raw *raw, const char *name)
{
    double best = 0;
    size_t best_n = 0, mapped = 0;
    for (size_t k = 0; k < raw->nev; k++)
        mapped += event_class(p, raw->ev[k].text) >= 0;
    if (mapped == 0)
        return xai_error_set(XAI_EINVAL, "%s: none of the mapped events (%s%s) occurs in the file", name,
                             p->nmap ? p->ev_keys[0] : "", p->nmap > 1 ? ", ..." : "");
    for (size_t k = 0; k < raw->nev; k++) {
        double d = raw->ev[k].duration_s;
        if (d <= 0 || event_class(p, raw->ev[k].text) < 0)
            continue;
        size_t same = 0;
        for (size_t j = 0; j < raw->nev; j++)
            if (event_class(p, raw->ev[j].text) >= 0 && fabs(raw->ev[j].duration_s - d) < 0.5 / raw->rate)
                same++;
        if (same > best_n || (same == best_n && d < best)) {
            best = d;
            best_n = same;
        }
    }
    if (best_n == 0)
        return xai_error_set(XAI_EINVAL,
                             "%s: the mapped events have no duration; give the window with --tmin and --tmax", name);
    p->tmax = best;
    p->window_from_events = 1;
    return XAI_OK;
}

/* the record's channels of @p raw, in record order, into a new [C][n] array */
static xai_status select_channels(const xai_eeg_prep *p, const xai_eeg_raw *raw, const char *name, float **out)
{
    int C = p->nch;
    int64_t n = raw->n;
    float *d = malloc((size_t)C * (size_t)n * sizeof *d);
    if (!d)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    for (int i = 0; i < C; i++) {
        int c = raw_find(raw, p->channels[i]);
        if (c < 0) {
            free(d);
            return xai_error_set(XAI_EINVAL, "%s: channel '%s' of the model is missing", name, p->channels[i]);
        }
        memcpy(d + (size_t)i * (size_t)n, raw->data + (size_t)c * (size_t)n, (size_t)n * sizeof *d);
    }
    *out = d;
    return XAI_OK;
}

static void average_reference(float *d, int C, int64_t n)
{
    for (int64_t t = 0; t < n; t++) {
        double s = 0;
        for (int i = 0; i < C; i++)
            s += d[(size_t)i * (size_t)n + (size_t)t];
        float m = (float)(s / C);
        for (int i = 0; i < C; i++)
            d[(size_t)i * (size_t)n + (size_t)t] -= m;
    }
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* A channel whose scale is below 1/20 of the recording's median channel is disconnected or
   bridged (the "flat" channels of EEGLAB's clean_rawdata and of the PREP pipeline): scaling it
   up would feed the amplifier's noise to the model as if it were EEG, so it becomes 0. Scalp
   channels differ in gain by far less (tens of per cent). @p tmp holds at least C floats. */
static double flat_cutoff(const double *scale, int C, float *tmp)
{
    for (int i = 0; i < C; i++)
        tmp[i] = (float)scale[i];
    qsort(tmp, (size_t)C, sizeof *tmp, cmp_float);
    return gsl_stats_float_quantile_from_sorted_data(tmp, 1, (size_t)C, 0.5) / 20.0;
}

/* z-score each channel over the whole recording; a flat channel (flat_cutoff) becomes 0 */
static xai_status standardise_channels(float *d, int C, int64_t n, const char *name)
{
    double *m = malloc((size_t)C * 2 * sizeof *m), *sd = m ? m + C : NULL;
    float *tmp = malloc((size_t)C * sizeof *tmp);
    if (!m || !tmp) {
        free(m);
        free(tmp);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    }
    for (int i = 0; i < C; i++) {
        const float *row = d + (size_t)i * (size_t)n;
        double s1 = 0, s2 = 0;
        for (int64_t t = 0; t < n; t++)
            s1 += row[t];
        m[i] = s1 / (double)n;
        for (int64_t t = 0; t < n; t++)
            s2 += (row[t] - m[i]) * (row[t] - m[i]);
        sd[i] = sqrt(s2 / (double)n);
    }
    double cut = flat_cutoff(sd, C, tmp);
    for (int i = 0; i < C; i++) {
        float *row = d + (size_t)i * (size_t)n;
        int flat = !(sd[i] > cut) || !(sd[i] > 0);
        for (int64_t t = 0; t < n; t++)
            row[t] = flat ? 0.0f : (float)((row[t] - m[i]) / sd[i]);
    }
    free(m);
    free(tmp);
    return XAI_OK;
}

/* median and IQR / 1.349 of each channel (GSL quantiles of a sorted copy), then the robust
   z-score clipped at +-XAI_EEG_ROBUST_CLIP; flat channels (flat_cutoff) become 0 */
static xai_status standardise_robust(float *d, int C, int64_t n, const char *name)
{
    float *tmp = malloc((size_t)(n > C ? n : C) * sizeof *tmp);
    double *med = malloc((size_t)C * 2 * sizeof *med), *scale = med ? med + C : NULL;
    if (!tmp || !med) {
        free(tmp);
        free(med);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    }
    for (int i = 0; i < C; i++) {
        memcpy(tmp, d + (size_t)i * (size_t)n, (size_t)n * sizeof *tmp);
        qsort(tmp, (size_t)n, sizeof *tmp, cmp_float);
        med[i] = gsl_stats_float_quantile_from_sorted_data(tmp, 1, (size_t)n, 0.5);
        scale[i] = (gsl_stats_float_quantile_from_sorted_data(tmp, 1, (size_t)n, 0.75) -
                    gsl_stats_float_quantile_from_sorted_data(tmp, 1, (size_t)n, 0.25)) / 1.349;
    }
    double cut = flat_cutoff(scale, C, tmp);
    for (int i = 0; i < C; i++) {
        float *row = d + (size_t)i * (size_t)n;
        int flat = !(scale[i] > cut) || !(scale[i] > 0);
        for (int64_t t = 0; t < n; t++) {
            double z = flat ? 0.0 : (row[t] - med[i]) / scale[i];
            row[t] = (float)fmax(-XAI_EEG_ROBUST_CLIP, fmin(XAI_EEG_ROBUST_CLIP, z));
        }
    }
    free(tmp);
    free(med);
    return XAI_OK;
}

/* filters and resampling of the continuous [C][*n] data, replacing *d when resampled */
static xai_status filter_resample(const xai_eeg_prep *p, double rate_in, const char *name, float **d, int64_t *n)
{
    int C = p->nch;
    xai_status st = XAI_OK;
    for (int i = 0; i < C && st == XAI_OK; i++)
        st = xai_eeg_filter(*d + (size_t)i * (size_t)*n, *n, rate_in, p->hp, p->lp, p->notch, p->order ? p->order : 4);
    if (st != XAI_OK)
        return xai_error_prefix(st, name);
    if (fabs(p->rate - rate_in) <= 1e-6 * rate_in)
        return XAI_OK;
    if (p->rate != floor(p->rate) || rate_in != floor(rate_in))
        return xai_error_set(XAI_EUNSUPPORTED, "%s: resampling needs integer rates (%g -> %g Hz)", name, rate_in,
                             p->rate);
    xai_audio in = {.info = {.sample_rate = (int)rate_in, .channels = C, .frames = *n}, .data = *d}, res = {0};
    st = xai_audio_resample(&in, (int)p->rate, XAI_RESAMPLE_MEDIUM, &res);
    if (st != XAI_OK)
        return xai_error_prefix(st, name);
    free(*d);
    *d = res.data;
    *n = res.info.frames;
    return XAI_OK;
}

static xai_status epochs_alloc(xai_eeg_epochs *out, int64_t cap, size_t per, const char *name)
{
    if (cap <= 0)
        return XAI_OK;
    out->x = malloc((size_t)cap * per * sizeof *out->x);
    out->y = malloc((size_t)cap * sizeof *out->y);
    out->onset_s = malloc((size_t)cap * sizeof *out->onset_s);
    out->sample = malloc((size_t)cap * sizeof *out->sample);
    if (!out->x || !out->y || !out->onset_s || !out->sample)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory for %lld epochs", name, (long long)cap);
    return XAI_OK;
}

/* one epoch's channel row: baseline and the record's global normalisation */
static void epoch_row(const xai_eeg_prep *p, double rate, float *row, int64_t T)
{
    if (p->baseline_mean) {
        int64_t nb = p->tmin < 0 ? (int64_t)llround(-p->tmin * rate) : T;
        nb = nb < 1 ? 1 : nb > T ? T : nb;
        double s = 0;
        for (int64_t t = 0; t < nb; t++)
            s += row[t];
        float m = (float)(s / (double)nb);
        for (int64_t t = 0; t < T; t++)
            row[t] -= m;
    }
    if (p->norm_std > 0)
        for (int64_t t = 0; t < T; t++)
            row[t] = (float)((row[t] - p->norm_mean) / p->norm_std);
}

/* Epochs are cut from the data only: a window that leaves the recording is dropped and
 * counted, never padded, so that no model sees (or explains) samples that do not exist. */
static xai_status cut_epochs(const xai_eeg_prep *p, const xai_eeg_raw *raw, const float *d, int64_t n, double rate,
                             const char *name, xai_eeg_epochs *out)
{
    int C = p->nch;
    int64_t T = p->ntimes, cap = 0;
    for (size_t k = 0; k < raw->nev; k++)
        if (event_class(p, raw->ev[k].text) >= 0)
            cap++;
    xai_status st = epochs_alloc(out, T <= n ? cap : 0, (size_t)C * (size_t)T, name);
    if (st != XAI_OK)
        return st;
    for (size_t k = 0; k < raw->nev; k++) {
        int cls = event_class(p, raw->ev[k].text);
        if (cls < 0)
            continue;
        int64_t s0 = (int64_t)llround((raw->ev[k].onset_s + p->tmin) * rate);
        if (s0 < 0 || T > n || s0 > n - T) {
            out->dropped++;
            continue;
        }
        float *x = out->x + (size_t)out->n * (size_t)C * (size_t)T;
        for (int i = 0; i < C; i++) {
            memcpy(x + (size_t)i * (size_t)T, d + (size_t)i * (size_t)n + (size_t)s0, (size_t)T * sizeof *x);
            epoch_row(p, rate, x + (size_t)i * (size_t)T, T);
        }
        out->y[out->n] = cls;
        out->onset_s[out->n] = raw->ev[k].onset_s;
        out->sample[out->n] = s0;
        out->n++;
    }
    return XAI_OK;
}

xai_status xai_eeg_epochs_make(const xai_eeg_prep *p, const xai_eeg_raw *raw, const char *name, xai_eeg_epochs *out)
{
    memset(out, 0, sizeof *out);
    if (fabs(raw->rate - p->rate_in) > 1e-6 * p->rate_in)
        return xai_error_set(XAI_EINVAL, "%s: sample rate %g Hz, but the model was trained on %g Hz recordings",
                             name, raw->rate, p->rate_in);
    float *d = NULL;
    int64_t n = raw->n;
    xai_status st = select_channels(p, raw, name, &d);
    if (st != XAI_OK)
        return st;
    if (p->average_ref)
        average_reference(d, p->nch, n);
    st = filter_resample(p, raw->rate, name, &d, &n);
    if (st == XAI_OK && p->standardise == XAI_EEG_STANDARDISE_RECORDING)
        st = standardise_channels(d, p->nch, n, name);
    else if (st == XAI_OK && p->standardise == XAI_EEG_STANDARDISE_ROBUST)
        st = standardise_robust(d, p->nch, n, name);
    if (st == XAI_OK)
        st = cut_epochs(p, raw, d, n, p->rate, name, out);
    free(d);
    if (st != XAI_OK)
        xai_eeg_epochs_free(out);
    return st;
}
