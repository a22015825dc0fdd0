/*
 * Every nn op on the CPU: forward against a naive double-precision loop,
 * backward against central finite differences (double accumulation), and
 * the backward's accumulation into existing gradients.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"

#include <math.h>

#include "nn/nn.h"
#include "nn/rng.h"
#include "tests/nn_cases.h"

/* Indices of an input checked by finite differences. */
#define FD_SAMPLES 24

typedef struct Bufs {
    float *in[CASE_MAXIN], *din[CASE_MAXIN], *out, *aux, *dout;
} Bufs;

static void bufs_alloc(const NnCase *c, Bufs *b)
{
    memset(b, 0, sizeof(*b));
    for (int k = 0; k < c->nin; k++) {
        b->in[k] = calloc(c->in_n[k], sizeof(float));
        b->din[k] = calloc(c->in_n[k], sizeof(float));
        ck_assert(b->in[k] && b->din[k]);
    }
    b->out = calloc(c->out_n, sizeof(float));
    b->dout = calloc(c->out_n, sizeof(float));
    b->aux = calloc(c->aux_n + 1, sizeof(float));
    ck_assert(b->out && b->dout && b->aux);
}

static void bufs_free(const NnCase *c, Bufs *b)
{
    for (int k = 0; k < c->nin; k++) {
        free(b->in[k]);
        free(b->din[k]);
    }
    free(b->out);
    free(b->dout);
    free(b->aux);
}

static NvcNn *nn_cpu(int threads)
{
    NvcNn *nn = NULL;
    ck_assert_int_eq(nvc_nn_create(&nn, NVC_NN_CPU, threads, NULL), 0);
    return nn;
}

/* sum_i r_i out_i in double */
static double project(NvcNn *nn, const NnCase *c, Bufs *b, double *ref)
{
    double s = 0;
    if (c->fd_naive) {
        c->naive(c, b->in, ref);
        for (size_t i = 0; i < c->out_n; i++)
            s += (double)b->dout[i] * ref[i];
        return s;
    }
    c->fwd(nn, c, b->in, b->out, b->aux);
    for (size_t i = 0; i < c->out_n; i++)
        s += (double)b->dout[i] * b->out[i];
    return s;
}

static void check_forward(NvcNn *nn, const NnCase *c, Bufs *b)
{
    double *ref = malloc(c->out_n * sizeof(double)), err = 0, scale = 1e-3;
    ck_assert(ref);
    c->fwd(nn, c, b->in, b->out, b->aux);
    ck_assert_int_eq(nvc_nn_error(nn), 0);
    c->naive(c, b->in, ref);
    for (size_t i = 0; i < c->out_n; i++) {
        ck_assert_msg(isfinite(b->out[i]), "%s: output %zu is %g", c->name, i, b->out[i]);
        err = fmax(err, fabs(b->out[i] - ref[i]));
        scale = fmax(scale, fabs(ref[i]));
    }
    ck_assert_msg(err <= 2e-5 * scale, "%s: forward differs from the naive loop by %g (scale %g)", c->name, err,
                  scale);
    free(ref);
}

static void check_backward(NvcNn *nn, const NnCase *c, Bufs *b)
{
    const double h = c->fd_h > 0 ? c->fd_h : 1e-2, tol = c->fd_tol > 0 ? c->fd_tol : 1e-2;
    const float pre = 0.25f; /* gradients start here: the backward must add to them */
    double *ref = malloc(c->out_n * sizeof(double));
    ck_assert_ptr_nonnull(ref);
    case_fill(b->dout, c->out_n, 99, -1.0f, 1.0f);
    for (int k = 0; k < c->nin; k++)
        for (size_t i = 0; i < c->in_n[k]; i++)
            b->din[k][i] = pre;
    c->fwd(nn, c, b->in, b->out, b->aux);
    c->bwd(nn, c, b->in, b->out, b->aux, b->dout, b->dout, b->din);
    ck_assert_int_eq(nvc_nn_error(nn), 0);
    for (int k = 0; k < c->nin; k++) {
        if (c->nograd >> k & 1)
            continue;
        if (c->ste) {
            for (size_t i = 0; i < c->in_n[k]; i++)
                ck_assert_float_eq(b->din[k][i], pre + b->dout[i]);
            continue;
        }
        double num = 0, den = 0;
        const int all = c->in_n[k] <= FD_SAMPLES;
        const size_t ns = all ? c->in_n[k] : FD_SAMPLES;
        for (size_t s = 0; s < ns; s++) {
            size_t i = all ? s : nvc_philox_u32(7 + (uint64_t)k, s) % c->in_n[k];
            float x0 = b->in[k][i], xp = (float)(x0 + h), xm = (float)(x0 - h);
            b->in[k][i] = xp;
            double lp = project(nn, c, b, ref);
            b->in[k][i] = xm;
            double lm = project(nn, c, b, ref);
            b->in[k][i] = x0;
            double fd = (lp - lm) / ((double)xp - xm), an = (double)b->din[k][i] - pre;
            ck_assert_msg(isfinite(an), "%s: gradient of input %d at %zu is %g", c->name, k, i, an);
            num += (an - fd) * (an - fd);
            den += fd * fd;
        }
        double rel = sqrt(num) / (sqrt(den) + 1e-6);
        ck_assert_msg(rel <= tol, "%s: gradient of input %d differs from finite differences (relative %g)", c->name,
                      k, rel);
    }
    free(ref);
}

START_TEST(test_op)
{
    const NnCase *c = &nn_cases[_i];
    NvcNn *nn = nn_cpu(2);
    Bufs b;
    bufs_alloc(c, &b);
    case_init_inputs(c, b.in, 1000 + (uint64_t)_i);
    check_forward(nn, c, &b);
    check_backward(nn, c, &b);
    bufs_free(c, &b);
    nvc_nn_free(&nn);
}
END_TEST

/* Bad shapes set the sticky error and touch nothing. */
START_TEST(test_bad_shapes)
{
    NvcNn *nn = nn_cpu(1);
    float x[4] = { 0 };
    nn->ops->conv2d_forward(nn, x, x, x, NULL, 1, 3, 4, 4, 4, 3, 1, 1, 2); /* 3 % 2 */
    ck_assert_int_eq(nvc_nn_error(nn), NVC_ERR(EINVAL));
    ck_assert_int_eq(nvc_nn_error(nn), 0);
    nn->ops->conv2d_forward(nn, x, x, x, NULL, 1, 1, 2, 2, 1, 5, 1, 0, 1); /* kernel larger than the input */
    ck_assert_int_eq(nvc_nn_error(nn), NVC_ERR(EINVAL));
    nn->ops->msssim_forward(nn, x, x, x, 1, 1, 64, 64); /* too small for 5 scales */
    ck_assert_int_eq(nvc_nn_error(nn), NVC_ERR(EINVAL));
    nn->ops->rate_gmm_forward(nn, x, x, x, x, x, 1, 0, 4);
    ck_assert_int_eq(nvc_nn_error(nn), NVC_ERR(EINVAL));
    nn->ops->pixel_shuffle_forward(nn, x, x, 1, 1, 0, 1, 2);
    ck_assert_int_eq(nvc_nn_error(nn), NVC_ERR(EINVAL));
    nvc_nn_free(&nn);
}
END_TEST

/* The rate of an exactly coded value: Gaussian of scale s at x = mean has
 * P = erf(0.5 / (s sqrt 2)); far tails hit the floor (about 29.9 bits). */
START_TEST(test_rate_values)
{
    NvcNn *nn = nn_cpu(1);
    float x[2] = { 0.0f, 1000.0f }, mu[2] = { 0, 0 }, s[2] = { 1.0f, 1.0f }, bits;
    nn->ops->rate_gaussian_forward(nn, &bits, x, mu, s, 1);
    ck_assert_double_eq_tol(bits, -log2(erf(0.5 / sqrt(2.0))), 1e-5);
    nn->ops->rate_gaussian_forward(nn, &bits, x + 1, mu, s, 1);
    ck_assert_double_eq_tol(bits, -log2(1e-9), 1e-4);
    /* Laplace(0, 1) at 0: P = 1 - exp(-0.5) */
    nn->ops->rate_laplace_forward(nn, &bits, x, mu, s, 1);
    ck_assert_double_eq_tol(bits, -log2(1 - exp(-0.5)), 1e-5);
    nvc_nn_free(&nn);
}
END_TEST

/* SSIM of an image with itself is 1, and so is MS-SSIM. */
START_TEST(test_ssim_identity)
{
    NvcNn *nn = nn_cpu(2);
    int H = 170, W = 180;
    float *x = malloc((size_t)H * W * sizeof(float)), v;
    ck_assert_ptr_nonnull(x);
    case_fill(x, (size_t)H * W, 5, 0.0f, 1.0f);
    nn->ops->ssim_forward(nn, &v, x, x, 1, 1, H, W);
    ck_assert_double_eq_tol(v, 1.0, 1e-5);
    nn->ops->msssim_forward(nn, &v, x, x, 1, 1, H, W);
    ck_assert_double_eq_tol(v, 1.0, 1e-5);
    ck_assert_int_eq(nvc_nn_error(nn), 0);
    free(x);
    nvc_nn_free(&nn);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_ops");
    TCase *tc = tcase_create("ops");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_op, 0, nn_ncases);
    tcase_add_test(tc, test_bad_shapes);
    tcase_add_test(tc, test_rate_values);
    tcase_add_test(tc, test_ssim_identity);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
