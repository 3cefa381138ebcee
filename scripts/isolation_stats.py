#!/usr/bin/env python3
"""Per-class loss statistics of a run's isolation model (what docs/RESULTS.md quotes).

usage: isolation_stats.py RUN_FOLDER [K ...]   (K: sizes of the lowest-loss sets to break down)
Reads RUN/isolate/losses.npy and RUN/poison/train_{poisoned,labels}.npy.
"""
import sys

import numpy as np

run = sys.argv[1].rstrip("/")
ks = [int(k) for k in sys.argv[2:]] or [600]
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
