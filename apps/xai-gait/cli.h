/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli.h - the parsed command line of xai-gait, shared by its commands. */
#ifndef XAI_GAIT_CLI_H
#define XAI_GAIT_CLI_H

#include <stdint.h>

#include "app.h"
#include "app-driver.h"

#define DEFAULT_VARS "PelvisAngles,HipAngles,KneeAngles,AnkleAngles,FootProgressAngles"
#define DEFAULT_ARCH                                                                                                \
    "conv1d(16,k=7,p=3) relu maxpool(2) conv1d(32,k=5,p=2) relu maxpool(2) flatten dropout(0.5) dense({K})"

/* --augment: none, shift-scale (one gain on the deviations), shift-gain (a gain per channel on
 * the whole angle curve) */
enum { GAIT_AUGMENT_NONE, GAIT_AUGMENT_SCALE, GAIT_AUGMENT_GAIN };

typedef struct {
    const char *cmd, *model, *output, *target, *variables, *components, *arch, *method_s, *composite;
    const char *sides, *offset, *truth, *metrics;
    const char *concepts;      /* explain --concepts LAYER[:top=K|:channels=...] */
    char **args;
    int nargs;
    int figures, save_input, augment;
    int events;                /* --events: XAI_GAIT_EVENTS_*, -1 when not given */
    int shard_k, shard_n;      /* study --shard K/N [1/1] */
    int shard_given;           /* --shard was given: this run is one shard, the group step is apart */
    int slurm, dry_run, wait, max_parallel, wait_timeout;
    const char *slurm_args;
    char **argv;               /* the command line, for the Slurm array tasks */
    xai_app_driver_opts dopt; /* --split-by --cv --strict --seed --optimizer --lr --epochs ... --start */
} opts;

/** xai-gait train (train.c). */
int gait_cmd_train(xai_app *app, const opts *o);

#endif
