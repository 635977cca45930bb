/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * app-int.h - helpers shared by the files of the app layer (not for programs).
 */
#ifndef XAI_APP_INT_H
#define XAI_APP_INT_H

#include "app.h"

/** Monotonic clock in seconds. */
double xai_app_now(void);
/** Erase a progress bar from the terminal before a message is printed. */
void xai_app_clear_bar(const xai_app *app);


#endif
