#!/usr/bin/env python3
"""The neural-collapse metrics and rankme of metrics.csv (docs/model.md
section 6.4) against the NumPy reference tests/reference/nc_ref.py, on the
states the same runs wrote to snapshots.h5: the minimal model (exact, gd, a
frustrated data set, uneven classes, N < d), a head model (siam with a random
head, rk45), the engine's loop (momentum), the teacher-student encoder run,
the reduced integrator (against the rk45 run of the same model), the null
rules (K = 2, a class without clean samples) and --metrics; the columns do
not depend on --threads.

usage: test_nc_reference.py --cli PATH/TO/repcollapse
"""
import argparse
import csv
import math
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import nc_ref  # noqa: E402

FAILS = []
PASSED = [0]


def ok(cond, what):
    if cond:
        PASSED[0] += 1
    else:
        FAILS.append(what)
        print("FAIL", what)
    return cond


def run(cli, args, out):
    cmd = [cli, "run", *args, "--out", out, "--quiet"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {p.stderr}")
    return out


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    return header, [{h: (None if v == "" else float(v)) for h, v in zip(header, r)} for r in rows[1:]]


def states(out, ts=False):
    """(clean_label, [H_t], [Y_t], times) of a run's snapshots.h5"""
    with h5py.File(os.path.join(out, "snapshots.h5"), "r") as f:
        t = np.asarray(f["t"])
        Y = np.asarray(f["labels"])
        if ts:  # teacher-student: x = (P) W u; the clean samples are those with one label
            U = np.asarray(f["inputs"])
            W = np.asarray(f["W"])
            obs = np.asarray(f["observations"])
            N = U.shape[0]
            labels = [set() for _ in range(N)]
            for s, c in obs:
                labels[int(s)].add(int(c))
            clean = np.array([next(iter(l)) if len(l) == 1 else -1 for l in labels])
            H = [U @ W[k].T for k in range(len(t))]
            if "head" in f:
                P = np.asarray(f["head"])
                H = [H[k] @ P[k].T for k in range(len(t))]
        else:
            X = np.asarray(f["samples"])
            clean = np.asarray(f["sample_label"])
            H = [X[k] for k in range(len(t))]
            if "head" in f:
                P = np.asarray(f["head"])
                H = [X[k] @ P[k].T for k in range(len(t))]
    return clean, H, [Y[k] for k in range(len(t))], t


def reference_rows(clean, H, Y):
    K = Y[0].shape[0]
    trace_b0 = nc_ref.trace_b(clean, H[0], K)
    Yc = Y[0] - Y[0].mean(axis=0)
    trace0 = float((Yc ** 2).sum())
    return [nc_ref.nc_metrics(clean, h, y, trace_b0, trace0) for h, y in zip(H, Y)]


def compare(what, rows, refs, H, e_rel, names=nc_ref.NC_NAMES, rtol=1e-10, skip_nc4=False):
    """metrics.csv rows against the reference of the states (known to e_rel of their size)"""
    ok(len(rows) == len(refs), f"{what}: {len(rows)} rows, want {len(refs)}")
    bad = {}
    defined = {m: 0 for m in names}
    for k, (r, (want, diag), h) in enumerate(zip(rows, refs, H)):
        e_abs = e_rel * float(np.abs(h).max())
        for m in names:
            g, w = r.get(m, "missing"), want[m]
            if g == "missing":
                bad.setdefault(m, f"missing column {m}")
                continue
            if w is not None:
                defined[m] += 1
            if m == "nc4":
                if skip_nc4:
                    continue
                if min(diag["gap_label"], diag["gap_mean"]) < 1e-9 * (float(np.abs(h).max()) + 1e-300):
                    continue  # a near-tie: the decision is round-off
            sc = diag.get("scale_" + m[:3]) if m != "rankme" else None
            q = e_rel if m == "rankme" else (e_abs / sc if sc else math.inf)
            good = nc_ref.close_enough(m, g, w, q, rtol)
            if not good:
                bad.setdefault(m, f"row {k}: got {g!r}, want {w!r} (q = {q:.1e})")
    for m in names:
        ok(m not in bad, f"{what}: {m}: {bad.get(m)}")
    return defined


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    a = ap.parse_args()
    cli = a.cli
    work = tempfile.mkdtemp(prefix="nc_ref_")
    common = ["--snapshots", "--points", "12"]

    # the minimal model, exact, a frustrated data set (random pattern), K = 4
    o = run(cli, ["--classes", "4", "--per-class", "15", "--frustration", "0.15", "--pattern", "random", "--dim", "8",
                  "--integrator", "exact", *common], f"{work}/exact")
    clean, H, Y, _ = states(o)
    h, rows = read_csv(f"{o}/metrics.csv")
    ok(h[-7:] == nc_ref.NC_NAMES and h[-9:-7] == ["relative_label_distance", "angular_label_distance"],
       f"metrics.csv header ends with the nc columns: {h}")
    d_exact = compare("minimal exact K=4 random f=0.15", rows, reference_rows(clean, H, Y), H, 1e-13)
    for m in nc_ref.NC_NAMES:
        ok(d_exact[m] > 0, f"minimal exact: {m} defined at some time")

    # the same on 1 and on 2 threads: identical files
    o1 = run(cli, ["--classes", "4", "--per-class", "15", "--frustration", "0.15", "--pattern", "random", "--dim", "8",
                   "--integrator", "exact", "--points", "12", "--threads", "1"], f"{work}/th1")
    o2 = run(cli, ["--classes", "4", "--per-class", "15", "--frustration", "0.15", "--pattern", "random", "--dim", "8",
                   "--integrator", "exact", "--points", "12", "--threads", "2"], f"{work}/th2")
    with open(f"{o1}/metrics.csv") as f1, open(f"{o2}/metrics.csv") as f2:
        ok(f1.read() == f2.read(), "metrics.csv identical on 1 and 2 threads")

    # gd, uneven classes, no frustration, K = 3
    o = run(cli, ["--classes", "3", "--per-class", "10,20,5", "--dim", "6", "--integrator", "gd", "--dt", "0.05",
                  "--t-end", "20", "--init", "class", *common], f"{work}/gd")
    clean, H, Y, _ = states(o)
    compare("minimal gd K=3 uneven", read_csv(f"{o}/metrics.csv")[1], reference_rows(clean, H, Y), H, 1e-13)

    # N < d: rankme through H H^T
    o = run(cli, ["--classes", "3", "--per-class", "2", "--dim", "16", "--integrator", "exact", *common], f"{work}/small")
    clean, H, Y, _ = states(o)
    compare("minimal N=6 < d=16", read_csv(f"{o}/metrics.csv")[1], reference_rows(clean, H, Y), H, 1e-13)

    # a head model: siam with a random head (h_i = P x_i), rk45, K = 4, frustrated
    head_args = ["--classes", "4", "--per-class", "12", "--frustration", "0.1", "--dim", "6", "--model", "siam",
                 "--head-init", "gaussian", "--t-end", "60"]
    o = run(cli, [*head_args, "--integrator", "rk45", *common], f"{work}/head")
    clean, H, Y, t_head = states(o)
    refs_head = reference_rows(clean, H, Y)
    d_head = compare("siam gaussian head rk45 K=4 f=0.1", read_csv(f"{o}/metrics.csv")[1], refs_head, H, 1e-13)
    ok(d_head["nc1"] > 0 and d_head["nc2_equiangular"] > 0, "head model: nc1 and nc2 defined")

    # the reduced integrator of the same model: exact from the group moments (nc4 null), against rk45's states
    o = run(cli, [*head_args, "--integrator", "reduced", "--points", "12"], f"{work}/reduced")
    hr, rows_r = read_csv(f"{o}/metrics.csv")
    ok([r["t"] for r in rows_r] == list(t_head), "reduced: the same recorded times as rk45")
    ok(all(r["nc4"] is None for r in rows_r), "reduced: nc4 null (needs each sample)")
    compare("reduced siam vs NumPy on rk45's states", rows_r, refs_head, H, 1e-8, rtol=1e-7, skip_nc4=True)

    # the engine's loop: siam-sg with momentum (d = 3 < 2 r: nc1 through the within-class scatter)
    o = run(cli, ["--classes", "3", "--per-class", "10", "--frustration", "0.1", "--dim", "3", "--model", "siam-sg",
                  "--optimizer", "momentum", "--dt", "0.05", "--steps", "400", *common], f"{work}/momentum")
    clean, H, Y, _ = states(o)
    compare("siam-sg momentum (engine loop)", read_csv(f"{o}/metrics.csv")[1], reference_rows(clean, H, Y), H, 1e-13)

    # the teacher-student encoder run
    o = run(cli, ["--task", "teacher-student", "--samples", "60", "--input-dim", "10", "--classes", "3",
                  "--frustration", "0.1", "--dim", "6", "--integrator", "rk45", *common], f"{work}/ts")
    clean, H, Y, _ = states(o, ts=True)
    compare("teacher-student rk45", read_csv(f"{o}/metrics.csv")[1], reference_rows(clean, H, Y), H, 1e-12)

    # K = 2: the angular nc2 columns are null, the rest defined
    o = run(cli, ["--classes", "2", "--per-class", "10", "--frustration", "0.1", "--dim", "4", *common], f"{work}/k2")
    clean, H, Y, _ = states(o)
    rows = read_csv(f"{o}/metrics.csv")[1]
    compare("minimal K=2", rows, reference_rows(clean, H, Y), H, 1e-13)
    ok(all(r["nc2_equiangular"] is None and r["nc2_cos_std"] is None for r in rows), "K=2: angular nc2 null")
    ok(all(r["nc1"] is not None for r in rows[:3]), "K=2: nc1 defined")

    # a class without clean samples: every nc column null, rankme defined
    obs = f"{work}/obs.csv"
    with open(obs, "w") as f:
        f.write("sample,label\n")
        for i in range(5):
            f.write(f"{i},0\n")
        for i in range(5, 10):
            f.write(f"{i},1\n")
        for i in range(10, 13):
            f.write(f"{i},1\n{i},2\n")
    o = run(cli, ["--observations", obs, "--dim", "4", *common], f"{work}/noclean")
    clean, H, Y, _ = states(o)
    rows = read_csv(f"{o}/metrics.csv")[1]
    compare("class 2 without clean samples", rows, reference_rows(clean, H, Y), H, 1e-13)
    ok(all(all(r[m] is None for m in nc_ref.NC_NAMES[:-1]) and r["rankme"] is not None for r in rows),
       "no clean sample in a class: nc null, rankme defined")

    # --metrics: only the chosen columns
    o = run(cli, ["--classes", "3", "--per-class", "8", "--dim", "4", "--points", "4", "--metrics", "nc1,rankme"],
            f"{work}/mask")
    rows = read_csv(f"{o}/metrics.csv")[1]
    ok(all(r["nc1"] is not None and r["rankme"] is not None and r["nc3"] is None and r["nc4"] is None
           and r["accuracy"] is None for r in rows), "--metrics nc1,rankme: the others empty")

    print(f"{PASSED[0]} passed, {len(FAILS)} failed")
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
