#!/usr/bin/python3
"""`run --encoder mlp` end to end (docs/model.md section 6.3), against an
independent computation on the run's own outputs:

  - on an HDF5 inputs file written here (h5py): the snapshots' inputs are the
    file's chosen rows; gd steps redone in float64 torch from the t = 0
    snapshot (the minimal model's loss, dL/dX and dL/dY by autograd, rows
    scaled by M / a_i and M / b_c under `degree`, back-propagated through
    x = W2 tanh(W1 u + b1) + b2) give the later snapshots (1e-10); the loss,
    min_label_distance and test_accuracy columns are recomputed from the
    snapshots with NumPy;
  - on Fashion-MNIST (Debian's dataset-fashion-mnist): the sizes of
    --per-class 3 --frustration 0.25, and test_accuracy at t = 0 recomputed
    from the snapshot with the first 50 test images read and normalised here
    (gzip + NumPy, the training set's statistics);
  - every refusal is a one-line error and a non-zero exit.

    test_mlp_cli.py --cli PATH/repcollapse        (the ctest `cli_mlp`)
"""

import argparse
import csv
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch

FM = "/usr/share/datasets/fashion-mnist"
FAIL = []


def check(ok, what):
    print(f"{'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        FAIL.append(what)


def run(cli, args):
    return subprocess.run([cli, "run"] + [str(a) for a in args] + ["--quiet"], capture_output=True, text=True)


def metrics(out):
    with open(os.path.join(out, "metrics.csv")) as f:
        return list(csv.DictReader(f))


def snapshots(out):
    with h5py.File(os.path.join(out, "snapshots.h5")) as f:
        return {k: f[k][...] for k in f.keys()}


def outputs(s, k, U, act):
    phi = np.tanh if act == "tanh" else (lambda z: np.maximum(z, 0))
    return phi(U @ s["W1"][k].T + s["b1"][k]) @ s["W2"][k].T + s["b2"][k]


def nearest_acc(X, Y, lab):
    d2 = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    srt = np.sort(d2, axis=1)
    arg = d2.argmin(1)
    return float(np.mean((arg == lab) & (srt[:, 1] - srt[:, 0] > 1e-12 * srt[:, 1])))


def torch_steps(s, k0, steps, dt, act):
    U = torch.tensor(s["inputs"])
    obs = s["observations"]
    ii, cc = torch.tensor(obs[:, 0]), torch.tensor(obs[:, 1])
    aa = torch.tensor(s["observation_counts"], dtype=torch.float64)
    N, K = U.shape[0], s["labels"].shape[1]
    M = aa.sum()
    a_i = torch.zeros(N, dtype=torch.float64).index_add_(0, ii, aa)
    b_c = torch.zeros(K, dtype=torch.float64).index_add_(0, cc, aa)
    P = [torch.tensor(s[n][k0]) for n in ("W1", "b1", "W2", "b2")]
    Y = torch.tensor(s["labels"][k0])
    phi = torch.tanh if act == "tanh" else torch.relu
    for _ in range(steps):
        ps = [p.clone().requires_grad_(True) for p in P]
        X = phi(U @ ps[0].T + ps[1]) @ ps[2].T + ps[3]
        Xl = X.detach().requires_grad_(True)
        Yl = Y.clone().requires_grad_(True)
        L = (aa * ((Xl[ii] - Yl[cc]) ** 2).sum(1)).sum() / (2 * M)
        gX, gY = torch.autograd.grad(L, [Xl, Yl])
        g = torch.autograd.grad(X, ps, grad_outputs=gX * (M / a_i)[:, None])
        P = [p - dt * q for p, q in zip(P, g)]
        Y = Y - dt * gY * (M / b_c)[:, None]
    return [p.numpy() for p in P], Y.numpy()


def file_case(cli, tmp):
    rng = np.random.default_rng(0)
    N, D, K, T = 40, 12, 3, 15
    X = rng.normal(size=(N, D)) / np.sqrt(D)
    y = np.arange(N) % K
    Xt = rng.normal(size=(T, D)) / np.sqrt(D)
    yt = np.arange(T) % K
    path = os.path.join(tmp, "in.h5")
    with h5py.File(path, "w") as f:
        f["inputs"], f["labels"], f["test_inputs"], f["test_labels"] = X, y, Xt, yt
    out = os.path.join(tmp, "o_file")
    dt = 0.002
    p = run(cli, ["--encoder", "mlp", "--hidden", 8, "--activation", "tanh", "--inputs", "file", "--inputs-file", path,
                  "--per-class", 10, "--frustration", 0.2, "--dim", 4, "--integrator", "gd", "--dt", dt,
                  "--times", "0,0.002,0.01", "--out", out, "--snapshots"])
    check(p.returncode == 0, f"file: mlp run ({p.stderr.strip()})")
    if p.returncode:
        return
    s = snapshots(out)
    j = json.load(open(os.path.join(out, "summary.json")))
    F = round(0.2 * 30 / 0.8)
    check(s["inputs"].shape == (30 + F, D) and j["inputs"]["data"]["samples"] == 30 + F,
          f"file: N = 30 clean + {F} frustrated")
    rows = [int(np.argmin(((X - u) ** 2).sum(1))) for u in s["inputs"]]
    check(np.array_equal(s["inputs"], X[rows]) and len(set(rows)) == len(rows), "file: inputs are the file's rows")
    check(all(s["teacher_label"][q] == y[rows[q]] for q in range(len(rows))), "file: labels are the file's")
    for k, steps in ((1, 1), (2, 5)):
        (W1, b1, W2, b2), Y = torch_steps(s, 0, steps, dt, "tanh")
        err = max(np.max(np.abs(a - s[n][k])) / (1 + np.max(np.abs(a)))
                  for a, n in ((W1, "W1"), (b1, "b1"), (W2, "W2"), (b2, "b2"), (Y, "labels")))
        check(err < 1e-10, f"file: {steps} gd step(s) equal torch autograd's (max rel err {err:.1e})")
    m = metrics(out)
    obs, cnt = s["observations"], s["observation_counts"]
    for k, row in enumerate(m):
        Xk, Yk = outputs(s, k, s["inputs"], "tanh"), s["labels"][k]
        L = (cnt * ((Xk[obs[:, 0]] - Yk[obs[:, 1]]) ** 2).sum(1)).sum() / (2 * cnt.sum())
        Dm = min(np.linalg.norm(Yk[a] - Yk[b]) for a in range(K) for b in range(a + 1, K))
        acc = nearest_acc(outputs(s, k, Xt, "tanh"), Yk, yt)
        ok = abs(float(row["loss"]) - L) < 1e-12 * (1 + L) and abs(float(row["min_label_distance"]) - Dm) < 1e-12 \
            and abs(float(row["test_accuracy"]) - acc) < 1e-12
        check(ok, f"file: t = {row['t']}: loss, min_label_distance, test_accuracy recomputed from snapshots.h5")


def fashion_case(cli, tmp):
    out = os.path.join(tmp, "o_fm")
    p = run(cli, ["--encoder", "mlp", "--hidden", 16, "--inputs", "fashion-mnist", "--per-class", 3,
                  "--frustration", 0.25, "--test-samples", 50, "--dim", 4, "--integrator", "gd", "--dt", 1e-4,
                  "--times", "0,0.0002", "--out", out, "--snapshots"])
    check(p.returncode == 0, f"fashion-mnist: mlp run ({p.stderr.strip()})")
    if p.returncode:
        return
    s = snapshots(out)
    j = json.load(open(os.path.join(out, "summary.json")))
    check(s["inputs"].shape == (40, 784) and j["inputs"]["data"]["n_clean"] == 30 and j["data"]["n_frustrated"] == 10
          if "n_frustrated" in j["data"] else s["inputs"].shape == (40, 784), "fashion-mnist: N = 30 clean + 10")
    check(j["inputs"]["model"]["hidden"] == 16 and j["inputs"]["model"]["activation"] == "relu",
          "fashion-mnist: summary.json records hidden and activation")

    def idx(name):
        with gzip.open(f"{FM}/{name}", "rb") as f:
            b = f.read()
        r = b[3]
        dims = struct.unpack(">" + "I" * r, b[4:4 + 4 * r])
        return np.frombuffer(b[4 + 4 * r:], dtype=np.uint8).reshape(dims)
    img = idx("train-images-idx3-ubyte.gz").reshape(60000, -1) / 255.0
    mean = img.mean(0)
    scale = np.sqrt(((img - mean) ** 2).sum(1).mean())
    timg = (idx("t10k-images-idx3-ubyte.gz").reshape(10000, -1)[:50] / 255.0 - mean) / scale
    tlab = idx("t10k-labels-idx1-ubyte.gz")[:50]
    m = metrics(out)
    acc = nearest_acc(outputs(s, 0, timg, "relu"), s["labels"][0], tlab)
    check(abs(float(m[0]["test_accuracy"]) - acc) < 1e-12, f"fashion-mnist: test_accuracy at t = 0 on the first 50 "
          f"test images ({acc}) recomputed with NumPy's normalisation")
    u2 = (s["inputs"] ** 2).sum(1)
    check(0.3 < u2.mean() < 3.0, f"fashion-mnist: the inputs are normalised (mean |u|^2 = {u2.mean():.3f} on 40 images)")


def refusals(cli, tmp):
    base = ["--encoder", "mlp", "--inputs", "fashion-mnist", "--dim", 4, "--integrator", "gd", "--dt", 1e-4,
            "--t-end", 1e-3, "--out", os.path.join(tmp, "o_bad")]
    cases = [
        (base + ["--hidden", 0], "--hidden"),
        (base + ["--activation", "sigmoid"], "unknown activation 'sigmoid'"),
        (["--encoder", "linear", "--inputs", "fashion-mnist", "--hidden", 8, "--dim", 4, "--integrator", "gd",
          "--dt", 1e-4], "--hidden applies to --encoder mlp"),
        (base + ["--samples", 10], "--samples does not apply to --inputs fashion-mnist"),
        (base + ["--classes", 3], "--classes does not apply"),
        (base + ["--per-class", "2,3"], "--per-class takes one value"),
        (base + ["--per-class", 7000], "fewer than --per-class 7000"),
        (base + ["--frustration-mode", "flip"], "real inputs are frustrated by conflict"),
        (base + ["--frustration", 1.0], "outside [0, 1)"),
        (base[:3] + ["file", "--inputs-file", os.path.join(tmp, "absent.h5")] + base[4:], "as an HDF5 file"),
        (base[:4] + ["--per-class", 30, "--dt", 0.1, "--dim", 4, "--integrator", "gd", "--t-end", 1, "--out",
                     os.path.join(tmp, "o_bad")],
         "gd step dt = 0.1 is unstable"),
    ]
    for args, needle in cases:
        p = run(cli, args)
        lines = p.stderr.strip().splitlines()
        ok = p.returncode != 0 and len(lines) == 1 and "error" in lines[0] and needle in lines[0]
        check(ok, f"refused: {needle}" + ("" if ok else f" (rc {p.returncode}: {p.stderr.strip()!r})"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    a = ap.parse_args()
    torch.set_default_dtype(torch.float64)
    with tempfile.TemporaryDirectory() as tmp:
        file_case(a.cli, tmp)
        if os.path.isdir(FM):
            fashion_case(a.cli, tmp)
        else:
            check(False, f"{FM} is missing: run scripts/deps.sh")
        refusals(a.cli, tmp)
    print(f"{len(FAIL)} failure(s)")
    return 1 if FAIL else 0


if __name__ == "__main__":
    sys.exit(main())
