/* SPDX-License-Identifier: GPL-3.0-or-later */
/* groups.h - artefact and clean sample groups for xai-clarc cav (groups.c). */
#ifndef XAI_CLARC_GROUPS_H
#define XAI_CLARC_GROUPS_H

#include <stdint.h>

#include "app.h"

typedef struct {
    const char *art, *clean;   /* index list files */
    const char *npy;           /* per-sample 1 / 0 */
    const char *spray;         /* xai-spray clusters.tsv */
    int cls, cluster;
} clarc_group_src;

/* Indices (malloc'ed, ascending for npy/spray) of the artefact and clean samples among n.
   0 ok; else the error was printed and the exit code is returned. */
int clarc_groups(const xai_app *app, const clarc_group_src *src, int64_t n, int64_t **ia, int64_t *na, int64_t **ic,
                 int64_t *nc);

#endif
