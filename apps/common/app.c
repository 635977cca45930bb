/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * app.c - the shared application layer: program state, common options (--force,
 * --nthreads, --progress, -q/-v, --version), messages and exit codes, the thread-count
 * default (SLURM_CPUS_PER_TASK, OMP_NUM_THREADS, online cores), the output policy
 * (no overwrite without --force, mkdir -p) and the printing wrappers of the formats
 * library's atomic writer (xai/atomic.h) with a signal handler that removes its temps.
 * Progress is in progress.c, SHA-256 in sha256.c, sidecars/BIDS/shards in bids.c.
 */
#include "app-int.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xai/model.h"
#include "xai/atomic.h"

const char *const xai_app_common_help =
    "Common options:\n"
    "  -f, --force            overwrite existing outputs [refuse]\n"
    "      --nthreads N       threads for BLAS and libxai [SLURM_CPUS_PER_TASK, else\n"
    "                         OMP_NUM_THREADS, else the online cores]\n"
    "      --progress MODE    progress on stderr: auto|bar|lines|json|none [auto: a bar on\n"
    "                         a terminal, lines otherwise; none with -q]\n"
    "  -q, --quiet            only errors\n"
    "  -v, --verbose          more messages (repeat for more)\n"
    "  -h, --help             this help\n"
    "      --version          print the version and exit\n";

static const char *prog_name(const xai_app *app)
{
    return app && app->prog ? app->prog : "xai";
}

/* Shell-safe characters that need no quoting (POSIX sh). */
static int shell_safe(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("_@%+=:,./-", c)))
            return 0;
    }
    return 1;
}

/* Quote argv POSIX-shell style: safe words as is, others in '...' with ' as '\''. */
char *xai_app_quote_words(int argc, char *const *argv)
{
    size_t cap = 1;
    for (int i = 0; i < argc; i++)
        cap += 4 * strlen(argv[i] ? argv[i] : "") + 3;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    char *p = out;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i] ? argv[i] : "";
        if (i)
            *p++ = ' ';
        if (shell_safe(a)) {
            size_t n = strlen(a);
            memcpy(p, a, n);
            p += n;
            continue;
        }
        *p++ = '\'';
        for (; *a; a++) {
            if (*a == '\'') {
                memcpy(p, "'\\''", 4);
                p += 4;
            } else {
                *p++ = *a;
            }
        }
        *p++ = '\'';
    }
    *p = '\0';
    return out;
}

/* The command line as the card and the sidecars record it: the program by its name, not the
 * folder it ran from (a build or install path leaks local folders into shared models and does
 * not help to reproduce), the arguments as given. A command meant to be run again (a group
 * step) quotes its words with xai_app_quote_words instead. */
static char *recorded_command_line(int argc, char **argv)
{
    if (argc < 1 || !argv[0])
        return xai_app_quote_words(argc, argv);
    char **w = malloc(sizeof *w * (size_t)argc);
    if (!w)
        return NULL;
    memcpy(w, argv, sizeof *w * (size_t)argc);
    char *slash = strrchr(argv[0], '/');
    if (slash && slash[1])
        w[0] = slash + 1;
    char *s = xai_app_quote_words(argc, w);
    free(w);
    return s;
}

double xai_app_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void xai_app_init(xai_app *app, const char *prog, const char *version, int argc, char **argv)
{
    memset(app, 0, sizeof *app);
    app->prog = prog;
    app->version = version;
    app->command_line = recorded_command_line(argc, argv);
    time_t t = time(NULL);
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(app->datetime, sizeof app->datetime, "%Y-%m-%dT%H:%M:%SZ", &tm);
    app->verbosity = 1;
    app->nthreads = xai_app_default_threads();
    app->progress = XAI_PROGRESS_AUTO;
    app->progress_active = XAI_PROGRESS_NONE;
    app->t_start = xai_app_now();
    app->done_shown = -1;
}

void xai_app_free(xai_app *app)
{
    if (!app)
        return;
    free(app->command_line);
    app->command_line = NULL;
}

/* A positive count from the environment: digits only (no sign or blank), <= max; -1 when invalid. */
static long parse_positive(const char *s, long max)
{
    long v;
    return *s >= '0' && *s <= '9' && xai_app_parse_long(s, 1, max, &v) == 0 ? v : -1;
}

int xai_app_default_threads(void)
{
    static const char *const vars[] = {"SLURM_CPUS_PER_TASK", "OMP_NUM_THREADS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *s = getenv(vars[i]);
        /* OMP_NUM_THREADS may be a list ("4,2"): its first level counts */
        char buf[32];
        if (!s)
            continue;
        size_t n = strcspn(s, ",");
        if (n == 0 || n >= sizeof buf)
            continue;
        memcpy(buf, s, n);
        buf[n] = '\0';
        long v = parse_positive(buf, 4096);
        if (v > 0)
            return (int)v;
    }
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (int)(c > 4096 ? 4096 : c) : 1;
}

int xai_app_parse_progress(const char *s, xai_progress_mode *mode)
{
    static const char *const names[] = {"auto", "bar", "lines", "json", "none"};
    for (int i = 0; s && i < 5; i++) {
        if (strcmp(s, names[i]) == 0) {
            *mode = (xai_progress_mode)i;
            return 0;
        }
    }
    return -1;
}

int xai_app_getopt(xai_app *app, int argc, char **argv, const char *shortopts, const struct option *longopts,
                   xai_app_option_fn fn, void *ctx)
{
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        int h = xai_app_handle_option(app, c == 'V' ? XAI_APP_OPT_VERSION : c, optarg);
        if (h == 2 || h < 0)
            return h == 2 ? -1 : XAI_EXIT_USAGE;
        if (h == 1)
            continue;
        if (c == ':')
            return xai_app_usage_error(app, "option '%s' needs a value", argv[optind - 1]);
        int rc = c == '?' ? XAI_APP_NOT_MINE : fn(ctx, c, optarg);
        if (rc == XAI_APP_NOT_MINE)
            return xai_app_usage_error(app, "unknown option '%s'", argv[optind - 1]);
        if (rc)
            return rc;
    }
    return 0;
}

int xai_app_handle_option(xai_app *app, int code, const char *arg)
{
    switch (code) {
    case XAI_APP_OPT_FORCE:
    case 'f':
        app->force = 1;
        return 1;
    case XAI_APP_OPT_NTHREADS: {
        long v = parse_positive(arg, 4096);
        if (v < 0) {
            xai_app_usage_error(app, "--nthreads: invalid value '%s' (expected an integer 1..4096)",
                                arg ? arg : "");
            return -1;
        }
        app->nthreads = (int)v;
        return 1;
    }
    case XAI_APP_OPT_PROGRESS:
        if (xai_app_parse_progress(arg, &app->progress) != 0) {
            xai_app_usage_error(app, "--progress: invalid value '%s' (expected auto, bar, lines, json or none)",
                                arg ? arg : "");
            return -1;
        }
        app->progress_explicit = 1;
        return 1;
    case XAI_APP_OPT_QUIET:
    case 'q':
        app->verbosity = 0;
        return 1;
    case XAI_APP_OPT_VERBOSE:
    case 'v':
        app->verbosity = (app->verbosity < 1 ? 1 : app->verbosity) + 1;
        return 1;
    case XAI_APP_OPT_VERSION:
        printf("%s (libxai) %s\n", prog_name(app), app->version ? app->version : "");
        fflush(stdout);
        return 2;
    default:
        return 0;
    }
}

void xai_app_apply_threads(const xai_app *app)
{
    xai_set_num_threads(app->nthreads > 0 ? app->nthreads : 0);
}

/* Remove a progress bar from the terminal before a message is printed. */
void xai_app_clear_bar(const xai_app *app)
{
    if (app && app->bar_drawn) {
        FILE *s = app->progress_stream ? app->progress_stream : stderr;
        fputs("\r\033[K", s);
        fflush(s);
        /* the bar is redrawn on the next step */
        ((xai_app *)app)->bar_drawn = 0;
    }
}

/* The run's warnings and errors, kept (bounded) for the HTML report (report-app.c). */
#define APP_MAX_MESSAGES 2000
static char *app_msg_text[APP_MAX_MESSAGES];
static int app_msg_error[APP_MAX_MESSAGES];
static size_t app_nmsg;

static void app_record(int is_error, const char *file, const char *fmt, va_list ap)
{
    if (app_nmsg >= APP_MAX_MESSAGES)
        return;
    char body[2048];
    vsnprintf(body, sizeof body, fmt, ap);
    size_t n = strlen(body) + (file ? strlen(file) + 2 : 0) + 1;
    char *m = malloc(n);
    if (!m)
        return;
    snprintf(m, n, "%s%s%s", file ? file : "", file ? ": " : "", body);
    app_msg_error[app_nmsg] = is_error;
    app_msg_text[app_nmsg++] = m;
}

size_t xai_app_messages(const char *const **texts, const int **is_error)
{
    if (texts)
        *texts = (const char *const *)app_msg_text;
    if (is_error)
        *is_error = app_msg_error;
    return app_nmsg;
}

int xai_app_fail(const xai_app *app, const char *file, const char *fmt, ...)
{
    xai_app_clear_bar(app);
    va_list ap;
    va_start(ap, fmt);
    app_record(1, file, fmt, ap);
    va_end(ap);
    va_start(ap, fmt);
    if (file)
        fprintf(stderr, "%s: %s: ", prog_name(app), file);
    else
        fprintf(stderr, "%s: ", prog_name(app));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return XAI_EXIT_DATA;
}

int xai_app_usage_error(const xai_app *app, const char *fmt, ...)
{
    xai_app_clear_bar(app);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog_name(app));
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", prog_name(app));
    va_end(ap);
    return XAI_EXIT_USAGE;
}

void xai_app_log(const xai_app *app, int level, const char *fmt, ...)
{
    va_list ap;
    if (!strncmp(fmt, "warning", 7)) { /* kept for the report even under -q */
        va_start(ap, fmt);
        app_record(0, NULL, strncmp(fmt, "warning: ", 9) ? fmt : fmt + 9, ap);
        va_end(ap);
    }
    if (app && app->verbosity < level)
        return;
    xai_app_clear_bar(app);
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog_name(app));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int xai_app_check_output(const xai_app *app, const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0; /* absent (or unreachable: the write itself will report that) */
    if (app && app->force)
        return 0;
    xai_app_fail(app, path, "exists; use --force to overwrite");
    return -1;
}

int xai_app_mkdirs(const xai_app *app, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 0)
        return 0;
    char *p = malloc(n + 1);
    if (!p) {
        xai_app_fail(app, dir, "out of memory");
        return -1;
    }
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        if (p[i - 1] == '/')
            continue; /* repeated slash */
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, 0777) != 0) {
            int e = errno;
            struct stat st;
            if (e != EEXIST || stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
                xai_app_fail(app, p, "cannot create directory: %s",
                             e == EEXIST ? "exists and is not a directory" : strerror(e));
                free(p);
                return -1;
            }
        }
        p[i] = saved;
    }
    free(p);
    return 0;
}

static void on_fatal_signal(int sig)
{
    xai_formats_remove_temps(); /* the one registry of temps in flight (formats) */
    signal(sig, SIG_DFL);
    raise(sig);
}

void xai_app_install_signal_handlers(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND;
        sigaction(sigs[i], &sa, NULL);
    }
}

FILE *xai_app_atomic_open(const xai_app *app, const char *path, char **tmp_path)
{
    FILE *f;
    if (xai_atomic_fopen_tmp(path, tmp_path, &f) != XAI_OK) {
        xai_app_fail(app, NULL, "%s", xai_last_error());
        return NULL;
    }
    return f;
}

int xai_app_atomic_commit(const xai_app *app, FILE *f, char *tmp_path, const char *path, int ok)
{
    if (!f || !tmp_path) {
        if (f)
            fclose(f);
        free(tmp_path);
        return -1;
    }
    if (xai_atomic_fcommit(f, tmp_path, path, ok) == XAI_OK)
        return 0;
    if (ok)
        xai_app_fail(app, NULL, "%s", xai_last_error());
    return -1;
}

void xai_app_sweep_orphans(const xai_app *app, const char *dir)
{
    int n = 0;
    if (xai_atomic_sweep_orphans(dir, &n) != XAI_OK)
        xai_app_log(app, 1, "%s", xai_last_error());
    else if (n)
        xai_app_log(app, 1, "%s: removed %d temporary file%s of an interrupted run", dir, n, n == 1 ? "" : "s");
}

int xai_app_write_atomic(const xai_app *app, const char *path, const void *data, size_t len)
{
    if (xai_atomic_write(path, data, len) == XAI_OK)
        return 0;
    xai_app_fail(app, NULL, "%s", xai_last_error());
    return -1;
}
