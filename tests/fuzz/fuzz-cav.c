/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-cav.c - libFuzzer target for the CAV file (xai_cav_file_parse): the input is the JSON
 * text. An accepted file has a layer and finite directions, and its own encoding reads back
 * to the same fields and the same text.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xai.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_number(double a, double b)
{
    return (isnan(a) && isnan(b)) || fabs(a - b) <= 1e-8 * fabs(a) + 1e-300;
}

static void round_trip(const xai_cav_file *c)
{
    char *a = NULL, *b = NULL;
    xai_cav_file c2;
    if (xai_cav_file_to_json(c, &a) != XAI_OK || xai_cav_file_parse(a, strlen(a), "a", &c2) != XAI_OK)
        abort();
    if (c2.dim != c->dim || strcmp(c2.layer, c->layer) || c2.method != c->method || c2.n_clean != c->n_clean ||
        c2.n_artefact != c->n_artefact || !same_number(c2.z_clean, c->z_clean) ||
        !same_number(c2.z_artefact, c->z_artefact) || !same_number(c2.separation_d, c->separation_d))
        abort();
    for (int64_t j = 0; j < c->dim; j++)
        if (c2.v[j] != c->v[j])
            abort(); /* 9 significant digits carry a float exactly */
    if (xai_cav_file_to_json(&c2, &b) != XAI_OK || strcmp(a, b))
        abort();
    xai_free(a);
    xai_free(b);
    xai_cav_file_free(&c2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xai_cav_file c;
    if (xai_cav_file_parse((const char *)data, size, "fuzz.json", &c) != XAI_OK) {
        if (c.v || c.layer || c.dim)
            abort(); /* a refused file leaves nothing behind */
        return 0;
    }
    if (!c.layer || c.dim < 1 || !c.v)
        abort();
    for (int64_t j = 0; j < c.dim; j++)
        if (!isfinite(c.v[j]))
            abort();
    round_trip(&c);
    xai_cav_file_free(&c);
    return 0;
}
