#!/usr/bin/env python3
"""Result tables regenerated from run folders, with each row's provenance.

  python3 scripts/results.py table MANIFEST... [--title T]   # Markdown table on stdout
  python3 scripts/results.py snapshot MANIFEST...            # refresh the snapshots only
  python3 scripts/results.py import REPORT MANIFEST          # snapshot from a run's committed report
  python3 scripts/results_page.py [--run SECTION]            # writes docs/RESULTS.md from these tables

A row comes from the manifest's run folder (its `output`) when the folder is on this machine:
the attack from poison/attack.json, the no-defense model from baseline/metrics.json, ABL from
unlearn/metrics.json, the clean model from clean/metrics.json and the isolation from
isolate/isolation.json, each stage's `produced_by` (the abl version and commit, the CPU) and end
time from its stage.json. What the folder holds is written as the manifest's snapshot,
docs/results/runs/<manifest name>.json, so a later `table` on a machine without the folder still
prints the measured row. A stage not run shows "–"; a manifest with neither folder nor snapshot
shows "not run". Nothing is copied by hand: rerun `abl run MANIFEST` (or `--stage baseline` for
the no-defense figures alone), then this script.

`import` keeps the figures of a run whose folder is gone but whose `report.md` was committed
(docs/results/<name>.md): it reads the report's attack line, model table and isolation line, or a
row of a table this script printed, and writes the snapshot with `"source"` naming that file; the
row then says where its figures came from instead of a producer the report did not record.
"""
import argparse
import datetime
import json
import os
import re
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


def run_folder(manifest):
    """A manifest's run folder (its `output`, relative to the repository root unless absolute)."""
    return os.path.join(ROOT, manifest["output"])


def measure(manifest_path):
    """The snapshot of a manifest's run folder, or None when the folder holds no stage."""
    m = load(manifest_path)
    out = run_folder(m)
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
    row, kept = measure(manifest_path), load(path)
    models = lambda r: {s for s in ("isolate", "unlearn", "baseline", "clean") if s in (r or {}).get("stages", {})}
    # a folder replaces the snapshot once it holds every model the snapshot has (a run in progress,
    # or one rerun only up to a stage, does not erase figures measured further)
    if row and models(row) and models(row) >= models(kept):
        os.makedirs(SNAPSHOTS, exist_ok=True)
        with open(path, "w") as f:
            json.dump(row, f, indent=2, sort_keys=True, ensure_ascii=False)
            f.write("\n")
        return row, True
    return kept, False


def _fraction(cell):
    """'93.23 %' or '93.23' -> 0.9323; '–' or '' -> None."""
    cell = cell.replace("%", "").replace("*", "").strip()
    try:
        return round(float(cell) / 100, 6)
    except ValueError:
        return None


def _from_report(text):
    """The figures of a report.md (the report stage's Markdown)."""
    attack, models, iso, stages, by = None, {}, None, {}, None
    for line in text.splitlines():
        a = re.match(r"Attack: \*\*(.+?)\*\* \((\w+)-label, [^,]+, target (\d+)[^)]*\), (\d+) of (\d+) training images", line)
        if a:
            attack = {"name": a[1], "label_kind": a[2], "target": int(a[3]), "poisoned": int(a[4]),
                      "poisoned_share_of_training_set": int(a[4]) / int(a[5])}
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) >= 5 and cells[0] in ("no defense", "ABL", "clean model"):
            models[cells[0]] = {"ca": _fraction(cells[1]), "ca_nt": _fraction(cells[2]),
                                "asr": _fraction(cells[3]), "ra": _fraction(cells[4])}
        if len(cells) == 2 and cells[1].endswith(" s"):
            stages[cells[0]] = float(cells[1][:-2])
        i = re.match(r"Isolation: (\d+) samples \((.*)\): precision ([\d.]+) %, recall ([\d.]+) %", line)
        if i:
            t = re.search(r"(?:inferred target|target) (\d+)", i[2])
            iso = {"count": int(i[1]), "precision": round(float(i[3]) / 100, 6), "recall": round(float(i[4]) / 100, 6),
                   "inferred_target": int(t[1]) if t else None, "given_target": None}
        if line.startswith("abl ") and " on " in line:
            by = line.rstrip(".")
    if "Verdict: no backdoor" in text and iso is not None:
        iso["backdoor_found"] = False
    return attack, models, iso, stages, by


def _from_table(text, manifest):
    """The figures of this script's own table row for `manifest`, read by column name."""
    header = None
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "manifest":
            header = cells
        if header is None or cells[0] != f"`{manifest}`" or len(cells) != len(header) or cells[1] == "not run":
            continue
        c = dict(zip(header, cells))
        n = re.match(r"(\d+) \(([\d.]+) %\)", c["poisoned (share of train)"])
        attack = {"name": c["attack"], "label_kind": c["label"], "target": None,
                  "poisoned": int(n[1]) if n else None,
                  "poisoned_share_of_training_set": round(float(n[2]) / 100, 6) if n else None}
        models = {"no defense": {"ca": _fraction(c["no-def CA"]), "asr": _fraction(c["no-def ASR"])},
                  "ABL": {"ca": _fraction(c["ABL CA"]), "asr": _fraction(c["ABL ASR"]), "ra": _fraction(c["ABL RA"])},
                  "clean model": {"ca": _fraction(c.get("clean CA", ""))}}
        models = {k: v for k, v in models.items() if any(x is not None for x in v.values())}
        t = re.match(r"(\d+)", c["target found"])
        iso = None
        if c["isolated"].isdigit():
            iso = {"count": int(c["isolated"]), "precision": _fraction(c["precision"]), "recall": _fraction(c["recall"]),
                   "inferred_target": int(t[1]) if t else None, "given_target": None}
            if t and "wrong" not in c["target found"]:
                attack["target"] = iso["inferred_target"]
        return attack, models, iso, {}, c["computed by"]
    return None


def import_report(source, manifest_path):
    """Writes the manifest's snapshot from a committed report.md or results table."""
    m = load(manifest_path)
    if m is None:
        sys.exit(f"{manifest_path}: not a readable manifest")
    try:
        text = open(source).read()
    except OSError as e:
        sys.exit(f"{source}: {e.strerror}")
    rel = os.path.relpath(manifest_path, ROOT)
    parsed = _from_table(text, rel) if "generated by: python3 scripts/results.py" in text else _from_report(text)
    if not parsed or not parsed[1]:
        sys.exit(f"{source}: no figures found for {rel}")
    attack, models, iso, stage_s, by = parsed
    src_rel = os.path.relpath(source, ROOT)
    by = f"{by} (imported from {src_rel})" if by else f"binary and CPU not recorded (imported from {src_rel})"
    ran = {"no defense": "baseline", "ABL": "unlearn", "clean model": "clean"}
    stages = {s: {"produced_by": by, "duration_s": stage_s.get(s), "ended": None}
              for s in ["isolate"] * (iso is not None) + [ran[k] for k in models]}
    row = {"manifest": rel, "name": m["name"], "command": f"abl run {rel}", "source": src_rel,
           "attack": attack, "no_defense": models.get("no defense"), "abl": models.get("ABL"),
           "clean": models.get("clean model"), "isolation": iso, "stages": stages}
    os.makedirs(SNAPSHOTS, exist_ok=True)
    with open(os.path.join(SNAPSHOTS, m["name"] + ".json"), "w") as f:
        json.dump(row, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    print(f"{rel}: snapshot written from {src_rel}")


def pct(d, key):
    v = (d or {}).get(key)
    return "–" if v is None else f"{100 * v:.2f}"


COLUMNS = ["manifest", "attack", "label", "poisoned (share of train)", "clean CA", "no-def CA", "no-def ASR",
           "ABL CA", "ABL ASR", "ABL RA", "target found", "isolated", "precision", "recall", "stage time",
           "computed by"]


def row_cells(r):
    a, iso = r.get("attack") or {}, r.get("isolation") or {}
    if iso.get("backdoor_found") is False:
        target = "none (verdict: no backdoor)"
    elif iso.get("given_target") is not None:
        target = f"{iso['given_target']} (given)"
    else:
        found = iso.get("inferred_target")
        target = found if found is None or found == a.get("target") else f"{found}, wrong"
    st = r.get("stages", {})
    # who computed the figures: the stages behind each model, deduplicated
    by = []
    for s in ("baseline", "isolate", "unlearn", "clean"):
        p = (st.get(s) or {}).get("produced_by")
        if p and p not in by:
            by.append(p)
    seconds = [v.get("duration_s") for v in st.values() if v.get("duration_s") is not None]
    time = f"{sum(seconds) / 60:.1f} min" if seconds else "–"
    label = a.get("label_kind", "–")
    poisoned = f"{a['poisoned']} ({100 * a['poisoned_share_of_training_set']:.2f} %)" if a.get("poisoned") is not None else "–"
    return [f"`{r['manifest']}`", a.get("name", "–"), label, poisoned, pct(r.get("clean"), "ca"),
            pct(r.get("no_defense"), "ca"), pct(r.get("no_defense"), "asr"),
            pct(r.get("abl"), "ca"), pct(r.get("abl"), "asr"), pct(r.get("abl"), "ra"),
            "–" if target is None else str(target), "–" if iso.get("count") is None else str(iso["count"]),
            pct(iso, "precision"), pct(iso, "recall"), time, "; ".join(by) or "–"]


def table_lines(manifests):
    """The Markdown table of the manifests' rows, refreshing each snapshot from its run folder."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for path in manifests:
        r, _ = snapshot(os.path.join(ROOT, path) if not os.path.isabs(path) else path)
        cells = row_cells(r) if r else [f"`{path}`", "not run"] + [""] * (len(COLUMNS) - 2)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


LEGEND = ("Each row's command is `abl run <manifest>`. Figures in %; \"–\": not run. \"stage time\" sums the "
          "durations of the stages behind the row; \"computed by\" names the binary, CPU and date of those "
          "stages, or the committed report a snapshot was imported from.")


def table(args):
    command = "python3 scripts/results.py " + shlex.join(sys.argv[1:])
    print(f"<!-- generated by: {command} -->")
    if args.title:
        print(f"# {args.title}\n")
    print(f"Generated by `{command}` on {datetime.date.today().isoformat()}, "
          "from each manifest's run folder or, where the folder is not on this machine, its snapshot in "
          f"`docs/results/runs/`. {LEGEND}\n")
    print("\n".join(table_lines(args.manifests)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["table", "snapshot", "import"])
    p.add_argument("manifests", nargs="+")
    p.add_argument("--title", default="")
    p.add_argument("--unrecorded", default="", help="what computed the stages whose stage.json does not say (a binary from before `produced_by`)")
    a = p.parse_args()
    if a.unrecorded:
        global UNRECORDED
        UNRECORDED = a.unrecorded
    if a.command == "import":
        if len(a.manifests) != 2:
            sys.exit("usage: results.py import REPORT MANIFEST")
        import_report(*a.manifests)
    elif a.command == "snapshot":
        for m in a.manifests:
            _, fresh = snapshot(m)
            print(f"{m}: {'snapshot written' if fresh else 'no run folder; snapshot kept'}")
    else:
        table(a)


if __name__ == "__main__":
    main()
