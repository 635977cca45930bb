/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gen_fmri.c - a small synthetic block-design fMRI study with a planted ground truth,
 * written as a BIDS raw dataset (NIfTI-1 .nii.gz BOLD runs, events.tsv, JSON sidecars) plus
 * the truth as a derivative (brain mask and one binary mask per class-specific ROI).
 *
 * Forward model per subject and run (seeded, deterministic; voxel v, volume t at t*TR):
 *   S(v,t) = B(v) * (1 + a * sum_c w_c(v) x_c(t) + a * w_s(v) (x_1(t) + x_2(t)) + drift(v,t))
 *            + noise(v,t)
 *   - B: a brain-shaped ellipsoid (intensity ~1000 with smooth "tissue" texture from random
 *     Gaussian blobs), ~30 outside (air);
 *   - x_c: the boxcar of condition c convolved with the SPM canonical double-gamma HRF
 *     (peak 6 s, undershoot 16 s, ratio 1/6), scaled so that a long block plateaus at 1;
 *   - w_c: the class-specific ROI of condition c, a sphere of radius --roi-radius voxels with
 *     a Gaussian profile exp(-d^2 / (2 (r/2)^2)) (the planted ground truth: voxels with d <= r);
 *   - w_s: a "shared" ROI of the same size that responds to both conditions (task vs rest). It
 *     carries no information about which condition is shown, so a good explanation of the
 *     class decision should not put its relevance there;
 *   - a: --amplitude (default 0.03, a 3 % signal change);
 *   - drift: per voxel, a random linear trend plus a half-cosine, each N(0, 0.01) of B;
 *   - noise: AR(1) (rho 0.3) Gaussian with standard deviation --noise * B in the brain
 *     (default 0.015) and 5 outside.
 * The ROI centres are drawn once per dataset (so subjects share a "template space"), then
 * jittered by up to one voxel per subject.
 * Design per run: 8 s rest, then blocks of 16 s of one condition followed by 8 s rest,
 * as many as fit, the two conditions balanced and shuffled (conditions "faces", "houses").
 *
 * Usage: gen_fmri [--seed S] [--subjects N] [--runs R] [--dims XxYxZ] [--volumes T]
 *                 [--tr S] [--amplitude A] [--noise N] [--roi-radius R] OUT_DIR
 * Writes OUT_DIR/{dataset_description.json, participants.tsv, task-blocks_bold.json},
 *   OUT_DIR/sub-XX/func/sub-XX_task-blocks_run-R_{bold.nii.gz,events.tsv},
 *   OUT_DIR/derivatives/truth/sub-XX/func/sub-XX_task-blocks_desc-{brain,faces,houses,shared}_mask.nii.gz
 * NIfTI-1 (DFWG 2004): int16 BOLD with scl_slope 1, uint8 masks; 3 mm voxels, qform and sform
 * both the scanner-anchored RAS affine diag(3,3,3) centred on the grid. BIDS 1.9 raw layout.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "xai/sidecar.h"
#include "xai/tsv.h"

#define PI 3.14159265358979323846
#define NCLASS 2
static const char *const class_names[NCLASS] = {"faces", "houses"};

/* deterministic random numbers: rng_state, rng_u64, rng_uniform, rng_normal */
#include "../gen-rng.h"

typedef struct {
    int nx, ny, nz, nt;
    double tr, amplitude, noise, radius, voxel;
    int subjects, runs;
    uint64_t seed;
    const char *out;
} params;

/* ---- NIfTI-1 single-file writer (348-byte header, 4-byte extension flag, voxels) ---- */
static void put16(unsigned char *h, int off, int v)
{
    int16_t s = (int16_t)v;
    memcpy(h + off, &s, 2);
}
static void put32i(unsigned char *h, int off, int32_t v) { memcpy(h + off, &v, 4); }
static void put32f(unsigned char *h, int off, double v)
{
    float f = (float)v;
    memcpy(h + off, &f, 4);
}

/* Write a gzip-compressed .nii.gz atomically. datatype 4 (int16) or 2 (uint8). */
static int write_nifti(const params *p, const char *path, int nt, int datatype, const void *data,
                       const char *descrip)
{
    unsigned char h[352];
    memset(h, 0, sizeof h);
    int bitpix = datatype == 4 ? 16 : 8;
    put32i(h, 0, 348);
    h[38] = 'r';
    put16(h, 40, nt > 1 ? 4 : 3);
    put16(h, 42, p->nx);
    put16(h, 44, p->ny);
    put16(h, 46, p->nz);
    put16(h, 48, nt);
    for (int i = 5; i < 8; i++)
        put16(h, 40 + 2 * i, 1);
    put16(h, 70, datatype);
    put16(h, 72, bitpix);
    put32f(h, 76, 1.0); /* qfac */
    put32f(h, 80, p->voxel);
    put32f(h, 84, p->voxel);
    put32f(h, 88, p->voxel);
    put32f(h, 92, nt > 1 ? p->tr : 0.0);
    put32f(h, 108, 352.0);          /* vox_offset */
    put32f(h, 112, 1.0);            /* scl_slope */
    h[123] = 2 | 8;                 /* mm, s */
    snprintf((char *)h + 148, 80, "%s", descrip);
    put16(h, 252, 1);               /* qform_code scanner */
    put16(h, 254, 1);               /* sform_code scanner */
    double ox = -0.5 * (p->nx - 1) * p->voxel, oy = -0.5 * (p->ny - 1) * p->voxel,
           oz = -0.5 * (p->nz - 1) * p->voxel;
    put32f(h, 268, ox);
    put32f(h, 272, oy);
    put32f(h, 276, oz);
    put32f(h, 280, p->voxel);
    put32f(h, 292, ox);
    put32f(h, 300, p->voxel);
    put32f(h, 308, oy);
    put32f(h, 320, p->voxel);
    put32f(h, 324, oz);
    memcpy(h + 344, "n+1", 4);

    size_t n = (size_t)p->nx * p->ny * p->nz * nt * (bitpix / 8);
    size_t len = strlen(path) + 16;
    char *tmp = malloc(len);
    if (!tmp)
        return -1;
    snprintf(tmp, len, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "gen_fmri: %s: %s\n", path, strerror(errno));
        free(tmp);
        return -1;
    }
    (void)fchmod(fd, 0644);
    gzFile gz = gzdopen(fd, "wb6");
    int ok = gz != NULL;
    if (ok)
        ok = gzwrite(gz, h, sizeof h) == (int)sizeof h;
    const unsigned char *d = data;
    for (size_t off = 0; ok && off < n;) {
        unsigned chunk = (unsigned)(n - off > (1u << 26) ? (1u << 26) : n - off);
        ok = gzwrite(gz, d + off, chunk) == (int)chunk;
        off += chunk;
    }
    if (gz && gzclose(gz) != Z_OK)
        ok = 0;
    if (!gz)
        close(fd);
    if (ok && rename(tmp, path) != 0)
        ok = 0;
    if (!ok) {
        fprintf(stderr, "gen_fmri: %s: cannot write\n", path);
        unlink(tmp);
    }
    free(tmp);
    return ok ? 0 : -1;
}

static int mkdirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *s = buf + 1; *s; s++) {
        if (*s == '/') {
            *s = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return -1;
            *s = '/';
        }
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "gen_fmri: %s: %s\n", buf, strerror(errno));
        return -1;
    }
    return 0;
}

/* SPM canonical HRF (double gamma: shape 6 and 16, undershoot ratio 1/6) at time t in s. */
static double hrf(double t)
{
    if (t <= 0)
        return 0;
    return pow(t, 5) * exp(-t) / 120.0 - pow(t, 15) * exp(-t) / (6.0 * 1307674368000.0);
}

/* Regressors x[c][t] of one run from the block onsets (s) and classes. */
static void regressors(const params *p, int nblocks, const double *onset, const int *cls,
                       double dur, double *x)
{
    const double dt = 0.1;
    double area = 0;
    for (double t = 0; t < 32; t += dt)
        area += hrf(t) * dt;
    for (int c = 0; c < NCLASS; c++)
        for (int t = 0; t < p->nt; t++) {
            double tt = t * p->tr, s = 0;
            for (int b = 0; b < nblocks; b++) {
                if (cls[b] != c)
                    continue;
                for (double u = onset[b]; u < onset[b] + dur; u += dt)
                    s += hrf(tt - u) * dt;
            }
            x[c * p->nt + t] = s / area;
        }
}

typedef struct {
    double c[3]; /* centre x, y, z in voxels */
} roi;

static double roi_weight(const params *p, const roi *r, int x, int y, int z, int *inside)
{
    double dx = x - r->c[0], dy = y - r->c[1], dz = z - r->c[2];
    double d2 = dx * dx + dy * dy + dz * dz;
    *inside = d2 <= p->radius * p->radius;
    double s = p->radius / 2;
    return *inside ? exp(-d2 / (2 * s * s)) : 0.0;
}

static int in_brain(const params *p, double x, double y, double z)
{
    double ax = 0.42 * p->nx, ay = 0.42 * p->ny, az = 0.42 * p->nz;
    double u = (x - 0.5 * (p->nx - 1)) / ax, v = (y - 0.5 * (p->ny - 1)) / ay,
           w = (z - 0.5 * (p->nz - 1)) / az;
    return u * u + v * v + w * w <= 1.0;
}

static int save_json(xai_sidecar *sc, const char *path)
{
    xai_status st = xai_sidecar_save(sc, path);
    xai_sidecar_free(sc);
    if (st != XAI_OK) {
        fprintf(stderr, "gen_fmri: %s: cannot write\n", path);
        return -1;
    }
    return 0;
}

static int write_top(const params *p)
{
    char path[4096];
    xai_sidecar *sc = NULL, *g = NULL;
    if (xai_sidecar_new(&sc) != XAI_OK)
        return -1;
    xai_sidecar_set_string(sc, "Name", "xai synthetic block-design fMRI with planted ROIs");
    xai_sidecar_set_string(sc, "BIDSVersion", "1.9.0");
    xai_sidecar_set_string(sc, "DatasetType", "raw");
    xai_sidecar_set_string(sc, "License", "CC0");
    char desc[512];
    snprintf(desc, sizeof desc,
             "gen_fmri --seed %llu --subjects %d --runs %d --dims %dx%dx%d --volumes %d --tr %g "
             "--amplitude %g --noise %g --roi-radius %g",
             (unsigned long long)p->seed, p->subjects, p->runs, p->nx, p->ny, p->nz, p->nt, p->tr,
             p->amplitude, p->noise, p->radius);
    xai_sidecar_set_string(sc, "GeneratedByCommand", desc);
    snprintf(path, sizeof path, "%s/dataset_description.json", p->out);
    if (save_json(sc, path))
        return -1;

    if (xai_sidecar_new(&sc) != XAI_OK)
        return -1;
    xai_sidecar_set_string(sc, "TaskName", "blocks");
    xai_sidecar_set_number(sc, "RepetitionTime", p->tr);
    xai_sidecar_set_string(sc, "TaskDescription",
                           "Synthetic: 16 s blocks of two conditions (faces, houses) with 8 s rest");
    snprintf(path, sizeof path, "%s/task-blocks_bold.json", p->out);
    if (save_json(sc, path))
        return -1;

    snprintf(path, sizeof path, "%s/derivatives/truth", p->out);
    if (mkdirs(path))
        return -1;
    if (xai_sidecar_new(&sc) != XAI_OK)
        return -1;
    xai_sidecar_set_string(sc, "Name", "planted ground truth of the synthetic dataset");
    xai_sidecar_set_string(sc, "BIDSVersion", "1.9.0");
    xai_sidecar_set_string(sc, "DatasetType", "derivative");
    if (xai_sidecar_append_object(sc, "GeneratedBy", &g) == XAI_OK) {
        xai_sidecar_set_string(g, "Name", "gen_fmri");
        xai_sidecar_set_string(g, "Description", desc);
        xai_sidecar_free(g);
    }
    xai_sidecar_set_number(sc, "Amplitude", p->amplitude);
    xai_sidecar_set_number(sc, "NoiseSD", p->noise);
    xai_sidecar_set_number(sc, "ROIRadiusVoxels", p->radius);
    snprintf(path, sizeof path, "%s/derivatives/truth/dataset_description.json", p->out);
    if (save_json(sc, path))
        return -1;

    const char *names[] = {"participant_id"};
    xai_tsv_type types[] = {XAI_TSV_STRING};
    xai_tsv *t = NULL;
    if (xai_tsv_create(1, names, types, &t) != XAI_OK)
        return -1;
    for (int s = 1; s <= p->subjects; s++) {
        size_t row;
        char id[32];
        snprintf(id, sizeof id, "sub-%02d", s);
        xai_tsv_add_row(t, &row);
        xai_tsv_set_string(t, row, 0, id);
    }
    snprintf(path, sizeof path, "%s/participants.tsv", p->out);
    xai_status st = xai_tsv_save(t, path, 0);
    xai_tsv_free(t);
    return st == XAI_OK ? 0 : -1;
}

static int write_events(const char *path, int nblocks, const double *onset, const int *cls,
                        double dur)
{
    const char *names[] = {"onset", "duration", "trial_type"};
    xai_tsv_type types[] = {XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_STRING};
    xai_tsv *t = NULL;
    if (xai_tsv_create(3, names, types, &t) != XAI_OK)
        return -1;
    for (int b = 0; b < nblocks; b++) {
        size_t row;
        xai_tsv_add_row(t, &row);
        xai_tsv_set_number(t, row, 0, onset[b]);
        xai_tsv_set_number(t, row, 1, dur);
        xai_tsv_set_string(t, row, 2, class_names[cls[b]]);
    }
    xai_status st = xai_tsv_save(t, path, 0);
    xai_tsv_free(t);
    if (st != XAI_OK)
        fprintf(stderr, "gen_fmri: %s: cannot write\n", path);
    return st == XAI_OK ? 0 : -1;
}

static int generate(const params *p)
{
    const size_t nv = (size_t)p->nx * p->ny * p->nz;
    const int nroi = NCLASS + 1; /* faces, houses, shared */
    roi base[NCLASS + 1];
    if (write_top(p))
        return -1;

    /* ROI centres, once per dataset: inside the brain, at least 3 radii apart */
    rng_state = p->seed * 0x2545F4914F6CDD1Dull + 1;
    for (int r = 0; r < nroi; r++) {
        for (int tries = 0;; tries++) {
            double c[3] = {0.2 * p->nx + 0.6 * p->nx * rng_uniform(), 0.2 * p->ny + 0.6 * p->ny * rng_uniform(),
                           0.25 * p->nz + 0.5 * p->nz * rng_uniform()};
            /* the whole sphere inside the brain: the centre and its six extreme points */
            int ok = in_brain(p, c[0], c[1], c[2]);
            for (int k = 0; ok && k < 6; k++) {
                double e[3] = {c[0], c[1], c[2]};
                e[k / 2] += (k % 2 ? -1 : 1) * (p->radius + 1);
                ok = in_brain(p, e[0], e[1], e[2]);
            }
            for (int q = 0; ok && q < r; q++) {
                double d = 0;
                for (int k = 0; k < 3; k++)
                    d += (c[k] - base[q].c[k]) * (c[k] - base[q].c[k]);
                ok = sqrt(d) >= 3 * p->radius;
            }
            if (ok || tries > 10000) {
                memcpy(base[r].c, c, sizeof c);
                break;
            }
        }
    }

    float *B = malloc(nv * sizeof *B), *w = malloc(nroi * nv * sizeof *w);
    float *drift1 = malloc(nv * sizeof(float)), *drift2 = malloc(nv * sizeof(float));
    float *ar = malloc(nv * sizeof(float));
    int16_t *bold = malloc(nv * p->nt * sizeof *bold);
    uint8_t *mask = malloc(nv);
    double *x = malloc(NCLASS * p->nt * sizeof *x);
    int rc = -1;
    if (!B || !w || !drift1 || !drift2 || !ar || !bold || !mask || !x) {
        fprintf(stderr, "gen_fmri: out of memory\n");
        goto out;
    }
    for (int s = 1; s <= p->subjects; s++) {
        rng_state = p->seed * 1000003ull + (uint64_t)s * 7919ull;
        roi rois[NCLASS + 1];
        for (int r = 0; r < nroi; r++)
            for (int k = 0; k < 3; k++)
                rois[r].c[k] = base[r].c[k] + (s > 1 ? floor(3 * rng_uniform()) - 1 : 0);
        /* anatomy: ellipsoid with a texture of 12 random blobs */
        double blob[12][4];
        for (int b = 0; b < 12; b++) {
            blob[b][0] = p->nx * rng_uniform();
            blob[b][1] = p->ny * rng_uniform();
            blob[b][2] = p->nz * rng_uniform();
            blob[b][3] = 0.3 * (rng_uniform() - 0.5);
        }
        size_t i = 0;
        for (int z = 0; z < p->nz; z++)
            for (int y = 0; y < p->ny; y++)
                for (int xx = 0; xx < p->nx; xx++, i++) {
                    mask[i] = (uint8_t)in_brain(p, xx, y, z);
                    double tex = 1.0;
                    for (int b = 0; b < 12; b++) {
                        double d2 = (xx - blob[b][0]) * (xx - blob[b][0]) + (y - blob[b][1]) * (y - blob[b][1]) +
                                    (z - blob[b][2]) * (z - blob[b][2]);
                        tex += blob[b][3] * exp(-d2 / 18.0);
                    }
                    B[i] = mask[i] ? (float)(1000.0 * tex) : 30.0f;
                    for (int r = 0; r < nroi; r++) {
                        int inside;
                        w[r * nv + i] = (float)roi_weight(p, &rois[r], xx, y, z, &inside);
                    }
                }
        char dir[4096], path[4200];
        snprintf(dir, sizeof dir, "%s/derivatives/truth/sub-%02d/func", p->out, s);
        if (mkdirs(dir))
            goto out;
        snprintf(path, sizeof path, "%s/sub-%02d_task-blocks_desc-brain_mask.nii.gz", dir, s);
        if (write_nifti(p, path, 1, 2, mask, "gen_fmri brain mask"))
            goto out;
        const char *roi_names[NCLASS + 1] = {class_names[0], class_names[1], "shared"};
        uint8_t *roimask = (uint8_t *)bold; /* scratch */
        for (int r = 0; r < nroi; r++) {
            i = 0;
            for (int z = 0; z < p->nz; z++)
                for (int y = 0; y < p->ny; y++)
                    for (int xx = 0; xx < p->nx; xx++, i++) {
                        int inside;
                        roi_weight(p, &rois[r], xx, y, z, &inside);
                        roimask[i] = (uint8_t)(inside && mask[i]);
                    }
            snprintf(path, sizeof path, "%s/sub-%02d_task-blocks_desc-%s_mask.nii.gz", dir, s, roi_names[r]);
            char d[80];
            snprintf(d, sizeof d, "gen_fmri ROI %s", roi_names[r]);
            if (write_nifti(p, path, 1, 2, roimask, d))
                goto out;
        }

        snprintf(dir, sizeof dir, "%s/sub-%02d/func", p->out, s);
        if (mkdirs(dir))
            goto out;
        for (int run = 1; run <= p->runs; run++) {
            /* design: 8 s rest, then 16 s blocks + 8 s rest, balanced shuffled classes */
            const double dur = 16.0, period = 24.0;
            int nblocks = (int)((p->nt * p->tr - 8.0) / period);
            if (nblocks < 2) {
                fprintf(stderr, "gen_fmri: the run is too short for two blocks (%d volumes of %g s)\n",
                        p->nt, p->tr);
                goto out;
            }
            double onset[64];
            int cls[64];
            if (nblocks > 64)
                nblocks = 64;
            for (int b = 0; b < nblocks; b++) {
                onset[b] = 8.0 + b * period;
                cls[b] = b % NCLASS;
            }
            for (int b = nblocks - 1; b > 0; b--) {
                int j = (int)(rng_uniform() * (b + 1));
                int tcls = cls[b];
                cls[b] = cls[j];
                cls[j] = tcls;
            }
            regressors(p, nblocks, onset, cls, dur, x);
            for (size_t v = 0; v < nv; v++) {
                drift1[v] = (float)(0.01 * rng_normal());
                drift2[v] = (float)(0.01 * rng_normal());
                ar[v] = 0;
            }
            for (int t = 0; t < p->nt; t++) {
                double tt = (double)t / (p->nt - 1);
                for (size_t v = 0; v < nv; v++) {
                    double act = 0;
                    for (int c = 0; c < NCLASS; c++)
                        act += w[c * nv + v] * x[c * p->nt + t] + w[NCLASS * nv + v] * x[c * p->nt + t];
                    double sig = B[v] * (1.0 + p->amplitude * act + drift1[v] * (tt - 0.5) +
                                         drift2[v] * cos(PI * tt));
                    double sd = mask[v] ? p->noise * B[v] : 5.0;
                    ar[v] = (float)(0.3 * ar[v] + sqrt(1 - 0.09) * rng_normal());
                    double val = sig + sd * ar[v];
                    if (val < 0)
                        val = 0;
                    if (val > 32767)
                        val = 32767;
                    bold[(size_t)t * nv + v] = (int16_t)lrint(val);
                }
            }
            snprintf(path, sizeof path, "%s/sub-%02d_task-blocks_run-%d_bold.nii.gz", dir, s, run);
            if (write_nifti(p, path, p->nt, 4, bold, "gen_fmri synthetic BOLD"))
                goto out;
            snprintf(path, sizeof path, "%s/sub-%02d_task-blocks_run-%d_events.tsv", dir, s, run);
            if (write_events(path, nblocks, onset, cls, dur))
                goto out;
        }
    }
    rc = 0;
out:
    free(B);
    free(w);
    free(drift1);
    free(drift2);
    free(ar);
    free(bold);
    free(mask);
    free(x);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: gen_fmri [OPTIONS] OUT_DIR\n"
            "Write a synthetic block-design fMRI BIDS dataset with planted class-specific ROIs.\n"
            "  --seed S         random seed [1]\n"
            "  --subjects N     subjects [1]\n"
            "  --runs R         runs per subject [2]\n"
            "  --dims XxYxZ     grid [24x28x20]\n"
            "  --volumes T      volumes per run [80]\n"
            "  --tr S           repetition time in seconds [2]\n"
            "  --amplitude A    signal change of the ROIs [0.03]\n"
            "  --noise N        noise SD relative to the baseline [0.015]\n"
            "  --roi-radius R   ROI radius in voxels [3]\n");
}

int main(int argc, char **argv)
{
    params p = {24, 28, 20, 80, 2.0, 0.03, 0.015, 3.0, 3.0, 1, 2, 1, NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int used = 1;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--seed") && v)
            p.seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--subjects") && v)
            p.subjects = atoi(v);
        else if (!strcmp(a, "--runs") && v)
            p.runs = atoi(v);
        else if (!strcmp(a, "--dims") && v) {
            if (sscanf(v, "%dx%dx%d", &p.nx, &p.ny, &p.nz) != 3) {
                fprintf(stderr, "gen_fmri: --dims wants XxYxZ, got '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--volumes") && v)
            p.nt = atoi(v);
        else if (!strcmp(a, "--tr") && v)
            p.tr = atof(v);
        else if (!strcmp(a, "--amplitude") && v)
            p.amplitude = atof(v);
        else if (!strcmp(a, "--noise") && v)
            p.noise = atof(v);
        else if (!strcmp(a, "--roi-radius") && v)
            p.radius = atof(v);
        else if (a[0] == '-') {
            fprintf(stderr, "gen_fmri: unknown option or missing value: %s\n", a);
            usage(stderr);
            return 2;
        } else {
            used = 0;
            p.out = a;
        }
        i += used;
    }
    if (!p.out || p.nx < 8 || p.ny < 8 || p.nz < 8 || p.nx > 512 || p.ny > 512 || p.nz > 512 || p.nt < 10 ||
        p.nt > 10000 || p.subjects < 1 || p.subjects > 99 || p.runs < 1 || p.runs > 99 || !(p.tr > 0) ||
        !(p.radius >= 1) || !(p.noise >= 0) || !(p.amplitude >= 0)) {
        fprintf(stderr, "gen_fmri: missing OUT_DIR or a value out of range\n");
        usage(stderr);
        return 2;
    }
    if (mkdirs(p.out))
        return 1;
    return generate(&p) ? 1 : 0;
}
