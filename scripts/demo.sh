#!/usr/bin/env bash
# The main job on the built-in default: installs what is missing, builds the release binary,
# and runs the default manifest on the real Fashion-MNIST of Debian's dataset-fashion-mnist.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product abl
manifest="${1:-manifests/ingest-fmnist.json}"
.build/release/abl run "$manifest"
.build/release/abl status "$manifest"
