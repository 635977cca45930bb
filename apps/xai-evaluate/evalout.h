/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * evalout.h - the files of a metric evaluation, for xai-evaluate and for the domain programs
 * (xai-eeg, xai-fmri, ...) that evaluate their own maps with xai_eval_metrics(): tables
 * (TSV, atomic) with JSON sidecars, the MPRT curve, and the report (one table and one figure
 * comparing the methods on every metric, with the direction of "better" per metric).
 */
#ifndef XAI_EVALOUT_H
#define XAI_EVALOUT_H

#include "app.h"
#include "xai/eval.h"

/** One evaluated method: its label ("lrp:epsilon-plus-flat") and its scores (borrowed). */
typedef struct {
    const char *label;
    const xai_eval_scores *scores;
} xai_evalout_method;

/** The outputs of xai_evalout_write() in OUTDIR (for the overwrite check). */
extern const char *const xai_evalout_files[];
extern const int xai_evalout_nfiles;

/**
 * Write into @p outdir (which must exist):
 *   metrics.tsv          method, metric, family, better, mean, ci_low, ci_high, sd, n
 *   metrics_samples.tsv  sample, class, then one column per method/metric
 *   mprt.tsv, mprt.png   per method and randomised layer: mean Spearman and its interval
 *                        (only when MPRT was computed)
 *   report.tsv, report.png   see xai_evalout_report()
 * and a JSON sidecar per table holding @p extra_json (an object text: ModelSHA256, Sources,
 * Parameters ...). @return 0, or -1 with the reason printed.
 */
int xai_evalout_write(const xai_app *app, const char *outdir, const xai_evalout_method *methods, int nmethods,
                      const char *extra_json);

/**
 * The report from one or more metrics.tsv files: report.tsv (metric, family, better, method,
 * mean, ci_low, ci_high, n, rank; rank 1 = best in the metric's direction) and report.png (a
 * table of methods x metrics coloured by rank, headed by the metric and its direction), with
 * sidecars. With several inputs, methods are labelled "DIR:method" by the input's directory.
 * @return 0, or -1 with the reason printed.
 */
int xai_evalout_report(const xai_app *app, const char *const *inputs, int ninputs, const char *outdir,
                       const char *extra_json);

#endif
