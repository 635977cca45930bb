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
 *                 [--tr S] [--amplitude A] [--noise N] [--roi-radius R] [--nuisance none|realistic]
 *                 [--voxel MM] [--orient ras|las|oblique] [--design block|event] [--block ON,OFF]
 *                 [--bilateral] [--motion F] [--drift F] [--intensity I] OUT_DIR
 * The last eight vary what an independent author of such data would choose differently (voxel
 * size, storage orientation, design, region layout, nuisance strength, scanner units), so that
 * the apps' defaults can be checked on data they were not tuned on; their defaults give the
 * original data.
 * --nuisance realistic adds run gains, scanner drift, physiological and smooth noise and motion
 * spikes, and moves the decoy ventral and the class ROIs dorsal (datasets/fmri/README.md).
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
#define GEN_NAME "gen_fmri"
#include "../gen-args.h"
#include "../gen-rng.h"

enum { ORIENT_RAS, ORIENT_LAS, ORIENT_OBLIQUE };

typedef struct {
    int nx, ny, nz, nt;
    double tr, amplitude, noise, radius, voxel;
    int subjects, runs, realistic;
    uint64_t seed;
    const char *out;
    /* variations an independent author might choose; the defaults give the original data */
    int orient, event_design, bilateral;
    double motion, drift, intensity, block_on, block_off;
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

/* qform and sform of the grid, centred on the scanner origin: RAS (diag(v, v, v)); LAS (the
   first axis runs right to left, as many scanners store it: quaternion a 180 degree turn about y
   with qfac -1); or oblique (RAS tilted 15 degrees about x, as an AC-PC aligned acquisition). */
static void put_affine(const params *p, unsigned char *h)
{
    double th = p->orient == ORIENT_OBLIQUE ? 15.0 * PI / 180.0 : 0.0;
    double R[3][3] = {{p->orient == ORIENT_LAS ? -1 : 1, 0, 0}, {0, cos(th), -sin(th)}, {0, sin(th), cos(th)}};
    double c[3] = {0.5 * (p->nx - 1), 0.5 * (p->ny - 1), 0.5 * (p->nz - 1)}, o[3];
    for (int i = 0; i < 3; i++)
        o[i] = -p->voxel * (R[i][0] * c[0] + R[i][1] * c[1] + R[i][2] * c[2]);
    if (p->orient == ORIENT_LAS)
        put32f(h, 260, 1.0); /* quatern_c */
    else if (p->orient == ORIENT_OBLIQUE)
        put32f(h, 256, sin(th / 2)); /* quatern_b */
    for (int i = 0; i < 3; i++) {
        put32f(h, 268 + 4 * i, o[i]);
        for (int j = 0; j < 3; j++)
            if (R[i][j] != 0)
                put32f(h, 280 + 16 * i + 4 * j, p->voxel * R[i][j]);
        put32f(h, 292 + 16 * i, o[i]);
    }
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
    put32f(h, 76, p->orient == ORIENT_LAS ? -1.0 : 1.0); /* qfac */
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
    put_affine(p, h);
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

static double roi_weight_at(const params *p, const double c[3], int x, int y, int z, int *inside)
{
    double dx = x - c[0], dy = y - c[1], dz = z - c[2];
    double d2 = dx * dx + dy * dy + dz * dz;
    *inside = d2 <= p->radius * p->radius;
    double s = p->radius / 2;
    return *inside ? exp(-d2 / (2 * s * s)) : 0.0;
}

/* ROI r's weight at a voxel; with --bilateral the class ROIs (not the decoy) have a twin mirrored
   across the midsagittal plane that responds in the same way */
static double roi_weight(const params *p, const roi *r, int is_class, int x, int y, int z, int *inside)
{
    double w = roi_weight_at(p, r->c, x, y, z, inside);
    if (p->bilateral && is_class) {
        int in2;
        double m[3] = {(p->nx - 1) - r->c[0], r->c[1], r->c[2]};
        double w2 = roi_weight_at(p, m, x, y, z, &in2);
        *inside |= in2;
        w = w2 > w ? w2 : w;
    }
    return w;
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

/* the non-default variation options, for the dataset's GeneratedByCommand */
static void describe_variations(const params *p, char *d, size_t n)
{
    static const char *const orient[] = {"ras", "las", "oblique"};
    size_t k = 0;
#define ADD(...) k += (size_t)snprintf(d + k, k < n ? n - k : 0, __VA_ARGS__)
    if (p->voxel != 3.0)
        ADD(" --voxel %g", p->voxel);
    if (p->orient != ORIENT_RAS)
        ADD(" --orient %s", orient[p->orient]);
    if (p->event_design)
        ADD(" --design event");
    if (p->block_on != 16.0 || p->block_off != 8.0)
        ADD(" --block %g,%g", p->block_on, p->block_off);
    if (p->bilateral)
        ADD(" --bilateral");
    if (p->motion != 1.0)
        ADD(" --motion %g", p->motion);
    if (p->drift != 1.0)
        ADD(" --drift %g", p->drift);
    if (p->intensity != 1000.0)
        ADD(" --intensity %g", p->intensity);
#undef ADD
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
    char desc[1024];
    snprintf(desc, sizeof desc,
             "gen_fmri --seed %llu --subjects %d --runs %d --dims %dx%dx%d --volumes %d --tr %g "
             "--amplitude %g --noise %g --roi-radius %g",
             (unsigned long long)p->seed, p->subjects, p->runs, p->nx, p->ny, p->nz, p->nt, p->tr,
             p->amplitude, p->noise, p->radius);
    if (p->realistic)
        snprintf(desc + strlen(desc), sizeof desc - strlen(desc), " --nuisance realistic");
    describe_variations(p, desc + strlen(desc), sizeof desc - strlen(desc));
    xai_sidecar_set_string(sc, "GeneratedByCommand", desc);
    snprintf(path, sizeof path, "%s/dataset_description.json", p->out);
    if (save_json(sc, path))
        return -1;

    if (xai_sidecar_new(&sc) != XAI_OK)
        return -1;
    xai_sidecar_set_string(sc, "TaskName", "blocks");
    xai_sidecar_set_number(sc, "RepetitionTime", p->tr);
    char task[160];
    if (p->event_design)
        snprintf(task, sizeof task, "Synthetic: 2 s trials of two conditions (faces, houses), onset asynchrony 6-10 s");
    else
        snprintf(task, sizeof task, "Synthetic: %g s blocks of two conditions (faces, houses) with %g s rest",
                 p->block_on, p->block_off);
    xai_sidecar_set_string(sc, "TaskDescription", task);
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

/* ---- realistic mode: the nuisances of real scanners and subjects ---- */

/* Where the realistic mode puts the ROIs: the decoy ("shared", both conditions) first tried at a
   ventral-lateral posterior spot, where a textbook would look for a category-selective fusiform
   area; the class ROIs in the dorsal half, away from it. c holds a random draw on entry. */
static void realistic_centre(const params *p, int r, int tries, double c[3])
{
    double cz = 0.5 * (p->nz - 1);
    if (r == NCLASS && tries < 50) {
        c[0] = 0.5 * (p->nx - 1) + 0.42 * p->nx * (0.45 + 0.002 * tries);
        c[1] = 0.5 * (p->ny - 1) - 0.42 * p->ny * 0.3;
        c[2] = cz - 0.42 * p->nz * (0.35 - 0.005 * tries);
    } else if (r < NCLASS && c[2] < cz)
        c[2] = 2 * cz - c[2]; /* mirror into the dorsal half */
}

#define MAXSPIKE 32
typedef struct {
    double gain, drift[2];           /* global intensity of the run, global linear and cosine drift */
    double fcard, fresp, ph[2];      /* cardiac and respiratory rates (Hz), phases */
    int nspike, vol[MAXSPIKE], axis[MAXSPIKE], dir[MAXSPIKE];
    double jump[MAXSPIKE];           /* head-motion spikes: volume, shift axis and sign, intensity */
} run_nuisance;

static void draw_run_nuisance(const params *p, run_nuisance *n)
{
    n->gain = exp(0.1 * rng_normal());
    n->drift[0] = 0.03 * p->drift * rng_normal();
    n->drift[1] = 0.02 * p->drift * rng_normal();
    n->fcard = 0.9 + 0.4 * rng_uniform();
    n->fresp = 0.2 + 0.15 * rng_uniform();
    n->ph[0] = 2 * PI * rng_uniform();
    n->ph[1] = 2 * PI * rng_uniform();
    /* --motion F: F times as many spikes, each F times the intensity jump */
    n->nspike = (int)lrint(p->motion * (1 + (int)(rng_u64() % 3)));
    if (n->nspike > MAXSPIKE)
        n->nspike = MAXSPIKE;
    for (int k = 0; k < n->nspike; k++) {
        n->vol[k] = 2 + (int)(rng_u64() % (uint64_t)(p->nt - 4));
        n->axis[k] = (int)(rng_u64() % 3);
        n->dir[k] = rng_uniform() < 0.5 ? -1 : 1;
        n->jump[k] = 1 + p->motion * 0.04 * (rng_uniform() < 0.5 ? -1 : 1) * (0.5 + rng_uniform());
    }
}

/* physiological noise weight: strongest near the centre (ventricles, large vessels) */
static double physio_weight(const params *p, int x, int y, int z)
{
    double dx = (x - 0.5 * (p->nx - 1)) / (0.2 * p->nx), dy = (y - 0.5 * (p->ny - 1)) / (0.2 * p->ny),
           dz = (z - 0.5 * (p->nz - 1)) / (0.2 * p->nz);
    return 0.3 + exp(-0.5 * (dx * dx + dy * dy + dz * dz));
}

/* spatially smooth unit-variance noise: white noise blurred by a 5-tap binomial filter along each
   axis (FWHM about 2.4 voxels), then rescaled */
static void smooth_noise(const params *p, float *f, float *tmp)
{
    const size_t nv = (size_t)p->nx * p->ny * p->nz;
    const size_t stride[3] = {1, (size_t)p->nx, (size_t)p->nx * p->ny};
    const int len[3] = {p->nx, p->ny, p->nz};
    static const double k[5] = {1 / 16.0, 4 / 16.0, 6 / 16.0, 4 / 16.0, 1 / 16.0};
    for (size_t v = 0; v < nv; v++)
        f[v] = (float)rng_normal();
    for (int a = 0; a < 3; a++) {
        for (size_t v = 0; v < nv; v++) {
            int pos = (int)((v / stride[a]) % (size_t)len[a]);
            double s = 0;
            for (int q = -2; q <= 2; q++) {
                int pq = pos + q < 0 ? -(pos + q) : pos + q >= len[a] ? 2 * len[a] - 2 - (pos + q) : pos + q;
                s += k[q + 2] * f[v + (size_t)((long)(pq - pos) * (long)stride[a])];
            }
            tmp[v] = (float)s;
        }
        memcpy(f, tmp, nv * sizeof *f);
    }
    double ss = 0;
    for (size_t v = 0; v < nv; v++)
        ss += (double)f[v] * f[v];
    float sc = (float)(1.0 / sqrt(ss / (double)nv + 1e-30));
    for (size_t v = 0; v < nv; v++)
        f[v] *= sc;
}

/* a head-motion spike: volume t shifted by one voxel along an axis (edge repeated) and scaled */
static void motion_spike(const params *p, int16_t *vol, int16_t *tmp, int axis, int dir, double jump)
{
    const size_t nv = (size_t)p->nx * p->ny * p->nz;
    const size_t stride[3] = {1, (size_t)p->nx, (size_t)p->nx * p->ny};
    const int len[3] = {p->nx, p->ny, p->nz};
    for (size_t v = 0; v < nv; v++) {
        int pos = (int)((v / stride[axis]) % (size_t)len[axis]), src = pos - dir;
        src = src < 0 ? 0 : src >= len[axis] ? len[axis] - 1 : src;
        double val = jump * vol[v + (size_t)((long)(src - pos) * (long)stride[axis])];
        tmp[v] = (int16_t)(val > 32767 ? 32767 : lrint(val));
    }
    memcpy(vol, tmp, nv * sizeof *vol);
}

/* derivatives/truth/truth.tsv (realistic mode): the ROI centres per subject and each run's
   nuisances; written to a temporary name and renamed when complete */
static FILE *open_truth(const params *p)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/derivatives/truth/truth.tsv.tmp", p->out);
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "gen_fmri: %s: %s\n", path, strerror(errno));
    else
        fprintf(f, "kind\tsubject\trun\tname\tvalue\tdetail\n");
    return f;
}

static int close_truth(const params *p, FILE *f)
{
    char tmp[4200], path[4200];
    snprintf(tmp, sizeof tmp, "%s/derivatives/truth/truth.tsv.tmp", p->out);
    snprintf(path, sizeof path, "%s/derivatives/truth/truth.tsv", p->out);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "gen_fmri: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int log_run(FILE *f, int s, int run, const run_nuisance *n)
{
    fprintf(f, "run\tsub-%02d\t%d\tgain,drift_linear,drift_cosine\t%.4f,%.4f,%.4f\t-\n", s, run, n->gain,
            n->drift[0], n->drift[1]);
    fprintf(f, "physio\tsub-%02d\t%d\tcardiac_hz,respiratory_hz\t%.3f,%.3f\taliased at the TR\n", s, run,
            n->fcard, n->fresp);
    for (int k = 0; k < n->nspike; k++)
        fprintf(f, "motion\tsub-%02d\t%d\tvolume\t%d\tshift %c%c1 voxel, intensity x%.3f\n", s, run, n->vol[k],
                n->dir[k] > 0 ? '+' : '-', "xyz"[n->axis[k]], n->jump[k]);
    return ferror(f) ? -1 : 0;
}

/* the buffers of one subject's runs */
typedef struct {
    const float *B, *w, *pw;
    const uint8_t *mask;
    const double *x;
    float *drift1, *drift2, *ar, *sm, *smtmp;
    int16_t *bold, *tmp16;
} run_buffers;

/* the volumes of one run into rb->bold: baseline, activation, drift, noise and, in the realistic
   mode, the run's nuisances */
static void synth_volumes(const params *p, const run_buffers *rb, const run_nuisance *rn)
{
    const size_t nv = (size_t)p->nx * p->ny * p->nz;
    for (int t = 0; t < p->nt; t++) {
        double tt = (double)t / (p->nt - 1), ts = t * p->tr;
        double glob = rn->gain * (1 + rn->drift[0] * (tt - 0.5) + rn->drift[1] * cos(PI * tt));
        double phys = 0.006 * sin(2 * PI * rn->fcard * ts + rn->ph[0]) +
                      0.008 * sin(2 * PI * rn->fresp * ts + rn->ph[1]);
        if (p->realistic)
            smooth_noise(p, rb->sm, rb->smtmp);
        for (size_t v = 0; v < nv; v++) {
            double act = 0;
            for (int c = 0; c < NCLASS; c++)
                act += rb->w[c * nv + v] * rb->x[c * p->nt + t] + rb->w[NCLASS * nv + v] * rb->x[c * p->nt + t];
            double sig = rb->B[v] * (1.0 + p->amplitude * act + rb->drift1[v] * (tt - 0.5) +
                                     rb->drift2[v] * cos(PI * tt));
            if (p->realistic)
                sig = glob * sig + (rb->mask[v] ? rb->B[v] * (phys * rb->pw[v] + 0.008 * rb->sm[v]) : 0);
            double sd = rb->mask[v] ? p->noise * rb->B[v] : 5.0;
            rb->ar[v] = (float)(0.3 * rb->ar[v] + sqrt(1 - 0.09) * rng_normal());
            double val = sig + sd * rb->ar[v];
            if (val < 0)
                val = 0;
            if (val > 32767)
                val = 32767;
            rb->bold[(size_t)t * nv + v] = (int16_t)lrint(val);
        }
        for (int k = 0; k < rn->nspike; k++)
            if (rn->vol[k] == t)
                motion_spike(p, rb->bold + (size_t)t * nv, rb->tmp16, rn->axis[k], rn->dir[k], rn->jump[k]);
    }
}

#define MAXTRIAL 256
/* Onsets of one run, returns their number. Blocked (default): 8 s rest, then blocks of
   block_on s each followed by block_off s of rest, as many as fit (at most 64). Event-related
   (--design event): 2 s trials from 8 s on, stimulus onset asynchrony jittered uniformly in
   6-10 s, ending 12 s before the run does so the last response is recorded. */
static int design(const params *p, double *onset, double *dur)
{
    const double len = p->nt * p->tr;
    int n = 0;
    if (!p->event_design) {
        const double period = p->block_on + p->block_off;
        *dur = p->block_on;
        n = (int)((len - 8.0) / period);
        if (n > 64)
            n = 64;
        for (int b = 0; b < n; b++)
            onset[b] = 8.0 + b * period;
        return n;
    }
    *dur = 2.0;
    for (double t = 8.0; t + 12.0 <= len && n < MAXTRIAL; t += 6.0 + 4.0 * rng_uniform())
        onset[n++] = t;
    return n;
}

/* Whether @p c can hold ROI number @p ri of the placement order: the whole sphere inside the brain
   (the centre and its six extreme points) and at least 3 radii from the ROIs placed before it */
static int roi_fits(const params *p, const roi *base, int ri, const double c[3])
{
    const int nroi = NCLASS + 1;
    int ok = in_brain(p, c[0], c[1], c[2]);
    for (int k = 0; ok && k < 6; k++) {
        double e[3] = {c[0], c[1], c[2]};
        e[k / 2] += (k % 2 ? -1 : 1) * (p->radius + 1);
        ok = in_brain(p, e[0], e[1], e[2]);
    }
    for (int qi = 0; ok && qi < ri; qi++) {
        int q = p->realistic ? (qi + NCLASS) % nroi : qi;
        double d = 0;
        for (int k = 0; k < 3; k++)
            d += (c[k] - base[q].c[k]) * (c[k] - base[q].c[k]);
        ok = sqrt(d) >= 3 * p->radius;
    }
    return ok;
}

/* ROI centres, once per dataset, so every subject shares the planted truth up to a jitter */
static void place_rois(const params *p, roi *base)
{
    const int nroi = NCLASS + 1;
    rng_state = p->seed * 0x2545F4914F6CDD1Dull + 1;
    for (int ri = 0; ri < nroi; ri++) {
        /* the realistic mode places the decoy first, at its fixed spot */
        int r = p->realistic ? (ri + NCLASS) % nroi : ri;
        for (int tries = 0;; tries++) {
            double c[3] = {0.2 * p->nx + 0.6 * p->nx * rng_uniform(), 0.2 * p->ny + 0.6 * p->ny * rng_uniform(),
                           0.25 * p->nz + 0.5 * p->nz * rng_uniform()};
            if (p->realistic && tries < 5000)
                realistic_centre(p, r, tries, c);
            if (roi_fits(p, base, ri, c) || tries > 10000) {
                memcpy(base[r].c, c, sizeof c);
                break;
            }
        }
    }
}

/* every buffer of the dataset, reused by each subject and run */
typedef struct {
    float *B, *w, *pw, *drift1, *drift2, *ar, *sm, *smtmp;
    int16_t *bold, *tmp16;
    uint8_t *mask;
    double *x;
} fmri_buffers;

static int alloc_buffers(const params *p, fmri_buffers *b)
{
    const size_t nv = (size_t)p->nx * p->ny * p->nz;
    const int nroi = NCLASS + 1;
    b->B = malloc(nv * sizeof *b->B);
    b->w = malloc(nroi * nv * sizeof *b->w);
    b->drift1 = malloc(nv * sizeof(float));
    b->drift2 = malloc(nv * sizeof(float));
    b->ar = malloc(nv * sizeof(float));
    b->bold = malloc(nv * p->nt * sizeof *b->bold);
    b->mask = malloc(nv);
    b->x = malloc(NCLASS * p->nt * sizeof *b->x);
    b->sm = malloc(nv * sizeof *b->sm);
    b->smtmp = malloc(nv * sizeof *b->smtmp);
    b->pw = malloc(nv * sizeof *b->pw);
    b->tmp16 = malloc(nv * sizeof *b->tmp16);
    return b->B && b->w && b->drift1 && b->drift2 && b->ar && b->bold && b->mask && b->x && b->sm &&
                   b->smtmp && b->pw && b->tmp16
               ? 0
               : -1;
}

static void free_buffers(fmri_buffers *b)
{
    free(b->sm);
    free(b->smtmp);
    free(b->pw);
    free(b->tmp16);
    free(b->B);
    free(b->w);
    free(b->drift1);
    free(b->drift2);
    free(b->ar);
    free(b->bold);
    free(b->mask);
    free(b->x);
}

/* One subject's anatomy: an ellipsoid brain whose intensity has a texture of 12 random blobs,
   its physiological-noise weights and the ROI weights */
static void draw_anatomy(const params *p, const roi *rois, fmri_buffers *b)
{
    const size_t nv = (size_t)p->nx * p->ny * p->nz;
    double blob[12][4];
    for (int k = 0; k < 12; k++) {
        blob[k][0] = p->nx * rng_uniform();
        blob[k][1] = p->ny * rng_uniform();
        blob[k][2] = p->nz * rng_uniform();
        blob[k][3] = 0.3 * (rng_uniform() - 0.5);
    }
    size_t i = 0;
    for (int z = 0; z < p->nz; z++)
        for (int y = 0; y < p->ny; y++)
            for (int xx = 0; xx < p->nx; xx++, i++) {
                b->mask[i] = (uint8_t)in_brain(p, xx, y, z);
                double tex = 1.0;
                for (int k = 0; k < 12; k++) {
                    double d2 = (xx - blob[k][0]) * (xx - blob[k][0]) + (y - blob[k][1]) * (y - blob[k][1]) +
                                (z - blob[k][2]) * (z - blob[k][2]);
                    tex += blob[k][3] * exp(-d2 / 18.0);
                }
                b->B[i] = b->mask[i] ? (float)(p->intensity * tex) : (float)(0.03 * p->intensity);
                b->pw[i] = (float)physio_weight(p, xx, y, z);
                for (int r = 0; r < NCLASS + 1; r++) {
                    int inside;
                    b->w[r * nv + i] = (float)roi_weight(p, &rois[r], r < NCLASS, xx, y, z, &inside);
                }
            }
}

/* derivatives/truth/sub-S/func: the brain mask and one mask per ROI (inside the brain) */
static int write_truth_masks(const params *p, int s, const roi *rois, const fmri_buffers *b)
{
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/derivatives/truth/sub-%02d/func", p->out, s);
    if (mkdirs(dir))
        return -1;
    snprintf(path, sizeof path, "%s/sub-%02d_task-blocks_desc-brain_mask.nii.gz", dir, s);
    if (write_nifti(p, path, 1, 2, b->mask, "gen_fmri brain mask"))
        return -1;
    const char *roi_names[NCLASS + 1] = {class_names[0], class_names[1], "shared"};
    uint8_t *roimask = (uint8_t *)b->bold; /* scratch */
    for (int r = 0; r < NCLASS + 1; r++) {
        size_t i = 0;
        for (int z = 0; z < p->nz; z++)
            for (int y = 0; y < p->ny; y++)
                for (int xx = 0; xx < p->nx; xx++, i++) {
                    int inside;
                    roi_weight(p, &rois[r], r < NCLASS, xx, y, z, &inside);
                    roimask[i] = (uint8_t)(inside && b->mask[i]);
                }
        snprintf(path, sizeof path, "%s/sub-%02d_task-blocks_desc-%s_mask.nii.gz", dir, s, roi_names[r]);
        char d[80];
        snprintf(d, sizeof d, "gen_fmri ROI %s", roi_names[r]);
        if (write_nifti(p, path, 1, 2, roimask, d))
            return -1;
    }
    return 0;
}

/* One run of subject s into @p dir: a shuffled class order, its regressors, per-voxel drifts,
   the volumes and the events */
static int write_run(const params *p, fmri_buffers *b, const char *dir, int s, int run, FILE *truth)
{
    const size_t nv = (size_t)p->nx * p->ny * p->nz;
    double onset[MAXTRIAL], dur;
    int cls[MAXTRIAL];
    int nblocks = design(p, onset, &dur);
    if (nblocks < 2) {
        fprintf(stderr, "gen_fmri: the run is too short for two blocks (%d volumes of %g s)\n", p->nt, p->tr);
        return -1;
    }
    for (int k = 0; k < nblocks; k++)
        cls[k] = k % NCLASS;
    for (int k = nblocks - 1; k > 0; k--) {
        int j = (int)(rng_uniform() * (k + 1));
        int tcls = cls[k];
        cls[k] = cls[j];
        cls[j] = tcls;
    }
    regressors(p, nblocks, onset, cls, dur, b->x);
    for (size_t v = 0; v < nv; v++) {
        b->drift1[v] = (float)(0.01 * p->drift * rng_normal());
        b->drift2[v] = (float)(0.01 * p->drift * rng_normal());
        b->ar[v] = 0;
    }
    run_nuisance rn = {.gain = 1};
    if (p->realistic) {
        draw_run_nuisance(p, &rn);
        if (log_run(truth, s, run, &rn))
            return -1;
    }
    const run_buffers rb = {b->B, b->w, b->pw, b->mask, b->x, b->drift1, b->drift2, b->ar,
                            b->sm, b->smtmp, b->bold, b->tmp16};
    synth_volumes(p, &rb, &rn);
    char path[4200];
    snprintf(path, sizeof path, "%s/sub-%02d_task-blocks_run-%d_bold.nii.gz", dir, s, run);
    if (write_nifti(p, path, p->nt, 4, b->bold, "gen_fmri synthetic BOLD"))
        return -1;
    snprintf(path, sizeof path, "%s/sub-%02d_task-blocks_run-%d_events.tsv", dir, s, run);
    return write_events(path, nblocks, onset, cls, dur) ? -1 : 0;
}

/* Subject s: ROIs jittered by up to a voxel from the dataset's (none for the first subject),
   anatomy, truth masks and runs */
static int write_subject(const params *p, int s, const roi *base, fmri_buffers *b, FILE *truth)
{
    rng_state = p->seed * 1000003ull + (uint64_t)s * 7919ull;
    roi rois[NCLASS + 1];
    for (int r = 0; r < NCLASS + 1; r++)
        for (int k = 0; k < 3; k++)
            rois[r].c[k] = base[r].c[k] + (s > 1 ? floor(3 * rng_uniform()) - 1 : 0);
    draw_anatomy(p, rois, b);
    if (p->realistic)
        for (int r = 0; r < NCLASS + 1; r++)
            fprintf(truth, "roi\tsub-%02d\t-\t%s\t%g,%g,%g\t%g\n", s, r < NCLASS ? class_names[r] : "shared",
                    rois[r].c[0], rois[r].c[1], rois[r].c[2], p->radius);
    if (write_truth_masks(p, s, rois, b))
        return -1;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/sub-%02d/func", p->out, s);
    if (mkdirs(dir))
        return -1;
    for (int run = 1; run <= p->runs; run++)
        if (write_run(p, b, dir, s, run, truth))
            return -1;
    return 0;
}

static int generate(const params *p)
{
    roi base[NCLASS + 1];
    if (write_top(p))
        return -1;
    place_rois(p, base);
    fmri_buffers b = {0};
    int bad_alloc = alloc_buffers(p, &b);
    FILE *truth = NULL;
    int rc = -1;
    if (p->realistic && !(truth = open_truth(p)))
        goto out;
    if (bad_alloc) {
        fprintf(stderr, "gen_fmri: out of memory\n");
        goto out;
    }
    for (int s = 1; s <= p->subjects; s++)
        if (write_subject(p, s, base, &b, truth))
            goto out;
    rc = p->realistic ? close_truth(p, truth) : 0;
    truth = NULL;
out:
    if (truth)
        fclose(truth);
    free_buffers(&b);
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
            "  --roi-radius R   ROI radius in voxels [3]\n"
            "  --nuisance M     none (default) or realistic: run gains, scanner drift, physiological\n"
            "                   noise, smooth noise, head-motion spikes, a ventral decoy ROI and\n"
            "                   dorsal class ROIs; derivatives/truth/truth.tsv lists them\n"
            "  --voxel MM       isotropic voxel size in mm [3]\n"
            "  --orient O       ras [default], las (x stored right to left) or oblique (RAS tilted\n"
            "                   15 degrees about x)\n"
            "  --design D       block [default] or event (2 s trials, onset asynchrony 6-10 s)\n"
            "  --block ON,OFF   block and rest durations in s [16,8]\n"
            "  --bilateral      each class ROI has a mirrored twin in the other hemisphere\n"
            "  --motion F       realistic mode: F times the head-motion spikes and their intensity jump [1]\n"
            "  --drift F        F times the per-voxel (and realistic scanner) drift [1]\n"
            "  --intensity I    mean brain intensity in scanner units [1000]\n"
            "Ranges: --subjects and --runs 1..99, --dims 8..512 each, --volumes 10..10000, --tr (0, 10],\n"
            "--amplitude and --noise 0..1, --roi-radius 1..64, --voxel (0, 20], --motion and --drift 0..10,\n"
            "--intensity 10..20000, --block ON 1..600 and OFF 0..600; the run must hold two blocks.\n"
            "A bad or missing value exits with 2 before anything is written.\n");
}

/* A numeric option @p a with its value @p v (NULL: missing): 1 when taken, 0 when @p a is none of
   them, -1 when the value is refused (message printed) */
static int numeric_option(params *p, const char *a, const char *v)
{
    double t[3];
    int rc = 0;
    if (!strcmp(a, "--seed")) rc = gen_arg_seed(a, v, &p->seed);
    else if (!strcmp(a, "--subjects")) rc = gen_arg_int(a, v, 1, 99, &p->subjects);
    else if (!strcmp(a, "--runs")) rc = gen_arg_int(a, v, 1, 99, &p->runs);
    else if (!strcmp(a, "--volumes")) rc = gen_arg_int(a, v, 10, 10000, &p->nt);
    else if (!strcmp(a, "--tr")) rc = gen_arg_real(a, v, 0, 10, GEN_OPEN_LO, &p->tr);
    else if (!strcmp(a, "--amplitude")) rc = gen_arg_real(a, v, 0, 1, 0, &p->amplitude);
    else if (!strcmp(a, "--noise")) rc = gen_arg_real(a, v, 0, 1, 0, &p->noise);
    else if (!strcmp(a, "--roi-radius")) rc = gen_arg_real(a, v, 1, 64, 0, &p->radius);
    else if (!strcmp(a, "--voxel")) rc = gen_arg_real(a, v, 0, 20, GEN_OPEN_LO, &p->voxel);
    else if (!strcmp(a, "--motion")) rc = gen_arg_real(a, v, 0, 10, 0, &p->motion);
    else if (!strcmp(a, "--drift")) rc = gen_arg_real(a, v, 0, 10, 0, &p->drift);
    else if (!strcmp(a, "--intensity")) rc = gen_arg_real(a, v, 10, 20000, 0, &p->intensity);
    else if (!strcmp(a, "--dims")) {
        if ((rc = gen_arg_tuple(a, v, 'x', 3, 8, 512, 1, t)) == 0)
            p->nx = (int)t[0], p->ny = (int)t[1], p->nz = (int)t[2];
    } else if (!strcmp(a, "--block")) {
        if ((rc = gen_arg_tuple(a, v, ',', 2, 0, 600, 0, t)) == 0 && t[0] < 1)
            rc = gen_arg_invalid(a, v, "ON of at least 1 s");
        if (rc == 0)
            p->block_on = t[0], p->block_off = t[1];
    } else
        return 0;
    return rc ? -1 : 1;
}

/* The other options and OUT_DIR: 1 when taken (*i past a value), 0 when @p a is none of them or
   its value is wrong or missing (message printed) */
static int other_option(params *p, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (!strcmp(a, "--bilateral"))
        return p->bilateral = 1;
    if (a[0] != '-') {
        p->out = a;
        return 1;
    }
    if (!strcmp(a, "--nuisance") && v && (!strcmp(v, "none") || !strcmp(v, "realistic")))
        p->realistic = !strcmp(v, "realistic");
    else if (!strcmp(a, "--orient") && v && (!strcmp(v, "ras") || !strcmp(v, "las") || !strcmp(v, "oblique")))
        p->orient = !strcmp(v, "ras") ? ORIENT_RAS : !strcmp(v, "las") ? ORIENT_LAS : ORIENT_OBLIQUE;
    else if (!strcmp(a, "--design") && v && (!strcmp(v, "block") || !strcmp(v, "event")))
        p->event_design = !strcmp(v, "event");
    else {
        if (!strcmp(a, "--nuisance") || !strcmp(a, "--orient") || !strcmp(a, "--design"))
            gen_arg_invalid(a, v, !strcmp(a, "--nuisance") ? "none or realistic"
                                  : !strcmp(a, "--orient") ? "ras, las or oblique" : "block or event");
        else
            fprintf(stderr, "gen_fmri: unknown option %s\n", a), usage(stderr);
        return 0;
    }
    ++*i;
    return 1;
}

/* 0 when a run of --volumes x --tr seconds holds two blocks or trials (write_run needs them), else
   -1 (message printed); event trials come from 8 s on, 6 s apart at the least, the last 12 s
   before the end */
static int check_run_length(const params *p)
{
    const double len = p->nt * p->tr, period = p->block_on + p->block_off;
    const double need = p->event_design ? 26.0 : 8.0 + 2 * period;
    if (p->event_design ? len >= need : (int)((len - 8.0) / period) >= 2)
        return 0;
    fprintf(stderr, "gen_fmri: --volumes %d of --tr %g s: a run of %g s is too short for two %s (expected at least "
                    "%g s)\n", p->nt, p->tr, len, p->event_design ? "trials" : "blocks", need);
    return -1;
}

int main(int argc, char **argv)
{
    params p = {24, 28, 20, 80, 2.0, 0.03, 0.015, 3.0, 3.0, 1, 2, 0, 1, NULL, ORIENT_RAS, 0, 0, 1.0, 1.0, 1000.0,
                16.0, 8.0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        int rc = numeric_option(&p, a, v);
        if (rc < 0 || (rc == 0 && !other_option(&p, argc, argv, &i)))
            return 2;
        i += rc;
    }
    if (!p.out) {
        fprintf(stderr, "gen_fmri: missing OUT_DIR\n");
        usage(stderr);
        return 2;
    }
    if (check_run_length(&p))
        return 2;
    if (mkdirs(p.out))
        return 1;
    return generate(&p) ? 1 : 0;
}
