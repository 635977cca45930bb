/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-domain-fmri.c - the fMRI domain (formats/domain/fmri.c): HRF-rule and fixed-lag
 * labelling against hand-counted volumes, label tables with and without a header and a run
 * column (and their errors naming the file), the automatic mask on a planted head, per-run
 * detrending and z-scoring, the mask code round trip, the orientation letters, and the LRP
 * start xai-fmri uses on a planted near-zero logit, Gaussian smoothing of a delta against the
 * analytic kernel, the event-timing check on a planted late response, and which model of a
 * fold set explains a run (by the card's index, with a malformed index refused).
 */
#include <cairo.h>
#include <check.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test-common.h"
#include "xai/card.h"
#include "xai/domain-fmri.h"
#include "../formats/domain/fmri-int.h"
#include "xai/lrp.h"
#include "xai/model.h"
#include "xai/relevance.h"
#include "xai/train.h"

/* A 22.5 s block at 15 s, TR 2.5 s: the HRF rule labels volumes 8..16 (the 2-volume shift). */
START_TEST(test_hrf_rule)
{
    double on = 15.0, du = 22.5;
    int c = 1, lab[30];
    ck_assert_int_eq(xai_fmri_label_blocks(&on, &du, &c, 1, 30, 2.5, XAI_FMRI_LAG_HRF, lab), XAI_OK);
    for (int i = 0; i < 30; i++)
        ck_assert_msg(lab[i] == (i >= 8 && i <= 16 ? 1 : -1), "volume %d: %d", i, lab[i]);
    /* a fixed lag of 0 labels the block as stated: volumes 6..14 */
    ck_assert_int_eq(xai_fmri_label_blocks(&on, &du, &c, 1, 30, 2.5, 0, lab), XAI_OK);
    for (int i = 0; i < 30; i++)
        ck_assert_int_eq(lab[i], i >= 6 && i <= 14 ? 1 : -1);
    /* two classes claiming one volume leave it unlabelled */
    double on2[2] = {0, 5}, du2[2] = {10, 10};
    int c2[2] = {0, 1};
    ck_assert_int_eq(xai_fmri_label_blocks(on2, du2, c2, 2, 8, 1.0, 0, lab), XAI_OK);
    ck_assert_int_eq(lab[4], 0);
    ck_assert_int_eq(lab[5], -1);
    ck_assert_int_eq(xai_fmri_label_blocks(&on, &du, &c, 1, 30, 0, XAI_FMRI_LAG_HRF, lab), XAI_EINVAL);
}
END_TEST

static char *write_tmp(const char *dir, const char *name, const char *text)
{
    static char path[4][1024];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return p;
}

START_TEST(test_label_table)
{
    char *dir = xai_test_tmpdir();
    /* PyMVPA attributes.txt: no header, space separated, label chunk; two runs of 4 volumes */
    const char *p = write_tmp(dir, "a.txt", "rest 0\nface 0\nface 0\nhouse 0\nrest 1\nhouse 1\nface 1\nrest 1\n");
    xai_fmri_classes cls = {0};
    int lab[8], ch[8], nch = 0;
    ck_assert_int_eq(xai_fmri_label_table(p, 8, 2.0, 0, &cls, lab, ch, &nch), XAI_OK);
    ck_assert_int_eq(cls.n, 2);
    ck_assert_str_eq(cls.name[0], "face");
    ck_assert_str_eq(cls.name[1], "house");
    int want[8] = {-1, 0, 0, 1, -1, 1, 0, -1}, wch[8] = {0, 0, 0, 0, 1, 1, 1, 1};
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(lab[i], want[i]);
        ck_assert_int_eq(ch[i], wch[i]);
    }
    ck_assert_int_eq(nch, 2);
    /* a fixed lag of one TR shifts each block within its run, never into the next run */
    ck_assert_int_eq(xai_fmri_label_table(p, 8, 2.0, 2.0, &cls, lab, ch, &nch), XAI_OK);
    int shifted[8] = {-1, -1, 0, 0, -1, -1, 1, 0};
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(lab[i], shifted[i]);
    /* a header line, tab separated, columns in another order */
    p = write_tmp(dir, "b.tsv", "chunks\ttargets\n0\tface\n0\thouse\n0\tn/a\n");
    ck_assert_int_eq(xai_fmri_label_table(p, 3, 2.0, 0, &cls, lab, ch, &nch), XAI_OK);
    ck_assert_int_eq(lab[0], 0);
    ck_assert_int_eq(lab[1], 1);
    ck_assert_int_eq(lab[2], -1);
    ck_assert_int_eq(nch, 1);
    /* errors name the file and say what is wrong */
    ck_assert_int_eq(xai_fmri_label_table(p, 4, 2.0, 0, &cls, lab, ch, &nch), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "b.tsv"));
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "3 rows, but the run has 4 volumes"));
    p = write_tmp(dir, "c.txt", "face 0\nhouse\n");
    ck_assert_int_eq(xai_fmri_label_table(p, 2, 2.0, 0, &cls, lab, ch, &nch), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "c.txt: line 2"));
    p = write_tmp(dir, "d.txt", "face 0\nhouse 1\nface 0\n");
    ck_assert_int_eq(xai_fmri_label_table(p, 3, 2.0, 0, &cls, lab, ch, &nch), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "contiguous"));
    ck_assert_int_eq(xai_fmri_label_table("/nonexistent/x.txt", 3, 2.0, 0, &cls, lab, ch, &nch), XAI_EIO);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "/nonexistent/x.txt"));
    xai_fmri_classes_free(&cls);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* A bright 8x8x8 head with a dark centre voxel in a dim 12x12x12 grid, and a stray bright voxel. */
START_TEST(test_auto_mask)
{
    int64_t d[3] = {12, 12, 12}, nv = 12 * 12 * 12;
    float *mean = malloc((size_t)nv * sizeof *mean);
    uint8_t *mask = malloc((size_t)nv);
    for (int64_t v = 0; v < nv; v++) {
        int x = (int)(v % 12), y = (int)(v / 12 % 12), z = (int)(v / 144);
        int in = x >= 2 && x < 10 && y >= 2 && y < 10 && z >= 2 && z < 10;
        mean[v] = in ? 900.0f + (float)(v % 7) : 10.0f + (float)(v % 5);
    }
    mean[(6 * 12 + 6) * 12 + 6] = 12.0f; /* a hole inside */
    mean[(0 * 12 + 0) * 12 + 11] = 950.0f; /* a stray voxel in a corner */
    ck_assert_int_eq(xai_fmri_auto_mask(mean, d, mask), XAI_OK);
    int64_t n = 0;
    for (int64_t v = 0; v < nv; v++)
        n += mask[v];
    ck_assert_int_eq(n, 512);
    ck_assert(mask[(6 * 12 + 6) * 12 + 6]);
    ck_assert(!mask[11]);
    /* a single slice: no border along z, the gap rule still finds the head */
    int64_t d2[3] = {12, 12, 1};
    ck_assert_int_eq(xai_fmri_auto_mask(mean + 6 * 144, d2, mask), XAI_OK);
    n = 0;
    for (int64_t v = 0; v < 144; v++)
        n += mask[v];
    ck_assert_int_eq(n, 64);
    char *code = xai_fmri_mask_encode(mask, 144);
    uint8_t back[144];
    ck_assert_int_eq(xai_fmri_mask_decode(code, 144, back), XAI_OK);
    ck_assert_int_eq(memcmp(back, mask, 144), 0);
    free(code);
    ck_assert_int_eq(xai_fmri_mask_decode("[140, 10]", 144, back), XAI_EFORMAT);
    ck_assert_int_eq(xai_fmri_mask_decode("[1]", 144, back), XAI_EFORMAT);
    ck_assert_int_eq(xai_fmri_mask_decode("{}", 144, back), XAI_EFORMAT);
    free(mean);
    free(mask);
}
END_TEST

/* Motion spikes: a run of 60 volumes (1000 voxels of a texture around 1000-1600 with noise of
 * SD 10, a slow drift and a block-like rise of 30 in 50 voxels) has no spike; scaling volume 23
 * by 1.04 and shifting volume 41 by one voxel makes exactly those two spikes, and not their
 * neighbours, which the jumps also lift. Fewer than 8 volumes are not screened. */
START_TEST(test_motion_spikes)
{
    enum { NT = 60, NV = 1000 };
    float *d = malloc(sizeof(float) * NT * NV);
    uint8_t censor[NT];
    uint32_t h = 12345;
    for (int t = 0; t < NT; t++)
        for (int v = 0; v < NV; v++) {
            h = h * 1664525u + 1013904223u;
            double noise = 10.0 * ((double)(h >> 8) / 16777216.0 - 0.5) * 3.46; /* SD 10 */
            double block = v < 50 && (t / 10) % 2 ? 30.0 : 0.0;
            d[t * NV + v] = (float)(1000.0 + 100.0 * (v % 7) + 0.3 * t + block + noise);
        }
    ck_assert_int_eq(xai_fmri_motion_spikes(d, NT, NV, censor), 0);
    for (int v = 0; v < NV; v++)
        d[23 * NV + v] *= 1.04f;
    for (int v = NV - 1; v > 0; v--) /* the texture moves by one voxel */
        d[41 * NV + v] = d[41 * NV + v - 1];
    ck_assert_int_eq(xai_fmri_motion_spikes(d, NT, NV, censor), 2);
    for (int t = 0; t < NT; t++)
        ck_assert_msg(censor[t] == (t == 23 || t == 41), "volume %d censored %d", t, censor[t]);
    ck_assert_int_eq(xai_fmri_motion_spikes(d, 7, NV, censor), 0);
    free(d);
}
END_TEST

/* Detrending removes a planted line exactly; z-scoring leaves mean 0 and SD 1. */
START_TEST(test_prep)
{
    enum { NT = 40, NV = 3 };
    float data[NT * NV], out[NV];
    uint8_t mask[NV] = {1, 1, 0};
    for (int t = 0; t < NT; t++) {
        double s = sin(0.7 * t);
        data[t * NV + 0] = (float)(100 + 0.5 * t + s); /* drift + signal */
        data[t * NV + 1] = (float)(50 - 2.0 * t);      /* drift only */
        data[t * NV + 2] = (float)(7 + s);             /* outside the mask */
    }
    xai_fmri_prep p;
    ck_assert_int_eq(xai_fmri_prep_init(&p, data, NT, NV, mask, 1), XAI_OK);
    ck_assert_int_eq(p.nin, 2);
    ck_assert(fabs(p.slope[0] - 0.5) < 0.02);
    double s = 0, s2 = 0;
    for (int t = 0; t < NT; t++) {
        xai_fmri_prep_apply(&p, data + t * NV, t, out);
        s += out[0];
        s2 += out[0] * out[0];
        ck_assert_msg(fabs(out[1]) < 1e-3, "a pure line is removed (%g)", out[1]);
        ck_assert(out[2] == 0.0f);
    }
    ck_assert(fabs(s / NT) < 1e-4);
    ck_assert(fabs(s2 / (NT - 1) - 1) < 1e-3);
    xai_fmri_prep_free(&p);
    uint8_t none[NV] = {0, 0, 0};
    ck_assert_int_eq(xai_fmri_prep_init(&p, data, NT, NV, none, 1), XAI_EINVAL);
}
END_TEST

START_TEST(test_orientation)
{
    xai_nifti_info info;
    memset(&info, 0, sizeof info);
    info.affine[0][0] = -3;
    info.affine[1][1] = 3;
    info.affine[2][2] = 3;
    char o[4];
    xai_fmri_orientation(&info, o);
    ck_assert_str_eq(o, "LAS");
    info.affine[0][0] = 3;
    info.affine[1][1] = 0;
    info.affine[2][1] = -3;
    info.affine[2][2] = 0;
    info.affine[1][2] = 3;
    xai_fmri_orientation(&info, o);
    ck_assert_str_eq(o, "RIA");
}
END_TEST

/* The start xai-fmri uses (logit, bias factor 1) on a planted near-zero logit: the relevance
 * sum equals the logit, the check flags nothing, and normalisation gives it unit L1 mass. */
START_TEST(test_near_zero_logit)
{
    int64_t shape[4] = {1, 2, 3, 4};
    xai_model *m = NULL;
    ck_assert_int_eq(xai_model_from_spec("flatten dense(2)", 4, shape, 3, &m), XAI_OK);
    float x[24], rel[24], lg[2];
    for (int i = 0; i < 24; i++)
        x[i] = (float)sin(1.3 * i + 0.2);
    xai_workspace *ws = NULL;
    ck_assert_int_eq(xai_workspace_new(m, 1, &ws), XAI_OK);
    ck_assert_int_eq(xai_model_forward(m, ws, 1, x, lg), XAI_OK);
    /* scale the input so that the winning logit is about 1e-4 (biases start at 0) */
    float z = fabsf(lg[0]) > fabsf(lg[1]) ? fabsf(lg[0]) : fabsf(lg[1]);
    for (int i = 0; i < 24; i++)
        x[i] *= 1e-4f / z;
    xai_explain_config c;
    xai_explain_config_init(&c);
    c.composite = "epsilon";
    c.init = XAI_INIT_LOGIT;
    c.bias_factor = 1.0f;
    xai_explain_result r;
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(xai_explain(m, &c, 1, x, rel, &r), XAI_OK);
    double s = 0;
    for (int i = 0; i < 24; i++)
        s += rel[i];
    ck_assert_msg(fabs(s - r.init_sum[0]) <= 1e-3 * fabs(r.init_sum[0]) + 1e-9, "sum %g vs logit %g", s,
                  r.init_sum[0]);
    int64_t fl[1], nfl = -1;
    ck_assert_int_eq(xai_relevance_check(&r, 10, fl, &nfl, NULL), XAI_OK);
    ck_assert_int_eq(nfl, 0);
    xai_explain_result_free(&r);
    /* the class maps average L1-normalised maps: a near-zero map weighs as much as any other */
    double l1;
    ck_assert_int_eq(xai_relevance_normalise(rel, 1, 24, &l1), XAI_OK);
    double a = 0;
    for (int i = 0; i < 24; i++)
        a += fabs(rel[i]);
    ck_assert(fabs(a - 1) < 1e-5);
    ck_assert(l1 > 0);
    xai_workspace_free(ws);
    xai_model_free(m);
}
END_TEST


/* The mosaic is drawn in one convention: a LAS volume and the same brain stored RAS (x
 * reversed) give the same picture. */
START_TEST(test_mosaic_convention)
{
    enum { NX = 6, NY = 5, NZ = 2, NV = NX * NY * NZ };
    float bg[NV], map[NV], bg2[NV], map2[NV];
    for (int v = 0; v < NV; v++) {
        int x = v % NX, rest = v / NX;
        bg[v] = (float)(100 + v);
        map[v] = x == 0 ? 1.0f : (float)(0.1 * (v % 3)); /* strong at one side */
        int w = rest * NX + (NX - 1 - x);
        bg2[w] = bg[v];
        map2[w] = map[v];
    }
    xai_nifti_info las, ras;
    memset(&las, 0, sizeof las);
    las.dim[0] = 3;
    las.dim[1] = NX;
    las.dim[2] = NY;
    las.dim[3] = NZ;
    las.pixdim[1] = las.pixdim[2] = las.pixdim[3] = 3;
    las.affine[0][0] = -3;
    las.affine[1][1] = 3;
    las.affine[2][2] = 3;
    ras = las;
    ras.affine[0][0] = 3;
    char *dir = xai_test_tmpdir(), a[1024], b[1024];
    snprintf(a, sizeof a, "%s/las.png", dir);
    snprintf(b, sizeof b, "%s/ras.png", dir);
    ck_assert_int_eq(xai_fmri_mosaic_png(a, &las, bg, map, NULL, "t"), XAI_OK);
    ck_assert_int_eq(xai_fmri_mosaic_png(b, &ras, bg2, map2, NULL, "t"), XAI_OK);
    size_t na, nb;
    char *pa = xai_test_read_file(a, &na), *pb = xai_test_read_file(b, &nb);
    ck_assert(pa && pb && na > 100);
    ck_assert_msg(na == nb && !memcmp(pa, pb, na), "LAS and RAS storage draw differently");
    free(pb);
    /* and the picture does depend on the side: the LAS data labelled RAS draw mirrored */
    ck_assert_int_eq(xai_fmri_mosaic_png(b, &ras, bg, map, NULL, "t"), XAI_OK);
    pb = xai_test_read_file(b, &nb);
    ck_assert(!(na == nb && !memcmp(pa, pb, na)));
    free(pa);
    free(pb);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* cairo and fontconfig keep font caches for the life of the process: drop them after each
 * case so that LeakSanitizer reports only real leaks. */
/* Smoothing a delta: separable Gaussian with sigma = FWHM / (2 sqrt(2 ln 2)) in mm, per axis in
 * that axis's voxels; mass kept, neighbour ratios exp(-d^2 / (2 sigma^2)) on each axis. */
START_TEST(test_smooth)
{
    xai_nifti img;
    memset(&img, 0, sizeof img);
    int64_t X = 21, Y = 21, Z = 21;
    img.shape[0] = 1;
    img.shape[1] = Z;
    img.shape[2] = Y;
    img.shape[3] = X;
    img.n = (size_t)(X * Y * Z);
    img.info.pixdim[1] = 2.0; /* x, y: 2 mm; z: 4 mm */
    img.info.pixdim[2] = 2.0;
    img.info.pixdim[3] = 4.0;
    img.data = calloc(img.n, sizeof *img.data);
    int64_t c = 10 + X * (10 + Y * 10);
    img.data[c] = 1.0f;
    ck_assert_int_eq(xai_fmri_smooth(&img, 6.0), XAI_OK);
    double sum = 0;
    for (size_t i = 0; i < img.n; i++)
        sum += img.data[i];
    ck_assert_msg(fabs(sum - 1) < 1e-5, "mass %.7f", sum);
    double sd_mm = 6.0 / (2 * sqrt(2 * log(2.0)));
    double sx = sd_mm / 2.0, sz = sd_mm / 4.0;
    double rx = img.data[c + 1] / img.data[c], ry = img.data[c + X] / img.data[c], rz = img.data[c + X * Y] / img.data[c];
    ck_assert_msg(fabs(rx - exp(-1 / (2 * sx * sx))) < 1e-5, "x ratio %.6f", rx);
    ck_assert_msg(fabs(ry - rx) < 1e-6, "y ratio %.6f", ry);
    ck_assert_msg(fabs(rz - exp(-1 / (2 * sz * sz))) < 1e-5, "z ratio %.6f", rz);
    /* symmetric, and 0 mm changes nothing */
    ck_assert(fabs(img.data[c - 1] - img.data[c + 1]) < 1e-9);
    float before = img.data[c];
    ck_assert_int_eq(xai_fmri_smooth(&img, 0), XAI_OK);
    ck_assert(img.data[c] == before);
    free(img.data);
}
END_TEST

/* A planted response that comes 3 volumes after the labels: the timing check finds shift +3 and
 * warns; with the labels on time it finds 0 and does not. */
START_TEST(test_timing_check)
{
    for (int late = 0; late <= 3; late += 3) {
        int64_t nt = 120, nv = 60;
        xai_nifti img;
        memset(&img, 0, sizeof img);
        img.shape[0] = nt;
        img.shape[1] = 1;
        img.shape[2] = 1;
        img.shape[3] = nv;
        img.n = (size_t)(nt * nv);
        img.info.tr_s = 2.0;
        img.data = malloc(img.n * sizeof *img.data);
        int *lab = malloc((size_t)nt * sizeof *lab);
        uint64_t rng = 12345;
        for (int64_t t = 0; t < nt; t++) {
            int64_t ph = t % 24; /* 8 volumes of class 0, 4 rest, 8 of class 1, 4 rest */
            lab[t] = ph < 8 ? 0 : ph < 12 ? -1 : ph < 20 ? 1 : -1;
        }
        for (int64_t t = 0; t < nt; t++)
            for (int64_t v = 0; v < nv; v++) {
                rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
                double noise = ((double)(rng >> 11) / 9007199254740992.0 - 0.5);
                int64_t u = t - late;
                int c = u >= 0 ? lab[u] : -1;
                double sig = v < 10 && c >= 0 ? (c == 0 ? 1.0 : -1.0) : 0;
                img.data[t * nv + v] = (float)(100 + sig + noise);
            }
        uint8_t *mask = malloc((size_t)nv);
        memset(mask, 1, (size_t)nv);
        xai_fmri_run run = {.path = "planted", .img = &img, .owner = 0, .t0 = 0, .nt = nt, .labels = lab};
        ck_assert_int_eq(xai_fmri_prep_init(&run.prep, img.data, nt, nv, mask, 1), XAI_OK);
        xai_fmri_timing tm;
        int use = 1;
        ck_assert_int_eq(xai_fmri_timing_check(&run, 1, &use, mask, 2, &tm), XAI_OK);
        ck_assert_int_eq(tm.best, late);
        ck_assert_int_eq(tm.warn, late > 1);
        if (late) {
            char msg[512];
            xai_fmri_timing_text(&tm, msg, sizeof msg);
            ck_assert_ptr_nonnull(strstr(msg, "3 volumes (6.0 s) later"));
            ck_assert_ptr_nonnull(strstr(msg, "appear to be early"));
        }
        xai_fmri_prep_free(&run.prep);
        free(mask);
        free(lab);
        free(img.data);
    }
}
END_TEST

/* A run of @p nt volumes of noise over 20 voxels, class 0 first then class 1 (@p order 0) or the
 * reverse (1), 4 rest volumes between the blocks. */
static void confound_run(xai_nifti *img, xai_fmri_run *run, int *lab, int64_t nt, int order, const uint8_t *mask)
{
    int64_t nv = 20;
    memset(img, 0, sizeof *img);
    img->shape[0] = nt, img->shape[1] = 1, img->shape[2] = 1, img->shape[3] = nv;
    img->n = (size_t)(nt * nv);
    img->info.tr_s = 2.0;
    img->data = malloc(img->n * sizeof *img->data);
    uint64_t rng = 777 + (uint64_t)order;
    for (int64_t t = 0; t < nt; t++) {
        int first = t < nt / 2 - 2, second = t >= nt / 2 + 2;
        lab[t] = first ? order : second ? 1 - order : -1;
        for (int64_t v = 0; v < nv; v++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            img->data[t * nv + v] = (float)(100 + (double)(rng >> 11) / 9007199254740992.0);
        }
    }
    *run = (xai_fmri_run){.path = "confound", .img = img, .owner = 0, .t0 = 0, .nt = nt, .labels = lab};
    ck_assert_int_eq(xai_fmri_prep_init(&run->prep, img->data, nt, nv, mask, 1), XAI_OK);
}

/* All blocks of one class first: the class is the time course (r about 0.87), the check says so
 * instead of judging the timing; two runs in opposite orders cancel when pooled within runs. */
START_TEST(test_time_confound)
{
    int64_t nt = 60;
    uint8_t mask[20];
    memset(mask, 1, sizeof mask);
    xai_nifti img[2];
    xai_fmri_run run[2];
    int lab[2][60], use[2] = {1, 1};
    for (int k = 0; k < 2; k++)
        confound_run(&img[k], &run[k], lab[k], nt, k, mask);
    xai_fmri_timing tm;
    ck_assert_int_eq(xai_fmri_timing_check(run, 1, use, mask, 2, &tm), XAI_OK);
    ck_assert_double_gt(tm.time_r, 0.85);
    ck_assert_double_lt(tm.time_r, 0.9);
    ck_assert(tm.confounded && tm.warn);
    char msg[512];
    xai_fmri_timing_text(&tm, msg, sizeof msg);
    ck_assert_ptr_nonnull(strstr(msg, "follow the time course"));
    ck_assert_ptr_null(strstr(msg, "appear to be"));
    ck_assert_int_eq(xai_fmri_timing_check(run, 2, use, mask, 2, &tm), XAI_OK);
    ck_assert_double_lt(tm.time_r, 1e-9);
    ck_assert(!tm.confounded);
    for (int k = 0; k < 2; k++) {
        xai_fmri_prep_free(&run[k].prep);
        free(img[k].data);
    }
}
END_TEST

/* A small model whose card has @p driver (JSON text, NULL: no index) as extra.driver. */
static xai_model *model_with_index(const char *driver)
{
    int64_t shape[4] = {1, 2, 3, 4};
    xai_model *m = NULL;
    xai_card *c = NULL;
    ck_assert_int_eq(xai_model_from_spec("flatten dense(2)", 4, shape, 3, &m), XAI_OK);
    if (driver) {
        ck_assert_int_eq(xai_card_new(&c), XAI_OK);
        ck_assert_int_eq(xai_card_set_json(c, "extra.driver", driver), XAI_OK);
        ck_assert_int_eq(xai_card_apply(m, c), XAI_OK);
        xai_card_free(c);
    }
    return m;
}

/* The run's fold when one held it out alone; else the model itself, in sample when it lists
 * the run (also as one of several runs of one file, "name@t0"), new data when it lists others,
 * unknown without a list; a fold file named with a folder is refused. */
START_TEST(test_model_choice)
{
    static const char idx[] = "{\"folds\":[{\"file\":\"m.fold-1.onnx\",\"heldout_groups\":[\"r1_bold.nii.gz\"]},"
                              "{\"file\":\"m.fold-2.onnx\",\"heldout_groups\":[\"cat.nii.gz@0\"]}],"
                              "\"trained_groups\":[\"r1_bold.nii.gz\",\"r2_bold.nii.gz\",\"cat.nii.gz@0\"]}";
    xai_model *m = model_with_index(idx);
    xai_fmri_model_choice c;
    char text[256];
    ck_assert_int_eq(xai_fmri_model_choose(m, "dir/m.onnx", "/data/r1_bold.nii.gz", &c), XAI_OK);
    ck_assert_str_eq(c.path, "dir/m.fold-1.onnx");
    ck_assert_int_eq(c.fold, 1);
    ck_assert_int_eq(c.nfolds, 2);
    ck_assert_int_eq(c.held_out, 1);
    ck_assert_ptr_nonnull(strstr(xai_fmri_model_choice_text(&c, text, sizeof text), "out of fold"));
    xai_fmri_model_choice_free(&c);
    const char *bold[] = {"r2_bold.nii.gz", "/x/cat.nii.gz", "new_bold.nii.gz"};
    const int held[] = {0, 0, 1};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(xai_fmri_model_choose(m, "m.onnx", bold[i], &c), XAI_OK);
        ck_assert_str_eq(c.path, "m.onnx");
        ck_assert_int_eq(c.fold, 0);
        ck_assert_int_eq(c.held_out, held[i]);
        xai_fmri_model_choice_free(&c);
    }
    xai_model_free(m);
    m = model_with_index(NULL);
    ck_assert_int_eq(xai_fmri_model_choose(m, "m.onnx", "r1_bold.nii.gz", &c), XAI_OK);
    ck_assert_int_eq(c.held_out, -1);
    ck_assert_ptr_nonnull(strstr(xai_fmri_model_choice_text(&c, text, sizeof text), "unknown"));
    xai_fmri_model_choice_free(&c);
    xai_model_free(m);
    m = model_with_index("{\"folds\":[{\"file\":\"../m.fold-1.onnx\",\"heldout_groups\":[\"r1_bold.nii.gz\"]}]}");
    ck_assert_int_eq(xai_fmri_model_choose(m, "m.onnx", "r1_bold.nii.gz", &c), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "m.onnx"));
    ck_assert_ptr_null(c.path);
    xai_model_free(m);
}
END_TEST

/* An empty file at DIR/REL (its folders made), its path in @p out. */
static void touch(const char *dir, const char *rel, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", dir, rel);
    for (char *p = out + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        mkdir(out, 0777);
        *p = '/';
    }
    FILE *f = fopen(out, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
}

/* Runs are named by the BIDS entities that tell acquired runs apart, else by their file name
 * with as many folders as tell it from the other runs'; explain finds a run's fold by that name:
 * by its entities in a renamed (derivative) copy, by its folders when file names repeat (a
 * non-BIDS layout), and an error when two recorded runs both name it. */
START_TEST(test_run_names)
{
    char *dir = xai_test_tmpdir(), p[6][1024];
    touch(dir, "s1/run-1_bold.nii.gz", p[0], sizeof p[0]);
    touch(dir, "s2/run-1_bold.nii.gz", p[1], sizeof p[1]);
    touch(dir, "sub-03/func/sub-03_task-faces_run-1_bold.nii.gz", p[2], sizeof p[2]);
    touch(dir, "cat.nii.gz", p[3], sizeof p[3]);
    touch(dir, "deriv/sub-03_task-faces_run-1_space-MNI152_desc-preproc_bold.nii.gz", p[4], sizeof p[4]);
    touch(dir, "other/s2/run-1_bold.nii.gz", p[5], sizeof p[5]);
    xai_fmri_run runs[5] = {{.path = p[0]}, {.path = p[1]}, {.path = p[2]}, {.path = p[3], .t0 = 0},
                            {.path = p[3], .t0 = 40}};
    char *names[5] = {0};
    ck_assert_int_eq(fmri_run_names(runs, 5, names), XAI_OK);
    const char *want[] = {"s1/run-1_bold.nii.gz", "s2/run-1_bold.nii.gz", "sub-03_task-faces_run-1", "cat.nii.gz@0",
                          "cat.nii.gz@40"};
    for (int i = 0; i < 5; i++) {
        ck_assert_str_eq(names[i], want[i]);
        free(names[i]);
    }
    static const char idx[] =
        "{\"folds\":[{\"file\":\"m.fold-1.onnx\",\"heldout_groups\":[\"s1/run-1_bold.nii.gz\"]},"
        "{\"file\":\"m.fold-2.onnx\",\"heldout_groups\":[\"s2/run-1_bold.nii.gz\"]},"
        "{\"file\":\"m.fold-3.onnx\",\"heldout_groups\":[\"sub-03_task-faces_run-1\"]}],"
        "\"trained_groups\":[\"s1/run-1_bold.nii.gz\",\"s2/run-1_bold.nii.gz\",\"sub-03_task-faces_run-1\"]}";
    xai_model *m = model_with_index(idx);
    xai_fmri_model_choice c;
    const char *bold[] = {p[1], p[4], p[0]};
    const int fold[] = {2, 3, 1};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(xai_fmri_model_choose(m, "m.onnx", bold[i], &c), XAI_OK);
        ck_assert_int_eq(c.fold, fold[i]);
        ck_assert_int_eq(c.held_out, 1);
        xai_fmri_model_choice_free(&c);
    }
    xai_model_free(m);
    /* an older model that recorded file names only: two folds held out run-1_bold.nii.gz */
    m = model_with_index("{\"folds\":[{\"file\":\"m.fold-1.onnx\",\"heldout_groups\":[\"run-1_bold.nii.gz\"]},"
                         "{\"file\":\"m.fold-2.onnx\",\"heldout_groups\":[\"run-1_bold.nii.gz\"]}],"
                         "\"trained_groups\":[\"run-1_bold.nii.gz\",\"run-1_bold.nii.gz\"]}");
    ck_assert_int_eq(xai_fmri_model_choose(m, "m.onnx", p[1], &c), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "cannot tell"));
    ck_assert_ptr_null(c.path);
    xai_model_free(m);
    /* two recorded names that both end the run's path */
    m = model_with_index("{\"folds\":[{\"file\":\"m.fold-1.onnx\",\"heldout_groups\":[\"s2/run-1_bold.nii.gz\"]},"
                         "{\"file\":\"m.fold-2.onnx\",\"heldout_groups\":[\"other/s2/run-1_bold.nii.gz\"]}]}");
    ck_assert_int_eq(xai_fmri_model_choose(m, "m.onnx", p[5], &c), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "both name this run"));
    xai_model_free(m);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* The canonical SPM HRF integrated by the test itself (trapezoids of 1 ms): the response at
 * time t after the onset of a boxcar of du s. */
static double test_hrf(double t)
{
    return t <= 0 ? 0 : pow(t, 5) * exp(-t) / 120.0 - pow(t, 15) * exp(-t) / (1307674368000.0 * 6.0);
}
static double test_response(double t, double du)
{
    double s = 0, h = 1e-3, lo = t - du > 0 ? t - du : 0;
    for (double u = lo; u + h <= t + 1e-12; u += h)
        s += 0.5 * (test_hrf(u) + test_hrf(u + h)) * h;
    return s;
}

/* Event-related or block design from the durations and the spacing of the events. */
START_TEST(test_design)
{
    double on[40], du[40];
    int ty[40];
    xai_fmri_design d;
    for (int i = 0; i < 40; i++) /* 2 s trials, 6-10 s apart, two types in an order with 1/3 repeats */
        on[i] = 8 + 8.0 * i + (i % 3 - 1) * 1.5, du[i] = 2, ty[i] = (i / 3 + i) % 2;
    ck_assert_int_eq(xai_fmri_design_of(on, du, ty, 40, &d), XAI_OK);
    ck_assert_int_eq(d.event_related, 1);
    ck_assert_int_eq(d.nevents, 40);
    ck_assert(fabs(d.median_duration - 2) < 1e-12);
    ck_assert(d.overlap > 0.1 && d.overlap < 1);
    ck_assert(d.same_type < 0.5);
    /* the same stimuli in blocks of ten of one type: a block design written event by event */
    for (int i = 0; i < 40; i++)
        ty[i] = i / 10 % 2;
    ck_assert_int_eq(xai_fmri_design_of(on, du, ty, 40, &d), XAI_OK);
    ck_assert(fabs(d.same_type - 36.0 / 39.0) < 1e-12);
    ck_assert_int_eq(d.event_related, 0);
    for (int i = 0; i < 8; i++) /* 22.5 s blocks, 22.5 s rest */
        on[i] = 8 + 45.0 * i, du[i] = 22.5;
    ck_assert_int_eq(xai_fmri_design_of(on, du, NULL, 8, &d), XAI_OK);
    ck_assert_int_eq(d.event_related, 0);
    for (int i = 0; i < 10; i++) /* slow event-related: 2 s trials 30 s apart do not overlap */
        on[i] = 8 + 30.0 * i, du[i] = 2;
    ck_assert_int_eq(xai_fmri_design_of(on, du, NULL, 10, &d), XAI_OK);
    ck_assert_int_eq(d.event_related, 0);
    ck_assert(fabs(d.median_soa - 30) < 1e-12);
}
END_TEST

/* Least-squares-separate estimates on noise-free data: y = c + drift + sum of beta_e x_e (to 0.5 %:
 * the library samples the HRF on a 10 ms grid, the test integrates it on 1 ms). When
 * every other trial has one common beta the model is exact and each trial's own beta comes
 * back; a censored volume holding garbage changes nothing. The peak window is a plain mean. */
START_TEST(test_trial_estimates)
{
    enum { NT = 120, NE = 24, NV = 2 };
    const double tr = 2.0, c = 500, drift = 0.3;
    double on[NE], du[NE], peak = 0;
    for (int e = 0; e < NE; e++)
        on[e] = 8 + 9.0 * e + (e % 4) * 0.7, du[e] = 2;
    for (double t = 0; t < 30; t += 0.05)
        peak = fmax(peak, test_response(t, 2));
    float *y = calloc(NT * NV, sizeof *y), est[NE * NV];
    uint8_t ok[NE], censor[NT] = {0};
    for (int t = 0; t < NT; t++)
        for (int v = 0; v < NV; v++) {
            double s = c + drift * (t - (NT - 1) / 2.0);
            for (int e = 0; e < NE; e++) /* voxel 1: trial 5 has beta 9, the others 2; voxel 0: all 4 */
                s += (v == 0 ? 4 : e == 5 ? 9 : 2) * test_response(t * tr + tr / 2 - on[e], 2);
            y[t * NV + v] = (float)s;
        }
    censor[40] = 1;
    y[40 * NV] = y[40 * NV + 1] = 1e4f;
    ck_assert_int_eq(xai_fmri_trial_estimates(y, NT, NV, tr, censor, on, du, NE, NULL, XAI_FMRI_TRIALS_LSS, 1, est, ok),
                     XAI_OK);
    for (int e = 0; e < NE; e++) {
        ck_assert_int_eq(ok[e], 1);
        ck_assert_msg(fabs(est[e * NV] - (c + 4 * peak)) < 5e-3 * 4 * peak, "trial %d: %g, want %g", e,
                      est[e * NV], c + 4 * peak);
    }
    ck_assert_msg(fabs(est[5 * NV + 1] - (c + 9 * peak)) < 5e-3 * 9 * peak, "%g vs %g", est[5 * NV + 1], c + 9 * peak);
    /* only the wanted trials, in order; a trial after the run's end has no estimate */
    int want[NE] = {0};
    want[3] = want[7] = 1;
    double late = on[7];
    on[7] = NT * tr + 5;
    ck_assert_int_eq(xai_fmri_trial_estimates(y, NT, NV, tr, NULL, on, du, NE, want, XAI_FMRI_TRIALS_PEAK, 0, est, ok),
                     XAI_OK);
    on[7] = late;
    ck_assert_int_eq(ok[0], 1);
    ck_assert_int_eq(ok[1], 0);
    /* trial 3 at 37.1 s: the volumes whose mid-time is 4-8 s later are 21 and 22 (43 and 45 s) */
    ck_assert(fabs(est[0] - 0.5 * (y[21 * NV] + y[22 * NV])) < 1e-3);
    ck_assert_int_eq(xai_fmri_trial_estimates(y, NT, NV, 0, NULL, on, du, NE, NULL, XAI_FMRI_TRIALS_LSS, 1, est, ok),
                     XAI_EINVAL);
    /* detrended, the peak window of a straight line is its level at the mean time, for every trial */
    float line[NT], lest[NE];
    for (int t = 0; t < NT; t++)
        line[t] = (float)(5 + 0.3 * t);
    ck_assert_int_eq(xai_fmri_trial_estimates(line, NT, 1, tr, NULL, on, du, NE, NULL, XAI_FMRI_TRIALS_PEAK, 1, lest, ok),
                     XAI_OK);
    for (int e = 0; e < NE; e++)
        ck_assert_msg(!ok[e] || fabs(lest[e] - (5 + 0.3 * (NT - 1) / 2.0)) < 1e-3, "trial %d: %g", e, lest[e]);
    free(y);
}
END_TEST

/* A unit normal deviate from a 64-bit LCG state (Box-Muller). */
static double screen_normal(uint64_t *st)
{
    double u[2];
    for (int i = 0; i < 2; i++) {
        *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
        u[i] = ((double)(*st >> 11) + 0.5) / 9007199254740992.0;
    }
    return sqrt(-2 * log(u[0])) * cos(6.283185307179586 * u[1]);
}

/* Samples in blocks of 5 of alternating class; the first @p ninf voxels carry the class with
 * effect @p d (in noise SDs), the rest is noise. */
static void screen_data(float *x, int *y, int n, int nv, int ninf, double d, uint64_t seed)
{
    for (int k = 0; k < n; k++) {
        y[k] = (k / 5) % 2;
        for (int v = 0; v < nv; v++)
            x[k * nv + v] = (float)(screen_normal(&seed) + (v < ninf ? (y[k] ? d : -d) / 2 : 0));
    }
}

/* The screening keeps the share asked for, the most class-related voxels, and zeroes the rest;
 * the share is chosen inside the training samples: the smallest candidate when the class lives
 * in few voxels, a larger one when it is spread thinly over many, the default when there are
 * too few samples for inner folds or a fold has one class to learn from. */
START_TEST(test_screen_select)
{
    enum { N = 60, NV = 400 };
    float *x = malloc(sizeof(float) * N * NV);
    int y[N], run[N] = {0};
    uint8_t mask[NV];
    screen_data(x, y, N, NV, 20, 2.0, 7);
    memset(mask, 1, sizeof mask);
    double share = 0;
    ck_assert_int_eq(fmri_screen_select(x, y, run, N, NV, 2, mask, 0.2, 1, &share), XAI_OK);
    ck_assert_double_eq_tol(share, 0.05, 1e-12); /* 20 informative voxels of 400 */
    ck_assert_int_eq(fmri_screen(x, y, N, NV, 2, 0.05, mask), XAI_OK);
    int kept = 0, kept_inf = 0;
    for (int v = 0; v < NV; v++) {
        kept += mask[v], kept_inf += v < 20 && mask[v];
        if (!mask[v])
            for (int k = 0; k < N; k++)
                ck_assert(x[k * NV + v] == 0.0f);
    }
    ck_assert_int_eq(kept, 20);
    ck_assert_int_ge(kept_inf, 18);
    /* weak per voxel, spread over 80: a quarter of them predicts worse than all of them */
    for (int i = 0; i < N; i++)
        run[i] = i / 30; /* two runs: the inner folds are the runs */
    screen_data(x, y, N, NV, 80, 0.6, 11);
    memset(mask, 1, sizeof mask);
    ck_assert_int_eq(fmri_screen_select(x, y, run, N, NV, 2, mask, 0.2, 1, &share), XAI_OK);
    ck_assert_msg(share > 0.05, "share %g", share);
    ck_assert_int_eq(fmri_screen_select(x, y, run, 2, NV, 2, mask, 0.2, 1, &share), XAI_OK);
    ck_assert_double_eq_tol(share, 0.2, 1e-12);
    for (int i = 0; i < N; i++) /* one class per run: no inner fold could learn both */
        y[i] = run[i];
    ck_assert_int_eq(fmri_screen_select(x, y, run, N, NV, 2, mask, 0.2, 1, &share), XAI_OK);
    ck_assert_double_eq_tol(share, 0.2, 1e-12);
    free(x);
}
END_TEST

static void reset_caches(void)
{
    cairo_debug_reset_static_data();
    FcFini();
}

Suite *make_suite(void)
{
    Suite *s = suite_create("domain-fmri");
    TCase *t = tcase_create("fmri");
    tcase_add_checked_fixture(t, NULL, reset_caches);
    tcase_add_test(t, test_hrf_rule);
    tcase_add_test(t, test_label_table);
    tcase_add_test(t, test_auto_mask);
    tcase_add_test(t, test_motion_spikes);
    tcase_add_test(t, test_prep);
    tcase_add_test(t, test_orientation);
    tcase_add_test(t, test_near_zero_logit);
    tcase_add_test(t, test_mosaic_convention);
    tcase_add_test(t, test_smooth);
    tcase_add_test(t, test_timing_check);
    tcase_add_test(t, test_time_confound);
    tcase_add_test(t, test_model_choice);
    tcase_add_test(t, test_run_names);
    tcase_add_test(t, test_design);
    tcase_add_test(t, test_trial_estimates);
    tcase_add_test(t, test_screen_select);
    suite_add_tcase(s, t);
    return s;
}
