#!/usr/bin/env bash
# test_sweep.sh: `repcollapse sweep` and `sweep-merge` end to end: bad grids
# refused before anything runs (one line naming the axis, no directory);
# every option of run usable as an axis; rows equal to individual runs; the
# same sweep.csv, byte for byte, from one process, a --jobs 2 run killed
# with SIGKILL and resumed, and two shards merged; a resumed sweep with
# another command, a second sweep in the same directory and incomplete or
# mismatched merges refused; failed points in the error column; progress only
# on a terminal. Usage: test_sweep.sh path/to/repcollapse
set -u
RC="$1"
HERE=$(cd "$(dirname "$0")" && pwd)

BG=""
source "$HERE/lib.sh"
CLEANUP='[ -n "$BG" ] && kill -9 -- -"$BG" 2>/dev/null'

# bad_grid PATTERN GRID: refused with exit 2 before anything runs (no output directory).
bad_grid() {
  expect_error 2 "$1" sweep --grid "$2" --classes 2 --per-class 5 --dim 2 --out "$T/bad"
  [ ! -e "$T/bad" ] && ok || bad "grid '$2' left $T/bad"
  rm -rf "$T/bad"
}

# ---- bad grids and options ----
bad_grid "axis 'bogus': unknown parameter" 'frustration=0,0.1;bogus=1,2'
bad_grid "axis 'snapshots': --snapshots takes no value" 'snapshots=1,2'
bad_grid "axis 'out': the sweep sets" 'out=a,b'
bad_grid "axis 'seed': empty range '5:1'" 'seed=5:1'
bad_grid "axis 'frustrated': malformed range '0-1:3'" 'frustrated=0-1:3'
bad_grid "axis 'model': empty value" 'model=siam,,siam-sg'  # (the grammar in full: unit_sweep)
bad_grid "axis 'frustration' value '1.5': --frustration 1.5 is outside \[0, 1)" 'frustration=0,0.1,1.5;seed=1:2'
bad_grid "axis 'frustration' value '1.5': --frustration 1.5 is outside \[0, 1)" 'frustration=1.5,0.1;seed=1:2'
bad_grid "axis 'frustration' value 'abc': --frustration: expected a number" 'seed=1:2;frustration=abc'
bad_grid "axis 'model' value 'bogus': unknown model 'bogus'" 'model=minimal,bogus'
bad_grid "axis 'eps' value '0': --eps: expected a number in (0, 1)" 'eps=0;seed=1,2'
bad_grid "axis 'eps' value '2': --eps: expected a number in (0, 1)" 'seed=1:3;eps=0.1,2'
expect_error 2 "axis 'per-class' value '0': --per-class: every class size must be positive" sweep --grid 'per-class=5|0' --classes 2 --out "$T/bad"
bad_grid "axis 'dim' is also given as the fixed option --dim" 'dim=2,4'
expect_error 2 "axis 'seed' is also given as the fixed option --seed" sweep --grid 'seed=1,2' --classes=2 --per-class 5 --seed=3 --out "$T/bad"
bad_grid "axis 'integrator' value 'gd': the gd integrator needs --dt" 'integrator=exact,gd'
bad_grid "axis 'model' value 'siam': the exact integrator solves the minimal model only" 'model=minimal,siam'
bad_grid "point 0 (model=siam, terms=Px-y): give either --model or --terms" 'model=siam;terms=Px-y'
expect_error 2 "unknown option '--bogus'" sweep --grid 'seed=1,2' --classes 2 --per-class 5 --bogus --out "$T/bad"
expect_error 2 "--grid SPEC is required" sweep --classes 2 --per-class 5 --out "$T/bad"
expect_error 2 "--out DIR is required" sweep --grid 'seed=1,2' --classes 2 --per-class 5
expect_error 2 "--jobs: expected a positive integer" sweep --grid 'seed=1,2' --classes 2 --per-class 5 --jobs 0 --out "$T/bad"
expect_error 2 "--shard: expected I/N" sweep --grid 'seed=1,2' --classes 2 --per-class 5 --shard 3/2 --out "$T/bad"
expect_error 2 "unexpected argument 'stray'" sweep --grid 'seed=1,2' --classes 2 --per-class 5 stray --out "$T/bad"
expect_error 2 "no input directories" sweep-merge --out "$T/bad"
[ ! -e "$T/bad" ] && ok || bad "bad options left $T/bad"

# ---- every option of run can be an axis (run --help is the list) ----
# One grid with every option: the first refusal must be about a value or a
# flag (which cannot be an axis), never an unknown parameter; flags are taken
# out one by one.
# (--task teacher-student runs through its own path and is not an axis yet: README, Sweeps)
opts=$("$RC" run --help | grep -o '^  --[a-z-]*' | sed 's/^  --//' | grep -v -x -e help -e out -e task)
[ "$(echo "$opts" | wc -l)" -gt 20 ] && ok || bad "run --help lists too few options"
for _ in 1 2 3 4 5 6; do
  grid=$(echo "$opts" | sed 's/$/=@bad@/' | paste -sd ';')
  "$RC" sweep --grid "$grid" --out "$T/bad" >/dev/null 2>"$T/err"
  flag=$(sed -n "s/.*axis '\([a-z-]*\)': --[a-z-]* takes no value.*/\1/p" "$T/err")
  [ -z "$flag" ] && break
  opts=$(echo "$opts" | grep -v -x -e "$flag")
done
grep -q "value '@bad@'\|point 0" "$T/err" && ! grep -q "unknown parameter" "$T/err" && ok || bad "an option of run is not a sweep axis: $(cat "$T/err")"
[ ! -e "$T/bad" ] && ok || bad "the options grid left $T/bad"

# ---- rows equal individual runs ----
F1=(--classes 3 --per-class 30 --dim 4 --integrator rk45 --t-end 100 --points 20)
"$RC" sweep --grid 'frustration=0,0.1;seed=1:2;model=minimal,siam-sg' "${F1[@]}" --out "$T/small" >"$T/out" 2>"$T/err"
[ $? -eq 0 ] && [ ! -s "$T/err" ] && ok || bad "small sweep failed or printed on a non-terminal stderr: $(cat "$T/err")"
[ "$(wc -l <"$T/small/sweep.csv")" -eq 9 ] && ok || bad "small sweep: want 8 rows"
for p in 0 7; do
  [ -s "$T/small/points/$p/metrics.csv" ] && [ -s "$T/small/points/$p/summary.json" ] && ok || bad "no run files for point $p"
done
mkdir "$T/runs"
/usr/bin/python3 "$HERE/sweep_vs_runs.py" "$RC" "$T/small" "$T/runs" -- "${F1[@]}" >"$T/cmp" 2>&1 && ok || bad "rows differ from runs: $(cat "$T/cmp")"

# ---- one process, --jobs, kill -9 and resume, shards: the same file ----
GRID='frustration=0.02,0.05,0.1;seed=1:2;model=minimal,siam-sg'
F2=(--integrator rk45 --classes 2 --per-class 100 --dim 6 --t-end 150 --points 30)
sweep() { "$RC" sweep --grid "$GRID" "${F2[@]}" "$@"; }
sweep --out "$T/ref" >"$T/out" 2>&1 || bad "reference sweep failed: $(cat "$T/out")"
grep -q "12 points (12 run now, 0 resumed)" "$T/out" && ok || bad "reference: $(cat "$T/out")"
cp "$T/ref/sweep.csv" "$T/ref.csv"
sweep --out "$T/ref" >"$T/out" 2>&1
grep -q "12 points (0 run now, 12 resumed)" "$T/out" && cmp -s "$T/ref/sweep.csv" "$T/ref.csv" && ok || bad "rerun of a finished sweep: $(cat "$T/out")"

# --jobs 2, killed with SIGKILL (the whole process group, as a scheduler
# does), then resumed: the same file as one uninterrupted process
count_records() { ls "$1/points" 2>/dev/null | grep -c '^[0-9]*\.json$'; }
setsid "$RC" sweep --grid "$GRID" "${F2[@]}" --out "$T/killed" --jobs 2 >/dev/null 2>&1 &
BG=$!
for _ in $(seq 1 3000); do [ "$(count_records "$T/killed")" -ge 2 ] && break; sleep 0.01; done
kill -9 -- -"$BG"
wait "$BG" 2>/dev/null
BG=""
n_before=$(count_records "$T/killed")
if [ "$n_before" -ge 2 ] && [ "$n_before" -lt 12 ] && [ ! -e "$T/killed/sweep.csv" ]; then ok; else bad "kill test: $n_before records at the kill (want 2..11) or a sweep.csv"; fi
sweep --out "$T/killed" --jobs 2 >"$T/out" 2>&1
grep -q "12 points ($((12 - n_before)) run now, $n_before resumed)" "$T/out" && ok || bad "resume after kill: $(cat "$T/out") (had $n_before)"
cmp -s "$T/killed/sweep.csv" "$T/ref.csv" && ok || bad "killed and resumed sweep differs from the uninterrupted one"
[ -z "$(find "$T/killed" -name '*.tmp.*')" ] && ok || bad "temporaries left: $(find "$T/killed" -name '*.tmp.*')"

# a second sweep in a directory whose lock another process holds (flock, as every
# command writing a directory takes it, with the holder's pid in it) is refused
/usr/bin/python3 -c 'import fcntl, os, sys, time
f = open(sys.argv[1], "a+"); fcntl.flock(f, fcntl.LOCK_EX); f.truncate(0); f.write("%d\n" % os.getpid()); f.flush()
print("locked", flush=True); time.sleep(60)' "$T/killed/.lock" >"$T/locked" &
LOCKER=$!
for _ in $(seq 1 1000); do grep -q locked "$T/locked" && break; sleep 0.01; done
expect_error 1 "'$T/killed' is being written by another repcollapse process (pid $LOCKER holds" sweep --grid "$GRID" "${F2[@]}" --out "$T/killed"
kill "$LOCKER"
wait "$LOCKER" 2>/dev/null

# resuming with another command is refused, the directory untouched
expect_error 2 "holds a different sweep (not the same grid)" sweep --grid 'seed=1:2' "${F2[@]}" --out "$T/ref"
expect_error 2 "holds a different sweep (not the same fixed options)" sweep --grid "$GRID" "${F2[@]}" --eps 0.02 --out "$T/ref"
expect_error 2 "holds a different sweep (not the same shard)" sweep --grid "$GRID" "${F2[@]}" --shard 1/2 --out "$T/ref"
cmp -s "$T/ref/sweep.csv" "$T/ref.csv" && ok || bad "a refused resume changed sweep.csv"

# two shards, merged
for i in 1 2; do
  sweep --shard "$i/2" --out "$T/shard$i" >"$T/out" 2>&1 || bad "shard $i failed: $(cat "$T/out")"
  grep -q "6 points (6 run now, 0 resumed), shard $i/2 of 12 points" "$T/out" && ok || bad "shard $i: $(cat "$T/out")"
done
"$RC" sweep-merge "$T/shard1" "$T/shard2" --out "$T/merged" >"$T/out" 2>&1
cmp -s "$T/merged/sweep.csv" "$T/ref.csv" && ok || bad "merged shards differ from one process: $(cat "$T/out")"
# the merged directory is a finished sweep of the same command
sweep --out "$T/merged" >"$T/out" 2>&1
grep -q "0 run now, 12 resumed" "$T/out" && cmp -s "$T/merged/sweep.csv" "$T/ref.csv" && ok || bad "resume of a merged sweep: $(cat "$T/out")"
expect_error 1 "6 of 12 points are in none of the directories (first: point 1 " sweep-merge "$T/shard1" --out "$T/m2"
[ ! -e "$T/m2/sweep.csv" ] && ok || bad "an incomplete merge wrote sweep.csv"
expect_error 2 "are not shards of one sweep (not the same grid)" sweep-merge "$T/shard1" "$T/small" --out "$T/m3"
cp -r "$T/shard2" "$T/other"
sed 's/"100"/"101"/' "$T/shard2/manifest.json" >"$T/other/manifest.json"
expect_error 2 "are not shards of one sweep (not the same fixed options)" sweep-merge "$T/shard1" "$T/other" --out "$T/m3"
expect_error 2 "is one of the inputs" sweep-merge "$T/shard1" "$T/shard2" --out "$T/shard2"
expect_error 2 "is not a sweep directory" sweep-merge "$T/shard1" "$T/runs" --out "$T/m4"
# a point recorded differently in two inputs
cp -r "$T/shard1" "$T/shard1b"
sed 's/"point":0,/"point":0, "extra":1,/' "$T/shard1/points/0.json" >"$T/shard1b/points/0.json"
expect_error 2 "point 0 has different records" sweep-merge "$T/shard1" "$T/shard1b" "$T/shard2" --out "$T/m5"

# ---- a sweep grown in place: a bigger grid reuses the finished points ----
F3=(--classes 2 --per-class 20 --dim 4 --integrator rk45 --t-end 50 --points 10)
"$RC" sweep --grid 'frustration=0.05,0.1;seed=1:2' "${F3[@]}" --out "$T/grow" >"$T/out" 2>&1 || bad "small sweep to grow: $(cat "$T/out")"
cp "$T/grow/sweep.csv" "$T/grow-small.csv"
# old point 1 (f = 0.05, seed 2) is point 4 of the bigger grid; its files must be kept, not rerun
inode_before=$(stat -c %i "$T/grow/points/1/metrics.csv")
# refused: not a superset (a value dropped), other axes, other fixed options, a shard; nothing changed
expect_error 2 "holds a different sweep (not the same grid) that the new grid does not contain (axis 'frustration' has no value '0.1')" \
  sweep --grid 'frustration=0,0.05;seed=1:3' "${F3[@]}" --out "$T/grow"
expect_error 2 "does not contain (axis 1 is 'seed', not 'frustration')" sweep --grid 'seed=1:3;frustration=0,0.05,0.1' "${F3[@]}" --out "$T/grow"
expect_error 2 "does not contain (1 axes, not 2)" sweep --grid 'frustration=0,0.05,0.1' "${F3[@]}" --out "$T/grow"
expect_error 2 "holds a different sweep (not the same fixed options)" sweep --grid 'frustration=0,0.05,0.1;seed=1:3' "${F3[@]}" --eps 0.02 --out "$T/grow"
expect_error 2 "holds a different sweep (not the same shard)" sweep --grid 'frustration=0,0.05,0.1;seed=1:3' "${F3[@]}" --shard 1/2 --out "$T/grow"
cmp -s "$T/grow/sweep.csv" "$T/grow-small.csv" && [ ! -e "$T/grow/points/4.json" ] && [ ! -e "$T/grow/.grow.tmp" ] && ok || bad "a refused growth changed the directory"
"$RC" sweep --grid 'frustration=0,0.05,0.1;seed=1:3' "${F3[@]}" --out "$T/grow" >"$T/out" 2>&1
grep -q "9 points (5 run now, 4 resumed)" "$T/out" && ok || bad "growth: $(cat "$T/out")"
"$RC" sweep --grid 'frustration=0,0.05,0.1;seed=1:3' "${F3[@]}" --out "$T/grow-fresh" >"$T/out" 2>&1 || bad "fresh big sweep: $(cat "$T/out")"
cmp -s "$T/grow/sweep.csv" "$T/grow-fresh/sweep.csv" && ok || bad "grown sweep.csv differs from a fresh sweep of the bigger grid: $(diff "$T/grow/sweep.csv" "$T/grow-fresh/sweep.csv" | head -5)"
[ "$(stat -c %i "$T/grow/points/4/metrics.csv")" = "$inode_before" ] && ok || bad "point 4 (old point 1) was rerun rather than reused"
cmp -s "$T/grow/points/4/metrics.csv" "$T/grow-fresh/points/4/metrics.csv" && ok || bad "point 4's metrics.csv differs from the fresh sweep's"
grep -q '"point":4,' "$T/grow/points/4.json" && ok || bad "point 4's record was not renumbered: $(cat "$T/grow/points/4.json")"
# its summary.json is the fresh sweep's but for wall_seconds and the directory (--out DIR/points/4)
/usr/bin/python3 - "$T/grow/points/4/summary.json" "$T/grow-fresh/points/4/summary.json" "$T/grow" "$T/grow-fresh" <<'PY' && ok || bad "point 4's summary.json differs from the fresh sweep's"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
a.pop("wall_seconds"); b.pop("wall_seconds")
assert a["command_line"].endswith(" --out " + sys.argv[3] + "/points/4"), a["command_line"]
b["command_line"] = b["command_line"].replace(sys.argv[4], sys.argv[3])
assert a == b, [k for k in a if a[k] != b.get(k)]
PY
[ -z "$(ls -A "$T/grow" | grep grow)" ] && ok || bad "growth left $(ls -A "$T/grow")"
# grown again, with the values of one axis in another order and a log-spaced axis turned into a list
"$RC" sweep --grid 'frustration=0.1,0,0.05,0.2;seed=1:3' "${F3[@]}" --out "$T/grow" >"$T/out" 2>&1
grep -q "12 points (3 run now, 9 resumed)" "$T/out" && ok || bad "second growth: $(cat "$T/out")"
"$RC" sweep --grid 'frustration=0.1,0,0.05,0.2;seed=1:3' "${F3[@]}" --out "$T/grow-fresh2" >"$T/out" 2>&1
cmp -s "$T/grow/sweep.csv" "$T/grow-fresh2/sweep.csv" && ok || bad "second growth differs from a fresh sweep"

# ---- log-spaced axes run as their values ----
"$RC" sweep --grid 'eta-head=0.1:10:3:log' --model siam-sg --classes 2 --per-class 5 --dim 2 --integrator reduced --t-end 5 --out "$T/logax" >"$T/out" 2>&1 || bad "log axis sweep: $(cat "$T/out")"
[ "$(cut -d, -f2 "$T/logax/sweep.csv" | paste -sd' ')" = "eta-head 0.1 1 10" ] && ok || bad "log axis values: $(cut -d, -f2 "$T/logax/sweep.csv")"
bad_grid "axis 'eta-head': log range '0:10:3:log' needs a > 0 and b > 0" 'eta-head=0:10:3:log'

# ---- failed points: the error column, exit 1, the same file when resumed ----
"$RC" sweep --grid 'dt=0.1,1.5;per-class=5|5,8' --classes 2 --frustration 0.1 --integrator gd --steps 20 --out "$T/fails" >"$T/out" 2>"$T/err"
[ $? -eq 1 ] && ok || bad "a sweep with failed points must exit 1"
grep -q "2 of 4 points failed (see the error column of .*); first: point 2 (dt=1.5, per-class=5): gd step dt = 1.5 is unstable" "$T/err" && ok || bad "failed points message: $(cat "$T/err")"
grep -q '^3,1.5,"5,8",,.*,gd step dt = 1.5 is unstable' "$T/fails/sweep.csv" && ok || bad "error column: $(cat "$T/fails/sweep.csv")"
grep -q '^1,0.1,"5,8",14,1,.*,$' "$T/fails/sweep.csv" && ok || bad "good row of a partly failed sweep: $(cat "$T/fails/sweep.csv")"
cp "$T/fails/sweep.csv" "$T/fails.csv"
"$RC" sweep --grid 'dt=0.1,1.5;per-class=5|5,8' --classes 2 --frustration 0.1 --integrator gd --steps 20 --out "$T/fails" >"$T/out" 2>&1
grep -q "0 run now, 4 resumed" "$T/out" && cmp -s "$T/fails/sweep.csv" "$T/fails.csv" && ok || bad "resume of a sweep with failed points: $(cat "$T/out")"

# ---- progress: a line on a terminal (points, rate, ETA), nothing otherwise ----
if command -v script >/dev/null; then
  script -qec "$RC sweep --grid 'seed=1:3' --classes 2 --per-class 5 --dim 2 --out $T/tty" /dev/null >"$T/tty.txt" 2>&1
  grep -q "3/3 points .*/s  eta" "$T/tty.txt" && ok || bad "no progress line on a terminal: $(cat "$T/tty.txt")"
  script -qec "$RC sweep --grid 'seed=1:3' --classes 2 --per-class 5 --dim 2 --quiet --out $T/tty2" /dev/null >"$T/tty.txt" 2>&1
  grep -q "points .*eta" "$T/tty.txt" && bad "--quiet still shows progress" || ok
fi

finish
