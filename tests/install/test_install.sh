#!/usr/bin/env bash
# The installed library: `cmake --install` into a temporary prefix, then the
# examples (a C and a C++ program) built against that tree with pkg-config
# (shared, and static with --static) and with CMake's find_package (shared and
# static), run, and their output compared with the installed CLI's for the
# same options; every public header compiles as C++ and has extern "C" guards.
#   test_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

P=$T/prefix
cmake --install "$BUILD" --prefix "$P" >/dev/null
for f in bin/repcollapse lib/librepcollapse.a lib/pkgconfig/repcollapse.pc lib/cmake/repcollapse/repcollapseConfig.cmake \
         include/repcollapse/command.h include/repcollapse/repcollapse.h; do
  [ -e "$P/$f" ] || fail "not installed: $f"
done
soname=$(objdump -p "$P"/lib/librepcollapse.so | awk '/SONAME/ {print $2}')
[ "$soname" = librepcollapse.so.0 ] && ok "SONAME $soname" || fail "SONAME '$soname'"
[ -L "$P/lib/librepcollapse.so" ] && [ -e "$P/lib/librepcollapse.so.0" ] || fail "librepcollapse.so and .so.0 links"
# the library installs no signal handlers and never exits: no sigaction, signal or exit in its imports
# (a forked sweep worker's exit is in the executable's code paths only: see sweep_pool.c)
for sym in signal sigaction; do
  nm -D --undefined-only "$P/lib/librepcollapse.so" | grep -qw "$sym" && fail "the library imports $sym"
done
# it exports the public API (rc_*) and nothing else
others=$(nm -D --defined-only "$P/lib/librepcollapse.so" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^rc_' | grep -v '^REPCOLLAPSE_' || true)
[ -z "$others" ] && ok "exports rc_* only" || fail "exports more than rc_*: $(echo $others | head -c 200)"
CLI=$P/bin/repcollapse

# every public header compiles as C++ on its own, and declares its functions extern "C"
for h in "$P"/include/repcollapse/*.h; do
  name=repcollapse/$(basename "$h")
  printf '#include <%s>\n' "$name" >"$T/h.cpp"
  g++ -std=c++17 -Wall -Wextra -Werror -pedantic -fsyntax-only -I"$P/include" $(PKG_CONFIG_PATH=$P/lib/pkgconfig pkg-config --cflags repcollapse) "$T/h.cpp" 2>"$T/h.err" \
    || fail "$name does not compile as C++: $(head -3 "$T/h.err")"
  grep -q 'extern "C" {' "$h" || fail "$name has no extern \"C\" guard"
done
ok "public headers as C++"

export PKG_CONFIG_PATH=$P/lib/pkgconfig
mkdir -p "$T/pc"
cc -std=c11 -Wall -Werror "$SRC/examples/spectrum.c" $(pkg-config --cflags --libs repcollapse) -Wl,-rpath,"$P/lib" -o "$T/pc/spectrum"
c++ -std=c++17 -Wall -Werror "$SRC/examples/run.cpp" $(pkg-config --cflags --libs repcollapse) -Wl,-rpath,"$P/lib" -o "$T/pc/run"
# static: the archive and what `pkg-config --libs --static` says it needs
static_libs=$(pkg-config --libs --static repcollapse | sed 's/-lrepcollapse\b//')
cc -std=c11 -Wall -Werror "$SRC/examples/spectrum.c" $(pkg-config --cflags repcollapse) "$P/lib/librepcollapse.a" $static_libs -o "$T/pc/spectrum_static"
c++ -std=c++17 -Wall -Werror "$SRC/examples/run.cpp" $(pkg-config --cflags repcollapse) "$P/lib/librepcollapse.a" $static_libs -o "$T/pc/run_static"
ldd "$T/pc/spectrum_static" | grep -q librepcollapse && fail "spectrum_static loads librepcollapse.so"
ok "built with pkg-config"
cmake -S "$SRC/examples" -B "$T/cm" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$T/cm" >/dev/null
ok "built with find_package(repcollapse)"

OPTS=(--classes 2 --per-class 50 --frustration 0.1)
TABLE=(classes=2 per_class=50 frustration=0.1)
"$CLI" spectrum "${OPTS[@]}" >"$T/cli_spectrum.json"
RUNOPTS=(--classes 2 --per-class 60 --frustration 0.05 --dim 4 --integrator gd --dt 0.05 --steps 400)
RUNTABLE=(classes=2 per_class=60 frustration=0.05 dim=4 integrator=gd dt=0.05 steps=400)
mkdir -p "$T/clirun" && (cd "$T/clirun" && "$CLI" run "${RUNOPTS[@]}" --out out >"$T/cli_run.txt")
"$CLI" spectrum --classes x --per-class 5 >/dev/null 2>"$T/cli_bad.txt" && fail "CLI accepted --classes x" || cli_bad_rc=$?

for exe in pc/spectrum pc/spectrum_static cm/spectrum cm/spectrum_static; do
  "$T/$exe" "${TABLE[@]}" >"$T/out.txt"
  n=$(wc -l <"$T/cli_spectrum.json")
  head -n "$n" "$T/out.txt" | cmp -s - "$T/cli_spectrum.json" && ok "$exe: the CLI's JSON, byte for byte" || fail "$exe: JSON differs from the CLI's"
  /usr/bin/python3 - "$T/cli_spectrum.json" "$T/out.txt" <<'PY' && ok "$exe: slow_rate from the structs" || fail "$exe: slow_rate from the structs differs"
import json, sys
want = json.load(open(sys.argv[1]))["slow_rate"]
got = float(open(sys.argv[2]).read().split("slow_rate ")[-1])
sys.exit(0 if got == want else 1)
PY
  rc=0
  "$T/$exe" classes=x per_class=5 >/dev/null 2>"$T/bad.txt" || rc=$?
  [ "$rc" = "$cli_bad_rc" ] && cmp -s "$T/bad.txt" "$T/cli_bad.txt" && ok "$exe: the CLI's error and status ($rc)" \
    || fail "$exe: bad input gave status $rc and '$(cat "$T/bad.txt")' (CLI: $cli_bad_rc, '$(cat "$T/cli_bad.txt")')"
done
for exe in pc/run pc/run_static cm/run; do
  d=$T/run_$(echo "$exe" | tr / _)
  mkdir -p "$d"
  (cd "$d" && "$T/$exe" out "${RUNTABLE[@]}" >"$d/stdout.txt" 2>"$d/stderr.txt")
  head -n 1 "$d/stdout.txt" | cmp -s - "$T/cli_run.txt" && ok "$exe: the CLI's result line" || fail "$exe: result line '$(head -1 "$d/stdout.txt")' vs '$(cat "$T/cli_run.txt")'"
  cmp -s "$d/out/metrics.csv" "$T/clirun/out/metrics.csv" && ok "$exe: metrics.csv equals the CLI's" || fail "$exe: metrics.csv differs"
  grep -q "metrics.csv: $(($(wc -l <"$T/clirun/out/metrics.csv") - 1)) rows" "$d/stdout.txt" || fail "$exe: row count"
  grep -q "progress reports: [1-9]" "$d/stderr.txt" && ok "$exe: progress callback called" || fail "$exe: no progress reports"
done
echo "$fails failed"
[ "$fails" = 0 ]
