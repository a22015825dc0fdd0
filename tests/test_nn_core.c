/*
 * nn engine infrastructure: the same bits for any thread count, SGEMM,
 * arenas and initializers, Adam, schedules, clipping, checkpoints.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"

#include <math.h>

#include "codec/internal.h"
#include "codec/crc.h"
#include "nn/checkpoint.h"
#include "nn/cpu.h"
#include "nn/nn.h"
#include "nn/optim.h"
#include "nn/rng.h"
#include "tests/nn_cases.h"

static NvcNn *nn_cpu(int threads)
{
    NvcNn *nn = NULL;
    ck_assert_int_eq(nvc_nn_create(&nn, NVC_NN_CPU, threads, NULL), 0);
    return nn;
}

/* ---- determinism across thread counts -------------------------------------------------- */

typedef struct Run {
    float *in[CASE_MAXIN], *din[CASE_MAXIN], *out, *aux, *dout;
} Run;

static void run_case(const NnCase *c, int threads, Run *r)
{
    NvcNn *nn = nn_cpu(threads);
    for (int k = 0; k < c->nin; k++) {
        r->in[k] = malloc(c->in_n[k] * sizeof(float));
        r->din[k] = calloc(c->in_n[k], sizeof(float));
        ck_assert(r->in[k] && r->din[k]);
    }
    r->out = calloc(c->out_n, sizeof(float));
    r->dout = malloc(c->out_n * sizeof(float));
    r->aux = calloc(c->aux_n + 1, sizeof(float));
    ck_assert(r->out && r->dout && r->aux);
    case_init_inputs(c, r->in, 77);
    case_fill(r->dout, c->out_n, 78, -1.0f, 1.0f);
    c->fwd(nn, c, r->in, r->out, r->aux);
    c->bwd(nn, c, r->in, r->out, r->aux, r->dout, r->dout, r->din);
    ck_assert_int_eq(nvc_nn_error(nn), 0);
    nvc_nn_free(&nn);
}

static void run_free(const NnCase *c, Run *r)
{
    for (int k = 0; k < c->nin; k++) {
        free(r->in[k]);
        free(r->din[k]);
    }
    free(r->out);
    free(r->dout);
    free(r->aux);
}

static void check_threads(const NnCase *c)
{
    static const int threads[] = { 2, 3, 5 };
    Run r1;
    run_case(c, 1, &r1);
    for (size_t t = 0; t < NVC_ARRAY_SIZE(threads); t++) {
        Run r;
        run_case(c, threads[t], &r);
        ck_assert_msg(!memcmp(r.out, r1.out, c->out_n * sizeof(float)), "%s: output differs with %d threads",
                      c->name, threads[t]);
        ck_assert_msg(!memcmp(r.aux, r1.aux, c->aux_n * sizeof(float)), "%s: saved values differ", c->name);
        for (int k = 0; k < c->nin; k++)
            ck_assert_msg(!memcmp(r.din[k], r1.din[k], c->in_n[k] * sizeof(float)),
                          "%s: gradient of input %d differs with %d threads", c->name, k, threads[t]);
        run_free(c, &r);
    }
    run_free(c, &r1);
}

START_TEST(test_threads_small)
{
    check_threads(&nn_cases[_i]);
}
END_TEST

START_TEST(test_threads_big)
{
    check_threads(&nn_big_cases[_i]);
}
END_TEST

/* ---- fused ops: the bits of the ops they replace ------------------------------------------- */

START_TEST(test_pixel_shuffle_act_bits)
{
    /* B C H W s: rows wider than one pass of the fused op (1024 columns), s = 2, 3, 4 */
    static const int shapes[][5] = { { 2, 3, 5, 700, 2 }, { 1, 2, 4, 7, 3 }, { 1, 5, 3, 9, 4 } };
    NvcNn *nn = nn_cpu(2);
    for (size_t t = 0; t < NVC_ARRAY_SIZE(shapes); t++)
        for (int act = NVC_ACT_GELU; act <= NVC_ACT_SILU; act++) {
            const int *d = shapes[t];
            size_t n = (size_t)d[0] * d[1] * d[2] * d[3] * d[4] * d[4];
            float *x = malloc(n * 4), *dy = malloc(n * 4), *ps = malloc(n * 4), *y0 = malloc(n * 4);
            float *y1 = malloc(n * 4), *dps = calloc(n, 4), *dx0 = malloc(n * 4), *dx1 = malloc(n * 4);
            ck_assert(x && dy && ps && y0 && y1 && dps && dx0 && dx1);
            case_fill(x, n, 61 + t, -4, 4);
            case_fill(dy, n, 71 + t, -1, 1);
            case_fill(dx0, n, 81 + t, -1, 1); /* both accumulate onto the same values */
            memcpy(dx1, dx0, n * 4);
            nvc_pixel_shuffle_forward(nn, ps, x, d[0], d[1], d[2], d[3], d[4]);
            (act == NVC_ACT_GELU ? nvc_gelu_forward : nvc_silu_forward)(nn, y0, ps, n);
            (act == NVC_ACT_GELU ? nvc_gelu_backward : nvc_silu_backward)(nn, dy, ps, dps, n);
            nvc_pixel_shuffle_backward(nn, dps, dx0, d[0], d[1], d[2], d[3], d[4]);
            nvc_pixel_shuffle_act_forward(nn, y1, x, d[0], d[1], d[2], d[3], d[4], act);
            nvc_pixel_shuffle_act_backward(nn, dy, x, dx1, d[0], d[1], d[2], d[3], d[4], act);
            ck_assert_int_eq(nvc_nn_error(nn), 0);
            ck_assert_msg(!memcmp(y0, y1, n * 4), "shape %zu act %d: forward differs", t, act);
            ck_assert_msg(!memcmp(dx0, dx1, n * 4), "shape %zu act %d: backward differs", t, act);
            free(x), free(dy), free(ps), free(y0), free(y1), free(dps), free(dx0), free(dx1);
        }
    nvc_pixel_shuffle_act_forward(nn, NULL, NULL, 1, 1, 1, 1, 2, 7);
    ck_assert_int_ne(nvc_nn_error(nn), 0); /* an unknown activation is refused */
    nvc_nn_free(&nn);
}
END_TEST

/* ---- SGEMM ----------------------------------------------------------------------------------- */

static void gemm_ref(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                     int ldb, float beta, const float *C0, int ldc, double *R)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)(ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]) *
                     (tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]);
            R[(size_t)i * ldc + j] = alpha * s + (beta != 0.0f ? beta * C0[(size_t)i * ldc + j] : 0.0);
        }
}

START_TEST(test_sgemm)
{
    const int M = 37, N = 53, K = 300, ld = 320;
    float *A = malloc((size_t)ld * ld * sizeof(float)), *B = malloc((size_t)ld * ld * sizeof(float));
    float *C = malloc((size_t)M * ld * sizeof(float)), *C0 = malloc((size_t)M * ld * sizeof(float));
    double *R = malloc((size_t)M * ld * sizeof(double));
    ck_assert(A && B && C && C0 && R);
    case_fill(A, (size_t)ld * ld, 1, -1, 1);
    case_fill(B, (size_t)ld * ld, 2, -1, 1);
    case_fill(C0, (size_t)M * ld, 3, -1, 1);
    for (int impl = 0; impl < 2; impl++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (int bi = 0; bi < 3; bi++) {
                    float beta = bi == 0 ? 0.0f : bi == 1 ? 1.0f : -0.5f, alpha = 0.75f;
                    memcpy(C, C0, (size_t)M * ld * sizeof(float));
                    if (beta == 0.0f)
                        for (int i = 0; i < M * ld; i++)
                            C[i] = NAN; /* beta = 0 must ignore C */
                    (impl ? nvc_sgemm_builtin : nvc_sgemm)(ta, tb, M, N, K, alpha, A, ld, B, ld, beta, C, ld);
                    gemm_ref(ta, tb, M, N, K, alpha, A, ld, B, ld, beta, C0, ld, R);
                    for (int i = 0; i < M; i++)
                        for (int j = 0; j < N; j++)
                            ck_assert_msg(fabs(C[i * ld + j] - R[i * ld + j]) < 1e-4,
                                          "sgemm impl %d ta %d tb %d beta %g: C[%d][%d] = %g, expected %g", impl, ta,
                                          tb, beta, i, j, C[i * ld + j], R[i * ld + j]);
                }
    free(A), free(B), free(C), free(C0), free(R);
}
END_TEST

/* OpenBLAS's own threads split some products differently for another thread
 * count (measured: 93% of the elements of a 333x777x999 product differ
 * between 1 and 2 threads), so the ops call it single-threaded and split the
 * work themselves at fixed boundaries: the same bits for any thread count. */
START_TEST(test_sgemm_threads)
{
    const int M = 333, N = 777, K = 999;
    float *A = malloc((size_t)M * K * sizeof(float)), *B = malloc((size_t)K * N * sizeof(float));
    float *C1 = malloc((size_t)M * N * sizeof(float)), *C = malloc((size_t)M * N * sizeof(float));
    ck_assert(A && B && C1 && C);
    case_fill(A, (size_t)M * K, 11, -1, 1);
    case_fill(B, (size_t)K * N, 12, -1, 1);
    for (int t = 1; t <= 4; t++) {
        NvcNn *nn = nn_cpu(t);
        nvc_sgemm_parallel(nn, 0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, t == 1 ? C1 : C, N);
        if (t > 1)
            ck_assert_msg(!memcmp(C, C1, (size_t)M * N * sizeof(float)), "%d threads differ", t);
        nvc_nn_free(&nn);
    }
    free(A), free(B), free(C1), free(C);
}
END_TEST

/* ---- direct convs: every kernel set gives the bits of a plain chain of fmaf ------------------- */

/* y = (acc ? y : bias) + fmaf chain over (cl, ky, kx) from 0, padding read as 0; flip: the weights of
 * the conv whose input gradient this is */
static void direct_ref(float *y, const float *x, const float *w, const float *bias, const int *d, int acc,
                       int flip)
{
    int B = d[0], Cin = d[1], H = d[2], W = d[3], Cout = d[4], K = d[5], p = d[6], G = d[7];
    int Ho = H + 2 * p - K + 1, Wo = W + 2 * p - K + 1, cig = Cin / G, cog = Cout / G, kk = K * K;
    for (int b = 0; b < B; b++)
        for (int co = 0; co < Cout; co++)
            for (int oy = 0; oy < Ho; oy++)
                for (int ox = 0; ox < Wo; ox++) {
                    float a = 0.0f;
                    int g = co / cog;
                    for (int cl = 0; cl < cig; cl++)
                        for (int k = 0; k < kk; k++) {
                            int iy = oy - p + k / K, ix = ox - p + k % K;
                            float xv = iy < 0 || iy >= H || ix < 0 || ix >= W
                                           ? 0.0f
                                           : x[(((size_t)b * Cin + g * cig + cl) * H + iy) * W + ix];
                            size_t wi = flip ? (((size_t)g * cig + cl) * cog + co % cog) * kk + kk - 1 - k
                                             : ((size_t)co * cig + cl) * kk + k;
                            a = fmaf(w[wi], xv, a);
                        }
                    float *o = y + (((size_t)b * Cout + co) * Ho + oy) * Wo + ox;
                    *o = acc ? *o + a : bias ? bias[co] + a : a;
                }
}

START_TEST(test_conv_direct)
{
    /* B Cin H W Cout K pad G */
    static const int shapes[][8] = {
        { 2, 5, 11, 19, 13, 5, 2, 1 }, { 1, 6, 9, 33, 4, 3, 0, 2 }, { 1, 12, 20, 37, 48, 5, 2, 1 },
        { 1, 4, 7, 150, 3, 3, 1, 1 },  { 1, 3, 12, 5, 17, 11, 5, 1 }, { 1, 9, 30, 30, 6, 7, 3, 3 },
        /* weight gradients vectorized over output channels: blocks of 2 and 3 vectors (70 padded to 80); 2 groups of 32 */
        { 1, 5, 9, 21, 70, 3, 1, 1 },  { 2, 8, 7, 13, 64, 5, 2, 2 },
    };
    NvcNn *nn = nn_cpu(3);
    for (size_t s = 0; s < NVC_ARRAY_SIZE(shapes); s++) {
        const int *d = shapes[s];
        int Ho = d[2] + 2 * d[6] - d[5] + 1, Wo = d[3] + 2 * d[6] - d[5] + 1;
        size_t nx = (size_t)d[0] * d[1] * d[2] * d[3], nw = (size_t)d[4] * d[1] / d[7] * d[5] * d[5];
        size_t ny = (size_t)d[0] * d[4] * Ho * Wo;
        float *x = malloc(nx * 4), *w = malloc(nw * 4), *bias = malloc(d[4] * 4), *y0 = malloc(ny * 4);
        float *ref = malloc(ny * 4), *y = malloc(ny * 4);
        ck_assert(x && w && bias && y0 && ref && y);
        case_fill(x, nx, 21 + s, -1, 1);
        case_fill(w, nw, 31 + s, -0.5f, 0.5f);
        case_fill(bias, d[4], 41 + s, -1, 1);
        case_fill(y0, ny, 51 + s, -1, 1);
        for (int mode = 0; mode < 3; mode++) { /* bias; no bias; accumulate with flipped weights */
            int flags = mode == 2 ? NVC_CONV_ACCUMULATE | NVC_CONV_FLIPPED : 0;
            memcpy(ref, y0, ny * 4);
            direct_ref(ref, x, w, mode ? NULL : bias, d, mode == 2, mode == 2);
            for (int isa = NVC_CONV_DIRECT_C; isa <= NVC_CONV_DIRECT_AVX512; isa++) {
                if (nvc_conv2d_direct_set_isa(isa) != isa)
                    continue; /* not on this CPU */
                memcpy(y, y0, ny * 4);
                nvc_conv2d_direct(nn, y, x, w, mode ? NULL : bias, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7],
                                  flags);
                ck_assert_int_eq(nvc_nn_error(nn), 0);
                for (size_t i = 0; i < ny; i++)
                    ck_assert_msg(!memcmp(&y[i], &ref[i], 4), "shape %zu mode %d isa %d: y[%zu] = %a, expected %a",
                                  s, mode, isa, i, y[i], ref[i]);
            }
            nvc_conv2d_direct_set_isa(NVC_CONV_DIRECT_AVX512);
        }
        /* weight gradient (dout = y0): the same bits for every kernel set, close to a double-precision sum */
        float *dw = calloc(nw, 4), *dw1 = calloc(nw, 4);
        ck_assert(dw && dw1);
        for (int isa = NVC_CONV_DIRECT_C; isa <= NVC_CONV_DIRECT_AVX512; isa++) {
            if (nvc_conv2d_direct_set_isa(isa) != isa)
                continue;
            float *t = isa == NVC_CONV_DIRECT_C ? dw1 : dw;
            for (size_t i = 0; i < nw; i++)
                t[i] = 0.25f;
            nvc_conv2d_direct_backward_weight(nn, y0, x, t, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]);
            ck_assert_int_eq(nvc_nn_error(nn), 0);
            if (isa != NVC_CONV_DIRECT_C)
                ck_assert_msg(!memcmp(dw, dw1, nw * 4), "shape %zu: weight gradient of isa %d differs", s, isa);
        }
        nvc_conv2d_direct_set_isa(NVC_CONV_DIRECT_AVX512);
        /* 1 and 7 threads split the work into other units (runs of output
         * channels, ranges of input channels): the bits of every kernel set */
        for (int th = 1; th <= 7; th += 6) {
            NvcNn *nt = nn_cpu(th);
            float *t = calloc(nw, 4);
            ck_assert(t);
            for (size_t i = 0; i < nw; i++)
                t[i] = 0.25f;
            nvc_conv2d_direct_backward_weight(nt, y0, x, t, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]);
            ck_assert_msg(!memcmp(t, dw1, nw * 4),
                          "shape %zu: weight gradient on %d threads differs", s, th);
            free(t);
            nvc_nn_free(&nt);
        }
        int K = d[5], p = d[6], G = d[7], cig = d[1] / G, cog = d[4] / G;
        for (int co = 0; co < d[4]; co++)
            for (int cl = 0; cl < cig; cl++)
                for (int k = 0; k < K * K; k++) {
                    double a = 0.25;
                    for (int b = 0; b < d[0]; b++)
                        for (int oy = 0; oy < Ho; oy++)
                            for (int ox = 0; ox < Wo; ox++) {
                                int iy = oy - p + k / K, ix = ox - p + k % K;
                                if (iy >= 0 && iy < d[2] && ix >= 0 && ix < d[3])
                                    a += (double)y0[(((size_t)b * d[4] + co) * Ho + oy) * Wo + ox] *
                                         x[(((size_t)b * d[1] + co / cog * cig + cl) * d[2] + iy) * d[3] + ix];
                            }
                    size_t i = ((size_t)co * cig + cl) * K * K + k;
                    ck_assert_msg(fabs(dw1[i] - a) < 1e-4 * (1 + fabs(a)), "shape %zu: dw[%zu] = %g, expected %g", s,
                                  i, dw1[i], a);
                }
        free(dw), free(dw1);
        free(x), free(w), free(bias), free(y0), free(ref), free(y);
    }
    nvc_nn_free(&nn);
}
END_TEST

/* ---- arenas and initializers ---------------------------------------------------------------- */

typedef struct Toy {
    float *conv_w; /* (C, 3, 3, 3) */
    float *conv_b; /* (C) */
    struct {
        float *w;  /* (C, C, 1, 1) */
        float *b;  /* (C) */
    } blk[3];
    float *head;   /* (3, C) */
} Toy;

static void toy_tensors(NvcArena *a, Toy *t, int C, int nblk)
{
    t->conv_w = nvc_tensor(a, NVC_INIT(NVC_INIT_KAIMING_UNIFORM, 1.0f), NVC_SHAPE(C, 3, 3, 3), "conv.weight");
    t->conv_b = nvc_tensor(a, NVC_INIT(NVC_INIT_TORCH_DEFAULT, 27.0f), NVC_SHAPE(C), "conv.bias");
    for (int i = 0; i < nblk; i++) {
        t->blk[i].w = nvc_tensor(a, NVC_INIT(NVC_INIT_TRUNC_NORMAL, 0.02f), NVC_SHAPE(C, C, 1, 1), "blocks.%d.weight", i);
        t->blk[i].b = nvc_tensor(a, NVC_INIT(NVC_INIT_ZERO, 0), NVC_SHAPE(C), "blocks.%d.bias", i);
    }
    t->head = nvc_tensor(a, NVC_INIT(NVC_INIT_XAVIER_NORMAL, 1.0f), NVC_SHAPE(3, C), "head.weight");
}

START_TEST(test_arena)
{
    NvcArena a = { 0 };
    Toy p, g;
    const int C = 20;
    toy_tensors(&a, &p, C, 3);
    ck_assert_int_eq(nvc_arena_check(&a), 0);
    ck_assert_int_eq(a.n, 9);
    ck_assert_ptr_null(p.conv_w);
    ck_assert_uint_eq(nvc_arena_numel(&a), (size_t)C * 27 + C + 3 * (C * C + C) + 3 * C);
    for (int i = 0; i < a.n; i++)
        ck_assert_uint_eq(a.t[i].offset % NVC_TENSOR_ALIGN, 0);
    ck_assert_int_eq(a.t[0].decay, 1);
    ck_assert_int_eq(a.t[1].decay, 0);
    ck_assert_str_eq(a.t[5].name, "blocks.1.bias");
    ck_assert_int_eq(nvc_arena_find(&a, "head.weight"), 8);
    ck_assert_int_eq(nvc_arena_find(&a, "nope"), -1);

    float *pbuf = calloc(a.size, sizeof(float)), *gbuf = calloc(a.size, sizeof(float));
    ck_assert(pbuf && gbuf);
    nvc_arena_bind(&a, pbuf);
    toy_tensors(&a, &p, C, 3);
    nvc_arena_bind(&a, gbuf);
    toy_tensors(&a, &g, C, 3);
    ck_assert_int_eq(nvc_arena_check(&a), 0);
    ck_assert_ptr_eq(p.blk[2].w, pbuf + a.t[6].offset);
    ck_assert_ptr_eq(g.blk[2].w, gbuf + a.t[6].offset);
    ck_assert_ptr_eq(g.head, gbuf + a.t[8].offset);

    /* initializers: bounds, statistics, reproducibility */
    nvc_arena_init_params(&a, pbuf, 42);
    double bound = sqrt(3.0 / 27), mx = 0;
    for (int i = 0; i < C * 27; i++)
        mx = fmax(mx, fabs(p.conv_w[i]));
    ck_assert(mx <= bound && mx > 0.9 * bound);
    for (int i = 0; i < C; i++)
        ck_assert(fabs(p.conv_b[i]) <= 1 / sqrt(27.0) && p.blk[1].b[i] == 0.0f);
    double s2 = 0;
    for (int i = 0; i < C * C; i++) {
        ck_assert(fabs(p.blk[0].w[i]) <= 0.04f);
        s2 += (double)p.blk[0].w[i] * p.blk[0].w[i];
    }
    ck_assert_double_eq_tol(sqrt(s2 / (C * C)), 0.02 * 0.88, 0.003); /* std of N(0,1) cut at 2 sigma: 0.88 */
    ck_assert(memcmp(p.blk[0].w, p.blk[1].w, (size_t)C * C * sizeof(float)));
    nvc_arena_init_params(&a, gbuf, 42);
    ck_assert(!memcmp(pbuf, gbuf, a.size * sizeof(float)));

    /* a model with fewer blocks: the shared tensors get the same values */
    NvcArena a2 = { 0 };
    Toy q;
    toy_tensors(&a2, &q, C, 1);
    float *qbuf = calloc(a2.size, sizeof(float));
    nvc_arena_bind(&a2, qbuf);
    toy_tensors(&a2, &q, C, 1);
    nvc_arena_init_params(&a2, qbuf, 42);
    ck_assert(!memcmp(q.head, p.head, (size_t)3 * C * sizeof(float)));

    /* names longer than NVC_TENSOR_NAME_MAX - 1 are refused, not truncated */
    NvcArena a3 = { 0 };
    char longname[NVC_TENSOR_NAME_MAX + 8];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    nvc_tensor(&a3, NVC_INIT_ZEROED, NVC_SHAPE(4), "%s", longname);
    ck_assert_int_eq(nvc_arena_check(&a3), NVC_ERR(ENAMETOOLONG));
    nvc_tensor(&a3, NVC_INIT_ZEROED, NVC_SHAPE(4, 0), "zero");
    ck_assert_int_eq(nvc_arena_check(&a3), NVC_ERR(ENAMETOOLONG)); /* the first error stays */
    nvc_arena_free(&a3);
    nvc_tensor(&a3, NVC_INIT_ZEROED, NVC_SHAPE(4, 0), "zero");
    ck_assert_int_eq(nvc_arena_check(&a3), NVC_ERR(EINVAL));
    nvc_arena_free(&a3);

    /* a pass that declares another layout is refused */
    nvc_arena_bind(&a2, qbuf);
    toy_tensors(&a2, &q, C + 1, 1);
    ck_assert_int_eq(nvc_arena_check(&a2), NVC_ERR(EINVAL));
    ck_assert_ptr_null(q.head);

    free(pbuf), free(gbuf), free(qbuf);
    nvc_arena_free(&a);
    nvc_arena_free(&a2);
}
END_TEST

/* ---- Adam, schedule, clipping --------------------------------------------------------------- */

START_TEST(test_adam)
{
    NvcNn *nn = nn_cpu(2);
    NvcArena a = { 0 };
    Toy p;
    toy_tensors(&a, &p, 8, 2);
    float *pbuf = nvc_nn_alloc(nn, a.size), *gbuf = nvc_nn_alloc(nn, a.size);
    double *rp = calloc(a.size, sizeof(double)), *rm = calloc(a.size, sizeof(double)), *rv = calloc(a.size, sizeof(double));
    ck_assert(pbuf && gbuf && rp && rm && rv);
    nvc_arena_bind(&a, pbuf);
    toy_tensors(&a, &p, 8, 2);
    nvc_arena_init_params(&a, pbuf, 1);
    NvcAdam opt;
    ck_assert_int_eq(nvc_adam_init(&opt, nn, &a, (NvcLrSchedule){ .lr = 1e-2f, .warmup = 0, .total = 0 }), 0);
    opt.weight_decay = 0.1f;
    for (size_t i = 0; i < a.size; i++)
        rp[i] = pbuf[i];
    for (int t = 1; t <= 5; t++) {
        for (int i = 0; i < a.n; i++)
            case_fill(gbuf + a.t[i].offset, a.t[i].numel, 100 + t * 10 + i, -1, 1);
        for (int i = 0; i < a.n; i++) {
            const NvcTensorInfo *ti = &a.t[i];
            double wd = ti->decay ? 0.1 : 0.0;
            for (size_t j = ti->offset; j < ti->offset + ti->numel; j++) {
                double gr = gbuf[j];
                rp[j] *= 1 - 1e-2 * wd;
                rm[j] = 0.9 * rm[j] + 0.1 * gr;
                rv[j] = 0.999 * rv[j] + 0.001 * gr * gr;
                double mh = rm[j] / (1 - pow(0.9, t)), vh = rv[j] / (1 - pow(0.999, t));
                rp[j] -= 1e-2 * mh / (sqrt(vh) + 1e-8);
            }
        }
        ck_assert_int_eq(nvc_adam_step(&opt, nn, &a, pbuf, gbuf), 0);
    }
    for (size_t i = 0; i < a.size; i++)
        ck_assert_msg(fabs(pbuf[i] - rp[i]) < 1e-5, "param %zu: %g, expected %g", i, pbuf[i], rp[i]);
    nvc_adam_free(&opt, nn);
    nvc_nn_release(nn, pbuf);
    nvc_nn_release(nn, gbuf);
    free(rp), free(rm), free(rv);
    nvc_arena_free(&a);
    nvc_nn_free(&nn);
}
END_TEST

START_TEST(test_schedule_clip)
{
    NvcLrSchedule s = { .lr = 1e-3f, .lr_min = 1e-5f, .warmup = 10, .total = 100 };
    ck_assert_float_eq_tol(nvc_lr_at(&s, 0), 1e-4f, 1e-9f);
    ck_assert_float_eq_tol(nvc_lr_at(&s, 9), 1e-3f, 1e-9f);
    ck_assert_float_eq_tol(nvc_lr_at(&s, 10), 1e-3f, 1e-9f);
    ck_assert_float_eq_tol(nvc_lr_at(&s, 55), (1e-3f + 1e-5f) / 2, 1e-8f);
    ck_assert_float_eq_tol(nvc_lr_at(&s, 100), 1e-5f, 1e-9f);
    ck_assert(nvc_lr_at(&s, 30) > nvc_lr_at(&s, 31));

    NvcNn *nn = nn_cpu(2);
    float g[100000], scalar;
    for (int i = 0; i < 100000; i++)
        g[i] = i % 2 ? 0.01f : -0.01f; /* norm sqrt(10) */
    float norm = nvc_clip_grad_norm(nn, g, 100000, 1.0f, &scalar);
    ck_assert_float_eq_tol(norm, sqrtf(10.0f), 1e-4f);
    double s2 = 0;
    for (int i = 0; i < 100000; i++)
        s2 += (double)g[i] * g[i];
    ck_assert_double_eq_tol(sqrt(s2), 1.0, 1e-4);
    norm = nvc_clip_grad_norm(nn, g, 100000, 2.0f, &scalar); /* below the bound: unchanged */
    ck_assert_float_eq_tol(norm, 1.0f, 1e-4f);
    ck_assert_float_eq_tol(fabsf(g[0]), 0.01f / sqrtf(10.0f), 1e-7f);
    nvc_nn_free(&nn);
}
END_TEST

/* ---- checkpoints ------------------------------------------------------------------------------ */

static char last_msg[512];

static void capture(void *cookie, enum NvcLogLevel level, const char *fmt, va_list ap)
{
    vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
}

START_TEST(test_checkpoint)
{
    NvcLogger lg = { NULL, capture };
    NvcArena a = { 0 };
    Toy p;
    toy_tensors(&a, &p, 6, 2);
    size_t n = a.size;
    float *buf = calloc(3 * n, sizeof(float)), *back = calloc(3 * n, sizeof(float));
    ck_assert(buf && back);
    nvc_arena_init_params(&a, buf, 3);
    case_fill(buf + n, n, 4, -1, 1);
    case_fill(buf + 2 * n, n, 5, 0, 1);
    for (int i = 0; i < a.n; i++) /* padding is not stored */
        for (size_t j = a.t[i].numel; j < NVC_ALIGN(a.t[i].numel, NVC_TENSOR_ALIGN); j++)
            buf[a.t[i].offset + j] = buf[n + a.t[i].offset + j] = buf[2 * n + a.t[i].offset + j] = 0;

    char *dir = test_tmpdir(), path[4200];
    snprintf(path, sizeof(path), "%s/model.ckpt", dir);
    ck_assert_int_eq(nvc_checkpoint_save(path, &a, buf, buf + n, buf + 2 * n, 1234, &lg), 0);
    uint64_t step = 0;
    ck_assert_msg(nvc_checkpoint_load(path, &a, back, back + n, back + 2 * n, &step, &lg) == 0, "%s", last_msg);
    ck_assert_uint_eq(step, 1234);
    ck_assert(!memcmp(buf, back, 3 * n * sizeof(float)));

    /* in memory: every damaged byte is caught by the checksum */
    NvcByteWriter bw = { 0 };
    ck_assert_int_eq(nvc_checkpoint_write(&bw, &a, buf, NULL, NULL, 7), 0);
    for (size_t i = 0; i < bw.sz; i += 1 + bw.sz / 300) {
        bw.buf[i] ^= 0x10;
        ck_assert_int_eq(nvc_checkpoint_read(bw.buf, bw.sz, &a, back, NULL, NULL, NULL, &lg), NVC_ERR_CORRUPT);
        bw.buf[i] ^= 0x10;
    }
    for (size_t cut = 0; cut < bw.sz; cut += 1 + bw.sz / 50)
        ck_assert_int_eq(nvc_checkpoint_read(bw.buf, cut, &a, back, NULL, NULL, NULL, &lg), NVC_ERR_CORRUPT);
    ck_assert(strstr(last_msg, "checkpoint"));
    /* without moments in the file, loading zeroes them */
    back[n] = 5;
    ck_assert_int_eq(nvc_checkpoint_read(bw.buf, bw.sz, &a, back, back + n, back + 2 * n, &step, &lg), 0);
    ck_assert_uint_eq(step, 7);
    ck_assert_float_eq(back[n], 0);

    /* a newer version (with a valid checksum) is refused as unsupported */
    bw.buf[11] = 2;
    uint32_t crc = nvc_crc32(0, bw.buf, bw.sz - 4);
    for (int i = 0; i < 4; i++)
        bw.buf[bw.sz - 4 + i] = (uint8_t)(crc >> (24 - 8 * i));
    ck_assert_int_eq(nvc_checkpoint_read(bw.buf, bw.sz, &a, back, NULL, NULL, NULL, &lg), NVC_ERR(ENOTSUP));
    ck_assert(strstr(last_msg, "version 2"));
    nvc_bw_free(&bw);

    /* another model: refused, saying which tensor */
    NvcArena b = { 0 };
    toy_tensors(&b, &p, 7, 2);
    ck_assert_int_eq(nvc_checkpoint_load(path, &b, back, NULL, NULL, NULL, &lg), NVC_ERR(EINVAL));
    ck_assert_msg(strstr(last_msg, "conv.weight") && strstr(last_msg, "6x3x3x3"), "message: %s", last_msg);
    NvcArena c = { 0 };
    toy_tensors(&c, &p, 6, 1);
    ck_assert_int_eq(nvc_checkpoint_load(path, &c, back, NULL, NULL, NULL, &lg), NVC_ERR(EINVAL));
    ck_assert(strstr(last_msg, "tensors"));
    snprintf(path, sizeof(path), "%s/missing.ckpt", dir);
    ck_assert_int_eq(nvc_checkpoint_load(path, &a, back, NULL, NULL, NULL, &lg), NVC_ERR(ENOENT));

    test_rmdir(dir);
    free(buf), free(back);
    nvc_arena_free(&a), nvc_arena_free(&b), nvc_arena_free(&c);
}
END_TEST

/* Philox4x32-10 known-answer test (Random123's kat_vectors: counter 0, key 0). */
START_TEST(test_philox)
{
    NvcPhilox r = nvc_philox4x32(0, 0);
    ck_assert_uint_eq(r.v[0], 0x6627e8d5u);
    ck_assert_uint_eq(r.v[1], 0xe169c58du);
    ck_assert_uint_eq(r.v[2], 0xbc57ac4cu);
    ck_assert_uint_eq(r.v[3], 0x9b00dbd8u);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_core");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_threads_small, 0, nn_ncases);
    tcase_add_loop_test(tc, test_threads_big, 0, nn_nbig_cases);
    tcase_add_test(tc, test_sgemm);
    tcase_add_test(tc, test_sgemm_threads);
    tcase_add_test(tc, test_conv_direct);
    tcase_add_test(tc, test_pixel_shuffle_act_bits);
    tcase_add_test(tc, test_arena);
    tcase_add_test(tc, test_adam);
    tcase_add_test(tc, test_schedule_clip);
    tcase_add_test(tc, test_checkpoint);
    tcase_add_test(tc, test_philox);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
