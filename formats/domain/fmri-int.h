/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fmri-int.h - what the fMRI domain's writers share (fmri-write.c, fmri-eval.c, fmri-group.c).
 * Private to the formats library.
 */
#ifndef XAI_FMRI_INT_H
#define XAI_FMRI_INT_H

#include <jansson.h>

#include "xai/status.h"

/**
 * Write the JSON sidecar of output @p out ("x.nii.gz", "x.tsv", ... -> "x.json"): the object
 * in @p base_file (may be NULL, e.g. a table's data dictionary), then the members of
 * @p common (JSON object text, may be NULL) and of @p own (consumed), atomically through the
 * formats library's JSON writer.
 */
xai_status fmri_write_sidecar(const char *out, const char *base_file, const char *common, json_t *own);
/** The sidecar path of an output (malloc'ed). */
char *fmri_json_path(const char *out);

#endif
