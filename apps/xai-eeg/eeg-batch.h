/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eeg-batch.h - xai-eeg's batch form (batch.c): --shard K/N and --slurm over recordings.
 */
#ifndef XAI_EEG_BATCH_H
#define XAI_EEG_BATCH_H

#include <getopt.h>

#include "app.h"

enum { EEG_O_SHARD = 0x200, EEG_O_SLURM, EEG_O_SLURM_ARGS, EEG_O_MAX_PAR, EEG_O_DRY_RUN, EEG_O_WAIT,
       EEG_O_WAIT_TIMEOUT };

#define EEG_BATCH_LONG_OPTIONS                                                                            \
    {"shard", required_argument, 0, EEG_O_SHARD}, {"slurm", no_argument, 0, EEG_O_SLURM},               \
        {"slurm-args", required_argument, 0, EEG_O_SLURM_ARGS},                                           \
        {"max-parallel", required_argument, 0, EEG_O_MAX_PAR}, {"dry-run", no_argument, 0, EEG_O_DRY_RUN}, \
        {"wait", no_argument, 0, EEG_O_WAIT}, {"wait-timeout", required_argument, 0, EEG_O_WAIT_TIMEOUT}

typedef struct {
    int active;         /* status files and owned outputs: the participant level, --shard, --slurm */
    int shard_k, shard_n, slurm, dry_run, wait, max_parallel, wait_timeout;
    const char *slurm_args;
    char **argv;        /* the program's command line (NULL-terminated) */
    int first;          /* first word of argv that may decide an output */
    const char *group_bids; /* the participant level's BIDS folder: --slurm submits the group step */
    int no_figures;         /* --no-figures, passed on to the group step */
} eeg_batch;

/** Explain item @p i; @return its exit code (0 ok). */
typedef int (*eeg_item_fn)(void *ud, int i);

/** @return 0 taken, 1 not a batch option, 2 bad value. */
int eeg_batch_option(eeg_batch *b, int c, const char *arg);
/** Run the items of the shard (or submit every shard to Slurm, and at the participant level
 *  the group step after them with afterok); @return an exit code. */
int eeg_batch_run(xai_app *app, const eeg_batch *b, const char *outdir, const char *model, char *const *inputs,
                  char *const *outputs, int n, eeg_item_fn explain, void *ud);

#endif
