#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/, with AddressSanitizer) and runs each for a bounded time.
#
#   bash scripts/fuzz.sh [seconds-per-target] [target...]
#
# Targets: idx cifar png jpeg npy safetensors json manifest (all by default); 8 s each by default.
# Each target's seeds are written by the target itself into .build-fuzz/corpus/<target>/, which
# also keeps what the fuzzer finds, so later runs start from there. Exits non-zero when a target
# crashes, traps, leaks or hangs (10 s for one input), printing the input that did it
# (.build-fuzz/artifacts/<target>/crash-...); rerun one with `.build-fuzz/debug/fuzz-<target> <file>`.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-8}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(idx cifar png jpeg npy safetensors json manifest)
scratch=.build-fuzz

# The linker's notes on ASan's local symbols are noise.
swift build --package-path Fuzz --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address 2>&1 \
  | { grep -v "Cannot export local symbol" || true; }
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz: build failed" >&2; exit 2; }

# The targets that read files write each input to a scratch file: in memory when possible.
shm=/dev/shm
[ -d "$shm" ] && [ -w "$shm" ] || shm=${TMPDIR:-/tmp}
export ABL_FUZZ_SCRATCH=$(mktemp -d -p "$shm" abl-fuzz.XXXXXX)
trap 'rm -rf "$ABL_FUZZ_SCRATCH"' EXIT
# Swift's own crash reporter would race ASan's: libFuzzer reports the trap itself.
export SWIFT_BACKTRACE=enable=no
# Values built once by Swift's static initialisers live until exit: not leaks (Fuzz/lsan.supp).
export LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

failed=()
for t in "${targets[@]}"; do
  bin="$scratch/debug/fuzz-$t"
  [ -x "$bin" ] || { echo "fuzz: no target $t" >&2; exit 2; }
  corpus="$scratch/corpus/$t" artifacts="$scratch/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  "$bin" --write-seeds "$corpus"
  log="$artifacts/last-run.log"
  if "$bin" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -malloc_limit_mb=2048 \
       -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1; then
    echo "fuzz-$t: ok ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') inputs in ${seconds} s)"
  else
    failed+=("$t")
    echo "fuzz-$t: FAILED" >&2
    grep -E "^==[0-9]+==ERROR|^SUMMARY|Swift runtime failure|Fatal error|deadly signal|timeout|out-of-memory" "$log" | head -5 >&2 || true
    grep -o "Test unit written to .*" "$log" | sed 's/Test unit written to /  crashing input: /' >&2 || true
    echo "  full log: $log" >&2
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds} s each without a crash"
