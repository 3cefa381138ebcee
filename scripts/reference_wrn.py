#!/usr/bin/env python3
"""Independent NumPy implementation of the ABL reference WideResNet forward pass (eval mode).

Reads a checkpoint written by `abl` (safetensors, PyTorch state_dict names) and images
(.npy, float32 N x C x H x W in [0, 1]); checks that the tensor names are exactly those of the
reference model's state_dict (as `load_state_dict(strict=True)` would), then prints the logits
as JSON. Used by the test suite to check the Swift engine against a second implementation.

usage: reference_wrn.py CHECKPOINT IMAGES DEPTH WIDTH CLASSES
"""
import json
import struct
import sys

import numpy as np


def load(path):
    try:
        from safetensors.numpy import load_file  # the official parser, when installed
        return load_file(path)
    except ImportError:
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
            data = f.read()
        out = {}
        for k, v in header.items():
            if k == "__metadata__":
                continue
            dt = {"F32": np.float32, "I64": np.int64}[v["dtype"]]
            b, e = v["data_offsets"]
            out[k] = np.frombuffer(data[b:e], dtype=dt).reshape(v["shape"])
        return out


def expected_keys(depth, width):
    """The state_dict keys of the reference WideResNet, in registration order."""
    n = (depth - 4) // 6
    ch = [16, 16 * width, 32 * width, 64 * width]
    keys = ["conv1.weight"]
    bn = lambda p: [p + s for s in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")]
    for b in range(3):
        for i in range(n):
            p = "block%d.layer.%d." % (b + 1, i)
            cin = ch[b] if i == 0 else ch[b + 1]
            keys += bn(p + "bn1.") + [p + "conv1.weight"] + bn(p + "bn2.") + [p + "conv2.weight"]
            if cin != ch[b + 1]:
                keys.append(p + "convShortcut.weight")
    keys += bn("bn1.") + ["fc.weight", "fc.bias"]
    return keys


def conv(x, w, stride, pad):
    n, c, h, wd = x.shape
    o, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    out = np.zeros((n, o, ho, wo), dtype=np.float64)
    for i in range(k):
        for j in range(k):
            patch = xp[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    return out


def bn(x, sd, p):
    g, b, m, v = (sd[p + s].astype(np.float64) for s in ("weight", "bias", "running_mean", "running_var"))
    return (x - m[None, :, None, None]) / np.sqrt(v[None, :, None, None] + 1e-5) * g[None, :, None, None] + b[None, :, None, None]


def forward(sd, x, depth, width):
    relu = lambda t: np.maximum(t, 0)
    n = (depth - 4) // 6
    out = conv(x, sd["conv1.weight"], 1, 1)
    for b in range(3):
        for i in range(n):
            p = "block%d.layer.%d." % (b + 1, i)
            stride = 2 if (i == 0 and b > 0) else 1
            a = relu(bn(out, sd, p + "bn1."))
            h = conv(a, sd[p + "conv1.weight"], stride, 1)
            h = conv(relu(bn(h, sd, p + "bn2.")), sd[p + "conv2.weight"], 1, 1)
            short = conv(a, sd[p + "convShortcut.weight"], stride, 0) if p + "convShortcut.weight" in sd else out
            out = h + short
    out = relu(bn(out, sd, "bn1."))
    feat = out.mean(axis=(2, 3))
    return feat @ sd["fc.weight"].T.astype(np.float64) + sd["fc.bias"]


def main():
    ckpt, images, depth, width, classes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    sd = load(ckpt)
    want = expected_keys(depth, width)
    if sorted(sd) != sorted(want):
        print(json.dumps({"error": "keys differ", "missing": sorted(set(want) - set(sd)), "unexpected": sorted(set(sd) - set(want))}))
        sys.exit(2)
    if sd["fc.weight"].shape[0] != classes:
        print(json.dumps({"error": "classes differ"}))
        sys.exit(2)
    x = np.load(images).astype(np.float64)
    print(json.dumps({"logits": forward(sd, x, depth, width).tolist()}))


if __name__ == "__main__":
    main()
