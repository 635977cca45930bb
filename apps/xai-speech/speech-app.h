/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * speech-app.h - the parts of xai-speech: options (main.c), train and eval (train.c),
 * explain and its outputs (explain.c), the folder batch form (batch.c). The domain work
 * (clips, features, speakers, figure, sonification) is in formats (xai/domain-speech.h);
 * training and explaining go through the shared driver (xai/driver.h).
 */
#ifndef XAI_SPEECH_APP_H
#define XAI_SPEECH_APP_H

#include <stdint.h>

#include "app-driver.h"
#include "app.h"
#include "batch.h"
#include "xai/domain-speech.h"

#define PROG "xai-speech"
#ifndef XAI_SPEECH_VERSION
#define XAI_SPEECH_VERSION "0.2.0"
#endif

typedef enum { CMD_TRAIN = 0, CMD_EXPLAIN, CMD_EVAL } speech_cmd;

typedef struct {
    xai_app app;
    xai_app_driver_opts dopt; /* --split-by --cv --strict --seed --lr --epochs ... --target --start */
    speech_cmd cmd;
    xai_speech_files files;
    const char *labels, *column, *preset, *arch, *model, *output, *sonify, *composite, *json;
    double duration, val_split;
    int figures, stacked, save_input;
    xai_method method;
    int shard_k, shard_n;     /* --shard K/N (0/0: every clip) */
    int slurm;                /* --slurm: submit the shards as an array job */
    xai_slurm_opts slurm_opts;
    int argc;                 /* the command line, for the array tasks */
    char **argv;
} opts;

/** The default architecture, before its dense(K) head. */
#define SPEECH_DEFAULT_ARCH "conv2d(8,k=3,p=1) relu maxpool(2) conv2d(16,k=3,p=1) relu maxpool(2) flatten"

int run_train(opts *o);
int run_eval(opts *o);
int run_explain(opts *o);

/**
 * The model set at o->model and its spectrogram pipeline (the card's preprocessing), checked
 * against the model's input and against --preset. Warnings of the card are printed.
 * @return 0, or the exit code (printed).
 */
int speech_load_model(opts *o, xai_driver_set **set, xai_speech_pre *pre);

/** The card's class names (borrowed) into names[0..K); @return K. */
int speech_class_names(const xai_driver_set *set, const char **names, int cap);

/** A xai_speech_note_fn printing "PROG: FILE: MSG" (@p app: the xai_app). */
void speech_note(void *app, const char *file, const char *msg);

#endif
