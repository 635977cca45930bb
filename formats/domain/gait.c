/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gait.c - the gait domain (xai/domain-gait.h): the pre-processing record, gait-cycle
 * extraction from C3D trials with per-trial offsets, and the model inputs. Cycles follow
 * pyCGM2 (Processing/cycle.py): one per pair of consecutive same-context Foot Strike events,
 * time-normalised to 101 points (xai_c3d_gait_cycles / xai_c3d_cycle_points).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <jansson.h>

#include "xai/domain-gait.h"

const char *const xai_gait_component_names[3] = {"sagittal", "frontal", "transverse"};

/* ------------------------------------------------------------------ preprocessing record */

xai_status xai_gait_pre_set_variables(xai_gait_pre *p, const char *list)
{
    char err[512];
    const size_t errlen = sizeof err;
    for (int i = 0; i < p->nvars; i++)
        free(p->vars[i]);
    p->nvars = 0;
    char *dup = strdup(list), *save = NULL;
    if (!dup)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (p->nvars == XAI_GAIT_MAX_VARS) {
            snprintf(err, errlen, "at most %d variables", XAI_GAIT_MAX_VARS);
            free(dup);
            return xai_error_set(XAI_EINVAL, "%s", err);
        }
        for (int i = 0; i < p->nvars; i++)
            if (!strcmp(p->vars[i], t)) {
                snprintf(err, errlen, "variable '%s' given twice", t);
                free(dup);
                return xai_error_set(XAI_EINVAL, "%s", err);
            }
        p->vars[p->nvars++] = strdup(t);
    }
    free(dup);
    if (p->nvars == 0) {
        snprintf(err, errlen, "no variables in '%s'", list);
        return xai_error_set(XAI_EINVAL, "%s", err);
    }
    return XAI_OK;
}

xai_status xai_gait_pre_set_components(xai_gait_pre *p, const char *list)
{
    char err[512];
    const size_t errlen = sizeof err;
    static const char *const alias[3] = {"x", "y", "z"};
    char *dup = strdup(list), *save = NULL;
    p->ncomps = 0;
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int k = -1;
        for (int c = 0; c < 3; c++)
            if (!strcasecmp(t, xai_gait_component_names[c]) || !strcasecmp(t, alias[c]) || (t[0] == '0' + c && !t[1]))
                k = c;
        for (int i = 0; k >= 0 && i < p->ncomps; i++)
            if (p->comps[i] == k)
                k = -2;
        if (k < 0 || p->ncomps == 3) {
            snprintf(err, errlen, "component '%s': expected sagittal, frontal, transverse (x, y, z), each once", t);
            free(dup);
            return xai_error_set(XAI_EINVAL, "%s", err);
        }
        p->comps[p->ncomps++] = k;
    }
    free(dup);
    if (p->ncomps == 0) {
        snprintf(err, errlen, "no components in '%s'", list);
        return xai_error_set(XAI_EINVAL, "%s", err);
    }
    return XAI_OK;
}

void xai_gait_pre_free(xai_gait_pre *p)
{
    for (int i = 0; i < p->nvars; i++)
        free(p->vars[i]);
    free(p->mean);
    free(p->sd);
    memset(p, 0, sizeof *p);
}

int xai_gait_pre_channels(const xai_gait_pre *p)
{
    return p->nvars * p->ncomps;
}

int xai_gait_pre_inputs(const xai_gait_pre *p)
{
    return xai_gait_pre_channels(p) * (p->paired ? 2 : 1);
}

static json_t *pre_json(const xai_gait_pre *p)
{
    json_t *o = json_object(), *v = json_array(), *c = json_array();
    json_object_set_new(o, "tool", json_string("xai-gait"));
    json_object_set_new(o, "cycle", json_string("Foot Strike to the next same-side Foot Strike (pyCGM2)"));
    json_object_set_new(o, "points", json_integer(XAI_GAIT_NPTS));
    json_object_set_new(o, "layout", json_string("[variables x components][101 points], variable-major"));
    json_object_set_new(o, "side_rule", json_string("a variable without an L/R prefix is taken from the cycle's side"));
    for (int i = 0; i < p->nvars; i++)
        json_array_append_new(v, json_string(p->vars[i]));
    for (int i = 0; i < p->ncomps; i++)
        json_array_append_new(c, json_string(xai_gait_component_names[p->comps[i]]));
    json_object_set_new(o, "variables", v);
    json_object_set_new(o, "components", c);
    json_object_set_new(o, "sides", json_string(p->paired ? "paired" : "each"));
    json_object_set_new(o, "offset", json_string(p->offset ? "trial_mean" : "none"));
    json_object_set_new(o, "events", json_string(xai_gait_events_names[p->events]));
    json_t *nm = json_object();
    if (p->have_norm) {
        json_t *m = json_array(), *s = json_array();
        for (int i = 0; i < xai_gait_pre_inputs(p) * XAI_GAIT_NPTS; i++)
            json_array_append_new(m, json_real(p->mean[i]));
        for (int i = 0; i < xai_gait_pre_inputs(p); i++)
            json_array_append_new(s, json_real(p->sd[i]));
        json_object_set_new(nm, "type", json_string("(x - mean[channel][point]) / sd[channel], from the training "
                                                    "cycles"));
        json_object_set_new(nm, "mean", m);
        json_object_set_new(nm, "sd", s);
    } else {
        json_object_set_new(nm, "type", json_string("none"));
    }
    json_object_set_new(o, "normalisation", nm);
    return o;
}

char *xai_gait_pre_to_json(const xai_gait_pre *p)
{
    json_t *o = pre_json(p);
    char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return t;
}

/* The variables and components of a preprocessing record; -1 with @p err set when one is bad. */
static int pre_selection_from_json(xai_gait_pre *p, json_t *v, json_t *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < json_array_size(v); i++) {
        const char *s = json_string_value(json_array_get(v, i));
        if (!s) {
            snprintf(err, errlen, "preprocessing record: variable %zu is not a string", i);
            return -1;
        }
        p->vars[p->nvars++] = strdup(s);
    }
    for (size_t i = 0; i < json_array_size(c); i++) {
        const char *s = json_string_value(json_array_get(c, i));
        int k = -1;
        for (int j = 0; s && j < 3; j++)
            if (!strcmp(s, xai_gait_component_names[j]))
                k = j;
        if (k < 0) {
            snprintf(err, errlen, "preprocessing record: unknown component %s", s ? s : "(not a string)");
            return -1;
        }
        p->comps[p->ncomps++] = k;
    }
    return 0;
}

/* The z-score statistics of a preprocessing record, when it has them; -1 with @p err set when
 * they do not fit the selection. */
static int pre_norm_from_json(xai_gait_pre *p, json_t *nm, char *err, size_t errlen)
{
    json_t *m = json_object_get(nm, "mean"), *s = json_object_get(nm, "sd");
    if (!m && !s)
        return 0;
    size_t nch = (size_t)xai_gait_pre_inputs(p);
    if (json_array_size(m) != nch * XAI_GAIT_NPTS || json_array_size(s) != nch) {
        snprintf(err, errlen, "preprocessing record: normalisation has %zu/%zu values for %zu channels x 101",
                 json_array_size(m), json_array_size(s), nch);
        return -1;
    }
    p->mean = malloc(nch * XAI_GAIT_NPTS * sizeof(float));
    p->sd = malloc(nch * sizeof(float));
    for (size_t i = 0; i < nch * XAI_GAIT_NPTS; i++)
        p->mean[i] = (float)json_number_value(json_array_get(m, i));
    for (size_t i = 0; i < nch; i++) {
        p->sd[i] = (float)json_number_value(json_array_get(s, i));
        if (!(p->sd[i] > 0)) {
            snprintf(err, errlen, "preprocessing record: normalisation sd[%zu] is not positive", i);
            return -1;
        }
    }
    p->have_norm = 1;
    return 0;
}

xai_status xai_gait_pre_from_json(xai_gait_pre *p, const char *text)
{
    char err[512];
    const size_t errlen = sizeof err;
    memset(p, 0, sizeof *p);
    json_error_t je;
    json_t *o = text ? json_loads(text, 0, &je) : NULL;
    const char *tool = o ? json_string_value(json_object_get(o, "tool")) : NULL;
    json_t *v = o ? json_object_get(o, "variables") : NULL, *c = o ? json_object_get(o, "components") : NULL;
    json_t *pts = o ? json_object_get(o, "points") : NULL;
    if (!o || !tool || strcmp(tool, "xai-gait") || !json_is_array(v) || !json_is_array(c) ||
        json_integer_value(pts) != XAI_GAIT_NPTS || json_array_size(v) == 0 || json_array_size(v) > XAI_GAIT_MAX_VARS ||
        json_array_size(c) == 0 || json_array_size(c) > 3) {
        snprintf(err, errlen, "no valid xai-gait preprocessing record (train the model with 'xai-gait train')");
        json_decref(o);
        return xai_error_set(XAI_EINVAL, "%s", err);
    }
    if (pre_selection_from_json(p, v, c, err, errlen))
        goto fail;
    /* records written before sides/offset existed mean one cycle, no offset removal */
    const char *sides = json_string_value(json_object_get(o, "sides"));
    const char *off = json_string_value(json_object_get(o, "offset"));
    if ((sides && strcmp(sides, "paired") && strcmp(sides, "each")) ||
        (off && strcmp(off, "trial_mean") && strcmp(off, "none"))) {
        snprintf(err, errlen, "preprocessing record: unknown sides '%s' or offset '%s'", sides ? sides : "",
                 off ? off : "");
        goto fail;
    }
    p->paired = sides && !strcmp(sides, "paired");
    p->offset = off && !strcmp(off, "trial_mean");
    /* records written before event recovery existed used the file's events */
    const char *ev = json_string_value(json_object_get(o, "events"));
    p->events = ev ? xai_gait_events_parse(ev) : XAI_GAIT_EVENTS_FILE;
    if (p->events < 0) {
        snprintf(err, errlen, "preprocessing record: unknown events '%s'", ev);
        goto fail;
    }
    if (pre_norm_from_json(p, json_object_get(o, "normalisation"), err, errlen))
        goto fail;
    json_decref(o);
    return XAI_OK;
fail:
    json_decref(o);
    xai_gait_pre_free(p);
    return xai_error_set(XAI_EINVAL, "%s", err);
}

int xai_gait_pre_same_selection(const xai_gait_pre *a, const xai_gait_pre *b)
{
    if (a->nvars != b->nvars || a->ncomps != b->ncomps || a->paired != b->paired || a->offset != b->offset)
        return 0;
    for (int i = 0; i < a->nvars; i++)
        if (strcmp(a->vars[i], b->vars[i]))
            return 0;
    for (int i = 0; i < a->ncomps; i++)
        if (a->comps[i] != b->comps[i])
            return 0;
    return 1;
}

static int has_side_prefix(const char *v)
{
    return (v[0] == 'L' || v[0] == 'R') && isupper((unsigned char)v[1]);
}

void xai_gait_var_label(const xai_gait_pre *p, int v, const char *side, char *buf, size_t len)
{
    const char *name = p->vars[v];
    if (has_side_prefix(name) || !side || (side[0] != 'L' && side[0] != 'R'))
        snprintf(buf, len, "%s", name);
    else
        snprintf(buf, len, "%c%s", side[0], name);
}

/* ------------------------------------------------------------------ cycles */

void xai_gait_cycles_free(xai_gait_cycles *c)
{
    free(c->x);
    free(c->trial);
    free(c->side);
    free(c->cycle);
    free(c->foot_off);
    free(c->start_s);
    free(c->end_s);
    free(c->offset);
    memset(c, 0, sizeof *c);
}

static int cycles_reserve(xai_gait_cycles *c, int64_t need)
{
    if (need <= c->cap)
        return 0;
    int64_t nc = c->cap ? c->cap * 2 : 256;
    while (nc < need)
        nc *= 2;
    float *x = realloc(c->x, (size_t)nc * (size_t)c->nch * XAI_GAIT_NPTS * sizeof(float));
    if (!x)
        return -1;
    c->x = x;
    int *t = realloc(c->trial, (size_t)nc * sizeof(int));
    if (!t)
        return -1;
    c->trial = t;
    char(*s)[8] = realloc(c->side, (size_t)nc * sizeof *s);
    if (!s)
        return -1;
    c->side = s;
    int *k = realloc(c->cycle, (size_t)nc * sizeof(int));
    if (!k)
        return -1;
    c->cycle = k;
    double *f = realloc(c->foot_off, (size_t)nc * sizeof(double));
    if (!f)
        return -1;
    c->foot_off = f;
    double *t0 = realloc(c->start_s, (size_t)nc * sizeof(double));
    if (!t0)
        return -1;
    c->start_s = t0;
    double *t1 = realloc(c->end_s, (size_t)nc * sizeof(double));
    if (!t1)
        return -1;
    c->end_s = t1;
    float *o = realloc(c->offset, (size_t)nc * (size_t)c->nch * sizeof(float));
    if (!o)
        return -1;
    c->offset = o;
    c->cap = nc;
    return 0;
}

/* Each channel's mean over all points of the trial's cycles of one side: the constant that
 * marker placement adds to a whole trial (offsets of several degrees between sessions are
 * common in Plug-in Gait; McGinley et al., Gait Posture 2009, doi:10.1016/j.gaitpost.2008.09.003). */
static void trial_offsets(xai_gait_cycles *cy, int64_t from)
{
    int nch = cy->nch;
    for (int side = 0; side < 2; side++)
        for (int ch = 0; ch < nch; ch++) {
            double s = 0;
            int64_t k = 0;
            for (int64_t i = from; i < cy->n; i++)
                if ((cy->side[i][0] == 'R') == side) {
                    const float *x = cy->x + ((size_t)i * (size_t)nch + (size_t)ch) * XAI_GAIT_NPTS;
                    for (int t = 0; t < XAI_GAIT_NPTS; t++)
                        s += x[t];
                    k += XAI_GAIT_NPTS;
                }
            for (int64_t i = from; i < cy->n; i++)
                if ((cy->side[i][0] == 'R') == side)
                    cy->offset[(size_t)i * (size_t)nch + (size_t)ch] = (float)(k ? s / (double)k : 0);
        }
}

/* Name every requested variable the trial lacks and list the angle outputs it has, so a
 * default list that does not fit the lab's model (no FootProgressAngles) is fixed at once. */
static void missing_message(const xai_gait_pre *p, const xai_c3d *c, const char *side, char *err, size_t errlen)
{
    size_t n = (size_t)snprintf(err, errlen, "missing variable(s)");
    for (int v = 0; v < p->nvars && n < errlen; v++) {
        char label[128];
        xai_gait_var_label(p, v, side, label, sizeof label);
        if (xai_c3d_point_index(c, label) < 0)
            n += (size_t)snprintf(err + n, errlen - n, " %s", label);
    }
    if (n < errlen)
        n += (size_t)snprintf(err + n, errlen - n, "; the file has");
    int listed = 0;
    for (int i = 0; i < c->npoints && n < errlen; i++) {
        const char *l = c->point_labels[i];
        size_t ln = strlen(l);
        if (ln > 6 && !strcmp(l + ln - 6, "Angles"))
            n += (size_t)snprintf(err + n, errlen - n, "%s %s", listed++ ? "," : "", l);
    }
    if (!listed && n < errlen)
        snprintf(err + n, errlen - n, " no angle outputs (%d points); choose with --variables", c->npoints);
    else if (n < errlen)
        snprintf(err + n, errlen - n, "; choose with --variables");
}

/* Median stride time of each side's cycles (0 with fewer than three: too few to tell). */
static void median_strides(const xai_c3d_cycle *cycles, int ncyc, double med[2])
{
    for (int side = 0; side < 2; side++) {
        double *d = malloc((size_t)(ncyc ? ncyc : 1) * sizeof *d);
        int n = 0;
        for (int k = 0; d && k < ncyc; k++)
            if (!strcasecmp(cycles[k].context, side ? "Right" : "Left"))
                d[n++] = cycles[k].end_s - cycles[k].start_s;
        if (n >= 3)
            gsl_sort(d, 1, (size_t)n);
        med[side] = n >= 3 ? gsl_stats_median_from_sorted_data(d, 1, (size_t)n) : 0;
        free(d);
    }
}

/* A stride far from the side's median: a missed or spurious Foot Strike (XAI_GAIT_STRIDE_*). */
static int irregular_stride(const xai_c3d_cycle *cc, double median)
{
    double d = cc->end_s - cc->start_s;
    return median > 0 && (d < XAI_GAIT_STRIDE_LO * median || d > XAI_GAIT_STRIDE_HI * median);
}

/* Whether any selected component of the cycle's points (buf: variables x 3 x 101) is a gap. */
static int cycle_has_gap(const xai_gait_pre *p, const float *buf)
{
    for (int v = 0; v < p->nvars; v++)
        for (int j = 0; j < p->ncomps; j++)
            for (int t = 0; t < XAI_GAIT_NPTS; t++)
                if (!isfinite(buf[((size_t)v * 3 + (size_t)p->comps[j]) * XAI_GAIT_NPTS + (size_t)t]))
                    return 1;
    return 0;
}

/* Appends the selected components of one cycle (buf: variables x 3 x 101) and its bookkeeping. */
static int append_cycle(const xai_gait_pre *p, xai_gait_cycles *cy, const float *buf, const xai_c3d_cycle *cc,
                        int trial_index, int right, int number)
{
    if (cycles_reserve(cy, cy->n + 1) != 0)
        return -1;
    float *dst = cy->x + (size_t)cy->n * (size_t)cy->nch * XAI_GAIT_NPTS;
    for (int v = 0; v < p->nvars; v++)
        for (int j = 0; j < p->ncomps; j++)
            memcpy(dst + ((size_t)v * (size_t)p->ncomps + (size_t)j) * XAI_GAIT_NPTS,
                   buf + ((size_t)v * 3 + (size_t)p->comps[j]) * XAI_GAIT_NPTS, XAI_GAIT_NPTS * sizeof(float));
    cy->trial[cy->n] = trial_index;
    snprintf(cy->side[cy->n], sizeof cy->side[0], "%s", right ? "Right" : "Left");
    cy->cycle[cy->n] = number;
    cy->foot_off[cy->n] = cc->foot_off_pct;
    cy->start_s[cy->n] = cc->start_s;
    cy->end_s[cy->n] = cc->end_s;
    cy->n++;
    return 0;
}

/* The recovered Foot Strikes of a trial, for the caller to report. */
static void recovered_note(const xai_c3d *c, xai_gait_cycles *cy)
{
    size_t n = 0, cap = sizeof cy->last_note;
    cy->last_recovered = 0;
    cy->last_note[0] = 0;
    for (int e = 0; e < c->nevents; e++) {
        if (!xai_gait_event_recovered(&c->events[e]) || strcasecmp(c->events[e].label, "Foot Strike"))
            continue;
        cy->last_recovered++;
        if (n + 40 < cap)
            n += (size_t)snprintf(cy->last_note + n, cap - n, "%s%s %.3f s", n ? ", " : "", c->events[e].context,
                                  c->events[e].time_s);
        else if (n + 4 < cap && strcmp(cy->last_note + n - 3, "..."))
            n += (size_t)snprintf(cy->last_note + n, cap - n, "...");
    }
}

/* Why a trial gave no cycle: no strikes to pair, strides off the median, or gaps. */
static void no_cycle_message(int ncyc, const int nstrike[2], int irregular, char *err, size_t errlen)
{
    if (ncyc == 0)
        snprintf(err, errlen, "no complete gait cycle (%d Left and %d Right 'Foot Strike' events; a cycle "
                 "needs two same-side strikes inside the recording)", nstrike[0], nstrike[1]);
    else if (irregular)
        snprintf(err, errlen, "no usable gait cycle: %d of %d have a stride time off their side's median (a "
                 "missed or spurious Foot Strike), the rest gaps", irregular, ncyc);
    else
        snprintf(err, errlen, "all %d gait cycles have gaps (missing samples) in the selected variables", ncyc);
}

xai_status xai_gait_extract(const xai_gait_pre *p, const char *path, int trial_index, xai_gait_cycles *cy, int *gaps)
{
    char err[1024];
    const size_t errlen = sizeof err;
    xai_status st = XAI_EINVAL;
    xai_c3d *c = NULL;
    if ((st = xai_c3d_open(path, &c)) != XAI_OK)
        return st;
    st = XAI_EINVAL;
    cy->nch = xai_gait_pre_channels(p);
    cy->last_recovered = 0;
    cy->last_note[0] = 0;
    xai_c3d_cycle *cycles = NULL;
    int ncyc = 0, rc = -1, nstrike[2] = {0, 0}, nrec = 0;
    xai_status es = xai_gait_recover_events(c, p->events, &nrec);
    if (es != XAI_OK) {
        st = es;
        snprintf(err, errlen, "%s", xai_last_error());
        goto done;
    }
    if (xai_c3d_gait_cycles(c, NULL, &cycles, &ncyc) != XAI_OK) {
        snprintf(err, errlen, "%s", xai_last_error());
        goto done;
    }
    for (int e = 0; e < c->nevents; e++)
        if (!strcasecmp(c->events[e].label, "Foot Strike"))
            nstrike[!strcasecmp(c->events[e].context, "Right")]++;
    int used = 0, number[2] = {0, 0}, irregular = 0;
    double med[2];
    median_strides(cycles, ncyc, med);
    float buf[XAI_GAIT_MAX_VARS * 3 * XAI_GAIT_NPTS];
    for (int k = 0; k < ncyc; k++) {
        const xai_c3d_cycle *cc = &cycles[k];
        int right = !strcasecmp(cc->context, "Right");
        if (!right && strcasecmp(cc->context, "Left"))
            continue; /* "General" strikes do not form a side's cycle */
        number[right]++;
        if (irregular_stride(cc, med[right])) {
            irregular++;
            continue;
        }
        int idx[XAI_GAIT_MAX_VARS];
        for (int v = 0; v < p->nvars; v++) {
            char label[128];
            xai_gait_var_label(p, v, right ? "Right" : "Left", label, sizeof label);
            idx[v] = xai_c3d_point_index(c, label);
            if (idx[v] < 0) {
                missing_message(p, c, right ? "Right" : "Left", err, errlen);
                goto done;
            }
        }
        if (xai_c3d_cycle_points(c, cc, idx, p->nvars, buf) != XAI_OK) {
            snprintf(err, errlen, "cycle %d: %s", k + 1, xai_last_error());
            goto done;
        }
        if (cycle_has_gap(p, buf)) {
            (*gaps)++;
            continue;
        }
        if (append_cycle(p, cy, buf, cc, trial_index, right, number[right]) != 0) {
            snprintf(err, errlen, "out of memory");
            st = XAI_ENOMEM;
            goto done;
        }
        used++;
    }
    if (used == 0) {
        no_cycle_message(ncyc, nstrike, irregular, err, errlen);
        goto done;
    }
    trial_offsets(cy, cy->n - used);
    cy->irregular += irregular;
    cy->recovered += nrec;
    recovered_note(c, cy);
    rc = 0;
done:
    free(cycles);
    xai_c3d_close(c);
    return rc == 0 ? XAI_OK : xai_error_set(st, "%s", err);
}

int64_t xai_gait_samples(const xai_gait_pre *p, const xai_gait_cycles *cy, int64_t **a, int64_t **b)
{
    *a = malloc((size_t)(cy->n ? cy->n : 1) * sizeof(int64_t));
    *b = malloc((size_t)(cy->n ? cy->n : 1) * sizeof(int64_t));
    if (!*a || !*b)
        return -1;
    int64_t n = 0;
    for (int64_t i = 0; i < cy->n; i++) {
        if (!p->paired) {
            (*a)[n] = i;
            (*b)[n++] = -1;
            continue;
        }
        if (cy->side[i][0] != 'L')
            continue;
        int64_t best = -1; /* the right cycle that opens first inside this left cycle */
        for (int64_t j = 0; j < cy->n; j++)
            if (cy->trial[j] == cy->trial[i] && cy->side[j][0] == 'R' && cy->start_s[j] >= cy->start_s[i] &&
                cy->start_s[j] < cy->end_s[i] && (best < 0 || cy->start_s[j] < cy->start_s[best]))
                best = j;
        if (best >= 0) {
            (*a)[n] = i;
            (*b)[n++] = best;
        }
    }
    return n;
}

static void input_block(const xai_gait_pre *p, const xai_gait_cycles *cy, int64_t c, int block, float *dst)
{
    int nch = xai_gait_pre_channels(p);
    for (int ch = 0; ch < nch; ch++) {
        const float *s = cy->x + ((size_t)c * (size_t)nch + (size_t)ch) * XAI_GAIT_NPTS;
        float *d = dst + (size_t)ch * XAI_GAIT_NPTS;
        int q = block * nch + ch;
        const float *m = p->have_norm ? p->mean + (size_t)q * XAI_GAIT_NPTS : NULL;
        float sd = p->have_norm ? p->sd[q] : 1.0f;
        float off = p->offset ? cy->offset[(size_t)c * (size_t)nch + (size_t)ch] : 0.0f;
        for (int t = 0; t < XAI_GAIT_NPTS; t++)
            d[t] = (s[t] - off - (m ? m[t] : 0.0f)) / sd;
    }
}

void xai_gait_input(const xai_gait_pre *p, const xai_gait_cycles *cy, int64_t a, int64_t b, float *dst)
{
    input_block(p, cy, a, 0, dst);
    if (p->paired)
        input_block(p, cy, b, 1, dst + (size_t)xai_gait_pre_channels(p) * XAI_GAIT_NPTS);
}

