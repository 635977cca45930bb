/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * driver.c - training under grouped validation (xai/driver.h): one model per fold trained on
 * the other groups, early stopping on an inner grouped split of the training groups only, the
 * ridge baseline on the same split, held-out statistics and verdicts, and the model for new
 * data. The card is filled in driver-card.c; the set's files are in driver-set.c.
 *
 * Why an inner split: the reported accuracy must be that of groups no decision was tuned on.
 * Stopping on the held-out groups themselves picks the epoch that suits them, which is
 * selection on the test set (Varoquaux et al. 2017, NeuroImage 145: "Assessing and tuning
 * brain decoders: cross-validation, caveats, and guidelines").
 */
#include "driver-int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xai_driver_train_options_init(xai_driver_train_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->scheme = XAI_SPLIT_HOLDOUT;
    o->folds = 5;
    o->holdout_frac = 0.25;
    xai_train_config_init(&o->train);
    o->inner_frac = 0.2;
    o->baseline = 1;
    o->refit_all = 1;
}

/* State of one xai_driver_train() call. */
typedef struct {
    const xai_dataset *d;
    const xai_driver_train_options *o;
    int64_t numel;
    name_list gnames;        /* a name per group (made up when the dataset has none) */
    int warned_no_inner;
    char task[48];           /* progress task of the model in training */
    int kept_epoch;          /* of the last model trained */
    double kept_acc;
    void *state;             /* the prep step's state of the last model trained (NULL: none) */
} train_ctx;

static void warnf(const train_ctx *t, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void warnf(const train_ctx *t, const char *fmt, ...)
{
    if (!t->o->warn)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    t->o->warn(t->o->warn_ud, line);
}

static void epoch_progress(const xai_train_progress *p, void *ud)
{
    const train_ctx *t = ud;
    char item[160];
    if (isnan(p->val_loss))
        snprintf(item, sizeof item, "epoch %d loss %.4f acc %.3f", p->epoch, p->train_loss, p->train_acc);
    else
        snprintf(item, sizeof item, "epoch %d loss %.4f acc %.3f val_loss %.4f val_acc %.3f", p->epoch,
                 p->train_loss, p->train_acc, p->val_loss, p->val_acc);
    t->o->progress(t->o->progress_ud, t->task, p->epoch, p->epochs, item);
}

/* The seed of model @p k (k = -1: the model for new data), distinct per model and reproducible
 * (or train.seed itself for every model with shared_start). */
static uint64_t model_seed(const train_ctx *t, int k)
{
    uint64_t seed = t->o->train.seed;
    return t->o->shared_start ? seed : seed + 0x9e3779b97f4a7c15ull * (uint64_t)(k + 1);
}

/* Release the prep state of the last model trained. */
static void state_drop(train_ctx *t)
{
    if (t->state && t->o->prep->free_state)
        t->o->prep->free_state(t->o->prep->ud, t->state);
    t->state = NULL;
}

/* The samples idx[0..k) into @p x (k * numel floats), transformed by the prep state. */
static xai_status rows_prepared(const train_ctx *t, const int64_t *idx, int64_t k, float *x)
{
    int64_t ne = t->numel;
    for (int64_t i = 0; i < k; i++)
        memcpy(x + i * ne, t->d->x + idx[i] * ne, sizeof(float) * (size_t)ne);
    return t->o->prep ? t->o->prep->apply(t->o->prep->ud, t->state, x, k) : XAI_OK;
}

static xai_status check_inputs(const xai_dataset *d, const xai_driver_train_options *o, int64_t *numel)
{
    if (!d || !o)
        return xai_error_set(XAI_EINVAL, "driver: NULL argument");
    *numel = xai_dataset_sample_size(d);
    if (*numel < 1 || !d->x || d->n < 2)
        return xai_error_set(XAI_EINVAL, "driver: the dataset needs at least 2 samples of a valid shape");
    if (!d->y || d->nclasses < 2)
        return xai_error_set(XAI_EINVAL, "driver: training needs labels of at least 2 classes");
    for (int64_t i = 0; i < d->n; i++)
        if (d->y[i] < 0 || d->y[i] >= d->nclasses)
            return xai_error_set(XAI_EINVAL, "driver: sample %lld has label %d, outside 0..%d", (long long)i,
                                 d->y[i], d->nclasses - 1);
    if ((!d->group || d->ngroups < 1) && !o->allow_within)
        return xai_error_set(XAI_EINVAL, "driver: the dataset has no groups to validate across (subjects, runs, "
                                         "speakers): a model cannot be validated on unseen groups");
    for (int64_t i = 0; d->group && i < d->n; i++)
        if (d->group[i] < 0 || d->group[i] >= d->ngroups)
            return xai_error_set(XAI_EINVAL, "driver: sample %lld has group %d, outside 0..%d", (long long)i,
                                 d->group[i], d->ngroups - 1);
    if (!o->arch == !o->init_model)
        return xai_error_set(XAI_EINVAL, "driver: give either an architecture (arch) or a model to fine-tune "
                                         "(init_model)");
    if (o->scheme == XAI_SPLIT_WITHIN && !o->allow_within)
        return xai_error_set(XAI_EINVAL, "driver: a within-group split needs allow_within");
    if (o->prep && (!o->prep->fit || !o->prep->apply))
        return xai_error_set(XAI_EINVAL, "driver: a prep step needs fit and apply");
    if (o->prep && !o->prep->card_record != !o->prep->card_key)
        return xai_error_set(XAI_EINVAL, "driver: a prep step's card_record and card_key go together");
    if (!(o->holdout_frac > 0 && o->holdout_frac < 1) || !(o->inner_frac > 0 && o->inner_frac < 1))
        return xai_error_set(XAI_EINVAL, "driver: holdout_frac and inner_frac must lie in (0, 1)");
    return XAI_OK;
}

static xai_status make_group_names(train_ctx *t)
{
    const xai_dataset *d = t->d;
    for (int g = 0; g < d->ngroups; g++) {
        char buf[32];
        snprintf(buf, sizeof buf, "group-%d", g + 1);
        const char *name = d->group_names && d->group_names[g] ? d->group_names[g] : buf;
        if (xai_driver_names_add(&t->gnames, name))
            return xai_error_set(XAI_ENOMEM, "driver: out of memory");
    }
    return XAI_OK;
}

/* A new model to train: from the arch spec, or the fine-tuning start read again. */
static xai_status new_model(const train_ctx *t, uint64_t seed, xai_model **m)
{
    const xai_dataset *d = t->d;
    xai_status st = t->o->arch ? xai_model_from_spec(t->o->arch, d->ndim, d->shape, seed, m)
                               : xai_model_load_onnx(t->o->init_model, NULL, m);
    if (st)
        return t->o->init_model ? xai_error_prefix(st, t->o->init_model) : st;
    if (xai_model_input_numel(*m) != t->numel || xai_model_output_numel(*m) != d->nclasses) {
        st = xai_error_set(XAI_ESHAPE, "driver: the model takes %lld values and gives %lld outputs; the data has "
                           "%lld values per sample and %d classes", (long long)xai_model_input_numel(*m),
                           (long long)xai_model_output_numel(*m), (long long)t->numel, d->nclasses);
        xai_model_free(*m);
        *m = NULL;
    }
    return st;
}

/* The training part of a model's samples: copies of x, y, group for the indices @p idx[0..k),
 * room for the augmented copies, and the inner validation mask. */
typedef struct {
    int64_t n;               /* samples including augmented copies */
    float *x;
    int *y, *g;
    unsigned char *val;
} train_part;

static void part_free(train_part *p)
{
    free(p->x);
    free(p->y);
    free(p->g);
    free(p->val);
    memset(p, 0, sizeof *p);
}

static xai_status part_gather(const train_ctx *t, const int64_t *idx, int64_t k, int copies, train_part *p)
{
    int64_t cap = k * (1 + copies), ne = t->numel;
    p->x = malloc(sizeof(float) * (size_t)(cap * ne));
    p->y = malloc(sizeof(int) * (size_t)cap);
    p->g = malloc(sizeof(int) * (size_t)cap);
    p->val = calloc((size_t)cap, 1);
    if (!p->x || !p->y || !p->g || !p->val)
        return xai_error_set(XAI_ENOMEM, "driver: out of memory for %lld training samples", (long long)cap);
    for (int64_t i = 0; i < k; i++) {
        memcpy(p->x + i * ne, t->d->x + idx[i] * ne, sizeof(float) * (size_t)ne);
        p->y[i] = t->d->y[idx[i]];
        p->g[i] = t->o->inner_group ? t->o->inner_group[idx[i]] : t->d->group ? t->d->group[idx[i]] : 0;
    }
    p->n = k;
    return XAI_OK;
}

/* Inner grouped hold-out of the training groups for early stopping; none with one group. */
static xai_status part_inner_split(train_ctx *t, train_part *p, uint64_t seed)
{
    if (t->o->train.patience <= 0)
        return XAI_OK; /* no early stopping asked for: every training group trains, all epochs run */
    xai_split in = {0};
    xai_status st = xai_split_groups(p->g, p->y, p->n, XAI_SPLIT_HOLDOUT, t->o->inner_frac, 0, seed, &in);
    if (st == XAI_EINVAL) { /* one training group: nothing to stop on without leaking */
        xai_error_clear();
        if (!t->warned_no_inner && t->o->train.patience > 0)
            warnf(t, "one training group: no inner validation split, so no early stopping (all %d epochs run)",
                  t->o->train.epochs);
        t->warned_no_inner = 1;
        return XAI_OK;
    }
    if (st)
        return st;
    for (int64_t i = 0; i < p->n; i++)
        p->val[i] = in.fold[i] == 0;
    xai_split_free(&in);
    return XAI_OK;
}

/* Append @p copies augmented copies of the training (not validation) samples. */
static xai_status part_augment(const train_ctx *t, train_part *p, int copies, uint64_t seed)
{
    int64_t ne = t->numel, n0 = p->n;
    for (int c = 0; c < copies; c++) {
        int64_t start = p->n;
        for (int64_t i = 0; i < n0; i++) {
            if (p->val[i])
                continue;
            memcpy(p->x + p->n * ne, p->x + i * ne, sizeof(float) * (size_t)ne);
            p->y[p->n] = p->y[i];
            p->g[p->n] = p->g[i];
            p->val[p->n++] = 0;
        }
        xai_status st = t->o->augment(t->o->augment_ud, p->x + start * ne, p->n - start, t->d->ndim, t->d->shape,
                                      seed + (uint64_t)c);
        if (st)
            return st;
    }
    return XAI_OK;
}

/* The prep step's card record of the model just fitted into @p slot (replacing what it held). */
static xai_status card_record(const train_ctx *t, char **slot)
{
    const xai_driver_prep *pp = t->o->prep;
    if (!pp || !pp->card_record || !pp->card_key)
        return XAI_OK;
    free(*slot);
    *slot = NULL;
    return pp->card_record(pp->ud, t->state, slot);
}

/* Train one model on the samples @p idx[0..k); its prep step's card record into @p record. */
static xai_status train_one(train_ctx *t, const int64_t *idx, int64_t k, uint64_t seed, char **record,
                            xai_model **out)
{
    const xai_driver_train_options *o = t->o;
    int copies = o->augment ? (o->augment_copies > 0 ? o->augment_copies : 1) : 0;
    train_part p = {0};
    xai_model *m = NULL;
    xai_status st = part_gather(t, idx, k, copies, &p);
    state_drop(t);
    if (!st && o->prep)
        st = o->prep->fit(o->prep->ud, idx, k, p.x, p.y, &t->state);
    if (!st)
        st = part_inner_split(t, &p, seed);
    if (!st && copies)
        st = part_augment(t, &p, copies, seed ^ 0x5bd1e995u);
    if (!st)
        st = new_model(t, seed, &m);
    xai_train_config cfg = o->train;
    cfg.seed = seed;
    cfg.val_mask = p.val;
    int64_t nval = 0;
    for (int64_t i = 0; p.val && i < p.n; i++)
        nval += p.val[i];
    if (o->shared_start && !nval) { /* as a plain xai_train() call: no validation at all */
        cfg.val_mask = NULL;
        cfg.val_split = 0;
    }
    cfg.progress = o->progress ? epoch_progress : NULL;
    cfg.progress_ud = t;
    xai_train_result res;
    if (!st)
        st = xai_train(m, &cfg, p.n, p.x, p.y, &res);
    if (!st && o->prep && o->prep->record)
        st = o->prep->record(o->prep->ud, t->state, m, &res);
    if (!st)
        st = card_record(t, record);
    part_free(&p);
    if (st) {
        xai_model_free(m);
        return st;
    }
    t->kept_epoch = res.best_epoch;
    t->kept_acc = res.kept_train_acc;
    *out = m;
    return XAI_OK;
}

/* The split of the dataset's samples into held-out folds. */
static xai_status make_split(train_ctx *t, xai_split *s)
{
    const xai_dataset *d = t->d;
    const xai_driver_train_options *o = t->o;
    uint64_t seed = o->train.seed;
    int present = 0;
    for (int64_t i = 1; d->group && i < d->n && !present; i++)
        present = d->group[i] != d->group[0];
    if (o->scheme != XAI_SPLIT_WITHIN && present)
        return xai_split_groups(d->group, d->y, d->n, o->scheme, o->holdout_frac, o->folds, seed, s);
    if (!o->allow_within)
        return xai_error_set(XAI_EINVAL, "driver: all %lld samples belong to one group (%s): a model cannot be "
                             "validated on unseen groups", (long long)d->n, d->group_kind ? d->group_kind : "group");
    warnf(t, "one %s only: validated within it (samples of one %s on both sides), so the accuracy is optimistic",
          d->group_kind ? d->group_kind : "group", d->group_kind ? d->group_kind : "group");
    return xai_split_groups(NULL, d->y, d->n, XAI_SPLIT_WITHIN, o->holdout_frac, 0, seed, s);
}

/* Indices of fold @p f's training (@p held = 0) or held-out (@p held = 1) samples. */
static int64_t fold_indices(const xai_split *s, int f, int held, int64_t *idx)
{
    int64_t k = 0;
    for (int64_t i = 0; i < s->n; i++)
        if ((s->fold[i] == f) == held)
            idx[k++] = i;
    return k;
}

/* Names of the groups of the samples idx[0..k) into @p l (each once). */
static xai_status groups_of(const train_ctx *t, const int64_t *idx, int64_t k, name_list *l)
{
    for (int64_t i = 0; t->d->group && i < k; i++) {
        const char *name = t->gnames.v[t->d->group[idx[i]]];
        if (!xai_driver_names_has(l, name) && xai_driver_names_add(l, name))
            return xai_error_set(XAI_ENOMEM, "driver: out of memory");
    }
    return XAI_OK;
}

/* Held-out predictions of fold @p f's model for its held-out samples. */
static xai_status predict_fold(const train_ctx *t, const xai_model *m, const int64_t *idx, int64_t k, int *pred)
{
    int64_t ne = t->numel;
    float *x = malloc(sizeof(float) * (size_t)(k * ne));
    int *p = malloc(sizeof(int) * (size_t)k);
    xai_status st = x && p ? XAI_OK : xai_error_set(XAI_ENOMEM, "driver: out of memory");
    if (!st)
        st = rows_prepared(t, idx, k, x);
    if (!st)
        st = xai_predict_classes(m, k, x, p);
    for (int64_t i = 0; !st && i < k; i++)
        pred[idx[i]] = p[i];
    free(x);
    free(p);
    return st;
}

/* Per-fold results collected while training. */
typedef struct {
    int *pred;               /* [n] out-of-fold predictions */
    int *base;               /* [n] the baseline's, fitted fold by fold (with a prep step) */
    int *kept_epoch;         /* [nfolds] */
    double *fold_acc;        /* [nfolds] */
    double *train_acc;       /* [nfolds] */
    double kept_acc_sum;
} fold_results;

/* The ridge baseline of one fold on the prep step's transform of its samples: lambda by the
 * inner grouped CV and the fit on the training samples @p tr only, as xai_ridge_out_of_fold(). */
static xai_status fold_baseline(const train_ctx *t, const int64_t *tr, int64_t ntr, const int64_t *te, int64_t nte,
                                int *base)
{
    const xai_dataset *d = t->d;
    const int *inner = t->o->inner_group ? t->o->inner_group : d->group;
    int64_t nmax = ntr > nte ? ntr : nte;
    float *x = malloc(sizeof(float) * (size_t)(nmax * t->numel));
    int *y = malloc(sizeof(int) * (size_t)nmax), *g = inner ? malloc(sizeof(int) * (size_t)nmax) : NULL;
    xai_ridge *r = NULL;
    double lambda;
    xai_status st = x && y && (g || !inner) ? rows_prepared(t, tr, ntr, x) : xai_error_set(XAI_ENOMEM, "driver: out of memory");
    for (int64_t i = 0; !st && i < ntr; i++) {
        y[i] = d->y[tr[i]];
        if (g)
            g[i] = inner[tr[i]];
    }
    if (!st)
        st = xai_ridge_fit_cv(ntr, t->numel, x, y, d->nclasses, g, t->o->train.seed, &r, &lambda);
    if (!st)
        st = rows_prepared(t, te, nte, x);
    if (!st)
        st = xai_ridge_predict(r, nte, x, y, NULL);
    for (int64_t i = 0; !st && i < nte; i++)
        base[te[i]] = y[i];
    xai_ridge_free(r);
    free(x);
    free(y);
    free(g);
    return st;
}

static xai_status train_folds(train_ctx *t, const xai_split *s, xai_driver_set *set, fold_results *fr)
{
    int64_t *tr = malloc(sizeof(int64_t) * (size_t)s->n), *te = malloc(sizeof(int64_t) * (size_t)s->n);
    xai_status st = tr && te ? XAI_OK : xai_error_set(XAI_ENOMEM, "driver: out of memory");
    const xai_driver_prep *pp = t->o->prep;
    if (!st && pp && pp->card_record && pp->card_key &&
        !(set->fold_record = calloc((size_t)s->nfolds, sizeof(char *))))
        st = xai_error_set(XAI_ENOMEM, "driver: out of memory");
    for (int f = 0; f < s->nfolds && !st; f++) {
        snprintf(t->task, sizeof t->task, "fold %d/%d", f + 1, s->nfolds);
        int64_t ntr = fold_indices(s, f, 0, tr), nte = fold_indices(s, f, 1, te);
        st = groups_of(t, tr, ntr, &set->fold_trained[f]);
        if (!st)
            st = train_one(t, tr, ntr, model_seed(t, f), set->fold_record ? &set->fold_record[f] : NULL,
                           &set->fold_model[f]);
        if (st)
            break;
        fr->kept_epoch[f] = t->kept_epoch;
        fr->train_acc[f] = t->kept_acc;
        fr->kept_acc_sum += t->kept_acc;
        st = groups_of(t, te, nte, &set->fold_heldout[f]);
        if (!st)
            st = predict_fold(t, set->fold_model[f], te, nte, fr->pred);
        if (!st && fr->base)
            st = fold_baseline(t, tr, ntr, te, nte, fr->base);
        int64_t ok = 0;
        for (int64_t i = 0; i < nte; i++)
            ok += fr->pred[te[i]] == t->d->y[te[i]];
        fr->fold_acc[f] = nte ? (double)ok / (double)nte : NAN;
        state_drop(t);
    }
    state_drop(t);
    free(tr);
    free(te);
    return st;
}

/* A copy of model @p m (through its ONNX bytes). */
static xai_status copy_model(const xai_model *m, xai_model **out)
{
    void *buf = NULL;
    size_t len = 0;
    xai_status st = xai_model_save_onnx_mem(m, NULL, &buf, &len);
    if (!st)
        st = xai_model_load_onnx_mem(buf, len, "fold 1", NULL, out);
    free(buf);
    return st;
}

/* The model for new data: the hold-out's one model, or one trained on every group after a
 * cross-validation (refit_all) or a hold-out (refit_holdout), or a copy of fold 1. */
xai_final_kind xai_driver_final_kind(const xai_driver_train_options *o, int within_group, int nfolds)
{
    if (within_group)
        return XAI_FINAL_VALIDATION_MODEL;
    if (nfolds <= 1)
        return o->refit_holdout ? XAI_FINAL_REFIT : XAI_FINAL_VALIDATION_MODEL;
    return o->refit_all ? XAI_FINAL_REFIT : XAI_FINAL_FOLD1_COPY;
}

static xai_status final_model(train_ctx *t, const xai_split *s, xai_driver_set *set)
{
    xai_final_kind kind = xai_driver_final_kind(t->o, s->within_group, s->nfolds);
    if (kind == XAI_FINAL_VALIDATION_MODEL) {
        set->model = set->fold_model[0];
        set->trained = set->fold_trained[0];
        set->fold_model[0] = NULL;
        memset(&set->fold_trained[0], 0, sizeof set->fold_trained[0]);
        if (set->fold_record) {
            set->record = set->fold_record[0];
            set->fold_record[0] = NULL;
        }
        for (int k = 0; k < set->nfolds; k++)
            xai_driver_names_free(&set->fold_heldout[k]);
        set->nfolds = 0; /* a hold-out has no fold set: its model's trained groups flag in-sample maps */
        return XAI_OK;
    }
    if (kind == XAI_FINAL_FOLD1_COPY) {
        for (int i = 0; i < set->fold_trained[0].n; i++)
            if (xai_driver_names_add(&set->trained, set->fold_trained[0].v[i]))
                return xai_error_set(XAI_ENOMEM, "driver: out of memory");
        if (set->fold_record && set->fold_record[0] && !(set->record = strdup(set->fold_record[0])))
            return xai_error_set(XAI_ENOMEM, "driver: out of memory");
        return copy_model(set->fold_model[0], &set->model);
    }
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)s->n);
    if (!idx)
        return xai_error_set(XAI_ENOMEM, "driver: out of memory");
    for (int64_t i = 0; i < s->n; i++)
        idx[i] = i;
    snprintf(t->task, sizeof t->task, "final");
    xai_status st = groups_of(t, idx, s->n, &set->trained);
    if (!st)
        st = train_one(t, idx, s->n, model_seed(t, -1), &set->record, &set->model);
    state_drop(t);
    free(idx);
    return st;
}

static char *join_never_predicted(const xai_validation *v, const xai_dataset *d)
{
    size_t cap = 1;
    for (int i = 0; i < v->verdict.n_never_predicted; i++)
        cap += 34 + (d->class_names && d->class_names[v->verdict.never_predicted[i]]
                         ? strlen(d->class_names[v->verdict.never_predicted[i]]) : 0);
    char *s = calloc(cap, 1);
    for (int i = 0; s && i < v->verdict.n_never_predicted; i++) {
        int c = v->verdict.never_predicted[i];
        size_t len = strlen(s);
        if (d->class_names && d->class_names[c])
            snprintf(s + len, cap - len, "%s%s", i ? ", " : "", d->class_names[c]);
        else
            snprintf(s + len, cap - len, "%s%d", i ? ", " : "", c);
    }
    return s;
}

static xai_status fill_summary(xai_driver_set *set, const xai_validation *v, const xai_dataset *d,
                               fold_results *fr, int nfolds)
{
    xai_driver_summary *s = &set->summary;
    set->never_predicted = join_never_predicted(v, d);
    set->group_kind = strdup(d->group_kind ? d->group_kind : "group");
    if (!set->never_predicted || !set->group_kind)
        return xai_error_set(XAI_ENOMEM, "driver: out of memory");
    s->scheme = v->scheme;
    s->group_kind = set->group_kind;
    s->n_groups = v->n_groups;
    s->n_folds = v->n_folds;
    s->n_heldout = v->pooled.n;
    s->accuracy = v->pooled.accuracy;
    s->balanced_accuracy = v->pooled.balanced_accuracy;
    s->chance = v->pooled.chance;
    s->ci_low = v->pooled.ci_low;
    s->ci_high = v->pooled.ci_high;
    s->p_value = v->pooled.p_value;
    s->fold_mean = v->fold_mean;
    s->fold_sd = v->fold_sd;
    s->baseline_name = v->baseline_name ? "ridge" : NULL;
    s->baseline_accuracy = v->baseline_accuracy;
    s->above_chance = v->verdict.above_chance;
    s->loses_to_baseline = v->verdict.loses_to_baseline;
    s->n_never_predicted = v->verdict.n_never_predicted;
    s->never_predicted = set->never_predicted;
    s->within_group = v->within_group;
    s->kept_train_acc = fr->kept_acc_sum / nfolds;
    double e = 0;
    for (int f = 0; f < nfolds; f++)
        e += fr->kept_epoch[f];
    s->mean_best_epoch = e / nfolds;
    s->n_warnings = set->nwarnings;
    s->oof_pred = set->oof_pred = fr->pred; /* the set owns them from here on */
    s->fold_kept_epoch = set->fold_kept = fr->kept_epoch;
    s->fold_train_acc = set->fold_train = fr->train_acc;
    fr->pred = fr->kept_epoch = NULL;
    fr->train_acc = NULL;
    set->have_summary = 1;
    return XAI_OK;
}

/* A copy of the domain's card, or a new one. */
static xai_status card_start(const xai_card *in, xai_card **out)
{
    if (!in)
        return xai_card_new(out);
    char *text = NULL;
    xai_status st = xai_card_to_json(in, 0, &text);
    if (!st)
        st = xai_card_from_json(text, out);
    xai_free(text);
    return st;
}

/* Out-of-fold statistics, the card, and the card applied to every model of the set. */
static xai_status validate_and_card(train_ctx *t, const xai_split *s, xai_driver_set *set, fold_results *fr,
                                    const xai_card *card_in)
{
    const xai_dataset *d = t->d;
    int *base = NULL;
    xai_status st = XAI_OK;
    if (t->o->baseline && fr->base) {
        base = fr->base; /* fitted fold by fold on the prep step's transform */
        fr->base = NULL;
    } else if (t->o->baseline) {
        if (t->o->progress)
            t->o->progress(t->o->progress_ud, "baseline", 0, 1, NULL);
        base = malloc(sizeof(int) * (size_t)d->n);
        const int *inner = t->o->inner_group ? t->o->inner_group : d->group;
        st = base ? xai_ridge_out_of_fold(s, t->numel, d->x, d->y, d->nclasses, inner, t->o->train.seed, base)
                  : xai_error_set(XAI_ENOMEM, "driver: out of memory");
        if (!st && t->o->progress)
            t->o->progress(t->o->progress_ud, "baseline", 1, 1, NULL);
    }
    xai_validation v = {0};
    if (!st)
        st = xai_validation_summarise(s, d->group_kind, d->y, fr->pred, d->nclasses, "ridge", base, &v);
    free(base);
    xai_driver_record rec = {d, t->o, &v, &t->gnames, fr->kept_epoch, fr->fold_acc, fr->kept_acc_sum / s->nfolds};
    if (!st)
        st = card_start(card_in, &set->card);
    if (!st)
        st = xai_driver_card_fill(set->card, &rec);
    const char *key = t->o->prep && t->o->prep->card_record ? t->o->prep->card_key : NULL;
    if (!st && set->record && key)
        st = xai_card_set_json(set->card, key, set->record);
    if (!st && key && !(set->record_key = strdup(key)))
        st = xai_error_set(XAI_ENOMEM, "driver: out of memory");
    if (!st)
        st = xai_card_apply(set->model, set->card);
    if (!st)
        st = xai_driver_set_refresh_warnings(set);
    if (!st)
        st = fill_summary(set, &v, d, fr, s->nfolds);
    xai_validation_free(&v);
    return st;
}

xai_status xai_driver_train(const xai_dataset *d, const xai_driver_train_options *o, const xai_card *card_in,
                            xai_driver_set **out)
{
    int64_t numel = 0;
    xai_status st = check_inputs(d, o, &numel);
    if (st || !out)
        return st ? st : xai_error_set(XAI_EINVAL, "driver: NULL argument");
    *out = NULL;
    train_ctx t = {.d = d, .o = o, .numel = numel};
    xai_split s = {0};
    xai_driver_set *set = NULL;
    fold_results fr = {0};
    if (!(st = make_group_names(&t)))
        st = make_split(&t, &s);
    if (!st) {
        set = xai_driver_set_alloc(s.nfolds);
        fr.pred = malloc(sizeof(int) * (size_t)d->n);
        fr.kept_epoch = calloc((size_t)s.nfolds, sizeof(int));
        fr.fold_acc = calloc((size_t)s.nfolds, sizeof(double));
        fr.train_acc = calloc((size_t)s.nfolds, sizeof(double));
        fr.base = o->prep && o->baseline ? malloc(sizeof(int) * (size_t)d->n) : NULL;
        if (!set || !fr.pred || !fr.kept_epoch || !fr.fold_acc || !fr.train_acc || (o->prep && o->baseline && !fr.base))
            st = xai_error_set(XAI_ENOMEM, "driver: out of memory");
    }
    for (int64_t i = 0; !st && i < d->n; i++)
        fr.pred[i] = -1;
    for (int64_t i = 0; !st && fr.base && i < d->n; i++)
        fr.base[i] = -1;
    if (!st)
        st = train_folds(&t, &s, set, &fr);
    if (!st)
        st = final_model(&t, &s, set);
    if (!st)
        st = validate_and_card(&t, &s, set, &fr, card_in);
    if (!st)
        xai_driver_warn_lines(o->warn, o->warn_ud, set->warnings);
    free(fr.pred);
    free(fr.base);
    free(fr.kept_epoch);
    free(fr.fold_acc);
    free(fr.train_acc);
    xai_split_free(&s);
    xai_driver_names_free(&t.gnames);
    if (st)
        xai_driver_set_free(set);
    else
        *out = set;
    return st;
}
