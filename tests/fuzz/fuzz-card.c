/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * fuzz-card.c - libFuzzer target for the model card: the input is parsed as a card (and an
 * accepted card must print and parse back to the same text), applied as a --set assignment,
 * and read as each of the older metadata values a model may carry.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xai.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const char *text)
{
    xai_card *c = NULL, *c2 = NULL;
    char *a = NULL, *b = NULL, *w = NULL;
    if (xai_card_from_json(text, &c) != XAI_OK)
        return;
    if (xai_card_to_json(c, 0, &a) != XAI_OK || xai_card_from_json(a, &c2) != XAI_OK ||
        xai_card_to_json(c2, 0, &b) != XAI_OK || strcmp(a, b) != 0)
        abort(); /* a valid card must survive its own encoding */
    if (xai_card_warnings(c, &w, NULL) != XAI_OK)
        abort();
    xai_free(w);
    xai_free(a);
    xai_free(b);
    xai_card_free(c);
    xai_card_free(c2);
}

static void legacy(const char *text)
{
    static xai_model *m;
    static const int64_t shape[2] = {1, 4};
    if (!m && xai_model_from_spec("flatten dense(2)", 2, shape, 1, &m) != XAI_OK)
        abort();
    static const char *const keys[] = {"class_names", "xai_preprocessing", "xai_training", "input_layout"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (xai_model_set_metadata(m, keys[i], text) != XAI_OK)
            abort();
    xai_card *c = NULL;
    if (xai_card_from_model(m, &c) != XAI_OK) /* old metadata must always give a card */
        abort();
    xai_card_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    round_trip(text);
    xai_card *c;
    if (xai_card_new(&c) == XAI_OK) {
        (void)xai_card_set(c, text);
        xai_card_free(c);
    }
    legacy(text);
    free(text);
    return 0;
}
