#!/usr/bin/env python3
"""Result tables regenerated from run folders, with each row's provenance.

  python3 scripts/results.py table MANIFEST... [--title T]   # Markdown table on stdout
  python3 scripts/results.py snapshot MANIFEST...            # refresh the snapshots only

A row comes from the manifest's run folder (its `output`) when the folder is on this machine:
the attack from poison/attack.json, the no-defense model from baseline/metrics.json, ABL from
unlearn/metrics.json, the clean model from clean/metrics.json and the isolation from
isolate/isolation.json, each stage's `produced_by` (the abl version and commit, the CPU) and end
time from its stage.json. What the folder holds is written as the manifest's snapshot,
docs/results/runs/<manifest name>.json, so a later `table` on a machine without the folder still
prints the measured row. A stage not run shows "–"; a manifest with neither folder nor snapshot
shows "not run". Nothing is copied by hand: rerun `abl run MANIFEST` (or `--stage baseline` for
the no-defense figures alone), then this script.
"""
import argparse
import datetime
import json
import os
import shlex
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SNAPSHOTS = os.path.join(ROOT, "docs", "results", "runs")


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


UNRECORDED = "an abl binary that did not record itself"


def producer(record):
    """'abl 0.1.0 (commit ...), CPU (features; OpenBLAS core), date' of a stage.json."""
    if record is None:
        return None
    p = record.get("produced_by")
    date = (record.get("ended") or "")[:10] or "unknown date"
    if not p:
        return f"{UNRECORDED}, {date}"
    vec = [f for f in ("avx2", "avx512f", "amx_bf16") if f in p.get("cpu_features", [])]
    return f"abl {p['abl']}, {p['cpu']} ({' '.join(vec)}; OpenBLAS {p['openblas_core']}), {date}"


def measure(manifest_path):
    """The snapshot of a manifest's run folder, or None when the folder holds no stage."""
    m = load(manifest_path)
    out = os.path.join(ROOT, m["output"]) if not os.path.isabs(m["output"]) else m["output"]
    stages = {}
    for s in ("surrogate", "poison", "isolate", "unlearn", "baseline", "clean"):
        rec = load(os.path.join(out, s, "stage.json"))
        if rec:
            stages[s] = {"produced_by": producer(rec), "duration_s": rec.get("duration_s"), "ended": rec.get("ended")}
    if not stages:
        return None
    final = lambda s: (load(os.path.join(out, s, "metrics.json")) or {}).get("final") if s in stages else None
    attack = load(os.path.join(out, "poison", "attack.json")) if "poison" in stages else None
    iso = load(os.path.join(out, "isolate", "isolation.json")) if "isolate" in stages else None
    if iso:
        det = iso.get("detection") or {}
        iso = {k: iso.get(k) for k in ("count", "precision", "recall", "inferred_target", "given_target", "target_statistic", "ranked_by")}
        # the detection verdict: backdoor found (true, with its target), none (false), no verdict (absent)
        iso["backdoor_found"], iso["verdict_target"] = det.get("backdoor"), det.get("target")
    return {
        "manifest": os.path.relpath(manifest_path, ROOT),
        "name": m["name"],
        "command": f"abl run {os.path.relpath(manifest_path, ROOT)}",
        "attack": attack and {k: attack.get(k) for k in ("name", "label_kind", "target", "poisoned", "poisoned_share_of_training_set", "details")},
        "no_defense": final("baseline"),
        "abl": final("unlearn"),
        "clean": final("clean"),
        "isolation": iso,
        "stages": stages,
    }


def snapshot(manifest_path):
    """Refreshes the snapshot from the run folder when there is one; returns the snapshot and
    whether it came from the folder now."""
    m = load(manifest_path)
    if m is None:
        sys.exit(f"{manifest_path}: not a readable manifest")
    path = os.path.join(SNAPSHOTS, m["name"] + ".json")
    row = measure(manifest_path)
    if row:
        os.makedirs(SNAPSHOTS, exist_ok=True)
        with open(path, "w") as f:
            json.dump(row, f, indent=2, sort_keys=True, ensure_ascii=False)
            f.write("\n")
        return row, True
    return load(path), False


def pct(d, key):
    v = (d or {}).get(key)
    return "–" if v is None else f"{100 * v:.2f}"


def row_cells(r):
    a, iso = r.get("attack") or {}, r.get("isolation") or {}
    if iso.get("given_target") is not None:
        target = f"{iso['given_target']} (given)"
    else:
        found = iso.get("inferred_target")
        target = found if found is None or found == a.get("target") else f"{found}, wrong"
    st = r.get("stages", {})
    # who computed the figures: the stages behind each model, deduplicated
    by = []
    for s in ("baseline", "isolate", "unlearn"):
        p = (st.get(s) or {}).get("produced_by")
        if p and p not in by:
            by.append(p)
    label = a.get("label_kind", "–")
    poisoned = f"{a['poisoned']} ({100 * a['poisoned_share_of_training_set']:.2f} %)" if a.get("poisoned") is not None else "–"
    return [f"`{r['manifest']}`", a.get("name", "–"), label, poisoned,
            pct(r.get("no_defense"), "ca"), pct(r.get("no_defense"), "asr"),
            pct(r.get("abl"), "ca"), pct(r.get("abl"), "asr"), pct(r.get("abl"), "ra"),
            "–" if target is None else str(target), "–" if iso.get("count") is None else str(iso["count"]),
            pct(iso, "precision"), pct(iso, "recall"), "; ".join(by) or "–"]


def table(args):
    command = "python3 scripts/results.py " + shlex.join(sys.argv[1:])
    print(f"<!-- generated by: {command} -->")
    if args.title:
        print(f"# {args.title}\n")
    print(f"Generated by `{command}` on {datetime.date.today().isoformat()}, "
          "from each manifest's run folder or, where the folder is not on this machine, its snapshot in "
          "`docs/results/runs/`. Each row's command is `abl run <manifest>`; the last column names the binary, CPU and "
          "date of the stages behind its figures (no-defense model, isolation, unlearning). Figures in %; \"–\": not run.\n")
    print("| manifest | attack | label | poisoned (share of train) | no-def CA | no-def ASR | ABL CA | ABL ASR | ABL RA | target found | isolated | precision | recall | computed by |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for path in args.manifests:
        r, _ = snapshot(os.path.join(ROOT, path) if not os.path.isabs(path) else path)
        if not r:
            print(f"| `{path}` | not run |" + " |" * 12)
            continue
        print("| " + " | ".join(row_cells(r)) + " |")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["table", "snapshot"])
    p.add_argument("manifests", nargs="+")
    p.add_argument("--title", default="")
    p.add_argument("--unrecorded", default="", help="what computed the stages whose stage.json does not say (a binary from before `produced_by`)")
    a = p.parse_args()
    if a.unrecorded:
        global UNRECORDED
        UNRECORDED = a.unrecorded
    if a.command == "snapshot":
        for m in a.manifests:
            _, fresh = snapshot(m)
            print(f"{m}: {'snapshot written' if fresh else 'no run folder; snapshot kept'}")
    else:
        table(a)


if __name__ == "__main__":
    main()
