/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-domain-eeg.c - tests of the EEG domain library (formats/domain/eeg*.c): electrode
 * positions and their projection, zero-phase filters (pass band kept in amplitude and
 * phase, stop band and notch attenuated, steady state at the edges), the preprocessing
 * record's JSON round trip and its malformed forms, event mapping, epoching (windows,
 * dropped events, baseline, average reference, missing channel, other rate) and reading
 * real files: EEGMMIDB annotations, BDF Status events, BrainVision markers (../shared).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include "xai/domain-eeg.h"
#include "xai/npy.h"
#include "xai/tsv.h"
#include "test-common.h"

#define PI 3.14159265358979323846

START_TEST(montage_positions)
{
    double xyz[3], xy[2];
    ck_assert_int_eq(xai_eeg_montage_find("Cz", xyz, xy), 0);
    ck_assert(fabs(xy[0]) < 1e-12 && fabs(xy[1]) < 1e-12 && fabs(xyz[2] - 1) < 1e-12);
    ck_assert_int_eq(xai_eeg_montage_find("T7", xyz, xy), 0);
    ck_assert(fabs(xy[0] + 1) < 1e-12 && fabs(xy[1]) < 1e-12 && fabs(xyz[2]) < 1e-12);
    ck_assert_int_eq(xai_eeg_montage_find("fpz", NULL, xy), 0); /* case-insensitive */
    ck_assert(fabs(xy[0]) < 1e-12 && fabs(xy[1] - 1) < 1e-12);
    ck_assert_int_eq(xai_eeg_montage_find("Oz", NULL, xy), 0);
    ck_assert(fabs(xy[1] + 1) < 1e-12);
    ck_assert_int_eq(xai_eeg_montage_find("C3..", NULL, xy), 0); /* EEGMMIDB spelling */
    ck_assert(fabs(xy[0] + 0.5) < 1e-12 && fabs(xy[1]) < 1e-12);
    ck_assert_int_eq(xai_eeg_montage_find("Fc5.", NULL, xy), 0);
    ck_assert(xy[0] < 0 && xy[1] > 0);
    double a[2], b[2];
    ck_assert_int_eq(xai_eeg_montage_find("T3", NULL, a), 0); /* old name */
    ck_assert_int_eq(xai_eeg_montage_find("T7", NULL, b), 0);
    ck_assert(a[0] == b[0] && a[1] == b[1]);
    ck_assert_int_eq(xai_eeg_montage_find("XY9", NULL, NULL), -1);
    ck_assert_int_eq(xai_eeg_montage_find("", NULL, NULL), -1);
    /* every entry: unit vector, projected radius = colatitude / 90 deg, left-right mirror */
    ck_assert_int_ge(xai_eeg_montage_count(), 70);
    for (int i = 0; i < xai_eeg_montage_count(); i++) {
        const char *n = xai_eeg_montage_name(i);
        ck_assert_int_eq(xai_eeg_montage_find(n, xyz, xy), 0);
        ck_assert(fabs(xyz[0] * xyz[0] + xyz[1] * xyz[1] + xyz[2] * xyz[2] - 1) < 1e-12);
        double colat = acos(xyz[2]) * 180 / PI;
        ck_assert_msg(fabs(hypot(xy[0], xy[1]) - colat / 90) < 1e-9, "%s", n);
        /* 10-20 names: odd digit = left (x < 0), even = right, z = midline */
        size_t l = strlen(n);
        char last = n[l - 1];
        if (last == 'z')
            ck_assert_msg(fabs(xy[0]) < 1e-9, "%s", n);
        else if ((last - '0') % 2)
            ck_assert_msg(xy[0] < 0, "%s", n);
        else
            ck_assert_msg(xy[0] > 0, "%s", n);
    }
    ck_assert_int_eq(xai_eeg_montage_find("F3", NULL, a), 0);
    ck_assert_int_eq(xai_eeg_montage_find("F4", NULL, b), 0);
    ck_assert(fabs(a[0] + b[0]) < 1e-12 && fabs(a[1] - b[1]) < 1e-12);
    ck_assert(xai_eeg_label_equal("C3..", "c3") && xai_eeg_label_equal(" Fp1 ", "FP1") && !xai_eeg_label_equal("C3", "C4"));
    ck_assert(!xai_eeg_label_equal("C3", "C34"));
}
END_TEST

static double amp_mid(const float *x, int n, double f, double fs)
{
    /* amplitude and phase of the f Hz component over the middle half (whole periods) */
    double s = 0, c = 0;
    int a = n / 4, b = 3 * n / 4;
    for (int i = a; i < b; i++) {
        s += x[i] * sin(2 * PI * f * i / fs);
        c += x[i] * cos(2 * PI * f * i / fs);
    }
    return 2 * hypot(s, c) / (b - a);
}

START_TEST(filter_zero_phase)
{
    const double fs = 128;
    const int n = 2048;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    /* pass band: 10 Hz kept in amplitude and phase */
    for (int i = 0; i < n; i++)
        x[i] = y[i] = (float)sin(2 * PI * 10 * i / fs + 0.3);
    ck_assert_int_eq(xai_eeg_filter(y, n, fs, 4, 40, 0, 4), XAI_OK);
    double maxdiff = 0;
    for (int i = n / 4; i < 3 * n / 4; i++)
        maxdiff = fmax(maxdiff, fabs(y[i] - x[i]));
    ck_assert_msg(maxdiff < 0.01, "10 Hz in a 4-40 Hz band changed by %g", maxdiff);
    /* stop band: 1 Hz and 55 Hz attenuated by the squared Butterworth response */
    for (int i = 0; i < n; i++)
        y[i] = (float)(sin(2 * PI * 1 * i / fs) + sin(2 * PI * 55 * i / fs));
    ck_assert_int_eq(xai_eeg_filter(y, n, fs, 4, 40, 0, 4), XAI_OK);
    ck_assert_msg(amp_mid(y, n, 1, fs) < 1e-3, "1 Hz: %g", amp_mid(y, n, 1, fs));
    /* |H(55)|^2 of an order-4 low-pass at 40 Hz, prewarped: about 0.05 */
    ck_assert_msg(amp_mid(y, n, 55, fs) < 0.1, "55 Hz: %g", amp_mid(y, n, 55, fs));
    /* notch at 50 Hz (Q 30): 50 Hz removed, 40 Hz kept */
    for (int i = 0; i < n; i++)
        y[i] = (float)(sin(2 * PI * 50 * i / fs) + sin(2 * PI * 40 * i / fs));
    ck_assert_int_eq(xai_eeg_filter(y, n, fs, 0, 0, 50, 4), XAI_OK);
    ck_assert_msg(amp_mid(y, n, 50, fs) < 0.02, "50 Hz: %g", amp_mid(y, n, 50, fs));
    ck_assert_msg(fabs(amp_mid(y, n, 40, fs) - 1) < 0.02, "40 Hz: %g", amp_mid(y, n, 40, fs));
    /* a constant through a low-pass stays constant up to the edges (steady-state start) */
    for (int i = 0; i < n; i++)
        y[i] = 5.0f;
    ck_assert_int_eq(xai_eeg_filter(y, n, fs, 0, 20, 0, 4), XAI_OK);
    for (int i = 0; i < n; i++)
        ck_assert_msg(fabs(y[i] - 5) < 1e-4, "sample %d: %g", i, y[i]);
    /* a high-pass removes it */
    ck_assert_int_eq(xai_eeg_filter(y, n, fs, 1, 0, 0, 4), XAI_OK);
    for (int i = 0; i < n; i++)
        ck_assert_msg(fabs(y[i]) < 1e-3, "sample %d: %g", i, y[i]);
    /* no filter: untouched */
    memcpy(y, x, n * sizeof *y);
    ck_assert_int_eq(xai_eeg_filter(y, n, fs, 0, 0, 0, 4), XAI_OK);
    ck_assert(memcmp(x, y, n * sizeof *y) == 0);
    /* short signals are fine */
    ck_assert_int_eq(xai_eeg_filter(y, 3, fs, 4, 40, 50, 4), XAI_OK);
    /* bad parameters */
    ck_assert_int_eq(xai_eeg_filter(y, n, fs, 40, 4, 0, 4), XAI_EINVAL);
    ck_assert_int_eq(xai_eeg_filter(y, n, fs, 4, 64, 0, 4), XAI_EINVAL);
    ck_assert_int_eq(xai_eeg_filter(y, n, fs, 0, 0, 70, 4), XAI_EINVAL);
    ck_assert_int_eq(xai_eeg_filter(y, n, fs, 4, 40, 0, 3), XAI_EINVAL);
    ck_assert_int_eq(xai_eeg_filter(y, n, fs, -1, 40, 0, 4), XAI_EINVAL);
    free(x);
    free(y);
}
END_TEST

START_TEST(events_parse)
{
    xai_eeg_prep p = {0};
    ck_assert_int_eq(xai_eeg_prep_set_events(&p, "T1=left, T2 = right,T3=left"), XAI_OK);
    ck_assert_int_eq(p.nclass, 2);
    ck_assert_int_eq(p.nmap, 3);
    ck_assert_str_eq(p.classes[0], "left");
    ck_assert_str_eq(p.classes[1], "right");
    ck_assert_str_eq(p.ev_keys[1], "T2");
    ck_assert_int_eq(p.ev_class[2], 0);
    xai_eeg_prep_free(&p);
    const char *bad[] = {"T1=left", "T1left,T2=right", "T1=a,T1=b", "=a,T2=b", "T1=,T2=b", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xai_eeg_prep q = {0};
        ck_assert_msg(xai_eeg_prep_set_events(&q, bad[i]) == XAI_EINVAL, "'%s' accepted", bad[i]);
        xai_eeg_prep_free(&q);
    }
}
END_TEST

/* a small in-memory recording: channel c holds 1000*c + sample index */
static void make_raw(xai_eeg_raw *r, double rate, int64_t n)
{
    static const char *names[] = {"C3", "Cz", "C4"};
    memset(r, 0, sizeof *r);
    r->nch = 3;
    r->rate = rate;
    r->n = n;
    r->labels = calloc(3, sizeof *r->labels);
    r->units = calloc(3, sizeof *r->units);
    r->data = malloc(3 * (size_t)n * sizeof *r->data);
    for (int c = 0; c < 3; c++) {
        r->labels[c] = strdup(names[c]);
        r->units[c] = strdup("uV");
        for (int64_t i = 0; i < n; i++)
            r->data[c * n + i] = (float)(1000 * c + i);
    }
    const double on[] = {1.0, 3.0, 9.5, 0.05};
    const char *tx[] = {"A", "B", "A", "B"};
    r->nev = 5;
    r->ev = calloc(5, sizeof *r->ev);
    for (int k = 0; k < 4; k++) {
        r->ev[k].onset_s = on[k];
        r->ev[k].text = strdup(tx[k]);
    }
    r->ev[4].onset_s = 2.0;
    r->ev[4].text = strdup("other");
}

START_TEST(epochs_windows)
{
    xai_eeg_raw r;
    make_raw(&r, 100, 1000);
    xai_eeg_prep p = {0};
    p.tmin = -0.2;
    p.tmax = 0.8;
    p.order = 4;
    ck_assert_int_eq(xai_eeg_prep_set_events(&p, "A=a,B=b"), XAI_OK);
    ck_assert_int_eq(xai_eeg_prep_set_channels(&p, "C4,C3"), XAI_OK);
    ck_assert_int_eq(xai_eeg_prep_bind(&p, &r, "mem"), XAI_OK);
    ck_assert_int_eq(p.ntimes, 100);
    xai_eeg_epochs e;
    ck_assert_int_eq(xai_eeg_epochs_make(&p, &r, "mem", &e), XAI_OK);
    /* 9.5 s (window ends past 10 s) and 0.05 s (starts before 0) are dropped */
    ck_assert_int_eq(e.n, 2);
    ck_assert_int_eq(e.dropped, 2);
    ck_assert_int_eq(e.y[0], 0);
    ck_assert_int_eq(e.y[1], 1);
    ck_assert_int_eq(e.sample[0], 80);
    /* channel order follows the selection: row 0 is C4 (2000 + i), row 1 C3 */
    ck_assert_float_eq(e.x[0], 2080.0f);
    ck_assert_float_eq(e.x[100], 80.0f);
    ck_assert_float_eq(e.x[2 * 100 + 99], 2000.0f + 280 + 99);
    xai_eeg_epochs_free(&e);
    /* baseline: mean over t < 0 (20 samples: 80..99, mean 89.5) is subtracted */
    p.baseline_mean = 1;
    ck_assert_int_eq(xai_eeg_epochs_make(&p, &r, "mem", &e), XAI_OK);
    ck_assert_float_eq_tol(e.x[0], -9.5f, 1e-4);
    ck_assert_float_eq_tol(e.x[20], 10.5f, 1e-4);
    xai_eeg_epochs_free(&e);
    /* normalisation */
    p.baseline_mean = 0;
    p.norm_mean = 80;
    p.norm_std = 2;
    ck_assert_int_eq(xai_eeg_epochs_make(&p, &r, "mem", &e), XAI_OK);
    ck_assert_float_eq_tol(e.x[100], 0.0f, 1e-5);
    ck_assert_float_eq_tol(e.x[101], 0.5f, 1e-5);
    xai_eeg_epochs_free(&e);
    /* a different sample rate is refused, not resampled */
    r.rate = 200;
    ck_assert_int_eq(xai_eeg_epochs_make(&p, &r, "mem", &e), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "sample rate"));
    r.rate = 100;
    /* a missing channel is named */
    free(r.labels[2]);
    r.labels[2] = strdup("T8");
    ck_assert_int_eq(xai_eeg_epochs_make(&p, &r, "mem", &e), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "'C4'"));
    xai_eeg_prep_free(&p);
    /* average reference: channels sum to zero at every sample */
    xai_eeg_prep q = {0};
    q.tmin = 0;
    q.tmax = 1;
    q.average_ref = 1;
    ck_assert_int_eq(xai_eeg_prep_set_events(&q, "A=a,B=b"), XAI_OK);
    ck_assert_int_eq(xai_eeg_prep_bind(&q, &r, "mem"), XAI_OK);
    ck_assert_int_eq(q.nch, 3);
    ck_assert_int_eq(xai_eeg_epochs_make(&q, &r, "mem", &e), XAI_OK);
    for (int t = 0; t < 100; t++)
        ck_assert_float_eq_tol(e.x[t] + e.x[100 + t] + e.x[200 + t], 0.0f, 1e-3);
    ck_assert_float_eq_tol(e.x[0], -1000.0f, 1e-3);
    xai_eeg_epochs_free(&e);
    xai_eeg_prep_free(&q);
    xai_eeg_raw_free(&r);
}
END_TEST

START_TEST(record_roundtrip)
{
    xai_eeg_raw r;
    make_raw(&r, 100, 1000);
    xai_eeg_prep p = {0};
    p.tmin = 0.5;
    p.tmax = 2.5;
    p.hp = 1;
    p.lp = 30;
    p.notch = 50 - 1; /* any value below Nyquist */
    p.order = 6;
    p.average_ref = 1;
    p.baseline_mean = 1;
    p.norm_mean = -1.25;
    p.norm_std = 3.5;
    ck_assert_int_eq(xai_eeg_prep_set_events(&p, "A=up,B=down"), XAI_OK);
    ck_assert_int_eq(xai_eeg_prep_bind(&p, &r, "mem"), XAI_OK);
    char *js = xai_eeg_prep_to_json(&p);
    ck_assert_ptr_nonnull(js);
    xai_eeg_prep q;
    ck_assert_int_eq(xai_eeg_prep_from_json(js, "m.onnx", &q), XAI_OK);
    ck_assert_int_eq(q.nch, 3);
    ck_assert_str_eq(q.channels[2], "C4");
    ck_assert_str_eq(q.units[0], "uV");
    ck_assert(q.rate == 100 && q.rate_in == 100 && q.tmin == 0.5 && q.tmax == 2.5 && q.ntimes == 200);
    ck_assert(q.hp == 1 && q.lp == 30 && q.notch == 49 && q.order == 6);
    ck_assert(q.average_ref == 1 && q.baseline_mean == 1 && q.norm_mean == -1.25 && q.norm_std == 3.5);
    ck_assert_int_eq(q.nclass, 2);
    ck_assert_str_eq(q.classes[1], "down");
    ck_assert_int_eq(q.nmap, 2);
    ck_assert_str_eq(q.ev_keys[0], "A");
    ck_assert_int_eq(q.ev_class[1], 1);
    /* identical preprocessing from the record */
    xai_eeg_epochs e1, e2;
    ck_assert_int_eq(xai_eeg_epochs_make(&p, &r, "mem", &e1), XAI_OK);
    ck_assert_int_eq(xai_eeg_epochs_make(&q, &r, "mem", &e2), XAI_OK);
    ck_assert_int_eq(e1.n, e2.n);
    ck_assert(memcmp(e1.x, e2.x, (size_t)e1.n * 3 * 200 * sizeof(float)) == 0);
    xai_eeg_epochs_free(&e1);
    xai_eeg_epochs_free(&e2);
    xai_eeg_prep_free(&q);
    free(js);
    /* malformed records */
    const char *bad[] = {
        "not json", "[]", "{}",
        "{\"Channels\":[\"C3\"],\"Classes\":[\"a\",\"b\"],\"Events\":{\"A\":\"a\",\"B\":\"b\"},\"Filter\":{},"
        "\"Normalisation\":{\"Mean\":0,\"Std\":0},\"InputSamplingFrequency\":100,\"SamplingFrequency\":100,"
        "\"TMin\":0,\"TMax\":1,\"NTimes\":100,\"Reference\":\"none\",\"Baseline\":\"none\"}",
        "{\"Channels\":[\"C3\"],\"Classes\":[\"a\",\"b\"],\"Events\":{\"A\":\"a\",\"B\":\"zz\"},\"Filter\":{},"
        "\"Normalisation\":{\"Mean\":0,\"Std\":1},\"InputSamplingFrequency\":100,\"SamplingFrequency\":100,"
        "\"TMin\":0,\"TMax\":1,\"NTimes\":100,\"Reference\":\"none\",\"Baseline\":\"none\"}",
        "{\"Channels\":[\"C3\"],\"Classes\":[\"a\",\"b\"],\"Events\":{\"A\":\"a\",\"B\":\"b\"},\"Filter\":{},"
        "\"Normalisation\":{\"Mean\":0,\"Std\":1},\"InputSamplingFrequency\":0,\"SamplingFrequency\":100,"
        "\"TMin\":0,\"TMax\":1,\"NTimes\":100,\"Reference\":\"none\",\"Baseline\":\"none\"}",
        "{\"Channels\":[\"C3\"],\"Classes\":[\"a\",\"b\"],\"Events\":{\"A\":\"a\",\"B\":\"b\"},\"Filter\":{},"
        "\"Normalisation\":{\"Mean\":0,\"Std\":1},\"InputSamplingFrequency\":100,\"SamplingFrequency\":100,"
        "\"TMin\":0,\"TMax\":1,\"NTimes\":1e300,\"Reference\":\"none\",\"Baseline\":\"none\"}",
        "{\"Channels\":[3],\"Classes\":[\"a\",\"b\"],\"Events\":{\"A\":\"a\",\"B\":\"b\"},\"Filter\":{},"
        "\"Normalisation\":{\"Mean\":0,\"Std\":1},\"InputSamplingFrequency\":100,\"SamplingFrequency\":100,"
        "\"TMin\":0,\"TMax\":1,\"NTimes\":100,\"Reference\":\"none\",\"Baseline\":\"none\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(xai_eeg_prep_from_json(bad[i], "m.onnx", &q) == XAI_EFORMAT, "record %zu accepted", i);
        ck_assert_ptr_nonnull(strstr(xai_last_error(), "m.onnx"));
    }
    /* the last one with a valid std is accepted (control for the cases above) */
    const char *good = "{\"Channels\":[\"C3\"],\"Classes\":[\"a\",\"b\"],\"Events\":{\"A\":\"a\",\"B\":\"b\"},"
                       "\"Filter\":{},\"Normalisation\":{\"Mean\":0,\"Std\":1},\"InputSamplingFrequency\":100,"
                       "\"SamplingFrequency\":100,\"TMin\":0,\"TMax\":1,\"NTimes\":100,\"Reference\":\"none\","
                       "\"Baseline\":\"none\"}";
    ck_assert_int_eq(xai_eeg_prep_from_json(good, "m.onnx", &q), XAI_OK);
    xai_eeg_prep_free(&q);
    xai_eeg_prep_free(&p);
    xai_eeg_raw_free(&r);
}
END_TEST


/* the record of version 2: snake_case keys, standardisation and the window's origin */
START_TEST(record_v2)
{
    xai_eeg_raw r;
    make_raw(&r, 100, 1000);
    xai_eeg_prep p = {0};
    p.tmin = 0;
    p.tmax = 1;
    p.norm_std = 1;
    p.standardise = XAI_EEG_STANDARDISE_RECORDING;
    p.window_from_events = 1;
    ck_assert_int_eq(xai_eeg_prep_set_events(&p, "A=up,B=down"), XAI_OK);
    ck_assert_int_eq(xai_eeg_prep_bind(&p, &r, "mem"), XAI_OK);
    char *js = xai_eeg_prep_to_json(&p);
    ck_assert_ptr_nonnull(strstr(js, "\"standardisation\": \"recording-channel-zscore\""));
    ck_assert_ptr_nonnull(strstr(js, "\"window\": \"annotation-duration\""));
    ck_assert_ptr_null(strstr(js, "\"Channels\""));
    xai_eeg_prep q;
    ck_assert_int_eq(xai_eeg_prep_from_json(js, "m.onnx", &q), XAI_OK);
    ck_assert_int_eq(q.standardise, XAI_EEG_STANDARDISE_RECORDING);
    ck_assert_int_eq(q.window_from_events, 1);
    ck_assert_int_eq(q.ntimes, 100);
    xai_eeg_prep_free(&q);
    /* an unknown standardisation cannot be applied as trained: refused */
    char *bad = strdup(js);
    char *at = strstr(bad, "recording-channel-zscore");
    memcpy(at, "recording-channel-zscorX", 24);
    ck_assert_int_eq(xai_eeg_prep_from_json(bad, "m.onnx", &q), XAI_EFORMAT);
    free(bad);
    free(js);
    xai_eeg_prep_free(&p);
    xai_eeg_raw_free(&r);
}
END_TEST

/* per-recording standardisation: every channel has mean 0 and sd 1 over the recording, so
 * an epoch of channel c holds (x - mean) / sd of that channel's ramp */
START_TEST(standardise_recording)
{
    xai_eeg_raw r;
    make_raw(&r, 100, 1000);
    xai_eeg_prep p = {0};
    p.tmin = 0;
    p.tmax = 1;
    p.standardise = XAI_EEG_STANDARDISE_RECORDING;
    ck_assert_int_eq(xai_eeg_prep_set_events(&p, "A=a,B=b"), XAI_OK);
    ck_assert_int_eq(xai_eeg_prep_bind(&p, &r, "mem"), XAI_OK);
    /* gains and offsets per channel must not change the standardised epochs */
    xai_eeg_epochs e1, e2;
    ck_assert_int_eq(xai_eeg_epochs_make(&p, &r, "mem", &e1), XAI_OK);
    for (int c = 0; c < 3; c++)
        for (int64_t i = 0; i < r.n; i++)
            r.data[c * r.n + i] = r.data[c * r.n + i] * (float)(c + 2) - 300.0f * (float)c;
    ck_assert_int_eq(xai_eeg_epochs_make(&p, &r, "mem", &e2), XAI_OK);
    ck_assert_int_eq(e1.n, e2.n);
    for (int64_t k = 0; k < e1.n * 3 * 100; k++)
        ck_assert_float_eq_tol(e1.x[k], e2.x[k], 1e-4);
    /* a ramp 0..999 has mean 499.5 and population sd sqrt((1000^2 - 1) / 12) */
    double sd = sqrt((1000.0 * 1000.0 - 1) / 12);
    ck_assert_int_eq(e1.sample[0], 100);
    ck_assert_float_eq_tol(e1.x[0], (float)((100 - 499.5) / sd), 1e-4);
    xai_eeg_epochs_free(&e1);
    xai_eeg_epochs_free(&e2);
    xai_eeg_prep_free(&p);
    xai_eeg_raw_free(&r);
}
END_TEST

/* a flat channel (a disconnected electrode: an offset and a trace of noise) is 0 after the
 * z-score instead of its noise scaled up to unit variance; a channel at 1/10 of the others'
 * scale is still EEG and standardised as before */
START_TEST(standardise_flat_channel)
{
    xai_eeg_raw r;
    make_raw(&r, 100, 1000);
    xai_eeg_prep p = {0};
    p.tmin = 0;
    p.tmax = 1;
    p.standardise = XAI_EEG_STANDARDISE_RECORDING;
    ck_assert_int_eq(xai_eeg_prep_set_events(&p, "A=a,B=b"), XAI_OK);
    ck_assert_int_eq(xai_eeg_prep_bind(&p, &r, "mem"), XAI_OK);
    xai_eeg_epochs e1, e2;
    ck_assert_int_eq(xai_eeg_epochs_make(&p, &r, "mem", &e1), XAI_OK);
    for (int64_t i = 0; i < r.n; i++) {
        r.data[i] *= 0.1f;
        r.data[2 * r.n + i] = 40.0f + 1e-3f * (float)(i % 7);
    }
    ck_assert_int_eq(xai_eeg_epochs_make(&p, &r, "mem", &e2), XAI_OK);
    for (int64_t t = 0; t < 100; t++) {
        ck_assert_float_eq_tol(e2.x[t], e1.x[t], 1e-4);
        ck_assert_float_eq_tol(e2.x[100 + t], e1.x[100 + t], 1e-4);
        ck_assert_float_eq(e2.x[200 + t], 0.0f);
    }
    xai_eeg_epochs_free(&e1);
    xai_eeg_epochs_free(&e2);
    xai_eeg_prep_free(&p);
    xai_eeg_raw_free(&r);
}
END_TEST

/* robust standardisation: median and IQR / 1.349 per channel (a ramp 0..999: 499.5 and
 * 499.5 / 1.349 with GSL's interpolated quartiles 249.75 and 749.25), gains and offsets
 * removed, a spike clipped at XAI_EEG_ROBUST_CLIP without moving the others, a flat channel 0,
 * and the record names it */
START_TEST(standardise_robust)
{
    xai_eeg_raw r;
    make_raw(&r, 100, 1000);
    xai_eeg_prep p = {0};
    p.tmin = 0;
    p.tmax = 1;
    p.standardise = XAI_EEG_STANDARDISE_ROBUST;
    ck_assert_int_eq(xai_eeg_prep_set_events(&p, "A=a,B=b"), XAI_OK);
    ck_assert_int_eq(xai_eeg_prep_bind(&p, &r, "mem"), XAI_OK);
    xai_eeg_epochs e1, e2;
    ck_assert_int_eq(xai_eeg_epochs_make(&p, &r, "mem", &e1), XAI_OK);
    double scale = 499.5 / 1.349;
    ck_assert_int_eq(e1.sample[0], 100);
    for (int c = 0; c < 3; c++) /* epoch 0 starts at sample 100 of every ramp */
        ck_assert_float_eq_tol(e1.x[c * 100], (float)((100 - 499.5) / scale), 1e-4);
    for (int c = 0; c < 3; c++)
        for (int64_t i = 0; i < r.n; i++)
            r.data[c * r.n + i] = r.data[c * r.n + i] * (float)(c + 2) - 300.0f * (float)c;
    r.data[150] = 1e6f;                 /* a spike on channel 0 inside epoch 0 */
    for (int64_t i = 0; i < r.n; i++)  /* channel 2 disconnected: an offset and 1e-3 of noise */
        r.data[2 * r.n + i] = 40.0f + 1e-3f * (float)(i % 7);
    ck_assert_int_eq(xai_eeg_epochs_make(&p, &r, "mem", &e2), XAI_OK);
    ck_assert_int_eq(e1.n, e2.n);
    ck_assert_float_eq_tol(e2.x[50], XAI_EEG_ROBUST_CLIP, 1e-6);
    for (int64_t t = 0; t < 100; t++) {
        if (t != 50) /* one sample of 1000 moves the quartiles by at most one step of the ramp */
            ck_assert_float_eq_tol(e2.x[t], e1.x[t], 2.0 / scale);
        ck_assert_float_eq_tol(e2.x[100 + t], e1.x[100 + t], 1e-4);
        ck_assert_float_eq(e2.x[200 + t], 0.0f);
    }
    p.norm_std = 1; /* the record needs the global normalisation */
    char *js = xai_eeg_prep_to_json(&p);
    ck_assert_ptr_nonnull(strstr(js, "\"standardisation\": \"recording-channel-robust\""));
    xai_eeg_prep q;
    ck_assert_int_eq(xai_eeg_prep_from_json(js, "m.onnx", &q), XAI_OK);
    ck_assert_int_eq(q.standardise, XAI_EEG_STANDARDISE_ROBUST);
    xai_eeg_prep_free(&q);
    free(js);
    xai_eeg_epochs_free(&e1);
    xai_eeg_epochs_free(&e2);
    xai_eeg_prep_free(&p);
    xai_eeg_raw_free(&r);
}
END_TEST

/* the window from the mapped events' most common duration; none without durations */
START_TEST(window_from_events)
{
    xai_eeg_raw r;
    make_raw(&r, 100, 1000);
    xai_eeg_prep p = {0};
    ck_assert_int_eq(xai_eeg_prep_set_events(&p, "A=a,B=b"), XAI_OK);
    ck_assert_int_eq(xai_eeg_prep_window_from_events(&p, &r, "mem"), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "--tmax"));
    r.ev[0].duration_s = 2.0;
    r.ev[1].duration_s = 2.0;
    r.ev[2].duration_s = 0.5; /* a truncated trial does not shorten the others */
    r.ev[4].duration_s = 7.0; /* "other" is not mapped */
    ck_assert_int_eq(xai_eeg_prep_window_from_events(&p, &r, "mem"), XAI_OK);
    ck_assert(p.tmin == 0 && p.tmax == 2.0 && p.window_from_events == 1);
    ck_assert_int_eq(xai_eeg_prep_bind(&p, &r, "mem"), XAI_OK);
    ck_assert_int_eq(p.ntimes, 200);
    xai_eeg_prep_free(&p);
    xai_eeg_raw_free(&r);
}
END_TEST


/* a study: two recordings, the second with a BIDS events.tsv whose events are not mapped:
 * it adds no epochs and no group instead of failing (or crashing on a zero-size growth) */
START_TEST(load_study)
{
    const char *sh = xai_test_shared_dir();
    if (!sh) {
        xai_test_mark_skip();
        return;
    }
    char dir[] = "/tmp/xai-eeg-study-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char real[PATH_MAX], link[1100], tsv[1100];
    ck_assert_ptr_nonnull(realpath(xai_test_path(sh, "data/eeg/eegmmidb_S001R04.edf"), real));
    snprintf(link, sizeof link, "%s/sub-02_task-mi_eeg.edf", dir);
    snprintf(tsv, sizeof tsv, "%s/sub-02_task-mi_events.tsv", dir);
    ck_assert_int_eq(symlink(real, link), 0);
    FILE *f = fopen(tsv, "w");
    fputs("onset\tduration\ttrial_type\n1.0\t4.0\trest\n", f);
    fclose(f);
    const char *paths[] = {real, link}, *groups[] = {"sub-01", "sub-02"};
    xai_eeg_prep p = {0};
    ck_assert_int_eq(xai_eeg_prep_set_events(&p, "T1=left,T2=right"), XAI_OK);
    xai_dataset d;
    xai_eeg_file_count cnt[2];
    ck_assert_int_eq(xai_eeg_load_dataset(&p, 2, paths, groups, "subject", 1, NULL, NULL, &d, cnt), XAI_OK);
    /* EEGMMIDB imagery annotations last 4.1 s: 656 samples at 160 Hz */
    ck_assert(p.window_from_events && p.tmin == 0 && fabs(p.tmax - 4.1) < 0.05);
    ck_assert_int_eq(cnt[0].kept + cnt[0].dropped, 15);
    ck_assert_int_eq(cnt[1].kept, 0);
    ck_assert_int_eq(d.n, cnt[0].kept);
    ck_assert_int_eq(d.ngroups, 1);
    ck_assert_str_eq(d.group_names[0], "sub-01");
    ck_assert_str_eq(d.group_kind, "subject");
    ck_assert(d.ndim == 3 && d.shape[0] == 1 && d.shape[1] == 64 && d.shape[2] == p.ntimes);
    ck_assert_str_eq(d.class_names[1], "right");
    ck_assert_ptr_nonnull(strstr(d.meta, "\"window\": \"annotation-duration\""));
    xai_dataset_free(&d);
    xai_eeg_prep_free(&p);
    /* a missing file fails with its name */
    const char *bad[] = {real, "/nonexistent/sub-03_eeg.edf"};
    ck_assert_int_eq(xai_eeg_prep_set_events(&p, "T1=left,T2=right"), XAI_OK);
    ck_assert_int_ne(xai_eeg_load_dataset(&p, 2, bad, groups, "subject", 1, NULL, NULL, &d, NULL), XAI_OK);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "sub-03_eeg.edf"));
    ck_assert_int_eq(d.n, 0);
    xai_eeg_prep_free(&p);
    unlink(link);
    unlink(tsv);
    rmdir(dir);
}
END_TEST

/* positions of the inferior 10-10 row that the topomap used to drop */
START_TEST(montage_inferior)
{
    double a[2], b[2];
    ck_assert_int_eq(xai_eeg_montage_find("PO9", NULL, a), 0);
    ck_assert_int_eq(xai_eeg_montage_find("PO10", NULL, b), 0);
    /* mirror images, outside the head circle (below the equator), behind the ears */
    ck_assert_double_eq_tol(a[0], -b[0], 1e-12);
    ck_assert_double_eq_tol(a[1], b[1], 1e-12);
    ck_assert(hypot(a[0], a[1]) > 1.0 && a[1] < 0 && a[0] < 0);
    ck_assert_int_eq(xai_eeg_montage_find("O9", NULL, NULL), 0);
    ck_assert_int_eq(xai_eeg_montage_find("XYZ", NULL, NULL), -1);
}
END_TEST


/* maps back out: the tables hold the known means of a planted relevance, the npy the maps */
START_TEST(write_maps)
{
    xai_eeg_raw r;
    make_raw(&r, 100, 1000);
    xai_eeg_prep p = {0};
    p.tmin = 0;
    p.tmax = 0.1;
    ck_assert_int_eq(xai_eeg_prep_set_events(&p, "A=up,B=down"), XAI_OK);
    ck_assert_int_eq(xai_eeg_prep_bind(&p, &r, "mem"), XAI_OK);
    ck_assert_int_eq(p.ntimes, 10);
    float rel[2 * 3 * 10] = {0}, logits[4] = {2, -1, -0.5f, 0.5f};
    rel[0 * 30 + 1 * 10 + 3] = 1.0f;  /* epoch 0 (explained as up): all on Cz */
    rel[1 * 30 + 2 * 10 + 0] = 0.5f;  /* epoch 1 (down): C4 +0.5, C3 -0.5 */
    rel[1 * 30 + 0 * 10 + 9] = -0.5f;
    int y[2] = {0, 1}, target[2] = {0, 1}, pred[2] = {0, 1};
    double onset[2] = {1.0, 3.0};
    int64_t sample[2] = {100, 300};
    xai_eeg_maps m = {&p, 2, rel, logits, y, target, pred, onset, sample, "lrp"};
    char dir[] = "/tmp/xai-eeg-maps-XXXXXX", npy[128], ch[128], ev[128];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(npy, sizeof npy, "%s/r_relevance.npy", dir);
    snprintf(ch, sizeof ch, "%s/r_channels.tsv", dir);
    snprintf(ev, sizeof ev, "%s/r_events.tsv", dir);
    xai_eeg_paths o = {npy, ch, ev, NULL, NULL};
    ck_assert_int_eq(xai_eeg_write_maps(&m, &o, "{\"Model\": \"m.onnx\"}"), XAI_OK);
    xai_tsv *t = NULL;
    ck_assert_int_eq(xai_tsv_load(ch, 0, &t), XAI_OK);
    long col_up = xai_tsv_find_column(t, "relevance_up"), col_dn = xai_tsv_find_column(t, "relevance_down");
    long col_rel = xai_tsv_find_column(t, "relevance"), col_pos = xai_tsv_find_column(t, "positive_share");
    ck_assert(col_up > 0 && col_dn > 0 && col_rel > 0 && col_pos > 0);
    double v;
    ck_assert_str_eq(xai_tsv_get_string(t, 1, 0), "Cz");
    ck_assert_int_eq(xai_tsv_get_number(t, 1, (size_t)col_up, &v), XAI_OK);
    ck_assert_double_eq_tol(v, 1.0, 1e-9);
    ck_assert_int_eq(xai_tsv_get_number(t, 0, (size_t)col_dn, &v), XAI_OK); /* C3 in "down" */
    ck_assert_double_eq_tol(v, -0.5, 1e-9);
    ck_assert_int_eq(xai_tsv_get_number(t, 2, (size_t)col_rel, &v), XAI_OK); /* C4: 0.5 over 2 epochs */
    ck_assert_double_eq_tol(v, 0.25, 1e-9);
    ck_assert_int_eq(xai_tsv_get_number(t, 1, (size_t)col_pos, &v), XAI_OK); /* Cz: 1 of 1.5 positive */
    ck_assert_double_eq_tol(v, 1.0 / 1.5, 1e-9);
    xai_tsv_free(t);
    ck_assert_int_eq(xai_tsv_load(ev, 0, &t), XAI_OK);
    ck_assert_int_eq((int)xai_tsv_nrows(t), 2);
    ck_assert_int_eq(xai_tsv_get_number(t, 1, (size_t)xai_tsv_find_column(t, "logit_down"), &v), XAI_OK);
    ck_assert_double_eq_tol(v, 0.5, 1e-6);
    ck_assert_int_eq(xai_tsv_get_number(t, 1, (size_t)xai_tsv_find_column(t, "relevance_sum"), &v), XAI_OK);
    ck_assert_double_eq_tol(v, 0.0, 1e-9);
    xai_tsv_free(t);
    xai_npy a;
    ck_assert_int_eq(xai_npy_load(npy, &a), XAI_OK);
    ck_assert(a.ndim == 3 && a.shape[0] == 2 && a.shape[1] == 3 && a.shape[2] == 10);
    ck_assert(memcmp(a.data, rel, sizeof rel) == 0);
    xai_npy_free(&a);
    /* each table's sidecar carries its data dictionary, per-class columns included */
    char js[160], text[8192];
    snprintf(js, sizeof js, "%s/r_events.json", dir);
    FILE *jf = fopen(js, "r");
    ck_assert_ptr_nonnull(jf);
    size_t nt = fread(text, 1, sizeof text - 1, jf);
    fclose(jf);
    text[nt] = '\0';
    ck_assert_ptr_nonnull(strstr(text, "\"logit_down\": {"));
    ck_assert_ptr_nonnull(strstr(text, "\"Units\": \"s\""));
    snprintf(js, sizeof js, "%s/r_channels.json", dir);
    ck_assert_ptr_nonnull(jf = fopen(js, "r"));
    nt = fread(text, 1, sizeof text - 1, jf);
    fclose(jf);
    text[nt] = '\0';
    ck_assert_ptr_nonnull(strstr(text, "\"relevance_up\": {"));
    ck_assert_ptr_nonnull(strstr(text, "\"Model\": \"m.onnx\""));
    /* nothing to write is an error, not a crash */
    m.n = 0;
    ck_assert_int_eq(xai_eeg_write_maps(&m, &o, NULL), XAI_EINVAL);
    const char *names[] = {"r_relevance.npy", "r_relevance.json", "r_channels.tsv", "r_channels.json",
                           "r_events.tsv", "r_events.json"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char f[160];
        snprintf(f, sizeof f, "%s/%s", dir, names[i]);
        ck_assert_msg(unlink(f) == 0, "missing %s", names[i]);
    }
    ck_assert_int_eq(rmdir(dir), 0); /* no temporary files left */
    xai_eeg_prep_free(&p);
    xai_eeg_raw_free(&r);
}
END_TEST

START_TEST(read_real_files)
{
    const char *sh = xai_test_shared_dir();
    if (!sh) {
        xai_test_mark_skip();
        return;
    }
    xai_eeg_raw r;
    /* EEGMMIDB S001R04: 64 channels at 160 Hz, 30 annotations T0/T1/T2 (15 rest, 15 imagery) */
    ck_assert_int_eq(xai_eeg_raw_load(xai_test_path(sh, "data/eeg/eegmmidb_S001R04.edf"), &r), XAI_OK);
    ck_assert_int_eq(r.nch, 64);
    ck_assert(r.rate == 160);
    ck_assert_str_eq(r.labels[0], "Fc5.");
    int n0 = 0, n12 = 0;
    for (size_t k = 0; k < r.nev; k++) {
        n0 += strcmp(r.ev[k].text, "T0") == 0;
        n12 += strcmp(r.ev[k].text, "T1") == 0 || strcmp(r.ev[k].text, "T2") == 0;
    }
    ck_assert_int_eq(n0, 15);
    ck_assert_int_eq(n12, 15);
    ck_assert(r.ev[0].onset_s == 0);
    xai_eeg_raw_free(&r);
    /* BDF with a Status channel: 3 EEG channels kept, 9 trigger events (low 16 bits) */
    ck_assert_int_eq(xai_eeg_raw_load(xai_test_path(sh, "data/eeg/mne_test_bdf_stim_channel.bdf"), &r), XAI_OK);
    ck_assert_int_eq(r.nch, 3);
    ck_assert(r.rate == 500);
    ck_assert_int_eq((int)r.nev, 9);
    ck_assert_str_eq(r.ev[0].text, "4");
    ck_assert_double_eq_tol(r.ev[0].onset_s, 242 / 500.0, 1e-9);
    ck_assert_str_eq(r.ev[1].text, "2");
    ck_assert_str_eq(r.ev[8].text, "1");
    ck_assert_double_eq_tol(r.ev[8].onset_s, 4790 / 500.0, 1e-9);
    xai_eeg_raw_free(&r);
    /* BrainVision: 32 channels at 1 kHz; markers with descriptions become events */
    ck_assert_int_eq(xai_eeg_raw_load(xai_test_path(sh, "data/eeg/brainvision/test.vhdr"), &r), XAI_OK);
    ck_assert_int_eq(r.nch, 32);
    ck_assert(r.rate == 1000);
    ck_assert_int_eq(r.n, 7900);
    int s253 = 0;
    for (size_t k = 0; k < r.nev; k++)
        s253 += strcmp(r.ev[k].text, "S253") == 0;
    ck_assert_int_ge(s253, 1);
    xai_eeg_raw_free(&r);
    /* errors name the file */
    ck_assert_int_ne(xai_eeg_raw_load(xai_test_path(sh, "data/eeg/nothing.edf"), &r), XAI_OK);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "nothing.edf"));
}
END_TEST

START_TEST(study_pieces)
{
    /* placeholders at 128 Hz on 25 x 512: kernel 2*round(6.4)+1 = 13, pool 32 */
    char *a = xai_eeg_arch_expand("c({C},{K}) k={KT} h={PT} p={P}", 25, 2, 512, 128);
    ck_assert_str_eq(a, "c(25,2) k=13 h=6 p=32");
    free(a);
    a = xai_eeg_arch_expand("k={KT} p={P}", 3, 2, 8, 1000); /* both capped by the epoch */
    ck_assert_str_eq(a, "k=7 p=8");
    free(a);
    /* a dataset of 4 epochs in two recordings; the per-epoch split names each "<group>#k" */
    xai_dataset d = {0};
    int64_t shape[3] = {1, 1, 2};
    ck_assert_int_eq(xai_dataset_alloc(&d, 4, 3, shape, 2), XAI_OK);
    d.ngroups = 2;
    d.group_names = calloc(2, sizeof(char *));
    d.group_names[0] = strdup("a");
    d.group_names[1] = strdup("b");
    int grp[4] = {0, 1, 0, 0};
    for (int i = 0; i < 8; i++)
        d.x[i] = (float)i;
    for (int i = 0; i < 4; i++)
        d.group[i] = grp[i], d.y[i] = i % 2;
    xai_eeg_prep p = {0};
    ck_assert_int_eq(xai_eeg_fit_normalisation(&p, &d), XAI_OK);
    ck_assert_double_eq_tol(p.norm_mean, 3.5, 1e-12);
    ck_assert_double_eq_tol(p.norm_std, sqrt(5.25), 1e-12); /* population sd of 0..7 */
    double s1 = 0;
    for (int i = 0; i < 8; i++)
        s1 += d.x[i];
    ck_assert_double_eq_tol(s1, 0, 1e-5);
    ck_assert_int_eq(xai_eeg_split_epochs(&d), XAI_OK);
    ck_assert_int_eq(d.ngroups, 4);
    ck_assert_str_eq(d.group_kind, "trial");
    ck_assert_str_eq(d.group_names[0], "a#0");
    ck_assert_str_eq(d.group_names[1], "b#0");
    ck_assert_str_eq(d.group_names[3], "a#2");
    xai_dataset_free(&d);
    /* a constant dataset cannot be z-scored */
    ck_assert_int_eq(xai_dataset_alloc(&d, 2, 3, shape, 2), XAI_OK);
    ck_assert_int_eq(xai_eeg_fit_normalisation(&p, &d), XAI_EINVAL);
    xai_dataset_free(&d);
}
END_TEST

START_TEST(study_augment_remap)
{
    /* augmentation: a shifted, scaled copy whose values are the original's times one gain */
    float x[2 * 1 * 3 * 64], y[2 * 1 * 3 * 64];
    for (int i = 0; i < 2 * 3 * 64; i++)
        x[i] = y[i] = (float)sin(0.3 * i) + 2.0f;
    int64_t shape[3] = {1, 3, 64};
    ck_assert_int_eq(xai_eeg_augment(NULL, y, 2, 3, shape, 42), XAI_OK);
    for (int e = 0; e < 2; e++) {
        const float *xe = x + e * 192, *ye = y + e * 192;
        int found = 0;
        for (int sh = -4; sh <= 4 && !found; sh++) { /* a shift of at most 64/16 samples */
            double g = ye[10] / xe[10 - sh];
            int ok = g >= 0.8 - 1e-6 && g <= 1.25 + 1e-6;
            for (int c = 0; c < 3 && ok; c++)
                for (int t = 4; t < 60 && ok; t++)
                    ok = fabs(ye[c * 64 + t] - g * xe[c * 64 + t - sh]) < 1e-5;
            found = ok;
        }
        ck_assert_msg(found, "epoch %d is no shifted, scaled copy", e);
    }
    int64_t bad[2] = {3, 64};
    ck_assert_int_eq(xai_eeg_augment(NULL, y, 1, 2, bad, 1), XAI_EINVAL);
    /* channel dropout: whole channels at 0, about the asked fraction of them, the rest intact */
    enum { NE = 200, NC = 10, NT = 32 };
    static float z[NE * NC * NT];
    for (int i = 0; i < NE * NC * NT; i++)
        z[i] = 1.0f + (float)(i % 7);
    int64_t zs[3] = {1, NC, NT}, dropped = 0;
    const double pdrop = 0.2;
    ck_assert_int_eq(xai_eeg_augment((void *)&pdrop, z, NE, 3, zs, 7), XAI_OK);
    for (int k = 0; k < NE * NC; k++) {
        int zeros = 0;
        for (int t = 0; t < NT; t++)
            zeros += z[k * NT + t] == 0.0f;
        ck_assert_msg(zeros == 0 || zeros == NT, "channel %d partly dropped (%d zeros)", k, zeros);
        dropped += zeros == NT;
    }
    ck_assert_msg(dropped > 0.15 * NE * NC && dropped < 0.25 * NE * NC, "%lld of %d channels dropped",
                  (long long)dropped, NE * NC);
    /* remapping events onto the record's classes */
    xai_eeg_prep p = {0};
    ck_assert_int_eq(xai_eeg_prep_set_events(&p, "T1=left,T2=right"), XAI_OK);
    ck_assert_int_eq(xai_eeg_prep_remap_events(&p, "right_hand=right,left_hand=left"), XAI_OK);
    ck_assert_int_eq(p.nmap, 2);
    ck_assert_str_eq(p.ev_keys[0], "right_hand");
    ck_assert_int_eq(p.ev_class[0], 1);
    ck_assert_int_eq(p.ev_class[1], 0);
    ck_assert_int_eq(p.nclass, 2);
    ck_assert_int_eq(xai_eeg_prep_remap_events(&p, "x=feet,y=left"), XAI_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "feet"));
    ck_assert_str_eq(p.ev_keys[0], "right_hand"); /* unchanged on failure */
    ck_assert_int_eq(xai_eeg_prep_remap_events(&p, "nonsense"), XAI_EINVAL);
    xai_eeg_prep_free(&p);
}
END_TEST

/* a participant channels table with relevance_<class> columns and its sidecar */
static void group_table_file(const char *path, const char *const *ch, const double *up, const double *dn, int n,
                             int oos)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "name\ttype\trelevance_abs\trelevance_up\trelevance_down\n");
    for (int i = 0; i < n; i++)
        fprintf(f, "%s\tEEG\t9\t%.17g\t%.17g\n", ch[i], up[i], dn[i]);
    fclose(f);
    char js[256];
    snprintf(js, sizeof js, "%.*s.json", (int)strlen(path) - 4, path);
    f = fopen(js, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\"OutOfSample\": %s}\n", oos ? "true" : "false");
    fclose(f);
}

START_TEST(group_level)
{
    char dir[] = "/tmp/xai-eeg-group-XXXXXX", path[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *sub[] = {"sub-01/eeg", "sub-02/ses-a/eeg", "sub-03/eeg"};
    for (int i = 0; i < 3; i++) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "mkdir -p %s/%s", dir, sub[i]);
        ck_assert_int_eq(system(cmd), 0);
    }
    const char *ch3[] = {"C3", "Cz", "C4"}, *ch2[] = {"c4", "C3"};
    double up1[] = {1, 2, 3}, dn1[] = {-1, 0, 1}, up2[] = {5, 7}, dn2[] = {0.5, 0.25};
    snprintf(path, sizeof path, "%s/sub-01/eeg/sub-01_run-1_desc-lrp_channels.tsv", dir);
    group_table_file(path, ch3, up1, dn1, 3, 1);
    snprintf(path, sizeof path, "%s/sub-02/ses-a/eeg/sub-02_run-1_desc-lrp_channels.tsv", dir);
    group_table_file(path, ch2, up2, dn2, 2, 1);
    snprintf(path, sizeof path, "%s/sub-03/eeg/sub-03_run-1_desc-lrp_channels.tsv", dir);
    group_table_file(path, ch3, up2, up2, 2, 0); /* in sample: left out */
    snprintf(path, sizeof path, "%s/group_desc-lrp_channels.tsv", dir);
    group_table_file(path, ch3, up1, up1, 3, 1); /* not a participant output */
    char **files = NULL;
    size_t n = 0;
    ck_assert_int_eq(xai_eeg_group_find(dir, "lrp", &files, &n), XAI_OK);
    ck_assert_int_eq((int)n, 3);
    ck_assert_ptr_nonnull(strstr(files[1], "sub-02/ses-a/eeg/"));
    xai_eeg_group *g = NULL;
    ck_assert_int_eq(xai_eeg_group_new(&g), XAI_OK);
    int left = 0, nleft = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(xai_eeg_group_add(g, files[i], &left), XAI_OK);
        nleft += left;
        free(files[i]);
    }
    free(files);
    ck_assert_int_eq(nleft, 1);
    ck_assert_int_eq(xai_eeg_group_nchannels(g), 3);
    ck_assert_int_eq(xai_eeg_group_nclasses(g), 2);
    char out[300];
    snprintf(out, sizeof out, "%s/group.tsv", dir);
    ck_assert_int_eq(xai_eeg_group_write(g, out, NULL), XAI_OK);
    xai_tsv *t = NULL;
    ck_assert_int_eq(xai_tsv_load(out, 0, &t), XAI_OK);
    double v;
    /* C3: up (1 + 7) / 2, C4 matched as "c4": (3 + 5) / 2; Cz only in one table */
    long cu = xai_tsv_find_column(t, "relevance_up"), cd = xai_tsv_find_column(t, "relevance_down");
    ck_assert(cu > 0 && cd > 0 && xai_tsv_find_column(t, "relevance_abs") < 0);
    ck_assert_int_eq(xai_tsv_get_number(t, 0, (size_t)cu, &v), XAI_OK);
    ck_assert_double_eq_tol(v, 4.0, 1e-12);
    ck_assert_int_eq(xai_tsv_get_number(t, 2, (size_t)cu, &v), XAI_OK);
    ck_assert_double_eq_tol(v, 4.0, 1e-12);
    ck_assert_int_eq(xai_tsv_get_number(t, 2, (size_t)cd, &v), XAI_OK);
    ck_assert_double_eq_tol(v, 0.75, 1e-12);
    ck_assert_int_eq(xai_tsv_get_number(t, 1, 1, &v), XAI_OK);
    ck_assert_double_eq_tol(v, 1, 1e-12);
    xai_tsv_free(t);
    char *js = NULL;
    ck_assert_int_eq(xai_eeg_group_sidecar(g, &js), XAI_OK);
    ck_assert_ptr_nonnull(strstr(js, "\"InSampleRecordingsLeftOut\": 1"));
    ck_assert_ptr_nonnull(strstr(js, "relevance_down"));
    free(js);
    xai_eeg_group_free(g);
    /* no participant level yet: nothing found, no error */
    snprintf(out, sizeof out, "%s/none", dir);
    ck_assert_int_eq(xai_eeg_group_find(out, "lrp", &files, &n), XAI_OK);
    ck_assert_int_eq((int)n, 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(truth_mask)
{
    xai_eeg_prep p = {0};
    const char *ch[] = {"C3", "Cz", "C4"};
    p.nch = 3;
    p.channels = (char **)ch;
    p.tmin = -0.5;
    p.rate = 10;
    p.ntimes = 20; /* -0.5 .. 1.4 s */
    char path[] = "/tmp/xai-eeg-truth-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("kind\tchannels\ttmin_s\ttmax_s\nplanted\tc4,C3\t0\t0.3\ndecoy\tCz\t0\t1\nplanted\tCz\t1.35\t5\n", f);
    fclose(f);
    float m[60];
    int nreg = 0;
    ck_assert_int_eq(xai_eeg_truth_mask(&p, path, NULL, m, &nreg), XAI_OK);
    ck_assert_int_eq(nreg, 2);
    float sum = 0;
    for (int i = 0; i < 60; i++)
        sum += m[i];
    ck_assert_float_eq(sum, 3 + 3 + 1); /* 0.0, 0.1, 0.2 s on C3 and C4; 1.4 s on Cz */
    ck_assert_float_eq(m[0 * 20 + 5], 1);  /* C3 at 0.0 s */
    ck_assert_float_eq(m[0 * 20 + 8], 0);  /* C3 at 0.3 s: the end is open */
    ck_assert_float_eq(m[2 * 20 + 7], 1);  /* C4 matched as "c4" */
    ck_assert_float_eq(m[1 * 20 + 19], 1); /* Cz at 1.4 s */
    ck_assert_int_eq(xai_eeg_truth_mask(&p, path, "decoy", m, &nreg), XAI_OK);
    ck_assert_int_eq(nreg, 1);
    ck_assert_int_eq(xai_eeg_truth_mask(&p, path, "none", m, &nreg), XAI_EINVAL);
    f = fopen(path, "w");
    fputs("channels\ttmin_s\ttmax_s\nO1\t0\t1\n", f);
    fclose(f);
    ck_assert_int_eq(xai_eeg_truth_mask(&p, path, NULL, m, &nreg), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "O1"));
    f = fopen(path, "w");
    fputs("channel\tonset\nC3\t0\n", f);
    fclose(f);
    ck_assert_int_eq(xai_eeg_truth_mask(&p, path, NULL, m, &nreg), XAI_EINVAL);
    unlink(path);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("domain-eeg");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, montage_positions);
    tcase_add_test(tc, filter_zero_phase);
    tcase_add_test(tc, events_parse);
    tcase_add_test(tc, epochs_windows);
    tcase_add_test(tc, record_roundtrip);
    tcase_add_test(tc, read_real_files);
    tcase_add_test(tc, record_v2);
    tcase_add_test(tc, standardise_recording);
    tcase_add_test(tc, standardise_robust);
    tcase_add_test(tc, standardise_flat_channel);
    tcase_add_test(tc, window_from_events);
    tcase_add_test(tc, load_study);
    tcase_add_test(tc, montage_inferior);
    tcase_add_test(tc, write_maps);
    tcase_add_test(tc, study_pieces);
    tcase_add_test(tc, study_augment_remap);
    tcase_add_test(tc, group_level);
    tcase_add_test(tc, truth_mask);
    suite_add_tcase(s, tc);
    return s;
}
