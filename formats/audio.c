/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * audio.c - sound files through libsndfile, resampling through libsamplerate, WAV writer.
 * Reading: sf_open / sf_open_virtual (in-memory), sf_readf_float in blocks, deinterleaved
 * to [C][T]. The buffer grows with the frames actually decoded, so a header that declares
 * a huge length cannot make us allocate more than the file holds. A data chunk that is
 * shorter than its header says (libsndfile logs "Data length > file length" or similar and
 * carries on) is reported as truncated.
 * Refs: libsndfile API (http://libsndfile.github.io/libsndfile/api.html),
 * libsamplerate API (https://libsndfile.github.io/libsamplerate/api_full.html).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkstemp */
#endif
#include "xai/audio.h"
#include "xai/atomic.h"

#include <errno.h>
#include <math.h>
#include <samplerate.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct xai_audio_file {
    SNDFILE *sf;
    SF_INFO sfi;
    xai_audio_info info;
    char name[256];
    /* virtual I/O state (open_mem) */
    const unsigned char *buf;
    sf_count_t len, pos;
    SF_VIRTUAL_IO vio;
};

/* ---- names, as soundfile spells them ----------------------------------------------- */

static const struct { int code; const char *name; } major_names[] = {
    {SF_FORMAT_WAV, "WAV"},   {SF_FORMAT_AIFF, "AIFF"},   {SF_FORMAT_AU, "AU"},
    {SF_FORMAT_RAW, "RAW"},   {SF_FORMAT_PAF, "PAF"},     {SF_FORMAT_SVX, "SVX"},
    {SF_FORMAT_NIST, "NIST"}, {SF_FORMAT_VOC, "VOC"},     {SF_FORMAT_IRCAM, "IRCAM"},
    {SF_FORMAT_W64, "W64"},   {SF_FORMAT_MAT4, "MAT4"},   {SF_FORMAT_MAT5, "MAT5"},
    {SF_FORMAT_PVF, "PVF"},   {SF_FORMAT_XI, "XI"},       {SF_FORMAT_HTK, "HTK"},
    {SF_FORMAT_SDS, "SDS"},   {SF_FORMAT_AVR, "AVR"},     {SF_FORMAT_WAVEX, "WAVEX"},
    {SF_FORMAT_SD2, "SD2"},   {SF_FORMAT_FLAC, "FLAC"},   {SF_FORMAT_CAF, "CAF"},
    {SF_FORMAT_WVE, "WVE"},   {SF_FORMAT_OGG, "OGG"},     {SF_FORMAT_MPC2K, "MPC2K"},
    {SF_FORMAT_RF64, "RF64"}, {SF_FORMAT_MPEG, "MP3"},
};

static const struct { int code; const char *name; } sub_names[] = {
    {SF_FORMAT_PCM_S8, "PCM_S8"},         {SF_FORMAT_PCM_16, "PCM_16"},
    {SF_FORMAT_PCM_24, "PCM_24"},         {SF_FORMAT_PCM_32, "PCM_32"},
    {SF_FORMAT_PCM_U8, "PCM_U8"},         {SF_FORMAT_FLOAT, "FLOAT"},
    {SF_FORMAT_DOUBLE, "DOUBLE"},         {SF_FORMAT_ULAW, "ULAW"},
    {SF_FORMAT_ALAW, "ALAW"},             {SF_FORMAT_IMA_ADPCM, "IMA_ADPCM"},
    {SF_FORMAT_MS_ADPCM, "MS_ADPCM"},     {SF_FORMAT_GSM610, "GSM610"},
    {SF_FORMAT_VOX_ADPCM, "VOX_ADPCM"},   {SF_FORMAT_NMS_ADPCM_16, "NMS_ADPCM_16"},
    {SF_FORMAT_NMS_ADPCM_24, "NMS_ADPCM_24"}, {SF_FORMAT_NMS_ADPCM_32, "NMS_ADPCM_32"},
    {SF_FORMAT_G721_32, "G721_32"},       {SF_FORMAT_G723_24, "G723_24"},
    {SF_FORMAT_G723_40, "G723_40"},       {SF_FORMAT_DWVW_12, "DWVW_12"},
    {SF_FORMAT_DWVW_16, "DWVW_16"},       {SF_FORMAT_DWVW_24, "DWVW_24"},
    {SF_FORMAT_DWVW_N, "DWVW_N"},         {SF_FORMAT_DPCM_8, "DPCM_8"},
    {SF_FORMAT_DPCM_16, "DPCM_16"},       {SF_FORMAT_VORBIS, "VORBIS"},
    {SF_FORMAT_OPUS, "OPUS"},             {SF_FORMAT_ALAC_16, "ALAC_16"},
    {SF_FORMAT_ALAC_20, "ALAC_20"},       {SF_FORMAT_ALAC_24, "ALAC_24"},
    {SF_FORMAT_ALAC_32, "ALAC_32"},       {SF_FORMAT_MPEG_LAYER_I, "MPEG_LAYER_I"},
    {SF_FORMAT_MPEG_LAYER_II, "MPEG_LAYER_II"}, {SF_FORMAT_MPEG_LAYER_III, "MPEG_LAYER_III"},
};

static void name_formats(int format, xai_audio_info *info)
{
    int major = format & SF_FORMAT_TYPEMASK, sub = format & SF_FORMAT_SUBMASK;
    snprintf(info->format, sizeof info->format, "0x%06x", (unsigned)major);
    snprintf(info->subformat, sizeof info->subformat, "0x%04x", (unsigned)sub);
    for (size_t i = 0; i < sizeof major_names / sizeof major_names[0]; i++)
        if (major_names[i].code == major)
            snprintf(info->format, sizeof info->format, "%s", major_names[i].name);
    for (size_t i = 0; i < sizeof sub_names / sizeof sub_names[0]; i++)
        if (sub_names[i].code == sub)
            snprintf(info->subformat, sizeof info->subformat, "%s", sub_names[i].name);
}

static const char *diagnose(const unsigned char *p, size_t n, char *buf, size_t bufsz);

/* ---- in-memory virtual I/O -------------------------------------------------------- */

static sf_count_t vio_len(void *ud)
{
    return ((struct xai_audio_file *)ud)->len;
}

static sf_count_t vio_seek(sf_count_t off, int whence, void *ud)
{
    struct xai_audio_file *f = ud;
    sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? f->pos : f->len;
    if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
        return -1;
    f->pos = base + off; /* past the end is allowed, reads then return 0 */
    return f->pos;
}

static sf_count_t vio_read(void *ptr, sf_count_t count, void *ud)
{
    struct xai_audio_file *f = ud;
    if (count <= 0 || f->pos >= f->len)
        return 0;
    sf_count_t n = f->len - f->pos < count ? f->len - f->pos : count;
    memcpy(ptr, f->buf + f->pos, (size_t)n);
    f->pos += n;
    return n;
}

static sf_count_t vio_write(const void *ptr, sf_count_t count, void *ud)
{
    (void)ptr;
    (void)count;
    (void)ud;
    return 0;
}

static sf_count_t vio_tell(void *ud)
{
    return ((struct xai_audio_file *)ud)->pos;
}

/* ---- open ------------------------------------------------------------------------- */

static xai_status finish_open(struct xai_audio_file *f, xai_audio_file **out)
{
    const SF_INFO *s = &f->sfi;
    if (s->samplerate <= 0) {
        xai_audio_close(f);
        return xai_error_set(XAI_EFORMAT, "%s: bad header: sample rate %d", f->name, s->samplerate);
    }
    if (s->channels <= 0) {
        xai_audio_close(f);
        return xai_error_set(XAI_EFORMAT, "%s: bad header: %d channels", f->name, s->channels);
    }
    if (s->frames < 0) {
        xai_audio_close(f);
        return xai_error_set(XAI_EFORMAT, "%s: bad header: %lld frames", f->name, (long long)s->frames);
    }
    f->info.sample_rate = s->samplerate;
    f->info.channels = s->channels;
    /* libsndfile uses SF_COUNT_MAX for "unknown length" (streams without a length field) */
    f->info.frames = s->frames == SF_COUNT_MAX ? -1 : (int64_t)s->frames;
    f->info.duration_s = f->info.frames >= 0 ? (double)f->info.frames / s->samplerate : -1.0;
    name_formats(s->format, &f->info);
    *out = f;
    return XAI_OK;
}

static struct xai_audio_file *new_handle(const char *name)
{
    struct xai_audio_file *f = calloc(1, sizeof *f);
    if (f)
        snprintf(f->name, sizeof f->name, "%s", name ? name : "<memory>");
    return f;
}

xai_status xai_audio_open(const char *path, xai_audio_file **out)
{
    if (!out)
        return xai_error_set(XAI_EINVAL, "xai_audio_open: out is NULL");
    *out = NULL;
    if (!path)
        return xai_error_set(XAI_EINVAL, "xai_audio_open: path is NULL");
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return xai_error_set(XAI_EIO, "%s: cannot open: %s", path, strerror(errno));
    fclose(probe);
    struct xai_audio_file *f = new_handle(path);
    if (!f)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    f->sf = sf_open(path, SFM_READ, &f->sfi);
    if (!f->sf) {
        unsigned char head[4096];
        char why[64];
        const char *sfmsg = sf_strerror(NULL);
        size_t got = 0;
        FILE *h = fopen(path, "rb");
        if (h) {
            got = fread(head, 1, sizeof head, h);
            fclose(h);
        }
        xai_status st = xai_error_set(XAI_EFORMAT, "%s: not a readable sound file: %s%s", path, sfmsg,
                                      diagnose(head, got, why, sizeof why));
        free(f);
        return st;
    }
    return finish_open(f, out);
}

xai_status xai_audio_open_mem(const void *buf, size_t len, const char *name, xai_audio_file **out)
{
    if (!out)
        return xai_error_set(XAI_EINVAL, "xai_audio_open_mem: out is NULL");
    *out = NULL;
    if (!buf && len)
        return xai_error_set(XAI_EINVAL, "xai_audio_open_mem: buffer is NULL");
    if (!name)
        name = "<memory>";
    if (len == 0)
        return xai_error_set(XAI_EFORMAT, "%s: empty file", name);
    if ((uint64_t)len > (uint64_t)INT64_MAX)
        return xai_error_set(XAI_EINVAL, "%s: buffer too large", name);
    struct xai_audio_file *f = new_handle(name);
    if (!f)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    f->buf = buf;
    f->len = (sf_count_t)len;
    f->vio = (SF_VIRTUAL_IO){vio_len, vio_seek, vio_read, vio_write, vio_tell};
    f->sf = sf_open_virtual(&f->vio, SFM_READ, &f->sfi, f);
    if (!f->sf) {
        char why[64];
        xai_status st = xai_error_set(XAI_EFORMAT, "%s: not a readable sound file: %s%s", f->name,
                                      sf_strerror(NULL), diagnose(buf, len, why, sizeof why));
        free(f);
        return st;
    }
    return finish_open(f, out);
}

const xai_audio_info *xai_audio_file_info(const xai_audio_file *f)
{
    return f ? &f->info : NULL;
}

void xai_audio_close(xai_audio_file *f)
{
    if (!f)
        return;
    if (f->sf)
        sf_close(f->sf);
    free(f);
}

/* ---- read ------------------------------------------------------------------------- */

/* libsndfile keeps reading when a data chunk runs past the end of the file; its log then
 * has a line "data : DECLARED (should be ACTUAL)" (AIFF: "SSND : ..."). A declared size of
 * 0 or 0xFFFFFFFF is the streaming writers' "unknown" and is accepted. A header that ends
 * in the middle of a field shows up as "Error : psf_fread returned short count". */
static int log_says_truncated(SNDFILE *sf, unsigned long long *declared, unsigned long long *actual)
{
    char log[8192];
    log[0] = 0;
    sf_command(sf, SFC_GET_LOG_INFO, log, sizeof log);
    log[sizeof log - 1] = 0;
    for (const char *line = log; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        unsigned long long d, a;
        if ((sscanf(line, "data : %llu (should be %llu)", &d, &a) == 2 ||
             sscanf(line, "SSND : %llu (should be %llu)", &d, &a) == 2) &&
            d > a && d != 0xFFFFFFFFull) {
            *declared = d;
            *actual = a;
            return 1;
        }
        if (strncmp(line, "Error : psf_fread returned short count", 38) == 0)
            return 1; /* a header field was cut off */
    }
    return 0;
}

static uint32_t rd_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* When libsndfile refuses a header, name the field for the common cases (its own message
 * for a zero sample rate is "SF_INFO struct incomplete"). Looks at WAV "fmt " and FLAC
 * STREAMINFO only. */
static const char *diagnose(const unsigned char *p, size_t n, char *buf, size_t bufsz)
{
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WAVE", 4) == 0) {
        size_t off = 12;
        while (off + 8 <= n) {
            uint32_t sz = rd_le32(p + off + 4);
            if (memcmp(p + off, "fmt ", 4) == 0 && off + 16 <= n) {
                unsigned ch = p[off + 10] | p[off + 11] << 8;
                uint32_t rate = rd_le32(p + off + 12);
                if (rate == 0)
                    return snprintf(buf, bufsz, " (fmt chunk: sample rate 0)"), buf;
                if (ch == 0)
                    return snprintf(buf, bufsz, " (fmt chunk: 0 channels)"), buf;
                return "";
            }
            if (sz > n - off - 8)
                break;
            off += 8 + (size_t)sz + (sz & 1);
        }
    } else if (n >= 8 + 18 && memcmp(p, "fLaC", 4) == 0 && (p[4] & 0x7f) == 0) {
        const unsigned char *si = p + 8;
        uint32_t rate = (uint32_t)si[10] << 12 | (uint32_t)si[11] << 4 | si[12] >> 4;
        if (rate == 0)
            return snprintf(buf, bufsz, " (STREAMINFO: sample rate 0)"), buf;
    }
    return "";
}

xai_status xai_audio_read(xai_audio_file *f, xai_audio *out)
{
    if (!f || !out)
        return xai_error_set(XAI_EINVAL, "xai_audio_read: NULL argument");
    memset(out, 0, sizeof *out);
    const int C = f->info.channels;
    const int64_t max_frames = XAI_AUDIO_MAX_SAMPLES / C;
    unsigned long long declared = 0, actual = 0;
    if (log_says_truncated(f->sf, &declared, &actual)) {
        if (declared == 0 && actual == 0)
            return xai_error_set(XAI_EFORMAT, "%s: truncated: the header ends before its last field", f->name);
        return xai_error_set(XAI_EFORMAT, "%s: truncated: data chunk declares %llu bytes, the file holds %llu",
                             f->name, declared, actual);
    }

    /* interleaved staging buffer, grown with the frames actually decoded */
    const sf_count_t block = 4096;
    int64_t cap = 0, n = 0;
    float *il = NULL;
    for (;;) {
        if (n + block > cap) {
            /* never trust the declared length for more than a first small block */
            int64_t want = cap ? cap * 2 : 16 * block;
            if (cap == 0 && f->info.frames >= 0 && f->info.frames + block < want)
                want = f->info.frames + block;
            if (want > max_frames + block)
                want = max_frames + block;
            if (want <= cap) {
                free(il);
                return xai_error_set(XAI_EUNSUPPORTED, "%s: more than %lld samples decoded", f->name,
                                     (long long)XAI_AUDIO_MAX_SAMPLES);
            }
            float *p = realloc(il, (size_t)want * (size_t)C * sizeof(float));
            if (!p) {
                free(il);
                return xai_error_set(XAI_ENOMEM, "%s: out of memory for %lld frames", f->name, (long long)want);
            }
            il = p;
            cap = want;
        }
        sf_count_t got = sf_readf_float(f->sf, il + (size_t)n * (size_t)C, block);
        if (got < 0)
            got = 0;
        n += got;
        if (n > max_frames) {
            free(il);
            return xai_error_set(XAI_EUNSUPPORTED, "%s: more than %lld samples decoded", f->name,
                                 (long long)XAI_AUDIO_MAX_SAMPLES);
        }
        if (got < block)
            break;
    }
    int err = sf_error(f->sf);
    if (err != SF_ERR_NO_ERROR) {
        free(il);
        return xai_error_set(XAI_EFORMAT, "%s: decoding failed after %lld frames: %s", f->name, (long long)n,
                             sf_strerror(f->sf));
    }
    if (f->info.frames >= 0 && n < f->info.frames) {
        free(il);
        return xai_error_set(XAI_EFORMAT, "%s: truncated: header declares %lld frames, only %lld decoded",
                             f->name, (long long)f->info.frames, (long long)n);
    }
    float *data = malloc((size_t)(n > 0 ? n : 1) * (size_t)C * sizeof(float));
    if (!data) {
        free(il);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", f->name);
    }
    for (int c = 0; c < C; c++)
        for (int64_t t = 0; t < n; t++)
            data[(size_t)c * (size_t)n + (size_t)t] = il[(size_t)t * (size_t)C + (size_t)c];
    free(il);
    out->info = f->info;
    out->info.frames = n;
    out->info.duration_s = (double)n / f->info.sample_rate;
    out->data = data;
    return XAI_OK;
}

xai_status xai_audio_load(const char *path, xai_audio *out)
{
    if (!out)
        return xai_error_set(XAI_EINVAL, "xai_audio_load: out is NULL");
    memset(out, 0, sizeof *out);
    xai_audio_file *f;
    xai_status st = xai_audio_open(path, &f);
    if (st != XAI_OK)
        return st;
    st = xai_audio_read(f, out);
    xai_audio_close(f);
    return st;
}

xai_status xai_audio_load_mem(const void *buf, size_t len, const char *name, xai_audio *out)
{
    if (!out)
        return xai_error_set(XAI_EINVAL, "xai_audio_load_mem: out is NULL");
    memset(out, 0, sizeof *out);
    xai_audio_file *f;
    xai_status st = xai_audio_open_mem(buf, len, name, &f);
    if (st != XAI_OK)
        return st;
    st = xai_audio_read(f, out);
    xai_audio_close(f);
    return st;
}

void xai_audio_free(xai_audio *a)
{
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* ---- resampling ------------------------------------------------------------------- */

xai_status xai_audio_resample(const xai_audio *in, int rate, xai_resample_quality q, xai_audio *out)
{
    if (!in || !out || in == out)
        return xai_error_set(XAI_EINVAL, "xai_audio_resample: bad arguments");
    if (!in->data || in->info.channels <= 0 || in->info.frames <= 0 || in->info.sample_rate <= 0)
        return xai_error_set(XAI_EINVAL, "xai_audio_resample: empty input or bad sample rate");
    if (rate <= 0)
        return xai_error_set(XAI_EINVAL, "xai_audio_resample: target rate %d", rate);
    memset(out, 0, sizeof *out);
    const int C = in->info.channels;
    const int64_t T = in->info.frames;
    const double ratio = (double)rate / in->info.sample_rate;
    if (ratio > 256.0 || ratio < 1.0 / 256.0)
        return xai_error_set(XAI_EINVAL, "xai_audio_resample: ratio %g outside libsamplerate's [1/256, 256]",
                             ratio);
    const double tout_d = floor((double)T * ratio + 0.5);
    if (tout_d < 1 || tout_d * C > (double)XAI_AUDIO_MAX_SAMPLES)
        return xai_error_set(XAI_EINVAL, "xai_audio_resample: %g output frames", tout_d);
    const int64_t Tout = (int64_t)tout_d;
    if (T > (int64_t)0x7fffffff || Tout > (int64_t)0x7fffffff - 64)
        return xai_error_set(XAI_EINVAL, "xai_audio_resample: too many frames for libsamplerate");
    float *data = calloc((size_t)Tout * (size_t)C, sizeof(float));
    if (!data)
        return xai_error_set(XAI_ENOMEM, "xai_audio_resample: out of memory");
    if (rate == in->info.sample_rate) {
        memcpy(data, in->data, (size_t)T * (size_t)C * sizeof(float));
    } else {
        static const int conv[] = {SRC_SINC_BEST_QUALITY, SRC_SINC_MEDIUM_QUALITY, SRC_SINC_FASTEST, SRC_LINEAR};
        int type = (unsigned)q < 4 ? conv[q] : SRC_SINC_BEST_QUALITY;
        /* a little headroom: src_simple may produce one frame more or less than T*ratio */
        const int64_t cap = Tout + 64;
        float *tmp = malloc((size_t)cap * sizeof(float));
        if (!tmp) {
            free(data);
            return xai_error_set(XAI_ENOMEM, "xai_audio_resample: out of memory");
        }
        for (int c = 0; c < C; c++) {
            SRC_DATA d;
            memset(&d, 0, sizeof d);
            d.data_in = in->data + (size_t)c * (size_t)T;
            d.input_frames = (long)T;
            d.data_out = tmp;
            d.output_frames = (long)cap;
            d.src_ratio = ratio;
            d.end_of_input = 1;
            int e = src_simple(&d, type, 1);
            if (e) {
                free(tmp);
                free(data);
                return xai_error_set(XAI_EDEP, "xai_audio_resample: libsamplerate: %s", src_strerror(e));
            }
            int64_t m = d.output_frames_gen < Tout ? d.output_frames_gen : Tout;
            memcpy(data + (size_t)c * (size_t)Tout, tmp, (size_t)m * sizeof(float)); /* rest stays 0 */
        }
        free(tmp);
    }
    out->info = in->info;
    out->info.sample_rate = rate;
    out->info.frames = Tout;
    out->info.duration_s = (double)Tout / rate;
    out->data = data;
    return XAI_OK;
}

/* ---- writer ----------------------------------------------------------------------- */

xai_status xai_audio_save(const char *path, const float *data, int channels, int64_t frames, int sample_rate,
                          xai_audio_encoding enc)
{
    if (!path || !data)
        return xai_error_set(XAI_EINVAL, "xai_audio_save: NULL argument");
    if (channels <= 0 || channels > 1024 || frames <= 0 || sample_rate <= 0 ||
        frames > XAI_AUDIO_MAX_SAMPLES / channels)
        return xai_error_set(XAI_EINVAL, "%s: cannot write %d channels x %lld frames at %d Hz", path, channels,
                             (long long)frames, sample_rate);
    if (enc != XAI_AUDIO_WAV_PCM16 && enc != XAI_AUDIO_WAV_FLOAT)
        return xai_error_set(XAI_EINVAL, "%s: unknown encoding %d", path, (int)enc);
    const size_t total = (size_t)channels * (size_t)frames;
    for (size_t i = 0; i < total; i++)
        if (!isfinite(data[i]))
            return xai_error_set(XAI_ENUMERIC, "%s: sample %zu is not finite", path, i);

    char *tmp;
    int fd;
    xai_status st = xai_atomic_mkstemp(path, NULL, &tmp, &fd);
    if (st != XAI_OK)
        return st;
    SF_INFO si;
    memset(&si, 0, sizeof si);
    si.samplerate = sample_rate;
    si.channels = channels;
    si.format = SF_FORMAT_WAV | (enc == XAI_AUDIO_WAV_FLOAT ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16);
    SNDFILE *sf = sf_open_fd(fd, SFM_WRITE, &si, 1 /* sf_close closes fd */);
    if (!sf) {
        xai_status st = xai_error_set(XAI_EIO, "%s: libsndfile cannot write: %s", path, sf_strerror(NULL));
        close(fd);
        return xai_atomic_finish(tmp, path, st);
    }
    if (enc == XAI_AUDIO_WAV_PCM16)
        sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE);

    const int64_t block = 4096;
    float *il = malloc((size_t)block * (size_t)channels * sizeof(float));
    if (!il)
        st = xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    for (int64_t t0 = 0; st == XAI_OK && t0 < frames; t0 += block) {
        int64_t m = frames - t0 < block ? frames - t0 : block;
        for (int64_t t = 0; t < m; t++)
            for (int c = 0; c < channels; c++)
                il[(size_t)t * (size_t)channels + (size_t)c] = data[(size_t)c * (size_t)frames + (size_t)(t0 + t)];
        if (sf_writef_float(sf, il, m) != m)
            st = xai_error_set(XAI_EIO, "%s: write failed: %s", path, sf_strerror(sf));
    }
    free(il);
    if (st == XAI_OK)
        sf_write_sync(sf);
    if (sf_close(sf) != 0 && st == XAI_OK)
        st = xai_error_set(XAI_EIO, "%s: closing failed", path);
    return xai_atomic_finish(tmp, path, st);
}
