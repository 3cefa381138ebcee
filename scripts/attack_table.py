#!/usr/bin/env python3
"""Prints a Markdown table of several runs' reports, one row per attack.

Usage: python3 scripts/attack_table.py runs/quick-badnets runs/quick-blend ...
Reads RUN/report/report.json (docs/REPORT.md); figures in %; the time is the sum of the
stage durations recorded in the report (not counting cached stages' original runs twice).
"""
import json
import sys


def pct(v):
    return "–" if v is None else f"{100 * v:.2f}"


print("| attack | label | poisoned (share of train) | surrogate CA | no-def CA | no-def ASR | ABL CA | ABL ASR | ABL RA | inferred target | isolated | precision | recall | stage time (s) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for run in sys.argv[1:]:
    with open(f"{run}/report/report.json") as f:
        r = json.load(f)
    # data brought without an attack section has no attack record
    a = r.get("attack") or {"name": "data as given", "label_kind": "–", "poisoned": "–"}
    m, i = r["models"], r["isolation"]
    nd, abl = m.get("no_defense", {}), m.get("abl", {})
    surrogate = a.get("surrogate", {}).get("ca")
    target = f"{i['given_target']} (given)" if "given_target" in i else i.get("inferred_target", "–")
    seconds = sum(s.get("duration_s") or 0 for s in r["stages"].values())
    print(f"| {a['name']} | {a['label_kind']} | {a['poisoned']} ({pct(a.get('poisoned_share_of_training_set'))} %) | {pct(surrogate) if surrogate is not None else '–'} "
          f"| {pct(nd.get('ca'))} | {pct(nd.get('asr'))} | {pct(abl.get('ca'))} | {pct(abl.get('asr'))} | {pct(abl.get('ra'))} "
          f"| {target} | {i['count']} | {pct(i.get('precision'))} | {pct(i.get('recall'))} | {seconds:.0f} |")
