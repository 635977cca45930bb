/* SPDX-License-Identifier: GPL-3.0-or-later */
/* card-cmd.h - the "card" subcommand of xai-train (card.c). */
#ifndef XAI_TRAIN_CARD_CMD_H
#define XAI_TRAIN_CARD_CMD_H

#include "app.h"

/* argv[0] is "card"; returns the exit code. */
int xai_train_card_main(xai_app *app, int argc, char **argv);

#endif
