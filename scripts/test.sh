#!/usr/bin/env bash
# The test suite: installs what is missing (chromium included, for the HTML report's browser
# test, and Open MPI, for the `mpirun -np 2` tests), then builds and runs every test (small
# synthetic data) and each parser's fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --with-browser --with-mpi
if command -v chromium >/dev/null 2>&1; then
  # chromium is here, so the browser test must run: a skip would hide a broken report page
  export ABL_REQUIRE_BROWSER=1
else
  echo "WARNING: chromium is not installed; HTMLRenderingTests will be skipped" >&2
fi
# mpirun is installed above, so the `mpirun -np 2` tests must run, not skip
export ABL_REQUIRE_MPI=1
swift build --product abl   # the command-line tests run the binary itself
log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift test 2>&1 | tee "$log"
# every parser under libFuzzer for a bounded time (about a minute in all); a crash fails the run
bash scripts/fuzz.sh 8
# XCTest's totals, restated as the last line
# (the last such line is the whole run's; "with N tests skipped and M failures" when some skip)
totals=$(grep -E "Executed [0-9]+ tests?, with ([0-9]+ tests? skipped and )?[0-9]+ failures?" "$log" | tail -1 || true)
executed=$(echo "$totals" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
failures=$(echo "$totals" | sed -E 's/.* ([0-9]+) failures? .*/\1/')
skipped=0
if echo "$totals" | grep -qE "[0-9]+ tests? skipped"; then skipped=$(echo "$totals" | sed -E 's/.*with ([0-9]+) tests? skipped.*/\1/'); fi
echo "tests: $((executed - failures - skipped)) passed, $skipped skipped, $failures failed"
