/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Slurm job arrays for the batch programs: one array task per shard that still has work,
 * a %M throttle, per-task logs, an optional group step submitted with
 * --dependency=afterok, and a wait that polls squeue and then reads the status files the
 * tasks wrote (no sacct: accounting is often off). Paths in the script are absolute, so
 * the output folder and the program must be on a filesystem that every node mounts.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"

/* Appends @p s to the growing string *buf, single-quoted for sh. @return 0 or -1. */
static int append_quoted(char **buf, const char *s)
{
    size_t old = *buf ? strlen(*buf) : 0, add = 3;
    for (const char *p = s; *p; p++)
        add += *p == '\'' ? 4 : 1;
    char *b = realloc(*buf, old + add + 1);
    if (!b)
        return -1;
    char *q = b + old;
    *q++ = ' ';
    *q++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(q, "'\\''", 4);
            q += 4;
        } else {
            *q++ = *p;
        }
    }
    *q++ = '\'';
    *q = '\0';
    *buf = b;
    return 0;
}

char *xai_batch_shell_line(char *const *argv)
{
    char *buf = NULL;
    for (int i = 0; argv[i]; i++)
        if (append_quoted(&buf, argv[i]) != 0) {
            free(buf);
            return NULL;
        }
    if (buf)
        memmove(buf, buf + 1, strlen(buf)); /* the first word's leading space */
    return buf ? buf : calloc(1, 1);
}

/* "0,2,5" of the array tasks whose shard has an item that is not current; NULL when
   there is none (or out of memory: *oom set). */
static char *pending_tasks(const char *outdir, const xai_batch_item *items, char *const *digests,
                           int64_t nitems, int nshards, int *oom)
{
    int *shard = malloc(sizeof *shard * (size_t)(nitems > 0 ? nitems : 1));
    char *todo = calloc((size_t)nshards + 1, 1);
    char *list = calloc((size_t)nshards * 12 + 1, 1);
    *oom = !shard || !todo || !list || xai_batch_assign(items, nitems, nshards, shard) != 0;
    int any = 0;
    for (int64_t i = 0; !*oom && i < nitems; i++)
        if (!xai_batch_is_current(outdir, &items[i], digests[i]))
            todo[shard[i]] = any = 1;
    size_t len = 0;
    for (int k = 1; any && k <= nshards; k++)
        if (todo[k])
            len += (size_t)sprintf(list + len, "%s%d", len ? "," : "", k - 1);
    free(shard);
    free(todo);
    if (!any || *oom) {
        free(list);
        return NULL;
    }
    return list;
}

static char *array_script(const char *prog, const char *absdir, char *const *task_argv, const char *tasks,
                          const xai_slurm_opts *o)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        snprintf(exe, sizeof exe, "%s", task_argv[0]);
    else
        exe[n] = '\0';
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        snprintf(cwd, sizeof cwd, "%s", absdir);
    char throttle[32] = "";
    if (o->max_parallel > 0)
        snprintf(throttle, sizeof throttle, "%%%d", o->max_parallel);
    char *s = xai_app_strdup_printf(
        "#!/bin/sh\n"
        "# Written by %s: one array task per shard of the batch; task K runs shard K+1 of %d.\n"
        "# Rerunning the same command resubmits only the shards with unfinished or changed items.\n"
        "#SBATCH --job-name=%s\n#SBATCH --array=%s%s\n#SBATCH --ntasks=1\n"
        "#SBATCH --output=%s/slurm/logs/%s-%%A_%%a.log\n#SBATCH --chdir=%s\n"
        "set -eu\nexec",
        prog, o->nshards, prog, tasks, throttle, absdir, prog, cwd);
    int bad = !s || append_quoted(&s, exe) != 0;
    for (int i = 1; !bad && task_argv[i]; i++)
        bad = append_quoted(&s, task_argv[i]) != 0;
    char *tail = bad ? NULL : xai_app_strdup_printf("%s --shard \"$((SLURM_ARRAY_TASK_ID + 1))/%d\"\n", s, o->nshards);
    free(s);
    return tail;
}

/* Runs "sbatch --parsable [DEP] ARGS SCRIPT" through sh (so --slurm-args splits like a
   command line) and parses the job id. @return 0 or -1 (printed). */
static int submit(const xai_app *app, const char *script, const char *dep, const char *args, long *jobid)
{
    char *cmd = xai_app_strdup_printf("sbatch --parsable %s %s", dep ? dep : "", args ? args : "");
    if (!cmd || append_quoted(&cmd, script) != 0) {
        free(cmd);
        return xai_app_fail(app, script, "out of memory"), -1;
    }
    FILE *p = popen(cmd, "r");
    char line[256] = "";
    int got = p && fgets(line, sizeof line, p) != NULL;
    int st = p ? pclose(p) : -1;
    free(cmd);
    if (!got || st != 0 || sscanf(line, "%ld", jobid) != 1) {
        xai_app_fail(app, script, "sbatch failed (is Slurm reachable from here?)");
        return -1;
    }
    return 0;
}

/* Polls squeue once a second until job @p id has left the queue. Three failures of squeue
   in a row count as gone (the controller forgets finished jobs: "Invalid job id"); one may
   be a busy controller. @return 0, or -1 on timeout (printed). */
static int wait_job(const xai_app *app, long id, int timeout_s)
{
    char cmd[96];
    snprintf(cmd, sizeof cmd, "squeue -h -j %ld -o %%i 2>/dev/null", id);
    time_t end = time(NULL) + (timeout_s > 0 ? timeout_s : 86400);
    for (int failures = 0;;) {
        FILE *p = popen(cmd, "r");
        char line[64];
        int queued = 0;
        while (p && fgets(line, sizeof line, p))
            queued = 1;
        int st = p ? pclose(p) : -1;
        failures = st != 0 ? failures + 1 : 0;
        if ((st == 0 && !queued) || failures >= 3)
            return 0;
        if (time(NULL) >= end) {
            fprintf(stderr, "%s: job %ld: still queued after %d s; stopped waiting\n", app->prog, id, timeout_s);
            return -1;
        }
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
    }
}

/* Names every item that is not done with its digest. @return how many. */
static int64_t report(const xai_app *app, const char *outdir, const xai_batch_item *items,
                      char *const *digests, int64_t nitems)
{
    int64_t bad = 0;
    for (int64_t i = 0; i < nitems; i++) {
        if (xai_batch_is_current(outdir, &items[i], digests[i]))
            continue;
        int code = xai_batch_status_code(outdir, &items[i]);
        if (code > 0)
            fprintf(stderr, "%s: %s: failed (exit %d)\n", app->prog, items[i].input, code);
        else
            fprintf(stderr, "%s: %s: did not finish (task killed or not run; see %s/slurm/logs)\n",
                    app->prog, items[i].input, outdir);
        bad++;
    }
    return bad;
}

/* Writes OUTDIR/slurm/NAME and, on a dry run, prints it. @return the malloc'ed path or NULL. */
static char *write_script(const xai_app *app, const char *absdir, const char *name, const char *text, int print)
{
    char *path = xai_app_strdup_printf("%s/slurm/%s", absdir, name);
    if (!path || xai_app_write_atomic(app, path, text, strlen(text)) != 0) {
        free(path);
        return NULL;
    }
    if (print)
        printf("# %s\n%s", path, text);
    return path;
}

static int submit_group(const xai_app *app, const char *absdir, const xai_slurm_opts *o, long array_id,
                        long *group_id)
{
    char *text = xai_app_strdup_printf("#!/bin/sh\n# Written by %s: the group step, after every array task "
                                       "succeeded.\n#SBATCH --job-name=%s-group\n#SBATCH --ntasks=1\n"
                                       "#SBATCH --output=%s/slurm/logs/%s-group-%%j.log\nset -eu\n%s\n",
                                       app->prog, app->prog, absdir, app->prog, o->group_cmd);
    char name[256];
    snprintf(name, sizeof name, "%s-group.sbatch", app->prog);
    char *path = text ? write_script(app, absdir, name, text, o->dry_run) : NULL;
    free(text);
    if (!path)
        return -1;
    /* a failed or killed task makes the dependency unsatisfiable: the group job must leave the
       queue then (Slurm would keep it pending), so that --wait returns and reports the task */
    char dep[96] = "--dependency=afterok:ARRAY_JOB_ID --kill-on-invalid-dep=yes";
    if (!o->dry_run)
        snprintf(dep, sizeof dep, "--dependency=afterok:%ld --kill-on-invalid-dep=yes", array_id);
    int rc = 0;
    if (o->dry_run)
        printf("# submit: sbatch --parsable %s %s %s\n", dep, o->sbatch_args ? o->sbatch_args : "", path);
    else
        rc = submit(app, path, dep, o->sbatch_args, group_id);
    free(path);
    return rc;
}

int xai_slurm_run(const xai_app *app, const char *outdir, char *const *task_argv,
                  const xai_batch_item *items, char *const *digests, int64_t nitems,
                  const xai_slurm_opts *o)
{
    char *logs = xai_app_strdup_printf("%s/slurm/logs", outdir);
    int ok = logs && xai_app_mkdirs(app, logs) == 0;
    free(logs);
    char absdir[PATH_MAX];
    if (!ok || !realpath(outdir, absdir))
        return ok ? xai_app_fail(app, outdir, "cannot resolve the output folder") : 1;
    int oom = 0;
    char *tasks = pending_tasks(outdir, items, digests, nitems, o->nshards, &oom);
    if (!tasks) {
        if (oom)
            return xai_app_fail(app, outdir, "out of memory");
        fprintf(stderr, "%s: %s: every item is done and unchanged; nothing to submit\n", app->prog, outdir);
        return 0;
    }
    char *text = array_script(app->prog, absdir, task_argv, tasks, o);
    char name[256];
    snprintf(name, sizeof name, "%s-array.sbatch", app->prog);
    char *path = text ? write_script(app, absdir, name, text, o->dry_run) : NULL;
    free(text);
    long id = 0, gid = 0;
    int rc = path ? 0 : 1;
    if (path && o->dry_run)
        printf("# submit: sbatch --parsable %s %s\n", o->sbatch_args ? o->sbatch_args : "", path);
    else if (path && submit(app, path, NULL, o->sbatch_args, &id) != 0)
        rc = 1;
    else if (path)
        fprintf(stderr, "%s: submitted array job %ld (tasks %s of %d)\n", app->prog, id, tasks, o->nshards);
    if (rc == 0 && o->group_cmd && submit_group(app, absdir, o, id, &gid) != 0)
        rc = 1;
    free(path);
    free(tasks);
    if (rc != 0 || o->dry_run || !o->wait)
        return rc;
    if (wait_job(app, id, o->wait_timeout_s) != 0 || (gid && wait_job(app, gid, o->wait_timeout_s) != 0))
        return 1;
    return report(app, outdir, items, digests, nitems) ? 3 : 0;
}

