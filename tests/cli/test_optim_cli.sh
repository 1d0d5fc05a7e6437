#!/usr/bin/env bash
# test_optim_cli.sh: the training options of docs/model.md section 6.1 and the
# scale-free collapse metrics of 6.0 as a user meets them: bad values get one
# stderr line naming the bound and a non-zero exit; spectrum --weight-decay
# reports weight_decay_shift beside the decay-free rates; --collapse-metric
# moves collapse_time and fitted_slow_rate onto the chosen column of
# metrics.csv (checked against the column itself, in Python).
# Usage: test_optim_cli.sh path/to/repcollapse
set -u
RC="$1"
source "$(dirname "$0")/lib.sh"

D="--classes 2 --per-class 30 --frustrated 0-1:3 --dim 4 --quiet"
# ---- refusals before any work ----
expect_error 2 "unknown optimizer 'sgd'" run $D --optimizer sgd --dt 0.1 --out "$T/x"
expect_error 2 "momentum: expected a number in \[0, 1)" run $D --optimizer momentum --momentum 1 --dt 0.1 --out "$T/x"
expect_error 2 "adam-betas: expected b1,b2" run $D --optimizer adam --adam-betas 0.9 --dt 0.1 --out "$T/x"
expect_error 2 "adam-betas: expected b1,b2, each in \[0, 1)" run $D --optimizer adam --adam-betas 0.9,1 --dt 0.1 --out "$T/x"
expect_error 2 "adam-eps: expected a positive number" run $D --optimizer adam --adam-eps 0 --dt 0.1 --out "$T/x"
expect_error 2 "weight-decay: expected a non-negative number" run $D --weight-decay -1 --out "$T/x"
expect_error 2 "'Q' names no trained parameter" run $D --weight-decay 0.1 --weight-decay-on x,Q --out "$T/x"
expect_error 2 "batch: expected a positive integer" run $D --batch 0 --dt 0.1 --out "$T/x"
expect_error 2 "kappa dt = 1 - tau <= 1" run $D --model siam-sg --ema -0.5 --dt 0.1 --out "$T/x"
expect_error 2 "either --ema-rate or --ema" run $D --model siam-sg --ema 0.5 --ema-rate 2 --dt 0.1 --out "$T/x"
expect_error 2 "unknown --collapse-metric 'D'" run $D --collapse-metric D --out "$T/x"
# the bounds of 6.1, checked on the data before anything is created
expect_error 2 ">= 2 (1 + beta) = 3" run $D --optimizer momentum --momentum 0.5 --dt 1.6 --steps 5 --out "$T/x"
expect_error 2 ">= 2 (1 + beta) / (1 + 2 beta) = 1.5" run $D --optimizer nesterov --momentum 0.5 --dt 0.8 --steps 5 --out "$T/x"
expect_error 2 "smallest batch b = 3" run $D --integrator gd --batch 7 --dt 0.1 --steps 5 --out "$T/x"
expect_error 2 "kappa dt = 2 > 1" run $D --integrator gd --model siam-sg --ema-rate 20 --dt 0.1 --steps 5 --out "$T/x"
expect_error 2 "need a model with stop-gradient targets" run $D --integrator gd --ema-rate 2 --dt 0.1 --steps 5 --out "$T/x"
[ ! -e "$T/x" ] && ok || bad "a refused run left $T/x"

# ---- spectrum --weight-decay: the decay-free rates plus the shift ----
"$RC" spectrum --classes 2 --per-class 100 --frustrated 0-1:8 >"$T/s0.json" && ok || bad "spectrum"
"$RC" spectrum --classes 2 --per-class 100 --frustrated 0-1:8 --weight-decay 0.02 >"$T/s1.json" && ok || bad "spectrum --weight-decay"
/usr/bin/python3 - "$T/s0.json" "$T/s1.json" <<'PY' && ok || bad "spectrum --weight-decay output"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert "weight_decay_shift" not in a
assert b["weight_decay_shift"] == 0.02, b.get("weight_decay_shift")
for k in ("slow_rate", "next_rate", "fast_rate", "rates", "zero_modes"):
    assert a[k] == b[k], k
PY

# ---- --collapse-metric: collapse_time and fitted_slow_rate read the chosen column ----
for m in min_label_distance relative_label_distance angular_label_distance; do
  "$RC" run $D --frustrated 0-1:6 --integrator rk45 --collapse-metric $m --out "$T/run_$m" >/dev/null && ok || bad "run --collapse-metric $m"
done
/usr/bin/python3 - "$T" <<'PY' && ok || bad "collapse_time / fitted_slow_rate against the metric's column"
import csv, json, math, sys
T = sys.argv[1]
def summaries(t, D, eps, t_fit):
    ct = None
    for k in range(1, len(t)):
        if D[k] <= eps * D[0]:
            a, b = math.log(D[k - 1]), math.log(D[k])
            lo = math.log(eps * D[0])
            ct = t[k - 1] + (t[k] - t[k - 1]) * (lo - a) / (b - a) if b != a else t[k]
            break
    pts = [(ti, -math.log(Di)) for ti, Di in zip(t, D) if ti >= t_fit and Di > 1e-10 * D[0]]
    n = len(pts)
    mt = sum(p[0] for p in pts) / n
    my = sum(p[1] for p in pts) / n
    slope = sum((p[0] - mt) * (p[1] - my) for p in pts) / sum((p[0] - mt) ** 2 for p in pts)
    return ct, slope
ref = {}
for m in ("min_label_distance", "relative_label_distance", "angular_label_distance"):
    rows = list(csv.DictReader(open(f"{T}/run_{m}/metrics.csv")))
    s = json.load(open(f"{T}/run_{m}/summary.json"))
    t = [float(r["t"]) for r in rows]
    D = [float(r[m]) for r in rows]
    ct, slope = summaries(t, D, 0.01, 5.0 / 1.0)
    got_ct, got_fit = s["collapse_time"], s["fitted_slow_rate"]
    assert got_ct is not None and abs(got_ct - ct) <= 1e-9 * ct, (m, got_ct, ct)
    assert got_fit is not None and abs(got_fit - slope) <= 1e-9 * abs(slope), (m, got_fit, slope)
    assert (m == "min_label_distance") == ("collapse_metric" not in s), m
    ref[m] = got_ct
# the distances differ, so do the times (and every column is in each metrics.csv)
assert ref["angular_label_distance"] != ref["min_label_distance"]
hdr = open(f"{T}/run_min_label_distance/metrics.csv").readline().strip().split(",")
# 6.0's two columns come right after the paper's (later sections append theirs after them)
k = hdr.index("label_effective_rank")
assert hdr[k + 1:k + 3] == ["relative_label_distance", "angular_label_distance"], hdr
PY
# phase reads "apart" on the chosen distance and says so
"$RC" phase --classes 2 --per-class 20 --frustration-list 0.05,0.2 --seeds 3 --model siam-sg --integrator rk45 --dim 4 \
  --collapse-metric angular_label_distance --quiet --out "$T/phase" >/dev/null && ok || bad "phase --collapse-metric"
grep -q '"collapse_metric": "angular_label_distance"' "$T/phase/phase.json" && ok || bad "phase.json records the collapse metric"
finish
