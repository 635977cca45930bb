/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * describe-media.c - xai-info for audio (libsndfile via xai_audio), C3D, OpenSim TRC and MOT.
 * Audio fields follow python-soundfile's sf.info(): `sample_rate` (samplerate), `channels`,
 * `frames` (as the header declares them; decoded and counted when undeclared),
 * `duration_s` = frames / sample_rate, `container` (sf format: "WAV", "FLAC") and
 * `subformat` (sf subtype: "PCM_16", "FLOAT", "ULAW").
 * C3D: rates, frame count, labels with subject prefixes stripped, and events (header events
 * first, then the EVENT group; times in seconds as stored: minutes * 60 + seconds).
 */
#include <math.h>
#include <string.h>

#include "info.h"
#include "xai/audio.h"
#include "xai/c3d.h"
#include "xai/opensim.h"

static json_t *str_array(char *const *s, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, info_str(s ? s[i] : ""));
    return a;
}

xai_status info_describe_audio(const char *path, json_t **out)
{
    xai_audio_file *f = NULL;
    xai_status st = xai_audio_open(path, &f);
    if (st != XAI_OK)
        return st;
    xai_audio_info in = *xai_audio_file_info(f);
    if (in.frames < 0) {
        /* not declared (some streams): decode and count */
        xai_audio a;
        memset(&a, 0, sizeof a);
        st = xai_audio_read(f, &a);
        if (st == XAI_OK) {
            in.frames = a.info.frames;
            in.duration_s = (double)in.frames / in.sample_rate;
        }
        xai_audio_free(&a);
    }
    xai_audio_close(f);
    if (st != XAI_OK)
        return st;
    json_t *o = json_object();
    json_object_set_new(o, "format", json_string("audio"));
    json_object_set_new(o, "file", info_str(path));
    json_object_set_new(o, "container", info_str(in.format));
    json_object_set_new(o, "subformat", info_str(in.subformat));
    json_object_set_new(o, "sample_rate", json_integer(in.sample_rate));
    json_object_set_new(o, "channels", json_integer(in.channels));
    json_object_set_new(o, "frames", json_integer(in.frames));
    json_object_set_new(o, "duration_s", info_real(in.duration_s));
    *out = o;
    return XAI_OK;
}

xai_status info_describe_c3d(const char *path, json_t **out)
{
    xai_c3d *c = NULL;
    xai_status st = xai_c3d_open(path, &c);
    if (st != XAI_OK)
        return st;
    json_t *o = json_object();
    json_object_set_new(o, "format", json_string("c3d"));
    json_object_set_new(o, "file", info_str(path));
    const char *proc = c->processor == XAI_C3D_DEC ? "dec" : c->processor == XAI_C3D_MIPS ? "mips" : "intel";
    json_object_set_new(o, "processor", json_string(proc));
    json_object_set_new(o, "storage", json_string(c->float_storage ? "float" : "int16"));
    json_object_set_new(o, "point_rate", info_real(c->point_rate));
    json_object_set_new(o, "analog_rate", info_real(c->analog_rate));
    json_object_set_new(o, "frames", json_integer(c->frames));
    json_object_set_new(o, "first_frame", json_integer(c->first_frame));
    json_object_set_new(o, "last_frame", json_integer(c->first_frame + c->frames - 1));
    json_object_set_new(o, "duration_s", info_real((double)c->frames / c->point_rate));
    json_object_set_new(o, "analog_per_frame", json_integer(c->analog_per_frame));
    json_object_set_new(o, "subject", info_str(c->subject));
    json_object_set_new(o, "point_units", info_str(c->point_units));
    json_object_set_new(o, "points", str_array(c->point_labels, c->npoints));
    json_object_set_new(o, "analog", str_array(c->analog_labels, c->nanalog));
    json_object_set_new(o, "analog_units", str_array(c->analog_units, c->nanalog));
    json_t *ev = json_array();
    for (int i = 0; i < c->nevents; i++) {
        const xai_c3d_event *e = &c->events[i];
        json_t *ej = json_object();
        json_object_set_new(ej, "label", info_str(e->label));
        json_object_set_new(ej, "context", info_str(e->context));
        json_object_set_new(ej, "time_s", info_real(e->time_s));
        json_object_set_new(ej, "description", info_str(e->description));
        json_object_set_new(ej, "source", json_string(e->source == XAI_C3D_EVENT_HEADER ? "header" : "EVENT"));
        json_array_append_new(ev, ej);
    }
    json_object_set_new(o, "events", ev);
    xai_c3d_close(c);
    *out = o;
    return XAI_OK;
}

xai_status info_describe_trc(const char *path, json_t **out)
{
    xai_trc *t = NULL;
    xai_status st = xai_trc_open(path, &t);
    if (st != XAI_OK)
        return st;
    json_t *o = json_object();
    json_object_set_new(o, "format", json_string("trc"));
    json_object_set_new(o, "file", info_str(path));
    json_object_set_new(o, "data_rate", info_real(t->data_rate));
    json_object_set_new(o, "camera_rate", info_real(t->camera_rate));
    json_object_set_new(o, "frames", json_integer(t->frames));
    json_object_set_new(o, "units", info_str(t->units));
    json_object_set_new(o, "time_start_s", t->frames > 0 ? info_real(t->time[0]) : json_null());
    json_object_set_new(o, "time_end_s", t->frames > 0 ? info_real(t->time[t->frames - 1]) : json_null());
    json_object_set_new(o, "markers", str_array(t->markers, t->nmarkers));
    xai_trc_close(t);
    *out = o;
    return XAI_OK;
}

xai_status info_describe_mot(const char *path, json_t **out)
{
    xai_mot *m = NULL;
    xai_status st = xai_mot_open(path, &m);
    if (st != XAI_OK)
        return st;
    json_t *o = json_object();
    json_object_set_new(o, "format", json_string("mot"));
    json_object_set_new(o, "file", info_str(path));
    json_object_set_new(o, "name", info_str(m->name));
    json_object_set_new(o, "rows", json_integer(m->rows));
    json_object_set_new(o, "in_degrees", m->in_degrees < 0 ? json_null() : json_boolean(m->in_degrees));
    json_object_set_new(o, "time_start_s", m->time && m->rows > 0 ? info_real(m->time[0]) : json_null());
    json_object_set_new(o, "time_end_s", m->time && m->rows > 0 ? info_real(m->time[m->rows - 1]) : json_null());
    json_object_set_new(o, "columns", str_array(m->labels, m->ncolumns));
    json_t *hdr = json_object();
    for (int i = 0; i < m->nkeys; i++)
        json_object_set_new(hdr, m->keys[i], info_str(m->values[i]));
    json_object_set_new(o, "header", hdr);
    xai_mot_close(m);
    *out = o;
    return XAI_OK;
}
