#!/usr/bin/env bash
# test_robust.sh: experiment files (--config), output failures (unwritable
# directories, full disks, closed stdout), numerical faults, runs too large
# for memory, and determinism. Every failure must be one line on stderr that
# names the file (and for a config the line and the key), a non-zero exit,
# and no file or temporary left behind. Usage: test_robust.sh path/to/repcollapse
set -u
RC="$1"
source "$(dirname "$0")/lib.sh"
MNT=""
CLEANUP='[ -n "$MNT" ] && umount "$MNT" 2>/dev/null'
cd "$T"
# no_files DIR: the directory is absent or empty (no result, no temporary)
no_files() { [ -z "$(ls -A "$1" 2>/dev/null)" ] && ok || bad "files left in $1: $(ls -A "$1")"; }
same_summary() { # A B: equal but for wall_seconds and command_line
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for s in (a, b):
    s.pop("wall_seconds"); s.pop("command_line")
assert a == b, [k for k in a if a[k] != b.get(k)]
PY
}

D="--classes 3 --per-class 20 --frustration 0.1 --pattern ring --dim 4 --t-end 50 --points 30 --quiet"

# ================= experiment files =================
cat >exp.ini <<'INI'
; a hand-written experiment
[data]
classes = 3
per_class = 20          ; '_' or '-' alike
  frustration = 0.1     ; indented keys are ordinary keys
pattern: ring
# sections are labels for readers
[init]
dim = 4
[run]
t-end = 50
points = 30
quiet = yes
snapshots = false
INI
"$RC" run $D --out flags >/dev/null || bad "run with flags"
"$RC" run --config exp.ini --out fromini >/dev/null && cmp -s flags/metrics.csv fromini/metrics.csv && ok ||
  bad "the INI file and the flags differ"
same_summary flags/summary.json fromini/summary.json && ok || bad "INI and flags: summaries differ"
# the command line overrides the file, key by key
"$RC" run $D --dim 6 --out flags6 >/dev/null
"$RC" run --config exp.ini --dim 6 --out override >/dev/null && cmp -s flags6/metrics.csv override/metrics.csv && ok ||
  bad "--dim on the command line does not override the file"
grep -q '"dim": "6"' override/summary.json && ok || bad "summary settings lack the overriding dim"
# summary.json reruns the run exactly, from any directory
mkdir -p elsewhere && (cd elsewhere && "$RC" run --config ../override/summary.json --out ../rerun >/dev/null) &&
  cmp -s override/metrics.csv rerun/metrics.csv && same_summary override/summary.json rerun/summary.json && ok ||
  bad "rerun from summary.json differs"
/usr/bin/python3 - override/summary.json <<'PY' && ok || bad "settings object"
import json, sys
s = json.load(open(sys.argv[1]))["settings"]
assert s == {"classes": "3", "per-class": "20", "frustration": "0.1", "pattern": "ring", "dim": "6",
             "t-end": "50", "points": "30"}, s
PY
# an observations file named relative to the working directory is recorded absolute
"$RC" data --classes 2 --per-class 5 --frustrated 0-1:2 --out obs.csv >/dev/null
printf 'observations = obs.csv\ndim = 3\nt-end = 20\nintegrator = rk45\n' >obs.ini
"$RC" run --config obs.ini --quiet --out obsrun >/dev/null || bad "run with observations from a config"
(cd elsewhere && "$RC" run --config ../obsrun/summary.json --quiet --out ../obsrerun >/dev/null) &&
  cmp -s obsrun/metrics.csv obsrerun/metrics.csv && ok || bad "observations path not rerunnable from elsewhere"
grep -q "\"observations\": \"$T/obs.csv\"" obsrun/summary.json && ok || bad "observations path not absolute"
# a JSON object of settings; a list value is joined with commas
printf '{"classes": 2, "per_class": 10, "times": [0, 1, 10], "snapshots": true, "dim": 2}\n' >set.json
"$RC" run --config set.json --quiet --out js >/dev/null && [ "$(wc -l <js/metrics.csv)" -eq 4 ] && [ -e js/snapshots.h5 ] &&
  ok || bad "JSON settings"
# one file for data, spectrum and run: keys of other subcommands are skipped
"$RC" spectrum $(echo $D | sed 's/--t-end 50 --points 30 --quiet//') >spec_flags.json
"$RC" spectrum --config exp.ini >spec_ini.json && cmp -s spec_flags.json spec_ini.json && ok || bad "spectrum --config"
"$RC" data --config exp.ini | grep -q '"n_samples": 67' && ok || bad "data --config"
# a long list fits on one line
times=$(seq -s, 0 0.5 150)
printf 'classes = 2\nper-class = 5\ndim = 2\ntimes = %s\n' "$times" >long.ini
"$RC" run --config long.ini --quiet --out long >/dev/null && [ "$(wc -l <long/metrics.csv)" -eq 302 ] && ok ||
  bad "a long line in a config"
# bad files: the error names the file, the line and the key
printf 'classes = 3\nper-class = 20\ndim = zero\n' >badval.ini
expect_error 2 "badval.ini:3: key 'dim': --dim: expected a positive integer (got 'zero')" run --config badval.ini --out x
printf 'classes = 3\n\nper-class = 20\nbogus = 1\n' >unknown.ini
expect_error 2 "unknown.ini:4: key 'bogus' is not an option" run --config unknown.ini --out x
printf 'classes = 3\nper_class = 2\nper-class = 20\n' >twice.ini
expect_error 2 "twice.ini:3: key 'per-class' is given twice" spectrum --config twice.ini
printf 'classes = 3\nper-class 20\n' >noeq.ini
expect_error 2 "noeq.ini:2: expected 'key = value'" spectrum --config noeq.ini
printf '[data\nclasses = 3\n' >section.ini
expect_error 2 "section.ini:1: expected" spectrum --config section.ini
printf 'classes = 3\nper-class = 20\nsnapshots = maybe\n' >flag.ini
expect_error 2 "flag.ini:3: key 'snapshots' expects true or false" run --config flag.ini --out x
printf 'classes = 3\nconfig = other.ini\n' >nested.ini
expect_error 2 "nested.ini:2: key 'config' cannot be set in a config file" spectrum --config nested.ini
printf 'resume = true\n' >resume.ini
expect_error 2 "resume.ini:1: key 'resume' cannot be set" run --config resume.ini --out x
printf 'classes = 3\nper-class = 2\x000\n' >nul.ini
expect_error 2 "nul.ini:2: binary data" spectrum --config nul.ini
printf 'classes = 3\nper-class = 20\nfrustration = 2\n' >range.ini
expect_error 2 "range.ini:3: key 'frustration': --frustration 2 is outside" spectrum --config range.ini
printf '{"classes": 3,\n "per-class": 20,\n "dim": }\n' >broken.json
expect_error 2 "broken.json:3: invalid JSON" run --config broken.json --out x
printf '{"classes": 3, "per-class": {"a": 1}}\n' >object.json
expect_error 2 "object.json: key 'per-class': expected a string" spectrum --config object.json
printf '{"classes": 3, "per-class": 20, "dim": "x"}\n' >badjson.json
expect_error 2 "badjson.json: key 'dim': --dim: expected a positive integer" run --config badjson.json --out x
printf '{"classes": 3, "classes": 4}\n' >dupjson.json
expect_error 2 "dupjson.json:1: invalid JSON: duplicate object key" spectrum --config dupjson.json
expect_error 1 "cannot read config file 'missing.ini'" spectrum --config missing.ini
expect_error 2 "--config given twice" spectrum --config exp.ini --config exp.ini
expect_error 2 "'--config' needs a value" spectrum --classes 2 --per-class 3 --config
no_files x

# ================= outputs that cannot be written =================
echo "a file" >plainfile
expect_error 1 "cannot create directory 'plainfile/sub'" run $D --out plainfile/sub
expect_error 1 "cannot create directory '/proc/repcollapse-test'" run $D --out /proc/repcollapse-test
expect_error 1 "cannot write '/proc/repcollapse-test.csv'" data --classes 2 --per-class 3 --out /proc/repcollapse-test.csv
# a file size limit (ulimit -f, with SIGXFSZ ignored so writes fail with EFBIG) stands for a full disk
limited() { (trap '' XFSZ; ulimit -f "$1"; shift; exec "$RC" "$@"); }
expect_limited() { # BLOCKS PATTERN args...
  local blocks="$1" pat="$2"
  shift 2
  limited "$blocks" "$@" >"$T/out" 2>"$T/err"
  local rc=$?
  [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q -- "$pat" "$T/err" && ok ||
    bad "exit $rc: [$(cat "$T/err")] for: $*"
}
expect_limited 4 "cannot write 'big1/metrics.csv': File too large" run $D --points 200 --out big1
no_files big1
expect_limited 40 "cannot write snapshot [0-9]* to 'big2/snapshots.h5': File too large" run $D --snapshots --out big2
no_files big2
expect_limited 1 "cannot write 'big3.csv': File too large" data --classes 2 --per-class 500 --out big3.csv
[ -z "$(ls big3.csv* 2>/dev/null)" ] && ok || bad "data csv left: $(ls big3.csv*)"
expect_limited 40 "cannot write 'big4/checkpoint.bin': File too large" run --classes 2 --per-class 500 --frustration 0.05 \
  --dim 16 --integrator gd --dt 0.1 --steps 300 --checkpoint-every 10 --quiet --out big4
no_files big4
# a run failing in a directory holding a former run: that run's files stay whole and together ...
"$RC" run $D --snapshots --out again >/dev/null
cp again/metrics.csv former.csv
expect_limited 40 "cannot write snapshot [0-9]* to 'again/snapshots.h5'" run $D --dim 5 --snapshots --out again
cmp -s again/metrics.csv former.csv && grep -q '"dim": "4"' again/summary.json && [ -e again/snapshots.h5 ] &&
  [ "$(ls -A again | wc -l)" -eq 3 ] && ok || bad "a failed run damaged the former run: $(ls -A again)"
# ... and once the new run has replaced some of them, no summary.json claims the directory complete
expect_limited 4 "cannot write 'again/metrics.csv'" run $D --dim 5 --points 200 --out again
[ ! -e again/summary.json ] && ok || bad "a stale summary.json survived a failed run"
# standard output on a full device
for cmd in "spectrum --classes 2 --per-class 5" "data --classes 2 --per-class 5" "run $D --out stdoutfull"; do
  $RC $cmd >/dev/full 2>"$T/err"
  rc=$?
  [ $rc -eq 1 ] && grep -q "cannot write to standard output: No space left on device" "$T/err" && ok ||
    bad "stdout to /dev/full: exit $rc [$(cat "$T/err")] for $cmd"
done
# a real full file system, where one can be mounted (root, a container allowing it)
mkdir -p "$T/full"
if mount -t tmpfs -o size=48k tmpfs "$T/full" 2>/dev/null; then
  MNT="$T/full"
  expect_error 1 "cannot write snapshot [0-9]* to '$T/full/a/snapshots.h5': No space left on device" run $D --snapshots --out "$T/full/a"
  expect_error 1 "cannot write '$T/full/b/metrics.csv': No space left on device" run $D --points 800 --out "$T/full/b"
  [ -z "$(find "$T/full" -type f)" ] && ok || bad "files left on the full disk: $(find "$T/full" -type f)"
  umount "$T/full" && MNT=""
else
  echo "note: cannot mount a tmpfs here; the ENOSPC tests are skipped (ulimit -f covers the same paths)"
fi
# temporaries of a killed writer are removed, a live writer's are not
mkdir -p stale
pid_max=$(cat /proc/sys/kernel/pid_max)
touch "stale/metrics.csv.tmp.$((pid_max + 1))" "stale/summary.json.tmp.$$"
"$RC" run $D --out stale >/dev/null
[ ! -e "stale/metrics.csv.tmp.$((pid_max + 1))" ] && [ -e "stale/summary.json.tmp.$$" ] && ok ||
  bad "stale temporaries: $(ls stale)"

# ================= numerical faults =================
# the initial state overflows: stopped at t = 0, or inside the integrator when t = 0 is not recorded
H="--classes 2 --per-class 5 --dim 1 --sigma 1e308 --seed 3 --quiet"
expect_error 1 "non-finite state at t = 0 (step 0): the embedding of sample" run $H --out nan1
expect_error 1 "gd diverged at step 1 (t = 0.5): non-finite value" run $H --integrator gd --dt 0.5 --times 0.5,1 --out nan2
expect_error 1 "rk45 failed at t = 0 .*: the embedding of sample 0 (coordinate 0) is inf" run $H --integrator rk45 --times 1,2 --out nan3
expect_error 1 "non-finite state at t = 1 (step 0)" run $H --times 1,2 --out nan4
# finite embeddings whose loss overflows
expect_error 1 "non-finite metric at t = 0 (step 0): loss is inf" run $H --sigma 1e160 --out nan5
for d in nan1 nan2 nan3 nan4 nan5; do no_files $d; done

# ================= memory =================
start=$(date +%s)
expect_error 1 "this run (N = 4000000000 samples, K = 2 classes, d = 4096, gd; .*) needs about .* TB of memory.*refusing" \
  run --classes 2 --per-class 2000000000 --dim 4096 --integrator gd --dt 0.1 --steps 10 --out huge
[ $(($(date +%s) - start)) -le 5 ] && ok || bad "the memory refusal was not immediate"
no_files huge
REPCOLLAPSE_MEMORY_LIMIT=20M expect_error 1 "d = 1000, rk45.*needs about .* MB of memory, more than the 20 MB allowed" \
  run --classes 2 --per-class 1000 --dim 1000 --integrator rk45 --out lim
REPCOLLAPSE_MEMORY_LIMIT=1k expect_error 1 "N = 12 samples.*more than the 1 kB allowed" run --observations obs.csv --dim 8 --out lim
REPCOLLAPSE_MEMORY_LIMIT=1M expect_error 1 "the data set needs about" spectrum --classes 2 --per-class 100000
# a typo in a hand-written observations file (sample 999999999) is named at once, nothing allocated for it
printf '0,0\n999999999,1\n' >typo.csv
start=$(date +%s)
expect_error 2 "typo.csv: sample 1 has no observation" spectrum --observations typo.csv
[ $(($(date +%s) - start)) -le 2 ] && ok || bad "the typo was not refused at once"

# ================= determinism =================
for integ in "exact" "rk45" "gd --dt 0.05"; do
  "$RC" run $D --integrator $integ --snapshots --out det1 >/dev/null
  "$RC" run $D --integrator $integ --snapshots --out det2 >/dev/null
  cmp -s det1/metrics.csv det2/metrics.csv && cmp -s det1/snapshots.h5 det2/snapshots.h5 && ok ||
    bad "two identical $integ runs differ"
  rm -rf det1 det2
done

finish
