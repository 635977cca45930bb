/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * app-driver.c - the command-line side of the train/explain driver (app-driver.h): one
 * parser and one --help block for the options the domain programs share, the training
 * summary, warnings on stderr and the --strict exit code.
 */
#include "app-driver.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xai_app_driver_opts_init(xai_app_driver_opts *o, const char *default_kind, const char *const *kinds)
{
    memset(o, 0, sizeof *o);
    o->split_by = default_kind;
    for (int i = 0; kinds && kinds[i] && i < XAI_APP_DRIVER_MAX_KINDS; i++)
        o->kinds[i] = kinds[i];
    /* a model for new data that saw every training group is better than one that missed the
     * held-out ones (README, xai-eeg and xai-speech); the hold-out's figures are unchanged */
    o->refit = 1;
    xai_driver_train_options d; /* the driver's hold-out fraction, unless the program sets its own */
    xai_driver_train_options_init(&d);
    o->holdout = d.holdout_frac;
    o->optimizer = XAI_OPT_ADAM;
    o->lr = 1e-3;
    o->epochs = 30;
    o->patience = 10;
    o->batch = 32;
    o->target = "pred";
    o->start = XAI_DRIVER_START_STABLE;
}

static const char *optimizer_names[] = {"sgd", "adam", "adamw"};
static const char *schedule_names[] = {"none", "step", "cosine"}; /* by xai_schedule; step is not offered */
static const char *start_names[] = {"stable", "onehot", "logit", "logodds", "contrast"};

/* Index of @p s in @p names[0..n) (or up to a NULL entry), or -1. */
static int pick(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n && names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static int bad_value(const xai_app *app, const char *opt, const char *arg, const char *expected)
{
    xai_app_usage_error(app, "--%s: invalid value '%s': expected %s", opt, arg, expected);
    return -1;
}

static int parse_split_by(const xai_app *app, xai_app_driver_opts *o, const char *arg)
{
    if (!o->kinds[0] || pick(arg, o->kinds, XAI_APP_DRIVER_MAX_KINDS) >= 0) {
        if (!*arg)
            return bad_value(app, "split-by", arg, "a group kind");
        o->split_by = arg;
        return 1;
    }
    char list[256] = "";
    for (int i = 0; o->kinds[i] && i < XAI_APP_DRIVER_MAX_KINDS; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? "|" : "", o->kinds[i]);
    return bad_value(app, "split-by", arg, list);
}

static int parse_cv(const xai_app *app, xai_app_driver_opts *o, const char *arg)
{
    long k;
    if (strcmp(arg, "logo") == 0) {
        o->logo = 1;
        o->cv = 0;
        return 1;
    }
    if (xai_app_parse_long(arg, 2, 1000, &k))
        return bad_value(app, "cv", arg, "a number of folds >= 2 or 'logo' (leave one group out)");
    o->cv = (int)k;
    o->logo = 0;
    return 1;
}

static int parse_seed(const xai_app *app, xai_app_driver_opts *o, const char *arg)
{
    return xai_app_parse_u64(arg, &o->seed) ? bad_value(app, "seed", arg, "an integer >= 0") : 1;
}

/* The numeric options: --weight-decay --lr --epochs --patience --batch --val-split. */
static int parse_number(const xai_app *app, xai_app_driver_opts *o, int code, const char *arg)
{
    long v;
    double f;
    switch (code) {
    case XAI_APP_OPT_WEIGHT_DECAY:
        return xai_app_parse_double(arg, 0, HUGE_VAL, &o->weight_decay) ? bad_value(app, "weight-decay", arg, "a number >= 0") : 1;
    case XAI_APP_OPT_LR:
        if (xai_app_parse_double(arg, 0, HUGE_VAL, &o->lr) || o->lr <= 0)
            return bad_value(app, "lr", arg, "a number > 0");
        return 1;
    case XAI_APP_OPT_EPOCHS:
        if (xai_app_parse_long(arg, 1, 100000, &v))
            return bad_value(app, "epochs", arg, "an integer >= 1");
        o->epochs = (int)v;
        return 1;
    case XAI_APP_OPT_PATIENCE:
        if (xai_app_parse_long(arg, 0, 100000, &v))
            return bad_value(app, "patience", arg, "an integer >= 0 (0: no early stopping)");
        o->patience = (int)v;
        return 1;
    case XAI_APP_OPT_VAL_SPLIT:
        if (xai_app_parse_double(arg, 0, 0.9, &f) || f <= 0)
            return bad_value(app, "val-split", arg, "a fraction > 0 and <= 0.9");
        o->holdout = f;
        return 1;
    default: /* XAI_APP_OPT_BATCH */
        if (xai_app_parse_long(arg, 1, 1L << 20, &v))
            return bad_value(app, "batch", arg, "an integer >= 1");
        o->batch = v;
        return 1;
    }
}

/* The options of the hold-out alone, refused where there is none: accepting them while they
 * change nothing would let a user believe the model differs. */
static int holdout_only(const xai_app *app, const xai_app_driver_opts *o, int code)
{
    if (o->holdout > 0 || (code != XAI_APP_OPT_REFIT && code != XAI_APP_OPT_NO_REFIT && code != XAI_APP_OPT_VAL_SPLIT))
        return 0;
    xai_app_usage_error(app, "--%s: %s has no single hold-out: it always cross-validates (--cv K|logo), and "
                        "MODEL.onnx is trained on every group after the folds",
                        code == XAI_APP_OPT_REFIT ? "refit" : code == XAI_APP_OPT_NO_REFIT ? "no-refit" : "val-split",
                        app->prog);
    return -1;
}

int xai_app_driver_handle_option(const xai_app *app, xai_app_driver_opts *o, int code, const char *arg)
{
    if (code < XAI_APP_OPT_SPLIT_BY || code > XAI_APP_OPT_VAL_SPLIT)
        return 0;
    if (holdout_only(app, o, code))
        return -1;
    o->given |= XAI_APP_DRIVER_GIVEN(code);
    int i;
    switch (code) {
    case XAI_APP_OPT_SPLIT_BY: return parse_split_by(app, o, arg);
    case XAI_APP_OPT_CV: return parse_cv(app, o, arg);
    case XAI_APP_OPT_STRICT: o->strict = 1; return 1;
    case XAI_APP_OPT_REFIT: o->refit = 1; return 1;
    case XAI_APP_OPT_NO_REFIT: o->refit = 0; return 1;
    case XAI_APP_OPT_SEED: return parse_seed(app, o, arg);
    case XAI_APP_OPT_OPTIMIZER:
        if ((i = pick(arg, optimizer_names, 3)) < 0)
            return bad_value(app, "optimizer", arg, "sgd, adam or adamw");
        o->optimizer = (xai_optimizer)i;
        return 1;
    case XAI_APP_OPT_TARGET:
        if (!*arg)
            return bad_value(app, "target", arg, "pred, true or a class");
        o->target = arg;
        return 1;
    case XAI_APP_OPT_START:
        if ((i = pick(arg, start_names, 5)) < 0)
            return bad_value(app, "start", arg, "stable, onehot, logit, logodds or contrast");
        o->start = (xai_driver_start)i;
        return 1;
    case XAI_APP_OPT_SCHEDULE:
        if (strcmp(arg, "none") && strcmp(arg, "cosine"))
            return bad_value(app, "schedule", arg, "none or cosine");
        o->schedule = strcmp(arg, "none") ? XAI_SCHED_COSINE : XAI_SCHED_NONE;
        return 1;
    default: return parse_number(app, o, code, arg);
    }
}

/* The lines of --val-split and --refit, or where the program has no hold-out, why they are not
 * there. */
static void holdout_help(const xai_app_driver_opts *d, char *out, size_t size)
{
    if (d->holdout > 0)
        snprintf(out, size,
                 "  --val-split F          the hold-out (no --cv): the fraction of the groups held out (of the\n"
                 "                         samples when there is one group) [%g]\n"
                 "  --refit, --no-refit    with the hold-out (no --cv): measure on the held-out groups, then train\n"
                 "                         MODEL.onnx on every group, the held-out ones too (the hold-out's model\n"
                 "                         is kept as MODEL.fold-1.onnx for their maps); costs one more model.\n"
                 "                         --no-refit: MODEL.onnx is the hold-out's model, trained without the\n"
                 "                         held-out groups. --cv always trains MODEL.onnx on every group [%s]\n",
                 d->holdout, d->refit ? "refit" : "no-refit");
    else
        snprintf(out, size, "%s",
                 "                         There is no single hold-out: MODEL.onnx is always trained on every\n"
                 "                         group after the folds; --val-split, --refit and --no-refit are refused\n");
}

void xai_app_driver_help_train(FILE *out, const xai_app_driver_opts *d)
{
    char kinds[256] = "", scheme[64];
    for (int i = 0; d->kinds[i] && i < XAI_APP_DRIVER_MAX_KINDS; i++)
        snprintf(kinds + strlen(kinds), sizeof kinds - strlen(kinds), "%s%s", i ? "|" : "", d->kinds[i]);
    if (d->logo)
        snprintf(scheme, sizeof scheme, "logo");
    else if (d->cv)
        snprintf(scheme, sizeof scheme, "%d folds", d->cv);
    else
        snprintf(scheme, sizeof scheme, "hold-out of %g of the groups", d->holdout);
    char holdout[1024];
    holdout_help(d, holdout, sizeof holdout);
    fprintf(out,
            "Validation and training (shared by the domain programs):\n"
            "  --split-by KIND        the group held out: %s [%s]; no group is ever on both sides\n"
            "  --cv K|logo            grouped K-fold cross-validation, or leave one group out; writes one\n"
            "                         model per fold (MODEL.fold-K.onnx) for out-of-fold explanations and a\n"
            "                         model trained on every group (MODEL.onnx) [%s]\n"
            "%s"
            "  --strict               a model not above chance, never predicting a class, or losing to the\n"
            "                         linear baseline is an error: nothing is written, exit 4\n"
            "  --seed N               split, initialisation, shuffling, dropout [%llu]\n"
            "  --optimizer NAME       sgd|adam|adamw [%s]\n"
            "  --weight-decay W       L2 (sgd, adam) or decoupled (adamw) weight decay [%g]\n"
            "  --lr R                 learning rate [%g]\n"
            "  --schedule none|cosine learning rate per epoch: constant, or cosine annealing from --lr\n"
            "                         towards 0 over --epochs (Loshchilov & Hutter 2017) [%s]\n"
            "  --epochs N             most epochs [%d]\n"
            "  --patience N           early stopping on an inner split of the TRAINING groups; 0 = off [%d]\n"
            "  --batch N              mini-batch size [%lld]\n"
            "  The held-out accuracy, balanced accuracy, chance level, binomial 95 %% interval and a ridge\n"
            "  baseline on the same inputs and split are printed and recorded in the model card.\n",
            kinds[0] ? kinds : "a group kind", d->split_by ? d->split_by : "-",
            scheme, holdout,
            (unsigned long long)d->seed, optimizer_names[d->optimizer], d->weight_decay, d->lr,
            schedule_names[d->schedule], d->epochs,
            d->patience, (long long)d->batch);
}

void xai_app_driver_help_explain(FILE *out, const xai_app_driver_opts *d)
{
    fprintf(out,
            "Explaining (shared by the domain programs):\n"
            "  --target pred|true|CLASS  the class explained per sample: the prediction, the true label,\n"
            "                         or a class by name or index [%s]\n"
            "  --start stable|onehot|logit|logodds|contrast  output relevance: stable = 1 at the target with\n"
            "                         the z+ rule on the output layer, so a near-zero logit cannot blow a map\n"
            "                         up; onehot = 1 at the target (plain composite); logit = the target's\n"
            "                         logit (a negative logit flips the map's colours); logodds = the target's\n"
            "                         log-odds against the other classes, contrast = its logit minus the mean\n"
            "                         of the others: evidence every class shares cancels [%s]\n"
            "  --strict               refuse a model whose card warns (not above chance, a class never\n"
            "                         predicted, losing to the baseline): exit 4\n"
            "  --batch N              samples per explanation call [%lld]\n"
            "  With a fold set (train --cv), each group is explained by the fold model that never saw it.\n"
            "  Each map is scaled to sum |R| = 1 before class and group means; samples whose relevance sum\n"
            "  departs from their start by more than 10x are reported.\n",
            d->target, start_names[d->start], (long long)d->batch);
}

/* The driver passes a model card's verdicts with every call, and the apps call it once per input
 * file: a warning already given in this run is not repeated. */
void xai_app_driver_warn(void *ud, const char *message)
{
    const char *const *texts;
    const int *is_error;
    size_t n = xai_app_messages(&texts, &is_error);
    for (size_t i = 0; i < n; i++)
        if (!is_error[i] && strcmp(texts[i], message) == 0)
            return;
    xai_app_log(ud, 1, "warning: %s", message);
}

void xai_app_driver_progress(void *ud, const char *task, int64_t done, int64_t total, const char *item)
{
    static char current[64]; /* the task on display: the driver reuses its buffers */
    xai_app *app = ud;
    if (strcmp(current, task) != 0) {
        if (current[0])
            xai_app_progress_end(app);
        snprintf(current, sizeof current, "%s", task);
        xai_app_progress_begin(app, current, total);
    }
    xai_app_progress_step(app, done, item);
    if (total > 0 && done >= total) {
        xai_app_progress_end(app);
        current[0] = '\0';
    }
}

void xai_app_driver_train_setup(xai_app *app, const xai_app_driver_opts *o, xai_driver_train_options *to)
{
    xai_driver_train_options_init(to);
    to->scheme = o->logo ? XAI_SPLIT_LOGO : o->cv >= 2 ? XAI_SPLIT_KFOLD : XAI_SPLIT_HOLDOUT;
    if (o->cv >= 2)
        to->folds = o->cv;
    to->train.optimizer = o->optimizer;
    to->train.lr = (float)o->lr;
    to->train.schedule = o->schedule;
    to->refit_holdout = o->refit;
    if (o->holdout > 0)
        to->holdout_frac = o->holdout;
    to->train.weight_decay = (float)o->weight_decay;
    to->train.epochs = o->epochs;
    to->train.patience = o->patience;
    to->train.batch = o->batch;
    to->train.seed = o->seed;
    to->program = app->prog;
    to->version = app->version;
    to->command_line = app->command_line;
    to->progress = xai_app_driver_progress;
    to->progress_ud = app;
    to->warn = xai_app_driver_warn;
    to->warn_ud = app;
}

int xai_app_driver_explain_setup(xai_app *app, const xai_app_driver_opts *o, const xai_card *card,
                                 xai_driver_explain_options *eo)
{
    xai_driver_explain_options_init(eo);
    eo->start = o->start;
    eo->batch = o->batch;
    eo->strict = o->strict;
    eo->progress = xai_app_driver_progress;
    eo->progress_ud = app;
    eo->warn = xai_app_driver_warn;
    eo->warn_ud = app;
    int nc = card ? xai_card_class_count(card) : 0;
    const char *names[256];
    for (int i = 0; i < nc && i < 256; i++)
        names[i] = xai_card_class_name(card, i);
    /* a card without classes takes any index here; xai_driver_explain() checks it against the
     * model's outputs */
    if (xai_target_parse(o->target, nc ? names : NULL, nc ? (nc < 256 ? nc : 256) : 1 << 20,
                         XAI_TARGET_ALLOW_TRUE | XAI_TARGET_ALLOW_INDEX, &eo->target) != XAI_OK) {
        xai_app_usage_error(app, "%s", xai_last_error());
        return -1;
    }
    return 0;
}

/* How many groups the validation held out and how many trained (a hold-out names them): the
 * accuracy below is only as broad as the groups it was measured on. */
static void print_groups(const xai_app *app, const xai_driver_set *s, const xai_driver_summary *m)
{
    int lo = m->n_groups, hi = 0, count = 0;
    const char *const *names = NULL;
    for (int k = 0; k < m->n_folds; k++) {
        if (xai_driver_set_fold_groups(s, k, &names, &count) != XAI_OK)
            return;
        lo = count < lo ? count : lo;
        hi = count > hi ? count : hi;
    }
    if (m->within_group || hi == 0)
        return;
    char list[256] = "";
    for (int i = 0; m->n_folds == 1 && i < count; i++) {
        size_t len = strlen(list);
        if (len + strlen(names[i]) + 8 >= sizeof list) {
            snprintf(list + len, sizeof list - len, ", ...");
            break;
        }
        snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", names[i]);
    }
    if (m->n_folds == 1)
        xai_app_log(app, 1, "          held out %d of %d %ss (%s), trained on %d", count, m->n_groups, m->group_kind,
                    list, m->n_groups - count);
    else if (lo == hi)
        xai_app_log(app, 1, "          each fold held out %d of %d %ss, trained on %d", lo, m->n_groups, m->group_kind,
                    m->n_groups - lo);
    else
        xai_app_log(app, 1, "          each fold held out %d to %d of %d %ss, trained on the other %d to %d", lo, hi,
                    m->n_groups, m->group_kind, m->n_groups - hi, m->n_groups - lo);
}

void xai_app_driver_print_summary(const xai_app *app, const xai_driver_set *s)
{
    const xai_driver_summary *m = xai_driver_set_summary(s);
    if (!m)
        return;
    xai_app_log(app, 1, "validation: %s over %d %ss (%d fold%s), %lld held-out samples%s", m->scheme, m->n_groups,
                m->group_kind, m->n_folds, m->n_folds == 1 ? "" : "s", (long long)m->n_heldout,
                m->within_group ? " (within one group: optimistic)" : "");
    print_groups(app, s, m);
    xai_app_log(app, 1, "network:  accuracy %.3f [%.3f, %.3f] (balanced %.3f), chance %.3f, p = %.2g", m->accuracy,
                m->ci_low, m->ci_high, m->balanced_accuracy, m->chance, m->p_value);
    if (m->n_folds > 1)
        xai_app_log(app, 1, "          per fold %.3f +- %.3f; kept epoch %.1f, training accuracy %.3f", m->fold_mean,
                    m->fold_sd, m->mean_best_epoch, m->kept_train_acc);
    else
        xai_app_log(app, 1, "          kept epoch %.0f, training accuracy %.3f", m->mean_best_epoch, m->kept_train_acc);
    if (m->baseline_name)
        xai_app_log(app, 1, "baseline: %s accuracy %.3f", m->baseline_name, m->baseline_accuracy);
    char verdict[512];
    snprintf(verdict, sizeof verdict, "%s%s%s%s", m->above_chance ? "above chance" : "NOT above chance",
             m->n_never_predicted ? "; never predicts " : "", m->n_never_predicted ? m->never_predicted : "",
             !m->baseline_name ? "" : m->loses_to_baseline ? "; LOSES to the baseline" : "; better than the baseline");
    xai_app_log(app, 1, "verdict:  %s", verdict);
    /* the card's sentence: whether MODEL.onnx is the validation's model or was trained on every group */
    const char *made = xai_card_get_string(xai_driver_set_card(s), "training.model_for_new_data");
    if (made)
        xai_app_log(app, 1, "model:    %s", made);
}

int xai_app_driver_strict_exit(const xai_app *app, const xai_app_driver_opts *o, const xai_driver_set *s,
                               const char *file)
{
    int count = 0;
    const char *text = xai_driver_set_warnings(s, &count);
    if (!o->strict || count == 0)
        return XAI_EXIT_OK;
    while (*text) {
        const char *e = strchr(text, '\n');
        int n = e ? (int)(e - text) : (int)strlen(text);
        xai_app_fail(app, file, "strict: %.*s", n, text);
        text += n + (e ? 1 : 0);
    }
    return XAI_EXIT_STRICT;
}

/* The sidecar's members: the card's fields, the description, then @p extra's (taken). */
static char *model_sidecar(const xai_card *card, const char *description, json_t *extra)
{
    char *cj = NULL;
    json_t *side = card && xai_card_to_json(card, 0, &cj) == XAI_OK ? json_loads(cj, 0, NULL) : json_object();
    xai_free(cj);
    char *text = NULL;
    if (json_is_object(side)) {
        if (description)
            json_object_set_new(side, "Description", json_string(description));
        if (extra)
            json_object_update(side, extra);
        text = json_dumps(side, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    }
    json_decref(side);
    json_decref(extra);
    return text;
}

/* MODEL.json beside the saved model at @p path; 0 or XAI_EXIT_DATA (printed) */
static int write_model_sidecar(const xai_app *app, const char *path, const xai_card *card, const char *description,
                               json_t *extra)
{
    char *text = model_sidecar(card, description, extra);
    int rc = text ? xai_app_write_sidecar(app, path, text) : xai_app_fail(app, path, "out of memory");
    free(text);
    return rc ? XAI_EXIT_DATA : 0;
}

int xai_app_save_model(const xai_app *app, const char *path, const xai_model *m, const xai_driver_set *set,
                       const xai_export_options *eo, const char *description, json_t *extra)
{
    static const xai_export_options folded = {0, 17};
    xai_card *own = NULL;
    const xai_card *card = set ? xai_driver_set_card(set) : NULL;
    /* the card is read before anything is written: no model without its sidecar */
    if (set ? xai_driver_set_save(set, path) != XAI_OK
            : !m || xai_card_from_model(m, &own) != XAI_OK || xai_model_save_onnx(m, path, eo ? eo : &folded) != XAI_OK) {
        json_decref(extra);
        xai_card_free(own);
        return xai_app_fail(app, NULL, "%s", m || set ? xai_last_error() : "no model to save");
    }
    int rc = write_model_sidecar(app, path, set ? card : own, description, extra);
    xai_card_free(own);
    return rc;
}

int xai_app_save_fold(const xai_app *app, const char *path, const xai_driver_set *set, int k,
                      const xai_export_options *eo, const char *description, json_t *extra)
{
    xai_card *card = NULL;
    /* saving the fold puts its own card into its model, which the sidecar is then made from */
    if (xai_driver_set_save_fold(set, k, path, eo) != XAI_OK ||
        xai_card_from_model(xai_driver_set_fold_model(set, k), &card) != XAI_OK) {
        json_decref(extra);
        return xai_app_fail(app, NULL, "%s", xai_last_error());
    }
    int rc = write_model_sidecar(app, path, card, description, extra);
    xai_card_free(card);
    return rc;
}
