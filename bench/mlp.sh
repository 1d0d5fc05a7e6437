#!/usr/bin/env bash
# mlp.sh: the mlp encoder's step beside a hand-written PyTorch step, with the
# roofline of the step's own dgemm shapes measured in the same run
# (bench/mlp_bench.c, bench/mlp_bench.py); writes bench/MLP.md. Builds the
# release tree; needs Debian's python3-torch (scripts/deps.sh installs it).
# The load average is recorded with every row. Extra arguments go to
# mlp_bench.py (e.g. --sizes 300,3000 --threads 2).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target mlp_bench >/dev/null
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(uptime)"
exec /usr/bin/python3 bench/mlp_bench.py --bin build/bench/mlp_bench --out bench/MLP.md "$@"
