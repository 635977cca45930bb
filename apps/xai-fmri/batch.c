/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * batch.c - the participant level as a batch (apps/common/batch.h): one item per BOLD run,
 * all runs of a participant in one shard; --shard K/N runs shard K and records a status file
 * per run, so a rerun redoes only participants with unfinished or changed runs; --slurm runs
 * every shard as a Slurm array task and submits the group level after it (afterok).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "fmri.h"

void fmri_batch_free(fmri_batch *b)
{
    for (int64_t i = 0; i < b->n; i++) {
        free((char *)b->items[i].output);
        free(b->digests[i]);
    }
    free(b->items);
    free(b->digests);
    free(b->salt);
    memset(b, 0, sizeof *b);
}

/* What besides a run decides its outputs: the model (or leave-one-run-out) and the options,
 * without those that only say where, how verbosely or on which machine to run. getopt_long
 * has moved the options before the three operands. */
static char *make_salt(const opts *o, int argc, char **argv)
{
    static const char *const skip1[] = {"-q", "--quiet", "-v", "--verbose", "-f", "--force", "--slurm",
                                        "--dry-run", "--wait"};
    static const char *const skip2[] = {"--shard", "--slurm-args", "--max-parallel", "--wait-timeout", "--progress",
                                        "--nthreads", "--participant-label", "--participant_label"};
    char sha[65] = "leave-one-run-out";
    if (o->model && xai_sha256_file(o->model, sha) != 0)
        return NULL;
    char *salt = xai_app_strdup_printf("%s", sha);
    for (int i = 1; salt && i < argc - 3; i++) {
        int drop = 0; /* 1: this word, 2: this word and its value */
        for (size_t k = 0; k < sizeof skip1 / sizeof *skip1; k++)
            drop |= !strcmp(argv[i], skip1[k]);
        for (size_t k = 0; k < sizeof skip2 / sizeof *skip2; k++) {
            size_t l = strlen(skip2[k]);
            if (!strcmp(argv[i], skip2[k]))
                drop = 2;
            else if (!strncmp(argv[i], skip2[k], l) && argv[i][l] == '=')
                drop = 1;
        }
        if (drop) {
            i += drop == 2;
            continue;
        }
        char *t = xai_app_strdup_printf("%s\n%s", salt, argv[i]);
        free(salt);
        salt = t;
    }
    return salt;
}

/* One item per run of the selected participants: input the BOLD file, output its
 * per-volume table; a participant without runs gets one item on its folder (never current,
 * so its shard runs and reports it). */
int fmri_batch_make(opts *o, const subject_runs *subs, int ns, const char *out, int argc, char **argv,
                    fmri_batch *b)
{
    memset(b, 0, sizeof *b);
    int64_t cap = 0;
    for (int s = 0; s < ns; s++)
        cap += subs[s].n ? subs[s].n : 1;
    b->items = calloc((size_t)cap + 1, sizeof *b->items);
    b->digests = calloc((size_t)cap + 1, sizeof *b->digests);
    b->salt = make_salt(o, argc, argv);
    if (!b->items || !b->digests || !b->salt)
        return xai_app_fail(&o->app, out, "out of memory or unreadable --model");
    for (int s = 0; s < ns; s++)
        for (int r = 0; r < (subs[s].n ? subs[s].n : 1); r++) {
            xai_batch_item *it = &b->items[b->n];
            char *path = NULL;
            if (subs[s].n) {
                namer nm;
                char buf[4608];
                namer_init(&nm, out, subs[s].bold[r]);
                namer_path(&nm, 0, "lrp", "timeseries", ".tsv", buf, sizeof buf);
                path = xai_app_strdup_printf("%s", buf);
            } else {
                path = xai_app_strdup_printf("%s/sub-%s", out, subs[s].sub);
            }
            *it = (xai_batch_item){subs[s].n ? subs[s].bold[r] : subs[s].dir, subs[s].sub, path};
            b->digests[b->n] = calloc(65, 1);
            if (!path || !b->digests[b->n++])
                return xai_app_fail(&o->app, out, "out of memory");
            if (xai_batch_digest(it, b->salt, b->digests[b->n - 1]) != 0)
                b->digests[b->n - 1][0] = '\0'; /* unreadable: never current */
        }
    return 0;
}

/* Shard of each participant (all its items share one). */
int fmri_batch_shards(opts *o, const fmri_batch *b, const subject_runs *subs, int ns, int nshards, int *shard_of)
{
    int *sh = malloc(sizeof *sh * (size_t)(b->n + 1));
    if (!sh || xai_batch_assign(b->items, b->n, nshards, sh) != 0) {
        free(sh);
        return xai_app_fail(&o->app, NULL, "out of memory");
    }
    for (int s = 0, k = 0; s < ns; k += subs[s].n ? subs[s].n : 1, s++)
        shard_of[s] = sh[k];
    free(sh);
    return 0;
}

/* 1 when every run of participant s is done with its digest and its table exists. */
int fmri_batch_current(const char *out, const fmri_batch *b, const subject_runs *subs, int s)
{
    int64_t k = 0;
    for (int j = 0; j < s; j++)
        k += subs[j].n ? subs[j].n : 1;
    int cur = 1;
    for (int r = 0; r < (subs[s].n ? subs[s].n : 1); r++)
        cur &= b->digests[k + r][0] && xai_batch_is_current(out, &b->items[k + r], b->digests[k + r]);
    return cur;
}

/* Record the participant's outcome on each of its runs. */
int fmri_batch_record(opts *o, const char *out, const fmri_batch *b, const subject_runs *subs, int s, int code)
{
    int64_t k = 0;
    for (int j = 0; j < s; j++)
        k += subs[j].n ? subs[j].n : 1;
    int rc = 0;
    for (int r = 0; r < (subs[s].n ? subs[s].n : 1); r++)
        rc |= xai_batch_status_write(&o->app, out, &b->items[k + r], b->digests[k + r][0] ? b->digests[k + r] : "-",
                                     code);
    return rc;
}


/* "'EXE' 'BIDS' 'OUT' group [--task T] [--participant-label L ...] -q", single-quoted for sh. */
static char *group_command(const opts *o, const char *bids, const char *out)
{
    char exe[PATH_MAX], absb[PATH_MAX], abso[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || !realpath(bids, absb) || !realpath(out, abso))
        return NULL;
    exe[n] = '\0';
    const char *words[8 + MAX_SUBJECTS];
    int nw = 0;
    words[nw++] = exe;
    words[nw++] = absb;
    words[nw++] = abso;
    words[nw++] = "group";
    if (o->task) {
        words[nw++] = "--task";
        words[nw++] = o->task;
    }
    for (int i = 0; i < o->nplabels; i++) {
        words[nw++] = "--participant-label";
        words[nw++] = o->plabels[i];
    }
    char *s = xai_app_strdup_printf("%s", "");
    for (int i = 0; s && i < nw; i++) {
        size_t len = strlen(s), add = 3;
        for (const char *p = words[i]; *p; p++)
            add += *p == '\'' ? 4 : 1;
        char *t = realloc(s, len + add + 1);
        if (!t) {
            free(s);
            return NULL;
        }
        s = t;
        char *q = s + len;
        *q++ = i ? ' ' : '\'';
        if (i)
            *q++ = '\'';
        for (const char *p = words[i]; *p; p++)
            q = *p == '\'' ? (memcpy(q, "'\\''", 4), q + 4) : (*q = *p, q + 1);
        *q++ = '\'';
        *q = '\0';
    }
    return s;
}

int fmri_batch_slurm(opts *o, const fmri_batch *b, const char *bids, const char *out, char **argv)
{
    if (xai_app_mkdirs(&o->app, out) != 0)
        return XAI_EXIT_DATA;
    char **targv = xai_batch_task_argv(argv), *group = group_command(o, bids, out);
    xai_slurm_opts so = {.nshards = o->shard_n ? o->shard_n : 1, .max_parallel = o->max_parallel,
                         .sbatch_args = o->slurm_args, .group_cmd = group, .dry_run = o->dry_run, .wait = o->wait,
                         .wait_timeout_s = o->wait_timeout};
    int rc = targv && group ? xai_slurm_run(&o->app, out, targv, b->items, b->digests, b->n, &so)
                            : xai_app_fail(&o->app, out, "out of memory");
    free(targv);
    free(group);
    return rc;
}
