/*
 * Helpers shared by the entropy test suites: a seeded PRNG and samplers.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_TESTS_ENTROPY_COMMON_H
#define NVC_TESTS_ENTROPY_COMMON_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct TestRng {
    uint64_t s;
} TestRng;

static inline uint64_t trng_u64(TestRng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static inline uint32_t trng_below(TestRng *r, uint32_t n)
{
    return (uint32_t)((trng_u64(r) >> 32) * n >> 32);
}

/* Uniform in (0, 1). */
static inline double trng_unif(TestRng *r)
{
    return ((double)(trng_u64(r) >> 11) + 0.5) * 0x1p-53;
}

static inline double trng_gauss(TestRng *r)
{
    return sqrt(-2 * log(trng_unif(r))) * cos(6.283185307179586 * trng_unif(r));
}

static inline double trng_laplace(TestRng *r)
{
    double u = trng_unif(r) - 0.5;
    return u < 0 ? log(1 + 2 * u) : -log(1 - 2 * u);
}

static inline int32_t round_to_i32(double x)
{
    double f = floor(x + 0.5);
    return f >= 2147483647.0 ? INT32_MAX : f <= -2147483648.0 ? INT32_MIN : (int32_t)f;
}

/* Mass of the integer bin v under N(mu, sigma^2), in double (libm). */
static inline double gauss_bin(double v, double mu, double sigma)
{
    double a = (v - 0.5 - mu) / sigma, b = (v + 0.5 - mu) / sigma;
    if (a > 0)
        return 0.5 * (erfc(a / sqrt(2.0)) - erfc(b / sqrt(2.0)));
    return 0.5 * (erfc(-b / sqrt(2.0)) - erfc(-a / sqrt(2.0)));
}

#endif /* NVC_TESTS_ENTROPY_COMMON_H */
