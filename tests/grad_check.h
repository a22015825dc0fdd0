/*
 * A model's backward pass against central finite differences of its loss
 * (tests/test_image_model.c, tests/test_video_model.c).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_TESTS_GRAD_CHECK_H
#define NVC_TESTS_GRAD_CHECK_H

#include <math.h>

#include "nn/nn.h"
#include "tests/common.h"

/* What to check: a model's parameters (pbuf) and gradients (gbuf) laid out
 * by params, and its loss: loss(ctx) runs a forward and backward pass. */
typedef struct TestGradModel {
    NvcNn *nn;
    const NvcArena *params;
    float *pbuf, *gbuf;
    double (*loss)(void *ctx);
    void *ctx;
} TestGradModel;

/* The indices of the three largest |g[i]| (the others drown in the loss's
 * float precision). */
static inline void test_grad_top3(const float *g, size_t n, size_t idx[3])
{
    idx[0] = idx[1] = idx[2] = 0;
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < n; i++)
            if ((k < 1 || i != idx[0]) && (k < 2 || i != idx[1]) && fabsf(g[i]) >= fabsf(g[idx[k]]) &&
                (k < 1 || fabsf(g[i]) <= fabsf(g[idx[k - 1]])))
                idx[k] = i;
}

/* d loss / d tensor[name] at its three largest gradients: the backward pass
 * and the central difference with the step rel * max(|v|, 0.1) agree
 * within 5% plus the loss's float noise (noise * |loss| / step). */
static inline void test_grad_check(const TestGradModel *gm, const char *name, float rel, double noise)
{
    int t = nvc_arena_find(gm->params, name);
    ck_assert_msg(t >= 0, "no tensor %s", name);
    const NvcTensorInfo *ti = &gm->params->t[t];
    float *g = malloc(ti->numel * sizeof(float));
    const double l0 = gm->loss(gm->ctx);
    ck_assert_int_eq(nvc_nn_download(gm->nn, g, gm->gbuf + ti->offset, ti->numel), 0);
    size_t idx[3];
    test_grad_top3(g, ti->numel, idx);
    ck_assert_msg(g[idx[0]] != 0.0f, "%s: no gradient", name);
    for (int k = 0; k < 3; k++) {
        float *p = gm->pbuf + ti->offset + idx[k], v;
        ck_assert_int_eq(nvc_nn_download(gm->nn, &v, p, 1), 0);
        const float eps = rel * fmaxf(fabsf(v), 0.1f);
        float vp = v + eps, vm = v - eps;
        nvc_nn_upload(gm->nn, p, &vp, 1);
        double lp = gm->loss(gm->ctx);
        nvc_nn_upload(gm->nn, p, &vm, 1);
        double lm = gm->loss(gm->ctx);
        nvc_nn_upload(gm->nn, p, &v, 1);
        double fd = (lp - lm) / (2.0 * eps), an = g[idx[k]];
        double tol = 0.05 * fmax(fabs(fd), fabs(an)) + noise * fabs(l0) / eps;
        if (getenv("NVC_TEST_VERBOSE"))
            fprintf(stderr, "%s[%zu]: fd %g backward %g (tolerance %g)\n", name, idx[k], fd, an, tol);
        ck_assert_msg(fabs(fd - an) <= tol, "%s[%zu]: finite difference %g, backward %g", name, idx[k], fd, an);
    }
    free(g);
}

#endif /* NVC_TESTS_GRAD_CHECK_H */
