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

xai_gait_trial_ref *gait_trial_refs(const gait_trial *t, int n)
{
    xai_gait_trial_ref *r = malloc(sizeof *r * (size_t)(n > 0 ? n : 1));
    for (int i = 0; r && i < n; i++)
        r[i] = (xai_gait_trial_ref){t[i].path, t[i].subject, t[i].session, t[i].trial, t[i].condition};
    return r;
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
    const xai_gait_pre *pre = g->pre;
    int nch = xai_gait_pre_channels(pre);
    size_t cap = (size_t)nch * XAI_GAIT_NPTS * 256 + 4096;
    char *buf = malloc(cap);
    int ok = buf != NULL;
    if (ok)
        ok = fputs("subject\tsession\ttrial\tside\tcycle\tpct\tvariable\tcomponent\tvalue\trelevance\n", f) >= 0;
    for (int64_t i = 0; ok && i < g->n; i++) {
        int64_t ci = g->idx[i];
        const gait_trial *t = &g->trials[g->cy->trial[ci]];
        const char *side = g->cy->side[ci];
        const float *x = g->cy->x + (size_t)ci * (size_t)nch * XAI_GAIT_NPTS;
        const float *r = g->rel + (size_t)i * (size_t)nch * XAI_GAIT_NPTS;
        char *p = buf;
        for (int v = 0; v < pre->nvars; v++) {
            char label[128];
            xai_gait_var_label(pre, v, side, label, sizeof label);
            for (int j = 0; j < pre->ncomps; j++) {
                int ch = v * pre->ncomps + j;
                for (int k = 0; k < XAI_GAIT_NPTS; k++) {
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
                    p = put_str(p, xai_gait_component_names[pre->comps[j]]);
                    *p++ = '\t';
                    p = put_fixed(p, x[(size_t)ch * XAI_GAIT_NPTS + (size_t)k]);
                    *p++ = '\t';
                    p = put_sci(p, r[(size_t)ch * XAI_GAIT_NPTS + (size_t)k]);
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
    int nch = xai_gait_pre_channels(g->pre);
    size_t m = (size_t)nch * XAI_GAIT_NPTS;
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
    const xai_gait_pre *pre = g->pre;
    int nch = xai_gait_pre_channels(pre);
    size_t m = (size_t)nch * XAI_GAIT_NPTS;
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
            xai_gait_var_label(pre, v, sides[s], label, sizeof label);
            for (int j = 0; ok && j < pre->ncomps; j++)
                for (int k = 0; ok && k < XAI_GAIT_NPTS; k++) {
                    size_t q = (size_t)(v * pre->ncomps + j) * XAI_GAIT_NPTS + (size_t)k;
                    char a[32], b[32], c[32], d[32];
                    *put_fixed(a, st[q]) = '\0';
                    *put_fixed(b, st[m + q]) = '\0';
                    *put_sci(c, st[2 * m + q]) = '\0';
                    *put_sci(d, st[3 * m + q]) = '\0';
                    ok = fprintf(f, "%s\t%s\t%s\t%d\t%lld\t%s\t%s\t%s\t%s\n", sides[s], label,
                                 xai_gait_component_names[pre->comps[j]], k, (long long)cnt, a, b, c, d) > 0;
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
    int rc = -1, nch = xai_gait_pre_channels(g->pre);
    int64_t shape[3] = {g->n, nch, XAI_GAIT_NPTS};
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
        size_t m = (size_t)nch * XAI_GAIT_NPTS;
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
                for (int k = 0; k < XAI_GAIT_NPTS; k++) {
                    double r = g->rel[(size_t)i * m + (size_t)ch * XAI_GAIT_NPTS + (size_t)k];
                    s->abs_share += fabs(r);
                    s->pos_share += r > 0 ? r : 0;
                }
            for (int k = 0; k < XAI_GAIT_NPTS; k++)
                if (mean[(size_t)ch * XAI_GAIT_NPTS + (size_t)k] > s->peak) {
                    s->peak = mean[(size_t)ch * XAI_GAIT_NPTS + (size_t)k];
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
static void draw_panel(cairo_t *cr, const xai_gait_pre *pre, const grid_stats *gs, int s, int ch, double x0, double y0,
                       double pw, double ph)
{
    const float *b = gs->st + (size_t)s * 4 * gs->m + (size_t)ch * XAI_GAIT_NPTS;
    const float *sd = b + gs->m, *rel = b + 2 * gs->m;
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < XAI_GAIT_NPTS; k++) {
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
    for (int k = 0; k < XAI_GAIT_NPTS; k++) {
        double t = gs->rmax > 0 ? 0.5 + 0.5 * rel[k] / gs->rmax : 0.5, rgb[3];
        xai_colormap_rgb(XAI_CMAP_BWR, t, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        double xa = fmax(x0 + pw * (k - 0.5) / 100.0, x0), xb = fmin(x0 + pw * (k + 0.5) / 100.0, x0 + pw);
        cairo_rectangle(cr, xa, y0, xb - xa + 0.5, ph);
        cairo_fill(cr);
    }
    const double *col = side_colour[s];
    if (gs->cnt[s] > 1) {
        for (int k = 0; k < XAI_GAIT_NPTS; k++)
            cairo_line_to(cr, x0 + pw * k / 100.0, y0 + ph * (hi - (b[k] + sd[k])) / (hi - lo));
        for (int k = XAI_GAIT_NPTS - 1; k >= 0; k--)
            cairo_line_to(cr, x0 + pw * k / 100.0, y0 + ph * (hi - (b[k] - sd[k])) / (hi - lo));
        cairo_close_path(cr);
        cairo_set_source_rgba(cr, col[0], col[1], col[2], 0.2);
        cairo_fill(cr);
    }
    for (int k = 0; k < XAI_GAIT_NPTS; k++)
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
    xai_gait_var_label(pre, ch / pre->ncomps, s ? "Right" : "Left", name, sizeof name);
    snprintf(lab, sizeof lab, "%s %s (deg)", name, xai_gait_component_names[pre->comps[ch % pre->ncomps]]);
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
    const xai_gait_pre *pre = g->pre;
    int rows = pre->nvars, cols = pre->ncomps;
    grid_stats gs = {NULL, (size_t)rows * (size_t)cols * XAI_GAIT_NPTS, {0, 0}, {NAN, NAN}, 0};
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
