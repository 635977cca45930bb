/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-biosig.c - the BioSig reader (formats/biosig.c) against the EDF reader.
 * The shared EDF/BDF recordings (../shared/data/eeg) are converted to GDF 2 by save2gdf
 * (Debian biosig-tools) into a temporary directory; both files are read and compared:
 * channel labels, units and rates, every sample within the GDF channel's digital
 * resolution, EDF+ annotations (onset, duration, text) and BDF trigger events (onset and
 * value), which save2gdf turns into GDF events. Malformed files (truncated headers, junk)
 * must fail with a message and without writing to stderr.
 */
#include "test-common.h"

#include <fcntl.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xai/biosig.h"
#include "xai/edf.h"

static const char *const RECORDINGS[] = {
    "eegmmidb_S001R03.edf", "eegmmidb_S001R04.edf", "mne_test.bdf",
    "mne_test_bdf_stim_channel.bdf", "mne_test_edf_stim_channel.edf",
};
#define N_RECORDINGS (sizeof RECORDINGS / sizeof RECORDINGS[0])

/* save2gdf on PATH, or NULL. */
static const char *save2gdf(void)
{
    static char found[4096];
    const char *path = getenv("PATH");
    if (!path)
        return NULL;
    char *copy = strdup(path);
    const char *hit = NULL;
    for (char *dir = strtok(copy, ":"); dir && !hit; dir = strtok(NULL, ":")) {
        snprintf(found, sizeof found, "%s/save2gdf", dir);
        if (access(found, X_OK) == 0)
            hit = found;
    }
    free(copy);
    return hit;
}

/* Convert @p src into @p dst with save2gdf (its chatter goes to /dev/null). */
static int convert(const char *tool, const char *src, const char *dst)
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execl(tool, "save2gdf", "-f=GDF", src, dst, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The recording @p name and its GDF conversion in @p dir; NULL when the test is skipped. */
static const char *prepare(const char *name, const char *dir, const char **edf)
{
    const char *shared = xai_test_shared_dir();
    const char *tool = save2gdf();
    if (!shared || !tool) {
        fprintf(stderr, "SKIP: %s\n", !shared ? "no ../shared (XAI_SHARED_DIR)" :
                                               "save2gdf (Debian biosig-tools) is not installed");
        xai_test_mark_skip();
        return NULL;
    }
    static char src[4096], dst[4096];
    snprintf(src, sizeof src, "%s/data/eeg/%s", shared, name);
    ck_assert_msg(access(src, R_OK) == 0, "%s: missing from the shared data", src);
    snprintf(dst, sizeof dst, "%s/%s.gdf", dir, name);
    ck_assert_msg(convert(tool, src, dst) == 0, "save2gdf %s failed", src);
    *edf = src;
    return dst;
}

static int is_trigger(const char *label)
{
    return strcasecmp(label, "Status") == 0 || strcasecmp(label, "Trigger") == 0;
}

/* Every GDF channel has its EDF twin with the same samples within the GDF's resolution. */
static void compare_channels(xai_edf *e, xai_biosig *g, const char *name)
{
    const xai_edf_info *ei = xai_edf_get_info(e);
    const xai_biosig_info *gi = xai_biosig_get_info(g);
    int edf_data = 0;
    for (int c = 0; c < ei->n_channels; c++)
        edf_data += !is_trigger(xai_edf_get_channel(e, c)->label);
    ck_assert_msg(gi->n_channels == edf_data, "%s: %d GDF channels, %d EDF data channels", name,
                  gi->n_channels, edf_data);
    ck_assert_str_eq(gi->format, "GDF");
    ck_assert(gi->version >= 2.0 && gi->version < 3.0);
    float *gm = NULL;
    int64_t T = 0;
    double rate = 0;
    ck_assert_int_eq(xai_biosig_read_matrix(g, NULL, 0, &gm, &T, &rate), XAI_OK);
    ck_assert_int_eq(T, gi->n_samples);
    ck_assert_double_eq_tol(T / rate, ei->duration_s, 1e-9);
    float *ev = malloc((size_t)T * sizeof *ev);
    for (int c = 0; c < gi->n_channels; c++) {
        const xai_edf_channel *gc = xai_biosig_get_channel(g, c);
        int ec = xai_edf_find_channel(e, gc->label);
        ck_assert_msg(ec >= 0, "%s: GDF channel %s not in the EDF", name, gc->label);
        const xai_edf_channel *ech = xai_edf_get_channel(e, ec);
        ck_assert_str_eq(gc->unit, ech->unit);
        ck_assert_double_eq_tol(gc->sample_rate, ech->sample_rate, 1e-9);
        ck_assert_int_eq(gc->samples, ech->samples);
        double res = fabs(gc->phys_max - gc->phys_min) / (gc->dig_max - gc->dig_min);
        ck_assert_int_eq(xai_edf_read_channel(e, ec, 0, T, ev), XAI_OK);
        double worst = 0;
        for (int64_t t = 0; t < T; t++) {
            float want = ev[t], got = gm[(size_t)c * (size_t)T + (size_t)t];
            double err = fabs((double)got - want) - 1e-6 * fabs(want);
            worst = err > worst ? err : worst;
        }
        ck_assert_msg(worst <= res, "%s: channel %s differs by %g (resolution %g)", name,
                      gc->label, worst, res);
    }
    free(ev);
    free(gm);
}

/* EDF+ annotations, or else decoded trigger events, are the GDF's events. */
static void compare_events(xai_edf *e, xai_biosig *g, const char *name)
{
    size_t ne = 0, ng = 0;
    const xai_edf_annotation *ea = xai_edf_get_annotations(e, &ne);
    const xai_edf_annotation *ga = xai_biosig_get_annotations(g, &ng);
    double dt = 1.0 / xai_biosig_get_info(g)->sample_rate;
    int trig = -1;
    for (int c = 0; c < xai_edf_get_info(e)->n_channels && trig < 0; c++)
        if (is_trigger(xai_edf_get_channel(e, c)->label))
            trig = c;
    if (ne > 0 || trig < 0) {
        ck_assert_msg(ng == ne, "%s: %zu GDF events, %zu EDF annotations", name, ng, ne);
        for (size_t k = 0; k < ne; k++) {
            ck_assert_double_eq_tol(ga[k].onset_s, ea[k].onset_s, dt);
            if (ea[k].duration_s >= 0)
                ck_assert_double_eq_tol(ga[k].duration_s, ea[k].duration_s, dt);
            ck_assert_str_eq(ga[k].text, ea[k].text);
        }
        return;
    }
    xai_edf_event *tv = NULL;
    size_t nt = 0;
    ck_assert_int_eq(xai_edf_read_events(e, trig, &tv, &nt), XAI_OK);
    ck_assert_msg(nt > 0, "%s: the trigger channel has no events", name);
    ck_assert_msg(ng == nt, "%s: %zu GDF events, %zu trigger events", name, ng, nt);
    for (size_t k = 0; k < nt; k++) {
        char want[16];
        snprintf(want, sizeof want, "%u", tv[k].value);
        ck_assert_double_eq_tol(ga[k].onset_s, tv[k].onset_s, 1e-9);
        ck_assert_str_eq(ga[k].text, want);
    }
    free(tv);
}

START_TEST(gdf_equals_edf)
{
    char *dir = xai_test_tmpdir();
    const char *edf = NULL;
    const char *gdf = prepare(RECORDINGS[_i], dir, &edf);
    if (gdf) {
        xai_edf *e = NULL;
        xai_biosig *g = NULL;
        ck_assert_int_eq(xai_edf_open(edf, &e), XAI_OK);
        ck_assert_msg(xai_biosig_open(gdf, &g) == XAI_OK, "%s", xai_last_error());
        compare_channels(e, g, RECORDINGS[_i]);
        compare_events(e, g, RECORDINGS[_i]);
        xai_biosig_close(g);
        xai_edf_close(e);
    }
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* Run xai_biosig_open() on @p path with fd 2 sent to a file; @return what landed there. */
static long open_silently(const char *path, xai_status *st)
{
    char log[] = "/tmp/xai-test-stderr-XXXXXX";
    int fd = mkstemp(log);
    ck_assert(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    xai_biosig *g = NULL;
    *st = xai_biosig_open(path, &g);
    if (*st == XAI_OK) {
        float *m = NULL;
        *st = xai_biosig_read_matrix(g, NULL, 0, &m, NULL, NULL);
        free(m);
    }
    xai_biosig_close(g);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    struct stat sb;
    fstat(fd, &sb);
    close(fd);
    unlink(log);
    return (long)sb.st_size;
}

START_TEST(malformed_fail_cleanly)
{
    char *dir = xai_test_tmpdir();
    const char *edf = NULL;
    const char *gdf = prepare("mne_test_bdf_stim_channel.bdf", dir, &edf);
    if (gdf) {
        size_t len = 0;
        unsigned char *bytes = xai_test_read_file(gdf, &len);
        ck_assert_ptr_nonnull(bytes);
        /* headers cut short: fixed header, inside the channel headers, at the data */
        static const size_t cuts[] = {1, 8, 100, 255, 256, 300, 700, 1000};
        char bad[4096];
        snprintf(bad, sizeof bad, "%s/bad.gdf", dir);
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
            FILE *f = fopen(bad, "wb");
            fwrite(bytes, 1, cuts[i], f);
            fclose(f);
            xai_status st;
            long printed = open_silently(bad, &st);
            ck_assert_msg(st != XAI_OK, "a GDF cut at %zu bytes was accepted", cuts[i]);
            ck_assert_msg(strstr(xai_last_error(), "bad.gdf") != NULL, "message: %s",
                          xai_last_error());
            ck_assert_msg(printed == 0, "BioSig wrote %ld bytes to stderr (cut %zu)", printed,
                          cuts[i]);
        }
        /* a GDF magic with junk behind it */
        memset(bytes + 8, 0xFF, 248);
        FILE *f = fopen(bad, "wb");
        fwrite(bytes, 1, 256 * 4, f);
        fclose(f);
        xai_status st;
        ck_assert_int_eq(open_silently(bad, &st), 0);
        ck_assert_int_ne(st, XAI_OK);
        free(bytes);
    }
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* Files on which BioSig 2.5 itself crashes (GDF event table, BCI2000 header) or loops
 * forever (BCI2000 header): found by fuzzing, kept in tests/data/biosig. */
START_TEST(biosig_failures_contained)
{
    static const char *const files[] = {"gdf-crashes-biosig.gdf", "bci2000-crashes-biosig.dat",
                                        "bci2000-hangs-biosig.dat"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "biosig/%s", files[i]);
        const char *path = xai_test_path(xai_test_data_dir(), rel);
        xai_status st;
        long printed = open_silently(path, &st);
        ck_assert_msg(st == XAI_EFORMAT, "%s: status %d (%s)", files[i], st, xai_last_error());
        ck_assert_msg(strstr(xai_last_error(), files[i]) != NULL, "%s", xai_last_error());
        ck_assert_msg(printed == 0, "%s: %ld bytes on stderr", files[i], printed);
    }
    ck_assert_msg(strstr(xai_last_error(), "did not finish") != NULL, "%s", xai_last_error());
}
END_TEST

START_TEST(not_a_file)
{
    xai_biosig *g = (xai_biosig *)1;
    ck_assert_int_eq(xai_biosig_open("/nonexistent/x.gdf", &g), XAI_EIO);
    ck_assert_ptr_null(g);
    ck_assert_int_eq(xai_biosig_open("/tmp", &g), XAI_EIO);
    ck_assert_int_eq(xai_biosig_open(NULL, &g), XAI_EINVAL);
    ck_assert_int_eq(xai_biosig_open_mem("", 0, "empty.gdf", &g), XAI_EFORMAT);
    static const char text[] = "this is not a recording of any kind\n";
    ck_assert_int_ne(xai_biosig_open_mem(text, sizeof text - 1, "text.gdf", &g), XAI_OK);
    ck_assert_ptr_null(g);
    xai_biosig_close(NULL);
}
END_TEST

START_TEST(handles_extensions)
{
    ck_assert(xai_biosig_handles("a/B01T.gdf"));
    ck_assert(xai_biosig_handles("S001R03.DAT"));
    ck_assert(xai_biosig_handles("x.cnt"));
    ck_assert(xai_biosig_handles("x.egi"));
    ck_assert(!xai_biosig_handles("x.edf"));
    ck_assert(!xai_biosig_handles("x.bdf"));
    ck_assert(!xai_biosig_handles("dir.gdf/x"));
    ck_assert(!xai_biosig_handles(NULL));
}
END_TEST

START_TEST(memory_and_selection)
{
    char *dir = xai_test_tmpdir();
    const char *edf = NULL;
    const char *gdf = prepare("mne_test_bdf_stim_channel.bdf", dir, &edf);
    if (gdf) {
        size_t len = 0;
        void *bytes = xai_test_read_file(gdf, &len);
        xai_biosig *a = NULL, *b = NULL;
        ck_assert_int_eq(xai_biosig_open(gdf, &a), XAI_OK);
        ck_assert_int_eq(xai_biosig_open_mem(bytes, len, "copy.gdf", &b), XAI_OK);
        const xai_biosig_info *ia = xai_biosig_get_info(a);
        ck_assert_int_eq(ia->n_channels, 3);
        ck_assert_int_eq(ia->n_channels, xai_biosig_get_info(b)->n_channels);
        float *ma = NULL, *mb = NULL, *ms = NULL;
        int64_t T = 0;
        ck_assert_int_eq(xai_biosig_read_matrix(a, NULL, 0, &ma, &T, NULL), XAI_OK);
        ck_assert_int_eq(xai_biosig_read_matrix(b, NULL, 0, &mb, NULL, NULL), XAI_OK);
        ck_assert_int_eq(memcmp(ma, mb, (size_t)(3 * T) * sizeof *ma), 0);
        const int sel[] = {2, 0};
        ck_assert_int_eq(xai_biosig_read_matrix(a, sel, 2, &ms, NULL, NULL), XAI_OK);
        ck_assert_int_eq(memcmp(ms, ma + 2 * T, (size_t)T * sizeof *ma), 0);
        ck_assert_int_eq(memcmp(ms + T, ma, (size_t)T * sizeof *ma), 0);
        const int badsel[] = {0, 3};
        float *none = NULL;
        ck_assert_int_eq(xai_biosig_read_matrix(a, badsel, 2, &none, NULL, NULL), XAI_EINVAL);
        ck_assert_ptr_null(none);
        ck_assert_ptr_null(xai_biosig_get_channel(a, 3));
        ck_assert_ptr_null(xai_biosig_get_channel(a, -1));
        free(ma);
        free(mb);
        free(ms);
        free(bytes);
        xai_biosig_close(a);
        xai_biosig_close(b);
    }
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* A BCI2000 file: 2 int16 channels at 8 Hz, a 2-byte state vector with Running (1 bit)
 * and TargetCode (7 bits); TargetCode 3 for samples 4..7 and 5 for samples 10..11. */
static void write_bci2000(const char *path)
{
    static const char body[] =
        "[ State Vector Definition ]\r\n"
        "Running 1 0 0 0\r\n"
        "TargetCode 7 0 0 1\r\n"
        "[ Parameter Definition ]\r\n"
        "Source int SourceCh= 2 16 1 128 // channels\r\n"
        "Source int SampleBlockSize= 4 32 1 128 // block\r\n"
        "Source float SamplingRate= 8Hz 256Hz 1 1000 // rate\r\n"
        "Source floatlist SourceChOffset= 2 0 10 0 -1000 1000 // offsets\r\n"
        "Source floatlist SourceChGain= 2 0.5 0.25 0.003 -1000 1000 // gains\r\n"
        "Source list ChannelNames= 2 C3 C4 // names\r\n"
        "\r\n";
    char first[128];
    int fl = snprintf(first, sizeof first,
                      "HeaderLen= %4d SourceCh= 2 StatevectorLen= 2 DataFormat= int16\r\n", 0);
    snprintf(first, sizeof first, "HeaderLen= %4d SourceCh= 2 StatevectorLen= 2 DataFormat= int16\r\n",
             fl + (int)sizeof body - 1);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(first, f);
    fputs(body, f);
    for (int t = 0; t < 16; t++) {
        int code = t >= 4 && t < 8 ? 3 : t >= 10 && t < 12 ? 5 : 0;
        int16_t v[2] = {(int16_t)(t * 10 - 50), (int16_t)(100 - t * 3)};
        uint16_t state = (uint16_t)(1 | code << 1);
        unsigned char b[6] = {(unsigned char)v[0], (unsigned char)((uint16_t)v[0] >> 8),
                              (unsigned char)v[1], (unsigned char)((uint16_t)v[1] >> 8),
                              (unsigned char)state, (unsigned char)(state >> 8)};
        fwrite(b, 1, sizeof b, f);
    }
    fclose(f);
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_f64(unsigned char *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    put_le(p, v, 8);
}

/* A GDF 1.25 file built from the specification (Schloegl et al. 2006): 2 int16 channels,
 * 4 records of 1 s at 8 Hz, physical range [-100, 100] over the full int16 range, and an
 * event table (mode 1) with 769 at 1 s ending at 2 s (0x8301) and 770 at 2.5 s (BioSig
 * counts samples from 0, the file from 1). */
static void write_gdf1(const char *path)
{
    enum { NS = 2, SPR = 8, NREC = 4, HEAD = 256 * (NS + 1) };
    unsigned char h[HEAD];
    memset(h, 0, sizeof h);
    memcpy(h, "GDF 1.25", 8);
    memcpy(h + 8, "X", 1);
    memcpy(h + 168, "2020010112000000", 16);
    put_le(h + 184, HEAD, 8);
    put_le(h + 236, NREC, 8);
    put_le(h + 244, 1, 4);         /* record duration 1/1 s */
    put_le(h + 248, 1, 4);
    put_le(h + 252, NS, 4);
    unsigned char *c = h + 256;
    for (int i = 0; i < NS; i++) {
        memcpy(c + 16 * i, i ? "C4" : "C3", 2);
        memcpy(c + 16 * NS + 80 * NS + 8 * i, "uV", 2);
        put_f64(c + 104 * NS + 8 * i, -100);
        put_f64(c + 112 * NS + 8 * i, 100);
        put_le(c + 120 * NS + 8 * i, (uint64_t)(int64_t)-32768, 8);
        put_le(c + 128 * NS + 8 * i, 32767, 8);
        put_le(c + 216 * NS + 4 * i, SPR, 4);
        put_le(c + 220 * NS + 4 * i, 3, 4); /* int16 */
    }
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(h, 1, sizeof h, f);
    for (int r = 0; r < NREC; r++)
        for (int i = 0; i < NS; i++)
            for (int t = 0; t < SPR; t++) {
                unsigned char b[2];
                put_le(b, (uint16_t)(int16_t)((r * SPR + t) * 1000 * (i ? -1 : 1)), 2);
                fwrite(b, 1, 2, f);
            }
    unsigned char ev[8 + 3 * 6];
    memset(ev, 0, sizeof ev);
    ev[0] = 1;
    put_le(ev + 1, 8, 3);          /* event sample rate */
    put_le(ev + 4, 3, 4);
    put_le(ev + 8, 9, 4);          /* positions count from 1 in the file */
    put_le(ev + 12, 17, 4);
    put_le(ev + 16, 21, 4);
    put_le(ev + 20, 0x0301, 2);
    put_le(ev + 22, 0x8301, 2);
    put_le(ev + 24, 0x0302, 2);
    fwrite(ev, 1, 26, f);
    fclose(f);
}

START_TEST(gdf1_from_the_specification)
{
    char *dir = xai_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/v1.gdf", dir);
    write_gdf1(path);
    xai_biosig *g = NULL;
    ck_assert_msg(xai_biosig_open(path, &g) == XAI_OK, "%s", xai_last_error());
    const xai_biosig_info *in = xai_biosig_get_info(g);
    ck_assert_str_eq(in->format, "GDF");
    ck_assert(in->version > 1.2 && in->version < 1.3);
    ck_assert_int_eq(in->n_channels, 2);
    ck_assert_int_eq(in->n_samples, 32);
    ck_assert_double_eq(in->sample_rate, 8);
    ck_assert_str_eq(xai_biosig_get_channel(g, 1)->label, "C4");
    ck_assert_str_eq(xai_biosig_get_channel(g, 1)->unit, "uV");
    float *m = NULL;
    ck_assert_int_eq(xai_biosig_read_matrix(g, NULL, 0, &m, NULL, NULL), XAI_OK);
    const double cal = 200.0 / 65535.0, off = -100 + 32768 * cal;
    for (int t = 0; t < 32; t++) {
        ck_assert_double_eq_tol(m[t], t * 1000 * cal + off, 1e-4);
        ck_assert_double_eq_tol(m[32 + t], -t * 1000 * cal + off, 1e-4);
    }
    free(m);
    size_t n = 0;
    const xai_edf_annotation *a = xai_biosig_get_annotations(g, &n);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(a[0].text, "769");
    ck_assert_double_eq_tol(a[0].onset_s, 1.0, 1e-12);
    ck_assert_double_eq_tol(a[0].duration_s, 1.0, 1e-12);
    ck_assert_str_eq(a[1].text, "770");
    ck_assert_double_eq_tol(a[1].onset_s, 2.5, 1e-12);
    ck_assert_double_eq(a[1].duration_s, -1);
    xai_biosig_close(g);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* BCI2000: physical = (raw - offset) * gain; TargetCode k becomes GDF code 0x300 + k, its
 * end (code | 0x8000) gives the duration. */
START_TEST(bci2000_scaling_and_events)
{
    char *dir = xai_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/S001R03.dat", dir);
    write_bci2000(path);
    xai_biosig *g = NULL;
    ck_assert_msg(xai_biosig_open(path, &g) == XAI_OK, "%s", xai_last_error());
    const xai_biosig_info *in = xai_biosig_get_info(g);
    ck_assert_str_eq(in->format, "BCI2000");
    ck_assert_int_eq(in->n_channels, 2);
    ck_assert_int_eq(in->n_samples, 16);
    ck_assert_double_eq(in->sample_rate, 8);
    ck_assert_str_eq(xai_biosig_get_channel(g, 0)->label, "C3");
    ck_assert_str_eq(xai_biosig_get_channel(g, 1)->label, "C4");
    float *m = NULL;
    ck_assert_int_eq(xai_biosig_read_matrix(g, NULL, 0, &m, NULL, NULL), XAI_OK);
    for (int t = 0; t < 16; t++) {
        ck_assert_double_eq_tol(m[t], (t * 10 - 50) * 0.5, 1e-6);
        ck_assert_double_eq_tol(m[16 + t], (100 - t * 3 - 10) * 0.25, 1e-6);
    }
    free(m);
    size_t n = 0;
    const xai_edf_annotation *a = xai_biosig_get_annotations(g, &n);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(a[0].text, "771");
    ck_assert_double_eq_tol(a[0].onset_s, 0.5, 1e-12);
    ck_assert_double_eq_tol(a[0].duration_s, 0.5, 1e-12);
    ck_assert_str_eq(a[1].text, "773");
    ck_assert_double_eq_tol(a[1].onset_s, 1.25, 1e-12);
    ck_assert_double_eq_tol(a[1].duration_s, 0.25, 1e-12);
    xai_biosig_close(g);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("biosig");
    TCase *real = tcase_create("gdf-from-edf");
    tcase_set_timeout(real, 300);
    tcase_add_loop_test(real, gdf_equals_edf, 0, (int)N_RECORDINGS);
    tcase_add_test(real, memory_and_selection);
    tcase_add_test(real, bci2000_scaling_and_events);
    tcase_add_test(real, gdf1_from_the_specification);
    suite_add_tcase(s, real);
    TCase *bad = tcase_create("malformed");
    tcase_add_test(bad, malformed_fail_cleanly);
    tcase_add_test(bad, not_a_file);
    tcase_add_test(bad, biosig_failures_contained);
    tcase_add_test(bad, handles_extensions);
    suite_add_tcase(s, bad);
    return s;
}
