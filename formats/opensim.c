/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * opensim.c - OpenSim .trc marker files and .mot/.sto storage files (reader; .mot writer).
 * Formats as described in the OpenSim documentation ("Marker (.trc) Files" and
 * "Storage (.sto) Files"): both are text tables; TRC has a three-line header plus marker
 * names and X/Y/Z sub-labels, MOT has key=value lines up to "endheader". Declared sizes
 * are checked against the file length before any table is allocated.
 */
#include "xai/opensim.h"
#include "file-util.h"
#include "xai/atomic.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ helpers -- */

typedef struct {
    char *text;   /* NUL-terminated copy of the input */
    char **line;  /* line starts, '\n' and '\r' replaced by NUL */
    size_t nlines;
    size_t len;   /* input length */
} lines;

static void lines_free(lines *l)
{
    free(l->text);
    free(l->line);
}

static xai_status lines_split(lines *l, const void *buf, size_t len, const char *name)
{
    memset(l, 0, sizeof *l);
    l->len = len;
    l->text = malloc(len + 1);
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += ((const char *)buf)[i] == '\n';
    l->line = malloc(n * sizeof *l->line);
    if (!l->text || !l->line) {
        lines_free(l);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    }
    if (len)
        memcpy(l->text, buf, len);
    l->text[len] = '\0';
    char *p = l->text;
    for (;;) {
        l->line[l->nlines++] = p;
        char *nl = memchr(p, '\n', (size_t)(l->text + len - p));
        if (!nl)
            break;
        *nl = '\0';
        if (nl > p && nl[-1] == '\r')
            nl[-1] = '\0';
        p = nl + 1;
    }
    /* Also drop a trailing '\r' of the last line and embedded NULs end a line early. */
    char *last = l->line[l->nlines - 1];
    size_t ll = strlen(last);
    if (ll && last[ll - 1] == '\r')
        last[ll - 1] = '\0';
    return XAI_OK;
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

static char *dups(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

/* Copy with leading/trailing whitespace removed. */
static char *dup_trim(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/*
 * Split @s in place into fields. With tabs present, fields are tab-separated (empty
 * fields kept); otherwise runs of whitespace separate them. @f needs strlen(s)+1 slots.
 */
static size_t split(char *s, char **f)
{
    size_t n = 0;
    if (strchr(s, '\t')) {
        for (;;) {
            f[n++] = s;
            char *t = strchr(s, '\t');
            if (!t)
                break;
            *t = '\0';
            s = t + 1;
        }
        return n;
    }
    for (;;) {
        while (*s && isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        f[n++] = s;
        while (*s && !isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        *s++ = '\0';
    }
    return n;
}

/* Parse a number: 1 ok, 0 empty cell, -1 not a number. */
static int num(const char *s, double *v)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return 0;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (end == s)
        return -1;
    while (isspace((unsigned char)*end))
        end++;
    return *end ? -1 : 1;
}

static xai_status read_whole(const char *path, void **buf, size_t *len)
{
    FILE *f;
    uint64_t size;
    xai_status st = xai_file_open_regular(path, &f, &size);
    if (st)
        return st;
    *len = (size_t)size;
    *buf = malloc(*len ? *len : 1);
    if (!*buf) {
        fclose(f);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    }
    if (*len && fread(*buf, 1, *len, f) != *len) {
        fclose(f);
        free(*buf);
        return xai_error_set(XAI_EIO, "%s: short read", path);
    }
    fclose(f);
    return XAI_OK;
}

static int ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

/* ---------------------------------------------------------------------- TRC -- */

void xai_trc_close(xai_trc *t)
{
    if (!t)
        return;
    free(t->name);
    free(t->units);
    xai_strv_free(t->markers, t->markers ? (size_t)t->nmarkers : 0);
    free(t->frame_numbers);
    free(t->time);
    free(t->points);
    free(t);
}

int xai_trc_marker_index(const xai_trc *t, const char *name)
{
    for (int i = 0; t && name && i < t->nmarkers; i++)
        if (strcmp(t->markers[i], name) == 0)
            return i;
    return -1;
}

/* TRC lines 1-3: the trial name, then the header keys (line 2) and their values (line 3). f and kf
   are split buffers as wide as the longest line. */
static xai_status trc_header(xai_trc *t, lines *l, char **f, char **kf, const char *name, double *nframes,
                             double *nmark)
{
    size_t n = split(l->line[0], f);
    t->name = dup_trim(n >= 4 ? f[3] : "");
    size_t nk = split(l->line[1], kf), nv = split(l->line[2], f);
    double rate = NAN;
    *nframes = -1;
    *nmark = -1;
    t->units = NULL;
    for (size_t i = 0; i < nk && i < nv; i++) {
        char *k = kf[i];
        double v = NAN;
        int ok = num(f[i], &v);
        while (isspace((unsigned char)*k))
            k++;
        if (ieq(k, "Units")) {
            free(t->units);
            t->units = dup_trim(f[i]);
            continue;
        }
        if (ok < 0)
            return xai_error_set(XAI_EFORMAT, "%s: line 3: %s '%s' is not a number", name, k, f[i]);
        if (ok == 0)
            continue;
        if (ieq(k, "DataRate"))
            rate = v;
        else if (ieq(k, "CameraRate"))
            t->camera_rate = v;
        else if (ieq(k, "NumFrames"))
            *nframes = v;
        else if (ieq(k, "NumMarkers"))
            *nmark = v;
        else if (ieq(k, "OrigDataRate"))
            t->orig_data_rate = v;
        else if (ieq(k, "OrigDataStartFrame") && fabs(v) < 9e18)
            t->orig_data_start_frame = (int64_t)v;
        else if (ieq(k, "OrigNumFrames") && fabs(v) < 9e18)
            t->orig_num_frames = (int64_t)v;
    }
    if (!t->units)
        t->units = dups("");
    if (!t->units)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    if (!(rate > 0) || !isfinite(rate))
        return xai_error_set(XAI_EFORMAT, "%s: bad header: DataRate %g (must be > 0)", name, rate);
    t->data_rate = rate;
    if (*nframes < 0 || *nmark < 0 || *nframes != floor(*nframes) || *nmark != floor(*nmark))
        return xai_error_set(XAI_EFORMAT, "%s: bad header: NumFrames %g / NumMarkers %g missing or negative", name,
                             *nframes, *nmark);
    return XAI_OK;
}

/* TRC line 4: Frame#, Time, then one marker name per X/Y/Z triplet; the declared sizes are checked
   against the names there and the file length before the tables are allocated. */
static xai_status trc_markers(xai_trc *t, lines *l, char **f, const char *name, double nframes, double nmark)
{
    size_t n = split(l->line[3], f);
    size_t named = 0;
    for (size_t i = 2; i < n; i++)
        named += !blank(f[i]);
    if (nmark > (double)named)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: NumMarkers=%g but line 4 names %zu markers", name, nmark,
                             named);
    if (nframes * (nmark * 3 + 2) > (double)l->len)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: %g frames x %g markers cannot fit in %zu bytes", name,
                             nframes, nmark, l->len);
    t->nmarkers = (int)nmark;
    t->frames = (int64_t)nframes;
    t->markers = calloc((size_t)t->nmarkers + 1, sizeof *t->markers);
    if (!t->markers)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    for (size_t i = 2, m = 0; i < n && m < (size_t)t->nmarkers; i++) {
        if (blank(f[i]))
            continue;
        if (!(t->markers[m++] = dup_trim(f[i])))
            return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    }
    size_t nf = (size_t)t->frames, nm = (size_t)t->nmarkers;
    t->frame_numbers = malloc((nf + 1) * sizeof *t->frame_numbers);
    t->time = malloc((nf + 1) * sizeof *t->time);
    t->points = malloc((nf * nm * 3 + 1) * sizeof *t->points);
    if (!t->frame_numbers || !t->time || !t->points)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    return XAI_OK;
}

/* Line 5 holds X1 Y1 Z1 ...; data follow (blank lines skipped); an empty cell is a missing value. */
static xai_status trc_rows(xai_trc *t, lines *l, char **f, const char *name)
{
    size_t nf = (size_t)t->frames, nm = (size_t)t->nmarkers;
    size_t row = 0;
    for (size_t li = 5; li < l->nlines && row < nf; li++) {
        if (blank(l->line[li]))
            continue;
        size_t n = split(l->line[li], f);
        double v;
        if (n < 2 || num(f[0], &v) != 1 || fabs(v) > 9e18)
            return xai_error_set(XAI_EFORMAT, "%s: line %zu: bad frame number", name, li + 1);
        t->frame_numbers[row] = (int64_t)v;
        if (num(f[1], &t->time[row]) != 1)
            return xai_error_set(XAI_EFORMAT, "%s: line %zu: bad time '%s'", name, li + 1, f[1]);
        float *p = t->points + row * nm * 3;
        for (size_t k = 0; k < nm * 3; k++) {
            int r = 2 + k < n ? num(f[2 + k], &v) : 0;
            if (r < 0)
                return xai_error_set(XAI_EFORMAT, "%s: line %zu: column %zu '%s' is not a number", name, li + 1,
                                     k + 3, f[2 + k]);
            p[k] = r ? (float)v : NAN;
        }
        row++;
    }
    if (row < nf)
        return xai_error_set(XAI_EFORMAT, "%s: truncated: NumFrames=%zu but only %zu data rows", name, nf, row);
    return XAI_OK;
}

static xai_status parse_trc(xai_trc *t, lines *l, const char *name)
{
    xai_status st;
    size_t maxl = 0;
    for (size_t i = 0; i < l->nlines; i++) {
        size_t n = strlen(l->line[i]);
        maxl = n > maxl ? n : maxl;
    }
    char **f = malloc((maxl + 2) * sizeof *f), **kf = malloc((maxl + 2) * sizeof *kf);
    double nframes, nmark;
    if (!f || !kf)
        st = xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    else if (l->nlines < 5 || strncmp(l->line[0], "PathFileType", 12) != 0)
        st = xai_error_set(XAI_EFORMAT, "%s: not a TRC file: it must start with 'PathFileType' and have 5 header "
                           "lines", name);
    else if (!(st = trc_header(t, l, f, kf, name, &nframes, &nmark)) &&
             !(st = trc_markers(t, l, f, name, nframes, nmark)))
        st = trc_rows(t, l, f, name);
    free(f);
    free(kf);
    return st;
}

/* The TRC and MOT readers share one open path: split the text into lines, allocate the
 * zeroed object, parse it, and close it again on failure. */
typedef struct {
    size_t size;                                                   /* sizeof the object */
    xai_status (*parse)(void *obj, lines *l, const char *name);
    void (*close)(void *obj);
} text_reader;

static xai_status open_text_mem(const text_reader *r, const void *buf, size_t len, const char *name, void **out)
{
    if (!name)
        name = "<memory>";
    lines l;
    xai_status st = lines_split(&l, buf, len, name);
    if (st)
        return st;
    void *obj = calloc(1, r->size);
    if (!obj) {
        lines_free(&l);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    }
    st = r->parse(obj, &l, name);
    lines_free(&l);
    if (st) {
        r->close(obj);
        return st;
    }
    *out = obj;
    return XAI_OK;
}

static xai_status open_text_path(const text_reader *r, const char *path, void **out)
{
    void *buf;
    size_t len;
    xai_status st = read_whole(path, &buf, &len);
    if (st)
        return st;
    st = open_text_mem(r, buf, len, path, out);
    free(buf);
    return st;
}

static xai_status trc_parse_any(void *obj, lines *l, const char *name) { return parse_trc(obj, l, name); }
static void trc_close_any(void *obj) { xai_trc_close(obj); }
static const text_reader trc_reader = {sizeof(xai_trc), trc_parse_any, trc_close_any};

xai_status xai_trc_open_mem(const void *buf, size_t len, const char *name, xai_trc **out)
{
    if (!out || (!buf && len))
        return xai_error_set(XAI_EINVAL, "trc: open_mem: NULL argument");
    void *obj = NULL;
    xai_status st = open_text_mem(&trc_reader, buf, len, name, &obj);
    *out = obj;
    return st;
}

xai_status xai_trc_open(const char *path, xai_trc **out)
{
    if (!path || !out)
        return xai_error_set(XAI_EINVAL, "trc: open: NULL argument");
    void *obj = NULL;
    xai_status st = open_text_path(&trc_reader, path, &obj);
    *out = obj;
    return st;
}

/* ---------------------------------------------------------------------- MOT -- */

void xai_mot_close(xai_mot *m)
{
    if (!m)
        return;
    free(m->name);
    xai_strv_free(m->keys, (size_t)m->nkeys);
    xai_strv_free(m->values, (size_t)m->nkeys);
    xai_strv_free(m->labels, m->labels ? (size_t)m->ncolumns : 0);
    free(m->time);
    free(m->data);
    free(m);
}

int xai_mot_column(const xai_mot *m, const char *label)
{
    for (int i = 0; m && label && i < m->ncolumns; i++)
        if (strcmp(m->labels[i], label) == 0)
            return i;
    return -1;
}

const char *xai_mot_header(const xai_mot *m, const char *key)
{
    for (int i = 0; m && key && i < m->nkeys; i++)
        if (ieq(m->keys[i], key))
            return m->values[i];
    return NULL;
}

/* Case-insensitive substring search. */
static int icontains(const char *h, const char *n)
{
    size_t ln = strlen(n);
    for (; *h; h++) {
        size_t i = 0;
        while (i < ln && h[i] && tolower((unsigned char)h[i]) == tolower((unsigned char)n[i]))
            i++;
        if (i == ln)
            return 1;
    }
    return 0;
}

/* One header line before "endheader": the name (a first line without '='), an "in degrees" /
   "in radians" note, or key=value (nRows, nColumns, inDegrees, version are read; all are kept). */
static xai_status mot_header_line(xai_mot *m, char *s, size_t li, const char *name, double *nrows, double *ncols)
{
    char *eq = strchr(s, '=');
    if (li == 0 && !eq) {
        m->name = dup_trim(s);
        if (!m->name)
            return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
        return XAI_OK;
    }
    if (!eq) {
        if (icontains(s, "in degrees") && m->in_degrees < 0)
            m->in_degrees = 1;
        else if (icontains(s, "in radians") && m->in_degrees < 0)
            m->in_degrees = 0;
        return XAI_OK;
    }
    *eq = '\0';
    char *k = dup_trim(s), *v = dup_trim(eq + 1);
    if (!k || !v) {
        free(k);
        free(v);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    }
    m->keys[m->nkeys] = k;
    m->values[m->nkeys] = v;
    m->nkeys++;
    double x;
    int r = num(v, &x);
    if (ieq(k, "nRows") || ieq(k, "datarows")) {
        if (r != 1 || x < 0 || x != floor(x))
            return xai_error_set(XAI_EFORMAT, "%s: line %zu: bad %s '%s'", name, li + 1, k, v);
        *nrows = x;
    } else if (ieq(k, "nColumns") || ieq(k, "datacolumns")) {
        if (r != 1 || x < 1 || x != floor(x))
            return xai_error_set(XAI_EFORMAT, "%s: line %zu: bad %s '%s'", name, li + 1, k, v);
        *ncols = x;
    } else if (ieq(k, "inDegrees")) {
        m->in_degrees = ieq(v, "yes") ? 1 : ieq(v, "no") ? 0 : -1;
    } else if (ieq(k, "version") && r == 1 && fabs(x) < 1e9) {
        m->version = (int)x;
    }
    return XAI_OK;
}

/* The header up to and including "endheader"; *li is then the line after it. */
static xai_status mot_header(xai_mot *m, lines *l, const char *name, size_t *li, double *nrows, double *ncols)
{
    xai_status st;
    int found_end = 0;
    for (*li = 0; *li < l->nlines; (*li)++) {
        char *s = l->line[*li];
        while (isspace((unsigned char)*s))
            s++;
        if (strncmp(s, "endheader", 9) == 0 && (s[9] == '\0' || isspace((unsigned char)s[9]))) {
            found_end = 1;
            (*li)++;
            break;
        }
        if ((st = mot_header_line(m, s, *li, name, nrows, ncols)))
            return st;
    }
    if (!found_end)
        return xai_error_set(XAI_EFORMAT, "%s: not a storage file: no 'endheader' line", name);
    if (!m->name && !(m->name = dups("")))
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    return XAI_OK;
}

/* The column labels: the first non-blank line after the header; *li moves past it. */
static xai_status mot_labels(xai_mot *m, lines *l, char **f, const char *name, size_t *li, double ncols)
{
    while (*li < l->nlines && blank(l->line[*li]))
        (*li)++;
    if (*li >= l->nlines)
        return xai_error_set(XAI_EFORMAT, "%s: truncated: no column labels after endheader", name);
    size_t n = split(l->line[*li], f);
    while (n > 0 && blank(f[n - 1]))
        n--; /* trailing tabs */
    if (n == 0)
        return xai_error_set(XAI_EFORMAT, "%s: line %zu: no column labels", name, *li + 1);
    if (ncols >= 0 && (double)n != ncols)
        return xai_error_set(XAI_EFORMAT, "%s: nColumns=%g but line %zu has %zu labels", name, ncols, *li + 1, n);
    m->ncolumns = (int)n;
    m->labels = calloc(n, sizeof *m->labels);
    if (!m->labels)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    for (size_t i = 0; i < n; i++) {
        if (!(m->labels[i] = dup_trim(f[i])))
            return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
        if (m->time_column < 0 && ieq(m->labels[i], "time"))
            m->time_column = (int)i;
    }
    (*li)++;
    return XAI_OK;
}

/* Rows: nRows when given (checked against the file size), else every non-blank line. */
static xai_status mot_alloc_rows(xai_mot *m, lines *l, const char *name, size_t li, double nrows)
{
    size_t avail = 0;
    for (size_t k = li; k < l->nlines; k++)
        avail += !blank(l->line[k]);
    if (nrows < 0)
        nrows = (double)avail;
    if (nrows > (double)avail)
        return xai_error_set(XAI_EFORMAT, "%s: truncated: nRows=%g but only %zu data rows", name, nrows, avail);
    m->rows = (int64_t)nrows;
    size_t nr = (size_t)m->rows, nc = (size_t)m->ncolumns;
    if ((double)nr * (double)nc > (double)l->len)
        return xai_error_set(XAI_EFORMAT, "%s: %zu rows x %zu columns cannot fit in %zu bytes", name, nr, nc, l->len);
    m->data = malloc((nr * nc + 1) * sizeof *m->data);
    if (m->time_column >= 0)
        m->time = malloc((nr + 1) * sizeof *m->time);
    if (!m->data || (m->time_column >= 0 && !m->time))
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    return XAI_OK;
}

/* The data rows from line li; an empty cell is a missing value (NaN). */
static xai_status mot_rows(xai_mot *m, lines *l, char **f, const char *name, size_t li)
{
    size_t nr = (size_t)m->rows, nc = (size_t)m->ncolumns;
    size_t row = 0;
    for (; li < l->nlines && row < nr; li++) {
        if (blank(l->line[li]))
            continue;
        size_t k = split(l->line[li], f);
        while (k > 0 && blank(f[k - 1]))
            k--;
        if (k != nc)
            return xai_error_set(XAI_EFORMAT, "%s: line %zu: %zu values, expected %zu", name, li + 1, k, nc);
        for (size_t c = 0; c < nc; c++) {
            double v;
            int r = num(f[c], &v);
            if (r == 0)
                v = NAN;
            else if (r < 0)
                return xai_error_set(XAI_EFORMAT, "%s: line %zu: column %zu (%s) '%s' is not a number", name,
                                     li + 1, c + 1, m->labels[c], f[c]);
            m->data[row * nc + c] = (float)v;
            if ((int)c == m->time_column)
                m->time[row] = v;
        }
        row++;
    }
    return XAI_OK;
}

static xai_status parse_mot(xai_mot *m, lines *l, const char *name)
{
    xai_status st;
    size_t maxl = 0, li = 0;
    for (size_t i = 0; i < l->nlines; i++) {
        size_t n = strlen(l->line[i]);
        maxl = n > maxl ? n : maxl;
    }
    char **f = malloc((maxl + 2) * sizeof *f);
    m->keys = calloc(l->nlines, sizeof *m->keys);
    m->values = calloc(l->nlines, sizeof *m->values);
    if (!f || !m->keys || !m->values) {
        free(f);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    }
    m->in_degrees = -1;
    m->time_column = -1;
    double nrows = -1, ncols = -1;
    if (!(st = mot_header(m, l, name, &li, &nrows, &ncols)) && !(st = mot_labels(m, l, f, name, &li, ncols)) &&
        !(st = mot_alloc_rows(m, l, name, li, nrows)))
        st = mot_rows(m, l, f, name, li);
    free(f);
    return st;
}

static xai_status mot_parse_any(void *obj, lines *l, const char *name) { return parse_mot(obj, l, name); }
static void mot_close_any(void *obj) { xai_mot_close(obj); }
static const text_reader mot_reader = {sizeof(xai_mot), mot_parse_any, mot_close_any};

xai_status xai_mot_open_mem(const void *buf, size_t len, const char *name, xai_mot **out)
{
    if (!out || (!buf && len))
        return xai_error_set(XAI_EINVAL, "mot: open_mem: NULL argument");
    void *obj = NULL;
    xai_status st = open_text_mem(&mot_reader, buf, len, name, &obj);
    *out = obj;
    return st;
}

xai_status xai_mot_open(const char *path, xai_mot **out)
{
    if (!path || !out)
        return xai_error_set(XAI_EINVAL, "mot: open: NULL argument");
    void *obj = NULL;
    xai_status st = open_text_path(&mot_reader, path, &obj);
    *out = obj;
    return st;
}

xai_status xai_mot_write(const char *path, const char *name, int ncolumns, const char *const *labels, int64_t rows,
                         const double *data, int in_degrees)
{
    if (!path || !labels || (rows > 0 && !data) || ncolumns < 1 || rows < 0)
        return xai_error_set(XAI_EINVAL, "mot: write: bad arguments");
    for (int c = 0; c < ncolumns; c++)
        if (!labels[c] || !labels[c][0] || strpbrk(labels[c], "\t\r\n"))
            return xai_error_set(XAI_EINVAL, "%s: write: column %d label is empty or has a tab/newline", path, c + 1);
    char *tmp;
    FILE *f;
    xai_status st = xai_atomic_fopen_tmp(path, &tmp, &f);
    if (st != XAI_OK)
        return st;
    int ok = fprintf(f, "%s\nversion=1\nnRows=%lld\nnColumns=%d\ninDegrees=%s\nendheader\n",
                     name && name[0] ? name : "xai", (long long)rows, ncolumns, in_degrees ? "yes" : "no") > 0;
    for (int c = 0; ok && c < ncolumns; c++)
        ok = fprintf(f, "%s%s", c ? "\t" : "", labels[c]) > 0;
    ok = ok && fputc('\n', f) != EOF;
    for (int64_t r = 0; ok && r < rows; r++) {
        for (int c = 0; ok && c < ncolumns; c++)
            ok = fprintf(f, "%s%.17g", c ? "\t" : "", data[(size_t)r * (size_t)ncolumns + (size_t)c]) > 0;
        ok = ok && fputc('\n', f) != EOF;
    }
    if (!ok)
        xai_error_set(XAI_EIO, "%s: write failed: %s", path, strerror(errno));
    return xai_atomic_fcommit(f, tmp, path, ok);
}
