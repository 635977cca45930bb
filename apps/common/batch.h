/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Batches over many inputs: a deterministic split into shards by subject, per-item status
 * files (so a rerun redoes only unfinished or changed items), and Slurm job-array glue
 * (sbatch script, submission, a group step after the array, waiting without sacct).
 * Assumes the output folder is on a filesystem that every node sees (see README).
 */
#ifndef XAI_APP_BATCH_H
#define XAI_APP_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"

typedef struct {
    const char *input;   /**< the file the item reads */
    const char *subject; /**< its subject label; items of one subject stay in one shard */
    const char *output;  /**< the file the item writes */
} xai_batch_item;

/** Subject label of a path: the BIDS "sub-" value when the name has one, else the file
 *  name without its extension(s). Writes into buf (len bytes); @return buf. */
char *xai_batch_subject(const char *path, char *buf, size_t len);
/**
 * Shard (1..n) of each item: the distinct subject labels in byte order, the j-th (0-based)
 * going to shard j % n + 1. Depends only on the set of labels, never on the order of the
 * items or on the machine. @p shard_of receives nitems values. @return 0, or -1 out of memory.
 */
int xai_batch_assign(const xai_batch_item *items, int64_t nitems, int n, int *shard_of);

/* ---- status files: OUTDIR/.xai-status/NAME.status, NAME = the output's file name ----
 * "done DIGEST\n" or "failed CODE DIGEST\n". DIGEST is the SHA-256 of the item's input and
 * of the @p salt (e.g. the model's SHA-256), so a changed input or model makes it stale. */
/** Digest of an item into hex[65]. @return 0 or -1 (input unreadable). */
int xai_batch_digest(const xai_batch_item *item, const char *salt, char hex[65]);
/** Record the outcome of an item (atomic). @p code 0 = done. @return 0 or -1 (printed). */
int xai_batch_status_write(const xai_app *app, const char *outdir, const xai_batch_item *item,
                           const char *digest, int code);
/** 1 when the item is done with this digest and its output exists, else 0. */
int xai_batch_is_current(const char *outdir, const xai_batch_item *item, const char *digest);
/** Exit code recorded for the item: 0 done, > 0 failed, -1 no status (never ran or killed). */
int xai_batch_status_code(const char *outdir, const xai_batch_item *item);
/** The text of a status file (@p len bytes): @return 0 done, the code (1..255) when failed,
 *  -1 when it is neither; digest[65] receives the recorded digest ("" when none). */
int xai_batch_status_parse(const char *text, size_t len, char digest[65]);

/* ---- input lists ---- */
/**
 * The paths of an input list (@p len bytes): one a line, LF or CR LF; empty lines and lines
 * starting with '#' are skipped. @p paths receives a NULL-terminated malloc'ed array of *n
 * malloc'ed paths (NULL when there is none; free with xai_batch_list_free).
 * @return 0, -1 out of memory, -2 a line holds a NUL byte (its number in *bad_line).
 */
int xai_batch_list_parse(const char *text, size_t len, char ***paths, int *n, int *bad_line);
void xai_batch_list_free(char **paths, int n);

/* ---- command lines ---- */
/** An option word: its name ("--shard", "-o") and how many values follow it (0 a flag,
 *  1 one value, also as --name=VALUE; -1 a list: every word up to the next option). */
typedef struct {
    const char *name;
    int values;
} xai_batch_word;
/** An array task's command line: @p argv (NULL-terminated) without the Slurm options
 *  (--shard, --slurm, --slurm-args, --max-parallel, --dry-run, --wait, --wait-timeout;
 *  the script adds --shard). @return a NULL-terminated malloc'ed array of borrowed strings. */
char **xai_batch_task_argv(char *const *argv);
/** @p argv (NULL-terminated) as one sh command line, every word single-quoted (for a group
 *  step that runs a program's own command line). @return malloc'ed text or NULL. */
char *xai_batch_shell_line(char *const *argv);
/**
 * The digest salt of a batch: @p model_sha and the words of @p argv from index @p first on,
 * one a line, without those in @p ignore (where the outputs go, how to run: they do not
 * change an output) and without the Slurm options. @return malloc'ed text or NULL.
 */
char *xai_batch_salt(const char *model_sha, char *const *argv, int first, const xai_batch_word *ignore, int nignore);

/* ---- Slurm ---- */
typedef struct {
    int nshards;             /**< array tasks: one per shard */
    int max_parallel;        /**< %M throttle; 0 = none */
    const char *sbatch_args; /**< --slurm-args, split by the shell and given to sbatch */
    const char *group_cmd;   /**< shell command run after every task succeeded, or NULL */
    int dry_run;             /**< print the script(s), submit nothing */
    int wait;                /**< wait for the array (squeue polling) and report failures */
    int wait_timeout_s;      /**< bound of --wait; 0 = one day */
} xai_slurm_opts;

/**
 * Write OUTDIR/slurm/PROG-array.sbatch running @p task_argv (the program's own command
 * line without the Slurm options) with "--shard K/N" for each array task whose shard
 * still has items that are not current, submit it with sbatch (and the group step with
 * --dependency=afterok), and with opts->wait poll squeue until the array has left the
 * queue, then read the status files. @p digests: one per item (from xai_batch_digest).
 * @return 0 all done (or nothing to do, or dry run), 1 submission or Slurm error,
 * 3 some items failed or did not finish (each named on stderr with its exit code).
 */
int xai_slurm_run(const xai_app *app, const char *outdir, char *const *task_argv,
                  const xai_batch_item *items, char *const *digests, int64_t nitems,
                  const xai_slurm_opts *opts);

#endif
