#!/usr/bin/env python3
"""Loads a WRN checkpoint written by `abl` into PyTorch with load_state_dict(strict=True) and
evaluates it on a run's test sets, to compare with the figures in that run's report.

The model is the ABL reference WideResNet (pre-activation BasicBlock, `conv1`,
`block{1,2,3}.layer.{i}`, `bn1`, `fc`), written here from its published structure, with global
average pooling before `fc` as in this project (the reference's avg_pool2d(8) equals it on
32x32 inputs and does not fit 28x28 ones).

usage: check_pytorch_load.py CHECKPOINT RUN_FOLDER [DEPTH WIDTH]
Prints the clean accuracy (RUN/poison/test_*) and the attack success rate (share of
RUN/poison/triggered_test_* predicted as their label) as JSON. Needs torch (and numpy).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.equal = cin == cout
        self.convShortcut = None if self.equal else nn.Conv2d(cin, cout, 1, stride, 0, bias=False)

    def forward(self, x):
        a = self.relu1(self.bn1(x))
        out = self.conv2(self.relu2(self.bn2(self.conv1(a))))
        return out + (x if self.equal else self.convShortcut(a))


class NetworkBlock(nn.Module):
    def __init__(self, n, cin, cout, stride):
        super().__init__()
        self.layer = nn.Sequential(*[BasicBlock(cin if i == 0 else cout, cout, stride if i == 0 else 1) for i in range(n)])

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth, width, channels, classes):
        super().__init__()
        n = (depth - 4) // 6
        ch = [16, 16 * width, 32 * width, 64 * width]
        self.conv1 = nn.Conv2d(channels, ch[0], 3, 1, 1, bias=False)
        self.block1 = NetworkBlock(n, ch[0], ch[1], 1)
        self.block2 = NetworkBlock(n, ch[1], ch[2], 2)
        self.block3 = NetworkBlock(n, ch[2], ch[3], 2)
        self.bn1 = nn.BatchNorm2d(ch[3])
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(ch[3], classes)

    def forward(self, x):
        out = self.relu(self.bn1(self.block3(self.block2(self.block1(self.conv1(x))))))
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))


def read_safetensors(path):
    """The checkpoint's tensors as torch tensors (the parser of reference_wrn.py beside this file)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from reference_wrn import load
    return {k: torch.from_numpy(np.array(v)) for k, v in load(path).items()}


def main():
    ckpt, run = sys.argv[1], sys.argv[2].rstrip("/")
    depth, width = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 4 else (16, 1)
    sd = read_safetensors(ckpt)
    channels, classes = sd["conv1.weight"].shape[1], sd["fc.weight"].shape[0]
    model = WideResNet(depth, width, channels, classes)
    model.load_state_dict(sd, strict=True)   # raises on any missing, extra or misshapen tensor
    model.eval()
    torch.set_num_threads(2)

    def predict(name):
        x = np.load("%s/poison/%s_images.npy" % (run, name))      # N x H x W x C, uint8
        x = torch.from_numpy(x.astype(np.float32) / 255).permute(0, 3, 1, 2).contiguous()
        with torch.no_grad():
            return torch.cat([model(x[i:i + 500]).argmax(1) for i in range(0, len(x), 500)]).numpy()

    out = {"tensors": len(sd), "strict_load": "ok"}
    for name, key in (("test", "ca"), ("triggered_test", "asr")):
        labels = np.load("%s/poison/%s_labels.npy" % (run, name))
        pred = predict(name)
        out[key] = round(float((pred == labels).mean()), 4)
        out[key + "_count"] = "%d/%d" % ((pred == labels).sum(), len(labels))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
