/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gen-rng.h - the deterministic random numbers of the dataset generators (gen_eeg, gen_fmri,
 * gen_gait): SplitMix64 (Steele, Lea & Flood 2014) in a global state that each generator seeds,
 * uniforms from its top 53 bits, and normal deviates by Box-Muller. One program includes it once.
 */
#ifndef GEN_RNG_H
#define GEN_RNG_H

#include <math.h>
#include <stdint.h>

static uint64_t rng_state;

static uint64_t rng_u64(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* uniform in (0, 1) */
static double rng_uniform(void)
{
    return ((double)(rng_u64() >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(void)
{
    double u = rng_uniform(), v = rng_uniform();
    return sqrt(-2.0 * log(u)) * cos(2.0 * 3.14159265358979323846 * v);
}

#endif
