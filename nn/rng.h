/*
 * Counter-based random numbers (Philox4x32-10, Salmon et al., SC 2011):
 * value i of stream `seed` is a pure function of (seed, i), so the CPU (any
 * thread count) and CUDA draw the same numbers. Header-only, host and device.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NN_RNG_H
#define NVC_NN_RNG_H

#include <stdint.h>

#ifdef __CUDACC__
#define NVC_HD __host__ __device__ __forceinline__
#else
#define NVC_HD static inline
#endif

typedef struct NvcPhilox {
    uint32_t v[4];
} NvcPhilox;

NVC_HD uint32_t nvc_philox_mulhilo(uint32_t a, uint32_t b, uint32_t *hi)
{
    uint64_t p = (uint64_t)a * b;
    *hi = (uint32_t)(p >> 32);
    return (uint32_t)p;
}

/* The 4 words of block `ctr` of stream `key`. */
NVC_HD NvcPhilox nvc_philox4x32(uint64_t key, uint64_t ctr)
{
    uint32_t c0 = (uint32_t)ctr, c1 = (uint32_t)(ctr >> 32), c2 = 0, c3 = 0;
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    for (int r = 0; r < 10; r++) {
        uint32_t hi0, hi1;
        uint32_t lo0 = nvc_philox_mulhilo(0xD2511F53u, c0, &hi0);
        uint32_t lo1 = nvc_philox_mulhilo(0xCD9E8D57u, c2, &hi1);
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    NvcPhilox r = { { c0, c1, c2, c3 } };
    return r;
}

/* Word i of stream key (words 4j..4j+3 come from block j). */
NVC_HD uint32_t nvc_philox_u32(uint64_t key, uint64_t i)
{
    NvcPhilox r = nvc_philox4x32(key, i >> 2);
    return r.v[i & 3];
}

/* Uniform in [0, 1) with 24 random bits: exact in float. */
NVC_HD float nvc_u32_to_unit(uint32_t u)
{
    return (float)(u >> 8) * (1.0f / 16777216.0f);
}

#endif /* NVC_NN_RNG_H */
