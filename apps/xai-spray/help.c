/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * help.c - the --help text of xai-spray: input, preprocessing, clustering, outputs,
 * examples, exit status and references.
 */
#include <stdio.h>

#include "spray-app.h"

static void help_input(FILE *f)
{
    fprintf(f,
"SYNOPSIS\n"
"  " PROG " MAPS.npy [--labels LABELS.npy] [--classes C1,C2,...] -o OUTDIR [options]\n"
"\n"
"Spectral Relevance Analysis (SpRAy): clusters the relevance maps of each class by the\n"
"structure of what the model looked at, and ranks the classes by how separable their\n"
"clusters are (Fisher discriminant J = w'Sb w / w'Sw w in the spectral embedding). A class\n"
"at the top of the ranking splits into distinct strategies: look there for Clever-Hans\n"
"artefacts. MAPS is float32/float64 of shape (N, D), (N, H, W) or (N, C, ..., T); the\n"
"last axis is the map's columns and the axes between N and it are flattened into rows.\n"
"\n"
"INPUT\n"
"  --labels L.npy       N class labels (any integer dtype, or floats holding integers); without it\n"
"                       all maps are class 0\n"
"  --classes LIST       comma-separated classes to analyse [every label present]\n"
"\n"
"PREPROCESSING\n"
"  --pool RxC           sum-pool each map to R x C (0 keeps an axis) [no pooling]. Without pooling\n"
"                       maps are compared bin by bin, so one artefact at shifted times or\n"
"                       frequencies looks like different maps and SpRAy misses it: pool the\n"
"                       shifting axis into bins wider than the shift (e.g. --pool 8x4 for\n"
"                       spectrogram maps whose artefact moves in time)\n"
"  --signed             keep signs (default: absolute value after pooling)\n"
"  --norm sum|max|none  per-map normalisation by sum or max of |values| [sum]\n"
"\n"
    );
}

static void help_output(FILE *f)
{
    fprintf(f,
"CLUSTERING\n"
"  --knn K              neighbours of the symmetric kNN graph [10]; a group of fewer than about K\n"
"                       maps is linked to the rest and never forms its own cluster: for small\n"
"                       classes lower K (the run notes classes with fewer than 4 K maps)\n"
"  --eig N              eigenpairs of the normalised Laplacian, 2..32 [32]\n"
"  --clusters K         clusters per class; 0 = by the largest eigengap [0]\n"
"  --min-clusters K     smallest k the eigengap may choose [2]\n"
"  --max-clusters K     largest k the eigengap may choose [10]\n"
"  --restarts R         k-means++ restarts [10]\n"
"  --seed S             seed of k-means++ and Lanczos [1]\n"
"  --solver S           auto | dense | lanczos (auto: dense GSL up to 1000 maps) [auto]\n"
"\n"
"OUTPUT (in OUTDIR, created if missing)\n"
"  ranking.tsv                 classes by fda_ratio = FDA score / the score of the same maps\n"
"                              with their values shuffled within each map, same number of\n"
"                              clusters (comparable across k; about 1 = no shared structure),\n"
"                              most separable (suspicious) first\n"
"  eigenvalues.tsv, eigenvalues.png   per-class Laplacian spectra (eigengap plot)\n"
"  clusters.tsv                map index, class, cluster, 2-D spectral embedding x, y\n"
"  class-C-cluster-means.npy   per-cluster mean relevance maps, (K, ...) like MAPS\n"
"  class-C-embedding.png       2-D spectral embedding coloured by cluster\n"
"  class-C-cluster-J.png       heatmap of cluster J's mean map (prototype)\n"
"  --xlabel TEXT         x-axis label of the prototype heatmaps [column (time)]\n"
"  --ylabel TEXT         y-axis label of the prototype heatmaps [row (channel)]\n"
"  --origin-lower        draw row 0 at the bottom (spectrograms: frequency upwards)\n"
"  ranking.json, clusters.json, class-C-cluster-means.json   provenance sidecars\n"
"                        (CommandLine, Version, DateTime, inputs, parameters)\n"
"  -o, --output OUTDIR   output directory (required)\n"
"  -f, --force           overwrite existing outputs (default: refuse)\n"
"  -q, --quiet           no summary on stderr\n"
"  -v, --verbose         more messages\n"
"  --nthreads N          threads for BLAS and libxai [SLURM_CPUS_PER_TASK, else\n"
"                        OMP_NUM_THREADS, else the online cores]\n"
"  --progress MODE       progress of the per-class outputs on stderr:\n"
"                        auto|bar|lines|json|none [auto: a bar on a terminal, else lines]\n"
"  -h, --help            this text\n"
"  -V, --version         version\n"
"\n"
"EXAMPLES\n"
"  " PROG " relevance.npy --labels y.npy -o spray/\n"
"  " PROG " relevance.npy --labels y.npy --classes 3,7 --pool 8x32 --clusters 4 -o spray/ -f\n"
"  " PROG " spectrogram-relevance.npy --labels y.npy --origin-lower --xlabel frame \\\n"
"            --ylabel 'frequency bin' -o spray/\n"
"\n"
"EXIT STATUS\n"
"  0 success, 1 data or runtime error, 2 usage error (also: an output exists, no --force).\n"
"\n"
"REFERENCES\n"
"  Lapuschkin et al. 2019, Nat. Commun. 10:1096 (SpRAy).  Anders et al. 2022, Inf. Fusion\n"
"  77:261 (Clever-Hans ranking by Fisher discriminant).  Ng, Jordan & Weiss 2002, NIPS\n"
"  (normalised spectral clustering).  von Luxburg 2007, Stat. Comput. 17:395 (eigengap).\n");
}

void spray_usage(FILE *f)
{
    help_input(f);
    help_output(f);
}
