#!/usr/bin/python3
"""mlp_bench.py: one step (forward + backward over all N samples) of
repcollapse's `mlp` encoder (bench/mlp_bench.c, src/engine/encoder_mlp.c)
beside the same step hand-written in PyTorch (CPU, float64), in the same run.

The PyTorch step is written two ways: by hand (the same five matmuls,
Z = U W1^T + b1, A = phi(Z), X = A W2^T + b2, dW2 = G^T A, db2 = G^T 1,
dZ = (G W2) o phi'(Z), dW1 = dZ^T U, db1 = dZ^T 1) and through autograd
(X.backward(G)). Both see the same inputs, parameters and G as the C step
(sin/cos of the index), and the checksums of X and of the gradient must agree
to 1e-9 relative. The roofline is the step's own five dgemm shapes, each timed
alone by mlp_bench.c in the same run: their sum is the fastest the step can be
with this BLAS at this moment; `GEMM share` = that sum / the C step.
Every time is a median over repetitions. The machine may be shared: the load
average (uptime) is recorded at the start and the end of each row.

    mlp_bench.py --bin build/bench/mlp_bench [--sizes 300,3000,20000] [--threads 1] [--out bench/MLP.md]
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np
import torch


def torch_data(N, D, h, d):
    U = torch.sin(0.001 * torch.arange(N * D, dtype=torch.float64)).view(N, D)
    G = (torch.cos(0.01 * torch.arange(N * d, dtype=torch.float64)) / N).view(N, d)
    n = h * D + h + d * h + d
    th = 0.05 * torch.sin(0.37 * torch.arange(n, dtype=torch.float64) + 0.1)
    W1 = th[:h * D].view(h, D).clone()
    b1 = th[h * D:h * D + h].clone()
    W2 = th[h * D + h:h * D + h + d * h].view(d, h).clone()
    b2 = th[h * D + h + d * h:].clone()
    return U, G, W1, b1, W2, b2


def hand_step(U, G, W1, b1, W2, b2, act):
    Z = torch.addmm(b1, U, W1.T)
    A = torch.relu(Z) if act == "relu" else torch.tanh(Z)
    X = torch.addmm(b2, A, W2.T)
    gW2 = G.T @ A
    gb2 = G.sum(0)
    dA = G @ W2
    dZ = dA * (Z > 0) if act == "relu" else dA * (1 - A * A)
    gW1 = dZ.T @ U
    gb1 = dZ.sum(0)
    return X, (gW1, gb1, gW2, gb2)


def autograd_step(U, G, W1, b1, W2, b2, act):
    ps = [p.detach().requires_grad_(True) for p in (W1, b1, W2, b2)]
    Z = torch.addmm(ps[1], U, ps[0].T)
    A = torch.relu(Z) if act == "relu" else torch.tanh(Z)
    X = torch.addmm(ps[3], A, ps[2].T)
    X.backward(G)
    return X.detach(), tuple(p.grad for p in ps)


def timeit(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return sorted(ts)[reps // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--sizes", default="300,3000,20000", help="N values (D = 784, h = 64, d = 16)")
    ap.add_argument("--D", type=int, default=784)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--dim", type=int, default=16)
    ap.add_argument("--activation", default="relu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(a.threads), OMP_NUM_THREADS=str(a.threads))
    rows = []
    bad = 0
    for N in [int(s) for s in a.sizes.split(",")]:
        D, h, d = a.D, a.hidden, a.dim
        reps = max(5, min(101, int(3e9 / (4 * N * D * h))))
        load0 = os.getloadavg()
        c = json.loads(subprocess.run([a.bin, str(N), str(D), str(h), str(d), a.activation, str(reps)],
                                      capture_output=True, text=True, check=True, env=env).stdout)
        U, G, W1, b1, W2, b2 = torch_data(N, D, h, d)
        X, g = hand_step(U, G, W1, b1, W2, b2, a.activation)
        Xa, ga = autograd_step(U, G, W1, b1, W2, b2, a.activation)
        sx, sg = X.sum().item(), sum(t.sum().item() for t in g)
        err = max(abs(sx - c["sum_X"]) / (1 + abs(sx)), abs(sg - c["sum_grad"]) / (1 + abs(sg)),
                  float((X - Xa).abs().max()), max(float((p - q).abs().max()) for p, q in zip(g, ga)))
        ok = err < 1e-9
        bad += not ok
        t_hand = timeit(lambda: hand_step(U, G, W1, b1, W2, b2, a.activation), reps)
        t_auto = timeit(lambda: autograd_step(U, G, W1, b1, W2, b2, a.activation), reps)
        load1 = os.getloadavg()
        gemm = sum(s["seconds"] for s in c["gemms"])
        flops = sum(s["flops"] for s in c["gemms"])
        rows.append((N, c["step_seconds"], t_hand, t_auto, gemm, flops, load0[0], load1[0], err, c["gemms"]))
        print(f"N = {N:6d}: repcollapse {1e3 * c['step_seconds']:8.3f} ms ({flops / c['step_seconds'] / 1e9:5.2f} GFLOP/s), "
              f"torch by hand {1e3 * t_hand:8.3f} ms, torch autograd {1e3 * t_auto:8.3f} ms, "
              f"GEMM roofline {1e3 * gemm:8.3f} ms (share {gemm / c['step_seconds']:.0%}); "
              f"checksums {'agree' if ok else 'DIFFER'} ({err:.1e}); load {load0[0]:.1f} -> {load1[0]:.1f}")
    if a.out:
        with open(a.out, "w") as fh:
            fh.write("# MLP encoder step: repcollapse against PyTorch\n\n")
            fh.write(f"Produced by `bench/mlp_bench.py --threads {a.threads}` on {platform.machine()} "
                     f"({os.cpu_count()} cores), torch {torch.__version__}, float64, {a.threads} thread(s) for both "
                     f"(OpenBLAS and torch), D = {a.D}, h = {a.hidden}, d = {a.dim}, {a.activation}. One step is the "
                     "forward over all N samples and the backward to W1, b1, W2, b2 from a given dL/dX. "
                     "The roofline is the sum of the step's five dgemm calls, each timed alone at its own shape in "
                     "the same run (table below). The machine was shared with other jobs while this ran: the load "
                     "average is given per row, and only columns of one row compare.\n\n")
            fh.write("| N | repcollapse ms | GFLOP/s | torch by hand ms | torch autograd ms | GEMM roofline ms | "
                     "GEMM share of the C step | speed-up vs torch by hand | load (start -> end) |\n")
            fh.write("|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
            for (N, c, th, ta, gm, fl, l0, l1, err, _) in rows:
                fh.write(f"| {N} | {1e3 * c:.3f} | {fl / c / 1e9:.2f} | {1e3 * th:.3f} | {1e3 * ta:.3f} | "
                         f"{1e3 * gm:.3f} | {gm / c:.0%} | {th / c:.2f}x | {l0:.1f} -> {l1:.1f} |\n")
            fh.write("\nThe step's dgemm shapes (row-major, m x n x k), timed alone:\n\n")
            fh.write("| N | GEMM | op | m | n | k | MFLOP | ms | GFLOP/s |\n|---:|---|---|---:|---:|---:|---:|---:|---:|\n")
            for (N, *_, shapes) in rows:
                for s in shapes:
                    fh.write(f"| {N} | {s['name']} | {s['op']} | {s['m']} | {s['n']} | {s['k']} | "
                             f"{s['flops'] / 1e6:.2f} | {1e3 * s['seconds']:.4f} | {s['flops'] / s['seconds'] / 1e9:.2f} |\n")
        print(f"wrote {a.out}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
