/*
 * Branch-free float math that compilers vectorize (no libm calls), for the
 * activation loops, and a target_clones attribute that builds those loops for
 * AVX-512 and AVX2 next to the baseline (chosen at load time).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NN_VMATH_H
#define NVC_NN_VMATH_H

#include <stdint.h>
#include <string.h>

#include "nn/clones.h"

static inline float nvc_bits_float(int32_t i)
{
    float f;
    memcpy(&f, &i, 4);
    return f;
}

static inline int32_t nvc_float_bits(float f)
{
    int32_t i;
    memcpy(&i, &f, 4);
    return i;
}

/* e^x, relative error about 2e-7 on [-87, 88]; clamped outside (so e^-inf
 * gives about 1.6e-38 instead of 0). NaN is taken as -87: the float to int
 * conversion below must never see it (a hostile model can make NaNs). */
static inline float nvc_vexpf(float x)
{
    x = x > -87.0f ? x : -87.0f;
    x = x < 88.0f ? x : 88.0f;
    /* n = round(x / ln 2) by the 1.5 * 2^23 trick; r = x - n ln 2 in two parts */
    float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693145751953125f - n * 1.428606765330187e-6f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 +
              r * (1.0f / 720 + r * (1.0f / 5040)))))));
    uint32_t scale = (uint32_t)(int32_t)n << 23; /* 2^n added to the exponent (mod 2^32, no UB) */
    return nvc_bits_float((int32_t)((uint32_t)nvc_float_bits(p) + scale));
}

/* erfc(z) for z >= 0 with relative error below 1.2e-7 (the Chebyshev fit of
 * Press et al., Numerical Recipes, "erfcc"), plus float rounding. */
static inline float nvc_verfcf_pos(float z)
{
    float t = 1.0f / (1.0f + 0.5f * z);
    float q = -1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f +
              t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
    return t * nvc_vexpf(-z * z + q);
}

/* Phi(x), the standard normal CDF: accurate in relative terms in the lower
 * tail too (GELU's x * Phi(x) for negative x). */
static inline float nvc_vnormcdf(float x)
{
    float e = 0.5f * nvc_verfcf_pos((x < 0.0f ? -x : x) * 0.70710678f);
    return x >= 0.0f ? 1.0f - e : e;
}

#endif /* NVC_NN_VMATH_H */
