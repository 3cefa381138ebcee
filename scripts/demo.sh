#!/usr/bin/env bash
# The main job on the built-in default: installs what is missing, builds the release binary,
# and runs the default manifest (manifests/quickstart.json: BadNets on the real Fashion-MNIST of
# Debian's dataset-fashion-mnist, cleaned with ABL), then prints its report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product abl
manifest="${1:-manifests/quickstart.json}"
.build/release/abl run "$manifest"
.build/release/abl status "$manifest"
out=$(.build/release/abl validate --resolved "$manifest" | python3 -c 'import json,sys; m=json.load(sys.stdin); print(m.get("output") or "runs/" + m["name"])' 2>/dev/null || true)
[ -n "$out" ] && [ -f "$out/report/report.md" ] && cat "$out/report/report.md"
