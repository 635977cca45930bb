/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri-cv.c - leave-one-run-out cross-validation of xai-fmri's decoders through the shared
 * driver (xai/driver.h): one fold per run, each model's mask and voxel screening fitted on its
 * training runs only (the prep step of fmri-train.c), the ridge baseline on the same voxels,
 * and the per-run and block-level statistics of the held-out runs; and, when explaining, the
 * fold model that never saw a run. See xai/domain-fmri.h.
 */
#include "fmri-int.h"
#include "driver-int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xai/bids-walk.h"
#include "xai/validate.h"

void xai_fmri_cv_free(xai_fmri_cv *cv)
{
    free(cv->acc);
    free(cv->nlab);
    free(cv->kept_epoch);
    free(cv->train_acc);
    free(cv->fold);
    memset(cv, 0, sizeof *cv);
}

static void driver_options(const xai_fmri_train_opts *o, const fmri_prep *p, const xai_driver_prep *hooks,
                           int refit, xai_driver_train_options *to)
{
    xai_driver_train_options_init(to);
    to->scheme = XAI_SPLIT_LOGO;
    to->arch = p->spec;
    to->train = o->train;
    /* early stopping only with --val-split, on the driver's inner split of the training runs */
    to->train.patience = o->early_stop ? (o->train.patience > 0 ? o->train.patience : o->train.epochs) : 0;
    to->prep = hooks;
    to->shared_start = 1;
    to->refit_all = refit;
    to->program = "xai-fmri";
    to->date = ""; /* byte-identical fold models across shards and reruns; sidecars hold the date */
    to->progress = o->progress;
    to->progress_ud = o->progress_ud;
    to->warn = o->warn;
    to->warn_ud = o->warn_ud;
}

/* The fold of the set that held out group @p name (-1: none). */
static int fold_of(const xai_driver_set *set, const char *name)
{
    for (int k = 0; k < xai_driver_set_nfolds(set); k++) {
        const char *const *g;
        int n;
        if (xai_driver_set_fold_groups(set, k, &g, &n) == XAI_OK)
            for (int i = 0; i < n; i++)
                if (!strcmp(g[i], name))
                    return k;
    }
    return -1;
}

/* Per-run accuracy and blocks from the out-of-fold predictions; @p pred has room for a run. */
static void run_results(const fmri_data *fd, const xai_driver_set *set, const xai_fmri_run *runs, int ncls,
                        xai_fmri_cv *cv, int *pred, int *bt, int *bp)
{
    const xai_driver_summary *s = xai_driver_set_summary(set);
    int64_t k = 0;
    for (int g = 0; g < fd->d.ngroups; g++) {
        int h = fd->group_run[g], f = fold_of(set, fd->d.group_names[g]);
        int64_t ok = 0, n = 0;
        for (int64_t t = 0; t < runs[h].nt; t++) {
            pred[t] = runs[h].labels[t] >= 0 ? s->oof_pred[k++] : -1;
            n += runs[h].labels[t] >= 0;
            ok += runs[h].labels[t] >= 0 && pred[t] == runs[h].labels[t];
        }
        cv->acc[h] = n ? (double)ok / (double)n : NAN;
        cv->nlab[h] = n;
        cv->fold[h] = f;
        cv->kept_epoch[h] = f >= 0 ? s->fold_kept_epoch[f] : 0;
        cv->train_acc[h] = f >= 0 ? s->fold_train_acc[f] : NAN;
        cv->nblocks += xai_fmri_run_blocks(&runs[h], pred, bt + cv->nblocks, bp + cv->nblocks, ncls);
    }
}

/* Mean and sd over the runs, chance, and the block-level binomial test. */
static xai_status cv_stats(xai_fmri_cv *cv, const fmri_data *fd, const int *bt, const int *bp, int ncls)
{
    double *acc = malloc(sizeof(double) * (size_t)fd->d.ngroups);
    if (!acc)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    for (int g = 0; g < fd->d.ngroups; g++)
        acc[g] = cv->acc[fd->group_run[g]];
    xai_mean_sd(acc, fd->d.ngroups, &cv->mean, &cv->sd);
    free(acc);
    xai_heldout hb;
    memset(&hb, 0, sizeof hb);
    xai_status st = xai_heldout_stats(bt, bp, cv->nblocks, ncls, &hb);
    if (st == XAI_OK) {
        cv->chance = 1.0 / ncls;
        cv->block_acc = hb.accuracy;
        cv->above_chance = hb.ci_low > hb.chance;
        cv->p_value = hb.p_value;
    }
    xai_heldout_free(&hb);
    return st;
}

static xai_status cv_alloc(xai_fmri_cv *cv, int nr)
{
    memset(cv, 0, sizeof *cv);
    cv->nruns = nr;
    cv->acc = calloc((size_t)nr, sizeof *cv->acc);
    cv->nlab = calloc((size_t)nr, sizeof *cv->nlab);
    cv->kept_epoch = calloc((size_t)nr, sizeof *cv->kept_epoch);
    cv->train_acc = calloc((size_t)nr, sizeof *cv->train_acc);
    cv->fold = malloc(sizeof(int) * (size_t)nr);
    for (int i = 0; cv->fold && i < nr; i++) {
        cv->acc[i] = cv->train_acc[i] = NAN; /* runs without labelled volumes */
        cv->fold[i] = -1;
    }
    if (!cv->acc || !cv->nlab || !cv->kept_epoch || !cv->train_acc || !cv->fold)
        return xai_error_set(XAI_ENOMEM, "out of memory");
    return XAI_OK;
}

/* What the driver found, per run and over runs. */
static xai_status cv_results(const fmri_data *fd, const xai_driver_set *set, const xai_fmri_run *runs, int nr,
                             int ncls, xai_fmri_cv *cv)
{
    int64_t ntot = 0;
    for (int i = 0; i < nr; i++)
        ntot += runs[i].nt;
    int *pred = malloc(sizeof(int) * (size_t)ntot), *bt = malloc(sizeof(int) * (size_t)ntot),
        *bp = malloc(sizeof(int) * (size_t)ntot);
    xai_status st = pred && bt && bp ? XAI_OK : xai_error_set(XAI_ENOMEM, "out of memory");
    if (st == XAI_OK) {
        run_results(fd, set, runs, ncls, cv, pred, bt, bp);
        st = cv_stats(cv, fd, bt, bp, ncls);
        cv->baseline_acc = xai_driver_set_summary(set)->baseline_accuracy;
    }
    free(pred);
    free(bt);
    free(bp);
    return st;
}

xai_status xai_fmri_cross_validate(const xai_fmri_train_opts *o, const xai_fmri_run *runs, int nr,
                                   const xai_fmri_classes *cls, int refit, xai_fmri_cv *cv, xai_driver_set **out)
{
    fmri_prep p;
    xai_driver_prep hooks;
    fmri_data fd = {0};
    xai_driver_set *set = NULL;
    xai_driver_train_options to;
    xai_card *card = NULL;
    int *use = malloc(sizeof(int) * (size_t)nr);
    for (int i = 0; use && i < nr; i++)
        use[i] = 1;
    xai_status st = !use ? xai_error_set(XAI_ENOMEM, "out of memory") : cv_alloc(cv, nr);
    if (st == XAI_OK)
        st = fmri_prep_init(&p, o, runs, nr, cls, &hooks);
    if (st == XAI_OK)
        st = fmri_data_make(runs, nr, use, cls, p.timedist, &fd);
    p.run_of = fd.run_of;
    if (st == XAI_OK && fd.d.ngroups < 2)
        st = xai_error_set(XAI_EINVAL, "leave-one-run-out needs labelled volumes in at least two runs");
    if (st == XAI_OK && (st = xai_card_new(&card)) == XAI_OK)
        st = xai_card_set(card, "domain=fmri");
    driver_options(o, &p, &hooks, refit, &to);
    if (st == XAI_OK)
        st = xai_driver_train(&fd.d, &to, card, &set);
    if (st == XAI_OK)
        st = cv_results(&fd, set, runs, nr, cls->n, cv);
    cv->final = p.last; /* the model for new data is trained last */
    if (st == XAI_OK && out) {
        *out = set;
        set = NULL;
    }
    if (st != XAI_OK)
        xai_fmri_cv_free(cv);
    xai_driver_set_free(set);
    xai_card_free(card);
    fmri_data_free(&fd);
    free(use);
    return st;
}

/* ---------------------------------------------------------------- naming runs */

/* The BIDS entities of run file @p path that tell one acquired run from another, in name order
 * ("sub-01_ses-2_task-faces_run-1"; derivatives' space, desc, ... left out), malloc'ed; NULL
 * when the name is not BIDS or has no sub entity (then the file name names the run). */
static char *bids_key(const char *path)
{
    static const char *const raw[] = {"sub", "ses", "task", "acq", "ce", "rec", "dir", "run", "echo", "part"};
    static const xai_bids_walk_opts plain = {.layout = XAI_WALK_PLAIN};
    xai_bids_list l;
    char *key = NULL;
    if (xai_bids_walk(path, &plain, &l) != XAI_OK || l.n != 1 || !xai_bids_file_entity(&l.files[0], "sub")) {
        xai_bids_list_free(&l);
        xai_error_clear();
        return NULL;
    }
    const xai_bids_file *f = &l.files[0];
    size_t cap = strlen(path) + 1, len = 0;
    key = malloc(cap);
    for (int i = 0; key && i < f->nentities; i++)
        for (size_t r = 0; r < sizeof raw / sizeof raw[0]; r++)
            if (!strcmp(f->entities[i].key, raw[r]))
                len += (size_t)snprintf(key + len, cap - len, "%s%s-%s", len ? "_" : "", f->entities[i].key,
                                        f->entities[i].value);
    xai_bids_list_free(&l);
    return key;
}

/* Where the last @p k components of @p path start (the whole path when it has fewer). */
static const char *path_tail(const char *path, int k)
{
    for (const char *p = path + strlen(path); p > path; p--)
        if (p[-1] == '/' && --k == 0)
            return p;
    return path;
}

/* Run @p i's name, its BIDS key or file name in @p base[i]: with as many folders as tell it from
 * the other runs' files that share that name (non-BIDS layouts: run-1_bold.nii.gz of two
 * subjects), and the first volume when its file holds several runs. */
static char *run_name(const xai_fmri_run *runs, char *const *base, int n, int i)
{
    int shared = 0, clash = 0;
    for (int j = 0; j < n; j++) {
        shared |= j != i && !strcmp(runs[j].path, runs[i].path);
        clash |= strcmp(runs[j].path, runs[i].path) && !strcmp(base[j], base[i]);
    }
    const char *name = base[i];
    for (int k = 1; clash; k++) {
        name = path_tail(runs[i].path, k);
        clash = 0;
        for (int j = 0; j < n; j++)
            clash |= strcmp(runs[j].path, runs[i].path) && !strcmp(path_tail(runs[j].path, k), name);
        clash &= name != runs[i].path;
    }
    size_t len = strlen(name) + 32;
    char *s = malloc(len);
    if (s)
        snprintf(s, len, shared ? "%s@%lld" : "%s", name, (long long)runs[i].t0);
    return s;
}

xai_status fmri_run_names(const xai_fmri_run *runs, int n, char **names)
{
    char **base = calloc((size_t)n, sizeof *base);
    xai_status st = base ? XAI_OK : xai_error_set(XAI_ENOMEM, "out of memory");
    for (int i = 0; !st && i < n; i++) {
        const char *file = strrchr(runs[i].path, '/') ? strrchr(runs[i].path, '/') + 1 : runs[i].path;
        if (!(base[i] = bids_key(runs[i].path)) && !(base[i] = strdup(file)))
            st = xai_error_set(XAI_ENOMEM, "out of memory");
    }
    for (int i = 0; !st && i < n; i++)
        if (!(names[i] = run_name(runs, base, n, i)))
            st = xai_error_set(XAI_ENOMEM, "out of memory");
    for (int i = 0; base && i < n; i++)
        free(base[i]);
    free(base);
    return st;
}

/* ---------------------------------------------------------------- out-of-fold explaining */

void xai_fmri_model_choice_free(xai_fmri_model_choice *c)
{
    free(c->path);
    memset(c, 0, sizeof *c);
}

/* Whether @p l names the run file @p name, alone or as one of several runs in it ("name@t0"). */
static int names_run(const name_list *l, const char *name, int *part)
{
    size_t n = strlen(name);
    for (int i = 0; i < l->n; i++) {
        if (!strcmp(l->v[i], name))
            return 1;
        if (!strncmp(l->v[i], name, n) && l->v[i][n] == '@')
            return *part = 1;
    }
    return 0;
}

/* @p file next to @p model_path (malloc'ed). */
static char *beside(const char *model_path, const char *file)
{
    const char *slash = strrchr(model_path, '/');
    size_t dn = slash ? (size_t)(slash - model_path) + 1 : 0, cap = dn + strlen(file) + 1;
    char *p = malloc(cap);
    if (p)
        snprintf(p, cap, "%.*s%s", (int)dn, model_path, file);
    return p;
}

/* The fold that held out run @p name alone (-1: none; a file holding several runs has none);
 * a name two folds held out cannot tell them apart (a model trained on two runs of one name). */
static xai_status heldout_fold(const xai_driver_index *ix, const char *name, const char *bold, int *fold)
{
    *fold = -1;
    for (int k = 0; k < ix->nfolds; k++) {
        int part = 0;
        if (!names_run(&ix->heldout[k], name, &part) || part)
            continue;
        if (*fold >= 0)
            return xai_error_set(XAI_EINVAL, "%s: folds %d and %d of the model both held out a run named %s: "
                                 "cannot tell which one never saw this run", bold, *fold + 1, k + 1, name);
        *fold = k;
    }
    return XAI_OK;
}

/* Whether recorded run name @p r (without its "@t0") names the file @p abs (an absolute path)
 * with BIDS key @p key (may be NULL): the same key, or the last components of the path. */
static int names_file(const char *r, size_t rn, const char *abs, const char *key)
{
    size_t n = strlen(abs);
    if (key && strlen(key) == rn && !strncmp(key, r, rn))
        return 1;
    return n > rn && abs[n - rn - 1] == '/' && !strncmp(abs + n - rn, r, rn);
}

/* @p path made absolute (links not resolved: an annexed file's name is its link's), malloc'ed. */
static char *absolute(const char *path)
{
    char cwd[4096];
    if (path[0] == '/' || !getcwd(cwd, sizeof cwd))
        return strdup(path);
    size_t cap = strlen(cwd) + strlen(path) + 2;
    char *a = malloc(cap);
    if (a)
        snprintf(a, cap, "%s/%s", cwd, path[0] == '.' && path[1] == '/' ? path + 2 : path);
    return a;
}

/* The run name the model recorded for @p bold into @p out (malloc'ed; NULL: none names it). Two
 * different names that both name it (file names alike in different folders, recorded by an older
 * model) are an error: the fold cannot be told. */
static xai_status recorded_name(const xai_driver_index *ix, const char *bold, char **out)
{
    *out = NULL;
    char *abs = absolute(bold), *key = bids_key(bold);
    xai_status st = abs ? XAI_OK : xai_error_set(XAI_ENOMEM, "out of memory");
    for (int k = -1; !st && k < ix->nfolds; k++) {
        const name_list *l = k < 0 ? &ix->trained : &ix->heldout[k];
        for (int i = 0; !st && i < l->n; i++) {
            const char *r = l->v[i], *at = strrchr(r, '@');
            size_t rn = at && at[1] && strspn(at + 1, "0123456789") == strlen(at + 1) ? (size_t)(at - r) : strlen(r);
            if (!names_file(r, rn, abs, key) || (*out && strlen(*out) == rn && !strncmp(*out, r, rn)))
                continue;
            if (*out)
                st = xai_error_set(XAI_EINVAL, "%s: the model's training runs %s and %.*s both name this run: cannot "
                                   "tell which fold never saw it (give the run by its BIDS name, or by the folders "
                                   "it was trained from)", bold, *out, (int)rn, r);
            else if (!(*out = strndup(r, rn)))
                st = xai_error_set(XAI_ENOMEM, "out of memory");
        }
    }
    free(abs);
    free(key);
    if (st) {
        free(*out);
        *out = NULL;
    }
    return st;
}

xai_status xai_fmri_model_choose(const xai_model *m, const char *model_path, const char *bold,
                                 xai_fmri_model_choice *c)
{
    memset(c, 0, sizeof *c);
    xai_card *card = NULL;
    xai_driver_index ix;
    memset(&ix, 0, sizeof ix);
    /* a model without a readable card explains as before: by itself, unknown whether it saw the run */
    char *text = xai_card_from_model(m, &card) == XAI_OK ? xai_card_get_json(card, "extra.driver") : NULL;
    xai_status st = xai_driver_index_parse(text, model_path, &ix);
    xai_free(text);
    xai_card_free(card);
    char *name = NULL;
    int k = -1, part = 0;
    if (st == XAI_OK)
        st = recorded_name(&ix, bold, &name);
    if (st == XAI_OK && name)
        st = heldout_fold(&ix, name, bold, &k);
    if (st == XAI_OK) {
        c->nfolds = ix.nfolds;
        c->fold = k + 1;
        c->path = k >= 0 ? beside(model_path, ix.file[k]) : strdup(model_path);
        /* a name on no list of a model that keeps one: new data for it */
        c->held_out = k >= 0 ? 1 : name && names_run(&ix.trained, name, &part) ? 0 : ix.trained.n ? 1 : -1;
        if (!c->path)
            st = xai_error_set(XAI_ENOMEM, "out of memory");
    }
    free(name);
    xai_driver_index_free(&ix); /* what it parsed before a fault too */
    return st;
}

const char *xai_fmri_model_choice_text(const xai_fmri_model_choice *c, char *buf, size_t cap)
{
    const char *file = strrchr(c->path, '/') ? strrchr(c->path, '/') + 1 : c->path;
    if (c->fold > 0)
        snprintf(buf, cap, "out of fold: %s, the model of fold %d of %d, was trained without this run", file, c->fold,
                 c->nfolds);
    else if (c->held_out == 0)
        snprintf(buf, cap, "in sample: %s was trained on this run%s", file,
                 c->nfolds ? " and no fold model held it out" : "");
    else if (c->held_out == 1)
        snprintf(buf, cap, "new data: this run is not among the training runs of %s", file);
    else
        snprintf(buf, cap, "unknown: %s does not record its training runs", file);
    return buf;
}
