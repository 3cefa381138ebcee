#!/usr/bin/env python3
"""Which label each target statistic of target-aware isolation names, per run (docs/DESIGN.md, "Why the defaults").

usage: target_statistics.py [--mixtures] RUN_FOLDER [RUN_FOLDER ...]
  --mixtures: also print each label's fitted mixture (low weight, means and sds).
Reads RUN/isolate/losses.npy and RUN/poison/train_{poisoned,labels}.npy, fits the same
two-component Gaussian mixture to each label's log-losses as Sources/Sanitizer/LossMixture.swift
(Otsu start, 200 EM iterations) and prints, for the mode gap (high mean - low mean), Ashman's D
(gap / pooled sd), the separation (gap x D, the default) and the variance share (the part of the
label's log-loss variance between the two modes, w0 w1 gap^2 / total; not offered by `abl`),
the top label and the runner-up.
The true target is the label most poisoned samples carry.
"""
import sys

import numpy as np


def otsu(x):
    n = len(x)
    pre = np.concatenate([[0.0], np.cumsum(x)])
    k = np.arange(1, n)
    w0 = k / n
    between = w0 * (1 - w0) * (pre[k] / k - (pre[n] - pre[k]) / (n - k)) ** 2
    return int(k[np.argmax(between)])


def mixture(losses):
    x = np.sort(np.log(np.maximum(losses.astype(np.float64), 1e-12)))
    k = otsu(x)
    m0, s0, m1, s1, w0 = x[:k].mean(), max(1e-3, x[:k].std()), x[k:].mean(), max(1e-3, x[k:].std()), k / len(x)
    for _ in range(200):
        p0 = w0 * np.exp(-0.5 * ((x - m0) / s0) ** 2) / s0
        p1 = (1 - w0) * np.exp(-0.5 * ((x - m1) / s1) ** 2) / s1
        r = np.where(p0 + p1 > 0, p0 / np.maximum(p0 + p1, 1e-300), (x < (m0 + m1) / 2) * 1.0)
        r0 = r.sum()
        r1 = len(x) - r0
        m0, m1 = (r * x).sum() / r0, ((1 - r) * x).sum() / r1
        s0 = max(1e-3, np.sqrt((r * (x - m0) ** 2).sum() / r0))
        s1 = max(1e-3, np.sqrt(((1 - r) * (x - m1) ** 2).sum() / r1))
        w0 = r0 / len(x)
    if m0 > m1:
        m0, m1, s0, s1, w0 = m1, m0, s1, s0, 1 - w0
    return m0, s0, m1, s1, w0


show = "--mixtures" in sys.argv
for run in (r.rstrip("/") for r in sys.argv[1:] if r != "--mixtures"):
    loss = np.load(run + "/isolate/losses.npy")
    labels = np.load(run + "/poison/train_labels.npy").astype(int)
    poisoned = np.load(run + "/poison/train_poisoned.npy").astype(bool)
    target = int(np.bincount(labels[poisoned]).argmax()) if poisoned.any() else -1
    stats = {"mode-gap": {}, "ashman-D": {}, "separation": {}, "variance-share": {}}
    for c in np.unique(labels):
        if (labels == c).sum() < 20:
            continue
        m0, s0, m1, s1, w0 = mixture(loss[labels == c])
        if show:
            print("  label %d: low weight %.2f, low mean %.2f sd %.2f, high mean %.2f sd %.2f" % (c, w0, m0, s0, m1, s1))
        gap = m1 - m0 if min(w0, 1 - w0) >= 0.02 else 0.0
        d = gap / np.sqrt((s0 ** 2 + s1 ** 2) / 2)
        stats["mode-gap"][c], stats["ashman-D"][c], stats["separation"][c] = gap, d, gap * d
        between = w0 * (1 - w0) * gap ** 2
        stats["variance-share"][c] = between / (between + w0 * s0 ** 2 + (1 - w0) * s1 ** 2)
    line = "%-24s target %d" % (run.split("/")[-1], target)
    for name, s in stats.items():
        top = sorted(s, key=lambda c: (-s[c], c))
        line += " | %s %d (%.2f; next %d, %.2f)%s" % (name, top[0], s[top[0]], top[1], s[top[1]], "" if top[0] == target else " WRONG")
    print(line)
