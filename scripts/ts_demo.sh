#!/usr/bin/env bash
# ts_demo.sh: the documented teacher-student experiment of README.md (docs/model.md
# section 4, claim 6), at sizes that run in seconds. Writes out/ts_demo/<case>/
# and prints one line per case. Usage: bash scripts/ts_demo.sh [build/repcollapse]
set -euo pipefail
cd "$(dirname "$0")/.."
RC="${1:-build/repcollapse}"
OUT=out/ts_demo
mkdir -p "$OUT"
run() { # name, then options
  local name="$1"
  shift
  "$RC" run --task teacher-student --quiet --classes 2 --dim 8 --integrator gd --out "$OUT/$name" "$@" >/dev/null
}
O="--input-dim 160 --dt 0.1 --steps 3000"                            # D = 4N: over-parameterized
# N = 40 in every case: --samples counts the C clean samples and conflict adds F = round(f C / (1 - f))
# frustrated ones (docs/model.md 6.3): C = 38, 36, 32 at f = 0.05, 0.1, 0.2
run clean $O --samples 40 --frustration 0
run conflict-0.1 $O --samples 36 --frustration 0.1
run conflict-0.2 $O --samples 32 --frustration 0.2
run conflict-0.05 $O --samples 38 --frustration 0.05
run siam-0.1 $O --samples 36 --frustration 0.1 --model siam
run siam-sg-0.1 $O --samples 36 --frustration 0.1 --model siam-sg
run siam-sg-0.2 $O --samples 32 --frustration 0.2 --model siam-sg
run under-clean --samples 60 --input-dim 10 --dt 0.05 --steps 6000 --frustration 0   # D + K <= N
for D in 160 45 39 30; do
  run flip-0.2-D$D --samples 40 --input-dim $D --dt 0.05 --steps 6000 --frustration 0.2 --frustration-mode flip
done
/usr/bin/python3 - "$OUT" <<'PY'
import csv, json, os, sys
out = sys.argv[1]
print(f"{'case':16} {'regime':20} {'D(T)/D(0)':>10} {'max acc (t, D/D0)':>22} {'acc(T)':>7} {'test(T)':>7} "
      f"{'collapse_t':>10} {'fit rate':>9} {'minimal':>8}")
for name in sorted(os.listdir(out), key=lambda n: os.path.getmtime(os.path.join(out, n))):
    s = json.load(open(f"{out}/{name}/summary.json"))
    rows = list(csv.DictReader(open(f"{out}/{name}/metrics.csv")))
    D0 = float(rows[0]["min_label_distance"])
    first = next((r for r in rows if float(r["accuracy"]) >= 1.0), None)
    best = f"1 (t={float(first['t']):.3g}, {float(first['min_label_distance'])/D0:.2f})" if first else \
        f"{max(float(r['accuracy']) for r in rows):.3f}"
    fmt = lambda v: "-" if v is None else f"{v:.4g}"
    pred = s["minimal_model_prediction"]["slow_rate"] if s["data"]["n_frustrated"] else None
    print(f"{name:16} {s['regime']['name']:20} {float(rows[-1]['min_label_distance'])/D0:10.3g} {best:>22} "
          f"{float(rows[-1]['accuracy']):7.3f} {float(rows[-1]['test_accuracy']):7.3f} {fmt(s['collapse_time']):>10} "
          f"{fmt(s['fitted_slow_rate']):>9} {fmt(pred):>8}")
PY
