/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * card-int.h - what card.c and card-legacy.c share.
 */
#ifndef XAI_CARD_INT_H
#define XAI_CARD_INT_H

#include <jansson.h>

#include "xai/card.h"

/* Fill the card tree @p root from the metadata keys models had before the card. Values
 * that do not fit the contract are left out rather than failing: an old model must load. */
xai_status xai_card_legacy(const xai_model *m, json_t *root);

/* Turn PascalCase object keys into snake_case, recursively (see card-legacy.c). */
xai_status xai_card_snake_keys(json_t *obj);

#endif /* XAI_CARD_INT_H */
