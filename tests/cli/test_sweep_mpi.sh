#!/usr/bin/env bash
# test_sweep_mpi.sh: `repcollapse sweep` under mpirun: two ranks share the
# points (both run some) and write the same sweep.csv, byte for byte, as one
# process; with --jobs 2 per rank too. Added to ctest only when the build found
# MPI. Usage: test_sweep_mpi.sh path/to/repcollapse path/to/mpirun
set -u
RC="$1"
MPIRUN="$2"
source "$(dirname "$0")/lib.sh"

# CI runs as root, which OpenMPI refuses unless told.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Under AddressSanitizer: OpenMPI's own allocations outlive MPI_Finalize in
# plugins it has unloaded, which LeakSanitizer cannot attribute or suppress;
# leaks of the sweep itself are checked by cli_sweep (without MPI).
[ -n "${ASAN_OPTIONS+x}" ] && export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"

GRID='frustration=0,0.05,0.1;seed=1:3;model=minimal,siam-sg'
F=(--classes 2 --per-class 20 --dim 3 --integrator rk45 --t-end 60 --points 15)
"$RC" sweep --grid "$GRID" "${F[@]}" --out "$T/one" >"$T/out" 2>&1 || bad "single-process sweep: $(cat "$T/out")"
"$MPIRUN" --oversubscribe -np 2 "$RC" sweep --grid "$GRID" "${F[@]}" --out "$T/mpi" >"$T/out" 2>&1
[ $? -eq 0 ] && ok || bad "mpirun -np 2 failed: $(cat "$T/out")"
grep -q "18 points (18 run now by 2 of 2 MPI ranks, 0 resumed)" "$T/out" && ok || bad "not shared by both ranks: $(cat "$T/out")"
[ "$(grep -c 'sweep.csv' "$T/out")" -eq 1 ] && ok || bad "more than one rank reported: $(cat "$T/out")"
cmp -s "$T/mpi/sweep.csv" "$T/one/sweep.csv" && ok || bad "2 MPI ranks differ from one process"
"$MPIRUN" --oversubscribe -np 2 "$RC" sweep --grid "$GRID" "${F[@]}" --jobs 2 --out "$T/mpijobs" >"$T/out" 2>&1
cmp -s "$T/mpijobs/sweep.csv" "$T/one/sweep.csv" && ok || bad "2 MPI ranks x --jobs 2 differ from one process: $(cat "$T/out")"
# resumed under MPI: nothing left to run
"$MPIRUN" --oversubscribe -np 2 "$RC" sweep --grid "$GRID" "${F[@]}" --out "$T/mpi" >"$T/out" 2>&1
grep -q "18 points (0 run now, 18 resumed)" "$T/out" && cmp -s "$T/mpi/sweep.csv" "$T/one/sweep.csv" && ok || bad "MPI resume: $(cat "$T/out")"
# a bad grid under MPI: one error line (rank 0's), exit code 2
"$MPIRUN" --oversubscribe -np 2 "$RC" sweep --grid 'seed=5:1' "${F[@]}" --out "$T/bad" >"$T/out" 2>"$T/err"
grep -c "repcollapse sweep: error: --grid: axis 'seed': empty range" "$T/err" | grep -qx 1 && ok || bad "MPI bad grid: $(cat "$T/err")"
[ ! -e "$T/bad" ] && ok || bad "MPI bad grid left a directory"

finish
