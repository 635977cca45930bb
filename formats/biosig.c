/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * biosig.c - GDF, BCI2000, CNT and EGI recordings through libbiosig, presented with the
 * structs of the EDF reader (see xai/biosig.h).
 */
#include "xai/biosig.h"
#include "file-util.h"

#include <biosig.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct xai_biosig {
    HDRTYPE *hdr;
    char *path;
    xai_biosig_info info;
    xai_edf_channel *chans;
    int *col;                 /* BioSig channel index of each data channel */
    xai_edf_annotation *ann;
    char **texts;             /* owned annotation texts */
    biosig_data_type *data;   /* [C][T] after the first read (owned by hdr) */
    size_t rows;
};

/* BioSig keeps global state (error variables, VERBOSE_LEVEL) and prints to stderr. */
static pthread_mutex_t biosig_lock = PTHREAD_MUTEX_INITIALIZER;

/* stderr capture around one BioSig call: fd 2 points at a temporary file meanwhile. */
typedef struct {
    int saved;
    FILE *cap;
} quiet;

static void quiet_begin(quiet *q)
{
    fflush(stderr);
    q->cap = tmpfile();
    q->saved = q->cap ? dup(2) : -1;
    if (q->saved >= 0 && dup2(fileno(q->cap), 2) < 0) {
        close(q->saved);
        q->saved = -1;
    }
}

/* Restore stderr; copy the first line BioSig wrote (if any) into @p msg. */
static void quiet_end(quiet *q, char *msg, size_t cap)
{
    if (msg && cap)
        msg[0] = '\0';
    fflush(stderr);
    if (q->saved >= 0) {
        dup2(q->saved, 2);
        close(q->saved);
    }
    if (!q->cap)
        return;
    if (msg && cap && fseek(q->cap, 0, SEEK_SET) == 0 && fgets(msg, (int)cap, q->cap)) {
        size_t n = strlen(msg);
        while (n && isspace((unsigned char)msg[n - 1]))
            msg[--n] = '\0';
    }
    fclose(q->cap);
}

int xai_biosig_handles(const char *path)
{
    static const char *const ext[] = {".gdf", ".dat", ".cnt", ".egi", ".raw"};
    if (!path)
        return 0;
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return 0;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (strcasecmp(dot, ext[i]) == 0)
            return 1;
    return 0;
}

static void copy_field(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    while (n && isspace((unsigned char)src[n - 1]))
        n--;
    while (n && isspace((unsigned char)*src)) {
        src++;
        n--;
    }
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The error BioSig left in @p hdr, else what it printed, else @p fallback. */
static xai_status biosig_fail(xai_status code, const char *path, HDRTYPE *hdr,
                              const char *printed, const char *fallback)
{
    char *m = hdr ? biosig_get_errormsg(hdr) : NULL;
    const char *why = m && m[0] ? m : printed && printed[0] ? printed : fallback;
    xai_status st = xai_error_set(code, "%s: BioSig: %s", path, why);
    free(m);
    return st;
}

/* "HP:0.3Hz LP:30Hz N:50Hz" as EDF writes it; BioSig marks unknown values NaN. */
static void prefilter_text(char *dst, size_t cap, const CHANNEL_TYPE *c)
{
    const double v[3] = {c->HighPass, c->LowPass, c->Notch};
    static const char *const key[3] = {"HP", "LP", "N"};
    size_t at = 0;
    dst[0] = '\0';
    for (int i = 0; i < 3 && at < cap; i++)
        if (isfinite(v[i]))
            at += (size_t)snprintf(dst + at, cap - at, "%s%s:%gHz", at ? " " : "", key[i], v[i]);
}

/* Channels that carry data (BioSig's OnOff == 1), in file order. */
static xai_status fill_channels(xai_biosig *h)
{
    HDRTYPE *hdr = h->hdr;
    long ns = biosig_get_number_of_channels(hdr);
    h->chans = calloc(ns > 0 ? (size_t)ns : 1, sizeof *h->chans);
    h->col = calloc(ns > 0 ? (size_t)ns : 1, sizeof *h->col);
    if (!h->chans || !h->col)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", h->path);
    double fs = h->info.sample_rate;
    int n = 0;
    for (long i = 0; i < ns; i++) {
        CHANNEL_TYPE *c = biosig_get_channel(hdr, (int)i);
        if (!c || c->OnOff != 1)
            continue;
        xai_edf_channel *o = &h->chans[n];
        copy_field(o->label, sizeof o->label, c->Label);
        copy_field(o->unit, sizeof o->unit, PhysDim3(c->PhysDimCode));
        copy_field(o->transducer, sizeof o->transducer, c->Transducer);
        prefilter_text(o->prefilter, sizeof o->prefilter, c);
        double rate = biosig_get_channel_samplerate(hdr, (int)i);
        o->sample_rate = isfinite(rate) && rate > 0 ? rate : fs;
        o->samples_per_record = (int)c->SPR;
        o->samples = (int64_t)llround((double)h->info.n_samples * o->sample_rate / fs);
        o->phys_min = c->PhysMin;
        o->phys_max = c->PhysMax;
        o->dig_min = (int)fmax(fmin(c->DigMin, 2147483647.0), -2147483648.0);
        o->dig_max = (int)fmax(fmin(c->DigMax, 2147483647.0), -2147483648.0);
        h->col[n++] = (int)i;
    }
    h->info.n_channels = n;
    if (n == 0)
        return xai_error_set(XAI_EFORMAT, "%s: no data channels", h->path);
    return XAI_OK;
}

/* GDF codes below 256 are free text (the CodeDesc table); others are named by number. */
static char *event_text(HDRTYPE *hdr, size_t k, uint16_t typ)
{
    const char *d = typ < 256 ? GetEventDescription(hdr, k) : NULL;
    char num[16];
    if (!d || !d[0]) {
        snprintf(num, sizeof num, "%u", (unsigned)typ);
        d = num;
    }
    size_t n = strlen(d);
    char *s = malloc(n + 1);
    if (s)
        memcpy(s, d, n + 1);
    return s;
}

static xai_status fill_events(xai_biosig *h)
{
    HDRTYPE *hdr = h->hdr;
    size_t n = biosig_get_number_of_events(hdr);
    double fs = biosig_get_eventtable_samplerate(hdr);
    if (!(isfinite(fs) && fs > 0))
        fs = h->info.sample_rate;
    h->ann = calloc(n ? n : 1, sizeof *h->ann);
    h->texts = calloc(n ? n : 1, sizeof *h->texts);
    if (!h->ann || !h->texts)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", h->path);
    for (size_t k = 0; k < n; k++) {
        uint16_t typ = 0, chn = 0;
        uint32_t pos = 0, dur = 0;
        gdf_time ts = 0;
        const char *desc = NULL;
        biosig_get_nth_event(hdr, k, &typ, &pos, &chn, &dur, &ts, &desc);
        h->texts[k] = event_text(hdr, k, typ);
        if (!h->texts[k])
            return xai_error_set(XAI_ENOMEM, "%s: out of memory", h->path);
        h->ann[k].onset_s = pos / fs;
        h->ann[k].duration_s = hdr->EVENT.DUR ? dur / fs : -1.0;
        h->ann[k].text = h->texts[k];
    }
    h->info.n_annotations = n;
    return XAI_OK;
}

static void fill_info(xai_biosig *h)
{
    HDRTYPE *hdr = h->hdr;
    xai_biosig_info *in = &h->info;
    copy_field(in->format, sizeof in->format, GetFileTypeString(biosig_get_filetype(hdr)));
    double v = biosig_get_version(hdr);
    in->version = isfinite(v) && v > 0 ? v : 0;
    in->sample_rate = biosig_get_samplerate(hdr);
    in->n_samples = (int64_t)biosig_get_number_of_samples(hdr);
    in->duration_s = in->sample_rate > 0 ? (double)in->n_samples / in->sample_rate : 0;
    struct tm t;
    memset(&t, 0, sizeof t);
    if (biosig_get_startdatetime(hdr, &t) == 0 && t.tm_year > -1900 + 1) {
        in->start_year = t.tm_year + 1900;
        in->start_month = t.tm_mon + 1;
        in->start_day = t.tm_mday;
        in->start_hour = t.tm_hour;
        in->start_minute = t.tm_min;
        in->start_second = t.tm_sec;
    }
}

/* sopen() under the lock with stderr captured; overflow detection off so that samples at
 * the digital limits keep their values, as EDFlib gives them. */
static xai_status open_header(xai_biosig *h)
{
    char printed[256];
    quiet q;
    pthread_mutex_lock(&biosig_lock);
    quiet_begin(&q);
    HDRTYPE *hdr = constructHDR(0, 0);
    if (hdr) {
        biosig_reset_flag(hdr, BIOSIG_FLAG_OVERFLOWDETECTION | BIOSIG_FLAG_UCAL |
                               BIOSIG_FLAG_ROW_BASED_CHANNELS);
        hdr = sopen(h->path, "r", hdr);
    }
    quiet_end(&q, printed, sizeof printed);
    xai_status st = XAI_OK;
    if (!hdr)
        st = biosig_fail(XAI_EFORMAT, h->path, NULL, printed, "cannot read the header");
    else if (biosig_check_error(hdr))
        st = biosig_fail(XAI_EFORMAT, h->path, hdr, printed, "cannot read the header");
    else if (biosig_get_number_of_channels(hdr) <= 0 || biosig_get_number_of_samples(hdr) == 0 ||
             !(biosig_get_samplerate(hdr) > 0) || !isfinite(biosig_get_samplerate(hdr)))
        st = xai_error_set(XAI_EFORMAT, "%s: BioSig finds no samples (channels %ld, samples %zu, "
                           "rate %g Hz)", h->path, biosig_get_number_of_channels(hdr),
                           biosig_get_number_of_samples(hdr), biosig_get_samplerate(hdr));
    if (st != XAI_OK && hdr) {
        destructHDR(hdr);
        hdr = NULL;
    }
    h->hdr = hdr;
    pthread_mutex_unlock(&biosig_lock);
    return st;
}

xai_status xai_biosig_open(const char *path, xai_biosig **out)
{
    if (!out)
        return xai_error_set(XAI_EINVAL, "xai_biosig_open: NULL output");
    *out = NULL;
    if (!path)
        return xai_error_set(XAI_EINVAL, "xai_biosig_open: NULL path");
    FILE *f = NULL;
    uint64_t size = 0;
    xai_status st = xai_file_open_regular(path, &f, &size);
    if (st != XAI_OK)
        return st;
    fclose(f);
    if (size == 0)
        return xai_error_set(XAI_EFORMAT, "%s: empty file", path);
    xai_biosig *h = calloc(1, sizeof *h);
    if (h)
        h->path = strdup(path);
    if (!h || !h->path) {
        free(h);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    }
    st = open_header(h);
    if (st == XAI_OK) {
        fill_info(h);
        st = fill_channels(h);
    }
    if (st == XAI_OK)
        st = fill_events(h);
    if (st != XAI_OK) {
        xai_biosig_close(h);
        return st;
    }
    *out = h;
    return XAI_OK;
}

void xai_biosig_close(xai_biosig *h)
{
    if (!h)
        return;
    if (h->hdr) {
        pthread_mutex_lock(&biosig_lock);
        quiet q;
        quiet_begin(&q);
        destructHDR(h->hdr);
        quiet_end(&q, NULL, 0);
        pthread_mutex_unlock(&biosig_lock);
    }
    for (size_t k = 0; h->texts && k < h->info.n_annotations; k++)
        free(h->texts[k]);
    free(h->texts);
    free(h->ann);
    free(h->chans);
    free(h->col);
    free(h->path);
    free(h);
}

const xai_biosig_info *xai_biosig_get_info(const xai_biosig *h)
{
    return h ? &h->info : NULL;
}

const xai_edf_channel *xai_biosig_get_channel(const xai_biosig *h, int ch)
{
    if (!h || ch < 0 || ch >= h->info.n_channels)
        return NULL;
    return &h->chans[ch];
}

const xai_edf_annotation *xai_biosig_get_annotations(const xai_biosig *h, size_t *n)
{
    if (n)
        *n = h ? h->info.n_annotations : 0;
    return h ? h->ann : NULL;
}

/* Every sample of every data channel, once (BioSig keeps the block in the header). */
static xai_status load_samples(xai_biosig *h)
{
    if (h->data)
        return XAI_OK;
    char printed[256];
    quiet q;
    pthread_mutex_lock(&biosig_lock);
    quiet_begin(&q);
    size_t got = sread(NULL, 0, biosig_get_number_of_records(h->hdr), h->hdr);
    quiet_end(&q, printed, sizeof printed);
    biosig_data_type *d = NULL;
    size_t rows = 0, cols = 0;
    xai_status st = XAI_OK;
    if (biosig_check_error(h->hdr))
        st = biosig_fail(XAI_EFORMAT, h->path, h->hdr, printed, "cannot read the samples");
    else if (biosig_get_datablock(h->hdr, &d, &rows, &cols) != 0 || !d ||
             cols != (size_t)h->info.n_channels || rows < (size_t)h->info.n_samples)
        st = xai_error_set(XAI_EFORMAT, "%s: BioSig read %zu of %lld samples of %zu of %d "
                           "channels (%zu records)", h->path, rows,
                           (long long)h->info.n_samples, cols, h->info.n_channels, got);
    pthread_mutex_unlock(&biosig_lock);
    if (st == XAI_OK) {
        h->data = d;
        h->rows = rows;
    }
    return st;
}

static xai_status check_selection(const xai_biosig *h, const int *channels, int n_sel)
{
    if (channels && n_sel <= 0)
        return xai_error_set(XAI_EINVAL, "%s: empty channel selection", h->path);
    int n = channels ? n_sel : h->info.n_channels;
    for (int i = 0; i < n; i++) {
        int c = channels ? channels[i] : i;
        if (c < 0 || c >= h->info.n_channels)
            return xai_error_set(XAI_EINVAL, "%s: no channel %d (%d channels)", h->path, c,
                                 h->info.n_channels);
        if (h->chans[c].sample_rate < h->info.sample_rate * (1 - 1e-9))
            return xai_error_set(XAI_EUNSUPPORTED, "%s: channel %s has %g Hz, the file %g Hz: "
                                 "mixed sample rates are not read through BioSig", h->path,
                                 h->chans[c].label, h->chans[c].sample_rate, h->info.sample_rate);
    }
    return XAI_OK;
}

xai_status xai_biosig_read_matrix(xai_biosig *h, const int *channels, int n_sel,
                                  float **out, int64_t *n_times, double *rate)
{
    if (!h || !out)
        return xai_error_set(XAI_EINVAL, "xai_biosig_read_matrix: NULL argument");
    *out = NULL;
    xai_status st = check_selection(h, channels, n_sel);
    if (st == XAI_OK)
        st = load_samples(h);
    if (st != XAI_OK)
        return st;
    int n = channels ? n_sel : h->info.n_channels;
    size_t T = (size_t)h->info.n_samples;
    float *m = malloc((size_t)n * (T ? T : 1) * sizeof *m);
    if (!m)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", h->path);
    for (int i = 0; i < n; i++) {
        int c = channels ? channels[i] : i;
        const biosig_data_type *src = h->data + (size_t)c * h->rows;
        for (size_t t = 0; t < T; t++) {
            if (!isfinite(src[t])) {
                free(m);
                return xai_error_set(XAI_ENUMERIC, "%s: channel %s: sample %zu is not a number "
                                     "(overflow or missing data)", h->path, h->chans[c].label, t);
            }
            m[(size_t)i * T + t] = (float)src[t];
        }
    }
    *out = m;
    if (n_times)
        *n_times = (int64_t)T;
    if (rate)
        *rate = h->info.sample_rate;
    return XAI_OK;
}

/* A private temporary file named like @p name (BioSig looks at some extensions). */
static char *temp_copy(const void *buf, size_t len, const char *name)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !dir[0])
        dir = "/tmp";
    const char *dot = strrchr(name, '.');
    char ext[16] = "";
    if (dot && !strchr(dot, '/') && strlen(dot) < sizeof ext)
        memcpy(ext, dot, strlen(dot) + 1);
    size_t cap = strlen(dir) + sizeof ext + 32;
    char *tmp = malloc(cap);
    if (!tmp)
        return NULL;
    snprintf(tmp, cap, "%s/xai-biosig-XXXXXX%s", dir, ext);
    int fd = mkstemps(tmp, (int)strlen(ext));
    if (fd < 0) {
        free(tmp);
        return NULL;
    }
    const unsigned char *p = buf;
    size_t left = len;
    int bad = 0;
    while (left && !bad) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        bad = w <= 0;
        if (!bad) {
            p += w;
            left -= (size_t)w;
        }
    }
    if (close(fd) != 0 || bad) {
        unlink(tmp);
        free(tmp);
        return NULL;
    }
    return tmp;
}

xai_status xai_biosig_open_mem(const void *buf, size_t len, const char *name,
                               xai_biosig **out)
{
    if (!out)
        return xai_error_set(XAI_EINVAL, "xai_biosig_open_mem: NULL output");
    *out = NULL;
    if (!name)
        name = "<memory>";
    if (!buf && len)
        return xai_error_set(XAI_EINVAL, "%s: NULL buffer", name);
    if (len == 0)
        return xai_error_set(XAI_EFORMAT, "%s: empty file", name);
    char *tmp = temp_copy(buf, len, name);
    if (!tmp)
        return xai_error_set(XAI_EIO, "%s: cannot write a temporary copy: %s", name,
                             strerror(errno));
    xai_status st = xai_biosig_open(tmp, out);
    /* the samples are read later from the same path, so read them now */
    if (st == XAI_OK) {
        st = load_samples(*out);
        if (st != XAI_OK) {
            xai_biosig_close(*out);
            *out = NULL;
        }
    }
    unlink(tmp);
    free(tmp);
    return st;
}
