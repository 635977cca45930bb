/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * api.h - symbol visibility for the public API.
 * The library is built with -fvisibility=hidden; only XAI_API symbols are exported.
 */
#ifndef XAI_API_H
#define XAI_API_H

#if defined(XAI_BUILDING_LIBRARY) && defined(__GNUC__)
#define XAI_API __attribute__((visibility("default")))
#else
#define XAI_API
#endif

#endif /* XAI_API_H */
