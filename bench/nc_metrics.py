#!/usr/bin/env python3
"""nc_metrics.py: what the metrics of docs/model.md section 6.4 (nc1, nc2_*,
nc3, nc4, rankme) add to the metrics of one recorded time, beside their
roofline. Times `repcollapse bench --integrator exact --metrics SET` (one
warm-up, best of 5 inside the command, best over --rounds rounds interleaved
across the sets, so that a load spike hits every set alike) for:
  before:  the metrics of sections 2 and 6.0 (the ten columns before 6.4);
  all:     every column (the default);
  and each new column alone.
Roofline of each new piece: max(its flops / the dgemm rate at its tile shape,
its bytes / the stream bandwidth), as bench.py's (f):
  class means + Gram (rankme): 8 N d bytes, N d (d + 1) flops (dsyrk);
  nc1: min(2 N d r, N d (d + 1)) flops, r = min(K - 1, d), and 8 N d bytes;
  nc4: 2 N K d flops (the nearest class mean; the nearest label is shared
       with accuracy) and 8 N d bytes.
Writes bench/NC_METRICS.md.

usage: nc_metrics.py --cli build/repcollapse --shape-gemm build/bench/shape_gemm --stream build/bench/stream
       [--per-class 2000] [--classes 100] [--dim 64] [--rounds 3]
"""
import argparse
import json
import os
import subprocess

BEFORE = ["loss", "accuracy", "accuracy_frustrated", "margin", "min_label_distance", "mean_label_distance",
          "within_class_spread", "label_effective_rank", "relative_label_distance", "angular_label_distance"]
NEW = ["nc1", "nc2_equinorm,nc2_equiangular,nc2_cos_std,nc3", "nc4", "rankme"]


def sh(cmd, env=None):
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True, env=env).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--shape-gemm", required=True)
    ap.add_argument("--stream", required=True)
    ap.add_argument("--per-class", type=int, default=2000)
    ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "NC_METRICS.md"))
    a = ap.parse_args()
    data = ["--classes", a.classes, "--per-class", a.per_class, "--frustration", "0.05", "--pattern", "random",
            "--seed", "3", "--dim", a.dim, "--integrator", "exact"]
    sets = {"before": ",".join(BEFORE), "all": "all"}
    for s in NEW:
        sets[s] = s
    load0 = os.getloadavg()[0]
    res = {}
    for t in (1, 2):
        best = {k: float("inf") for k in sets}
        info = None
        for _ in range(a.rounds):
            for k, m in sets.items():
                b = json.loads(sh([a.cli, "bench", *data, "--threads", t, "--metrics", m]))
                best[k] = min(best[k], b["metrics_seconds_min"])
                info = b
        N, K, d = info["n_samples"], info["n_classes"], a.dim
        r = min(K - 1, d)
        gemm_nt = json.loads(sh([a.shape_gemm, "--op", "nt", "--m", 256, "--n", K, "--k", d, "--tiles",
                                 -(-N // 256), "--threads", t, "--reps", 5]))["gflops_best"]
        gemm_dd = json.loads(sh([a.shape_gemm, "--op", "tn", "--m", d, "--n", d, "--k", 256, "--tiles",
                                 -(-N // 256), "--threads", t, "--reps", 5]))["gflops_best"]
        env = dict(os.environ, OMP_NUM_THREADS=str(t))
        bw = json.loads(sh([a.stream, 1 << 26, 10], env=env))["best_gb_per_s"]
        byt = 8.0 * N * d / 1e9
        roof = {
            "rankme": max(N * d * (d + 1) / 1e9 / gemm_dd, byt / bw),
            "nc1": max(min(2.0 * N * d * r, 1.0 * N * d * (d + 1)) / 1e9 / (gemm_nt if 2 * r <= d else gemm_dd),
                       byt / bw),
            "nc4": max(2.0 * N * K * d / 1e9 / gemm_nt, byt / bw),
            "class means": byt / bw,
        }
        res[t] = {"best": best, "roof": roof, "N": N, "K": K, "d": d, "r": r, "gemm_nt": gemm_nt, "gemm_dd": gemm_dd,
                  "bw": bw}
    load1 = os.getloadavg()[0]
    L = ["# The metrics of docs/model.md section 6.4: what they add to one recorded time\n",
         f"`python3 bench/nc_metrics.py` (this file's generator). Problem: N = {res[1]['N']}, K = {res[1]['K']}, "
         f"d = {res[1]['d']} (`--classes {a.classes} --per-class {a.per_class} --frustration 0.05 --pattern random "
         f"--seed 3`), the exact state at t = 10 / slow_rate, timed by `repcollapse bench --integrator exact "
         f"--metrics SET --threads T` (best of 5 inside the command, best of {a.rounds} interleaved rounds). "
         f"Load average {load0:.2f} at the start, {load1:.2f} at the end (2 cores shared: on a loaded machine the "
         "ratios are the useful part).\n",
         "Roofline of each added piece: max(flops / the dgemm rate at its tile shape (bench/shape_gemm.c), "
         "bytes / the triad bandwidth (bench/stream.c)): rankme's Gram H^T H, N d (d + 1) flops (dsyrk); nc1's "
         f"residual projections, min(2 N d r, N d (d + 1)) flops with r = min(K - 1, d) = {res[1]['r']} "
         "(the d x d scatter when 2 r > d); nc4's nearest class means, 2 N K d flops (the nearest labels are "
         "shared with accuracy); each also reads x (8 N d bytes).\n",
         "| threads | set | seconds | / before | roofline s | of roofline |",
         "|---|---|---|---|---|---|"]
    for t in (1, 2):
        R = res[t]
        b0 = R["best"]["before"]
        for k in sets:
            rf = R["roof"].get(k, None)
            sec = R["best"][k]
            rs = "" if rf is None else f"{rf:.4f}"
            of = "" if rf is None else f"{rf / sec:.0%}"
            L.append(f"| {t} | {k} | {sec:.4f} | {sec / b0:.2f}x | {rs} | {of} |")
        add = R["best"]["all"] - b0
        L.append(f"| {t} | all - before | {add:.4f} | | {sum(R['roof'].values()):.4f} | "
                 f"{sum(R['roof'].values()) / add:.0%} |" if add > 0 else f"| {t} | all - before | {add:.4f} | | | |")
        L.append(f"| {t} | (rates) | dgemm {R['gemm_nt']:.1f} GFLOP/s at 256 x {R['K']} x {R['d']}, "
                 f"{R['gemm_dd']:.1f} at {R['d']} x {R['d']} x 256; triad {R['bw']:.1f} GB/s | | | |")
    text = "\n".join(L) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
