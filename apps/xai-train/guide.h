/* SPDX-License-Identifier: GPL-3.0-or-later */
/* guide.h - the --guide option of xai-train (guide.c): explanation-guided training. */
#ifndef XAI_TRAIN_GUIDE_H
#define XAI_TRAIN_GUIDE_H

#include "app.h"
#include "xai/npy.h"
#include "xai/train.h"

typedef struct {
    xai_guide_kind kind;
    float lambda;
    char *mask_path;   /* RRR: the masks file */
    char *layer;       /* LRP: the weighted layer (NULL: the classifier's input); RR-ClArC: the CAV's */
    char *cav_path;    /* RR-ClArC: the CAV file of xai-clarc cav */
    float *cav;
    int64_t cav_n;
    xai_npy mask;
} xai_guide_arg;

/* Parse "rrr:MASKS.npy,lambda=L", "lrp,lambda=L[,layer=NAME]" or "rrclarc:CAV.json,lambda=L"; 0 ok, else a usage error was printed (exit 2). */
int xai_guide_parse(const xai_app *app, const char *s, xai_guide_arg *g);

/* Load the masks for n samples of per values and fill cfg's guide fields; 0 ok, else the
   error was printed (exit 1 for data, 2 for usage) and its exit code is returned. */
int xai_guide_setup(const xai_app *app, xai_guide_arg *g, const xai_model *m, int64_t n, int64_t per,
                    xai_train_config *cfg);

void xai_guide_free(xai_guide_arg *g);

#endif
