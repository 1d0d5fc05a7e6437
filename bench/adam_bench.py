#!/usr/bin/python3
"""adam_bench.py: one Adam step of repcollapse (bench/adam_bench.c, the
optimizer of src/optimize/adam.c) beside torch.optim.Adam (CPU, float64, the
same bias-corrected update) on the same parameter counts.

First checks that both take the same steps (5 steps on a fixed problem,
1e-12 relative), then times a step: the median over repetitions, ns per
parameter, and the effective bandwidth (56 bytes per parameter: theta, g, m,
v read; theta, m, v written). torch is timed with its default implementation
(foreach on one tensor) and with foreach=False, on the same thread count as
the C code (1 thread: the C step is a single loop).

    adam_bench.py --bin build/bench/adam_bench [--sizes 1000,100000,10000000] [--out bench/ADAM.md]
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


def torch_time(n, foreach, reps=15):
    th = torch.tensor(np.sin(0.1 * np.arange(n)), dtype=torch.float64, requires_grad=True)
    th.grad = torch.tensor(np.cos(0.37 * np.arange(n)) + 0.1, dtype=torch.float64)
    opt = torch.optim.Adam([th], lr=1e-3, foreach=foreach)
    opt.step()
    inner = max(1, int(2e7 / n))
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            opt.step()
        ts.append((time.perf_counter() - t0) / inner)
    return sorted(ts)[reps // 2]


def torch_check(n):
    th = torch.tensor(np.sin(0.1 * np.arange(n)), dtype=torch.float64, requires_grad=True)
    c = torch.tensor(np.cos(0.37 * np.arange(n)), dtype=torch.float64)
    opt = torch.optim.Adam([th], lr=1e-3)
    for _ in range(5):
        opt.zero_grad()
        (0.5 * ((th - c) ** 2).sum()).backward()
        opt.step()
    return th.detach().numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--sizes", default="1000,100000,10000000")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    load = os.getloadavg()[0]
    sizes = [int(s) for s in args.sizes.split(",")]
    # 1. the same steps
    out = subprocess.run([args.bin, "--check", "1000"], capture_output=True, text=True, check=True).stdout
    got = np.array(json.loads(out)["theta"])
    ref = torch_check(1000)
    diff = float(np.max(np.abs(got - ref) / (1 + np.abs(ref))))
    print(f"check: 5 Adam steps on 1000 parameters, max relative difference to torch.optim.Adam {diff:.3g}")
    if diff > 1e-12:
        print("FAIL: the steps differ", file=sys.stderr)
        return 1
    # 2. timings
    rows = []
    for n in sizes:
        c = json.loads(subprocess.run([args.bin, str(n)], capture_output=True, text=True, check=True).stdout)
        tf = torch_time(n, True)
        ts = torch_time(n, False)
        rows.append((n, c["seconds_per_step"], tf, ts))
        print(f"n = {n:>9}: repcollapse {1e9 * c['seconds_per_step'] / n:7.3f} ns/param "
              f"({56 * n / c['seconds_per_step'] / 1e9:5.2f} GB/s), torch foreach {1e9 * tf / n:7.3f} ns/param, "
              f"torch single-tensor {1e9 * ts / n:7.3f} ns/param; speed-up vs torch default {tf / c['seconds_per_step']:.2f}x")
    if args.out:
        with open(args.out, "w") as fh:
            fh.write("# Adam step: repcollapse against torch.optim.Adam\n\n")
            fh.write(f"Produced by `bench/adam_bench.py` on {platform.processor() or platform.machine()}, "
                     f"torch {torch.__version__}, 1 thread, float64, load average {load:.2f} at the start (the machine is shared: compare columns within a row). "
                     "Same update (bias-corrected, betas 0.9/0.999, eps 1e-8): 5 steps agree to "
                     f"{diff:.1g} relative. Median over 15 repetitions.\n\n")
            fh.write("| parameters | repcollapse ns/param | GB/s | torch (foreach) ns/param | torch (single-tensor) ns/param | speed-up vs torch default |\n")
            fh.write("|---:|---:|---:|---:|---:|---:|\n")
            for (n, c, tf, ts) in rows:
                fh.write(f"| {n} | {1e9 * c / n:.3f} | {56 * n / c / 1e9:.2f} | {1e9 * tf / n:.3f} | {1e9 * ts / n:.3f} | {tf / c:.2f}x |\n")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
