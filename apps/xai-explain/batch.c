/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The batch form of xai-explain: MODEL IN1.npy IN2.npy ... (or --list FILE) -o OUTDIR/,
 * one OUTDIR/NAME.npy per input. --shard K/N runs only the items of shard K (split by
 * subject, apps/common/batch.h); --slurm runs every shard as a Slurm array task. Each item
 * records a status file, so a rerun redoes only what is unfinished or changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "explain.h"

int batch_option(explain_batch *b, int c, const char *arg)
{
    switch (c) {
    case O_SHARD: return xai_app_parse_shard(arg, &b->shard_k, &b->shard_n) ? 2 : 0;
    case O_LIST: b->list = arg; return 0;
    case O_SLURM: b->slurm = 1; return 0;
    case O_SLURM_ARGS: b->slurm_args = arg; return 0;
    case O_DRY_RUN: b->dry_run = 1; return 0;
    case O_WAIT: b->wait = 1; return 0;
    case O_MAX_PAR: return xai_app_parse_batch_limit(arg, 0, &b->max_parallel) ? 2 : 0;
    case O_WAIT_TIMEOUT: return xai_app_parse_batch_limit(arg, 1, &b->wait_timeout) ? 2 : 0;
    default: return 1;
    }
}

/* The inputs: operands, then the lines of --list (xai_batch_list_parse: blank lines and '#'
   comments skipped). @return a malloc'ed array of malloc'ed paths (*n of them), or NULL (printed). */
static char **collect_inputs(const explain_batch *b, int *n)
{
    char **listed = NULL, *text = NULL;
    int nl = 0, bad = 0, rc = 0;
    size_t len = 0;
    *n = 0;
    if (b->list && !(text = xai_app_read_file(b->list, &len))) {
        xai_app_fail(&app, b->list, "cannot open the input list");
        return NULL;
    }
    if (text && (rc = xai_batch_list_parse(text, len, &listed, &nl, &bad)) == -2)
        xai_app_fail(&app, b->list, "line %d holds a NUL byte", bad);
    free(text);
    char **v = rc ? NULL : calloc((size_t)b->ninputs + (size_t)nl + 1, sizeof *v);
    for (int i = 0; v && i < b->ninputs + nl; i++)
        if (!(v[(*n)++] = i < b->ninputs ? strdup(b->inputs[i]) : strdup(listed[i - b->ninputs])))
            rc = -1;
    xai_batch_list_free(listed, nl);
    if (v && !rc)
        return v;
    xai_batch_list_free(v, *n);
    *n = 0;
    if (rc != -2)
        xai_app_fail(&app, b->outdir, "out of memory");
    return NULL;
}

/* An item per input: OUTDIR/NAME.npy (NAME: the input's file name without .npy), subject
   from the BIDS name or NAME. Two inputs with one NAME are a usage error (returns 2). */
static int make_items(const explain_batch *b, char **inputs, int n, xai_batch_item *items, char **subjects)
{
    for (int i = 0; i < n; i++) {
        const char *base = strrchr(inputs[i], '/');
        base = base ? base + 1 : inputs[i];
        size_t len = strlen(base);
        if (len > 4 && strcmp(base + len - 4, ".npy") == 0)
            len -= 4;
        const char *sep = b->outdir[strlen(b->outdir) - 1] == '/' ? "" : "/";
        char *out = xai_app_strdup_printf("%s%s%.*s.npy", b->outdir, sep, (int)len, base);
        char sub[256];
        subjects[i] = strdup(xai_batch_subject(inputs[i], sub, sizeof sub));
        items[i] = (xai_batch_item){inputs[i], subjects[i], out};
        if (!out || !subjects[i])
            return xai_app_fail(&app, b->outdir, "out of memory");
        for (int j = 0; j < i; j++)
            if (strcmp(items[j].output, out) == 0)
                return xai_app_usage_error(&app, "%s and %s would both write %s", items[j].input, inputs[i], out);
    }
    return 0;
}

/* The items of shard K on this machine, skipping those done with the same digest.
   @return 0 all done, 3 some failed (each named on stderr by explain_one). */
static int run_local(const explain_batch *b, const xai_batch_item *items, char *const *digests, int n,
                     xai_explain_config cfg, int quiet)
{
    int *shard = malloc(sizeof *shard * (size_t)n);
    if (!shard || xai_batch_assign(items, n, b->shard_n, shard) != 0) {
        free(shard);
        return xai_app_fail(&app, b->outdir, "out of memory");
    }
    int failed = 0, skipped = 0, ran = 0;
    explain_kept k = {0}; /* one load and plan for the items of one shape */
    for (int i = 0; i < n; i++) {
        if (shard[i] != b->shard_k)
            continue;
        if (digests[i][0] && xai_batch_is_current(b->outdir, &items[i], digests[i])) {
            skipped++;
            continue;
        }
        int rc = digests[i][0] ? explain_one(b->model, items[i].input, items[i].output, NULL, cfg, quiet, &k)
                               : xai_app_fail(&app, items[i].input, "cannot read the input");
        ran++;
        failed += rc != 0;
        if (xai_batch_status_write(&app, b->outdir, &items[i], digests[i][0] ? digests[i] : "-", rc) != 0)
            failed++;
    }
    free(shard);
    explain_kept_free(&k);
    if (!quiet)
        fprintf(stderr, PROG ": shard %d/%d: %d explained, %d failed, %d already done\n", b->shard_k, b->shard_n,
                ran - failed, failed, skipped);
    return failed ? 3 : 0;
}

static xai_slurm_opts slurm_opts(const explain_batch *b)
{
    return (xai_slurm_opts){.nshards = b->shard_n, .max_parallel = b->max_parallel,
                            .sbatch_args = b->slurm_args, .dry_run = b->dry_run, .wait = b->wait,
                            .wait_timeout_s = b->wait_timeout};
}

/* What besides the input decides an output: the model's SHA-256 and the options before the
   operands (getopt_long put them there), without those that only say where or how to run. */
static char *make_salt(const explain_batch *b, const char *model_sha)
{
    static const struct { const char *name; int value; } ignore[] = {
        {"-o", 1}, {"--output", 1}, {"--list", 1}, {"--shard", 1}, {"--slurm-args", 1}, {"--max-parallel", 1},
        {"--wait-timeout", 1}, {"-q", 0}, {"--quiet", 0}, {"--slurm", 0}, {"--dry-run", 0}, {"--wait", 0}};
    char *salt = strdup(model_sha);
    int nopt = (int)(b->inputs - b->argv) - 1; /* argv[nopt] is the model */
    for (int i = 1; salt && i < nopt; i++) {
        int skip = 0; /* 1: this word, 2: this word and the next */
        for (size_t k = 0; k < sizeof ignore / sizeof *ignore; k++) {
            size_t l = strlen(ignore[k].name);
            if (strcmp(b->argv[i], ignore[k].name) == 0)
                skip = 1 + ignore[k].value;
            else if (strncmp(b->argv[i], ignore[k].name, l) == 0 && b->argv[i][l] == '=')
                skip = 1;
        }
        if (skip == 0) {
            char *t = xai_app_strdup_printf("%s\n%s", salt, b->argv[i]);
            free(salt);
            salt = t;
        }
        i += skip == 2;
    }
    return salt;
}

int run_batch(const explain_batch *b, xai_explain_config cfg, int quiet)
{
    char model_sha[65];
    if (xai_sha256_file(b->model, model_sha) != 0)
        return xai_app_fail(&app, b->model, "cannot read the model");
    char *salt = make_salt(b, model_sha);
    if (!salt)
        return xai_app_fail(&app, b->outdir, "out of memory");
    int n = 0;
    char **inputs = collect_inputs(b, &n);
    if (!inputs)
        return 1;
    xai_batch_item *items = calloc((size_t)n + 1, sizeof *items);
    char **subjects = calloc((size_t)n + 1, sizeof *subjects);
    char **digests = calloc((size_t)n + 1, sizeof *digests);
    int rc = !items || !subjects || !digests ? xai_app_fail(&app, b->outdir, "out of memory") : 0;
    if (rc == 0 && n == 0)
        rc = xai_app_usage_error(&app, "no inputs");
    if (rc == 0)
        rc = make_items(b, inputs, n, items, subjects);
    if (rc == 0 && xai_app_mkdirs(&app, b->outdir) != 0)
        rc = 1;
    for (int i = 0; rc == 0 && i < n; i++) {
        digests[i] = calloc(65, 1);
        if (!digests[i])
            rc = xai_app_fail(&app, b->outdir, "out of memory");
        else if (xai_batch_digest(&items[i], salt, digests[i]) != 0)
            digests[i][0] = '\0'; /* unreadable: never current; the item fails when it runs */
    }
    if (rc == 0 && b->slurm) {
        char **targv = xai_batch_task_argv(b->argv);
        xai_slurm_opts o = slurm_opts(b);
        rc = targv ? xai_slurm_run(&app, b->outdir, targv, items, digests, n, &o)
                   : xai_app_fail(&app, b->outdir, "out of memory");
        free(targv);
    } else if (rc == 0) {
        xai_app_sweep_orphans(&app, b->outdir);
        rc = run_local(b, items, digests, n, cfg, quiet);
    }
    for (int i = 0; i < n; i++) {
        free(inputs[i]);
        free(subjects ? subjects[i] : NULL);
        free(digests ? digests[i] : NULL);
        free(items ? (char *)items[i].output : NULL);
    }
    free(salt);
    free(inputs);
    free(items);
    free(subjects);
    free(digests);
    return rc;
}
