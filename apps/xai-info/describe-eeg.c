/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * describe-eeg.c - xai-info for EEG: EDF/EDF+/BDF/BDF+ (xai_edf, through EDFlib), BrainVision
 * (our own reader) and GDF/BCI2000/CNT/EGI (xai_biosig, through BioSig). Each object says
 * which library read the file in "reader".
 * Conventions, chosen to agree with MNE-Python (mne.io.read_raw_edf/bdf/brainvision):
 * - channels exclude the EDF+/BDF+ annotation signal (as MNE does) and keep the others in
 *   file order, including trigger channels such as BDF `Status`;
 * - `unit` is the unit string as written in the file ("uV", "µV", ...) and min/max/mean are
 *   in that unit (physical scaling applied). MNE returns volts from get_data(): the extra
 *   field `scale_to_si` is the factor MNE applies (1e-6 for uV/µV, 1e-3 for mV, 1e-9 for
 *   nV, 1 otherwise), so MNE's value = ours * scale_to_si;
 * - `sample_rate` at the top level is the highest channel rate (MNE's info["sfreq"]);
 * - annotation onsets are seconds from the start of the recording; an EDF+ annotation with
 *   no duration gets 0 (MNE's choice). BrainVision markers become annotations as in MNE:
 *   onset = 0-based sample / rate, duration = length / rate, text = "Type/Description";
 * - a trigger channel (`Status`, `Trigger` or `STI 014`) is also decoded into
 *   `trigger_events` {onset_s, sample, value}: the low 16 bits, reported where they change
 *   to a non-zero value, as mne.find_events does on a BDF Status channel.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "info.h"
#include "xai/biosig.h"
#include "xai/brainvision.h"
#include "xai/edf.h"

#define CHUNK 65536

static double scale_to_si(const char *unit)
{
    if (strcmp(unit, "uV") == 0 || strcmp(unit, "\xC2\xB5V") == 0 ||
        strcmp(unit, "\xCE\xBCV") == 0 || strcmp(unit, "microV") == 0)
        return 1e-6;
    if (strcmp(unit, "mV") == 0)
        return 1e-3;
    if (strcmp(unit, "nV") == 0)
        return 1e-9;
    return 1.0;
}

static json_t *channel_json(const char *label, const char *unit, double rate, long long samples)
{
    json_t *c = json_object();
    json_object_set_new(c, "label", info_str(label));
    json_object_set_new(c, "unit", info_str(unit));
    json_object_set_new(c, "sample_rate", info_real(rate));
    json_object_set_new(c, "samples", json_integer(samples));
    return c;
}

static json_t *annotations_json(const xai_edf_annotation *a, size_t na);

/* the description on success; on failure nothing (the status says why) */
static xai_status hand_over(json_t *o, xai_status st, json_t **out)
{
    if (st != XAI_OK) {
        json_decref(o);
        return st;
    }
    *out = o;
    return XAI_OK;
}

/* what EDF and BioSig channels carry beyond label, unit, rate and length */
static void edf_channel_fields(json_t *cj, const xai_edf_channel *c)
{
    json_object_set_new(cj, "scale_to_si", json_real(scale_to_si(c->unit)));
    json_object_set_new(cj, "phys_min", info_real(c->phys_min));
    json_object_set_new(cj, "phys_max", info_real(c->phys_max));
    json_object_set_new(cj, "dig_min", json_integer(c->dig_min));
    json_object_set_new(cj, "dig_max", json_integer(c->dig_max));
    json_object_set_new(cj, "transducer", info_str(c->transducer));
    json_object_set_new(cj, "prefilter", info_str(c->prefilter));
}

/* the recording's start as ISO 8601 local date and time (EDF and GDF keep no time zone) */
static json_t *start_json(int year, int month, int day, int hour, int minute, int second)
{
    char start[64];
    snprintf(start, sizeof start, "%04d-%02d-%02dT%02d:%02d:%02d", year, month, day, hour, minute, second);
    return json_string(start);
}

xai_status info_describe_edf(const char *path, json_t **out)
{
    xai_edf *h = NULL;
    xai_status st = xai_edf_open(path, &h);
    if (st != XAI_OK)
        return st;
    const xai_edf_info *in = xai_edf_get_info(h);
    static const char *const names[] = {"edf", "edf+", "bdf", "bdf+"};
    json_t *o = json_object();
    json_object_set_new(o, "format", json_string(names[in->filetype & 3]));
    json_object_set_new(o, "reader", json_string("EDFlib"));
    json_object_set_new(o, "file", info_str(path));
    json_object_set_new(o, "discontinuous", json_boolean(in->discontinuous));
    json_object_set_new(o, "start", start_json(in->start_year, in->start_month, in->start_day, in->start_hour,
                                               in->start_minute, in->start_second));
    json_object_set_new(o, "start_subsecond_s", info_real(in->start_subsecond));
    json_object_set_new(o, "patient", info_str(in->patient));
    json_object_set_new(o, "recording", info_str(in->recording));
    json_object_set_new(o, "n_records", json_integer(in->n_records));
    json_object_set_new(o, "record_duration_s", info_real(in->record_duration_s));
    json_object_set_new(o, "duration_s", info_real(in->duration_s));
    json_object_set_new(o, "n_channels", json_integer(in->n_channels));

    float *buf = malloc(CHUNK * sizeof *buf);
    json_t *chans = json_array();
    double max_rate = 0;
    if (!buf)
        st = xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    for (int i = 0; st == XAI_OK && i < in->n_channels; i++) {
        const xai_edf_channel *c = xai_edf_get_channel(h, i);
        json_t *cj = channel_json(c->label, c->unit, c->sample_rate, (long long)c->samples);
        info_stats s;
        info_stats_init(&s);
        for (int64_t at = 0; at < c->samples && st == XAI_OK; at += CHUNK) {
            int64_t n = c->samples - at < CHUNK ? c->samples - at : CHUNK;
            st = xai_edf_read_channel(h, i, at, n, buf);
            if (st == XAI_OK)
                info_stats_add(&s, buf, (size_t)n);
        }
        info_stats_put(&s, cj);
        edf_channel_fields(cj, c);
        json_array_append_new(chans, cj);
        if (c->sample_rate > max_rate)
            max_rate = c->sample_rate;
    }
    free(buf);
    json_object_set_new(o, "sample_rate", info_real(max_rate));
    json_object_set_new(o, "channels", chans);

    size_t na = 0;
    const xai_edf_annotation *a = xai_edf_get_annotations(h, &na);
    json_object_set_new(o, "annotations", annotations_json(a, na));
    if (st == XAI_OK && (xai_edf_find_channel(h, "Status") >= 0 || xai_edf_find_channel(h, "Trigger") >= 0 ||
                         xai_edf_find_channel(h, "STI 014") >= 0)) {
        /* trigger channel: events where the low 16 bits change to a non-zero value */
        xai_edf_event *ev = NULL;
        size_t nev = 0;
        st = xai_edf_read_events(h, -1, &ev, &nev);
        json_t *evj = json_array();
        for (size_t i = 0; st == XAI_OK && i < nev; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "onset_s", info_real(ev[i].onset_s));
            json_object_set_new(e, "sample", json_integer(ev[i].sample));
            json_object_set_new(e, "value", json_integer(ev[i].value));
            json_array_append_new(evj, e);
        }
        free(ev);
        json_object_set_new(o, "trigger_events", evj);
    }
    xai_edf_close(h);
    return hand_over(o, st, out);
}

/* The header that belongs to a .vmrk or .eeg given on the command line. */
static char *vhdr_path(const char *path)
{
    size_t n = strlen(path);
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash) || strcasecmp(dot, ".vhdr") == 0) {
        char *p = malloc(n + 1);
        if (p)
            memcpy(p, path, n + 1);
        return p;
    }
    size_t stem = (size_t)(dot - path);
    char *p = malloc(stem + 6);
    if (p) {
        memcpy(p, path, stem);
        memcpy(p + stem, ".vhdr", 6);
    }
    return p;
}

xai_status info_describe_brainvision(const char *path, json_t **out)
{
    char *hdr = vhdr_path(path);
    if (!hdr)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    xai_brainvision *bv = NULL;
    xai_status st = xai_brainvision_open(hdr, &bv);
    if (st != XAI_OK) {
        free(hdr);
        return st;
    }
    json_t *o = json_object();
    json_object_set_new(o, "format", json_string("brainvision"));
    json_object_set_new(o, "reader", json_string("libxai"));
    json_object_set_new(o, "file", info_str(hdr));
    static const char *const fmts[] = {"INT_16", "UINT_16", "INT_32", "IEEE_FLOAT_32"};
    json_object_set_new(o, "binary_format", json_string(fmts[bv->format & 3]));
    json_object_set_new(o, "orientation", json_string(bv->vectorized ? "VECTORIZED" : "MULTIPLEXED"));
    json_object_set_new(o, "sample_rate", info_real(bv->sample_rate));
    json_object_set_new(o, "duration_s", info_real((double)bv->n_samples / bv->sample_rate));
    json_object_set_new(o, "n_channels", json_integer(bv->n_channels));
    json_t *chans = json_array();
    for (int i = 0; i < bv->n_channels; i++) {
        const xai_bv_channel *c = &bv->channels[i];
        json_t *cj = channel_json(c->label, c->unit, bv->sample_rate, (long long)bv->n_samples);
        info_stats s;
        info_stats_init(&s);
        info_stats_add(&s, bv->data + (size_t)i * (size_t)bv->n_samples, (size_t)bv->n_samples);
        info_stats_put(&s, cj);
        json_object_set_new(cj, "scale_to_si", json_real(scale_to_si(c->unit)));
        json_object_set_new(cj, "resolution", info_real(c->resolution));
        json_object_set_new(cj, "reference", info_str(c->reference));
        json_array_append_new(chans, cj);
    }
    json_object_set_new(o, "channels", chans);
    json_t *anns = json_array();
    for (size_t i = 0; i < bv->n_markers; i++) {
        const xai_bv_marker *m = &bv->markers[i];
        size_t tl = strlen(m->type) + strlen(m->description) + 2;
        char *text = malloc(tl);
        if (!text) {
            st = xai_error_set(XAI_ENOMEM, "%s: out of memory", hdr);
            break;
        }
        snprintf(text, tl, "%s/%s", m->type, m->description);
        json_t *aj = json_object();
        json_object_set_new(aj, "onset_s", info_real((double)m->sample / bv->sample_rate));
        json_object_set_new(aj, "duration_s", info_real((double)m->length / bv->sample_rate));
        json_object_set_new(aj, "text", info_str(text));
        json_object_set_new(aj, "channel", json_integer(m->channel));
        free(text);
        json_array_append_new(anns, aj);
    }
    json_object_set_new(o, "annotations", anns);
    xai_brainvision_close(bv);
    free(hdr);
    return hand_over(o, st, out);
}

static json_t *annotations_json(const xai_edf_annotation *a, size_t na)
{
    json_t *anns = json_array();
    for (size_t i = 0; i < na; i++) {
        json_t *aj = json_object();
        json_object_set_new(aj, "onset_s", info_real(a[i].onset_s));
        json_object_set_new(aj, "duration_s", info_real(a[i].duration_s < 0 ? 0 : a[i].duration_s));
        json_object_set_new(aj, "text", info_str(a[i].text ? a[i].text : ""));
        json_array_append_new(anns, aj);
    }
    return anns;
}

/* GDF, BCI2000, CNT, EGI: the same fields as EDF where the format has them; the format
 * name is BioSig's in lower case ("gdf", "bci2000", "cnt", ...). */
xai_status info_describe_biosig(const char *path, json_t **out)
{
    xai_biosig *h = NULL;
    xai_status st = xai_biosig_open(path, &h);
    if (st != XAI_OK)
        return st;
    const xai_biosig_info *in = xai_biosig_get_info(h);
    char fmt[sizeof in->format];
    for (size_t i = 0; i < sizeof fmt; i++)
        fmt[i] = (char)tolower((unsigned char)in->format[i]);
    json_t *o = json_object();
    json_object_set_new(o, "format", json_string(fmt));
    json_object_set_new(o, "reader", json_string("BioSig"));
    json_object_set_new(o, "file", info_str(path));
    json_object_set_new(o, "version", info_real(in->version));
    json_object_set_new(o, "start", start_json(in->start_year, in->start_month, in->start_day, in->start_hour,
                                               in->start_minute, in->start_second));
    json_object_set_new(o, "duration_s", info_real(in->duration_s));
    json_object_set_new(o, "sample_rate", info_real(in->sample_rate));
    json_object_set_new(o, "n_channels", json_integer(in->n_channels));
    json_t *chans = json_array();
    for (int i = 0; st == XAI_OK && i < in->n_channels; i++) {
        const xai_edf_channel *c = xai_biosig_get_channel(h, i);
        json_t *cj = channel_json(c->label, c->unit, c->sample_rate, (long long)c->samples);
        float *m = NULL;
        int64_t n = 0;
        st = xai_biosig_read_matrix(h, &i, 1, &m, &n, NULL);
        info_stats s;
        info_stats_init(&s);
        if (st == XAI_OK)
            info_stats_add(&s, m, (size_t)n);
        free(m);
        info_stats_put(&s, cj);
        edf_channel_fields(cj, c);
        json_array_append_new(chans, cj);
    }
    json_object_set_new(o, "channels", chans);
    size_t na = 0;
    const xai_edf_annotation *a = xai_biosig_get_annotations(h, &na);
    json_object_set_new(o, "annotations", annotations_json(a, na));
    xai_biosig_close(h);
    return hand_over(o, st, out);
}
