/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eval-write.h - the files of an evaluation of attribution methods (xai/eval.h), for any
 * program: the AOPC tables and curves of a region-perturbation sweep, the tables of a metrics
 * run, the MPRT curve, and the report that compares methods across metrics with the
 * direction of "better" per metric. Tables are BIDS-style TSV (xai/tsv.h), each with a JSON
 * sidecar "NAME.json" that holds the caller's members (provenance, parameters) plus a
 * "Description" of the table; figures are PNG. Every file is written atomically. Nothing
 * is printed: errors come back as an xai_status whose message names the file.
 */
#ifndef XAI_EVAL_WRITE_H
#define XAI_EVAL_WRITE_H

#include "xai/eval.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One evaluated method: its label ("lrp:epsilon-plus-flat") and its scores (borrowed). */
typedef struct {
    const char *label;
    const xai_eval_scores *scores;
} xai_evalout_method;

/**
 * The names of the files a run writes in its folder, for an overwrite check beforehand.
 * @param kind  0: an AOPC sweep (xai_evalout_aopc()), 1: a metrics run (xai_evalout_write()),
 *              2: a report (xai_evalout_report())
 * @param[out] n  how many
 * @return a static array of @p n names (NULL for an unknown kind)
 */
XAI_API const char *const *xai_evalout_files(int kind, int *n);

/**
 * The outputs of an AOPC sweep into @p outdir (which must exist):
 *   aopc.tsv          method, order, aopc, ci_low, ci_high, sd, n, steps, per_step, patches
 *   curves.tsv        step, fraction, then per method/order the mean f(x^0) - f(x^k)
 *   aopc_samples.tsv  sample, class, then the AOPC of each method/order for that sample
 *   curves_morf.png, curves_lerf.png   the curves of each order asked for (bit 0 MoRF,
 *                     bit 1 LeRF in @p orders) with the random baseline dashed
 * @param pc           the sweep's settings (per_step and replace label the figures)
 * @param sidecar_json a JSON object text copied into each table's sidecar, or NULL
 */
XAI_API xai_status xai_evalout_aopc(const char *outdir, const xai_aopc_sweep *s, const xai_perturb_config *pc,
                                    unsigned orders, const char *sidecar_json);

/**
 * The outputs of a metrics run into @p outdir (which must exist):
 *   metrics.tsv          method, metric, family, better, mean, ci_low, ci_high, sd, n
 *   metrics_samples.tsv  sample, class, then one column per method/metric
 *   mprt.tsv, mprt.png   per method and randomised layer: mean Spearman and its interval
 *                        (only when MPRT was computed)
 *   report.tsv, report.png   as xai_evalout_report() from these scores
 */
XAI_API xai_status xai_evalout_write(const char *outdir, const xai_evalout_method *methods, int nmethods,
                                     const char *sidecar_json);

/**
 * Names of the samples of a per-sample table, as columns after "sample": column c is named
 * names[c] and holds values[c][s] for sample s (NULL: n/a), e.g. the recording, epoch and
 * fold model of each EEG epoch, or the file of each clip.
 */
typedef struct {
    int ncols;
    const char *const *names;
    const char *const *const *values;
    const char *const *descriptions; /**< each column's entry in the sidecar's data dictionary (NULL, or
                                          NULL entries: a generic one) */
} xai_evalout_ids;

/**
 * The two tables of xai_evalout_write() at paths the caller chooses, for a program that writes
 * its scores where it is told (the domain programs' evaluate commands): @p metrics_path gets
 * the columns of metrics.tsv, @p samples_path those of metrics_samples.tsv with the columns of
 * @p ids (may be NULL) after "sample"; either path may be NULL (that table is not written).
 * Each gets its sidecar (the members of @p sidecar_json plus a Description and a data
 * dictionary of its columns).
 */
XAI_API xai_status xai_evalout_tables(const char *metrics_path, const char *samples_path,
                                      const xai_evalout_method *methods, int nmethods, const xai_evalout_ids *ids,
                                      const char *sidecar_json);

/**
 * The report from one or more metrics.tsv files: report.tsv (metric, family, better, method,
 * mean, ci_low, ci_high, n, rank; rank 1 = best in the metric's direction) and report.png (a
 * table of methods x metrics shaded by rank, headed by the metric and its direction), with a
 * sidecar. With several inputs, methods are labelled "DIR:method" by the input's folder, with
 * as many parent folders as it takes to tell the inputs apart ("eeg/ev:method").
 */
XAI_API xai_status xai_evalout_report(const char *const *inputs, int ninputs, const char *outdir,
                                      const char *sidecar_json);

/**
 * Read back the tables that xai_evalout_write() wrote for ONE method into @p dir: the
 * summaries, the per-sample values and classes, and (when computed) the MPRT per-layer means
 * and intervals (not the per-sample correlations). Written again with xai_evalout_write()
 * they give the same files. Free with xai_eval_scores_free().
 * @return XAI_OK; XAI_EIO, XAI_EFORMAT (a row of another method, a missing column or
 *         number; the message names the file), XAI_ENOMEM.
 */
XAI_API xai_status xai_evalout_read_metrics(const char *dir, const char *label, xai_eval_scores *scores);

/**
 * Read back the tables of xai_evalout_aopc() in @p dir into @p sweep (each run's summary,
 * mean curve, fractions, per-sample AOPC and classes; not the per-step logits). Free with
 * xai_aopc_sweep_free(). @return as xai_evalout_read_metrics().
 */
XAI_API xai_status xai_evalout_read_aopc(const char *dir, xai_aopc_sweep *sweep);

#ifdef __cplusplus
}
#endif

#endif /* XAI_EVAL_WRITE_H */
