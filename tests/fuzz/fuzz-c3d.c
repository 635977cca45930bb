/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-c3d.c - libFuzzer target for the C3D reader (xai_c3d_open_mem) and the
 * gait code that runs on what it returns (event recovery, gait cycles).
 */
#include <stdint.h>
#include <stdlib.h>

#include "xai/c3d.h"
#include "xai/domain-gait.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Event recovery in @p mode on a fresh read (it changes the events), then the cycles. */
static void recover_and_cut(const uint8_t *data, size_t size, int mode)
{
    xai_c3d *c = NULL;
    if (xai_c3d_open_mem(data, size, "fuzz", &c) != XAI_OK)
        return;
    xai_c3d_cycle *cy = NULL;
    int n = 0;
    xai_gait_recover_events(c, mode, &n);
    if (xai_c3d_gait_cycles(c, NULL, &cy, &n) == XAI_OK && n > 0) {
        float out[3 * XAI_C3D_CYCLE_POINTS];
        int idx = 0;
        if (c->npoints > 0)
            xai_c3d_cycle_points(c, &cy[0], &idx, 1, out);
        if (c->nanalog > 0)
            xai_c3d_cycle_analog(c, &cy[0], &idx, 1, out);
    }
    free(cy);
    xai_c3d_close(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* both modes on every input: gaps filled from the markers or the angle template (auto),
       and every event from the markers (kinematic) */
    recover_and_cut(data, size, XAI_GAIT_EVENTS_AUTO);
    recover_and_cut(data, size, XAI_GAIT_EVENTS_KINEMATIC);
    return 0;
}
