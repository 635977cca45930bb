/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * info.c - xai-info: format detection (magic bytes first, extension second), dispatch to
 * the describers, and small JSON/statistics helpers.
 * Magic numbers: EDF "0" + 7 blanks, BDF 0xFF "BIOSEMI" (edfplus.info), NIfTI-1
 * sizeof_hdr 348 + "n+1"/"ni1" at 344, NIfTI-2 540 + "n+2"/"ni2" at 4 (nifti1.h,
 * nifti2.h), gzip 1F 8B (RFC 1952), NPY "\x93NUMPY" (numpy NEP 1), C3D byte 2 = 0x50 and
 * processor byte 83+1..3 (c3d.org), BrainVision "... Data Exchange Header File",
 * TRC "PathFileType", MOT/STO "endheader", RIFF/RF64 WAVE, fLaC, FORM AIFF, OggS, .snd.
 * ONNX has no magic (protobuf): extension, or a first byte 0x08 (ModelProto.ir_version).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zlib.h>

#include "info.h"
#include "xai/biosig.h"

#define HEAD_BYTES 2048

json_t *info_real(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

json_t *info_str(const char *s)
{
    if (!s)
        s = "";
    json_t *j = json_string(s);
    if (j)
        return j;
    size_t n = strlen(s);
    char *u = malloc(2 * n + 1);
    if (!u)
        return json_string("");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            u[k++] = (char)c;
        } else {
            u[k++] = (char)(0xC0 | (c >> 6));
            u[k++] = (char)(0x80 | (c & 0x3F));
        }
    }
    u[k] = 0;
    j = json_string(u);
    free(u);
    return j ? j : json_string("");
}

void info_stats_init(info_stats *s)
{
    s->min = INFINITY;
    s->max = -INFINITY;
    s->sum = 0;
    s->n = 0;
    s->nonfinite = 0;
}

void info_stats_add(info_stats *s, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        if (!isfinite(v)) {
            s->nonfinite++;
            continue;
        }
        if (v < s->min) s->min = v;
        if (v > s->max) s->max = v;
        s->sum += v;
        s->n++;
    }
}

void info_stats_put(const info_stats *s, json_t *obj)
{
    json_object_set_new(obj, "min", s->n ? info_real(s->min) : json_null());
    json_object_set_new(obj, "max", s->n ? info_real(s->max) : json_null());
    json_object_set_new(obj, "mean", s->n ? info_real(s->sum / (double)s->n) : json_null());
    if (s->nonfinite)
        json_object_set_new(obj, "nonfinite", json_integer(s->nonfinite));
}

static int has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcasecmp(path + n - e, ext) == 0;
}

static uint32_t rd32(const unsigned char *p, int be)
{
    return be ? ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3])
              : ((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
}

static int is_nifti(const unsigned char *b, size_t n)
{
    for (int be = 0; be < 2; be++) {
        if (n >= 348 && rd32(b, be) == 348 &&
            (memcmp(b + 344, "n+1", 4) == 0 || memcmp(b + 344, "ni1", 4) == 0))
            return 1;
        if (n >= 12 && rd32(b, be) == 540 &&
            (memcmp(b + 4, "n+2", 4) == 0 || memcmp(b + 4, "ni2", 4) == 0))
            return 1;
    }
    return 0;
}

/* Text files may start with a UTF-8 byte order mark. */
static const char *skip_bom(const unsigned char *b, size_t n)
{
    if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF)
        return (const char *)b + 3;
    return (const char *)b;
}

static info_kind detect_magic(const char *path, const unsigned char *b, size_t n)
{
    if (n >= 6 && memcmp(b, "\x93NUMPY", 6) == 0)
        return INFO_NPY;
    if (n >= 8 && b[0] == 0xFF && memcmp(b + 1, "BIOSEMI", 7) == 0)
        return INFO_EDF;
    if (n >= 256 && memcmp(b, "0       ", 8) == 0)
        return INFO_EDF;
    if (n >= 8 && memcmp(b, "GDF ", 4) == 0)
        return INFO_BIOSIG;
    if (n >= 10 && (memcmp(b, "HeaderLen=", 10) == 0 || memcmp(b, "BCI2000V", 8) == 0))
        return INFO_BIOSIG;
    if (is_nifti(b, n))
        return INFO_NIFTI;
    if (n >= 2 && b[0] == 0x1F && b[1] == 0x8B) {
        /* gzip: look inside for a NIfTI header */
        unsigned char in[HEAD_BYTES];
        gzFile gz = gzopen(path, "rb");
        if (gz) {
            int got = gzread(gz, in, sizeof in);
            gzclose(gz);
            if (got > 0 && is_nifti(in, (size_t)got))
                return INFO_NIFTI;
        }
        return INFO_UNKNOWN;
    }
    if (n >= 12 && ((memcmp(b, "RIFF", 4) == 0 || memcmp(b, "RIFX", 4) == 0 ||
                     memcmp(b, "RF64", 4) == 0) && memcmp(b + 8, "WAVE", 4) == 0))
        return INFO_AUDIO;
    if (n >= 12 && memcmp(b, "FORM", 4) == 0 &&
        (memcmp(b + 8, "AIFF", 4) == 0 || memcmp(b + 8, "AIFC", 4) == 0))
        return INFO_AUDIO;
    if (n >= 4 && (memcmp(b, "fLaC", 4) == 0 || memcmp(b, "OggS", 4) == 0 ||
                   memcmp(b, ".snd", 4) == 0 || memcmp(b, "caff", 4) == 0))
        return INFO_AUDIO;
    if (n >= 512 + 4 && b[1] == 0x50 && b[0] == 2 && b[512 + 3] >= 84 && b[512 + 3] <= 86)
        return INFO_C3D;
    const char *t = skip_bom(b, n);
    size_t tn = n - (size_t)(t - (const char *)b);
    if (tn >= 20 && (strncmp(t, "Brain Vision Data Exchange", 26) == 0 ||
                     strncmp(t, "BrainVision Data Exchange", 25) == 0))
        return INFO_BRAINVISION;
    if (tn >= 12 && strncmp(t, "PathFileType", 12) == 0)
        return INFO_TRC;
    /* .mot/.sto: a header that ends with an "endheader" line */
    for (size_t i = 0; i + 9 <= tn; i++) {
        if ((i == 0 || t[i - 1] == '\n') && strncasecmp(t + i, "endheader", 9) == 0 &&
            (i + 9 == tn || t[i + 9] == '\r' || t[i + 9] == '\n'))
            return INFO_MOT;
        if (t[i] == '\0')
            break;
    }
    return INFO_UNKNOWN;
}

static info_kind detect_ext(const char *path)
{
    static const struct { const char *ext; info_kind kind; } map[] = {
        {".edf", INFO_EDF}, {".bdf", INFO_EDF}, {".rec", INFO_EDF},
        {".vhdr", INFO_BRAINVISION}, {".vmrk", INFO_BRAINVISION}, {".eeg", INFO_BRAINVISION},
        {".nii", INFO_NIFTI}, {".nii.gz", INFO_NIFTI}, {".hdr", INFO_NIFTI}, {".img", INFO_NIFTI},
        {".wav", INFO_AUDIO}, {".flac", INFO_AUDIO}, {".aif", INFO_AUDIO}, {".aiff", INFO_AUDIO},
        {".ogg", INFO_AUDIO}, {".oga", INFO_AUDIO}, {".au", INFO_AUDIO}, {".snd", INFO_AUDIO},
        {".caf", INFO_AUDIO}, {".w64", INFO_AUDIO}, {".rf64", INFO_AUDIO},
        {".c3d", INFO_C3D}, {".trc", INFO_TRC}, {".mot", INFO_MOT}, {".sto", INFO_MOT},
        {".npy", INFO_NPY}, {".onnx", INFO_ONNX},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (has_ext(path, map[i].ext))
            return map[i].kind;
    return xai_biosig_handles(path) ? INFO_BIOSIG : INFO_UNKNOWN;
}

info_kind info_detect(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        xai_error_set(XAI_EIO, "%s: cannot open: %s", path, strerror(errno));
        return INFO_UNKNOWN;
    }
    if (!S_ISREG(st.st_mode)) {
        xai_error_set(XAI_EIO, "%s: not a regular file", path);
        return INFO_UNKNOWN;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        xai_error_set(XAI_EIO, "%s: cannot open: %s", path, strerror(errno));
        return INFO_UNKNOWN;
    }
    unsigned char b[HEAD_BYTES + 1];
    size_t n = fread(b, 1, HEAD_BYTES, f);
    fclose(f);
    b[n] = 0;
    if (n == 0) {
        xai_error_set(XAI_EFORMAT, "%s: empty file", path);
        return INFO_UNKNOWN;
    }
    info_kind k = detect_magic(path, b, n);
    if (k == INFO_UNKNOWN)
        k = detect_ext(path);
    if (k == INFO_UNKNOWN && b[0] == 0x08)
        k = INFO_ONNX; /* protobuf field 1 (varint): ModelProto.ir_version */
    if (k == INFO_UNKNOWN)
        xai_error_set(XAI_EFORMAT, "%s: unrecognised file format (not EDF/BDF, BrainVision, "
                      "GDF, BCI2000, CNT, EGI, NIfTI, audio, C3D, TRC, MOT, NPY or ONNX)", path);
    return k;
}

xai_status info_describe(const char *path, json_t **out)
{
    *out = NULL;
    switch (info_detect(path)) {
    case INFO_EDF: return info_describe_edf(path, out);
    case INFO_BRAINVISION: return info_describe_brainvision(path, out);
    case INFO_BIOSIG: return info_describe_biosig(path, out);
    case INFO_NIFTI: return info_describe_nifti(path, out);
    case INFO_AUDIO: return info_describe_audio(path, out);
    case INFO_C3D: return info_describe_c3d(path, out);
    case INFO_TRC: return info_describe_trc(path, out);
    case INFO_MOT: return info_describe_mot(path, out);
    case INFO_NPY: return info_describe_npy(path, out);
    case INFO_ONNX: return info_describe_onnx(path, out);
    case INFO_UNKNOWN: break;
    }
    return XAI_EFORMAT;
}
