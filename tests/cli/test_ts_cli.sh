#!/usr/bin/env bash
# test_ts_cli.sh: `repcollapse run --task teacher-student` as a user meets it
# (docs/model.md section 4): bad input gets one stderr line, a non-zero exit and no
# result file; good input writes metrics.csv (with test_accuracy), summary.json
# (regime, singular values of W) and snapshots.h5.
# Usage: test_ts_cli.sh path/to/repcollapse
set -u
RC="$1"
# shared helpers: $T, ok, bad, expect_error
source "$(dirname "$0")/lib.sh"

TS="run --task teacher-student --integrator gd --dt 0.1 --steps 5 --quiet"
S="--samples 20 --input-dim 40 --classes 2 --dim 4"
expect_error 2 "unknown task 'pictures'" run --task pictures $S --out "$T/x"
expect_error 2 "needs --samples N and --input-dim D" $TS --input-dim 40 --out "$T/x"
expect_error 2 "samples must be positive" $TS --samples 0 --input-dim 40 --out "$T/x"
expect_error 2 "input-dim must be positive" $TS --samples 20 --input-dim 0 --out "$T/x"
expect_error 2 "non-negative integer" $TS --samples -3 --input-dim 40 --out "$T/x"
expect_error 2 "non-negative integer" $TS --samples 2.5 --input-dim 40 --out "$T/x"
expect_error 2 "outside \[0, 1\]" $TS $S --frustration 1.5 --out "$T/x"
expect_error 2 "outside \[0, 1\]" $TS $S --frustration -0.1 --out "$T/x"
expect_error 2 "f must be below 1" $TS $S --frustration 1 --out "$T/x"
expect_error 2 "expected a number" $TS $S --frustration lots --out "$T/x"
expect_error 2 "flip needs at least 2 classes" $TS --samples 20 --input-dim 40 --classes 1 --frustration 0.1 --frustration-mode flip --out "$T/x"
expect_error 2 "at least 2 classes" $TS --samples 20 --input-dim 40 --classes 1 --out "$T/x"
expect_error 2 "unknown frustration mode 'swap'" $TS $S --frustration-mode swap --out "$T/x"
expect_error 2 "unknown teacher 'deep'" $TS $S --teacher deep --out "$T/x"
expect_error 2 "unknown precision 'f16'" $TS $S --precision f16 --out "$T/x"
expect_error 2 "eta-w must be positive" $TS $S --eta-w 0 --out "$T/x"
expect_error 2 "eta-x does not apply" $TS $S --eta-x 2 --out "$T/x"
expect_error 2 "mixture-noise must be non-negative" $TS $S --teacher mixture --mixture-noise -1 --out "$T/x"
expect_error 2 "needs a value" $TS $S --out "$T/x" --frustration
expect_error 2 "unknown option '--per-class'" $TS $S --per-class 10 --out "$T/x"
expect_error 2 "needs --integrator gd" run --task teacher-student $S --out "$T/x"
expect_error 2 "runs with --integrator gd or rk45" run --task teacher-student $S --integrator exact --out "$T/x"
expect_error 2 "f32 goes with gd" run --task teacher-student $S --integrator rk45 --t-end 1 --precision f32 --out "$T/x"
expect_error 2 "init class does not apply" $TS $S --init class --out "$T/x"
expect_error 2 "out DIR is required" $TS $S
expect_error 2 "classes need at least as many samples" $TS --samples 3 --input-dim 40 --classes 5 --out "$T/x"
# sizes that cannot fit: refused up front with the estimate, nothing written
expect_error 1 "need about .* GB of memory" $TS --samples 10000000 --input-dim 100000 --out "$T/big"
[ ! -e "$T/big" ] && ok || bad "the refused run created its directory"
expect_error 1 "GB of memory" $TS --samples 100000 --input-dim 1000 --dim 5000 --out "$T/big"
# an unstable gd step is refused before anything is written (the rate grows like (1 + sqrt(N/D))^2)
expect_error 2 "unstable.*largest rate" run --task teacher-student --samples 200 --input-dim 50 --dim 4 --integrator gd --dt 0.5 --steps 3 --quiet --out "$T/unstable"
[ ! -e "$T/unstable/metrics.csv" ] && ok || bad "unstable gd left files"

# ---- good input ----
"$RC" run --task teacher-student --help | grep -q -- "--frustration-mode" && ok || bad "task --help"
# 16 clean samples and, at f = 0.2, F = round(f C / (1 - f)) = 4 frustrated ones added (docs/model.md 6.3): N = 20
"$RC" run --task teacher-student --samples 16 --input-dim 40 --classes 2 --dim 4 --frustration 0.2 --model siam-sg \
  --integrator gd --dt 0.1 --steps 50 --snapshots --quiet --test-samples 100 --out "$T/good" >/dev/null || bad "good run"
/usr/bin/python3 - "$T/good" <<'PY' && ok || bad "outputs of a teacher-student run"
import csv, json, sys, h5py
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/metrics.csv")))
keys = list(rows[0].keys())
# test_accuracy keeps its place after the paper's metrics; the scale-free columns of 6.0 come after it
assert keys[9] == "test_accuracy" and keys[10:12] == ["relative_label_distance", "angular_label_distance"] and rows[0]["loss"] != ""
# then the seven of section 6.4
assert keys[12:] == ["nc1", "nc2_equinorm", "nc2_equiangular", "nc2_cos_std", "nc3", "nc4", "rankme"], keys
for r in rows:
    assert 0 <= float(r["test_accuracy"]) <= 1
s = json.load(open(d + "/summary.json"))
assert s["inputs"]["data"]["task"] == "teacher-student" and s["inputs"]["model"]["model"] == "siam-sg"
assert s["regime"]["name"] == "intermediate" and s["data"]["n_conflict"] == 4 and s["data"]["n_frustrated"] == 4
assert len(s["W"]["singular_values"]) == 4 and 1 <= s["W"]["effective_rank"] <= 4
assert s["W"]["singular_values"] == sorted(s["W"]["singular_values"], reverse=True)
assert s["final"]["test_accuracy"] == float(rows[-1]["test_accuracy"])
assert "final_head" in s and s["regime"]["rate_estimate"] > 0
h = h5py.File(d + "/snapshots.h5")
assert h["W"].shape == (len(rows), 4, 40) and h["inputs"].shape == (20, 40) and h["head"].shape == (len(rows), 4, 4)
PY
# --seed sets the data seed too; --data-seed alone changes the inputs only
"$RC" run --task teacher-student $S --seed 7 --integrator gd --dt 0.1 --steps 5 --quiet --out "$T/s1" >/dev/null
"$RC" run --task teacher-student $S --data-seed 7 --init-seed 7 --integrator gd --dt 0.1 --steps 5 --quiet --out "$T/s2" >/dev/null
cmp -s "$T/s1/metrics.csv" "$T/s2/metrics.csv" && ok || bad "--seed is not --data-seed + --init-seed"
"$RC" run --task teacher-student $S --data-seed 8 --init-seed 7 --integrator gd --dt 0.1 --steps 5 --quiet --out "$T/s3" >/dev/null
cmp -s "$T/s1/metrics.csv" "$T/s3/metrics.csv" && bad "data seed ignored" || ok
# mixture teacher and rk45 (gradient flow)
"$RC" run --task teacher-student $S --teacher mixture --integrator rk45 --t-end 5 --quiet --out "$T/mix" >/dev/null || bad "mixture rk45 run"
grep -q '"mixture_noise": 0.5' "$T/mix/summary.json" && ok || bad "mixture noise default"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
