#!/usr/bin/env bash
# run.sh: build every libFuzzer target (bench/fuzz/fuzz_*.c) with clang-14,
# AddressSanitizer and UndefinedBehaviorSanitizer, and run each for a bounded
# time, starting from its seeds (bench/fuzz/seeds/<name>/).
#   bash bench/fuzz/run.sh [SECONDS_PER_TARGET]     (default 60, or $FUZZ_SECONDS)
# Prints, per target, the executions, the coverage and the findings. Anything
# found (crash, leak, timeout, out-of-memory) is left in
# build-fuzz/findings/<name>/ and the script exits 1: copy each file into
# tests/fuzz-regressions/<name>/ (ctest fuzz_replay_<name> replays it), then fix.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-${FUZZ_SECONDS:-60}}
B=build-fuzz
bash scripts/deps.sh --fuzz
CC=clang-14 cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Debug -DREPCOLLAPSE_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build "$B" -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
status=0
printf '%-18s %12s %8s %8s  %s\n' target executions exec/s cov findings
for bin in "$B"/bench/fuzz/fuzz_*; do
  name=$(basename "$bin" | sed 's/^fuzz_//')
  corpus="$B/corpus/$name" found="$B/findings/$name"
  mkdir -p "$corpus" "$found"
  # -close_fd_mask=3: the targets' own error messages would drown the log; reports still show
  "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -close_fd_mask=3 -print_final_stats=1 \
    -artifact_prefix="$found/" "$corpus" "bench/fuzz/seeds/$name" >"$B/$name.log" 2>&1 || true
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/$name.log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$B/$name.log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$B/$name.log" | tail -1 | sed 's/cov: //')
  n_found=$(find "$found" -type f | wc -l)
  printf '%-18s %12s %8s %8s  %s\n' "$name" "${execs:-?}" "${speed:-?}" "${cov:-?}" "$n_found"
  if [ "$n_found" -gt 0 ]; then
    status=1
    find "$found" -type f -printf '    %p\n'
    grep -m1 -A12 "ERROR: \|SUMMARY" "$B/$name.log" | sed 's/^/    /' || true
  fi
done
exit $status
