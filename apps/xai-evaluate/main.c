/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-evaluate - how faithful, well localised, robust, parameter-sensitive and simple are
 * explanations of an ONNX model? Thin program over the libraries: load npy -> load model ->
 * xai_aopc_sweep_run() (region perturbation, Samek et al. 2017) or xai_eval_methods() (any
 * list of metrics) -> the writers of xai/eval-write.h (TSV tables with sidecars, PNGs).
 * Messages, the common options, the output policy and progress come from the app layer.
 * Exit codes: 0 ok, 1 data or runtime error, 2 usage error.
 */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "evaluate.h"
#include "xai/eval-write.h"
#include "xai/npy.h"

xai_app app;

static int fail(const char *file, const char *msg)
{
    size_t fl = strlen(file);
    if (strncmp(msg, file, fl) == 0 && msg[fl] == ':') /* the library already named the file */
        return xai_app_fail(&app, NULL, "%s", msg);
    return xai_app_fail(&app, file, "%s", msg);
}

static void progress(void *ud, int64_t done, int64_t total, const char *item)
{
    (void)ud, (void)total;
    xai_app_progress_step(&app, done, item);
}

/* The methods with their explanation settings (LRP: the --init start; gradients: df/dx;
 * epsilon-gamma-box: the input's range as ZBox bounds). */
static void method_configs(const eval_opts *o, float xmin, float xmax, xai_eval_method *me)
{
    for (int i = 0; i < o->nm; i++) {
        const method_spec *ms = &o->ms[i];
        xai_explain_config *ec = &me[i].explain;
        me[i].label = ms->label;
        xai_explain_config_init(ec);
        ec->method = ms->method;
        ec->init = ms->method == XAI_METHOD_LRP && o->init_logit ? XAI_INIT_LOGIT : XAI_INIT_ONEHOT;
        if (ms->method == XAI_METHOD_LRP)
            ec->composite = ms->composite;
        ec->batch = o->pc.batch;
        ec->seed = o->pc.seed;
        if (ms->method == XAI_METHOD_LRP && strcmp(ms->composite, "epsilon-gamma-box") == 0) {
            ec->have_bounds = 1;
            ec->low = xmin;
            ec->high = xmax > xmin ? xmax : xmin + 1;
        }
    }
}

/* --truth: a mask shaped like X (n samples) or like one sample, expanded to n samples. */
static float *load_truth(const char *path, int64_t n, int64_t nin)
{
    xai_npy t = {0};
    if (xai_npy_load(path, &t) != XAI_OK)
        return fail(path, xai_last_error()), NULL;
    int64_t cnt = 1;
    for (int d = 0; d < t.ndim; d++)
        cnt *= t.shape[d];
    float *m = NULL;
    if (cnt != nin && cnt != n * nin)
        xai_app_fail(&app, path, "%lld values, expected one sample (%lld) or all %lld samples (%lld)",
                     (long long)cnt, (long long)nin, (long long)n, (long long)(n * nin));
    else if ((m = malloc(sizeof(float) * (size_t)(n * nin))))
        for (int64_t s = 0; s < n; s++)
            memcpy(m + s * nin, cnt == nin ? t.data : t.data + s * nin, sizeof(float) * (size_t)nin);
    else
        fail(path, "out of memory");
    xai_npy_free(&t);
    return m;
}

/* Refuse to overwrite before doing any work: 0, XAI_EXIT_USAGE, or 1 (OUTDIR not a folder). */
static int check_outputs(const char *outdir, int kind, int code)
{
    int n;
    const char *const *outputs = xai_evalout_files(kind, &n);
    char path[4096];
    struct stat sb;
    if (stat(outdir, &sb) != 0)
        return 0;
    if (!S_ISDIR(sb.st_mode))
        return fail(outdir, "exists and is not a directory");
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", outdir, outputs[i]);
        if (xai_app_check_output(&app, path) != 0)
            return code;
    }
    return 0;
}

/* What the inputs fix: samples, patches, steps. 0, 1 (data error) or 2 (options that do
 * not fit the model). */
static int fit_to_model(eval_opts *o, const xai_npy *x, const xai_model *m, int64_t *n)
{
    int md;
    const int64_t *ms = xai_model_input_shape(m, &md);
    int64_t np;
    char a[256], b[256];
    if ((*n = xai_model_samples(m, x->ndim, x->shape)) < 1)
        return xai_app_fail(&app, o->input_path, "shape %s does not match the model input %s (or N x that)",
                            xai_shape_str(x->ndim, x->shape, a, sizeof a), xai_shape_str(md, ms, b, sizeof b));
    if (o->target >= xai_model_output_numel(m))
        return xai_app_fail(&app, o->model_path, "--class %d is out of range: the model has %lld outputs",
                            o->target, (long long)xai_model_output_numel(m));
    if (xai_perturb_patches(md, ms, &o->pc, NULL, &np) != XAI_OK)
        return xai_app_fail(&app, o->model_path, "--patch does not fit the per-sample input %s: %s",
                            xai_shape_str(md, ms, b, sizeof b), xai_last_error()) + 1;
    if (o->pc.replace == XAI_REPLACE_MEAN && np == xai_model_input_numel(m))
        return fail(o->model_path, "--replace mean with patches of one element changes nothing; give a larger "
                                   "--patch") + 1;
    int64_t maxsteps = (np + o->pc.per_step - 1) / o->pc.per_step;
    if (o->steps > maxsteps)
        return xai_app_fail(&app, o->model_path, "--steps %ld with --per-step %lld needs %lld patches, but the "
                            "input has %lld", o->steps, (long long)o->pc.per_step,
                            (long long)(o->steps * o->pc.per_step), (long long)np) + 1;
    o->pc.steps = o->steps < 0 ? (int)(maxsteps < 100 ? maxsteps : 100) : (int)o->steps;
    if (o->mo.set && o->road_axes && eval_parse_axes(o->road_axes, md, &o->pc.road_axes))
        return xai_app_usage_error(&app, "--road-axes needs axis indices 0..%d joined by commas", md - 1);
    return 0;
}

/* Region perturbation (AOPC) of every method against the random order. */
static int run_aopc(eval_opts *o, const xai_model *m, const xai_npy *x, int64_t n, const xai_eval_method *me,
                    const char *sha)
{
    int *tg = o->target >= 0 ? malloc(sizeof(int) * (size_t)n) : NULL;
    if (o->target >= 0 && !tg)
        return fail(o->input_path, "out of memory");
    for (int64_t s = 0; tg && s < n; s++)
        tg[s] = o->target;
    o->pc.target = tg;
    unsigned orders = (unsigned)o->do_morf | (unsigned)o->do_lerf << 1;
    xai_aopc_sweep sw;
    xai_app_progress_begin(&app, "method/order runs", 1 + (int64_t)o->nm * (o->do_morf + o->do_lerf));
    int rc = xai_aopc_sweep_run(m, &o->pc, orders, me, o->nm, n, x->data, progress, NULL, &sw) != XAI_OK
                 ? fail(o->model_path, xai_last_error()) : 0;
    free(tg);
    o->pc.target = NULL;
    if (rc)
        return rc;
    xai_app_progress_end(&app);
    rc = eval_write_aopc(o, &sw, sha);
    xai_aopc_sweep_free(&sw);
    return rc;
}

/* --metrics: every method through xai_eval_methods(), then the tables and figures. */
static int run_metrics(eval_opts *o, const xai_model *m, const xai_npy *x, int64_t n, const xai_eval_method *me,
                       const char *sha)
{
    float *mask = o->mo.truth ? load_truth(o->mo.truth, n, xai_model_input_numel(m)) : NULL;
    int *tg = o->target >= 0 ? malloc(sizeof(int) * (size_t)n) : NULL;
    xai_eval_scores *sc = calloc((size_t)o->nm, sizeof *sc);
    int rc = 1, ok = 0;
    if ((o->mo.truth && !mask) || (o->target >= 0 && !tg) || !sc)
        goto out;
    for (int64_t s = 0; tg && s < n; s++)
        tg[s] = o->target;
    xai_app_progress_begin(&app, "methods", o->nm);
    if (xai_eval_methods(m, &o->mo.ec, o->mo.set, me, o->nm, n, x->data, mask, tg, progress, NULL, sc)) {
        fail(o->model_path, xai_last_error());
        goto out;
    }
    ok = 1;
    xai_app_progress_end(&app);
    rc = eval_write_metrics(o, sc, sha);
out:
    for (int i = 0; ok && i < o->nm; i++)
        xai_eval_scores_free(&sc[i]);
    free(sc), free(mask), free(tg);
    return rc;
}

/* One method of a --shard run into its own folder. */
typedef struct {
    const eval_opts *o;
    const xai_model *m;
    const xai_npy *x;
    int64_t n;
    const xai_eval_method *me;
    const char *sha;
} part_ctx;

static int evaluate_part(void *ctx, int i, const char *dir)
{
    const part_ctx *c = ctx;
    eval_opts *sub = malloc(sizeof *sub);
    if (!sub)
        return fail(dir, "out of memory");
    *sub = *c->o;
    sub->ms[0] = c->o->ms[i];
    sub->nm = 1;
    sub->outdir = dir;
    int rc = sub->mo.set ? run_metrics(sub, c->m, c->x, c->n, c->me + i, c->sha)
                         : run_aopc(sub, c->m, c->x, c->n, c->me + i, c->sha);
    free(sub);
    return rc;
}

/* --merge: every method done, its tables read back and written as one run's */
static int merge_parts(const eval_opts *o, const eval_shard *sh, const char *sha)
{
    int rc = shard_check_done(o, sh);
    if (!rc && !o->mo.set) {
        xai_aopc_sweep sw;
        if (!(rc = shard_merge_aopc(o, sh, &sw)))
            rc = eval_write_aopc(o, &sw, sha);
        xai_aopc_sweep_free(&sw);
    } else if (!rc) {
        xai_eval_scores sc[MAX_METHODS];
        if ((rc = shard_merge_metrics(o, sh, sc)))
            return rc;
        rc = eval_write_metrics(o, sc, sha);
        for (int i = 0; i < o->nm; i++)
            xai_eval_scores_free(&sc[i]);
    }
    return rc;
}

/* --shard K/N: the methods of shard K into OUTDIR/methods/; --merge: all of them joined. */
static int run_parts(eval_opts *o, const xai_model *m, const xai_npy *x, int64_t n, const xai_eval_method *me,
                     const char *sha)
{
    eval_shard sh;
    part_ctx ctx = {o, m, x, n, me, sha};
    int rc = shard_items(o, sha, o->argv, &sh);
    if (!rc && o->use_slurm)
        rc = shard_slurm(o, &sh);
    else if (!rc)
        rc = o->merge ? merge_parts(o, &sh, sha) : shard_run(o, &sh, o->shard_k, o->shard_n, evaluate_part, &ctx);
    shard_free(&sh);
    return rc;
}

static int evaluate(eval_opts *o, const xai_npy *x, const xai_model *m)
{
    int64_t n, nin = xai_model_input_numel(m);
    int rc = fit_to_model(o, x, m, &n);
    if (rc)
        return rc;
    float lim[2] = {x->data[0], x->data[0]};
    for (int64_t i = 0; i < n * nin; i++) {
        lim[0] = fminf(lim[0], x->data[i]);
        lim[1] = fmaxf(lim[1], x->data[i]);
    }
    xai_eval_method me[MAX_METHODS];
    method_configs(o, lim[0], lim[1], me);
    char sha[65];
    if (xai_sha256_file(o->model_path, sha) != 0)
        return fail(o->model_path, "cannot read it for its SHA-256");
    o->mo.ec.perturb = o->pc;
    o->mo.ec.seed = o->pc.seed;
    if (o->shard_n > 0 || o->merge || o->use_slurm)
        return run_parts(o, m, x, n, me, sha);
    return o->mo.set ? run_metrics(o, m, x, n, me, sha) : run_aopc(o, m, x, n, me, sha);
}

static int run_evaluate(eval_opts *o)
{
    xai_npy x = {0};
    xai_model *m = NULL;
    int rc = o->shard_n > 0 || o->use_slurm ? 0 : check_outputs(o->outdir, o->mo.set ? 1 : 0, XAI_EXIT_USAGE);
    if (rc)
        return rc;
    if (xai_npy_load(o->input_path, &x) != XAI_OK)
        return fail(o->input_path, xai_last_error());
    if (xai_model_load_onnx(o->model_path, NULL, &m) != XAI_OK)
        rc = fail(o->model_path, xai_last_error());
    else
        rc = evaluate(o, &x, m);
    xai_model_free(m);
    xai_npy_free(&x);
    return rc;
}

/* xai-evaluate report METRICS.tsv... -o OUTDIR */
static int report_main(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'},
                                         XAI_APP_LONG_OPTIONS, {0, 0, 0, 0}};
    const char *outdir = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:fqvhV", opts, NULL)) != -1) {
        int h = xai_app_handle_option(&app, c == 'V' ? XAI_APP_OPT_VERSION : c, optarg);
        if (h == 2 || h < 0)
            return h == 2 ? XAI_EXIT_OK : XAI_EXIT_USAGE;
        if (h == 1)
            continue;
        if (c == 'o')
            outdir = optarg;
        else if (c == 'h')
            return eval_usage(stdout), 0;
        else
            return xai_app_usage_error(&app, "report: unknown option or missing value '%s'", argv[optind - 1]);
    }
    if (optind >= argc)
        return xai_app_usage_error(&app, "report: expected one or more metrics.tsv");
    if (!outdir)
        return xai_app_usage_error(&app, "report: missing -o OUTDIR");
    if (strlen(outdir) > 4096 - 32)
        return xai_app_usage_error(&app, "OUTDIR path too long");
    int rc = check_outputs(outdir, 2, XAI_EXIT_DATA);
    if (rc)
        return rc;
    json_t *src = json_array();
    for (int i = optind; i < argc; i++)
        json_array_append_new(src, json_string(argv[i]));
    char *json = eval_with_provenance(json_pack("{s:o}", "Sources", src));
    rc = XAI_EXIT_DATA;
    if (json && xai_app_mkdirs(&app, outdir) == 0)
        rc = xai_evalout_report((const char *const *)argv + optind, argc - optind, outdir, json)
                 ? xai_app_fail(&app, NULL, "%s", xai_last_error()) : 0;
    free(json);
    return rc;
}

int main(int argc, char **argv)
{
    static eval_opts o;
    int rc;
    xai_app_init(&app, PROG, "0.1.0", argc, argv);
    xai_app_install_signal_handlers();
    if (argc > 1 && strcmp(argv[1], "report") == 0) {
        rc = report_main(argc - 1, argv + 1);
    } else {
        xai_perturb_config_init(&o.pc);
        xai_eval_config_init(&o.mo.ec);
        o.methods = "lrp:epsilon-plus-flat,lrp:epsilon-plus,lrp:epsilon,gradient";
        o.target = -1;
        o.do_morf = o.do_lerf = o.init_logit = 1;
        o.steps = -1;
        o.argv = argv;
        rc = eval_parse_args(argc, argv, &o);
        if (rc == 0) {
            xai_app_apply_threads(&app);
            rc = run_evaluate(&o);
        }
    }
    /* drop cairo's and fontconfig's caches so leak checkers see a clean exit */
    cairo_debug_reset_static_data();
    FcFini();
    xai_app_free(&app);
    return rc < 0 ? XAI_EXIT_OK : rc;
}
