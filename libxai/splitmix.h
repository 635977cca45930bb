/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * splitmix.h - SplitMix64 (Steele, Lea & Flood 2014; constants as in Vigna's reference
 * implementation), the one generator behind libxai's seeded randomness: weight initialisation,
 * shuffling, dropout seeds, SmoothGrad noise, perturbation orders, SpRAy. Private to libxai.
 */
#ifndef XAI_SPLITMIX_H
#define XAI_SPLITMIX_H

#include <stdint.h>

/* next value of the stream whose state is *s */
static inline uint64_t xai_splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* stateless: the value a stream in state z would give next (a 64-bit mixing function) */
static inline uint64_t xai_mix64(uint64_t z)
{
    return xai_splitmix64(&z);
}

/* uniform in [0, 1) from 53 random bits */
static inline double xai_splitmix_unit(uint64_t *s)
{
    return (double)(xai_splitmix64(s) >> 11) * (1.0 / 9007199254740992.0);
}

#endif
