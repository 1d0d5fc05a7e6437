#!/usr/bin/env bash
# test_valgrind.sh: representative CLI commands, small sizes, under valgrind
# memcheck: no memory error and no definite leak, on success and on error
# paths alike. Registered in the release build only (the ASan + UBSan build
# checks the same code another way). Usage: test_valgrind.sh path/to/repcollapse
set -u
RC="$1"
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
cd "$T"
export OPENBLAS_NUM_THREADS=1
VG=(valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --suppressions="$HERE/../valgrind.supp")
# vg CODE args...: the command exits with CODE under valgrind (99: valgrind found something)
vg() {
  local code="$1"
  shift
  (if [ -n "${LIMIT:-}" ]; then trap '' XFSZ; ulimit -f "$LIMIT"; fi; exec "${VG[@]}" "$RC" "$@") >"$T/out" 2>"$T/err"
  local rc=$?
  if [ "$rc" -eq "$code" ]; then
    ok
  else
    bad "(exit $rc, want $code): $*"
    head -40 "$T/err"
  fi
}
printf '[data]\nclasses = 3\nper_class = 8\nfrustrated = 0-1:2,1-2:1\n[init]\ndim = 3\n[run]\nintegrator = rk45\nt-end = 20\npoints = 8\n' >exp.ini
vg 0 spectrum --classes 3 --per-class 10 --frustration 0.1 --pattern ring --dim 4
vg 0 spectrum --classes 3 --per-class 10 --frustration 0.1 --pattern random --rates uniform --method group
vg 0 data --classes 3 --per-class 4 --frustrated 0-1:2 --out obs.csv
vg 0 run --observations obs.csv --dim 3 --t-end 10 --points 8 --snapshots --quiet --out r1
vg 0 run --config exp.ini --quiet --out r2
vg 0 run --config r2/summary.json --quiet --out r3
vg 0 run --classes 2 --per-class 6 --frustration 0.1 --dim 2 --integrator gd --dt 0.1 --steps 200 --points 6 \
  --snapshots --checkpoint-every 2 --quiet --out r4
# error paths must not leak either
printf 'classes = 3\nper-class = x\n' >bad.ini
vg 2 run --config bad.ini --out r5
vg 2 run --classes 2 --per-class 5 --bogus --out r5
printf '0,0\n1,one\n' >bad.csv
vg 2 spectrum --observations bad.csv
vg 1 run --classes 2 --per-class 5 --dim 1 --sigma 1e308 --integrator rk45 --times 1,2 --quiet --out r6
vg 1 run --classes 2 --per-class 5 --dim 2 --quiet --out obs.csv
LIMIT=4 vg 1 run --classes 2 --per-class 5 --dim 2 --points 100 --snapshots --quiet --out r7   # a full disk
finish
