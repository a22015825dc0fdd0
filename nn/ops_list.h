/*
 * The op list: the contract between the CPU and CUDA backends (ggml style).
 * Included with NVC_OP(name, args) defined; it expands to the CPU prototypes
 * (nvc_<name>), the CUDA prototypes (nvc_<name>_cuda) and the members of
 * NvcNnOps, so both backends have the same argument order by construction.
 *
 * Conventions (llm.c style):
 * - tensors are float, NCHW, contiguous; shapes are given in the comments;
 * - every op takes the engine context first (threads, scratch, CUDA stream);
 *   on the CUDA backend every pointer is a device pointer;
 * - forward writes its outputs; backward takes the output gradient first,
 *   then what the forward saved, and ACCUMULATES (+=) into the gradients of
 *   inputs and parameters. A NULL gradient pointer skips that gradient;
 * - reductions run in a fixed order: the CPU gives the same bits for any
 *   thread count;
 * - scalar results (losses, norms) are written to a one-float tensor;
 * - bad dimensions set the context's sticky error (nvc_nn_error) and do
 *   nothing.
 * SPDX-License-Identifier: BSD-2-Clause
 */
/* No include guard: included once per expansion of NVC_OP. */

/* ---- memory ---------------------------------------------------------------- */
/* x (n) = 0 */
NVC_OP(tensor_zero, (NvcNn *nn, float *x, size_t n))
/* dst (n) = src (n) */
NVC_OP(tensor_copy, (NvcNn *nn, float *dst, const float *src, size_t n))
/* x (n) *= a */
NVC_OP(tensor_scale, (NvcNn *nn, float *x, float a, size_t n))
/* out (1) = sum of x^2 (n), accumulated in double */
NVC_OP(tensor_sumsq, (NvcNn *nn, float *out, const float *x, size_t n))

/* ---- convolution and linear ------------------------------------------------ */
/* out (B, Cout, Ho, Wo) = conv(inp (B, Cin, H, W), weight (Cout, Cin/groups, K, K)) + bias (Cout),
 * Ho = (H + 2*pad - K) / stride + 1 (same for Wo); zero padding; bias may be NULL.
 * groups = Cin = Cout is depthwise; K = stride, pad = 0 is a patchify conv. */
NVC_OP(conv2d_forward, (NvcNn *nn, float *out, const float *inp, const float *weight, const float *bias,
                        int B, int Cin, int H, int W, int Cout, int K, int stride, int pad, int groups))
NVC_OP(conv2d_backward, (NvcNn *nn, const float *dout, const float *inp, const float *weight, float *dinp,
                         float *dweight, float *dbias, int B, int Cin, int H, int W, int Cout, int K,
                         int stride, int pad, int groups))
/* out (N, Cout) = inp (N, Cin) . weight (Cout, Cin)^T + bias (Cout); bias may be NULL */
NVC_OP(linear_forward, (NvcNn *nn, float *out, const float *inp, const float *weight, const float *bias, int N,
                        int Cin, int Cout))
NVC_OP(linear_backward, (NvcNn *nn, const float *dout, const float *inp, const float *weight, float *dinp,
                         float *dweight, float *dbias, int N, int Cin, int Cout))

/* ---- resampling --------------------------------------------------------------- */
/* out (B, C, H*s, W*s)[c, y*s+i, x*s+j] = inp (B, C*s*s, H, W)[c*s*s + i*s + j, y, x] (PyTorch PixelShuffle) */
NVC_OP(pixel_shuffle_forward, (NvcNn *nn, float *out, const float *inp, int B, int C, int H, int W, int s))
NVC_OP(pixel_shuffle_backward, (NvcNn *nn, const float *dout, float *dinp, int B, int C, int H, int W, int s))
/* out = act(PixelShuffle(inp)), act NVC_ACT_GELU or NVC_ACT_SILU, in one pass and with the bits of
 * the two ops (the INR decoders' upsampling blocks); backward: dinp += the shuffle's inverse of
 * dout * act'(PixelShuffle(inp)) */
NVC_OP(pixel_shuffle_act_forward, (NvcNn *nn, float *out, const float *inp, int B, int C, int H, int W, int s,
                                   int act))
NVC_OP(pixel_shuffle_act_backward, (NvcNn *nn, const float *dout, const float *inp, float *dinp, int B, int C,
                                    int H, int W, int s, int act))
/* out (B, C, H*s, W*s) = bilinear upsampling of inp (B, C, H, W) by s, align_corners=False (PyTorch) */
NVC_OP(upsample_bilinear_forward, (NvcNn *nn, float *out, const float *inp, int B, int C, int H, int W, int s))
NVC_OP(upsample_bilinear_backward, (NvcNn *nn, const float *dout, float *dinp, int B, int C, int H, int W, int s))
/* out (B, C, H, W)[y, x] = inp (B, C, H, W) sampled bilinearly at (x + flow[0], y + flow[1]),
 * flow (B, 2, H, W) in pixels; coordinates clamped to the image (border padding, as grid_sample
 * with padding_mode="border", align_corners=True) */
NVC_OP(warp_forward, (NvcNn *nn, float *out, const float *inp, const float *flow, int B, int C, int H, int W))
NVC_OP(warp_backward, (NvcNn *nn, const float *dout, const float *inp, const float *flow, float *dinp, float *dflow,
                       int B, int C, int H, int W))

/* ---- activations, elementwise (n) --------------------------------------------- */
/* GELU, erf form: x * 0.5 * (1 + erf(x / sqrt 2)) */
NVC_OP(gelu_forward, (NvcNn *nn, float *out, const float *inp, size_t n))
NVC_OP(gelu_backward, (NvcNn *nn, const float *dout, const float *inp, float *dinp, size_t n))
/* SiLU: x * sigmoid(x) */
NVC_OP(silu_forward, (NvcNn *nn, float *out, const float *inp, size_t n))
NVC_OP(silu_backward, (NvcNn *nn, const float *dout, const float *inp, float *dinp, size_t n))
/* LeakyReLU: x >= 0 ? x : slope * x */
NVC_OP(leaky_relu_forward, (NvcNn *nn, float *out, const float *inp, float slope, size_t n))
NVC_OP(leaky_relu_backward, (NvcNn *nn, const float *dout, const float *inp, float *dinp, float slope, size_t n))
NVC_OP(sin_forward, (NvcNn *nn, float *out, const float *inp, size_t n))
NVC_OP(sin_backward, (NvcNn *nn, const float *dout, const float *inp, float *dinp, size_t n))
/* tanh and sigmoid: the backward takes the forward's OUTPUT */
NVC_OP(tanh_forward, (NvcNn *nn, float *out, const float *inp, size_t n))
NVC_OP(tanh_backward, (NvcNn *nn, const float *dout, const float *out, float *dinp, size_t n))
NVC_OP(sigmoid_forward, (NvcNn *nn, float *out, const float *inp, size_t n))
NVC_OP(sigmoid_backward, (NvcNn *nn, const float *dout, const float *out, float *dinp, size_t n))
/* out = a * inp + b (scalars; e.g. tanh * 0.5 + 0.5) */
NVC_OP(affine_forward, (NvcNn *nn, float *out, const float *inp, float a, float b, size_t n))
NVC_OP(affine_backward, (NvcNn *nn, const float *dout, float *dinp, float a, size_t n))
/* out = x + y */
NVC_OP(add_forward, (NvcNn *nn, float *out, const float *x, const float *y, size_t n))
NVC_OP(add_backward, (NvcNn *nn, const float *dout, float *dx, float *dy, size_t n))
/* out = x * y (gates) */
NVC_OP(mul_forward, (NvcNn *nn, float *out, const float *x, const float *y, size_t n))
NVC_OP(mul_backward, (NvcNn *nn, const float *dout, const float *x, const float *y, float *dx, float *dy, size_t n))
/* out = round(inp) (half to even); backward is the straight-through identity */
NVC_OP(round_forward, (NvcNn *nn, float *out, const float *inp, size_t n))
NVC_OP(round_backward, (NvcNn *nn, const float *dout, float *dinp, size_t n))
/* out[i] = inp[i] + u, u uniform in [-0.5, 0.5) drawn from Philox4x32-10 at counter (offset + i)
 * with key seed: the same numbers on every backend and thread count */
NVC_OP(noise_forward, (NvcNn *nn, float *out, const float *inp, uint64_t seed, uint64_t offset, size_t n))
NVC_OP(noise_backward, (NvcNn *nn, const float *dout, float *dinp, size_t n))

/* ---- channel ops ------------------------------------------------------------------ */
/* out (B, C, HW) = inp * scale + shift, scale/shift (C) or, with per_sample, (B, C); shift may be NULL
 * (quantization scalers, FiLM) */
NVC_OP(chanmul_forward, (NvcNn *nn, float *out, const float *inp, const float *scale, const float *shift, int B,
                         int C, int HW, int per_sample))
NVC_OP(chanmul_backward, (NvcNn *nn, const float *dout, const float *inp, const float *scale, float *dinp,
                          float *dscale, float *dshift, int B, int C, int HW, int per_sample))
/* out (B, Ca + Cb, HW) = [x (B, Ca, HW), y (B, Cb, HW)] along channels */
NVC_OP(concat_forward, (NvcNn *nn, float *out, const float *x, const float *y, int B, int Ca, int Cb, int HW))
NVC_OP(concat_backward, (NvcNn *nn, const float *dout, float *dx, float *dy, int B, int Ca, int Cb, int HW))
/* x (B, Ca, HW), y (B, Cb, HW) = inp (B, Ca + Cb, HW) split along channels */
NVC_OP(split_forward, (NvcNn *nn, float *x, float *y, const float *inp, int B, int Ca, int Cb, int HW))
NVC_OP(split_backward, (NvcNn *nn, const float *dx, const float *dy, float *dinp, int B, int Ca, int Cb, int HW))
/* LayerNorm over channels at each pixel (ConvNeXt "channels_first"): out (B, C, HW) =
 * (inp - mean) * rstd * weight (C) + bias (C); saves mean (B, HW), rstd (B, HW) */
NVC_OP(layernorm_forward, (NvcNn *nn, float *out, float *mean, float *rstd, const float *inp, const float *weight,
                           const float *bias, int B, int C, int HW, float eps))
NVC_OP(layernorm_backward, (NvcNn *nn, const float *dout, const float *inp, const float *weight, const float *mean,
                            const float *rstd, float *dinp, float *dweight, float *dbias, int B, int C, int HW))
/* out (N, 2L) = [sin(base^l * pi * t), cos(base^l * pi * t)] for l = 0..L-1, t (N) (NeRV) */
NVC_OP(posenc_forward, (NvcNn *nn, float *out, const float *t, int N, int L, float base))
NVC_OP(posenc_backward, (NvcNn *nn, const float *dout, const float *t, float *dt, int N, int L, float base))

/* ---- losses: scalar outputs, dloss scales the gradient ------------------------------ */
/* loss (1) = mean (pred - target)^2 over n */
NVC_OP(mse_forward, (NvcNn *nn, float *loss, const float *pred, const float *target, size_t n))
NVC_OP(mse_backward, (NvcNn *nn, float dloss, const float *pred, const float *target, float *dpred, size_t n))
/* loss (1) = mean |pred - target| */
NVC_OP(l1_forward, (NvcNn *nn, float *loss, const float *pred, const float *target, size_t n))
NVC_OP(l1_backward, (NvcNn *nn, float dloss, const float *pred, const float *target, float *dpred, size_t n))
/* value (1) = SSIM of pred, target (B, C, H, W), data range 1, 11x11 Gaussian sigma 1.5, valid
 * windows, mean over pixels, channels and batch (pytorch_msssim); needs H, W >= 11 */
NVC_OP(ssim_forward, (NvcNn *nn, float *value, const float *pred, const float *target, int B, int C, int H, int W))
NVC_OP(ssim_backward, (NvcNn *nn, float dvalue, const float *pred, const float *target, float *dpred, int B, int C,
                       int H, int W))
/* value (1) = MS-SSIM, 5 scales, weights 0.0448 0.2856 0.3001 0.2363 0.1333, 2x2 average pooling
 * (pytorch_msssim); needs H, W > 160 */
NVC_OP(msssim_forward, (NvcNn *nn, float *value, const float *pred, const float *target, int B, int C, int H,
                        int W))
NVC_OP(msssim_backward, (NvcNn *nn, float dvalue, const float *pred, const float *target, float *dpred, int B, int C,
                         int H, int W))
/* bits (1) = sum -log2 P(x), P = CDF(x + 0.5) - CDF(x - 0.5) (floored at NVC_RATE_P_MIN) of a
 * Gaussian with mean (n, or NULL for 0) and scale (n, floored at NVC_RATE_SCALE_MIN) */
NVC_OP(rate_gaussian_forward, (NvcNn *nn, float *bits, const float *x, const float *mean, const float *scale,
                               size_t n))
NVC_OP(rate_gaussian_backward, (NvcNn *nn, float dbits, const float *x, const float *mean, const float *scale,
                                float *dx, float *dmean, float *dscale, size_t n))
/* the same under a Laplace distribution of location mean and scale b */
NVC_OP(rate_laplace_forward, (NvcNn *nn, float *bits, const float *x, const float *mean, const float *scale,
                              size_t n))
NVC_OP(rate_laplace_backward, (NvcNn *nn, float dbits, const float *x, const float *mean, const float *scale,
                               float *dx, float *dmean, float *dscale, size_t n))
/* the same under a K-component Gaussian mixture: x (B, M); logits, means, scales (B, K, M); the
 * weights are softmax(logits) over K */
NVC_OP(rate_gmm_forward, (NvcNn *nn, float *bits, const float *x, const float *logits, const float *means,
                          const float *scales, int B, int K, int M))
NVC_OP(rate_gmm_backward, (NvcNn *nn, float dbits, const float *x, const float *logits, const float *means,
                           const float *scales, float *dx, float *dlogits, float *dmeans, float *dscales, int B,
                           int K, int M))

/* ---- optimizer ----------------------------------------------------------------------- */
/* One Adam step over flat buffers param, grad, m, v (n) at step t >= 1 (PyTorch's formulas);
 * decoupled = 1 is AdamW (param *= 1 - lr * wd), 0 is Adam with L2 (grad += wd * param) */
NVC_OP(adam_update, (NvcNn *nn, float *param, const float *grad, float *m, float *v, size_t n, float lr,
                     float beta1, float beta2, float eps, float wd, int decoupled, int t))
