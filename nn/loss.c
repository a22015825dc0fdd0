/*
 * Losses on the CPU: MSE, L1, SSIM, MS-SSIM and rate terms. Scalars are sums
 * of per-block (or per-plane) double partials added in a fixed order.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "codec/internal.h"
#include "nn/cpu.h"
#include "nn/rate_math.h"
#include "nn/ssim.h"

#define PAR_MIN 32768

/* ---- MSE, L1 ------------------------------------------------------------------------- */

static void dist_forward(NvcNn *nn, float *loss, const float *pred, const float *target, size_t n, int l1)
{
    size_t nb = nvc_nblocks(n, NVC_BLOCK);
    double *part = nvc_nn_partials(nn, nb);
    if (!part)
        return;
#pragma omp parallel for num_threads(nn->threads) if (n >= PAR_MIN) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t e = NVC_MIN(n, (b + 1) * NVC_BLOCK);
        double s = 0.0;
        for (size_t i = b * NVC_BLOCK; i < e; i++) {
            double d = (double)pred[i] - target[i];
            s += l1 ? fabs(d) : d * d;
        }
        part[b] = s;
    }
    *loss = n ? (float)(nvc_sum_blocks(part, nb) / (double)n) : 0.0f;
}

void nvc_mse_forward(NvcNn *nn, float *loss, const float *pred, const float *target, size_t n)
{
    dist_forward(nn, loss, pred, target, n, 0);
}

void nvc_mse_backward(NvcNn *nn, float dloss, const float *pred, const float *target, float *dpred, size_t n)
{
    float k = n ? 2.0f * dloss / (float)n : 0.0f;
#pragma omp parallel for num_threads(nn->threads) if (n >= PAR_MIN) schedule(static)
    for (size_t i = 0; i < n; i++)
        dpred[i] += k * (pred[i] - target[i]);
}

void nvc_l1_forward(NvcNn *nn, float *loss, const float *pred, const float *target, size_t n)
{
    dist_forward(nn, loss, pred, target, n, 1);
}

void nvc_l1_backward(NvcNn *nn, float dloss, const float *pred, const float *target, float *dpred, size_t n)
{
    float k = n ? dloss / (float)n : 0.0f;
#pragma omp parallel for num_threads(nn->threads) if (n >= PAR_MIN) schedule(static)
    for (size_t i = 0; i < n; i++)
        dpred[i] += pred[i] > target[i] ? k : pred[i] < target[i] ? -k : 0.0f;
}

/* ---- SSIM, MS-SSIM ------------------------------------------------------------------------- */

static int ssim_dims(NvcNn *nn, const char *op, int B, int C, int H, int W, int min)
{
    if (B > 0 && C > 0 && H >= min && W >= min)
        return 0;
    return nvc_nn_fail(nn, NVC_ERR(EINVAL), "%s: bad shape B=%d C=%d H=%d W=%d (sides must be >= %d)", op, B, C, H,
                       W, min);
}

/* One unit per (image, channel) plane; per-plane values in plane order. */
static void ssim_run(NvcNn *nn, float *value, float dvalue, const float *pred, const float *target, float *dpred,
                     int B, int C, int H, int W, int ms)
{
    const int np = B * C;
    /* even: the doubles after the work areas stay aligned */
    const size_t work = NVC_ALIGN(ms ? nvc_nn_msssim_work_size(H, W) : nvc_nn_ssim_work_size(H, W), 2);
    const size_t hw = (size_t)H * W;
    float *scratch = nvc_nn_scratch(nn, (size_t)nn->threads * work + 2 * (size_t)np + 2);
    if (!scratch)
        return;
    double *vals = (double *)(scratch + (size_t)nn->threads * work);
    double g = dvalue / (double)np;
#pragma omp parallel for num_threads(nn->threads) schedule(dynamic)
    for (int p = 0; p < np; p++) {
        float *wk = scratch + (size_t)nvc_thread_id() * work;
        const float *x = pred + (size_t)p * hw, *y = target + (size_t)p * hw;
        float *dx = dpred ? dpred + (size_t)p * hw : NULL;
        vals[p] = ms ? nvc_nn_msssim_plane(x, y, H, W, wk, g, dx) : nvc_nn_ssim_plane(x, y, H, W, wk, g, dx);
    }
    if (value)
        *value = (float)(nvc_sum_blocks(vals, (size_t)np) / np);
}

void nvc_ssim_forward(NvcNn *nn, float *value, const float *pred, const float *target, int B, int C, int H, int W)
{
    if (!ssim_dims(nn, "ssim", B, C, H, W, NVC_SSIM_WIN))
        ssim_run(nn, value, 0.0f, pred, target, NULL, B, C, H, W, 0);
}

void nvc_ssim_backward(NvcNn *nn, float dvalue, const float *pred, const float *target, float *dpred, int B, int C,
                       int H, int W)
{
    if (!ssim_dims(nn, "ssim", B, C, H, W, NVC_SSIM_WIN))
        ssim_run(nn, NULL, dvalue, pred, target, dpred, B, C, H, W, 0);
}

void nvc_msssim_forward(NvcNn *nn, float *value, const float *pred, const float *target, int B, int C, int H, int W)
{
    if (!ssim_dims(nn, "msssim", B, C, H, W, NVC_MSSSIM_MIN))
        ssim_run(nn, value, 0.0f, pred, target, NULL, B, C, H, W, 1);
}

void nvc_msssim_backward(NvcNn *nn, float dvalue, const float *pred, const float *target, float *dpred, int B, int C,
                         int H, int W)
{
    if (!ssim_dims(nn, "msssim", B, C, H, W, NVC_MSSSIM_MIN))
        ssim_run(nn, NULL, dvalue, pred, target, dpred, B, C, H, W, 1);
}

/* ---- rate terms ------------------------------------------------------------------------------ */

static void rate_forward(NvcNn *nn, float *bits, const float *x, const float *mean, const float *scale, size_t n,
                         int laplace)
{
    size_t nb = nvc_nblocks(n, NVC_BLOCK);
    double *part = nvc_nn_partials(nn, nb);
    if (!part)
        return;
#pragma omp parallel for num_threads(nn->threads) if (n >= PAR_MIN) schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t e = NVC_MIN(n, (b + 1) * NVC_BLOCK);
        double s = 0.0;
        for (size_t i = b * NVC_BLOCK; i < e; i++) {
            double sc = nvc_rate_scale(scale[i]);
            s += nvc_rate_bits(nvc_rate_interval((double)x[i] - (mean ? mean[i] : 0.0f), sc, laplace).p);
        }
        part[b] = s;
    }
    *bits = (float)nvc_sum_blocks(part, nb);
}

static void rate_backward(NvcNn *nn, float dbits, const float *x, const float *mean, const float *scale, float *dx,
                          float *dmean, float *dscale, size_t n, int laplace)
{
#pragma omp parallel for num_threads(nn->threads) if (n >= PAR_MIN) schedule(static)
    for (size_t i = 0; i < n; i++) {
        double sc = nvc_rate_scale(scale[i]);
        NvcInterval d = nvc_rate_interval((double)x[i] - (mean ? mean[i] : 0.0f), sc, laplace);
        double g = dbits * nvc_rate_dbits(d.p);
        if (dx)
            dx[i] += (float)(g * d.dp_dv);
        if (dmean)
            dmean[i] -= (float)(g * d.dp_dv);
        if (dscale && scale[i] > NVC_RATE_SCALE_MIN)
            dscale[i] += (float)(g * d.dp_ds);
    }
}

void nvc_rate_gaussian_forward(NvcNn *nn, float *bits, const float *x, const float *mean, const float *scale,
                               size_t n)
{
    rate_forward(nn, bits, x, mean, scale, n, 0);
}

void nvc_rate_gaussian_backward(NvcNn *nn, float dbits, const float *x, const float *mean, const float *scale,
                                float *dx, float *dmean, float *dscale, size_t n)
{
    rate_backward(nn, dbits, x, mean, scale, dx, dmean, dscale, n, 0);
}

void nvc_rate_laplace_forward(NvcNn *nn, float *bits, const float *x, const float *mean, const float *scale,
                              size_t n)
{
    rate_forward(nn, bits, x, mean, scale, n, 1);
}

void nvc_rate_laplace_backward(NvcNn *nn, float dbits, const float *x, const float *mean, const float *scale,
                               float *dx, float *dmean, float *dscale, size_t n)
{
    rate_backward(nn, dbits, x, mean, scale, dx, dmean, dscale, n, 1);
}

/* ---- Gaussian mixture -------------------------------------------------------------------------- */

#define GMM_KMAX NVC_RATE_GMM_KMAX

static int gmm_dims(NvcNn *nn, int B, int K, int M)
{
    if (B > 0 && K > 0 && K <= GMM_KMAX && M > 0)
        return 0;
    return nvc_nn_fail(nn, NVC_ERR(EINVAL), "rate_gmm: bad shape B=%d K=%d M=%d (K <= %d)", B, K, M, GMM_KMAX);
}

void nvc_rate_gmm_forward(NvcNn *nn, float *bits, const float *x, const float *logits, const float *means,
                          const float *scales, int B, int K, int M)
{
    if (gmm_dims(nn, B, K, M))
        return;
    size_t n = (size_t)B * M, nb = nvc_nblocks(n, NVC_BLOCK);
    double *part = nvc_nn_partials(nn, nb);
    if (!part)
        return;
#pragma omp parallel for num_threads(nn->threads) if (n >= PAR_MIN) schedule(static)
    for (size_t blk = 0; blk < nb; blk++) {
        size_t e = NVC_MIN(n, (blk + 1) * NVC_BLOCK);
        double s = 0.0, w[GMM_KMAX];
        for (size_t i = blk * NVC_BLOCK; i < e; i++) {
            size_t b = i / M, base = b * K * M + i % M;
            double p = 0.0;
            nvc_rate_gmm_weights(logits, K, M, base, w);
            for (int k = 0; k < K; k++) {
                size_t j = base + (size_t)k * M;
                double sc = nvc_rate_scale(scales[j]);
                p += w[k] * nvc_rate_interval((double)x[i] - means[j], sc, 0).p;
            }
            s += nvc_rate_bits(p);
        }
        part[blk] = s;
    }
    *bits = (float)nvc_sum_blocks(part, nb);
}

void nvc_rate_gmm_backward(NvcNn *nn, float dbits, const float *x, const float *logits, const float *means,
                           const float *scales, float *dx, float *dlogits, float *dmeans, float *dscales, int B,
                           int K, int M)
{
    if (gmm_dims(nn, B, K, M))
        return;
    size_t n = (size_t)B * M;
#pragma omp parallel for num_threads(nn->threads) if (n >= PAR_MIN) schedule(static)
    for (size_t i = 0; i < n; i++) {
        size_t b = i / M, base = b * K * M + i % M;
        double w[GMM_KMAX], pk[GMM_KMAX], p = 0.0, gx = 0.0;
        NvcInterval d[GMM_KMAX];
        nvc_rate_gmm_weights(logits, K, M, base, w);
        for (int k = 0; k < K; k++) {
            size_t j = base + (size_t)k * M;
            d[k] = nvc_rate_interval((double)x[i] - means[j], nvc_rate_scale(scales[j]), 0);
            pk[k] = d[k].p;
            p += w[k] * pk[k];
        }
        double g = dbits * nvc_rate_dbits(p);
        for (int k = 0; k < K; k++) {
            size_t j = base + (size_t)k * M;
            double gv = g * w[k] * d[k].dp_dv;
            gx += gv;
            if (dmeans)
                dmeans[j] -= (float)gv;
            if (dscales && scales[j] > NVC_RATE_SCALE_MIN)
                dscales[j] += (float)(g * w[k] * d[k].dp_ds);
            if (dlogits)
                dlogits[j] += (float)(g * w[k] * (pk[k] - p));
        }
        if (dx)
            dx[i] += (float)gx;
    }
}
