"""Build of the repcollapse Python package: one C extension (repcollapse._core)
compiled against the installed repcollapse library, found with pkg-config
(set PKG_CONFIG_PATH to <prefix>/lib/pkgconfig for a prefix other than
/usr/local or /usr), and NumPy's C API. The library's directory is recorded as
the extension's RPATH, so no LD_LIBRARY_PATH is needed.

    pip install --no-build-isolation ./python
"""
import os
import shlex
import subprocess

import numpy
from setuptools import Extension, setup


def pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(
            "repcollapse: pkg-config cannot find the installed library (%s); install it first "
            "(cmake --install build), and set PKG_CONFIG_PATH=<prefix>/lib/pkgconfig for a prefix of your own"
            % (getattr(e, "stderr", "") or e)
        )
    return shlex.split(out)


cflags = pkg_config("--cflags", "repcollapse", "hdf5")
libs = pkg_config("--libs", "repcollapse", "hdf5")
libdir = os.path.normpath(pkg_config("--variable=libdir", "repcollapse")[0])
bindir = os.path.normpath(pkg_config("--variable=bindir", "repcollapse")[0])
version = pkg_config("--modversion", "repcollapse")[0]

core = Extension(
    "repcollapse._core",
    sources=["src/_core.c"],
    include_dirs=[numpy.get_include()] + [f[2:] for f in cflags if f.startswith("-I")],
    extra_compile_args=[f for f in cflags if not f.startswith("-I")] + ["-std=c11", "-Wall", "-Wextra"],
    library_dirs=[f[2:] for f in libs if f.startswith("-L")],
    libraries=[f[2:] for f in libs if f.startswith("-l")],
    runtime_library_dirs=[libdir],
    define_macros=[("RC_BINDIR", '"%s"' % bindir), ("_GNU_SOURCE", None)],
)

setup(
    name="repcollapse",
    version=version,
    description="The minimal model of representation collapse: Python bindings of the repcollapse library",
    license="GPL-3.0-or-later",
    packages=["repcollapse"],
    ext_modules=[core],
    python_requires=">=3.9",
    install_requires=["numpy"],
)
