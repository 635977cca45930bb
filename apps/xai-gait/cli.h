/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli.h - the parsed command line of xai-gait, shared by its commands. */
#ifndef XAI_GAIT_CLI_H
#define XAI_GAIT_CLI_H

#include <stdint.h>

#include "app.h"

/* Exit code when --strict turns a warning about the model's validity into an error. */
#define GAIT_EXIT_STRICT 4

typedef struct {
    const char *cmd, *model, *output, *target, *split, *variables, *components, *arch, *method_s, *composite;
    const char *sides, *offset, *start;
    char **args;
    int nargs;
    int epochs, figures, strict;
    int64_t batch;
    double lr, weight_decay;
    uint64_t seed;
} opts;

/** xai-gait train (train.c). */
int gait_cmd_train(xai_app *app, const opts *o);

#endif
