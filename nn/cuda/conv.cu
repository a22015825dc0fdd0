/*
 * conv2d and linear on CUDA: im2col by column chunks + cuBLAS, direct
 * kernels for depthwise convolutions; col2im and every reduction gather in a
 * fixed order (no atomics), so results are deterministic.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "nn/cuda/common.cuh"

struct Conv {
    int B, Cin, H, W, Cout, K, s, pad, G;
    int Ho, Wo, cin_g, cout_g, kk, kdim;
    size_t hw, howo;
    int pointwise;
};

static int conv_setup(NvcNn *nn, Conv *c, int B, int Cin, int H, int W, int Cout, int K, int stride, int pad,
                      int groups)
{
    if (B <= 0 || Cin <= 0 || H <= 0 || W <= 0 || Cout <= 0 || K <= 0 || stride <= 0 || pad < 0 || groups <= 0 ||
        Cin % groups || Cout % groups || pad >= K || H + 2 * pad < K || W + 2 * pad < K)
        return nvc_nn_fail(nn, NVC_ERR(EINVAL), "conv2d: bad shape B=%d Cin=%d H=%d W=%d Cout=%d K=%d s=%d p=%d g=%d", B, Cin,
                           H, W, Cout, K, stride, pad, groups);
    c->B = B, c->Cin = Cin, c->H = H, c->W = W, c->Cout = Cout, c->K = K, c->s = stride, c->pad = pad;
    c->G = groups;
    c->Ho = (H + 2 * pad - K) / stride + 1;
    c->Wo = (W + 2 * pad - K) / stride + 1;
    c->cin_g = Cin / groups;
    c->cout_g = Cout / groups;
    c->kk = K * K;
    c->kdim = c->cin_g * c->kk;
    c->hw = (size_t)H * W;
    c->howo = (size_t)c->Ho * c->Wo;
    c->pointwise = K == 1 && stride == 1 && pad == 0;
    return 0;
}

/* Columns per chunk: the patch matrix stays under 64M floats. */
static size_t chunk_cols(const Conv *c)
{
    size_t n = ((size_t)64 << 20) / (size_t)c->kdim;
    n = n < 1024 ? 1024 : n;
    return n < c->howo ? n : c->howo;
}

/* col (kdim, n) = patches of x (cin_g, H, W) at output positions p0..p0+n */
__global__ static void im2col_kernel(float *col, const float *x, Conv c, size_t p0, size_t n)
{
    GRID_STRIDE(i, (size_t)c.kdim * n)
    {
        size_t r = i / n, j = i % n, p = p0 + j;
        int ci = (int)(r / c.kk), ky = (int)(r / c.K % c.K), kx = (int)(r % c.K);
        int oy = (int)(p / c.Wo), ox = (int)(p % c.Wo);
        int iy = oy * c.s - c.pad + ky, ix = ox * c.s - c.pad + kx;
        col[i] = iy >= 0 && iy < c.H && ix >= 0 && ix < c.W ? x[(size_t)ci * c.hw + (size_t)iy * c.W + ix] : 0.0f;
    }
}

/* dx (cin_g, H, W) += the entries of dcol (kdim, n) (columns p0..p0+n) that
 * land on each input pixel, gathered in a fixed order */
__global__ static void col2im_kernel(float *dx, const float *dcol, Conv c, size_t p0, size_t n)
{
    GRID_STRIDE(i, (size_t)c.cin_g * c.hw)
    {
        int ci = (int)(i / c.hw), iy = (int)(i % c.hw / c.W), ix = (int)(i % c.W);
        float acc = 0.0f;
        for (int ky = 0; ky < c.K; ky++) {
            int ty = iy + c.pad - ky;
            if (ty < 0 || ty % c.s)
                continue;
            int oy = ty / c.s;
            if (oy >= c.Ho)
                continue;
            for (int kx = 0; kx < c.K; kx++) {
                int tx = ix + c.pad - kx;
                if (tx < 0 || tx % c.s)
                    continue;
                int ox = tx / c.s;
                size_t p = (size_t)oy * c.Wo + ox;
                if (ox >= c.Wo || p < p0 || p >= p0 + n)
                    continue;
                acc += dcol[((size_t)ci * c.kk + ky * c.K + kx) * n + (p - p0)];
            }
        }
        dx[i] += acc;
    }
}

__global__ static void fill_bias_kernel(float *y, const float *bias, Conv c)
{
    GRID_STRIDE(i, (size_t)c.B * c.Cout * c.howo)
    y[i] = bias[i / c.howo % c.Cout];
}

/* one block per channel: dbias[co] += sum over images and pixels */
__global__ static void bias_grad_kernel(const float *dout, float *dbias, int B, int C, size_t hw)
{
    int co = blockIdx.x;
    double s = 0.0;
    for (int b = 0; b < B; b++) {
        const float *d = dout + ((size_t)b * C + co) * hw;
        for (size_t i = threadIdx.x; i < hw; i += NT)
            s += d[i];
    }
    s = block_sum(s);
    if (threadIdx.x == 0)
        dbias[co] += (float)s;
}

/* ---- depthwise ----------------------------------------------------------------------------- */

__global__ static void dw_forward_kernel(float *out, const float *inp, const float *w, const float *bias, Conv c)
{
    GRID_STRIDE(i, (size_t)c.B * c.Cout * c.howo)
    {
        size_t u = i / c.howo;
        int co = (int)(u % c.Cout), b = (int)(u / c.Cout), oy = (int)(i % c.howo / c.Wo), ox = (int)(i % c.Wo);
        const float *x = inp + ((size_t)b * c.Cin + co / c.cout_g) * c.hw;
        const float *wk = w + (size_t)co * c.kk;
        float acc = bias ? bias[co] : 0.0f;
        for (int ky = 0; ky < c.K; ky++) {
            int iy = oy * c.s - c.pad + ky;
            if (iy < 0 || iy >= c.H)
                continue;
            for (int kx = 0; kx < c.K; kx++) {
                int ix = ox * c.s - c.pad + kx;
                if (ix >= 0 && ix < c.W)
                    acc += wk[ky * c.K + kx] * x[(size_t)iy * c.W + ix];
            }
        }
        out[i] = acc;
    }
}

__global__ static void dw_backward_input_kernel(const float *dout, const float *w, float *dinp, Conv c)
{
    GRID_STRIDE(i, (size_t)c.B * c.Cin * c.hw)
    {
        size_t u = i / c.hw;
        int ci = (int)(u % c.Cin), b = (int)(u / c.Cin), iy = (int)(i % c.hw / c.W), ix = (int)(i % c.W);
        float acc = 0.0f;
        for (int m = 0; m < c.cout_g; m++) {
            int co = ci * c.cout_g + m;
            const float *dy = dout + ((size_t)b * c.Cout + co) * c.howo;
            for (int ky = 0; ky < c.K; ky++) {
                int ty = iy + c.pad - ky;
                if (ty < 0 || ty % c.s || ty / c.s >= c.Ho)
                    continue;
                for (int kx = 0; kx < c.K; kx++) {
                    int tx = ix + c.pad - kx;
                    if (tx < 0 || tx % c.s || tx / c.s >= c.Wo)
                        continue;
                    acc += w[(size_t)co * c.kk + ky * c.K + kx] * dy[(size_t)(ty / c.s) * c.Wo + tx / c.s];
                }
            }
        }
        dinp[i] += acc;
    }
}

/* one block per weight (co, ky, kx) */
__global__ static void dw_backward_weight_kernel(const float *dout, const float *inp, float *dw, Conv c)
{
    int co = blockIdx.x / c.kk, k = blockIdx.x % c.kk, ky = k / c.K, kx = k % c.K;
    double s = 0.0;
    for (int b = 0; b < c.B; b++) {
        const float *x = inp + ((size_t)b * c.Cin + co / c.cout_g) * c.hw;
        const float *dy = dout + ((size_t)b * c.Cout + co) * c.howo;
        for (size_t p = threadIdx.x; p < c.howo; p += NT) {
            int oy = (int)(p / c.Wo), ox = (int)(p % c.Wo);
            int iy = oy * c.s - c.pad + ky, ix = ox * c.s - c.pad + kx;
            if (iy >= 0 && iy < c.H && ix >= 0 && ix < c.W)
                s += (double)dy[p] * x[(size_t)iy * c.W + ix];
        }
    }
    s = block_sum(s);
    if (threadIdx.x == 0)
        dw[blockIdx.x] += (float)s;
}

/* ---- entry points ---------------------------------------------------------------------------- */

extern "C" void nvc_conv2d_forward_cuda(NvcNn *nn, float *out, const float *inp, const float *weight,
                                        const float *bias, int B, int Cin, int H, int W, int Cout, int K, int stride,
                                        int pad, int groups)
{
    Conv c;
    if (conv_setup(nn, &c, B, Cin, H, W, Cout, K, stride, pad, groups))
        return;
    if (c.cin_g == 1 && !c.pointwise) {
        dw_forward_kernel<<<LAUNCH(nn, (size_t)B * Cout * c.howo)>>>(out, inp, weight, bias, c);
        nvc_cuda_check(nn, "conv2d depthwise");
        return;
    }
    if (bias)
        fill_bias_kernel<<<LAUNCH(nn, (size_t)B * Cout * c.howo)>>>(out, bias, c);
    const size_t T = chunk_cols(&c);
    float *col = c.pointwise ? NULL : nvc_cuda_scratch(nn, (size_t)c.kdim * T);
    if (!c.pointwise && !col)
        return;
    for (int b = 0; b < B; b++)
        for (int g = 0; g < groups; g++) {
            const float *x = inp + ((size_t)b * Cin + (size_t)g * c.cin_g) * c.hw;
            float *y = out + ((size_t)b * Cout + (size_t)g * c.cout_g) * c.howo;
            const float *w = weight + (size_t)g * c.cout_g * c.kdim;
            for (size_t p0 = 0; p0 < c.howo; p0 += T) {
                size_t n = c.howo - p0 < T ? c.howo - p0 : T;
                if (c.pointwise) {
                    nvc_cuda_gemm(nn, 0, 0, c.cout_g, (int)n, c.kdim, 1.0f, w, c.kdim, x + p0, (int)c.hw,
                                  bias ? 1.0f : 0.0f, y + p0, (int)c.howo);
                    continue;
                }
                im2col_kernel<<<LAUNCH(nn, (size_t)c.kdim * n)>>>(col, x, c, p0, n);
                nvc_cuda_gemm(nn, 0, 0, c.cout_g, (int)n, c.kdim, 1.0f, w, c.kdim, col, (int)n, bias ? 1.0f : 0.0f,
                              y + p0, (int)c.howo);
            }
        }
    nvc_cuda_check(nn, "conv2d");
}

extern "C" void nvc_conv2d_backward_cuda(NvcNn *nn, const float *dout, const float *inp, const float *weight,
                                         float *dinp, float *dweight, float *dbias, int B, int Cin, int H, int W,
                                         int Cout, int K, int stride, int pad, int groups)
{
    Conv c;
    if (conv_setup(nn, &c, B, Cin, H, W, Cout, K, stride, pad, groups))
        return;
    if (dbias)
        bias_grad_kernel<<<Cout, NT, 0, STREAM(nn)>>>(dout, dbias, B, Cout, c.howo);
    if (c.cin_g == 1 && !c.pointwise) {
        if (dinp)
            dw_backward_input_kernel<<<LAUNCH(nn, (size_t)B * Cin * c.hw)>>>(dout, weight, dinp, c);
        if (dweight)
            dw_backward_weight_kernel<<<Cout * c.kk, NT, 0, STREAM(nn)>>>(dout, inp, dweight, c);
        nvc_cuda_check(nn, "conv2d depthwise backward");
        return;
    }
    const size_t T = chunk_cols(&c);
    float *col = c.pointwise ? NULL : nvc_cuda_scratch(nn, 2 * (size_t)c.kdim * T);
    if (!c.pointwise && !col)
        return;
    float *dcol = col ? col + (size_t)c.kdim * T : NULL;
    for (int b = 0; b < B; b++)
        for (int g = 0; g < groups; g++) {
            size_t cin0 = (size_t)b * Cin + (size_t)g * c.cin_g;
            const float *x = inp + cin0 * c.hw;
            const float *dy = dout + ((size_t)b * Cout + (size_t)g * c.cout_g) * c.howo;
            const float *w = weight + (size_t)g * c.cout_g * c.kdim;
            float *dw = dweight ? dweight + (size_t)g * c.cout_g * c.kdim : NULL;
            float *dx = dinp ? dinp + cin0 * c.hw : NULL;
            for (size_t p0 = 0; p0 < c.howo; p0 += T) {
                int n = (int)(c.howo - p0 < T ? c.howo - p0 : T);
                if (c.pointwise) {
                    if (dw)
                        nvc_cuda_gemm(nn, 0, 1, c.cout_g, c.kdim, n, 1.0f, dy + p0, (int)c.howo, x + p0, (int)c.hw,
                                      1.0f, dw, c.kdim);
                    if (dx)
                        nvc_cuda_gemm(nn, 1, 0, c.kdim, n, c.cout_g, 1.0f, w, c.kdim, dy + p0, (int)c.howo, 1.0f,
                                      dx + p0, (int)c.hw);
                    continue;
                }
                if (dw) {
                    im2col_kernel<<<LAUNCH(nn, (size_t)c.kdim * n)>>>(col, x, c, p0, n);
                    nvc_cuda_gemm(nn, 0, 1, c.cout_g, c.kdim, n, 1.0f, dy + p0, (int)c.howo, col, n, 1.0f, dw,
                                  c.kdim);
                }
                if (dx) {
                    nvc_cuda_gemm(nn, 1, 0, c.kdim, n, c.cout_g, 1.0f, w, c.kdim, dy + p0, (int)c.howo, 0.0f, dcol,
                                  n);
                    col2im_kernel<<<LAUNCH(nn, (size_t)c.cin_g * c.hw)>>>(dx, dcol, c, p0, n);
                }
            }
        }
    nvc_cuda_check(nn, "conv2d backward");
}

/* ---- linear ------------------------------------------------------------------------------------ */

__global__ static void fill_rows_kernel(float *y, const float *bias, int N, int C)
{
    GRID_STRIDE(i, (size_t)N * C) y[i] = bias[i % C];
}

/* one block per output column: dbias[co] += sum over rows */
__global__ static void col_sum_kernel(const float *dout, float *dbias, int N, int C)
{
    int co = blockIdx.x;
    double s = 0.0;
    for (int r = threadIdx.x; r < N; r += NT)
        s += dout[(size_t)r * C + co];
    s = block_sum(s);
    if (threadIdx.x == 0)
        dbias[co] += (float)s;
}

extern "C" void nvc_linear_forward_cuda(NvcNn *nn, float *out, const float *inp, const float *weight,
                                        const float *bias, int N, int Cin, int Cout)
{
    if (N <= 0 || Cin <= 0 || Cout <= 0) {
        nvc_nn_fail(nn, NVC_ERR(EINVAL), "linear: bad shape N=%d Cin=%d Cout=%d", N, Cin, Cout);
        return;
    }
    if (bias)
        fill_rows_kernel<<<LAUNCH(nn, (size_t)N * Cout)>>>(out, bias, N, Cout);
    nvc_cuda_gemm(nn, 0, 1, N, Cout, Cin, 1.0f, inp, Cin, weight, Cin, bias ? 1.0f : 0.0f, out, Cout);
    nvc_cuda_check(nn, "linear");
}

extern "C" void nvc_linear_backward_cuda(NvcNn *nn, const float *dout, const float *inp, const float *weight,
                                         float *dinp, float *dweight, float *dbias, int N, int Cin, int Cout)
{
    if (N <= 0 || Cin <= 0 || Cout <= 0) {
        nvc_nn_fail(nn, NVC_ERR(EINVAL), "linear: bad shape N=%d Cin=%d Cout=%d", N, Cin, Cout);
        return;
    }
    if (dinp)
        nvc_cuda_gemm(nn, 0, 0, N, Cin, Cout, 1.0f, dout, Cout, weight, Cin, 1.0f, dinp, Cin);
    if (dweight)
        nvc_cuda_gemm(nn, 1, 0, Cout, Cin, N, 1.0f, dout, Cout, inp, Cin, 1.0f, dweight, Cin);
    if (dbias)
        col_sum_kernel<<<Cout, NT, 0, STREAM(nn)>>>(dout, dbias, N, Cout);
    nvc_cuda_check(nn, "linear backward");
}
