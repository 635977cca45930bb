/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gait.c - trial discovery and naming, the preprocessing record, gait-cycle extraction
 * and the tabular outputs of xai-gait. Cycles follow pyCGM2 (Processing/cycle.py): one per
 * pair of consecutive same-context Foot Strike events, time-normalised to 101 points
 * (xai_c3d_gait_cycles / xai_c3d_cycle_points). Plug-in Gait angles are YXZ Cardan, so the
 * X, Y, Z components are sagittal, frontal and transverse (Vicon Plug-in Gait reference).
 * Output names and columns: the README, "Outputs on disk" (tidy TSV per subject, mean +- SD).
 */
#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gait.h"
#include "xai/npy.h"

const char *const gait_component_names[3] = {"sagittal", "frontal", "transverse"};

/* ------------------------------------------------------------------ trials */

static char **found;
static int nfound, capfound;

static int has_c3d_ext(const char *p)
{
    size_t n = strlen(p);
    return n > 4 && !strcasecmp(p + n - 4, ".c3d");
}

static int walk_cb(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (type != FTW_F || !has_c3d_ext(path))
        return 0;
    if (nfound == capfound) {
        int nc = capfound ? 2 * capfound : 64;
        char **nf = realloc(found, (size_t)nc * sizeof *nf);
        if (!nf)
            return -1;
        found = nf;
        capfound = nc;
    }
    found[nfound] = strdup(path);
    return found[nfound++] ? 0 : -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* value of a BIDS-like entity "key-value" among the '_'-separated parts of the file name,
 * or of a directory component "key-value" */
static char *entity(const char *path, const char *key)
{
    size_t kl = strlen(key);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    /* file name entities first */
    for (const char *s = base; *s;) {
        const char *e = s + strcspn(s, "_.");
        if ((size_t)(e - s) > kl + 1 && !strncmp(s, key, kl) && s[kl] == '-')
            return strndup(s + kl + 1, (size_t)(e - s) - kl - 1);
        if (*e != '_')
            break;
        s = e + 1;
    }
    /* then directories, innermost first */
    for (const char *e = base - 1; e > path;) {
        const char *s = e - 1;
        while (s > path && s[-1] != '/')
            s--;
        if ((size_t)(e - s) > kl + 1 && !strncmp(s, key, kl) && s[kl] == '-')
            return strndup(s + kl + 1, (size_t)(e - s) - kl - 1);
        e = s - 1;
    }
    return NULL;
}

static char *prefixed(const char *key, char *v, const char *fallback)
{
    char buf[512];
    if (v)
        snprintf(buf, sizeof buf, "%s-%s", key, v);
    else
        snprintf(buf, sizeof buf, "%s", fallback);
    free(v);
    return strdup(buf);
}

int gait_trials_collect(const xai_app *app, char **args, int nargs, gait_trial **out, int *n)
{
    found = NULL;
    nfound = capfound = 0;
    for (int i = 0; i < nargs; i++) {
        struct stat st;
        if (stat(args[i], &st) != 0) {
            xai_app_fail(app, args[i], "%s", strerror(errno));
            goto fail;
        }
        if (S_ISDIR(st.st_mode)) {
            if (nftw(args[i], walk_cb, 16, FTW_PHYS) != 0) {
                xai_app_fail(app, args[i], "cannot list the folder");
                goto fail;
            }
        } else {
            const char *p = args[i];
            if (walk_cb(p, &st, FTW_F, NULL) != 0 || !has_c3d_ext(p)) {
                xai_app_fail(app, p, "not a .c3d file");
                goto fail;
            }
        }
    }
    if (nfound == 0) {
        xai_app_fail(app, nargs ? args[0] : NULL, "no .c3d files found");
        goto fail;
    }
    qsort(found, (size_t)nfound, sizeof *found, cmp_str);
    gait_trial *t = calloc((size_t)nfound, sizeof *t);
    if (!t)
        goto fail;
    for (int i = 0; i < nfound; i++) {
        const char *p = found[i];
        t[i].path = found[i];
        char *sub = entity(p, "sub");
        if (!sub) { /* the parent folder names the subject */
            const char *e = strrchr(p, '/');
            const char *s = e;
            while (s && s > p && s[-1] != '/')
                s--;
            sub = e && s && e > s ? strndup(s, (size_t)(e - s)) : strdup("unknown");
        }
        t[i].subject = prefixed("sub", sub, "");
        t[i].session = prefixed("ses", entity(p, "ses"), "n/a");
        char *run = entity(p, "run");
        if (run) {
            t[i].trial = prefixed("run", run, "");
        } else {
            const char *b = strrchr(p, '/');
            b = b ? b + 1 : p;
            t[i].trial = strndup(b, strlen(b) - 4);
        }
        char *acq = entity(p, "acq");
        t[i].condition = acq ? acq : strdup("n/a");
    }
    free(found);
    found = NULL;
    *out = t;
    *n = nfound;
    return 0;
fail:
    for (int i = 0; i < nfound; i++)
        free(found[i]);
    free(found);
    found = NULL;
    return -1;
}

void gait_trials_free(gait_trial *t, int n)
{
    if (!t)
        return;
    for (int i = 0; i < n; i++) {
        free(t[i].path);
        free(t[i].subject);
        free(t[i].session);
        free(t[i].trial);
        free(t[i].condition);
    }
    free(t);
}

/* ------------------------------------------------------------------ preprocessing record */

int gait_pre_set_variables(gait_pre *p, const char *list, char *err, size_t errlen)
{
    for (int i = 0; i < p->nvars; i++)
        free(p->vars[i]);
    p->nvars = 0;
    char *dup = strdup(list), *save = NULL;
    if (!dup)
        return -1;
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (p->nvars == GAIT_MAX_VARS) {
            snprintf(err, errlen, "at most %d variables", GAIT_MAX_VARS);
            free(dup);
            return -1;
        }
        for (int i = 0; i < p->nvars; i++)
            if (!strcmp(p->vars[i], t)) {
                snprintf(err, errlen, "variable '%s' given twice", t);
                free(dup);
                return -1;
            }
        p->vars[p->nvars++] = strdup(t);
    }
    free(dup);
    if (p->nvars == 0) {
        snprintf(err, errlen, "no variables in '%s'", list);
        return -1;
    }
    return 0;
}

int gait_pre_set_components(gait_pre *p, const char *list, char *err, size_t errlen)
{
    static const char *const alias[3] = {"x", "y", "z"};
    char *dup = strdup(list), *save = NULL;
    p->ncomps = 0;
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int k = -1;
        for (int c = 0; c < 3; c++)
            if (!strcasecmp(t, gait_component_names[c]) || !strcasecmp(t, alias[c]) || (t[0] == '0' + c && !t[1]))
                k = c;
        for (int i = 0; k >= 0 && i < p->ncomps; i++)
            if (p->comps[i] == k)
                k = -2;
        if (k < 0 || p->ncomps == 3) {
            snprintf(err, errlen, "component '%s': expected sagittal, frontal, transverse (x, y, z), each once", t);
            free(dup);
            return -1;
        }
        p->comps[p->ncomps++] = k;
    }
    free(dup);
    if (p->ncomps == 0) {
        snprintf(err, errlen, "no components in '%s'", list);
        return -1;
    }
    return 0;
}

void gait_pre_free(gait_pre *p)
{
    for (int i = 0; i < p->nvars; i++)
        free(p->vars[i]);
    free(p->mean);
    free(p->sd);
    memset(p, 0, sizeof *p);
}

int gait_pre_channels(const gait_pre *p)
{
    return p->nvars * p->ncomps;
}

int gait_pre_inputs(const gait_pre *p)
{
    return gait_pre_channels(p) * (p->paired ? 2 : 1);
}

json_t *gait_pre_to_json(const gait_pre *p)
{
    json_t *o = json_object(), *v = json_array(), *c = json_array();
    json_object_set_new(o, "tool", json_string("xai-gait"));
    json_object_set_new(o, "cycle", json_string("Foot Strike to the next same-side Foot Strike (pyCGM2)"));
    json_object_set_new(o, "points", json_integer(GAIT_NPTS));
    json_object_set_new(o, "layout", json_string("[variables x components][101 points], variable-major"));
    json_object_set_new(o, "side_rule", json_string("a variable without an L/R prefix is taken from the cycle's side"));
    for (int i = 0; i < p->nvars; i++)
        json_array_append_new(v, json_string(p->vars[i]));
    for (int i = 0; i < p->ncomps; i++)
        json_array_append_new(c, json_string(gait_component_names[p->comps[i]]));
    json_object_set_new(o, "variables", v);
    json_object_set_new(o, "components", c);
    json_object_set_new(o, "sides", json_string(p->paired ? "paired" : "each"));
    json_object_set_new(o, "offset", json_string(p->offset ? "trial_mean" : "none"));
    json_t *nm = json_object();
    if (p->have_norm) {
        json_t *m = json_array(), *s = json_array();
        for (int i = 0; i < gait_pre_inputs(p) * GAIT_NPTS; i++)
            json_array_append_new(m, json_real(p->mean[i]));
        for (int i = 0; i < gait_pre_inputs(p); i++)
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

int gait_pre_from_json(gait_pre *p, const char *text, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    json_error_t je;
    json_t *o = text ? json_loads(text, 0, &je) : NULL;
    const char *tool = o ? json_string_value(json_object_get(o, "tool")) : NULL;
    json_t *v = o ? json_object_get(o, "variables") : NULL, *c = o ? json_object_get(o, "components") : NULL;
    json_t *pts = o ? json_object_get(o, "points") : NULL;
    if (!o || !tool || strcmp(tool, "xai-gait") || !json_is_array(v) || !json_is_array(c) ||
        json_integer_value(pts) != GAIT_NPTS || json_array_size(v) == 0 || json_array_size(v) > GAIT_MAX_VARS ||
        json_array_size(c) == 0 || json_array_size(c) > 3) {
        snprintf(err, errlen, "no valid xai-gait preprocessing record (train the model with 'xai-gait train')");
        json_decref(o);
        return -1;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        const char *s = json_string_value(json_array_get(v, i));
        if (!s) {
            snprintf(err, errlen, "preprocessing record: variable %zu is not a string", i);
            json_decref(o);
            gait_pre_free(p);
            return -1;
        }
        p->vars[p->nvars++] = strdup(s);
    }
    for (size_t i = 0; i < json_array_size(c); i++) {
        const char *s = json_string_value(json_array_get(c, i));
        int k = -1;
        for (int j = 0; s && j < 3; j++)
            if (!strcmp(s, gait_component_names[j]))
                k = j;
        if (k < 0) {
            snprintf(err, errlen, "preprocessing record: unknown component %s", s ? s : "(not a string)");
            json_decref(o);
            gait_pre_free(p);
            return -1;
        }
        p->comps[p->ncomps++] = k;
    }
    /* records written before sides/offset existed mean one cycle, no offset removal */
    const char *sides = json_string_value(json_object_get(o, "sides"));
    const char *off = json_string_value(json_object_get(o, "offset"));
    if ((sides && strcmp(sides, "paired") && strcmp(sides, "each")) ||
        (off && strcmp(off, "trial_mean") && strcmp(off, "none"))) {
        snprintf(err, errlen, "preprocessing record: unknown sides '%s' or offset '%s'", sides ? sides : "",
                 off ? off : "");
        json_decref(o);
        gait_pre_free(p);
        return -1;
    }
    p->paired = sides && !strcmp(sides, "paired");
    p->offset = off && !strcmp(off, "trial_mean");
    json_t *nm = json_object_get(o, "normalisation");
    json_t *m = json_object_get(nm, "mean"), *s = json_object_get(nm, "sd");
    if (m || s) {
        size_t nch = (size_t)gait_pre_inputs(p);
        if (json_array_size(m) != nch * GAIT_NPTS || json_array_size(s) != nch) {
            snprintf(err, errlen, "preprocessing record: normalisation has %zu/%zu values for %zu channels x 101",
                     json_array_size(m), json_array_size(s), nch);
            json_decref(o);
            gait_pre_free(p);
            return -1;
        }
        p->mean = malloc(nch * GAIT_NPTS * sizeof(float));
        p->sd = malloc(nch * sizeof(float));
        for (size_t i = 0; i < nch * GAIT_NPTS; i++)
            p->mean[i] = (float)json_number_value(json_array_get(m, i));
        for (size_t i = 0; i < nch; i++) {
            p->sd[i] = (float)json_number_value(json_array_get(s, i));
            if (!(p->sd[i] > 0)) {
                snprintf(err, errlen, "preprocessing record: normalisation sd[%zu] is not positive", i);
                json_decref(o);
                gait_pre_free(p);
                return -1;
            }
        }
        p->have_norm = 1;
    }
    json_decref(o);
    return 0;
}

int gait_pre_same_selection(const gait_pre *a, const gait_pre *b)
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

void gait_var_label(const gait_pre *p, int v, const char *side, char *buf, size_t len)
{
    const char *name = p->vars[v];
    if (has_side_prefix(name) || !side || (side[0] != 'L' && side[0] != 'R'))
        snprintf(buf, len, "%s", name);
    else
        snprintf(buf, len, "%c%s", side[0], name);
}

/* ------------------------------------------------------------------ cycles */

void gait_cycles_free(gait_cycles *c)
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

static int cycles_reserve(gait_cycles *c, int64_t need)
{
    if (need <= c->cap)
        return 0;
    int64_t nc = c->cap ? c->cap * 2 : 256;
    while (nc < need)
        nc *= 2;
    float *x = realloc(c->x, (size_t)nc * (size_t)c->nch * GAIT_NPTS * sizeof(float));
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
static void trial_offsets(gait_cycles *cy, int64_t from)
{
    int nch = cy->nch;
    for (int side = 0; side < 2; side++)
        for (int ch = 0; ch < nch; ch++) {
            double s = 0;
            int64_t k = 0;
            for (int64_t i = from; i < cy->n; i++)
                if ((cy->side[i][0] == 'R') == side) {
                    const float *x = cy->x + ((size_t)i * (size_t)nch + (size_t)ch) * GAIT_NPTS;
                    for (int t = 0; t < GAIT_NPTS; t++)
                        s += x[t];
                    k += GAIT_NPTS;
                }
            for (int64_t i = from; i < cy->n; i++)
                if ((cy->side[i][0] == 'R') == side)
                    cy->offset[(size_t)i * (size_t)nch + (size_t)ch] = (float)(k ? s / (double)k : 0);
        }
}

/* Name every requested variable the trial lacks and list the angle outputs it has, so a
 * default list that does not fit the lab's model (no FootProgressAngles) is fixed at once. */
static void missing_message(const gait_pre *p, const xai_c3d *c, const char *side, char *err, size_t errlen)
{
    size_t n = (size_t)snprintf(err, errlen, "missing variable(s)");
    for (int v = 0; v < p->nvars && n < errlen; v++) {
        char label[128];
        gait_var_label(p, v, side, label, sizeof label);
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

int gait_extract(const gait_pre *p, const char *path, int trial_index, gait_cycles *cy, int *gaps, char *err,
                 size_t errlen)
{
    xai_c3d *c = NULL;
    if (xai_c3d_open(path, &c) != XAI_OK) {
        snprintf(err, errlen, "%s", xai_last_error());
        return -1;
    }
    cy->nch = gait_pre_channels(p);
    xai_c3d_cycle *cycles = NULL;
    int ncyc = 0, rc = -1, nstrike[2] = {0, 0};
    if (xai_c3d_gait_cycles(c, NULL, &cycles, &ncyc) != XAI_OK) {
        snprintf(err, errlen, "%s", xai_last_error());
        goto done;
    }
    for (int e = 0; e < c->nevents; e++)
        if (!strcasecmp(c->events[e].label, "Foot Strike"))
            nstrike[!strcasecmp(c->events[e].context, "Right")]++;
    int used = 0, number[2] = {0, 0};
    float buf[GAIT_MAX_VARS * 3 * GAIT_NPTS];
    for (int k = 0; k < ncyc; k++) {
        const xai_c3d_cycle *cc = &cycles[k];
        int right = !strcasecmp(cc->context, "Right");
        if (!right && strcasecmp(cc->context, "Left"))
            continue; /* "General" strikes do not form a side's cycle */
        number[right]++;
        int idx[GAIT_MAX_VARS];
        for (int v = 0; v < p->nvars; v++) {
            char label[128];
            gait_var_label(p, v, right ? "Right" : "Left", label, sizeof label);
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
        int bad = 0;
        for (int v = 0; v < p->nvars && !bad; v++)
            for (int j = 0; j < p->ncomps && !bad; j++)
                for (int t = 0; t < GAIT_NPTS; t++)
                    if (!isfinite(buf[((size_t)v * 3 + (size_t)p->comps[j]) * GAIT_NPTS + (size_t)t])) {
                        bad = 1;
                        break;
                    }
        if (bad) {
            (*gaps)++;
            continue;
        }
        if (cycles_reserve(cy, cy->n + 1) != 0) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
        float *dst = cy->x + (size_t)cy->n * (size_t)cy->nch * GAIT_NPTS;
        for (int v = 0; v < p->nvars; v++)
            for (int j = 0; j < p->ncomps; j++)
                memcpy(dst + ((size_t)v * (size_t)p->ncomps + (size_t)j) * GAIT_NPTS,
                       buf + ((size_t)v * 3 + (size_t)p->comps[j]) * GAIT_NPTS, GAIT_NPTS * sizeof(float));
        cy->trial[cy->n] = trial_index;
        snprintf(cy->side[cy->n], sizeof cy->side[0], "%s", right ? "Right" : "Left");
        cy->cycle[cy->n] = number[right];
        cy->foot_off[cy->n] = cc->foot_off_pct;
        cy->start_s[cy->n] = cc->start_s;
        cy->end_s[cy->n] = cc->end_s;
        cy->n++;
        used++;
    }
    if (used == 0) {
        if (ncyc == 0)
            snprintf(err, errlen, "no complete gait cycle (%d Left and %d Right 'Foot Strike' events; a cycle "
                     "needs two same-side strikes inside the recording)", nstrike[0], nstrike[1]);
        else
            snprintf(err, errlen, "all %d gait cycles have gaps (missing samples) in the selected variables", ncyc);
        goto done;
    }
    trial_offsets(cy, cy->n - used);
    rc = 0;
done:
    free(cycles);
    xai_c3d_close(c);
    return rc;
}

int64_t gait_samples(const gait_pre *p, const gait_cycles *cy, int64_t **a, int64_t **b)
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

static void input_block(const gait_pre *p, const gait_cycles *cy, int64_t c, int block, float *dst)
{
    int nch = gait_pre_channels(p);
    for (int ch = 0; ch < nch; ch++) {
        const float *s = cy->x + ((size_t)c * (size_t)nch + (size_t)ch) * GAIT_NPTS;
        float *d = dst + (size_t)ch * GAIT_NPTS;
        int q = block * nch + ch;
        const float *m = p->have_norm ? p->mean + (size_t)q * GAIT_NPTS : NULL;
        float sd = p->have_norm ? p->sd[q] : 1.0f;
        float off = p->offset ? cy->offset[(size_t)c * (size_t)nch + (size_t)ch] : 0.0f;
        for (int t = 0; t < GAIT_NPTS; t++)
            d[t] = (s[t] - off - (m ? m[t] : 0.0f)) / sd;
    }
}

void gait_input(const gait_pre *p, const gait_cycles *cy, int64_t a, int64_t b, float *dst)
{
    input_block(p, cy, a, 0, dst);
    if (p->paired)
        input_block(p, cy, b, 1, dst + (size_t)gait_pre_channels(p) * GAIT_NPTS);
}

/* ------------------------------------------------------------------ outputs */

void gait_output_paths(const char *prefix, const char *desc, char *out[4])
{
    size_t n = strlen(prefix) + strlen(desc) + 64;
    for (int i = 0; i < 4; i++)
        out[i] = malloc(n);
    snprintf(out[0], n, "%s_desc-%s_relevance.npy", prefix, desc);
    snprintf(out[1], n, "%s_desc-%s_cycles.tsv", prefix, desc);
    snprintf(out[2], n, "%s_desc-%smean_cycles.tsv", prefix, desc);
    snprintf(out[3], n, "%s_desc-%s_grid.png", prefix, desc);
}

/* fast number formatting for the long tables (millions of rows per second) */
static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

static char *put_uint(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* fixed point with 4 decimals */
static char *put_fixed(char *p, double v)
{
    if (!isfinite(v))
        return put_str(p, "n/a");
    if (v < 0) {
        int64_t r = llround(-v * 10000);
        if (r == 0)
            return put_str(p, "0.0000");
        *p++ = '-';
        v = -v;
    }
    uint64_t r = (uint64_t)llround(v * 10000);
    p = put_uint(p, r / 10000);
    *p++ = '.';
    uint64_t f = r % 10000;
    *p++ = (char)('0' + f / 1000);
    *p++ = (char)('0' + f / 100 % 10);
    *p++ = (char)('0' + f / 10 % 10);
    *p++ = (char)('0' + f % 10);
    return p;
}

/* scientific with 4 significant digits, "0" for zero */
static char *put_sci(char *p, double v)
{
    if (!isfinite(v))
        return put_str(p, "n/a");
    if (v == 0)
        return put_str(p, "0");
    if (v < 0) {
        *p++ = '-';
        v = -v;
    }
    int e = (int)floor(log10(v));
    long m = lround(v / pow(10, e) * 1000);
    if (m >= 10000) {
        m /= 10;
        e++;
    }
    if (m < 1000)
        m = 1000;
    *p++ = (char)('0' + m / 1000);
    *p++ = '.';
    *p++ = (char)('0' + m / 100 % 10);
    *p++ = (char)('0' + m / 10 % 10);
    *p++ = (char)('0' + m % 10);
    *p++ = 'e';
    *p++ = e < 0 ? '-' : '+';
    if (e < 0)
        e = -e;
    if (e < 10)
        *p++ = '0';
    return put_uint(p, (uint64_t)e);
}

static int write_long_tsv(const xai_app *app, const gait_group *g, const char *path)
{
    char *tmp = NULL;
    FILE *f = xai_app_atomic_open(app, path, &tmp);
    if (!f)
        return -1;
    const gait_pre *pre = g->pre;
    int nch = gait_pre_channels(pre);
    size_t cap = (size_t)nch * GAIT_NPTS * 256 + 4096;
    char *buf = malloc(cap);
    int ok = buf != NULL;
    if (ok)
        ok = fputs("subject\tsession\ttrial\tside\tcycle\tpct\tvariable\tcomponent\tvalue\trelevance\n", f) >= 0;
    for (int64_t i = 0; ok && i < g->n; i++) {
        int64_t ci = g->idx[i];
        const gait_trial *t = &g->trials[g->cy->trial[ci]];
        const char *side = g->cy->side[ci];
        const float *x = g->cy->x + (size_t)ci * (size_t)nch * GAIT_NPTS;
        const float *r = g->rel + (size_t)i * (size_t)nch * GAIT_NPTS;
        char *p = buf;
        for (int v = 0; v < pre->nvars; v++) {
            char label[128];
            gait_var_label(pre, v, side, label, sizeof label);
            for (int j = 0; j < pre->ncomps; j++) {
                int ch = v * pre->ncomps + j;
                for (int k = 0; k < GAIT_NPTS; k++) {
                    p = put_str(p, t->subject);
                    *p++ = '\t';
                    p = put_str(p, t->session);
                    *p++ = '\t';
                    p = put_str(p, t->trial);
                    *p++ = '\t';
                    p = put_str(p, side);
                    *p++ = '\t';
                    p = put_uint(p, (uint64_t)g->cy->cycle[ci]);
                    *p++ = '\t';
                    p = put_uint(p, (uint64_t)k);
                    *p++ = '\t';
                    p = put_str(p, label);
                    *p++ = '\t';
                    p = put_str(p, gait_component_names[pre->comps[j]]);
                    *p++ = '\t';
                    p = put_fixed(p, x[(size_t)ch * GAIT_NPTS + (size_t)k]);
                    *p++ = '\t';
                    p = put_sci(p, r[(size_t)ch * GAIT_NPTS + (size_t)k]);
                    *p++ = '\n';
                }
            }
        }
        ok = fwrite(buf, 1, (size_t)(p - buf), f) == (size_t)(p - buf);
    }
    free(buf);
    if (!ok)
        xai_app_fail(app, path, "write error");
    return xai_app_atomic_commit(app, f, tmp, path, ok) == 0 && ok ? 0 : -1;
}

/* mean and SD over the group's cycles of one side ("" = all) for each channel and point */
static int64_t side_stats(const gait_group *g, const char *side, float *vmean, float *vsd, float *rmean, float *rsd,
                          double *toe_off)
{
    int nch = gait_pre_channels(g->pre);
    size_t m = (size_t)nch * GAIT_NPTS;
    double *s1 = calloc(m * 4, sizeof(double));
    if (!s1)
        return -1;
    double *s2 = s1 + m, *q1 = s1 + 2 * m, *q2 = s1 + 3 * m;
    int64_t cnt = 0, nto = 0;
    double to = 0;
    for (int64_t i = 0; i < g->n; i++) {
        int64_t ci = g->idx[i];
        if (side[0] && strcmp(g->cy->side[ci], side))
            continue;
        const float *x = g->cy->x + (size_t)ci * m, *r = g->rel + (size_t)i * m;
        for (size_t k = 0; k < m; k++) {
            s1[k] += x[k];
            s2[k] += (double)x[k] * x[k];
            q1[k] += r[k];
            q2[k] += (double)r[k] * r[k];
        }
        if (isfinite(g->cy->foot_off[ci])) {
            to += g->cy->foot_off[ci];
            nto++;
        }
        cnt++;
    }
    for (size_t k = 0; k < m; k++) {
        double n = (double)cnt;
        double mv = cnt ? s1[k] / n : NAN, mr = cnt ? q1[k] / n : NAN;
        vmean[k] = (float)mv;
        rmean[k] = (float)mr;
        vsd[k] = cnt > 1 ? (float)sqrt(fmax(0, (s2[k] - n * mv * mv) / (n - 1))) : NAN;
        rsd[k] = cnt > 1 ? (float)sqrt(fmax(0, (q2[k] - n * mr * mr) / (n - 1))) : NAN;
    }
    *toe_off = nto ? to / (double)nto : NAN;
    free(s1);
    return cnt;
}

static int write_mean_tsv(const xai_app *app, const gait_group *g, const char *path)
{
    char *tmp = NULL;
    FILE *f = xai_app_atomic_open(app, path, &tmp);
    if (!f)
        return -1;
    const gait_pre *pre = g->pre;
    int nch = gait_pre_channels(pre);
    size_t m = (size_t)nch * GAIT_NPTS;
    float *st = malloc(4 * m * sizeof(float));
    int ok = st && fputs("side\tvariable\tcomponent\tpct\tcycles\tvalue_mean\tvalue_sd\trelevance_mean\t"
                         "relevance_sd\n", f) >= 0;
    static const char *const sides[2] = {"Left", "Right"};
    for (int s = 0; ok && s < 2; s++) {
        double to;
        int64_t cnt = side_stats(g, sides[s], st, st + m, st + 2 * m, st + 3 * m, &to);
        if (cnt <= 0)
            continue;
        for (int v = 0; ok && v < pre->nvars; v++) {
            char label[128];
            gait_var_label(pre, v, sides[s], label, sizeof label);
            for (int j = 0; ok && j < pre->ncomps; j++)
                for (int k = 0; ok && k < GAIT_NPTS; k++) {
                    size_t q = (size_t)(v * pre->ncomps + j) * GAIT_NPTS + (size_t)k;
                    char a[32], b[32], c[32], d[32];
                    *put_fixed(a, st[q]) = '\0';
                    *put_fixed(b, st[m + q]) = '\0';
                    *put_sci(c, st[2 * m + q]) = '\0';
                    *put_sci(d, st[3 * m + q]) = '\0';
                    ok = fprintf(f, "%s\t%s\t%s\t%d\t%lld\t%s\t%s\t%s\t%s\n", sides[s], label,
                                 gait_component_names[pre->comps[j]], k, (long long)cnt, a, b, c, d) > 0;
                }
        }
    }
    free(st);
    if (!ok)
        xai_app_fail(app, path, "write error");
    return xai_app_atomic_commit(app, f, tmp, path, ok) == 0 && ok ? 0 : -1;
}

int gait_write_tables(const xai_app *app, const gait_group *g, const char *prefix, const char *extra_json,
                      gait_chan_summary *summary)
{
    char *paths[4];
    gait_output_paths(prefix, g->desc, paths);
    int rc = -1, nch = gait_pre_channels(g->pre);
    int64_t shape[3] = {g->n, nch, GAIT_NPTS};
    if (xai_npy_save(paths[0], 3, shape, g->rel) != XAI_OK) {
        xai_app_fail(app, paths[0], "%s", xai_last_error());
        goto done;
    }
    if (write_long_tsv(app, g, paths[1]) != 0 || write_mean_tsv(app, g, paths[2]) != 0)
        goto done;
    for (int i = 0; i < 3; i++)
        if (xai_app_write_sidecar(app, paths[i], extra_json) != 0)
            goto done;
    if (summary) {
        double tot_abs = 0, tot_pos = 0;
        size_t m = (size_t)nch * GAIT_NPTS;
        double *mean = calloc(m, sizeof(double));
        if (!mean)
            goto done;
        for (int64_t i = 0; i < g->n; i++)
            for (size_t k = 0; k < m; k++)
                mean[k] += g->rel[(size_t)i * m + k] / (double)g->n;
        for (int ch = 0; ch < nch; ch++) {
            gait_chan_summary *s = &summary[ch];
            memset(s, 0, sizeof *s);
            s->peak = -INFINITY;
            for (int64_t i = 0; i < g->n; i++)
                for (int k = 0; k < GAIT_NPTS; k++) {
                    double r = g->rel[(size_t)i * m + (size_t)ch * GAIT_NPTS + (size_t)k];
                    s->abs_share += fabs(r);
                    s->pos_share += r > 0 ? r : 0;
                }
            for (int k = 0; k < GAIT_NPTS; k++)
                if (mean[(size_t)ch * GAIT_NPTS + (size_t)k] > s->peak) {
                    s->peak = mean[(size_t)ch * GAIT_NPTS + (size_t)k];
                    s->peak_pct = k;
                }
            tot_abs += s->abs_share;
            tot_pos += s->pos_share;
        }
        for (int ch = 0; ch < nch; ch++) {
            summary[ch].abs_share = tot_abs > 0 ? summary[ch].abs_share / tot_abs : 0;
            summary[ch].pos_share = tot_pos > 0 ? summary[ch].pos_share / tot_pos : 0;
        }
        free(mean);
    }
    rc = 0;
done:
    for (int i = 0; i < 4; i++)
        free(paths[i]);
    return rc;
}

/* ------------------------------------------------------------------ figure */
#include <cairo.h>

#include "xai/figure.h"

typedef struct {
    unsigned char *data;
    size_t len, cap;
} membuf;

static cairo_status_t png_sink(void *closure, const unsigned char *data, unsigned int length)
{
    membuf *b = closure;
    if (b->len + length > b->cap) {
        size_t nc = (b->cap ? b->cap * 2 : 65536) + length;
        unsigned char *nd = realloc(b->data, nc);
        if (!nd)
            return CAIRO_STATUS_NO_MEMORY;
        b->data = nd;
        b->cap = nc;
    }
    memcpy(b->data + b->len, data, length);
    b->len += length;
    return CAIRO_STATUS_SUCCESS;
}

/* Side statistics of a group for the grid: [side][value mean, value SD, R mean, R SD][m]. */
typedef struct {
    float *st;
    size_t m;
    int64_t cnt[2];
    double to[2], rmax;
} grid_stats;

static const double side_colour[2][3] = {{0.85, 0.1, 0.1}, {0.1, 0.6, 0.1}};

/* One panel: side s, channel ch at (x0, y0): relevance shading of that side, its mean +- SD,
 * toe off, frame and labels. */
static void draw_panel(cairo_t *cr, const gait_pre *pre, const grid_stats *gs, int s, int ch, double x0, double y0,
                       double pw, double ph)
{
    const float *b = gs->st + (size_t)s * 4 * gs->m + (size_t)ch * GAIT_NPTS;
    const float *sd = b + gs->m, *rel = b + 2 * gs->m;
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < GAIT_NPTS; k++) {
        double d = isfinite(sd[k]) ? sd[k] : 0;
        lo = fmin(lo, b[k] - d);
        hi = fmax(hi, b[k] + d);
    }
    if (!(hi > lo)) {
        lo = isfinite(lo) ? lo - 1 : -1;
        hi = lo + 2;
    }
    double pad = 0.08 * (hi - lo);
    lo -= pad;
    hi += pad;
    for (int k = 0; k < GAIT_NPTS; k++) {
        double t = gs->rmax > 0 ? 0.5 + 0.5 * rel[k] / gs->rmax : 0.5, rgb[3];
        xai_colormap_rgb(XAI_CMAP_BWR, t, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        double xa = fmax(x0 + pw * (k - 0.5) / 100.0, x0), xb = fmin(x0 + pw * (k + 0.5) / 100.0, x0 + pw);
        cairo_rectangle(cr, xa, y0, xb - xa + 0.5, ph);
        cairo_fill(cr);
    }
    const double *col = side_colour[s];
    if (gs->cnt[s] > 1) {
        for (int k = 0; k < GAIT_NPTS; k++)
            cairo_line_to(cr, x0 + pw * k / 100.0, y0 + ph * (hi - (b[k] + sd[k])) / (hi - lo));
        for (int k = GAIT_NPTS - 1; k >= 0; k--)
            cairo_line_to(cr, x0 + pw * k / 100.0, y0 + ph * (hi - (b[k] - sd[k])) / (hi - lo));
        cairo_close_path(cr);
        cairo_set_source_rgba(cr, col[0], col[1], col[2], 0.2);
        cairo_fill(cr);
    }
    for (int k = 0; k < GAIT_NPTS; k++)
        cairo_line_to(cr, x0 + pw * k / 100.0, y0 + ph * (hi - b[k]) / (hi - lo));
    cairo_set_source_rgb(cr, col[0], col[1], col[2]);
    cairo_set_line_width(cr, 1.5);
    cairo_stroke(cr);
    if (isfinite(gs->to[s])) {
        double dash = 4;
        cairo_set_dash(cr, &dash, 1, 0);
        cairo_move_to(cr, x0 + pw * gs->to[s] / 100.0, y0);
        cairo_line_to(cr, x0 + pw * gs->to[s] / 100.0, y0 + ph);
        cairo_set_line_width(cr, 1);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x0, y0, pw, ph);
    cairo_stroke(cr);
    if (lo < 0 && hi > 0) {
        cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
        cairo_move_to(cr, x0, y0 + ph * hi / (hi - lo));
        cairo_line_to(cr, x0 + pw, y0 + ph * hi / (hi - lo));
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
    }
    char lab[160], name[128];
    gait_var_label(pre, ch / pre->ncomps, s ? "Right" : "Left", name, sizeof name);
    snprintf(lab, sizeof lab, "%s %s (deg)", name, gait_component_names[pre->comps[ch % pre->ncomps]]);
    cairo_move_to(cr, x0, y0 - 4);
    cairo_show_text(cr, lab);
    snprintf(lab, sizeof lab, "%.0f", hi);
    cairo_move_to(cr, x0 - 30, y0 + 8);
    cairo_show_text(cr, lab);
    snprintf(lab, sizeof lab, "%.0f", lo);
    cairo_move_to(cr, x0 - 30, y0 + ph);
    cairo_show_text(cr, lab);
    for (int q = 0; q <= 100; q += 50) {
        snprintf(lab, sizeof lab, "%d%%", q);
        cairo_move_to(cr, x0 + pw * q / 100.0 - 8, y0 + ph + 12);
        cairo_show_text(cr, lab);
    }
}

/* The clinical grid with the sides apart: rows joints, columns the planes of the left side,
 * then those of the right side; one colour scale for the relevance of both sides. */
int gait_plot_grid(const xai_app *app, const gait_group *g, const char *path, const char *title)
{
    const gait_pre *pre = g->pre;
    int rows = pre->nvars, cols = pre->ncomps;
    grid_stats gs = {NULL, (size_t)rows * (size_t)cols * GAIT_NPTS, {0, 0}, {NAN, NAN}, 0};
    const double pw = 220, ph = 150, ml = 60, mt = 50, gap_x = 50, gap_y = 40, side_gap = 40;
    gs.st = malloc(2 * 4 * gs.m * sizeof(float));
    if (!gs.st)
        return xai_app_fail(app, path, "out of memory") ? -1 : -1;
    static const char *const sides[2] = {"Left", "Right"};
    for (int s = 0; s < 2; s++) {
        float *b = gs.st + (size_t)s * 4 * gs.m;
        gs.cnt[s] = side_stats(g, sides[s], b, b + gs.m, b + 2 * gs.m, b + 3 * gs.m, &gs.to[s]);
        for (size_t k = 0; gs.cnt[s] > 0 && k < gs.m; k++)
            gs.rmax = fmax(gs.rmax, fabs(b[2 * gs.m + k]));
    }
    int nsides = (gs.cnt[0] > 0) + (gs.cnt[1] > 0);
    int W = (int)(ml + (nsides ? nsides : 1) * cols * (pw + gap_x) + side_gap + 20);
    int H = (int)(mt + rows * (ph + gap_y) + 20);
    cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(sf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 14);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, ml, 22);
    cairo_show_text(cr, title ? title : "");
    cairo_set_font_size(cr, 10);
    cairo_move_to(cr, ml, 38);
    char info[256];
    snprintf(info, sizeof info, "Left (red, %lld cycles) | Right (green, %lld cycles): mean +- SD; dashed: toe off; "
             "shading: mean relevance of that side (bwr, max |R| %.3g)", (long long)gs.cnt[0], (long long)gs.cnt[1],
             gs.rmax);
    cairo_show_text(cr, info);
    int col0 = 0;
    for (int s = 0; s < 2; s++) {
        if (gs.cnt[s] <= 0)
            continue;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                draw_panel(cr, pre, &gs, s, r * cols + c, ml + (col0 + c) * (pw + gap_x) + (col0 ? side_gap : 0),
                           mt + r * (ph + gap_y) + 15, pw, ph);
        col0 += cols;
    }
    cairo_destroy(cr);
    cairo_surface_flush(sf);
    membuf mb = {NULL, 0, 0};
    cairo_status_t cs = cairo_surface_write_to_png_stream(sf, png_sink, &mb);
    cairo_surface_destroy(sf);
    free(gs.st);
    int rc = -1;
    if (cs != CAIRO_STATUS_SUCCESS)
        xai_app_fail(app, path, "cannot render the figure: %s", cairo_status_to_string(cs));
    else
        rc = xai_app_write_atomic(app, path, mb.data, mb.len);
    free(mb.data);
    return rc;
}
