/*
 * SSIM and MS-SSIM of one plane, forward and gradient.
 *
 * With l = (2 mu1 mu2 + C1) / (mu1^2 + mu2^2 + C1) and
 * c = (2 s12 + C2) / (s1 + s2 + C2), where mu = G*x, s1 = G*x^2 - mu1^2,
 * s12 = G*(xy) - mu1 mu2 (G: valid Gaussian filtering), SSIM = mean(l c) and
 * CS = mean(c). The gradient goes to the three maps mu1, G*x^2 and G*(xy),
 * then through the transposed filter: dx = G^T dmu1 + 2x G^T dexx + y G^T dexy.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "nn/ssim.h"

#define WIN NVC_SSIM_WIN
#define C1 (0.01f * 0.01f)
#define C2 (0.03f * 0.03f)

static const double ms_weights[NVC_MSSSIM_SCALES] = { 0.0448, 0.2856, 0.3001, 0.2363, 0.1333 };

/* The window as pytorch_msssim builds it, in float. */
static void gauss_win(float *g)
{
    float sum = 0.0f;
    for (int i = 0; i < WIN; i++) {
        float c = (float)(i - WIN / 2);
        g[i] = expf(-(c * c) / (2.0f * 1.5f * 1.5f));
        sum += g[i];
    }
    for (int i = 0; i < WIN; i++)
        g[i] /= sum;
}

/* out (H-10, W-10) = valid filtering of in (H, W): along H, then along W. */
static void filt(const float *in, int H, int W, const float *g, float *tmp, float *out)
{
    const int Hv = H - WIN + 1, Wv = W - WIN + 1;
    for (int i = 0; i < Hv; i++) {
        float *t = tmp + (size_t)i * W;
        for (int j = 0; j < W; j++)
            t[j] = 0.0f;
        for (int k = 0; k < WIN; k++) {
            const float *r = in + (size_t)(i + k) * W;
            for (int j = 0; j < W; j++)
                t[j] += g[k] * r[j];
        }
    }
    for (int i = 0; i < Hv; i++) {
        const float *t = tmp + (size_t)i * W;
        float *o = out + (size_t)i * Wv;
        for (int j = 0; j < Wv; j++) {
            float s = 0.0f;
            for (int k = 0; k < WIN; k++)
                s += g[k] * t[j + k];
            o[j] = s;
        }
    }
}

/* out (H, W) = transposed valid filtering of din (H-10, W-10) */
static void filt_t(const float *din, int H, int W, const float *g, float *tmp, float *out)
{
    const int Hv = H - WIN + 1, Wv = W - WIN + 1;
    memset(tmp, 0, (size_t)Hv * W * sizeof(float));
    for (int i = 0; i < Hv; i++) {
        const float *d = din + (size_t)i * Wv;
        float *t = tmp + (size_t)i * W;
        for (int j = 0; j < Wv; j++)
            for (int k = 0; k < WIN; k++)
                t[j + k] += g[k] * d[j];
    }
    memset(out, 0, (size_t)H * W * sizeof(float));
    for (int i = 0; i < Hv; i++) {
        const float *t = tmp + (size_t)i * W;
        for (int k = 0; k < WIN; k++) {
            float *o = out + (size_t)(i + k) * W;
            for (int j = 0; j < W; j++)
                o[j] += g[k] * t[j];
        }
    }
}

size_t nvc_nn_ssim_work_size(int H, int W)
{
    size_t hw = (size_t)H * W, nv = (size_t)(H - WIN + 1) * (W - WIN + 1);
    return 2 * hw + (size_t)(H - WIN + 1) * W + 8 * nv;
}

static void product(float *dst, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = a[i] * b[i];
}

/* SSIM and CS of one level; with dx, dx += gs * dSSIM/dx + gc * dCS/dx. */
static void ssim_level(const float *x, const float *y, int H, int W, float *work, double *ssim, double *cs,
                       double gs, double gc, float *dx)
{
    const size_t hw = (size_t)H * W, nv = (size_t)(H - WIN + 1) * (W - WIN + 1);
    float g[WIN];
    float *prod = work, *full = prod + hw, *tmp = full + hw, *mu1 = tmp + (size_t)(H - WIN + 1) * W;
    float *mu2 = mu1 + nv, *exx = mu2 + nv, *eyy = exx + nv, *exy = eyy + nv;
    float *dmu = exy + nv, *dxx = dmu + nv, *dxy = dxx + nv;
    gauss_win(g);
    filt(x, H, W, g, tmp, mu1);
    filt(y, H, W, g, tmp, mu2);
    product(prod, x, x, hw);
    filt(prod, H, W, g, tmp, exx);
    product(prod, y, y, hw);
    filt(prod, H, W, g, tmp, eyy);
    product(prod, x, y, hw);
    filt(prod, H, W, g, tmp, exy);
    double ss = 0.0, sc = 0.0;
    const double ks = gs / (double)nv, kc = gc / (double)nv;
    for (size_t i = 0; i < nv; i++) {
        float m1 = mu1[i], m2 = mu2[i];
        float s1 = exx[i] - m1 * m1, s2 = eyy[i] - m2 * m2, s12 = exy[i] - m1 * m2;
        float b1 = m1 * m1 + m2 * m2 + C1, b2 = s1 + s2 + C2;
        float l = (2.0f * m1 * m2 + C1) / b1, c = (2.0f * s12 + C2) / b2;
        ss += l * c;
        sc += c;
        if (dx) {
            double dl = 2.0 * (m2 - l * m1) / b1, dc = (2.0 * m1 * c - 2.0 * m2) / b2, t = ks * l + kc;
            dmu[i] = (float)(ks * (c * dl + l * dc) + kc * dc);
            dxx[i] = (float)(-t * c / b2);
            dxy[i] = (float)(2.0 * t / b2);
        }
    }
    *ssim = ss / (double)nv;
    *cs = sc / (double)nv;
    if (!dx)
        return;
    filt_t(dmu, H, W, g, tmp, full);
    for (size_t i = 0; i < hw; i++)
        dx[i] += full[i];
    filt_t(dxx, H, W, g, tmp, full);
    for (size_t i = 0; i < hw; i++)
        dx[i] += 2.0f * x[i] * full[i];
    filt_t(dxy, H, W, g, tmp, full);
    for (size_t i = 0; i < hw; i++)
        dx[i] += y[i] * full[i];
}

double nvc_nn_ssim_plane(const float *x, const float *y, int H, int W, float *work, double g, float *dx)
{
    double ssim, cs;
    ssim_level(x, y, H, W, work, &ssim, &cs, g, 0.0, dx);
    return ssim;
}

/* ---- MS-SSIM ---------------------------------------------------------------------------- */

/* avg_pool2d(kernel 2, stride 2, padding = side % 2, count_include_pad): */
static inline int pooled(int n)
{
    return (n + 2 * (n % 2) - 2) / 2 + 1;
}

static void pool(const float *in, int H, int W, float *out)
{
    const int Ho = pooled(H), Wo = pooled(W), ph = H % 2, pw = W % 2;
    for (int i = 0; i < Ho; i++)
        for (int j = 0; j < Wo; j++) {
            float s = 0.0f;
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 2; b++) {
                    int r = 2 * i - ph + a, c = 2 * j - pw + b;
                    if (r >= 0 && r < H && c >= 0 && c < W)
                        s += in[(size_t)r * W + c];
                }
            out[(size_t)i * Wo + j] = 0.25f * s;
        }
}

static void pool_t(const float *dout, int H, int W, float *din)
{
    const int Ho = pooled(H), Wo = pooled(W), ph = H % 2, pw = W % 2;
    for (int i = 0; i < Ho; i++)
        for (int j = 0; j < Wo; j++) {
            float g = 0.25f * dout[(size_t)i * Wo + j];
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 2; b++) {
                    int r = 2 * i - ph + a, c = 2 * j - pw + b;
                    if (r >= 0 && r < H && c >= 0 && c < W)
                        din[(size_t)r * W + c] += g;
                }
        }
}

typedef struct Pyramid {
    int h[NVC_MSSSIM_SCALES], w[NVC_MSSSIM_SCALES];
    size_t off[NVC_MSSSIM_SCALES]; /* offsets of levels 1.. in a level buffer */
    size_t total;
} Pyramid;

static void pyramid(Pyramid *p, int H, int W)
{
    p->h[0] = H, p->w[0] = W, p->off[0] = 0, p->total = 0;
    for (int l = 1; l < NVC_MSSSIM_SCALES; l++) {
        p->h[l] = pooled(p->h[l - 1]), p->w[l] = pooled(p->w[l - 1]);
        p->off[l] = p->total;
        p->total += (size_t)p->h[l] * p->w[l];
    }
}

size_t nvc_nn_msssim_work_size(int H, int W)
{
    Pyramid p;
    pyramid(&p, H, W);
    return 3 * p.total + nvc_nn_ssim_work_size(H, W);
}

double nvc_nn_msssim_plane(const float *x, const float *y, int H, int W, float *work, double g, float *dx)
{
    Pyramid p;
    pyramid(&p, H, W);
    float *xs = work, *ys = xs + p.total, *ds = ys + p.total, *lw = ds + p.total;
    const float *xl[NVC_MSSSIM_SCALES], *yl[NVC_MSSSIM_SCALES];
    double v[NVC_MSSSIM_SCALES], val = 1.0;
    xl[0] = x, yl[0] = y;
    for (int l = 0; l < NVC_MSSSIM_SCALES; l++) {
        double ssim, cs;
        if (l) {
            pool(xl[l - 1], p.h[l - 1], p.w[l - 1], xs + p.off[l]);
            pool(yl[l - 1], p.h[l - 1], p.w[l - 1], ys + p.off[l]);
            xl[l] = xs + p.off[l], yl[l] = ys + p.off[l];
        }
        ssim_level(xl[l], yl[l], p.h[l], p.w[l], lw, &ssim, &cs, 0.0, 0.0, NULL);
        v[l] = fmax(l < NVC_MSSSIM_SCALES - 1 ? cs : ssim, 0.0);
        val *= pow(v[l], ms_weights[l]);
    }
    if (!dx)
        return val;
    memset(ds, 0, p.total * sizeof(float));
    for (int l = NVC_MSSSIM_SCALES - 1; l >= 0; l--) {
        /* d val / d v_l = w_l v_l^(w_l - 1) prod_{m != l} v_m^w_m */
        double dv = 0.0, ssim, cs;
        if (v[l] > 0.0) {
            dv = g * ms_weights[l] * pow(v[l], ms_weights[l] - 1.0);
            for (int m = 0; m < NVC_MSSSIM_SCALES; m++)
                if (m != l)
                    dv *= pow(v[m], ms_weights[m]);
        }
        float *d = l ? ds + p.off[l] : dx;
        int last = l == NVC_MSSSIM_SCALES - 1;
        ssim_level(xl[l], yl[l], p.h[l], p.w[l], lw, &ssim, &cs, last ? dv : 0.0, last ? 0.0 : dv, d);
        if (!last)
            pool_t(ds + p.off[l + 1], p.h[l], p.w[l], d);
    }
    return val;
}
