#!/usr/bin/env bash
# test_cli.sh: the repcollapse command as a user meets it: every subcommand's
# outputs, and bad input (a one-line error, a non-zero exit, no crash, no
# result file left behind). Usage: test_cli.sh path/to/repcollapse
set -u
RC="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect_error CODE PATTERN args...: exit code CODE (1 or 2), one stderr line
# matching PATTERN, nothing on stdout that looks like a result, no crash.
expect_error() {
  local code="$1" pat="$2"
  shift 2
  "$RC" "$@" >"$T/out" 2>"$T/err"
  local rc=$?
  local lines
  lines=$(wc -l <"$T/err")
  if [ "$rc" -ne "$code" ]; then bad "exit $rc (want $code): $*  [$(head -c 300 "$T/err")]"; return; fi
  if [ "$lines" -ne 1 ]; then bad "$lines stderr lines: $*  [$(cat "$T/err")]"; return; fi
  if ! grep -q -- "$pat" "$T/err"; then bad "stderr lacks '$pat': $*  [$(cat "$T/err")]"; return; fi
  ok
}

D2="--classes 2 --per-class 50"
# ---- bad input ----
expect_error 2 "unknown option '--bogus'" run $D2 --bogus --out "$T/x"
expect_error 2 "unknown command" frobnicate
expect_error 2 "positive integer" spectrum --classes 0 --per-class 5
expect_error 2 "positive integer" spectrum --classes -3 --per-class 5
expect_error 2 "must be positive" spectrum --classes 2 --per-class 0
expect_error 2 "positive integer" spectrum --classes 2 --per-class -4
expect_error 2 "positive integer" spectrum --classes 2.5 --per-class 4
expect_error 2 "outside \[0, 1)" spectrum $D2 --frustration 1.5
expect_error 2 "outside \[0, 1)" spectrum $D2 --frustration -0.1
expect_error 2 "outside \[0, 1)" spectrum $D2 --frustration 1
expect_error 2 "expected a number" spectrum $D2 --frustration abc
expect_error 2 "out of range" spectrum $D2 --frustrated 0-5:3
expect_error 2 "malformed --frustrated" spectrum $D2 --frustrated 0-1
expect_error 2 "must differ" spectrum $D2 --frustrated 1-1:2
expect_error 2 "unknown pattern" spectrum $D2 --frustration 0.1 --pattern star
expect_error 2 "needs a value" spectrum $D2 --frustration
expect_error 2 "not both" spectrum $D2 --frustration 0.1 --frustrated 0-1:2
expect_error 2 "lists 3 sizes" spectrum --classes 2 --per-class 3,4,5
expect_error 2 "no data set" spectrum --classes 2
expect_error 2 "unknown rate scheme" spectrum $D2 --rates fast
expect_error 2 "positive number" spectrum $D2 --eta-x 0
expect_error 2 "positive number" spectrum $D2 --eta-y -1
expect_error 2 "positive integer" run $D2 --dim 0 --out "$T/x"
expect_error 2 "unknown integrator" run $D2 --integrator euler --out "$T/x"
expect_error 2 "needs --dt" run $D2 --integrator gd --steps 10 --out "$T/x"
expect_error 2 "out DIR is required" run $D2
expect_error 2 "strictly increasing" run $D2 --times 0,2,1 --out "$T/x"
expect_error 2 "unexpected argument" run $D2 stray --out "$T/x"
expect_error 1 "GB" spectrum --classes 2 --per-class 900000000000
# observations files
printf 'sample,label\n0,0\n1,1\n' >"$T/good.csv"
printf '0,0\n1,one\n' >"$T/malformed.csv"
printf '0,0\n2,1\n' >"$T/gap.csv"
printf '0,0\n1,2\n' >"$T/nolabel.csv"
printf '\x00\x01\x02binary' >"$T/binary.csv"
: >"$T/empty.csv"
expect_error 2 "malformed.csv:2:" spectrum --observations "$T/malformed.csv"
expect_error 2 "sample 1 has no observation" spectrum --observations "$T/gap.csv"
expect_error 2 "class 1 has no observation" spectrum --observations "$T/nolabel.csv"
expect_error 2 "binary.csv:1:" spectrum --observations "$T/binary.csv"
expect_error 2 "no observations" spectrum --observations "$T/empty.csv"
expect_error 1 "cannot read observations file" spectrum --observations "$T/missing.csv"
expect_error 2 "drop" spectrum --observations "$T/good.csv" --classes 2
# gd: an unstable step is refused before anything is written
expect_error 2 "unstable" run $D2 --frustration 0.1 --integrator gd --dt 1.0 --steps 10 --out "$T/unstable"
[ ! -e "$T/unstable/metrics.csv" ] && [ ! -e "$T/unstable/summary.json" ] && ok || bad "unstable gd left files"
# gd: a run whose embeddings overflow stops with the step and the quantity, and leaves no result
expect_error 1 "gd diverged at step 1 .*non-finite" run $D2 --integrator gd --dt 0.5 --steps 5 --dim 1 --sigma 1e308 --seed 3 --out "$T/diverge" --snapshots
[ -z "$(ls -A "$T/diverge" 2>/dev/null)" ] && ok || bad "diverged gd left files: $(ls "$T/diverge")"
# an unwritable output directory names the file
mkdir -p "$T/ro" && chmod 500 "$T/ro"
if [ "$(id -u)" -ne 0 ]; then
  expect_error 1 "cannot" run $D2 --out "$T/ro/sub"
fi
expect_error 1 "not a directory" run $D2 --out "$T/good.csv"

# ---- good input ----
"$RC" --help | grep -q "spectrum" && ok || bad "--help"
"$RC" run --help | grep -q -- "--integrator" && ok || bad "run --help"
"$RC" --version | grep -q "repcollapse" && ok || bad "--version"
"$RC" data --classes 3 --per-class 4 --frustrated 0-1:2 --out "$T/obs.csv" >"$T/data.json" || bad "data"
[ "$(wc -l <"$T/obs.csv")" -eq $((1 + 12 + 4)) ] && ok || bad "data csv lines"
grep -q '"n_frustrated": 2' "$T/data.json" && ok || bad "data json"
"$RC" spectrum --observations "$T/obs.csv" >"$T/spec.json" && grep -q '"zero_modes": 2' "$T/spec.json" && ok || bad "spectrum from file"
# the same data through the generator and through the file: same spectrum
"$RC" spectrum --classes 3 --per-class 4 --frustrated 0-1:2 >"$T/spec2.json"
cmp -s "$T/spec.json" "$T/spec2.json" && ok || bad "file and generator spectra differ"
"$RC" run $D2 --frustration 0.05 --dim 4 --t-end 100 --snapshots --quiet --out "$T/run" >/dev/null || bad "run"
head -1 "$T/run/metrics.csv" | grep -qx "t,loss,accuracy,accuracy_frustrated,margin,min_label_distance,mean_label_distance,within_class_spread,label_effective_rank" && ok || bad "metrics header"
[ "$(wc -l <"$T/run/metrics.csv")" -eq 82 ] && ok || bad "metrics rows: $(wc -l <"$T/run/metrics.csv")"
ls "$T/run" | grep -q tmp && bad "temporary files left" || ok
/usr/bin/python3 - "$T/run" <<'PY' && ok || bad "summary/snapshots content"
import json, sys, csv, h5py, math
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
for key in ["tool", "inputs", "rng", "spectrum", "final", "collapse_time", "fitted_slow_rate", "predicted"]:
    assert key in s, key
assert len(s["tool"]["commit"]) >= 7
assert s["inputs"]["model"]["rates"] == "degree" and s["inputs"]["init"]["sigma"] == 1.0
rows = list(csv.DictReader(open(d + "/metrics.csv")))
h = h5py.File(d + "/snapshots.h5", "r")
assert h["samples"].shape == (len(rows), 105, 4) and h["labels"].shape == (len(rows), 2, 4)
for k in (0, len(rows) // 2, len(rows) - 1):
    y = h["labels"][k]
    D = math.dist(y[0], y[1])
    assert abs(D - float(rows[k]["min_label_distance"])) <= 1e-12 * max(D, 1e-300), (k, D)
    assert abs(h["t"][k] - float(rows[k]["t"])) == 0
assert s["final"]["min_label_distance"] == float(rows[-1]["min_label_distance"])
assert s["collapse_time"] is not None and s["fitted_slow_rate"] is not None
assert abs(s["fitted_slow_rate"] - s["spectrum"]["slow_rate"]) < 1e-6 * s["spectrum"]["slow_rate"]
PY
# no frustration: no collapse, and final separation = prediction
"$RC" run $D2 --dim 4 --t-end 50 --quiet --out "$T/clean" >/dev/null
/usr/bin/python3 - "$T/clean" <<'PY' && ok || bad "clean run"
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
assert s["collapse_time"] is None
assert s["spectrum"]["zero_modes"] == 2
p, f = s["predicted"]["final_min_label_distance"], s["final"]["min_label_distance"]
assert abs(p - f) < 1e-12 * p, (p, f)
PY
# gd: --steps and --dt, recorded times are multiples of dt
"$RC" run $D2 --frustration 0.05 --dim 4 --integrator gd --dt 0.1 --steps 500 --quiet --out "$T/gd" >/dev/null || bad "gd run"
tail -1 "$T/gd/metrics.csv" | grep -q "^50," && ok || bad "gd last time"
# seeds: --seed S = --data-seed S --init-seed S
"$RC" run --classes 3 --per-class 10 --frustration 0.1 --pattern random --seed 4 --times 0,1,10 --quiet --out "$T/s1" >/dev/null
"$RC" run --classes 3 --per-class 10 --frustration 0.1 --pattern random --data-seed 4 --init-seed 4 --times 0,1,10 --quiet --out "$T/s2" >/dev/null
cmp -s "$T/s1/metrics.csv" "$T/s2/metrics.csv" && ok || bad "seed equivalence"
"$RC" run --classes 3 --per-class 10 --frustration 0.1 --pattern random --data-seed 4 --init-seed 5 --times 0,1,10 --quiet --out "$T/s3" >/dev/null
cmp -s "$T/s1/metrics.csv" "$T/s3/metrics.csv" && bad "init seed ignored" || ok
# gd: --threads and --precision. Results are bit-identical for any thread count
# (metrics and snapshots); f32 differs from f64 but stays close; bad values refused
DG="--classes 3 --per-class 1500 --frustration 0.1 --pattern random --dim 5 --integrator gd --dt 0.3 --steps 200 --points 5 --quiet --snapshots"
for th in 1 2 3; do
  "$RC" run $DG --threads $th --out "$T/th$th" >/dev/null || bad "gd --threads $th"
done
for th in 2 3; do
  cmp -s "$T/th1/metrics.csv" "$T/th$th/metrics.csv" && ok || bad "gd metrics differ with --threads $th"
  /usr/bin/python3 -c "import h5py,sys,numpy as np; a,b=h5py.File(sys.argv[1]),h5py.File(sys.argv[2]); sys.exit(0 if all(np.array_equal(a[k][()],b[k][()]) for k in ('samples','labels')) else 1)" \
    "$T/th1/snapshots.h5" "$T/th$th/snapshots.h5" && ok || bad "gd snapshots differ with --threads $th"
done
"$RC" run $DG --threads 2 --out "$T/th2b" >/dev/null && cmp -s "$T/th2/metrics.csv" "$T/th2b/metrics.csv" && ok || bad "gd repeated run differs"
"$RC" run $DG --precision f32 --out "$T/f32" >/dev/null || bad "gd --precision f32"
cmp -s "$T/th1/metrics.csv" "$T/f32/metrics.csv" && bad "f32 identical to f64" || ok
grep -q '"precision": "f32"' "$T/f32/summary.json" && ok || bad "summary lacks precision"
expect_error 2 "unknown precision" run $DG --precision f16 --out "$T/x"
expect_error 2 "positive integer" run $DG --threads 0 --out "$T/x"
expect_error 2 "for gd only" run $D2 --precision f32 --out "$T/x"
# bench: JSON with the timing of gd steps, or of the exact integrator
"$RC" bench $D2 --frustration 0.1 --dim 8 --dt 0.5 --steps 3 --threads 2 --precision f32 >"$T/bench.json" || bad "bench gd"
/usr/bin/python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert j['integrator']=='gd' and j['threads']==2 and j['precision']=='f32' and j['steps']==3 and j['seconds_per_step']>0 and j['bytes_per_step']>0" "$T/bench.json" && ok || bad "bench gd json"
"$RC" bench $D2 --frustration 0.1 --dim 8 --integrator exact >"$T/bench.json" || bad "bench exact"
/usr/bin/python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert j['integrator']=='exact' and abs(j['t']*j['slow_rate']-10)<1e-9 and j['seconds']>0" "$T/bench.json" && ok || bad "bench exact json"
expect_error 2 "unstable" bench $D2 --frustration 0.1 --dt 1.0
expect_error 2 "unknown option '--out'" bench $D2 --dt 0.1 --out "$T/x"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
