/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * biosig.c - GDF, BCI2000, CNT and EGI recordings through libbiosig, presented with the
 * structs of the EDF reader (see xai/biosig.h).
 * libbiosig 2.5 is not safe on malformed input (fuzzing finds out-of-bounds reads and
 * NULL dereferences in its GDF and BCI2000 header parsers), prints to stdout/stderr and
 * keeps global state. So every file is read whole by a child process: it opens the file,
 * reads header, events and samples, writes them to an unlinked temporary file and exits;
 * the parent reads that file back. A crash, exit() or hang (killed after
 * BIOSIG_TIMEOUT_S) of the child is an XAI_EFORMAT for the caller, and nothing BioSig
 * prints reaches the caller's terminal.
 */
#include "xai/biosig.h"
#include "file-util.h"

#include <biosig.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* BioSig loops forever on some malformed headers: the child gets this many seconds, plus
 * one per MiB of file, before it is killed. */
#define BIOSIG_TIMEOUT_S 10

struct xai_biosig {
    HDRTYPE *hdr;             /* child only */
    char *path;
    uint64_t file_size;
    xai_biosig_info info;
    xai_edf_channel *chans;
    int *col;                 /* child only: BioSig's index of each data channel */
    xai_edf_annotation *ann;
    char **texts;             /* owned annotation texts */
    float *data;              /* [C][T] physical values, every channel at the file rate */
};

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

static void prefilter_text(char *dst, size_t cap, const CHANNEL_TYPE *c)
{
    const double v[3] = {c->HighPass, c->LowPass, c->Notch};
    static const char *const key[3] = {"HP", "LP", "N"};
    size_t at = 0;
    dst[0] = '\0';
    for (int i = 0; i < 3 && at < cap; i++)
        if (isfinite(v[i]) && v[i] >= 0)
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

/* GDF marks the end of event TYP with TYP | 0x8000 (GDF 2 section 5.3): pair each end with
 * the latest open start of the same code before it. @return 1 when @p k was consumed. */
static int close_event(xai_edf_annotation *ann, const uint16_t *typ, const uint32_t *pos,
                       size_t k, double fs)
{
    for (size_t j = k; j-- > 0;)
        if (typ[j] == (typ[k] & 0x7FFF) && pos[j] <= pos[k] && ann[j].duration_s < 0) {
            ann[j].duration_s = (pos[k] - pos[j]) / fs;
            return 1;
        }
    return 0;
}

/* Only GDF keeps trustworthy durations in BioSig's table; other readers leave it unset. */
static xai_status fill_events(xai_biosig *h)
{
    HDRTYPE *hdr = h->hdr;
    size_t n = biosig_get_number_of_events(hdr);
    double fs = biosig_get_eventtable_samplerate(hdr);
    if (!(isfinite(fs) && fs > 0))
        fs = h->info.sample_rate;
    int gdf_dur = hdr->EVENT.DUR && strcmp(h->info.format, "GDF") == 0;
    h->ann = calloc(n ? n : 1, sizeof *h->ann);
    h->texts = calloc(n ? n : 1, sizeof *h->texts);
    uint16_t *typ = calloc(n ? n : 1, sizeof *typ);
    uint32_t *pos = calloc(n ? n : 1, sizeof *pos);
    xai_status st = XAI_OK;
    if (!h->ann || !h->texts || !typ || !pos)
        st = xai_error_set(XAI_ENOMEM, "%s: out of memory", h->path);
    size_t out = 0;
    for (size_t k = 0; st == XAI_OK && k < n; k++) {
        uint16_t chn = 0;
        uint32_t dur = 0;
        gdf_time ts = 0;
        const char *desc = NULL;
        biosig_get_nth_event(hdr, k, &typ[out], &pos[out], &chn, &dur, &ts, &desc);
        h->ann[out].onset_s = pos[out] / fs;
        h->ann[out].duration_s = gdf_dur ? dur / fs : -1.0;
        if ((typ[out] & 0x8000) && close_event(h->ann, typ, pos, out, fs))
            continue;
        h->texts[out] = event_text(hdr, k, typ[out]);
        if (!h->texts[out])
            st = xai_error_set(XAI_ENOMEM, "%s: out of memory", h->path);
        h->ann[out].text = h->texts[out];
        h->info.n_annotations = ++out;
    }
    free(typ);
    free(pos);
    return st;
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

static uint64_t le(const unsigned char *b, int n)
{
    uint64_t v = 0;
    for (int i = n; i-- > 0;)
        v = v << 8 | b[i];
    return v;
}

/* BioSig trusts the GDF header-length field and reads the channel headers past a buffer
 * of that size when it is too small (a GDF 2 file labelled "GDF 1.25" does it): check the
 * field against the channel count and the file first. GDF 1: int64 bytes at 184, uint32
 * channels at 252; GDF 2: uint16 blocks of 256 bytes at 184, uint16 channels at 252. */
static xai_status gdf_precheck(const char *path, FILE *f, uint64_t size)
{
    unsigned char b[256];
    size_t got = fread(b, 1, sizeof b, f);
    if (got < 4 || memcmp(b, "GDF", 3) != 0)
        return XAI_OK;
    if (got < sizeof b)
        return xai_error_set(XAI_EFORMAT, "%s: GDF header cut short (%zu of 256 bytes)", path, got);
    char ver[5];
    memcpy(ver, b + 4, 4);
    ver[4] = '\0';
    double v = atof(ver);
    int gdf1 = v < 1.9;
    uint64_t ns = gdf1 ? le(b + 252, 4) : le(b + 252, 2);
    uint64_t head = gdf1 ? le(b + 184, 8) : le(b + 184, 2) * 256;
    if (ns > 65535 || head < 256 * (ns + 1) || head > size)
        return xai_error_set(XAI_EFORMAT, "%s: GDF %s header length %llu bytes does not fit %llu "
                             "channels in a file of %llu bytes", path, ver,
                             (unsigned long long)head, (unsigned long long)ns,
                             (unsigned long long)size);
    return XAI_OK;
}

/* BioSig allocates what the header claims before it reads: refuse claims the file cannot
 * hold (every format here spends at least one byte per sample; slack for compression). */
static int claims_fit(const xai_biosig *h)
{
    double claimed = (double)h->info.n_samples * h->info.n_channels;
    return claimed <= 8.0 * (double)h->file_size + (1 << 20);
}

static xai_status check_claims(const xai_biosig *h)
{
    if (!claims_fit(h))
        return xai_error_set(XAI_EFORMAT, "%s: the header claims %d channels x %lld samples, "
                             "more than a file of %llu bytes holds", h->path, h->info.n_channels,
                             (long long)h->info.n_samples, (unsigned long long)h->file_size);
    return XAI_OK;
}


/* ---- the child: BioSig calls, results written to @p fd ---------------------------------- */

static int put(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Record: int32 status, then either uint32 length + message, or the recording. */
static void put_error(int fd, xai_status st, const char *msg)
{
    int32_t s = (int32_t)st;
    uint32_t n = (uint32_t)strlen(msg);
    if (put(fd, &s, sizeof s) == 0 && put(fd, &n, sizeof n) == 0)
        put(fd, msg, n);
}

static void put_recording(int fd, const xai_biosig *h, const biosig_data_type *d, size_t rows)
{
    int32_t s = XAI_OK;
    int bad = put(fd, &s, sizeof s) || put(fd, &h->info, sizeof h->info) ||
              put(fd, h->chans, (size_t)h->info.n_channels * sizeof *h->chans);
    for (size_t k = 0; !bad && k < h->info.n_annotations; k++) {
        uint32_t n = (uint32_t)strlen(h->texts[k]);
        bad = put(fd, &h->ann[k].onset_s, sizeof(double)) ||
              put(fd, &h->ann[k].duration_s, sizeof(double)) || put(fd, &n, sizeof n) ||
              put(fd, h->texts[k], n);
    }
    float buf[4096];
    size_t T = (size_t)h->info.n_samples;
    int bci = strcmp(h->info.format, "BCI2000") == 0;
    for (int c = 0; !bad && c < h->info.n_channels; c++) {
        /* BCI2000 defines uV = (raw - SourceChOffset) * SourceChGain; BioSig 2.5 computes
         * raw * gain + offset: undo and redo with its Cal (gain) and Off (offset) */
        const CHANNEL_TYPE *ch = biosig_get_channel(h->hdr, h->col[c]);
        double cal = ch->Cal, off = ch->Off;
        int fix = bci && off != 0 && cal != 0 && isfinite(cal) && isfinite(off);
        for (size_t t = 0; !bad && t < T; t += 4096) {
            size_t m = T - t < 4096 ? T - t : 4096;
            for (size_t i = 0; i < m; i++) {
                double v = d[(size_t)c * rows + t + i];
                buf[i] = (float)(fix ? ((v - off) / cal - off) * cal : v);
            }
            bad = put(fd, buf, m * sizeof *buf);
        }
    }
}

/* BioSig's message for the failure, else the first line it printed (@p cap, rewound). */
static void child_fail(int fd, xai_status st, HDRTYPE *hdr, FILE *cap, const char *fallback)
{
    char *m = hdr ? biosig_get_errormsg(hdr) : NULL;
    char printed[256] = "";
    if ((!m || !m[0]) && cap && fseek(cap, 0, SEEK_SET) == 0 &&
        fgets(printed, sizeof printed, cap)) {
        size_t n = strlen(printed);
        while (n && isspace((unsigned char)printed[n - 1]))
            printed[--n] = '\0';
    }
    char msg[512];
    snprintf(msg, sizeof msg, "BioSig: %s", m && m[0] ? m : printed[0] ? printed : fallback);
    put_error(fd, st, msg);
}

static void child_run(xai_biosig *h, int fd)
{
    /* the caller's handlers (e.g. removing its temporaries in flight) are not ours */
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
    FILE *cap = tmpfile();
    if (cap) {
        dup2(fileno(cap), 1);
        dup2(fileno(cap), 2);
    }
    HDRTYPE *hdr = constructHDR(0, 0);
    if (hdr) {
        /* overflow detection off: samples at the digital limits keep their values, as
         * EDFlib gives them; calibrated, one column per channel */
        biosig_reset_flag(hdr, BIOSIG_FLAG_OVERFLOWDETECTION | BIOSIG_FLAG_UCAL |
                               BIOSIG_FLAG_ROW_BASED_CHANNELS);
        hdr = sopen(h->path, "r", hdr);
    }
    if (!hdr || biosig_check_error(hdr)) {
        child_fail(fd, XAI_EFORMAT, hdr, cap, "cannot read the header");
        return;
    }
    h->hdr = hdr;
    double fs = biosig_get_samplerate(hdr);
    if (biosig_get_number_of_channels(hdr) <= 0 || biosig_get_number_of_samples(hdr) == 0 ||
        !(fs > 0) || !isfinite(fs)) {
        child_fail(fd, XAI_EFORMAT, NULL, NULL, "no samples in this file");
        return;
    }
    fill_info(h);
    xai_status st = fill_channels(h);
    if (st == XAI_OK)
        st = check_claims(h);
    if (st == XAI_OK)
        st = fill_events(h);
    if (st != XAI_OK) {
        put_error(fd, st, xai_last_error());
        return;
    }
    sread(NULL, 0, biosig_get_number_of_records(hdr), hdr);
    biosig_data_type *d = NULL;
    size_t rows = 0, cols = 0;
    if (biosig_check_error(hdr)) {
        child_fail(fd, XAI_EFORMAT, hdr, cap, "cannot read the samples");
        return;
    }
    if (biosig_get_datablock(hdr, &d, &rows, &cols) != 0 || !d ||
        cols != (size_t)h->info.n_channels || rows < (size_t)h->info.n_samples) {
        child_fail(fd, XAI_EFORMAT, NULL, NULL, "fewer samples than the header says");
        return;
    }
    put_recording(fd, h, d, rows);
}

/* ---- the parent ----------------------------------------------------------------------- */

static double monotonic_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Wait for @p pid; kill it after @p limit_s seconds of wall time (measured on the clock, since
 * on a loaded machine each nap lasts longer than asked). @return its wait status, or -1. */
static int wait_child(pid_t pid, long limit_s)
{
    int status = 0;
    struct timespec nap = {0, 2000000};
    double deadline = monotonic_s() + (double)limit_s;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        if (monotonic_s() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        nanosleep(&nap, NULL);
    }
}

static int get(FILE *f, void *p, size_t n)
{
    return fread(p, 1, n, f) == n ? 0 : -1;
}

static xai_status read_error(FILE *f, const char *path, int32_t s)
{
    uint32_t n = 0;
    char msg[1024] = "unknown failure";
    if (get(f, &n, sizeof n) == 0 && n < sizeof msg && get(f, msg, n) == 0)
        msg[n] = '\0';
    xai_status st = s > XAI_OK && s <= XAI_EDEP ? (xai_status)s : XAI_EFORMAT;
    /* a message of ours already names the file */
    if (strncmp(msg, path, strlen(path)) == 0)
        return xai_error_set(st, "%s", msg);
    return xai_error_set(st, "%s: %s", path, msg);
}

/* The child's record in @p f into @p h (sizes checked against what was promised). */
static xai_status read_record(FILE *f, xai_biosig *h)
{
    const char *bad = "truncated result from the BioSig process";
    int32_t s = -1;
    if (get(f, &s, sizeof s) != 0)
        return xai_error_set(XAI_EFORMAT, "%s: %s", h->path, bad);
    if (s != XAI_OK)
        return read_error(f, h->path, s);
    if (get(f, &h->info, sizeof h->info) != 0)
        return xai_error_set(XAI_EFORMAT, "%s: %s", h->path, bad);
    size_t C = (size_t)h->info.n_channels, T = (size_t)h->info.n_samples;
    size_t na = h->info.n_annotations;
    if (h->info.n_channels <= 0 || h->info.n_samples <= 0 || !claims_fit(h) || na > (1u << 24))
        return xai_error_set(XAI_EFORMAT, "%s: %s", h->path, bad);
    h->info.n_annotations = 0; /* counts the texts owned so far */
    h->chans = calloc(C ? C : 1, sizeof *h->chans);
    h->ann = calloc(na ? na : 1, sizeof *h->ann);
    h->texts = calloc(na ? na : 1, sizeof *h->texts);
    h->data = malloc(C * T * sizeof *h->data);
    if (!h->chans || !h->ann || !h->texts || !h->data)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", h->path);
    if (get(f, h->chans, C * sizeof *h->chans) != 0)
        return xai_error_set(XAI_EFORMAT, "%s: %s", h->path, bad);
    for (size_t k = 0; k < na; k++) {
        uint32_t n = 0;
        if (get(f, &h->ann[k].onset_s, sizeof(double)) || get(f, &h->ann[k].duration_s, sizeof(double)) ||
            get(f, &n, sizeof n) || n > (1u << 20))
            return xai_error_set(XAI_EFORMAT, "%s: %s", h->path, bad);
        h->texts[k] = malloc((size_t)n + 1);
        if (!h->texts[k])
            return xai_error_set(XAI_ENOMEM, "%s: out of memory", h->path);
        h->info.n_annotations = k + 1;
        if (get(f, h->texts[k], n) != 0)
            return xai_error_set(XAI_EFORMAT, "%s: %s", h->path, bad);
        h->texts[k][n] = '\0';
        h->ann[k].text = h->texts[k];
    }
    if (get(f, h->data, C * T * sizeof *h->data) != 0)
        return xai_error_set(XAI_EFORMAT, "%s: %s", h->path, bad);
    return XAI_OK;
}

/* Run the child on h->path and take its record. */
static xai_status read_in_child(xai_biosig *h)
{
    FILE *f = tmpfile();
    if (!f)
        return xai_error_set(XAI_EIO, "%s: cannot make a temporary file: %s", h->path,
                             strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        child_run(h, fileno(f));
        _exit(0);
    }
    if (pid < 0) {
        fclose(f);
        return xai_error_set(XAI_EIO, "%s: cannot start the BioSig process: %s", h->path,
                             strerror(errno));
    }
    long limit_s = BIOSIG_TIMEOUT_S + (long)(h->file_size >> 20);
    int status = wait_child(pid, limit_s);
    xai_status st = XAI_OK;
    if (status < 0)
        st = xai_error_set(XAI_EFORMAT, "%s: BioSig did not finish within %ld s", h->path,
                           limit_s);
    else if (WIFSIGNALED(status))
        st = xai_error_set(XAI_EFORMAT, "%s: BioSig crashed on this file (signal %d)", h->path,
                           WTERMSIG(status));
    else if (WEXITSTATUS(status) != 0)
        st = xai_error_set(XAI_EFORMAT, "%s: BioSig gave up on this file (exit status %d)",
                           h->path, WEXITSTATUS(status));
    if (st == XAI_OK && fseek(f, 0, SEEK_SET) != 0)
        st = xai_error_set(XAI_EIO, "%s: cannot read the BioSig result", h->path);
    if (st == XAI_OK)
        st = read_record(f, h);
    fclose(f);
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
    st = size ? gdf_precheck(path, f, size) : xai_error_set(XAI_EFORMAT, "%s: empty file", path);
    fclose(f);
    if (st != XAI_OK)
        return st;
    xai_biosig *h = calloc(1, sizeof *h);
    if (h)
        h->path = strdup(path);
    if (!h || !h->path) {
        free(h);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    }
    h->file_size = size;
    st = read_in_child(h);
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
    for (size_t k = 0; h->texts && k < h->info.n_annotations; k++)
        free(h->texts[k]);
    free(h->texts);
    free(h->ann);
    free(h->chans);
    free(h->data);
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
    if (st != XAI_OK)
        return st;
    int n = channels ? n_sel : h->info.n_channels;
    size_t T = (size_t)h->info.n_samples;
    float *m = malloc((size_t)n * (T ? T : 1) * sizeof *m);
    if (!m)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", h->path);
    for (int i = 0; i < n; i++) {
        int c = channels ? channels[i] : i;
        const float *src = h->data + (size_t)c * T;
        for (size_t t = 0; t < T; t++)
            if (!isfinite(src[t])) {
                free(m);
                return xai_error_set(XAI_ENUMERIC, "%s: channel %s: sample %zu is not a number "
                                     "(overflow or missing data)", h->path, h->chans[c].label, t);
            }
        memcpy(m + (size_t)i * T, src, T * sizeof *m);
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
    unlink(tmp);
    free(tmp);
    return st;
}
