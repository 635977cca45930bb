/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eval-write-int.h - what the evaluation writers share (eval-write.c: tables and sidecars;
 * eval-report.c: the cross-metric report; eval-figure.c: its figures). Private to formats.
 */
#ifndef XAI_EVAL_WRITE_INT_H
#define XAI_EVAL_WRITE_INT_H

#include "xai/eval-write.h"
#include "table-out.h"
#include "xai/tsv.h"

/* One (method, metric) summary of the report. */
typedef struct {
    char method[200];
    int metric;
    double mean, lo, hi, n;
    int rank; /* 1 = best in the metric's direction; 0 = none (NaN) */
} evw_entry;

typedef struct {
    evw_entry *e;
    int n, cap;
    char methods[64][200]; /* distinct methods in order of appearance */
    int nmethods;
} evw_entries;

/* Append a summary; XAI_ENOMEM when out of memory. */
xai_status evw_add(evw_entries *es, const char *method, int metric, double mean, double lo, double hi, double n);
const evw_entry *evw_find(const evw_entries *es, const char *method, int metric);
/* report.tsv and report.png (with the table's sidecar) from the summaries, ranked here. */
xai_status evw_report(evw_entries *es, const char *outdir, const char *sidecar_json);

/* The figures (eval-figure.c). */
xai_status evw_report_figure(const evw_entries *es, const char *path);
xai_status evw_mprt_figure(const char *path, const xai_evalout_method *ms, int nm);
xai_status evw_curves(const char *path, const xai_aopc_sweep *s, xai_perturb_order order, const char *title,
                      const char *xlabel);

#endif
