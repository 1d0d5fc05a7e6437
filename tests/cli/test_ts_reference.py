#!/usr/bin/python3
"""One gd step of `repcollapse run --task teacher-student` against the
independent NumPy reference tests/reference/ts_ref.py (float64, 1e-10
relative), for minimal, siam and siam-sg, both rate schemes, both
frustration modes, unequal learning rates and a non-identity head; the
single-precision path against the same reference (1e-4; its loss is
computed with the same single-precision products); the data set
(observations against the teacher labels and f: under conflict F = round(f C / (1 - f))
frustrated samples added to the C clean ones, docs/model.md 6.3); the initial scale of W; the
loss and metrics of the first rows; and the gd stability estimate against the
dense Jacobian's spectral radius.

    /usr/bin/python3 tests/cli/test_ts_reference.py --cli build/repcollapse [-v]
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import ts_ref as ref  # noqa: E402

import h5py  # noqa: E402

failed = 0
passed = 0
verbose = False


def check(cond, what):
    global failed, passed
    if cond:
        passed += 1
        if verbose:
            print("ok  ", what)
    else:
        failed += 1
        print("FAIL", what)


def run(cli, out, args):
    cmd = [cli, "run", "--task", "teacher-student", "--quiet", "--out", out] + args
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    with h5py.File(os.path.join(out, "snapshots.h5")) as f:
        snap = {k: f[k][()] for k in f.keys()}
    with open(os.path.join(out, "metrics.csv")) as fp:
        rows = list(csv.DictReader(fp))
    with open(os.path.join(out, "summary.json")) as fp:
        summary = json.load(fp)
    return snap, rows, summary


def rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


def one_step_case(cli, tmp, name, args, model, rates="degree", eta_w=1.0, eta_y=1.0, eta_head=1.0, tol=1e-10,
                  mode="conflict", f=0.0):
    out = os.path.join(tmp, name)
    snap, rows, summary = run(cli, out, args + ["--model", model, "--rates", rates, "--eta-w", str(eta_w),
                                                "--eta-y", str(eta_y), "--eta-head", str(eta_head),
                                                "--frustration", str(f), "--frustration-mode", mode,
                                                "--steps", "1", "--snapshots"])
    U, obs, counts = snap["inputs"], snap["observations"], snap["observation_counts"]
    N, K = U.shape[0], snap["labels"].shape[1]
    A = ref.weight_matrix(obs, counts, N, K)
    terms = ref.PRESETS[model]
    W0, Y0 = snap["W"][0], snap["labels"][0]
    P0 = snap["head"][0] if "head" in snap else None
    dt = summary["inputs"]["integration"]["dt"]
    W1, Y1, P1 = ref.gd_step(U, A, W0, Y0, P0, terms, dt, rates=rates, eta_w=eta_w, eta_y=eta_y, eta_head=eta_head)
    check(list(snap["step"]) == [0, 1], f"[{name}] snapshots at steps 0 and 1")
    # the update itself, relative to its own size (stricter than the state)
    check(rel(snap["W"][1] - W0, W1 - W0) < tol, f"[{name}] W update vs NumPy: rel {rel(snap['W'][1] - W0, W1 - W0):.2e}")
    check(rel(snap["labels"][1] - Y0, Y1 - Y0) < tol,
          f"[{name}] Y update vs NumPy: rel {rel(snap['labels'][1] - Y0, Y1 - Y0):.2e}")
    if P0 is not None:
        check(rel(snap["head"][1] - P0, P1 - P0) < tol,
              f"[{name}] P update vs NumPy: rel {rel(snap['head'][1] - P0, P1 - P0):.2e}")
    Pm = P0 if P0 is not None else np.eye(W0.shape[0])
    for r, (W, Y, P) in enumerate([(W0, Y0, Pm), (W1, Y1, P1 if P1 is not None else Pm)]):
        L = ref.loss(A, U @ W.T, Y, P, terms)
        check(abs(float(rows[r]["loss"]) - L) <= max(tol, 1e-10) * L, f"[{name}] loss at row {r}: {rows[r]['loss']} vs {L}")
        Z = U @ W.T @ (P.T if P0 is not None else np.eye(W.shape[0]))
        dist = ((Z[:, None, :] - Y[None, :, :]) ** 2).sum(2)
        clean = (A > 0).sum(1) == 1
        own = A.argmax(1)
        acc = np.mean(dist[clean].argmin(1) == own[clean])
        check(abs(float(rows[r]["accuracy"]) - acc) < 1e-12, f"[{name}] accuracy at row {r}")
        D = min(np.linalg.norm(Y[i] - Y[j]) for i in range(K) for j in range(i + 1, K))
        check(abs(float(rows[r]["min_label_distance"]) - D) < max(tol, 1e-12) * D, f"[{name}] min_label_distance at row {r}")
    return snap, summary, A


def data_checks(snap, summary, mode, f, C):
    """C: the clean samples given (--samples). conflict (docs/model.md 6.3): F = round(f C / (1 - f))
    frustrated samples added after them, each seen with two labels; flip: round(f C) of them relabelled."""
    A_rows = {}
    for (i, c) in snap["observations"]:
        A_rows.setdefault(int(i), []).append(int(c))
    teacher = snap["teacher_label"]
    N = len(teacher)
    if mode == "conflict":
        F = int(np.floor(f * C / (1 - f) + 0.5))
        two = [i for i, cs in A_rows.items() if len(cs) == 2]
        check(N == C + F and sorted(two) == list(range(C, N)) and summary["data"]["n_frustrated"] == F,
              f"conflict: {F} samples with two labels added to the {C} clean ones")
        check(all(teacher[i] in cs and len(set(cs)) == len(cs) for i, cs in A_rows.items()),
              "conflict: every sample keeps its teacher label; the second one differs")
    else:
        F = int(round(f * N))
        moved = [i for i, cs in A_rows.items() if cs[0] != teacher[i]]
        check(len(moved) == F and all(len(cs) == 1 for cs in A_rows.values()) and summary["data"]["n_frustrated"] == 0,
              f"flip: {F} relabelled samples, all clean")


def main():
    global verbose
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()
    verbose = a.v
    base = ["--samples", "30", "--input-dim", "50", "--classes", "3", "--dim", "5", "--integrator", "gd",
            "--dt", "0.05", "--seed", "4", "--test-samples", "50"]
    with tempfile.TemporaryDirectory() as tmp:
        snap, summary, _ = one_step_case(a.cli, tmp, "minimal", base, "minimal", f=0.2)
        data_checks(snap, summary, "conflict", 0.2, 30)
        one_step_case(a.cli, tmp, "siam", base + ["--head-init", "gaussian"], "siam", f=0.2)
        one_step_case(a.cli, tmp, "siam-sg", base + ["--head-init", "orthogonal"], "siam-sg", f=0.2)
        snap, summary, _ = one_step_case(a.cli, tmp, "siam-sg-uniform-flip", base + ["--head-init", "gaussian"],
                                         "siam-sg", rates="uniform", eta_w=0.7, eta_y=1.3, eta_head=0.5,
                                         mode="flip", f=0.3)
        data_checks(snap, summary, "flip", 0.3, 30)
        one_step_case(a.cli, tmp, "minimal-f32", base + ["--precision", "f32"], "minimal", f=0.2, tol=1e-4)
        # whole trajectories through the run pipeline (the linear encoder): every one of 25 gd steps against
        # NumPy's steps from the same start, for both rate schemes and a head
        times = ",".join("%g" % (0.05 * k) for k in range(26))
        for model, rates in (("minimal", "degree"), ("siam-sg", "uniform"), ("siam", "degree")):
            snap, _, summary = run(a.cli, os.path.join(tmp, "traj-" + model),
                                   base + ["--model", model, "--rates", rates, "--frustration", "0.2", "--eta-w", "0.9",
                                           "--head-init", "gaussian", "--steps", "25", "--times", times, "--snapshots"])
            U = snap["inputs"]
            A = ref.weight_matrix(snap["observations"], snap["observation_counts"], U.shape[0], snap["labels"].shape[1])
            W, Y = snap["W"][0], snap["labels"][0]
            P = snap["head"][0] if "head" in snap else None
            worst = 0.0
            for k in range(1, 26):
                W, Y, P = ref.gd_step(U, A, W, Y, P, ref.PRESETS[model], 0.05, rates=rates, eta_w=0.9)
                worst = max(worst, rel(snap["W"][k], W), rel(snap["labels"][k], Y))
                if P is not None:
                    worst = max(worst, rel(snap["head"][k], P))
            check(len(snap["t"]) == 26 and worst < 1e-11,
                  f"[trajectory {model} {rates}] 25 gd steps vs NumPy: max rel {worst:.2e}")
        # W starts with entries N(0, sigma^2/d): x = W u then has entries of variance about sigma^2/d
        snap, _, _ = run(a.cli, os.path.join(tmp, "scale"), ["--samples", "200", "--input-dim", "400", "--dim", "16",
                                                             "--sigma", "2", "--integrator", "gd", "--dt", "0.01",
                                                             "--steps", "1", "--snapshots"])
        W0, U = snap["W"][0], snap["inputs"]
        check(abs(W0.var() * 16 / 4 - 1) < 0.05, f"W entries have variance sigma^2/d: {W0.var() * 16 / 4:.3f}")
        X = U @ W0.T
        check(abs(X.var() * 16 / 4 - 1) < 0.1, f"x = W u entries have variance about sigma^2/d: {X.var() * 16 / 4:.3f}")
        # the gd stability estimate against the dense Jacobian (small sizes: 9 clean and 3 frustrated samples)
        small = ["--samples", "9", "--input-dim", "20", "--classes", "2", "--dim", "3", "--integrator", "gd",
                 "--dt", "0.01", "--steps", "1", "--snapshots", "--frustration", "0.25"]
        for model in ("minimal", "siam-sg"):
            snap, _, summary = run(a.cli, os.path.join(tmp, "rate-" + model), small + ["--model", model])
            A = ref.weight_matrix(snap["observations"], snap["observation_counts"], snap["inputs"].shape[0], 2)
            P0 = snap["head"][0] if "head" in snap else None
            rho = ref.jacobian_radius(snap["inputs"], A, snap["W"][0], snap["labels"][0], P0, ref.PRESETS[model])
            est = summary["regime"]["rate_estimate"]
            check(abs(est - rho) <= 0.05 * rho, f"rate estimate ({model}) {est:.4f} vs dense Jacobian {rho:.4f}")
            lam = np.linalg.eigvalsh(snap["inputs"] @ snap["inputs"].T).max()
            top = summary["regime"]["kernel_top_eigenvalue"]
            check(abs(top - lam) <= 1e-6 * lam, f"kernel top eigenvalue {top} vs eigvalsh {lam}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
