#!/usr/bin/env bash
# The Python package's environment, idempotently: a venv that sees Debian's
# NumPy and matplotlib (--system-site-packages), the package built with pip
# against the repcollapse library installed under PREFIX (found by pkg-config
# in PREFIX/lib/pkgconfig), and a Jupyter kernel that runs the venv's python.
#   bash scripts/venv.sh PREFIX VENV      e.g.  bash scripts/venv.sh /usr/local venv
# Offline: setuptools and wheel are Debian's (python3-setuptools, python3-wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=$1
VENV=$2
[ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$VENV"
PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
  "$VENV/bin/pip" install --quiet --no-build-isolation --no-index --no-deps --force-reinstall ./python
rm -rf python/build python/*.egg-info # setuptools' scratch, not part of the tree
"$VENV/bin/python" -m ipykernel install --sys-prefix >/dev/null 2>&1
"$VENV/bin/python" -c 'import repcollapse; print("repcollapse", repcollapse.__version__, "in", repcollapse.__file__)'
