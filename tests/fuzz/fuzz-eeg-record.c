/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-eeg-record.c - xai-eeg's preprocessing record (the JSON a model carries in
 * metadata_props "xai_preprocessing", i.e. untrusted input at explain time): parse it and,
 * when it is accepted, apply it to a small fixed recording (channels C3, Cz, C4 at 100 Hz,
 * 10 s, events A at 1 s and B at 4 s), as explain does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xai/domain-eeg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    xai_eeg_prep p;
    if (xai_eeg_prep_from_json(text, "fuzz", &p) == XAI_OK) {
        static char l0[] = "C3", l1[] = "Cz", l2[] = "C4", u[] = "uV", ta[] = "A", tb[] = "B";
        char *labels[] = {l0, l1, l2}, *units[] = {u, u, u};
        xai_eeg_event ev[] = {{.onset_s = 1.0, .duration_s = 2.0, .text = ta}, {.onset_s = 4.0, .text = tb}};
        enum { N = 1000 };
        static float d[3 * N];
        for (int i = 0; i < 3 * N; i++)
            d[i] = (float)((i * 7919) % 101) - 50.0f;
        xai_eeg_raw raw = {.nch = 3, .labels = labels, .units = units, .rate = 100, .n = N, .data = d,
                       .nev = 2, .ev = ev};
        xai_eeg_epochs e;
        if (xai_eeg_epochs_make(&p, &raw, "fuzz", &e) == XAI_OK)
            xai_eeg_epochs_free(&e);
        char *again = xai_eeg_prep_to_json(&p);
        free(again);
        xai_eeg_prep_free(&p);
    }
    free(text);
    return 0;
}
