/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-sidecar.c - libFuzzer target for JSON sidecars: parse (xai_sidecar_load_mem), then
 * serialise the accepted object again, which walks every value.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "xai/sidecar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xai_sidecar *sc;
    char *text;
    if (xai_sidecar_load_mem(data, size, "fuzz.json", &sc) != XAI_OK)
        return 0;
    if (xai_sidecar_to_string(sc, &text) == XAI_OK)
        free(text);
    xai_sidecar_free(sc);
    return 0;
}
