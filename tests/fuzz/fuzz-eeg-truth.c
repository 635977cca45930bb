/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-eeg-truth.c - the ground-truth table of xai-eeg evaluate (xai_eeg_truth_mask(): a
 * TSV with channels, tmin_s, tmax_s and an optional kind column, user input) against a
 * fixed record (C3, Cz, C4 at 100 Hz, epochs of 2 s from -0.5 s). An accepted table must
 * give a 0/1 mask with at least one 1; a rejected one must leave a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xai/domain-eeg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char path[] = "/tmp/fuzz-eeg-truth-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    FILE *f = fdopen(fd, "wb");
    if (!f || fwrite(data, 1, size, f) != size) {
        if (f)
            fclose(f);
        unlink(path);
        return 0;
    }
    fclose(f);
    static char c0[] = "C3", c1[] = "Cz", c2[] = "C4";
    char *ch[] = {c0, c1, c2};
    xai_eeg_prep p = {.nch = 3, .channels = ch, .rate = 100, .tmin = -0.5, .ntimes = 200};
    static float mask[3 * 200];
    int nreg = -1;
    xai_status st = xai_eeg_truth_mask(&p, path, size % 2 ? "decoy" : NULL, mask, &nreg);
    if (st == XAI_OK) {
        int ones = 0;
        for (int i = 0; i < 3 * 200; i++) {
            if (mask[i] != 0.0f && mask[i] != 1.0f)
                abort();
            ones += mask[i] == 1.0f;
        }
        if (ones == 0 || nreg < 1)
            abort();
    } else if (!xai_last_error() || !*xai_last_error()) {
        abort();
    }
    unlink(path);
    return 0;
}
