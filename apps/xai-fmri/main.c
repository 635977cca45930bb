/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-fmri - train and explain fMRI decoders (a 3-D CNN per volume, or DeepLight-style 2-D CNN
 * per axial slice + biLSTM over slices) and write LRP relevance as BIDS derivatives: a 4-D
 * relevance NIfTI in the input's exact grid, 3-D per-class summaries, a slice mosaic PNG over
 * the mean EPI, a per-volume prediction table, JSON sidecars with provenance.
 * Forms: `xai-fmri train ...`, `xai-fmri explain ...`, and the BIDS-App form
 * `xai-fmri BIDS_DIR OUT_DIR participant|group`.
 * Refs: BIDS 1.9 (derivatives, task events); BIDS-Apps (Gorgolewski et al. 2017);
 * DeepLight (Thomas et al. 2019, doi:10.3389/fnins.2019.01321); LRP (Bach et al. 2015).
 */
#include <cairo.h>
#include <dirent.h>
#include <fontconfig/fontconfig.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "report-app.h"
#include "xai/npy.h"
#include "xai/domain-fmri.h"
#include "xai/domain.h"
#include "xai/lrp.h"
#include "xai/model.h"
#include "xai/nifti.h"
#include "xai/train.h"
#include "xai/validate.h"
#include "xai/tsv.h"

#define PROG "xai-fmri"
#ifndef XAI_FMRI_VERSION
#define XAI_FMRI_VERSION "0.1.0"
#endif
#define MAX_RUNS 256
#define MAX_SUBJECTS 1024

/* The default: L2-regularised linear read-out of the masked volume (a logistic regression
 * trained by Adam), the model class of the MVPA baselines; it fits any grid, a single slice too. */
static const char *const arch_dense = "flatten dense(%d)";
static const char *const arch_cnn3d =
    "conv3d(8,k=3,p=1) relu maxpool(2) conv3d(16,k=3,p=1) relu maxpool(2) flatten dense(%d)";
static const char *const arch_deeplight =
    "timedist( conv2d(8,k=3,p=1) relu maxpool(2) conv2d(16,k=3,p=1) relu maxpool(2) flatten ) "
    "lstm(16,bidirectional,last) dense(%d)";

typedef struct {
    xai_app app;
    /* data */
    const char *bold[MAX_RUNS], *events[MAX_RUNS], *labels[MAX_RUNS];
    int nbold, nevents, nlabels;
    const char *mask;
    double lag, auto_frac;
    int detrend;
    const char *conditions;
    /* train */
    const char *arch, *family;
    int epochs, patience, cv;
    int64_t batch;
    double lr, val_split, weight_decay;
    uint64_t seed;
    const char *out;
    /* explain */
    const char *model, *method, *composite, *target;
    double epsilon, gamma;
    int no4d, save_input;
    int64_t ebatch;
    /* BIDS-App */
    const char *plabels[MAX_SUBJECTS];
    int nplabels;
    const char *task;
    int shard_k, shard_n; /* --shard K/N over the selected participants (0 = all) */
} opts;

static void help_head(void)
{
    printf(
        "SYNOPSIS\n"
        "  xai-fmri train --bold RUN.nii.gz [--bold ...] (--events E.tsv ... | --labels L.tsv ...)\n"
        "                 [--mask M.nii.gz] [--family dense|cnn3d|deeplight | --arch SPEC] [--cv] -o MODEL.onnx\n"
        "  xai-fmri explain --model M.onnx --bold RUN.nii.gz [--mask M.nii.gz] [--events E.tsv] -o OUTDIR\n"
        "  xai-fmri BIDS_DIR OUT_DIR participant [--participant-label 01 02] [--task T] [--model M.onnx]\n"
        "  xai-fmri BIDS_DIR OUT_DIR group [--task T]\n"
        "\n"
        "Decode the condition of each fMRI volume and explain the decision with LRP, writing BIDS\n"
        "derivatives: a 4-D relevance NIfTI on the input's exact grid and geometry (_desc-lrp_bold),\n"
        "one 3-D summary per class (_desc-lrp<Class>_statmap: the mean relevance over the volumes\n"
        "explained for that class, and with --events only those labelled with it, i.e. the correctly\n"
        "classified ones), the overall mean (_desc-lrp_statmap), a per-volume table of labels,\n"
        "predictions and logits (_desc-lrp_timeseries.tsv), a slice mosaic PNG of each class map over\n"
        "the mean EPI (figures/), dataset_description.json and a JSON sidecar per file.\n"
        "\n"
        );
}

static void help_train(void)
{
    printf(
        "Labels and preprocessing:\n"
        "      --events FILE      BIDS events.tsv (onset, duration, trial_type), one per --bold, in order;\n"
        "                         trial types that are no class are reported with their counts\n"
        "      --labels FILE      per-volume table instead, tabs or spaces, header optional: label [chunk]\n"
        "                         (PyMVPA attributes.txt) or columns trial_type|label|targets and\n"
        "                         chunk|run; a run column splits a concatenated file into its runs;\n"
        "                         n/a and rest are unlabelled\n"
        "      --conditions A,B   the classes, in this order [every trial_type, sorted]\n"
        "      --lag S            fixed hemodynamic lag: volume t (at t*TR s) belongs to a block when\n"
        "                         onset+lag <= t*TR < onset+duration+lag [default: the canonical SPM\n"
        "                         HRF rule: a volume belongs to a block when the block's boxcar\n"
        "                         convolved with the HRF, at the volume's mid-time, exceeds half its\n"
        "                         peak; 22.5 s blocks at TR 2.5 s: a 2-volume shift]. Applies to\n"
        "                         --events and --labels alike; explain uses the model's rule\n"
        "      --detrend linear|none  per-run linear detrending before z-scoring [linear]\n"
        "      --mask FILE        brain mask on the run's grid and affine [automatic: one mask from the\n"
        "                         mean image of the training runs, threshold at the largest gap of the\n"
        "                         sorted intensities between the 20 and 85 %% quantiles, largest\n"
        "                         connected component, holes filled; stored in the model]\n"
        "      --auto-mask F      the older automatic mask instead: mean above F times its 98th\n"
        "                         percentile (F in (0, 1))\n"
        "  Each run is detrended and z-scored voxel by voxel over all its volumes; inputs outside the\n"
        "  mask are 0 and so is their relevance. train records this, the grid, the orientation, the\n"
        "  mask, TR and the lag rule in the model's \"xai_preprocessing\" metadata and explain applies\n"
        "  it identically. A model and a run on different grids or orientations are an error: xai-fmri\n"
        "  never resamples.\n"
        "\n"
        "train:\n"
        "      --family NAME      dense (a linear read-out of the masked volume, L2-regularised: the\n"
        "                         model class of the MVPA baselines; fits any grid), cnn3d (a 3-D CNN,\n"
        "                         grids of >= 4 voxels per axis) or deeplight (2-D CNN per axial slice\n"
        "                         + bidirectional LSTM over slices) [dense]\n"
        "      --arch SPEC        architecture spec instead (see xai-train --help); input {1,Z,Y,X}\n"
        "                         for 3-D specs, {Z,1,Y,X} for timedist(...) specs\n"
        "      --epochs N [50]  --batch N [16]  --lr X [0.001]  --seed N [1]\n"
        "      --weight-decay X   L2 penalty of Adam [0.1]\n"
        "      --val-split F      > 0: keep the best epoch on the last training run, held out whole\n"
        "                         (never random volumes, which leak through the HRF) [0: no early\n"
        "                         stopping, the last epoch is kept]\n"
        "      --patience N       early stopping with --val-split [0 = off]\n"
        "      --cv               leave-one-run-out first: accuracy per run, mean +- sd over runs,\n"
        "                         chance and a block-level binomial p-value (volumes of one block\n"
        "                         share one response, so blocks are the independent units)\n"
        "  -o, --output FILE      the model (.onnx)\n"
        "\n");
}

static void help_explain(void)
{
    printf(
        "explain:\n"
        "      --model FILE       the .onnx model written by xai-fmri train\n"
        "      --method NAME      lrp, gradient, gradient-x-input, smoothgrad,\n"
        "                         integrated-gradients [lrp]\n"
        "      --composite NAME   LRP composite [epsilon for dense models, else epsilon-plus-flat];\n"
        "                         LRP starts from the explained logit with bias factor 1, so each\n"
        "                         volume's relevance sums to its logit; volumes departing from it by\n"
        "                         more than 10x are reported; class maps average L1-normalised maps\n"
        "      --epsilon X [1e-6]  --gamma X [0.25]\n"
        "      --target T         pred (the predicted class) or a class name [pred]\n"
        "      --explain-batch N  volumes per sweep; memory does not grow with the run length\n"
        "                         [0 = auto: 128 Ki voxels per sweep, 1..16 volumes]\n"
        "      --no-4d            skip the 4-D relevance file\n"
        "      --save-input       also write the model inputs (z-scored volumes) as\n"
        "                         <stem>_desc-input_bold.npy float32 (volumes, 1, Z, Y, X)\n"
        "  -o, --output DIR       the derivative root\n"
        "\n"
        "\n");
}

static void help_bids(void)
{
    printf(
        "BIDS-App form:\n"
        "      --participant-label L [L ...]  subjects (with or without sub-) [all]; give\n"
        "                         BIDS_DIR OUT_DIR LEVEL before it, as BIDS Apps do\n"
        "      --task T           only this task [all]\n"
        "      --shard K/N        only the K-th of N deterministic parts of the selected\n"
        "                         participants (for job arrays) [all]\n"
        "      --model FILE       explain every run with this model; without it every run is\n"
        "                         explained by a model trained on the subject's other runs\n"
        "                         (leave-one-run-out; saved as _desc-heldout_model.onnx), or on the\n"
        "                         run itself when there is only one\n"
        "  group: averages the participants' class summaries (runs, then subjects) into\n"
        "         OUT_DIR/group/task-T_desc-lrp<Class>_statmap.nii.gz\n"
        "\n%s"
        "\n"
        "EXIT STATUS\n"
        "  0 ok, 1 data or runtime error, 2 usage (also an existing output without --force),\n"
        "  3 some participants failed\n"
        "\n"
        "EXAMPLES\n"
        "  gen_fmri ds && xai-fmri ds out participant --participant-label 01\n"
        "  xai-fmri train --bold sub-01_task-blocks_run-1_bold.nii.gz --events sub-01_task-blocks_run-1_events.tsv \\\n"
        "      -o dense.onnx\n"
        "  xai-fmri explain --model dense.onnx --bold sub-01_task-blocks_run-2_bold.nii.gz \\\n"
        "      --events sub-01_task-blocks_run-2_events.tsv -o out\n"
        "  fsleyes sub-01_task-blocks_run-2_bold.nii.gz out/sub-01/func/*_desc-lrpFaces_statmap.nii.gz \\\n"
        "      -cm red-yellow -nc blue-lightblue -un\n"
        "\n"
        "REFERENCES\n"
        "  Bach et al. 2015, PLoS ONE 10:e0130140 (LRP); Thomas, Heekeren, Mueller, Samek 2019,\n"
        "  Front. Neurosci. 13:1321 (DeepLight); Gorgolewski et al. 2017, PLoS Comput. Biol.\n"
        "  13:e1005209 (BIDS Apps); BIDS specification 1.9, derivatives and task events.\n",
        xai_app_common_help);
}

/* The help of one command (train, explain) or all of it. */
static void help(const char *cmd)
{
    int tr = !cmd || !strcmp(cmd, "train"), ex = !cmd || !strcmp(cmd, "explain");
    help_head();
    if (tr)
        help_train();
    if (ex)
        help_explain();
    if (!cmd)
        help_bids();
    else
        printf("%s", xai_app_common_help);
}

/* ---------------------------------------------------------------- runs */

typedef struct {
    const char *path;
    xai_nifti *img;   /* shared by the runs of one concatenated file; the first of them owns it */
    int owner;
    int64_t t0, nt;   /* the run's volumes in img */
    xai_fmri_prep prep;
    int *labels;      /* nt, or NULL without labels */
} run_t;

static void run_free(run_t *r)
{
    if (r->owner)
        xai_nifti_close(r->img);
    xai_fmri_prep_free(&r->prep);
    free(r->labels);
    memset(r, 0, sizeof *r);
}

static int64_t run_nv(const run_t *r) { return r->img->shape[1] * r->img->shape[2] * r->img->shape[3]; }
static const float *run_data(const run_t *r) { return r->img->data + r->t0 * run_nv(r); }

/* Volume t of a run, pre-processed, 0 outside mask. */
static void run_volume(const run_t *r, int64_t t, const uint8_t *mask, float *out)
{
    int64_t nv = run_nv(r);
    xai_fmri_prep_apply(&r->prep, run_data(r) + t * nv, t, out);
    for (int64_t v = 0; v < nv; v++)
        if (!mask[v])
            out[v] = 0.0f;
}

/* Labels of a whole file: events, a table (with its run column in chunks), or none. */
static int label_file(opts *o, const xai_nifti *img, const char *bold, const char *events, const char *labels,
                      double lag, xai_fmri_classes *cls, int *lab, int *chunks, int *nchunks)
{
    int64_t nt = img->shape[0];
    double tr = img->info.tr_s;
    *nchunks = 1;
    memset(chunks, 0, (size_t)nt * sizeof *chunks);
    if (!events && !labels)
        return 0;
    if (!(tr > 0) && (events || lag != 0))
        return xai_app_fail(&o->app, bold, "no repetition time in the header (pixdim[4]); cannot place %s in time",
                            events ? "events" : "the lag of --labels (give --lag 0 to take the table as it is)");
    char *unused = NULL;
    xai_status st = events ? xai_fmri_label_events(events, nt, tr, lag, cls, lab, &unused)
                           : xai_fmri_label_table(labels, nt, tr, lag, cls, lab, chunks, nchunks);
    if (st != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    if (unused)
        xai_app_log(&o->app, 1, "warning: %s: trial types not among the classes, left unlabelled: %s", events, unused);
    free(unused);
    return 0;
}

/* Open a BOLD file and append its runs (one, or one per value of the label table's run column). */
static int load_bold(opts *o, const char *bold, const char *events, const char *labels, double lag,
                     xai_fmri_classes *cls, run_t *runs, int *nruns, int cap)
{
    xai_nifti *img = NULL;
    if (xai_nifti_open(bold, &img) != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    int64_t nt = img->shape[0], nv = img->shape[1] * img->shape[2] * img->shape[3];
    if (img->info.dim[0] != 4 || nt < 3) {
        xai_nifti_close(img);
        return xai_app_fail(&o->app, bold, "not a 4-D BOLD run (dim %lld, %lld volumes)",
                            (long long)img->info.dim[0], (long long)nt);
    }
    int *lab = malloc((size_t)nt * sizeof *lab), *chunks = malloc((size_t)nt * sizeof *chunks), nch = 1;
    int rc = !lab || !chunks ? xai_app_fail(&o->app, NULL, "out of memory")
                             : label_file(o, img, bold, events, labels, lag, cls, lab, chunks, &nch);
    if (rc == 0 && *nruns + nch > cap)
        rc = xai_app_fail(&o->app, bold, "more than %d runs", cap);
    uint8_t *all = rc == 0 ? malloc((size_t)nv) : NULL;
    if (all)
        memset(all, 1, (size_t)nv);
    for (int64_t a = 0; rc == 0 && a < nt;) {
        int64_t b = a;
        while (b < nt && chunks[b] == chunks[a])
            b++;
        run_t *r = &runs[(*nruns)++];
        memset(r, 0, sizeof *r);
        *r = (run_t){.path = bold, .img = img, .owner = a == 0, .t0 = a, .nt = b - a};
        if (xai_fmri_prep_init(&r->prep, run_data(r), r->nt, nv, all, o->detrend) != XAI_OK)
            rc = xai_app_fail(&o->app, bold, "%s", xai_last_error());
        else if ((events || labels) && !(r->labels = malloc((size_t)r->nt * sizeof *r->labels)))
            rc = xai_app_fail(&o->app, NULL, "out of memory");
        else if (r->labels)
            memcpy(r->labels, lab + a, (size_t)r->nt * sizeof *lab);
        a = b;
    }
    if (*nruns == 0 || !runs[*nruns - 1].img || runs[*nruns - 1].img != img)
        xai_nifti_close(img); /* no run took it */
    free(all);
    free(lab);
    free(chunks);
    return rc;
}

static int load_mask(opts *o, xai_nifti **mask)
{
    *mask = NULL;
    if (o->mask && xai_nifti_open(o->mask, mask) != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    return 0;
}

/* The mask of a given file on the run's grid and in its space, or of the automatic rule over
 * the mean of the used runs. */
static int make_mask(opts *o, const xai_nifti *file, const run_t *runs, int nruns, const int *use, uint8_t *mask)
{
    const xai_nifti *ref = runs[0].img;
    int64_t nv = run_nv(&runs[0]);
    if (file) {
        if (memcmp(file->shape + 1, ref->shape + 1, 3 * sizeof(int64_t)))
            return xai_app_fail(&o->app, o->mask, "mask grid %lldx%lldx%lld does not match %s (%lldx%lldx%lld)",
                                (long long)file->shape[3], (long long)file->shape[2], (long long)file->shape[1],
                                runs[0].path, (long long)ref->shape[3], (long long)ref->shape[2],
                                (long long)ref->shape[1]);
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++)
                if (fabs(file->info.affine[r][c] - ref->info.affine[r][c]) > 1e-3 * (1 + fabs(ref->info.affine[r][c])))
                    return xai_app_fail(&o->app, o->mask, "the mask's affine differs from that of %s (row %d, "
                                        "column %d: %g vs %g): the mask is in another space", runs[0].path, r, c,
                                        file->info.affine[r][c], ref->info.affine[r][c]);
        for (int64_t v = 0; v < nv; v++)
            mask[v] = file->data[v] != 0.0f && !isnan(file->data[v]);
        return 0;
    }
    float *mean = calloc((size_t)nv, sizeof *mean);
    if (!mean)
        return xai_app_fail(&o->app, NULL, "out of memory");
    int64_t n = 0;
    for (int i = 0; i < nruns; i++)
        if (use[i]) {
            for (int64_t v = 0; v < nv; v++)
                mean[v] += runs[i].prep.mean[v] * (float)runs[i].nt;
            n += runs[i].nt;
        }
    for (int64_t v = 0; v < nv; v++)
        mean[v] /= (float)(n ? n : 1);
    int64_t dims[3] = {ref->shape[3], ref->shape[2], ref->shape[1]};
    xai_status st = XAI_OK;
    if (o->auto_frac > 0) /* the older rule, on request */
        xai_fmri_frac_mask(mean, nv, o->auto_frac, mask);
    else
        st = xai_fmri_auto_mask(mean, dims, mask);
    free(mean);
    return st == XAI_OK ? 0 : xai_app_fail(&o->app, runs[0].path, "%s", xai_last_error());
}

/* ---------------------------------------------------------------- train */

static void train_progress(const xai_train_progress *p, void *ud)
{
    opts *o = ud;
    char item[160];
    snprintf(item, sizeof item, "epoch %d loss %.4f acc %.3f val_acc %.3f", p->epoch, p->train_loss,
             p->train_acc, p->val_acc);
    xai_app_progress_step(&o->app, p->epoch, item);
}

/* The architecture for the family (or --arch) on the runs' grid; *timedist for DeepLight. */
static int pick_arch(opts *o, const xai_nifti *ref, int ncls, char *spec, size_t cap, int *timedist)
{
    const char *fam = o->family ? o->family : "dense";
    *timedist = o->arch ? strstr(o->arch, "timedist") != NULL : !strcmp(fam, "deeplight");
    if (o->arch) {
        snprintf(spec, cap, "%s", o->arch);
        return 0;
    }
    int64_t small = ref->shape[1] < ref->shape[2] ? ref->shape[1] : ref->shape[2];
    small = small < ref->shape[3] ? small : ref->shape[3];
    if (!strcmp(fam, "cnn3d") && small < 4)
        return xai_app_fail(&o->app, o->bold[0], "--family cnn3d needs at least 4 voxels along every axis (two 2x "
                            "poolings); the grid is %lldx%lldx%lld: use the default family dense",
                            (long long)ref->shape[3], (long long)ref->shape[2], (long long)ref->shape[1]);
    if (*timedist && (ref->shape[2] < 4 || ref->shape[3] < 4))
        return xai_app_fail(&o->app, o->bold[0], "--family deeplight needs slices of at least 4x4 voxels");
    snprintf(spec, cap, !strcmp(fam, "cnn3d") ? arch_cnn3d : *timedist ? arch_deeplight : arch_dense, ncls);
    return 0;
}

/* The labelled volumes of the used runs, pre-processed and masked, into *x / *y. */
static int gather(opts *o, run_t *runs, int nruns, const int *use, const uint8_t *mask, float **x, int **y,
                  int64_t *n, unsigned char **valrun)
{
    int64_t nv = run_nv(&runs[0]), k = 0, last = -1;
    *n = 0;
    for (int i = 0; i < nruns; i++)
        if (use[i]) {
            last = i;
            for (int64_t t = 0; t < runs[i].nt; t++)
                *n += runs[i].labels[t] >= 0;
        }
    if (*n < 2)
        return xai_app_fail(&o->app, NULL, "fewer than two labelled volumes to train on (check --events/--labels, "
                                           "--conditions and --lag)");
    *x = malloc((size_t)*n * (size_t)nv * sizeof **x);
    *y = malloc((size_t)*n * sizeof **y);
    *valrun = calloc((size_t)*n, 1);
    if (!*x || !*y || !*valrun)
        return xai_app_fail(&o->app, NULL, "out of memory (%lld volumes)", (long long)*n);
    for (int i = 0; i < nruns; i++)
        if (use[i])
            for (int64_t t = 0; t < runs[i].nt; t++)
                if (runs[i].labels[t] >= 0) {
                    run_volume(&runs[i], t, mask, *x + k * nv);
                    (*valrun)[k] = i == last; /* early stopping holds out a whole run, never volumes */
                    (*y)[k++] = runs[i].labels[t];
                }
    return 0;
}

/* The pre-processing record that explain applies identically. */
static void set_prep_metadata(opts *o, xai_model *m, const xai_nifti *ref, const char *fam, int timedist,
                              const uint8_t *mask)
{
    json_t *pre = json_object();
    json_object_set_new(pre, "domain", json_string("fmri"));
    json_object_set_new(pre, "zscore", json_string("voxel-run"));
    json_object_set_new(pre, "detrend", json_string(o->detrend ? "linear" : "none"));
    json_object_set_new(pre, "mask", json_string(o->mask ? "file" : o->auto_frac > 0 ? "auto-fraction" : "auto-gap"));
    if (!o->mask && o->auto_frac > 0)
        json_object_set_new(pre, "auto_fraction", json_real(o->auto_frac));
    char *rle = xai_fmri_mask_encode(mask, run_nv(&(run_t){.img = (xai_nifti *)ref}));
    json_object_set_new(pre, "mask_voxels", rle ? json_loads(rle, 0, NULL) : json_null());
    free(rle);
    char orient[4];
    xai_fmri_orientation(&ref->info, orient);
    json_object_set_new(pre, "orientation", json_string(orient));
    json_object_set_new(pre, "grid", json_pack("[III]", (json_int_t)ref->shape[3], (json_int_t)ref->shape[2],
                                               (json_int_t)ref->shape[1]));
    json_object_set_new(pre, "voxel_size", json_pack("[fff]", ref->info.pixdim[1], ref->info.pixdim[2],
                                                     ref->info.pixdim[3]));
    json_object_set_new(pre, "tr", json_real(ref->info.tr_s));
    if (o->lag == XAI_FMRI_LAG_HRF)
        json_object_set_new(pre, "lag_rule", json_string("spm-hrf-0.5"));
    else
        json_object_set_new(pre, "lag_s", json_real(o->lag));
    json_object_set_new(pre, "family", json_string(fam));
    json_object_set_new(pre, "layout", json_string(timedist ? "Z,1,Y,X" : "1,Z,Y,X"));
    char *pres = json_dumps(pre, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(pre);
    xai_model_set_metadata(m, "xai_preprocessing", pres);
    free(pres);
}

/* Build and train a model on the labelled volumes of runs[i] with use[i]. */
static int train_on(opts *o, run_t *runs, int nruns, const int *use, const xai_fmri_classes *cls,
                    const xai_nifti *maskimg, int quiet, xai_model **out, xai_train_result *res)
{
    *out = NULL;
    const xai_nifti *ref = runs[0].img;
    int64_t nv = run_nv(&runs[0]), n = 0;
    float *x = NULL;
    int *y = NULL, timedist = 0;
    unsigned char *valrun = NULL;
    uint8_t *mask = malloc((size_t)nv);
    xai_model *m = NULL;
    char spec[1024];
    int rc = !mask ? xai_app_fail(&o->app, NULL, "out of memory") : make_mask(o, maskimg, runs, nruns, use, mask);
    if (rc == 0)
        rc = gather(o, runs, nruns, use, mask, &x, &y, &n, &valrun);
    if (rc == 0)
        rc = pick_arch(o, ref, cls->n, spec, sizeof spec, &timedist);
    int64_t shape[4] = {timedist ? ref->shape[1] : 1, timedist ? 1 : ref->shape[1], ref->shape[2], ref->shape[3]};
    if (rc == 0 && xai_model_from_spec(spec, 4, shape, o->seed, &m) != XAI_OK)
        rc = xai_app_fail(&o->app, NULL, "%s: %s", o->arch ? "--arch" : "the default architecture", xai_last_error());
    if (rc == 0 && xai_model_output_numel(m) != cls->n)
        rc = xai_app_fail(&o->app, NULL, "the architecture has %lld outputs but there are %d classes",
                          (long long)xai_model_output_numel(m), cls->n);
    xai_train_config cfg;
    xai_app_train_config(&cfg, o->epochs, o->batch, o->lr, 0, o->patience, o->seed);
    cfg.weight_decay = (float)o->weight_decay;
    int nused = 0;
    for (int i = 0; i < nruns; i++)
        nused += use[i] != 0;
    if (o->val_split > 0 && nused >= 2)
        cfg.val_mask = valrun;
    if (!quiet) {
        cfg.progress = train_progress;
        cfg.progress_ud = o;
        xai_app_progress_begin(&o->app, "train", o->epochs);
    }
    xai_status st = rc == 0 ? xai_train(m, &cfg, n, x, y, res) : XAI_OK;
    if (!quiet)
        xai_app_progress_end(&o->app);
    if (rc == 0 && st != XAI_OK)
        rc = xai_app_fail(&o->app, NULL, "training failed: %s", xai_last_error());
    if (rc == 0) {
        const char *fam = o->arch ? "custom" : o->family ? o->family : "dense";
        set_prep_metadata(o, m, ref, fam, timedist, mask);
        char *cj = xai_fmri_classes_to_json(cls);
        xai_model_set_metadata(m, "class_names", cj);
        free(cj);
        xai_model_set_metadata(m, "xai_arch", spec);
        json_t *prov = json_pack("{s:s,s:I,s:I,s:I,s:f,s:f,s:I,s:f,s:f,s:s}", "tool", PROG " " XAI_FMRI_VERSION,
                                 "seed", (json_int_t)o->seed, "epochs_run", (json_int_t)res->epochs_run,
                                 "kept_epoch", (json_int_t)res->best_epoch, "train_acc", res->kept_train_acc,
                                 "final_train_loss", res->final_train_loss, "n_train", (json_int_t)res->n_train,
                                 "lr", o->lr, "weight_decay", o->weight_decay, "optimizer", "adam");
        if (prov) {
            json_object_set_new(prov, "best_val_acc",
                                isnan(res->best_val_acc) ? json_null() : json_real(res->best_val_acc));
            char *ps = json_dumps(prov, JSON_COMPACT | JSON_SORT_KEYS);
            xai_model_set_metadata(m, "xai_training", ps);
            free(ps);
            json_decref(prov);
        }
        *out = m;
        m = NULL;
    }
    xai_model_free(m);
    free(x);
    free(y);
    free(valrun);
    free(mask);
    return rc;
}

/* The input mask a model records (mask_voxels), or NULL for older models. */
static uint8_t *model_mask(const xai_model *m, int64_t nv)
{
    const char *pres = xai_model_metadata(m, "xai_preprocessing");
    json_t *pre = pres ? json_loads(pres, 0, NULL) : NULL, *mv = json_object_get(pre, "mask_voxels");
    char *txt = mv && json_is_array(mv) ? json_dumps(mv, JSON_COMPACT) : NULL;
    uint8_t *mask = txt ? malloc((size_t)nv) : NULL;
    if (mask && xai_fmri_mask_decode(txt, nv, mask) != XAI_OK) {
        free(mask);
        mask = NULL;
    }
    free(txt);
    json_decref(pre);
    return mask;
}

/* Predictions of m for the labelled volumes of one run (pred[t] = -1 unlabelled); accuracy. */
static double run_accuracy(const xai_model *m, const run_t *r, int64_t *nlab, int *pred)
{
    int64_t nv = run_nv(r), n = 0, ok = 0;
    xai_workspace *ws = NULL;
    float *x = malloc((size_t)nv * sizeof *x), logits[XAI_FMRI_MAX_CLASSES];
    uint8_t *mask = model_mask(m, nv);
    int64_t nc = xai_model_output_numel(m);
    if (x && mask && nc <= XAI_FMRI_MAX_CLASSES && xai_workspace_new(m, 1, &ws) == XAI_OK) {
        for (int64_t t = 0; t < r->nt; t++) {
            if (pred)
                pred[t] = -1;
            if (r->labels[t] < 0)
                continue;
            run_volume(r, t, mask, x);
            if (xai_model_forward(m, ws, 1, x, logits) != XAI_OK)
                break;
            int best = 0;
            for (int c = 1; c < nc; c++)
                if (logits[c] > logits[best])
                    best = c;
            if (pred)
                pred[t] = best;
            ok += best == r->labels[t];
            n++;
        }
    }
    xai_workspace_free(ws);
    free(x);
    free(mask);
    *nlab = n;
    return n ? (double)ok / (double)n : NAN;
}

/* Block-level truth and majority prediction of one run's labelled volumes (consecutive
 * volumes of one class form a block; they share one haemodynamic response). */
static int64_t run_blocks(const run_t *r, const int *pred, int *bt, int *bp, int ncls)
{
    int64_t nb = 0;
    for (int64_t t = 0; t < r->nt;) {
        if (r->labels[t] < 0) {
            t++;
            continue;
        }
        int64_t u = t, votes[XAI_FMRI_MAX_CLASSES] = {0};
        for (; u < r->nt && r->labels[u] == r->labels[t]; u++)
            if (pred[u] >= 0 && pred[u] < ncls)
                votes[pred[u]]++;
        int best = 0;
        for (int c = 1; c < ncls; c++)
            if (votes[c] > votes[best])
                best = c;
        bt[nb] = r->labels[t];
        bp[nb++] = best;
        t = u;
    }
    return nb;
}

/* Leave-one-run-out: per-run accuracy, mean +- sd over runs, chance, a block-level p-value. */
static int cross_validate(opts *o, run_t *runs, int nr, const xai_fmri_classes *cls, const xai_nifti *mask)
{
    int *use = calloc((size_t)nr, sizeof *use), rc = 0;
    double *acc = calloc((size_t)nr, sizeof *acc);
    int64_t ntot = 0, nb = 0;
    for (int i = 0; i < nr; i++)
        ntot += runs[i].nt;
    int *pred = malloc((size_t)ntot * sizeof *pred), *bt = malloc((size_t)ntot * sizeof *bt),
        *bp = malloc((size_t)ntot * sizeof *bp);
    if (!use || !acc || !pred || !bt || !bp)
        rc = xai_app_fail(&o->app, NULL, "out of memory");
    for (int h = 0; h < nr && rc == 0; h++) {
        for (int i = 0; i < nr; i++)
            use[i] = i != h;
        xai_model *cvm = NULL;
        xai_train_result res;
        rc = train_on(o, runs, nr, use, cls, mask, 1, &cvm, &res);
        if (rc == 0) {
            int64_t nl;
            acc[h] = run_accuracy(cvm, &runs[h], &nl, pred);
            nb += run_blocks(&runs[h], pred, bt + nb, bp + nb, cls->n);
            printf("cv\theld_out=%s:%lld\tvolumes=%lld\taccuracy=%.4f\tkept_epoch=%d\ttrain_accuracy=%.4f\n",
                   runs[h].path, (long long)runs[h].t0, (long long)nl, acc[h], res.best_epoch, res.kept_train_acc);
        }
        xai_model_free(cvm);
    }
    xai_heldout hb;
    memset(&hb, 0, sizeof hb);
    if (rc == 0 && xai_heldout_stats(bt, bp, nb, cls->n, &hb) != XAI_OK)
        rc = xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    if (rc == 0) {
        double mean, sd;
        xai_mean_sd(acc, nr, &mean, &sd);
        printf("cv\tmean_accuracy=%.4f\tsd=%.4f\truns=%d\tchance=%.4f\tblocks=%lld\tblock_accuracy=%.4f\t"
               "p_value=%.3g\n", mean, sd, nr, 1.0 / cls->n, (long long)nb, hb.accuracy, hb.p_value);
        xai_app_log(&o->app, 1, "leave-one-run-out accuracy %.3f +- %.3f over %d runs (chance %.3f; %lld blocks, "
                    "block-level binomial p = %.3g)%s", mean, sd, nr, 1.0 / cls->n, (long long)nb, hb.p_value,
                    hb.ci_low <= hb.chance ? "; warning: not above chance" : "");
    }
    xai_heldout_free(&hb);
    free(use);
    free(acc);
    free(pred);
    free(bt);
    free(bp);
    return rc;
}

static int check_train_args(opts *o)
{
    if (!o->nbold)
        return xai_app_usage_error(&o->app, "train needs --bold");
    if (!o->out)
        return xai_app_usage_error(&o->app, "train needs -o MODEL.onnx");
    if (o->nevents && o->nevents != o->nbold)
        return xai_app_usage_error(&o->app, "give one --events per --bold (%d and %d)", o->nevents, o->nbold);
    if (o->nlabels && o->nlabels != o->nbold)
        return xai_app_usage_error(&o->app, "give one --labels per --bold (%d and %d)", o->nlabels, o->nbold);
    if (!o->nevents && !o->nlabels)
        return xai_app_usage_error(&o->app, "train needs --events or --labels");
    if (o->family && strcmp(o->family, "dense") && strcmp(o->family, "cnn3d") && strcmp(o->family, "deeplight"))
        return xai_app_usage_error(&o->app, "--family: unknown '%s' (dense, cnn3d or deeplight)", o->family);
    return 0;
}

static int cmd_train(opts *o)
{
    int rc = check_train_args(o);
    if (rc)
        return rc;
    if (xai_app_check_output(&o->app, o->out) != 0)
        return XAI_EXIT_USAGE; /* the one overwrite rule: an existing output without --force */
    xai_fmri_classes cls = {0};
    if (o->conditions && xai_fmri_classes_parse(&cls, o->conditions) != XAI_OK)
        return xai_app_usage_error(&o->app, "--conditions: %s", xai_last_error());
    xai_nifti *mask = NULL;
    run_t *runs = calloc(MAX_RUNS, sizeof *runs);
    int *use = calloc(MAX_RUNS, sizeof *use), nr = 0;
    xai_model *m = NULL;
    rc = load_mask(o, &mask);
    if (!runs || !use)
        rc = xai_app_fail(&o->app, NULL, "out of memory");
    for (int i = 0; rc == 0 && i < o->nbold; i++) {
        rc = load_bold(o, o->bold[i], o->nevents ? o->events[i] : NULL, o->nlabels ? o->labels[i] : NULL, o->lag,
                       &cls, runs, &nr, MAX_RUNS);
        if (rc == 0 && memcmp(runs[nr - 1].img->shape + 1, runs[0].img->shape + 1, 3 * sizeof(int64_t)))
            rc = xai_app_fail(&o->app, o->bold[i], "grid %lldx%lldx%lld differs from %s",
                              (long long)runs[nr - 1].img->shape[3], (long long)runs[nr - 1].img->shape[2],
                              (long long)runs[nr - 1].img->shape[1], o->bold[0]);
    }
    for (int i = 0; i < nr; i++)
        use[i] = 1;
    if (rc == 0 && cls.n < 2)
        rc = xai_app_fail(&o->app, NULL, "need at least two classes, found %d", cls.n);
    if (rc == 0 && o->cv && nr < 2)
        rc = xai_app_usage_error(&o->app, "--cv needs at least two runs (several --bold, or a --labels table "
                                          "with a run column)");
    if (rc == 0 && o->cv)
        rc = cross_validate(o, runs, nr, &cls, mask);
    xai_train_result res;
    if (rc == 0)
        rc = train_on(o, runs, nr, use, &cls, mask, 0, &m, &res);
    if (rc == 0) {
        xai_export_options eo = {0, 17};
        if (xai_model_save_onnx(m, o->out, &eo) != XAI_OK)
            rc = xai_app_fail(&o->app, NULL, "%s", xai_last_error());
        else
            xai_app_log(&o->app, 1, "%s: %d classes, %d runs, kept epoch %d of %d, training accuracy %.3f", o->out,
                        cls.n, nr, res.best_epoch, res.epochs_run, res.kept_train_acc);
    }
    xai_model_free(m);
    for (int i = nr - 1; runs && i >= 0; i--)
        run_free(&runs[i]);
    free(runs);
    free(use);
    xai_nifti_close(mask);
    xai_fmri_classes_free(&cls);
    return rc;
}

/* ---------------------------------------------------------------- explain */

/* Output names: BIDS-named inputs keep their entities under OUT/sub-X[/ses-Y]/func. */
typedef struct {
    xai_bids_name b;
    int bids;
    char stem[512];
    char dir[4096], figdir[4096];
} namer;

static void namer_init(namer *nm, const char *out, const char *bold)
{
    memset(nm, 0, sizeof *nm);
    nm->bids = xai_bids_parse(bold, &nm->b) == 0 && xai_bids_get(&nm->b, "sub") != NULL;
    if (nm->bids) {
        const char *ses = xai_bids_get(&nm->b, "ses");
        snprintf(nm->dir, sizeof nm->dir, "%s/sub-%s%s%s/func", out, xai_bids_get(&nm->b, "sub"),
                 ses ? "/ses-" : "", ses ? ses : "");
        snprintf(nm->figdir, sizeof nm->figdir, "%s/sub-%s/figures", out, xai_bids_get(&nm->b, "sub"));
    } else {
        const char *base = strrchr(bold, '/');
        base = base ? base + 1 : bold;
        snprintf(nm->stem, sizeof nm->stem, "%s", base);
        char *dot = strstr(nm->stem, ".nii");
        if (dot)
            *dot = 0;
        size_t l = strlen(nm->stem);
        if (l > 5 && !strcmp(nm->stem + l - 5, "_bold"))
            nm->stem[l - 5] = 0;
        snprintf(nm->dir, sizeof nm->dir, "%s", out);
        snprintf(nm->figdir, sizeof nm->figdir, "%s/figures", out);
    }
}

static void namer_path(namer *nm, int fig, const char *desc, const char *suffix, const char *ext, char *buf,
                       size_t len)
{
    char name[1024];
    if (nm->bids) {
        xai_bids_name b = nm->b;
        xai_bids_set(&b, "desc", desc);
        xai_bids_format(&b, suffix, ext, name, sizeof name);
    } else {
        snprintf(name, sizeof name, "%s_desc-%s_%s%s", nm->stem, desc, suffix, ext);
    }
    int w = snprintf(buf, len, "%s/%s", fig ? nm->figdir : nm->dir, name);
    if (w < 0 || (size_t)w >= len)
        buf[0] = 0; /* never a truncated name */
}

/* "lrp" + the class name's letters and digits, first letter upper case. */
/* Remove the figure, func and session/subject folders of a namer where a failure left them
 * empty (rmdir refuses folders that hold anything). */
static void remove_empty_dirs(const namer *nm)
{
    rmdir(nm->figdir);
    char d[sizeof nm->dir];
    snprintf(d, sizeof d, "%s", nm->dir);
    while (rmdir(d) == 0) {
        char *slash = strrchr(d, '/');
        if (!slash)
            break;
        *slash = '\0';
        const char *base = strrchr(d, '/') ? strrchr(d, '/') + 1 : d;
        if (strncmp(base, "sub-", 4) && strncmp(base, "ses-", 4))
            break; /* never the output root */
    }
}

static void class_desc(const char *name, char *buf, size_t len)
{
    size_t k = snprintf(buf, len, "lrp");
    int first = 1;
    for (const char *s = name; *s && k + 1 < len; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')) {
            buf[k++] = (char)(first && *s >= 'a' && *s <= 'z' ? *s - 32 : *s);
            first = 0;
        }
    buf[k] = 0;
}

typedef struct {
    const char *source;   /* for Sources (BIDS URI or path) */
    const char *model_path;
    const char *extra_json; /* merged into every sidecar (e.g. held-out accuracy), may be NULL */
} explain_ctx;

static int write_sidecar(opts *o, const char *path, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = s ? xai_app_write_sidecar(&o->app, path, s) : -1;
    free(s);
    json_decref(j);
    return rc;
}

/* Explain one run with model m; write the derivative files. Returns an exit code. */
/* The explain-time input mask: --mask, else the one the model records, else (older models)
 * the fraction rule on this run's mean. */
static int explain_mask(opts *o, const xai_model *m, const run_t *run, const xai_nifti *file, const char *kind,
                        double frac, uint8_t **out)
{
    int64_t nv = run_nv(run);
    int one = 1, rc = 0;
    uint8_t *mask = file ? malloc((size_t)nv) : model_mask(m, nv);
    if (file && mask)
        rc = make_mask(o, file, run, 1, &one, mask);
    else if (!mask && (mask = malloc((size_t)nv)) != NULL)
        xai_fmri_frac_mask(run->prep.mean, nv, frac > 0 ? frac : 0.3, mask); /* as older models did */
    if (!mask)
        rc = xai_app_fail(&o->app, NULL, "out of memory");
    (void)kind;
    for (int64_t v = 0; rc == 0 && v < nv; v++)
        mask[v] = mask[v] && run->prep.mask[v];
    if (rc) {
        free(mask);
        mask = NULL;
    }
    *out = mask;
    return rc;
}

/* LRP settings for maps that are averaged: start from the explained logit and spread the
 * bias share with bias factor 1 (Arras et al. 2017), so that each volume's relevance sums to
 * its logit for linear layers and a near-zero logit gives a near-zero map instead of an
 * exploding one; the linear default model is explained with the epsilon rule throughout. */
static void stable_lrp(opts *o, const xai_model *m, xai_explain_config *cfg)
{
    if (cfg->method != XAI_METHOD_LRP)
        return;
    cfg->init = XAI_INIT_LOGIT;
    cfg->bias_factor = 1.0f;
    const char *arch = xai_model_metadata(m, "xai_arch");
    if (!o->composite && arch && !strncmp(arch, "flatten dense(", 14))
        cfg->composite = "epsilon";
}

static int explain_run(opts *o, const xai_model *m, const char *model_path, const char *bold, const char *events,
                       const char *out, const explain_ctx *ctx)
{
    const char *pres = xai_model_metadata(m, "xai_preprocessing");
    json_error_t jerr;
    json_t *pre = pres ? json_loads(pres, 0, &jerr) : NULL;
    const char *domain = pre ? json_string_value(json_object_get(pre, "domain")) : NULL;
    if (!domain || strcmp(domain, "fmri")) {
        json_decref(pre);
        return xai_app_fail(&o->app, model_path, "not an xai-fmri model (no fMRI \"xai_preprocessing\" metadata)");
    }
    xai_fmri_classes cls = {0};
    const char *cn = xai_model_metadata(m, "class_names");
    int rc = 0;
    xai_nifti *mask = NULL;
    run_t run = {0};
    namer nm;
    double *sums = NULL;
    int64_t counts[XAI_FMRI_MAX_CLASSES] = {0};
    float *xb = NULL, *rb = NULL, *tmpv = NULL;
    xai_tsv *ts = NULL;
    int *target = NULL, *pred = NULL;
    float *logit = NULL;
    uint8_t *emask = NULL;
    char *stable_rules = NULL;
    int made = 0; /* output folders made by this call: a failed run removes them when empty */
    if (!cn || xai_fmri_classes_from_json(&cls, cn) != XAI_OK || cls.n != xai_model_output_numel(m)) {
        rc = xai_app_fail(&o->app, model_path, "missing or bad \"class_names\" metadata");
        goto done;
    }
    const char *maskkind = json_string_value(json_object_get(pre, "mask"));
    if (maskkind && !strcmp(maskkind, "file") && !o->mask) {
        rc = xai_app_fail(&o->app, model_path, "the model was trained with --mask; give the mask of this run "
                                               "with --mask (preprocessing must match)");
        goto done;
    }
    if (maskkind && strcmp(maskkind, "file") && o->mask)
        xai_app_log(&o->app, 1, "warning: the model was trained with the automatic mask; using %s instead", o->mask);
    double auto_frac = json_number_value(json_object_get(pre, "auto_fraction"));
    const char *lag_rule = json_string_value(json_object_get(pre, "lag_rule"));
    double lag = lag_rule ? XAI_FMRI_LAG_HRF
                 : json_is_number(json_object_get(pre, "lag_s")) ? json_number_value(json_object_get(pre, "lag_s"))
                                                                 : o->lag;
    const char *detrend = json_string_value(json_object_get(pre, "detrend"));
    o->detrend = detrend && !strcmp(detrend, "linear");
    int nr = 0;
    if ((rc = load_mask(o, &mask)) != 0)
        goto done;
    if ((rc = load_bold(o, bold, events, NULL, lag, &cls, &run, &nr, 1)) != 0)
        goto done;
    const char *orient = json_string_value(json_object_get(pre, "orientation"));
    char ro[4];
    xai_fmri_orientation(&run.img->info, ro);
    if (orient && strcmp(orient, ro)) {
        rc = xai_app_fail(&o->app, bold, "voxel axes point %s, but the model was trained on %s data (%s): reorient "
                          "the run to the model's orientation", ro, orient, model_path);
        goto done;
    }
    /* the voxel grid must match exactly: never resample silently */
    json_t *g = json_object_get(pre, "grid"), *vs = json_object_get(pre, "voxel_size");
    int64_t gx = json_integer_value(json_array_get(g, 0)), gy = json_integer_value(json_array_get(g, 1)),
            gz = json_integer_value(json_array_get(g, 2));
    if (gx != run.img->shape[3] || gy != run.img->shape[2] || gz != run.img->shape[1] ||
        xai_model_input_numel(m) != run_nv(&run)) {
        rc = xai_app_fail(&o->app, bold,
                          "voxel grid %lldx%lldx%lld does not match the model's %lldx%lldx%lld (%s); xai-fmri "
                          "does not resample: resample the run to the model's grid or train a model on this grid",
                          (long long)run.img->shape[3], (long long)run.img->shape[2], (long long)run.img->shape[1],
                          (long long)gx, (long long)gy, (long long)gz, model_path);
        goto done;
    }
    for (int k = 0; k < 3; k++) {
        double a = json_number_value(json_array_get(vs, (size_t)k)), b = run.img->info.pixdim[k + 1];
        if (fabs(a - b) > 0.01 * fabs(a)) {
            rc = xai_app_fail(&o->app, bold, "voxel size %gx%gx%g mm does not match the model's %gx%gx%g mm (%s)",
                              run.img->info.pixdim[1], run.img->info.pixdim[2], run.img->info.pixdim[3],
                              json_number_value(json_array_get(vs, 0)), json_number_value(json_array_get(vs, 1)),
                              json_number_value(json_array_get(vs, 2)), model_path);
            goto done;
        }
    }
    if ((rc = explain_mask(o, m, &run, mask, maskkind, auto_frac, &emask)) != 0)
        goto done;
    xai_target tg;
    if (xai_target_parse(o->target, (const char *const *)cls.name, cls.n, 0, &tg) != XAI_OK) {
        rc = xai_app_usage_error(&o->app, "%s", xai_last_error());
        goto done;
    }
    int tgt_fixed = tg.cls; /* -1: the predicted class */

    /* every output path, checked before any work */
    namer_init(&nm, out, bold);
    char p4d[4608], pmean[4608], pts[4608], pcls[XAI_FMRI_MAX_CLASSES][4608], ppng[XAI_FMRI_MAX_CLASSES][4608];
    namer_path(&nm, 0, "lrp", "bold", ".nii.gz", p4d, sizeof p4d);
    namer_path(&nm, 0, "lrp", "statmap", ".nii.gz", pmean, sizeof pmean);
    namer_path(&nm, 0, "lrp", "timeseries", ".tsv", pts, sizeof pts);
    for (int c = 0; c < cls.n; c++) {
        char d[96];
        class_desc(cls.name[c], d, sizeof d);
        namer_path(&nm, 0, d, "statmap", ".nii.gz", pcls[c], sizeof pcls[c]);
        namer_path(&nm, 1, d, "bold", ".png", ppng[c], sizeof ppng[c]);
    }
    int refuse = (!o->no4d && xai_app_check_output(&o->app, p4d)) || xai_app_check_output(&o->app, pmean) ||
                 xai_app_check_output(&o->app, pts);
    for (int c = 0; c < cls.n && !refuse; c++)
        refuse = xai_app_check_output(&o->app, pcls[c]) || xai_app_check_output(&o->app, ppng[c]);
    if (refuse) {
        rc = XAI_EXIT_USAGE;
        goto done;
    }
    if (xai_bids_write_dataset_description(&o->app, out, PROG) || xai_app_mkdirs(&o->app, nm.dir) ||
        xai_app_mkdirs(&o->app, nm.figdir)) {
        rc = XAI_EXIT_DATA;
        goto done;
    }
    made = 1;
    xai_app_sweep_orphans(&o->app, out); /* a resumed participant job: orphans of a killed one */
    xai_app_sweep_orphans(&o->app, nm.dir);
    xai_app_sweep_orphans(&o->app, nm.figdir);

    /* stream: z-score a batch of volumes, explain it, put the relevance over the consumed input */
    int64_t nv = run_nv(&run), nt = run.img->shape[0], B = o->ebatch;
    if (B <= 0) { /* auto: about 128 Ki voxels per sweep keeps the workspace small */
        B = 131072 / (nv > 0 ? nv : 1);
        B = B < 1 ? 1 : B > 16 ? 16 : B;
    }
    xai_explain_config cfg;
    xai_explain_config_init(&cfg);
    cfg.method = XAI_METHOD_LRP;
    if (o->method && xai_method_parse(o->method, &cfg.method) != XAI_OK) {
        rc = xai_app_usage_error(&o->app, "--method: %s", xai_last_error());
        goto done;
    }
    if (o->composite)
        cfg.composite = o->composite;
    cfg.epsilon = (float)o->epsilon;
    cfg.gamma = (float)o->gamma;
    cfg.batch = B;
    cfg.layer_sums = 0;
    cfg.target = tgt_fixed;
    stable_lrp(o, m, &cfg);
    sums = calloc((size_t)(cls.n + 1) * (size_t)nv, sizeof *sums);
    xb = malloc((size_t)B * (size_t)nv * sizeof *xb);
    rb = malloc((size_t)B * (size_t)nv * sizeof *rb);
    target = malloc((size_t)nt * sizeof *target);
    pred = malloc((size_t)nt * sizeof *pred);
    logit = malloc((size_t)nt * (size_t)cls.n * sizeof *logit);
    double *relsum = malloc((size_t)nt * sizeof *relsum), *relinit = malloc((size_t)nt * sizeof *relinit);
    int64_t nflag = 0;
    if (!sums || !xb || !rb || !target || !pred || !logit || !relsum || !relinit) {
        free(relsum);
        free(relinit);
        rc = xai_app_fail(&o->app, NULL, "out of memory");
        goto done;
    }
    float *allx = o->save_input ? malloc(sizeof(float) * (size_t)(nt * nv)) : NULL;
    if (o->save_input && !allx) {
        free(relsum);
        rc = xai_app_fail(&o->app, NULL, "out of memory");
        goto done;
    }
    xai_app_progress_begin(&o->app, "explain", nt);
    for (int64_t t0 = 0; t0 < nt && rc == 0; t0 += B) {
        int64_t nb = nt - t0 < B ? nt - t0 : B;
        for (int64_t j = 0; j < nb; j++)
            run_volume(&run, t0 + j, emask, xb + j * nv);
        if (allx)
            memcpy(allx + t0 * nv, xb, sizeof(float) * (size_t)(nb * nv));
        xai_explain_result res;
        memset(&res, 0, sizeof res);
        if (xai_explain(m, &cfg, nb, xb, rb, &res) != XAI_OK) {
            rc = xai_app_fail(&o->app, model_path, "explain failed: %s", xai_last_error());
            xai_explain_result_free(&res);
            break;
        }
        for (int64_t j = 0; j < nb; j++) {
            int64_t t = t0 + j;
            float *r = rb + j * nv, *dst = run.img->data + t * nv;
            double s = 0, outside = 0;
            int64_t nin = 0;
            for (int64_t v = 0; v < nv; v++) {
                if (!emask[v] && isfinite(r[v]))
                    outside += r[v];
                nin += emask[v] != 0;
            }
            /* inputs outside the mask are 0: what the rules put there is the bias share that bias
             * factor 1 spreads over every input (or the flat rule's spread); spread it over the
             * mask instead, so that nothing lands outside and the map still sums to its start */
            float add = nin ? (float)(outside / (double)nin) : 0.0f;
            for (int64_t v = 0; v < nv; v++) {
                dst[v] = emask[v] && isfinite(r[v]) ? r[v] + add : 0.0f;
                s += dst[v];
            }
            relsum[t] = s;
            relinit[t] = res.init_sum ? res.init_sum[j] : NAN;
            double r_ = relinit[t] != 0 ? s / relinit[t] : INFINITY;
            if (cfg.method == XAI_METHOD_LRP && !(r_ >= 0.1 && r_ <= 10))
                nflag++;
            double l1 = 0;
            for (int64_t v = 0; v < nv; v++)
                l1 += fabs(dst[v]);
            double w = l1 > 0 ? 1.0 / l1 : 0; /* class maps average relevance shares */
            int best = 0;
            for (int c = 0; c < cls.n; c++) {
                logit[t * cls.n + c] = res.logits[j * cls.n + c];
                if (res.logits[j * cls.n + c] > res.logits[j * cls.n + best])
                    best = c;
            }
            pred[t] = best;
            target[t] = res.target[j];
            int c = target[t];
            double *acc = sums + (size_t)cls.n * (size_t)nv;
            for (int64_t v = 0; v < nv; v++)
                acc[v] += dst[v]; /* the run's mean: exactly the mean of the 4-D file */
            if (c >= 0 && c < cls.n && (!run.labels || run.labels[t] == c)) {
                counts[c]++;
                double *sc = sums + (size_t)c * (size_t)nv;
                for (int64_t v = 0; v < nv; v++)
                    sc[v] += dst[v] * w;
            }
        }
        xai_explain_result_free(&res);
        xai_app_progress_step(&o->app, t0 + nb, NULL);
    }
    xai_app_progress_end(&o->app);
    if (rc == 0 && allx) { /* the volumes as the model saw them, for xai-evaluate */
        char pin[4608];
        int md;
        const int64_t *ms = xai_model_input_shape(m, &md);
        int64_t shp[XAI_MAX_DIMS + 1] = {nt};
        for (int d = 0; d < md; d++)
            shp[d + 1] = ms[d];
        namer_path(&nm, 0, "input", "bold", ".npy", pin, sizeof pin);
        if (xai_npy_save(pin, md + 1, shp, allx) != XAI_OK)
            rc = xai_app_fail(&o->app, pin, "%s", xai_last_error());
    }
    free(allx);
    if (nflag)
        xai_app_log(&o->app, 1, "warning: %s: %lld volume%s whose relevance sum departs from its start (the logit) "
                    "by more than a factor of 10 (see relevance_sum and relevance_start in the table); class maps "
                    "average L1-normalised maps", bold, (long long)nflag, nflag == 1 ? "" : "s");
    if (rc != 0) {
        free(relsum);
        free(relinit);
        goto done;
    }

    /* sidecar basics */
    char sha[65] = "";
    xai_sha256_file(model_path, sha);
    json_t *base = json_object();
    json_object_set_new(base, "Sources", json_pack("[s]", ctx && ctx->source ? ctx->source : bold));
    json_object_set_new(base, "ModelSHA256", json_string(sha));
    json_object_set_new(base, "Model", json_string(model_path));
    json_object_set_new(base, "Method", json_string(xai_method_name(cfg.method)));
    if (cfg.method == XAI_METHOD_LRP)
        json_object_set_new(base, "Rule", json_string(cfg.composite ? cfg.composite : "epsilon-plus-flat"));
    json_object_set_new(base, "Parameters", json_pack("{s:f,s:f}", "epsilon", o->epsilon, "gamma", o->gamma));
    json_object_set_new(base, "Target", json_string(tgt_fixed >= 0 ? cls.name[tgt_fixed] : "pred"));
    json_object_set_new(base, "ClassNames", json_loads(cn, 0, &jerr));
    json_object_set_new(base, "Preprocessing", json_deep_copy(pre));
    json_object_set_new(base, "Units", json_string("arbitrary"));
    if (ctx && ctx->extra_json) {
        json_t *ex = json_loads(ctx->extra_json, 0, &jerr);
        if (ex)
            json_object_update(base, ex);
        json_decref(ex);
    }
    char descrip[96];
    snprintf(descrip, sizeof descrip, "xai-fmri %s %s", XAI_FMRI_VERSION,
             cfg.method == XAI_METHOD_LRP ? (cfg.composite ? cfg.composite : "epsilon-plus-flat")
                                          : xai_method_name(cfg.method));

    /* per-volume table */
    {
        int ncol = 7 + cls.n;
        const char **names = calloc((size_t)ncol, sizeof *names);
        xai_tsv_type *types = calloc((size_t)ncol, sizeof *types);
        char (*lname)[96] = calloc((size_t)cls.n, sizeof *lname);
        if (!names || !types || !lname) {
            free(names);
            free(types);
            free(lname);
            free(relsum);
    free(relinit);
            json_decref(base);
            rc = xai_app_fail(&o->app, NULL, "out of memory");
            goto done;
        }
        const char *fixed[7] = {"volume", "onset", "label", "prediction", "target", "relevance_sum",
                                "relevance_start"};
        for (int i = 0; i < 7; i++)
            names[i] = fixed[i];
        types[2] = types[3] = types[4] = XAI_TSV_STRING;
        for (int c = 0; c < cls.n; c++) {
            snprintf(lname[c], sizeof lname[c], "logit_%s", cls.name[c]);
            names[7 + c] = lname[c];
        }
        xai_status st = xai_tsv_create((size_t)ncol, names, types, &ts);
        int64_t correct = 0, nlab = 0;
        for (int64_t t = 0; st == XAI_OK && t < nt; t++) {
            size_t row;
            xai_tsv_add_row(ts, &row);
            xai_tsv_set_number(ts, row, 0, (double)t);
            xai_tsv_set_number(ts, row, 1, (double)t * run.img->info.tr_s);
            xai_tsv_set_string(ts, row, 2, run.labels && run.labels[t] >= 0 ? cls.name[run.labels[t]] : NULL);
            xai_tsv_set_string(ts, row, 3, cls.name[pred[t]]);
            xai_tsv_set_string(ts, row, 4, cls.name[target[t]]);
            xai_tsv_set_number(ts, row, 5, relsum[t]);
            xai_tsv_set_number(ts, row, 6, relinit[t]);
            for (int c = 0; c < cls.n; c++)
                xai_tsv_set_number(ts, row, 7 + (size_t)c, logit[t * cls.n + c]);
            if (run.labels && run.labels[t] >= 0) {
                nlab++;
                correct += pred[t] == run.labels[t];
            }
        }
        free(names);
        free(types);
        free(lname);
        if (st == XAI_OK)
            st = xai_tsv_save(ts, pts, 0);
        if (st != XAI_OK) {
            rc = xai_app_fail(&o->app, NULL, "%s", xai_last_error());
        } else {
            json_t *j = json_deep_copy(base);
            json_object_set_new(j, "Description", json_string("one row per volume: label from events (with the "
                                                               "hemodynamic lag), prediction, explained target, "
                                                               "sum of the input relevance, logits"));
            if (nlab) {
                json_object_set_new(j, "Accuracy", json_real((double)correct / (double)nlab));
                json_object_set_new(j, "LabelledVolumes", json_integer(nlab));
                xai_app_log(&o->app, 1, "%s: accuracy %.3f on %lld labelled volumes", bold,
                            (double)correct / (double)nlab, (long long)nlab);
            }
            if (write_sidecar(o, pts, j))
                rc = XAI_EXIT_DATA;
        }
    }
    free(relsum);
    free(relinit);

    /* 3-D summaries, mosaics, 4-D series */
    tmpv = malloc((size_t)nv * sizeof *tmpv);
    if (!tmpv) {
        json_decref(base);
        rc = xai_app_fail(&o->app, NULL, "out of memory");
        goto done;
    }
    for (int c = 0; c <= cls.n && rc == 0; c++) {
        int64_t cnt = c < cls.n ? counts[c] : nt;
        const double *s = sums + (size_t)c * (size_t)nv;
        for (int64_t v = 0; v < nv; v++)
            tmpv[v] = cnt ? (float)(s[v] / (double)cnt) : 0.0f;
        const char *path = c < cls.n ? pcls[c] : pmean;
        if (xai_nifti_write_volume(path, &run.img->info, tmpv, descrip) != XAI_OK) {
            rc = xai_app_fail(&o->app, NULL, "%s", xai_last_error());
            break;
        }
        json_t *j = json_deep_copy(base);
        char desc[512];
        if (c < cls.n)
            snprintf(desc, sizeof desc, "mean of the L1-normalised relevance maps (relevance shares) of the %lld volumes explained for class %s%s", (long long)cnt,
                     cls.name[c], run.labels ? " and labelled with it" : "");
        else
            snprintf(desc, sizeof desc, "mean relevance over all %lld volumes", (long long)nt);
        json_object_set_new(j, "Description", json_string(desc));
        json_object_set_new(j, "NumberOfVolumes", json_integer(cnt));
        if (c < cls.n)
            json_object_set_new(j, "Class", json_string(cls.name[c]));
        if (write_sidecar(o, path, j)) {
            rc = XAI_EXIT_DATA;
            break;
        }
        if (c < cls.n) {
            char title[256];
            snprintf(title, sizeof title, "LRP relevance for %s (%lld volumes) over the mean EPI", cls.name[c],
                     (long long)cnt);
            if (xai_fmri_mosaic_png(ppng[c], &run.img->info, run.prep.mean, tmpv, emask, title) != XAI_OK) {
                rc = xai_app_fail(&o->app, NULL, "%s", xai_last_error());
                break;
            }
            j = json_deep_copy(base);
            json_object_set_new(j, "Description", json_string("axial slice mosaic (anterior up, every slice or every "
                                                               "k-th) of the class summary over the mean EPI; "
                                                               "symmetric colour range at the 99.5th percentile"));
            if (write_sidecar(o, ppng[c], j)) {
                rc = XAI_EXIT_DATA;
                break;
            }
        }
    }
    if (rc == 0 && !o->no4d) {
        if (xai_nifti_write_series(p4d, &run.img->info, nt, run.img->data, descrip) != XAI_OK) {
            rc = xai_app_fail(&o->app, NULL, "%s", xai_last_error());
        } else {
            json_t *j = json_deep_copy(base);
            json_object_set_new(j, "Description", json_string("relevance of every volume for its explained target "
                                                               "(see the timeseries table), 0 outside the mask"));
            if (write_sidecar(o, p4d, j))
                rc = XAI_EXIT_DATA;
        }
    }
    json_decref(base);
done:
    free(sums);
    free(xb);
    free(rb);
    free(tmpv);
    free(target);
    free(pred);
    free(logit);
    xai_tsv_free(ts);
    if (rc && made)
        remove_empty_dirs(&nm);
    free(emask);
    free(stable_rules);
    run_free(&run);
    xai_nifti_close(mask);
    xai_fmri_classes_free(&cls);
    json_decref(pre);
    return rc;
}

static int cmd_explain(opts *o)
{
    if (!o->model)
        return xai_app_usage_error(&o->app, "explain needs --model");
    if (o->nlabels)
        return xai_app_usage_error(&o->app, "explain takes --events (BIDS events.tsv) for the labels of its run; "
                                            "--labels tables are for train (explain a run's volumes with --events, "
                                            "or without labels)");
    if (o->nbold != 1)
        return xai_app_usage_error(&o->app, "explain needs exactly one --bold");
    if (!o->out)
        return xai_app_usage_error(&o->app, "explain needs -o OUTDIR");
    if (o->nevents > 1)
        return xai_app_usage_error(&o->app, "explain takes at most one --events");
    xai_model *m = NULL;
    if (xai_model_load_onnx(o->model, NULL, &m) != XAI_OK)
        return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    int rc = explain_run(o, m, o->model, o->bold[0], o->nevents ? o->events[0] : NULL, o->out, NULL);
    xai_model_free(m);
    return rc;
}

/* ---------------------------------------------------------------- BIDS-App form */

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted entries of dir whose names start with prefix and end with suffix (malloc'ed). */
static int list_dir(const char *dir, const char *prefix, const char *suffix, char ***out)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0, cap = 0;
    char **v = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name), ls = strlen(suffix), lp = strlen(prefix);
        if (l < lp + ls || strncmp(e->d_name, prefix, lp) || strcmp(e->d_name + l - ls, suffix))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **nv = realloc(v, (size_t)cap * sizeof *v);
            if (!nv)
                break;
            v = nv;
        }
        v[n] = malloc(l + 1);
        if (!v[n])
            break;
        memcpy(v[n++], e->d_name, l + 1);
    }
    closedir(d);
    qsort(v, (size_t)n, sizeof *v, cmp_cstr);
    *out = v;
    return n;
}

static void free_list(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int subject_selected(const opts *o, const char *sub)
{
    if (!o->nplabels)
        return 1;
    for (int i = 0; i < o->nplabels; i++) {
        const char *l = o->plabels[i];
        if (!strncmp(l, "sub-", 4))
            l += 4;
        if (!strcmp(l, sub))
            return 1;
    }
    return 0;
}

static int participant_one(opts *o, const char *bids, const char *out, const char *sub)
{
    char func[4096];
    snprintf(func, sizeof func, "%s/sub-%s/func", bids, sub);
    char pre[256];
    snprintf(pre, sizeof pre, "sub-%s_", sub);
    char **files;
    int nf = list_dir(func, pre, "_bold.nii.gz", &files), nr = 0;
    const char *bolds[MAX_RUNS];
    char *evs[MAX_RUNS], *paths[MAX_RUNS];
    for (int i = 0; i < nf && nr < MAX_RUNS; i++) {
        xai_bids_name b;
        if (o->task && (xai_bids_parse(files[i], &b) || !xai_bids_get(&b, "task") || strcmp(xai_bids_get(&b, "task"), o->task)))
            continue;
        size_t l = strlen(func) + strlen(files[i]) + 2;
        paths[nr] = malloc(l);
        evs[nr] = malloc(l + 8);
        if (!paths[nr] || !evs[nr]) {
            free(paths[nr]);
            free(evs[nr]);
            break;
        }
        snprintf(paths[nr], l, "%s/%s", func, files[i]);
        snprintf(evs[nr], l + 8, "%s", paths[nr]);
        strcpy(evs[nr] + strlen(evs[nr]) - strlen("_bold.nii.gz"), "_events.tsv");
        struct stat st;
        if (stat(evs[nr], &st) != 0) {
            free(evs[nr]);
            evs[nr] = NULL;
        }
        bolds[nr] = paths[nr];
        nr++;
    }
    free_list(files, nf);
    int rc = 0;
    if (nr == 0) {
        rc = xai_app_fail(&o->app, func, "no%s%s BOLD runs (*_bold.nii.gz)", o->task ? " task-" : "",
                          o->task ? o->task : "");
        goto done;
    }
    if (o->model) {
        xai_model *m = NULL;
        if (xai_model_load_onnx(o->model, NULL, &m) != XAI_OK) {
            rc = xai_app_fail(&o->app, NULL, "%s", xai_last_error());
            goto done;
        }
        for (int i = 0; i < nr && rc == 0; i++) {
            char src[4200];
            snprintf(src, sizeof src, "bids:raw:%s", bolds[i] + strlen(bids) + 1);
            explain_ctx ctx = {src, o->model, NULL};
            rc = explain_run(o, m, o->model, bolds[i], evs[i], out, &ctx);
        }
        xai_model_free(m);
        goto done;
    }
    /* no model: leave-one-run-out (or the run itself when alone) */
    for (int i = 0; i < nr; i++)
        if (!evs[i]) {
            rc = xai_app_fail(&o->app, bolds[i], "no events.tsv next to it; training needs labels (or give --model)");
            goto done;
        }
    {
        xai_fmri_classes cls = {0};
        if (o->conditions && xai_fmri_classes_parse(&cls, o->conditions) != XAI_OK) {
            rc = xai_app_usage_error(&o->app, "--conditions: %s", xai_last_error());
            goto done;
        }
        xai_nifti *mask = NULL;
        run_t *runs = calloc((size_t)nr, sizeof *runs);
        int *use = calloc((size_t)nr, sizeof *use), nloaded = 0;
        rc = load_mask(o, &mask);
        if (!runs || !use)
            rc = xai_app_fail(&o->app, NULL, "out of memory");
        for (int i = 0; i < nr && rc == 0; i++)
            rc = load_bold(o, bolds[i], evs[i], NULL, o->lag, &cls, runs, &nloaded, i + 1);
        if (rc == 0 && cls.n < 2)
            rc = xai_app_fail(&o->app, func, "need at least two conditions in the events, found %d", cls.n);
        for (int h = 0; h < nr && rc == 0; h++) {
            for (int i = 0; i < nr; i++)
                use[i] = nr == 1 || i != h;
            xai_model *m = NULL;
            xai_train_result tres;
            namer nm;
            namer_init(&nm, out, bolds[h]);
            char mpath[4608];
            namer_path(&nm, 0, "heldout", "model", ".onnx", mpath, sizeof mpath);
            if (xai_app_check_output(&o->app, mpath) || xai_app_mkdirs(&o->app, nm.dir)) {
                rc = XAI_EXIT_DATA;
                break;
            }
            xai_app_log(&o->app, 1, "sub-%s: training without %s", sub, bolds[h] + strlen(func) + 1);
            rc = train_on(o, runs, nr, use, &cls, mask, 0, &m, &tres);
            if (rc)
                remove_empty_dirs(&nm);
            if (rc == 0) {
                xai_export_options eo = {0, 17};
                if (xai_model_save_onnx(m, mpath, &eo) != XAI_OK)
                    rc = xai_app_fail(&o->app, NULL, "%s", xai_last_error());
                else if (xai_app_write_sidecar(&o->app, mpath, "{\"Description\": \"model trained on the other runs "
                                                                "(leave-one-run-out); its card holds the settings\"}"))
                    rc = XAI_EXIT_DATA; /* a sidecar for every output (BIDS derivatives) */
            }
            xai_model_free(m);
            m = NULL;
            /* explain from the saved file, exactly as a user would */
            if (rc == 0 && xai_model_load_onnx(mpath, NULL, &m) != XAI_OK)
                rc = xai_app_fail(&o->app, NULL, "%s", xai_last_error());
            if (rc == 0) {
                int64_t nl;
                double acc = run_accuracy(m, &runs[h], &nl, NULL), tacc = tres.kept_train_acc;
                char src[4200], extra[256];
                snprintf(src, sizeof src, "bids:raw:%s", bolds[h] + strlen(bids) + 1);
                snprintf(extra, sizeof extra, "{\"HeldOut\": %s, \"TrainAccuracy\": %.6f}", nr > 1 ? "true" : "false",
                         tacc);
                xai_app_log(&o->app, 1, "sub-%s: %s accuracy %.3f (%lld volumes, %s)", sub,
                            bolds[h] + strlen(func) + 1, acc, (long long)nl, nr > 1 ? "held out" : "training run");
                explain_ctx ctx = {src, mpath, extra};
                /* free the training copy of this run first: explain reloads it */
                rc = explain_run(o, m, mpath, bolds[h], evs[h], out, &ctx);
            }
            xai_model_free(m);
        }
        for (int i = 0; runs && i < nloaded; i++)
            run_free(&runs[i]);
        free(runs);
        free(use);
        xai_nifti_close(mask);
        xai_fmri_classes_free(&cls);
    }
done:
    { /* the participant's HTML report (apps/common/report-app.h) */
        int report_rc = rc == XAI_EXIT_USAGE ? 0 : xai_app_report_subject(&o->app, out, sub, o->model, bolds, nr);
        rc = rc ? rc : report_rc;
    }
    for (int i = 0; i < nr; i++) {
        free(paths[i]);
        free(evs[i]);
    }
    return rc;
}

static int cmd_participant(opts *o, const char *bids, const char *out)
{
    char **subs;
    int ns = list_dir(bids, "sub-", "", &subs), done = 0, failed = 0;
    int64_t nsel = 0;
    for (int i = 0; i < ns; i++) {
        const char *sub = subs[i] + 4;
        char d[4096];
        struct stat st;
        snprintf(d, sizeof d, "%s/%s", bids, subs[i]);
        if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode) || !subject_selected(o, sub))
            continue;
        if (o->shard_n && !xai_app_in_shard(nsel++, o->shard_k, o->shard_n))
            continue;
        if (participant_one(o, bids, out, sub) != 0)
            failed++;
        done++;
    }
    free_list(subs, ns);
    if (!done && o->shard_n)
        return XAI_EXIT_OK; /* an empty shard is not an error */
    if (!done)
        return xai_app_fail(&o->app, bids, "no selected participant (sub-*/ directories)");
    return failed == 0 ? XAI_EXIT_OK : failed == done ? XAI_EXIT_DATA : XAI_EXIT_PARTIAL;
}

/* group: per class key (desc-lrp<Class>), mean over runs within each subject, then over subjects */
static int cmd_group(opts *o, const char *out)
{
    char **subs;
    int ns = list_dir(out, "sub-", "", &subs), rc = 0;
    char *keys[XAI_FMRI_MAX_CLASSES];
    int nk = 0;
    double *acc[XAI_FMRI_MAX_CLASSES] = {0};
    int nsub[XAI_FMRI_MAX_CLASSES] = {0};
    xai_nifti_info like;
    int have_like = 0;
    int64_t nv = 0;
    json_t *sources[XAI_FMRI_MAX_CLASSES] = {0};
    for (int s = 0; s < ns && rc == 0; s++) {
        if (!subject_selected(o, subs[s] + 4))
            continue;
        char func[4096];
        snprintf(func, sizeof func, "%s/%s/func", out, subs[s]);
        char **files;
        int nf = list_dir(func, subs[s], "_statmap.nii.gz", &files);
        double *subacc[XAI_FMRI_MAX_CLASSES] = {0};
        int subn[XAI_FMRI_MAX_CLASSES] = {0};
        for (int f = 0; f < nf && rc == 0; f++) {
            xai_bids_name b;
            if (xai_bids_parse(files[f], &b) || !xai_bids_get(&b, "desc"))
                continue;
            const char *desc = xai_bids_get(&b, "desc");
            if (strncmp(desc, "lrp", 3) || !desc[3])
                continue;
            const char *task = xai_bids_get(&b, "task");
            if (o->task && (!task || strcmp(task, o->task)))
                continue;
            char key[512]; /* the group map keeps the task entity of the maps it averages */
            if (task)
                snprintf(key, sizeof key, "task-%s_desc-%s", task, desc);
            else
                snprintf(key, sizeof key, "desc-%s", desc);
            desc = key;
            int k;
            for (k = 0; k < nk && strcmp(keys[k], desc); k++)
                ;
            if (k == nk) {
                if (nk == XAI_FMRI_MAX_CLASSES)
                    continue;
                if (!(keys[nk] = malloc(strlen(desc) + 1))) {
                    rc = xai_app_fail(&o->app, NULL, "out of memory");
                    break;
                }
                strcpy(keys[nk], desc);
                sources[nk] = json_array();
                nk++;
            }
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", func, files[f]);
            xai_nifti *img = NULL;
            if (xai_nifti_open(path, &img) != XAI_OK) {
                rc = xai_app_fail(&o->app, NULL, "%s", xai_last_error());
                break;
            }
            int64_t n = img->shape[1] * img->shape[2] * img->shape[3];
            if (!have_like) {
                like = img->info;
                have_like = 1;
                nv = n;
            } else if (n != nv || img->info.dim[1] != like.dim[1] || img->info.dim[2] != like.dim[2]) {
                xai_nifti_close(img);
                rc = xai_app_fail(&o->app, path, "grid differs from the first summary; the group level needs "
                                                 "one common space");
                break;
            }
            if (!subacc[k] && !(subacc[k] = calloc((size_t)nv, sizeof(double)))) {
                xai_nifti_close(img);
                rc = xai_app_fail(&o->app, NULL, "out of memory");
                break;
            }
            for (int64_t v = 0; v < nv; v++)
                subacc[k][v] += img->data[v];
            subn[k]++;
            json_array_append_new(sources[k], json_string(path + strlen(out) + 1));
            xai_nifti_close(img);
        }
        for (int k = 0; k < nk; k++) {
            if (rc == 0 && subn[k]) {
                if (!acc[k] && !(acc[k] = calloc((size_t)nv, sizeof(double))))
                    rc = xai_app_fail(&o->app, NULL, "out of memory");
                for (int64_t v = 0; rc == 0 && v < nv; v++)
                    acc[k][v] += subacc[k][v] / subn[k];
                nsub[k]++;
            }
            free(subacc[k]);
        }
        free_list(files, nf);
    }
    free_list(subs, ns);
    if (rc == 0 && nk == 0)
        rc = xai_app_fail(&o->app, out, "no participant summaries (*_desc-lrp<Class>_statmap.nii.gz); run the "
                                        "participant level first");
    char gdir[4096];
    snprintf(gdir, sizeof gdir, "%s/group", out);
    if (rc == 0 && xai_app_mkdirs(&o->app, gdir))
        rc = XAI_EXIT_DATA;
    float *vol = rc == 0 ? malloc((size_t)nv * sizeof *vol) : NULL;
    for (int k = 0; k < nk && rc == 0; k++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s_statmap.nii.gz", gdir, keys[k]);
        if (xai_app_check_output(&o->app, path)) {
            rc = XAI_EXIT_USAGE;
            break;
        }
        for (int64_t v = 0; v < nv; v++)
            vol[v] = (float)(acc[k][v] / nsub[k]);
        if (xai_nifti_write_volume(path, &like, vol, "xai-fmri group mean") != XAI_OK) {
            rc = xai_app_fail(&o->app, NULL, "%s", xai_last_error());
            break;
        }
        json_t *j = json_object();
        json_object_set_new(j, "Description", json_string("mean over subjects of each subject's mean over runs "
                                                           "of the participant-level class summaries"));
        json_object_set_new(j, "NumberOfSubjects", json_integer(nsub[k]));
        json_object_set_new(j, "Sources", json_incref(sources[k]));
        if (write_sidecar(o, path, j))
            rc = XAI_EXIT_DATA;
        else
            xai_app_log(&o->app, 1, "%s: %d subjects", path, nsub[k]);
    }
    free(vol);
    for (int k = 0; k < nk; k++) {
        free(keys[k]);
        free(acc[k]);
        json_decref(sources[k]);
    }
    { /* the study's HTML report (apps/common/report-app.h) */
        int report_rc = rc == XAI_EXIT_USAGE ? 0 : xai_app_report_study(&o->app, out, o->model);
        rc = rc ? rc : report_rc;
    }
    return rc;
}

/* ---------------------------------------------------------------- options */

enum {
    OPT_BOLD = 0x2000, OPT_EVENTS, OPT_LABELS, OPT_MASK, OPT_LAG, OPT_AUTOMASK, OPT_CONDITIONS, OPT_ARCH,
    OPT_FAMILY, OPT_EPOCHS, OPT_BATCH, OPT_LR, OPT_SEED, OPT_VALSPLIT, OPT_PATIENCE, OPT_CV, OPT_MODEL,
    OPT_METHOD, OPT_COMPOSITE, OPT_EPSILON, OPT_GAMMA, OPT_TARGET, OPT_NO4D, OPT_EBATCH, OPT_PLABEL, OPT_TASK, OPT_SHARD,
    OPT_SAVE_INPUT, OPT_WD, OPT_DETREND
};

/* A participant label (optionally "sub-" + letters and digits), not a path or a level. */
static int is_label(const char *s)
{
    if (!strncmp(s, "sub-", 4))
        s += 4;
    if (!*s || !strcmp(s, "participant") || !strcmp(s, "group"))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

static int parse_double(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return *s && !*end && isfinite(*v) ? 0 : -1;
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"bold", required_argument, 0, OPT_BOLD}, {"events", required_argument, 0, OPT_EVENTS},
        {"labels", required_argument, 0, OPT_LABELS}, {"mask", required_argument, 0, OPT_MASK},
        {"lag", required_argument, 0, OPT_LAG}, {"auto-mask", required_argument, 0, OPT_AUTOMASK},
        {"conditions", required_argument, 0, OPT_CONDITIONS}, {"arch", required_argument, 0, OPT_ARCH},
        {"family", required_argument, 0, OPT_FAMILY}, {"epochs", required_argument, 0, OPT_EPOCHS},
        {"batch", required_argument, 0, OPT_BATCH}, {"lr", required_argument, 0, OPT_LR},
        {"seed", required_argument, 0, OPT_SEED}, {"val-split", required_argument, 0, OPT_VALSPLIT},
        {"patience", required_argument, 0, OPT_PATIENCE}, {"cv", no_argument, 0, OPT_CV},
        {"model", required_argument, 0, OPT_MODEL}, {"method", required_argument, 0, OPT_METHOD},
        {"composite", required_argument, 0, OPT_COMPOSITE}, {"epsilon", required_argument, 0, OPT_EPSILON},
        {"gamma", required_argument, 0, OPT_GAMMA}, {"target", required_argument, 0, OPT_TARGET},
        {"no-4d", no_argument, 0, OPT_NO4D}, {"explain-batch", required_argument, 0, OPT_EBATCH},
        {"save-input", no_argument, 0, OPT_SAVE_INPUT},
        {"participant-label", required_argument, 0, OPT_PLABEL},
        {"participant_label", required_argument, 0, OPT_PLABEL}, {"task", required_argument, 0, OPT_TASK},
        {"shard", required_argument, 0, OPT_SHARD}, {"weight-decay", required_argument, 0, OPT_WD},
        {"detrend", required_argument, 0, OPT_DETREND},
        {"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, XAI_APP_LONG_OPTIONS,
        {0, 0, 0, 0}};
    opts o;
    memset(&o, 0, sizeof o);
    xai_app_init(&o.app, PROG, XAI_FMRI_VERSION, argc, argv);
    o.lag = XAI_FMRI_LAG_HRF;
    o.auto_frac = 0; /* the histogram-gap mask */
    o.detrend = 1;
    o.epochs = 50;
    o.batch = 16;
    o.lr = 1e-3;
    o.weight_decay = 0.1;
    o.seed = 1;
    o.val_split = 0;
    o.patience = 0;
    o.epsilon = 1e-6;
    o.gamma = 0.25;
    o.ebatch = 0;
    int rc = XAI_EXIT_OK, c;
    const char *cmd = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    int sub = cmd && (!strcmp(cmd, "train") || !strcmp(cmd, "explain"));
    while ((c = getopt_long(argc, argv, "o:hfqv", lopts, NULL)) != -1) {
        double d;
        int h = xai_app_handle_option(&o.app, c, optarg);
        if (h == 1)
            continue;
        if (h == -1) {
            rc = XAI_EXIT_USAGE;
            goto out;
        }
        if (h == 2)
            goto out;
        switch (c) {
        case 'h':
            help(sub ? cmd : NULL);
            goto out;
        case 'o': o.out = optarg; break;
        case OPT_BOLD:
            if (o.nbold == MAX_RUNS) {
                rc = xai_app_usage_error(&o.app, "too many --bold");
                goto out;
            }
            o.bold[o.nbold++] = optarg;
            break;
        case OPT_EVENTS:
            if (o.nevents < MAX_RUNS)
                o.events[o.nevents++] = optarg;
            break;
        case OPT_LABELS:
            if (o.nlabels < MAX_RUNS)
                o.labels[o.nlabels++] = optarg;
            break;
        case OPT_MASK: o.mask = optarg; break;
        case OPT_CONDITIONS: o.conditions = optarg; break;
        case OPT_ARCH: o.arch = optarg; break;
        case OPT_FAMILY: o.family = optarg; break;
        case OPT_CV: o.cv = 1; break;
        case OPT_MODEL: o.model = optarg; break;
        case OPT_METHOD: o.method = optarg; break;
        case OPT_COMPOSITE:
            if (xai_composite_check(optarg) != XAI_OK) {
                rc = xai_app_usage_error(&o.app, "--composite: %s", xai_last_error());
                goto out;
            }
            o.composite = optarg;
            break;
        case OPT_TARGET: o.target = optarg; break;
        case OPT_NO4D: o.no4d = 1; break;
        case OPT_SAVE_INPUT: o.save_input = 1; break;
        case OPT_TASK: o.task = optarg; break;
        case OPT_DETREND:
            if (strcmp(optarg, "linear") && strcmp(optarg, "none")) {
                rc = xai_app_usage_error(&o.app, "--detrend: expected linear or none, got '%s'", optarg);
                goto out;
            }
            o.detrend = !strcmp(optarg, "linear");
            break;
        case OPT_SHARD:
            if (xai_app_parse_shard(optarg, &o.shard_k, &o.shard_n) != 0) {
                rc = xai_app_usage_error(&o.app, "--shard: expected K/N with 1 <= K <= N, got '%s'", optarg);
                goto out;
            }
            break;
        case OPT_PLABEL:
            /* takes one or more labels: the following non-option words too */
            o.plabels[o.nplabels++] = optarg;
            while (optind < argc && o.nplabels < MAX_SUBJECTS && is_label(argv[optind]))
                o.plabels[o.nplabels++] = argv[optind++];
            break;
        case OPT_LAG:
        case OPT_WD:
        case OPT_AUTOMASK:
        case OPT_LR:
        case OPT_VALSPLIT:
        case OPT_EPSILON:
        case OPT_GAMMA:
            if (parse_double(optarg, &d) || d < 0 || (c == OPT_VALSPLIT && d > 0.9) || (c == OPT_AUTOMASK && d >= 1) ||
                (c == OPT_LR && d == 0)) {
                rc = xai_app_usage_error(&o.app, "%s: invalid value '%s'", argv[optind - 1], optarg);
                goto out;
            }
            if (c == OPT_LAG) o.lag = d;
            else if (c == OPT_WD) o.weight_decay = d;
            else if (c == OPT_AUTOMASK) o.auto_frac = d;
            else if (c == OPT_LR) o.lr = d;
            else if (c == OPT_VALSPLIT) o.val_split = d;
            else if (c == OPT_EPSILON) o.epsilon = d;
            else o.gamma = d;
            break;
        case OPT_EPOCHS:
        case OPT_BATCH:
        case OPT_SEED:
        case OPT_PATIENCE:
        case OPT_EBATCH: {
            char *end;
            long long v = strtoll(optarg, &end, 10);
            if (!*optarg || *end || v < 0 || (c != OPT_SEED && c != OPT_PATIENCE && c != OPT_EBATCH && v == 0) || v > 100000000) {
                rc = xai_app_usage_error(&o.app, "invalid value '%s'", optarg);
                goto out;
            }
            if (c == OPT_EPOCHS) o.epochs = (int)v;
            else if (c == OPT_BATCH) o.batch = v;
            else if (c == OPT_SEED) o.seed = (uint64_t)v;
            else if (c == OPT_PATIENCE) o.patience = (int)v;
            else o.ebatch = v;
            break;
        }
        default:
            rc = xai_app_usage_error(&o.app, "unknown option");
            goto out;
        }
    }
    xai_app_apply_threads(&o.app);
    if (sub) {
        if (optind + 1 != argc) {
            rc = xai_app_usage_error(&o.app, "%s: unexpected argument '%s'", cmd, argv[optind + 1 < argc ? optind + 1 : optind]);
            goto out;
        }
        rc = !strcmp(cmd, "train") ? cmd_train(&o) : cmd_explain(&o);
    } else {
        if (argc - optind != 3) {
            rc = xai_app_usage_error(&o.app, "expected 'train', 'explain' or BIDS_DIR OUT_DIR participant|group");
            goto out;
        }
        const char *bids = argv[optind], *outd = argv[optind + 1], *level = argv[optind + 2];
        if (!strcmp(level, "participant"))
            rc = cmd_participant(&o, bids, outd);
        else if (!strcmp(level, "group"))
            rc = cmd_group(&o, outd);
        else
            rc = xai_app_usage_error(&o.app, "analysis level must be participant or group, not '%s'", level);
    }
out:
    xai_app_free(&o.app);
    cairo_debug_reset_static_data(); /* so leak checkers see only real leaks */
    FcFini();
    return rc;
}
