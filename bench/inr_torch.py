#!/usr/bin/env python3
"""PyTorch twin of bench/bench_inr's HNeRV decoder forward (CPU, batch 1).

    python3 bench/inr_torch.py THREADS E GH GW W0,W1,...,Wn S1,...,Sn FORWARDS [ROUNDS]

The decoder of the reference HNeRV code with nvc's shapes: embedding
(1, E, GH, GW) -> 1x1 conv E -> W0, GELU -> per stride s_i: conv
k = min(1 + 2 i, 5) W_i -> W_{i+1} s_i^2, PixelShuffle(s_i), GELU -> 3x3
conv W_n -> 3, tanh * 0.5 + 0.5. Random weights (speed does not depend on
them). Prints "ms_per_forward <float>": the best of ROUNDS (default 3) means
of FORWARDS forwards under torch.inference_mode(), after 3 warm-up forwards.
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Decoder(nn.Module):
    def __init__(self, emb_ch, widths, strides):
        super().__init__()
        self.stem = nn.Conv2d(emb_ch, widths[0], 1)
        blocks = []
        for i, s in enumerate(strides):
            k = min(1 + 2 * i, 5)
            blocks.append(nn.Conv2d(widths[i], widths[i + 1] * s * s, k, padding=k // 2))
        self.blocks = nn.ModuleList(blocks)
        self.strides = strides
        self.head = nn.Conv2d(widths[-1], 3, 3, padding=1)

    def forward(self, emb):
        x = F.gelu(self.stem(emb))
        for conv, s in zip(self.blocks, self.strides):
            x = F.gelu(F.pixel_shuffle(conv(x), s))
        return torch.tanh(self.head(x)) * 0.5 + 0.5


def main():
    a = sys.argv[1:]
    threads, emb_ch, gh, gw = (int(v) for v in a[:4])
    widths = [int(v) for v in a[4].split(",")]
    strides = [int(v) for v in a[5].split(",")]
    forwards = int(a[6])
    rounds = int(a[7]) if len(a) > 7 else 3
    if len(widths) != len(strides) + 1:
        sys.exit("inr_torch.py: need one more width than strides")
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = Decoder(emb_ch, widths, strides).eval()
    emb = torch.rand(1, emb_ch, gh, gw) * 2 - 1
    best = float("inf")
    with torch.inference_mode():
        for _ in range(3):
            net(emb)
        for _ in range(rounds):
            t = time.perf_counter()
            for _ in range(forwards):
                net(emb)
            best = min(best, (time.perf_counter() - t) / forwards)
    print("ms_per_forward %.3f" % (best * 1e3))
    print("torch %s threads %d" % (torch.__version__, torch.get_num_threads()))


if __name__ == "__main__":
    main()
