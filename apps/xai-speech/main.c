/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * xai-speech - train a spectrogram CNN on spoken audio (digits, speaker gender or any CSV
 * labels) with speakers held out, and explain it with LRP: relevance aligned to the
 * time-frequency bins (.npy), a spectrogram figure with the relevance overlaid, and an
 * optional sonification. The model card carries the spectrogram pipeline; explain and eval
 * rebuild exactly that pipeline. This file holds the options; train.c, explain.c and
 * batch.c the commands. Exit codes: the README's table.
 */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "speech-app.h"

static void usage_head(const opts *d)
{
    printf(
"SYNOPSIS\n"
"  " PROG " train DIR|FILE... --labels digit|gender|CSV -o MODEL.onnx [options]\n"
"  " PROG " explain --model MODEL.onnx DIR|FILE... -o OUTDIR [--sonify OUT.wav] [options]\n"
"  " PROG " eval --model MODEL.onnx DIR|FILE... --labels digit|gender|CSV [--json OUT.json]\n"
"  " PROG " evaluate --model MODEL.onnx DIR|FILE... --truth T0,T1,F0,F1 -o OUT.tsv [--metrics LIST]\n"
"\n"
"Audio is anything libsndfile reads (WAV, FLAC, OGG, AIFF, ...); folders are walked\n"
"recursively (links followed, hidden entries skipped). Clips are mixed to mono, resampled to\n"
"the pipeline rate and centred in a fixed length (longer clips are cut). Features are the\n"
"pipeline's dB spectrogram mapped to [0, 1] by (dB - max)/80 + 1. The model card stores the\n"
"whole pipeline. The speaker of a clip is the 'speaker' column of a labels.csv next to it,\n"
"else SPEAKER of LABEL_SPEAKER_N.wav, else its folder.\n"
"\n"
"TRAIN\n"
"  --labels digit        leading digit of the file name (FSDD/AudioMNIST '3_theo_0.wav', '7.wav'),\n"
"                        else the 'digit' column of a labels.csv next to the file\n"
"  --labels gender       the 'gender' column of a labels.csv next to the files (or up to 3 parents)\n"
"  --labels FILE.csv     a CSV with columns file (relative to the CSV) and --label-column [label]\n"
"  --preset P            compact | audiomnist | librosa | torchaudio [" SPEECH_DEFAULT_PRESET "]\n"
"                        compact: 8 kHz, n_fft 256, hop 128, Hann, 40 HTK mels, 40 x 63 per second\n"
"                        audiomnist: scipy stft 455/420 at 8 kHz, 227 x 227 (Becker et al. 2018)\n"
"  --duration S          clip length for compact/librosa/torchaudio [%g]\n"
"  --norm N              clip | cmn | cmvn | pcen [clip]\n"
"                        clip: the dB spectrogram as (dB - max)/80 + 1, clipped to [0, 1];\n"
"                        cmn: that, less each mel band's mean over the clip (z-box bounds +-1);\n"
"                        cmvn: each band standardised over the clip, with its deviation\n"
"                        floored at 1 dB (z-box bounds +-sqrt(frames - 1)); pcen: per-channel\n"
"                        energy normalisation of the power re the clip's maximum (Wang et al.\n"
"                        2017; T 0.4 s, alpha 0.98, delta 2, r 0.5; z-box bounds 0 to its\n"
"                        largest value)\n"
"  --mels N              mel bands of a mel preset [compact: 40]\n"
"  --arch SPEC           [" SPEECH_DEFAULT_ARCH "\n"
"                        dense(K)] with K the number of classes\n"
"  --augment none|shift|mask\n"
"                        shift: add a copy of each training clip moved in time by up to 100 ms\n"
"                        (whole frames; the frames moved in take the clip's quietest value);\n"
"                        mask: add a copy with one band of up to 1/5 of the rows and one span\n"
"                        of up to 1/5 of the frames set to the clip's mean (SpecAugment,\n"
"                        Park et al. 2019) [%s]\n"
"  --speaker-column C    the labels.csv column that names the speaker [speaker] (e.g. 'voice'\n"
"                        when one voice was recorded at several speeds and pitches)\n"
"  -o, --output MODEL.onnx   model (+ MODEL.fold-K.onnx with --cv, MODEL.fold-1.onnx after the\n"
"                        hold-out's refit, + MODEL.json sidecar)\n"
"  --split-by clip puts a speaker's clips on both sides and overrates the model.\n"
"\n", d->duration, speech_augment_names[d->augment]);
}

static void usage_explain(void)
{
    printf(
"EXPLAIN\n"
"  --model MODEL.onnx    a model written by '" PROG " train' (with its fold models after --cv:\n"
"                        each speaker a fold held out is explained by that fold's model)\n"
"  --preset P            optional check: fail unless the model uses preset P\n"
"  --labels ...          as for train: needed only for --target true\n"
"  --method M            lrp | gradient | gradient-x-input | smoothgrad | integrated-gradients [lrp]\n"
"  --composite NAME      LRP composite [" SPEECH_DEFAULT_COMPOSITE "; the first convolution's z-box\n"
"                        takes its bounds from --root-point]\n"
"  --root-point floor[:Q]|silence   the reference the input layer's relevance is measured\n"
"                        from [floor:%g]. floor: each mel band's noise floor, the Q quantile of\n"
"                        the band over the clip's frames; the z-box gets low = min(x, floor) and\n"
"                        high = x, so a bin earns relevance only for its excess over its band's\n"
"                        floor, (x - low)+ w+ (deep Taylor's z+ with that root point, Montavon et\n"
"                        al. 2017). silence: the features' range as the bounds (0..1; cmn -1..1;\n"
"                        cmvn +-sqrt(frames - 1); pcen 0..its maximum), so every bin, background\n"
"                        noise included, earns relevance for its level above silence. Only z-box\n"
"                        reads it: with a composite that has none the sidecar records 'none'\n"
"  --init onehot|logit   the same as --start onehot|logit (older name)\n"
"  --no-figures          no PNG figures (faster)\n"
"  --stacked             one OUTDIR/relevance.npy [clips][rows][frames] and one relevance.json\n"
"                        (per-clip records in 'Clips') instead of files per clip: for large batches\n"
"  --save-input          with --stacked: also OUTDIR/input.npy, the model inputs [clips][rows][frames]\n"
"                        (e.g. for xai-evaluate)\n"
"  --concepts LAYER[:top=K|:channels=a,b,...]  concept relevance (CRP, Achtibat et al. 2023, LRP\n"
"                        only, not --stacked or the batch form): the filters/units of LAYER (a node\n"
"                        name, e.g. conv4) as concepts; per clip STEM_concepts.npy [concepts][rows]\n"
"                        [frames], raw maps that add up to the clip's map over all concepts, and\n"
"                        STEM_concepts.tsv (clip, class, rank, concept, relevance, share) [top=8]\n"
"  --sonify OUT.wav      (one input only) ISTFT of the STFT masked by clip(R+/max R+, 0, 1) with the\n"
"                        original phase, at the pipeline rate, trimmed to the clip. Mel relevance\n"
"                        goes back to linear bins by the normalised filterbank transpose:\n"
"                        M[k,t] = sum_m fb[m,k] R+[m,t] / sum_m fb[m,k]\n"
"  -o, --output OUTDIR   per clip STEM_relevance.npy [rows][frames] float32 (rows = mel bands or\n"
"                        frequency bins, bottom first; frames = time), STEM_relevance.json,\n"
"                        STEM_overlay.png (+ .json); OUTDIR/predictions.tsv (+ .json) for the run\n"
"\n", SPEECH_DEFAULT_ROOT_Q);
    printf(
"MANY CLIPS, SHARDS AND SLURM (explain, files per clip)\n"
"  --shard K/N           only the clips of shard K: speakers in byte order, the j-th to shard\n"
"                        j mod N + 1 (a speaker's clips stay together). Per-clip outputs equal a\n"
"                        one-machine run's (apart from the sidecars' CommandLine and DateTime);\n"
"                        a shard writes no predictions.tsv (each map's sidecar has its row:\n"
"                        --collect gathers them).\n"
"                        Status files in OUTDIR/.xai-status: a rerun redoes only clips that\n"
"                        failed, never finished, or whose audio, model or options changed\n"
"  --slurm               write OUTDIR/slurm/" PROG "-array.sbatch (one array task per shard with work\n"
"                        left, N from --shard K/N [1]) and submit it; needs a shared filesystem\n"
"  --slurm-args \"...\"    extra sbatch arguments   --max-parallel M   at most M tasks at once (%%M)\n"
"                        Then the group step (after every task succeeded) runs the same\n"
"                        command with --collect\n"
"  --collect             explain nothing: OUTDIR/predictions.tsv (+ .json) and the reports from\n"
"                        the maps' sidecars that the shards wrote, rows in input order as one\n"
"                        machine writes them; a clip without its sidecar is an error (exit 1)\n"
"  --dry-run             print the script, submit nothing\n"
"  --wait                wait for the array (squeue and the status files; no sacct) and report\n"
"                        failed clips (exit 3)   --wait-timeout S   bound of --wait [one day]\n"
"\n"
"EVAL\n"
"  --labels ...          as for train; prints accuracy, per-class accuracy and the confusion matrix\n"
"  --json OUT.json       the same as JSON\n"
"\n"
"EVALUATE (the metrics of xai-evaluate on the maps explain makes, from the model for new data)\n"
"  --truth T0,T1,F0,F1   ground truth: the box from T0 to T1 s (the file's time axis) and F0 to\n"
"                        F1 Hz: the rows whose band reaches into it times the frames whose window\n"
"                        meets it\n"
"  --metrics LIST        all, a family or metric names, comma-separated [localisation,complexity]\n"
"                        (mass-accuracy = the share of the positive relevance in the box)\n"
"  -o OUT.tsv            one row per clip: sample, file, prediction, class, then METHOD/METRIC\n"
"                        (xai-evaluate's metrics_samples.tsv) + OUT.json; the means with\n"
"                        their 95 %% intervals are printed. Also --target, --start, --method,\n"
"                        --composite, --root-point (max-/avg-sensitivity need silence), --labels\n"
"                        (for --target true), --seed (noise of the metrics)\n"
"\n");
}

static void opts_defaults(opts *o);

/* The help shows the defaults that opts_init() gives the options. */
static void usage(void)
{
    static opts d;
    opts_defaults(&d);
    usage_head(&d);
    xai_app_driver_help_train(stdout, &d.dopt);
    printf("\n");
    usage_explain();
    xai_app_driver_help_explain(stdout, &d.dopt);
    printf("\n%s\n", xai_app_common_help);
    printf(
"EXAMPLES\n"
"  " PROG " train build/datasets/speech-synth --labels digit --cv 5 -o digits.onnx\n"
"  " PROG " eval --model digits.onnx ../shared/data/speech/fsdd_subset/recordings --labels digit\n"
"  " PROG " explain --model digits.onnx 3_theo_0.wav -o out --sonify out/3_theo_0_used.wav\n"
"\n"
"EXIT STATUS\n"
"  0 success, 1 data error, 2 usage error (also: an output exists without --force), 3 some\n"
"  inputs failed (reported; the rest were done), 4 --strict and the model card warns (not above\n"
"  chance, a class never predicted, loses to the ridge baseline).\n"
"\n"
"REFERENCES\n"
"  Becker et al. 2018, arXiv:1807.03418 (AudioMNIST, LRP on spectrograms).  Bach et al. 2015\n"
"  (LRP).  Montavon et al. 2017 (deep Taylor decomposition, z+), 2019 (composites, z-box).\n"
"  Kauffmann et al. 2022, IEEE TNNLS (--start logodds: log-odds against the other classes).\n"
"  Viikki & Laurila 1998, Speech Communication 25 (--norm cmn, cmvn: mean and variance\n"
"  normalisation).  Wang et al. 2017, ICASSP (--norm pcen); Lostanlen et al. 2019, IEEE SPL.\n"
"  Park et al. 2019, Interspeech (SpecAugment: --augment mask).\n"
"  Paissan et al. 2024, arXiv:2403.13086 (L-MAC: listenable masks, ISTFT with the original phase).\n");
}

enum { O_LABELS = 256, O_SPEAKER_COLUMN, O_COLUMN, O_PRESET, O_DURATION, O_ARCH, O_MODEL, O_METHOD, O_COMPOSITE, O_NOFIG,
       O_SONIFY, O_JSON, O_STACKED, O_INIT, O_SAVE_INPUT, O_TRUTH, O_METRICS, O_AUGMENT, O_CONCEPTS, O_NORM, O_MELS,
       O_ROOT };

static const struct option longopts[] = {
    {"labels", required_argument, 0, O_LABELS}, {"label-column", required_argument, 0, O_COLUMN},
    {"speaker-column", required_argument, 0, O_SPEAKER_COLUMN},
    {"preset", required_argument, 0, O_PRESET}, {"duration", required_argument, 0, O_DURATION},
    {"arch", required_argument, 0, O_ARCH},
    {"model", required_argument, 0, O_MODEL}, {"method", required_argument, 0, O_METHOD},
    {"composite", required_argument, 0, O_COMPOSITE}, {"no-figures", no_argument, 0, O_NOFIG},
    {"sonify", required_argument, 0, O_SONIFY}, {"json", required_argument, 0, O_JSON},
    {"stacked", no_argument, 0, O_STACKED}, {"init", required_argument, 0, O_INIT},
    {"save-input", no_argument, 0, O_SAVE_INPUT}, {"output", required_argument, 0, 'o'},
    {"truth", required_argument, 0, O_TRUTH}, {"metrics", required_argument, 0, O_METRICS},
    {"concepts", required_argument, 0, O_CONCEPTS},
    {"augment", required_argument, 0, O_AUGMENT}, {"norm", required_argument, 0, O_NORM},
    {"mels", required_argument, 0, O_MELS}, {"root-point", required_argument, 0, O_ROOT},
    {"help", no_argument, 0, 'h'}, XAI_APP_DRIVER_TRAIN_OPTIONS,
    {"target", required_argument, 0, XAI_APP_OPT_TARGET}, {"start", required_argument, 0, XAI_APP_OPT_START},
    {"shard", required_argument, 0, O_SHARD}, {"slurm", no_argument, 0, O_SLURM},
    {"slurm-args", required_argument, 0, O_SLURM_ARGS}, {"max-parallel", required_argument, 0, O_MAX_PAR},
    {"dry-run", no_argument, 0, O_DRY_RUN}, {"wait", no_argument, 0, O_WAIT},
    {"wait-timeout", required_argument, 0, O_WAIT_TIMEOUT}, {"collect", no_argument, 0, O_COLLECT},
    XAI_APP_LONG_OPTIONS, {0, 0, 0, 0}};

/* --root-point floor[:Q]|silence; 1, or -1 (usage error printed). */
static int parse_root(opts *o, const char *arg)
{
    double q = SPEECH_DEFAULT_ROOT_Q;
    o->have_root = 1;
    if (strcmp(arg, "silence") == 0)
        q = -1;
    else if (strncmp(arg, "floor", 5) != 0 || (arg[5] && (arg[5] != ':' || xai_app_parse_double(arg + 6, 0, 1, &q))))
        return xai_app_usage_error(&o->app, "--root-point: invalid value '%s' (floor, floor:Q with Q a quantile from "
                                   "0 to 1, or silence)", arg), -1;
    o->root_q = q;
    return 1;
}

/* One option of xai-speech's own; 1 handled, -1 usage error (printed). */
static int own_option(opts *o, int c, const char *arg)
{
    double v;
    switch (c) {
    case O_LABELS: o->labels = arg; return 1;
    case O_COLUMN: o->column = arg; return 1;
    case O_SPEAKER_COLUMN: o->files.speaker_column = arg; return 1;
    case O_PRESET: o->preset = arg; return 1;
    case O_ARCH: o->arch = arg; return 1;
    case O_MODEL: o->model = arg; return 1;
    case O_COMPOSITE: o->composite = arg; return 1;
    case O_NOFIG: o->figures = 0; return 1;
    case O_STACKED: o->stacked = 1; return 1;
    case O_SAVE_INPUT: o->save_input = 1; return 1;
    case O_SONIFY: o->sonify = arg; return 1;
    case O_JSON: o->json = arg; return 1;
    case O_METRICS: o->metrics = arg; return 1;
    case O_AUGMENT:
        if ((o->augment = speech_augment_from_name(arg)) < 0)
            return xai_app_usage_error(&o->app, "--augment: invalid value '%s' (none, shift or mask)", arg), -1;
        return 1;
    case O_NORM:
        if ((o->norm = xai_speech_norm_from_name(arg)) < 0)
            return xai_app_usage_error(&o->app, "--norm: invalid value '%s' (clip, cmn, cmvn or pcen)", arg), -1;
        return 1;
    case O_MELS:
        if (xai_app_parse_double(arg, 1, 1024, &v) != 0 || v != (int)v)
            return xai_app_usage_error(&o->app, "--mels: invalid value '%s' (a whole number, 1 to 1024)", arg), -1;
        o->n_mels = (int)v;
        return 1;
    case O_ROOT: return parse_root(o, arg);
    case O_TRUTH: return speech_parse_truth(o, arg);
    case O_CONCEPTS: {
        char msg[256];
        if (concepts_parse(arg, &o->cs, msg, sizeof msg) != 0)
            return xai_app_usage_error(&o->app, "%s", msg), -1;
        o->concepts = 1;
        return 1;
    }
    case 'o': o->output = arg; return 1;
    case O_INIT:
        if (strcmp(arg, "logit") && strcmp(arg, "onehot"))
            return xai_app_usage_error(&o->app, "--init: invalid value '%s' (logit or onehot)", arg), -1;
        return xai_app_driver_handle_option(&o->app, &o->dopt, XAI_APP_OPT_START, arg);
    case O_METHOD:
        if (xai_method_parse(arg, &o->method) != XAI_OK)
            return xai_app_usage_error(&o->app, "--method: %s", xai_last_error()), -1;
        return 1;
    case O_DURATION:
        if (xai_app_parse_double(arg, 1e-9, 60, &v) != 0)
            return xai_app_usage_error(&o->app, "--duration: invalid value '%s'", arg), -1;
        o->duration = v;
        return 1;
    default: return 0;
    }
}

/* Options after the command; @return -1 to go on, else the exit code. */
static int parse_options(opts *o, int ac, char **av)
{
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(ac, av, ":o:hfqv", longopts, NULL)) != -1) {
        int h = own_option(o, c, optarg);
        if (h == 0)
            h = xai_app_driver_handle_option(&o->app, &o->dopt, c, optarg);
        if (h == 0)
            h = speech_batch_option(o, c, optarg);
        if (h == 1)
            continue;
        if (h < 0)
            return XAI_EXIT_USAGE;
        if (c == 'h')
            return usage(), XAI_EXIT_OK;
        if (c == ':')
            return xai_app_usage_error(&o->app, "option '%s' needs a value", av[optind - 1]);
        if (c == '?')
            return xai_app_usage_error(&o->app, "unknown option '%s'", av[optind - 1]);
        h = xai_app_handle_option(&o->app, c, optarg);
        if (h == 1)
            continue;
        if (h == 0)
            xai_app_usage_error(&o->app, "unknown option");
        return h == 2 ? XAI_EXIT_OK : XAI_EXIT_USAGE;
    }
    o->nopt_end = optind + 1; /* av is argv + 1 */
    if ((o->shard_n > 0 || o->slurm || o->collect) && o->cmd != CMD_EXPLAIN)
        return xai_app_usage_error(&o->app, "--shard, --slurm and --collect are for explain");
    if (o->collect && (o->shard_n > 0 || o->slurm))
        return xai_app_usage_error(&o->app, "--collect reads what every shard wrote: not with --shard or --slurm");
    if ((o->shard_n > 0 || o->slurm || o->collect) && (o->stacked || o->sonify))
        return xai_app_usage_error(&o->app, "--shard and --slurm write files per clip: not with --stacked or --sonify");
    if (o->concepts && o->cmd != CMD_EXPLAIN)
        return xai_app_usage_error(&o->app, "--concepts is for explain");
    if (o->have_root && o->cmd != CMD_EXPLAIN && o->cmd != CMD_EVALUATE)
        return xai_app_usage_error(&o->app, "--root-point is for explain and evaluate");
    if (o->have_truth && o->cmd != CMD_EVALUATE)
        return xai_app_usage_error(&o->app, "--truth is for evaluate");
    return -1;
}

/* The inputs after the options into o->files; -1 to go on, else the exit code. */
static int collect_inputs(opts *o, int ac, char **av)
{
    if (o->preset && o->cmd != CMD_EVAL) {
        xai_speech_pre tmp;
        if (xai_speech_pre_preset(o->preset, o->duration, &tmp) != XAI_OK)
            return xai_app_usage_error(&o->app, "--preset: %s", xai_last_error());
    }
    for (int i = optind; i < ac; i++)
        if (xai_speech_files_add(&o->files, av[i]) != XAI_OK)
            return xai_app_fail(&o->app, NULL, "%s", xai_last_error());
    if (optind < ac && o->files.n == 0)
        return xai_app_fail(&o->app, av[optind], "no audio files found");
    return -1;
}

/* Every default of the options, the one place both the help and the parsing read them from. */
static void opts_defaults(opts *o)
{
    static const char *const kinds[] = {"speaker", "clip", NULL};
    xai_app_driver_opts_init(&o->dopt, "speaker", kinds);
    o->dopt.lr = 3e-3;
    o->dopt.epochs = 60;
    o->dopt.holdout = 0.2;
    /* the logit start: the map sums to the target's logit (no division by it, so a near-zero
     * logit cannot inflate it), and the output layer keeps its negative evidence, so speech
     * that every digit shares nets out (the z+ output rule of 'stable' counts it in full). The
     * log-odds start (logodds) removes the shared part exactly, but it moved a planted tone's
     * share of the relevance up or down with the tone's frequency (datasets/speech/README.md) */
    o->dopt.start = XAI_DRIVER_START_LOGIT;
    o->duration = 1;
    /* a time shift of up to 100 ms, as the Speech Commands baseline trains (Warden 2018): where
     * a word starts in the clip says nothing of its class; with it the planted tone's box share
     * rose on 17 of 18 validation models at the same held-out accuracy (datasets/speech/README.md) */
    o->augment = SPEECH_AUGMENT_SHIFT;
    o->figures = 1;
    o->method = XAI_METHOD_LRP;
    o->root_q = SPEECH_DEFAULT_ROOT_Q;
}

static void opts_init(opts *o, int argc, char **argv)
{
    xai_app_init(&o->app, PROG, XAI_SPEECH_VERSION, argc, argv);
    opts_defaults(o);
    o->files.note = speech_note;
    o->files.note_ud = &o->app;
    o->argc = argc;
    o->argv = argv;
}

int main(int argc, char **argv)
{
    static opts o;
    opts_init(&o, argc, argv);
    xai_app_install_signal_handlers();
    int rc = xai_app_leading_args(&o.app, argc, argv, "missing command: train, explain, eval or evaluate", usage);
    if (rc >= 0)
        goto done;
    if (!strcmp(argv[1], "train"))
        o.cmd = CMD_TRAIN;
    else if (!strcmp(argv[1], "explain"))
        o.cmd = CMD_EXPLAIN;
    else if (!strcmp(argv[1], "eval"))
        o.cmd = CMD_EVAL;
    else if (!strcmp(argv[1], "evaluate"))
        o.cmd = CMD_EVALUATE;
    else {
        rc = xai_app_usage_error(&o.app, "unknown command '%s' (train, explain, eval or evaluate)", argv[1]);
        goto done;
    }
    if ((rc = parse_options(&o, argc - 1, argv + 1)) >= 0 || (rc = collect_inputs(&o, argc - 1, argv + 1)) >= 0)
        goto done;
    xai_app_apply_threads(&o.app);
    rc = o.cmd == CMD_TRAIN     ? run_train(&o)
         : o.cmd == CMD_EXPLAIN ? run_explain(&o)
         : o.cmd == CMD_EVAL    ? run_eval(&o)
                                : run_evaluate(&o);
done:
    xai_speech_files_free(&o.files);
    xai_app_free(&o.app);
    cairo_debug_reset_static_data(); /* so leak checkers see only real leaks */
    FcFini();
    return rc;
}
