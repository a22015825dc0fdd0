/*
 * PixelShuffle, bilinear upsampling and warping on CUDA. Backward passes
 * gather in a fixed order, except the input gradient of warp (an arbitrary
 * flow scatters; atomics, so its float sums are in no fixed order).
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "nn/cuda/common.cuh"

static int check_dims(NvcNn *nn, const char *op, int B, int C, int H, int W, int s)
{
    if (B > 0 && C > 0 && H > 0 && W > 0 && s > 0)
        return 0;
    return nvc_nn_fail(nn, NVC_ERR(EINVAL), "%s: bad shape B=%d C=%d H=%d W=%d s=%d", op, B, C, H, W, s);
}

/* ---- PixelShuffle ------------------------------------------------------------------------------ */

/* one thread per output element; backward: per input element */
__global__ static void ps_kernel(float *out, const float *inp, int B, int C, int H, int W, int s, int bwd)
{
    const size_t Ho = (size_t)H * s, Wo = (size_t)W * s;
    GRID_STRIDE(i, (size_t)B * C * Ho * Wo)
    {
        size_t u = i / (Ho * Wo), y = i % (Ho * Wo) / Wo, x = i % Wo;
        size_t src = ((u * s * s + (y % s) * s + x % s) * H + y / s) * W + x / s;
        if (bwd)
            out[src] += inp[i]; /* out: dinp, inp: dout; a one-to-one map */
        else
            out[i] = inp[src];
    }
}

extern "C" void nvc_pixel_shuffle_forward_cuda(NvcNn *nn, float *out, const float *inp, int B, int C, int H, int W,
                                               int s)
{
    if (check_dims(nn, "pixel_shuffle", B, C, H, W, s))
        return;
    ps_kernel<<<LAUNCH(nn, (size_t)B * C * H * W * s * s)>>>(out, inp, B, C, H, W, s, 0);
    nvc_cuda_check(nn, "pixel_shuffle");
}

extern "C" void nvc_pixel_shuffle_backward_cuda(NvcNn *nn, const float *dout, float *dinp, int B, int C, int H, int W,
                                                int s)
{
    if (check_dims(nn, "pixel_shuffle", B, C, H, W, s))
        return;
    ps_kernel<<<LAUNCH(nn, (size_t)B * C * H * W * s * s)>>>(dinp, dout, B, C, H, W, s, 1);
    nvc_cuda_check(nn, "pixel_shuffle");
}

/* ---- bilinear upsampling -------------------------------------------------------------------------- */

__device__ __forceinline__ void up_taps(int o, int s, int n, int *i0, int *i1, float *l1)
{
    float src = ((float)o + 0.5f) * (1.0f / (float)s) - 0.5f;
    if (src < 0.0f)
        src = 0.0f;
    int i = (int)src;
    *i0 = i;
    *i1 = i + (i < n - 1);
    *l1 = src - (float)i;
}

__global__ static void up_fwd_kernel(float *out, const float *inp, int B, int C, int H, int W, int s)
{
    const int Ho = H * s, Wo = W * s;
    GRID_STRIDE(i, (size_t)B * C * Ho * Wo)
    {
        size_t u = i / ((size_t)Ho * Wo);
        int oy = (int)(i % ((size_t)Ho * Wo) / Wo), ox = (int)(i % Wo), y0, y1, x0, x1;
        float ly, lx;
        up_taps(oy, s, H, &y0, &y1, &ly);
        up_taps(ox, s, W, &x0, &x1, &lx);
        const float *x = inp + u * H * W, *r0 = x + (size_t)y0 * W, *r1 = x + (size_t)y1 * W;
        out[i] = (1.0f - ly) * ((1.0f - lx) * r0[x0] + lx * r0[x1]) + ly * ((1.0f - lx) * r1[x0] + lx * r1[x1]);
    }
}

/* weight of input index i in output index o (0 when not a tap) */
__device__ __forceinline__ float up_weight(int o, int s, int n, int i)
{
    int i0, i1;
    float l;
    up_taps(o, s, n, &i0, &i1, &l);
    return (i0 == i ? 1.0f - l : 0.0f) + (i1 == i ? l : 0.0f);
}

/* per input element: the outputs that sample it lie within [(i-1)s, (i+2)s) */
__global__ static void up_bwd_kernel(const float *dout, float *dinp, int B, int C, int H, int W, int s)
{
    const int Ho = H * s, Wo = W * s;
    GRID_STRIDE(i, (size_t)B * C * H * W)
    {
        size_t u = i / ((size_t)H * W);
        int iy = (int)(i % ((size_t)H * W) / W), ix = (int)(i % W);
        const float *dy = dout + u * Ho * Wo;
        float acc = 0.0f;
        for (int oy = max(0, (iy - 1) * s); oy < min(Ho, (iy + 2) * s); oy++) {
            float wy = up_weight(oy, s, H, iy);
            if (wy == 0.0f)
                continue;
            for (int ox = max(0, (ix - 1) * s); ox < min(Wo, (ix + 2) * s); ox++) {
                float wx = up_weight(ox, s, W, ix);
                if (wx != 0.0f)
                    acc += wy * wx * dy[(size_t)oy * Wo + ox];
            }
        }
        dinp[i] += acc;
    }
}

extern "C" void nvc_upsample_bilinear_forward_cuda(NvcNn *nn, float *out, const float *inp, int B, int C, int H,
                                                   int W, int s)
{
    if (check_dims(nn, "upsample_bilinear", B, C, H, W, s))
        return;
    up_fwd_kernel<<<LAUNCH(nn, (size_t)B * C * H * W * s * s)>>>(out, inp, B, C, H, W, s);
    nvc_cuda_check(nn, "upsample_bilinear");
}

extern "C" void nvc_upsample_bilinear_backward_cuda(NvcNn *nn, const float *dout, float *dinp, int B, int C, int H,
                                                    int W, int s)
{
    if (check_dims(nn, "upsample_bilinear", B, C, H, W, s))
        return;
    up_bwd_kernel<<<LAUNCH(nn, (size_t)B * C * H * W)>>>(dout, dinp, B, C, H, W, s);
    nvc_cuda_check(nn, "upsample_bilinear");
}

/* ---- warp ------------------------------------------------------------------------------------------- */

struct Taps {
    int x0, y0, vx1, vy1;
    float wx, wy, gx, gy;
};

__device__ __forceinline__ float clip_coord(float v, int n, float *g)
{
    if (!(v > 0.0f)) {
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

__device__ __forceinline__ Taps warp_taps(int x, int y, float fx, float fy, int H, int W)
{
    Taps t;
    float sx = clip_coord((float)x + fx, W, &t.gx), sy = clip_coord((float)y + fy, H, &t.gy);
    float fx0 = floorf(sx), fy0 = floorf(sy);
    t.x0 = (int)fx0, t.y0 = (int)fy0;
    t.wx = sx - fx0, t.wy = sy - fy0;
    t.vx1 = t.x0 + 1 < W, t.vy1 = t.y0 + 1 < H;
    return t;
}

__device__ __forceinline__ float tap(const float *p, const Taps &t, int W, int dx, int dy)
{
    if ((dx && !t.vx1) || (dy && !t.vy1))
        return 0.0f;
    return p[(size_t)(t.y0 + dy) * W + t.x0 + dx];
}

__global__ static void warp_fwd_kernel(float *out, const float *inp, const float *flow, int B, int C, int H, int W)
{
    const size_t hw = (size_t)H * W;
    GRID_STRIDE(i, (size_t)B * C * hw)
    {
        size_t u = i / hw, p = i % hw, b = u / C;
        Taps t = warp_taps((int)(p % W), (int)(p / W), flow[b * 2 * hw + p], flow[b * 2 * hw + hw + p], H, W);
        const float *x = inp + u * hw;
        out[i] = (1.0f - t.wy) * ((1.0f - t.wx) * tap(x, t, W, 0, 0) + t.wx * tap(x, t, W, 1, 0)) +
                 t.wy * ((1.0f - t.wx) * tap(x, t, W, 0, 1) + t.wx * tap(x, t, W, 1, 1));
    }
}

__global__ static void warp_dx_kernel(const float *dout, const float *flow, float *dinp, int B, int C, int H, int W)
{
    const size_t hw = (size_t)H * W;
    GRID_STRIDE(i, (size_t)B * C * hw)
    {
        size_t u = i / hw, p = i % hw, b = u / C;
        Taps t = warp_taps((int)(p % W), (int)(p / W), flow[b * 2 * hw + p], flow[b * 2 * hw + hw + p], H, W);
        float g = dout[i], *d = dinp + u * hw + (size_t)t.y0 * W + t.x0;
        atomicAdd(d, (1.0f - t.wy) * (1.0f - t.wx) * g);
        if (t.vx1)
            atomicAdd(d + 1, (1.0f - t.wy) * t.wx * g);
        if (t.vy1)
            atomicAdd(d + W, t.wy * (1.0f - t.wx) * g);
        if (t.vx1 && t.vy1)
            atomicAdd(d + W + 1, t.wy * t.wx * g);
    }
}

__global__ static void warp_dflow_kernel(const float *dout, const float *inp, const float *flow, float *dflow, int B,
                                         int C, int H, int W)
{
    const size_t hw = (size_t)H * W;
    GRID_STRIDE(i, (size_t)B * hw)
    {
        size_t b = i / hw, p = i % hw;
        Taps t = warp_taps((int)(p % W), (int)(p / W), flow[b * 2 * hw + p], flow[b * 2 * hw + hw + p], H, W);
        float gx = 0.0f, gy = 0.0f;
        for (int c = 0; c < C; c++) {
            const float *x = inp + (b * C + c) * hw;
            float g = dout[(b * C + c) * hw + p];
            float v00 = tap(x, t, W, 0, 0), v10 = tap(x, t, W, 1, 0), v01 = tap(x, t, W, 0, 1), v11 = tap(x, t, W, 1, 1);
            gx += g * ((1.0f - t.wy) * (v10 - v00) + t.wy * (v11 - v01));
            gy += g * ((1.0f - t.wx) * (v01 - v00) + t.wx * (v11 - v10));
        }
        dflow[b * 2 * hw + p] += gx * t.gx;
        dflow[b * 2 * hw + hw + p] += gy * t.gy;
    }
}

extern "C" void nvc_warp_forward_cuda(NvcNn *nn, float *out, const float *inp, const float *flow, int B, int C, int H,
                                      int W)
{
    if (check_dims(nn, "warp", B, C, H, W, 1))
        return;
    warp_fwd_kernel<<<LAUNCH(nn, (size_t)B * C * H * W)>>>(out, inp, flow, B, C, H, W);
    nvc_cuda_check(nn, "warp");
}

extern "C" void nvc_warp_backward_cuda(NvcNn *nn, const float *dout, const float *inp, const float *flow, float *dinp,
                                       float *dflow, int B, int C, int H, int W)
{
    if (check_dims(nn, "warp", B, C, H, W, 1))
        return;
    if (dinp)
        warp_dx_kernel<<<LAUNCH(nn, (size_t)B * C * H * W)>>>(dout, flow, dinp, B, C, H, W);
    if (dflow)
        warp_dflow_kernel<<<LAUNCH(nn, (size_t)B * H * W)>>>(dout, inp, flow, dflow, B, C, H, W);
    nvc_cuda_check(nn, "warp backward");
}
