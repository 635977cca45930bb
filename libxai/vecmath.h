/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * vecmath.h - branch-free float sigmoid and tanh that the compiler can vectorize (libm's expf
 * is a call per element, so loops over gates stay scalar). Private to libxai.
 *
 * They work in double and round once at the end, so they stay within about half an ulp of the
 * correctly rounded float result (LRP with a bias factor amplifies rounding noise of the gates).
 * exp(x), |x| <= 200: x = n ln2 + r with n = round(x / ln2) and |r| <= ln2/2, ln2 split into a
 * high part with n ln2_hi exact and a low part (Cody & Waite 1980); e^r by its Taylor polynomial
 * to r^9 (the first omitted term, r^10/10!, is below 6e-12 relative for |r| <= 0.347); 2^n is
 * built in the exponent bits. Larger |x| are clamped (e^-200 and e^200 already saturate the
 * float results); NaN stays NaN.
 * tanh(x): for |x| < 0.35 the odd Taylor series to x^15 (the omitted x^17 term is below 1e-10
 * relative there); otherwise (1 - e)/(1 + e) with e = exp(-2|x|) <= 0.497, which has no
 * cancellation; the sign is copied back. Both branches are computed and one is selected, which
 * keeps the loop vectorizable.
 */
#ifndef XAI_VECMATH_H
#define XAI_VECMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline double xai_vexp(double x)
{
    const double magic = 6755399441055744.0; /* 1.5 * 2^52: adding it rounds to an integer */
    x = x < -200.0 ? -200.0 : x;
    x = x > 200.0 ? 200.0 : x;
    double t = x * 1.4426950408889634 + magic;
    double n = t - magic;
    double r = x - n * 0.693147180369123816490; /* ln2 high part (exact product for |n| < 2^11) */
    r = r - n * 1.90821492927058770002e-10;     /* ln2 low part */
    double p = 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    uint64_t tb, bits;
    memcpy(&tb, &t, sizeof tb);
    bits = (tb - 0x4338000000000000ull + 1023ull) << 52; /* n + 1023 in the exponent field */
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float xai_vsigmoidf(float x)
{
    return (float)(1.0 / (1.0 + xai_vexp(-(double)x)));
}

static inline float xai_vtanhf(float x)
{
    double ax = fabs((double)x), x2 = ax * ax;
    double ps = -929569.0 / 638512875.0;
    ps = ps * x2 + 21844.0 / 6081075.0;
    ps = ps * x2 - 1382.0 / 155925.0;
    ps = ps * x2 + 62.0 / 2835.0;
    ps = ps * x2 - 17.0 / 315.0;
    ps = ps * x2 + 2.0 / 15.0;
    ps = ps * x2 - 1.0 / 3.0;
    ps = ax + ax * x2 * ps;
    double e = xai_vexp(-2.0 * ax);
    double pl = (1.0 - e) / (1.0 + e);
    double t = ax < 0.35 ? ps : pl;
    return copysignf((float)t, x);
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
