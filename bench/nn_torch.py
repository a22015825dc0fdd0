#!/usr/bin/env python3
"""PyTorch twin of bench/bench_nn's HNeRV-shaped training step (CPU).

    python3 bench/nn_torch.py THREADS B EH EW C0 REDUCE FLOOR STRIDES... -- STEPS [ROUNDS [DEVICE]]

Prints "ms_per_step <float>": the best of ROUNDS (default 3) means of STEPS
steps, after 3 warm-up steps; a step is zero grads, forward, MSE, backward,
Adam, as in tests/nn_model.c. DEVICE: cpu (default) or cuda (tests/gpu/run.sh).
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Decoder(nn.Module):
    def __init__(self, B, eh, ew, c0, reduce, floor, strides):
        super().__init__()
        self.emb = nn.Parameter(torch.rand(B, 16, eh, ew) * 2 - 1)
        self.stem = nn.Conv2d(16, c0, 1)
        blocks, c = [], c0
        for i, s in enumerate(strides):
            k = min(1 + 2 * i, 5)
            co = max(int(round(c / reduce)), floor)
            blocks.append(nn.Conv2d(c, co * s * s, k, padding=k // 2))
            c = co
        self.blocks = nn.ModuleList(blocks)
        self.strides = strides
        self.head = nn.Conv2d(c, 3, 3, padding=1)

    def forward(self):
        x = F.gelu(self.stem(self.emb))
        for conv, s in zip(self.blocks, self.strides):
            x = F.gelu(F.pixel_shuffle(conv(x), s))
        return torch.tanh(self.head(x)) * 0.5 + 0.5


def main():
    a = sys.argv[1:]
    sep = a.index("--")
    threads, B, eh, ew, c0 = (int(v) for v in a[:5])
    reduce, floor = float(a[5]), int(a[6])
    strides = [int(v) for v in a[7:sep]]
    steps = int(a[sep + 1])
    rounds = int(a[sep + 2]) if len(a) > sep + 2 else 3
    device = a[sep + 3] if len(a) > sep + 3 else "cpu"
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = Decoder(B, eh, ew, c0, reduce, floor, strides).to(device)
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    with torch.no_grad():
        target = net().detach().clone().uniform_()

    def step():
        opt.zero_grad(set_to_none=False)
        loss = F.mse_loss(net(), target)
        loss.backward()
        opt.step()
        return loss.item()  # synchronizes

    for _ in range(3):
        step()
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(steps):
            step()
        best = min(best, (time.perf_counter() - t) / steps)
    print("ms_per_step %.3f" % (best * 1e3))
    print("torch %s threads %d device %s" % (torch.__version__, torch.get_num_threads(), device))


if __name__ == "__main__":
    main()
