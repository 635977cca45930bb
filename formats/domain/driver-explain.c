/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * driver-explain.c - explaining a dataset with a model set (xai/driver.h): the model that
 * never saw a sample's group, per-sample targets, the stable start by default, the
 * relevance-sum check, and per-sample L1 normalisation before any mean.
 *
 * Out-of-fold maps: averaging maps of groups a model was trained on shows what it memorised
 * of them, not what generalises; a group summary must average maps of models that never saw
 * the group (Varoquaux et al. 2017 on decoders; the same holds for their maps).
 */
#include "driver-int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xai/relevance.h"

void xai_driver_explain_options_init(xai_driver_explain_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->target.kind = XAI_TARGET_PRED;
    o->target.cls = -1;
    o->start = XAI_DRIVER_START_STABLE;
    o->method = XAI_METHOD_LRP;
    o->batch = 64;
    o->out_of_fold = 1;
    o->normalise = 1;
    o->check_factor = XAI_RELEVANCE_FACTOR;
}

void xai_driver_explanation_free(xai_driver_explanation *e)
{
    if (!e)
        return;
    free(e->rel);
    free(e->logits);
    free(e->pred);
    free(e->target);
    free(e->fold);
    free(e->flags);
    free(e->rel_sum);
    free(e->init_sum);
    free(e->l1);
    memset(e, 0, sizeof *e);
}

const char *xai_driver_start_name(xai_driver_start s)
{
    static const char *const names[] = {"stable", "onehot", "logit", "logodds", "contrast"};
    return s >= 0 && s < (int)(sizeof names / sizeof *names) ? names[s] : "stable";
}

static xai_status alloc_result(xai_driver_explanation *e, int64_t n, int64_t numel, int nc)
{
    e->n = n;
    e->numel = numel;
    e->nclasses = nc;
    size_t un = (size_t)(n > 0 ? n : 1);
    e->rel = calloc(un * (size_t)numel, sizeof *e->rel);
    e->logits = calloc(un * (size_t)nc, sizeof *e->logits);
    e->pred = calloc(un, sizeof *e->pred);
    e->target = calloc(un, sizeof *e->target);
    e->fold = calloc(un, sizeof *e->fold);
    e->flags = calloc(un, sizeof *e->flags);
    e->rel_sum = calloc(un, sizeof *e->rel_sum);
    e->init_sum = calloc(un, sizeof *e->init_sum);
    e->l1 = calloc(un, sizeof *e->l1);
    if (!e->rel || !e->logits || !e->pred || !e->target || !e->fold || !e->flags || !e->rel_sum || !e->init_sum ||
        !e->l1)
        return xai_error_set(XAI_ENOMEM, "driver: out of memory for %lld maps", (long long)n);
    return XAI_OK;
}

/* The group name of sample @p i, or NULL when the dataset has no groups. Unnamed groups are
 * "group-K" (1-based), as training names them. */
static const char *group_name(const xai_dataset *d, int64_t i, char *buf, size_t cap)
{
    if (!d->group || d->group[i] < 0 || d->group[i] >= d->ngroups)
        return NULL;
    if (d->group_names && d->group_names[d->group[i]])
        return d->group_names[d->group[i]];
    snprintf(buf, cap, "group-%d", d->group[i] + 1);
    return buf;
}

/* Which model explains each sample, and whether that model saw the sample's group. */
int xai_driver_set_model_for(const xai_driver_set *s, const char *group, int out_of_fold)
{
    for (int k = 0; s && out_of_fold && group && k < s->nfolds; k++)
        if (xai_driver_names_has(&s->fold_heldout[k], group))
            return k;
    return -1;
}

static void assign_models(const xai_driver_set *s, const xai_dataset *d, int oof, xai_driver_explanation *e)
{
    for (int64_t i = 0; i < d->n; i++) {
        char buf[32];
        const char *g = group_name(d, i, buf, sizeof buf);
        e->fold[i] = xai_driver_set_model_for(s, g, oof);
        if (e->fold[i] < 0 && g && xai_driver_names_has(&s->trained, g)) {
            e->flags[i] |= XAI_DRIVER_FLAG_IN_SAMPLE;
            e->n_in_sample++;
        }
    }
}

/* Per-sample targets for xai_explain (-1: the argmax); NO_TARGET samples get -2 (skipped). */
static xai_status assign_targets(const xai_dataset *d, const xai_target *t, int nc, xai_driver_explanation *e)
{
    if (t->kind == XAI_TARGET_TRUE && !d->y)
        return xai_error_set(XAI_EINVAL, "driver: target \"true\" needs labels, and the data has none");
    if (t->kind == XAI_TARGET_CLASS && (t->cls < 0 || t->cls >= nc))
        return xai_error_set(XAI_EINVAL, "driver: target class %d outside 0..%d", t->cls, nc - 1);
    for (int64_t i = 0; i < d->n; i++) {
        if (t->kind == XAI_TARGET_PRED)
            e->target[i] = -1;
        else if (t->kind == XAI_TARGET_CLASS)
            e->target[i] = t->cls;
        else if (d->y[i] >= 0 && d->y[i] < nc)
            e->target[i] = d->y[i];
        else {
            e->target[i] = -2;
            e->flags[i] |= XAI_DRIVER_FLAG_NO_TARGET;
        }
    }
    return XAI_OK;
}

/* The explain configuration for model @p m; *rules is the string to free afterwards. */
xai_status xai_driver_explain_config(const xai_model *m, const xai_driver_explain_options *o, xai_explain_config *c,
                                     char **rules)
{
    xai_explain_config_init(c);
    *rules = NULL;
    c->method = o->method;
    if (o->composite)
        c->composite = o->composite;
    c->rules = o->rules;
    if (o->have_bounds) {
        c->have_bounds = 1;
        c->low = o->low;
        c->high = o->high;
    }
    c->box_low = o->box_low; /* aligned with the dataset, as the caller gave them */
    c->box_high = o->box_high;
    c->batch = o->batch;
    c->layer_sums = 0;
    if (o->start == XAI_DRIVER_START_ONEHOT)
        c->init = XAI_INIT_ONEHOT;
    else if (o->start == XAI_DRIVER_START_LOGIT)
        c->init = XAI_INIT_LOGIT;
    else if (o->start == XAI_DRIVER_START_LOGODDS)
        c->init = XAI_INIT_LOGODDS;
    else if (o->start == XAI_DRIVER_START_CONTRAST)
        c->init = XAI_INIT_CONTRAST;
    else if (o->method == XAI_METHOD_LRP)
        return xai_explain_config_stable(m, c, rules);
    return XAI_OK;
}

/* One batch of explanations: gather, explain, check, scatter. */
typedef struct {
    const xai_dataset *d;
    const xai_driver_explain_options *o;
    xai_driver_explanation *e;
    float *xb, *rb;          /* [batch][numel] */
    float *lb, *hb;          /* [batch][numel] the per-element bounds of the batch, or NULL */
    int *tb;                 /* [batch] */
    int64_t *flagged;        /* [batch] */
    int64_t done;
} batch_ctx;

static void report_departs(batch_ctx *b, const xai_explain_result *r, const int64_t *idx)
{
    int64_t nf = 0;
    double factor = b->o->check_factor > 1 ? b->o->check_factor : XAI_RELEVANCE_FACTOR;
    if (xai_relevance_check(r, factor, b->flagged, &nf, NULL))
        return;
    for (int64_t j = 0; j < nf; j++) {
        int64_t i = idx[b->flagged[j]];
        b->e->flags[i] |= XAI_DRIVER_FLAG_DEPARTS;
        b->e->n_departs++;
        if (!b->o->warn)
            continue;
        char buf[32];
        const char *g = group_name(b->d, i, buf, sizeof buf);
        char line[256];
        snprintf(line, sizeof line, "sample %lld%s%s%s: relevance sum %.4g departs from its start %.4g by more "
                 "than a factor %g", (long long)i, g ? " (" : "", g ? g : "", g ? ")" : "", r->rel_sum[b->flagged[j]],
                 r->init_sum[b->flagged[j]], factor);
        b->o->warn(b->o->warn_ud, line);
    }
}

static xai_status explain_batch(batch_ctx *b, const xai_model *m, const xai_explain_config *cfg,
                                const int64_t *idx, int64_t nb)
{
    int64_t ne = b->e->numel, nc = b->e->nclasses;
    for (int64_t j = 0; j < nb; j++) {
        memcpy(b->xb + j * ne, b->d->x + idx[j] * ne, sizeof(float) * (size_t)ne);
        if (b->lb) {
            memcpy(b->lb + j * ne, b->o->box_low + idx[j] * ne, sizeof(float) * (size_t)ne);
            memcpy(b->hb + j * ne, b->o->box_high + idx[j] * ne, sizeof(float) * (size_t)ne);
        }
        b->tb[j] = b->e->target[idx[j]];
    }
    xai_explain_config c = *cfg;
    c.targets = b->tb;
    c.box_low = b->lb;
    c.box_high = b->hb;
    xai_explain_result r;
    memset(&r, 0, sizeof r);
    xai_status st = xai_explain(m, &c, nb, b->xb, b->rb, &r);
    if (st) {
        xai_explain_result_free(&r);
        return st;
    }
    for (int64_t j = 0; j < nb; j++) {
        int64_t i = idx[j];
        memcpy(b->e->rel + i * ne, b->rb + j * ne, sizeof(float) * (size_t)ne);
        memcpy(b->e->logits + i * nc, r.logits + j * nc, sizeof(float) * (size_t)nc);
        b->e->target[i] = r.target[j];
        b->e->rel_sum[i] = r.rel_sum[j];
        b->e->init_sum[i] = r.init_sum[j];
    }
    report_departs(b, &r, idx);
    xai_explain_result_free(&r);
    b->done += nb;
    if (b->o->progress)
        b->o->progress(b->o->progress_ud, "explain", b->done, b->d->n, NULL);
    return XAI_OK;
}

/* Explain every sample assigned to model @p k (-1: the model for new data). */
static xai_status explain_with(batch_ctx *b, const xai_driver_set *s, int k, int64_t *idx)
{
    const xai_model *m = k < 0 ? s->model : s->fold_model[k];
    int64_t cnt = 0;
    for (int64_t i = 0; i < b->d->n; i++)
        if (b->e->fold[i] == k && !(b->e->flags[i] & XAI_DRIVER_FLAG_NO_TARGET))
            idx[cnt++] = i;
    if (!cnt)
        return XAI_OK;
    xai_explain_config cfg;
    char *rules = NULL;
    xai_status st = xai_driver_explain_config(m, b->o, &cfg, &rules);
    if (!st) /* the workspaces for these batches, made once */
        st = xai_model_prepare(m, cnt < b->o->batch ? cnt : b->o->batch, &cfg);
    for (int64_t j0 = 0; !st && j0 < cnt; j0 += b->o->batch) {
        int64_t nb = cnt - j0 < b->o->batch ? cnt - j0 : b->o->batch;
        st = explain_batch(b, m, &cfg, idx + j0, nb);
    }
    free(rules);
    return st;
}

/* Predictions, the raw L1 of each map, and the normalisation. */
static xai_status finish(xai_driver_explanation *e, int normalise)
{
    for (int64_t i = 0; i < e->n; i++) {
        int best = 0;
        for (int c = 1; c < e->nclasses; c++)
            if (e->logits[i * e->nclasses + c] > e->logits[i * e->nclasses + best])
                best = c;
        e->pred[i] = best;
        if (e->flags[i] & XAI_DRIVER_FLAG_NO_TARGET)
            e->target[i] = -1;
    }
    if (normalise)
        return xai_relevance_normalise(e->rel, e->n, e->numel, e->l1);
    for (int64_t i = 0; i < e->n; i++) {
        double a = 0;
        for (int64_t j = 0; j < e->numel; j++)
            a += fabs((double)e->rel[i * e->numel + j]);
        e->l1[i] = a;
    }
    return XAI_OK;
}

/* The card's warnings: passed on, or (strict) an error. */
static xai_status trust(const xai_driver_set *s, const xai_driver_explain_options *o, xai_driver_explanation *e)
{
    int count = 0;
    const char *text = xai_driver_set_warnings(s, &count);
    e->untrusted = count;
    if (count && o->strict)
        return xai_error_set(XAI_EINVAL, "strict: %s", text);
    xai_driver_warn_lines(o->warn, o->warn_ud, text);
    return XAI_OK;
}

static xai_status explain_check(const xai_driver_set *s, const xai_dataset *d, const xai_driver_explain_options *o,
                                xai_driver_explanation *out)
{
    if (!s || !s->model || !d || !o || !out)
        return xai_error_set(XAI_EINVAL, "driver: NULL argument");
    memset(out, 0, sizeof *out);
    out->start = xai_driver_start_name(o->start);
    int64_t numel = xai_dataset_sample_size(d);
    if (numel != xai_model_input_numel(s->model) || (d->n > 0 && !d->x) || d->n < 0)
        return xai_error_set(XAI_ESHAPE, "driver: the data has %lld values per sample, the model takes %lld",
                             (long long)numel, (long long)xai_model_input_numel(s->model));
    if (o->batch < 1)
        return xai_error_set(XAI_EINVAL, "driver: batch must be at least 1");
    if (!o->box_low != !o->box_high)
        return xai_error_set(XAI_EINVAL, "driver: per-element z-box bounds need both box_low and box_high");
    return XAI_OK;
}

xai_status xai_driver_explain(const xai_driver_set *s, const xai_dataset *d, const xai_driver_explain_options *o,
                              xai_driver_explanation *out)
{
    xai_status st = explain_check(s, d, o, out);
    if (!st)
        st = trust(s, o, out);
    if (st)
        return st;
    int nc = (int)xai_model_output_numel(s->model);
    int64_t numel = xai_dataset_sample_size(d), cap = o->batch < d->n ? o->batch : (d->n > 0 ? d->n : 1);
    const size_t bsz = sizeof(float) * (size_t)(cap * numel);
    batch_ctx b = {d, o, out, malloc(bsz), malloc(bsz), o->box_low ? malloc(bsz) : NULL,
                   o->box_low ? malloc(bsz) : NULL, malloc(sizeof(int) * (size_t)cap),
                   malloc(sizeof(int64_t) * (size_t)cap), 0};
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)(d->n > 0 ? d->n : 1));
    st = alloc_result(out, d->n, numel, nc);
    if (!st && (!b.xb || !b.rb || !b.tb || !b.flagged || !idx || (o->box_low && (!b.lb || !b.hb))))
        st = xai_error_set(XAI_ENOMEM, "driver: out of memory");
    if (!st) {
        assign_models(s, d, o->out_of_fold, out);
        st = assign_targets(d, &o->target, nc, out);
    }
    for (int k = -1; !st && k < s->nfolds; k++)
        st = explain_with(&b, s, k, idx);
    if (!st)
        st = finish(out, o->normalise);
    if (!st && o->progress && b.done < d->n) /* unexplained (NO_TARGET) samples count as done */
        o->progress(o->progress_ud, "explain", d->n, d->n, NULL);
    free(b.xb);
    free(b.rb);
    free(b.lb);
    free(b.hb);
    free(b.tb);
    free(b.flagged);
    free(idx);
    return st;
}

xai_status xai_driver_mean_maps(const xai_driver_explanation *e, const int *key, int nkeys, int include_in_sample,
                                float *out, int64_t *count)
{
    if (!e || !key || nkeys < 1 || !out)
        return xai_error_set(XAI_EINVAL, "driver: mean maps need an explanation, keys and an output");
    double *acc = calloc((size_t)nkeys * (size_t)e->numel, sizeof *acc);
    int64_t *cnt = calloc((size_t)nkeys, sizeof *cnt);
    if (!acc || !cnt) {
        free(acc);
        free(cnt);
        return xai_error_set(XAI_ENOMEM, "driver: out of memory");
    }
    unsigned skip = XAI_DRIVER_FLAG_NO_TARGET | (include_in_sample ? 0u : XAI_DRIVER_FLAG_IN_SAMPLE);
    for (int64_t i = 0; i < e->n; i++) {
        if (key[i] < 0 || key[i] >= nkeys || (e->flags[i] & skip))
            continue;
        double *a = acc + (size_t)key[i] * (size_t)e->numel;
        for (int64_t j = 0; j < e->numel; j++)
            a[j] += e->rel[i * e->numel + j];
        cnt[key[i]]++;
    }
    for (int k = 0; k < nkeys; k++) {
        for (int64_t j = 0; j < e->numel; j++)
            out[(size_t)k * (size_t)e->numel + j] =
                cnt[k] ? (float)(acc[(size_t)k * (size_t)e->numel + j] / (double)cnt[k]) : 0.0f;
        if (count)
            count[k] = cnt[k];
    }
    free(acc);
    free(cnt);
    return XAI_OK;
}
