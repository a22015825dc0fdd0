/*
 * One test case per op (and per interesting shape): how to make its inputs,
 * run its forward and backward through nn->ops (so the same case runs on the
 * CPU and on CUDA), and a naive double-precision reference of its forward.
 * Used by tests/test_nn_ops.c (finite differences, references) and
 * tests/test_nn_cuda.c (CUDA against the CPU). Plain C, no Check.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_TESTS_NN_CASES_H
#define NVC_TESTS_NN_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"

#define CASE_MAXIN 5

typedef struct NnCase NnCase;
struct NnCase {
    const char *name;
    int nin;                      /* inputs (parameters included) */
    unsigned nograd;              /* bit k: input k has no gradient (targets) */
    size_t in_n[CASE_MAXIN];      /* elements of each input */
    size_t out_n;                 /* elements of the output */
    size_t aux_n;                 /* elements the forward saves besides its output */
    int d[12];                    /* dimensions, per op */
    float f[4];                   /* scalar arguments, per op */
    double fd_h, fd_tol;          /* finite-difference step and tolerance (0: defaults) */
    int ste;                      /* straight-through backward: checked as dinp == dout */
    int fd_naive;                 /* finite differences of the naive (double) forward: for
                                     outputs whose float rounding swamps a small gradient */
    /* inputs: uniform in [-1, 1] unless init is set */
    void (*init)(const NnCase *c, float *const *in, uint64_t seed);
    void (*fwd)(NvcNn *nn, const NnCase *c, float *const *in, float *out, float *aux);
    /* dout and dout_host hold the same values (losses read the scalar from dout_host) */
    void (*bwd)(NvcNn *nn, const NnCase *c, float *const *in, const float *out, const float *aux, const float *dout,
                const float *dout_host, float *const *din);
    void (*naive)(const NnCase *c, float *const *in, double *out);
};

/* Small shapes (finite differences, references) ... */
extern const NnCase nn_cases[];
extern const int nn_ncases;
/* ... and realistic ones: many tiles, blocks and threads (thread counts, CUDA). */
extern const NnCase nn_big_cases[];
extern const int nn_nbig_cases;

/* Uniform values in [lo, hi) from a Philox stream (reproducible). */
void case_fill(float *x, size_t n, uint64_t seed, float lo, float hi);

/* Initialize a case's host inputs (allocated with in_n floats each). */
void case_init_inputs(const NnCase *c, float *const *in, uint64_t seed);

#endif /* NVC_TESTS_NN_CASES_H */
