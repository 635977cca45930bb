/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * nifti.c - NIfTI-1/NIfTI-2 reader and float32 relevance-map writer over nifti_clib.
 * nifti_clib parses the header and reads the voxels (byte swapping, gzip through znzlib);
 * we add what it leaves to the caller: a sniff that names bad magic clearly, checks of
 * dims, voxel size, scaling and the data length against the real file before the data
 * buffer is allocated, conversion to float32 with scl_slope/scl_inter, TR in seconds, and
 * an atomic writer that copies the geometry of a template header.
 * Specs: nifti1.h (NIfTI-1, DFWG 2004: sizeof_hdr 348, magic "n+1"/"ni1" at byte 344,
 * "method 1/2/3" for coordinates), nifti2.h (NIfTI-2: sizeof_hdr 540, magic "n+2\0\r\n\032\n").
 */
#include "xai/nifti.h"
#include "xai/atomic.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nifti2_io.h>
#include <zlib.h>

#define NIFTI1_HDR 348
#define NIFTI2_HDR 540
/* A TR of this many "seconds" or more is taken as milliseconds (see nifti.h). */
#define TR_MS_THRESHOLD 100.0

static void quiet(void)
{
    nifti_set_debug_level(0);
}

const char *xai_nifti_datatype_name(int datatype)
{
    switch (datatype) {
    case DT_UINT8: return "uint8";
    case DT_INT8: return "int8";
    case DT_INT16: return "int16";
    case DT_UINT16: return "uint16";
    case DT_INT32: return "int32";
    case DT_UINT32: return "uint32";
    case DT_INT64: return "int64";
    case DT_UINT64: return "uint64";
    case DT_FLOAT32: return "float32";
    case DT_FLOAT64: return "float64";
    case DT_FLOAT128: return "float128";
    case DT_COMPLEX64: return "complex64";
    case DT_COMPLEX128: return "complex128";
    case DT_COMPLEX256: return "complex256";
    case DT_RGB24: return "rgb24";
    case DT_RGBA32: return "rgba32";
    case DT_BINARY: return "binary";
    default: return "unknown";
    }
}

static int datatype_supported(int dt)
{
    switch (dt) {
    case DT_UINT8: case DT_INT8: case DT_INT16: case DT_UINT16: case DT_INT32:
    case DT_UINT32: case DT_INT64: case DT_UINT64: case DT_FLOAT32: case DT_FLOAT64:
        return 1;
    default:
        return 0;
    }
}

static int32_t get_i32(const unsigned char *p, int swap)
{
    uint32_t v;
    if (swap)
        v = (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
    else
        v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (int32_t)v;
}

/*
 * Read the first bytes of @p path (gzip or not) and check sizeof_hdr and the magic, so a
 * wrong file gets a clear message instead of nifti_clib's NULL. Returns the NIfTI version;
 * *paired is set for "ni1"/"ni2" (header with a separate .img).
 */
static xai_status sniff(const char *path, const char *name, int *version, int *paired,
                        int *swapped)
{
    unsigned char h[NIFTI2_HDR];
    FILE *f = fopen(path, "rb");
    if (!f)
        return xai_error_set(XAI_EIO, "%s: cannot open: %s", name, strerror(errno));
    fclose(f);
    gzFile g = gzopen(path, "rb");
    if (!g)
        return xai_error_set(XAI_EIO, "%s: cannot open", name);
    int n = gzread(g, h, sizeof h);
    gzclose(g);
    if (n < 0)
        return xai_error_set(XAI_EFORMAT, "%s: corrupt gzip stream in the header", name);
    if (n < 4)
        return xai_error_set(XAI_EFORMAT, "%s: truncated header (%d bytes)", name, n);
    int32_t le = get_i32(h, 0), be = get_i32(h, 1);
    int v = 0;
    if (le == NIFTI1_HDR || be == NIFTI1_HDR)
        v = 1;
    else if (le == NIFTI2_HDR || be == NIFTI2_HDR)
        v = 2;
    else
        return xai_error_set(XAI_EFORMAT,
                             "%s: bad magic: sizeof_hdr is %ld, expected 348 (NIfTI-1) or 540 "
                             "(NIfTI-2)", name, (long)le);
    *swapped = le != NIFTI1_HDR && le != NIFTI2_HDR;
    int need = v == 1 ? NIFTI1_HDR : NIFTI2_HDR;
    if (n < need)
        return xai_error_set(XAI_EFORMAT, "%s: truncated header (%d of %d bytes)", name, n, need);
    if (v == 1) {
        const unsigned char *m = h + 344;
        if (memcmp(m, "n+1", 4) == 0)
            *paired = 0;
        else if (memcmp(m, "ni1", 4) == 0)
            *paired = 1;
        else
            return xai_error_set(XAI_EFORMAT,
                                 "%s: bad magic: NIfTI-1 needs \"n+1\" or \"ni1\" at byte 344 "
                                 "(ANALYZE 7.5 is not supported)", name);
    } else {
        const unsigned char *m = h + 4;
        if (memcmp(m, "n+2", 4) == 0)
            *paired = 0;
        else if (memcmp(m, "ni2", 4) == 0)
            *paired = 1;
        else
            return xai_error_set(XAI_EFORMAT, "%s: bad magic: NIfTI-2 needs \"n+2\" or \"ni2\" at "
                                 "byte 4", name);
        /* as nibabel: the EOL check bytes are either intact or all zero (older writers) */
        if (memcmp(m + 4, "\r\n\032\n", 4) != 0 && memcmp(m + 4, "\0\0\0\0", 4) != 0)
            return xai_error_set(XAI_EFORMAT, "%s: bad magic: NIfTI-2 signature bytes 8-11 "
                                 "damaged (file was altered by a text transfer?)", name);
    }
    *version = v;
    return XAI_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int is_gzip(const char *path)
{
    unsigned char magic[2];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t m = fread(magic, 1, 2, f);
    fclose(f);
    return m == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

/*
 * Bytes available in @p path, counting uncompressed bytes for gzip; stops counting at
 * @p need so a header cannot make us inflate more than it asked for. -1 if unreadable.
 */
static int64_t available_bytes(const char *path, int64_t need)
{
    if (!is_gzip(path)) {
        struct stat st;
        if (stat(path, &st) != 0)
            return -1;
        return (int64_t)st.st_size;
    }
    gzFile g = gzopen(path, "rb");
    if (!g)
        return -1;
    enum { CHUNK = 1 << 16 };
    unsigned char *buf = malloc(CHUNK);
    if (!buf) {
        gzclose(g);
        return -1;
    }
    int64_t have = 0;
    while (have < need) {
        int64_t want = need - have;
        unsigned chunk = want < CHUNK ? (unsigned)want : (unsigned)CHUNK;
        int r = gzread(g, buf, chunk);
        if (r <= 0)
            break;
        have += r;
    }
    free(buf);
    gzclose(g);
    return have;
}

static double to_float_range(double v)
{
    /* Out-of-range double -> float conversion is undefined; saturate explicitly. */
    if (v > FLT_MAX)
        return INFINITY;
    if (v < -FLT_MAX)
        return -INFINITY;
    return v;
}

static void convert(const nifti_image *nim, float *out, size_t n, int scaled, double slope,
                    double inter)
{
#define CONV(T)                                                           \
    do {                                                                  \
        const T *src = (const T *)nim->data;                              \
        for (size_t i = 0; i < n; i++) {                                  \
            double v = (double)src[i];                                    \
            if (scaled)                                                   \
                v = v * slope + inter;                                    \
            out[i] = (float)to_float_range(v);                            \
        }                                                                 \
    } while (0)
    switch (nim->datatype) {
    case DT_UINT8: CONV(uint8_t); break;
    case DT_INT8: CONV(int8_t); break;
    case DT_INT16: CONV(int16_t); break;
    case DT_UINT16: CONV(uint16_t); break;
    case DT_INT32: CONV(int32_t); break;
    case DT_UINT32: CONV(uint32_t); break;
    case DT_INT64: CONV(int64_t); break;
    case DT_UINT64: CONV(uint64_t); break;
    case DT_FLOAT32: CONV(float); break;
    case DT_FLOAT64: CONV(double); break;
    default: break; /* refused earlier */
    }
#undef CONV
}

/* a macro, not a function: a double[4][4] parameter decays and confuses -Wstringop-overflow */
#define COPY_MAT(dst, src)                  \
    do {                                    \
        for (int i_ = 0; i_ < 4; i_++)      \
            for (int j_ = 0; j_ < 4; j_++)  \
                (dst)[i_][j_] = (src).m[i_][j_]; \
    } while (0)

/* The fields that NIfTI-1 and NIfTI-2 headers share by name (of different types, hence a
 * macro); xyzt_units and vox_offset differ in type and are converted by the caller. */
#define INFO_COMMON_FIELDS(in, h)                   \
    do {                                            \
        for (int i = 0; i < 8; i++) {               \
            in->dim[i] = h->dim[i];                 \
            in->pixdim[i] = h->pixdim[i];           \
        }                                           \
        in->datatype = h->datatype;                 \
        in->scl_slope = h->scl_slope;               \
        in->scl_inter = h->scl_inter;               \
        in->cal_min = h->cal_min;                   \
        in->cal_max = h->cal_max;                   \
        in->intent_code = h->intent_code;           \
        memcpy(in->intent_name, h->intent_name, 16); \
        memcpy(in->descrip, h->descrip, 80);         \
        in->qform_code = h->qform_code;             \
        in->sform_code = h->sform_code;             \
        in->quatern_b = h->quatern_b;               \
        in->quatern_c = h->quatern_c;               \
        in->quatern_d = h->quatern_d;               \
        in->qoffset_x = h->qoffset_x;               \
        in->qoffset_y = h->qoffset_y;               \
        in->qoffset_z = h->qoffset_z;               \
        for (int j = 0; j < 4; j++) {               \
            in->sform[0][j] = h->srow_x[j];         \
            in->sform[1][j] = h->srow_y[j];         \
            in->sform[2][j] = h->srow_z[j];         \
        }                                           \
        in->toffset = h->toffset;                   \
    } while (0)

/* The header fields as stored, from nifti_read_header() (already in native byte order). */
static void info_from_raw(xai_nifti_info *in, const void *raw, int version)
{
    memset(in, 0, sizeof *in);
    in->version = version;
    if (version == 1) {
        const nifti_1_header *h = raw;
        INFO_COMMON_FIELDS(in, h);
        in->xyzt_units = (unsigned char)h->xyzt_units;
        double off = h->vox_offset; /* a float in NIfTI-1 */
        in->vox_offset = isfinite(off) && off >= 0 && off < 4e18 ? (int64_t)off : -1;
    } else {
        const nifti_2_header *h = raw;
        INFO_COMMON_FIELDS(in, h);
        in->xyzt_units = h->xyzt_units;
        in->vox_offset = h->vox_offset >= 0 ? h->vox_offset : -1;
    }
    in->qfac = in->pixdim[0] < 0 ? -1.0 : 1.0; /* NIfTI-1: anything but -1 means 1 */
    in->xyz_units = XYZT_TO_SPACE(in->xyzt_units);
    in->time_units = XYZT_TO_TIME(in->xyzt_units);
}

/* Check the stored header; everything that could make loading misbehave is refused here. */
static xai_status validate(xai_nifti_info *in, const char *name, size_t *nvox_out)
{
    if (in->dim[0] < 1 || in->dim[0] > 7)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: dim[0] = %lld (must be 1..7)", name,
                             (long long)in->dim[0]);
    for (int i = 1; i <= in->dim[0]; i++)
        if (in->dim[i] < 1)
            return xai_error_set(XAI_EFORMAT, "%s: bad header: dim[%d] = %lld (must be >= 1)",
                                 name, i, (long long)in->dim[i]);
    for (int i = (int)in->dim[0] + 1; i < 8; i++)
        in->dim[i] = 1; /* unused: ignored by the spec, normalised here */
    for (int i = 5; i <= in->dim[0]; i++)
        if (in->dim[i] > 1)
            return xai_error_set(XAI_EUNSUPPORTED,
                                 "%s: %lld-D image (dim[%d] = %lld): only 1-D to 4-D is supported",
                                 name, (long long)in->dim[0], i, (long long)in->dim[i]);
    if (!datatype_supported(in->datatype))
        return xai_error_set(strcmp(xai_nifti_datatype_name(in->datatype), "unknown") == 0
                                 ? XAI_EFORMAT : XAI_EUNSUPPORTED,
                             "%s: datatype %d (%s) is not supported", name, in->datatype,
                             xai_nifti_datatype_name(in->datatype));
    /* voxel count: the output floats and the raw data (8 bytes at most) stay addressable */
    uint64_t nvox = 1;
    const uint64_t limit = (uint64_t)(SIZE_MAX / 16 < INT64_MAX / 16 ? SIZE_MAX / 16
                                                                       : INT64_MAX / 16);
    for (int i = 1; i <= 4; i++) {
        uint64_t d = (uint64_t)in->dim[i];
        if (nvox > limit / d)
            return xai_error_set(XAI_EFORMAT, "%s: bad header: dims %lld x %lld x %lld x %lld "
                                 "are too large", name, (long long)in->dim[1],
                                 (long long)in->dim[2], (long long)in->dim[3],
                                 (long long)in->dim[4]);
        nvox *= d;
    }
    int nsp = in->dim[0] < 3 ? (int)in->dim[0] : 3;
    for (int i = 1; i <= nsp; i++)
        if (!isfinite(in->pixdim[i]) || in->pixdim[i] == 0)
            return xai_error_set(XAI_EFORMAT, "%s: bad header: voxel size pixdim[%d] = %g", name,
                                 i, in->pixdim[i]);
    if (in->dim[0] >= 4 && (!isfinite(in->pixdim[4]) || in->pixdim[4] < 0))
        return xai_error_set(XAI_EFORMAT, "%s: bad header: time step pixdim[4] = %g", name,
                             in->pixdim[4]);
    double slope = in->scl_slope;
    if (isinf(slope) || (isfinite(slope) && slope != 0 && !isfinite(in->scl_inter)))
        return xai_error_set(XAI_EFORMAT, "%s: bad scaling: scl_slope = %g, scl_inter = %g", name,
                             slope, in->scl_inter);
    if (in->qform_code > 0 &&
        (!isfinite(in->quatern_b) || !isfinite(in->quatern_c) || !isfinite(in->quatern_d) ||
         !isfinite(in->qoffset_x) || !isfinite(in->qoffset_y) || !isfinite(in->qoffset_z)))
        return xai_error_set(XAI_EFORMAT, "%s: bad header: non-finite qform", name);
    if (in->sform_code > 0)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                if (!isfinite(in->sform[i][j]))
                    return xai_error_set(XAI_EFORMAT, "%s: bad header: non-finite sform", name);
    if (in->vox_offset < 0 || in->vox_offset > INT64_MAX / 2)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: vox_offset out of range", name);
    *nvox_out = (size_t)nvox;
    return XAI_OK;
}

/* qform matrix, affine and TR: the parts that need nifti_clib's quaternion code or rules. */
static void finish_info(xai_nifti_info *in, const nifti_image *nim)
{
    COPY_MAT(in->qform, nim->qto_xyz);
    if (in->sform_code > 0) {
        in->sform[3][0] = in->sform[3][1] = in->sform[3][2] = 0;
        in->sform[3][3] = 1;
        memcpy(in->affine, in->sform, sizeof in->affine);
        in->affine_source = XAI_NIFTI_AFFINE_SFORM;
    } else if (in->qform_code > 0) {
        memcpy(in->affine, in->qform, sizeof in->affine);
        in->affine_source = XAI_NIFTI_AFFINE_QFORM;
    } else {
        /* NIfTI-1 "method 1": x = pixdim[1] * i, ... */
        memset(in->affine, 0, sizeof in->affine);
        for (int i = 0; i < 3; i++)
            in->affine[i][i] = fabs(in->pixdim[i + 1]);
        in->affine[3][3] = 1;
        in->affine_source = XAI_NIFTI_AFFINE_PIXDIM;
    }

    double dt = in->dim[0] >= 4 ? in->pixdim[4] : 0;
    double tr = 0;
    if (isfinite(dt) && dt > 0) {
        switch (in->time_units) {
        case NIFTI_UNITS_MSEC: tr = dt / 1e3; break;
        case NIFTI_UNITS_USEC: tr = dt / 1e6; break;
        case NIFTI_UNITS_SEC:
        case NIFTI_UNITS_UNKNOWN:
            tr = dt;
            if (dt >= TR_MS_THRESHOLD) {
                tr = dt / 1e3;
                in->tr_assumed_ms = 1;
            }
            break;
        default: tr = dt; break; /* Hz, ppm, rad/s: not a time; reported as stored */
        }
    }
    in->tr_s = tr;
}

static xai_status check_length(const char *file, const char *name, int64_t need, int64_t offset,
                               size_t nvox, int bpp)
{
    int64_t have = available_bytes(file, need);
    if (have < 0)
        return xai_error_set(XAI_EIO, "%s: cannot open the image data file", name);
    if (have < need)
        return xai_error_set(XAI_EFORMAT, "%s: truncated: the header needs %lld bytes (offset %lld "
                             "+ %zu voxels of %d bytes), the file has %lld", name,
                             (long long)need, (long long)offset, nvox, bpp, (long long)have);
    return XAI_OK;
}

/* Reads and validates the header of @p path through nifti_clib; *paired says whether the
 * voxels are in a separate .img file, *nvox how many there are. */
static xai_status read_info(const char *path, const char *name, int single_only, xai_nifti_info *info,
                            int *paired, size_t *nvox)
{
    int version = 0, swapped = 0;
    xai_status st = sniff(path, name, &version, paired, &swapped);
    if (st != XAI_OK)
        return st;
    if (*paired && single_only)
        return xai_error_set(XAI_EUNSUPPORTED, "%s: header of a .hdr/.img pair (magic \"ni%d\"); "
                             "only single-file images can be read from memory", name, version);
    quiet();
    int nver = 0;
    void *raw = nifti_read_header(path, &nver, 0);
    if (!raw || nver != version) {
        free(raw);
        if (is_gzip(path) && !ends_with(path, ".gz"))
            return xai_error_set(XAI_EFORMAT, "%s: gzip-compressed data in a file whose name does "
                                 "not end in .gz (nifti_clib decides by the name)", name);
        return xai_error_set(XAI_EFORMAT, "%s: bad header: nifti_clib cannot parse it", name);
    }
    if (swapped)
        swap_nifti_header(raw, version); /* nifti_read_header() leaves the file's byte order */
    info_from_raw(info, raw, version);
    free(raw);
    return validate(info, name, nvox);
}

/* nifti_clib's image of @p path with its voxels loaded, once its header agrees with @p info and
 * the voxel file is long enough; *nimp is NULL or for the caller to free, on success and failure. */
static xai_status load_voxels(const char *path, const char *name, const xai_nifti_info *info, int paired,
                              size_t nvox, nifti_image **nimp)
{
    /*
     * The voxels must really be there before nifti_clib allocates nvox * nbyper bytes (and,
     * for a single file, before it reads extensions whose sizes are bounded by vox_offset).
     */
    int bpp = 0, swapsize = 0;
    nifti_datatype_sizes(info->datatype, &bpp, &swapsize);
    int64_t need = info->vox_offset + (int64_t)nvox * bpp;
    *nimp = NULL;
    if (!paired) {
        xai_status st = check_length(path, name, need, info->vox_offset, nvox, bpp);
        if (st != XAI_OK)
            return st;
    }
    nifti_image *nim = *nimp = nifti_image_read(path, 0);
    if (!nim)
        return xai_error_set(XAI_EFORMAT, "%s: bad header: nifti_clib rejected it (bitpix, "
                             "vox_offset or extensions out of range)", name);
    if (!nim->iname || (uint64_t)nim->nvox != (uint64_t)nvox || nim->datatype != info->datatype ||
        nim->nbyper != bpp)
        return xai_error_set(XAI_EDEP, "%s: nifti_clib disagrees with the header (%lld voxels)",
                             name, (long long)nim->nvox);
    if (paired || nim->iname_offset != info->vox_offset) {
        if (nim->iname_offset < 0 || nim->iname_offset > INT64_MAX / 2)
            return xai_error_set(XAI_EFORMAT, "%s: bad header: vox_offset = %lld", name,
                                 (long long)nim->iname_offset);
        xai_status st = check_length(nim->iname, name, nim->iname_offset + (int64_t)nvox * bpp,
                                     nim->iname_offset, nvox, bpp);
        if (st != XAI_OK)
            return st;
    }
    if (nifti_image_load(nim) < 0 || !nim->data)
        return xai_error_set(XAI_EFORMAT, "%s: cannot read the voxel data (corrupt or truncated)",
                             name);
    return XAI_OK;
}

static xai_status open_impl(const char *path, const char *name, int single_only, xai_nifti **out)
{
    int paired = 0;
    xai_nifti_info info;
    size_t nvox = 0;
    xai_status st = read_info(path, name, single_only, &info, &paired, &nvox);
    if (st != XAI_OK)
        return st;
    nifti_image *nim = NULL;
    st = load_voxels(path, name, &info, paired, nvox, &nim);
    if (st != XAI_OK)
        goto fail;
    xai_nifti *img = calloc(1, sizeof *img);
    float *data = malloc((nvox ? nvox : 1) * sizeof *data);
    if (!img || !data) {
        free(img);
        free(data);
        st = xai_error_set(XAI_ENOMEM, "%s: out of memory for %zu voxels", name, nvox);
        goto fail;
    }
    finish_info(&info, nim);
    img->info = info;
    double slope = info.scl_slope;
    int scaled = isfinite(slope) && slope != 0 && !(slope == 1 && info.scl_inter == 0);
    convert(nim, data, nvox, scaled, slope, info.scl_inter);
    img->shape[0] = info.dim[4];
    img->shape[1] = info.dim[3];
    img->shape[2] = info.dim[2];
    img->shape[3] = info.dim[1];
    img->n = nvox;
    img->data = data;
    nifti_image_free(nim);
    *out = img;
    return XAI_OK;
fail:
    nifti_image_free(nim);
    return st;
}

xai_status xai_nifti_open(const char *path, xai_nifti **out)
{
    if (!out)
        return xai_error_set(XAI_EINVAL, "xai_nifti_open: out is NULL");
    *out = NULL;
    if (!path)
        return xai_error_set(XAI_EINVAL, "xai_nifti_open: path is NULL");
    return open_impl(path, path, 0, out);
}

static const char *tmp_dir(void)
{
    const char *d = getenv("TMPDIR");
    return d && *d ? d : "/tmp";
}

xai_status xai_nifti_open_mem(const void *buf, size_t len, const char *name, xai_nifti **out)
{
    if (!name)
        name = "<memory>";
    if (!out)
        return xai_error_set(XAI_EINVAL, "%s: out is NULL", name);
    *out = NULL;
    if (!buf && len)
        return xai_error_set(XAI_EINVAL, "%s: buffer is NULL", name);
    const unsigned char *b = buf;
    int gz = len >= 2 && b[0] == 0x1f && b[1] == 0x8b;
    const char *ext = gz ? ".nii.gz" : ".nii";
    const char *dir = tmp_dir();
    size_t plen = strlen(dir) + 32;
    char *tmp = malloc(plen);
    if (!tmp)
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", name);
    snprintf(tmp, plen, "%s/xai-nifti-XXXXXX%s", dir, ext);
    int fd = mkstemps(tmp, (int)strlen(ext));
    if (fd < 0) {
        xai_status st = xai_error_set(XAI_EIO, "%s: cannot create a temporary file in %s: %s",
                                      name, dir, strerror(errno));
        free(tmp);
        return st;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, b + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            xai_status st = xai_error_set(XAI_EIO, "%s: cannot write a temporary file in %s: %s",
                                          name, dir, strerror(errno));
            close(fd);
            unlink(tmp);
            free(tmp);
            return st;
        }
        done += (size_t)w;
    }
    close(fd);
    xai_status st = open_impl(tmp, name, 1, out);
    unlink(tmp);
    free(tmp);
    return st;
}

void xai_nifti_close(xai_nifti *img)
{
    if (!img)
        return;
    free(img->data);
    free(img);
}

/* ---- writer ---------------------------------------------------------------------------- */

/* Copy at most 79 bytes of @p s into the 80-byte field, never splitting a UTF-8 character. */
static void set_descrip(char dst[80], const char *s)
{
    memset(dst, 0, 80);
    if (!s)
        return;
    size_t n = strlen(s);
    if (n > 79) {
        n = 79;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, s, n);
}

static const char *nifti_ext(const char *path)
{
    size_t n = strlen(path);
    if (n >= 7 && strcmp(path + n - 7, ".nii.gz") == 0)
        return ".nii.gz";
    if (n >= 4 && strcmp(path + n - 4, ".nii") == 0)
        return ".nii";
    return NULL;
}

/*
 * Write header + empty extender + data. nifti_clib builds the header
 * (nifti_convert_nim2n{1,2}hdr); the bytes are written here because nifti_image_write()
 * returns no status, and in nifti_clib 3.0.1 writes a single-file NIfTI-2 image as a
 * header/image pair under one name (the data overwrite the header).
 */
static xai_status write_file(const char *tmp, const char *path, const nifti_image *nim,
                             int version, const float *data, size_t n, int gz)
{
    union { nifti_1_header h1; nifti_2_header h2; } hdr;
    size_t hsize;
    memset(&hdr, 0, sizeof hdr);
    if (version == 2) {
        if (nifti_convert_nim2n2hdr(nim, &hdr.h2) != 0)
            return xai_error_set(XAI_EDEP, "%s: nifti_clib cannot build a NIfTI-2 header", path);
        memcpy(hdr.h2.magic, "n+2\0\r\n\032\n", 8); /* the library leaves bytes 4-7 zero */
        hsize = NIFTI2_HDR;
    } else {
        if (nifti_convert_nim2n1hdr(nim, &hdr.h1) != 0)
            return xai_error_set(XAI_EDEP, "%s: nifti_clib cannot build a NIfTI-1 header", path);
        hsize = NIFTI1_HDR;
    }
    static const unsigned char extender[4] = {0, 0, 0, 0};
    int ok;
    if (gz) {
        /* zlib's fastest level: written maps are float32, where higher levels gain little size and
           cost several times the time (a 4-D relevance series at level 6 took a third of an fMRI
           explanation); nibabel also writes .gz at level 1 by default */
        gzFile g = gzopen(tmp, "wb1");
        if (!g)
            return xai_error_set(XAI_EIO, "%s: cannot open the temporary file", path);
        ok = gzwrite(g, &hdr, (unsigned)hsize) == (int)hsize && gzwrite(g, extender, 4) == 4;
        for (size_t done = 0; ok && done < n;) {
            size_t chunk = n - done < (1u << 24) ? n - done : (1u << 24);
            ok = gzwrite(g, data + done, (unsigned)(chunk * sizeof *data)) ==
                 (int)(chunk * sizeof *data);
            done += chunk;
        }
        ok = (gzclose(g) == Z_OK) && ok;
    } else {
        FILE *f = fopen(tmp, "wb");
        if (!f)
            return xai_error_set(XAI_EIO, "%s: cannot open the temporary file: %s", path,
                                 strerror(errno));
        ok = fwrite(&hdr, 1, hsize, f) == hsize && fwrite(extender, 1, 4, f) == 4 &&
             fwrite(data, sizeof *data, n, f) == n;
        ok = (fclose(f) == 0) && ok;
    }
    if (!ok)
        return xai_error_set(XAI_EIO, "%s: write failed (disk full?)", path);
    return XAI_OK;
}

/* The writer's checks: the template's version, dimensions (d: x, y, z, t) and voxel sizes, and
   finite data; *nvox voxels, *maxabs the largest |value| (for cal_min/cal_max). */
static xai_status check_write(const char *path, const xai_nifti_info *like, int64_t nt, const float *data,
                              int64_t *d, uint64_t *nvox, double *maxabs)
{
    if (like->version != 1 && like->version != 2)
        return xai_error_set(XAI_EINVAL, "%s: template version %d (must be 1 or 2)", path,
                             like->version);
    const int64_t lim = like->version == 1 ? 32767 : INT64_MAX;
    d[0] = like->dim[1];
    d[1] = like->dim[0] >= 2 ? like->dim[2] : 1;
    d[2] = like->dim[0] >= 3 ? like->dim[3] : 1;
    d[3] = nt;
    *nvox = 1;
    for (int i = 0; i < 4; i++) {
        if (d[i] < 1 || d[i] > lim)
            return xai_error_set(XAI_EINVAL, "%s: dimension %d is %lld (must be 1..%lld)", path,
                                 i + 1, (long long)d[i], (long long)lim);
        if (*nvox > (uint64_t)(SIZE_MAX / 8) / (uint64_t)d[i])
            return xai_error_set(XAI_EINVAL, "%s: image too large", path);
        *nvox *= (uint64_t)d[i];
    }
    for (int i = 1; i <= 3; i++)
        if (!isfinite(like->pixdim[i]) || like->pixdim[i] == 0)
            if (i == 1 || like->dim[0] >= i)
                return xai_error_set(XAI_EINVAL, "%s: template voxel size pixdim[%d] = %g", path,
                                     i, like->pixdim[i]);
    double m = 0;
    for (size_t i = 0; i < (size_t)*nvox; i++) {
        if (!isfinite(data[i]))
            return xai_error_set(XAI_ENUMERIC, "%s: value %zu is %g (relevance maps must be "
                                 "finite; write 0 outside the mask)", path, i, (double)data[i]);
        double a = fabs((double)data[i]);
        if (a > m)
            m = a;
    }
    *maxabs = m;
    return XAI_OK;
}

/* The template's voxel sizes, qform and sform, and units. */
static void copy_geometry(nifti_image *nim, const xai_nifti_info *like)
{
    for (int i = 1; i < 8; i++)
        nim->pixdim[i] = like->pixdim[i];
    nim->dx = nim->pixdim[1];
    nim->dy = nim->pixdim[2];
    nim->dz = nim->pixdim[3];
    nim->dt = nim->pixdim[4];
    nim->du = nim->pixdim[5];
    nim->dv = nim->pixdim[6];
    nim->dw = nim->pixdim[7];
    nim->qform_code = like->qform_code;
    nim->quatern_b = like->quatern_b;
    nim->quatern_c = like->quatern_c;
    nim->quatern_d = like->quatern_d;
    nim->qoffset_x = like->qoffset_x;
    nim->qoffset_y = like->qoffset_y;
    nim->qoffset_z = like->qoffset_z;
    nim->qfac = like->qfac < 0 ? -1.0 : 1.0;
    nim->pixdim[0] = nim->qfac;
    nim->qto_xyz = nifti_quatern_to_dmat44(nim->quatern_b, nim->quatern_c, nim->quatern_d,
                                           nim->qoffset_x, nim->qoffset_y, nim->qoffset_z,
                                           nim->dx, nim->dy, nim->dz, nim->qfac);
    nim->qto_ijk = nifti_dmat44_inverse(nim->qto_xyz);
    nim->sform_code = like->sform_code;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            nim->sto_xyz.m[i][j] = like->sform[i][j];
    if (like->sform_code > 0)
        nim->sto_ijk = nifti_dmat44_inverse(nim->sto_xyz);
    nim->xyz_units = like->xyzt_units & 0x07;
    nim->time_units = like->xyzt_units & 0x38;
    nim->toffset = like->toffset;
}

/* A float32 LRP map's header on the template's geometry; NULL when nifti_clib cannot make one. */
static nifti_image *map_header(const xai_nifti_info *like, int ndim, const int64_t *d, int64_t nt, double m,
                               const char *descrip)
{
    int64_t dims[8] = {ndim, d[0], d[1], d[2], ndim == 4 ? nt : 1, 1, 1, 1};
    nifti_image *nim = nifti_make_new_nim(dims, DT_FLOAT32, 0);
    if (!nim)
        return NULL;
    /* nifti_make_new_nim() zeroes the sizes past dim[0]; write 1 there, as nibabel does */
    for (int i = ndim + 1; i < 8; i++)
        nim->dim[i] = 1;
    nim->nt = nim->dim[4];
    nim->nu = nim->nv = nim->nw = 1;
    copy_geometry(nim, like);
    nim->scl_slope = 1.0;
    nim->scl_inter = 0.0;
    nim->cal_min = -m;
    nim->cal_max = m;
    nim->intent_code = XAI_NIFTI_INTENT_LRP;
    nim->intent_p1 = nim->intent_p2 = nim->intent_p3 = 0;
    memset(nim->intent_name, 0, sizeof nim->intent_name);
    memcpy(nim->intent_name, "LRP", 3);
    set_descrip(nim->descrip, descrip);
    memset(nim->aux_file, 0, sizeof nim->aux_file);
    nim->nifti_type = like->version == 2 ? NIFTI_FTYPE_NIFTI2_1 : NIFTI_FTYPE_NIFTI1_1;
    nim->iname_offset = like->version == 2 ? NIFTI2_HDR + 4 : NIFTI1_HDR + 4;
    return nim;
}

/* Read the header just written back with nifti_clib and count the data bytes. */
static xai_status check_written(const char *tmp, const char *path, int ndim, uint64_t nvox)
{
    nifti_image *chk = nifti_image_read(tmp, 0);
    int ok = chk && chk->datatype == DT_FLOAT32 && (uint64_t)chk->nvox == nvox &&
             chk->dim[0] == ndim && chk->iname;
    if (ok) {
        int64_t need = chk->iname_offset + (int64_t)nvox * 4;
        ok = available_bytes(chk->iname, need) == need;
    }
    if (chk)
        nifti_image_free(chk);
    if (!ok)
        return xai_error_set(XAI_EDEP, "%s: the file just written does not read back complete",
                             path);
    return XAI_OK;
}

static xai_status write_impl(const char *path, const xai_nifti_info *like, int ndim, int64_t nt,
                             const float *data, const char *descrip)
{
    if (!path || !like || !data)
        return xai_error_set(XAI_EINVAL, "%s: NULL argument to the NIfTI writer",
                             path ? path : "(null)");
    const char *ext = nifti_ext(path);
    if (!ext)
        return xai_error_set(XAI_EINVAL, "%s: output name must end in .nii or .nii.gz", path);
    int64_t d[4] = {0};
    uint64_t nvox = 0;
    double m = 0;
    xai_status st = check_write(path, like, nt, data, d, &nvox, &m);
    if (st != XAI_OK)
        return st;
    /* the temp keeps the extension: nifti_clib reads the compression from it */
    char *tmp;
    int fd;
    st = xai_atomic_mkstemp(path, ext, &tmp, &fd);
    if (st != XAI_OK)
        return st;
    close(fd);
    quiet();
    nifti_image *nim = map_header(like, ndim, d, nt, m, descrip);
    if (!nim)
        st = xai_error_set(XAI_EDEP, "%s: nifti_clib could not make an image header", path);
    else if ((st = write_file(tmp, path, nim, like->version, data, (size_t)nvox, ext[4] == '.')) == XAI_OK)
        st = check_written(tmp, path, ndim, nvox);
    if (nim) {
        nim->data = NULL;
        nifti_image_free(nim);
    }
    return xai_atomic_finish(tmp, path, st);
}

xai_status xai_nifti_write_series(const char *path, const xai_nifti_info *like, int64_t nt,
                                  const float *data, const char *descrip)
{
    if (nt < 1)
        return xai_error_set(XAI_EINVAL, "%s: a series needs at least one volume (nt = %lld)",
                             path ? path : "(null)", (long long)nt);
    return write_impl(path, like, 4, nt, data, descrip);
}

xai_status xai_nifti_write_volume(const char *path, const xai_nifti_info *like,
                                  const float *data, const char *descrip)
{
    return write_impl(path, like, 3, 1, data, descrip);
}
