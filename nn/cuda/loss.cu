/*
 * Losses on CUDA: MSE, L1, SSIM, MS-SSIM (all planes at once, same maths as
 * nn/ssim.c) and rate terms (nn/rate_math.h, shared with the CPU). Every
 * reduction is a fixed tree: deterministic.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "nn/cuda/common.cuh"
#include "nn/rate_math.h"
#include "nn/ssim.h"

/* ---- MSE, L1 --------------------------------------------------------------------------------------- */

__global__ static void dist_kernel(const float *pred, const float *target, size_t n, int l1, double *part)
{
    size_t b0 = (size_t)blockIdx.x * RED_CHUNK, e = min(n, b0 + RED_CHUNK);
    double s = 0.0;
    for (size_t i = b0 + threadIdx.x; i < e; i += NT) {
        double d = (double)pred[i] - target[i];
        s += l1 ? fabs(d) : d * d;
    }
    s = block_sum(s);
    if (threadIdx.x == 0)
        part[blockIdx.x] = s;
}

__global__ static void dist_bwd_kernel(const float *pred, const float *target, float *dpred, size_t n, float k, int l1)
{
    GRID_STRIDE(i, n)
    {
        float d = pred[i] - target[i];
        dpred[i] += l1 ? (d > 0.0f ? k : d < 0.0f ? -k : 0.0f) : k * d;
    }
}

static void dist_forward(NvcNn *nn, float *loss, const float *pred, const float *target, size_t n, int l1)
{
    size_t nb = (n + RED_CHUNK - 1) / RED_CHUNK;
    double *part = (double *)nvc_cuda_scratch(nn, 2 * nb + 2);
    if (!part)
        return;
    if (nb)
        dist_kernel<<<(unsigned)nb, NT, 0, STREAM(nn)>>>(pred, target, n, l1, part);
    nvc_cuda_sum_partials(nn, part, nb, loss, n ? 1.0 / (double)n : 0.0);
}

extern "C" {

void nvc_mse_forward_cuda(NvcNn *nn, float *loss, const float *pred, const float *target, size_t n)
{
    dist_forward(nn, loss, pred, target, n, 0);
}

void nvc_mse_backward_cuda(NvcNn *nn, float dloss, const float *pred, const float *target, float *dpred, size_t n)
{
    if (n)
        dist_bwd_kernel<<<LAUNCH(nn, n)>>>(pred, target, dpred, n, 2.0f * dloss / (float)n, 0);
    nvc_cuda_check(nn, "mse");
}

void nvc_l1_forward_cuda(NvcNn *nn, float *loss, const float *pred, const float *target, size_t n)
{
    dist_forward(nn, loss, pred, target, n, 1);
}

void nvc_l1_backward_cuda(NvcNn *nn, float dloss, const float *pred, const float *target, float *dpred, size_t n)
{
    if (n)
        dist_bwd_kernel<<<LAUNCH(nn, n)>>>(pred, target, dpred, n, dloss / (float)n, 1);
    nvc_cuda_check(nn, "l1");
}

} /* extern "C" */

/* ---- rates -------------------------------------------------------------------------------------------- */

__global__ static void rate_kernel(const float *x, const float *mean, const float *scale, size_t n, int laplace,
                                   double *part)
{
    size_t b0 = (size_t)blockIdx.x * RED_CHUNK, e = min(n, b0 + RED_CHUNK);
    double s = 0.0;
    for (size_t i = b0 + threadIdx.x; i < e; i += NT)
        s += nvc_rate_bits(nvc_rate_interval((double)x[i] - (mean ? mean[i] : 0.0f), nvc_rate_scale(scale[i]),
                                             laplace).p);
    s = block_sum(s);
    if (threadIdx.x == 0)
        part[blockIdx.x] = s;
}

__global__ static void rate_bwd_kernel(float dbits, const float *x, const float *mean, const float *scale, float *dx,
                                       float *dmean, float *dscale, size_t n, int laplace)
{
    GRID_STRIDE(i, n)
    {
        NvcInterval d = nvc_rate_interval((double)x[i] - (mean ? mean[i] : 0.0f), nvc_rate_scale(scale[i]), laplace);
        double g = dbits * nvc_rate_dbits(d.p);
        if (dx)
            dx[i] += (float)(g * d.dp_dv);
        if (dmean)
            dmean[i] -= (float)(g * d.dp_dv);
        if (dscale && scale[i] > NVC_RATE_SCALE_MIN)
            dscale[i] += (float)(g * d.dp_ds);
    }
}

static void rate_forward(NvcNn *nn, float *bits, const float *x, const float *mean, const float *scale, size_t n,
                         int laplace)
{
    size_t nb = (n + RED_CHUNK - 1) / RED_CHUNK;
    double *part = (double *)nvc_cuda_scratch(nn, 2 * nb + 2);
    if (!part)
        return;
    if (nb)
        rate_kernel<<<(unsigned)nb, NT, 0, STREAM(nn)>>>(x, mean, scale, n, laplace, part);
    nvc_cuda_sum_partials(nn, part, nb, bits, 1.0);
}

__global__ static void gmm_kernel(const float *x, const float *logits, const float *means, const float *scales,
                                  int K, int M, size_t n, double *part)
{
    size_t b0 = (size_t)blockIdx.x * RED_CHUNK, e = min(n, b0 + RED_CHUNK);
    double s = 0.0, w[NVC_RATE_GMM_KMAX];
    for (size_t i = b0 + threadIdx.x; i < e; i += NT) {
        size_t base = i / M * K * M + i % M;
        double p = 0.0;
        nvc_rate_gmm_weights(logits, K, M, base, w);
        for (int k = 0; k < K; k++) {
            size_t j = base + (size_t)k * M;
            p += w[k] * nvc_rate_interval((double)x[i] - means[j], nvc_rate_scale(scales[j]), 0).p;
        }
        s += nvc_rate_bits(p);
    }
    s = block_sum(s);
    if (threadIdx.x == 0)
        part[blockIdx.x] = s;
}

__global__ static void gmm_bwd_kernel(float dbits, const float *x, const float *logits, const float *means,
                                      const float *scales, float *dx, float *dlogits, float *dmeans, float *dscales,
                                      int K, int M, size_t n)
{
    GRID_STRIDE(i, n)
    {
        size_t base = i / M * K * M + i % M;
        double w[NVC_RATE_GMM_KMAX], p = 0.0, gx = 0.0;
        NvcInterval d[NVC_RATE_GMM_KMAX];
        nvc_rate_gmm_weights(logits, K, M, base, w);
        for (int k = 0; k < K; k++) {
            size_t j = base + (size_t)k * M;
            d[k] = nvc_rate_interval((double)x[i] - means[j], nvc_rate_scale(scales[j]), 0);
            p += w[k] * d[k].p;
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
                dlogits[j] += (float)(g * w[k] * (d[k].p - p));
        }
        if (dx)
            dx[i] += (float)gx;
    }
}

static int gmm_dims(NvcNn *nn, int B, int K, int M)
{
    if (B > 0 && K > 0 && K <= NVC_RATE_GMM_KMAX && M > 0)
        return 0;
    return nvc_nn_fail(nn, NVC_ERR(EINVAL), "rate_gmm: bad shape B=%d K=%d M=%d (K <= %d)", B, K, M,
                       NVC_RATE_GMM_KMAX);
}

extern "C" {

void nvc_rate_gaussian_forward_cuda(NvcNn *nn, float *bits, const float *x, const float *mean, const float *scale,
                                    size_t n)
{
    rate_forward(nn, bits, x, mean, scale, n, 0);
}

void nvc_rate_gaussian_backward_cuda(NvcNn *nn, float dbits, const float *x, const float *mean, const float *scale,
                                     float *dx, float *dmean, float *dscale, size_t n)
{
    if (n)
        rate_bwd_kernel<<<LAUNCH(nn, n)>>>(dbits, x, mean, scale, dx, dmean, dscale, n, 0);
    nvc_cuda_check(nn, "rate_gaussian");
}

void nvc_rate_laplace_forward_cuda(NvcNn *nn, float *bits, const float *x, const float *mean, const float *scale,
                                   size_t n)
{
    rate_forward(nn, bits, x, mean, scale, n, 1);
}

void nvc_rate_laplace_backward_cuda(NvcNn *nn, float dbits, const float *x, const float *mean, const float *scale,
                                    float *dx, float *dmean, float *dscale, size_t n)
{
    if (n)
        rate_bwd_kernel<<<LAUNCH(nn, n)>>>(dbits, x, mean, scale, dx, dmean, dscale, n, 1);
    nvc_cuda_check(nn, "rate_laplace");
}

void nvc_rate_gmm_forward_cuda(NvcNn *nn, float *bits, const float *x, const float *logits, const float *means,
                               const float *scales, int B, int K, int M)
{
    if (gmm_dims(nn, B, K, M))
        return;
    size_t n = (size_t)B * M, nb = (n + RED_CHUNK - 1) / RED_CHUNK;
    double *part = (double *)nvc_cuda_scratch(nn, 2 * nb + 2);
    if (!part)
        return;
    gmm_kernel<<<(unsigned)nb, NT, 0, STREAM(nn)>>>(x, logits, means, scales, K, M, n, part);
    nvc_cuda_sum_partials(nn, part, nb, bits, 1.0);
}

void nvc_rate_gmm_backward_cuda(NvcNn *nn, float dbits, const float *x, const float *logits, const float *means,
                                const float *scales, float *dx, float *dlogits, float *dmeans, float *dscales, int B,
                                int K, int M)
{
    if (gmm_dims(nn, B, K, M))
        return;
    size_t n = (size_t)B * M;
    gmm_bwd_kernel<<<LAUNCH(nn, n)>>>(dbits, x, logits, means, scales, dx, dlogits, dmeans, dscales, K, M, n);
    nvc_cuda_check(nn, "rate_gmm");
}

} /* extern "C" */

/* ---- SSIM / MS-SSIM over P planes at once --------------------------------------------------------------- */

#define WIN NVC_SSIM_WIN
#define C1 (0.01f * 0.01f)
#define C2 (0.03f * 0.03f)

__constant__ static float gwin[WIN];

static const double ms_weights[NVC_MSSSIM_SCALES] = { 0.0448, 0.2856, 0.3001, 0.2363, 0.1333 };

/* tmp (P, Hv, W) = filtering along H of a (mode 0), a*a (1) or a*b (2) */
__global__ static void filt_h_kernel(const float *a, const float *b, int mode, int P, int H, int W, float *tmp)
{
    const int Hv = H - WIN + 1;
    GRID_STRIDE(i, (size_t)P * Hv * W)
    {
        size_t p = i / ((size_t)Hv * W);
        int r = (int)(i % ((size_t)Hv * W) / W), c = (int)(i % W);
        const float *pa = a + p * H * W + (size_t)r * W + c, *pb = b ? b + p * H * W + (size_t)r * W + c : NULL;
        float s = 0.0f;
        for (int k = 0; k < WIN; k++) {
            float v = pa[(size_t)k * W];
            s += gwin[k] * (mode == 0 ? v : mode == 1 ? v * v : v * pb[(size_t)k * W]);
        }
        tmp[i] = s;
    }
}

/* out (P, Hv, Wv) = filtering of tmp (P, Hv, W) along W */
__global__ static void filt_w_kernel(const float *tmp, int P, int H, int W, float *out)
{
    const int Hv = H - WIN + 1, Wv = W - WIN + 1;
    GRID_STRIDE(i, (size_t)P * Hv * Wv)
    {
        size_t row = i / Wv;
        int c = (int)(i % Wv);
        const float *t = tmp + row * W + c;
        float s = 0.0f;
        for (int k = 0; k < WIN; k++)
            s += gwin[k] * t[k];
        out[i] = s;
    }
}

/* transposed filters: tmp (P, Hv, W) from d (P, Hv, Wv); out (P, H, W) from tmp */
__global__ static void filt_wt_kernel(const float *d, int P, int H, int W, float *tmp)
{
    const int Hv = H - WIN + 1, Wv = W - WIN + 1;
    GRID_STRIDE(i, (size_t)P * Hv * W)
    {
        size_t row = i / W;
        int c = (int)(i % W);
        float s = 0.0f;
        for (int k = 0; k < WIN; k++)
            if (c - k >= 0 && c - k < Wv)
                s += gwin[k] * d[row * Wv + c - k];
        tmp[i] = s;
    }
}

__global__ static void filt_ht_kernel(const float *tmp, int P, int H, int W, float *out)
{
    const int Hv = H - WIN + 1;
    GRID_STRIDE(i, (size_t)P * H * W)
    {
        size_t p = i / ((size_t)H * W);
        int r = (int)(i % ((size_t)H * W) / W), c = (int)(i % W);
        float s = 0.0f;
        for (int k = 0; k < WIN; k++)
            if (r - k >= 0 && r - k < Hv)
                s += gwin[k] * tmp[(p * Hv + r - k) * W + c];
        out[i] = s;
    }
}

struct Maps {
    float *mu1, *mu2, *exx, *eyy, *exy, *dmu, *dxx, *dxy;
};

/* per position: ssim and cs terms (into dmu, dxx for the reduction), or the
 * gradient maps given per-plane weights gs, gc (already divided by nv) */
__global__ static void ssim_map_kernel(Maps m, int P, size_t nv, const double *gs, const double *gc, int grad)
{
    GRID_STRIDE(i, (size_t)P * nv)
    {
        float m1 = m.mu1[i], m2 = m.mu2[i];
        float s1 = m.exx[i] - m1 * m1, s2 = m.eyy[i] - m2 * m2, s12 = m.exy[i] - m1 * m2;
        float b1 = m1 * m1 + m2 * m2 + C1, b2 = s1 + s2 + C2;
        float l = (2.0f * m1 * m2 + C1) / b1, c = (2.0f * s12 + C2) / b2;
        if (!grad) {
            m.dmu[i] = l * c;
            m.dxx[i] = c;
            continue;
        }
        size_t p = i / nv;
        double ks = gs[p], kc = gc[p];
        double dl = 2.0 * (m2 - l * m1) / b1, dc = (2.0 * m1 * c - 2.0 * m2) / b2, t = ks * l + kc;
        m.dmu[i] = (float)(ks * (c * dl + l * dc) + kc * dc);
        m.dxx[i] = (float)(-t * c / b2);
        m.dxy[i] = (float)(2.0 * t / b2);
    }
}

/* one block per plane: out[p] = mean of map (P, n) */
__global__ static void plane_mean_kernel(const float *map, size_t n, double *out)
{
    const float *m = map + (size_t)blockIdx.x * n;
    double s = 0.0;
    for (size_t i = threadIdx.x; i < n; i += NT)
        s += m[i];
    s = block_sum(s);
    if (threadIdx.x == 0)
        out[blockIdx.x] = s / (double)n;
}

/* dx += f1 + 2 x f2 + y f3 */
__global__ static void ssim_dx_kernel(float *dx, const float *x, const float *y, const float *f1, const float *f2,
                                      const float *f3, size_t n)
{
    GRID_STRIDE(i, n) dx[i] += f1[i] + 2.0f * x[i] * f2[i] + y[i] * f3[i];
}

static inline int pooled(int n)
{
    return (n + 2 * (n % 2) - 2) / 2 + 1;
}

__global__ static void pool_kernel(const float *in, int P, int H, int W, float *out)
{
    const int Ho = (H + 2 * (H % 2) - 2) / 2 + 1, Wo = (W + 2 * (W % 2) - 2) / 2 + 1, ph = H % 2, pw = W % 2;
    GRID_STRIDE(i, (size_t)P * Ho * Wo)
    {
        size_t p = i / ((size_t)Ho * Wo);
        int r = (int)(i % ((size_t)Ho * Wo) / Wo), c = (int)(i % Wo);
        float s = 0.0f;
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++) {
                int y = 2 * r - ph + a, x = 2 * c - pw + b;
                if (y >= 0 && y < H && x >= 0 && x < W)
                    s += in[(p * H + y) * W + x];
            }
        out[i] = 0.25f * s;
    }
}

/* din (P, H, W) += 0.25 dout of the window holding each pixel (windows do not overlap) */
__global__ static void pool_t_kernel(const float *dout, int P, int H, int W, float *din)
{
    const int Ho = (H + 2 * (H % 2) - 2) / 2 + 1, Wo = (W + 2 * (W % 2) - 2) / 2 + 1, ph = H % 2, pw = W % 2;
    GRID_STRIDE(i, (size_t)P * H * W)
    {
        size_t p = i / ((size_t)H * W);
        int y = (int)(i % ((size_t)H * W) / W), x = (int)(i % W), r = (y + ph) / 2, c = (x + pw) / 2;
        if (r < Ho && c < Wo)
            din[i] += 0.25f * dout[(p * Ho + r) * Wo + c];
    }
}

typedef struct SsimCtx {
    NvcNn *nn;
    int P;
    float *tmp, *full[3];
    Maps m;
    double *ssim, *cs;         /* per plane of the current level */
} SsimCtx;

static void filt(SsimCtx *s, const float *a, const float *b, int mode, int H, int W, float *out)
{
    NvcNn *nn = s->nn;
    filt_h_kernel<<<LAUNCH(nn, (size_t)s->P * (H - WIN + 1) * W)>>>(a, b, mode, s->P, H, W, s->tmp);
    filt_w_kernel<<<LAUNCH(nn, (size_t)s->P * (H - WIN + 1) * (W - WIN + 1))>>>(s->tmp, s->P, H, W, out);
}

/* SSIM and CS per plane into s->ssim, s->cs; with gs/gc (device, per plane,
 * weights of d mean), dx += the gradient */
static void ssim_level(SsimCtx *s, const float *x, const float *y, int H, int W, const double *gs, const double *gc,
                       float *dx)
{
    NvcNn *nn = s->nn;
    const int P = s->P;
    const size_t nv = (size_t)(H - WIN + 1) * (W - WIN + 1);
    filt(s, x, NULL, 0, H, W, s->m.mu1);
    filt(s, y, NULL, 0, H, W, s->m.mu2);
    filt(s, x, NULL, 1, H, W, s->m.exx);
    filt(s, y, NULL, 1, H, W, s->m.eyy);
    filt(s, x, y, 2, H, W, s->m.exy);
    ssim_map_kernel<<<LAUNCH(nn, (size_t)P * nv)>>>(s->m, P, nv, NULL, NULL, 0);
    plane_mean_kernel<<<P, NT, 0, STREAM(nn)>>>(s->m.dmu, nv, s->ssim);
    plane_mean_kernel<<<P, NT, 0, STREAM(nn)>>>(s->m.dxx, nv, s->cs);
    if (!dx)
        return;
    ssim_map_kernel<<<LAUNCH(nn, (size_t)P * nv)>>>(s->m, P, nv, gs, gc, 1);
    const float *d[3] = { s->m.dmu, s->m.dxx, s->m.dxy };
    for (int k = 0; k < 3; k++) {
        filt_wt_kernel<<<LAUNCH(nn, (size_t)P * (H - WIN + 1) * W)>>>(d[k], P, H, W, s->tmp);
        filt_ht_kernel<<<LAUNCH(nn, (size_t)P * H * W)>>>(s->tmp, P, H, W, s->full[k]);
    }
    ssim_dx_kernel<<<LAUNCH(nn, (size_t)P * H * W)>>>(dx, x, y, s->full[0], s->full[1], s->full[2], (size_t)P * H * W);
}

/* Per plane: the MS-SSIM value (or SSIM) and the weights of each level's
 * d mean(ssim) and d mean(cs) for the gradient (g: d loss / d value). */
__global__ static void ms_combine_kernel(const double *lv, int P, int levels, double g, const double *w, double *val,
                                         double *gs, double *gc, const size_t *nv)
{
    GRID_STRIDE(p, (size_t)P)
    {
        double v[NVC_MSSSIM_SCALES], prod = 1.0;
        for (int l = 0; l < levels; l++) {
            /* lv: level l's ssim at [l][0][p], cs at [l][1][p] */
            double x = l < levels - 1 ? lv[((size_t)l * 2 + 1) * P + p] : lv[((size_t)l * 2) * P + p];
            v[l] = levels == 1 ? x : fmax(x, 0.0);
            prod *= levels == 1 ? x : pow(v[l], w[l]);
        }
        val[p] = prod;
        for (int l = 0; l < levels; l++) {
            double dv = g;
            if (levels > 1) {
                dv = 0.0;
                if (v[l] > 0.0) {
                    dv = g * w[l] * pow(v[l], w[l] - 1.0);
                    for (int m = 0; m < levels; m++)
                        if (m != l)
                            dv *= pow(v[m], w[m]);
                }
            }
            int last = l == levels - 1;
            gs[(size_t)l * P + p] = last ? dv / (double)nv[l] : 0.0;
            gc[(size_t)l * P + p] = last ? 0.0 : dv / (double)nv[l];
        }
    }
}

static void ssim_run(NvcNn *nn, float *value, float dvalue, const float *pred, const float *target, float *dpred,
                     int B, int C, int H, int W, int ms)
{
    const int P = B * C, levels = ms ? NVC_MSSSIM_SCALES : 1;
    int h[NVC_MSSSIM_SCALES], w[NVC_MSSSIM_SCALES];
    size_t off[NVC_MSSSIM_SCALES], total = 0, nv[NVC_MSSSIM_SCALES];
    h[0] = H, w[0] = W, off[0] = 0;
    for (int l = 0; l < levels; l++) {
        if (l) {
            h[l] = pooled(h[l - 1]), w[l] = pooled(w[l - 1]);
            off[l] = total;
            total += (size_t)P * h[l] * w[l];
        }
        nv[l] = (size_t)(h[l] - WIN + 1) * (w[l] - WIN + 1);
    }
    const size_t hw = (size_t)P * H * W, nvm = (size_t)P * nv[0];
    /* floats: pyramids x, y, dx; tmp; 3 full maps; 8 maps; then doubles */
    size_t nf = 3 * total + 4 * hw + 8 * nvm, nd = (size_t)P * (4 * levels + 1) + 2 * levels;
    float *base = nvc_cuda_scratch(nn, nf + 2 * nd + 8);
    if (!base)
        return;
    SsimCtx s;
    s.nn = nn, s.P = P;
    float *xs = base, *ys = xs + total, *ds = ys + total;
    s.tmp = ds + total;
    s.full[0] = s.tmp + hw, s.full[1] = s.full[0] + hw, s.full[2] = s.full[1] + hw;
    float **mp[8] = { &s.m.mu1, &s.m.mu2, &s.m.exx, &s.m.eyy, &s.m.exy, &s.m.dmu, &s.m.dxx, &s.m.dxy };
    for (int k = 0; k < 8; k++)
        *mp[k] = s.full[2] + hw + (size_t)k * nvm;
    double *lv = (double *)(base + nf + (nf & 1)), *val = lv + (size_t)2 * P * levels, *gs = val + P;
    double *gc = gs + (size_t)P * levels, *wts = gc + (size_t)P * levels;
    size_t *nvd = (size_t *)(wts + levels);
    cudaMemcpyAsync(wts, ms_weights, levels * sizeof(double), cudaMemcpyHostToDevice, STREAM(nn));
    cudaMemcpyAsync(nvd, nv, levels * sizeof(size_t), cudaMemcpyHostToDevice, STREAM(nn));

    const float *xl[NVC_MSSSIM_SCALES], *yl[NVC_MSSSIM_SCALES];
    xl[0] = pred, yl[0] = target;
    for (int l = 0; l < levels; l++) {
        if (l) {
            pool_kernel<<<LAUNCH(nn, (size_t)P * h[l] * w[l])>>>(xl[l - 1], P, h[l - 1], w[l - 1], xs + off[l]);
            pool_kernel<<<LAUNCH(nn, (size_t)P * h[l] * w[l])>>>(yl[l - 1], P, h[l - 1], w[l - 1], ys + off[l]);
            xl[l] = xs + off[l], yl[l] = ys + off[l];
        }
        s.ssim = lv + (size_t)l * 2 * P, s.cs = s.ssim + P;
        ssim_level(&s, xl[l], yl[l], h[l], w[l], NULL, NULL, NULL);
    }
    /* per-plane values, gradient weights, then the mean over planes */
    ms_combine_kernel<<<nblocks((size_t)P), NT, 0, STREAM(nn)>>>(lv, P, levels, (double)dvalue / P, wts, val, gs, gc,
                                                                   nvd);
    if (value)
        nvc_cuda_sum_partials(nn, val, (size_t)P, value, 1.0 / P);
    if (dpred) {
        if (total)
            cudaMemsetAsync(ds, 0, total * sizeof(float), STREAM(nn));
        for (int l = levels - 1; l >= 0; l--) {
            float *d = l ? ds + off[l] : dpred;
            s.ssim = lv + (size_t)l * 2 * P, s.cs = s.ssim + P; /* recomputed, unchanged */
            ssim_level(&s, xl[l], yl[l], h[l], w[l], gs + (size_t)l * P, gc + (size_t)l * P, d);
            if (l < levels - 1)
                pool_t_kernel<<<LAUNCH(nn, (size_t)P * h[l] * w[l])>>>(ds + off[l + 1], P, h[l], w[l], d);
        }
    }
    nvc_cuda_check(nn, ms ? "msssim" : "ssim");
}

static int ssim_dims(NvcNn *nn, const char *op, int B, int C, int H, int W, int min)
{
    static int win_ready;
    if (!win_ready) {
        /* the window as nn/ssim.c builds it */
        float g[WIN], sum = 0.0f;
        for (int i = 0; i < WIN; i++) {
            float c = (float)(i - WIN / 2);
            g[i] = expf(-(c * c) / (2.0f * 1.5f * 1.5f));
            sum += g[i];
        }
        for (int i = 0; i < WIN; i++)
            g[i] /= sum;
        cudaMemcpyToSymbol(gwin, g, sizeof(g));
        win_ready = 1;
    }
    if (B > 0 && C > 0 && H >= min && W >= min)
        return 0;
    return nvc_nn_fail(nn, NVC_ERR(EINVAL), "%s: bad shape B=%d C=%d H=%d W=%d (sides must be >= %d)", op, B, C, H, W,
                       min);
}

extern "C" {

void nvc_ssim_forward_cuda(NvcNn *nn, float *value, const float *pred, const float *target, int B, int C, int H, int W)
{
    if (!ssim_dims(nn, "ssim", B, C, H, W, WIN))
        ssim_run(nn, value, 0.0f, pred, target, NULL, B, C, H, W, 0);
}

void nvc_ssim_backward_cuda(NvcNn *nn, float dvalue, const float *pred, const float *target, float *dpred, int B,
                            int C, int H, int W)
{
    if (!ssim_dims(nn, "ssim", B, C, H, W, WIN))
        ssim_run(nn, NULL, dvalue, pred, target, dpred, B, C, H, W, 0);
}

void nvc_msssim_forward_cuda(NvcNn *nn, float *value, const float *pred, const float *target, int B, int C, int H,
                             int W)
{
    if (!ssim_dims(nn, "msssim", B, C, H, W, NVC_MSSSIM_MIN))
        ssim_run(nn, value, 0.0f, pred, target, NULL, B, C, H, W, 1);
}

void nvc_msssim_backward_cuda(NvcNn *nn, float dvalue, const float *pred, const float *target, float *dpred, int B,
                              int C, int H, int W)
{
    if (!ssim_dims(nn, "msssim", B, C, H, W, NVC_MSSSIM_MIN))
        ssim_run(nn, NULL, dvalue, pred, target, dpred, B, C, H, W, 1);
}

} /* extern "C" */
