#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""snapshots.h5 of embedding runs carries the data set: /observation_sample and
/observation_label (int64 [M], in the order of `repcollapse data --out`) and
/sample_label (int64 [N], a clean sample's label, -1 for a frustrated one),
checked against the CSV that `data --out` writes for the same options, for
generated data (pair, random and explicit frustration), an observations file
with repeated and unsorted lines, every particle integrator and a head model.
Usage: test_snapshot_data.py --cli path/to/repcollapse"""
import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--cli", required=True)
args = ap.parse_args()
failures = 0


def check(cond, msg):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", msg)


def run(*argv):
    p = subprocess.run([args.cli, *argv], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"repcollapse {' '.join(argv)} failed: {p.stderr}")
    return p.stdout


with tempfile.TemporaryDirectory() as tmp:
    obs_file = os.path.join(tmp, "hand.csv")
    # unsorted, a repeated observation (sample 3 with label 1 twice), samples 4 and 0 frustrated
    with open(obs_file, "w") as f:
        f.write("sample,label\n4,2\n1,0\n3,1\n0,0\n2,2\n3,1\n4,0\n0,1\n5,1\n")
    cases = [
        (["--classes", "3", "--per-class", "4", "--frustrated", "0-1:2,1-2:1"], ["--integrator", "exact", "--t-end", "5"]),
        (["--classes", "4", "--per-class", "30", "--frustration", "0.1", "--pattern", "random", "--data-seed", "7"],
         ["--integrator", "gd", "--dt", "0.1", "--steps", "20"]),
        (["--per-class", "5,8,3", "--frustration", "0.2", "--pattern", "ring"],
         ["--integrator", "rk45", "--t-end", "2", "--model", "siam-sg"]),
        (["--observations", obs_file], ["--integrator", "rk45", "--t-end", "2"]),
    ]
    for k, (data, runopts) in enumerate(cases):
        csv = os.path.join(tmp, f"obs{k}.csv")
        out = os.path.join(tmp, f"run{k}")
        run("data", *data, "--out", csv)
        run("run", *data, *runopts, "--dim", "3", "--snapshots", "--quiet", "--out", out)
        want = np.loadtxt(csv, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
        with h5py.File(os.path.join(out, "snapshots.h5"), "r") as h:
            s, lab, sl = h["observation_sample"], h["observation_label"], h["sample_label"]
            check(s.dtype == np.int64 and lab.dtype == np.int64 and sl.dtype == np.int64, f"case {k}: dtypes {s.dtype} {lab.dtype} {sl.dtype}")
            check(s.shape == (len(want),) and lab.shape == (len(want),), f"case {k}: shapes {s.shape} {lab.shape}, want {len(want)}")
            check(np.array_equal(s[:], want[:, 0]) and np.array_equal(lab[:], want[:, 1]), f"case {k}: observations differ from data --out")
            check(int(h.attrs["n_observations"]) == len(want), f"case {k}: n_observations {h.attrs['n_observations']}")
            n = int(h.attrs["n_samples"])
            check(sl.shape == (n,) and h["samples"].shape[1] == n, f"case {k}: sample_label shape {sl.shape}, N = {n}")
            # the clean label from the CSV: the one label a sample was seen with, -1 with two or more
            expect = np.full(n, -2, dtype=np.int64)
            for i in range(n):
                labels = set(want[want[:, 0] == i, 1])
                expect[i] = labels.pop() if len(labels) == 1 else -1
            check(np.array_equal(sl[:], expect), f"case {k}: sample_label {sl[:]} want {expect}")
            if k == 3:
                check(list(sl[:]) == [-1, 0, 2, 1, -1, 1], f"hand file: sample_label {list(sl[:])}")
                check(list(s[:]) == [0, 0, 1, 2, 3, 3, 4, 4, 5], f"hand file: observation_sample {list(s[:])}")

print("ok" if failures == 0 else f"{failures} failures")
sys.exit(1 if failures else 0)
