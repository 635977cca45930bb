/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * help.c - xai-eeg --help (also the source of its man page).
 */
#include <stdio.h>

#include "eeg-app.h"

static void usage_input(void)
{
    fputs(
        "SYNOPSIS\n"
        "  " PROG " train --edf F.edf [F2 ...] --events T1=left,T2=right -o MODEL.onnx [options]\n"
        "  " PROG " explain --model MODEL.onnx --edf F.edf [F2 ...] -o OUTDIR [options]\n"
        "  " PROG " evaluate --model MODEL.onnx --edf F.edf [F2 ...] --truth TRUTH.tsv -o OUTDIR [options]\n"
        "  " PROG " BIDS_DIR OUT_DIR participant --model MODEL.onnx [--participant-label L ...] [--task T]\n"
        "  " PROG " BIDS_DIR OUT_DIR group\n"
        "\n"
        "Epochs continuous EEG around annotated events, trains a shallow CNN (temporal conv, spatial\n"
        "conv across channels, pooling, dense) validated on held-out subjects, and explains it with\n"
        "LRP or gradients. Inputs: EDF, EDF+, BDF, BDF+ (annotations and the Status channel) and\n"
        "BrainVision .vhdr; a BIDS sibling *_events.tsv replaces the file's events. The\n"
        "pre-processing chosen at train time is stored in the model card and applied identically by\n"
        "explain; a recording without a model channel or at another sample rate is an error.\n"
        "\n"
        "INPUT\n"
        "  --edf F [F ...]        recordings (.edf .bdf .vhdr); also -i/--input\n"
        "  --events MAP           EVENT=CLASS list, e.g. T1=left,T2=right; BDF Status values as\n"
        "                         decimal text (1=left); required for train; explain defaults to\n"
        "                         the model's mapping\n"
        "  --tmin S, --tmax S     epoch window [tmin, tmax) in s around each event [tmin 0, tmax the\n"
        "                         events' most common duration]; a window leaving the recording is\n"
        "                         dropped and reported, never padded\n"
        "  --baseline none|mean   subtract each channel's mean over t < 0 (or the whole epoch when\n"
        "                         tmin >= 0) [none]\n"
        "\n"
        "PRE-PROCESSING (train; stored in the model card)\n"
        "  --channels A,B,...     channels to use, in this order [all EEG channels]\n"
        "  --reference none|average   re-reference [none]\n"
        "  --bandpass LO,HI       zero-phase Butterworth band-pass in Hz, 0 = edge off [4,38]\n"
        "  --notch HZ             zero-phase notch (Q 30) [off]\n"
        "  --filter-order N       Butterworth order per band edge (even) [4]\n"
        "  --resample HZ          resample after filtering (libsamplerate) [off]\n"
        "  --standardise none|recording|robust  z-score each channel over its whole recording\n"
        "                         after filtering: removes per-subject and per-session gains;\n"
        "                         robust: median and IQR, clipped at +-6, flat channels 0 [recording]\n"
        "\n"
        , stdout);
}

static void usage_batch(void)
{
    fputs(
        "\n"
        "EVALUATION (evaluate)\n"
        "  The metrics of xai-evaluate on explain's own maps (same epochs, out of fold, each epoch\n"
        "  scored with the model that explained it) against a truth in native terms.\n"
        "  --truth T.tsv          regions: columns channels (comma-separated names; or channel),\n"
        "                         tmin_s, tmax_s (s after the event); with a kind column only rows of\n"
        "                         --truth-kind count [planted] (gen_eeg's truth.tsv works as is)\n"
        "  --metrics LIST         localisation, complexity, faithfulness families or metric names\n"
        "                         (mass-accuracy, rank-accuracy, pointing-game, enrichment, sparseness,\n"
        "                         complexity, road-morf, road-lerf, aopc-morf, aopc-lerf,\n"
        "                         faithfulness-corr, infidelity) [localisation,complexity]; perturbation\n"
        "                         patches are 1 channel x 1/8 s, a quarter of them in 16 steps\n"
        "  writes OUTDIR/desc-<m>_metrics.tsv (as xai-evaluate's metrics.tsv: method, metric, family,\n"
        "  better, mean, 95 % CI, sd, n) and desc-<m>_samples.tsv (one row per epoch: recording,\n"
        "  epoch, target, fold, then <m>/<metric>), each with a JSON sidecar\n"
        "\n"
        "BIDS-APP FORM\n"
        "  participant            explain every sub-*/[ses-*/]eeg/*_eeg.{edf,bdf,vhdr} of BIDS_DIR into\n"
        "                         OUT_DIR/sub-*/[ses-*/]eeg/ (names as below); a sibling *_events.tsv\n"
        "                         (onset, duration, trial_type) replaces the file's annotations\n"
        "  group                  OUT_DIR/group_desc-lrp_channels.tsv and _topomap.png: the mean over\n"
        "                         recordings of each channel's relevance_<class>\n"
        "  --participant-label L [L ...]  labels with or without 'sub-' [all]\n"
        "  --task T               only recordings of this task [all]\n"
        "  The participant level is a batch: one status file per recording in OUT_DIR/.xai-status,\n"
        "  so a rerun redoes only failed, unfinished or changed recordings (also explain with --shard).\n"
        "  --shard K/N            only shard K of N: subjects (BIDS sub- label, else the file name) in\n"
        "                         byte order, the j-th to shard j mod N + 1; the outputs match one run\n"
        "  --slurm                write OUT_DIR/slurm/xai-eeg-array.sbatch (one array task per shard\n"
        "                         with unfinished recordings, logs in OUT_DIR/slurm/logs) and submit it;\n"
        "                         N from --shard K/N [1]; at the participant level the group level\n"
        "                         follows as OUT_DIR/slurm/xai-eeg-group.sbatch (--dependency=afterok,\n"
        "                         --force). Needs a filesystem that every node sees\n"
        "  --slurm-args \"ARGS\"   passed to sbatch;  --max-parallel M: at most M tasks at once\n"
        "  --dry-run              print the script, submit nothing\n"
        "  --wait                 wait for the array and the group step (squeue, status files; no\n"
        "                         sacct); exit 3 naming the failed recordings (the group step then\n"
        "                         leaves the queue unrun);  --wait-timeout S bounds it [one day]\n"
        "\n"
        "OUTPUT\n"
        "  -o, --output P         train: MODEL.onnx (+ MODEL.fold-K.onnx after --cv, MODEL.fold-1.onnx\n"
        "                         after the hold-out's refit, MODEL.json);\n"
        "                         explain: OUTDIR with, per input <stem> (name without _eeg and ext):\n"
        "                         <stem>_desc-<m>_relevance.npy   float32 (epochs, channels, times),\n"
        "                                                         each epoch's map scaled to sum |R| = 1\n"
        "                         <stem>_desc-<m>_channels.tsv    name type units + relevance columns\n"
        "                         <stem>_desc-<m>_events.tsv      one row per epoch: prediction, logits\n"
        "                         <stem>_desc-<m><Class>_heatmap.png   mean relevance, channels x time\n"
        "                         <stem>_desc-<m>_topomap.png     mean relevance per channel, per class\n"
        "                         each with a JSON sidecar; dataset_description.json in OUTDIR\n"
        "\n"
        , stdout);
}

void eeg_usage(void)
{
    usage_input();
    fputs(
        "MODEL AND TRAINING (train)\n"
        "  --arch SPEC            architecture on the input [1, C, T]; {C} {K} {KT} {PT} {P} expand to\n"
        "                         channels, classes, temporal kernel (~0.1 s), its half, pool (0.25 s)\n"
        "                         [" DEFAULT_ARCH "]\n"
        "                         reference: each read-out feature minus its mean over the model's\n"
        "                         training epochs (set after training; the logits do not change), so\n"
        "                         LRP credits a fall in band power where it happens\n"
        "  --augment none|shift-scale|shift-scale-dropout  add a copy of each training epoch\n"
        "                         shifted by up to 1/16 of the window (mirrored edges) and scaled\n"
        "                         by 0.8..1.25; -dropout also sets each channel of the copy to 0\n"
        "                         with probability 0.2 (channel dropout) [shift-scale-dropout]\n"
        "  --augment-copies N     augmented copies per training epoch, 1..8 [1]\n"
        "  --split-by KIND        groups from the BIDS entities of the file names (sub-, ses-, run-);\n"
        "                         epoch = the within-recording split (optimistic, flagged in the card)\n"
        , stdout);
    xai_app_driver_opts d;
    eeg_driver_defaults(&d);
    xai_app_driver_help_train(stdout, &d);
    fputs(
        "\n"
        "EXPLANATION (explain)\n"
        "  --model M.onnx         a model written by '" PROG " train' (its fold models are used out of\n"
        "                         fold: each subject is explained by the model that never saw it)\n"
        "  --method M             lrp|gradient|gradient-x-input|smoothgrad|integrated-gradients [lrp]\n"
        "  --save-input           explain: also write the model inputs, <stem>_desc-<m>_input.npy\n"
        "                         float32 (epochs, 1, channels, times), e.g. for xai-evaluate\n"
        "  --composite C          LRP composite [epsilon-plus-flat]\n"
        "  --no-figures           skip the PNGs\n"
        "  --concepts LAYER[:top=K|:channels=a,b,...]  concept relevance (CRP, Achtibat et al. 2023):\n"
        "                         the filters/units of LAYER (a node name, e.g. conv1) as concepts;\n"
        "                         <stem>_desc-<m>_concepts.npy (epochs, concepts, channels, times), raw\n"
        "                         maps that add up to the epoch's map over all concepts, and\n"
        "                         _concepts.tsv (epoch, class, rank, concept, relevance, share) [top=8]\n"
        , stdout);
    xai_app_driver_help_explain(stdout, &d);
    usage_batch();
    fputs(xai_app_common_help, stdout);
    fputs(
        "\n"
        "EXAMPLES\n"
        "  " PROG " train --edf sub-0[1-8]_task-mi_run-*_eeg.edf --events T1=left,T2=right --cv 4 -o mi.onnx\n"
        "  " PROG " explain --model mi.onnx --edf sub-0[1-8]_task-mi_run-*_eeg.edf -o derivatives/xai-eeg\n"
        "  " PROG " train --edf S001R04.edf --events T1=left,T2=right --split-by epoch --cv 5 -o s1.onnx\n"
        "  " PROG " /data/bids /data/bids/derivatives/xai-eeg participant --model mi.onnx --participant-label 01\n"
        "  " PROG " /data/bids /data/out participant --model mi.onnx --shard 3/8 --slurm --wait\n"
        "\n"
        "REFERENCES\n"
        "  Schirrmeister et al. 2017, Hum Brain Mapp 38:5391 (shallow ConvNet, 4-38 Hz, standardisation).\n"
        "  Sturm et al. 2016, J Neurosci Methods 274:141 (LRP for EEG).\n"
        "  Varoquaux et al. 2017, NeuroImage 145:166 (cross-validation across subjects).\n"
        "  Montavon et al. 2019, LRP overview; BIDS 1.9 EEG and derivatives.\n", stdout);
}

void eeg_driver_defaults(xai_app_driver_opts *d)
{
    static const char *const kinds[] = {"subject", "session", "run", "recording", "epoch", NULL};
    xai_app_driver_opts_init(d, "subject", kinds);
    d->epochs = DEFAULT_EPOCHS;
    d->patience = DEFAULT_PATIENCE;
    d->batch = 16;
    d->weight_decay = DEFAULT_WEIGHT_DECAY;
}
