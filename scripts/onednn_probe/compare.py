#!/usr/bin/env python3
"""Per-layer comparison of this engine's 3x3 convolutions and BatchNorm with oneDNN (issue 17).

Per input shape and round, in this order: `abl bench --layers --json`, the oneDNN probe
(scripts/onednn_probe/onednn_probe.c), and `abl bench --json` (whole training steps). Each cell
of the tables is the smallest of the rounds (ms per call, each a median of --calls calls); our
input gradient is the smallest backward with both gradients minus the smallest with the weight
gradient only (abl bench --layers times the two call by call in alternation).

  cc -O2 -o /tmp/onednn_probe scripts/onednn_probe/onednn_probe.c -ldnnl
  swift build -c release
  python3 scripts/onednn_probe/compare.py --probe /tmp/onednn_probe --rounds 2 --threads 1

The step projection scales the share of a training step's CPU time that the 3x3 convolutions
(and BatchNorm) take (--conv-share, --bn-share: from the perf profile in docs/BENCHMARKS.md) by
the ratio of the per-layer sums (each shape's time times its count in the network), ours over
oneDNN's; everything else (the 1x1 shortcuts, ReLU, residual adds, pooling, the linear layer,
the loss, SGD) stays.
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
    # docs/BENCHMARKS.md, perf profile of the AVX-512 path at 1x28x28, 1 thread: 3x3 forward and
    # input gradients, weight gradient with dy interleaving, padding: 10.4-10.7K of 15.2-16K
    # samples; BatchNorm 2.1K.
    ap.add_argument("--conv-share", type=float, default=0.68)
    ap.add_argument("--bn-share", type=float, default=0.135)
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
                for name in ("forward_ms", "weight_grad_ms", "backward_ms"):
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
        # the input gradient: the smallest backward with both gradients minus the smallest with dW only
        for key in list(ours):
            if key[-1] == "backward_ms":
                ours[key[:-1] + ("input_grad_ms",)] = ours[key] - ours[key[:-1] + ("weight_grad_ms",)]
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
        print(f"\nWhole training step (abl bench, {a.steps} steps): {step_ms:.1f} ms; the layers alone, summed over the network: "
              f"3x3 convolutions {totals['ours']:.1f} ms, BatchNorm {bn_totals['ours']:.1f} ms.")
        print(f"\nProjected step, from the shares of the step's CPU time (--conv-share {a.conv_share}, --bn-share {a.bn_share}) "
              "and the ratios of the sums above:\n")
        print("| step with | 3x3 convolutions | BatchNorm | step time | speed-up |")
        print("|---|---|---|---|---|")
        for v, bn in (("plain", "ours"), ("plain+reord", "ours"), ("blocked", "blocked"), ("bf16+reord", "ours"), ("bf16", "blocked")):
            rc, rb = totals["ours"] / totals[v], bn_totals["ours"] / bn_totals[bn]
            left = 1 - a.conv_share * (1 - 1 / rc) - a.bn_share * (1 - 1 / rb)
            print(f"| oneDNN {v} | {rc:.2f}x | {bn} ({rb:.2f}x) | {100 * left:.0f} % | {1 / left:.2f}x |")
        print("\nImplementations oneDNN chose:")
        for (kind, direction, v), names in sorted(impls.items()):
            print(f"- {kind} {direction} {v}: {', '.join(sorted(names))}")


if __name__ == "__main__":
    main()
