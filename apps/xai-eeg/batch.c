/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * batch.c - xai-eeg over many recordings as a batch (the BIDS participant level, or explain
 * with --shard/--slurm): --shard K/N explains only the recordings of shard K (split by
 * subject, apps/common/batch.h), --slurm runs every shard as a Slurm array task (at the
 * participant level followed by the group level, --dependency=afterok), and each
 * recording records a status file, so a rerun redoes only what is unfinished or changed.
 * Every output of a recording is a function of the recording, the model and the options,
 * so any split gives the same files as one run.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "eeg-batch.h"

int eeg_batch_option(eeg_batch *b, int c, const char *arg)
{
    switch (c) {
    case EEG_O_SHARD:
        b->active = 1;
        return xai_app_parse_shard(arg, &b->shard_k, &b->shard_n) ? 2 : 0;
    case EEG_O_SLURM: b->slurm = b->active = 1; return 0;
    case EEG_O_SLURM_ARGS: b->slurm_args = arg; return 0;
    case EEG_O_DRY_RUN: b->dry_run = 1; return 0;
    case EEG_O_WAIT: b->wait = 1; return 0;
    case EEG_O_MAX_PAR: return xai_app_parse_batch_limit(arg, 0, &b->max_parallel) ? 2 : 0;
    case EEG_O_WAIT_TIMEOUT: return xai_app_parse_batch_limit(arg, 1, &b->wait_timeout) ? 2 : 0;
    default: return 1;
    }
}

/* The options that say where outputs go or how to run, never what they hold. */
static char *make_salt(const eeg_batch *b, const char *model)
{
    static const xai_batch_word ignore[] = {
        {"-o", 1}, {"--output", 1}, {"--edf", -1}, {"-i", -1}, {"--input", -1}, {"--participant-label", -1},
        {"--participant_label", -1}, {"--task", 1}, {"-q", 0}, {"--quiet", 0}, {"-v", 0}, {"--verbose", 0},
        {"--progress", 1}, {"--nthreads", 1}, {"-f", 0}, {"--force", 0}};
    char sha[65];
    if (xai_sha256_file(model, sha) != 0)
        return NULL;
    return xai_batch_salt(sha, b->argv, b->first, ignore, (int)(sizeof ignore / sizeof *ignore));
}

/* The recordings of shard K on this machine, skipping those done with the same digest. */
static int run_local(xai_app *app, const eeg_batch *b, const char *outdir, const xai_batch_item *items,
                     char *const *digests, int n, eeg_item_fn explain, void *ud)
{
    int *shard = malloc(sizeof *shard * ((size_t)n + 1));
    if (!shard || xai_batch_assign(items, n, b->shard_n, shard) != 0) {
        free(shard);
        return xai_app_fail(app, outdir, "out of memory");
    }
    int failed = 0, skipped = 0, ran = 0;
    xai_app_progress_begin(app, "explain", n);
    for (int i = 0; i < n; i++) {
        if (shard[i] != b->shard_k)
            continue;
        if (digests[i][0] && xai_batch_is_current(outdir, &items[i], digests[i])) {
            skipped++;
            continue;
        }
        int rc = digests[i][0] ? explain(ud, i) : xai_app_fail(app, items[i].input, "cannot read the recording");
        ran++;
        failed += rc != 0;
        if (xai_batch_status_write(app, outdir, &items[i], digests[i][0] ? digests[i] : "-", rc) != 0)
            failed++;
        xai_app_progress_step(app, i + 1, items[i].input);
    }
    xai_app_progress_end(app);
    free(shard);
    xai_app_log(app, 1, "shard %d/%d: %d explained, %d failed, %d already done", b->shard_k, b->shard_n,
                ran - failed, failed, skipped);
    return failed ? XAI_EXIT_PARTIAL : XAI_EXIT_OK; /* as xai-explain: any failed item is a partial batch */
}

/* "'EXE' 'BIDS' 'OUT' group --force [--no-figures]": absolute paths, because the step runs
 * in Slurm's working folder. --force: the group tables belong to the batch and are remade
 * after every participant run, as a one-machine "participant, then group" would. */
static char *group_command(xai_app *app, const eeg_batch *b, const char *outdir)
{
    char exe[PATH_MAX], bids[PATH_MAX], out[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || !realpath(b->group_bids, bids) || !realpath(outdir, out)) {
        xai_app_fail(app, outdir, "cannot resolve the program, the BIDS folder or the output folder");
        return NULL;
    }
    exe[n] = '\0';
    char *words[] = {exe, bids, out, "group", "--force", b->no_figures ? "--no-figures" : NULL, NULL};
    char *cmd = xai_batch_shell_line(words);
    if (!cmd)
        xai_app_fail(app, outdir, "out of memory");
    return cmd;
}

static int submit(xai_app *app, const eeg_batch *b, const char *outdir, const xai_batch_item *items,
                  char *const *digests, int n)
{
    char **targv = xai_batch_task_argv(b->argv), *group = NULL;
    if (b->group_bids && !(group = group_command(app, b, outdir))) {
        free(targv);
        return XAI_EXIT_DATA;
    }
    xai_slurm_opts so = {.nshards = b->shard_n, .max_parallel = b->max_parallel, .sbatch_args = b->slurm_args,
                         .group_cmd = group, .dry_run = b->dry_run, .wait = b->wait,
                         .wait_timeout_s = b->wait_timeout};
    int rc = targv ? xai_slurm_run(app, outdir, targv, items, digests, n, &so)
                   : xai_app_fail(app, outdir, "out of memory");
    free(targv);
    free(group);
    return rc;
}

int eeg_batch_run(xai_app *app, const eeg_batch *b, const char *outdir, const char *model, char *const *inputs,
                  char *const *outputs, int n, eeg_item_fn explain, void *ud)
{
    char *salt = make_salt(b, model);
    xai_batch_item *items = calloc((size_t)n + 1, sizeof *items);
    char **subjects = calloc((size_t)n + 1, sizeof *subjects), **digests = calloc((size_t)n + 1, sizeof *digests);
    int rc = !salt ? xai_app_fail(app, model, "cannot read the model")
             : !items || !subjects || !digests ? xai_app_fail(app, outdir, "out of memory") : XAI_EXIT_OK;
    for (int i = 0; rc == XAI_EXIT_OK && i < n; i++) {
        char sub[256];
        subjects[i] = strdup(xai_batch_subject(inputs[i], sub, sizeof sub));
        items[i] = (xai_batch_item){inputs[i], subjects[i], outputs[i]};
        if (!subjects[i] || !(digests[i] = calloc(65, 1)))
            rc = xai_app_fail(app, outdir, "out of memory");
        else if (xai_batch_digest(&items[i], salt, digests[i]) != 0)
            digests[i][0] = '\0'; /* unreadable: never current; the item fails when it runs */
    }
    if (rc == XAI_EXIT_OK && b->slurm)
        rc = submit(app, b, outdir, items, digests, n);
    else if (rc == XAI_EXIT_OK) {
        xai_app_sweep_orphans(app, outdir);
        rc = run_local(app, b, outdir, items, digests, n, explain, ud);
    }
    for (int i = 0; i < n; i++) {
        free(subjects ? subjects[i] : NULL);
        free(digests ? digests[i] : NULL);
    }
    free(salt);
    free(items);
    free(subjects);
    free(digests);
    return rc;
}
