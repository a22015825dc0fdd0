/*
 * CUDA against the CPU reference for every nn op (forward and backward, small
 * and realistic shapes, NMSE bound, NaN/inf mismatch), the tensor ops, Adam
 * and whole training steps of the small HNeRV-shaped model. Plain C (no
 * Check) so that tests/gpu/run.sh can build it without autotools.
 *   test_nn_cuda            the comparison (exit 77 without a GPU)
 *   test_nn_cuda --bench    also time training steps, CPU against CUDA
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/cuda/cuda.h"
#include "nn/nn.h"
#include "tests/nn_cases.h"
#include "tests/nn_model.h"

/* Normalized mean squared error bound (ggml's test-backend-ops uses 1e-7 by
 * default; float sums in another order stay far below this). */
#define MAX_NMSE 1e-6

static int failures;

/* NMSE of a against the reference r; -1 when the NaN/inf pattern differs. */
static double nmse(const float *a, const float *r, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(a[i]) != isfinite(r[i]))
            return -1;
        if (!isfinite(r[i]))
            continue;
        double d = (double)a[i] - r[i];
        num += d * d;
        den += (double)r[i] * r[i];
    }
    return den > 0 ? num / den : num;
}

static void report(const char *name, const char *what, double e)
{
    int ok = e >= 0 && e <= MAX_NMSE;
    if (!ok)
        failures++;
    printf("%-28s %-10s nmse %-10.3g %s\n", name, what, e, ok ? "ok" : e < 0 ? "FAIL (NaN/inf mismatch)" : "FAIL");
}

static float *dev(NvcNn *g, const float *host, size_t n)
{
    float *d = nvc_nn_alloc(g, n ? n : 1);
    if (!d) {
        fprintf(stderr, "out of device memory\n");
        exit(1);
    }
    if (host)
        nvc_nn_upload(g, d, host, n);
    return d;
}

static float *host_copy(NvcNn *g, const float *d, size_t n)
{
    float *h = malloc((n ? n : 1) * sizeof(float));
    nvc_nn_download(g, h, d, n);
    return h;
}

static void compare_case(NvcNn *cpu, NvcNn *gpu, const NnCase *c)
{
    float *in[CASE_MAXIN], *din[CASE_MAXIN], *gin[CASE_MAXIN], *gdin[CASE_MAXIN];
    float *out = calloc(c->out_n, sizeof(float)), *aux = calloc(c->aux_n + 1, sizeof(float));
    float *dout = malloc(c->out_n * sizeof(float));
    for (int k = 0; k < c->nin; k++) {
        in[k] = malloc(c->in_n[k] * sizeof(float));
        din[k] = malloc(c->in_n[k] * sizeof(float));
    }
    case_init_inputs(c, in, 31);
    case_fill(dout, c->out_n, 32, -1.0f, 1.0f);
    for (int k = 0; k < c->nin; k++) {
        for (size_t i = 0; i < c->in_n[k]; i++)
            din[k][i] = 0.25f;
        gin[k] = dev(gpu, in[k], c->in_n[k]);
        gdin[k] = dev(gpu, din[k], c->in_n[k]);
    }
    float *gout = dev(gpu, NULL, c->out_n), *gaux = dev(gpu, NULL, c->aux_n + 1), *gdout = dev(gpu, dout, c->out_n);

    c->fwd(cpu, c, in, out, aux);
    c->bwd(cpu, c, in, out, aux, dout, dout, din);
    c->fwd(gpu, c, gin, gout, gaux);
    c->bwd(gpu, c, gin, gout, gaux, gdout, dout, gdin);
    int ec = nvc_nn_error(cpu), eg = nvc_nn_error(gpu);
    if (ec || eg) {
        printf("%-28s error: cpu %d, cuda %d\n", c->name, ec, eg);
        failures++;
    }
    float *h = host_copy(gpu, gout, c->out_n);
    report(c->name, "forward", nmse(h, out, c->out_n));
    free(h);
    if (c->aux_n) {
        h = host_copy(gpu, gaux, c->aux_n);
        report(c->name, "saved", nmse(h, aux, c->aux_n));
        free(h);
    }
    for (int k = 0; k < c->nin; k++) {
        char what[32];
        snprintf(what, sizeof(what), "grad %d", k);
        h = host_copy(gpu, gdin[k], c->in_n[k]);
        if (!(c->nograd >> k & 1))
            report(c->name, what, nmse(h, din[k], c->in_n[k]));
        free(h);
        nvc_nn_release(gpu, gin[k]);
        nvc_nn_release(gpu, gdin[k]);
        free(in[k]);
        free(din[k]);
    }
    nvc_nn_release(gpu, gout);
    nvc_nn_release(gpu, gaux);
    nvc_nn_release(gpu, gdout);
    free(out), free(aux), free(dout);
}

/* tensor ops and Adam */
static void compare_misc(NvcNn *cpu, NvcNn *gpu)
{
    const size_t n = 100003;
    float *x = malloc(n * sizeof(float)), *g = malloc(n * sizeof(float)), *m = calloc(n, sizeof(float));
    float *v = calloc(n, sizeof(float)), s1, s2;
    case_fill(x, n, 1, -1, 1);
    case_fill(g, n, 2, -1, 1);
    float *gx = dev(gpu, x, n), *gg = dev(gpu, g, n), *gm = dev(gpu, m, n), *gv = dev(gpu, v, n), *gs = dev(gpu, NULL, 1);
    cpu->ops->tensor_sumsq(cpu, &s1, x, n);
    gpu->ops->tensor_sumsq(gpu, gs, gx, n);
    nvc_nn_download(gpu, &s2, gs, 1);
    report("tensor_sumsq", "forward", nmse(&s2, &s1, 1));
    cpu->ops->tensor_scale(cpu, x, 0.7f, n);
    gpu->ops->tensor_scale(gpu, gx, 0.7f, n);
    for (int t = 1; t <= 3; t++) {
        cpu->ops->adam_update(cpu, x, g, m, v, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, t & 1, t);
        gpu->ops->adam_update(gpu, gx, gg, gm, gv, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, t & 1, t);
    }
    float *h = host_copy(gpu, gx, n);
    report("adam_update", "params", nmse(h, x, n));
    free(h);
    h = host_copy(gpu, gv, n);
    report("adam_update", "moment 2", nmse(h, v, n));
    free(h);
    gpu->ops->tensor_copy(gpu, gg, gx, n);
    gpu->ops->tensor_zero(gpu, gx, n);
    h = host_copy(gpu, gg, n);
    report("tensor_copy", "forward", nmse(h, x, n));
    free(h);
    h = host_copy(gpu, gx, n);
    memset(m, 0, n * sizeof(float));
    report("tensor_zero", "forward", nmse(h, m, n));
    free(h);
    nvc_nn_release(gpu, gx), nvc_nn_release(gpu, gg), nvc_nn_release(gpu, gm), nvc_nn_release(gpu, gv);
    nvc_nn_release(gpu, gs);
    free(x), free(g), free(m), free(v);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* A smooth target image (B, 3, H, W). */
static float *make_target(const HnModel *m)
{
    size_t n = (size_t)m->cfg.B * 3 * m->H * m->W;
    float *t = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        size_t x = i % m->W, y = i / m->W % m->H, c = i / ((size_t)m->W * m->H);
        t[i] = 0.5f + 0.4f * sinf(0.05f * x + 0.3f * c) * cosf(0.07f * y);
    }
    return t;
}

/* Train the same model on both backends; compare losses and parameters. */
static void compare_training(NvcNn *cpu, NvcNn *gpu)
{
    HnConfig cfg = { .B = 2, .eh = 3, .ew = 4, .c0 = 32, .nblk = 3, .stride = { 2, 2, 2 }, .reduce = 1.2f, .floor = 8 };
    NvcLrSchedule sched = { .lr = 1e-3f, .warmup = 2, .total = 10 };
    HnModel mc, mg;
    if (hn_create(&mc, cpu, &cfg, sched, 7) || hn_create(&mg, gpu, &cfg, sched, 7)) {
        printf("training: cannot create the model\n");
        failures++;
        return;
    }
    float *t = make_target(&mc), lc = 0, lg = 0;
    size_t n = (size_t)cfg.B * 3 * mc.H * mc.W;
    float *gt = dev(gpu, t, n);
    for (int s = 0; s < 5; s++) {
        lc = hn_train_step(&mc, cpu, t);
        lg = hn_train_step(&mg, gpu, gt);
    }
    report("training (5 steps)", "loss", nmse(&lg, &lc, 1));
    float *h = host_copy(gpu, mg.pbuf, mg.params.size);
    report("training (5 steps)", "params", nmse(h, mc.pbuf, mc.params.size));
    free(h);
    nvc_nn_release(gpu, gt);
    free(t);
    hn_free(&mc, cpu);
    hn_free(&mg, gpu);
}

static double time_steps(HnModel *m, NvcNn *nn, const float *target, int steps)
{
    hn_train_step(m, nn, target); /* warm-up: scratch, cuBLAS */
    double t = now();
    for (int s = 0; s < steps; s++)
        hn_train_step(m, nn, target);
    return (now() - t) / steps;
}

static void bench(NvcNn *cpu, NvcNn *gpu)
{
    static const struct {
        const char *name;
        HnConfig cfg;
    } nets[] = {
        { "hnerv-small 128x128 b2", { .B = 2, .eh = 4, .ew = 4, .c0 = 64, .nblk = 4, .stride = { 4, 2, 2, 2 },
                                      .reduce = 1.2f, .floor = 12 } },
        { "hnerv 320x640 b2", { .B = 2, .eh = 2, .ew = 4, .c0 = 96, .nblk = 5, .stride = { 5, 4, 2, 2, 2 },
                                .reduce = 1.2f, .floor = 12 } },
    };
    printf("\ntraining step (forward + backward + Adam), CPU (%d threads) vs CUDA\n", cpu->threads);
    for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
        NvcLrSchedule sched = { .lr = 1e-3f, .warmup = 10, .total = 1000 };
        HnModel mc, mg;
        if (hn_create(&mc, cpu, &nets[i].cfg, sched, 1) || hn_create(&mg, gpu, &nets[i].cfg, sched, 1)) {
            printf("%s: cannot create the model\n", nets[i].name);
            failures++;
            continue;
        }
        float *t = make_target(&mc);
        size_t n = (size_t)nets[i].cfg.B * 3 * mc.H * mc.W;
        float *gt = dev(gpu, t, n);
        double tc = time_steps(&mc, cpu, t, 3), tg = time_steps(&mg, gpu, gt, 20);
        double gflop = 6.0 * hn_macs(&mc) * nets[i].cfg.B / 1e9; /* 3 passes of 2 flops per MAC */
        printf("%-24s %6.2f GFLOP/step  cpu %8.2f ms (%6.1f GFLOPS)  cuda %7.2f ms (%7.1f GFLOPS)  speed-up %.1fx\n",
               nets[i].name, gflop, tc * 1e3, gflop / tc, tg * 1e3, gflop / tg, tc / tg);
        nvc_nn_release(gpu, gt);
        free(t);
        hn_free(&mc, cpu);
        hn_free(&mg, gpu);
    }
}

int main(int argc, char **argv)
{
    int do_bench = argc > 1 && !strcmp(argv[1], "--bench");
    if (nvc_cuda_device_count() <= 0) {
        fprintf(stderr, "no CUDA device: skipped\n");
        return 77; /* automake: skipped (no tests/common.h: this test builds without Check in tests/gpu/run.sh) */
    }
    char name[256];
    nvc_cuda_device_name(name, sizeof(name));
    NvcNn *cpu = NULL, *gpu = NULL;
    if (nvc_nn_create(&cpu, NVC_NN_CPU, 0, NULL) < 0 || nvc_nn_create(&gpu, NVC_NN_CUDA, 0, NULL) < 0) {
        fprintf(stderr, "cannot create the CPU and CUDA contexts\n");
        return 1;
    }
    printf("CUDA device: %s; CPU reference: %d threads; NMSE bound %g\n\n", name, cpu->threads, MAX_NMSE);
    for (int i = 0; i < nn_ncases; i++)
        compare_case(cpu, gpu, &nn_cases[i]);
    for (int i = 0; i < nn_nbig_cases; i++)
        compare_case(cpu, gpu, &nn_big_cases[i]);
    compare_misc(cpu, gpu);
    compare_training(cpu, gpu);
    printf("\n%s: %d failure(s)\n", failures ? "FAILED" : "all ops agree", failures);
    if (do_bench)
        bench(cpu, gpu);
    nvc_nn_free(&cpu);
    nvc_nn_free(&gpu);
    return failures ? 1 : 0;
}
