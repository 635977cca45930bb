/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-opensim.c - OpenSim .trc and .mot readers and the .mot writer.
 * Real files from ../shared/data/gait (SOURCES.md: 41 markers at 60 Hz over 151 frames;
 * GRF 1501 rows x 19 columns; IK 211 rows x 24 columns). Values at fixed rows were read
 * from the raw text by tests/data/c3d/verify_c3d.py. Plus small in-memory files, a
 * write-then-read round trip and a malformed corpus.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"
#include "xai/opensim.h"

static const char *shared(const char *file)
{
    const char *dir = xai_test_shared_dir();
    if (!dir) {
        xai_test_mark_skip();
        return NULL;
    }
    return xai_test_path(xai_test_path(dir, "data/gait"), file);
}

START_TEST(test_trc_real)
{
    const char *path = shared("opensim_subject01_walk1.trc");
    if (!path)
        return;
    xai_trc *t = NULL;
    ck_assert_msg(xai_trc_open(path, &t) == XAI_OK, "%s", xai_last_error());
    ck_assert_str_eq(t->name, "subject01_walk1.trc");
    ck_assert_double_eq_tol(t->data_rate, 60.0, 1e-12);
    ck_assert_double_eq_tol(t->camera_rate, 60.0, 1e-12);
    ck_assert_double_eq_tol(t->orig_data_rate, 60.0, 1e-12);
    ck_assert_int_eq(t->orig_data_start_frame, 1);
    ck_assert_int_eq(t->orig_num_frames, 151);
    ck_assert_str_eq(t->units, "mm");
    ck_assert_int_eq(t->nmarkers, 41);
    ck_assert_int_eq(t->frames, 151);
    ck_assert_str_eq(t->markers[0], "R.ASIS");
    ck_assert_str_eq(t->markers[1], "L.ASIS");
    ck_assert_str_eq(t->markers[2], "V.Sacral");
    ck_assert_str_eq(t->markers[40], "Top.Head");
    ck_assert_int_ge(xai_trc_marker_index(t, "R.Heel"), 0);
    ck_assert_int_eq(xai_trc_marker_index(t, "nope"), -1);
    /* Row 10 (verify_c3d.py): frame 11, time 0.167, R.ASIS 641.120480 1061.533570 141.792310. */
    ck_assert_int_eq(t->frame_numbers[10], 11);
    ck_assert_double_eq_tol(t->time[10], 0.167, 1e-12);
    ck_assert_float_eq_tol(t->points[10 * 41 * 3 + 0], 641.120480f, 1e-3f);
    ck_assert_float_eq_tol(t->points[10 * 41 * 3 + 1], 1061.533570f, 1e-3f);
    ck_assert_float_eq_tol(t->points[10 * 41 * 3 + 2], 141.792310f, 1e-3f);
    ck_assert_int_eq(t->frame_numbers[150], 151);
    ck_assert_double_eq_tol(t->time[150], 2.5, 1e-12);
    ck_assert_float_eq_tol(t->points[150 * 41 * 3 + 0], 597.613650f, 1e-3f);
    for (size_t i = 0; i < 151 * 41 * 3; i++)
        ck_assert(isfinite(t->points[i]));
    /* In memory gives the same result. */
    size_t len;
    void *buf = xai_test_read_file(path, &len);
    xai_trc *m = NULL;
    ck_assert_int_eq(xai_trc_open_mem(buf, len, "walk.trc", &m), XAI_OK);
    ck_assert(memcmp(m->points, t->points, 151 * 41 * 3 * sizeof(float)) == 0);
    xai_trc_close(m);
    /* A TRC is not a MOT: clear error. */
    xai_mot *mo = NULL;
    ck_assert_int_eq(xai_mot_open_mem(buf, len, "walk.trc", &mo), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "endheader"));
    free(buf);
    xai_trc_close(t);
}
END_TEST

START_TEST(test_mot_grf)
{
    const char *path = shared("opensim_subject01_walk1_grf.mot");
    if (!path)
        return;
    xai_mot *m = NULL;
    ck_assert_msg(xai_mot_open(path, &m) == XAI_OK, "%s", xai_last_error());
    ck_assert_str_eq(m->name, "subject01_walk1_grf.mot");
    ck_assert_int_eq(m->version, 1);
    ck_assert_int_eq(m->in_degrees, 1);
    ck_assert_int_eq(m->rows, 1501);
    ck_assert_int_eq(m->ncolumns, 19);
    ck_assert_str_eq(xai_mot_header(m, "nRows"), "1501");
    ck_assert_str_eq(xai_mot_header(m, "inDegrees"), "yes");
    ck_assert_ptr_null(xai_mot_header(m, "nothing"));
    ck_assert_int_eq(m->time_column, 0);
    ck_assert_str_eq(m->labels[1], "ground_force_vx");
    ck_assert_str_eq(m->labels[18], "1_ground_torque_z");
    ck_assert_int_eq(xai_mot_column(m, "1_ground_force_vy"), 8);
    /* Row 100: 0.1667 4.00805885 17.19665682 -4.98843424 (verify_c3d.py). */
    ck_assert_double_eq_tol(m->time[100], 0.1667, 1e-12);
    ck_assert_float_eq_tol(m->data[100 * 19 + 1], 4.00805885f, 1e-5f);
    ck_assert_float_eq_tol(m->data[100 * 19 + 2], 17.19665682f, 1e-5f);
    ck_assert_float_eq_tol(m->data[100 * 19 + 3], -4.98843424f, 1e-5f);
    ck_assert_double_eq_tol(m->time[1500], 2.5, 1e-12);
    /* 600 Hz */
    ck_assert_double_eq_tol((m->time[1500] - m->time[0]) / 1500.0, 1.0 / 600.0, 1e-6);
    xai_mot_close(m);
}
END_TEST

START_TEST(test_mot_ik)
{
    const char *path = shared("opensim_subject01_walk1_ik.mot");
    if (!path)
        return;
    xai_mot *m = NULL;
    ck_assert_msg(xai_mot_open(path, &m) == XAI_OK, "%s", xai_last_error());
    ck_assert_str_eq(m->name, "Coordinates");
    ck_assert_int_eq(m->in_degrees, 1); /* from "Angles are in degrees." */
    ck_assert_int_eq(m->rows, 211);
    ck_assert_int_eq(m->ncolumns, 24);
    ck_assert_int_eq(xai_mot_column(m, "pelvis_tilt"), 1);
    ck_assert_int_ge(xai_mot_column(m, "hip_flexion_r"), 0);
    ck_assert_int_ge(xai_mot_column(m, "knee_angle_r"), 0);
    ck_assert_int_ge(xai_mot_column(m, "ankle_angle_r"), 0);
    ck_assert_str_eq(m->labels[23], "lumbar_rotation");
    ck_assert_double_eq_tol(m->time[0], 0.5, 1e-12);
    ck_assert_double_eq_tol(m->time[210], 4.0, 1e-12);
    ck_assert_double_eq_tol(m->time[100], 2.16666667, 1e-9);
    ck_assert_float_eq_tol(m->data[100 * 24 + 1], 5.81841315f, 1e-5f);
    ck_assert_float_eq_tol(m->data[100 * 24 + 2], -1.81467215f, 1e-5f);
    ck_assert_float_eq_tol(m->data[100 * 24 + 3], 1.28352884f, 1e-5f);
    xai_mot_close(m);
}
END_TEST

START_TEST(test_trc_small)
{
    /* Space-free tab file with a gap (empty cells) and CRLF line ends. */
    static const char trc[] =
        "PathFileType\t4\t(X/Y/Z)\tsmall.trc\r\n"
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\r\n"
        "100\t100\t2\t2\tm\r\n"
        "Frame#\tTime\tA\t\t\tB\t\t\r\n"
        "\t\tX1\tY1\tZ1\tX2\tY2\tZ2\r\n"
        "\r\n"
        "1\t0.00\t1\t2\t3\t4\t5\t6\r\n"
        "2\t0.01\t7\t8\t9\t\t\t\r\n";
    xai_trc *t = NULL;
    ck_assert_msg(xai_trc_open_mem(trc, sizeof trc - 1, "small.trc", &t) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(t->nmarkers, 2);
    ck_assert_str_eq(t->markers[1], "B");
    ck_assert_str_eq(t->units, "m");
    ck_assert_float_eq(t->points[5], 6.0f);
    ck_assert_float_eq(t->points[6], 7.0f);
    ck_assert(isnan(t->points[9]) && isnan(t->points[10]) && isnan(t->points[11]));
    ck_assert_double_eq_tol(t->time[1], 0.01, 1e-15);
    xai_trc_close(t);
    xai_trc_close(NULL);
}
END_TEST

START_TEST(test_mot_roundtrip)
{
    char *dir = xai_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/angles.mot", dir);
    const char *labels[3] = {"time", "knee_angle_r", "hip_flexion_r"};
    double d[4 * 3];
    for (int r = 0; r < 4; r++) {
        d[r * 3] = r / 60.0;
        d[r * 3 + 1] = 10.0 * sin(r) + 1e-7;
        d[r * 3 + 2] = -3.0 * r;
    }
    d[2 * 3 + 2] = NAN;
    ck_assert_int_eq(xai_mot_write(path, "angles", 3, labels, 4, d, 1), XAI_OK);
    xai_mot *m = NULL;
    ck_assert_msg(xai_mot_open(path, &m) == XAI_OK, "%s", xai_last_error());
    ck_assert_str_eq(m->name, "angles");
    ck_assert_int_eq(m->in_degrees, 1);
    ck_assert_int_eq(m->rows, 4);
    ck_assert_int_eq(m->ncolumns, 3);
    for (int c = 0; c < 3; c++)
        ck_assert_str_eq(m->labels[c], labels[c]);
    for (int i = 0; i < 12; i++) {
        if (isnan(d[i]))
            ck_assert(isnan(m->data[i]));
        else
            ck_assert_float_eq(m->data[i], (float)d[i]);
    }
    for (int r = 0; r < 4; r++)
        ck_assert(m->time[r] == d[r * 3]); /* %.17g is exact */
    xai_mot_close(m);
    ck_assert_int_eq(xai_mot_write(path, "x", 3, labels, 4, d, 0), XAI_OK);
    ck_assert_int_eq(xai_mot_open(path, &m), XAI_OK);
    ck_assert_int_eq(m->in_degrees, 0);
    xai_mot_close(m);
    const char *bad[2] = {"time", "a\tb"};
    ck_assert_int_eq(xai_mot_write(path, "x", 2, bad, 1, d, 0), XAI_EINVAL);
    snprintf(path, sizeof path, "%s/no/dir/x.mot", dir);
    ck_assert_int_eq(xai_mot_write(path, "x", 3, labels, 4, d, 0), XAI_EIO);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

static void expect_trc(const char *text, const char *needle)
{
    xai_trc *t = NULL;
    xai_status st = xai_trc_open_mem(text, strlen(text), "bad.trc", &t);
    ck_assert_msg(st == XAI_EFORMAT, "got %d (%s) for '%s'", st, xai_last_error(), needle);
    ck_assert_ptr_null(t);
    ck_assert_msg(strstr(xai_last_error(), "bad.trc") != NULL, "no file name: %s", xai_last_error());
    ck_assert_msg(strstr(xai_last_error(), needle) != NULL, "'%s' lacks '%s'", xai_last_error(), needle);
}

static void expect_mot(const char *text, const char *needle)
{
    xai_mot *m = NULL;
    xai_status st = xai_mot_open_mem(text, strlen(text), "bad.mot", &m);
    ck_assert_msg(st == XAI_EFORMAT, "got %d (%s) for '%s'", st, xai_last_error(), needle);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(xai_last_error(), "bad.mot") != NULL, "no file name: %s", xai_last_error());
    ck_assert_msg(strstr(xai_last_error(), needle) != NULL, "'%s' lacks '%s'", xai_last_error(), needle);
}

#define TRC_HEAD "PathFileType\t4\t(X/Y/Z)\tb.trc\nDataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\n"
#define TRC_NAMES "Frame#\tTime\tA\t\t\n\t\tX1\tY1\tZ1\n"

START_TEST(test_trc_malformed)
{
    expect_trc("", "PathFileType");
    expect_trc("PathFileTyp\t4\nx\ny\nz\nw\n", "PathFileType"); /* wrong magic */
    expect_trc(TRC_HEAD "60\t60\t3\t1\tmm\n" TRC_NAMES "1\t0\t1\t2\t3\n2\t0.1\t1\t2\t3\n", "truncated");
    expect_trc(TRC_HEAD "60\t60\t2000000000\t1\tmm\n" TRC_NAMES "1\t0\t1\t2\t3\n", "cannot fit");
    expect_trc(TRC_HEAD "60\t60\t1\t900000\tmm\n" TRC_NAMES "1\t0\t1\t2\t3\n", "NumMarkers");
    expect_trc(TRC_HEAD "60\t60\t-1\t1\tmm\n" TRC_NAMES "1\t0\t1\t2\t3\n", "negative");
    expect_trc(TRC_HEAD "60\t60\t1\t-3\tmm\n" TRC_NAMES "1\t0\t1\t2\t3\n", "negative");
    expect_trc(TRC_HEAD "0\t60\t1\t1\tmm\n" TRC_NAMES "1\t0\t1\t2\t3\n", "DataRate");
    expect_trc(TRC_HEAD "nan\t60\t1\t1\tmm\n" TRC_NAMES "1\t0\t1\t2\t3\n", "DataRate");
    expect_trc(TRC_HEAD "abc\t60\t1\t1\tmm\n" TRC_NAMES "1\t0\t1\t2\t3\n", "not a number");
    expect_trc(TRC_HEAD "60\t60\t1\t1\tmm\n" TRC_NAMES "1\t0\t1\tx2\t3\n", "not a number");
    expect_trc(TRC_HEAD "60\t60\t1\t1\tmm\n" TRC_NAMES "1\tzz\t1\t2\t3\n", "bad time");
    expect_trc(TRC_HEAD "60\t60\t1\t1\tmm\n" TRC_NAMES "q\t0\t1\t2\t3\n", "frame number");
    /* The valid variant of the same text parses. */
    xai_trc *t = NULL;
    const char *okt = TRC_HEAD "60\t60\t1\t1\tmm\n" TRC_NAMES "1\t0\t1\t2\t3\n";
    ck_assert_int_eq(xai_trc_open_mem(okt, strlen(okt), "ok.trc", &t), XAI_OK);
    xai_trc_close(t);
    ck_assert_int_eq(xai_trc_open("/nonexistent.trc", &t), XAI_EIO);
}
END_TEST

#define MOT_HEAD "m\nversion=1\n"

START_TEST(test_mot_malformed)
{
    expect_mot("", "endheader");
    expect_mot("m\nnRows=1\nnColumns=2\ntime\ta\n0\t1\n", "endheader"); /* wrong "magic" */
    expect_mot(MOT_HEAD "nRows=3\nnColumns=2\nendheader\ntime\ta\n0\t1\n1\t2\n", "truncated");
    expect_mot(MOT_HEAD "nRows=999999999\nnColumns=2\nendheader\ntime\ta\n0\t1\n", "truncated");
    expect_mot(MOT_HEAD "nRows=-2\nnColumns=2\nendheader\ntime\ta\n0\t1\n", "nRows");
    expect_mot(MOT_HEAD "nRows=1\nnColumns=0\nendheader\ntime\ta\n0\t1\n", "nColumns");
    expect_mot(MOT_HEAD "nRows=1\nnColumns=3\nendheader\ntime\ta\n0\t1\n", "nColumns=3");
    expect_mot(MOT_HEAD "nRows=1\nnColumns=2\nendheader\ntime\ta\n0\t1\t5\n", "expected 2");
    expect_mot(MOT_HEAD "nRows=1\nnColumns=2\nendheader\ntime\ta\n0\tbanana\n", "not a number");
    expect_mot(MOT_HEAD "nRows=1\nnColumns=2\nendheader\n", "no column labels");
    expect_mot(MOT_HEAD "nRows=x\nendheader\ntime\ta\n0\t1\n", "nRows");
    /* Without nRows every data line counts; whitespace-separated tables work too. */
    xai_mot *m = NULL;
    const char *okm = "plain\ninDegrees=no\nendheader\n  time   a  \n 0  1\n 0.5 2\n\n";
    ck_assert_msg(xai_mot_open_mem(okm, strlen(okm), "ok.mot", &m) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(m->rows, 2);
    ck_assert_int_eq(m->in_degrees, 0);
    ck_assert_float_eq(m->data[3], 2.0f);
    xai_mot_close(m);
    xai_mot_close(NULL);
    ck_assert_int_eq(xai_mot_open("/nonexistent.mot", &m), XAI_EIO);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("opensim");
    TCase *tc = tcase_create("real");
    tcase_add_test(tc, test_trc_real);
    tcase_add_test(tc, test_mot_grf);
    tcase_add_test(tc, test_mot_ik);
    suite_add_tcase(s, tc);
    tc = tcase_create("small");
    tcase_add_test(tc, test_trc_small);
    tcase_add_test(tc, test_mot_roundtrip);
    tcase_add_test(tc, test_trc_malformed);
    tcase_add_test(tc, test_mot_malformed);
    suite_add_tcase(s, tc);
    return s;
}
