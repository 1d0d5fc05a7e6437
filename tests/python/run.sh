#!/usr/bin/env bash
# The Python package's tests, from a build tree: install the library into
# BUILD/prefix, (re)build the package into the venv BUILD/venv (scripts/venv.sh),
# then either the pytest suite (python/tests) or the notebook
# examples/quickstart.ipynb executed headless with nbconvert in that venv.
#   run.sh BUILD_DIR pytest|notebook
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$1" && pwd)
# one installer at a time (ctest runs the two tests in parallel)
exec 9>"$BUILD/.python-env.lock"
flock 9
cmake --install "$BUILD" --prefix "$BUILD/prefix" >/dev/null
bash "$SRC/scripts/venv.sh" "$BUILD/prefix" "$BUILD/venv" >/dev/null
flock -u 9
PY=$BUILD/venv/bin/python
export JUPYTER_PREFER_ENV_PATH=1 # the venv's kernel before any in ~/.local/share/jupyter
cd "$BUILD"
case $2 in
  pytest) exec "$PY" -m pytest -q -p no:cacheprovider "$SRC/python/tests" ;;
  notebook)
    rm -rf "$BUILD/notebook" && mkdir -p "$BUILD/notebook"
    exec "$PY" -m nbconvert --to notebook --execute --ExecutePreprocessor.timeout=600 \
      --output-dir "$BUILD/notebook" "$SRC/examples/quickstart.ipynb" ;;
  *) echo "run.sh: pytest or notebook" >&2; exit 2 ;;
esac
