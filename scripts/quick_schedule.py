#!/usr/bin/env python3
"""The quick schedule's no-defense model: does BadNets at 10 % take hold in it?

  python3 scripts/quick_schedule.py run     # each of manifests/quick-schedule/: --stage baseline, or the whole run for qs-unlearn-*
  python3 scripts/quick_schedule.py table   # the table for docs/RESULTS.md, from the run folders

Two candidate schedules on the quickstart's data (10000 training images, WRN-16-1), each on
three seeds and targets: 6 epochs with augmentation (crop, flip, cutout) and 4 without. Then the
quickstart's ABL fine-tuning with and without augmentation (qs-unlearn-*).
"""
import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANIFESTS = sorted(glob.glob(os.path.join(ROOT, "manifests", "quick-schedule", "*.json")))

if sys.argv[1:] == ["run"]:
    for m in MANIFESTS:
        stage = [] if "unlearn" in m else ["--stage", "baseline"]
        subprocess.run([os.path.join(ROOT, ".build", "release", "abl"), "run", m] + stage, check=True)
elif sys.argv[1:] == ["table"]:
    print("| manifest | seed | target | epochs | augment | no-defense CA | no-defense ASR |")
    print("|---|---|---|---|---|---|---|")
    for m in [m for m in MANIFESTS if "unlearn" not in m]:
        j = json.load(open(m))
        path = os.path.join(ROOT, j["output"], "baseline", "metrics.json")
        if not os.path.exists(path):
            print(f"| {os.path.basename(m)} | not run |||||")
            continue
        f = json.load(open(path))["final"]
        b = j["baseline"]
        print(f"| {os.path.relpath(m, ROOT)} | {j['seed']} | {j['attack']['target']} | {b['epochs']} | {'yes' if b['augment'] else 'no'} | {100 * f['ca']:.2f} | {100 * f['asr']:.2f} |")
    print()
    print("| manifest | fine-tune augment | no-defense CA / ASR | isolated (precision) | ABL CA / ASR |")
    print("|---|---|---|---|---|")
    for m in [m for m in MANIFESTS if "unlearn" in m]:
        j = json.load(open(m))
        path = os.path.join(ROOT, j["output"], "report", "report.json")
        if not os.path.exists(path):
            print(f"| {os.path.basename(m)} | not run ||||")
            continue
        r = json.load(open(path))
        nd, abl, i = r["models"]["no_defense"], r["models"]["abl"], r["isolation"]
        print(f"| {os.path.relpath(m, ROOT)} | {'yes' if j['unlearn']['finetune_augment'] else 'no'} | {100 * nd['ca']:.2f} / {100 * nd['asr']:.2f} "
              f"| {i['count']} ({100 * i['precision']:.2f}) | {100 * abl['ca']:.2f} / {100 * abl['asr']:.2f} |")
else:
    sys.exit(__doc__)
