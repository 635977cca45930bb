/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-domain-gait.c - the gait domain (xai/domain-gait.h): option lists, the pre-processing
 * record's JSON round trip and its malformed forms, cycles and trial offsets from a C3D trial
 * written here with known angles and events, left/right pairing, the model input formula, and
 * the messages for missing variables, missing events and unreadable files.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"
#include "xai/domain-gait.h"

#define NPTS XAI_GAIT_NPTS

START_TEST(test_lists)
{
    xai_gait_pre p;
    memset(&p, 0, sizeof p);
    ck_assert_int_eq(xai_gait_pre_set_variables(&p, "KneeAngles,LHipAngles"), XAI_OK);
    ck_assert_int_eq(p.nvars, 2);
    ck_assert_str_eq(p.vars[1], "LHipAngles");
    ck_assert_int_eq(xai_gait_pre_set_components(&p, "z,sagittal"), XAI_OK);
    ck_assert_int_eq(p.ncomps, 2);
    ck_assert_int_eq(p.comps[0], 2);
    ck_assert_int_eq(p.comps[1], 0);
    ck_assert_int_eq(xai_gait_pre_channels(&p), 4);
    p.paired = 1;
    ck_assert_int_eq(xai_gait_pre_inputs(&p), 8);
    char buf[64];
    xai_gait_var_label(&p, 0, "Right", buf, sizeof buf);
    ck_assert_str_eq(buf, "RKneeAngles");
    xai_gait_var_label(&p, 1, "Right", buf, sizeof buf); /* a fixed side stays */
    ck_assert_str_eq(buf, "LHipAngles");
    ck_assert_int_eq(xai_gait_pre_set_variables(&p, "KneeAngles,KneeAngles"), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "twice"));
    ck_assert_int_eq(xai_gait_pre_set_variables(&p, ","), XAI_EINVAL);
    ck_assert_int_eq(xai_gait_pre_set_components(&p, "sagittal,x"), XAI_EINVAL);
    ck_assert_int_eq(xai_gait_pre_set_components(&p, "coronal"), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "coronal"));
    xai_gait_pre_free(&p);
}
END_TEST

static void make_pre(xai_gait_pre *p, int paired, int offset)
{
    memset(p, 0, sizeof *p);
    ck_assert_int_eq(xai_gait_pre_set_variables(p, "KneeAngles"), XAI_OK);
    ck_assert_int_eq(xai_gait_pre_set_components(p, "sagittal"), XAI_OK);
    p->paired = paired;
    p->offset = offset;
}

START_TEST(test_record_round_trip)
{
    xai_gait_pre a, b;
    make_pre(&a, 1, 1);
    int nin = xai_gait_pre_inputs(&a);
    a.mean = malloc((size_t)nin * NPTS * sizeof(float));
    a.sd = malloc((size_t)nin * sizeof(float));
    for (int i = 0; i < nin * NPTS; i++)
        a.mean[i] = 0.25f * (float)i - 3.0f;
    a.sd[0] = 2.5f;
    a.sd[1] = 0.125f;
    a.have_norm = 1;
    char *t = xai_gait_pre_to_json(&a);
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_nonnull(strstr(t, "\"offset\":\"trial_mean\""));
    ck_assert_ptr_nonnull(strstr(t, "\"events\":\"auto\""));
    ck_assert_int_eq(xai_gait_pre_from_json(&b, t), XAI_OK);
    ck_assert_int_eq(b.paired, 1);
    ck_assert_int_eq(b.offset, 1);
    ck_assert_int_eq(b.have_norm, 1);
    ck_assert(xai_gait_pre_same_selection(&a, &b));
    for (int i = 0; i < nin * NPTS; i++)
        ck_assert_float_eq(b.mean[i], a.mean[i]);
    ck_assert_float_eq(b.sd[1], 0.125f);
    xai_gait_pre_free(&b);
    /* a record from before sides/offset existed: one cycle, no offset removal */
    ck_assert_int_eq(xai_gait_pre_from_json(&b, "{\"tool\":\"xai-gait\",\"points\":101,\"variables\":[\"KneeAngles\"],"
                                                "\"components\":[\"sagittal\"]}"), XAI_OK);
    ck_assert_int_eq(b.paired, 0);
    ck_assert_int_eq(b.offset, 0);
    ck_assert_int_eq(b.have_norm, 0);
    ck_assert_int_eq(b.events, XAI_GAIT_EVENTS_FILE); /* older models used the file's events */
    ck_assert(!xai_gait_pre_same_selection(&a, &b));
    xai_gait_pre_free(&b);
    free(t);
    xai_gait_pre_free(&a);
}
END_TEST

START_TEST(test_record_malformed)
{
    static const char *const bad[] = {
        NULL, "", "[1]", "{\"tool\":\"xai-eeg\",\"points\":101,\"variables\":[\"K\"],\"components\":[\"sagittal\"]}",
        "{\"tool\":\"xai-gait\",\"points\":100,\"variables\":[\"K\"],\"components\":[\"sagittal\"]}",
        "{\"tool\":\"xai-gait\",\"points\":101,\"variables\":[],\"components\":[\"sagittal\"]}",
        "{\"tool\":\"xai-gait\",\"points\":101,\"variables\":[3],\"components\":[\"sagittal\"]}",
        "{\"tool\":\"xai-gait\",\"points\":101,\"variables\":[\"K\"],\"components\":[\"up\"]}",
        "{\"tool\":\"xai-gait\",\"points\":101,\"variables\":[\"K\"],\"components\":[\"sagittal\"],\"sides\":\"both\"}",
        "{\"tool\":\"xai-gait\",\"points\":101,\"variables\":[\"K\"],\"components\":[\"sagittal\"],\"offset\":\"x\"}",
        "{\"tool\":\"xai-gait\",\"points\":101,\"variables\":[\"K\"],\"components\":[\"sagittal\"],\"events\":\"x\"}",
        "{\"tool\":\"xai-gait\",\"points\":101,\"variables\":[\"K\"],\"components\":[\"sagittal\"],"
        "\"normalisation\":{\"mean\":[1,2],\"sd\":[1]}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xai_gait_pre p;
        ck_assert_msg(xai_gait_pre_from_json(&p, bad[i]) == XAI_EINVAL, "record %zu accepted", i);
        ck_assert(strlen(xai_last_error()) > 0);
        xai_gait_pre_free(&p);
    }
}
END_TEST

/* A 3 s trial at 100 Hz: LKneeAngles X = 10 + t, RKneeAngles X = -5 (constant), Left Foot
 * Strikes at 0.1, 1.1, 2.1 s, Right ones at 0.6, 1.6, 2.6 s (2 cycles per side). */
static char *write_trial(const char *dir, int events)
{
    xai_c3d *c = NULL;
    ck_assert_int_eq(xai_c3d_new(2, 0, 300, 1, 100.0, &c), XAI_OK);
    free(c->point_labels[0]);
    free(c->point_labels[1]);
    c->point_labels[0] = strdup("LKneeAngles");
    c->point_labels[1] = strdup("RKneeAngles");
    for (int f = 0; f < 300; f++) {
        c->points[(size_t)f * 6 + 0] = 10.0f + (float)f / 100.0f;
        c->points[(size_t)f * 6 + 3] = -5.0f;
    }
    for (int k = 0; events && k < 3; k++) {
        ck_assert_int_eq(xai_c3d_add_event(c, "Foot Strike", "Left", 0.1 + k, XAI_C3D_EVENT_GROUP), XAI_OK);
        ck_assert_int_eq(xai_c3d_add_event(c, "Foot Strike", "Right", 0.6 + k, XAI_C3D_EVENT_GROUP), XAI_OK);
    }
    char *path = malloc(strlen(dir) + 32);
    sprintf(path, "%s/trial%d.c3d", dir, events);
    ck_assert_msg(xai_c3d_write(path, c, NULL) == XAI_OK, "%s", xai_last_error());
    xai_c3d_close(c);
    return path;
}

/* 10 s at 100 Hz, hip and knee angles of a 1 s stride (an asymmetric periodic pattern with
 * a slow drift), Left strikes at 0.2 + k s and Right ones at 0.7 + k s, except the
 * Left one at @p drop s. */
static xai_c3d *periodic_trial(double drop)
{
    static const char *const lab[4] = {"LHipAngles", "LKneeAngles", "RHipAngles", "RKneeAngles"};
    xai_c3d *c = NULL;
    ck_assert_int_eq(xai_c3d_new(4, 0, 900, 1, 100.0, &c), XAI_OK);
    for (int i = 0; i < 4; i++) {
        free(c->point_labels[i]);
        c->point_labels[i] = strdup(lab[i]);
    }
    for (int f = 0; f < 900; f++)
        for (int s = 0; s < 2; s++) {
            double t = (double)f / 100.0, ph = 2 * M_PI * (t - 0.2 - 0.5 * s);
            c->points[((size_t)f * 4 + (size_t)(2 * s)) * 3] = (float)(20 * cos(ph) + 0.1 * t);
            c->points[((size_t)f * 4 + (size_t)(2 * s + 1)) * 3] = (float)(30 - 25 * cos(ph) + 10 * sin(2 * ph));
        }
    for (int k = 0; k < 9; k++) {
        if (fabs(0.2 + k - drop) > 1e-9)
            ck_assert_int_eq(xai_c3d_add_event(c, "Foot Strike", "Left", 0.2 + k, XAI_C3D_EVENT_GROUP), XAI_OK);
        ck_assert_int_eq(xai_c3d_add_event(c, "Foot Strike", "Right", 0.7 + k, XAI_C3D_EVENT_GROUP), XAI_OK);
    }
    return c;
}

START_TEST(test_recover_events)
{
    ck_assert_int_eq(xai_gait_events_parse("kinematic"), XAI_GAIT_EVENTS_KINEMATIC);
    ck_assert_int_eq(xai_gait_events_parse("force"), -1);
    int n = -1;
    xai_c3d *c = periodic_trial(4.2);
    ck_assert_int_eq(xai_gait_recover_events(c, XAI_GAIT_EVENTS_FILE, &n), XAI_OK);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(c->nevents, 17);
    ck_assert_int_eq(xai_gait_recover_events(c, 3, &n), XAI_EINVAL);
    /* no heel, toe or sacrum marker */
    ck_assert_int_eq(xai_gait_recover_events(c, XAI_GAIT_EVENTS_KINEMATIC, &n), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "markers"));
    ck_assert_int_eq(c->nevents, 17);
    ck_assert_int_eq(xai_gait_recover_events(c, XAI_GAIT_EVENTS_AUTO, &n), XAI_OK);
    ck_assert_int_eq(n, 1); /* the dropped strike, and nothing at the trial's ends (no room) */
    ck_assert_int_eq(c->nevents, 18);
    const xai_c3d_event *e = &c->events[17];
    ck_assert(xai_gait_event_recovered(e) && !xai_gait_event_recovered(&c->events[0]));
    ck_assert_str_eq(e->label, "Foot Strike");
    ck_assert_str_eq(e->context, "Left");
    ck_assert_msg(fabs(e->time_s - 4.2) < 0.005, "recovered at %g s", e->time_s);
    xai_c3d_close(c);
    /* a complete trial gets nothing */
    c = periodic_trial(-1);
    ck_assert_int_eq(xai_gait_recover_events(c, XAI_GAIT_EVENTS_AUTO, &n), XAI_OK);
    ck_assert_int_eq(n, 0);
    xai_c3d_close(c);
}
END_TEST

START_TEST(test_extract_offsets_pairs_inputs)
{
    char *dir = xai_test_tmpdir();
    char *path = write_trial(dir, 1);
    xai_gait_pre p;
    make_pre(&p, 1, 1);
    xai_gait_cycles cy;
    memset(&cy, 0, sizeof cy);
    int gaps = 0;
    ck_assert_msg(xai_gait_extract(&p, path, 7, &cy, &gaps) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(cy.n, 4);
    ck_assert_int_eq(gaps, 0);
    double lsum = 0;
    int nl = 0;
    for (int64_t i = 0; i < cy.n; i++) {
        ck_assert_int_eq(cy.trial[i], 7);
        if (cy.side[i][0] == 'R') { /* a constant channel: its offset is the constant */
            ck_assert_float_eq_tol(cy.offset[i], -5.0f, 1e-4f);
            continue;
        }
        /* left: 10 + t over [start, end], time-normalised */
        ck_assert_float_eq_tol(cy.x[i * NPTS], 10.0f + (float)cy.start_s[i], 0.02f);
        ck_assert_float_eq_tol(cy.x[i * NPTS + NPTS - 1], 10.0f + (float)cy.end_s[i], 0.02f);
        for (int t = 0; t < NPTS; t++)
            lsum += cy.x[i * NPTS + t];
        nl += NPTS;
    }
    for (int64_t i = 0; i < cy.n; i++) /* the trial mean over both left cycles' points */
        if (cy.side[i][0] == 'L')
            ck_assert_float_eq_tol(cy.offset[i], (float)(lsum / nl), 1e-3f);
    int64_t *a = NULL, *b = NULL;
    ck_assert_int_eq(xai_gait_samples(&p, &cy, &a, &b), 2);
    for (int k = 0; k < 2; k++) { /* each left cycle with the right one starting inside it */
        ck_assert_int_eq(cy.side[a[k]][0], 'L');
        ck_assert_int_eq(cy.side[b[k]][0], 'R');
        ck_assert(cy.start_s[b[k]] > cy.start_s[a[k]] && cy.start_s[b[k]] < cy.end_s[a[k]]);
    }
    /* input = (x - offset - mean) / sd, left block then right block */
    p.mean = calloc(2 * NPTS, sizeof(float));
    p.sd = malloc(2 * sizeof(float));
    p.mean[NPTS + 3] = 1.0f;
    p.sd[0] = 2.0f;
    p.sd[1] = 4.0f;
    p.have_norm = 1;
    float in[2 * NPTS];
    xai_gait_input(&p, &cy, a[1], b[1], in);
    for (int t = 0; t < NPTS; t++)
        ck_assert_float_eq_tol(in[t], (cy.x[a[1] * NPTS + t] - cy.offset[a[1]]) / 2.0f, 1e-5f);
    ck_assert_float_eq_tol(in[NPTS + 3], -0.25f, 1e-5f);
    ck_assert_float_eq_tol(in[NPTS + 50], 0.0f, 1e-5f);
    /* one cycle per sample without pairing */
    p.paired = 0;
    free(a);
    free(b);
    ck_assert_int_eq(xai_gait_samples(&p, &cy, &a, &b), 4);
    ck_assert_int_eq(b[0], -1);
    free(a);
    free(b);
    xai_gait_cycles_free(&cy);
    xai_gait_pre_free(&p);
    free(path);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* An 8 s walk with the Left Foot Strike at 3.1 s undetected: Left strikes 0.1, 1.1, 2.1, 4.1,
 * ..., 7.1 s, Right ones 0.6 ... 7.6 s. The joined 2.1-4.1 s stride is no cycle; the rest are. */
START_TEST(test_extract_missed_strike)
{
    char *dir = xai_test_tmpdir();
    xai_c3d *c = NULL;
    ck_assert_int_eq(xai_c3d_new(2, 0, 800, 1, 100.0, &c), XAI_OK);
    free(c->point_labels[0]);
    free(c->point_labels[1]);
    c->point_labels[0] = strdup("LKneeAngles");
    c->point_labels[1] = strdup("RKneeAngles");
    for (int k = 0; k < 8; k++) {
        if (k != 3)
            ck_assert_int_eq(xai_c3d_add_event(c, "Foot Strike", "Left", 0.1 + k, XAI_C3D_EVENT_GROUP), XAI_OK);
        ck_assert_int_eq(xai_c3d_add_event(c, "Foot Strike", "Right", 0.6 + k, XAI_C3D_EVENT_GROUP), XAI_OK);
    }
    char *path = malloc(strlen(dir) + 32);
    sprintf(path, "%s/missed.c3d", dir);
    ck_assert_msg(xai_c3d_write(path, c, NULL) == XAI_OK, "%s", xai_last_error());
    xai_c3d_close(c);
    xai_gait_pre p;
    make_pre(&p, 1, 1);
    xai_gait_cycles cy;
    memset(&cy, 0, sizeof cy);
    int gaps = 0;
    ck_assert_msg(xai_gait_extract(&p, path, 0, &cy, &gaps) == XAI_OK, "%s", xai_last_error());
    int nl = 0, nr = 0;
    for (int64_t i = 0; i < cy.n; i++) {
        ck_assert_float_eq_tol(cy.end_s[i] - cy.start_s[i], 1.0, 0.011);
        nl += cy.side[i][0] == 'L';
        nr += cy.side[i][0] == 'R';
    }
    ck_assert_int_eq(nl, 5);
    ck_assert_int_eq(nr, 7);
    ck_assert_int_eq(cy.irregular, 1);
    ck_assert_int_eq(gaps, 0);
    /* two trials' worth: the count adds up over calls */
    ck_assert(xai_gait_extract(&p, path, 1, &cy, &gaps) == XAI_OK);
    ck_assert_int_eq(cy.irregular, 2);
    xai_gait_cycles_free(&cy);
    xai_gait_pre_free(&p);
    free(path);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_extract_errors)
{
    char *dir = xai_test_tmpdir();
    char *path = write_trial(dir, 1), *noev = write_trial(dir, 0);
    xai_gait_pre p;
    memset(&p, 0, sizeof p);
    ck_assert_int_eq(xai_gait_pre_set_variables(&p, "KneeAngles,FootProgressAngles,TrunkAngles"), XAI_OK);
    ck_assert_int_eq(xai_gait_pre_set_components(&p, "sagittal"), XAI_OK);
    xai_gait_cycles cy;
    memset(&cy, 0, sizeof cy);
    int gaps = 0;
    ck_assert_int_eq(xai_gait_extract(&p, path, 0, &cy, &gaps), XAI_EINVAL);
    const char *m = xai_last_error();
    ck_assert_msg(strstr(m, "LFootProgressAngles LTrunkAngles") && strstr(m, "LKneeAngles, RKneeAngles"), "%s", m);
    ck_assert_int_eq(cy.n, 0);
    ck_assert_int_eq(xai_gait_pre_set_variables(&p, "KneeAngles"), XAI_OK);
    ck_assert_int_eq(xai_gait_extract(&p, noev, 0, &cy, &gaps), XAI_EINVAL);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "no complete gait cycle"));
    char missing[512];
    snprintf(missing, sizeof missing, "%s/none.c3d", dir);
    ck_assert_int_ne(xai_gait_extract(&p, missing, 0, &cy, &gaps), XAI_OK);
    ck_assert_int_eq(cy.n, 0);
    xai_gait_cycles_free(&cy);
    xai_gait_pre_free(&p);
    free(path);
    free(noev);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* A study of 3 trials (two readable with events, one without): each readable trial gives 2
 * paired samples; labels, groups and the failure callback are checked, then the
 * normalisation (mean 0 and SD 1 per channel over the dataset, the record reproducing it). */
static void count_fail(void *ud, int trial, xai_status st, int gaps, const char *message)
{
    int *n = ud;
    ck_assert_int_ne(st, XAI_OK);
    ck_assert_int_eq(gaps, 0);
    ck_assert_int_eq(trial, 1);
    ck_assert_ptr_nonnull(strstr(message, "no complete gait cycle"));
    (*n)++;
}

START_TEST(test_study_load)
{
    char *dir = xai_test_tmpdir();
    char *p1 = write_trial(dir, 1), *p0 = write_trial(dir, 0);
    xai_gait_pre p;
    make_pre(&p, 1, 0);
    xai_gait_trial_ref tr[3] = {{p1, "sub-02", "ses-01", "run-01", "normal"},
                                {p0, "sub-01", "ses-01", "run-02", "normal"},
                                {p1, "sub-01", "ses-02", "run-03", "brace"}};
    xai_gait_study st;
    int nfail = 0;
    ck_assert_msg(xai_gait_study_load(&p, tr, 3, "subject", NULL, 0, "session", count_fail, &nfail, &st) == XAI_OK,
                  "%s", xai_last_error());
    ck_assert_int_eq(nfail, 1);
    ck_assert_int_eq(st.nfailed, 1);
    ck_assert_int_eq(st.d.n, 4);
    ck_assert_int_eq(st.d.shape[0], 2);
    ck_assert_int_eq(st.d.shape[1], NPTS);
    ck_assert_int_eq(st.d.nclasses, 2); /* sorted: sub-01, sub-02 */
    ck_assert_str_eq(st.d.class_names[0], "sub-01");
    ck_assert_str_eq(st.d.group_kind, "session");
    ck_assert_int_eq(st.d.ngroups, 2);
    static const int y[4] = {1, 1, 0, 0};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(st.d.y[i], y[i]);
        ck_assert_str_eq(st.d.group_names[st.d.group[i]], i < 2 ? "ses-01" : "ses-02");
        float in[2 * NPTS];
        xai_gait_input(&p, &st.cy, st.a[i], st.b[i], in);
        ck_assert_mem_eq(in, st.d.x + (size_t)i * 2 * NPTS, sizeof in);
    }
    /* given classes: a label that is none of them is -1; grouped by condition */
    xai_gait_study_free(&st);
    const char *cls[] = {"sub-02", "sub-09"};
    ck_assert_int_eq(xai_gait_study_load(&p, tr, 3, "subject", cls, 2, "condition", NULL, NULL, &st), XAI_OK);
    ck_assert_int_eq(st.d.y[0], 0);
    ck_assert_int_eq(st.d.y[3], -1);
    ck_assert_str_eq(st.d.group_names[st.d.group[3]], "brace");
    /* the normalisation: per channel, points of the mean curve 0, SD 1 around it */
    ck_assert_int_eq(xai_gait_fit_normalisation(&p, &st.d), XAI_OK);
    ck_assert_int_eq(p.have_norm, 1);
    for (int ch = 0; ch < 2; ch++) {
        double s2 = 0;
        for (int t = 0; t < NPTS; t++) {
            double m = 0;
            for (int i = 0; i < 4; i++) {
                double v = st.d.x[(size_t)i * 2 * NPTS + (size_t)ch * NPTS + (size_t)t];
                m += v / 4;
                s2 += v * v;
            }
            ck_assert_double_eq_tol(m, 0, 1e-5);
        }
        /* the right channel is constant: SD falls back to 1, values 0 */
        ck_assert_double_eq_tol(s2 / (4 * NPTS), ch == 0 ? 1.0 : 0.0, 1e-4);
    }
    float in[2 * NPTS];
    xai_gait_input(&p, &st.cy, st.a[2], st.b[2], in);
    for (int k = 0; k < 2 * NPTS; k++)
        ck_assert_float_eq_tol(in[k], st.d.x[2 * 2 * NPTS + k], 1e-5f);
    ck_assert_int_eq(xai_gait_fit_normalisation(&p, &st.d), XAI_EINVAL); /* not twice */
    xai_gait_study_free(&st);
    /* fitted on some samples only (one fold's training samples): their mean curve and SD */
    p.have_norm = 0;
    ck_assert_int_eq(xai_gait_study_load(&p, tr, 3, "subject", NULL, 0, "session", NULL, NULL, &st), XAI_OK);
    const int64_t rows[2] = {2, 3};
    ck_assert_int_eq(xai_gait_norm_fit(&p, st.d.x, rows, 2), XAI_OK);
    ck_assert_int_eq(p.have_norm, 1);
    double s2 = 0;
    for (int q = 0; q < NPTS; q++) {
        float a = st.d.x[2 * 2 * NPTS + q], b = st.d.x[3 * 2 * NPTS + q];
        ck_assert_float_eq_tol(p.mean[q], (a + b) / 2, 1e-4f);
        s2 += (a - p.mean[q]) * (a - p.mean[q]) + (b - p.mean[q]) * (b - p.mean[q]);
    }
    ck_assert_double_eq_tol(p.sd[0], sqrt(s2 / (2 * NPTS)), 1e-4);
    float v[2 * NPTS];
    memcpy(v, st.d.x, sizeof v);
    xai_gait_normalise(&p, v, 1);
    for (int q = 0; q < 2 * NPTS; q++)
        ck_assert_float_eq_tol(v[q], (st.d.x[q] - p.mean[q]) / p.sd[q / NPTS], 1e-5f);
    ck_assert_int_eq(xai_gait_norm_fit(&p, st.d.x, rows, 0), XAI_EINVAL);
    xai_gait_study_free(&st);
    /* only unreadable trials: no error, no sample; a trial without a field is refused */
    ck_assert_int_eq(xai_gait_study_load(&p, tr + 1, 1, "subject", NULL, 0, "session", NULL, NULL, &st), XAI_OK);
    ck_assert_int_eq(st.d.n, 0);
    xai_gait_study_free(&st);
    tr[0].session = NULL;
    ck_assert_int_eq(xai_gait_study_load(&p, tr, 3, "subject", NULL, 0, "session", NULL, NULL, &st), XAI_EINVAL);
    ck_assert_int_eq(xai_gait_study_load(&p, tr, 3, "subject", NULL, 0, "weekday", NULL, NULL, &st), XAI_EINVAL);
    xai_gait_pre_free(&p);
    free(p1);
    free(p0);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* Augmentation: a constant channel stays constant up to the gain; a ramp is shifted and
 * stretched by at most 3 + 5 % of the cycle; the same seed gives the same result. */
START_TEST(test_augment)
{
    enum { N = 64 };
    float *x = malloc(sizeof(float) * N * 2 * NPTS), *y = malloc(sizeof(float) * N * 2 * NPTS);
    for (int i = 0; i < N; i++)
        for (int t = 0; t < NPTS; t++) {
            x[(size_t)i * 2 * NPTS + (size_t)t] = 1.0f;
            x[(size_t)i * 2 * NPTS + NPTS + (size_t)t] = sinf(2 * (float)M_PI * (float)t / (NPTS - 1));
        }
    memcpy(y, x, sizeof(float) * N * 2 * NPTS);
    int64_t shape[2] = {2, NPTS};
    ck_assert_int_eq(xai_gait_augment(NULL, x, N, 2, shape, 42), XAI_OK);
    ck_assert_int_eq(xai_gait_augment(NULL, y, N, 2, shape, 42), XAI_OK);
    ck_assert_mem_eq(x, y, sizeof(float) * N * 2 * NPTS);
    double lg = 0, lg2 = 0;
    for (int i = 0; i < N; i++) {
        const float *c = x + (size_t)i * 2 * NPTS, *w = c + NPTS;
        float g = c[0];
        for (int t = 0; t < NPTS; t++)
            ck_assert_float_eq_tol(c[t], g, 1e-5f);
        lg += log(g) / N;
        lg2 += log(g) * log(g) / N;
        /* the sine's peak moves by at most shift + stretch (3 + 0.05 * 25 points), scaled by g */
        int peak = 0;
        for (int t = 1; t < NPTS; t++)
            if (w[t] > w[peak])
                peak = t;
        ck_assert_int_le(abs(peak - 25), 5);
        ck_assert_float_eq_tol(w[peak], g, 0.01f * g);
    }
    ck_assert_double_lt(fabs(lg), 0.05);                 /* gains centred on 1 */
    ck_assert_double_eq_tol(sqrt(lg2 - lg * lg), 0.1, 0.04); /* log-gain SD 0.1 */
    int64_t bad[2] = {2, 100};
    ck_assert_int_eq(xai_gait_augment(NULL, x, N, 2, bad, 1), XAI_EINVAL);
    free(x);
    free(y);
}
END_TEST

/* Augmentation with the normalisation (per-channel gains of the whole angle curve): a zero
 * angle (z = -mean / sd) stays zero whatever the gain and warp; the mean curve itself (z = 0)
 * becomes (g - 1) mean / sd, one log-normal gain per channel, different between channels. */
START_TEST(test_augment_gain)
{
    enum { N = 64 };
    xai_gait_pre p;
    memset(&p, 0, sizeof p);
    ck_assert_int_eq(xai_gait_pre_set_variables(&p, "KneeAngles"), XAI_OK);
    ck_assert_int_eq(xai_gait_pre_set_components(&p, "sagittal"), XAI_OK);
    p.paired = 1; /* 2 input channels */
    int64_t shape[2] = {2, NPTS};
    float *x = malloc(sizeof(float) * N * 2 * NPTS), *z = malloc(sizeof(float) * N * 2 * NPTS);
    ck_assert_int_eq(xai_gait_augment(&p, x, 1, 2, shape, 1), XAI_EINVAL); /* no normalisation yet */
    p.mean = malloc(sizeof(float) * 2 * NPTS);
    p.sd = malloc(sizeof(float) * 2);
    p.have_norm = 1;
    const float m[2] = {20.0f, -8.0f}, sd[2] = {4.0f, 2.0f};
    for (int c = 0; c < 2; c++) {
        p.sd[c] = sd[c];
        for (int t = 0; t < NPTS; t++)
            p.mean[c * NPTS + t] = m[c];
    }
    for (int i = 0; i < N; i++)
        for (int c = 0; c < 2; c++)
            for (int t = 0; t < NPTS; t++) {
                x[((size_t)i * 2 + (size_t)c) * NPTS + (size_t)t] = -m[c] / sd[c];
                z[((size_t)i * 2 + (size_t)c) * NPTS + (size_t)t] = 0.0f;
            }
    ck_assert_int_eq(xai_gait_augment(&p, x, N, 2, shape, 7), XAI_OK);
    ck_assert_int_eq(xai_gait_augment(&p, z, N, 2, shape, 7), XAI_OK);
    double lg = 0, lg2 = 0;
    int differ = 0;
    for (int i = 0; i < N; i++) {
        double g[2];
        for (int c = 0; c < 2; c++) {
            const float *v = x + ((size_t)i * 2 + (size_t)c) * NPTS, *w = z + ((size_t)i * 2 + (size_t)c) * NPTS;
            g[c] = 1 + w[0] * sd[c] / m[c];
            for (int t = 0; t < NPTS; t++) {
                ck_assert_float_eq_tol(v[t], -m[c] / sd[c], 1e-5f);
                ck_assert_float_eq_tol(w[t], w[0], 1e-5f);
            }
            ck_assert_double_gt(g[c], 0);
            lg += log(g[c]) / (2 * N);
            lg2 += log(g[c]) * log(g[c]) / (2 * N);
        }
        differ += fabs(g[0] - g[1]) > 1e-4;
    }
    ck_assert_int_ge(differ, N - 2);
    ck_assert_double_lt(fabs(lg), 0.05);
    ck_assert_double_eq_tol(sqrt(lg2 - lg * lg), 0.1, 0.04);
    free(x);
    free(z);
    xai_gait_pre_free(&p);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("domain-gait");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_lists);
    tcase_add_test(tc, test_record_round_trip);
    tcase_add_test(tc, test_record_malformed);
    tcase_add_test(tc, test_extract_offsets_pairs_inputs);
    tcase_add_test(tc, test_extract_missed_strike);
    tcase_add_test(tc, test_recover_events);
    tcase_add_test(tc, test_extract_errors);
    tcase_add_test(tc, test_study_load);
    tcase_add_test(tc, test_augment);
    tcase_add_test(tc, test_augment_gain);
    suite_add_tcase(s, tc);
    return s;
}
