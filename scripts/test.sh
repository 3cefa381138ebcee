#!/usr/bin/env bash
# The test suite: installs what is missing, then builds and runs every test (small synthetic data).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --product abl   # the command-line tests run the binary itself
swift test
