#!/usr/bin/env bash
# test_resume.sh: a run killed with SIGKILL and continued with --resume gives
# the files of a run never interrupted, bit for bit (metrics.csv,
# snapshots.h5, summary.json but for wall_seconds), for one integrator or one
# optimizer of the one engine (engine-*: momentum buffers, Adam moments and
# step count, the shuffle position and the EMA copies are in the checkpoint;
# engine-flow: rk45 with weight decay and EMA targets); and resuming refuses
# a checkpoint of other settings, a damaged checkpoint or a missing journal.
# enc-*: encoder runs (run_encoder.c): the linear encoder's plain gd (its own
# daxpy loop), adam with minibatches, rk45, and the mlp's plain gd; their
# journal also keeps each row's test_accuracy, so metrics.csv is whole.
# Usage: test_resume.sh path/to/repcollapse gd|rk45|exact|engine-OPTIMIZER|engine-flow|enc-linear-gd|enc-linear-adam|enc-linear-rk45|enc-mlp-gd
set -u
RC="$1"
MODE="$2"
source "$(dirname "$0")/lib.sh"

case "$MODE" in
  gd) ARGS=(--classes 4 --per-class 250 --frustration 0.05 --dim 16 --integrator gd --dt 0.1 --steps 30000
            --points 40 --snapshots --checkpoint-every 200) ;;
  rk45) ARGS=(--classes 4 --per-class 500 --frustration 0.05 --dim 8 --integrator rk45 --t-end 1000
              --points 200 --snapshots --checkpoint-every 20) ;;
  exact) ARGS=(--classes 4 --per-class 1000 --frustration 0.05 --dim 8 --t-end 1500 --points 2500
               --checkpoint-every 25) ;;
  engine-gd) ARGS=(--classes 4 --per-class 250 --frustration 0.05 --dim 8 --integrator gd --dt 0.02 --steps 12000
                  --points 40 --optimizer gd --batch 158 --snapshots --checkpoint-every 4) ;;
  engine-momentum|engine-nesterov|engine-adam|engine-adamw)
    ARGS=(--classes 4 --per-class 250 --frustration 0.05 --dim 8 --model siam-sg --integrator gd --dt 0.02
          --steps 8000 --points 40 --optimizer "${MODE#engine-}" --momentum 0.5 --weight-decay 0.001 --batch 158
          --ema 0.9 --snapshots --checkpoint-every 4) ;;
  engine-flow) ARGS=(--classes 4 --per-class 250 --frustration 0.05 --dim 8 --model siam-sg --integrator rk45
                     --t-end 300 --points 150 --weight-decay 0.001 --ema-rate 5 --snapshots --checkpoint-every 4) ;;
  enc-linear-gd) ARGS=(--task teacher-student --encoder linear --samples 60 --input-dim 300 --dim 8 --frustration 0.1
                      --integrator gd --dt 0.05 --steps 40000 --points 40 --snapshots --checkpoint-every 20) ;;
  enc-linear-adam) ARGS=(--task teacher-student --encoder linear --samples 60 --input-dim 300 --dim 8 --frustration 0.1
                        --integrator gd --dt 0.01 --steps 20000 --points 40 --optimizer adam --batch 20 --snapshots
                        --checkpoint-every 2) ;;
  enc-linear-rk45) ARGS=(--task teacher-student --encoder linear --samples 60 --input-dim 300 --dim 8 --frustration 0.1
                        --integrator rk45 --t-end 2000 --points 200 --snapshots --checkpoint-every 20) ;;
  enc-mlp-gd) ARGS=(--encoder mlp --inputs fashion-mnist --per-class 5 --hidden 16 --dim 4 --test-samples 100
                   --integrator gd --dt 5e-4 --t-end 4 --points 40 --snapshots --checkpoint-every 0.05) ;;
  *) echo "unknown mode $MODE"; exit 2 ;;
esac
ARGS+=(--quiet --out run)   # the same relative --out in two directories: the same command line

# the reference: uninterrupted, in directory A
mkdir -p "$T/A" "$T/B"
(cd "$T/A" && "$RC" run "${ARGS[@]}" >/dev/null) || bad "reference run failed"
[ -e "$T/A/run/checkpoint.bin" ] && bad "a finished run left its checkpoint" || ok

# the same command in directory B, killed with SIGKILL once a checkpoint exists
cd "$T/B"
"$RC" run "${ARGS[@]}" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 3000); do
  [ -e run/checkpoint.bin ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.01
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
status=$?
if [ "$status" -ne 137 ] || [ -e run/metrics.csv ]; then
  bad "the run was not interrupted mid-way (exit $status): make it longer"
  finish
  exit 1
fi
ok
cp -r run "$T/killed"   # kept for the refusals below

# the same command with --resume continues it
"$RC" run "${ARGS[@]}" --resume >"$T/resume.out" 2>"$T/resume.err" || bad "resume failed: $(cat "$T/resume.err")"
grep -q "resumed from the checkpoint at t=[0-9]" "$T/resume.out" && ok || bad "did not resume: $(cat "$T/resume.out")"
cmp -s run/metrics.csv "$T/A/run/metrics.csv" && ok || bad "metrics.csv differs after resume"
if [ "$MODE" != exact ]; then
  cmp -s run/snapshots.h5 "$T/A/run/snapshots.h5" && ok || bad "snapshots.h5 differs after resume"
  /usr/bin/python3 - run/snapshots.h5 "$T/A/run/snapshots.h5" "$MODE" <<'PY' && ok || bad "snapshots.h5 content differs"
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
assert sorted(a.keys()) == sorted(b.keys())
if sys.argv[3].startswith("enc-"):  # every parameter block by name, the inputs, t and step
    assert {"t", "step", "labels", "inputs"} <= set(a.keys()), sorted(a.keys())
else:
    assert set(a.keys()) - {"head"} == {"labels", "observation_label", "observation_sample", "sample_label", "samples", "step", "t"}
for k in a.keys():
    assert np.array_equal(a[k][()], b[k][()]), k
assert len(a["t"]) > 1
assert dict(a.attrs) == dict(b.attrs)
PY
fi
/usr/bin/python3 - run/summary.json "$T/A/run/summary.json" <<'PY' && ok || bad "summary.json differs beyond wall_seconds"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a.pop("wall_seconds") > 0 and b.pop("wall_seconds") > 0
assert a == b, [k for k in a if a[k] != b.get(k)]
PY
left=$(ls -A run | sort | tr '\n' ' ')
want="metrics.csv summary.json "
[ "$MODE" != exact ] && want="metrics.csv snapshots.h5 summary.json "
[ "$left" = "$want" ] && ok || bad "files left after resume: $left"

# ---- refusals: each leaves the checkpoint in place ----
expect_refusal() { # CODE PATTERN args...
  local code="$1" pat="$2"
  shift 2
  rm -rf run && cp -r "$T/killed" run
  "$RC" run "$@" >"$T/out" 2>"$T/err"
  local rc=$?
  [ "$rc" -eq "$code" ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q -- "$pat" "$T/err" && [ -e run/checkpoint.bin ] &&
    [ ! -e run/metrics.csv ] && ok || bad "exit $rc (want $code), [$(cat "$T/err")] for: $*"
}
expect_refusal 2 "other settings" "${ARGS[@]}" --seed 2 --resume
expect_refusal 2 "other settings" "${ARGS[@]}" --eps 0.02 --resume
case "$MODE" in # the optimizer's settings are part of the run's identity
  engine-flow) expect_refusal 2 "other settings" "${ARGS[@]}" --ema-rate 6 --resume ;;
  enc-linear-adam) expect_refusal 2 "other settings" "${ARGS[@]}" --batch 21 --resume ;;
  enc-mlp-gd) expect_refusal 2 "other settings" "${ARGS[@]}" --activation tanh --resume ;;
  engine-*) expect_refusal 2 "other settings" "${ARGS[@]}" --batch 79 --resume
            expect_refusal 2 "other settings" "${ARGS[@]}" --batch-seed 9 --resume ;;
esac
rm -rf run && cp -r "$T/killed" run
size=$(stat -c %s "$T/killed/checkpoint.bin")
head -c $((size - 9)) "$T/killed/checkpoint.bin" >"$T/truncated.bin"
cp "$T/killed/checkpoint.bin" "$T/flipped.bin"
printf '\x55' | dd of="$T/flipped.bin" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
for f in truncated flipped; do
  rm -rf run && cp -r "$T/killed" run && cp "$T/$f.bin" run/checkpoint.bin
  "$RC" run "${ARGS[@]}" --resume >"$T/out" 2>"$T/err"
  [ $? -eq 2 ] && grep -q "is damaged" "$T/err" && ok || bad "$f checkpoint: $(cat "$T/err")"
done
if [ "$MODE" != exact ]; then
  rm -rf run && cp -r "$T/killed" run && rm run/checkpoint.snapshots
  "$RC" run "${ARGS[@]}" --resume >"$T/out" 2>"$T/err"
  [ $? -eq 1 ] && grep -q "journal .* is missing" "$T/err" && ok || bad "missing journal: $(cat "$T/err")"
fi
# without --resume the same command starts afresh, and also ends identical
rm -rf run && cp -r "$T/killed" run
"$RC" run "${ARGS[@]}" >"$T/out" 2>&1 && ! grep -q resumed "$T/out" && cmp -s run/metrics.csv "$T/A/run/metrics.csv" &&
  [ ! -e run/checkpoint.bin ] && ok || bad "a fresh run over a checkpoint: $(cat "$T/out")"

finish
