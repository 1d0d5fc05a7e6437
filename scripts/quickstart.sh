#!/usr/bin/env bash
# Quick start: install what is missing, build, install the library and the
# Python package (venv/), run the flagship demo, then reproduce every claim of
# the paper (out/figures/report.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
# the library, its headers, pkg-config and CMake files and the executable under
# /usr/local, then the Python package into the venv ./venv (source venv/bin/activate)
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO cmake --install build --prefix /usr/local >/dev/null
$SUDO ldconfig
bash scripts/venv.sh /usr/local venv
bash scripts/flagship.sh
# every claim of the paper: figures, CSVs and out/figures/report.md
build/repcollapse figures --out out/figures
