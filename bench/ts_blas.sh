#!/usr/bin/env bash
# ts_blas.sh: the share of a teacher-student gd step spent inside BLAS
# (bench/TEACHER_STUDENT.md). Builds the release tree and runs ts_bench at
# N = 20000, D = 512, d = 64, K = 10 with OpenBLAS's default threads and with
# one thread. Usage: bash bench/ts_blas.sh [N D d K steps]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target ts_bench >/dev/null
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== BLAS bound at run time: $(LD_DEBUG=bindings ./build/bench/ts_bench 200 32 8 2 1 2>&1 | grep -m1 "normal symbol \`__real_cblas_dgemm\|normal symbol \`cblas_dgemm" | sed 's/.* to //; s/ \[0\].*//')"
echo "== OpenBLAS default threads"
./build/bench/ts_bench "$@"
echo "== OPENBLAS_NUM_THREADS=1"
OPENBLAS_NUM_THREADS=1 ./build/bench/ts_bench "$@"
