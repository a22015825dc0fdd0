/*
 * The image model's backward pass against central finite differences of its
 * training loss, on a tiny configuration. Where the loss is smooth in a
 * parameter (the synthesis and its quality scaler under the distortion; the
 * z scales and the last four-part step's network under the rate, with
 * lambda ~ 0 so that the straight-through rounding of y_hat does not enter)
 * the two must agree. Also: training reduces the loss on a fixed batch, for
 * both priors, and gives the same bits on 1 and 2 threads.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "tests/common.h"
#include "tests/grad_check.h"

#include <math.h>

#include "nvc/image_model.h"

static void tiny(NvcImgConfig *c, enum NvcImgPrior prior, float lambda)
{
    nvc_img_config_default(c, prior);
    c->c1 = 8, c->c2 = 8, c->c3 = 12, c->M = 8, c->Cz = 4, c->P = 8, c->K = 2;
    c->vq_groups = 4, c->vq_k = 16, c->vq_levels = 2;
    if (lambda > 0)
        c->lambda_min = c->lambda_max = lambda;
}

static void fill_input(float *x, int n)
{
    /* smooth pictures with some texture */
    for (int i = 0; i < n; i++)
        x[i] = 0.5f + 0.3f * sinf(i * 0.013f) * cosf(i * 0.0021f) + 0.1f * sinf(i * 0.7f);
}

static NvcImgModel *make(NvcNn *nn, const NvcImgConfig *c, const int *q)
{
    static NvcImgModel m;
    NvcLrSchedule sch = { 1e-3f, 0, 0, 0 };
    ck_assert_int_eq(nvc_img_create(&m, nn, c, 2, 64, 64, 1, sch, 3), 0);
    float x[2 * 3 * 64 * 64];
    fill_input(x, 2 * 3 * 64 * 64);
    ck_assert_int_eq(nvc_nn_upload(nn, m.a.x, x, 2 * 3 * 64 * 64), 0);
    ck_assert_int_eq(nvc_img_set_quality(&m, nn, q), 0);
    return &m;
}

static double loss(NvcImgModel *m, NvcNn *nn, const int *q)
{
    NvcImgStats st;
    ck_assert_int_eq(nvc_img_set_quality(m, nn, q), 0);
    ck_assert_int_eq(nvc_img_forward_backward(m, nn, 5, &st), 0);
    return st.loss;
}

typedef struct LossCtx {
    NvcImgModel *m;
    NvcNn *nn;
    const int *q;
} LossCtx;

static double loss_of(void *ctx)
{
    LossCtx *c = ctx;
    return loss(c->m, c->nn, c->q);
}

/* Compare d loss / d tensor[name] at a few elements. */
static void check_tensor(NvcImgModel *m, NvcNn *nn, const int *q, const char *name)
{
    LossCtx c = { m, nn, q };
    const TestGradModel gm = { nn, &m->params, m->pbuf, m->gbuf, loss_of, &c };
    test_grad_check(&gm, name, 1e-3f, 4e-6);
}

START_TEST(test_gradients_distortion)
{
    NvcNn *nn;
    ck_assert_int_eq(nvc_nn_create(&nn, NVC_NN_CPU, 1, NULL), 0);
    NvcImgConfig c;
    tiny(&c, NVC_IMG_PRIOR_GMM, 0);
    const int q[2] = { 10, 50 };
    NvcImgModel *m = make(nn, &c, q);
    check_tensor(m, nn, q, "dec.out.weight");
    check_tensor(m, nn, q, "dec.out.bias");
    check_tensor(m, nn, q, "dec.2.conv.weight");
    check_tensor(m, nn, q, "dec.1.skip.weight");
    check_tensor(m, nn, q, "dec.0.up.bias");
    check_tensor(m, nn, q, "q_dec");
    nvc_img_free(m, nn);
    nvc_nn_free(&nn);
}
END_TEST

START_TEST(test_gradients_rate)
{
    NvcNn *nn;
    ck_assert_int_eq(nvc_nn_create(&nn, NVC_NN_CPU, 1, NULL), 0);
    NvcImgConfig c;
    tiny(&c, NVC_IMG_PRIOR_GMM, 1e-9f);
    const int q[2] = { 3, 40 };
    NvcImgModel *m = make(nn, &c, q);
    check_tensor(m, nn, q, "z_scale");
    check_tensor(m, nn, q, "ctx.3.out.weight");
    check_tensor(m, nn, q, "ctx.3.out.bias");
    check_tensor(m, nn, q, "ctx.3.mid.weight");
    check_tensor(m, nn, q, "ctx.3.dw.weight");
    nvc_img_free(m, nn);
    nvc_nn_free(&nn);
}
END_TEST

/* The loss of a batch depends on that batch only: the four-part context
 * steps read the latent decoded so far of the same forward pass, never what
 * an earlier batch left in the activations (they once did). */
START_TEST(test_forward_is_pure)
{
    NvcNn *nn;
    ck_assert_int_eq(nvc_nn_create(&nn, NVC_NN_CPU, 1, NULL), 0);
    NvcImgConfig c;
    tiny(&c, NVC_IMG_PRIOR_GMM, 0);
    const int q[2] = { 10, 50 };
    NvcImgModel *m = make(nn, &c, q);
    const size_t n = 2 * 3 * 64 * 64;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    ck_assert(x && y);
    fill_input(x, (int)n);
    for (size_t i = 0; i < n; i++)
        y[i] = 1.0f - x[(i * 7919) % n];
    const double l0 = loss(m, nn, q);
    ck_assert_int_eq(nvc_nn_upload(nn, m->a.x, y, n), 0);
    ck_assert(loss(m, nn, q) != l0);
    ck_assert_int_eq(nvc_nn_upload(nn, m->a.x, x, n), 0);
    ck_assert_double_eq(loss(m, nn, q), l0);
    free(x);
    free(y);
    nvc_img_free(m, nn);
    nvc_nn_free(&nn);
}
END_TEST

/* Steps on one batch lower its loss; the result does not depend on threads. */
static void learn(enum NvcImgPrior prior, float *out_loss, int threads)
{
    NvcNn *nn;
    ck_assert_int_eq(nvc_nn_create(&nn, NVC_NN_CPU, threads, NULL), 0);
    NvcImgConfig c;
    tiny(&c, prior, 0);
    const int q[2] = { 20, 60 };
    NvcImgModel *m = make(nn, &c, q);
    NvcImgStats st;
    double first = 0, last = 0;
    for (int s = 0; s < 40; s++) {
        ck_assert_int_eq(nvc_img_train_step(m, nn, (uint64_t)s, &st), 0);
        if (!s)
            first = st.loss;
        last = st.loss;
    }
    ck_assert_msg(last < 0.85 * first, "loss %g -> %g", first, last);
    *out_loss = (float)last;
    nvc_img_free(m, nn);
    nvc_nn_free(&nn);
}

START_TEST(test_learn)
{
    float l1, l2, v1, v2;
    learn(NVC_IMG_PRIOR_GMM, &l1, 1);
    learn(NVC_IMG_PRIOR_GMM, &l2, 2);
    ck_assert_float_eq(l1, l2);
    learn(NVC_IMG_PRIOR_VQ, &v1, 1);
    learn(NVC_IMG_PRIOR_VQ, &v2, 2);
    ck_assert_float_eq(v1, v2);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("image_model");
    TCase *tc = tcase_create("image_model");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_gradients_distortion);
    tcase_add_test(tc, test_gradients_rate);
    tcase_add_test(tc, test_forward_is_pure);
    tcase_add_test(tc, test_learn);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
