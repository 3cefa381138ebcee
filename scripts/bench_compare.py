#!/usr/bin/env python3
"""Runs `abl bench --json` (each kernel set given) and scripts/bench_pytorch.py in alternation,
round after round on the same cores, and prints each round's images/s with ours / PyTorch ratios.
The machines are shared and noisy: only figures from the same round compare.

    python3 scripts/bench_compare.py --python /path/to/venv/bin/python [--rounds 2] [--kernels auto,avx2]
        [--steps 20] [--inputs 3x32x32,1x28x28]

Needs a release build (.build/release/abl) and a Python with torch for the PyTorch side.
"""
import argparse
import json
import os
import subprocess
import sys


def lines(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return {o["input"]: o for o in (json.loads(l) for l in out.splitlines() if l.startswith("{"))}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--python", default=sys.executable, help="a Python with torch")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--kernels", default="auto,avx2")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--inputs", default="3x32x32,1x28x28")
    a = p.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    abl = os.path.join(root, ".build", "release", "abl")
    common = ["--steps", str(a.steps), "--threads", str(a.threads), "--inputs", a.inputs]
    for r in range(1, a.rounds + 1):
        results = {}
        for k in a.kernels.split(","):
            results[k] = lines([abl, "bench", "--json", "--kernels", k] + common)
        torch = lines([a.python, os.path.join(root, "scripts", "bench_pytorch.py")] + common)
        load = os.getloadavg()[0]
        for spec in a.inputs.split(","):
            t = torch[spec]
            row = [f"round {r}", spec, f"load {load:.1f}", f"{t['framework']} {t['train_images_per_s']}/{t['eval_images_per_s']}"]
            for k, res in results.items():
                o = res[spec]
                row.append(f"ours {o['kernels']} ({k}) {o['train_images_per_s']}/{o['eval_images_per_s']} = "
                           f"{o['train_images_per_s'] / t['train_images_per_s']:.2f}x/{o['eval_images_per_s'] / t['eval_images_per_s']:.2f}x")
            print(" | ".join(row), flush=True)


if __name__ == "__main__":
    main()
