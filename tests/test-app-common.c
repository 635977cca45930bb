/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-app-common.c - the shared application layer (apps/common): SHA-256 against the
 * FIPS 180-2 / NIST CAVS example vectors, sidecar naming and content, BIDS names, shards,
 * output policy and atomic writes, thread defaults, common options and progress modes.
 */
#include "test-common.h"

#include <cairo.h>
#include <dirent.h>
#include <fcntl.h>
#include <float.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app.h"
#include "batch.h"
#include "concepts.h"

/* ---- helpers ---- */

static char *argv_default[] = {"xai-test", "--force", NULL};

static void app_new(xai_app *app)
{
    xai_app_init(app, "xai-test", "1.2.3", 2, argv_default);
}

/* Capture what is written to file descriptor fd (1 or 2) between begin and end. */
typedef struct {
    int fd, saved;
    char path[64];
} capture;

static void capture_begin(capture *c, int fd)
{
    fflush(stdout);
    fflush(stderr);
    snprintf(c->path, sizeof c->path, "/tmp/xai-app-capXXXXXX");
    int t = mkstemp(c->path);
    ck_assert_int_ge(t, 0);
    c->fd = fd;
    c->saved = dup(fd);
    ck_assert_int_ge(c->saved, 0);
    ck_assert_int_ge(dup2(t, fd), 0);
    close(t);
}

/* Returns the captured text (malloc'ed, NUL-terminated). */
static char *capture_end(capture *c)
{
    fflush(stdout);
    fflush(stderr);
    dup2(c->saved, c->fd);
    close(c->saved);
    size_t n = 0;
    char *raw = xai_test_read_file(c->path, &n);
    unlink(c->path);
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    if (n)
        memcpy(s, raw, n);
    s[n] = '\0';
    free(raw);
    return s;
}

/* Number of directory entries other than . and .. whose name contains "tmp". */
static int count_entries(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (!needle || strstr(e->d_name, needle))
            n++;
    }
    closedir(d);
    return n;
}

static char *read_stream(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    return s;
}

static int count_char(const char *s, char c)
{
    int n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

/* ---- SHA-256 ---- */

START_TEST(sha256_vectors)
{
    char hex[65];
    xai_sha256_buffer("", 0, hex);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    xai_sha256_buffer("abc", 3, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ck_assert_uint_eq(strlen(m448) * 8, 448);
    xai_sha256_buffer(m448, strlen(m448), hex);
    ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *fox = "The quick brown fox jumps over the lazy dog";
    xai_sha256_buffer(fox, strlen(fox), hex);
    ck_assert_str_eq(hex, "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");

    char *a = malloc(1000000);
    ck_assert_ptr_nonnull(a);
    memset(a, 'a', 1000000);
    xai_sha256_buffer(a, 1000000, hex);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

    /* padding boundaries (55/56 bytes: one or two final blocks; 64: empty last block) */
    static const struct {
        size_t n;
        const char *hex;
    } pad[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
        {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
        {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
    };
    for (size_t i = 0; i < sizeof pad / sizeof pad[0]; i++) {
        xai_sha256_buffer(a, pad[i].n, hex);
        ck_assert_msg(strcmp(hex, pad[i].hex) == 0, "length %zu: %s", pad[i].n, hex);
    }
    free(a);
}
END_TEST

START_TEST(sha256_file)
{
    char *dir = xai_test_tmpdir();
    const char *p = xai_test_path(dir, "million.bin");
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 1000000; i++)
        fputc('a', f);
    fclose(f);
    char hex[65];
    ck_assert_int_eq(xai_sha256_file(p, hex), 0);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    ck_assert_int_eq(xai_sha256_file(xai_test_path(dir, "absent.bin"), hex), -1);
    ck_assert_int_eq(xai_sha256_file(dir, hex), -1); /* a directory cannot be read */
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- init, command line, threads, options ---- */

START_TEST(init_command_line)
{
    char *argv[] = {"xai-eeg", "a b", "it's", "--x=1", "", "$HOME", "plain/path.nii.gz", NULL};
    xai_app app;
    xai_app_init(&app, "xai-eeg", "0.1.0", 7, argv);
    ck_assert_str_eq(app.command_line, "xai-eeg 'a b' 'it'\\''s' --x=1 '' '$HOME' plain/path.nii.gz");
    ck_assert_str_eq(app.prog, "xai-eeg");
    ck_assert_int_eq(app.verbosity, 1);
    ck_assert_int_eq(app.force, 0);
    ck_assert_int_eq(app.progress, XAI_PROGRESS_AUTO);
    ck_assert_int_ge(app.nthreads, 1);
    /* 2026-11-26T06:50:54Z */
    ck_assert_uint_eq(strlen(app.datetime), 20);
    ck_assert_int_eq(app.datetime[4], '-');
    ck_assert_int_eq(app.datetime[10], 'T');
    ck_assert_int_eq(app.datetime[19], 'Z');
    int y = 0, mo = 0, d = 0, h = 99, mi = 99, s = 99;
    ck_assert_int_eq(sscanf(app.datetime, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s), 6);
    ck_assert(y >= 2024 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && s < 61);
    xai_app_free(&app);
    ck_assert_ptr_null(app.command_line);
    xai_app_free(&app); /* twice is harmless */
}
END_TEST

/* The recorded command line names the program without the folder it ran from (a build or
 * install path is local); the arguments as given, quoting included. */
START_TEST(init_command_line_program_name)
{
    static const char *const cases[][3] = {
        {"/work/wt/x/build/apps/xai-eeg", "/data/a.edf", "xai-eeg train /data/a.edf"},
        {"/home/me/my tools/xai-fmri", "a b.nii", "xai-fmri train 'a b.nii'"},
        {"/it's/xai-gait", "it's", "xai-gait train 'it'\\''s'"},
        {"./xai-speech", "x", "xai-speech train x"},
        {"xai-eeg", "./x", "xai-eeg train ./x"},
        {"/usr/bin/my prog", "x", "'my prog' train x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[] = {(char *)cases[i][0], "train", (char *)cases[i][1], NULL};
        xai_app app;
        xai_app_init(&app, "xai-eeg", "0.1.0", 3, argv);
        ck_assert_str_eq(app.command_line, cases[i][2]);
        ck_assert_str_eq(argv[0], cases[i][0]); /* the caller's argv untouched */
        xai_app_free(&app);
    }
    char *runnable[] = {"/opt/x y/xai-eeg", "train", NULL}; /* a command to run keeps its path */
    char *q = xai_app_quote_words(2, runnable);
    ck_assert_str_eq(q, "'/opt/x y/xai-eeg' train");
    free(q);
}
END_TEST

static void restore_env(const char *name, char *saved)
{
    if (saved) {
        setenv(name, saved, 1);
        free(saved);
    } else {
        unsetenv(name);
    }
}

START_TEST(threads_default)
{
    char *slurm = getenv("SLURM_CPUS_PER_TASK") ? strdup(getenv("SLURM_CPUS_PER_TASK")) : NULL;
    char *omp = getenv("OMP_NUM_THREADS") ? strdup(getenv("OMP_NUM_THREADS")) : NULL;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    ck_assert_int_ge(cores, 1);

    setenv("SLURM_CPUS_PER_TASK", "3", 1);
    setenv("OMP_NUM_THREADS", "5", 1);
    ck_assert_int_eq(xai_app_default_threads(), 3);
    xai_app app;
    app_new(&app);
    ck_assert_int_eq(app.nthreads, 3);
    xai_app_free(&app);

    unsetenv("SLURM_CPUS_PER_TASK");
    ck_assert_int_eq(xai_app_default_threads(), 5);
    setenv("OMP_NUM_THREADS", "2,1", 1); /* nested list: first level */
    ck_assert_int_eq(xai_app_default_threads(), 2);
    setenv("SLURM_CPUS_PER_TASK", "0", 1); /* invalid values fall through */
    ck_assert_int_eq(xai_app_default_threads(), 2);
    setenv("OMP_NUM_THREADS", "many", 1);
    ck_assert_int_eq(xai_app_default_threads(), (int)cores);
    setenv("SLURM_CPUS_PER_TASK", "7x", 1);
    setenv("OMP_NUM_THREADS", "", 1);
    ck_assert_int_eq(xai_app_default_threads(), (int)cores);
    unsetenv("SLURM_CPUS_PER_TASK");
    unsetenv("OMP_NUM_THREADS");
    ck_assert_int_eq(xai_app_default_threads(), (int)cores);

    restore_env("SLURM_CPUS_PER_TASK", slurm);
    restore_env("OMP_NUM_THREADS", omp);
}
END_TEST

START_TEST(options)
{
    xai_app app;
    app_new(&app);
    capture c;
    capture_begin(&c, 2);
    ck_assert_int_eq(xai_app_handle_option(&app, 'f', NULL), 1);
    ck_assert_int_eq(app.force, 1);
    ck_assert_int_eq(xai_app_handle_option(&app, XAI_APP_OPT_NTHREADS, "4"), 1);
    ck_assert_int_eq(app.nthreads, 4);
    ck_assert_int_eq(xai_app_handle_option(&app, XAI_APP_OPT_NTHREADS, "0"), -1);
    ck_assert_int_eq(xai_app_handle_option(&app, XAI_APP_OPT_NTHREADS, "-2"), -1);
    ck_assert_int_eq(xai_app_handle_option(&app, XAI_APP_OPT_NTHREADS, "4x"), -1);
    ck_assert_int_eq(xai_app_handle_option(&app, XAI_APP_OPT_NTHREADS, ""), -1);
    ck_assert_int_eq(app.nthreads, 4); /* unchanged by bad values */
    ck_assert_int_eq(xai_app_handle_option(&app, XAI_APP_OPT_PROGRESS, "json"), 1);
    ck_assert_int_eq(app.progress, XAI_PROGRESS_JSON);
    ck_assert_int_eq(xai_app_handle_option(&app, XAI_APP_OPT_PROGRESS, "fancy"), -1);
    ck_assert_int_eq(app.progress, XAI_PROGRESS_JSON);
    ck_assert_int_eq(xai_app_handle_option(&app, 'v', NULL), 1);
    ck_assert_int_eq(xai_app_handle_option(&app, XAI_APP_OPT_VERBOSE, NULL), 1);
    ck_assert_int_eq(app.verbosity, 3);
    ck_assert_int_eq(xai_app_handle_option(&app, 'q', NULL), 1);
    ck_assert_int_eq(app.verbosity, 0);
    ck_assert_int_eq(xai_app_handle_option(&app, 'z', NULL), 0);
    ck_assert_int_eq(xai_app_handle_option(&app, 'o', "out"), 0);
    char *err = capture_end(&c);
    ck_assert_ptr_nonnull(strstr(err, "xai-test: --nthreads: invalid value '4x'"));
    ck_assert_ptr_nonnull(strstr(err, "--progress: invalid value 'fancy'"));
    ck_assert_ptr_nonnull(strstr(err, "Try 'xai-test --help'"));
    free(err);

    capture_begin(&c, 1);
    ck_assert_int_eq(xai_app_handle_option(&app, XAI_APP_OPT_VERSION, NULL), 2);
    char *out = capture_end(&c);
    ck_assert_str_eq(out, "xai-test (libxai) 1.2.3\n");
    free(out);

    /* exit codes of the message helpers */
    capture_begin(&c, 2);
    ck_assert_int_eq(xai_app_fail(&app, "in.edf", "bad header: %d channels", -3), XAI_EXIT_DATA);
    ck_assert_int_eq(xai_app_fail(&app, NULL, "no input"), XAI_EXIT_DATA);
    ck_assert_int_eq(xai_app_usage_error(&app, "missing %s", "OUT_DIR"), XAI_EXIT_USAGE);
    err = capture_end(&c);
    ck_assert_str_eq(err, "xai-test: in.edf: bad header: -3 channels\nxai-test: no input\n"
                          "xai-test: missing OUT_DIR\nTry 'xai-test --help' for more information.\n");
    free(err);
    ck_assert_ptr_nonnull(strstr(xai_app_common_help, "--nthreads"));
    ck_assert_ptr_nonnull(strstr(xai_app_common_help, "--progress"));
    xai_app_free(&app);
}
END_TEST

/* The option table macro works with getopt_long as documented. */
START_TEST(options_getopt)
{
    char *argv[] = {"xai-test", "--nthreads", "3", "--progress=lines", "-q", "--force", "-o", "x", "in", NULL};
    int argc = 9;
    xai_app app;
    xai_app_init(&app, "xai-test", "1.2.3", argc, argv);
    static const struct option opts[] = {{"output", required_argument, 0, 'o'}, XAI_APP_LONG_OPTIONS, {0, 0, 0, 0}};
    const char *output = NULL;
    int c, rc = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qvf", opts, NULL)) != -1) {
        int h = xai_app_handle_option(&app, c, optarg);
        if (h < 0)
            rc = -1;
        if (h)
            continue;
        if (c == 'o')
            output = optarg;
        else
            rc = -1;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(output, "x");
    ck_assert_int_eq(optind, 8);
    ck_assert_int_eq(app.nthreads, 3);
    ck_assert_int_eq(app.progress, XAI_PROGRESS_LINES);
    ck_assert_int_eq(app.verbosity, 0);
    ck_assert_int_eq(app.force, 1);
    /* -q did not silence an explicit --progress */
    ck_assert_int_eq(xai_app_progress_resolve(&app), XAI_PROGRESS_LINES);
    xai_app_apply_threads(&app); /* reaches libxai without crashing */
    xai_app_free(&app);
}
END_TEST

START_TEST(log_levels)
{
    xai_app app;
    app_new(&app);
    capture c;
    capture_begin(&c, 2);
    xai_app_log(&app, 1, "reading %s", "a.edf");
    xai_app_log(&app, 2, "detail %d", 1);
    app.verbosity = 2;
    xai_app_log(&app, 2, "detail %d", 2);
    app.verbosity = 0;
    xai_app_log(&app, 1, "silenced");
    char *err = capture_end(&c);
    ck_assert_str_eq(err, "xai-test: reading a.edf\nxai-test: detail 2\n");
    free(err);
    xai_app_free(&app);
}
END_TEST

/* ---- output policy and atomic writes ---- */

START_TEST(check_output)
{
    char *dir = xai_test_tmpdir();
    const char *p = xai_test_path(dir, "out.npy");
    xai_app app;
    app_new(&app);
    ck_assert_int_eq(xai_app_check_output(&app, p), 0); /* absent */
    ck_assert_int_eq(xai_app_write_atomic(&app, p, "old", 3), 0);
    capture c;
    capture_begin(&c, 2);
    ck_assert_int_eq(xai_app_check_output(&app, p), -1);
    char *err = capture_end(&c);
    char want[4200];
    snprintf(want, sizeof want, "xai-test: %s: exists; use --force to overwrite\n", p);
    ck_assert_str_eq(err, want);
    free(err);
    app.force = 1;
    ck_assert_int_eq(xai_app_check_output(&app, p), 0);
    /* a dangling symlink also counts as existing */
    const char *l = xai_test_path(dir, "link.npy");
    ck_assert_int_eq(symlink("nowhere", l), 0);
    app.force = 0;
    capture_begin(&c, 2);
    ck_assert_int_eq(xai_app_check_output(&app, l), -1);
    free(capture_end(&c));
    xai_app_free(&app);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(atomic_write)
{
    char *dir = xai_test_tmpdir();
    xai_app app;
    app_new(&app);
    const char *p = xai_test_path(dir, "out.bin");
    ck_assert_int_eq(xai_app_write_atomic(&app, p, "hello", 5), 0);
    ck_assert_int_eq(xai_app_write_atomic(&app, p, "world!", 6), 0); /* replaces */
    size_t n = 0;
    char *got = xai_test_read_file(p, &n);
    ck_assert_uint_eq(n, 6);
    ck_assert_int_eq(memcmp(got, "world!", 6), 0);
    free(got);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_ne(st.st_mode & 0044, 0); /* not left 0600 by mkstemp (umask 022 here) */
    ck_assert_int_eq(count_entries(dir, NULL), 1);
    ck_assert_int_eq(xai_app_write_atomic(&app, xai_test_path(dir, "empty"), "", 0), 0);
    ck_assert_int_eq(stat(xai_test_path(dir, "empty"), &st), 0);
    ck_assert_int_eq(st.st_size, 0);

    /* rename fails (target is a directory): the temp file is removed, the message names PATH */
    const char *d = xai_test_path(dir, "isdir.bin");
    ck_assert_int_eq(mkdir(d, 0755), 0);
    capture c;
    capture_begin(&c, 2);
    ck_assert_int_eq(xai_app_write_atomic(&app, d, "x", 1), -1);
    char *err = capture_end(&c);
    ck_assert_ptr_nonnull(strstr(err, d));
    free(err);
    ck_assert_int_eq(count_entries(dir, "tmp"), 0);
    ck_assert_int_eq(count_entries(dir, NULL), 3);

    /* missing directory */
    capture_begin(&c, 2);
    ck_assert_int_eq(xai_app_write_atomic(&app, xai_test_path(dir, "no/such/x.bin"), "x", 1), -1);
    err = capture_end(&c);
    ck_assert_ptr_nonnull(strstr(err, "no/such/x.bin"));
    free(err);

    /* unwritable directory (not meaningful as root, which ignores the mode bits) */
    if (geteuid() != 0) {
        const char *ro = xai_test_path(dir, "ro");
        ck_assert_int_eq(mkdir(ro, 0755), 0);
        ck_assert_int_eq(chmod(ro, 0555), 0);
        char rp[4200];
        snprintf(rp, sizeof rp, "%s/out.bin", ro);
        capture_begin(&c, 2);
        ck_assert_int_eq(xai_app_write_atomic(&app, rp, "x", 1), -1);
        err = capture_end(&c);
        ck_assert_ptr_nonnull(strstr(err, rp));
        free(err);
        ck_assert_int_eq(count_entries(ro, NULL), 0);
        chmod(ro, 0755);
    }

    /* streaming form: abort leaves nothing, commit publishes */
    char *tmp = NULL;
    const char *s = xai_test_path(dir, "stream.txt");
    FILE *f = xai_app_atomic_open(&app, s, &tmp);
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(strstr(tmp, "stream.txt.tmp"));
    fputs("partial", f);
    ck_assert_int_eq(xai_app_atomic_commit(&app, f, tmp, s, 0), -1);
    ck_assert_int_eq(count_entries(dir, "stream"), 0);
    f = xai_app_atomic_open(&app, s, &tmp);
    fputs("complete\n", f);
    ck_assert_int_eq(xai_app_atomic_commit(&app, f, tmp, s, 1), 0);
    got = xai_test_read_file(s, &n);
    ck_assert_uint_eq(n, 9);
    free(got);
    ck_assert_int_eq(count_entries(dir, "tmp"), 0);
    xai_app_free(&app);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* A run killed by SIGTERM in the middle of a write leaves neither output nor temp. */
START_TEST(atomic_signal)
{
    char *dir = xai_test_tmpdir();
    const char *p = xai_test_path(dir, "out.nii");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        xai_app app;
        app_new(&app);
        xai_app_install_signal_handlers();
        char *tmp;
        FILE *f = xai_app_atomic_open(&app, p, &tmp);
        if (!f)
            _exit(3);
        fputs("half", f);
        fflush(f);
        raise(SIGTERM);
        _exit(4); /* not reached */
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "child status %d", status);
    ck_assert_int_eq(count_entries(dir, NULL), 0);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(mkdirs)
{
    char *dir = xai_test_tmpdir();
    xai_app app;
    app_new(&app);
    char p[4200];
    snprintf(p, sizeof p, "%s/a/b//c/", dir);
    ck_assert_int_eq(xai_app_mkdirs(&app, p), 0);
    ck_assert_int_eq(xai_app_mkdirs(&app, p), 0); /* idempotent */
    struct stat st;
    ck_assert_int_eq(stat(xai_test_path(dir, "a/b/c"), &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_int_eq(xai_app_write_atomic(&app, xai_test_path(dir, "file"), "x", 1), 0);
    snprintf(p, sizeof p, "%s/file/sub", dir);
    capture c;
    capture_begin(&c, 2);
    ck_assert_int_eq(xai_app_mkdirs(&app, p), -1);
    char *err = capture_end(&c);
    ck_assert_ptr_nonnull(strstr(err, "/file"));
    free(err);
    xai_app_free(&app);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- small shared helpers (util.c, png.c) ---- */

START_TEST(helpers_parse_long)
{
    long v = 99;
    ck_assert_int_eq(xai_app_parse_long("42", 0, 100, &v), 0);
    ck_assert_int_eq(v, 42);
    ck_assert_int_eq(xai_app_parse_long("-7", -10, 10, &v), 0);
    ck_assert_int_eq(v, -7);
    ck_assert_int_eq(xai_app_parse_long("100", 0, 100, &v), 0); /* bounds are inclusive */
    ck_assert_int_eq(v, 100);
    v = 5;
    static const char *const bad[] = {"", "101", "-1", "4x", "x4", "1.5", " ", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(xai_app_parse_long(bad[i], 0, 100, &v) == -1, "'%s' accepted", bad[i]);
        ck_assert_int_eq(v, 5); /* untouched on failure */
    }
}
END_TEST

START_TEST(helpers_parse_numbers)
{
    double d = 7;
    ck_assert_int_eq(xai_app_parse_double("0.25", 0, 1, &d), 0);
    ck_assert(d == 0.25);
    static const char *const bad_d[] = {"", "nan", "inf", "-inf", "1e999", "1.5", "0.5x", "0x", ",", "-0.1", "0x0.8", "0X1p-1"};
    for (size_t i = 0; i < sizeof bad_d / sizeof bad_d[0]; i++) {
        d = 7;
        ck_assert_msg(xai_app_parse_double(bad_d[i], 0, 1, &d) == -1 && d == 7, "'%s' accepted", bad_d[i]);
    }
    /* a float is read by strtof: the nearest float, and what a float cannot hold is refused */
    float f = 3;
    ck_assert_int_eq(xai_app_parse_float("0.1", 0, 1, &f), 0);
    ck_assert(f == 0.1f);
    static const char *const bad_f[] = {"1e39", "-1e39", "1e-50", "nan", "", "2", "0x1"};
    for (size_t i = 0; i < sizeof bad_f / sizeof bad_f[0]; i++) {
        f = 3;
        ck_assert_msg(xai_app_parse_float(bad_f[i], -FLT_MAX, 1, &f) == -1 && f == 3, "'%s' accepted", bad_f[i]);
    }
    uint64_t u = 5;
    ck_assert_int_eq(xai_app_parse_u64("18446744073709551615", &u), 0);
    ck_assert(u == UINT64_MAX);
    static const char *const bad_u[] = {"-1", "+1", " 1", "", "18446744073709551616", "1e3", "1.0"};
    for (size_t i = 0; i < sizeof bad_u / sizeof bad_u[0]; i++) {
        u = 5;
        ck_assert_msg(xai_app_parse_u64(bad_u[i], &u) == -1 && u == 5, "'%s' accepted", bad_u[i]);
    }
}
END_TEST

START_TEST(helpers_parse_lists)
{
    long l[4];
    ck_assert_int_eq(xai_app_parse_long_list("3", ',', 0, 9, l, 4), 1);
    ck_assert_int_eq(l[0], 3);
    ck_assert_int_eq(xai_app_parse_long_list("3,0,9", ',', 0, 9, l, 4), 3);
    ck_assert(l[0] == 3 && l[1] == 0 && l[2] == 9);
    ck_assert_int_eq(xai_app_parse_long_list("2/5", '/', 1, 9, l, 2), 2);
    ck_assert(l[0] == 2 && l[1] == 5);
    static const char *const bad_l[] = {"", ",", "1,", ",1", "1,,2", "1,10", "1,2,3,4,5", "1;2", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_l / sizeof bad_l[0]; i++)
        ck_assert_msg(xai_app_parse_long_list(bad_l[i], ',', 0, 9, l, 4) == -1, "'%s' accepted", bad_l[i]);
    /* an item longer than any number is refused, not cut */
    char longitem[100];
    memset(longitem, '0', sizeof longitem - 2);
    longitem[sizeof longitem - 2] = '1';
    longitem[sizeof longitem - 1] = '\0';
    ck_assert_int_eq(xai_app_parse_long_list(longitem, ',', 0, 9, l, 4), -1);
    double d[2];
    ck_assert_int_eq(xai_app_parse_double_list("8,30.5", ',', 0, HUGE_VAL, d, 2), 2);
    ck_assert(d[0] == 8 && d[1] == 30.5);
    static const char *const bad_d[] = {"8,", ",30", "8", "8,30,40", "8,nan", "inf,1", "-1,2", "8 30"};
    for (size_t i = 0; i < sizeof bad_d / sizeof bad_d[0]; i++) {
        int n = xai_app_parse_double_list(bad_d[i], ',', 0, HUGE_VAL, d, 2);
        ck_assert_msg(n != 2, "'%s' read as a pair", bad_d[i]);
    }
}
END_TEST

/* --concepts LAYER:top=K|channels=...: every number through the shared parsers */
START_TEST(helpers_concepts_parse)
{
    concept_spec cs;
    char msg[256];
    ck_assert_int_eq(concepts_parse("conv0:channels=3,1", &cs, msg, sizeof msg), 0);
    ck_assert(cs.top == 0 && cs.nchannels == 2 && cs.channels[0] == 3 && cs.channels[1] == 1);
    ck_assert_int_eq(concepts_parse("conv0:top=5", &cs, msg, sizeof msg), 0);
    ck_assert_int_eq(cs.top, 5);
    ck_assert_int_eq(concepts_parse("conv0", &cs, msg, sizeof msg), 0);
    ck_assert_int_eq(cs.top, 8);
    static const char *const bad[] = {"conv0:channels=3,", "conv0:channels=,3", "conv0:channels=", "conv0:channels=1,x",
                                      "conv0:channels=-1", "conv0:top=0", "conv0:top=1025", "conv0:top=",
                                      "conv0:top=99999999999999999999", "conv0:top=2x", ":top=2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msg[0] = '\0';
        ck_assert_msg(concepts_parse(bad[i], &cs, msg, sizeof msg) == -1, "'%s' accepted", bad[i]);
        ck_assert_msg(strstr(msg, "--concepts") != NULL, "'%s': %s", bad[i], msg);
    }
}
END_TEST

START_TEST(helpers_strdup_printf)
{
    char *s = xai_app_strdup_printf("%s/%d_%s", "dir", 7, "x.tsv");
    ck_assert_str_eq(s, "dir/7_x.tsv");
    free(s);
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    s = xai_app_strdup_printf("<%s>", big);
    ck_assert_uint_eq(strlen(s), sizeof big + 1);
    ck_assert_int_eq(s[0], '<');
    ck_assert_int_eq(s[sizeof big], '>');
    free(s);
}
END_TEST

static int usage_calls;
static void count_usage(void) { usage_calls++; }

START_TEST(helpers_leading_args)
{
    xai_app app;
    app_new(&app);
    char *none[] = {"xai-test", NULL}, *help[] = {"xai-test", "--help", NULL}, *h[] = {"xai-test", "-h", NULL},
         *ver[] = {"xai-test", "--version", NULL}, *cmd[] = {"xai-test", "train", NULL};
    capture c;
    capture_begin(&c, 2);
    ck_assert_int_eq(xai_app_leading_args(&app, 1, none, "missing command: a or b", count_usage), XAI_EXIT_USAGE);
    char *err = capture_end(&c);
    ck_assert_ptr_nonnull(strstr(err, "xai-test: missing command: a or b"));
    free(err);
    usage_calls = 0;
    ck_assert_int_eq(xai_app_leading_args(&app, 2, help, "m", count_usage), XAI_EXIT_OK);
    ck_assert_int_eq(xai_app_leading_args(&app, 2, h, "m", count_usage), XAI_EXIT_OK);
    ck_assert_int_eq(usage_calls, 2);
    capture_begin(&c, 1);
    ck_assert_int_eq(xai_app_leading_args(&app, 2, ver, "m", count_usage), XAI_EXIT_OK);
    char *out = capture_end(&c);
    ck_assert_str_eq(out, "xai-test (libxai) 1.2.3\n");
    free(out);
    ck_assert_int_eq(xai_app_leading_args(&app, 2, cmd, "m", count_usage), -1);
    ck_assert_int_eq(usage_calls, 2);
    xai_app_free(&app);
}
END_TEST

START_TEST(helpers_train_config)
{
    xai_train_config cfg, def;
    xai_train_config_init(&def);
    xai_app_train_config(&cfg, 12, 48, 0.5, 0.25, 3, 77);
    ck_assert_int_eq(cfg.epochs, 12);
    ck_assert_int_eq(cfg.batch, 48);
    ck_assert(cfg.lr == 0.5f);
    ck_assert(cfg.val_split == 0.25f);
    ck_assert_int_eq(cfg.patience, 3);
    ck_assert_uint_eq(cfg.seed, 77);
    ck_assert_int_eq(cfg.optimizer, def.optimizer); /* the rest keeps the defaults */
    ck_assert(cfg.momentum == def.momentum);
    ck_assert(cfg.progress == NULL);
}
END_TEST

START_TEST(helpers_write_png)
{
    char *dir = xai_test_tmpdir();
    xai_app app;
    app_new(&app);
    cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 7, 5);
    char path[4200];
    snprintf(path, sizeof path, "%s/out.png", dir);
    ck_assert_int_eq(xai_app_write_png(&app, sf, path, "cannot draw", "cannot write"), 0);
    cairo_surface_destroy(sf);
    size_t n = 0;
    unsigned char *png = xai_test_read_file(path, &n);
    ck_assert_uint_gt(n, 8);
    ck_assert_int_eq(memcmp(png, "\x89PNG\r\n\x1a\n", 8), 0);
    free(png);
    cairo_surface_t *back = cairo_image_surface_create_from_png(path);
    ck_assert_int_eq(cairo_surface_status(back), CAIRO_STATUS_SUCCESS);
    ck_assert_int_eq(cairo_image_surface_get_width(back), 7);
    ck_assert_int_eq(cairo_image_surface_get_height(back), 5);
    cairo_surface_destroy(back);
    /* a surface in an error state: the draw message, no output, no temp left behind */
    cairo_surface_t *bad = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, -1, 5);
    ck_assert_int_ne(cairo_surface_status(bad), CAIRO_STATUS_SUCCESS);
    snprintf(path, sizeof path, "%s/bad.png", dir);
    capture c;
    capture_begin(&c, 2);
    ck_assert_int_eq(xai_app_write_png(&app, bad, path, "cannot draw", "cannot write"), -1);
    char *err = capture_end(&c);
    ck_assert_ptr_nonnull(strstr(err, "bad.png: cannot draw: "));
    free(err);
    cairo_surface_destroy(bad);
    struct stat st;
    ck_assert_int_ne(stat(path, &st), 0);
    ck_assert_int_eq(count_entries(dir, "tmp"), 0);
    ck_assert_int_eq(count_entries(dir, NULL), 1);
    xai_app_free(&app);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- sidecars ---- */

START_TEST(sidecar_paths)
{
    static const char *const cases[][2] = {
        {"out/sub-01_bold.nii.gz", "out/sub-01_bold.json"},
        {"a.nii", "a.json"},
        {"x/rel.npy", "x/rel.json"},
        {"sub-01_channels.tsv", "sub-01_channels.json"},
        {"sub-01_physio.tsv.gz", "sub-01_physio.json"},
        {"fig.png", "fig.json"},
        {"fig.svg", "fig.json"},
        {"fig.pdf", "fig.json"},
        {"model.onnx", "model.json"},
        {"rec.edf", "rec.json"},
        {"speech.wav", "speech.json"},
        {"walk.c3d", "walk.json"},
        {"dir.v2/table.tsv", "dir.v2/table.json"},
        {"data.bin", "data.bin.json"},  /* unknown: appended, never clobbering */
        {"noext", "noext.json"},
        {"out.json", "out.json.json"},
        {"d/.nii", "d/.nii.json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = xai_app_sidecar_path(cases[i][0]);
        ck_assert_ptr_nonnull(s);
        ck_assert_msg(strcmp(s, cases[i][1]) == 0, "%s -> %s", cases[i][0], s);
        free(s);
    }
}
END_TEST

START_TEST(sidecar_content)
{
    char *dir = xai_test_tmpdir();
    char *argv[] = {"/build/apps/xai-eeg", "explain", "--model", "m 1.onnx", NULL};
    xai_app app;
    xai_app_init(&app, "xai-eeg", "0.4.2", 4, argv);
    const char *out = xai_test_path(dir, "sub-01_task-x_desc-lrp_relevance.nii.gz");
    ck_assert_int_eq(xai_app_write_sidecar(&app, out,
                                           "{\"Method\": \"lrp\", \"Parameters\": {\"epsilon\": 0.25},"
                                           " \"Logits\": [1.5, -2], \"Version\": \"spoofed\"}"),
                     0);
    const char *js = xai_test_path(dir, "sub-01_task-x_desc-lrp_relevance.json");
    json_error_t e;
    json_t *root = json_load_file(js, 0, &e);
    ck_assert_msg(root != NULL, "%s", e.text);
    ck_assert_str_eq(json_string_value(json_object_get(root, "CommandLine")),
                     "xai-eeg explain --model 'm 1.onnx'");
    ck_assert_str_eq(json_string_value(json_object_get(root, "Version")), "0.4.2");
    ck_assert_str_eq(json_string_value(json_object_get(root, "DateTime")), app.datetime);
    ck_assert_str_eq(json_string_value(json_object_get(root, "Method")), "lrp");
    ck_assert(json_real_value(json_object_get(json_object_get(root, "Parameters"), "epsilon")) == 0.25);
    ck_assert_uint_eq(json_array_size(json_object_get(root, "Logits")), 2);
    ck_assert_uint_eq(json_object_size(root), 6);
    json_decref(root);
    /* indented, keys sorted, final newline */
    size_t n;
    char *txt = xai_test_read_file(js, &n);
    ck_assert_uint_gt(n, 2);
    ck_assert_int_eq(txt[n - 1], '\n');
    txt[n - 1] = '\0';
    ck_assert_ptr_nonnull(strstr(txt, "\n  \"CommandLine\""));
    ck_assert(strstr(txt, "\"CommandLine\"") < strstr(txt, "\"DateTime\""));
    ck_assert(strstr(txt, "\"DateTime\"") < strstr(txt, "\"Logits\""));
    ck_assert(strstr(txt, "\"Parameters\"") < strstr(txt, "\"Version\""));
    free(txt);

    /* no extras */
    const char *out2 = xai_test_path(dir, "plain.npy");
    ck_assert_int_eq(xai_app_write_sidecar(&app, out2, NULL), 0);
    root = json_load_file(xai_test_path(dir, "plain.json"), 0, &e);
    ck_assert_ptr_nonnull(root);
    ck_assert_uint_eq(json_object_size(root), 3);
    json_decref(root);

    /* bad extras: refused, nothing written */
    capture c;
    capture_begin(&c, 2);
    ck_assert_int_eq(xai_app_write_sidecar(&app, xai_test_path(dir, "bad1.png"), "[1, 2]"), -1);
    ck_assert_int_eq(xai_app_write_sidecar(&app, xai_test_path(dir, "bad2.png"), "{\"a\": "), -1);
    char *err = capture_end(&c);
    ck_assert_ptr_nonnull(strstr(err, "bad1.json"));
    ck_assert_ptr_nonnull(strstr(err, "bad2.json"));
    free(err);
    ck_assert_int_eq(count_entries(dir, "bad"), 0);
    ck_assert_int_eq(count_entries(dir, "tmp"), 0);
    xai_app_free(&app);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- BIDS ---- */

START_TEST(bids_parse_format)
{
    xai_bids_name b;
    ck_assert_int_eq(xai_bids_parse("/data/ds/sub-01/ses-a/func/sub-01_ses-a_task-rest_run-1_bold.nii.gz", &b), 0);
    ck_assert_int_eq(b.n, 4);
    ck_assert_str_eq(b.key[0], "sub");
    ck_assert_str_eq(b.key[3], "run");
    ck_assert_str_eq(xai_bids_get(&b, "sub"), "01");
    ck_assert_str_eq(xai_bids_get(&b, "ses"), "a");
    ck_assert_str_eq(xai_bids_get(&b, "task"), "rest");
    ck_assert_str_eq(xai_bids_get(&b, "run"), "1");
    ck_assert_ptr_null(xai_bids_get(&b, "acq"));
    ck_assert_str_eq(b.suffix, "bold");
    ck_assert_str_eq(b.extension, ".nii.gz");
    char buf[256];
    ck_assert_str_eq(xai_bids_format(&b, NULL, NULL, buf, sizeof buf), "sub-01_ses-a_task-rest_run-1_bold.nii.gz");
    ck_assert_ptr_eq(xai_bids_format(&b, "relevance", "npy", buf, sizeof buf), buf);
    ck_assert_str_eq(buf, "sub-01_ses-a_task-rest_run-1_relevance.npy");

    /* round trips of canonical names */
    static const char *const names[] = {
        "sub-01_task-motor_run-2_eeg.edf",
        "sub-01_task-motor_events.tsv",
        "sub-1_ses-pre_task-gait_tracksys-x_motion.tsv.gz",
        "sub-01_task-a_acq-fast_ce-gd_rec-mag_dir-AP_run-3_echo-2_part-mag_bold.nii",
        "sub-01_hemi-L_space-MNI152NLin2009cAsym_res-2_desc-lrp_relevance.nii.gz",
        "sub-01_channels.tsv",
        "dataset.json",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ck_assert_msg(xai_bids_parse(names[i], &b) == 0, "%s", names[i]);
        ck_assert_str_eq(xai_bids_format(&b, NULL, NULL, buf, sizeof buf), names[i]);
    }

    /* directories and a name without suffix or extension */
    ck_assert_int_eq(xai_bids_parse("ds/sub-07/", &b), 0);
    ck_assert_int_eq(b.n, 1);
    ck_assert_str_eq(xai_bids_get(&b, "sub"), "07");
    ck_assert_str_eq(b.suffix, "");
    ck_assert_str_eq(b.extension, "");
    ck_assert_int_eq(xai_bids_parse("sub-07_ses-2", &b), 0);
    ck_assert_int_eq(b.n, 2);

    /* malformed names are refused and leave an empty result */
    static const char *const bad[] = {
        "", "/", "sub-01__bold.nii", "sub-01_bold_", "bold_sub-01.nii", "sub-01_sub-02_bold.nii",
        "sub-0!_bold.nii", "sub-_bold.nii", "-01_bold.nii", "sub-01_bold.", "sub-01_bold.nii..gz",
        "sub-01_bold.n-i", ".nii", "sub-01_a-1_b-1_c-1_d-1_e-1_f-1_g-1_h-1_i-1_j-1_k-1_l-1_x.nii",
        "sub-01234567890123456789012345678901234567890123456789012345678901234_bold.nii",
        "subjectidentifierx-01_bold.nii", "sub-01_verylongsuffixthatexceedsthirtytwochars_bold.nii",
        "sub-01_boldsuffixwaytoolongtofitinthefield.nii",
        "sub-01_bold.verylongextension.gz",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b.n = 5;
        ck_assert_msg(xai_bids_parse(bad[i], &b) == -1, "accepted '%s'", bad[i]);
        ck_assert_int_eq(b.n, 0);
    }
    /* exactly 12 entities fit */
    ck_assert_int_eq(xai_bids_parse("sub-01_a-1_b-1_c-1_d-1_e-1_f-1_g-1_h-1_i-1_j-1_k-1_l-1_x.nii", &b), -1);
    ck_assert_int_eq(xai_bids_parse("sub-01_a-1_b-1_c-1_d-1_e-1_f-1_g-1_h-1_i-1_j-1_k-1_x.nii", &b), 0);
    ck_assert_int_eq(b.n, 12);
    ck_assert_int_eq(xai_bids_parse("sub-01_a-1_b-1_c-1_d-1_e-1_f-1_g-1_h-1_i-1_j-1_k-1.nii", &b), 0);
    ck_assert_int_eq(b.n, 12);

    /* too small a buffer gives an empty string, never a truncated name */
    ck_assert_int_eq(xai_bids_parse("sub-01_task-rest_bold.nii.gz", &b), 0);
    char small[10];
    ck_assert_str_eq(xai_bids_format(&b, NULL, NULL, small, sizeof small), "");
    char exact[29];
    ck_assert_str_eq(xai_bids_format(&b, NULL, NULL, exact, sizeof exact), "sub-01_task-rest_bold.nii.gz");
    ck_assert_str_eq(xai_bids_format(&b, NULL, NULL, exact, sizeof exact - 1), "");
}
END_TEST

START_TEST(bids_entity_order)
{
    xai_bids_name b;
    ck_assert_int_eq(xai_bids_parse("sub-01_task-x_run-2_bold.nii.gz", &b), 0);
    xai_bids_set(&b, "desc", "lrp");
    xai_bids_set(&b, "space", "MNI");
    xai_bids_set(&b, "ses", "a");
    xai_bids_set(&b, "acq", "hi");
    xai_bids_set(&b, "echo", "1");
    char buf[256];
    ck_assert_str_eq(xai_bids_format(&b, "relevance", ".nii.gz", buf, sizeof buf),
                     "sub-01_ses-a_task-x_acq-hi_run-2_echo-1_space-MNI_desc-lrp_relevance.nii.gz");
    /* set keeps the storage itself in BIDS order */
    static const char *const order[] = {"sub", "ses", "task", "acq", "run", "echo", "space", "desc"};
    ck_assert_int_eq(b.n, 8);
    for (int i = 0; i < 8; i++)
        ck_assert_str_eq(b.key[i], order[i]);
    /* replace, remove */
    xai_bids_set(&b, "run", "3");
    xai_bids_set(&b, "acq", NULL);
    xai_bids_set(&b, "echo", NULL);
    xai_bids_set(&b, "nothere", NULL);
    ck_assert_str_eq(xai_bids_format(&b, NULL, NULL, buf, sizeof buf),
                     "sub-01_ses-a_task-x_run-3_space-MNI_desc-lrp_bold.nii.gz");
    /* names parsed out of order are written in BIDS order; unknown keys go last */
    ck_assert_int_eq(xai_bids_parse("desc-z_task-x_foo-1_sub-01_bold.nii", &b), 0);
    ck_assert_str_eq(xai_bids_format(&b, NULL, NULL, buf, sizeof buf), "sub-01_task-x_desc-z_foo-1_bold.nii");
    /* every BIDS entity in spec order */
    static const char *const all[] = {"sub", "ses", "sample", "task", "acq", "ce", "trc", "stain",
                                      "rec", "dir", "run", "mod", "echo", "flip", "inv", "mt",
                                      "part", "proc", "hemi", "space", "split", "recording",
                                      "chunk", "atlas", "roi", "res", "den", "label", "desc"};
    const int nall = (int)(sizeof all / sizeof all[0]);
    for (int start = 0; start < nall; start += XAI_BIDS_MAX_ENTITIES) {
        memset(&b, 0, sizeof b);
        int end = start + XAI_BIDS_MAX_ENTITIES < nall ? start + XAI_BIDS_MAX_ENTITIES : nall;
        for (int i = end - 1; i >= start; i--) /* added in reverse */
            xai_bids_set(&b, all[i], "1");
        ck_assert_int_eq(b.n, end - start);
        for (int i = start; i < end; i++)
            ck_assert_str_eq(b.key[i - start], all[i]);
    }
    /* a full name ignores further entities */
    ck_assert_int_eq(b.n, nall - 2 * XAI_BIDS_MAX_ENTITIES);
    memset(&b, 0, sizeof b);
    for (int i = 0; i < XAI_BIDS_MAX_ENTITIES + 2; i++)
        xai_bids_set(&b, all[i], "1");
    ck_assert_int_eq(b.n, XAI_BIDS_MAX_ENTITIES);
}
END_TEST

START_TEST(bids_dataset_description)
{
    char *dir = xai_test_tmpdir();
    xai_app app;
    app_new(&app);
    char out[4200];
    snprintf(out, sizeof out, "%s/derivatives/xai-test", dir);
    ck_assert_int_eq(xai_bids_write_dataset_description(&app, out, "libxai relevance"), 0);
    char p[4300];
    snprintf(p, sizeof p, "%s/dataset_description.json", out);
    json_error_t e;
    json_t *root = json_load_file(p, 0, &e);
    ck_assert_msg(root != NULL, "%s", e.text);
    ck_assert_str_eq(json_string_value(json_object_get(root, "Name")), "libxai relevance");
    ck_assert_str_eq(json_string_value(json_object_get(root, "BIDSVersion")), "1.9.0");
    ck_assert_str_eq(json_string_value(json_object_get(root, "DatasetType")), "derivative");
    json_t *gen = json_object_get(root, "GeneratedBy");
    ck_assert(json_is_array(gen));
    ck_assert_uint_eq(json_array_size(gen), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(gen, 0), "Name")), "xai-test");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(gen, 0), "Version")), "1.2.3");
    json_decref(root);

    /* an existing description is kept without --force (participant jobs share it) */
    FILE *f = fopen(p, "w");
    fputs("{\"Name\": \"mine\"}\n", f);
    fclose(f);
    ck_assert_int_eq(xai_bids_write_dataset_description(&app, out, "other"), 0);
    root = json_load_file(p, 0, &e);
    ck_assert_str_eq(json_string_value(json_object_get(root, "Name")), "mine");
    json_decref(root);
    app.force = 1;
    ck_assert_int_eq(xai_bids_write_dataset_description(&app, out, "other"), 0);
    root = json_load_file(p, 0, &e);
    ck_assert_str_eq(json_string_value(json_object_get(root, "Name")), "other");
    json_decref(root);
    ck_assert_int_eq(count_entries(out, NULL), 1);
    xai_app_free(&app);
    xai_test_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- shards ---- */

/* the batch readers: status lines as xai_batch_status_write() writes them, and input lists */
START_TEST(batch_readers)
{
    char d[65];
    static const char done[] = "done 0123abcd\n", failed[] = "failed 3 beef\n";
    ck_assert_int_eq(xai_batch_status_parse(done, strlen(done), d), 0);
    ck_assert_str_eq(d, "0123abcd");
    ck_assert_int_eq(xai_batch_status_parse(failed, strlen(failed), d), 3);
    ck_assert_str_eq(d, "beef");
    static const char *const bad[] = {"", "done", "failed 3", "failed 0 beef", "failed x beef", "finished ab",
                                      "failed 300 beef"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(xai_batch_status_parse(bad[i], strlen(bad[i]), d) == -1, "'%s' read", bad[i]);
    char longd[100];
    memset(longd, 'a', sizeof longd);
    memcpy(longd, "done ", 5);
    ck_assert_int_eq(xai_batch_status_parse(longd, sizeof longd, d), 0);
    ck_assert_int_eq((int)strlen(d), 64); /* the digest is cut at 64 bytes */
    static const char list[] = "# inputs\nsub-01/a.npy\r\n\n#b.npy\nsub-02 c.npy\nlast.npy";
    char **v;
    int n, line = 0;
    ck_assert_int_eq(xai_batch_list_parse(list, strlen(list), &v, &n, &line), 0);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(v[0], "sub-01/a.npy");
    ck_assert_str_eq(v[1], "sub-02 c.npy");
    ck_assert_str_eq(v[2], "last.npy");
    ck_assert_ptr_null(v[3]);
    xai_batch_list_free(v, n);
    static const char nul[] = "a.npy\nb\0.npy\n";
    ck_assert_int_eq(xai_batch_list_parse(nul, sizeof nul - 1, &v, &n, &line), -2);
    ck_assert(line == 2 && !v && n == 0);
    ck_assert_int_eq(xai_batch_list_parse("", 0, &v, &n, &line), 0);
    ck_assert(!v && n == 0);
}
END_TEST

START_TEST(shards)
{
    int k = 0, n = 0;
    ck_assert_int_eq(xai_app_parse_shard("1/1", &k, &n), 0);
    ck_assert(k == 1 && n == 1);
    ck_assert_int_eq(xai_app_parse_shard("3/8", &k, &n), 0);
    ck_assert(k == 3 && n == 8);
    static const char *const bad[] = {"0/4", "5/4", "4", "/4", "1/", "1/0", "-1/4", "1/-4", "a/b",
                                      "1/4x", "1x/4", "", " 1/4", "1//4", "99999999999999999999/2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        k = n = -7;
        ck_assert_msg(xai_app_parse_shard(bad[i], &k, &n) == -1, "accepted '%s'", bad[i]);
        ck_assert(k == -7 && n == -7);
    }
    /* every item in exactly one shard, and shards balanced to within one item */
    for (int nn = 1; nn <= 9; nn++) {
        int per[10] = {0};
        for (int64_t i = 0; i < 101; i++) {
            int owners = 0;
            for (int kk = 1; kk <= nn; kk++)
                if (xai_app_in_shard(i, kk, nn)) {
                    owners++;
                    per[kk]++;
                }
            ck_assert_int_eq(owners, 1);
        }
        for (int kk = 1; kk <= nn; kk++)
            ck_assert_int_le(abs(per[kk] - 101 / nn), 1);
    }
    ck_assert(xai_app_in_shard(0, 1, 3));
    ck_assert(xai_app_in_shard(4, 2, 3));
    ck_assert(!xai_app_in_shard(4, 1, 3));
}
END_TEST

/* ---- progress ---- */

START_TEST(progress_json)
{
    xai_app app;
    app_new(&app);
    FILE *f = tmpfile();
    xai_app_progress_set_stream(&app, f);
    ck_assert_int_eq(xai_app_handle_option(&app, XAI_APP_OPT_PROGRESS, "json"), 1);
    xai_app_progress_begin(&app, "explain", 3);
    xai_app_progress_step(&app, 1, "sub-01");
    xai_app_progress_step(&app, 2, "sub-\"02\"");
    xai_app_progress_step(&app, 3, NULL);
    xai_app_progress_end(&app);
    char *s = read_stream(f);
    fclose(f);
    ck_assert_int_eq(count_char(s, '\n'), 3);
    char *line = s;
    for (int i = 1; i <= 3; i++) {
        char *nl = strchr(line, '\n');
        *nl = '\0';
        json_error_t e;
        json_t *o = json_loads(line, 0, &e);
        ck_assert_msg(o != NULL, "%s: %s", line, e.text);
        ck_assert_str_eq(json_string_value(json_object_get(o, "task")), "explain");
        ck_assert_int_eq(json_integer_value(json_object_get(o, "done")), i);
        ck_assert_int_eq(json_integer_value(json_object_get(o, "total")), 3);
        ck_assert(json_is_number(json_object_get(o, "elapsed_s")));
        ck_assert(json_number_value(json_object_get(o, "elapsed_s")) >= 0);
        json_t *item = json_object_get(o, "item");
        if (i == 1)
            ck_assert_str_eq(json_string_value(item), "sub-01");
        else if (i == 2)
            ck_assert_str_eq(json_string_value(item), "sub-\"02\"");
        else
            ck_assert(json_is_null(item));
        ck_assert_uint_eq(json_object_size(o), 5);
        json_decref(o);
        line = nl + 1;
    }
    free(s);
    xai_app_free(&app);
}
END_TEST

START_TEST(progress_lines)
{
    xai_app app;
    app_new(&app);
    FILE *f = tmpfile();
    xai_app_progress_set_stream(&app, f);
    /* auto on a regular file: lines */
    ck_assert_int_eq(xai_app_progress_resolve(&app), XAI_PROGRESS_LINES);
    xai_app_progress_begin(&app, "epochs", 5);
    for (int i = 1; i <= 5; i++)
        xai_app_progress_step(&app, i, "e");
    xai_app_progress_end(&app);
    char *s = read_stream(f);
    /* the first line at once, the rest within the same second, then the last */
    ck_assert_int_eq(count_char(s, '\n'), 2);
    ck_assert_ptr_nonnull(strstr(s, "xai-test: epochs: 1/5 (20%)"));
    ck_assert_ptr_nonnull(strstr(s, "5/5 (100%)"));
    ck_assert_ptr_nonnull(strstr(s, "ETA"));
    ck_assert_ptr_null(strchr(s, '\r'));
    free(s);

    /* the last count is printed by end() when the final step was suppressed */
    rewind(f);
    ck_assert_int_eq(ftruncate(fileno(f), 0), 0);
    xai_app_progress_begin(&app, "files", 0); /* unknown total */
    xai_app_progress_step(&app, 1, "a");
    xai_app_progress_step(&app, 2, "b");
    xai_app_progress_end(&app);
    s = read_stream(f);
    ck_assert_int_eq(count_char(s, '\n'), 2);
    ck_assert_ptr_nonnull(strstr(s, "files: 1 "));
    ck_assert_ptr_nonnull(strstr(s, "files: 2 "));
    free(s);
    fclose(f);
    xai_app_free(&app);
}
END_TEST

START_TEST(progress_bar)
{
    xai_app app;
    app_new(&app);
    FILE *f = tmpfile();
    xai_app_progress_set_stream(&app, f);
    ck_assert_int_eq(xai_app_handle_option(&app, XAI_APP_OPT_PROGRESS, "bar"), 1);
    xai_app_progress_begin(&app, "volumes", 40);
    for (int i = 1; i <= 40; i++)
        xai_app_progress_step(&app, i, "vol");
    xai_app_progress_end(&app);
    char *s = read_stream(f);
    fclose(f);
    /* first draw and final draw only (all within 0.1 s), one final newline */
    ck_assert_int_eq(count_char(s, '\r'), 2);
    ck_assert_int_eq(count_char(s, '\n'), 1);
    ck_assert_ptr_nonnull(strstr(s, "  2% 1/40"));
    ck_assert_ptr_nonnull(strstr(s, "100% 40/40"));
    ck_assert_ptr_nonnull(strstr(s, "ETA"));
    ck_assert_ptr_nonnull(strstr(s, "[########################]"));
    ck_assert_int_eq(s[strlen(s) - 1], '\n');
    free(s);
    xai_app_free(&app);
}
END_TEST

START_TEST(progress_none_quiet)
{
    xai_app app;
    app_new(&app);
    FILE *f = tmpfile();
    xai_app_progress_set_stream(&app, f);
    /* explicit none */
    ck_assert_int_eq(xai_app_handle_option(&app, XAI_APP_OPT_PROGRESS, "none"), 1);
    xai_app_progress_begin(&app, "t", 3);
    for (int i = 1; i <= 3; i++)
        xai_app_progress_step(&app, i, "x");
    xai_app_progress_end(&app);
    /* -q with the default: none */
    xai_app_free(&app);
    app_new(&app);
    xai_app_progress_set_stream(&app, f);
    ck_assert_int_eq(xai_app_handle_option(&app, 'q', NULL), 1);
    ck_assert_int_eq(xai_app_progress_resolve(&app), XAI_PROGRESS_NONE);
    xai_app_progress_begin(&app, "t", 3);
    for (int i = 1; i <= 3; i++)
        xai_app_progress_step(&app, i, "x");
    xai_app_progress_end(&app);
    char *s = read_stream(f);
    ck_assert_str_eq(s, "");
    free(s);
    /* -q with an explicit --progress json still reports */
    ck_assert_int_eq(xai_app_handle_option(&app, XAI_APP_OPT_PROGRESS, "json"), 1);
    ck_assert_int_eq(xai_app_progress_resolve(&app), XAI_PROGRESS_JSON);
    xai_app_progress_begin(&app, "t", 1);
    xai_app_progress_step(&app, 1, "x");
    xai_app_progress_end(&app);
    s = read_stream(f);
    ck_assert_int_eq(count_char(s, '\n'), 1);
    free(s);
    fclose(f);
    xai_app_free(&app);
}
END_TEST

/* auto resolves to the bar on a terminal (a pseudo-terminal here), lines elsewhere. */
START_TEST(progress_auto_tty)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 || !ptsname(m)) {
        if (m >= 0)
            close(m);
        return; /* no pseudo-terminals in this sandbox: the regular-file case is tested */
    }
    FILE *tty = fopen(ptsname(m), "w");
    ck_assert_ptr_nonnull(tty);
    xai_app app;
    app_new(&app);
    xai_app_progress_set_stream(&app, tty);
    ck_assert_int_eq(xai_app_progress_resolve(&app), XAI_PROGRESS_BAR);
    app.verbosity = 0; /* -q */
    ck_assert_int_eq(xai_app_progress_resolve(&app), XAI_PROGRESS_NONE);
    ck_assert_int_eq(xai_app_handle_option(&app, XAI_APP_OPT_PROGRESS, "auto"), 1);
    ck_assert_int_eq(xai_app_progress_resolve(&app), XAI_PROGRESS_BAR);
    FILE *f = tmpfile();
    xai_app_progress_set_stream(&app, f);
    ck_assert_int_eq(xai_app_progress_resolve(&app), XAI_PROGRESS_LINES);
    fclose(f);
    fclose(tty);
    close(m);
    xai_app_free(&app);
}
END_TEST

/* Without a stream set, progress goes to stderr (and nothing to stdout). */
START_TEST(progress_stderr)
{
    xai_app app;
    app_new(&app);
    ck_assert_int_eq(xai_app_handle_option(&app, XAI_APP_OPT_PROGRESS, "lines"), 1);
    capture ce, co;
    capture_begin(&co, 1);
    capture_begin(&ce, 2);
    xai_app_progress_begin(&app, "runs", 2);
    xai_app_progress_step(&app, 1, "run-1");
    xai_app_progress_step(&app, 2, "run-2");
    xai_app_progress_end(&app);
    char *err = capture_end(&ce);
    char *out = capture_end(&co);
    ck_assert_str_eq(out, "");
    ck_assert_ptr_nonnull(strstr(err, "xai-test: runs: 1/2 (50%)"));
    ck_assert_ptr_nonnull(strstr(err, "run-1"));
    ck_assert_ptr_nonnull(strstr(err, "xai-test: runs: 2/2 (100%)"));
    free(err);
    free(out);
    xai_app_free(&app);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("app-common");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, sha256_vectors);
    tcase_add_test(tc, sha256_file);
    tcase_add_test(tc, init_command_line);
    tcase_add_test(tc, init_command_line_program_name);
    tcase_add_test(tc, threads_default);
    tcase_add_test(tc, options);
    tcase_add_test(tc, options_getopt);
    tcase_add_test(tc, log_levels);
    tcase_add_test(tc, check_output);
    tcase_add_test(tc, atomic_write);
    tcase_add_test(tc, atomic_signal);
    tcase_add_test(tc, mkdirs);
    tcase_add_test(tc, helpers_parse_long);
    tcase_add_test(tc, helpers_parse_numbers);
    tcase_add_test(tc, helpers_parse_lists);
    tcase_add_test(tc, helpers_concepts_parse);
    tcase_add_test(tc, helpers_strdup_printf);
    tcase_add_test(tc, helpers_leading_args);
    tcase_add_test(tc, helpers_train_config);
    tcase_add_test(tc, helpers_write_png);
    tcase_add_test(tc, sidecar_paths);
    tcase_add_test(tc, sidecar_content);
    tcase_add_test(tc, bids_parse_format);
    tcase_add_test(tc, bids_entity_order);
    tcase_add_test(tc, bids_dataset_description);
    tcase_add_test(tc, shards);
    tcase_add_test(tc, batch_readers);
    tcase_add_test(tc, progress_json);
    tcase_add_test(tc, progress_lines);
    tcase_add_test(tc, progress_bar);
    tcase_add_test(tc, progress_none_quiet);
    tcase_add_test(tc, progress_auto_tty);
    tcase_add_test(tc, progress_stderr);
    suite_add_tcase(s, tc);
    return s;
}
