/*
 * Reference (libm, double) definitions of the fixed-point tables in
 * entropy/tables.c. Only the generator (entropy/gen_tables.c) and the test
 * that rebuilds the tables include this file: the library itself never calls
 * libm for anything a decoder uses.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_ENTROPY_TABLES_REF_H
#define NVC_ENTROPY_TABLES_REF_H

#include <math.h>
#include <stdint.h>

#include "entropy/dist.h"

/* Upper tail of the standard normal, Q(z) = erfc(z / sqrt 2) / 2, at
 * z = i / 2^NVC_NORMAL_GRID_LOG2, in units of 2^-32, rounded to nearest. */
static inline uint32_t nvc_ref_normal_tail(int i)
{
    double z = ldexp((double)i, -NVC_NORMAL_GRID_LOG2);
    double q = 0.5 * erfc(z / sqrt(2.0));
    return (uint32_t)floor(ldexp(q, 32) + 0.5);
}

/* 2^(-i/256) in units of 2^-31, rounded to nearest (i = 0..256). */
static inline uint32_t nvc_ref_exp2_neg(int i)
{
    return (uint32_t)floor(ldexp(exp2(-(double)i / 256.0), 31) + 0.5);
}

#endif /* NVC_ENTROPY_TABLES_REF_H */
