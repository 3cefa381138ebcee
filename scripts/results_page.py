#!/usr/bin/env python3
"""Writes docs/RESULTS.md: one table per group of committed manifests (scripts/results.py).

  python3 scripts/results_page.py                 # the page from run folders and snapshots
  python3 scripts/results_page.py --run quick     # first run what is missing in sections matching "quick"
  python3 scripts/results_page.py --run all       # ... in every section (the fmnist rows take hours)

A row comes from the manifest's run folder when it is on this machine, else from its snapshot in
docs/results/runs/ (scripts/results.py). `--run` runs `abl run MANIFEST` with the release binary,
one manifest after the other, for each manifest of the chosen sections whose run folder holds no
report; cached stages are reused, so a rerun only computes what is missing.
"""
import argparse
import datetime
import os
import shlex
import subprocess
import sys

import results

ROOT = results.ROOT
PAGE = os.path.join(ROOT, "docs", "RESULTS.md")
FMNIST = ["badnets", "trojan", "blend", "dynamic", "sig", "cl", "fc", "dfst", "lba", "cba"]

# (title, what the manifests are, manifests)
SECTIONS = [
    ("Quickstart",
     "`bash scripts/demo.sh` runs this manifest: BadNets (3x3 grid, target 0, 10 %) on 10000 Fashion-MNIST "
     "training images and 2000 test images, cleaned with the default ABL on the quick schedule (5 LGA epochs, "
     "3 joint epochs, a 4-epoch no-defense model, no augmentation).",
     ["manifests/quickstart.json"]),
    ("The ten attacks, fmnist schedule",
     "All 60000 training images; WRN-16-1, batch 128, SGD with momentum 0.9 (Nesterov), weight decay 1e-4; "
     "isolation 5 LGA epochs at lr 0.1; joint fine-tune with the complement objective 10 epochs (lr 0.1, 0.01 "
     "from epoch 6); no-defense and clean models 15 epochs (lr 0.1, 0.01 from epoch 10), crop 4 + flip + "
     "cutout. Target 0 at the attacks' default rates. docs/DESIGN.md says why each default is what it is.",
     [f"manifests/fmnist/{k}.json" for k in FMNIST]),
    ("BadNets: the reference ABL and ours",
     "The same poisoned set cleaned as the paper's code does it (lowest 1 % of losses, 10 fine-tune epochs, "
     "5 epochs of gradient ascent at lr 5e-4) and with our default.",
     ["manifests/fmnist/badnets-reference.json", "manifests/fmnist/badnets.json"]),
    ("CL trigger size and budget, fmnist schedule",
     "`cl.json` derives the corner checkerboards' side from the images (5x5 on 28x28 grayscale); the others "
     "change one setting of the paper's 3x3 (`cl-patch3.json`): budget 16, no crops for the victim, the whole "
     "target class poisoned, and 5x5 with budget 16.",
     ["manifests/fmnist/cl.json", "manifests/fmnist/cl-patch3.json", "manifests/fmnist/cl-eps16.json",
      "manifests/fmnist/cl-noaug.json", "manifests/fmnist/cl-rate1.json", "manifests/fmnist/cl-patch5.json"]),
    ("SIG: the isolation's margin left out of fine-tuning, fmnist schedule",
     "`sig.json` with `unlearn.quarantine` 0.1: the target label's next-lowest isolation losses, a tenth of the "
     "isolated count, are neither learned nor unlearned (docs/DESIGN.md).",
     ["manifests/fmnist/sig.json", "manifests/fmnist/sig-quarantine.json"]),
    ("The ten attacks, quick schedule",
     "The quickstart's schedule with 3 LGA epochs, for a first look at every attack in minutes; single runs, "
     "not verdicts.",
     [f"manifests/quick/{k}.json" for k in FMNIST]),
    ("Choosing the quick schedule",
     "No-defense models of BadNets at 10 % on three seeds and targets, 4 epochs without augmentation "
     "(`qs-e4noaug-*`) against 6 epochs with it (`qs-e6aug-*`); and the quickstart's fine-tune with and "
     "without augmentation (`qs-unlearn-*`).",
     sorted(os.path.join("manifests/quick-schedule", f) for f in os.listdir(os.path.join(ROOT, "manifests/quick-schedule")))),
]

ELSEWHERE = """## Generated elsewhere

- Detection (verdict on clean sets, other targets and rates): [results/detection-quick.md](results/detection-quick.md)
  and [results/detection-fmnist.md](results/detection-fmnist.md), by `python3 scripts/detection_grid.py`.
- Data the user brings (`abl sanitize`): [results/sanitize.md](results/sanitize.md), by `python3 scripts/sanitize_demo.py`.
- Engine speed against PyTorch: [BENCHMARKS.md](BENCHMARKS.md), by `scripts/bench_compare.py`.
"""


def has_report(manifest):
    m = results.load(os.path.join(ROOT, manifest))
    return os.path.exists(os.path.join(results.run_folder(m), "report", "stage.json"))


def run_missing(pattern):
    abl = os.path.join(ROOT, ".build", "release", "abl")
    if not os.path.exists(abl):
        subprocess.run(["swift", "build", "-c", "release", "--product", "abl"], cwd=ROOT, check=True)
    for title, _, manifests in SECTIONS:
        if pattern != "all" and pattern.lower() not in title.lower():
            continue
        for m in manifests:
            if not has_report(m):
                print(f"running {m}", file=sys.stderr)
                subprocess.run([abl, "run", m], cwd=ROOT, check=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", metavar="SECTION", help='run what is missing in sections whose title contains SECTION ("all": every one)')
    a = p.parse_args()
    if a.run:
        run_missing(a.run)
    command = "python3 scripts/results_page.py"
    lines = [f"<!-- generated by: {command} -->", "# Results", "",
             f"Generated by `{command}` on {datetime.date.today().isoformat()} from the run folders of the "
             "committed manifests or, where a folder is not on the machine that ran it, the manifest's snapshot in "
             "`docs/results/runs/`. " + results.LEGEND + " Rows imported from a committed report predate "
             "the detection verdict that the manifests now run by default (`isolate.detection`); rerunning "
             "the manifest gives today's default. Regenerate a row with `abl run <manifest>`, then this "
             "command; `--run SECTION` does both.", ""]
    for title, text, manifests in SECTIONS:
        lines += [f"## {title}", "", text, ""] + results.table_lines(manifests) + [""]
    lines.append(ELSEWHERE)
    with open(PAGE, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {os.path.relpath(PAGE, ROOT)}")


if __name__ == "__main__":
    main()
