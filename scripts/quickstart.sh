#!/usr/bin/env bash
# Quick start: install what is missing, build, run the flagship demo, then
# reproduce every claim of the paper (out/figures/report.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
bash scripts/flagship.sh
# every claim of the paper: figures, CSVs and out/figures/report.md
build/repcollapse figures --out out/figures
