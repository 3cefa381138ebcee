#!/usr/bin/env python3
"""The detection grid: clean sets over several seeds and attacks x targets x rates, one manifest
each, judged by `abl detect`; writes the table of docs/results/detection-<schedule>.md.

  python3 scripts/detection_grid.py write  [--schedule quick]   # (re)writes the grid's manifests
  python3 scripts/detection_grid.py run    [--schedule quick] [--stage isolate] [--case NAME ...] [--jobs 1]
  python3 scripts/detection_grid.py table  [--schedule quick]   # the results page from the run folders

The manifests live in manifests/detection/<schedule>/ and derive from the schedule's base
manifest (quick: manifests/quickstart.json; fmnist: manifests/fmnist/badnets.json): only the
seed (which also draws the quick schedule's subset), the attack and the output change; an attack
crafted on a surrogate (LBA, Dynamic, CL, FC) also takes the surrogate and its own settings from
the schedule's manifest of that attack (manifests/quick/, manifests/fmnist/). A clean
set is the base with the attack poisoning a single image (rate 1 / training-set size): the
manifest format requires an attack, and one image cannot teach a backdoor.
`run` runs what is not fresh (by default up to the isolate stage, which is all a verdict needs);
`table` reads each run folder: the verdict from `abl detect --json` on the saved losses, the
isolation model's ASR from isolate/metrics.json, the statistics' inferred target from
isolation.json, who trained the isolation model from isolate/stage.json (`produced_by`) and,
where the run went further from the same isolate stage, the no-defense and ABL figures of
report.json. A run folder counts only where `abl status` finds its isolate stage fresh for the
manifest (and its report, for the no-defense and ABL columns). Each case's row is kept as a
snapshot in docs/results/detection-<schedule>/ with the manifest sections it was measured with,
so a case whose run folder is not on this machine keeps its measured row, until one of those
sections changes: then the row shows as stale until the case is rerun.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

import results  # scripts/results.py: run-folder reading shared by the result tables
from results import load

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ABL = os.environ.get("ABL_BINARY") or os.path.join(ROOT, ".build", "release", "abl")
SCHEDULES = {
    "quick": {"base": "manifests/quickstart.json", "attacks": "manifests/quick", "train": 10000},
    "fmnist": {"base": "manifests/fmnist/badnets.json", "attacks": "manifests/fmnist", "train": 60000},
}
# (name, seed, attack): clean sets over five seeds, then attacks x targets x rates
CASES = [(f"clean-s{s}", s, None) for s in range(5)] + [
    ("badnets-t0-r10", 0, {"kind": "badnets", "target": 0, "rate": 0.1}),
    ("badnets-t8-r10", 0, {"kind": "badnets", "target": 8, "rate": 0.1}),
    ("badnets-t3-r10", 0, {"kind": "badnets", "target": 3, "rate": 0.1}),
    ("badnets-t1-r5", 0, {"kind": "badnets", "target": 1, "rate": 0.05}),
    ("badnets-t5-r2", 0, {"kind": "badnets", "target": 5, "rate": 0.02}),
    ("badnets-t7-r1", 0, {"kind": "badnets", "target": 7, "rate": 0.01}),
    ("blend-t3-r10", 0, {"kind": "blend", "target": 3, "rate": 0.1}),
    ("sig-t5-r10", 0, {"kind": "sig", "target": 5, "rate": 0.1}),
    ("trojan-t2-r10", 0, {"kind": "trojan", "target": 2, "rate": 0.1}),
    ("cba-t4-r10", 0, {"kind": "cba", "target": 4, "rate": 0.1}),
    ("lba-t6-r10", 0, {"kind": "lba", "target": 6, "rate": 0.1}),
    ("dynamic-t9-r10", 0, {"kind": "dynamic", "target": 9, "rate": 0.1}),
]


def folder(schedule):
    return os.path.join(ROOT, "manifests", "detection", schedule)


def manifest(schedule, name, seed, attack):
    s = SCHEDULES[schedule]
    with open(os.path.join(ROOT, s["base"])) as f:
        m = json.load(f)
    m.pop("$comment", None)
    m["$schema"] = "../../abl-manifest.schema.json"
    m["$comment"] = f"Detection grid ({schedule} schedule, {s['base']} with another seed or attack): scripts/detection_grid.py writes it."
    m["name"] = f"detection-{schedule}-{name}"
    m["seed"] = seed
    m["output"] = f"runs/detection/{schedule}/{name}"
    m["attack"] = attack or {"kind": "badnets", "target": 0, "rate": 1 / s["train"]}
    # an attack crafted on a surrogate takes the surrogate and its crafting settings from the
    # schedule's manifest of that attack; the case sets only the target and the rate
    own = load(os.path.join(ROOT, s["attacks"], m["attack"]["kind"] + ".json")) or {}
    if "surrogate" in own:
        m["attack"] = {**own["attack"], **m["attack"]}
        m["surrogate"] = own["surrogate"]
    return m


def write(args):
    os.makedirs(folder(args.schedule), exist_ok=True)
    for name, seed, attack in CASES:
        path = os.path.join(folder(args.schedule), name + ".json")
        with open(path, "w") as f:
            json.dump(manifest(args.schedule, name, seed, attack), f, indent=2)
            f.write("\n")
        print(os.path.relpath(path, ROOT))


def manifests(schedule):
    return [(name, os.path.join(folder(schedule), name + ".json")) for name, _, _ in CASES
            if os.path.exists(os.path.join(folder(schedule), name + ".json"))]


def run(args):
    procs = []
    known = {name for name, _ in manifests(args.schedule)}
    if unknown := set(args.case or []) - known:
        sys.exit(f"no such case in manifests/detection/{args.schedule}: {', '.join(sorted(unknown))}")
    for name, path in manifests(args.schedule):
        if args.case and name not in args.case:
            continue
        cmd = [ABL, "run", path] + (["--stage", args.stage] if args.stage else [])
        print("$", " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd), flush=True)
        procs.append(subprocess.Popen(cmd, cwd=ROOT))
        if len(procs) >= args.jobs:
            if procs.pop(0).wait() != 0:
                sys.exit(f"{name}: failed")
    for p in procs:
        if p.wait() != 0:
            sys.exit("a run failed")


def fmt_p(p):
    return "< 1e-300" if p == 0 else f"{p:.2g}"


def pct(v):
    return "–" if v is None else f"{100 * v:.2f}"


def snapshots(schedule):
    return os.path.join(ROOT, "docs", "results", f"detection-{schedule}")


def producer(out, fallback):
    """Who computed the isolate stage: its stage.json's produced_by, else the --trained-by text."""
    if fallback:
        results.UNRECORDED = fallback
    return results.producer(load(os.path.join(out, "isolate", "stage.json")) or {"ended": ""})


# the manifest sections a row's verdict and isolation figures depend on, and those its no-defense
# and ABL figures add
ISOLATION_SECTIONS = ("seed", "dataset", "attack", "surrogate", "model", "isolate")
ABL_SECTIONS = ISOLATION_SECTIONS + ("unlearn", "baseline")


def sections(m, keys=ABL_SECTIONS):
    return {k: m[k] for k in keys if k in m}


def stale(row, m):
    """Why a snapshot no longer describes its manifest (a section it was measured with has
    changed since), or None. A snapshot without the sections it was measured with is stale."""
    was = row.get("manifest")
    if was is None:
        return "it does not record its manifest"
    keys = ABL_SECTIONS if row["cells"][10] != "–" or row["cells"][11] != "–" else ISOLATION_SECTIONS
    changed = [k for k in keys if was.get(k) != m.get(k)]
    return f"the manifest's {', '.join(changed)} changed since" if changed else None


def fresh_stages(path):
    """The stages of the manifest at `path` whose outputs its run folder holds fresh (`abl status`)."""
    st = subprocess.run([ABL, "status", path], capture_output=True, text=True)
    return {f[0] for f in (line.split() for line in st.stdout.splitlines()) if len(f) >= 2 and f[1] == "fresh"}


def measure(name, path, out, trained_by):
    """One case's row from its run folder, or None when the folder holds no isolate stage that
    is fresh for the manifest at `path`."""
    fresh = fresh_stages(path)
    if "isolate" not in fresh:
        return None
    det = subprocess.run([ABL, "detect", out, "--json"], capture_output=True, text=True)
    if det.returncode != 0:
        return None
    v = json.loads(det.stdout)
    a = load(os.path.join(out, "poison", "attack.json")) or {}
    iso = load(os.path.join(out, "isolate", "isolation.json")) or {}
    met = (load(os.path.join(out, "isolate", "metrics.json")) or {}).get("final", {})
    rep = load(os.path.join(out, "report", "report.json"))
    # a report made from an earlier isolate stage, or with other settings, says nothing about this run
    iso_key = (load(os.path.join(out, "isolate", "stage.json")) or {}).get("cache_key")
    if rep and (rep.get("stages", {}).get("isolate", {}).get("cache_key") != iso_key or "report" not in fresh):
        rep = None
    clean = name.startswith("clean")
    truth = None if clean else a.get("target")
    found = bool(v.get("backdoor")) and v.get("target") == truth
    s = (v.get("labels") or [{}])[0]
    verdict = "none" if v.get("backdoor") is None else (f"backdoor, label {v['target']}" if v["backdoor"] else "no backdoor")
    ok = ("✓" if not v.get("backdoor") else "✗ false alarm") if clean else ("✓" if found else "✗")
    # the label the loss statistic would isolate without the verdict: its top-scoring label
    scores = iso.get("class_" + (iso.get("target_statistic") or "").replace("-", "_")) or {}
    stat = max(sorted(scores), key=lambda k: scores[k]) if scores else "–"
    nd = abl = None
    if rep:
        nd, abl = rep["models"].get("no_defense", {}), rep["models"].get("abl", {})
    attack_text = "clean (1 image poisoned)" if clean else f"{a.get('name')} → {truth} at {a.get('rate')}"
    cells = [name, attack_text, str(a.get("poisoned", "–")), verdict, ok, f"{v.get('family_p_value', 1):.2g}",
             f"label {s.get('label', '–')}, {s.get('signal', '–')}: {pct(s.get('train_share'))} vs {pct(s.get('test_share'))}",
             pct(met.get("asr")), str(stat), f"{iso.get('count', '–')} ({pct(iso.get('precision'))})",
             pct(nd.get("asr")) if nd else "–", pct(abl.get("asr")) if abl else "–",
             f"{pct(nd.get('ca'))} → {pct(abl.get('ca'))}" if nd and abl else "–", producer(out, trained_by)]
    return {"case": name, "clean": clean, "backdoor": v.get("backdoor"), "found": found, "cells": cells}


def table(args):
    """Each case from its run folder when it has one (refreshing the case's snapshot in
    docs/results/detection-<schedule>/), else from the committed snapshot of an earlier run."""
    rows, clean_fp, cleans, attacks_found, attacks = [], 0, 0, 0, 0
    os.makedirs(snapshots(args.schedule), exist_ok=True)
    for name, path in manifests(args.schedule):
        m = load(path)
        snap = os.path.join(snapshots(args.schedule), name + ".json")
        row = measure(name, path, os.path.join(ROOT, m["output"]), args.trained_by)
        if row:
            row["manifest"] = sections(m)
            with open(snap, "w") as f:
                json.dump(row, f, indent=2, sort_keys=True, ensure_ascii=False)
                f.write("\n")
        else:
            row = load(snap)
        if not row:
            rows.append(f"| {name} | not run |" + " |" * 12)
            continue
        if why := stale(row, m):
            rows.append(f"| {name} | stale snapshot ({why}); rerun |" + " |" * 12)
            continue
        if row["clean"]:
            cleans += 1
            clean_fp += bool(row["backdoor"])
        else:
            attacks += 1
            attacks_found += bool(row["found"])
        rows.append("| " + " | ".join(row["cells"]) + " |")
    now = datetime.date.today().isoformat()
    command = f"python3 scripts/detection_grid.py table --schedule {args.schedule}"
    print(f"<!-- generated by: {command} -->")
    print(f"# Detection grid, {args.schedule} schedule\n")
    print(f"Generated by `{command}` on {now} from the run folders of `manifests/detection/{args.schedule}/` "
          f"(run with `python3 scripts/detection_grid.py run --schedule {args.schedule}`) or, for a case whose folder "
          f"is not on this machine, from its snapshot in `docs/results/detection-{args.schedule}/` (written by an "
          f"earlier `table` from that run's folder). The verdict is `abl detect` on each run's saved isolation losses "
          f"with the default rule (docs/DETECTION.md); the last column names the binary, CPU and date of the isolate "
          f"stage that trained the isolation model. Figures in %.\n")
    print(f"Clean sets judged backdoored: {clean_fp} of {cleans} run; attacks whose target was named: {attacks_found} of {attacks} run.\n")
    print("| case | attack | poisoned | verdict | right | family p | strongest label and signal: training vs test share beyond the threshold | isolation-model ASR | label the loss statistic names without a verdict | isolated (precision) | no-def ASR | ABL ASR | CA no-def → ABL | isolation model trained by |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(r)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["write", "run", "table"])
    p.add_argument("--schedule", choices=sorted(SCHEDULES), default="quick")
    p.add_argument("--stage", default="isolate", help="run up to this stage (empty: the whole manifest)")
    p.add_argument("--case", action="append", help="run: only this case (repeatable; default: every case)")
    p.add_argument("--jobs", type=int, default=1, help="runs at once (each uses every core)")
    p.add_argument("--trained-by", default="", help="table: what trained the isolate stages whose stage.json does not say")
    args = p.parse_args()
    {"write": write, "run": run, "table": table}[args.command](args)


if __name__ == "__main__":
    main()
