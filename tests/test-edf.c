/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-edf.c - EDF/EDF+/BDF reader and EDF+/BDF+ writer (formats/edf.c).
 * Real files come from ../shared/data/eeg (see its SOURCES.md). The expected samples and
 * events were computed independently of EDFlib with /usr/bin/python3 + numpy straight
 * from the raw bytes: int16 LE (EDF) or 24-bit LE two's complement (BDF) per record,
 * phys = pmin + (dig - dmin) * (pmax - pmin) / (dmax - dmin); events = indices where
 * (dig & 0xFFFF) changes to a non-zero value; annotations by splitting the
 * "EDF Annotations" bytes of each record into TALs (0x14/0x15 separators).
 * Small EDF/BDF files (mixed rates, EDF+D, malformed headers) are built in memory by
 * make_edf() below, so no binary fixture is needed.
 */
#include "test-common.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xai/edf.h"

/* A file of ../shared/data/eeg, or NULL when the shared directory is absent. */
static const char *eeg_file(const char *name)
{
    const char *d = xai_test_shared_dir();
    if (!d)
        return NULL;
    return xai_test_path(d, name);
}

/* Skip without ../shared; with it, a missing recording is a failure, not a skip. */
#define NEED_SHARED(var, name)                                                  \
    const char *var = eeg_file("data/eeg/" name);                               \
    if (!var) {                                                                 \
        xai_test_mark_skip();                                                   \
        return;                                                                 \
    }                                                                           \
    ck_assert_msg(access(var, R_OK) == 0, "%s: missing from the shared data", var)

static void expect_samples(xai_edf *h, int ch, const int64_t *idx, const double *want, int n,
                           double tol)
{
    for (int i = 0; i < n; i++) {
        float v;
        ck_assert_int_eq(xai_edf_read_channel(h, ch, idx[i], 1, &v), XAI_OK);
        ck_assert_msg(fabs(v - want[i]) <= tol * (1 + fabs(want[i])),
                      "channel %d sample %lld: got %.9g want %.9g", ch, (long long)idx[i], v,
                      want[i]);
    }
}

/* ---- real files ---------------------------------------------------------------------- */

START_TEST(eegmmidb_r04_facts)
{
    NEED_SHARED(path, "eegmmidb_S001R04.edf");
    xai_edf *h = NULL;
    ck_assert_int_eq(xai_edf_open(path, &h), XAI_OK);
    const xai_edf_info *in = xai_edf_get_info(h);
    ck_assert_int_eq(in->filetype, XAI_EDF_FILE_EDFPLUS);
    ck_assert_int_eq(in->discontinuous, 0);
    ck_assert_int_eq(in->n_channels, 64);
    ck_assert_int_eq(in->n_records, 125);
    ck_assert(fabs(in->duration_s - 125.0) < 1e-9);
    ck_assert_int_eq(in->start_year, 2009);
    ck_assert_int_eq(in->start_month, 8);
    ck_assert_int_eq(in->start_day, 12);
    for (int c = 0; c < 64; c++) {
        const xai_edf_channel *ch = xai_edf_get_channel(h, c);
        ck_assert(fabs(ch->sample_rate - 160.0) < 1e-9);
        ck_assert_int_eq(ch->samples, 20000);
        ck_assert_str_eq(ch->unit, "uV");
        ck_assert(ch->phys_min == -8092 && ch->phys_max == 8092);
    }
    ck_assert_ptr_null(xai_edf_get_channel(h, 64));
    ck_assert_str_eq(xai_edf_get_channel(h, 0)->label, "Fc5.");
    ck_assert_str_eq(xai_edf_get_channel(h, 63)->label, "Iz..");
    ck_assert_int_eq(xai_edf_find_channel(h, " iz.. "), 63);
    ck_assert_int_eq(xai_edf_find_channel(h, "Cz"), -1);
    /* only the annotation signal's prefilter is blanked for EDFlib; the EEG channels keep theirs */
    ck_assert_str_eq(xai_edf_get_channel(h, 0)->prefilter, "HP:0Hz LP:0Hz N:0Hz");
    ck_assert_str_eq(xai_edf_get_channel(h, 0)->transducer, "BCI2000");

    size_t na = 0;
    const xai_edf_annotation *a = xai_edf_get_annotations(h, &na);
    ck_assert_uint_eq(na, 30);
    int t0 = 0, t1 = 0, t2 = 0;
    for (size_t i = 0; i < na; i++) {
        t0 += strcmp(a[i].text, "T0") == 0;
        t1 += strcmp(a[i].text, "T1") == 0;
        t2 += strcmp(a[i].text, "T2") == 0;
        ck_assert(a[i].duration_s > 4.0 && a[i].duration_s < 4.3);
        if (i)
            ck_assert(a[i].onset_s > a[i - 1].onset_s);
    }
    ck_assert_int_eq(t0, 15);
    ck_assert_int_eq(t1, 8);
    ck_assert_int_eq(t2, 7);
    ck_assert_str_eq(a[0].text, "T0");
    ck_assert(fabs(a[0].onset_s) < 1e-9 && fabs(a[0].duration_s - 4.2) < 1e-9);
    ck_assert_str_eq(a[1].text, "T2");
    ck_assert(fabs(a[1].onset_s - 4.2) < 1e-9 && fabs(a[1].duration_s - 4.1) < 1e-9);
    ck_assert_str_eq(a[29].text, "T1");
    ck_assert(fabs(a[29].onset_s - 120.4) < 1e-9);

    /* numpy on the raw bytes: Fc5. and Fc3. (scale 1 uV/bit) */
    const int64_t i0[] = {0, 1, 2, 100, 19999};
    const double w0[] = {-5, -12, -77, -103, 0};
    const double w1[] = {2, -24, -78, -79, 0};
    expect_samples(h, 0, i0, w0, 5, 1e-6);
    expect_samples(h, 1, i0, w1, 5, 1e-6);
    const int64_t i10[] = {0, 1, 2, 159, 160, 19999};
    const double w10[] = {18, -26, -66, -45, -62, 0};
    expect_samples(h, 10, i10, w10, 6, 1e-6);

    /* the [C][T] matrix agrees with per-channel reads */
    float *m = NULL;
    int64_t t = 0;
    double rate = 0;
    ck_assert_int_eq(xai_edf_read_matrix(h, NULL, 0, &m, &t, &rate), XAI_OK);
    ck_assert_int_eq(t, 20000);
    ck_assert(rate == 160.0);
    ck_assert(m[0] == -5.0f && m[1] == -12.0f && m[20000 + 1] == -24.0f);
    ck_assert(m[10 * 20000 + 160] == -62.0f);
    float *row = malloc(sizeof(float) * 20000);
    ck_assert_int_eq(xai_edf_read_channel(h, 37, 0, 20000, row), XAI_OK);
    ck_assert_int_eq(memcmp(row, m + 37 * 20000, sizeof(float) * 20000), 0);
    free(row);
    free(m);
    /* range errors */
    float v;
    ck_assert_int_eq(xai_edf_read_channel(h, 0, 19999, 2, &v), XAI_EINVAL);
    ck_assert_int_eq(xai_edf_read_channel(h, 64, 0, 1, &v), XAI_EINVAL);
    ck_assert_int_eq(xai_edf_read_channel(h, 0, -1, 1, &v), XAI_EINVAL);
    xai_edf_event *ev = NULL;
    size_t nev = 0;
    ck_assert_int_eq(xai_edf_read_events(h, -1, &ev, &nev), XAI_EINVAL);
    ck_assert(strstr(xai_last_error(), "no trigger channel") != NULL);
    /* a second handle on the same file at the same time (EDFlib refuses the same path) */
    xai_edf *h2 = NULL;
    ck_assert_msg(xai_edf_open(path, &h2) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(xai_edf_read_channel(h2, 10, 160, 1, &v), XAI_OK);
    ck_assert(v == -62.0f);
    xai_edf_close(h2);
    xai_edf_close(h);
}
END_TEST

START_TEST(eegmmidb_r03_annotations)
{
    NEED_SHARED(path, "eegmmidb_S001R03.edf");
    xai_edf *h = NULL;
    ck_assert_int_eq(xai_edf_open(path, &h), XAI_OK);
    ck_assert_int_eq(xai_edf_get_info(h)->n_channels, 64);
    ck_assert_int_eq(xai_edf_get_info(h)->filetype, XAI_EDF_FILE_EDFPLUS);
    size_t na = 0;
    const xai_edf_annotation *a = xai_edf_get_annotations(h, &na);
    ck_assert_uint_eq(na, 30);
    for (size_t i = 0; i < na; i++)
        ck_assert(a[i].text[0] == 'T' && a[i].text[1] >= '0' && a[i].text[1] <= '2');
    /* numpy: the first two TALs are +0 (4.2 s) T0 and +4.2 (4.1 s) T2 */
    ck_assert_str_eq(a[0].text, "T0");
    ck_assert_str_eq(a[1].text, "T2");
    ck_assert(fabs(a[1].onset_s - 4.2) < 1e-9 && fabs(a[1].duration_s - 4.1) < 1e-9);
    xai_edf_close(h);
    /* the in-memory entry point tidies the same header the same way */
    size_t len = 0;
    void *buf = xai_test_read_file(path, &len);
    ck_assert_ptr_nonnull(buf);
    ck_assert_msg(xai_edf_open_mem(buf, len, "r03", &h) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(xai_edf_get_channel(h, 63)->samples, 20000);
    xai_edf_get_annotations(h, &na);
    ck_assert_uint_eq(na, 30);
    xai_edf_close(h);
    free(buf);
}
END_TEST

START_TEST(capslpdb_plain_edf)
{
    NEED_SHARED(path, "capslpdb_brux2_100s.edf");
    xai_edf *h = NULL;
    ck_assert_int_eq(xai_edf_open(path, &h), XAI_OK);
    const xai_edf_info *in = xai_edf_get_info(h);
    ck_assert_int_eq(in->filetype, XAI_EDF_FILE_EDF);
    ck_assert_int_eq(in->n_channels, 5);
    ck_assert_uint_eq(in->n_annotations, 0);
    ck_assert_str_eq(in->patient, "brux2");
    ck_assert_int_eq(in->start_year, 2002);
    ck_assert_int_eq(in->start_month, 2);
    ck_assert_int_eq(in->start_day, 4);
    ck_assert_int_eq(in->start_hour, 22);
    ck_assert_int_eq(in->start_minute, 7);
    ck_assert_int_eq(in->start_second, 23);
    static const char *labels[] = {"Fp2-F4", "F4-C4", "C4-P4", "P4-O2", "F8-T4"};
    for (int c = 0; c < 5; c++) {
        const xai_edf_channel *ch = xai_edf_get_channel(h, c);
        ck_assert_str_eq(ch->label, labels[c]);
        ck_assert_str_eq(ch->unit, "uV");
        ck_assert_str_eq(ch->prefilter, "LP:30.00Hz HP:0.30Hz NOTCH:50");
        ck_assert(ch->sample_rate == 256.0);
        ck_assert_int_eq(ch->samples, 25600);
        ck_assert(ch->phys_min == -62.5 && ch->phys_max == 62.5);
        ck_assert_int_eq(ch->dig_min, -2048);
        ck_assert_int_eq(ch->dig_max, 2047);
    }
    const int64_t idx[] = {0, 1, 2, 100, 25599};
    const double w0[] = {4.68559219, 7.03601954, 7.43284493, -5.93711844, -6.79181929};
    const double w1[] = {0.106837607, 0.595238095, 0.442612943, -10.6379731, 1.90781441};
    expect_samples(h, 0, idx, w0, 5, 1e-5);
    expect_samples(h, 1, idx, w1, 5, 1e-5);
    xai_edf_close(h);
}
END_TEST

START_TEST(edf_stim_fractional_record)
{
    NEED_SHARED(path, "mne_test_edf_stim_channel.edf");
    xai_edf *h = NULL;
    ck_assert_int_eq(xai_edf_open(path, &h), XAI_OK);
    const xai_edf_info *in = xai_edf_get_info(h);
    ck_assert_int_eq(in->filetype, XAI_EDF_FILE_EDF);
    ck_assert_int_eq(in->n_channels, 25);
    ck_assert_int_eq(in->n_records, 1);
    ck_assert(fabs(in->record_duration_s - 9.59375) < 1e-9);
    for (int c = 0; c < 25; c++) {
        ck_assert(fabs(xai_edf_get_channel(h, c)->sample_rate - 128.0) < 1e-9);
        ck_assert_int_eq(xai_edf_get_channel(h, c)->samples, 1228);
    }
    ck_assert_str_eq(xai_edf_get_channel(h, 0)->label, "EEG Fp1");
    const int64_t idx[] = {0, 1, 2, 100, 1227};
    const double w0[] = {175940.656, 175941.094, 175942.875, 175938.938, 175924.281};
    expect_samples(h, 0, idx, w0, 5, 1e-7);
    int trig = xai_edf_find_channel(h, "DIG DTRIG");
    ck_assert_int_eq(trig, 24);
    xai_edf_event *ev = NULL;
    size_t n = 0;
    ck_assert_int_eq(xai_edf_read_events(h, trig, &ev, &n), XAI_OK);
    ck_assert_uint_eq(n, 25);
    ck_assert(ev[0].sample == 0 && ev[0].value == 32768);
    ck_assert(ev[1].sample == 121 && ev[1].value == 32767);
    ck_assert(ev[2].sample == 122 && ev[2].value == 32768);
    ck_assert(ev[24].sample == 669 && ev[24].value == 32768);
    ck_assert(fabs(ev[1].onset_s - 121.0 / 128.0) < 1e-12);
    free(ev);
    xai_edf_close(h);
}
END_TEST

static const int64_t stim_samples[] = {242, 310, 952, 1606, 2249, 2900};
static const unsigned stim_values[] = {4, 2, 1, 1, 1, 1};

static void check_bdf_stim(xai_edf *h)
{
    const xai_edf_info *in = xai_edf_get_info(h);
    ck_assert_int_eq(in->filetype, XAI_EDF_FILE_BDF);
    ck_assert_int_eq(in->n_channels, 4);
    ck_assert_str_eq(xai_edf_get_channel(h, 3)->label, "Status");
    for (int c = 0; c < 4; c++) {
        ck_assert(xai_edf_get_channel(h, c)->sample_rate == 500.0);
        ck_assert_int_eq(xai_edf_get_channel(h, c)->samples, 5000);
        ck_assert_int_eq(xai_edf_get_channel(h, c)->dig_min, -8388608);
    }
    xai_edf_event *ev = NULL;
    size_t n = 0;
    ck_assert_int_eq(xai_edf_read_events(h, -1, &ev, &n), XAI_OK);
    ck_assert_uint_eq(n, 9);
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(ev[i].sample, stim_samples[i]);
        ck_assert_uint_eq(ev[i].value, stim_values[i]);
        ck_assert(fabs(ev[i].onset_s - stim_samples[i] / 500.0) < 1e-12);
    }
    ck_assert_int_eq(ev[7].sample, 4162);
    ck_assert_int_eq(ev[8].sample, 4790);
    free(ev);
    const int64_t idx[] = {0, 1, 2, 100};
    const double w0[] = {9081.94861, 9104.74374, 8906.4708, 9074.05971};
    expect_samples(h, 0, idx, w0, 4, 1e-7);
}

START_TEST(bdf_status_events)
{
    NEED_SHARED(path, "mne_test_bdf_stim_channel.bdf");
    xai_edf *h = NULL;
    ck_assert_int_eq(xai_edf_open(path, &h), XAI_OK);
    check_bdf_stim(h);
    xai_edf_close(h);

    size_t len = 0;
    void *buf = xai_test_read_file(path, &len);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(xai_edf_open_mem(buf, len, "stim.bdf", &h), XAI_OK);
    check_bdf_stim(h);
    xai_edf_close(h);
    /* the same bytes, one short: a clear error naming the buffer */
    ck_assert_int_eq(xai_edf_open_mem(buf, len - 1, "stim.bdf", &h), XAI_EFORMAT);
    ck_assert_ptr_null(h);
    ck_assert(strstr(xai_last_error(), "stim.bdf") != NULL);
    free(buf);
}
END_TEST

START_TEST(bdf_biosemi_73)
{
    NEED_SHARED(path, "mne_test.bdf");
    xai_edf *h = NULL;
    ck_assert_int_eq(xai_edf_open(path, &h), XAI_OK);
    const xai_edf_info *in = xai_edf_get_info(h);
    ck_assert_int_eq(in->filetype, XAI_EDF_FILE_BDF);
    ck_assert_int_eq(in->n_channels, 73);
    ck_assert_str_eq(xai_edf_get_channel(h, 0)->label, "Fp1");
    ck_assert_str_eq(xai_edf_get_channel(h, 72)->label, "Status");
    /* the record count field is "  1     " (leading blanks): one record of 1 s */
    ck_assert_int_eq(in->n_records, 1);
    ck_assert(in->record_duration_s == 1.0 && in->duration_s == 1.0);
    for (int c = 0; c < 73; c++) {
        ck_assert(xai_edf_get_channel(h, c)->sample_rate == 2048.0);
        ck_assert_int_eq(xai_edf_get_channel(h, c)->samples, 2048);
    }
    ck_assert_str_eq(xai_edf_get_channel(h, 1)->label, "AF7");
    ck_assert_str_eq(xai_edf_get_channel(h, 64)->label, "EXG1");
    ck_assert_str_eq(xai_edf_get_channel(h, 72)->transducer, "Triggers and Status");
    ck_assert_str_eq(xai_edf_get_channel(h, 0)->prefilter, "HP: DC; LP: 417 Hz");
    ck_assert(xai_edf_get_channel(h, 0)->phys_min == -262144.0);
    ck_assert(xai_edf_get_channel(h, 0)->phys_max == 262143.0);
    ck_assert_int_eq(xai_edf_get_channel(h, 0)->dig_max, 8388607);
    const int64_t idx[] = {0, 1, 2, 100, 2047};
    const double w0[] = {14660.5823, 14655.1448, 14647.0511, 14645.0198, 14639.5198};
    expect_samples(h, 0, idx, w0, 5, 1e-7);
    const int64_t i1[] = {0, 1, 2, 1000};
    const double w1[] = {12457.1801, 12457.6176, 12460.2426, 12540.6800};
    expect_samples(h, 1, i1, w1, 4, 1e-7);
    const int64_t i64[] = {0, 5, 2047};
    const double w64[] = {-259395.474, -259393.630, -259395.568};
    expect_samples(h, 64, i64, w64, 3, 1e-7);
    xai_edf_event *ev = NULL;
    size_t n = 0;
    ck_assert_int_eq(xai_edf_read_events(h, -1, &ev, &n), XAI_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(ev[0].sample, 589);
    ck_assert_uint_eq(ev[0].value, 128);
    free(ev);
    float **all = NULL;
    ck_assert_int_eq(xai_edf_read_all(h, &all), XAI_OK);
    ck_assert(fabs(all[0][100] - 14645.0198) < 0.01);
    free(all);
    xai_edf_close(h);
}
END_TEST

/* ---- synthetic files ------------------------------------------------------------------ */

typedef struct {
    const char *label;
    int spr;
    const char *pmin, *pmax, *dmin, *dmax;
} gsig;

static void put(unsigned char *dst, size_t width, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    size_t n = strlen(tmp);
    memset(dst, ' ', width);
    memcpy(dst, tmp, n < width ? n : width);
}

/*
 * Build an EDF (or BDF) file. Data sample k of signal i in record r has the digital value
 * ((r * spr + k) * (i + 1)) % 200 - 100. An "EDF Annotations" signal (when present) holds
 * the timekeeping TAL "+<r * rdur>" followed, in record 1, by @extra_tal.
 */
static unsigned char *make_edf(int bdf, const char *reserved, const char *nrec_s, int nrec,
                               const char *rdur_s, double rdur, const gsig *s, int ns,
                               const char *extra_tal, size_t *len)
{
    int bps = bdf ? 3 : 2;
    size_t hb = 256 * (size_t)(ns + 1), rec = 0;
    for (int i = 0; i < ns; i++)
        rec += (size_t)s[i].spr * bps;
    size_t total = hb + rec * (size_t)nrec;
    unsigned char *b = calloc(1, total);
    if (bdf) {
        b[0] = 0xFF;
        memcpy(b + 1, "BIOSEMI", 7);
    } else {
        put(b, 8, "0");
    }
    put(b + 8, 80, "X X X X");
    put(b + 88, 80, "Startdate 01-JAN-2020 X X X");
    put(b + 168, 8, "01.01.20");
    put(b + 176, 8, "10.00.00");
    put(b + 184, 8, "%zu", hb);
    put(b + 192, 44, "%s", reserved);
    put(b + 236, 8, "%s", nrec_s);
    put(b + 244, 8, "%s", rdur_s);
    put(b + 252, 4, "%d", ns);
    unsigned char *p = b + 256;
    for (int i = 0; i < ns; i++) {
        put(p + 16 * i, 16, "%s", s[i].label);
        put(p + 16 * ns + 80 * i, 80, "");
        put(p + 96 * ns + 8 * i, 8, "uV");
        put(p + 104 * ns + 8 * i, 8, "%s", s[i].pmin);
        put(p + 112 * ns + 8 * i, 8, "%s", s[i].pmax);
        put(p + 120 * ns + 8 * i, 8, "%s", s[i].dmin);
        put(p + 128 * ns + 8 * i, 8, "%s", s[i].dmax);
        put(p + 136 * ns + 80 * i, 80, "");
        put(p + 216 * ns + 8 * i, 8, "%d", s[i].spr);
        put(p + 224 * ns + 32 * i, 32, "");
    }
    unsigned char *d = b + hb;
    for (int r = 0; r < nrec; r++) {
        for (int i = 0; i < ns; i++) {
            if (strstr(s[i].label, "Annotations")) {
                char tal[512];
                int n = snprintf(tal, sizeof tal, "+%g%c%c%c", r * rdur, 0x14, 0x14, 0);
                if (r == 1 && extra_tal) {
                    memcpy(tal + n, extra_tal, strlen(extra_tal) + 1);
                    n += (int)strlen(extra_tal) + 1;
                }
                memset(d, 0, (size_t)s[i].spr * bps);
                memcpy(d, tal, (size_t)n < (size_t)s[i].spr * bps ? (size_t)n
                                                                    : (size_t)s[i].spr * bps);
                d += (size_t)s[i].spr * bps;
                continue;
            }
            for (int k = 0; k < s[i].spr; k++) {
                int v = ((r * s[i].spr + k) * (i + 1)) % 200 - 100;
                for (int j = 0; j < bps; j++)
                    *d++ = (unsigned char)(((unsigned)v >> (8 * j)) & 0xFF);
            }
        }
    }
    *len = total;
    return b;
}

static const gsig mixed[] = {
    {"Fast", 4, "-100", "100", "-100", "100"},
    {"Slow", 2, "-50", "50", "-100", "100"},
    {"Fast2", 4, "-200", "200", "-100", "100"},
};

START_TEST(mixed_rates)
{
    size_t len;
    unsigned char *b = make_edf(0, "", "3", 3, "1", 1, mixed, 3, NULL, &len);
    xai_edf *h = NULL;
    ck_assert_int_eq(xai_edf_open_mem(b, len, "mixed.edf", &h), XAI_OK);
    ck_assert(xai_edf_get_channel(h, 0)->sample_rate == 4.0);
    ck_assert(xai_edf_get_channel(h, 1)->sample_rate == 2.0);
    ck_assert_int_eq(xai_edf_get_channel(h, 1)->samples, 6);

    float *m = NULL;
    ck_assert_int_eq(xai_edf_read_matrix(h, NULL, 0, &m, NULL, NULL), XAI_EUNSUPPORTED);
    ck_assert_ptr_null(m);
    ck_assert(strstr(xai_last_error(), "mixed sample rates") != NULL);
    ck_assert(strstr(xai_last_error(), "'Slow'") != NULL);
    int bad[] = {0, 1};
    ck_assert_int_eq(xai_edf_read_matrix(h, bad, 2, &m, NULL, NULL), XAI_EUNSUPPORTED);
    int sel[] = {2, 0};
    int64_t t = 0;
    double rate = 0;
    ck_assert_int_eq(xai_edf_read_matrix(h, sel, 2, &m, &t, &rate), XAI_OK);
    ck_assert_int_eq(t, 12);
    ck_assert(rate == 4.0);
    /* Fast2 (i = 2): dig(k) = (3k % 200) - 100, phys = 2 * dig; Fast (i = 0): phys = dig */
    for (int k = 0; k < 12; k++) {
        ck_assert(fabs(m[k] - 2.0 * ((3 * k) % 200 - 100)) < 1e-4);
        ck_assert(fabs(m[12 + k] - (k % 200 - 100)) < 1e-4);
    }
    free(m);
    int oob[] = {0, 3};
    ck_assert_int_eq(xai_edf_read_matrix(h, oob, 2, &m, NULL, NULL), XAI_EINVAL);

    float **all = NULL;
    ck_assert_int_eq(xai_edf_read_all(h, &all), XAI_OK);
    for (int k = 0; k < 6; k++) /* Slow: dig = 2k - 100, phys = dig / 2 */
        ck_assert(fabs(all[1][k] - (2 * k - 100) / 2.0) < 1e-4);
    ck_assert(fabs(all[2][11] - 2.0 * (33 - 100)) < 1e-4);
    free(all);
    xai_edf_close(h);
    free(b);
}
END_TEST

static const gsig plus_d[] = {
    {"EEG", 2, "-100", "100", "-100", "100"},
    {"EDF Annotations", 30, "-1", "1", "-32768", "32767"},
};

START_TEST(edfplus_discontinuous)
{
    size_t len;
    char extra[64];
    snprintf(extra, sizeof extra, "+1.5%c0.25%cStim A%c", 0x15, 0x14, 0x14);
    unsigned char *b = make_edf(0, "EDF+D", "2", 2, "1", 1, plus_d, 2, extra, &len);
    /* EDF+D whose records happen to be contiguous: read */
    xai_edf *h = NULL;
    ck_assert_msg(xai_edf_open_mem(b, len, "plusd.edf", &h) == XAI_OK, "%s", xai_last_error());
    const xai_edf_info *in = xai_edf_get_info(h);
    ck_assert_int_eq(in->filetype, XAI_EDF_FILE_EDFPLUS);
    ck_assert_int_eq(in->discontinuous, 1);
    ck_assert_int_eq(in->n_channels, 1);
    size_t na = 0;
    const xai_edf_annotation *a = xai_edf_get_annotations(h, &na);
    ck_assert_uint_eq(na, 1);
    ck_assert_str_eq(a[0].text, "Stim A");
    ck_assert(fabs(a[0].onset_s - 1.5) < 1e-9);
    ck_assert(fabs(a[0].duration_s - 0.25) < 1e-9);
    float v[4];
    ck_assert_int_eq(xai_edf_read_channel(h, 0, 0, 4, v), XAI_OK);
    ck_assert(v[0] == -100.0f && v[3] == -97.0f);
    xai_edf_close(h);
    /* the path entry point takes the same route */
    char *dir = xai_test_tmpdir();
    const char *path = xai_test_path(dir, "plusd.edf");
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, len, f);
    fclose(f);
    ck_assert_int_eq(xai_edf_open(path, &h), XAI_OK);
    ck_assert_int_eq(xai_edf_get_info(h)->discontinuous, 1);
    xai_edf_close(h);
    xai_test_rmtree(dir);
    free(dir);
    /* record 1 starts at 5 s, not 1 s: a real gap, which EDFlib cannot read */
    unsigned char *rec1 = b + 256 * 3 + (4 + 60) + 4;
    ck_assert_int_eq(rec1[0], '+');
    rec1[1] = '5';
    ck_assert_int_eq(xai_edf_open_mem(b, len, "gap.edf", &h), XAI_EUNSUPPORTED);
    ck_assert_ptr_null(h);
    ck_assert(strstr(xai_last_error(), "gap.edf: discontinuous") != NULL);
    free(b);
}
END_TEST

static const gsig one[] = {
    {"A", 4, "-100", "100", "-100", "100"},
    {"B", 4, "-100", "100", "-100", "100"},
};

typedef struct {
    const char *what;
    size_t off;          /* byte offset of the field to replace (0: none) */
    size_t width;
    const char *value;
    size_t cut;          /* truncate to this length (0: keep) */
    const char *expect;  /* substring of the message */
} mutation;

/* Header offsets for ns = 2: signal field f of signal i is at 256 + f * 2 + w * i. */
static const mutation mutations[] = {
    {"wrong magic", 0, 8, "1", 0, "not EDF or BDF"},
    {"truncated header", 0, 0, NULL, 100, "truncated"},
    {"truncated signal header", 0, 0, NULL, 400, "truncated"},
    {"truncated data", 0, 0, NULL, 768 + 20, "data bytes"},
    {"huge record count", 236, 8, "99999999", 0, "records"},
    {"negative record count", 236, 8, "-5", 0, "number of data records -5"},
    {"unknown record count", 236, 8, "-1", 0, "number of data records -1"},
    {"negative signal count", 252, 4, "-3", 0, "number of signals -3"},
    {"zero signals", 252, 4, "0", 0, "number of signals 0"},
    {"too many signals", 252, 4, "9999", 0, "EDFlib reads at most"},
    {"header size mismatch", 184, 8, "1024", 0, "header size 1024"},
    {"non-numeric signal count", 252, 4, "ab", 0, "not a number"},
    {"zero sample rate", 256 + 216 * 2 + 8, 8, "0", 0, "zero sample rate"},
    {"negative samples", 256 + 216 * 2, 8, "-4", 0, "samples per record"},
    {"huge samples", 256 + 216 * 2, 8, "99999999", 0, "records of"},
    {"zero record duration", 244, 8, "0", 0, "zero sample rate"},
    {"negative record duration", 244, 8, "-1", 0, "negative record duration"},
    {"physical min == max", 256 + 104 * 2, 8, "100", 0, "physical minimum equals maximum"},
    {"digital min > max", 256 + 120 * 2 + 8, 8, "200", 0, "digital minimum"},
    {"digital range beyond 16 bits", 256 + 128 * 2, 8, "99999", 0, "exceeds 16 bits"},
    {"non-numeric physical max", 256 + 112 * 2, 8, "1e", 0, "not a number"},
    {"nan physical max", 256 + 112 * 2, 8, "nan", 0, "not a number"},
    {"control byte in label", 256, 16, "A\x01", 0, "non-ASCII"},
    {"bad start date", 168, 8, "1.1.2020", 0, "start date '1.1.2020'"},
    {"bad start time", 176, 8, "10:00:00", 0, "start time"},
    /* leading blanks are tidied away for EDFlib, but never make a bad value good */
    {"blank-led negative record count", 236, 8, "  -5", 0, "number of data records -5"},
    {"blank inside the record count", 236, 8, " 1 2", 0, "not a number"},
    {"blank-led zero samples", 256 + 216 * 2 + 8, 8, "   0", 0, "zero sample rate"},
};

START_TEST(malformed_corpus)
{
    size_t len;
    unsigned char *good = make_edf(0, "", "2", 2, "1", 1, one, 2, NULL, &len);
    xai_edf *h = NULL;
    ck_assert_int_eq(xai_edf_open_mem(good, len, "good.edf", &h), XAI_OK);
    xai_edf_close(h);
    for (size_t i = 0; i < sizeof mutations / sizeof mutations[0]; i++) {
        const mutation *m = &mutations[i];
        unsigned char *b = malloc(len);
        memcpy(b, good, len);
        size_t n = len;
        if (m->value)
            put(b + m->off, m->width, "%s", m->value);
        if (m->cut)
            n = m->cut;
        h = (xai_edf *)1;
        xai_status st = xai_edf_open_mem(b, n, "bad.edf", &h);
        ck_assert_msg(st == XAI_EFORMAT || (st == XAI_EUNSUPPORTED && i == 9),
                      "%s: status %d (%s)", m->what, st, xai_last_error());
        ck_assert_ptr_null(h);
        ck_assert_msg(strstr(xai_last_error(), m->expect) != NULL, "%s: message '%s' lacks '%s'",
                      m->what, xai_last_error(), m->expect);
        ck_assert_msg(strncmp(xai_last_error(), "bad.edf: ", 9) == 0, "%s: '%s'", m->what,
                      xai_last_error());
        free(b);
    }
    free(good);
    /* the path entry point reports a missing file */
    ck_assert_int_eq(xai_edf_open("/nonexistent/x.edf", &h), XAI_EIO);
    ck_assert(strstr(xai_last_error(), "/nonexistent/x.edf") != NULL);
    ck_assert_int_eq(xai_edf_open_mem(NULL, 0, NULL, &h), XAI_EFORMAT);
}
END_TEST

/*
 * Headers that EDFlib 1.23 refuses but the spec allows (as in the PhysioNet eegmmidb files
 * and MNE's test.bdf): numbers with leading blanks, a non-blank prefilter/transducer on the
 * "EDF Annotations" signal. They are read through a tidied private copy.
 */
START_TEST(tidied_headers)
{
    size_t len;
    char extra[64];
    snprintf(extra, sizeof extra, "+1.5%c0.25%cStim A%c", 0x15, 0x14, 0x14);
    unsigned char *b = make_edf(0, "EDF+C", "2", 2, "1", 1, plus_d, 2, extra, &len);
    /* ns = 2: signal field f of signal i is at 256 + f * 2 + width * i */
    put(b + 236, 8, "  2");                        /* records */
    put(b + 244, 8, " 1");                         /* record duration */
    put(b + 252, 4, " 2");                         /* signals */
    put(b + 256 + 120 * 2, 8, " -100");            /* EEG digital minimum */
    put(b + 256 + 216 * 2, 8, "   2");             /* EEG samples per record */
    put(b + 256 + 136 * 2, 80, "HP:0.1Hz");        /* EEG prefilter: kept */
    put(b + 256 + 16 * 2 + 80, 80, "BCI2000");     /* annotation transducer */
    put(b + 256 + 136 * 2 + 80, 80, "HP:0Hz LP:0Hz N:0Hz"); /* annotation prefilter */
    unsigned char *orig = malloc(len);
    memcpy(orig, b, len);
    xai_edf *h = NULL;
    ck_assert_msg(xai_edf_open_mem(b, len, "tidy.edf", &h) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(memcmp(b, orig, len), 0); /* the caller's bytes are not touched */
    const xai_edf_info *in = xai_edf_get_info(h);
    ck_assert_int_eq(in->filetype, XAI_EDF_FILE_EDFPLUS);
    ck_assert_int_eq(in->n_records, 2);
    ck_assert_int_eq(in->n_channels, 1);
    const xai_edf_channel *c = xai_edf_get_channel(h, 0);
    ck_assert_int_eq(c->samples, 4);
    ck_assert_int_eq(c->dig_min, -100);
    ck_assert_str_eq(c->prefilter, "HP:0.1Hz");
    float v[4];
    ck_assert_int_eq(xai_edf_read_channel(h, 0, 0, 4, v), XAI_OK);
    ck_assert(v[0] == -100.0f && v[1] == -99.0f && v[3] == -97.0f);
    size_t na = 0;
    const xai_edf_annotation *a = xai_edf_get_annotations(h, &na);
    ck_assert_uint_eq(na, 1);
    ck_assert_str_eq(a[0].text, "Stim A");
    xai_edf_close(h);
    /* the path entry point: same result, file unchanged */
    char *dir = xai_test_tmpdir();
    const char *path = xai_test_path(dir, "tidy.edf");
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, len, f);
    fclose(f);
    ck_assert_msg(xai_edf_open(path, &h) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(xai_edf_get_info(h)->n_records, 2);
    ck_assert_int_eq(xai_edf_read_channel(h, 0, 2, 1, v), XAI_OK);
    ck_assert(v[0] == -98.0f);
    xai_edf_close(h);
    size_t len2 = 0;
    void *back = xai_test_read_file(path, &len2);
    ck_assert(len2 == len && memcmp(back, orig, len) == 0);
    free(back);
    xai_test_rmtree(dir);
    free(dir);
    /* a genuinely bad annotation signal (digital minimum not -32768) is still refused */
    put(b + 256 + 120 * 2 + 8, 8, "-100");
    h = (xai_edf *)1;
    ck_assert_int_eq(xai_edf_open_mem(b, len, "tidy.edf", &h), XAI_EFORMAT);
    ck_assert_ptr_null(h);
    ck_assert(strstr(xai_last_error(), "tidy.edf: EDFlib") != NULL);
    free(orig);
    free(b);
}
END_TEST

/* EDF+ with a TAL that breaks the syntax is caught by EDFlib */
START_TEST(malformed_tal)
{
    size_t len;
    unsigned char *b = make_edf(0, "EDF+C", "2", 2, "1", 1, plus_d, 2, "garbage\x14", &len);
    xai_edf *h = NULL;
    ck_assert_int_eq(xai_edf_open_mem(b, len, "tal.edf", &h), XAI_EFORMAT);
    ck_assert_ptr_null(h);
    ck_assert(strstr(xai_last_error(), "tal.edf") != NULL);
    free(b);
}
END_TEST

/* ---- writer ---------------------------------------------------------------------------- */

static void roundtrip(int bdf, double rate, int64_t T, size_t nann)
{
    char *dir = xai_test_tmpdir();
    const char *path = xai_test_path(dir, bdf ? "out.bdf" : "out.edf");
    const int C = 3;
    float *x = malloc(sizeof(float) * (size_t)C * (size_t)T);
    for (int64_t t = 0; t < T; t++) {
        x[t] = (float)(50.0 * sin(0.05 * (double)t));           /* +-50 uV */
        x[T + t] = (float)(0.001 * cos(0.01 * (double)t) + 0.002); /* small, positive */
        x[2 * T + t] = (float)((double)(t % 7) - 3.0);           /* steps */
    }
    const char *labels[] = {"Fz-rel", "Cz-rel", "Pz-rel"};
    const char *units[] = {"uV", "mV", ""};
    xai_edf_annotation *ann = calloc(nann ? nann : 1, sizeof *ann);
    char (*txt)[32] = calloc(nann ? nann : 1, 32);
    for (size_t i = 0; i < nann; i++) {
        snprintf(txt[i], 32, "epoch %zu", i);
        ann[i].text = txt[i];
        ann[i].onset_s = 0.25 * (double)i;
        ann[i].duration_s = i % 2 ? -1 : 0.5;
    }
    xai_edf_write_spec sp = {.n_channels = C, .n_samples = T, .sample_rate = rate,
                             .labels = labels, .units = units, .data = x,
                             .annotations = ann, .n_annotations = nann, .bdf = bdf,
                             .recording = "libxai test"};
    ck_assert_msg(xai_edf_write(path, &sp) == XAI_OK, "%s", xai_last_error());
    xai_edf *h = NULL;
    ck_assert_msg(xai_edf_open(path, &h) == XAI_OK, "%s", xai_last_error());
    const xai_edf_info *in = xai_edf_get_info(h);
    ck_assert_int_eq(in->filetype, bdf ? XAI_EDF_FILE_BDFPLUS : XAI_EDF_FILE_EDFPLUS);
    ck_assert_int_eq(in->n_channels, C);
    for (int c = 0; c < C; c++) {
        const xai_edf_channel *ch = xai_edf_get_channel(h, c);
        ck_assert_str_eq(ch->label, labels[c]);
        ck_assert_str_eq(ch->unit, units[c]);
        ck_assert_msg(fabs(ch->sample_rate - rate) < 1e-9 * rate, "rate %g", ch->sample_rate);
        ck_assert_int_eq(ch->samples, T);
        float *y = malloc(sizeof(float) * (size_t)T);
        ck_assert_int_eq(xai_edf_read_channel(h, c, 0, T, y), XAI_OK);
        double step = (ch->phys_max - ch->phys_min) / (bdf ? 16777215.0 : 65535.0);
        double worst = 0;
        for (int64_t t = 0; t < T; t++) {
            double e = fabs((double)y[t] - (double)x[c * T + t]);
            if (e > worst)
                worst = e;
        }
        /* half a quantisation step, plus float32 rounding of the value */
        double lim = 0.5 * step + 1e-6 * (fabs(ch->phys_max) + fabs(ch->phys_min));
        ck_assert_msg(worst <= lim, "channel %d: error %g > %g", c, worst, lim);
        free(y);
    }
    size_t na = 0;
    const xai_edf_annotation *a = xai_edf_get_annotations(h, &na);
    ck_assert_uint_eq(na, nann);
    for (size_t i = 0; i < na; i++) {
        ck_assert_str_eq(a[i].text, txt[i]);
        ck_assert(fabs(a[i].onset_s - ann[i].onset_s) < 1e-6);
        if (i % 2)
            ck_assert(a[i].duration_s < 0);
        else
            ck_assert(fabs(a[i].duration_s - 0.5) < 1e-6);
    }
    xai_edf_close(h);
    free(ann);
    free(txt);
    free(x);
    xai_test_rmtree(dir);
    free(dir);
}

START_TEST(write_read_edfplus)
{
    roundtrip(0, 160.0, 1000, 7); /* 1000 is not a multiple of 160: 0.25 s records */
}
END_TEST

START_TEST(write_read_bdfplus_many_annotations)
{
    roundtrip(1, 256.0, 2048, 20); /* 8 records of 1 s, 20 annotations */
}
END_TEST

START_TEST(write_read_fractional_rate)
{
    roundtrip(0, 12.5, 300, 2);
}
END_TEST

START_TEST(write_read_padded)
{
    /* 10007 is prime: no record length divides it, so 1 s records with zero padding */
    char *dir = xai_test_tmpdir();
    const char *path = xai_test_path(dir, "pad.edf");
    const int64_t T = 10007;
    float *x = malloc(sizeof(float) * T);
    for (int64_t t = 0; t < T; t++)
        x[t] = (float)(10.0 + 5.0 * sin(0.3 * (double)t)); /* 5..15, never 0 */
    const char *labels[] = {"P"};
    xai_edf_write_spec sp = {.n_channels = 1, .n_samples = T, .sample_rate = 100,
                             .labels = labels, .data = x};
    ck_assert_int_eq(xai_edf_write(path, &sp), XAI_OK);
    xai_edf *h = NULL;
    ck_assert_int_eq(xai_edf_open(path, &h), XAI_OK);
    const xai_edf_channel *ch = xai_edf_get_channel(h, 0);
    ck_assert_int_eq(ch->samples, 10100);
    ck_assert_int_eq(ch->samples_per_record, 100);
    ck_assert(ch->phys_min <= 0 && ch->phys_max >= 15);
    float *y = malloc(sizeof(float) * 10100);
    ck_assert_int_eq(xai_edf_read_channel(h, 0, 0, 10100, y), XAI_OK);
    double step = (ch->phys_max - ch->phys_min) / 65535.0;
    for (int64_t t = 0; t < T; t++)
        ck_assert(fabs(y[t] - x[t]) <= 0.5 * step + 1e-5);
    for (int64_t t = T; t < 10100; t++)
        ck_assert(fabs(y[t]) <= 0.5 * step + 1e-6);
    free(y);
    free(x);
    xai_edf_close(h);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(write_rate_exact)
{
    /* 128 Hz with T = 395 x 8: records must be a whole number of 10 us units, or the header's
       8-character duration changes the rate read back (e.g. 3.085939 s -> 128.00008 Hz) */
    static const int64_t lengths[] = {3160, 1280 * 10 + 3, 2560};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        char *dir = xai_test_tmpdir();
        const char *path = xai_test_path(dir, "r128.edf");
        const int64_t T = lengths[i];
        float *x = calloc((size_t)T, sizeof(float));
        for (int64_t t = 0; t < T; t++)
            x[t] = (float)sin(0.05 * (double)t);
        const char *labels[] = {"C3"};
        xai_edf_write_spec sp = {.n_channels = 1, .n_samples = T, .sample_rate = 128, .labels = labels, .data = x};
        ck_assert_int_eq(xai_edf_write(path, &sp), XAI_OK);
        xai_edf *h = NULL;
        ck_assert_msg(xai_edf_open(path, &h) == XAI_OK, "T=%lld: %s", (long long)T, xai_last_error());
        const xai_edf_channel *ch = xai_edf_get_channel(h, 0);
        ck_assert_msg(ch->sample_rate == 128.0, "T=%lld: rate read back %.9g", (long long)T, ch->sample_rate);
        ck_assert_int_ge(ch->samples, T);
        xai_edf_close(h);
        free(x);
        xai_test_rmtree(dir);
        free(dir);
    }
}
END_TEST

START_TEST(write_failures_leave_nothing)
{
    char *dir = xai_test_tmpdir();
    const char *path = xai_test_path(dir, "keep.edf");
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const char *labels[] = {"A", "B"};
    xai_edf_write_spec sp = {.n_channels = 2, .n_samples = 4, .sample_rate = 4,
                             .labels = labels, .data = x};
    ck_assert_int_eq(xai_edf_write(path, &sp), XAI_OK);
    size_t len0 = 0;
    void *before = xai_test_read_file(path, &len0);

    x[5] = NAN;
    ck_assert_int_eq(xai_edf_write(path, &sp), XAI_ENUMERIC);
    ck_assert(strstr(xai_last_error(), "'B'") != NULL);
    x[5] = 6;
    sp.sample_rate = 0;
    ck_assert_int_eq(xai_edf_write(path, &sp), XAI_EINVAL);
    sp.sample_rate = 4;
    const char *long_labels[] = {"A", "a label that is far too long"};
    sp.labels = long_labels;
    ck_assert_int_eq(xai_edf_write(path, &sp), XAI_EINVAL);
    sp.labels = labels;
    xai_edf_annotation big = {.onset_s = 0, .duration_s = -1,
                              .text = "an annotation text longer than forty bytes......"};
    sp.annotations = &big;
    sp.n_annotations = 1;
    ck_assert_int_eq(xai_edf_write(path, &sp), XAI_EINVAL);
    sp.annotations = NULL;
    sp.n_annotations = 0;
    float huge[8] = {1e12f, 0, 0, 0, 0, 0, 0, 0};
    sp.data = huge;
    ck_assert_int_eq(xai_edf_write(path, &sp), XAI_EUNSUPPORTED);
    sp.data = x;
    sp.sample_rate = 1e-9;
    ck_assert_int_eq(xai_edf_write(path, &sp), XAI_EUNSUPPORTED);
    sp.sample_rate = 4;
    ck_assert_int_eq(xai_edf_write("/nonexistent-dir/x.edf", &sp), XAI_EIO);

    size_t len1 = 0;
    void *after = xai_test_read_file(path, &len1);
    ck_assert_uint_eq(len0, len1);
    ck_assert_int_eq(memcmp(before, after, len0), 0);
    free(before);
    free(after);
    /* no temporary files are left behind */
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", dir);
    ck_assert_int_eq(system(cmd), 0);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("edf");
    TCase *real = tcase_create("real");
    tcase_add_test(real, eegmmidb_r04_facts);
    tcase_add_test(real, eegmmidb_r03_annotations);
    tcase_add_test(real, capslpdb_plain_edf);
    tcase_add_test(real, edf_stim_fractional_record);
    tcase_add_test(real, bdf_status_events);
    tcase_add_test(real, bdf_biosemi_73);
    suite_add_tcase(s, real);
    TCase *syn = tcase_create("synthetic");
    tcase_add_test(syn, mixed_rates);
    tcase_add_test(syn, edfplus_discontinuous);
    tcase_add_test(syn, malformed_corpus);
    tcase_add_test(syn, malformed_tal);
    tcase_add_test(syn, tidied_headers);
    suite_add_tcase(s, syn);
    TCase *wr = tcase_create("write");
    tcase_add_test(wr, write_read_edfplus);
    tcase_add_test(wr, write_read_bdfplus_many_annotations);
    tcase_add_test(wr, write_read_fractional_rate);
    tcase_add_test(wr, write_read_padded);
    tcase_add_test(wr, write_rate_exact);
    tcase_add_test(wr, write_failures_leave_nothing);
    suite_add_tcase(s, wr);
    return s;
}
