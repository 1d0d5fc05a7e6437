# cli_lib.sh: helpers shared by the CLI tests (sourced after RC="$1"): a
# temporary directory $T removed on exit, pass/fail counters, and expect_error.
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
