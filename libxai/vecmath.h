/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * vecmath.h - branch-free float sigmoid and tanh that the compiler can vectorize (libm's expf
 * is a call per element, so loops over gates stay scalar). Private to libxai.
 *
 * They work in float, eight lanes to a 256-bit vector (double halved the lanes and its
 * divisions cost twice as much), and stay within a few ulp of the correctly rounded result.
 * expf(x): x = n ln2 + r with n = round(x / ln2) and |r| <= ln2/2, ln2 split into a high part
 * with n ln2_hi exact and a low part (Cody & Waite 1980); e^r by its Taylor polynomial to r^7
 * (the first omitted term, r^8/8!, is below 6e-9 relative for |r| <= 0.347, under half a float
 * ulp); 2^n is built in the exponent bits. x is clamped to [-87, 87], where e^x is still a
 * normal float and the sigmoid and tanh results have saturated to the precision that matters;
 * NaN stays NaN.
 * tanh(x): for |x| < 0.35 the odd Taylor series to x^13 (the omitted x^15 term is below 1e-9
 * relative there); otherwise (1 - e)/(1 + e) with e = exp(-2|x|) <= 0.497, which has no
 * cancellation; the sign is copied back. The branches are separate functions so a loop over a
 * vector can skip the one no element needs (xai_vtanh_array).
 */
#ifndef XAI_VECMATH_H
#define XAI_VECMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float xai_vexpf(float x)
{
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    x = x < -87.0f ? -87.0f : x;
    x = x > 87.0f ? 87.0f : x;
    float t = x * 1.44269504f + magic;
    float n = t - magic;
    float r = x - n * 0.693359375f; /* ln2 high part (9 significant bits: exact product) */
    r = r - n * -2.12194440e-4f;    /* ln2 low part */
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    uint32_t tb, bits;
    memcpy(&tb, &t, sizeof tb);
    bits = (tb - 0x4b400000u + 127u) << 23; /* n + 127 in the exponent field */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float xai_vsigmoidf(float x)
{
    return 1.0f / (1.0f + xai_vexpf(-x));
}

/* tanh(|x|) for |x| < 0.35 */
static inline float xai_vtanhf_small(float ax)
{
    float x2 = ax * ax;
    float ps = 21844.0f / 6081075.0f;
    ps = ps * x2 - 1382.0f / 155925.0f;
    ps = ps * x2 + 62.0f / 2835.0f;
    ps = ps * x2 - 17.0f / 315.0f;
    ps = ps * x2 + 2.0f / 15.0f;
    ps = ps * x2 - 1.0f / 3.0f;
    return ax + ax * x2 * ps;
}

/* tanh(|x|) for |x| >= 0.35 */
static inline float xai_vtanhf_large(float ax)
{
    float e = xai_vexpf(-2.0f * ax);
    return (1.0f - e) / (1.0f + e);
}

static inline int xai_vtanh_small(float x)
{
    return fabsf(x) < 0.35f;
}

static inline float xai_vtanhf(float x)
{
    float ax = fabsf(x);
    float t = xai_vtanh_small(x) ? xai_vtanhf_small(ax) : xai_vtanhf_large(ax);
    return copysignf(t, x);
}

/* out[j] = tanh(in[j]), j < n: the same bits as xai_vtanhf, but a branch that no element needs
 * (as for most gate and cell vectors) is not computed */
static inline void xai_vtanh_array(int64_t n, const float *restrict in, float *restrict out)
{
    int64_t ns = 0;
    for (int64_t j = 0; j < n; j++)
        ns += xai_vtanh_small(in[j]);
    if (ns == 0)
        for (int64_t j = 0; j < n; j++)
            out[j] = copysignf(xai_vtanhf_large(fabsf(in[j])), in[j]);
    else if (ns == n)
        for (int64_t j = 0; j < n; j++)
            out[j] = copysignf(xai_vtanhf_small(fabsf(in[j])), in[j]);
    else
        for (int64_t j = 0; j < n; j++)
            out[j] = xai_vtanhf(in[j]);
}

/* Hot loops over floats get AVX-512 and AVX2 clones next to the baseline one, picked at load
 * time (GNU ifunc). Without FMA contraction (ISO C mode, -ffp-contract=off) every clone rounds
 * every operation the same way, so results do not depend on the CPU. */
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones) && !defined(XAI_NO_CLONES)
#define XAI_VEC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef XAI_VEC_CLONES
#define XAI_VEC_CLONES
#endif

#endif
