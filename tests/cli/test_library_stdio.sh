#!/usr/bin/env bash
# The library prints nothing and never exits by itself: no code under src/
# but main.c writes to stdout or stderr directly (the commands write through
# cli_stdout() and cli_stderr(), which rc_command points at the caller), and
# the only exit() is a forked sweep worker's, which happens in the
# executable's sweeps only (under rc_command a sweep never forks).
#   test_library_stdio.sh SOURCE_DIR
set -u
cd "$1"
hits=$(grep -rnE '(^|[^a-z_])(printf|puts|putchar|perror)\(|[(,] *(stdout|stderr) *[,)]|(^|[^a-z_])(exit|abort|_Exit|quick_exit)\(' \
         src --include=*.c --include=*.h |
       grep -vE '^[^:]+:[0-9]+: *(/\*|\*)' |                       # comments
       grep -vE '^src/cli/main\.c:' |                               # the executable
       grep -vE '^src/cli/sweep_pool\.c:[0-9]+: +exit\(rc\);' |     # a forked worker of the executable's sweep
       grep -vE '^src/cli/cli_io\.c:' || true)
if [ -n "$hits" ]; then
  echo "FAIL: direct stdout/stderr or exit in the library (write through cli_stdout()/cli_stderr(), return a status):"
  echo "$hits"
  exit 1
fi
echo "ok: the library writes through cli_stdout()/cli_stderr() and does not exit"
