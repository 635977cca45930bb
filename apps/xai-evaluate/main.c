/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-evaluate - how faithful are explanations of an ONNX model? Region perturbation
 * (Samek et al. 2017, IEEE TNNLS 28(11):2660) with AOPC per method and order, against a
 * seeded random order. Thin program over libxai: load npy -> load model -> for each method
 * xai_explain() -> xai_perturb_evaluate() per order -> TSV tables and PNG curves (cairo).
 * Messages, the common options, the output policy, atomic writes, progress and the JSON
 * sidecars (with the model's SHA-256) come from the shared app layer (app.h).
 * Exit codes: 0 ok, 1 data or runtime error, 2 usage error.
 */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "xai.h"
#include "xai/eval.h"
#include "xai/npy.h"
#include "xai/tsv.h"

#define PROG "xai-evaluate"
#define MAX_METHODS 16
#define MAX_RUNS (2 * MAX_METHODS + 1)

static void usage(FILE *f)
{
    fprintf(f,
"SYNOPSIS\n"
"  " PROG " MODEL.onnx X.npy -o OUTDIR [options]\n"
"\n"
"Measures how faithful attribution methods are for an ONNX model by region perturbation\n"
"(\"pixel flipping\"): each sample of X.npy is cut into patches, the patches are replaced in\n"
"the order of their summed relevance, and the explained class logit f is tracked. X is\n"
"float32 or float64 C order, shaped like the model input or N x that (a stack of samples).\n"
"\n"
"  AOPC = mean over samples of 1/(L+1) sum_{k=0..L} [f(x^0) - f(x^k)]\n"
"\n"
"f is the logit (pre-softmax) of the explained class; x^k has k steps of patches replaced.\n"
"MoRF (most relevant first): higher is better. LeRF (least relevant first): lower is better.\n"
"A seeded random order is always evaluated as the baseline. The 95%% interval of the AOPC is\n"
"mean -/+ t(0.975, n-1) * sd / sqrt(n) over the n samples (Student's t; none for n = 1).\n"
"\n"
"METHODS\n"
"  --methods LIST      comma-separated: lrp[:COMPOSITE], gradient, gradient-x-input,\n"
"                      smoothgrad, integrated-gradients\n"
"                      [lrp:epsilon-plus-flat,lrp:epsilon-plus,lrp:epsilon,gradient]\n"
"                      COMPOSITE: epsilon | epsilon-plus | epsilon-plus-flat |\n"
"                      epsilon-alpha2-beta1 | epsilon-alpha2-beta1-flat | epsilon-gamma-box\n"
"                      (epsilon-gamma-box uses the min and max of X as ZBox bounds)\n"
"  --class K|pred      class to explain and track; pred = argmax of each sample's logits [pred]\n"
"  --init logit|onehot LRP output relevance: the class logit f, so relevance ranks the\n"
"                      contributions to f even when f < 0; or 1 at the class, as in Zennit\n"
"                      (for f < 0 this flips the sign of epsilon-rule maps) [logit].\n"
"                      Gradient methods always use df/dx.\n"
"\n"
"PERTURBATION\n"
"  --patch SPEC        patch extent over the trailing axes of the per-sample input shape, leading\n"
"                      axes get 1: 8 (1-D time windows), 1x8 (channel x time tiles),\n"
"                      4x4x4 (voxel blocks); edge patches are cut short [1: single elements]\n"
"  --steps L           perturbation steps [100, or fewer when the patches run out]\n"
"  --per-step K        patches replaced per step [1]\n"
"  --order LIST        morf, lerf or morf,lerf [morf,lerf]\n"
"  --replace MODE      baseline: the --baseline value; uniform: noise in [min, max] of the\n"
"                      sample (seeded); mean: the mean of the patch [baseline]\n"
"  --baseline V        value of --replace baseline [0]\n"
"  --seed S            random order and uniform noise [0]\n"
"  --batch B           samples per forward stack, 1..64 [64]\n"
"\n"
"OUTPUT (in OUTDIR, created if missing; every file is written atomically)\n"
"  aopc.tsv            method, order, aopc, ci_low, ci_high, sd, n, steps, per_step, patches\n"
"  curves.tsv          step, fraction of patches replaced, then per method/order the mean\n"
"                      f(x^0) - f(x^k) over samples\n"
"  aopc_samples.tsv    sample, class, then the AOPC of each method/order for that sample\n"
"  aopc.json, curves.json, aopc_samples.json   provenance sidecars of the tables\n"
"                      (CommandLine, Version, DateTime, ModelSHA256, Sources, Parameters)\n"
"  curves_morf.png, curves_lerf.png   the curves of every method and the random baseline\n"
"  -o, --output OUTDIR\n"
"  -f, --force         overwrite existing outputs (refused otherwise)\n"
"  -q, --quiet         no table or progress on stderr\n"
"  -v, --verbose       more messages\n"
"  --nthreads N        threads for BLAS and libxai [SLURM_CPUS_PER_TASK, else\n"
"                      OMP_NUM_THREADS, else the online cores]\n"
"  --progress MODE     progress of the evaluated method/order runs on stderr:\n"
"                      auto|bar|lines|json|none [auto: a bar on a terminal, else lines]\n"
"  -h, --help          this text\n"
"  -V, --version       version\n");
    fprintf(f,
"\n"
"EXAMPLES\n"
"  " PROG " eeg_cnn.onnx epochs.npy --patch 1x8 --steps 64 --per-step 4 -o eval/\n"
"  " PROG " model.onnx x.npy --methods lrp:epsilon-plus-flat,gradient --replace uniform -o out\n"
"  " PROG " cnn3d.onnx volumes.npy --patch 4x4x4 --order morf --replace mean -o out --force\n"
"\n"
"EXIT STATUS\n"
"  0 success, 1 data or runtime error, 2 usage error (also: an output exists, no --force).\n"
"\n"
"REFERENCES\n"
"  Samek, Binder, Montavon, Lapuschkin, Mueller 2017, \"Evaluating the visualization of what a\n"
"  deep neural network has learned\", IEEE TNNLS 28(11):2660 (region perturbation, AOPC).\n"
"  Bach et al. 2015, PLoS ONE 10(7):e0130140 (LRP, pixel flipping). Kohlbrenner et al. 2020,\n"
"  IJCNN (composites). Simonyan et al. 2014 (gradient). Shrikumar et al. 2016 (gradient x\n"
"  input). Smilkov et al. 2017 (SmoothGrad). Sundararajan et al. 2017 (Integrated Gradients).\n");
}

static xai_app app;

static int fail(const char *file, const char *msg)
{
    size_t fl = strlen(file);
    if (strncmp(msg, file, fl) == 0 && msg[fl] == ':') /* the library already named the file */
        return xai_app_fail(&app, NULL, "%s", msg);
    return xai_app_fail(&app, file, "%s", msg);
}

typedef struct {
    char label[160];          /* "lrp:epsilon-plus-flat", "gradient", "random" */
    xai_method method;
    char composite[40];
} method_spec;

static const char *const composites[] = {"epsilon", "epsilon-plus", "epsilon-plus-flat", "epsilon-alpha2-beta1",
                                         "epsilon-alpha2-beta1-flat", "epsilon-gamma-box"};

static int parse_methods(const char *list, method_spec *ms, int *nm, char *err, size_t errlen)
{
    *nm = 0;
    const char *p = list;
    while (*p) {
        const char *q = strchr(p, ',');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        char tok[128];
        if (len == 0 || len >= sizeof tok) {
            snprintf(err, errlen, "--methods: empty or too long entry in '%s'", list);
            return -1;
        }
        memcpy(tok, p, len);
        tok[len] = '\0';
        if (*nm == MAX_METHODS) {
            snprintf(err, errlen, "--methods: at most %d methods", MAX_METHODS);
            return -1;
        }
        method_spec *m = &ms[(*nm)++];
        memset(m, 0, sizeof *m);
        char *colon = strchr(tok, ':');
        if (colon)
            *colon = '\0';
        if (xai_method_parse(tok, &m->method) != XAI_OK) {
            snprintf(err, errlen, "--methods: unknown method '%s' (lrp, gradient, gradient-x-input, smoothgrad, "
                     "integrated-gradients)", tok);
            return -1;
        }
        if (m->method == XAI_METHOD_LRP) {
            const char *comp = colon ? colon + 1 : "epsilon-plus-flat";
            int ok = 0;
            for (size_t i = 0; i < sizeof composites / sizeof *composites; i++)
                ok |= strcmp(comp, composites[i]) == 0;
            if (!ok) {
                snprintf(err, errlen, "--methods: unknown LRP composite '%s'", comp);
                return -1;
            }
            snprintf(m->composite, sizeof m->composite, "%s", comp);
            snprintf(m->label, sizeof m->label, "lrp:%s", comp);
        } else {
            if (colon) {
                snprintf(err, errlen, "--methods: '%s' takes no ':' option", tok);
                return -1;
            }
            snprintf(m->label, sizeof m->label, "%.*s", (int)sizeof m->label - 1, tok);
        }
        for (int i = 0; i < *nm - 1; i++)
            if (strcmp(ms[i].label, m->label) == 0) {
                snprintf(err, errlen, "--methods: '%.100s' given twice", m->label);
                return -1;
            }
        p = q ? q + 1 : p + len;
        if (q && !*p) {
            snprintf(err, errlen, "--methods: trailing comma in '%s'", list);
            return -1;
        }
    }
    if (*nm == 0) {
        snprintf(err, errlen, "--methods: no method given");
        return -1;
    }
    return 0;
}

/* One evaluated (method, order) pair. */
typedef struct {
    char label[160];
    xai_perturb_order order;
    xai_perturb_result res;
} run;

/* ---- line plot ------------------------------------------------------------------- */

static double nice_step(double range)
{
    if (!(range > 0))
        return 1;
    double raw = range / 5.0, mag = pow(10.0, floor(log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
}

/* Draw the curves of @p runs whose order is @p order, plus the random run, into @p path (PNG,
 * atomically through the app layer). 0, or -1 with the reason printed. */
static int plot_curves(const char *path, const run *runs, int nruns, xai_perturb_order order, const char *title,
                       const char *xlabel)
{
    const int W = 900, H = 520;
    const double ml = 78, mr = 230, mt = 44, mb = 60;
    const double pw = W - ml - mr, ph = H - mt - mb;
    int L = -1;
    double ymin = 0, ymax = 0;
    for (int i = 0; i < nruns; i++) {
        if (runs[i].order != order && runs[i].order != XAI_ORDER_RANDOM)
            continue;
        L = runs[i].res.steps;
        for (int k = 0; k <= runs[i].res.steps; k++) {
            ymin = fmin(ymin, runs[i].res.curve[k]);
            ymax = fmax(ymax, runs[i].res.curve[k]);
        }
    }
    if (L < 1)
        L = 1;
    if (ymax - ymin < 1e-12) {
        ymax += 1;
        ymin -= 1;
    }
    double ys = nice_step(ymax - ymin);
    ymin = floor(ymin / ys) * ys;
    ymax = ceil(ymax / ys) * ys;
    double xs = nice_step((double)L);
    if (xs < 1)
        xs = 1;

    cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(sf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
#define PX(k) (ml + pw * (double)(k) / (double)L)
#define PY(v) (mt + ph * (1.0 - ((v) - ymin) / (ymax - ymin)))
    /* grid and ticks */
    char buf[64];
    cairo_text_extents_t te;
    cairo_set_line_width(cr, 1);
    for (double v = ymin; v <= ymax + ys * 1e-6; v += ys) {
        cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
        cairo_move_to(cr, ml, PY(v));
        cairo_line_to(cr, ml + pw, PY(v));
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        snprintf(buf, sizeof buf, "%.4g", fabs(v) < ys * 1e-6 ? 0.0 : v);
        cairo_text_extents(cr, buf, &te);
        cairo_move_to(cr, ml - 6 - te.x_advance, PY(v) + te.height / 2);
        cairo_show_text(cr, buf);
    }
    for (double k = 0; k <= L + 1e-9; k += xs) {
        cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
        cairo_move_to(cr, PX(k), mt);
        cairo_line_to(cr, PX(k), mt + ph);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        snprintf(buf, sizeof buf, "%.0f", k);
        cairo_text_extents(cr, buf, &te);
        cairo_move_to(cr, PX(k) - te.x_advance / 2, mt + ph + 16);
        cairo_show_text(cr, buf);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, ml, mt, pw, ph);
    cairo_stroke(cr);
    /* labels */
    cairo_set_font_size(cr, 13);
    cairo_text_extents(cr, xlabel, &te);
    cairo_move_to(cr, ml + pw / 2 - te.x_advance / 2, H - 16);
    cairo_show_text(cr, xlabel);
    const char *ylabel = "f(x\xe2\x81\xb0) - f(x\xe1\xb5\x8f), mean over samples";
    cairo_text_extents(cr, ylabel, &te);
    cairo_save(cr);
    cairo_move_to(cr, 20, mt + ph / 2 + te.x_advance / 2);
    cairo_rotate(cr, -M_PI / 2);
    cairo_show_text(cr, ylabel);
    cairo_restore(cr);
    cairo_set_font_size(cr, 15);
    cairo_text_extents(cr, title, &te);
    cairo_move_to(cr, ml + pw / 2 - te.x_advance / 2, 26);
    cairo_show_text(cr, title);
    /* curves and legend */
    static const double pal[][3] = {{0.12, 0.47, 0.71}, {0.84, 0.15, 0.16}, {0.17, 0.63, 0.17}, {1.0, 0.5, 0.05},
                                    {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.74, 0.74, 0.13},
                                    {0.09, 0.75, 0.81}};
    int ci = 0, row = 0;
    cairo_set_font_size(cr, 12);
    cairo_rectangle(cr, ml, mt, pw, ph);
    for (int i = 0; i < nruns; i++) {
        const run *r = &runs[i];
        if (r->order != order && r->order != XAI_ORDER_RANDOM)
            continue;
        double rgb[3] = {0.35, 0.35, 0.35};
        double dash[2] = {6, 4};
        if (r->order == XAI_ORDER_RANDOM) {
            cairo_set_dash(cr, dash, 2, 0);
        } else {
            memcpy(rgb, pal[ci % (int)(sizeof pal / sizeof *pal)], sizeof rgb);
            ci++;
            cairo_set_dash(cr, NULL, 0, 0);
        }
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_set_line_width(cr, 2);
        cairo_save(cr);
        cairo_rectangle(cr, ml, mt, pw, ph);
        cairo_clip(cr);
        for (int k = 0; k <= r->res.steps; k++) {
            if (k == 0)
                cairo_move_to(cr, PX(k), PY(r->res.curve[k]));
            else
                cairo_line_to(cr, PX(k), PY(r->res.curve[k]));
        }
        cairo_stroke(cr);
        cairo_restore(cr);
        double ly = mt + 14 + 20 * row++;
        cairo_move_to(cr, ml + pw + 12, ly - 4);
        cairo_line_to(cr, ml + pw + 40, ly - 4);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        cairo_set_source_rgb(cr, 0, 0, 0);
        snprintf(buf, sizeof buf, "%s %.3g", r->label, r->res.aopc);
        cairo_move_to(cr, ml + pw + 46, ly);
        cairo_show_text(cr, buf);
    }
    cairo_new_path(cr);
    cairo_move_to(cr, ml + pw + 12, mt + 14 + 20 * row + 6);
    cairo_set_font_size(cr, 11);
    cairo_show_text(cr, "(legend: method, AOPC)");
#undef PX
#undef PY
    cairo_destroy(cr);
    int rc = xai_app_write_png(&app, sf, path, "cairo", "cannot write PNG");
    cairo_surface_destroy(sf);
    return rc;
}

/* ---- tables ---------------------------------------------------------------------- */

/* A table with the number columns FIRST, SECOND and one "LABEL/ORDER" per run. On failure
 * *t may hold a partial table (free it). */
static xai_status runs_table(const char *first, const char *second, const run *runs, int nruns, xai_tsv **t)
{
    const char *names[] = {first, second};
    xai_status st = xai_tsv_create(2, names, NULL, t);
    for (int i = 0; i < nruns && !st; i++) {
        char col[200];
        snprintf(col, sizeof col, "%s/%s", runs[i].label, xai_perturb_order_name(runs[i].order));
        st = xai_tsv_add_column(*t, col, XAI_TSV_NUMBER, NULL);
    }
    return st;
}

/* Save @p t to @p path when @p st is XAI_OK, free it either way; the first error. */
static xai_status finish_table(xai_tsv *t, const char *path, xai_status st)
{
    if (!st)
        st = xai_tsv_save(t, path, 0);
    xai_tsv_free(t);
    return st;
}

static xai_status write_tables(const char *outdir, const run *runs, int nruns, int64_t per_step, char *path,
                               size_t plen)
{
    xai_status st;
    xai_tsv *t = NULL;
    /* aopc.tsv */
    const char *names[] = {"method", "order", "aopc", "ci_low", "ci_high", "sd", "n", "steps", "per_step", "patches"};
    const xai_tsv_type types[] = {XAI_TSV_STRING, XAI_TSV_STRING, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER,
                                  XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER, XAI_TSV_NUMBER};
    snprintf(path, plen, "%s/aopc.tsv", outdir);
    if ((st = xai_tsv_create(10, names, types, &t)))
        return st;
    for (int i = 0; i < nruns && !st; i++) {
        size_t r;
        const xai_perturb_result *p = &runs[i].res;
        if ((st = xai_tsv_add_row(t, &r)))
            break;
        xai_tsv_set_string(t, r, 0, runs[i].label);
        xai_tsv_set_string(t, r, 1, xai_perturb_order_name(runs[i].order));
        xai_tsv_set_number(t, r, 2, p->aopc);
        xai_tsv_set_number(t, r, 3, p->ci_low);
        xai_tsv_set_number(t, r, 4, p->ci_high);
        xai_tsv_set_number(t, r, 5, p->sd);
        xai_tsv_set_number(t, r, 6, (double)p->n);
        xai_tsv_set_number(t, r, 7, p->steps);
        xai_tsv_set_number(t, r, 8, (double)per_step);
        xai_tsv_set_number(t, r, 9, (double)p->npatches);
    }
    if ((st = finish_table(t, path, st)))
        return st;

    /* curves.tsv */
    snprintf(path, plen, "%s/curves.tsv", outdir);
    st = runs_table("step", "fraction", runs, nruns, &t);
    for (int k = 0; !st && k <= runs[0].res.steps; k++) {
        size_t r;
        if ((st = xai_tsv_add_row(t, &r)))
            break;
        xai_tsv_set_number(t, r, 0, k);
        xai_tsv_set_number(t, r, 1, runs[0].res.fraction[k]);
        for (int i = 0; i < nruns; i++)
            xai_tsv_set_number(t, r, 2 + (size_t)i, runs[i].res.curve[k]);
    }
    if ((st = finish_table(t, path, st)))
        return st;

    /* aopc_samples.tsv */
    snprintf(path, plen, "%s/aopc_samples.tsv", outdir);
    st = runs_table("sample", "class", runs, nruns, &t);
    for (int64_t s = 0; !st && s < runs[0].res.n; s++) {
        size_t r;
        if ((st = xai_tsv_add_row(t, &r)))
            break;
        xai_tsv_set_number(t, r, 0, (double)s);
        xai_tsv_set_number(t, r, 1, runs[0].res.target[s]);
        for (int i = 0; i < nruns; i++)
            xai_tsv_set_number(t, r, 2 + (size_t)i, runs[i].res.aopc_sample[s]);
    }
    return finish_table(t, path, st);
}

/* Provenance sidecars (aopc.json, curves.json, aopc_samples.json) of the three tables:
 * the app layer adds CommandLine, Version and DateTime. 0, or -1 with the reason printed. */
static int write_sidecars(const char *outdir, const char *model_path, const char *input_path,
                          const method_spec *ms, int nm, const xai_perturb_config *pc, int do_morf,
                          int do_lerf, int target, int init_logit)
{
    static const char *const tables[][2] = {
        {"aopc.tsv", "AOPC per method and order, with its 95% interval"},
        {"curves.tsv", "mean f(x^0) - f(x^k) per perturbation step, per method and order"},
        {"aopc_samples.tsv", "AOPC per sample, per method and order"}};
    char sha[65], path[4096];
    if (xai_sha256_file(model_path, sha) != 0)
        return xai_app_fail(&app, model_path, "cannot read it for its SHA-256"), -1;
    json_t *methods = json_array(), *patch = json_array();
    for (int i = 0; i < nm; i++)
        json_array_append_new(methods, json_string(ms[i].label));
    for (int d = 0; d < pc->patch_ndim; d++)
        json_array_append_new(patch, json_integer(pc->patch[d]));
    json_t *root = json_pack(
        "{s:s, s:[s, s], s:s, s:{s:o, s:o, s:i, s:I, s:s, s:s, s:f, s:I, s:I, s:o, s:s}}",
        "ModelSHA256", sha, "Sources", model_path, input_path, "Method", "region perturbation (AOPC)",
        "Parameters", "methods", methods, "patch", patch, "steps", pc->steps, "per_step",
        (json_int_t)pc->per_step, "order", do_morf && do_lerf ? "morf,lerf" : do_morf ? "morf" : "lerf",
        "replace", xai_replace_name(pc->replace), "baseline", (double)pc->baseline, "seed",
        (json_int_t)pc->seed, "batch", (json_int_t)pc->batch, "class",
        target >= 0 ? json_integer(target) : json_string("pred"), "init", init_logit ? "logit" : "onehot");
    if (!root)
        return xai_app_fail(&app, outdir, "out of memory"), -1;
    int rc = 0;
    for (size_t i = 0; i < sizeof tables / sizeof *tables && rc == 0; i++) {
        json_object_set_new(root, "Description", json_string(tables[i][1]));
        char *text = json_dumps(root, JSON_COMPACT);
        snprintf(path, sizeof path, "%s/%s", outdir, tables[i][0]);
        rc = text ? xai_app_write_sidecar(&app, path, text) : (xai_app_fail(&app, path, "out of memory"), -1);
        free(text);
    }
    json_decref(root);
    return rc;
}

int main(int argc, char **argv)
{
    enum { O_METHODS = 256, O_PATCH, O_STEPS, O_PERSTEP, O_ORDER, O_REPLACE, O_BASELINE, O_CLASS, O_SEED, O_BATCH,
           O_INIT };
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},        {"methods", required_argument, 0, O_METHODS},
        {"patch", required_argument, 0, O_PATCH},     {"steps", required_argument, 0, O_STEPS},
        {"per-step", required_argument, 0, O_PERSTEP}, {"order", required_argument, 0, O_ORDER},
        {"replace", required_argument, 0, O_REPLACE}, {"baseline", required_argument, 0, O_BASELINE},
        {"class", required_argument, 0, O_CLASS},     {"seed", required_argument, 0, O_SEED},
        {"batch", required_argument, 0, O_BATCH},     {"init", required_argument, 0, O_INIT},
        {"help", no_argument, 0, 'h'},                XAI_APP_LONG_OPTIONS,
        {0, 0, 0, 0}};
    xai_perturb_config pc;
    xai_perturb_config_init(&pc);
    method_spec ms[MAX_METHODS];
    int nm = 0;
    const char *outdir = NULL;
    const char *methods = "lrp:epsilon-plus-flat,lrp:epsilon-plus,lrp:epsilon,gradient";
    int target = -1, do_morf = 1, do_lerf = 1, init_logit = 1;
    long steps = -1;
    char msg[512];
    int c;
    xai_app_init(&app, PROG, "0.1.0", argc, argv);
    xai_app_install_signal_handlers();
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:fqvhV", opts, NULL)) != -1) {
        long v;
        int h = xai_app_handle_option(&app, c == 'V' ? XAI_APP_OPT_VERSION : c, optarg);
        if (h == 2 || h < 0)
            return h == 2 ? XAI_EXIT_OK : XAI_EXIT_USAGE;
        if (h == 1)
            continue;
        switch (c) {
        case 'o': outdir = optarg; break;
        case 'h': usage(stdout); return 0;
        case O_METHODS: methods = optarg; break;
        case O_PATCH:
            if (xai_perturb_patch_parse(optarg, &pc) != XAI_OK) {
                snprintf(msg, sizeof msg, "--patch: %s", xai_last_error());
                return xai_app_usage_error(&app, "%s", msg);
            }
            break;
        case O_STEPS:
            if (xai_app_parse_long(optarg, 1, 1000000, &steps))
                return xai_app_usage_error(&app, "--steps needs an integer in 1..1000000");
            break;
        case O_PERSTEP:
            if (xai_app_parse_long(optarg, 1, 1L << 30, &v))
                return xai_app_usage_error(&app, "--per-step needs a positive integer");
            pc.per_step = v;
            break;
        case O_ORDER:
            if (strcmp(optarg, "morf") == 0) {
                do_morf = 1;
                do_lerf = 0;
            } else if (strcmp(optarg, "lerf") == 0) {
                do_morf = 0;
                do_lerf = 1;
            } else if (strcmp(optarg, "morf,lerf") == 0 || strcmp(optarg, "lerf,morf") == 0) {
                do_morf = do_lerf = 1;
            } else {
                return xai_app_usage_error(&app, "--order must be morf, lerf or morf,lerf");
            }
            break;
        case O_REPLACE:
            if (xai_replace_parse(optarg, &pc.replace) != XAI_OK)
                return xai_app_usage_error(&app, "--replace must be baseline, uniform or mean");
            break;
        case O_BASELINE: {
            char *e;
            errno = 0;
            double b = strtod(optarg, &e);
            if (e == optarg || *e || errno || !isfinite(b))
                return xai_app_usage_error(&app, "--baseline needs a finite number");
            pc.baseline = (float)b;
            break;
        }
        case O_CLASS:
            if (strcmp(optarg, "pred") == 0)
                target = -1;
            else if (xai_app_parse_long(optarg, 0, 1000000, &v))
                return xai_app_usage_error(&app, "--class needs a class index >= 0 or 'pred'");
            else
                target = (int)v;
            break;
        case O_SEED: {
            char *e;
            errno = 0;
            unsigned long long s = strtoull(optarg, &e, 10);
            if (e == optarg || *e || errno || optarg[0] == '-')
                return xai_app_usage_error(&app, "--seed needs a non-negative integer");
            pc.seed = (uint64_t)s;
            break;
        }
        case O_BATCH:
            if (xai_app_parse_long(optarg, 1, 64, &v))
                return xai_app_usage_error(&app, "--batch needs an integer in 1..64");
            pc.batch = v;
            break;
        case O_INIT:
            if (strcmp(optarg, "logit") == 0)
                init_logit = 1;
            else if (strcmp(optarg, "onehot") == 0)
                init_logit = 0;
            else
                return xai_app_usage_error(&app, "--init must be logit or onehot");
            break;
        case ':':
            snprintf(msg, sizeof msg, "option '%s' needs a value", argv[optind - 1]);
            return xai_app_usage_error(&app, "%s", msg);
        default:
            snprintf(msg, sizeof msg, "unknown option '%s'", argv[optind - 1]);
            return xai_app_usage_error(&app, "%s", msg);
        }
    }
    if (argc - optind != 2)
        return xai_app_usage_error(&app, "expected MODEL.onnx and X.npy");
    if (!outdir)
        return xai_app_usage_error(&app, "missing -o OUTDIR");
    if (parse_methods(methods, ms, &nm, msg, sizeof msg))
        return xai_app_usage_error(&app, "%s", msg);
    const char *model_path = argv[optind], *input_path = argv[optind + 1];
    xai_app_apply_threads(&app);

    /* Refuse to overwrite before doing any work. */
    static const char *const outputs[] = {"aopc.tsv", "curves.tsv", "aopc_samples.tsv", "curves_morf.png",
                                          "curves_lerf.png"};
    char path[4096];
    struct stat sb;
    if (stat(outdir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode))
            return fail(outdir, "exists and is not a directory");
        for (size_t i = 0; i < sizeof outputs / sizeof *outputs; i++) {
            snprintf(path, sizeof path, "%s/%s", outdir, outputs[i]);
            if (xai_app_check_output(&app, path) != 0)
                return XAI_EXIT_USAGE;
        }
    } else if (strlen(outdir) > sizeof path - 32) {
        return xai_app_usage_error(&app, "OUTDIR path too long");
    }

    xai_npy x;
    memset(&x, 0, sizeof x);
    if (xai_npy_load(input_path, &x) != XAI_OK)
        return fail(input_path, xai_last_error());
    xai_model *m = NULL;
    if (xai_model_load_onnx(model_path, NULL, &m) != XAI_OK) {
        xai_npy_free(&x);
        return fail(model_path, xai_last_error());
    }
    int rc = 1, nruns = 0;
    float *rel = NULL, *gx = NULL, *gr = NULL; /* relevance; a class's samples and their maps */
    int *tg = NULL;
    unsigned char *done_cls = NULL; /* classes already explained */
    run *runs = calloc(MAX_RUNS, sizeof *runs);
    int md;
    const int64_t *mshape = xai_model_input_shape(m, &md);
    int64_t n = -1;
    if (x.ndim == md && memcmp(x.shape, mshape, sizeof(int64_t) * (size_t)md) == 0)
        n = 1;
    else if (x.ndim == md + 1 && memcmp(x.shape + 1, mshape, sizeof(int64_t) * (size_t)md) == 0)
        n = x.shape[0];
    else if (x.ndim == md && md > 1 && mshape[0] == 1 &&
             memcmp(x.shape + 1, mshape + 1, sizeof(int64_t) * (size_t)(md - 1)) == 0)
        n = x.shape[0];
    if (n < 1) {
        char a[256], b[256];
        snprintf(msg, sizeof msg, "shape %s does not match the model input %s (or N x that)",
                 xai_shape_str(x.ndim, x.shape, a, sizeof a), xai_shape_str(md, mshape, b, sizeof b));
        fail(input_path, msg);
        goto done;
    }
    int64_t nin = xai_model_input_numel(m), nout = xai_model_output_numel(m);
    if (target >= nout) {
        snprintf(msg, sizeof msg, "--class %d is out of range: the model has %lld outputs", target, (long long)nout);
        fail(model_path, msg);
        goto done;
    }
    int64_t np;
    if (xai_perturb_patches(md, mshape, &pc, NULL, &np) != XAI_OK) {
        char b[256];
        snprintf(msg, sizeof msg, "--patch does not fit the per-sample input %s: %s",
                 xai_shape_str(md, mshape, b, sizeof b), xai_last_error());
        fail(model_path, msg);
        rc = 2;
        goto done;
    }
    if (pc.replace == XAI_REPLACE_MEAN && np == nin) {
        fail(model_path, "--replace mean with patches of one element changes nothing; give a larger --patch");
        rc = 2;
        goto done;
    }
    int64_t maxsteps = (np + pc.per_step - 1) / pc.per_step;
    if (steps < 0) {
        pc.steps = (int)(maxsteps < 100 ? maxsteps : 100);
    } else if (steps > maxsteps) {
        snprintf(msg, sizeof msg, "--steps %ld with --per-step %lld needs %lld patches, but the input has %lld",
                 steps, (long long)pc.per_step, (long long)(steps * pc.per_step), (long long)np);
        fail(model_path, msg);
        rc = 2;
        goto done;
    } else {
        pc.steps = (int)steps;
    }
    rel = malloc(sizeof(float) * (size_t)(n * nin));
    gx = malloc(sizeof(float) * (size_t)(n * nin));
    gr = malloc(sizeof(float) * (size_t)(n * nin));
    tg = malloc(sizeof(int) * (size_t)n);
    done_cls = malloc((size_t)nout);
    if (!rel || !gx || !gr || !tg || !done_cls || !runs) {
        fail(input_path, "out of memory");
        goto done;
    }
    float xmin = x.data[0], xmax = x.data[0];
    for (int64_t i = 0; i < n * nin; i++) {
        xmin = fminf(xmin, x.data[i]);
        xmax = fmaxf(xmax, x.data[i]);
    }

    /* Random baseline first: it fixes the class of every sample (argmax or --class). */
    if (target >= 0) {
        for (int64_t s = 0; s < n; s++)
            tg[s] = target;
        pc.target = tg;
    }
    xai_app_progress_begin(&app, "method/order runs", 1 + (int64_t)nm * (do_morf + do_lerf));
    pc.order = XAI_ORDER_RANDOM;
    snprintf(runs[0].label, sizeof runs[0].label, "random");
    runs[0].order = XAI_ORDER_RANDOM;
    if (xai_perturb_evaluate(m, &pc, n, x.data, NULL, &runs[0].res) != XAI_OK) {
        fail(model_path, xai_last_error());
        goto done;
    }
    nruns = 1;
    xai_app_progress_step(&app, nruns, "random");
    memcpy(tg, runs[0].res.target, sizeof(int) * (size_t)n);
    pc.target = tg;

    for (int i = 0; i < nm; i++) {
        xai_explain_config ec;
        xai_explain_config_init(&ec);
        ec.method = ms[i].method;
        if (ms[i].method == XAI_METHOD_LRP) {
            ec.composite = ms[i].composite;
            ec.init = init_logit ? XAI_INIT_LOGIT : XAI_INIT_ONEHOT;
        } else {
            ec.init = XAI_INIT_ONEHOT; /* the plain gradient of f */
        }
        ec.batch = pc.batch;
        ec.seed = pc.seed;
        if (ms[i].method == XAI_METHOD_LRP && strcmp(ms[i].composite, "epsilon-gamma-box") == 0) {
            ec.have_bounds = 1;
            ec.low = xmin;
            ec.high = xmax > xmin ? xmax : xmin + 1;
        }
        /* Explain every sample for its tracked class: one call per class over the samples of
         * that class, gathered into a contiguous stack and scattered back. */
        memset(done_cls, 0, (size_t)nout);
        for (int64_t s = 0; s < n; s++) {
            if (done_cls[tg[s]])
                continue;
            done_cls[tg[s]] = 1;
            int64_t cnt = 0;
            for (int64_t q = s; q < n; q++)
                if (tg[q] == tg[s])
                    memcpy(gx + cnt++ * nin, x.data + q * nin, sizeof(float) * (size_t)nin);
            ec.target = tg[s];
            if (xai_explain(m, &ec, cnt, gx, gr, NULL) != XAI_OK) {
                snprintf(msg, sizeof msg, "%.100s: %.400s", ms[i].label, xai_last_error());
                fail(model_path, msg);
                goto done;
            }
            cnt = 0;
            for (int64_t q = s; q < n; q++)
                if (tg[q] == tg[s])
                    memcpy(rel + q * nin, gr + cnt++ * nin, sizeof(float) * (size_t)nin);
        }
        for (int o = 0; o < 2; o++) {
            if ((o == 0 && !do_morf) || (o == 1 && !do_lerf))
                continue;
            run *r = &runs[nruns];
            snprintf(r->label, sizeof r->label, "%.*s", (int)sizeof r->label - 1, ms[i].label);
            r->order = o == 0 ? XAI_ORDER_MORF : XAI_ORDER_LERF;
            pc.order = r->order;
            if (xai_perturb_evaluate(m, &pc, n, x.data, rel, &r->res) != XAI_OK) {
                snprintf(msg, sizeof msg, "%.100s: %.400s", ms[i].label, xai_last_error());
                fail(model_path, msg);
                goto done;
            }
            nruns++;
            snprintf(msg, sizeof msg, "%.100s/%s", ms[i].label, xai_perturb_order_name(r->order));
            xai_app_progress_step(&app, nruns, msg);
        }
    }
    xai_app_progress_end(&app);

    if (xai_app_mkdirs(&app, outdir) != 0)
        goto done;
    if (write_tables(outdir, runs, nruns, pc.per_step, path, sizeof path) != XAI_OK) {
        fail(path, xai_last_error());
        goto done;
    }
    if (write_sidecars(outdir, model_path, input_path, ms, nm, &pc, do_morf, do_lerf, target, init_logit) != 0)
        goto done;
    for (int o = 0; o < 2; o++) {
        if ((o == 0 && !do_morf) || (o == 1 && !do_lerf))
            continue;
        char title[256], xlabel[256];
        snprintf(path, sizeof path, "%s/%s", outdir, o == 0 ? "curves_morf.png" : "curves_lerf.png");
        snprintf(title, sizeof title, "%s perturbation, %s replacement, n = %lld", o == 0 ? "MoRF" : "LeRF",
                 xai_replace_name(pc.replace), (long long)n);
        snprintf(xlabel, sizeof xlabel, "step k (%lld of %lld patch%s per step)", (long long)pc.per_step,
                 (long long)np, np == 1 ? "" : "es");
        if (plot_curves(path, runs, nruns, o == 0 ? XAI_ORDER_MORF : XAI_ORDER_LERF, title, xlabel))
            goto done;
    }
    if (app.verbosity > 0) {
        fprintf(stderr, "%-28s %-6s %10s %10s %10s  (n = %lld, L = %d, %lld patches, %lld per step, %s)\n",
                "method", "order", "AOPC", "CI low", "CI high", (long long)n, pc.steps, (long long)np,
                (long long)pc.per_step, xai_replace_name(pc.replace));
        for (int i = 0; i < nruns; i++)
            fprintf(stderr, "%-28s %-6s %10.5g %10.5g %10.5g\n", runs[i].label, xai_perturb_order_name(runs[i].order),
                    runs[i].res.aopc, runs[i].res.ci_low, runs[i].res.ci_high);
    }
    rc = 0;
done:
    for (int i = 0; runs && i < nruns; i++)
        xai_perturb_result_free(&runs[i].res);
    free(runs);
    free(rel);
    free(gx);
    free(gr);
    free(tg);
    free(done_cls);
    xai_model_free(m);
    xai_npy_free(&x);
    /* drop cairo's and fontconfig's caches so leak checkers see a clean exit */
    cairo_debug_reset_static_data();
    FcFini();
    xai_app_free(&app);
    return rc;
}
