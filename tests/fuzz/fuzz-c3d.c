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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xai_c3d *c = NULL;
    if (xai_c3d_open_mem(data, size, "fuzz", &c) == XAI_OK) {
        xai_c3d_cycle *cy = NULL;
        int n = 0;
        /* the event recovery on what the reader returns (the marker path changes the events) */
        xai_gait_recover_events(c, size % 2 ? XAI_GAIT_EVENTS_KINEMATIC : XAI_GAIT_EVENTS_AUTO, &n);
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
    return 0;
}
