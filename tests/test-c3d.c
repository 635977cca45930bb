/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-c3d.c - C3D reader/writer and gait cycles.
 * Real files from ../shared/data/gait (facts from its SOURCES.md; the numbers below were
 * read independently from the raw bytes with struct/numpy by tests/data/c3d/verify_c3d.py),
 * write-then-read round trips in every processor type (Intel, DEC, MIPS) and both storage
 * types, LABELS2 and >65535-frame trials, and a malformed-file corpus built in memory.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"
#include "xai/c3d.h"

/* ---------------------------------------------------------------- helpers -- */

static xai_c3d *open_shared(const char *file)
{
    const char *dir = xai_test_shared_dir();
    if (!dir) {
        xai_test_mark_skip();
        return NULL;
    }
    const char *path = xai_test_path(xai_test_path(dir, "data/gait"), file);
    xai_c3d *c = NULL;
    xai_status st = xai_c3d_open(path, &c);
    ck_assert_msg(st == XAI_OK, "%s: %s", path, xai_last_error());
    /* The in-memory entry point must agree with the path one. */
    size_t len;
    void *buf = xai_test_read_file(path, &len);
    ck_assert_ptr_nonnull(buf);
    xai_c3d *m = NULL;
    ck_assert_int_eq(xai_c3d_open_mem(buf, len, file, &m), XAI_OK);
    ck_assert_int_eq(m->frames, c->frames);
    ck_assert_int_eq(m->npoints, c->npoints);
    ck_assert(memcmp(m->residuals, c->residuals, (size_t)c->frames * (size_t)c->npoints * sizeof(float)) == 0);
    xai_c3d_close(m);
    free(buf);
    return c;
}

static const float *pt(const xai_c3d *c, int64_t frame, int point)
{
    return c->points + ((size_t)frame * (size_t)c->npoints + (size_t)point) * 3;
}

static float an(const xai_c3d *c, int ch, size_t sample)
{
    return c->analog[(size_t)ch * (size_t)c->frames * (size_t)c->analog_per_frame + sample];
}

static size_t count_invalid(const xai_c3d *c)
{
    size_t n = 0;
    for (size_t i = 0; i < (size_t)c->frames * (size_t)c->npoints; i++) {
        int nan = isnan(c->points[3 * i]);
        ck_assert_int_eq(nan, c->residuals[i] < 0);
        n += (size_t)nan;
    }
    return n;
}

static void assert_xyz(const float *p, double x, double y, double z, double tol)
{
    tol += 1e-9; /* Check's _tol comparison is strict */
    ck_assert_double_eq_tol(p[0], x, tol);
    ck_assert_double_eq_tol(p[1], y, tol);
    ck_assert_double_eq_tol(p[2], z, tol);
}

/* ------------------------------------------------------------- real files -- */

START_TEST(test_omcs_overground)
{
    xai_c3d *c = open_shared("omcs_exampleOverground.c3d");
    if (!c)
        return;
    ck_assert_int_eq(c->processor, XAI_C3D_INTEL);
    ck_assert_int_eq(c->float_storage, 1);
    ck_assert_double_eq_tol(c->point_rate, 100.0, 1e-9);
    ck_assert_double_eq_tol(c->analog_rate, 2400.0, 1e-9);
    ck_assert_int_eq(c->frames, 459);
    ck_assert_int_eq(c->first_frame, 2);
    ck_assert_int_eq(c->npoints, 85);
    ck_assert_int_eq(c->nanalog, 36);
    ck_assert_int_eq(c->analog_per_frame, 24);
    ck_assert_str_eq(c->subject, "BObv");
    ck_assert_str_eq(c->point_units, "mm");
    static const char *markers[] = {"LASI", "RASI", "LPSI", "RPSI", "LTHI", "LKNE", "LTIB", "LANK", "LHEE",
                                    "LTOE", "RTHI", "RKNE", "RTIB", "RANK", "RHEE", "RTOE", "LHipAngles",
                                    "LKneeAngles", "LAnkleAngles"};
    for (size_t i = 0; i < sizeof markers / sizeof *markers; i++)
        ck_assert_msg(xai_c3d_point_index(c, markers[i]) >= 0, "missing point %s", markers[i]);
    ck_assert_str_eq(c->point_labels[0], "PELO");
    ck_assert_int_eq(xai_c3d_point_index(c, "LKNE"), 41);
    ck_assert_int_eq(xai_c3d_point_index(c, "RHEE"), 50);
    ck_assert_int_eq(xai_c3d_analog_index(c, "Force.Fz1"), 2);
    ck_assert_int_ge(xai_c3d_analog_index(c, "Voltage.L_EMG1"), 0);
    ck_assert_str_eq(c->analog_labels[11], "Moment.Mz2");
    ck_assert_str_eq(c->analog_units[2], "N");
    /* verify_c3d.py: LKNE/RHEE at frame index 100, Force.Fz1 sample 5000, 4204 invalid. */
    assert_xyz(pt(c, 100, 41), -849.1943969726562, 341.9161682128906, 317.61431884765625, 1e-3);
    assert_xyz(pt(c, 100, 50), -891.4583740234375, 146.43548583984375, 73.33561706542969, 1e-3);
    ck_assert_double_eq_tol(an(c, 2, 5000), -235.17527770996094, 1e-3);
    ck_assert_uint_eq(count_invalid(c), 4204);
    /* Parameters: multi-dimensional FORCE_PLATFORM:CORNERS [3][4][2], int FORCE_PLATFORM:USED. */
    const xai_c3d_param *p = xai_c3d_param_find(c, "FORCE_PLATFORM", "USED");
    ck_assert_ptr_nonnull(p);
    ck_assert_double_eq(xai_c3d_param_value(p, 0), 2);
    p = xai_c3d_param_find(c, "force_platform", "corners");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->type, 4);
    ck_assert_int_eq(p->ndim, 3);
    ck_assert_int_eq(p->dims[0], 3);
    ck_assert_int_eq(p->dims[1], 4);
    ck_assert_int_eq(p->dims[2], 2);
    ck_assert_uint_eq(p->count, 24);
    ck_assert_double_eq_tol(xai_c3d_param_value(p, 0), 600.000732421875, 1e-4);
    ck_assert_double_eq_tol(xai_c3d_param_value(p, 1), 399.9989013671875, 1e-4);
    p = xai_c3d_param_find(c, "EVENT", "TIMES");
    ck_assert_int_eq(p->ndim, 2);
    ck_assert_int_eq(p->dims[0], 2);
    ck_assert_int_eq(p->dims[1], 5);
    ck_assert_int_eq(p->locked, 0);
    ck_assert(isnan(xai_c3d_param_value(xai_c3d_param_find(c, "POINT", "LABELS"), 0)));
    /* Events (EVENT group): Foot Strike / Foot Off, Left and Right. */
    ck_assert_int_eq(c->nevents, 5);
    static const char *lab[] = {"Foot Strike", "Foot Off", "Foot Strike", "Foot Off", "Foot Strike"};
    static const char *ctx[] = {"Right", "Left", "Left", "Right", "Right"};
    static const double t[] = {1.1945832967758179, 1.3, 1.71, 1.8, 2.17};
    for (int i = 0; i < 5; i++) {
        ck_assert_str_eq(c->events[i].label, lab[i]);
        ck_assert_str_eq(c->events[i].context, ctx[i]);
        ck_assert_double_eq_tol(c->events[i].time_s, t[i], 1e-6);
        ck_assert_int_eq(c->events[i].source, XAI_C3D_EVENT_GROUP);
    }
    ck_assert_str_eq(c->events[0].description, "The instant the heel strikes the ground");
    xai_c3d_close(c);
}
END_TEST

/* Index of @name in the string array parameter ANALYSIS:NAMES (for the Nexus values). */
static double analysis_value(const xai_c3d *c, const char *name)
{
    const xai_c3d_param *n = xai_c3d_param_find(c, "ANALYSIS", "NAMES");
    const xai_c3d_param *v = xai_c3d_param_find(c, "ANALYSIS", "VALUES");
    ck_assert(n && v && n->type == -1);
    size_t len = (size_t)n->dims[0];
    for (size_t i = 0; i < (size_t)n->dims[1]; i++)
        if (strncmp((const char *)n->data + i * len, name, strlen(name)) == 0 &&
            ((const char *)n->data)[i * len + strlen(name)] == ' ')
            return xai_c3d_param_value(v, i);
    ck_abort_msg("no ANALYSIS value %s", name);
    return NAN;
}

START_TEST(test_omcs_cycles)
{
    xai_c3d *c = open_shared("omcs_exampleOverground.c3d");
    if (!c)
        return;
    xai_c3d_cycle *cy = NULL;
    int n = -1;
    ck_assert_int_eq(xai_c3d_gait_cycles(c, NULL, &cy, &n), XAI_OK);
    /* Right strikes at 1.1946 s and 2.17 s; only one Left strike, so no Left cycle. */
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(cy[0].context, "Right");
    ck_assert_double_eq_tol(cy[0].start_s, 1.1945832967758179, 1e-6);
    ck_assert_double_eq_tol(cy[0].end_s, 2.17, 1e-6);
    /* round(t*100)+1 = frames 120 and 218; first frame 2 -> indices 118 and 216. */
    ck_assert_int_eq(cy[0].start_frame, 118);
    ck_assert_int_eq(cy[0].end_frame, 216);
    /* Nexus computed the same numbers and stored them in ANALYSIS:VALUES. */
    ck_assert_double_eq_tol(cy[0].foot_off_pct, analysis_value(c, "Foot Off"), 1e-3);
    ck_assert_double_eq_tol(cy[0].end_s - cy[0].start_s, analysis_value(c, "Stride Time"), 1e-5);
    free(cy);
    ck_assert_int_eq(xai_c3d_gait_cycles(c, "left", &cy, &n), XAI_OK);
    ck_assert_int_eq(n, 0);
    ck_assert_ptr_null(cy);
    ck_assert_int_eq(xai_c3d_gait_cycles(c, "Right", &cy, &n), XAI_OK);
    ck_assert_int_eq(n, 1);

    /* Time normalisation: 0 % and 100 % are the strike frames, 50 % is frame 167 exactly,
     * 1 % lies 0.98 of the way from frame 118 to 119. */
    int idx[2] = {xai_c3d_point_index(c, "RHEE"), xai_c3d_point_index(c, "RKneeAngles")};
    ck_assert_int_ge(idx[1], 0);
    float out[2 * 3 * XAI_C3D_CYCLE_POINTS];
    ck_assert_int_eq(xai_c3d_cycle_points(c, &cy[0], idx, 2, out), XAI_OK);
    for (int j = 0; j < 2; j++)
        for (int k = 0; k < 3; k++) {
            const float *o = out + (j * 3 + k) * XAI_C3D_CYCLE_POINTS;
            ck_assert_float_eq(o[0], pt(c, 118, idx[j])[k]);
            ck_assert_float_eq(o[50], pt(c, 167, idx[j])[k]);
            ck_assert_float_eq(o[100], pt(c, 216, idx[j])[k]);
            double want = 0.02 * pt(c, 118, idx[j])[k] + 0.98 * pt(c, 119, idx[j])[k];
            ck_assert_double_eq_tol(o[1], want, 1e-3);
        }
    /* Knee flexion over a cycle: near extension at strike, a swing peak well above 40 deg. */
    float mx = -1e9f;
    for (int i = 0; i < XAI_C3D_CYCLE_POINTS; i++)
        mx = fmaxf(mx, out[3 * XAI_C3D_CYCLE_POINTS + i]);
    ck_assert_float_gt(mx, 40.0f);
    ck_assert_float_lt(fabsf(out[3 * XAI_C3D_CYCLE_POINTS]), 20.0f);

    int ch = xai_c3d_analog_index(c, "Force.Fz1");
    float aout[XAI_C3D_CYCLE_POINTS];
    ck_assert_int_eq(xai_c3d_cycle_analog(c, &cy[0], &ch, 1, aout), XAI_OK);
    ck_assert_float_eq(aout[0], an(c, ch, 118 * 24));
    ck_assert_float_eq(aout[100], an(c, ch, 216 * 24));
    ck_assert_float_eq(aout[50], an(c, ch, 167 * 24));
    /* Bad indices are refused. */
    int bad = c->npoints;
    ck_assert_int_eq(xai_c3d_cycle_points(c, &cy[0], &bad, 1, out), XAI_EINVAL);
    bad = c->nanalog;
    ck_assert_int_eq(xai_c3d_cycle_analog(c, &cy[0], &bad, 1, aout), XAI_EINVAL);
    free(cy);
    xai_c3d_close(c);
}
END_TEST

START_TEST(test_opensim_walking2)
{
    xai_c3d *c = open_shared("opensim_walking2.c3d");
    if (!c)
        return;
    ck_assert_double_eq_tol(c->point_rate, 250.0, 1e-9);
    ck_assert_double_eq_tol(c->analog_rate, 2000.0, 1e-9);
    ck_assert_int_eq(c->frames, 1249);
    ck_assert_int_eq(c->npoints, 44);
    ck_assert_int_eq(c->nanalog, 12);
    ck_assert_str_eq(c->subject, "Treadmill");
    static const char *m[] = {"RTH1", "LASI", "RASI", "C7", "T10", "CLAV", "STRN", "RCAL", "LHJC", "LKJC", "LAJC"};
    for (size_t i = 0; i < sizeof m / sizeof *m; i++)
        ck_assert_msg(xai_c3d_point_index(c, m[i]) >= 0, "missing %s", m[i]);
    static const char *a[] = {"Fx1", "Fy1", "Fz1", "Mx1", "My1", "Mz1", "Fx2", "Fy2", "Fz2", "Mx2", "My2", "Mz2"};
    for (int i = 0; i < 12; i++)
        ck_assert_str_eq(c->analog_labels[i], a[i]);
    ck_assert_int_eq(c->nevents, 0); /* EVENT group present but empty */
    /* verify_c3d.py: RTH1 first valid at frame index 206; Fz1 sample 5000; 27567 invalid. */
    ck_assert(isnan(pt(c, 205, 0)[0]));
    assert_xyz(pt(c, 206, 0), -2565.473388671875, 305.5486755371094, 855.6091918945312, 1e-3);
    ck_assert_double_eq_tol(an(c, 2, 5000), 13.85565185546875, 1e-4);
    ck_assert_uint_eq(count_invalid(c), 27567);
    xai_c3d_cycle *cy = NULL;
    int n = -1;
    ck_assert_int_eq(xai_c3d_gait_cycles(c, NULL, &cy, &n), XAI_OK);
    ck_assert_int_eq(n, 0);
    xai_c3d_close(c);
}
END_TEST

START_TEST(test_dart_prefixes)
{
    xai_c3d *c = open_shared("dart_nick_freeform_001.c3d");
    if (!c)
        return;
    ck_assert_double_eq_tol(c->point_rate, 120.0, 1e-9);
    ck_assert_int_eq(c->frames, 1101);
    ck_assert_int_eq(c->npoints, 53);
    ck_assert_int_eq(c->nanalog, 0);
    ck_assert_str_eq(c->subject, "Nick01");
    /* "Nick01:LFHD" -> "LFHD" (SUBJECTS:LABEL_PREFIXES), and the extra "ARIEL" marker. */
    ck_assert_str_eq(c->point_labels[0], "ARIEL");
    ck_assert_str_eq(c->point_labels[1], "LFHD");
    ck_assert_int_ge(xai_c3d_point_index(c, "C7"), 0);
    ck_assert_int_ge(xai_c3d_point_index(c, "RTOE"), 0);
    ck_assert_int_eq(xai_c3d_point_index(c, "Nick01:LFHD"), -1);
    assert_xyz(pt(c, 100, 1), -612.6624145507812, 1543.3526611328125, -536.7337646484375, 1e-3);
    ck_assert_uint_eq(count_invalid(c), 3874);
    xai_c3d_close(c);
}
END_TEST

/* --------------------------------------------------- independent fixtures -- */

/* tests/data/c3d/{intel,dec,mips}-{int,real}.c3d, written by make_fixtures.py (pure Python,
 * not our writer); the values are documented in that script. */
START_TEST(test_fixtures_all_types)
{
    static const char *names[6] = {"intel-real.c3d", "intel-int.c3d", "dec-real.c3d",
                                   "dec-int.c3d",    "mips-real.c3d", "mips-int.c3d"};
    static const int procs[6] = {84, 84, 85, 85, 86, 86};
    for (int i = 0; i < 6; i++) {
        const char *path = xai_test_path(xai_test_path(xai_test_data_dir(), "c3d"), names[i]);
        xai_c3d *c = NULL;
        ck_assert_msg(xai_c3d_open(path, &c) == XAI_OK, "%s: %s", names[i], xai_last_error());
        ck_assert_int_eq(c->processor, procs[i]);
        ck_assert_int_eq(c->float_storage, i % 2 == 0);
        ck_assert_double_eq_tol(fabs(c->point_scale), 0.25, 1e-9);
        ck_assert_double_eq_tol(c->point_rate, 50.0, 1e-9);
        ck_assert_double_eq_tol(c->analog_rate, 100.0, 1e-9);
        ck_assert_int_eq(c->frames, 4);
        ck_assert_int_eq(c->npoints, 2);
        ck_assert_int_eq(c->nanalog, 2);
        ck_assert_int_eq(c->analog_per_frame, 2);
        ck_assert_str_eq(c->point_labels[0], "LHEE");
        ck_assert_str_eq(c->point_labels[1], "RHEE");
        ck_assert_str_eq(c->analog_labels[1], "EMG");
        ck_assert_str_eq(c->subject, "Subj");
        for (int f = 0; f < 4; f++) {
            assert_xyz(pt(c, f, 0), 10 + f, 20.5, -30.25, 0);
            ck_assert_float_eq(c->residuals[f * 2], 0.5f); /* low byte 2 x 0.25 */
            if (f == 2) {
                ck_assert(isnan(pt(c, f, 1)[0]) && isnan(pt(c, f, 1)[2]));
                ck_assert_float_eq(c->residuals[f * 2 + 1], -1.0f);
            } else {
                assert_xyz(pt(c, f, 1), 1.5 * f, -f, 100, 0);
                ck_assert_float_eq(c->residuals[f * 2 + 1], 0.0f);
            }
        }
        for (int s = 0; s < 8; s++) {
            ck_assert_double_eq_tol(an(c, 0, (size_t)s), (100 + 10 * s - 10) * 0.5 * 1.5, 1e-4);
            ck_assert_double_eq_tol(an(c, 1, (size_t)s), (s - 5) * 2.0 * 1.5, 1e-4);
        }
        ck_assert_int_eq(c->nevents, 4);
        ck_assert_str_eq(c->events[0].label, "HS1");
        ck_assert_int_eq(c->events[0].source, XAI_C3D_EVENT_HEADER);
        ck_assert_double_eq_tol(c->events[0].time_s, 0.04, 1e-6);
        ck_assert_str_eq(c->events[2].label, "Foot Off");
        ck_assert_str_eq(c->events[3].context, "Left");
        ck_assert_double_eq_tol(c->events[3].time_s, 60.06, 1e-5);
        xai_c3d_close(c);
    }
}
END_TEST

/* ------------------------------------------------------------ round trips -- */

static xai_c3d *synthetic(void)
{
    xai_c3d *c = NULL;
    ck_assert_int_eq(xai_c3d_new(5, 3, 50, 4, 100.0, &c), XAI_OK);
    c->first_frame = 7;
    for (int f = 0; f < 50; f++)
        for (int p = 0; p < 5; p++) {
            float *x = c->points + ((size_t)f * 5 + (size_t)p) * 3;
            x[0] = (float)(100.0 * sin(0.1 * f + p));
            x[1] = (float)(-250.5 + 3.25 * f);
            x[2] = (float)(1000.0 + 10 * p - 0.125 * f);
            c->residuals[f * 5 + p] = (float)(0.5 * ((f + p) % 7));
            if ((f + 2 * p) % 11 == 0) {
                x[0] = x[1] = x[2] = NAN;
                c->residuals[f * 5 + p] = -1;
            }
        }
    c->point_scale = -0.5f; /* float storage; residual unit 0.5 */
    for (int ch = 0; ch < 3; ch++)
        for (int s = 0; s < 200; s++)
            c->analog[ch * 200 + s] = (float)((ch + 1) * 50.0 * cos(0.05 * s) - 7 * ch);
    free(c->point_labels[2]);
    c->point_labels[2] = strdup("LHEE");
    free(c->analog_labels[1]);
    c->analog_labels[1] = strdup("Force.Fz1");
    free(c->subject);
    c->subject = strdup("Tester");
    ck_assert_int_eq(xai_c3d_add_event(c, "Foot Strike", "Left", 0.08, XAI_C3D_EVENT_GROUP), XAI_OK);
    ck_assert_int_eq(xai_c3d_add_event(c, "Foot Off", "Left", 0.21, XAI_C3D_EVENT_GROUP), XAI_OK);
    ck_assert_int_eq(xai_c3d_add_event(c, "Foot Strike", "Left", 0.40, XAI_C3D_EVENT_GROUP), XAI_OK);
    ck_assert_int_eq(xai_c3d_add_event(c, "Foot Strike", "Right", 61.5, XAI_C3D_EVENT_GROUP), XAI_OK);
    ck_assert_int_eq(xai_c3d_add_event(c, "RHS", "", 0.3, XAI_C3D_EVENT_HEADER), XAI_OK);
    return c;
}

static void compare(const xai_c3d *a, const xai_c3d *b, int integer, double ptol)
{
    ck_assert_int_eq(b->frames, a->frames);
    ck_assert_int_eq(b->first_frame, a->first_frame);
    ck_assert_int_eq(b->npoints, a->npoints);
    ck_assert_int_eq(b->nanalog, a->nanalog);
    ck_assert_int_eq(b->analog_per_frame, a->analog_per_frame);
    ck_assert_int_eq(b->float_storage, !integer);
    ck_assert_double_eq_tol(b->point_rate, a->point_rate, 1e-4);
    ck_assert_double_eq_tol(b->analog_rate, a->analog_rate, 1e-3);
    ck_assert_str_eq(b->subject, a->subject);
    for (int i = 0; i < a->npoints; i++)
        ck_assert_str_eq(b->point_labels[i], a->point_labels[i]);
    for (int i = 0; i < a->nanalog; i++)
        ck_assert_str_eq(b->analog_labels[i], a->analog_labels[i]);
    size_t n = (size_t)a->frames * (size_t)a->npoints;
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(isnan(b->points[3 * i]), isnan(a->points[3 * i]));
        if (isnan(a->points[3 * i])) {
            ck_assert_float_eq(b->residuals[i], -1.0f);
            continue;
        }
        for (int k = 0; k < 3; k++)
            ck_assert_double_eq_tol(b->points[3 * i + k], a->points[3 * i + k], ptol + 1e-9);
        if (!integer)
            ck_assert_float_eq(b->residuals[i], a->residuals[i]);
    }
    size_t ns = (size_t)a->frames * (size_t)a->analog_per_frame * (size_t)a->nanalog;
    for (size_t i = 0; i < ns; i++) {
        double tol = integer ? 200.0 / 32000.0 : 0.0; /* max |v| of the synthetic data is 150 */
        ck_assert_double_eq_tol(b->analog[i], a->analog[i], tol + 1e-6 * fabs(a->analog[i]) + 1e-9);
    }
    ck_assert_int_eq(b->nevents, a->nevents);
}

START_TEST(test_roundtrip_all_types)
{
    static const int procs[3] = {XAI_C3D_INTEL, XAI_C3D_DEC, XAI_C3D_MIPS};
    char *dir = xai_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/trip.c3d", dir);
    xai_c3d *a = synthetic();
    for (int pi = 0; pi < 3; pi++)
        for (int integer = 0; integer < 2; integer++) {
            xai_c3d_write_options opt = {procs[pi], integer, 0.0f};
            ck_assert_msg(xai_c3d_write(path, a, &opt) == XAI_OK, "%s", xai_last_error());
            size_t len;
            uint8_t *raw = xai_test_read_file(path, &len);
            ck_assert_ptr_nonnull(raw);
            ck_assert_uint_eq(len % 512, 0);
            ck_assert_int_eq(raw[1], 0x50);
            ck_assert_int_eq(raw[(raw[0] - 1) * 512 + 3], procs[pi]);
            /* Header word 2 (number of points) in the processor's byte order. */
            if (procs[pi] == XAI_C3D_MIPS)
                ck_assert(raw[2] == 0 && raw[3] == 5);
            else
                ck_assert(raw[2] == 5 && raw[3] == 0);
            /* DEC stores POINT:RATE 100.0 as VAX F: words 0x43c8, 0x0000 little-endian. */
            free(raw);

            xai_c3d *b = NULL;
            ck_assert_msg(xai_c3d_open(path, &b) == XAI_OK, "%s", xai_last_error());
            ck_assert_int_eq(b->processor, procs[pi]);
            /* float storage is exact in every processor type (VAX F covers these values);
             * int16 storage is within half a scale step (scale = max|xyz| / 32000). */
            compare(a, b, integer, integer ? 1100.0 / 32000.0 : 0.0);
            ck_assert_str_eq(b->events[0].label, "RHS");
            ck_assert_int_eq(b->events[0].source, XAI_C3D_EVENT_HEADER);
            ck_assert_double_eq_tol(b->events[0].time_s, 0.3, 1e-6);
            ck_assert_str_eq(b->events[4].label, "Foot Strike");
            ck_assert_str_eq(b->events[4].context, "Right");
            ck_assert_double_eq_tol(b->events[4].time_s, 61.5, 1e-5); /* 1 min + 1.5 s */
            const xai_c3d_param *tm = xai_c3d_param_find(b, "EVENT", "TIMES");
            ck_assert_double_eq(xai_c3d_param_value(tm, 6), 1.0);
            ck_assert_double_eq_tol(xai_c3d_param_value(tm, 7), 1.5, 1e-6);
            /* Gait cycle from the written events: Left 0.08 -> 0.40 s, first frame 7. */
            xai_c3d_cycle *cy = NULL;
            int n = 0;
            ck_assert_int_eq(xai_c3d_gait_cycles(b, NULL, &cy, &n), XAI_OK);
            ck_assert_int_eq(n, 1);
            ck_assert_int_eq(cy[0].start_frame, 8 + 1 - 7);
            ck_assert_int_eq(cy[0].end_frame, 40 + 1 - 7);
            ck_assert_double_eq_tol(cy[0].foot_off_pct, 100.0 * 0.13 / 0.32, 1e-4);
            free(cy);
            xai_c3d_close(b);
        }
    xai_c3d_close(a);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_dec_vax_bytes)
{
    /* Independent check of the VAX F encoding: 1.0 is 0x4080 0x0000, -2.5 is 0xC120 0x0000. */
    char *dir = xai_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/dec.c3d", dir);
    xai_c3d *a = NULL;
    ck_assert_int_eq(xai_c3d_new(1, 0, 1, 0, 1.0, &a), XAI_OK);
    a->points[0] = 1.0f;
    a->points[1] = -2.5f;
    a->points[2] = 0.0f;
    xai_c3d_write_options opt = {XAI_C3D_DEC, 0, 0};
    ck_assert_int_eq(xai_c3d_write(path, a, &opt), XAI_OK);
    size_t len;
    uint8_t *raw = xai_test_read_file(path, &len);
    unsigned dstart = raw[16] | raw[17] << 8;
    const uint8_t *d = raw + (dstart - 1) * 512;
    static const uint8_t want[12] = {0x80, 0x40, 0, 0, 0x20, 0xc1, 0, 0, 0, 0, 0, 0};
    ck_assert(memcmp(d, want, 12) == 0);
    /* header word 11-12: rate 1.0 in VAX F as well */
    ck_assert(raw[20] == 0x80 && raw[21] == 0x40 && raw[22] == 0 && raw[23] == 0);
    free(raw);
    xai_c3d_close(a);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_roundtrip_real_file)
{
    xai_c3d *c = open_shared("omcs_exampleOverground.c3d");
    if (!c)
        return;
    char *dir = xai_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/omcs.c3d", dir);
    static const int procs[3] = {XAI_C3D_INTEL, XAI_C3D_DEC, XAI_C3D_MIPS};
    for (int pi = 0; pi < 3; pi++) {
        xai_c3d_write_options opt = {procs[pi], pi == 1, 0.0f};
        ck_assert_msg(xai_c3d_write(path, c, &opt) == XAI_OK, "%s", xai_last_error());
        xai_c3d *b = NULL;
        ck_assert_msg(xai_c3d_open(path, &b) == XAI_OK, "%s", xai_last_error());
        ck_assert_int_eq(b->frames, 459);
        ck_assert_int_eq(b->first_frame, 2);
        ck_assert_int_eq(b->nevents, 5);
        ck_assert_uint_eq(count_invalid(b), 4204);
        int k = xai_c3d_point_index(b, "LKNE");
        ck_assert_int_eq(k, 41);
        /* int16 storage: within half a step of the scales the writer chose. */
        double tol = pi == 1 ? 0.5 * fabs(b->point_scale) + 1e-6 : 0.0;
        double atol = pi == 1 ? 0.5 * xai_c3d_param_value(xai_c3d_param_find(b, "ANALOG", "SCALE"), 2) + 1e-6 : 0.0;
        ck_assert_int_eq(b->float_storage, pi != 1);
        assert_xyz(pt(b, 100, 41), pt(c, 100, 41)[0], pt(c, 100, 41)[1], pt(c, 100, 41)[2], tol);
        ck_assert_double_eq_tol(an(b, 2, 5000), an(c, 2, 5000), atol + 1e-9);
        xai_c3d_cycle *cy = NULL;
        int n = 0;
        ck_assert_int_eq(xai_c3d_gait_cycles(b, NULL, &cy, &n), XAI_OK);
        ck_assert_int_eq(n, 1);
        ck_assert_int_eq(cy[0].start_frame, 118);
        ck_assert_int_eq(cy[0].end_frame, 216);
        free(cy);
        xai_c3d_close(b);
    }
    xai_c3d_close(c);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_labels2_continuation)
{
    char *dir = xai_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/many.c3d", dir);
    xai_c3d *a = NULL;
    ck_assert_int_eq(xai_c3d_new(300, 0, 2, 0, 60.0, &a), XAI_OK);
    for (int i = 0; i < 300; i++) {
        char lab[32];
        snprintf(lab, sizeof lab, "S1:M%03d", i);
        free(a->point_labels[i]);
        a->point_labels[i] = strdup(lab);
        a->points[3 * i] = (float)i;
    }
    ck_assert_int_eq(xai_c3d_write(path, a, NULL), XAI_OK);
    xai_c3d *b = NULL;
    ck_assert_int_eq(xai_c3d_open(path, &b), XAI_OK);
    const xai_c3d_param *l1 = xai_c3d_param_find(b, "POINT", "LABELS");
    const xai_c3d_param *l2 = xai_c3d_param_find(b, "POINT", "LABELS2");
    ck_assert_ptr_nonnull(l1);
    ck_assert_ptr_nonnull(l2);
    ck_assert_int_eq(l1->dims[1], 255);
    ck_assert_int_eq(l2->dims[1], 45);
    ck_assert_int_eq(b->npoints, 300);
    ck_assert_str_eq(b->point_labels[254], "M254"); /* prefix "S1:" stripped */
    ck_assert_str_eq(b->point_labels[255], "M255");
    ck_assert_str_eq(b->point_labels[299], "M299");
    ck_assert_float_eq(pt(b, 0, 299)[0], 299.0f);
    xai_c3d_close(a);
    xai_c3d_close(b);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_long_frames)
{
    char *dir = xai_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/long.c3d", dir);
    xai_c3d *a = NULL;
    const int64_t nf = 70000;
    ck_assert_int_eq(xai_c3d_new(1, 0, nf, 0, 1000.0, &a), XAI_OK);
    for (int64_t f = 0; f < nf; f++)
        a->points[3 * f] = (float)f;
    ck_assert_int_eq(xai_c3d_add_event(a, "Foot Strike", "Left", 68.5, XAI_C3D_EVENT_GROUP), XAI_OK);
    xai_c3d_write_options opt = {XAI_C3D_MIPS, 0, 0};
    ck_assert_int_eq(xai_c3d_write(path, a, &opt), XAI_OK);
    size_t len;
    uint8_t *raw = xai_test_read_file(path, &len);
    ck_assert_int_eq(raw[8] << 8 | raw[9], 65535); /* header last frame saturates */
    free(raw);
    xai_c3d *b = NULL;
    ck_assert_msg(xai_c3d_open(path, &b) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(b->frames, nf);
    ck_assert_float_eq(pt(b, 69999, 0)[0], 69999.0f);
    ck_assert_float_eq(pt(b, 65536, 0)[0], 65536.0f);
    ck_assert_double_eq_tol(b->events[0].time_s, 68.5, 1e-5);
    xai_c3d_close(a);
    xai_c3d_close(b);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_write_errors)
{
    char *dir = xai_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/bad.c3d", dir);
    xai_c3d *a = NULL;
    ck_assert_int_eq(xai_c3d_new(1, 0, 3, 0, 50.0, &a), XAI_OK);
    a->points[0] = 40000.0f;
    xai_c3d_write_options opt = {XAI_C3D_INTEL, 1, 1.0f}; /* scale 1: 40000 does not fit int16 */
    ck_assert_int_eq(xai_c3d_write(path, a, &opt), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "int16"));
    opt.processor = 99;
    ck_assert_int_eq(xai_c3d_write(path, a, &opt), XAI_EINVAL);
    /* Nothing, not even a temporary file, is left behind. */
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/no/such/dir/x.c3d", dir);
    ck_assert_int_eq(xai_c3d_write(path, a, NULL), XAI_EIO);
    ck_assert_int_eq(xai_c3d_new(-1, 0, 3, 0, 50.0, &(xai_c3d *){NULL}), XAI_EINVAL);
    ck_assert_int_eq(xai_c3d_new(1, 0, 3, 0, 0.0, &(xai_c3d *){NULL}), XAI_EINVAL);
    xai_c3d_close(a);
    xai_c3d_close(NULL);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* -------------------------------------------------------------- malformed -- */

/* A small valid Intel file in memory (written by our writer, then mutated). */
static uint8_t *valid_file(size_t *len, int integer)
{
    char *dir = xai_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/ok.c3d", dir);
    xai_c3d *a = synthetic();
    xai_c3d_write_options opt = {XAI_C3D_INTEL, integer, 0};
    ck_assert_int_eq(xai_c3d_write(path, a, &opt), XAI_OK);
    uint8_t *b = xai_test_read_file(path, len);
    ck_assert_ptr_nonnull(b);
    xai_c3d_close(a);
    xai_test_rmtree(dir);
    free(dir);
    return b;
}

/* Byte offset of the n-th (0-based) parameter record named @name: its name-length byte. */
static size_t find_record(const uint8_t *b, size_t len, const char *name, int nth)
{
    size_t n = strlen(name);
    for (size_t i = 512; i + 2 + n < len; i++)
        if (b[i] == n && (int8_t)b[i + 1] > 0 && memcmp(b + i + 2, name, n) == 0 && nth-- == 0)
            return i;
    ck_abort_msg("no parameter %s", name);
    return 0;
}

/* Offset of the data of that parameter. */
static size_t find_param(const uint8_t *b, size_t len, const char *name, int nth)
{
    size_t r = find_record(b, len, name, nth), n = strlen(name);
    return r + 2 + n + 2 + 2 + b[r + 2 + n + 3];
}

static void put16(uint8_t *p, int v)
{
    p[0] = (uint8_t)(v & 0xff);
    p[1] = (uint8_t)((v >> 8) & 0xff);
}

static void putf(uint8_t *p, float v)
{
    memcpy(p, &v, 4); /* the test machine is little-endian like the Intel files */
}

static void expect_error(const uint8_t *b, size_t len, xai_status want, const char *needle)
{
    xai_c3d *c = NULL;
    xai_status st = xai_c3d_open_mem(b, len, "bad.c3d", &c);
    ck_assert_msg(st == want, "expected %d got %d (%s) for '%s'", want, st, xai_last_error(), needle);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(xai_last_error(), "bad.c3d") != NULL, "message lacks file name: %s", xai_last_error());
    ck_assert_msg(strstr(xai_last_error(), needle) != NULL, "message '%s' lacks '%s'", xai_last_error(), needle);
}

START_TEST(test_malformed)
{
    size_t len;
    uint8_t *ok = valid_file(&len, 0);
    uint8_t *b = malloc(len);
    xai_c3d *c = NULL;
    ck_assert_int_eq(xai_c3d_open_mem(ok, len, "ok.c3d", &c), XAI_OK);
    xai_c3d_close(c);

#define FRESH() memcpy(b, ok, len)
    /* Truncated: inside the header, inside the parameters, inside the data. */
    FRESH();
    expect_error(b, 300, XAI_EFORMAT, "truncated");
    expect_error(b, 0, XAI_EFORMAT, "truncated");
    expect_error(b, 600, XAI_EFORMAT, "parameter");
    expect_error(b, len - 1500, XAI_EFORMAT, "truncated"); /* beyond the block padding */
    /* Wrong magic: byte 2 must be 0x50. */
    FRESH();
    b[1] = 0x51;
    expect_error(b, len, XAI_EFORMAT, "0x50");
    /* Parameter block pointer outside the file / processor type unknown. */
    FRESH();
    b[0] = 200;
    expect_error(b, len, XAI_EFORMAT, "parameter block");
    FRESH();
    b[512 + 3] = 90;
    expect_error(b, len, XAI_EFORMAT, "processor type");
    /* Huge sizes: 30000 points or 20000 analog channels cannot fit in the file. */
    FRESH();
    put16(b + find_param(b, len, "USED", 0), 30000);
    expect_error(b, len, XAI_EFORMAT, "truncated");
    FRESH();
    put16(b + 4, 60001);
    put16(b + find_param(b, len, "USED", 1), 20000);
    expect_error(b, len, XAI_EFORMAT, "analog");
    FRESH();
    put16(b + 8, 65000); /* last frame */
    expect_error(b, len, XAI_EFORMAT, "truncated");
    /* A parameter whose dimensions run past its record. */
    FRESH();
    {
        size_t r = find_record(b, len, "LABELS", 0);
        b[r + 2 + 6 + 2 + 2] = 255;
        b[r + 2 + 6 + 2 + 2 + 1] = 255;
        expect_error(b, len, XAI_EFORMAT, "LABELS");
    }
    /* Bad parameter type and negative record offset. */
    FRESH();
    b[find_record(b, len, "RATE", 0) + 2 + 4 + 2] = 3;
    expect_error(b, len, XAI_EFORMAT, "bad type");
    FRESH();
    put16(b + find_record(b, len, "RATE", 0) + 2 + 4, -20);
    expect_error(b, len, XAI_EFORMAT, "negative offset");
    /* Negative counts. */
    FRESH();
    put16(b + find_param(b, len, "USED", 0), -5);
    expect_error(b, len, XAI_EFORMAT, "negative POINT:USED");
    FRESH();
    put16(b + find_param(b, len, "USED", 1), -2);
    expect_error(b, len, XAI_EFORMAT, "negative ANALOG:USED");
    FRESH();
    put16(b + find_param(b, len, "USED", 2), -1);
    expect_error(b, len, XAI_EFORMAT, "negative EVENT:USED");
    FRESH();
    put16(b + find_param(b, len, "USED", 2), 100); /* more events than TIMES holds */
    expect_error(b, len, XAI_EFORMAT, "EVENT:TIMES");
    FRESH();
    put16(b + 6, 10); /* first frame after last frame */
    put16(b + 8, 5);
    put16(b + find_param(b, len, "ACTUAL_START_FIELD", 0), 0);
    expect_error(b, len, XAI_EFORMAT, "before first frame");
    /* Zero sample rate (point and analog). */
    FRESH();
    putf(b + find_param(b, len, "RATE", 0), 0.0f);
    expect_error(b, len, XAI_EFORMAT, "point rate");
    FRESH();
    putf(b + find_param(b, len, "RATE", 1), 0.0f);
    expect_error(b, len, XAI_EFORMAT, "analog rate");
    /* Bad scaling. */
    FRESH();
    putf(b + find_param(b, len, "SCALE", 0), 0.0f);
    expect_error(b, len, XAI_EFORMAT, "POINT:SCALE");
    FRESH();
    putf(b + find_param(b, len, "SCALE", 0), NAN);
    expect_error(b, len, XAI_EFORMAT, "POINT:SCALE");
    FRESH();
    putf(b + find_param(b, len, "GEN_SCALE", 0), INFINITY);
    expect_error(b, len, XAI_EFORMAT, "GEN_SCALE");
    FRESH();
    putf(b + find_param(b, len, "SCALE", 1), NAN); /* ANALOG:SCALE[0] */
    expect_error(b, len, XAI_EFORMAT, "ANALOG:SCALE");
    /* DATA_START inside the parameter section; too many header events. */
    FRESH();
    put16(b + 16, 2);
    expect_error(b, len, XAI_EFORMAT, "DATA_START");
    FRESH();
    put16(b + 300, 19);
    expect_error(b, len, XAI_EFORMAT, "header events");

    /* Fuzzer regression: a group with id -128 (its parameters become orphans). */
    FRESH();
    {
        size_t i = 512 + 4;
        ck_assert(b[i] == 5 && memcmp(b + i + 2, "POINT", 5) == 0);
        b[i + 1] = 0x80;
        c = NULL;
        xai_status st = xai_c3d_open_mem(b, len, "gid.c3d", &c);
        ck_assert(st == XAI_OK || st == XAI_EFORMAT);
        xai_c3d_close(c);
    }

    /* Locked flag: a negative name length is still the same parameter. */
    FRESH();
    b[find_record(b, len, "RATE", 0)] = (uint8_t)-4;
    ck_assert_int_eq(xai_c3d_open_mem(b, len, "locked.c3d", &c), XAI_OK);
    ck_assert_int_eq(xai_c3d_param_find(c, "POINT", "RATE")->locked, 1);
    ck_assert_int_eq(xai_c3d_param_find(c, "POINT", "SCALE")->locked, 0);
    ck_assert_double_eq(c->point_rate, 100.0);
    xai_c3d_close(c);
    ck_assert_int_eq(xai_c3d_open("/nonexistent/x.c3d", &c), XAI_EIO);
    ck_assert_int_eq(xai_c3d_open_mem(NULL, 10, "x", &c), XAI_EINVAL);
#undef FRESH
    free(b);
    free(ok);
}
END_TEST

START_TEST(test_malformed_integer)
{
    size_t len;
    uint8_t *b = valid_file(&len, 1);
    xai_c3d *c = NULL;
    ck_assert_int_eq(xai_c3d_open_mem(b, len, "ok.c3d", &c), XAI_OK);
    ck_assert_int_eq(c->float_storage, 0);
    xai_c3d_close(c);
    /* Integer storage data section is half as long; the float-sized claim must not fit. */
    putf(b + find_param(b, len, "SCALE", 0), -0.1f);
    expect_error(b, len, XAI_EFORMAT, "truncated");
    putf(b + find_param(b, len, "SCALE", 0), 0.0f);
    expect_error(b, len, XAI_EFORMAT, "POINT:SCALE");
    free(b);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("c3d");
    TCase *tc = tcase_create("real");
    tcase_add_test(tc, test_omcs_overground);
    tcase_add_test(tc, test_omcs_cycles);
    tcase_add_test(tc, test_opensim_walking2);
    tcase_add_test(tc, test_dart_prefixes);
    tcase_add_test(tc, test_roundtrip_real_file);
    suite_add_tcase(s, tc);
    tc = tcase_create("roundtrip");
    tcase_add_test(tc, test_fixtures_all_types);
    tcase_add_test(tc, test_roundtrip_all_types);
    tcase_add_test(tc, test_dec_vax_bytes);
    tcase_add_test(tc, test_labels2_continuation);
    tcase_add_test(tc, test_long_frames);
    tcase_add_test(tc, test_write_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_malformed_integer);
    suite_add_tcase(s, tc);
    return s;
}
