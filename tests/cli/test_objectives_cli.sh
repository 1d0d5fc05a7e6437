#!/usr/bin/env bash
# test_objectives_cli.sh: the objectives of docs/model.md section 6.2 as a user
# meets them: the refusals (negative weights, rk45 until the engine's flow,
# `reduced` where the group reduction is not exact, uniformity(x) over the
# budget, --uniformity-t / --temperature without their terms), runs of every
# kind under gd (summary.json records sphere, t, tau and the zero-norm count;
# --sphere keeps the final state on the unit sphere, checked in Python from
# snapshots.h5), and fixedpoint / phase on every new preset and term.
# Usage: test_objectives_cli.sh path/to/repcollapse
set -u
RC="$1"
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

D0="--classes 2 --per-class 6 --frustration 0.2 --dim 3"
D="$D0 --quiet"
G="--integrator gd --dt 0.05 --t-end 40"
# ---- refusals ----
expect_error 2 "negative weights are refused" run $D --terms '-1*x-y' $G --out "$T/x"
expect_error 2 "negative weights are refused" run $D --terms 'x-y+-0.5*uniformity(y)' $G --out "$T/x"
expect_error 2 "malformed term" run $D --terms 'cos(x-y)' $G --out "$T/x"
expect_error 2 "reduced integrator does not apply to model 'simsiam': a cosine term is nonlinear" run $D --model simsiam --integrator reduced --out "$T/x"
expect_error 2 "infonce is nonlinear in each sample" run $D --terms 'x-y+infonce(x,y)' --integrator reduced --out "$T/x"
expect_error 2 "uniformity(x) is nonlinear" fixedpoint $D0 --terms 'x-y+uniformity(x)'
expect_error 2 "sphere normalises each sample" phase $D --model minimal --sphere --seeds 2 --frustration-list 0.1 --out "$T/x"
expect_error 2 "over the budget of 4096" run --classes 2 --per-class 2100 --dim 3 --quiet --terms 'x-y+uniformity(x)' $G --out "$T/x"
expect_error 2 "uniformity-t applies to uniformity terms" run $D --model siam --uniformity-t 3 $G --out "$T/x"
expect_error 2 "temperature applies to infonce terms" run $D --terms 'x-y+uniformity(y)' --temperature 0.5 $G --out "$T/x"
expect_error 2 "uniformity-t: expected a number in (0, 100]" run $D --terms 'uniformity(y)+x-y' --uniformity-t 0 $G --out "$T/x"
expect_error 2 "covers the squared terms of section 3, not model 'simsiam'" selfconsistent --classes 2 --per-class 6 --dim 3 --model simsiam --frustration-list 0.1
expect_error 2 "fused gd kernel runs the squared terms" bench $D0 --model simsiam --steps 10 --dt 0.01
expect_error 2 "sphere with the linear encoder runs with --integrator gd in f64" run --task teacher-student --samples 20 --input-dim 4 --integrator rk45 --t-end 2 --model simsiam --sphere --quiet --out "$T/x"
# the linear encoder under --sphere through the engine's gd: its outputs normalised, its labels on the sphere
if "$RC" run --task teacher-student --samples 20 --input-dim 4 --integrator gd --dt 0.05 --t-end 2 --model simsiam --sphere --quiet --snapshots --out "$T/ts" >/dev/null 2>"$T/err" &&
   $PY -c "
import h5py, numpy as np
f = h5py.File('$T/ts/snapshots.h5')
y = np.asarray(f['labels'])
assert np.all(np.abs(np.linalg.norm(y, axis=-1) - 1) < 1e-12), np.abs(np.linalg.norm(y, axis=-1) - 1).max()"; then ok
else bad "teacher-student --sphere: $(cat "$T/err")"; fi
# rk45: the engine's flow, tangent to the sphere (the norms stay 1 to the integrator's tolerance)
for spec in simsiam; do
  if "$RC" run $D --model "$spec" --integrator rk45 --t-end 20 --sphere --snapshots --out "$T/rk" >/dev/null 2>"$T/err" &&
     $PY -c "
import h5py, numpy as np
f = h5py.File('$T/rk/snapshots.h5')
for k in ('labels',):
    n = np.linalg.norm(np.asarray(f[k]), axis=-1)
    assert np.all(np.abs(n - 1) < 1e-6), np.abs(n - 1).max()"; then ok
  else bad "rk45 --sphere $spec: $(cat "$T/err")"; fi
done
if "$RC" run $D --terms 'x-y+0.25*infonce(x,y)' --integrator rk45 --t-end 20 --out "$T/rk2" >/dev/null 2>"$T/err"; then ok
else bad "rk45 infonce: $(cat "$T/err")"; fi

# ---- runs: every kind under gd ----
i=0
for spec in 'simsiam' 'proj' 'proj-sg'; do
  i=$((i + 1))
  if "$RC" run $D --model "$spec" $G --out "$T/r$i" >/dev/null 2>"$T/err"; then ok; else bad "run --model $spec: $(cat "$T/err")"; fi
done
for spec in 'cos(x,y)' 'x-y+0.5*uniformity(y)' 'x-y+0.25*uniformity(x)' 'infonce(x,y)' 'cos(Px,sg(y))+cos(Py,sg(x))+0.125*uniformity(y)'; do
  i=$((i + 1))
  if "$RC" run $D --terms "$spec" $G --sphere --snapshots --out "$T/r$i" >/dev/null 2>"$T/err"; then ok; else bad "run --terms $spec: $(cat "$T/err")"; continue; fi
  $PY - "$T/r$i" "$spec" <<'PYEOF' && ok || bad "summary / sphere of $spec"
import json, sys
import h5py, numpy as np
d, spec = sys.argv[1], sys.argv[2]
s = json.load(open(d + "/summary.json"))
m = s["inputs"]["model"]
assert m["sphere"] is True, m
assert m["terms"] == spec, (m["terms"], spec)
if "uniformity" in spec: assert m["uniformity_t"] == 2.0, m
if "infonce" in spec: assert m["temperature"] == 0.1, m
if "cos" in spec or "uniformity" in spec: assert s["zero_norm_vectors"] == 0, s
with h5py.File(d + "/snapshots.h5") as f:
    keys = list(f.keys())
    x = np.asarray(f["samples"])  # P x with a head
    y = np.asarray(f["labels"])
    if "head" in f: x = None
for z in [x, y]:
    if z is None: continue
    n = np.linalg.norm(z, axis=-1)
    assert np.all(np.abs(n - 1) < 1e-12), (spec, np.abs(n - 1).max())
PYEOF
done
# a batch over uniformity(x) says it is biased
if "$RC" run $D --terms 'x-y+0.25*uniformity(x)' $G --batch 5 --out "$T/rb" >/dev/null 2>"$T/err" &&
   grep -q "biased" "$T/rb/summary.json"; then ok; else bad "uniformity(x) under --batch: $(cat "$T/err")"; fi

# ---- fixedpoint and stability on every new preset and term ----
# (uniformity(y) keeps the exact reduction, checked in unit_head; without --sphere the labels of
# x-y+uniformity(y) shrink to the origin, where its gradient grows as 1/|y|: it runs on the sphere here)
for spec in 'simsiam' 'proj' 'proj-sg' 'cos(x,y)' 'x-y+0.25*infonce(x,y)'; do
  args=(--model "$spec")
  case "$spec" in *'('*|*'-y'*) args=(--terms "$spec") ;; esac
  integ=(--integrator gd --dt 0.05)
  case "$spec" in proj|proj-sg) integ=() ;; esac
  if "$RC" fixedpoint $D0 "${args[@]}" "${integ[@]}" >"$T/fp.json" 2>"$T/err" &&
     $PY -c "
import json
j = json.load(open('$T/fp.json'))
assert j['residual'] < 1e-8, j['residual']
assert j['stability']['verdict'] in ('stable', 'unstable', 'marginal')
assert ('system' in j) == ('$spec' not in ('proj', 'proj-sg')), j.get('system')"; then ok
  else bad "fixedpoint $spec: $(cat "$T/err")"; fi
done
for spec in 'x-y+0.25*infonce(x,y)' 'x-y+0.5*uniformity(y)'; do
  if "$RC" fixedpoint $D0 --terms "$spec" --sphere --integrator gd --dt 0.05 >"$T/fp.json" 2>"$T/err" &&
     $PY -c "import json; j=json.load(open('$T/fp.json')); assert j['residual'] < 1e-8, j['residual']"; then ok
  else bad "fixedpoint $spec --sphere: $(cat "$T/err")"; fi
done

# ---- phase ----
if "$RC" phase $D --models simsiam,proj-sg --integrator gd --dt 0.05 --t-end 40 --seeds 2 --frustration-list 0,0.3 --out "$T/ph" >/dev/null 2>"$T/err" &&
   $PY -c "import csv; r=list(csv.DictReader(open('$T/ph/phase.csv'))); assert {x['model'] for x in r} == {'simsiam','proj-sg'}, r"; then ok
else bad "phase simsiam,proj-sg: $(cat "$T/err")"; fi
if "$RC" phase $D --terms 'x-y+0.5*uniformity(y)' --sphere --integrator gd --dt 0.05 --t-end 40 --seeds 2 --frustration-list 0.2 --out "$T/ph2" >/dev/null 2>"$T/err"; then ok
else bad "phase uniformity(y) --sphere: $(cat "$T/err")"; fi
finish
