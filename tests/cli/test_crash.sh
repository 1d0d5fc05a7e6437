#!/usr/bin/env bash
# test_crash.sh: crashes, hangs, lost or mixed data (issue 13). Each part is a
# reproduction of a defect that was found by hand: concurrent writers of one
# directory, thread counts from the environment, readers given /dev/zero, a
# FIFO, a directory or a huge file, signals with their default dispositions
# (SIGXFSZ under ulimit -f, SIGPIPE on a closed pipe, SIGINT and SIGTERM),
# figures on a full disk, rk45 asked the impossible, an INI line over 1 MiB,
# and refused resumes that must destroy nothing.
# Usage: test_crash.sh path/to/repcollapse
set -u
RC="$1"
source "$(dirname "$0")/lib.sh"
MNT=""
CLEANUP='[ -n "$MNT" ] && umount "$MNT" 2>/dev/null'
cd "$T"
trap - XFSZ PIPE   # default dispositions, whatever the caller had
no_files() { [ -z "$(ls -A "$1" 2>/dev/null)" ] && ok || bad "files left in $1: $(ls -A "$1")"; }
no_temporaries() { # DIR: no *.tmp.* file and no lock left anywhere under it
  local left
  left=$(find "$1" \( -name '*.tmp.*' -o -name .lock \) 2>/dev/null)
  [ -z "$left" ] && ok || bad "temporaries left: $left"
}
# timed SECONDS args...: run repcollapse, fail if it takes longer (a hang)
timed() {
  local s="$1"
  shift
  timeout "$s" "$RC" "$@"
}

# ================= 1. one writer per output directory =================
L=(--classes 2 --per-class 200 --frustration 0.05 --dim 8 --integrator gd --dt 0.1 --steps 2000 --points 20
   --snapshots --quiet)
for s in 1 2 3 4 5 6; do "$RC" run "${L[@]}" --seed "$s" --out "ref$s" >/dev/null || bad "reference run $s"; done
# a second run while the first is writing: refused at once, naming the first's pid, the directory left to it
"$RC" run "${L[@]}" --steps 30000 --seed 1 --out busy >/dev/null 2>&1 &
first=$!
for _ in $(seq 1 500); do [ -n "$(ls busy/*.tmp.* 2>/dev/null)" ] && break; sleep 0.01; done
expect_error 1 "'busy' is being written by another repcollapse process (pid $first holds 'busy/.lock')" \
  run "${L[@]}" --seed 2 --out busy
expect_error 1 "'busy' is being written by another repcollapse process (pid $first" figures --quick --out busy
expect_error 1 "'busy' is being written by another repcollapse process (pid $first" \
  sweep --grid 'seed=1:2' --classes 2 --per-class 5 --dim 2 --out busy
kill -0 "$first" 2>/dev/null && ok || bad "the first run did not survive the others"
wait "$first" && ok || bad "the first run failed"
# its outputs whole and its own (the refused commands wrote nothing)
[ "$(ls busy | tr '\n' ' ')" = "metrics.csv snapshots.h5 summary.json " ] && grep -q '"seed": "1"' busy/summary.json &&
  grep -q '"steps": "30000"' busy/summary.json && ok || bad "the first run's outputs: $(ls -A busy)"
no_temporaries busy
# many runs at once into one directory: each is refused or succeeds, and the directory
# then holds one run's complete outputs (all three files from the same run)
ROUNDS="1 2 3"
[ -n "${CRASH_QUICK:-}" ] && ROUNDS="1"   # the sanitizer build: one round
for round in $ROUNDS; do
  rm -rf same
  pids=()
  for s in 1 2 3 4 5 6; do
    "$RC" run "${L[@]}" --seed "$s" --out same >"out$s" 2>"err$s" &
    pids+=($!)
  done
  n_ok=0
  for k in 0 1 2 3 4 5; do
    wait "${pids[$k]}"
    rc=$?
    s=$((k + 1))
    if [ "$rc" -eq 0 ]; then
      n_ok=$((n_ok + 1))
    elif [ "$rc" -eq 1 ] && grep -q "'same' is being written by another repcollapse process (pid [0-9]* holds" "err$s" &&
      [ "$(wc -l <"err$s")" -eq 1 ]; then
      named=$(sed -n 's/.*(pid \([0-9]*\) holds.*/\1/p' "err$s")
      case " ${pids[*]} " in *" $named "*) ok ;; *) bad "round $round: refusal names pid $named, not one of ${pids[*]}" ;; esac
    else
      bad "round $round, run $s: exit $rc [$(cat "err$s")]"
    fi
  done
  [ "$n_ok" -ge 1 ] && ok || bad "round $round: every run was refused"
  seed=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["settings"]["seed"])' same/summary.json)
  cmp -s same/metrics.csv "ref$seed/metrics.csv" && cmp -s same/snapshots.h5 "ref$seed/snapshots.h5" && ok ||
    bad "round $round: summary.json of seed $seed beside metrics.csv or snapshots.h5 of another run"
  no_temporaries same
done

# ================= 2. thread counts from the environment =================
G=(--classes 2 --per-class 2000 --frustration 0.05 --dim 4 --integrator gd --dt 0.1 --steps 20 --points 5 --quiet)
"$RC" run "${G[@]}" --threads 1 --out thr1 >/dev/null
OMP_NUM_THREADS=100000 timeout 120 "$RC" run "${G[@]}" --out threnv >/dev/null 2>"$T/err" && cmp -s thr1/metrics.csv threnv/metrics.csv &&
  ok || bad "OMP_NUM_THREADS=100000: [$(cat "$T/err")]"
OMP_NUM_THREADS=100000 "$RC" bench --classes 2 --per-class 2000 --dim 4 --dt 0.1 --steps 5 2>/dev/null |
  grep -q '"threads": 4096' && ok || bad "OMP_NUM_THREADS is not capped at 4096 threads"
OMP_STACKSIZE=1000000G expect_error 2 "OMP_STACKSIZE=1000000G asks for a stack of .* per OpenMP thread, more than" \
  run "${G[@]}" --out thrstack
OPENBLAS_NUM_THREADS=100000 "$RC" run --classes 2 --per-class 10 --model siam-sg --integrator reduced --dim 3 --t-end 5 \
  --quiet --out blas >/dev/null && ok || bad "OPENBLAS_NUM_THREADS=100000"

# ================= 3. readers of user files =================
mkfifo fifo
mkdir adir
truncate -s 20G sparse.bin    # 20 GB of zeros, no disk used
head -c 3000000 /dev/zero | tr '\0' 7 >oneline.csv
start=$(date +%s)
expect_error 2 "cannot read observations file '/dev/zero': it is a character device, not a regular file" \
  data --observations /dev/zero
expect_error 2 "cannot read observations file 'fifo': it is a FIFO (named pipe), not a regular file" \
  spectrum --observations fifo
expect_error 2 "cannot read observations file 'adir': it is a directory" spectrum --observations adir
expect_error 2 "sparse.bin:1: binary data (NUL byte)" data --observations sparse.bin
expect_error 2 "oneline.csv:1: line longer than 65536 bytes" data --observations oneline.csv
expect_error 2 "cannot read config file '/dev/zero': it is a character device" run --config /dev/zero --out x
expect_error 2 "cannot read config file 'fifo': it is a FIFO" spectrum --config fifo
expect_error 2 "config file 'sparse.bin' is 21474836480 bytes: too large" spectrum --config sparse.bin
[ $(($(date +%s) - start)) -le 10 ] && ok || bad "the readers were not quick"
# valid observations beyond the memory budget: refused while reading, with the figures
yes 0,0 | head -c 40000000 >many.csv
echo 1,1 >>many.csv
REPCOLLAPSE_MEMORY_LIMIT=50M expect_error 1 "reading the observations of 'many.csv' (.* so far, line .*) needs about .* more than the 50 MB allowed" \
  data --observations many.csv
# a long comment line is fine, and so is a file given through /dev/stdin when it is a file
{ printf '# %s\n' "$(head -c 200000 /dev/zero | tr '\0' c)"; printf '0,0\n1,1\n2,0\n2,1\n'; } >comment.csv
"$RC" data --observations comment.csv | grep -q '"n_observations": 4' && ok || bad "a long comment line"
"$RC" data --observations /dev/stdin <comment.csv | grep -q '"n_frustrated": 1' && ok || bad "observations on /dev/stdin (a file)"
# a checkpoint that is a FIFO is refused, not waited for
mkdir -p ckfifo && mkfifo ckfifo/checkpoint.bin
timeout 10 "$RC" run --classes 2 --per-class 5 --dim 2 --integrator gd --dt 0.1 --steps 50 --checkpoint-every 1 --resume \
  --quiet --out ckfifo >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q "cannot read checkpoint 'ckfifo/checkpoint.bin': it is a FIFO" "$T/err" && [ -p ckfifo/checkpoint.bin ] &&
  ok || bad "a FIFO checkpoint: [$(cat "$T/err")]"

# ================= 4. signals with their default dispositions =================
D=(--classes 3 --per-class 20 --frustration 0.1 --pattern ring --dim 4 --t-end 50 --points 30 --quiet)
# SIGXFSZ under a file size limit: a named error and exit 1, no temporary (the caller did not ignore it)
limited() { (trap - XFSZ; ulimit -f "$1"; shift; exec "$RC" "$@"); }
for spec in "4|cannot write 'lim1/metrics.csv': File too large|run ${D[*]} --points 200 --out lim1" \
            "40|cannot write snapshot [0-9]* to 'lim2/snapshots.h5': File too large|run ${D[*]} --snapshots --out lim2" \
            "1|cannot write 'lim3.csv': File too large|data --classes 2 --per-class 500 --out lim3.csv"; do
  IFS='|' read -r blocks pat cmd <<<"$spec"
  limited "$blocks" $cmd >/dev/null 2>"$T/err"
  rc=$?
  [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q -- "$pat" "$T/err" && ok ||
    bad "ulimit -f $blocks, default SIGXFSZ: exit $rc [$(cat "$T/err")] for $cmd"
done
no_files lim1
no_files lim2
[ -z "$(ls lim3.csv* 2>/dev/null)" ] && ok || bad "data csv left: $(ls lim3.csv*)"
# a pipe whose reader is gone before anything is written (deterministic): a FIFO opened
# read-write, then write-only, then the read-write end closed, leaves no reader
mkfifo gone
exec 3<>gone 4>gone
exec 3<&-
"$RC" spectrum --classes 2 --per-class 5 >&4 2>"$T/err"
rc=$?
exec 4>&-
[ "$rc" -eq 1 ] && grep -q "cannot write to standard output: Broken pipe" "$T/err" && ok ||
  bad "stdout on a closed pipe: exit $rc [$(cat "$T/err")]"
# the everyday case, `... | head -c1`: the exit status of repcollapse, not of head (no pipefail needed)
set +o pipefail
"$RC" data --classes 2 --per-class 300000 --out /dev/stdout 2>"$T/err" | head -c1 >/dev/null
rc=${PIPESTATUS[0]}
[ "$rc" -eq 1 ] && grep -q "cannot write '/dev/stdout': Broken pipe" "$T/err" && ok ||
  bad "| head -c1: exit $rc [$(cat "$T/err")]"
# SIGTERM and SIGINT: this process's temporaries removed, a message, the signal's own exit status
"$RC" run "${L[@]}" --steps 200000 --out term >/dev/null 2>"$T/err" &
pid=$!
for _ in $(seq 1 500); do [ -n "$(ls term/*.tmp.* 2>/dev/null)" ] && break; sleep 0.01; done
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 143 ] && grep -q "repcollapse run: error: stopped by SIGTERM; this process's temporary files were removed" "$T/err" &&
  ok || bad "SIGTERM: exit $rc [$(cat "$T/err")]"
no_files term
/usr/bin/python3 - "$RC" "${L[@]}" --steps 200000 --out int <<'PY' && ok || bad "SIGINT"
import glob, signal, subprocess, sys, time
p = subprocess.Popen(sys.argv[1:2] + ["run"] + sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
for _ in range(500):
    if glob.glob("int/*.tmp.*"):
        break
    time.sleep(0.01)
p.send_signal(signal.SIGINT)
err = p.communicate()[1].decode()
assert p.returncode == -signal.SIGINT, (p.returncode, err)
assert "stopped by SIGINT; this process's temporary files were removed" in err, err
import os
assert os.listdir("int") == [], os.listdir("int")
PY

# a teacher-student run failing on its snapshots in a directory holding a former run's
# files: no summary.json is left claiming the directory complete (mixed with the old snapshots)
TS=(--task teacher-student --samples 50 --input-dim 200 --classes 2 --steps 20 --dt 0.1 --integrator gd --quiet)
"$RC" run "${TS[@]}" --snapshots --out tsdir >/dev/null || bad "teacher-student run"
limited 40 run "${TS[@]}" --snapshots --seed 2 --out tsdir >/dev/null 2>"$T/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "cannot write HDF5 file 'tsdir/snapshots.h5'" "$T/err" && [ ! -e tsdir/summary.json ] && ok ||
  bad "teacher-student run failing on snapshots: exit $rc [$(cat "$T/err")] left $(ls tsdir)"
no_temporaries tsdir

# ================= 5. figures written whole =================
# gnuplot under a file size limit: an error naming the figure, not a truncated file
rm -rf figlim
limited 40 figures --quick --out figlim >/dev/null 2>"$T/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "figlim/fig1_trajectories.png" "$T/err" && [ ! -e figlim/fig1_trajectories.png ] && ok ||
  bad "figures under ulimit -f: exit $rc [$(cat "$T/err")]"
no_temporaries figlim
# the same with SIGXFSZ ignored by the caller (so gnuplot's writes fail and it exits 0 over a truncated file)
rm -rf figlim
(trap '' XFSZ; ulimit -f 80; exec "$RC" figures --quick --out figlim) >/dev/null 2>"$T/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "figlim/fig1_trajectories.svg" "$T/err" && [ ! -e figlim/fig1_trajectories.svg ] && ok ||
  bad "figures under ulimit -f, SIGXFSZ ignored: exit $rc [$(cat "$T/err")] $(ls -l figlim/fig1* 2>&1)"
# a real full disk, where a tmpfs can be mounted: gnuplot exits 0 over a truncated SVG
mkdir -p "$T/full"
if mount -t tmpfs -o size=200k tmpfs "$T/full" 2>/dev/null; then
  MNT="$T/full"
  "$RC" figures --quick --out "$T/full/f" >/dev/null 2>"$T/err"
  rc=$?
  [ "$rc" -eq 1 ] && grep -q "cannot write '$T/full/f/fig1_trajectories.svg': gnuplot's output is truncated" "$T/err" &&
    [ ! -e "$T/full/f/fig1_trajectories.svg" ] && ok || bad "figures on a full disk: exit $rc [$(cat "$T/err")]"
  no_temporaries "$T/full"
  umount "$T/full" && MNT=""
else
  echo "note: cannot mount a tmpfs here; the full-disk figure test is skipped"
fi

# ================= 6. extreme learning-rate ratios =================
"$RC" spectrum --classes 2 --per-class 10 --frustration 0.1 --eta-x 1e10 >spec.json
/usr/bin/python3 - spec.json <<'PY' && ok || bad "spectrum at eta_x = 1e10: $(cat spec.json)"
import json, math, sys
s = json.load(open(sys.argv[1]))
ex, ey, n, F = 1e10, 1.0, 10, 2
root = math.sqrt((ex - ey) ** 2 + 4 * ex * ey * n / (n + F))
want = 2 * ex * ey * (F / (n + F)) / ((ex + ey) + root)
assert s["zero_modes"] == 1, s["zero_modes"]
assert abs(s["slow_rate"] - want) <= 1e-10 * want, (s["slow_rate"], want)
PY
"$RC" run --classes 2 --per-class 10 --frustration 0.1 --eta-x 1e10 --out ratio >ratio.out 2>&1 &&
  /usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert 10 < s["inputs"]["integration"]["t_end"] < 1000 and s["collapse_time"] is not None, s["inputs"]["integration"]' ratio/summary.json &&
  ok || bad "run at eta_x = 1e10: $(cat ratio.out)"
expect_error 2 "double precision cannot resolve it" spectrum --classes 2 --per-class 10 --frustration 0.1 --eta-x 1e10 --method group

# ================= 7. rk45 asked the impossible =================
start=$(date +%s)
expect_error 2 "\-\-rtol 1e-300 is below 1e-14: double precision cannot meet it" \
  run --classes 2 --per-class 5 --integrator rk45 --rtol 1e-300 --atol 1e-300 --out rk1
expect_error 2 "\-\-rtol 1e-15 is below 1e-14" run --classes 2 --per-class 5 --model siam-sg --integrator reduced --rtol 1e-15 --out rk2
[ $(($(date +%s) - start)) -le 5 ] && ok || bad "the rk45 refusal was not immediate"
R45="rk45 stopped at t = [0-9.e-]*, short of the recorded time [0-9.e-]*, having reached the --max-steps bound (50 steps); the step size was h = [0-9.e-]*: rtol = 1e-10, atol = 1e-12"
expect_error 1 "$R45" run --classes 2 --per-class 5 --frustration 0.1 --integrator rk45 --max-steps 50 --out rk3
expect_error 1 "$R45" run --classes 2 --per-class 5 --frustration 0.1 --model siam-sg --integrator reduced --max-steps 50 --out rk4
expect_error 1 "$R45" run --classes 2 --per-class 5 --frustration 0.1 --model siam-sg --integrator rk45 --max-steps 50 --out rk5
expect_error 2 "\-\-max-steps: expected a positive integer" run --classes 2 --per-class 5 --integrator rk45 --max-steps 0 --out rk6
"$RC" run --classes 2 --per-class 5 --frustration 0.1 --integrator rk45 --max-steps 5000 --out rk7 >/dev/null && ok ||
  bad "a bound the run stays within"
grep -q '"max_steps": 5000' rk7/summary.json && ok || bad "max_steps not in summary.json inputs"

# ================= 8. an INI line over 1 MiB =================
{ printf 'classes = 2\n; %s\n' "$(head -c 1500000 /dev/zero | tr '\0' x)"
  printf 'per-class = %s5\n' "$(head -c 2200000 /dev/zero | tr '\0' 0)"; } >long.ini
"$RC" spectrum --classes 2 --per-class 5 >want.json
"$RC" spectrum --config long.ini >got.json 2>"$T/err" && cmp -s want.json got.json && ok ||
  bad "an INI file with lines over 1 MiB: [$(head -c 300 "$T/err")]"
# a number has any number of digits, on the command line too (one number parser)
"$RC" spectrum --classes 2 --per-class "$(head -c 3000 /dev/zero | tr '\0' 0)5" --eta-x "$(head -c 3000 /dev/zero | tr '\0' 0)1.0" >got2.json 2>"$T/err" &&
  cmp -s want.json got2.json && ok || bad "numbers with 3000 leading zeros: [$(head -c 300 "$T/err")]"
printf 'classes = 2\nper-class = 5\nbogus%s = 1\n' "$(head -c 1200000 /dev/zero | tr '\0' y)" >longkey.ini
"$RC" spectrum --config longkey.ini >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q "longkey.ini:3: key 'bogusyyy" "$T/err" && ok || bad "a long unknown key: [$(head -c 300 "$T/err")]"

# ================= 9. a refused resume destroys nothing =================
K=(--classes 2 --per-class 300 --frustration 0.05 --dim 8 --integrator gd --dt 0.1 --steps 100000 --points 20
   --snapshots --checkpoint-every 50 --quiet --out ck)
"$RC" run "${K[@]}" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 3000); do [ -e ck/checkpoint.bin ] && break; sleep 0.01; done
sleep 0.3
kill -9 "$pid"
wait "$pid" 2>/dev/null
cp -r ck killed
jsize=$(stat -c %s killed/checkpoint.snapshots)
for damage in truncate flip; do
  rm -rf ck && cp -r killed ck
  if [ "$damage" = truncate ]; then
    truncate -s $((jsize / 2)) ck/checkpoint.snapshots
  else
    printf '\x55' | dd of=ck/checkpoint.snapshots bs=1 seek=$((jsize / 3)) conv=notrunc 2>/dev/null
  fi
  cp ck/checkpoint.snapshots journal.before
  "$RC" run "${K[@]}" --resume >/dev/null 2>"$T/err"
  rc=$?
  [ "$rc" -eq 2 ] && grep -q "snapshot journal 'ck/checkpoint.snapshots'" "$T/err" && ok ||
    bad "$damage journal: exit $rc [$(cat "$T/err")]"
  cmp -s ck/checkpoint.snapshots journal.before && cmp -s ck/checkpoint.bin killed/checkpoint.bin && ok ||
    bad "a refused resume ($damage journal) changed or removed $(ls ck)"
  # and a second attempt says the same, not "journal missing"
  "$RC" run "${K[@]}" --resume >/dev/null 2>"$T/err2"
  cmp -s "$T/err" "$T/err2" && ok || bad "second resume after a $damage journal: [$(cat "$T/err2")]"
done
# a checkpoint of other settings: both files kept too
rm -rf ck && cp -r killed ck
"$RC" run "${K[@]}" --seed 5 --resume >/dev/null 2>"$T/err"
[ $? -eq 2 ] && cmp -s ck/checkpoint.snapshots killed/checkpoint.snapshots && cmp -s ck/checkpoint.bin killed/checkpoint.bin &&
  ok || bad "a refused resume (other settings) changed the files: [$(cat "$T/err")]"

finish
