/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * lrp-int.h - pieces of an LRP sweep for callers that run the backward pass in parts
 * (concept relevance in crp.c masks the relevance at one layer between two parts).
 */
#ifndef XAI_LRP_INT_H
#define XAI_LRP_INT_H

#include "graph-int.h"

/* The resolved rule of every node under @p cfg (ZBox bounds NaN unless cfg->have_bounds), with
   the modified weights the rules read built on @p ws. Free *rules with free(). Call with the
   model's explain_mu held. */
xai_status xai_lrp_rules(const xai_model *m, const xai_explain_config *cfg, xai_workspace *ws, xai_rule **rules);
/* Seed the output relevance of the stack on ws (after a forward pass); targets[] of -1 are
   replaced by the argmax; init_sum (may be NULL) gets what was put in per sample. */
xai_status xai_lrp_seed(const xai_model *m, xai_workspace *ws, const xai_explain_config *cfg, int *targets,
                        double *init_sum);
/* Point ws's ZBox bounds at a stack of @p nb samples (xs: its first, nin floats each; b0: its
   place in cfg's per-element arrays): cfg->box_low/high when given, else, with @p own (a rule
   has NaN bounds), each sample's own min and max, computed into lo[nb], hi[nb]. The pointers
   stay valid until xai_lrp_zbox_clear(ws), which the caller calls before they go. */
void xai_lrp_zbox_frame(xai_workspace *ws, const xai_explain_config *cfg, int own, int64_t b0, int64_t nb,
                        int64_t nin, const float *xs, float *lo, float *hi);
void xai_lrp_zbox_clear(xai_workspace *ws);
/* Relevance through nodes hi, hi-1, ..., lo (reverse topological order). */
xai_status xai_lrp_sweep_nodes(const xai_model *m, xai_workspace *ws, const xai_rule *rules, int hi, int lo);
/* prefault.c: the library's code and the stacks of the threads that explain mapped now, while a
   model is prepared, so that its first explanation takes no page fault there. */
void xai_prefault_explain(void);

#endif
