/* SPDX-License-Identifier: GPL-3.0-or-later */
/* xai-fmri's --help: the text of each command, and of all of them. */
#include <stdio.h>
#include <string.h>

#include "fmri.h"

static void help_head(void)
{
    printf(
        "SYNOPSIS\n"
        "  xai-fmri train --bold RUN.nii.gz [--bold ...] (--events E.tsv ... | --labels L.tsv ...)\n"
        "                 [--mask M.nii.gz] [--family dense|cnn3d|deeplight | --arch SPEC] [--cv] -o MODEL.onnx\n"
        "  xai-fmri explain --model M.onnx --bold RUN.nii.gz [--mask M.nii.gz] [--events E.tsv] -o OUTDIR\n"
        "  xai-fmri evaluate --model M.onnx --bold RUN.nii.gz [--events E.tsv] --truth ROI.nii.gz -o SCORES.tsv\n"
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

static void help_train_model(void);

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
        "      --samples volumes|trials|trials-peak  what one training sample is: a volume labelled\n"
        "                         by the lag rule, or one estimate per trial of the events (trials =\n"
        "                         trials-lss: least-squares-separate betas with the canonical HRF,\n"
        "                         Mumford et al. 2012; trials-peak: the mean of the volumes 4-8 s after\n"
        "                         the onset) [trials when the events are event-related (median duration\n"
        "                         <= 5 s, the response to one event is still above 10 %% of its peak\n"
        "                         when the next begins, and at most 75 %% of neighbouring events share\n"
        "                         a type: a volume mixes trials of different classes), else volumes].\n"
        "                         Recorded in the model; explain then needs --events and\n"
        "                         writes one map per trial (the 4-D series, in onset order, with no TR:\n"
        "                         its 4th axis is trials) and the\n"
        "                         class maps over the trials\n"
        "      --mask FILE        brain mask on the run's grid and affine [automatic: one mask from the\n"
        "                         mean image of the training runs, threshold at the largest gap of the\n"
        "                         sorted intensities between the 20 and 85 %% quantiles, largest\n"
        "                         connected component, holes filled; stored in the model]\n"
        "      --auto-mask F      the older automatic mask instead: mean above F times its 98th\n"
        "                         percentile (F in (0, 1))\n"
        "      --smooth MM        Gaussian smoothing of every volume, FWHM in mm (0 = none)\n"
        "      --screen PCT       keep the PCT %% of the mask's voxels with the largest ANOVA F between\n"
        "                         the classes on the training volumes (100 = all)\n"
        "                         [both by the data: with more than 10 mask voxels per labelled training\n"
        "                         volume a linear read-out fits mostly noise spread over the mask, so\n"
        "                         the defaults are 6 mm and up to 20 %% (nilearn's Decoder screening;\n"
        "                         with --samples trials at most 10 voxels per labelled trial): that\n"
        "                         share, its half or its quarter, whichever a ridge classifier on the\n"
        "                         screened voxels predicts best (balanced accuracy, ties to the\n"
        "                         smaller) in an inner cross-validation on each model's own training\n"
        "                         samples, held out by run (a single run: by thirds), the screening\n"
        "                         refitted in each inner fold; else 0 mm and 100 %%; the choice is\n"
        "                         printed and stored in the model. A given --screen is used as is]\n");
    printf(
        "  Each run is detrended and z-scored voxel by voxel over all its volumes; inputs outside the\n"
        "  mask are 0 and so is their relevance. Head-motion spikes (a volume whose RMS difference\n"
        "  from its neighbours is over 5 robust SDs above the run's median and over 1 %% of the mean\n"
        "  image's RMS) are censored: left unlabelled, so out of training and scoring, and out of the\n"
        "  class maps (Power et al. 2012).\n"
        "  train records this, the grid, the orientation, the mask, TR and the lag rule in the model's\n"
        "  \"xai_preprocessing\" metadata and explain applies it identically. A model and a run on\n"
        "  different grids or orientations are an error: xai-fmri never resamples.\n"
        "\n");
    help_train_model();
}

static void help_train_model(void)
{
    printf(
        "train:\n"
        "      --family NAME      dense (a linear read-out of the masked volume, L2-regularised: the\n"
        "                         model class of the MVPA baselines; fits any grid), cnn3d (a 3-D CNN,\n"
        "                         grids of >= 4 voxels per axis) or deeplight (2-D CNN per axial slice\n"
        "                         + bidirectional LSTM over slices) [dense]\n"
        "      --arch SPEC        architecture spec instead (see xai-train --help); input {1,Z,Y,X}\n"
        "                         for 3-D specs, {Z,1,Y,X} for timedist(...) specs\n"
        "      --epochs N [50]  --batch N [16]  --lr X [0.001]  --seed N [1]\n"
        "      --weight-decay X   L2 penalty of Adam [0.1]\n"
        "      --val-split F      > 0: keep the best epoch on whole held-out runs (never random\n"
        "                         volumes, which leak through the HRF): the last training run, or\n"
        "                         with --cv the driver's inner split of each fold's training runs\n"
        "                         [0: no early stopping, the last epoch is kept]\n"
        "      --patience N       early stopping with --val-split [0 = off]\n"
        "      --cv               leave-one-run-out first: accuracy per run, mean +- sd over runs,\n"
        "                         chance and a block-level binomial p-value (volumes of one block\n"
        "                         share one response, so blocks are the independent units) and\n"
        "                         a ridge baseline on the same voxels, through the shared driver;\n"
        "                         the model (trained on every run) records them in its card; one\n"
        "                         fold model per run is written beside it (MODEL.fold-K.onnx, trained\n"
        "                         without run K), and explain uses, for each run, the fold that never\n"
        "                         saw it (runs are named by their BIDS entities sub, ses, task, acq,\n"
        "                         run; else by file name and as many folders as tell them apart; a\n"
        "                         run two recorded names fit is an error)\n"
        "      --strict           a model whose record warns (training runs whose class follows the\n"
        "                         time course, events that look early or late; with --cv: not above\n"
        "                         chance, a class never predicted, losing to the ridge baseline) is an\n"
        "                         error: nothing is written, exit 4\n"
        "  -o, --output FILE      the model (.onnx), with its sidecar beside it (.json: the card)\n"
        "\n");
}

static void help_explain(void)
{
    printf(
        "explain:\n"
        "      --model FILE       the .onnx model written by xai-fmri train; after train --cv a run that\n"
        "                         a fold held out is explained by that fold's model (the sidecar's\n"
        "                         HeldOut and ModelSelection say which, and whether it saw the run);\n"
        "                         explaining a training run with its own model warns\n"
        "      --strict           refuse a model whose record or card warns (see train; the card of\n"
        "                         a model trained without --cv says its held-out accuracy is unknown):\n"
        "                         exit 4\n"
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
        "      --concepts LAYER[:top=K|:channels=a,b,...]  concept relevance (CRP, Achtibat et al.\n"
        "                         2023, LRP only): the filters/units of LAYER (a node name, e.g. conv0)\n"
        "                         as concepts; per concept C a 4-D <stem>_desc-lrpconceptC_bold.nii.gz\n"
        "                         on the run's grid (raw; all of the layer's concepts add up to\n"
        "                         desc-lrp_bold), and <stem>_desc-lrpconcepts_timeseries.tsv (volume,\n"
        "                         class, rank, concept, relevance, share) [top=8]\n"
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
        "      --shard K/N        only the K-th of N deterministic parts of the selected participants\n"
        "                         (sorted labels, the j-th to part j mod N + 1); records a status file\n"
        "                         per run under OUT_DIR/.xai-status, so a rerun skips participants\n"
        "                         whose runs are done and unchanged and redoes the others (their\n"
        "                         outputs replaced); outputs match a one-part run [all]\n"
        "      --slurm            participant level as a Slurm job array: one task per part (N from\n"
        "                         --shard K/N, K ignored) with unfinished runs, script and logs in\n"
        "                         OUT_DIR/slurm/, then the group level submitted with afterok.\n"
        "                         Needs a filesystem every node sees\n"
        "      --slurm-args \"ARGS\"  passed to sbatch    --max-parallel M  at most M tasks at once\n"
        "      --dry-run          print the scripts and sbatch commands; submit nothing\n"
        "      --wait             wait for the jobs (squeue), then name each run that failed or did\n"
        "                         not finish (exit 3)    --wait-timeout S  [86400]\n"
        "      --model FILE       explain every run with this model (with the fold model that never\n"
        "                         saw the run, for a model of train --cv); without it every run is\n"
        "                         explained by a model trained on the subject's other runs\n"
        "                         (leave-one-run-out; saved as _desc-heldout_model.onnx), or on the\n"
        "                         run itself when there is only one\n"
        "  group: averages the participants' class summaries (runs, then subjects) into\n"
        "         OUT_DIR/group/task-T_desc-lrp<Class>_statmap.nii.gz; maps made by a model that\n"
        "         was trained on their run are left out (named in the sidecar), so the group map\n"
        "         is out of fold wherever the participant level knew\n"
        "\n%s"
        "\n"
        "EXIT STATUS\n"
        "  0 ok, 1 data or runtime error, 2 usage (also an existing output without --force),\n"
        "  3 some participants failed, 4 --strict (train, explain, evaluate) and the model's\n"
        "  record or card warns\n"
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

static void help_evaluate(void)
{
    printf(
        "evaluate (the explain options apply):\n"
        "      --truth FILE       the region that should carry the relevance, on the run's grid and\n"
        "                         affine (nonzero = inside), e.g. an ROI or a planted-truth mask\n"
        "      --metrics LIST     metrics of xai-evaluate (names or families, comma-separated, or all)\n"
        "                         [localisation,complexity: mass and rank accuracy, pointing game,\n"
        "                         enrichment over the region's volume share, Gini sparseness, entropy]\n"
        "  -o, --output FILE      the scores (.tsv as xai-evaluate's metrics.tsv: method, metric, family,\n"
        "                         better, mean, 95 %% interval over the volumes, sd, n) with a JSON\n"
        "                         sidecar; one line per metric on stdout. Scored: the labelled\n"
        "                         volumes (all without --events), each map for its explained\n"
        "                         target (--target)\n"
        "\n");
}

/* The help of one command (train, explain) or all of it. */
void fmri_help(const char *cmd)
{
    int tr = !cmd || !strcmp(cmd, "train"), ev = !cmd || !strcmp(cmd, "evaluate");
    int ex = ev || !strcmp(cmd, "explain");
    help_head();
    if (tr)
        help_train();
    if (ex)
        help_explain();
    if (ev)
        help_evaluate();
    if (!cmd)
        help_bids();
    else
        printf("%s", xai_app_common_help);
}
