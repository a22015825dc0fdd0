/*
 * Probability of a quantized value under Gaussian and Laplace densities,
 * with derivatives; shared by the CPU and CUDA rate ops (host and device).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef NVC_NN_RATE_MATH_H
#define NVC_NN_RATE_MATH_H

#include <math.h>
#include <stddef.h>

#include "nn/rng.h" /* NVC_HD */

#define NVC_RATE_SCALE_MIN_D 0.11
#define NVC_RATE_P_MIN_D 1e-9

typedef struct NvcInterval {
    double p;     /* P(v - 0.5 < X < v + 0.5), X centred at 0 */
    double dp_dv; /* dP / dv */
    double dp_ds; /* dP / dscale */
} NvcInterval;

/* P over [v - 0.5, v + 0.5] of N(0, s^2) or Laplace(0, s), computed on
 * a = |v| (upper minus lower tail, as CompressAI) to keep precision. */
NVC_HD NvcInterval nvc_rate_interval(double v, double s, int laplace)
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
        cu = 0.5 * erfc(-zu / (s * 1.4142135623730951));
        cl = 0.5 * erfc(-zl / (s * 1.4142135623730951));
    }
    NvcInterval d;
    d.p = cu - cl;
    d.dp_dv = (v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0) * (fl - fu);
    d.dp_ds = (zl * fl - zu * fu) / s;
    return d;
}

/* -log2 P with P floored */
NVC_HD double nvc_rate_bits(double p)
{
    return -log2(p > NVC_RATE_P_MIN_D ? p : NVC_RATE_P_MIN_D);
}

/* d bits / dP (zero where the floor holds) */
NVC_HD double nvc_rate_dbits(double p)
{
    return p > NVC_RATE_P_MIN_D ? -1.0 / (p * 0.6931471805599453) : 0.0;
}

NVC_HD double nvc_rate_scale(float s)
{
    return s > NVC_RATE_SCALE_MIN_D ? (double)s : NVC_RATE_SCALE_MIN_D;
}

/* Most mixture components the rate ops accept. */
#define NVC_RATE_GMM_KMAX 16

/* softmax over k of logits (B, K, M) at element base = b*K*M + m, into w (K) */
NVC_HD void nvc_rate_gmm_weights(const float *logits, int K, int M, size_t base, double *w)
{
    double mx = -INFINITY, sum = 0.0;
    for (int k = 0; k < K; k++)
        mx = fmax(mx, (double)logits[base + (size_t)k * M]);
    for (int k = 0; k < K; k++)
        sum += w[k] = exp(logits[base + (size_t)k * M] - mx);
    for (int k = 0; k < K; k++)
        w[k] /= sum;
}

#endif /* NVC_NN_RATE_MATH_H */
