#!/usr/bin/env python3
"""The scaling model of docs/SCALING.md: time per step and per epoch of data-parallel training
over N nodes, from compute per image, a node's measured rate and a ring allreduce.

    python3 scripts/scaling_model.py [--core-gflops 30] [--cores 32] [--batch 512]

Assumptions (each a flag): one rank per node using all its cores; the global batch fixed (so N
nodes take the steps one machine would); gradients summed after the backward pass, not
overlapped with it; BatchNorm sums and the loss gather latency-bound (recursive doubling)."""
import argparse, math

p = argparse.ArgumentParser()
p.add_argument("--core-gflops", type=float, default=60.0, help="effective training GFLOP/s of one core (WRN-16-1, docs/SCALING.md)")
p.add_argument("--cores", type=int, default=32, help="cores per node")
p.add_argument("--batch", type=int, default=512, help="global batch")
p.add_argument("--images", type=int, default=130_000, help="training images per epoch (ImageNet-100: about 1300 per class)")
a = p.parse_args()

# name, training GFLOP per image (forward + backward, about 3x forward), parameters, BatchNorm layers
models = [
    ("WRN-16-1 at 32x32", 0.162, 174_778, 13),
    ("PreAct-ResNet-18 at 224x224 (this toolkit's CIFAR stem)", 164.0, 11_217_316, 17),
    ("PreAct-ResNet-18 at 224x224 with an ImageNet stem (not built; 1/16 of the compute)", 164.0 / 16, 11_217_316, 17),
]
# name, bytes per second one way, latency per message in seconds
links = [("10 Gbit/s Ethernet (TCP)", 1.1e9, 25e-6), ("100 Gbit/s InfiniBand", 11e9, 2e-6)]

node = a.core_gflops * a.cores * 1e9
steps = math.ceil(a.images / a.batch)
print(f"node: {a.cores} cores x {a.core_gflops} GFLOP/s; global batch {a.batch}; {steps} steps per epoch\n")
for name, gflop, params, bn in models:
    grad = 4 * params
    print(f"## {name}: {gflop} GFLOP per image, {params:,} parameters ({grad / 1e6:.2f} MB per gradient sum), {bn} BatchNorm layers")
    print("| nodes | images per node per step | compute per step | " + " | ".join(f"sums per step, {l[0]} | epoch | efficiency" for l in links) + " |")
    print("|---|---|---|" + "---|---|---|" * len(links))
    for n in [1, 8, 32, 128]:
        per = a.batch / n
        compute = per * gflop * 1e9 / node
        row = f"| {n} | {per:g} | {compute * 1e3:.1f} ms |" if compute < 1 else f"| {n} | {per:g} | {compute:.2f} s |"
        for _, bw, lat in links:
            if n == 1:
                comm = 0.0
            else:
                ring = 2 * (n - 1) / n * grad / bw + 2 * (n - 1) * lat      # reduce-scatter + allgather
                small = (2 * bn + 1) * math.ceil(math.log2(n)) * lat       # BN sums forward and backward, loss gather
                comm = ring + small
            step = compute + comm
            eff = (a.batch * gflop * 1e9 / node) / (n * step)
            epoch = steps * step
            row += f" {comm * 1e3:.2f} ms | {epoch:.1f} s |" if epoch < 120 else f" {comm * 1e3:.2f} ms | {epoch / 60:.1f} min |"
            row += f" {eff * 100:.0f} % |"
        print(row)
    print()
