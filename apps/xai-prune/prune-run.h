/* SPDX-License-Identifier: GPL-3.0-or-later */
/* xai-prune internals shared by the options (main.c) and the pruning sweep (prune-run.c). */
#ifndef XAI_PRUNE_RUN_H
#define XAI_PRUNE_RUN_H

#include "app.h"
#include "xai.h"

#define PROG "xai-prune"

extern xai_app app;

typedef struct {
    const char *model, *data, *labels, *test, *test_labels, *outdir, *composite;
    const char *rules; /* the lrp criterion's rule overrides ("" or NULL: the composite's rules) */
    int norm;          /* global ranking's per-layer norm: an xai_prune_norm, -1 the criterion's */
    xai_prune_criterion crit[XAI_PRUNE_COUNT];
    int ncrit;
    double step, total, save_rate; /* save_rate 0: nothing saved */
    int global, ref_size, ref_per_class, seeds, fine_tune, iterative;
    xai_prune_units units;
    float lr;
} prune_opts;

/* The whole run: inputs, the sweep over criteria, seeds and rates, the outputs.
   0, 1 (data error, printed) or 2 (an output exists). */
int prune_run(const prune_opts *o);

#endif
