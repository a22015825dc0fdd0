/*
 * NVC_VEC_CLONES: a target_clones attribute that builds a loop for AVX-512
 * and AVX2 next to the baseline (chosen at load time). Only for loops whose
 * results do not depend on the instruction set: integer arithmetic, or float
 * loops written so that every lane computes the same operations in the same
 * order as the scalar code.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NN_CLONES_H
#define NVC_NN_CLONES_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && __GNUC__ >= 12 && \
    !defined(__SANITIZE_ADDRESS__)
#define NVC_VEC_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NVC_VEC_CLONES
#endif

#endif
