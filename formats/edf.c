/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * edf.c - EDF/EDF+/BDF/BDF+ reading and EDF+/BDF+ writing through EDFlib (Teuniz, BSD-3).
 * Before EDFlib sees a file we check its fixed header ourselves (magic, field syntax,
 * header size, signal count, record count against the file length, digital and physical
 * ranges, samples per record) so that a bad file gets a message that says what is wrong;
 * EDFlib only reports "format errors". Headers that are valid but that EDFlib 1.23 refuses
 * (leading blanks in numbers, a non-blank prefilter on the annotation signal) reach it as a
 * tidied private copy; see tidy_header(). EDFlib keeps global state and its open/close are
 * not thread-safe, so every call into it holds one mutex.
 * Specs: edfplus.info/specs/edf.html and edfplus.html (TALs), BioSemi BDF, teuniz.net BDF+.
 */
#include "xai/edf.h"
#include "xai/atomic.h"
#include "file-util.h"

#include <ctype.h>
#include <edflib.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct xai_edf {
    int handle;                   /* EDFlib handle, -1 when closed */
    char *name;                   /* for messages */
    xai_edf_info info;
    xai_edf_channel *channels;
    xai_edf_annotation *annots;
    char *annot_text;             /* all annotation texts, NUL-separated */
};

static pthread_mutex_t edflib_lock = PTHREAD_MUTEX_INITIALIZER;

#define CHUNK 65536

/* ---------------------------------------------------------------------------------------
 * Header pre-check
 * ------------------------------------------------------------------------------------- */

/* Copy an ASCII field of @n bytes, trimmed of blanks, into dst (size n+1). */
static void field(char *dst, const unsigned char *src, size_t n)
{
    size_t a = 0, b = n;
    while (a < b && src[a] == ' ')
        a++;
    while (b > a && (src[b - 1] == ' ' || src[b - 1] == '\0'))
        b--;
    memcpy(dst, src + a, b - a);
    dst[b - a] = '\0';
}

/* Parse an integer field; 0 on success. */
static int field_int(const unsigned char *src, size_t n, long long *v)
{
    char buf[96], *end;
    field(buf, src, n);
    if (!buf[0])
        return -1;
    errno = 0;
    long long x = strtoll(buf, &end, 10);
    if (*end || errno)
        return -1;
    *v = x;
    return 0;
}

static int field_num(const unsigned char *src, size_t n, double *v)
{
    char buf[96], *end;
    field(buf, src, n);
    if (!buf[0])
        return -1;
    errno = 0;
    double x = strtod(buf, &end);
    if (*end || errno || !isfinite(x))
        return -1;
    *v = x;
    return 0;
}

/* The version field (EDF "0" or BDF 0xFF "BIOSEMI") and the start date and time fields. */
static xai_status check_version_start(const unsigned char *h, const char *name, int *bdf)
{
    if (memcmp(h, "0       ", 8) == 0)
        *bdf = 0;
    else if (h[0] == 0xFF && memcmp(h + 1, "BIOSEMI", 7) == 0)
        *bdf = 1;
    else
        return xai_error_set(XAI_EFORMAT, "%s: not EDF or BDF: the version field must be "
                             "\"0\" (EDF) or 0xFF \"BIOSEMI\" (BDF)", name);
    for (int k = 0; k < 2; k++) { /* start date dd.mm.yy and time hh.mm.ss */
        const unsigned char *d = h + 168 + 8 * k;
        for (int j = 0; j < 8; j++)
            if (j % 3 == 2 ? d[j] != '.' : (d[j] < '0' || d[j] > '9'))
                return xai_error_set(XAI_EFORMAT, "%s: bad header: start %s '%.8s' is not "
                                     "%s", name, k ? "time" : "date", (const char *)d,
                                     k ? "hh.mm.ss" : "dd.mm.yy");
    }
    return XAI_OK;
}

/* The counts of the fixed header: header bytes, signals, records and the record duration. */
typedef struct {
    long long hbytes, nrec, ns;
    double rdur;
} edf_counts;

static xai_status fixed_counts(const unsigned char *h, size_t have, long long fsize, const char *name,
                               edf_counts *k)
{
    if (field_int(h + 184, 8, &k->hbytes) != 0)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: header size field is not a number",
                             name);
    if (field_int(h + 252, 4, &k->ns) != 0)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: number of signals is not a number",
                             name);
    if (k->ns <= 0)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: number of signals %lld is not positive",
                             name, k->ns);
    if (k->ns > EDFLIB_MAXSIGNALS)
        return xai_error_set(XAI_EUNSUPPORTED, "%s: %lld signals; EDFlib reads at most %d",
                             name, k->ns, EDFLIB_MAXSIGNALS);
    if (k->hbytes != 256 * (k->ns + 1))
        return xai_error_set(XAI_EFORMAT, "%s: bad header: header size %lld, but %lld signals "
                             "need %lld bytes", name, k->hbytes, k->ns, 256 * (k->ns + 1));
    if (field_int(h + 236, 8, &k->nrec) != 0)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: number of data records is not a "
                             "number", name);
    if (k->nrec <= 0)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: number of data records %lld (a "
                             "complete file needs a positive count)", name, k->nrec);
    if (field_num(h + 244, 8, &k->rdur) != 0)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: record duration is not a number", name);
    if (!(k->rdur >= 0))
        return xai_error_set(XAI_EFORMAT, "%s: bad header: negative record duration %g s",
                             name, k->rdur);
    if ((long long)have < k->hbytes)
        return xai_error_set(XAI_EFORMAT, "%s: truncated: header needs %lld bytes, file has %lld",
                             name, k->hbytes, fsize);
    return XAI_OK;
}

/* Signal i's header fields (s: the signal headers, ns signals, stored field by field): numbers
   where numbers belong, a usable scaling (annotation signals have none); *spr its samples per record. */
static xai_status check_signal(const unsigned char *s, long long ns, long long i, int bdf, const char *name,
                               long long *spr)
{
    char label[17];
    field(label, s + 16 * i, 16);
    size_t o = (size_t)ns;
    double pmin, pmax;
    long long dmin, dmax;
    if (field_num(s + 104 * o + 8 * i, 8, &pmin) != 0 ||
        field_num(s + 112 * o + 8 * i, 8, &pmax) != 0)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: signal %lld ('%s'): physical "
                             "minimum/maximum is not a number", name, i, label);
    if (field_int(s + 120 * o + 8 * i, 8, &dmin) != 0 ||
        field_int(s + 128 * o + 8 * i, 8, &dmax) != 0)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: signal %lld ('%s'): digital "
                             "minimum/maximum is not an integer", name, i, label);
    if (field_int(s + 216 * o + 8 * i, 8, spr) != 0)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: signal %lld ('%s'): samples per "
                             "record is not an integer", name, i, label);
    int annot = strcmp(label, bdf ? "BDF Annotations" : "EDF Annotations") == 0;
    if (*spr <= 0)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: signal %lld ('%s'): %lld samples "
                             "per record (zero sample rate)", name, i, label, *spr);
    if (!annot) {
        if (pmin == pmax)
            return xai_error_set(XAI_EFORMAT, "%s: bad scaling: signal %lld ('%s'): physical "
                                 "minimum equals maximum (%g)", name, i, label, pmin);
        if (dmin >= dmax)
            return xai_error_set(XAI_EFORMAT, "%s: bad scaling: signal %lld ('%s'): digital "
                                 "minimum %lld is not below maximum %lld", name, i, label,
                                 dmin, dmax);
        long long lo = bdf ? -8388608 : -32768, hi = bdf ? 8388607 : 32767;
        if (dmin < lo || dmax > hi)
            return xai_error_set(XAI_EFORMAT, "%s: bad scaling: signal %lld ('%s'): digital "
                                 "range %lld..%lld exceeds %d bits", name, i, label, dmin,
                                 dmax, bdf ? 24 : 16);
    }
    return XAI_OK;
}

/*
 * Check the fixed header (256 bytes) and the signal headers of a file of @fsize bytes
 * whose first @have bytes are in @h.
 */
static xai_status precheck(const unsigned char *h, size_t have, long long fsize, const char *name)
{
    if (have < 256)
        return xai_error_set(XAI_EFORMAT, "%s: truncated: %zu bytes, an EDF/BDF header needs at "
                             "least 256", name, have);
    xai_status st;
    int bdf = 0;
    edf_counts k = {0};
    if ((st = check_version_start(h, name, &bdf)) || (st = fixed_counts(h, have, fsize, name, &k)))
        return st;
    const unsigned char *s = h + 256;
    for (const unsigned char *p = h + (bdf ? 1 : 0); p < s + 256 * k.ns; p++)
        if (*p < 32 || *p > 126)
            return xai_error_set(XAI_EFORMAT, "%s: bad header: non-ASCII byte 0x%02x at offset "
                                 "%ld", name, *p, (long)(p - h));
    long long rec_bytes = 0;
    int bps = bdf ? 3 : 2;
    for (long long i = 0; i < k.ns; i++) {
        long long spr;
        if ((st = check_signal(s, k.ns, i, bdf, name, &spr)))
            return st;
        if (spr > (1LL << 30) / bps || rec_bytes > (1LL << 40)) {
            char label[17];
            field(label, s + 16 * i, 16);
            return xai_error_set(XAI_EFORMAT, "%s: bad header: signal %lld ('%s'): %lld samples "
                                 "per record is too large", name, i, label, spr);
        }
        rec_bytes += spr * bps;
    }
    if (k.rdur == 0)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: record duration 0 s (zero sample "
                             "rate)", name);
    long long data = fsize - k.hbytes;
    if (k.nrec > data / rec_bytes)
        return xai_error_set(XAI_EFORMAT, "%s: truncated or bad header: %lld records of %lld "
                             "bytes declared, %lld data bytes present", name, k.nrec, rec_bytes,
                             data);
    if (data != k.nrec * rec_bytes)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: %lld records of %lld bytes declared, "
                             "but the file has %lld data bytes", name, k.nrec, rec_bytes, data);
    return XAI_OK;
}

static xai_status map_edflib_error(int code, const char *name)
{
    switch (code) {
    case EDFLIB_MALLOC_ERROR:
        return xai_error_set(XAI_ENOMEM, "%s: EDFlib: out of memory", name);
    case EDFLIB_NO_SUCH_FILE_OR_DIRECTORY:
        return xai_error_set(XAI_EIO, "%s: cannot open", name);
    case EDFLIB_FILE_CONTAINS_FORMAT_ERRORS:
        return xai_error_set(XAI_EFORMAT, "%s: EDFlib: the file contains format errors "
                             "(header fields or annotation TALs do not follow the spec)", name);
    case EDFLIB_MAXFILES_REACHED:
        return xai_error_set(XAI_EDEP, "%s: EDFlib: too many open files", name);
    case EDFLIB_FILE_READ_ERROR:
        return xai_error_set(XAI_EIO, "%s: read error", name);
    case EDFLIB_FILE_ALREADY_OPENED:
        return xai_error_set(XAI_EDEP, "%s: EDFlib: file is already open", name);
    case EDFLIB_FILE_IS_DISCONTINUOUS:
        return xai_error_set(XAI_EUNSUPPORTED, "%s: EDFlib refuses this discontinuous file", name);
    default:
        return xai_error_set(XAI_EFORMAT, "%s: EDFlib error %d", name, code);
    }
}

static void rtrim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\0'))
        s[--n] = '\0';
}

/* EDFlib's open, with the lock held. EDFlib refuses a path string it already has open. Another
   handle on the same file is legitimate for us, so retry with an equivalent spelling ("dir/./name"). */
static int edflib_open(const char *path, struct edf_hdr_struct *hdr)
{
    int rc = edfopen_file_readonly(path, hdr, EDFLIB_READ_ALL_ANNOTATIONS);
    for (int k = 0; rc != 0 && hdr->filetype == EDFLIB_FILE_ALREADY_OPENED && k < 16; k++) {
        const char *slash = strrchr(path, '/');
        size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
        size_t n = strlen(path) + 2 * (size_t)(k + 1) + 1;
        char *alt = malloc(n);
        if (!alt)
            break;
        memcpy(alt, path, dl);
        for (int j = 0; j <= k; j++)
            memcpy(alt + dl + 2 * (size_t)j, "./", 2);
        strcpy(alt + dl + 2 * (size_t)(k + 1), path + dl);
        rc = edfopen_file_readonly(alt, hdr, EDFLIB_READ_ALL_ANNOTATIONS);
        free(alt);
    }
    return rc;
}

/* The recording's description from EDFlib's header (EDF+/BDF+ keep patient and equipment in
   their own subfields). */
static void fill_info(xai_edf_info *in, const struct edf_hdr_struct *hdr, int discontinuous)
{
    in->filetype = (xai_edf_filetype)hdr->filetype;
    in->discontinuous = discontinuous;
    in->n_channels = hdr->edfsignals;
    in->n_records = hdr->datarecords_in_file;
    in->record_duration_s = (double)hdr->datarecord_duration / EDFLIB_TIME_DIMENSION;
    in->duration_s = in->record_duration_s * (double)in->n_records;
    in->start_year = hdr->startdate_year;
    in->start_month = hdr->startdate_month;
    in->start_day = hdr->startdate_day;
    in->start_hour = hdr->starttime_hour;
    in->start_minute = hdr->starttime_minute;
    in->start_second = hdr->starttime_second;
    in->start_subsecond = (double)hdr->starttime_subsecond / EDFLIB_TIME_DIMENSION;
    if (in->filetype == XAI_EDF_FILE_EDFPLUS || in->filetype == XAI_EDF_FILE_BDFPLUS) {
        snprintf(in->patient, sizeof in->patient, "%s", hdr->patientcode);
        snprintf(in->recording, sizeof in->recording, "%s", hdr->equipment);
    } else {
        snprintf(in->patient, sizeof in->patient, "%s", hdr->patient);
        snprintf(in->recording, sizeof in->recording, "%s", hdr->recording);
    }
    rtrim(in->patient);
    rtrim(in->recording);
}

/* The channels' labels, units, filters, rates and ranges; -1 when out of memory. */
static int fill_channels(xai_edf *h, const struct edf_hdr_struct *hdr)
{
    const xai_edf_info *in = &h->info;
    h->channels = calloc((size_t)in->n_channels, sizeof *h->channels);
    if (!h->channels)
        return -1;
    for (int i = 0; i < in->n_channels; i++) {
        const struct edf_param_struct *p = &hdr->signalparam[i];
        xai_edf_channel *c = &h->channels[i];
        snprintf(c->label, sizeof c->label, "%s", p->label);
        snprintf(c->unit, sizeof c->unit, "%s", p->physdimension);
        snprintf(c->transducer, sizeof c->transducer, "%s", p->transducer);
        snprintf(c->prefilter, sizeof c->prefilter, "%s", p->prefilter);
        rtrim(c->label);
        rtrim(c->unit);
        rtrim(c->transducer);
        rtrim(c->prefilter);
        c->samples = p->smp_in_file;
        c->samples_per_record = p->smp_in_datarecord;
        c->sample_rate = (double)p->smp_in_datarecord / in->record_duration_s;
        c->phys_min = p->phys_min;
        c->phys_max = p->phys_max;
        c->dig_min = p->dig_min;
        c->dig_max = p->dig_max;
    }
    return 0;
}

/* The annotations, their texts in one block: two passes, sizes then copy. -1 when out of memory. */
static int read_annotations(xai_edf *h, long long na)
{
    struct edf_annotation_struct a;
    size_t text_bytes = 0;
    h->annots = calloc((size_t)na, sizeof *h->annots);
    size_t *offs = calloc((size_t)na, sizeof *offs);
    char *text = NULL;
    for (long long i = 0; h->annots && offs && i < na; i++) {
        if (edf_get_annotation(h->handle, (int)i, &a) != 0) {
            a.annotation[0] = '\0';
            a.onset = 0;
            a.duration_l = -EDFLIB_TIME_DIMENSION;
        }
        a.annotation[EDFLIB_MAX_ANNOTATION_LEN] = '\0';
        offs[i] = text_bytes;
        text_bytes += strlen(a.annotation) + 1;
        h->annots[i].onset_s = (double)a.onset / EDFLIB_TIME_DIMENSION;
        h->annots[i].duration_s =
            a.duration_l < 0 ? -1.0 : (double)a.duration_l / EDFLIB_TIME_DIMENSION;
    }
    if (h->annots && offs)
        text = malloc(text_bytes ? text_bytes : 1);
    if (!text) {
        free(offs);
        return -1;
    }
    for (long long i = 0; i < na; i++) {
        if (edf_get_annotation(h->handle, (int)i, &a) != 0)
            a.annotation[0] = '\0';
        a.annotation[EDFLIB_MAX_ANNOTATION_LEN] = '\0';
        memcpy(text + offs[i], a.annotation, strlen(a.annotation) + 1);
        h->annots[i].text = text + offs[i];
    }
    free(offs);
    h->annot_text = text;
    h->info.n_annotations = (size_t)na;
    return 0;
}

/* Everything that talks to EDFlib, with the lock held. */
static xai_status open_locked(const char *path, const char *name, int discontinuous, struct edf_hdr_struct *hdr,
                              xai_edf *h)
{
    if (edflib_open(path, hdr) != 0)
        return map_edflib_error(hdr->filetype, name);
    h->handle = hdr->handle;
    if (!h->name)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    fill_info(&h->info, hdr, discontinuous);
    if (h->info.n_channels <= 0)
        return xai_error_set(XAI_EFORMAT, "%s: no data signals (only annotations)", name);
    if (hdr->datarecord_duration <= 0)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: record duration is zero", name);
    if (fill_channels(h, hdr) != 0)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    long long na = hdr->annotations_in_file;
    if (na > 0 && read_annotations(h, na) != 0)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    return XAI_OK;
}

/* Open @path with EDFlib (the header was pre-checked) and fill a new handle. */
static xai_status open_checked(const char *path, const char *name, int discontinuous,
                               xai_edf **out)
{
    struct edf_hdr_struct *hdr = calloc(1, sizeof *hdr);
    xai_edf *h = calloc(1, sizeof *h);
    if (!hdr || !h) {
        free(hdr);
        free(h);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    }
    h->handle = -1;
    h->name = strdup(name);
    pthread_mutex_lock(&edflib_lock);
    xai_status st = open_locked(path, name, discontinuous, hdr, h);
    pthread_mutex_unlock(&edflib_lock);
    free(hdr);
    if (st != XAI_OK) {
        xai_edf_close(h);
        return st;
    }
    *out = h;
    return XAI_OK;
}

static int is_discontinuous(const unsigned char *h)
{
    return memcmp(h + 192, "EDF+D", 5) == 0 || memcmp(h + 192, "BDF+D", 5) == 0;
}

/*
 * Header tidying.
 *
 * EDFlib 1.23 is stricter than the EDF specification in two places where real recordings
 * that MNE reads depart from its taste, so we hand it a tidied copy of such headers:
 *
 *  1. Numeric header fields with leading blanks, e.g. the number of data records "  1     "
 *     in MNE's test.bdf. EDF spec (edfplus.info/specs/edf.html, "header record"): every
 *     header value is ASCII in a fixed-width field; the convention that EDFlib enforces
 *     (and that EDF+ writers follow) is left-aligned and filled with spaces. A leading blank
 *     is unambiguous and our precheck has already parsed the number, so the same characters
 *     are moved to the left and re-padded with spaces. Fields: number of header bytes (184),
 *     number of data records (236), record duration (244), number of signals (252), and per
 *     signal physical min/max, digital min/max and samples per record.
 *  2. The transducer and prefilter fields of the "EDF Annotations" / "BDF Annotations"
 *     signal of an EDF+/BDF+ file, e.g. "HP:0Hz LP:0Hz N:0Hz" in the PhysioNet eegmmidb
 *     files. EDF+ spec (edfplus.info/specs/edfplus.html) section 2.2.1 fixes the label,
 *     digital range and sample count of that signal and says its other fields are filled
 *     with spaces; they describe no data (the annotation signal is not returned as a
 *     channel), so they are blanked. The BDF+ variant (teuniz.net/edfbrowser/bdfplus
 *     format description) follows EDF+ here.
 *
 * Nothing else is touched: labels, units, scaling values, dates, the reserved field, the
 * TALs and every data byte are passed to EDFlib exactly as they are, so genuinely malformed
 * files still fail (in our precheck with a precise message, or in EDFlib). The tidied header
 * goes into a private temporary copy, never into the caller's file or buffer.
 */
static int tidy_number(unsigned char *f, size_t w)
{
    size_t a = 0;
    while (a < w && f[a] == ' ')
        a++;
    if (a == 0 || a == w)
        return 0;
    memmove(f, f + a, w - a);
    memset(f + w - a, ' ', a);
    return 1;
}

static int tidy_blank(unsigned char *f, size_t w)
{
    int changed = 0;
    for (size_t i = 0; i < w; i++) {
        changed |= f[i] != ' ';
        f[i] = ' ';
    }
    return changed;
}

/* Tidy a pre-checked header of @ns signals in place; returns 1 when a byte changed. */
static int tidy_header(unsigned char *h, int ns)
{
    int bdf = h[0] == 0xFF;
    int plus = memcmp(h + 192, bdf ? "BDF+C" : "EDF+C", 5) == 0 ||
               memcmp(h + 192, bdf ? "BDF+D" : "EDF+D", 5) == 0;
    size_t n = (size_t)ns;
    unsigned char *s = h + 256;
    int changed = tidy_number(h + 184, 8) | tidy_number(h + 236, 8) | tidy_number(h + 244, 8) |
                  tidy_number(h + 252, 4);
    for (size_t i = 0; i < n; i++) {
        static const size_t num_fields[] = {104, 112, 120, 128, 216};
        for (size_t k = 0; k < sizeof num_fields / sizeof num_fields[0]; k++)
            changed |= tidy_number(s + num_fields[k] * n + 8 * i, 8);
        if (plus && memcmp(s + 16 * i, bdf ? "BDF Annotations " : "EDF Annotations ", 16) == 0) {
            changed |= tidy_blank(s + 16 * n + 80 * i, 80);  /* transducer */
            changed |= tidy_blank(s + 136 * n + 80 * i, 80); /* prefilter */
        }
    }
    return changed;
}

/* Number of signals of a pre-checked header. */
static int header_signals(const unsigned char *h)
{
    long long ns = 0;
    field_int(h + 252, 4, &ns);
    return (int)ns;
}

/*
 * Write a private temporary copy: @hlen header bytes from @hdr, then the data records,
 * either @dlen bytes from @data or everything from @src's current position to its end.
 * Returns the malloc'ed path, or NULL with errno set.
 */
static char *write_temp(const unsigned char *hdr, size_t hlen, const unsigned char *data,
                        size_t dlen, FILE *src);

/*
 * Open pre-checked bytes through a private temporary file whose header is a tidied copy
 * of @hdr (see tidy_header). EDFlib 1.23 refuses EDF+D/BDF+D outright, so a discontinuous
 * file is handed to it marked EDF+C/BDF+C: that works when its records are in fact
 * contiguous; EDFlib rejects real gaps, which we report.
 */
static xai_status open_via_temp(const unsigned char *hdr, const unsigned char *data,
                                size_t dlen, FILE *src, const char *name, xai_edf **out)
{
    int disc = is_discontinuous(hdr);
    size_t hlen = 256 * ((size_t)header_signals(hdr) + 1);
    unsigned char *copy = malloc(hlen);
    if (!copy)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    memcpy(copy, hdr, hlen);
    tidy_header(copy, header_signals(hdr));
    if (disc)
        copy[196] = 'C';
    char *tmp = write_temp(copy, hlen, data, dlen, src);
    free(copy);
    if (!tmp)
        return xai_error_set(XAI_EIO, "%s: cannot write a temporary file: %s", name,
                             strerror(errno));
    xai_status st = open_checked(tmp, name, disc, out);
    unlink(tmp); /* EDFlib keeps its FILE open; the data stay reachable */
    free(tmp);
    if (disc && st == XAI_EFORMAT)
        st = xai_error_set(XAI_EUNSUPPORTED, "%s: discontinuous EDF+D/BDF+D file with gaps "
                           "between records (or bad TALs): EDFlib cannot read it", name);
    return st;
}

/* Whether EDFlib needs a tidied private copy of this pre-checked header. */
static int needs_copy(const unsigned char *h, xai_status *st, const char *name)
{
    *st = XAI_OK;
    if (is_discontinuous(h))
        return 1;
    int ns = header_signals(h);
    size_t hlen = 256 * ((size_t)ns + 1);
    unsigned char *copy = malloc(hlen);
    if (!copy) {
        *st = xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
        return 0;
    }
    memcpy(copy, h, hlen);
    int changed = tidy_header(copy, ns);
    free(copy);
    return changed;
}

xai_status xai_edf_open(const char *path, xai_edf **out)
{
    if (!out)
        return xai_error_set(XAI_EINVAL, "xai_edf_open: NULL output");
    *out = NULL;
    if (!path)
        return xai_error_set(XAI_EINVAL, "xai_edf_open: NULL path");
    FILE *f;
    uint64_t fsize;
    xai_status st = xai_file_open_regular(path, &f, &fsize);
    if (st)
        return st;
    /* the header is at most 256 * (EDFLIB_MAXSIGNALS + 1) bytes */
    size_t want = 256 * (EDFLIB_MAXSIGNALS + 1);
    unsigned char *hb = malloc(want);
    if (!hb) {
        fclose(f);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    }
    size_t have = fread(hb, 1, want, f);
    st = precheck(hb, have, (long long)fsize, path);
    int copy = st == XAI_OK ? needs_copy(hb, &st, path) : 0;
    if (st != XAI_OK || !copy) {
        free(hb);
        fclose(f);
        return st != XAI_OK ? st : open_checked(path, path, 0, out);
    }
    /* EDF+D or a header EDFlib would refuse: stream a tidied copy (records unchanged) */
    size_t hlen = 256 * ((size_t)header_signals(hb) + 1);
    if (fseek(f, (long)hlen, SEEK_SET) != 0) {
        free(hb);
        fclose(f);
        return xai_error_set(XAI_EIO, "%s: cannot seek: %s", path, strerror(errno));
    }
    st = open_via_temp(hb, NULL, 0, f, path, out);
    free(hb);
    fclose(f);
    return st;
}

static int write_all(int fd, const unsigned char *p, size_t left)
{
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        left -= (size_t)w;
    }
    return 0;
}

static char *write_temp(const unsigned char *hdr, size_t hlen, const unsigned char *data,
                        size_t dlen, FILE *src)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    const char *prefix = "xai-edf-";
    size_t n = strlen(dir) + strlen(prefix) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return NULL;
    snprintf(tmp, n, "%s/%sXXXXXX", dir, prefix);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        free(tmp);
        return NULL;
    }
    int bad = write_all(fd, hdr, hlen) != 0;
    if (!bad && data)
        bad = write_all(fd, data, dlen) != 0;
    if (!bad && src) {
        unsigned char *buf = malloc(CHUNK);
        size_t got;
        bad = buf == NULL;
        while (!bad && (got = fread(buf, 1, CHUNK, src)) > 0)
            bad = write_all(fd, buf, got) != 0;
        if (!bad && ferror(src)) {
            errno = EIO;
            bad = 1;
        }
        free(buf);
    }
    if (close(fd) != 0)
        bad = 1;
    if (bad) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        errno = e;
        return NULL;
    }
    return tmp;
}

xai_status xai_edf_open_mem(const void *buf, size_t len, const char *name, xai_edf **out)
{
    if (!out)
        return xai_error_set(XAI_EINVAL, "xai_edf_open_mem: NULL output");
    *out = NULL;
    if (!name)
        name = "<memory>";
    if (!buf && len)
        return xai_error_set(XAI_EINVAL, "%s: NULL buffer", name);
    xai_status st = precheck(buf, len, (long long)len, name);
    if (st != XAI_OK)
        return st;
    size_t hlen = 256 * ((size_t)header_signals(buf) + 1);
    return open_via_temp(buf, (const unsigned char *)buf + hlen, len - hlen, NULL, name, out);
}

void xai_edf_close(xai_edf *h)
{
    if (!h)
        return;
    if (h->handle >= 0) {
        pthread_mutex_lock(&edflib_lock);
        edfclose_file(h->handle);
        pthread_mutex_unlock(&edflib_lock);
    }
    free(h->channels);
    free(h->annots);
    free(h->annot_text);
    free(h->name);
    free(h);
}

const xai_edf_info *xai_edf_get_info(const xai_edf *h)
{
    return h ? &h->info : NULL;
}

const xai_edf_channel *xai_edf_get_channel(const xai_edf *h, int ch)
{
    if (!h || ch < 0 || ch >= h->info.n_channels)
        return NULL;
    return &h->channels[ch];
}

static int label_eq(const char *a, const char *b)
{
    while (*a == ' ')
        a++;
    while (*b == ' ')
        b++;
    size_t na = strlen(a), nb = strlen(b);
    while (na && a[na - 1] == ' ')
        na--;
    while (nb && b[nb - 1] == ' ')
        nb--;
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return 0;
    return 1;
}

int xai_edf_find_channel(const xai_edf *h, const char *label)
{
    if (!h || !label)
        return -1;
    for (int i = 0; i < h->info.n_channels; i++)
        if (label_eq(h->channels[i].label, label))
            return i;
    return -1;
}

const xai_edf_annotation *xai_edf_get_annotations(const xai_edf *h, size_t *n)
{
    if (n)
        *n = h ? h->info.n_annotations : 0;
    return h ? h->annots : NULL;
}

xai_status xai_edf_read_channel(xai_edf *h, int ch, int64_t start, int64_t count, float *dst)
{
    if (!h || !dst || ch < 0 || ch >= h->info.n_channels)
        return xai_error_set(XAI_EINVAL, "%s: no channel %d", h ? h->name : "edf", ch);
    const xai_edf_channel *c = &h->channels[ch];
    if (start < 0 || count < 0 || start > c->samples || count > c->samples - start)
        return xai_error_set(XAI_EINVAL, "%s: channel '%s': samples %lld..%lld out of 0..%lld",
                             h->name, c->label, (long long)start, (long long)(start + count),
                             (long long)c->samples);
    if (count == 0)
        return XAI_OK;
    double *tmp = malloc(sizeof(double) * (size_t)(count < CHUNK ? count : CHUNK));
    if (!tmp)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", h->name);
    xai_status st = XAI_OK;
    pthread_mutex_lock(&edflib_lock);
    if (edfseek(h->handle, ch, start, EDFSEEK_SET) != start) {
        st = xai_error_set(XAI_EIO, "%s: channel '%s': cannot seek to sample %lld", h->name,
                           c->label, (long long)start);
    }
    for (int64_t done = 0; st == XAI_OK && done < count;) {
        int n = (int)(count - done < CHUNK ? count - done : CHUNK);
        int got = edfread_physical_samples(h->handle, ch, n, tmp);
        if (got != n) {
            st = xai_error_set(XAI_EIO, "%s: channel '%s': short read at sample %lld", h->name,
                               c->label, (long long)(start + done));
            break;
        }
        for (int i = 0; i < n; i++)
            dst[done + i] = (float)tmp[i];
        done += n;
    }
    pthread_mutex_unlock(&edflib_lock);
    free(tmp);
    return st;
}

xai_status xai_edf_read_all(xai_edf *h, float ***out)
{
    if (!h || !out)
        return xai_error_set(XAI_EINVAL, "xai_edf_read_all: NULL argument");
    *out = NULL;
    int nc = h->info.n_channels;
    size_t head = sizeof(float *) * (size_t)nc;
    head = (head + 15) & ~(size_t)15;
    size_t total = 0;
    for (int i = 0; i < nc; i++) {
        if ((uint64_t)h->channels[i].samples > (SIZE_MAX / 4 - total) / 2)
            return xai_error_set(XAI_ENOMEM, "%s: recording too large", h->name);
        total += (size_t)h->channels[i].samples;
    }
    unsigned char *blk = malloc(head + total * sizeof(float) + 1);
    if (!blk)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory (%zu samples)", h->name, total);
    float **ptrs = (float **)(void *)blk;
    float *data = (float *)(void *)(blk + head);
    for (int i = 0; i < nc; i++) {
        ptrs[i] = data;
        xai_status st = xai_edf_read_channel(h, i, 0, h->channels[i].samples, data);
        if (st != XAI_OK) {
            free(blk);
            return st;
        }
        data += h->channels[i].samples;
    }
    *out = ptrs;
    return XAI_OK;
}

xai_status xai_edf_read_matrix(xai_edf *h, const int *channels, int n_sel, float **out,
                               int64_t *n_times, double *rate)
{
    if (!h || !out)
        return xai_error_set(XAI_EINVAL, "xai_edf_read_matrix: NULL argument");
    *out = NULL;
    int n = channels ? n_sel : h->info.n_channels;
    if (n <= 0)
        return xai_error_set(XAI_EINVAL, "%s: empty channel selection", h->name);
    for (int k = 0; k < n; k++) {
        int c = channels ? channels[k] : k;
        if (c < 0 || c >= h->info.n_channels)
            return xai_error_set(XAI_EINVAL, "%s: no channel %d (the file has %d)", h->name, c,
                                 h->info.n_channels);
    }
    const xai_edf_channel *c0 = &h->channels[channels ? channels[0] : 0];
    for (int k = 1; k < n; k++) {
        const xai_edf_channel *ck = &h->channels[channels ? channels[k] : k];
        if (ck->samples_per_record != c0->samples_per_record)
            return xai_error_set(XAI_EUNSUPPORTED, "%s: mixed sample rates: channel '%s' is at "
                                 "%g Hz but '%s' at %g Hz; read channels one by one or select "
                                 "channels with one rate", h->name, c0->label, c0->sample_rate,
                                 ck->label, ck->sample_rate);
    }
    int64_t t = c0->samples;
    if (t <= 0 || (uint64_t)t > SIZE_MAX / sizeof(float) / (size_t)n)
        return xai_error_set(XAI_ENOMEM, "%s: recording too large", h->name);
    float *m = malloc(sizeof(float) * (size_t)n * (size_t)t);
    if (!m)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", h->name);
    for (int k = 0; k < n; k++) {
        xai_status st = xai_edf_read_channel(h, channels ? channels[k] : k, 0, t,
                                             m + (size_t)k * (size_t)t);
        if (st != XAI_OK) {
            free(m);
            return st;
        }
    }
    *out = m;
    if (n_times)
        *n_times = t;
    if (rate)
        *rate = c0->sample_rate;
    return XAI_OK;
}

xai_status xai_edf_read_events(xai_edf *h, int ch, xai_edf_event **out, size_t *n)
{
    if (!h || !out || !n)
        return xai_error_set(XAI_EINVAL, "xai_edf_read_events: NULL argument");
    *out = NULL;
    *n = 0;
    if (ch < 0) {
        static const char *names[] = {"Status", "Trigger", "STI 014"};
        for (size_t i = 0; ch < 0 && i < sizeof names / sizeof names[0]; i++)
            ch = xai_edf_find_channel(h, names[i]);
        if (ch < 0)
            return xai_error_set(XAI_EINVAL, "%s: no trigger channel (Status, Trigger or STI 014)",
                                 h->name);
    }
    if (ch >= h->info.n_channels)
        return xai_error_set(XAI_EINVAL, "%s: no channel %d", h->name, ch);
    const xai_edf_channel *c = &h->channels[ch];
    int *buf = malloc(sizeof(int) * CHUNK);
    if (!buf)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", h->name);
    xai_edf_event *ev = NULL;
    size_t nev = 0, cap = 0;
    unsigned prev = 0;
    xai_status st = XAI_OK;
    pthread_mutex_lock(&edflib_lock);
    edfseek(h->handle, ch, 0, EDFSEEK_SET);
    for (int64_t done = 0; st == XAI_OK && done < c->samples;) {
        int k = (int)(c->samples - done < CHUNK ? c->samples - done : CHUNK);
        if (edfread_digital_samples(h->handle, ch, k, buf) != k) {
            st = xai_error_set(XAI_EIO, "%s: channel '%s': short read", h->name, c->label);
            break;
        }
        for (int i = 0; i < k; i++) {
            unsigned v = (unsigned)buf[i] & 0xFFFFu;
            if (v != prev && v != 0) {
                if (nev == cap) {
                    size_t nc = cap ? cap * 2 : 64;
                    xai_edf_event *e = realloc(ev, nc * sizeof *e);
                    if (!e) {
                        st = xai_error_set(XAI_ENOMEM, "%s: out of memory", h->name);
                        break;
                    }
                    ev = e;
                    cap = nc;
                }
                ev[nev].sample = done + i;
                ev[nev].onset_s = (double)(done + i) / c->sample_rate;
                ev[nev].value = v;
                nev++;
            }
            prev = v;
        }
        done += k;
    }
    pthread_mutex_unlock(&edflib_lock);
    free(buf);
    if (st != XAI_OK) {
        free(ev);
        return st;
    }
    *out = ev;
    *n = nev;
    return XAI_OK;
}

/* ---------------------------------------------------------------------------------------
 * Writer
 * ------------------------------------------------------------------------------------- */

/* Round @v outward (down when !up) to a value printable in 8 characters; 0 on success. */
static int fit8(double v, int up, double *res)
{
    char buf[64];
    for (int p = 7; p >= 0; p--) {
        double s = pow(10.0, p);
        double r = up ? ceil(v * s - 1e-9) / s : floor(v * s + 1e-9) / s;
        if (up ? r < v : r > v)
            r = up ? r + 1.0 / s : r - 1.0 / s;
        int len = snprintf(buf, sizeof buf, "%.*f", p, r);
        if (len <= 8) {
            *res = strtod(buf, NULL);
            if (up ? *res >= v : *res <= v)
                return 0;
        }
    }
    return -1;
}

/* Pick samples per record and record duration (units of 10 us) for @rate and @t samples.
   The duration must be a whole number of 10 us units: the header stores it in 8 characters
   (at most 60 s with 5 decimals), and anything else would change the sample rate on reading. */
static int pick_record(double rate, int64_t t, int bytes_per_rec_sample, int *spr, int *dur)
{
    double best = HUGE_VAL;
    int ok = 0;
    /* prefer records that divide T exactly */
    for (int64_t d = 1; d * d <= t; d++) {
        if (t % d)
            continue;
        int64_t cand[2] = {d, t / d};
        for (int k = 0; k < 2; k++) {
            int64_t s = cand[k];
            double du = (double)s * 1e5 / rate;
            double r = nearbyint(du);
            /* short records are fine for short signals, else they bloat the file */
            if (fabs(du - r) > 1e-9 * du || r < 100 || r > 6000000 || s > INT_MAX ||
                s * bytes_per_rec_sample > 10 * 1024 * 1024 || (r < 10000 && t / s > 100))
                continue;
            double score = fabs(log(r / 1e5));
            if (score < best) {
                best = score;
                *spr = (int)s;
                *dur = (int)r;
                ok = 1;
            }
        }
    }
    if (ok)
        return 0;
    /* otherwise any record length; the last record is padded */
    for (int64_t s = 1; s <= 10000000 && (double)s * 1e5 / rate <= 6000000; s++) {
        double du = (double)s * 1e5 / rate;
        double r = nearbyint(du);
        if (fabs(du - r) > 1e-9 * du || r < 100 || s * bytes_per_rec_sample > 10 * 1024 * 1024)
            continue;
        double score = fabs(log(r / 1e5));
        if (score < best) {
            best = score;
            *spr = (int)s;
            *dur = (int)r;
            ok = 1;
        }
        if (r >= 1e5)
            break;
    }
    return ok ? 0 : -1;
}

/* What xai_edf_write checks before choosing a record layout. */
static xai_status check_write_spec(const char *path, const xai_edf_write_spec *sp)
{
    int nc = sp->n_channels;
    if (nc < 1 || nc > 512)
        return xai_error_set(XAI_EINVAL, "%s: %d channels (1..512 allowed)", path, nc);
    if (sp->n_samples < 1)
        return xai_error_set(XAI_EINVAL, "%s: %lld samples per channel", path,
                             (long long)sp->n_samples);
    if (!(sp->sample_rate > 0) || !isfinite(sp->sample_rate))
        return xai_error_set(XAI_EINVAL, "%s: sample rate %g Hz is not positive", path,
                             sp->sample_rate);
    if (!sp->labels || !sp->data)
        return xai_error_set(XAI_EINVAL, "%s: labels and data are required", path);
    if (sp->n_annotations && !sp->annotations)
        return xai_error_set(XAI_EINVAL, "%s: NULL annotations", path);
    for (int c = 0; c < nc; c++) {
        if (!sp->labels[c] || strlen(sp->labels[c]) > 16)
            return xai_error_set(XAI_EINVAL, "%s: channel %d: label missing or longer than 16 "
                                 "characters", path, c);
        if (sp->units && sp->units[c] && strlen(sp->units[c]) > 8)
            return xai_error_set(XAI_EINVAL, "%s: channel %d: unit longer than 8 characters",
                                 path, c);
    }
    for (size_t i = 0; i < sp->n_annotations; i++) {
        const xai_edf_annotation *a = &sp->annotations[i];
        if (!a->text || strlen(a->text) > 40)
            return xai_error_set(XAI_EINVAL, "%s: annotation %zu: text missing or longer than "
                                 "40 bytes", path, i);
        if (!(a->onset_s >= 0) || !isfinite(a->onset_s) || !isfinite(a->duration_s))
            return xai_error_set(XAI_EINVAL, "%s: annotation %zu: bad onset/duration", path, i);
    }
    return XAI_OK;
}

/* The layout of the file being written. */
typedef struct {
    int nc, bdf, spr, dur, annsig; /* channels, BDF, samples per record, record length, annotation signals */
    long dmin, dmax;               /* digital range: 16 or 24 bits */
    int64_t T, nrec;               /* samples per channel, records */
    double *pmin, *pmax;           /* physical range per channel */
    int *dig;                      /* one record of one channel */
} edf_layout;

/* Per channel, a physical range that holds its samples (and the zeros padding the last record)
   and fits the 8-character header fields; a flat channel gets a small range around its value. */
static xai_status physical_ranges(const char *path, const xai_edf_write_spec *sp, edf_layout *lo)
{
    int64_t T = lo->T;
    for (int c = 0; c < lo->nc; c++) {
        const float *x = sp->data + (size_t)c * (size_t)T;
        double lo_ = HUGE_VAL, hi = -HUGE_VAL;
        for (int64_t i = 0; i < T; i++) {
            if (!isfinite(x[i]))
                return xai_error_set(XAI_ENUMERIC, "%s: channel '%s': non-finite value at sample "
                                     "%lld", path, sp->labels[c], (long long)i);
            if (x[i] < lo_)
                lo_ = x[i];
            if (x[i] > hi)
                hi = x[i];
        }
        if (T % lo->spr) { /* padding zeros stay in range */
            if (lo_ > 0)
                lo_ = 0;
            if (hi < 0)
                hi = 0;
        }
        if (hi - lo_ < 1e-6 * (fabs(hi) + fabs(lo_)) || hi == lo_) {
            double m = fabs(hi) > 0 ? fabs(hi) * 1e-3 : 1.0;
            lo_ -= m;
            hi += m;
        }
        if (fit8(lo_, 0, &lo->pmin[c]) != 0 || fit8(hi, 1, &lo->pmax[c]) != 0 || lo->pmin[c] >= lo->pmax[c])
            return xai_error_set(XAI_EUNSUPPORTED, "%s: channel '%s': range %g..%g does not fit "
                                 "the 8-character EDF header fields", path, sp->labels[c], lo_, hi);
    }
    return XAI_OK;
}

/* The header settings through EDFlib; nonzero when EDFlib refuses one. */
static int edf_header(int hd, const xai_edf_write_spec *sp, const edf_layout *lo)
{
    int bad = edf_set_datarecord_duration(hd, lo->dur) != 0;
    bad |= edf_set_number_of_annotation_signals(hd, lo->annsig) != 0;
    for (int c = 0; c < lo->nc; c++) {
        bad |= edf_set_samplefrequency(hd, c, lo->spr) != 0;
        bad |= edf_set_physical_minimum(hd, c, lo->pmin[c]) != 0;
        bad |= edf_set_physical_maximum(hd, c, lo->pmax[c]) != 0;
        bad |= edf_set_digital_minimum(hd, c, (int)lo->dmin) != 0;
        bad |= edf_set_digital_maximum(hd, c, (int)lo->dmax) != 0;
        bad |= edf_set_label(hd, c, sp->labels[c]) != 0;
        bad |= edf_set_physical_dimension(hd, c, sp->units && sp->units[c] ? sp->units[c] : "")
               != 0;
    }
    if (sp->recording)
        bad |= edf_set_equipment(hd, sp->recording) != 0;
    return bad;
}

/* The samples, record by record and channel by channel, as rounded and clamped digital values;
   then the annotations (onsets and durations in units of 100 us). */
static xai_status edf_body(int hd, const char *path, const xai_edf_write_spec *sp, const edf_layout *lo)
{
    long dmin = lo->dmin, dmax = lo->dmax;
    int spr = lo->spr, *dig = lo->dig;
    int64_t T = lo->T;
    for (int64_t r = 0; r < lo->nrec; r++) {
        for (int c = 0; c < lo->nc; c++) {
            const float *x = sp->data + (size_t)c * (size_t)T;
            double scale = (double)(dmax - dmin) / (lo->pmax[c] - lo->pmin[c]);
            for (int i = 0; i < spr; i++) {
                int64_t k = r * spr + i;
                double v = k < T ? x[k] : 0.0;
                double d = nearbyint((v - lo->pmin[c]) * scale) + (double)dmin;
                if (d < (double)dmin)
                    d = (double)dmin;
                if (d > (double)dmax)
                    d = (double)dmax;
                dig[i] = (int)d;
            }
            if (edfwrite_digital_samples(hd, dig) != 0)
                return xai_error_set(XAI_EIO, "%s: write failed at record %lld", path,
                                     (long long)r);
        }
    }
    for (size_t i = 0; i < sp->n_annotations; i++) {
        const xai_edf_annotation *a = &sp->annotations[i];
        long long on = llround(a->onset_s * 10000.0);
        long long du = a->duration_s < 0 ? -1 : llround(a->duration_s * 10000.0);
        if (edfwrite_annotation_utf8(hd, on, du, a->text) != 0)
            return xai_error_set(XAI_EIO, "%s: cannot add annotation %zu", path, i);
    }
    return XAI_OK;
}

/* Write through EDFlib into a temporary file, renamed over path when everything succeeded.
   EDFlib keeps global state, hence the lock. */
static xai_status edf_write_file(const char *path, const xai_edf_write_spec *sp, const edf_layout *lo)
{
    char *tmp;
    int fd;
    xai_status st = xai_atomic_mkstemp(path, NULL, &tmp, &fd);
    if (st != XAI_OK)
        return st;
    close(fd);
    pthread_mutex_lock(&edflib_lock);
    int hd = edfopen_file_writeonly(tmp, lo->bdf ? EDFLIB_FILETYPE_BDFPLUS : EDFLIB_FILETYPE_EDFPLUS,
                                    lo->nc);
    if (hd < 0) {
        st = xai_error_set(XAI_EIO, "%s: EDFlib cannot open the temporary file (error %d)",
                           path, hd);
    } else if (edf_header(hd, sp, lo)) {
        st = xai_error_set(XAI_EIO, "%s: EDFlib refused the header settings", path);
        edfclose_file(hd);
    } else {
        st = edf_body(hd, path, sp, lo);
        if (edfclose_file(hd) != 0 && st == XAI_OK)
            st = xai_error_set(XAI_EIO, "%s: EDFlib failed to finish the file", path);
    }
    pthread_mutex_unlock(&edflib_lock);
    return xai_atomic_finish(tmp, path, st);
}

xai_status xai_edf_write(const char *path, const xai_edf_write_spec *sp)
{
    if (!path || !sp)
        return xai_error_set(XAI_EINVAL, "xai_edf_write: NULL argument");
    xai_status st = check_write_spec(path, sp);
    if (st)
        return st;
    edf_layout lo = {.nc = sp->n_channels, .bdf = sp->bdf != 0, .T = sp->n_samples};
    int bps = lo.bdf ? 3 : 2;
    lo.dmin = lo.bdf ? -8388608L : -32768L;
    lo.dmax = lo.bdf ? 8388607L : 32767L;
    if (pick_record(sp->sample_rate, sp->n_samples, bps * lo.nc, &lo.spr, &lo.dur) != 0)
        return xai_error_set(XAI_EUNSUPPORTED, "%s: sample rate %g Hz cannot be stored as "
                             "whole samples per record of 0.001..60 s", path, sp->sample_rate);
    lo.nrec = (lo.T + lo.spr - 1) / lo.spr;
    size_t nann = sp->n_annotations;
    lo.annsig = (int)((nann + (size_t)lo.nrec - 1) / (size_t)lo.nrec);
    if (lo.annsig < 1)
        lo.annsig = 1;
    if (lo.annsig > 64)
        return xai_error_set(XAI_EUNSUPPORTED, "%s: %zu annotations do not fit in %lld records",
                             path, nann, (long long)lo.nrec);
    lo.pmin = malloc(sizeof(double) * 2 * (size_t)lo.nc);
    lo.dig = malloc(sizeof(int) * (size_t)lo.spr);
    if (!lo.pmin || !lo.dig)
        st = xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    else {
        lo.pmax = lo.pmin + lo.nc;
        if (!(st = physical_ranges(path, sp, &lo)))
            st = edf_write_file(path, sp, &lo);
    }
    free(lo.pmin);
    free(lo.dig);
    return st;
}
