/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * atomic.h - the formats library writes every output through a temporary file in the
 * destination directory that is renamed when complete. A program that is terminated by a
 * signal in the middle of such a write can remove those temporary files from its handler.
 */
#ifndef XAI_ATOMIC_H
#define XAI_ATOMIC_H

#include "xai/api.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Unlink the temporary files of writes still in progress (or recently finished; removing
 * those is harmless). Async-signal-safe: call it from a SIGTERM/SIGINT handler.
 */
XAI_API void xai_formats_remove_temps(void);

/** Record / forget a temporary file (used by the writers; programs need not call these). */
XAI_API void xai_formats_track_temp(const char *tmp);
XAI_API void xai_formats_untrack_temp(const char *tmp);

#ifdef __cplusplus
}
#endif

#endif /* XAI_ATOMIC_H */
