/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * eval-write.c - the tables of an evaluation (see xai/eval-write.h): the AOPC sweep's
 * aopc/curves/aopc_samples, a metrics run's metrics/metrics_samples/mprt, each with its JSON
 * sidecar. The report and the figures live in eval-report.c and eval-figure.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval-write-int.h"

#define PATHLEN 4096

static const char *const aopc_files[] = {"aopc.tsv", "curves.tsv", "aopc_samples.tsv", "curves_morf.png",
                                         "curves_lerf.png"};
static const char *const metric_files[] = {"metrics.tsv", "metrics_samples.tsv", "mprt.tsv", "mprt.png",
                                           "report.tsv",  "report.png"};

const char *const *xai_evalout_files(int kind, int *n)
{
    *n = kind == 0 ? 5 : kind == 1 ? 6 : kind == 2 ? 2 : 0;
    return kind == 0 ? aopc_files : kind == 1 ? metric_files : kind == 2 ? metric_files + 4 : NULL;
}

/* ---- AOPC sweep ------------------------------------------------------------------ */

/* A table with the number columns FIRST, SECOND and one "LABEL/ORDER" per run. */
static xai_status runs_table(const char *first, const char *second, const xai_aopc_sweep *s, xai_tsv **t)
{
    const char *names[] = {first, second};
    xai_status st = xai_tsv_create(2, names, NULL, t);
    for (int i = 0; i < s->nruns && !st; i++) {
        char col[200];
        snprintf(col, sizeof col, "%s/%s", s->run[i].label, xai_perturb_order_name(s->run[i].order));
        st = xai_tsv_add_column(*t, col, XAI_TSV_NUMBER, NULL);
    }
    return st;
}

static xai_status aopc_table(const char *path, const xai_aopc_sweep *s, int64_t per_step)
{
    const char *names[] = {"method", "order", "aopc", "ci_low", "ci_high", "sd", "n", "steps", "per_step", "patches"};
    const xai_tsv_type types[] = {XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER,
                                  XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER};
    xai_tsv *t = NULL;
    xai_status st = xai_tsv_create(10, names, types, &t);
    for (int i = 0; i < s->nruns && !st; i++) {
        size_t r;
        const xai_perturb_result *p = &s->run[i].res;
        if ((st = xai_tsv_add_row(t, &r)))
            break;
        xai_tsv_set_string(t, r, 0, s->run[i].label);
        xai_tsv_set_string(t, r, 1, xai_perturb_order_name(s->run[i].order));
        const double v[] = {p->aopc, p->ci_low, p->ci_high, p->sd, (double)p->n, p->steps, (double)per_step,
                            (double)p->npatches};
        for (size_t c = 0; c < sizeof v / sizeof *v; c++)
            xai_tsv_set_number(t, r, 2 + c, v[c]);
    }
    return xai_out_table(t, path, st);
}

/* curves.tsv (@p per_sample 0: the mean curve per step) or aopc_samples.tsv (1) */
static xai_status curve_or_sample_table(const char *path, const xai_aopc_sweep *s, int per_sample)
{
    xai_tsv *t = NULL;
    const xai_perturb_result *r0 = &s->run[0].res;
    xai_status st = runs_table(per_sample ? "sample" : "step", per_sample ? "class" : "fraction", s, &t);
    int64_t rows = per_sample ? r0->n : r0->steps + 1;
    for (int64_t k = 0; !st && k < rows; k++) {
        size_t r;
        if ((st = xai_tsv_add_row(t, &r)))
            break;
        xai_tsv_set_number(t, r, 0, (double)k);
        xai_tsv_set_number(t, r, 1, per_sample ? r0->target[k] : r0->fraction[k]);
        for (int i = 0; i < s->nruns; i++)
            xai_tsv_set_number(t, r, 2 + (size_t)i,
                               per_sample ? s->run[i].res.aopc_sample[k] : s->run[i].res.curve[k]);
    }
    return xai_out_table(t, path, st);
}

static xai_status aopc_figures(const char *outdir, const xai_aopc_sweep *s, const xai_perturb_config *pc,
                               unsigned orders)
{
    char path[PATHLEN], title[256], xlabel[256];
    long long n = (long long)s->run[0].res.n, np = (long long)s->run[0].res.npatches;
    for (int k = 0; k < 2; k++) {
        if (!((orders >> k) & 1u))
            continue;
        snprintf(path, sizeof path, "%s/%s", outdir, k == 0 ? "curves_morf.png" : "curves_lerf.png");
        snprintf(title, sizeof title, "%s perturbation, %s replacement, n = %lld", k == 0 ? "MoRF" : "LeRF",
                 xai_replace_name(pc->replace), n);
        snprintf(xlabel, sizeof xlabel, "step k (%lld of %lld patch%s per step)", (long long)pc->per_step, np,
                 np == 1 ? "" : "es");
        xai_status st = evw_curves(path, s, k == 0 ? XAI_ORDER_MORF : XAI_ORDER_LERF, title, xlabel);
        if (st)
            return xai_out_fail(st, path);
    }
    return XAI_OK;
}

xai_status xai_evalout_aopc(const char *outdir, const xai_aopc_sweep *s, const xai_perturb_config *pc,
                            unsigned orders, const char *sidecar_json)
{
    static const char *const desc[] = {
        "AOPC per method and order, with its 95% interval",
        "mean f(x^0) - f(x^k) per perturbation step, per method and order",
        "AOPC per sample, per method and order"};
    if (!outdir || !s || s->nruns < 1 || !pc)
        return xai_error_set(XAI_EINVAL, "AOPC outputs: no folder, sweep or settings");
    if (strlen(outdir) > PATHLEN - 32)
        return xai_error_set(XAI_EINVAL, "%s: path too long", outdir);
    char path[3][PATHLEN];
    for (int i = 0; i < 3; i++)
        snprintf(path[i], sizeof path[i], "%s/%s", outdir, aopc_files[i]);
    xai_status st = aopc_table(path[0], s, pc->per_step);
    if (!st)
        st = curve_or_sample_table(path[1], s, 0);
    if (!st)
        st = curve_or_sample_table(path[2], s, 1);
    for (int i = 0; i < 3 && !st; i++)
        st = xai_out_sidecar(path[i], sidecar_json, desc[i]);
    return st ? st : aopc_figures(outdir, s, pc, orders);
}

/* ---- metrics run ----------------------------------------------------------------- */

static xai_status metrics_table(const char *path, const xai_evalout_method *ms, int nm, evw_entries *es)
{
    const char *names[] = {"method", "metric", "family", "better", "mean", "ci_low", "ci_high", "sd", "n"};
    const xai_tsv_type types[] = {XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_NUMBER,
                                  XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER};
    xai_tsv *t = NULL;
    xai_status st = xai_tsv_create(9, names, types, &t);
    for (int i = 0; i < nm && !st; i++)
        for (int k = 0; k < XAI_METRIC_COUNT && !st; k++) {
            const xai_metric_score *sc = &ms[i].scores->score[k];
            size_t r;
            if (!sc->computed || (st = xai_tsv_add_row(t, &r)))
                continue;
            xai_tsv_set_string(t, r, 0, ms[i].label);
            xai_tsv_set_string(t, r, 1, xai_metric_name(k));
            xai_tsv_set_string(t, r, 2, xai_metric_family(k));
            xai_tsv_set_string(t, r, 3, xai_metric_direction(k) > 0 ? "higher" : "lower");
            const double v[] = {sc->mean, sc->ci_low, sc->ci_high, sc->sd, (double)sc->n_finite};
            for (size_t c = 0; c < sizeof v / sizeof *v; c++)
                xai_tsv_set_number(t, r, 4 + c, v[c]);
            st = evw_add(es, ms[i].label, k, sc->mean, sc->ci_low, sc->ci_high, (double)sc->n_finite);
        }
    return xai_out_table(t, path, st);
}

/* One row per sample: its index, the caller's names for it (@p ids, may be NULL), the class,
 * then one column per method and metric ("LABEL/METRIC"). */
static xai_status samples_table(const char *path, const xai_evalout_method *ms, int nm, const xai_evalout_ids *ids)
{
    char col[300];
    const char *names[] = {"sample"};
    int nid = ids ? ids->ncols : 0;
    xai_tsv *t = NULL;
    xai_status st = xai_tsv_create(1, names, NULL, &t);
    for (int c = 0; c < nid && !st; c++)
        st = xai_tsv_add_column(t, ids->names[c], XAI_TSV_STRING, NULL);
    if (!st)
        st = xai_tsv_add_column(t, "class", XAI_TSV_NUMBER, NULL);
    for (int i = 0; i < nm && !st; i++)
        for (int k = 0; k < XAI_METRIC_COUNT && !st; k++)
            if (ms[i].scores->score[k].computed) {
                snprintf(col, sizeof col, "%s/%s", ms[i].label, xai_metric_name(k));
                st = xai_tsv_add_column(t, col, XAI_TSV_NUMBER, NULL);
            }
    for (int64_t s = 0; s < ms[0].scores->n && !st; s++) {
        size_t r, c = 0;
        if ((st = xai_tsv_add_row(t, &r)))
            break;
        xai_tsv_set_number(t, r, c++, (double)s);
        for (int k = 0; k < nid; k++, c++)
            if (ids->values[k][s])
                xai_tsv_set_string(t, r, c, ids->values[k][s]);
        xai_tsv_set_number(t, r, c++, ms[0].scores->target[s]);
        for (int i = 0; i < nm; i++)
            for (int k = 0; k < XAI_METRIC_COUNT; k++)
                if (ms[i].scores->score[k].computed)
                    xai_tsv_set_number(t, r, c++, ms[i].scores->score[k].sample[s]);
    }
    return xai_out_table(t, path, st);
}

static xai_status mprt_table(const char *path, const xai_evalout_method *ms, int nm)
{
    const char *names[] = {"method", "stage", "layer", "spearman", "ci_low", "ci_high"};
    const xai_tsv_type types[] = {XAI_TSV_STRING, XAI_TSV_NUMBER, XAI_TSV_STRING, XAI_TSV_NUMBER, XAI_TSV_NUMBER,
                                  XAI_TSV_NUMBER};
    xai_tsv *t = NULL;
    xai_status st = xai_tsv_create(6, names, types, &t);
    for (int i = 0; i < nm && !st; i++) {
        const xai_mprt_result *r = &ms[i].scores->mprt;
        for (int l = 0; l < r->nlayers && !st; l++) {
            size_t row;
            if ((st = xai_tsv_add_row(t, &row)))
                break;
            xai_tsv_set_string(t, row, 0, ms[i].label);
            xai_tsv_set_number(t, row, 1, l + 1);
            xai_tsv_set_string(t, row, 2, r->layer[l]);
            xai_tsv_set_number(t, row, 3, r->mean[l]);
            xai_tsv_set_number(t, row, 4, r->ci_low[l]);
            xai_tsv_set_number(t, row, 5, r->ci_high[l]);
        }
    }
    return xai_out_table(t, path, st);
}

static xai_status write_mprt(const char *outdir, const xai_evalout_method *ms, int nm, const char *json)
{
    char path[PATHLEN];
    snprintf(path, sizeof path, "%s/mprt.tsv", outdir);
    xai_status st = mprt_table(path, ms, nm);
    if (!st)
        st = xai_out_sidecar(path, json, "MPRT per method and cascade stage: mean Spearman rank correlation with the "
                         "original map after randomising the layers up to this one");
    snprintf(path, sizeof path, "%s/mprt.png", outdir);
    if (!st && (st = evw_mprt_figure(path, ms, nm)))
        st = xai_out_fail(st, path);
    return st;
}

/* What each column of metrics.tsv holds (its sidecar's data dictionary). */
static const char *const metric_cols[][2] = {
    {"method", "the attribution method that made the maps"},
    {"metric", "the metric"},
    {"family", "faithfulness, localisation, robustness, randomisation or complexity"},
    {"better", "higher or lower: the direction of a better value"},
    {"mean", "mean over the samples where the metric has a value"},
    {"ci_low", "95 % interval of the mean (Student t), lower end"},
    {"ci_high", "95 % interval of the mean (Student t), upper end"},
    {"sd", "sample standard deviation"},
    {"n", "samples with a value"}};

/* The sidecar of the per-sample table, with a data dictionary of its columns as samples_table()
 * makes them: sample, the caller's name columns, class, one per method and metric. */
static xai_status samples_sidecar(const char *path, const xai_evalout_method *ms, int nm, const xai_evalout_ids *ids,
                                  const char *json)
{
    int nid = ids ? ids->ncols : 0, n = 0;
    const char *(*cols)[2] = malloc(sizeof *cols * (size_t)(2 + nid + nm * XAI_METRIC_COUNT));
    char(*txt)[2][320] = malloc(sizeof *txt * (size_t)(nm * XAI_METRIC_COUNT)); /* the metric columns' */
    if (!cols || !txt) {
        free(cols), free(txt);
        return xai_error_set(XAI_ENOMEM, "%s: out of memory", path);
    }
    cols[n][0] = "sample", cols[n++][1] = "0-based index of the sample, in the order the program read them";
    for (int c = 0; c < nid; c++) {
        cols[n][0] = ids->names[c];
        cols[n++][1] = ids->descriptions && ids->descriptions[c] ? ids->descriptions[c]
                                                                 : "the program's name for the sample";
    }
    cols[n][0] = "class", cols[n++][1] = "the class explained (index of the model's output)";
    int m = 0;
    for (int i = 0; i < nm; i++)
        for (int k = 0; k < XAI_METRIC_COUNT; k++, m++) {
            if (!ms[i].scores->score[k].computed)
                continue;
            snprintf(txt[m][0], sizeof txt[m][0], "%s/%s", ms[i].label, xai_metric_name(k));
            snprintf(txt[m][1], sizeof txt[m][1], "%s of the sample's map by %s (%s; %s is better; n/a: no value)",
                     xai_metric_name(k), ms[i].label, xai_metric_family(k),
                     xai_metric_direction(k) > 0 ? "higher" : "lower");
            cols[n][0] = txt[m][0], cols[n++][1] = txt[m][1];
        }
    xai_status st = xai_out_sidecar_cols(path, json, "per sample: the explained class and every method/metric value "
                                         "(n/a where a value does not exist)", (const char *const(*)[2])cols, n);
    free(cols), free(txt);
    return st;
}

/* The metrics table at @p mpath and the per-sample table at @p spath (may be NULL), each with
 * its sidecar; the summaries into @p es for the report. */
static xai_status write_tables(const char *mpath, const char *spath, const xai_evalout_method *ms, int nm,
                               const xai_evalout_ids *ids, const char *json, evw_entries *es)
{
    xai_status st = mpath ? metrics_table(mpath, ms, nm, es) : XAI_OK;
    if (!st && mpath)
        st = xai_out_sidecar_cols(mpath, json, "per method and metric: mean over samples with a value, 95% "
                                  "Student-t interval, sd, n; better = direction of a better value", metric_cols,
                                  (int)(sizeof metric_cols / sizeof *metric_cols));
    if (!st && spath)
        st = samples_table(spath, ms, nm, ids);
    if (!st && spath)
        st = samples_sidecar(spath, ms, nm, ids, json);
    return st;
}

static xai_status check_methods(const char *what, const xai_evalout_method *ms, int nm, const xai_evalout_ids *ids)
{
    if (!what || !ms || nm < 1)
        return xai_error_set(XAI_EINVAL, "%s: no method to write", what ? what : "evaluation");
    for (int i = 0; i < nm; i++)
        if (!ms[i].label || !ms[i].scores || ms[i].scores->n != ms[0].scores->n)
            return xai_error_set(XAI_EINVAL, "%s: method %d has no label, no scores or another sample count", what,
                                 i + 1);
    for (int c = 0; ids && c < ids->ncols; c++)
        if (!ids->names || !ids->names[c] || !ids->values || !ids->values[c])
            return xai_error_set(XAI_EINVAL, "%s: sample name column %d has no name or no values", what, c + 1);
    return XAI_OK;
}

xai_status xai_evalout_tables(const char *metrics_path, const char *samples_path, const xai_evalout_method *ms, int nm,
                              const xai_evalout_ids *ids, const char *sidecar_json)
{
    evw_entries es = {0};
    xai_status st = check_methods(metrics_path ? metrics_path : samples_path, ms, nm, ids);
    if (!st)
        st = write_tables(metrics_path, samples_path, ms, nm, ids, sidecar_json, &es);
    free(es.e);
    return st;
}

xai_status xai_evalout_write(const char *outdir, const xai_evalout_method *ms, int nm, const char *sidecar_json)
{
    xai_status st = check_methods(outdir, ms, nm, NULL);
    if (st)
        return st;
    if (strlen(outdir) > PATHLEN - 32)
        return xai_error_set(XAI_EINVAL, "%s: path too long", outdir);
    char mpath[PATHLEN], spath[PATHLEN];
    evw_entries es = {0};
    snprintf(mpath, sizeof mpath, "%s/metrics.tsv", outdir);
    snprintf(spath, sizeof spath, "%s/metrics_samples.tsv", outdir);
    st = write_tables(mpath, spath, ms, nm, NULL, sidecar_json, &es);
    if (!st && ms[0].scores->score[XAI_METRIC_MPRT].computed)
        st = write_mprt(outdir, ms, nm, sidecar_json);
    if (!st)
        st = evw_report(&es, outdir, sidecar_json);
    free(es.e);
    return st;
}
