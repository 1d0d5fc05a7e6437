#!/usr/bin/env bash
# test_cli.sh: the repcollapse command as a user meets it: every subcommand's
# outputs, and bad input (a one-line error, a non-zero exit, no crash, no
# result file left behind). Usage: test_cli.sh path/to/repcollapse
set -u
RC="$1"
source "$(dirname "$0")/lib.sh"

D2="--classes 2 --per-class 50"
# ---- bad input ----
expect_error 2 "unknown option '--bogus'" run $D2 --bogus --out "$T/x"
expect_error 2 "unknown command" frobnicate
# --metrics: unknown names refused with the list; a subset leaves the other columns empty
expect_error 2 "unknown metric 'acuracy' in --metrics (known: loss, accuracy" run $D2 --metrics loss,acuracy --out "$T/x"
expect_error 2 "at least one metric" run $D2 --metrics "" --out "$T/x"
[ -e "$T/x" ] && bad "a refused --metrics left $T/x" || ok
"$RC" run $D2 --frustration 0.1 --metrics margin --points 5 --quiet --out "$T/msub" >/dev/null && ok || bad "run --metrics margin failed"
/usr/bin/python3 - "$T/msub" <<'PY2' && ok || bad "--metrics margin: wrong columns"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/metrics.csv")))
assert len(rows) == 6
for r in rows:
    assert r["margin"] != "" and r["min_label_distance"] != "", r
    assert all(r[k] == "" for k in ("loss", "accuracy", "accuracy_frustrated", "mean_label_distance",
                                    "within_class_spread", "label_effective_rank")), r
s = json.load(open(sys.argv[1] + "/summary.json"))
assert s["collapse_time_method"] == "exact-brent" and s["final"]["loss"] is None
PY2
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
# a run whose initial embeddings overflow stops at t = 0 naming the quantity, and leaves no result
expect_error 1 "non-finite state at t = 0 (step 0): the embedding of sample" run $D2 --integrator gd --dt 0.5 --steps 5 --dim 1 --sigma 1e308 --seed 3 --out "$T/diverge" --snapshots
[ -z "$(ls -A "$T/diverge" 2>/dev/null)" ] && ok || bad "diverged gd left files: $(ls "$T/diverge")"
# an unwritable output directory names the file
mkdir -p "$T/ro" && chmod 500 "$T/ro"
if [ "$(id -u)" -ne 0 ]; then
  expect_error 1 "cannot" run $D2 --out "$T/ro/sub"
fi
expect_error 1 "not a directory" run $D2 --out "$T/good.csv"

# models with a head (docs/model.md section 3)
expect_error 2 "unknown model 'simclr'" run $D2 --model simclr --out "$T/x"
expect_error 2 "malformed term" run $D2 --terms 'Px-sg(y' --out "$T/x"
expect_error 2 "compares a sample with a label" run $D2 --terms 'Px-x' --out "$T/x"
expect_error 2 "empty" run $D2 --terms '' --out "$T/x"
expect_error 2 "bad weight" run $D2 --terms '0*x-y' --out "$T/x"
expect_error 2 "positive number" run $D2 --model siam-sg --eta-head 0 --out "$T/x"
expect_error 2 "positive number" run $D2 --model siam-sg --eta-head -1 --out "$T/x"
expect_error 2 "unknown head init" run $D2 --model siam-sg --head-init random --out "$T/x"
expect_error 2 "not both" run $D2 --model siam --terms 'Px-y' --out "$T/x"
expect_error 2 "exact integrator solves the minimal model only" run $D2 --model siam-sg --integrator exact --out "$T/x"
expect_error 2 "no particles\|has none" run $D2 --model siam-sg --integrator reduced --snapshots --out "$T/x"
expect_error 2 "unstable" run $D2 --frustration 0.1 --model siam-sg --integrator gd --dt 10 --steps 3 --out "$T/x"
expect_error 2 "symmetric pattern" selfconsistent --classes 3 --per-class 10 --pattern random --frustration-list 0,0.1 --model siam-sg
expect_error 2 "outside \[0, 1)" selfconsistent $D2 --frustration-list 0,1.2 --model siam-sg
expect_error 2 "expected f1,f2" selfconsistent $D2 --frustration-list 0:0.2 --model siam-sg
expect_error 2 "frustration-list (not --frustration)" selfconsistent $D2 --frustration 0.1 --model siam-sg
expect_error 2 "out DIR is required" phase $D2 --frustration-list 0,0.1
expect_error 2 "unknown model" phase $D2 --frustration-list 0,0.1 --models siam,foo --out "$T/x"
expect_error 2 "increasing" phase $D2 --frustration-list 0.2,0.1 --out "$T/x"
expect_error 2 "positive integer" phase $D2 --frustration-list 0,0.1 --seeds 0 --out "$T/x"

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
head -1 "$T/run/metrics.csv" | grep -qx "t,loss,accuracy,accuracy_frustrated,margin,min_label_distance,mean_label_distance,within_class_spread,label_effective_rank,relative_label_distance,angular_label_distance,nc1,nc2_equinorm,nc2_equiangular,nc2_cos_std,nc3,nc4,rankme" && ok || bad "metrics header"
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

# head models end to end: run (particles and reduced), fixedpoint, selfconsistent, phase
"$RC" run $D2 --frustration 0.05 --dim 4 --model siam-sg --integrator rk45 --t-end 300 --snapshots --quiet --out "$T/sg" >/dev/null || bad "siam-sg run"
"$RC" run $D2 --frustration 0.05 --dim 4 --model siam-sg --integrator reduced --t-end 300 --quiet --out "$T/sgr" >/dev/null || bad "siam-sg reduced run"
"$RC" fixedpoint $D2 --frustration 0.05 --dim 4 --model siam-sg --t-end 300 >"$T/fp.json" || bad "fixedpoint"
"$RC" selfconsistent $D2 --pattern pair --frustration-list 0:0.1:3 --dim 4 --model siam-sg --seeds 2 --t-end 300 >"$T/sc.csv" || bad "selfconsistent"
"$RC" phase $D2 --frustration-list 0,0.3 --dim 4 --seeds 3 --t-end 300 --quiet --out "$T/phase" >"$T/phase.txt" || bad "phase"
/usr/bin/python3 - "$T" <<'PY' && ok || bad "head model outputs"
import json, sys, csv, h5py, math
T = sys.argv[1]
s = json.load(open(T + "/sg/summary.json"))
m = s["inputs"]["model"]
assert m["model"] == "siam-sg" and m["terms"] == "Px-sg(y)+Py-sg(x)" and m["head_rate_ratio"] == 1.0
h = h5py.File(T + "/sg/snapshots.h5", "r")
assert h["head"].shape == (len(h["t"]), 4, 4)
f = 5 / 105
gain = s["final_head"]["separation_head_gain"][0][2]
assert abs(gain - math.sqrt((1 - f) / (1 + f))) < 1e-8, gain
r = json.load(open(T + "/sgr/summary.json"))
assert abs(r["final"]["min_label_distance"] - s["final"]["min_label_distance"]) < 1e-7
rows = list(csv.DictReader(open(T + "/sgr/metrics.csv")))
assert rows[0]["accuracy"] == "" and rows[0]["margin"] == ""  # reduced: no individual samples
fp = json.load(open(T + "/fp.json"))
assert fp["residual"] < 1e-10 and fp["stability"]["verdict"] == "stable" and fp["loss"] > 1e-3
sc = list(csv.DictReader(open(T + "/sc.csv")))
assert [float(x["f"]) for x in sc] == [0, 0.05, 0.1]
for x in sc:
    assert x["separation_source"] == "from_dynamics" and x["stability"] == "stable"
ph = json.load(open(T + "/phase/phase.json"))
assert len(ph["rows"]) == 4 and {c["model"] for c in ph["crossover"]} == {"siam", "siam-sg"}
for row in ph["rows"]:
    assert 0 <= row["ci_low"] <= row["fraction_apart"] <= row["ci_high"] <= 1
    if row["model"] == "siam" and row["f"] > 0:
        assert row["fraction_apart"] == 0
PY

# figures --quick: every file of the report
"$RC" figures --quick --out "$T/fig" >"$T/fig.log" 2>&1 || bad "figures --quick: $(tail -1 "$T/fig.log")"
for k in 1 2 3 4 5 6; do grep -q "^## Claim $k:" "$T/fig/report.md" 2>/dev/null || bad "report lacks claim $k"; done
for fig in fig1_trajectories fig2_slow_rate fig3_gap fig4_phase fig5_selfconsistency fig6_teacher_student; do
  grep -q "($fig.png)" "$T/fig/report.md" 2>/dev/null || bad "report does not show $fig"
  head -c 4 "$T/fig/$fig.png" 2>/dev/null | grep -q PNG && grep -q "<svg" "$T/fig/$fig.svg" 2>/dev/null && ok || bad "$fig.png/.svg missing"
done
for csv in claim3/slow_rate.csv claim3/gap.csv claim4/phase.csv claim5/selfconsistent.csv claim1/frustrated/metrics.csv; do
  [ -s "$T/fig/$csv" ] && ok || bad "figures: $csv missing"
done
# (each command starts with the absolute path of the binary that ran it: self_contained runs them)
grep -q "^$(readlink -f "$RC") run --classes 2" "$T/fig/report.md" && ok || bad "report lacks its commands"
expect_error 2 "out DIR is required" figures --quick

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
