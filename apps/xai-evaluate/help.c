/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * help.c - the --help text of xai-evaluate: synopsis, methods, perturbation, metrics,
 * report, outputs, examples, exit status and the papers behind each measure.
 */
#include <stdio.h>

#include "evaluate.h"

static void help_synopsis(FILE *f)
{
    fprintf(f,
"SYNOPSIS\n"
"  " PROG " MODEL.onnx X.npy -o OUTDIR [options]\n"
"  " PROG " MODEL.onnx X.npy -o OUTDIR --metrics LIST [--truth MASK.npy] [options]\n"
"  " PROG " report METRICS.tsv... -o OUTDIR\n"
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
"  --batch B           samples per forward stack, 1..64 [64]\n");
}

static void help_metrics(FILE *f)
{
    fprintf(f,
"\n"
"METRICS (--metrics: instead of the AOPC outputs, any of these per method; a family name\n"
"selects all its metrics, 'all' every one; better = the direction of a better value)\n"
"  aopc-morf, aopc-lerf      region perturbation as above            higher / lower\n"
"  road-morf, road-lerf      the same with ROAD noisy linear imputation (Rong et al. 2022):\n"
"                            a removed element is the mean of its neighbours along the\n"
"                            --road-axes, plus N(0, (--road-noise * sd(x))^2)   higher / lower\n"
"  faithfulness-corr         Pearson(sum of R over a random patch set, f(x) - f(x with the\n"
"                            set replaced)) over --fc-runs sets (Bhatt et al. 2020)   higher\n"
"  infidelity                mean (beta I.R - (f(x) - f(x - I)))^2, I ~ N(0, (--infid-sigma\n"
"                            * sd(x))^2), beta the best scale (Yeh et al. 2019)        lower\n"
"  mass-accuracy             sum of R+ in the truth / sum of R+ (Arras et al. 2022)   higher\n"
"  rank-accuracy             share of the K = |truth| most relevant elements in it    higher\n"
"  pointing-game             1 when the most relevant element is in the truth         higher\n"
"  enrichment                mass-accuracy / (|truth| / size), 1 = chance            higher\n"
"  max-sensitivity, avg-sensitivity   ||Phi(x+u) - Phi(x)|| / ||Phi(x)|| over --sens-runs\n"
"                            u uniform in +-(--sens-radius * (max - min)) (Yeh et al.)  lower\n"
"  mprt                      Spearman of |R| with the original after randomising layers\n"
"                            top-down, mean over the cascade (Adebayo et al. 2018)     lower\n"
"  sparseness                Gini index of |R| (Chalasani et al. 2020)                higher\n"
"  complexity                entropy of |R| / sum |R| (Bhatt et al. 2020); as a list item\n"
"                            'complexity' is the family: sparseness and complexity     lower\n"
"  --metrics LIST      e.g. all, faithfulness,localisation, road-morf,mprt\n"
"  --truth MASK.npy    ground truth for localisation: nonzero = relevant, shaped like X or\n"
"                      like one sample (then used for every sample)\n"
"  --road-axes LIST    per-sample axes whose neighbours impute (0-based, e.g. 2 or 1,2)\n"
"                      [every axis longer than 1]\n"
"  --road-noise F      [0.01]\n"
"  --fc-runs N, --fc-fraction F          [64, 0.1 of the patches]\n"
"  --infid-runs N, --infid-sigma F       [64, 0.1]\n"
"  --sens-runs N, --sens-radius F        [10, 0.02]\n"
"  --loc-abs           localisation on |R| instead of max(R, 0) (for unsigned maps)\n"
"  Outputs: metrics.tsv (method, metric, family, better, mean, ci_low, ci_high, sd, n),\n"
"  metrics_samples.tsv, mprt.tsv and mprt.png (with mprt), report.tsv and report.png, each\n"
"  with a JSON sidecar.\n");
}

static void help_output(FILE *f)
{
    fprintf(f,
"\n"
"REPORT\n"
"  " PROG " report METRICS.tsv... -o OUTDIR   one table (report.tsv: metric, family, better,\n"
"  method, mean, ci_low, ci_high, n, rank) and one figure (report.png) comparing the methods\n"
"  of one or more metrics.tsv on every metric; with several inputs, methods are named\n"
"  DIR:method after the input's directory (with its parents when two inputs sit in folders\n"
"  of one name: eeg/ev:method, fmri/ev:method).\n"
"\n"
"OUTPUT (in OUTDIR, created if missing; every file is written atomically)\n"
"  aopc.tsv            method, order, aopc, ci_low, ci_high, sd, n, steps, per_step, patches\n"
"  curves.tsv          step, fraction of patches replaced, then per method/order the mean\n"
"                      f(x^0) - f(x^k) over samples\n"
"  aopc_samples.tsv    sample, class, then the AOPC of each method/order for that sample\n"
"  aopc.json, curves.json, aopc_samples.json   provenance sidecars of the tables\n"
"                      (CommandLine, Version, DateTime, ModelSHA256, Sources, Parameters)\n"
"  curves_morf.png, curves_lerf.png   the curves of every method and the random baseline\n"
"IN PARTS (several machines or Slurm array tasks; OUTDIR on a filesystem they all see)\n"
"  --shard K/N         evaluate only the methods of shard K of N (the method labels in byte\n"
"                      order, the j-th to shard j mod N + 1), each on all samples, into\n"
"                      OUTDIR/methods/LABEL/ with a status file; methods done with the same\n"
"                      X, model, truth and options are skipped when run again\n"
"  --merge             after every shard: join the methods into the outputs above, the same\n"
"                      bytes as one run (it fails naming a method that is not done)\n"
"  --slurm             write OUTDIR/slurm/xai-evaluate-array.sbatch (one array task per\n"
"                      shard with methods to do; N from --shard K/N, K ignored) and the\n"
"                      --merge step (--dependency=afterok) and submit them; with\n"
"                      --slurm-args \"ARGS\", --max-parallel M, --dry-run (print, submit\n"
"                      nothing), --wait [--wait-timeout S] as in xai-explain\n"
"  The methods are the unit of work because every random draw is tied to a sample's index\n"
"  in the evaluated stack (and SmoothGrad's noise to its batch): split by samples, a shard\n"
"  would draw differently from one run.\n"
"\n"
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
}

static void help_examples(FILE *f)
{
    fprintf(f,
"\n"
"EXAMPLES\n"
"  " PROG " eeg_cnn.onnx epochs.npy --patch 1x8 --steps 64 --per-step 4 -o eval/\n"
"  " PROG " model.onnx x.npy --methods lrp:epsilon-plus-flat,gradient --replace uniform -o out\n"
"  " PROG " cnn3d.onnx volumes.npy --patch 4x4x4 --order morf --replace mean -o out --force\n"
"\n"
"  " PROG " model.onnx x.npy --metrics all --truth mask.npy --patch 1x8 -o metrics/\n"
"  " PROG " report eeg/metrics.tsv fmri/metrics.tsv -o report/\n"
"\n"
"EXIT STATUS\n"
"  0 success, 1 data or runtime error, 2 usage error (also: an output exists, no --force).\n"
"\n"
"REFERENCES\n"
"  Samek, Binder, Montavon, Lapuschkin, Mueller 2017, \"Evaluating the visualization of what a\n"
"  deep neural network has learned\", IEEE TNNLS 28(11):2660 (region perturbation, AOPC).\n"
"  Bach et al. 2015, PLoS ONE 10(7):e0130140 (LRP, pixel flipping). Kohlbrenner et al. 2020,\n"
"  IJCNN (composites). Simonyan et al. 2014 (gradient). Shrikumar et al. 2016 (gradient x\n"
"  input). Smilkov et al. 2017 (SmoothGrad). Sundararajan et al. 2017 (Integrated Gradients).\n"
"  Rong et al. 2022, ICML (ROAD). Bhatt, Weller, Moura 2020, IJCAI (faithfulness correlation,\n"
"  complexity). Yeh et al. 2019, NeurIPS (infidelity, sensitivity). Arras, Osman, Samek 2022,\n"
"  Information Fusion 81 (relevance mass and rank accuracy). Zhang et al. 2016, ECCV (pointing\n"
"  game). Adebayo et al. 2018, NeurIPS (MPRT). Chalasani et al. 2020, ICML (Gini sparseness).\n");
}

void eval_usage(FILE *f)
{
    help_synopsis(f);
    help_metrics(f);
    help_output(f);
    help_examples(f);
}
