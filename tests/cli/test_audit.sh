#!/usr/bin/env bash
# test_audit.sh: numerics an independent audit found (issue 13). fixedpoint's
# zero-mode count does not depend on how long the run was, and its
# eigenvalues are those of the state space proper (scatters are symmetric
# matrices); fixedpoint runs on until rest or says it did not get there;
# kernel_edge_prediction is given only where it applies.
# Usage: test_audit.sh path/to/repcollapse
set -u
RC="$1"
source "$(dirname "$0")/lib.sh"
cd "$T"

# ---- zero modes: the issue's case, at several run lengths ----
FP="--per-class 12,7 --frustrated 0-1:3 --model siam-sg --dim 3 --rates uniform --eta-x 0.6 --eta-y 1.4 --eta-head 2"
for t in 300 4000 8000; do
  "$RC" fixedpoint $FP --t-end $t >fp_$t.json 2>fp_$t.err || bad "fixedpoint --t-end $t"
done
/usr/bin/python3 - fp_300.json fp_4000.json fp_8000.json <<'PY' && ok || bad "zero modes depend on the run's length"
import json, sys
runs = [json.load(open(p)) for p in sys.argv[1:]]
# the state space: G = 3 groups (class 0, class 1, the frustrated pair), K = 2 labels, d = 3,
# a d x d head, and per group a symmetric d x d scatter: (G + K) d + d^2 + G d (d + 1) / 2
G, K, d = 3, 2, 3
n = (G + K) * d + d * d + G * d * (d + 1) // 2
for j in runs:
    s = j["stability"]
    assert s["n_eigenvalues"] == n, (s["n_eigenvalues"], n)
    assert s["verdict"] == "stable", s
zm = [j["stability"]["zero_modes"] for j in runs]
assert len(set(zm)) == 1, zm
PY

# ---- rest: a short run is continued until at rest, and the point is the one the long run reaches ----
"$RC" fixedpoint $FP --t-end 16000 >fp_long.json
/usr/bin/python3 - fp_300.json fp_long.json <<'PY' && ok || bad "fixedpoint from a short run is not at rest"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
r = a["rest"]
assert r["reached"] is True and r["residual"] <= r["tolerance"] and r["t_end"] > 300 and r["extensions"] >= 1, r
assert a["run"]["t_end"] == r["t_end"], (a["run"], r)
# the free separation is the one the dynamics settles on, not the solver's pick near t = 300
assert abs(a["min_label_distance"] - b["min_label_distance"]) <= 1e-6 * b["min_label_distance"], \
    (a["min_label_distance"], b["min_label_distance"])
assert b["rest"]["reached"] is True and b["rest"]["extensions"] == 0, b["rest"]
PY
[ ! -s fp_300.err ] && ok || bad "a run that came to rest warns: $(cat fp_300.err)"
# a run that cannot get there in the extensions allowed says so, and still gives the solver's point
"$RC" fixedpoint $FP --t-end 0.001 >fp_short.json 2>fp_short.err
rc=$?
[ "$rc" -eq 0 ] && [ "$(wc -l <fp_short.err)" -eq 1 ] && grep -q "^repcollapse fixedpoint: warning: the run did not come to rest" fp_short.err &&
  ok || bad "fixedpoint not at rest: exit $rc [$(cat fp_short.err)]"
/usr/bin/python3 -c "
import json; r = json.load(open('fp_short.json'))['rest']
assert r['reached'] is False and r['residual'] > r['tolerance'] and r['extensions'] == 3, r" && ok ||
  bad "fixedpoint not at rest: rest.reached"

# ---- kernel_edge_prediction: Marchenko-Pastur for isotropic inputs only ----
TS="--task teacher-student --samples 60 --input-dim 30 --classes 2 --dim 2 --integrator gd --dt 0.01 --steps 20 --quiet"
"$RC" run $TS --out lin >/dev/null && "$RC" run $TS --teacher mixture --out mix >/dev/null || bad "teacher-student runs"
/usr/bin/python3 - lin/summary.json mix/summary.json <<'PY' && ok || bad "kernel_edge_prediction"
import json, sys
lin, mix = (json.load(open(p))["regime"] for p in sys.argv[1:])
assert abs(lin["kernel_edge_prediction"] - (1 + (60 / 30) ** 0.5) ** 2) < 1e-12, lin
assert mix["kernel_edge_prediction"] is None and "mixture" in mix["kernel_edge_note"], mix
assert mix["kernel_top_eigenvalue"] > 0
PY
finish
