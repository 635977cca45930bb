/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * app.h - the shared application layer of the libxai programs (xai-eeg, xai-fmri,
 * xai-gait, xai-speech, ...): option conventions, messages and exit codes, thread count,
 * progress reporting on stderr, output policy (no overwrite without --force, atomic
 * writes), JSON sidecars with provenance, SHA-256 of inputs, BIDS names and job selection.
 * Linked into each program as a static library; never copied between apps.
 *
 * Conventions every program follows:
 *   - getopt_long; --help prints SYNOPSIS, option groups with [defaults], EXAMPLES and
 *     REFERENCES to stdout and exits 0; --version prints "PROG (libxai) VERSION".
 *   - errors: one line "PROG: FILE: what is wrong" on stderr;
 *   - exit codes: XAI_EXIT_OK 0, XAI_EXIT_DATA 1, XAI_EXIT_USAGE 2, XAI_EXIT_PARTIAL 3 (a batch
 *     finished but some items failed), XAI_EXIT_STRICT 4 (--strict: the model card warns that the
 *     model is not better than chance, never predicts a class, or loses to the linear baseline);
 *   - an output that exists is kept unless --force, and refusing it is a usage error (exit 2).
 */
#ifndef XAI_APP_H
#define XAI_APP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xai/status.h"
#include "xai/train.h"

#define XAI_EXIT_OK 0
#define XAI_EXIT_DATA 1
#define XAI_EXIT_USAGE 2
#define XAI_EXIT_PARTIAL 3
#define XAI_EXIT_STRICT 4

typedef enum { XAI_PROGRESS_AUTO = 0, XAI_PROGRESS_BAR, XAI_PROGRESS_LINES, XAI_PROGRESS_JSON,
               XAI_PROGRESS_NONE } xai_progress_mode;

/** Program-wide state: parsed common options, command line, clock. */
typedef struct xai_app {
    const char *prog;             /**< program name for messages ("xai-eeg") */
    const char *version;          /**< version string */
    char *command_line;           /**< shell-quoted, the program by name without its folder (owned) */
    char datetime[32];            /**< ISO 8601 UTC start time */
    int verbosity;                /**< 0 = -q, 1 = default, 2+ = -v */
    int force;                    /**< --force: overwrite existing outputs */
    int nthreads;                 /**< --nthreads, or the environment/cores default */
    xai_progress_mode progress;   /**< --progress */
    /* progress state */
    const char *task;
    int64_t total, done;
    double t_start, t_last;
    /* added fields (private to app.c/progress.c; zeroed by xai_app_init) */
    int progress_explicit;        /**< --progress was given (then -q does not silence it) */
    FILE *progress_stream;        /**< where progress goes; NULL = stderr */
    xai_progress_mode progress_active; /**< mode resolved by xai_app_progress_begin */
    int64_t done_shown;           /**< last count drawn/printed (-1 none) */
    int bar_drawn;                /**< a bar line is on screen (messages clear it first) */
} xai_app;

/** Initialise: records the command line and start time, sets defaults (threads from
 *  SLURM_CPUS_PER_TASK, then OMP_NUM_THREADS, then the online cores). */
void xai_app_init(xai_app *app, const char *prog, const char *version, int argc, char **argv);
void xai_app_free(xai_app *app);

/** The default thread count described above. */
int xai_app_default_threads(void);

/**
 * Long options every program accepts; append to your option table (terminated copy made
 * by the caller). Codes are XAI_APP_OPT_*. Call xai_app_handle_option() for them.
 */
enum { XAI_APP_OPT_FORCE = 0x1000, XAI_APP_OPT_NTHREADS, XAI_APP_OPT_PROGRESS, XAI_APP_OPT_QUIET,
       XAI_APP_OPT_VERBOSE, XAI_APP_OPT_VERSION };
#define XAI_APP_LONG_OPTIONS                                                                   \
    {"force", no_argument, 0, XAI_APP_OPT_FORCE}, {"nthreads", required_argument, 0, XAI_APP_OPT_NTHREADS}, \
    {"progress", required_argument, 0, XAI_APP_OPT_PROGRESS}, {"quiet", no_argument, 0, XAI_APP_OPT_QUIET}, \
    {"verbose", no_argument, 0, XAI_APP_OPT_VERBOSE}, {"version", no_argument, 0, XAI_APP_OPT_VERSION}
/** Text block describing the common options, for --help. */
extern const char *const xai_app_common_help;

/**
 * Handle one common option (also -q, -v, -f given as 'q', 'v', 'f').
 * @return 1 handled, 0 not a common option, -1 bad value (message printed; exit 2),
 *         2 --version printed (exit 0).
 */
int xai_app_handle_option(xai_app *app, int code, const char *arg);
/**
 * One program option for xai_app_getopt(): @return 0 handled, -1 stop with exit 0 (--help
 * printed), XAI_APP_NOT_MINE when @p code is not one of the program's options, else an exit code.
 */
#define XAI_APP_NOT_MINE (-2)
typedef int (*xai_app_option_fn)(void *ctx, int code, char *arg);
struct option;
/**
 * The getopt_long loop of a program: the common options (and -f, -q, -v, -V), a missing value
 * and unknown options are handled here, every other option goes to @p fn. Clears opterr.
 * @return 0 when every option is read (operands from optind), -1 for exit 0, else an exit code.
 */
int xai_app_getopt(xai_app *app, int argc, char **argv, const char *shortopts, const struct option *longopts,
                   xai_app_option_fn fn, void *ctx);
/** Apply --nthreads to OpenBLAS/libxai. Call after option parsing. */
void xai_app_apply_threads(const xai_app *app);

/** Print "PROG: FILE: message" (FILE may be NULL) and return XAI_EXIT_DATA. */
int xai_app_fail(const xai_app *app, const char *file, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/** Print "PROG: message" plus "Try 'PROG --help'" and return XAI_EXIT_USAGE. */
int xai_app_usage_error(const xai_app *app, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/** Informational message on stderr when verbosity >= level. */
void xai_app_log(const xai_app *app, int level, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/**
 * The run's messages so far, for the HTML report: every xai_app_fail() ("FILE: text",
 * *is_error 1) and every xai_app_log() whose format starts with "warning" (without that
 * word, even when -q hides it). Bounded to the first 2000. @return the count.
 */
size_t xai_app_messages(const char *const **texts, const int **is_error);

/**
 * Output policy: @return 0 when @p path may be written (absent, or --force), else prints
 * "PROG: PATH: exists; use --force to overwrite" and returns -1; the program then exits
 * XAI_EXIT_USAGE (the same rule in every program), before writing anything.
 */
int xai_app_check_output(const xai_app *app, const char *path);
/** mkdir -p; @return 0 or -1 (message printed). */
int xai_app_mkdirs(const xai_app *app, const char *dir);
/** Write @p len bytes atomically (xai/atomic.h: temp next to it, fsync, rename). 0 or -1 (printed). */
int xai_app_write_atomic(const xai_app *app, const char *path, const void *data, size_t len);
/**
 * Streaming form of the atomic write: opens the writer's temp next to PATH and
 * returns it (NULL on failure, message printed). *tmp_path receives the malloc'ed temp
 * name. Finish with xai_app_atomic_commit(): when @p ok it flushes, fsyncs and renames
 * the temp over PATH; otherwise (or on any failure) it removes the temp. Either way it
 * closes @p f and frees *tmp_path. @return 0 or -1 (message printed unless !ok).
 */
FILE *xai_app_atomic_open(const xai_app *app, const char *path, char **tmp_path);
int xai_app_atomic_commit(const xai_app *app, FILE *f, char *tmp_path, const char *path, int ok);
/**
 * On SIGINT, SIGTERM, SIGHUP and SIGPIPE remove the temporary files of writes in flight
 * (xai_app_atomic_open/xai_app_write_atomic), then die of the signal as usual, so an
 * interrupted run leaves neither a partial output nor a stray temp. Call once in main().
 */
void xai_app_install_signal_handlers(void);
/**
 * Resume paths: remove the temps that killed runs of the suite left in @p dir
 * (xai_atomic_sweep_orphans: this host, writer no longer running). Never fails the run:
 * a directory that cannot be listed is reported at -v.
 */
void xai_app_sweep_orphans(const xai_app *app, const char *dir);

/* ---- progress (stderr): bar on a terminal, one line per step otherwise, or JSON lines ----
 * bar: redrawn at most 10x/s (percent, count, elapsed, ETA); lines: at most one line per
 * second plus the last; json: one object {"task","done","total","elapsed_s","item"} per
 * step; none: nothing. @p done is the absolute count; total <= 0 means unknown. */
void xai_app_progress_begin(xai_app *app, const char *task, int64_t total);
void xai_app_progress_step(xai_app *app, int64_t done, const char *item);
void xai_app_progress_end(xai_app *app);
/** Send progress to @p stream instead of stderr (NULL = stderr again); for tests and
 *  programs that log elsewhere. The stream is borrowed, never closed. */
void xai_app_progress_set_stream(xai_app *app, FILE *stream);
/** The progress mode that xai_app_progress_begin() would use now (AUTO resolved by
 *  whether the progress stream is a terminal; -q without --progress gives NONE). */
xai_progress_mode xai_app_progress_resolve(const xai_app *app);
/** Parse "auto|bar|lines|json|none"; @return 0 or -1. */
int xai_app_parse_progress(const char *s, xai_progress_mode *mode);

/* ---- provenance ---- */
/** Lower-case hex SHA-256 (FIPS 180-4) of a file into hex[65]. @return 0 or -1. */
int xai_sha256_file(const char *path, char hex[65]);
void xai_sha256_buffer(const void *data, size_t len, char hex[65]);

/**
 * Write the JSON sidecar of an output: PATH with its extension(s) (.nii.gz, .npy, .tsv,
 * .png, ...) replaced by .json, atomically. Always holds CommandLine, Version, DateTime;
 * @p extra_json is a JSON object text whose members are merged in (e.g. ModelSHA256,
 * Method, Rule, Parameters, Target, Logits, Sources). @return 0 or -1 (printed).
 * Output keys are sorted and indented by 2; CommandLine/Version/DateTime from @p app win
 * over members of the same name in @p extra_json. An existing sidecar is replaced (the
 * overwrite policy applies to the primary output: check that with xai_app_check_output()).
 * Unknown extensions get ".json" appended ("x.bin" -> "x.bin.json").
 */
int xai_app_write_sidecar(const xai_app *app, const char *output_path, const char *extra_json);
/** The sidecar path for an output (malloc'ed). */
char *xai_app_sidecar_path(const char *output_path);
/** @p argc words joined by spaces, quoted for a POSIX shell where needed (malloc'ed), or NULL. */
char *xai_app_quote_words(int argc, char *const *argv);

/* ---- BIDS ---- */
#define XAI_BIDS_MAX_ENTITIES 12
typedef struct {
    int n;
    char key[XAI_BIDS_MAX_ENTITIES][16];
    char value[XAI_BIDS_MAX_ENTITIES][64];
    char suffix[32];       /**< "bold", "eeg", "motion", ... */
    char extension[16];    /**< ".nii.gz", ".edf", ... */
} xai_bids_name;

/** Parse "sub-01_ses-a_task-rest_run-1_bold.nii.gz" (directories ignored). 0 or -1. */
int xai_bids_parse(const char *path, xai_bids_name *out);
/** Value of an entity or NULL. */
const char *xai_bids_get(const xai_bids_name *b, const char *key);
/** Set (or add, in BIDS entity order) an entity. */
void xai_bids_set(xai_bids_name *b, const char *key, const char *value);
/** Format back to a file name into buf; @return buf. */
char *xai_bids_format(const xai_bids_name *b, const char *suffix, const char *extension, char *buf, size_t len);
/** Write OUT_DIR/dataset_description.json for a derivative (if absent or --force). 0 or -1. */
int xai_bids_write_dataset_description(const xai_app *app, const char *out_dir, const char *name);

/* ---- job selection ---- */
/** Parse "K/N" (1-based K): @return 0 or -1. */
int xai_app_parse_shard(const char *s, int *k, int *n);
/** 1 when item @p i (0-based, stable order) belongs to shard k of n. */
int xai_app_in_shard(int64_t i, int k, int n);

/* ---- small helpers shared by the programs (util.c, png.c) ---- */
/** printf into a new malloc'ed string; NULL when out of memory. */
char *xai_app_strdup_printf(const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/** The whole of a file, NUL-terminated (free() it); its length without the NUL in *len
 *  (may be NULL). NULL when it cannot be read or memory runs out (errno tells which). */
char *xai_app_read_file(const char *path, size_t *len);
/** Strict base-10 integer: the whole of @p s, no overflow, within [lo, hi]. @return 0 or -1
 *  (nothing printed; *out untouched on failure). */
int xai_app_parse_long(const char *s, long lo, long hi, long *out);
/** The value of a batch's --max-parallel (tasks, 1..100000; @p wait_timeout 0) or --wait-timeout
 *  (seconds, 1 to 30 days; @p wait_timeout 1), a strict integer: the one home of their ranges.
 *  @return 0 or -1 (nothing printed; *out untouched on failure). */
int xai_app_parse_batch_limit(const char *s, int wait_timeout, int *out);
/** Strict finite decimal number: the whole of @p s, no overflow or underflow, within [lo, hi].
 *  @return 0 or -1 (nothing printed; *out untouched on failure). */
int xai_app_parse_double(const char *s, double lo, double hi, double *out);
/** Strict finite decimal float as strtof(3) reads it (one rounding), within [lo, hi]; no
 *  overflow or underflow. @return 0 or -1 (*out untouched on failure). */
int xai_app_parse_float(const char *s, float lo, float hi, float *out);
/** Strict unsigned 64-bit integer (a seed): digits only, no sign, no overflow. @return 0 or -1. */
int xai_app_parse_u64(const char *s, uint64_t *out);
/** A list "A<sep>B<sep>..." of strict integers (as xai_app_parse_long), each within [lo, hi],
 *  into out[0..max-1]: no empty item, no trailing separator, at most @p max items.
 *  @return the number of items (>= 1) or -1 (out[] may then be partly written). */
int xai_app_parse_long_list(const char *s, char sep, long lo, long hi, long *out, int max);
/** The same for strict finite numbers (as xai_app_parse_double): "8,30" is a pair. */
int xai_app_parse_double_list(const char *s, char sep, double lo, double hi, double *out, int max);
/** One instant of this process: monotonic wall time in ms and the minor page faults so far.
 *  Two stamps around a phase give its time and the pages it touched for the first time
 *  (timing_ms and page_faults of the --json summaries). */
typedef struct {
    double ms;
    long minflt;
} xai_app_stamp;
xai_app_stamp xai_app_stamp_now(void);
/** Fault in the pages of a fresh buffer of @p bytes (writes a zero to each): planned once, so
 *  that a timed phase that fills it touches no new page. */
void xai_app_fault_in(void *buf, size_t bytes);
/**
 * A xai_train_config.progress callback (@p app: the xai_app *) that steps the progress
 * display once per epoch with "epoch N loss L acc A", plus "val_loss V val_acc W" when
 * there is a validation split.
 */
void xai_app_train_progress(const xai_train_progress *p, void *app);
/** xai_train_config_init(), then the training options the programs take (--epochs,
 *  --batch, --lr, --val-split, --patience, --seed); the rest keeps its defaults. */
void xai_app_train_config(xai_train_config *cfg, int epochs, int64_t batch, double lr, double val_split,
                          int patience, uint64_t seed);
/**
 * The leading argument of a subcommand program (PROG COMMAND [OPTIONS]): none gives the
 * usage error @p missing (e.g. "missing command: train or explain"); -h/--help calls
 * @p usage and succeeds; --version prints "PROG (libxai) VERSION" and succeeds.
 * @return the exit code when the program is done, or -1 when argv[1] is anything else.
 */
int xai_app_leading_args(const xai_app *app, int argc, char **argv, const char *missing, void (*usage)(void));
/**
 * Write a cairo surface (cairo_surface_t *) as PNG to @p path atomically (temp file and
 * rename through xai_app_atomic_open/commit). A surface in an error state gives
 * "PROG: PATH: DRAW_MSG: cairo status"; a failed PNG encoding or write gives
 * "PROG: PATH: WRITE_MSG: cairo status". The surface is borrowed. @return 0 or -1 (printed).
 */
struct _cairo_surface;
int xai_app_write_png(const xai_app *app, struct _cairo_surface *surface, const char *path, const char *draw_msg,
                      const char *write_msg);

#endif /* XAI_APP_H */
