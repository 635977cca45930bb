/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-opensim.c - libFuzzer target for the OpenSim text readers: every input is parsed
 * both as a .trc marker file and as a .mot storage file.
 */
#include <stdint.h>
#include <stdlib.h>

#include "xai/opensim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xai_trc *t = NULL;
    if (xai_trc_open_mem(data, size, "fuzz.trc", &t) == XAI_OK) {
        if (t->nmarkers > 0)
            (void)xai_trc_marker_index(t, t->markers[0]);
        xai_trc_close(t);
    }
    xai_mot *m = NULL;
    if (xai_mot_open_mem(data, size, "fuzz.mot", &m) == XAI_OK) {
        (void)xai_mot_column(m, "time");
        (void)xai_mot_header(m, "nRows");
        xai_mot_close(m);
    }
    return 0;
}
