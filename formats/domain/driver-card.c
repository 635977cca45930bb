/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * driver-card.c - what the driver writes into the model card after training: the classes,
 * provenance, the validation record (xai/card.h contract) and the training settings.
 */
#define _POSIX_C_SOURCE 200809L
#include "driver-int.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *optimizer_name(xai_optimizer o)
{
    return o == XAI_OPT_SGD ? "sgd" : o == XAI_OPT_ADAMW ? "adamw" : "adam";
}

/* Set @p path to the JSON value @p v (stolen); a NULL @p v (out of memory) fails. */
static xai_status set_value(xai_card *c, const char *path, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(v);
    if (!text)
        return xai_error_set(XAI_ENOMEM, "driver: out of memory");
    xai_status st = xai_card_set_json(c, path, text);
    free(text);
    return st;
}

/* A JSON number, or null for NaN (JSON has no NaN). */
static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static xai_status set_classes(xai_card *c, const xai_dataset *d)
{
    int have = xai_card_class_count(c);
    if (have)
        return have == d->nclasses ? XAI_OK
                                   : xai_error_set(XAI_EINVAL, "driver: the card names %d classes, the data has %d",
                                                   have, d->nclasses);
    if (!d->class_names)
        return XAI_OK;
    json_t *a = json_array();
    for (int k = 0; a && k < d->nclasses; k++)
        json_array_append_new(a, json_string(d->class_names[k] ? d->class_names[k] : ""));
    return set_value(c, "classes", a);
}

static xai_status set_provenance(xai_card *c, const xai_driver_train_options *o)
{
    char date[32] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *keys[] = {"provenance.program", "provenance.version", "provenance.command_line",
                          "provenance.data_digest", "provenance.arch", "provenance.date"};
    const char *vals[] = {o->program, o->version ? o->version : xai_version(), o->command_line, o->data_digest,
                          o->arch ? o->arch : o->init_model, o->date ? o->date : date};
    xai_status st = XAI_OK;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0] && !st; i++)
        if (vals[i] && *vals[i])
            st = set_value(c, keys[i], json_string(vals[i]));
    if (!st)
        st = set_value(c, "provenance.seed", json_integer((json_int_t)(o->train.seed & 0x7fffffffffffffffull)));
    return st;
}

/* The validation object of the card contract. Scheme names outside the contract (the
 * within-group fallback) are recorded as "holdout", which the card warns about. */
static json_t *validation_json(const xai_driver_record *r)
{
    const xai_validation *v = r->val;
    const xai_heldout *h = &v->pooled;
    json_t *o = json_object();
    int within = v->within_group;
    json_object_set_new(o, "scheme", json_string(within ? "holdout" : v->scheme));
    json_object_set_new(o, "n_groups", json_integer(v->n_groups));
    json_object_set_new(o, "n_folds", json_integer(v->n_folds));
    json_object_set_new(o, "n_heldout", json_integer(h->n));
    json_object_set_new(o, "accuracy", json_real(h->accuracy));
    json_object_set_new(o, "balanced_accuracy", json_real(h->balanced_accuracy));
    json_object_set_new(o, "chance_level", json_real(h->chance));
    json_object_set_new(o, "ci95", json_pack("[f,f]", h->ci_low, h->ci_high));
    json_object_set_new(o, "above_chance", json_boolean(v->verdict.above_chance));
    if (v->baseline_name && isfinite(v->baseline_accuracy)) {
        json_object_set_new(o, "baseline", json_pack("{s:s,s:f}", "name", v->baseline_name, "accuracy",
                                                     v->baseline_accuracy));
        json_object_set_new(o, "loses_to_baseline", json_boolean(v->verdict.loses_to_baseline));
    }
    json_t *never = json_array();
    for (int i = 0; i < v->verdict.n_never_predicted; i++) {
        int k = v->verdict.never_predicted[i];
        char buf[24];
        snprintf(buf, sizeof buf, "%d", k);
        const char *name = r->d->class_names && r->d->class_names[k] && *r->d->class_names[k]
                               ? r->d->class_names[k] : buf;
        json_array_append_new(never, json_string(name));
    }
    json_object_set_new(o, "classes_never_predicted", never);
    return o;
}

/* Group kinds the card contract knows; others are kept in training.group_kind only. */
static int known_kind(const char *k)
{
    static const char *const kinds[] = {"subject", "session", "run", "trial", "speaker", "clip", NULL};
    for (int i = 0; k && kinds[i]; i++)
        if (strcmp(k, kinds[i]) == 0)
            return 1;
    return 0;
}

/* How the model for new data was made, as final_model() decides: a cross-validation refits
 * with refit_all, a hold-out with refit_holdout, the within-group fallback never. */
static const char *new_data_model(const xai_driver_train_options *o, const xai_validation *v)
{
    switch (xai_driver_final_kind(o, v->within_group, v->n_folds)) {
    case XAI_FINAL_REFIT:
        return v->n_folds > 1 ? "trained on every group after the cross-validation"
                              : "trained on every group after the hold-out, whose model is kept as fold 1";
    case XAI_FINAL_FOLD1_COPY: return "fold 1's model, trained without the groups fold 1 held out";
    default:
        return v->within_group ? "the validation's model" : "the hold-out's model, trained without the held-out groups";
    }
}

/* Training settings and per-fold numbers (the opaque "training" object). */
static json_t *training_json(const xai_driver_record *r)
{
    const xai_driver_train_options *o = r->o;
    const xai_validation *v = r->val;
    json_t *t = json_object(), *ke = json_array(), *fa = json_array();
    for (int f = 0; f < v->n_folds; f++) {
        json_array_append_new(ke, json_integer(r->kept_epoch[f]));
        json_array_append_new(fa, num(r->fold_acc[f]));
    }
    json_object_set_new(t, "optimizer", json_string(optimizer_name(o->train.optimizer)));
    json_object_set_new(t, "lr", json_real(o->train.lr));
    static const char *const sched[] = {"none", "step", "cosine"};
    json_object_set_new(t, "lr_schedule", json_string(sched[o->train.schedule]));
    json_object_set_new(t, "weight_decay", json_real(o->train.weight_decay));
    json_object_set_new(t, "epochs", json_integer(o->train.epochs));
    json_object_set_new(t, "patience", json_integer(o->train.patience));
    json_object_set_new(t, "batch", json_integer(o->train.batch));
    /* without patience the driver makes no inner split: every epoch runs and the last is kept */
    json_object_set_new(t, "early_stopping", json_string(o->train.patience > 0
                                                             ? "inner grouped hold-out of the training groups"
                                                             : "none: every epoch runs, the last is kept"));
    json_object_set_new(t, "inner_frac", json_real(o->inner_frac));
    json_object_set_new(t, "model_for_new_data", json_string(new_data_model(o, v)));
    json_object_set_new(t, "augment_copies", json_integer(o->augment ? (o->augment_copies > 0 ? o->augment_copies : 1)
                                                                     : 0));
    json_object_set_new(t, "kept_epochs", ke);
    json_object_set_new(t, "fold_accuracy", fa);
    json_object_set_new(t, "fold_accuracy_mean", num(v->fold_mean));
    json_object_set_new(t, "fold_accuracy_sd", num(v->fold_sd));
    json_object_set_new(t, "p_value", num(v->pooled.p_value));
    json_object_set_new(t, "kept_train_accuracy", num(r->kept_train_acc));
    json_object_set_new(t, "group_kind", json_string(r->d->group_kind ? r->d->group_kind : "group"));
    json_object_set_new(t, "within_group", json_boolean(v->within_group));
    return t;
}

xai_status xai_driver_card_fill(xai_card *card, const xai_driver_record *r)
{
    xai_status st = set_classes(card, r->d);
    if (!st)
        st = set_provenance(card, r->o);
    json_t *val = st ? NULL : validation_json(r);
    if (val && known_kind(r->d->group_kind))
        json_object_set_new(val, "group_kind", json_string(r->d->group_kind));
    if (!st)
        st = set_value(card, "validation", val);
    /* the training record merges key by key, so what the domain put there stays */
    json_t *t = st ? NULL : training_json(r);
    const char *key;
    json_t *v;
    json_object_foreach(t, key, v) {
        char path[96];
        snprintf(path, sizeof path, "training.%s", key);
        if (!st)
            st = set_value(card, path, json_incref(v));
    }
    json_decref(t);
    return st;
}
