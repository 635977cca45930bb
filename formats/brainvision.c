/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * brainvision.c - our own BrainVision reader (.vhdr header, .eeg binary data, .vmrk
 * markers). The header and marker files are INI-like text (sections, key=value lines,
 * ';' comments, "\1" for commas inside fields; UTF-8 or, with Codepage=ANSI, Latin-1).
 * Every count is checked against the real buffer sizes before anything is allocated:
 * channels and markers are bounded by the header/marker length, samples by the data size.
 * Spec: Brain Products "BrainVision Core Data Format 1.0" (2019), which also describes
 * the older "Brain Vision Data Exchange" 1.0 files.
 */
#include "xai/brainvision.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    xai_brainvision pub;     /* must stay first: close() casts back */
    char **pool;             /* owned strings */
    size_t npool, cappool;
} bv_impl;

static char *pool_add(bv_impl *b, const char *s, size_t n)
{
    if (b->npool == b->cappool) {
        size_t nc = b->cappool ? b->cappool * 2 : 64;
        char **p = realloc(b->pool, nc * sizeof *p);
        if (!p)
            return NULL;
        b->pool = p;
        b->cappool = nc;
    }
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    memcpy(c, s, n);
    c[n] = '\0';
    b->pool[b->npool++] = c;
    return c;
}

/* Decode "\1" to ',' in place. */
static void decode_commas(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] == '1') {
            *w++ = ',';
            r++;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
        if (k == 9 || i + k >= n + (k == 0))
            return 0;
        for (size_t j = 1; j <= k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
        i += k + 1;
    }
    return 1;
}

/*
 * Make a NUL-terminated UTF-8 copy of a text file: Latin-1 bytes are converted when the
 * file says Codepage=ANSI or is not valid UTF-8. A leading BOM and NUL bytes are dropped.
 */
static char *text_copy(const void *buf, size_t len)
{
    const unsigned char *s = buf;
    if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
        s += 3;
        len -= 3;
    }
    int latin1 = !valid_utf8(s, len);
    if (!latin1) {
        const char *cp = memmem(s, len, "Codepage=ANSI", 13);
        latin1 = cp != NULL;
    }
    if (len > (SIZE_MAX - 1) / 2)
        return NULL;
    char *out = malloc(2 * len + 1), *w = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned c = s[i];
        if (c == 0)
            continue;
        if (latin1 && c >= 0x80) {
            *w++ = (char)(0xC0 | (c >> 6));
            *w++ = (char)(0x80 | (c & 0x3F));
        } else {
            *w++ = (char)c;
        }
    }
    *w = '\0';
    return out;
}

static int parse_ll(const char *s, long long *v)
{
    char *end;
    while (*s == ' ')
        s++;
    if (!*s)
        return -1;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    while (*end == ' ')
        end++;
    if (*end || errno)
        return -1;
    *v = x;
    return 0;
}

static int parse_d(const char *s, double *v)
{
    char *end;
    while (*s == ' ')
        s++;
    if (!*s)
        return -1;
    errno = 0;
    double x = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (*end || errno || !isfinite(x))
        return -1;
    *v = x;
    return 0;
}

/* Split @s at commas into at most @max fields (the last takes the rest); returns count. */
static int split(char *s, char **f, int max)
{
    int n = 0;
    f[n++] = s;
    for (char *p = s; *p && n < max; p++)
        if (*p == ',') {
            *p = '\0';
            f[n++] = p + 1;
        }
    return n;
}

static int starts_with_magic(const char *t, int marker)
{
    while (*t == ' ' || *t == '\r' || *t == '\n')
        t++;
    if (strncmp(t, "BrainVision Core Data Format", 28) == 0)
        return 1;
    const char *what = marker ? "Marker File" : "Header File";
    const char *p;
    if (strncmp(t, "Brain Vision Data Exchange ", 27) == 0)
        p = t + 27;
    else if (strncmp(t, "BrainVision Data Exchange ", 26) == 0)
        p = t + 26;
    else
        return 0;
    return strncmp(p, what, strlen(what)) == 0;
}

/* Iterate lines: returns the next line (NUL-terminated, trimmed) or NULL. */
static char *next_line(char **cur)
{
    char *s = *cur;
    if (!s || !*s)
        return NULL;
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        *cur = nl + 1;
    } else {
        *cur = s + strlen(s);
    }
    return trim(s);
}

/* The next "PREFIXn=VALUE" entry of section @want (e.g. "[Channel Infos]", "Ch"): skips
 * comments, blank lines, other sections and lines without '='; @section (64 bytes) tracks
 * the current section header. Returns the line cut at '=' (*value: the rest) or NULL. */
static char *next_entry(char **cur, char *section, const char *want, const char *prefix, char **value)
{
    char *line;
    while ((line = next_line(cur)) != NULL) {
        if (line[0] == ';' || !line[0])
            continue;
        if (line[0] == '[') {
            snprintf(section, 64, "%s", line);
            continue;
        }
        if (strcmp(section, want) != 0 || strncmp(line, prefix, strlen(prefix)) != 0)
            continue;
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        *value = eq + 1;
        return line;
    }
    return NULL;
}

/* split() at commas, then trim each field and decode its "\1" commas; returns the count. */
static int split_fields(char *s, char **f, int max)
{
    int nf = split(s, f, max);
    for (int i = 0; i < nf; i++) {
        f[i] = trim(f[i]);
        decode_commas(f[i]);
    }
    return nf;
}

typedef struct {
    char data_file[512], marker_file[512];
    long long nch, points;
    double interval;
    int have_interval, format, vectorized, big_endian, binary;
} vhdr_info;

/* One key of [Common Infos]. */
static xai_status common_info(vhdr_info *vi, const char *key, const char *val, const char *name)
{
    if (strcmp(key, "DataFile") == 0)
        snprintf(vi->data_file, sizeof vi->data_file, "%s", val);
    else if (strcmp(key, "MarkerFile") == 0)
        snprintf(vi->marker_file, sizeof vi->marker_file, "%s", val);
    else if (strcmp(key, "DataFormat") == 0)
        vi->binary = strcmp(val, "BINARY") == 0 ? 1 : 0;
    else if (strcmp(key, "DataOrientation") == 0) {
        if (strcmp(val, "MULTIPLEXED") == 0)
            vi->vectorized = 0;
        else if (strcmp(val, "VECTORIZED") == 0)
            vi->vectorized = 1;
        else
            return xai_error_set(XAI_EFORMAT, "%s: bad header: DataOrientation '%s' "
                                 "(MULTIPLEXED or VECTORIZED)", name, val);
    } else if (strcmp(key, "NumberOfChannels") == 0) {
        if (parse_ll(val, &vi->nch) != 0 || vi->nch <= 0)
            return xai_error_set(XAI_EFORMAT, "%s: bad header: NumberOfChannels '%s' is "
                                 "not a positive integer", name, val);
    } else if (strcmp(key, "DataPoints") == 0) {
        if (parse_ll(val, &vi->points) != 0 || vi->points < 0)
            return xai_error_set(XAI_EFORMAT, "%s: bad header: DataPoints '%s' is not a "
                                 "count", name, val);
    } else if (strcmp(key, "SamplingInterval") == 0) {
        if (parse_d(val, &vi->interval) != 0 || !(vi->interval > 0))
            return xai_error_set(XAI_EFORMAT, "%s: bad header: SamplingInterval '%s' µs "
                                 "is not positive (zero sample rate)", name, val);
        vi->have_interval = 1;
    }
    return XAI_OK;
}

/* One key of [Binary Infos]. */
static xai_status binary_info(vhdr_info *vi, const char *key, const char *val, const char *name)
{
    if (strcmp(key, "BinaryFormat") == 0) {
        if (strcmp(val, "INT_16") == 0)
            vi->format = XAI_BV_INT16;
        else if (strcmp(val, "UINT_16") == 0)
            vi->format = XAI_BV_UINT16;
        else if (strcmp(val, "INT_32") == 0)
            vi->format = XAI_BV_INT32;
        else if (strcmp(val, "IEEE_FLOAT_32") == 0)
            vi->format = XAI_BV_FLOAT32;
        else
            return xai_error_set(XAI_EUNSUPPORTED, "%s: BinaryFormat '%s' is not "
                                 "supported (INT_16, UINT_16, INT_32, IEEE_FLOAT_32)",
                                 name, val);
    } else if (strcmp(key, "UseBigEndianOrder") == 0) {
        vi->big_endian = strcmp(val, "YES") == 0;
    }
    return XAI_OK;
}

/* Pass 1 over a copy of the text (lines are cut in place): common and binary infos, so that
   channels can be sized; then what must be there. */
static xai_status read_infos(const char *text, size_t len, vhdr_info *vi, const char *name)
{
    xai_status st = XAI_OK;
    char *cur, *line, section[64] = "";
    char *copy = strdup(text);
    if (!copy)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    cur = copy;
    while (st == XAI_OK && (line = next_line(&cur)) != NULL) {
        if (line[0] == ';' || !line[0])
            continue;
        if (line[0] == '[') {
            snprintf(section, sizeof section, "%s", line);
            continue;
        }
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *key = trim(line), *val = trim(eq + 1);
        if (strcmp(section, "[Common Infos]") == 0)
            st = common_info(vi, key, val, name);
        else if (strcmp(section, "[Binary Infos]") == 0)
            st = binary_info(vi, key, val, name);
    }
    free(copy);
    if (st != XAI_OK)
        return st;
    if (!vi->binary)
        return xai_error_set(XAI_EUNSUPPORTED, "%s: only DataFormat=BINARY is supported", name);
    if (vi->nch < 0)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: NumberOfChannels is missing", name);
    if (!vi->have_interval)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: SamplingInterval is missing", name);
    /* each channel needs a "ChN=" line of at least 4 bytes */
    if ((unsigned long long)vi->nch > len / 4 || vi->nch > INT_MAX / 2)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: NumberOfChannels %lld, but the header "
                             "(%zu bytes) cannot describe that many", name, vi->nch, len);
    return XAI_OK;
}

/* One "ChN=label,reference,resolution,unit" line of [Channel Infos]. */
static xai_status channel_entry(bv_impl *b, char *line, char *value, long long nch, const char *name)
{
    xai_brainvision *bv = &b->pub;
    long long k;
    if (parse_ll(line + 2, &k) != 0 || k < 1 || k > nch)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: channel entry '%s' is not Ch1..Ch%lld",
                             name, line, nch);
    xai_bv_channel *c = &bv->channels[k - 1];
    if (c->label)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: channel %lld is described twice",
                             name, k);
    char *f[5] = {NULL, NULL, NULL, NULL, NULL};
    int nf = split_fields(value, f, 5);
    double res = 1.0;
    if (nf >= 3 && f[2][0]) {
        if (parse_d(f[2], &res) != 0 || res == 0)
            return xai_error_set(XAI_EFORMAT, "%s: bad scaling: channel %lld ('%s'): "
                                 "resolution '%s' is not a non-zero number", name, k, f[0],
                                 f[2]);
    }
    c->resolution = res;
    c->label = pool_add(b, f[0], strlen(f[0]));
    c->reference = pool_add(b, nf >= 2 ? f[1] : "", nf >= 2 ? strlen(f[1]) : 0);
    const char *u = nf >= 4 && f[3][0] ? f[3] : "\xC2\xB5V";
    if (nf >= 4) { /* the unit ends at the next comma (future extensions) */
        char *comma = strchr(f[3], ',');
        if (comma)
            *comma = '\0';
        if (!f[3][0])
            u = "\xC2\xB5V";
    }
    c->unit = pool_add(b, u, strlen(u));
    if (!c->label || !c->reference || !c->unit)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    return XAI_OK;
}

/* Pass 2: the channel infos; every channel must have its line. */
static xai_status read_channels(bv_impl *b, char *text, long long nch, const char *name)
{
    xai_brainvision *bv = &b->pub;
    xai_status st;
    char *cur = text, *line, *value, section[64] = "";
    while ((line = next_entry(&cur, section, "[Channel Infos]", "Ch", &value)) != NULL)
        if ((st = channel_entry(b, line, value, nch, name)))
            return st;
    for (int i = 0; i < bv->n_channels; i++)
        if (!bv->channels[i].label)
            return xai_error_set(XAI_EFORMAT, "%s: bad header: channel %d has no Ch%d= entry",
                                 name, i + 1, i + 1);
    return XAI_OK;
}

static xai_status parse_vhdr(bv_impl *b, const void *buf, size_t len, const char *name,
                             vhdr_info *vi)
{
    xai_brainvision *bv = &b->pub;
    char *text = text_copy(buf, len);
    if (!text)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    xai_status st;
    memset(vi, 0, sizeof *vi);
    vi->nch = -1;
    vi->format = XAI_BV_INT16; /* the spec default when BinaryFormat is absent */
    vi->binary = 1;
    if (!starts_with_magic(text, 0))
        st = xai_error_set(XAI_EFORMAT, "%s: not a BrainVision header: the first line must be "
                           "\"Brain Vision Data Exchange Header File ...\" or \"BrainVision "
                           "Core Data Format ...\"", name);
    else
        st = read_infos(text, len, vi, name);
    if (st == XAI_OK) {
        bv->n_channels = (int)vi->nch;
        bv->sampling_interval_us = vi->interval;
        bv->sample_rate = 1e6 / vi->interval;
        bv->format = (xai_bv_format)vi->format;
        bv->vectorized = vi->vectorized;
        bv->channels = calloc((size_t)vi->nch, sizeof *bv->channels);
        if (!bv->channels)
            st = xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
        else
            st = read_channels(b, text, vi->nch, name);
    }
    free(text);
    return st;
}

static xai_status parse_vmrk(bv_impl *b, const void *buf, size_t len, const char *name)
{
    xai_brainvision *bv = &b->pub;
    char *text = text_copy(buf, len);
    if (!text)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    xai_status st = XAI_OK;
    if (!starts_with_magic(text, 1)) {
        st = xai_error_set(XAI_EFORMAT, "%s: not a BrainVision marker file: the first line must "
                           "be \"Brain Vision Data Exchange Marker File ...\" or \"BrainVision "
                           "Core Data Format ...\"", name);
        goto done;
    }
    size_t cap = len / 4 + 1; /* each "MkN=" line takes at least 4 bytes */
    bv->markers = calloc(cap, sizeof *bv->markers);
    if (!bv->markers) {
        st = xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
        goto done;
    }
    char *cur = text, *line, *value, section[64] = "";
    while ((line = next_entry(&cur, section, "[Marker Infos]", "Mk", &value)) != NULL) {
        long long k;
        if (parse_ll(line + 2, &k) != 0 || k < 1) {
            st = xai_error_set(XAI_EFORMAT, "%s: bad marker entry '%s'", name, line);
            goto done;
        }
        char *f[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
        int nf = split_fields(value, f, 6);
        long long pos, mlen = 1, ch = 0;
        if (nf < 3 || parse_ll(f[2], &pos) != 0 || pos < 1) {
            st = xai_error_set(XAI_EFORMAT, "%s: marker Mk%lld: position '%s' is not a positive "
                               "integer", name, k, nf >= 3 ? f[2] : "");
            goto done;
        }
        if (nf >= 4 && f[3][0] && (parse_ll(f[3], &mlen) != 0 || mlen < 0)) {
            st = xai_error_set(XAI_EFORMAT, "%s: marker Mk%lld: negative or bad length '%s'",
                               name, k, f[3]);
            goto done;
        }
        if (nf >= 5 && f[4][0] &&
            (parse_ll(f[4], &ch) != 0 || ch < 0 || ch > bv->n_channels)) {
            st = xai_error_set(XAI_EFORMAT, "%s: marker Mk%lld: channel '%s' is not 0..%d", name,
                               k, f[4], bv->n_channels);
            goto done;
        }
        xai_bv_marker *m = &bv->markers[bv->n_markers++];
        m->type = pool_add(b, f[0], strlen(f[0]));
        m->description = pool_add(b, nf >= 2 ? f[1] : "", nf >= 2 ? strlen(f[1]) : 0);
        m->date = pool_add(b, nf >= 6 ? f[5] : "", nf >= 6 ? strlen(f[5]) : 0);
        m->sample = pos - 1;
        m->length = mlen;
        m->channel = (int)ch;
        if (!m->type || !m->description || !m->date) {
            st = xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
            goto done;
        }
    }
done:
    free(text);
    return st;
}

static xai_status decode_data(xai_brainvision *bv, const vhdr_info *vi, const void *eeg,
                              size_t len, const char *name)
{
    size_t bps = vi->format == XAI_BV_INT16 || vi->format == XAI_BV_UINT16 ? 2 : 4;
    size_t frame = bps * (size_t)bv->n_channels;
    if (len == 0 || len < frame)
        return xai_error_set(XAI_EFORMAT, "%s: data file holds no complete sample (%zu bytes, "
                             "%zu per sample of %d channels)", name, len, frame,
                             bv->n_channels);
    if (len % frame)
        return xai_error_set(XAI_EFORMAT, "%s: data file size %zu is not a multiple of %zu "
                             "(%d channels x %zu bytes): truncated or wrong NumberOfChannels",
                             name, len, frame, bv->n_channels, bps);
    size_t T = len / frame, C = (size_t)bv->n_channels;
    if (vi->points > 0 && (unsigned long long)vi->points > T)
        return xai_error_set(XAI_EFORMAT, "%s: truncated: the header declares %lld data points, "
                             "the data file holds %zu", name, vi->points, T);
    bv->data = malloc(sizeof(float) * T * C);
    if (!bv->data)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory (%zu samples)", name, T * C);
    bv->n_samples = (int64_t)T;
    const unsigned char *p = eeg;
    for (size_t c = 0; c < C; c++) {
        double res = bv->channels[c].resolution;
        float *dst = bv->data + c * T;
        for (size_t t = 0; t < T; t++) {
            size_t idx = vi->vectorized ? c * T + t : t * C + c;
            const unsigned char *q = p + idx * bps;
            uint32_t u = 0;
            for (size_t j = 0; j < bps; j++)
                u |= (uint32_t)q[vi->big_endian ? bps - 1 - j : j] << (8 * j);
            double v;
            switch (vi->format) {
            case XAI_BV_INT16:
                v = (double)(int16_t)(uint16_t)u;
                break;
            case XAI_BV_UINT16:
                v = (double)(uint16_t)u;
                break;
            case XAI_BV_INT32:
                v = (double)(int32_t)u;
                break;
            default: {
                float f;
                memcpy(&f, &u, sizeof f);
                v = f;
                break;
            }
            }
            dst[t] = (float)(v * res);
        }
    }
    return XAI_OK;
}

static xai_status load(const void *vhdr, size_t vhdr_len, const void *eeg, size_t eeg_len,
                       const void *vmrk, size_t vmrk_len, const char *name,
                       const char *eeg_name, const char *vmrk_name, xai_brainvision **out,
                       vhdr_info *vi_out)
{
    bv_impl *b = calloc(1, sizeof *b);
    if (!b)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    vhdr_info vi;
    xai_status st = parse_vhdr(b, vhdr, vhdr_len, name, &vi);
    if (st == XAI_OK && vi_out) {
        *vi_out = vi;
        *out = &b->pub; /* header only: caller loads the rest */
        return XAI_OK;
    }
    if (st == XAI_OK)
        st = decode_data(&b->pub, &vi, eeg, eeg_len, eeg_name);
    if (st == XAI_OK && vmrk)
        st = parse_vmrk(b, vmrk, vmrk_len, vmrk_name);
    if (st != XAI_OK) {
        xai_brainvision_close(&b->pub);
        return st;
    }
    *out = &b->pub;
    return XAI_OK;
}

xai_status xai_brainvision_open_mem(const void *vhdr, size_t vhdr_len, const void *eeg,
                                    size_t eeg_len, const void *vmrk, size_t vmrk_len,
                                    const char *name, xai_brainvision **out)
{
    if (!out)
        return xai_error_set(XAI_EINVAL, "xai_brainvision_open_mem: NULL output");
    *out = NULL;
    if (!name)
        name = "<memory>";
    if ((!vhdr && vhdr_len) || (!eeg && eeg_len) || (!vmrk && vmrk_len))
        return xai_error_set(XAI_EINVAL, "%s: NULL buffer", name);
    if (!vhdr)
        vhdr = "";
    return load(vhdr, vhdr_len, eeg ? eeg : "", eeg_len, vmrk, vmrk_len, name, name, name, out,
                NULL);
}

static void *slurp(const char *path, size_t *len, xai_status *st)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *st = xai_error_set(XAI_EIO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > SIZE_MAX / 2) {
        fclose(f);
        *st = xai_error_set(XAI_EIO, "%s: not a regular file", path);
        return NULL;
    }
    size_t n = (size_t)sb.st_size;
    void *buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        *st = xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
        return NULL;
    }
    if (fread(buf, 1, n, f) != n) {
        free(buf);
        fclose(f);
        *st = xai_error_set(XAI_EIO, "%s: read error", path);
        return NULL;
    }
    fclose(f);
    *len = n;
    *st = XAI_OK;
    return buf;
}

/* dir of @vhdr_path + basename of @file (both '/' and '\\' count as separators) */
static char *sibling(const char *vhdr_path, const char *file)
{
    const char *base = file;
    for (const char *p = file; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    const char *slash = strrchr(vhdr_path, '/');
    size_t dl = slash ? (size_t)(slash - vhdr_path) + 1 : 0;
    char *r = malloc(dl + strlen(base) + 1);
    if (!r)
        return NULL;
    memcpy(r, vhdr_path, dl);
    strcpy(r + dl, base);
    return r;
}

xai_status xai_brainvision_open(const char *vhdr_path, xai_brainvision **out)
{
    if (!out)
        return xai_error_set(XAI_EINVAL, "xai_brainvision_open: NULL output");
    *out = NULL;
    if (!vhdr_path)
        return xai_error_set(XAI_EINVAL, "xai_brainvision_open: NULL path");
    xai_status st;
    size_t hlen = 0, elen = 0, mlen = 0;
    void *hbuf = slurp(vhdr_path, &hlen, &st), *ebuf = NULL, *mbuf = NULL;
    if (!hbuf)
        return st;
    xai_brainvision *hdr = NULL;
    vhdr_info vi;
    st = load(hbuf, hlen, NULL, 0, NULL, 0, vhdr_path, NULL, NULL, &hdr, &vi);
    xai_brainvision_close(hdr);
    char *epath = NULL, *mpath = NULL;
    if (st == XAI_OK && !vi.data_file[0])
        st = xai_error_set(XAI_EFORMAT, "%s: bad header: DataFile is missing", vhdr_path);
    if (st == XAI_OK) {
        epath = sibling(vhdr_path, vi.data_file);
        mpath = vi.marker_file[0] ? sibling(vhdr_path, vi.marker_file) : NULL;
        if (!epath || (vi.marker_file[0] && !mpath))
            st = xai_error_set(XAI_ENOMEM, "%s: out of memory", vhdr_path);
    }
    if (st == XAI_OK)
        ebuf = slurp(epath, &elen, &st);
    if (st == XAI_OK && mpath)
        mbuf = slurp(mpath, &mlen, &st);
    if (st == XAI_OK)
        st = load(hbuf, hlen, ebuf, elen, mbuf, mlen, vhdr_path, epath, mpath, out, NULL);
    free(hbuf);
    free(ebuf);
    free(mbuf);
    free(epath);
    free(mpath);
    return st;
}

void xai_brainvision_close(xai_brainvision *bv)
{
    if (!bv)
        return;
    bv_impl *b = (bv_impl *)(void *)bv;
    for (size_t i = 0; i < b->npool; i++)
        free(b->pool[i]);
    free(b->pool);
    free(bv->channels);
    free(bv->markers);
    free(bv->data);
    free(b);
}

int xai_brainvision_find_channel(const xai_brainvision *bv, const char *label)
{
    if (!bv || !label)
        return -1;
    for (int i = 0; i < bv->n_channels; i++)
        if (strcmp(bv->channels[i].label, label) == 0)
            return i;
    return -1;
}
