/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * batch.c - xai-speech explain over a corpus on several machines: --shard K/N keeps the clips
 * of every N-th speaker (the split of apps/common/batch.h: a speaker's clips stay together),
 * --slurm submits the shards as a Slurm array job. Each clip records a status file, so a rerun
 * redoes only clips that failed, never finished, or whose audio, model or options changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "speech-app.h"

int speech_batch_option(opts *o, int c, const char *arg)
{
    switch (c) {
    case O_SHARD:
        if (xai_app_parse_shard(arg, &o->shard_k, &o->shard_n) != 0)
            return xai_app_usage_error(&o->app, "--shard: invalid value '%s' (K/N with 1 <= K <= N)", arg), -1;
        return 1;
    case O_SLURM: o->slurm = 1; return 1;
    case O_COLLECT: o->collect = 1; return 1;
    case O_SLURM_ARGS: o->slurm_opts.sbatch_args = arg; return 1;
    case O_DRY_RUN: o->slurm_opts.dry_run = 1; return 1;
    case O_WAIT: o->slurm_opts.wait = 1; return 1;
    case O_MAX_PAR:
    case O_WAIT_TIMEOUT:
        if (xai_app_parse_batch_limit(arg, c == O_WAIT_TIMEOUT,
                                      c == O_MAX_PAR ? &o->slurm_opts.max_parallel : &o->slurm_opts.wait_timeout_s))
            return xai_app_usage_error(&o->app, "--%s: invalid value '%s'",
                                       c == O_MAX_PAR ? "max-parallel" : "wait-timeout", arg), -1;
        return 1;
    default: return 0;
    }
}

/* Words of the command line that say where or how to run, not what the outputs hold;
 * value: 1 when the next word is their value. */
static const struct {
    const char *name;
    int value;
} run_words[] = {{"-o", 1}, {"--output", 1}, {"--shard", 1}, {"--slurm-args", 1}, {"--max-parallel", 1},
                 {"--wait-timeout", 1}, {"--progress", 1}, {"--threads", 1}, {"-q", 0}, {"--quiet", 0},
                 {"-f", 0}, {"--force", 0}, {"--slurm", 0}, {"--dry-run", 0}, {"--wait", 0}, {"--collect", 0}};

/* 0: keep, 1: drop this word, 2: drop it and the next. */
static int run_word(const char *w)
{
    for (size_t k = 0; k < sizeof run_words / sizeof *run_words; k++) {
        size_t l = strlen(run_words[k].name);
        if (strcmp(w, run_words[k].name) == 0)
            return 1 + run_words[k].value;
        if (strncmp(w, run_words[k].name, l) == 0 && w[l] == '=')
            return 1;
    }
    return 0;
}

/* The model's SHA-256 and the options that decide the outputs (getopt put the options first). */
static char *make_salt(const opts *o, const char *model_sha)
{
    char *salt = strdup(model_sha);
    for (int i = 2; salt && i < o->nopt_end; i++) {
        int skip = run_word(o->argv[i]);
        if (skip == 0) {
            char *t = xai_app_strdup_printf("%s\n%s", salt, o->argv[i]);
            free(salt);
            salt = t;
        }
        i += skip == 2;
    }
    return salt;
}


void speech_batch_free(speech_batch *b)
{
    for (int i = 0; i < b->n; i++) {
        free((char *)b->items[i].output);
        free(b->digests ? b->digests[i] : NULL);
    }
    free(b->items);
    free(b->digests);
    free(b->shard);
    memset(b, 0, sizeof *b);
}

int speech_batch_prepare(opts *o, char *const *stems, const char *model_sha, speech_batch *b)
{
    memset(b, 0, sizeof *b);
    char *salt = make_salt(o, model_sha);
    const int n = o->files.n;
    b->items = calloc((size_t)n + 1, sizeof *b->items);
    b->digests = calloc((size_t)n + 1, sizeof *b->digests);
    b->shard = calloc((size_t)n + 1, sizeof *b->shard);
    if (!salt || !b->items || !b->digests || !b->shard || xai_speech_files_group(&o->files) != XAI_OK) {
        free(salt);
        return xai_app_fail(&o->app, NULL, "out of memory");
    }
    b->n = n;
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        char *out = xai_app_strdup_printf("%s/%s_relevance.npy", o->output, stems[i]);
        b->items[i] = (xai_batch_item){o->files.path[i], o->files.group[i], out};
        b->digests[i] = calloc(65, 1);
        if (!out || !b->digests[i])
            rc = xai_app_fail(&o->app, NULL, "out of memory");
        else if (xai_batch_digest(&b->items[i], salt, b->digests[i]) != 0)
            b->digests[i][0] = '\0'; /* unreadable: never current; the clip fails when it runs */
    }
    free(salt);
    if (rc == 0 && xai_batch_assign(b->items, n, o->shard_n > 0 ? o->shard_n : 1, b->shard) != 0)
        rc = xai_app_fail(&o->app, NULL, "out of memory");
    return rc;
}

/* The group step: the task's command line (this executable by its full path, so that the job
 * runs it) with --collect, shell-quoted by the one quoting of apps/common. NULL when out of
 * memory. */
static char *group_command(char **targv)
{
    int n = 0;
    while (targv[n])
        n++;
    char **g = calloc((size_t)n + 2, sizeof *g), exe[4096];
    if (!g)
        return NULL;
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0)
        exe[len] = '\0';
    memcpy(g, targv, sizeof *g * (size_t)n);
    g[0] = len > 0 ? exe : targv[0];
    g[n] = "--collect";
    char *s = xai_app_quote_words(n + 1, g);
    free(g);
    return s;
}

int speech_batch_slurm(opts *o, const speech_batch *b)
{
    char **targv = xai_batch_task_argv(o->argv);
    char *group = targv ? group_command(targv) : NULL;
    xai_slurm_opts so = o->slurm_opts;
    so.nshards = o->shard_n > 0 ? o->shard_n : 1;
    so.group_cmd = group;
    int rc = group ? xai_slurm_run(&o->app, o->output, targv, b->items, b->digests, b->n, &so)
                   : xai_app_fail(&o->app, o->output, "out of memory");
    free(targv);
    free(group);
    return rc;
}

int speech_batch_keep(const opts *o, const speech_batch *b, int i)
{
    if (b->shard[i] != (o->shard_k > 0 ? o->shard_k : 1))
        return 0;
    return !(b->digests[i][0] && xai_batch_is_current(o->output, &b->items[i], b->digests[i]));
}

int speech_batch_record(opts *o, const speech_batch *b, int i, int ok)
{
    return xai_batch_status_write(&o->app, o->output, &b->items[i], b->digests[i][0] ? b->digests[i] : "-",
                                  ok ? 0 : XAI_EXIT_DATA);
}
