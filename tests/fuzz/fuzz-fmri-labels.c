/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-fmri-labels.c - the fMRI label table (PyMVPA attributes.txt `label chunk`, or a
 * headed table): written to a temporary file and read for a run of as many volumes as the
 * table has lines, with the HRF rule and with a fixed lag; then the mask code of the model
 * card's pre-processing record on the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xai/domain-fmri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char path[] = "/tmp/fuzz-fmri-labels-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(path);
        return 0;
    }
    fwrite(data, 1, size, f);
    fclose(f);
    int64_t nt = 0;
    for (size_t i = 0; i < size; i++)
        nt += data[i] == '\n';
    nt = nt < 1 ? 1 : nt > 4096 ? 4096 : nt;
    /* nt + 1 entries: the second call below claims one volume more than the newlines count */
    int *lab = malloc((size_t)(nt + 1) * sizeof *lab), *ch = malloc((size_t)(nt + 1) * sizeof *ch), nch = 0;
    for (int k = 0; lab && ch && k < 3; k++) {
        xai_fmri_classes cls = {0};
        double lag = k == 0 ? XAI_FMRI_LAG_HRF : k == 1 ? 0.0 : 5.0;
        (void)xai_fmri_label_table(path, nt, 2.0, lag, &cls, lab, ch, &nch);
        (void)xai_fmri_label_table(path, nt + 1, 2.0, lag, &cls, lab, ch, &nch);
        xai_fmri_classes_free(&cls);
    }
    free(lab);
    free(ch);
    unlink(path);
    char *text = malloc(size + 1);
    uint8_t mask[512];
    if (text) {
        memcpy(text, data, size);
        text[size] = '\0';
        (void)xai_fmri_mask_decode(text, (int64_t)sizeof mask, mask);
    }
    free(text);
    return 0;
}
