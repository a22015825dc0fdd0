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

/* s = 2: y[2 c + j] = x_j[c], one output row from 2 input rows (vectorized interleave) */
NVC_VEC_CLONES static void ps2_row_forward(float *y, const float *x0, const float *x1, int W)
{
#pragma omp simd
    for (int c = 0; c < W; c++) {
        y[2 * c] = x0[c];
        y[2 * c + 1] = x1[c];
    }
}

NVC_VEC_CLONES static void ps2_row_backward(const float *y, float *x0, float *x1, int W)
{
#pragma omp simd
    for (int c = 0; c < W; c++) {
        x0[c] += y[2 * c];
        x1[c] += y[2 * c + 1];
    }
}

void nvc_pixel_shuffle_forward(NvcNn *nn, float *out, const float *inp, int B, int C, int H, int W, int s)
{
    if (check_dims(nn, "pixel_shuffle", B, C, H, W, s))
        return;
    const int Wo = W * s;
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int u = 0; u < B * C; u++) {
        float *y = out + (size_t)u * H * s * Wo;
        const float *x = inp + (size_t)u * s * s * H * W;
        const size_t hw = (size_t)H * W;
        if (s == 2) {
            for (int r = 0; r < 2 * H; r++) {
                const float *xr = x + (size_t)(r & 1) * 2 * hw + (size_t)(r >> 1) * W;
                ps2_row_forward(y + (size_t)r * Wo, xr, xr + hw, W);
            }
            continue;
        }
        for (int i = 0; i < s; i++)
            for (int j = 0; j < s; j++) {
                const float *xp = x + (size_t)(i * s + j) * hw;
                for (int r = 0; r < H; r++) {
                    float *yr = y + (size_t)(r * s + i) * Wo + j;
                    const float *xr = xp + (size_t)r * W;
                    for (int c = 0; c < W; c++)
                        yr[c * s] = xr[c];
                }
            }
    }
}

void nvc_pixel_shuffle_backward(NvcNn *nn, const float *dout, float *dinp, int B, int C, int H, int W, int s)
{
    if (check_dims(nn, "pixel_shuffle", B, C, H, W, s))
        return;
    const int Wo = W * s;
#pragma omp parallel for num_threads(nn->threads) schedule(static)
    for (int u = 0; u < B * C; u++) {
        const float *dy = dout + (size_t)u * H * s * Wo;
        float *dx = dinp + (size_t)u * s * s * H * W;
        const size_t hw = (size_t)H * W;
        if (s == 2) {
            for (int r = 0; r < 2 * H; r++) {
                float *xr = dx + (size_t)(r & 1) * 2 * hw + (size_t)(r >> 1) * W;
                ps2_row_backward(dy + (size_t)r * Wo, xr, xr + hw, W);
            }
            continue;
        }
        for (int i = 0; i < s; i++)
            for (int j = 0; j < s; j++) {
                float *xp = dx + (size_t)(i * s + j) * hw;
                for (int r = 0; r < H; r++) {
                    const float *yr = dy + (size_t)(r * s + i) * Wo + j;
                    float *xr = xp + (size_t)r * W;
                    for (int c = 0; c < W; c++)
                        xr[c] += yr[c * s];
                }
            }
    }
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
