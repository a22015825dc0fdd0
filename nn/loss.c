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
    const size_t work = ms ? nvc_msssim_work_size(H, W) : nvc_ssim_work_size(H, W);
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
        vals[p] = ms ? nvc_msssim_plane(x, y, H, W, wk, g, dx) : nvc_ssim_plane(x, y, H, W, wk, g, dx);
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

typedef struct Dist {
    double p;      /* P(v - 0.5 < X < v + 0.5), X centred at 0 */
    double dp_dv;  /* dP / dv */
    double dp_ds;  /* dP / dscale */
} Dist;

/* P over [v - 0.5, v + 0.5] of N(0, s^2) or Laplace(0, s). Computed on
 * a = |v| (upper - lower tail, as CompressAI) to keep precision in the tails. */
static Dist dist_interval(double v, double s, int laplace)
{
    double a = fabs(v), zu = 0.5 - a, zl = -0.5 - a, fu, fl, cu, cl;
    if (laplace) {
        fu = 0.5 / s * exp(-fabs(zu) / s);
        fl = 0.5 / s * exp(-fabs(zl) / s);
        cu = zu < 0 ? 0.5 * exp(zu / s) : 1.0 - 0.5 * exp(-zu / s);
        cl = 0.5 * exp(zl / s);
    } else {
        fu = exp(-0.5 * (zu / s) * (zu / s)) / (s * 2.5066282746310002);
        fl = exp(-0.5 * (zl / s) * (zl / s)) / (s * 2.5066282746310002);
        cu = 0.5 * erfc(-zu / (s * M_SQRT2));
        cl = 0.5 * erfc(-zl / (s * M_SQRT2));
    }
    Dist d;
    d.p = cu - cl;
    d.dp_dv = (v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0) * (fl - fu);
    d.dp_ds = (zl * fl - zu * fu) / s;
    return d;
}

static inline double bits_of(double p)
{
    return -log2(p > NVC_RATE_P_MIN ? p : NVC_RATE_P_MIN);
}

/* d bits / dP (zero where the floor holds) */
static inline double dbits_dp(double p)
{
    return p > NVC_RATE_P_MIN ? -1.0 / (p * M_LN2) : 0.0;
}

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
            double sc = NVC_MAX(scale[i], NVC_RATE_SCALE_MIN);
            s += bits_of(dist_interval((double)x[i] - (mean ? mean[i] : 0.0f), sc, laplace).p);
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
        double sc = NVC_MAX(scale[i], NVC_RATE_SCALE_MIN);
        Dist d = dist_interval((double)x[i] - (mean ? mean[i] : 0.0f), sc, laplace);
        double g = dbits * dbits_dp(d.p);
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

#define GMM_KMAX 16

/* softmax(logits) over k at element (b, m) into w */
static void gmm_weights(const float *logits, int K, int M, size_t base, double *w)
{
    double mx = -INFINITY, sum = 0.0;
    for (int k = 0; k < K; k++)
        mx = fmax(mx, logits[base + (size_t)k * M]);
    for (int k = 0; k < K; k++)
        sum += w[k] = exp(logits[base + (size_t)k * M] - mx);
    for (int k = 0; k < K; k++)
        w[k] /= sum;
}

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
            gmm_weights(logits, K, M, base, w);
            for (int k = 0; k < K; k++) {
                size_t j = base + (size_t)k * M;
                double sc = NVC_MAX(scales[j], NVC_RATE_SCALE_MIN);
                p += w[k] * dist_interval((double)x[i] - means[j], sc, 0).p;
            }
            s += bits_of(p);
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
        Dist d[GMM_KMAX];
        gmm_weights(logits, K, M, base, w);
        for (int k = 0; k < K; k++) {
            size_t j = base + (size_t)k * M;
            d[k] = dist_interval((double)x[i] - means[j], NVC_MAX(scales[j], NVC_RATE_SCALE_MIN), 0);
            pk[k] = d[k].p;
            p += w[k] * pk[k];
        }
        double g = dbits * dbits_dp(p);
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
