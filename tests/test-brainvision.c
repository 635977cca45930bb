/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-brainvision.c - BrainVision reader (formats/brainvision.c).
 * The real triplet is ../shared/data/eeg/brainvision/test.{vhdr,vmrk,eeg} (MNE test data).
 * Expected samples were computed independently with /usr/bin/python3 + numpy:
 *   np.fromfile('test.eeg', '<i2').reshape(-1, 32).T * 0.5
 * Marker facts are read off test.vmrk by eye (positions there are 1-based).
 * Synthetic headers below cover vectorized, float, big-endian, Latin-1 and bad input.
 */
#include "test-common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xai/brainvision.h"

static void check_real(const xai_brainvision *bv, int with_markers)
{
    ck_assert_int_eq(bv->n_channels, 32);
    ck_assert_int_eq(bv->n_samples, 7900);
    ck_assert(bv->sampling_interval_us == 1000.0);
    ck_assert(bv->sample_rate == 1000.0);
    ck_assert_int_eq(bv->format, XAI_BV_INT16);
    ck_assert_int_eq(bv->vectorized, 0);
    ck_assert_str_eq(bv->channels[0].label, "FP1");
    ck_assert_str_eq(bv->channels[1].label, "FP2");
    ck_assert_str_eq(bv->channels[31].label, "ReRef");
    ck_assert_str_eq(bv->channels[0].unit, "\xC2\xB5V");
    ck_assert_str_eq(bv->channels[1].unit, "\xC2\xB5V"); /* empty unit: default */
    ck_assert_str_eq(bv->channels[2].unit, "\xC2\xB5V"); /* no unit field: default */
    ck_assert_str_eq(bv->channels[26].unit, "BS");
    ck_assert_str_eq(bv->channels[29].unit, "uS");
    ck_assert_str_eq(bv->channels[0].reference, "");
    for (int c = 0; c < 32; c++)
        ck_assert(bv->channels[c].resolution == 0.5);
    ck_assert_int_eq(xai_brainvision_find_channel(bv, "Cz"), 16);
    ck_assert_int_eq(xai_brainvision_find_channel(bv, "cz"), -1);
    const float *d = bv->data;
    const int64_t T = 7900;
    const int64_t idx[] = {0, 1, 2, 1000, 7899};
    const float w0[] = {-23.5f, -23.5f, -24.0f, -24.0f, 25.5f};
    const float w1[] = {-18.0f, -17.5f, -18.5f, -18.0f, 31.5f};
    const float w31[] = {171.5f, 172.5f, 172.0f, 171.5f, 221.5f};
    for (int i = 0; i < 5; i++) {
        ck_assert(d[idx[i]] == w0[i]);
        ck_assert(d[T + idx[i]] == w1[i]);
        ck_assert(d[31 * T + idx[i]] == w31[i]);
    }
    if (!with_markers) {
        ck_assert_uint_eq(bv->n_markers, 0);
        return;
    }
    ck_assert_uint_eq(bv->n_markers, 14);
    const xai_bv_marker *m = bv->markers;
    ck_assert_str_eq(m[0].type, "New Segment");
    ck_assert_str_eq(m[0].description, "");
    ck_assert_int_eq(m[0].sample, 0);
    ck_assert_str_eq(m[0].date, "20131113161403794232");
    ck_assert_str_eq(m[1].type, "Stimulus");
    ck_assert_str_eq(m[1].description, "S253");
    ck_assert_int_eq(m[1].sample, 486);
    ck_assert_int_eq(m[1].length, 0);
    ck_assert_int_eq(m[1].channel, 0);
    ck_assert_str_eq(m[3].type, "Event");
    ck_assert_str_eq(m[3].description, "254");
    ck_assert_int_eq(m[3].sample, 1769);
    ck_assert_str_eq(m[9].type, "Response");
    ck_assert_str_eq(m[9].description, "R255");
    ck_assert_int_eq(m[9].sample, 5999);
    ck_assert_str_eq(m[12].type, "SyncStatus");
    ck_assert_str_eq(m[12].description, "Sync On");
    ck_assert_str_eq(m[13].type, "Optic");
    ck_assert_str_eq(m[13].description, "O  1");
    ck_assert_int_eq(m[13].sample, 7699);
    ck_assert_int_eq(m[13].length, 1);
    int stim = 0;
    for (size_t i = 0; i < bv->n_markers; i++)
        stim += strcmp(m[i].type, "Stimulus") == 0;
    ck_assert_int_eq(stim, 7);
}

START_TEST(real_triplet)
{
    const char *shared = xai_test_shared_dir();
    if (!shared) {
        xai_test_mark_skip();
        return;
    }
    /* with ../shared present, a missing recording is a failure, not a skip */
    const char *vhdr = xai_test_path(shared, "data/eeg/brainvision/test.vhdr");
    ck_assert_msg(access(vhdr, R_OK) == 0, "%s: missing from the shared data", vhdr);
    xai_brainvision *bv = NULL;
    ck_assert_msg(xai_brainvision_open(vhdr, &bv) == XAI_OK, "%s", xai_last_error());
    check_real(bv, 1);
    xai_brainvision_close(bv);

    size_t hl, el, ml;
    void *h = xai_test_read_file(vhdr, &hl);
    void *e = xai_test_read_file(xai_test_path(shared, "data/eeg/brainvision/test.eeg"), &el);
    void *m = xai_test_read_file(xai_test_path(shared, "data/eeg/brainvision/test.vmrk"), &ml);
    ck_assert(h && e && m);
    ck_assert_int_eq(xai_brainvision_open_mem(h, hl, e, el, m, ml, "mem", &bv), XAI_OK);
    check_real(bv, 1);
    xai_brainvision_close(bv);
    ck_assert_int_eq(xai_brainvision_open_mem(h, hl, e, el, NULL, 0, "mem", &bv), XAI_OK);
    check_real(bv, 0);
    xai_brainvision_close(bv);
    /* one byte short of whole frames */
    ck_assert_int_eq(xai_brainvision_open_mem(h, hl, e, el - 1, m, ml, "cut", &bv), XAI_EFORMAT);
    ck_assert_ptr_null(bv);
    ck_assert(strstr(xai_last_error(), "not a multiple") != NULL);
    free(h);
    free(e);
    free(m);
}
END_TEST

#define HDR "Brain Vision Data Exchange Header File Version 1.0\r\n"
#define MRK "Brain Vision Data Exchange Marker File, Version 1.0\r\n"

START_TEST(vectorized_float_scaled)
{
    const char *vhdr = HDR "[Common Infos]\r\nDataFile=sub/x.eeg\r\nDataFormat=BINARY\r\n"
                       "DataOrientation=VECTORIZED\r\nNumberOfChannels=2\r\n"
                       "SamplingInterval=4000\r\n[Binary Infos]\r\nBinaryFormat=IEEE_FLOAT_32\r\n"
                       "[Channel Infos]\r\nCh2=B\\1x,Ref,2,mV\r\nCh1=A,,,\r\n";
    float raw[6] = {1.5f, -2.0f, 3.25f, 10.0f, 20.0f, -30.0f}; /* A: 3 samples, then B */
    const char *vmrk = MRK "[Marker Infos]\r\nMk1=Stimulus,S\\1 1,3,2,2\r\n";
    xai_brainvision *bv = NULL;
    ck_assert_msg(xai_brainvision_open_mem(vhdr, strlen(vhdr), raw, sizeof raw, vmrk,
                                           strlen(vmrk), "vec", &bv) == XAI_OK,
                  "%s", xai_last_error());
    ck_assert_int_eq(bv->n_samples, 3);
    ck_assert(bv->sample_rate == 250.0);
    ck_assert_int_eq(bv->format, XAI_BV_FLOAT32);
    ck_assert_int_eq(bv->vectorized, 1);
    ck_assert_str_eq(bv->channels[0].label, "A");
    ck_assert_str_eq(bv->channels[0].unit, "\xC2\xB5V");
    ck_assert(bv->channels[0].resolution == 1.0);
    ck_assert_str_eq(bv->channels[1].label, "B,x");
    ck_assert_str_eq(bv->channels[1].reference, "Ref");
    ck_assert_str_eq(bv->channels[1].unit, "mV");
    const float want[6] = {1.5f, -2.0f, 3.25f, 20.0f, 40.0f, -60.0f};
    for (int i = 0; i < 6; i++)
        ck_assert(bv->data[i] == want[i]);
    ck_assert_uint_eq(bv->n_markers, 1);
    ck_assert_str_eq(bv->markers[0].description, "S, 1");
    ck_assert_int_eq(bv->markers[0].sample, 2);
    ck_assert_int_eq(bv->markers[0].length, 2);
    ck_assert_int_eq(bv->markers[0].channel, 2);
    xai_brainvision_close(bv);
}
END_TEST

START_TEST(multiplexed_bigendian_latin1)
{
    /* Latin-1 "µV" (0xB5) with Codepage=ANSI; INT_16 big-endian; INT_32 in a second file */
    const char *vhdr = HDR "[Common Infos]\nCodepage=ANSI\nDataFile=x.eeg\n"
                       "NumberOfChannels=2\nSamplingInterval=500\n[Binary Infos]\n"
                       "BinaryFormat=INT_16\nUseBigEndianOrder=YES\n[Channel Infos]\n"
                       "Ch1=C3,,0.1,\xB5V\nCh2=C4,,0.25\n[Comment]\nCh9=ignored\n";
    const unsigned char raw[8] = {0x00, 0x0A, 0xFF, 0xFE, 0x80, 0x00, 0x00, 0x04};
    xai_brainvision *bv = NULL;
    ck_assert_msg(xai_brainvision_open_mem(vhdr, strlen(vhdr), raw, sizeof raw, NULL, 0, "be",
                                           &bv) == XAI_OK, "%s", xai_last_error());
    ck_assert(bv->sample_rate == 2000.0);
    ck_assert_str_eq(bv->channels[0].unit, "\xC2\xB5V");
    ck_assert_int_eq(bv->n_samples, 2);
    /* C3: 0x000A = 10, 0x8000 = -32768; C4: 0xFFFE = -2, 0x0004 = 4 */
    ck_assert(fabsf(bv->data[0] - 1.0f) < 1e-6f);
    ck_assert(fabsf(bv->data[1] - -3276.8f) < 1e-3f);
    ck_assert(bv->data[2] == -0.5f && bv->data[3] == 1.0f);
    xai_brainvision_close(bv);

    const char *v32 = HDR "[Common Infos]\nDataFile=x.eeg\nNumberOfChannels=1\n"
                      "SamplingInterval=1000\n[Binary Infos]\nBinaryFormat=INT_32\n"
                      "[Channel Infos]\nCh1=X,,0.001,V\n";
    const unsigned char r32[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0x40, 0x42, 0x0F, 0x00};
    ck_assert_int_eq(xai_brainvision_open_mem(v32, strlen(v32), r32, 8, NULL, 0, "i32", &bv),
                     XAI_OK);
    ck_assert(fabsf(bv->data[0] - -0.001f) < 1e-9f && fabsf(bv->data[1] - 1000.0f) < 1e-3f);
    xai_brainvision_close(bv);
}
END_TEST

typedef struct {
    const char *what, *vhdr, *vmrk;
    size_t eeg_len;
    xai_status st;
    const char *expect;
} bad_case;

#define COMMON(n, si) \
    "[Common Infos]\nDataFile=x.eeg\nNumberOfChannels=" n "\nSamplingInterval=" si "\n"
#define CH2 "[Channel Infos]\nCh1=A,,1,uV\nCh2=B,,1,uV\n"

static const bad_case bad[] = {
    {"wrong magic", "EDF header\n" COMMON("2", "1000") CH2, NULL, 8, XAI_EFORMAT,
     "not a BrainVision header"},
    {"empty header", "", NULL, 8, XAI_EFORMAT, "not a BrainVision header"},
    {"zero channels", HDR COMMON("0", "1000"), NULL, 8, XAI_EFORMAT, "NumberOfChannels '0'"},
    {"negative channels", HDR COMMON("-3", "1000"), NULL, 8, XAI_EFORMAT,
     "NumberOfChannels '-3'"},
    {"huge channels", HDR COMMON("1000000000", "1000") CH2, NULL, 8, XAI_EFORMAT,
     "cannot describe that many"},
    {"channel count overflow", HDR COMMON("99999999999999999999", "1000") CH2, NULL, 8,
     XAI_EFORMAT, "NumberOfChannels"},
    {"missing channel count", HDR "[Common Infos]\nSamplingInterval=1000\n" CH2, NULL, 8,
     XAI_EFORMAT, "NumberOfChannels is missing"},
    {"zero sample rate", HDR COMMON("2", "0") CH2, NULL, 8, XAI_EFORMAT, "zero sample rate"},
    {"negative interval", HDR COMMON("2", "-1000") CH2, NULL, 8, XAI_EFORMAT,
     "zero sample rate"},
    {"nan interval", HDR COMMON("2", "nan") CH2, NULL, 8, XAI_EFORMAT, "SamplingInterval"},
    {"missing interval", HDR "[Common Infos]\nNumberOfChannels=2\n" CH2, NULL, 8, XAI_EFORMAT,
     "SamplingInterval is missing"},
    {"zero resolution", HDR COMMON("2", "1000") "[Channel Infos]\nCh1=A,,0,uV\nCh2=B,,1\n",
     NULL, 8, XAI_EFORMAT, "bad scaling"},
    {"text resolution", HDR COMMON("2", "1000") "[Channel Infos]\nCh1=A,,x,uV\nCh2=B,,1\n",
     NULL, 8, XAI_EFORMAT, "resolution 'x'"},
    {"missing channel", HDR COMMON("2", "1000") "[Channel Infos]\nCh1=A,,1,uV\n", NULL, 8,
     XAI_EFORMAT, "channel 2 has no Ch2= entry"},
    {"duplicate channel", HDR COMMON("2", "1000") "[Channel Infos]\nCh1=A\nCh1=B\n", NULL, 8,
     XAI_EFORMAT, "described twice"},
    {"channel out of range", HDR COMMON("2", "1000") CH2 "Ch3=C\n", NULL, 8, XAI_EFORMAT,
     "Ch1..Ch2"},
    {"negative channel index", HDR COMMON("2", "1000") CH2 "Ch-1=C\n", NULL, 8, XAI_EFORMAT,
     "Ch1..Ch2"},
    {"bad orientation", HDR COMMON("2", "1000") "DataOrientation=SIDEWAYS\n" CH2, NULL, 8,
     XAI_EFORMAT, "DataOrientation"},
    {"ascii data", HDR COMMON("2", "1000") "DataFormat=ASCII\n" CH2, NULL, 8,
     XAI_EUNSUPPORTED, "BINARY"},
    {"other binary format",
     HDR COMMON("2", "1000") "[Binary Infos]\nBinaryFormat=IEEE_FLOAT_64\n" CH2, NULL, 8,
     XAI_EUNSUPPORTED, "IEEE_FLOAT_64"},
    {"truncated data", HDR COMMON("2", "1000") CH2, NULL, 7, XAI_EFORMAT, "not a multiple"},
    {"empty data", HDR COMMON("2", "1000") CH2, NULL, 0, XAI_EFORMAT, "no complete sample"},
    {"more data points declared", HDR COMMON("2", "1000") "DataPoints=3\n" CH2, NULL, 8,
     XAI_EFORMAT, "declares 3 data points"},
    {"negative data points", HDR COMMON("2", "1000") "DataPoints=-3\n" CH2, NULL, 8,
     XAI_EFORMAT, "DataPoints '-3'"},
    {"marker magic", HDR COMMON("2", "1000") CH2, "hello\n[Marker Infos]\nMk1=S,a,1\n", 8,
     XAI_EFORMAT, "not a BrainVision marker file"},
    {"marker position 0", HDR COMMON("2", "1000") CH2, MRK "[Marker Infos]\nMk1=S,a,0\n", 8,
     XAI_EFORMAT, "position '0'"},
    {"marker negative position", HDR COMMON("2", "1000") CH2,
     MRK "[Marker Infos]\nMk1=S,a,-5,1,0\n", 8, XAI_EFORMAT, "position '-5'"},
    {"marker without position", HDR COMMON("2", "1000") CH2, MRK "[Marker Infos]\nMk1=S\n", 8,
     XAI_EFORMAT, "position"},
    {"marker negative length", HDR COMMON("2", "1000") CH2,
     MRK "[Marker Infos]\nMk1=S,a,1,-2,0\n", 8, XAI_EFORMAT, "length '-2'"},
    {"marker bad channel", HDR COMMON("2", "1000") CH2, MRK "[Marker Infos]\nMk1=S,a,1,1,3\n",
     8, XAI_EFORMAT, "channel '3'"},
};

START_TEST(malformed_corpus)
{
    static const unsigned char eeg[8] = {1, 0, 2, 0, 3, 0, 4, 0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const bad_case *b = &bad[i];
        xai_brainvision *bv = (xai_brainvision *)1;
        xai_status st = xai_brainvision_open_mem(b->vhdr, strlen(b->vhdr), eeg, b->eeg_len,
                                                 b->vmrk, b->vmrk ? strlen(b->vmrk) : 0,
                                                 "bad.vhdr", &bv);
        ck_assert_msg(st == b->st, "%s: status %d (%s)", b->what, st, xai_last_error());
        ck_assert_ptr_null(bv);
        ck_assert_msg(strstr(xai_last_error(), b->expect) != NULL, "%s: '%s' lacks '%s'",
                      b->what, xai_last_error(), b->expect);
        ck_assert_msg(strncmp(xai_last_error(), "bad.vhdr: ", 10) == 0, "%s: '%s'", b->what,
                      xai_last_error());
    }
    /* the same good header opens */
    const char *good = HDR COMMON("2", "1000") CH2;
    xai_brainvision *bv = NULL;
    ck_assert_int_eq(xai_brainvision_open_mem(good, strlen(good), eeg, 8, NULL, 0, "ok", &bv),
                     XAI_OK);
    ck_assert_int_eq(bv->n_samples, 2);
    ck_assert(bv->data[0] == 1.0f && bv->data[1] == 3.0f && bv->data[2] == 2.0f);
    xai_brainvision_close(bv);
}
END_TEST

START_TEST(path_errors)
{
    char *dir = xai_test_tmpdir();
    const char *vhdr = xai_test_path(dir, "a.vhdr");
    const char *text = HDR "[Common Infos]\nDataFile=C:\\rec\\a.eeg\nMarkerFile=a.vmrk\n"
                       "NumberOfChannels=1\nSamplingInterval=1000\n[Channel Infos]\nCh1=A\n";
    FILE *f = fopen(vhdr, "wb");
    fputs(text, f);
    fclose(f);
    xai_brainvision *bv = NULL;
    ck_assert_int_eq(xai_brainvision_open(vhdr, &bv), XAI_EIO);
    ck_assert(strstr(xai_last_error(), "a.eeg: cannot open") != NULL);
    f = fopen(xai_test_path(dir, "a.eeg"), "wb");
    fwrite("\x05\x00\x06\x00", 1, 4, f);
    fclose(f);
    ck_assert_int_eq(xai_brainvision_open(vhdr, &bv), XAI_EIO);
    ck_assert(strstr(xai_last_error(), "a.vmrk: cannot open") != NULL);
    f = fopen(xai_test_path(dir, "a.vmrk"), "wb");
    fputs(MRK "[Marker Infos]\nMk1=Stimulus,S  1,2,1,0\n", f);
    fclose(f);
    ck_assert_msg(xai_brainvision_open(vhdr, &bv) == XAI_OK, "%s", xai_last_error());
    ck_assert_int_eq(bv->n_samples, 2);
    ck_assert(bv->data[1] == 6.0f);
    ck_assert_int_eq(bv->markers[0].sample, 1);
    xai_brainvision_close(bv);
    ck_assert_int_eq(xai_brainvision_open(xai_test_path(dir, "none.vhdr"), &bv), XAI_EIO);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("brainvision");
    TCase *tc = tcase_create("brainvision");
    tcase_add_test(tc, real_triplet);
    tcase_add_test(tc, vectorized_float_scaled);
    tcase_add_test(tc, multiplexed_bigendian_latin1);
    tcase_add_test(tc, malformed_corpus);
    tcase_add_test(tc, path_errors);
    suite_add_tcase(s, tc);
    return s;
}
