/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * shard.c - xai-evaluate in parts: --shard K/N evaluates only the methods of shard K, each
 * into OUTDIR/methods/LABEL/ with a status file (apps/common/batch.h), and --merge joins the
 * finished methods into the outputs of a one-machine run, byte for byte.
 *
 * The unit of work is the method, not the sample: every random stream of the evaluation is
 * keyed by the sample's index in the evaluated stack (random orders, noise, ROAD, subsets)
 * and SmoothGrad's noise by its batch, so a sample evaluated in a smaller stack would get
 * other draws. A method evaluated on all samples draws exactly what the one-machine run
 * draws; methods are independent once the classes are fixed (the argmax or --class).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "evaluate.h"
#include "xai/eval-write.h"

/* OUTDIR/methods/LABEL with ':' as '_' (LABEL is a method label: letters, digits, '-', ':') */
static char *method_dir(const eval_opts *o, int i)
{
    char *d = xai_app_strdup_printf("%s/methods/%s", o->outdir, o->ms[i].label);
    for (char *p = d ? d + strlen(o->outdir) : NULL; p && *p; p++)
        if (*p == ':')
            *p = '_';
    return d;
}

void shard_free(eval_shard *sh)
{
    for (int i = 0; i < sh->n; i++)
        free(sh->dir[i]);
    memset(sh, 0, sizeof *sh);
}

/* What besides X decides a method's outputs: the model, the truth and every option but those
 * that say where or how to run, and the method itself. */
static char *make_salt(const eval_opts *o, const char *model_sha, char **argv)
{
    static const xai_batch_word ignore[] = {
        {"-o", 1},        {"--output", 1}, {"--methods", 1}, {"--merge", 0},  {"-q", 0},       {"--quiet", 0},
        {"-v", 0},        {"--verbose", 0}, {"-f", 0},       {"--force", 0},  {"--progress", 1}, {"--nthreads", 1}};
    char truth_sha[65] = "-";
    if (o->mo.truth && xai_sha256_file(o->mo.truth, truth_sha) != 0)
        return NULL;
    char *words = xai_batch_salt(model_sha, argv, 1, ignore, (int)(sizeof ignore / sizeof *ignore));
    char *salt = words ? xai_app_strdup_printf("%s\ntruth %s", words, truth_sha) : NULL;
    free(words);
    return salt;
}

int shard_items(const eval_opts *o, const char *model_sha, char **argv, eval_shard *sh)
{
    memset(sh, 0, sizeof *sh);
    char *salt = make_salt(o, model_sha, argv);
    if (!salt)
        return xai_app_fail(&app, o->mo.truth ? o->mo.truth : o->outdir, "cannot read it (or out of memory)");
    int rc = 0;
    for (int i = 0; i < o->nm && !rc; i++, sh->n++) {
        /* the item's output is its folder: the status file takes its name, and the
           folder's tables are complete when the status says done */
        sh->dir[i] = method_dir(o, i);
        char *s = xai_app_strdup_printf("%s\nmethod %s", salt, o->ms[i].label);
        sh->items[i] = (xai_batch_item){o->input_path, o->ms[i].label, sh->dir[i]};
        if (!sh->dir[i] || !s)
            rc = xai_app_fail(&app, o->outdir, "out of memory");
        else if (xai_batch_digest(&sh->items[i], s, sh->digest[i]) != 0)
            rc = xai_app_fail(&app, o->input_path, "cannot read it");
        free(s);
    }
    free(salt);
    return rc;
}

/* The methods of shard K that are not done with the same digest, each into its folder.
 * @p one evaluates method i of @p o into folder dir. @return 0, or 3 when some failed. */
int shard_run(eval_opts *o, const eval_shard *sh, int k, int n, shard_fn one, void *ctx)
{
    int shard[MAX_METHODS], failed = 0, ran = 0, skipped = 0;
    if (xai_batch_assign(sh->items, sh->n, n, shard) != 0)
        return xai_app_fail(&app, o->outdir, "out of memory");
    if (xai_app_mkdirs(&app, o->outdir) != 0)
        return 1;
    xai_app_sweep_orphans(&app, o->outdir);
    for (int i = 0; i < sh->n; i++) {
        if (shard[i] != k)
            continue;
        if (xai_batch_is_current(o->outdir, &sh->items[i], sh->digest[i])) {
            skipped++;
            continue;
        }
        xai_app_sweep_orphans(&app, sh->dir[i]); /* a killed earlier attempt's temporary files */
        int rc = xai_app_mkdirs(&app, sh->dir[i]) != 0 ? 1 : one(ctx, i, sh->dir[i]);
        ran++;
        failed += rc != 0;
        if (xai_batch_status_write(&app, o->outdir, &sh->items[i], sh->digest[i], rc) != 0)
            failed++;
    }
    if (app.verbosity > 0)
        fprintf(stderr, PROG ": shard %d/%d: %d methods evaluated, %d failed, %d already done\n", k, n,
                ran - failed, failed, skipped);
    return failed ? 3 : 0;
}

int shard_slurm(eval_opts *o, const eval_shard *sh)
{
    char *digests[MAX_METHODS];
    for (int i = 0; i < sh->n; i++)
        digests[i] = (char *)sh->digest[i];
    char **targv = xai_batch_task_argv(o->argv), prog[PATH_MAX];
    if (targv && strchr(targv[0], '/') && realpath(targv[0], prog)) /* the group step's program */
        targv[0] = prog;
    char *line = targv ? xai_batch_shell_line(targv) : NULL;
    char *group = line ? xai_app_strdup_printf("%s --merge", line) : NULL;
    int rc;
    if (!group)
        rc = xai_app_fail(&app, o->outdir, "out of memory");
    else if (xai_app_mkdirs(&app, o->outdir) != 0)
        rc = 1;
    else {
        o->slurm.nshards = o->shard_n > 0 ? o->shard_n : 1;
        o->slurm.group_cmd = group;
        rc = xai_slurm_run(&app, o->outdir, targv, sh->items, digests, sh->n, &o->slurm);
    }
    free(group), free(line), free(targv);
    return rc;
}

/* Every method must be done with the current digest before its tables are joined. */
int shard_check_done(const eval_opts *o, const eval_shard *sh)
{
    for (int i = 0; i < sh->n; i++)
        if (!xai_batch_is_current(o->outdir, &sh->items[i], sh->digest[i]))
            return xai_app_fail(&app, sh->dir[i], "method %s is not done with these inputs and options (exit "
                                "code %d recorded; run its shard first)", o->ms[i].label,
                                xai_batch_status_code(o->outdir, &sh->items[i]));
    return 0;
}

/* The methods' AOPC tables joined: the random run once (every method ran the same one), then
 * each method's runs in --methods order. */
int shard_merge_aopc(const eval_opts *o, const eval_shard *sh, xai_aopc_sweep *out)
{
    xai_aopc_sweep part[MAX_METHODS] = {{0}};
    int rc = 0, total = 1;
    memset(out, 0, sizeof *out);
    for (int i = 0; i < sh->n && !rc; i++) {
        if (xai_evalout_read_aopc(sh->dir[i], &part[i]) != XAI_OK)
            rc = xai_app_fail(&app, NULL, "%s", xai_last_error());
        else if (part[i].run[0].order != XAI_ORDER_RANDOM || part[i].run[0].res.aopc != part[0].run[0].res.aopc ||
                 part[i].run[0].res.n != part[0].run[0].res.n)
            rc = xai_app_fail(&app, sh->dir[i], "its random baseline differs from %s's: the methods were not "
                              "evaluated on the same samples and options", o->ms[0].label);
        total += part[i].nruns - 1;
    }
    if (!rc && !(out->run = calloc((size_t)total, sizeof *out->run)))
        rc = xai_app_fail(&app, o->outdir, "out of memory");
    for (int i = 0; i < sh->n && !rc; i++)
        for (int r = i == 0 ? 0 : 1; r < part[i].nruns; r++) {
            out->run[out->nruns++] = part[i].run[r]; /* moved: the part no longer owns it */
            memset(&part[i].run[r], 0, sizeof part[i].run[r]);
        }
    for (int i = 0; i < sh->n; i++)
        xai_aopc_sweep_free(&part[i]);
    if (rc)
        xai_aopc_sweep_free(out);
    return rc;
}

/* The methods' metric tables read back, one xai_eval_scores each (sc has o->nm entries). */
int shard_merge_metrics(const eval_opts *o, const eval_shard *sh, xai_eval_scores *sc)
{
    for (int i = 0; i < sh->n; i++) {
        if (xai_evalout_read_metrics(sh->dir[i], o->ms[i].label, &sc[i]) == XAI_OK)
            continue;
        xai_app_fail(&app, NULL, "%s", xai_last_error());
        for (int j = 0; j < i; j++)
            xai_eval_scores_free(&sc[j]);
        return 1;
    }
    return 0;
}
