/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-driver-index.c - libFuzzer target for the driver's fold index (the card's extra.driver
 * object, read by xai_driver_set_load()): the input is the JSON text. An accepted index names
 * only plain files (which are then opened next to the model) and lists strings as groups.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/domain/driver-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    xai_driver_index ix;
    if (xai_driver_index_parse(s, "fuzz.onnx", &ix) == XAI_OK) {
        if (ix.nfolds < 0 || ix.nfolds > 4096)
            abort();
        for (int k = 0; k < ix.nfolds; k++) {
            if (!ix.file[k][0] || strchr(ix.file[k], '/') || !strcmp(ix.file[k], "..") || !strcmp(ix.file[k], "."))
                abort();
            for (int i = 0; i < ix.heldout[k].n; i++)
                if (!ix.heldout[k].v[i])
                    abort();
        }
    }
    xai_driver_index_free(&ix);
    free(s);
    return 0;
}
