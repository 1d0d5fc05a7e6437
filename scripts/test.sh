#!/usr/bin/env bash
# The whole test suite, as README and CI run it: installs what is missing
# (idempotently), builds the release tree and an AddressSanitizer +
# UndefinedBehaviorSanitizer tree, and runs ctest in both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
JOBS=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$JOBS" >/dev/null
echo "== release build: ctest"
(cd build && ctest --output-on-failure -j "$JOBS")
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DREPCOLLAPSE_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$JOBS" >/dev/null
echo "== ASan + UBSan build: ctest"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j "$JOBS")
