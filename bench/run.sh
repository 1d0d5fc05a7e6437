#!/usr/bin/env bash
# run.sh: the benchmark of issue 6, in one run: repcollapse beside PyTorch (CPU)
# and NumPy on the same problems (bench/bench.py, references in
# bench/references.py), memory bandwidth from a STREAM triad (bench/stream.c),
# the dgemm / sgemm peak (bench/gemm_peak.c) for the teacher-student step
# (bench/ts_bench.c).
# Installs Debian's python3-torch if missing (only the benchmark needs it),
# builds the release tree, prints every figure and writes bench/RESULTS.md.
# Takes about 20 minutes on 2 cores; run it on a quiet machine (load average
# below 1): RESULTS.md records the load. Extra arguments go to bench.py
# (e.g. --per-class 950 for a quick run on N ~ 10^5).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
if ! dpkg-query -W -f='${Status}' python3-torch 2>/dev/null | grep -q "install ok installed"; then
  echo "bench: installing python3-torch" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
fi
JOBS=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$JOBS" >/dev/null
mkdir -p build/bench
# the triad is built for this CPU (-march=native): the hardware's limit, not the compiler's
gcc -std=c11 -O3 -march=native -fopenmp -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L \
  bench/stream.c -o build/bench/stream
exec /usr/bin/python3 bench/bench.py --cli build/repcollapse --stream build/bench/stream \
  --gemm-peak build/bench/gemm_peak --ts-bench build/bench/ts_bench --shape-gemm build/bench/shape_gemm "$@"
