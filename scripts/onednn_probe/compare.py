#!/usr/bin/env python3
"""Per-layer comparison of this engine's 3x3 convolutions and BatchNorm with oneDNN (issue 17).

Per input shape and round, in this order: `abl bench --layers --json`, the oneDNN probe
(scripts/onednn_probe/onednn_probe.c), and `abl bench --json` (whole training steps). Each cell
of the tables is the smallest of the rounds (ms per call, each a median of --calls calls).

  cc -O2 -o /tmp/onednn_probe scripts/onednn_probe/onednn_probe.c -ldnnl
  swift build -c release
  python3 scripts/onednn_probe/compare.py --probe /tmp/onednn_probe --rounds 2 --threads 1

The step projection replaces the measured 3x3 convolution (and BatchNorm) time of one training
step, summed over the network's layers, by oneDNN's for the same layers; everything else (the
1x1 shortcuts, ReLU, residual adds, pooling, the linear layer, the loss, SGD) stays as measured.
"""
import argparse
import json
import os
import subprocess

CONV_VARIANTS = ["plain", "plain+reord", "blocked", "bf16+reord", "bf16"]
DIRECTIONS = [("forward", "forward_ms"), ("backward-data", "input_grad_ms"), ("backward-weights", "weight_grad_ms")]


def run(cmd, env=None):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--abl", default=".build/release/abl")
    ap.add_argument("--probe", default="/tmp/onednn_probe")
    ap.add_argument("--inputs", default="3x32x32,1x28x28")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--calls", type=int, default=9)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=128)
    a = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    for spec in a.inputs.split(","):
        c, h, _ = (int(v) for v in spec.split("x"))
        ours, probe, step_ms, paths = {}, {}, None, {}
        impls = {}
        for _ in range(a.rounds):
            for line in run([a.abl, "bench", "--layers", "--json", "--threads", str(a.threads), "--inputs", spec,
                             "--calls", str(a.calls), "--batch", str(a.batch)]).splitlines():
                o = json.loads(line)
                key = (o["kind"], o["in_channels"], o["out_channels"], o["height"], o["stride"], o["path"] == "fused relu" or o["kind"] == "conv3x3")
                paths[key] = (o["layers"], o["path"])
                for name in ("forward_ms", "weight_grad_ms", "input_grad_ms"):
                    if name in o:
                        ours[key + (name,)] = min(ours.get(key + (name,), 1e9), o[name])
            for line in run([a.probe, str(c), str(h), str(a.batch), str(a.calls)], env=env).splitlines():
                if line.startswith("# oneDNN"):
                    version = line
                if line.startswith("#"):
                    print(line)
                    continue
                f = line.split("\t")
                relu = f[0] == "conv3x3" or not f[7].endswith("-norelu")
                key = (f[0], int(f[1]), int(f[2]), int(f[3]), int(f[5]), relu, f[6], f[7].replace("-norelu", ""))
                probe[key] = min(probe.get(key, 1e9), float(f[8]))
                impls[(f[0], f[6], f[7].replace("-norelu", ""))] = impls.get((f[0], f[6], f[7].replace("-norelu", "")), set()) | {f[10]}
            o = json.loads(run([a.abl, "bench", "--json", "--threads", str(a.threads), "--inputs", spec, "--steps", str(a.steps),
                                "--batch", str(a.batch)]).splitlines()[0])
            ms = a.batch / o["train_images_per_s"] * 1000
            step_ms = ms if step_ms is None else min(step_ms, ms)
        print(f"\n## {spec}, batch {a.batch}, {a.threads} thread(s), best of {a.rounds} rounds; {version.lstrip('# ')}")
        print("\nms per call; in brackets ours / oneDNN (above 1: oneDNN faster)\n")
        print("| layer (cin->cout HxW stride) | n | direction | ours (path) | " + " | ".join(CONV_VARIANTS) + " |")
        print("|---|---|---|---|" + "---|" * len(CONV_VARIANTS))
        totals = {v: 0.0 for v in ["ours"] + CONV_VARIANTS}
        for key, (n, path) in paths.items():
            kind, cin, cout, hh, stride, relu = key
            if kind != "conv3x3":
                continue
            for direction, name in DIRECTIONS:
                if key + (name,) not in ours:
                    continue
                mine = ours[key + (name,)]
                totals["ours"] += n * mine
                cells = []
                for v in CONV_VARIANTS:
                    t = probe[("conv3x3", cin, cout, hh, stride, True, direction, v)]
                    totals[v] += n * t
                    cells.append(f"{t:.2f} ({mine / t:.2f}x)")
                print(f"| {cin}->{cout} {hh}x{hh} s{stride} | {n} | {direction} | {mine:.2f} ({path}) | " + " | ".join(cells) + " |")
        print(f"| all 3x3 convolutions of a step | | | {totals['ours']:.1f} | "
              + " | ".join(f"{totals[v]:.1f} ({totals['ours'] / totals[v]:.2f}x)" for v in CONV_VARIANTS) + " |")
        print("\n| BatchNorm (C HxW) | n | direction | ours | plain (NCHW) | blocked (nChw16c) |")
        print("|---|---|---|---|---|---|")
        bn_totals = {"ours": 0.0, "plain": 0.0, "blocked": 0.0}
        for key, (n, path) in paths.items():
            kind, cin, cout, hh, stride, relu = key
            if kind != "batchnorm":
                continue
            for direction, name in (("forward", "forward_ms"), ("backward", "weight_grad_ms")):
                mine = ours[key + (name,)]
                bn_totals["ours"] += n * mine
                cells = []
                for v in ("plain", "blocked"):
                    t = probe[("batchnorm", cin, cin, hh, 1, relu, direction, v)]
                    bn_totals[v] += n * t
                    cells.append(f"{t:.2f} ({mine / t:.2f}x)")
                print(f"| {cin} {hh}x{hh} {'+ relu' if relu else ''} | {n} | {direction} | {mine:.2f} | " + " | ".join(cells) + " |")
        print(f"| all BatchNorms of a step | | | {bn_totals['ours']:.1f} | "
              + " | ".join(f"{bn_totals[v]:.1f} ({bn_totals['ours'] / bn_totals[v]:.2f}x)" for v in ("plain", "blocked")) + " |")
        rest = step_ms - totals["ours"] - bn_totals["ours"]
        print(f"\nWhole training step (abl bench, {a.steps} steps): {step_ms:.1f} ms; of it 3x3 convolutions {totals['ours']:.1f} ms "
              f"({100 * totals['ours'] / step_ms:.0f} %), BatchNorm {bn_totals['ours']:.1f} ms ({100 * bn_totals['ours'] / step_ms:.0f} %), "
              f"the rest {rest:.1f} ms.\n")
        print("| step with | convolutions | BatchNorm | projected step ms | speed-up |")
        print("|---|---|---|---|---|")
        print(f"| ours (measured) | ours | ours | {step_ms:.1f} | 1.00x |")
        for v, bn in (("plain", "ours"), ("plain+reord", "ours"), ("blocked", "blocked"), ("bf16+reord", "ours"), ("bf16", "blocked")):
            s = rest + totals[v] + bn_totals[bn]
            print(f"| oneDNN {v} | {totals[v]:.1f} | {bn} {bn_totals[bn]:.1f} | {s:.1f} | {step_ms / s:.2f}x |")
        print("\nImplementations oneDNN chose:")
        for (kind, direction, v), names in sorted(impls.items()):
            print(f"- {kind} {direction} {v}: {', '.join(sorted(names))}")


if __name__ == "__main__":
    main()
