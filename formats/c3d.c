/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * c3d.c - C3D reader and writer, plus gait-cycle segmentation.
 * Spec: c3d.org "The C3D File Format User Guide": 512-byte header block (parameter block
 * pointer, 0x50 key, counts, scale, DATA_START, rate, 18 header events), parameter section
 * (processor type 84 Intel / 85 DEC VAX-F / 86 MIPS big-endian; group and parameter
 * records with signed name lengths = locked, Fortran-ordered dimensions) and the data
 * section ([X Y Z W] per point, then analog samples, frame by frame; int16 x |SCALE| when
 * POINT:SCALE > 0, pre-scaled floats when it is negative). Gait cycles follow pyCGM2
 * (frame = round(t * rate) + 1, 101 points). Every size is checked against the real file
 * length before anything is allocated.
 */
#include "xai/c3d.h"
#include "file-util.h"
#include "xai/atomic.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK 512
#define MAX_GROUPS 129 /* group ids -1 .. -128 */

/* ------------------------------------------------------------------ helpers -- */

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static char *dups(const char *s)
{
    return dupn(s ? s : "", s ? strlen(s) : 0);
}

/* Copy a space/NUL padded field, trimming trailing blanks and leading spaces. */
static char *dup_trim(const char *s, size_t n)
{
    size_t a = 0;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\0'))
        n--;
    while (a < n && s[a] == ' ')
        a++;
    char *d = dupn(s + a, n - a);
    if (d)
        for (char *p = d; *p; p++)
            if (*p == '\0')
                *p = ' ';
    return d;
}

static int ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (toupper((unsigned char)*a) != toupper((unsigned char)*b))
            return 0;
    return *a == *b;
}

static unsigned rd_u16(const uint8_t *p, int proc)
{
    return proc == XAI_C3D_MIPS ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
}

static int rd_i16(const uint8_t *p, int proc)
{
    unsigned v = rd_u16(p, proc);
    return v >= 0x8000u ? (int)v - 65536 : (int)v;
}

static float bits_to_float(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint32_t float_to_bits(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

/*
 * VAX F-float: two little-endian 16-bit words, the first holding sign, 8-bit exponent
 * (bias 128) and the high fraction bits, with the hidden bit at 0.5. Swapping the words
 * gives an IEEE bit pattern whose value is 4x the VAX value. Exponent 0 is zero, or the
 * "reserved operand" (read as NaN) when the sign is set.
 */
static float rd_f32(const uint8_t *p, int proc)
{
    if (proc == XAI_C3D_MIPS)
        return bits_to_float((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
    if (proc == XAI_C3D_DEC) {
        uint32_t w0 = (uint32_t)p[1] << 8 | p[0], w1 = (uint32_t)p[3] << 8 | p[2];
        if (((w0 >> 7) & 0xffu) == 0)
            return (w0 & 0x8000u) ? NAN : 0.0f;
        return bits_to_float(w0 << 16 | w1) * 0.25f;
    }
    return bits_to_float((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
}

static void wr_u16(uint8_t *o, unsigned v, int proc)
{
    if (proc == XAI_C3D_MIPS) {
        o[0] = (uint8_t)(v >> 8);
        o[1] = (uint8_t)v;
    } else {
        o[0] = (uint8_t)v;
        o[1] = (uint8_t)(v >> 8);
    }
}

static void wr_f32(uint8_t *o, float v, int proc)
{
    uint32_t bits;
    if (proc == XAI_C3D_DEC) {
        if (isnan(v)) { /* reserved operand */
            o[0] = 0x00, o[1] = 0x80, o[2] = 0x00, o[3] = 0x00;
            return;
        }
        double d = (double)v * 4.0;
        if (d == 0.0 || fabs(d) < FLT_MIN) {
            memset(o, 0, 4);
            return;
        }
        if (fabs(d) > FLT_MAX)
            d = copysign(FLT_MAX, d);
        bits = float_to_bits((float)d);
        uint32_t w0 = bits >> 16, w1 = bits & 0xffffu;
        o[0] = (uint8_t)w0, o[1] = (uint8_t)(w0 >> 8), o[2] = (uint8_t)w1, o[3] = (uint8_t)(w1 >> 8);
        return;
    }
    bits = float_to_bits(v);
    if (proc == XAI_C3D_MIPS) {
        o[0] = (uint8_t)(bits >> 24), o[1] = (uint8_t)(bits >> 16), o[2] = (uint8_t)(bits >> 8), o[3] = (uint8_t)bits;
    } else {
        o[0] = (uint8_t)bits, o[1] = (uint8_t)(bits >> 8), o[2] = (uint8_t)(bits >> 16), o[3] = (uint8_t)(bits >> 24);
    }
}

void xai_c3d_close(xai_c3d *c)
{
    if (!c)
        return;
    xai_strv_free(c->point_labels, (size_t)c->npoints);
    xai_strv_free(c->point_descriptions, (size_t)c->npoints);
    xai_strv_free(c->analog_labels, (size_t)c->nanalog);
    xai_strv_free(c->analog_units, (size_t)c->nanalog);
    free(c->point_units);
    free(c->subject);
    free(c->points);
    free(c->residuals);
    free(c->analog);
    for (int i = 0; i < c->nevents; i++) {
        free(c->events[i].label);
        free(c->events[i].context);
        free(c->events[i].description);
    }
    free(c->events);
    for (int i = 0; i < c->nparams; i++) {
        free(c->params[i].group);
        free(c->params[i].name);
        free(c->params[i].description);
        free(c->params[i].data);
    }
    free(c->params);
    free(c);
}

/* ------------------------------------------------------------ parameters -- */

const xai_c3d_param *xai_c3d_param_find(const xai_c3d *c, const char *group, const char *name)
{
    if (!c || !group || !name)
        return NULL;
    for (int i = 0; i < c->nparams; i++)
        if (ieq(c->params[i].group, group) && ieq(c->params[i].name, name))
            return &c->params[i];
    return NULL;
}

double xai_c3d_param_value(const xai_c3d_param *p, size_t i)
{
    if (!p || i >= p->count)
        return NAN;
    switch (p->type) {
    case 1: return ((const uint8_t *)p->data)[i];
    case 2: return ((const int16_t *)p->data)[i];
    case 4: return ((const float *)p->data)[i];
    default: return NAN;
    }
}

/* Numeric scalar (element 0); returns 0 when absent or char-typed. */
static int pnum(const xai_c3d *c, const char *g, const char *n, double *v)
{
    const xai_c3d_param *p = xai_c3d_param_find(c, g, n);
    if (!p || p->type == -1 || p->count == 0)
        return 0;
    *v = xai_c3d_param_value(p, 0);
    return 1;
}

/* Name of the k-th continuation: BASE, BASE2, BASE3, ... */
static void cont_name(char *out, size_t n, const char *base, int k)
{
    if (k == 0)
        snprintf(out, n, "%s", base);
    else
        snprintf(out, n, "%s%d", base, k + 1);
}

/* Collect @count strings from GROUP:BASE, BASE2, ... ("" for missing ones). */
static xai_status get_strings(const xai_c3d *c, const char *g, const char *base, int count,
                              char ***out)
{
    char **v = calloc(count > 0 ? (size_t)count : 1, sizeof *v);
    if (!v)
        return xai_error_set(XAI_ENOMEM, "c3d: out of memory");
    int have = 0;
    for (int k = 0; k < 64 && have < count; k++) {
        char nm[80];
        cont_name(nm, sizeof nm, base, k);
        const xai_c3d_param *p = xai_c3d_param_find(c, g, nm);
        if (!p)
            break;
        if (p->type != -1)
            continue;
        size_t slen = p->ndim >= 1 ? (size_t)p->dims[0] : 1, nstr = 1;
        for (int d = 1; d < p->ndim; d++)
            nstr *= (size_t)p->dims[d];
        if (slen == 0)
            nstr = 0;
        for (size_t s = 0; s < nstr && have < count; s++) {
            v[have] = dup_trim((const char *)p->data + s * slen, slen);
            if (!v[have]) {
                xai_strv_free(v, (size_t)count);
                return xai_error_set(XAI_ENOMEM, "c3d: out of memory");
            }
            have++;
        }
    }
    for (int i = have; i < count; i++) {
        v[i] = dups("");
        if (!v[i]) {
            xai_strv_free(v, (size_t)count);
            return xai_error_set(XAI_ENOMEM, "c3d: out of memory");
        }
    }
    *out = v;
    return XAI_OK;
}

/* Collect @count numbers from GROUP:BASE, BASE2, ...; missing ones get @def. */
static void get_numbers(const xai_c3d *c, const char *g, const char *base, int count, double *out,
                        double def, int as_unsigned)
{
    int have = 0;
    for (int k = 0; k < 64 && have < count; k++) {
        char nm[80];
        cont_name(nm, sizeof nm, base, k);
        const xai_c3d_param *p = xai_c3d_param_find(c, g, nm);
        if (!p)
            break;
        if (p->type == -1)
            continue;
        for (size_t i = 0; i < p->count && have < count; i++) {
            double x = xai_c3d_param_value(p, i);
            if (as_unsigned && p->type == 2 && x < 0)
                x += 65536.0;
            out[have++] = x;
        }
    }
    for (int i = have; i < count; i++)
        out[i] = def;
}

/* Strip a subject prefix: a SUBJECTS:LABEL_PREFIXES entry, else anything up to the last ':'. */
static void strip_prefix(char *s, char **prefixes, int nprefix)
{
    size_t cut = 0;
    for (int i = 0; i < nprefix; i++) {
        size_t n = strlen(prefixes[i]);
        if (n > 0 && strncmp(s, prefixes[i], n) == 0) {
            cut = n;
            break;
        }
    }
    if (cut == 0) {
        const char *colon = strrchr(s, ':');
        if (colon && colon[1] != '\0')
            cut = (size_t)(colon - s) + 1;
    }
    if (cut > 0)
        memmove(s, s + cut, strlen(s + cut) + 1);
}

/* The state of one parameter-section parse: group names by id, and each parameter's group id
   (the groups are named once every record has been read: a group may follow its parameters). */
typedef struct {
    char *gname[MAX_GROUPS];
    int *pgid;
    size_t cap;
    int proc;
    const char *name;
} param_parse;

/* One group or parameter record: its name (n bytes at rname, locked when nl < 0), its id (negative:
   a group), where its body starts (q) and where the record ends. */
typedef struct {
    const char *rname;
    size_t n, q, recend;
    int nl, id;
} param_rec;

/* Room for one more parameter, zeroed, filed under the record's group id. */
static xai_status param_append(xai_c3d *c, param_parse *pp, int id, xai_c3d_param **out)
{
    if ((size_t)c->nparams == pp->cap) {
        size_t ncap = pp->cap ? pp->cap * 2 : 64;
        xai_c3d_param *np = realloc(c->params, ncap * sizeof *np);
        int *ng = realloc(pp->pgid, ncap * sizeof *ng);
        if (np)
            c->params = np;
        if (ng)
            pp->pgid = ng;
        if (!np || !ng)
            return xai_error_set(XAI_ENOMEM, "%s: out of memory", pp->name);
        pp->cap = ncap;
    }
    xai_c3d_param *p = &c->params[c->nparams];
    memset(p, 0, sizeof *p);
    pp->pgid[c->nparams] = id;
    c->nparams++;
    *out = p;
    return XAI_OK;
}

/* The values in host order (int16 and float converted from the file's processor format), then the
   description that may follow them inside the record. */
static xai_status param_values(xai_c3d_param *p, const param_parse *pp, const uint8_t *b, size_t q,
                               uint64_t bytes, size_t recend)
{
    const uint8_t *src = b + q;
    if (p->type == -1 || p->type == 1)
        memcpy(p->data, src, (size_t)bytes);
    else if (p->type == 2)
        for (size_t i = 0; i < p->count; i++)
            ((int16_t *)p->data)[i] = (int16_t)rd_i16(src + 2 * i, pp->proc);
    else
        for (size_t i = 0; i < p->count; i++)
            ((float *)p->data)[i] = rd_f32(src + 4 * i, pp->proc);
    q += (size_t)bytes;
    size_t dl = q < recend ? b[q] : 0;
    if (dl > 0 && q + 1 + dl <= recend)
        p->description = dupn((const char *)b + q + 1, dl);
    else
        p->description = dups("");
    if (!p->description)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", pp->name);
    return XAI_OK;
}

/* A parameter record: type (-1 char, 1 byte, 2 int16, 4 float), up to 7 dimensions, the values. */
static xai_status read_param(xai_c3d *c, param_parse *pp, const uint8_t *b, const param_rec *r)
{
    const char *name = pp->name, *rname = r->rname;
    int n = (int)r->n;
    size_t q = r->q, recend = r->recend;
    xai_status st;
    if (q + 2 > recend)
        return xai_error_set(XAI_EFORMAT, "%s: truncated parameter '%.*s'", name, n, rname);
    int type = (int8_t)b[q], ndim = b[q + 1];
    if (type != -1 && type != 1 && type != 2 && type != 4)
        return xai_error_set(XAI_EFORMAT, "%s: parameter '%.*s' has bad type %d", name, n, rname, type);
    if (ndim > 7)
        return xai_error_set(XAI_EFORMAT, "%s: parameter '%.*s' has %d dimensions (max 7)", name, n, rname, ndim);
    q += 2;
    if (q + (size_t)ndim > recend)
        return xai_error_set(XAI_EFORMAT, "%s: truncated parameter '%.*s'", name, n, rname);
    uint64_t count = 1;
    int dims[7] = {0};
    for (int d = 0; d < ndim; d++) {
        dims[d] = b[q + (size_t)d];
        count *= dims[d];
    }
    q += (size_t)ndim;
    uint64_t bytes = count * (uint64_t)abs(type);
    if (bytes > recend - q)
        return xai_error_set(XAI_EFORMAT, "%s: parameter '%.*s' declares %llu bytes past the end of its record",
                             name, n, rname, (unsigned long long)bytes);
    xai_c3d_param *p = NULL;
    if ((st = param_append(c, pp, r->id, &p)))
        return st;
    p->type = type;
    p->ndim = ndim;
    memcpy(p->dims, dims, sizeof dims);
    p->locked = r->nl < 0;
    p->count = (size_t)count;
    p->name = dupn(rname, r->n);
    p->data = malloc(bytes ? (size_t)bytes : 1);
    if (!p->name || !p->data)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    return param_values(p, pp, b, q, bytes, recend);
}

/* The record at pos: its header checked against the file; *nxt its offset to the next record. */
static xai_status record_at(const param_parse *pp, const uint8_t *b, size_t len, size_t pos, param_rec *r,
                           int *nxt)
{
    r->nl = (int8_t)b[pos];
    r->id = (int8_t)b[pos + 1];
    r->n = (size_t)abs(r->nl);
    if (pos + 4 + r->n > len)
        return xai_error_set(XAI_EFORMAT, "%s: truncated parameter record at byte %zu", pp->name, pos);
    r->rname = (const char *)b + pos + 2;
    *nxt = rd_i16(b + pos + 2 + r->n, pp->proc);
    r->q = pos + 4 + r->n;
    r->recend = *nxt > 0 ? pos + 2 + r->n + (size_t)*nxt : len;
    if (r->recend > len)
        return xai_error_set(XAI_EFORMAT, "%s: parameter record '%.*s' points past the end of the file", pp->name,
                             (int)r->n, r->rname);
    return XAI_OK;
}

/* Walk the records from pos until a zero name length or id, or a zero offset. */
static xai_status walk_records(xai_c3d *c, param_parse *pp, const uint8_t *b, size_t len, size_t pos)
{
    xai_status st;
    for (;;) {
        if (pos + 2 > len)
            return xai_error_set(XAI_EFORMAT, "%s: parameter section runs past the end of the file", pp->name);
        if ((int8_t)b[pos] == 0 || (int8_t)b[pos + 1] == 0)
            return XAI_OK;
        param_rec r = {0};
        int nxt = 0;
        if ((st = record_at(pp, b, len, pos, &r, &nxt)))
            return st;
        if (r.id < 0) {
            if (!pp->gname[-r.id]) {
                pp->gname[-r.id] = dupn(r.rname, r.n);
                if (!pp->gname[-r.id])
                    return xai_error_set(XAI_ENOMEM, "%s: out of memory", pp->name);
            }
        } else if ((st = read_param(c, pp, b, &r))) {
            return st;
        }
        if (nxt < 0)
            return xai_error_set(XAI_EFORMAT, "%s: parameter record '%.*s' has a negative offset %d", pp->name,
                                 (int)r.n, r.rname, nxt);
        if (nxt == 0)
            return XAI_OK;
        pos = r.recend;
    }
}

/* Parse the group and parameter records that start at byte @start (the parameter header). */
static xai_status parse_params(xai_c3d *c, const uint8_t *b, size_t len, size_t start,
                               const char *name)
{
    param_parse pp = {.proc = c->processor, .name = name};
    xai_status st = walk_records(c, &pp, b, len, start + 4);
    /* even after an error, every parameter read gets its group name, so that closing frees them alike */
    for (int i = 0; i < c->nparams; i++) {
        xai_c3d_param *p = &c->params[i];
        if (p->group)
            continue;
        const char *g = pp.pgid && pp.pgid[i] < MAX_GROUPS && pp.gname[pp.pgid[i]] ? pp.gname[pp.pgid[i]] : "";
        p->group = dups(g);
        if (!p->group && st == XAI_OK)
            st = xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    }
    for (int i = 0; i < MAX_GROUPS; i++)
        free(pp.gname[i]);
    free(pp.pgid);
    return st;
}

/* ---------------------------------------------------------------- events -- */

static xai_status push_event(xai_c3d *c, char *label, char *context, char *desc, double t, int source)
{
    xai_c3d_event *e = realloc(c->events, ((size_t)c->nevents + 1) * sizeof *e);
    if (!e || !label || !context || !desc) {
        if (e)
            c->events = e;
        free(label);
        free(context);
        free(desc);
        return xai_error_set(XAI_ENOMEM, "c3d: out of memory");
    }
    c->events = e;
    e[c->nevents].label = label;
    e[c->nevents].context = context;
    e[c->nevents].description = desc;
    e[c->nevents].time_s = t;
    e[c->nevents].source = source;
    c->nevents++;
    return XAI_OK;
}

xai_status xai_c3d_add_event(xai_c3d *c, const char *label, const char *context, double time_s, int source)
{
    if (!c || !label)
        return xai_error_set(XAI_EINVAL, "c3d: add_event: NULL argument");
    return push_event(c, dups(label), dups(context), dups(""), time_s,
                      source == XAI_C3D_EVENT_HEADER ? XAI_C3D_EVENT_HEADER : XAI_C3D_EVENT_GROUP);
}

static xai_status read_header_events(xai_c3d *c, const uint8_t *b, const char *name)
{
    int proc = c->processor;
    if (rd_u16(b + 298, proc) != 12345)
        return XAI_OK;
    unsigned n = rd_u16(b + 300, proc);
    if (n > 18)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: %u header events (max 18)", name, n);
    for (unsigned i = 0; i < n; i++) {
        double t = rd_f32(b + 304 + 4 * i, proc);
        xai_status st = push_event(c, dup_trim((const char *)b + 396 + 4 * i, 4), dups(""), dups(""), t,
                                   XAI_C3D_EVENT_HEADER);
        if (st)
            return st;
    }
    return XAI_OK;
}

static xai_status read_group_events(xai_c3d *c, const char *name)
{
    double used;
    if (!pnum(c, "EVENT", "USED", &used) || used == 0)
        return XAI_OK;
    if (used < 0)
        return xai_error_set(XAI_EFORMAT, "%s: negative EVENT:USED %g", name, used);
    if (!(used <= 65535))
        return xai_error_set(XAI_EFORMAT, "%s: huge EVENT:USED %g", name, used);
    int n = (int)used;
    const xai_c3d_param *tp = xai_c3d_param_find(c, "EVENT", "TIMES");
    if (!tp || tp->type == -1 || tp->count < 2 * (size_t)n)
        return xai_error_set(XAI_EFORMAT, "%s: EVENT:TIMES holds fewer than 2 x EVENT:USED (%d) values", name, n);
    char **lab = NULL, **ctx = NULL, **desc = NULL;
    xai_status st = get_strings(c, "EVENT", "LABELS", n, &lab);
    if (!st)
        st = get_strings(c, "EVENT", "CONTEXTS", n, &ctx);
    if (!st)
        st = get_strings(c, "EVENT", "DESCRIPTIONS", n, &desc);
    for (int i = 0; i < n && !st; i++) {
        double t = xai_c3d_param_value(tp, 2 * (size_t)i) * 60.0 + xai_c3d_param_value(tp, 2 * (size_t)i + 1);
        st = push_event(c, lab[i], ctx[i], desc[i], t, XAI_C3D_EVENT_GROUP);
        lab[i] = ctx[i] = desc[i] = NULL;
    }
    xai_strv_free(lab, (size_t)(lab ? n : 0));
    xai_strv_free(ctx, (size_t)(ctx ? n : 0));
    xai_strv_free(desc, (size_t)(desc ? n : 0));
    return st;
}

/* ---------------------------------------------------------------- reader -- */

/* Where the header and parameters put things, as read_c3d works them out. */
typedef struct {
    unsigned pblock;          /* first parameter block (1-based) */
    int proc;                 /* processor type: byte order and float format */
    long npoints, nanalog, aspf; /* points, analog channels, analog samples per frame */
    double scale;             /* POINT:SCALE; negative: float storage */
    size_t doff;              /* byte offset of the data section */
    uint64_t bpv, frame_bytes; /* bytes per value and per frame */
} c3d_layout;

/* The header's key, the parameter block pointer and the processor type. */
static xai_status check_header(c3d_layout *lo, const uint8_t *b, size_t len, const char *name)
{
    if (len < BLOCK)
        return xai_error_set(XAI_EFORMAT, "%s: truncated: %zu bytes, a C3D header needs 512", name, len);
    if (b[1] != 0x50)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: byte 2 is 0x%02x, not the C3D key 0x50", name, b[1]);
    lo->pblock = b[0];
    if (lo->pblock < 2 || (size_t)lo->pblock * BLOCK > len)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: parameter block %u outside the file (%zu bytes)", name,
                             lo->pblock, len);
    size_t pstart = (size_t)(lo->pblock - 1) * BLOCK;
    lo->proc = b[pstart + 3];
    if (lo->proc != XAI_C3D_INTEL && lo->proc != XAI_C3D_DEC && lo->proc != XAI_C3D_MIPS)
        return xai_error_set(XAI_EFORMAT, "%s: bad parameter header: processor type %d (expected 84, 85 or 86)",
                             name, lo->proc);
    return XAI_OK;
}

/* Point and analog channel counts: the parameters (POINT:USED, ANALOG:USED) over the header's words. */
static xai_status read_counts(c3d_layout *lo, const xai_c3d *c, const uint8_t *b, const char *name)
{
    double v;
    lo->npoints = (long)rd_u16(b + 2, lo->proc);
    if (pnum(c, "POINT", "USED", &v)) {
        if (v < 0)
            return xai_error_set(XAI_EFORMAT, "%s: negative POINT:USED %g", name, v);
        if (!(v <= 65535))
            return xai_error_set(XAI_EFORMAT, "%s: huge POINT:USED %g", name, v);
        lo->npoints = (long)v;
    }
    long analog_values = (long)rd_u16(b + 4, lo->proc);
    lo->aspf = (long)rd_u16(b + 18, lo->proc);
    lo->nanalog = 0;
    double aused = -1;
    if (pnum(c, "ANALOG", "USED", &aused) && aused < 0)
        return xai_error_set(XAI_EFORMAT, "%s: negative ANALOG:USED %g", name, aused);
    if (!(aused <= 65535) || (aused >= 0 && aused != floor(aused)))
        return xai_error_set(XAI_EFORMAT, "%s: bad ANALOG:USED %g", name, aused);
    if (analog_values <= 0) {
        lo->aspf = 0;
    } else if (aused > 0) {
        lo->nanalog = (long)aused;
        if (analog_values % lo->nanalog != 0)
            return xai_error_set(XAI_EFORMAT,
                                 "%s: bad header: %ld analog values per frame is not a multiple of ANALOG:USED %ld",
                                 name, analog_values, lo->nanalog);
        lo->aspf = analog_values / lo->nanalog;
    } else {
        if (lo->aspf <= 0 || analog_values % lo->aspf != 0)
            return xai_error_set(XAI_EFORMAT, "%s: bad header: %ld analog values with %ld samples per frame", name,
                                 analog_values, lo->aspf);
        lo->nanalog = analog_values / lo->aspf;
    }
    return XAI_OK;
}

/* POINT:SCALE (its sign selects the storage) and the point and analog rates. */
static xai_status read_scale_rates(c3d_layout *lo, xai_c3d *c, const uint8_t *b, const char *name)
{
    double v;
    lo->scale = rd_f32(b + 12, lo->proc);
    if (pnum(c, "POINT", "SCALE", &v))
        lo->scale = v;
    if (!isfinite(lo->scale) || lo->scale == 0.0)
        return xai_error_set(XAI_EFORMAT, "%s: bad POINT:SCALE %g", name, lo->scale);
    c->point_scale = (float)lo->scale;
    c->float_storage = lo->scale < 0;
    double rate = rd_f32(b + 20, lo->proc);
    if (pnum(c, "POINT", "RATE", &v))
        rate = v;
    if (!(rate > 0) || !isfinite(rate))
        return xai_error_set(XAI_EFORMAT, "%s: zero or invalid point rate %g", name, rate);
    c->point_rate = rate;
    if (lo->nanalog > 0) {
        double ar = rate * (double)lo->aspf;
        if (pnum(c, "ANALOG", "RATE", &v))
            ar = v;
        if (!(ar > 0) || !isfinite(ar))
            return xai_error_set(XAI_EFORMAT, "%s: zero or invalid analog rate %g", name, ar);
        c->analog_rate = ar;
    }
    return XAI_OK;
}

/* The frame count of a long trial (over 65535 frames), or -1: TRIAL:ACTUAL_START/END_FIELD (two
   16-bit words each), or POINT:LONG_FRAMES / a float POINT:FRAMES where larger. */
static int64_t long_trial_frames(const xai_c3d *c, int64_t *long_first)
{
    const xai_c3d_param *as = xai_c3d_param_find(c, "TRIAL", "ACTUAL_START_FIELD");
    const xai_c3d_param *ae = xai_c3d_param_find(c, "TRIAL", "ACTUAL_END_FIELD");
    int64_t long_frames = -1;
    *long_first = -1;
    if (as && ae && as->type == 2 && ae->type == 2 && as->count >= 2 && ae->count >= 2) {
        const int16_t *s = as->data, *e = ae->data;
        int64_t s64 = (int64_t)(uint16_t)s[0] | (int64_t)(uint16_t)s[1] << 16;
        int64_t e64 = (int64_t)(uint16_t)e[0] | (int64_t)(uint16_t)e[1] << 16;
        if (e64 >= s64 && s64 > 0) {
            long_frames = e64 - s64 + 1;
            *long_first = s64;
        }
    }
    const xai_c3d_param *lf = xai_c3d_param_find(c, "POINT", "LONG_FRAMES");
    if (lf && lf->type != -1 && lf->count > 0) {
        double x = xai_c3d_param_value(lf, 0);
        if (lf->type == 2 && x < 0)
            x += 65536.0;
        if (x > (double)long_frames && x < 4e9)
            long_frames = (int64_t)x;
    }
    const xai_c3d_param *pf = xai_c3d_param_find(c, "POINT", "FRAMES");
    if (pf && pf->type == 4 && pf->count > 0) {
        double x = xai_c3d_param_value(pf, 0);
        if (x > (double)long_frames && x < 4e9)
            long_frames = (int64_t)x;
    }
    return long_frames;
}

/* Frames: header words 4/5, or the long-trial parameters when the header saturates. */
static xai_status read_frames(xai_c3d *c, const c3d_layout *lo, const uint8_t *b, const char *name,
                              int64_t *nframes)
{
    unsigned first = rd_u16(b + 6, lo->proc), last = rd_u16(b + 8, lo->proc);
    int64_t frames = last >= first && first > 0 ? (int64_t)last - first + 1 : -1;
    int64_t first64 = first, long_first;
    int64_t long_frames = long_trial_frames(c, &long_first);
    if (long_frames > 0 && (frames < 0 || (last == 65535 && long_frames > frames))) {
        frames = long_frames;
        if (long_first > 0)
            first64 = long_first;
    }
    if (frames < 0) {
        if (first == 0 && last == 0)
            frames = 0;
        else
            return xai_error_set(XAI_EFORMAT, "%s: bad header: last frame %u before first frame %u", name, last, first);
    }
    c->first_frame = first64;
    *nframes = frames;
    return XAI_OK;
}

/* The data section's start, and its size checked against the real file length. */
static xai_status check_data_size(c3d_layout *lo, const xai_c3d *c, const uint8_t *b, size_t len,
                                  int64_t frames, const char *name)
{
    double v;
    unsigned dstart = rd_u16(b + 16, lo->proc);
    if (dstart == 0 && pnum(c, "POINT", "DATA_START", &v) && v > 0 && v < 65536)
        dstart = (unsigned)v;
    if (dstart <= lo->pblock)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: DATA_START block %u overlaps the parameter section (block %u)",
                             name, dstart, lo->pblock);
    lo->doff = (size_t)(dstart - 1) * BLOCK;
    lo->bpv = c->float_storage ? 4 : 2;
    lo->frame_bytes = ((uint64_t)lo->npoints * 4 + (uint64_t)lo->nanalog * (uint64_t)lo->aspf) * lo->bpv;
    if (frames > 0 && lo->frame_bytes > 0) {
        uint64_t avail = len > lo->doff ? len - lo->doff : 0;
        if ((uint64_t)frames > avail / lo->frame_bytes)
            return xai_error_set(XAI_EFORMAT,
                                 "%s: truncated: %lld frames of %llu bytes from byte %zu need more than the %zu-byte file",
                                 name, (long long)frames, (unsigned long long)lo->frame_bytes, lo->doff, len);
    } else if (frames > 0 && lo->doff > len) {
        return xai_error_set(XAI_EFORMAT, "%s: truncated: DATA_START block %u beyond the file", name, dstart);
    }
    return XAI_OK;
}

/* Labels (subject prefixes stripped), descriptions, units and the subject name. */
static xai_status read_labels(xai_c3d *c)
{
    xai_status st;
    char **prefixes = NULL;
    double nsub = 0;
    int nprefix = 0;
    if (pnum(c, "SUBJECTS", "USED", &nsub) && nsub > 0 && nsub < 1000)
        nprefix = (int)nsub;
    if ((st = get_strings(c, "SUBJECTS", "LABEL_PREFIXES", nprefix, &prefixes)))
        return st;
    st = get_strings(c, "POINT", "LABELS", c->npoints, &c->point_labels);
    if (!st)
        for (int i = 0; i < c->npoints; i++)
            strip_prefix(c->point_labels[i], prefixes, nprefix);
    xai_strv_free(prefixes, (size_t)nprefix);
    if (st)
        return st;
    if ((st = get_strings(c, "POINT", "DESCRIPTIONS", c->npoints, &c->point_descriptions)))
        return st;
    char **tmp = NULL;
    if ((st = get_strings(c, "POINT", "UNITS", 1, &tmp)))
        return st;
    c->point_units = tmp[0];
    free(tmp);
    if ((st = get_strings(c, "SUBJECTS", "NAMES", 1, &tmp)))
        return st;
    c->subject = tmp[0];
    free(tmp);
    if ((st = get_strings(c, "ANALOG", "LABELS", c->nanalog, &c->analog_labels)))
        return st;
    return get_strings(c, "ANALOG", "UNITS", c->nanalog, &c->analog_units);
}

/* Per channel: physical = (raw - OFFSET) * SCALE * GEN_SCALE. *ascale holds the scales, then the
   offsets (one allocation, nanalog + 1 each); *is_unsigned when ANALOG:FORMAT says UNSIGNED. */
static xai_status analog_scaling(const xai_c3d *c, const char *name, double **ascale, int *is_unsigned)
{
    *is_unsigned = 0;
    const xai_c3d_param *fmt = xai_c3d_param_find(c, "ANALOG", "FORMAT");
    if (fmt && fmt->type == -1 && fmt->count >= 8 && strncmp((const char *)fmt->data, "UNSIGNED", 8) == 0)
        *is_unsigned = 1;
    double gen = 1.0;
    pnum(c, "ANALOG", "GEN_SCALE", &gen);
    if (!isfinite(gen))
        return xai_error_set(XAI_EFORMAT, "%s: bad ANALOG:GEN_SCALE %g", name, gen);
    double *sc = malloc(((size_t)c->nanalog + 1) * 2 * sizeof *sc);
    if (!sc)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    double *aoff = sc + c->nanalog + 1;
    get_numbers(c, "ANALOG", "SCALE", c->nanalog, sc, 1.0, 0);
    get_numbers(c, "ANALOG", "OFFSET", c->nanalog, aoff, 0.0, *is_unsigned);
    for (int i = 0; i < c->nanalog; i++) {
        if (!isfinite(sc[i]) || !isfinite(aoff[i])) {
            free(sc);
            return xai_error_set(XAI_EFORMAT, "%s: bad ANALOG:SCALE/OFFSET for channel %d (%s)", name, i + 1,
                                 c->analog_labels[i]);
        }
        sc[i] *= gen;
    }
    *ascale = sc;
    return XAI_OK;
}

/* One frame's points: [X Y Z W] as int16 x |scale| or as floats; W < 0 marks a missing point
   (NaN coordinates, residual -1), else its low byte x |scale| is the residual. */
static void read_frame_points(xai_c3d *c, const c3d_layout *lo, const uint8_t *fr, size_t f)
{
    size_t np = (size_t)c->npoints;
    double ps = fabs(lo->scale);
    for (size_t p = 0; p < np; p++) {
        float *xyz = c->points + (f * np + p) * 3;
        float *res = c->residuals + f * np + p;
        int valid;
        long word;
        if (c->float_storage) {
            const uint8_t *q = fr + p * 16;
            float w = rd_f32(q + 12, lo->proc);
            valid = w >= 0;
            word = valid ? (w > 65535.0f ? 65535 : (long)w) : -1;
            for (int k = 0; k < 3; k++)
                xyz[k] = rd_f32(q + 4 * k, lo->proc);
        } else {
            const uint8_t *q = fr + p * 8;
            word = rd_i16(q + 6, lo->proc);
            valid = word >= 0;
            for (int k = 0; k < 3; k++)
                xyz[k] = (float)(rd_i16(q + 2 * k, lo->proc) * ps);
        }
        if (valid) {
            *res = (float)((double)(word & 0xff) * ps);
        } else {
            xyz[0] = xyz[1] = xyz[2] = NAN;
            *res = -1.0f;
        }
    }
}

/* One frame's analog samples (sample-major in the file), scaled into channel-major c->analog. */
static void read_frame_analog(xai_c3d *c, const c3d_layout *lo, const uint8_t *fr, size_t f,
                              const double *ascale, int is_unsigned)
{
    size_t na = (size_t)c->nanalog, ns = (size_t)c->frames * (size_t)c->analog_per_frame;
    const double *aoff = ascale + c->nanalog + 1;
    const uint8_t *aq = fr + (size_t)c->npoints * 4 * lo->bpv;
    for (size_t s = 0; s < (size_t)c->analog_per_frame; s++)
        for (size_t ch = 0; ch < na; ch++) {
            double raw;
            const uint8_t *q = aq + (s * na + ch) * lo->bpv;
            if (c->float_storage)
                raw = rd_f32(q, lo->proc);
            else
                raw = is_unsigned ? (double)rd_u16(q, lo->proc) : (double)rd_i16(q, lo->proc);
            c->analog[ch * ns + f * (size_t)c->analog_per_frame + s] = (float)((raw - aoff[ch]) * ascale[ch]);
        }
}

static xai_status read_data(xai_c3d *c, const c3d_layout *lo, const uint8_t *b, const char *name)
{
    xai_status st;
    double *ascale = NULL;
    int is_unsigned;
    if ((st = analog_scaling(c, name, &ascale, &is_unsigned)))
        return st;
    size_t nf = (size_t)c->frames, np = (size_t)c->npoints, na = (size_t)c->nanalog,
           ns = nf * (size_t)c->analog_per_frame;
    c->points = malloc(nf * np * 3 * sizeof(float) + 1);
    c->residuals = malloc(nf * np * sizeof(float) + 1);
    c->analog = malloc(na * ns * sizeof(float) + 1);
    if (!c->points || !c->residuals || !c->analog) {
        free(ascale);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory for %zu frames", name, nf);
    }
    for (size_t f = 0; f < nf; f++) {
        const uint8_t *fr = b + lo->doff + f * (size_t)lo->frame_bytes;
        read_frame_points(c, lo, fr, f);
        read_frame_analog(c, lo, fr, f, ascale, is_unsigned);
    }
    free(ascale);
    return XAI_OK;
}

static xai_status read_c3d(xai_c3d *c, const uint8_t *b, size_t len, const char *name)
{
    xai_status st;
    c3d_layout lo = {0}; /* zeroed for the compiler: each step fills its part before the next reads it */
    int64_t frames = 0;
    if ((st = check_header(&lo, b, len, name)))
        return st;
    c->processor = lo.proc;
    if ((st = parse_params(c, b, len, (size_t)(lo.pblock - 1) * BLOCK, name)) ||
        (st = read_counts(&lo, c, b, name)) || (st = read_scale_rates(&lo, c, b, name)) ||
        (st = read_frames(c, &lo, b, name, &frames)) || (st = check_data_size(&lo, c, b, len, frames, name)))
        return st;
    c->frames = frames;
    c->npoints = (int)lo.npoints;
    c->nanalog = (int)lo.nanalog;
    c->analog_per_frame = (int)lo.aspf;
    if ((st = read_labels(c)) || (st = read_data(c, &lo, b, name)) || (st = read_header_events(c, b, name)))
        return st;
    return read_group_events(c, name);
}

xai_status xai_c3d_open_mem(const void *buf, size_t len, const char *name, xai_c3d **out)
{
    if (!out || (!buf && len))
        return xai_error_set(XAI_EINVAL, "c3d: open_mem: NULL argument");
    *out = NULL;
    if (!name)
        name = "<memory>";
    xai_c3d *c = calloc(1, sizeof *c);
    if (!c)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    xai_status st = read_c3d(c, buf ? buf : "", len, name);
    if (st) {
        xai_c3d_close(c);
        return st;
    }
    *out = c;
    return XAI_OK;
}

xai_status xai_c3d_open(const char *path, xai_c3d **out)
{
    if (!path || !out)
        return xai_error_set(XAI_EINVAL, "c3d: open: NULL argument");
    *out = NULL;
    FILE *f;
    uint64_t size;
    xai_status st = xai_file_open_regular(path, &f, &size);
    if (st)
        return st;
    size_t len = (size_t)size;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        fclose(f);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory (%zu bytes)", path, len);
    }
    if (len && fread(buf, 1, len, f) != len) {
        free(buf);
        fclose(f);
        return xai_error_set(XAI_EIO, "%s: short read", path);
    }
    fclose(f);
    st = xai_c3d_open_mem(buf, len, path, out);
    free(buf);
    return st;
}

/* ------------------------------------------------------------- new/query -- */

xai_status xai_c3d_new(int npoints, int nanalog, int64_t frames, int analog_per_frame, double point_rate,
                       xai_c3d **out)
{
    if (!out)
        return xai_error_set(XAI_EINVAL, "c3d: new: NULL argument");
    *out = NULL;
    if (npoints < 0 || nanalog < 0 || frames < 0 || analog_per_frame < 0 || !(point_rate > 0) ||
        (nanalog > 0 && analog_per_frame == 0))
        return xai_error_set(XAI_EINVAL, "c3d: new: bad sizes (points %d, analog %d x %d, frames %lld, rate %g)",
                             npoints, nanalog, analog_per_frame, (long long)frames, point_rate);
    xai_c3d *c = calloc(1, sizeof *c);
    if (!c)
        return xai_error_set(XAI_ENOMEM, "c3d: out of memory");
    c->processor = XAI_C3D_INTEL;
    c->float_storage = 1;
    c->point_scale = -1.0f;
    c->point_rate = point_rate;
    c->analog_rate = nanalog > 0 ? point_rate * analog_per_frame : 0;
    c->first_frame = 1;
    c->frames = frames;
    c->npoints = npoints;
    c->nanalog = nanalog;
    c->analog_per_frame = nanalog > 0 ? analog_per_frame : 0;
    size_t nf = (size_t)frames, ns = nf * (size_t)c->analog_per_frame;
    c->points = calloc(nf * (size_t)npoints * 3 + 1, sizeof(float));
    c->residuals = calloc(nf * (size_t)npoints + 1, sizeof(float));
    c->analog = calloc((size_t)nanalog * ns + 1, sizeof(float));
    c->point_labels = calloc((size_t)npoints + 1, sizeof(char *));
    c->point_descriptions = calloc((size_t)npoints + 1, sizeof(char *));
    c->analog_labels = calloc((size_t)nanalog + 1, sizeof(char *));
    c->analog_units = calloc((size_t)nanalog + 1, sizeof(char *));
    c->point_units = dups("mm");
    c->subject = dups("");
    int ok = c->points && c->residuals && c->analog && c->point_labels && c->point_descriptions &&
             c->analog_labels && c->analog_units && c->point_units && c->subject;
    char tmp[32];
    for (int i = 0; ok && i < npoints; i++) {
        snprintf(tmp, sizeof tmp, "P%d", i + 1);
        c->point_labels[i] = dups(tmp);
        c->point_descriptions[i] = dups("");
        ok = c->point_labels[i] && c->point_descriptions[i];
    }
    for (int i = 0; ok && i < nanalog; i++) {
        snprintf(tmp, sizeof tmp, "A%d", i + 1);
        c->analog_labels[i] = dups(tmp);
        c->analog_units[i] = dups("V");
        ok = c->analog_labels[i] && c->analog_units[i];
    }
    if (!ok) {
        xai_c3d_close(c);
        return xai_error_set(XAI_ENOMEM, "c3d: out of memory");
    }
    *out = c;
    return XAI_OK;
}

int xai_c3d_point_index(const xai_c3d *c, const char *label)
{
    for (int i = 0; c && label && i < c->npoints; i++)
        if (c->point_labels[i] && strcmp(c->point_labels[i], label) == 0)
            return i;
    return -1;
}

int xai_c3d_analog_index(const xai_c3d *c, const char *label)
{
    for (int i = 0; c && label && i < c->nanalog; i++)
        if (c->analog_labels[i] && strcmp(c->analog_labels[i], label) == 0)
            return i;
    return -1;
}

/* ---------------------------------------------------------------- writer -- */

typedef struct {
    uint8_t *p;
    size_t n, cap;
    int err;
    int proc;
    size_t last_off; /* position of the last record's offset field */
} wbuf;

static void put(wbuf *w, const void *src, size_t n)
{
    if (w->err)
        return;
    if (w->n + n > w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 4096;
        while (nc < w->n + n)
            nc *= 2;
        uint8_t *np = realloc(w->p, nc);
        if (!np) {
            w->err = 1;
            return;
        }
        w->p = np;
        w->cap = nc;
    }
    memcpy(w->p + w->n, src, n);
    w->n += n;
}

static void put_u8(wbuf *w, int v)
{
    uint8_t b = (uint8_t)v;
    put(w, &b, 1);
}

static void put_i16(wbuf *w, int v)
{
    uint8_t o[2];
    wr_u16(o, (unsigned)v & 0xffffu, w->proc);
    put(w, o, 2);
}

static void put_f32(wbuf *w, float v)
{
    uint8_t o[4];
    wr_f32(o, v, w->proc);
    put(w, o, 4);
}

static void put_group(wbuf *w, int id, const char *name)
{
    size_t n = strlen(name);
    put_u8(w, (int)n);
    put_u8(w, -id);
    put(w, name, n);
    w->last_off = w->n;
    put_i16(w, 3);
    put_u8(w, 0);
}

/* Parameter record header up to the data; @bytes is the data size that follows. */
static void put_param_head(wbuf *w, int gid, const char *name, int type, int ndim, const int *dims, size_t bytes)
{
    size_t n = strlen(name);
    put_u8(w, (int)n);
    put_u8(w, gid);
    put(w, name, n);
    w->last_off = w->n;
    put_i16(w, (int)(2 + 1 + 1 + (size_t)ndim + bytes + 1));
    put_u8(w, type);
    put_u8(w, ndim);
    for (int d = 0; d < ndim; d++)
        put_u8(w, dims[d]);
}

static void put_param_i16(wbuf *w, int gid, const char *name, int ndim, const int *dims, const int *v, size_t n)
{
    put_param_head(w, gid, name, 2, ndim, dims, 2 * n);
    for (size_t i = 0; i < n; i++)
        put_i16(w, v[i]);
    put_u8(w, 0);
}

static void put_param_f32(wbuf *w, int gid, const char *name, int ndim, const int *dims, const float *v, size_t n)
{
    put_param_head(w, gid, name, 4, ndim, dims, 4 * n);
    for (size_t i = 0; i < n; i++)
        put_f32(w, v[i]);
    put_u8(w, 0);
}

static void put_param_str(wbuf *w, int gid, const char *name, const char *s)
{
    size_t n = strlen(s);
    if (n > 255)
        n = 255;
    int dims[1] = {n ? (int)n : 1};
    put_param_head(w, gid, name, -1, 1, dims, (size_t)dims[0]);
    put(w, n ? s : " ", (size_t)dims[0]);
    put_u8(w, 0);
}

static void put_scalar_i16(wbuf *w, int gid, const char *name, int v)
{
    put_param_i16(w, gid, name, 0, NULL, &v, 1);
}

static void put_scalar_f32(wbuf *w, int gid, const char *name, float v)
{
    put_param_f32(w, gid, name, 0, NULL, &v, 1);
}

/* String arrays [len, n], split into BASE, BASE2, ... of at most 255 entries. */
static void put_param_strs(wbuf *w, int gid, const char *base, char *const *s, int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++)
        if (s[i] && strlen(s[i]) > len)
            len = strlen(s[i]);
    if (len > 255)
        len = 255;
    for (int k = 0, i0 = 0; i0 < n || k == 0; k++, i0 += 255) {
        int cnt = n - i0 < 255 ? n - i0 : 255;
        char nm[80];
        cont_name(nm, sizeof nm, base, k);
        int dims[2] = {(int)len, cnt};
        put_param_head(w, gid, nm, -1, 2, dims, len * (size_t)cnt);
        for (int i = i0; i < i0 + cnt; i++) {
            char field[256];
            memset(field, ' ', len);
            size_t sl = s[i] ? strlen(s[i]) : 0;
            memcpy(field, s[i] ? s[i] : "", sl < len ? sl : len);
            put(w, field, len);
        }
        put_u8(w, 0);
        if (n == 0)
            break;
    }
}

/* A number array as BASE, BASE2, ... of at most 255 values each: float when @p f32,
 * else int16 (@p v points to floats or ints accordingly). */
static void put_param_nums(wbuf *w, int gid, const char *base, int f32, const void *v, int n)
{
    for (int k = 0, i0 = 0; i0 < n || k == 0; k++, i0 += 255) {
        int cnt = n - i0 < 255 ? n - i0 : 255;
        char nm[80];
        cont_name(nm, sizeof nm, base, k);
        if (f32)
            put_param_f32(w, gid, nm, 1, &cnt, (const float *)v + i0, (size_t)cnt);
        else
            put_param_i16(w, gid, nm, 1, &cnt, (const int *)v + i0, (size_t)cnt);
        if (n == 0)
            break;
    }
}

enum { G_POINT = 1, G_ANALOG, G_EVENT, G_SUBJECTS, G_TRIAL };

static xai_status write_file(const char *path, const uint8_t *head, size_t nhead, const xai_c3d *c,
                             const float *ascale, double pscale, int integer, int proc);

/* What the writer checks before writing anything; counts the EVENT-group and header events. */
static xai_status check_trial(const char *path, const xai_c3d *c, int proc, int *ngev, int *nhev)
{
    if (proc != XAI_C3D_INTEL && proc != XAI_C3D_DEC && proc != XAI_C3D_MIPS)
        return xai_error_set(XAI_EINVAL, "%s: write: bad processor type %d", path, proc);
    if (c->npoints < 0 || c->nanalog < 0 || c->frames < 0 || c->analog_per_frame < 0 || c->npoints > 65535 ||
        (long)c->nanalog * c->analog_per_frame > 65535 || (c->nanalog > 0 && c->analog_per_frame == 0) ||
        !(c->point_rate > 0) || c->first_frame < 1 || c->first_frame > 65535 || c->frames > 0x7fffffffLL)
        return xai_error_set(XAI_EINVAL, "%s: write: inconsistent trial (points %d, analog %d x %d, frames %lld)", path,
                             c->npoints, c->nanalog, c->analog_per_frame, (long long)c->frames);
    *ngev = 0;
    *nhev = 0;
    for (int i = 0; i < c->nevents; i++)
        if (c->events[i].source == XAI_C3D_EVENT_HEADER)
            (*nhev)++;
        else
            (*ngev)++;
    if (*ngev > 255)
        return xai_error_set(XAI_EUNSUPPORTED, "%s: write: %d EVENT-group events (max 255)", path, *ngev);
    if (*nhev > 18)
        return xai_error_set(XAI_EUNSUPPORTED, "%s: write: %d header events (max 18)", path, *nhev);
    return XAI_OK;
}

/* POINT:SCALE: for int16 storage the given scale, else the largest |coordinate| maps to 32000
   (rounded to float, as stored); for float storage the trial's scale made negative. */
static double write_point_scale(const xai_c3d *c, const xai_c3d_write_options *opt, int integer)
{
    if (!integer)
        return c->point_scale != 0 && isfinite(c->point_scale) ? -fabs(c->point_scale) : -1.0;
    double pscale = opt && opt->point_scale > 0 ? opt->point_scale : 0;
    if (pscale == 0) {
        size_t n = (size_t)c->frames * (size_t)c->npoints * 3;
        double mx = 0;
        for (size_t i = 0; i < n; i++)
            if (isfinite(c->points[i]) && fabs(c->points[i]) > mx)
                mx = fabs(c->points[i]);
        pscale = mx > 0 ? mx / 32000.0 : 1.0;
        pscale = (float)pscale;
    }
    return pscale;
}

/* ANALOG:SCALE per channel: with int16 storage its largest |value| maps to 32000, else 1. */
static void write_analog_scales(const xai_c3d *c, int integer, float *ascale)
{
    size_t na = (size_t)c->nanalog, ns = (size_t)c->frames * (size_t)c->analog_per_frame;
    for (size_t ch = 0; ch < na; ch++) {
        double mx = 0;
        if (integer)
            for (size_t s = 0; s < ns; s++)
                if (isfinite(c->analog[ch * ns + s]) && fabs(c->analog[ch * ns + s]) > mx)
                    mx = fabs(c->analog[ch * ns + s]);
        ascale[ch] = integer && mx > 0 ? (float)(mx / 32000.0) : 1.0f;
    }
}

/* The POINT group; returns where DATA_START's record starts, to be patched once it is known. */
static size_t put_point_params(wbuf *w, const xai_c3d *c, double pscale)
{
    put_scalar_i16(w, G_POINT, "USED", c->npoints);
    if (c->frames <= 65535)
        put_scalar_i16(w, G_POINT, "FRAMES", (int)c->frames);
    else {
        put_scalar_f32(w, G_POINT, "FRAMES", (float)c->frames);
        put_scalar_f32(w, G_POINT, "LONG_FRAMES", (float)c->frames);
    }
    size_t data_start_pos = w->n;
    put_scalar_i16(w, G_POINT, "DATA_START", 0); /* patched below */
    put_scalar_f32(w, G_POINT, "SCALE", (float)pscale);
    put_scalar_f32(w, G_POINT, "RATE", (float)c->point_rate);
    put_param_str(w, G_POINT, "UNITS", c->point_units ? c->point_units : "mm");
    put_param_strs(w, G_POINT, "LABELS", c->point_labels, c->npoints);
    if (c->point_descriptions)
        put_param_strs(w, G_POINT, "DESCRIPTIONS", c->point_descriptions, c->npoints);
    return data_start_pos;
}

static void put_analog_params(wbuf *w, const xai_c3d *c, const float *ascale, const int *aoff)
{
    put_scalar_i16(w, G_ANALOG, "USED", c->nanalog);
    put_param_strs(w, G_ANALOG, "LABELS", c->analog_labels, c->nanalog);
    put_param_strs(w, G_ANALOG, "UNITS", c->analog_units, c->nanalog);
    put_param_nums(w, G_ANALOG, "SCALE", 1, ascale, c->nanalog);
    put_param_nums(w, G_ANALOG, "OFFSET", 0, aoff, c->nanalog);
    put_scalar_f32(w, G_ANALOG, "GEN_SCALE", 1.0f);
    put_scalar_f32(w, G_ANALOG, "RATE", (float)(c->nanalog > 0 ? c->analog_rate : 0.0));
    put_param_str(w, G_ANALOG, "FORMAT", "SIGNED");
    put_scalar_i16(w, G_ANALOG, "BITS", 16);
}

/* The EVENT group: the events that are not header events, times as (minutes, seconds). */
static void put_event_params(wbuf *w, const xai_c3d *c, int ngev)
{
    put_scalar_i16(w, G_EVENT, "USED", ngev);
    char **lab = calloc((size_t)ngev + 1, sizeof *lab), **ctx = calloc((size_t)ngev + 1, sizeof *ctx),
         **desc = calloc((size_t)ngev + 1, sizeof *desc);
    float *times = calloc(2 * (size_t)ngev + 1, sizeof *times);
    if (!lab || !ctx || !desc || !times)
        w->err = 1;
    int k = 0;
    for (int i = 0; !w->err && i < c->nevents; i++) {
        const xai_c3d_event *e = &c->events[i];
        if (e->source == XAI_C3D_EVENT_HEADER)
            continue;
        lab[k] = e->label;
        ctx[k] = e->context;
        desc[k] = e->description;
        double m = floor(e->time_s / 60.0);
        times[2 * k] = (float)m;
        times[2 * k + 1] = (float)(e->time_s - 60.0 * m);
        k++;
    }
    if (!w->err) {
        put_param_strs(w, G_EVENT, "LABELS", lab, ngev);
        put_param_strs(w, G_EVENT, "CONTEXTS", ctx, ngev);
        put_param_strs(w, G_EVENT, "DESCRIPTIONS", desc, ngev);
        int dims[2] = {2, ngev};
        put_param_f32(w, G_EVENT, "TIMES", 2, dims, times, 2 * (size_t)ngev);
    }
    free(lab);
    free(ctx);
    free(desc);
    free(times);
}

/* SUBJECTS, and TRIAL's first and last frame as two 16-bit words each (long trials). */
static void put_subject_trial_params(wbuf *w, const xai_c3d *c)
{
    int has_subject = c->subject && c->subject[0];
    put_scalar_i16(w, G_SUBJECTS, "USED", has_subject);
    if (has_subject) {
        char *names[1] = {c->subject};
        put_param_strs(w, G_SUBJECTS, "NAMES", names, 1);
    }
    int64_t s = c->first_frame, e = c->first_frame + c->frames - 1;
    int sv[2] = {(int)(s & 0xffff), (int)((s >> 16) & 0xffff)};
    int ev[2] = {(int)(e & 0xffff), (int)((e >> 16) & 0xffff)};
    int d = 2;
    put_param_i16(w, G_TRIAL, "ACTUAL_START_FIELD", 1, &d, sv, 2);
    put_param_i16(w, G_TRIAL, "ACTUAL_END_FIELD", 1, &d, ev, 2);
}

/* The whole parameter section, padded to blocks; *dstart the data section's first block. */
static xai_status put_params(wbuf *w, const char *path, const xai_c3d *c, int ngev, double pscale,
                             const float *ascale, const int *aoff, unsigned *dstart)
{
    uint8_t ph[4] = {1, 0x50, 0, (uint8_t)w->proc};
    put(w, ph, 4);
    put_group(w, G_POINT, "POINT");
    put_group(w, G_ANALOG, "ANALOG");
    put_group(w, G_EVENT, "EVENT");
    put_group(w, G_SUBJECTS, "SUBJECTS");
    put_group(w, G_TRIAL, "TRIAL");
    size_t data_start_pos = put_point_params(w, c, pscale);
    put_analog_params(w, c, ascale, aoff);
    put_event_params(w, c, ngev);
    put_subject_trial_params(w, c);
    if (!w->err) { /* the last record's offset is 0: end of the parameter section */
        wr_u16(w->p + w->last_off, 0, w->proc);
    }
    size_t nblocks = (w->n + 1 + BLOCK - 1) / BLOCK;
    if (w->err || nblocks > 255)
        return xai_error_set(w->err ? XAI_ENOMEM : XAI_EUNSUPPORTED, "%s: write: parameter section too large", path);
    *dstart = (unsigned)(2 + nblocks);
    /* DATA_START value follows name(10) + header(2+2) + type/ndim(2). */
    size_t vpos = data_start_pos + 2 + strlen("DATA_START") + 2 + 2;
    wr_u16(w->p + vpos, *dstart, w->proc);
    w->p[2] = (uint8_t)nblocks;
    size_t pad = nblocks * BLOCK - w->n;
    uint8_t zero[BLOCK] = {0};
    put(w, zero, pad);
    return XAI_OK;
}

/* The 512-byte header block, with up to 18 header events (time, display flag, 4-character label). */
static void header_block(uint8_t *h, const xai_c3d *c, double pscale, unsigned dstart, int nhev, int proc)
{
    memset(h, 0, BLOCK);
    h[0] = 2;
    h[1] = 0x50;
    wr_u16(h + 2, (unsigned)c->npoints, proc);
    wr_u16(h + 4, (unsigned)(c->nanalog * c->analog_per_frame), proc);
    int64_t last = c->first_frame + c->frames - 1;
    wr_u16(h + 6, (unsigned)c->first_frame, proc);
    wr_u16(h + 8, (unsigned)(last > 65535 ? 65535 : last < 0 ? 0 : last), proc);
    wr_u16(h + 10, 10, proc);
    wr_f32(h + 12, (float)pscale, proc);
    wr_u16(h + 16, dstart, proc);
    wr_u16(h + 18, (unsigned)c->analog_per_frame, proc);
    wr_f32(h + 20, (float)c->point_rate, proc);
    wr_u16(h + 298, 12345, proc);
    wr_u16(h + 300, (unsigned)nhev, proc);
    for (int i = 0, k = 0; i < c->nevents; i++) {
        const xai_c3d_event *e = &c->events[i];
        if (e->source != XAI_C3D_EVENT_HEADER)
            continue;
        wr_f32(h + 304 + 4 * k, (float)e->time_s, proc);
        h[376 + k] = 1;
        memset(h + 396 + 4 * k, ' ', 4);
        size_t ll = strlen(e->label);
        memcpy(h + 396 + 4 * k, e->label, ll < 4 ? ll : 4);
        k++;
    }
}

xai_status xai_c3d_write(const char *path, const xai_c3d *c, const xai_c3d_write_options *opt)
{
    if (!path || !c)
        return xai_error_set(XAI_EINVAL, "c3d: write: NULL argument");
    int proc = opt && opt->processor ? opt->processor : XAI_C3D_INTEL;
    int integer = opt ? opt->integer_storage : 0;
    int ngev = 0, nhev = 0;
    xai_status st = check_trial(path, c, proc, &ngev, &nhev);
    if (st)
        return st;
    double pscale = write_point_scale(c, opt, integer);
    size_t na = (size_t)c->nanalog;
    float *ascale = malloc((na + 1) * sizeof *ascale);
    int *aoff = calloc(na + 1, sizeof *aoff);
    if (!ascale || !aoff) {
        free(ascale);
        free(aoff);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    }
    write_analog_scales(c, integer, ascale);
    wbuf w = {0};
    w.proc = proc;
    unsigned dstart = 0;
    uint8_t *head = NULL;
    if (!(st = put_params(&w, path, c, ngev, pscale, ascale, aoff, &dstart))) {
        head = malloc(BLOCK + w.n);
        if (!head) {
            st = xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
        } else {
            header_block(head, c, pscale, dstart, nhev, proc);
            memcpy(head + BLOCK, w.p, w.n);
            st = write_file(path, head, BLOCK + w.n, c, ascale, pscale, integer, proc);
        }
    }
    free(head);
    free(w.p);
    free(ascale);
    free(aoff);
    return st;
}

static xai_status write_file(const char *path, const uint8_t *head, size_t nhead, const xai_c3d *c,
                             const float *ascale, double pscale, int integer, int proc)
{
    char *tmp;
    FILE *f;
    xai_status st = xai_atomic_fopen_tmp(path, &tmp, &f);
    if (st != XAI_OK)
        return st;
    size_t np = (size_t)c->npoints, na = (size_t)c->nanalog, aspf = (size_t)c->analog_per_frame,
           ns = (size_t)c->frames * aspf;
    size_t bpv = integer ? 2 : 4;
    size_t fbytes = (np * 4 + na * aspf) * bpv;
    uint8_t *fr = malloc(fbytes + 1);
    int ok = fr && fwrite(head, 1, nhead, f) == nhead;
    double ps = fabs(pscale);
    for (size_t t = 0; ok && t < (size_t)c->frames; t++) {
        uint8_t *q = fr;
        for (size_t p = 0; p < np; p++) {
            const float *xyz = c->points + (t * np + p) * 3;
            float res = c->residuals ? c->residuals[t * np + p] : 0.0f;
            int valid = isfinite(xyz[0]) && isfinite(xyz[1]) && isfinite(xyz[2]) && !(res < 0);
            long rb = valid ? lrint(res / ps) : -1;
            if (valid && (rb < 0 || rb > 255))
                rb = rb < 0 ? 0 : 255;
            if (integer) {
                for (int k = 0; k < 3; k++) {
                    long v = valid ? lrint(xyz[k] / ps) : 0;
                    if (v < -32768 || v > 32767) {
                        st = xai_error_set(XAI_EINVAL, "%s: write: point %zu frame %zu value %g out of int16 range "
                                                       "with scale %g", path, p, t, (double)xyz[k], ps);
                        ok = 0;
                        break;
                    }
                    wr_u16(q + 2 * k, (unsigned)v & 0xffffu, proc);
                }
                wr_u16(q + 6, (unsigned)rb & 0xffffu, proc);
                q += 8;
            } else {
                for (int k = 0; k < 3; k++)
                    wr_f32(q + 4 * k, valid ? xyz[k] : 0.0f, proc);
                wr_f32(q + 12, (float)rb, proc);
                q += 16;
            }
        }
        for (size_t s = 0; ok && s < aspf; s++)
            for (size_t ch = 0; ch < na; ch++) {
                float v = c->analog[ch * ns + t * aspf + s];
                if (integer) {
                    long r = isfinite(v) ? lrint(v / ascale[ch]) : 0;
                    if (r < -32768)
                        r = -32768;
                    if (r > 32767)
                        r = 32767;
                    wr_u16(q, (unsigned)r & 0xffffu, proc);
                    q += 2;
                } else {
                    wr_f32(q, v, proc);
                    q += 4;
                }
            }
        if (ok && fwrite(fr, 1, fbytes, f) != fbytes)
            ok = 0;
    }
    free(fr);
    /* Pad the data section to whole 512-byte blocks, as the format expects. */
    size_t total = nhead + fbytes * (size_t)c->frames;
    if (ok && total % BLOCK) {
        uint8_t zero[BLOCK] = {0};
        size_t padn = BLOCK - total % BLOCK;
        ok = fwrite(zero, 1, padn, f) == padn;
    }
    if (!ok && st == XAI_OK)
        st = xai_error_set(XAI_EIO, "%s: write failed: %s", path, strerror(errno));
    xai_status cst = xai_atomic_fcommit(f, tmp, path, ok && st == XAI_OK);
    return st != XAI_OK ? st : cst;
}

/* ------------------------------------------------------------ gait cycles -- */

static int cmp_time(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

xai_status xai_c3d_gait_cycles(const xai_c3d *c, const char *context, xai_c3d_cycle **cycles, int *n)
{
    if (!c || !cycles || !n)
        return xai_error_set(XAI_EINVAL, "c3d: gait_cycles: NULL argument");
    *cycles = NULL;
    *n = 0;
    const char *sides[2] = {"Left", "Right"};
    xai_c3d_cycle *out = NULL;
    int nout = 0;
    double *t = malloc(((size_t)c->nevents + 1) * sizeof *t);
    if (!t)
        return xai_error_set(XAI_ENOMEM, "c3d: out of memory");
    for (int s = 0; s < 2; s++) {
        const char *side = sides[s];
        if (context && !ieq(context, side))
            continue;
        int nt = 0;
        for (int i = 0; i < c->nevents; i++)
            if (c->events[i].source == XAI_C3D_EVENT_GROUP && ieq(c->events[i].label, "Foot Strike") &&
                ieq(c->events[i].context, side))
                t[nt++] = c->events[i].time_s;
        qsort(t, (size_t)nt, sizeof *t, cmp_time);
        for (int i = 0; i + 1 < nt; i++) {
            if (!(fabs(t[i] * c->point_rate) < 1e15 && fabs(t[i + 1] * c->point_rate) < 1e15))
                continue; /* absurd times: no frame */
            int64_t a = (int64_t)llround(t[i] * c->point_rate) + 1 - c->first_frame;
            int64_t b = (int64_t)llround(t[i + 1] * c->point_rate) + 1 - c->first_frame;
            if (a < 0 || b >= c->frames || b <= a)
                continue;
            xai_c3d_cycle *no = realloc(out, ((size_t)nout + 1) * sizeof *no);
            if (!no) {
                free(out);
                free(t);
                return xai_error_set(XAI_ENOMEM, "c3d: out of memory");
            }
            out = no;
            xai_c3d_cycle *cy = &out[nout++];
            memset(cy, 0, sizeof *cy);
            snprintf(cy->context, sizeof cy->context, "%s", side);
            cy->start_s = t[i];
            cy->end_s = t[i + 1];
            cy->start_frame = a;
            cy->end_frame = b;
            cy->foot_off_pct = NAN;
            for (int k = 0; k < c->nevents; k++) {
                const xai_c3d_event *e = &c->events[k];
                if (e->source == XAI_C3D_EVENT_GROUP && ieq(e->label, "Foot Off") && ieq(e->context, side) &&
                    e->time_s > t[i] && e->time_s < t[i + 1]) {
                    cy->foot_off_pct = 100.0 * (e->time_s - t[i]) / (t[i + 1] - t[i]);
                    break;
                }
            }
        }
    }
    free(t);
    /* Sort both sides together by start time (insertion sort; cycles are few). */
    for (int i = 1; i < nout; i++)
        for (int j = i; j > 0 && out[j].start_s < out[j - 1].start_s; j--) {
            xai_c3d_cycle tmp = out[j];
            out[j] = out[j - 1];
            out[j - 1] = tmp;
        }
    *cycles = out;
    *n = nout;
    return XAI_OK;
}

/* Resample x[a..b] (stride @stride) to XAI_C3D_CYCLE_POINTS values. */
static void normalise(const float *x, size_t stride, int64_t a, int64_t b, float *out)
{
    for (int k = 0; k < XAI_C3D_CYCLE_POINTS; k++) {
        double pos = (double)a + (double)k * (double)(b - a) / (XAI_C3D_CYCLE_POINTS - 1);
        int64_t i = (int64_t)floor(pos);
        double fr = pos - (double)i;
        if (i >= b) {
            out[k] = x[(size_t)b * stride];
        } else if (fr == 0.0) {
            out[k] = x[(size_t)i * stride];
        } else {
            out[k] = (float)((1.0 - fr) * x[(size_t)i * stride] + fr * x[(size_t)(i + 1) * stride]);
        }
    }
}

static xai_status check_cycle(const xai_c3d *c, const xai_c3d_cycle *cy, const void *idx, const void *out)
{
    if (!c || !cy || !idx || !out)
        return xai_error_set(XAI_EINVAL, "c3d: cycle: NULL argument");
    if (cy->start_frame < 0 || cy->end_frame <= cy->start_frame || cy->end_frame >= c->frames)
        return xai_error_set(XAI_EINVAL, "c3d: cycle frames %lld..%lld outside 0..%lld", (long long)cy->start_frame,
                             (long long)cy->end_frame, (long long)c->frames - 1);
    return XAI_OK;
}

xai_status xai_c3d_cycle_points(const xai_c3d *c, const xai_c3d_cycle *cy, const int *idx, int n, float *out)
{
    xai_status st = check_cycle(c, cy, idx, out);
    if (st)
        return st;
    for (int j = 0; j < n; j++) {
        if (idx[j] < 0 || idx[j] >= c->npoints)
            return xai_error_set(XAI_EINVAL, "c3d: cycle: point index %d outside 0..%d", idx[j], c->npoints - 1);
        for (int k = 0; k < 3; k++)
            normalise(c->points + (size_t)idx[j] * 3 + (size_t)k, (size_t)c->npoints * 3, cy->start_frame,
                      cy->end_frame, out + ((size_t)j * 3 + (size_t)k) * XAI_C3D_CYCLE_POINTS);
    }
    return XAI_OK;
}

xai_status xai_c3d_cycle_analog(const xai_c3d *c, const xai_c3d_cycle *cy, const int *idx, int n, float *out)
{
    xai_status st = check_cycle(c, cy, idx, out);
    if (st)
        return st;
    size_t ns = (size_t)c->frames * (size_t)c->analog_per_frame;
    int64_t a = cy->start_frame * c->analog_per_frame, b = cy->end_frame * c->analog_per_frame;
    for (int j = 0; j < n; j++) {
        if (idx[j] < 0 || idx[j] >= c->nanalog)
            return xai_error_set(XAI_EINVAL, "c3d: cycle: analog channel %d outside 0..%d", idx[j], c->nanalog - 1);
        normalise(c->analog + (size_t)idx[j] * ns, 1, a, b, out + (size_t)j * XAI_C3D_CYCLE_POINTS);
    }
    return XAI_OK;
}
