/*
 * PixelShuffle, bilinear upsampling and bilinear warping on the CPU.
 * Backward passes that scatter run one (image, channel) plane per unit, in a
 * fixed order inside the plane.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "codec/internal.h"
#include "nn/cpu.h"
#include "nn/vmath.h"

static int check_dims(NvcNn *nn, const char *op, int B, int C, int H, int W, int s)
{
    if (B > 0 && C > 0 && H > 0 && W > 0 && s > 0)
        return 0;
    return nvc_nn_fail(nn, NVC_ERR(EINVAL), "%s: bad shape B=%d C=%d H=%d W=%d s=%d", op, B, C, H, W, s);
}

/* ---- PixelShuffle -------------------------------------------------------------------- */

/* Columns [c0, c0 + L) of output row oy of one channel: t[c s + j] = the
 * input plane (oy mod s) s + j (hw apart from the next), row oy / s, column
 * c0 / s + c; c0 and L multiples of s. s = 2 is a vectorized interleave. */
NVC_VEC_CLONES void nvc_ps_gather_row(float *t, const float *x, size_t hw, int W, int s, int oy, int c0,
                                      int L)
{
    const float *r = x + (size_t)(oy % s) * s * hw + (size_t)(oy / s) * W + c0 / s;
    if (s == 2) {
        const float *r1 = r + hw;
#pragma omp simd
        for (int c = 0; c < L / 2; c++) {
            t[2 * c] = r[c];
            t[2 * c + 1] = r1[c];
        }
        return;
    }
    for (int j = 0; j < s; j++, r += hw)
        for (int c = 0; c < L / s; c++)
            t[c * s + j] = r[c];
}

/* The inverse: the input planes x += g scattered back */
NVC_VEC_CLONES void nvc_ps_scatter_add_row(float *x, const float *g, size_t hw, int W, int s, int oy, int c0,
                                           int L)
{
    float *r = x + (size_t)(oy % s) * s * hw + (size_t)(oy / s) * W + c0 / s;
    if (s == 2) {
        float *r1 = r + hw;
#pragma omp simd
        for (int c = 0; c < L / 2; c++) {
            r[c] += g[2 * c];
            r1[c] += g[2 * c + 1];
        }
        return;
    }
    for (int j = 0; j < s; j++, r += hw)
        for (int c = 0; c < L / s; c++)
            r[c] += g[c * s + j];
}

void nvc_pixel_shuffle_forward(NvcNn *nn, float *out, const float *inp, int B, int C, int H, int W, int s)
{
    if (check_dims(nn, "pixel_shuffle", B, C, H, W, s))
        return;
    const int Wo = W * s;
    const size_t hw = (size_t)H * W;
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int u = 0; u < B * C; u++)
        for (int oy = 0; oy < H * s; oy++)
            nvc_ps_gather_row(out + ((size_t)u * H * s + oy) * Wo, inp + (size_t)u * s * s * hw, hw, W, s, oy, 0,
                              Wo);
}

void nvc_pixel_shuffle_backward(NvcNn *nn, const float *dout, float *dinp, int B, int C, int H, int W, int s)
{
    if (check_dims(nn, "pixel_shuffle", B, C, H, W, s))
        return;
    const int Wo = W * s;
    const size_t hw = (size_t)H * W;
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int u = 0; u < B * C; u++)
        for (int oy = 0; oy < H * s; oy++)
            nvc_ps_scatter_add_row(dinp + (size_t)u * s * s * hw, dout + ((size_t)u * H * s + oy) * Wo, hw, W, s, oy, 0,
                                   Wo);
}

/* ---- bilinear upsampling, align_corners=False ---------------------------------------------- */

/* Source taps of output index o at scale 1/s (PyTorch's area_pixel_compute_source_index). */
static inline void up_taps(int o, int s, int n, int *i0, int *i1, float *l1)
{
    float src = ((float)o + 0.5f) * (1.0f / (float)s) - 0.5f;
    if (src < 0.0f)
        src = 0.0f;
    int i = (int)src;
    *i0 = i;
    *i1 = i + (i < n - 1);
    *l1 = src - (float)i;
}

void nvc_upsample_bilinear_forward(NvcNn *nn, float *out, const float *inp, int B, int C, int H, int W, int s)
{
    if (check_dims(nn, "upsample_bilinear", B, C, H, W, s))
        return;
    const int Ho = H * s, Wo = W * s;
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int u = 0; u < B * C; u++) {
        const float *x = inp + (size_t)u * H * W;
        float *y = out + (size_t)u * Ho * Wo;
        for (int oy = 0; oy < Ho; oy++) {
            int y0, y1, x0, x1;
            float ly, lx;
            up_taps(oy, s, H, &y0, &y1, &ly);
            const float *r0 = x + (size_t)y0 * W, *r1 = x + (size_t)y1 * W;
            for (int ox = 0; ox < Wo; ox++) {
                up_taps(ox, s, W, &x0, &x1, &lx);
                y[(size_t)oy * Wo + ox] = (1.0f - ly) * ((1.0f - lx) * r0[x0] + lx * r0[x1]) +
                                          ly * ((1.0f - lx) * r1[x0] + lx * r1[x1]);
            }
        }
    }
}

void nvc_upsample_bilinear_backward(NvcNn *nn, const float *dout, float *dinp, int B, int C, int H, int W, int s)
{
    if (check_dims(nn, "upsample_bilinear", B, C, H, W, s))
        return;
    const int Ho = H * s, Wo = W * s;
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int u = 0; u < B * C; u++) {
        float *dx = dinp + (size_t)u * H * W;
        const float *dy = dout + (size_t)u * Ho * Wo;
        for (int oy = 0; oy < Ho; oy++) {
            int y0, y1, x0, x1;
            float ly, lx;
            up_taps(oy, s, H, &y0, &y1, &ly);
            float *r0 = dx + (size_t)y0 * W, *r1 = dx + (size_t)y1 * W;
            for (int ox = 0; ox < Wo; ox++) {
                float g = dy[(size_t)oy * Wo + ox];
                up_taps(ox, s, W, &x0, &x1, &lx);
                r0[x0] += (1.0f - ly) * (1.0f - lx) * g;
                r0[x1] += (1.0f - ly) * lx * g;
                r1[x0] += ly * (1.0f - lx) * g;
                r1[x1] += ly * lx * g;
            }
        }
    }
}

/* ---- warp: bilinear sampling at (x + fx, y + fy), border padding ----------------------------- */

/* Clamp a coordinate to [0, n-1]; *g = 0 where clamped, borders included
 * (PyTorch's clip_coordinates_set_grad). */
static inline float clip_coord(float v, int n, float *g)
{
    if (!(v > 0.0f)) { /* NaN too */
        *g = 0.0f;
        return 0.0f;
    }
    if (v >= (float)(n - 1)) {
        *g = 0.0f;
        return (float)(n - 1);
    }
    *g = 1.0f;
    return v;
}

typedef struct Taps {
    int x0, y0;
    float wx, wy;   /* weights of x0 + 1, y0 + 1 */
    float gx, gy;   /* d(clipped)/d(unclipped) */
    int vx1, vy1;   /* x0 + 1 (y0 + 1) is inside */
} Taps;

static inline void warp_taps(Taps *t, int x, int y, float fx, float fy, int H, int W)
{
    float sx = clip_coord((float)x + fx, W, &t->gx), sy = clip_coord((float)y + fy, H, &t->gy);
    float fx0 = floorf(sx), fy0 = floorf(sy);
    t->x0 = (int)fx0, t->y0 = (int)fy0;
    t->wx = sx - fx0, t->wy = sy - fy0;
    t->vx1 = t->x0 + 1 < W, t->vy1 = t->y0 + 1 < H;
}

static inline float tap(const float *p, const Taps *t, int W, int dx, int dy)
{
    if ((dx && !t->vx1) || (dy && !t->vy1))
        return 0.0f;
    return p[(size_t)(t->y0 + dy) * W + t->x0 + dx];
}

/* The taps of one output pixel, shared by every channel of an image. */
typedef struct WarpTap {
    int32_t i;       /* y0 W + x0 */
    float wx, wy;
    int32_t vx1, vy1;
} WarpTap;

void nvc_warp_forward(NvcNn *nn, float *out, const float *inp, const float *flow, int B, int C, int H, int W)
{
    if (check_dims(nn, "warp", B, C, H, W, 1))
        return;
    const size_t hw = (size_t)H * W;
    WarpTap *taps = (WarpTap *)nvc_nn_scratch(nn, hw * (sizeof(WarpTap) / sizeof(float)));
    if (!taps)
        return;
    for (int b = 0; b < B; b++) {
        const float *fxp = flow + (size_t)b * 2 * hw, *fyp = fxp + hw;
#pragma omp parallel for num_threads(nn->threads) schedule(static)
        for (int py = 0; py < H; py++)
            for (int px = 0; px < W; px++) {
                size_t i = (size_t)py * W + px;
                Taps t;
                warp_taps(&t, px, py, fxp[i], fyp[i], H, W);
                taps[i] = (WarpTap){ t.y0 * W + t.x0, t.wx, t.wy, t.vx1, t.vy1 };
            }
        /* each channel: the same expression as the taps' bilinear sum in place */
#pragma omp parallel for num_threads(nn->threads) schedule(static)
        for (int c = 0; c < C; c++) {
            const float *x = inp + ((size_t)b * C + c) * hw;
            float *y = out + ((size_t)b * C + c) * hw;
            for (size_t i = 0; i < hw; i++) {
                const WarpTap *t = &taps[i];
                const float *p = x + t->i;
                float a = p[0], bx = t->vx1 ? p[1] : 0.0f, cy = t->vy1 ? p[W] : 0.0f;
                float d = t->vx1 && t->vy1 ? p[W + 1] : 0.0f;
                y[i] = (1.0f - t->wy) * ((1.0f - t->wx) * a + t->wx * bx) + t->wy * ((1.0f - t->wx) * cy + t->wx * d);
            }
        }
    }
}

static void warp_backward_input(NvcNn *nn, const float *dout, const float *flow, float *dinp, int B, int C, int H,
                                int W)
{
    const size_t hw = (size_t)H * W;
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int u = 0; u < B * C; u++) {
        int b = u / C;
        const float *fxp = flow + (size_t)b * 2 * hw, *fyp = fxp + hw, *dy = dout + (size_t)u * hw;
        float *dx = dinp + (size_t)u * hw;
        for (size_t i = 0; i < hw; i++) {
            Taps t;
            warp_taps(&t, (int)(i % W), (int)(i / W), fxp[i], fyp[i], H, W);
            float g = dy[i], *p = dx + (size_t)t.y0 * W + t.x0;
            p[0] += (1.0f - t.wy) * (1.0f - t.wx) * g;
            if (t.vx1)
                p[1] += (1.0f - t.wy) * t.wx * g;
            if (t.vy1)
                p[W] += t.wy * (1.0f - t.wx) * g;
            if (t.vx1 && t.vy1)
                p[W + 1] += t.wy * t.wx * g;
        }
    }
}

static void warp_backward_flow(NvcNn *nn, const float *dout, const float *inp, const float *flow, float *dflow, int B,
                               int C, int H, int W)
{
    const size_t hw = (size_t)H * W;
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int r = 0; r < B * H; r++) {
        int b = r / H, py = r % H;
        const float *fxp = flow + (size_t)b * 2 * hw, *fyp = fxp + hw;
        for (int px = 0; px < W; px++) {
            size_t i = (size_t)py * W + px;
            Taps t;
            warp_taps(&t, px, py, fxp[i], fyp[i], H, W);
            float gx = 0.0f, gy = 0.0f;
            for (int c = 0; c < C; c++) {
                const float *x = inp + ((size_t)b * C + c) * hw;
                float g = dout[((size_t)b * C + c) * hw + i];
                float v00 = tap(x, &t, W, 0, 0), v10 = tap(x, &t, W, 1, 0);
                float v01 = tap(x, &t, W, 0, 1), v11 = tap(x, &t, W, 1, 1);
                gx += g * ((1.0f - t.wy) * (v10 - v00) + t.wy * (v11 - v01));
                gy += g * ((1.0f - t.wx) * (v01 - v00) + t.wx * (v11 - v10));
            }
            dflow[(size_t)b * 2 * hw + i] += gx * t.gx;
            dflow[(size_t)b * 2 * hw + hw + i] += gy * t.gy;
        }
    }
}

void nvc_warp_backward(NvcNn *nn, const float *dout, const float *inp, const float *flow, float *dinp, float *dflow,
                       int B, int C, int H, int W)
{
    if (check_dims(nn, "warp", B, C, H, W, 1))
        return;
    if (dinp)
        warp_backward_input(nn, dout, flow, dinp, B, C, H, W);
    if (dflow)
        warp_backward_flow(nn, dout, inp, flow, dflow, B, C, H, W);
}
