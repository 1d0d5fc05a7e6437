# testlib.sh: helpers of the CLI shell tests (sourced): pass/fail
# counters and expect_error. Needs RC (the repcollapse binary) and T (a
# scratch directory).
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect_error CODE PATTERN args...: exit code CODE, one stderr line matching PATTERN.
expect_error() {
  local code="$1" pat="$2"
  shift 2
  "$RC" "$@" >"$T/out" 2>"$T/err"
  local rc=$?
  if [ "$rc" -ne "$code" ]; then bad "exit $rc (want $code): $*  [$(head -c 300 "$T/err")]"; return; fi
  if [ "$(wc -l <"$T/err")" -ne 1 ]; then bad "not one stderr line: $*  [$(cat "$T/err")]"; return; fi
  if ! grep -q -- "$pat" "$T/err"; then bad "stderr lacks '$pat': $*  [$(cat "$T/err")]"; return; fi
  ok
}

# summary NAME: the counts, and the exit status of the test.
summary() {
  echo "$1: $pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
