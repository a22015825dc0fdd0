/*
 * nn engine on the CPU, in one run:
 *   1. SGEMM GFLOPS of this machine (OpenBLAS on all threads, n = 2048): the baseline;
 *   2. conv 3x3 64 -> 64 at 128x128, batch 2, forward + backward GFLOPS and
 *      its ratio to the baseline (target >= 0.5);
 *   3. a HNeRV-sized conv (5x5, 12 -> 48 channels at 144x144): forward,
 *      input gradient and weight gradient GFLOPS and their ratios to the baseline;
 *   4. one training step of a small HNeRV-shaped network (tests/nn_model.h)
 *      in nvc and in PyTorch (bench/nn_torch.py) on the same threads, and the
 *      ratio (aim >= 1.5).
 * Usage: bench_nn [--threads N] [--steps N] [--no-torch]
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef NVC_HAVE_OPENBLAS
#include <cblas.h>
#endif

#include "bench/torch.h"
#include "codec/internal.h"
#include "nn/cpu.h"
#include "nn/nn.h"
#include "tests/nn_model.h"

#ifndef NVC_SRCDIR
#define NVC_SRCDIR "."
#endif

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* The fastest of n timings: on a shared machine the least disturbed one (every
 * figure below, the baseline included, is a best of several). */
static double best(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        m = fmin(m, v[i]);
    return m;
}

static float *filled(size_t n, float scale)
{
    float *x = nvc_malloc_aligned(n * sizeof(float));
    if (!x) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        x[i] = scale * (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f * scale;
    return x;
}

/* GFLOPS of C = A B at n x n x n: OpenBLAS on its own threads when built
 * with it (the machine's peak), and nvc's fixed-block parallel SGEMM. */
static void bench_sgemm(NvcNn *nn, double *peak, double *ours)
{
    enum { reps = 7 };
    const int n = 2048;
    float *A = filled((size_t)n * n, 1), *B = filled((size_t)n * n, 1), *C = filled((size_t)n * n, 1);
    double t[reps], fl = 2.0 * n * n * n;
#ifdef NVC_HAVE_OPENBLAS
    openblas_set_num_threads(nn->threads);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, A, n, B, n, 0, C, n);
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, A, n, B, n, 0, C, n);
        t[r] = now() - t0;
    }
    openblas_set_num_threads(1);
    *peak = fl / best(t, reps) / 1e9;
#endif
    nvc_sgemm_parallel(nn, 0, 0, n, n, n, 1, A, n, B, n, 0, C, n);
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        nvc_sgemm_parallel(nn, 0, 0, n, n, n, 1, A, n, B, n, 0, C, n);
        t[r] = now() - t0;
    }
    *ours = fl / best(t, reps) / 1e9;
#ifndef NVC_HAVE_OPENBLAS
    *peak = *ours;
#endif
    nvc_free_aligned(A), nvc_free_aligned(B), nvc_free_aligned(C);
}

/* conv 3x3 64 -> 64, 128x128, batch 2, pad 1: forward and backward (input,
 * weight and bias gradients) GFLOPS */
static void bench_conv(NvcNn *nn, double *fwd, double *bwd, double *both)
{
    enum { reps = 7 };
    const int B = 2, C = 64, H = 128, W = 128;
    size_t n = (size_t)B * C * H * W, nw = (size_t)C * C * 9;
    float *x = filled(n, 1), *y = filled(n, 1), *dy = filled(n, 0.1f), *dx = filled(n, 0);
    float *w = filled(nw, 0.1f), *dw = filled(nw, 0), *b = filled(C, 0.1f), *db = filled(C, 0);
    double fl = 2.0 * B * C * H * W * C * 9, tf[reps], tb[reps], tt[reps];
    nn->ops->conv2d_forward(nn, y, x, w, b, B, C, H, W, C, 3, 1, 1, 1);
    nn->ops->conv2d_backward(nn, dy, x, w, dx, dw, db, B, C, H, W, C, 3, 1, 1, 1);
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        nn->ops->conv2d_forward(nn, y, x, w, b, B, C, H, W, C, 3, 1, 1, 1);
        double t1 = now();
        nn->ops->conv2d_backward(nn, dy, x, w, dx, dw, db, B, C, H, W, C, 3, 1, 1, 1);
        double t2 = now();
        tf[r] = t1 - t0, tb[r] = t2 - t1, tt[r] = t2 - t0;
    }
    *fwd = fl / best(tf, reps) / 1e9;
    *bwd = 2 * fl / best(tb, reps) / 1e9;
    *both = 3 * fl / best(tt, reps) / 1e9;
    nvc_free_aligned(x), nvc_free_aligned(y), nvc_free_aligned(dy), nvc_free_aligned(dx);
    nvc_free_aligned(w), nvc_free_aligned(dw), nvc_free_aligned(b), nvc_free_aligned(db);
}

/* GFLOPS of a stride-1 conv (pad K / 2, batch B): forward, input gradient
 * alone, weight gradient alone */
static void bench_conv_parts(NvcNn *nn, int B, int Cin, int H, int W, int Cout, int K, double gf[3])
{
    enum { reps = 5 };
    size_t nx = (size_t)B * Cin * H * W, ny = (size_t)B * Cout * H * W, nw = (size_t)Cout * Cin * K * K;
    float *x = filled(nx, 1), *y = filled(ny, 1), *dy = filled(ny, 0.1f), *dx = filled(nx, 0);
    float *w = filled(nw, 0.1f), *dw = filled(nw, 0), *b = filled(Cout, 0.1f);
    double fl = 2.0 * B * Cout * H * W * Cin * K * K, t[3][reps];
    for (int r = -1; r < reps; r++) {
        double t0 = now();
        nn->ops->conv2d_forward(nn, y, x, w, b, B, Cin, H, W, Cout, K, 1, K / 2, 1);
        double t1 = now();
        nn->ops->conv2d_backward(nn, dy, x, w, dx, NULL, NULL, B, Cin, H, W, Cout, K, 1, K / 2, 1);
        double t2 = now();
        nn->ops->conv2d_backward(nn, dy, x, w, NULL, dw, NULL, B, Cin, H, W, Cout, K, 1, K / 2, 1);
        double t3 = now();
        if (r >= 0)
            t[0][r] = t1 - t0, t[1][r] = t2 - t1, t[2][r] = t3 - t2;
    }
    for (int i = 0; i < 3; i++)
        gf[i] = fl / best(t[i], reps) / 1e9;
    nvc_free_aligned(x), nvc_free_aligned(y), nvc_free_aligned(dy), nvc_free_aligned(dx);
    nvc_free_aligned(w), nvc_free_aligned(dw), nvc_free_aligned(b);
}

/* HNeRV-shaped: embedding 16x4x4 -> strides 4, 2, 2, 2 -> 3x128x128, C0 = 64,
 * widths / 1.2 (floor 12), kernels 1, 3, 5, 5; batch 2 */
static const HnConfig net = { .B = 2, .eh = 4, .ew = 4, .c0 = 64, .nblk = 4, .stride = { 4, 2, 2, 2 },
                              .reduce = 1.2f, .floor = 12 };

/* Best of `rounds` means of `steps` steps (the machine may be shared: the
 * best round is the one least disturbed, for nvc and PyTorch alike). */
static double bench_train(NvcNn *nn, int steps, int rounds, double *gflop)
{
    HnModel m;
    NvcLrSchedule sched = { .lr = 1e-3f, .warmup = 0, .total = 0 };
    if (hn_create(&m, nn, &net, sched, 1) < 0) {
        fprintf(stderr, "cannot create the model\n");
        exit(1);
    }
    size_t n = (size_t)net.B * 3 * m.H * m.W;
    float *target = filled(n, 1);
    for (size_t i = 0; i < n; i++)
        target[i] += 0.5f;
    for (int s = 0; s < 3; s++)
        hn_train_step(&m, nn, target);
    double t = INFINITY;
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        for (int s = 0; s < steps; s++)
            hn_train_step(&m, nn, target);
        t = fmin(t, (now() - t0) / steps);
    }
    *gflop = 6.0 * hn_macs(&m) * net.B / 1e9;
    hn_free(&m, nn);
    nvc_free_aligned(target);
    return t;
}

/* ms per step of the PyTorch twin, or NAN when PyTorch is missing. */
static double bench_torch(int threads, int steps, char *version, size_t vsz)
{
    char args[512];
    int o = snprintf(args, sizeof(args), "nn_torch.py %d %d %d %d %d %g %d", threads, net.B, net.eh, net.ew, net.c0,
                     net.reduce, net.floor);
    for (int k = 0; k < net.nblk; k++)
        o += snprintf(args + o, sizeof(args) - o, " %d", net.stride[k]);
    snprintf(args + o, sizeof(args) - o, " -- %d 3", steps);
    return bench_torch_ms(threads, args, "ms_per_step", version, vsz);
}

int main(int argc, char **argv)
{
    int threads = 0, steps = 10, torch = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-torch"))
            torch = 0;
        else {
            fprintf(stderr, "usage: %s [--threads N] [--steps N] [--no-torch]\n", argv[0]);
            return 2;
        }
    }
    NvcNn *nn = NULL;
    if (nvc_nn_create(&nn, NVC_NN_CPU, threads, NULL) < 0)
        return 1;
    if (steps < 1)
        steps = 1;
    printf("nn CPU benchmark, %d threads\n", nn->threads);

    double peak, ours, fwd, bwd, both;
    bench_sgemm(nn, &peak, &ours);
#ifdef NVC_HAVE_OPENBLAS
    printf("sgemm 2048^3, OpenBLAS on %d threads:   %7.1f GFLOPS (baseline)\n", nn->threads, peak);
#else
    printf("sgemm 2048^3, built-in (no OpenBLAS):   %7.1f GFLOPS (baseline)\n", peak);
#endif
    printf("sgemm 2048^3, nvc fixed blocks:         %7.1f GFLOPS (%.2f of baseline)\n", ours, ours / peak);
    bench_conv(nn, &fwd, &bwd, &both);
    printf("conv 3x3 64->64 128x128 b2 forward:     %7.1f GFLOPS\n", fwd);
    printf("conv 3x3 64->64 128x128 b2 backward:    %7.1f GFLOPS\n", bwd);
    printf("conv 3x3 64->64 128x128 b2 fwd+bwd:     %7.1f GFLOPS, ratio to sgemm %.2f (target >= 0.5)\n", both,
           both / peak);

    double gf[3];
    bench_conv_parts(nn, 2, 12, 144, 144, 48, 5, gf);
    printf("conv 5x5 12->48 144x144 b2 (HNeRV):     %7.1f GFLOPS forward (%.2f of sgemm), %.1f input grad (%.2f), "
           "%.1f weight grad (%.2f)\n", gf[0], gf[0] / peak, gf[1], gf[1] / peak, gf[2], gf[2] / peak);

    double gflop, t = bench_train(nn, steps, 2, &gflop);
    double ms = NAN;
    char version[128];
    if (torch)
        ms = bench_torch(nn->threads, steps, version, sizeof(version));
    t = fmin(t, bench_train(nn, steps, 1, &gflop)); /* once more after PyTorch: best of 3 rounds */
    printf("HNeRV-shaped step (16x4x4 -> 3x128x128, C0 64, strides 4,2,2,2, batch 2, %.2f GFLOP), best of 3 rounds of %d:\n",
           gflop, steps);
    printf("  nvc:     %8.2f ms/step (%.1f GFLOPS)\n", t * 1e3, gflop / t);
    if (torch) {
        if (isnan(ms))
            printf("  PyTorch: not available (python3 with torch; set NVC_PYTHON)\n");
        else
            printf("  PyTorch: %8.2f ms/step (%s); nvc is %.2fx faster (aim >= 1.5)\n", ms, version,
                   ms / (t * 1e3));
    }
    nvc_nn_free(&nn);
    return 0;
}
