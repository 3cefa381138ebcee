#!/usr/bin/env python3
"""Per-class loss statistics of a run's isolation model (the evidence behind docs/DESIGN.md, "Why the defaults").

usage: isolation_stats.py RUN_FOLDER [K ...] [--below B ...]
  K: sizes of the lowest-loss sets to break down;
  B: log-loss boundaries: how many samples of the target label (the label most poisoned
     samples carry) lie below each, poisoned and clean.
Reads RUN/isolate/losses.npy and RUN/poison/train_{poisoned,labels}.npy and, when present,
RUN/isolate/isolated.npy.
"""
import sys

import numpy as np

run = sys.argv[1].rstrip("/")
args = sys.argv[2:]
cut = args.index("--below") if "--below" in args else len(args)
ks = [int(k) for k in args[:cut]] or [600]
boundaries = [float(b) for b in args[cut + 1:]]
loss = np.load(run + "/isolate/losses.npy")
poisoned = np.load(run + "/poison/train_poisoned.npy")
labels = np.load(run + "/poison/train_labels.npy")
print("poisoned samples: %d, loss median %.4g, 99th percentile %.4g" % (poisoned.sum(), np.median(loss[poisoned]), np.percentile(loss[poisoned], 99)))
print("label  clean-n  clean-median  clean-p1   spread log(p50/p05) of the label")
for c in range(labels.max() + 1):
    clean = loss[(labels == c) & ~poisoned]
    mine = np.sort(loss[labels == c])
    q = lambda f: max(mine[int(f * (len(mine) - 1))], 1e-12)
    print("%5d  %7d  %12.4g  %9.4g   %.2f" % (c, len(clean), np.median(clean), np.percentile(clean, 1), np.log(q(0.5)) - np.log(q(0.05))))
for k in ks:
    low = np.argsort(loss, kind="stable")[:k]
    print("lowest %d: %d poisoned; labels %s" % (k, poisoned[low].sum(), np.bincount(labels[low], minlength=labels.max() + 1).tolist()))

logl = np.log(np.maximum(loss.astype(np.float64), 1e-12))
pct = [1, 10, 25, 50, 75, 90]
print("log-loss percentiles %s: poisoned %s" % (pct, np.round(np.percentile(logl[poisoned], pct), 2).tolist()))
for c in range(labels.max() + 1):
    print("  clean label %d: %s" % (c, np.round(np.percentile(logl[(labels == c) & ~poisoned], pct), 2).tolist()))
if poisoned.any():
    target = np.bincount(labels[poisoned]).argmax()
    mine = labels == target
    try:
        isolated = np.zeros(len(loss), bool)
        isolated[np.load(run + "/isolate/isolated.npy")] = True
        missed = mine & poisoned & ~isolated
        print("target %d: poisoned samples not isolated %d, log-loss median %.2f (clean samples of the label: %.2f)"
              % (target, missed.sum(), np.median(logl[missed]) if missed.any() else float("nan"), np.median(logl[mine & ~poisoned])))
    except FileNotFoundError:
        pass
    for b in boundaries:
        below = mine & (logl < b)
        print("target %d, log-loss below %g: %d samples, %d poisoned, %d clean" % (target, b, below.sum(), (below & poisoned).sum(), (below & ~poisoned).sum()))
