/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * spray-app.h - what the files of xai-spray share: the app state, the settings of the
 * command line, the option parser and the help text.
 */
#ifndef XAI_SPRAY_APP_H
#define XAI_SPRAY_APP_H

#include <stdio.h>

#include "app.h"
#include "xai/spray.h"

#define PROG "xai-spray"
#define MAX_CLASSES 4096

extern xai_app app;

typedef struct {
    xai_spray_config cfg;
    const char *maps_path, *labels_path, *classes_arg, *outdir;
    const char *xlabel, *ylabel;
    int origin_lower;
    int classes[MAX_CLASSES], nclasses;
} spray_opts;

void spray_usage(FILE *f);
/* 0 to go on, -1 for exit 0 (help, version), else the exit code */
int spray_parse_args(int argc, char **argv, spray_opts *o);

#endif
