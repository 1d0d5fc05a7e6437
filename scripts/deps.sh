#!/usr/bin/env bash
# Installs, idempotently, the Debian packages repcollapse needs to build, test and plot.
# Safe to run repeatedly: it only calls apt-get when a package is missing.
#   bash scripts/deps.sh          what building and the test suite need
#   bash scripts/deps.sh --fuzz   also clang-14 and libFuzzer (bench/fuzz/run.sh)
set -euo pipefail
PKGS=(build-essential cmake pkg-config git
      libgsl-dev libopenblas-dev liblapacke-dev libhdf5-dev libjansson-dev
      libinih-dev libcmocka-dev gnuplot-nox
      python3-numpy python3-h5py python3-scipy valgrind)
# the C++ example, and the Python package (a C extension; setuptools and wheel for pip
# --no-build-isolation, offline), its tests and the notebook (nbconvert with an ipykernel)
PKGS+=(g++ python3-dev python3-venv python3-setuptools python3-wheel python3-pytest python3-matplotlib
       jupyter-nbconvert python3-ipykernel)
# MPI: optional for the build; `repcollapse sweep` shares points among ranks under mpirun
PKGS+=(libopenmpi-dev openmpi-bin)
# the test that CITATION.cff parses as YAML
PKGS+=(python3-yaml)
# the oracle for autograd and optimizers (tests/reference/optim_ref.py), real images for encoders
# (gzip IDX files under /usr/share/datasets/fashion-mnist, read with zlib)
PKGS+=(python3-torch dataset-fashion-mnist zlib1g-dev)
if [ "${1:-}" = "--fuzz" ]; then
  PKGS+=(clang-14 libclang-rt-14-dev)
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
