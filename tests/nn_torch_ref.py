#!/usr/bin/env python3
"""Reference values of a small conv network from PyTorch, for tests/test_nn_torch.c.

The network uses most nn ops (1x1, 3x3, 5x5, depthwise and strided convs,
PixelShuffle, GELU, LayerNorm over channels, SiLU, per-channel scale and shift,
bilinear upsampling, LeakyReLU, round with a straight-through gradient, tanh)
and a loss that sums MSE, L1, 1 - SSIM and a Gaussian rate term. The file holds
the inputs, every parameter, the output, each loss term and the gradient of
the total loss with respect to every parameter and the input embedding.

Regenerate (Debian's python3-torch, CPU):
    /usr/bin/python3 tests/nn_torch_ref.py tests/data/nn_torch_ref.bin

File format (big-endian), version 1:
    b"NVCTORCH", u32 version, u16 length + text (generator and torch version),
    u32 record count, then per record: u16 name length, name, u8 ndim,
    u32 dims[ndim], float32 values.
"""
import math
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

VERSION = 1


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(16, 24, 1)
        self.up1 = nn.Conv2d(24, 8 * 4, 3, padding=1)
        self.up2 = nn.Conv2d(8, 6 * 4, 5, padding=2)
        self.dw = nn.Conv2d(6, 6, 5, padding=2, groups=6)
        self.ln_w = nn.Parameter(1 + 0.1 * torch.randn(6))
        self.ln_b = nn.Parameter(0.1 * torch.randn(6))
        self.film_scale = nn.Parameter(1 + 0.2 * torch.randn(6))
        self.film_shift = nn.Parameter(0.1 * torch.randn(6))
        self.head = nn.Conv2d(6, 3, 3, padding=1)
        self.down = nn.Conv2d(6, 4, 3, stride=2, padding=1)
        self.rate_scale = nn.Parameter(0.5 + torch.rand(4))

    def forward(self, emb):
        h0 = F.gelu(self.stem(emb))                                   # (1, 24, 4, 4)
        h1 = F.gelu(F.pixel_shuffle(self.up1(h0), 2))                 # (1, 8, 8, 8)
        h2 = F.gelu(F.pixel_shuffle(self.up2(h1), 2))                 # (1, 6, 16, 16)
        d = self.dw(h2)
        u = d.mean(1, keepdim=True)                                   # LayerNorm over channels
        s = (d - u).pow(2).mean(1, keepdim=True)
        n = (d - u) / torch.sqrt(s + 1e-6) * self.ln_w[:, None, None] + self.ln_b[:, None, None]
        f = F.silu(n) * self.film_scale[:, None, None] + self.film_shift[:, None, None]
        up = F.interpolate(f, scale_factor=2, mode="bilinear", align_corners=False)  # (1, 6, 32, 32)
        out = torch.tanh(self.head(up)) * 0.5 + 0.5                  # (1, 3, 32, 32)
        y = F.leaky_relu(self.down(h2), 0.1) * 20                     # (1, 4, 8, 8)
        yq = y + (torch.round(y) - y).detach()
        return out, yq


def ssim(x, y):
    """pytorch_msssim's SSIM: 11x11 Gaussian (sigma 1.5), valid windows, data range 1."""
    c = torch.arange(11, dtype=torch.float32) - 5
    g = torch.exp(-(c ** 2) / (2 * 1.5 ** 2))
    g = g / g.sum()
    C = x.shape[1]
    wh = g.view(1, 1, 11, 1).repeat(C, 1, 1, 1)
    ww = g.view(1, 1, 1, 11).repeat(C, 1, 1, 1)

    def filt(t):
        return F.conv2d(F.conv2d(t, wh, groups=C), ww, groups=C)

    mu1, mu2 = filt(x), filt(y)
    s1 = filt(x * x) - mu1 * mu1
    s2 = filt(y * y) - mu2 * mu2
    s12 = filt(x * y) - mu1 * mu2
    C1, C2 = 0.01 ** 2, 0.03 ** 2
    cs = (2 * s12 + C2) / (s1 + s2 + C2)
    return (((2 * mu1 * mu2 + C1) / (mu1 * mu1 + mu2 * mu2 + C1)) * cs).mean()


def gaussian_bits(x, scale):
    """-log2 P(x), P = CDF(x + 0.5) - CDF(x - 0.5) of N(0, scale^2), floors as CompressAI."""
    s = torch.clamp(scale, min=0.11)
    a = x.abs()

    def cdf(z):
        return 0.5 * torch.erfc(-z / math.sqrt(2))

    p = cdf((0.5 - a) / s) - cdf((-0.5 - a) / s)
    return -torch.log2(torch.clamp(p, min=1e-9)).sum()


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "tests/data/nn_torch_ref.bin"
    torch.manual_seed(20240611)
    torch.set_num_threads(1)
    net = Net()
    emb = torch.rand(1, 16, 4, 4, requires_grad=True)
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    target = torch.stack([0.5 + 0.4 * torch.sin(0.3 * xx + k) * torch.cos(0.2 * yy) for k in range(3)])[None]
    target = target + 0.05 * torch.randn(target.shape)

    out, yq = net(emb)
    mse = F.mse_loss(out, target)
    l1 = F.l1_loss(out, target)
    sim = ssim(out, target)
    bits = gaussian_bits(yq, net.rate_scale[None, :, None, None].expand_as(yq))
    total = mse + 0.5 * l1 + 0.2 * (1 - sim) + 1e-3 * bits
    total.backward()

    records = [("input.emb", emb.detach()), ("input.target", target)]
    records += [("param." + k, v.detach()) for k, v in net.named_parameters()]
    records += [("out.image", out.detach()), ("out.latent", yq.detach())]
    for k, v in (("mse", mse), ("l1", l1), ("ssim", sim), ("bits", bits), ("total", total)):
        records.append(("loss." + k, v.detach().reshape(1)))
    records += [("grad." + k, v.grad) for k, v in net.named_parameters()]
    records.append(("grad.input.emb", emb.grad))

    meta = ("nn_torch_ref.py, torch %s" % torch.__version__).encode()
    with open(path, "wb") as f:
        f.write(b"NVCTORCH" + struct.pack(">IH", VERSION, len(meta)) + meta)
        f.write(struct.pack(">I", len(records)))
        for name, t in records:
            t = t.contiguous().float()
            f.write(struct.pack(">H", len(name)) + name.encode() + struct.pack(">B", t.dim()))
            f.write(struct.pack(">%dI" % t.dim(), *t.shape))
            f.write(struct.pack(">%df" % t.numel(), *t.flatten().tolist()))
    print("%s: %d records, total loss %.6f" % (path, len(records), total.item()))


if __name__ == "__main__":
    main()
