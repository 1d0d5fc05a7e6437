#!/usr/bin/env bash
# test_ts_defects.sh: the teacher-student task's defects of issue 10, each as
# a regression test: experiment-file keys, non-finite metrics, outputs after a
# failed snapshots.h5, the file-size limit, checkpoints, summary.json as
# --config, --help, sweeps.
# Usage: test_ts_defects.sh path/to/repcollapse
set -u
RC=$(realpath "$1")
source "$(dirname "$0")/lib.sh"

TS="run --task teacher-student --samples 20 --input-dim 80 --dim 4 --integrator gd --dt 0.1 --steps 50 --quiet"
cd "$T" || exit 1

# 1. every key of an experiment file is read, the task's own options too: the file and the flags give the same run
printf 'classes = 3\nfrustration = 0.2\ndata-seed = 5\nprecision = f32\n' >exp.ini
if "$RC" $TS --config exp.ini --out ini >/dev/null 2>err1 &&
  "$RC" $TS --classes 3 --frustration 0.2 --data-seed 5 --precision f32 --out flags >/dev/null 2>>err1; then
  if cmp -s ini/metrics.csv flags/metrics.csv; then ok; else bad "INI keys of the task ignored (metrics differ from the flags')"; fi
  grep -q '"classes": 3' ini/summary.json && ok || bad "INI classes = 3 not in summary.json"
else
  bad "INI or flags run failed: $(cat err1)"
fi

# 2. non-finite metrics stop the run with an error (exit 1), no metrics.csv passed off as whole
expect_error 1 "non-finite" $TS --sigma 1e200 --out nan
[ ! -e nan/metrics.csv ] && [ ! -e nan/summary.json ] && ok || bad "--sigma 1e200 left outputs: $(ls nan 2>/dev/null)"

# 3. a failed snapshots.h5 write leaves no metrics.csv or summary.json looking like a complete run
mkdir -p snapdir/snapshots.h5
"$RC" $TS --snapshots --out snapdir >/dev/null 2>err3
rc=$?
[ "$rc" -eq 1 ] && ok || bad "failed snapshots.h5: exit $rc [$(cat err3)]"
[ ! -e snapdir/metrics.csv ] && [ ! -e snapdir/summary.json ] && ok || bad "failed snapshots.h5 left $(ls snapdir)"

# 4. a file-size limit hit by snapshots.h5: a one-line error and exit 1, no crash in HDF5's shutdown
for L in 40 100; do
  rm -rf fsz
  (
    trap '' XFSZ
    ulimit -f $L
    exec "$RC" $TS --snapshots --steps 500 --out fsz
  ) >/dev/null 2>err4
  rc=$?
  [ "$rc" -eq 1 ] && ok || bad "file-size limit $L blocks: exit $rc [$(cat err4)]"
  [ "$(wc -l <err4)" -eq 1 ] && ok || bad "file-size limit $L blocks: $(wc -l <err4) stderr lines"
  [ ! -e fsz/summary.json ] && ok || bad "file-size limit $L: summary.json left behind"
done

# 5. --checkpoint-every and --resume are no longer accepted and ignored: the task checkpoints and resumes
#    (kill -9 and resume bit for bit: test_resume.sh's enc-* modes); a finished run leaves no checkpoint and
#    gives the un-checkpointed run's metrics.csv; f32 gd refuses them before any work, nothing written
"$RC" $TS --out plain >/dev/null 2>&1 && "$RC" $TS --checkpoint-every 0.5 --out ck >/dev/null 2>&1 &&
  cmp -s plain/metrics.csv ck/metrics.csv && [ ! -e ck/checkpoint.bin ] && [ ! -e ck/checkpoint.snapshots ] && ok ||
  bad "a checkpointed run differs from the plain one or left its checkpoint: $(ls -A ck)"
"$RC" $TS --resume --out ck2 >/dev/null 2>&1 && cmp -s plain/metrics.csv ck2/metrics.csv && ok ||
  bad "--resume without a checkpoint did not start afresh"
expect_error 2 "not for --precision f32" $TS --precision f32 --checkpoint-every 5 --out ckf
expect_error 2 "not for --precision f32" $TS --precision f32 --resume --out ckf
[ ! -e ckf ] && ok || bad "a refused checkpointed run left $(ls ckf)"
expect_error 2 "--out DIR is required" $TS --checkpoint-every 5

# 6. summary.json reruns the run through --config
if "$RC" $TS --frustration 0.1 --model siam-sg --out first >/dev/null 2>err6 &&
  "$RC" run --config first/summary.json --quiet --out again >/dev/null 2>>err6; then
  cmp -s first/metrics.csv again/metrics.csv && ok || bad "summary.json --config reran a different run"
else
  bad "summary.json not readable by --config: $(cat err6)"
fi

# 7. --help: no line twice, and only the integrators the task runs
"$RC" run --task teacher-student --help >help.txt 2>&1
dups=$(grep -E '^  --' help.txt | awk '{print $1}' | sort | uniq -d)
[ -z "$dups" ] && ok || bad "--help lists twice: $dups"
if grep -E '^  --integrator' help.txt | grep -q -E 'exact|reduced'; then bad "--help offers integrators the task refuses"; else ok; fi

# 8. sweepable like any option: the task's own options as grid axes, and --task itself
if "$RC" sweep --grid 'frustration=0,0.1;model=minimal,siam-sg' --task teacher-student --samples 20 --input-dim 80 \
  --dim 4 --integrator gd --dt 0.1 --steps 50 --quiet --out sw >/dev/null 2>err8; then
  [ "$(($(wc -l <sw/sweep.csv) - 1))" -eq 4 ] && ok || bad "sweep: $(wc -l <sw/sweep.csv) lines"
  # a point equals the same run made alone
  "$RC" $TS --frustration 0.1 --model siam-sg --out alone >/dev/null 2>&1
  found=0
  for p in sw/points/*/metrics.csv; do cmp -s "$p" alone/metrics.csv && found=1; done
  [ "$found" -eq 1 ] && ok || bad "no sweep point equals the run made alone"
else
  bad "teacher-student sweep failed: $(cat err8)"
fi
if "$RC" sweep --grid 'task=teacher-student' --samples 20 --input-dim 80 --dim 4 --integrator gd --dt 0.1 --steps 50 \
  --quiet --out swt >/dev/null 2>err9; then ok; else bad "--task as a grid axis: $(cat err9)"; fi

finish
