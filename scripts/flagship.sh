#!/usr/bin/env bash
# The flagship demo: two classes with 3% frustrated samples collapse slowly
# after a fast rise of accuracy; the same data without frustration keep their
# classes apart. Writes out/flagship/{frustrated,clean}/ (metrics.csv,
# summary.json) and out/flagship/flagship.png.
set -euo pipefail
cd "$(dirname "$0")/.."
RC=build/repcollapse
OUT=${1:-out/flagship}
mkdir -p "$OUT"
COMMON="--classes 2 --per-class 500 --dim 16 --seed 1 --points 120 --t-end 1000 --quiet"
$RC run $COMMON --frustration 0.03 --out "$OUT/frustrated"
$RC run $COMMON --out "$OUT/clean"
slow=$(/usr/bin/python3 -c "import json;print(json.load(open('$OUT/frustrated/summary.json'))['spectrum']['slow_rate'])")
fast=$(/usr/bin/python3 -c "import json;print(json.load(open('$OUT/frustrated/summary.json'))['spectrum']['fast_rate'])")
if command -v gnuplot >/dev/null; then
  gnuplot -e "dir='$OUT'; slow=$slow; fast=$fast" scripts/flagship.gp
  echo "figure: $OUT/flagship.png"
fi
/usr/bin/python3 - "$OUT" <<'PY'
import json, sys
d = sys.argv[1]
for name in ("frustrated", "clean"):
    s = json.load(open(f"{d}/{name}/summary.json"))
    print(f"{name:>10}: f = {s['data']['frustration']:.4f}  slow_rate = {s['spectrum']['slow_rate']:.5g}"
          f"  fitted = {s['fitted_slow_rate'] if s['fitted_slow_rate'] is None else round(s['fitted_slow_rate'], 6)}"
          f"  collapse_time = {s['collapse_time'] if s['collapse_time'] is None else round(s['collapse_time'], 2)}"
          f"  final min_label_distance = {s['final']['min_label_distance']:.3g}"
          f" (predicted {s['predicted']['final_min_label_distance']:.3g})")
PY
