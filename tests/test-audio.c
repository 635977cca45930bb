/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-audio.c - audio reader, resampler and writer (formats/audio.c).
 * Real-file facts (frames, rates, sample values) were read independently with Debian's
 * Python: `wave.open(f).getnframes()/getframerate()` on the RIFF header and
 * `scipy.io.wavfile.read(f)` for sample values and sums of |x| (int16 units), e.g.
 *   /usr/bin/python3 -c "import wave; w = wave.open('hts1a.wav'); print(w.getnframes())"
 * Tiny synthetic fixtures and the malformed corpus come from tests/data/audio/make_fixtures.py.
 */
#include "test-common.h"

#include "xai/audio.h"

#include <dirent.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *fixture(const char *name)
{
    return xai_test_path(xai_test_path(xai_test_data_dir(), "audio"), name);
}

static const char *speech(const char *rel)
{
    const char *d = xai_test_shared_dir();
    return d ? xai_test_path(xai_test_path(d, "data/speech"), rel) : NULL;
}

/* the samples make_fixtures.py writes */
static int fx_left(int i)
{
    return 300 * i - 15000;
}
static int fx_right(int i)
{
    return 6 * i * i - 29000 - i;
}

static void check_fixture_samples(const xai_audio *a)
{
    ck_assert_int_eq(a->info.channels, 2);
    ck_assert_int_eq(a->info.sample_rate, 16000);
    ck_assert_int_eq(a->info.frames, 100);
    ck_assert_double_eq_tol(a->info.duration_s, 100.0 / 16000.0, 1e-12);
    for (int i = 0; i < 100; i++) {
        ck_assert_float_eq(a->data[i] * 32768.0f, (float)fx_left(i));
        ck_assert_float_eq(a->data[100 + i] * 32768.0f, (float)fx_right(i));
    }
}

START_TEST(fixture_wav_deinterleaved)
{
    xai_audio a;
    ck_assert_int_eq(xai_audio_load(fixture("stereo_s16.wav"), &a), XAI_OK);
    ck_assert_str_eq(a.info.format, "WAV");
    ck_assert_str_eq(a.info.subformat, "PCM_16");
    check_fixture_samples(&a);
    xai_audio_free(&a);
    ck_assert_ptr_null(a.data);
    xai_audio_free(&a); /* twice is fine */
    xai_audio_free(NULL);
}
END_TEST

START_TEST(fixture_flac)
{
    xai_audio a;
    ck_assert_int_eq(xai_audio_load(fixture("stereo_s16.flac"), &a), XAI_OK);
    ck_assert_str_eq(a.info.format, "FLAC");
    ck_assert_str_eq(a.info.subformat, "PCM_16");
    check_fixture_samples(&a);
    xai_audio_free(&a);
}
END_TEST

START_TEST(fixture_aiff_float_ulaw)
{
    xai_audio a;
    ck_assert_int_eq(xai_audio_load(fixture("stereo_s16.aiff"), &a), XAI_OK);
    ck_assert_str_eq(a.info.format, "AIFF");
    check_fixture_samples(&a); /* big-endian samples, same values */
    xai_audio_free(&a);
    ck_assert_int_eq(xai_audio_load(fixture("mono_float.wav"), &a), XAI_OK);
    ck_assert_str_eq(a.info.subformat, "FLOAT");
    ck_assert_int_eq(a.info.frames, 50);
    for (int i = 0; i < 50; i++)
        ck_assert_float_eq(a.data[i], (i - 25) / 8.0f); /* float is not rescaled */
    xai_audio_free(&a);
    ck_assert_int_eq(xai_audio_load(fixture("mono_ulaw.au"), &a), XAI_OK);
    ck_assert_str_eq(a.info.format, "AU");
    ck_assert_str_eq(a.info.subformat, "ULAW");
    ck_assert_int_eq(a.info.frames, 64);
    /* G.711 mu-law: code 0x00 -> -32124, 0x01 -> -31100 (16-bit) */
    ck_assert_float_eq(a.data[0] * 32768.0f, -32124.0f);
    ck_assert_float_eq(a.data[1] * 32768.0f, -31100.0f);
    xai_audio_free(&a);
}
END_TEST

START_TEST(open_mem_matches_path)
{
    const char *names[] = {"stereo_s16.wav", "stereo_s16.flac"};
    for (int k = 0; k < 2; k++) {
        size_t len;
        void *buf = xai_test_read_file(fixture(names[k]), &len);
        ck_assert_ptr_nonnull(buf);
        xai_audio_file *f;
        ck_assert_int_eq(xai_audio_open_mem(buf, len, names[k], &f), XAI_OK);
        const xai_audio_info *info = xai_audio_file_info(f);
        ck_assert_int_eq(info->frames, 100);
        ck_assert_int_eq(info->channels, 2);
        xai_audio a;
        ck_assert_int_eq(xai_audio_read(f, &a), XAI_OK);
        xai_audio_close(f);
        check_fixture_samples(&a);
        xai_audio_free(&a);
        free(buf);
    }
    xai_audio_close(NULL);
}
END_TEST

/* ---- real recordings ---------------------------------------------------------------- */

static const struct {
    const char *rel;
    int64_t frames; /* wave.getnframes() */
} real_files[] = {
    {"codec2_sentences/hts1a.wav", 24000},
    {"codec2_sentences/hts2a.wav", 24000},
    {"codec2_sentences/morig.wav", 16028},
    {"codec2_sentences/forig.wav", 12612},
    {"real_digits/en_US_f_Allison/0.wav", 6998},
    {"real_digits/en_x_m_Dawson_saytime/7.wav", 4505},
    {"fsdd_subset/recordings/0_george_0.wav", 2384},
    {"fsdd_subset/recordings/9_jackson_3.wav", 4300},
    {"fsdd_subset/recordings/5_lucas_9.wav", 4583},
};

START_TEST(real_known_frames)
{
    if (!xai_test_shared_dir()) {
        xai_test_mark_skip();
        return;
    }
    for (size_t i = 0; i < sizeof real_files / sizeof real_files[0]; i++) {
        xai_audio a;
        xai_status st = xai_audio_load(speech(real_files[i].rel), &a);
        ck_assert_msg(st == XAI_OK, "%s: %s", real_files[i].rel, xai_last_error());
        ck_assert_int_eq(a.info.sample_rate, 8000);
        ck_assert_int_eq(a.info.channels, 1);
        ck_assert_int_eq(a.info.frames, real_files[i].frames);
        ck_assert_str_eq(a.info.format, "WAV");
        ck_assert_str_eq(a.info.subformat, "PCM_16");
        ck_assert_double_eq_tol(a.info.duration_s, real_files[i].frames / 8000.0, 1e-12);
        xai_audio_free(&a);
    }
}
END_TEST

START_TEST(real_known_samples)
{
    if (!xai_test_shared_dir()) {
        xai_test_mark_skip();
        return;
    }
    /* scipy.io.wavfile.read: hts1a x[:8], sum|x| = 20644354; george_0 x[:8], sum|x| = 5483793;
     * Allison 0.wav x[1000:1004], sum|x| = 13035584 */
    static const struct {
        const char *rel;
        int64_t first;
        int v[8];
        int nv;
        double sum_abs;
    } cases[] = {
        {"codec2_sentences/hts1a.wav", 0, {-14, -14, -8, -7, -11, -15, -14, -16}, 8, 20644354.0},
        {"fsdd_subset/recordings/0_george_0.wav", 0, {-1489, -962, -606, 163, 1033, 1669, 2129, 2680}, 8, 5483793.0},
        {"real_digits/en_US_f_Allison/0.wav", 1000, {1101, 2872, 4492, 4228}, 4, 13035584.0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        xai_audio a;
        ck_assert_int_eq(xai_audio_load(speech(cases[k].rel), &a), XAI_OK);
        for (int i = 0; i < cases[k].nv; i++)
            ck_assert_float_eq(a.data[cases[k].first + i] * 32768.0f, (float)cases[k].v[i]);
        double s = 0;
        for (int64_t i = 0; i < a.info.frames; i++)
            s += fabs(a.data[i] * 32768.0);
        ck_assert_double_eq_tol(s, cases[k].sum_abs, 0.5);
        xai_audio_free(&a);
    }
}
END_TEST

/* every WAV under a folder: 8 kHz mono PCM_16, path and memory readers agree */
static void scan_dir(const char *dir_in, int *count, int64_t *total, double *dmin, double *dmax)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", dir_in); /* xai_test_path() buffers rotate */
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".wav") != 0)
            continue;
        const char *p = xai_test_path(dir, e->d_name);
        xai_audio a;
        xai_status st = xai_audio_load(p, &a);
        ck_assert_msg(st == XAI_OK, "%s: %s", p, xai_last_error());
        ck_assert_int_eq(a.info.sample_rate, 8000);
        ck_assert_int_eq(a.info.channels, 1);
        ck_assert_str_eq(a.info.subformat, "PCM_16");
        if (*count % 25 == 0) { /* memory entry point on a sample of them */
            size_t len;
            void *buf = xai_test_read_file(p, &len);
            xai_audio b;
            ck_assert_int_eq(xai_audio_load_mem(buf, len, p, &b), XAI_OK);
            ck_assert_int_eq(b.info.frames, a.info.frames);
            ck_assert_int_eq(memcmp(a.data, b.data, sizeof(float) * (size_t)a.info.frames), 0);
            xai_audio_free(&b);
            free(buf);
        }
        (*count)++;
        *total += a.info.frames;
        if (a.info.duration_s < *dmin)
            *dmin = a.info.duration_s;
        if (a.info.duration_s > *dmax)
            *dmax = a.info.duration_s;
        xai_audio_free(&a);
    }
    closedir(d);
}

START_TEST(real_fsdd_all)
{
    if (!xai_test_shared_dir()) {
        xai_test_mark_skip();
        return;
    }
    int count = 0;
    int64_t total = 0;
    double dmin = 1e9, dmax = 0;
    scan_dir(speech("fsdd_subset/recordings"), &count, &total, &dmin, &dmax);
    /* wave module: 600 files, 2090459 frames, durations 0.1435 .. 1.313 s */
    ck_assert_int_eq(count, 600);
    ck_assert_int_eq(total, 2090459);
    ck_assert_double_eq_tol(dmin, 0.1435, 1e-9);
    ck_assert_double_eq_tol(dmax, 1.313, 1e-9);
}
END_TEST

START_TEST(real_digits_all)
{
    if (!xai_test_shared_dir()) {
        xai_test_mark_skip();
        return;
    }
    static const char *spk[] = {"en_US_f_Allison", "en_x_m_Dawson_saytime", "es_CO_f_July",
                                "fr_FR_f_Armelle", "it_IT_f_Menardi", "ru_RU_f_IvrvoiceRU"};
    int count = 0;
    int64_t total = 0;
    double dmin = 1e9, dmax = 0;
    for (int i = 0; i < 6; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "real_digits/%s", spk[i]);
        scan_dir(speech(rel), &count, &total, &dmin, &dmax);
    }
    /* wave module: 60 files, 331117 frames, durations 0.313375 .. 1.3 s */
    ck_assert_int_eq(count, 60);
    ck_assert_int_eq(total, 331117);
    ck_assert_double_eq_tol(dmin, 0.313375, 1e-9);
    ck_assert_double_eq_tol(dmax, 1.3, 1e-9);
}
END_TEST

/* ---- FLAC and other formats written by libsndfile itself ------------------------------ */

START_TEST(flac_roundtrip_real)
{
    if (!xai_test_shared_dir()) {
        xai_test_mark_skip();
        return;
    }
    xai_audio a;
    ck_assert_int_eq(xai_audio_load(speech("codec2_sentences/forig.wav"), &a), XAI_OK);
    char *dir = xai_test_tmpdir();
    const char *p = xai_test_path(dir, "forig.flac");
    SF_INFO si = {.samplerate = 8000, .channels = 1, .format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16};
    SNDFILE *sf = sf_open(p, SFM_WRITE, &si);
    ck_assert_ptr_nonnull(sf);
    /* write the original int16 values (float->int scaling in libsndfile uses 0x7FFF) */
    short *pcm = malloc(sizeof(short) * (size_t)a.info.frames);
    for (int64_t i = 0; i < a.info.frames; i++)
        pcm[i] = (short)lrintf(a.data[i] * 32768.0f);
    ck_assert_int_eq(sf_writef_short(sf, pcm, a.info.frames), a.info.frames);
    free(pcm);
    sf_close(sf);
    xai_audio b;
    ck_assert_int_eq(xai_audio_load(p, &b), XAI_OK);
    ck_assert_str_eq(b.info.format, "FLAC");
    ck_assert_int_eq(b.info.frames, 12612);
    ck_assert_int_eq(memcmp(a.data, b.data, sizeof(float) * 12612), 0); /* lossless */
    xai_audio_free(&a);
    xai_audio_free(&b);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(other_formats)
{
    /* AIFF (big-endian PCM_24) and AU (ULAW) written by libsndfile, 3 channels */
    char *dir = xai_test_tmpdir();
    static const struct {
        const char *name;
        int format;
        const char *fmt, *sub;
        double tol;
    } cases[] = {
        {"x.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_24, "AIFF", "PCM_24", 1e-6},
        {"x.au", SF_FORMAT_AU | SF_FORMAT_ULAW, "AU", "ULAW", 0.02},
        {"x.w64", SF_FORMAT_W64 | SF_FORMAT_DOUBLE, "W64", "DOUBLE", 0},
    };
    float il[3 * 50];
    for (int t = 0; t < 50; t++)
        for (int c = 0; c < 3; c++)
            il[t * 3 + c] = (float)(0.5 * sin(0.1 * t * (c + 1)));
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *p = xai_test_path(dir, cases[k].name);
        SF_INFO si = {.samplerate = 22050, .channels = 3, .format = cases[k].format};
        SNDFILE *sf = sf_open(p, SFM_WRITE, &si);
        ck_assert_ptr_nonnull(sf);
        sf_writef_float(sf, il, 50);
        sf_close(sf);
        xai_audio a;
        ck_assert_msg(xai_audio_load(p, &a) == XAI_OK, "%s", xai_last_error());
        ck_assert_str_eq(a.info.format, cases[k].fmt);
        ck_assert_str_eq(a.info.subformat, cases[k].sub);
        ck_assert_int_eq(a.info.sample_rate, 22050);
        ck_assert_int_eq(a.info.channels, 3);
        ck_assert_int_eq(a.info.frames, 50);
        for (int t = 0; t < 50; t++)
            for (int c = 0; c < 3; c++)
                ck_assert_double_le(fabs(a.data[c * 50 + t] - il[t * 3 + c]), cases[k].tol);
        xai_audio_free(&a);
    }
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- malformed corpus ---------------------------------------------------------------- */

START_TEST(malformed_corpus)
{
    static const struct {
        const char *name;
        xai_status st;
        const char *needle; /* must appear in the detail message */
    } cases[] = {
        {"bad_magic.wav", XAI_EFORMAT, "not a readable sound file"},
        {"truncated_header.wav", XAI_EFORMAT, "not a readable sound file"},
        {"truncated_data.wav", XAI_EFORMAT, "truncated: data chunk declares 400 bytes, the file holds 148"},
        {"zero_rate.wav", XAI_EFORMAT, "sample rate 0"},
        {"zero_channels.wav", XAI_EFORMAT, "Channel count is zero"},
        {"huge_data.wav", XAI_EFORMAT, "declares 2147483632 bytes"},
        {"flac_huge_total.flac", XAI_EFORMAT, "header declares 68719476735 frames, only 100 decoded"},
        {"flac_zero_rate.flac", XAI_EFORMAT, "STREAMINFO: sample rate 0"},
        {"flac_bad_crc.flac", XAI_EFORMAT, "decoding failed"},
        {"garbage.bin", XAI_EFORMAT, "not a readable sound file"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *p = fixture(cases[k].name);
        xai_audio a;
        xai_status st = xai_audio_load(p, &a);
        ck_assert_msg(st == cases[k].st, "%s: status %d (%s)", cases[k].name, st, xai_last_error());
        ck_assert_msg(strstr(xai_last_error(), cases[k].needle) != NULL, "%s: message '%s'", cases[k].name,
                      xai_last_error());
        ck_assert_msg(strstr(xai_last_error(), cases[k].name) != NULL, "message does not name the file");
        ck_assert_ptr_null(a.data);
        /* the memory entry point gives the same verdict */
        size_t len;
        void *buf = xai_test_read_file(p, &len);
        st = xai_audio_load_mem(buf, len, cases[k].name, &a);
        ck_assert_msg(st == cases[k].st, "%s (mem): status %d (%s)", cases[k].name, st, xai_last_error());
        ck_assert_msg(strstr(xai_last_error(), cases[k].needle) != NULL, "%s (mem): '%s'", cases[k].name,
                      xai_last_error());
        free(buf);
    }
}
END_TEST

START_TEST(malformed_misc)
{
    xai_audio a;
    ck_assert_int_eq(xai_audio_load("/nonexistent/x.wav", &a), XAI_EIO);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "/nonexistent/x.wav"));
    ck_assert_int_eq(xai_audio_load_mem("", 0, "empty.wav", &a), XAI_EFORMAT);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "empty"));
    ck_assert_int_eq(xai_audio_load_mem(NULL, 10, "x", &a), XAI_EINVAL);
    ck_assert_int_eq(xai_audio_load(NULL, &a), XAI_EINVAL);
    /* every prefix of the valid WAV and FLAC is refused or read without crashing; the
     * prefixes that cut the data must be refused */
    const char *names[] = {"stereo_s16.wav", "stereo_s16.flac"};
    for (int k = 0; k < 2; k++) {
        size_t len;
        unsigned char *buf = xai_test_read_file(fixture(names[k]), &len);
        for (size_t n = 0; n < len; n++) {
            xai_status st = xai_audio_load_mem(buf, n, names[k], &a);
            if (st == XAI_OK) {
                ck_assert_int_eq(a.info.frames, 100); /* never a silently shortened read */
                xai_audio_free(&a);
            } else {
                ck_assert_int_eq(st, XAI_EFORMAT);
            }
        }
        free(buf);
    }
}
END_TEST

/* ---- writer ---------------------------------------------------------------------------- */

static int count_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    if (d)
        closedir(d);
    return n;
}

START_TEST(writer_float_roundtrip)
{
    char *dir = xai_test_tmpdir();
    const char *p = xai_test_path(dir, "out.wav");
    float x[2 * 1000];
    for (int t = 0; t < 1000; t++) {
        x[t] = (float)sin(0.01 * t) * 1.5f; /* float keeps values beyond [-1, 1] */
        x[1000 + t] = (float)t / 1000.0f - 0.5f;
    }
    ck_assert_int_eq(xai_audio_save(p, x, 2, 1000, 44100, XAI_AUDIO_WAV_FLOAT), XAI_OK);
    ck_assert_int_eq(count_entries(dir), 1); /* no temporary left */
    xai_audio a;
    ck_assert_int_eq(xai_audio_load(p, &a), XAI_OK);
    ck_assert_str_eq(a.info.subformat, "FLOAT");
    ck_assert_int_eq(a.info.sample_rate, 44100);
    ck_assert_int_eq(a.info.channels, 2);
    ck_assert_int_eq(a.info.frames, 1000);
    ck_assert_int_eq(memcmp(a.data, x, sizeof x), 0);
    xai_audio_free(&a);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(writer_pcm16_roundtrip)
{
    char *dir = xai_test_tmpdir();
    const char *p = xai_test_path(dir, "out16.wav");
    float x[300];
    for (int t = 0; t < 300; t++)
        x[t] = (float)(0.9 * sin(0.05 * t));
    x[10] = 1.5f;  /* clipped, not wrapped */
    x[11] = -2.0f;
    ck_assert_int_eq(xai_audio_save(p, x, 1, 300, 8000, XAI_AUDIO_WAV_PCM16), XAI_OK);
    xai_audio a;
    ck_assert_int_eq(xai_audio_load(p, &a), XAI_OK);
    ck_assert_str_eq(a.info.subformat, "PCM_16");
    ck_assert_int_eq(a.info.frames, 300);
    for (int t = 0; t < 300; t++)
        if (t != 10 && t != 11)
            ck_assert_double_le(fabs(a.data[t] - x[t]), 1.0 / 32768.0);
    ck_assert_double_ge(a.data[10], 32766.0 / 32768.0);
    ck_assert_double_le(a.data[11], -32767.0 / 32768.0);
    xai_audio_free(&a);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(writer_atomic_failures)
{
    char *dir = xai_test_tmpdir();
    const char *p = xai_test_path(dir, "keep.wav");
    float x[64] = {0};
    ck_assert_int_eq(xai_audio_save(p, x, 1, 64, 8000, XAI_AUDIO_WAV_PCM16), XAI_OK);
    size_t len0;
    void *before = xai_test_read_file(p, &len0);
    /* NaN: refused before anything is written; the old file stays */
    x[5] = NAN;
    ck_assert_int_eq(xai_audio_save(p, x, 1, 64, 8000, XAI_AUDIO_WAV_FLOAT), XAI_ENUMERIC);
    x[5] = INFINITY;
    ck_assert_int_eq(xai_audio_save(p, x, 1, 64, 8000, XAI_AUDIO_WAV_FLOAT), XAI_ENUMERIC);
    size_t len1;
    void *after = xai_test_read_file(p, &len1);
    ck_assert_uint_eq(len0, len1);
    ck_assert_int_eq(memcmp(before, after, len0), 0);
    free(before);
    free(after);
    x[5] = 0;
    ck_assert_int_eq(xai_audio_save(p, x, 0, 64, 8000, XAI_AUDIO_WAV_FLOAT), XAI_EINVAL);
    ck_assert_int_eq(xai_audio_save(p, x, 1, 64, 0, XAI_AUDIO_WAV_FLOAT), XAI_EINVAL);
    ck_assert_int_eq(xai_audio_save(p, x, 1, 0, 8000, XAI_AUDIO_WAV_FLOAT), XAI_EINVAL);
    ck_assert_int_eq(xai_audio_save(p, x, 1, 64, 8000, (xai_audio_encoding)7), XAI_EINVAL);
    ck_assert_int_eq(count_entries(dir), 1);
    /* a directory that does not exist */
    ck_assert_int_eq(xai_audio_save(xai_test_path(dir, "no/such/dir.wav"), x, 1, 64, 8000, XAI_AUDIO_WAV_FLOAT),
                     XAI_EIO);
    ck_assert_ptr_nonnull(strstr(xai_last_error(), "no/such/dir.wav"));
    /* a target that is a directory: rename fails, the temporary must be removed */
    const char *sub = xai_test_path(dir, "adir");
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    ck_assert_int_eq(xai_audio_save(sub, x, 1, 64, 8000, XAI_AUDIO_WAV_FLOAT), XAI_EIO);
    ck_assert_int_eq(count_entries(dir), 2); /* keep.wav and adir only */
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- resampling ------------------------------------------------------------------------ */

/* amplitude of frequency f in x (single-bin DFT over [a, b)) */
static double tone_amp(const float *x, int64_t a, int64_t b, double f, int rate)
{
    double re = 0, im = 0;
    for (int64_t t = a; t < b; t++) {
        re += x[t] * cos(2 * M_PI * f * t / rate);
        im -= x[t] * sin(2 * M_PI * f * t / rate);
    }
    return 2 * sqrt(re * re + im * im) / (double)(b - a);
}

START_TEST(resample_tone)
{
    const int T = 48000;
    float *x = malloc(sizeof(float) * 2 * T);
    for (int t = 0; t < T; t++) {
        x[t] = (float)(0.5 * sin(2 * M_PI * 1000.0 * t / 48000.0));
        x[T + t] = (float)(0.3 * sin(2 * M_PI * 440.0 * t / 48000.0) + 0.3 * sin(2 * M_PI * 6000.0 * t / 48000.0));
    }
    xai_audio in = {.info = {.sample_rate = 48000, .channels = 2, .frames = T}, .data = x}, out;
    ck_assert_int_eq(xai_audio_resample(&in, 8000, XAI_RESAMPLE_BEST, &out), XAI_OK);
    ck_assert_int_eq(out.info.frames, 8000);
    ck_assert_int_eq(out.info.sample_rate, 8000);
    ck_assert_int_eq(out.info.channels, 2);
    /* 1 kHz keeps its amplitude; in channel 1, 440 Hz stays and 6 kHz (above 4 kHz) is removed */
    ck_assert_double_eq_tol(tone_amp(out.data, 1000, 7000, 1000.0, 8000), 0.5, 0.005);
    ck_assert_double_eq_tol(tone_amp(out.data + 8000, 1000, 7000, 440.0, 8000), 0.3, 0.005);
    double rms = 0;
    for (int t = 1000; t < 7000; t++) {
        double r = out.data[8000 + t] - 0.3 * sin(2 * M_PI * 440.0 * t / 8000.0);
        rms += r * r;
    }
    ck_assert_double_le(sqrt(rms / 6000), 0.01); /* no alias of 6 kHz at 2 kHz */
    xai_audio_free(&out);
    /* up-sampling with the linear converter, and equal rates copy */
    ck_assert_int_eq(xai_audio_resample(&in, 96000, XAI_RESAMPLE_LINEAR, &out), XAI_OK);
    ck_assert_int_eq(out.info.frames, 96000);
    ck_assert_double_eq_tol(tone_amp(out.data, 10000, 86000, 1000.0, 96000), 0.5, 0.005);
    xai_audio_free(&out);
    ck_assert_int_eq(xai_audio_resample(&in, 48000, XAI_RESAMPLE_FASTEST, &out), XAI_OK);
    ck_assert_int_eq(memcmp(out.data, x, sizeof(float) * 2 * T), 0);
    xai_audio_free(&out);
    /* errors */
    ck_assert_int_eq(xai_audio_resample(&in, 0, XAI_RESAMPLE_BEST, &out), XAI_EINVAL);
    ck_assert_int_eq(xai_audio_resample(&in, 48000 * 300, XAI_RESAMPLE_BEST, &out), XAI_EINVAL);
    in.info.sample_rate = 0;
    ck_assert_int_eq(xai_audio_resample(&in, 8000, XAI_RESAMPLE_BEST, &out), XAI_EINVAL);
    free(x);
}
END_TEST

START_TEST(resample_real)
{
    if (!xai_test_shared_dir()) {
        xai_test_mark_skip();
        return;
    }
    xai_audio a, b;
    ck_assert_int_eq(xai_audio_load(speech("fsdd_subset/recordings/0_george_0.wav"), &a), XAI_OK);
    ck_assert_int_eq(xai_audio_resample(&a, 16000, XAI_RESAMPLE_BEST, &b), XAI_OK);
    ck_assert_int_eq(b.info.frames, 2 * 2384);
    /* every other output sample lands on an input sample: close to it for speech at 8 kHz */
    double e = 0, r = 0;
    for (int t = 100; t < 2284; t++) {
        double d = b.data[2 * t] - a.data[t];
        e += d * d;
        r += (double)a.data[t] * a.data[t];
    }
    ck_assert_double_le(sqrt(e / r), 0.02);
    xai_audio_free(&a);
    xai_audio_free(&b);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("audio");
    TCase *tc = tcase_create("fixtures");
    tcase_add_test(tc, fixture_wav_deinterleaved);
    tcase_add_test(tc, fixture_flac);
    tcase_add_test(tc, fixture_aiff_float_ulaw);
    tcase_add_test(tc, open_mem_matches_path);
    tcase_add_test(tc, other_formats);
    suite_add_tcase(s, tc);
    tc = tcase_create("real");
    tcase_add_test(tc, real_known_frames);
    tcase_add_test(tc, real_known_samples);
    tcase_add_test(tc, real_fsdd_all);
    tcase_add_test(tc, real_digits_all);
    tcase_add_test(tc, flac_roundtrip_real);
    tcase_add_test(tc, resample_real);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_add_test(tc, malformed_corpus);
    tcase_add_test(tc, malformed_misc);
    suite_add_tcase(s, tc);
    tc = tcase_create("writer");
    tcase_add_test(tc, writer_float_roundtrip);
    tcase_add_test(tc, writer_pcm16_roundtrip);
    tcase_add_test(tc, writer_atomic_failures);
    suite_add_tcase(s, tc);
    tc = tcase_create("resample");
    tcase_add_test(tc, resample_tone);
    suite_add_tcase(s, tc);
    return s;
}
