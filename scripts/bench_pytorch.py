#!/usr/bin/env python3
"""PyTorch's speed on the workload of `abl bench`, for a same-machine, same-run comparison.

WRN-16-1 as in the ABL reference code (pre-activation BasicBlocks, 1x1 shortcut where the
shape changes, BN -> ReLU -> global average pool -> fc), batch 128, SGD (momentum 0.9,
Nesterov, weight decay 1e-4), cross-entropy; random data; training = forward + loss + backward
+ step, evaluation = a no-grad forward in eval mode. Prints one JSON object per input shape,
with the keys of `abl bench --json`.

    python3 scripts/bench_pytorch.py [--threads 2] [--steps 20] [--inputs 3x32x32,1x28x28]

Needs torch (PyPI's wheel runs on the CPU; it pulls the CUDA libraries it links against).
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride, 0, bias=False) if (cin != cout or stride != 1) else None

    def forward(self, x):
        a = F.relu(self.bn1(x))
        h = self.conv2(F.relu(self.bn2(self.conv1(a))))
        return h + (self.shortcut(a) if self.shortcut is not None else x)


class WRN(nn.Module):
    def __init__(self, depth=16, widen=1, in_channels=3, classes=10):
        super().__init__()
        n = (depth - 4) // 6
        ch = [16, 16 * widen, 32 * widen, 64 * widen]
        self.conv1 = nn.Conv2d(in_channels, ch[0], 3, 1, 1, bias=False)
        layers = []
        for b in range(3):
            for i in range(n):
                layers.append(Block(ch[b] if i == 0 else ch[b + 1], ch[b + 1], 2 if (i == 0 and b > 0) else 1))
        self.blocks = nn.Sequential(*layers)
        self.bn = nn.BatchNorm2d(ch[3])
        self.fc = nn.Linear(ch[3], classes)

    def forward(self, x):
        h = F.relu(self.bn(self.blocks(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(h, 1).flatten(1))


def run(shape, batch, steps, warmup=2):
    c, h, w = shape
    torch.manual_seed(0)
    net = WRN(in_channels=c)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4)
    x = torch.rand(batch, c, h, w)
    y = torch.arange(batch) % 10

    def train_step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()
        opt.step()

    net.train()
    for _ in range(warmup):
        train_step()
    t0 = time.perf_counter()
    for _ in range(steps):
        train_step()
    train = steps * batch / (time.perf_counter() - t0)
    net.eval()
    with torch.no_grad():
        for _ in range(warmup):
            net(x)
        t0 = time.perf_counter()
        for _ in range(steps):
            net(x)
        evaluation = steps * batch / (time.perf_counter() - t0)
    return train, evaluation


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--inputs", default="3x32x32,1x28x28")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    for spec in a.inputs.split(","):
        shape = tuple(int(v) for v in spec.split("x"))
        train, evaluation = run(shape, a.batch, a.steps)
        print(json.dumps({
            "model": "wrn-16-1", "batch": a.batch, "input": spec, "framework": f"pytorch {torch.__version__}",
            "train_images_per_s": round(train, 1), "eval_images_per_s": round(evaluation, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "threads": torch.get_num_threads(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        }, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
